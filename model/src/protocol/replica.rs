//! A replica of a key-value store replicated by Multi-Paxos: the roles every node of a cluster
//! plays at once. It is an acceptor for every slot, a proposer when it leads (the same
//! `proposer::Proposer` the models check), a learner of the log, and the `kv` state machine
//! applied in log order. A single node is a cluster of one.
//!
//! Sans-IO like the rest of the core: a client request, a peer's message or a timeout goes in; a
//! `ReplicaStep` comes out with the records to persist (`durable`), the messages for peers, the
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
//!   armed, a node with a client's request to place assumes the leader is gone and campaigns
//!   (Phase 1 at a higher ballot); a leader sends its Accepts again at its own ballot (a new
//!   ballot would only preempt its own Accepts in flight); a node whose only trouble is a hole
//!   asks its peers for it; a preempted leader waits for its timer rather than duel the rival.
//! - A new leader fills any hole below the slots Phase 1 reported with a no-op, so that no
//!   node's log stalls on a slot nobody will ever propose.
//! - A client may also ask for a value in a named slot (the course's `multi_paxos_propose`):
//!   the value is proposed there (by the leader, to which others forward it), and every client
//!   that asked about the slot, wherever, is answered with what the slot chose.
//!
//! What survives a restart (`durable`): the acceptor's promises and acceptances, the learned log,
//! and whether the acceptor votes. A restarted replica replays its learned log (`recover`), so
//! its proposer's Phase 1 starts at the first slot it does not know chosen, and nothing below is
//! proposed again. Its acceptor keeps no acceptance below the applied log (`learn` argues why
//! that is safe): the log stays, and answers catch-ups, while the acceptor's state stays as
//! small as the slots still open.
//!
//! A node that finds no state where it keeps its state cannot tell a new cluster from a lost
//! disk, and a node that lost its disk may have promised or accepted and forgotten it; voting
//! again, it could help choose a second value for a slot. So it starts without a vote
//! (`Replica::without_state`): it neither promises nor accepts, and asks every other node
//! whether it holds any state (`Probe`). If none does, no ballot can have got this node's vote
//! (see `on_probe_reply` for the argument) and it votes; as soon as one does, it stays a learner
//! for good: it learns, catches up, forwards and answers, but never votes. Peers count quorums
//! as before: a node that does not vote simply never answers a Prepare or an Accept.

use crate::protocol::acceptor::{Acceptor, Change};
use crate::protocol::ballot::{Ballot, Proposal};
use crate::protocol::durable::{DurableState, Membership, Record};
use crate::protocol::entry::{Entry, RequestId};
use crate::protocol::flaw::Flaw;
use crate::protocol::kv::{KvOp, KvResult, KvStore};
use crate::protocol::message::{Message, Role};
use crate::protocol::proposer::{
    Outgoing, Proposer, ProposerConfig, ProposerInput, ProposerStep, Status,
};
use crate::protocol::quorum::AcceptorSet;
use crate::protocol::rules::TimerChange;
use crate::protocol::slots::{Slot, SlotMap};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A node's position in the cluster's `node_ids`; also its acceptor index and ballot tag.
pub type NodeIndex = usize;

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
    /// A node that started without state asks whether the recipient holds any. `nonce` is the
    /// asker's own for this start, so that an answer to an earlier life's probe is not counted.
    Probe {
        nonce: u64,
    },
    /// The answer: whether the node has promised, accepted or learned anything.
    ProbeReply {
        nonce: u64,
        holds_state: bool,
    },
}

impl PeerMessage {
    /// What kind of message it is, in a word or two, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            PeerMessage::Paxos(Message::Prepare { .. }) => "a Prepare",
            PeerMessage::Paxos(Message::Promise { .. }) => "a Promise",
            PeerMessage::Paxos(Message::PrepareRefused { .. }) => "a Prepare refusal",
            PeerMessage::Paxos(Message::Accept { .. }) => "an Accept",
            PeerMessage::Paxos(Message::Accepted { .. }) => "an Accepted",
            PeerMessage::Paxos(Message::AcceptRefused { .. }) => "an Accept refusal",
            PeerMessage::Forward { .. } => "a Forward",
            PeerMessage::ForwardSlot { .. } => "a ForwardSlot",
            PeerMessage::Chosen { .. } => "a Chosen",
            PeerMessage::CatchUp { .. } => "a CatchUp",
            PeerMessage::CatchUpReply { .. } => "a CatchUpReply",
            PeerMessage::Probe { .. } => "a Probe",
            PeerMessage::ProbeReply { .. } => "a ProbeReply",
        }
    }

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
            PeerMessage::Probe { nonce } => format!("Probe({nonce})"),
            PeerMessage::ProbeReply { nonce, holds_state } => {
                let state = if *holds_state { "state" } else { "no state" };
                format!("ProbeReply({nonce}, {state})")
            }
        }
    }
}

/// What a replica did with one input, to be applied in field order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReplicaStep {
    /// The records to make durable, in order, before any message leaves: the acceptor's changes,
    /// the entries learned, a settled membership.
    pub persist: Vec<Record>,
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
    pub rejected: Vec<(NodeIndex, String)>,
    /// The probe of a node that started without state settled, and why.
    pub settled: Option<Settled>,
}

/// Why the probe of a node that started without state settled as it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settled {
    /// A cluster of one has nobody to ask: it votes.
    ClusterOfOne,
    /// No other node held state after the probe went out: the cluster is new, and it votes.
    NewCluster,
    /// This node holds state: this one may have voted before and forgotten it, and never votes.
    PeerHoldsState(NodeIndex),
}

impl Settled {
    pub fn membership(self) -> Membership {
        match self {
            Settled::ClusterOfOne | Settled::NewCluster => Membership::Voter,
            Settled::PeerHoldsState(_) => Membership::Learner,
        }
    }

    /// The reason in words, for the operator; `name` names a node by its index.
    pub fn explain(self, name: impl Fn(NodeIndex) -> String) -> String {
        match self {
            Settled::ClusterOfOne => "it is a cluster of one".into(),
            Settled::NewCluster => {
                "no other node holds state: the cluster is new, and this node votes".into()
            }
            Settled::PeerHoldsState(peer) => format!(
                "{} holds acceptor state, so this node, started without any, may have promised \
                 or accepted before and forgotten it: it will never vote (it learns, forwards \
                 and answers); restore its disk, or start a fresh cluster",
                name(peer)
            ),
        }
    }
}

/// How far beyond its applied log a node accepts a named slot.
pub const SLOT_WINDOW: Slot = 1_000;

/// The most entries one catch-up answer carries: a node far behind catches up batch by batch,
/// and no single message grows with the log.
pub const CATCH_UP_BATCH: usize = 256;

/// How far beyond its applied log a node takes a peer's word about a slot (an entry chosen, an
/// Accept, a reported acceptance, a named slot). A node that fell further behind crosses the gap
/// by catching up, batch by batch; a forged or corrupt message cannot make it propose (or fill
/// with no-ops) a slot a billion entries away.
pub const PEER_SLOT_WINDOW: Slot = 1 << 16;

/// The highest ballot round a peer's message may name. Ballots never climb that high; a peer
/// that names more is forged or corrupt, and this node's next round must never overflow.
pub const ROUND_MAX: u64 = u64::MAX >> 2;

/// A named slot beyond `SLOT_WINDOW`: `slot_max` is the highest this node accepts now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotTooFar {
    pub slot_max: Slot,
}

/// A client's request still waiting on this node for its answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pending {
    /// A lin-kv command (its operation, unless this node no longer holds it).
    Command { id: RequestId, op: Option<KvOp> },
    /// A value asked for in a named slot that is not decided yet.
    Slot { id: RequestId, slot: Slot },
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
    /// A node of a real cluster: no flaw, and ballots up to the highest round a peer may name
    /// (`ROUND_MAX`), so that every ballot this node starts is one its peers take in. No honest
    /// cluster gets near it; a forged message that names it can push this node's ballots no
    /// higher, and the node then forwards to the leader it knows rather than campaign.
    pub fn node(index: NodeIndex, cluster_size: usize) -> Self {
        ReplicaConfig {
            index,
            cluster_size,
            flaw: Flaw::None,
            round_cap: ROUND_MAX,
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

/// Whether the acceptor votes, while the replica runs (`Membership` is what it persists).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Voting {
    Voter,
    /// Asking every other node whether it holds state; `without_state` are those that said it
    /// holds none, in answer to a probe with this start's `nonce`.
    Probing {
        nonce: u64,
        without_state: AcceptorSet,
    },
    Learner,
}

impl Voting {
    pub fn membership(&self) -> Membership {
        match self {
            Voting::Voter => Membership::Voter,
            Voting::Probing { .. } => Membership::Probing,
            Voting::Learner => Membership::Learner,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Replica {
    pub config: ReplicaConfig,
    pub voting: Voting,
    pub acceptor: Acceptor<Entry>,
    pub proposer: Proposer<Entry>,
    /// The chosen entries this node has learned.
    pub log: SlotMap<Entry>,
    /// Every slot below this one is applied to `store`.
    pub applied_below: Slot,
    pub store: KvStore,
    /// Every command applied, with what it returned: a client that asks again (its answer was
    /// lost, or it reuses an id) is told the same.
    pub applied: BTreeMap<RequestId, KvResult>,
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
    /// A slot a peer said is chosen, too far beyond the applied log to be taken in
    /// (`PEER_SLOT_WINDOW`): this node is behind and catches up until it passes it.
    pub chosen_beyond_window: Option<Slot>,
    /// Per peer, the probe this node last answered with "no state" (its nonce). The peer may
    /// ask again in the same life (the answer was lost, or it restarted while probing), and
    /// is told "no state" again even if this node has state by then (see `answer_probe`).
    pub probes_answered_empty: BTreeMap<NodeIndex, u64>,
}

impl Replica {
    /// A member of a new cluster, as its caller knows: a node that keeps no state (no
    /// `--data-dir`), or a model's first state.
    pub fn new(config: ReplicaConfig) -> Self {
        Replica::with_acceptor(config, Acceptor::new(), Voting::Voter)
    }

    /// A restart from what the replica persisted: its acceptor as it was, minus acceptances in
    /// slots it had learned (see `learn`), and its learned log replayed, so that the store is
    /// rebuilt and Phase 1 starts above every slot known chosen. A replica that was still
    /// probing when it stopped probes again, under `nonce`.
    pub fn recover(config: ReplicaConfig, state: DurableState, nonce: u64) -> Self {
        let voting = match state.membership {
            None | Some(Membership::Voter) => Voting::Voter,
            Some(Membership::Probing) => Voting::Probing {
                nonce,
                without_state: AcceptorSet::new(),
            },
            Some(Membership::Learner) => Voting::Learner,
        };
        // The acceptances below the learned log's gapless prefix go in one sweep, before the
        // replay: `learn` would drop them slot by slot, each time shifting all the rest, which
        // is quadratic in a long log.
        let mut acceptor = state.acceptor;
        let prefix_end = state
            .learned
            .iter()
            .enumerate()
            .take_while(|(position, (slot, _))| *position as Slot == *slot)
            .count() as Slot;
        acceptor.accepted.remove_below(prefix_end);
        let mut replica = Replica::with_acceptor(config, acceptor, voting);
        let mut replay = ReplicaStep::default();
        for (slot, entry) in state.learned.iter() {
            replica.learn(slot, entry.clone(), &mut replay);
        }
        debug_assert!(replay.replies.is_empty() && replay.slot_replies.is_empty());
        replica
    }

    /// A node that found no state where it keeps its state: a new cluster, or a lost disk. It
    /// does not vote until `start`'s probe has settled which; `nonce` must differ from every
    /// earlier start's (the node draws it at random).
    pub fn without_state(config: ReplicaConfig, nonce: u64) -> Self {
        let voting = if config.flaw == Flaw::LostDiskVotes {
            // The flaw: it takes the empty disk for a new cluster's, and votes at once.
            Voting::Voter
        } else {
            Voting::Probing {
                nonce,
                without_state: AcceptorSet::new(),
            }
        };
        Replica::with_acceptor(config, Acceptor::new(), voting)
    }

    fn with_acceptor(config: ReplicaConfig, acceptor: Acceptor<Entry>, voting: Voting) -> Self {
        assert!(
            config.index < config.cluster_size,
            "node {} outside a cluster of {}",
            config.index,
            config.cluster_size
        );
        let mut proposer = Proposer::new();
        proposer.resume_above(acceptor.promised);
        Replica {
            config,
            voting,
            acceptor,
            proposer,
            log: SlotMap::new(),
            applied_below: 0,
            store: KvStore::default(),
            applied: BTreeMap::new(),
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
            chosen_beyond_window: None,
            probes_answered_empty: BTreeMap::new(),
        }
    }

    /// The first step of a replica just created: a probing replica records that it probes (so
    /// that a restart before the probe settles does not take its learned log for a voter's
    /// state) and asks every other node; a cluster of one has nobody to ask, and votes.
    pub fn start(&mut self) -> ReplicaStep {
        let mut step = ReplicaStep::default();
        if let Voting::Probing { nonce, .. } = self.voting {
            step.persist.push(Record::Membership(Membership::Probing));
            if self.cluster_size() == 1 {
                self.settle(Settled::ClusterOfOne, &mut step);
            } else {
                for peer in self.peers() {
                    step.send.push((peer, PeerMessage::Probe { nonce }));
                }
            }
        }
        self.finish(step)
    }

    /// What the replica would recover from, were it to restart now: what its records rebuild.
    pub fn durable_state(&self) -> DurableState {
        DurableState {
            membership: Some(self.voting.membership()),
            acceptor: self.acceptor.clone(),
            learned: self.log.clone(),
        }
    }

    /// Whether this node's acceptor takes part in the votes.
    pub fn votes(&self) -> bool {
        self.voting == Voting::Voter
    }

    /// What a probe is answered with: whether this node has promised, accepted or learned
    /// anything, or knows the cluster has (a learner). A node still probing holds nothing: in
    /// a new cluster every node probes at once, and each must hear "none" from the others.
    fn holds_state(&self) -> bool {
        self.acceptor.promised.is_some() || !self.log.is_empty() || self.voting == Voting::Learner
    }

    /// Requests whose client waits on this node and has not been answered: lin-kv commands, and
    /// named slots not yet decided.
    pub fn pending(&self) -> Vec<Pending> {
        let commands = self.clients.iter().map(|id| Pending::Command {
            id: id.clone(),
            op: self.unplaced.get(id).cloned(),
        });
        let slots = self.slot_waiters.iter().flat_map(|(slot, waiters)| {
            waiters.iter().map(|id| Pending::Slot {
                id: id.clone(),
                slot: *slot,
            })
        });
        commands.chain(slots).collect()
    }

    pub fn index(&self) -> NodeIndex {
        self.config.index
    }

    pub fn cluster_size(&self) -> usize {
        self.config.cluster_size
    }

    /// A client asks this node to run `op`.
    pub fn on_request(&mut self, id: RequestId, op: KvOp) -> ReplicaStep {
        let mut step = ReplicaStep::default();
        match self.applied.get(&id) {
            // Applied already: the request is asked again. It was applied once, and is
            // answered as it was then.
            Some(result) => step.replies.push((id, result.clone())),
            None => {
                self.clients.insert(id.clone());
                self.unplaced.insert(id, op);
            }
        }
        self.finish(step)
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

    /// Why no node of this cluster could have sent `message`, if that is so: a ballot started by
    /// a node outside it, or a round beyond `ROUND_MAX`.
    fn implausible(&self, message: &PeerMessage) -> Option<String> {
        let PeerMessage::Paxos(message) = message else {
            return None;
        };
        message.ballots().iter().find_map(|ballot| {
            if ballot.proposer as usize >= self.cluster_size() {
                Some(format!("a ballot of node index {}", ballot.proposer))
            } else if ballot.round > ROUND_MAX {
                Some(format!("a ballot of round {}", ballot.round))
            } else {
                None
            }
        })
    }

    /// Whether `slot` is too far beyond the applied log to take a peer's word for it.
    fn beyond_window(&self, slot: Slot) -> bool {
        slot > self.applied_below.saturating_add(PEER_SLOT_WINDOW)
    }

    /// The slots `message` would make this node accept, propose or learn, if one of them is
    /// beyond the window: such a message is dropped (a chosen entry is caught up instead).
    fn names_a_slot_beyond_window(&self, message: &PeerMessage) -> bool {
        match message {
            PeerMessage::Paxos(Message::Accept { slot, .. }) => self.beyond_window(*slot),
            PeerMessage::Paxos(Message::Promise { accepted, .. }) => {
                accepted.iter().any(|(slot, _)| self.beyond_window(*slot))
            }
            PeerMessage::ForwardSlot { slot, .. } => self.beyond_window(*slot),
            _ => false,
        }
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
                    && !self.campaigns_from_below_the_log()
            }
            PeerMessage::Forward { id, op } => {
                self.applied.contains_key(id)
                    || self.unplaced.get(id) == Some(op)
                    || self.in_log(id)
            }
            PeerMessage::ForwardSlot { slot, json } => {
                self.log.contains(*slot) || self.slot_requests.get(slot) == Some(json)
            }
            PeerMessage::CatchUp { from_slot } => self.catch_up_entries(*from_slot).is_empty(),
            PeerMessage::Probe { .. } => false,
            PeerMessage::ProbeReply { nonce, holds_state } => !matches!(
                &self.voting,
                Voting::Probing { nonce: own, without_state }
                    if own == nonce && (*holds_state || !without_state.contains(from))
            ),
            PeerMessage::Paxos(_) => self.ignores_for_good(from, message),
        }
    }

    /// The part of `ignores` that a restart does not change: replies to ballots this node's
    /// proposer has counted or moved past (it resumes above them), naming no ballot above those
    /// it has seen.
    /// So is an answer to a probe once the probe has settled: how it settled is persisted, and
    /// a later loss of the disk starts a life with a fresh nonce, which that answer does not
    /// carry.
    pub fn ignores_for_good(&self, from: NodeIndex, message: &PeerMessage) -> bool {
        if let PeerMessage::ProbeReply { .. } = message {
            return !matches!(self.voting, Voting::Probing { .. });
        }
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
            // A note about a dropped message is no change: only the operator reads it.
            let changed = ReplicaStep {
                rejected: Vec::new(),
                ..step.clone()
            };
            debug_assert!(
                *self == before && changed == ReplicaStep::default(),
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
        if let Some(problem) = self.implausible(&message) {
            step.rejected.push((
                from,
                format!(
                    "{} naming {problem}, which no node of this cluster starts",
                    message.kind()
                ),
            ));
            return step;
        }
        if self.names_a_slot_beyond_window(&message) {
            return step; // behind, or forged: what is chosen there comes by catching up
        }
        match message {
            PeerMessage::Paxos(message) => self.deliver(from, message, &mut step),
            PeerMessage::Forward { id, op } => {
                if !self.applied.contains_key(&id) && !self.in_log(&id) {
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
                self.on_catch_up_reply(from, entries, &mut step)
            }
            PeerMessage::CatchUp { from_slot } => {
                let entries = self.catch_up_entries(from_slot);
                if !entries.is_empty() {
                    step.send
                        .push((from, PeerMessage::CatchUpReply { entries }));
                }
            }
            PeerMessage::Probe { nonce } => self.answer_probe(from, nonce, &mut step),
            PeerMessage::ProbeReply { nonce, holds_state } => {
                self.on_probe_reply(from, nonce, holds_state, &mut step)
            }
        }
        self.finish(step)
    }

    /// Chosen entries from a peer, which answered a catch-up request or refused a Prepare from
    /// below its applied log. A full batch of news means the peer may know more: ask for the
    /// next at once rather than wait for the timer, so that a node far behind crosses the gap at
    /// the speed of round trips. Otherwise, a campaign whose Phase 1 started below what is now
    /// known chosen asks again from above it, at the same ballot: acceptors that applied those
    /// slots refused it, and will promise now.
    fn on_catch_up_reply(
        &mut self,
        from: NodeIndex,
        entries: Vec<(Slot, Entry)>,
        step: &mut ReplicaStep,
    ) {
        let learned_before = self.log.len();
        let full = entries.len() >= CATCH_UP_BATCH;
        let after_last = entries.last().map(|(slot, _)| slot.saturating_add(1));
        for (slot, entry) in entries {
            self.learn_from_peer(from, slot, entry, step);
        }
        match after_last {
            Some(from_slot)
                if full && self.log.len() > learned_before && !self.beyond_window(from_slot) =>
            {
                step.send.push((from, PeerMessage::CatchUp { from_slot }))
            }
            _ if self.campaigns_from_below_the_log() => {
                let proposer_step = self
                    .proposer
                    .prepare_from_first_unchosen(&self.config.proposer());
                self.drive(proposer_step, step);
            }
            _ => {}
        }
    }

    /// This voter's Phase 1 started below a slot it now knows chosen: peers that applied it
    /// refuse that Prepare (`answers_from_the_log`).
    fn campaigns_from_below_the_log(&self) -> bool {
        let stale = matches!(
            self.proposer.status,
            Status::Preparing { from_slot, .. } if from_slot < self.proposer.first_unchosen_slot()
        );
        stale && self.votes()
    }

    /// Whether this node holds state, for `from`'s probe `nonce`. What the prober needs from this
    /// node is that it held none at some moment after the prober's life began (see
    /// `on_probe_reply`). Once told "no state" for a nonce, that stays true of this node: so it
    /// answers a repeat of the probe the same way even if it has voted since. Without that, a
    /// new cluster whose first probe answers are lost would lose voters for good: by the time a
    /// node asks again, the others have started to vote. The memory is not persisted: a node
    /// that restarts answers from its state, which is never wrong, only less helpful.
    fn answer_probe(&mut self, from: NodeIndex, nonce: u64, step: &mut ReplicaStep) {
        let told_empty = self.probes_answered_empty.get(&from) == Some(&nonce);
        let holds_state = self.holds_state() && !told_empty;
        if !holds_state {
            self.probes_answered_empty.insert(from, nonce);
        }
        step.send
            .push((from, PeerMessage::ProbeReply { nonce, holds_state }));
    }

    /// An answer to this node's probe. It votes once every other node has answered that it
    /// holds no state; it stays a learner for good as soon as one holds some.
    ///
    /// Why that is safe. Suppose this node, in an earlier life, promised or accepted ballot b,
    /// and that vote can still be counted (it may even be a message still in flight). The node
    /// that started b held state before this node restarted: a replica hands its Prepare to its
    /// own acceptor first and persists that promise before the Prepare leaves, and nothing it
    /// persisted is ever lost (only this node lost its disk). If this node started b itself, any
    /// Accept at b needed a majority of promises, some from another node, which holds state;
    /// and a promise from another node for b is counted by no one but this node's proposer,
    /// which, were it to start b again, would be counting a real promise for b. So an answer of
    /// "no state", given after this start's probe went out (the nonce sees to that), from every
    /// other node, means no earlier vote of this node can be counted, and it may vote anew.
    ///
    /// Why every other node, not a majority of them: in a cluster of five, this node promised
    /// b to n5 before it lost its disk (the promise still in flight); three others, asked, hold
    /// nothing yet; it votes, and promises and accepts a lower ballot of n4's with two of them,
    /// choosing a value; then n5 counts the old promise with one of those three and its own,
    /// leads at b, and this node, having promised nothing it remembers, accepts n5's value too.
    /// n5 holds state all along: only its answer can tell.
    fn on_probe_reply(
        &mut self,
        from: NodeIndex,
        nonce: u64,
        holds_state: bool,
        step: &mut ReplicaStep,
    ) {
        let Voting::Probing {
            nonce: own,
            without_state,
        } = &mut self.voting
        else {
            return; // settled already
        };
        if nonce != *own {
            return; // an answer to a probe of an earlier life
        }
        if holds_state {
            self.settle(Settled::PeerHoldsState(from), step);
            return;
        }
        without_state.insert(from);
        if without_state.len() + 1 == self.cluster_size() {
            self.settle(Settled::NewCluster, step);
        }
    }

    /// The probe settled: record how, durably, before anything else this node does.
    fn settle(&mut self, settled: Settled, step: &mut ReplicaStep) {
        debug_assert!(matches!(self.voting, Voting::Probing { .. }));
        let membership = settled.membership();
        self.voting = match membership {
            Membership::Voter => Voting::Voter,
            Membership::Learner => Voting::Learner,
            Membership::Probing => unreachable!("a probe settles as voter or learner"),
        };
        step.persist.push(Record::Membership(membership));
        step.settled = Some(settled);
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
            Some(known) if *known != entry => step.rejected.push((
                from,
                format!(
                    "it says slot {slot} chose {entry}, but this node learned {known}: \
                     impossible in Paxos"
                ),
            )),
            _ if self.beyond_window(slot) => {
                // Behind by more than the window: remember to catch up (the timer asks).
                self.chosen_beyond_window = self.chosen_beyond_window.max(Some(slot));
            }
            _ => self.learn(slot, entry, step),
        }
    }

    /// The timer fired. If the log moved since it was armed, the leader is alive: wait again.
    /// Otherwise: a probing node asks again those that have not answered; a voter with requests
    /// to place takes over (or, leading, sends its Accepts again at its own ballot); anyone with
    /// a hole asks its peers for the missing slots. A hole alone is no reason to campaign: the
    /// leader is likely alive and only its news was lost.
    pub fn on_timeout(&mut self) -> ReplicaStep {
        let mut step = ReplicaStep::default();
        let armed_at = self.timer_armed_at.take();
        // A Forward may have been lost: send again.
        self.forwarded.clear();
        self.slots_forwarded.clear();
        // A probe not yet settled is asked again whatever the log did: the log moves on
        // without this node's vote, and an answer lost stays lost.
        if let Voting::Probing {
            nonce,
            without_state,
        } = self.voting
        {
            for peer in self.peers().filter(|peer| !without_state.contains(*peer)) {
                step.send.push((peer, PeerMessage::Probe { nonce }));
            }
        }
        if self.outstanding() && armed_at == Some(self.applied_below) {
            if self.votes() && self.has_requests_to_place() {
                self.retry_or_take_over(&mut step);
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

    /// A voter's timeout with requests not getting placed: a leader resends its Accepts at its
    /// own ballot (`Proposer`'s timeout); a node stuck preparing below a rival stands down;
    /// anyone else campaigns at a higher ballot.
    fn retry_or_take_over(&mut self, step: &mut ReplicaStep) {
        let own_ballot = self.proposer.current_ballot();
        let rival_is_ahead = own_ballot < self.highest_ballot_seen
            && self
                .known_leader
                .is_some_and(|leader| leader != self.index());
        if own_ballot.is_some() && !self.proposer.is_leading() && rival_is_ahead {
            // Stuck preparing below a rival's ballot (its refusals may be lost): stand down
            // and forward to the rival; if it is gone too, the next timeout campaigns.
            self.proposer.stand_down();
            return;
        }
        let input = if self.proposer.is_leading() {
            ProposerInput::Timeout
        } else {
            ProposerInput::Campaign
        };
        let proposer_step = self.proposer.step(&self.config.proposer(), input);
        self.drive(proposer_step, step);
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

    /// Whether a command is in the learned log. Every command below the applied log was applied
    /// (and is in `applied`); only the slots learned beyond a hole need a look, so the cost does
    /// not grow with the log.
    fn in_log(&self, id: &RequestId) -> bool {
        self.applied.contains_key(id)
            || self.log.from_slot(self.applied_below).any(
                |(_, entry)| matches!(entry, Entry::Command { id: logged, .. } if logged == id),
            )
    }

    fn has_hole(&self) -> bool {
        let learned_beyond = self
            .log
            .last_slot()
            .is_some_and(|last| last >= self.applied_below)
            && !self.log.contains(self.applied_below);
        learned_beyond || self.chosen_beyond_window.is_some()
    }

    /// Requests this node must see chosen: a command not yet applied, a named slot not yet
    /// chosen, a slot in flight at its proposer.
    fn has_requests_to_place(&self) -> bool {
        !self.unplaced.is_empty()
            || !self.slot_requests.is_empty()
            || !self.proposer.in_flight.is_empty()
    }

    /// Work that needs the timer: requests to place, a hole, a probe to settle.
    fn outstanding(&self) -> bool {
        self.has_requests_to_place()
            || self.has_hole()
            || matches!(self.voting, Voting::Probing { .. })
    }

    /// Without a ballot of its own: forward unplaced commands to the leader it knows, or
    /// campaign if it knows none (or believes it is the leader itself, after a restart). A node
    /// that does not vote never campaigns: knowing no leader, it forwards to every peer, and
    /// whichever voter takes the lead places the command (once: commands are applied by id).
    fn forward_or_campaign(&mut self, step: &mut ReplicaStep) {
        if self.unplaced.is_empty() && self.slot_requests.is_empty() {
            return;
        }
        let leader = self.known_leader.filter(|leader| *leader != self.index());
        match leader {
            Some(leader) => self.forward(&[leader], leader, step),
            None if !self.votes() => {
                let peers: Vec<NodeIndex> = self.peers().collect();
                // Marked as forwarded "to this node": to everyone, until a leader is known.
                self.forward(&peers, self.index(), step);
            }
            None => self.campaign_with_first_request(step),
        }
    }

    /// Sends every unplaced command and named slot not yet sent to `mark` to each of `targets`.
    fn forward(&mut self, targets: &[NodeIndex], mark: NodeIndex, step: &mut ReplicaStep) {
        for (id, op) in &self.unplaced {
            if self.forwarded.get(id) == Some(&mark) {
                continue;
            }
            let forwarded_id = if self.config.flaw == Flaw::ForwardRenamesRequest {
                // The flaw: the command travels under a name of this node's making.
                RequestId {
                    client: format!("via-n{}", self.index() + 1).into(),
                    seq: id.seq,
                }
            } else {
                id.clone()
            };
            for target in targets {
                let forward = PeerMessage::Forward {
                    id: forwarded_id.clone(),
                    op: op.clone(),
                };
                step.send.push((*target, forward));
            }
            self.forwarded.insert(id.clone(), mark);
        }
        for (slot, json) in &self.slot_requests {
            if self.slots_forwarded.get(slot) == Some(&mark) {
                continue;
            }
            for target in targets {
                let forward = PeerMessage::ForwardSlot {
                    slot: *slot,
                    json: json.clone(),
                };
                step.send.push((*target, forward));
            }
            self.slots_forwarded.insert(*slot, mark);
        }
    }

    /// Campaign with the first request: its Phase 1 is the one that establishes the ballot (the
    /// course reports `phase1_skipped: false` for it); the others follow by Phase 2 alone once
    /// it stands.
    fn campaign_with_first_request(&mut self, step: &mut ReplicaStep) {
        let config = self.config.proposer();
        // A command its proposer already holds (a campaign that could not start) is not asked
        // for again in another slot.
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
            Role::Acceptor if !self.votes() => vec![], // no vote: as if the message were lost
            Role::Acceptor => {
                if self.answers_from_the_log(from, &message, step) {
                    return vec![];
                }
                let acceptor_step = self
                    .acceptor
                    .step(message, self.config.flaw)
                    .expect("a request for the acceptor");
                if let Some(change) = acceptor_step.change {
                    if let Change::Accepted { slot, proposal } = &change {
                        step.acceptances.push((*slot, proposal.clone()));
                    }
                    step.persist.push(Record::Acceptor(change));
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

    /// A request for the acceptor that reaches below the applied log, whose acceptances the
    /// acceptor no longer keeps (see `learn`), is answered from the learned log instead, and the
    /// acceptor does not vote: a Prepare from below gets the chosen entries from there (its
    /// proposer is behind, catches up, and campaigns again from above them); an Accept there
    /// gets the slot's chosen entry. Not voting is always safe. Returns whether it answered.
    fn answers_from_the_log(
        &self,
        from: NodeIndex,
        message: &Message<Entry>,
        step: &mut ReplicaStep,
    ) -> bool {
        match *message {
            Message::Prepare { from_slot, .. } if from_slot < self.applied_below => {
                debug_assert_ne!(
                    from,
                    self.index(),
                    "Phase 1 starts at the first unchosen slot"
                );
                let entries = self.catch_up_entries(from_slot);
                step.send
                    .push((from, PeerMessage::CatchUpReply { entries }));
                true
            }
            Message::Accept { slot, .. } if slot < self.applied_below => {
                debug_assert_ne!(
                    from,
                    self.index(),
                    "a proposer never proposes a chosen slot"
                );
                let entry = self
                    .log
                    .get(slot)
                    .expect("applied slots are learned")
                    .clone();
                step.send.push((from, PeerMessage::Chosen { slot, entry }));
                true
            }
            _ => false,
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

    /// `slot` is chosen with `entry`: record it (durably), apply every slot that is now ready,
    /// and let the acceptor drop what it accepted below the applied log.
    ///
    /// Why the acceptor may forget those acceptances. Paxos needs them for one thing: a promise
    /// for a Prepare from slot f reports every acceptance from f on, so that the new leader
    /// adopts any value that may be chosen there. This acceptor promises only Prepares from at
    /// or above its applied log (`answers_from_the_log` refuses the others), and it keeps every
    /// acceptance from there on; so every promise it gives reports what Paxos asks of it. A
    /// leader whose Phase 1 started from f proposes only in slots from f on: f is its first
    /// slot not known chosen, and it proposes nowhere it knows chosen. The log keeps the
    /// entries themselves, for catch-ups and for a leader that is behind.
    fn learn(&mut self, slot: Slot, entry: Entry, step: &mut ReplicaStep) {
        if let Some(known) = self.log.get(slot) {
            assert_eq!(*known, entry, "slot {slot} learned with two entries");
            return;
        }
        step.persist.push(Record::Learned {
            slot,
            entry: entry.clone(),
        });
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
                if !self.applied.contains_key(id) {
                    let result = self.store.apply(op);
                    self.applied.insert(id.clone(), result.clone());
                    if self.clients.remove(id) {
                        step.replies.push((id.clone(), result));
                    }
                }
                self.unplaced.remove(id);
                self.forwarded.remove(id);
            }
            self.applied_below += 1;
        }
        self.acceptor.accepted.remove_below(self.applied_below);
        if self
            .chosen_beyond_window
            .is_some_and(|beyond| beyond < self.applied_below)
        {
            self.chosen_beyond_window = None;
        }
        debug_assert_eq!(
            self.proposer.first_unchosen_slot(),
            self.applied_below,
            "the proposer knows chosen exactly the slots learned"
        );
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

    /// The highest slot holding a command, learned or at this node's proposer. The log is read
    /// from its end, where commands are: the cost does not grow with the log.
    fn highest_command_slot(&self) -> Option<Slot> {
        let is_command = |entry: &Entry| matches!(entry, Entry::Command { .. });
        let proposer = &self.proposer;
        let learned = self.log.iter().rev().find(|(_, entry)| is_command(entry));
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
            .into_iter()
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
        let mut replicas: Vec<Replica> = (0..3).map(|i| Replica::new(config(i, 3))).collect();
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
        let mut replicas: Vec<Replica> = (0..3).map(|i| Replica::new(config(i, 3))).collect();
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
        let mut replica = Replica::new(config(0, 1));
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
        let mut replicas: Vec<Replica> = (0..3).map(|i| Replica::new(config(i, 3))).collect();
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

    /// The records a run of `replicas[node]` persisted, replayed: what its disk holds.
    fn disk(records: &[Record]) -> DurableState {
        let mut state = DurableState::default();
        records.iter().for_each(|record| state.apply(record));
        state
    }

    /// Delivers every message until quiet, keeping every record each node persisted.
    fn settle_recording(
        replicas: &mut [Replica],
        disks: &mut [Vec<Record>],
        mut pending: Vec<(NodeIndex, NodeIndex, PeerMessage)>,
    ) {
        while let Some((from, to, message)) = pending.pop() {
            let step = replicas[to].on_peer(from, message);
            disks[to].extend(step.persist);
            pending.extend(step.send.into_iter().map(|(dest, m)| (to, dest, m)));
        }
    }

    fn sent_by(node: NodeIndex, step: ReplicaStep) -> Vec<(NodeIndex, NodeIndex, PeerMessage)> {
        step.send.into_iter().map(|(to, m)| (node, to, m)).collect()
    }

    fn write(client: &str, seq: u64, value: i64) -> (RequestId, KvOp) {
        (request(client, seq), KvOp::Write { key: 1, value })
    }

    #[test]
    fn a_restarted_node_replays_its_learned_log_and_proposes_nothing_below_it_again() {
        let mut replicas: Vec<Replica> = (0..3).map(|i| Replica::new(config(i, 3))).collect();
        let mut disks = vec![Vec::new(); 3];
        for seq in 1..=3 {
            let (id, op) = write("c1", seq, seq as i64);
            let step = replicas[0].on_request(id, op);
            disks[0].extend(step.persist.clone());
            settle_recording(&mut replicas, &mut disks, sent_by(0, step));
        }
        assert_eq!(replicas[0].applied_below, 3);
        // n1 restarts from its disk: the store is rebuilt, its acceptor kept no acceptance for
        // the applied slots, and its next campaign prepares from slot 3.
        let mut restarted = Replica::recover(config(0, 3), disk(&disks[0]), 0);
        assert_eq!(restarted.applied_below, 3);
        assert_eq!(restarted.store, replicas[0].store);
        assert!(restarted.acceptor.accepted.is_empty(), "compacted");
        assert_eq!(restarted.acceptor.promised, replicas[0].acceptor.promised);
        let (id, op) = write("c1", 4, 4);
        let step = restarted.on_request(id, op);
        let prepares: Vec<Slot> = step
            .send
            .iter()
            .filter_map(|(_, message)| match message {
                PeerMessage::Paxos(Message::Prepare { from_slot, .. }) => Some(*from_slot),
                _ => None,
            })
            .collect();
        assert_eq!(
            prepares,
            [3, 3],
            "Phase 1 from the first slot not known chosen"
        );
    }

    #[test]
    fn a_leader_whose_accepts_are_lost_resends_them_at_its_own_ballot() {
        let mut replicas: Vec<Replica> = (0..3).map(|i| Replica::new(config(i, 3))).collect();
        let (id, op) = write("c1", 1, 7);
        let step = replicas[0].on_request(id, op);
        settle(&mut replicas, sent_by(0, step));
        let ballot = replicas[0].proposer.current_ballot();
        // The next write's Accepts are all lost; the timer finds no progress.
        let (id, op) = write("c1", 2, 8);
        let lost = replicas[0].on_request(id, op);
        assert_eq!(lost.timer, TimerChange::Arm);
        let retry = replicas[0].on_timeout();
        assert_eq!(
            replicas[0].proposer.current_ballot(),
            ballot,
            "no new ballot"
        );
        let resent: Vec<(NodeIndex, &Message<Entry>)> = retry
            .send
            .iter()
            .filter_map(|(to, message)| match message {
                PeerMessage::Paxos(message) => Some((*to, message)),
                _ => None,
            })
            .collect();
        assert!(
            resent.len() == 2
                && resent.iter().all(|(_, message)| matches!(
                    message,
                    Message::Accept { slot: 1, proposal } if Some(proposal.ballot) == ballot
                )),
            "slot 1 again, at the same ballot, to both peers: {resent:?}"
        );
        settle(&mut replicas, sent_by(0, retry));
        assert_eq!(replicas[0].applied_below, 2);
        assert_eq!(replicas[0].proposer.current_ballot(), ballot);
    }

    #[test]
    fn a_follower_whose_only_trouble_is_a_hole_asks_for_it_and_does_not_campaign() {
        let mut replicas: Vec<Replica> = (0..3).map(|i| Replica::new(config(i, 3))).collect();
        let (id, op) = write("c1", 1, 7);
        let step = replicas[0].on_request(id, op);
        settle(&mut replicas, sent_by(0, step));
        // n2 hears of slot 2 but missed slot 1.
        let step = replicas[1].on_peer(
            0,
            PeerMessage::Chosen {
                slot: 2,
                entry: Entry::Noop,
            },
        );
        assert_eq!(step.timer, TimerChange::Arm);
        let step = replicas[1].on_timeout();
        assert!(
            step.send
                .iter()
                .all(|(_, message)| matches!(message, PeerMessage::CatchUp { from_slot: 1 })),
            "{step:?}"
        );
        assert_eq!(replicas[1].proposer.current_ballot(), None);
    }

    #[test]
    fn a_prepare_from_below_the_applied_log_is_answered_with_the_log_and_asked_again_above_it() {
        let mut replicas: Vec<Replica> = (0..3).map(|i| Replica::new(config(i, 3))).collect();
        let (id, op) = write("c1", 1, 7);
        let step = replicas[0].on_request(id, op);
        // n3 never hears of it; n1 and n2 choose and apply slot 0.
        let to_n2: Vec<_> = sent_by(0, step)
            .into_iter()
            .filter(|(_, to, _)| *to == 1)
            .collect();
        let mut pending = to_n2;
        while let Some((from, to, message)) = pending.pop() {
            let step = replicas[to].on_peer(from, message);
            pending.extend(sent_by(to, step).into_iter().filter(|(_, to, _)| *to != 2));
        }
        assert_eq!(
            (replicas[0].applied_below, replicas[1].applied_below),
            (1, 1)
        );
        // n3 campaigns from slot 0: n1 and n2 no longer keep what slot 0 accepted, so they do
        // not promise; they send slot 0's entry, and n3 prepares again from slot 1 and leads.
        let (id, op) = write("c3", 1, 9);
        let step = replicas[2].on_request(id, op);
        settle(&mut replicas, sent_by(2, step));
        for replica in &replicas {
            assert_eq!(replica.applied_below, 2);
            assert_eq!(
                replica.log.get(0),
                replicas[0].log.get(0),
                "slot 0 kept its write"
            );
        }
        assert!(replicas[2].proposer.is_leading());
    }

    #[test]
    fn a_node_without_state_votes_only_when_no_other_node_holds_any() {
        // A new cluster: every node probes, every node answers "none", every node votes.
        let mut replicas: Vec<Replica> = (0..3)
            .map(|i| Replica::without_state(config(i, 3), 100 + i as u64))
            .collect();
        let mut pending = Vec::new();
        for (node, replica) in replicas.iter_mut().enumerate() {
            let step = replica.start();
            assert_eq!(step.persist, [Record::Membership(Membership::Probing)]);
            pending.extend(sent_by(node, step));
        }
        settle(&mut replicas, pending);
        assert!(replicas.iter().all(Replica::votes));
        // n3 loses its disk once the cluster holds state: it never votes again.
        let (id, op) = write("c1", 1, 7);
        let step = replicas[0].on_request(id, op);
        settle(&mut replicas, sent_by(0, step));
        replicas[2] = Replica::without_state(config(2, 3), 7);
        let step = replicas[2].start();
        let mut settled = None;
        let mut pending = sent_by(2, step);
        while let Some((from, to, message)) = pending.pop() {
            let step = replicas[to].on_peer(from, message);
            if to == 2 && step.settled.is_some() {
                settled = step.settled;
                assert!(step
                    .persist
                    .contains(&Record::Membership(Membership::Learner)));
            }
            pending.extend(sent_by(to, step));
        }
        let settled = settled.expect("the probe settled");
        assert!(
            matches!(settled, Settled::PeerHoldsState(0 | 1)),
            "{settled:?}"
        );
        let why = Settled::PeerHoldsState(1).explain(|index| format!("n{}", index + 1));
        assert!(why.starts_with("n2 holds acceptor state"), "{why}");
        // The learner answers no Prepare, yet forwards its client's write and learns it.
        let prepare = PeerMessage::Paxos(Message::Prepare {
            ballot: Ballot::new(9, 1),
            from_slot: 1,
        });
        assert_eq!(replicas[2].on_peer(1, prepare).send, []);
        let (id, op) = write("c3", 1, 8);
        let step = replicas[2].on_request(id.clone(), op);
        assert!(step
            .send
            .iter()
            .all(|(_, m)| matches!(m, PeerMessage::Forward { .. })));
        settle(&mut replicas, sent_by(2, step));
        // n1's quorum was n1 and n3, which no longer votes: its Accept waits for the timer,
        // which sends it to every node, and n2 accepts.
        assert!(!replicas[0].applied.contains_key(&id));
        let step = replicas[0].on_timeout();
        settle(&mut replicas, sent_by(0, step));
        assert!(replicas[0].applied.contains_key(&id));
        // The learner heard of slot 1; its timer asks for the slot 0 it missed.
        assert!(replicas[2].has_hole());
        let step = replicas[2].on_timeout();
        settle(&mut replicas, sent_by(2, step));
        assert!(
            replicas[2].applied.contains_key(&id),
            "the learner caught up"
        );
        assert_eq!(replicas[2].log, replicas[0].log);
        assert_eq!(replicas[2].acceptor, Acceptor::new(), "it never voted");
    }

    #[test]
    fn a_request_asked_again_after_it_was_applied_is_answered_as_it_was() {
        // A client whose answer was lost asks again under the same id: the command is not
        // applied twice, and the answer is the one it got (here the read saw 7, though the key
        // holds 8 by now).
        let mut replica = Replica::new(config(0, 1));
        let (id, op) = write("c1", 1, 7);
        replica.on_request(id, op);
        let read = request("c2", 1);
        let first = replica.on_request(read.clone(), KvOp::Read { key: 1 });
        assert_eq!(
            first.replies,
            [(read.clone(), KvResult::ReadOk { value: 7 })]
        );
        let (id, op) = write("c1", 2, 8);
        replica.on_request(id, op);
        let again = replica.on_request(read.clone(), KvOp::Read { key: 1 });
        assert_eq!(again.replies, [(read, KvResult::ReadOk { value: 7 })]);
        assert_eq!(replica.log.len(), 3, "nothing proposed for the repeat");
    }

    #[test]
    fn a_new_cluster_whose_first_probe_answer_is_lost_keeps_every_voter() {
        // n1 and n2 settle and start to vote; n3's probe reached n1, but n1's answer was lost.
        let mut replicas: Vec<Replica> = (0..3)
            .map(|i| Replica::without_state(config(i, 3), 100 + i as u64))
            .collect();
        let mut pending = Vec::new();
        for (node, replica) in replicas.iter_mut().enumerate() {
            pending.extend(sent_by(node, replica.start()));
        }
        let lost = |(from, to, message): &(NodeIndex, NodeIndex, PeerMessage)| {
            *from == 0 && *to == 2 && matches!(message, PeerMessage::ProbeReply { .. })
        };
        while let Some(delivery) = pending.pop() {
            let (from, to, message) = delivery.clone();
            let step = replicas[to].on_peer(from, message);
            pending.extend(sent_by(to, step).into_iter().filter(|sent| !lost(sent)));
        }
        assert!(replicas[0].votes() && replicas[1].votes() && !replicas[2].votes());
        let (id, op) = write("c1", 1, 7);
        let step = replicas[0].on_request(id, op);
        settle(&mut replicas, sent_by(0, step));
        assert!(replicas[0].holds_state());
        // n3's timer asks n1 again, under the same nonce: n1 had no state when it first
        // answered, after n3 started, which is all n3 needs to know; so it says so again.
        let step = replicas[2].on_timeout();
        settle(&mut replicas, sent_by(2, step));
        assert!(replicas[2].votes(), "the new cluster keeps its third voter");
        // A later life of n3 (a new nonce) hears the truth: n1 holds state now.
        replicas[2] = Replica::without_state(config(2, 3), 7);
        let step = replicas[2].start();
        settle(&mut replicas, sent_by(2, step));
        assert_eq!(replicas[2].voting, Voting::Learner);
    }

    #[test]
    fn a_peer_message_naming_an_impossible_round_or_a_far_slot_is_dropped() {
        let mut replica = Replica::new(config(0, 3));
        let forged = PeerMessage::Paxos(Message::Prepare {
            ballot: Ballot::new(u64::MAX, 1),
            from_slot: 0,
        });
        let step = replica.on_peer(1, forged);
        assert_eq!(step.rejected.len(), 1);
        let far = PeerMessage::Chosen {
            slot: u64::MAX,
            entry: Entry::Noop,
        };
        replica.on_peer(1, far);
        assert!(replica.log.is_empty(), "caught up from, never learned");
        let (id, op) = write("c1", 1, 7);
        let step = replica.on_request(id, op);
        assert!(
            step.send.iter().any(|(_, m)| matches!(
                m,
                PeerMessage::Paxos(Message::Prepare { ballot, from_slot: 0 }) if ballot.round == 1
            )),
            "{step:?}"
        );
    }

    #[test]
    fn pending_requests_are_the_unanswered_commands_and_named_slots() {
        let mut replica = Replica::new(config(0, 3));
        let (id, op) = write("c1", 5, 7);
        replica.on_request(id.clone(), op.clone());
        replica
            .on_propose(request("c2", 9), 4, "\"x\"".into())
            .expect("within the window");
        assert_eq!(
            replica.pending(),
            [
                Pending::Command { id, op: Some(op) },
                Pending::Slot {
                    id: request("c2", 9),
                    slot: 4
                }
            ]
        );
    }
}
