//! The peer model beside ours: `tests/benches/single_decree.pml`, single-decree Paxos written for
//! SPIN to decide the question `paxos-check check single` decides, is what
//! `tests/benches/compare_with_spin.sh` measures us against. A peer that could not fail, or that
//! decided a different question, would make that comparison meaningless, so these scenarios run
//! SPIN and our checker on the same configurations and require the same verdicts: Paxos holds;
//! an acceptor that accepts below its promise, or a proposer that ignores what its promises
//! report, breaks immutability; and the peer's assertion fails with a quorum of one. SPIN's
//! state counts are pinned, so that a change to the peer model shows up in review.
//!
//! SPIN is Debian's `spin` (`sudo apt-get install -y spin`), with gcc to build its verifier.
//! Without them the scenarios say so and pass, unless `PAXOS_SPIN_TEST=required` (as CI sets
//! it), where a missing SPIN fails them.

use paxos_e2e::{binary, workspace_root};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What SPIN's verifier said about one build of the peer model.
struct SpinVerdict {
    states_stored: u64,
    errors: u64,
    assertion_violated: bool,
}

/// Whether SPIN and gcc are here; when they are not and CI requires them, the test fails.
fn spin_available() -> bool {
    let found = |tool: &str, version_flag: &str| {
        Command::new(tool)
            .arg(version_flag)
            .output()
            .is_ok_and(|output| output.status.success())
    };
    if found("spin", "-V") && found("gcc", "--version") {
        return true;
    }
    let required = std::env::var("PAXOS_SPIN_TEST").is_ok_and(|value| value == "required");
    assert!(
        !required,
        "PAXOS_SPIN_TEST=required, but spin or gcc is missing: sudo apt-get install -y spin gcc"
    );
    eprintln!("skipped: SPIN is not installed (sudo apt-get install -y spin)");
    false
}

/// Builds the peer model with the given `-D` definitions in a directory of its own and runs its
/// exhaustive safety search.
fn run_spin(name: &str, defines: &[&str]) -> SpinVerdict {
    let dir = scratch_dir(name);
    let model = workspace_root().join("tests/benches/single_decree.pml");
    std::fs::copy(&model, dir.join("single_decree.pml")).expect("the peer model is copied");
    run_in(
        &dir,
        "spin",
        &[&["-a"], defines, &["single_decree.pml"]].concat(),
    );
    run_in(&dir, "gcc", &["-O2", "-DSAFETY", "-o", "pan", "pan.c"]);
    let output = Command::new(dir.join("pan"))
        .current_dir(&dir)
        .arg("-m100000")
        .output()
        .expect("pan runs");
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    let number_before = |marker: &str| -> u64 {
        let line = report
            .lines()
            .find(|line| line.contains(marker))
            .unwrap_or_else(|| panic!("pan's report has no {marker:?}:\n{report}"));
        line.split_whitespace()
            .next()
            .and_then(|word| word.parse().ok())
            .unwrap_or_else(|| panic!("no count before {marker:?} in {line:?}"))
    };
    let errors = report
        .split("errors: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|word| word.parse().ok())
        .unwrap_or_else(|| panic!("pan's report has no error count:\n{report}"));
    let verdict = SpinVerdict {
        states_stored: number_before("states, stored"),
        errors,
        assertion_violated: report.contains("assertion violated"),
    };
    // The report is parsed; the build is not kept, or every run would leave one more behind.
    let _ = std::fs::remove_dir_all(&dir);
    verdict
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = paxos_e2e::target_root()
        .join("spin-peer")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

fn run_in(dir: &Path, program: &str, args: &[&str]) {
    let output = Command::new(program)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("{program} does not run: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Our checker's verdict on `check single ARGS`: the names of the properties it found violated.
fn our_violations(args: &[&str]) -> Vec<String> {
    let output = Command::new(binary("paxos-check"))
        .args(["check", "single"])
        .args(args)
        .args(["--threads", "1", "--keep-going", "--format", "json"])
        .output()
        .expect("paxos-check runs");
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("a JSON report on stdout");
    assert_eq!(report["complete"], true, "our search was exhausted");
    report["properties"]
        .as_array()
        .expect("a list of properties")
        .iter()
        .filter(|property| property["verdict"] == "violated")
        .map(|property| property["name"].as_str().expect("a name").to_owned())
        .collect()
}

#[test]
fn paxos_holds_in_both_models_with_two_and_three_proposers() {
    if !spin_available() {
        return;
    }
    for (proposers, pinned_states) in [("2", 6_548), ("3", 863_740)] {
        let spin = run_spin(
            &format!("holds-{proposers}"),
            &[&format!("-DPROPOSERS={proposers}")],
        );
        assert_eq!(
            spin.errors, 0,
            "SPIN found Paxos broken at {proposers} proposers"
        );
        assert!(!spin.assertion_violated);
        assert_eq!(
            spin.states_stored, pinned_states,
            "SPIN's states at {proposers}"
        );
        let ours = our_violations(&["--proposers", proposers]);
        let unsafe_verdicts: Vec<&String> = ours
            .iter()
            .filter(|name| ["agreement", "immutability"].contains(&name.as_str()))
            .collect();
        assert!(unsafe_verdicts.is_empty(), "ours found {unsafe_verdicts:?}");
    }
}

/// A flaw bent the same way into both models: SPIN must find its assertion violated after
/// `pinned_states`, and ours must find immutability violated.
fn both_models_catch(define: &str, our_flaw: &str, pinned_states: u64) {
    let spin = run_spin(our_flaw, &["-DPROPOSERS=2", define]);
    assert!(spin.assertion_violated, "SPIN missed {define}");
    assert_eq!(spin.errors, 1);
    assert_eq!(
        spin.states_stored, pinned_states,
        "SPIN's states up to the violation of {define}"
    );
    let ours = our_violations(&["--flaw", our_flaw]);
    assert!(ours.contains(&"immutability".to_owned()), "ours: {ours:?}");
}

#[test]
fn a_proposer_that_ignores_its_promises_breaks_immutability_in_both_models() {
    if spin_available() {
        both_models_catch("-DIGNORES_REPORTS=1", "proposer-ignores-promises", 1_834);
    }
}

#[test]
fn an_acceptor_that_accepts_below_its_promise_breaks_immutability_in_both_models() {
    if spin_available() {
        both_models_catch("-DACCEPTS_BELOW_PROMISE=1", "accept-below-promise", 54);
    }
}

/// A quorum of one for choosing as well as for promising: two values get chosen, and the peer
/// model's assertion must say so. (Ours has no such switch: its `minority-quorum` flaw shrinks
/// only the proposer's quorum, so nothing is ever chosen and what breaks is "learners agree".)
#[test]
fn a_quorum_of_one_breaks_the_peer_model() {
    if !spin_available() {
        return;
    }
    let spin = run_spin("quorum-of-one", &["-DPROPOSERS=2", "-DMAJORITY=1"]);
    assert!(spin.assertion_violated, "SPIN missed two values chosen");
    assert_eq!(spin.errors, 1);
    assert_eq!(spin.states_stored, 175, "SPIN's states up to the violation");
}
