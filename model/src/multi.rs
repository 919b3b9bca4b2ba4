//! Multi-Paxos: one Paxos instance per log slot, with one Phase 1 for all of them.
//!
//! A leader's Phase 1 at ballot b covers every slot from the first one it does not know to be
//! chosen: one quorum of promises closes all lower ballots for all those slots at once, and
//! reports every acceptance the leader must adopt. While b stands the leader runs Phase 2 alone
//! for each new slot (Phase 1 "skipped"). A refusal means some acceptor promised a higher ballot:
//! the leader is preempted, stops skipping, and must run Phase 1 again before its next slot.
//! The acceptor and leader here are pure state machines, applied like the single-decree roles:
//! persist, then send, then act on decisions, then the timer.
//!
//! Phase 2 is thrifty: a leader sends its Accepts only to the acceptors whose promises
//! established its ballot. Any majority can choose a value, and those acceptors will accept
//! unless a higher ballot has reached them, in which case the leader is preempted anyway; if one
//! of them is lost or slow, the retry timer runs Phase 1 again at a higher ballot, to everyone.
//! Sending to the other acceptors too would add no safety and, in the model, would multiply the
//! interleavings of each slot's late Accepts with every later slot. (Under the `minority-quorum`
//! flaw the promisers are a minority, so no value is ever chosen by a true majority: the flaw
//! shows as leaders that learn values no majority accepted, `logs agree`, while the single-decree
//! model, which broadcasts, shows two values chosen.)

use crate::ballot::{quorum_size, AcceptorIndex, Ballot, Proposal};
use crate::flaw::Flaw;
use crate::rules::{
    self, binding_report, next_ballot, select_value, TimerChange, ValueSource, Votes,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A position in the replicated log.
pub type Slot = u64;

/// The messages of Multi-Paxos, in request/reply pairs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MultiMessage<V> {
    /// Phase 1a for every slot from `from_slot` on.
    Prepare {
        ballot: Ballot,
        from_slot: Slot,
    },
    /// Phase 1b: the promise, with the acceptor's acceptances for slots from `from_slot` on, in
    /// slot order.
    Promise {
        ballot: Ballot,
        accepted: Vec<(Slot, Proposal<V>)>,
    },
    PrepareRefused {
        ballot: Ballot,
        promised: Ballot,
    },
    /// Phase 2a for one slot.
    Accept {
        slot: Slot,
        proposal: Proposal<V>,
    },
    Accepted {
        slot: Slot,
        proposal: Proposal<V>,
    },
    AcceptRefused {
        slot: Slot,
        ballot: Ballot,
        promised: Ballot,
    },
}

impl<V: fmt::Display> fmt::Display for MultiMessage<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MultiMessage::Prepare { ballot, from_slot } => {
                write!(f, "Prepare(ballot {ballot}, slots {from_slot}..)")
            }
            MultiMessage::Promise { ballot, accepted } => {
                write!(f, "Promise(ballot {ballot}, accepted [")?;
                for (index, (slot, proposal)) in accepted.iter().enumerate() {
                    let separator = if index == 0 { "" } else { ", " };
                    write!(f, "{separator}slot {slot}: {proposal}")?;
                }
                write!(f, "])")
            }
            MultiMessage::PrepareRefused { ballot, promised } => {
                write!(f, "PrepareRefused(ballot {ballot}, promised {promised})")
            }
            MultiMessage::Accept { slot, proposal } => write!(f, "Accept(slot {slot}, {proposal})"),
            MultiMessage::Accepted { slot, proposal } => {
                write!(f, "Accepted(slot {slot}, {proposal})")
            }
            MultiMessage::AcceptRefused {
                slot,
                ballot,
                promised,
            } => {
                write!(
                    f,
                    "AcceptRefused(slot {slot}, ballot {ballot}, promised {promised})"
                )
            }
        }
    }
}

/// An acceptor for every slot: one promise (ballots are shared across slots) and an acceptance
/// per slot. All of it is durable.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MultiAcceptor<V> {
    pub promised: Option<Ballot>,
    pub accepted: BTreeMap<Slot, Proposal<V>>,
}

/// What a multi-acceptor did with one message.
pub type MultiAcceptorStep<V> = rules::AcceptorStep<MultiAcceptor<V>, MultiMessage<V>>;

impl<V: Clone + PartialEq> MultiAcceptor<V> {
    pub fn new() -> Self {
        MultiAcceptor {
            promised: None,
            accepted: BTreeMap::new(),
        }
    }

    /// The acceptor after a restart: what it persisted, or nothing under `forget-on-crash`.
    pub fn recover(persisted: Option<&MultiAcceptor<V>>, flaw: Flaw) -> Self {
        match persisted {
            Some(state) if flaw != Flaw::ForgetOnCrash => state.clone(),
            _ => MultiAcceptor::new(),
        }
    }

    pub fn on_prepare(
        &mut self,
        ballot: Ballot,
        from_slot: Slot,
        flaw: Flaw,
    ) -> MultiAcceptorStep<V> {
        if !rules::may_promise(self.promised, ballot, flaw) {
            let promised = self.promised.expect("only a promise can refuse a prepare");
            return MultiAcceptorStep {
                persist: None,
                reply: MultiMessage::PrepareRefused { ballot, promised },
            };
        }
        self.promised = Some(ballot);
        let accepted = self
            .accepted
            .range(from_slot..)
            .filter_map(|(slot, proposal)| {
                Some((*slot, rules::reported_acceptance(Some(proposal), flaw)?))
            })
            .collect();
        MultiAcceptorStep {
            persist: Some(self.clone()),
            reply: MultiMessage::Promise { ballot, accepted },
        }
    }

    pub fn on_accept(
        &mut self,
        slot: Slot,
        proposal: Proposal<V>,
        flaw: Flaw,
    ) -> MultiAcceptorStep<V> {
        let ballot = proposal.ballot;
        if !rules::may_accept(self.promised, ballot, flaw) {
            let promised = self.promised.expect("only a promise can refuse an accept");
            return MultiAcceptorStep {
                persist: None,
                reply: MultiMessage::AcceptRefused {
                    slot,
                    ballot,
                    promised,
                },
            };
        }
        let promised = self
            .promised
            .map_or(ballot, |promised| promised.max(ballot));
        let changed =
            self.promised != Some(promised) || self.accepted.get(&slot) != Some(&proposal);
        self.promised = Some(promised);
        self.accepted.insert(slot, proposal.clone());
        MultiAcceptorStep {
            persist: changed.then(|| self.clone()),
            reply: MultiMessage::Accepted { slot, proposal },
        }
    }
}

impl<V: Clone + PartialEq> Default for MultiAcceptor<V> {
    fn default() -> Self {
        MultiAcceptor::new()
    }
}

/// Where a leader stands with its ballot.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LeaderStatus<V> {
    /// No ballot established: the next request needs Phase 1.
    Idle,
    /// Phase 1 under way for every slot from `from_slot` on.
    Preparing {
        ballot: Ballot,
        from_slot: Slot,
        promises: BTreeMap<AcceptorIndex, Vec<(Slot, Proposal<V>)>>,
    },
    /// Phase 1 done at `ballot`: new slots go straight to Phase 2 until a refusal shows a higher
    /// ballot. `quorum` are Phase 2's recipients: the acceptors whose promises established the
    /// ballot (every acceptor under `new-leader-skips-phase1`, where no Phase 1 ran).
    Leading {
        ballot: Ballot,
        quorum: BTreeSet<AcceptorIndex>,
    },
}

/// Which acceptors a leader's message is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recipients {
    /// Every acceptor: Phase 1 must reach whichever majority answers.
    All,
    /// The acceptors that promised the leader's ballot: thrifty Phase 2.
    Quorum(BTreeSet<AcceptorIndex>),
}

impl Recipients {
    pub fn includes(&self, acceptor: AcceptorIndex) -> bool {
        match self {
            Recipients::All => true,
            Recipients::Quorum(quorum) => quorum.contains(&acceptor),
        }
    }
}

/// A message from a leader and the acceptors it is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Addressed<V> {
    pub to: Recipients,
    pub message: MultiMessage<V>,
}

/// A slot in Phase 2 at the leader's current ballot.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SlotInFlight<V> {
    pub proposal: Proposal<V>,
    pub source: ValueSource,
    /// True when the Accept went out without a Phase 1 run for this slot's request.
    pub phase1_skipped: bool,
    pub accepted: Votes,
}

/// A slot the leader has learned is chosen.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Decision<V> {
    pub slot: Slot,
    pub value: V,
    pub phase1_skipped: bool,
    /// `Promise` when the value was adopted from a Phase 1 report rather than requested.
    pub source: ValueSource,
}

/// What a leader did with one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaderStep<V> {
    /// Messages to acceptors, in order.
    pub outgoing: Vec<Addressed<V>>,
    /// Slots this input got chosen (or found already chosen), in slot order.
    pub decided: Vec<Decision<V>>,
    pub timer: TimerChange,
}

impl<V> Default for LeaderStep<V> {
    fn default() -> Self {
        LeaderStep {
            outgoing: Vec::new(),
            decided: Vec::new(),
            timer: TimerChange::Unchanged,
        }
    }
}

/// A Multi-Paxos proposer that runs Phase 1 once per ballot and learns its own slots' outcomes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Leader<V> {
    pub index: u32,
    pub acceptor_count: usize,
    /// A bound on the ballots this leader starts, so that the model is finite.
    pub rounds_max: u32,
    pub rounds_started: u32,
    pub highest_seen_round: u64,
    pub status: LeaderStatus<V>,
    /// Commands requested per slot and not yet known chosen.
    pub requests: BTreeMap<Slot, V>,
    pub in_flight: BTreeMap<Slot, SlotInFlight<V>>,
    /// The log as this leader has learned it.
    pub chosen: BTreeMap<Slot, V>,
    /// When preempted, wait for the retry timer instead of starting a higher ballot at once. A
    /// replica in a cluster defers to the rival (who is likely to succeed) rather than duel it;
    /// the model's leaders retry at once, so that bounded rounds are spent on the interesting
    /// races.
    pub defer_to_rival: bool,
}

impl<V: Clone + PartialEq> Leader<V> {
    pub fn new(index: u32, acceptor_count: usize, rounds_max: u32) -> Self {
        assert!(acceptor_count > 0, "a leader needs acceptors");
        Leader {
            index,
            acceptor_count,
            rounds_max,
            rounds_started: 0,
            highest_seen_round: 0,
            status: LeaderStatus::Idle,
            requests: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            chosen: BTreeMap::new(),
            defer_to_rival: false,
        }
    }

    /// The next slot this leader has neither learned, nor been asked for, nor has in flight.
    pub fn next_free_slot(&self) -> Slot {
        let used = [
            self.chosen.keys().next_back(),
            self.requests.keys().next_back(),
            self.in_flight.keys().next_back(),
        ];
        used.into_iter().flatten().max().map_or(0, |slot| slot + 1)
    }

    /// Another node's leader got `slot` chosen with `value`: take it into this leader's log, so
    /// that its Phase 1 starts above it and it never proposes there. Returns the request this
    /// leader had for the slot, if any, which is now answered (by `value`, whatever it asked).
    pub fn learn(&mut self, slot: Slot, value: V) -> Option<V> {
        if let Some(known) = self.chosen.get(&slot) {
            assert!(*known == value, "slot {slot} learned with two values");
            return None;
        }
        self.in_flight.remove(&slot);
        self.chosen.insert(slot, value);
        self.requests.remove(&slot)
    }

    /// Starts (or restarts) Phase 1 at a ballot above every one seen, with nothing requested:
    /// what a node does to take over when the leader it knows has gone quiet.
    pub fn campaign(&mut self, flaw: Flaw) -> LeaderStep<V> {
        self.start_phase1(flaw)
    }

    /// Gives up the ballot under way without a retry: a node of a cluster that finds a rival
    /// ahead lets it lead. What it was asked for is the caller's to forward.
    pub fn stand_down(&mut self) {
        self.status = LeaderStatus::Idle;
        self.in_flight.clear();
        self.requests.clear();
    }

    /// After a restart, a ballot above every one this node may have used before: its own
    /// acceptor promised each of its ballots (it hears them first) and persisted that promise.
    pub fn resume_above(&mut self, promised: Option<Ballot>) {
        if let Some(promised) = promised {
            self.highest_seen_round = self.highest_seen_round.max(promised.round);
        }
    }

    pub fn current_ballot(&self) -> Option<Ballot> {
        match &self.status {
            LeaderStatus::Idle => None,
            LeaderStatus::Preparing { ballot, .. } | LeaderStatus::Leading { ballot, .. } => {
                Some(*ballot)
            }
        }
    }

    pub fn is_leading(&self) -> bool {
        matches!(self.status, LeaderStatus::Leading { .. })
    }

    /// The first slot not known to be chosen: Phase 1 must cover it and everything after it.
    pub fn first_unchosen_slot(&self) -> Slot {
        let mut slot = 0;
        while self.chosen.contains_key(&slot) {
            slot += 1;
        }
        slot
    }

    /// A client asks for `value` in `slot`.
    pub fn propose(&mut self, slot: Slot, value: V, flaw: Flaw) -> LeaderStep<V> {
        if let Some(chosen) = self.chosen.get(&slot) {
            // Nothing to run: the slot's value is fixed, and it is the answer.
            let decision = Decision {
                slot,
                value: chosen.clone(),
                phase1_skipped: true,
                source: ValueSource::Own,
            };
            return LeaderStep {
                decided: vec![decision],
                ..LeaderStep::default()
            };
        }
        if self.requests.contains_key(&slot) {
            return LeaderStep::default(); // already under way; its decision answers this too
        }
        if self.in_flight.contains_key(&slot) {
            // Phase 1 found this slot accepted at an earlier ballot and the leader is driving that
            // value: it may already be chosen, so it must not be replaced. The request waits
            // for the slot's decision, which answers it.
            self.requests.insert(slot, value);
            return LeaderStep::default();
        }
        self.requests.insert(slot, value.clone());
        match self.status {
            LeaderStatus::Leading { .. } => self.send_phase2(slot, value, ValueSource::Own, true),
            LeaderStatus::Preparing { .. } => LeaderStep::default(), // Phase 1 covers every slot
            LeaderStatus::Idle if flaw == Flaw::NewLeaderSkipsPhase1 => {
                self.take_over_without_phase1(flaw)
            }
            LeaderStatus::Idle => self.start_phase1(flaw),
        }
    }

    /// A timeout with work outstanding: messages were lost or a rival interfered; run Phase 1 at
    /// a higher ballot (which also re-drives every slot in flight).
    pub fn on_timeout(&mut self, flaw: Flaw) -> LeaderStep<V> {
        if self.requests.is_empty() && self.in_flight.is_empty() {
            return LeaderStep {
                timer: TimerChange::Cancel,
                ..LeaderStep::default()
            };
        }
        self.start_phase1(flaw)
    }

    pub fn on_promise(
        &mut self,
        from: AcceptorIndex,
        ballot: Ballot,
        accepted: Vec<(Slot, Proposal<V>)>,
        flaw: Flaw,
    ) -> LeaderStep<V> {
        let LeaderStatus::Preparing {
            ballot: current,
            promises,
            ..
        } = &mut self.status
        else {
            return LeaderStep::default();
        };
        if *current != ballot {
            return LeaderStep::default();
        }
        assert!(
            from < self.acceptor_count,
            "promise from unknown acceptor {from}"
        );
        promises.insert(from, accepted);
        if promises.len() < quorum_size(self.acceptor_count, flaw) {
            return LeaderStep::default();
        }
        let promises = std::mem::take(promises);
        self.status = LeaderStatus::Leading {
            ballot,
            quorum: promises.keys().copied().collect(),
        };
        self.phase2_after_phase1(&promises, flaw)
    }

    pub fn on_accepted(
        &mut self,
        from: AcceptorIndex,
        slot: Slot,
        proposal: Proposal<V>,
        flaw: Flaw,
    ) -> LeaderStep<V> {
        let Some(in_flight) = self.in_flight.get_mut(&slot) else {
            return LeaderStep::default();
        };
        if in_flight.proposal != proposal
            || !in_flight.accepted.add(from, self.acceptor_count, flaw)
        {
            return LeaderStep::default();
        }
        let in_flight = self.in_flight.remove(&slot).expect("just seen");
        self.requests.remove(&slot);
        let value = in_flight.proposal.value;
        let previous = self.chosen.insert(slot, value.clone());
        debug_assert!(
            previous.is_none(),
            "slot {slot} chosen twice at this leader"
        );
        let decision = Decision {
            slot,
            value,
            phase1_skipped: in_flight.phase1_skipped,
            source: in_flight.source,
        };
        LeaderStep {
            decided: vec![decision],
            timer: self.retry_timer(),
            ..LeaderStep::default()
        }
    }

    /// A refusal of the current ballot: some acceptor promised `promised`, above it. The leader is
    /// preempted; it may not skip Phase 1 again until a new Phase 1 succeeds, since the rival may
    /// have got values accepted that this leader never heard of.
    pub fn on_refused(&mut self, ballot: Ballot, promised: Ballot, flaw: Flaw) -> LeaderStep<V> {
        if self.current_ballot() != Some(ballot) || promised <= ballot {
            return LeaderStep::default();
        }
        self.highest_seen_round = self.highest_seen_round.max(promised.round);
        if flaw == Flaw::SkipPhase1AfterPreemption && self.is_leading() {
            return self.take_over_without_phase1(flaw);
        }
        self.status = LeaderStatus::Idle;
        self.in_flight.clear();
        if self.requests.is_empty() || self.defer_to_rival {
            return LeaderStep {
                timer: self.retry_timer(),
                ..LeaderStep::default()
            };
        }
        self.start_phase1(flaw)
    }

    fn start_phase1(&mut self, flaw: Flaw) -> LeaderStep<V> {
        self.in_flight.clear();
        if self.rounds_started >= self.rounds_max {
            self.status = LeaderStatus::Idle;
            return LeaderStep {
                timer: TimerChange::Cancel,
                ..LeaderStep::default()
            };
        }
        let ballot = self.next_ballot(flaw);
        let from_slot = self.first_unchosen_slot();
        self.status = LeaderStatus::Preparing {
            ballot,
            from_slot,
            promises: BTreeMap::new(),
        };
        LeaderStep {
            outgoing: vec![Addressed {
                to: Recipients::All,
                message: MultiMessage::Prepare { ballot, from_slot },
            }],
            timer: self.retry_timer(),
            ..LeaderStep::default()
        }
    }

    fn next_ballot(&mut self, flaw: Flaw) -> Ballot {
        let ballot = next_ballot(self.highest_seen_round, self.index, flaw);
        self.rounds_started += 1;
        self.highest_seen_round = ballot.round;
        ballot
    }

    /// The flawed shortcut: claim a fresh ballot and go straight to Phase 2 with the leader's own
    /// values, as if no rival could have accepted anything.
    fn take_over_without_phase1(&mut self, flaw: Flaw) -> LeaderStep<V> {
        debug_assert!(matches!(
            flaw,
            Flaw::NewLeaderSkipsPhase1 | Flaw::SkipPhase1AfterPreemption
        ));
        if self.rounds_started >= self.rounds_max {
            self.status = LeaderStatus::Idle;
            self.in_flight.clear();
            return LeaderStep {
                timer: TimerChange::Cancel,
                ..LeaderStep::default()
            };
        }
        let ballot = self.next_ballot(flaw);
        // No promises to go by: it sends to every acceptor and hopes.
        self.status = LeaderStatus::Leading {
            ballot,
            quorum: (0..self.acceptor_count).collect(),
        };
        self.in_flight.clear();
        let mut step = LeaderStep::default();
        for (slot, value) in self.requests.clone() {
            let sent = self.send_phase2(slot, value, ValueSource::Own, true);
            step.outgoing.extend(sent.outgoing);
        }
        step.timer = self.retry_timer();
        step
    }

    /// Phase 2 for every slot that Phase 1 found accepted or that a client is waiting on.
    fn phase2_after_phase1(
        &mut self,
        promises: &BTreeMap<AcceptorIndex, Vec<(Slot, Proposal<V>)>>,
        flaw: Flaw,
    ) -> LeaderStep<V> {
        let reported_slots: BTreeSet<Slot> = promises
            .values()
            .flat_map(|accepted| accepted.iter().map(|(slot, _)| *slot))
            .collect();
        let slots: BTreeSet<Slot> = reported_slots
            .iter()
            .copied()
            .chain(self.requests.keys().copied())
            .collect();
        let mut step = LeaderStep::default();
        for slot in slots {
            if self.chosen.contains_key(&slot) {
                continue;
            }
            let reports = promises.iter().map(|(acceptor, accepted)| {
                (
                    *acceptor,
                    accepted
                        .iter()
                        .find(|(reported, _)| *reported == slot)
                        .map(|(_, proposal)| proposal),
                )
            });
            let selection = match self.requests.get(&slot) {
                Some(requested) => Some(select_value(reports, requested, flaw)),
                // A slot no client asked this leader for: finish what an earlier ballot started,
                // since it may already be chosen. A leader that ignores reports leaves it alone.
                None if matches!(
                    flaw,
                    Flaw::IgnoreSlotPromises | Flaw::ProposerIgnoresPromises
                ) =>
                {
                    None
                }
                None => binding_report(reports, flaw),
            };
            if let Some((value, source)) = selection {
                step.outgoing
                    .extend(self.send_phase2(slot, value, source, false).outgoing);
            }
        }
        step.timer = self.retry_timer();
        step
    }

    /// Phase 2 for `slot` at the established ballot, to the acceptors that promised it.
    fn send_phase2(
        &mut self,
        slot: Slot,
        value: V,
        source: ValueSource,
        phase1_skipped: bool,
    ) -> LeaderStep<V> {
        let LeaderStatus::Leading { ballot, quorum } = &self.status else {
            unreachable!("Phase 2 runs only under an established ballot");
        };
        let to = Recipients::Quorum(quorum.clone());
        let proposal = Proposal::new(*ballot, value);
        let in_flight = SlotInFlight {
            proposal: proposal.clone(),
            source,
            phase1_skipped,
            accepted: Votes::new(),
        };
        self.in_flight.insert(slot, in_flight);
        LeaderStep {
            outgoing: vec![Addressed {
                to,
                message: MultiMessage::Accept { slot, proposal },
            }],
            timer: self.retry_timer(),
            ..LeaderStep::default()
        }
    }

    /// The retry timer runs while there is work outstanding and a ballot left to retry with.
    fn retry_timer(&self) -> TimerChange {
        let outstanding = !self.requests.is_empty() || !self.in_flight.is_empty();
        if outstanding && self.rounds_started < self.rounds_max {
            TimerChange::Arm
        } else {
            TimerChange::Cancel
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A leader and its acceptors with every message delivered at once, in order.
    struct Cluster {
        leader: Leader<&'static str>,
        acceptors: Vec<MultiAcceptor<&'static str>>,
        flaw: Flaw,
    }

    impl Cluster {
        fn new(acceptor_count: usize) -> Self {
            Cluster {
                leader: Leader::new(0, acceptor_count, 3),
                acceptors: vec![MultiAcceptor::new(); acceptor_count],
                flaw: Flaw::None,
            }
        }

        /// Delivers a leader step's messages to their recipients among `reachable` acceptors and
        /// the replies back, until quiet; returns every decision.
        fn run(
            &mut self,
            step: LeaderStep<&'static str>,
            reachable: &[usize],
        ) -> Vec<Decision<&'static str>> {
            let mut decided = step.decided;
            let mut outbox = step.outgoing;
            while !outbox.is_empty() {
                let mut replies = Vec::new();
                for Addressed { to, message } in outbox.drain(..) {
                    for &index in reachable.iter().filter(|&&index| to.includes(index)) {
                        let acceptor = &mut self.acceptors[index];
                        let reply = match message.clone() {
                            MultiMessage::Prepare { ballot, from_slot } => {
                                acceptor.on_prepare(ballot, from_slot, self.flaw).reply
                            }
                            MultiMessage::Accept { slot, proposal } => {
                                acceptor.on_accept(slot, proposal, self.flaw).reply
                            }
                            other => panic!("leaders send no {other:?}"),
                        };
                        replies.push((index, reply));
                    }
                }
                for (from, reply) in replies {
                    let step = match reply {
                        MultiMessage::Promise { ballot, accepted } => {
                            self.leader.on_promise(from, ballot, accepted, self.flaw)
                        }
                        MultiMessage::Accepted { slot, proposal } => {
                            self.leader.on_accepted(from, slot, proposal, self.flaw)
                        }
                        MultiMessage::PrepareRefused { ballot, promised }
                        | MultiMessage::AcceptRefused {
                            ballot, promised, ..
                        } => self.leader.on_refused(ballot, promised, self.flaw),
                        other => panic!("acceptors send no {other:?}"),
                    };
                    decided.extend(step.decided);
                    outbox.extend(step.outgoing);
                }
            }
            decided
        }

        fn propose(&mut self, slot: Slot, value: &'static str) -> Vec<Decision<&'static str>> {
            let step = self.leader.propose(slot, value, self.flaw);
            let everyone: Vec<usize> = (0..self.acceptors.len()).collect();
            self.run(step, &everyone)
        }
    }

    /// A step's messages, without their recipients.
    fn messages<V: Clone>(step: &LeaderStep<V>) -> Vec<MultiMessage<V>> {
        step.outgoing
            .iter()
            .map(|outgoing| outgoing.message.clone())
            .collect()
    }

    fn summary(decisions: &[Decision<&'static str>]) -> Vec<(Slot, &'static str, bool)> {
        decisions
            .iter()
            .map(|d| (d.slot, d.value, d.phase1_skipped))
            .collect()
    }

    #[test]
    fn first_slot_runs_phase1_and_later_slots_skip_it() {
        // Course 7-3-4: slot 1 needs Phase 1, slot 2 does not.
        let mut cluster = Cluster::new(1);
        assert_eq!(summary(&cluster.propose(1, "cmd1")), [(1, "cmd1", false)]);
        assert_eq!(summary(&cluster.propose(2, "cmd2")), [(2, "cmd2", true)]);
        assert_eq!(
            cluster.leader.rounds_started, 1,
            "one Phase 1 served both slots"
        );
    }

    #[test]
    fn proposing_a_chosen_slot_answers_with_the_chosen_value() {
        let mut cluster = Cluster::new(3);
        cluster.propose(1, "first");
        assert_eq!(summary(&cluster.propose(1, "second")), [(1, "first", true)]);
    }

    #[test]
    fn preempted_leader_loses_its_phase1_skip() {
        let mut cluster = Cluster::new(3);
        cluster.propose(1, "a");
        assert!(cluster.leader.is_leading());
        // A rival leader with a higher ballot runs Phase 1 on a majority.
        let mut rival = Leader::<&str>::new(1, 3, 3);
        rival.propose(5, "rival", Flaw::None);
        let rival_ballot = rival.current_ballot().unwrap();
        for acceptor in &mut cluster.acceptors[..2] {
            acceptor.on_prepare(rival_ballot, 0, Flaw::None);
        }
        // The old leader's next Accept is refused; it must run Phase 1 again, above the rival.
        let step = cluster.leader.propose(2, "b", Flaw::None);
        let everyone = [0, 1, 2];
        let decided = cluster.run(step, &everyone);
        assert_eq!(summary(&decided), [(2, "b", false)]);
        assert!(cluster.leader.current_ballot().unwrap() > rival_ballot);
        assert_eq!(cluster.leader.rounds_started, 2);
    }

    #[test]
    fn new_leader_adopts_values_that_promises_report() {
        let mut cluster = Cluster::new(3);
        // An old leader got "old" accepted in slot 3 at acceptors 0 and 1 only.
        let mut old = Leader::<&str>::new(1, 3, 1);
        let prepare = old.propose(3, "old", Flaw::None);
        let [MultiMessage::Prepare { ballot, .. }] = messages(&prepare)[..] else {
            panic!()
        };
        for acceptor in &mut cluster.acceptors[..2] {
            acceptor.on_prepare(ballot, 0, Flaw::None);
            acceptor.on_accept(3, Proposal::new(ballot, "old"), Flaw::None);
        }
        let decided = cluster.propose(3, "new");
        assert_eq!(summary(&decided), [(3, "old", false)]);
        assert!(matches!(
            decided[0].source,
            ValueSource::Promise { acceptor: 0, .. }
        ));
    }

    #[test]
    fn new_leader_finishes_reported_slots_nobody_asked_it_for() {
        let mut cluster = Cluster::new(3);
        cluster.acceptors[2].on_accept(7, Proposal::new(Ballot::new(1, 2), "orphan"), Flaw::None);
        let step = cluster.leader.propose(1, "mine", Flaw::None);
        let decided = cluster.run(step, &[1, 2]);
        assert_eq!(
            summary(&decided),
            [(1, "mine", false), (7, "orphan", false)]
        );
        assert_eq!(
            cluster.leader.chosen.keys().copied().collect::<Vec<_>>(),
            [1, 7]
        );
    }

    #[test]
    fn a_request_for_a_slot_being_finished_keeps_the_adopted_value() {
        // Found by the checker: a new leader drives slot 1's reported value B; a client request
        // for slot 1 arriving meanwhile must not replace B, which a majority may have accepted.
        let mut cluster = Cluster::new(2);
        let old_ballot = Ballot::new(0, 1);
        for acceptor in &mut cluster.acceptors {
            acceptor.on_accept(1, Proposal::new(old_ballot, "B"), Flaw::None);
        }
        let step = cluster.leader.propose(0, "A", Flaw::None);
        let [MultiMessage::Prepare { ballot, from_slot }] = messages(&step)[..] else {
            panic!()
        };
        let mut accepts = Vec::new();
        for index in 0..2 {
            let reply = cluster.acceptors[index]
                .on_prepare(ballot, from_slot, Flaw::None)
                .reply;
            let MultiMessage::Promise { ballot, accepted } = reply else {
                panic!()
            };
            accepts.extend(
                cluster
                    .leader
                    .on_promise(index, ballot, accepted, Flaw::None)
                    .outgoing,
            );
        }
        assert!(accepts.contains(&Addressed {
            to: Recipients::Quorum(BTreeSet::from([0, 1])),
            message: MultiMessage::Accept {
                slot: 1,
                proposal: Proposal::new(ballot, "B")
            }
        }));
        let step = cluster.leader.propose(1, "C", Flaw::None);
        assert_eq!(step.outgoing, vec![], "slot 1 is being finished with B");
        assert_eq!(cluster.leader.in_flight[&1].proposal.value, "B");
    }

    #[test]
    fn phase2_goes_only_to_the_acceptors_that_promised() {
        let mut cluster = Cluster::new(3);
        // Acceptor 0 is unreachable during Phase 1, so 1 and 2 establish the ballot.
        let step = cluster.leader.propose(0, "a", Flaw::None);
        assert_eq!(summary(&cluster.run(step, &[1, 2])), [(0, "a", false)]);
        // A later slot skips Phase 1 and still goes only to them, though 0 is back.
        let step = cluster.leader.propose(1, "b", Flaw::None);
        assert_eq!(
            step.outgoing[0].to,
            Recipients::Quorum(BTreeSet::from([1, 2]))
        );
        assert_eq!(summary(&cluster.run(step, &[0, 1, 2])), [(1, "b", true)]);
        assert_eq!(
            cluster.acceptors[0],
            MultiAcceptor::new(),
            "0 heard nothing"
        );
    }

    #[test]
    fn phase1_starts_at_the_first_unchosen_slot() {
        let mut cluster = Cluster::new(3);
        cluster.propose(0, "a");
        cluster.propose(1, "b");
        assert_eq!(cluster.leader.first_unchosen_slot(), 2);
        cluster.leader.status = LeaderStatus::Idle; // as after a preemption
        let step = cluster.leader.propose(5, "c", Flaw::None);
        assert!(matches!(
            messages(&step)[..],
            [MultiMessage::Prepare { from_slot: 2, .. }]
        ));
    }

    #[test]
    fn multi_acceptor_reports_only_slots_from_the_prepare_on() {
        let mut acceptor = MultiAcceptor::new();
        acceptor.on_accept(1, Proposal::new(Ballot::new(1, 0), 'a'), Flaw::None);
        acceptor.on_accept(4, Proposal::new(Ballot::new(1, 0), 'b'), Flaw::None);
        let step = acceptor.on_prepare(Ballot::new(2, 1), 3, Flaw::None);
        assert_eq!(
            step.reply,
            MultiMessage::Promise {
                ballot: Ballot::new(2, 1),
                accepted: vec![(4, Proposal::new(Ballot::new(1, 0), 'b'))]
            }
        );
        let step = acceptor.on_accept(5, Proposal::new(Ballot::new(1, 0), 'c'), Flaw::None);
        assert_eq!(
            step.reply,
            MultiMessage::AcceptRefused {
                slot: 5,
                ballot: Ballot::new(1, 0),
                promised: Ballot::new(2, 1)
            }
        );
    }

    #[test]
    fn leader_out_of_rounds_stops_and_cancels_its_timer() {
        let mut leader = Leader::<char>::new(0, 3, 1);
        leader.propose(1, 'x', Flaw::None);
        let step = leader.on_timeout(Flaw::None);
        assert_eq!(step.outgoing, vec![]);
        assert_eq!(step.timer, TimerChange::Cancel);
        assert_eq!(leader.status, LeaderStatus::Idle);
    }
}
