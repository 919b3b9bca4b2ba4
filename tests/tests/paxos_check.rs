//! `paxos-check` end to end (issue 3, "Tests"): each test runs the real binary as a user would and
//! pins one promise of its contract: the exit status (0 every property as expected on a complete
//! run, 1 a property violated or a sometimes-property missing, 2 a usage or configuration error,
//! 3 a limit reached first with nothing violated), the text and JSON reports, the SVG diagram, and
//! the Explorer it serves.
//!
//! Runs stay small: the default configuration (62,907 unique states, about 2 s) and smaller ones.
//! The large configurations belong to the model crate's tests and the README.

use paxos_e2e::http::{free_address, http_get};
use paxos_e2e::{binary, run_with_input, Finished};
use serde_json::{json, Map, Value};
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// No run here takes more than a few seconds; one that outlives this limit hangs.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// How long the Explorer may take to answer its first request.
const EXPLORER_STARTUP_LIMIT: Duration = Duration::from_secs(30);

/// Unique states (up to a renaming of acceptors) of the default configuration (3 acceptors, 2
/// proposers, 1 ballot each, unordered lossless network), as the model crate pins them.
const DEFAULT_UNIQUE_STATES: u64 = 2_367;

/// Runs `paxos-check` with `args`. A check runs on one thread unless the test names
/// `--threads`: with more, the counterexample shown is a shortest one but which of several may
/// vary, and these tests pin paths. (`the_default_thread_count_is_the_machines_cores` runs the
/// default.)
fn paxos_check(args: &[&str]) -> Finished {
    let mut args = args.to_vec();
    if args.first() == Some(&"check") && !args.contains(&"--threads") {
        args.extend(["--threads", "1"]);
    }
    run_with_input(&binary("paxos-check"), &args, "", RUN_LIMIT)
}

/// The processor cores of this machine: `paxos-check`'s default thread count.
fn machine_cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn exit_status(run: &Finished) -> i32 {
    run.status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal: {}\n{}", run.status, run.stderr))
}

/// The property lines of a text report with runs of spaces collapsed, so that they read as
/// `mark expectation name verdict` whatever the column widths (`?` marks an unknown verdict).
fn verdict_lines(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|line| {
            line.starts_with("ok ") || line.starts_with("FAIL ") || line.starts_with("? ")
        })
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// The steps under `heading` (`Counterexample for "agreement":`), checked to be numbered 1, 2,
/// ... in order, and the Explorer URL that closes the section.
fn counterexample(stdout: &str, heading: &str) -> (Vec<String>, String) {
    let section: Vec<&str> = stdout
        .lines()
        .skip_while(|line| *line != heading)
        .skip(1)
        .take_while(|line| !line.is_empty())
        .filter(|line| !line.trim_start().starts_with('·'))
        .collect();
    let (explorer_line, step_lines) = section
        .split_last()
        .unwrap_or_else(|| panic!("no section {heading:?} in:\n{stdout}"));
    let steps = step_lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let (number, step) = line
                .trim_start()
                .split_once(". ")
                .unwrap_or_else(|| panic!("not a numbered step: {line:?}"));
            assert_eq!(
                number,
                (index + 1).to_string(),
                "steps are numbered in order"
            );
            step.to_string()
        })
        .collect();
    let url = explorer_line
        .strip_prefix("  Explorer: ")
        .unwrap_or_else(|| panic!("{heading:?} ends without an Explorer link: {explorer_line:?}"));
    (steps, url.to_string())
}

/// A JSON report: stdout must hold exactly one JSON object and nothing else.
fn json_report(run: &Finished) -> Map<String, Value> {
    match serde_json::from_str::<Value>(&run.stdout) {
        Ok(Value::Object(report)) => report,
        Ok(other) => panic!("the report is not an object: {other}"),
        Err(error) => panic!("stdout is not one JSON value ({error}):\n{}", run.stdout),
    }
}

/// Every key the issue lists, with its type, and each property's fields: `steps` and
/// `explorer_path` exactly when a path was discovered.
fn assert_report_shape(report: &Map<String, Value>) {
    for key in ["model", "strategy"] {
        assert!(report[key].is_string(), "{key} is a string");
    }
    assert!(report["config"].is_object(), "config is an object");
    assert!(report["complete"].is_boolean(), "complete is a boolean");
    for key in ["states", "unique_states", "max_depth"] {
        assert!(report[key].is_u64(), "{key} is a count");
    }
    assert!(report["seconds"].is_f64(), "seconds is a number");
    let properties = report["properties"]
        .as_array()
        .expect("properties is a list");
    assert!(!properties.is_empty());
    for property in properties {
        assert!(property["name"].is_string(), "{property}");
        let expectation = property["expectation"].as_str().expect("an expectation");
        assert!(
            ["always", "sometimes", "eventually"].contains(&expectation),
            "{property}"
        );
        let verdict = property["verdict"].as_str().expect("a verdict");
        assert!(
            ["holds", "violated", "example", "missing", "unknown"].contains(&verdict),
            "{property}"
        );
        let discovered = matches!(verdict, "violated" | "example");
        assert_eq!(property.get("steps").is_some(), discovered, "{property}");
        assert_eq!(
            property.get("explorer_path").is_some(),
            discovered,
            "{property}"
        );
        if discovered {
            assert!(property["steps"].as_u64().expect("a count") > 0);
            assert!(property["explorer_path"].is_string());
        }
    }
}

/// `(name, verdict)` for each property of a JSON report, in report order.
fn json_verdicts(report: &Map<String, Value>) -> Vec<(String, String)> {
    report["properties"]
        .as_array()
        .expect("properties is a list")
        .iter()
        .map(|property| {
            (
                property["name"].as_str().expect("a name").to_string(),
                property["verdict"].as_str().expect("a verdict").to_string(),
            )
        })
        .collect()
}

fn json_property<'a>(report: &'a Map<String, Value>, name: &str) -> &'a Value {
    report["properties"]
        .as_array()
        .expect("properties is a list")
        .iter()
        .find(|property| property["name"] == name)
        .unwrap_or_else(|| panic!("no property {name:?}"))
}

/// Issue 3, exit status 0: "every property as expected on a complete run". Paxos itself in the
/// default configuration: safety holds, every non-vacuity property has an example, and on a
/// lossless network a value is eventually chosen. The report prints states/s and says the run
/// was complete.
#[test]
fn paxos_by_default_meets_every_property_on_a_complete_run_and_exits_0() {
    let run = paxos_check(&["check", "single"]);

    assert_eq!(exit_status(&run), 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("9407 states (2367 unique), max depth 19, "),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(" states/s\n"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("\ncomplete: every reachable state was explored\n"),
        "{}",
        run.stdout
    );
    assert_eq!(
        verdict_lines(&run.stdout),
        [
            "ok always agreement holds",
            "ok always validity holds",
            "ok always immutability holds",
            "ok always learners agree holds",
            "ok sometimes value chosen example (6 steps)",
            "ok sometimes two proposers hold majority promises at once example (8 steps)",
            "ok sometimes a later ballot re-proposes the chosen value example (11 steps)",
            "ok eventually value eventually chosen holds",
        ]
    );
    assert!(!run.stdout.contains("Counterexample"), "{}", run.stdout);
}

/// Exit status 1 and the text report's counterexamples: a proposer that ignores the accepted
/// values its promises carry proposes its own value over one already chosen. As TLC does, the
/// run stops at the first violated property, immutability (11 steps: a1 accepts B above the
/// ballot at which A was chosen), and says the others are unknown; `--keep-going` decides every
/// property. The shortest agreement counterexample is the classic story: p1 gets A accepted by a
/// majority; p2 hears of (1.p1, A) in both its promises, ignores it, and gets B accepted by the
/// same majority.
#[test]
fn a_proposer_that_ignores_promises_breaks_agreement_and_exits_1() {
    let run = paxos_check(&["check", "single", "--flaw", "proposer-ignores-promises"]);

    assert_eq!(exit_status(&run), 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "\nincomplete: stopped at the first violation; --keep-going decides every property\n"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(
        verdict_lines(&run.stdout),
        [
            "? always agreement not decided (run incomplete)",
            "? always validity not decided (run incomplete)",
            "FAIL always immutability violated (11 steps)",
            "? always learners agree not decided (run incomplete)",
            "ok sometimes value chosen example (6 steps)",
            "ok sometimes two proposers hold majority promises at once example (8 steps)",
            "? sometimes a later ballot re-proposes the chosen value not decided (run incomplete)",
            "? eventually value eventually chosen not decided (run incomplete)",
        ]
    );

    let run = paxos_check(&[
        "check",
        "single",
        "--flaw",
        "proposer-ignores-promises",
        "--keep-going",
    ]);
    assert_eq!(exit_status(&run), 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("\ncomplete: every reachable state was explored\n"),
        "{}",
        run.stdout
    );
    assert_eq!(
        verdict_lines(&run.stdout),
        [
            "FAIL always agreement violated (12 steps)",
            "ok always validity holds",
            "FAIL always immutability violated (11 steps)",
            "FAIL always learners agree violated (16 steps)",
            "ok sometimes value chosen example (6 steps)",
            "ok sometimes two proposers hold majority promises at once example (8 steps)",
            "FAIL sometimes a later ballot re-proposes the chosen value missing",
            "ok eventually value eventually chosen holds",
        ]
    );

    let (steps, url) = counterexample(&run.stdout, "Counterexample for \"agreement\":");
    assert_eq!(
        steps,
        [
            "p1 -> a1  Prepare(b=1.p1)",
            "a1 -> p1  Promise(b=1.p1, accepted none)",
            "p1 -> a2  Prepare(b=1.p1)",
            "a2 -> p1  Promise(b=1.p1, accepted none)",
            "p1 -> a1  Accept(b=1.p1, A)",
            "p1 -> a2  Accept(b=1.p1, A)",
            "p2 -> a1  Prepare(b=1.p2)",
            "a1 -> p2  Promise(b=1.p2, accepted (1.p1, A))",
            "p2 -> a2  Prepare(b=1.p2)",
            "a2 -> p2  Promise(b=1.p2, accepted (1.p1, A))",
            "p2 -> a1  Accept(b=1.p2, B)",
            "p2 -> a2  Accept(b=1.p2, B)",
        ]
    );
    assert_explorer_url(&url, steps.len());
    for (property, length) in [("immutability", 11), ("learners agree", 16)] {
        let (steps, url) =
            counterexample(&run.stdout, &format!("Counterexample for \"{property}\":"));
        assert_eq!(steps.len(), length, "{property}");
        assert_explorer_url(&url, length);
    }
    assert!(
        run.stdout.contains(
            "  paxos-check explore single --acceptors 3 --proposers 2 --rounds 1 \
             --network unordered --losses 0 --crashes 0 --flaw proposer-ignores-promises \
             --addr 127.0.0.1:3000\n"
        ),
        "the report says how to serve the Explorer on the same flawed model:\n{}",
        run.stdout
    );
}

/// An Explorer link is `http://127.0.0.1:3000/#/steps/` then the initial state's index (0) and
/// one action index per step.
fn assert_explorer_url(url: &str, steps: usize) {
    let path = url
        .strip_prefix("http://127.0.0.1:3000/#/steps/0/")
        .unwrap_or_else(|| panic!("not an Explorer link: {url}"));
    let indices: Vec<&str> = path.split('/').collect();
    assert_eq!(indices.len(), steps, "one action index per step: {url}");
    assert!(
        indices.iter().all(|index| index.parse::<usize>().is_ok()),
        "{url}"
    );
}

/// Issue 3, exit status 1 for "a sometimes-property missing": with shared ballot numbers an
/// acceptor never promises the second proposer a ballot equal to the first's, so two proposers
/// never hold majority promises at once. Nothing unsafe happens; the missing example alone
/// fails the run.
#[test]
fn a_missing_sometimes_property_fails_the_run_with_exit_1() {
    let run = paxos_check(&["check", "single", "--flaw", "shared-ballots"]);

    assert_eq!(exit_status(&run), 1, "{}{}", run.stdout, run.stderr);
    let verdicts = verdict_lines(&run.stdout);
    assert!(
        verdicts.contains(
            &"FAIL sometimes two proposers hold majority promises at once missing".to_string()
        ),
        "{verdicts:#?}"
    );
    assert!(
        !verdicts.iter().any(|line| line.contains("violated")),
        "{verdicts:#?}"
    );
}

/// Issue 3, exit status 3: "limit reached before the space was exhausted with nothing violated".
/// The report says INCOMPLETE and names the limit; a property not yet decided is unknown rather
/// than holding, while an example already found stays an example.
#[test]
fn a_state_limit_stops_the_run_incomplete_with_exit_3() {
    let run = paxos_check(&["check", "single", "--max-states", "1000"]);

    assert_eq!(exit_status(&run), 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "\nINCOMPLETE: --max-states 1000 reached after 1,000 distinct states, to depth 11.\n\
             Nothing was violated in the states explored; the properties marked ? were not \
             decided, since states beyond these were not checked.\n\
             To get further, try:\n"
        ),
        "{}",
        run.stdout
    );
    // Each suggestion is a command that reproduces the run but for the one thing it changes.
    let same = "paxos-check check single --acceptors 3 --proposers 2 --rounds 1 --network \
                unordered --losses 0 --crashes 0 --flaw none";
    for suggestion in [
        format!("  - more states: {same} --threads 1 --max-states 10000\n"),
        format!(
            "  - random walks, which sample deep runs of a space too large to exhaust (they \
             never prove a property holds): {same} --threads {cores} --max-states 1000 \
             --strategy simulation --timeout 60\n",
            cores = machine_cores()
        ),
    ] {
        assert!(
            run.stdout.contains(&suggestion),
            "{suggestion}\n{}",
            run.stdout
        );
    }
    assert!(!run.stdout.contains("\ncomplete:"), "{}", run.stdout);
    let verdicts = verdict_lines(&run.stdout);
    assert!(!verdicts.iter().any(|line| line.starts_with("FAIL")));
    for property in [
        "always agreement",
        "always validity",
        "always immutability",
        "always learners agree",
        "eventually value eventually chosen",
    ] {
        assert!(
            verdicts.contains(&format!("? {property} not decided (run incomplete)")),
            "{property} is unknown: {verdicts:#?}"
        );
    }
}

/// Issue 3, the JSON report: stdout is one object with `model`, `config`, `strategy`,
/// `complete`, `states`, `unique_states`, `max_depth`, `seconds` and `properties`. The default
/// configuration's unique state count is pinned, and depth-first search exhausts the very same
/// space with the same verdicts as breadth-first.
#[test]
fn the_json_report_is_one_object_and_bfs_and_dfs_agree_on_the_state_space() {
    let bfs_run = paxos_check(&["check", "single", "--format", "json"]);
    let dfs_run = paxos_check(&["check", "single", "--format", "json", "--strategy", "dfs"]);

    for (strategy, run) in [("bfs", &bfs_run), ("dfs", &dfs_run)] {
        assert_eq!(exit_status(run), 0, "{strategy}: {}", run.stderr);
        let report = json_report(run);
        assert_report_shape(&report);
        assert_eq!(report["model"], "single");
        assert_eq!(report["strategy"], strategy);
        assert_eq!(
            report["config"],
            json!({
                "acceptors": 3, "proposers": 2, "rounds": 1, "network": "unordered",
                "losses": 0, "crashes": 0, "flaw": "none",
            })
        );
        assert_eq!(report["complete"], true, "{strategy}");
        assert_eq!(report["unique_states"], DEFAULT_UNIQUE_STATES, "{strategy}");
    }
    let (bfs, dfs) = (json_report(&bfs_run), json_report(&dfs_run));
    assert_eq!(
        json_verdicts(&bfs),
        [
            ("agreement", "holds"),
            ("validity", "holds"),
            ("immutability", "holds"),
            ("learners agree", "holds"),
            ("value chosen", "example"),
            ("two proposers hold majority promises at once", "example"),
            ("a later ballot re-proposes the chosen value", "example"),
            ("value eventually chosen", "holds"),
        ]
        .map(|(name, verdict)| (name.to_string(), verdict.to_string()))
    );
    assert_eq!(json_verdicts(&dfs), json_verdicts(&bfs));
    assert_eq!(json_property(&bfs, "value chosen")["steps"], 6);
}

/// `--svg FILE`: a flawed run writes its first counterexample as a sequence diagram (valid XML
/// with a `viewBox`, lifelines named as in the text report, protocol labels, the step where a
/// value is chosen highlighted), says so on stderr, and still prints one JSON object on stdout
/// whose violated properties carry their length and Explorer path.
#[test]
fn svg_writes_the_counterexample_of_a_flawed_run_as_a_sequence_diagram() {
    let svg_path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("paxos-check-agreement-{}.svg", std::process::id()));
    let _ = std::fs::remove_file(&svg_path);
    let svg_arg = svg_path.to_str().expect("a UTF-8 path");

    let run = paxos_check(&[
        "check",
        "single",
        "--flaw",
        "proposer-ignores-promises",
        "--keep-going",
        "--format",
        "json",
        "--svg",
        svg_arg,
    ]);

    assert_eq!(exit_status(&run), 1, "{}", run.stderr);
    let report = json_report(&run);
    assert_report_shape(&report);
    let agreement = json_property(&report, "agreement");
    assert_eq!(agreement["verdict"], "violated");
    assert_eq!(agreement["steps"], 12);
    assert!(
        agreement["explorer_path"]
            .as_str()
            .expect("a path")
            .starts_with("0/"),
        "{agreement}"
    );
    assert!(
        run.stderr
            .contains(&format!("wrote the path of \"agreement\" to {svg_arg}")),
        "{}",
        run.stderr
    );
    let svg = std::fs::read_to_string(&svg_path).expect("the SVG was written");
    let _ = std::fs::remove_file(&svg_path);
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains(" viewBox=\"0 0 "), "scales: {}", &svg[..200]);
    for name in ["a1", "a2", "a3", "p1", "p2"] {
        assert!(svg.contains(&format!(">{name}</text>")), "lifeline {name}");
    }
    assert!(svg.contains(">Accept(b=1.p2, B)</text>"), "protocol labels");
    assert!(
        svg.contains("A chosen at 1.p1 by a1, a2"),
        "the decisive step"
    );
    assert!(!svg.contains("Debug"), "no Rust debug text");
    assert!(
        svg.contains("✘ agreement broken"),
        "the step that broke the property is marked"
    );
    if let Err(error) = well_formed_xml(&svg) {
        panic!("the SVG does not parse: {error}");
    }
}

/// Whether `text` is well-formed XML as far as an SVG needs: every tag closed in order, every
/// attribute quoted, every `&` an entity, nothing outside the root element.
fn well_formed_xml(text: &str) -> Result<(), String> {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = text.trim();
    let mut roots = 0;
    while !rest.is_empty() {
        let Some(start) = rest.find('<') else {
            check_text(rest)?;
            if !open.is_empty() {
                return Err(format!("unclosed <{}>", open.join("> <")));
            }
            return Err(format!("text after the root: {rest:?}"));
        };
        let (content, tag_and_after) = rest.split_at(start);
        if open.is_empty() && !content.trim().is_empty() {
            return Err(format!("text outside the root: {content:?}"));
        }
        check_text(content)?;
        let end = tag_and_after
            .find('>')
            .ok_or_else(|| "a tag never ends".to_string())?;
        let tag = &tag_and_after[1..end];
        rest = &tag_and_after[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            match open.pop() {
                Some(expected) if expected == name.trim() => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name = tag.split_whitespace().next().unwrap_or("");
        if name.is_empty() {
            return Err("a tag without a name".into());
        }
        check_attributes(&tag[name.len()..])?;
        if open.is_empty() {
            roots += 1;
        }
        if !self_closing {
            open.push(name);
        }
    }
    match (open.is_empty(), roots) {
        (true, 1) => Ok(()),
        (false, _) => Err(format!("unclosed <{}>", open.join("> <"))),
        (true, roots) => Err(format!("{roots} root elements")),
    }
}

fn check_text(text: &str) -> Result<(), String> {
    for (index, _) in text.match_indices('&') {
        let entity = &text[index..];
        let known = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"];
        if !known.iter().any(|known| entity.starts_with(known)) {
            return Err(format!("a bare & in {text:?}"));
        }
    }
    if text.contains('<') || text.contains('>') {
        return Err(format!("an unescaped angle bracket in {text:?}"));
    }
    Ok(())
}

/// ` a="1" b="two"`: names, `=`, and double-quoted values.
fn check_attributes(mut attributes: &str) -> Result<(), String> {
    loop {
        attributes = attributes.trim_start();
        if attributes.is_empty() {
            return Ok(());
        }
        let (name, after) = attributes
            .split_once("=\"")
            .ok_or_else(|| format!("an attribute without a quoted value: {attributes:?}"))?;
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(format!("a bad attribute name {name:?}"));
        }
        let (value, after) = after
            .split_once('"')
            .ok_or_else(|| format!("an attribute value never ends: {after:?}"))?;
        check_text(value)?;
        attributes = after;
    }
}

/// Issue: "a counterexample ends with a short narration generated from the trace", naming the
/// rule from the flaw catalogue. The flaw `lowest-accepted-value` with a retry: B is chosen at
/// 1.p2 after a1 accepted A at the higher 2.p1, which p1 proposed although a promise reported
/// (1.p2, B); the story says so, step by step, and ends with the catalogue's rule.
#[test]
fn a_counterexample_ends_with_its_story_naming_the_flaw_and_the_rule() {
    let run = paxos_check(&[
        "check",
        "single",
        "--flaw",
        "lowest-accepted-value",
        "--rounds",
        "2",
    ]);

    assert_eq!(exit_status(&run), 1, "{}", run.stderr);
    let (steps, _) = counterexample(&run.stdout, "Counterexample for \"immutability\":");
    assert_eq!(steps.len(), 18);
    assert_eq!(steps[17], "p2 -> a3  Accept(b=1.p2, B)");
    let story = story(&run.stdout);
    for told in [
        "step 18: p2 -> a3  Accept(b=1.p2, B) — a3 accepts B at ballot 1.p2, so B is chosen at \
         ballot 1.p2 by a2, a3 — \"immutability\" is broken: a1 had accepted A at the higher \
         ballot 2.p1 (step 17)",
        "Where A came from: p1 sent Accept(b=2.p1, A) at step 16 (delivered to a1 at step 17), \
         after its Phase 1 at 2.p1: a1 reported (1.p1, A) (step 11), a2 reported (1.p2, B) \
         (step 16); yet the highest reported ballot, 1.p2, carries B: p1 should have proposed \
         B.",
        "Why: the flaw `lowest-accepted-value` — the proposer adopts the lowest-ballot accepted \
         value, not the highest. The rule it bends: only the highest reported ballot is safe",
    ] {
        assert!(story.contains(told), "{told:?} not in the story:\n{story}");
    }
}

/// The story under "What happened:" as one line per told step, its wrapping undone.
fn story(stdout: &str) -> String {
    let mut story = String::new();
    for line in stdout
        .lines()
        .skip_while(|line| line.trim() != "What happened:")
        .skip(1)
        .take_while(|line| !line.is_empty())
    {
        if line.starts_with("      ") {
            story.push(' ');
            story.push_str(line.trim());
        } else {
            story.push('\n');
            story.push_str(line.trim());
        }
    }
    story
}

/// `--format json`: each counterexample carries its `trace` as objects (step, from, to, kind,
/// ballot, value, slot), its `story`, and `explore`: the command that serves the model and the
/// URL that opens the path.
#[test]
fn the_json_report_gives_each_counterexample_as_fields_with_its_story_and_explorer() {
    let run = paxos_check(&[
        "check",
        "single",
        "--flaw",
        "proposer-ignores-promises",
        "--format",
        "json",
    ]);

    assert_eq!(exit_status(&run), 1, "{}", run.stderr);
    let report = json_report(&run);
    assert_report_shape(&report);
    let broken = json_property(&report, "immutability");
    let trace = broken["trace"].as_array().expect("a trace");
    assert_eq!(json!(trace.len()), broken["steps"]);
    assert_eq!(
        trace[0],
        json!({
            "step": 1, "action": "deliver", "from": "p1", "to": "a1", "kind": "Prepare",
            "ballot": "1.p1", "value": null, "slot": 0,
            "text": "p1 -> a1  Prepare(b=1.p1)", "sent_at": 0, "notes": [],
        })
    );
    let last = trace.last().expect("a step");
    assert_eq!(
        (
            &last["from"],
            &last["to"],
            &last["kind"],
            &last["ballot"],
            &last["value"]
        ),
        (
            &json!("p2"),
            &json!("a1"),
            &json!("Accept"),
            &json!("1.p2"),
            &json!("B")
        )
    );
    let chosen: Vec<&Value> = trace
        .iter()
        .filter(|step| !step["notes"].as_array().expect("notes").is_empty())
        .collect();
    assert_eq!(chosen.len(), 1, "one step chose a value");
    assert_eq!(chosen[0]["notes"], json!(["A chosen at 1.p1 by a1, a2"]));
    assert_eq!(broken["decisive_step"], 11);
    let story: Vec<&str> = broken["story"]
        .as_array()
        .expect("a story")
        .iter()
        .map(|line| line.as_str().expect("text"))
        .collect();
    assert_eq!(story[0], "step 6: A is chosen at ballot 1.p1 by a1, a2.");
    assert!(story
        .last()
        .expect("a line")
        .starts_with("Why: the flaw `proposer-ignores-promises`"));
    let command = broken["explore"]["command"].as_str().expect("a command");
    assert!(
        command.starts_with("paxos-check explore single "),
        "{command}"
    );
    assert!(
        command.contains("--flaw proposer-ignores-promises"),
        "{command}"
    );
    assert_eq!(report["explore_command"], command);
    assert_eq!(broken["explore"]["url"], broken["explorer_url"]);
}

/// `--html FILE`: the counterexample as one page that needs no server, the story beside the
/// diagram, the step that broke the property marked among the numbered steps.
#[test]
fn html_writes_the_counterexample_as_a_page_with_story_and_diagram() {
    let page_path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("paxos-check-page-{}.html", std::process::id()));
    let page_arg = page_path.to_str().expect("a UTF-8 path");

    let run = paxos_check(&[
        "check",
        "single",
        "--flaw",
        "proposer-ignores-promises",
        "--html",
        page_arg,
    ]);

    assert_eq!(exit_status(&run), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("wrote the page of \"immutability\" to {page_arg}")),
        "{}",
        run.stderr
    );
    let page = std::fs::read_to_string(&page_path).expect("the page was written");
    let _ = std::fs::remove_file(&page_path);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<title>Counterexample for &quot;immutability&quot;</title>"));
    assert!(page.contains("<li>step 6: A is chosen at ballot 1.p1 by a1, a2.</li>"));
    assert!(page.contains("<li class=\"decisive\">p2 -&gt; a1  Accept(b=1.p2, B)</li>"));
    assert!(page.contains("<svg ") && page.contains("✘ immutability broken"));
}

/// Per-model help: `check single --help` offers the flaws single-decree Paxos has, each with
/// its description; `check multi --help` adds the Multi-Paxos ones. A Multi-Paxos flaw given to
/// `check single` still gets the error that says where it belongs.
#[test]
fn each_model_offers_its_own_flaws_in_its_help() {
    let single = paxos_check(&["check", "single", "--help"]);
    let multi = paxos_check(&["check", "multi", "--help"]);

    assert_eq!(exit_status(&single), 0);
    assert!(single.stdout.contains("lowest-accepted-value"));
    assert!(
        single
            .stdout
            .contains("the proposer adopts the lowest-ballot accepted value, not the highest"),
        "each flaw with its description: {}",
        single.stdout
    );
    for multi_only in [
        "skip-phase1-after-preemption",
        "new-leader-skips-phase1",
        "ignore-slot-promises",
    ] {
        assert!(
            !single.stdout.contains(multi_only),
            "{multi_only} in single's help"
        );
        assert!(
            multi.stdout.contains(multi_only),
            "{multi_only} not in multi's help"
        );
    }
    let misplaced = paxos_check(&["check", "single", "--flaw", "new-leader-skips-phase1"]);
    assert_eq!(exit_status(&misplaced), 2);
    assert!(
        misplaced.stderr.contains("show it with `check multi`"),
        "{}",
        misplaced.stderr
    );
}

/// Issue 3, liveness: "it should hold on a lossless network and fail with loss; the report shows
/// why", and "a liveness property decides the exit status only in configurations that promise
/// it". Two lost Prepares leave both proposers one promise short of a majority of two acceptors,
/// with no ballot left to retry: the counterexample is reported, marked as expected with the
/// reason, and the run still exits 0. (Two acceptors keep the lossy space small; three take
/// about 20 s.)
#[test]
fn losing_messages_defeats_liveness_as_expected_and_still_exits_0() {
    let run = paxos_check(&["check", "single", "--acceptors", "2", "--losses", "2"]);

    assert_eq!(exit_status(&run), 0, "{}{}", run.stdout, run.stderr);
    let verdicts = verdict_lines(&run.stdout);
    assert_eq!(
        verdicts.last().map(String::as_str),
        Some(
            "ok eventually value eventually chosen violated (6 steps) - expected here: \
             messages can be lost, and the proposers' retries are bounded"
        )
    );
    assert!(!verdicts.iter().any(|line| line.starts_with("FAIL")));
    let (steps, url) = counterexample(
        &run.stdout,
        "Counterexample (expected here) for \"value eventually chosen\":",
    );
    assert_eq!(
        steps,
        [
            "p1 -> a1  Prepare(b=1.p1)  (lost)",
            "p1 -> a2  Prepare(b=1.p1)",
            "a2 -> p1  Promise(b=1.p1, accepted none)",
            "p2 -> a1  Prepare(b=1.p2)  (lost)",
            "p2 -> a2  Prepare(b=1.p2)",
            "a2 -> p2  Promise(b=1.p2, accepted none)",
        ]
    );
    assert_explorer_url(&url, steps.len());

    let run = paxos_check(&[
        "check",
        "single",
        "--acceptors",
        "2",
        "--losses",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(exit_status(&run), 0, "{}", run.stderr);
    let report = json_report(&run);
    assert_eq!(report["config"]["losses"], 2);
    let liveness = json_property(&report, "value eventually chosen");
    assert_eq!(liveness["verdict"], "violated");
    assert_eq!(liveness["steps"], 6);
    assert!(liveness["expected_here"].is_string(), "{liveness}");
}

/// Issue 3, exit status 2 for usage and configuration errors: each bad flag is refused before
/// any checking, with a message that names the flag, and no panic. `--crashes 4` passes clap's
/// range (0..=7) and is refused by the model's validation, since only 3 acceptors can crash.
#[test]
fn bad_flags_exit_2_naming_the_flag() {
    let cases: [(&[&str], &str); 9] = [
        (&["check", "single", "--acceptors", "0"], "--acceptors"),
        (&["check", "single", "--acceptors", "99"], "--acceptors"),
        (&["check", "single", "--network", "lossy"], "--network"),
        (&["check", "single", "--crashes", "4"], "--crashes"),
        (&["check", "single", "--flaw", "nonsense"], "--flaw"),
        (&["check", "single", "--threads", "0"], "--threads"),
        (&["check", "single", "--lossy", "--losses", "1"], "--lossy"),
        (&["explore", "single", "--crashes", "4"], "--crashes"),
        (&["explore", "single", "--addr", "nonsense"], "--addr"),
    ];
    for (args, flag) in cases {
        let run = paxos_check(args);
        assert_eq!(exit_status(&run), 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("error") && run.stderr.contains(flag),
            "{args:?} names {flag}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
        assert!(
            run.stdout.is_empty(),
            "{args:?} reports nothing: {}",
            run.stdout
        );
    }
    let crashes = paxos_check(&["check", "single", "--crashes", "4"]);
    assert!(
        crashes
            .stderr
            .contains("--crashes must be from 0 to 3 (got 4)"),
        "{}",
        crashes.stderr
    );
}

/// A running `paxos-check explore single`, killed when dropped so that no test leaves one behind,
/// even when it fails.
struct Explorer {
    child: Child,
    address: SocketAddr,
}

impl Explorer {
    /// Starts the Explorer on a free port and waits, within `EXPLORER_STARTUP_LIMIT`, until it
    /// answers.
    fn start(model_flags: &[&str]) -> Explorer {
        let address = free_address();
        let child = Command::new(binary("paxos-check"))
            .args(["explore", "single"])
            .args(model_flags)
            .args(["--addr", &address.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("paxos-check starts");
        let mut explorer = Explorer { child, address };
        let deadline = Instant::now() + EXPLORER_STARTUP_LIMIT;
        loop {
            if let Some(status) = explorer.child.try_wait().expect("waits") {
                let mut stderr = String::new();
                let _ = explorer
                    .child
                    .stderr
                    .take()
                    .expect("piped")
                    .read_to_string(&mut stderr);
                panic!("the Explorer exited before serving: {status}\n{stderr}");
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return explorer;
            }
            assert!(
                Instant::now() < deadline,
                "the Explorer did not answer on {address} within {EXPLORER_STARTUP_LIMIT:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn get(&self, path: &str) -> (u16, String) {
        http_get(self.address, path)
            .unwrap_or_else(|error| panic!("GET {path} from the Explorer: {error}"))
    }

    /// `GET path`, which must answer 200 with JSON.
    fn get_json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|error| panic!("GET {path}: {error}: {body}"))
    }

    /// `/.status` once the check behind the page is done (within `RUN_LIMIT`).
    fn finished_status(&self) -> Value {
        let deadline = Instant::now() + RUN_LIMIT;
        loop {
            let status = self.get_json("/.status");
            if status["done"] == true {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the check never finished: {status}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the Explorer and returns what it printed (read after the kill, so that the read
    /// cannot wait for output that never comes).
    fn stop(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut stdout = String::new();
        if let Some(mut pipe) = self.child.stdout.take() {
            pipe.read_to_string(&mut stdout).expect("UTF-8");
        }
        stdout
    }
}

impl Drop for Explorer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Issue 3, the Explorer: `explore single --addr` serves the Explorer there. Its page is HTML
/// with its script, and `/.status` is JSON about the check behind it, which asks the same
/// properties as `check` and, once done, gives each the verdict `check --keep-going` gives.
#[test]
fn the_explorer_serves_its_page_and_status_on_the_given_address() {
    let mut explorer = Explorer::start(&[]);

    let (status, page) = explorer.get("/");
    assert_eq!(status, 200);
    assert!(page.contains("<html"), "{page}");
    assert!(page.contains("Paxos Explorer"), "{page}");
    let (status, script) = explorer.get("/explorer.js");
    assert_eq!(status, 200);
    assert!(script.contains("/.path/"), "the page asks for paths");

    let checker = explorer.finished_status();
    for count in ["state_count", "unique_state_count", "max_depth"] {
        assert!(checker[count].is_u64(), "{count}: {checker}");
    }
    assert_eq!(checker["unique_state_count"], DEFAULT_UNIQUE_STATES);
    assert_eq!(checker["complete"], true);
    let verdicts: Vec<(&str, &str)> = checker["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .map(|property| {
            (
                property["name"].as_str().expect("a name"),
                property["verdict"].as_str().expect("a verdict"),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("agreement", "holds"),
            ("validity", "holds"),
            ("immutability", "holds"),
            ("learners agree", "holds"),
            ("value chosen", "example"),
            ("two proposers hold majority promises at once", "example"),
            ("a later ballot re-proposes the chosen value", "example"),
            ("value eventually chosen", "holds"),
        ]
    );

    let printed = explorer.stop();
    assert!(
        printed.contains(&format!(
            "serving on http://{}/ (Ctrl-C to stop)\n",
            explorer.address
        )),
        "{printed}"
    );
}

/// Issue 3: the report's Explorer URL "opens it directly". A report made with `--addr` links to
/// that address, and the Explorer serving the same model there answers for the linked path (its
/// page fetches `/.states/<path>` for `#/steps/<path>`).
#[test]
fn a_reported_explorer_link_opens_in_the_explorer_of_the_same_model() {
    let explorer = Explorer::start(&[]);
    let address = explorer.address.to_string();
    let run = paxos_check(&[
        "check",
        "single",
        "--max-states",
        "1000",
        "--format",
        "json",
        "--addr",
        &address,
    ]);
    let report = json_report(&run);
    let example = json_property(&report, "value chosen");
    let path = example["explorer_path"].as_str().expect("a path");
    assert_eq!(
        example["explorer_url"],
        format!("http://{address}/#/steps/{path}")
    );

    let (status, body) = explorer.get(&format!("/.states/{path}"));

    assert_eq!(status, 200, "{body}");
    let successors: Value = serde_json::from_str(&body).expect("JSON");
    assert!(
        !successors
            .as_array()
            .expect("a list of next states")
            .is_empty(),
        "{body}"
    );
}

/// The Explorer shows a counterexample in the text report's words: the path the report links
/// to comes back with its steps numbered as in the report (the initial state is step 0), each
/// state in protocol words, the step that broke the property marked, the story, and the
/// diagram with that step in red. A path that does not exist is a 404 that says why.
#[test]
fn the_explorer_shows_a_counterexample_as_the_report_tells_it() {
    let flaw = ["--flaw", "proposer-ignores-promises"];
    let explorer = Explorer::start(&flaw);
    let address = explorer.address.to_string();
    let mut args = vec!["check", "single", "--format", "json", "--addr", &address];
    args.extend(flaw);
    let report = json_report(&paxos_check(&args));
    let broken = json_property(&report, "immutability");
    let path = broken["explorer_path"].as_str().expect("a path");
    let report_steps: Vec<&str> = broken["trace"]
        .as_array()
        .expect("a trace")
        .iter()
        .map(|step| step["text"].as_str().expect("text"))
        .collect();

    let view = explorer.get_json(&format!("/.path/{path}"));

    let steps = view["steps"].as_array().expect("steps");
    assert_eq!(
        steps.len(),
        report_steps.len() + 1,
        "the initial state, then each step"
    );
    assert_eq!(steps[0]["step"], 0);
    for (step, text) in steps[1..].iter().zip(&report_steps) {
        assert_eq!(step["action"], *text, "step {}", step["step"]);
    }
    assert_eq!(view["selected"], report_steps.len());
    assert_eq!(
        view["broken"],
        json!([{"property": "immutability", "step": 11}])
    );
    assert_eq!(steps[11]["broken"], json!(["immutability"]));
    assert_eq!(steps[6]["notes"], json!(["A chosen at 1.p1 by a1, a2"]));
    let state: Vec<&str> = steps[11]["state"]
        .as_array()
        .expect("state lines")
        .iter()
        .map(|line| line.as_str().expect("text"))
        .collect();
    assert_eq!(state[0], "a1: promised 1.p2, accepted (1.p2, B)");
    assert!(
        state.contains(&"chosen: A chosen at 1.p1 by a1, a2"),
        "{state:?}"
    );
    assert_eq!(view["story"]["property"], "immutability");
    assert_eq!(view["story"]["lines"], broken["story"]);
    let svg = view["svg"].as_str().expect("a diagram");
    assert!(svg.contains("✘ immutability broken"));
    assert!(!view["choices"].as_array().expect("choices").is_empty());

    let (status, body) = explorer.get(&format!("/.path/{path}/99"));
    assert_eq!(status, 404);
    assert!(body.contains("has no action 99"), "{body}");
    let (status, body) = explorer.get("/.path/0/x");
    assert_eq!(status, 404);
    assert!(body.contains("not an action index"), "{body}");
}

/// `paxos-check myths`: each myth answered by its checks, with the configuration and the state
/// count of each. Myth 1: safety on a duplicating, lossy network with a crash, every state.
/// Myth 2: the catalogue, every slip caught. Myth 3: two proposers lead at once, and duelling
/// proposers livelock: a lasso whose loop repeats forever.
#[test]
fn the_three_myths_are_each_answered_by_a_check() {
    let run = paxos_check(&["myths", "--format", "json"]);

    assert_eq!(exit_status(&run), 0, "{}", run.stderr);
    let report = json_report(&run);
    let myths = report["myths"].as_array().expect("myths");
    let names: Vec<&Value> = myths.iter().map(|myth| &myth["myth"]).collect();
    assert_eq!(
        names,
        [&json!("synchrony"), &json!("simple"), &json!("leader")]
    );
    assert!(myths.iter().all(|myth| myth["answered"] == true));
    assert!(myths.iter().all(|myth| myth["verdict"]
        .as_str()
        .expect("a verdict")
        .starts_with("False.")));

    let synchrony = &myths[0]["checks"][0];
    assert_eq!(
        synchrony["command"],
        "paxos-check check single --network duplicating --losses 1 --crashes 1"
    );
    assert_eq!(synchrony["states"], 507_352);
    assert_eq!(synchrony["complete"], true);

    let simple = &myths[1]["checks"][0];
    assert_eq!(simple["command"], "paxos-check flaws --check");
    assert!(simple["found"]
        .as_str()
        .expect("a finding")
        .starts_with("17 of 19 one-line slips break safety"));

    let [two_lead, livelock] = myths[2]["checks"].as_array().expect("checks").as_slice() else {
        panic!("two checks for myth 3: {}", myths[2]);
    };
    assert_eq!(two_lead["states"], DEFAULT_UNIQUE_STATES);
    assert_eq!(
        two_lead["found"],
        "p1 and p2 each hold a majority of promises after 8 steps"
    );
    assert_eq!(
        livelock["found"],
        "a livelock: a stem of 10 steps, then a loop of 11 steps that repeats forever with ever \
         higher ballots"
    );
    let told = livelock["details"].as_array().expect("details");
    assert!(told.iter().any(|line| line
        .as_str()
        .expect("text")
        .starts_with("loop >  11. a1 -> p1  Promise(b=2.p1, accepted none)")));
    assert!(told.iter().any(|line| {
        line.as_str().expect("text").starts_with(
        "After step 21 the state is the one after step 10 again, with every ballot renamed upward"
    )
    }));
}

/// `myths leader --svg-dir DIR` draws the lasso: the loop framed as repeating forever. A
/// directory that does not exist is a usage error.
#[test]
fn the_livelock_is_drawn_as_a_lasso() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("myths-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");

    let run = paxos_check(&["myths", "leader", "--svg-dir", dir.to_str().expect("UTF-8")]);

    assert_eq!(exit_status(&run), 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("Myth 1: \"Paxos has a strong leader.\""),
        "{}",
        run.stdout
    );
    let svg = std::fs::read_to_string(dir.join("myth-3-livelock.svg")).expect("the lasso");
    assert!(svg.contains("↻ steps 11–21"), "the loop is framed");
    assert!(svg.contains(">repeat forever</text>"));
    well_formed_xml(&svg).expect("the SVG parses");
    assert!(dir.join("myth-3-two-proposers-lead.svg").exists());
    let _ = std::fs::remove_dir_all(&dir);

    let missing = paxos_check(&["myths", "leader", "--svg-dir", "/nonexistent/dir"]);
    assert_eq!(exit_status(&missing), 2);
    assert!(
        missing.stderr.contains("not a directory"),
        "{}",
        missing.stderr
    );
}

/// Issue 3: "a busy or invalid address is a clear error with exit status 2, not a panic". Another
/// process holds the port; the Explorer says so and exits instead of serving or panicking.
#[test]
fn the_explorer_on_a_busy_address_exits_2_with_a_clear_message() {
    let holder = TcpListener::bind("127.0.0.1:0").expect("binds an ephemeral port");
    let address = holder.local_addr().expect("has an address").to_string();

    let run = paxos_check(&["explore", "single", "--addr", &address]);

    assert_eq!(exit_status(&run), 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("error: --addr {address} cannot be served")),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    drop(holder);
}

/// Issue 3: an address that is not one (`--addr nonsense`) exits 2 naming the flag and the text.
#[test]
fn the_explorer_on_an_invalid_address_exits_2() {
    let run = paxos_check(&["explore", "single", "--addr", "nonsense"]);

    assert_eq!(exit_status(&run), 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: --addr 'nonsense' is not an address"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

/// Issue 3, exit status 0 "every property as expected on a complete run", for one proposer.
/// The model already leaves out "two proposers hold majority promises at once" when there is
/// one proposer, since it cannot happen; "a later ballot re-proposes the chosen value" cannot
/// happen either on a lossless network (a lone proposer is never refused and never times out,
/// so it never starts a second ballot, whatever `--rounds`), yet it is asked, found missing, and
/// fails correct Paxos with exit 1.
#[test]
fn one_proposer_on_a_lossless_network_is_not_failed_for_a_ballot_it_cannot_start() {
    let run = paxos_check(&["check", "single", "--proposers", "1"]);

    assert_eq!(exit_status(&run), 0, "{}{}", run.stdout, run.stderr);
    assert!(
        !verdict_lines(&run.stdout)
            .iter()
            .any(|line| line.starts_with("FAIL")),
        "{}",
        run.stdout
    );
}

/// Exit status 3 for a "limit reached before the space was exhausted": the default space has
/// 2,367 distinct states. A budget of exactly that many stops the run at the last one, before
/// its successors are known to be old, so the run is incomplete; one more and the budget is
/// never reached. A report never claims "complete" for a run that a limit may have cut short.
#[test]
fn a_run_that_reaches_its_state_limit_is_never_claimed_complete() {
    let limit = DEFAULT_UNIQUE_STATES.to_string();
    let run = paxos_check(&[
        "check",
        "single",
        "--max-states",
        &limit,
        "--format",
        "json",
    ]);
    let report = json_report(&run);
    assert_eq!(report["complete"], false, "{}", run.stdout);
    assert_eq!(
        report["stopped_by"],
        format!("--max-states {DEFAULT_UNIQUE_STATES} reached")
    );
    assert_eq!(exit_status(&run), 3);

    let more = (DEFAULT_UNIQUE_STATES + 1).to_string();
    let run = paxos_check(&["check", "single", "--max-states", &more, "--format", "json"]);
    let report = json_report(&run);
    assert_eq!(report["complete"], true, "{}", run.stdout);
    assert_eq!(report["unique_states"], DEFAULT_UNIQUE_STATES);
    assert_eq!(exit_status(&run), 0);
}

/// `check multi` in its default configuration (3 acceptors, 2 leaders, 2 slots) completes
/// exhaustively, meets every safety property and exits 0; the examples include a slot chosen by
/// Phase 2 alone and a change of leader. Liveness is not promised with two leaders of one ballot
/// each (a preempted leader gives up): its counterexample is shown as expected.
#[test]
fn multi_paxos_by_default_is_complete_safe_and_exits_0() {
    let run = paxos_check(&["check", "multi"]);

    assert_eq!(exit_status(&run), 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("61683 states (13456 unique), max depth 27, "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("\ncomplete: every reachable state was explored\n"),
        "{}",
        run.stdout
    );
    assert_eq!(
        verdict_lines(&run.stdout),
        [
            "ok always slot agreement holds",
            "ok always validity holds",
            "ok always immutability holds",
            "ok always logs agree holds",
            "ok sometimes phase 1 skipped example (12 steps)",
            "ok sometimes leader change example (15 steps)",
            "ok sometimes all slots chosen example (10 steps)",
            "ok sometimes a new leader adopts a value it learned from a promise example (13 steps)",
            "ok eventually every slot eventually chosen violated (11 steps) - expected here: each \
             leader starts at most --rounds ballots, and one preempted after its last gives up, so \
             its commands may stay unchosen",
        ]
    );
}

/// A new leader that goes straight to Phase 2 overwrites the slot the first leader got chosen.
/// The run stops at the first violation, immutability (three Accepts); with `--keep-going` the
/// JSON report also has slot agreement's shortest counterexample (four Accepts) and an Explorer
/// path that opens it, and the run exits 1.
#[test]
fn multi_paxos_without_phase1_for_a_new_leader_breaks_slot_agreement_and_exits_1() {
    let run = paxos_check(&[
        "check",
        "multi",
        "--flaw",
        "new-leader-skips-phase1",
        "--format",
        "json",
    ]);
    assert_eq!(exit_status(&run), 1, "{}{}", run.stdout, run.stderr);
    let report = json_report(&run);
    assert_eq!(json_property(&report, "immutability")["steps"], 3);
    assert_eq!(
        json_property(&report, "slot agreement")["verdict"],
        "unknown"
    );

    let run = paxos_check(&[
        "check",
        "multi",
        "--flaw",
        "new-leader-skips-phase1",
        "--keep-going",
        "--format",
        "json",
    ]);

    assert_eq!(exit_status(&run), 1, "{}{}", run.stdout, run.stderr);
    let report = json_report(&run);
    assert_report_shape(&report);
    assert_eq!(report["model"], "multi");
    assert_eq!(report["config"]["flaw"], "new-leader-skips-phase1");
    let agreement = json_property(&report, "slot agreement");
    assert_eq!(agreement["verdict"], "violated");
    assert_eq!(agreement["steps"], 4);
    assert_eq!(agreement["explorer_path"], "0/0/1/3/4");
    assert_eq!(
        json_property(&report, "immutability")["verdict"],
        "violated"
    );
}

/// With one slot there is no later slot to skip Phase 1 for and no second slot for another
/// leader: those examples are not asked for, and Paxos itself still exits 0.
#[test]
fn multi_paxos_with_one_slot_asks_only_for_what_one_slot_can_show() {
    let run = paxos_check(&["check", "multi", "--slots", "1"]);

    assert_eq!(exit_status(&run), 0, "{}{}", run.stdout, run.stderr);
    let names: Vec<String> = verdict_lines(&run.stdout)
        .iter()
        .map(|line| line.split(' ').skip(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert!(
        names
            .iter()
            .all(|line| !line.starts_with("phase 1 skipped") && !line.starts_with("leader change")),
        "{names:?}"
    );
}

/// Under `minority-quorum` a Multi-Paxos leader decides on a minority's say: leaders learn
/// different commands for one slot. (Thrifty Phase 2 sends to the promisers only, so no value
/// reaches a true majority; the single-decree model, which broadcasts, shows two values chosen.)
#[test]
fn multi_paxos_minority_quorum_splits_the_leaders_logs() {
    let run = paxos_check(&["check", "multi", "--flaw", "minority-quorum"]);

    assert_eq!(exit_status(&run), 1, "{}{}", run.stdout, run.stderr);
    let verdicts = verdict_lines(&run.stdout);
    assert!(
        verdicts.contains(&"FAIL always logs agree violated (8 steps)".to_string()),
        "{verdicts:?}"
    );
}

#[test]
fn multi_paxos_bad_flags_exit_2_naming_the_flag() {
    let cases: [(&[&str], &str); 4] = [
        (&["check", "multi", "--slots", "9"], "--slots"),
        (&["check", "multi", "--leaders", "0"], "--leaders"),
        (
            &["check", "multi", "--acceptors", "2", "--crashes", "3"],
            "--crashes",
        ),
        (&["explore", "multi", "--rounds", "0"], "--rounds"),
    ];
    for (args, flag) in cases {
        let run = paxos_check(args);
        assert_eq!(exit_status(&run), 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("error") && run.stderr.contains(flag),
            "{args:?} names {flag}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
    }
}

/// Issue 5, "CLI": `paxos-check flaws` lists the catalogue, one line per flaw with its model,
/// the property it breaks or "benign", and a description; it runs nothing and exits 0.
#[test]
fn flaws_lists_the_catalogue() {
    let run = paxos_check(&["flaws"]);

    assert_eq!(exit_status(&run), 0, "{}{}", run.stdout, run.stderr);
    let rows: Vec<Vec<&str>> = run
        .stdout
        .lines()
        .skip_while(|line| !line.starts_with("flaw "))
        .skip(1)
        .map(|line| line.split("  ").filter(|cell| !cell.is_empty()).collect())
        .collect();
    let summary: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|row| (row[0].trim(), row[1].trim(), row[2].trim()))
        .collect();
    assert_eq!(
        summary,
        [
            ("accept-below-promise", "single", "immutability"),
            ("promise-hides-accepted", "single", "immutability"),
            ("proposer-ignores-promises", "single", "immutability"),
            ("lowest-accepted-value", "single", "immutability"),
            ("minority-quorum", "single", "learners agree"),
            ("shared-ballots", "single", "benign"),
            ("forget-on-crash", "single", "immutability"),
            ("skip-phase1-after-preemption", "multi", "immutability"),
            ("new-leader-skips-phase1", "multi", "immutability"),
            ("ignore-slot-promises", "multi", "immutability"),
            ("promise-equal-ballot", "single", "benign"),
            ("shared-ballots-and-equal-promise", "single", "agreement"),
            ("leader-skips-reported-slots", "cluster", "immutability"),
            ("catch-up-from-accepted", "cluster", "logs agree"),
            (
                "acknowledge-before-chosen",
                "cluster",
                "no acknowledged write lost"
            ),
            ("forward-renames-request", "cluster", "validity"),
            ("lost-disk-votes", "cluster", "immutability"),
            ("rejoin-after-majority", "cluster", "immutability"),
            ("rejoin-ignores-slot-floor", "cluster", "immutability"),
        ]
    );
    assert!(rows.iter().all(|row| row.len() == 4), "{}", run.stdout);
}

/// Issue 5, "CLI" and "Tests": `flaws --check --format json` runs every flaw in its smallest
/// exposing configuration: each flawed one is caught with its pinned shortest counterexample,
/// whose Explorer link opens on the `explore` command given beside it; the benign ones pass an
/// exhaustive check. Everything as catalogued, so it exits 0. (Its running time is a figure
/// for the README, not something a test should time.)
#[test]
fn flaws_check_catches_every_flaw_and_passes_the_benign_ones() {
    let run = paxos_check(&["flaws", "--check", "--format", "json"]);

    assert_eq!(exit_status(&run), 0, "{}{}", run.stdout, run.stderr);
    let report = json_report(&run);
    assert_eq!(report["as_catalogued"], 19);
    assert_eq!(report["total"], 19);
    let flaws = report["flaws"].as_array().expect("a list");
    let verdicts: Vec<(&str, &str, Value)> = flaws
        .iter()
        .map(|flaw| {
            assert_eq!(flaw["as_catalogued"], true, "{flaw}");
            (
                flaw["flaw"].as_str().expect("a name"),
                flaw["verdict"].as_str().expect("a verdict"),
                flaw["counterexample"]["steps"].clone(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("accept-below-promise", "caught", json!(11)),
            ("promise-hides-accepted", "caught", json!(11)),
            ("proposer-ignores-promises", "caught", json!(11)),
            ("lowest-accepted-value", "caught", json!(18)),
            ("minority-quorum", "caught", json!(8)),
            ("shared-ballots", "benign", Value::Null),
            ("forget-on-crash", "caught", json!(13)),
            ("skip-phase1-after-preemption", "caught", json!(13)),
            ("new-leader-skips-phase1", "caught", json!(3)),
            ("ignore-slot-promises", "caught", json!(11)),
            ("promise-equal-ballot", "benign", Value::Null),
            ("shared-ballots-and-equal-promise", "caught", json!(12)),
            ("leader-skips-reported-slots", "caught", json!(8)),
            ("catch-up-from-accepted", "caught", json!(10)),
            ("acknowledge-before-chosen", "caught", json!(6)),
            ("forward-renames-request", "caught", json!(5)),
            ("lost-disk-votes", "caught", json!(9)),
            ("rejoin-after-majority", "caught", json!(11)),
            ("rejoin-ignores-slot-floor", "caught", json!(14)),
        ]
    );
    for flaw in flaws {
        let Some(found) = flaw["counterexample"].as_object() else {
            assert_eq!(
                flaw["complete"], true,
                "a benign flaw is checked exhaustively"
            );
            assert_eq!(flaw["violated"], json!([]));
            continue;
        };
        assert_eq!(found["property"], flaw["breaks"]);
        let trace = found["trace"].as_array().expect("a trace");
        assert_eq!(json!(trace.len()), found["steps"]);
        let url = found["explorer_url"].as_str().expect("a URL");
        assert_explorer_url(url, trace.len());
        let command = found["explore_command"].as_str().expect("a command");
        let name = flaw["flaw"].as_str().expect("a name");
        assert!(
            command.starts_with(&format!(
                "paxos-check explore {} ",
                flaw["model"].as_str().expect("a model")
            )) && command.contains(&format!(" --flaw {name} ")),
            "{command}"
        );
    }
}

/// Issue 5: `check --flaw NAME` in a configuration too small to expose the flaw does not pass it
/// off as safe: the report says where the catalogue catches it. A Multi-Paxos-only flaw is
/// refused by the single-decree model, which has no such rule.
#[test]
fn a_flaw_the_configuration_cannot_expose_is_pointed_to_the_catalogue() {
    let run = paxos_check(&["check", "single", "--flaw", "lowest-accepted-value"]);
    assert_eq!(exit_status(&run), 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "note: this configuration does not expose lowest-accepted-value: nothing was violated \
             in the whole state space. The catalogue catches it breaking \"immutability\" in single \
             3 acceptors, 2 proposers, 2 ballots"
        ),
        "{}",
        run.stdout
    );

    let run = paxos_check(&["check", "single", "--flaw", "ignore-slot-promises"]);
    assert_eq!(exit_status(&run), 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "--flaw ignore-slot-promises bends a Multi-Paxos rule that single-decree Paxos \
             does not have"
        ),
        "{}",
        run.stderr
    );
}

/// Issue 5: the text form of `flaws --check`, for named flaws only: a table row per flaw with
/// configuration, verdict, property, steps, states, seconds and Explorer link, then each flaw's
/// story: why the rule matters and the numbered shortest counterexample.
#[test]
fn flaws_check_tells_each_flaw_as_a_story() {
    let run = paxos_check(&[
        "flaws",
        "--check",
        "new-leader-skips-phase1",
        "promise-equal-ballot",
    ]);

    assert_eq!(exit_status(&run), 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .starts_with("Flaw catalogue checked: 2 of 2 as catalogued, "),
        "{}",
        run.stdout
    );
    let rows: Vec<String> = run
        .stdout
        .lines()
        .skip_while(|line| !line.starts_with("flaw "))
        .take_while(|line| !line.is_empty())
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(rows.len(), 3, "{}", run.stdout);
    assert_eq!(
        rows[0],
        "flaw configuration verdict property steps states seconds Explorer"
    );
    assert!(
        rows[1].starts_with(
            "new-leader-skips-phase1 multi 2 acceptors, 2 leaders, 1 slot, 1 ballot caught \
             immutability 3 14 "
        ) && rows[1].ends_with(" http://127.0.0.1:3000/#/steps/0/0/1/2"),
        "{}",
        rows[1]
    );
    assert!(
        rows[2].starts_with(
            "promise-equal-ballot single 3 acceptors, 2 proposers, 1 ballot benign none violated \
             - 2367 "
        ),
        "{}",
        rows[2]
    );
    // The story's last line says how to serve the Explorer; the steps and link come before it.
    let story: String = run
        .stdout
        .lines()
        .filter(|line| !line.starts_with("  Serve it with: paxos-check explore multi "))
        .map(|line| format!("{line}\n"))
        .collect();
    let (steps, url) = counterexample(
        &story,
        "  Shortest counterexample for \"immutability\" (3 steps):",
    );
    assert_eq!(
        steps,
        [
            "l1 -> a1  Accept(slot 0, b=1.l1, A)",
            "l1 -> a2  Accept(slot 0, b=1.l1, A)",
            "l2 -> a1  Accept(slot 0, b=1.l2, B)",
        ]
    );
    assert_explorer_url(&url, 3);
    // Under the step that chose A, what it chose; then the story of the counterexample.
    assert!(
        run.stdout
            .contains("    2. l1 -> a2  Accept(slot 0, b=1.l1, A)\n         · slot 0: A chosen at 1.l1 by a1, a2\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "  What happened:\n    step 2: A is chosen in slot 0 at ballot 1.l1 by a1, a2.\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "  Serve it with: paxos-check explore multi --acceptors 2 --leaders 2 --slots 1 \
             --rounds 1 --network unordered --losses 0 --crashes 0 \
             --flaw new-leader-skips-phase1 --addr 127.0.0.1:3000\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("  Why it matters: skipping Phase 1 is earned"),
        "{}",
        run.stdout
    );
}

/// One flaw, one property, one shortest length, wherever it is reported: for every entry of the
/// catalogue, `check MODEL` with the catalogue's own flags (one thread, as the catalogue runs)
/// reports the same first violated property with the same counterexample, Explorer path
/// included; a benign entry violates no safety or liveness property there either.
#[test]
fn every_catalogue_flaw_is_reported_alike_by_flaws_and_check() {
    let catalogue = paxos_check(&["flaws", "--check", "--format", "json"]);
    assert_eq!(exit_status(&catalogue), 0, "{}", catalogue.stderr);
    let report = json_report(&catalogue);
    for flaw in report["flaws"].as_array().expect("a list") {
        let name = flaw["flaw"].as_str().expect("a name");
        let mut args = vec![
            "check".to_owned(),
            flaw["model"].as_str().expect("a model").to_owned(),
        ];
        for (flag, value) in flaw["configuration"].as_object().expect("flags") {
            args.push(format!("--{flag}"));
            match value {
                Value::Bool(true) => {}
                Value::String(text) => args.push(text.clone()),
                other => args.push(other.to_string()),
            }
        }
        args.extend(["--format".to_owned(), "json".to_owned()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let check = paxos_check(&args);
        let checked = json_report(&check);
        // A violation the configuration's faults excuse (a crashed replica forgets the clients
        // waiting on it, so "every command answered" may fail) is reported with why, and does
        // not stop the search: only the others count.
        let violated: Vec<&Value> = checked["properties"]
            .as_array()
            .expect("properties")
            .iter()
            .filter(|property| {
                property["verdict"] == "violated" && property["expected_here"].is_null()
            })
            .collect();
        let Some(found) = flaw["counterexample"].as_object() else {
            assert!(
                violated.iter().all(|p| p["expectation"] == "sometimes"),
                "{name}: benign in the catalogue, yet check violated {violated:?}"
            );
            continue;
        };
        assert_eq!(exit_status(&check), 1, "{name}: {}", check.stderr);
        assert_eq!(violated.len(), 1, "{name}: {violated:?}");
        let property = violated[0];
        assert_eq!(property["name"], found["property"], "{name}");
        assert_eq!(property["name"], flaw["breaks"], "{name}");
        assert_eq!(property["steps"], found["steps"], "{name}");
        assert_eq!(property["explorer_path"], found["explorer_path"], "{name}");
        assert_eq!(property["story"], found["story"], "{name}");
    }
}

/// A cluster counterexample shows the acknowledgement it hinges on: under the step where n1
/// becomes leader, n1 accepts c1's write and answers c1 before the write is chosen; the story
/// says so where the property breaks, and `flaws --check` tells the same story.
#[test]
fn a_cluster_counterexample_shows_the_answer_to_the_client() {
    // The catalogue's configuration: every replica a voter from the start (the real start's
    // probes cut off) and one timer expiry.
    let run = paxos_check(&[
        "check",
        "cluster",
        "--start",
        "voters",
        "--timeouts",
        "1",
        "--flaw",
        "acknowledge-before-chosen",
    ]);

    assert_eq!(exit_status(&run), 1, "{}{}", run.stdout, run.stderr);
    let shown = "    6. n2 -> n1  Promise(b=2.n1, accepted none)\n\
                 \x20        · n1 accepts slot 0: c1#1 write 0=1 at 2.n1\n\
                 \x20        · n1 answers c1: Reply(c1#1: ok), though c1#1 is not chosen\n";
    assert!(run.stdout.contains(shown), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("Ballots read round.node: 1.n2 is round 1 of node n2."),
        "{}",
        run.stdout
    );
    let told = "step 6: n2 -> n1  Promise(b=2.n1, accepted none) — n1 accepts slot 0: c1#1 \
                write 0=1 at 2.n1, n1 answers c1: Reply(c1#1: ok), though c1#1 is not chosen \
                — \"no acknowledged write lost\" is broken.";
    assert!(story(&run.stdout).contains(told), "{}", run.stdout);

    let catalogue = paxos_check(&["flaws", "--check", "acknowledge-before-chosen"]);
    assert_eq!(exit_status(&catalogue), 0, "{}", catalogue.stderr);
    assert!(catalogue.stdout.contains(shown), "{}", catalogue.stdout);
    assert!(
        story(&catalogue.stdout).contains(told),
        "{}",
        catalogue.stdout
    );
}

/// By default a check runs on as many threads as the machine has cores, and the report says
/// how ballots read.
#[test]
fn the_default_thread_count_is_the_machines_cores() {
    let run = run_with_input(&binary("paxos-check"), &["check", "single"], "", RUN_LIMIT);

    assert_eq!(exit_status(&run), 0, "{}{}", run.stdout, run.stderr);
    let cores = machine_cores();
    let threads = format!(
        "\nstrategy bfs, {cores} thread{}\n",
        if cores == 1 { "" } else { "s" }
    );
    assert!(run.stdout.contains(&threads), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "\nBallots read round.proposer: 1.p2 is round 1 of proposer p2. A higher round \
             wins; in one round, the higher-numbered proposer.\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("9407 states (2367 unique), max depth 19, "),
        "the same state space on any number of threads:\n{}",
        run.stdout
    );
}

/// `paxos-check completions SHELL` prints a script the shell accepts, which completes the
/// subcommands; `paxos-check man` prints a manual page naming every subcommand; a shell it does
/// not know is a usage error.
#[test]
fn completions_and_the_manual_page_come_from_the_command_line_definition() {
    let script = paxos_check(&["completions", "bash"]);
    assert_eq!(exit_status(&script), 0, "{}", script.stderr);
    assert!(
        script
            .stdout
            .contains("check explore flaws myths completions man"),
        "{}",
        script.stdout
    );
    let sourced = run_with_input(
        std::path::Path::new("bash"),
        &["-c", "source /dev/stdin && complete -p paxos-check"],
        &script.stdout,
        RUN_LIMIT,
    );
    assert!(sourced.status.success(), "{}", sourced.stderr);
    assert!(
        sourced.stdout.starts_with("complete ")
            && sourced.stdout.contains(" -F _paxos__check ")
            && sourced.stdout.trim_end().ends_with(" paxos-check"),
        "{}",
        sourced.stdout
    );
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let script = paxos_check(&["completions", shell]);
        assert_eq!(exit_status(&script), 0, "{shell}: {}", script.stderr);
        assert!(script.stdout.contains("paxos-check"), "{shell}");
    }

    let page = paxos_check(&["man"]);
    assert_eq!(exit_status(&page), 0, "{}", page.stderr);
    assert!(
        page.stdout.contains(".TH paxos-check 1 "),
        "{}",
        page.stdout
    );
    for subcommand in ["check", "explore", "flaws", "myths", "completions", "man"] {
        assert!(
            page.stdout
                .contains(&format!("paxos\\-check\\-{subcommand}(1)")),
            "the page lists {subcommand}:\n{}",
            page.stdout
        );
    }

    let single = paxos_check(&["man", "check", "single"]);
    assert_eq!(exit_status(&single), 0, "{}", single.stderr);
    assert!(
        single.stdout.contains(".TH paxos-check-check-single 1 ")
            && single.stdout.contains("\\-\\-threads"),
        "{}",
        single.stdout
    );
    let missing = paxos_check(&["man", "check", "double"]);
    assert_eq!(exit_status(&missing), 2);
    assert!(
        missing
            .stderr
            .contains("`paxos-check check` has no subcommand 'double'"),
        "{}",
        missing.stderr
    );

    let unknown = paxos_check(&["completions", "tcsh"]);
    assert_eq!(exit_status(&unknown), 2);
    assert!(
        unknown.stderr.contains("invalid value 'tcsh'"),
        "{}",
        unknown.stderr
    );
}

/// The partial-order reduction is asked for by name (`--reduce all,por`): fewer states, the same
/// verdicts, the same (shortened) counterexample, a line that says what it did and the JSON
/// figures; a model without it refuses it, and a depth-first run says it took every step.
#[test]
fn the_partial_order_reduction_keeps_every_verdict_and_says_what_it_left_out() {
    let full = paxos_check(&["check", "single", "--format", "json"]);
    let reduced = paxos_check(&["check", "single", "--reduce", "all,por", "--format", "json"]);
    assert_eq!(exit_status(&full), 0, "{}", full.stderr);
    assert_eq!(exit_status(&reduced), 0, "{}", reduced.stderr);
    let (full, reduced) = (json_report(&full), json_report(&reduced));
    assert_eq!(json_verdicts(&full), json_verdicts(&reduced));
    assert_eq!(full["unique_states"], DEFAULT_UNIQUE_STATES);
    assert_eq!(
        reduced["unique_states"], 2_138,
        "as docs/reductions.md has it"
    );
    assert_eq!(full["partial_order_reduction"], Value::Null);
    let figures = &reduced["partial_order_reduction"];
    assert!(
        figures["reduced_states"].as_u64() > Some(0)
            && figures["steps_left_out"].as_u64() > figures["reduced_states"].as_u64(),
        "{figures}"
    );

    let text = paxos_check(&["check", "single", "--reduce", "all,por"]);
    assert!(
        text.stdout.contains("cuts: symmetry, dead, stale, por\n")
            && text
                .stdout
                .contains("states expanded by one proposer's steps alone, leaving out"),
        "{}",
        text.stdout
    );

    let flawed = ["check", "single", "--flaw", "proposer-ignores-promises"];
    let flawed_reduced = paxos_check(&[&flawed[..], &["--reduce", "all,por"]].concat());
    assert_eq!(exit_status(&flawed_reduced), 1, "{}", flawed_reduced.stderr);
    let counterexample_lines = |stdout: &str| {
        verdict_lines(stdout)
            .into_iter()
            .filter(|line| line.starts_with("FAIL"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        counterexample_lines(&flawed_reduced.stdout),
        ["FAIL always immutability violated (11 steps)"],
        "a counterexample is shortened: as long as without the reduction"
    );

    let cluster = paxos_check(&["check", "cluster", "--reduce", "all,por"]);
    assert_eq!(exit_status(&cluster), 2, "{}", cluster.stdout);
    assert!(
        cluster.stderr.contains("por") && cluster.stderr.contains("does not have"),
        "{}",
        cluster.stderr
    );

    let depth_first = paxos_check(&[
        "check",
        "single",
        "--reduce",
        "all,por",
        "--strategy",
        "dfs",
    ]);
    assert_eq!(exit_status(&depth_first), 0, "{}", depth_first.stderr);
    assert!(
        depth_first
            .stdout
            .contains("por takes effect in a breadth-first search only"),
        "{}",
        depth_first.stdout
    );
}
