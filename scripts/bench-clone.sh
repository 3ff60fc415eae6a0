#!/usr/bin/env bash
# Clone benchmark: how much does vcsgate cost on a large clone?
#
# Creates (once, cached) a bare repository of at least SIZE MiB of random, incompressible
# blobs across a few commits, serves it with Apache + git-http-backend on loopback, starts a
# release build of vcsgate in front of it (temp config, SQLite store, a read token made with
# the CLI), then clones it `--bare` over protocol v2, interleaving:
#   direct  — straight from Apache;
#   proxy   — through vcsgate to Apache (route /git);
#   builtin — through vcsgate's built-in backend (route /local, `git http-backend` as CGI);
#   nginx   — when nginx is installed: a plain unbuffered nginx proxy_pass to Apache, as a
#             baseline for what any extra proxy hop costs on this machine (not a target).
# Reports median wall times, the ratios proxy/direct and builtin/direct, and vcsgate's peak
# RSS (VmHWM after the runs). PASS needs every ratio <= 1.02 and peak RSS < 32 MiB (issue 7); FAIL
# exits 1. Tool or setup problems exit 2.
#
# Usage: scripts/bench-clone.sh [--runs N] [--size-mib M] [--dir DIR] [--direct-only]
#   --runs N       timed clones per variant (default 7, after one warm-up clone each)
#   --size-mib M   minimum repository size (default 220; at least 200 for the issue's target)
#   --dir DIR      scratch directory; the repository is cached there (default
#                  ${TMPDIR:-/tmp}/vcsgate-bench)
#   --direct-only  only create the repository and time direct clones from Apache (no vcsgate)
# Environment: VCSGATE_BIN=path skips `cargo build --release` and uses that binary.
# Run as root on these machines: Apache's children run as www-data, which must own the repo.
set -euo pipefail

RUNS=7
SIZE_MIB=220
DIR="${TMPDIR:-/tmp}/vcsgate-bench"
DIRECT_ONLY=0
MAX_RATIO=1.02
MAX_RSS_KIB=$((32 * 1024))
BLOB_MIB=8
COMMITS=4

die() { echo "bench-clone: $*" >&2; exit 2; }
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="${2:?--runs needs a number}"; shift 2 ;;
        --size-mib) SIZE_MIB="${2:?--size-mib needs a number}"; shift 2 ;;
        --dir) DIR="${2:?--dir needs a path}"; shift 2 ;;
        --direct-only) DIRECT_ONLY=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive number"
[[ "$SIZE_MIB" =~ ^[1-9][0-9]*$ ]] || die "--size-mib must be a positive number"

need() { command -v "$1" >/dev/null 2>&1 || die "missing $1: install $2"; }
need git "git (apt-get install git)"
need apache2 "Apache (apt-get install apache2)"
need curl "curl (apt-get install curl)"
need awk "awk (apt-get install gawk)"
[ "$DIRECT_ONLY" = 1 ] || [ -n "${VCSGATE_BIN:-}" ] || need cargo "Rust (rustup.rs)"
GIT_EXEC_PATH="$(git --exec-path)"
[ -x "$GIT_EXEC_PATH/git-http-backend" ] || die "no git-http-backend in $GIT_EXEC_PATH"
[ -e /usr/lib/apache2/modules/mod_cgid.so ] || die "Apache modules missing: install apache2"

# Every git below ignores the caller's system and global config.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
chmod 755 "$DIR"
GIT_ROOT="$DIR/git"
BARE="$GIT_ROOT/bench.git"
RUN="$DIR/run"
CLONES="$DIR/clones"

# ---- the repository (cached) ---------------------------------------------------------------
make_repo() {
    local stamp="$DIR/repo.stamp"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$SIZE_MIB" ] && [ -d "$BARE" ]; then
        echo "repository: cached $BARE"
        return
    fi
    echo "repository: creating >= $SIZE_MIB MiB of random blobs (once)..."
    rm -rf "$GIT_ROOT" "$DIR/src" "$stamp"
    mkdir -p "$GIT_ROOT"
    git init -q --bare "$BARE"
    git init -q "$DIR/src"
    local blobs=$(( (SIZE_MIB + BLOB_MIB - 1) / BLOB_MIB ))
    local commits=$(( blobs < COMMITS ? blobs : COMMITS ))
    local per_commit=$(( (blobs + commits - 1) / commits ))
    local n=0 c
    for c in $(seq 1 "$commits"); do
        local i
        for i in $(seq 1 "$per_commit"); do
            [ "$n" -lt "$blobs" ] || break
            n=$((n + 1))
            mkdir -p "$DIR/src/dir$c"
            head -c "$((BLOB_MIB * 1024 * 1024))" /dev/urandom >"$DIR/src/dir$c/blob$n.bin"
        done
        git -C "$DIR/src" add -A
        git -C "$DIR/src" -c user.name=bench -c user.email=bench@localhost \
            commit -q -m "commit $c"
    done
    git -C "$DIR/src" push -q "file://$BARE" HEAD:refs/heads/main
    git -C "$BARE" symbolic-ref HEAD refs/heads/main
    git -C "$BARE" repack -a -d -q
    rm -rf "$DIR/src"
    local size_kib
    size_kib=$(git -C "$BARE" count-objects -v | awk '/^size-pack:/ {print $2}')
    [ "$size_kib" -ge $((SIZE_MIB * 1024)) ] \
        || die "repository is only $((size_kib / 1024)) MiB, wanted $SIZE_MIB"
    echo "$SIZE_MIB" >"$stamp"
}
make_repo
if [ "$(id -u)" = 0 ]; then chown -R www-data: "$GIT_ROOT"; fi
HEAD_SHA="$(git -c safe.directory='*' -C "$BARE" rev-parse refs/heads/main)"
PACK_MIB=$(( $(git -c safe.directory='*' -C "$BARE" count-objects -v | awk '/^size-pack:/ {print $2}') / 1024 ))
echo "repository: $BARE, pack $PACK_MIB MiB, main at $HEAD_SHA"

# ---- processes, ports, cleanup -------------------------------------------------------------
APACHE_PID="" VCSGATE_PID="" NGINX_PID=""
cleanup() {
    if [ -n "$NGINX_PID" ]; then kill "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; fi
    if [ -n "$VCSGATE_PID" ]; then kill "$VCSGATE_PID" 2>/dev/null || true; wait "$VCSGATE_PID" 2>/dev/null || true; fi
    if [ -n "$APACHE_PID" ]; then kill "$APACHE_PID" 2>/dev/null || true; wait "$APACHE_PID" 2>/dev/null || true; fi
    rm -rf "$CLONES"
}
trap cleanup EXIT


rm -rf "$RUN" "$CLONES"
mkdir -p "$RUN" "$CLONES"

# ---- Apache + git-http-backend -------------------------------------------------------------
APACHE_PORT=$(free_port)
USER_LINES=""
if [ "$(id -u)" = 0 ]; then USER_LINES=$'User www-data\nGroup www-data'; fi
cat >"$RUN/apache.conf" <<EOF
ServerRoot "/etc/apache2"
ServerName 127.0.0.1
PidFile $RUN/apache.pid
Listen 127.0.0.1:$APACHE_PORT
$USER_LINES
ErrorLog $RUN/apache-error.log
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so
LoadModule env_module /usr/lib/apache2/modules/mod_env.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
TypesConfig /etc/mime.types
ScriptSock $RUN/cgid.sock
SetEnv GIT_PROJECT_ROOT $GIT_ROOT
SetEnv GIT_HTTP_EXPORT_ALL 1
ScriptAlias /git/ $GIT_EXEC_PATH/git-http-backend/
<Directory "$GIT_EXEC_PATH">
  Require all granted
</Directory>
EOF
chmod 755 "$RUN"
APACHE_RUN_DIR="$RUN" APACHE_LOCK_DIR="$RUN" APACHE_LOG_DIR="$RUN" \
    apache2 -f "$RUN/apache.conf" -DFOREGROUND >"$RUN/apache.out" 2>&1 &
APACHE_PID=$!
DIRECT_URL="http://127.0.0.1:$APACHE_PORT/git/bench.git"
wait_ok "$DIRECT_URL/info/refs?service=git-upload-pack" \
    || die "Apache did not serve $DIRECT_URL (see $RUN/apache-error.log, $RUN/apache.out)"
echo "apache: pid $APACHE_PID on port $APACHE_PORT"

# ---- vcsgate ---------------------------------------------------------------------------------
if [ "$DIRECT_ONLY" = 0 ]; then
    BIN=$(vcsgate_binary "$REPO_ROOT")
    PROXY_PORT=$(free_port)
    CONF="$RUN/proxy.toml"
    cat >"$CONF" <<EOF
version = 1

[server]
listen = "127.0.0.1:$PROXY_PORT"

[store]
url = "sqlite://vcsgate.db"

[[route]]
prefix = "/git"
kind = "git"
backend = "http://127.0.0.1:$APACHE_PORT/git"

[[route]]
prefix = "/local"
kind = "git"
repos = "$GIT_ROOT"
EOF
    vg() { "$BIN" --config "$CONF" "$@"; }
    vg user add bench >/dev/null || die "vcsgate user add failed"
    vg grant add bench 'git/**' read >/dev/null || die "vcsgate grant add failed"
    vg grant add bench 'local/**' read >/dev/null || die "vcsgate grant add failed"
    TOKEN="$(vg token create bench --name bench --scope read_repository | tail -n 1)"
    [ -n "$TOKEN" ] || die "vcsgate token create printed no token"
    "$BIN" --config "$CONF" serve >"$RUN/vcsgate.log" 2>&1 &
    VCSGATE_PID=$!
    PROXY_URL="http://127.0.0.1:$PROXY_PORT/git/bench.git"
    LOCAL_URL="http://127.0.0.1:$PROXY_PORT/local/bench.git"
    wait_ok "$PROXY_URL/info/refs?service=git-upload-pack" -H "Authorization: Bearer $TOKEN" \
        || die "vcsgate did not serve $PROXY_URL (see $RUN/vcsgate.log)"
    echo "vcsgate: pid $VCSGATE_PID on port $PROXY_PORT"
fi

# ---- nginx (a baseline, when installed): a plain unbuffered reverse proxy to Apache -----------
if [ "$DIRECT_ONLY" = 0 ] && command -v nginx >/dev/null 2>&1; then
    NGINX_PORT=$(free_port)
    mkdir -p "$RUN/nginx-tmp"
    cat >"$RUN/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $RUN/nginx.pid;
error_log $RUN/nginx-error.log;
events {}
http {
    access_log off;
    client_body_temp_path $RUN/nginx-tmp;
    proxy_temp_path $RUN/nginx-tmp;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location /git/ {
            proxy_pass http://127.0.0.1:$APACHE_PORT;
            proxy_http_version 1.1;
            proxy_buffering off;
            proxy_request_buffering off;
        }
    }
}
EOF
    nginx -c "$RUN/nginx.conf" -p "$RUN" >"$RUN/nginx.out" 2>&1 &
    NGINX_PID=$!
    NGINX_URL="http://127.0.0.1:$NGINX_PORT/git/bench.git"
    wait_ok "$NGINX_URL/info/refs?service=git-upload-pack" \
        || die "nginx did not serve $NGINX_URL (see $RUN/nginx-error.log)"
    echo "nginx: pid $NGINX_PID on port $NGINX_PORT (baseline, not a target)"
fi

# ---- timed clones ----------------------------------------------------------------------------
# clone_once URL AUTH: prints the wall time in seconds of one `git clone --bare` (protocol v2).
# AUTH (a token or empty) goes in through GIT_CONFIG_* so it never appears in argv or URLs.
clone_once() {
    local url="$1" auth="$2" dest="$CLONES/clone" start end
    rm -rf "$dest"
    local -a env=()
    if [ -n "$auth" ]; then
        env=(GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=http.extraHeader
             "GIT_CONFIG_VALUE_0=Authorization: Bearer $auth")
    fi
    start=$EPOCHREALTIME
    env "${env[@]}" git -c protocol.version=2 clone -q --bare "$url" "$dest" \
        || die "clone of $url failed"
    end=$EPOCHREALTIME
    [ "$(git -C "$dest" rev-parse refs/heads/main)" = "$HEAD_SHA" ] || die "clone of $url is wrong"
    rm -rf "$dest"
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }'
}

VARIANTS=(direct)
[ "$DIRECT_ONLY" = 1 ] || VARIANTS+=(proxy builtin)
[ -z "$NGINX_PID" ] || VARIANTS+=(nginx)
declare -A URL=([direct]="$DIRECT_URL" [proxy]="${PROXY_URL:-}" [builtin]="${LOCAL_URL:-}"
    [nginx]="${NGINX_URL:-}")
declare -A AUTH=([direct]="" [proxy]="${TOKEN:-}" [builtin]="${TOKEN:-}" [nginx]="")
declare -A TIMES=()
declare -A CPU_TICKS=([proxy]=0 [builtin]=0)
# vcsgate's CPU time so far (user + system, in clock ticks).
vcsgate_ticks() { awk '{ print $14 + $15 }' "/proc/$VCSGATE_PID/stat"; }
echo "warm-up: one clone per variant"
for v in "${VARIANTS[@]}"; do clone_once "${URL[$v]}" "${AUTH[$v]}" >/dev/null; done
for run in $(seq 1 "$RUNS"); do
    line="run $run/$RUNS:"
    for v in "${VARIANTS[@]}"; do
        case "$v" in proxy|builtin) before=$(vcsgate_ticks) ;; esac
        t=$(clone_once "${URL[$v]}" "${AUTH[$v]}")
        case "$v" in proxy|builtin) CPU_TICKS[$v]=$(( ${CPU_TICKS[$v]} + $(vcsgate_ticks) - before )) ;; esac
        TIMES[$v]+="$t "
        line+=" $v ${t}s"
    done
    echo "$line"
done

declare -A MEDIAN=()
for v in "${VARIANTS[@]}"; do MEDIAN[$v]=$(echo "${TIMES[$v]}" | median); done
echo
echo "pack size:      $PACK_MIB MiB, $RUNS runs per variant (median wall time)"
echo "direct:         ${MEDIAN[direct]} s"
if [ "$DIRECT_ONLY" = 1 ]; then
    echo "direct-only: vcsgate not measured; targets not evaluated"
    exit 0
fi

RESULT=PASS
check_ratio() { # name median
    local ratio ok
    ratio=$(awk -v a="$2" -v b="${MEDIAN[direct]}" 'BEGIN { printf "%.3f", a / b }')
    ok=$(awk -v r="$ratio" -v m="$MAX_RATIO" 'BEGIN { print (r <= m) ? "ok" : "FAIL" }')
    [ "$ok" = ok ] || RESULT=FAIL
    printf '%-15s %s s, ratio %s (target <= %s) %s\n' "$1:" "$2" "$ratio" "$MAX_RATIO" "$ok"
}
check_ratio proxy "${MEDIAN[proxy]}"
check_ratio builtin "${MEDIAN[builtin]}"
if [ -n "$NGINX_PID" ]; then
    printf '%-15s %s s, ratio %s (baseline: plain nginx proxy_pass, no auth)\n' "nginx:" \
        "${MEDIAN[nginx]}" "$(awk -v a="${MEDIAN[nginx]}" -v b="${MEDIAN[direct]}" 'BEGIN { printf "%.3f", a / b }')"
fi
TICKS_PER_SEC=$(getconf CLK_TCK)
for v in proxy builtin; do
    printf '%-15s %s ms per clone (user + system, mean)\n' "vcsgate CPU $v:" \
        "$(awk -v t="${CPU_TICKS[$v]}" -v hz="$TICKS_PER_SEC" -v n="$RUNS" 'BEGIN { printf "%.0f", t * 1000 / hz / n }')"
done
kill -0 "$VCSGATE_PID" 2>/dev/null || die "vcsgate exited during the runs (see $RUN/vcsgate.log)"
HWM_KIB=$(awk '/^VmHWM:/ {print $2}' "/proc/$VCSGATE_PID/status")
RSS_OK=ok
[ "$HWM_KIB" -lt "$MAX_RSS_KIB" ] || { RSS_OK=FAIL; RESULT=FAIL; }
printf '%-15s %s MiB (target < %s MiB) %s\n' "peak RSS:" \
    "$(awk -v k="$HWM_KIB" 'BEGIN { printf "%.1f", k / 1024 }')" "$((MAX_RSS_KIB / 1024))" "$RSS_OK"
echo "$RESULT"
[ "$RESULT" = PASS ]
