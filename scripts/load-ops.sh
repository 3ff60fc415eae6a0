#!/usr/bin/env bash
# Several vcsgate instances on one PostgreSQL under load (a measurement, not a test).
#
# Starts a private PostgreSQL on loopback and N instances of vcsgate (a release build) on
# it, each with its own port and admin listener. For each feed mode — `notify` (LISTEN/
# NOTIFY, the default) and `poll` (`[store] notifications = false`: the change feed read
# every 0.2 s, as before LISTEN/NOTIFY) — it runs `wrk` against every instance for
# DURATION seconds while the CLI creates and revokes tokens in a loop. Each revocation's
# propagation delay is the time from the end of `token revoke` until every instance
# answers 401 for that token. Printed per mode: revocations, median and max delay, wrk
# req/s per instance, the store queries each instance made to follow the feed
# (`vcsgate_store_feed_queries_total` per second) and PostgreSQL's transactions per second
# over the whole run (all instances and the CLI).
#
# The wrk request is authenticated but not granted (403, no backend involved): it loads
# the token check, the access log and the metrics, not a backend.
#
# Usage: scripts/load-ops.sh [--instances N] [--duration SECS] [--connections C] [--dir DIR]
# Environment: VCSGATE_BIN=path skips `cargo build --release`.
# Exit 0 after printing; 2 on a tool or setup problem.
set -euo pipefail

INSTANCES=4
DURATION=20
CONNS=4
DIR="${TMPDIR:-/tmp}/vcsgate-load-ops"
die() { echo "load-ops: $*" >&2; exit 2; }
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

while [ $# -gt 0 ]; do
    case "$1" in
        --instances) INSTANCES="${2:?--instances needs a number}"; shift 2 ;;
        --duration) DURATION="${2:?--duration needs seconds}"; shift 2 ;;
        --connections) CONNS="${2:?--connections needs a number}"; shift 2 ;;
        --dir) DIR="${2:?--dir needs a path}"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
for n in "$INSTANCES" "$DURATION" "$CONNS"; do
    [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -gt 0 ] || die "positive numbers expected, got $n"
done

need() { command -v "$1" >/dev/null 2>&1 || die "missing $1: install $2"; }
need wrk "wrk (apt-get install wrk)"
need curl "curl (apt-get install curl)"
need git "git (apt-get install git)"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -x "$PGBIN/initdb" ] || die "missing PostgreSQL: apt-get install postgresql"
[ -n "${VCSGATE_BIN:-}" ] || need cargo "Rust (rustup.rs)"
ulimit -n 65536 2>/dev/null || true

REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$(vcsgate_binary "$REPO_ROOT")"
rm -rf "$DIR"
mkdir -p "$DIR/pg" "$DIR/repos"
DIR="$(cd "$DIR" && pwd)"
git init -q --bare "$DIR/repos/team/app.git"

PIDS=()
pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    pg "$PGBIN/pg_ctl" -D "$DIR/pg/data" -m immediate stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

PG_PORT=$(free_port)
[ "$(id -u)" -ne 0 ] || chown -R postgres: "$DIR/pg"
pg "$PGBIN/initdb" -U postgres -A trust -E UTF8 --locale=C --no-sync -D "$DIR/pg/data" >/dev/null
pg "$PGBIN/pg_ctl" -D "$DIR/pg/data" -l "$DIR/pg/log" -w \
    -o "-k $DIR/pg -p $PG_PORT -h 127.0.0.1 -c max_connections=200" start >/dev/null
psql_q() { pg "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -At -c "$1" "${2:-postgres}"; }

PROBE="/git/team/app.git/info/refs?service=git-upload-pack"
# statuses TOKEN PORT…: the status every instance answers for TOKEN, one curl for all.
statuses() {
    local token="$1" urls=(); shift
    for port in "$@"; do urls+=(-o /dev/null "http://127.0.0.1:$port$PROBE"); done
    curl -s -w '%{http_code} ' -u "x:$token" "${urls[@]}"
}
# expect_all CODE TOKEN PORT…: true when every instance answers CODE.
expect_all() {
    local code="$1"; shift
    local got; got=$(statuses "$@")
    [ -z "$(echo "$got" | tr ' ' '\n' | sed '/^$/d' | grep -v "^$code\$")" ]
}
feed_queries() {
    curl -s "http://127.0.0.1:$1/metrics" | awk '$1 == "vcsgate_store_feed_queries_total" { print $2 }'
}
now_ns() { date +%s%N; }
# retry CMD…: runs CMD up to 3 times (a loaded machine can make the CLI's store connection
# time out).
retry() {
    local attempt
    for attempt in 1 2 3; do
        if "$@"; then return 0; fi
        echo "load-ops: attempt $attempt of: ${*: -4} failed" >&2
    done
    return 1
}

# run_mode MODE NOTIFICATIONS: one measurement with a fresh database.
run_mode() {
    local mode="$1" notifications="$2" db="load_$1"
    psql_q "CREATE DATABASE $db" >/dev/null
    local url="postgres://postgres@127.0.0.1:$PG_PORT/$db"
    local ports=() admins=() mode_pids=()
    for i in $(seq 1 "$INSTANCES"); do
        local port admin conf="$DIR/$mode-$i.toml"
        port=$(free_port); admin=$(free_port)
        cat >"$conf" <<EOF
version = 1
[server]
listen = "127.0.0.1:$port"
workers = 1
[store]
url = "$url"
notifications = $notifications
[admin]
listen = "127.0.0.1:$admin"
[throttle]
burst = 100000
per_minute = 60000
[[route]]
prefix = "/git"
kind = "git"
repos = "$DIR/repos"
EOF
        ports+=("$port"); admins+=("$admin")
    done
    local cli=(env VCSGATE_LOG=error "$BIN" --config "$DIR/$mode-1.toml")
    retry "${cli[@]}" user add loader >/dev/null
    retry "${cli[@]}" user add churn >/dev/null
    local load_token
    load_token=$(retry "${cli[@]}" token create loader --name wrk --scope read_repository 2>/dev/null | tail -n1)
    for i in $(seq 1 "$INSTANCES"); do
        VCSGATE_LOG=warn "$BIN" --config "$DIR/$mode-$i.toml" serve 2>"$DIR/$mode-$i.log" &
        mode_pids+=("$!"); PIDS+=("$!")
    done
    for i in $(seq 0 $((INSTANCES - 1))); do
        wait_ok "http://127.0.0.1:${admins[$i]}/healthz" || die "instance $((i + 1)) did not start: $(cat "$DIR/$mode-$((i + 1)).log")"
    done
    local before=() xact_before
    for admin in "${admins[@]}"; do before+=("$(feed_queries "$admin")"); done
    xact_before=$(psql_q "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$db'")
    local started; started=$(now_ns)
    local wrk_pids=()
    for i in $(seq 0 $((INSTANCES - 1))); do
        wrk -t1 -c"$CONNS" -d"${DURATION}s" -H "Authorization: Basic $(printf 'x:%s' "$load_token" | base64 -w0)" \
            "http://127.0.0.1:${ports[$i]}$PROBE" >"$DIR/$mode-wrk-$i.txt" 2>&1 &
        wrk_pids+=("$!")
    done
    local delays=() round=0 deadline=$(( $(now_ns) + DURATION * 1000000000 - 2000000000 ))
    while [ "$(now_ns)" -lt "$deadline" ]; do
        round=$((round + 1))
        local token name="t$round"
        token=$(retry "${cli[@]}" token create churn --name "$name" --scope read_repository 2>/dev/null | tail -n1)
        [ -n "$token" ] || die "round $round: token create failed"
        expect_all 403 "$token" "${ports[@]}" || die "round $round: a new token was not accepted: $(statuses "$token" "${ports[@]}")"
        retry "${cli[@]}" token revoke churn "$name" >/dev/null || die "round $round: token revoke failed"
        local revoked; revoked=$(now_ns)
        until expect_all 401 "$token" "${ports[@]}"; do
            [ $(( $(now_ns) - revoked )) -lt 10000000000 ] || die "round $round: revocation not seen in 10 s"
        done
        delays+=("$(( ($(now_ns) - revoked) / 1000 ))")
    done
    wait "${wrk_pids[@]}"
    local elapsed; elapsed=$(( ($(now_ns) - started) / 1000000 ))
    local xact_after
    xact_after=$(psql_q "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$db'")
    echo "== mode $mode ($INSTANCES instances, ${DURATION}s, wrk -c$CONNS each)"
    printf '%s\n' "${delays[@]}" | sort -n | awk '{ v[NR] = $1 } END {
        printf "revocations: %d, propagation to all instances: median %.1f ms, max %.1f ms\n",
        NR, v[int((NR + 1) / 2)] / 1000, v[NR] / 1000 }'
    for i in $(seq 0 $((INSTANCES - 1))); do
        local after rps
        after=$(feed_queries "${admins[$i]}")
        rps=$(awk '/Requests\/sec/ { print $2 }' "$DIR/$mode-wrk-$i.txt")
        awk -v b="${before[$i]}" -v a="$after" -v ms="$elapsed" -v i="$((i + 1))" -v rps="$rps" \
            'BEGIN { printf "instance %d: wrk %s req/s, feed queries %.2f/s\n", i, rps, (a - b) * 1000 / ms }'
    done
    awk -v b="$xact_before" -v a="$xact_after" -v ms="$elapsed" \
        'BEGIN { printf "PostgreSQL transactions (all instances + CLI): %.1f/s\n", (a - b) * 1000 / ms }'
    for pid in "${mode_pids[@]}"; do kill "$pid"; wait "$pid" 2>/dev/null || true; done
}

run_mode notify true
run_mode poll false
