//! Every run of `paxos-check` ends when told to, with a report of what it explored: the
//! deadline (`--timeout`) and the state budget (`--max-states`) are honoured by every strategy
//! and thread count, a memory guard stops a run before the machine runs out, Ctrl-C stops it
//! with a partial report, and a flawed run ends as soon as its answer is known. An incomplete
//! run never calls a property `ok`.
//!
//! `check single --rounds 3` is the large configuration here: 7,153,085 unique states, about half
//! a minute to exhaust on two threads of the reference machine, so every limit meets it mid-run.

use paxos_e2e::{binary, run_with_input, Finished};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A run that ignores its limit is killed here, and fails its test.
const RUN_LIMIT: Duration = Duration::from_secs(60);

fn paxos_check(args: &[&str]) -> (Finished, Duration) {
    let started = Instant::now();
    let finished = run_with_input(&binary("paxos-check"), args, "", RUN_LIMIT);
    (finished, started.elapsed())
}

fn exit_status(run: &Finished) -> i32 {
    run.status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal: {}\n{}", run.status, run.stderr))
}

/// The properties the report could not decide are `not decided (run incomplete)`, never `ok`.
fn assert_safety_unknown(stdout: &str) {
    for property in ["agreement", "validity", "immutability", "learners agree"] {
        let line = stdout
            .lines()
            .find(|line| line.contains(&format!(" {property} ")))
            .unwrap_or_else(|| panic!("no line for {property}:\n{stdout}"));
        assert!(
            line.starts_with("?") && line.ends_with("not decided (run incomplete)"),
            "{line}"
        );
    }
}

/// "`check single --rounds 3 --timeout 3` exits 3 within 5 s with a report; the same with
/// `--strategy dfs` and with `--threads 2`."
#[test]
fn a_timeout_ends_every_strategy_within_two_seconds_with_a_report() {
    for extra in [&[][..], &["--strategy", "dfs"], &["--threads", "2"]] {
        let mut args = vec!["check", "single", "--rounds", "3", "--timeout", "3"];
        args.extend_from_slice(extra);
        let (run, took) = paxos_check(&args);
        assert_eq!(
            exit_status(&run),
            3,
            "{args:?}: {}{}",
            run.stdout,
            run.stderr
        );
        assert!(took < Duration::from_secs(5), "{args:?} took {took:?}");
        assert!(
            run.stdout
                .contains("\nINCOMPLETE: --timeout 3s reached after ")
                && run.stdout.contains(
                    "\nNothing was violated in the states explored; the properties marked ? \
                     were not decided, since states beyond these were not checked.\n"
                )
                && run
                    .stdout
                    .contains("\n  - more time: paxos-check check single "),
            "{args:?}: {}",
            run.stdout
        );
        assert_safety_unknown(&run.stdout);
    }
}

/// "`--max-states 1000` stops at about 1,000", whichever strategy and thread count.
#[test]
fn a_state_budget_stops_at_about_that_many_states() {
    for extra in [&[][..], &["--strategy", "dfs", "--threads", "2"]] {
        let mut args = vec![
            "check",
            "single",
            "--rounds",
            "3",
            "--max-states",
            "1000",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let (run, _) = paxos_check(&args);
        assert_eq!(exit_status(&run), 3, "{args:?}: {}", run.stderr);
        let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON report");
        let unique = report["unique_states"].as_u64().expect("a count");
        assert!((1_000..1_010).contains(&unique), "{args:?}: {unique}");
        assert_eq!(report["complete"], false);
        assert_eq!(report["limit_reached"], true);
        assert_eq!(report["stopped_by"], "--max-states 1000 reached");
    }
}

/// A memory guard stops the run with a report and exit status 3 before the kernel would kill
/// it; here the guard is set low enough to meet mid-run.
#[test]
fn the_memory_guard_stops_the_run_with_a_report() {
    let (run, _) = paxos_check(&["check", "single", "--rounds", "3", "--max-memory", "64M"]);
    assert_eq!(exit_status(&run), 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("INCOMPLETE: memory guard reached: "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("limit 64 MiB (--max-memory sets it)"),
        "{}",
        run.stdout
    );
    assert_safety_unknown(&run.stdout);
}

/// A budget that the frontier would pass but the visited set does not: the run spills the
/// level it is building to disk, reads it back in order, and completes with the count of the
/// run that kept everything in memory (`check single --rounds 2`: 141,994 states).
#[test]
fn a_memory_budget_the_frontier_would_pass_spills_it_and_the_run_completes() {
    let (run, _) = paxos_check(&[
        "check",
        "single",
        "--rounds",
        "2",
        "--threads",
        "2",
        "--max-memory",
        "16M",
        "--format",
        "json",
    ]);
    assert_eq!(exit_status(&run), 0, "{}{}", run.stdout, run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("a JSON report");
    assert_eq!(report["complete"], true);
    assert_eq!(report["unique_states"], 141_994);
    assert!(
        report["spilled"]["blocks"]
            .as_u64()
            .is_some_and(|blocks| blocks > 0),
        "{}",
        report["spilled"]
    );
}

/// Ctrl-C (SIGINT) stops the run and prints the partial report, marked incomplete.
#[test]
fn ctrl_c_stops_the_run_and_prints_a_partial_report() {
    let child = Command::new(binary("paxos-check"))
        .args(["check", "single", "--rounds", "3"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("paxos-check starts");
    std::thread::sleep(Duration::from_millis(1500));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let started = Instant::now();
    let output = child.wait_with_output().expect("it exits");
    assert!(started.elapsed() < Duration::from_secs(5));
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let stderr = String::from_utf8(output.stderr).expect("UTF-8");
    assert_eq!(output.status.code(), Some(3), "{stdout}{stderr}");
    assert!(
        stdout.contains("\nINCOMPLETE: interrupted (Ctrl-C) after ")
            && stdout.contains("\nNothing was violated in the states explored;"),
        "{stdout}"
    );
    assert!(stderr.contains("interrupted: stopping the run"), "{stderr}");
    assert_safety_unknown(&stdout);
}

/// A flawed run ends when its answer is known: the catalogue's configuration for
/// `lowest-accepted-value` on FIFO links stops at the first violation, with a shortest
/// counterexample, instead of exploring the whole space.
#[test]
fn a_flawed_run_ends_at_its_first_violation() {
    let (run, _) = paxos_check(&[
        "check",
        "single",
        "--flaw",
        "lowest-accepted-value",
        "--rounds",
        "2",
        "--network",
        "ordered",
    ]);
    assert_eq!(exit_status(&run), 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "\nincomplete: stopped at the first violation; --keep-going decides every property\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .lines()
            .any(|line| line.starts_with("FAIL always") && line.contains(" violated (")),
        "{}",
        run.stdout
    );
}

/// A run that cannot use a flag says so: `--seed` draws nothing under breadth-first search.
#[test]
fn a_flag_without_effect_is_named() {
    let (run, _) = paxos_check(&["check", "single", "--seed", "7"]);
    assert_eq!(exit_status(&run), 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("warning: --seed has no effect with --strategy bfs"),
        "{}",
        run.stderr
    );
}

/// Before a run known to be large starts, it says how large, what it cost on the reference
/// machine, and how to bound it; a larger one than any measured is told it is at least that.
#[test]
fn a_known_large_run_is_announced_before_it_starts() {
    let (run, _) = paxos_check(&["check", "single", "--rounds", "3", "--max-states", "1000"]);
    assert_eq!(exit_status(&run), 3, "{}", run.stderr);
    let note = run.stderr.lines().next().expect("a first line on stderr");
    assert!(
        note.starts_with("note: this configuration has about 7,153,085 unique states;"),
        "{note}"
    );
    assert!(note.contains("`check single --rounds 3` took"), "{note}");
    assert!(
        note.contains("--timeout, --max-states and --max-memory"),
        "{note}"
    );

    let (run, _) = paxos_check(&["check", "multi", "--rounds", "3", "--max-states", "1000"]);
    assert!(
        run.stderr
            .contains("note: this configuration has more than 8,584,801 unique states"),
        "{}",
        run.stderr
    );

    let (run, _) = paxos_check(&["check", "single"]);
    assert_eq!(exit_status(&run), 0);
    assert!(
        !run.stderr.contains("note: this configuration"),
        "{}",
        run.stderr
    );
}
