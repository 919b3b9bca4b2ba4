//! The rules of Paxos, each in one place, shared by the single-decree and Multi-Paxos roles.
//!
//! Acceptors and proposers of both protocols call these functions for every decision, so a rule
//! (and the one flaw that bends it) exists exactly once.

use crate::ballot::{quorum_size, AcceptorIndex, Ballot, Proposal};
use crate::flaw::Flaw;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Phase 1b: an acceptor promises `ballot` only if it is above every ballot it has promised.
/// Strictly above, because a promise is a commitment to one proposer for one ballot; with unique
/// ballots `>=` is harmless (the `promise-equal-ballot` flaw shows it), with shared ballots it lets
/// two proposers both believe they hold a majority.
pub fn may_promise(promised: Option<Ballot>, ballot: Ballot, flaw: Flaw) -> bool {
    match promised {
        None => true,
        Some(promised) if flaw.promises_equal_ballot() => ballot >= promised,
        Some(promised) => ballot > promised,
    }
}

/// Phase 2b: an acceptor accepts `ballot` unless it promised a higher one. Equal is fine: that is
/// the very ballot it promised, whose proposer is now asking for the vote.
pub fn may_accept(promised: Option<Ballot>, ballot: Ballot, flaw: Flaw) -> bool {
    flaw == Flaw::AcceptBelowPromise || promised.is_none_or(|promised| ballot >= promised)
}

/// What a promise tells the proposer about the acceptor's past: its accepted proposal, the very
/// fact that lets a later ballot rediscover a chosen value.
pub fn reported_acceptance<V: Clone>(
    accepted: Option<&Proposal<V>>,
    flaw: Flaw,
) -> Option<Proposal<V>> {
    if flaw == Flaw::PromiseHidesAccepted {
        return None;
    }
    accepted.cloned()
}

/// Where the value a proposer sends in Phase 2 came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ValueSource {
    /// No promise in the quorum reported an acceptance: the proposer was free to pick its own.
    Own,
    /// The proposer was bound by the acceptance this acceptor reported at this ballot.
    Promise {
        acceptor: AcceptorIndex,
        ballot: Ballot,
    },
}

/// Phase 2a value selection: the value of the highest-ballot proposal reported in the quorum's
/// promises, else the proposer's own. If some value v was chosen at ballot b, every quorum holds
/// an acceptor that accepted (b, v), and by induction every acceptance above b carries v; so the
/// highest reported acceptance carries v too.
pub fn select_value<'a, V: Clone + 'a>(
    reports: impl IntoIterator<Item = (AcceptorIndex, Option<&'a Proposal<V>>)>,
    own_value: &V,
    flaw: Flaw,
) -> (V, ValueSource) {
    if matches!(
        flaw,
        Flaw::ProposerIgnoresPromises | Flaw::IgnoreSlotPromises
    ) {
        return (own_value.clone(), ValueSource::Own);
    }
    binding_report(reports, flaw).unwrap_or_else(|| (own_value.clone(), ValueSource::Own))
}

/// The reported acceptance that binds a proposer, if any: the highest ballot (the lowest under
/// the `lowest-accepted-value` flaw). Ties (one ballot, several acceptors) go to the lowest
/// acceptor index, so that the report names its source deterministically.
pub fn binding_report<'a, V: Clone + 'a>(
    reports: impl IntoIterator<Item = (AcceptorIndex, Option<&'a Proposal<V>>)>,
    flaw: Flaw,
) -> Option<(V, ValueSource)> {
    let prefer_lowest = flaw == Flaw::LowestAcceptedValue;
    let mut best: Option<(AcceptorIndex, &Proposal<V>)> = None;
    for (acceptor, report) in reports {
        let Some(proposal) = report else { continue };
        let better = match best {
            None => true,
            Some((_, current)) if prefer_lowest => proposal.ballot < current.ballot,
            Some((_, current)) => proposal.ballot > current.ballot,
        };
        if better {
            best = Some((acceptor, proposal));
        }
    }
    best.map(|(acceptor, proposal)| {
        (
            proposal.value.clone(),
            ValueSource::Promise {
                acceptor,
                ballot: proposal.ballot,
            },
        )
    })
}

/// The acceptors that voted for one proposal, and whether they form a quorum.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Votes {
    voters: BTreeSet<AcceptorIndex>,
}

impl Votes {
    pub fn new() -> Self {
        Votes {
            voters: BTreeSet::new(),
        }
    }

    /// Counts `acceptor` once, however often its vote is redelivered; returns whether the votes
    /// just reached a quorum (true exactly once).
    pub fn add(&mut self, acceptor: AcceptorIndex, acceptor_count: usize, flaw: Flaw) -> bool {
        assert!(
            acceptor < acceptor_count,
            "acceptor {acceptor} out of 0..{acceptor_count}"
        );
        let had_quorum = self.is_quorum(acceptor_count, flaw);
        self.voters.insert(acceptor);
        !had_quorum && self.is_quorum(acceptor_count, flaw)
    }

    pub fn is_quorum(&self, acceptor_count: usize, flaw: Flaw) -> bool {
        self.voters.len() >= quorum_size(acceptor_count, flaw)
    }

    pub fn voters(&self) -> &BTreeSet<AcceptorIndex> {
        &self.voters
    }
}

impl Default for Votes {
    fn default() -> Self {
        Votes::new()
    }
}

/// The ballot a proposer starts after having seen rounds up to `highest_seen_round`: the next
/// round, so that it is above every ballot the proposer knows of, tagged with the proposer's index
/// so that it is unique. The `shared-ballots` flaws drop the tag.
pub fn next_ballot(highest_seen_round: u64, proposer: u32, flaw: Flaw) -> Ballot {
    let proposer = if flaw.shares_ballots() { 0 } else { proposer };
    Ballot::new(highest_seen_round + 1, proposer)
}

/// What an acceptor did with one message, in either protocol: the state to persist (if it
/// changed) and the reply, to be applied in that order: a promise must survive a crash before
/// anyone relies on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptorStep<State, Reply> {
    pub persist: Option<State>,
    pub reply: Reply,
}

/// What an adapter must do with a role's retry timer after a step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TimerChange {
    #[default]
    Unchanged,
    /// (Re)arm the retry timer: the role waits for replies that may never come.
    Arm,
    /// Cancel it: the role has nothing left to wait for.
    Cancel,
}

#[cfg(test)]
mod tests {
    use super::*;

    const B1: Ballot = Ballot::new(1, 0);
    const B2: Ballot = Ballot::new(2, 0);
    const B3: Ballot = Ballot::new(3, 0);

    #[test]
    fn promise_needs_a_ballot_strictly_above_the_promised_one() {
        // (promised, ballot, may promise)
        let table = [
            (None, B1, true),
            (Some(B1), B2, true),
            (Some(B2), B2, false),
            (Some(B3), B2, false),
        ];
        for (promised, ballot, expected) in table {
            assert_eq!(
                may_promise(promised, ballot, Flaw::None),
                expected,
                "{promised:?} vs {ballot}"
            );
        }
        assert!(may_promise(Some(B2), B2, Flaw::PromiseEqualBallot));
        assert!(!may_promise(Some(B3), B2, Flaw::PromiseEqualBallot));
    }

    #[test]
    fn accept_needs_a_ballot_at_least_the_promised_one() {
        let table = [
            (None, B1, true),
            (Some(B1), B2, true),
            (Some(B2), B2, true),
            (Some(B3), B2, false),
        ];
        for (promised, ballot, expected) in table {
            assert_eq!(
                may_accept(promised, ballot, Flaw::None),
                expected,
                "{promised:?} vs {ballot}"
            );
        }
        assert!(may_accept(Some(B3), B2, Flaw::AcceptBelowPromise));
    }

    #[test]
    fn value_selection_takes_the_highest_reported_ballot() {
        let a = Proposal::new(B1, 'a');
        let b = Proposal::new(B3, 'b');
        let c = Proposal::new(B2, 'c');
        let reports = || [(0, Some(&a)), (1, None), (2, Some(&b)), (3, Some(&c))];
        assert_eq!(
            select_value(reports(), &'z', Flaw::None),
            (
                'b',
                ValueSource::Promise {
                    acceptor: 2,
                    ballot: B3
                }
            )
        );
        assert_eq!(
            select_value([(0, None), (1, None)], &'z', Flaw::None),
            ('z', ValueSource::Own)
        );
        assert_eq!(
            select_value(reports(), &'z', Flaw::LowestAcceptedValue),
            (
                'a',
                ValueSource::Promise {
                    acceptor: 0,
                    ballot: B1
                }
            )
        );
        assert_eq!(
            select_value(reports(), &'z', Flaw::ProposerIgnoresPromises),
            ('z', ValueSource::Own)
        );
    }

    #[test]
    fn value_selection_breaks_ties_towards_the_lowest_acceptor() {
        let v = Proposal::new(B2, 'v');
        let reports = [(1, Some(&v)), (2, Some(&v)), (4, Some(&v))];
        assert_eq!(
            select_value(reports, &'z', Flaw::None),
            (
                'v',
                ValueSource::Promise {
                    acceptor: 1,
                    ballot: B2
                }
            )
        );
    }

    #[test]
    fn promise_hides_accepted_flaw_drops_the_report() {
        let v = Proposal::new(B2, 'v');
        assert_eq!(reported_acceptance(Some(&v), Flaw::None), Some(v.clone()));
        assert_eq!(
            reported_acceptance(Some(&v), Flaw::PromiseHidesAccepted),
            None
        );
    }

    #[test]
    fn votes_reach_quorum_once_and_ignore_redelivery() {
        let mut votes = Votes::new();
        assert!(!votes.add(0, 3, Flaw::None));
        assert!(
            !votes.add(0, 3, Flaw::None),
            "a duplicate vote must not count twice"
        );
        assert!(votes.add(2, 3, Flaw::None));
        assert!(
            !votes.add(1, 3, Flaw::None),
            "the quorum is reported only once"
        );
        assert!(votes.is_quorum(3, Flaw::None));
    }

    #[test]
    fn next_ballot_is_above_everything_seen_and_unique_per_proposer() {
        assert_eq!(next_ballot(0, 1, Flaw::None), Ballot::new(1, 1));
        assert_eq!(next_ballot(4, 2, Flaw::None), Ballot::new(5, 2));
        assert_eq!(next_ballot(4, 2, Flaw::SharedBallots), Ballot::new(5, 0));
    }
}
