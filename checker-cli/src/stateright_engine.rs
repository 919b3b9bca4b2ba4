//! `check --engine stateright`: stateright's own checker (`spawn_bfs`, or `spawn_dfs`) run on a
//! model as it is, every cut off, and what it found told in the same `Outcome` (verdicts,
//! traces, stories, diagrams, exit status) as our engine's, so that the two read alike.
//!
//! stateright's checker is driven as its users drive it: a `CheckerBuilder` with threads, a
//! `finish_when`, `target_state_count` and `timeout`, then `join`. It reports counts and, per
//! property, one discovery path; it does not say why it stopped, so that is worked out here
//! from what it was asked and what it found, erring towards "incomplete".

use crate::args::Strategy;
use crate::run::{self, Outcome, Progress, RunSettings};
use paxos_model::check::checkable::{counted_violations, Checkable, ModelPath};
use paxos_model::check::engine::{self, Discovery, Exploration, Stop};
use stateright::{Checker, HasDiscoveries, Model, Path};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// How often the watch looks whether stateright's threads have ended: often, so that the time
/// reported is the checker's and not the watch's.
const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// How often the progress line and the peak memory are sampled while stateright runs.
const SAMPLE_INTERVAL: Duration = Duration::from_millis(200);

/// How long a goal met (or a target count reached) gives stateright's threads to end before
/// they are left behind: in stateright 0.31 a thread that stops at the goal does not wake one
/// that waits for work, which may then wait for ever.
const STRAGGLER_GRACE: Duration = Duration::from_secs(2);

/// Checks `model` (built with every cut off) with stateright's checker as `settings` say.
/// `settings.strategy` is bfs or dfs: the command line refuses the others for this engine.
pub fn check<M: Checkable>(model: M, settings: &RunSettings) -> Outcome {
    if settings.timeout.is_some() && settings.threads == 1 {
        eprintln!(
            "warning: --timeout has no effect with --engine stateright on one thread: its \
             checker looks at the time only when a thread goes back for work, which one \
             thread never does"
        );
    }
    let finish_when = goal(&model, settings);
    let mut builder = model
        .clone()
        .checker()
        .threads(settings.threads)
        .finish_when(finish_when.clone());
    if let Some(states) = settings.max_states {
        builder = builder.target_state_count(states);
    }
    if let Some(timeout) = settings.timeout {
        builder = builder.timeout(timeout);
    }
    let started = Instant::now();
    let found = match settings.strategy {
        Strategy::Bfs => watch(builder.spawn_bfs(), &model, settings, started),
        Strategy::Dfs => watch(builder.spawn_dfs(), &model, settings, started),
        Strategy::Simulation => {
            unreachable!("the command line refuses --strategy simulation with --engine stateright")
        }
    };
    let stopped_by = why_stopped(&model, settings, &finish_when, &found, started.elapsed());
    let exploration = exploration(&model, found, stopped_by, started.elapsed());
    run::outcome(&model, settings, exploration)
}

/// What stateright's checker reported once its threads ended.
struct Found<M: Model> {
    states: usize,
    unique_states: usize,
    max_depth: usize,
    peak_memory_bytes: Option<u64>,
    discoveries: HashMap<&'static str, ModelPath<M>>,
}

/// Waits for `checker`'s threads, showing progress and sampling resident memory meanwhile.
fn watch<M: Checkable>(
    mut checker: impl Checker<M>,
    model: &M,
    settings: &RunSettings,
    started: Instant,
) -> Found<M> {
    let progress = Progress::new(settings.progress);
    let handles = checker.handles();
    let mut peak_memory_bytes: Option<u64> = None;
    let mut goal_met_at: Option<Instant> = None;
    let mut sampled_at: Option<Instant> = None;
    while !handles.iter().all(|handle| handle.is_finished()) {
        std::thread::sleep(POLL_INTERVAL);
        if sampled_at.is_some_and(|at| at.elapsed() < SAMPLE_INTERVAL) {
            continue;
        }
        sampled_at = Some(Instant::now());
        let memory_bytes = engine::resident_memory_bytes();
        peak_memory_bytes = peak_memory_bytes.max(memory_bytes);
        progress.show(&engine::Progress {
            states: checker.state_count(),
            unique_states: checker.unique_state_count(),
            depth: checker.max_depth().saturating_sub(1),
            elapsed: started.elapsed(),
            memory_bytes,
        });
        if goal_met_at.is_none() && has_stopping_reason(model, settings, &checker) {
            goal_met_at = Some(Instant::now());
        }
        if goal_met_at.is_some_and(|at| at.elapsed() > STRAGGLER_GRACE) {
            // A thread still waiting for work that will never come (see `STRAGGLER_GRACE`):
            // the answer is in; leave it.
            break;
        }
    }
    for handle in handles.into_iter().filter(|handle| handle.is_finished()) {
        handle
            .join()
            .expect("stateright's checker thread ended without panicking");
    }
    progress.finish();
    peak_memory_bytes = peak_memory_bytes.max(engine::resident_memory_bytes());
    Found {
        states: checker.state_count(),
        unique_states: checker.unique_state_count(),
        // stateright counts the states along a path (an initial state is at depth 1); the
        // report counts steps, as our engine does.
        max_depth: checker.max_depth().saturating_sub(1),
        peak_memory_bytes,
        discoveries: checker.discoveries(),
    }
}

/// Whether `checker` has a reason to stop besides exhausting the state space: the goal, or the
/// target state count.
fn has_stopping_reason<M: Checkable>(
    model: &M,
    settings: &RunSettings,
    checker: &impl Checker<M>,
) -> bool {
    let discovered: BTreeSet<&'static str> = checker.discoveries().into_keys().collect();
    goal(model, settings).matches(&discovered, &model.properties())
        || settings
            .max_states
            .is_some_and(|states| checker.state_count() >= states)
}

/// When stateright is to finish: at the first violation that counts, as our engine does, or
/// with `--keep-going` once every property has a discovery.
fn goal<M: Checkable>(model: &M, settings: &RunSettings) -> HasDiscoveries {
    if settings.keep_going {
        HasDiscoveries::All
    } else {
        HasDiscoveries::AnyOf(counted_violations(model).into_iter().collect())
    }
}

/// Why the run ended short of exhausting the state space, if it did. stateright does not say,
/// so each reason it had is taken as the one: a run that met its goal or reached a limit just as
/// it ran out of states is reported incomplete, never the other way round.
fn why_stopped<M: Checkable>(
    model: &M,
    settings: &RunSettings,
    finish_when: &HasDiscoveries,
    found: &Found<M>,
    elapsed: Duration,
) -> Option<Stop> {
    let discovered: BTreeSet<&'static str> = found.discoveries.keys().copied().collect();
    if finish_when.matches(&discovered, &model.properties()) {
        Some(Stop::GoalMet)
    } else if settings
        .max_states
        .is_some_and(|states| found.states >= states)
    {
        Some(Stop::StateBudget)
    } else if settings.timeout.is_some_and(|timeout| elapsed >= timeout) {
        Some(Stop::Deadline)
    } else {
        None
    }
}

/// stateright's findings as our engine's `Exploration`, so that one function turns either into
/// a report.
fn exploration<M: Checkable>(
    model: &M,
    mut found: Found<M>,
    stopped_by: Option<Stop>,
    elapsed: Duration,
) -> Exploration<M> {
    let properties = model.properties();
    let discoveries = properties
        .iter()
        .map(|property| {
            found
                .discoveries
                .remove(property.name)
                .map(|path| Discovery {
                    path: up_to_decisive_step(model, property, path),
                    // stateright keeps the last discovery it makes of a property, not the first
                    // (each overwrites the one before), so a breadth-first one may be longer
                    // than a shortest one, and a depth-first one is never shortened.
                    shortest: false,
                })
        })
        .collect();
    Exploration {
        states: found.states,
        unique_states: found.unique_states,
        max_depth: found.max_depth,
        elapsed,
        stopped_by,
        peak_memory_bytes: found.peak_memory_bytes,
        visited_bytes: None,
        spilled: None,
        reduction: Default::default(),
        // stateright 0.31 keeps a 64-bit fingerprint per state.
        fingerprint_bits: 64,
        discoveries,
        unstable: properties.iter().map(|_| None).collect(),
    }
}

/// `path` up to the first state that breaks `property` (always) or shows it (sometimes): the
/// counterexample or example itself, without the steps stateright happened to take after it.
/// (stateright checks every state it visits, so it discovered that prefix too before it went
/// on.) A liveness counterexample is a whole run and stays as it is.
fn up_to_decisive_step<M: Checkable>(
    model: &M,
    property: &stateright::Property<M>,
    path: ModelPath<M>,
) -> ModelPath<M> {
    let Some(step) = run::decisive_step(model, property, &path) else {
        return path;
    };
    let init_state = path.clone().into_states().swap_remove(0);
    let actions = path.clone().into_actions();
    let prefix = Path::from_actions(model, init_state, &actions[..step]);
    let prefix = prefix.expect("a prefix of a path of the model is a path of the model");
    assert!(
        prefix.clone().into_actions().len() == step,
        "the prefix ends at the decisive step"
    );
    prefix
}
