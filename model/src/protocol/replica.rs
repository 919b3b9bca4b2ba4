//! A replica of a key-value store replicated by Multi-Paxos: the roles every node of a cluster
//! plays at once. It is an acceptor for every slot, a proposer when it leads (the same
//! `proposer::Proposer` the models check), a learner of the log, and the `kv` state machine
//! applied in log order. A single node is a cluster of one.
//!
//! Sans-IO like the rest of the core: a client request, a peer's message or a timeout goes in; a
//! `ReplicaStep` comes out with the acceptor changes to persist, the messages for peers, the
//! answers for clients and the timer, to be applied in that order. The caller (the node's event
//! loop, the cluster model, or the deterministic simulator) owns the clock, the network and the
//! disk.
//!
//! How the pieces meet:
//! - A node that receives a client's command keeps it until the command is applied. If it leads,
//!   it proposes the command in the next free slot; otherwise it forwards it to the leader it
//!   knows (the proposer of the highest ballot it has seen).
//! - The leader tells every node each slot it learns is chosen (`Chosen`); a node that finds a
//!   hole below what it knows asks its peers (`CatchUp`) when its timer fires.
//! - The timer fires only while work is outstanding. If the log has not advanced since it was
//!   armed, the node assumes the leader is gone and campaigns (Phase 1 at a higher ballot); a
//!   preempted leader waits for its timer rather than duel the rival at once.
//! - A new leader fills any hole below the slots Phase 1 reported with a no-op, so that no
//!   node's log stalls on a slot nobody will ever propose.
//! - A client may also ask for a value in a named slot (the course's `multi_paxos_propose`):
//!   the value is proposed there (by the leader, to which others forward it), and every client
//!   that asked about the slot, wherever, is answered with what the slot chose.

use crate::protocol::acceptor::{Acceptor, Change};
use crate::protocol::ballot::{Ballot, Proposal};
use crate::protocol::flaw::Flaw;
use crate::protocol::kv::{KvOp, KvResult, KvStore};
use crate::protocol::message::{Message, Role};
use crate::protocol::proposer::{Outgoing, Proposer, ProposerConfig, ProposerInput, ProposerStep};
use crate::protocol::rules::TimerChange;
use crate::protocol::slots::{Slot, SlotMap};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::sync::Arc;

/// A node's position in the cluster's `node_ids`; also its acceptor index and ballot tag.
pub type NodeIndex = usize;

/// A client request, unique in the cluster, so that a command forwarded or proposed twice is
/// applied once.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequestId {
    /// Shared, not copied, as the request travels and is held in many states of a model.
    pub client: Arc<str>,
    pub seq: u64,
}

/// What a slot of the log holds.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Entry {
    Command {
        id: RequestId,
        op: KvOp,
    },
    /// A value a client asked for in a named slot, as JSON text (the core does not parse it).
    Value {
        json: String,
    },
    /// A new leader's filler for a hole below slots already in use.
    Noop,
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.client, self.seq)
    }
}

/// `c1#1 write 0=1`, `no-op`: how traces show an entry.
impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Command { id, op } => write!(f, "{id} {op}"),
            Entry::Value { json } => f.write_str(json),
            Entry::Noop => f.write_str("no-op"),
        }
    }
}

/// Messages between nodes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PeerMessage {
    Paxos(Message<Entry>),
    /// A node that does not lead hands its client's command to the leader it knows.
    Forward {
        id: RequestId,
        op: KvOp,
    },
    /// The same for a value a client asked for in a named slot.
    ForwardSlot {
        slot: Slot,
        json: String,
    },
    /// A slot's chosen entry, from a node that knows it.
    Chosen {
        slot: Slot,
        entry: Entry,
    },
    /// A node with a hole in its log asks for the chosen entries from `from_slot` on.
    CatchUp {
        from_slot: Slot,
    },
    /// The answer to a catch-up request: chosen entries from the slot asked for, in slot order,
    /// at most `CATCH_UP_BATCH` of them (a node still behind asks again).
    CatchUpReply {
        entries: Vec<(Slot, Entry)>,
    },
}

impl PeerMessage {
    /// The message in protocol words, ballots naming their node: `Accept(slot 0, b=1.n2, ...)`.
    pub fn describe(&self) -> String {
        let entries = |entries: &[(Slot, Entry)]| {
            let entries: Vec<String> = entries
                .iter()
                .map(|(slot, entry)| format!("slot {slot}: {entry}"))
                .collect();
            entries.join(", ")
        };
        match self {
            PeerMessage::Paxos(message) => message.describe_as(true, 'n'),
            PeerMessage::Forward { id, op } => format!("Forward({id} {op})"),
            PeerMessage::ForwardSlot { slot, json } => format!("ForwardSlot(slot {slot}, {json})"),
            PeerMessage::Chosen { slot, entry } => format!("Chosen(slot {slot}, {entry})"),
            PeerMessage::CatchUp { from_slot } => format!("CatchUp(slots {from_slot}..)"),
            PeerMessage::CatchUpReply { entries: chosen } => {
                format!("CatchUpReply([{}])", entries(chosen))
            }
        }
    }
}

/// What a replica did with one input, to be applied in field order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReplicaStep {
    /// The acceptor's changes to make durable, in order, before any message leaves.
    pub persist: Vec<Change<Entry>>,
    pub send: Vec<(NodeIndex, PeerMessage)>,
    /// Answers for this node's clients, in the order their commands were applied.
    pub replies: Vec<(RequestId, KvResult)>,
    /// Every acceptance this node's acceptor made, for observers: a simulator's ghost history
    /// decides what is chosen from these, independently of what any node learned.
    pub acceptances: Vec<(Slot, Proposal<Entry>)>,
    /// Answers for clients that asked for a named slot: the slot's chosen entry.
    pub slot_replies: Vec<(RequestId, SlotDecision)>,
    pub timer: TimerChange,
    /// Peer messages dropped because they contradict what this node knows, and why: in Paxos
    /// they cannot happen, so a peer that sends one has lost its disk, or the line was forged
    /// or corrupted. Worth a log line each; the node serves on.
    pub rejected: Vec<String>,
}

/// How far beyond its applied log a node accepts a named slot.
pub const SLOT_WINDOW: Slot = 1_000;

/// The most entries one catch-up answer carries: a node far behind catches up batch by batch,
/// and no single message grows with the log.
pub const CATCH_UP_BATCH: usize = 256;

/// A named slot beyond `SLOT_WINDOW`: `slot_max` is the highest this node accepts now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotTooFar {
    pub slot_max: Slot,
}

/// What a named slot chose, as a client that asked for it is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotDecision {
    pub slot: Slot,
    pub entry: Entry,
    /// This node's leader got the slot chosen by Phase 2 alone.
    pub phase1_skipped: bool,
}

/// What never changes about a replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReplicaConfig {
    pub index: NodeIndex,
    pub cluster_size: usize,
    pub flaw: Flaw,
    /// The highest round this node may start a ballot in: unbounded in the node, bounded in
    /// the cluster model so that its state space is finite, through restarts too.
    pub round_cap: u64,
}

impl ReplicaConfig {
    /// A node of a real cluster: no flaw, no bound on its ballots.
    pub fn node(index: NodeIndex, cluster_size: usize) -> Self {
        ReplicaConfig {
            index,
            cluster_size,
            flaw: Flaw::None,
            round_cap: u64::MAX,
        }
    }

    /// The proposer's settings: deference to a rival that preempted it.
    pub fn proposer(&self) -> ProposerConfig {
        ProposerConfig {
            index: u32::try_from(self.index).expect("a small cluster"),
            acceptor_count: self.cluster_size,
            rounds_max: u32::MAX,
            round_cap: self.round_cap,
            flaw: self.flaw,
            defer_to_rival: true,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Replica {
    pub config: ReplicaConfig,
    pub acceptor: Acceptor<Entry>,
    pub proposer: Proposer<Entry>,
    /// The chosen entries this node has learned.
    pub log: SlotMap<Entry>,
    /// Every slot below this one is applied to `store`.
    pub applied_below: Slot,
    pub store: KvStore,
    pub applied: BTreeSet<RequestId>,
    /// Commands this node must see applied: its own clients' and those forwarded to it.
    pub unplaced: BTreeMap<RequestId, KvOp>,
    /// Requests whose client waits on this node for the answer.
    pub clients: BTreeSet<RequestId>,
    pub known_leader: Option<NodeIndex>,
    /// Where each unplaced command was last forwarded, so that it is sent once per leader (and
    /// again after a timeout, in case the message was lost).
    pub forwarded: BTreeMap<RequestId, NodeIndex>,
    /// Values clients asked for in named slots not yet chosen, and where each was forwarded.
    pub slot_requests: BTreeMap<Slot, String>,
    pub slots_forwarded: BTreeMap<Slot, NodeIndex>,
    /// Clients waiting for a named slot's decision.
    pub slot_waiters: BTreeMap<Slot, Vec<RequestId>>,
    /// Slots this node's proposer got chosen without Phase 1.
    pub phase1_skipped: BTreeSet<Slot>,
    pub highest_ballot_seen: Option<Ballot>,
    /// The timer is running, and `applied_below` when it was armed (to tell progress).
    pub timer_armed_at: Option<Slot>,
}

impl Replica {
    /// A node with nothing but `persisted` acceptor state: a fresh start, or a restart that kept
    /// only what was written to disk.
    pub fn new(config: ReplicaConfig, persisted: Option<Acceptor<Entry>>) -> Self {
        assert!(
            config.index < config.cluster_size,
            "node {} outside a cluster of {}",
            config.index,
            config.cluster_size
        );
        let acceptor = persisted.unwrap_or_default();
        let mut proposer = Proposer::new();
        proposer.resume_above(acceptor.promised);
        Replica {
            config,
            acceptor,
            proposer,
            log: SlotMap::new(),
            applied_below: 0,
            store: KvStore::default(),
            applied: BTreeSet::new(),
            unplaced: BTreeMap::new(),
            clients: BTreeSet::new(),
            known_leader: None,
            forwarded: BTreeMap::new(),
            slot_requests: BTreeMap::new(),
            slots_forwarded: BTreeMap::new(),
            slot_waiters: BTreeMap::new(),
            phase1_skipped: BTreeSet::new(),
            highest_ballot_seen: None,
            timer_armed_at: None,
        }
    }

    pub fn index(&self) -> NodeIndex {
        self.config.index
    }

    pub fn cluster_size(&self) -> usize {
        self.config.cluster_size
    }

    /// A client asks this node to run `op`.
    pub fn on_request(&mut self, id: RequestId, op: KvOp) -> ReplicaStep {
        if !self.applied.contains(&id) {
            self.clients.insert(id.clone());
            self.unplaced.insert(id, op);
        }
        self.finish(ReplicaStep::default())
    }

    /// A client asks for `json` in `slot`; it is answered with whatever the slot chooses (at
    /// once if it is known chosen: no round runs, so Phase 1 counts as skipped). A slot more
    /// than `SLOT_WINDOW` beyond this node's applied log is refused: lin-kv commands go after the
    /// highest slot in use, the leader fills every hole below a command, and a client must not
    /// make it propose a billion no-ops.
    pub fn on_propose(
        &mut self,
        id: RequestId,
        slot: Slot,
        json: String,
    ) -> Result<ReplicaStep, SlotTooFar> {
        let slot_max = self.applied_below.saturating_add(SLOT_WINDOW);
        if slot > slot_max {
            return Err(SlotTooFar { slot_max });
        }
        let mut step = ReplicaStep::default();
        match self.log.get(slot) {
            Some(entry) => {
                let decision = SlotDecision {
                    slot,
                    entry: entry.clone(),
                    phase1_skipped: true,
                };
                step.slot_replies.push((id, decision));
            }
            None => {
                self.slot_waiters.entry(slot).or_default().push(id);
                self.slot_requests.entry(slot).or_insert(json);
            }
        }
        Ok(self.finish(step))
    }

    /// Every ballot in `message` was started by a node of this cluster.
    fn ballots_are_ours(&self, message: &PeerMessage) -> bool {
        let PeerMessage::Paxos(message) = message else {
            return true;
        };
        message
            .ballots()
            .iter()
            .all(|ballot| (ballot.proposer as usize) < self.cluster_size())
    }

    fn slot_decision(&self, slot: Slot, entry: Entry) -> SlotDecision {
        SlotDecision {
            slot,
            entry,
            phase1_skipped: self.phase1_skipped.contains(&slot),
        }
    }

    /// Whether `message` from `from` would change nothing here and send nothing: news of
    /// decisions this node has learned or commands it holds, replies its proposer has counted
    /// or moved past, a catch-up request it has nothing for. Each stays so while the node runs
    /// (learned entries stay learned, ballots only grow), so a caller (the cluster model) may
    /// drop such a message unseen. A restart forgets the log and the commands, though: only
    /// `ignores_for_good` survives it. `on_peer` checks the claim in debug builds.
    pub fn ignores(&self, from: NodeIndex, message: &PeerMessage) -> bool {
        let learned = |slot: &Slot, entry: &Entry| self.log.get(*slot) == Some(entry);
        match message {
            PeerMessage::Chosen { slot, entry } => learned(slot, entry),
            PeerMessage::CatchUpReply { entries } => {
                entries.iter().all(|(slot, entry)| learned(slot, entry))
            }
            PeerMessage::Forward { id, op } => {
                self.applied.contains(id) || self.unplaced.get(id) == Some(op) || self.in_log(id)
            }
            PeerMessage::ForwardSlot { slot, json } => {
                self.log.contains(*slot) || self.slot_requests.get(slot) == Some(json)
            }
            PeerMessage::CatchUp { from_slot } => self.catch_up_entries(*from_slot).is_empty(),
            PeerMessage::Paxos(_) => self.ignores_for_good(from, message),
        }
    }

    /// The part of `ignores` that a restart does not change: replies to ballots this node's
    /// proposer has counted or moved past (it resumes above them), naming no ballot above those
    /// it has seen.
    pub fn ignores_for_good(&self, from: NodeIndex, message: &PeerMessage) -> bool {
        let PeerMessage::Paxos(reply) = message else {
            return false;
        };
        match reply {
            Message::Promise { .. } | Message::Accepted { .. } => {
                self.proposer.ignores(from, reply)
            }
            Message::PrepareRefused { promised, .. } | Message::AcceptRefused { promised, .. } => {
                self.proposer.ignores(from, reply) && self.has_seen(*promised)
            }
            Message::Prepare { .. } | Message::Accept { .. } => false,
        }
    }

    /// Seeing `ballot` would teach this node nothing.
    fn has_seen(&self, ballot: Ballot) -> bool {
        self.highest_ballot_seen.is_some_and(|seen| ballot <= seen)
            && self.proposer.highest_seen_round >= ballot.round
    }

    pub fn on_peer(&mut self, from: NodeIndex, message: PeerMessage) -> ReplicaStep {
        let ignored = cfg!(debug_assertions) && self.ignores(from, &message);
        let before = ignored.then(|| self.clone());
        let step = self.handle_peer(from, message);
        if let Some(before) = before {
            debug_assert!(
                *self == before && step == ReplicaStep::default(),
                "a message `ignores` passes over changed the replica: {before:?} became {self:?}"
            );
        }
        step
    }

    fn handle_peer(&mut self, from: NodeIndex, message: PeerMessage) -> ReplicaStep {
        assert!(
            from < self.cluster_size(),
            "message from unknown node {from}"
        );
        let mut step = ReplicaStep::default();
        if !self.ballots_are_ours(&message) {
            return step; // a ballot no node of this cluster can have started: not ours to act on
        }
        match message {
            PeerMessage::Paxos(message) => self.deliver(from, message, &mut step),
            PeerMessage::Forward { id, op } => {
                if !self.applied.contains(&id) && !self.in_log(&id) {
                    self.unplaced.insert(id, op);
                }
            }
            PeerMessage::ForwardSlot { slot, json } => {
                if !self.log.contains(slot) {
                    self.slot_requests.entry(slot).or_insert(json);
                }
            }
            PeerMessage::Chosen { slot, entry } => {
                self.learn_from_peer(from, slot, entry, &mut step)
            }
            PeerMessage::CatchUpReply { entries } => {
                for (slot, entry) in entries {
                    self.learn_from_peer(from, slot, entry, &mut step);
                }
            }
            PeerMessage::CatchUp { from_slot } => {
                let entries = self.catch_up_entries(from_slot);
                if !entries.is_empty() {
                    step.send
                        .push((from, PeerMessage::CatchUpReply { entries }));
                }
            }
        }
        self.finish(step)
    }

    /// What a catch-up request from `from_slot` is answered with: this node's chosen entries
    /// from there, one batch of them.
    fn catch_up_entries(&self, from_slot: Slot) -> Vec<(Slot, Entry)> {
        if self.config.flaw == Flaw::CatchUpFromAccepted {
            // The flaw: what this node's acceptor accepted, chosen or not.
            return self
                .acceptor
                .accepted
                .from_slot(from_slot)
                .map(|(slot, proposal)| (slot, proposal.value.clone()))
                .take(CATCH_UP_BATCH)
                .collect();
        }
        self.log
            .from_slot(from_slot)
            .map(|(slot, entry)| (slot, entry.clone()))
            .take(CATCH_UP_BATCH)
            .collect()
    }

    /// A peer says `slot` chose `entry`. One that contradicts what this node learned cannot
    /// happen in Paxos: a peer that says so lost its disk, or the line was forged or corrupted,
    /// so the message is dropped with a note, and the node serves on.
    fn learn_from_peer(
        &mut self,
        from: NodeIndex,
        slot: Slot,
        entry: Entry,
        step: &mut ReplicaStep,
    ) {
        match self.log.get(slot) {
            Some(known) if *known != entry => step.rejected.push(format!(
                "node {from} says slot {slot} chose {entry:?}, but this node learned {known:?}: \
                 impossible in Paxos, so the message is dropped"
            )),
            _ => self.learn(slot, entry, step),
        }
    }

    /// The timer fired. If the log moved since it was armed, the leader is alive: wait again.
    /// Otherwise take over (or, leading, retry at a higher ballot), and ask for missing slots.
    pub fn on_timeout(&mut self) -> ReplicaStep {
        let mut step = ReplicaStep::default();
        let armed_at = self.timer_armed_at.take();
        // A Forward may have been lost: send again.
        self.forwarded.clear();
        self.slots_forwarded.clear();
        if self.outstanding() && armed_at == Some(self.applied_below) {
            let own_ballot = self.proposer.current_ballot();
            let rival_is_ahead = own_ballot < self.highest_ballot_seen
                && self
                    .known_leader
                    .is_some_and(|leader| leader != self.index());
            if own_ballot.is_some() && !self.proposer.is_leading() && rival_is_ahead {
                // Stuck preparing below a rival's ballot (its refusals may be lost): stand down
                // and forward to the rival; if it is gone too, the next timeout campaigns.
                self.proposer.stand_down();
            } else {
                let input = if self.proposer.is_leading() {
                    ProposerInput::Timeout
                } else {
                    ProposerInput::Campaign
                };
                let proposer_step = self.proposer.step(&self.config.proposer(), input);
                self.drive(proposer_step, &mut step);
            }
            if self.has_hole() {
                let from_slot = self.applied_below;
                for peer in self.peers() {
                    step.send.push((peer, PeerMessage::CatchUp { from_slot }));
                }
            }
        }
        self.finish(step)
    }

    /// The log's longest prefix without holes, as far as this node knows it.
    pub fn chosen_prefix(&self) -> impl Iterator<Item = (Slot, &Entry)> {
        self.log
            .iter()
            .enumerate()
            .take_while(|(position, (slot, _))| *position as Slot == *slot)
            .map(|(_, entry)| entry)
    }

    fn peers(&self) -> impl Iterator<Item = NodeIndex> + '_ {
        (0..self.cluster_size()).filter(move |node| *node != self.index())
    }

    fn leads_or_campaigns(&self) -> bool {
        self.proposer.current_ballot().is_some()
    }

    fn in_log(&self, id: &RequestId) -> bool {
        self.log
            .values()
            .any(|entry| matches!(entry, Entry::Command { id: logged, .. } if logged == id))
    }

    fn has_hole(&self) -> bool {
        self.log
            .last_slot()
            .is_some_and(|last| last >= self.applied_below)
            && !self.log.contains(self.applied_below)
    }

    /// Work that needs the timer: a command not yet applied, a named slot not yet chosen, a slot
    /// in flight, a hole.
    fn outstanding(&self) -> bool {
        !self.unplaced.is_empty()
            || !self.slot_requests.is_empty()
            || !self.proposer.in_flight.is_empty()
            || self.has_hole()
    }

    /// Without a ballot of its own: forward unplaced commands to the leader it knows, or
    /// campaign if it knows none (or believes it is the leader itself, after a restart).
    fn forward_or_campaign(&mut self, step: &mut ReplicaStep) {
        if self.unplaced.is_empty() && self.slot_requests.is_empty() {
            return;
        }
        match self.known_leader {
            Some(leader) if leader != self.index() => {
                for (id, op) in &self.unplaced {
                    if self.forwarded.get(id) != Some(&leader) {
                        let forwarded_id = if self.config.flaw == Flaw::ForwardRenamesRequest {
                            // The flaw: the command travels under a name of this node's making.
                            RequestId {
                                client: format!("via-n{}", self.index() + 1).into(),
                                seq: id.seq,
                            }
                        } else {
                            id.clone()
                        };
                        let forward = PeerMessage::Forward {
                            id: forwarded_id,
                            op: op.clone(),
                        };
                        step.send.push((leader, forward));
                        self.forwarded.insert(id.clone(), leader);
                    }
                }
                for (slot, json) in &self.slot_requests {
                    if self.slots_forwarded.get(slot) != Some(&leader) {
                        let forward = PeerMessage::ForwardSlot {
                            slot: *slot,
                            json: json.clone(),
                        };
                        step.send.push((leader, forward));
                        self.slots_forwarded.insert(*slot, leader);
                    }
                }
            }
            _ => {
                // Campaign with the first request: its Phase 1 is the one that establishes the
                // ballot (the course reports `phase1_skipped: false` for it); the others follow
                // by Phase 2 alone once it stands.
                let config = self.config.proposer();
                // A command its proposer already holds (a campaign that could not start) is
                // not asked for again in another slot.
                let requested = |id: &RequestId| {
                    self.proposer
                        .requests
                        .values()
                        .any(|entry| matches!(entry, Entry::Command { id: held, .. } if held == id))
                };
                let first = match (
                    self.slot_requests.iter().next(),
                    self.unplaced.iter().next(),
                ) {
                    (Some((slot, json)), _) => Some((*slot, Entry::Value { json: json.clone() })),
                    (None, Some((id, op))) if !requested(id) => Some((
                        self.proposer.next_free_slot(),
                        Entry::Command {
                            id: id.clone(),
                            op: op.clone(),
                        },
                    )),
                    (None, _) => None,
                };
                let input = match first {
                    Some((slot, value)) => ProposerInput::Propose { slot, value },
                    None => ProposerInput::Campaign,
                };
                let proposer_step = self.proposer.step(&config, input);
                self.drive(proposer_step, step);
            }
        }
    }

    /// A Paxos message from `from` (possibly this node itself).
    fn deliver(&mut self, from: NodeIndex, message: Message<Entry>, step: &mut ReplicaStep) {
        let mut queue = VecDeque::from([(from, message)]);
        while let Some((from, message)) = queue.pop_front() {
            for (to, reply) in self.handle_paxos(from, message, step) {
                if to == self.index() {
                    queue.push_back((self.index(), reply));
                } else {
                    step.send.push((to, PeerMessage::Paxos(reply)));
                }
            }
        }
    }

    /// One Paxos message to the role it is for; returns the messages that role produces.
    fn handle_paxos(
        &mut self,
        from: NodeIndex,
        message: Message<Entry>,
        step: &mut ReplicaStep,
    ) -> Vec<(NodeIndex, Message<Entry>)> {
        // A takeover must go above every ballot this node has heard of; the proposer of the
        // highest is the leader to forward to.
        match &message {
            Message::Prepare { ballot, .. } => self.saw_ballot(*ballot),
            Message::Accept { proposal, .. } => self.saw_ballot(proposal.ballot),
            Message::PrepareRefused { promised, .. } | Message::AcceptRefused { promised, .. } => {
                self.saw_ballot(*promised)
            }
            Message::Promise { .. } | Message::Accepted { .. } => {}
        }
        match message.role() {
            Role::Acceptor => {
                let acceptor_step = self
                    .acceptor
                    .step(message, self.config.flaw)
                    .expect("a request for the acceptor");
                if let Some(change) = acceptor_step.change {
                    if let Change::Accepted { slot, proposal } = &change {
                        step.acceptances.push((*slot, proposal.clone()));
                    }
                    step.persist.push(change);
                }
                vec![(from, acceptor_step.reply)]
            }
            Role::Proposer => {
                let input = ProposerInput::Reply { from, message };
                let proposer_step = self.proposer.step(&self.config.proposer(), input);
                self.proposer_messages(proposer_step, step)
            }
        }
    }

    /// Applies a proposer step: learns its decisions, and returns its messages per recipient.
    fn proposer_messages(
        &mut self,
        proposer_step: ProposerStep<Entry>,
        step: &mut ReplicaStep,
    ) -> Vec<(NodeIndex, Message<Entry>)> {
        for decision in proposer_step.decided {
            if decision.phase1_skipped {
                self.phase1_skipped.insert(decision.slot);
            }
            let entry = decision.proposal.value;
            for peer in self.peers() {
                let chosen = PeerMessage::Chosen {
                    slot: decision.slot,
                    entry: entry.clone(),
                };
                step.send.push((peer, chosen));
            }
            self.learn(decision.slot, entry, step);
        }
        if self.proposer.is_leading() && self.proposer.current_ballot() >= self.highest_ballot_seen
        {
            self.known_leader = Some(self.index());
        }
        let mut out = Vec::new();
        for Outgoing { to, message } in proposer_step.outgoing {
            for node in (0..self.cluster_size()).filter(|node| to.includes(*node)) {
                out.push((node, message.clone()));
            }
        }
        out
    }

    /// Runs a proposer step started by this node (a campaign, a retry, a proposal).
    fn drive(&mut self, proposer_step: ProposerStep<Entry>, step: &mut ReplicaStep) {
        for (to, message) in self.proposer_messages(proposer_step, step) {
            if to == self.index() {
                self.deliver(self.index(), message, step);
            } else {
                step.send.push((to, PeerMessage::Paxos(message)));
            }
        }
    }

    fn saw_ballot(&mut self, ballot: Ballot) {
        self.proposer.resume_above(Some(ballot)); // a takeover must go above every ballot seen
        if self.highest_ballot_seen.is_none_or(|seen| ballot > seen) {
            self.highest_ballot_seen = Some(ballot);
            self.known_leader = Some(ballot.proposer as NodeIndex);
        }
    }

    /// `slot` is chosen with `entry`: record it, and apply every slot that is now ready.
    fn learn(&mut self, slot: Slot, entry: Entry, step: &mut ReplicaStep) {
        if let Some(known) = self.log.get(slot) {
            assert_eq!(*known, entry, "slot {slot} learned with two entries");
            return;
        }
        self.log.insert(slot, entry.clone());
        self.proposer.learn(slot);
        self.slot_requests.remove(&slot);
        self.slots_forwarded.remove(&slot);
        for id in self.slot_waiters.remove(&slot).unwrap_or_default() {
            let decision = self.slot_decision(slot, entry.clone());
            step.slot_replies.push((id, decision));
        }
        while let Some(entry) = self.log.get(self.applied_below) {
            if let Entry::Command { id, op } = entry {
                if self.applied.insert(id.clone()) {
                    let result = self.store.apply(op);
                    if self.clients.remove(id) {
                        step.replies.push((id.clone(), result));
                    }
                }
                self.unplaced.remove(id);
                self.forwarded.remove(id);
            }
            self.applied_below += 1;
        }
    }

    /// Every handler ends here: a leader places what is unplaced and fills holes, a node without
    /// a ballot forwards it, and the timer follows whether work is outstanding.
    fn finish(&mut self, mut step: ReplicaStep) -> ReplicaStep {
        // Settled so that a second `finish` would do nothing: placing can end in preemption
        // (by this node's own acceptor), after which the commands go to the rival; and a
        // campaign can win at once (a cluster of one), after which the rest are placed.
        if self.proposer.is_leading() {
            self.place_commands(&mut step);
        }
        if !self.leads_or_campaigns() {
            self.forward_or_campaign(&mut step);
            if self.proposer.is_leading() {
                self.place_commands(&mut step);
            }
        }
        match (self.outstanding(), self.timer_armed_at) {
            (true, None) => {
                self.timer_armed_at = Some(self.applied_below);
                step.timer = TimerChange::Arm;
            }
            (false, Some(_)) => {
                self.timer_armed_at = None;
                step.timer = TimerChange::Cancel;
            }
            _ => {}
        }
        step
    }

    /// The leader proposes every value asked for in a named slot, every command not yet in the
    /// log nor in one of its slots (each in the next free slot), and then a no-op in every hole
    /// below a command: the state machine applies the log in order, so a hole below a command
    /// would stall it. Holes below values asked for in named slots stay open for whoever asks for
    /// them (the course's slots are independent instances). In that order, so that one pass
    /// leaves nothing for the next: holes are looked for once every command has its slot.
    fn place_commands(&mut self, step: &mut ReplicaStep) {
        let config = self.config.proposer();
        let named: Vec<(Slot, String)> = self
            .slot_requests
            .iter()
            .filter(|(slot, _)| !self.slot_taken(**slot))
            .map(|(slot, json)| (*slot, json.clone()))
            .collect();
        for (slot, json) in named {
            if !self.proposer.is_leading() {
                return; // preempted on the way: the timer takes it from here
            }
            let value = Entry::Value { json };
            let proposer_step = self
                .proposer
                .step(&config, ProposerInput::Propose { slot, value });
            self.drive(proposer_step, step);
        }
        for (id, op) in self.waiting_commands() {
            if !self.proposer.is_leading() {
                return;
            }
            if self.config.flaw == Flaw::AcknowledgeBeforeChosen && self.clients.remove(&id) {
                // The flaw: the client hears the answer the command would have now, before
                // any acceptor has even seen it.
                let answer = self.store.clone().apply(&op);
                step.replies.push((id.clone(), answer));
            }
            let slot = self.proposer.next_free_slot();
            let value = Entry::Command { id, op };
            let proposer_step = self
                .proposer
                .step(&config, ProposerInput::Propose { slot, value });
            self.drive(proposer_step, step);
        }
        let holes: Vec<Slot> = match self.highest_command_slot() {
            Some(highest) => (self.proposer.first_unchosen_slot()..highest)
                .filter(|slot| !self.slot_taken(*slot))
                .collect(),
            None => Vec::new(),
        };
        for slot in holes {
            if !self.proposer.is_leading() {
                return;
            }
            if self.slot_taken(slot) {
                continue; // decided on the way (a self-delivered vote completed it)
            }
            let value = Entry::Noop;
            let proposer_step = self
                .proposer
                .step(&config, ProposerInput::Propose { slot, value });
            self.drive(proposer_step, step);
        }
    }

    /// The slot is chosen, asked for, or in flight at this node's proposer.
    fn slot_taken(&self, slot: Slot) -> bool {
        let proposer = &self.proposer;
        proposer.chosen.contains(slot)
            || proposer.requests.contains(slot)
            || proposer.in_flight.contains(slot)
    }

    /// Commands this node must see applied that are neither in the log nor in one of its
    /// proposer's slots.
    fn waiting_commands(&self) -> Vec<(RequestId, KvOp)> {
        let proposer = &self.proposer;
        let proposed: BTreeSet<&RequestId> = proposer
            .requests
            .values()
            .chain(proposer.in_flight.values().map(|slot| &slot.proposal.value))
            .filter_map(|entry| match entry {
                Entry::Command { id, .. } => Some(id),
                Entry::Value { .. } | Entry::Noop => None,
            })
            .collect();
        self.unplaced
            .iter()
            .filter(|(id, _)| !proposed.contains(id) && !self.in_log(id))
            .map(|(id, op)| (id.clone(), op.clone()))
            .collect()
    }

    /// The highest slot holding a command, learned or at this node's proposer.
    fn highest_command_slot(&self) -> Option<Slot> {
        let is_command = |entry: &Entry| matches!(entry, Entry::Command { .. });
        let proposer = &self.proposer;
        let learned = self.log.iter().filter(|(_, entry)| is_command(entry));
        let requested = proposer
            .requests
            .iter()
            .filter(|(_, entry)| is_command(entry));
        let in_flight = proposer
            .in_flight
            .iter()
            .filter(|(_, in_flight)| is_command(&in_flight.proposal.value))
            .map(|(slot, in_flight)| (slot, &in_flight.proposal.value));
        learned
            .chain(requested)
            .chain(in_flight)
            .map(|(slot, _)| slot)
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(index: NodeIndex, cluster_size: usize) -> ReplicaConfig {
        ReplicaConfig::node(index, cluster_size)
    }

    fn request(client: &str, seq: u64) -> RequestId {
        RequestId {
            client: client.into(),
            seq,
        }
    }

    /// Delivers every message at once, in order, until the cluster is quiet.
    fn settle(replicas: &mut [Replica], mut pending: Vec<(NodeIndex, NodeIndex, PeerMessage)>) {
        while let Some((from, to, message)) = pending.pop() {
            let step = replicas[to].on_peer(from, message);
            pending.extend(step.send.into_iter().map(|(dest, m)| (to, dest, m)));
        }
    }

    #[test]
    fn a_command_sent_to_a_follower_is_forwarded_applied_everywhere_and_answered() {
        let mut replicas: Vec<Replica> = (0..3).map(|i| Replica::new(config(i, 3), None)).collect();
        // n1 takes the lead with a first write.
        let step = replicas[0].on_request(request("c1", 1), KvOp::Write { key: 1, value: 7 });
        let first_replies = step.replies.clone();
        settle(
            &mut replicas,
            step.send.into_iter().map(|(to, m)| (0, to, m)).collect(),
        );
        assert_eq!(first_replies, vec![]);
        assert_eq!(replicas[0].applied_below, 1);
        // n2 now knows n1 leads, and forwards a read to it.
        let step = replicas[1].on_request(request("c2", 1), KvOp::Read { key: 1 });
        assert!(matches!(step.send[..], [(0, PeerMessage::Forward { .. })]));
        settle(
            &mut replicas,
            step.send.into_iter().map(|(to, m)| (1, to, m)).collect(),
        );
        for replica in &replicas {
            assert_eq!(replica.applied_below, 2, "every log has both slots");
        }
        assert!(replicas[1].clients.is_empty(), "n2's client was answered");
    }

    #[test]
    fn a_command_behind_a_hole_gets_the_hole_filled_with_a_noop() {
        let mut replicas: Vec<Replica> = (0..3).map(|i| Replica::new(config(i, 3), None)).collect();
        let step = replicas[0]
            .on_propose(request("c1", 1), 2, "\"x\"".into())
            .expect("within the window");
        settle(
            &mut replicas,
            step.send.into_iter().map(|(to, m)| (0, to, m)).collect(),
        );
        assert_eq!(replicas[0].log.slots().collect::<Vec<_>>(), [2]);
        // A write lands after slot 2; slots 0 and 1 would stall the store, so they get no-ops.
        let step = replicas[0].on_request(request("c2", 1), KvOp::Write { key: 1, value: 5 });
        settle(
            &mut replicas,
            step.send.into_iter().map(|(to, m)| (0, to, m)).collect(),
        );
        for replica in &replicas {
            assert_eq!(replica.log.get(0), Some(&Entry::Noop));
            assert_eq!(replica.log.get(1), Some(&Entry::Noop));
            assert_eq!(replica.applied_below, 4, "the write in slot 3 is applied");
        }
    }

    #[test]
    fn a_single_node_campaigns_with_its_first_request_and_answers_at_once() {
        let mut replica = Replica::new(config(0, 1), None);
        let step = replica
            .on_propose(request("c1", 1), 1, "\"cmd1\"".into())
            .expect("within the window");
        assert_eq!(step.slot_replies.len(), 1);
        assert!(
            !step.slot_replies[0].1.phase1_skipped,
            "its Phase 1 ran for it"
        );
        let step = replica
            .on_propose(request("c1", 2), 2, "\"cmd2\"".into())
            .expect("within the window");
        assert!(step.slot_replies[0].1.phase1_skipped);
        let step = replica.on_request(request("c2", 1), KvOp::Write { key: 1, value: 5 });
        assert_eq!(
            step.replies,
            vec![(request("c2", 1), KvResult::WriteOk)],
            "no timer wait"
        );
    }

    #[test]
    fn two_clients_asking_different_values_for_one_slot_both_hear_the_chosen_one() {
        let mut replicas: Vec<Replica> = (0..3).map(|i| Replica::new(config(i, 3), None)).collect();
        let mut pending = Vec::new();
        let mut answers = Vec::new();
        for (node, client, value) in [(0, "c1", "\"x\""), (2, "c2", "\"y\"")] {
            let step = replicas[node]
                .on_propose(request(client, 1), 3, value.into())
                .expect("slot 3 is within the window");
            answers.extend(step.slot_replies);
            pending.extend(step.send.into_iter().map(|(to, m)| (node, to, m)));
        }
        while let Some((from, to, message)) = pending.pop() {
            let step = replicas[to].on_peer(from, message);
            answers.extend(step.slot_replies);
            pending.extend(step.send.into_iter().map(|(dest, m)| (to, dest, m)));
        }
        assert_eq!(answers.len(), 2, "{answers:?}");
        assert_eq!(answers[0].1.entry, answers[1].1.entry, "one value per slot");
        assert!(matches!(answers[0].1.entry, Entry::Value { .. }));
        for replica in &replicas {
            assert_eq!(replica.log.get(3), Some(&answers[0].1.entry));
            assert_eq!(
                replica.log.len(),
                1,
                "slots 0 to 2 stay open: no command waits behind them"
            );
        }
    }
}
