//! The exhaustive model of a lin-kv cluster: `replicas` nodes running `protocol::replica::Replica`
//! exactly as `paxos-node` runs it, and `clients` that each submit a few commands on one key.
//! The actors are thin adapters: a replica actor hands every input to the replica and applies
//! the `ReplicaStep` it returns the way the node's event loop does (persist, send, answer, set
//! the timer), so every path of the replica (forwarding, deferring to a rival, standing down,
//! filling holes with no-ops, catching up from peers, taking over after a timeout) is a path
//! the checker explores.
//!
//! Every replica starts as the node starts with an empty data directory, or without one: with
//! no state, probing every other replica, and voting only once every other replica has answered
//! (`ClusterStart::Fresh`, see `Actor::on_start` below for why that also covers any order and
//! delay of the nodes' `init`). A replica may crash and come back from its disk, or lose the
//! disk too (`--disk-losses`) and start without state again, probing as at the start.
//!
//! Replicas are actors `n1..nN` (ids 0..N), clients `c1..cK` after them. Client `ci` talks to
//! replica `n((i-1) mod N + 1)`, submits its commands one at a time, and hears the answer from
//! that replica. The retry timer is a nondeterministic timeout, which may expire at any moment
//! it is armed, at most `timeouts` times in a run (across the cluster); ballots stop at round
//! `rounds`, a bound in the ballots themselves, so that a restart (which forgets how many
//! ballots a node started) cannot lift it.
//!
//! What the properties judge is a ghost record: every acceptance any replica's acceptor makes
//! (observed as it happens, since a node accepts its own proposals without a network message),
//! the clients' history for stateright's linearizability tester, and which of the interesting
//! paths a run took. An operation is invoked when its request reaches the replica and returns
//! when the answer leaves it: the network's delay is arbitrary, so some real run has the
//! client send just before the arrival and hear just after the send, and that run's history is
//! the strictest. (Invoked at the client's send, every first command would be concurrent with
//! every other, and a history of those can hardly fail.) A client takes no part in the
//! protocol, so an answer changes nothing at the client and is consumed at once.

use crate::check::actors::{ActorIndex, ActorSystem, DiskLoss, SystemState, OBSERVER};
use crate::check::cuts::{only_cuts_of, use_of, Cut, CutUse, Reductions};
use crate::check::settings::{
    chosen_words, counted, fault_flags, faults_summary, Faults, ModelConfig, NetworkKind,
    Presentation,
};
use crate::protocol::ballot::Proposal;
use crate::protocol::chosen::ChosenTracker;
use crate::protocol::durable::{DurableState, Membership};
use crate::protocol::entry::{Entry, RequestId};
use crate::protocol::flaw::Flaw;
use crate::protocol::kv::{KvOp, KvResult, KvStore};
use crate::protocol::replica::{
    NodeIndex, PeerMessage, Replica, ReplicaConfig, ReplicaStep, Settled, Voting,
};
use crate::protocol::rules::TimerChange;
use crate::protocol::slots::Slot;
use crate::ConfigError;
use serde::{Deserialize, Serialize};
use stateright::actor::{model_timeout, Actor, Id, Out};
use stateright::semantics::{ConsistencyTester, LinearizabilityTester};
use stateright::Property;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// The largest configurations the CLI accepts.
pub const REPLICAS_MAX: usize = 5;
pub const CLIENTS_MAX: usize = 3;
pub const COMMANDS_MAX: usize = 3;
pub const ROUNDS_MAX: u32 = 4;
pub const TIMEOUTS_MAX: usize = 3;
/// At most one disk is lost in a run. The rejoin rule assumes losses that do not overlap,
/// which one loss (after a start where no replica had voted yet) cannot break; see
/// `protocol::replica`'s header for what a second loss would need of the network.
pub const DISK_LOSSES_MAX: usize = 1;
/// The most crashes a run may be bounded to (`--crashes-in-run`).
pub const CRASHES_IN_RUN_MAX: usize = 4;
/// The most commands per slot the model's leaders may batch (`--batch`): no run has more
/// commands than clients in flight at once.
pub const BATCH_MAX: usize = CLIENTS_MAX;
/// The highest snapshot threshold the model takes (`--snapshot-every`): a run chooses a few
/// slots, so a higher one would never be reached.
pub const SNAPSHOT_EVERY_MAX: usize = 3;
/// Crashes in a run where a disk may be lost, unless set: the crash that loses it and one more
/// (of the replica while it probes, or of another). Unbounded, a replica that keeps crashing
/// while it probes makes the state space grow past what fits in memory.
pub const CRASHES_IN_RUN_WITH_DISK_LOSS: usize = 2;

/// The cluster's cuts: no symmetry (each replica tags its own ballots, each client talks to its
/// own replica) and no dead requests (the replica's acceptor answers from its log what a
/// Paxos acceptor would refuse).
const CLUSTER_CUTS: [Cut; 4] = [
    Cut::StaleMessages,
    Cut::CoalescedProbes,
    Cut::HeldRequests,
    Cut::QuietProbers,
];

/// The key every client works on: one key is where linearizability can fail.
const KEY: i64 = 0;

/// How the replicas start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ClusterStart {
    /// As the node starts without state: every replica probes, and votes once every other
    /// replica has answered. The real start, and the default.
    #[default]
    Fresh,
    /// Every replica a voter from the first state, with that on its disk: the state the fresh
    /// start reaches when every probe and answer is delivered before anything else happens
    /// (each replica then votes with empty floors and has persisted that, and its timer is
    /// cancelled), so every run from it is a run of the fresh start with that prefix cut off. A
    /// sub-case, for shorter stories of flaws that have nothing to do with starting.
    Voters,
}

impl ClusterStart {
    pub fn name(self) -> &'static str {
        match self {
            ClusterStart::Fresh => "fresh",
            ClusterStart::Voters => "voters",
        }
    }
}

/// A cluster of replicas and the clients that use it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClusterConfig {
    pub replicas: usize,
    pub clients: usize,
    /// Commands each client submits, one after the other.
    pub commands: usize,
    /// The highest ballot round any replica may start.
    pub rounds: u32,
    /// Retry-timer expiries in a run, across the cluster.
    pub timeouts: usize,
    pub faults: Faults,
    /// Crashes that also lose the replica's disk, in a run.
    #[serde(default)]
    pub disk_losses: usize,
    /// At most this many crashes in a run, if bounded (`faults.crashes` bounds the replicas
    /// crashed at once).
    #[serde(default)]
    pub crashes_in_run: Option<usize>,
    /// How the replicas start.
    #[serde(default)]
    pub start: ClusterStart,
    pub flaw: Flaw,
    /// The cuts of the state space a run may use (`--reduce`): stale, coalesce, hold, quiet.
    #[serde(default)]
    pub reductions: Reductions,
    /// The most commands a leader puts in one slot (`ReplicaConfig::batch_max`). Above 1, a
    /// leader also holds commands back while a slot is in flight, so that batches form.
    #[serde(default = "one")]
    pub batch_max: usize,
    /// Replicas take a snapshot once this many applied slots sit in their log
    /// (`ReplicaConfig::snapshot_every`), and send it to a peer that asks for slots below it;
    /// 0: never (the default, so that every count pinned before snapshots stays as it was).
    #[serde(default)]
    pub snapshot_every: usize,
}

fn one() -> usize {
    1
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            replicas: 3,
            clients: 2,
            commands: 1,
            rounds: 2,
            // The fresh start (every replica probing) multiplies the space about twelvefold
            // (185,601 states against 15,263 from voters, without timeouts): with one timer
            // expiry it is more than 3.7 million states (where a 6 GiB memory guard stopped it),
            // against 2.5 million from voters. `ClusterStart::Voters` with one timeout explores
            // the timer's paths from the state the fresh start reaches.
            timeouts: 0,
            faults: Faults::default(),
            disk_losses: 0,
            crashes_in_run: None,
            start: ClusterStart::Fresh,
            flaw: Flaw::None,
            reductions: Reductions::ALL,
            batch_max: 1,
            snapshot_every: 0,
        }
    }
}

impl ClusterConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        ConfigError::check_range("replicas", self.replicas, 1, REPLICAS_MAX)?;
        ConfigError::check_range("clients", self.clients, 1, CLIENTS_MAX)?;
        ConfigError::check_range("commands", self.commands, 1, COMMANDS_MAX)?;
        ConfigError::check_range("rounds", self.rounds as usize, 1, ROUNDS_MAX as usize)?;
        ConfigError::check_range("timeouts", self.timeouts, 0, TIMEOUTS_MAX)?;
        ConfigError::check_range("crashes", self.faults.crashes, 0, self.replicas)?;
        ConfigError::check_range("disk-losses", self.disk_losses, 0, DISK_LOSSES_MAX)?;
        ConfigError::check_range("batch", self.batch_max, 1, BATCH_MAX)?;
        ConfigError::check_range("snapshot-every", self.snapshot_every, 0, SNAPSHOT_EVERY_MAX)?;
        if let Some(crashes) = self.crashes_in_run {
            ConfigError::check_range("crashes-in-run", crashes, 1, CRASHES_IN_RUN_MAX)?;
            if self.faults.crashes == 0 {
                return Err(ConfigError {
                    setting: "crashes-in-run",
                    message: "bounds crashes: it needs --crashes 1 or more".into(),
                });
            }
        }
        if self.disk_losses > 0 && self.faults.crashes == 0 {
            return Err(ConfigError {
                setting: "disk-losses",
                message: "a disk is lost in a crash: it needs --crashes 1 or more".into(),
            });
        }
        self.cut_uses().map(|_| ())
    }

    /// Whether each of the cluster's cuts is used, or an error if one named in `--reduce`
    /// does not hold here.
    fn cut_uses(&self) -> Result<Vec<(Cut, CutUse)>, ConfigError> {
        let error = |message| ConfigError {
            setting: "reduce",
            message,
        };
        only_cuts_of(&self.reductions, Self::NAME, &CLUSTER_CUTS).map_err(error)?;
        let coalesce_holds = if self.faults.network == NetworkKind::Ordered {
            Err(
                "on an ordered network one copy of a probe cannot be held back to stand in \
                 for two (docs/reductions.md)",
            )
        } else {
            Ok(())
        };
        Ok(vec![
            (
                Cut::StaleMessages,
                use_of(&self.reductions, Cut::StaleMessages, Ok(())).map_err(error)?,
            ),
            (
                Cut::CoalescedProbes,
                use_of(&self.reductions, Cut::CoalescedProbes, coalesce_holds).map_err(error)?,
            ),
            (
                Cut::HeldRequests,
                use_of(&self.reductions, Cut::HeldRequests, self.hold_holds()).map_err(error)?,
            ),
            (
                Cut::QuietProbers,
                use_of(&self.reductions, Cut::QuietProbers, self.quiet_holds()).map_err(error)?,
            ),
        ])
    }

    /// Where the cut `hold` (`ClusterActor::on_msg`) holds: not on FIFO links, where a delivery
    /// that changes nothing consumes the message.
    fn hold_holds(&self) -> Result<(), &'static str> {
        if self.faults.network == NetworkKind::Ordered {
            Err("on an ordered network a request cannot wait in flight behind later messages")
        } else {
            Ok(())
        }
    }

    /// Where the cut `quiet` (`ClusterActor::on_timeout`) holds: on a network that loses
    /// nothing and need not keep order.
    fn quiet_holds(&self) -> Result<(), &'static str> {
        if self.faults.network == NetworkKind::Ordered {
            Err("on an ordered network a first probe cannot be held back behind later messages")
        } else if self.faults.losses > 0 {
            Err("where messages may be lost, a probe or its answer may need the timer to be sent again")
        } else {
            Ok(())
        }
    }

    /// The `index`-th command (from 0) of client `client` (from 0): the first client writes,
    /// the second reads, the third compares-and-sets, all on one key.
    pub fn command(&self, client: usize, index: usize) -> (RequestId, KvOp) {
        let id = RequestId {
            client: format!("c{}", client + 1).into(),
            seq: index as u64 + 1,
        };
        let value = (10 * client + index + 1) as i64;
        let op = match client {
            0 => KvOp::Write { key: KEY, value },
            1 => KvOp::Read { key: KEY },
            _ => KvOp::Cas {
                key: KEY,
                from: 1,
                to: value,
            },
        };
        (id, op)
    }

    /// Every command any client submits.
    pub fn all_commands(&self) -> impl Iterator<Item = (RequestId, KvOp)> + '_ {
        (0..self.clients)
            .flat_map(move |client| (0..self.commands).map(move |index| (client, index)))
            .map(|(client, index)| self.command(client, index))
    }

    /// The replica a client talks to.
    pub fn replica_of(&self, client: usize) -> NodeIndex {
        client % self.replicas
    }

    /// Whether the cut `hold` is on: asked for, and possible on this
    /// network.
    pub fn requests_wait(&self) -> bool {
        self.reductions.allows(Cut::HeldRequests) && self.hold_holds().is_ok()
    }

    /// Whether the cut `quiet` is on: asked for, and sound under these faults.
    pub fn probers_skip_their_timer(&self) -> bool {
        self.reductions.allows(Cut::QuietProbers) && self.quiet_holds().is_ok()
    }

    fn replica_config(&self, index: NodeIndex) -> ReplicaConfig {
        ReplicaConfig {
            flaw: self.flaw,
            round_cap: u64::from(self.rounds),
            batch_max: self.batch_max,
            // One slot in flight at a time: with a few clients, a larger window would place
            // every command before a second one arrived, and no batch would form.
            in_flight_max: if self.batch_max > 1 { 1 } else { usize::MAX },
            snapshot_every: (self.snapshot_every > 0).then_some(self.snapshot_every as u64),
            ..ReplicaConfig::node(index, self.replicas)
        }
    }
}

impl ModelConfig for ClusterConfig {
    const NAME: &'static str = "cluster";
    const TITLE: &'static str = "a lin-kv cluster of Multi-Paxos replicas";

    fn summary(&self) -> String {
        let mut disks = String::new();
        if let Some(crashes) = self.crashes_in_run {
            let crashes = if crashes == 1 {
                "1 crash".to_owned()
            } else {
                format!("{crashes} crashes")
            };
            disks += &format!(", at most {crashes} in a run");
        }
        if self.disk_losses > 0 {
            disks += &format!(", {} in a crash", counted(self.disk_losses, "disk lost"));
        }
        if self.batch_max > 1 {
            disks += &format!(", up to {} in a slot", counted(self.batch_max, "command"));
        }
        if self.snapshot_every > 0 {
            disks += &format!(
                ", a snapshot every {}",
                counted(self.snapshot_every, "applied slot")
            );
        }
        if self.start == ClusterStart::Voters {
            disks += ", every replica a voter from the start";
        }
        format!(
            "{}, {} with {} each, ballots up to round {}, at most {} in all, {}{disks}",
            counted(self.replicas, "replica"),
            counted(self.clients, "client"),
            counted(self.commands, "command"),
            self.rounds,
            counted(self.timeouts, "timeout"),
            faults_summary(&self.faults, self.flaw).replace("acceptor", "replica")
        )
    }

    fn faults(&self) -> Faults {
        self.faults
    }

    fn flaw(&self) -> Flaw {
        self.flaw
    }

    fn flags(&self) -> Vec<(&'static str, String)> {
        let mut flags = vec![
            ("replicas", self.replicas.to_string()),
            ("clients", self.clients.to_string()),
            ("commands", self.commands.to_string()),
            ("rounds", self.rounds.to_string()),
            ("timeouts", self.timeouts.to_string()),
        ];
        flags.extend(fault_flags(&self.faults, self.flaw));
        if self.disk_losses > 0 {
            flags.push(("disk-losses", self.disk_losses.to_string()));
        }
        if let Some(crashes) = self.crashes_in_run {
            flags.push(("crashes-in-run", crashes.to_string()));
        }
        if !self.reductions.is_all() {
            flags.push(("reduce", self.reductions.spelled()));
        }
        if self.batch_max > 1 {
            flags.push(("batch", self.batch_max.to_string()));
        }
        if self.snapshot_every > 0 {
            flags.push(("snapshot-every", self.snapshot_every.to_string()));
        }
        if self.start != ClusterStart::Fresh {
            flags.push(("start", self.start.name().to_owned()));
        }
        flags
    }

    fn cuts(&self) -> Vec<(Cut, CutUse)> {
        self.cut_uses().expect("a valid configuration")
    }

    /// A replica that crashes forgets the clients waiting on it (a real client times out and
    /// asks again; these do not); a lost message is retried only while timeouts are left; and
    /// a timer that expires as often as there are rounds can make a replica spend its last
    /// ballot on a campaign that then has nothing to retry with (the node has no such bound).
    fn liveness_caveat(&self) -> Option<&'static str> {
        if self.faults.crashes > 0 {
            Some("a crashed replica forgets the clients waiting on it, and clients do not retry")
        } else if self.timeouts >= self.rounds as usize {
            Some(
                "the timer may expire as often as there are rounds (--timeouts >= --rounds), and \
                 a replica that times out in its last ballot has none left to retry with",
            )
        } else {
            self.faults.liveness_caveat()
        }
    }
}

/// Everything that travels in the model: the lin-kv protocol between clients and replicas, the
/// replicas' own protocol, and observations for the ghost record.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ClusterMsg {
    Request {
        id: RequestId,
        op: KvOp,
    },
    Reply {
        id: RequestId,
        result: KvResult,
    },
    Peer(PeerMessage),
    /// Sent to `OBSERVER` only: what happened inside a replica.
    Observed(Observation),
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Observation {
    /// A replica's acceptor accepted `proposal` in `slot`.
    Accepted {
        slot: Slot,
        proposal: Proposal<Entry>,
    },
    /// A replica learned chosen entries from a peer's answer to its catch-up request.
    CaughtUp,
    /// A replica installed a peer's snapshot: it had not applied every slot the snapshot covers.
    SnapshotInstalled,
    /// A replica that lost its disk votes again, with floors another replica vouched for (the
    /// cluster held state when it asked).
    Rejoined,
    /// A client's request reached its replica.
    Invoked { id: RequestId, op: KvOp },
}

/// The replicas' one timer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ClusterTimer {
    Retry,
}

#[derive(Clone, Debug)]
pub enum ClusterActor {
    Replica {
        config: ReplicaConfig,
        /// How it starts the first time.
        start: ClusterStart,
        /// The cut `hold`, where it is on (`requests_wait`).
        requests_wait_for_the_vote: bool,
        /// The cut `quiet`, where it is on (`probers_skip_their_timer`).
        probers_skip_their_timer: bool,
        /// It may crash and restart, forgetting all but its disk (or that too).
        restarts: bool,
        /// A crash may take its disk too.
        loses_disk: bool,
    },
    Client {
        commands: Vec<(RequestId, KvOp)>,
        replica: Id,
    },
}

// Not boxed: each actor state is behind an `Arc` already, and a box would cost one more
// allocation on every copy of a replica, the model's hottest path.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ClusterState {
    Replica(Replica),
    /// A client has sent its first `sent` commands.
    Client {
        sent: u8,
    },
}

/// A state in protocol words, as the Explorer and the reports show it: `leading at 2.n1;
/// promised 2.n1, accepted slot 0: (1.n1, c1#1 write 0=1); log slot 0: c1#1 write 0=1 (applied
/// below 1), store {0=1}; waiting c2#1 read 0 (forwarded to n2)`.
impl std::fmt::Debug for ClusterState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClusterState::Replica(replica) => f.write_str(&replica_words(replica)),
            ClusterState::Client { sent } => write!(f, "sent {sent} command(s)"),
        }
    }
}

fn replica_words(replica: &Replica) -> String {
    use crate::protocol::proposer::Status;
    let node = |index: NodeIndex| format!("n{}", index + 1);
    let mut parts = Vec::new();
    if let Voting::Probing {
        answered, floors, ..
    } = &replica.voting
    {
        let answered: Vec<String> = answered.iter().map(node).collect();
        parts.push(format!(
            "probing (answered: {}; floors: {})",
            if answered.is_empty() {
                "none".to_owned()
            } else {
                answered.join(", ")
            },
            floors.describe()
        ));
    } else if let Some(floor) = replica.slot_floor.filter(|_| !replica.caught_up()) {
        parts.push(format!("votes, catching up to slot {floor}"));
    }
    parts.push(match &replica.proposer.status {
        Status::Idle => match replica.known_leader {
            Some(leader) if leader != replica.index() => format!("follows {}", node(leader)),
            _ => "knows no leader".to_owned(),
        },
        Status::Preparing { ballot, .. } => format!("preparing {}", ballot.named('n')),
        Status::Leading { ballot, .. } => format!("leading at {}", ballot.named('n')),
    });
    let acceptor = &replica.acceptor;
    let accepted: Vec<String> = acceptor
        .accepted
        .iter()
        .map(|(slot, proposal)| {
            format!(
                "slot {slot}: ({}, {})",
                proposal.ballot.named('n'),
                proposal.value
            )
        })
        .collect();
    parts.push(format!(
        "promised {}, accepted {}",
        acceptor
            .promised
            .map_or("nothing".to_owned(), |ballot| ballot.named('n')),
        if accepted.is_empty() {
            "nothing".to_owned()
        } else {
            accepted.join(", ")
        }
    ));
    let log: Vec<String> = replica
        .log
        .iter()
        .map(|(slot, entry)| format!("slot {slot}: {entry}"))
        .collect();
    let store: Vec<String> = replica
        .store
        .entries
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    parts.push(format!(
        "log {} (applied below {}), store {{{}}}",
        if log.is_empty() {
            "empty".to_owned()
        } else {
            log.join(", ")
        },
        replica.applied_below,
        store.join(", ")
    ));
    let waiting: Vec<String> = replica
        .unplaced
        .iter()
        .map(|(id, op)| match replica.forwarded.get(id) {
            Some(leader) => format!("{id} {op} (forwarded to {})", node(*leader)),
            None => format!("{id} {op}"),
        })
        .collect();
    if !waiting.is_empty() {
        parts.push(format!("waiting {}", waiting.join(", ")));
    }
    parts.join("; ")
}

impl Actor for ClusterActor {
    type Msg = ClusterMsg;
    type Timer = ClusterTimer;
    type State = ClusterState;
    type Storage = Disk;
    type Random = ();

    fn name(&self) -> String {
        match self {
            ClusterActor::Replica { .. } => "Replica".into(),
            ClusterActor::Client { .. } => "Client".into(),
        }
    }

    /// A replica's first start is the node's start without state: it probes every other
    /// replica, each of which answers (`ClusterStart::Voters` starts later, argued there). The
    /// node is started by its `init`, which Maelstrom sends in any order and after any delay,
    /// and a peer message that reaches a node before its `init` is kept and handled after it
    /// (client requests before it are refused, and the client tries again). A run where a node
    /// gets its `init` late is therefore a run of this model in which every message to that
    /// replica is delivered after that moment, its own probes arrive after it, and its timer
    /// does not fire before it: the network's delays are arbitrary, so no separate `init` step
    /// is needed. (Were the node to drop such messages, that would be a loss, which the lossy
    /// configurations explore.)
    ///
    /// A restart keeps only what is on disk, as the node does. The probe's nonce is the number
    /// of disks lost so far in the run: one for the first start of every replica, another after
    /// each loss, so that an answer to an earlier life's probe is never counted, which is all
    /// `Replica::on_probe_reply` asks of it. A restart while probing (its disk intact) asks
    /// under the same one: its answers were all given after the same loss. (The node draws a
    /// fresh nonce at every start, and so counts fewer answers, never more.)
    fn on_start(&self, _id: Id, storage: &Option<Self::Storage>, o: &mut Out<Self>) -> Self::State {
        match self {
            ClusterActor::Replica { config, start, .. } => {
                let mut replica = match (storage, start) {
                    (None, ClusterStart::Fresh) => Replica::without_state(*config, 0),
                    (None, ClusterStart::Voters) => {
                        let replica = Replica::new(*config);
                        o.save(Disk::of(&replica));
                        replica
                    }
                    (Some(Disk::Kept { state, nonce }), _) => {
                        Replica::recover(*config, state.clone(), *nonce)
                    }
                    (Some(Disk::Lost { nonce }), _) => Replica::without_state(*config, *nonce),
                };
                let lost_its_disk = probes_after_a_loss(&replica);
                let step = replica.start();
                self.apply(&mut replica, step, lost_its_disk, o);
                ClusterState::Replica(replica)
            }
            ClusterActor::Client { commands, replica } => {
                let (id, op) = commands[0].clone();
                o.send(*replica, ClusterMsg::Request { id, op });
                ClusterState::Client { sent: 1 }
            }
        }
    }

    fn on_msg(
        &self,
        _id: Id,
        state: &mut Cow<Self::State>,
        src: Id,
        msg: Self::Msg,
        o: &mut Out<Self>,
    ) {
        match (self, &**state) {
            (
                ClusterActor::Replica {
                    requests_wait_for_the_vote,
                    ..
                },
                ClusterState::Replica(current),
            ) => {
                // No copy of the replica is needed to know that an ignored message changes
                // nothing; debug builds run it anyway, so that `on_peer` checks the claim.
                if let ClusterMsg::Peer(message) = &msg {
                    if !cfg!(debug_assertions) && current.ignores(usize::from(src), message) {
                        return;
                    }
                }
                // The cut `hold`: a client's request stays in flight until
                // its replica votes (a delivery that changes nothing is no step). Sound under
                // every fault setting. A replica that does not vote keeps a request and does
                // nothing with it but hold it (it may not campaign, and it knows no leader to
                // forward it to: it learns one only as it settles, `Replica::settle`), and on
                // settling it does what it would do with a request that arrives right then:
                // so a run that delivers it earlier reaches the states of the run that delivers
                // it at the vote, with the operation invoked earlier. An earlier invocation
                // only makes the history less strict (a linearizable history stays so when an
                // operation may take effect over a longer interval), and a request lost with a
                // crash of the replica is, to every property, a request never delivered. The
                // node behaves alike: it answers `init` only once it votes, and Maelstrom's
                // clients wait for that. One more thing a held request does: where a probing
                // replica's timer may fire (`quiet` off), a timeout that finds
                // its log unmoved sends `CatchUp` (`Replica::waits_without_a_vote`), and the
                // replies teach it chosen entries before it votes. That only learns earlier
                // what the leader's `Chosen` messages, or the replica's own catch-up once it
                // votes, teach it later: entries already chosen, which change no acceptor, and
                // its own clients' commands are not among them (it forwards nothing before it
                // votes). `--reduce` without `hold` turns the cut off, to compare.
                if *requests_wait_for_the_vote
                    && matches!(msg, ClusterMsg::Request { .. })
                    && !current.votes()
                {
                    return;
                }
                let mut next = current.clone();
                let lost_its_disk = probes_after_a_loss(current);
                let learned_before = next.log.len();
                let applied_before = next.applied_below;
                let step = match msg {
                    ClusterMsg::Request { id, op } => {
                        let invoked = Observation::Invoked {
                            id: id.clone(),
                            op: op.clone(),
                        };
                        o.send(Id::from(usize::from(OBSERVER)), observed(invoked));
                        next.on_request(id, op)
                    }
                    ClusterMsg::Peer(message) => {
                        let catch_up = matches!(message, PeerMessage::CatchUpReply { .. });
                        let install = matches!(message, PeerMessage::InstallSnapshot { .. });
                        let step = next.on_peer(usize::from(src), message);
                        // A snapshot taken as the entries come in can shrink the log: what
                        // was applied counts as learned too.
                        let learned =
                            next.log.len() > learned_before || next.applied_below > applied_before;
                        if catch_up && learned {
                            o.send(
                                Id::from(usize::from(OBSERVER)),
                                observed(Observation::CaughtUp),
                            );
                        }
                        if install && learned {
                            o.send(
                                Id::from(usize::from(OBSERVER)),
                                observed(Observation::SnapshotInstalled),
                            );
                        }
                        step
                    }
                    ClusterMsg::Reply { .. } | ClusterMsg::Observed(_) => return,
                };
                self.apply(&mut next, step, lost_its_disk, o);
                if next != *current {
                    *state.to_mut() = ClusterState::Replica(next);
                }
            }
            (ClusterActor::Client { commands, replica }, ClusterState::Client { sent }) => {
                // The answer to the last command sent: send the next, if any. An answer to the
                // last command changes nothing here; the ghost record noted it as it was sent.
                let ClusterMsg::Reply { id, .. } = msg else {
                    return;
                };
                let sent = usize::from(*sent);
                if commands[sent - 1].0 == id && sent < commands.len() {
                    let (id, op) = commands[sent].clone();
                    o.send(*replica, ClusterMsg::Request { id, op });
                    *state.to_mut() = ClusterState::Client {
                        sent: u8::try_from(sent + 1).expect("a few commands"),
                    };
                }
            }
            _ => unreachable!("each actor has its own kind of state"),
        }
    }

    fn on_timeout(
        &self,
        _id: Id,
        state: &mut Cow<Self::State>,
        _timer: &Self::Timer,
        o: &mut Out<Self>,
    ) {
        let ClusterState::Replica(current) = &**state else {
            return;
        };
        // The cut `quiet`: on a network that loses nothing and may reorder, a
        // replica's timer does not fire while it probes (an expiry that changes nothing is no
        // step). Everything such an expiry does is done anyway, and the run keeps its timeout
        // for what needs one. It asks again the peers that have not answered: on such a
        // network each first probe, or its answer, is still on its way (a crashed peer keeps
        // what reaches it), and delivering the first probe at the moment the second would
        // have been delivered draws the very answer the second draws. And it asks its peers
        // for the slots it misses (a prober has no requests to place: they wait for its vote,
        // and it knows no leader to forward one to): every slot a leader decides is announced
        // to every peer (`Chosen`), and those announcements are on their way too. Off on FIFO
        // links, where the first probe cannot be held back behind later messages, and wherever
        // messages may be lost.
        if let ClusterActor::Replica {
            probers_skip_their_timer: true,
            ..
        } = self
        {
            if !current.votes() {
                return;
            }
        }
        let mut next = current.clone();
        let lost_its_disk = probes_after_a_loss(current);
        let step = next.on_timeout();
        self.apply(&mut next, step, lost_its_disk, o);
        if next != *current {
            *state.to_mut() = ClusterState::Replica(next);
        }
    }
}

/// The `coalesce` cut: a probe or an answer to one, of which a second copy in flight adds
/// nothing, is not sent while one is in flight. Without it the state space is infinite where
/// crashes are unbounded: a replica that restarts while it probes probes again. Why dropping
/// the copy loses no violation, on an unordered or duplicating network:
/// - Answering a probe changes nothing at the node that answers, and a prober counts the first
///   answer from each node to its life's nonce and ignores the others
///   (`Replica::on_probe_reply`). So of two copies of one probe, the one whose answer reaches
///   the prober first is the only one that matters: the run is the run in which the single
///   copy was delivered at that moment, plus an answer that is ignored (and collected, as
///   `ignores` says).
/// - Two identical answers in flight: the first one delivered counts, the second is ignored;
///   a loss spent on one of them only leaves the run fewer losses for the rest.
///
/// Off on an ordered network (`ClusterConfig::cut_uses`): there the single copy cannot be
/// delivered at the later copy's moment, for it would overtake the messages sent to the same
/// node in between.
fn repeated_probe(message: &ClusterMsg) -> bool {
    matches!(
        message,
        ClusterMsg::Peer(PeerMessage::Probe { .. } | PeerMessage::ProbeReply { .. })
    )
}

/// Whether the replica is probing after a lost disk (its first start's probe has nonce 0).
fn probes_after_a_loss(replica: &Replica) -> bool {
    matches!(replica.voting, Voting::Probing { nonce, .. } if nonce > 0)
}

/// What a replica's disk holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Disk {
    /// What its records rebuild, as the node persists them, and (for a replica that is probing)
    /// the nonce of its probe, which a restart keeps (see `Actor::on_start`).
    Kept { state: DurableState, nonce: u64 },
    /// Nothing: the disk was lost in the run's `nonce`-th lost disk. The replica cannot tell
    /// this from a new cluster's first start, and so, as the node does, it probes its peers.
    Lost { nonce: u64 },
}

impl Disk {
    /// What `replica` has persisted, as its disk holds it.
    fn of(replica: &Replica) -> Disk {
        let nonce = match replica.voting {
            Voting::Probing { nonce, .. } => nonce,
            Voting::Voter => 0,
        };
        Disk::Kept {
            state: replica.durable_state(),
            nonce,
        }
    }

    /// Whether a replica that restarts from this disk votes.
    fn votes(&self) -> bool {
        match self {
            Disk::Kept { state, .. } => state.membership.is_none_or(Membership::votes),
            Disk::Lost { .. } => false,
        }
    }
}

/// The messages the `stale` cut collects. A replica ignores for good what `Replica::ignores`
/// says it ignores while it runs, where it never crashes; where it may crash and restart, what
/// `Replica::ignores_for_good` says survives a restart (and a lost disk, where one may be
/// lost): a message in flight may arrive after the restart. A client, which never crashes,
/// ignores everything once it has sent its last command (an answer only makes it send the
/// next).
pub fn ignores(
    actor: &ClusterActor,
    state: &ClusterState,
    src: usize,
    message: &ClusterMsg,
) -> bool {
    match (actor, state, message) {
        (
            ClusterActor::Replica {
                restarts,
                loses_disk,
                ..
            },
            ClusterState::Replica(replica),
            ClusterMsg::Peer(peer),
        ) => {
            if *restarts {
                replica.ignores_for_good(src, peer, *loses_disk)
            } else {
                replica.ignores(src, peer)
            }
        }
        (ClusterActor::Client { commands, .. }, ClusterState::Client { sent }, _) => {
            usize::from(*sent) == commands.len()
        }
        _ => false,
    }
}

fn observed(observation: Observation) -> ClusterMsg {
    ClusterMsg::Observed(observation)
}

impl ClusterActor {
    /// What the node's event loop does with a step, in its order: persist the acceptor's
    /// changes, then send to peers, then answer clients; then set the timer. `lost_its_disk`:
    /// the replica was probing after a lost disk when it took the step (so a step that settles
    /// its probe is a rejoin).
    fn apply(
        &self,
        replica: &mut Replica,
        step: ReplicaStep,
        lost_its_disk: bool,
        o: &mut Out<Self>,
    ) {
        let ReplicaStep {
            persist,
            send,
            replies,
            acceptances,
            slot_replies,
            timer,
            rejected,
            settled,
            caught_up_past: _,
        } = step;
        debug_assert!(slot_replies.is_empty(), "no client here names a slot");
        // A rejected message (one that contradicts what the replica learned) happens only
        // under a flaw; the properties judge the flaw by what it does to the log.
        let _ = rejected;
        if !persist.is_empty() {
            o.save(Disk::of(replica));
        }
        // A replica that lost its disk votes again, with floors another replica vouched for.
        let rejoined = matches!(settled, Some(Settled::Answered(floors)) if !floors.is_empty());
        if rejoined && lost_its_disk {
            o.send(
                Id::from(usize::from(OBSERVER)),
                observed(Observation::Rejoined),
            );
        }
        for (slot, proposal) in acceptances {
            let observation = Observation::Accepted { slot, proposal };
            o.send(Id::from(usize::from(OBSERVER)), observed(observation));
        }
        for (peer, message) in send {
            o.send(Id::from(peer), ClusterMsg::Peer(message));
        }
        let ClusterActor::Replica { config, .. } = self else {
            unreachable!("only replicas take replica steps");
        };
        for (id, result) in replies {
            // A client is told only by the replica it asked; `cluster_size` counts replicas.
            let client = config.cluster_size + client_number(&id).expect("a client's request");
            o.send(Id::from(client), ClusterMsg::Reply { id, result });
        }
        match timer {
            TimerChange::Arm => o.set_timer(ClusterTimer::Retry, model_timeout()),
            TimerChange::Unchanged => {}
            TimerChange::Cancel => o.cancel_timer(ClusterTimer::Retry),
        }
    }
}

/// The linearizability tester's thread for a request: its client.
fn thread(id: &RequestId) -> ActorIndex {
    let client = client_number(id).expect("a client's request");
    ActorIndex::try_from(client).expect("a few clients")
}

/// `c2` → 1.
fn client_number(id: &RequestId) -> Option<usize> {
    let number: usize = id.client.strip_prefix('c')?.parse().ok()?;
    number.checked_sub(1)
}

/// What the properties judge.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClusterGhost {
    /// Every acceptance by every replica's acceptor.
    pub acceptances: ChosenTracker<Entry>,
    /// The clients' operations, invoked and returned, per client.
    #[serde(with = "history_wire")]
    pub history: LinearizabilityTester<ActorIndex, KvStore>,
    /// Requests that reached a replica (a duplicate or one sent again is invoked once).
    pub invoked: BTreeSet<RequestId>,
    /// What each answered request was told.
    pub answered: BTreeMap<RequestId, KvResult>,
    /// Some replica forwarded a client's command to the leader it knew.
    pub forwarded: bool,
    /// Some replica learned chosen entries from a peer's catch-up answer.
    pub caught_up: bool,
    /// Some replica that lost its disk votes again.
    pub rejoined: bool,
    /// Some replica installed a peer's snapshot.
    pub snapshot_installed: bool,
}

impl ClusterGhost {
    fn new(replicas: usize) -> Self {
        ClusterGhost {
            acceptances: ChosenTracker::new(replicas),
            history: LinearizabilityTester::new(KvStore::default()),
            invoked: BTreeSet::new(),
            answered: BTreeMap::new(),
            forwarded: false,
            caught_up: false,
            rejoined: false,
            snapshot_installed: false,
        }
    }
}

/// The clients' history on the wire. Stateright's tester writes itself (its four fields) but
/// cannot be read back, and its fields are its own; so it is read into the same four fields here
/// and made again through its public calls: the recorded invocations and returns, replayed in an
/// order that gives every invocation the completed operations of the other clients it recorded.
/// The tester made is written again and compared with what was read: a replay that came out
/// different stops the search rather than go on from a state that is not the one spilled.
mod history_wire {
    use crate::check::actors::ActorIndex;
    use crate::protocol::kv::{KvOp, KvResult, KvStore};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use stateright::semantics::{ConsistencyTester, LinearizabilityTester};
    use std::collections::{BTreeMap, BTreeSet, VecDeque};

    type Client = ActorIndex;
    /// For each other client, the index of its last completed operation (none: it had none).
    type Seen = BTreeMap<Client, usize>;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Wire {
        init_ref_obj: KvStore,
        history_by_thread: BTreeMap<Client, VecDeque<(Seen, KvOp, KvResult)>>,
        in_flight_by_thread: BTreeMap<Client, (Seen, KvOp)>,
        is_valid_history: bool,
    }

    pub fn serialize<S: Serializer>(
        history: &LinearizabilityTester<Client, KvStore>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        history.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<LinearizabilityTester<Client, KvStore>, D::Error> {
        let wire = Wire::deserialize(deserializer)?;
        let history = replay(&wire);
        let again: Wire =
            bincode::deserialize(&bincode::serialize(&history).expect("a history serializes"))
                .expect("a history reads back as its fields");
        assert_eq!(again, wire, "a client history replays as it was recorded");
        Ok(history)
    }

    /// The operation `client` invoked `k`-th, with what it saw of the others; `None` past its
    /// last.
    fn invocation(wire: &Wire, client: Client, k: usize) -> Option<(&Seen, &KvOp)> {
        let done = wire.history_by_thread.get(&client);
        match done.and_then(|done| done.get(k)) {
            Some((seen, op, _)) => Some((seen, op)),
            None if k == done.map_or(0, VecDeque::len) => wire
                .in_flight_by_thread
                .get(&client)
                .map(|(seen, op)| (seen, op)),
            None => None,
        }
    }

    /// How many operations of `other` had completed when an invocation that saw `seen` was made.
    fn completed_then(seen: &Seen, other: Client) -> usize {
        seen.get(&other).map_or(0, |last| last + 1)
    }

    fn replay(wire: &Wire) -> LinearizabilityTester<Client, KvStore> {
        let mut history = LinearizabilityTester::new(wire.init_ref_obj.clone());
        let clients: BTreeSet<Client> = wire
            .history_by_thread
            .keys()
            .chain(wire.in_flight_by_thread.keys())
            .copied()
            .collect();
        let mut invoked: BTreeMap<Client, usize> = clients.iter().map(|&c| (c, 0)).collect();
        let mut completed = invoked.clone();
        loop {
            // An invocation can be made when every other client has completed exactly what it
            // saw; making it changes no count, so it is made as soon as it can be.
            let ready = clients.iter().copied().find_map(|client| {
                if invoked[&client] != completed[&client] {
                    return None;
                }
                let (seen, op) = invocation(wire, client, invoked[&client])?;
                clients
                    .iter()
                    .all(|&other| {
                        other == client || completed[&other] == completed_then(seen, other)
                    })
                    .then(|| (client, op.clone()))
            });
            if let Some((client, op)) = ready {
                let _ = history.on_invoke(client, op);
                *invoked.get_mut(&client).expect("a client") += 1;
                continue;
            }
            // A return can be made when no invocation still to come needs its client's count
            // as it is now.
            let returning = clients.iter().copied().find(|&client| {
                let count = completed[&client];
                invoked[&client] == count + 1
                    && wire.history_by_thread[&client].len() > count
                    && clients.iter().all(|&other| {
                        other == client
                            || (invoked[&other]..)
                                .map_while(|k| invocation(wire, other, k))
                                .all(|(seen, _)| completed_then(seen, client) != count)
                    })
            });
            let Some(client) = returning else {
                break;
            };
            let result = wire.history_by_thread[&client][completed[&client]]
                .2
                .clone();
            let _ = history.on_return(client, result);
            *completed.get_mut(&client).expect("a client") += 1;
        }
        if !wire.is_valid_history {
            // The tester marks its history invalid at a call it refuses, which changes nothing
            // else: an invocation by a client with one in flight, or a return by one without.
            match wire.in_flight_by_thread.iter().next() {
                Some((&client, (_, op))) => {
                    let _ = history.on_invoke(client, op.clone());
                }
                None => {
                    let _ = history.on_return(0, KvResult::WriteOk);
                }
            }
        }
        history
    }
}

pub type ClusterModel = ActorSystem<ClusterActor, ClusterConfig, ClusterGhost>;
type State = SystemState<ClusterActor, ClusterGhost>;

/// Records what a message tells the ghost: requests invoke, replies return, forwards and
/// observations mark the paths taken.
fn record(
    cfg: &ClusterConfig,
    ghost: &ClusterGhost,
    src: usize,
    dst: usize,
    message: &ClusterMsg,
) -> Option<ClusterGhost> {
    let mut next = ghost.clone();
    match message {
        ClusterMsg::Request { .. } => return None,
        ClusterMsg::Observed(Observation::Invoked { id, op }) => {
            if ghost.invoked.contains(id) {
                return None;
            }
            let client = thread(id);
            next.invoked.insert(id.clone());
            // An invalid history (a second request in flight) fails `linearizable`.
            let _ = next.history.on_invoke(client, op.clone());
        }
        // A request delivered again (a duplicating network) after it was applied is answered
        // again, as it was the first time: the client hears one answer.
        ClusterMsg::Reply { id, result } if ghost.answered.get(id) == Some(result) => {
            return None;
        }
        ClusterMsg::Reply { id, result } => {
            debug_assert_eq!(Some(dst), client_number(id).map(|n| n + cfg.replicas));
            let client = thread(id);
            // A second answer to one request makes the history invalid: `linearizable` fails.
            let _ = next.history.on_return(client, result.clone());
            next.answered.insert(id.clone(), result.clone());
        }
        ClusterMsg::Peer(PeerMessage::Forward { .. }) if !ghost.forwarded => {
            next.forwarded = true;
        }
        ClusterMsg::Peer(_) => return None,
        ClusterMsg::Observed(Observation::Accepted { slot, proposal }) => {
            return ghost
                .acceptances
                .with(*slot, proposal, src)
                .map(|acceptances| ClusterGhost {
                    acceptances,
                    ..ghost.clone()
                });
        }
        ClusterMsg::Observed(Observation::CaughtUp) if !ghost.caught_up => {
            next.caught_up = true;
        }
        ClusterMsg::Observed(Observation::CaughtUp) => return None,
        ClusterMsg::Observed(Observation::Rejoined) if !ghost.rejoined => {
            next.rejoined = true;
        }
        ClusterMsg::Observed(Observation::Rejoined) => return None,
        ClusterMsg::Observed(Observation::SnapshotInstalled) if !ghost.snapshot_installed => {
            next.snapshot_installed = true;
        }
        ClusterMsg::Observed(Observation::SnapshotInstalled) => return None,
    }
    Some(next)
}

impl Presentation<ClusterMsg> for ClusterConfig {
    fn actor_name(&self, id: Id) -> String {
        let index = usize::from(id);
        if index < self.replicas {
            format!("n{}", index + 1)
        } else {
            format!("c{}", index - self.replicas + 1)
        }
    }

    fn describe(&self, message: &ClusterMsg) -> String {
        match message {
            ClusterMsg::Request { id, op } => format!("Request({id} {op})"),
            ClusterMsg::Reply { id, result } => format!("Reply({id}: {result})"),
            ClusterMsg::Peer(message) => message.describe(),
            ClusterMsg::Observed(observation) => format!("{observation:?}"),
        }
    }

    fn names_slots(&self) -> bool {
        true
    }

    fn ballot_owner(&self) -> (char, &'static str) {
        ('n', "node")
    }
}

/// The cluster model for `cfg`, with its properties. `cfg` must be valid.
pub fn cluster_model(cfg: ClusterConfig) -> ClusterModel {
    cfg.validate().expect("a valid configuration");
    let replicas = (0..cfg.replicas).map(|index| ClusterActor::Replica {
        config: cfg.replica_config(index),
        start: cfg.start,
        requests_wait_for_the_vote: cfg.requests_wait(),
        probers_skip_their_timer: cfg.probers_skip_their_timer(),
        restarts: cfg.faults.crashes > 0,
        loses_disk: cfg.disk_losses > 0,
    });
    let clients = (0..cfg.clients).map(|client| ClusterActor::Client {
        commands: (0..cfg.commands)
            .map(|index| cfg.command(client, index))
            .collect(),
        replica: Id::from(cfg.replica_of(client)),
    });
    let actors: Vec<ClusterActor> = replicas.chain(clients).collect();
    let crashable = actors
        .iter()
        .map(|actor| matches!(actor, ClusterActor::Replica { .. }))
        .collect();
    let disk_loss = (cfg.disk_losses > 0).then_some(DiskLoss {
        max: cfg.disk_losses,
        empty: |losses| Disk::Lost {
            nonce: u64::from(losses),
        },
        is_empty: |disk| matches!(disk, Disk::Lost { .. }),
    });
    let used = |wanted: Cut| {
        cfg.cuts()
            .iter()
            .any(|(cut, used)| *cut == wanted && used.is_on())
    };
    let cuts = Reductions {
        stale: used(Cut::StaleMessages),
        coalesce: used(Cut::CoalescedProbes),
        ..Reductions::NONE
    };
    ActorSystem {
        disk_loss,
        cuts,
        coalesce: Some(repeated_probe),
        init_history: ClusterGhost::new(cfg.replicas),
        properties: properties(&cfg),
        faults: cfg.faults,
        timeouts_max: Some(cfg.timeouts),
        crashes_in_run_max: cfg.crashes_in_run,
        cfg,
        actors,
        crashable,
        record_send: record,
        symmetry: None,
        dead: None,
        narrate: Some(narrate),
        ignores: Some(ignores),
        draw: None,
        codec: Some(State::codec()),
        interleaving: None,
    }
}

fn replicas(state: &State) -> impl Iterator<Item = &Replica> {
    state.actors.iter().filter_map(|actor| match &***actor {
        ClusterState::Replica(replica) => Some(replica),
        ClusterState::Client { .. } => None,
    })
}

/// Every entry accepted anywhere is a no-op or a command exactly as a client submitted it.
fn valid(model: &ClusterModel, state: &State) -> bool {
    state
        .history
        .acceptances
        .accepted()
        .all(|(_, proposal)| match &proposal.value {
            Entry::Noop => true,
            Entry::Command { .. } | Entry::Batch { .. } => {
                proposal.value.commands().all(|(id, op)| {
                    model
                        .cfg
                        .all_commands()
                        .any(|(submitted, submitted_op)| submitted == *id && submitted_op == *op)
                })
            }
            Entry::Value { .. } => false,
        })
}

/// Every entry a replica learned is the slot's chosen entry: so each replica's applied log is a
/// prefix of the one chosen log.
fn logs_agree(state: &State) -> bool {
    let chosen = &state.history.acceptances;
    replicas(state).all(|replica| {
        replica
            .log
            .iter()
            .all(|(slot, entry)| chosen.chosen_in(slot).is_some_and(|p| p.value == *entry))
    })
}

/// Every write a client was told succeeded is chosen in the log. Chosen entries are immutable
/// and every acceptor persists before it answers, so no crash and restart can take it out.
fn no_acknowledged_write_lost(state: &State) -> bool {
    let ghost = &state.history;
    ghost.answered.iter().all(|(id, result)| {
        !matches!(result, KvResult::WriteOk | KvResult::CasOk) || is_chosen(&ghost.acceptances, id)
    })
}

/// Every replica votes, or, crashed, will vote when it restarts from its disk. Only a lost disk
/// makes a voter stop voting, and it is a fault, not progress: so this holds at the end of every
/// run in which every replica started without state (the first start, a lost disk) got to vote
/// again, which is what the engine asks of an `eventually` property under faults.
fn every_replica_votes(state: &State) -> bool {
    state
        .actors
        .iter()
        .enumerate()
        .all(|(index, actor)| match &***actor {
            ClusterState::Replica(_) if state.is_crashed(index) => {
                state.storage[index].as_deref().is_some_and(Disk::votes)
            }
            ClusterState::Replica(replica) => replica.votes(),
            ClusterState::Client { .. } => true,
        })
}

fn every_command_answered(model: &ClusterModel, state: &State) -> bool {
    state.history.answered.len() == model.cfg.clients * model.cfg.commands
}

fn properties(cfg: &ClusterConfig) -> Vec<Property<ClusterModel>> {
    let mut properties = vec![
        Property::always("slot agreement", |_, state: &State| {
            state.history.acceptances.disagreement().is_none()
        }),
        Property::always("validity", valid),
        Property::always("immutability", |_, state: &State| {
            state.history.acceptances.immutable()
        }),
        Property::always("logs agree", |_, state: &State| logs_agree(state)),
        Property::always("linearizable", |_, state: &State| {
            state.history.history.serialized_history().is_some()
        }),
        Property::always("no acknowledged write lost", |_, state: &State| {
            no_acknowledged_write_lost(state)
        }),
    ];
    // Each path is asked for only where the configuration can take it: an example that cannot
    // exist would only ever be reported missing.
    let commands = cfg.clients * cfg.commands;
    if cfg.replicas >= 2 && commands >= 2 {
        properties.push(Property::sometimes("leader changed", |_, state: &State| {
            state.history.acceptances.leadership_passed()
        }));
    }
    // A hole needs a new leader whose promises miss a slot that a later one has: a third
    // replica (two replicas' quorum is both, and the old leader accepted its own proposals),
    // links that can reorder or lose, and a second campaign (a timeout, or a third client's).
    let reorders = cfg.faults.network != NetworkKind::Ordered || cfg.faults.losses > 0;
    if cfg.replicas >= 3 && commands >= 2 && reorders && (cfg.timeouts >= 1 || cfg.clients >= 3) {
        properties.push(Property::sometimes(
            "hole filled with a no-op",
            |_, state: &State| {
                state
                    .history
                    .acceptances
                    .chosen()
                    .any(|(_, proposal)| proposal.value == Entry::Noop)
            },
        ));
    }
    // A replica asks its peers for what it misses (a slot below one it learned) when its
    // timer expires.
    if cfg.replicas >= 2 && cfg.timeouts >= 1 && commands >= 2 {
        properties.push(Property::sometimes(
            "replica caught up from a peer",
            |_, state: &State| state.history.caught_up,
        ));
    }
    // Two clients' commands meet at the leader while it campaigns (the second forwarded to
    // it once its Prepare named it) and are chosen in one slot.
    if cfg.batch_max >= 2 && cfg.replicas >= 2 && cfg.clients >= 2 {
        properties.push(Property::sometimes(
            "commands batched in one slot",
            |_, state: &State| {
                state
                    .history
                    .acceptances
                    .chosen()
                    .any(|(_, proposal)| matches!(proposal.value, Entry::Batch { .. }))
            },
        ));
    }
    if cfg.replicas >= 2 && cfg.clients >= 2 {
        properties.push(Property::sometimes(
            "forwarded to the leader",
            |_, state: &State| state.history.forwarded,
        ));
    }
    // A replica that lost its disk hears every other's floors and votes again.
    if cfg.replicas >= 2 && cfg.disk_losses > 0 {
        properties.push(Property::sometimes(
            "lost disk votes again",
            |_, state: &State| state.history.rejoined,
        ));
    }
    // A replica behind a peer that dropped the slots it misses with a snapshot (it missed the
    // leader's news, or campaigns from below) is sent the snapshot and installs it.
    if cfg.snapshot_every > 0 && cfg.replicas >= 2 && commands >= 2 {
        properties.push(Property::sometimes(
            "snapshot installed",
            |_, state: &State| state.history.snapshot_installed,
        ));
    }
    properties.push(Property::eventually(
        "every command answered",
        every_command_answered,
    ));
    properties.push(Property::eventually(
        "every replica votes",
        |_, state: &State| every_replica_votes(state),
    ));
    properties
}

/// What a step did inside the replicas, which no message in the trace shows: each acceptance a
/// replica's acceptor made (a node accepts its own proposals without a message), each entry that
/// became chosen, and each answer that left for a client. An answer is where an operation
/// returns (see the module header); a client with nothing more to send takes it at once, so its
/// arrival is no step of its own, and this line is where a reader sees it.
fn narrate(cfg: &ClusterConfig, before: &State, after: &State) -> Vec<String> {
    if std::sync::Arc::ptr_eq(&before.history, &after.history) {
        return Vec::new();
    }
    let (was, now) = (&before.history, &after.history);
    let mut notes = new_acceptances(cfg, &was.acceptances, &now.acceptances);
    notes.extend(
        now.acceptances
            .newly_chosen(&was.acceptances)
            .map(|tally| chosen_words(tally, true, 'n', |id| cfg.actor_name(id))),
    );
    for (id, result) in &now.answered {
        if was.answered.contains_key(id) {
            continue;
        }
        let client = client_number(id).expect("a client's request");
        let mut words = format!(
            "{} answers {}: Reply({id}: {result})",
            cfg.actor_name(Id::from(cfg.replica_of(client))),
            cfg.actor_name(Id::from(cfg.replicas + client)),
        );
        let acknowledges = matches!(result, KvResult::WriteOk | KvResult::CasOk);
        if acknowledges && !is_chosen(&now.acceptances, id) {
            words.push_str(&format!(", though {id} is not chosen"));
        }
        notes.push(words);
    }
    notes
}

/// "n2 accepts slot 0: c1#1 write 0=1 at 1.n1", for every acceptance in `now` not in `was`.
fn new_acceptances(
    cfg: &ClusterConfig,
    was: &ChosenTracker<Entry>,
    now: &ChosenTracker<Entry>,
) -> Vec<String> {
    let mut notes = Vec::new();
    for tally in now.tallies() {
        let earlier = was
            .tallies()
            .iter()
            .find(|old| old.slot == tally.slot && old.proposal == tally.proposal);
        for acceptor in tally.acceptors.iter() {
            if earlier.is_some_and(|old| old.acceptors.contains(acceptor)) {
                continue;
            }
            notes.push(format!(
                "{} accepts slot {}: {} at {}",
                cfg.actor_name(Id::from(acceptor)),
                tally.slot,
                tally.proposal.value,
                tally.proposal.ballot.named('n')
            ));
        }
    }
    notes
}

/// Whether the command `id` is chosen in some slot.
fn is_chosen(acceptances: &ChosenTracker<Entry>, id: &RequestId) -> bool {
    acceptances
        .chosen()
        .any(|(_, proposal)| proposal.value.holds_command(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_write_read_and_cas_one_key_through_their_own_replica() {
        let cfg = ClusterConfig {
            clients: 3,
            commands: 2,
            ..ClusterConfig::default()
        };
        let commands: Vec<String> = cfg
            .all_commands()
            .map(|(id, op)| format!("{id} {op}"))
            .collect();
        assert_eq!(
            commands,
            [
                "c1#1 write 0=1",
                "c1#2 write 0=2",
                "c2#1 read 0",
                "c2#2 read 0",
                "c3#1 cas 0 1->21",
                "c3#2 cas 0 1->22"
            ]
        );
        assert_eq!(cfg.replica_of(2), 2);
        assert_eq!(client_number(&cfg.command(1, 0).0), Some(1));
    }
}
