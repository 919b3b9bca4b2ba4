//! The catalogue of deliberate deviations from Paxos ("flaws").
//!
//! A flaw is a parameter of the protocol's own rules, not a second implementation: every rule in
//! `rules`, `acceptor` and `proposer` that a flaw bends takes the flaw and deviates at exactly one
//! branch. A flaw bends one rule, except `shared-ballots-and-equal-promise`, which bends the two
//! rules of its name (each at its own branch, asked through `shares_ballots` and
//! `promises_equal_ballot`). The checker, the node and the tests therefore all exercise the real
//! code path, and a counterexample under a flaw shows which rule of Paxos the flaw breaks.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One deliberate deviation from Paxos, or `None` for the algorithm as Lamport wrote it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum Flaw {
    #[default]
    None,
    /// An acceptor accepts a ballot lower than one it promised.
    AcceptBelowPromise,
    /// A promise omits the acceptor's accepted proposal.
    PromiseHidesAccepted,
    /// The proposer sends its own value even when promises reported accepted values.
    ProposerIgnoresPromises,
    /// The proposer adopts the lowest-ballot accepted value instead of the highest.
    LowestAcceptedValue,
    /// Quorums of floor(n/2) acceptors instead of a strict majority.
    MinorityQuorum,
    /// Every proposer numbers its ballots as proposer 0, so two proposers can share a ballot.
    SharedBallots,
    /// An acceptor does not persist; after a crash it recovers with no promise and no acceptance.
    ForgetOnCrash,
    /// A Multi-Paxos leader keeps skipping Phase 1 after it saw a higher ballot.
    SkipPhase1AfterPreemption,
    /// A Multi-Paxos leader starts Phase 2 without ever running Phase 1.
    NewLeaderSkipsPhase1,
    /// A new Multi-Paxos leader proposes fresh commands in slots where promises reported values.
    IgnoreSlotPromises,
    /// An acceptor promises a ballot equal to its promise (`>=` instead of `>`).
    PromiseEqualBallot,
    /// `shared-ballots` and `promise-equal-ballot` together: each is harmless while the other
    /// rule holds, so the catalogue shows them failing as a pair.
    SharedBallotsAndEqualPromise,
    /// A new leader does not finish the slots its promises reported and nobody asked it for;
    /// its replica takes them for free slots and fills them (with commands, or no-ops).
    LeaderSkipsReportedSlots,
    /// A replica answers a peer's catch-up request from what its acceptor accepted, chosen or
    /// not.
    CatchUpFromAccepted,
    /// A leading replica answers its client as soon as it proposes the command, before the
    /// command is chosen.
    AcknowledgeBeforeChosen,
    /// A replica forwards its client's command to the leader under a request id of its own.
    ForwardRenamesRequest,
    /// A replica that starts without its disk votes at once, as a member of a new cluster would.
    LostDiskVotes,
    /// A replica that starts without its disk votes again once a majority (itself included) has
    /// answered its probe, not every other node.
    RejoinAfterMajority,
    /// A replica that starts without its disk takes its peers' ballot floor but not their slot
    /// floor: it promises a Phase 1 that reaches slots it may have accepted in and forgotten.
    RejoinIgnoresSlotFloor,
}

/// Which model a flaw is meant to be shown in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlawScope {
    SingleDecree,
    MultiPaxos,
    /// A rule of the lin-kv replica's own paths (hole filling, catch-up, answering, forwarding):
    /// shown in the cluster model.
    Replica,
}

impl Flaw {
    /// Every flaw, `None` first, in catalogue order.
    pub const ALL: [Flaw; 20] = [
        Flaw::None,
        Flaw::AcceptBelowPromise,
        Flaw::PromiseHidesAccepted,
        Flaw::ProposerIgnoresPromises,
        Flaw::LowestAcceptedValue,
        Flaw::MinorityQuorum,
        Flaw::SharedBallots,
        Flaw::ForgetOnCrash,
        Flaw::SkipPhase1AfterPreemption,
        Flaw::NewLeaderSkipsPhase1,
        Flaw::IgnoreSlotPromises,
        Flaw::PromiseEqualBallot,
        Flaw::SharedBallotsAndEqualPromise,
        Flaw::LeaderSkipsReportedSlots,
        Flaw::CatchUpFromAccepted,
        Flaw::AcknowledgeBeforeChosen,
        Flaw::ForwardRenamesRequest,
        Flaw::LostDiskVotes,
        Flaw::RejoinAfterMajority,
        Flaw::RejoinIgnoresSlotFloor,
    ];

    /// The name used on the command line and in reports.
    pub const fn name(self) -> &'static str {
        match self {
            Flaw::None => "none",
            Flaw::AcceptBelowPromise => "accept-below-promise",
            Flaw::PromiseHidesAccepted => "promise-hides-accepted",
            Flaw::ProposerIgnoresPromises => "proposer-ignores-promises",
            Flaw::LowestAcceptedValue => "lowest-accepted-value",
            Flaw::MinorityQuorum => "minority-quorum",
            Flaw::SharedBallots => "shared-ballots",
            Flaw::ForgetOnCrash => "forget-on-crash",
            Flaw::SkipPhase1AfterPreemption => "skip-phase1-after-preemption",
            Flaw::NewLeaderSkipsPhase1 => "new-leader-skips-phase1",
            Flaw::IgnoreSlotPromises => "ignore-slot-promises",
            Flaw::PromiseEqualBallot => "promise-equal-ballot",
            Flaw::SharedBallotsAndEqualPromise => "shared-ballots-and-equal-promise",
            Flaw::LeaderSkipsReportedSlots => "leader-skips-reported-slots",
            Flaw::CatchUpFromAccepted => "catch-up-from-accepted",
            Flaw::AcknowledgeBeforeChosen => "acknowledge-before-chosen",
            Flaw::ForwardRenamesRequest => "forward-renames-request",
            Flaw::LostDiskVotes => "lost-disk-votes",
            Flaw::RejoinAfterMajority => "rejoin-after-majority",
            Flaw::RejoinIgnoresSlotFloor => "rejoin-ignores-slot-floor",
        }
    }

    /// One line for `paxos-check flaws`.
    pub const fn description(self) -> &'static str {
        match self {
            Flaw::None => "Paxos as Lamport wrote it",
            Flaw::AcceptBelowPromise => "an acceptor accepts a ballot lower than it promised",
            Flaw::PromiseHidesAccepted => "a promise omits the acceptor's accepted value",
            Flaw::ProposerIgnoresPromises => {
                "the proposer sends its own value despite reported acceptances"
            }
            Flaw::LowestAcceptedValue => {
                "the proposer adopts the lowest-ballot accepted value, not the highest"
            }
            Flaw::MinorityQuorum => "quorums of floor(n/2) instead of a strict majority",
            Flaw::SharedBallots => "two proposers can use the same ballot number",
            Flaw::ForgetOnCrash => "an acceptor does not persist; after a crash it recovers empty",
            Flaw::SkipPhase1AfterPreemption => {
                "a leader keeps skipping Phase 1 after a higher ballot was seen"
            }
            Flaw::NewLeaderSkipsPhase1 => "a leader starts Phase 2 without ever running Phase 1",
            Flaw::IgnoreSlotPromises => {
                "a new leader proposes fresh commands in slots where promises reported values"
            }
            Flaw::PromiseEqualBallot => "promise when n >= promised instead of n > promised",
            Flaw::SharedBallotsAndEqualPromise => {
                "two proposers can use the same ballot, and acceptors promise n >= promised"
            }
            Flaw::LeaderSkipsReportedSlots => {
                "a new leader leaves slots its promises reported unfinished, and its replica \
                 reuses them for new commands or no-ops"
            }
            Flaw::CatchUpFromAccepted => {
                "a replica answers catch-up requests with accepted entries, not chosen ones"
            }
            Flaw::AcknowledgeBeforeChosen => {
                "a leader answers its client when it proposes the command, before it is chosen"
            }
            Flaw::ForwardRenamesRequest => {
                "a replica forwards a client's command under a request id of its own"
            }
            Flaw::LostDiskVotes => {
                "a replica that lost its disk votes again at once, as if the cluster were new"
            }
            Flaw::RejoinAfterMajority => {
                "a replica that lost its disk votes again once a majority has answered its probe"
            }
            Flaw::RejoinIgnoresSlotFloor => {
                "a replica that lost its disk promises Phase 1s reaching slots it may have \
                 accepted in, before it has learned them"
            }
        }
    }

    /// The model in which the flaw is shown.
    pub const fn scope(self) -> FlawScope {
        match self {
            Flaw::SkipPhase1AfterPreemption
            | Flaw::NewLeaderSkipsPhase1
            | Flaw::IgnoreSlotPromises => FlawScope::MultiPaxos,
            Flaw::LeaderSkipsReportedSlots
            | Flaw::CatchUpFromAccepted
            | Flaw::AcknowledgeBeforeChosen
            | Flaw::ForwardRenamesRequest
            | Flaw::LostDiskVotes
            | Flaw::RejoinAfterMajority
            | Flaw::RejoinIgnoresSlotFloor => FlawScope::Replica,
            _ => FlawScope::SingleDecree,
        }
    }

    /// Proposers drop their index from ballots, so two of them can start the same ballot.
    pub const fn shares_ballots(self) -> bool {
        matches!(
            self,
            Flaw::SharedBallots | Flaw::SharedBallotsAndEqualPromise
        )
    }

    /// Acceptors promise a ballot equal to the one they promised (`>=`).
    pub const fn promises_equal_ballot(self) -> bool {
        matches!(
            self,
            Flaw::PromiseEqualBallot | Flaw::SharedBallotsAndEqualPromise
        )
    }

    /// The proposer sends its own value whatever the promises reported.
    pub const fn ignores_promises(self) -> bool {
        matches!(
            self,
            Flaw::ProposerIgnoresPromises | Flaw::IgnoreSlotPromises
        )
    }

    pub fn names() -> Vec<&'static str> {
        Flaw::ALL.iter().map(|flaw| flaw.name()).collect()
    }
}

impl fmt::Display for Flaw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for a flaw name that is not in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFlaw(pub String);

impl fmt::Display for UnknownFlaw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown flaw '{}'; known flaws: {}",
            self.0,
            Flaw::names().join(", ")
        )
    }
}

impl std::error::Error for UnknownFlaw {}

impl FromStr for Flaw {
    type Err = UnknownFlaw;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Flaw::ALL
            .into_iter()
            .find(|flaw| flaw.name() == name)
            .ok_or_else(|| UnknownFlaw(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flaw_round_trips_through_its_name() {
        for flaw in Flaw::ALL {
            assert_eq!(flaw.name().parse::<Flaw>(), Ok(flaw));
            assert!(!flaw.description().is_empty());
        }
        let error = "accept-everything".parse::<Flaw>().unwrap_err();
        assert!(error
            .to_string()
            .contains("known flaws: none, accept-below-promise"));
    }
}
