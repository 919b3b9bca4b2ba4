//! `paxos-check flaws`: the flaw catalogue as a table and, with `--check`, the checker bearing out
//! every entry: each flaw's violated property with its shortest counterexample, and a complete
//! clean run for each benign one. The catalogue itself (configurations, expected consequences,
//! lessons) lives in the model crate; this module only runs and prints it.

use crate::args::{FlawsArgs, Format};
use crate::report::{
    config_json, explore_command, explorer_url, numbered_steps, wrapped, STORY_WIDTH,
};
use crate::run::{Outcome, Verdict};
use paxos_model::check::catalogue::{self, catalogue, Consequence, Entry};
use paxos_model::check::examine::{examine, Finding};
use paxos_model::Flaw;
use serde_json::{json, Value};
use std::fmt::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Instant;

/// An entry and, after `--check`, what the checker found.
struct Row {
    entry: Entry,
    finding: Option<Finding>,
}

impl Row {
    fn confirmed(&self) -> bool {
        self.finding
            .as_ref()
            .is_some_and(|finding| finding.confirms(self.entry.consequence))
    }

    /// The verdict column: the catalogue borne out (`caught`, `benign`) or contradicted (no
    /// violation, another property broken first, or a violation of a benign flaw).
    fn verdict(&self) -> &'static str {
        let found_any = self
            .finding
            .as_ref()
            .is_some_and(|finding| finding.counterexample.is_some());
        match (self.entry.consequence, self.confirmed()) {
            (Consequence::Breaks(_), true) => "caught",
            (Consequence::Benign, true) => "benign",
            (Consequence::Breaks(_), false) if found_any => "OTHER PROPERTY",
            (Consequence::Breaks(_), false) => "MISSED",
            (Consequence::Benign, false) => "NOT BENIGN",
        }
    }

    fn flags(&self) -> Vec<(&'static str, String)> {
        self.entry.setting.flags()
    }

    fn explore_command(&self, addr: SocketAddr) -> String {
        Row::explore_command_for(&self.entry, addr)
    }

    fn explore_command_for(entry: &Entry, addr: SocketAddr) -> String {
        explore_command(entry.setting.model_name(), &entry.setting.flags(), addr)
    }
}

/// What a `check --flaw NAME` run should add from the catalogue: that the flaw is benign, or,
/// when a complete run violated nothing, where the catalogue does catch it.
pub fn note_on_run(
    flaw: Flaw,
    model_name: &str,
    flags: &[(&'static str, String)],
    outcome: &Outcome,
    addr: SocketAddr,
) -> Option<String> {
    let entry = catalogue::entry_for(flaw)?;
    if entry.consequence == Consequence::Benign {
        return Some(format!(
            "note: the catalogue lists {flaw} as benign: {}.",
            entry.lesson
        ));
    }
    let violated_any = outcome
        .properties
        .iter()
        .any(|property| property.verdict == Verdict::Violated && property.excused.is_none());
    let same_configuration =
        entry.setting.model_name() == model_name && entry.setting.flags() == flags;
    if violated_any || !outcome.complete || same_configuration {
        return None;
    }
    let Consequence::Breaks(property) = entry.consequence else {
        unreachable!("benign entries returned above");
    };
    Some(format!(
        "note: this configuration does not expose {flaw}: nothing was violated in the whole \
         state space. The catalogue catches it breaking \"{property}\" in {} {} \
         (`paxos-check flaws --check {flaw}`); step through that model with:\n  {}",
        entry.setting.model_name(),
        entry.setting.brief(),
        Row::explore_command_for(&entry, addr)
    ))
}

/// How ballots read in every model the catalogue runs, said once per report.
const BALLOTS: &str = "Ballots read round.owner: 1.p2 is round 1 of proposer p2 (1.l2 of \
                       leader l2, 1.n2 of node n2). A higher round wins; in one round, the \
                       higher-numbered owner.";

/// 1 when a checked entry is not as catalogued, else 0 (listing alone always succeeds).
fn exit_status(rows: &[Row], checked: bool) -> u8 {
    u8::from(checked && !rows.iter().all(Row::confirmed))
}

fn expected(consequence: Consequence) -> &'static str {
    match consequence {
        Consequence::Breaks(property) => property,
        Consequence::Benign => "benign",
    }
}

pub fn run(args: &FlawsArgs) -> ExitCode {
    let started = Instant::now();
    let rows: Vec<Row> = catalogue()
        .into_iter()
        .filter(|entry| {
            args.only.is_empty() || args.only.iter().any(|name| name == entry.flaw.name())
        })
        .map(|entry| {
            let finding = args.check.then(|| check_one(&entry, args.threads as usize));
            Row { entry, finding }
        })
        .collect();
    let seconds = started.elapsed().as_secs_f64();
    match (args.format, args.check) {
        (Format::Text, false) => print!("{}", list_text(&rows)),
        (Format::Text, true) => print!("{}", check_text(&rows, args.addr, seconds)),
        (Format::Json, _) => println!("{}", json_report(&rows, args, seconds)),
    }
    ExitCode::from(exit_status(&rows, args.check))
}

/// Runs the checker on one entry, with a line of progress on stderr.
fn check_one(entry: &Entry, threads: usize) -> Finding {
    eprint!("checking {} ({})... ", entry.flaw, entry.setting.brief());
    let finding = examine(entry, threads);
    let outcome = match &finding.counterexample {
        Some(found) => format!("{} violated in {} steps", found.property, found.steps.len()),
        None if finding.violated.is_empty() => "no property violated".to_string(),
        None => format!("violated: {}", finding.violated.join(", ")),
    };
    eprintln!(
        "{outcome}; {} states, {:.2} s",
        finding.states, finding.seconds
    );
    finding
}

/// Left-aligned columns, each as wide as its widest cell.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|column| {
            rows.iter()
                .map(|row| row[column].len())
                .chain([header[column].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|cell| cell.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}

fn list_text(rows: &[Row]) -> String {
    let mut out = String::from(
        "Classic Paxos flaws: each bends one rule of the real protocol code (one bends two).\n\
         `paxos-check flaws --check` lets the checker catch every one; \
         `paxos-check check MODEL --flaw NAME` shows one.\n\
         \"breaks\" is the first property a check of the flaw's configuration finds broken \
         (immutability breaks one step before a second value could be chosen).\n\n",
    );
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            vec![
                row.entry.flaw.name().to_string(),
                row.entry.setting.model_name().to_string(),
                expected(row.entry.consequence).to_string(),
                row.entry.flaw.description().to_string(),
            ]
        })
        .collect();
    out.push_str(&table(&["flaw", "model", "breaks", "description"], &cells));
    out
}

fn check_text(rows: &[Row], addr: SocketAddr, seconds: f64) -> String {
    let confirmed = rows.iter().filter(|row| row.confirmed()).count();
    let mut out = format!(
        "Flaw catalogue checked: {confirmed} of {} as catalogued, {seconds:.1} s\n{BALLOTS}\n\n",
        rows.len()
    );
    let cells: Vec<Vec<String>> = rows.iter().map(|row| table_row(row, addr)).collect();
    out.push_str(&table(
        &[
            "flaw",
            "configuration",
            "verdict",
            "property",
            "steps",
            "states",
            "seconds",
            "Explorer",
        ],
        &cells,
    ));
    for row in rows {
        out.push('\n');
        out.push_str(&details(row, addr));
    }
    out
}

fn table_row(row: &Row, addr: SocketAddr) -> Vec<String> {
    let finding = row.finding.as_ref().expect("checked");
    let found = finding.counterexample.as_ref();
    let property = match (found, row.entry.consequence) {
        (Some(found), _) => found.property.to_string(),
        (None, Consequence::Breaks(_)) => "-".to_string(),
        (None, Consequence::Benign) => match finding.violated.first() {
            Some(violated) => violated.to_string(),
            None => "none violated".to_string(),
        },
    };
    vec![
        row.entry.flaw.name().to_string(),
        format!(
            "{} {}",
            row.entry.setting.model_name(),
            row.entry.setting.brief()
        ),
        row.verdict().to_string(),
        property,
        found.map_or("-".into(), |found| found.steps.len().to_string()),
        finding.states.to_string(),
        format!("{:.2}", finding.seconds),
        found.map_or("-".into(), |found| explorer_url(addr, &found.explorer_path)),
    ]
}

/// One entry's story: what the flaw does, why the rule matters, and the counterexample.
fn details(row: &Row, addr: SocketAddr) -> String {
    let entry = &row.entry;
    let finding = row.finding.as_ref().expect("checked");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}): {}",
        entry.flaw,
        row.verdict(),
        entry.flaw.description()
    );
    let _ = writeln!(out, "  Why it matters: {}.", entry.lesson);
    let _ = writeln!(out, "  Configuration: {}", entry.setting.summary());
    match (&finding.counterexample, entry.consequence) {
        (Some(found), _) => {
            let _ = writeln!(
                out,
                "  Shortest counterexample for \"{}\" ({} steps):",
                found.property,
                found.steps.len()
            );
            out.push_str(&numbered_steps(&found.steps, &found.trace));
            let _ = writeln!(
                out,
                "  Explorer: {}",
                explorer_url(addr, &found.explorer_path)
            );
            let _ = writeln!(out, "  Serve it with: {}", row.explore_command(addr));
            if let Consequence::Breaks(expected) = entry.consequence {
                if expected != found.property {
                    let _ = writeln!(
                        out,
                        "  NOT AS CATALOGUED: the catalogue says \"{expected}\" breaks first"
                    );
                }
            }
            if !found.story.is_empty() {
                let _ = writeln!(out);
                let _ = writeln!(out, "  What happened:");
                for line in &found.story {
                    out.push_str(&wrapped(line, "    ", "      ", STORY_WIDTH));
                }
            }
        }
        (None, Consequence::Breaks(property)) => {
            let _ = writeln!(
                out,
                "  NOT CAUGHT: \"{property}\" was not violated in {} states",
                finding.states
            );
        }
        (None, Consequence::Benign) if finding.violated.is_empty() => {
            let _ = writeln!(
                out,
                "  Every safety and liveness property holds: {} reachable states, all explored.",
                finding.states
            );
            if !finding.missing_examples.is_empty() {
                let _ = writeln!(
                    out,
                    "  It does rule out: {}.",
                    finding.missing_examples.join("; ")
                );
            }
        }
        (None, Consequence::Benign) => {
            let _ = writeln!(
                out,
                "  NOT BENIGN after all: violated {}; serve the model with `{}`",
                finding.violated.join(", "),
                row.explore_command(addr)
            );
        }
    }
    out
}

fn json_report(rows: &[Row], args: &FlawsArgs, seconds: f64) -> Value {
    let flaws: Vec<Value> = rows.iter().map(|row| json_row(row, args.addr)).collect();
    let mut report = json!({ "flaws": flaws });
    if args.check {
        let fields = report.as_object_mut().expect("an object");
        let confirmed = rows.iter().filter(|row| row.confirmed()).count();
        fields.insert("as_catalogued".into(), Value::from(confirmed));
        fields.insert("total".into(), Value::from(rows.len()));
        fields.insert("seconds".into(), Value::from(seconds));
        fields.insert("exit_status".into(), Value::from(exit_status(rows, true)));
    }
    report
}

fn json_row(row: &Row, addr: SocketAddr) -> Value {
    let entry = &row.entry;
    let mut value = json!({
        "flaw": entry.flaw.name(),
        "model": entry.setting.model_name(),
        "description": entry.flaw.description(),
        "breaks": expected(entry.consequence),
        "lesson": entry.lesson,
        "configuration": config_json(&row.flags()),
        "summary": entry.setting.summary(),
    });
    let Some(finding) = &row.finding else {
        return value;
    };
    let fields = value.as_object_mut().expect("an object");
    fields.insert("verdict".into(), Value::from(row.verdict()));
    fields.insert("as_catalogued".into(), Value::from(row.confirmed()));
    fields.insert("complete".into(), Value::from(finding.complete));
    fields.insert("states".into(), Value::from(finding.states));
    fields.insert("seconds".into(), Value::from(finding.seconds));
    fields.insert("violated".into(), Value::from(finding.violated.clone()));
    fields.insert(
        "missing_examples".into(),
        Value::from(finding.missing_examples.clone()),
    );
    if let Some(found) = &finding.counterexample {
        fields.insert(
            "counterexample".into(),
            json!({
                "property": found.property,
                "steps": found.steps.len(),
                "trace": found.steps,
                "explorer_path": found.explorer_path,
                "explorer_url": explorer_url(addr, &found.explorer_path),
                "explore_command": row.explore_command(addr),
                "story": found.story,
            }),
        );
    }
    value
}
