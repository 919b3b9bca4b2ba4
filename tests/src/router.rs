//! A router for a cluster of real `paxos-node` processes: it starts them on a shared
//! `--data-dir`, moves every line a node writes to the stdin of the node it names (dropping a
//! given share of peer messages, drawn from a seeded stream), collects the answers addressed to
//! the client `c1`, and can kill a node with SIGKILL and start it again. Used by the end-to-end
//! cluster test and the commit benchmark.

use crate::binary;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const NODES: usize = 3;
/// How long the client waits for one answer before counting it as unknown.
pub const ANSWER_LIMIT: Duration = Duration::from_secs(3);

pub struct Process {
    child: Child,
    stdin: ChildStdin,
}

pub struct Cluster {
    pub nodes: Vec<Option<Process>>,
    lines: mpsc::Receiver<(usize, String)>,
    line_sender: mpsc::Sender<(usize, String)>,
    data_dir: PathBuf,
    pub rng: ChaCha8Rng,
    /// Answers to the client, by `in_reply_to`.
    answers: BTreeMap<u64, Value>,
    /// Percent of peer messages the router drops.
    drop_percent: u32,
    pub peer_messages_dropped: usize,
    /// `init_ok` answers the nodes sent (to `c0`).
    pub initialised: usize,
}

pub fn node_id(index: usize) -> String {
    format!("n{}", index + 1)
}

impl Cluster {
    /// Starts `NODES` nodes on `data_dir`, dropping `drop_percent`% of peer messages.
    pub fn start(data_dir: PathBuf, drop_percent: u32) -> Self {
        let (line_sender, lines) = mpsc::channel();
        let mut cluster = Cluster {
            nodes: (0..NODES).map(|_| None).collect(),
            lines,
            line_sender,
            data_dir,
            rng: ChaCha8Rng::seed_from_u64(6),
            answers: BTreeMap::new(),
            drop_percent,
            peer_messages_dropped: 0,
            initialised: 0,
        };
        for index in 0..NODES {
            cluster.spawn(index);
        }
        cluster
    }

    /// Starts node `index` (again) on the cluster's data directory and initialises it.
    pub fn spawn(&mut self, index: usize) {
        let mut child = Command::new(binary("paxos-node"))
            .args(["--data-dir", self.data_dir.to_str().expect("UTF-8 path")])
            .args(["--timeout-ms", "100"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
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
        let stdin = child.stdin.take().expect("piped");
        self.nodes[index] = Some(Process { child, stdin });
        let ids: Vec<String> = (0..NODES).map(node_id).collect();
        let init = json!({"src": "c0", "dest": node_id(index), "body": {
            "type": "init", "msg_id": 0, "node_id": node_id(index), "node_ids": ids}});
        self.write_line(index, &init.to_string());
    }

    pub fn kill(&mut self, index: usize) {
        if let Some(mut process) = self.nodes[index].take() {
            process.child.kill().expect("SIGKILL");
            process.child.wait().expect("reaped");
        }
    }

    pub fn write_line(&mut self, index: usize, line: &str) {
        if let Some(process) = self.nodes[index].as_mut() {
            // A node that just died cannot read; the router treats that as a lost message.
            let _ = writeln!(process.stdin, "{line}").and_then(|()| process.stdin.flush());
        }
    }

    /// Routes lines until `until` says stop or `limit` passes; returns whether it stopped.
    pub fn pump(&mut self, limit: Duration, until: impl Fn(&Cluster) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        while !until(self) {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            let Ok((from, line)) = self.lines.recv_timeout(left) else {
                continue;
            };
            let message: Value = serde_json::from_str(&line).unwrap_or_else(|error| {
                panic!("node {from} wrote a line that is not JSON ({error}): {line}")
            });
            let dest = message["dest"].as_str().expect("every message has a dest");
            match (0..NODES).find(|index| node_id(*index) == dest) {
                Some(to) => {
                    if self.rng.random_range(0..100) < self.drop_percent {
                        self.peer_messages_dropped += 1;
                    } else {
                        self.write_line(to, &line);
                    }
                }
                None if dest == "c1" => {
                    if let Some(in_reply_to) = message["body"]["in_reply_to"].as_u64() {
                        self.answers.insert(in_reply_to, message["body"].clone());
                    }
                }
                None => {
                    if message["body"]["type"] == "init_ok" {
                        self.initialised += 1;
                    }
                }
            }
        }
        true
    }

    /// Sends `body` from client `c1` to `node` and routes until its answer comes (or not).
    pub fn request(&mut self, node: usize, msg_id: u64, body: Value) -> Option<Value> {
        self.send_request(node, msg_id, body);
        self.wait_answer(msg_id)
    }

    /// Sends `body` from client `c1` to `node` with `msg_id`, without waiting.
    pub fn send_request(&mut self, node: usize, msg_id: u64, mut body: Value) {
        body["msg_id"] = json!(msg_id);
        let line = json!({"src": "c1", "dest": node_id(node), "body": body}).to_string();
        self.write_line(node, &line);
    }

    /// Routes until the answer to `msg_id` comes, or `ANSWER_LIMIT` passes.
    pub fn wait_answer(&mut self, msg_id: u64) -> Option<Value> {
        self.wait_answer_within(msg_id, ANSWER_LIMIT)
    }

    /// Routes until the answer to `msg_id` comes, or `limit` passes.
    pub fn wait_answer_within(&mut self, msg_id: u64, limit: Duration) -> Option<Value> {
        self.pump(limit, |cluster| cluster.answers.contains_key(&msg_id));
        self.answers.remove(&msg_id)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for index in 0..NODES {
            self.kill(index);
        }
    }
}
