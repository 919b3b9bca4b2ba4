//! What was chosen, by Lamport's definition: a proposal is chosen in a slot once a majority of
//! acceptors has accepted it, whether or not anybody noticed. Acceptors overwrite what they
//! accepted, so this is judged from a record of every acceptance ever made: per (slot,
//! proposal), the set of acceptors that accepted it.
//!
//! One tracker serves everything that must know the truth independently of what any learner
//! learned: the model's ghost history (agreement, immutability), the course's `paxos_chosen`
//! and invariant check, and the cluster simulator.

use crate::protocol::ballot::{majority, AcceptorIndex, Proposal};
use crate::protocol::quorum::AcceptorSet;
use crate::protocol::slots::Slot;
use serde::{Deserialize, Serialize};

/// The acceptors that accepted one proposal in one slot.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tally<V> {
    pub slot: Slot,
    pub proposal: Proposal<V>,
    pub acceptors: AcceptorSet,
}

/// Every acceptance, as tallies sorted by slot and ballot. (Two values at one ballot, which only
/// a flaw that shares ballots produces, keep the order they were first accepted in.)
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChosenTracker<V> {
    acceptor_count: usize,
    tallies: Vec<Tally<V>>,
}

impl<V: Clone + PartialEq> ChosenTracker<V> {
    pub fn new(acceptor_count: usize) -> Self {
        assert!(acceptor_count > 0, "Paxos needs an acceptor");
        ChosenTracker {
            acceptor_count,
            tallies: Vec::new(),
        }
    }

    pub fn acceptor_count(&self) -> usize {
        self.acceptor_count
    }

    fn position(&self, slot: Slot, proposal: &Proposal<V>) -> Result<usize, usize> {
        let key = (slot, proposal.ballot);
        let start = self
            .tallies
            .partition_point(|tally| (tally.slot, tally.proposal.ballot) < key);
        let same_ballot = self.tallies[start..]
            .iter()
            .take_while(|tally| (tally.slot, tally.proposal.ballot) == key);
        let mut end = start;
        for tally in same_ballot {
            if tally.proposal.value == proposal.value {
                return Ok(end);
            }
            end += 1;
        }
        Err(end)
    }

    /// Records that `acceptor` accepted `proposal` in `slot`; false if that was known.
    pub fn record(&mut self, slot: Slot, proposal: &Proposal<V>, acceptor: AcceptorIndex) -> bool {
        assert!(
            acceptor < self.acceptor_count,
            "acceptor {acceptor} of 0..{}",
            self.acceptor_count
        );
        match self.position(slot, proposal) {
            Ok(index) => self.tallies[index].acceptors.insert(acceptor),
            Err(index) => {
                let mut acceptors = AcceptorSet::new();
                acceptors.insert(acceptor);
                let tally = Tally {
                    slot,
                    proposal: proposal.clone(),
                    acceptors,
                };
                self.tallies.insert(index, tally);
                true
            }
        }
    }

    /// The tracker with `acceptor` recording `proposal`, or `None` if it holds that already.
    pub fn with(
        &self,
        slot: Slot,
        proposal: &Proposal<V>,
        acceptor: AcceptorIndex,
    ) -> Option<Self> {
        if self
            .position(slot, proposal)
            .is_ok_and(|index| self.tallies[index].acceptors.contains(acceptor))
        {
            return None;
        }
        let mut next = self.clone();
        next.record(slot, proposal, acceptor);
        Some(next)
    }

    /// Every tally, in (slot, ballot) order.
    pub fn tallies(&self) -> &[Tally<V>] {
        &self.tallies
    }

    /// Every accepted (slot, proposal), whoever accepted it.
    pub fn accepted(&self) -> impl Iterator<Item = (Slot, &Proposal<V>)> {
        self.tallies
            .iter()
            .map(|tally| (tally.slot, &tally.proposal))
    }

    /// The chosen proposals, in (slot, ballot) order: those a majority accepted.
    pub fn chosen(&self) -> impl Iterator<Item = (Slot, &Proposal<V>)> {
        let majority = majority(self.acceptor_count);
        self.tallies
            .iter()
            .filter(move |tally| tally.acceptors.len() >= majority)
            .map(|tally| (tally.slot, &tally.proposal))
    }

    /// The first proposal chosen in `slot`: the one of the lowest ballot.
    pub fn chosen_in(&self, slot: Slot) -> Option<&Proposal<V>> {
        self.chosen()
            .find(|(chosen_slot, _)| *chosen_slot == slot)
            .map(|(_, proposal)| proposal)
    }

    /// Agreement: in every slot, every chosen proposal carries one value. The first slot where
    /// it fails, if any.
    pub fn disagreement(&self) -> Option<Slot> {
        let mut chosen = self.chosen().peekable();
        while let Some((slot, proposal)) = chosen.next() {
            if let Some((next_slot, next)) = chosen.peek() {
                if *next_slot == slot && next.value != proposal.value {
                    return Some(slot);
                }
            }
        }
        None
    }

    /// Immutability (Lamport's P2a): once (b, v) is chosen in a slot, every acceptance in that
    /// slot at a ballot above b carries v. True when it holds in every slot.
    pub fn immutable(&self) -> bool {
        self.chosen().all(|(slot, chosen)| {
            self.accepted().all(|(accepted_slot, accepted)| {
                accepted_slot != slot
                    || accepted.ballot <= chosen.ballot
                    || accepted.value == chosen.value
            })
        })
    }

    /// Whether any accepted (slot, proposal) has a later-ballot acceptance of the same value in
    /// the same slot after being chosen: the safety mechanism at work.
    pub fn reproposed_after_chosen(&self) -> bool {
        self.chosen().any(|(slot, chosen)| {
            self.accepted().any(|(accepted_slot, accepted)| {
                accepted_slot == slot
                    && accepted.ballot > chosen.ballot
                    && accepted.value == chosen.value
            })
        })
    }

    /// The tallies that reached a majority since `before` (an earlier record of the same run):
    /// what a step chose, for narration.
    pub fn newly_chosen<'a>(&'a self, before: &'a Self) -> impl Iterator<Item = &'a Tally<V>> {
        let majority = majority(self.acceptor_count);
        self.tallies
            .iter()
            .filter(move |tally| tally.acceptors.len() >= majority)
            .filter(move |tally| {
                !before
                    .chosen()
                    .any(|(slot, proposal)| slot == tally.slot && *proposal == tally.proposal)
            })
    }

    /// Leadership passed on: a slot was chosen at one proposer's ballot, and a later slot at
    /// another proposer's higher ballot.
    pub fn leadership_passed(&self) -> bool {
        let chosen: Vec<(Slot, &Proposal<V>)> = self.chosen().collect();
        chosen.iter().any(|(slot, proposal)| {
            chosen.iter().any(|(later_slot, later)| {
                later_slot > slot
                    && later.ballot > proposal.ballot
                    && later.ballot.proposer != proposal.ballot.proposer
            })
        })
    }

    /// The same record after renaming every acceptor by `rename` (a model's symmetry).
    pub fn renamed(&self, rename: impl Fn(AcceptorIndex) -> AcceptorIndex) -> Self {
        // Every field named: one added later must be renamed, or hashed, on purpose.
        let ChosenTracker {
            acceptor_count,
            tallies,
        } = self;
        let tallies = tallies
            .iter()
            .map(|tally| {
                let Tally {
                    slot,
                    proposal,
                    acceptors,
                } = tally;
                Tally {
                    slot: *slot,
                    proposal: proposal.clone(),
                    acceptors: acceptors.renamed(&rename),
                }
            })
            .collect();
        ChosenTracker {
            acceptor_count: *acceptor_count,
            tallies,
        }
    }

    /// Hashes `renamed(rename)` without building it.
    pub fn hash_renamed<H: std::hash::Hasher>(
        &self,
        rename: impl Fn(AcceptorIndex) -> AcceptorIndex,
        state: &mut H,
    ) where
        V: std::hash::Hash,
    {
        use std::hash::Hash;
        let ChosenTracker {
            acceptor_count,
            tallies,
        } = self;
        acceptor_count.hash(state);
        tallies.len().hash(state);
        for Tally {
            slot,
            proposal,
            acceptors,
        } in tallies
        {
            slot.hash(state);
            proposal.hash(state);
            acceptors.renamed(&rename).hash(state);
        }
    }

    /// Which proposals `acceptor` accepted, in order: what the record says about one acceptor.
    pub fn accepted_by(
        &self,
        acceptor: AcceptorIndex,
    ) -> impl Iterator<Item = (Slot, &Proposal<V>)> {
        self.tallies
            .iter()
            .filter(move |tally| tally.acceptors.contains(acceptor))
            .map(|tally| (tally.slot, &tally.proposal))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ballot::Ballot;

    #[test]
    fn chosen_means_a_majority_accepted_the_same_proposal() {
        let a = Proposal::new(Ballot::new(1, 0), 'a');
        let b = Proposal::new(Ballot::new(2, 1), 'a');
        let mut tracker = ChosenTracker::new(3);
        assert!(tracker.record(0, &a, 0));
        assert!(tracker.record(0, &b, 1));
        assert!(tracker.record(0, &b, 2));
        assert!(!tracker.record(0, &b, 2), "a redelivered vote counts once");
        assert_eq!(tracker.chosen().collect::<Vec<_>>(), [(0, &b)]);
        assert_eq!(tracker.chosen_in(0), Some(&b));
        assert_eq!(tracker.disagreement(), None);
        assert!(tracker.immutable());
        let mut five = ChosenTracker::new(5);
        five.record(0, &b, 1);
        five.record(0, &b, 2);
        assert_eq!(five.chosen().count(), 0, "two of five is no majority");
    }

    #[test]
    fn slots_are_separate_instances() {
        let a = Proposal::new(Ballot::new(1, 0), 'a');
        let mut tracker = ChosenTracker::new(3);
        tracker.record(0, &a, 0);
        tracker.record(1, &a, 1);
        assert_eq!(tracker.chosen().count(), 0);
    }

    #[test]
    fn two_values_chosen_in_a_slot_break_agreement_and_immutability() {
        let a = Proposal::new(Ballot::new(1, 0), 'a');
        let b = Proposal::new(Ballot::new(2, 1), 'b');
        let mut tracker = ChosenTracker::new(3);
        for acceptor in [0, 1] {
            tracker.record(4, &a, acceptor);
        }
        assert!(tracker.immutable());
        tracker.record(4, &b, 2);
        assert!(
            !tracker.immutable(),
            "b above a's chosen ballot with another value"
        );
        tracker.record(4, &b, 1);
        assert_eq!(tracker.disagreement(), Some(4));
    }
}
