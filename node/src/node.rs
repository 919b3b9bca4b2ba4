//! One `paxos-node` process: membership, message numbering, and the protocol roles it hosts,
//! each driven only through `paxos-model`'s transition functions.
//!
//! The node hosts a single-decree acceptor and the record of what it accepted (tasks 7-3-1,
//! 7-3-2), runs the course's safety experiments (7-3-3) on the protocol's roles, and is one
//! replica of a key-value store replicated by Multi-Paxos (`cluster`), which serves the course's
//! `multi_paxos_propose` and `multi_paxos_log` (7-3-4) and Maelstrom's `lin-kv` workload, for
//! one node or many alike. It does no network I/O: `handle_line` takes one input line and
//! returns the messages to write, in order, plus anything worth logging, and the event loop owns
//! the clock; the one thing it writes itself is its acceptors' state under `--data-dir` (`store`),
//! which must be durable (`make_durable`) before the messages it returns leave.

mod cluster;
#[cfg(test)]
mod peer_properties;
mod store;
pub mod wire;

use crate::codec::{
    self, BadEnvelope, ErrorCode, Fields, JsonStr, JsonValue, Object, ParsedLine, Reply,
    RequestError,
};
use crate::limits::{HELD_BEFORE_INIT_BYTES_MAX, NODE_IDS_MAX, PROPOSALS_MAX};
use paxos_model::course::{self, NewProposalOutcome, ProposalRecord, SafetyScenario};
use paxos_model::protocol::acceptor::Acceptor;
use paxos_model::protocol::chosen::ChosenTracker;
use paxos_model::protocol::durable::DurableState;
use paxos_model::protocol::message::Message;
use paxos_model::protocol::replica::{Replica, ReplicaConfig};
use paxos_model::protocol::rules::{TimerChange, ValueSource};
use paxos_model::protocol::slots::Slot;
use paxos_model::{Ballot, Flaw, Proposal};
use std::collections::BTreeSet;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use store::ReplicaStore;

/// Why a panic stops a cluster node: the replica may be half-way through a step, with state
/// changed in memory that is not on disk and a timer it believes is running. Restarting from
/// `--data-dir` is the safe way on.
const HALF_APPLIED: &str =
    "internal error in the cluster replica; its state may be half-applied, so the node stops";

/// An error the node cannot serve on from: its acceptor state could not be made durable, so any
/// promise it sent might be forgotten. The event loop stops the process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeError(pub String);

/// The exit status of a node that refuses to start: its state under `--data-dir` is damaged or
/// unreadable (as for a bad command line).
pub const EXIT_BAD_STATE: i32 = 2;
/// The exit status of a node that stops while serving: its state could not be made durable, or
/// an internal error left its replica half-way through a step.
pub const EXIT_STOPPED: i32 = 1;

/// Why the node must stop, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stop {
    pub reason: String,
    pub status: i32,
    /// Whether what this input wrote may still leave: yes for a refusal to start (the `init`
    /// is answered with the reason), no for a failure while serving (its state change was not
    /// made durable, so nothing that depends on it may be sent).
    pub send_output: bool,
}

impl Stop {
    fn serving(reason: String) -> Self {
        Stop {
            reason,
            status: EXIT_STOPPED,
            send_output: false,
        }
    }
}

/// What one input line (or a timeout) did, besides the messages it appended to the output.
#[derive(Debug, Default)]
pub struct LineOutcome {
    /// A line that could not be answered, or was answered with an error: worth a log line.
    pub diagnostic: Option<String>,
    /// Notes from the cluster replica (dropped peer messages), worth a log line each.
    pub notes: Vec<String>,
    /// How the retry timer changes; the event loop keeps the deadline.
    pub timer: TimerChange,
    /// The node must stop (see `Stop`).
    pub stop: Option<Stop>,
}

impl LineOutcome {
    fn with_diagnostic(text: String) -> Self {
        LineOutcome {
            diagnostic: Some(text),
            ..LineOutcome::default()
        }
    }
}

/// What a node found under `--data-dir` when it started.
#[derive(Default)]
struct DurableAtStart {
    replica: Option<DurableState>,
    course_acceptor: Option<Acceptor<JsonValue>>,
}

/// A number this start of the node draws for its probe, unlike any earlier start's: the
/// standard library's per-process random hash keys, mixed with the clock and the process id.
fn fresh_nonce() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    hasher.write_u128(now.as_nanos());
    hasher.finish()
}

/// The most times the retry timer's delay doubles while the log stays stalled.
const BACKOFF_DOUBLINGS_MAX: u32 = 3;

struct Membership {
    /// This node's id and every node's, as Python prints them (see `JsonStr`).
    id: JsonStr<'static>,
    ids: Vec<JsonStr<'static>>,
}

pub struct Node {
    membership: Option<Membership>,
    /// The node numbers every message it sends, from 0 (the `init_ok`).
    next_msg_id: u64,
    /// The course's single-decree acceptor (7-3-1, 7-3-2): slot 0 of a log of its own.
    acceptor: Acceptor<JsonValue>,
    /// What the course's acceptor accepted, judged for `paxos_chosen` by Lamport's definition.
    accepted: Option<ChosenTracker<JsonValue>>,
    /// The Multi-Paxos replica, for every cluster size (a single node is a cluster of one).
    replica: Option<Replica>,
    /// Where the acceptors persist; `None` keeps them in memory only.
    data_dir: Option<PathBuf>,
    /// The replica's log of records under `data_dir`, once `init` named the node.
    store: Option<ReplicaStore>,
    /// The `init` whose answer waits for the replica's probe to settle (its sender and
    /// `msg_id`): a node that does not vote yet is not ready.
    init_waiting: Option<(String, Option<u64>)>,
    /// Peer messages that came before `init`, to be handled right after it, and their bytes.
    held_before_init: Vec<String>,
    held_bytes: usize,
    /// Consecutive timeouts that found the log where the one before had left it, and where
    /// that was: the timer backs off while they last (see `timer_delay`).
    stalled_timeouts: u32,
    applied_at_timeout: Option<Slot>,
    timer: TimerChange,
    notes: Vec<String>,
    stop: Option<Stop>,
    /// The most lin-kv commands this node's leader puts in one slot (`--batch`).
    batch_max: usize,
    /// How many applied entries the replica keeps before a snapshot (`--snapshot-every`).
    snapshot_every: Option<u64>,
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
            store: None,
            init_waiting: None,
            held_before_init: Vec::new(),
            held_bytes: 0,
            stalled_timeouts: 0,
            applied_at_timeout: None,
            timer: TimerChange::Unchanged,
            notes: Vec::new(),
            stop: None,
            batch_max: paxos_model::protocol::replica::BATCH_MAX,
            snapshot_every: Some(paxos_model::protocol::replica::SNAPSHOT_EVERY),
        }
    }

    /// The same node with at most `batch_max` commands per slot (1: a slot per command).
    pub fn with_batch_max(self, batch_max: usize) -> Self {
        assert!(batch_max >= 1, "a slot holds one command or more");
        Node { batch_max, ..self }
    }

    /// The same node with a snapshot every `snapshot_every` applied entries (`None`: never).
    pub fn with_snapshot_every(self, snapshot_every: Option<u64>) -> Self {
        assert_ne!(
            snapshot_every,
            Some(0),
            "a snapshot covers an entry or more"
        );
        Node {
            snapshot_every,
            ..self
        }
    }

    /// Serves one input line (without its newline), appending the messages it sends to `out`.
    pub fn handle_line(&mut self, line: &str, out: &mut Vec<u8>) -> LineOutcome {
        let sent_from = out.len();
        let outcome = self.handle_line_inner(line, out);
        self.finish_outcome(outcome, out, sent_from)
    }

    /// A line longer than `LINE_BYTES_MAX`, of which only `prefix` was kept: its sender, if
    /// the prefix names one, is told so.
    pub fn handle_overlong_line(
        &mut self,
        prefix: &str,
        line_bytes: u64,
        out: &mut Vec<u8>,
    ) -> LineOutcome {
        let sent_from = out.len();
        let outcome = match codec::parse_overlong_line(prefix, line_bytes) {
            Ok(bad) => self.refuse_envelope(bad, out),
            Err(unanswerable) => {
                LineOutcome::with_diagnostic(format!("skipped line: {}", unanswerable.0))
            }
        };
        self.finish_outcome(outcome, out, sent_from)
    }

    /// The retry timer fired: the cluster replica's turn.
    pub fn handle_timeout(&mut self, out: &mut Vec<u8>) -> LineOutcome {
        let sent_from = out.len();
        let applied = self.replica.as_ref().map(|replica| replica.applied_below);
        if applied.is_some() && applied == self.applied_at_timeout {
            self.stalled_timeouts = (self.stalled_timeouts + 1).min(BACKOFF_DOUBLINGS_MAX);
        } else {
            self.stalled_timeouts = 0;
        }
        self.applied_at_timeout = applied;
        let replies = self.serve_cluster("on the retry timer", Node::on_timer);
        self.send(replies, out);
        self.finish_outcome(LineOutcome::default(), out, sent_from)
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
                self.stop = Some(Stop::serving(format!(
                    "state could not be made durable: {}",
                    error.0
                )));
                vec![]
            }
            Err(_) => {
                self.stop = Some(Stop::serving(format!("{context}: {HALF_APPLIED}")));
                vec![]
            }
        }
    }

    /// Writes this node's replies as numbered messages from this node.
    fn send(&mut self, replies: Vec<(String, Reply)>, out: &mut Vec<u8>) {
        for (dest, reply) in replies {
            let msg_id = self.take_msg_id();
            let src = self.own_id().unwrap_or_default();
            codec::write_message(out, src, &dest, &reply, msg_id);
        }
    }

    fn take_msg_id(&mut self) -> u64 {
        let msg_id = self.next_msg_id;
        self.next_msg_id += 1;
        msg_id
    }

    /// How long the retry timer waits: the configured timeout, plus a share of it by this node's
    /// index, so that after a leader fails the nodes do not all campaign at the same moment;
    /// doubled for each timeout in a row that found the log stalled (up to 8 times), so that
    /// rivals that keep taking over from each other drift apart instead of duelling, and a
    /// node that cannot reach its peers does not flood them. Progress resets it.
    pub fn timer_delay(&self, timeout: std::time::Duration) -> std::time::Duration {
        let (index, count) = match &self.membership {
            Some(membership) => (self.own_index(), membership.ids.len()),
            None => (0, 1),
        };
        let staggered = timeout + timeout.mul_f64(index as f64 / count as f64);
        staggered * (1 << self.stalled_timeouts)
    }

    /// Makes every record this node wrote durable; the event loop calls it before any output
    /// leaves. Now and then it also rewrites the log as a snapshot (`store`).
    pub fn make_durable(&mut self) -> Result<(), Stop> {
        let Some(store) = self.store.as_mut() else {
            return Ok(());
        };
        let failed =
            |error: String| Stop::serving(format!("state could not be made durable: {error}"));
        store.sync().map_err(failed)?;
        if store.wants_snapshot() {
            let state = self
                .replica
                .as_ref()
                .expect("a store belongs to a replica")
                .durable_state();
            store.snapshot(&state).map_err(failed)?;
        }
        Ok(())
    }

    fn log(&mut self, note: String) {
        self.notes.push(note);
    }

    /// Hands the timer change, the notes and any stop over to the event loop; after a failure
    /// while serving nothing this input wrote may leave (see `Stop`).
    fn finish_outcome(
        &mut self,
        mut outcome: LineOutcome,
        out: &mut Vec<u8>,
        sent_from: usize,
    ) -> LineOutcome {
        outcome.timer = std::mem::take(&mut self.timer);
        outcome.notes = std::mem::take(&mut self.notes);
        outcome.stop = self.stop.take();
        if outcome.stop.as_ref().is_some_and(|stop| !stop.send_output) {
            out.truncate(sent_from);
        }
        outcome
    }

    fn handle_line_inner(&mut self, line: &str, out: &mut Vec<u8>) -> LineOutcome {
        let envelope = match codec::parse_line(line) {
            Ok(ParsedLine::Message(envelope)) => envelope,
            Ok(ParsedLine::BadEnvelope(bad)) => return self.refuse_envelope(bad, out),
            Err(unanswerable) => {
                return LineOutcome::with_diagnostic(format!("skipped line: {}", unanswerable.0));
            }
        };
        let src = envelope.src.printed();
        if self.is_peer(src) {
            return self.serve_peer(&envelope.src, &envelope.body, out);
        }
        if self.membership.is_none() && self.is_peer_type(&envelope.body) {
            return self.hold_until_init(line, &envelope.src.decoded());
        }
        let uninitialised = self.membership.is_none();
        // The core asserts its invariants; should one ever fail, answer with Maelstrom's `crash`
        // error and keep serving rather than take every later request down with it.
        let served = panic::catch_unwind(AssertUnwindSafe(|| self.dispatch(src, &envelope.body)));
        let served = served.unwrap_or_else(|_| {
            if self.replica.is_some() {
                self.stop = Some(Stop::serving(HALF_APPLIED.into()));
            }
            Err(RequestError {
                code: ErrorCode::Crash,
                text: "internal error while serving this request".into(),
            })
        });
        match served {
            Ok(replies) => {
                self.send(replies, out);
                if uninitialised && self.membership.is_some() {
                    self.handle_held_lines(out);
                }
                LineOutcome::default()
            }
            Err(error) => {
                let msg_id = self.take_msg_id();
                let own_id = self.own_id().unwrap_or(envelope.dest.printed());
                let reply = Reply::error(envelope.body.msg_id(), &error);
                codec::write_message(out, own_id, src, &reply, msg_id);
                LineOutcome::with_diagnostic(format!(
                    "request from {} refused: {error}",
                    envelope.src.decoded()
                ))
            }
        }
    }

    /// A peer message before this node's `init`: a peer that got its `init` first (Maelstrom
    /// sends them all at once, in no order) and probes, or campaigns. This node cannot tell a
    /// peer yet, and an error would bounce between the two; so it keeps the line, and handles
    /// it right after `init`, as if it had come then. The cluster model relies on this: a node
    /// initialised late is then a node whose messages were delayed, which the network may do
    /// anyway (see `paxos_model::check::cluster`). Up to `HELD_BEFORE_INIT_BYTES_MAX`; beyond,
    /// a line is dropped, as a network may drop it, and its sender's timer sends it again.
    fn hold_until_init(&mut self, line: &str, src: &str) -> LineOutcome {
        if self.held_bytes + line.len() > HELD_BEFORE_INIT_BYTES_MAX {
            return LineOutcome::with_diagnostic(format!(
                "dropped a peer message from {src} that came before this node's init: {} bytes \
                 of such messages are kept already (limit held_before_init_bytes_max)",
                self.held_bytes
            ));
        }
        self.held_bytes += line.len();
        self.held_before_init.push(line.to_owned());
        LineOutcome::default()
    }

    /// Handles the peer messages kept until `init`, in the order they came.
    fn handle_held_lines(&mut self, out: &mut Vec<u8>) {
        self.held_bytes = 0;
        for line in std::mem::take(&mut self.held_before_init) {
            let outcome = self.handle_line_inner(&line, out);
            if let Some(diagnostic) = outcome.diagnostic {
                self.log(diagnostic);
            }
            if self.stop.is_some() {
                return;
            }
        }
    }

    /// Answers a line that names its sender but cannot be served; before `init` the answer
    /// comes from whom the line was for. A peer is not answered (see `serve_peer`).
    fn refuse_envelope(&mut self, bad: BadEnvelope<'_>, out: &mut Vec<u8>) -> LineOutcome {
        if self.is_peer(bad.src.printed()) {
            return LineOutcome::with_diagnostic(format!(
                "dropped a message from peer {}: {}",
                bad.src.decoded(),
                bad.error
            ));
        }
        let msg_id = self.take_msg_id();
        let own_id = self
            .own_id()
            .or(bad.dest.as_ref().map(JsonStr::printed))
            .unwrap_or_default();
        let reply = Reply::error(bad.msg_id, &bad.error);
        codec::write_message(out, own_id, bad.src.printed(), &reply, msg_id);
        LineOutcome::with_diagnostic(format!(
            "bad message from {}: {}",
            bad.src.decoded(),
            bad.error
        ))
    }

    /// A line from another node of the cluster: a peer message, or something to log and drop.
    /// A peer is never answered with an error: two nodes that disagree about a message would
    /// bounce errors at each other forever.
    fn serve_peer(
        &mut self,
        src: &JsonStr<'_>,
        body: &Fields<'_>,
        out: &mut Vec<u8>,
    ) -> LineOutcome {
        let message_type = body.message_type();
        let message_type = match &message_type {
            Ok(message_type) => message_type.printed(),
            Err(_) => "(no type)",
        };
        if !wire::PEER_TYPES.contains(&message_type) {
            return LineOutcome::with_diagnostic(format!(
                "dropped a '{message_type}' message from peer {}: not a peer message",
                src.decoded()
            ));
        }
        let context = format!("on a '{message_type}' message from {}", src.decoded());
        let message_type = message_type.to_owned();
        let replies = self.serve_cluster(&context, |node| {
            node.peer_message(src.printed(), &message_type, body)
        });
        self.send(replies, out);
        LineOutcome::default()
    }

    /// Whether `body` is one of the peer protocol's own messages, which no client sends (a
    /// `paxos_prepare` is also the course's request to this node's acceptor: not one of these).
    fn is_peer_type(&self, body: &Fields<'_>) -> bool {
        body.message_type().is_ok_and(|message_type| {
            let message_type = message_type.printed();
            wire::PEER_TYPES.contains(&message_type) && !KNOWN_TYPES.contains(&message_type)
        })
    }

    /// How the node's log lines name it: its id once `init` has named it.
    pub fn log_name(&self) -> String {
        self.membership.as_ref().map_or_else(
            || "paxos-node".to_owned(),
            |membership| membership.id.decoded().into_owned(),
        )
    }

    fn own_id(&self) -> Option<&str> {
        self.membership
            .as_ref()
            .map(|membership| membership.id.printed())
    }

    /// Serves one request; the replies go out in order, each to its destination.
    fn dispatch(
        &mut self,
        src: &str,
        body: &Fields<'_>,
    ) -> Result<Vec<(String, Reply)>, RequestError> {
        let type_field = body.message_type()?;
        let message_type = type_field.printed();
        // A msg_id that is present but unusable would otherwise be dropped silently, and the
        // client would get a reply it cannot match to its request.
        let msg_id = body.optional_u64("msg_id")?;
        let reply_to_sender = |reply: Reply| vec![(src.to_owned(), reply)];
        if message_type == "init" {
            return self.init(src, body);
        }
        if !KNOWN_TYPES.contains(&message_type) && !cluster::KV_TYPES.contains(&message_type) {
            return Err(RequestError {
                code: ErrorCode::NotSupported,
                text: format!("message type '{}' is not supported", type_field.decoded()),
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

    /// `init`: the node's id and the cluster's. Under `--data-dir` the node reads its state
    /// first, and refuses to start if it cannot trust it. A node that finds none there, or keeps
    /// none (no `--data-dir`: every start is a start without state), probes its peers (see
    /// `Replica::without_state`), and its `init_ok` waits until it votes: until every other
    /// node has answered.
    fn init(&mut self, src: &str, body: &Fields<'_>) -> Result<Vec<(String, Reply)>, RequestError> {
        let id = body.string("node_id")?;
        let ids = body.strings("node_ids")?;
        if ids.len() > NODE_IDS_MAX {
            return Err(RequestError::limit(format!(
                "field node_ids names {} nodes; the limit is {NODE_IDS_MAX} (limit node_ids_max)",
                ids.len()
            )));
        }
        let unique: BTreeSet<&str> = ids.iter().map(JsonStr::printed).collect();
        if unique.len() != ids.len() {
            return Err(RequestError::malformed(
                "field node_ids must not repeat a node id",
            ));
        }
        if !unique.contains(id.printed()) {
            return Err(RequestError::malformed(format!(
                "field node_ids must include node_id {}",
                id.decoded()
            )));
        }
        if let Some(membership) = &self.membership {
            // Re-initialising would silently discard promises and acceptances.
            return Err(RequestError::malformed(format!(
                "the node is already initialised as {}",
                membership.id.decoded()
            )));
        }
        let names_a_file = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if self.data_dir.is_some() && !id.printed().chars().all(names_a_file) {
            return Err(RequestError::malformed(format!(
                "field node_id must be letters, digits, '-' or '_' with --data-dir, where it names \
                 the state file (got {:?})",
                id.decoded()
            )));
        }
        // Read the durable state before taking the membership: a node that cannot trust it
        // must not serve at all, with promises it may have forgotten.
        let durable = self.open_state(id.printed()).map_err(|damaged| {
            self.stop = Some(Stop {
                reason: format!("cannot start: {damaged}"),
                status: EXIT_BAD_STATE,
                send_output: true,
            });
            RequestError {
                code: ErrorCode::Crash,
                text: format!("cannot start: {damaged}"),
            }
        })?;
        let acceptor_count = ids.len();
        self.membership = Some(Membership {
            id: JsonStr::from_printed(id.into_printed()),
            ids: ids
                .into_iter()
                .map(|id| JsonStr::from_printed(id.into_printed()))
                .collect(),
        });
        self.acceptor = durable.course_acceptor.unwrap_or_default();
        let mut accepted = ChosenTracker::new(acceptor_count);
        if let Some(proposal) = self.acceptor.accepted.get(0) {
            accepted.record(0, proposal, self.own_index());
        }
        self.accepted = Some(accepted);
        let config = ReplicaConfig {
            batch_max: self.batch_max,
            snapshot_every: self.snapshot_every,
            ..ReplicaConfig::node(self.own_index(), acceptor_count)
        };
        // No state found, under --data-dir or without it (memory only): one case.
        let replica = match durable.replica {
            None => Replica::without_state(config, fresh_nonce()),
            Some(state) => Replica::recover(config, state, fresh_nonce()),
        };
        let probing = !replica.votes();
        self.replica = Some(replica);
        if probing {
            self.init_waiting = Some((src.to_owned(), body.msg_id()));
        }
        let step = self.replica_mut().start();
        let mut replies = Vec::new();
        if !probing {
            replies.push((src.to_owned(), Reply::new("init_ok", body.msg_id())));
        }
        match self.apply_replica_step(step) {
            Ok(sent) => replies.extend(sent),
            Err(error) => {
                self.stop = Some(Stop::serving(format!(
                    "state could not be made durable: {}",
                    error.0
                )));
            }
        }
        Ok(replies)
    }

    /// What node `id` persisted under `--data-dir`, if anything, or why it cannot be trusted.
    fn open_state(&mut self, id: &str) -> Result<DurableAtStart, store::Damaged> {
        let Some(data_dir) = self.data_dir.clone() else {
            return Ok(DurableAtStart::default());
        };
        store::refuse_unchecked_files(&data_dir, id)?;
        let course_acceptor = store::load_course_acceptor(&data_dir, id)?;
        let opened = ReplicaStore::open(&data_dir, id)?;
        if let Some(note) = opened.note {
            self.log(note);
        }
        self.store = Some(opened.store);
        Ok(DurableAtStart {
            replica: opened.state,
            course_acceptor,
        })
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
    fn prepare(&mut self, body: &Fields<'_>, msg_id: Option<u64>) -> Result<Reply, RequestError> {
        let ballot = Ballot::from_course_number(body.u64("proposal_n")?);
        let request = Message::Prepare {
            ballot,
            from_slot: 0,
        };
        let reply = Reply::new("paxos_promise", msg_id);
        Ok(match self.course_acceptor_step(request)? {
            Message::Promise { accepted, .. } => {
                let accepted = accepted.into_iter().next().map(|(_, proposal)| proposal);
                reply
                    .with("promised", true)
                    .with(
                        "accepted_n",
                        accepted
                            .as_ref()
                            .map(|proposal| course_number(proposal.ballot)),
                    )
                    .with(
                        "accepted_value",
                        accepted.as_ref().map(|proposal| &proposal.value),
                    )
            }
            Message::PrepareRefused { promised, .. } => reply
                .with("promised", false)
                .with("highest_promised", course_number(promised)),
            other => unreachable!("an acceptor answers a prepare with {other:?}"),
        })
    }

    /// Task 7-3-2: accept if no higher ballot was promised; the acceptance is recorded, and it
    /// chooses the value when the node is the whole cluster (a majority of one).
    fn accept(&mut self, body: &Fields<'_>, msg_id: Option<u64>) -> Result<Reply, RequestError> {
        let ballot = Ballot::from_course_number(body.u64("proposal_n")?);
        let value = body.value("value")?;
        let request = Message::Accept {
            slot: 0,
            proposal: Proposal::new(ballot, value),
        };
        let reply = Reply::new("paxos_accepted", msg_id);
        Ok(match self.course_acceptor_step(request)? {
            Message::Accepted { proposal, .. } => {
                let own_index = self.own_index();
                let record = self.accepted.as_mut().expect("created by init");
                record.record(0, &proposal, own_index);
                reply
                    .with("accepted", true)
                    .with("proposal_n", course_number(proposal.ballot))
                    .with("value", &proposal.value)
            }
            Message::AcceptRefused { promised, .. } => reply
                .with("accepted", false)
                .with("highest_promised", course_number(promised)),
            other => unreachable!("an acceptor answers an accept with {other:?}"),
        })
    }

    /// One request to the course's acceptor: its change is made durable (under `--data-dir`)
    /// before the reply is returned; if that fails, the node stops.
    fn course_acceptor_step(
        &mut self,
        request: Message<JsonValue>,
    ) -> Result<Message<JsonValue>, RequestError> {
        let step = self
            .acceptor
            .step(request, Flaw::None)
            .expect("a request for the acceptor");
        if let (Some(_), Some(data_dir)) = (&step.change, self.data_dir.clone()) {
            let id = self.own_id().expect("initialised").to_owned();
            if let Err(error) = store::persist_course_acceptor(&data_dir, &id, &self.acceptor) {
                self.stop = Some(Stop::serving(format!(
                    "state could not be made durable: {error}"
                )));
                return Err(RequestError {
                    code: ErrorCode::Crash,
                    text: "the acceptor's state could not be made durable".into(),
                });
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
        Reply::new("paxos_chosen_ok", msg_id)
            .with("value", chosen.map(|proposal| &proposal.value))
            .with(
                "chosen_at_n",
                chosen.map(|proposal| course_number(proposal.ballot)),
            )
    }
}

/// One line of `multi_paxos_log_ok`'s log.
fn log_entry(slot: Slot, value: impl codec::WriteJson) -> Object {
    Object::new()
        .with("slot", slot)
        .with("value", value)
        .with("status", "chosen")
}

/// Every message a client may send besides `init`: the course's and lin-kv's.
pub fn client_types() -> impl Iterator<Item = &'static str> {
    KNOWN_TYPES.into_iter().chain(cluster::KV_TYPES)
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
fn safety_test(body: &Fields<'_>, msg_id: Option<u64>) -> Result<Reply, RequestError> {
    let nodes = body.u64("nodes")?;
    let chosen_value = body.value("chosen_value")?;
    let chosen_at_n = body.u64("chosen_at_n")?;
    let new_proposal_n = body.u64("new_proposal_n")?;
    let new_proposer_value = body
        .optional_value("proposer_value")?
        .unwrap_or_else(|| JsonValue::string(&format!("value_{new_proposal_n}")));
    let flaw = match body.optional_string("flaw")? {
        Some(name) => name
            .decoded()
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
    let (value, source) = match &report.reported.outcome {
        NewProposalOutcome::Refused { .. } => (None, None),
        NewProposalOutcome::Proposed { proposal, source } => (Some(&proposal.value), Some(source)),
    };
    let promise_source = match source {
        Some(ValueSource::Promise { acceptor, .. }) => Some(simulated_node_name(*acceptor)),
        _ => None,
    };
    let forced_by_promise = matches!(source, Some(ValueSource::Promise { .. }));
    Ok(Reply::new("paxos_safety_test_ok", msg_id)
        .with("new_proposal_value", value)
        .with("forced_by_promise", forced_by_promise)
        .with("promise_source", promise_source.as_deref())
        .with("safe", report.safe()))
}

/// Task 7-3-3: judge a history of proposals against the definition of "chosen".
fn invariant_check(body: &Fields<'_>, msg_id: Option<u64>) -> Result<Reply, RequestError> {
    let nodes = body
        .optional_u64("nodes")?
        .map(|nodes| usize::try_from(nodes).unwrap_or(usize::MAX));
    let elements = body.array("proposals")?;
    if elements.len() > PROPOSALS_MAX {
        return Err(RequestError::limit(format!(
            "field proposals lists {} proposals; the limit is {PROPOSALS_MAX} (limit proposals_max)",
            elements.len()
        )));
    }
    let mut proposals = Vec::with_capacity(elements.len());
    for (index, element) in elements.into_iter().enumerate() {
        let item = Fields::element(element, "proposals", index)?;
        let accepted_by = item
            .strings("accepted_by")?
            .into_iter()
            .map(JsonStr::into_printed)
            .collect();
        proposals.push(ProposalRecord {
            ballot: Ballot::from_course_number(item.u64("n")?),
            value: item.value("value")?,
            accepted_by,
        });
    }
    let report = course::check_invariant(&proposals, nodes)
        .map_err(|error| RequestError::malformed(error.to_string()))?;
    let chosen = report.chosen.as_ref();
    Ok(Reply::new("paxos_invariant_check_ok", msg_id)
        .with("chosen_value", chosen.map(|proposal| &proposal.value))
        .with(
            "chosen_at_n",
            chosen.map(|proposal| course_number(proposal.ballot)),
        )
        .with("all_subsequent_match", report.all_subsequent_match)
        .with("safe", report.safe()))
}
