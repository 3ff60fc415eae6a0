#!/usr/bin/env bash
# LFS benchmark (not a timed test): push and clone one large Git LFS object through
# vcsgate's built-in backend, next to copying the same file on disk.
#
# Creates a file of SIZE MiB of random bytes, starts a release build of vcsgate with a
# built-in Git route (temp config, SQLite store, a write token made with the CLI), then:
#   copy  — cp of the file to another file on the same disk (the floor);
#   push  — `git push` of a commit tracking the file with git-lfs (the LFS upload streams
#           through vcsgate, which hashes it and renames it into place);
#   clone — `git clone` with the LFS filters (the download streams from disk through vcsgate).
# Reports each wall time and throughput in MiB/s, checks the stored and the cloned object
# against the file's SHA-256, and reports vcsgate's peak RSS (VmHWM). PASS needs peak RSS
# < 64 MiB (issue 11); FAIL exits 1. Tool or setup problems exit 2.
#
# Usage: scripts/bench-lfs.sh [--size-mib M] [--dir DIR]
#   --size-mib M   object size (default 1024)
#   --dir DIR      scratch directory (default ${TMPDIR:-/tmp}/vcsgate-bench-lfs; emptied)
# Environment: VCSGATE_BIN=path skips `cargo build --release` and uses that binary.
set -euo pipefail

SIZE_MIB=1024
DIR="${TMPDIR:-/tmp}/vcsgate-bench-lfs"
MAX_RSS_KIB=$((64 * 1024))

die() { echo "bench-lfs: $*" >&2; exit 2; }
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

while [ $# -gt 0 ]; do
    case "$1" in
        --size-mib) SIZE_MIB="${2:?--size-mib needs a number}"; shift 2 ;;
        --dir) DIR="${2:?--dir needs a path}"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
[[ "$SIZE_MIB" =~ ^[1-9][0-9]*$ ]] || die "--size-mib must be a positive number"

need() { command -v "$1" >/dev/null 2>&1 || die "missing $1: install $2"; }
need git "git (apt-get install git)"
need git-lfs "git-lfs (apt-get install git-lfs)"
need curl "curl (apt-get install curl)"
need sha256sum "coreutils"
[ -n "${VCSGATE_BIN:-}" ] || need cargo "Rust (rustup.rs)"

REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$(vcsgate_binary "$REPO_ROOT")"
rm -rf "$DIR"
mkdir -p "$DIR/repos" "$DIR/home"
DIR="$(cd "$DIR" && pwd)"
export HOME="$DIR/home" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$DIR/home/gitconfig"
export GIT_TERMINAL_PROMPT=0 GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@localhost
git lfs install --skip-repo >/dev/null

VCSGATE_PID=""
cleanup() {
    if [ -n "$VCSGATE_PID" ]; then kill "$VCSGATE_PID" 2>/dev/null || true; wait "$VCSGATE_PID" 2>/dev/null || true; fi
    rm -rf "$DIR/work" "$DIR/clone" "$DIR/copy.bin" "$DIR/big.bin" "$DIR/repos"
}
trap cleanup EXIT

echo "file: $SIZE_MIB MiB of random bytes..."
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom >"$DIR/big.bin"
OID="$(sha256sum "$DIR/big.bin" | cut -d' ' -f1)"
git init -q --bare -b main "$DIR/repos/bench.git"

PORT=$(free_port)
cat >"$DIR/proxy.toml" <<CONF
version = 1
[server]
listen = "127.0.0.1:$PORT"
[store]
url = "sqlite://vcsgate.db"
[[route]]
prefix = "/local"
kind = "git"
repos = "repos"
CONF
"$BIN" --config "$DIR/proxy.toml" user add bench >/dev/null
"$BIN" --config "$DIR/proxy.toml" grant add bench 'local/**' write >/dev/null
TOKEN="$("$BIN" --config "$DIR/proxy.toml" token create bench --name bench \
    --scope write_repository 2>/dev/null | tail -n 1)"
RUST_LOG=warn "$BIN" --config "$DIR/proxy.toml" serve >"$DIR/vcsgate.log" 2>&1 &
VCSGATE_PID=$!
URL="http://bench:$TOKEN@127.0.0.1:$PORT/local/bench.git"
wait_ok "http://127.0.0.1:$PORT/local/bench.git/info/refs?service=git-upload-pack" \
    -u "bench:$TOKEN" || die "vcsgate did not start (see $DIR/vcsgate.log)"

seconds() { date +%s.%N; }
rate() { awk -v mib="$SIZE_MIB" -v s="$1" 'BEGIN { printf "%.1f", mib / s }'; }
took() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

sync
t0=$(seconds); cp "$DIR/big.bin" "$DIR/copy.bin"; sync; t1=$(seconds)
COPY=$(took "$t0" "$t1")

git init -q -b main "$DIR/work"
( cd "$DIR/work"
  git lfs track '*.bin' >/dev/null
  mv "$DIR/big.bin" big.bin
  git add .gitattributes big.bin
  git commit -q -m "one big LFS object" )
t0=$(seconds)
git -C "$DIR/work" push -q "$URL" HEAD:refs/heads/main >"$DIR/push.out" 2>"$DIR/push.err" \
    || { cat "$DIR/push.err" >&2; die "push failed"; }
t1=$(seconds)
PUSH=$(took "$t0" "$t1")
STORED="$DIR/repos/bench.git/lfs/objects/${OID:0:2}/${OID:2:2}/$OID"
[ "$(sha256sum "$STORED" | cut -d' ' -f1)" = "$OID" ] || die "the stored object is wrong"

t0=$(seconds)
git clone -q "$URL" "$DIR/clone" >"$DIR/clone.out" 2>"$DIR/clone.err" \
    || { cat "$DIR/clone.err" >&2; die "clone failed"; }
t1=$(seconds)
CLONE=$(took "$t0" "$t1")
[ "$(sha256sum "$DIR/clone/big.bin" | cut -d' ' -f1)" = "$OID" ] || die "the cloned file is wrong"

RSS_KIB=$(awk '/^VmHWM:/ {print $2}' "/proc/$VCSGATE_PID/status")
printf '%-6s %8s s %9s MiB/s\n' "copy" "$COPY" "$(rate "$COPY")"
printf '%-6s %8s s %9s MiB/s\n' "push" "$PUSH" "$(rate "$PUSH")"
printf '%-6s %8s s %9s MiB/s\n' "clone" "$CLONE" "$(rate "$CLONE")"
echo "object: $SIZE_MIB MiB, sha256 $OID (stored and cloned intact)"
echo "vcsgate peak RSS: $((RSS_KIB / 1024)) MiB ($RSS_KIB KiB; limit $((MAX_RSS_KIB / 1024)) MiB)"
if [ "$RSS_KIB" -lt "$MAX_RSS_KIB" ]; then
    echo "PASS"
else
    echo "FAIL: peak RSS $RSS_KIB KiB >= $MAX_RSS_KIB KiB"
    exit 1
fi
