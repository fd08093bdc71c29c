#!/usr/bin/env bash
# Run the real Airbyte clients from PyPI against a real Sluice, and print PASS/FAIL per client.
#
#   scripts/check_clients.sh                 # all clients: dagster prefect airflow
#   scripts/check_clients.sh dagster prefect # some of them
#
# For each client a virtualenv is created once and reused (a changed pin reinstalls it):
#   dagster  dagster-airbyte 0.29.27 (+ dagster-managed-elements): legacy AirbyteResource
#            sync_and_poll, load_assets_from_airbyte_instance + materialize, managed
#            check/apply, cancel on poll timeout
#   prefect  prefect-airbyte 0.3.2 with prefect 2 (0.3.x does not import under prefect 3):
#            AirbyteClient calls, run_connection_sync flow, trigger_sync task, inactive
#   airflow  apache-airflow-providers-airbyte 3.9.0 (the last Configuration API version):
#            hook test_connection, AirbyteTriggerSyncOperator, AirbyteJobSensor,
#            AirbyteSyncTrigger, timeout cancel, on_kill
# Then Sluice is started (`python -m server serve`) on a free loopback port with a temporary
# data directory, and each driver in scripts/clients/<client>_client.py creates its source,
# destination and connection through the API and syncs with the client library.
#
# Environment:
#   SLUICE_CLIENTS_DIR  where the virtualenvs live (default $HOME/.cache/sluice/clients)
#   CLIENT_PYTHON       interpreter for the virtualenvs (default python3)
#   SLUICE_PYTHON       interpreter that runs Sluice, with the repo installed (default python3)
# Needs PyPI the first time. An operator/CI-optional check, not part of the pytest suite.
# Exit status: 0 when every selected client passed.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${SLUICE_CLIENTS_DIR:-$HOME/.cache/sluice/clients}
client_python=${CLIENT_PYTHON:-python3}
sluice_python=${SLUICE_PYTHON:-python3}
clients=("$@")
[ ${#clients[@]} -eq 0 ] && clients=(dagster prefect airflow)

pins() {
    case $1 in
        dagster) echo "dagster-airbyte==0.29.27 dagster-managed-elements==0.29.27" ;;
        prefect) echo "prefect-airbyte==0.3.2 prefect>=2.13.5,<3" ;;
        airflow) echo "apache-airflow-providers-airbyte==3.9.0" ;;
        *) return 1 ;;
    esac
}

# A virtualenv per client, reinstalled when its pins change; prints the install time.
ensure_venv() {
    local name=$1 venv=$cache/$1 spec
    spec=$(pins "$name") || { echo "unknown client: $name" >&2; return 1; }
    if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.pins" 2>/dev/null)" = "$spec" ]; then
        return 0
    fi
    rm -rf "$venv"
    mkdir -p "$cache"
    local start=$SECONDS
    # shellcheck disable=SC2086  # the pins are separate words
    if ! { "$client_python" -m venv "$venv" &&
        "$venv/bin/pip" install -q --disable-pip-version-check $spec; } >"$cache/$name.log" 2>&1; then
        echo "install of $name failed; see $cache/$name.log" >&2
        rm -rf "$venv"
        return 1
    fi
    echo "$spec" >"$venv/.pins"
    echo "installed $name ($spec) in $((SECONDS - start)) s"
}

healthy() {
    "$sluice_python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
        "$1/api/v1/health" >/dev/null 2>&1
}

free_port() {
    "$sluice_python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

work=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

declare -A verdict
for name in "${clients[@]}"; do
    ensure_venv "$name" || verdict[$name]="FAIL (install)"
done

port=$(free_port)
(cd "$repo" && exec "$sluice_python" -m server serve --port "$port" --data-dir "$work/data") \
    >"$work/server.log" 2>&1 &
server_pid=$!
url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
    healthy "$url" && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.2
done
if ! healthy "$url"; then
    echo "Sluice did not start:" >&2
    cat "$work/server.log" >&2
    exit 1
fi
echo "Sluice on $url (data in $work/data)"

for name in "${clients[@]}"; do
    [ -n "${verdict[$name]:-}" ] && continue
    echo "== $name"
    start=$SECONDS
    if SLUICE_URL=$url timeout 600 "$cache/$name/bin/python" "$repo/scripts/clients/${name}_client.py" \
        >"$work/$name.out" 2>&1; then
        verdict[$name]=PASS
    else
        verdict[$name]=FAIL
        tail -n 40 "$work/$name.out"
    fi
    grep -E '^  (ok  |FAIL) |^(PASS|FAIL) ' "$work/$name.out"
    echo "   ($((SECONDS - start)) s)"
done

status=0
echo
for name in "${clients[@]}"; do
    v=${verdict[$name]}
    echo "${v%% *} $name${v#"${v%% *}"}"
    [ "${verdict[$name]}" = PASS ] || status=1
done
exit $status
