//! A deterministic simulator of a `paxos-node` cluster: N replicas of the core's `cluster::Replica`
//! in one process, a virtual clock, and a network that drops, duplicates, delays (and so
//! reorders) and partitions messages, while nodes crash and restart with only what they
//! persisted, or lose their disk and restart with nothing (and so, as the node does, probe the
//! others and vote again with their floors). Every node starts as the node does without state:
//! probing. Clients submit key-value commands throughout, one at a time each.
//!
//! Disks are lost as the rejoin rule assumes (see `protocol::replica`): never while another node
//! is still rejoining (voting again and caught up past its slot floor), and a node is down for
//! at least 50 ms, longer than any message is delayed, so nothing its earlier life sent is still
//! in flight when it votes again.
//!
//! Everything random is drawn from one ChaCha stream seeded by the run's seed, and events at equal
//! times run in the order they were scheduled, so a seed replays exactly. After the faulty phase
//! the network heals, crashed nodes restart and the cluster gets time to settle; then `check`
//! verifies what Paxos promises: no slot was ever chosen with two entries (Lamport's definition,
//! from every acceptance), every node's learned log agrees slot by slot, every answered command
//! is in the log, and the clients' history is linearizable. Linearizability is checked key by
//! key: it is compositional (a history is linearizable exactly when each object's is), and the
//! search over one key's few operations stays small where the whole history's can explode.

use paxos_model::protocol::chosen::ChosenTracker;
use paxos_model::protocol::durable::DurableState;
use paxos_model::protocol::entry::{Entry, RequestId};
use paxos_model::protocol::kv::{Key, KvOp, KvResult, KvStore};
use paxos_model::protocol::replica::{
    NodeIndex, PeerMessage, Replica, ReplicaConfig, ReplicaStep, SlotDecision,
};
use paxos_model::protocol::rules::TimerChange;
use paxos_model::protocol::slots::Slot;
use paxos_model::Flaw;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use stateright::semantics::{ConsistencyTester, LinearizabilityTester};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::fmt;

/// The knobs of one run. Times are virtual milliseconds.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub nodes: usize,
    pub clients: usize,
    /// Faults and new client commands happen before this time; after it the cluster heals.
    pub faulty_ms: u64,
    /// How long the healed cluster gets to finish what is in flight.
    pub settle_ms: u64,
    pub drop_percent: u32,
    pub duplicate_percent: u32,
    pub delay_ms_max: u64,
    pub crash_percent_per_100ms: u32,
    pub partition_percent_per_100ms: u32,
    pub timeout_ms: u64,
    /// A client gives up on a command after this long (its outcome is then unknown).
    pub client_timeout_ms: u64,
    /// `forget-on-crash` restarts nodes with an empty disk that they take for their own, to show
    /// the checks have teeth.
    pub flaw: Flaw,
    /// Of the crashes, the share that also lose the node's disk, whenever no node is still
    /// rejoining after an earlier loss: any node may lose its disk, any number of times.
    pub disk_loss_percent: u32,
    /// Clients that ask for values in named slots (`multi_paxos_propose`), one at a time each.
    pub slot_proposers: usize,
    /// The replicas' `snapshot_every` (the node's default, which a run does not reach, unless
    /// set lower). Named slots below a snapshot are refused, so a run that snapshots early has
    /// no slot proposers.
    pub snapshot_every: Option<u64>,
    /// The replicas' `answers_kept` (the node's default unless set lower).
    pub answers_kept: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            nodes: 3,
            clients: 3,
            faulty_ms: 1_500,
            settle_ms: 3_000,
            drop_percent: 5,
            duplicate_percent: 3,
            delay_ms_max: 20,
            crash_percent_per_100ms: 5,
            partition_percent_per_100ms: 5,
            timeout_ms: 100,
            client_timeout_ms: 600,
            flaw: Flaw::None,
            slot_proposers: 1,
            disk_loss_percent: 0,
            snapshot_every: Some(paxos_model::protocol::replica::SNAPSHOT_EVERY),
            answers_kept: paxos_model::protocol::replica::ANSWERS_KEPT,
        }
    }
}

/// What one run did, for the checks and for reporting figures.
#[derive(Debug, Default)]
pub struct SimReport {
    pub seed: u64,
    pub submitted: usize,
    pub answered: usize,
    /// Answers to named-slot proposals (checked against what the slot chose).
    pub slot_answers: usize,
    pub messages: usize,
    pub crashes: usize,
    /// Crashes that lost the node's disk.
    pub disks_lost: usize,
    /// Nodes that lost their disk and voted again, caught up past their slot floor; and for
    /// each, virtual milliseconds from its restart to then.
    pub rejoins: usize,
    pub rejoin_ms: Vec<u64>,
    /// Each node that lost its disk, by index (to see that every node did, over many seeds).
    pub lost_disk_of: BTreeSet<NodeIndex>,
    pub partitions: usize,
    /// Virtual milliseconds from submission to answer, for every answered command.
    pub commit_latencies_ms: Vec<u64>,
    pub longest_log: usize,
    /// Snapshots a node installed from a peer (its applied log moved past a snapshot's slot).
    pub snapshots_installed: usize,
}

/// A failed check, with the seed (and cluster size) that replays it.
#[derive(Debug)]
pub struct SimFailure {
    pub seed: u64,
    pub nodes: usize,
    pub what: String,
}

impl fmt::Display for SimFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seed {} failed: {}\nreplay it with: SIM_SEED={} SIM_NODES={} cargo test -p \
             paxos-e2e --test cluster_simulation replay_one_seed -- --ignored --nocapture",
            self.seed, self.what, self.seed, self.nodes
        )
    }
}

enum Event {
    Deliver {
        from: NodeIndex,
        to: NodeIndex,
        message: PeerMessage,
    },
    Timeout {
        node: NodeIndex,
        generation: u64,
    },
    /// A client's next command, to a node of its choosing.
    Submit {
        client: usize,
    },
    Answer {
        node: NodeIndex,
        id: RequestId,
        result: KvResult,
    },
    ClientGivesUp {
        client: usize,
        seq: u64,
    },
    /// A slot proposer's next proposal; with `unless_answered`, a give-up timer that proposes
    /// again only if that proposal is still unanswered.
    SubmitSlot {
        proposer: usize,
        unless_answered: Option<u64>,
    },
    SlotAnswer {
        id: RequestId,
        decision: SlotDecision,
    },
    /// A periodic draw of crashes and partitions.
    Chaos,
    Restart {
        node: NodeIndex,
    },
    Heal,
}

/// One client's thread of commands. A command whose answer never came leaves its thread
/// blocked for the linearizability check (it may or may not have taken effect), so the client
/// continues under a new thread id.
struct Client {
    name: String,
    thread: usize,
    next_seq: u64,
    /// The command awaiting its answer: (seq, submitted at, key).
    in_flight: Option<(u64, u64, Key)>,
}

pub struct Simulation {
    cfg: SimConfig,
    rng: ChaCha8Rng,
    now_ms: u64,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    events: BTreeMap<u64, Event>,
    next_event: u64,
    replicas: Vec<Option<Replica>>,
    /// What each node persisted: its records, replayed.
    disks: Vec<DurableState>,
    /// Each crashed node's disk is lost at its restart.
    disk_lost: Vec<bool>,
    /// Nodes that restarted without their disk and have not yet voted again and caught up: when
    /// each restarted.
    rejoining: BTreeMap<NodeIndex, u64>,
    timer_generation: Vec<u64>,
    /// Which side of a partition each node is on; `None` when the network is whole.
    partition: Option<Vec<bool>>,
    clients: Vec<Client>,
    next_thread: usize,
    /// Each key's history of client operations, by client thread.
    histories: BTreeMap<Key, LinearizabilityTester<usize, KvStore>>,
    /// Every acceptance any acceptor made: what was chosen, by Lamport's definition.
    acceptances: ChosenTracker<Entry>,
    answered: BTreeSet<RequestId>,
    /// Every answer a slot proposer got: the slot and the entry it was told was chosen.
    slot_answers: Vec<(Slot, Entry)>,
    /// Each slot proposer's next sequence number and the one awaiting its answer.
    slot_proposers: Vec<(u64, Option<u64>)>,
    report: SimReport,
}

impl Simulation {
    pub fn new(seed: u64, cfg: SimConfig) -> Self {
        let clients = (0..cfg.clients)
            .map(|index| Client {
                name: format!("c{}", index + 1),
                thread: index,
                next_seq: 1,
                in_flight: None,
            })
            .collect();
        let replicas = (0..cfg.nodes).map(|_| None).collect();
        let mut simulation = Simulation {
            rng: ChaCha8Rng::seed_from_u64(seed),
            now_ms: 0,
            queue: BinaryHeap::new(),
            events: BTreeMap::new(),
            next_event: 0,
            replicas,
            disks: vec![DurableState::default(); cfg.nodes],
            disk_lost: vec![false; cfg.nodes],
            rejoining: BTreeMap::new(),
            timer_generation: vec![0; cfg.nodes],
            partition: None,
            clients,
            next_thread: cfg.clients,
            histories: BTreeMap::new(),
            acceptances: ChosenTracker::new(cfg.nodes),
            answered: BTreeSet::new(),
            slot_answers: Vec::new(),
            slot_proposers: vec![(1, None); cfg.slot_proposers],
            report: SimReport {
                seed,
                ..SimReport::default()
            },
            cfg,
        };
        for client in 0..simulation.cfg.clients {
            let start = simulation.rng.random_range(0..50);
            simulation.schedule(start, Event::Submit { client });
        }
        for proposer in 0..simulation.cfg.slot_proposers {
            let start = simulation.rng.random_range(0..50);
            let submit = Event::SubmitSlot {
                proposer,
                unless_answered: None,
            };
            simulation.schedule(start, submit);
        }
        // Every node starts without state, as the node does, in an order of the seed's.
        for node in 0..simulation.cfg.nodes {
            let start = simulation.rng.random_range(0..20);
            simulation.schedule(start, Event::Restart { node });
        }
        simulation.schedule(100, Event::Chaos);
        let heal_at = simulation.cfg.faulty_ms;
        simulation.schedule(heal_at, Event::Heal);
        simulation
    }

    /// Runs `seed` to the end and checks it; a panic inside a replica is a failure of the seed
    /// too, reported with it.
    pub fn run_seed(seed: u64, cfg: &SimConfig) -> Result<SimReport, SimFailure> {
        let nodes = cfg.nodes;
        let run = std::panic::catch_unwind(|| Simulation::new(seed, cfg.clone()).run());
        run.unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|text| text.to_string()))
                .unwrap_or_else(|| "a panic".into());
            Err(SimFailure {
                seed,
                nodes,
                what: format!("panicked: {what}"),
            })
        })
    }

    /// Runs the seed to the end and checks it.
    pub fn run(mut self) -> Result<SimReport, SimFailure> {
        let end = self.cfg.faulty_ms + self.cfg.settle_ms;
        while let Some(Reverse((at, id))) = self.queue.pop() {
            if at > end {
                break;
            }
            self.now_ms = at;
            let event = self.events.remove(&id).expect("scheduled");
            self.handle(event).map_err(|what| self.failure(what))?;
        }
        self.check().map_err(|what| self.failure(what))?;
        Ok(self.report)
    }

    fn failure(&self, what: String) -> SimFailure {
        SimFailure {
            seed: self.report.seed,
            nodes: self.cfg.nodes,
            what,
        }
    }

    fn schedule(&mut self, after_ms: u64, event: Event) {
        let id = self.next_event;
        self.next_event += 1;
        self.events.insert(id, event);
        self.queue.push(Reverse((self.now_ms + after_ms, id)));
    }

    fn faulty(&self) -> bool {
        self.now_ms < self.cfg.faulty_ms
    }

    fn handle(&mut self, event: Event) -> Result<(), String> {
        match event {
            Event::Deliver { from, to, message } => {
                if let Some(replica) = self.replicas[to].as_mut() {
                    let install = matches!(message, PeerMessage::InstallSnapshot { .. });
                    let applied_before = replica.applied_below;
                    let step = replica.on_peer(from, message);
                    if install && replica.applied_below > applied_before {
                        self.report.snapshots_installed += 1;
                    }
                    self.apply(to, step)?;
                }
            }
            Event::Timeout { node, generation } => {
                if generation == self.timer_generation[node] {
                    if let Some(replica) = self.replicas[node].as_mut() {
                        let step = replica.on_timeout();
                        self.apply(node, step)?;
                    }
                }
            }
            Event::Submit { client } => self.submit(client)?,
            Event::Answer { node, id, result } => self.answer(node, id, result)?,
            Event::ClientGivesUp { client, seq } => self.give_up(client, seq),
            Event::SubmitSlot {
                proposer,
                unless_answered,
            } => self.submit_slot(proposer, unless_answered)?,
            Event::SlotAnswer { id, decision } => self.slot_answer(id, decision),
            Event::Chaos => self.chaos(),
            Event::Restart { node } => self.restart(node)?,
            Event::Heal => {
                self.partition = None;
                for node in 0..self.cfg.nodes {
                    if self.replicas[node].is_none() {
                        self.restart(node)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Applies a replica's step as the node's event loop would: persist, then send, answer,
    /// and set the timer.
    fn apply(&mut self, node: NodeIndex, step: ReplicaStep) -> Result<(), String> {
        let ReplicaStep {
            persist,
            send,
            replies,
            acceptances,
            slot_replies,
            timer,
            rejected: _,
            settled: _,
            caught_up_past: _,
        } = step;
        // The disk holds what the node persisted: its records, replayed.
        for record in &persist {
            self.disks[node].apply(record);
        }
        self.note_rejoin(node);
        for (slot, proposal) in acceptances {
            self.acceptances.record(slot, &proposal, node);
        }
        for (to, message) in send {
            self.send(node, to, message);
        }
        for (id, result) in replies {
            let delay = self.rng.random_range(1..=self.cfg.delay_ms_max);
            self.schedule(delay, Event::Answer { node, id, result });
        }
        for (id, decision) in slot_replies {
            let delay = self.rng.random_range(1..=self.cfg.delay_ms_max);
            self.schedule(delay, Event::SlotAnswer { id, decision });
        }
        match timer {
            TimerChange::Arm => {
                self.timer_generation[node] += 1;
                let generation = self.timer_generation[node];
                let jitter = self.rng.random_range(0..=self.cfg.timeout_ms);
                self.schedule(
                    self.cfg.timeout_ms + jitter,
                    Event::Timeout { node, generation },
                );
            }
            TimerChange::Cancel => self.timer_generation[node] += 1,
            TimerChange::Unchanged => {}
        }
        Ok(())
    }

    /// A node rejoining after a lost disk that now votes and has caught up: how long it took.
    fn note_rejoin(&mut self, node: NodeIndex) {
        let Some(since) = self.rejoining.get(&node).copied() else {
            return;
        };
        if self.replicas[node]
            .as_ref()
            .is_some_and(Replica::may_campaign)
        {
            self.rejoining.remove(&node);
            self.report.rejoins += 1;
            self.report.rejoin_ms.push(self.now_ms - since);
        }
    }

    /// Whether a disk may be lost now: every node is up, votes, and has caught up past its
    /// slot floor (the rule's assumption: losses do not overlap; a node that joined a running
    /// cluster late has floors too).
    fn may_lose_a_disk(&self) -> bool {
        self.replicas
            .iter()
            .all(|replica| replica.as_ref().is_some_and(Replica::may_campaign))
    }

    fn send(&mut self, from: NodeIndex, to: NodeIndex, message: PeerMessage) {
        self.report.messages += 1;
        let cut = self
            .partition
            .as_ref()
            .is_some_and(|side| side[from] != side[to]);
        if cut || (self.faulty() && self.rng.random_range(0..100) < self.cfg.drop_percent) {
            return;
        }
        let copies = if self.faulty() && self.rng.random_range(0..100) < self.cfg.duplicate_percent
        {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let delay = self.rng.random_range(1..=self.cfg.delay_ms_max);
            self.schedule(
                delay,
                Event::Deliver {
                    from,
                    to,
                    message: message.clone(),
                },
            );
        }
    }

    fn submit(&mut self, client: usize) -> Result<(), String> {
        if !self.faulty() {
            return Ok(()); // no new commands while the cluster settles
        }
        let op = match self.rng.random_range(0..3) {
            0 => KvOp::Read {
                key: self.rng.random_range(0..2),
            },
            1 => KvOp::Write {
                key: self.rng.random_range(0..2),
                value: self.rng.random_range(0..5),
            },
            _ => KvOp::Cas {
                key: self.rng.random_range(0..2),
                from: self.rng.random_range(0..5),
                to: self.rng.random_range(0..5),
            },
        };
        let node = self.rng.random_range(0..self.cfg.nodes);
        let seq = {
            let state = &mut self.clients[client];
            let seq = state.next_seq;
            state.next_seq += 1;
            state.in_flight = Some((seq, self.now_ms, op.key()));
            seq
        };
        let thread = self.clients[client].thread;
        self.histories
            .entry(op.key())
            .or_insert_with(|| LinearizabilityTester::new(KvStore::default()))
            .on_invoke(thread, op.clone())
            .map_err(|error| format!("client history: {error}"))?;
        self.report.submitted += 1;
        let id = RequestId {
            client: self.clients[client].name.as_str().into(),
            seq,
        };
        self.schedule(
            self.cfg.client_timeout_ms,
            Event::ClientGivesUp { client, seq },
        );
        // A command sent to a crashed node is lost; the client times out.
        if let Some(replica) = self.replicas[node].as_mut() {
            let step = replica.on_request(id, op);
            self.apply(node, step)?;
        }
        Ok(())
    }

    /// A slot proposer asks a random node for its own value in one of the first 24 slots, and
    /// moves on when answered (or after the client timeout).
    fn submit_slot(&mut self, proposer: usize, unless_answered: Option<u64>) -> Result<(), String> {
        let faulty = self.faulty();
        let (next_seq, in_flight) = &mut self.slot_proposers[proposer];
        if !faulty || (unless_answered.is_some() && *in_flight != unless_answered) {
            return Ok(()); // settling, or answered in time (its answer proposed again)
        }
        let seq = *next_seq;
        *next_seq += 1;
        *in_flight = Some(seq);
        let id = RequestId {
            client: format!("p{}", proposer + 1).into(),
            seq,
        };
        let json = format!("\"{}-{seq}\"", id.client);
        let slot = self.rng.random_range(0..24);
        let node = self.rng.random_range(0..self.cfg.nodes);
        let give_up = Event::SubmitSlot {
            proposer,
            unless_answered: Some(seq),
        };
        self.schedule(self.cfg.client_timeout_ms, give_up);
        if let Some(replica) = self.replicas[node].as_mut() {
            let step = replica
                .on_propose(id, slot, json)
                .expect("slots 0-23 are within the window");
            self.apply(node, step)?;
        }
        Ok(())
    }

    fn slot_answer(&mut self, id: RequestId, decision: SlotDecision) {
        self.slot_answers.push((decision.slot, decision.entry));
        self.report.slot_answers += 1;
        let proposer: usize = id.client[1..].parse::<usize>().expect("p<n>") - 1;
        let in_flight = &mut self.slot_proposers[proposer].1;
        if *in_flight == Some(id.seq) {
            *in_flight = None;
            let pause = self.rng.random_range(0..20);
            let next = Event::SubmitSlot {
                proposer,
                unless_answered: None,
            };
            self.schedule(pause, next);
        }
    }

    fn answer(&mut self, node: NodeIndex, id: RequestId, result: KvResult) -> Result<(), String> {
        let Some(client) = self.clients.iter().position(|c| *c.name == *id.client) else {
            return Err(format!("node {node} answered an unknown client {id:?}"));
        };
        let state = &mut self.clients[client];
        let Some((seq, submitted_at, key)) = state.in_flight else {
            return Ok(()); // the client gave up already; its thread stays blocked
        };
        if seq != id.seq {
            return Ok(());
        }
        state.in_flight = None;
        let thread = state.thread;
        self.histories
            .get_mut(&key)
            .expect("invoked before")
            .on_return(thread, result)
            .map_err(|error| format!("client history: {error}"))?;
        self.answered.insert(id);
        self.report.answered += 1;
        self.report
            .commit_latencies_ms
            .push(self.now_ms - submitted_at);
        let pause = self.rng.random_range(0..20);
        self.schedule(pause, Event::Submit { client });
        Ok(())
    }

    fn give_up(&mut self, client: usize, seq: u64) {
        let state = &mut self.clients[client];
        if state.in_flight.map(|(pending, _, _)| pending) != Some(seq) {
            return; // answered in time
        }
        state.in_flight = None;
        state.thread = self.next_thread;
        self.next_thread += 1;
        self.schedule(0, Event::Submit { client });
    }

    /// Every 100 ms of the faulty phase: maybe crash a node (at most a minority down at once),
    /// maybe split the network in two for a while.
    fn chaos(&mut self) {
        if !self.faulty() {
            return;
        }
        let down = self.replicas.iter().filter(|r| r.is_none()).count();
        if 2 * (down + 1) < self.cfg.nodes + 1
            && self.rng.random_range(0..100) < self.cfg.crash_percent_per_100ms
        {
            let node = self.rng.random_range(0..self.cfg.nodes);
            if self.replicas[node].is_some() {
                let loses_disk = self.may_lose_a_disk()
                    && self.rng.random_range(0..100) < self.cfg.disk_loss_percent;
                self.replicas[node] = None;
                self.report.crashes += 1;
                if loses_disk {
                    self.disk_lost[node] = true;
                    self.report.disks_lost += 1;
                    self.report.lost_disk_of.insert(node);
                }
                self.timer_generation[node] += 1;
                let down_for = self.rng.random_range(50..400);
                self.schedule(down_for, Event::Restart { node });
            }
        }
        if self.partition.is_none()
            && self.rng.random_range(0..100) < self.cfg.partition_percent_per_100ms
        {
            let sides = (0..self.cfg.nodes)
                .map(|_| self.rng.random_bool(0.5))
                .collect();
            self.partition = Some(sides);
            self.report.partitions += 1;
        } else if self.partition.is_some() && self.rng.random_range(0..100) < 30 {
            self.partition = None;
        }
        self.schedule(100, Event::Chaos);
    }

    /// A node comes back with only its disk, as the node binary does: what it persisted, or,
    /// if the disk was lost, nothing, which it cannot tell from a new cluster (it probes).
    fn restart(&mut self, node: NodeIndex) -> Result<(), String> {
        if self.replicas[node].is_some() {
            return Ok(());
        }
        let config = replica_config(&self.cfg, node);
        let nonce = self.rng.random();
        let lost = std::mem::take(&mut self.disk_lost[node]);
        if lost {
            self.disks[node] = DurableState::default();
            self.rejoining.insert(node, self.now_ms);
        }
        let mut replica = if self.cfg.flaw == Flaw::ForgetOnCrash {
            // The flaw: an empty disk, taken for the node's own.
            Replica::recover(config, DurableState::default(), nonce)
        } else if self.disks[node].is_empty() {
            // Its first start, or a lost disk: the node cannot tell which, and probes.
            Replica::without_state(config, nonce)
        } else {
            Replica::recover(config, self.disks[node].clone(), nonce)
        };
        let step = replica.start();
        self.replicas[node] = Some(replica);
        self.apply(node, step)
    }

    fn check(&mut self) -> Result<(), String> {
        if let Some(slot) = self.acceptances.disagreement() {
            return Err(format!(
                "slot {slot} chosen twice: {:?}",
                self.acceptances
                    .chosen()
                    .filter(|(chosen_slot, _)| *chosen_slot == slot)
                    .map(|(_, proposal)| &proposal.value)
                    .collect::<Vec<_>>()
            ));
        }
        let chosen: BTreeMap<Slot, &Entry> = self
            .acceptances
            .chosen()
            .map(|(slot, proposal)| (slot, &proposal.value))
            .collect();
        let replicas: Vec<&Replica> = self.replicas.iter().flatten().collect();
        for replica in &replicas {
            for (slot, entry) in replica.log.iter() {
                match chosen.get(&slot) {
                    Some(value) if *value == entry => {}
                    other => {
                        return Err(format!(
                            "n{} learned slot {slot} as {entry:?}, but the acceptors chose \
                             {other:?}",
                            replica.index() + 1
                        ))
                    }
                }
            }
        }
        let logged: BTreeSet<&RequestId> = chosen
            .values()
            .flat_map(|entry| entry.commands().map(|(id, _)| id))
            .collect();
        for (slot, entry) in &self.slot_answers {
            if chosen.get(slot) != Some(&entry) {
                return Err(format!(
                    "a client was told slot {slot} chose {entry:?}, but the acceptors chose {:?}",
                    chosen.get(slot)
                ));
            }
        }
        if let Some(lost) = self.answered.iter().find(|id| !logged.contains(id)) {
            return Err(format!(
                "{lost:?} was answered but is not in the chosen log"
            ));
        }
        for (key, history) in &self.histories {
            if history.serialized_history().is_none() {
                return Err(format!(
                    "the client history of key {key} is not linearizable: {history:?}"
                ));
            }
        }
        // Liveness after healing: every node votes again, every command a live node holds for a
        // client, and every named slot asked for, got into the log in the settle time.
        for replica in &replicas {
            if !replica.votes() {
                return Err(format!(
                    "n{} does not vote after the cluster healed: {:?}",
                    replica.index() + 1,
                    replica.voting
                ));
            }
            if let Some(stuck) = replica.unplaced.keys().next() {
                return Err(format!(
                    "n{} still holds {stuck:?} after the cluster healed; it knows leader {:?}, \
                     its proposer is {:?} at round {}, it has applied below {} (slot floor \
                     {:?}, ballot floor {:?}), and others: {}",
                    replica.index() + 1,
                    replica.known_leader,
                    replica.proposer.status,
                    replica.proposer.highest_seen_round,
                    replica.applied_below,
                    replica.slot_floor,
                    replica.ballot_floor,
                    replicas
                        .iter()
                        .map(|other| format!(
                            "n{} {:?} knows leader {:?} applied below {} (log to {:?}, \
                             accepted to {:?}) promised {:?} floors {:?}/{:?} unplaced {}",
                            other.index() + 1,
                            other.proposer.status,
                            other.known_leader,
                            other.applied_below,
                            other.log.last_slot(),
                            other.acceptor.accepted.last_slot(),
                            other.acceptor.promised,
                            other.ballot_floor,
                            other.slot_floor,
                            other.unplaced.len()
                        ))
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
            }
            if let Some(slot) = replica.slot_requests.keys().next() {
                return Err(format!(
                    "n{} still waits for slot {slot} after the cluster healed",
                    replica.index() + 1
                ));
            }
        }
        self.report.longest_log = replicas
            .iter()
            .map(|replica| replica.log.len())
            .max()
            .unwrap_or(0);
        Ok(())
    }
}

/// The median and 99th percentile of `values` (sorted in place), or `None` if empty.
fn replica_config(cfg: &SimConfig, index: NodeIndex) -> ReplicaConfig {
    ReplicaConfig {
        flaw: cfg.flaw,
        snapshot_every: cfg.snapshot_every,
        answers_kept: cfg.answers_kept,
        ..ReplicaConfig::node(index, cfg.nodes)
    }
}

pub fn median_and_p99(values: &mut [u64]) -> Option<(u64, u64)> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let at = |fraction: f64| values[((values.len() - 1) as f64 * fraction).round() as usize];
    Some((at(0.5), at(0.99)))
}
