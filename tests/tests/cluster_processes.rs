//! Three real `paxos-node` processes as a cluster (issue 6, "Against the real binary"): a router
//! in this test moves every line a node writes to the stdin of the node it names, dropping some
//! peer messages, while a client sends `lin-kv` commands to nodes chosen at random. Midway one
//! node is killed with SIGKILL and restarted on the same `--data-dir`; garbage lines and unknown
//! or malformed peer messages are thrown at another. Afterwards: every node's learned log agrees
//! slot by slot, every acknowledged command is in the log, each key's history is linearizable,
//! and two clients that ask for different values in one slot at two nodes hear the same one.

use paxos_e2e::router::{Cluster, NODES};
use paxos_model::protocol::kv::{KvOp, KvResult, KvStore};
use rand::Rng;
use serde_json::{json, Value};
use stateright::semantics::{ConsistencyTester, LinearizabilityTester};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const COMMANDS: u64 = 40;

fn kv_body(op: &KvOp) -> Value {
    match *op {
        KvOp::Read { key } => json!({"type": "read", "key": key}),
        KvOp::Write { key, value } => json!({"type": "write", "key": key, "value": value}),
        KvOp::Cas { key, from, to } => json!({"type": "cas", "key": key, "from": from, "to": to}),
    }
}

fn kv_result(answer: &Value) -> KvResult {
    match answer["type"].as_str() {
        Some("read_ok") => KvResult::ReadOk {
            value: answer["value"].as_i64().expect("a value"),
        },
        Some("write_ok") => KvResult::WriteOk,
        Some("cas_ok") => KvResult::CasOk,
        Some("error") => KvResult::Error {
            code: answer["code"].as_u64().expect("a code"),
        },
        other => panic!("not a lin-kv answer: {other:?} in {answer}"),
    }
}

#[test]
fn three_processes_agree_under_loss_a_kill_and_garbage() {
    let data_dir = std::env::temp_dir().join(format!("paxos-cluster-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir).expect("a data directory");
    let mut cluster = Cluster::start(data_dir.clone(), 10);
    let mut histories: BTreeMap<i64, LinearizabilityTester<u64, KvStore>> = BTreeMap::new();
    let mut thread = 0;
    let mut acknowledged = BTreeSet::new();
    let mut unknown = 0;
    for msg_id in 1..=COMMANDS {
        if msg_id == 15 {
            cluster.kill(1);
        }
        if msg_id == 25 {
            cluster.spawn(1);
        }
        if msg_id == 20 {
            for garbage in [
                "this is not json".to_string(),
                json!({"src": "n3", "dest": "n1", "body": {"type": "bogus"}}).to_string(),
                json!({"src": "n3", "dest": "n1", "body": {"type": "paxos_promise", "ballot": 42}})
                    .to_string(),
                json!({"src": "n2", "dest": "n1", "body": {"type": "error", "code": 13}})
                    .to_string(),
            ] {
                cluster.write_line(0, &garbage);
            }
        }
        let key = cluster.rng.random_range(0..2);
        let op = match cluster.rng.random_range(0..3) {
            0 => KvOp::Read { key },
            1 => KvOp::Write {
                key,
                value: cluster.rng.random_range(0..5),
            },
            _ => KvOp::Cas {
                key,
                from: cluster.rng.random_range(0..5),
                to: cluster.rng.random_range(0..5),
            },
        };
        let live: Vec<usize> = (0..NODES).filter(|i| cluster.nodes[*i].is_some()).collect();
        let node = live[cluster.rng.random_range(0..live.len())];
        let history = histories
            .entry(key)
            .or_insert_with(|| LinearizabilityTester::new(KvStore::default()));
        history
            .on_invoke(thread, op.clone())
            .expect("one op per thread");
        match cluster.request(node, msg_id, kv_body(&op)) {
            Some(answer) => {
                history
                    .on_return(thread, kv_result(&answer))
                    .expect("answered once");
                acknowledged.insert(msg_id);
            }
            None => {
                unknown += 1;
                thread += 1; // the outcome is unknown: that thread stays blocked
            }
        }
    }
    // Two clients ask for different values in one slot at two different nodes, at once: both
    // hear the one value the slot chose.
    let slot = 60;
    cluster.send_request(
        0,
        2_001,
        json!({"type": "multi_paxos_propose", "slot": slot, "value": "from-n1"}),
    );
    cluster.send_request(
        2,
        2_002,
        json!({"type": "multi_paxos_propose", "slot": slot, "value": "from-n3"}),
    );
    let first = cluster.wait_answer(2_001).expect("n1 answers the proposal");
    let second = cluster.wait_answer(2_002).expect("n3 answers the proposal");
    assert_eq!(first["type"], "multi_paxos_propose_ok", "{first}");
    assert_eq!(
        (first["slot"].clone(), second["slot"].clone()),
        (json!(slot), json!(slot))
    );
    assert_eq!(first["value"], second["value"], "one value per slot");
    assert!(
        first["value"] == "from-n1" || first["value"] == "from-n3",
        "{first}"
    );
    // Let the learners catch up, then read every node's log.
    cluster.pump(Duration::from_millis(500), |_| false);
    let mut logs = Vec::new();
    for node in 0..NODES {
        let answer = cluster
            .request(
                node,
                1_000 + node as u64,
                json!({"type": "multi_paxos_log"}),
            )
            .unwrap_or_else(|| panic!("n{} answers multi_paxos_log after the run", node + 1));
        logs.push(answer["log"].as_array().expect("a log").clone());
    }
    for (index, log) in logs.iter().enumerate() {
        for other in &logs[index + 1..] {
            for (mine, theirs) in log.iter().zip(other) {
                assert_eq!(mine, theirs, "two nodes' logs differ");
            }
        }
    }
    let longest = logs.iter().max_by_key(|log| log.len()).expect("three logs");
    let logged: BTreeSet<u64> = longest
        .iter()
        .filter_map(|entry| entry["value"]["Command"]["id"]["seq"].as_u64())
        .collect();
    let missing: Vec<&u64> = acknowledged.difference(&logged).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not in the chosen log: {missing:?}"
    );
    for (key, history) in &histories {
        assert!(
            history.serialized_history().is_some(),
            "key {key}: not linearizable: {history:?}"
        );
    }
    assert!(
        acknowledged.len() as u64 >= COMMANDS / 2,
        "only {} of {COMMANDS} commands were answered ({unknown} unknown)",
        acknowledged.len()
    );
    eprintln!(
        "{} of {COMMANDS} answered, {unknown} unknown, {} peer messages dropped, log of {} slots",
        acknowledged.len(),
        cluster.peer_messages_dropped,
        longest.len()
    );
    drop(cluster);
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// Bad durable state is refused, not served around: a node whose state file is not acceptor
/// state answers init with error 13 and stays uninitialised (error 11 after), and a node id that
/// would name a file outside `--data-dir` is refused with error 12 naming the field.
#[test]
fn a_node_that_cannot_read_its_state_stays_uninitialised() {
    let data_dir = std::env::temp_dir().join(format!("paxos-bad-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir).expect("a data directory");
    std::fs::write(data_dir.join("n1.acceptor.json"), "not json").expect("written");
    let input = [
        json!({"src": "c0", "dest": "n1", "body": {"type": "init", "msg_id": 1, "node_id": "n1", "node_ids": ["n1", "n2"]}}),
        json!({"src": "c0", "dest": "n1", "body": {"type": "init", "msg_id": 2, "node_id": "../x", "node_ids": ["../x", "n2"]}}),
        json!({"src": "c1", "dest": "n1", "body": {"type": "read", "msg_id": 3, "key": 1}}),
    ]
    .map(|line| line.to_string())
    .join("\n");
    let run = paxos_e2e::run_with_input(
        &paxos_e2e::binary("paxos-node"),
        &["--data-dir", data_dir.to_str().expect("UTF-8 path")],
        &input,
        Duration::from_secs(30),
    );
    let _ = std::fs::remove_dir_all(&data_dir);
    assert!(run.status.success(), "{}", run.stderr);
    let codes: Vec<Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("JSON")["body"]["code"].clone())
        .collect();
    assert_eq!(codes, [json!(13), json!(12), json!(11)], "{}", run.stdout);
    assert!(run.stdout.contains("not acceptor state"), "{}", run.stdout);
    assert!(
        run.stdout.contains("field node_id must be"),
        "{}",
        run.stdout
    );
}
