//! The flaw catalogue, borne out: every flaw breaks first the property the catalogue says (the
//! one `paxos-check check --flaw` reports, since both run the same search), with a shortest
//! counterexample of pinned length after discovering a pinned number of states; every benign
//! flaw passes an exhaustive check. A change to the protocol or the models that changes any of
//! these shows up here, in review.

use paxos_model::check::catalogue::{catalogue, entry_for, Consequence};
use paxos_model::check::examine::{examine, Finding};
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

// Immutability breaks one step before agreement would: the acceptance at a higher ballot that
// contradicts a chosen value comes before the majority that chooses the second value.
caught! {
    accept_below_promise_is_caught: Flaw::AcceptBelowPromise, "immutability", 11, 1_099;
    promise_hides_accepted_is_caught: Flaw::PromiseHidesAccepted, "immutability", 11, 976;
    proposer_ignores_promises_is_caught: Flaw::ProposerIgnoresPromises, "immutability", 11, 976;
    lowest_accepted_value_is_caught: Flaw::LowestAcceptedValue, "immutability", 18, 15_950;
    minority_quorum_is_caught: Flaw::MinorityQuorum, "learners agree", 8, 437;
    new_leader_skips_phase1_is_caught: Flaw::NewLeaderSkipsPhase1, "immutability", 3, 14;
    ignore_slot_promises_is_caught: Flaw::IgnoreSlotPromises, "immutability", 11, 232;
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
    // nothing: p2 proposes B, and a1 accepts it at a ballot above the chosen A.
    let steps = assert_caught(Flaw::ForgetOnCrash, "immutability", 13, 23_837);
    assert_eq!(
        steps[8..13],
        [
            "a1 crashes",
            "a1 recovers from what it persisted",
            "p2 -> a1  Prepare(b=1.p2)",
            "a1 -> p2  Promise(b=1.p2, accepted none)",
            "p2 -> a1  Accept(b=1.p2, B)",
        ]
    );
}

#[test]
fn a_preempted_leader_that_keeps_skipping_phase1_overwrites_the_rivals_slot() {
    // l1 is refused at a1 (l2 promised there), so it must run Phase 1 again; instead it takes a
    // new ballot and sends A straight to Phase 2: a1 accepts A at 2.l1, and then l2's C is
    // chosen in slot 0 at the lower 1.l2.
    let steps = assert_caught(Flaw::SkipPhase1AfterPreemption, "immutability", 13, 778);
    assert_eq!(
        steps,
        [
            "l1 -> a1  Prepare(b=1.l1, slots 0..)",
            "a1 -> l1  Promise(b=1.l1, accepted none)",
            "l1 -> a2  Prepare(b=1.l1, slots 0..)",
            "a2 -> l1  Promise(b=1.l1, accepted none)",
            "l2 -> a1  Prepare(b=1.l2, slots 0..)",
            "a1 -> l2  Promise(b=1.l2, accepted none)",
            "l1 -> a1  Accept(slot 0, b=1.l1, A)",
            "a1 -> l1  AcceptRefused(slot 0, b=1.l1, promised 1.l2)",
            "l2 -> a2  Prepare(b=1.l2, slots 0..)",
            "a2 -> l2  Promise(b=1.l2, accepted none)",
            "l2 -> a1  Accept(slot 0, b=1.l2, C)",
            "l1 -> a1  Accept(slot 0, b=2.l1, A)",
            "l2 -> a2  Accept(slot 0, b=1.l2, C)",
        ]
    );
}

// The replica's own flaws, each caught in a cluster of three replicas (c1 writes key 0 through
// n1, c2 reads it through n2), every replica a voter from the start: the state the real start
// reaches once every probe is answered, so each trace below is a real run with that prefix cut
// off (see `ClusterStart::Voters`).

#[test]
fn a_leader_that_skips_a_reported_slot_puts_a_second_entry_there() {
    // The write is chosen in slot 0 (n1 and n2 accepted it). n2 takes over after a timeout and
    // n1's promise reports slot 0, but n2 leaves the slot unfinished, and its replica, taking
    // slot 0 for free, accepts the read there at its higher ballot.
    let steps = assert_caught(Flaw::LeaderSkipsReportedSlots, "immutability", 8, 1_652);
    assert_eq!(
        steps,
        [
            "c1 -> n1  Request(c1#1 write 0=1)",
            "n1 -> n2  Prepare(b=1.n1, slots 0..)",
            "n2 -> n1  Promise(b=1.n1, accepted none)",
            "n1 -> n2  Accept(slot 0, b=1.n1, c1#1 write 0=1)",
            "c2 -> n2  Request(c2#1 read 0)",
            "n2 times out",
            "n2 -> n1  Prepare(b=2.n2, slots 0..)",
            "n1 -> n2  Promise(b=2.n2, accepted [slot 0: (1.n1, c1#1 write 0=1)])",
        ]
    );
}

#[test]
fn a_catch_up_answered_from_accepted_entries_teaches_an_unchosen_one() {
    // n1 accepted the read in slot 1, but nobody else did: it is not chosen. n2, behind, asks
    // for promises from slot 0, which n1 has applied; n1 answers from its log, as it must, but
    // under the flaw from what it accepted, and hands slot 1 over anyway.
    // 7,920 states before a node's own acceptor heard its proposer's requests first; 7,899
    // before the stale cut stopped collecting catch-up requests and answers.
    let steps = assert_caught(Flaw::CatchUpFromAccepted, "logs agree", 10, 7_913);
    assert_eq!(
        steps,
        [
            "c1 -> n1  Request(c1#1 write 0=1)",
            "n1 -> n2  Prepare(b=1.n1, slots 0..)",
            "n2 -> n1  Promise(b=1.n1, accepted none)",
            "n1 -> n2  Accept(slot 0, b=1.n1, c1#1 write 0=1)",
            "n2 -> n1  Accepted(slot 0, b=1.n1, c1#1 write 0=1)",
            "c2 -> n2  Request(c2#1 read 0)",
            "n2 -> n1  Forward(c2#1 read 0)",
            "n2 times out",
            "n2 -> n1  Prepare(b=2.n2, slots 0..)",
            "n1 -> n2  CatchUpReply([slot 1: c2#1 read 0])",
        ]
    );
}

#[test]
fn an_answer_before_the_command_is_chosen_acknowledges_an_unchosen_write() {
    // n1 takes over after a timeout, and its promise from n2 makes it leader: it proposes c1's
    // write, accepts it itself, and under the flaw answers c1 at once, while only n1 has
    // accepted the write (a majority is two).
    let steps = assert_caught(
        Flaw::AcknowledgeBeforeChosen,
        "no acknowledged write lost",
        6,
        604,
    );
    // The answer leaves n1 in the last step: the trace shows it under that step, and the story
    // says it in the step that broke the property.
    let found = examined(Flaw::AcknowledgeBeforeChosen)
        .counterexample
        .expect("caught");
    assert_eq!(
        found.trace[5].notes,
        [
            "n1 accepts slot 0: c1#1 write 0=1 at 2.n1",
            "n1 answers c1: Reply(c1#1: ok), though c1#1 is not chosen",
        ]
    );
    assert!(
        found.story[0].starts_with(
            "step 6: n2 -> n1  Promise(b=2.n1, accepted none) — n1 accepts slot 0: c1#1 write \
             0=1 at 2.n1, n1 answers c1: Reply(c1#1: ok), though c1#1 is not chosen — \
             \"no acknowledged write lost\" is broken"
        ),
        "{:#?}",
        found.story
    );
    assert_eq!(
        steps,
        [
            "c2 -> n2  Request(c2#1 read 0)",
            "n2 -> n1  Prepare(b=1.n2, slots 0..)",
            "c1 -> n1  Request(c1#1 write 0=1)",
            "n1 times out",
            "n1 -> n2  Prepare(b=2.n1, slots 0..)",
            "n2 -> n1  Promise(b=2.n1, accepted none)",
        ]
    );
}

#[test]
fn a_forward_under_a_new_id_puts_a_command_no_client_sent_in_the_log() {
    let steps = assert_caught(Flaw::ForwardRenamesRequest, "validity", 5, 114);
    assert_eq!(
        steps,
        [
            "c1 -> n1  Request(c1#1 write 0=1)",
            "n1 -> n2  Prepare(b=1.n1, slots 0..)",
            "n2 -> n1  Promise(b=1.n1, accepted none)",
            "c2 -> n2  Request(c2#1 read 0)",
            "n2 -> n1  Forward(via-n2#1 read 0)",
        ]
    );
}

#[test]
fn a_replica_that_lost_its_disk_and_votes_at_once_breaks_a_promise_it_forgot() {
    // n3 promised n1's ballot, then n2's higher one, and lost its disk with both promises
    // counted. Under the flaw it votes at once, as if the cluster were new: n1's Accept at the
    // lower ballot, still in flight, is accepted, and the write is chosen where n2, which
    // counted n3's promise, will propose the read. (23,984 states and another 9-step story,
    // with n2 proposing over the chosen write, before refused Accepts stayed home and requests
    // a replica may not answer yet were kept; 26,046 before the stale cut kept catch-ups.)
    let steps = assert_caught(Flaw::LostDiskVotes, "immutability", 9, 26_788);
    assert_eq!(
        steps,
        [
            "c1 -> n1  Request(c1#1 write 0=1)",
            "n1 -> n3  Prepare(b=1.n1, slots 0..)",
            "n3 -> n1  Promise(b=1.n1, accepted none)",
            "c2 -> n2  Request(c2#1 read 0)",
            "n2 -> n3  Prepare(b=1.n2, slots 0..)",
            "n3 -> n2  Promise(b=1.n2, accepted none)",
            "n3 crashes and loses its disk",
            "n3 recovers from what it persisted",
            "n1 -> n3  Accept(slot 0, b=1.n1, c1#1 write 0=1)",
        ]
    );
}

#[test]
fn a_replica_that_rejoins_after_a_majority_breaks_a_promise_still_in_flight() {
    // The story of `Replica::on_probe_reply`. n2 promised n1's ballot and then n3's, and lost
    // its disk; n3 counted the promise, leads, and has accepted its cas at 1.n3. n2 asks n1
    // only, which knows nothing above its own ballot: with itself a majority, under the flaw n2
    // votes with that floor and takes n1's Accept (kept while it probed), and the write is
    // chosen with n1 at 1.n1, below the cas n3 accepted at the ballot n2 promised and forgot.
    // (328,200 states and 12 steps to `slot agreement`, n3's Accept taken too, before the
    // catalogue named the first property broken.)
    // 141,973 before the stale cut kept catch-up requests and answers.
    let steps = assert_caught(Flaw::RejoinAfterMajority, "immutability", 11, 140_983);
    assert_eq!(
        steps,
        [
            "c1 -> n1  Request(c1#1 write 0=1)",
            "n1 -> n2  Prepare(b=1.n1, slots 0..)",
            "n2 -> n1  Promise(b=1.n1, accepted none)",
            "c3 -> n3  Request(c3#1 cas 0 1->21)",
            "n3 -> n2  Prepare(b=1.n3, slots 0..)",
            "n2 -> n3  Promise(b=1.n3, accepted none)",
            "n2 crashes and loses its disk",
            "n2 recovers from what it persisted",
            "n1 -> n2  Accept(slot 0, b=1.n1, c1#1 write 0=1)",
            "n2 -> n1  Probe(1)",
            "n1 -> n2  ProbeReply(1, promised 1.n1, slots to 0)",
        ]
    );
    let found = examined(Flaw::RejoinAfterMajority)
        .counterexample
        .expect("caught");
    assert_eq!(
        (&found.trace[5].notes, &found.trace[10].notes),
        (
            &vec!["n3 accepts slot 0: c3#1 cas 0 1->21 at 1.n3".to_owned()],
            &vec![
                "n2 accepts slot 0: c1#1 write 0=1 at 1.n1".to_owned(),
                "slot 0: c1#1 write 0=1 chosen at 1.n1 by n1, n2".to_owned(),
            ]
        )
    );
}

#[test]
fn a_replica_that_rejoins_without_its_slot_floor_hides_an_acceptance_it_forgot() {
    // n3 accepted the write, chosen with n1, and lost its disk. It asks both others and takes
    // their ballot floor, but under the flaw not the slot floor: it promises n2's Phase 1 from
    // slot 0 at once, reporting nothing there, and n2, with its own promise, may now propose
    // the read in slot 0.
    // 119,220 before the stale cut kept catch-up requests and answers.
    let steps = assert_caught(Flaw::RejoinIgnoresSlotFloor, "immutability", 14, 120_638);
    assert_eq!(
        steps,
        [
            "c1 -> n1  Request(c1#1 write 0=1)",
            "n1 -> n3  Prepare(b=1.n1, slots 0..)",
            "n3 -> n1  Promise(b=1.n1, accepted none)",
            "n1 -> n3  Accept(slot 0, b=1.n1, c1#1 write 0=1)",
            "n3 -> n1  Accepted(slot 0, b=1.n1, c1#1 write 0=1)",
            "c2 -> n2  Request(c2#1 read 0)",
            "n3 crashes and loses its disk",
            "n3 recovers from what it persisted",
            "n2 -> n3  Prepare(b=1.n2, slots 0..)",
            "n3 -> n1  Probe(1)",
            "n1 -> n3  ProbeReply(1, promised 1.n1, slots to 0)",
            "n3 -> n2  Probe(1)",
            "n2 -> n3  ProbeReply(1, promised 1.n2, no slot)",
            "n3 -> n2  Promise(b=1.n2, accepted none)",
        ]
    );
}
