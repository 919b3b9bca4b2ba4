//! Harnesses for the fault scenarios of `tests/tests/node_faults.rs` (issue 13), where what a
//! node says matters as much as what it answers: a cluster of real `paxos-node` processes whose
//! peer traffic and stderr the test can read, and one node fed line by line with its stdin still
//! open, so that an answer that comes only at the end of input or on the timer shows as missing.
//!
//! `router::Cluster` is the lighter harness (no stderr, no traffic kept) that the cluster test and
//! the commit benchmark share; this one waits for every `init_ok` too, since a node that started
//! without state answers `init` only once its probe of the others has settled.

use crate::binary;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// A fresh, empty directory for one test's `--data-dir`, named after the test.
pub fn fresh_data_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("paxos-faults-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a data directory");
    dir
}

/// Removes every file node `index` keeps under `data_dir`: its disk is lost.
pub fn wipe_state(data_dir: &Path, index: usize) {
    let prefix = format!("{}.", node_id(index));
    for entry in std::fs::read_dir(data_dir).expect("readable") {
        let path = entry.expect("an entry").path();
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("");
        if name.starts_with(&prefix) {
            std::fs::remove_file(&path).expect("removed");
        }
    }
}

/// The id of the node at `index` in `node_ids`: `n1`, `n2`, ...
pub fn node_id(index: usize) -> String {
    format!("n{}", index + 1)
}

/// One message a node sent to another, as the router moved it (or dropped it).
#[derive(Clone, Debug)]
pub struct PeerLine {
    pub from: usize,
    pub to: usize,
    pub body: Value,
    /// Whether the router dropped it (its recipient was cut off).
    pub dropped: bool,
}

impl PeerLine {
    pub fn message_type(&self) -> &str {
        self.body["type"].as_str().unwrap_or("")
    }

    /// Every ballot round the message names (`ballot`, `promised`, and those it reports).
    pub fn ballot_rounds(&self) -> Vec<u64> {
        let mut rounds = Vec::new();
        for field in ["ballot", "promised"] {
            rounds.extend(self.body[field][0].as_u64());
        }
        if let Some(accepted) = self.body["accepted"].as_array() {
            rounds.extend(
                accepted
                    .iter()
                    .filter_map(|report| report["ballot"][0].as_u64()),
            );
        }
        rounds
    }
}

struct Running {
    child: Child,
    stdin: ChildStdin,
}

/// A cluster of real `paxos-node` processes on one `--data-dir` (or none: memory only), with a
/// router in the test: every line a node writes to another goes to that node's stdin (unless the
/// recipient is cut off) and is kept for the test to read; answers to client `c1` are kept by
/// `in_reply_to`; each node's stderr is kept, one string per life.
pub struct WatchedCluster {
    nodes: Vec<Option<Running>>,
    size: usize,
    data_dir: Option<PathBuf>,
    timeout_ms: u64,
    lines: mpsc::Receiver<(usize, String)>,
    line_sender: mpsc::Sender<(usize, String)>,
    /// Each node's stderr, one buffer per start, filled by a reader thread.
    stderr: Vec<Vec<Arc<Mutex<String>>>>,
    /// Nodes that answered the `init` of their current life.
    ready: BTreeSet<usize>,
    answers: BTreeMap<u64, Value>,
    next_msg_id: u64,
    /// Nodes whose incoming peer messages are dropped.
    pub cut_off: BTreeSet<usize>,
    /// Links (from, to) whose messages are dropped.
    pub cut_links: BTreeSet<(usize, usize)>,
    /// Peer messages routed since the last `take_peer_traffic`.
    peer_traffic: Vec<PeerLine>,
    /// Flags every node is started with, beyond `--data-dir` and `--timeout-ms`.
    node_args: Vec<String>,
}

impl WatchedCluster {
    /// Starts `size` nodes on `data_dir` with the retry timer at `timeout_ms`, and waits until
    /// every one has answered its `init`.
    pub fn start(size: usize, data_dir: &Path, timeout_ms: u64) -> Self {
        Self::start_keeping(size, Some(data_dir), timeout_ms)
    }

    /// The same, with the nodes' state under `data_dir`, or in memory only (`None`).
    pub fn start_keeping(size: usize, data_dir: Option<&Path>, timeout_ms: u64) -> Self {
        let mut cluster = Self::uninitialised(size, data_dir, timeout_ms);
        for index in 0..size {
            cluster.init(index);
        }
        cluster.wait_ready(0..size);
        cluster
    }

    /// `start`, with `node_args` on every node's command line (`--snapshot-every 20`).
    pub fn start_with(size: usize, data_dir: &Path, timeout_ms: u64, node_args: &[&str]) -> Self {
        let mut cluster = Self::uninitialised_with(size, Some(data_dir), timeout_ms, node_args);
        for index in 0..size {
            cluster.init(index);
        }
        cluster.wait_ready(0..size);
        cluster
    }

    /// `size` processes started but not yet sent their `init` (see `init`).
    pub fn uninitialised(size: usize, data_dir: Option<&Path>, timeout_ms: u64) -> Self {
        Self::uninitialised_with(size, data_dir, timeout_ms, &[])
    }

    fn uninitialised_with(
        size: usize,
        data_dir: Option<&Path>,
        timeout_ms: u64,
        node_args: &[&str],
    ) -> Self {
        let (line_sender, lines) = mpsc::channel();
        let mut cluster = WatchedCluster {
            nodes: (0..size).map(|_| None).collect(),
            size,
            data_dir: data_dir.map(Path::to_owned),
            timeout_ms,
            lines,
            line_sender,
            stderr: vec![Vec::new(); size],
            ready: BTreeSet::new(),
            answers: BTreeMap::new(),
            next_msg_id: 1,
            cut_off: BTreeSet::new(),
            cut_links: BTreeSet::new(),
            peer_traffic: Vec::new(),
            node_args: node_args.iter().map(|arg| (*arg).to_owned()).collect(),
        };
        for index in 0..size {
            cluster.start_process(index);
        }
        cluster
    }

    /// Starts node `index` (again) on the cluster's data directory and sends it `init`; its
    /// `init_ok` comes when it is ready (see `wait_ready`).
    pub fn spawn(&mut self, index: usize) {
        self.start_process(index);
        self.init(index);
    }

    /// Whether node `index` has answered the `init` of its current life.
    pub fn is_ready(&self, index: usize) -> bool {
        self.ready.contains(&index)
    }

    /// Starts the process of node `index`, without its `init`.
    fn start_process(&mut self, index: usize) {
        assert!(self.nodes[index].is_none(), "{} is running", node_id(index));
        let mut command = Command::new(binary("paxos-node"));
        if let Some(data_dir) = &self.data_dir {
            command.args(["--data-dir", data_dir.to_str().expect("UTF-8 path")]);
        }
        let mut child = command
            .args(["--timeout-ms", &self.timeout_ms.to_string()])
            .args(&self.node_args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("paxos-node starts");
        let stdout = child.stdout.take().expect("piped");
        let sender = self.line_sender.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send((index, line)).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        self.stderr[index].push(Arc::clone(&stderr));
        let mut stderr_pipe = child.stderr.take().expect("piped");
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(read) = stderr_pipe.read(&mut chunk) {
                if read == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&chunk[..read]);
                stderr.lock().expect("not poisoned").push_str(&text);
            }
        });
        let stdin = child.stdin.take().expect("piped");
        self.nodes[index] = Some(Running { child, stdin });
        self.ready.remove(&index);
    }

    /// Sends node `index` its `init`, naming every node of the cluster.
    pub fn init(&mut self, index: usize) {
        let ids: Vec<String> = (0..self.size).map(node_id).collect();
        let init = json!({"src": "c0", "dest": node_id(index), "body": {
            "type": "init", "msg_id": 0, "node_id": node_id(index), "node_ids": ids}});
        self.write_line(index, &init.to_string());
    }

    /// Routes until every node of `indices` has answered its `init`; fails the test after 10 s.
    pub fn wait_ready(&mut self, indices: impl IntoIterator<Item = usize>) {
        let waiting: BTreeSet<usize> = indices.into_iter().collect();
        let ready = self.pump(Duration::from_secs(10), |cluster| {
            waiting.is_subset(&cluster.ready)
        });
        assert!(
            ready,
            "nodes {waiting:?} did not all answer init; stderr: {:?}",
            waiting
                .iter()
                .map(|index| self.stderr_of_life(*index))
                .collect::<Vec<_>>()
        );
    }

    /// Kills node `index` with SIGKILL: it stops between any two instructions.
    pub fn kill(&mut self, index: usize) {
        if let Some(mut running) = self.nodes[index].take() {
            running.child.kill().expect("SIGKILL");
            running.child.wait().expect("reaped");
        }
        self.ready.remove(&index);
    }

    /// Everything node `index` wrote on stderr, in all its lives.
    pub fn stderr(&self, index: usize) -> String {
        self.stderr[index]
            .iter()
            .map(|life| life.lock().expect("not poisoned").clone())
            .collect::<Vec<_>>()
            .join("")
    }

    /// What node `index` wrote on stderr since it was last started.
    pub fn stderr_of_life(&self, index: usize) -> String {
        self.stderr[index]
            .last()
            .map(|life| life.lock().expect("not poisoned").clone())
            .unwrap_or_default()
    }

    /// Routes until node `index`'s stderr in this life holds `text`, for up to `limit`; returns
    /// that stderr. Stderr is read on a thread of its own, so a line the node wrote before an
    /// answer may be read after it.
    pub fn wait_for_stderr(&mut self, index: usize, text: &str, limit: Duration) -> String {
        self.pump(limit, |cluster| {
            cluster.stderr_of_life(index).contains(text)
        });
        self.stderr_of_life(index)
    }

    /// The peer messages routed (or dropped) since the last call.
    pub fn take_peer_traffic(&mut self) -> Vec<PeerLine> {
        std::mem::take(&mut self.peer_traffic)
    }

    fn write_line(&mut self, index: usize, line: &str) {
        if let Some(running) = self.nodes[index].as_mut() {
            // A node that just died cannot read: a lost message, as on a network.
            let _ = writeln!(running.stdin, "{line}").and_then(|()| running.stdin.flush());
        }
    }

    /// Routes lines until `until` holds or `limit` passes; returns whether `until` held. It
    /// looks again at least every `POLL`, since what `until` asks of (a node's stderr, read on
    /// threads of their own) may change while no line comes.
    pub fn pump(&mut self, limit: Duration, until: impl Fn(&WatchedCluster) -> bool) -> bool {
        const POLL: Duration = Duration::from_millis(20);
        let deadline = Instant::now() + limit;
        while !until(self) {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            let Ok((from, line)) = self.lines.recv_timeout(left.min(POLL)) else {
                continue;
            };
            self.route(from, &line);
        }
        true
    }

    /// Routes for `duration`, whatever happens.
    pub fn idle(&mut self, duration: Duration) {
        self.pump(duration, |_| false);
    }

    fn route(&mut self, from: usize, line: &str) {
        let message: Value = serde_json::from_str(line).unwrap_or_else(|error| {
            panic!(
                "{} wrote a line that is not JSON ({error}): {line}",
                node_id(from)
            )
        });
        let dest = message["dest"].as_str().expect("every message has a dest");
        let body = &message["body"];
        if let Some(to) = (0..self.size).find(|index| node_id(*index) == dest) {
            let dropped = self.cut_off.contains(&to) || self.cut_links.contains(&(from, to));
            self.peer_traffic.push(PeerLine {
                from,
                to,
                body: body.clone(),
                dropped,
            });
            if !dropped {
                self.write_line(to, line);
            }
        } else if dest == "c0" && body["type"] == "init_ok" {
            self.ready.insert(from);
        } else if dest == "c1" {
            if let Some(in_reply_to) = body["in_reply_to"].as_u64() {
                self.answers.insert(in_reply_to, body.clone());
            }
        }
    }

    /// Sends `body` from client `c1` to node `index` under a new `msg_id`, which it returns.
    pub fn send_request(&mut self, index: usize, mut body: Value) -> u64 {
        let msg_id = self.next_msg_id;
        self.next_msg_id += 1;
        body["msg_id"] = json!(msg_id);
        let line = json!({"src": "c1", "dest": node_id(index), "body": body}).to_string();
        self.write_line(index, &line);
        msg_id
    }

    /// Routes until the answer to `msg_id` comes or `limit` passes.
    pub fn wait_answer(&mut self, msg_id: u64, limit: Duration) -> Option<Value> {
        self.pump(limit, |cluster| cluster.answers.contains_key(&msg_id));
        self.answers.remove(&msg_id)
    }

    /// Sends `body` to node `index` and waits up to `limit` for its answer.
    pub fn request(&mut self, index: usize, body: Value, limit: Duration) -> Option<Value> {
        let msg_id = self.send_request(index, body);
        self.wait_answer(msg_id, limit)
    }

    /// Node `index`'s learned log, from `multi_paxos_log`: slot to entry.
    pub fn learned_log(&mut self, index: usize) -> BTreeMap<u64, Value> {
        let answer = self
            .request(
                index,
                json!({"type": "multi_paxos_log"}),
                Duration::from_secs(5),
            )
            .unwrap_or_else(|| panic!("{} answers multi_paxos_log", node_id(index)));
        answer["log"]
            .as_array()
            .expect("a log")
            .iter()
            .map(|entry| {
                let slot = entry["slot"].as_u64().expect("a slot");
                (slot, entry["value"].clone())
            })
            .collect()
    }
}

impl Drop for WatchedCluster {
    fn drop(&mut self) {
        for index in 0..self.size {
            self.kill(index);
        }
    }
}

/// The slots a learned log holds from 0 without a hole.
pub fn contiguous_prefix(log: &BTreeMap<u64, Value>) -> u64 {
    log.keys()
        .enumerate()
        .take_while(|(position, slot)| *position as u64 == **slot)
        .count() as u64
}

/// One `paxos-node` fed line by line, its stdin open until `finish`: an answer read before then
/// came while the node was still waiting for input.
pub struct LiveNode {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: mpsc::Receiver<String>,
    stderr: std::thread::JoinHandle<String>,
}

/// What a `LiveNode` left when it ended.
#[derive(Debug)]
pub struct Ended {
    /// The lines it wrote after the last one read with `next_line`.
    pub rest_of_stdout: Vec<String>,
    pub stderr: String,
    pub status: ExitStatus,
}

impl LiveNode {
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::new(binary("paxos-node"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("paxos-node starts");
        let stdout_pipe = BufReader::new(child.stdout.take().expect("piped"));
        let (sender, stdout) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout_pipe.lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stderr_pipe = child.stderr.take().expect("piped");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr_pipe.read_to_string(&mut text);
            text
        });
        let stdin = child.stdin.take();
        LiveNode {
            child,
            stdin,
            stdout,
            stderr,
        }
    }

    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open until finish");
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .expect("the node reads its input");
    }

    /// The next line the node writes, if it comes within `limit`.
    pub fn next_line(&mut self, limit: Duration) -> Option<String> {
        self.stdout.recv_timeout(limit).ok()
    }

    /// Closes stdin (the end of input) and waits up to `limit` for the node to exit.
    pub fn finish(mut self, limit: Duration) -> Ended {
        drop(self.stdin.take());
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("waits") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("paxos-node did not exit within {limit:?} of the end of its input");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let stderr = self.stderr.join().expect("stderr reader");
        Ended {
            rest_of_stdout: self.stdout.try_iter().collect(),
            stderr,
            status,
        }
    }
}
