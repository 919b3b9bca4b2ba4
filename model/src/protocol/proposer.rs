//! The proposer, which is also the Multi-Paxos leader: one state machine for single-decree Paxos
//! (a log of one slot) and for Multi-Paxos.
//!
//! Phase 1 at ballot b covers every slot from the first one the proposer does not know to be
//! chosen: one quorum of promises closes all lower ballots for all those slots at once, and
//! reports every acceptance the proposer must adopt. While b stands, the proposer runs Phase 2
//! alone for each new slot (Phase 1 "skipped"). A refusal means some acceptor promised a higher
//! ballot: the proposer is preempted, stops skipping, and must run Phase 1 again before its next
//! slot, since the rival may have got values accepted that it never heard of.
//!
//! Phase 2 goes to the acceptors whose promises established the ballot, as in "Paxos Made
//! Simple" ("it sends an accept request to each of those acceptors"). Any majority can choose a
//! value, and those acceptors will accept unless a higher ballot reached them, in which case the
//! proposer is preempted anyway; if one of them is lost or slow, the retry timer runs Phase 1
//! again, to everyone.
//!
//! The proposer learns its own slots' outcomes from the acceptances (a quorum of votes for its
//! proposal) and is told of other slots by its caller (`learn`). It keeps which slots are chosen,
//! not their values: the learner of the node or the model keeps the log.
//!
//! Sans-IO: every input returns a `ProposerStep` (messages with their recipients, decisions,
//! what to do with the retry timer), applied in that order. Settings that never change (the
//! proposer's index, the cluster size, the bound on ballots, the flaw) come in a
//! `ProposerConfig`, not in the state, so that a model checker does not store them per state.

use crate::protocol::ballot::{AcceptorIndex, Ballot, Proposal};
use crate::protocol::flaw::Flaw;
use crate::protocol::message::Message;
use crate::protocol::quorum::AcceptorSet;
use crate::protocol::rules::{self, binds_rather, next_ballot, Report, TimerChange, ValueSource};
use crate::protocol::slots::{Slot, SlotMap};
use serde::{Deserialize, Serialize};

/// What never changes about a proposer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProposerConfig {
    /// The tie-breaking half of every ballot it starts.
    pub index: u32,
    pub acceptor_count: usize,
    /// A bound on the ballots it starts, so that a model is finite.
    pub rounds_max: u32,
    /// The highest round it may start a ballot in: a bound that, unlike `rounds_max`, survives
    /// a restart that forgets how many ballots were started (the cluster model's replicas
    /// crash and restart). `u64::MAX` where nothing needs bounding.
    pub round_cap: u64,
    pub flaw: Flaw,
    /// When preempted, wait for the retry timer instead of starting a higher ballot at once. A
    /// replica in a cluster defers to the rival (who is likely to succeed) rather than duel it;
    /// the models' proposers retry at once, so that bounded rounds are spent on the races.
    pub defer_to_rival: bool,
}

/// Where the proposer stands with its ballot.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status<V> {
    /// No ballot established: the next request needs Phase 1.
    Idle,
    /// Phase 1 under way for every slot from `from_slot` on: who promised, and per slot the
    /// reported acceptance that binds the proposer so far.
    Preparing {
        ballot: Ballot,
        from_slot: Slot,
        promised: AcceptorSet,
        reports: SlotMap<Report<V>>,
    },
    /// Phase 1 done at `ballot`: new slots go straight to Phase 2, to `quorum`, the acceptors
    /// whose promises established the ballot (every acceptor under `new-leader-skips-phase1`,
    /// where no Phase 1 ran), until a refusal shows a higher ballot.
    Leading { ballot: Ballot, quorum: AcceptorSet },
}

/// A slot in Phase 2 at the proposer's current ballot.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InFlight<V> {
    pub proposal: Proposal<V>,
    pub source: ValueSource,
    /// The Accept went out without a Phase 1 run for this slot's request.
    pub phase1_skipped: bool,
    pub votes: AcceptorSet,
}

/// The slots a proposer knows to be chosen: every slot below `below`, and `above`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChosenSlots {
    pub below: Slot,
    pub above: Vec<Slot>,
}

impl ChosenSlots {
    pub fn contains(&self, slot: Slot) -> bool {
        slot < self.below || self.above.binary_search(&slot).is_ok()
    }

    /// Records `slot`; false if it was known.
    pub fn insert(&mut self, slot: Slot) -> bool {
        if self.contains(slot) {
            return false;
        }
        let position = self.above.partition_point(|known| *known < slot);
        self.above.insert(position, slot);
        self.absorb_prefix_run();
        true
    }

    /// Folds the run of known slots that now continues the prefix into it.
    fn absorb_prefix_run(&mut self) {
        let run = self
            .above
            .iter()
            .zip(self.below..)
            .take_while(|(known, expected)| **known == *expected)
            .count();
        self.below += run as Slot;
        self.above.drain(..run);
    }

    /// Records every slot below `below` at once (a snapshot's).
    pub fn insert_below(&mut self, below: Slot) {
        if below <= self.below {
            return;
        }
        self.above.retain(|known| *known >= below);
        self.below = below;
        self.absorb_prefix_run();
    }

    /// The highest chosen slot known, if any.
    pub fn last(&self) -> Option<Slot> {
        self.above
            .last()
            .copied()
            .or_else(|| self.below.checked_sub(1))
    }
}

/// Which acceptors a message is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recipients {
    /// Every acceptor: Phase 1 must reach whichever majority answers.
    All,
    /// The acceptors that promised the proposer's ballot.
    Quorum(AcceptorSet),
}

impl Recipients {
    pub fn includes(&self, acceptor: AcceptorIndex) -> bool {
        match self {
            Recipients::All => true,
            Recipients::Quorum(quorum) => quorum.contains(acceptor),
        }
    }
}

/// A message from the proposer and the acceptors it is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing<V> {
    pub to: Recipients,
    pub message: Message<V>,
}

/// A slot the proposer has learned is chosen, by its own ballot's votes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Decision<V> {
    pub slot: Slot,
    pub proposal: Proposal<V>,
    pub phase1_skipped: bool,
    /// `Promise` when the value was adopted from a Phase 1 report rather than requested.
    pub source: ValueSource,
}

/// What a proposer did with one input, to be applied in field order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProposerStep<V> {
    pub outgoing: Vec<Outgoing<V>>,
    /// Slots this input got chosen, in slot order.
    pub decided: Vec<Decision<V>>,
    pub timer: TimerChange,
}

impl<V> Default for ProposerStep<V> {
    fn default() -> Self {
        ProposerStep {
            outgoing: Vec::new(),
            decided: Vec::new(),
            timer: TimerChange::Unchanged,
        }
    }
}

impl<V> ProposerStep<V> {
    fn merge(&mut self, other: ProposerStep<V>) {
        self.outgoing.extend(other.outgoing);
        self.decided.extend(other.decided);
        if other.timer != TimerChange::Unchanged {
            self.timer = other.timer;
        }
    }
}

/// An input for a proposer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposerInput<V> {
    /// A client asks for `value` in `slot`.
    Propose { slot: Slot, value: V },
    /// A reply from acceptor `from`.
    Reply {
        from: AcceptorIndex,
        message: Message<V>,
    },
    /// The retry timer fired.
    Timeout,
    /// Start (or restart) Phase 1 with nothing requested: a node taking over from a leader that
    /// went quiet.
    Campaign,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Proposer<V> {
    pub rounds_started: u32,
    /// The highest round this proposer has heard of; its next ballot goes above it.
    pub highest_seen_round: u64,
    pub status: Status<V>,
    /// Values requested per slot and not yet known chosen.
    pub requests: SlotMap<V>,
    pub in_flight: SlotMap<InFlight<V>>,
    pub chosen: ChosenSlots,
}

impl<V> Default for Proposer<V> {
    fn default() -> Self {
        Proposer {
            rounds_started: 0,
            highest_seen_round: 0,
            status: Status::Idle,
            requests: SlotMap::new(),
            in_flight: SlotMap::new(),
            chosen: ChosenSlots::default(),
        }
    }
}

impl<V: Clone + PartialEq> Proposer<V> {
    pub fn new() -> Self {
        Proposer::default()
    }

    /// The one entry point: what the proposer does with `input`.
    pub fn step(&mut self, config: &ProposerConfig, input: ProposerInput<V>) -> ProposerStep<V> {
        match input {
            ProposerInput::Propose { slot, value } => self.propose(config, slot, value),
            ProposerInput::Reply { from, message } => self.on_reply(config, from, message),
            ProposerInput::Timeout => self.on_timeout(config),
            ProposerInput::Campaign => self.start_phase1(config),
        }
    }

    pub fn current_ballot(&self) -> Option<Ballot> {
        match &self.status {
            Status::Idle => None,
            Status::Preparing { ballot, .. } | Status::Leading { ballot, .. } => Some(*ballot),
        }
    }

    pub fn is_leading(&self) -> bool {
        matches!(self.status, Status::Leading { .. })
    }

    /// The first slot not known to be chosen: Phase 1 must cover it and everything after it.
    pub fn first_unchosen_slot(&self) -> Slot {
        self.chosen.below
    }

    /// The next slot this proposer has neither learned, nor been asked for, nor has in flight.
    pub fn next_free_slot(&self) -> Slot {
        let used = [
            self.chosen.last(),
            self.requests.last_slot(),
            self.in_flight.last_slot(),
        ];
        used.into_iter().flatten().max().map_or(0, |slot| slot + 1)
    }

    /// Some proposer got `slot` chosen: take it in, so that Phase 1 starts above it and this
    /// proposer never proposes there. Returns the value this proposer had been asked for in the
    /// slot, if any: that request is now answered by whatever the slot chose.
    pub fn learn(&mut self, slot: Slot) -> Option<V> {
        if !self.chosen.insert(slot) {
            return None;
        }
        self.in_flight.remove(slot);
        if let Status::Preparing { reports, .. } = &mut self.status {
            reports.remove(slot);
        }
        self.requests.remove(slot)
    }

    /// Every slot below `below` is chosen (a snapshot of them arrived): `learn` for each, in one
    /// sweep, so that installing a snapshot costs nothing per slot it covers.
    pub fn learn_below(&mut self, below: Slot) {
        self.chosen.insert_below(below);
        self.in_flight.remove_below(below);
        if let Status::Preparing { reports, .. } = &mut self.status {
            reports.remove_below(below);
        }
        self.requests.remove_below(below);
    }

    /// Phase 1 under way from a slot since learned chosen: an acceptor that keeps no acceptances
    /// below its applied log refuses such a Prepare (the replica's compaction), so ask again, at
    /// the same ballot, from the first slot not known chosen. Promises already counted stand:
    /// each covers every slot from where it was asked, so from here on too; an acceptor that
    /// promised already refuses the repeat with this very ballot, which is no preemption.
    pub fn prepare_from_first_unchosen(&mut self, config: &ProposerConfig) -> ProposerStep<V> {
        let first_unchosen = self.first_unchosen_slot();
        let Status::Preparing {
            ballot, from_slot, ..
        } = &mut self.status
        else {
            return ProposerStep::default();
        };
        if *from_slot >= first_unchosen {
            return ProposerStep::default();
        }
        *from_slot = first_unchosen;
        let message = Message::Prepare {
            ballot: *ballot,
            from_slot: first_unchosen,
        };
        ProposerStep {
            outgoing: vec![Outgoing {
                to: Recipients::All,
                message,
            }],
            timer: self.retry_timer(config),
            ..ProposerStep::default()
        }
    }

    /// Gives up the ballot under way without a retry: a node of a cluster that finds a rival
    /// ahead lets it lead. What it was asked for is the caller's to hand on.
    pub fn stand_down(&mut self) {
        self.status = Status::Idle;
        self.in_flight.clear();
        self.requests.clear();
    }

    /// After a restart, a ballot above every one this node may have used before: its own
    /// acceptor promised each of its ballots (it hears them first) and persisted that promise.
    pub fn resume_above(&mut self, seen: Option<Ballot>) {
        if let Some(seen) = seen {
            self.highest_seen_round = self.highest_seen_round.max(seen.round);
        }
    }

    /// Phase 1 at a ballot the caller names (the course's experiments name theirs).
    pub fn campaign_at(&mut self, config: &ProposerConfig, ballot: Ballot) -> ProposerStep<V> {
        self.rounds_started += 1;
        self.highest_seen_round = self.highest_seen_round.max(ballot.round);
        self.prepare(config, ballot)
    }

    fn propose(&mut self, config: &ProposerConfig, slot: Slot, value: V) -> ProposerStep<V> {
        if self.chosen.contains(slot) || self.requests.contains(slot) {
            // Chosen: its value is fixed and the caller's learner has it. Requested: already
            // under way, and its decision answers this request too.
            return ProposerStep::default();
        }
        if self.in_flight.contains(slot) {
            // Phase 1 found this slot accepted at an earlier ballot and the proposer is driving
            // that value: it may already be chosen, so it must not be replaced. The request
            // waits for the slot's decision, which answers it.
            self.requests.insert(slot, value);
            return ProposerStep::default();
        }
        self.requests.insert(slot, value.clone());
        match self.status {
            Status::Leading { .. } => self.send_phase2(config, slot, value, ValueSource::Own, true),
            Status::Preparing { .. } => ProposerStep::default(), // Phase 1 covers every slot
            Status::Idle if config.flaw == Flaw::NewLeaderSkipsPhase1 => {
                self.take_over_without_phase1(config)
            }
            Status::Idle => self.start_phase1(config),
        }
    }

    /// Whether the reply `message` from acceptor `from` would change nothing: a reply for a
    /// ballot this proposer has moved past, or one it has counted already. Ballots only grow and
    /// votes only accumulate, so a reply ignored now is ignored forever, which is what lets a
    /// caller drop it unseen. `step` applies exactly this test before it looks at a reply.
    pub fn ignores(&self, from: AcceptorIndex, message: &Message<V>) -> bool {
        match message {
            Message::Promise { ballot, .. } => !matches!(
                &self.status,
                Status::Preparing { ballot: current, promised, .. }
                    if current == ballot && !promised.contains(from)
            ),
            Message::Accepted { slot, proposal } => {
                !self.in_flight.get(*slot).is_some_and(|in_flight| {
                    in_flight.proposal == *proposal && !in_flight.votes.contains(from)
                })
            }
            // A refusal that names our own ballot answers a redelivered prepare: the acceptor
            // did promise us, so it is no sign of a rival.
            Message::PrepareRefused { ballot, promised }
            | Message::AcceptRefused {
                ballot, promised, ..
            } => self.current_ballot() != Some(*ballot) || promised <= ballot,
            Message::Prepare { .. } | Message::Accept { .. } => true,
        }
    }

    fn on_reply(
        &mut self,
        config: &ProposerConfig,
        from: AcceptorIndex,
        message: Message<V>,
    ) -> ProposerStep<V> {
        assert!(
            from < config.acceptor_count,
            "a reply from unknown acceptor {from}"
        );
        if self.ignores(from, &message) {
            return ProposerStep::default();
        }
        match message {
            Message::Promise { ballot, accepted } => {
                self.on_promise(config, from, ballot, accepted)
            }
            Message::Accepted { slot, proposal } => self.on_accepted(config, from, slot, proposal),
            Message::PrepareRefused { promised, .. } | Message::AcceptRefused { promised, .. } => {
                self.on_refused(config, promised)
            }
            Message::Prepare { .. } | Message::Accept { .. } => {
                unreachable!("requests are ignored")
            }
        }
    }

    /// A timeout with work outstanding: messages were lost or a rival interfered. The models'
    /// proposers run Phase 1 at a higher ballot (which also re-drives every slot in flight). A
    /// replica that leads sends its Accepts again instead (`resend_phase2`): a new ballot would
    /// preempt its own Accepts still in flight, and every retry would climb the ballots while
    /// nobody else competes.
    fn on_timeout(&mut self, config: &ProposerConfig) -> ProposerStep<V> {
        if self.requests.is_empty() && self.in_flight.is_empty() {
            return ProposerStep {
                timer: TimerChange::Cancel,
                ..ProposerStep::default()
            };
        }
        if config.defer_to_rival && self.is_leading() {
            return self.resend_phase2(config);
        }
        self.start_phase1(config)
    }

    /// A leader's retry: every proposal in flight again, at the same ballot, now to every
    /// acceptor, and so are later slots' (the quorum that promised may have lost a member).
    /// Safe: an acceptor may accept (b, v) whether or not it promised b, as long as it promised
    /// nothing above b, and at one ballot this proposer proposes one value per slot, so a vote
    /// resent is the same vote. A rival above the ballot refuses, which preempts the leader.
    fn resend_phase2(&mut self, config: &ProposerConfig) -> ProposerStep<V> {
        let Status::Leading { quorum, .. } = &mut self.status else {
            unreachable!("only a leader resends its Accepts");
        };
        *quorum = AcceptorSet::all(config.acceptor_count);
        let outgoing = self
            .in_flight
            .iter()
            .map(|(slot, in_flight)| Outgoing {
                to: Recipients::All,
                message: Message::Accept {
                    slot,
                    proposal: in_flight.proposal.clone(),
                },
            })
            .collect();
        ProposerStep {
            outgoing,
            timer: self.retry_timer(config),
            ..ProposerStep::default()
        }
    }

    /// A promise for the ballot in Phase 1, not counted yet (`ignores` saw to both).
    fn on_promise(
        &mut self,
        config: &ProposerConfig,
        from: AcceptorIndex,
        ballot: Ballot,
        accepted: Vec<(Slot, Proposal<V>)>,
    ) -> ProposerStep<V> {
        let Status::Preparing {
            promised, reports, ..
        } = &mut self.status
        else {
            unreachable!("only a promise for the ballot in Phase 1 gets here");
        };
        let counted = promised.insert(from);
        debug_assert!(counted, "a promise is counted once");
        for (slot, proposal) in accepted {
            if self.chosen.contains(slot) {
                continue;
            }
            let report = (from, proposal);
            if binds_rather(reports.get(slot), &report, config.flaw) {
                reports.insert(slot, report);
            }
        }
        if !promised.is_quorum(config.acceptor_count, config.flaw) {
            return ProposerStep::default();
        }
        let quorum = *promised;
        let reports = std::mem::take(reports);
        self.status = Status::Leading { ballot, quorum };
        self.phase2_after_phase1(config, &reports)
    }

    /// A new vote for the proposal in flight in `slot` (`ignores` saw to it).
    fn on_accepted(
        &mut self,
        config: &ProposerConfig,
        from: AcceptorIndex,
        slot: Slot,
        proposal: Proposal<V>,
    ) -> ProposerStep<V> {
        let in_flight = self
            .in_flight
            .get_mut(slot)
            .expect("only a vote for a slot in flight gets here");
        debug_assert!(in_flight.proposal == proposal);
        if !in_flight
            .votes
            .vote(from, config.acceptor_count, config.flaw)
        {
            return ProposerStep::default(); // counted, and no quorum yet
        }
        let in_flight = self.in_flight.remove(slot).expect("just seen");
        self.requests.remove(slot);
        let newly_chosen = self.chosen.insert(slot);
        debug_assert!(newly_chosen, "slot {slot} chosen twice at this proposer");
        let decision = Decision {
            slot,
            proposal: in_flight.proposal,
            phase1_skipped: in_flight.phase1_skipped,
            source: in_flight.source,
        };
        ProposerStep {
            decided: vec![decision],
            timer: self.retry_timer(config),
            ..ProposerStep::default()
        }
    }

    /// A refusal of the current ballot: some acceptor promised `promised`, above it (`ignores`
    /// saw to both). The proposer is preempted; it may not skip Phase 1 again until a new
    /// Phase 1 succeeds.
    fn on_refused(&mut self, config: &ProposerConfig, promised: Ballot) -> ProposerStep<V> {
        self.highest_seen_round = self.highest_seen_round.max(promised.round);
        if config.flaw == Flaw::SkipPhase1AfterPreemption && self.is_leading() {
            return self.take_over_without_phase1(config);
        }
        self.status = Status::Idle;
        self.in_flight.clear();
        if self.requests.is_empty() || config.defer_to_rival {
            return ProposerStep {
                timer: self.retry_timer(config),
                ..ProposerStep::default()
            };
        }
        self.start_phase1(config)
    }

    fn start_phase1(&mut self, config: &ProposerConfig) -> ProposerStep<V> {
        self.in_flight.clear();
        if !self.may_start_ballot(config) {
            self.status = Status::Idle;
            return ProposerStep {
                timer: TimerChange::Cancel,
                ..ProposerStep::default()
            };
        }
        let ballot = self.next_ballot(config);
        self.prepare(config, ballot)
    }

    /// Phase 1a at `ballot`, to every acceptor.
    fn prepare(&mut self, config: &ProposerConfig, ballot: Ballot) -> ProposerStep<V> {
        let from_slot = self.first_unchosen_slot();
        self.in_flight.clear();
        self.status = Status::Preparing {
            ballot,
            from_slot,
            promised: AcceptorSet::new(),
            reports: SlotMap::new(),
        };
        ProposerStep {
            outgoing: vec![Outgoing {
                to: Recipients::All,
                message: Message::Prepare { ballot, from_slot },
            }],
            timer: self.retry_timer(config),
            ..ProposerStep::default()
        }
    }

    fn next_ballot(&mut self, config: &ProposerConfig) -> Ballot {
        let ballot = next_ballot(self.highest_seen_round, config.index, config.flaw);
        self.rounds_started += 1;
        self.highest_seen_round = ballot.round;
        ballot
    }

    /// The flawed shortcut: claim a fresh ballot and go straight to Phase 2 with the proposer's
    /// own values, as if no rival could have accepted anything.
    fn take_over_without_phase1(&mut self, config: &ProposerConfig) -> ProposerStep<V> {
        debug_assert!(matches!(
            config.flaw,
            Flaw::NewLeaderSkipsPhase1 | Flaw::SkipPhase1AfterPreemption
        ));
        self.in_flight.clear();
        if !self.may_start_ballot(config) {
            self.status = Status::Idle;
            return ProposerStep {
                timer: TimerChange::Cancel,
                ..ProposerStep::default()
            };
        }
        let ballot = self.next_ballot(config);
        // No promises to go by: it sends to every acceptor and hopes.
        self.status = Status::Leading {
            ballot,
            quorum: AcceptorSet::all(config.acceptor_count),
        };
        let mut step = ProposerStep::default();
        let requests: Vec<(Slot, V)> = self
            .requests
            .iter()
            .map(|(slot, value)| (slot, value.clone()))
            .collect();
        for (slot, value) in requests {
            step.merge(self.send_phase2(config, slot, value, ValueSource::Own, true));
        }
        step.timer = self.retry_timer(config);
        step
    }

    /// Phase 2 for every slot that Phase 1 found accepted or that a client is waiting on.
    fn phase2_after_phase1(
        &mut self,
        config: &ProposerConfig,
        reports: &SlotMap<Report<V>>,
    ) -> ProposerStep<V> {
        let mut slots: Vec<Slot> = reports.slots().chain(self.requests.slots()).collect();
        slots.sort_unstable();
        slots.dedup();
        let mut step = ProposerStep::default();
        for slot in slots {
            if self.chosen.contains(slot) {
                continue;
            }
            let binding = reports.get(slot);
            let selection = match self.requests.get(slot) {
                Some(requested) => Some(rules::select_value(binding, requested, config.flaw)),
                // A slot nobody asked this proposer for: finish what an earlier ballot started,
                // since it may already be chosen. A proposer that ignores reports leaves it, and
                // so does one that counts on its replica to fill what looks like a hole.
                None if config.flaw.ignores_promises()
                    || config.flaw == Flaw::LeaderSkipsReportedSlots =>
                {
                    None
                }
                None => binding.map(|(acceptor, proposal)| {
                    let source = ValueSource::Promise {
                        acceptor: *acceptor,
                        ballot: proposal.ballot,
                    };
                    (proposal.value.clone(), source)
                }),
            };
            if let Some((value, source)) = selection {
                step.merge(self.send_phase2(config, slot, value, source, false));
            }
        }
        step.timer = self.retry_timer(config);
        step
    }

    /// Phase 2 for `slot` at the established ballot, to the acceptors that promised it.
    fn send_phase2(
        &mut self,
        config: &ProposerConfig,
        slot: Slot,
        value: V,
        source: ValueSource,
        phase1_skipped: bool,
    ) -> ProposerStep<V> {
        let Status::Leading { ballot, quorum } = self.status else {
            unreachable!("Phase 2 runs only under an established ballot");
        };
        let proposal = Proposal::new(ballot, value);
        let in_flight = InFlight {
            proposal: proposal.clone(),
            source,
            phase1_skipped,
            votes: AcceptorSet::new(),
        };
        self.in_flight.insert(slot, in_flight);
        ProposerStep {
            outgoing: vec![Outgoing {
                to: Recipients::Quorum(quorum),
                message: Message::Accept { slot, proposal },
            }],
            timer: self.retry_timer(config),
            ..ProposerStep::default()
        }
    }

    /// Whether a bound leaves this proposer another ballot.
    fn may_start_ballot(&self, config: &ProposerConfig) -> bool {
        self.rounds_started < config.rounds_max
            && next_ballot(self.highest_seen_round, config.index, config.flaw).round
                <= config.round_cap
    }

    /// The retry timer runs while there is work outstanding and a ballot left to retry with.
    fn retry_timer(&self, config: &ProposerConfig) -> TimerChange {
        let outstanding = !self.requests.is_empty() || !self.in_flight.is_empty();
        if outstanding && self.may_start_ballot(config) {
            TimerChange::Arm
        } else {
            TimerChange::Cancel
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::acceptor::Acceptor;

    fn config(index: u32, acceptor_count: usize) -> ProposerConfig {
        ProposerConfig {
            index,
            acceptor_count,
            rounds_max: 3,
            round_cap: u64::MAX,
            flaw: Flaw::None,
            defer_to_rival: false,
        }
    }

    /// A proposer and its acceptors with every message delivered at once, in order.
    struct Cluster {
        config: ProposerConfig,
        proposer: Proposer<&'static str>,
        acceptors: Vec<Acceptor<&'static str>>,
        /// Every value learned, per slot (what a learner would keep).
        log: SlotMap<&'static str>,
    }

    impl Cluster {
        fn new(acceptor_count: usize) -> Self {
            Cluster {
                config: config(0, acceptor_count),
                proposer: Proposer::new(),
                acceptors: vec![Acceptor::new(); acceptor_count],
                log: SlotMap::new(),
            }
        }

        /// Delivers a step's messages to their recipients among `reachable` acceptors and the
        /// replies back, until quiet; returns every decision.
        fn run(
            &mut self,
            step: ProposerStep<&'static str>,
            reachable: &[usize],
        ) -> Vec<Decision<&'static str>> {
            let mut decided = step.decided;
            let mut outbox = step.outgoing;
            while !outbox.is_empty() {
                let mut replies = Vec::new();
                for Outgoing { to, message } in outbox.drain(..) {
                    for &index in reachable.iter().filter(|&&index| to.includes(index)) {
                        let step = self.acceptors[index]
                            .step(message.clone(), Flaw::None)
                            .expect("proposers send requests");
                        replies.push((index, step.reply));
                    }
                }
                for (from, message) in replies {
                    let step = self
                        .proposer
                        .step(&self.config, ProposerInput::Reply { from, message });
                    decided.extend(step.decided);
                    outbox.extend(step.outgoing);
                }
            }
            for decision in &decided {
                self.log.insert(decision.slot, decision.proposal.value);
            }
            decided
        }

        fn propose(&mut self, slot: Slot, value: &'static str) -> Vec<Decision<&'static str>> {
            let step = self
                .proposer
                .step(&self.config, ProposerInput::Propose { slot, value });
            let everyone: Vec<usize> = (0..self.acceptors.len()).collect();
            self.run(step, &everyone)
        }
    }

    fn summary(decisions: &[Decision<&'static str>]) -> Vec<(Slot, &'static str, bool)> {
        decisions
            .iter()
            .map(|d| (d.slot, d.proposal.value, d.phase1_skipped))
            .collect()
    }

    fn messages<V: Clone>(step: &ProposerStep<V>) -> Vec<Message<V>> {
        step.outgoing
            .iter()
            .map(|out| out.message.clone())
            .collect()
    }

    #[test]
    fn first_slot_runs_phase1_and_later_slots_skip_it() {
        // Course 7-3-4: slot 1 needs Phase 1, slot 2 does not.
        let mut cluster = Cluster::new(1);
        assert_eq!(summary(&cluster.propose(1, "cmd1")), [(1, "cmd1", false)]);
        assert_eq!(summary(&cluster.propose(2, "cmd2")), [(2, "cmd2", true)]);
        assert_eq!(
            cluster.proposer.rounds_started, 1,
            "one Phase 1 served both slots"
        );
    }

    #[test]
    fn a_later_proposer_is_forced_to_the_chosen_value() {
        // Single-decree Paxos is slot 0: a second proposer adopts what the first got chosen.
        let mut cluster = Cluster::new(3);
        assert_eq!(summary(&cluster.propose(0, "a")), [(0, "a", false)]);
        let mut second = Proposer::new();
        let second_config = config(1, 3);
        let step = second.step(
            &second_config,
            ProposerInput::Propose {
                slot: 0,
                value: "b",
            },
        );
        let mut outbox = step.outgoing;
        let mut decided = Vec::new();
        while let Some(Outgoing { to, message }) = outbox.pop() {
            for index in (0..3).filter(|index| to.includes(*index)) {
                let reply = cluster.acceptors[index]
                    .step(message.clone(), Flaw::None)
                    .unwrap()
                    .reply;
                let step = second.step(
                    &second_config,
                    ProposerInput::Reply {
                        from: index,
                        message: reply,
                    },
                );
                decided.extend(step.decided);
                outbox.extend(step.outgoing);
            }
        }
        assert_eq!(summary(&decided), [(0, "a", false)]);
        assert!(matches!(decided[0].source, ValueSource::Promise { .. }));
    }

    #[test]
    fn proposer_waits_for_a_majority_of_promises_and_counts_each_once() {
        let mut proposer = Proposer::new();
        let config = config(0, 5);
        let step = proposer.step(
            &config,
            ProposerInput::Propose {
                slot: 0,
                value: 'a',
            },
        );
        let [Message::Prepare { ballot, .. }] = messages(&step)[..] else {
            panic!("a fresh proposer prepares")
        };
        let promise = |from| ProposerInput::Reply {
            from,
            message: Message::Promise {
                ballot,
                accepted: vec![],
            },
        };
        assert!(proposer.step(&config, promise(0)).outgoing.is_empty());
        assert!(
            proposer.step(&config, promise(0)).outgoing.is_empty(),
            "duplicates don't count"
        );
        assert!(proposer.step(&config, promise(1)).outgoing.is_empty());
        let step = proposer.step(&config, promise(2));
        assert_eq!(
            step.outgoing,
            vec![Outgoing {
                to: Recipients::Quorum([0, 1, 2].into_iter().collect()),
                message: Message::Accept {
                    slot: 0,
                    proposal: Proposal::new(ballot, 'a')
                }
            }]
        );
    }

    #[test]
    fn proposing_a_chosen_slot_asks_nothing_of_the_acceptors() {
        let mut cluster = Cluster::new(3);
        cluster.propose(1, "first");
        assert_eq!(cluster.propose(1, "second"), vec![]);
        assert_eq!(cluster.log.get(1), Some(&"first"));
    }

    #[test]
    fn preempted_proposer_loses_its_phase1_skip() {
        let mut cluster = Cluster::new(3);
        cluster.propose(1, "a");
        assert!(cluster.proposer.is_leading());
        // A rival with a higher ballot runs Phase 1 on a majority.
        let rival_ballot = Ballot::new(5, 1);
        for acceptor in &mut cluster.acceptors[..2] {
            acceptor.step(
                Message::Prepare {
                    ballot: rival_ballot,
                    from_slot: 0,
                },
                Flaw::None,
            );
        }
        // The old leader's next Accept is refused; it must run Phase 1 again, above the rival.
        let step = cluster.proposer.step(
            &cluster.config,
            ProposerInput::Propose {
                slot: 2,
                value: "b",
            },
        );
        let decided = cluster.run(step, &[0, 1, 2]);
        assert_eq!(summary(&decided), [(2, "b", false)]);
        assert!(cluster.proposer.current_ballot().unwrap() > rival_ballot);
        assert_eq!(cluster.proposer.rounds_started, 2);
    }

    #[test]
    fn refused_proposer_outbids_the_promise_it_hit_until_rounds_run_out() {
        let mut proposer = Proposer::new();
        let config = ProposerConfig {
            rounds_max: 2,
            ..config(1, 3)
        };
        proposer.step(
            &config,
            ProposerInput::Propose {
                slot: 0,
                value: 'b',
            },
        );
        let refusal = |ballot, promised| ProposerInput::Reply {
            from: 0,
            message: Message::PrepareRefused { ballot, promised },
        };
        let step = proposer.step(&config, refusal(Ballot::new(1, 1), Ballot::new(4, 0)));
        assert_eq!(
            messages(&step),
            [Message::Prepare {
                ballot: Ballot::new(5, 1),
                from_slot: 0
            }]
        );
        let step = proposer.step(&config, refusal(Ballot::new(5, 1), Ballot::new(6, 0)));
        assert_eq!(step.outgoing, vec![], "two rounds were all it had");
        assert_eq!(step.timer, TimerChange::Cancel);
        assert_eq!(proposer.status, Status::Idle);
    }

    #[test]
    fn refusal_naming_our_own_ballot_is_not_a_preemption() {
        // A duplicated prepare reaches an acceptor that already promised it: the acceptor
        // refuses with promised == ballot, which must not make the proposer abandon its ballot.
        let mut proposer = Proposer::new();
        let config = config(0, 3);
        proposer.step(
            &config,
            ProposerInput::Propose {
                slot: 0,
                value: 'a',
            },
        );
        let ballot = proposer.current_ballot().unwrap();
        let step = proposer.step(
            &config,
            ProposerInput::Reply {
                from: 1,
                message: Message::PrepareRefused {
                    ballot,
                    promised: ballot,
                },
            },
        );
        assert_eq!(step, ProposerStep::default());
        assert_eq!(proposer.current_ballot(), Some(ballot));
    }

    #[test]
    fn new_leader_adopts_values_that_promises_report() {
        let mut cluster = Cluster::new(3);
        // An old leader got "old" accepted in slot 3 at acceptors 0 and 1 only.
        let old = Ballot::new(1, 1);
        for acceptor in &mut cluster.acceptors[..2] {
            acceptor.step(
                Message::Prepare {
                    ballot: old,
                    from_slot: 0,
                },
                Flaw::None,
            );
            acceptor.step(
                Message::Accept {
                    slot: 3,
                    proposal: Proposal::new(old, "old"),
                },
                Flaw::None,
            );
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
        cluster.acceptors[2].step(
            Message::Accept {
                slot: 7,
                proposal: Proposal::new(Ballot::new(1, 2), "orphan"),
            },
            Flaw::None,
        );
        let step = cluster.proposer.step(
            &cluster.config,
            ProposerInput::Propose {
                slot: 1,
                value: "mine",
            },
        );
        let decided = cluster.run(step, &[1, 2]);
        assert_eq!(
            summary(&decided),
            [(1, "mine", false), (7, "orphan", false)]
        );
        assert!(cluster.proposer.chosen.contains(7));
    }

    #[test]
    fn a_request_for_a_slot_being_finished_keeps_the_adopted_value() {
        // Found by the checker: a new leader drives slot 1's reported value B; a client request
        // for slot 1 arriving meanwhile must not replace B, which a majority may have accepted.
        let mut cluster = Cluster::new(2);
        for acceptor in &mut cluster.acceptors {
            acceptor.step(
                Message::Accept {
                    slot: 1,
                    proposal: Proposal::new(Ballot::new(0, 1), "B"),
                },
                Flaw::None,
            );
        }
        let step = cluster.proposer.step(
            &cluster.config,
            ProposerInput::Propose {
                slot: 0,
                value: "A",
            },
        );
        let [Message::Prepare { ballot, from_slot }] = messages(&step)[..] else {
            panic!()
        };
        for index in 0..2 {
            let reply = cluster.acceptors[index]
                .step(Message::Prepare { ballot, from_slot }, Flaw::None)
                .unwrap()
                .reply;
            cluster.proposer.step(
                &cluster.config,
                ProposerInput::Reply {
                    from: index,
                    message: reply,
                },
            );
        }
        assert_eq!(
            cluster.proposer.in_flight.get(1).unwrap().proposal.value,
            "B"
        );
        let step = cluster.proposer.step(
            &cluster.config,
            ProposerInput::Propose {
                slot: 1,
                value: "C",
            },
        );
        assert_eq!(step.outgoing, vec![], "slot 1 is being finished with B");
        assert_eq!(
            cluster.proposer.in_flight.get(1).unwrap().proposal.value,
            "B"
        );
    }

    #[test]
    fn phase2_goes_only_to_the_acceptors_that_promised() {
        let mut cluster = Cluster::new(3);
        // Acceptor 0 is unreachable during Phase 1, so 1 and 2 establish the ballot.
        let step = cluster.proposer.step(
            &cluster.config,
            ProposerInput::Propose {
                slot: 0,
                value: "a",
            },
        );
        assert_eq!(summary(&cluster.run(step, &[1, 2])), [(0, "a", false)]);
        // A later slot skips Phase 1 and still goes only to them, though 0 is back.
        let step = cluster.proposer.step(
            &cluster.config,
            ProposerInput::Propose {
                slot: 1,
                value: "b",
            },
        );
        assert_eq!(
            step.outgoing[0].to,
            Recipients::Quorum([1, 2].into_iter().collect())
        );
        assert_eq!(summary(&cluster.run(step, &[0, 1, 2])), [(1, "b", true)]);
        assert_eq!(cluster.acceptors[0], Acceptor::new(), "0 heard nothing");
    }

    #[test]
    fn phase1_starts_at_the_first_unchosen_slot() {
        let mut cluster = Cluster::new(3);
        cluster.propose(0, "a");
        cluster.propose(1, "b");
        assert_eq!(cluster.proposer.first_unchosen_slot(), 2);
        cluster.proposer.status = Status::Idle; // as after a preemption
        let step = cluster.proposer.step(
            &cluster.config,
            ProposerInput::Propose {
                slot: 5,
                value: "c",
            },
        );
        assert!(matches!(
            messages(&step)[..],
            [Message::Prepare { from_slot: 2, .. }]
        ));
    }

    #[test]
    fn leader_out_of_rounds_stops_and_cancels_its_timer() {
        let mut proposer = Proposer::new();
        let config = ProposerConfig {
            rounds_max: 1,
            ..config(0, 3)
        };
        proposer.step(
            &config,
            ProposerInput::Propose {
                slot: 1,
                value: 'x',
            },
        );
        let step = proposer.step(&config, ProposerInput::Timeout);
        assert_eq!(step.outgoing, vec![]);
        assert_eq!(step.timer, TimerChange::Cancel);
        assert_eq!(proposer.status, Status::Idle);
    }

    #[test]
    fn chosen_slots_fold_into_the_prefix() {
        let mut chosen = ChosenSlots::default();
        assert!(chosen.insert(2));
        assert!(chosen.insert(0));
        assert_eq!((chosen.below, chosen.above.clone()), (1, vec![2]));
        assert!(chosen.insert(1));
        assert_eq!((chosen.below, chosen.above.clone()), (3, vec![]));
        assert!(!chosen.insert(1));
        assert_eq!(chosen.last(), Some(2));
    }
}
