//! The flaw catalogue borne out: `examine` runs the checker on one entry of `catalogue` and
//! returns what it found, with the counterexample as every report tells it (steps, trace,
//! story).
//!
//! A flawed entry is searched exactly as `paxos-check check` searches its configuration:
//! breadth-first, stopping at the first violation of any property that counts
//! (`checkable::counted_violations`). BFS reaches it at the shortest depth, so the path is a
//! shortest counterexample, and stopping there keeps configurations whose full state space is
//! far beyond a minute (retries, a forgetful crash) to seconds. A benign entry is checked
//! exhaustively: only a complete run that violates nothing confirms it.

use crate::check::catalogue::{Consequence, Entry, Setting};
use crate::check::checkable::{counted_violations, describe_path, Checkable};
use crate::check::cluster::cluster_model;
use crate::check::engine::{explore, Goal, SearchOptions, Strategy};
use crate::check::paxos::{multi_paxos_model, single_decree_model};
use crate::check::story::TraceStep;
use stateright::Expectation;

/// The shortest counterexample for the broken property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counterexample {
    pub property: &'static str,
    /// The steps in the protocol's words.
    pub steps: Vec<String>,
    /// stateright's action-index path, for the Explorer's `#/steps/...`.
    pub explorer_path: String,
    /// The same steps as fields, with what each did inside an actor (`TraceStep::notes`).
    pub trace: Vec<TraceStep>,
    /// The counterexample told as a story ("What happened"), as `check` tells it.
    pub story: Vec<String>,
}

/// What the checker found for one entry.
#[derive(Clone, Debug)]
pub struct Finding {
    /// The whole state space was explored (benign entries; flawed runs stop at the violation).
    pub complete: bool,
    /// Distinct states: for a benign entry, every reachable one; for a flawed entry, those the
    /// breadth-first search had discovered when it met the violation (deterministic, so pinned).
    pub states: usize,
    pub seconds: f64,
    /// Safety and liveness properties the run found violated.
    pub violated: Vec<&'static str>,
    /// Sometimes-properties a complete run never saw: behaviour the flaw rules out.
    pub missing_examples: Vec<&'static str>,
    pub counterexample: Option<Counterexample>,
}

impl Finding {
    /// The finding bears the entry out: the first property the check found broken is the
    /// entry's, or the benign flaw broke nothing in a complete run.
    pub fn confirms(&self, consequence: Consequence) -> bool {
        match consequence {
            Consequence::Breaks(property) => self
                .counterexample
                .as_ref()
                .is_some_and(|found| found.property == property),
            Consequence::Benign => self.complete && self.violated.is_empty(),
        }
    }
}

/// Runs the checker on `entry` with `threads` threads.
pub fn examine(entry: &Entry, threads: usize) -> Finding {
    match &entry.setting {
        Setting::Single(cfg) => {
            examine_model(single_decree_model(cfg.clone()), entry.consequence, threads)
        }
        Setting::Multi(cfg) => {
            examine_model(multi_paxos_model(cfg.clone()), entry.consequence, threads)
        }
        Setting::Cluster(cfg) => {
            examine_model(cluster_model(cfg.clone()), entry.consequence, threads)
        }
    }
}

fn examine_model<M: Checkable>(model: M, consequence: Consequence, threads: usize) -> Finding {
    match consequence {
        Consequence::Breaks(_) => catch(model),
        Consequence::Benign => clear(model, threads),
    }
}

/// A flawed entry: the search `paxos-check check` runs, on one thread so that it is
/// deterministic: breadth-first, stopping at the first state that violates any property that
/// counts. It therefore ends at a shortest counterexample, after a pinned number of states, or
/// explores everything and finds none. Where one state violates several properties at once, the
/// first in the model's order is the entry's (the report lists them all).
fn catch<M: Checkable>(model: M) -> Finding {
    let wanted = counted_violations(&model);
    let options = SearchOptions {
        strategy: Strategy::BreadthFirst,
        threads: 1,
        goal: Goal::AnyOf(wanted.clone()),
        ..SearchOptions::default()
    };
    let exploration = explore(&model, &options, &|_| {});
    let violated: Vec<&'static str> = model
        .properties()
        .iter()
        .zip(&exploration.discoveries)
        .filter(|(property, found)| found.is_some() && wanted.contains(&property.name))
        .map(|(property, _)| property.name)
        .collect();
    let counterexample = violated.first().and_then(|&name| {
        let found = exploration.discovery(&model, name)?;
        Some(Counterexample {
            property: name,
            steps: describe_path(&model, &found.path),
            explorer_path: found.path.encode(&model),
            trace: model.trace(&found.path),
            story: model.story(&found.path, name),
        })
    });
    Finding {
        complete: exploration.complete(),
        states: exploration.unique_states,
        seconds: exploration.elapsed.as_secs_f64(),
        violated,
        missing_examples: Vec::new(),
        counterexample,
    }
}

/// A benign entry: an exhaustive check, which must violate nothing.
fn clear<M: Checkable>(model: M, threads: usize) -> Finding {
    let options = SearchOptions {
        strategy: Strategy::BreadthFirst,
        threads,
        goal: Goal::EveryProperty,
        ..SearchOptions::default()
    };
    let exploration = explore(&model, &options, &|_| {});
    let complete = exploration.complete();
    let properties = model.properties();
    let discovered = |index: usize| exploration.discoveries[index].is_some();
    let violated = properties
        .iter()
        .enumerate()
        .filter(|(index, property)| {
            property.expectation != Expectation::Sometimes && discovered(*index)
        })
        .map(|(_, property)| property.name)
        .collect();
    let missing_examples = properties
        .iter()
        .enumerate()
        .filter(|(index, property)| {
            complete && property.expectation == Expectation::Sometimes && !discovered(*index)
        })
        .map(|(_, property)| property.name)
        .collect();
    Finding {
        complete,
        states: exploration.unique_states,
        seconds: exploration.elapsed.as_secs_f64(),
        violated,
        missing_examples,
        counterexample: None,
    }
}
