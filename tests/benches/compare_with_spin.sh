#!/usr/bin/env bash
# compare_with_spin.sh — our single-decree check next to SPIN, on the same machine, on the same
# question: is single-decree Paxos with 3 acceptors and N proposers of one ballot each safe?
#
# Usage:
#     bash tests/benches/compare_with_spin.sh
#     SPIN_PAXOS_PML=/path/to/optimized.pml bash tests/benches/compare_with_spin.sh
#
# SPIN runs two Promela models:
#   - tests/benches/single_decree.pml, written for this project to model what `check single`
#     models (acceptors serve every request all their life; Phase 2 to the quorum that promised;
#     an unordered network; the ghost record of acceptances and immutability asserted on it).
#     Before it is measured, the script builds it once with -DMAJORITY=1 (a quorum of one, which
#     breaks Paxos) and stops with an error unless SPIN finds the assertion violated: a peer
#     model that cannot fail would measure nothing.
#   - optionally, the published model of Delzanno, Tatarek and Traverso ("Model Checking Paxos in
#     Spin", GandALF 2014) as kept at github.com/glycerine/spin_paxos (`optimized.pml`), if
#     SPIN_PAXOS_PML names a copy of it (its text is the authors', not part of this project).
#     Its acceptors stop after their first Accept (the `break` that ends acceptor_optimized's
#     loop), so it decides a smaller question than ours. The script runs it as published and
#     with that `break` taken out ("acceptors keep serving"), where SPIN finds its learner's
#     assertion violated: the model is safe only because each acceptor accepts once. It works on a
#     temporary copy in which it sets `#define PROPOSERS N` and makes the one change SPIN 6.5.2
#     needs to accept the file (its learner passes a local array to an inline as a parameter,
#     which 6.5.2 refuses; an inline is expanded in its caller's scope, so the array is named
#     directly instead).
#
# Environment:
#     SPIN_PAXOS_PML  path to optimized.pml (optional; without it that row is left out)
#     PROPOSERS       the proposer counts to run, default "3 4"
#     TIME_LIMIT      seconds each run may take (default 600)
#     THREADS         our checker's threads (default: nproc); SPIN runs on one core
#     REDUCE          our checker's --reduce (default all,por)
#     SPIN_MEMLIM     pan's memory limit in MB (-DMEMLIM, default 12000)
#     MAX_MEMORY      our checker's --max-memory (default 12G, SPIN's budget)
#
# What it runs, one after the other, under /usr/bin/time -v and timeout:
#     SPIN: spin -a; gcc -O2 -DSAFETY -DMEMLIM (exhaustive, no bitstate; -DCOLLAPSE from 4
#           proposers, as the state vectors then outgrow memory); ./pan -m100000 (-E for the
#           published model, whose processes end in states SPIN calls invalid)
#     ours: paxos-check check single --proposers N --threads T --reduce R --max-memory M
# and prints states, wall seconds and peak resident memory for each. The state counts are each
# tool's own (SPIN counts the states of its processes' control flow, ours has symmetry over the
# acceptors): the table compares the cost of deciding one question, not one state space.
#
# Requires: spin (Debian's `spin`), gcc, GNU time at /usr/bin/time, timeout, python3, cargo.

set -euo pipefail

die() { echo "compare_with_spin: error: $*" >&2; exit 1; }

if [[ -n "${SPIN_PAXOS_PML:-}" && ! -f "$SPIN_PAXOS_PML" ]]; then
    die "SPIN_PAXOS_PML=$SPIN_PAXOS_PML is not a file"
fi
command -v spin > /dev/null || die "spin is not installed (Debian: apt-get install spin)"
command -v gcc > /dev/null || die "gcc is not installed"
[[ -x /usr/bin/time ]] || die "GNU time is not at /usr/bin/time"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
proposers="${PROPOSERS:-3 4}"
limit="${TIME_LIMIT:-600}"
threads="${THREADS:-$(nproc)}"
reduce="${REDUCE:-all,por}"
memlim="${SPIN_MEMLIM:-12000}"
max_memory="${MAX_MEMORY:-12G}"
for n in $proposers; do
    [[ "$n" =~ ^[1-5]$ ]] || die "PROPOSERS lists proposer counts from 1 to 5 (both models' limit), not '$n'"
done

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

# The peer model must be able to fail: with a quorum of one, two proposers get two values chosen.
sanity="$work/sanity"
mkdir -p "$sanity"
cp "$here/single_decree.pml" "$sanity/"
(cd "$sanity" && spin -a -DPROPOSERS=2 -DMAJORITY=1 single_decree.pml > /dev/null \
    && gcc -O2 -DSAFETY -o pan pan.c && ./pan -m100000 > pan.log 2>&1) || true
grep -q "assertion violated" "$sanity/pan.log" \
    || die "single_decree.pml with a quorum of one did not violate its assertion: the peer model checks nothing"
echo "single_decree.pml with a quorum of one (-DMAJORITY=1): assertion violated, as it must be"

rows=()

# Builds pan in directory $1 from model file $2 with the gcc flags that follow $3 (the row's
# program) and $4 (its configuration), runs it, and adds the row.
run_spin() {
    local dir="$1" source="$2" label="$3" config="$4"
    shift 4
    local flags=("$@")
    local pan_args=(-m100000)
    if [[ "$label" == *published* ]]; then pan_args+=(-E); fi
    (cd "$dir" && spin -a "$source" > /dev/null && gcc "${flags[@]}" -o pan pan.c)
    local status=0
    (cd "$dir" && /usr/bin/time -v timeout "$limit" ./pan "${pan_args[@]}" > pan.log 2> time.log) || status=$?
    local states errors end
    states="$(awk '/states, stored/ {print $1; exit}' "$dir/pan.log")"
    errors="$(awk -F'errors: ' '/errors:/ {print $2; exit}' "$dir/pan.log")"
    end="exhausted, errors: ${errors:-?}"
    if (( status != 0 )) || grep -q "Search not completed" "$dir/pan.log"; then
        if grep -q "assertion violated" "$dir/pan.log"; then
            end="assertion violated"
        elif grep -q "out of memory" "$dir/pan.log"; then
            end="out of memory (-DMEMLIM=$memlim), states stored so far"
        else
            end="did not finish (status $status), states stored so far"
            states="$(awk '/^Depth=/ {s = $4} END {print s}' "$dir/pan.log")"
        fi
    fi
    rows+=("$label (${flags[*]})|$config|${states:-?}|$(wall_s "$dir/time.log")|$(peak_mib "$dir/time.log")|$end")
}

for n in $proposers; do
    flags=(-O2 -DSAFETY "-DMEMLIM=$memlim")
    if (( n >= 4 )); then flags+=(-DCOLLAPSE); fi

    dir="$work/ours-pml-$n"
    mkdir -p "$dir"
    sed -e "s/^#define PROPOSERS 3$/#define PROPOSERS $n/" "$here/single_decree.pml" > "$dir/paxos.pml"
    grep -q "^#define PROPOSERS $n$" "$dir/paxos.pml" \
        || die "single_decree.pml no longer has the line '#define PROPOSERS 3' this script sets"
    run_spin "$dir" paxos.pml "SPIN pan, single_decree.pml" "PROPOSERS $n" "${flags[@]}"

    if [[ -n "${SPIN_PAXOS_PML:-}" ]]; then
        dir="$work/published-$n"
        mkdir -p "$dir"
        sed -e "s/^#define PROPOSERS .*/#define PROPOSERS $n/" \
            -e 's/^inline read_learn_chan_and_assert(id, rnd, lval, lastval, mcount)/inline read_learn_chan_and_assert(id, rnd, lval, lastval)/' \
            -e 's/read_learn_chan_and_assert(id, rnd, lval, lastval, mcount);/read_learn_chan_and_assert(id, rnd, lval, lastval);/' \
            "$SPIN_PAXOS_PML" > "$dir/paxos.pml"
        run_spin "$dir" paxos.pml "SPIN pan, published optimized.pml" "PROPOSERS $n" "${flags[@]}"

        # The same model with its acceptors serving every request, as Paxos's acceptors (and
        # ours) do: the `break` that ends acceptor_optimized's loop after one Accept is taken out.
        serving="$work/published-serving-$n"
        mkdir -p "$serving"
        awk '/^proctype acceptor_optimized/ { inside = 1 }
             inside && /^       break;$/ { print "       skip; /* serving: no break */"; inside = 0; next }
             { print }' "$dir/paxos.pml" > "$serving/paxos.pml"
        grep -q "serving: no break" "$serving/paxos.pml" \
            || die "did not find the acceptor's break in $SPIN_PAXOS_PML"
        run_spin "$serving" paxos.pml "SPIN pan, published, acceptors keep serving" "PROPOSERS $n" "${flags[@]}"
    fi

    log="$work/ours-$n.time"
    status=0
    # Our own --timeout ends the search and writes the report; the outer limit is only a guard,
    # and a minute later, so that it never cuts the report off.
    /usr/bin/time -v timeout "$((limit + 60))" "$checker" check single --proposers "$n" \
        --threads "$threads" --reduce "$reduce" --max-memory "$max_memory" --timeout "$limit" --format json \
        > "$work/ours-$n.json" 2> "$log" || status=$?
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
    rows+=("ours, $threads threads, --reduce $reduce, --max-memory $max_memory|--proposers $n|${summary%%|*}|$(wall_s "$log")|$(peak_mib "$log")|${summary#*|}")
done

printf '%-62s %-14s %12s %8s %9s  %s\n' "program" "configuration" "states" "wall s" "peak MiB" "end"
for row in "${rows[@]}"; do
    IFS='|' read -r program config states wall peak end <<< "$row"
    printf '%-62s %-14s %12s %8s %9s  %s\n' "$program" "$config" "$states" "$wall" "$peak" "$end"
done
echo "Load while measuring: $(cut -d' ' -f1-3 /proc/loadavg)"
