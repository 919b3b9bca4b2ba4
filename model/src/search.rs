//! Shortest discoveries.
//!
//! stateright's checkers keep, for each property, the path to the last state that discovered
//! it, not the first; even a single-threaded BFS can therefore report a long path where a short
//! one exists. A student reads a counterexample step by step, so the reports replace each
//! discovery with a shortest one, found by this breadth-first search bounded by the length of
//! the path stateright found (so it never explores deeper than the run already did).

use stateright::{Expectation, Model, Path, Property};
use std::collections::hash_map::{DefaultHasher, Entry};
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

fn fingerprint<T: Hash>(value: &T) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// A shortest path from an initial state to a discovery of `property`, among paths of at most
/// `steps_max` steps: a state that violates an `always` property, a state that satisfies a
/// `sometimes` property, or a terminal state reached without ever satisfying an `eventually`
/// property. `None` if there is no such path within the bound, or if finding it would take
/// visiting more than `states_max` states (the caller then keeps the path it has).
pub fn shortest_discovery<M>(
    model: &M,
    property: &Property<M>,
    steps_max: usize,
    states_max: usize,
) -> Option<Path<M::State, M::Action>>
where
    M: Model,
    M::State: Hash + Clone + PartialEq,
    M::Action: Clone + PartialEq,
{
    search(model, property, steps_max, states_max).path
}

/// What a breadth-first search for a discovery found, and how many distinct states it had
/// discovered (expanded or queued) by then.
pub struct Search<M: Model> {
    pub path: Option<Path<M::State, M::Action>>,
    pub states_discovered: usize,
}

/// `shortest_discovery`, also counting the distinct states it discovered on the way.
pub fn search<M>(
    model: &M,
    property: &Property<M>,
    steps_max: usize,
    states_max: usize,
) -> Search<M>
where
    M: Model,
    M::State: Hash + Clone + PartialEq,
    M::Action: Clone + PartialEq,
{
    let found = |path, parents: &HashMap<u64, Option<(u64, usize)>>| Search {
        path,
        states_discovered: parents.len(),
    };
    let condition = property.condition;
    let is_discovery = |state: &M::State, terminal: bool| match property.expectation {
        Expectation::Always => !condition(model, state),
        Expectation::Sometimes => condition(model, state),
        Expectation::Eventually => terminal && !condition(model, state),
    };
    // An eventually-property that held on the way is no counterexample: don't search past it.
    let prunes = |state: &M::State| {
        property.expectation == Expectation::Eventually && condition(model, state)
    };

    // Parent fingerprint and the index of the action (in `actions` order) that led here.
    let mut parents: HashMap<u64, Option<(u64, usize)>> = HashMap::new();
    let mut queue: VecDeque<(M::State, u64, usize)> = VecDeque::new();
    let init_states = model.init_states();
    for state in &init_states {
        let print = fingerprint(state);
        if parents.insert(print, None).is_none() {
            queue.push_back((state.clone(), print, 0));
        }
    }
    let mut actions = Vec::new();
    while let Some((state, print, depth)) = queue.pop_front() {
        let successors = if prunes(&state) {
            Vec::new()
        } else {
            successors(model, &state, &mut actions)
        };
        let terminal = !prunes(&state) && successors.is_empty();
        if is_discovery(&state, terminal) {
            let path = rebuild(model, &init_states, &parents, print);
            return found(Some(path), &parents);
        }
        if prunes(&state) || depth >= steps_max {
            continue;
        }
        if parents.len() > states_max {
            return found(None, &parents);
        }
        for (action_index, next) in successors {
            let next_print = fingerprint(&next);
            if let Entry::Vacant(entry) = parents.entry(next_print) {
                entry.insert(Some((print, action_index)));
                queue.push_back((next, next_print, depth + 1));
            }
        }
    }
    found(None, &parents)
}

fn successors<M: Model>(
    model: &M,
    state: &M::State,
    actions: &mut Vec<M::Action>,
) -> Vec<(usize, M::State)> {
    actions.clear();
    model.actions(state, actions);
    actions
        .drain(..)
        .enumerate()
        .filter_map(|(index, action)| {
            let next = model.next_state(state, action)?;
            model.within_boundary(&next).then_some((index, next))
        })
        .collect()
}

/// Replays the recorded action indices from the initial state to rebuild the path.
fn rebuild<M>(
    model: &M,
    init_states: &[M::State],
    parents: &HashMap<u64, Option<(u64, usize)>>,
    target: u64,
) -> Path<M::State, M::Action>
where
    M: Model,
    M::State: Hash + Clone + PartialEq,
    M::Action: Clone + PartialEq,
{
    let mut indices = Vec::new();
    let mut cursor = target;
    while let Some(Some((parent, action_index))) = parents.get(&cursor) {
        indices.push(*action_index);
        cursor = *parent;
    }
    indices.reverse();
    let init = init_states
        .iter()
        .find(|state| fingerprint(*state) == cursor)
        .expect("the path starts at an initial state");
    let mut state = init.clone();
    let mut actions = Vec::with_capacity(indices.len());
    let mut available = Vec::new();
    for index in indices {
        available.clear();
        model.actions(&state, &mut available);
        let action = available.swap_remove(index);
        state = model
            .next_state(&state, action.clone())
            .expect("a recorded step is a real step");
        actions.push(action);
    }
    Path::from_actions(model, init.clone(), &actions)
        .expect("a replayed path is a path of the model")
}

/// A path as its steps in the protocol's words (the model's `format_action`).
pub fn describe_path<M>(model: &M, path: &Path<M::State, M::Action>) -> Vec<String>
where
    M: Model,
    M::State: Clone,
    M::Action: Clone + std::fmt::Debug,
{
    path.clone()
        .into_actions()
        .iter()
        .map(|action| model.format_action(action))
        .collect()
}
