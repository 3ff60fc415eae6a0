#!/usr/bin/env bash
# scripts/fuzz.sh SECONDS [TARGET…] — runs each cargo-fuzz target (all when none are named)
# for SECONDS, starting from the committed seeds (fuzz/seeds/TARGET), committed crash inputs
# (fuzz/regressions/TARGET) and the local corpus (fuzz/corpus/TARGET, not committed). Exits non-zero if any target crashed, printing the
# path of each crash input. Needs cargo-fuzz (`cargo install cargo-fuzz`); the stable
# toolchain is told to accept the sanitizer flags with RUSTC_BOOTSTRAP=1.
#
# Reproduce a crash:  (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET artifacts/TARGET/crash-…)
# Environment: FUZZ_SANITIZER (default address; `none` runs about twice as fast).
set -euo pipefail

usage() { echo "usage: $0 SECONDS [TARGET…]" >&2; exit 2; }
[[ $# -ge 1 && "$1" =~ ^[1-9][0-9]*$ ]] || usage
seconds=$1
shift

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/fuzz"
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: run \`cargo install cargo-fuzz\`" >&2
    exit 1
fi
export RUSTC_BOOTSTRAP=1
flags=(--debug-assertions --sanitizer "${FUZZ_SANITIZER:-address}")

if [[ $# -eq 0 ]]; then
    mapfile -t targets < <(cargo fuzz list)
else
    targets=("$@")
fi
for target in "${targets[@]}"; do
    cargo fuzz build "${flags[@]}" "$target" || { echo "!! building $target failed" >&2; exit 1; }
done

failed=()
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "artifacts/$target"
    seeds=()
    [[ -d "seeds/$target" ]] && seeds=("seeds/$target")
    [[ -d "regressions/$target" ]] && seeds+=("regressions/$target")
    before=$(find "artifacts/$target" -type f | sort)
    echo "== $target: ${seconds}s"
    log="artifacts/$target.log"
    if cargo fuzz run "${flags[@]}" "$target" "corpus/$target" "${seeds[@]}" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
        grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$log" | tail -2 || true
    else
        echo "!! $target failed (log: fuzz/$log)"
        grep -E 'panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer' "$log" | head -3 || true
        new=$(comm -13 <(echo "$before") <(find "artifacts/$target" -type f | sort))
        if [[ -n "$new" ]]; then
            while IFS= read -r crash; do echo "   crash input: fuzz/$crash"; done <<<"$new"
        else
            echo "   no crash input written; see the log"
        fi
        failed+=("$target")
    fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "crashed: ${failed[*]}" >&2
    exit 1
fi
echo "no crashes"
