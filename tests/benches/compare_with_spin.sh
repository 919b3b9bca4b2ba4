#!/usr/bin/env bash
# compare_with_spin.sh — our single-decree check next to SPIN on the published Promela model of
# single-decree Paxos by Delzanno, Tatarek and Traverso ("Model Checking Paxos in Spin",
# GandALF 2014), as kept at github.com/glycerine/spin_paxos (`optimized.pml`: 3 acceptors,
# proposers with one ballot each, unordered channels), on the same machine.
#
# Usage:
#     SPIN_PAXOS_PML=/path/to/optimized.pml bash tests/benches/compare_with_spin.sh
#
# The Promela model is not part of this project (its licence is CC-BY, its text the authors');
# give the path to a copy of `optimized.pml`. The script works on a temporary copy, in which it
# sets `#define PROPOSERS N` and makes the one change SPIN 6.5.2 needs to accept the file (its
# learner passes a local array to an inline as a parameter, which 6.5.2 refuses; an inline is
# expanded in its caller's scope, so the array is named directly instead).
#
# Environment:
#     SPIN_PAXOS_PML  path to optimized.pml (required)
#     PROPOSERS       the proposer counts to run, default "3 4"
#     TIME_LIMIT      seconds each run may take (default 600)
#     THREADS         our checker's threads (default: nproc); SPIN runs on one core
#
# What it runs, one after the other, under /usr/bin/time -v and timeout:
#     SPIN: spin -a; gcc -O2 -DSAFETY (exhaustive, no bitstate; -DCOLLAPSE from 4 proposers, as
#           its state vectors then outgrow memory); ./pan -E -m100000
#     ours: paxos-check check single --proposers N --threads T
# and prints states, wall seconds and peak resident memory for each. The models differ in
# detail (SPIN's has a learner process and counts states of its own making; ours has symmetry
# over acceptors and no learner): the table compares the cost of deciding the same question,
# not the same state space.
#
# Requires: spin (Debian's `spin`), gcc, GNU time at /usr/bin/time, timeout, python3, cargo.

set -euo pipefail

die() { echo "compare_with_spin: error: $*" >&2; exit 1; }

[[ -n "${SPIN_PAXOS_PML:-}" ]] || die "set SPIN_PAXOS_PML to the path of optimized.pml"
[[ -f "$SPIN_PAXOS_PML" ]] || die "SPIN_PAXOS_PML=$SPIN_PAXOS_PML is not a file"
command -v spin > /dev/null || die "spin is not installed (Debian: apt-get install spin)"
command -v gcc > /dev/null || die "gcc is not installed"
[[ -x /usr/bin/time ]] || die "GNU time is not at /usr/bin/time"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
proposers="${PROPOSERS:-3 4}"
limit="${TIME_LIMIT:-600}"
threads="${THREADS:-$(nproc)}"

(cd "$root" && cargo build --quiet --release -p paxos-check)
checker="$root/target/release/paxos-check"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Peak resident memory in MiB and wall seconds from a `time -v` log.
peak_mib() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$1"; }
wall_s() {
    awk -F': ' '/Elapsed \(wall clock\)/ {
        n = split($2, part, ":"); s = 0
        for (i = 1; i <= n; i++) s = s * 60 + part[i]
        printf "%.1f", s }' "$1"
}

rows=()
for n in $proposers; do
    dir="$work/spin-$n"
    mkdir -p "$dir"
    sed -e "s/^#define PROPOSERS .*/#define PROPOSERS $n/" \
        -e 's/^inline read_learn_chan_and_assert(id, rnd, lval, lastval, mcount)/inline read_learn_chan_and_assert(id, rnd, lval, lastval)/' \
        -e 's/read_learn_chan_and_assert(id, rnd, lval, lastval, mcount);/read_learn_chan_and_assert(id, rnd, lval, lastval);/' \
        "$SPIN_PAXOS_PML" > "$dir/paxos.pml"
    flags=(-O2 -DSAFETY)
    if (( n >= 4 )); then flags+=(-DCOLLAPSE); fi
    (cd "$dir" && spin -a paxos.pml > /dev/null && gcc "${flags[@]}" -o pan pan.c)
    status=0
    (cd "$dir" && /usr/bin/time -v timeout "$limit" ./pan -E -m100000 > pan.log 2> time.log) || status=$?
    states="$(awk '/states, stored/ {print $1; exit}' "$dir/pan.log")"
    errors="$(awk -F'errors: ' '/errors:/ {print $2; exit}' "$dir/pan.log")"
    end="exhausted, errors: ${errors:-?}"
    if (( status != 0 )) || grep -q "Search not completed" "$dir/pan.log"; then
        end="did not finish (status $status)"
    fi
    rows+=("SPIN 6.5.2 pan (${flags[*]})|PROPOSERS $n|${states:-?}|$(wall_s "$dir/time.log")|$(peak_mib "$dir/time.log")|$end")

    log="$work/ours-$n.time"
    status=0
    /usr/bin/time -v timeout "$limit" "$checker" check single --proposers "$n" \
        --threads "$threads" --timeout "$limit" --format json > "$work/ours-$n.json" 2> "$log" || status=$?
    summary="$(python3 - "$work/ours-$n.json" <<'PY'
import json, sys
try:
    report = json.load(open(sys.argv[1]))
except ValueError:
    print("?|no report")
    sys.exit()
end = "exhausted" if report["complete"] else "stopped: " + str(report["stopped_by"])
violated = [p["name"] for p in report["properties"] if p["verdict"] == "violated"]
print(f'{report["unique_states"]}|{end}, violated: {", ".join(violated) or "none"}')
PY
)"
    rows+=("ours, $threads threads|--proposers $n|${summary%%|*}|$(wall_s "$log")|$(peak_mib "$log")|${summary#*|}")
done

printf '%-42s %-14s %12s %8s %9s  %s\n' "program" "configuration" "states" "wall s" "peak MiB" "end"
for row in "${rows[@]}"; do
    IFS='|' read -r program config states wall peak end <<< "$row"
    printf '%-42s %-14s %12s %8s %9s  %s\n' "$program" "$config" "$states" "$wall" "$peak" "$end"
done
echo "Load while measuring: $(cut -d' ' -f1-3 /proc/loadavg)"
