//! Ballots, proposals and quorums: the vocabulary every Paxos role speaks.
//!
//! A ballot (Lamport's "proposal number") must be totally ordered and unique per proposer, so it
//! is the pair (round, proposer) compared lexicographically. The course's integer `proposal_n`
//! is the ballot `(n, 0)`: a client that names its own numbers is one proposer.

use crate::protocol::flaw::Flaw;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Index of an acceptor among `0..acceptor_count`. Adapters map their own names onto it.
pub type AcceptorIndex = usize;

/// A proposal number: rounds order ballots, the proposer index breaks ties so that no two
/// proposers ever share one.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Ballot {
    pub round: u64,
    pub proposer: u32,
}

impl Ballot {
    pub const fn new(round: u64, proposer: u32) -> Self {
        Ballot { round, proposer }
    }

    /// The ballot that the course's integer `proposal_n` stands for.
    pub const fn from_course_number(proposal_n: u64) -> Self {
        Ballot::new(proposal_n, 0)
    }

    /// The ballot as `round.{role}{n}`: `2.p1` for proposer p1, `2.n1` for node n1.
    pub fn named(&self, role: char) -> String {
        format!("{}.{role}{}", self.round, self.proposer + 1)
    }
}

impl fmt::Display for Ballot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.named('p'))
    }
}

/// A value put forward at a ballot. Once a majority of acceptors has accepted the same proposal,
/// its value is chosen.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Proposal<V> {
    pub ballot: Ballot,
    pub value: V,
}

impl<V> Proposal<V> {
    pub fn new(ballot: Ballot, value: V) -> Self {
        Proposal { ballot, value }
    }
}

impl<V: fmt::Display> fmt::Display for Proposal<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {})", self.ballot, self.value)
    }
}

/// A strict majority of `acceptor_count`: any two such sets intersect, which is the whole reason
/// a later ballot cannot miss a value an earlier ballot got chosen.
pub const fn majority(acceptor_count: usize) -> usize {
    acceptor_count / 2 + 1
}

/// How many acceptors a proposer waits for, and a learner counts, before acting. Correct Paxos
/// uses a strict majority; the `minority-quorum` flaw uses floor(n/2), and then two "quorums"
/// need not intersect.
pub fn quorum_size(acceptor_count: usize, flaw: Flaw) -> usize {
    assert!(
        acceptor_count > 0,
        "a Paxos instance needs at least one acceptor"
    );
    match flaw {
        Flaw::MinorityQuorum => (acceptor_count / 2).max(1),
        _ => majority(acceptor_count),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ballots_order_by_round_then_proposer() {
        assert!(Ballot::new(1, 1) < Ballot::new(2, 0));
        assert!(Ballot::new(2, 0) < Ballot::new(2, 1));
        assert_eq!(Ballot::from_course_number(5), Ballot::new(5, 0));
        assert_eq!(Ballot::new(1, 0).to_string(), "1.p1");
    }

    #[test]
    fn quorum_is_a_strict_majority() {
        // (acceptors, quorum) as Lamport defines it: more than half.
        for (acceptors, quorum) in [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (7, 4)] {
            assert_eq!(
                quorum_size(acceptors, Flaw::None),
                quorum,
                "{acceptors} acceptors"
            );
            assert!(
                2 * quorum > acceptors,
                "two quorums of {acceptors} must intersect"
            );
        }
    }

    #[test]
    fn minority_quorum_flaw_lets_two_quorums_miss_each_other() {
        assert_eq!(quorum_size(3, Flaw::MinorityQuorum), 1);
        assert_eq!(quorum_size(4, Flaw::MinorityQuorum), 2);
        assert!(2 * quorum_size(4, Flaw::MinorityQuorum) <= 4);
    }
}
