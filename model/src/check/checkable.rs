//! A model as the tools see it: what `paxos-check` checks, explores and reports on, whatever
//! its protocol (`Checkable`), and how an actor system answers each question — its trace, its
//! story, its states in the protocol's words, its drawings.
//!
//! This is the top of `check`'s layers (see `check`'s module header): it may use every module
//! below it, and none of them uses it. The search engine sees a model only as `Explorable`; the
//! actor runtime and the models know nothing of how their runs are told.

use crate::check::actors::{ActorSystem, SystemPath, SystemState};
use crate::check::cuts::{Cut, CutUse};
use crate::check::engine::Explorable;
use crate::check::settings::{ballot_notation, Faults, ModelConfig, Presentation};
use crate::check::story::TraceStep;
use crate::check::svg::{marked_sequence_diagram, sequence_diagram, DiagramMarks};
use crate::protocol::flaw::Flaw;
use stateright::actor::Actor;
use stateright::{Model, Path};
use std::fmt::Debug;
use std::hash::Hash;

/// A model that `paxos-check` can check, explore and report on, whatever its protocol. The
/// bounds are what stateright's checkers and Explorer need, stated once.
pub trait Checkable: Explorable + Clone + 'static {
    /// The model's name on the command line: `single` or `multi`.
    fn name(&self) -> &'static str;
    fn title(&self) -> &'static str;
    fn summary(&self) -> String;
    fn faults(&self) -> Faults;
    fn flaw(&self) -> Flaw;
    fn flags(&self) -> Vec<(&'static str, String)>;
    /// Why the liveness property is not promised here, if it is not: its counterexample is
    /// then reported as expected and does not fail the run.
    fn liveness_caveat(&self) -> Option<&'static str>;
    /// The model's cuts of the state space, and whether this run uses each (`check::cuts`).
    fn cuts(&self) -> Vec<(Cut, CutUse)> {
        Vec::new()
    }

    // How a model shows its runs to people. Each has a plain default, so that a model is
    // checkable before it is readable; the actor systems override every one.

    /// `path` step by step: who sent what to whom, as fields and as the text report's line.
    fn trace(&self, path: &ModelPath<Self>) -> Vec<TraceStep> {
        path.clone()
            .into_actions()
            .iter()
            .enumerate()
            .map(|(index, action)| TraceStep::plain(index + 1, self.format_action(action)))
            .collect()
    }

    /// `path`, which discovered `property`, told as a short story: when a value was chosen,
    /// the step that broke the property and why. Empty where the model cannot tell.
    fn story(&self, _path: &ModelPath<Self>, _property: &str) -> Vec<String> {
        Vec::new()
    }

    /// A state in the protocol's words, one line per actor, then the network and the rest.
    fn describe_state(&self, state: &Self::State) -> Vec<String> {
        vec![format!("{state:#?}")]
    }

    /// What the step from `before` to `after` decided, in words ("A chosen at 1.p1 by a1, a2").
    fn step_notes(&self, _before: &Self::State, _after: &Self::State) -> Vec<String> {
        Vec::new()
    }

    /// How the model's ballots are written, once, for reports and the Explorer.
    fn ballot_notation(&self) -> String {
        String::new()
    }

    /// `path` as an SVG sequence diagram, with `marks` drawn on it.
    fn diagram(&self, path: &ModelPath<Self>, _marks: &DiagramMarks) -> Option<String> {
        self.as_svg(path.clone())
    }

    /// The model with its `Model::as_svg` drawing, for stateright's own Explorer, which asks the
    /// model itself; the actor runtime leaves drawing to this layer.
    fn with_drawings(self) -> Self {
        self
    }
}

/// A path through a model.
pub type ModelPath<M> = Path<<M as Model>::State, <M as Model>::Action>;

/// The properties whose violation fails a check of `model`: every always-property, and the
/// eventually-properties unless the model's faults excuse liveness (`liveness_caveat`). A check
/// stops at the first of these it finds, as TLC does; the flaw catalogue runs the same search,
/// so that both report one property with one shortest counterexample for a flaw.
pub fn counted_violations<M: Checkable>(model: &M) -> Vec<&'static str> {
    let liveness_excused = model.liveness_caveat().is_some();
    model
        .properties()
        .iter()
        .filter(|property| match property.expectation {
            stateright::Expectation::Always => true,
            stateright::Expectation::Eventually => !liveness_excused,
            stateright::Expectation::Sometimes => false,
        })
        .map(|property| property.name)
        .collect()
}

impl<A, C, H> Checkable for ActorSystem<A, C, H>
where
    A: Actor + Clone + Send + Sync + 'static,
    A::Msg: Ord + Debug + Send + Sync,
    A::Timer: Ord + Send + Sync,
    A::State: Send + Sync,
    A::Storage: Send + Sync,
    A::Random: Send + Sync,
    H: Clone + Debug + Hash + Eq + Send + Sync + 'static,
    C: ModelConfig + Presentation<A::Msg> + Clone + Send + Sync + 'static,
{
    fn name(&self) -> &'static str {
        C::NAME
    }

    fn title(&self) -> &'static str {
        C::TITLE
    }

    fn summary(&self) -> String {
        self.cfg.summary()
    }

    fn faults(&self) -> Faults {
        self.cfg.faults()
    }

    fn flaw(&self) -> Flaw {
        self.cfg.flaw()
    }

    fn flags(&self) -> Vec<(&'static str, String)> {
        self.cfg.flags()
    }

    fn liveness_caveat(&self) -> Option<&'static str> {
        self.cfg.liveness_caveat()
    }

    fn cuts(&self) -> Vec<(Cut, CutUse)> {
        self.cfg.cuts()
    }

    fn trace(&self, path: &SystemPath<A, H>) -> Vec<TraceStep> {
        self.trace_of(path)
    }

    fn story(&self, path: &SystemPath<A, H>, property: &str) -> Vec<String> {
        self.story_of(path, property, self.cfg.flaw())
    }

    fn describe_state(&self, state: &SystemState<A, H>) -> Vec<String> {
        self.describe(state)
    }

    fn step_notes(&self, before: &SystemState<A, H>, after: &SystemState<A, H>) -> Vec<String> {
        self.notes(before, after)
    }

    fn ballot_notation(&self) -> String {
        ballot_notation(self.cfg.ballot_owner())
    }

    fn diagram(&self, path: &SystemPath<A, H>, marks: &DiagramMarks) -> Option<String> {
        Some(marked_sequence_diagram(self, path, marks))
    }

    fn with_drawings(mut self) -> Self {
        self.draw = Some(sequence_diagram);
        self
    }
}

/// A path as its steps in the model's words (`format_action`).
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
