//! The distributed prototype (`paxos-check-distributed`, cargo feature `distributed`) run as two
//! processes that talk over timely's TCP transport, held to the one-process engine: the same
//! unique states, the same depth, the same verdict for every property, on a clean model and on a
//! flawed one. In the long suite, since it builds the binary with its feature:
//! `cargo test --release -p paxos-e2e --test distributed -- --ignored`.

use paxos_e2e::http::free_address;
use paxos_e2e::{target_root, workspace_root};
use paxos_model::check::engine::{explore, Goal, SearchOptions};
use paxos_model::check::paxos::{single_decree_model, SingleDecreeConfig};
use paxos_model::protocol::flaw::Flaw;
use serde_json::Value;
use stateright::{Expectation, Model};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Builds the prototype with its feature, in release, and returns its path.
fn prototype() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "paxos-check",
            "--features",
            "distributed",
            "--bin",
            "paxos-check-distributed",
        ])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building paxos-check-distributed failed");
    target_root()
        .join("release")
        .join("paxos-check-distributed")
}

/// Runs `flags` as two processes of one computation and returns process 0's report.
fn two_processes(flags: &[&str]) -> Value {
    let binary = prototype();
    let hosts = std::env::temp_dir().join(format!("paxos-hosts-{}", std::process::id()));
    std::fs::write(&hosts, format!("{}\n{}\n", free_address(), free_address()))
        .expect("a hostfile");
    let spawn = |index: &str| {
        Command::new(&binary)
            .args(flags)
            .args(["--", "-n", "2", "-p", index, "-h"])
            .arg(&hosts)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the prototype starts")
    };
    let second = spawn("1");
    let first = spawn("0");
    let first = first.wait_with_output().expect("process 0 ends");
    let second = second.wait_with_output().expect("process 1 ends");
    let _ = std::fs::remove_file(&hosts);
    assert!(
        first.status.success() && second.status.success(),
        "both processes succeed: {}\n{}",
        String::from_utf8_lossy(&first.stderr),
        String::from_utf8_lossy(&second.stderr)
    );
    // timely prints its connection progress on stdout too; the report is the JSON line.
    let stdout = String::from_utf8_lossy(&first.stdout);
    let line = stdout
        .lines()
        .find(|line| line.starts_with('{'))
        .unwrap_or_else(|| panic!("process 0 reports: {stdout}"));
    serde_json::from_str(line).expect("a JSON report")
}

/// The one-process engine's unique states, depth and verdicts, every property decided.
fn one_process(config: SingleDecreeConfig) -> (u64, u64, Vec<(String, &'static str)>) {
    let model = single_decree_model(config);
    let options = SearchOptions {
        threads: 2,
        goal: Goal::EveryProperty,
        ..SearchOptions::default()
    };
    let exploration = explore(&model, &options, &|_| {});
    assert!(exploration.complete());
    let verdicts = model
        .properties()
        .iter()
        .zip(&exploration.discoveries)
        .map(|(property, found)| {
            let verdict = match (
                property.expectation == Expectation::Sometimes,
                found.is_some(),
            ) {
                (true, true) => "example",
                (true, false) => "no example",
                (false, true) => "violated",
                (false, false) => "holds",
            };
            (property.name.to_owned(), verdict)
        })
        .collect();
    (
        exploration.unique_states as u64,
        exploration.max_depth as u64,
        verdicts,
    )
}

fn assert_agree(flags: &[&str], config: SingleDecreeConfig) {
    let report = two_processes(flags);
    let (unique, depth, verdicts) = one_process(config);
    assert_eq!(report["workers"], 2);
    assert_eq!(report["unique_states"], unique, "{flags:?}");
    assert_eq!(report["max_depth"], depth, "{flags:?}");
    let reported: Vec<(String, &str)> = report["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .map(|property| {
            (
                property["name"].as_str().expect("a name").to_owned(),
                property["verdict"].as_str().expect("a verdict"),
            )
        })
        .collect();
    assert_eq!(reported, verdicts, "{flags:?}");
    assert!(
        report["path_steps_sent"].as_u64().expect("traffic") > 0,
        "the two processes exchanged states"
    );
}

#[test]
#[ignore = "long: builds the timely prototype; cargo test --release -p paxos-e2e --test distributed -- --ignored"]
fn two_processes_find_what_one_finds_with_two_ballots() {
    assert_agree(
        &["--rounds", "2"],
        SingleDecreeConfig {
            rounds: 2,
            ..SingleDecreeConfig::default()
        },
    );
}

#[test]
#[ignore = "long: builds the timely prototype; cargo test --release -p paxos-e2e --test distributed -- --ignored"]
fn two_processes_find_the_flaw_one_finds() {
    assert_agree(
        &["--rounds", "2", "--flaw", "lowest-accepted-value"],
        SingleDecreeConfig {
            rounds: 2,
            flaw: Flaw::LowestAcceptedValue,
            ..SingleDecreeConfig::default()
        },
    );
}
