#!/usr/bin/env bash
# Small-request benchmark: what does vcsgate cost per request, next to nginx?
#
# Starts, on loopback:
#   static — nginx answering GET /git/team/app.git/info/refs?service=git-upload-pack with a
#            330-byte static file (the backend of the two proxies below);
#   nginx  — nginx `proxy_pass` to `static` with upstream keep-alive, no auth;
#   vcsgate — a release build with a route /git to `static`, SQLite store, a valid read
#            token sent on every request, access log on (written to a file).
# Then runs `wrk -t2 -cC` against each in turn, RUNS rounds interleaved, and prints per
# variant the median req/s, median p99 latency and median proxy CPU per request (user +
# system ticks of the proxy's processes from /proc, divided by the requests wrk completed),
# with the ratios vcsgate/nginx. Finally, with --many N (default 1000), N concurrent
# keep-alive connections against vcsgate: errors and vcsgate's RSS.
#
# Usage: scripts/bench-small.sh [--runs N] [--duration SECS] [--connections C] [--many N]
#                               [--dir DIR]
# Environment: VCSGATE_BIN=path skips `cargo build --release` and uses that binary;
# VCSGATE_BASELINE_BIN=path adds a variant `baseline`: that binary (e.g. an older build) with
# the same config and store on another port, measured in the same interleaved runs, so a
# change is compared side by side (ratios vcsgate/baseline are printed too);
# VCSGATE_BENCH_NGINX_LOG=1 adds a variant `nginxlog`: nginx `proxy_pass` as above with its
# access log on (buffered, 64 KiB), the fairer comparison for vcsgate, which always logs;
# VCSGATE_BENCH_WORKERS sets `[server] workers` in the benchmark config (default: unset);
# VCSGATE_BENCH_PERF=FILE records a `perf` profile during the first run of vcsgate (or of
# VCSGATE_BENCH_PERF_VARIANT=nginx), with VCSGATE_BENCH_PERF_ARGS (default -g; `stat` counts
# system calls and context switches instead).
# Exit 0 after printing; 2 on a tool or setup problem. Targets are judged by the reader
# (vcsgate req/s >= nginx's, CPU/request <= nginx's, p99 <= nginx's).
set -euo pipefail

RUNS=3
DURATION=10
CONNS=32
MANY=1000
DIR="${TMPDIR:-/tmp}/vcsgate-bench-small"
die() { echo "bench-small: $*" >&2; exit 2; }
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="${2:?--runs needs a number}"; shift 2 ;;
        --duration) DURATION="${2:?--duration needs seconds}"; shift 2 ;;
        --connections) CONNS="${2:?--connections needs a number}"; shift 2 ;;
        --many) MANY="${2:?--many needs a number}"; shift 2 ;;
        --dir) DIR="${2:?--dir needs a path}"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
for n in "$RUNS" "$DURATION" "$CONNS" "$MANY"; do
    [[ "$n" =~ ^[0-9]+$ ]] || die "numbers expected, got $n"
done

need() { command -v "$1" >/dev/null 2>&1 || die "missing $1: install $2"; }
need nginx "nginx (apt-get install nginx)"
need wrk "wrk (apt-get install wrk)"
need curl "curl (apt-get install curl)"
need awk "awk (apt-get install gawk)"
[ -n "${VCSGATE_BIN:-}" ] || need cargo "Rust (rustup.rs)"
ulimit -n 65536 2>/dev/null || ulimit -n 8192 2>/dev/null || true

REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
rm -rf "$DIR"
mkdir -p "$DIR/www/git/team/app.git/info" "$DIR/tmp"
DIR="$(cd "$DIR" && pwd)"
# A 330-byte answer shaped like an info/refs advertisement.
head -c 330 /dev/zero | tr '\0' 'a' >"$DIR/www/git/team/app.git/info/refs"

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT


STATIC_PORT=$(free_port)
NGINX_PORT=$(free_port)
PROXY_PORT=$(free_port)
BASELINE_PORT=$(free_port)
# Separate nginx masters, so the static backend's CPU is never counted as the proxy's.
# nginx_conf NAME HTTP_BODY [ACCESS_LOG]: writes $DIR/NAME.conf, an nginx with the shared
# settings; ACCESS_LOG is its access_log directive's arguments (default: off).
nginx_conf() {
    cat >"$DIR/$1.conf" <<EOF
daemon off;
worker_processes auto;
pid $DIR/$1.pid;
error_log $DIR/$1-error.log;
worker_rlimit_nofile 65536;
events { worker_connections 8192; }
http {
    access_log ${3:-off};
    client_body_temp_path $DIR/tmp;
    proxy_temp_path $DIR/tmp;
    default_type text/plain;
$2
}
EOF
}
nginx_conf static "    server { listen 127.0.0.1:$STATIC_PORT; root $DIR/www; }"
# proxy_server PORT: nginx `proxy_pass` to the static backend on PORT.
proxy_server() {
    echo "    upstream static { server 127.0.0.1:$STATIC_PORT; keepalive 64; }
    server {
        listen 127.0.0.1:$1;
        location / {
            proxy_pass http://static;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
        }
    }"
}
nginx_conf nginx "$(proxy_server "$NGINX_PORT")"
nginx -c "$DIR/static.conf" -p "$DIR" >"$DIR/static.out" 2>&1 &
PIDS+=($!)
STATIC_PID=$!
nginx -c "$DIR/nginx.conf" -p "$DIR" >"$DIR/nginx.out" 2>&1 &
PIDS+=($!)
NGINX_PID=$!

PATH_Q="/git/team/app.git/info/refs?service=git-upload-pack"
wait_ok "http://127.0.0.1:$STATIC_PORT$PATH_Q" || die "static nginx did not start (see $DIR)"
wait_ok "http://127.0.0.1:$NGINX_PORT$PATH_Q" || die "proxy nginx did not start (see $DIR)"
NGINXLOG_PID=""
if [ -n "${VCSGATE_BENCH_NGINX_LOG:-}" ]; then
    NGINXLOG_PORT=$(free_port)
    nginx_conf nginxlog "$(proxy_server "$NGINXLOG_PORT")" \
        "$DIR/nginxlog-access.log combined buffer=64k"
    nginx -c "$DIR/nginxlog.conf" -p "$DIR" >"$DIR/nginxlog.out" 2>&1 &
    PIDS+=($!)
    NGINXLOG_PID=$!
    wait_ok "http://127.0.0.1:$NGINXLOG_PORT$PATH_Q" || die "logging nginx did not start (see $DIR)"
fi

BIN=$(vcsgate_binary "$REPO_ROOT")
WORKERS_LINE=""
[ -z "${VCSGATE_BENCH_WORKERS:-}" ] || WORKERS_LINE="workers = $VCSGATE_BENCH_WORKERS"
cat >"$DIR/proxy.toml" <<EOF
version = 1

[server]
listen = "127.0.0.1:$PROXY_PORT"
$WORKERS_LINE

[store]
url = "sqlite://vcsgate.db"

[limits]
max_connections = 8192
max_connections_per_client = 8192

[[route]]
prefix = "/git"
kind = "git"
backend = "http://127.0.0.1:$STATIC_PORT/git"
EOF
vg() { "$BIN" --config "$DIR/proxy.toml" "$@"; }
vg user add bench >/dev/null || die "vcsgate user add failed"
vg grant add bench 'git/**' read >/dev/null || die "vcsgate grant add failed"
TOKEN="$(vg token create bench --name bench --scope read_repository | tail -n 1)"
"$BIN" --config "$DIR/proxy.toml" serve >"$DIR/vcsgate.log" 2>&1 &
PIDS+=($!)
VCSGATE_PID=$!
AUTH=(-H "Authorization: Bearer $TOKEN")
wait_ok "http://127.0.0.1:$PROXY_PORT$PATH_Q" "${AUTH[@]}" \
    || die "vcsgate did not serve (see $DIR/vcsgate.log)"
BASELINE_PID=""
if [ -n "${VCSGATE_BASELINE_BIN:-}" ]; then
    [ -x "$VCSGATE_BASELINE_BIN" ] || die "VCSGATE_BASELINE_BIN=$VCSGATE_BASELINE_BIN is not an executable"
    sed "s/127.0.0.1:$PROXY_PORT/127.0.0.1:$BASELINE_PORT/" "$DIR/proxy.toml" >"$DIR/baseline.toml"
    "$VCSGATE_BASELINE_BIN" --config "$DIR/baseline.toml" serve >"$DIR/baseline.log" 2>&1 &
    PIDS+=($!)
    BASELINE_PID=$!
    wait_ok "http://127.0.0.1:$BASELINE_PORT$PATH_Q" "${AUTH[@]}" \
        || die "the baseline vcsgate did not serve (see $DIR/baseline.log)"
fi

# ticks PID...: user + system clock ticks of these processes and their children threads.
ticks() {
    local total=0 pid
    for pid in "$@"; do
        [ -r "/proc/$pid/stat" ] || continue
        total=$(( total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat") ))
    done
    echo "$total"
}
family() { echo "$1 $(pgrep -P "$1" | tr '\n' ' ')"; }

# run_wrk NAME URL PIDS [wrk args]: prints "req_per_s p99_ms cpu_us_per_req errors".
run_wrk() {
    local name="$1" url="$2" pids="$3"; shift 3
    local out before after
    before=$(ticks $pids)
    out=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency "$@" "$url")
    after=$(ticks $pids)
    echo "$out" >"$DIR/wrk-$name.txt"
    local hz; hz=$(getconf CLK_TCK)
    echo "$out" | awk -v t=$(( after - before )) -v hz="$hz" -v pids="$pids" '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
                         if (v ~ /s$/) return v * 1000; return v }
        / 99%/ { p99 = ms($2) }
        /requests in/ { n = $1 }
        /Requests\/sec:/ { rps = $2 }
        /Non-2xx|Socket errors/ { err = err $0 " " }
        END { cpu = (pids == "" || n == 0) ? 0 : t * 1e6 / hz / n;
              printf "%.0f %.3f %.1f %s\n", rps, p99, cpu, (err == "" ? "-" : "errors") }'
}

declare -A RPS P99 CPU ERR
VARIANTS=(static nginx vcsgate)
declare -A URL=([static]="http://127.0.0.1:$STATIC_PORT$PATH_Q"
    [nginx]="http://127.0.0.1:$NGINX_PORT$PATH_Q" [vcsgate]="http://127.0.0.1:$PROXY_PORT$PATH_Q"
    [baseline]="http://127.0.0.1:$BASELINE_PORT$PATH_Q")
[ -z "$NGINXLOG_PID" ] || { VARIANTS+=(nginxlog); URL[nginxlog]="http://127.0.0.1:$NGINXLOG_PORT$PATH_Q"; }
[ -z "$BASELINE_PID" ] || VARIANTS+=(baseline)
echo "warm-up..."
for v in "${VARIANTS[@]}"; do
    if [ "$v" = vcsgate ] || [ "$v" = baseline ]; then wrk -t2 -c"$CONNS" -d2s "${AUTH[@]}" "${URL[$v]}" >/dev/null
    else wrk -t2 -c"$CONNS" -d2s "${URL[$v]}" >/dev/null; fi
done
for run in $(seq 1 "$RUNS"); do
    line="run $run/$RUNS:"
    for v in "${VARIANTS[@]}"; do
        PERF_PID=""
        if [ "$run" = 1 ] && [ -n "${VCSGATE_BENCH_PERF:-}" ] \
            && [ "$v" = "${VCSGATE_BENCH_PERF_VARIANT:-vcsgate}" ]; then
            case "$v" in nginx) targets=$(family "$NGINX_PID") ;; *) targets=$VCSGATE_PID ;; esac
            if [ "${VCSGATE_BENCH_PERF_ARGS:-}" = stat ]; then
                perf stat -e ${VCSGATE_BENCH_PERF_EVENTS:-raw_syscalls:sys_enter,context-switches} -p "$(echo $targets | tr ' ' ',')" \
                    -o "$VCSGATE_BENCH_PERF" -- sleep "$DURATION" >/dev/null 2>&1 &
            else
                perf record -q -F 499 ${VCSGATE_BENCH_PERF_ARGS:--g} -p "$(echo $targets | tr ' ' ',')" \
                    -o "$VCSGATE_BENCH_PERF" -- sleep "$DURATION" >/dev/null 2>&1 &
            fi
            PERF_PID=$!
        fi
        case "$v" in
            static) r=$(run_wrk "$v" "${URL[$v]}" "") ;;
            nginx) r=$(run_wrk "$v" "${URL[$v]}" "$(family "$NGINX_PID")") ;;
            nginxlog) r=$(run_wrk "$v" "${URL[$v]}" "$(family "$NGINXLOG_PID")") ;;
            vcsgate) r=$(run_wrk "$v" "${URL[$v]}" "$VCSGATE_PID" "${AUTH[@]}") ;;
            baseline) r=$(run_wrk "$v" "${URL[$v]}" "$BASELINE_PID" "${AUTH[@]}") ;;
        esac
        [ -z "$PERF_PID" ] || wait "$PERF_PID" || true
        read -r rps p99 cpu err <<<"$r"
        RPS[$v]+="$rps "; P99[$v]+="$p99 "; CPU[$v]+="$cpu "
        [ "$err" = - ] || ERR[$v]=yes
        line+=" | $v ${rps} req/s p99 ${p99} ms cpu ${cpu} us"
    done
    echo "$line"
done

echo
printf '%-8s %10s %10s %14s %s\n' variant "req/s" "p99 ms" "CPU us/req" errors
declare -A M_RPS M_P99 M_CPU
for v in "${VARIANTS[@]}"; do
    M_RPS[$v]=$(echo "${RPS[$v]}" | median)
    M_P99[$v]=$(echo "${P99[$v]}" | median)
    M_CPU[$v]=$(echo "${CPU[$v]}" | median)
    cpu="${M_CPU[$v]}"; [ "$v" != static ] || cpu="-"
    printf '%-8s %10.0f %10.2f %14s %s\n' "$v" "${M_RPS[$v]}" "${M_P99[$v]}" "$cpu" "${ERR[$v]:-none}"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b == 0) ? 0 : a / b }'; }
echo
echo "vcsgate/nginx: req/s $(ratio "${M_RPS[vcsgate]}" "${M_RPS[nginx]}")" \
    "(target >= 1), p99 $(ratio "${M_P99[vcsgate]}" "${M_P99[nginx]}") (target <= 1)," \
    "CPU/request $(ratio "${M_CPU[vcsgate]}" "${M_CPU[nginx]}") (target <= 1)"
if [ -n "$NGINXLOG_PID" ]; then
    echo "vcsgate/nginxlog: req/s $(ratio "${M_RPS[vcsgate]}" "${M_RPS[nginxlog]}")," \
        "p99 $(ratio "${M_P99[vcsgate]}" "${M_P99[nginxlog]}")," \
        "CPU/request $(ratio "${M_CPU[vcsgate]}" "${M_CPU[nginxlog]}")"
fi
if [ -n "$BASELINE_PID" ]; then
    echo "vcsgate/baseline: req/s $(ratio "${M_RPS[vcsgate]}" "${M_RPS[baseline]}")," \
        "p99 $(ratio "${M_P99[vcsgate]}" "${M_P99[baseline]}")," \
        "CPU/request $(ratio "${M_CPU[vcsgate]}" "${M_CPU[baseline]}")"
fi
LINES=$(grep -c ' request client=' "$DIR/vcsgate.log" || true)
echo "access log lines written: $LINES"

if [ "$MANY" -gt 0 ]; then
    echo
    echo "$MANY concurrent keep-alive connections to vcsgate for ${DURATION}s:"
    out=$(wrk -t2 -c"$MANY" -d"${DURATION}s" --latency "${AUTH[@]}" "${URL[vcsgate]}")
    echo "$out" | grep -E 'Requests/sec|requests in| 99%|Non-2xx|Socket errors' | sed 's/^/  /'
    if echo "$out" | grep -qE 'Non-2xx|Socket errors'; then echo "  errors: yes"; else echo "  errors: none"; fi
    awk '/^VmHWM:|^VmRSS:/ { printf "  vcsgate %s %.1f MiB\n", $1, $2 / 1024 }' "/proc/$VCSGATE_PID/status"
fi
