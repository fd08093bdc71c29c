#!/usr/bin/env bash
# Start a local Docker engine if none answers. Installs Debian's docker.io when dockerd is missing.
# The flags suit sandboxed machines without iptables or a bridge: builds use --network host and
# connector containers use the network mode Sluice is configured with.
set -euo pipefail

if docker info >/dev/null 2>&1; then
    echo "docker-engine: an engine is already running"
    exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
    echo "docker-engine: installing docker.io"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq docker.io >/dev/null
fi

log_file="${SLUICE_DOCKERD_LOG:-/var/log/sluice-dockerd.log}"
echo "docker-engine: starting dockerd (log: $log_file)"
nohup dockerd --iptables=false --ip-masq=false --bridge=none --storage-driver=overlay2 \
    >"$log_file" 2>&1 &

for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then
        echo "docker-engine: ready"
        exit 0
    fi
    sleep 1
done
echo "docker-engine: dockerd did not answer within 60 s; last log lines:" >&2
tail -n 20 "$log_file" >&2
exit 1
