//! Throughput of `paxos-node` against the fastest possible pipe, on the same input.
//!
//! The input is one `init` line and then `PAXOS_BENCH_LINES` (default 1,000,000) `paxos_prepare`
//! lines with rising ballots, so almost every one is a real promise; every tenth repeats the
//! ballot before it, which the acceptor must refuse (a prepare needs `n >` the promise). The
//! bench times, run after run on that one file:
//!
//! - the ceiling: `cat FILE` with its stdout drained here, which is what the pipe and the drain
//!   cost with no work at all;
//! - the node: the release-built `paxos-node < FILE` with its stdout drained here.
//!
//! It reports the median of `PAXOS_BENCH_RUNS` (default 5) runs of each as messages per second,
//! their ratio, and whether the node meets the target (1,000,000 messages/s) and the bar
//! (500,000); and it checks, untimed, that the node answered every line byte for byte.
//!
//! Run: `cargo bench -p paxos-e2e --bench node_throughput`
//! Quick: `PAXOS_BENCH_LINES=100000 PAXOS_BENCH_RUNS=3 cargo bench -p paxos-e2e --bench node_throughput`

use paxos_e2e::env_count;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What the typed codec aims for on the 2-core reference machine.
const TARGET_MESSAGES_PER_SECOND: f64 = 1_000_000.0;
/// Below this the node is too slow: the issue's bar.
const BAR_MESSAGES_PER_SECOND: f64 = 500_000.0;
/// Every this-many prepares, one repeats the previous ballot and is refused.
const REFUSAL_EVERY: u64 = 10;

fn main() {
    let prepare_count = env_count("PAXOS_BENCH_LINES", 1_000_000);
    let runs = env_count("PAXOS_BENCH_RUNS", 5).max(1);
    let node = paxos_e2e::binary("paxos-node");
    let input_path = std::env::temp_dir().join(format!(
        "paxos-node-throughput-{}.jsonl",
        std::process::id()
    ));
    let input_bytes = write_input(&input_path, prepare_count);
    let message_count = prepare_count + 1;
    println!(
        "paxos-node throughput: {message_count} input lines (1 init, {prepare_count} paxos_prepare, \
         1 in {REFUSAL_EVERY} refused), {:.1} MB",
        input_bytes as f64 / 1e6
    );
    verify_every_answer(&node, &input_path, prepare_count);
    println!("  checked: paxos-node answers every line, byte for byte as expected");

    let mut cat_seconds = Vec::new();
    let mut node_seconds = Vec::new();
    for run in 1..=runs {
        // Alternate the two, so that a slow spell of the machine hits both alike.
        let cat = time_pipe(Command::new("cat").arg(&input_path), None);
        assert_eq!(cat.lines, message_count, "cat passes every line through");
        let served = time_pipe(&mut Command::new(&node), Some(&input_path));
        assert_eq!(
            served.lines, message_count,
            "paxos-node answers every line, the init included"
        );
        println!(
            "  run {run}/{runs}: cat {:>7.3} s   paxos-node {:>7.3} s   ({} output lines)",
            cat.elapsed.as_secs_f64(),
            served.elapsed.as_secs_f64(),
            served.lines
        );
        cat_seconds.push(cat.elapsed.as_secs_f64());
        node_seconds.push(served.elapsed.as_secs_f64());
    }
    let _ = std::fs::remove_file(&input_path);

    let cat_rate = message_count as f64 / median(&mut cat_seconds);
    let node_rate = message_count as f64 / median(&mut node_seconds);
    println!("  median over {runs} runs:");
    println!("    cat (ceiling)    {cat_rate:>12.0} messages/s");
    println!("    paxos-node       {node_rate:>12.0} messages/s");
    println!("    paxos-node / cat {:>12.3}", node_rate / cat_rate);
    println!(
        "    target {TARGET_MESSAGES_PER_SECOND:.0} messages/s: {}",
        verdict(node_rate, TARGET_MESSAGES_PER_SECOND)
    );
    println!(
        "    bar    {BAR_MESSAGES_PER_SECOND:.0} messages/s: {}",
        verdict(node_rate, BAR_MESSAGES_PER_SECOND)
    );
}

fn verdict(rate: f64, goal: f64) -> &'static str {
    if rate >= goal {
        "met"
    } else {
        "NOT met"
    }
}

/// The ballot of the `index`-th prepare (from 0): rising by one, except that every tenth repeats
/// the one before it.
fn proposal_n(index: u64) -> u64 {
    if is_refused(index) {
        index
    } else {
        index + 1
    }
}

fn is_refused(index: u64) -> bool {
    index % REFUSAL_EVERY == REFUSAL_EVERY - 1
}

fn write_input(path: &Path, prepare_count: u64) -> u64 {
    let file = File::create(path).expect("the temporary directory is writable");
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let init = r#"{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}}"#;
    writeln!(out, "{init}").expect("write");
    for index in 0..prepare_count {
        writeln!(
            out,
            r#"{{"src":"c1","dest":"n1","body":{{"type":"paxos_prepare","msg_id":{},"proposal_n":{}}}}}"#,
            index + 2,
            proposal_n(index)
        )
        .expect("write");
    }
    out.flush().expect("flush");
    std::fs::metadata(path).expect("written").len()
}

/// The node's answer to the `index`-th prepare, as the course prints it.
fn expected_answer(index: u64) -> String {
    let (in_reply_to, msg_id) = (index + 2, index + 1);
    if is_refused(index) {
        format!(
            r#"{{"src": "n1", "dest": "c1", "body": {{"type": "paxos_promise", "in_reply_to": {in_reply_to}, "promised": false, "highest_promised": {}, "msg_id": {msg_id}}}}}"#,
            proposal_n(index)
        )
    } else {
        format!(
            r#"{{"src": "n1", "dest": "c1", "body": {{"type": "paxos_promise", "in_reply_to": {in_reply_to}, "promised": true, "accepted_n": null, "accepted_value": null, "msg_id": {msg_id}}}}}"#
        )
    }
}

/// One timed run: how long from spawn to exit, and how many lines came out.
struct Run {
    elapsed: Duration,
    lines: u64,
}

/// Spawns `command` (with the file `stdin_from` as its stdin, if given), drains its stdout
/// counting lines, and waits for it. Anything on stderr fails the run.
fn time_pipe(command: &mut Command, stdin_from: Option<&Path>) -> Run {
    let stdin = match stdin_from {
        Some(path) => Stdio::from(File::open(path).expect("input exists")),
        None => Stdio::null(),
    };
    let started = Instant::now();
    let mut child = command
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    let stderr = drain_stderr(&mut child);
    let mut stdout = child.stdout.take().expect("piped");
    let mut buffer = vec![0u8; 1 << 16];
    let mut lines = 0;
    loop {
        let read = stdout.read(&mut buffer).expect("stdout is readable");
        if read == 0 {
            break;
        }
        lines += buffer[..read].iter().filter(|&&byte| byte == b'\n').count() as u64;
    }
    let status = child.wait().expect("the command ends");
    let elapsed = started.elapsed();
    let stderr = stderr.join().expect("stderr reader");
    assert!(status.success(), "{command:?} failed: {status}\n{stderr}");
    assert!(stderr.is_empty(), "{command:?} logged:\n{stderr}");
    Run { elapsed, lines }
}

fn drain_stderr(child: &mut std::process::Child) -> std::thread::JoinHandle<String> {
    let mut pipe = child.stderr.take().expect("piped");
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// An untimed run that compares every answer with the expected line, byte for byte.
fn verify_every_answer(node: &Path, input_path: &Path, prepare_count: u64) {
    let mut child = Command::new(node)
        .stdin(File::open(input_path).expect("input exists"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("paxos-node starts");
    let stderr = drain_stderr(&mut child);
    let stdout = BufReader::with_capacity(1 << 16, child.stdout.take().expect("piped"));
    let mut answers = stdout.lines();
    let init_ok = answers.next().expect("an init_ok").expect("UTF-8");
    assert_eq!(
        init_ok,
        r#"{"src": "n1", "dest": "c0", "body": {"type": "init_ok", "in_reply_to": 1, "msg_id": 0}}"#
    );
    let mut index = 0;
    for answer in answers {
        let answer = answer.expect("UTF-8");
        assert!(
            index < prepare_count,
            "more answers than prepares: {answer}"
        );
        assert_eq!(answer, expected_answer(index), "answer to prepare {index}");
        index += 1;
    }
    assert_eq!(index, prepare_count, "an answer to every prepare");
    let status = child.wait().expect("paxos-node ends");
    let stderr = stderr.join().expect("stderr reader");
    assert!(status.success() && stderr.is_empty(), "{status}\n{stderr}");
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    let middle = samples.len() / 2;
    if samples.len() % 2 == 1 {
        samples[middle]
    } else {
        (samples[middle - 1] + samples[middle]) / 2.0
    }
}
