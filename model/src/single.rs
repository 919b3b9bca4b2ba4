//! Single-decree Paxos: the acceptor, proposer and learner as pure state machines.
//!
//! Each role takes one input (a message, a timeout, a request to start) and returns a step: what
//! to persist, what to send, what it learned, what to do with its timer. The caller applies the
//! step in this order: persist first, then send (an acceptor's promise must survive a crash
//! before anyone can rely on it), then act on what was learned, then the timer.

use crate::ballot::{AcceptorIndex, Ballot, Proposal};
use crate::flaw::Flaw;
use crate::rules::{self, next_ballot, select_value, TimerChange, ValueSource, Votes};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The messages of single-decree Paxos, named in request/reply pairs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Message<V> {
    /// Phase 1a: "promise to ignore ballots below this one, and tell me what you accepted".
    Prepare { ballot: Ballot },
    /// Phase 1b: the promise, with the acceptor's accepted proposal if it has one.
    Promise {
        ballot: Ballot,
        accepted: Option<Proposal<V>>,
    },
    /// Phase 1b refused: the acceptor has promised a ballot at least as high.
    PrepareRefused { ballot: Ballot, promised: Ballot },
    /// Phase 2a: "accept this proposal".
    Accept { proposal: Proposal<V> },
    /// Phase 2b: the acceptor accepted the proposal.
    Accepted { proposal: Proposal<V> },
    /// Phase 2b refused: the acceptor has promised a higher ballot.
    AcceptRefused { ballot: Ballot, promised: Ballot },
}

impl<V: fmt::Display> fmt::Display for Message<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Prepare { ballot } => write!(f, "Prepare(ballot {ballot})"),
            Message::Promise {
                ballot,
                accepted: None,
            } => write!(f, "Promise(ballot {ballot}, accepted none)"),
            Message::Promise {
                ballot,
                accepted: Some(accepted),
            } => {
                write!(f, "Promise(ballot {ballot}, accepted {accepted})")
            }
            Message::PrepareRefused { ballot, promised } => {
                write!(f, "PrepareRefused(ballot {ballot}, promised {promised})")
            }
            Message::Accept { proposal } => write!(f, "Accept{proposal}"),
            Message::Accepted { proposal } => write!(f, "Accepted{proposal}"),
            Message::AcceptRefused { ballot, promised } => {
                write!(f, "AcceptRefused(ballot {ballot}, promised {promised})")
            }
        }
    }
}

/// An acceptor's whole state. All of it is durable: an acceptor that forgot a promise or an
/// acceptance after a crash could help choose a second value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Acceptor<V> {
    pub promised: Option<Ballot>,
    pub accepted: Option<Proposal<V>>,
}

/// What a single-decree acceptor did with one message.
pub type AcceptorStep<V> = rules::AcceptorStep<Acceptor<V>, Message<V>>;

impl<V: Clone + PartialEq> Acceptor<V> {
    pub fn new() -> Self {
        Acceptor {
            promised: None,
            accepted: None,
        }
    }

    /// The acceptor after a restart: exactly what it persisted, or nothing under `forget-on-crash`.
    pub fn recover(persisted: Option<&Acceptor<V>>, flaw: Flaw) -> Self {
        match persisted {
            Some(state) if flaw != Flaw::ForgetOnCrash => state.clone(),
            _ => Acceptor::new(),
        }
    }

    pub fn on_prepare(&mut self, ballot: Ballot, flaw: Flaw) -> AcceptorStep<V> {
        if !rules::may_promise(self.promised, ballot, flaw) {
            let promised = self.promised.expect("only a promise can refuse a prepare");
            return AcceptorStep {
                persist: None,
                reply: Message::PrepareRefused { ballot, promised },
            };
        }
        self.promised = Some(ballot);
        AcceptorStep {
            persist: Some(self.clone()),
            reply: Message::Promise {
                ballot,
                accepted: rules::reported_acceptance(self.accepted.as_ref(), flaw),
            },
        }
    }

    pub fn on_accept(&mut self, proposal: Proposal<V>, flaw: Flaw) -> AcceptorStep<V> {
        let ballot = proposal.ballot;
        if !rules::may_accept(self.promised, ballot, flaw) {
            let promised = self.promised.expect("only a promise can refuse an accept");
            return AcceptorStep {
                persist: None,
                reply: Message::AcceptRefused { ballot, promised },
            };
        }
        // Accepting a ballot is also promising it: nothing below may be accepted afterwards.
        let promised = self
            .promised
            .map_or(ballot, |promised| promised.max(ballot));
        let changed = self.promised != Some(promised) || self.accepted.as_ref() != Some(&proposal);
        self.promised = Some(promised);
        self.accepted = Some(proposal.clone());
        debug_assert!(flaw == Flaw::AcceptBelowPromise || self.promised == Some(ballot));
        AcceptorStep {
            persist: changed.then(|| self.clone()),
            reply: Message::Accepted { proposal },
        }
    }
}

impl<V: Clone + PartialEq> Default for Acceptor<V> {
    fn default() -> Self {
        Acceptor::new()
    }
}

/// Where a proposer is in its current ballot.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProposerPhase<V> {
    /// No ballot under way (not started, abandoned after a refusal, or out of rounds).
    Idle,
    /// Phase 1: collecting promises for `ballot`, with what each promising acceptor reported.
    Preparing {
        ballot: Ballot,
        promises: BTreeMap<AcceptorIndex, Option<Proposal<V>>>,
    },
    /// Phase 2: waiting for a quorum to accept `proposal`.
    Accepting {
        proposal: Proposal<V>,
        source: ValueSource,
        accepted: Votes,
    },
    /// A quorum accepted `proposal`: its value is chosen, and this proposer knows it.
    Learned { proposal: Proposal<V> },
}

/// A proposer that also learns the outcome of its own ballots.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Proposer<V> {
    /// This proposer's index: the tie-breaking half of every ballot it starts.
    pub index: u32,
    pub acceptor_count: usize,
    pub own_value: V,
    /// A bound on how many ballots this proposer starts, so that the model is finite.
    pub rounds_max: u32,
    pub rounds_started: u32,
    /// The highest round this proposer has heard of; its next ballot goes above it.
    pub highest_seen_round: u64,
    pub phase: ProposerPhase<V>,
}

/// What a proposer did with one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProposerStep<V> {
    /// A message for every acceptor.
    pub broadcast: Option<Message<V>>,
    /// The proposal Phase 2 just put forward, and why it carries that value.
    pub proposed: Option<(Proposal<V>, ValueSource)>,
    /// The proposal this proposer just learned was chosen.
    pub learned: Option<Proposal<V>>,
    pub timer: TimerChange,
}

impl<V> Default for ProposerStep<V> {
    fn default() -> Self {
        ProposerStep {
            broadcast: None,
            proposed: None,
            learned: None,
            timer: TimerChange::Unchanged,
        }
    }
}

impl<V: Clone + PartialEq> Proposer<V> {
    pub fn new(index: u32, acceptor_count: usize, own_value: V, rounds_max: u32) -> Self {
        assert!(acceptor_count > 0, "a proposer needs acceptors");
        Proposer {
            index,
            acceptor_count,
            own_value,
            rounds_max,
            rounds_started: 0,
            highest_seen_round: 0,
            phase: ProposerPhase::Idle,
        }
    }

    pub fn current_ballot(&self) -> Option<Ballot> {
        match &self.phase {
            ProposerPhase::Idle => None,
            ProposerPhase::Preparing { ballot, .. } => Some(*ballot),
            ProposerPhase::Accepting { proposal, .. } | ProposerPhase::Learned { proposal } => {
                Some(proposal.ballot)
            }
        }
    }

    pub fn has_learned(&self) -> bool {
        matches!(self.phase, ProposerPhase::Learned { .. })
    }

    /// Starts the next ballot (above every round seen) if rounds remain and nothing is learned yet.
    pub fn start_next_ballot(&mut self, flaw: Flaw) -> ProposerStep<V> {
        if self.has_learned() || self.rounds_started >= self.rounds_max {
            return ProposerStep {
                timer: TimerChange::Cancel,
                ..ProposerStep::default()
            };
        }
        let ballot = next_ballot(self.highest_seen_round, self.index, flaw);
        self.start_ballot(ballot)
    }

    /// Phase 1a at a given ballot (the course's scenarios name their ballots).
    pub fn start_ballot(&mut self, ballot: Ballot) -> ProposerStep<V> {
        self.rounds_started += 1;
        self.highest_seen_round = self.highest_seen_round.max(ballot.round);
        self.phase = ProposerPhase::Preparing {
            ballot,
            promises: BTreeMap::new(),
        };
        // A retry timer is only worth arming while a ballot is left to retry with.
        let timer = if self.rounds_started < self.rounds_max {
            TimerChange::Arm
        } else {
            TimerChange::Cancel
        };
        ProposerStep {
            broadcast: Some(Message::Prepare { ballot }),
            timer,
            ..ProposerStep::default()
        }
    }

    /// A timeout: the ballot under way may have lost messages or met a competitor; try a higher one.
    pub fn on_timeout(&mut self, flaw: Flaw) -> ProposerStep<V> {
        self.start_next_ballot(flaw)
    }

    pub fn on_promise(
        &mut self,
        from: AcceptorIndex,
        ballot: Ballot,
        accepted: Option<Proposal<V>>,
        flaw: Flaw,
    ) -> ProposerStep<V> {
        let ProposerPhase::Preparing {
            ballot: current,
            promises,
        } = &mut self.phase
        else {
            return ProposerStep::default();
        };
        if *current != ballot {
            return ProposerStep::default(); // a promise for an abandoned ballot
        }
        assert!(
            from < self.acceptor_count,
            "promise from unknown acceptor {from}"
        );
        promises.insert(from, accepted);
        if promises.len() < crate::ballot::quorum_size(self.acceptor_count, flaw) {
            return ProposerStep::default();
        }
        let reports = promises
            .iter()
            .map(|(acceptor, report)| (*acceptor, report.as_ref()));
        let (value, source) = select_value(reports, &self.own_value, flaw);
        let proposal = Proposal::new(ballot, value);
        self.phase = ProposerPhase::Accepting {
            proposal: proposal.clone(),
            source,
            accepted: Votes::new(),
        };
        ProposerStep {
            broadcast: Some(Message::Accept {
                proposal: proposal.clone(),
            }),
            proposed: Some((proposal, source)),
            ..ProposerStep::default()
        }
    }

    pub fn on_accepted(
        &mut self,
        from: AcceptorIndex,
        proposal: Proposal<V>,
        flaw: Flaw,
    ) -> ProposerStep<V> {
        let ProposerPhase::Accepting {
            proposal: current,
            accepted,
            ..
        } = &mut self.phase
        else {
            return ProposerStep::default();
        };
        if *current != proposal || !accepted.add(from, self.acceptor_count, flaw) {
            return ProposerStep::default();
        }
        self.phase = ProposerPhase::Learned {
            proposal: proposal.clone(),
        };
        ProposerStep {
            learned: Some(proposal),
            timer: TimerChange::Cancel,
            ..ProposerStep::default()
        }
    }

    /// A refusal of the current ballot means an acceptor promised a higher one: this ballot can no
    /// longer win, so abandon it and remember the round to outbid; retry at once if rounds remain.
    pub fn on_refused(&mut self, ballot: Ballot, promised: Ballot, flaw: Flaw) -> ProposerStep<V> {
        // A refusal that names our own ballot answers a redelivered prepare: the acceptor did
        // promise us, so it is no sign of a rival.
        if self.current_ballot() != Some(ballot) || promised <= ballot || self.has_learned() {
            return ProposerStep::default();
        }
        self.highest_seen_round = self.highest_seen_round.max(promised.round);
        self.phase = ProposerPhase::Idle;
        self.start_next_ballot(flaw)
    }
}

/// A learner: a value is chosen when a quorum of acceptors accepted the same proposal, whoever
/// proposed it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Learner<V> {
    pub acceptor_count: usize,
    pub votes: Vec<(Proposal<V>, Votes)>,
    pub chosen: Option<Proposal<V>>,
}

impl<V: Clone + PartialEq> Learner<V> {
    pub fn new(acceptor_count: usize) -> Self {
        assert!(acceptor_count > 0, "a learner needs acceptors");
        Learner {
            acceptor_count,
            votes: Vec::new(),
            chosen: None,
        }
    }

    /// Records that `from` accepted `proposal`; returns the proposal if this acceptance made it
    /// chosen. Later proposals reaching a quorum are not reported again: in correct Paxos they
    /// carry the same value.
    pub fn on_accepted(
        &mut self,
        from: AcceptorIndex,
        proposal: Proposal<V>,
        flaw: Flaw,
    ) -> Option<Proposal<V>> {
        let index = match self.votes.iter().position(|(known, _)| *known == proposal) {
            Some(index) => index,
            None => {
                self.votes.push((proposal.clone(), Votes::new()));
                self.votes.len() - 1
            }
        };
        let reached = self.votes[index].1.add(from, self.acceptor_count, flaw);
        if reached && self.chosen.is_none() {
            self.chosen = Some(proposal.clone());
            return Some(proposal);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(round: u64) -> Ballot {
        Ballot::from_course_number(round)
    }

    #[test]
    fn acceptor_promises_then_refuses_a_lower_prepare() {
        // Course 7-3-1: prepare(5) promised, prepare(3) refused with highest_promised 5.
        let mut acceptor = Acceptor::<&str>::new();
        let step = acceptor.on_prepare(b(5), Flaw::None);
        assert_eq!(
            step.reply,
            Message::Promise {
                ballot: b(5),
                accepted: None
            }
        );
        assert_eq!(
            step.persist,
            Some(Acceptor {
                promised: Some(b(5)),
                accepted: None
            })
        );
        let step = acceptor.on_prepare(b(3), Flaw::None);
        assert_eq!(
            step.reply,
            Message::PrepareRefused {
                ballot: b(3),
                promised: b(5)
            }
        );
        assert_eq!(step.persist, None, "a refusal changes nothing durable");
    }

    #[test]
    fn acceptor_accepts_at_its_promise_and_refuses_below() {
        let mut acceptor = Acceptor::new();
        acceptor.on_prepare(b(5), Flaw::None);
        let step = acceptor.on_accept(Proposal::new(b(5), "hello"), Flaw::None);
        assert_eq!(
            step.reply,
            Message::Accepted {
                proposal: Proposal::new(b(5), "hello")
            }
        );
        assert!(step.persist.is_some());
        let step = acceptor.on_accept(Proposal::new(b(3), "old"), Flaw::None);
        assert_eq!(
            step.reply,
            Message::AcceptRefused {
                ballot: b(3),
                promised: b(5)
            }
        );
        assert_eq!(acceptor.accepted, Some(Proposal::new(b(5), "hello")));
    }

    #[test]
    fn acceptor_reports_its_acceptance_in_later_promises() {
        let mut acceptor = Acceptor::new();
        acceptor.on_accept(Proposal::new(b(3), "v1"), Flaw::None);
        let step = acceptor.on_prepare(b(7), Flaw::None);
        assert_eq!(
            step.reply,
            Message::Promise {
                ballot: b(7),
                accepted: Some(Proposal::new(b(3), "v1"))
            }
        );
    }

    #[test]
    fn redelivered_accept_persists_nothing_new() {
        let mut acceptor = Acceptor::new();
        assert!(acceptor
            .on_accept(Proposal::new(b(2), 'x'), Flaw::None)
            .persist
            .is_some());
        assert!(acceptor
            .on_accept(Proposal::new(b(2), 'x'), Flaw::None)
            .persist
            .is_none());
    }

    #[test]
    fn recovery_restores_what_was_persisted_unless_forgetting() {
        let saved = Acceptor {
            promised: Some(b(4)),
            accepted: Some(Proposal::new(b(4), 'x')),
        };
        assert_eq!(Acceptor::recover(Some(&saved), Flaw::None), saved);
        assert_eq!(
            Acceptor::recover(Some(&saved), Flaw::ForgetOnCrash),
            Acceptor::new()
        );
        assert_eq!(Acceptor::<char>::recover(None, Flaw::None), Acceptor::new());
    }

    /// Runs one proposer against `acceptors`, delivering every message at once.
    fn run_ballot(
        proposer: &mut Proposer<char>,
        acceptors: &mut [Acceptor<char>],
    ) -> Option<Proposal<char>> {
        let Some(Message::Prepare { ballot }) = proposer.start_next_ballot(Flaw::None).broadcast
        else {
            panic!("a fresh proposer prepares");
        };
        let mut accept = None;
        for (index, acceptor) in acceptors.iter_mut().enumerate() {
            if let Message::Promise { ballot, accepted } =
                acceptor.on_prepare(ballot, Flaw::None).reply
            {
                accept = accept.or(proposer
                    .on_promise(index, ballot, accepted, Flaw::None)
                    .broadcast);
            }
        }
        let Some(Message::Accept { proposal }) = accept else {
            return None;
        };
        let mut learned = None;
        for (index, acceptor) in acceptors.iter_mut().enumerate() {
            if let Message::Accepted { proposal } =
                acceptor.on_accept(proposal.clone(), Flaw::None).reply
            {
                learned = learned.or(proposer.on_accepted(index, proposal, Flaw::None).learned);
            }
        }
        learned
    }

    #[test]
    fn a_later_proposer_is_forced_to_the_chosen_value() {
        let mut acceptors = vec![Acceptor::new(); 3];
        let mut first = Proposer::new(0, 3, 'a', 1);
        assert_eq!(
            run_ballot(&mut first, &mut acceptors),
            Some(Proposal::new(Ballot::new(1, 0), 'a'))
        );
        let mut second = Proposer::new(1, 3, 'b', 1);
        assert_eq!(
            run_ballot(&mut second, &mut acceptors),
            Some(Proposal::new(Ballot::new(1, 1), 'a'))
        );
    }

    #[test]
    fn proposer_waits_for_a_majority_of_promises() {
        let mut proposer = Proposer::new(0, 5, 'a', 1);
        proposer.start_next_ballot(Flaw::None);
        let ballot = proposer.current_ballot().expect("preparing");
        assert!(proposer
            .on_promise(0, ballot, None, Flaw::None)
            .broadcast
            .is_none());
        assert!(
            proposer
                .on_promise(0, ballot, None, Flaw::None)
                .broadcast
                .is_none(),
            "duplicates don't count"
        );
        assert!(proposer
            .on_promise(1, ballot, None, Flaw::None)
            .broadcast
            .is_none());
        let step = proposer.on_promise(2, ballot, None, Flaw::None);
        assert_eq!(
            step.proposed,
            Some((Proposal::new(ballot, 'a'), ValueSource::Own))
        );
    }

    #[test]
    fn refused_proposer_outbids_the_promise_it_hit_until_rounds_run_out() {
        let mut proposer = Proposer::new(1, 3, 'b', 2);
        proposer.start_next_ballot(Flaw::None);
        let step = proposer.on_refused(Ballot::new(1, 1), Ballot::new(4, 0), Flaw::None);
        assert_eq!(
            step.broadcast,
            Some(Message::Prepare {
                ballot: Ballot::new(5, 1)
            })
        );
        let step = proposer.on_refused(Ballot::new(5, 1), Ballot::new(6, 0), Flaw::None);
        assert_eq!(step.broadcast, None, "two rounds were all it had");
        assert_eq!(step.timer, TimerChange::Cancel);
        assert_eq!(proposer.phase, ProposerPhase::Idle);
    }

    #[test]
    fn refusal_naming_our_own_ballot_is_not_a_preemption() {
        // A duplicated prepare reaches an acceptor that already promised it: the acceptor refuses
        // with promised == ballot, which must not make the proposer abandon its ballot.
        let mut proposer = Proposer::new(0, 3, 'a', 2);
        proposer.start_next_ballot(Flaw::None);
        let ballot = proposer.current_ballot().unwrap();
        assert_eq!(
            proposer.on_refused(ballot, ballot, Flaw::None),
            ProposerStep::default()
        );
        assert_eq!(proposer.current_ballot(), Some(ballot));
    }

    #[test]
    fn stale_replies_are_ignored() {
        let mut proposer = Proposer::new(0, 3, 'a', 2);
        proposer.start_next_ballot(Flaw::None);
        proposer.on_refused(Ballot::new(1, 0), Ballot::new(2, 1), Flaw::None);
        assert_eq!(proposer.current_ballot(), Some(Ballot::new(3, 0)));
        let step = proposer.on_promise(0, Ballot::new(1, 0), None, Flaw::None);
        assert_eq!(step, ProposerStep::default());
        assert_eq!(
            proposer.on_refused(Ballot::new(1, 0), Ballot::new(9, 1), Flaw::None),
            ProposerStep::default()
        );
    }

    #[test]
    fn learner_needs_a_majority_for_the_same_proposal() {
        let mut learner = Learner::new(3);
        let a = Proposal::new(b(1), 'a');
        let b2 = Proposal::new(b(2), 'a');
        assert_eq!(learner.on_accepted(0, a.clone(), Flaw::None), None);
        assert_eq!(
            learner.on_accepted(1, b2.clone(), Flaw::None),
            None,
            "different ballots are different votes"
        );
        assert_eq!(
            learner.on_accepted(2, b2.clone(), Flaw::None),
            Some(b2.clone())
        );
        assert_eq!(
            learner.on_accepted(1, a, Flaw::None),
            None,
            "already chosen"
        );
        assert_eq!(learner.chosen, Some(b2));
    }
}
