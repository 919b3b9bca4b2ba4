#!/usr/bin/env bash
# compare_with_stateright.sh — cost of our single-decree Paxos check next to
# stateright's own published single-decree Paxos example, on the same machine.
#
# Usage (from anywhere; paths are resolved from this file):
#     bash tests/benches/compare_with_stateright.sh
#
# Environment:
#     TIME_LIMIT   seconds each run may take before it is stopped and reported
#                  as "did not finish" (default 600)
#     THREADS      checker threads for BOTH programs (default: nproc). The
#                  stateright example always uses num_cpus::get() threads, which
#                  is what nproc reports unless CPU affinity/cgroups differ; the
#                  script warns if THREADS differs from nproc.
#
# What it does:
#   1. builds our `paxos-check` in release (`cargo build --release -p paxos-check`);
#   2. copies the stateright crate source this workspace resolves (found through
#      `cargo metadata`) into a temporary directory and builds its example there
#      with its own shipped Cargo.lock and a separate CARGO_TARGET_DIR:
#      `cargo build --release --example paxos` (its dev-dependencies come from
#      crates.io). Nothing of stateright is copied into this project;
#   3. runs, one after the other, under `/usr/bin/time -v` and `timeout $TIME_LIMIT`:
#        stateright:  paxos check-bfs N unordered_nonduplicating, for N = 2 and 3
#        ours:        paxos-check check single (default), single --rounds 2,
#                     single --proposers 3, single --acceptors 5, multi --rounds 2,
#                     each with --threads T --keep-going
#   4. prints a table of unique states, wall seconds, peak resident memory,
#      unique states per second and bytes per unique state, then the ratios of
#      each of our runs to stateright's check-bfs 3 (rate, and bytes per state).
#
# The two models differ (see the note printed at the end): the figures compare
# the cost of checking, not the same state space.
#
# Requires: cargo, GNU time at /usr/bin/time, timeout (coreutils), jq or python3.

set -euo pipefail

die() { echo "compare_with_stateright: error: $*" >&2; exit 1; }

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORKSPACE="$(cd "$SCRIPT_DIR/../.." && pwd)"
TIME_LIMIT="${TIME_LIMIT:-600}"
NPROC="$(nproc)"
THREADS="${THREADS:-$NPROC}"

[[ -x /usr/bin/time ]] || die "/usr/bin/time (GNU time) is missing; install it (e.g. apt-get install time)"
/usr/bin/time -v true >/dev/null 2>&1 || die "/usr/bin/time does not accept -v; GNU time is required"
command -v timeout >/dev/null || die "'timeout' (coreutils) is missing"
command -v cargo >/dev/null || die "cargo is missing"
[[ "$TIME_LIMIT" =~ ^[0-9]+$ ]] || die "TIME_LIMIT must be a whole number of seconds, got '$TIME_LIMIT'"
[[ "$THREADS" =~ ^[1-9][0-9]*$ ]] || die "THREADS must be a positive integer, got '$THREADS'"
if [[ "$THREADS" != "$NPROC" ]]; then
    echo "warning: THREADS=$THREADS but nproc=$NPROC; stateright's example uses num_cpus threads, so thread counts may differ" >&2
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/compare-stateright.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# ---------------------------------------------------------------- 1. ours
echo "== building paxos-check (release)" >&2
(cd "$WORKSPACE" && cargo build --release -p paxos-check) >&2 \
    || die "building paxos-check failed"
OURS="$WORKSPACE/target/release/paxos-check"
if [[ -n "${CARGO_TARGET_DIR:-}" ]]; then OURS="$CARGO_TARGET_DIR/release/paxos-check"; fi
[[ -x "$OURS" ]] || die "built paxos-check not found at $OURS"

# ---------------------------------------------------------------- 2. stateright
echo "== locating stateright's crate source" >&2
METADATA="$(cd "$WORKSPACE" && cargo metadata --format-version 1)" \
    || die "cargo metadata failed in $WORKSPACE"
if command -v jq >/dev/null; then
    MANIFEST="$(jq -r '[.packages[] | select(.name == "stateright")][0].manifest_path // empty' <<<"$METADATA")"
elif command -v python3 >/dev/null; then
    MANIFEST="$(python3 -c '
import json, sys
ps = [p for p in json.load(sys.stdin)["packages"] if p["name"] == "stateright"]
print(ps[0]["manifest_path"] if ps else "")' <<<"$METADATA")"
else
    die "need jq or python3 to read cargo metadata"
fi
[[ -n "$MANIFEST" ]] || die "no package named stateright in cargo metadata of $WORKSPACE"
SR_SRC="$(dirname "$MANIFEST")"
[[ -f "$SR_SRC/examples/paxos.rs" ]] \
    || die "stateright source at $SR_SRC has no examples/paxos.rs (run 'cargo fetch' in $WORKSPACE?)"
[[ -f "$SR_SRC/Cargo.lock" ]] || echo "warning: $SR_SRC ships no Cargo.lock; dependencies will be resolved afresh" >&2
SR_VERSION="$(basename "$SR_SRC")"

echo "== building $SR_VERSION example paxos (release) in $WORK" >&2
cp -r "$SR_SRC" "$WORK/stateright"
chmod -R u+w "$WORK/stateright"
(cd "$WORK/stateright" && CARGO_TARGET_DIR="$WORK/target" cargo build --release --example paxos) >&2 \
    || die "building stateright's paxos example failed"
THEIRS="$WORK/target/release/examples/paxos"
[[ -x "$THEIRS" ]] || die "built stateright example not found at $THEIRS"
grep -q '"unordered_nonduplicating"' "$SR_SRC/src/actor/network.rs" \
    || die "stateright's Network no longer names 'unordered_nonduplicating'; check Network::names()"

# ---------------------------------------------------------------- 3. runs
# run NAME -- CMD...: runs CMD under /usr/bin/time and timeout; sets
# RUN_STATUS (ok | did not finish | failed (exit N)), RUN_SECS, RUN_KIB, RUN_OUT.
run() {
    local name="$1"; shift; shift
    local out="$WORK/$name.out" tv="$WORK/$name.time" rc=0
    echo "== running ($name, limit ${TIME_LIMIT}s): $*" >&2
    /usr/bin/time -v -o "$tv" timeout --signal=TERM --kill-after=10 "$TIME_LIMIT" "$@" \
        >"$out" 2>&1 || rc=$?
    RUN_OUT="$out"
    case "$rc" in
        0|1) RUN_STATUS="ok" ;;
        3) RUN_STATUS="stopped at a limit" ;;
        124|137) RUN_STATUS="did not finish" ;;
        *) RUN_STATUS="failed (exit $rc)" ;;
    esac
    local wall
    RUN_KIB="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tv")"
    wall="$(awk -F': ' '/Elapsed \(wall clock\) time/ {print $2}' "$tv")"
    # wall is h:mm:ss or m:ss.ss
    RUN_SECS="$(awk -v w="${wall:-0}" 'BEGIN {
        n = split(w, p, ":"); s = 0
        for (i = 1; i <= n; i++) s = s * 60 + p[i]
        printf "%.2f", s }')"
    tail -n 3 "$out" | sed 's/^/   | /' >&2
}

ROWS=()
# add_row PROGRAM CONFIG UNIQUE SECONDS KIB STATUS: also works out unique states per second and
# bytes per unique state (peak resident set / unique states).
add_row() {
    local rate bytes
    rate="$(awk -v u="$3" -v s="$4" 'BEGIN { if (u ~ /^[0-9]+$/ && s > 0) printf "%.0f", u / s; else print "-" }')"
    bytes="$(awk -v u="$3" -v k="$5" 'BEGIN { if (u ~ /^[0-9]+$/ && u > 0) printf "%.0f", k * 1024 / u; else print "-" }')"
    ROWS+=("$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$1" "$2" "$3" "$4" "$(awk -v k="$5" 'BEGIN { printf "%.1f", k / 1024 }')" "$rate" "$bytes" "$6")")
}

# stateright's example: "Done. states=..., unique=..., depth=..., sec=..." on completion.
theirs() {
    local clients="$1"
    run "stateright-$clients" -- "$THEIRS" check-bfs "$clients" unordered_nonduplicating
    local line uniq
    line="$(grep -E '^Done\. ' "$RUN_OUT" | tail -n 1 || true)"
    if [[ -n "$line" ]]; then
        uniq="$(sed -E 's/.*unique=([0-9]+).*/\1/' <<<"$line")"
    else
        uniq="?"; [[ "$RUN_STATUS" == ok ]] && RUN_STATUS="ok (no Done line)"
    fi
    add_row "$SR_VERSION examples/paxos" "check-bfs $clients" "$uniq" "$RUN_SECS" "$RUN_KIB" "$RUN_STATUS"
    THEIR_RATE="$(awk -v u="$uniq" -v s="$RUN_SECS" 'BEGIN { if (s > 0 && u ~ /^[0-9]+$/) print u / s; else print 0 }')"
    THEIR_BYTES="$(awk -v u="$uniq" -v k="$RUN_KIB" 'BEGIN { if (u ~ /^[0-9]+$/ && u > 0) print k * 1024 / u; else print 0 }')"
}

# ours: "<states> states (<unique> unique), ..." from the text report.
ours() {
    local name="$1"; shift
    run "ours-$name" -- "$OURS" check "$@" --threads "$THREADS" --keep-going
    local line uniq
    line="$(grep -E '\([0-9]+ unique\)' "$RUN_OUT" | tail -n 1 || true)"
    uniq="${line:+$(sed -E 's/.*\(([0-9]+) unique\).*/\1/' <<<"$line")}"
    uniq="${uniq:-?}"
    if [[ "$RUN_STATUS" == ok ]] && ! grep -q '^complete' "$RUN_OUT"; then
        RUN_STATUS="incomplete"
    fi
    add_row "ours paxos-check" "check $*" "$uniq" "$RUN_SECS" "$RUN_KIB" "$RUN_STATUS"
    OUR_RATE="$(awk -v u="$uniq" -v s="$RUN_SECS" 'BEGIN { if (s > 0 && u ~ /^[0-9]+$/) print u / s; else print 0 }')"
    OUR_BYTES="$(awk -v u="$uniq" -v k="$RUN_KIB" 'BEGIN { if (u ~ /^[0-9]+$/ && u > 0) print k * 1024 / u; else print 0 }')"
    RATIOS+=("$(printf '%s\t%s\t%s' "check $*" \
        "$(awk -v a="$OUR_RATE" -v b="$THEIR_RATE" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')" \
        "$(awk -v a="$OUR_BYTES" -v b="$THEIR_BYTES" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')")")
}

RATIOS=()
theirs 2
theirs 3
ours default single
ours rounds2 single --rounds 2
ours proposers3 single --proposers 3
ours acceptors5 single --acceptors 5
ours multi-rounds2 multi --rounds 2

# ---------------------------------------------------------------- 4. tables
table() {
    awk -F'\t' '
        { for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n = NR; nf = NF }
        END {
            for (r = 1; r <= n; r++) {
                line = ""
                for (i = 1; i <= nf; i++) {
                    fmt = (i >= 3 && i <= nf - 1) ? "%" w[i] "s" : "%-" w[i] "s"
                    line = line sprintf(fmt, cell[r, i]) (i < nf ? "  " : "")
                }
                sub(/ +$/, "", line); print line
                if (r == 1) { sep = ""; for (i = 1; i <= nf; i++) { s = sprintf("%" w[i] "s", ""); gsub(/ /, "-", s); sep = sep s (i < nf ? "  " : "") } print sep }
            }
        }'
}

echo
echo "Single-decree Paxos and Multi-Paxos, unordered non-duplicating network, $THREADS checker thread(s) each, limit ${TIME_LIMIT}s per run"
echo "Machine: $NPROC CPU(s), $(uname -sm)"
echo
{
    printf 'program\tconfiguration\tunique states\twall s\tpeak MiB\tunique/s\tbytes/unique\tstatus\n'
    printf '%s\n' "${ROWS[@]}"
} | table
echo
echo "Ours against stateright's check-bfs 3, run by run (rate: higher is better; bytes: lower is better):"
echo
{
    printf 'our run\tunique/s ratio\tbytes/unique ratio\n'
    printf '%s\n' "${RATIOS[@]}"
} | awk -F'\t' '{ printf "%-36s  %14s  %18s\n", $1, $2, $3 }'
cat <<'NOTE'

Note: the two programs check different models, so these figures compare the
cost of checking, not the same state space.
  - stateright's example: 3 servers, each both proposer and acceptor, serving
    N clients that each Put a value and then Get it; a server starts one
    ballot per client request; it checks that the register is linearizable
    (always) and that a Get can return a chosen value (sometimes). It counts
    every distinct state.
  - ours: separate acceptors and proposers, each proposing its own distinct
    value, checking agreement, validity, immutability, learners agree,
    liveness and reachability examples; it counts classes of states up to a
    renaming of acceptors (--symmetry on), and collects messages that can no
    longer matter. Run with --keep-going, so that every property is decided.
"wall s" is /usr/bin/time's elapsed time of the whole process (start-up and
report included); "peak MiB" is its maximum resident set size; "bytes/unique"
is that peak over the unique states.
NOTE
