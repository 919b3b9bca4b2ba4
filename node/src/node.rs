//! One `paxos-node` process: membership, message numbering, and the protocol roles it hosts,
//! each driven only through `paxos-model`'s transition functions.
//!
//! The node hosts a single-decree acceptor and the record of what it accepted (tasks 7-3-1,
//! 7-3-2), runs the course's safety experiments (7-3-3) on the protocol's roles, and is one
//! replica of a key-value store replicated by Multi-Paxos (`cluster`), which serves the course's
//! `multi_paxos_propose` and `multi_paxos_log` (7-3-4) and Maelstrom's `lin-kv` workload, for
//! one node or many alike. It does no network I/O: `handle_line` takes one input line and
//! returns the messages to write, in order, plus anything worth logging, and the event loop owns
//! the clock; the one thing it writes itself is its acceptors' state under `--data-dir`, which
//! must be durable before the messages it returns leave.

mod cluster;

use crate::codec::{self, Body, ErrorCode, Item, ParsedLine, Reply, RequestError};
use paxos_model::course::{self, NewProposalOutcome, ProposalRecord, SafetyScenario};
use paxos_model::protocol::acceptor::Acceptor;
use paxos_model::protocol::chosen::ChosenTracker;
use paxos_model::protocol::message::Message;
use paxos_model::protocol::replica::{Replica, ReplicaConfig};
use paxos_model::protocol::rules::{TimerChange, ValueSource};
use paxos_model::{Ballot, Flaw, Proposal};
use serde_json::Value;
use std::collections::BTreeSet;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;

/// Why a panic stops a cluster node: the replica may be half-way through a step, with state
/// changed in memory that is not on disk and a timer it believes is running. Restarting from
/// `--data-dir` is the safe way on.
const HALF_APPLIED: &str =
    "internal error in the cluster replica; its state may be half-applied, so the node stops";

/// An error the node cannot serve on from: its acceptor state could not be made durable, so any
/// promise it sent might be forgotten. The event loop stops the process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeError(pub String);

/// A message for the event loop to write.
#[derive(Clone, Debug, PartialEq)]
pub struct Outgoing {
    pub src: String,
    pub dest: String,
    pub msg_id: u64,
    pub reply: Reply,
}

impl Outgoing {
    pub fn write(&self, writer: &mut impl std::io::Write) -> std::io::Result<()> {
        codec::write_message(writer, &self.src, &self.dest, &self.reply, self.msg_id)
    }
}

/// What one input line (or a timeout) produced.
#[derive(Debug, Default)]
pub struct LineOutcome {
    pub messages: Vec<Outgoing>,
    /// A line that could not be answered, or was answered with an error: worth a log line.
    pub diagnostic: Option<String>,
    /// Notes from the cluster replica (dropped peer messages), worth a log line each.
    pub notes: Vec<String>,
    /// How the retry timer changes; the event loop keeps the deadline.
    pub timer: TimerChange,
    /// The node must stop: see `ServeError`.
    pub fatal: Option<String>,
}

struct Membership {
    id: String,
    ids: Vec<String>,
}

pub struct Node {
    membership: Option<Membership>,
    /// The node numbers every message it sends, from 0 (the `init_ok`).
    next_msg_id: u64,
    /// The course's single-decree acceptor (7-3-1, 7-3-2): slot 0 of a log of its own.
    acceptor: Acceptor<Value>,
    /// What the course's acceptor accepted, judged for `paxos_chosen` by Lamport's definition.
    accepted: Option<ChosenTracker<Value>>,
    /// The Multi-Paxos replica, for every cluster size (a single node is a cluster of one).
    replica: Option<Replica>,
    /// Where the acceptors persist; `None` keeps them in memory only.
    data_dir: Option<PathBuf>,
    timer: TimerChange,
    notes: Vec<String>,
    fatal: Option<String>,
}

impl Default for Node {
    fn default() -> Self {
        Node::new(None)
    }
}

impl Node {
    pub fn new(data_dir: Option<PathBuf>) -> Self {
        Node {
            membership: None,
            next_msg_id: 0,
            acceptor: Acceptor::new(),
            accepted: None,
            replica: None,
            data_dir,
            timer: TimerChange::Unchanged,
            notes: Vec::new(),
            fatal: None,
        }
    }

    /// The retry timer fired: the cluster replica's turn.
    pub fn handle_timeout(&mut self) -> LineOutcome {
        let replies = self.serve_cluster("on the retry timer", Node::on_timer);
        let outcome = self.stamped(replies);
        self.finish_outcome(outcome)
    }

    /// Runs one cluster step; a failed persist or a panic stops the node (see `HALF_APPLIED`).
    fn serve_cluster(
        &mut self,
        context: &str,
        step: impl FnOnce(&mut Node) -> Result<Vec<(String, Reply)>, ServeError>,
    ) -> Vec<(String, Reply)> {
        match panic::catch_unwind(AssertUnwindSafe(|| step(self))) {
            Ok(Ok(replies)) => replies,
            Ok(Err(error)) => {
                self.fatal = Some(error.0);
                vec![]
            }
            Err(_) => {
                self.fatal = Some(format!("{context}: {HALF_APPLIED}"));
                vec![]
            }
        }
    }

    /// This node's replies as numbered messages.
    fn stamped(&mut self, replies: Vec<(String, Reply)>) -> LineOutcome {
        let src = self.own_id().unwrap_or_default().to_owned();
        let messages = replies
            .into_iter()
            .map(|(dest, reply)| self.stamp(src.clone(), dest, reply))
            .collect();
        LineOutcome {
            messages,
            ..LineOutcome::default()
        }
    }

    /// How long the retry timer waits: the configured timeout, plus a share of it by this node's
    /// index, so that after a leader fails the nodes do not all campaign at the same moment.
    pub fn timer_delay(&self, timeout: std::time::Duration) -> std::time::Duration {
        let (index, count) = match &self.membership {
            Some(membership) => (self.own_index(), membership.ids.len()),
            None => (0, 1),
        };
        timeout + timeout.mul_f64(index as f64 / count as f64)
    }

    fn log(&mut self, note: String) {
        self.notes.push(note);
    }

    /// Hands the timer change, the notes and any fatal error over to the event loop.
    fn finish_outcome(&mut self, mut outcome: LineOutcome) -> LineOutcome {
        outcome.timer = std::mem::take(&mut self.timer);
        outcome.notes = std::mem::take(&mut self.notes);
        outcome.fatal = self.fatal.take();
        if outcome.fatal.is_some() {
            outcome.messages.clear(); // nothing may leave after a failed persist
        }
        outcome
    }

    pub fn handle_line(&mut self, line: &str) -> LineOutcome {
        let outcome = self.handle_line_inner(line);
        self.finish_outcome(outcome)
    }

    fn handle_line_inner(&mut self, line: &str) -> LineOutcome {
        let envelope = match codec::parse_line(line) {
            Ok(ParsedLine::Message(envelope)) => envelope,
            Ok(ParsedLine::BadEnvelope(bad)) => {
                let diagnostic = Some(format!("bad message from {}: {}", bad.src, bad.error));
                let src = self.own_id().unwrap_or(&bad.dest).to_owned();
                let message = self.stamp(src, bad.src, Reply::error(bad.msg_id, &bad.error));
                return LineOutcome {
                    messages: vec![message],
                    diagnostic,
                    ..LineOutcome::default()
                };
            }
            Err(unanswerable) => {
                return LineOutcome {
                    diagnostic: Some(format!("skipped line: {}", unanswerable.0)),
                    ..LineOutcome::default()
                };
            }
        };
        if self.is_peer(&envelope.src) {
            return self.serve_peer(&envelope.src, &envelope.body);
        }
        let msg_id = envelope.body.msg_id();
        let src = self.own_id().unwrap_or(&envelope.dest).to_owned();
        // The core asserts its invariants; should one ever fail, answer with Maelstrom's `crash`
        // error and keep serving rather than take every later request down with it.
        let served = panic::catch_unwind(AssertUnwindSafe(|| {
            self.dispatch(&envelope.src, &envelope.body)
        }));
        let served = served.unwrap_or_else(|_| {
            if self.replica.is_some() {
                self.fatal = Some(HALF_APPLIED.into());
            }
            Err(RequestError {
                code: ErrorCode::Crash,
                text: "internal error while serving this request".into(),
            })
        });
        match served {
            Ok(replies) => self.stamped(replies),
            Err(error) => {
                let diagnostic = Some(format!("request from {} refused: {error}", envelope.src));
                let message = self.stamp(src, envelope.src, Reply::error(msg_id, &error));
                LineOutcome {
                    messages: vec![message],
                    diagnostic,
                    ..LineOutcome::default()
                }
            }
        }
    }

    /// A line from another node of the cluster: a peer message, or something to log and drop.
    fn serve_peer(&mut self, src: &str, body: &Body) -> LineOutcome {
        let message_type = body.message_type().unwrap_or("(no type)").to_owned();
        if !cluster::PEER_TYPES.contains(&message_type.as_str()) {
            return LineOutcome {
                diagnostic: Some(format!(
                    "dropped a '{message_type}' message from peer {src}: not a peer message"
                )),
                ..LineOutcome::default()
            };
        }
        let context = format!("on a '{message_type}' message from {src}");
        let replies = self.serve_cluster(&context, |node| node.peer_message(src, body));
        self.stamped(replies)
    }

    fn own_id(&self) -> Option<&str> {
        self.membership
            .as_ref()
            .map(|membership| membership.id.as_str())
    }

    fn stamp(&mut self, src: String, dest: String, reply: Reply) -> Outgoing {
        let msg_id = self.next_msg_id;
        self.next_msg_id += 1;
        Outgoing {
            src,
            dest,
            msg_id,
            reply,
        }
    }

    /// Serves one request; the replies go out in order, each to its destination.
    fn dispatch(&mut self, src: &str, body: &Body) -> Result<Vec<(String, Reply)>, RequestError> {
        let message_type = body.message_type()?;
        // A msg_id that is present but unusable would otherwise be dropped silently, and the
        // client would get a reply it cannot match to its request.
        let msg_id = body.optional_u64("msg_id")?;
        let reply_to_sender = |reply: Reply| vec![(src.to_owned(), reply)];
        if message_type == "init" {
            return self.init(body).map(reply_to_sender);
        }
        if !KNOWN_TYPES.contains(&message_type) && !cluster::KV_TYPES.contains(&message_type) {
            return Err(RequestError {
                code: ErrorCode::NotSupported,
                text: format!("message type '{message_type}' is not supported"),
            });
        }
        if self.membership.is_none() {
            return Err(RequestError {
                code: ErrorCode::TemporarilyUnavailable,
                text: "the node is not initialised yet: send init first".into(),
            });
        }
        match message_type {
            "paxos_prepare" => self.prepare(body, msg_id).map(reply_to_sender),
            "paxos_accept" => self.accept(body, msg_id).map(reply_to_sender),
            "paxos_chosen" => Ok(reply_to_sender(self.chosen(msg_id))),
            "paxos_safety_test" => safety_test(body, msg_id).map(reply_to_sender),
            "paxos_invariant_check" => invariant_check(body, msg_id).map(reply_to_sender),
            "multi_paxos_propose" => self.cluster_propose(src, body, msg_id),
            "multi_paxos_log" => Ok(reply_to_sender(self.cluster_log(msg_id))),
            "read" | "write" | "cas" => self.kv_request(src, message_type, body, msg_id),
            _ => unreachable!("KNOWN_TYPES, KV_TYPES and this match list the same types"),
        }
    }

    fn init(&mut self, body: &Body) -> Result<Reply, RequestError> {
        let id = body.string("node_id")?;
        let ids = body.strings("node_ids")?;
        let unique: BTreeSet<&str> = ids.iter().copied().collect();
        if unique.len() != ids.len() {
            return Err(RequestError::malformed(
                "field node_ids must not repeat a node id",
            ));
        }
        if !unique.contains(id) {
            return Err(RequestError::malformed(format!(
                "field node_ids must include node_id {id}"
            )));
        }
        if let Some(membership) = &self.membership {
            // Re-initialising would silently discard promises and acceptances.
            return Err(RequestError::malformed(format!(
                "the node is already initialised as {}",
                membership.id
            )));
        }
        let names_a_file = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if self.data_dir.is_some() && !id.chars().all(names_a_file) {
            return Err(RequestError::malformed(format!(
                "field node_id must be letters, digits, '-' or '_' with --data-dir, where it names \
                 the state file (got {id:?})"
            )));
        }
        // Read the durable state before taking the membership: a node that cannot read it must
        // stay uninitialised (and say why), not serve without its promises.
        let unreadable = |error: ServeError| RequestError {
            code: ErrorCode::Crash,
            text: error.0,
        };
        let persisted = cluster::load_acceptor(self.data_dir.as_deref(), id).map_err(unreadable)?;
        let course_acceptor =
            cluster::load_course_acceptor(self.data_dir.as_deref(), id).map_err(unreadable)?;
        let acceptor_count = ids.len();
        self.membership = Some(Membership {
            id: id.to_owned(),
            ids: ids.iter().map(|id| id.to_string()).collect(),
        });
        self.acceptor = course_acceptor.unwrap_or_default();
        let mut accepted = ChosenTracker::new(acceptor_count);
        if let Some(proposal) = self.acceptor.accepted.get(0) {
            accepted.record(0, proposal, self.own_index());
        }
        self.accepted = Some(accepted);
        let config = ReplicaConfig {
            index: self.own_index(),
            cluster_size: acceptor_count,
            flaw: Flaw::None,
        };
        self.replica = Some(Replica::new(config, persisted));
        Ok(Reply::new("init_ok", body.msg_id()))
    }

    fn membership(&self) -> &Membership {
        self.membership.as_ref().expect("checked by dispatch")
    }

    fn own_index(&self) -> usize {
        let membership = self.membership();
        membership
            .ids
            .iter()
            .position(|id| *id == membership.id)
            .expect("init checks membership")
    }

    /// Task 7-3-1: this node is one acceptor; the client is the proposer and names the ballot.
    fn prepare(&mut self, body: &Body, msg_id: Option<u64>) -> Result<Reply, RequestError> {
        let ballot = Ballot::from_course_number(body.u64("proposal_n")?);
        let request = Message::Prepare {
            ballot,
            from_slot: 0,
        };
        let reply = self.course_acceptor_step(request)?;
        let promise = Reply::new("paxos_promise", msg_id);
        Ok(match reply {
            Message::Promise { accepted, .. } => {
                let (accepted_n, accepted_value) = match accepted.into_iter().next() {
                    Some((_, proposal)) => (course_number(proposal.ballot).into(), proposal.value),
                    None => (Value::Null, Value::Null),
                };
                promise
                    .with("promised", true)
                    .with("accepted_n", accepted_n)
                    .with("accepted_value", accepted_value)
            }
            Message::PrepareRefused { promised, .. } => promise
                .with("promised", false)
                .with("highest_promised", course_number(promised)),
            other => unreachable!("an acceptor answers a prepare with {other:?}"),
        })
    }

    /// Task 7-3-2: accept if no higher ballot was promised; the acceptance is recorded, and it
    /// chooses the value when the node is the whole cluster (a majority of one).
    fn accept(&mut self, body: &Body, msg_id: Option<u64>) -> Result<Reply, RequestError> {
        let ballot = Ballot::from_course_number(body.u64("proposal_n")?);
        let value = body.value("value")?;
        let request = Message::Accept {
            slot: 0,
            proposal: Proposal::new(ballot, value),
        };
        let reply = self.course_acceptor_step(request)?;
        let accepted = Reply::new("paxos_accepted", msg_id);
        Ok(match reply {
            Message::Accepted { proposal, .. } => {
                let own_index = self.own_index();
                let record = self.accepted.as_mut().expect("created by init");
                record.record(0, &proposal, own_index);
                accepted
                    .with("accepted", true)
                    .with("proposal_n", course_number(proposal.ballot))
                    .with("value", proposal.value)
            }
            Message::AcceptRefused { promised, .. } => accepted
                .with("accepted", false)
                .with("highest_promised", course_number(promised)),
            other => unreachable!("an acceptor answers an accept with {other:?}"),
        })
    }

    /// One request to the course's acceptor: its change is made durable (under `--data-dir`)
    /// before the reply is returned; if that fails, the node stops.
    fn course_acceptor_step(
        &mut self,
        request: Message<Value>,
    ) -> Result<Message<Value>, RequestError> {
        let step = self
            .acceptor
            .step(request, Flaw::None)
            .expect("a request for the acceptor");
        if step.change.is_some() {
            if let (Some(data_dir), Some(id)) = (self.data_dir.clone(), self.own_id()) {
                if let Err(error) = cluster::persist_course_acceptor(&data_dir, id, &self.acceptor)
                {
                    self.fatal = Some(error.0.clone());
                    return Err(RequestError {
                        code: ErrorCode::Crash,
                        text: "the acceptor's state could not be made durable".into(),
                    });
                }
            }
        }
        Ok(step.reply)
    }

    /// What this node knows a majority accepted; nulls while it knows of none.
    fn chosen(&self, msg_id: Option<u64>) -> Reply {
        let chosen = self
            .accepted
            .as_ref()
            .and_then(|accepted| accepted.chosen_in(0));
        let (value, chosen_at_n) = match chosen {
            Some(proposal) => (
                proposal.value.clone(),
                Value::from(course_number(proposal.ballot)),
            ),
            None => (Value::Null, Value::Null),
        };
        Reply::new("paxos_chosen_ok", msg_id)
            .with("value", value)
            .with("chosen_at_n", chosen_at_n)
    }
}

const KNOWN_TYPES: [&str; 7] = [
    "paxos_prepare",
    "paxos_accept",
    "paxos_chosen",
    "paxos_safety_test",
    "paxos_invariant_check",
    "multi_paxos_propose",
    "multi_paxos_log",
];

/// Client ballots are the course's integers, ballot (n, 0).
fn course_number(ballot: Ballot) -> u64 {
    debug_assert_eq!(ballot.proposer, 0, "client ballots are course numbers");
    ballot.round
}

/// The simulated cluster's acceptor names, as the course writes them.
fn simulated_node_name(index: usize) -> String {
    format!("n{}", index + 1)
}

/// Task 7-3-3: choose `chosen_value` at `chosen_at_n`, then let a proposer at `new_proposal_n`
/// run both phases against every quorum (see `course::run_safety_scenario`).
fn safety_test(body: &Body, msg_id: Option<u64>) -> Result<Reply, RequestError> {
    let nodes = body.u64("nodes")?;
    let chosen_value = body.value("chosen_value")?;
    let chosen_at_n = body.u64("chosen_at_n")?;
    let new_proposal_n = body.u64("new_proposal_n")?;
    let new_proposer_value = body
        .optional_value("proposer_value")?
        .unwrap_or_else(|| Value::from(format!("value_{new_proposal_n}")));
    let flaw = match body.optional_string("flaw")? {
        Some(name) => name
            .parse::<Flaw>()
            .map_err(|error| RequestError::malformed(format!("field flaw: {error}")))?,
        None => Flaw::None,
    };
    let scenario = SafetyScenario {
        nodes: usize::try_from(nodes).unwrap_or(usize::MAX),
        chosen_value,
        chosen_at: Ballot::from_course_number(chosen_at_n),
        new_ballot: Ballot::from_course_number(new_proposal_n),
        new_proposer_value,
        flaw,
    };
    let report = course::run_safety_scenario(&scenario)
        .map_err(|error| RequestError::malformed(format!("field {error}")))?;
    let (value, source) = match report.reported.outcome.clone() {
        NewProposalOutcome::Refused { .. } => (Value::Null, None),
        NewProposalOutcome::Proposed { proposal, source } => (proposal.value, Some(source)),
    };
    let promise_source = match source {
        Some(ValueSource::Promise { acceptor, .. }) => Value::from(simulated_node_name(acceptor)),
        _ => Value::Null,
    };
    let forced_by_promise = matches!(source, Some(ValueSource::Promise { .. }));
    Ok(Reply::new("paxos_safety_test_ok", msg_id)
        .with("new_proposal_value", value)
        .with("forced_by_promise", forced_by_promise)
        .with("promise_source", promise_source)
        .with("safe", report.safe()))
}

/// Task 7-3-3: judge a history of proposals against the definition of "chosen".
fn invariant_check(body: &Body, msg_id: Option<u64>) -> Result<Reply, RequestError> {
    let nodes = body
        .optional_u64("nodes")?
        .map(|nodes| usize::try_from(nodes).unwrap_or(usize::MAX));
    let mut proposals = Vec::new();
    for (index, item) in body.array("proposals")?.iter().enumerate() {
        let item = Item::new(item, format!("proposals[{index}]"))?;
        let accepted_by = item
            .strings("accepted_by")?
            .into_iter()
            .map(str::to_owned)
            .collect();
        proposals.push(ProposalRecord {
            ballot: Ballot::from_course_number(item.u64("n")?),
            value: item.value("value")?,
            accepted_by,
        });
    }
    let report = course::check_invariant(&proposals, nodes)
        .map_err(|error| RequestError::malformed(error.to_string()))?;
    let (chosen_value, chosen_at_n) = match &report.chosen {
        Some(proposal) => (
            proposal.value.clone(),
            Value::from(course_number(proposal.ballot)),
        ),
        None => (Value::Null, Value::Null),
    };
    Ok(Reply::new("paxos_invariant_check_ok", msg_id)
        .with("chosen_value", chosen_value)
        .with("chosen_at_n", chosen_at_n)
        .with("all_subsequent_match", report.all_subsequent_match)
        .with("safe", report.safe()))
}
