//! Pinned results of exhaustively checking Multi-Paxos. Any change to the protocol core or the
//! model that changes the state space shows up here, in review, as a changed number.
//!
//! Counts are of distinct states up to a renaming of acceptors. Phase 1 run again after a
//! preemption (two ballots per leader) is pinned in the long suite:
//! `cargo test --release -p paxos-model --test multi_paxos_model -- --ignored`.

mod support;

use paxos_model::check::engine::Strategy;
use paxos_model::check::paxos::{multi_paxos_model, MultiPaxosConfig};
use paxos_model::check::settings::Faults;
use paxos_model::Flaw;
use support::{check_both, exhaust, shortest_trace, verdicts};

/// Every property of the two-leader, two-slot model holds: no safety property is violated and
/// every example is found. Liveness is not promised with two leaders (a preempted leader with no
/// ballot left gives up), and its counterexample is found.
const SAFE_AND_EVERY_EXAMPLE: [(&str, bool); 9] = [
    ("slot agreement", false),
    ("validity", false),
    ("immutability", false),
    ("logs agree", false),
    ("phase 1 skipped", true),
    ("leader change", true),
    ("all slots chosen", true),
    (
        "a new leader adopts a value it learned from a promise",
        true,
    ),
    ("every slot eventually chosen", true),
];

#[test]
fn default_configuration_is_safe_and_shows_every_example() {
    // 3 acceptors, 2 leaders with one ballot each, 2 slots, a reliable unordered network.
    let model = multi_paxos_model(MultiPaxosConfig::default());
    let (unique, found) = check_both(&model, 1);
    assert_eq!(unique, 13_456);
    assert_eq!(found, SAFE_AND_EVERY_EXAMPLE);
}

#[test]
fn a_lost_message_and_a_crashed_acceptor_break_nothing() {
    // Acceptors recover what they persisted; a loss may strand a slot, never split it.
    let cfg = MultiPaxosConfig {
        faults: Faults {
            losses: 1,
            crashes: 1,
            ..Faults::default()
        },
        ..MultiPaxosConfig::default()
    };
    let (unique, found) = check_both(&multi_paxos_model(cfg), 2);
    assert_eq!(unique, 300_315);
    assert_eq!(found, SAFE_AND_EVERY_EXAMPLE);
}

#[test]
fn two_acceptors_are_safe_too() {
    // With two acceptors every quorum is both of them, so thrifty Phase 2 changes nothing.
    let cfg = MultiPaxosConfig {
        acceptors: 2,
        ..MultiPaxosConfig::default()
    };
    let (unique, found) = check_both(&multi_paxos_model(cfg), 1);
    assert_eq!(unique, 1_558);
    assert_eq!(found, SAFE_AND_EVERY_EXAMPLE);
}

#[test]
fn shortest_phase1_skip_is_the_first_leaders_second_slot() {
    // One Phase 1 with a majority serves both slots: slot 1's Accept goes out on the strength of
    // the promises slot 0 collected, to the same two acceptors, and l1 learns B is chosen from
    // their acceptances alone.
    let model = multi_paxos_model(MultiPaxosConfig::default());
    assert_eq!(
        shortest_trace(&model, "phase 1 skipped"),
        [
            "l1 -> a1  Prepare(b=1.l1, slots 0..)",
            "a1 -> l1  Promise(b=1.l1, accepted none)",
            "l1 -> a2  Prepare(b=1.l1, slots 0..)",
            "a2 -> l1  Promise(b=1.l1, accepted none)",
            "l1 -> a1  Accept(slot 0, b=1.l1, A)",
            "a1 -> l1  Accepted(slot 0, b=1.l1, A)",
            "l1 -> a2  Accept(slot 0, b=1.l1, A)",
            "a2 -> l1  Accepted(slot 0, b=1.l1, A)",
            "l1 -> a1  Accept(slot 1, b=1.l1, B)",
            "a1 -> l1  Accepted(slot 1, b=1.l1, B)",
            "l1 -> a2  Accept(slot 1, b=1.l1, B)",
            "a2 -> l1  Accepted(slot 1, b=1.l1, B)",
        ]
    );
}

#[test]
fn shortest_leader_change_finishes_the_old_leaders_half_done_slot() {
    // l1 gets A chosen in slot 0 and starts slot 1 with B, which reaches a1 only. l2's Phase 1
    // hears of B from a1 and, not knowing whether B is chosen, must finish it: slot 1 is chosen
    // at l2's ballot, carrying l1's command. The log moved on under a new leader.
    let model = multi_paxos_model(MultiPaxosConfig::default());
    let trace = shortest_trace(&model, "leader change");
    assert_eq!(
        trace,
        [
            "l1 -> a1  Prepare(b=1.l1, slots 0..)",
            "a1 -> l1  Promise(b=1.l1, accepted none)",
            "l1 -> a2  Prepare(b=1.l1, slots 0..)",
            "a2 -> l1  Promise(b=1.l1, accepted none)",
            "l1 -> a1  Accept(slot 0, b=1.l1, A)",
            "a1 -> l1  Accepted(slot 0, b=1.l1, A)",
            "l1 -> a2  Accept(slot 0, b=1.l1, A)",
            "a2 -> l1  Accepted(slot 0, b=1.l1, A)",
            "l1 -> a1  Accept(slot 1, b=1.l1, B)",
            "l2 -> a1  Prepare(b=1.l2, slots 0..)",
            "a1 -> l2  Promise(b=1.l2, accepted [slot 0: (1.l1, A), slot 1: (1.l1, B)])",
            "l2 -> a2  Prepare(b=1.l2, slots 0..)",
            "a2 -> l2  Promise(b=1.l2, accepted [slot 0: (1.l1, A)])",
            "l2 -> a1  Accept(slot 1, b=1.l2, B)",
            "l2 -> a2  Accept(slot 1, b=1.l2, B)",
        ]
    );
}

#[test]
fn a_new_leader_that_skips_phase1_overwrites_a_chosen_slot() {
    let cfg = MultiPaxosConfig {
        flaw: Flaw::NewLeaderSkipsPhase1,
        ..MultiPaxosConfig::default()
    };
    let model = multi_paxos_model(cfg);
    let exploration = exhaust(&model, Strategy::BreadthFirst, 1);
    let found = verdicts(&model, &exploration);
    assert!(found.contains(&("slot agreement", true)), "{found:?}");
    assert!(found.contains(&("immutability", true)), "{found:?}");
}

#[test]
fn one_leader_is_never_preempted_and_fills_the_log() {
    let cfg = MultiPaxosConfig {
        leaders: 1,
        ..MultiPaxosConfig::default()
    };
    let model = multi_paxos_model(cfg);
    let (unique, found) = check_both(&model, 1);
    assert_eq!(unique, 29);
    assert!(
        found.contains(&("every slot eventually chosen", false)),
        "{found:?}"
    );
}

/// Phase 1 run again after a preemption: each leader has two ballots.
#[test]
#[ignore = "long: cargo test --release -p paxos-model --test multi_paxos_model -- --ignored"]
fn a_preempted_leader_runs_phase1_again_safely() {
    let cfg = MultiPaxosConfig {
        rounds: 2,
        ..MultiPaxosConfig::default()
    };
    let model = multi_paxos_model(cfg);
    let exploration = exhaust(&model, Strategy::BreadthFirst, 2);
    assert!(exploration.complete());
    assert_eq!(exploration.unique_states, 8_584_801);
    assert_eq!(verdicts(&model, &exploration), SAFE_AND_EVERY_EXAMPLE);
}
