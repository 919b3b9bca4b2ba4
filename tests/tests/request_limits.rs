//! A request may not cost the node more than its limits allow (node/src/limits.rs): each one
//! is driven here through the real `paxos-node`, which must refuse the request with error 14
//! naming the limit, keep serving, and stay small while it does. Before the limits, a 64 MiB
//! line was held and echoed twice (515 MB resident), a 5 M-integer value took 2.4 GB, and
//! 200,000 proposals kept `paxos_invariant_check` busy for minutes.

use paxos_e2e::binary;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const MIB: usize = 1 << 20;
const INIT: &str = r#"{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}}"#;

/// How long a reply may take before the test fails (a node that drops a line never answers).
const REPLY_WAIT: Duration = Duration::from_secs(30);

/// A running node, fed and read line by line, so that it can be measured while it is alive.
struct RunningNode {
    child: Child,
    stdin: Option<ChildStdin>,
    /// Its stdout, line by line, read on a thread so that a missing reply is a failure, not a
    /// hang.
    replies: mpsc::Receiver<String>,
}

impl RunningNode {
    /// A node initialised as n1, alone.
    fn start() -> Self {
        let mut node = RunningNode::spawn();
        node.send(INIT.as_bytes());
        assert!(node.reply().contains("init_ok"));
        node
    }

    fn spawn() -> Self {
        let mut child = Command::new(binary("paxos-node"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("paxos-node starts");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        let (sender, replies) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        RunningNode {
            child,
            stdin,
            replies,
        }
    }

    fn send(&mut self, line: &[u8]) {
        let stdin = self.stdin.as_mut().expect("open");
        stdin.write_all(line).expect("the node reads");
        stdin.write_all(b"\n").expect("the node reads");
        stdin.flush().expect("the node reads");
    }

    fn reply(&self) -> String {
        self.replies
            .recv_timeout(REPLY_WAIT)
            .unwrap_or_else(|error| panic!("no reply within {REPLY_WAIT:?}: {error}"))
    }

    /// The most memory the node has held so far (Linux's VmHWM), if the platform tells.
    fn peak_resident_bytes(&self) -> Option<usize> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
        let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    fn assert_peak_below(&self, limit_bytes: usize, what: &str) {
        match self.peak_resident_bytes() {
            Some(peak) => assert!(
                peak < limit_bytes,
                "{what}: the node held {} MiB at its peak",
                peak / MIB
            ),
            None => eprintln!("note: no /proc here; {what}: peak memory not measured"),
        }
    }

    fn finish(mut self) {
        drop(self.stdin.take());
        let status = self.child.wait().expect("the node exits");
        assert!(status.success(), "{status}");
    }
}

/// A test that fails half-way leaves no node behind.
impl Drop for RunningNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The error reply the node gives for `in_reply_to` as its `msg_id`-th message.
fn error_14(in_reply_to: u64, text: &str, msg_id: u64) -> String {
    format!(
        r#"{{"src": "n1", "dest": "c1", "body": {{"type": "error", "in_reply_to": {in_reply_to}, "code": 14, "text": "{text}", "msg_id": {msg_id}}}}}"#
    )
}

fn accept_line(msg_id: u64, value: &str) -> Vec<u8> {
    format!(
        r#"{{"src":"c1","dest":"n1","body":{{"type":"paxos_accept","msg_id":{msg_id},"proposal_n":1,"value":{value}}}}}"#
    )
    .into_bytes()
}

/// After a refused request, nothing was accepted: the node knows of no chosen value.
fn assert_nothing_chosen(node: &mut RunningNode, msg_id: u64) {
    node.send(
        format!(r#"{{"src":"c1","dest":"n1","body":{{"type":"paxos_chosen","msg_id":{msg_id}}}}}"#)
            .as_bytes(),
    );
    let reply = node.reply();
    assert!(
        reply.contains(&format!(
            r#""in_reply_to": {msg_id}, "value": null, "chosen_at_n": null"#
        )),
        "{reply}"
    );
}

#[test]
fn a_64_mib_line_is_refused_by_name_and_never_held() {
    let mut node = RunningNode::start();
    let line = accept_line(2, &format!("\"{}\"", "x".repeat(64 * MIB)));
    node.send(&line);
    assert_eq!(
        node.reply(),
        error_14(
            2,
            &format!(
                "the line is {} bytes long; the limit is 8388608 (limit line_bytes_max)",
                line.len()
            ),
            1
        )
    );
    assert_nothing_chosen(&mut node, 3);
    node.assert_peak_below(48 * MIB, "a 64 MiB line");
    node.finish();
}

#[test]
fn a_line_over_the_limit_that_names_no_sender_is_skipped_and_never_held() {
    let mut node = RunningNode::start();
    let line = format!(r#"{{"body":{{"pad":"{}"}}}}"#, "y".repeat(64 * MIB));
    node.send(line.as_bytes());
    assert_nothing_chosen(&mut node, 2);
    node.assert_peak_below(48 * MIB, "a 64 MiB line without a sender");
    node.finish();
}

#[test]
fn the_5_m_integer_value_of_the_issue_is_refused_by_the_line_limit() {
    let mut node = RunningNode::start();
    let integers: Vec<String> = (0..5_000_000).map(|i| i.to_string()).collect();
    let line = accept_line(2, &format!("[{}]", integers.join(",")));
    node.send(&line);
    let reply = node.reply();
    assert!(
        reply.contains(r#""in_reply_to": 2, "code": 14"#) && reply.contains("line_bytes_max"),
        "{reply}"
    );
    assert_nothing_chosen(&mut node, 3);
    node.assert_peak_below(48 * MIB, "a 5 M-integer value");
    node.finish();
}

#[test]
fn a_value_over_the_size_limit_is_refused_by_name() {
    let mut node = RunningNode::start();
    let value = format!("\"{}\"", "v".repeat(2 * MIB));
    node.send(&accept_line(2, &value));
    assert_eq!(
        node.reply(),
        error_14(
            2,
            &format!(
                "field value is {} bytes of JSON; the limit is 1048576 (limit value_bytes_max)",
                value.len()
            ),
            1
        )
    );
    assert_nothing_chosen(&mut node, 3);
    // A value at the limit is served.
    let at_limit = format!("\"{}\"", "v".repeat(MIB - 2));
    node.send(&accept_line(4, &at_limit));
    assert!(node.reply().contains(r#""accepted": true"#));
    node.finish();
}

fn invariant_check_line(msg_id: u64, proposals: usize) -> Vec<u8> {
    // Distinct ballots and values, so that nothing merges: the old check compared each record
    // with every one before it.
    let items: Vec<String> = (0..proposals)
        .map(|n| format!(r#"{{"n":{n},"value":{n},"accepted_by":["n{}"]}}"#, n % 7))
        .collect();
    format!(
        r#"{{"src":"c1","dest":"n1","body":{{"type":"paxos_invariant_check","msg_id":{msg_id},"proposals":[{}]}}}}"#,
        items.join(",")
    )
    .into_bytes()
}

#[test]
fn an_invariant_check_over_the_proposal_limit_is_refused_by_name() {
    let mut node = RunningNode::start();
    node.send(&invariant_check_line(2, 100_001));
    assert_eq!(
        node.reply(),
        error_14(
            2,
            "field proposals lists 100001 proposals; the limit is 100000 (limit proposals_max)",
            1
        )
    );
    node.finish();
}

#[test]
fn an_invariant_check_at_the_proposal_limit_is_answered_at_once() {
    let mut node = RunningNode::start();
    let line = invariant_check_line(2, 100_000);
    let started = Instant::now();
    node.send(&line);
    let reply = node.reply();
    let elapsed = started.elapsed();
    assert!(
        reply.contains(r#""type": "paxos_invariant_check_ok", "in_reply_to": 2"#),
        "{reply}"
    );
    // No majority among 7 acceptors with one each: nothing chosen.
    assert!(reply.contains(r#""chosen_value": null"#), "{reply}");
    // Near-linear: well under a second here. The quadratic check took about 8 s for this.
    assert!(
        elapsed < Duration::from_secs(4),
        "100,000 proposals took {elapsed:?}"
    );
    node.finish();
}

#[test]
fn a_cluster_over_the_node_limit_is_refused_by_name() {
    let mut node = RunningNode::spawn();
    let ids: Vec<String> = (1..=65).map(|i| format!("\"n{i}\"")).collect();
    node.send(
        format!(
            r#"{{"src":"c1","dest":"n1","body":{{"type":"init","msg_id":1,"node_id":"n1","node_ids":[{}]}}}}"#,
            ids.join(",")
        )
        .as_bytes(),
    );
    assert_eq!(
        node.reply(),
        error_14(
            1,
            "field node_ids names 65 nodes; the limit is 64 (limit node_ids_max)",
            0
        )
    );
    // The node stays uninitialised and takes a good init.
    node.send(INIT.as_bytes());
    assert!(node
        .reply()
        .contains(r#""type": "init_ok", "in_reply_to": 1"#));
    node.finish();
}

#[test]
fn nesting_and_integer_length_over_their_limits_are_refused_by_name() {
    let mut node = RunningNode::start();
    let deep = format!("{}1{}", "[".repeat(600), "]".repeat(600));
    node.send(&accept_line(2, &deep));
    assert_eq!(
        node.reply(),
        error_14(
            2,
            "the line is over a limit: arrays and objects nest deeper than 512 levels (limit nesting_depth_max)",
            1
        )
    );
    // Python's json.loads itself refuses integers of more than 4,300 digits.
    node.send(&accept_line(3, &"9".repeat(4_301)));
    assert_eq!(
        node.reply(),
        error_14(
            3,
            "the line is over a limit: an integer has 4301 digits; the limit is 4300 (limit integer_digits_max, Python's int_max_str_digits)",
            2
        )
    );
    assert_nothing_chosen(&mut node, 4);
    node.send(&accept_line(5, &"9".repeat(4_300)));
    assert!(node.reply().contains(&"9".repeat(4_300)));
    node.finish();
}
