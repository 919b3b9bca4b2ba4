//! Pinned results of exhaustively checking Multi-Paxos in a configuration small enough for the
//! default suite (two acceptors: every quorum is both). The default configuration (three
//! acceptors) does not yet finish in a minute; see the README.

use paxos_model::multi_model::{multi_paxos_model, MultiPaxosConfig, MultiPaxosModel};
use paxos_model::search::shortest_discovery;
use paxos_model::Flaw;
use stateright::{Checker, Model};

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

fn two_acceptors(flaw: Flaw) -> MultiPaxosConfig {
    MultiPaxosConfig {
        acceptors: 2,
        flaw,
        ..MultiPaxosConfig::default()
    }
}

#[test]
fn two_acceptors_two_leaders_two_slots_is_safe() {
    let model = multi_paxos_model(two_acceptors(Flaw::None));
    let bfs = multi_paxos_model(two_acceptors(Flaw::None))
        .checker()
        .spawn_bfs()
        .join();
    let dfs = multi_paxos_model(two_acceptors(Flaw::None))
        .checker()
        .spawn_dfs()
        .join();
    assert_eq!(bfs.unique_state_count(), 2_063);
    assert_eq!(dfs.unique_state_count(), 2_063);
    let expected = [
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
    assert_eq!(discoveries(&model, &bfs), expected);
    assert_eq!(discoveries(&model, &dfs), expected);
}

#[test]
fn shortest_phase1_skip_is_the_second_slot_of_the_first_leader() {
    let model = multi_paxos_model(two_acceptors(Flaw::None));
    let property = model
        .properties()
        .into_iter()
        .find(|p| p.name == "phase 1 skipped")
        .expect("property");
    let path = shortest_discovery(&model, &property, 64, usize::MAX).expect("a path");
    let steps: Vec<String> = path
        .into_actions()
        .iter()
        .map(|action| model.format_action(action))
        .collect();
    assert_eq!(
        steps,
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
fn a_new_leader_that_skips_phase1_overwrites_a_chosen_slot() {
    let model = multi_paxos_model(two_acceptors(Flaw::NewLeaderSkipsPhase1));
    let checker = multi_paxos_model(two_acceptors(Flaw::NewLeaderSkipsPhase1))
        .checker()
        .spawn_bfs()
        .join();
    let found = discoveries(&model, &checker);
    assert!(found.contains(&("slot agreement", true)), "{found:?}");
    assert!(found.contains(&("immutability", true)), "{found:?}");
}
