//! The Explorer: a web page to step through a model's runs, served by `paxos-check explore`.
//!
//! It answers the links the reports print (`http://127.0.0.1:3000/#/steps/0/3/1`, stateright's
//! path encoding) and shows the path in the words of the text report: steps numbered as there
//! (the initial state is step 0), each state in protocol words, the step where a property breaks
//! marked on the path with the story of how, and the sequence diagram. Behind the page the
//! checker runs once, as `check` would, so that every property shows its verdict and a link to
//! its counterexample or example.
//!
//! Stateright's own Explorer shows a state's `Debug` dump and offers no place for a story or
//! a verdict, so this one is ours; the JSON it serves keeps the shape of stateright's where the
//! two overlap (`/.status`, `/.states/<path>`).

mod http;
pub mod views;

use crate::run::{self, expectation_name, Outcome, RunSettings};
use http::{Request, Response};
use paxos_model::check::checkable::Checkable;
use paxos_model::check::engine::Progress;
use serde_json::{json, Value};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("explorer.js");
const STYLE: &str = include_str!("explorer.css");

/// What the check behind the page has found so far.
#[derive(Default)]
struct CheckStatus {
    progress: Option<Progress>,
    outcome: Option<Outcome>,
}

/// Serves the Explorer for `model` on `listener` until the process ends, checking the model in
/// the background with `settings`.
pub fn serve<M: Checkable>(model: M, listener: TcpListener, settings: RunSettings) {
    let status = Arc::new(Mutex::new(CheckStatus::default()));
    let checked = model.clone();
    let written = Arc::clone(&status);
    std::thread::spawn(move || {
        let on_progress = |progress: &Progress| {
            written.lock().expect("not poisoned").progress = Some(*progress);
        };
        let outcome = run::check_watched(checked, &settings, &on_progress);
        written.lock().expect("not poisoned").outcome = Some(outcome);
    });
    let handler = move |request: &Request| route(&model, &status, request);
    http::serve(listener, Arc::new(handler));
}

fn route<M: Checkable>(model: &M, status: &Mutex<CheckStatus>, request: &Request) -> Response {
    let path = request.path.as_str();
    match path {
        "/" | "/index.html" => Response::ok("text/html; charset=utf-8", PAGE),
        "/explorer.js" => Response::ok("text/javascript; charset=utf-8", SCRIPT),
        "/explorer.css" => Response::ok("text/css; charset=utf-8", STYLE),
        "/.status" => Response::json(&status_json(model, &status.lock().expect("not poisoned"))),
        _ => {
            if let Some(indices) = path.strip_prefix("/.path") {
                let selected = request
                    .query_value("step")
                    .and_then(|step| step.parse::<usize>().ok());
                answer(
                    views::parse_indices(indices)
                        .and_then(|indices| views::path_view(model, &indices, selected)),
                )
            } else if let Some(indices) = path.strip_prefix("/.states") {
                answer(views::parse_indices(indices).and_then(|indices| {
                    let replay = views::replay(model, &indices)?;
                    let last = replay.states.last().expect("never empty");
                    Ok(Value::from(views::choices(model, &indices, last)))
                }))
            } else {
                Response::error(404, format!("nothing at {path}"))
            }
        }
    }
}

fn answer(view: Result<Value, String>) -> Response {
    match view {
        Ok(value) => Response::json(&value),
        Err(message) => Response::error(404, message),
    }
}

/// The model, how far the check is, and every property's verdict (`checking` until the check
/// ends).
fn status_json<M: Checkable>(model: &M, status: &CheckStatus) -> Value {
    let properties: Vec<Value> = match &status.outcome {
        Some(outcome) => outcome
            .properties
            .iter()
            .map(|property| {
                json!({
                    "name": property.name,
                    "expectation": expectation_name(&property.expectation),
                    "verdict": property.verdict.id(),
                    "path": property.explorer_path,
                    "steps": property.trace.as_ref().map(Vec::len),
                    "expected_here": property.excused,
                    "fails": property.fails(),
                })
            })
            .collect(),
        None => model
            .properties()
            .iter()
            .map(|property| {
                json!({
                    "name": property.name,
                    "expectation": expectation_name(&property.expectation),
                    "verdict": "checking",
                    "path": null,
                })
            })
            .collect(),
    };
    let (states, unique_states, depth, seconds) = match (&status.outcome, &status.progress) {
        (Some(outcome), _) => (
            outcome.states,
            outcome.unique_states,
            outcome.max_depth,
            outcome.seconds,
        ),
        (None, Some(progress)) => (
            progress.states,
            progress.unique_states,
            progress.depth,
            progress.elapsed.as_secs_f64(),
        ),
        (None, None) => (0, 0, 0, 0.0),
    };
    json!({
        "done": status.outcome.is_some(),
        "model": model.name(),
        "title": model.title(),
        "summary": model.summary(),
        "ballot_notation": model.ballot_notation(),
        "state_count": states,
        "unique_state_count": unique_states,
        "max_depth": depth,
        "seconds": seconds,
        "complete": status.outcome.as_ref().map(|outcome| outcome.complete),
        "stopped_by": status.outcome.as_ref().and_then(|outcome| outcome.stopped_by.clone()),
        "properties": properties,
    })
}
