//! The breadth-first frontier spilled to disk (`check::frontier`) changes where waiting states
//! live and nothing the search finds: under a frontier budget of no states at all, so that every
//! chunk of every level goes to disk and is read back, each default model gives the counts
//! pinned in its own test file, the same depth and the same verdicts. And what it rests on: every
//! state of a small model, written to bytes and read back, is the state written, with its
//! fingerprint and its class's.

mod support;

use paxos_model::check::checkable::Checkable;
use paxos_model::check::cluster::{cluster_model, ClusterConfig};
use paxos_model::check::engine::{
    explore, fingerprint, Exploration, Goal, Limits, SearchOptions, Strategy,
};
use paxos_model::check::paxos::{
    multi_paxos_model, single_decree_model, MultiPaxosConfig, SingleDecreeConfig,
};
use std::collections::{HashSet, VecDeque};
use support::{exhaust, verdicts};

/// An exhaustive breadth-first search on two threads that spills every chunk it builds.
fn exhaust_spilling<M: Checkable>(model: &M) -> Exploration<M> {
    let options = SearchOptions {
        strategy: Strategy::BreadthFirst,
        threads: 2,
        goal: Goal::EveryProperty,
        limits: Limits {
            frontier_states_max: Some(0),
            ..Limits::default()
        },
        ..SearchOptions::default()
    };
    explore(model, &options, &|_| {})
}

/// Spilling every chunk, `model`'s search finds `unique` states (its pinned count), and the
/// same depth, successors and verdicts as a search that keeps its frontier in memory.
fn spilling_changes_nothing<M: Checkable>(model: &M, unique: usize) {
    let held = exhaust(model, Strategy::BreadthFirst, 2);
    let spilled = exhaust_spilling(model);
    assert!(
        held.complete() && spilled.complete(),
        "{:?}",
        spilled.stopped_by
    );
    assert_eq!(spilled.unique_states, unique);
    assert_eq!(held.unique_states, unique);
    assert_eq!(spilled.states, held.states);
    assert_eq!(spilled.max_depth, held.max_depth);
    assert_eq!(verdicts(model, &spilled), verdicts(model, &held));
    let report = spilled.spilled.expect("a model with a codec spills");
    assert!(
        report.blocks as usize >= spilled.max_depth,
        "at least a block a level: {report:?}"
    );
    assert!(
        report.states as usize >= unique - model.init_states().len(),
        "every state but the initial ones waits on disk: {report:?}"
    );
    assert!(report.disk_bytes < report.encoded_bytes, "{report:?}");
    assert_eq!(held.spilled, None, "no budget, no spill");
}

/// Every state reachable in `model` (at most `max` of them), each written to bytes and read
/// back: equal to itself, with its fingerprint and its class's.
fn every_state_reads_back<M: Checkable>(model: &M, max: usize) -> usize {
    let codec = model.codec().expect("the model has a codec");
    let mut seen = HashSet::new();
    let mut queue: VecDeque<M::State> = model.init_states().into();
    let mut actions = Vec::new();
    let mut bytes = Vec::new();
    while let Some(state) = queue.pop_front() {
        if !seen.insert(fingerprint(&state)) {
            continue;
        }
        bytes.clear();
        (codec.encode)(&state, &mut bytes);
        let decoded = (codec.decode)(&bytes);
        assert_eq!(decoded, state);
        assert_eq!(fingerprint(&decoded), fingerprint(&state), "{state:?}");
        assert_eq!(
            model.class_fingerprint(&decoded),
            model.class_fingerprint(&state),
            "{state:?}"
        );
        if seen.len() == max {
            break;
        }
        actions.clear();
        model.actions(&state, &mut actions);
        for action in actions.drain(..) {
            if let Some(next) = model.next_state(&state, action) {
                if model.within_boundary(&next) {
                    queue.push_back(next);
                }
            }
        }
    }
    seen.len()
}

#[test]
fn single_decree_spilled_finds_what_it_finds_in_memory() {
    spilling_changes_nothing(&single_decree_model(SingleDecreeConfig::default()), 2_367);
}

#[test]
fn multi_paxos_spilled_finds_what_it_finds_in_memory() {
    spilling_changes_nothing(&multi_paxos_model(MultiPaxosConfig::default()), 13_456);
}

#[test]
fn every_single_decree_state_reads_back() {
    // Without symmetry, 13,422 states (the pinned count): every one, not one per class.
    let model = single_decree_model(SingleDecreeConfig::default());
    assert_eq!(every_state_reads_back(&model, usize::MAX), 13_422);
}

#[test]
fn every_multi_paxos_state_reads_back() {
    let model = multi_paxos_model(MultiPaxosConfig::default());
    assert!(every_state_reads_back(&model, usize::MAX) >= 13_456);
}

#[test]
fn cluster_spilled_finds_what_it_finds_in_memory() {
    spilling_changes_nothing(&cluster_model(ClusterConfig::default()), 211_803);
}

#[test]
fn every_cluster_state_reads_back() {
    // The ghost's client history is made again by replaying it (`history_wire`): every state of
    // the default cluster, 211,803 (it has no symmetry), histories with operations in flight,
    // completed, and seen by the other client's invocations among them.
    let model = cluster_model(ClusterConfig::default());
    assert_eq!(every_state_reads_back(&model, usize::MAX), 211_803);
}
