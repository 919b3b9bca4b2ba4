//! Reports of a check: readable text, or one JSON object for tools.

use crate::args::{Engine, Strategy};
use crate::run::{expectation_name, mebibytes, Outcome, Verdict};
use paxos_model::check::cuts::{cuts_words, Cut, CutUse};
use paxos_model::check::engine::{ReductionReport, Stop};
use paxos_model::check::settings::thousands;
use paxos_model::check::story::TraceStep;
use serde_json::{json, Value};
use std::fmt::Write;
use std::net::SocketAddr;

/// What a report says about the run besides its outcome.
pub struct RunDescription {
    pub model_name: &'static str,
    pub model_title: &'static str,
    pub summary: String,
    pub flags: Vec<(&'static str, String)>,
    pub strategy: Strategy,
    pub threads: usize,
    pub explorer_addr: SocketAddr,
    /// The model's cuts of the state space, and whether this run used each.
    pub cuts: Vec<(Cut, CutUse)>,
    /// How the model writes ballots (`1.p2` is round 1 of proposer p2), said once per report.
    pub ballot_notation: String,
    /// The run's own flags besides the model's (`--strategy dfs`, `--threads 1`), so that a
    /// command the report suggests reproduces the run it changes one thing of.
    pub run_flags: Vec<(&'static str, String)>,
    /// Which checker searched: ours, or stateright's own (every cut off).
    pub engine: Engine,
}

impl RunDescription {
    fn strategy_name(&self) -> &'static str {
        match self.strategy {
            Strategy::Bfs => "bfs",
            Strategy::Dfs => "dfs",
            Strategy::Simulation => "simulation",
        }
    }

    pub fn explore_command(&self) -> String {
        explore_command(self.model_name, &self.flags, self.explorer_addr)
    }

    pub fn explorer_url(&self, path: &str) -> String {
        explorer_url(self.explorer_addr, path)
    }

    /// `paxos-check check MODEL ...` with the model's flags, the run's flags, and `changes`
    /// (a flag in `changes` replaces the run's or the model's own).
    pub fn check_command(&self, changes: &[(&'static str, String)]) -> String {
        let mut flags: Vec<(&'static str, String)> = Vec::new();
        for (flag, value) in self.flags.iter().chain(&self.run_flags).chain(changes) {
            match flags.iter_mut().find(|(known, _)| known == flag) {
                Some(known) => known.1 = value.clone(),
                None => flags.push((flag, value.clone())),
            }
        }
        let mut command = format!("paxos-check check {}", self.model_name);
        for (flag, value) in flags {
            command.push_str(&format!(" --{flag}"));
            if !value.is_empty() {
                command.push_str(&format!(" {value}"));
            }
        }
        command
    }
}

/// The processor cores this machine offers, the checker's default thread count.
pub fn machine_cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// What to try after a run that a limit stopped, each an exact command or flag.
pub fn next_steps(run: &RunDescription, outcome: &Outcome) -> Vec<String> {
    let mut steps = Vec::new();
    let cores = machine_cores();
    if run.threads < cores && run.strategy != Strategy::Simulation {
        let shortest = match run.engine {
            Engine::Ours => "; breadth-first counterexamples stay shortest with any number",
            Engine::Stateright => "",
        };
        steps.push(format!(
            "more threads (this machine has {cores} cores{shortest}): {}",
            run.check_command(&[("threads", cores.to_string())])
        ));
    }
    match outcome.stop {
        Some(Stop::Deadline) => {
            let seconds = run
                .run_flags
                .iter()
                .find(|(flag, _)| *flag == "timeout")
                .and_then(|(_, value)| value.parse::<u64>().ok())
                .unwrap_or(60);
            steps.push(format!(
                "more time: {}",
                run.check_command(&[("timeout", (seconds * 4).min(86_400).to_string())])
            ));
        }
        Some(Stop::StateBudget) => {
            let states = run
                .run_flags
                .iter()
                .find(|(flag, _)| *flag == "max-states")
                .and_then(|(_, value)| value.parse::<u64>().ok())
                .unwrap_or(1_000_000);
            steps.push(format!(
                "more states: {}",
                run.check_command(&[("max-states", (states.saturating_mul(10)).to_string())])
            ));
        }
        Some(Stop::MemoryGuard) => {
            steps.push(format!(
                "more memory, if the machine has it (--max-memory takes 512M, 4G, ...), or a \
                 depth-first search, whose frontier is smaller: {}",
                run.check_command(&[("strategy", "dfs".into())])
            ));
        }
        _ => {}
    }
    if let Some(smaller) = smaller_configuration(run) {
        steps.push(smaller);
    }
    // stateright's random walks are not offered (`--engine stateright` refuses them).
    if run.strategy != Strategy::Simulation && run.engine == Engine::Ours {
        steps.push(format!(
            "random walks, which sample deep runs of a space too large to exhaust (they never \
             prove a property holds): {}",
            run.check_command(&[
                ("strategy", "simulation".into()),
                ("timeout", "60".into()),
                ("threads", cores.to_string()),
            ])
        ));
    }
    steps
}

/// The same run with one setting that grows the state space fastest turned down by one, if any
/// is above its least value: rounds first (each one more ballot per proposer), then the rest.
fn smaller_configuration(run: &RunDescription) -> Option<String> {
    const SHRINKABLE: [(&str, u64); 8] = [
        ("rounds", 1),
        ("losses", 0),
        ("crashes", 0),
        ("commands", 1),
        ("clients", 1),
        ("slots", 1),
        ("proposers", 1),
        ("leaders", 1),
    ];
    SHRINKABLE.iter().find_map(|(name, least)| {
        let (flag, value) = run.flags.iter().find(|(flag, _)| flag == name)?;
        let value: u64 = value.parse().ok()?;
        (value > *least).then(|| {
            format!(
                "a smaller configuration (--{flag} {}): {}",
                value - 1,
                run.check_command(&[(flag, (value - 1).to_string())])
            )
        })
    })
}

/// The command that serves the Explorer on the model with these flags.
pub fn explore_command(
    model_name: &str,
    flags: &[(&'static str, String)],
    addr: SocketAddr,
) -> String {
    let mut command = format!("paxos-check explore {model_name}");
    for (flag, value) in flags {
        command.push_str(&format!(" --{flag}"));
        if !value.is_empty() {
            command.push_str(&format!(" {value}"));
        }
    }
    command.push_str(&format!(" --addr {addr}"));
    command
}

/// The Explorer's link to the state at the end of `path` (stateright's action-index path).
pub fn explorer_url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}/#/steps/{path}")
}

/// A model's flags as a JSON object: numbers as numbers, bare switches as `true`.
pub fn config_json(flags: &[(&'static str, String)]) -> serde_json::Map<String, Value> {
    flags
        .iter()
        .map(|(flag, value)| {
            let value = match value.as_str() {
                "" => Value::Bool(true),
                text => text
                    .parse::<u64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| Value::from(text)),
            };
            (flag.to_string(), value)
        })
        .collect()
}

pub fn text(run: &RunDescription, outcome: &Outcome) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", run.model_title, run.summary);
    let _ = writeln!(
        out,
        "strategy {}, {} thread{}{}",
        run.strategy_name(),
        run.threads,
        if run.threads == 1 { "" } else { "s" },
        match run.engine {
            Engine::Ours => "",
            Engine::Stateright => ", stateright's checker (eventually judged strictly)",
        }
    );
    let (cuts, notes) = cuts_words(&run.cuts);
    match run.engine {
        Engine::Ours => {
            let _ = writeln!(out, "cuts: {cuts}");
        }
        Engine::Stateright => {
            debug_assert!(
                cuts == "none",
                "stateright's checker runs with every cut off"
            );
            let _ = writeln!(out, "cuts: none (stateright's checker)");
        }
    }
    for note in notes {
        let _ = writeln!(out, "  ({note})");
    }
    if uses_por(run) {
        let _ = writeln!(out, "  ({})", reduction_words(run, &outcome.reduction));
    }
    if !run.ballot_notation.is_empty() {
        let _ = writeln!(out, "{}", run.ballot_notation);
    }
    let _ = writeln!(
        out,
        "{} states ({} unique), max depth {}, {:.2} s, {:.0} states/s",
        outcome.states,
        outcome.unique_states,
        outcome.max_depth,
        outcome.seconds,
        outcome.states_per_second()
    );
    if let Some(peak) = outcome.peak_memory_bytes {
        let per_state = peak as f64 / outcome.unique_states.max(1) as f64;
        let _ = writeln!(
            out,
            "peak memory {} ({per_state:.0} bytes per unique state)",
            mebibytes(peak)
        );
    }
    if let Some(visited) = outcome.visited_bytes {
        let per_state = visited as f64 / outcome.unique_states.max(1) as f64;
        let _ = writeln!(
            out,
            "visited set {} ({per_state:.0} bytes per unique state: a 128-bit fingerprint, 56 bits of its parent's and its depth)",
            mebibytes(visited)
        );
    }
    if let Some(spilled) = outcome.spilled.filter(|spilled| spilled.blocks > 0) {
        let _ = writeln!(
            out,
            "frontier spilled to disk: {} states in {} blocks, {:.1} MiB encoded, {:.1} MiB written compressed ({:.1}:1), at most {:.1} MiB on disk at once",
            thousands(spilled.states as usize),
            thousands(spilled.blocks as usize),
            spilled.encoded_bytes as f64 / f64::from(1 << 20),
            spilled.disk_bytes as f64 / f64::from(1 << 20),
            spilled.compression_ratio(),
            spilled.peak_disk_bytes as f64 / f64::from(1 << 20)
        );
    }
    if let Some(probability) = outcome.collision_probability {
        let _ = writeln!(
            out,
            "fingerprint collision: probability about {probability:.1e} that two states shared one of {} bits and one went unexplored",
            outcome.fingerprint_bits
        );
    }
    match &outcome.stopped_by {
        None => {
            let _ = writeln!(out, "complete: every reachable state was explored");
        }
        Some(why) if outcome.limit_reached => {
            let _ = writeln!(
                out,
                "INCOMPLETE: {why} after {} distinct states, to depth {}.",
                thousands(outcome.unique_states),
                outcome.max_depth
            );
            let found = outcome
                .properties
                .iter()
                .any(|property| property.verdict == Verdict::Violated);
            let _ = writeln!(
                out,
                "{}",
                if found {
                    "What was found is below; the properties marked ? were not decided."
                } else {
                    "Nothing was violated in the states explored; the properties marked ? \
                     were not decided, since states beyond these were not checked."
                }
            );
            let steps = next_steps(run, outcome);
            if !steps.is_empty() {
                let _ = writeln!(out, "To get further, try:");
                for step in steps {
                    out.push_str(&wrapped(&format!("- {step}"), "  ", "    ", usize::MAX));
                }
            }
        }
        Some(why) => {
            let _ = writeln!(out, "incomplete: {why}");
        }
    }
    let _ = writeln!(out);
    let name_width = outcome
        .properties
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(0);
    for property in &outcome.properties {
        let steps = property
            .trace
            .as_ref()
            .map(|trace| format!(" ({} steps)", trace.len()))
            .unwrap_or_default();
        let excused = property
            .excused
            .map(|why| format!(" - expected here: {why}"))
            .unwrap_or_default();
        let mark = match property.verdict {
            _ if property.fails() => "FAIL",
            Verdict::Unknown => "?   ",
            _ => "ok  ",
        };
        let _ = writeln!(
            out,
            "{mark} {:<10} {:<name_width$}  {}{steps}{excused}",
            expectation_name(&property.expectation),
            property.name,
            property.verdict.name(),
        );
    }
    let shown: Vec<_> = outcome
        .properties
        .iter()
        .filter(|p| matches!(p.verdict, Verdict::Violated | Verdict::Unjudged))
        .collect();
    for property in shown {
        let _ = writeln!(out);
        let heading = if property.verdict == Verdict::Unjudged {
            "Not decided"
        } else if property.excused.is_some() {
            "Counterexample (expected here)"
        } else {
            "Counterexample"
        };
        let _ = writeln!(out, "{heading} for \"{}\":", property.name);
        if property.verdict == Verdict::Unjudged {
            let _ = writeln!(
                out,
                "  its condition holds before the last step below and not after it; an eventually-property \
                 is judged where runs end, which is exact only for conditions that stay true once true"
            );
        }
        out.push_str(&numbered_steps(
            property.trace.as_deref().unwrap_or_default(),
            property.trace_steps.as_deref().unwrap_or_default(),
        ));
        if !property.shortest {
            let why = match run.engine {
                Engine::Ours => "the search for a shorter path was cut off by the limit",
                Engine::Stateright => {
                    "stateright's checker keeps the last discovery it makes, not the first"
                }
            };
            let _ = writeln!(out, "  ({why}; this one may not be shortest)");
        }
        if let Some(path) = &property.explorer_path {
            let _ = writeln!(out, "  Explorer: {}", run.explorer_url(path));
        }
        if !property.story.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(out, "  What happened:");
            for line in &property.story {
                out.push_str(&wrapped(line, "    ", "      ", STORY_WIDTH));
            }
        }
    }
    let examples: Vec<_> = outcome
        .properties
        .iter()
        .filter(|p| p.verdict == Verdict::Example)
        .collect();
    if !examples.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "Examples (open in the Explorer):");
        for property in examples {
            if let Some(path) = &property.explorer_path {
                let _ = writeln!(out, "  {}: {}", property.name, run.explorer_url(path));
            }
        }
    }
    if outcome.properties.iter().any(|p| p.explorer_path.is_some()) {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Serve the Explorer for these links with:\n  {}",
            run.explore_command()
        );
    }
    out
}

pub fn json(run: &RunDescription, outcome: &Outcome) -> Value {
    let config = config_json(&run.flags);
    let properties: Vec<Value> = outcome
        .properties
        .iter()
        .map(|property| {
            let mut entry = json!({
                "name": property.name,
                "expectation": expectation_name(&property.expectation),
                "verdict": property.verdict.id(),
            });
            let fields = entry.as_object_mut().expect("an object");
            if let Some(trace) = &property.trace {
                fields.insert("steps".into(), Value::from(trace.len()));
                fields.insert("shortest".into(), Value::from(property.shortest));
            }
            if let Some(steps) = &property.trace_steps {
                fields.insert("trace".into(), trace_json(steps));
                fields.insert("story".into(), Value::from(property.story.clone()));
            }
            if let Some(step) = property.decisive_step {
                fields.insert("decisive_step".into(), Value::from(step));
            }
            if let Some(path) = &property.explorer_path {
                fields.insert("explorer_path".into(), Value::from(path.clone()));
                fields.insert("explorer_url".into(), Value::from(run.explorer_url(path)));
                fields.insert(
                    "explore".into(),
                    json!({
                        "command": run.explore_command(),
                        "url": run.explorer_url(path),
                    }),
                );
            }
            if let Some(why) = property.excused {
                fields.insert("expected_here".into(), Value::from(why));
            }
            entry
        })
        .collect();
    json!({
        "model": run.model_name,
        "config": config,
        "engine": run.engine.name(),
        "strategy": run.strategy_name(),
        "threads": run.threads,
        "cuts": cuts_json(&run.cuts),
        "complete": outcome.complete,
        "stopped_by": outcome.stopped_by,
        "limit_reached": outcome.limit_reached,
        "peak_memory_bytes": outcome.peak_memory_bytes,
        "visited_bytes": outcome.visited_bytes,
        "spilled": outcome.spilled.map(|spilled| json!({
            "blocks": spilled.blocks,
            "states": spilled.states,
            "encoded_bytes": spilled.encoded_bytes,
            "disk_bytes": spilled.disk_bytes,
            "compression_ratio": spilled.compression_ratio(),
            "peak_disk_bytes": spilled.peak_disk_bytes,
        })),
        "partial_order_reduction": uses_por(run).then(|| json!({
            "reduced_states": outcome.reduction.reduced_states,
            "proviso_refusals": outcome.reduction.proviso_refusals,
            "steps_left_out": outcome.reduction.steps_left_out,
        })),
        "fingerprint_collision_probability": outcome.collision_probability,
        "fingerprint_bits": outcome.fingerprint_bits,
        "states": outcome.states,
        "unique_states": outcome.unique_states,
        "max_depth": outcome.max_depth,
        "seconds": outcome.seconds,
        "states_per_second": outcome.states_per_second(),
        "properties": properties,
        "explore_command": run.explore_command(),
        "ballot_notation": run.ballot_notation,
        "next_steps": if outcome.limit_reached { next_steps(run, outcome) } else { Vec::new() },
        "exit_status": outcome.exit_code(),
    })
}

/// Each cut of the model: `"on"`, `"off"`, or `"off: <why it does not hold here>"`.
pub fn cuts_json(cuts: &[(Cut, CutUse)]) -> Value {
    cuts.iter()
        .map(|(cut, used)| {
            let used = match used {
                CutUse::On => "on".to_owned(),
                CutUse::Off => "off".to_owned(),
                CutUse::Unsound(why) => format!("off: {why}"),
            };
            (cut.name().to_owned(), Value::from(used))
        })
        .collect::<serde_json::Map<String, Value>>()
        .into()
}

/// A trace as a list of objects: `step`, `action`, `from`, `to`, `kind`, `ballot`, `value`,
/// `slot`, `sent_at`, `notes` and `text` (the text report's line).
pub fn trace_json(steps: &[TraceStep]) -> Value {
    serde_json::to_value(steps).expect("a trace is plain data")
}

/// The mark before a line that says what a step did inside an actor (an acceptance, a choice,
/// an answer to a client), under the step's own line.
pub const NOTE_MARK: &str = "·";

/// A trace as the text reports print it: `  12. p2 -> a3  Accept(b=1.p2, B)`, and under each
/// step what it did that no message shows (`         · B chosen at 1.p2 by a2, a3`), from its
/// `notes`. `steps` may be empty (a model that gives no fields): then only the lines.
pub fn numbered_steps(lines: &[String], steps: &[TraceStep]) -> String {
    let mut out = String::new();
    for (index, line) in lines.iter().enumerate() {
        let _ = writeln!(out, "  {:>3}. {line}", index + 1);
        for note in steps
            .get(index)
            .map(|step| &step.notes[..])
            .unwrap_or_default()
        {
            let _ = writeln!(out, "         {NOTE_MARK} {note}");
        }
    }
    out
}

/// How wide the story's lines are, indent included.
pub const STORY_WIDTH: usize = 100;

/// `text` broken into lines of at most `width` characters at spaces, the first indented by
/// `first`, the rest by `rest`.
pub fn wrapped(text: &str, first: &str, rest: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::from(first);
    let mut line_has_words = false;
    for word in text.split(' ') {
        if line_has_words && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = String::from(rest);
            line_has_words = false;
        }
        if line_has_words {
            line.push(' ');
        }
        line.push_str(word);
        line_has_words = true;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// Whether the run used the partial-order reduction.
fn uses_por(run: &RunDescription) -> bool {
    run.cuts
        .iter()
        .any(|(cut, used)| *cut == Cut::PartialOrder && used.is_on())
}

/// What the partial-order reduction did, in a line.
fn reduction_words(run: &RunDescription, reduction: &ReductionReport) -> String {
    if run.strategy != Strategy::Bfs {
        return "por takes effect in a breadth-first search only; this one took every step".into();
    }
    format!(
        "por: {} states expanded by one proposer's steps alone, leaving out {} steps; {} \
         offered but refused by the cycle proviso",
        thousands(reduction.reduced_states),
        thousands(reduction.steps_left_out),
        thousands(reduction.proviso_refusals),
    )
}
