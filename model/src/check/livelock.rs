//! Duelling proposers: single-decree Paxos with unbounded retries, and a search for a run in
//! which two proposers keep preempting each other forever, so that no value is ever chosen (the
//! FLP shadow over every asynchronous consensus protocol, and why real systems elect a leader).
//!
//! With retries unbounded, ballots grow without end and no state ever repeats, so the ordinary
//! search (which judges liveness at terminal states) cannot show such a run. The search here
//! works on an abstraction that is exact for this protocol:
//!
//! - **Rounds renumbered by their order.** Paxos only compares ballots, and a proposer only ever
//!   starts the round after the highest it has seen. So two states that differ by a renaming of
//!   rounds that keeps their order, and keeps which rounds are adjacent (`r + 1` in use or not),
//!   behave alike: every step of one is a step of the other, renamed. Each state is searched
//!   once per class, under the class's canonical renaming: rounds packed from 0 upwards, one
//!   unused round left in every gap (`renumbering`). A proposer's count of started ballots
//!   matters only against its bound, which is gone, so it is not part of the class.
//! - **A ghost that forgets what can no longer matter.** A value is chosen once a majority
//!   accepted one proposal. Votes for a ballot can only grow while its proposer still stands on
//!   it or an Accept for it is in flight; a tally for any other ballot is final, so the ghost
//!   keeps only the live tallies and one bit: whether a value was ever chosen.
//!
//! The abstract state space is then finite. A cycle in it that never chooses a value is an
//! infinite run of the real protocol with ever-higher ballots (each time round the cycle, every
//! ballot is renamed upwards). Only fair cycles count: every message in flight when the cycle
//! starts is delivered (or becomes one its recipient ignores) before it closes, so the network
//! is not simply holding back the message that would decide. The result is a lasso: a stem from
//! the initial state, then a loop that repeats forever.

use crate::check::actors::{
    canonical_fingerprint, ActorIndex, ActorSystem, Cached, Digested, Packet, Relabel,
    SystemAction, SystemPath, SystemState,
};
use crate::check::cuts::Reductions;
use crate::check::engine::{fingerprint, Fingerprint};
use crate::check::paxos::{
    ignores_reply, message_fields, PaxosActor, PaxosState, ProposerState, Value,
};
use crate::check::settings::{
    actor_name, chosen_words, counted, Faults, MessageFields, Presentation,
};
use crate::protocol::acceptor::Acceptor;
use crate::protocol::ballot::{Ballot, Proposal};
use crate::protocol::chosen::ChosenTracker;
use crate::protocol::flaw::Flaw;
use crate::protocol::message::Message;
use crate::protocol::proposer::{Proposer, ProposerConfig, Status};
use crate::protocol::rules::{self, ValueSource};
use stateright::actor::Id;
use stateright::{Model, Path};
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The duel: `acceptors` acceptors and `proposers` proposers with their own values, on a
/// lossless network that delivers messages in any order, retrying without bound.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DuelConfig {
    pub acceptors: usize,
    pub proposers: usize,
}

impl Default for DuelConfig {
    fn default() -> Self {
        DuelConfig {
            acceptors: 3,
            proposers: 2,
        }
    }
}

impl DuelConfig {
    pub fn summary(&self) -> String {
        format!(
            "{}, {} retrying without bound, unordered lossless network, no crashes",
            counted(self.acceptors, "acceptor"),
            counted(self.proposers, "proposer")
        )
    }
}

impl Presentation<Message<Value>> for DuelConfig {
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

/// The ghost of the duel: whether a value was ever chosen, and the tallies that may still grow.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DuelGhost {
    pub ever_chosen: bool,
    pub live: ChosenTracker<Value>,
}

pub type DuelModel = ActorSystem<PaxosActor, DuelConfig, DuelGhost>;
type DuelState = SystemState<PaxosActor, DuelGhost>;
pub type DuelPath = SystemPath<PaxosActor, DuelGhost>;

/// Every acceptance is tallied as it leaves its acceptor; a majority sets `ever_chosen`.
fn record_acceptance(
    _: &DuelConfig,
    ghost: &DuelGhost,
    src: usize,
    _dst: usize,
    message: &Message<Value>,
) -> Option<DuelGhost> {
    let Message::Accepted { slot, proposal } = message else {
        return None;
    };
    let live = ghost.live.with(*slot, proposal, src)?;
    let ever_chosen = ghost.ever_chosen || live.chosen().next().is_some();
    Some(DuelGhost { ever_chosen, live })
}

/// "A chosen at 3.p1 by a1, a2", at the step that chose it.
fn newly_chosen(cfg: &DuelConfig, before: &DuelState, after: &DuelState) -> Vec<String> {
    if before.history.ever_chosen || !after.history.ever_chosen {
        return Vec::new();
    }
    after
        .history
        .live
        .newly_chosen(&before.history.live)
        .map(|tally| chosen_words(tally, false, 'p', |id| cfg.actor_name(id)))
        .collect()
}

/// The duel's actor system: the single-decree model's actors, with no bound on ballots.
pub fn duel_model(cfg: DuelConfig) -> DuelModel {
    let acceptors = cfg.acceptors;
    let proposers = (0..cfg.proposers).map(|index| PaxosActor::Proposer {
        config: ProposerConfig {
            index: u32::try_from(index).expect("few proposers"),
            acceptor_count: acceptors,
            // Unbounded: the count of ballots started is no part of a state's class.
            rounds_max: u32::MAX,
            round_cap: u64::MAX,
            flaw: Flaw::None,
            defer_to_rival: false,
        },
        commands: vec![char::from(
            b'A' + u8::try_from(index).expect("few proposers"),
        )],
        slots: 1,
        acceptors,
        timeouts: false,
    });
    let actors: Vec<PaxosActor> = (0..acceptors)
        .map(|_| PaxosActor::Acceptor { flaw: Flaw::None })
        .chain(proposers)
        .collect();
    ActorSystem {
        crashable: vec![false; actors.len()],
        disk_loss: None,
        // The duel is searched by its own abstraction (see the module header), always with the
        // dead and stale cuts of the single-decree model; its own symmetry is its renumbering.
        cuts: Reductions {
            dead: true,
            stale: true,
            ..Reductions::NONE
        },
        coalesce: None,
        cfg,
        actors,
        faults: Faults::default(),
        init_history: DuelGhost {
            ever_chosen: false,
            live: ChosenTracker::new(acceptors),
        },
        record_send: record_acceptance,
        timeouts_max: None,
        crashes_in_run_max: None,
        properties: Vec::new(),
        symmetry: None,
        dead: Some(dead_request),
        narrate: Some(newly_chosen),
        ignores: Some(ignores_reply),
        draw: None,
        // Its searches are small, bounded by the ballots it is given; none needs to spill.
        codec: None,
        interleaving: None,
    }
}

/// A request its acceptor will refuse (its ballot is below the promise, or equal for a
/// Prepare) from a proposer that has moved past that ballot and so ignores the refusal: it can
/// change nothing, and the network drops it, as in the single-decree model.
fn dead_request(model: &DuelModel, state: &DuelState, packet: &Packet<Message<Value>>) -> bool {
    let (PaxosState::Acceptor(acceptor), PaxosState::Proposer(sender)) = (
        &**state.actors[usize::from(packet.dst)],
        &**state.actors[usize::from(packet.src)],
    ) else {
        return false;
    };
    debug_assert!(model.actors.len() == state.actors.len());
    rules::request_is_dead(
        &packet.msg,
        acceptor.promised,
        sender.proposer.current_ballot(),
        Flaw::None,
    )
}

/// At most this many messages in flight on one link (from one actor to another). The search
/// looks only at runs within the bound: any run it reports is a real run, and the bound keeps
/// the number of classes finite (otherwise a request could wait on its link while its sender
/// starts ballot after ballot).
pub const LINK_MESSAGES_MAX: usize = 1;

/// Whether `state` keeps every link within `LINK_MESSAGES_MAX`.
fn within_link_bound(state: &DuelState) -> bool {
    state
        .network
        .chunk_by(|a, b| (a.src, a.dst) == (b.src, b.dst))
        .all(|link| link.len() <= LINK_MESSAGES_MAX)
}

// ---- The abstraction: rounds renumbered by order, the ghost's dead tallies dropped. ----

/// Every round a state holds, 0 (no round yet) included.
fn rounds_of(state: &DuelState) -> BTreeSet<u64> {
    let mut rounds = BTreeSet::from([0]);
    let mut ballot = |ballot: &Ballot| {
        rounds.insert(ballot.round);
    };
    for actor in &state.actors {
        match &***actor {
            PaxosState::Acceptor(acceptor) => {
                acceptor.promised.iter().for_each(&mut ballot);
                acceptor
                    .accepted
                    .values()
                    .for_each(|proposal| ballot(&proposal.ballot));
            }
            PaxosState::Proposer(proposer) => {
                let proposer = &proposer.proposer;
                ballot(&Ballot::new(proposer.highest_seen_round, 0));
                match &proposer.status {
                    Status::Idle => {}
                    Status::Preparing {
                        ballot: current,
                        reports,
                        ..
                    } => {
                        ballot(current);
                        reports
                            .values()
                            .for_each(|(_, proposal)| ballot(&proposal.ballot));
                    }
                    Status::Leading {
                        ballot: current, ..
                    } => ballot(current),
                }
                for in_flight in proposer.in_flight.values() {
                    ballot(&in_flight.proposal.ballot);
                    if let ValueSource::Promise { ballot: source, .. } = &in_flight.source {
                        ballot(source);
                    }
                }
            }
        }
    }
    for packet in &state.network {
        packet.msg.ballots().iter().for_each(&mut ballot);
    }
    state
        .history
        .live
        .accepted()
        .for_each(|(_, proposal)| ballot(&proposal.ballot));
    rounds
}

/// The canonical renaming of `rounds`: packed from 0 in order, adjacent rounds kept adjacent,
/// and one unused round left in every gap, so that "the round after the highest seen" falls
/// in the same place among the others before and after.
pub fn renumbering(rounds: &BTreeSet<u64>) -> HashMap<u64, u64> {
    let mut renamed = HashMap::with_capacity(rounds.len());
    let mut previous: Option<(u64, u64)> = None;
    for &round in rounds {
        let new = match previous {
            None => round.min(1),
            Some((old, new)) if round == old + 1 => new + 1,
            Some((_, new)) => new + 2,
        };
        renamed.insert(round, new);
        previous = Some((round, new));
    }
    renamed
}

/// `state` with its rounds renamed by `rename` (which covers every round it holds).
fn renamed(state: &DuelState, rename: &HashMap<u64, u64>) -> DuelState {
    let round = |round: u64| rename[&round];
    let ballot = |ballot: Ballot| Ballot::new(round(ballot.round), ballot.proposer);
    let proposal =
        |proposal: &Proposal<Value>| Proposal::new(ballot(proposal.ballot), proposal.value);
    let mut next = state.clone();
    for actor in next.actors.iter_mut() {
        let renamed_state = match &***actor {
            PaxosState::Acceptor(acceptor) => {
                let mut acceptor: Acceptor<Value> = acceptor.clone();
                acceptor.promised = acceptor.promised.map(ballot);
                for (_, accepted) in acceptor.accepted.iter_mut() {
                    *accepted = proposal(accepted);
                }
                PaxosState::Acceptor(acceptor)
            }
            PaxosState::Proposer(state) => {
                let mut state: ProposerState = state.clone();
                let proposer: &mut Proposer<Value> = &mut state.proposer;
                proposer.rounds_started = 0;
                proposer.highest_seen_round = round(proposer.highest_seen_round);
                match &mut proposer.status {
                    Status::Idle => {}
                    Status::Preparing {
                        ballot: current,
                        reports,
                        ..
                    } => {
                        *current = ballot(*current);
                        for (_, (_, reported)) in reports.iter_mut() {
                            *reported = proposal(reported);
                        }
                    }
                    Status::Leading {
                        ballot: current, ..
                    } => *current = ballot(*current),
                }
                for (_, in_flight) in proposer.in_flight.iter_mut() {
                    in_flight.proposal = proposal(&in_flight.proposal);
                    if let ValueSource::Promise { ballot: source, .. } = &mut in_flight.source {
                        *source = ballot(*source);
                    }
                }
                PaxosState::Proposer(state)
            }
        };
        *actor = Arc::new(Cached::new(renamed_state));
    }
    for packet in next.network.iter_mut() {
        let message = match &*packet.msg {
            Message::Prepare {
                ballot: b,
                from_slot,
            } => Message::Prepare {
                ballot: ballot(*b),
                from_slot: *from_slot,
            },
            Message::Promise {
                ballot: b,
                accepted,
            } => Message::Promise {
                ballot: ballot(*b),
                accepted: accepted
                    .iter()
                    .map(|(slot, accepted)| (*slot, proposal(accepted)))
                    .collect(),
            },
            Message::PrepareRefused {
                ballot: b,
                promised,
            } => Message::PrepareRefused {
                ballot: ballot(*b),
                promised: ballot(*promised),
            },
            Message::Accept { slot, proposal: p } => Message::Accept {
                slot: *slot,
                proposal: proposal(p),
            },
            Message::Accepted { slot, proposal: p } => Message::Accepted {
                slot: *slot,
                proposal: proposal(p),
            },
            Message::AcceptRefused {
                slot,
                ballot: b,
                promised,
            } => Message::AcceptRefused {
                slot: *slot,
                ballot: ballot(*b),
                promised: ballot(*promised),
            },
        };
        packet.msg = Digested::new(message);
    }
    next.network.sort();
    let mut live = ChosenTracker::new(state.history.live.acceptor_count());
    for tally in state.history.live.tallies() {
        for acceptor in tally.acceptors.iter() {
            live.record(tally.slot, &proposal(&tally.proposal), acceptor);
        }
    }
    next.history = Arc::new(Cached::new(DuelGhost {
        ever_chosen: state.history.ever_chosen,
        live,
    }));
    next
}

/// `state` without the tallies that can no longer grow: those of ballots that no proposer
/// stands on and no Accept in flight carries.
fn forget_final_tallies(state: &DuelState) -> DuelState {
    let mut standing: BTreeSet<Ballot> = state
        .actors
        .iter()
        .filter_map(|actor| match &***actor {
            PaxosState::Proposer(proposer) => proposer.proposer.current_ballot(),
            PaxosState::Acceptor(_) => None,
        })
        .collect();
    for packet in &state.network {
        if let Message::Accept { proposal, .. } = &*packet.msg {
            standing.insert(proposal.ballot);
        }
    }
    let ghost = &state.history;
    let mut live = ChosenTracker::new(ghost.live.acceptor_count());
    for tally in ghost.live.tallies() {
        if standing.contains(&tally.proposal.ballot) {
            for acceptor in tally.acceptors.iter() {
                live.record(tally.slot, &tally.proposal, acceptor);
            }
        }
    }
    if live == ghost.live {
        return state.clone();
    }
    let mut next = state.clone();
    next.history = Arc::new(Cached::new(DuelGhost {
        ever_chosen: ghost.ever_chosen,
        live,
    }));
    next
}

/// The representative of `state`'s class: dead tallies dropped, rounds renamed canonically.
pub fn canonical(state: &DuelState) -> DuelState {
    let state = forget_final_tallies(state);
    renamed(&state, &renumbering(&rounds_of(&state)))
}

/// The fingerprint of `state`'s class: its canonical form, up to a renaming of acceptors too
/// (they are interchangeable, and a renaming of them commutes with one of rounds).
pub fn class_of(state: &DuelState) -> Fingerprint {
    let acceptors = state
        .actors
        .iter()
        .take_while(|actor| matches!(&****actor, PaxosState::Acceptor(_)))
        .count();
    canonical_fingerprint(&canonical(state), &(0..acceptors), false)
}

/// The fingerprint of `state`'s class under the renaming of rounds alone.
fn exact_class_of(state: &DuelState) -> Fingerprint {
    fingerprint(&canonical(state))
}

impl Relabel for DuelGhost {
    fn relabel(&self, map: &[ActorIndex]) -> Self {
        DuelGhost {
            ever_chosen: self.ever_chosen,
            live: self.live.relabel(map),
        }
    }

    fn about(&self, actor: ActorIndex) -> u64 {
        self.live.about(actor)
    }
}

// ---- The search for a lasso. ----

/// A run that goes on forever: `path` is the stem and then one turn of the loop, which starts
/// after step `loop_from - 1` and ends in a state of the same class as the one it started from.
pub struct Lasso {
    pub path: DuelPath,
    /// The first step of the loop (steps are numbered from 1).
    pub loop_from: usize,
    /// How one turn of the loop renames the ballots of the state it started from.
    pub renamed_ballots: Vec<(Ballot, Ballot)>,
}

impl Lasso {
    /// The loop told step by step: who gets a majority of promises, who is preempted by whom,
    /// and how the state after the turn is the one before it, renamed.
    pub fn story(&self, model: &DuelModel) -> Vec<String> {
        let steps = self.path.clone().into_vec();
        let name = |index: u8| model.cfg.actor_name(Id::from(usize::from(index)));
        let mut lines = vec![format!(
            "Steps 1-{}: the stem, from the initial state to the state the loop starts from.",
            self.loop_from - 1
        )];
        for (index, window) in steps.windows(2).enumerate().skip(self.loop_from - 1) {
            let step = index + 1;
            let ((before, action), (after, _)) = (&window[0], &window[1]);
            let Some(SystemAction::Deliver(packet)) = action else {
                continue;
            };
            let proposer = usize::from(packet.dst);
            let (PaxosState::Proposer(was), PaxosState::Proposer(now)) =
                (&**before.actors[proposer], &**after.actors[proposer])
            else {
                continue;
            };
            let (was, now) = (&was.proposer, &now.proposer);
            match (&*packet.msg, &now.status) {
                (
                    Message::PrepareRefused { ballot, promised }
                    | Message::AcceptRefused {
                        ballot, promised, ..
                    },
                    _,
                ) if was.current_ballot() == Some(*ballot) => lines.push(format!(
                    "step {step}: {} hears from {} that it promised {promised}: ballot {ballot} \
                     is preempted, and {} starts {}.",
                    name(packet.dst),
                    name(packet.src),
                    name(packet.dst),
                    now.current_ballot()
                        .map_or("nothing".to_owned(), |next| next.to_string())
                )),
                (Message::Promise { ballot, .. }, Status::Leading { .. }) if !was.is_leading() => {
                    lines.push(format!(
                        "step {step}: {} holds a majority of promises for {ballot} and sends its \
                         Accepts.",
                        name(packet.dst)
                    ))
                }
                _ => {}
            }
        }
        let renamed: Vec<String> = self
            .renamed_ballots
            .iter()
            .map(|(before, after)| format!("{before} -> {after}"))
            .collect();
        lines.push(format!(
            "After step {} the state is the one after step {} again, with every ballot renamed \
             upward ({}): the same steps can follow, forever. Each turn delivers every message \
             that was in flight when it began, and no value is ever chosen.",
            steps.len() - 1,
            self.loop_from - 1,
            renamed.join(", ")
        ));
        lines
    }
}

/// What the search found, and what it cost.
pub struct Livelock {
    pub model: DuelModel,
    /// Classes of states discovered (each a state up to the renaming of rounds and acceptors)
    /// when the search stopped.
    pub classes: usize,
    /// Of those, the classes where no value has been chosen.
    pub undecided_classes: usize,
    pub seconds: f64,
    /// The search went through every reachable class (it stops at the first lasso).
    pub complete: bool,
    pub lasso: Option<Lasso>,
}

/// One class: its first-found concrete state, how it was reached, and its successors.
struct Node {
    state: DuelState,
    class: Fingerprint,
    parent: Option<(usize, DuelAction)>,
    successors: Vec<usize>,
}

type DuelAction = SystemAction<Message<Value>, crate::check::paxos::RetryTimer>;

/// How many cycle members the search tries as the start of a fair loop before it gives up.
const FAIR_LOOP_ATTEMPTS_MAX: usize = 64;

/// Searches the duel of `cfg` for a fair cycle where no value is ever chosen. The classes are
/// explored breadth-first in growing batches (the first of `first_batch` classes), and after
/// each batch the part explored so far is searched for such a cycle: a cycle among explored
/// classes is a cycle of the whole. It stops at the first lasso, when every class is explored,
/// at `classes_max` classes, or at `deadline`.
pub fn find_livelock(
    cfg: DuelConfig,
    first_batch: usize,
    classes_max: usize,
    deadline: Duration,
) -> Livelock {
    let started = Instant::now();
    let model = duel_model(cfg);
    let mut explored = Explored::new(&model);
    let mut batch = first_batch.max(1);
    loop {
        let limit = batch.min(classes_max);
        let complete = explored.grow(&model, limit, started + deadline);
        if let Some(lasso) = explored.lasso(&model) {
            return explored.report(model, started, complete, Some(lasso));
        }
        if complete || limit >= classes_max || Instant::now() >= started + deadline {
            return explored.report(model, started, complete, None);
        }
        batch = batch.saturating_mul(2);
    }
}

/// The classes explored so far: each one's first concrete state, how it was reached and (once
/// expanded) its successors' classes.
struct Explored {
    nodes: Vec<Node>,
    index_of: HashMap<Fingerprint, usize>,
    /// The first class not expanded yet.
    next: usize,
}

impl Explored {
    fn new(model: &DuelModel) -> Self {
        let mut explored = Explored {
            nodes: Vec::new(),
            index_of: HashMap::new(),
            next: 0,
        };
        for state in model.init_states() {
            explored.discover(state, None);
        }
        explored
    }

    /// The index of `state`'s class, which is new if it was not known.
    fn discover(&mut self, state: DuelState, parent: Option<(usize, DuelAction)>) -> usize {
        let class = class_of(&state);
        *self.index_of.entry(class).or_insert_with(|| {
            self.nodes.push(Node {
                state,
                class,
                parent,
                successors: Vec::new(),
            });
            self.nodes.len() - 1
        })
    }

    /// Expands classes breadth-first until `classes_max` are known or `deadline`; true if every
    /// reachable class is expanded.
    fn grow(&mut self, model: &DuelModel, classes_max: usize, deadline: Instant) -> bool {
        let mut actions = Vec::new();
        while self.next < self.nodes.len() {
            if self.nodes.len() >= classes_max || Instant::now() >= deadline {
                return false;
            }
            let current = self.next;
            actions.clear();
            model.actions(&self.nodes[current].state, &mut actions);
            let mut successors = Vec::new();
            for action in actions.drain(..) {
                let Some(after) = model.next_state(&self.nodes[current].state, action.clone())
                else {
                    continue;
                };
                if !within_link_bound(&after) {
                    continue;
                }
                successors.push(self.discover(after, Some((current, action))));
            }
            self.nodes[current].successors = successors;
            self.next += 1;
        }
        true
    }

    fn undecided(&self) -> Vec<bool> {
        self.nodes
            .iter()
            .map(|node| !node.state.history.ever_chosen)
            .collect()
    }

    /// A lasso among the classes explored so far, if there is one.
    fn lasso(&self, model: &DuelModel) -> Option<Lasso> {
        let undecided = self.undecided();
        let undecided_classes: HashSet<Fingerprint> = self
            .nodes
            .iter()
            .zip(&undecided)
            .filter(|(_, undecided)| **undecided)
            .map(|(node, _)| node.class)
            .collect();
        cycles_first(&self.nodes, &undecided)
            .into_iter()
            .take(FAIR_LOOP_ATTEMPTS_MAX)
            .find_map(|start| {
                fair_loop(model, &self.nodes[start], &undecided_classes).map(|turn| (start, turn))
            })
            .map(|(start, turn)| lasso(model, &self.nodes, start, &turn))
    }

    fn report(
        &self,
        model: DuelModel,
        started: Instant,
        complete: bool,
        lasso: Option<Lasso>,
    ) -> Livelock {
        Livelock {
            classes: self.nodes.len(),
            undecided_classes: self
                .undecided()
                .iter()
                .filter(|undecided| **undecided)
                .count(),
            seconds: started.elapsed().as_secs_f64(),
            complete,
            lasso,
            model,
        }
    }
}

/// The undecided classes that lie on a cycle of undecided classes, in the order found (so the
/// first has a shortest stem): the members of the strongly connected components, found by
/// Tarjan's algorithm, iteratively.
fn cycles_first(nodes: &[Node], undecided: &[bool]) -> Vec<usize> {
    const UNVISITED: usize = usize::MAX;
    let count = nodes.len();
    let mut index = vec![UNVISITED; count];
    let mut low = vec![0; count];
    let mut on_stack = vec![false; count];
    let mut stack: Vec<usize> = Vec::new();
    let mut on_cycle = vec![false; count];
    let mut next_index = 0;
    for root in 0..count {
        if !undecided[root] || index[root] != UNVISITED {
            continue;
        }
        // (node, position in its successors)
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some((node, position)) = work.pop() {
            let successors = &nodes[node].successors;
            if let Some(&child) = successors.get(position) {
                work.push((node, position + 1));
                if !undecided[child] {
                    continue;
                }
                if index[child] == UNVISITED {
                    index[child] = next_index;
                    low[child] = next_index;
                    next_index += 1;
                    stack.push(child);
                    on_stack[child] = true;
                    work.push((child, 0));
                } else if on_stack[child] {
                    low[node] = low[node].min(index[child]);
                }
                continue;
            }
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                let mut component = Vec::new();
                loop {
                    let member = stack.pop().expect("the component is on the stack");
                    on_stack[member] = false;
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                let cyclic = component.len() > 1 || nodes[node].successors.contains(&node);
                for member in component {
                    on_cycle[member] = cyclic;
                }
            }
        }
    }
    (0..count).filter(|node| on_cycle[*node]).collect()
}

/// The packets of `network` that are also in `pending` (as multisets).
fn still_pending(
    pending: &[Packet<Message<Value>>],
    network: &[Packet<Message<Value>>],
) -> Vec<Packet<Message<Value>>> {
    let mut left: Vec<&Packet<Message<Value>>> = network.iter().collect();
    pending
        .iter()
        .filter(
            |packet| match left.iter().position(|other| other == packet) {
                Some(position) => {
                    left.swap_remove(position);
                    true
                }
                None => false,
            },
        )
        .cloned()
        .collect()
}

/// A shortest fair loop from the class of `start` back to it through undecided classes: the
/// actions of one turn, from `start`'s concrete state, during which every message in flight at the start
/// is delivered or dropped as ignored. Searched over (state, messages still pending) on the
/// real states, breadth-first.
fn fair_loop(
    model: &DuelModel,
    start: &Node,
    undecided_classes: &HashSet<Fingerprint>,
) -> Option<Vec<DuelAction>> {
    const SEARCH_STATES_MAX: usize = 200_000;
    let start_state = &start.state;
    // The loop must close on the very state it started from, up to the renaming of rounds
    // only, so that "the same steps can follow" holds without renaming acceptors as well.
    let start_class = exact_class_of(start_state);
    type Entry = (DuelState, Vec<Packet<Message<Value>>>, Vec<DuelAction>);
    let mut queue: VecDeque<Entry> =
        VecDeque::from([(start_state.clone(), start_state.network.clone(), Vec::new())]);
    let mut seen: HashSet<(Fingerprint, Fingerprint)> = HashSet::new();
    let mut actions = Vec::new();
    while let Some((state, pending, path)) = queue.pop_front() {
        if seen.len() > SEARCH_STATES_MAX {
            return None;
        }
        actions.clear();
        model.actions(&state, &mut actions);
        for action in actions.drain(..) {
            let Some(after) = model.next_state(&state, action.clone()) else {
                continue;
            };
            if !within_link_bound(&after) {
                continue;
            }
            let class = class_of(&after);
            if !undecided_classes.contains(&class) {
                continue;
            }
            let pending = still_pending(&pending, &after.network);
            let mut path = path.clone();
            path.push(action);
            let exact_class = exact_class_of(&after);
            if exact_class == start_class && pending.is_empty() {
                return Some(path);
            }
            let pending_key = fingerprint(&pending);
            if seen.insert((exact_class, pending_key)) {
                queue.push_back((after, pending, path));
            }
        }
    }
    None
}

/// The stem to `start` and one turn of the loop, as one path of the real model.
fn lasso(model: &DuelModel, nodes: &[Node], start: usize, loop_actions: &[DuelAction]) -> Lasso {
    let mut stem = Vec::new();
    let mut at = start;
    while let Some((parent, action)) = &nodes[at].parent {
        stem.push(action.clone());
        at = *parent;
    }
    stem.reverse();
    let init = nodes[at].state.clone();
    let loop_from = stem.len() + 1;
    let mut actions = stem;
    actions.extend(loop_actions.iter().cloned());
    let path = Path::from_actions(model, init, &actions).expect("a lasso is a run of the model");
    let states = path.clone().into_states();
    let renamed_ballots = ballot_renaming(&states[loop_from - 1], states.last().expect("a path"));
    Lasso {
        path,
        loop_from,
        renamed_ballots,
    }
}

/// How the ballots of `first` are renamed in `last`, a state of the same class: each ballot's
/// round goes through the canonical renumbering of `first` and back through `last`'s.
fn ballot_renaming(first: &DuelState, last: &DuelState) -> Vec<(Ballot, Ballot)> {
    let forward = renumbering(&rounds_of(first));
    let backward: HashMap<u64, u64> = renumbering(&rounds_of(last))
        .into_iter()
        .map(|(round, canonical)| (canonical, round))
        .collect();
    let mut ballots: BTreeSet<Ballot> = BTreeSet::new();
    for actor in &first.actors {
        match &***actor {
            PaxosState::Acceptor(acceptor) => ballots.extend(acceptor.promised),
            PaxosState::Proposer(proposer) => ballots.extend(proposer.proposer.current_ballot()),
        }
    }
    ballots
        .into_iter()
        .filter_map(|ballot| {
            let round = backward.get(forward.get(&ballot.round)?)?;
            Some((ballot, Ballot::new(*round, ballot.proposer)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renumbering_keeps_order_adjacency_and_one_gap() {
        let rounds = BTreeSet::from([0, 1, 2, 7, 8, 20]);
        let renamed = renumbering(&rounds);
        let image: Vec<u64> = rounds.iter().map(|round| renamed[round]).collect();
        assert_eq!(image, [0, 1, 2, 4, 5, 7]);
        // A state whose rounds sit elsewhere with the same pattern has the same image.
        let shifted = renumbering(&BTreeSet::from([0, 5, 6, 10, 11, 30]));
        let image: Vec<u64> = [0, 5, 6, 10, 11, 30]
            .iter()
            .map(|round| shifted[round])
            .collect();
        assert_eq!(image, [0, 2, 3, 5, 6, 8]);
    }

    /// The abstraction is sound only if a state and its canonical form step alike: every
    /// successor of one, made canonical, is a successor of the other, made canonical.
    #[test]
    fn a_state_and_its_class_representative_have_the_same_successor_classes() {
        let model = duel_model(DuelConfig::default());
        let mut explored = Explored::new(&model);
        explored.grow(&model, 3_000, Instant::now() + Duration::from_secs(60));
        let nodes = explored.nodes;
        let successor_classes = |state: &DuelState| {
            let mut actions = Vec::new();
            model.actions(state, &mut actions);
            let mut classes: Vec<Fingerprint> = actions
                .into_iter()
                .filter_map(|action| model.next_state(state, action))
                .map(|next| class_of(&next))
                .collect();
            classes.sort_unstable();
            classes.dedup();
            classes
        };
        for node in nodes.iter().step_by(7) {
            let representative = canonical(&node.state);
            assert_eq!(
                successor_classes(&node.state),
                successor_classes(&representative),
                "{:?}",
                node.state
            );
        }
    }

    #[test]
    fn two_duelling_proposers_can_keep_each_other_from_choosing_forever() {
        let found = find_livelock(
            DuelConfig::default(),
            25_000,
            2_000_000,
            Duration::from_secs(120),
        );
        let lasso = found.lasso.expect("a livelock");
        let states = lasso.path.clone().into_states();
        assert!(states.iter().all(|state| !state.history.ever_chosen));
        assert_eq!(
            exact_class_of(&states[lasso.loop_from - 1]),
            exact_class_of(states.last().expect("a path")),
            "the loop closes on the state it started from, renamed"
        );
        assert!(
            lasso
                .renamed_ballots
                .iter()
                .all(|(before, after)| after > before),
            "each turn raises every ballot: {:?}",
            lasso.renamed_ballots
        );
    }
}
