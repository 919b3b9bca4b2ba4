//! `check --html FILE`: the run's first counterexample (else its first example) as one
//! self-contained page, the sequence diagram beside the story and the numbered steps, for a
//! learner to open without a server.

use crate::report::RunDescription;
use crate::run::{Outcome, Verdict};
use paxos_model::check::svg::escape;
use std::fmt::Write;

/// The page, and the property it shows; `None` when nothing was discovered.
pub fn html(run: &RunDescription, outcome: &Outcome) -> Option<(&'static str, String)> {
    let (name, svg) = outcome.svg.as_ref()?;
    let property = outcome
        .properties
        .iter()
        .find(|property| property.name == *name)?;
    let heading = match property.verdict {
        Verdict::Violated => format!("Counterexample for \"{name}\""),
        _ => format!("Example of \"{name}\""),
    };
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title}</title><style>{STYLE}</style></head><body>\
         <header><h1>{title}</h1><p>{model}: {summary}</p></header><main><section class=\"words\">",
        title = escape(&heading),
        model = escape(run.model_title),
        summary = escape(&run.summary),
    );
    if !property.story.is_empty() {
        page.push_str("<h2>What happened</h2><ul class=\"story\">");
        for line in &property.story {
            let _ = write!(page, "<li>{}</li>", escape(line));
        }
        page.push_str("</ul>");
    }
    page.push_str("<h2>Steps</h2><ol class=\"steps\">");
    for (index, step) in property.trace.iter().flatten().enumerate() {
        let class = if property.decisive_step == Some(index + 1) {
            " class=\"decisive\""
        } else {
            ""
        };
        let _ = write!(page, "<li{class}>{}</li>", escape(step));
    }
    page.push_str("</ol>");
    if let Some(path) = &property.explorer_path {
        let _ = write!(
            page,
            "<p>Step through it: <code>{}</code>, then open <a href=\"{url}\">{url}</a></p>",
            escape(&run.explore_command()),
            url = escape(&run.explorer_url(path)),
        );
    }
    let _ = writeln!(
        page,
        "</section><section class=\"diagram\">{svg}</section></main></body></html>"
    );
    Some((name, page))
}

const STYLE: &str = "body{margin:0;font-family:system-ui,sans-serif;font-size:14px;color:#1b2a3a;\
background:#f3f6f9}header{padding:10px 18px;background:#1b2a3a;color:#fff}header h1{margin:0;\
font-size:20px}header p{margin:4px 0 0;color:#cfd8e3}main{display:flex;gap:14px;padding:14px 18px;\
align-items:flex-start}section{background:#fff;border:1px solid #d5dde5;border-radius:6px;\
padding:8px 14px}.words{flex:0 0 40%}.diagram{flex:1 1 auto;overflow-x:auto}.diagram svg{max-width:100%;\
height:auto}h2{font-size:15px}.story li{margin:5px 0;line-height:1.45}.steps{font-family:ui-monospace,\
monospace;font-size:12.5px}.steps li.decisive{background:#fde2e0;font-weight:600}code{font-size:12px}";
