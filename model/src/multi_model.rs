//! The exhaustive model of Multi-Paxos: stateright actors that are thin adapters over `multi`'s
//! acceptor and leader, a workload of distinct commands, and the properties to check.
//!
//! Acceptors are actors `a1..aN` (ids 0..N), leaders `l1..lM` after them. Each leader has its
//! own queue of `slots` distinct commands (l1: A, B, ...; l2: the letters after l1's) and
//! proposes one at a time, in the first slot it does not know to be chosen; it moves on to its
//! next command once its current one is chosen somewhere. A leader runs Phase 1 once for all
//! slots from that one on and skips it while its ballot stands; a refusal preempts it, and it
//! runs Phase 1 again (at most `rounds` ballots in all). Acceptors persist through stateright's
//! `Storage` before replying.

use crate::ballot::Proposal;
use crate::flaw::Flaw;
use crate::multi::{Addressed, Decision, Leader, LeaderStep, MultiAcceptor, MultiMessage, Slot};
use crate::rules::{TimerChange, ValueSource};
use crate::system::{
    actor_model, actor_name, apply_acceptor_step, ballots, chosen_proposals, counted, fault_flags,
    faults_summary, Acceptance, ActorNames, Faults, Ghost, ModelConfig, System,
};
use crate::ConfigError;
use serde::{Deserialize, Serialize};
use stateright::actor::{model_timeout, Actor, ActorModelState, Envelope, Id, Out};
use stateright::Property;
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

/// Commands are letters, distinct across leaders, so traces stay readable.
pub type Value = char;

pub const ACCEPTORS_MAX: usize = 5;
pub const LEADERS_MAX: usize = 3;
pub const SLOTS_MAX: usize = 4;
pub const ROUNDS_MAX: u32 = 4;

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
        }
    }
}

impl MultiPaxosConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        ConfigError::check_range("acceptors", self.acceptors, 1, ACCEPTORS_MAX)?;
        ConfigError::check_range("leaders", self.leaders, 1, LEADERS_MAX)?;
        ConfigError::check_range("slots", self.slots, 1, SLOTS_MAX)?;
        ConfigError::check_range("rounds", self.rounds as usize, 1, ROUNDS_MAX as usize)?;
        ConfigError::check_range("crashes", self.faults.crashes, 0, self.acceptors)?;
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

impl ActorNames for MultiPaxosConfig {
    fn actor_name(&self, id: Id) -> String {
        actor_name(id, self.acceptors, 'l')
    }
}

impl ModelConfig for MultiPaxosConfig {
    const NAME: &'static str = "multi";
    const TITLE: &'static str = "Multi-Paxos";

    fn summary(&self) -> String {
        let rounds = ballots(self.rounds);
        format!(
            "{}, {} with up to {rounds} each, {}, {}",
            counted(self.acceptors, "acceptor"),
            counted(self.leaders, "leader"),
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

    fn flags(&self) -> Vec<(&'static str, String)> {
        let mut flags = vec![
            ("acceptors", self.acceptors.to_string()),
            ("leaders", self.leaders.to_string()),
            ("slots", self.slots.to_string()),
            ("rounds", self.rounds.to_string()),
        ];
        flags.extend(fault_flags(&self.faults, self.flaw));
        flags
    }
}

/// The model's messages: the protocol's, and a client's request (used when replaying a client
/// session through a leader; the checked model's leaders draw from their own queues).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MultiPaxosMsg {
    Protocol(MultiMessage<Value>),
    Submit { slot: Slot, value: Value },
}

impl fmt::Display for MultiPaxosMsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MultiPaxosMsg::Protocol(message) => message.fmt(f),
            MultiPaxosMsg::Submit { slot, value } => write!(f, "Submit(slot {slot}, {value})"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RetryTimer {
    Retry,
}

#[derive(Clone, Debug)]
pub enum MultiPaxosActor {
    Acceptor {
        flaw: Flaw,
    },
    Leader {
        index: u32,
        commands: Vec<Value>,
        slots: usize,
        acceptor_ids: Vec<Id>,
        rounds: u32,
        flaw: Flaw,
        timeouts: bool,
    },
}

/// A leader's protocol state and where it is in its own queue of commands.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct LeaderState {
    pub leader: Leader<Value>,
    /// Index into the leader's commands of the one it is trying to get chosen.
    pub next_command: usize,
    /// Every decision this leader reached, in order: what a client of this leader was told.
    pub decided: Vec<(Slot, Value, bool)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum MultiPaxosState {
    Acceptor(MultiAcceptor<Value>),
    Leader(LeaderState),
}

impl Actor for MultiPaxosActor {
    type Msg = MultiPaxosMsg;
    type Timer = RetryTimer;
    type State = MultiPaxosState;
    type Storage = MultiAcceptor<Value>;
    type Random = ();

    fn name(&self) -> String {
        match self {
            MultiPaxosActor::Acceptor { .. } => "Acceptor".into(),
            MultiPaxosActor::Leader { .. } => "Leader".into(),
        }
    }

    fn on_start(&self, _id: Id, storage: &Option<Self::Storage>, o: &mut Out<Self>) -> Self::State {
        match self {
            MultiPaxosActor::Acceptor { flaw } => {
                MultiPaxosState::Acceptor(MultiAcceptor::recover(storage.as_ref(), *flaw))
            }
            MultiPaxosActor::Leader {
                index,
                acceptor_ids,
                rounds,
                ..
            } => {
                let mut state = LeaderState {
                    leader: Leader::new(*index, acceptor_ids.len(), *rounds),
                    next_command: 0,
                    decided: Vec::new(),
                };
                self.propose_next(&mut state, o);
                MultiPaxosState::Leader(state)
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
            (MultiPaxosActor::Acceptor { flaw }, MultiPaxosState::Acceptor(acceptor)) => {
                let mut acceptor = acceptor.clone();
                let step = match msg {
                    MultiPaxosMsg::Protocol(MultiMessage::Prepare { ballot, from_slot }) => {
                        acceptor.on_prepare(ballot, from_slot, *flaw)
                    }
                    MultiPaxosMsg::Protocol(MultiMessage::Accept { slot, proposal }) => {
                        acceptor.on_accept(slot, proposal, *flaw)
                    }
                    _ => return,
                };
                apply_acceptor_step(step, src, MultiPaxosMsg::Protocol, o);
                if MultiPaxosState::Acceptor(acceptor.clone()) != **state {
                    *state.to_mut() = MultiPaxosState::Acceptor(acceptor);
                }
            }
            (
                MultiPaxosActor::Leader {
                    flaw, acceptor_ids, ..
                },
                MultiPaxosState::Leader(leader_state),
            ) => {
                let mut next = leader_state.clone();
                let from = usize::from(src);
                let step = match msg {
                    MultiPaxosMsg::Submit { slot, value } => {
                        next.leader.propose(slot, value, *flaw)
                    }
                    MultiPaxosMsg::Protocol(message) => {
                        assert!(
                            from < acceptor_ids.len(),
                            "leaders hear protocol replies only from acceptors"
                        );
                        match message {
                            MultiMessage::Promise { ballot, accepted } => {
                                next.leader.on_promise(from, ballot, accepted, *flaw)
                            }
                            MultiMessage::Accepted { slot, proposal } => {
                                next.leader.on_accepted(from, slot, proposal, *flaw)
                            }
                            MultiMessage::PrepareRefused { ballot, promised }
                            | MultiMessage::AcceptRefused {
                                ballot, promised, ..
                            } => next.leader.on_refused(ballot, promised, *flaw),
                            MultiMessage::Prepare { .. } | MultiMessage::Accept { .. } => return,
                        }
                    }
                };
                self.apply_leader_step(&mut next, step, o);
                if MultiPaxosState::Leader(next.clone()) != **state {
                    *state.to_mut() = MultiPaxosState::Leader(next);
                }
            }
            _ => unreachable!("an actor's state matches its role"),
        }
    }

    fn on_timeout(
        &self,
        _id: Id,
        state: &mut Cow<Self::State>,
        _timer: &Self::Timer,
        o: &mut Out<Self>,
    ) {
        let (MultiPaxosActor::Leader { flaw, .. }, MultiPaxosState::Leader(leader_state)) =
            (self, &**state)
        else {
            return;
        };
        let mut next = leader_state.clone();
        let step = next.leader.on_timeout(*flaw);
        self.apply_leader_step(&mut next, step, o);
        if MultiPaxosState::Leader(next.clone()) != **state {
            *state.to_mut() = MultiPaxosState::Leader(next);
        }
    }
}

impl MultiPaxosActor {
    /// Sends what the leader's step says, records its decisions, and moves the leader's queue
    /// on: once its current command is chosen, it proposes the next one.
    fn apply_leader_step(
        &self,
        state: &mut LeaderState,
        step: LeaderStep<Value>,
        o: &mut Out<Self>,
    ) {
        let MultiPaxosActor::Leader {
            commands,
            acceptor_ids,
            timeouts,
            ..
        } = self
        else {
            unreachable!("only leaders take leader steps");
        };
        for Addressed { to, message } in step.outgoing {
            let recipients: Vec<Id> = (0..acceptor_ids.len())
                .filter(|&acceptor| to.includes(acceptor))
                .map(|acceptor| acceptor_ids[acceptor])
                .collect();
            o.broadcast(&recipients, &MultiPaxosMsg::Protocol(message));
        }
        if *timeouts {
            match step.timer {
                TimerChange::Arm => o.set_timer(RetryTimer::Retry, model_timeout()),
                TimerChange::Cancel => o.cancel_timer(RetryTimer::Retry),
                TimerChange::Unchanged => {}
            }
        }
        let mut moved_on = false;
        for Decision {
            slot,
            value,
            phase1_skipped,
            ..
        } in step.decided
        {
            state.decided.push((slot, value, phase1_skipped));
            if commands.get(state.next_command) == Some(&value) {
                state.next_command += 1;
                moved_on = true;
            }
        }
        if moved_on || state.leader.requests.is_empty() {
            self.propose_next(state, o);
        }
    }

    /// Proposes the leader's current command in the first slot it does not know to be chosen,
    /// if it has a command left and the log has room.
    fn propose_next(&self, state: &mut LeaderState, o: &mut Out<Self>) {
        let MultiPaxosActor::Leader {
            commands,
            slots,
            flaw,
            ..
        } = self
        else {
            unreachable!("only leaders propose");
        };
        if !state.leader.requests.is_empty() {
            return; // one command at a time
        }
        let Some(&command) = commands.get(state.next_command) else {
            return;
        };
        let slot = state.leader.first_unchosen_slot();
        if slot >= *slots as Slot {
            return;
        }
        let step = state.leader.propose(slot, command, *flaw);
        self.apply_leader_step(state, step, o);
    }
}

pub type MultiPaxosModel = System<MultiPaxosActor, MultiPaxosConfig, Ghost<Value>>;
type State = ActorModelState<MultiPaxosActor, Ghost<Value>>;

fn record_acceptance(
    _: &MultiPaxosConfig,
    history: &Ghost<Value>,
    envelope: Envelope<&MultiPaxosMsg>,
) -> Option<Ghost<Value>> {
    let MultiPaxosMsg::Protocol(MultiMessage::Accepted { slot, proposal }) = envelope.msg else {
        return None;
    };
    history.with_acceptance(Acceptance {
        slot: *slot,
        proposal: proposal.clone(),
        acceptor: usize::from(envelope.src),
    })
}

/// The model for `cfg`, with its properties. `cfg` must be valid (see `validate`).
pub fn multi_paxos_model(cfg: MultiPaxosConfig) -> MultiPaxosModel {
    cfg.validate().expect("a valid configuration");
    let acceptor_ids: Vec<Id> = (0..cfg.acceptors).map(Id::from).collect();
    let acceptors = (0..cfg.acceptors).map(|_| MultiPaxosActor::Acceptor { flaw: cfg.flaw });
    let leaders = (0..cfg.leaders).map(|index| MultiPaxosActor::Leader {
        index: u32::try_from(index).expect("few leaders"),
        commands: cfg.commands(index),
        slots: cfg.slots,
        acceptor_ids: acceptor_ids.clone(),
        rounds: cfg.rounds,
        flaw: cfg.flaw,
        timeouts: cfg.faults.models_retry_timers(),
    });
    let actors: Vec<MultiPaxosActor> = acceptors.chain(leaders).collect();
    let crashable = actors
        .iter()
        .map(|actor| matches!(actor, MultiPaxosActor::Acceptor { .. }))
        .collect();
    let properties = properties(&cfg);
    let faults = cfg.faults;
    let actors =
        actor_model(cfg, Ghost::default(), actors, faults).record_msg_out(record_acceptance);
    System {
        actors,
        crashable,
        losses_max: faults.losses,
        properties,
    }
}

fn properties(cfg: &MultiPaxosConfig) -> Vec<Property<MultiPaxosModel>> {
    let mut properties = vec![
        Property::always("slot agreement", slot_agreement),
        Property::always("validity", validity),
        Property::always("immutability", immutability),
        Property::always("logs agree", logs_agree),
    ];
    // Phase 1 is skipped for a leader's second slot at the earliest.
    if cfg.slots >= 2 {
        properties.push(Property::sometimes("phase 1 skipped", phase1_skipped));
    }
    // Two slots chosen at two leaders' ballots: it takes two of each.
    if cfg.leaders >= 2 && cfg.slots >= 2 {
        properties.push(Property::sometimes("leader change", leader_change));
    }
    properties.push(Property::sometimes("all slots chosen", all_slots_chosen));
    if cfg.leaders >= 2 {
        properties.push(Property::sometimes(
            "a new leader adopts a value it learned from a promise",
            adopts_reported_value,
        ));
    }
    properties
}

fn chosen(model: &MultiPaxosModel, state: &State) -> BTreeSet<(Slot, Proposal<Value>)> {
    chosen_proposals(&state.history, model.cfg().acceptors)
}

fn leaders(state: &State) -> impl Iterator<Item = &LeaderState> {
    state
        .actor_states
        .iter()
        .filter_map(|actor| match &**actor {
            MultiPaxosState::Leader(leader) => Some(leader),
            MultiPaxosState::Acceptor(_) => None,
        })
}

/// Per slot, at most one command is chosen.
fn slot_agreement(model: &MultiPaxosModel, state: &State) -> bool {
    let chosen = chosen(model, state);
    chosen
        .iter()
        .zip(chosen.iter().skip(1))
        .all(|((slot_a, a), (slot_b, b))| slot_a != slot_b || a.value == b.value)
}

/// Only commands some leader was asked to propose are ever accepted.
fn validity(model: &MultiPaxosModel, state: &State) -> bool {
    let cfg = model.cfg();
    let commands: Vec<Value> = (0..cfg.leaders)
        .flat_map(|leader| cfg.commands(leader))
        .collect();
    state
        .history
        .acceptances
        .iter()
        .all(|acceptance| commands.contains(&acceptance.proposal.value))
}

/// Per slot: once (b, v) is chosen, every acceptance in that slot at a ballot above b carries v.
fn immutability(model: &MultiPaxosModel, state: &State) -> bool {
    chosen(model, state).iter().all(|(slot, chosen)| {
        state.history.acceptances.iter().all(|acceptance| {
            acceptance.slot != *slot
                || acceptance.proposal.ballot <= chosen.ballot
                || acceptance.proposal.value == chosen.value
        })
    })
}

/// No two leaders' learned logs differ at any slot.
fn logs_agree(_: &MultiPaxosModel, state: &State) -> bool {
    let logs: Vec<_> = leaders(state).map(|leader| &leader.leader.chosen).collect();
    logs.iter().enumerate().all(|(index, log)| {
        logs[index + 1..].iter().all(|other| {
            log.iter()
                .all(|(slot, value)| other.get(slot).is_none_or(|v| v == value))
        })
    })
}

/// A slot chosen by Phase 2 alone: its proposal, sent while the leader's ballot stood, has been
/// accepted by a majority.
fn phase1_skipped(model: &MultiPaxosModel, state: &State) -> bool {
    let chosen = chosen(model, state);
    let skipped_and_chosen = |leader: &LeaderState| {
        leader.leader.in_flight.iter().any(|(slot, in_flight)| {
            in_flight.phase1_skipped && chosen.contains(&(*slot, in_flight.proposal.clone()))
        })
    };
    leaders(state).any(skipped_and_chosen)
}

/// A second leader gets a slot chosen after the first one chose some: two different slots are
/// chosen at ballots of two different leaders. (The same slot chosen again at a new leader's
/// ballot is the adoption example, not a change of who extends the log.)
fn leader_change(model: &MultiPaxosModel, state: &State) -> bool {
    let chosen = chosen(model, state);
    chosen.iter().any(|(slot, proposal)| {
        chosen.iter().any(|(other_slot, other)| {
            slot != other_slot && proposal.ballot.proposer != other.ballot.proposer
        })
    })
}

fn all_slots_chosen(model: &MultiPaxosModel, state: &State) -> bool {
    let slots: BTreeSet<Slot> = chosen(model, state).iter().map(|(slot, _)| *slot).collect();
    slots.len() == model.cfg().slots
}

/// A leader's Phase 2 carries a value that a promise reported, not its own command.
fn adopts_reported_value(_: &MultiPaxosModel, state: &State) -> bool {
    leaders(state).any(|leader| {
        leader
            .leader
            .in_flight
            .values()
            .any(|in_flight| matches!(in_flight.source, ValueSource::Promise { .. }))
    })
}
