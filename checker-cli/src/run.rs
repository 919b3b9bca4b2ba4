//! Running a check: drives stateright's checker over a model with progress on stderr, then
//! turns what it found into an `Outcome` with a verdict per property. Knows nothing of any
//! particular model beyond `ModelConfig`.

use crate::args::Strategy;
use paxos_model::search::{describe_path, shortest_discovery};
use paxos_model::system::Checkable;
use stateright::{Checker, Expectation, Model, UniformChooser};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// The most states the search for a shortest discovery may visit, per property, before the
/// report settles for the path the checker found (which is then not necessarily shortest).
const SHORTEST_SEARCH_STATES_MAX: usize = 2_000_000;

/// How to run the checker.
#[derive(Clone, Debug)]
pub struct RunSettings {
    pub strategy: Strategy,
    pub threads: usize,
    pub max_states: Option<usize>,
    pub timeout: Option<Duration>,
    pub seed: u64,
    /// Report progress on stderr while running.
    pub progress: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// An always/eventually property with no counterexample in a complete run.
    Holds,
    /// An always/eventually property with a counterexample.
    Violated,
    /// A sometimes property with an example.
    Example,
    /// A sometimes property with no example in a complete run.
    Missing,
    /// Not decided: the run stopped at a limit first.
    Unknown,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Violated => "violated",
            Verdict::Example => "example",
            Verdict::Missing => "missing",
            Verdict::Unknown => "unknown",
        }
    }
}

pub fn expectation_name(expectation: &Expectation) -> &'static str {
    match expectation {
        Expectation::Always => "always",
        Expectation::Sometimes => "sometimes",
        Expectation::Eventually => "eventually",
    }
}

/// One property's result.
#[derive(Clone, Debug)]
pub struct PropertyOutcome {
    pub name: &'static str,
    pub expectation: Expectation,
    pub verdict: Verdict,
    /// The discovery as numbered, readable steps.
    pub trace: Option<Vec<String>>,
    /// The discovery as stateright's action-index path, for the Explorer's `#/steps/...`.
    pub explorer_path: Option<String>,
    /// Why a violation does not count against this configuration, if it does not.
    pub excused: Option<&'static str>,
}

impl PropertyOutcome {
    /// Whether this property makes the run fail.
    pub fn fails(&self) -> bool {
        self.excused.is_none() && matches!(self.verdict, Verdict::Violated | Verdict::Missing)
    }
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub states: usize,
    pub unique_states: usize,
    pub max_depth: usize,
    pub seconds: f64,
    /// The whole reachable state space was explored.
    pub complete: bool,
    /// Which limit stopped an incomplete run.
    pub stopped_by: Option<String>,
    pub properties: Vec<PropertyOutcome>,
    /// The SVG sequence diagram of the first counterexample (else the first example), with the
    /// property it shows.
    pub svg: Option<(&'static str, String)>,
}

impl Outcome {
    pub fn states_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.states as f64 / self.seconds
        } else {
            self.states as f64
        }
    }

    /// 0 all as expected on a complete run; 1 a failure; 3 a limit hit with nothing failing.
    pub fn exit_code(&self) -> i32 {
        if self.properties.iter().any(PropertyOutcome::fails) {
            1
        } else if !self.complete {
            3
        } else {
            0
        }
    }
}

/// Checks `model` with `settings`; the liveness property counts only where the model's
/// faults promise it.
pub fn check<M: Checkable>(model: M, settings: &RunSettings) -> Outcome {
    let started = Instant::now();
    let mut builder = model.clone().checker().threads(settings.threads);
    if let Some(max_states) = settings.max_states {
        builder = builder.target_state_count(max_states);
    }
    if let Some(timeout) = settings.timeout {
        builder = builder.timeout(timeout);
    }
    match settings.strategy {
        Strategy::Bfs => finish(builder.spawn_bfs(), &model, settings, started),
        Strategy::Dfs => finish(builder.spawn_dfs(), &model, settings, started),
        Strategy::Simulation => finish(
            builder.spawn_simulation(settings.seed, UniformChooser),
            &model,
            settings,
            started,
        ),
    }
}

fn finish<M: Checkable, K: Checker<M>>(
    checker: K,
    model: &M,
    settings: &RunSettings,
    started: Instant,
) -> Outcome {
    if settings.progress {
        show_progress(&checker, started);
    }
    let checker = checker.join();
    let seconds = started.elapsed().as_secs_f64();
    let stopped_by = stopping_limit(&checker, settings, seconds);
    let complete = stopped_by.is_none();
    let liveness_caveat = model.faults().liveness_caveat();
    let mut svg: Option<(&'static str, String)> = None;
    let mut properties = Vec::new();
    for property in model.properties() {
        // stateright keeps the last path that discovered a property; report a shortest one.
        let discovery = checker.discovery(property.name).map(|found| {
            let steps = found.clone().into_actions().len();
            shortest_discovery(model, &property, steps, SHORTEST_SEARCH_STATES_MAX).unwrap_or(found)
        });
        let verdict = match (&property.expectation, &discovery, complete) {
            (Expectation::Sometimes, Some(_), _) => Verdict::Example,
            (Expectation::Sometimes, None, true) => Verdict::Missing,
            (_, Some(_), _) => Verdict::Violated,
            (_, None, true) => Verdict::Holds,
            (_, None, false) => Verdict::Unknown,
        };
        let excused = match (&property.expectation, verdict) {
            (Expectation::Eventually, Verdict::Violated) => liveness_caveat,
            _ => None,
        };
        let (trace, explorer_path) = match &discovery {
            Some(path) => (Some(describe_path(model, path)), Some(path.encode(model))),
            None => (None, None),
        };
        if let Some(path) = discovery {
            let is_failure = verdict == Verdict::Violated;
            let replace = match &svg {
                None => true,
                Some((shown, _)) => is_failure && !is_failure_of(&properties, shown),
            };
            if replace {
                if let Some(diagram) = model.as_svg(path) {
                    svg = Some((property.name, diagram));
                }
            }
        }
        properties.push(PropertyOutcome {
            name: property.name,
            expectation: property.expectation,
            verdict,
            trace,
            explorer_path,
            excused,
        });
    }
    Outcome {
        states: checker.state_count(),
        unique_states: checker.unique_state_count(),
        max_depth: checker.max_depth(),
        seconds,
        complete,
        stopped_by,
        properties,
        svg,
    }
}

fn is_failure_of(properties: &[PropertyOutcome], name: &str) -> bool {
    properties
        .iter()
        .any(|property| property.name == name && property.verdict == Verdict::Violated)
}

/// Why the run is incomplete, if it is.
fn stopping_limit<M: Model, K: Checker<M>>(
    checker: &K,
    settings: &RunSettings,
    seconds: f64,
) -> Option<String> {
    if settings.strategy == Strategy::Simulation {
        return Some("simulation samples paths; it never exhausts the state space".into());
    }
    if let Some(max_states) = settings.max_states {
        if checker.state_count() >= max_states {
            return Some(format!("--max-states {max_states} reached"));
        }
    }
    if let Some(timeout) = settings.timeout {
        if seconds >= timeout.as_secs_f64() {
            return Some(format!("--timeout {}s reached", timeout.as_secs()));
        }
    }
    None
}

/// Progress on stderr until the checker is done: a live line on a terminal, a line every few
/// seconds otherwise (so that logs show a long run is alive).
fn show_progress<M: Model, K: Checker<M>>(checker: &K, started: Instant) {
    let interactive = std::io::stderr().is_terminal();
    let bar = if interactive {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(200));
        Some(bar)
    } else {
        None
    };
    let mut last_line = Instant::now();
    while !checker.is_done() {
        std::thread::sleep(Duration::from_millis(100));
        let elapsed = started.elapsed().as_secs_f64().max(1e-9);
        let states = checker.state_count();
        let line = format!(
            "states {states}, unique {}, depth {}, {:.0} states/s, {elapsed:.0} s",
            checker.unique_state_count(),
            checker.max_depth(),
            states as f64 / elapsed
        );
        match &bar {
            Some(bar) => bar.set_message(line),
            None if last_line.elapsed() >= Duration::from_secs(5) => {
                eprintln!("progress: {line}");
                last_line = Instant::now();
            }
            None => {}
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}
