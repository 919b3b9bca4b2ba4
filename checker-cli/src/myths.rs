//! `paxos-check myths`: three things often said of Paxos, each answered by checks that anyone
//! can rerun, with the configuration and the number of states each explored, and a verdict in
//! one paragraph.
//!
//! 1. "Paxos needs synchrony for safety": every safety property, exhaustively, on a network
//!    that reorders, duplicates and loses messages while an acceptor crashes and recovers.
//! 2. "Paxos is simple, so a quick implementation is right": the flaw catalogue, each one-line
//!    slip caught breaking safety (or shown benign), with the story of the subtlest.
//! 3. "Paxos has a strong leader": two proposers holding majority promises at once, and two
//!    duelling proposers keeping each other from choosing forever, shown as a lasso
//!    (`paxos_model::check::livelock`).

use crate::args::{Format, Myth, MythsArgs};
use crate::explorer::views::decode_path;
use crate::report::{explore_command, explorer_url, wrapped};
use crate::run::{self, Outcome, RunSettings, Verdict};
use paxos_model::check::catalogue::{catalogue, Consequence, Setting};
use paxos_model::check::checkable::Checkable;
use paxos_model::check::examine::examine;
use paxos_model::check::livelock::{find_livelock, DuelConfig};
use paxos_model::check::paxos::{single_decree_model, SingleDecreeConfig};
use paxos_model::check::settings::{thousands, Faults, NetworkKind};
use paxos_model::check::svg::{marked_sequence_diagram, DiagramMarks};
use paxos_model::Flaw;
use serde_json::{json, Value};
use stateright::Model;
use std::fmt::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

/// How wide the verdicts are printed.
const TEXT_WIDTH: usize = 100;

/// One check behind a verdict.
struct Evidence {
    /// What it shows, in a few words.
    what: String,
    /// The command that reruns it.
    command: String,
    configuration: String,
    /// Distinct states explored (classes, for the livelock search).
    states: usize,
    /// What the count covers.
    states_note: &'static str,
    complete: bool,
    seconds: f64,
    /// What it found, one line.
    found: String,
    /// The steps or the story that make the finding concrete.
    details: Vec<String>,
}

/// A myth answered.
struct Answer {
    myth: Myth,
    claim: &'static str,
    /// Every check came out as the verdict says.
    answered: bool,
    evidence: Vec<Evidence>,
    verdict: String,
    /// Sequence diagrams worth looking at: (file name, SVG).
    diagrams: Vec<(String, String)>,
}

pub fn run(args: &MythsArgs) -> ExitCode {
    let myths = if args.only.is_empty() {
        vec![Myth::Synchrony, Myth::Simple, Myth::Leader]
    } else {
        args.only.clone()
    };
    if let Some(dir) = &args.svg_dir {
        if !dir.is_dir() {
            eprintln!(
                "error: --svg-dir {}: not a directory (create it first)",
                dir.display()
            );
            return ExitCode::from(crate::USAGE_ERROR);
        }
    }
    let threads = args.threads as usize;
    let answers: Vec<Answer> = myths
        .into_iter()
        .map(|myth| {
            eprintln!("checking the myth \"{}\"...", claim(myth));
            match myth {
                Myth::Synchrony => synchrony(threads),
                Myth::Simple => simplicity(threads, args.addr),
                Myth::Leader => leadership(threads, args.addr),
            }
        })
        .collect();
    if let Some(dir) = &args.svg_dir {
        for answer in &answers {
            for (name, svg) in &answer.diagrams {
                let path = dir.join(name);
                if let Err(error) = std::fs::write(&path, svg) {
                    eprintln!("error: --svg-dir: {}: {error}", path.display());
                    return ExitCode::from(crate::USAGE_ERROR);
                }
                eprintln!("wrote {}", path.display());
            }
        }
    }
    match args.format {
        Format::Text => print!("{}", text(&answers)),
        Format::Json => println!("{}", json_report(&answers)),
    }
    ExitCode::from(u8::from(!answers.iter().all(|answer| answer.answered)))
}

fn claim(myth: Myth) -> &'static str {
    match myth {
        Myth::Synchrony => "Paxos needs synchrony for safety.",
        Myth::Simple => "Paxos is simple, so a quick implementation is right.",
        Myth::Leader => "Paxos has a strong leader.",
    }
}

fn myth_name(myth: Myth) -> &'static str {
    match myth {
        Myth::Synchrony => "synchrony",
        Myth::Simple => "simple",
        Myth::Leader => "leader",
    }
}

/// The check behind a myth: quiet, breadth-first, stopping only at a violation.
fn quiet(threads: usize) -> RunSettings {
    RunSettings {
        strategy: crate::args::Strategy::Bfs,
        threads,
        max_states: None,
        timeout: Some(Duration::from_secs(600)),
        max_memory: crate::default_memory_limit(),
        spill_dir: None,
        seed: 0,
        keep_going: false,
        liveness: paxos_model::check::engine::Liveness::Fair,
        progress: false,
        interrupt: None,
    }
}

/// `paxos-check check single` with these flags.
fn check_command(flags: &[(&'static str, String)]) -> String {
    let defaults = SingleDecreeConfig::default();
    let default_flags = paxos_model::check::settings::ModelConfig::flags(&defaults);
    let mut command = "paxos-check check single".to_owned();
    for (flag, value) in flags {
        let is_default = default_flags
            .iter()
            .any(|(default_flag, default)| default_flag == flag && default == value);
        if !is_default {
            let _ = write!(command, " --{flag} {value}");
        }
    }
    command
}

fn property_outcome<'a>(outcome: &'a Outcome, name: &str) -> Option<&'a run::PropertyOutcome> {
    outcome
        .properties
        .iter()
        .find(|property| property.name == name)
}

/// Myth 1: safety on the most hostile network the model has, exhaustively.
fn synchrony(threads: usize) -> Answer {
    let cfg = SingleDecreeConfig {
        faults: Faults {
            network: NetworkKind::Duplicating,
            losses: 1,
            crashes: 1,
        },
        ..SingleDecreeConfig::default()
    };
    let model = single_decree_model(cfg);
    let (summary, flags) = (model.summary(), model.flags());
    let outcome = run::check(model, &quiet(threads));
    let safety: Vec<&run::PropertyOutcome> = outcome
        .properties
        .iter()
        .filter(|property| property.expectation == stateright::Expectation::Always)
        .collect();
    let all_hold = safety
        .iter()
        .all(|property| property.verdict == Verdict::Holds);
    let names: Vec<&str> = safety.iter().map(|property| property.name).collect();
    let answered = outcome.complete && all_hold;
    let found = if answered {
        format!(
            "{} hold in every one of the {} reachable states",
            names.join(", "),
            thousands(outcome.unique_states)
        )
    } else {
        let broken: Vec<&str> = safety
            .iter()
            .filter(|property| property.verdict != Verdict::Holds)
            .map(|property| property.name)
            .collect();
        format!("NOT SHOWN: {} not proven to hold", broken.join(", "))
    };
    let evidence = Evidence {
        what: "every safety property, on an asynchronous network that reorders, duplicates and \
               loses messages, while an acceptor crashes and recovers"
            .into(),
        command: check_command(&flags),
        configuration: summary,
        states: outcome.unique_states,
        states_note: if outcome.complete {
            "every reachable state"
        } else {
            "the search stopped first"
        },
        complete: outcome.complete,
        seconds: outcome.seconds,
        found,
        details: Vec::new(),
    };
    Answer {
        myth: Myth::Synchrony,
        claim: claim(Myth::Synchrony),
        answered,
        evidence: vec![evidence],
        verdict: format!(
            "False. Safety needs no timing assumption at all. The check let the network deliver \
             messages in any order, after any delay, twice or never, and an acceptor crash at any \
             moment and recover from what it persisted; in all {} states no two values were \
             chosen, nothing unproposed was accepted, and no learner learned a different value. \
             Nothing in Paxos waits for a clock: a promise and a majority are enough. Timing \
             matters only for liveness: without a calm period proposers may duel forever (myth \
             3), but they never decide two values.",
            thousands(outcome.unique_states)
        ),
        diagrams: Vec::new(),
    }
}

/// Myth 2: the flaw catalogue, each slip caught.
fn simplicity(threads: usize, addr: SocketAddr) -> Answer {
    let mut details = Vec::new();
    let mut all_as_catalogued = true;
    let (mut broken, mut benign, mut states, mut seconds) = (0, 0, 0, 0.0);
    let mut steps_range = (usize::MAX, 0);
    let mut subtlest = None;
    for entry in catalogue() {
        let finding = examine(&entry, threads);
        all_as_catalogued &= finding.confirms(entry.consequence);
        states += finding.states;
        seconds += finding.seconds;
        let line = match (&finding.counterexample, entry.consequence) {
            (Some(found), _) => {
                broken += 1;
                steps_range = (
                    steps_range.0.min(found.steps.len()),
                    steps_range.1.max(found.steps.len()),
                );
                if entry.flaw == Flaw::LowestAcceptedValue {
                    subtlest = Some((entry.clone(), found.clone()));
                }
                format!(
                    "{:<34} breaks {:<15} in {:>2} steps ({} states)",
                    entry.flaw.name(),
                    found.property,
                    found.steps.len(),
                    thousands(finding.states)
                )
            }
            (None, Consequence::Benign) => {
                benign += 1;
                format!(
                    "{:<34} benign alone ({} states, all explored)",
                    entry.flaw.name(),
                    thousands(finding.states)
                )
            }
            (None, Consequence::Breaks(property)) => {
                format!("{:<34} NOT CAUGHT breaking {property}", entry.flaw.name())
            }
        };
        details.push(line);
    }
    let mut diagrams = Vec::new();
    if let Some((entry, found)) = &subtlest {
        if let Setting::Single(cfg) = &entry.setting {
            let model = single_decree_model(cfg.clone());
            if let Ok(path) = decode_path(&model, &found.explorer_path) {
                details.push(String::new());
                details.push(format!(
                    "The subtlest, {} ({} steps; open it with `{}` and {}):",
                    entry.flaw,
                    found.steps.len(),
                    explore_command("single", &entry.setting.flags(), addr),
                    explorer_url(addr, &found.explorer_path)
                ));
                details.extend(model.story(&path, found.property));
                let marks = DiagramMarks {
                    broken: crate::run::decisive_step(
                        &model,
                        model
                            .properties()
                            .iter()
                            .find(|property| property.name == found.property)
                            .expect("the catalogue names a property of the model"),
                        &path,
                    )
                    .map(|step| (step, found.property.to_owned())),
                    ..DiagramMarks::default()
                };
                diagrams.push((
                    format!("myth-2-{}.svg", entry.flaw),
                    marked_sequence_diagram(&model, &path, &marks),
                ));
            }
        }
    }
    let answered = all_as_catalogued && broken > 0;
    Answer {
        myth: Myth::Simple,
        claim: claim(Myth::Simple),
        answered,
        evidence: vec![Evidence {
            what: "the flaw catalogue: the real protocol code with one rule bent at a time".into(),
            command: "paxos-check flaws --check".into(),
            configuration: "each flaw in the small configuration that exposes it \
                            (`paxos-check flaws`)"
                .into(),
            states,
            states_note: "summed over the catalogue: each flawed search stops at its first \
                          violation, each benign one explores everything",
            complete: true,
            seconds,
            found: format!(
                "{broken} of {} one-line slips break safety, in counterexamples of {} to {} \
                 steps; {benign} are benign alone",
                broken + benign,
                steps_range.0,
                steps_range.1
            ),
            details,
        }],
        verdict: format!(
            "False. Paxos fits on a page, yet every rule on it carries weight: {broken} of the \
             catalogue's {} deviations, each a single branch of the real code, break safety, and \
             the shortest counterexamples run {} to {} steps through interleavings a test would \
             rarely hit. The benign ones are benign only because another rule covers for them: \
             break unique ballots and strict promises together and two values are chosen. A \
             quick implementation is right only if each of these rules is, which is what a \
             model checker can show and a few test runs cannot.",
            broken + benign,
            steps_range.0,
            steps_range.1
        ),
        diagrams,
    }
}

/// Myth 3: two proposers lead at once, and two duelling proposers livelock.
fn leadership(threads: usize, addr: SocketAddr) -> Answer {
    const BOTH_LEAD: &str = "two proposers hold majority promises at once";
    let model = single_decree_model(SingleDecreeConfig::default());
    let (summary, flags) = (model.summary(), model.flags());
    let outcome = run::check(model.clone(), &quiet(threads));
    let example = property_outcome(&outcome, BOTH_LEAD);
    let mut diagrams = Vec::new();
    let mut details = Vec::new();
    let mut both_lead = false;
    if let Some(path_text) = example.and_then(|example| example.explorer_path.as_ref()) {
        if let Ok(path) = decode_path(&model, path_text) {
            both_lead = true;
            let steps = model.trace(&path);
            details.extend(
                steps
                    .iter()
                    .map(|step| format!("{:>3}. {}", step.step, step.text)),
            );
            let last = path.last_state();
            details.push(format!("After step {}:", steps.len()));
            details.extend(
                model
                    .describe_state(last)
                    .into_iter()
                    .filter(|line| line.starts_with('p'))
                    .map(|line| format!("  {line}")),
            );
            details.push(format!("Explorer: {}", explorer_url(addr, path_text)));
            let marks = DiagramMarks {
                selected: Some(steps.len()),
                ..DiagramMarks::default()
            };
            diagrams.push((
                "myth-3-two-proposers-lead.svg".to_owned(),
                marked_sequence_diagram(&model, &path, &marks),
            ));
        }
    }
    let example_steps = example
        .and_then(|example| example.trace.as_ref())
        .map_or(0, Vec::len);
    let first = Evidence {
        what: format!("the example of \"{BOTH_LEAD}\""),
        command: check_command(&flags),
        configuration: summary,
        states: outcome.unique_states,
        states_note: if outcome.complete {
            "every reachable state"
        } else {
            "the search stopped first"
        },
        complete: outcome.complete,
        seconds: outcome.seconds,
        found: if both_lead {
            format!("p1 and p2 each hold a majority of promises after {example_steps} steps")
        } else {
            "NOT SHOWN: no state where two proposers hold a majority of promises".into()
        },
        details,
    };

    let duel = DuelConfig::default();
    let found = find_livelock(duel.clone(), 25_000, 2_000_000, Duration::from_secs(120));
    let mut duel_details = Vec::new();
    let livelock = found.lasso.is_some();
    if let Some(lasso) = &found.lasso {
        for step in found.model.trace_of(&lasso.path) {
            let mark = if step.step == lasso.loop_from {
                "loop >"
            } else {
                ""
            };
            duel_details.push(format!("{mark:>6} {:>3}. {}", step.step, step.text));
        }
        duel_details.push(String::new());
        duel_details.extend(lasso.story(&found.model));
        let marks = DiagramMarks {
            loop_from: Some(lasso.loop_from),
            ..DiagramMarks::default()
        };
        diagrams.push((
            "myth-3-livelock.svg".to_owned(),
            marked_sequence_diagram(&found.model, &lasso.path, &marks),
        ));
    }
    let lasso_words = found.lasso.as_ref().map_or(String::new(), |lasso| {
        format!(
            "a stem of {} steps, then a loop of {} steps that repeats forever with ever higher \
             ballots",
            lasso.loop_from - 1,
            lasso.path.clone().into_actions().len() + 1 - lasso.loop_from
        )
    });
    let second = Evidence {
        what: "duelling proposers with unbounded retries: a fair run in which no value is ever \
               chosen"
            .into(),
        command: "paxos-check myths leader".into(),
        configuration: format!(
            "{}; states counted up to renaming ballot rounds (by order) and acceptors, at most \
             one message in flight per link; the search stops at the first lasso",
            duel.summary()
        ),
        states: found.classes,
        states_note: "classes of states explored when the first lasso was found",
        complete: found.complete,
        seconds: found.seconds,
        found: if livelock {
            format!("a livelock: {lasso_words}")
        } else {
            "NOT SHOWN: no fair cycle without a choice was found".into()
        },
        details: duel_details,
    };
    Answer {
        myth: Myth::Leader,
        claim: claim(Myth::Leader),
        answered: both_lead && livelock,
        evidence: vec![first, second],
        verdict: "False. Nothing in Paxos makes a proposer the leader: any proposer may start a \
                  ballot at any time, a higher ballot simply overrides a lower one, and two \
                  proposers can hold majority promises at the same moment (the first check). \
                  Safety never depended on a leader, so this costs nothing there; but nothing \
                  stops two proposers from preempting each other forever either: in the second \
                  check every message is delivered, yet each new Phase 1 cancels the other's \
                  Phase 2, and no value is ever chosen. A distinguished leader, as Multi-Paxos \
                  elects, is how real systems make progress likely: an optimisation for \
                  liveness, not a guarantee of the algorithm."
            .into(),
        diagrams,
    }
}

fn text(answers: &[Answer]) -> String {
    let mut out = String::from("Three myths about Paxos, each answered by a check you can rerun\n");
    for (index, answer) in answers.iter().enumerate() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Myth {}: \"{}\"{}",
            index + 1,
            answer.claim,
            if answer.answered {
                ""
            } else {
                "  (NOT ANSWERED: a check did not come out as expected)"
            }
        );
        for evidence in &answer.evidence {
            out.push_str(&wrapped(
                &format!("Check: {}.", evidence.what),
                "  ",
                "    ",
                TEXT_WIDTH,
            ));
            let _ = writeln!(out, "    run:    {}", evidence.command);
            out.push_str(&wrapped(
                &format!("config: {}", evidence.configuration),
                "    ",
                "            ",
                TEXT_WIDTH,
            ));
            out.push_str(&wrapped(
                &format!(
                    "states: {} ({}), {:.2} s",
                    thousands(evidence.states),
                    evidence.states_note,
                    evidence.seconds
                ),
                "    ",
                "            ",
                TEXT_WIDTH,
            ));
            out.push_str(&wrapped(
                &format!("found:  {}", evidence.found),
                "    ",
                "            ",
                TEXT_WIDTH,
            ));
            for line in &evidence.details {
                if line.is_empty() {
                    let _ = writeln!(out);
                } else {
                    out.push_str(&wrapped(line, "      ", "        ", TEXT_WIDTH));
                }
            }
        }
        out.push_str(&wrapped(
            &format!("Verdict: {}", answer.verdict),
            "  ",
            "  ",
            TEXT_WIDTH,
        ));
    }
    out
}

fn json_report(answers: &[Answer]) -> Value {
    let myths: Vec<Value> = answers
        .iter()
        .map(|answer| {
            let checks: Vec<Value> = answer
                .evidence
                .iter()
                .map(|evidence| {
                    json!({
                        "what": evidence.what,
                        "command": evidence.command,
                        "configuration": evidence.configuration,
                        "states": evidence.states,
                        "states_note": evidence.states_note,
                        "complete": evidence.complete,
                        "seconds": evidence.seconds,
                        "found": evidence.found,
                        "details": evidence.details,
                    })
                })
                .collect();
            json!({
                "myth": myth_name(answer.myth),
                "claim": answer.claim,
                "answered": answer.answered,
                "checks": checks,
                "verdict": answer.verdict,
            })
        })
        .collect();
    json!({
        "myths": myths,
        "exit_status": u8::from(!answers.iter().all(|answer| answer.answered)),
    })
}
