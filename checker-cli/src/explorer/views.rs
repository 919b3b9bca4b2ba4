//! What the Explorer's page asks of a model, as JSON: a path replayed step by step (each state in
//! the protocol's words, what each step decided, where a property breaks on it, its story and
//! its sequence diagram), the choices from a state, and the status of the check behind it.
//!
//! A path is stateright's: the index of an initial state, then for each step the index of the
//! action among `Model::actions` of the state before it, so that the links the reports print
//! (`#/steps/0/3/1`) open here. Steps are numbered as in the text report: the initial state is
//! step 0, the first action step 1.

use paxos_model::check::checkable::{Checkable, ModelPath};
use paxos_model::check::svg::DiagramMarks;
use serde_json::{json, Value};
use stateright::{Expectation, Path};

/// The longest path the Explorer replays: far beyond any counterexample here, and a bound on
/// the work one request can ask for.
pub const PATH_STEPS_MAX: usize = 10_000;

/// A path replayed: the states, and the action before each but the first.
pub struct Replay<M: Checkable> {
    pub states: Vec<M::State>,
    pub actions: Vec<M::Action>,
}

impl<M: Checkable> Replay<M> {
    fn path(&self, model: &M) -> ModelPath<M> {
        Path::from_actions(model, self.states[0].clone(), &self.actions)
            .expect("a replayed path is a path of the model")
    }
}

/// `text` (`0/3/1`, slashes at either end ignored) as action indices.
pub fn parse_indices(text: &str) -> Result<Vec<usize>, String> {
    let trimmed = text.trim_matches('/');
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    let indices = trimmed
        .split('/')
        .map(|part| {
            part.parse::<usize>()
                .map_err(|_| format!("'{part}' in the path '{text}' is not an action index"))
        })
        .collect::<Result<Vec<usize>, String>>()?;
    if indices.len() > PATH_STEPS_MAX + 1 {
        return Err(format!(
            "the path has {} steps; the Explorer replays at most {PATH_STEPS_MAX}",
            indices.len() - 1
        ));
    }
    Ok(indices)
}

/// The path that `encoded` (a report's `0/3/1`) names.
pub fn decode_path<M: Checkable>(model: &M, encoded: &str) -> Result<ModelPath<M>, String> {
    let replay = replay(model, &parse_indices(encoded)?)?;
    Ok(replay.path(model))
}

/// Replays `indices` from the initial state it names.
pub fn replay<M: Checkable>(model: &M, indices: &[usize]) -> Result<Replay<M>, String> {
    let Some((&init_index, steps)) = indices.split_first() else {
        return Err("a path starts with the index of an initial state".into());
    };
    let init = model
        .init_states()
        .into_iter()
        .nth(init_index)
        .ok_or_else(|| format!("there is no initial state {init_index}"))?;
    let mut replay = Replay {
        states: vec![init],
        actions: Vec::new(),
    };
    for (position, &index) in steps.iter().enumerate() {
        let state = replay.states.last().expect("never empty");
        let mut actions = Vec::new();
        model.actions(state, &mut actions);
        let step = position + 1;
        let action = actions
            .into_iter()
            .nth(index)
            .ok_or_else(|| format!("step {step}: the state before it has no action {index}"))?;
        let next = model
            .next_state(state, action.clone())
            .ok_or_else(|| format!("step {step}: action {index} changes nothing here"))?;
        replay.actions.push(action);
        replay.states.push(next);
    }
    Ok(replay)
}

/// Where each property stands along a path: the step where an always-property first fails, a
/// sometimes-property first holds; an eventually-property fails when the path ends in a state
/// with nothing left to do and it never held.
struct Findings {
    broken: Vec<(&'static str, usize)>,
    examples: Vec<(&'static str, usize)>,
}

fn findings<M: Checkable>(model: &M, replay: &Replay<M>) -> Findings {
    let mut findings = Findings {
        broken: Vec::new(),
        examples: Vec::new(),
    };
    let last = replay.states.len() - 1;
    let ends = is_end(model, &replay.states[last]);
    for property in model.properties() {
        let holds = |state: &M::State| (property.condition)(model, state);
        match property.expectation {
            Expectation::Always => {
                if let Some(step) = replay.states.iter().position(|state| !holds(state)) {
                    findings.broken.push((property.name, step));
                }
            }
            Expectation::Sometimes => {
                if let Some(step) = replay.states.iter().position(holds) {
                    findings.examples.push((property.name, step));
                }
            }
            Expectation::Eventually => {
                if ends && !replay.states.iter().any(holds) {
                    findings.broken.push((property.name, last));
                }
            }
        }
    }
    findings.broken.sort_by_key(|(_, step)| *step);
    findings
}

/// Whether nothing that counts as progress can happen in `state` (a crash is not progress: its
/// recovery undoes it).
fn is_end<M: Checkable>(model: &M, state: &M::State) -> bool {
    let mut actions = Vec::new();
    model.actions(state, &mut actions);
    actions.into_iter().all(|action| {
        !model.is_progress(&action)
            || model
                .next_state(state, action)
                .is_none_or(|next| next == *state)
    })
}

/// The choices from the last state of `replay`: each action with the path it leads to, and
/// what it would break or decide.
pub fn choices<M: Checkable>(model: &M, indices: &[usize], state: &M::State) -> Vec<Value> {
    let prefix: Vec<String> = indices.iter().map(usize::to_string).collect();
    let mut actions = Vec::new();
    model.actions(state, &mut actions);
    let properties = model.properties();
    actions
        .into_iter()
        .enumerate()
        .map(|(index, action)| {
            let text = model.format_action(&action);
            let mut path = prefix.clone();
            path.push(index.to_string());
            match model.next_state(state, action) {
                None => json!({
                    "index": index,
                    "action": text,
                    "ignored": true,
                }),
                Some(next) => {
                    let breaks: Vec<&str> = properties
                        .iter()
                        .filter(|property| {
                            property.expectation == Expectation::Always
                                && (property.condition)(model, state)
                                && !(property.condition)(model, &next)
                        })
                        .map(|property| property.name)
                        .collect();
                    json!({
                        "index": index,
                        "action": text,
                        "path": path.join("/"),
                        "notes": model.step_notes(state, &next),
                        "breaks": breaks,
                    })
                }
            }
        })
        .collect()
}

/// Everything the page shows for the path `indices` with step `selected` (default: the last)
/// in view.
pub fn path_view<M: Checkable>(
    model: &M,
    indices: &[usize],
    selected: Option<usize>,
) -> Result<Value, String> {
    let replay = replay(model, indices)?;
    let last = replay.states.len() - 1;
    let selected = selected.unwrap_or(last).min(last);
    let findings = findings(model, &replay);
    let path = replay.path(model);
    let steps: Vec<Value> = replay
        .states
        .iter()
        .enumerate()
        .map(|(step, state)| {
            let (text, notes) = match step {
                0 => ("the initial state".to_owned(), Vec::new()),
                _ => (
                    model.format_action(&replay.actions[step - 1]),
                    model.step_notes(&replay.states[step - 1], state),
                ),
            };
            let broken: Vec<&str> = findings
                .broken
                .iter()
                .filter(|(_, at)| *at == step)
                .map(|(name, _)| *name)
                .collect();
            let examples: Vec<&str> = findings
                .examples
                .iter()
                .filter(|(_, at)| *at == step)
                .map(|(name, _)| *name)
                .collect();
            json!({
                "step": step,
                "action": text,
                "notes": notes,
                "state": model.describe_state(state),
                "broken": broken,
                "examples": examples,
            })
        })
        .collect();
    let first_broken = findings.broken.first();
    let story = first_broken.map(|(name, _)| {
        json!({
            "property": name,
            "lines": model.story(&path, name),
        })
    });
    let marks = DiagramMarks {
        broken: first_broken.map(|(name, step)| (*step, (*name).to_owned())),
        selected: Some(selected),
        ..DiagramMarks::default()
    };
    let selected_indices = &indices[..=selected];
    let broken: Vec<Value> = findings
        .broken
        .iter()
        .map(|(name, step)| json!({"property": name, "step": step}))
        .collect();
    let examples: Vec<Value> = findings
        .examples
        .iter()
        .map(|(name, step)| json!({"property": name, "step": step}))
        .collect();
    Ok(json!({
        "path": indices.iter().map(usize::to_string).collect::<Vec<_>>().join("/"),
        "selected": selected,
        "steps": steps,
        "broken": broken,
        "examples": examples,
        "story": story,
        "svg": model.diagram(&path, &marks),
        "choices": choices(model, selected_indices, &replay.states[selected]),
    }))
}
