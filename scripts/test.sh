#!/usr/bin/env bash
# The project's one test command (CI runs it through .ci/run; see docs/ci.md).
#
#   scripts/test.sh
#
# On a fresh Debian 12 machine as root it installs the test peers it needs,
# then runs, in order: rustfmt, clippy, the sans-IO dependency check, rustdoc,
# one build of every test, the whole test suite inside a private network
# namespace that has only loopback, and the doctests. It stops at the first
# failing stage and says which one it was.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sbc-gateway-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-auto}"
# Every CI run builds a fresh clone: incremental data would only pile up.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

stage_name=""
stage_start=0
suite_start=$SECONDS

stage() {
    stage_name="$1"
    stage_start=$SECONDS
    printf '\n==> [%s]\n' "$stage_name"
}

stage_done() {
    printf '==> [%s] ok (%ss)\n' "$stage_name" "$((SECONDS - stage_start))"
}

fail() {
    printf 'error: %s\n' "$1" >&2
    exit 1
}

# Whatever ends the script early (a failing command under `set -e`, or `fail`)
# passes through here, so the failing stage is always named last.
on_exit() {
    local status=$?
    if ((status != 0)); then
        printf '\n==> FAILED at stage [%s] (exit status %s)\n' "$stage_name" "$status" >&2
    fi
}
trap on_exit EXIT

as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        fail "needs root to run: $*"
    fi
}

# --- test peers and tools ------------------------------------------------------
# command -> Debian package providing it. Installed only when missing, so a
# repeated run does no apt work at all.
stage "system packages"
declare -A package_of=(
    [sipp]=sip-tester
    [rtpengine]=rtpengine-daemon
    [baresip]=baresip-core
    [kamailio]=kamailio
    [promtool]=prometheus
    [openssl]=openssl
    [chromium]=chromium
    [node]=nodejs
    [npm]=npm
    [ip]=iproute2
    [unshare]=util-linux
)
missing=()
for cmd in "${!package_of[@]}"; do
    command -v "$cmd" >/dev/null || missing+=("${package_of[$cmd]}")
done
if ((${#missing[@]})); then
    command -v apt-get >/dev/null || fail "missing ${missing[*]} and no apt-get to install them"
    echo "installing: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
    echo "all present: ${package_of[*]}"
fi
stage_done

stage "cargo-nextest"
if ! cargo nextest --version >/dev/null 2>&1; then
    cargo install cargo-nextest --locked
fi
cargo nextest --version | head -n1
stage_done

# Browser tests drive Debian's Chromium with playwright-core (no browser
# download); the exact version is locked in e2e/package-lock.json.
stage "npm ci (e2e test tools)"
if [[ ! -d e2e/node_modules/playwright-core ]] || ! cmp -s e2e/package-lock.json e2e/node_modules/.package-lock.json; then
    npm ci --prefix e2e --no-audit --no-fund
fi
echo "playwright-core $(node -p "require('./e2e/node_modules/playwright-core/package.json').version")"
stage_done

# --- static checks ------------------------------------------------------------
stage "rustfmt"
cargo fmt --all --check
stage_done

stage "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
stage_done

stage "sbc-core is sans-IO (no tokio in its dependency tree, no clock read)"
tree="$(cargo tree -p sbc-core -e normal --locked --prefix none)"
if grep -E '^tokio' <<<"$tree"; then
    fail "sbc-core depends on tokio (directly or through the crates above); it must stay sans-IO"
fi
echo "no tokio among $(sort -u <<<"$tree" | wc -l) crates"
# Nor a clock read, tests included (their origin instant comes from
# sbc-test-clock): clippy's disallowed-methods can be allowed away, this not.
if grep -rnE '(Instant|SystemTime)::now' sbc-core/src sbc-core/tests sbc-core/benches 2>/dev/null; then
    fail "sbc-core reads a clock (above); take \`now\` as an argument"
fi
stage_done

stage "rustdoc"
RUSTDOCFLAGS="${RUSTDOCFLAGS:-} -D warnings" cargo doc --workspace --no-deps --locked
stage_done

# --- tests --------------------------------------------------------------------
# Everything is compiled here, with network access, so that nothing needs the
# network inside the namespace below.
stage "build tests"
cargo nextest run --workspace --locked --no-run
stage_done

# Tests, including those that drive real peers, run in a fresh network namespace
# with only `lo` up: nothing can reach another host and ports never collide with
# the rest of the machine. Without root, a user namespace maps us to root in it.
stage "tests (private network namespace, loopback only)"
unshare_args=(--net)
[[ $EUID -eq 0 ]] || unshare_args=(--user --map-root-user --net)
unshare "${unshare_args[@]}" bash -c \
    'ip link set lo up && cargo nextest run --workspace --locked --offline --no-fail-fast'
stage_done

# The protocol schema and the web client's own tests (node:test files in e2e/,
# a scripted gateway and headless Chromium), in a namespace of their own.
stage "web client and protocol schema (node --test, private network namespace)"
unshare "${unshare_args[@]}" bash -c 'ip link set lo up && cd e2e && node --test'
stage_done

stage "doctests"
cargo test --doc --workspace --locked
stage_done

printf '\n==> all stages passed (%ss)\n' "$((SECONDS - suite_start))"
