//! Pinned results of exhaustively checking single-decree Paxos. Any change to the protocol core
//! or the model that changes the state space shows up here, in review, as a changed number.
//!
//! Counts are of distinct states up to a renaming of acceptors (the default symmetry), unless a
//! test says otherwise. The configurations where Paxos gets interesting (a retry, three
//! proposers, five acceptors) are pinned in the long suite:
//! `cargo test --release -p paxos-model --test single_decree_model -- --ignored`.

mod support;

use paxos_model::check::cuts::{Cut, Reductions};
use paxos_model::check::engine::Strategy;
use paxos_model::check::paxos::{single_decree_model, SingleDecreeConfig};
use paxos_model::check::settings::{Faults, NetworkKind};
use support::{check_both, exhaust, shortest_trace, verdicts};

const EVERY_PROPERTY_AS_PAXOS_PROMISES: [(&str, bool); 8] = [
    ("agreement", false),
    ("validity", false),
    ("immutability", false),
    ("learners agree", false),
    ("value chosen", true),
    ("two proposers hold majority promises at once", true),
    ("a later ballot re-proposes the chosen value", true),
    ("value eventually chosen", false),
];

#[test]
fn default_configuration_is_safe_and_live() {
    let model = single_decree_model(SingleDecreeConfig::default());
    let (unique, found) = check_both(&model, 1);
    assert_eq!(unique, 2_367);
    assert_eq!(found, EVERY_PROPERTY_AS_PAXOS_PROMISES);
}

#[test]
fn symmetry_merges_states_but_changes_no_verdict() {
    // Every state, not one per renaming of acceptors: the same verdicts, 5.7 times the states
    // (3! = 6 renamings at most; a state where acceptors look alike has fewer).
    let cfg = SingleDecreeConfig {
        reductions: Reductions::ALL.with(Cut::Symmetry, false),
        ..SingleDecreeConfig::default()
    };
    let model = single_decree_model(cfg);
    let (unique, found) = check_both(&model, 2);
    assert_eq!(unique, 13_422);
    assert_eq!(found, EVERY_PROPERTY_AS_PAXOS_PROMISES);
}

#[test]
fn shortest_way_to_a_chosen_value_is_one_proposer_and_a_majority() {
    // Phase 1 with two of three acceptors, then Phase 2 with the same two: six deliveries, and
    // the value is chosen the moment the second acceptance is made, before anyone hears of it.
    let model = single_decree_model(SingleDecreeConfig::default());
    assert_eq!(
        shortest_trace(&model, "value chosen"),
        [
            "p1 -> a1  Prepare(b=1.p1)",
            "a1 -> p1  Promise(b=1.p1, accepted none)",
            "p1 -> a2  Prepare(b=1.p1)",
            "a2 -> p1  Promise(b=1.p1, accepted none)",
            "p1 -> a1  Accept(b=1.p1, A)",
            "p1 -> a2  Accept(b=1.p1, A)",
        ]
    );
}

#[test]
fn a_higher_ballot_rediscovers_the_chosen_value() {
    // After (1.p1, A) is chosen by two acceptors, p2's ballot 1.p2 hears of it from a promise
    // and proposes A again: Lamport's P2c at work.
    let model = single_decree_model(SingleDecreeConfig::default());
    let trace = shortest_trace(&model, "a later ballot re-proposes the chosen value");
    assert_eq!(trace.len(), 11, "{trace:#?}");
    assert!(
        trace
            .iter()
            .any(|step| step.contains("Promise(b=1.p2, accepted (1.p1, A))")),
        "{trace:#?}"
    );
    assert!(
        trace.last().unwrap().ends_with("Accept(b=1.p2, A)"),
        "{trace:#?}"
    );
}

#[test]
fn a_crashing_acceptor_recovers_its_promises_and_keeps_safety() {
    let cfg = SingleDecreeConfig {
        faults: Faults {
            crashes: 1,
            ..Faults::default()
        },
        ..SingleDecreeConfig::default()
    };
    let model = single_decree_model(cfg);
    let (unique, found) = check_both(&model, 2);
    assert_eq!(unique, 9_400);
    assert_eq!(found, EVERY_PROPERTY_AS_PAXOS_PROMISES);
}

#[test]
fn duplicating_network_with_a_loss_and_a_crash_keeps_safety_but_not_liveness() {
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
    let model = single_decree_model(cfg);
    let (unique, found) = check_both(&model, 2);
    assert_eq!(unique, 6_289);
    assert_eq!(
        found,
        [
            ("agreement", false),
            ("validity", false),
            ("immutability", false),
            ("learners agree", false),
            ("value chosen", true),
            ("a later ballot re-proposes the chosen value", true),
            ("value eventually chosen", true),
        ]
    );
    // Phase 2 goes only to the two acceptors whose promises formed the quorum; one lost Accept
    // leaves the ballot a vote short, and a proposer whose timer fired early has no ballot left.
    let trace = shortest_trace(&model, "value eventually chosen");
    assert_eq!(
        trace,
        [
            "p1 times out",
            "p1 -> a1  Prepare(b=2.p1)",
            "a1 -> p1  Promise(b=2.p1, accepted none)",
            "p1 -> a2  Prepare(b=2.p1)",
            "a2 -> p1  Promise(b=2.p1, accepted none)",
            "p1 -> a1  Accept(b=2.p1, A)  (lost)",
            "p1 -> a2  Accept(b=2.p1, A)",
            "a2 -> p1  Accepted(b=2.p1, A)",
            "p1 -> a3  Prepare(b=2.p1)",
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
    let model = single_decree_model(cfg);
    let exploration = exhaust(&model, Strategy::BreadthFirst, 2);
    assert!(exploration.complete());
    assert_eq!(exploration.unique_states, 22_888);
    let discovered: Vec<&str> = verdicts(&model, &exploration)
        .into_iter()
        .filter(|(_, found)| *found)
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        discovered,
        [
            "value chosen",
            "two proposers hold majority promises at once",
            "a later ballot re-proposes the chosen value",
            "value eventually chosen"
        ]
    );
    // The shortest story: each proposer's prepares reach only one acceptor, because one of the
    // other two prepares of each ballot is lost; with one ballot each, nobody proceeds.
    let trace = shortest_trace(&model, "value eventually chosen");
    assert_eq!(
        trace.iter().filter(|step| step.ends_with("(lost)")).count(),
        2,
        "{trace:#?}"
    );
}

/// The reach targets of issue 11: exhaustive in seconds now, so they run in the default suite
/// (their times are figures for `docs/numbers.md` and the benchmark, not asserted here).
mod reach {
    use super::*;

    fn exhaustive(cfg: SingleDecreeConfig) -> (usize, Vec<(&'static str, bool)>) {
        let model = single_decree_model(cfg);
        let exploration = exhaust(&model, Strategy::BreadthFirst, 2);
        assert!(exploration.complete(), "{:?}", exploration.stopped_by);
        (exploration.unique_states, verdicts(&model, &exploration))
    }

    #[test]
    fn any_retry_two_ballots_each() {
        let (unique, found) = exhaustive(SingleDecreeConfig {
            rounds: 2,
            ..SingleDecreeConfig::default()
        });
        assert_eq!(unique, 141_994);
        assert_eq!(found, EVERY_PROPERTY_AS_PAXOS_PROMISES);
    }

    #[test]
    fn three_proposers() {
        let (unique, found) = exhaustive(SingleDecreeConfig {
            proposers: 3,
            ..SingleDecreeConfig::default()
        });
        assert_eq!(unique, 724_974);
        assert_eq!(found, EVERY_PROPERTY_AS_PAXOS_PROMISES);
    }

    /// The partial-order reduction (`--reduce all,por`) on the same: a third fewer states, the
    /// same verdicts (debug builds check each reduced step against every property too).
    #[test]
    fn three_proposers_with_the_partial_order_reduction() {
        let (unique, found) = exhaustive(SingleDecreeConfig {
            proposers: 3,
            reductions: Reductions::parse("all,por").expect("a list of cuts"),
            ..SingleDecreeConfig::default()
        });
        assert_eq!(unique, 487_385);
        assert_eq!(found, EVERY_PROPERTY_AS_PAXOS_PROMISES);
    }

    #[test]
    fn five_acceptors() {
        let (unique, found) = exhaustive(SingleDecreeConfig {
            acceptors: 5,
            ..SingleDecreeConfig::default()
        });
        assert_eq!(unique, 71_952);
        assert_eq!(found, EVERY_PROPERTY_AS_PAXOS_PROMISES);
    }
}
