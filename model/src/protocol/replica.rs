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
//! A node that finds no state where it keeps its state (an empty data directory, or none at
//! all: one case) cannot tell a new cluster from a lost disk, and a node that lost its disk may
//! have promised or accepted and forgotten it; voting at once, it could break a promise or hide
//! an acceptance, and help choose a second value for a slot. So it starts without a vote
//! (`Replica::without_state`): it neither promises nor accepts, and asks every other node for
//! its floors (`Probe`): the highest ballot it has promised and the highest slot it has
//! accepted in or learned. Once every other node has answered, it votes again with those floors
//! (`settle`): it promises and accepts nothing below the highest ballot, so no promise of an earlier
//! life is broken, and it promises no Phase 1 that reaches the highest slot until it has learned
//! that far, so no acceptance of an earlier life is hidden (`on_probe_reply` argues both). A new
//! cluster is the case where every answer is empty. Until it votes (and, for its own campaigns,
//! until it has caught up), it learns, catches up, forwards and answers; a Prepare or an Accept
//! that it may not answer yet it keeps, and answers once it may (`defers`), as if the network
//! had delayed it: in a new cluster a node's first campaign reaches peers that are still
//! probing, and would otherwise wait for its timer.
//!
//! The rule assumes that losses of state do not overlap: a node that lost its state has voted
//! again and caught up past its slot floor, and no message its earlier life sent is still in
//! flight, before another node loses its state. Two overlapping losses can take a chosen value
//! with them, which no rule that only asks the survivors can bring back.

use crate::protocol::acceptor::{Acceptor, Change};
use crate::protocol::ballot::{Ballot, Proposal};
use crate::protocol::durable::{DurableState, Membership, Record, Snapshot};
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
use std::sync::Arc;

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
    /// The answer to a request for slots the sender no longer holds in its log (a catch-up, or
    /// a Prepare or an Accept from below its applied log): its state machine as applying every
    /// slot up to `snapshot.through` left it, and the chosen entries after that (at most
    /// `CATCH_UP_BATCH`), as a catch-up answer carries them.
    InstallSnapshot {
        snapshot: Snapshot,
        entries: Vec<(Slot, Entry)>,
    },
    /// A node that started without state asks for the recipient's floors. `nonce` is the
    /// asker's own for this start, so that an answer to an earlier life's probe is not counted.
    Probe {
        nonce: u64,
    },
    /// The answer: the recipient's floors, from its durable state, as they are when it answers.
    ProbeReply {
        nonce: u64,
        floors: Floors,
    },
}

/// What an earlier life of a node that lost its state may have voted for, as far as one other
/// node can vouch: the highest ballot it has promised, and the highest slot it has accepted in
/// or learned (or must itself catch up to). Both come from what the node persisted, so they
/// only grow while it keeps its disk.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Floors {
    pub ballot: Option<Ballot>,
    pub slot: Option<Slot>,
}

impl Floors {
    /// The floors of both: the higher ballot and the higher slot.
    pub fn raised_to(self, other: Floors) -> Floors {
        Floors {
            ballot: self.ballot.max(other.ballot),
            slot: self.slot.max(other.slot),
        }
    }

    /// Nothing to vouch for: the node has promised, accepted and learned nothing.
    pub fn is_empty(&self) -> bool {
        *self == Floors::default()
    }

    /// `promised 2.n3, slots to 7`, `nothing`.
    pub fn describe(&self) -> String {
        if self.is_empty() {
            return "nothing".into();
        }
        let ballot = self.ballot.map_or("nothing promised".to_owned(), |b| {
            format!("promised {}", b.named('n'))
        });
        let slot = self
            .slot
            .map_or("no slot".to_owned(), |slot| format!("slots to {slot}"));
        format!("{ballot}, {slot}")
    }
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
            PeerMessage::InstallSnapshot { .. } => "an InstallSnapshot",
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
            PeerMessage::InstallSnapshot {
                snapshot,
                entries: after,
            } => {
                let store: Vec<String> = snapshot
                    .store
                    .entries
                    .iter()
                    .map(|(key, value)| format!("{key}={value}"))
                    .collect();
                format!(
                    "InstallSnapshot(through slot {}, store {{{}}}, [{}])",
                    snapshot.through,
                    store.join(", "),
                    entries(after)
                )
            }
            PeerMessage::Probe { nonce } => format!("Probe({nonce})"),
            PeerMessage::ProbeReply { nonce, floors } => {
                format!("ProbeReply({nonce}, {})", floors.describe())
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
    /// This node has just learned the log past its slot floor (or settled with a floor it had
    /// learned past while it probed): it promises any Phase 1 again, and may campaign. The floor
    /// it passed.
    pub caught_up_past: Option<Slot>,
}

/// How the probe of a node that started without state settled: it votes, with what floors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settled {
    /// A cluster of one has nobody to ask: it votes.
    ClusterOfOne,
    /// Every other node answered, with these floors (the highest of each): empty when no node
    /// held state, as in a new cluster.
    Answered(Floors),
}

impl Settled {
    /// The reason in words, for the operator.
    pub fn explain(self) -> String {
        match self {
            Settled::ClusterOfOne => "it is a cluster of one".into(),
            Settled::Answered(floors) if floors.is_empty() => {
                "every other node answered and none holds state (a new cluster)".into()
            }
            Settled::Answered(Floors { ballot, slot }) => {
                let mut why = "every other node answered, so it votes again with their floors: \
                               it may have voted before and forgotten it"
                    .to_owned();
                if let Some(ballot) = ballot {
                    why += &format!(
                        "; it promises and accepts nothing below ballot {}",
                        ballot.named('n')
                    );
                }
                if let Some(slot) = slot {
                    why += &format!(
                        "; it promises no Phase 1 that reaches slot {slot}, nor campaigns, until \
                         it has learned that far"
                    );
                }
                why
            }
        }
    }
}

/// How far beyond its applied log a node accepts a named slot.
pub const SLOT_WINDOW: Slot = 1_000;

/// The most requests a node keeps for its acceptor until it may answer them (`Replica::defers`);
/// beyond, a request is dropped, as a network may drop it, and its proposer asks again.
pub const DEFERRED_MAX: usize = 1_024;

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

/// Why a named slot is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotRefused {
    /// Beyond `SLOT_WINDOW`: `slot_max` is the highest this node accepts now.
    TooFar { slot_max: Slot },
    /// Below the snapshot: the log holds slots from `log_start` on.
    Compacted { log_start: Slot },
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReplicaConfig {
    pub index: NodeIndex,
    pub cluster_size: usize,
    pub flaw: Flaw,
    /// The highest round this node may start a ballot in: unbounded in the node, bounded in
    /// the cluster model so that its state space is finite, through restarts too.
    pub round_cap: u64,
    /// The most lin-kv commands a leader puts in one slot. At 1 every command has a slot of its
    /// own (an `Entry::Command`); above, several waiting commands share one (`Entry::Batch`).
    pub batch_max: usize,
    /// While this many slots are in flight at its proposer, a leader holds new commands back
    /// rather than give each its own slot: they wait for the next slot to be decided and then
    /// go together in one batch. This is what makes batches form when commands arrive one
    /// message at a time. Unbounded (`usize::MAX`) places every command at once.
    pub in_flight_max: usize,
    /// Once this many applied slots sit in the log beyond the last snapshot, the replica takes
    /// a snapshot of its state machine and drops them (`Replica::compact`); `None`: never, and
    /// the log and the client table keep everything. At least 1.
    pub snapshot_every: Option<u64>,
    /// How many of the last commands applied keep their answers (so that a repeat is answered
    /// as it was); an older command's answer is dropped, and it counts as applied for good,
    /// with every older command of its client (`Replica::was_applied`). Every replica of a
    /// cluster must keep the same number, whatever their snapshot settings: it decides which
    /// commands are applied.
    pub answers_kept: usize,
}

/// The most commands a node's leader puts in one slot: enough to carry every request of a few
/// dozen busy clients in one round, few enough that one Accept stays a few kilobytes.
pub const BATCH_MAX: usize = 64;

/// The slots a node's leader keeps in flight before it holds commands back for a batch: two, so
/// that one batch is being accepted while the next gathers, and the leader is never idle
/// waiting for a round trip with commands in hand.
pub const IN_FLIGHT_MAX: usize = 2;

/// The applied slots a node keeps in its log before it takes a snapshot and drops them: the log
/// then holds at most this many entries (about 1.3 MB of them) plus those not yet applied, and
/// a peer this far behind still catches up entry by entry rather than by snapshot.
pub const SNAPSHOT_EVERY: u64 = 10_000;

/// The answers a node keeps: of the last 4,096 commands applied. A client that
/// sends a request again hears the same answer if fewer than that many commands were applied
/// since; one whose pipelined command was overtaken by a later one of its own by that many
/// commands (about a second at this machine's rate) has it dropped as given up. A snapshot
/// carries them: about 170 KB of JSON with short client ids (measured by the restart bench).
pub const ANSWERS_KEPT: usize = 4_096;

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
            batch_max: BATCH_MAX,
            in_flight_max: IN_FLIGHT_MAX,
            snapshot_every: Some(SNAPSHOT_EVERY),
            answers_kept: ANSWERS_KEPT,
        }
    }

    /// Whether the replica takes snapshots.
    pub fn snapshots(&self) -> bool {
        self.snapshot_every.is_some()
    }

    /// Whether a leader puts waiting commands together in a slot.
    pub fn batches(&self) -> bool {
        self.batch_max > 1
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
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Voting {
    Voter,
    /// Asking every other node for its floors: `answered` are those that answered the probe of
    /// this start (`nonce`), and `floors` the highest of their answers.
    Probing {
        nonce: u64,
        answered: AcceptorSet,
        floors: Floors,
    },
}

impl Voting {
    pub fn membership(&self) -> Membership {
        match self {
            Voting::Voter => Membership::Voter,
            Voting::Probing { .. } => Membership::Probing,
        }
    }

    fn probing(nonce: u64) -> Self {
        Voting::Probing {
            nonce,
            answered: AcceptorSet::new(),
            floors: Floors::default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Replica {
    pub config: ReplicaConfig,
    pub voting: Voting,
    pub acceptor: Acceptor<Entry>,
    pub proposer: Proposer<Entry>,
    /// The chosen entries this node has learned, from `log_start` on.
    pub log: SlotMap<Entry>,
    /// Every slot below this one is applied and was dropped from the log (`compact`): `store`
    /// and `applied` hold what those slots did. 0 until the first snapshot.
    pub log_start: Slot,
    /// Every slot below this one is applied to `store`.
    pub applied_below: Slot,
    pub store: KvStore,
    /// Every command applied, with what it returned: a client that asks again (its answer was
    /// lost, or it reuses an id) is told the same; only the last `answers_kept` (see
    /// `was_applied`), so that the table does not grow with history.
    pub applied: BTreeMap<RequestId, KvResult>,
    /// The commands in `applied`, in the order they were applied: the oldest goes first when
    /// more than `answers_kept` are.
    pub applied_order: VecDeque<RequestId>,
    /// For each client whose older answers were dropped, the highest command of theirs
    /// dropped: it and every older one count as applied.
    pub answers_dropped: BTreeMap<Arc<str>, u64>,
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
    /// The highest ballot an earlier life of this node may have promised and forgotten (it
    /// started without state, and took this floor from its peers' answers; durable). Its
    /// acceptor refuses every request below it, as if it had promised it (see
    /// `refusal_below_the_ballot_floor`); a Prepare at it is promised, as an acceptor may
    /// promise the ballot it promised before.
    pub ballot_floor: Option<Ballot>,
    /// Requests for the acceptor that it may not answer yet, in the order they came, each with
    /// its sender (see `defers`); not durable: a restart loses them, as a crash loses messages.
    pub deferred: Vec<(NodeIndex, Message<Entry>)>,
    /// The highest slot an earlier life of this node may have accepted in and forgotten (it
    /// started without state, and took this floor from its peers' answers; durable). Until it
    /// has applied past it, it promises no Phase 1 that reaches it and does not campaign (see
    /// `promise_could_hide_a_forgotten_acceptance`); then `answers_from_the_log` answers any
    /// Phase 1 from down there, and the floor no longer matters.
    pub slot_floor: Option<Slot>,
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
    /// probing when it stopped probes again, under `nonce` (a learner of an earlier version
    /// too: it has not voted since it lost its state).
    pub fn recover(config: ReplicaConfig, state: DurableState, nonce: u64) -> Self {
        let voting = match state.membership {
            None | Some(Membership::Voter) => Voting::Voter,
            Some(Membership::Probing | Membership::Learner) => Voting::probing(nonce),
        };
        let (ballot_floor, slot_floor) = (state.ballot_floor, state.slot_floor);
        // The acceptances below the learned log's gapless prefix go in one sweep, before the
        // replay: `learn` would drop them slot by slot, each time shifting all the rest, which
        // is quadratic in a long log.
        let base = state.snapshot_below();
        let mut acceptor = state.acceptor;
        let prefix_end = base
            + state
                .learned
                .iter()
                .enumerate()
                .take_while(|(position, (slot, _))| base + *position as Slot == *slot)
                .count() as Slot;
        acceptor.accepted.remove_below(prefix_end);
        let mut replica = Replica::with_acceptor(config, acceptor, voting);
        replica.ballot_floor = ballot_floor;
        replica.proposer.resume_above(ballot_floor);
        replica.slot_floor = slot_floor;
        let mut replay = ReplicaStep::default();
        if let Some(snapshot) = state.snapshot {
            replica.install(snapshot, &mut replay);
        }
        for (slot, entry) in state.learned.iter() {
            replica.learn(slot, entry.clone(), &mut replay);
        }
        debug_assert!(replay.replies.is_empty() && replay.slot_replies.is_empty());
        replica
    }

    /// A node that found no state where it keeps its state: a new cluster, or a lost disk (or,
    /// without a disk, any start). It does not vote until `start`'s probe has been answered by
    /// every other node; `nonce` must differ from every earlier start's (the node draws it at
    /// random).
    pub fn without_state(config: ReplicaConfig, nonce: u64) -> Self {
        let voting = if config.flaw == Flaw::LostDiskVotes {
            // The flaw: it takes the empty disk for a new cluster's, and votes at once.
            Voting::Voter
        } else {
            Voting::probing(nonce)
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
            log_start: 0,
            applied_below: 0,
            store: KvStore::default(),
            applied: BTreeMap::new(),
            applied_order: VecDeque::new(),
            answers_dropped: BTreeMap::new(),
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
            ballot_floor: None,
            deferred: Vec::new(),
            slot_floor: None,
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
    /// With snapshots, the applied log is given as a snapshot of now (every entry in it was
    /// persisted as learned, so this is what replaying those records gives, in fewer of them),
    /// followed by the entries learned beyond a hole: a caller that rewrites its records as these
    /// keeps a file the size of the state machine, whatever the history.
    pub fn durable_state(&self) -> DurableState {
        let snapshot = (self.config.snapshots() && self.applied_below > 0).then(|| self.snapshot());
        let learned = match snapshot {
            Some(_) => self
                .log
                .from_slot(self.applied_below)
                .map(|(slot, entry)| (slot, entry.clone()))
                .collect(),
            None => self.log.clone(),
        };
        DurableState {
            membership: Some(self.voting.membership()),
            acceptor: self.acceptor.clone(),
            learned,
            ballot_floor: self.ballot_floor,
            slot_floor: self.slot_floor,
            snapshot,
        }
    }

    /// The state machine as the applied log left it: the store, the answers kept, in the order
    /// their commands were applied, and the answers dropped. Only with the applied log not
    /// empty.
    pub fn snapshot(&self) -> Snapshot {
        debug_assert!(self.applied_below > 0, "a snapshot covers a slot or more");
        let clients = self
            .applied_order
            .iter()
            .map(|id| (id.clone(), self.applied[id].clone()))
            .collect();
        let dropped = self
            .answers_dropped
            .iter()
            .map(|(client, seq)| RequestId {
                client: client.clone(),
                seq: *seq,
            })
            .collect();
        Snapshot {
            through: self.applied_below - 1,
            store: self.store.clone(),
            clients,
            dropped,
        }
    }

    /// Takes `snapshot`'s client table as this node's.
    fn take_client_table(&mut self, snapshot: &Snapshot) {
        self.applied = snapshot.clients.iter().cloned().collect();
        self.applied_order = snapshot.clients.iter().map(|(id, _)| id.clone()).collect();
        self.answers_dropped = snapshot
            .dropped
            .iter()
            .map(|id| (id.client.clone(), id.seq))
            .collect();
    }

    /// Whether this node's acceptor takes part in the votes.
    pub fn votes(&self) -> bool {
        self.voting == Voting::Voter
    }

    /// Whether this node has applied its log past its slot floor, if it has one.
    pub fn caught_up(&self) -> bool {
        self.slot_floor
            .is_none_or(|floor| self.applied_below > floor)
    }

    /// Whether this node may start a ballot: it votes, and has caught up past its slot floor.
    /// A Prepare leaves only once its sender's own acceptor has promised (and persisted) its
    /// ballot, and the rejoin rule rests on that (see `on_probe_reply`): a node that does not
    /// vote, or would not promise its own Phase 1 (which starts below its floor), must not
    /// campaign.
    pub fn may_campaign(&self) -> bool {
        self.votes() && self.caught_up()
    }

    /// What this node vouches for when a node that started without state asks (`Probe`): the
    /// highest ballot it promised (or took as its own floor), and the highest slot it accepted
    /// in, learned, or must catch up to itself. Only what it persisted, so that its answers only grow while it keeps its
    /// disk: an acceptance it dropped had been learned, and the log keeps the slot.
    pub fn floors(&self) -> Floors {
        // The applied log counts though a snapshot dropped it: the snapshot is durable, and
        // what this node vouches for must not shrink while it keeps its disk.
        let slot = [
            self.acceptor.accepted.last_slot(),
            self.log.last_slot(),
            self.applied_below.checked_sub(1),
            self.slot_floor,
        ]
        .into_iter()
        .flatten()
        .max();
        Floors {
            ballot: self.acceptor.promised.max(self.ballot_floor),
            slot,
        }
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
            // Applied long ago, or given up on by its client, and its answer dropped
            // (`was_applied`): applying it now could undo a later write of the client's; its
            // first answer, if any, was given.
            None if self.was_applied(&id) => {}
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
    ) -> Result<ReplicaStep, SlotRefused> {
        let slot_max = self.applied_below.saturating_add(SLOT_WINDOW);
        if slot > slot_max {
            return Err(SlotRefused::TooFar { slot_max });
        }
        if slot < self.log_start {
            // Chosen, but dropped with a snapshot: what it chose is no longer known here.
            return Err(SlotRefused::Compacted {
                log_start: self.log_start,
            });
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
        if let PeerMessage::InstallSnapshot { snapshot, .. } = message {
            // No log gets near; and a slot after it must exist.
            return (snapshot.through >= Slot::MAX / 2)
                .then(|| format!("a snapshot through slot {}", snapshot.through));
        }
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

    /// Whether `message` from `from` would change nothing here and send nothing, now and for
    /// the rest of this node's life (until it stops: `ignores_for_good` speaks of restarts), so
    /// that a caller (the cluster model) may drop it unseen. Each arm says why what it ignores
    /// stays ignored while the node runs; `on_peer` checks in debug builds that an ignored
    /// message changes nothing, and the cluster model, on every step, that it stays ignored.
    pub fn ignores(&self, from: NodeIndex, message: &PeerMessage) -> bool {
        match message {
            // Learned entries stay learned: the log only grows.
            // And a slot below the snapshot is applied for good (`log_start` only grows).
            PeerMessage::Chosen { slot, entry } => {
                *slot < self.log_start || self.log.get(*slot) == Some(entry)
            }
            // Never, even when every entry in it is learned: its answer then restarts a Phase 1
            // that began below the log (`on_catch_up_reply`), and a node comes to campaign from
            // below its log at later moments (it campaigns from its first unchosen slot, then
            // learns that slot from a peer). A reply that changes nothing now can matter later.
            PeerMessage::CatchUpReply { .. } => false,
            // Never, for the same reason: it carries entries too.
            PeerMessage::InstallSnapshot { .. } => false,
            // A command applied, held, or in the log stays so: it leaves `unplaced` only when
            // it is applied, and what is applied stays applied.
            PeerMessage::Forward { id, op } => {
                self.was_applied(id) || self.unplaced.get(id) == Some(op) || self.in_log(id)
            }
            // A named slot's request leaves `slot_requests` only when the slot is learned.
            PeerMessage::ForwardSlot { slot, json } => {
                self.knows_chosen(*slot) || self.slot_requests.get(slot) == Some(json)
            }
            // Never: the answer is what this node holds from the slot asked for (its log, or
            // under `catch-up-from-accepted` its acceptances), which grows (and, acceptances,
            // also shrinks): a request it has nothing for now may find entries later.
            PeerMessage::CatchUp { .. } => false,
            // Always answered.
            PeerMessage::Probe { .. } => false,
            // Only the first answer of each node to this life's probe counts
            // (`on_probe_reply`): a node counted stays counted until the probe settles, after
            // which every answer is ignored for the rest of this life, and a life's nonce does
            // not change while it runs.
            PeerMessage::ProbeReply { nonce, .. } => !matches!(
                &self.voting,
                Voting::Probing { nonce: own, answered, .. }
                    if own == nonce && !answered.contains(from)
            ),
            PeerMessage::Paxos(message) => self.ignores_paxos(from, message),
        }
    }

    fn ignores_paxos(&self, from: NodeIndex, message: &Message<Entry>) -> bool {
        match message {
            // The proposer's own test: a reply to a ballot it moved past or a vote it counted;
            // its ballots only grow and its votes only accumulate.
            Message::Promise { .. } | Message::Accepted { .. } => {
                self.proposer.ignores(from, message)
            }
            // A refusal also teaches the ballot it names (`saw_ballot`), so it is ignored only
            // once that ballot is seen; what this node has seen only grows while it runs.
            Message::PrepareRefused { promised, .. } | Message::AcceptRefused { promised, .. } => {
                self.proposer.ignores(from, message) && self.has_seen(*promised)
            }
            // Requests are answered; a node that does not vote still learns their ballot.
            Message::Prepare { .. } | Message::Accept { .. } => false,
        }
    }

    /// `ignores`, and through whatever may happen to this node before the message arrives: a
    /// crash and a restart from its disk, and, where `disk_may_be_lost`, a restart without it.
    /// A restart keeps only what is on disk (the acceptor, the learned log, the membership);
    /// everything else (commands held, ballots seen, the proposer) starts again from that.
    pub fn ignores_for_good(
        &self,
        from: NodeIndex,
        message: &PeerMessage,
        disk_may_be_lost: bool,
    ) -> bool {
        if !self.ignores(from, message) {
            return false;
        }
        match message {
            // An answer to another probe than the one under way, or to a probe that settled,
            // is never counted again: how a probe settled is on disk (a restart does not probe
            // again), a restart while probing asks under the same nonce (and counts this
            // probe's answers again, so a repeated answer to it is not ignored for good), and
            // a life after a lost disk probes under a nonce no earlier answer carries (the
            // node draws a fresh one at every start; the cluster model numbers them by the
            // disks lost so far).
            PeerMessage::ProbeReply { nonce, .. } => {
                !matches!(self.voting, Voting::Probing { nonce: own, .. } if own == *nonce)
            }
            // A lost disk takes the log, the acceptor and the promise that keeps the proposer
            // above its old ballots: nothing else survives it.
            _ if disk_may_be_lost => false,
            // The learned log is on disk, and a restart replays it.
            PeerMessage::Chosen { .. } => true,
            PeerMessage::Forward { id, .. } => self.in_log(id),
            PeerMessage::ForwardSlot { slot, .. } => self.knows_chosen(*slot),
            // A restarted proposer resumes above its acceptor's promise, which is at least
            // every ballot it started (only a voter campaigns, and it hands its Prepare to its
            // own acceptor, which promises, or has promised higher, and persists that before
            // the Prepare leaves): it never prepares or proposes at a ballot of its past life.
            PeerMessage::Paxos(Message::Promise { .. } | Message::Accepted { .. }) => true,
            // What a refusal teaches (the ballots seen, the leader) is not on disk: delivered
            // after a restart, it teaches it again.
            PeerMessage::Paxos(_) => false,
            PeerMessage::CatchUpReply { .. }
            | PeerMessage::InstallSnapshot { .. }
            | PeerMessage::CatchUp { .. }
            | PeerMessage::Probe { .. } => unreachable!("never ignored"),
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
            PeerMessage::Paxos(message) if self.defers(&message) => self.defer(from, message),
            PeerMessage::Paxos(message) => self.deliver(from, message, &mut step),
            PeerMessage::Forward { id, op } => {
                if !self.was_applied(&id) && !self.in_log(&id) {
                    self.unplaced.insert(id, op);
                }
            }
            PeerMessage::ForwardSlot { slot, json } => {
                if !self.knows_chosen(slot) {
                    self.slot_requests.entry(slot).or_insert(json);
                }
            }
            PeerMessage::Chosen { slot, entry } => {
                self.learn_from_peer(from, slot, entry, &mut step)
            }
            PeerMessage::CatchUpReply { entries } => {
                self.on_catch_up_reply(from, entries, &mut step)
            }
            PeerMessage::InstallSnapshot { snapshot, entries } => {
                self.install(snapshot, &mut step);
                self.on_catch_up_reply(from, entries, &mut step)
            }
            PeerMessage::CatchUp { from_slot } => {
                if let Some(answer) = self.catch_up_answer(from_slot) {
                    step.send.push((from, answer));
                }
            }
            PeerMessage::Probe { nonce } => self.answer_probe(from, nonce, &mut step),
            PeerMessage::ProbeReply { nonce, floors } => {
                self.on_probe_reply(from, nonce, floors, &mut step)
            }
        }
        self.answer_deferred(&mut step);
        self.finish(step)
    }

    /// Whether `request` (for the acceptor) must wait: this node does not vote yet, or would
    /// have to promise a Phase 1 reaching its slot floor before it has caught up (see
    /// `promise_could_hide_a_forgotten_acceptance`). Answering it later is answering a message
    /// the network delayed, which Paxos allows; dropping it would leave its proposer to its
    /// timer, and a new cluster's first campaign, which reaches peers still probing, to it too.
    pub fn defers(&self, request: &Message<Entry>) -> bool {
        request.role() == Role::Acceptor
            && (!self.votes() || self.promise_could_hide_a_forgotten_acceptance(request))
    }

    /// Keeps a request `defers` holds back, once (a copy is the same request), and up to
    /// `DEFERRED_MAX`.
    fn defer(&mut self, from: NodeIndex, request: Message<Entry>) {
        let kept = self
            .deferred
            .iter()
            .any(|(sender, kept)| *sender == from && *kept == request);
        if !kept && self.deferred.len() < DEFERRED_MAX {
            self.deferred.push((from, request));
        }
    }

    /// Answers the kept requests that need no longer wait (this node votes now, or has caught
    /// up), in the order they came.
    fn answer_deferred(&mut self, step: &mut ReplicaStep) {
        if self.deferred.is_empty() || !self.votes() {
            return;
        }
        for (from, request) in std::mem::take(&mut self.deferred) {
            if self.defers(&request) {
                self.deferred.push((from, request));
            } else {
                self.deliver(from, request, step);
            }
        }
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
        stale && self.may_campaign()
    }

    /// Answers `from`'s probe with this node's floors as they are now. A node that is probing
    /// itself vouches for what it has (nothing, in a new cluster): every node of a new cluster
    /// probes at once, and each must hear from all the others.
    fn answer_probe(&mut self, from: NodeIndex, nonce: u64, step: &mut ReplicaStep) {
        let floors = self.floors();
        step.send
            .push((from, PeerMessage::ProbeReply { nonce, floors }));
    }

    /// An answer to this node's probe. Once every other node has answered this start's probe,
    /// it votes again, with the highest floors they reported (`settle`).
    ///
    /// Why that is safe. Say this node lost its state at time T; its probe left after T, so
    /// every answer carrying its nonce was given after T.
    ///
    /// The ballot floor keeps every promise an earlier life made. That life promised ballot b
    /// to the node p that started b (perhaps itself; a promise may still be in flight). p's own
    /// acceptor promised b and persisted it before the Prepare left (`drive` sends a Prepare only
    /// after that, and a node that would not promise its own Prepare does not campaign:
    /// `may_campaign`). If p is another node, it kept its disk (losses do not overlap), so its
    /// answer, given after T, names a promise of at least b, and this node now promises and
    /// accepts nothing below it (b itself it may promise again: that breaks no promise). If p is
    /// this node, any Accept at b needed a majority of promises, some from another node, which
    /// answered likewise; and a promise for b can only be counted by this node's proposer,
    /// which, were it to start b again, would be counting a real promise.
    ///
    /// The slot floor keeps every acceptance an earlier life made from being hidden. That life
    /// accepted (s, b, v) from the node p that proposed it, and p's own acceptor had accepted it
    /// and persisted it before the Accept left (`drive` sends an Accept only then), or has since
    /// learned slot s and keeps it in its log; so p's answer names a slot of at least s. Until
    /// this node has learned the log past the floor it promises no Phase 1 that reaches the
    /// floor, so it never reports "nothing accepted" for a slot where it may have forgotten an
    /// acceptance; afterwards such a Phase 1 is answered from the log (`answers_from_the_log`).
    /// A Phase 1 from above the floor covers no slot an earlier life accepted in, and taking an
    /// Accept is safe at any ballot at or above its promise: every promise it ever made is at
    /// or below the ballot floor, and that is all an Accept must respect.
    ///
    /// Why every other node, not a majority. In a cluster of three, this node promised ballot b
    /// of n3 and lost its disk with the promise still in flight. n2 answers (it knows only
    /// ballots below b), and this node, counting itself, would have a majority: it votes with
    /// floors below b. n2 campaigns below b with this node and chooses v; then n3 counts this
    /// node's old promise with its own, proposes w at b, and this node, having promised nothing
    /// it remembers above n2's ballot, accepts w: two values chosen. Only n3's answer can tell.
    fn on_probe_reply(
        &mut self,
        from: NodeIndex,
        nonce: u64,
        reported: Floors,
        step: &mut ReplicaStep,
    ) {
        let cluster_size = self.cluster_size();
        let flaw = self.config.flaw;
        let Voting::Probing {
            nonce: own,
            answered,
            floors,
        } = &mut self.voting
        else {
            return; // settled already
        };
        if nonce != *own || answered.contains(from) {
            // An answer to a probe of an earlier life, or a second answer from one node (to a
            // probe repeated on the timer): any answer given after this start is as good as
            // another, and counting only the first keeps the second from mattering at all
            // (which the cluster model's `coalesce` relies on).
            return;
        }
        answered.insert(from);
        *floors = floors.raised_to(reported);
        let heard = answered.len() + 1; // itself
        let enough = if flaw == Flaw::RejoinAfterMajority {
            // The flaw: a majority, itself included, is taken for enough.
            heard >= crate::protocol::ballot::majority(cluster_size)
        } else {
            heard == cluster_size
        };
        if enough {
            let floors = *floors;
            self.settle(Settled::Answered(floors), step);
        }
    }

    /// The probe settled: vote again, with the floors taken durably before anything else this
    /// node does (`ballot_floor`, `slot_floor`), and its proposer above the ballot floor.
    ///
    /// The ballot floor is not made the acceptor's promise, though "nothing below it" is what a
    /// promise means, because an acceptor also refuses a Prepare at its promise: the node that
    /// started that ballot, having sent this node its Prepare and heard nothing (this node did
    /// not vote yet), would be refused with its own ballot, which a proposer takes for an answer
    /// to a Prepare sent twice, and would wait for a promise that never comes.
    fn settle(&mut self, settled: Settled, step: &mut ReplicaStep) {
        debug_assert!(matches!(self.voting, Voting::Probing { .. }));
        if let Settled::Answered(floors) = settled {
            if let Some(ballot) = floors.ballot {
                if self.ballot_floor < Some(ballot) {
                    self.ballot_floor = Some(ballot);
                    step.persist.push(Record::BallotFloor(ballot));
                }
                self.saw_ballot(ballot);
            }
            let keeps_slot_floor = self.config.flaw != Flaw::RejoinIgnoresSlotFloor;
            if let Some(slot) = floors.slot.filter(|_| keeps_slot_floor) {
                if self.slot_floor < Some(slot) {
                    self.slot_floor = Some(slot);
                    step.persist.push(Record::SlotFloor(slot));
                }
                if self.caught_up() {
                    // It learned that far while it probed.
                    step.caught_up_past = self.slot_floor;
                }
            }
        }
        self.voting = Voting::Voter;
        step.persist.push(Record::Membership(Membership::Voter));
        step.settled = Some(settled);
    }

    /// What a request for the chosen entries from `from_slot` on is answered with: one batch of
    /// them, or, where this node dropped some of them with a snapshot, the snapshot and the
    /// batch after it (`InstallSnapshot`); nothing if it has nothing from there.
    fn catch_up_answer(&self, from_slot: Slot) -> Option<PeerMessage> {
        if from_slot < self.log_start && self.config.flaw != Flaw::CatchUpFromAccepted {
            return Some(self.install_snapshot_message());
        }
        let entries = self.catch_up_entries(from_slot);
        (!entries.is_empty()).then_some(PeerMessage::CatchUpReply { entries })
    }

    /// This node's state machine as its applied log left it, and the entries it learned after.
    fn install_snapshot_message(&self) -> PeerMessage {
        PeerMessage::InstallSnapshot {
            snapshot: self.snapshot(),
            entries: self.catch_up_entries(self.applied_below),
        }
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
            nonce, answered, ..
        } = self.voting
        {
            for peer in self.peers().filter(|peer| !answered.contains(*peer)) {
                step.send.push((peer, PeerMessage::Probe { nonce }));
            }
        }
        if self.outstanding() && armed_at == Some(self.applied_below) {
            // A hole is asked for from the peers (below), and a leader that knows of it fills
            // it. But where this node knows no leader but itself, none may be running: the
            // hole's slot then holds at most acceptances, which only a ballot over it decides
            // (Phase 1 learns the highest one, or finds none and fills it with a no-op). So a
            // node that may campaign and knows no other leader runs one, though no request of
            // its own waits: the request held up behind the hole may wait at a node that may
            // not campaign. A follower that knows its leader only asks, and leaves it leading.
            let hole_without_a_leader = self.has_hole()
                && self
                    .known_leader
                    .is_none_or(|leader| leader == self.index());
            if self.may_campaign() && (self.has_requests_to_place() || hole_without_a_leader) {
                self.retry_or_take_over(&mut step);
            }
            if self.has_hole() || self.waits_without_a_vote() {
                let from_slot = self.applied_below;
                for peer in self.peers() {
                    step.send.push((peer, PeerMessage::CatchUp { from_slot }));
                }
            }
        }
        self.finish(step)
    }

    /// A node that may not campaign, with requests waiting and a log that did not move over a
    /// whole timer. Campaigning is how a voter finds out that it is behind (its Prepare from
    /// below the log is answered with the log), and the node it forwards to ignores a request
    /// for a slot or a command it has already decided; so it asks for what it may have missed,
    /// as a node with a hole does, or it would wait for those decisions until its probe settles
    /// and it campaigns. No node is a learner for good any more: the case left is a node that
    /// started without state and is still probing (a peer not yet up to answer, or its answers
    /// lost) while clients or peers hand it requests. A voter below its slot floor may not
    /// campaign either, but `has_hole` already sends it catching up.
    fn waits_without_a_vote(&self) -> bool {
        !self.may_campaign() && self.has_requests_to_place()
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
    /// From `log_start`: a snapshot holds what the slots below did.
    pub fn chosen_prefix(&self) -> impl Iterator<Item = (Slot, &Entry)> {
        let start = self.log_start;
        self.log
            .iter()
            .enumerate()
            .take_while(move |(position, (slot, _))| start + *position as Slot == *slot)
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
        self.was_applied(id)
            || self
                .log
                .from_slot(self.applied_below)
                .any(|(_, entry)| entry.holds_command(id))
    }

    /// Slots this node must learn from its peers: below one it learned, below one a peer said
    /// is chosen, or up to its slot floor.
    fn has_hole(&self) -> bool {
        let learned_beyond = self
            .log
            .last_slot()
            .is_some_and(|last| last >= self.applied_below)
            && !self.log.contains(self.applied_below);
        learned_beyond || self.chosen_beyond_window.is_some() || !self.caught_up()
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
    /// that is still probing and knows no leader keeps the commands: settling names the leader
    /// of the highest ballot its peers promised, if any; its timer keeps it at it.
    ///
    /// A voter below its slot floor may not campaign, and catching up does not always let it:
    /// the slots up to its floor may hold only acceptances, which nothing decides until some
    /// node runs a ballot over them; and the leader it knows may be itself, by a ballot of its
    /// earlier life that its peers promised. So it hands its commands to every peer, any of
    /// which may campaign (each one's timer makes it, if the leader it knows does not place
    /// them), and the ballot that places them decides those slots too.
    fn forward_or_campaign(&mut self, step: &mut ReplicaStep) {
        if self.unplaced.is_empty() && self.slot_requests.is_empty() {
            return;
        }
        let leader = self.known_leader.filter(|leader| *leader != self.index());
        match leader {
            Some(leader) => self.forward(&[leader], leader, step),
            None if self.may_campaign() => self.campaign_with_first_request(step),
            None if self.votes() => {
                let peers: Vec<NodeIndex> = self.peers().collect();
                self.forward(&peers, self.index(), step)
            }
            None => {}
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
                .any(|entry| entry.holds_command(id))
        };
        let first = match (
            self.slot_requests.iter().next(),
            self.unplaced.iter().next(),
        ) {
            (Some((slot, json)), _) => Some((*slot, Entry::Value { json: json.clone() })),
            // Batching, Phase 1 goes without a command: every command that arrives while it
            // runs (forwarded by peers that its Prepare named the leader) goes in the first
            // batch once it stands, in the same round trips the first command alone would take.
            (None, Some(_)) if self.config.batches() => None,
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
                if self.promise_could_hide_a_forgotten_acceptance(&message) {
                    return vec![]; // no vote: as if the message were lost
                }
                if let Some(refusal) = self.refusal_below_the_ballot_floor(&message) {
                    return vec![(from, refusal)];
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
                let answer = self
                    .catch_up_answer(from_slot)
                    .unwrap_or(PeerMessage::CatchUpReply {
                        entries: Vec::new(),
                    });
                step.send.push((from, answer));
                true
            }
            Message::Accept { slot, .. } if slot < self.applied_below => {
                debug_assert_ne!(
                    from,
                    self.index(),
                    "a proposer never proposes a chosen slot"
                );
                let answer = match self.log.get(slot) {
                    Some(entry) => PeerMessage::Chosen {
                        slot,
                        entry: entry.clone(),
                    },
                    None => self.install_snapshot_message(),
                };
                step.send.push((from, answer));
                true
            }
            _ => false,
        }
    }

    /// A Prepare whose Phase 1 reaches this node's slot floor before it has learned that far:
    /// an earlier life may have accepted there and forgotten it, and a promise would report
    /// nothing (see `on_probe_reply`). Not promising is always safe; the other voters promise.
    fn promise_could_hide_a_forgotten_acceptance(&self, message: &Message<Entry>) -> bool {
        match (message, self.slot_floor) {
            (Message::Prepare { from_slot, .. }, Some(floor)) => {
                !self.caught_up() && *from_slot <= floor
            }
            _ => false,
        }
    }

    /// A request below this node's ballot floor is refused as its acceptor would refuse one
    /// below its promise: an earlier life may have promised the floor's ballot (see
    /// `on_probe_reply`). The refusal names the floor, so that the proposer goes above it.
    fn refusal_below_the_ballot_floor(&self, request: &Message<Entry>) -> Option<Message<Entry>> {
        let floor = self.ballot_floor?;
        let promised = self.acceptor.promised.max(Some(floor))?;
        match *request {
            Message::Prepare { ballot, .. } if ballot < floor => {
                Some(Message::PrepareRefused { ballot, promised })
            }
            Message::Accept { slot, ref proposal } if proposal.ballot < floor => {
                Some(Message::AcceptRefused {
                    slot,
                    ballot: proposal.ballot,
                    promised,
                })
            }
            _ => None,
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

    /// Runs a proposer step started by this node (a campaign, a retry, a proposal): its own
    /// acceptor hears each request first, and a request leaves for the peers only if that
    /// acceptor stands behind it (`own_acceptor_stands_behind`).
    fn drive(&mut self, proposer_step: ProposerStep<Entry>, step: &mut ReplicaStep) {
        let (own, peers): (Vec<_>, Vec<_>) = self
            .proposer_messages(proposer_step, step)
            .into_iter()
            .partition(|(to, _)| *to == self.index());
        for (_, message) in own {
            self.deliver(self.index(), message, step);
        }
        for (to, message) in peers {
            if self.own_acceptor_stands_behind(&message) {
                step.send.push((to, PeerMessage::Paxos(message)));
            }
        }
    }

    /// Whether this node's own acceptor has promised (for a Prepare) or accepted (for an
    /// Accept) what its proposer asks of the others, and persisted it in this very step; an
    /// Accept for a slot since learned is covered by the log, which is durable too. What the
    /// rejoin rule asks of every node (see `on_probe_reply`): what a node voted for in an
    /// earlier life can be vouched for by the node that asked. A Prepare always passes (the
    /// proposer's ballots go above every promise its acceptor made, and only a node that may
    /// campaign starts one); an Accept fails when the own acceptor promised a rival's higher
    /// ballot since this one was established, which preempts the proposer: not sending the
    /// others a proposal that is dead already is always safe.
    fn own_acceptor_stands_behind(&self, request: &Message<Entry>) -> bool {
        match request {
            Message::Prepare { ballot, .. } => {
                let promised = self.acceptor.promised >= Some(*ballot);
                debug_assert!(
                    promised || self.config.flaw != Flaw::None,
                    "a Prepare at {ballot:?} that its own acceptor did not promise"
                );
                promised
            }
            Message::Accept { slot, proposal } => {
                self.acceptor.accepted.get(*slot) == Some(proposal)
                    || self.log.get(*slot) == Some(&proposal.value)
            }
            _ => true,
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
        if slot < self.log_start {
            return; // applied, and dropped with a snapshot that holds what it did
        }
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
        let applied_from = self.applied_below;
        self.apply_ready(applied_from, step);
    }

    /// Applies every slot the log holds from `applied_below` on without a hole, and lets the
    /// acceptor drop what it accepted below (see `learn`). `applied_from`: where the applied
    /// log was before this step learned anything (to tell whether it passed the slot floor).
    fn apply_ready(&mut self, applied_from: Slot, step: &mut ReplicaStep) {
        while let Some(entry) = self.log.get(self.applied_below) {
            // A command in two slots (forwarded to two leaders in turn) is applied at the first
            // and only answered from `applied` at the second; a batch is applied in its order.
            for (id, op) in entry.commands() {
                if !self.was_applied(id) {
                    let result = self.store.apply(op);
                    self.applied.insert(id.clone(), result.clone());
                    if self.clients.remove(id) {
                        step.replies.push((id.clone(), result));
                    }
                    self.applied_order.push_back(id.clone());
                    while self.applied_order.len() > self.config.answers_kept {
                        let oldest = self.applied_order.pop_front().expect("not empty");
                        self.applied.remove(&oldest);
                        let dropped = self
                            .answers_dropped
                            .entry(oldest.client.clone())
                            .or_default();
                        *dropped = (*dropped).max(oldest.seq);
                        // The client's commands up to there now count as applied
                        // (`was_applied`): none will be placed, so none is held any more.
                        let first = RequestId {
                            client: oldest.client.clone(),
                            seq: 0,
                        };
                        let last = RequestId {
                            client: oldest.client,
                            seq: *dropped,
                        };
                        let held: Vec<RequestId> = self
                            .unplaced
                            .range(first.clone()..=last.clone())
                            .map(|(held, _)| held.clone())
                            .chain(self.clients.range(first..=last).cloned())
                            .collect();
                        for held in held {
                            self.unplaced.remove(&held);
                            self.forwarded.remove(&held);
                            self.clients.remove(&held);
                        }
                    }
                } else {
                    // Answered at its first slot; or, with snapshots, a command whose answer
                    // was dropped (`was_applied`), which nobody waits for.
                    self.clients.remove(id);
                }
                self.unplaced.remove(id);
                self.forwarded.remove(id);
            }
            self.applied_below += 1;
        }
        self.acceptor.accepted.remove_below(self.applied_below);
        if let Some(floor) = self.slot_floor {
            if applied_from <= floor && self.applied_below > floor {
                step.caught_up_past = Some(floor);
            }
        }
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
        self.compact(step);
    }

    /// Once `snapshot_every` applied slots sit in the log, takes a snapshot of the state machine
    /// (durably) and drops them from the log.
    ///
    /// Why the log may forget them. Every slot below `applied_below` is chosen and applied, so
    /// the snapshot is what any replica that applies the same chosen prefix has; the log kept
    /// those entries for two uses only, and the snapshot serves both. A peer that asks for them
    /// (a catch-up, a Prepare or an Accept from below the applied log) is sent the snapshot
    /// (`catch_up_answer`, `answers_from_the_log`): it installs it as if it had learned and
    /// applied every slot up to there. And the acceptor already keeps no acceptance below the
    /// applied log (`learn` argues why that is safe): it answers no Phase 1 from there, so no
    /// promise ever needs those slots' acceptances.
    ///
    /// What the rejoin rule needs of it holds too: `floors` counts the applied log, so a node
    /// vouches for as high a slot after a snapshot as before it.
    fn compact(&mut self, step: &mut ReplicaStep) {
        let Some(every) = self.config.snapshot_every else {
            return;
        };
        if self.applied_below - self.log_start < every.max(1) {
            return;
        }
        let snapshot = self.snapshot();
        self.log.remove_below(self.applied_below);
        self.log_start = self.applied_below;
        self.phase1_skipped = self.phase1_skipped.split_off(&self.applied_below);
        step.persist.push(Record::Snapshot(snapshot));
    }

    /// A snapshot from a peer (or from this node's disk, on recovery). If it covers a slot this
    /// node has not applied, it takes the snapshot's state machine in place of its own, as if it
    /// had learned and applied every slot up to there: those slots are chosen (a peer applied
    /// them), and its own applied log is a prefix of theirs. Its log, its acceptor and its
    /// proposer drop them, as `learn` and `compact` do.
    ///
    /// The rejoin rule's floors stay intact. A node that installs a snapshot through slot S has
    /// learned every slot up to S, exactly as if it had caught up entry by entry: if its slot
    /// floor is at most S, it has caught up past it (`caught_up_past`), and every Phase 1 from
    /// at or below S is answered from what is chosen there (`answers_from_the_log`), never with
    /// a promise that could hide an acceptance an earlier life forgot. Its ballot floor is not
    /// touched. And it now vouches for S in its own floors, which it persisted (the record).
    fn install(&mut self, snapshot: Snapshot, step: &mut ReplicaStep) {
        let below = snapshot.below();
        if below <= self.applied_below {
            return; // it has applied all of it already
        }
        let applied_from = self.applied_below;
        self.store = snapshot.store.clone();
        self.take_client_table(&snapshot);
        self.applied_below = below;
        self.log_start = below;
        self.log.remove_below(below);
        self.proposer.learn_below(below);
        self.phase1_skipped = self.phase1_skipped.split_off(&below);
        self.slot_requests = self.slot_requests.split_off(&below);
        self.slots_forwarded = self.slots_forwarded.split_off(&below);
        // A client waiting for a named slot the snapshot covers is not answered: what the slot
        // chose is not in the snapshot (the course's named slots never get this far).
        self.slot_waiters = self.slot_waiters.split_off(&below);
        let applied: Vec<RequestId> = self
            .unplaced
            .keys()
            .chain(&self.clients)
            .filter(|id| self.was_applied(id))
            .cloned()
            .collect();
        for id in applied {
            self.unplaced.remove(&id);
            self.forwarded.remove(&id);
            if self.clients.remove(&id) {
                if let Some(result) = self.applied.get(&id) {
                    step.replies.push((id, result.clone()));
                }
            }
        }
        step.persist.push(Record::Snapshot(snapshot));
        self.apply_ready(applied_from, step);
    }

    /// Whether the command `id` counts as applied: it is in the client table, or it is no later
    /// than the last command of its client whose answer was dropped.
    ///
    /// Why the second is sound. A node keeps the answers of the last `answers_kept` commands
    /// applied, so that the client table (and a snapshot of it) does not grow with history. A
    /// command whose answer was dropped was applied, and must not be again; and so, by this
    /// rule, does every older command of its client. Such an older command may not have been
    /// applied: its client sent it before a later one, which then overtook it by
    /// `answers_kept` commands. A client (Maelstrom's) sends one request at a time, each with a
    /// `seq` (its `msg_id`) above the last, so it had given up on that command (an
    /// indeterminate operation, which may never take effect); a client that pipelines gets no
    /// answer for it. Not applying it keeps every history linearizable, where applying it
    /// could undo the client's later write. The answers dropped, and so this rule, are a
    /// function of the log prefix applied (by count, not by when or whether a node takes
    /// snapshots), so every replica applies the same commands.
    fn was_applied(&self, id: &RequestId) -> bool {
        self.applied.contains_key(id)
            || self
                .answers_dropped
                .get(&id.client)
                .is_some_and(|dropped| id.seq <= *dropped)
    }

    /// Whether `slot` is known chosen here: in the log, or below it (in the snapshot).
    fn knows_chosen(&self, slot: Slot) -> bool {
        slot < self.log_start || self.log.contains(slot)
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
        for value in self.command_entries() {
            if !self.proposer.is_leading() {
                return;
            }
            if self.config.flaw == Flaw::AcknowledgeBeforeChosen {
                // The flaw: the client hears the answer the command would have now, before
                // any acceptor has even seen it.
                for (id, op) in value.commands() {
                    if self.clients.remove(id) {
                        let answer = self.store.clone().apply(op);
                        step.replies.push((id.clone(), answer));
                    }
                }
            }
            let slot = self.proposer.next_free_slot();
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
            .flat_map(|entry| entry.commands().map(|(id, _)| id))
            .collect();
        self.unplaced
            .iter()
            .filter(|(id, _)| !proposed.contains(id) && !self.in_log(id))
            .map(|(id, op)| (id.clone(), op.clone()))
            .collect()
    }

    /// The entries the leader proposes now for the waiting commands, each in a slot of its own.
    /// Without batching, one `Entry::Command` per command. With it, the commands wait while
    /// `in_flight_max` slots are in flight (the decision of one of them places them), and then
    /// go as few entries as `batch_max` allows; a lone command still goes as a plain
    /// `Entry::Command`, so that a quiet cluster's log reads as before.
    fn command_entries(&self) -> Vec<Entry> {
        let waiting = self.waiting_commands();
        if !self.config.batches() {
            return waiting
                .into_iter()
                .map(|(id, op)| Entry::Command { id, op })
                .collect();
        }
        if waiting.is_empty() || self.slots_in_flight() >= self.config.in_flight_max {
            return Vec::new();
        }
        waiting
            .chunks(self.config.batch_max)
            .map(|chunk| match chunk {
                [(id, op)] => Entry::Command {
                    id: id.clone(),
                    op: op.clone(),
                },
                commands => Entry::Batch {
                    commands: commands.to_vec(),
                },
            })
            .collect()
    }

    /// Slots this node's proposer has been asked for or sent Accepts for, not yet decided (a
    /// request stays in `requests` while its Accepts are out: counted once).
    fn slots_in_flight(&self) -> usize {
        let proposer = &self.proposer;
        let unrequested = proposer
            .in_flight
            .slots()
            .filter(|slot| !proposer.requests.contains(*slot));
        proposer.requests.len() + unrequested.count()
    }

    /// The highest slot holding a command, learned or at this node's proposer. The log is read
    /// from its end, where commands are: the cost does not grow with the log.
    fn highest_command_slot(&self) -> Option<Slot> {
        let is_command = |entry: &Entry| entry.commands().next().is_some();
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

    fn snapshotting(index: NodeIndex, cluster_size: usize, every: u64) -> ReplicaConfig {
        ReplicaConfig {
            snapshot_every: Some(every),
            ..config(index, cluster_size)
        }
    }

    /// Delivers every message until quiet, except those to `cut_off`, which are lost.
    fn settle_without(
        replicas: &mut [Replica],
        cut_off: NodeIndex,
        mut pending: Vec<(NodeIndex, NodeIndex, PeerMessage)>,
    ) {
        while let Some((from, to, message)) = pending.pop() {
            if to == cut_off {
                continue;
            }
            let step = replicas[to].on_peer(from, message);
            pending.extend(step.send.into_iter().map(|(dest, m)| (to, dest, m)));
        }
    }

    #[test]
    fn a_replica_drops_its_applied_log_at_a_snapshot_and_restarts_from_it_to_the_same_state() {
        // Rule: `compact`. A snapshot every 2 applied slots; 5 writes of one client.
        let mut replicas: Vec<Replica> = (0..3)
            .map(|i| Replica::new(snapshotting(i, 3, 2)))
            .collect();
        let mut disks = vec![Vec::new(); 3];
        for seq in 1..=5 {
            let (id, op) = write("c1", seq, 10 * seq as i64);
            let step = replicas[0].on_request(id, op);
            disks[0].extend(step.persist.clone());
            settle_recording(&mut replicas, &mut disks, sent_by(0, step));
        }
        let leader = &replicas[0];
        assert_eq!(leader.applied_below, 5);
        assert_eq!(leader.log_start, 4, "snapshots at slots 1 and 3");
        assert_eq!(leader.log.len(), 1, "only slot 4 is still in the log");
        assert_eq!(
            leader.applied.len(),
            5,
            "the answers of the last 4,096 commands"
        );
        assert_eq!(
            leader.floors().slot,
            Some(4),
            "what was dropped is still vouched for"
        );
        // Its disk replays to a snapshot through slot 3 and the learned slot 4.
        let state = disk(&disks[0]);
        assert_eq!(state.snapshot.as_ref().map(|s| s.through), Some(3));
        assert_eq!(state.learned.slots().collect::<Vec<_>>(), [4]);
        let restarted = Replica::recover(snapshotting(0, 3, 2), state, 0);
        assert_eq!(restarted.store, leader.store);
        assert_eq!(restarted.applied_below, 5);
        assert_eq!(restarted.proposer.first_unchosen_slot(), 5);
        // The same state from the rewritten file: what `durable_state` gives.
        let rewritten = Replica::recover(snapshotting(0, 3, 2), leader.durable_state(), 0);
        assert_eq!(rewritten.store, leader.store);
        assert_eq!(rewritten.applied_below, 5);
        assert!(
            rewritten.log.is_empty(),
            "the file holds the snapshot, no entries"
        );
    }

    /// Three replicas snapshotting every 2 slots, of which n3 heard nothing while n1 got four
    /// of c1's writes chosen with n2: n1 and n2 no longer hold slots 0 to 3.
    fn three_with_n3_left_four_slots_behind() -> Vec<Replica> {
        let mut replicas: Vec<Replica> = (0..3)
            .map(|i| Replica::new(snapshotting(i, 3, 2)))
            .collect();
        for seq in 1..=4 {
            let (id, op) = write("c1", seq, 10 * seq as i64);
            let step = replicas[0].on_request(id, op);
            settle_without(&mut replicas, 2, sent_by(0, step));
        }
        replicas
    }

    #[test]
    fn a_node_that_missed_slots_a_peer_dropped_is_sent_the_snapshot_and_answers_from_it() {
        // Rules: `catch_up_answer`, `install`. n3 hears nothing while n1 gets four writes
        // chosen with n2; both take snapshots every 2 slots, so nobody holds slot 0 any more.
        let mut replicas = three_with_n3_left_four_slots_behind();
        assert_eq!(replicas[0].log_start, 4);
        assert_eq!(replicas[2].applied_below, 0);
        // n3 asks n1 for slots from 0 on; n1 answers with its snapshot.
        let step = replicas[0].on_peer(2, PeerMessage::CatchUp { from_slot: 0 });
        let [(2, answer @ PeerMessage::InstallSnapshot { .. })] = &step.send[..] else {
            panic!("{step:?}");
        };
        let step = replicas[2].on_peer(0, answer.clone());
        assert!(matches!(&step.persist[..], [Record::Snapshot(s)] if s.through == 3));
        assert_eq!(replicas[2].store, replicas[0].store);
        assert_eq!(replicas[2].applied_below, 4);
        assert_eq!(replicas[2].proposer.first_unchosen_slot(), 4);
        // A repeat of c1's last write is answered from the client table it got, not applied.
        let (id, op) = write("c1", 4, 40);
        let step = replicas[2].on_request(id.clone(), op);
        assert_eq!(step.replies, [(id, KvResult::WriteOk)]);
        // A second copy of the snapshot changes nothing.
        assert!(replicas[2].on_peer(0, answer.clone()).persist.is_empty());
    }

    #[test]
    fn a_campaign_from_below_a_peers_snapshot_is_answered_with_it_and_prepares_again_above() {
        // Rule: `answers_from_the_log`. n3 missed four slots that n1 and n2 dropped; a client
        // hands it a write, and it campaigns from slot 0.
        let mut replicas = three_with_n3_left_four_slots_behind();
        replicas[2].known_leader = None;
        let (id, op) = write("c3", 1, 99);
        let step = replicas[2].on_request(id.clone(), op);
        settle(&mut replicas, sent_by(2, step));
        // n3 installed the snapshot, prepared again from slot 4, and got the write chosen there.
        assert!(
            replicas.iter().all(|r| r.applied_below == 5),
            "{replicas:?}"
        );
        assert!(replicas
            .iter()
            .all(|r| r.store.entries.get(&1) == Some(&99)));
    }

    #[test]
    fn a_command_older_than_one_whose_answer_was_dropped_is_not_applied() {
        // Rule: `was_applied`. One answer kept. c1's write #1 timed out at the client, which
        // sent #2; #2 is applied, then c2's write, which drops #2's answer; #1, arriving late,
        // must not undo #2, and a repeat of #2 is not applied again either.
        let mut replica = Replica::new(ReplicaConfig {
            answers_kept: 1,
            ..snapshotting(0, 1, 100)
        });
        replica.start();
        let (late, op_late) = write("c1", 1, 1);
        let (later, op_later) = write("c1", 2, 2);
        let step = replica.on_request(later.clone(), op_later.clone());
        assert_eq!(step.replies, [(later.clone(), KvResult::WriteOk)]);
        let (other, op_other) = (request("c2", 1), KvOp::Read { key: 1 });
        replica.on_request(other, op_other);
        assert_eq!(replica.applied.len(), 1, "c1#2's answer is dropped");
        for (id, op) in [(late, op_late), (later, op_later)] {
            let step = replica.on_request(id, op);
            assert!(
                step.replies.is_empty() && step.persist.is_empty(),
                "{step:?}"
            );
        }
        assert_eq!(replica.store.entries.get(&1), Some(&2));
    }

    #[test]
    fn a_pipelined_command_overtaken_by_a_later_one_is_still_applied() {
        // While both answers are kept, order within a client does not matter: a client that
        // sends #1 and #2 at once gets both applied and answered, in whatever order they come.
        let mut replica = Replica::new(snapshotting(0, 1, 100));
        replica.start();
        let (first, op_first) = write("c1", 1, 1);
        let (second, op_second) = write("c1", 2, 2);
        replica.on_request(second, op_second);
        let step = replica.on_request(first.clone(), op_first);
        assert_eq!(step.replies, [(first, KvResult::WriteOk)]);
        assert_eq!(replica.store.entries.get(&1), Some(&1));
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

    /// Three replicas started without state, every probe and answer delivered.
    fn new_cluster() -> Vec<Replica> {
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
        replicas
    }

    /// Delivers every message until quiet, except those `lost` says the network loses.
    fn settle_losing(
        replicas: &mut [Replica],
        mut pending: Vec<(NodeIndex, NodeIndex, PeerMessage)>,
        lost: impl Fn(&(NodeIndex, NodeIndex, PeerMessage)) -> bool,
    ) {
        while let Some(delivery) = pending.pop() {
            if lost(&delivery) {
                continue;
            }
            let (from, to, message) = delivery;
            let step = replicas[to].on_peer(from, message);
            pending.extend(sent_by(to, step));
        }
    }

    #[test]
    fn a_new_cluster_votes_whatever_order_its_nodes_start_in() {
        // Every node probes; each votes once both others answered, and they had nothing.
        let replicas = new_cluster();
        for replica in &replicas {
            assert!(replica.votes() && replica.slot_floor.is_none());
            assert_eq!(replica.acceptor, Acceptor::new());
        }
        // n3 starts late: n1 and n2 voted and chose a write before n3's probe reaches them.
        let mut replicas: Vec<Replica> = (0..3)
            .map(|i| Replica::without_state(config(i, 3), 100 + i as u64))
            .collect();
        let steps: Vec<ReplicaStep> = replicas.iter_mut().map(Replica::start).collect();
        let mut late = Vec::new();
        let mut early = Vec::new();
        for (node, step) in steps.into_iter().enumerate() {
            for sent in sent_by(node, step) {
                if sent.0 == 2 {
                    late.push(sent);
                } else {
                    early.push(sent);
                }
            }
        }
        settle(&mut replicas, early);
        assert!(replicas[0].votes() && replicas[1].votes() && !replicas[2].votes());
        let (id, op) = write("c1", 1, 7);
        let step = replicas[0].on_request(id, op);
        settle_losing(&mut replicas, sent_by(0, step), |(_, to, _)| *to == 2);
        assert_eq!(replicas[0].applied_below, 1);
        // n3's probes now find state: it votes with n1's and n2's floors, never as a learner.
        settle(&mut replicas, late);
        let n3 = &replicas[2];
        assert!(n3.votes(), "no start order leaves a node out of the votes");
        assert_eq!(n3.ballot_floor, replicas[0].acceptor.promised);
        assert_eq!(n3.slot_floor, Some(0));
    }

    #[test]
    fn a_node_that_lost_its_disk_votes_again_with_the_floors_of_every_other_node() {
        let mut replicas = new_cluster();
        for seq in 1..=2 {
            let (id, op) = write("c1", seq, seq as i64);
            let step = replicas[0].on_request(id, op);
            settle(&mut replicas, sent_by(0, step));
        }
        let promised = replicas[0].acceptor.promised.expect("n1 leads");
        // n3 loses its disk. Until both others answer, it does not vote.
        replicas[2] = Replica::without_state(config(2, 3), 7);
        let probes = sent_by(2, replicas[2].start());
        assert_eq!(probes.len(), 2);
        let mut answers = Vec::new();
        for (from, to, message) in probes {
            answers.extend(sent_by(to, replicas[to].on_peer(from, message)));
        }
        let (from, to, first) = answers.remove(0);
        let step = replicas[to].on_peer(from, first);
        assert!(
            step.settled.is_none() && !replicas[2].votes(),
            "one answer of two"
        );
        let (from, to, second) = answers.remove(0);
        let step = replicas[to].on_peer(from, second);
        let floors = Floors {
            ballot: Some(promised),
            slot: Some(1),
        };
        assert_eq!(step.settled, Some(Settled::Answered(floors)));
        assert_eq!(
            step.persist,
            [
                Record::BallotFloor(promised),
                Record::SlotFloor(1),
                Record::Membership(Membership::Voter),
            ],
            "the floors are durable before the vote"
        );
        let why = Settled::Answered(floors).explain();
        assert!(why.contains("nothing below ballot 1.n1"), "{why}");
        // Not caught up: no promise for a Phase 1 that reaches slot 1, and no campaign; but an
        // Accept at the promised ballot is taken.
        let low = PeerMessage::Paxos(Message::Prepare {
            ballot: Ballot::new(5, 1),
            from_slot: 0,
        });
        assert_eq!(replicas[2].on_peer(1, low).send, []);
        assert!(!replicas[2].may_campaign());
        let accept = Message::Accept {
            slot: 2,
            proposal: Proposal::new(promised, Entry::Noop),
        };
        let step = replicas[2].on_peer(0, PeerMessage::Paxos(accept));
        assert!(matches!(
            step.send[..],
            [(0, PeerMessage::Paxos(Message::Accepted { slot: 2, .. }))]
        ));
        // Its timer asks for the slots it has not learned; then it may campaign.
        let step = replicas[2].on_timeout();
        settle(&mut replicas, sent_by(2, step));
        assert_eq!(replicas[2].log, replicas[0].log);
        assert!(replicas[2].caught_up() && replicas[2].may_campaign());
        let high = PeerMessage::Paxos(Message::Prepare {
            ballot: Ballot::new(5, 1),
            from_slot: 2,
        });
        let step = replicas[2].on_peer(1, high);
        assert!(matches!(
            step.send[..],
            [(1, PeerMessage::Paxos(Message::Promise { .. }))]
        ));
    }

    #[test]
    fn a_promise_in_flight_when_the_disk_was_lost_is_kept_by_the_ballot_floor() {
        // The story of `on_probe_reply`: n1 promised n3's ballot, and lost its disk with the
        // promise in flight. n2 knows nothing of it; n3's answer is the one that tells.
        let mut replicas = new_cluster();
        let (id, op) = write("c3", 1, 9);
        let campaign = replicas[2].on_request(id, op);
        let ballot = replicas[2].proposer.current_ballot().expect("n3 campaigns");
        let to_n1 = campaign
            .send
            .iter()
            .find(|(to, _)| *to == 0)
            .cloned()
            .expect("a Prepare for n1");
        replicas[0].on_peer(2, to_n1.1); // promised; the Promise is in flight, and stays so
        replicas[0] = Replica::without_state(config(0, 3), 7);
        let probes = sent_by(0, replicas[0].start());
        let (n2_probe, n3_probe): (Vec<_>, Vec<_>) =
            probes.into_iter().partition(|(_, to, _)| *to == 1);
        settle(&mut replicas, n2_probe);
        assert!(
            !replicas[0].votes(),
            "a majority has answered, not every node"
        );
        settle(&mut replicas, n3_probe);
        assert!(replicas[0].votes());
        assert_eq!(replicas[0].ballot_floor, Some(ballot));
        // n2 campaigns below n3's ballot: n1 does not promise it.
        let below = PeerMessage::Paxos(Message::Prepare {
            ballot: Ballot::new(ballot.round, 1),
            from_slot: 0,
        });
        let step = replicas[0].on_peer(1, below);
        assert!(matches!(
            step.send[..],
            [(1, PeerMessage::Paxos(Message::PrepareRefused { .. }))]
        ));
    }

    #[test]
    fn an_accept_its_own_acceptor_refused_never_leaves_the_leader() {
        let mut replicas = new_cluster();
        let (id, op) = write("c1", 1, 7);
        let step = replicas[0].on_request(id, op);
        settle(&mut replicas, sent_by(0, step));
        assert!(replicas[0].proposer.is_leading());
        // n1's acceptor promises n2's higher ballot; n1's proposer does not know yet.
        let rival = Ballot::new(9, 1);
        let prepare = PeerMessage::Paxos(Message::Prepare {
            ballot: rival,
            from_slot: 1,
        });
        replicas[0].on_peer(1, prepare);
        assert!(replicas[0].proposer.is_leading());
        let (id, op) = write("c1", 2, 8);
        let step = replicas[0].on_request(id, op);
        assert!(
            !step
                .send
                .iter()
                .any(|(_, m)| matches!(m, PeerMessage::Paxos(Message::Accept { .. }))),
            "an Accept its own acceptor refused would be vouched for by nobody: {step:?}"
        );
        assert!(
            !replicas[0].proposer.is_leading(),
            "preempted by its own acceptor"
        );
    }

    #[test]
    fn a_probe_answered_twice_counts_the_first_answer() {
        let mut replicas = new_cluster();
        replicas[2] = Replica::without_state(config(2, 3), 7);
        replicas[2].start();
        let probe = PeerMessage::Probe { nonce: 7 };
        let early = sent_by(0, replicas[0].on_peer(2, probe.clone()));
        let (id, op) = write("c1", 1, 7);
        let step = replicas[0].on_request(id, op);
        settle_losing(&mut replicas, sent_by(0, step), |(_, to, _)| *to == 2);
        let later = sent_by(0, replicas[0].on_peer(2, probe));
        assert_ne!(early, later, "n1 holds state by the second answer");
        let (from, _, message) = later[0].clone();
        replicas[2].on_peer(from, message);
        let (from, _, message) = early[0].clone();
        assert!(replicas[2].ignores(from, &message), "n1 is counted already");
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
    fn a_busy_leader_puts_the_commands_that_wait_in_one_slot_and_answers_each() {
        let mut replicas: Vec<Replica> = (0..3).map(|i| Replica::new(config(i, 3))).collect();
        let (id, op) = write("c1", 1, 1);
        let step = replicas[0].on_request(id, op);
        settle(&mut replicas, sent_by(0, step));
        // Two slots in flight (IN_FLIGHT_MAX), their Accepts not yet answered.
        let mut in_flight = Vec::new();
        for seq in 2..=3 {
            let (id, op) = write("c1", seq, seq as i64);
            in_flight.extend(sent_by(0, replicas[0].on_request(id, op)));
        }
        // Three more commands arrive, one a repeat of a command already in flight: they wait.
        let mut waiting = Vec::new();
        for client in ["c2", "c3", "c4"] {
            let (id, op) = write(client, 1, 9);
            let step = replicas[0].on_request(id.clone(), op);
            assert!(step.send.is_empty(), "held back: {step:?}");
            waiting.push(id);
        }
        let (repeat, op) = write("c1", 3, 3);
        assert!(replicas[0].on_request(repeat, op).send.is_empty());
        // The in-flight slots are decided: the waiting commands go in one slot, the repeat
        // not among them (its slot holds it).
        settle(&mut replicas, in_flight);
        let batch = replicas[0].log.get(3).expect("slot 3 chosen");
        let ids: Vec<&RequestId> = batch.commands().map(|(id, _)| id).collect();
        assert!(matches!(batch, Entry::Batch { .. }), "{batch}");
        assert_eq!(ids, waiting.iter().collect::<Vec<_>>());
        for replica in &replicas {
            assert_eq!(replica.applied_below, 4);
            assert_eq!(replica.store.entries.get(&1), Some(&9));
            assert!(waiting.iter().all(|id| replica.applied.contains_key(id)));
        }
        assert!(replicas[0].clients.is_empty(), "every client answered");
    }

    #[test]
    fn a_command_chosen_in_two_slots_is_applied_once_in_the_first() {
        let mut replica = Replica::new(config(0, 1));
        let mut step = ReplicaStep::default();
        let (first, write_one) = write("c1", 1, 1);
        let (second, write_two) = write("c2", 1, 2);
        replica.clients.insert(first.clone());
        let batch = Entry::Batch {
            commands: vec![(first.clone(), write_one.clone()), (second, write_two)],
        };
        replica.learn(0, batch, &mut step);
        // The same command again in a later slot (forwarded to two leaders in turn).
        replica.learn(
            1,
            Entry::Command {
                id: first.clone(),
                op: write_one,
            },
            &mut step,
        );
        assert_eq!(
            replica.store.entries.get(&1),
            Some(&2),
            "not written back to 1"
        );
        assert_eq!(step.replies, [(first, KvResult::WriteOk)], "answered once");
    }

    #[test]
    fn a_node_still_probing_that_missed_the_last_decisions_asks_for_the_log_on_its_timer() {
        let mut replicas: Vec<Replica> = (0..3).map(|i| Replica::new(config(i, 3))).collect();
        let (id, op) = write("c1", 1, 7);
        let step = replicas[0].on_request(id, op);
        settle(&mut replicas, sent_by(0, step));
        // n3 lost its disk and restarted; its probes were lost, so it does not vote yet. Its
        // client asks for slot 0, decided long ago.
        replicas[2] = Replica::without_state(config(2, 3), 7);
        assert!(!replicas[2].may_campaign());
        let step = replicas[2]
            .on_propose(request("c3", 1), 0, "\"x\"".into())
            .expect("within the window");
        assert_eq!(step.timer, TimerChange::Arm);
        // Its forwards are ignored (the slot is decided); its timer finds the log unmoved, and
        // it asks its peers for the log rather than wait for ever.
        settle(&mut replicas, sent_by(2, step));
        assert!(replicas[2].log.is_empty());
        let step = replicas[2].on_timeout();
        assert!(
            step.send
                .iter()
                .any(|(_, m)| matches!(m, PeerMessage::CatchUp { from_slot: 0 })),
            "{step:?}"
        );
        let mut answers = Vec::new();
        let mut pending = sent_by(2, step);
        while let Some((from, to, message)) = pending.pop() {
            let step = replicas[to].on_peer(from, message);
            answers.extend(step.slot_replies.clone());
            pending.extend(sent_by(to, step));
        }
        assert_eq!(answers.len(), 1, "the client is answered: {answers:?}");
        assert!(matches!(answers[0].1.entry, Entry::Command { .. }));
        assert!(
            replicas[2].may_campaign(),
            "its probe, asked again, was answered"
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
