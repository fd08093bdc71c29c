#!/usr/bin/env bash
# Install Sluice and its connectors into the current Python environment.
#   scripts/setup.sh           Sluice, its own connectors, and Airbyte's source-faker (own venv)
#   scripts/setup.sh --docker  also start a Docker engine and build the connector images
set -euo pipefail
cd "$(dirname "$0")/.."

# The versions the tests were run with (constraints.txt, from scripts/update-constraints.py):
# a fresh install resolves the same packages, not whatever was released since.
python3 -m pip install --quiet --disable-pip-version-check -c constraints.txt \
    -e '.[test]' -e './connectors[all]'
scripts/install-faker.sh

if [ "${1:-}" = "--docker" ]; then
    scripts/docker-engine.sh
    scripts/build-connector-images.sh
fi
echo "setup: done"
