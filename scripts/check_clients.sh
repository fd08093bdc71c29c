#!/usr/bin/env bash
# Run the real Airbyte clients from PyPI against a real Sluice, and print PASS/FAIL per client.
#
#   scripts/check_clients.sh                 # all clients (the list below)
#   scripts/check_clients.sh dagster prefect # some of them
#
# For each client a virtualenv is created once and reused (a changed pin or constraints file
# reinstalls it). Configuration API (/api/v1) clients:
#   dagster  dagster-airbyte 0.29.27 (+ dagster-managed-elements): legacy AirbyteResource
#            sync_and_poll, load_assets_from_airbyte_instance + materialize, managed
#            check/apply, cancel on poll timeout
#   prefect  prefect-airbyte 0.3.2 with prefect 2 (0.3.x does not import under prefect 3):
#            AirbyteClient calls, run_connection_sync flow, trigger_sync task, inactive
#   airflow  apache-airflow-providers-airbyte 3.9.0 (the last Configuration API version):
#            hook test_connection, AirbyteTriggerSyncOperator, AirbyteJobSensor,
#            AirbyteSyncTrigger, timeout cancel, on_kill
# Public API (/api/public/v1) clients:
#   airbyte_api        the airbyte-api SDK 1.0.1: a whole lifecycle (sources, destinations,
#                      connections, the SDK's typed mappers, jobs) with client credentials,
#                      then with a Bearer token
#   airflow6           apache-airflow-providers-airbyte 6.2.0 on Airflow 3 (through the SDK):
#                      hook test_connection, submit_sync_connection + wait_for_job, the
#                      operator's execute, cancel_job
#   dagster_workspace  dagster-airbyte 0.29.27 AirbyteWorkspace (in the dagster virtualenv):
#                      load_airbyte_asset_specs, build_airbyte_assets_definitions materialized,
#                      with client credentials and with Basic
#   pyairbyte          PyAirbyte (airbyte 0.71.3, airbyte-api 0.53.0) CloudWorkspace(api_root=):
#                      connect, list_connections, run_sync(wait=True)
# Then Sluice is started (`python -m server serve`) on a free loopback port with a temporary
# data directory, and each driver in scripts/clients/<client>_client.py creates its source,
# destination and connection through the API and syncs with the client library. The summary
# gives each client's install time (when its virtualenv was made) and the time its flow took.
#
# Environment:
#   SLUICE_CLIENTS_DIR  where the virtualenvs live (default $HOME/.cache/sluice/clients)
#   CLIENT_PYTHON       interpreter for the virtualenvs (default python3; python3.11 where
#                       installed for airflow6 and pyairbyte, which need >=3.11 and <3.13)
#   SLUICE_PYTHON       interpreter that runs Sluice, with the repo installed (default python3)
# Needs PyPI the first time. An operator/CI-optional check, not part of the pytest suite.
# Exit status: 0 when every selected client passed.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${SLUICE_CLIENTS_DIR:-$HOME/.cache/sluice/clients}
client_python=${CLIENT_PYTHON:-}
sluice_python=${SLUICE_PYTHON:-python3}
clients=("$@")
[ ${#clients[@]} -eq 0 ] &&
    clients=(dagster prefect airflow airbyte_api airflow6 dagster_workspace pyairbyte)

pins() {
    case $1 in
        dagster) echo "dagster-airbyte==0.29.27 dagster-managed-elements==0.29.27" ;;
        prefect) echo "prefect-airbyte==0.3.2 prefect>=2.13.5,<3" ;;
        airflow) echo "apache-airflow-providers-airbyte==3.9.0" ;;
        airbyte_api) echo "airbyte-api==1.0.1" ;;
        airflow6) echo "apache-airflow-providers-airbyte==6.2.0 apache-airflow>=3,<4" ;;
        pyairbyte) echo "airbyte==0.71.3" ;;
        *) return 1 ;;
    esac
}

# The virtualenv a client runs in: AirbyteWorkspace ships in the same dagster-airbyte release
# as the legacy resource, so both dagster drivers share one.
venv_of() {
    case $1 in
        dagster_workspace) echo dagster ;;
        *) echo "$1" ;;
    esac
}

interpreter() {
    if [ -n "$client_python" ]; then
        echo "$client_python"
    elif [[ $1 = airflow6 || $1 = pyairbyte ]] && command -v python3.11 >/dev/null; then
        echo python3.11
    else
        echo python3
    fi
}

# A virtualenv per client, reinstalled when its pins or its constraints file (what it resolved
# to, scripts/clients/constraints-<venv>.txt, where there is one) change; prints the install time.
ensure_venv() {
    local name=$1 venv=$cache/$1 spec constraints=$repo/scripts/clients/constraints-$1.txt
    spec=$(pins "$name") || { echo "unknown client: $name" >&2; return 1; }
    local marker=$spec args=()
    if [ -f "$constraints" ]; then
        marker="$spec $(sha256sum "$constraints" | cut -c1-16)"
        args=(-c "$constraints")
    fi
    if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.pins" 2>/dev/null)" = "$marker" ]; then
        return 0
    fi
    rm -rf "$venv"
    mkdir -p "$cache"
    local start=$SECONDS python
    python=$(interpreter "$name")
    # shellcheck disable=SC2086  # the pins are separate words
    if ! { "$python" -m venv "$venv" &&
        "$venv/bin/pip" install -q --disable-pip-version-check "${args[@]}" $spec; } \
        >"$cache/$name.log" 2>&1; then
        echo "install of $name failed; see $cache/$name.log" >&2
        rm -rf "$venv"
        return 1
    fi
    echo "$marker" >"$venv/.pins"
    echo "$((SECONDS - start))" >"$venv/.install-seconds"
    echo "installed $name ($spec) in $((SECONDS - start)) s"
}

install_time() {
    local seconds
    seconds=$(cat "$cache/$(venv_of "$1")/.install-seconds" 2>/dev/null) || seconds=
    if [ -n "$seconds" ]; then echo "$seconds s"; else echo "time unknown"; fi
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

declare -A verdict flow installed
for name in "${clients[@]}"; do
    venv=$(venv_of "$name")
    if [ -z "${installed[$venv]:-}" ]; then
        if ensure_venv "$venv"; then installed[$venv]=ok; else installed[$venv]=failed; fi
    fi
    [ "${installed[$venv]}" = ok ] || verdict[$name]="FAIL (install)"
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
    if SLUICE_URL=$url timeout 600 "$cache/$(venv_of "$name")/bin/python" \
        "$repo/scripts/clients/${name}_client.py" \
        >"$work/$name.out" 2>&1; then
        verdict[$name]=PASS
    else
        verdict[$name]=FAIL
        tail -n 40 "$work/$name.out"
    fi
    grep -E '^  (ok  |FAIL|--) |^(PASS|FAIL) ' "$work/$name.out"
    flow[$name]=$((SECONDS - start))
    echo "   (${flow[$name]} s)"
done

status=0
echo
for name in "${clients[@]}"; do
    v=${verdict[$name]}
    echo "${v%% *} $name${v#"${v%% *}"} (install $(install_time "$name"), flow ${flow[$name]:-0} s)"
    [ "${verdict[$name]}" = PASS ] || status=1
done
exit $status
