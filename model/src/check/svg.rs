//! A run drawn as a sequence diagram: a lifeline for every actor under its name (`a1`, `p1`),
//! one row per step, numbered as in the text report: a delivered message is an arrow from its
//! sender to its recipient, labelled in protocol words (the tooltip says when it was sent); a
//! lost message stops half way with a cross; timeouts, crashes and recoveries are marked on
//! their lifelines; and the steps where something decisive happened (a value chosen) are
//! highlighted across the diagram, with what happened written in the band. `DiagramMarks` adds
//! the step after which a property is broken (in red), the loop of a lasso (framed, "repeat
//! forever") and the step a reader has selected. One row per step, rather than arrows slanting
//! from send to delivery, keeps every label clear of the others.
//!
//! The SVG is self-contained (its own style sheet), scales through its `viewBox`, and escapes
//! every label, so that any browser or `xmllint` reads it.

use crate::check::actors::{ActorSystem, SystemAction, SystemPath};
use crate::check::settings::Presentation;
use crate::check::story::sending_steps;
use stateright::actor::{Actor, Id};
use std::fmt::{Debug, Write};
use std::hash::Hash;

const LEFT_MARGIN: u64 = 70;
/// Room right of the last lifeline for labels and the notes of decisive steps.
const RIGHT_MARGIN: u64 = 120;
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

/// What to draw on a diagram besides the run itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiagramMarks {
    /// The step after which a property is broken, and the property: its row turns red.
    pub broken: Option<(usize, String)>,
    /// The first step of a loop that repeats forever (a lasso's cycle, from there to the end).
    pub loop_from: Option<usize>,
    /// The step a reader is looking at (the Explorer's selection).
    pub selected: Option<usize>,
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
    marked_sequence_diagram(model, path, &DiagramMarks::default())
}

/// Draws `path` through `model`, with `marks`.
pub fn marked_sequence_diagram<A, C, H>(
    model: &ActorSystem<A, C, H>,
    path: &SystemPath<A, H>,
    marks: &DiagramMarks,
) -> String
where
    A: Actor,
    A::Msg: Ord + Debug + Hash + Clone,
    A::Timer: Ord,
    H: Clone + Debug + Hash + Eq,
    C: Presentation<A::Msg>,
{
    let steps = path.clone().into_vec();
    let sending = sending_steps(path);
    let actor_count = model.actors.len();
    let rows = steps.len().saturating_sub(1);
    let width = LEFT_MARGIN + COLUMN * actor_count as u64 + RIGHT_MARGIN;
    let height = y(rows) + ROW;
    let name = |index: usize| model.cfg.actor_name(Id::from(index));
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\">"
    );
    svg.push_str(STYLE);
    svg.push_str(
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
         markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\">\
         <path d=\"M 0 0 L 10 5 L 0 10 z\" class=\"head\"/></marker></defs>",
    );
    let _ = write!(
        svg,
        "<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" class=\"page\"/>"
    );
    // Bands first, so that arrows and labels are drawn over them.
    if let Some(step) = marks.selected.filter(|step| (1..=rows).contains(step)) {
        band(&mut svg, step, width, "selected");
    }
    for (index, window) in steps.windows(2).enumerate() {
        let step = index + 1;
        let ((before, _), (after, _)) = (&window[0], &window[1]);
        let mut notes = model.notes(before, after);
        let broken = marks
            .broken
            .as_ref()
            .filter(|(broken_step, _)| *broken_step == step);
        if let Some((_, property)) = broken {
            notes.push(format!("✘ {property} broken"));
        }
        if notes.is_empty() {
            continue;
        }
        let class = if broken.is_some() {
            "broken"
        } else {
            "decisive"
        };
        let top = band(&mut svg, step, width, class);
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" class=\"note {class}-note\">{}</text>",
            width - 12,
            top + ROW - 6,
            escape(&notes.join("; "))
        );
    }
    if let Some(from) = marks.loop_from.filter(|from| (1..=rows).contains(from)) {
        let top = y(from) - ROW / 2;
        let bottom = y(rows) + ROW / 2;
        let _ = write!(
            svg,
            "<g><title>steps {from} to {rows} repeat forever</title>\
             <rect x=\"{x}\" y=\"{top}\" width=\"{w}\" height=\"{h}\" class=\"loop\"/>\
             <text x=\"{tx}\" y=\"{ty}\" class=\"loop-text\">↻ steps {from}–{rows}</text>\
             <text x=\"{tx}\" y=\"{ty2}\" class=\"loop-text\">repeat forever</text></g>",
            x = LEFT_MARGIN - 40,
            w = width - LEFT_MARGIN + 34,
            h = bottom - top,
            tx = width - 12,
            ty = top + 16,
            ty2 = top + 31,
        );
    }
    for actor in 0..actor_count {
        let _ = write!(
            svg,
            "<line x1=\"{x}\" y1=\"{top}\" x2=\"{x}\" y2=\"{bottom}\" class=\"lifeline\"/>\
             <text x=\"{x}\" y=\"{label}\" class=\"actor\">{name}</text>",
            x = x(actor),
            top = TOP - 20,
            bottom = y(rows) + ROW / 2,
            label = TOP - 28,
            name = escape(&name(actor)),
        );
    }
    for (index, (_, action)) in steps.iter().enumerate().take(rows) {
        let step = index + 1;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" class=\"step\">{step}</text>",
            LEFT_MARGIN - 16,
            y(step) + 4
        );
        let Some(action) = action else { continue };
        let title = format!("step {step}: {}", model.format_step_label(action));
        match action {
            SystemAction::Deliver(packet) | SystemAction::Lose(packet) => {
                let lost = matches!(action, SystemAction::Lose(_));
                let sent = match sending[index] {
                    Some(0) | None => "sent at the start".to_owned(),
                    Some(at) => format!("sent at step {at}"),
                };
                arrow(
                    &mut svg,
                    (usize::from(packet.src), usize::from(packet.dst)),
                    step,
                    &model.cfg.describe(&packet.msg),
                    &format!("{title} ({sent})"),
                    lost,
                );
            }
            SystemAction::Timeout(actor, _) => marker(
                &mut svg,
                usize::from(*actor),
                step,
                ("timer", "⏰ timeout"),
                &title,
            ),
            SystemAction::Crash(actor) => marker(
                &mut svg,
                usize::from(*actor),
                step,
                ("crash", "✕ crash"),
                &title,
            ),
            SystemAction::CrashLosingDisk(actor) => marker(
                &mut svg,
                usize::from(*actor),
                step,
                ("crash", "✕ crash, disk lost"),
                &title,
            ),
            SystemAction::Recover(actor) => marker(
                &mut svg,
                usize::from(*actor),
                step,
                ("recover", "↻ recovers"),
                &title,
            ),
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A band across the diagram at `step`'s row; returns its top.
fn band(svg: &mut String, step: usize, width: u64, class: &str) -> u64 {
    let top = y(step) - ROW / 2;
    let _ = write!(
        svg,
        "<rect x=\"4\" y=\"{top}\" width=\"{}\" height=\"{ROW}\" class=\"{class}\"/>",
        width - 8
    );
    top
}

/// A message from `ends.0` to `ends.1` at `step`'s row; a lost one stops half way with a cross.
fn arrow(
    svg: &mut String,
    ends: (usize, usize),
    step: usize,
    label: &str,
    title: &str,
    lost: bool,
) {
    let (x1, mut x2) = (x(ends.0), x(ends.1));
    if lost {
        x2 = (x1 + x2) / 2;
    }
    let row = y(step);
    let class = if lost { "lost" } else { "message" };
    let _ = write!(
        svg,
        "<g><title>{title}</title><line x1=\"{x1}\" y1=\"{row}\" x2=\"{x2}\" y2=\"{row}\" \
         class=\"{class}\"{marker}/><text x=\"{lx}\" y=\"{ly}\" class=\"label\">{text}</text>",
        title = escape(title),
        marker = if lost {
            ""
        } else {
            " marker-end=\"url(#arrow)\""
        },
        lx = (x(ends.0) + x(ends.1)) / 2,
        ly = row - 5,
        text = escape(&fitted(label)),
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

/// A mark on `actor`'s lifeline at `step`'s row: `(class, text)`.
fn marker(svg: &mut String, actor: usize, step: usize, (class, text): (&str, &str), title: &str) {
    let _ = write!(
        svg,
        "<g><title>{title}</title><circle cx=\"{x}\" cy=\"{y}\" r=\"5\" class=\"{class}\"/>\
         <text x=\"{tx}\" y=\"{ty}\" class=\"{class}-text\">{text}</text></g>",
        title = escape(title),
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
.broken{fill:#fde2e0;stroke:#c0392b;stroke-width:1.5}\
.selected{fill:#e3efff;stroke:#7aa7e0;stroke-width:1}\
.note{font-size:12px;font-weight:bold;text-anchor:end;paint-order:stroke;stroke:#fff;stroke-width:3px}\
.decisive-note{fill:#7a5c00}.broken-note{fill:#a52a1c}\
.loop{fill:none;stroke:#8e44ad;stroke-width:2;stroke-dasharray:8 4}\
.loop-text{font-size:12px;font-weight:bold;fill:#8e44ad;text-anchor:end}\
</style>";
