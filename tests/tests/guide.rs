//! The README's quick tour, run exactly as a newcomer would: every `sh` block of the section
//! "A quick tour" runs in `bash` from the workspace root, with the freshly built `paxos-check`
//! and `paxos-node` first on `PATH` (as `cargo install` leaves them), and every output block the
//! README prints after a command must be what the command prints: each of its lines, except a
//! lone `...`, appears in the output in the same order. A command whose shown output reports a
//! violation (`FAIL`) must exit with status 1, every other with 0. Within a shown line, `...`
//! stands for what the run prints there. `paxos-check explore` serves
//! until stopped, so it passes once its page answers.

use paxos_e2e::{binary, workspace_root};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One step of the tour: a shell command and, if the README shows it, its output.
#[derive(Debug)]
struct TourStep {
    command: String,
    shown_output: Option<String>,
}

/// The `sh` blocks of the README's quick tour, each with the plain block that follows it.
fn quick_tour() -> Vec<TourStep> {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).expect("README.md");
    let start = readme
        .find("## A quick tour")
        .expect("the README has a quick tour");
    let section = &readme[start..];
    let end = section[3..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 3);
    let mut blocks: Vec<(String, String)> = Vec::new();
    let mut lines = section[..end].lines();
    while let Some(line) = lines.next() {
        let Some(language) = line.strip_prefix("```") else {
            continue;
        };
        let body: Vec<&str> = lines.by_ref().take_while(|line| *line != "```").collect();
        blocks.push((language.to_owned(), body.join("\n")));
    }
    let mut steps: Vec<TourStep> = Vec::new();
    for (language, body) in blocks {
        match language.as_str() {
            "sh" => steps.push(TourStep {
                command: body,
                shown_output: None,
            }),
            "" => {
                let step = steps.last_mut().expect("an output block follows a command");
                assert!(step.shown_output.is_none(), "two output blocks in a row");
                step.shown_output = Some(body);
            }
            other => panic!("a block of unexpected language {other:?} in the quick tour"),
        }
    }
    assert!(steps.len() >= 5, "the tour has its steps: {steps:?}");
    steps
}

/// `PATH` with the built binaries first, as `cargo install` puts them on it.
fn path_with_binaries() -> String {
    let bin_dir: PathBuf = binary("paxos-check")
        .parent()
        .expect("a directory")
        .to_path_buf();
    assert!(binary("paxos-node").exists());
    format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Every line the README shows, but a lone `...`, appears in `actual`, in order; within a line,
/// `...` stands for whatever the run printed there (a message id, say).
fn assert_shows(shown: &str, actual: &str, command: &str) {
    let mut rest = actual;
    for line in shown
        .lines()
        .map(str::trim_end)
        .filter(|line| line.trim() != "...")
    {
        for fragment in line.split("...").filter(|fragment| !fragment.is_empty()) {
            match rest.find(fragment) {
                Some(at) => rest = &rest[at + fragment.len()..],
                None => panic!(
                    "`{command}` should print, in this order, the README's line\n{line}\n\
                     It printed:\n{actual}"
                ),
            }
        }
    }
}

fn run_to_completion(command: &str, path: &str) -> (i32, String) {
    let mut child = Command::new("bash")
        .args(["-euo", "pipefail", "-c", command])
        .current_dir(workspace_root())
        .env("PATH", path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash runs");
    let limit = Instant::now() + Duration::from_secs(180);
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).expect("UTF-8 output");
        text
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > limit {
            let _ = child.kill();
            panic!("`{command}` did not finish within 180 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("piped")
        .read_to_string(&mut stderr)
        .expect("UTF-8");
    let stdout = reader.join().expect("reader");
    let code = status.code().unwrap_or(-1);
    (code, format!("{stdout}{stderr}"))
}

/// Serves until stopped: passes once the Explorer's page answers on the default address.
fn run_server(command: &str, path: &str) {
    let mut child = Command::new("bash")
        .args(["-c", &format!("exec {command}")])
        .current_dir(workspace_root())
        .env("PATH", path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash runs");
    let limit = Instant::now() + Duration::from_secs(60);
    let answered = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut stderr = String::new();
            let _ = child
                .stderr
                .take()
                .expect("piped")
                .read_to_string(&mut stderr);
            panic!("`{command}` exited with {status} before serving: {stderr}");
        }
        if let Ok(mut stream) = TcpStream::connect("127.0.0.1:3000") {
            stream
                .write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                .expect("a request");
            let mut page = String::new();
            let _ = stream.read_to_string(&mut page);
            break page;
        }
        if Instant::now() > limit {
            let _ = child.kill();
            panic!("`{command}` did not serve its page within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        answered.starts_with("HTTP/1.") && answered.contains(" 200 "),
        "`{command}` answered: {answered}"
    );
}

#[test]
fn every_command_of_the_quick_tour_runs_as_shown() {
    let path = path_with_binaries();
    for step in quick_tour() {
        let command = step.command.trim();
        if command.starts_with("paxos-check explore") {
            run_server(command, &path);
            continue;
        }
        let (code, output) = run_to_completion(command, &path);
        let expects_violation = step
            .shown_output
            .as_deref()
            .is_some_and(|shown| shown.contains("FAIL"));
        let expected_code = if expects_violation { 1 } else { 0 };
        assert_eq!(
            code, expected_code,
            "`{command}` exited with {code}, expected {expected_code}:\n{output}"
        );
        if let Some(shown) = &step.shown_output {
            assert_shows(shown, &output, command);
        }
    }
}
