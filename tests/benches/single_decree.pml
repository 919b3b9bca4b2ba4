/*
 * single_decree.pml: single-decree Paxos for SPIN, written for this project to decide the
 * question `paxos-check check single --proposers N` decides, so that the two tools can be run
 * side by side on one question (tests/benches/compare_with_spin.sh).
 *
 * What it models, as the Rust model does (model/src/check/paxos.rs):
 *   - ACCEPTORS = 3 acceptors and PROPOSERS proposers; proposer p (0-based) has the one ballot
 *     p + 1 and the one value p + 1: ballots are unique and ordered by proposer, one round each.
 *   - Every proposer sends Prepare to every acceptor at the start. On its first majority of
 *     promises it sends Accept to the acceptors that made it, with the value of the highest-ballot acceptance
 *     those promises report, or its own value if none reports one; later promises change nothing.
 *   - An acceptor promises a ballot above its promise, accepts a ballot at or above it, and keeps
 *     serving requests all its life: it may accept several proposals, one after another.
 *   - The network is unordered and loses nothing: every (sender, recipient, kind) has a channel
 *     of its own with one place, and a proposer sends each acceptor at most one Prepare and one
 *     Accept, so any message in flight may be delivered next (an Accept before its Prepare too).
 *   - Refusals are left out. In the Rust model a refused proposer with no round left stops; here
 *     it may go on, which the Rust model also allows while the refusal is still in flight, so the
 *     same acceptances can be made.
 *
 * What it checks: every acceptance is recorded, as it is made, in a ghost record of which
 * acceptors accepted each ballot and with what value (the Rust model's ChosenTracker), and the
 * acceptor asserts immutability there (Lamport's P2a, ChosenTracker::immutable): once a ballot
 * is chosen (a majority accepted it), every acceptance at a higher ballot carries its value.
 * Agreement follows. Three switches break Paxos on purpose, and the assertion must then fail:
 * -DMAJORITY=1 (a quorum of one, for choosing too), -DIGNORES_REPORTS=1 and
 * -DACCEPTS_BELOW_PROMISE=1 (below).
 *
 * Every channel has one sender and one receiver, declared with xs/xr, so that SPIN's partial-
 * order reduction may treat sends and receives on it as local where its rules allow. The ghost
 * record is global; a separate learner process reading acceptances from channels instead was
 * tried and gave SPIN about eight times the states at three proposers (31.4 M against 4.05 M,
 * both measured while Phase 2 still went to every acceptor), so the record is kept where the
 * Rust model keeps it, in the acceptor's step.
 *
 * Run: spin -a -DPROPOSERS=3 single_decree.pml && gcc -O2 -DSAFETY -o pan pan.c && ./pan -m100000
 */

#ifndef PROPOSERS
#define PROPOSERS 3
#endif
#if PROPOSERS < 1 || PROPOSERS > 5
#error "PROPOSERS must be 1 to 5: acceptors serve at most five proposers, as paxos-check allows"
#endif
#define ACCEPTORS 3
#ifndef MAJORITY
#define MAJORITY 2
#endif

/* -DIGNORES_REPORTS=1: the proposer proposes its own value whatever its promises report (the
 * Rust catalogue's proposer-ignores-promises); the assertion must then fail. */
#ifndef IGNORES_REPORTS
#define IGNORES_REPORTS 0
#endif
/* -DACCEPTS_BELOW_PROMISE=1: an acceptor accepts a ballot lower than it promised (the Rust
 * catalogue's accept-below-promise); the assertion must then fail. */
#ifndef ACCEPTS_BELOW_PROMISE
#define ACCEPTS_BELOW_PROMISE 0
#endif

#define REQUEST(p, a) ((p) * ACCEPTORS + (a))
#define REPLY(a, p) ((a) * PROPOSERS + (p))

chan prepare[PROPOSERS * ACCEPTORS] = [1] of { bit };
chan accept[PROPOSERS * ACCEPTORS] = [1] of { byte };       /* the value; the ballot is p + 1 */
chan promise[ACCEPTORS * PROPOSERS] = [1] of { byte, byte }; /* accepted ballot, value; 0 0: none */

/* The ghost record: per ballot (index ballot - 1), the acceptors that accepted it, as a bitset,
 * and its value. */
byte voters[PROPOSERS];
byte values[PROPOSERS];

#define CHOSEN(b) \
    (((voters[b] & 1) + ((voters[b] >> 1) & 1) + ((voters[b] >> 2) & 1)) >= MAJORITY)

#define RECORD_AND_CHECK \
    voters[accepted_ballot - 1] = voters[accepted_ballot - 1] | (1 << me); \
    values[accepted_ballot - 1] = accepted_value; \
    for (chosen : 0 .. PROPOSERS - 1) { \
        if \
        :: CHOSEN(chosen) -> \
            for (later : chosen + 1 .. PROPOSERS - 1) { \
                assert(voters[later] == 0 || values[later] == values[chosen]) \
            } \
        :: else \
        fi \
    }; \
    chosen = 0; later = 0

/* SPIN takes xr/xs only on a channel variable, not on an array element: each process names the
 * channels it uses. */
#define ACCEPTOR_CHANNELS(p) \
    chan prepare_##p = prepare[REQUEST(p, me)]; \
    chan accept_##p = accept[REQUEST(p, me)]; \
    chan promise_##p = promise[REPLY(me, p)]; \
    xr prepare_##p; xr accept_##p; xs promise_##p

/* How an acceptor serves proposer p's requests. */
#define SERVE(p) \
    :: d_step { prepare_##p ? _ -> \
           if \
           :: (p) + 1 > promised -> \
               promised = (p) + 1; \
               promise_##p ! accepted_ballot, accepted_value \
           :: else \
           fi } \
    :: d_step { accept_##p ? value -> \
           if \
           :: (p) + 1 >= promised || ACCEPTS_BELOW_PROMISE -> \
               promised = ((p) + 1 > promised -> (p) + 1 : promised); \
               accepted_ballot = (p) + 1; \
               accepted_value = value; \
               RECORD_AND_CHECK \
           :: else \
           fi; \
           value = 0 }

proctype acceptor(byte me) {
    byte promised = 0, accepted_ballot = 0, accepted_value = 0, value = 0;
    byte chosen = 0, later = 0;
    ACCEPTOR_CHANNELS(0);
#if PROPOSERS > 1
    ACCEPTOR_CHANNELS(1);
#endif
#if PROPOSERS > 2
    ACCEPTOR_CHANNELS(2);
#endif
#if PROPOSERS > 3
    ACCEPTOR_CHANNELS(3);
#endif
#if PROPOSERS > 4
    ACCEPTOR_CHANNELS(4);
#endif
end:
    do
    SERVE(0)
#if PROPOSERS > 1
    SERVE(1)
#endif
#if PROPOSERS > 2
    SERVE(2)
#endif
#if PROPOSERS > 3
    SERVE(3)
#endif
#if PROPOSERS > 4
    SERVE(4)
#endif
    od
}

#define PROPOSER_CHANNELS(a) \
    chan prepare_##a = prepare[REQUEST(me, a)]; \
    chan accept_##a = accept[REQUEST(me, a)]; \
    chan promise_##a = promise[REPLY(a, me)]; \
    xs prepare_##a; xs accept_##a; xr promise_##a

/* Phase 2 goes to the acceptors whose promises made the majority, as in the Rust model's
 * proposer (Proposer::send_phase2). */
#define SEND_ACCEPT(a) \
    if \
    :: promised_by & (1 << (a)) -> accept_##a ! highest_value \
    :: else \
    fi

/* How a proposer counts acceptor a's promise. */
#define HEAR(a) \
    :: d_step { promise_##a ? reported_ballot, reported_value -> \
           if \
           :: promises < MAJORITY -> \
               promises++; \
               promised_by = promised_by | (1 << (a)); \
               if \
               :: reported_ballot > highest_ballot -> \
                   highest_ballot = reported_ballot; \
                   highest_value = reported_value \
               :: else \
               fi; \
               if \
               :: promises == MAJORITY -> \
                   if \
                   :: highest_ballot == 0 || IGNORES_REPORTS -> highest_value = me + 1 \
                   :: else \
                   fi; \
                   SEND_ACCEPT(0); SEND_ACCEPT(1); SEND_ACCEPT(2) \
               :: else \
               fi \
           :: else \
           fi; \
           reported_ballot = 0; reported_value = 0 }

proctype proposer(byte me) {
    byte promises = 0, promised_by = 0, highest_ballot = 0, highest_value = 0;
    byte reported_ballot = 0, reported_value = 0;
    PROPOSER_CHANNELS(0);
    PROPOSER_CHANNELS(1);
    PROPOSER_CHANNELS(2);
    d_step {
        prepare_0 ! 1;
        prepare_1 ! 1;
        prepare_2 ! 1
    }
end:
    do
    HEAR(0)
    HEAR(1)
    HEAR(2)
    od
}

init {
    atomic {
        byte i;
        for (i : 0 .. ACCEPTORS - 1) {
            run acceptor(i)
        }
        for (i : 0 .. PROPOSERS - 1) {
            run proposer(i)
        }
        i = 0
    }
}
