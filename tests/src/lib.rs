//! Shared helpers for the end-to-end tests in `tests/tests/`: they build and run the real
//! binaries, exactly as a user would.

pub mod http;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The workspace root (where `Cargo.toml` names every member).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// Path to a workspace binary, built once per test process with the profile the tests run in.
/// `cargo test` does not build other packages' binaries for this package's tests, so the tests
/// ask cargo for them; the build is a no-op when they are fresh.
pub fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let target_dir = BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(workspace_root())
            .args(["build", "--quiet", "--bins", "--profile", profile()])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the workspace binaries failed");
        target_root().join(profile_dir())
    });
    let path = target_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// Where cargo puts what it builds: `CARGO_TARGET_DIR`, or the workspace's `target/`.
pub fn target_root() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The cargo profile these tests were compiled with, so that the binaries match it.
fn profile() -> &'static str {
    if cfg!(debug_assertions) {
        "dev"
    } else {
        "release"
    }
}

fn profile_dir() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// What a finished process left behind.
#[derive(Debug)]
pub struct Finished {
    pub stdout: String,
    pub stderr: String,
    pub status: std::process::ExitStatus,
}

/// Runs `program` with `args`, feeds it `input` on stdin, closes stdin and waits, killing it if
/// it outlives `limit` (a hang is a failure, not a stuck test run).
pub fn run_with_input(
    program: &std::path::Path,
    args: &[&str],
    input: &str,
    limit: std::time::Duration,
) -> Finished {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{} does not start: {error}", program.display()));
    let mut stdin = child.stdin.take().expect("piped");
    let input = input.to_owned();
    let writer = std::thread::spawn(move || {
        // The process may exit before reading everything; that is for the caller to judge.
        let _ = stdin.write_all(input.as_bytes());
    });
    let pid = child.id();
    let (done_sender, done_receiver) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_receiver.recv_timeout(limit).is_err() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            return true;
        }
        false
    });
    let output = child.wait_with_output().expect("waits");
    let _ = done_sender.send(());
    let killed = watchdog.join().expect("watchdog");
    let _ = writer.join();
    assert!(
        !killed,
        "{} did not finish within {limit:?}",
        program.display()
    );
    Finished {
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        status: output.status,
    }
}

/// Feeds `input` to a fresh `paxos-node`, which must exit cleanly at the end of its input.
pub fn run_node(input: &str) -> Finished {
    let finished = run_with_input(
        &binary("paxos-node"),
        &[],
        input,
        std::time::Duration::from_secs(60),
    );
    assert!(
        finished.status.success(),
        "paxos-node failed: {}\n{}",
        finished.status,
        finished.stderr
    );
    finished
}

/// A line-by-line comparison that says where two transcripts part.
pub fn first_difference(actual: &str, expected: &str) -> Option<String> {
    let actual_lines: Vec<&str> = actual.lines().collect();
    let expected_lines: Vec<&str> = expected.lines().collect();
    for index in 0..actual_lines.len().max(expected_lines.len()) {
        let (got, want) = (actual_lines.get(index), expected_lines.get(index));
        if got != want {
            return Some(format!(
                "line {}:\n  expected: {}\n  actual:   {}",
                index + 1,
                want.unwrap_or(&"<nothing>"),
                got.unwrap_or(&"<nothing>")
            ));
        }
    }
    None
}
pub mod faults;
pub mod router;
pub mod simulator;

/// A whole number from the environment variable `name` (`_` allowed as a separator), or
/// `default` when it is not set: the benchmarks' sizes.
pub fn env_count(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, not {text:?}")),
        Err(_) => default,
    }
}
