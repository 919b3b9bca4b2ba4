//! A run drawn as a sequence diagram: a lifeline for every actor under its name (`a1`, `p1`),
//! one row per step, numbered as in the text report: a delivered message is an arrow from its
//! sender to its recipient, labelled in protocol words (the tooltip says when it was sent); a
//! lost message stops half way with a cross; timeouts, crashes and recoveries are marked on
//! their lifelines; and the steps where something decisive happened (a value chosen) are
//! highlighted across the diagram, with what happened written in the band. One row per step,
//! rather than arrows slanting from send to delivery, keeps every label clear of the others.
//!
//! The SVG is self-contained (its own style sheet), scales through its `viewBox`, and escapes
//! every label, so that any browser or `xmllint` reads it.

use crate::check::actors::{ActorSystem, Packet, SystemAction, SystemPath};
use crate::check::settings::Presentation;
use stateright::actor::{Actor, Id};
use std::collections::{HashMap, VecDeque};
use std::fmt::{Debug, Write};
use std::hash::Hash;

const LEFT_MARGIN: u64 = 70;
const COLUMN: u64 = 170;
const TOP: u64 = 60;
const ROW: u64 = 34;
const LABEL_CHARS_MAX: usize = 60;

/// `text` for an SVG text node or attribute.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// A label cut to fit between two lifelines, with the whole of it as the element's tooltip.
fn fitted(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS_MAX {
        return label.to_owned();
    }
    let mut cut: String = label.chars().take(LABEL_CHARS_MAX - 1).collect();
    cut.push('…');
    cut
}

fn x(actor: usize) -> u64 {
    LEFT_MARGIN + COLUMN / 2 + actor as u64 * COLUMN
}

fn y(step: usize) -> u64 {
    TOP + step as u64 * ROW
}

/// Draws `path` through `model`.
pub fn sequence_diagram<A, C, H>(model: &ActorSystem<A, C, H>, path: &SystemPath<A, H>) -> String
where
    A: Actor,
    A::Msg: Ord + Debug + Hash + Clone,
    A::Timer: Ord,
    H: Clone + Debug + Hash + Eq,
    C: Presentation<A::Msg>,
{
    let steps = path.clone().into_vec();
    let actor_count = model.actors.len();
    let rows = steps.len();
    let width = LEFT_MARGIN + COLUMN * actor_count as u64 + 40;
    let height = y(rows) + 20;
    let name = |index: usize| model.cfg.actor_name(Id::from(index));
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\">"
    );
    svg.push_str(STYLE);
    let _ = write!(
        svg,
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
         markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\">\
         <path d=\"M 0 0 L 10 5 L 0 10 z\" class=\"head\"/></marker></defs>"
    );
    let _ = write!(
        svg,
        "<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" class=\"page\"/>"
    );
    // Highlights first, so that arrows and labels are drawn over them.
    for (index, window) in steps.windows(2).enumerate() {
        let ((before, _), (after, _)) = (&window[0], &window[1]);
        let notes = model.notes(before, after);
        if notes.is_empty() {
            continue;
        }
        let step = index + 1;
        let top = y(step) - ROW / 2;
        let _ = write!(
            svg,
            "<rect x=\"4\" y=\"{top}\" width=\"{}\" height=\"{ROW}\" class=\"decisive\"/>\
             <text x=\"{}\" y=\"{}\" class=\"note\">{}</text>",
            width - 8,
            width - 12,
            top + ROW - 6,
            escape(&notes.join("; "))
        );
    }
    for actor in 0..actor_count {
        let _ = write!(
            svg,
            "<line x1=\"{x}\" y1=\"{top}\" x2=\"{x}\" y2=\"{bottom}\" class=\"lifeline\"/>\
             <text x=\"{x}\" y=\"{label}\" class=\"actor\">{name}</text>",
            x = x(actor),
            top = TOP - 20,
            bottom = y(rows),
            label = TOP - 28,
            name = escape(&name(actor)),
        );
    }
    // When each message in flight was sent, in steps (0: before the first step).
    let mut sent: HashMap<Packet<A::Msg>, VecDeque<usize>> = HashMap::new();
    if let Some((first, _)) = steps.first() {
        for packet in &first.network {
            sent.entry(packet.clone()).or_default().push_back(0);
        }
    }
    for (index, window) in steps.windows(2).enumerate() {
        let ((before, action), (after, _)) = (&window[0], &window[1]);
        let step = index + 1;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" class=\"step\">{step}</text>",
            LEFT_MARGIN - 16,
            y(step) + 4
        );
        let Some(action) = action else { continue };
        match action {
            SystemAction::Deliver(packet) | SystemAction::Lose(packet) => {
                let lost = matches!(action, SystemAction::Lose(_));
                let from = sent
                    .get_mut(packet)
                    .and_then(|times| times.pop_front())
                    .unwrap_or(0);
                let (x1, mut x2) = (x(usize::from(packet.src)), x(usize::from(packet.dst)));
                let row = y(step);
                let label = model.cfg.describe(&packet.msg);
                if lost {
                    x2 = (x1 + x2) / 2;
                }
                let class = if lost { "lost" } else { "message" };
                let title = format!(
                    "step {step}: {} (sent {})",
                    model.format_step_label(action),
                    if from == 0 {
                        "at the start".to_owned()
                    } else {
                        format!("at step {from}")
                    }
                );
                let _ = write!(
                    svg,
                    "<g><title>{title}</title><line x1=\"{x1}\" y1=\"{row}\" x2=\"{x2}\" y2=\"{row}\" \
                     class=\"{class}\"{marker}/><text x=\"{lx}\" y=\"{ly}\" class=\"label\">{text}</text>",
                    title = escape(&title),
                    marker = if lost { "" } else { " marker-end=\"url(#arrow)\"" },
                    lx = (x1 + x2) / 2,
                    ly = row - 5,
                    text = escape(&fitted(&label)),
                );
                if lost {
                    let _ = write!(
                        svg,
                        "<text x=\"{}\" y=\"{}\" class=\"loss\">✕ lost</text>",
                        x2 + 4,
                        row + 4
                    );
                }
                svg.push_str("</g>");
            }
            SystemAction::Timeout(actor, _) => {
                marker(&mut svg, usize::from(*actor), step, "timer", "⏰ timeout")
            }
            SystemAction::Crash(actor) => {
                marker(&mut svg, usize::from(*actor), step, "crash", "✕ crash")
            }
            SystemAction::Recover(actor) => {
                marker(&mut svg, usize::from(*actor), step, "recover", "↻ recovers")
            }
        }
        // What this step sent: the packets in flight after it that were not before it.
        let mut before_counts: HashMap<&Packet<A::Msg>, usize> = HashMap::new();
        for packet in &before.network {
            *before_counts.entry(packet).or_default() += 1;
        }
        if let SystemAction::Deliver(packet) | SystemAction::Lose(packet) = action {
            if let Some(count) = before_counts.get_mut(packet) {
                *count = count.saturating_sub(1);
            }
        }
        for packet in &after.network {
            match before_counts.get_mut(packet) {
                Some(count) if *count > 0 => *count -= 1,
                _ => sent.entry(packet.clone()).or_default().push_back(step),
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

fn marker(svg: &mut String, actor: usize, step: usize, class: &str, text: &str) {
    let _ = write!(
        svg,
        "<g><circle cx=\"{x}\" cy=\"{y}\" r=\"5\" class=\"{class}\"/>\
         <text x=\"{tx}\" y=\"{ty}\" class=\"{class}-text\">{text}</text></g>",
        x = x(actor),
        y = y(step),
        tx = x(actor) + 9,
        ty = y(step) + 4,
        text = escape(text),
    );
}

const STYLE: &str = "<style>\
.page{fill:#ffffff}\
.actor{font-size:15px;font-weight:bold;text-anchor:middle;fill:#222}\
.lifeline{stroke:#999;stroke-width:1.5;stroke-dasharray:6 4}\
.step{font-size:12px;text-anchor:end;fill:#777}\
.message{stroke:#1f5fa8;stroke-width:1.6}\
.head{fill:#1f5fa8}\
.lost{stroke:#c0392b;stroke-width:1.6;stroke-dasharray:4 3}\
.loss{font-size:12px;fill:#c0392b}\
.label{font-size:11.5px;text-anchor:middle;fill:#1b2a3a;paint-order:stroke;stroke:#fff;stroke-width:3px}\
.timer{fill:#d68910}.timer-text{font-size:12px;fill:#9a6408}\
.crash{fill:#c0392b}.crash-text{font-size:12px;fill:#c0392b}\
.recover{fill:#1e8449}.recover-text{font-size:12px;fill:#1e8449}\
.decisive{fill:#fff4c2;stroke:#e5c100;stroke-width:1}\
.note{font-size:12px;font-weight:bold;text-anchor:end;fill:#7a5c00}\
</style>";
