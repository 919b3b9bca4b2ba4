//! The flaw catalogue, borne out: every flaw breaks the property the catalogue says, with a
//! shortest counterexample of pinned length after discovering a pinned number of states; every benign
//! flaw passes an exhaustive check. A change to the protocol or the models that changes any of
//! these shows up here, in review.

use paxos_model::check::catalogue::{catalogue, entry_for, examine, Consequence, Finding};
use paxos_model::Flaw;

fn examined(flaw: Flaw) -> Finding {
    let entry = entry_for(flaw).expect("a catalogued flaw");
    let finding = examine(&entry, 2);
    assert!(
        finding.confirms(entry.consequence),
        "{flaw}: {:?} not borne out: {finding:?}",
        entry.consequence
    );
    finding
}

/// `flaw` breaks `property` with a shortest counterexample of `steps` steps, found after
/// discovering `states` distinct states breadth-first.
fn assert_caught(flaw: Flaw, property: &'static str, steps: usize, states: usize) -> Vec<String> {
    let entry = entry_for(flaw).expect("catalogued");
    assert_eq!(entry.consequence, Consequence::Breaks(property));
    let finding = examined(flaw);
    let found = finding.counterexample.expect("a counterexample");
    assert_eq!(
        (found.steps.len(), finding.states),
        (steps, states),
        "{flaw}: {:#?}",
        found.steps
    );
    found.steps
}

/// Declares one test per flawed entry: (test name, flaw, property broken, steps, states).
macro_rules! caught {
    ($($name:ident: $flaw:expr, $property:literal, $steps:literal, $states:literal;)*) => {
        $(
            #[test]
            fn $name() {
                assert_caught($flaw, $property, $steps, $states);
            }
        )*
    };
}

caught! {
    accept_below_promise_is_caught: Flaw::AcceptBelowPromise, "agreement", 12, 1_462;
    promise_hides_accepted_is_caught: Flaw::PromiseHidesAccepted, "agreement", 12, 1_248;
    proposer_ignores_promises_is_caught: Flaw::ProposerIgnoresPromises, "agreement", 12, 1_248;
    lowest_accepted_value_is_caught: Flaw::LowestAcceptedValue, "agreement", 19, 21_148;
    minority_quorum_is_caught: Flaw::MinorityQuorum, "learners agree", 8, 437;
    new_leader_skips_phase1_is_caught: Flaw::NewLeaderSkipsPhase1, "slot agreement", 4, 31;
    ignore_slot_promises_is_caught: Flaw::IgnoreSlotPromises, "slot agreement", 12, 274;
}

#[test]
fn the_catalogue_holds_every_flaw_once_and_not_paxos_itself() {
    let flaws: Vec<Flaw> = catalogue().iter().map(|entry| entry.flaw).collect();
    let expected: Vec<Flaw> = Flaw::ALL
        .into_iter()
        .filter(|flaw| *flaw != Flaw::None)
        .collect();
    assert_eq!(flaws, expected);
    assert_eq!(entry_for(Flaw::None), None);
}

#[test]
fn promise_equal_ballot_is_benign_with_unique_ballots() {
    // The whole default single-decree space, every property as for Paxos itself.
    let finding = examined(Flaw::PromiseEqualBallot);
    assert!(finding.complete);
    assert_eq!(finding.states, 2_367);
    assert_eq!(finding.violated, Vec::<&str>::new());
    assert_eq!(finding.missing_examples, Vec::<&str>::new());
}

#[test]
fn shared_ballots_alone_is_safe_but_the_loser_never_proposes() {
    // An acceptor promises a ballot once, so only one of two proposers sharing it can gather a
    // majority; the other is refused and, with one ballot, stops. Safe, with less to see.
    let finding = examined(Flaw::SharedBallots);
    assert!(finding.complete);
    assert_eq!(finding.states, 409);
    assert_eq!(finding.violated, Vec::<&str>::new());
    assert_eq!(
        finding.missing_examples,
        [
            "two proposers hold majority promises at once",
            "a later ballot re-proposes the chosen value"
        ]
    );
}

#[test]
fn shared_ballots_with_equal_promises_let_two_proposers_hold_one_ballot() {
    // Both proposers start ballot 1.p1. a2 promises it to p1, then again to p2 (`>=`); each
    // proposer now holds a majority for the same ballot and gets its own value accepted by the
    // acceptors that promised it (a2 among both).
    let steps = assert_caught(Flaw::SharedBallotsAndEqualPromise, "agreement", 12, 1_136);
    assert_eq!(
        steps,
        [
            "p1 -> a1  Prepare(b=1.p1)",
            "a1 -> p1  Promise(b=1.p1, accepted none)",
            "p1 -> a2  Prepare(b=1.p1)",
            "a2 -> p1  Promise(b=1.p1, accepted none)",
            "p1 -> a1  Accept(b=1.p1, A)",
            "p2 -> a2  Prepare(b=1.p1)",
            "a2 -> p2  Promise(b=1.p1, accepted none)",
            "p1 -> a2  Accept(b=1.p1, A)",
            "p2 -> a3  Prepare(b=1.p1)",
            "a3 -> p2  Promise(b=1.p1, accepted none)",
            "p2 -> a2  Accept(b=1.p1, B)",
            "p2 -> a3  Accept(b=1.p1, B)",
        ]
    );
}

#[test]
fn an_acceptor_that_forgets_on_crash_votes_twice() {
    // a1 accepts A (chosen with a2), crashes, comes back empty, promises p2's ballot and reports
    // nothing: p2 proposes B to a1 and a2, and B is chosen too.
    let steps = assert_caught(Flaw::ForgetOnCrash, "agreement", 14, 36_286);
    assert_eq!(
        steps[8..12],
        [
            "a1 crashes",
            "a1 recovers from what it persisted",
            "p2 -> a1  Prepare(b=1.p2)",
            "a1 -> p2  Promise(b=1.p2, accepted none)",
        ]
    );
}

#[test]
fn a_preempted_leader_that_keeps_skipping_phase1_overwrites_the_rivals_slot() {
    // l1 is refused at a1 (l2 promised there), so it must run Phase 1 again; instead it takes a
    // new ballot and sends A straight to Phase 2, over the C that l2 got chosen in slot 0.
    let steps = assert_caught(Flaw::SkipPhase1AfterPreemption, "slot agreement", 14, 1_037);
    assert_eq!(
        steps,
        [
            "l1 -> a1  Prepare(b=1.p1, slots 0..)",
            "a1 -> l1  Promise(b=1.p1, accepted none)",
            "l1 -> a2  Prepare(b=1.p1, slots 0..)",
            "a2 -> l1  Promise(b=1.p1, accepted none)",
            "l2 -> a1  Prepare(b=1.p2, slots 0..)",
            "a1 -> l2  Promise(b=1.p2, accepted none)",
            "l1 -> a1  Accept(slot 0, b=1.p1, A)",
            "a1 -> l1  AcceptRefused(slot 0, b=1.p1, promised 1.p2)",
            "l2 -> a2  Prepare(b=1.p2, slots 0..)",
            "a2 -> l2  Promise(b=1.p2, accepted none)",
            "l2 -> a1  Accept(slot 0, b=1.p2, C)",
            "l1 -> a1  Accept(slot 0, b=2.p1, A)",
            "l2 -> a2  Accept(slot 0, b=1.p2, C)",
            "l1 -> a2  Accept(slot 0, b=2.p1, A)",
        ]
    );
}
