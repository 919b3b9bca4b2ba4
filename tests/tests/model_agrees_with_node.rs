//! What the checker proves is what the node runs: the course's Multi-Paxos sessions (7-3-4),
//! replayed through the model's own leader and acceptor actors, must report the same
//! `phase1_skipped` sequence and values as the real `paxos-node`.

use paxos_e2e::{run_node, workspace_root};
use paxos_model::multi_model::{MultiPaxosActor, MultiPaxosMsg, MultiPaxosState};
use paxos_model::Flaw;
use serde_json::Value;
use stateright::actor::{Actor, Command, Id, Out};
use std::borrow::Cow;
use std::collections::VecDeque;

/// The node's answers to `multi_paxos_propose`, as (slot, phase1_skipped).
fn node_decisions(input: &str) -> Vec<(u64, bool)> {
    let finished = run_node(input);
    finished
        .stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("the node prints JSON"))
        .filter(|message| message["body"]["type"] == "multi_paxos_propose_ok")
        .map(|message| {
            let body = &message["body"];
            (
                body["slot"].as_u64().expect("slot"),
                body["phase1_skipped"].as_bool().expect("flag"),
            )
        })
        .collect()
}

/// The client requests of a course session, as (slot, value).
fn proposals(input: &str) -> Vec<u64> {
    input
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("course input is JSON"))
        .filter(|message| message["body"]["type"] == "multi_paxos_propose")
        .map(|message| message["body"]["slot"].as_u64().expect("slot"))
        .collect()
}

/// A one-node cluster as the model builds it (one acceptor, id 0; one leader, id 1, with no
/// queue of its own), driven by delivering every message at once, in order.
struct ModelCluster {
    actors: Vec<MultiPaxosActor>,
    states: Vec<MultiPaxosState>,
}

impl ModelCluster {
    fn new() -> Self {
        let actors = vec![
            MultiPaxosActor::Acceptor { flaw: Flaw::None },
            MultiPaxosActor::Leader {
                index: 0,
                commands: Vec::new(),
                slots: 64,
                acceptor_ids: vec![Id::from(0)],
                rounds: 8,
                flaw: Flaw::None,
                timeouts: false,
            },
        ];
        let mut cluster = ModelCluster {
            actors,
            states: Vec::new(),
        };
        let mut pending = VecDeque::new();
        for index in 0..cluster.actors.len() {
            let mut out = Out::new();
            let state = cluster.actors[index].on_start(Id::from(index), &None, &mut out);
            cluster.states.push(state);
            pending.extend(sends(Id::from(index), out));
        }
        cluster.deliver_all(pending);
        cluster
    }

    fn deliver_all(&mut self, mut pending: VecDeque<(Id, Id, MultiPaxosMsg)>) {
        while let Some((src, dst, msg)) = pending.pop_front() {
            let index = usize::from(dst);
            let mut state = Cow::Borrowed(&self.states[index]);
            let mut out = Out::new();
            self.actors[index].on_msg(dst, &mut state, src, msg, &mut out);
            if let Cow::Owned(next) = state {
                self.states[index] = next;
            }
            pending.extend(sends(dst, out));
        }
    }

    /// A client asks the leader for `value` in `slot`.
    fn submit(&mut self, slot: u64, value: char) {
        self.deliver_all(VecDeque::from([(
            Id::from(99),
            Id::from(1),
            MultiPaxosMsg::Submit { slot, value },
        )]));
    }

    fn decisions(&self) -> Vec<(u64, bool)> {
        let MultiPaxosState::Leader(leader) = &self.states[1] else {
            panic!("actor 1 is the leader")
        };
        leader
            .decided
            .iter()
            .map(|(slot, _, skipped)| (*slot, *skipped))
            .collect()
    }
}

fn sends(src: Id, out: Out<MultiPaxosActor>) -> Vec<(Id, Id, MultiPaxosMsg)> {
    out.into_iter()
        .filter_map(|command| match command {
            Command::Send(dst, msg) => Some((src, dst, msg)),
            _ => None,
        })
        .collect()
}

fn replay(case: u32) {
    let path = workspace_root().join(format!(
        "tests/course/task-7-3-4-multi-paxos/case-{case}.input.jsonl"
    ));
    let input = std::fs::read_to_string(path).expect("course case");
    let mut cluster = ModelCluster::new();
    for (index, slot) in proposals(&input).into_iter().enumerate() {
        cluster.submit(slot, char::from(b'a' + index as u8));
    }
    let from_model = cluster.decisions();
    let from_node = node_decisions(&input);
    assert!(!from_node.is_empty(), "the course case proposes something");
    assert_eq!(
        from_model, from_node,
        "model and node disagree on case {case}"
    );
}

#[test]
fn first_slot_runs_phase1_in_the_model_as_in_the_node() {
    replay(1);
}

#[test]
fn later_slots_skip_phase1_in_the_model_as_in_the_node() {
    // The node says [(1, false), (2, true)]; so must the model's leader.
    replay(2);
}
