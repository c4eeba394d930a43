#!/usr/bin/env bash
# Runs every fuzz target in fuzz/fuzz_targets for SECONDS each, starting from its corpus in
# fuzz/corpus/<target>/ (read, not modified: new inputs go to a scratch dir unless GROW=1).
# Exits non-zero if any target crashes, hangs (> 10 s on one input) or runs out of memory;
# the input that did it is in fuzz/artifacts/<target>/.
#
# usage: fuzz/run-all.sh SECONDS [TARGET...]       (CI: FUZZ_DEV=1 fuzz/run-all.sh 15)
# FUZZ_DEV=1 builds without optimisation or sanitizer: a fraction of the build time, for CI's
# short runs (replaying the corpus and a little exploring); the 10-minute runs use the default
# optimised AddressSanitizer build.
# needs: cargo install cargo-fuzz; a nightly compiler or RUSTC_BOOTSTRAP=1 (set here).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
seconds=${1:?usage: run-all.sh SECONDS [TARGET...]}
shift
if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for f in fuzz_targets/*.rs; do targets+=("$(basename "$f" .rs)"); done
fi
export RUSTC_BOOTSTRAP=1
# Error values (anyhow) would capture a backtrace each time under RUST_BACKTRACE=1: slow.
export RUST_LIB_BACKTRACE=0
scratch=$(mktemp -d /tmp/fuzz-run-all.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

start=$(date +%s)
if [ -n "${FUZZ_DEV:-}" ]; then build_args=(--dev -s none); profile=debug; else build_args=(); profile=release; fi
cargo fuzz build "${build_args[@]}" || { echo "run-all: build failed"; exit 2; }
echo "run-all: build took $(( $(date +%s) - start )) s"
# cargo puts the binaries under CARGO_TARGET_DIR when it is set (CI may share one).
bin_dir="${CARGO_TARGET_DIR:-$here/target}/$(rustc -vV | sed -n 's/^host: //p')/$profile"

failed=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t" "$scratch/$t"
    if [ -n "${GROW:-}" ]; then dirs=("corpus/$t"); else dirs=("$scratch/$t" "corpus/$t"); fi
    echo "== $t: ${seconds}s on $(find "corpus/$t" -type f | wc -l) corpus inputs"
    t0=$(date +%s)
    # The binary cargo fuzz built, run directly: no second cargo (and its lock) per target.
    "$bin_dir/$t" -artifact_prefix="$here/artifacts/$t/" -max_total_time="$seconds" \
        -timeout=10 -print_final_stats=1 "${dirs[@]}" >"$scratch/$t.log" 2>&1
    rc=$?
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+ *DONE" "$scratch/$t.log" \
        | sed 's/^/   /'
    if [ $rc -ne 0 ]; then
        failed+=("$t")
        echo "   FAILED (exit $rc) after $(( $(date +%s) - t0 )) s:"
        grep -E "ERROR|panicked|Test unit written|SUMMARY" "$scratch/$t.log" | head -n 10 | sed 's/^/   /'
    else
        echo "   ok ($(( $(date +%s) - t0 )) s)"
    fi
done
echo "run-all: ${#targets[@]} target(s) in $(( $(date +%s) - start )) s"
if [ ${#failed[@]} -gt 0 ]; then
    echo "run-all: FAILED: ${failed[*]}"
    exit 1
fi
