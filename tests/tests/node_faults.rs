//! The node under real faults (issue 13, items 2, 3, 4, 6 and 8), one scenario each, driven
//! through the real `paxos-node` binary: whole-cluster restarts with a long log, a node that
//! lost its disk, forged peer lines, an edited state file, and the requests a node serves (or
//! reports) around its input's end. Each test says what the node did before issue 13; each of
//! those behaviours fails the test.
//!
//! Peer messages are read in the wire format of the README (§ Peer wire format): a ballot is
//! `[round, "node id"]`, `paxos_prepare` carries `from_slot`, `paxos_accept` its `slot`.

use paxos_e2e::faults::{
    contiguous_prefix, fresh_data_dir, wipe_state, LiveNode, PeerLine, WatchedCluster,
};
use paxos_e2e::{binary, run_with_input};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long a client waits for one answer before the test counts it as lost. Generous: these
/// are behavioural tests, not timing targets, and the machine may be busy.
const ANSWER_LIMIT: Duration = Duration::from_secs(10);
/// The retry timer of the clusters here (the default is 200 ms): short, so that timeouts happen
/// within the test.
const TIMEOUT_MS: u64 = 100;

fn write(key: i64, value: i64) -> Value {
    json!({"type": "write", "key": key, "value": value})
}

fn read(key: i64) -> Value {
    json!({"type": "read", "key": key})
}

/// The lin-kv commands in the log's slots below `below`, as `multi_paxos_log` shows them: a
/// command, or a batch of them.
fn commands_below(log: &std::collections::BTreeMap<u64, serde_json::Value>, below: u64) -> usize {
    log.range(..below)
        .map(|(_, entry)| match entry.get("Batch") {
            Some(batch) => batch["commands"].as_array().map_or(0, Vec::len),
            None => usize::from(entry.get("Command").is_some()),
        })
        .sum()
}

/// No node panicked or stopped (nor said that its state could not be made durable).
fn assert_no_node_failed(cluster: &WatchedCluster, nodes: usize) {
    for index in 0..nodes {
        let stderr = cluster.stderr(index);
        for failure in ["panicked", "stopping", "could not be made durable"] {
            assert!(
                !stderr.contains(failure),
                "n{} says {failure:?}:\n{stderr}",
                index + 1
            );
        }
    }
}

/// Item 2: a whole-cluster restart with a long log. Before issue 13 the learned log was not
/// persisted, so a restarted leader ran Phase 1 from slot 0 and proposed every slot again (2,003
/// Accepts for a 2,000-entry log), and a leader whose log did not move for one timeout ran Phase
/// 1 again at a higher ballot, preempting its own Accepts (its ballot went 2 -> 24 in 5 s): the
/// first answer after a restart took 1.6 s to 30 s, or never came. Here the log is replayed: the
/// new leader's Prepare asks from the first slot not known chosen, no Accept names a slot below,
/// and a leader whose Accepts go unanswered for several timeouts sends them again at its own
/// ballot, so no ballot above the leader's is ever seen while it lives.
#[test]
fn a_whole_cluster_restart_resumes_above_the_learned_log_at_one_ballot() {
    const WRITES: i64 = 300;
    const IN_FLIGHT: i64 = 20;
    // The default timer: a follower whose forwarded write waits longer than its timer rightly
    // suspects the leader and campaigns, and on a busy machine a short timer would make that
    // happen here, where it is not what the test is about.
    const DEFAULT_TIMEOUT_MS: u64 = 200;
    let data_dir = fresh_data_dir("whole-restart");
    let mut cluster = WatchedCluster::start(3, &data_dir, DEFAULT_TIMEOUT_MS);
    for batch in (0..WRITES).step_by(IN_FLIGHT as usize) {
        let sent: Vec<u64> = (batch..batch + IN_FLIGHT)
            .map(|value| cluster.send_request(0, write(value % 10, value)))
            .collect();
        for msg_id in sent {
            let answer = cluster.wait_answer(msg_id, ANSWER_LIMIT);
            assert_eq!(
                answer.map(|body| body["type"].clone()),
                Some(json!("write_ok"))
            );
        }
    }
    // Let every node learn the last slots, then see how much each knows chosen.
    cluster.idle(Duration::from_millis(300));
    // Writes that meet at the leader share a slot (a batch): count commands, not slots.
    let (learned_below, commands) = (0..3)
        .map(|index| {
            let log = cluster.learned_log(index);
            let prefix = contiguous_prefix(&log);
            (prefix, commands_below(&log, prefix))
        })
        .min()
        .expect("three nodes");
    assert!(
        commands >= WRITES as usize,
        "{commands} commands learned, in {learned_below} slots"
    );

    for index in 0..3 {
        cluster.kill(index);
    }
    cluster.take_peer_traffic();
    let restarted = Instant::now();
    for index in 0..3 {
        cluster.spawn(index);
    }
    cluster.wait_ready(0..3);
    let first = cluster.request(0, write(1, -1), ANSWER_LIMIT);
    let first_answer_after = restarted.elapsed();
    assert_eq!(
        first.map(|body| body["type"].clone()),
        Some(json!("write_ok")),
        "the first write after the restart is answered"
    );
    let recovery = cluster.take_peer_traffic();
    let prepares_from: Vec<u64> = recovery
        .iter()
        .filter(|line| line.message_type() == "paxos_prepare")
        .filter_map(|line| line.body["from_slot"].as_u64())
        .collect();
    let accepts_below: Vec<u64> = recovery
        .iter()
        .filter(|line| line.message_type() == "paxos_accept")
        .filter_map(|line| line.body["slot"].as_u64())
        .filter(|slot| *slot < learned_below)
        .collect();
    assert!(!prepares_from.is_empty(), "the new leader ran Phase 1");
    assert!(
        prepares_from.iter().all(|from| *from >= learned_below),
        "Phase 1 from {prepares_from:?}, below the {learned_below} slots every node learned"
    );
    assert!(
        accepts_below.is_empty(),
        "{} Accepts for slots already chosen",
        accepts_below.len()
    );
    let leader_round = recovery
        .iter()
        .filter(|line| line.from == 0 && line.message_type() == "paxos_accept")
        .find_map(|line| line.body["ballot"][0].as_u64())
        .expect("n1 led the first write");

    // n1's Accepts now go unanswered for 1.5 s, three of its timeouts (200, 400, 800 ms as it
    // backs off): it must retry at its own ballot. Then everyone's writes, forwarded to n1, are
    // served at that ballot too.
    cluster.cut_off.insert(0);
    let stalled = cluster.send_request(0, write(2, -2));
    cluster.idle(Duration::from_millis(1_500));
    cluster.cut_off.clear();
    let answer = cluster.wait_answer(stalled, ANSWER_LIMIT);
    assert_eq!(
        answer.map(|body| body["type"].clone()),
        Some(json!("write_ok"))
    );
    let stall = cluster.take_peer_traffic();
    let stalled_slot = stall
        .iter()
        .find(|line| line.from == 0 && line.message_type() == "paxos_accept")
        .and_then(|line| line.body["slot"].as_u64())
        .expect("n1 proposed the write");
    let accepts_sent = stall
        .iter()
        .filter(|line| line.from == 0 && line.message_type() == "paxos_accept")
        .filter(|line| line.body["slot"] == json!(stalled_slot))
        .count();
    assert!(
        accepts_sent >= 4,
        "n1's timer fired while its Accepts went unanswered, and it sent them again \
         ({accepts_sent} Accepts for slot {stalled_slot})"
    );
    for value in 0..30 {
        let answer = cluster.request(value as usize % 3, write(3, value), ANSWER_LIMIT);
        assert_eq!(
            answer.map(|body| body["type"].clone()),
            Some(json!("write_ok"))
        );
    }
    let after = cluster.take_peer_traffic();
    let highest_round = recovery
        .iter()
        .chain(&stall)
        .chain(&after)
        .flat_map(PeerLine::ballot_rounds)
        .max()
        .expect("ballots");
    assert_eq!(
        highest_round, leader_round,
        "a ballot above the leader's while it lived"
    );
    assert_no_node_failed(&cluster, 3);
    eprintln!(
        "{learned_below} slots learned before the restart; first answer {first_answer_after:?} \
         after it, Phase 1 from {prepares_from:?}; {accepts_sent} Accepts for the stalled slot; \
         every ballot at round {leader_round}"
    );
    drop(cluster);
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// Writes through every live node, one at a time, while a cluster loses and regains nodes:
/// each must be answered (within `ANSWER_LIMIT`), and the longest wait is kept, to show the
/// cluster answered throughout.
struct Writer {
    next_value: i64,
    latest: BTreeMap<i64, i64>,
    longest_wait: Duration,
}

impl Writer {
    const KEYS: i64 = 5;

    fn new() -> Self {
        Writer {
            next_value: 0,
            latest: BTreeMap::new(),
            longest_wait: Duration::ZERO,
        }
    }

    /// `count` writes, round robin over `nodes`.
    fn write(&mut self, cluster: &mut WatchedCluster, nodes: &[usize], count: usize) {
        for turn in 0..count {
            let node = nodes[turn % nodes.len()];
            self.next_value += 1;
            let (key, value) = (self.next_value % Self::KEYS, self.next_value);
            let sent = Instant::now();
            let answer = cluster.request(node, write(key, value), ANSWER_LIMIT);
            self.longest_wait = self.longest_wait.max(sent.elapsed());
            assert_eq!(
                answer.map(|body| body["type"].clone()),
                Some(json!("write_ok")),
                "write {value} through n{}",
                node + 1
            );
            self.latest.insert(key, value);
        }
    }

    /// Every node reads every key's latest write, and every node's log is the same.
    fn check_nothing_lost(&self, cluster: &mut WatchedCluster) {
        for node in 0..3 {
            for (key, value) in &self.latest {
                let answer = cluster
                    .request(node, read(*key), ANSWER_LIMIT)
                    .unwrap_or_else(|| panic!("n{} answers a read", node + 1));
                assert_eq!(
                    (&answer["type"], &answer["value"]),
                    (&json!("read_ok"), &json!(value)),
                    "n{} reads key {key}",
                    node + 1
                );
            }
        }
        cluster.idle(Duration::from_millis(300));
        let logs: Vec<BTreeMap<u64, Value>> =
            (0..3).map(|node| cluster.learned_log(node)).collect();
        for node in 1..3 {
            assert_eq!(logs[node], logs[0], "n{}'s log differs from n1's", node + 1);
        }
        assert_eq!(
            contiguous_prefix(&logs[0]),
            logs[0].len() as u64,
            "no holes"
        );
    }
}

/// How long the router routes after it kills a node that loses its state, before that node
/// starts again: enough for what the dead process wrote to be delivered, which the rejoin rule
/// assumes of the network (see `paxos_model::protocol::replica`).
const LAST_WORDS: Duration = Duration::from_millis(200);

/// What a node says when it votes again after starting without state in a cluster that holds
/// some, and when it has learned the log past its slot floor.
const VOTES_AGAIN: &str = "this node votes: every other node answered, so it votes again";
const CAUGHT_UP: &str = "it promises any Phase 1 again, and may campaign";

/// Each node in turn loses its disk (killed, its files removed, started again), one at a time,
/// while a client writes through the others. Before issue 19 a node that lost its disk became a
/// learner for good, so after two such losses the cluster could never choose again. Here each
/// comes back, asks the others for their floors, votes again once both have answered, and
/// catches up; then it is needed: the next node is killed, and the writes still go through, so
/// the node that lost its disk is one of the two voters that choose them. The cluster answers
/// every write throughout, and at the end no acknowledged write is lost.
#[test]
fn each_node_in_turn_loses_its_disk_votes_again_and_no_write_is_lost() {
    let data_dir = fresh_data_dir("each-disk");
    let mut cluster = WatchedCluster::start(3, &data_dir, TIMEOUT_MS);
    let mut writer = Writer::new();
    writer.write(&mut cluster, &[0, 1, 2], 30);
    let mut rejoin_times = Vec::new();
    for victim in 0..3 {
        let others: Vec<usize> = (0..3).filter(|node| *node != victim).collect();
        cluster.kill(victim);
        // What the rule assumes: the earlier life's messages are delivered (or lost) before the
        // node starts again; the router still holds the lines it read from the dead process.
        cluster.idle(LAST_WORDS);
        wipe_state(&data_dir, victim);
        let restarted = Instant::now();
        cluster.spawn(victim);
        // While it asks the others, they serve.
        writer.write(&mut cluster, &others, 10);
        cluster.wait_ready([victim]);
        let said = cluster.wait_for_stderr(victim, CAUGHT_UP, ANSWER_LIMIT);
        rejoin_times.push(restarted.elapsed());
        assert!(
            said.contains(VOTES_AGAIN) && said.contains("below ballot") && said.contains(CAUGHT_UP),
            "n{} votes again with its peers' floors and catches up: {said}",
            victim + 1
        );
        // Its vote is needed now: one of the others is down.
        let next = others[0];
        cluster.kill(next);
        writer.write(&mut cluster, &[victim, others[1]], 10);
        cluster.spawn(next);
        cluster.wait_ready([next]);
        writer.write(&mut cluster, &[0, 1, 2], 10);
    }
    writer.check_nothing_lost(&mut cluster);
    assert_no_node_failed(&cluster, 3);
    eprintln!(
        "each node lost its disk in turn; rejoined (voting, caught up) after {rejoin_times:?}; \
         the longest a write waited: {:?}",
        writer.longest_wait
    );
    drop(cluster);
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// Issue 19, snapshots: a node that was down while the others went past snapshots of their
/// log (every 20 entries here) asks for slots nobody holds any more, is sent a snapshot
/// (`paxos_install_snapshot`), and then reads every key's latest value through the log; once
/// restarted with its disk, and once with its disk wiped (it then votes again by the rejoin rule
/// first). Without snapshots in the protocol, the others would hold the whole log.
#[test]
fn a_node_behind_the_others_snapshots_is_sent_one_and_reads_the_latest_values() {
    let data_dir = fresh_data_dir("snapshot");
    let mut cluster =
        WatchedCluster::start_with(3, &data_dir, TIMEOUT_MS, &["--snapshot-every", "20"]);
    let mut writer = Writer::new();
    writer.write(&mut cluster, &[0, 1, 2], 10);
    let victim = 2;
    for wiped in [false, true] {
        cluster.kill(victim);
        cluster.idle(LAST_WORDS);
        if wiped {
            wipe_state(&data_dir, victim);
        }
        // The others write 50 entries without it, past two snapshots each.
        writer.write(&mut cluster, &[0, 1], 50);
        cluster.take_peer_traffic();
        cluster.spawn(victim);
        cluster.wait_ready([victim]);
        for (key, value) in &writer.latest {
            let answer = cluster
                .request(victim, read(*key), ANSWER_LIMIT)
                .unwrap_or_else(|| panic!("n3 answers a read of key {key} (wiped: {wiped})"));
            assert_eq!(
                (&answer["type"], &answer["value"]),
                (&json!("read_ok"), &json!(value)),
                "n3 reads key {key} (wiped: {wiped})"
            );
        }
        let installs = cluster
            .take_peer_traffic()
            .iter()
            .filter(|line| {
                line.to == victim
                    && !line.dropped
                    && line.message_type() == "paxos_install_snapshot"
            })
            .count();
        assert!(installs > 0, "n3 was sent a snapshot (wiped: {wiped})");
        // And its vote counts: with n1 down, n3 and n2 choose the next writes.
        cluster.kill(0);
        writer.write(&mut cluster, &[victim, 1], 5);
        cluster.spawn(0);
        cluster.wait_ready([0]);
    }
    for node in 0..3 {
        for (key, value) in &writer.latest {
            let answer = cluster
                .request(node, read(*key), ANSWER_LIMIT)
                .unwrap_or_else(|| panic!("n{} answers a read", node + 1));
            assert_eq!(
                answer["value"],
                json!(value),
                "n{} reads key {key}",
                node + 1
            );
        }
    }
    assert_no_node_failed(&cluster, 3);
    drop(cluster);
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// A node without `--data-dir` keeps nothing: killed and started again, it is a node without
/// state, and votes again only by the same rule as one whose disk was lost. While the third node
/// cannot hear it (the link is cut), it waits: no `init_ok`, no vote, though it has heard from a
/// majority counting itself. Once the third hears it, it votes with their floors; and then
/// its vote is needed, with another node killed.
#[test]
fn a_memory_only_node_killed_and_restarted_votes_again_only_once_every_peer_answered() {
    let mut cluster = WatchedCluster::start_keeping(3, None, TIMEOUT_MS);
    let mut writer = Writer::new();
    writer.write(&mut cluster, &[0, 1, 2], 20);
    cluster.kill(1);
    cluster.idle(LAST_WORDS);
    cluster.cut_links.insert((1, 2));
    cluster.spawn(1);
    writer.write(&mut cluster, &[0], 10);
    cluster.idle(Duration::from_millis(10 * TIMEOUT_MS));
    assert!(
        !cluster.is_ready(1) && !cluster.stderr_of_life(1).contains("this node votes"),
        "n2 heard only n1, a majority with itself, and must not vote: {}",
        cluster.stderr_of_life(1)
    );
    cluster.cut_links.clear();
    cluster.wait_ready([1]);
    let said = cluster.wait_for_stderr(1, CAUGHT_UP, ANSWER_LIMIT);
    assert!(
        said.contains(VOTES_AGAIN) && said.contains("below ballot"),
        "n2 votes again with the floors of n1 and n3: {said}"
    );
    cluster.kill(0);
    writer.write(&mut cluster, &[1, 2], 10);
    cluster.spawn(0);
    cluster.wait_ready([0]);
    writer.check_nothing_lost(&mut cluster);
    assert_no_node_failed(&cluster, 3);
}

/// Item 4: forged and corrupt peer lines. Peer messages come on the same stdin as clients', so
/// anyone who can write a line can claim to be a peer. When issue 13 was filed the node panicked
/// on the issue's line below (an entry whose value is not JSON, followed by a `multi_paxos_log`)
/// and on a `paxos_learn` contradicting a chosen slot: it stopped, saying its state "could not be
/// made durable", and answered nobody after. Later, before the durability work, it still
/// promised a forged Prepare at round 2^64 - 1, after which its acceptor could never vote for a
/// real ballot again. Here node n1 (of n1, n2, n3), a voter once both peers have answered its
/// probe, learns slot 0 from n2, then hears contradictions of it, the issue's line, and garbage:
/// it drops each with a line on stderr, promises nothing, keeps its log, and answers every
/// client.
#[test]
fn forged_and_corrupt_peer_lines_are_logged_and_dropped_while_clients_are_served() {
    let from_peer = |src: &str, body: Value| json!({"src": src, "dest": "n1", "body": body});
    let client = |msg_id: u64, body: Value| {
        let mut body = body;
        body["msg_id"] = json!(msg_id);
        json!({"src": "c1", "dest": "n1", "body": body})
    };
    let log_request = json!({"type": "multi_paxos_log"});
    let first = json!({"type": "value", "value": "first"});
    let mut lines: Vec<String> = [
        json!({"src": "c0", "dest": "n1", "body": {"type": "init", "msg_id": 1,
            "node_id": "n1", "node_ids": ["n1", "n2", "n3"]}}),
        from_peer(
            "n2",
            json!({"type": "paxos_learn", "slot": 0, "entry": first}),
        ),
        client(2, log_request.clone()),
    ]
    .iter()
    .map(Value::to_string)
    .collect();
    // The issue's line, exactly, in the wire format of its day.
    lines.push(
        r#"{"src":"n2","dest":"n1","body":{"type":"paxos_learn","payload":{"Chosen":{"slot":0,"entry":{"Value":{"json":"{not json"}}}}}}"#
            .into(),
    );
    lines.push(client(3, log_request.clone()).to_string());
    // Forged in today's wire format: each contradicts slot 0, or names what no node starts.
    let forged = [
        from_peer(
            "n3",
            json!({"type": "paxos_learn", "slot": 0, "entry": {"type": "value", "value": "second"}}),
        ),
        from_peer(
            "n3",
            json!({"type": "paxos_catch_up_reply", "entries": [{"slot": 0, "entry": {"type": "noop"}}]}),
        ),
        from_peer(
            "n2",
            json!({"type": "paxos_learn", "slot": 0, "entry": {"type": "command", "client": "c9",
                "seq": 1, "op": {"type": "write", "key": 1, "value": 2}}}),
        ),
        from_peer(
            "n2",
            json!({"type": "paxos_prepare", "ballot": [u64::MAX, "n2"], "from_slot": 0}),
        ),
        from_peer(
            "n3",
            json!({"type": "paxos_accept", "slot": 1, "ballot": [3, "n9"], "entry": {"type": "noop"}}),
        ),
    ];
    let malformed = [
        from_peer(
            "n2",
            json!({"type": "paxos_learn", "slot": "zero", "entry": first}),
        ),
        from_peer(
            "n2",
            json!({"type": "paxos_learn", "slot": -1, "entry": first}),
        ),
        from_peer(
            "n2",
            json!({"type": "paxos_learn", "slot": 1, "entry": {"type": "maybe"}}),
        ),
        from_peer(
            "n3",
            json!({"type": "paxos_promise", "ballot": 42, "accepted": []}),
        ),
        from_peer(
            "n3",
            json!({"type": "paxos_accepted", "slot": 1, "ballot": [1, "n1"]}),
        ),
        from_peer(
            "n3",
            json!({"type": "paxos_catch_up_reply", "entries": {"slot": 0}}),
        ),
        from_peer(
            "n2",
            json!({"type": "paxos_probe_reply", "nonce": "x", "promised": 1, "highest_slot": null}),
        ),
        from_peer("n2", json!({"type": "bogus"})),
        from_peer("n2", json!({"code": 13})),
    ];
    for (msg_id, line) in (4..).zip(forged.iter().chain(&malformed)) {
        lines.push(line.to_string());
        lines.push(client(msg_id, log_request.clone()).to_string());
    }
    lines.push(r#"{"src":"n2","dest":"n1","body":{"type":"paxos_accept","slot":"#.into());
    lines.push("{not json at all".into());
    lines.push(
        client(
            100,
            json!({"type": "multi_paxos_propose", "slot": 0, "value": "mine"}),
        )
        .to_string(),
    );
    lines.push(client(101, log_request).to_string());

    let run = run_as_a_voter(&lines);
    assert!(run.status.success(), "{}\n{}", run.status, run.stderr);
    for failure in ["panicked", "stopping", "could not be made durable"] {
        assert!(!run.stderr.contains(failure), "{failure}: {}", run.stderr);
    }
    let answers: BTreeMap<u64, Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("JSON"))
        .filter(|message| message["dest"] == "c1")
        .map(|message| {
            let body = message["body"].clone();
            (body["in_reply_to"].as_u64().expect("an answer"), body)
        })
        .collect();
    let log_requests = (2..=3)
        .chain(4..4 + (forged.len() + malformed.len()) as u64)
        .chain([101]);
    for msg_id in log_requests {
        let answer = answers.get(&msg_id).unwrap_or_else(|| {
            panic!(
                "multi_paxos_log {msg_id} is answered: {}\n{}",
                run.stdout, run.stderr
            )
        });
        assert_eq!(
            answer["log"],
            json!([{"slot": 0, "value": "first", "status": "chosen"}]),
            "slot 0 keeps what n1 learned"
        );
    }
    assert_eq!(answers[&100]["value"], json!("first"), "{}", answers[&100]);
    let dropped = run
        .stderr
        .lines()
        .filter(|line| line.contains("dropped") || line.contains("skipped line"))
        .count();
    let bad_peer_lines = 1 + forged.len() + malformed.len() + 2;
    assert!(
        dropped >= bad_peer_lines,
        "{dropped} drops logged for {bad_peer_lines} bad lines:\n{}",
        run.stderr
    );
    assert!(
        !run.stdout.contains(r#""type": "paxos_promise""#),
        "n1 promised a forged ballot no node starts, and would refuse every real one after: {}",
        run.stdout
    );
    assert!(
        run.stderr.contains("impossible in Paxos"),
        "a contradiction says so: {}",
        run.stderr
    );
}

/// Feeds `lines` to a fresh node, the first of them its `init` as n1 of n1, n2, n3, answering
/// its probe for n2 and n3 (with nothing, as in a new cluster) right after, so that it votes.
fn run_as_a_voter(lines: &[String]) -> paxos_e2e::Finished {
    let mut node = LiveNode::start(&[]);
    node.send(&lines[0]);
    let mut stdout = Vec::new();
    let nonce = loop {
        let line = node.next_line(ANSWER_LIMIT).expect("n1 probes its peers");
        let message: Value = serde_json::from_str(&line).expect("JSON");
        stdout.push(line);
        if message["body"]["type"] == "paxos_probe" {
            break message["body"]["nonce"].clone();
        }
    };
    for peer in ["n2", "n3"] {
        node.send(
            &json!({"src": peer, "dest": "n1", "body": {"type": "paxos_probe_reply",
                "nonce": nonce, "promised": null, "highest_slot": null}})
            .to_string(),
        );
    }
    for line in &lines[1..] {
        node.send(line);
    }
    let ended = node.finish(ANSWER_LIMIT);
    stdout.extend(ended.rest_of_stdout);
    let stdout: String = stdout.iter().map(|line| format!("{line}\n")).collect();
    assert!(
        stdout.contains(r#""type": "init_ok""#),
        "n1 votes: {stdout}"
    );
    paxos_e2e::Finished {
        stdout,
        stderr: ended.stderr,
        status: ended.status,
    }
}

fn init_alone() -> String {
    json!({"src": "c0", "dest": "n1", "body": {"type": "init", "msg_id": 1, "node_id": "n1",
        "node_ids": ["n1"]}})
    .to_string()
}

fn from_c1(msg_id: u64, mut body: Value) -> String {
    body["msg_id"] = json!(msg_id);
    json!({"src": "c1", "dest": "n1", "body": body}).to_string()
}

/// Item 6: an edited promise. Before issue 13 the state file was plain JSON without a checksum:
/// a promise whose ballot was edited by hand (or by a bad disk) loaded as if the node had made
/// it, and the node then promised below what it had promised durably. Here every record carries
/// a CRC: the edited record is found, and the node refuses to start, answering `init` with error
/// 13 and exiting with status 2, with the file, the record and the problem named.
#[test]
fn an_edited_promise_in_the_state_file_stops_the_node_with_status_2() {
    let data_dir = fresh_data_dir("edited-promise");
    let args = ["--data-dir", data_dir.to_str().expect("UTF-8 path")];
    let input = [init_alone(), from_c1(2, write(1, 7))].join("\n");
    let run = run_with_input(&binary("paxos-node"), &args, &input, ANSWER_LIMIT);
    assert!(
        run.stdout.contains("write_ok"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );

    let path = data_dir.join("n1.state");
    let clean = std::fs::read_to_string(&path).expect("n1 wrote its state");
    let promise = clean
        .lines()
        .position(|line| line.contains(r#"{"Acceptor":{"Promised":{"round":1,"#))
        .expect("a promise at round 1");
    let edited: String = clean
        .lines()
        .enumerate()
        .map(|(number, line)| match number == promise {
            true => line.replace(r#""round":1,"#, r#""round":0,"#) + "\n",
            false => format!("{line}\n"),
        })
        .collect();
    let at_byte: usize = clean.lines().take(promise).map(|line| line.len() + 1).sum();
    std::fs::write(&path, &edited).expect("edited");

    // A new msg_id: the write's, c1's request 2, is applied, and is not served twice.
    let input = [init_alone(), from_c1(3, read(1))].join("\n");
    let refused = run_with_input(&binary("paxos-node"), &args, &input, ANSWER_LIMIT);
    assert_eq!(refused.status.code(), Some(2), "{}", refused.stderr);
    let problem = format!(
        "{}: record {} (at byte {at_byte}) fails its checksum",
        path.display(),
        promise + 1
    );
    assert!(
        refused
            .stderr
            .contains(&format!("stopping: cannot start: {problem}")),
        "stderr names the file and the record: {}",
        refused.stderr
    );
    let replies: Vec<Value> = refused
        .stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("JSON")["body"].clone())
        .collect();
    assert_eq!(
        replies.len(),
        1,
        "only init is answered: {}",
        refused.stdout
    );
    assert_eq!(replies[0]["code"], json!(13), "{}", refused.stdout);
    assert!(
        replies[0]["text"]
            .as_str()
            .is_some_and(|text| text.contains(&problem)),
        "{}",
        refused.stdout
    );

    // The edit, undone, is all that stood in the way: the node starts and remembers the write.
    std::fs::write(&path, &clean).expect("restored");
    let restored = run_with_input(&binary("paxos-node"), &args, &input, ANSWER_LIMIT);
    assert!(restored.status.success(), "{}", restored.stderr);
    assert!(
        restored
            .stdout
            .contains(r#""type": "read_ok", "in_reply_to": 3, "value": 7"#),
        "{}",
        restored.stdout
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// Item 8, first half: a single node's lin-kv request. Before issue 13 a node of one waited for
/// its retry timer (200 ms by default) before it ran Phase 1 for the first request; with
/// `--timeout-ms 60000` the client would have waited a minute. Here it is answered at once,
/// while the node still waits for input, and so is the next.
#[test]
fn a_single_node_answers_its_first_lin_kv_request_without_waiting_for_the_timer() {
    let mut node = LiveNode::start(&["--timeout-ms", "60000"]);
    node.send(&init_alone());
    let wait = Duration::from_secs(10);
    assert!(node
        .next_line(wait)
        .is_some_and(|line| line.contains("init_ok")));
    node.send(&from_c1(2, write(1, 7)));
    let answer = node.next_line(wait);
    assert!(
        answer
            .as_deref()
            .is_some_and(|line| line.contains(r#""type": "write_ok", "in_reply_to": 2"#)),
        "answered before the end of input, long before the timer: {answer:?}"
    );
    node.send(&from_c1(3, read(1)));
    let answer = node.next_line(wait);
    assert!(
        answer.as_deref().is_some_and(|line| line.contains(r#""type": "read_ok", "in_reply_to": 3, "value": 7"#)),
        "{answer:?}"
    );
    let ended = node.finish(Duration::from_secs(10));
    assert!(ended.status.success(), "{}", ended.stderr);
    assert!(
        ended.rest_of_stdout.is_empty(),
        "{:?}",
        ended.rest_of_stdout
    );
    assert!(!ended.stderr.contains("pending"), "{}", ended.stderr);
}

/// Item 8, second half: requests still pending at the end of input. Before issue 13 they were
/// neither answered nor reported: a client, or its operator, could not tell a lost request from
/// one never served. Here n1 of a three-node cluster runs alone, so its writes and its named
/// slot can never be chosen (it does not even vote: no peer answers its probe); at the end of
/// input it names each one on stderr, as `n1: pending at end of input: ...`, and exits cleanly.
#[test]
fn requests_pending_at_the_end_of_input_are_reported_with_their_ids() {
    let input = [
        json!({"src": "c0", "dest": "n1", "body": {"type": "init", "msg_id": 1, "node_id": "n1",
            "node_ids": ["n1", "n2", "n3"]}})
        .to_string(),
        from_c1(5, write(1, 7)),
        json!({"src": "c2", "dest": "n1", "body": {"type": "cas", "msg_id": 6, "key": 1,
            "from": 7, "to": 8}})
        .to_string(),
        json!({"src": "c2", "dest": "n1", "body": {"type": "multi_paxos_propose", "msg_id": 9,
            "slot": 3, "value": "v"}})
        .to_string(),
    ]
    .join("\n");
    let run = run_with_input(&binary("paxos-node"), &[], &input, ANSWER_LIMIT);
    assert!(run.status.success(), "{}", run.stderr);
    let answered: Vec<&str> = run
        .stdout
        .lines()
        .filter(|line| line.contains(r#""dest": "c1""#) || line.contains(r#""dest": "c2""#))
        .collect();
    assert!(answered.is_empty(), "nothing can be chosen: {answered:?}");
    for pending in [
        "c1 msg 5 write 1=7",
        "c2 msg 6 cas 1 7->8",
        "c2 msg 9 multi_paxos_propose slot 3",
    ] {
        assert!(
            run.stderr
                .contains(&format!("n1: pending at end of input: {pending}")),
            "{pending:?} is reported:\n{}",
            run.stderr
        );
    }
}
