# Shared by the benchmark scripts (sourced, not run): loopback ports, readiness, medians.
# The sourcing script defines die().

# free_port: prints a loopback port nothing listens on.
free_port() {
    local port
    for _ in $(seq 1 50); do
        # Below the kernel's ephemeral range (32768+), where outgoing connections take ports.
        port=$(( 10000 + RANDOM % 22000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
    die "no free loopback port found"
}

# wait_ok URL [curl args...]: waits up to 15 s for a 200.
wait_ok() {
    local url="$1"; shift
    for _ in $(seq 1 150); do
        if curl -sf -o /dev/null "$@" "$url"; then return 0; fi
        sleep 0.1
    done
    return 1
}

# median: the median of the numbers on stdin (separated by spaces or newlines), 3 decimals.
median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END {
    if (NR % 2) printf "%.3f\n", v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# vcsgate_binary REPO_ROOT: prints the vcsgate to measure: $VCSGATE_BIN, or a fresh
# `cargo build --release` of REPO_ROOT.
vcsgate_binary() {
    local bin="${VCSGATE_BIN:-}"
    if [ -z "$bin" ]; then
        echo "vcsgate: cargo build --release ..." >&2
        (cd "$1" && cargo build --release --quiet) || die "cargo build --release failed"
        bin="$1/target/release/vcsgate"
    fi
    [ -x "$bin" ] || die "no vcsgate binary at $bin"
    echo "$bin"
}
