//! What the pinned model tests share: exhaustive checks by the search engine, breadth-first
//! and depth-first, which must agree on the state space, and shortest traces.

#![allow(dead_code)]

use paxos_model::check::checkable::{describe_path, Checkable};
use paxos_model::check::engine::{explore, Exploration, Goal, SearchOptions, Strategy};

/// An exhaustive search of `model` (every property decided or the space exhausted).
pub fn exhaust<M: Checkable>(model: &M, strategy: Strategy, threads: usize) -> Exploration<M> {
    let options = SearchOptions {
        strategy,
        threads,
        goal: Goal::EveryProperty,
        ..SearchOptions::default()
    };
    explore(model, &options, &|_| {})
}

/// (property, discovered?) for every property, in the model's order.
pub fn verdicts<M: Checkable>(
    model: &M,
    exploration: &Exploration<M>,
) -> Vec<(&'static str, bool)> {
    model
        .properties()
        .iter()
        .zip(&exploration.discoveries)
        .map(|(property, found)| (property.name, found.is_some()))
        .collect()
}

/// Checks `model` to the end breadth-first and depth-first, on `threads` threads each: both must
/// finish, see the same number of distinct states and reach the same verdicts.
pub fn check_both<M: Checkable>(model: &M, threads: usize) -> (usize, Vec<(&'static str, bool)>) {
    let bfs = exhaust(model, Strategy::BreadthFirst, threads);
    let dfs = exhaust(model, Strategy::DepthFirst, threads);
    assert!(
        bfs.stopped_by.is_none() && dfs.stopped_by.is_none(),
        "a complete run: {:?} {:?}",
        bfs.stopped_by,
        dfs.stopped_by
    );
    assert_eq!(
        bfs.unique_states, dfs.unique_states,
        "BFS and DFS see one state space"
    );
    assert_eq!(verdicts(model, &bfs), verdicts(model, &dfs));
    (bfs.unique_states, verdicts(model, &bfs))
}

/// The shortest path to a discovery of `name`, in the model's words.
pub fn shortest_trace<M: Checkable>(model: &M, name: &'static str) -> Vec<String> {
    let options = SearchOptions {
        goal: Goal::AnyOf(vec![name]),
        ..SearchOptions::default()
    };
    let exploration = explore(model, &options, &|_| {});
    let found = exploration
        .discovery(model, name)
        .unwrap_or_else(|| panic!("no discovery of {name:?}"));
    assert!(found.shortest);
    describe_path(model, &found.path)
}
