#!/usr/bin/env bash
# Install Airbyte's source-faker from PyPI into its own virtual environment, so that the
# process runner can run it as a local program (`source-faker`). Its dependencies pin many
# packages, so it never shares an environment with Sluice. Cached: skipped when present.
set -euo pipefail

version="${FAKER_VERSION:-7.2.1}"
root="$(cd "$(dirname "$0")/.." && pwd)"
venvs="${SLUICE_VENVS_DIR:-$root/.venvs}"
# Its dependencies at the versions the tests were run with (scripts/update-constraints.py
# wrote them); a faker version the file does not pin resolves on its own.
pins="$root/constraints-faker.txt"
constraints=()
if grep -qx "airbyte-source-faker==$version" "$pins" 2>/dev/null; then constraints=(-c "$pins"); fi
venv="$venvs/source-faker"

if [ -x "$venv/bin/source-faker" ] && "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('airbyte-source-faker') != '$version')" 2>/dev/null; then
    echo "install-faker: airbyte-source-faker $version already in $venv"
    exit 0
fi

rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check ${constraints[@]+"${constraints[@]}"} \
    "airbyte-source-faker==$version" || {
    rm -rf "$venv"
    echo "install-faker: pip install failed" >&2
    exit 1
}
echo "install-faker: $venv/bin/source-faker ($version)"
