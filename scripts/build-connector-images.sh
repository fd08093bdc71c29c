#!/usr/bin/env bash
# Build the image of every built-in connector (connectors/*/Dockerfile) on a shared runtime
# image (connectors/Dockerfile.runtime, FROM the local base image), with build context
# connectors/. Then build Airbyte's source-faker image. Each image is tagged with its
# Dockerfile's labels (io.airbyte.name:io.airbyte.version, e.g. sluice/source-e2e-test:0.1.0).
#
# Cached: an image whose label io.sluice.source-hash matches the hash of what it is built from
# (its Dockerfile, and the package sources and base image through the runtime image) is kept.
# --force rebuilds everything.
#
# Dockerfiles may COPY .docker-build/host-ca.crt: the host's CA bundle, staged here so pip
# inside a build reaches PyPI (builds run with --network host; the engine has no bridge), and
# .docker-build/constraints.txt: the repository's pins, which the runtime image installs with.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
context="$root/connectors"
force="${1:-}"

"$root/scripts/build-base-image.sh"
base_image="${SLUICE_BASE_IMAGE:-sluice/python-base:bookworm}"
base_id="$(docker image inspect --format '{{.Id}}' "$base_image")"

# Stage the CA bundle inside the build context; the directory ignores itself in git.
stage="$context/.docker-build"
mkdir -p "$stage"
printf '*\n' >"$stage/.gitignore"
ca_bundle="${PIP_CERT:-${REQUESTS_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}}"
cp "$ca_bundle" "$stage/host-ca.crt"
# The runtime image installs its dependencies at the versions pinned for the repository.
cp "$root/constraints.txt" "$stage/constraints.txt"

# Everything a connector image is built from, apart from its Dockerfile.
package_hash="$(
    cd "$context" &&
        find pyproject.toml sluice_connectors -type f \( -name '*.py' -o -name '*.toml' \
            -o -name '*.json' -o -name '*.typed' \) -print0 | sort -z | xargs -0 sha256sum |
        sha256sum | cut -d' ' -f1
)"

label() { # label <dockerfile> <name>: the value of LABEL <name>=... in a Dockerfile
    sed -n "s/^LABEL .*$2=\\([^ ]*\\).*/\\1/p" "$1" | head -n 1 | tr -d '"'
}

# build <image> <dockerfile> <hash>: build unless the image carries this hash already.
build() {
    local image="$1" dockerfile="$2" hash="$3" current start log
    current="$(docker image inspect --format '{{index .Config.Labels "io.sluice.source-hash"}}' \
        "$image" 2>/dev/null || true)"
    if [ "$force" != "--force" ] && [ "$current" = "$hash" ]; then
        echo "build-connector-images: $image is up to date"
        return 1
    fi
    echo "build-connector-images: building $image"
    start=$SECONDS
    if ! log="$(docker build --network host --label "io.sluice.source-hash=$hash" \
        -f "$dockerfile" -t "$image" "$context" 2>&1)"; then
        printf '%s\n' "$log" | tail -n 30 >&2
        echo "build-connector-images: building $image failed" >&2
        exit 1
    fi
    echo "build-connector-images: $image built in $((SECONDS - start)) s"
}

# The layers all connectors share: the package, its dependencies, the user.
runtime_image="sluice/connectors-runtime:0.1.0"
runtime_hash="$(printf '%s %s %s %s' "$package_hash" \
    "$(cat "$context/Dockerfile.runtime" "$root/constraints.txt" "$context/build-constraints.txt" |
        sha256sum)" "$base_id" | sha256sum | cut -d' ' -f1)"
built=0
if build "$runtime_image" "$context/Dockerfile.runtime" "$runtime_hash"; then
    built=$((built + 1))
fi
runtime_id="$(docker image inspect --format '{{.Id}}' "$runtime_image")"

for dockerfile in "$context"/*/Dockerfile; do
    [ -e "$dockerfile" ] || continue
    connector="$(basename "$(dirname "$dockerfile")")"
    name="$(label "$dockerfile" io.airbyte.name)"
    version="$(label "$dockerfile" io.airbyte.version)"
    image="${name:-sluice/$connector}:${version:-0.1.0}"
    hash="$(printf '%s %s' "$(sha256sum <"$dockerfile")" "$runtime_id" | sha256sum | cut -d' ' -f1)"
    if build "$image" "$dockerfile" "$hash"; then
        built=$((built + 1))
    fi
done
echo "build-connector-images: $built connector image(s) built"
if [ "$built" -gt 0 ]; then # drop the builds these replaced (untagged, carrying our label)
    docker image prune --force --filter label=io.sluice.source-hash >/dev/null || true
fi

"$root/scripts/build-faker-image.sh" ${force:+"$force"}
