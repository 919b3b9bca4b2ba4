//! Sets of acceptors, and when they are a quorum.
//!
//! Every count in Paxos is a count of distinct acceptors: the promises that establish a ballot,
//! the votes that choose a proposal. A set, not a tally, because a message may be delivered twice
//! and a vote must still count once. Acceptors are numbered `0..acceptor_count` and a set is a
//! 64-bit mask, which bounds a cluster at 64 acceptors (`ACCEPTORS_MAX`); the node refuses larger
//! memberships.

use crate::protocol::ballot::{quorum_size, AcceptorIndex};
use crate::protocol::flaw::Flaw;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The most acceptors a set can hold.
pub const ACCEPTORS_MAX: usize = 64;

/// A set of acceptors.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AcceptorSet(u64);

impl AcceptorSet {
    pub const fn new() -> Self {
        AcceptorSet(0)
    }

    /// Acceptors `0..count`.
    pub fn all(count: usize) -> Self {
        assert!(count <= ACCEPTORS_MAX, "at most {ACCEPTORS_MAX} acceptors");
        if count == ACCEPTORS_MAX {
            AcceptorSet(u64::MAX)
        } else {
            AcceptorSet((1u64 << count) - 1)
        }
    }

    /// Adds `acceptor`; false if it was in the set already.
    pub fn insert(&mut self, acceptor: AcceptorIndex) -> bool {
        assert!(
            acceptor < ACCEPTORS_MAX,
            "acceptor {acceptor} is beyond the {ACCEPTORS_MAX} a set holds"
        );
        let bit = 1u64 << acceptor;
        let added = self.0 & bit == 0;
        self.0 |= bit;
        added
    }

    pub fn contains(&self, acceptor: AcceptorIndex) -> bool {
        acceptor < ACCEPTORS_MAX && self.0 & (1u64 << acceptor) != 0
    }

    pub fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The members, lowest first.
    pub fn iter(&self) -> impl Iterator<Item = AcceptorIndex> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let lowest = bits.trailing_zeros() as AcceptorIndex;
            bits &= bits - 1;
            Some(lowest)
        })
    }

    /// Whether the set is a quorum of `acceptor_count` acceptors: a strict majority (fewer under
    /// the `minority-quorum` flaw).
    pub fn is_quorum(&self, acceptor_count: usize, flaw: Flaw) -> bool {
        self.len() >= quorum_size(acceptor_count, flaw)
    }

    /// Counts `acceptor`'s vote once, however often it is redelivered; true exactly when this
    /// vote made the set a quorum.
    pub fn vote(&mut self, acceptor: AcceptorIndex, acceptor_count: usize, flaw: Flaw) -> bool {
        assert!(
            acceptor < acceptor_count,
            "vote from acceptor {acceptor} of 0..{acceptor_count}"
        );
        let had_quorum = self.is_quorum(acceptor_count, flaw);
        self.insert(acceptor);
        !had_quorum && self.is_quorum(acceptor_count, flaw)
    }

    /// The same set after renaming every acceptor by `rename` (a model's symmetry).
    pub fn renamed(&self, rename: impl Fn(AcceptorIndex) -> AcceptorIndex) -> AcceptorSet {
        let mut renamed = AcceptorSet::new();
        for acceptor in self.iter() {
            renamed.insert(rename(acceptor));
        }
        renamed
    }
}

impl FromIterator<AcceptorIndex> for AcceptorSet {
    fn from_iter<I: IntoIterator<Item = AcceptorIndex>>(iter: I) -> Self {
        let mut set = AcceptorSet::new();
        for acceptor in iter {
            set.insert(acceptor);
        }
        set
    }
}

impl fmt::Debug for AcceptorSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn votes_reach_quorum_once_and_ignore_redelivery() {
        let mut votes = AcceptorSet::new();
        assert!(!votes.vote(0, 3, Flaw::None));
        assert!(
            !votes.vote(0, 3, Flaw::None),
            "a duplicate vote must not count twice"
        );
        assert!(votes.vote(2, 3, Flaw::None));
        assert!(
            !votes.vote(1, 3, Flaw::None),
            "the quorum is reported only once"
        );
        assert!(votes.is_quorum(3, Flaw::None));
        assert_eq!(votes.iter().collect::<Vec<_>>(), [0, 1, 2]);
    }

    #[test]
    fn a_minority_quorum_is_reached_by_fewer_votes() {
        let mut votes = AcceptorSet::new();
        assert!(votes.vote(1, 3, Flaw::MinorityQuorum));
    }

    #[test]
    fn sets_hold_up_to_64_acceptors() {
        assert_eq!(AcceptorSet::all(64).len(), 64);
        assert_eq!(AcceptorSet::all(3), [0, 1, 2].into_iter().collect());
        let renamed = AcceptorSet::from_iter([0, 2]).renamed(|a| 2 - a);
        assert_eq!(renamed, AcceptorSet::from_iter([0, 2]));
        assert!(!AcceptorSet::new().contains(70));
    }
}
