#!/usr/bin/env bash
# Build the local base image that every connector image starts FROM, without a registry:
# debootstrap a minimal Debian with python3, then `docker import` it. Cached: an existing
# image is kept unless --force is given. The rootfs tarball is cached too (SLUICE_CACHE_DIR).
set -euo pipefail

image="${SLUICE_BASE_IMAGE:-sluice/python-base:bookworm}"
cache_dir="${SLUICE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}"
tarball="$cache_dir/python-base-bookworm.tar"

if [ "${1:-}" != "--force" ] && docker image inspect "$image" >/dev/null 2>&1; then
    echo "build-base-image: $image exists"
    exit 0
fi

mkdir -p "$cache_dir"
if [ ! -s "$tarball" ] || [ "${1:-}" = "--force" ]; then
    if ! command -v debootstrap >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq debootstrap >/dev/null
    fi
    rootfs="$(mktemp -d)"
    trap 'rm -rf "$rootfs"' EXIT
    echo "build-base-image: debootstrap into $rootfs (a few minutes)"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        bookworm "$rootfs" >"$cache_dir/debootstrap.log" 2>&1 || {
        tail -n 30 "$cache_dir/debootstrap.log" >&2
        exit 1
    }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
    tar -C "$rootfs" --numeric-owner -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
fi

docker import -c 'ENV LANG=C.UTF-8' -c 'CMD ["python3"]' "$tarball" "$image" >/dev/null
docker run --rm --network none "$image" python3 -c 'import sys; print("build-base-image: python", sys.version.split()[0])'
echo "build-base-image: $image ready"
