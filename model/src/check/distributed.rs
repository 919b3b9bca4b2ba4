//! One breadth-first check spread over several workers, threads or processes, on timely
//! dataflow: the prototype of `docs/distributed-search.md`, behind the cargo feature
//! `distributed`.
//!
//! Each class fingerprint has one owner, `fingerprint mod workers`, which alone keeps it in its
//! visited set. A level runs in two rounds of the dataflow:
//! 1. every worker expands the states it owns in the level's frontier, checks `eventually` at the
//!    terminal ones, and sends each successor to its owner, with the always- and
//!    sometimes-properties the expander found it to show;
//! 2. every worker tells every other how many new states it kept and which properties it has
//!    discovered, so that all agree on when the search is over (no worker kept a new state).
//!
//! Timely's progress tracking says when a round's messages have all arrived (its probe passes
//! the round's timestamp), which is what makes the search level-synchronous, so that depths are
//! those of the one-process engine. Processes talk over timely's own TCP transport.
//!
//! What travels is not the state but the path that reaches it (the initial state's index, then
//! action indices), replayed by whoever expands it: no state needs an encoding, at the cost of a
//! replay per expansion and of traffic that grows with depth, which is acceptable for a
//! prototype and measured (`Outcome::path_steps_sent`). The property semantics are the engine's
//! (`check::engine`): `always` and `sometimes` judged at discovery, `eventually` at terminal
//! states under the fair reading; the engine's stability check of `eventually` conditions and
//! its counterexample paths are not here.

use crate::check::engine::{Explorable, Fingerprint};
use serde::{Deserialize, Serialize};
use stateright::{Expectation, Property};
use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;
use timely::dataflow::operators::vec::Broadcast;
use timely::dataflow::operators::{Exchange, Input, Inspect, Probe};
use timely::dataflow::{InputHandle, ProbeHandle};
use timely::worker::Worker;

/// A successor on its way to its owner.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Discovered {
    fingerprint: Fingerprint,
    /// The initial state's index in `init_states()`, then the index of each action in
    /// `actions()` of the state before it.
    path: Vec<u32>,
    /// Bit i: property i is discovered in this state (an `always` condition false, a
    /// `sometimes` condition true).
    shows: u64,
}

/// What a worker tells every worker at the end of a level.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Tally {
    /// New states this worker kept for the next level.
    kept: u64,
    /// Bit i: property i discovered by this worker so far.
    discovered: u64,
    /// States in this worker's visited set.
    visited: u64,
    /// Path steps this worker has sent to other workers so far.
    steps_sent: u64,
}

/// What a distributed run found, the same on every worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub workers: usize,
    pub unique_states: u64,
    /// The deepest level that held a new state.
    pub max_depth: usize,
    /// Per property, in `model.properties()` order: discovered (violated, or an example found).
    pub discovered: Vec<bool>,
    /// Successors sent to another worker, and the path steps they carried: the traffic.
    pub path_steps_sent: u64,
}

/// The owner of a class: timely's exchange sends a record to worker `key mod workers`.
fn owner_key(fingerprint: Fingerprint) -> u64 {
    fingerprint as u64
}

/// The state `path` reaches.
fn replay<M: Explorable>(model: &M, path: &[u32]) -> M::State {
    let mut state = model.init_states().swap_remove(path[0] as usize);
    let mut actions = Vec::new();
    for &index in &path[1..] {
        actions.clear();
        model.actions(&state, &mut actions);
        let action = actions.swap_remove(index as usize);
        state = model
            .next_state(&state, action)
            .expect("a path sent by a worker replays");
    }
    state
}

/// Bit i set where property i, of the always and sometimes kinds, is discovered in `state`.
fn shows<M: Explorable>(model: &M, properties: &[Property<M>], state: &M::State) -> u64 {
    let mut bits = 0;
    for (index, property) in properties.iter().enumerate() {
        let discovered = match property.expectation {
            Expectation::Always => !(property.condition)(model, state),
            Expectation::Sometimes => (property.condition)(model, state),
            Expectation::Eventually => false,
        };
        if discovered {
            bits |= 1 << index;
        }
    }
    bits
}

/// Bit i set where property i is an `eventually` whose condition fails in `state`.
fn unmet<M: Explorable>(model: &M, properties: &[Property<M>], state: &M::State) -> u64 {
    let mut bits = 0;
    for (index, property) in properties.iter().enumerate() {
        if property.expectation == Expectation::Eventually && !(property.condition)(model, state) {
            bits |= 1 << index;
        }
    }
    bits
}

/// Runs the search on this worker; every worker of the computation must call it with the same
/// model. Returns the same outcome on every worker.
pub fn explore_on<M: Explorable>(model: &M, worker: &mut Worker) -> Outcome {
    let properties = model.properties();
    assert!(
        properties.len() <= 64,
        "the prototype tracks at most 64 properties"
    );
    let workers = worker.peers();
    let me = worker.index();
    let mut states_in = InputHandle::new();
    let mut tallies_in = InputHandle::new();
    let arrived: Rc<RefCell<Vec<Discovered>>> = Rc::default();
    let heard: Rc<RefCell<Vec<Tally>>> = Rc::default();
    let probe = ProbeHandle::new();
    worker.dataflow::<u64, _, _>(|scope| {
        let arrived = Rc::clone(&arrived);
        scope
            .input_from(&mut states_in)
            .container::<Vec<Discovered>>()
            .exchange(|discovered: &Discovered| owner_key(discovered.fingerprint))
            .inspect(move |discovered| arrived.borrow_mut().push(discovered.clone()))
            .probe_with(&probe);
        let heard = Rc::clone(&heard);
        scope
            .input_from(&mut tallies_in)
            .container::<Vec<Tally>>()
            .broadcast()
            .inspect(move |tally| heard.borrow_mut().push(tally.clone()))
            .probe_with(&probe);
    });
    let owns = |fingerprint: Fingerprint| owner_key(fingerprint) % workers as u64 == me as u64;

    let mut visited: HashSet<Fingerprint> = HashSet::new();
    let mut discovered = 0u64;
    let mut frontier: Vec<Discovered> = Vec::new();
    for (index, state) in model.init_states().iter().enumerate() {
        if !model.within_boundary(state) {
            continue;
        }
        let fingerprint = model.class_fingerprint(state);
        if owns(fingerprint) && visited.insert(fingerprint) {
            discovered |= shows(model, &properties, state);
            frontier.push(Discovered {
                fingerprint,
                path: vec![index as u32],
                shows: 0,
            });
        }
    }

    let mut round = 0u64;
    let mut depth = 0usize;
    let mut max_depth = 0usize;
    let mut steps_sent = 0u64;
    let mut actions = Vec::new();
    loop {
        // Round 1: expand what this worker owns, and send each successor to its owner.
        for item in frontier.drain(..) {
            let state = replay(model, &item.path);
            actions.clear();
            model.actions(&state, &mut actions);
            let mut terminal = true;
            for (index, action) in actions.drain(..).enumerate() {
                let progress = model.is_progress(&action);
                let Some(next) = model.next_state(&state, action) else {
                    continue;
                };
                if !model.within_boundary(&next) {
                    continue;
                }
                let fingerprint = model.class_fingerprint(&next);
                // The engine's fair reading: a step back to the same class, or one that is not
                // progress, cannot keep a run from ending.
                terminal &= !progress || fingerprint == item.fingerprint;
                let mut path = item.path.clone();
                path.push(index as u32);
                if !owns(fingerprint) {
                    steps_sent += path.len() as u64;
                }
                states_in.send(Discovered {
                    fingerprint,
                    path,
                    shows: shows(model, &properties, &next),
                });
            }
            if terminal {
                discovered |= unmet(model, &properties, &state);
            }
        }
        round += 1;
        states_in.advance_to(round);
        tallies_in.advance_to(round);
        while probe.less_than(states_in.time()) {
            worker.step();
        }
        // What arrived is this worker's: keep the classes it had not seen.
        for item in arrived.borrow_mut().drain(..) {
            if visited.insert(item.fingerprint) {
                discovered |= item.shows;
                frontier.push(item);
            }
        }
        // Round 2: every worker hears every worker's tally.
        tallies_in.send(Tally {
            kept: frontier.len() as u64,
            discovered,
            visited: visited.len() as u64,
            steps_sent,
        });
        round += 1;
        states_in.advance_to(round);
        tallies_in.advance_to(round);
        while probe.less_than(tallies_in.time()) {
            worker.step();
        }
        let tallies: Vec<Tally> = heard.borrow_mut().drain(..).collect();
        assert_eq!(tallies.len(), workers, "one tally from every worker");
        let kept: u64 = tallies.iter().map(|tally| tally.kept).sum();
        if kept > 0 {
            depth += 1;
            max_depth = depth;
            continue;
        }
        let all_discovered = tallies
            .iter()
            .fold(0, |bits, tally| bits | tally.discovered);
        return Outcome {
            workers,
            unique_states: tallies.iter().map(|tally| tally.visited).sum(),
            max_depth,
            discovered: (0..properties.len())
                .map(|index| all_discovered & (1 << index) != 0)
                .collect(),
            path_steps_sent: tallies.iter().map(|tally| tally.steps_sent).sum(),
        };
    }
}
