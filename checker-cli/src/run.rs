//! Running a check: drives the model crate's search engine over a model with progress on
//! stderr, then turns what it found into an `Outcome` with a verdict per property. Knows nothing
//! of any particular model beyond `Checkable`.

use crate::args::Strategy;
use paxos_model::check::checkable::{counted_violations, describe_path, Checkable, ModelPath};
use paxos_model::check::engine::{self, Exploration, Goal, Limits, SearchOptions, Stop};
use paxos_model::check::story::TraceStep;
use paxos_model::check::svg::DiagramMarks;
use stateright::{Expectation, Model};
use std::io::IsTerminal;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How to run the checker.
#[derive(Clone, Debug)]
pub struct RunSettings {
    pub strategy: Strategy,
    pub threads: usize,
    pub max_states: Option<usize>,
    pub timeout: Option<Duration>,
    /// The memory budget, in bytes: a breadth-first run of a model that can spill its frontier
    /// to disk spills from seven eighths of it on and stops (exit status 3) only when the
    /// visited set alone takes it; any other run stops when resident memory reaches it.
    pub max_memory: Option<u64>,
    /// Where a spilled frontier goes (the system's temporary directory if `None`).
    pub spill_dir: Option<std::path::PathBuf>,
    pub seed: u64,
    /// Go on after the first violation until every property is decided.
    pub keep_going: bool,
    /// Which states end a run, for `eventually` properties.
    pub liveness: engine::Liveness,
    /// Report progress on stderr while running.
    pub progress: bool,
    /// Raised on Ctrl-C.
    pub interrupt: Option<Arc<AtomicBool>>,
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
    /// Not decided: the run stopped before it could tell.
    Unknown,
    /// Not decided on a complete run: an `eventually` property whose condition held in a state
    /// and not in a successor. The engine judges those at the ends of runs, which is exact only
    /// for conditions that stay true once true, so its verdict cannot be trusted either way.
    Unjudged,
}

impl Verdict {
    /// The verdict in one word, as the JSON report gives it.
    pub fn id(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Violated => "violated",
            Verdict::Example => "example",
            Verdict::Missing => "missing",
            Verdict::Unknown => "unknown",
            Verdict::Unjudged => "unjudged",
        }
    }

    /// The verdict as the text report says it.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Violated => "violated",
            Verdict::Example => "example",
            Verdict::Missing => "missing",
            Verdict::Unknown => "not decided (run incomplete)",
            Verdict::Unjudged => {
                "not decided: its condition held, then stopped holding (the trace shows where)"
            }
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
    /// The same steps as fields (who, what, ballot, value), for tools.
    pub trace_steps: Option<Vec<TraceStep>>,
    /// The discovery told as a story (empty without a discovery).
    pub story: Vec<String>,
    /// The step after which an always-property is broken, or an example first holds.
    pub decisive_step: Option<usize>,
    /// Whether the trace is a shortest one (false only when a limit cut the search for one).
    pub shortest: bool,
    /// The discovery as stateright's action-index path, for the Explorer's `#/steps/...`.
    pub explorer_path: Option<String>,
    /// Why a violation does not count against this configuration, if it does not.
    pub excused: Option<&'static str>,
}

impl PropertyOutcome {
    /// Whether this property makes the run fail.
    pub fn fails(&self) -> bool {
        self.excused.is_none()
            && matches!(
                self.verdict,
                Verdict::Violated | Verdict::Missing | Verdict::Unjudged
            )
    }
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub states: usize,
    pub unique_states: usize,
    pub max_depth: usize,
    pub seconds: f64,
    pub peak_memory_bytes: Option<u64>,
    /// What the visited set of fingerprints takes (our engine's; none for stateright's).
    pub visited_bytes: Option<u64>,
    /// What the frontier spilled to disk, where the run could spill (our engine's
    /// breadth-first search of a model with a codec, under a memory budget).
    pub spilled: Option<engine::SpillReport>,
    /// What the partial-order reduction did (all zeros where it was off or found nothing).
    pub reduction: engine::ReductionReport,
    /// The chance that two distinct states shared a fingerprint, so that one went unexplored.
    pub collision_probability: Option<f64>,
    pub fingerprint_bits: u32,
    /// The whole reachable state space was explored.
    pub complete: bool,
    /// Why an incomplete run ended: a limit, or the first violation.
    pub stopped_by: Option<String>,
    /// A limit (not a violation) ended the run.
    pub limit_reached: bool,
    /// What ended an incomplete run.
    pub stop: Option<Stop>,
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
    check_watched(model, settings, &|_| {})
}

/// `check`, telling `on_progress` how far the search is a few times a second.
pub fn check_watched<M: Checkable>(
    model: M,
    settings: &RunSettings,
    on_progress: &(dyn Fn(&engine::Progress) + Sync),
) -> Outcome {
    // Stop at the first violation that counts, as TLC does, unless told to decide everything.
    let goal = if settings.keep_going {
        Goal::EveryProperty
    } else {
        Goal::AnyOf(counted_violations(&model))
    };
    let options = SearchOptions {
        strategy: match settings.strategy {
            Strategy::Bfs => engine::Strategy::BreadthFirst,
            Strategy::Dfs => engine::Strategy::DepthFirst,
            Strategy::Simulation => engine::Strategy::RandomWalks {
                seed: settings.seed,
            },
        },
        threads: settings.threads,
        goal,
        liveness: settings.liveness,
        limits: Limits {
            deadline: settings.timeout.map(|timeout| Instant::now() + timeout),
            max_states: settings.max_states,
            max_memory_bytes: settings.max_memory,
            spill_dir: settings.spill_dir.clone(),
            frontier_states_max: None,
            interrupt: settings.interrupt.clone(),
            max_depth: None,
        },
    };
    let progress = Progress::new(settings.progress);
    let exploration = engine::explore(&model, &options, &|snapshot| {
        progress.show(snapshot);
        on_progress(snapshot);
    });
    progress.finish();
    outcome(&model, settings, exploration)
}

/// What `exploration` found on `model`: a verdict per property with its trace, story and
/// diagram. Whichever engine searched, the words are these.
pub fn outcome<M: Checkable>(
    model: &M,
    settings: &RunSettings,
    exploration: Exploration<M>,
) -> Outcome {
    let liveness_caveat = model.liveness_caveat();
    let excused = |expectation: &Expectation| {
        (*expectation == Expectation::Eventually)
            .then_some(liveness_caveat)
            .flatten()
    };
    let complete = exploration.complete();
    let stopped_by = exploration
        .stopped_by
        .map(|stop| describe_stop(stop, settings, &exploration));
    let limit_reached = exploration.stopped_by.is_some_and(Stop::is_limit);
    let mut svg: Option<(&'static str, String)> = None;
    let mut properties = Vec::new();
    let judged = model
        .properties()
        .into_iter()
        .zip(exploration.discoveries)
        .zip(exploration.unstable);
    for ((property, found), unstable) in judged {
        // A step that broke an `eventually` condition's stability is shown instead of whatever
        // was found for the property: that is what the user must see, and nothing else about it
        // can be trusted.
        let unjudged = unstable.is_some();
        let discovery = match unstable {
            Some(path) => Some(engine::Discovery {
                path,
                shortest: true,
            }),
            None => found,
        };
        let verdict = match (&property.expectation, &discovery, complete) {
            (_, _, _) if unjudged => Verdict::Unjudged,
            (Expectation::Sometimes, Some(_), _) => Verdict::Example,
            (Expectation::Sometimes, None, true) => Verdict::Missing,
            (_, Some(_), _) => Verdict::Violated,
            (_, None, true) => Verdict::Holds,
            (_, None, false) => Verdict::Unknown,
        };
        let excused = match verdict {
            Verdict::Violated => excused(&property.expectation),
            _ => None,
        };
        let (trace, explorer_path, shortest) = match &discovery {
            Some(found) => (
                Some(describe_path(model, &found.path)),
                Some(found.path.encode(model)),
                found.shortest,
            ),
            None => (None, None, true),
        };
        let decisive_step = discovery
            .as_ref()
            .and_then(|found| decisive_step(model, &property, &found.path));
        let trace_steps = discovery.as_ref().map(|found| model.trace(&found.path));
        let story = discovery
            .as_ref()
            .filter(|_| !unjudged)
            .map(|found| model.story(&found.path, property.name))
            .unwrap_or_default();
        if let Some(found) = discovery {
            let is_failure = verdict == Verdict::Violated;
            let replace = match &svg {
                None => true,
                Some((shown, _)) => is_failure && !is_failure_of(&properties, shown),
            };
            if replace {
                let marks = DiagramMarks {
                    broken: is_failure
                        .then_some(decisive_step)
                        .flatten()
                        .map(|step| (step, property.name.to_owned())),
                    ..DiagramMarks::default()
                };
                if let Some(diagram) = model.diagram(&found.path, &marks) {
                    svg = Some((property.name, diagram));
                }
            }
        }
        properties.push(PropertyOutcome {
            name: property.name,
            expectation: property.expectation,
            verdict,
            trace,
            trace_steps,
            story,
            decisive_step,
            shortest,
            explorer_path,
            excused,
        });
    }
    Outcome {
        states: exploration.states,
        unique_states: exploration.unique_states,
        max_depth: exploration.max_depth,
        seconds: exploration.elapsed.as_secs_f64(),
        peak_memory_bytes: exploration.peak_memory_bytes,
        visited_bytes: exploration.visited_bytes,
        spilled: exploration.spilled,
        reduction: exploration.reduction,
        collision_probability: Some(engine::collision_probability(
            exploration.unique_states,
            exploration.fingerprint_bits,
        )),
        fingerprint_bits: exploration.fingerprint_bits,
        complete,
        stopped_by,
        limit_reached,
        stop: exploration.stopped_by,
        properties,
        svg,
    }
}

/// The step of `path` after which `property` is first false (an always-property) or first true
/// (a sometimes-property); a liveness counterexample has none.
pub fn decisive_step<M: Checkable>(
    model: &M,
    property: &stateright::Property<M>,
    path: &ModelPath<M>,
) -> Option<usize> {
    let states = path.clone().into_states();
    match property.expectation {
        Expectation::Always => states
            .iter()
            .position(|state| !(property.condition)(model, state)),
        Expectation::Sometimes => states
            .iter()
            .position(|state| (property.condition)(model, state)),
        Expectation::Eventually => None,
    }
}

fn is_failure_of(properties: &[PropertyOutcome], name: &str) -> bool {
    properties
        .iter()
        .any(|property| property.name == name && property.verdict == Verdict::Violated)
}

/// Why the run ended early, in the words of the flag that set the limit.
fn describe_stop<M: Model>(
    stop: Stop,
    settings: &RunSettings,
    exploration: &Exploration<M>,
) -> String {
    match stop {
        Stop::GoalMet if settings.keep_going => {
            "every property was decided before the state space was exhausted".into()
        }
        Stop::GoalMet => {
            "stopped at the first violation; --keep-going decides every property".into()
        }
        Stop::Deadline => format!(
            "--timeout {}s reached",
            settings.timeout.map_or(0, |timeout| timeout.as_secs())
        ),
        Stop::StateBudget => format!(
            "--max-states {} reached",
            settings.max_states.unwrap_or_default()
        ),
        // A run that spills its frontier stops only when the visited set alone fills the budget.
        Stop::MemoryGuard if exploration.spilled.is_some() => format!(
            "memory guard reached: the visited set alone takes {}, with the frontier spilled \
             to disk, limit {} (--max-memory sets it)",
            mebibytes(exploration.visited_bytes.unwrap_or_default()),
            mebibytes(settings.max_memory.unwrap_or_default())
        ),
        Stop::MemoryGuard => format!(
            "memory guard reached: {} resident, limit {} (--max-memory sets it)",
            mebibytes(exploration.peak_memory_bytes.unwrap_or_default()),
            mebibytes(settings.max_memory.unwrap_or_default())
        ),
        Stop::Interrupted => "interrupted (Ctrl-C)".into(),
        Stop::NotExhaustive => {
            "random walks (--strategy simulation) sample paths; they never exhaust the state space"
                .into()
        }
    }
}

/// `1,234 MiB`.
pub fn mebibytes(bytes: u64) -> String {
    format!("{} MiB", bytes / (1 << 20))
}

/// Progress on stderr while the search runs: a live line on a terminal, a line every five
/// seconds otherwise (so that logs show a long run is alive).
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    enabled: bool,
    last_line: std::sync::Mutex<Instant>,
}

impl Progress {
    pub fn new(enabled: bool) -> Self {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            enabled,
            last_line: std::sync::Mutex::new(Instant::now()),
        }
    }

    pub fn show(&self, snapshot: &engine::Progress) {
        if !self.enabled {
            return;
        }
        let elapsed = snapshot.elapsed.as_secs_f64().max(1e-9);
        let memory = snapshot
            .memory_bytes
            .map(|bytes| format!(", {}", mebibytes(bytes)))
            .unwrap_or_default();
        let line = format!(
            "states {}, unique {}, depth {}, {:.0} states/s, {elapsed:.0} s{memory}",
            snapshot.states,
            snapshot.unique_states,
            snapshot.depth,
            snapshot.states as f64 / elapsed
        );
        match &self.bar {
            Some(bar) => bar.set_message(line),
            None => {
                let mut last_line = self.last_line.lock().expect("not poisoned");
                if last_line.elapsed() >= Duration::from_secs(5) {
                    eprintln!("progress: {line}");
                    *last_line = Instant::now();
                }
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
