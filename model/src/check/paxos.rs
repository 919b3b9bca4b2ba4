//! The exhaustive models of single-decree Paxos and Multi-Paxos: one pair of stateright actors,
//! thin adapters over the protocol's acceptor and proposer, configured two ways, each with the
//! properties worth asking of it.
//!
//! Acceptors are actors `a1..aN` (ids 0..N); proposers (`p1..`, or leaders `l1..` in
//! Multi-Paxos) come after them. Each proposer has its own queue of distinct commands and
//! proposes one at a time, in the first slot it does not know to be chosen; it moves on once its
//! current command is chosen there. Single-decree Paxos is the log of one slot: proposer `pi`
//! has the one value `'A' + i - 1`. In Multi-Paxos, `l1` has `slots` commands (A, B, ...) and
//! every other leader one (the letters after `l1`'s).
//!
//! A proposer runs Phase 1 once for every slot from its first unchosen one and skips it for later
//! slots while its ballot stands; a refusal preempts it and it runs Phase 1 again (at most
//! `rounds` ballots in all). Acceptors persist through stateright's `Storage` before replying,
//! so a crash loses only what Paxos allows. Every acceptance goes into a ghost record of what
//! was chosen (`protocol::chosen`), which the safety properties judge.

use crate::check::actors::{ActorIndex, ActorSystem, Interleaving, Relabel, Symmetry, SystemState};
use crate::check::cuts::{only_cuts_of, use_of, Cut, CutUse, Reductions};
use crate::check::settings::{
    actor_name, ballots, chosen_words, counted, fault_flags, faults_summary, Faults, MessageFields,
    ModelConfig, Presentation,
};
use crate::protocol::acceptor::Acceptor;
use crate::protocol::ballot::Proposal;
use crate::protocol::chosen::ChosenTracker;
use crate::protocol::flaw::{Flaw, FlawScope};
use crate::protocol::message::{Message, Role};
use crate::protocol::proposer::{
    Outgoing, Proposer, ProposerConfig, ProposerInput, ProposerStep, Status,
};
use crate::protocol::quorum::AcceptorSet;
use crate::protocol::rules::{self, TimerChange, ValueSource};
use crate::protocol::slots::{Slot, SlotMap};
use crate::ConfigError;
use serde::{Deserialize, Serialize};
use stateright::actor::{model_timeout, Actor, Id, Out};
use stateright::Property;
use std::borrow::Cow;
use std::hash::{Hash, Hasher};

/// Values and commands are letters, so traces stay readable.
pub type Value = char;

/// The largest configurations the CLI accepts (the ballots of a run fit a byte-sized index).
pub const ACCEPTORS_MAX: usize = 7;
pub const PROPOSERS_MAX: usize = 5;
pub const SLOTS_MAX: usize = 4;
pub const ROUNDS_MAX: u32 = 5;

/// Single-decree Paxos: acceptors and competing proposers agree on one value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SingleDecreeConfig {
    pub acceptors: usize,
    pub proposers: usize,
    /// Ballots each proposer may start.
    pub rounds: u32,
    pub faults: Faults,
    pub flaw: Flaw,
    /// The cuts of the state space a run may use (`--reduce`): symmetry, dead, stale.
    #[serde(default)]
    pub reductions: Reductions,
}

impl Default for SingleDecreeConfig {
    fn default() -> Self {
        SingleDecreeConfig {
            acceptors: 3,
            proposers: 2,
            rounds: 1,
            faults: Faults::default(),
            flaw: Flaw::None,
            reductions: Reductions::ALL,
        }
    }
}

/// Multi-Paxos: leaders fill a log, skipping Phase 1 while their ballot stands.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MultiPaxosConfig {
    pub acceptors: usize,
    pub leaders: usize,
    /// The log's length: slots 0..slots.
    pub slots: usize,
    /// Ballots each leader may start.
    pub rounds: u32,
    pub faults: Faults,
    pub flaw: Flaw,
    /// The cuts of the state space a run may use (`--reduce`): symmetry, dead, stale.
    #[serde(default)]
    pub reductions: Reductions,
}

impl Default for MultiPaxosConfig {
    fn default() -> Self {
        MultiPaxosConfig {
            acceptors: 3,
            leaders: 2,
            slots: 2,
            rounds: 1,
            faults: Faults::default(),
            flaw: Flaw::None,
            reductions: Reductions::ALL,
        }
    }
}

impl SingleDecreeConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        ConfigError::check_range("acceptors", self.acceptors, 1, ACCEPTORS_MAX)?;
        ConfigError::check_range("proposers", self.proposers, 1, PROPOSERS_MAX)?;
        ConfigError::check_range("rounds", self.rounds as usize, 1, ROUNDS_MAX as usize)?;
        ConfigError::check_range("crashes", self.faults.crashes, 0, self.acceptors)?;
        paxos_cuts_valid(&self.reductions, Self::NAME)?;
        match self.flaw.scope() {
            // Its rule exists only in Multi-Paxos or the replica: here it would silently be
            // Paxos itself.
            FlawScope::MultiPaxos => Err(ConfigError {
                setting: "flaw",
                message: format!(
                    "{} bends a Multi-Paxos rule that single-decree Paxos does not have; \
                     show it with `check multi`",
                    self.flaw
                ),
            }),
            FlawScope::Replica => Err(replica_only(self.flaw)),
            FlawScope::SingleDecree => Ok(()),
        }
    }

    pub fn proposer_value(index: usize) -> Value {
        char::from(b'A' + u8::try_from(index).expect("proposer index is small"))
    }
}

impl MultiPaxosConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        ConfigError::check_range("acceptors", self.acceptors, 1, ACCEPTORS_MAX)?;
        ConfigError::check_range("leaders", self.leaders, 1, PROPOSERS_MAX)?;
        ConfigError::check_range("slots", self.slots, 1, SLOTS_MAX)?;
        ConfigError::check_range("rounds", self.rounds as usize, 1, ROUNDS_MAX as usize)?;
        ConfigError::check_range("crashes", self.faults.crashes, 0, self.acceptors)?;
        paxos_cuts_valid(&self.reductions, Self::NAME)?;
        if self.flaw.scope() == FlawScope::Replica {
            return Err(replica_only(self.flaw));
        }
        Ok(())
    }

    /// Leader `leader`'s commands, in the order it proposes them.
    pub fn commands(&self, leader: usize) -> Vec<Value> {
        let count = if leader == 0 { self.slots } else { 1 };
        (0..count)
            .map(|index| {
                char::from(b'A' + u8::try_from(leader * self.slots + index).expect("small"))
            })
            .collect()
    }
}

/// The cuts of the Paxos models. Each holds under every network and fault: symmetry because
/// every rule is symmetric in the acceptors (`check::symmetry`), dead requests by
/// `rules::request_is_dead` (which itself says no under `forget-on-crash`), stale replies
/// because only proposers ignore messages and proposers never crash (`ignores_reply`), the
/// partial-order reduction because proposers hear only answers and the properties read of a
/// proposer only what `visible_to_properties` covers (`INTERLEAVING`; the runtime declines it
/// by itself in states where a message may be lost).
const PAXOS_CUTS: [Cut; 4] = [
    Cut::Symmetry,
    Cut::DeadRequests,
    Cut::StaleMessages,
    Cut::PartialOrder,
];

fn paxos_cuts_valid(reductions: &Reductions, model: &str) -> Result<(), ConfigError> {
    only_cuts_of(reductions, model, &PAXOS_CUTS).map_err(|message| ConfigError {
        setting: "reduce",
        message,
    })
}

/// Whether each Paxos cut is used under `reductions`: every one holds everywhere.
fn paxos_cuts(reductions: &Reductions) -> Vec<(Cut, CutUse)> {
    PAXOS_CUTS
        .into_iter()
        .map(|cut| {
            let used = use_of(reductions, cut, Ok(())).expect("every Paxos cut holds everywhere");
            (cut, used)
        })
        .collect()
}

/// `("reduce", list)` where a run does not use every cut.
fn reduce_flag(reductions: &Reductions) -> Option<(&'static str, String)> {
    (!reductions.is_all()).then(|| ("reduce", reductions.spelled()))
}

/// A flaw of the replica's own paths, which only the cluster model runs.
fn replica_only(flaw: Flaw) -> ConfigError {
    ConfigError {
        setting: "flaw",
        message: format!(
            "{flaw} bends a rule of the lin-kv replica, which only the cluster model runs; \
             show it with `check cluster`"
        ),
    }
}

impl Presentation<Message<Value>> for SingleDecreeConfig {
    fn actor_name(&self, id: Id) -> String {
        actor_name(id, self.acceptors, 'p')
    }

    fn describe(&self, message: &Message<Value>) -> String {
        message.describe(false)
    }

    fn names_slots(&self) -> bool {
        false
    }

    fn fields(&self, message: &Message<Value>) -> Option<MessageFields> {
        Some(message_fields(message))
    }

    fn acceptor_count(&self) -> usize {
        self.acceptors
    }
}

impl Presentation<Message<Value>> for MultiPaxosConfig {
    fn actor_name(&self, id: Id) -> String {
        actor_name(id, self.acceptors, 'l')
    }

    fn describe(&self, message: &Message<Value>) -> String {
        message.describe_as(true, 'l')
    }

    fn names_slots(&self) -> bool {
        true
    }

    fn fields(&self, message: &Message<Value>) -> Option<MessageFields> {
        Some(message_fields(message))
    }

    fn acceptor_count(&self) -> usize {
        self.acceptors
    }

    fn ballot_owner(&self) -> (char, &'static str) {
        ('l', "leader")
    }
}

/// A message's fields, for traces and stories.
pub fn message_fields(message: &Message<Value>) -> MessageFields {
    let words =
        |proposal: &Proposal<Value>| Proposal::new(proposal.ballot, proposal.value.to_string());
    match message {
        Message::Prepare { ballot, from_slot } => MessageFields {
            kind: "Prepare",
            slot: Some(*from_slot),
            ballot: Some(*ballot),
            ..MessageFields::default()
        },
        Message::Promise { ballot, accepted } => MessageFields {
            kind: "Promise",
            ballot: Some(*ballot),
            reported: accepted
                .iter()
                .map(|(slot, proposal)| (*slot, words(proposal)))
                .collect(),
            ..MessageFields::default()
        },
        Message::PrepareRefused { ballot, promised } => MessageFields {
            kind: "PrepareRefused",
            ballot: Some(*ballot),
            promised: Some(*promised),
            ..MessageFields::default()
        },
        Message::Accept { slot, proposal } | Message::Accepted { slot, proposal } => {
            MessageFields {
                kind: if matches!(message, Message::Accept { .. }) {
                    "Accept"
                } else {
                    "Accepted"
                },
                slot: Some(*slot),
                ballot: Some(proposal.ballot),
                value: Some(proposal.value.to_string()),
                ..MessageFields::default()
            }
        }
        Message::AcceptRefused {
            slot,
            ballot,
            promised,
        } => MessageFields {
            kind: "AcceptRefused",
            slot: Some(*slot),
            ballot: Some(*ballot),
            promised: Some(*promised),
            ..MessageFields::default()
        },
    }
}

impl ModelConfig for SingleDecreeConfig {
    const NAME: &'static str = "single";
    const TITLE: &'static str = "single-decree Paxos";

    fn summary(&self) -> String {
        format!(
            "{}, {} with up to {} each, {}",
            counted(self.acceptors, "acceptor"),
            counted(self.proposers, "proposer"),
            ballots(self.rounds),
            faults_summary(&self.faults, self.flaw)
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
            ("acceptors", self.acceptors.to_string()),
            ("proposers", self.proposers.to_string()),
            ("rounds", self.rounds.to_string()),
        ];
        flags.extend(fault_flags(&self.faults, self.flaw));
        flags.extend(reduce_flag(&self.reductions));
        flags
    }

    fn cuts(&self) -> Vec<(Cut, CutUse)> {
        paxos_cuts(&self.reductions)
    }
}

impl ModelConfig for MultiPaxosConfig {
    const NAME: &'static str = "multi";
    const TITLE: &'static str = "Multi-Paxos";

    fn summary(&self) -> String {
        format!(
            "{}, {} with up to {} each, {}, {}",
            counted(self.acceptors, "acceptor"),
            counted(self.leaders, "leader"),
            ballots(self.rounds),
            counted(self.slots, "slot"),
            faults_summary(&self.faults, self.flaw)
        )
    }

    fn faults(&self) -> Faults {
        self.faults
    }

    fn flaw(&self) -> Flaw {
        self.flaw
    }

    /// Liveness needs, besides a fair network, that no leader gives up: a leader preempted after
    /// its last ballot stops, and its commands may stay unchosen. One leader is never preempted.
    fn liveness_caveat(&self) -> Option<&'static str> {
        let gives_up = "each leader starts at most --rounds ballots, and one preempted after its \
                        last gives up, so its commands may stay unchosen";
        (self.leaders >= 2)
            .then_some(gives_up)
            .or(self.faults.liveness_caveat())
    }

    fn flags(&self) -> Vec<(&'static str, String)> {
        let mut flags = vec![
            ("acceptors", self.acceptors.to_string()),
            ("leaders", self.leaders.to_string()),
            ("slots", self.slots.to_string()),
            ("rounds", self.rounds.to_string()),
        ];
        flags.extend(fault_flags(&self.faults, self.flaw));
        flags.extend(reduce_flag(&self.reductions));
        flags
    }

    fn cuts(&self) -> Vec<(Cut, CutUse)> {
        paxos_cuts(&self.reductions)
    }
}

/// The proposers' one timer: "no answer yet; try a higher ballot".
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RetryTimer {
    Retry,
}

#[derive(Clone, Debug)]
pub enum PaxosActor {
    Acceptor {
        flaw: Flaw,
    },
    Proposer {
        config: ProposerConfig,
        /// Its commands, in the order it proposes them.
        commands: Vec<Value>,
        /// The log's length.
        slots: usize,
        acceptors: usize,
        /// Whether the retry timer is modelled at all (see `Faults::models_retry_timers`).
        timeouts: bool,
    },
}

/// A proposer's protocol state, what it learned, and where it is in its queue of commands.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProposerState {
    pub proposer: Proposer<Value>,
    /// The values this proposer learned were chosen, per slot: its learner's log.
    pub log: SlotMap<Value>,
    /// Index into the proposer's commands of the one it is trying to get chosen.
    pub next_command: u8,
    /// Bit s: it learned slot s chosen by Phase 2 alone (Phase 1 skipped). What its client was
    /// told, kept so that the reachability properties can be judged from the state.
    pub skipped_phase1: u8,
    /// Bit s: the value it got chosen in slot s was adopted from a promise.
    pub adopted: u8,
}

/// An actor's state. Its `Debug` reads in the protocol's words (`promised 2.p1, accepted (1.p2,
/// B)`), since that is what traces, the Explorer and assertion messages show; the alternate form
/// (`{:#?}`) is Multi-Paxos's: it names slots, and ballots after their leaders (`2.l1`).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PaxosState {
    Acceptor(Acceptor<Value>),
    Proposer(ProposerState),
}

impl std::fmt::Debug for PaxosState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let with_slots = f.alternate();
        let owner = if with_slots { 'l' } else { 'p' };
        match self {
            PaxosState::Acceptor(acceptor) => {
                f.write_str(&acceptor_words(acceptor, with_slots, owner))
            }
            PaxosState::Proposer(proposer) => {
                f.write_str(&proposer_words(proposer, with_slots, owner))
            }
        }
    }
}

impl std::fmt::Display for PaxosState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// `entries` as `x` (one slot, unnamed) or `slot 0: x, slot 1: y`.
fn per_slot<T>(
    entries: impl Iterator<Item = (Slot, T)>,
    with_slots: bool,
    words: impl Fn(T) -> String,
) -> Vec<String> {
    entries
        .map(|(slot, entry)| {
            if with_slots {
                format!("slot {slot}: {}", words(entry))
            } else {
                words(entry)
            }
        })
        .collect()
}

/// Acceptors by their names (acceptors are actors `a1..`, ids 0..).
fn acceptor_names(acceptors: &AcceptorSet) -> String {
    let names: Vec<String> = acceptors
        .iter()
        .map(|acceptor| format!("a{}", acceptor + 1))
        .collect();
    if names.is_empty() {
        "nobody yet".to_owned()
    } else {
        names.join(", ")
    }
}

/// `promised 2.p1, accepted (1.p2, B)`.
fn acceptor_words(acceptor: &Acceptor<Value>, with_slots: bool, owner: char) -> String {
    let promised = acceptor
        .promised
        .map_or("nothing".to_owned(), |ballot| ballot.named(owner));
    let accepted = per_slot(acceptor.accepted.iter(), with_slots, |proposal| {
        format!("({}, {})", proposal.ballot.named(owner), proposal.value)
    });
    let accepted = if accepted.is_empty() {
        "nothing".to_owned()
    } else {
        accepted.join(", ")
    };
    format!("promised {promised}, accepted {accepted}")
}

/// `leads 1.p1 (promises from a1, a2); Phase 2: A accepted by a1; learned nothing`.
fn proposer_words(state: &ProposerState, with_slots: bool, owner: char) -> String {
    let proposer = &state.proposer;
    let mut parts = vec![match &proposer.status {
        Status::Idle => "no ballot".to_owned(),
        Status::Preparing {
            ballot,
            promised,
            reports,
            ..
        } => {
            let bound = per_slot(reports.iter(), with_slots, |(acceptor, proposal)| {
                format!(
                    "({}, {}) from a{}",
                    proposal.ballot.named(owner),
                    proposal.value,
                    acceptor + 1
                )
            });
            let bound = if bound.is_empty() {
                String::new()
            } else {
                format!("; bound by {}", bound.join(", "))
            };
            format!(
                "Phase 1 at {}, promises from {}{bound}",
                ballot.named(owner),
                acceptor_names(promised)
            )
        }
        Status::Leading { ballot, quorum } => {
            format!(
                "leads {} (promises from {})",
                ballot.named(owner),
                acceptor_names(quorum)
            )
        }
    }];
    let phase2 = per_slot(proposer.in_flight.iter(), with_slots, |in_flight| {
        let votes = if in_flight.votes.is_empty() {
            "no vote heard yet".to_owned()
        } else {
            format!("votes from {}", acceptor_names(&in_flight.votes))
        };
        format!(
            "{} at {}, {votes}",
            in_flight.proposal.value,
            in_flight.proposal.ballot.named(owner)
        )
    });
    if !phase2.is_empty() {
        parts.push(format!("Phase 2: {}", phase2.join(", ")));
    }
    let wants = per_slot(proposer.requests.iter(), with_slots, |value| {
        value.to_string()
    });
    if !wants.is_empty() {
        parts.push(format!("wants {}", wants.join(", ")));
    }
    let learned = per_slot(state.log.iter(), with_slots, |value| value.to_string());
    parts.push(if learned.is_empty() {
        "learned nothing".to_owned()
    } else {
        format!("learned {}", learned.join(", "))
    });
    parts.join("; ")
}

impl Actor for PaxosActor {
    type Msg = Message<Value>;
    type Timer = RetryTimer;
    type State = PaxosState;
    type Storage = Acceptor<Value>;
    type Random = ();

    fn name(&self) -> String {
        match self {
            PaxosActor::Acceptor { .. } => "Acceptor".into(),
            PaxosActor::Proposer { .. } => "Proposer".into(),
        }
    }

    fn on_start(&self, _id: Id, storage: &Option<Self::Storage>, o: &mut Out<Self>) -> Self::State {
        match self {
            PaxosActor::Acceptor { flaw } => {
                PaxosState::Acceptor(Acceptor::recover(storage.as_ref(), *flaw))
            }
            PaxosActor::Proposer { .. } => {
                let mut state = ProposerState {
                    proposer: Proposer::new(),
                    log: SlotMap::new(),
                    next_command: 0,
                    skipped_phase1: 0,
                    adopted: 0,
                };
                self.propose_next(&mut state, o);
                PaxosState::Proposer(state)
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
        // The protocol's one dispatch: requests to the acceptor, replies to the proposer.
        match (self, &**state, msg.role()) {
            (PaxosActor::Acceptor { flaw }, PaxosState::Acceptor(acceptor), Role::Acceptor) => {
                let mut next = acceptor.clone();
                let step = next.step(msg, *flaw).expect("a request");
                // Persist, then reply.
                if step.change.is_some() {
                    o.save(next.clone());
                }
                o.send(src, step.reply);
                if next != *acceptor {
                    *state.to_mut() = PaxosState::Acceptor(next);
                }
            }
            (
                PaxosActor::Proposer {
                    config, acceptors, ..
                },
                PaxosState::Proposer(proposer_state),
                Role::Proposer,
            ) => {
                let from = usize::from(src);
                assert!(from < *acceptors, "proposers hear only from acceptors");
                if proposer_state.proposer.ignores(from, &msg) {
                    return; // nothing changes: no copy of the state is needed to know it
                }
                let mut next = proposer_state.clone();
                let input = ProposerInput::Reply { from, message: msg };
                let step = next.proposer.step(config, input);
                self.apply(&mut next, step, o);
                if next != *proposer_state {
                    *state.to_mut() = PaxosState::Proposer(next);
                }
            }
            _ => {} // a request to a proposer, or a reply to an acceptor: nobody sends those
        }
    }

    fn on_timeout(
        &self,
        _id: Id,
        state: &mut Cow<Self::State>,
        _timer: &Self::Timer,
        o: &mut Out<Self>,
    ) {
        let (PaxosActor::Proposer { config, .. }, PaxosState::Proposer(proposer_state)) =
            (self, &**state)
        else {
            return;
        };
        let mut next = proposer_state.clone();
        let step = next.proposer.step(config, ProposerInput::Timeout);
        self.apply(&mut next, step, o);
        if next != *proposer_state {
            *state.to_mut() = PaxosState::Proposer(next);
        }
    }
}

impl PaxosActor {
    /// Sends what the proposer's step says, learns its decisions, and moves its queue on: once
    /// its current command is chosen, it proposes the next one.
    fn apply(&self, state: &mut ProposerState, step: ProposerStep<Value>, o: &mut Out<Self>) {
        let PaxosActor::Proposer {
            commands,
            acceptors,
            timeouts,
            ..
        } = self
        else {
            unreachable!("only proposers take proposer steps");
        };
        for Outgoing { to, message } in step.outgoing {
            let recipients: Vec<Id> = (0..*acceptors)
                .filter(|&acceptor| to.includes(acceptor))
                .map(Id::from)
                .collect();
            o.broadcast(&recipients, &message);
        }
        if *timeouts {
            match step.timer {
                TimerChange::Arm => o.set_timer(RetryTimer::Retry, model_timeout()),
                TimerChange::Cancel => o.cancel_timer(RetryTimer::Retry),
                TimerChange::Unchanged => {}
            }
        }
        let mut moved_on = false;
        for decision in step.decided {
            let value = decision.proposal.value;
            state.log.insert(decision.slot, value);
            let bit = 1u8 << decision.slot;
            if decision.phase1_skipped {
                state.skipped_phase1 |= bit;
            }
            if matches!(decision.source, ValueSource::Promise { .. }) {
                state.adopted |= bit;
            }
            if commands.get(usize::from(state.next_command)) == Some(&value) {
                state.next_command += 1;
                moved_on = true;
            }
        }
        if moved_on || state.proposer.requests.is_empty() {
            self.propose_next(state, o);
        }
    }

    /// Proposes the current command in the first slot not known to be chosen, if a command is
    /// left and the log has room.
    fn propose_next(&self, state: &mut ProposerState, o: &mut Out<Self>) {
        let PaxosActor::Proposer {
            config,
            commands,
            slots,
            ..
        } = self
        else {
            unreachable!("only proposers propose");
        };
        if !state.proposer.requests.is_empty() {
            return; // one command at a time
        }
        let Some(&value) = commands.get(usize::from(state.next_command)) else {
            return;
        };
        let slot = state.proposer.first_unchosen_slot();
        if slot >= *slots as Slot {
            return;
        }
        let step = state
            .proposer
            .step(config, ProposerInput::Propose { slot, value });
        self.apply(state, step, o);
    }
}

/// The ghost record of every acceptance: what the safety properties judge.
pub type Ghost = ChosenTracker<Value>;

pub type SingleDecreeModel = ActorSystem<PaxosActor, SingleDecreeConfig, Ghost>;
pub type MultiPaxosModel = ActorSystem<PaxosActor, MultiPaxosConfig, Ghost>;
type State = SystemState<PaxosActor, Ghost>;

/// Every acceptance goes into the ghost record as it leaves the acceptor.
fn record_acceptance<C>(
    _: &C,
    history: &Ghost,
    src: usize,
    _dst: usize,
    message: &Message<Value>,
) -> Option<Ghost> {
    let Message::Accepted { slot, proposal } = message else {
        return None;
    };
    history.with(*slot, proposal, src)
}

/// The actors of a configuration: acceptors, then proposers with their commands.
fn actors(
    acceptors: usize,
    commands: Vec<Vec<Value>>,
    slots: usize,
    rounds: u32,
    faults: &Faults,
    flaw: Flaw,
) -> Vec<PaxosActor> {
    let proposers = commands.into_iter().enumerate().map(|(index, commands)| {
        let config = ProposerConfig {
            index: u32::try_from(index).expect("few proposers"),
            acceptor_count: acceptors,
            rounds_max: rounds,
            round_cap: u64::MAX,
            flaw,
            defer_to_rival: false,
        };
        PaxosActor::Proposer {
            config,
            commands,
            slots,
            acceptors,
            timeouts: faults.models_retry_timers(),
        }
    });
    (0..acceptors)
        .map(|_| PaxosActor::Acceptor { flaw })
        .chain(proposers)
        .collect()
}

/// The single-decree model for `cfg`, with its properties. `cfg` must be valid.
pub fn single_decree_model(cfg: SingleDecreeConfig) -> SingleDecreeModel {
    cfg.validate().expect("a valid configuration");
    let commands = (0..cfg.proposers)
        .map(|index| vec![SingleDecreeConfig::proposer_value(index)])
        .collect();
    let actors = actors(
        cfg.acceptors,
        commands,
        1,
        cfg.rounds,
        &cfg.faults,
        cfg.flaw,
    );
    let properties = single_decree_properties(&cfg);
    let cuts = cfg.cuts();
    system(cfg.acceptors, &cuts, cfg.faults, cfg, actors, properties)
}

/// The Multi-Paxos model for `cfg`, with its properties. `cfg` must be valid.
pub fn multi_paxos_model(cfg: MultiPaxosConfig) -> MultiPaxosModel {
    cfg.validate().expect("a valid configuration");
    let commands = (0..cfg.leaders).map(|index| cfg.commands(index)).collect();
    let actors = actors(
        cfg.acceptors,
        commands,
        cfg.slots,
        cfg.rounds,
        &cfg.faults,
        cfg.flaw,
    );
    let properties = multi_paxos_properties(&cfg);
    let cuts = cfg.cuts();
    system(cfg.acceptors, &cuts, cfg.faults, cfg, actors, properties)
}

fn system<C: Presentation<Message<Value>>>(
    acceptors: usize,
    cuts: &[(Cut, CutUse)],
    faults: Faults,
    cfg: C,
    actors: Vec<PaxosActor>,
    properties: Vec<Property<ActorSystem<PaxosActor, C, Ghost>>>,
) -> ActorSystem<PaxosActor, C, Ghost> {
    let crashable = actors
        .iter()
        .map(|actor| matches!(actor, PaxosActor::Acceptor { .. }))
        .collect();
    let used = |wanted: Cut| {
        cuts.iter()
            .any(|(cut, used)| *cut == wanted && used.is_on())
    };
    ActorSystem {
        cfg,
        actors,
        faults,
        crashable,
        disk_loss: None,
        cuts: Reductions {
            symmetry: used(Cut::Symmetry),
            dead: used(Cut::DeadRequests),
            stale: used(Cut::StaleMessages),
            por: used(Cut::PartialOrder),
            ..Reductions::NONE
        },
        coalesce: None,
        init_history: ChosenTracker::new(acceptors),
        record_send: record_acceptance::<C>,
        timeouts_max: None,
        crashes_in_run_max: None,
        properties,
        symmetry: Some(Symmetry::over(0..acceptors, faults.network)),
        dead: Some(dead_request::<C>),
        narrate: Some(newly_chosen::<C>),
        ignores: Some(ignores_reply),
        draw: None,
        codec: Some(State::codec()),
        interleaving: used(Cut::PartialOrder).then_some(INTERLEAVING),
    }
}

/// What the partial-order reduction needs of the Paxos actors (`actors::Interleaving`).
/// - A proposer hears only answers: an acceptor sends only to the sender of the request it
///   handles (`on_msg` replies to `src`, and nothing else sends), proposers send only to
///   acceptors, and neither has a timer that sends to a proposer (acceptors have no timer).
/// - The properties read of a proposer only what `proposer_only_grows` looks at, and it allows
///   only the changes they tolerate; everything else they read is the ghost history, which only
///   acceptances write (`record_acceptance`).
const INTERLEAVING: Interleaving<PaxosActor> = Interleaving {
    hears_only_answers: |actor| matches!(actor, PaxosActor::Proposer { .. }),
    only_grows: proposer_only_grows,
};

/// Whether a proposer's step from `before` to `after` changes what the properties of
/// `single_decree_properties` and `multi_paxos_properties` read of it only by growing it:
/// it may come to lead, but not stop leading (while "two proposers hold majority promises at
/// once" is `unsettled`: once it has its example, nothing else reads whether a proposer
/// leads); its learned log may gain slots, but no slot's
/// value may change or go; its two marks (Phase 1 skipped, a value adopted from a promise) may
/// gain bits but not lose them. What each property makes of that growth, whatever the other
/// proposers and the history are:
/// - "learners agree" / "logs agree" (always): a slot gained can only add a disagreement, never
///   remove one;
/// - "two proposers hold majority promises at once" (sometimes): one more leader can only make
///   it true;
/// - "phase 1 skipped", "a new leader adopts a value it learned from a promise" (sometimes):
///   a bit gained can only make them true;
/// - every other property reads only the history, which a proposer's step does not write.
///
/// An acceptor's step is never taken first (acceptors do not hear only answers), so for them
/// this says no. A property that reads more of a proposer must be added here; debug builds
/// check each reduced step against every property (`engine::Run::check_tolerated`).
fn proposer_only_grows(
    before: &PaxosState,
    after: &PaxosState,
    unsettled: &dyn Fn(&str) -> bool,
) -> bool {
    let (PaxosState::Proposer(before), PaxosState::Proposer(after)) = (before, after) else {
        return false;
    };
    let still_leading =
        !before.proposer.is_leading() || after.proposer.is_leading() || !unsettled(TWO_LEADERS);
    let log_grows = before
        .log
        .iter()
        .all(|(slot, value)| after.log.get(slot) == Some(value));
    let marks_grow =
        before.skipped_phase1 & !after.skipped_phase1 == 0 && before.adopted & !after.adopted == 0;
    still_leading && log_grows && marks_grow
}

/// A reply its proposer will ignore for good: one for a ballot it has moved past, or a vote it
/// has counted (`Proposer::ignores`: ballots only grow and votes only accumulate, so it stays
/// ignored while the proposer runs, and proposers never crash). Acceptors answer every request,
/// so they ignore nothing.
pub fn ignores_reply(
    actor: &PaxosActor,
    state: &PaxosState,
    src: usize,
    message: &Message<Value>,
) -> bool {
    match (actor, state) {
        (PaxosActor::Proposer { .. }, PaxosState::Proposer(proposer)) => {
            message.role() == Role::Proposer && proposer.proposer.ignores(src, message)
        }
        _ => false,
    }
}

/// The proposals a step got chosen: "A chosen at 1.p1 by a1, a2" (with the slot, in a log of
/// more than one).
fn newly_chosen<C: Presentation<Message<Value>>>(
    cfg: &C,
    before: &State,
    after: &State,
) -> Vec<String> {
    if std::sync::Arc::ptr_eq(&before.history, &after.history) {
        return Vec::new();
    }
    after
        .history
        .newly_chosen(&before.history)
        .map(|tally| {
            let (owner, _) = cfg.ballot_owner();
            chosen_words(tally, cfg.names_slots(), owner, |id| cfg.actor_name(id))
        })
        .collect()
}

/// A request that can no longer matter (`rules::request_is_dead`): delivering it would change no
/// state and its refusal would be collected at once; losing it would only spend a loss. A
/// crashed acceptor's requests wait: they are looked at again when it recovers.
fn dead_request<C: Presentation<Message<Value>>>(
    model: &ActorSystem<PaxosActor, C, Ghost>,
    state: &State,
    packet: &crate::check::actors::Packet<Message<Value>>,
) -> bool {
    let acceptor = usize::from(packet.dst);
    let PaxosActor::Acceptor { flaw } = model.actors[acceptor] else {
        return false;
    };
    if state.is_crashed(acceptor) {
        return false;
    }
    let (PaxosState::Acceptor(acceptor_state), PaxosState::Proposer(sender)) = (
        &**state.actors[acceptor],
        &**state.actors[usize::from(packet.src)],
    ) else {
        return false;
    };
    rules::request_is_dead(
        &packet.msg,
        acceptor_state.promised,
        sender.proposer.current_ballot(),
        flaw,
    )
}

fn proposers(state: &State) -> impl Iterator<Item = &ProposerState> {
    state.actors.iter().filter_map(|actor| match &***actor {
        PaxosState::Proposer(proposer) => Some(proposer),
        PaxosState::Acceptor(_) => None,
    })
}

/// Only values some client asked for are ever accepted.
fn valid(state: &State, proposed: impl Fn(Value) -> bool) -> bool {
    state
        .history
        .accepted()
        .all(|(_, proposal)| proposed(proposal.value))
}

/// No two learners learned different values for a slot.
fn learners_agree(state: &State) -> bool {
    let logs: Vec<&SlotMap<Value>> = proposers(state).map(|proposer| &proposer.log).collect();
    logs.iter().enumerate().all(|(index, log)| {
        logs[index + 1..].iter().all(|other| {
            log.iter()
                .all(|(slot, value)| other.get(slot).is_none_or(|v| v == value))
        })
    })
}

/// The properties worth asking of a single-decree configuration: a sometimes-property that it
/// cannot possibly show (two proposers competing, with one proposer) would only ever be
/// reported missing.
fn single_decree_properties(cfg: &SingleDecreeConfig) -> Vec<Property<SingleDecreeModel>> {
    let mut properties = vec![
        Property::always("agreement", |_, state: &State| {
            state.history.disagreement().is_none()
        }),
        Property::always("validity", |model: &SingleDecreeModel, state: &State| {
            let proposers = model.cfg.proposers;
            valid(state, |value| {
                (0..proposers).any(|index| SingleDecreeConfig::proposer_value(index) == value)
            })
        }),
        Property::always("immutability", |_, state: &State| state.history.immutable()),
        Property::always("learners agree", |_, state: &State| learners_agree(state)),
        Property::sometimes("value chosen", value_chosen),
    ];
    if cfg.proposers >= 2 {
        properties.push(Property::sometimes(TWO_LEADERS, |_, state: &State| {
            proposers(state)
                .filter(|proposer| proposer.proposer.is_leading())
                .count()
                >= 2
        }));
    }
    // A second ballot needs a second proposer, or a retry after a timeout (modelled only where
    // messages can be lost) with a ballot to spare.
    if cfg.proposers >= 2 || (cfg.faults.models_retry_timers() && cfg.rounds >= 2) {
        properties.push(Property::sometimes(
            "a later ballot re-proposes the chosen value",
            |_, state: &State| state.history.reproposed_after_chosen(),
        ));
    }
    properties.push(Property::eventually(
        "value eventually chosen",
        value_chosen,
    ));
    properties
}

/// The one property that reads whether a proposer leads (see `proposer_only_grows`).
const TWO_LEADERS: &str = "two proposers hold majority promises at once";

fn value_chosen<M>(_: &M, state: &State) -> bool {
    state.history.chosen().next().is_some()
}

fn multi_paxos_properties(cfg: &MultiPaxosConfig) -> Vec<Property<MultiPaxosModel>> {
    let mut properties = vec![
        Property::always("slot agreement", |_, state: &State| {
            state.history.disagreement().is_none()
        }),
        Property::always("validity", |model: &MultiPaxosModel, state: &State| {
            let cfg = &model.cfg;
            valid(state, |value| {
                (0..cfg.leaders).any(|leader| cfg.commands(leader).contains(&value))
            })
        }),
        Property::always("immutability", |_, state: &State| state.history.immutable()),
        Property::always("logs agree", |_, state: &State| learners_agree(state)),
    ];
    // Phase 1 is skipped for a leader's second slot at the earliest.
    if cfg.slots >= 2 {
        properties.push(Property::sometimes(
            "phase 1 skipped",
            |_, state: &State| proposers(state).any(|proposer| proposer.skipped_phase1 != 0),
        ));
    }
    // A later slot chosen at another leader's higher ballot: it takes two of each.
    if cfg.leaders >= 2 && cfg.slots >= 2 {
        properties.push(Property::sometimes("leader change", |_, state: &State| {
            state.history.leadership_passed()
        }));
    }
    properties.push(Property::sometimes("all slots chosen", all_slots_chosen));
    if cfg.leaders >= 2 {
        properties.push(Property::sometimes(
            "a new leader adopts a value it learned from a promise",
            |_, state: &State| proposers(state).any(|proposer| proposer.adopted != 0),
        ));
    }
    properties.push(Property::eventually(
        "every slot eventually chosen",
        all_slots_chosen,
    ));
    properties
}

fn all_slots_chosen(model: &MultiPaxosModel, state: &State) -> bool {
    let mut slots: Vec<Slot> = state.history.chosen().map(|(slot, _)| slot).collect();
    slots.dedup();
    slots.len() == model.cfg.slots
}

// The symmetry (`check::symmetry`) over the models' own actor states: the protocol's types are
// renamed there; these two only dispatch to them, so the runtime layer does not import a model.

impl Relabel for ProposerState {
    fn relabel(&self, map: &[ActorIndex]) -> Self {
        let ProposerState {
            proposer,
            log,
            next_command,
            skipped_phase1,
            adopted,
        } = self;
        ProposerState {
            proposer: proposer.relabel(map),
            log: log.clone(),
            next_command: *next_command,
            skipped_phase1: *skipped_phase1,
            adopted: *adopted,
        }
    }

    fn hash_relabeled<H: Hasher>(&self, map: &[ActorIndex], state: &mut H) {
        self.hash_unnamed(state);
        self.hash_names_relabeled(map, state);
    }

    fn hash_unnamed<H: Hasher>(&self, state: &mut H) {
        let ProposerState {
            proposer,
            log,
            next_command,
            skipped_phase1,
            adopted,
        } = self;
        proposer.hash_unnamed(state);
        log.hash(state);
        next_command.hash(state);
        skipped_phase1.hash(state);
        adopted.hash(state);
    }

    fn hash_names_relabeled<H: Hasher>(&self, map: &[ActorIndex], state: &mut H) {
        let ProposerState {
            proposer,
            log: _,
            next_command: _,
            skipped_phase1: _,
            adopted: _,
        } = self;
        proposer.hash_names_relabeled(map, state);
    }

    fn about(&self, actor: ActorIndex) -> u64 {
        self.proposer.about(actor)
    }
}

impl Relabel for PaxosState {
    fn relabel(&self, map: &[ActorIndex]) -> Self {
        match self {
            PaxosState::Acceptor(acceptor) => PaxosState::Acceptor(acceptor.relabel(map)),
            PaxosState::Proposer(proposer) => PaxosState::Proposer(proposer.relabel(map)),
        }
    }

    fn hash_relabeled<H: Hasher>(&self, map: &[ActorIndex], state: &mut H) {
        self.hash_unnamed(state);
        self.hash_names_relabeled(map, state);
    }

    fn hash_unnamed<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            PaxosState::Acceptor(acceptor) => acceptor.hash(state),
            PaxosState::Proposer(proposer) => proposer.hash_unnamed(state),
        }
    }

    fn hash_names_relabeled<H: Hasher>(&self, map: &[ActorIndex], state: &mut H) {
        if let PaxosState::Proposer(proposer) = self {
            proposer.hash_names_relabeled(map, state);
        }
    }

    fn about(&self, actor: ActorIndex) -> u64 {
        match self {
            PaxosState::Acceptor(_) => 0,
            PaxosState::Proposer(proposer) => proposer.about(actor),
        }
    }

    fn names_actors(&self) -> bool {
        matches!(self, PaxosState::Proposer(_))
    }
}
