//! Pinned results of exhaustively checking single-decree Paxos. Any change to the protocol core
//! or the model that changes the state space shows up here, in review, as a changed number.

use paxos_model::search::shortest_discovery;
use paxos_model::single_model::{single_decree_model, SingleDecreeConfig, SingleDecreeModel};
use paxos_model::system::{Faults, NetworkKind};
use stateright::{Checker, Model};

/// (property, discovered?) for every property, in the model's order.
fn discoveries(
    model: &SingleDecreeModel,
    checker: &impl Checker<SingleDecreeModel>,
) -> Vec<(&'static str, bool)> {
    model
        .properties()
        .iter()
        .map(|property| (property.name, checker.discovery(property.name).is_some()))
        .collect()
}

fn shortest_trace(model: &SingleDecreeModel, name: &str) -> Vec<String> {
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

/// Checks `cfg` with BFS and DFS on one thread each; both must explore the same unique states.
fn check_both(cfg: SingleDecreeConfig) -> (usize, Vec<(&'static str, bool)>) {
    let model = single_decree_model(cfg.clone());
    let bfs = single_decree_model(cfg.clone())
        .checker()
        .spawn_bfs()
        .join();
    let dfs = single_decree_model(cfg).checker().spawn_dfs().join();
    assert_eq!(
        bfs.unique_state_count(),
        dfs.unique_state_count(),
        "BFS and DFS see one state space"
    );
    assert_eq!(discoveries(&model, &bfs), discoveries(&model, &dfs));
    (bfs.unique_state_count(), discoveries(&model, &bfs))
}

#[test]
fn default_configuration_is_safe_and_live() {
    let (unique, found) = check_both(SingleDecreeConfig::default());
    assert_eq!(unique, 62_907);
    assert_eq!(
        found,
        [
            ("agreement", false),
            ("validity", false),
            ("immutability", false),
            ("learners agree", false),
            ("value chosen", true),
            ("two proposers hold majority promises at once", true),
            ("a later ballot re-proposes the chosen value", true),
            ("value eventually chosen", false),
        ]
    );
}

#[test]
fn shortest_way_to_a_chosen_value_is_one_proposer_and_a_majority() {
    // Phase 1 with two of three acceptors, then Phase 2 with the same two: six deliveries, and
    // the value is chosen the moment the second acceptance is made, before anyone hears of it.
    let model = single_decree_model(SingleDecreeConfig::default());
    assert_eq!(
        shortest_trace(&model, "value chosen"),
        [
            "p1 -> a1  Prepare(ballot 1.p1)",
            "a1 -> p1  Promise(ballot 1.p1, accepted none)",
            "p1 -> a2  Prepare(ballot 1.p1)",
            "a2 -> p1  Promise(ballot 1.p1, accepted none)",
            "p1 -> a1  Accept(1.p1, A)",
            "p1 -> a2  Accept(1.p1, A)",
        ]
    );
}

#[test]
fn a_higher_ballot_rediscovers_the_chosen_value() {
    // After (1.p1, A) is chosen by a1 and a2, p2's ballot 1.p2 hears of it from a2's promise
    // and proposes A again: Lamport's P2c at work.
    let model = single_decree_model(SingleDecreeConfig::default());
    let trace = shortest_trace(&model, "a later ballot re-proposes the chosen value");
    assert_eq!(trace.len(), 11, "{trace:#?}");
    assert!(
        trace
            .iter()
            .any(|step| step.contains("Promise(ballot 1.p2, accepted (1.p1, A))")),
        "{trace:#?}"
    );
    assert!(
        trace.last().unwrap().ends_with("Accept(1.p2, A)"),
        "{trace:#?}"
    );
}

#[test]
fn duplicating_network_with_a_loss_and_a_crash_keeps_safety_and_liveness() {
    // One proposer with two ballots: it retries on its timer, since a message may be lost.
    let cfg = SingleDecreeConfig {
        proposers: 1,
        rounds: 2,
        faults: Faults {
            network: NetworkKind::Duplicating,
            losses: 1,
            crashes: 1,
        },
        ..SingleDecreeConfig::default()
    };
    let (unique, found) = check_both(cfg);
    assert_eq!(unique, 541_740);
    // Liveness survives one lost message: two of the three acceptors still hear every ballot,
    // and a crashed acceptor always may recover with what it persisted.
    assert_eq!(
        found,
        [
            ("agreement", false),
            ("validity", false),
            ("immutability", false),
            ("learners agree", false),
            ("value chosen", true),
            ("a later ballot re-proposes the chosen value", true),
            ("value eventually chosen", false),
        ]
    );
}

#[test]
fn two_lost_messages_can_stop_progress_but_never_safety() {
    let cfg = SingleDecreeConfig {
        faults: Faults {
            losses: 2,
            ..Faults::default()
        },
        ..SingleDecreeConfig::default()
    };
    let model = single_decree_model(cfg.clone());
    let checker = single_decree_model(cfg.clone())
        .checker()
        .spawn_bfs()
        .join();
    assert_eq!(checker.unique_state_count(), 807_014);
    let violated: Vec<&str> = discoveries(&model, &checker)
        .into_iter()
        .filter(|(_, found)| *found)
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        violated,
        [
            "value chosen",
            "two proposers hold majority promises at once",
            "a later ballot re-proposes the chosen value",
            "value eventually chosen"
        ]
    );
    // The shortest story: both proposers' prepares reach only one acceptor each, because one
    // of the other two prepares of each ballot is lost; with one ballot each, nobody proceeds.
    let trace = shortest_trace(&model, "value eventually chosen");
    assert_eq!(
        trace.iter().filter(|step| step.ends_with("(lost)")).count(),
        2,
        "{trace:#?}"
    );
}
