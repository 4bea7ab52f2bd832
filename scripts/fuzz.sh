#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for N seconds each (default 30):
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Not part of the CI test command; see docs/fuzzing.md. Needs cargo-fuzz
# (cargo install cargo-fuzz --locked). Corpora grow in fuzz/corpus/, crashes
# land in fuzz/artifacts/<target>/, logs in fuzz/artifacts/logs/ (all
# git-ignored). Exits non-zero when any target crashed.
set -euo pipefail
secs="${1:-30}"
shift || true
cd "$(dirname "$0")/.."

if ! command -v cargo-fuzz >/dev/null; then
    echo "cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
    exit 2
fi
# cargo-fuzz passes nightly-only flags (-Zsanitizer=address, sanitizer
# coverage); a stable toolchain accepts them with RUSTC_BOOTSTRAP=1.
if ! rustc -V | grep -q nightly; then
    export RUSTC_BOOTSTRAP=1
fi

fuzz/seed.sh >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi
logs=fuzz/artifacts/logs
mkdir -p "$logs"

# -a: with debug assertions, so arithmetic overflow is a crash too.
cargo fuzz build -a >/dev/null

status=0
for t in "${targets[@]}"; do
    log="$logs/$t.log"
    if cargo fuzz run -a "$t" -- -max_total_time="$secs" -print_final_stats=1 \
        -dict="$PWD/fuzz/sip.dict" >"$log" 2>&1; then
        result="no crash"
    else
        result="CRASH, see $log and fuzz/artifacts/$t/"
        status=1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -n 1)
    printf '%-15s %4ss  %10s execs  %7s exec/s  %s  %s\n' \
        "$t" "$secs" "${runs:-?}" "${rate:-?}" "${cov:-?}" "$result"
done
exit "$status"
