#!/usr/bin/env bash
# Build Airbyte's source-faker as a connector image, without a registry: FROM the local base
# image (scripts/build-base-image.sh), with airbyte-source-faker installed from PyPI. The tag
# matches Airbyte's (airbyte/source-faker:<version>), so definitions refer to it unchanged.
# Cached: an existing image is kept unless --force is given. Its dependencies are installed at
# the versions constraints-faker.txt pins (the ones the tests ran with), when it pins this version.
#
# The build runs with --network host because the engine runs without a bridge. When PyPI is
# reached through a TLS-intercepting proxy, the host's CA bundle ($PIP_CERT, else the system
# bundle) is copied in for pip and removed again in the same layer.
set -euo pipefail

version="${FAKER_VERSION:-7.2.1}"
image="airbyte/source-faker:$version"
base="${SLUICE_BASE_IMAGE:-sluice/python-base:bookworm}"

if [ "${1:-}" != "--force" ] && docker image inspect "$image" >/dev/null 2>&1; then
    echo "build-faker-image: $image exists"
    exit 0
fi

if ! docker image inspect "$base" >/dev/null 2>&1; then
    "$(dirname "$0")/build-base-image.sh"
fi

context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
ca="${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}"
if [ -r "$ca" ]; then
    cp "$ca" "$context/host-ca.crt"
else
    : >"$context/host-ca.crt"  # empty: pip then uses its own bundle
fi

pins="$(dirname "$0")/../constraints-faker.txt"
if grep -qx "airbyte-source-faker==$version" "$pins" 2>/dev/null; then
    cp "$pins" "$context/constraints.txt"
else
    : >"$context/constraints.txt"  # a version the file does not pin resolves on its own
fi

cat >"$context/Dockerfile" <<DOCKERFILE
FROM $base
COPY host-ca.crt constraints.txt /tmp/
RUN python3 -m venv /opt/venv \\
 && if [ -s /tmp/host-ca.crt ]; then export PIP_CERT=/tmp/host-ca.crt; fi \\
 && if [ -s /tmp/constraints.txt ]; then export PIP_CONSTRAINT=/tmp/constraints.txt; fi \\
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --quiet \\
        airbyte-source-faker==$version \\
 && rm /tmp/host-ca.crt /tmp/constraints.txt \\
 && useradd --create-home --uid 1000 airbyte && mkdir -p /airbyte && chown airbyte /airbyte
ENV PATH=/opt/venv/bin:\$PATH PYTHONUNBUFFERED=1
ENV AIRBYTE_ENTRYPOINT="/opt/venv/bin/source-faker"
WORKDIR /airbyte
USER airbyte
ENTRYPOINT ["/opt/venv/bin/source-faker"]
LABEL io.airbyte.name=airbyte/source-faker io.airbyte.version=$version
DOCKERFILE

echo "build-faker-image: building $image from $base (a few minutes)"
docker build --network host -t "$image" "$context"
docker run --rm --network none "$image" spec >/dev/null
echo "build-faker-image: $image ready"
