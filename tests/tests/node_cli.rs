//! `paxos-node`'s own command line: `--version`, `--help`, and a usage error, each as an
//! operator meets it.

use paxos_e2e::{binary, run_with_input, workspace_root};
use std::time::Duration;

fn node(args: &[&str]) -> paxos_e2e::Finished {
    run_with_input(&binary("paxos-node"), args, "", Duration::from_secs(10))
}

#[test]
fn version_prints_the_version_and_exits_cleanly() {
    let run = node(&["--version"]);
    assert!(run.status.success());
    assert_eq!(
        run.stdout,
        format!("paxos-node {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_usage_error_is_one_line_that_points_at_help_with_status_2() {
    for args in [&["--bogus"][..], &["--timeout-ms", "0"], &["--data-dir"]] {
        let run = node(args);
        assert_eq!(run.status.code(), Some(2), "{args:?}");
        assert_eq!(run.stdout, "", "{args:?}");
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: {}", run.stderr);
        assert!(
            lines[0].starts_with("paxos-node: ") && lines[0].ends_with("(see paxos-node --help)"),
            "{}",
            lines[0]
        );
    }
}

/// `--help` names every message the node handles, each peer message of the documented wire
/// format included, and says what `--data-dir` holds and what each mode survives.
#[test]
fn help_lists_every_message_and_says_what_each_mode_keeps_and_survives() {
    let run = node(&["--help"]);
    assert!(run.status.success());
    let help = run.stdout.replace('\n', " ");
    let wire = std::fs::read_to_string(workspace_root().join("docs/wire-format.md"))
        .expect("the manual documents the peer wire format");
    let peer_types: Vec<&str> = wire
        .lines()
        .filter_map(|line| line.trim().strip_prefix("{\"type\": \""))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(peer_types.len() >= 13, "{peer_types:?}");
    for message in
        peer_types
            .iter()
            .copied()
            .chain(["init", "read", "write", "cas", "multi_paxos_log"])
    {
        assert!(help.contains(message), "--help does not name {message}");
    }
    for promise in [
        "the learned log",
        "What each mode survives",
        "without --data-dir",
        "one at a time",
    ] {
        assert!(help.contains(promise), "--help does not say {promise:?}");
    }
}
