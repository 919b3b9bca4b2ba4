//! What both stateright models share: fault settings, ghost history, and a `Model` wrapper over
//! stateright's `ActorModel` that restricts crashes to the actors allowed to crash (acceptors)
//! and names every step in the protocol's own words for reports and the Explorer.

use crate::ballot::Proposal;
use serde::{Deserialize, Serialize};
use stateright::actor::{
    is_no_op, Actor, ActorModel, ActorModelAction, ActorModelState, Envelope, Id, LossyNetwork,
    Network, Out,
};
use stateright::{Model, Path, Property};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt::{self, Debug};
use std::hash::Hash;
use std::str::FromStr;

/// How the network may misbehave, besides losing messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NetworkKind {
    /// Messages race each other and arrive at most once.
    #[default]
    Unordered,
    /// Messages race each other and may arrive any number of times.
    Duplicating,
    /// Messages between each pair of actors arrive in the order sent, at most once.
    Ordered,
}

impl NetworkKind {
    pub const ALL: [NetworkKind; 3] = [
        NetworkKind::Unordered,
        NetworkKind::Duplicating,
        NetworkKind::Ordered,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            NetworkKind::Unordered => "unordered",
            NetworkKind::Duplicating => "duplicating",
            NetworkKind::Ordered => "ordered",
        }
    }

    pub fn network<M: Eq + Hash + Ord + Clone>(self) -> Network<M> {
        match self {
            NetworkKind::Unordered => Network::new_unordered_nonduplicating([]),
            NetworkKind::Duplicating => Network::new_unordered_duplicating([]),
            NetworkKind::Ordered => Network::new_ordered([]),
        }
    }
}

impl fmt::Display for NetworkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for NetworkKind {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        NetworkKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = NetworkKind::ALL.iter().map(|kind| kind.name()).collect();
                format!(
                    "unknown network '{name}'; known networks: {}",
                    names.join(", ")
                )
            })
    }
}

/// The faults a model explores. Each is bounded, as crashes are in stateright: a bound keeps
/// the state space finite and small enough to exhaust, and most bugs need only one fault.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Faults {
    pub network: NetworkKind,
    /// At most this many messages are lost in a run (0: a lossless network).
    pub losses: usize,
    /// At most this many acceptors are crashed at once; each may recover with what it persisted.
    pub crashes: usize,
}

impl Faults {
    pub fn lossy(&self) -> bool {
        self.losses > 0
    }

    /// Whether the models arm retry timers at all. A timer matters only where a message can be
    /// lost for good. On a lossless network every message arrives (a crashed acceptor gets it on
    /// recovery), so a proposer or leader retries when refused; modelling spurious timeouts too
    /// would multiply the state space without a behaviour the refusals do not already produce
    /// (a ballot abandoned while its messages are still in flight).
    pub fn models_retry_timers(&self) -> bool {
        self.lossy()
    }

    /// Why liveness ("eventually chosen") is not promised under these faults, if it is not: it
    /// is promised only with no loss and no crash. A lost message can stop progress once the
    /// bounded retries run out. In this model a crashed acceptor may always recover with what it
    /// persisted, so crashes alone have not been seen to break liveness; but a run that must
    /// wait for a recovery promises nothing about when.
    pub fn liveness_caveat(&self) -> Option<&'static str> {
        if self.lossy() {
            Some("messages can be lost, and the proposers' retries are bounded")
        } else if self.crashes > 0 {
            Some("acceptors may crash, and progress then waits for their recovery")
        } else {
            None
        }
    }
}

/// One acceptance, as the ghost history records it. Ordered by slot, then proposal, so that the
/// acceptances of one proposal are adjacent.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Acceptance<V> {
    pub slot: u64,
    pub proposal: Proposal<V>,
    pub acceptor: usize,
}

/// Ghost state for the properties and the fault bounds. Acceptors overwrite what they accepted,
/// so "a majority accepted (b, v)" at some past moment can only be judged from a history of
/// every acceptance ever made. Single-decree Paxos uses slot 0.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Ghost<V: Ord> {
    pub acceptances: BTreeSet<Acceptance<V>>,
    pub messages_lost: usize,
}

impl<V: Ord> Default for Ghost<V> {
    fn default() -> Self {
        Ghost {
            acceptances: BTreeSet::new(),
            messages_lost: 0,
        }
    }
}

impl<V: Ord + Clone> Ghost<V> {
    /// The history with one more acceptance, or `None` if it holds that one already.
    pub fn with_acceptance(&self, acceptance: Acceptance<V>) -> Option<Self> {
        if self.acceptances.contains(&acceptance) {
            return None;
        }
        let mut next = self.clone();
        next.acceptances.insert(acceptance);
        Some(next)
    }
}

/// What the `System` wrapper needs from a model's history: the count of lost messages, which
/// it bounds.
pub trait LossHistory {
    fn messages_lost(&self) -> usize;
    fn record_loss(&mut self);
}

impl<V: Ord> LossHistory for Ghost<V> {
    fn messages_lost(&self) -> usize {
        self.messages_lost
    }

    fn record_loss(&mut self) {
        self.messages_lost += 1;
    }
}

/// All proposals that a majority of `acceptor_count` acceptors accepted, per slot: the chosen
/// ones, by Lamport's definition, whether or not anybody noticed.
pub fn chosen_proposals<V: Ord + Clone>(
    ghost: &Ghost<V>,
    acceptor_count: usize,
) -> BTreeSet<(u64, Proposal<V>)> {
    let mut chosen = BTreeSet::new();
    let mut current: Option<(&Acceptance<V>, usize)> = None;
    // Acceptances are ordered by (slot, proposal, acceptor): one proposal's votes are adjacent.
    for acceptance in &ghost.acceptances {
        let votes = match current {
            Some((first, votes))
                if first.slot == acceptance.slot && first.proposal == acceptance.proposal =>
            {
                votes + 1
            }
            _ => 1,
        };
        if votes == 1 {
            current = Some((acceptance, 1));
        } else if let Some((first, _)) = current {
            current = Some((first, votes));
        }
        if votes >= crate::ballot::majority(acceptor_count) {
            chosen.insert((acceptance.slot, acceptance.proposal.clone()));
        }
    }
    chosen
}

/// A path through one of these models, as stateright records it.
pub type SystemPath<A, H> = Path<
    ActorModelState<A, H>,
    ActorModelAction<<A as Actor>::Msg, <A as Actor>::Timer, <A as Actor>::Random>,
>;

/// Names actors for people: `a1`, `p2`, `l1`.
pub trait ActorNames {
    fn actor_name(&self, id: Id) -> String;
}

/// A stateright `Model` over an `ActorModel` that lets only some actors crash and speaks the
/// protocol's language in traces.
#[derive(Clone)]
pub struct System<A, C, H>
where
    A: Actor,
    A::Msg: Ord + fmt::Display,
    A::Timer: Ord,
    H: Clone + Debug + Hash + LossHistory,
    C: ActorNames,
{
    pub actors: ActorModel<A, C, H>,
    pub crashable: Vec<bool>,
    /// At most this many messages may be lost in a run.
    pub losses_max: usize,
    pub properties: Vec<Property<Self>>,
}

impl<A, C, H> System<A, C, H>
where
    A: Actor,
    A::Msg: Ord + fmt::Display,
    A::Timer: Ord,
    H: Clone + Debug + Hash + LossHistory,
    C: ActorNames,
{
    pub fn cfg(&self) -> &C {
        &self.actors.cfg
    }

    /// Removes messages that their running recipient would ignore: stale replies for ballots
    /// the recipient has moved past, duplicates of votes already counted. In these protocols a
    /// role's ballot only grows, so a message ignored now is ignored forever; left in the network
    /// it changes nothing but the state's identity, and every state with it would be explored
    /// again without it (and once more for its loss on a lossy network). Properties never look at
    /// the network, and an ignored message never keeps a state from being terminal, so removing
    /// it loses no behaviour. Messages to a crashed actor stay: they may matter after recovery.
    /// Ordered networks need no collection: stateright consumes ignored messages there.
    fn collect_stale_messages(&self, state: &mut ActorModelState<A, H>) {
        let stale: Vec<Envelope<A::Msg>> = state
            .network
            .iter_deliverable()
            .filter(|envelope| {
                let recipient = usize::from(envelope.dst);
                if state.crashed.get(recipient).copied().unwrap_or(true) {
                    return false;
                }
                // What stateright's delivery would decide, without cloning the whole system.
                let mut actor_state = Cow::Borrowed(&*state.actor_states[recipient]);
                let mut out = Out::new();
                self.actors.actors[recipient].on_msg(
                    envelope.dst,
                    &mut actor_state,
                    envelope.src,
                    envelope.msg.clone(),
                    &mut out,
                );
                is_no_op(&actor_state, &out)
            })
            .map(|envelope| envelope.to_cloned_msg())
            .collect();
        for envelope in stale {
            match &mut state.network {
                Network::UnorderedNonDuplicating(messages) => {
                    messages.remove(&envelope);
                }
                Network::UnorderedDuplicating(messages, _) => {
                    messages.remove(&envelope);
                }
                Network::Ordered(_) => {}
            }
        }
    }
}

impl<A, C, H> Model for System<A, C, H>
where
    A: Actor,
    A::Msg: Ord + fmt::Display,
    A::Timer: Ord,
    H: Clone + Debug + Hash + LossHistory,
    C: ActorNames,
{
    type State = ActorModelState<A, H>;
    type Action = ActorModelAction<A::Msg, A::Timer, A::Random>;

    fn init_states(&self) -> Vec<Self::State> {
        self.actors.init_states()
    }

    fn actions(&self, state: &Self::State, actions: &mut Vec<Self::Action>) {
        self.actors.actions(state, actions);
        let may_lose = state.history.messages_lost() < self.losses_max;
        actions.retain(|action| match action {
            ActorModelAction::Crash(id) => self.crashable[usize::from(*id)],
            ActorModelAction::Drop(_) => may_lose,
            _ => true,
        });
    }

    fn next_state(&self, last_state: &Self::State, action: Self::Action) -> Option<Self::State> {
        let is_loss = matches!(action, ActorModelAction::Drop(_));
        let mut next_state = self.actors.next_state(last_state, action)?;
        if is_loss {
            next_state.history.record_loss();
        }
        if !matches!(next_state.network, Network::Ordered(_)) {
            self.collect_stale_messages(&mut next_state);
        }
        Some(next_state)
    }

    fn format_action(&self, action: &Self::Action) -> String {
        let names = &self.actors.cfg;
        match action {
            ActorModelAction::Deliver { src, dst, msg } => {
                format!(
                    "{} -> {}  {msg}",
                    names.actor_name(*src),
                    names.actor_name(*dst)
                )
            }
            ActorModelAction::Drop(envelope) => format!(
                "{} -> {}  {}  (lost)",
                names.actor_name(envelope.src),
                names.actor_name(envelope.dst),
                envelope.msg
            ),
            ActorModelAction::Timeout(id, _) => format!("{} times out", names.actor_name(*id)),
            ActorModelAction::Crash(id) => format!("{} crashes", names.actor_name(*id)),
            ActorModelAction::Recover(id) => {
                format!("{} recovers from what it persisted", names.actor_name(*id))
            }
            ActorModelAction::SelectRandom { actor, random, .. } => {
                format!("{} picks {random:?}", names.actor_name(*actor))
            }
        }
    }

    fn format_step(&self, last_state: &Self::State, action: Self::Action) -> Option<String>
    where
        Self::State: Debug,
    {
        self.actors.format_step(last_state, action)
    }

    fn as_svg(&self, path: Path<Self::State, Self::Action>) -> Option<String> {
        self.actors.as_svg(path)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        self.properties.clone()
    }

    fn within_boundary(&self, state: &Self::State) -> bool {
        Model::within_boundary(&self.actors, state)
    }
}

/// Builds the stateright actor model for `actors` under `faults`.
pub fn actor_model<A, C, H>(
    cfg: C,
    history: H,
    actors: Vec<A>,
    faults: Faults,
) -> ActorModel<A, C, H>
where
    A: Actor,
    A::Msg: Ord + Eq + Hash + Clone,
    A::Timer: Ord,
    H: Clone + Debug + Hash,
{
    ActorModel::new(cfg, history)
        .actors(actors)
        .init_network(faults.network.network())
        .lossy_network(if faults.lossy() {
            LossyNetwork::Yes
        } else {
            LossyNetwork::No
        })
        .max_crashes(faults.crashes)
}

/// What a report needs to know about a model's configuration.
pub trait ModelConfig: ActorNames {
    /// The model's name on the command line: `single` or `multi`.
    const NAME: &'static str;
    /// What the model is, for people.
    const TITLE: &'static str;
    /// One line: every setting that shapes the state space.
    fn summary(&self) -> String;
    fn faults(&self) -> Faults;
    fn flaw(&self) -> crate::Flaw;
    /// The settings as `(flag, value)` pairs, in the CLI's spelling, for JSON reports and for
    /// the command line that reproduces a run.
    fn flags(&self) -> Vec<(&'static str, String)>;
}

/// Applies an acceptor's step in the order the core requires: persist through stateright's
/// `Storage`, then reply to the requester (`wrap` turns the protocol's reply into the model's
/// message type).
pub fn apply_acceptor_step<A: Actor, Reply>(
    step: crate::rules::AcceptorStep<A::Storage, Reply>,
    requester: Id,
    wrap: impl FnOnce(Reply) -> A::Msg,
    o: &mut Out<A>,
) {
    if let Some(persist) = step.persist {
        o.save(persist);
    }
    o.send(requester, wrap(step.reply));
}

/// The people's name of actor `id` when acceptors come first: `a1`.. for them, then
/// `{role}1`.. for the others.
pub fn actor_name(id: Id, acceptors: usize, role: char) -> String {
    let index = usize::from(id);
    if index < acceptors {
        format!("a{}", index + 1)
    } else {
        format!("{role}{}", index - acceptors + 1)
    }
}

/// "1 ballot", "2 ballots": how many ballots each proposer or leader may start.
pub fn ballots(rounds: u32) -> String {
    counted(rounds as usize, "ballot")
}

/// "1 acceptor", "3 acceptors".
pub fn counted(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// The shared part of a configuration summary.
pub fn faults_summary(faults: &Faults, flaw: crate::Flaw) -> String {
    let loss = match faults.losses {
        0 => "lossless".to_owned(),
        1 => "at most 1 message lost".to_owned(),
        n => format!("at most {n} messages lost"),
    };
    let crashes = match faults.crashes {
        0 => "no crashes".to_owned(),
        1 => "at most 1 acceptor crashed at a time".to_owned(),
        n => format!("at most {n} acceptors crashed at a time"),
    };
    format!("{} network, {loss}, {crashes}, flaw {flaw}", faults.network)
}

/// The fault flags shared by both models.
pub fn fault_flags(faults: &Faults, flaw: crate::Flaw) -> Vec<(&'static str, String)> {
    let mut flags = vec![("network", faults.network.to_string())];
    flags.push(("losses", faults.losses.to_string()));
    flags.push(("crashes", faults.crashes.to_string()));
    flags.push(("flaw", flaw.to_string()));
    flags
}

/// A model that `paxos-check` can check, explore and report on, whatever its protocol. The
/// bounds are what stateright's checkers and Explorer need, stated once.
pub trait Checkable:
    Model<
        State: Hash + Clone + PartialEq + Debug + Send + Sync,
        Action: Clone + PartialEq + Debug + Send + Sync,
    > + Clone
    + Send
    + Sync
    + 'static
{
    /// The model's name on the command line: `single` or `multi`.
    fn name(&self) -> &'static str;
    fn title(&self) -> &'static str;
    fn summary(&self) -> String;
    fn faults(&self) -> Faults;
    fn flaw(&self) -> crate::Flaw;
    fn flags(&self) -> Vec<(&'static str, String)>;
}

impl<A, C, H> Checkable for System<A, C, H>
where
    A: Actor + Clone + Send + Sync + 'static,
    A::Msg: Ord + fmt::Display + Send + Sync,
    A::Timer: Ord + Send + Sync,
    A::State: Send + Sync,
    A::Storage: Send + Sync,
    A::Random: Send + Sync,
    H: Clone + Debug + Hash + Eq + LossHistory + Send + Sync + 'static,
    C: ModelConfig + Clone + Send + Sync + 'static,
{
    fn name(&self) -> &'static str {
        C::NAME
    }

    fn title(&self) -> &'static str {
        C::TITLE
    }

    fn summary(&self) -> String {
        self.cfg().summary()
    }

    fn faults(&self) -> Faults {
        self.cfg().faults()
    }

    fn flaw(&self) -> crate::Flaw {
        self.cfg().flaw()
    }

    fn flags(&self) -> Vec<(&'static str, String)> {
        self.cfg().flags()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ballot;

    #[test]
    fn chosen_means_a_majority_accepted_the_same_proposal() {
        let a = Proposal::new(Ballot::new(1, 0), 'a');
        let b = Proposal::new(Ballot::new(2, 1), 'a');
        let ghost = |entries: &[(u64, &Proposal<char>, usize)]| Ghost {
            acceptances: entries
                .iter()
                .map(|(slot, proposal, acceptor)| Acceptance {
                    slot: *slot,
                    proposal: (*proposal).clone(),
                    acceptor: *acceptor,
                })
                .collect(),
            messages_lost: 0,
        };
        let history = ghost(&[(0, &a, 0), (0, &b, 1), (0, &b, 2)]);
        assert_eq!(chosen_proposals(&history, 3), [(0, b.clone())].into());
        assert_eq!(chosen_proposals(&history, 5), BTreeSet::new());
        let other_slot = ghost(&[(0, &a, 0), (1, &a, 1)]);
        assert!(
            chosen_proposals(&other_slot, 3).is_empty(),
            "slots are separate instances"
        );
    }

    #[test]
    fn network_names_parse() {
        for kind in NetworkKind::ALL {
            assert_eq!(kind.name().parse::<NetworkKind>(), Ok(kind));
        }
        assert!("lossy"
            .parse::<NetworkKind>()
            .unwrap_err()
            .contains("unordered, duplicating, ordered"));
    }
}
