//! Pinned results of exhaustively checking Multi-Paxos. Any change to the protocol core or the
//! model that changes the state space shows up here, in review, as a changed number.

use paxos_model::multi_model::{multi_paxos_model, MultiPaxosConfig, MultiPaxosModel};
use paxos_model::search::shortest_discovery;
use paxos_model::system::Faults;
use paxos_model::Flaw;
use stateright::{Checker, Model};

/// (property, discovered?) for every property, in the model's order.
fn discoveries(
    model: &MultiPaxosModel,
    checker: &impl Checker<MultiPaxosModel>,
) -> Vec<(&'static str, bool)> {
    model
        .properties()
        .iter()
        .map(|property| (property.name, checker.discovery(property.name).is_some()))
        .collect()
}

/// Checks `cfg` with BFS and DFS on `threads` threads each; both must explore the same unique
/// states and reach the same verdicts.
fn check_both(cfg: MultiPaxosConfig, threads: usize) -> (usize, Vec<(&'static str, bool)>) {
    let model = multi_paxos_model(cfg.clone());
    let bfs = multi_paxos_model(cfg.clone())
        .checker()
        .threads(threads)
        .spawn_bfs()
        .join();
    let dfs = multi_paxos_model(cfg)
        .checker()
        .threads(threads)
        .spawn_dfs()
        .join();
    assert!(bfs.is_done() && dfs.is_done());
    assert_eq!(
        bfs.unique_state_count(),
        dfs.unique_state_count(),
        "BFS and DFS see one state space"
    );
    assert_eq!(discoveries(&model, &bfs), discoveries(&model, &dfs));
    (bfs.unique_state_count(), discoveries(&model, &bfs))
}

fn shortest_trace(model: &MultiPaxosModel, name: &str) -> Vec<String> {
    let property = model
        .properties()
        .into_iter()
        .find(|property| property.name == name)
        .expect("a property");
    let path = shortest_discovery(model, &property, 64, usize::MAX).expect("a discovery");
    path.into_actions()
        .iter()
        .map(|action| model.format_action(action))
        .collect()
}

/// Every property of the two-leader, two-slot model holds: no safety property is violated and
/// every example is found.
const SAFE_AND_EVERY_EXAMPLE: [(&str, bool); 8] = [
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
];

#[test]
fn default_configuration_is_safe_and_shows_every_example() {
    // 3 acceptors, 2 leaders with one ballot each, 2 slots, a reliable unordered network.
    let (unique, found) = check_both(MultiPaxosConfig::default(), 1);
    assert_eq!(unique, 69_603);
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
    let (unique, found) = check_both(cfg, 2);
    assert_eq!(unique, 1_479_136);
    assert_eq!(found, SAFE_AND_EVERY_EXAMPLE);
}

#[test]
fn two_acceptors_are_safe_too() {
    // With two acceptors every quorum is both of them, so thrifty Phase 2 changes nothing.
    let cfg = MultiPaxosConfig {
        acceptors: 2,
        ..MultiPaxosConfig::default()
    };
    let (unique, found) = check_both(cfg, 1);
    assert_eq!(unique, 2_063);
    assert_eq!(found, SAFE_AND_EVERY_EXAMPLE);
}

#[test]
fn shortest_phase1_skip_is_the_first_leaders_second_slot() {
    // One Phase 1 with a majority serves both slots: slot 1's Accept goes out on the strength of
    // the promises slot 0 collected, to the same two acceptors.
    let model = multi_paxos_model(MultiPaxosConfig::default());
    assert_eq!(
        shortest_trace(&model, "phase 1 skipped"),
        [
            "l1 -> a1  Prepare(ballot 1.p1, slots 0..)",
            "a1 -> l1  Promise(ballot 1.p1, accepted [])",
            "l1 -> a2  Prepare(ballot 1.p1, slots 0..)",
            "a2 -> l1  Promise(ballot 1.p1, accepted [])",
            "l1 -> a1  Accept(slot 0, (1.p1, A))",
            "a1 -> l1  Accepted(slot 0, (1.p1, A))",
            "l1 -> a2  Accept(slot 0, (1.p1, A))",
            "a2 -> l1  Accepted(slot 0, (1.p1, A))",
            "l1 -> a1  Accept(slot 1, (1.p1, B))",
            "l1 -> a2  Accept(slot 1, (1.p1, B))",
        ]
    );
}

#[test]
fn shortest_leader_change_finishes_the_old_leaders_half_done_slot() {
    // l1 gets A chosen in slot 0 and starts slot 1 with B, which reaches a1 only. l2's Phase 1
    // hears of B from a1 and, not knowing whether B is chosen, must finish it: slot 1 is chosen
    // at l2's ballot, carrying l1's command. The log moved on under a new leader.
    let model = multi_paxos_model(MultiPaxosConfig::default());
    assert_eq!(
        shortest_trace(&model, "leader change"),
        [
            "l1 -> a1  Prepare(ballot 1.p1, slots 0..)",
            "a1 -> l1  Promise(ballot 1.p1, accepted [])",
            "l1 -> a2  Prepare(ballot 1.p1, slots 0..)",
            "a2 -> l1  Promise(ballot 1.p1, accepted [])",
            "l1 -> a1  Accept(slot 0, (1.p1, A))",
            "a1 -> l1  Accepted(slot 0, (1.p1, A))",
            "l1 -> a2  Accept(slot 0, (1.p1, A))",
            "a2 -> l1  Accepted(slot 0, (1.p1, A))",
            "l1 -> a1  Accept(slot 1, (1.p1, B))",
            "l2 -> a1  Prepare(ballot 1.p2, slots 0..)",
            "a1 -> l2  Promise(ballot 1.p2, accepted [slot 0: (1.p1, A), slot 1: (1.p1, B)])",
            "l2 -> a2  Prepare(ballot 1.p2, slots 0..)",
            "a2 -> l2  Promise(ballot 1.p2, accepted [slot 0: (1.p1, A)])",
            "l2 -> a1  Accept(slot 1, (1.p2, B))",
            "l2 -> a2  Accept(slot 1, (1.p2, B))",
        ]
    );
}

#[test]
fn a_new_leader_that_skips_phase1_overwrites_a_chosen_slot() {
    let cfg = MultiPaxosConfig {
        flaw: Flaw::NewLeaderSkipsPhase1,
        ..MultiPaxosConfig::default()
    };
    let model = multi_paxos_model(cfg.clone());
    let checker = multi_paxos_model(cfg).checker().spawn_bfs().join();
    let found = discoveries(&model, &checker);
    assert!(found.contains(&("slot agreement", true)), "{found:?}");
    assert!(found.contains(&("immutability", true)), "{found:?}");
}
