//! The exhaustive model of single-decree Paxos: stateright actors that are thin adapters over
//! `single`'s acceptor and proposer, the faults to explore, and the properties to check.
//!
//! Acceptors are actors `a1..aN` (ids 0..N), proposers `p1..pM` after them; proposer `pi`
//! proposes the value `'A' + i - 1`. Each proposer starts a ballot at once, retries with a
//! higher one on a timeout or a refusal, and starts at most `rounds` ballots. Acceptors persist
//! through stateright's `Storage` before replying, so a crash loses only what Paxos allows.

use crate::ballot::Proposal;
use crate::flaw::{Flaw, FlawScope};
use crate::rules::TimerChange;
use crate::single::{Acceptor, Message, Proposer, ProposerPhase, ProposerStep};
use crate::system::{
    actor_model, actor_name, apply_acceptor_step, ballots, chosen_proposals, counted, fault_flags,
    faults_summary, Acceptance, ActorNames, Faults, Ghost, ModelConfig, System,
};
use crate::ConfigError;
use serde::{Deserialize, Serialize};
use stateright::actor::{model_timeout, Actor, ActorModelState, Envelope, Id, Out};
use stateright::Property;
use std::borrow::Cow;

/// Values are letters, one per proposer, so traces stay readable.
pub type Value = char;

/// The largest configurations the CLI accepts: beyond them no exhaustive run finishes.
pub const ACCEPTORS_MAX: usize = 7;
pub const PROPOSERS_MAX: usize = 5;
pub const ROUNDS_MAX: u32 = 5;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SingleDecreeConfig {
    pub acceptors: usize,
    pub proposers: usize,
    /// Ballots each proposer may start.
    pub rounds: u32,
    pub faults: Faults,
    pub flaw: Flaw,
}

impl Default for SingleDecreeConfig {
    fn default() -> Self {
        SingleDecreeConfig {
            acceptors: 3,
            proposers: 2,
            rounds: 1,
            faults: Faults::default(),
            flaw: Flaw::None,
        }
    }
}

impl SingleDecreeConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        ConfigError::check_range("acceptors", self.acceptors, 1, ACCEPTORS_MAX)?;
        ConfigError::check_range("proposers", self.proposers, 1, PROPOSERS_MAX)?;
        ConfigError::check_range("rounds", self.rounds as usize, 1, ROUNDS_MAX as usize)?;
        ConfigError::check_range("crashes", self.faults.crashes, 0, self.acceptors)?;
        if self.flaw.scope() == FlawScope::MultiPaxos {
            // Its rule exists only in Multi-Paxos: here it would silently be Paxos itself.
            return Err(ConfigError {
                setting: "flaw",
                message: format!(
                    "{} bends a Multi-Paxos rule that single-decree Paxos does not have; \
                     show it with `check multi`",
                    self.flaw
                ),
            });
        }
        Ok(())
    }

    pub fn proposer_value(index: usize) -> Value {
        char::from(b'A' + u8::try_from(index).expect("proposer index is small"))
    }

    fn acceptor_ids(&self) -> Vec<Id> {
        (0..self.acceptors).map(Id::from).collect()
    }
}

impl ActorNames for SingleDecreeConfig {
    fn actor_name(&self, id: Id) -> String {
        actor_name(id, self.acceptors, 'p')
    }
}

impl ModelConfig for SingleDecreeConfig {
    const NAME: &'static str = "single";
    const TITLE: &'static str = "single-decree Paxos";

    fn summary(&self) -> String {
        let rounds = ballots(self.rounds);
        format!(
            "{}, {} with up to {rounds} each, {}",
            counted(self.acceptors, "acceptor"),
            counted(self.proposers, "proposer"),
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
        flags
    }
}

/// The proposers' one timer: "no answer yet; try a higher ballot".
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RetryTimer {
    Retry,
}

#[derive(Clone, Debug)]
pub enum SingleDecreeActor {
    Acceptor {
        flaw: Flaw,
    },
    Proposer {
        index: u32,
        value: Value,
        acceptor_ids: Vec<Id>,
        rounds: u32,
        flaw: Flaw,
        /// Whether the retry timer is modelled at all (see `Faults::models_retry_timers`).
        timeouts: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum SingleDecreeState {
    Acceptor(Acceptor<Value>),
    Proposer(Proposer<Value>),
}

impl Actor for SingleDecreeActor {
    type Msg = Message<Value>;
    type Timer = RetryTimer;
    type State = SingleDecreeState;
    type Storage = Acceptor<Value>;
    type Random = ();

    fn name(&self) -> String {
        match self {
            SingleDecreeActor::Acceptor { .. } => "Acceptor".into(),
            SingleDecreeActor::Proposer { .. } => "Proposer".into(),
        }
    }

    fn on_start(&self, _id: Id, storage: &Option<Self::Storage>, o: &mut Out<Self>) -> Self::State {
        match self {
            SingleDecreeActor::Acceptor { flaw } => {
                SingleDecreeState::Acceptor(Acceptor::recover(storage.as_ref(), *flaw))
            }
            SingleDecreeActor::Proposer {
                index,
                value,
                acceptor_ids,
                rounds,
                flaw,
                timeouts,
            } => {
                let mut proposer = Proposer::new(*index, acceptor_ids.len(), *value, *rounds);
                let step = proposer.start_next_ballot(*flaw);
                apply_proposer_step(step, acceptor_ids, *timeouts, o);
                SingleDecreeState::Proposer(proposer)
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
            (SingleDecreeActor::Acceptor { flaw }, SingleDecreeState::Acceptor(acceptor)) => {
                let mut acceptor = acceptor.clone();
                let step = match msg {
                    Message::Prepare { ballot } => acceptor.on_prepare(ballot, *flaw),
                    Message::Accept { proposal } => acceptor.on_accept(proposal, *flaw),
                    _ => return, // acceptors only answer requests
                };
                apply_acceptor_step(step, src, |reply| reply, o);
                if SingleDecreeState::Acceptor(acceptor.clone()) != **state {
                    *state.to_mut() = SingleDecreeState::Acceptor(acceptor);
                }
            }
            (
                SingleDecreeActor::Proposer {
                    acceptor_ids,
                    flaw,
                    timeouts,
                    ..
                },
                SingleDecreeState::Proposer(proposer),
            ) => {
                let from = usize::from(src);
                assert!(
                    from < acceptor_ids.len(),
                    "proposers hear only from acceptors"
                );
                let mut proposer = proposer.clone();
                let step = match msg {
                    Message::Promise { ballot, accepted } => {
                        proposer.on_promise(from, ballot, accepted, *flaw)
                    }
                    Message::Accepted { proposal } => proposer.on_accepted(from, proposal, *flaw),
                    Message::PrepareRefused { ballot, promised }
                    | Message::AcceptRefused { ballot, promised } => {
                        proposer.on_refused(ballot, promised, *flaw)
                    }
                    Message::Prepare { .. } | Message::Accept { .. } => return,
                };
                apply_proposer_step(step, acceptor_ids, *timeouts, o);
                if SingleDecreeState::Proposer(proposer.clone()) != **state {
                    *state.to_mut() = SingleDecreeState::Proposer(proposer);
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
        let (
            SingleDecreeActor::Proposer {
                acceptor_ids,
                flaw,
                timeouts,
                ..
            },
            SingleDecreeState::Proposer(proposer),
        ) = (self, &**state)
        else {
            return;
        };
        let mut proposer = proposer.clone();
        let step = proposer.on_timeout(*flaw);
        apply_proposer_step(step, acceptor_ids, *timeouts, o);
        if SingleDecreeState::Proposer(proposer.clone()) != **state {
            *state.to_mut() = SingleDecreeState::Proposer(proposer);
        }
    }
}

fn apply_proposer_step(
    step: ProposerStep<Value>,
    acceptor_ids: &[Id],
    timeouts: bool,
    o: &mut Out<SingleDecreeActor>,
) {
    if let Some(message) = step.broadcast {
        o.broadcast(acceptor_ids, &message);
    }
    if !timeouts {
        return;
    }
    match step.timer {
        TimerChange::Arm => o.set_timer(RetryTimer::Retry, model_timeout()),
        TimerChange::Cancel => o.cancel_timer(RetryTimer::Retry),
        TimerChange::Unchanged => {}
    }
}

pub type SingleDecreeModel = System<SingleDecreeActor, SingleDecreeConfig, Ghost<Value>>;
type State = ActorModelState<SingleDecreeActor, Ghost<Value>>;

/// Every acceptance goes into the ghost history as it leaves the acceptor.
fn record_acceptance(
    _: &SingleDecreeConfig,
    history: &Ghost<Value>,
    envelope: Envelope<&Message<Value>>,
) -> Option<Ghost<Value>> {
    let Message::Accepted { proposal } = envelope.msg else {
        return None;
    };
    history.with_acceptance(Acceptance {
        slot: 0,
        proposal: proposal.clone(),
        acceptor: usize::from(envelope.src),
    })
}

/// The model for `cfg`, with its properties. `cfg` must be valid (see `validate`).
pub fn single_decree_model(cfg: SingleDecreeConfig) -> SingleDecreeModel {
    cfg.validate().expect("a valid configuration");
    let acceptors = (0..cfg.acceptors).map(|_| SingleDecreeActor::Acceptor { flaw: cfg.flaw });
    let proposers = (0..cfg.proposers).map(|index| SingleDecreeActor::Proposer {
        index: u32::try_from(index).expect("few proposers"),
        value: SingleDecreeConfig::proposer_value(index),
        acceptor_ids: cfg.acceptor_ids(),
        rounds: cfg.rounds,
        flaw: cfg.flaw,
        timeouts: cfg.faults.models_retry_timers(),
    });
    let actors: Vec<SingleDecreeActor> = acceptors.chain(proposers).collect();
    let crashable = actors
        .iter()
        .map(|actor| matches!(actor, SingleDecreeActor::Acceptor { .. }))
        .collect();
    let faults = cfg.faults;
    let cfg_for_properties = cfg.clone();
    let actors =
        actor_model(cfg, Ghost::default(), actors, faults).record_msg_out(record_acceptance);
    System {
        actors,
        crashable,
        losses_max: faults.losses,
        properties: properties(&cfg_for_properties),
    }
}

/// The properties worth asking of `cfg`: a sometimes-property that `cfg` cannot possibly show
/// (two proposers competing, with one proposer) would only ever be reported missing.
fn properties(cfg: &SingleDecreeConfig) -> Vec<Property<SingleDecreeModel>> {
    let mut properties = vec![
        Property::always("agreement", agreement),
        Property::always("validity", validity),
        Property::always("immutability", immutability),
        Property::always("learners agree", learners_agree),
        Property::sometimes("value chosen", value_chosen),
    ];
    if cfg.proposers >= 2 {
        properties.push(Property::sometimes(
            "two proposers hold majority promises at once",
            two_proposers_hold_promises,
        ));
    }
    // A second ballot needs a second proposer, or a retry after a timeout (modelled only where
    // messages can be lost) with a ballot to spare.
    if cfg.proposers >= 2 || (cfg.faults.models_retry_timers() && cfg.rounds >= 2) {
        properties.push(Property::sometimes(
            "a later ballot re-proposes the chosen value",
            later_ballot_reproposes_chosen,
        ));
    }
    properties.push(Property::eventually(
        "value eventually chosen",
        value_chosen,
    ));
    properties
}

fn chosen(model: &SingleDecreeModel, state: &State) -> Vec<Proposal<Value>> {
    chosen_proposals(&state.history, model.cfg().acceptors)
        .into_iter()
        .map(|(_, proposal)| proposal)
        .collect()
}

/// At most one value is chosen (Lamport's P2's goal): every proposal a majority accepted has the
/// same value.
fn agreement(model: &SingleDecreeModel, state: &State) -> bool {
    let chosen = chosen(model, state);
    chosen.windows(2).all(|pair| pair[0].value == pair[1].value)
}

/// Only proposed values are ever accepted.
fn validity(model: &SingleDecreeModel, state: &State) -> bool {
    let proposed: Vec<Value> = (0..model.cfg().proposers)
        .map(SingleDecreeConfig::proposer_value)
        .collect();
    state
        .history
        .acceptances
        .iter()
        .all(|Acceptance { proposal, .. }| proposed.contains(&proposal.value))
}

/// Once (b, v) is chosen, every acceptance at a ballot above b carries v (Lamport's P2a).
fn immutability(model: &SingleDecreeModel, state: &State) -> bool {
    chosen(model, state).iter().all(|chosen| {
        state.history.acceptances.iter().all(
            |Acceptance {
                 proposal: accepted, ..
             }| { accepted.ballot <= chosen.ballot || accepted.value == chosen.value },
        )
    })
}

fn learned_values(state: &State) -> impl Iterator<Item = Value> + '_ {
    state
        .actor_states
        .iter()
        .filter_map(|actor| match &**actor {
            SingleDecreeState::Proposer(Proposer {
                phase: ProposerPhase::Learned { proposal },
                ..
            }) => Some(proposal.value),
            _ => None,
        })
}

/// No two proposers learn different values.
fn learners_agree(_: &SingleDecreeModel, state: &State) -> bool {
    let mut learned = learned_values(state);
    let Some(first) = learned.next() else {
        return true;
    };
    learned.all(|value| value == first)
}

fn value_chosen(model: &SingleDecreeModel, state: &State) -> bool {
    !chosen(model, state).is_empty()
}

/// Paxos gives no strong leader guarantee: two proposers can each hold a majority of promises
/// (for different ballots) at the same moment.
fn two_proposers_hold_promises(_: &SingleDecreeModel, state: &State) -> bool {
    let holding = state
        .actor_states
        .iter()
        .filter(|actor| {
            matches!(
                &***actor,
                SingleDecreeState::Proposer(Proposer {
                    phase: ProposerPhase::Accepting { .. },
                    ..
                })
            )
        })
        .count();
    holding >= 2
}

/// The safety mechanism at work: after (b, v) is chosen, a higher ballot carries v again.
fn later_ballot_reproposes_chosen(model: &SingleDecreeModel, state: &State) -> bool {
    chosen(model, state).iter().any(|chosen| {
        state.history.acceptances.iter().any(
            |Acceptance {
                 proposal: accepted, ..
             }| { accepted.ballot > chosen.ballot && accepted.value == chosen.value },
        )
    })
}
