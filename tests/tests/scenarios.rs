//! Scenario tests as data, in the manner of etcd's raft tests: each `tests/scenarios/*.txt` file
//! is a story a reader can follow. Its input lines (with `#` comment lines) go to a fresh
//! `paxos-node`; below a `----` line stands the exact expected stdout; below an optional second
//! `----` line, text that stderr must contain (one fragment per line).
//!
//! After a deliberate change of behaviour, regenerate the expected stdout with
//! `UPDATE_SCENARIOS=1 cargo test -p paxos-e2e --test scenarios` and review the diff.
//!
//! A node of a cluster starts by probing its peers under a nonce it draws at random, and votes
//! once they have answered. A scenario answers for them with `$NONCE` in its input, which the
//! runner replaces with the nonce of the node's first probe; in the transcript that nonce reads
//! `$NONCE` too.

use paxos_e2e::faults::LiveNode;
use paxos_e2e::{first_difference, run_node, workspace_root, Finished};
use std::fs;
use std::time::Duration;

/// Where a scenario stands for the nonce of the node's probe.
const NONCE: &str = "$NONCE";

/// Runs a scenario's input through a fresh node. With `$NONCE` in it, the node is fed line by
/// line, and the first line that names the nonce waits for the node's probe to learn it.
fn run_scenario(input: &str) -> Finished {
    if !input.contains(NONCE) {
        return run_node(input);
    }
    // A long timer, so that no retry the timer makes slips into the transcript.
    let mut node = LiveNode::start(&["--timeout-ms", "60000"]);
    let mut stdout = Vec::new();
    let mut nonce: Option<String> = None;
    for line in input.lines() {
        if line.contains(NONCE) && nonce.is_none() {
            while nonce.is_none() {
                let written = node
                    .next_line(Duration::from_secs(10))
                    .expect("the node probes its peers");
                nonce = probe_nonce(&written);
                stdout.push(written);
            }
        }
        node.send(&line.replace(NONCE, nonce.as_deref().unwrap_or(NONCE)));
    }
    let ended = node.finish(Duration::from_secs(30));
    stdout.extend(ended.rest_of_stdout);
    let mut text: String = stdout.iter().map(|line| format!("{line}\n")).collect();
    if let Some(nonce) = nonce {
        text = text.replace(
            &format!("\"nonce\": {nonce}"),
            &format!("\"nonce\": {NONCE}"),
        );
    }
    Finished {
        stdout: text,
        stderr: ended.stderr,
        status: ended.status,
    }
}

/// The nonce of a `paxos_probe` line.
fn probe_nonce(line: &str) -> Option<String> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    (message["body"]["type"] == "paxos_probe").then(|| message["body"]["nonce"].to_string())
}

struct Scenario {
    input: String,
    expected_stdout: String,
    stderr_fragments: Vec<String>,
    header: Vec<String>,
}

fn parse(text: &str) -> Scenario {
    let mut sections = vec![Vec::new()];
    for line in text.lines() {
        if line == "----" {
            sections.push(Vec::new());
        } else {
            sections.last_mut().expect("one section").push(line);
        }
    }
    assert!(
        (2..=3).contains(&sections.len()),
        "a scenario has input ---- stdout [---- stderr]"
    );
    let header: Vec<String> = sections[0].iter().map(|line| line.to_string()).collect();
    let input: String = sections[0]
        .iter()
        .filter(|line| !line.starts_with('#'))
        .map(|line| format!("{line}\n"))
        .collect();
    let expected_stdout: String = sections[1].iter().map(|line| format!("{line}\n")).collect();
    let stderr_fragments = sections
        .get(2)
        .map(|lines| lines.iter().map(|l| l.to_string()).collect())
        .unwrap_or_default();
    Scenario {
        input,
        expected_stdout,
        stderr_fragments,
        header,
    }
}

fn render(scenario: &Scenario, stdout: &str) -> String {
    let mut text = scenario.header.join("\n");
    text.push_str("\n----\n");
    text.push_str(stdout);
    if !scenario.stderr_fragments.is_empty() {
        text.push_str("----\n");
        text.push_str(&scenario.stderr_fragments.join("\n"));
        text.push('\n');
    }
    text
}

#[test]
fn every_scenario_matches_its_transcript() {
    let dir = workspace_root().join("tests/scenarios");
    let update = std::env::var_os("UPDATE_SCENARIOS").is_some();
    let mut paths: Vec<_> = fs::read_dir(&dir)
        .expect("scenarios dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    paths.retain(|path| path.extension().is_some_and(|ext| ext == "txt"));
    paths.sort();
    assert!(update || paths.len() >= 10, "the scenarios are missing");
    let mut failures = Vec::new();
    for path in &paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let scenario = parse(&fs::read_to_string(path).expect("readable"));
        let finished = run_scenario(&scenario.input);
        assert!(finished.status.success(), "{name}: {}", finished.stderr);
        if update {
            fs::write(path, render(&scenario, &finished.stdout)).expect("writable");
            continue;
        }
        if let Some(difference) = first_difference(&finished.stdout, &scenario.expected_stdout) {
            failures.push(format!("{name}: stdout differs at {difference}"));
        }
        for fragment in &scenario.stderr_fragments {
            if !finished.stderr.contains(fragment.as_str()) {
                failures.push(format!(
                    "{name}: stderr lacks {fragment:?}; it was:\n{}",
                    finished.stderr
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n")
    );
}
