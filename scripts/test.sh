#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, starts a Docker engine,
# builds the connector images (cached), runs the static checks (scripts/lint.sh), then every
# test, Docker and PostgreSQL included.
# Extra arguments go to pytest, e.g. `scripts/test.sh -m "not docker" -x`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --docker
scripts/lint.sh
python3 -m pytest "$@"
