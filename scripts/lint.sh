#!/usr/bin/env bash
# Static checks, as CI runs them: ruff (lint and format) over the code, mypy --strict on server/.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m ruff check server tests scripts connectors
python3 -m ruff format --check server tests scripts connectors
python3 -m mypy
echo "lint: clean"
