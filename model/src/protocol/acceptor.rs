//! The acceptor: one promise for every slot (ballots are shared by all slots) and one acceptance
//! per slot. Single-decree Paxos is the one-slot case. All of an acceptor's state is durable: an
//! acceptor that forgot a promise or an acceptance after a crash could help choose a second value.
//!
//! A step returns the change to make durable and the reply, to be applied in that order: a
//! promise must survive a crash before anyone can rely on it.

use crate::protocol::ballot::{Ballot, Proposal};
use crate::protocol::flaw::Flaw;
use crate::protocol::message::Message;
use crate::protocol::rules;
use crate::protocol::slots::{Slot, SlotMap};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Acceptor<V> {
    pub promised: Option<Ballot>,
    pub accepted: SlotMap<Proposal<V>>,
}

/// A change to an acceptor's durable state: what a step asks its caller to persist before the
/// reply leaves. Replaying an acceptor's changes in order rebuilds its state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Change<V> {
    /// It promised `ballot`.
    Promised(Ballot),
    /// It accepted `proposal` in `slot` (which also promises the proposal's ballot).
    Accepted { slot: Slot, proposal: Proposal<V> },
}

/// What an acceptor did with one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptorStep<V> {
    pub change: Option<Change<V>>,
    pub reply: Message<V>,
}

impl<V> Default for Acceptor<V> {
    fn default() -> Self {
        Acceptor {
            promised: None,
            accepted: SlotMap::new(),
        }
    }
}

impl<V: Clone + PartialEq> Acceptor<V> {
    pub fn new() -> Self {
        Acceptor::default()
    }

    /// The acceptor after a restart: exactly what it persisted, or nothing under
    /// `forget-on-crash`.
    pub fn recover(persisted: Option<&Acceptor<V>>, flaw: Flaw) -> Self {
        match persisted {
            Some(state) if flaw != Flaw::ForgetOnCrash => state.clone(),
            _ => Acceptor::new(),
        }
    }

    /// Replays one persisted change.
    pub fn apply(&mut self, change: &Change<V>) {
        match change {
            Change::Promised(ballot) => self.promised = self.promised.max(Some(*ballot)),
            Change::Accepted { slot, proposal } => {
                self.promised = self.promised.max(Some(proposal.ballot));
                self.accepted.insert(*slot, proposal.clone());
            }
        }
    }

    /// A request from a proposer; replies go back to it. (Replies are not for acceptors.)
    pub fn step(&mut self, message: Message<V>, flaw: Flaw) -> Option<AcceptorStep<V>> {
        match message {
            Message::Prepare { ballot, from_slot } => {
                Some(self.on_prepare(ballot, from_slot, flaw))
            }
            Message::Accept { slot, proposal } => Some(self.on_accept(slot, proposal, flaw)),
            _ => None,
        }
    }

    fn on_prepare(&mut self, ballot: Ballot, from_slot: Slot, flaw: Flaw) -> AcceptorStep<V> {
        if !rules::may_promise(self.promised, ballot, flaw) {
            let promised = self.promised.expect("only a promise can refuse a prepare");
            return AcceptorStep {
                change: None,
                reply: Message::PrepareRefused { ballot, promised },
            };
        }
        self.promised = Some(ballot);
        let accepted = self
            .accepted
            .from_slot(from_slot)
            .filter_map(|(slot, proposal)| {
                Some((slot, rules::reported_acceptance(Some(proposal), flaw)?))
            })
            .collect();
        AcceptorStep {
            change: Some(Change::Promised(ballot)),
            reply: Message::Promise { ballot, accepted },
        }
    }

    fn on_accept(&mut self, slot: Slot, proposal: Proposal<V>, flaw: Flaw) -> AcceptorStep<V> {
        let ballot = proposal.ballot;
        if !rules::may_accept(self.promised, ballot, flaw) {
            let promised = self.promised.expect("only a promise can refuse an accept");
            return AcceptorStep {
                change: None,
                reply: Message::AcceptRefused {
                    slot,
                    ballot,
                    promised,
                },
            };
        }
        // Accepting a ballot is also promising it: nothing below may be accepted afterwards.
        let promised = self
            .promised
            .map_or(ballot, |promised| promised.max(ballot));
        let changed = self.promised != Some(promised) || self.accepted.get(slot) != Some(&proposal);
        self.promised = Some(promised);
        self.accepted.insert(slot, proposal.clone());
        debug_assert!(flaw == Flaw::AcceptBelowPromise || self.promised == Some(ballot));
        let change = changed.then(|| Change::Accepted {
            slot,
            proposal: proposal.clone(),
        });
        AcceptorStep {
            change,
            reply: Message::Accepted { slot, proposal },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(round: u64) -> Ballot {
        Ballot::from_course_number(round)
    }

    fn prepare(acceptor: &mut Acceptor<&'static str>, round: u64) -> AcceptorStep<&'static str> {
        acceptor
            .step(
                Message::Prepare {
                    ballot: b(round),
                    from_slot: 0,
                },
                Flaw::None,
            )
            .expect("a request")
    }

    fn accept(
        acceptor: &mut Acceptor<&'static str>,
        slot: Slot,
        round: u64,
        value: &'static str,
    ) -> AcceptorStep<&'static str> {
        let proposal = Proposal::new(b(round), value);
        acceptor
            .step(Message::Accept { slot, proposal }, Flaw::None)
            .expect("a request")
    }

    #[test]
    fn acceptor_promises_then_refuses_a_lower_prepare() {
        // Course 7-3-1: prepare(5) promised, prepare(3) refused with highest_promised 5.
        let mut acceptor = Acceptor::new();
        let step = prepare(&mut acceptor, 5);
        assert_eq!(
            step.reply,
            Message::Promise {
                ballot: b(5),
                accepted: vec![]
            }
        );
        assert_eq!(step.change, Some(Change::Promised(b(5))));
        let step = prepare(&mut acceptor, 3);
        assert_eq!(
            step.reply,
            Message::PrepareRefused {
                ballot: b(3),
                promised: b(5)
            }
        );
        assert_eq!(step.change, None, "a refusal changes nothing durable");
    }

    #[test]
    fn acceptor_accepts_at_its_promise_and_refuses_below() {
        let mut acceptor = Acceptor::new();
        prepare(&mut acceptor, 5);
        let step = accept(&mut acceptor, 0, 5, "hello");
        assert!(matches!(step.reply, Message::Accepted { slot: 0, .. }));
        assert!(step.change.is_some());
        let step = accept(&mut acceptor, 0, 3, "old");
        assert_eq!(
            step.reply,
            Message::AcceptRefused {
                slot: 0,
                ballot: b(3),
                promised: b(5)
            }
        );
        assert_eq!(
            acceptor.accepted.get(0),
            Some(&Proposal::new(b(5), "hello"))
        );
    }

    #[test]
    fn acceptor_reports_its_acceptances_from_the_prepared_slot_on() {
        let mut acceptor = Acceptor::new();
        accept(&mut acceptor, 1, 1, "a");
        accept(&mut acceptor, 4, 1, "b");
        let step = acceptor
            .step(
                Message::Prepare {
                    ballot: b(7),
                    from_slot: 3,
                },
                Flaw::None,
            )
            .unwrap();
        assert_eq!(
            step.reply,
            Message::Promise {
                ballot: b(7),
                accepted: vec![(4, Proposal::new(b(1), "b"))]
            }
        );
    }

    #[test]
    fn redelivered_accept_persists_nothing_new() {
        let mut acceptor = Acceptor::new();
        assert!(accept(&mut acceptor, 0, 2, "x").change.is_some());
        assert!(accept(&mut acceptor, 0, 2, "x").change.is_none());
    }

    #[test]
    fn replaying_the_changes_rebuilds_the_acceptor() {
        let mut acceptor = Acceptor::new();
        let mut changes = Vec::new();
        changes.extend(prepare(&mut acceptor, 2).change);
        changes.extend(accept(&mut acceptor, 0, 2, "x").change);
        changes.extend(prepare(&mut acceptor, 6).change);
        changes.extend(accept(&mut acceptor, 3, 7, "y").change);
        let mut rebuilt = Acceptor::new();
        for change in &changes {
            rebuilt.apply(change);
        }
        assert_eq!(rebuilt, acceptor);
    }

    #[test]
    fn recovery_restores_what_was_persisted_unless_forgetting() {
        let mut saved = Acceptor::new();
        accept(&mut saved, 0, 4, "x");
        assert_eq!(Acceptor::recover(Some(&saved), Flaw::None), saved);
        assert_eq!(
            Acceptor::recover(Some(&saved), Flaw::ForgetOnCrash),
            Acceptor::new()
        );
    }
}
