#!/usr/bin/env bash
# Install Sluice and its connectors into the current Python environment.
#   scripts/setup.sh           Sluice, its own connectors, and Airbyte's source-faker (own venv)
#   scripts/setup.sh --docker  also start a Docker engine and build the connector images
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]' -e './connectors[all]'
scripts/install-faker.sh

if [ "${1:-}" = "--docker" ]; then
    scripts/docker-engine.sh
    scripts/build-connector-images.sh
fi
echo "setup: done"
