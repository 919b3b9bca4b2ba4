//! The messages of Paxos, one set for single-decree Paxos and Multi-Paxos, named in
//! request/reply pairs, and which role each is for.
//!
//! Single-decree Paxos is the log of one slot: its Prepare covers slots from 0 on, its Promise
//! reports the acceptance in slot 0, if any, and its Accept names slot 0.

use crate::protocol::ballot::{Ballot, Proposal};
use crate::protocol::slots::Slot;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Message<V> {
    /// Phase 1a, for every slot from `from_slot` on: "promise to ignore ballots below this one,
    /// and tell me what you accepted".
    Prepare { ballot: Ballot, from_slot: Slot },
    /// Phase 1b: the promise, with the acceptor's acceptances from `from_slot` on, in slot order.
    Promise {
        ballot: Ballot,
        accepted: Vec<(Slot, Proposal<V>)>,
    },
    /// Phase 1b refused: the acceptor has promised a ballot at least as high.
    PrepareRefused { ballot: Ballot, promised: Ballot },
    /// Phase 2a for one slot: "accept this proposal".
    Accept { slot: Slot, proposal: Proposal<V> },
    /// Phase 2b: the acceptor accepted the proposal.
    Accepted { slot: Slot, proposal: Proposal<V> },
    /// Phase 2b refused: the acceptor has promised a higher ballot.
    AcceptRefused {
        slot: Slot,
        ballot: Ballot,
        promised: Ballot,
    },
}

/// The role a message is for: requests go to acceptors, replies to the proposer that asked.
/// This is the one dispatch of the protocol: the node and the models route every message by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Acceptor,
    Proposer,
}

impl<V> Message<V> {
    pub fn role(&self) -> Role {
        match self {
            Message::Prepare { .. } | Message::Accept { .. } => Role::Acceptor,
            Message::Promise { .. }
            | Message::PrepareRefused { .. }
            | Message::Accepted { .. }
            | Message::AcceptRefused { .. } => Role::Proposer,
        }
    }

    /// Every ballot the message names.
    pub fn ballots(&self) -> Vec<Ballot> {
        match self {
            Message::Prepare { ballot, .. } => vec![*ballot],
            Message::Promise { ballot, accepted } => std::iter::once(*ballot)
                .chain(accepted.iter().map(|(_, proposal)| proposal.ballot))
                .collect(),
            Message::PrepareRefused { ballot, promised }
            | Message::AcceptRefused {
                ballot, promised, ..
            } => vec![*ballot, *promised],
            Message::Accept { proposal, .. } | Message::Accepted { proposal, .. } => {
                vec![proposal.ballot]
            }
        }
    }
}

impl<V: fmt::Display> Message<V> {
    /// The message in protocol words, `Prepare(b=1.p1)`; `with_slots` names slots, which a
    /// single-decree trace leaves out.
    pub fn describe(&self, with_slots: bool) -> String {
        self.describe_as(with_slots, 'p')
    }

    /// The same, with ballots naming their proposer as `{role}{n}`: `1.n2` for node n2 of a
    /// cluster.
    pub fn describe_as(&self, with_slots: bool, role: char) -> String {
        let slot = |slot: &Slot| {
            if with_slots {
                format!("slot {slot}, ")
            } else {
                String::new()
            }
        };
        let b = |ballot: &Ballot| ballot.named(role);
        let proposal =
            |proposal: &Proposal<V>| format!("({}, {})", b(&proposal.ballot), proposal.value);
        match self {
            Message::Prepare { ballot, from_slot } if with_slots => {
                format!("Prepare(b={}, slots {from_slot}..)", b(ballot))
            }
            Message::Prepare { ballot, .. } => format!("Prepare(b={})", b(ballot)),
            Message::Promise { ballot, accepted } if accepted.is_empty() => {
                format!("Promise(b={}, accepted none)", b(ballot))
            }
            Message::Promise { ballot, accepted } if !with_slots => {
                let (_, accepted) = &accepted[0];
                format!("Promise(b={}, accepted {})", b(ballot), proposal(accepted))
            }
            Message::Promise { ballot, accepted } => {
                let reports: Vec<String> = accepted
                    .iter()
                    .map(|(slot, accepted)| format!("slot {slot}: {}", proposal(accepted)))
                    .collect();
                format!(
                    "Promise(b={}, accepted [{}])",
                    b(ballot),
                    reports.join(", ")
                )
            }
            Message::PrepareRefused { ballot, promised } => {
                format!("PrepareRefused(b={}, promised {})", b(ballot), b(promised))
            }
            Message::Accept { slot: s, proposal } => format!(
                "Accept({}b={}, {})",
                slot(s),
                b(&proposal.ballot),
                proposal.value
            ),
            Message::Accepted { slot: s, proposal } => format!(
                "Accepted({}b={}, {})",
                slot(s),
                b(&proposal.ballot),
                proposal.value
            ),
            Message::AcceptRefused {
                slot: s,
                ballot,
                promised,
            } => format!(
                "AcceptRefused({}b={}, promised {})",
                slot(s),
                b(ballot),
                b(promised)
            ),
        }
    }
}

impl<V: fmt::Display> fmt::Display for Message<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_in_protocol_words() {
        let b = Ballot::new(2, 0);
        let accepted = Proposal::new(Ballot::new(1, 1), 'B');
        let promise = Message::Promise {
            ballot: b,
            accepted: vec![(0, accepted)],
        };
        assert_eq!(
            promise.describe(false),
            "Promise(b=2.p1, accepted (1.p2, B))"
        );
        assert_eq!(
            promise.describe(true),
            "Promise(b=2.p1, accepted [slot 0: (1.p2, B)])"
        );
        let accept = Message::Accept {
            slot: 3,
            proposal: Proposal::new(b, 'A'),
        };
        assert_eq!(accept.describe(true), "Accept(slot 3, b=2.p1, A)");
        assert_eq!(accept.describe(false), "Accept(b=2.p1, A)");
        assert_eq!(accept.role(), Role::Acceptor);
        assert_eq!(promise.role(), Role::Proposer);
    }
}
