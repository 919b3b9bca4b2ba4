//! The rules of Paxos, each in one place.
//!
//! The acceptor and the proposer call these functions for every decision, in every slot, in the
//! node and in the models alike; so a rule (and the one flaw that bends it) exists exactly once.

use crate::protocol::ballot::{AcceptorIndex, Ballot, Proposal};
use crate::protocol::flaw::Flaw;
use crate::protocol::message::Message;
use serde::{Deserialize, Serialize};

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

/// A request that can no longer matter: the acceptor, having promised `promised`, will refuse
/// it (its ballot is below the promise, or equal, for a Prepare), and its proposer, now at
/// `sender_ballot`, has moved past that ballot and will ignore the refusal. Promises only grow
/// (an acceptor persists them before it answers) and so do a proposer's ballots, so such a
/// request stays dead: a model may drop it rather than deliver it. Not under `forget-on-crash`,
/// where a recovered acceptor's promise shrinks.
pub fn request_is_dead<V>(
    request: &Message<V>,
    promised: Option<Ballot>,
    sender_ballot: Option<Ballot>,
    flaw: Flaw,
) -> bool {
    if flaw == Flaw::ForgetOnCrash {
        return false;
    }
    let (ballot, refused) = match request {
        Message::Prepare { ballot, .. } => (*ballot, !may_promise(promised, *ballot, flaw)),
        Message::Accept { proposal, .. } => (
            proposal.ballot,
            !may_accept(promised, proposal.ballot, flaw),
        ),
        _ => return false,
    };
    refused && sender_ballot.is_none_or(|current| current > ballot)
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

/// A reported acceptance that may bind a proposer: who reported it, and what.
pub type Report<V> = (AcceptorIndex, Proposal<V>);

/// Phase 2a value selection, one promise at a time: whether `candidate` should replace `current`
/// as the report that binds the proposer. The highest ballot binds (the lowest, under the
/// `lowest-accepted-value` flaw); between equal ballots the report that arrived first stays,
/// which names the source deterministically without favouring any acceptor's name. If some value
/// v was chosen at ballot b, every quorum holds an acceptor that accepted (b, v), and by
/// induction every acceptance above b carries v; so the highest reported acceptance carries v
/// too.
pub fn binds_rather<V>(current: Option<&Report<V>>, candidate: &Report<V>, flaw: Flaw) -> bool {
    let Some((_, current)) = current else {
        return true;
    };
    let (_, candidate) = candidate;
    match flaw {
        Flaw::LowestAcceptedValue => candidate.ballot < current.ballot,
        _ => candidate.ballot > current.ballot,
    }
}

/// The value a proposer sends in Phase 2 for a slot it was asked to fill with `own`, given the
/// report that binds it (if any): the reported value, unless the flaw ignores promises.
pub fn select_value<V: Clone>(
    binding: Option<&Report<V>>,
    own: &V,
    flaw: Flaw,
) -> (V, ValueSource) {
    match binding {
        Some((acceptor, proposal)) if !flaw.ignores_promises() => (
            proposal.value.clone(),
            ValueSource::Promise {
                acceptor: *acceptor,
                ballot: proposal.ballot,
            },
        ),
        _ => (own.clone(), ValueSource::Own),
    }
}

/// The ballot a proposer starts after having seen rounds up to `highest_seen_round`: the next
/// round, so that it is above every ballot the proposer knows of, tagged with the proposer's index
/// so that it is unique. The `shared-ballots` flaws drop the tag.
pub fn next_ballot(highest_seen_round: u64, proposer: u32, flaw: Flaw) -> Ballot {
    let proposer = if flaw.shares_ballots() { 0 } else { proposer };
    Ballot::new(highest_seen_round + 1, proposer)
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

    /// Folds reports in arrival order, as a proposer receives promises.
    fn binding(reports: &[Report<char>], flaw: Flaw) -> Option<Report<char>> {
        let mut best: Option<Report<char>> = None;
        for report in reports {
            if binds_rather(best.as_ref(), report, flaw) {
                best = Some(report.clone());
            }
        }
        best
    }

    #[test]
    fn value_selection_takes_the_highest_reported_ballot_in_any_arrival_order() {
        let reports = [
            (0, Proposal::new(B1, 'a')),
            (2, Proposal::new(B3, 'b')),
            (3, Proposal::new(B2, 'c')),
        ];
        let mut reversed = reports.clone();
        reversed.reverse();
        for order in [&reports[..], &reversed[..]] {
            let best = binding(order, Flaw::None);
            assert_eq!(
                select_value(best.as_ref(), &'z', Flaw::None),
                (
                    'b',
                    ValueSource::Promise {
                        acceptor: 2,
                        ballot: B3
                    }
                )
            );
        }
        let lowest = binding(&reports, Flaw::LowestAcceptedValue);
        assert_eq!(lowest, Some((0, Proposal::new(B1, 'a'))));
        assert_eq!(
            select_value(lowest.as_ref(), &'z', Flaw::ProposerIgnoresPromises),
            ('z', ValueSource::Own)
        );
        assert_eq!(
            select_value(None, &'z', Flaw::None),
            ('z', ValueSource::Own)
        );
    }

    #[test]
    fn value_selection_keeps_the_first_of_equal_reports() {
        let v = Proposal::new(B2, 'v');
        let reports = [(4, v.clone()), (1, v.clone()), (2, v)];
        assert_eq!(
            binding(&reports, Flaw::None).map(|(acceptor, _)| acceptor),
            Some(4)
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
    fn next_ballot_is_above_everything_seen_and_unique_per_proposer() {
        assert_eq!(next_ballot(0, 1, Flaw::None), Ballot::new(1, 1));
        assert_eq!(next_ballot(4, 2, Flaw::None), Ballot::new(5, 2));
        assert_eq!(next_ballot(4, 2, Flaw::SharedBallots), Ballot::new(5, 0));
    }
}
