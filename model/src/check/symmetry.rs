//! Acceptors are interchangeable: nothing in Paxos depends on which acceptors form a majority,
//! only on how many and on what each one promised and accepted. This module renames acceptors in
//! every state a model holds, and says what each state holds about one acceptor, which is what
//! the search's symmetry reduction needs (`actors::ActorSystem::class_fingerprint`).
//!
//! Proposers are not interchangeable, although each proposes its own value: a ballot's proposer
//! index breaks ties between equal rounds, so swapping two proposers reverses which of their
//! ballots is higher, and with it which prepare an acceptor refuses.
//!
//! Every rule is symmetric, and must be for the reduction to count states exactly: when several
//! promises report the same highest ballot, for instance, the proposer names the first to arrive
//! as the source of the value it adopts, not the lowest-numbered acceptor (which would make a
//! renamed state step to a state that is not the renamed step).

use crate::check::actors::{ActorIndex, Relabel};
use crate::check::engine::fingerprint;
use crate::check::paxos::{PaxosState, ProposerState};
use crate::protocol::acceptor::Acceptor;
use crate::protocol::ballot::AcceptorIndex;
use crate::protocol::chosen::ChosenTracker;
use crate::protocol::message::Message;
use crate::protocol::proposer::{InFlight, Proposer, Status};
use crate::protocol::rules::ValueSource;
use crate::protocol::slots::SlotMap;
use std::hash::{Hash, Hasher};

fn rename(map: &[ActorIndex]) -> impl Fn(AcceptorIndex) -> AcceptorIndex + '_ {
    move |acceptor| usize::from(map[acceptor])
}

impl Relabel for ValueSource {
    fn relabel(&self, map: &[ActorIndex]) -> Self {
        match *self {
            ValueSource::Own => ValueSource::Own,
            ValueSource::Promise { acceptor, ballot } => ValueSource::Promise {
                acceptor: usize::from(map[acceptor]),
                ballot,
            },
        }
    }

    fn about(&self, actor: ActorIndex) -> u64 {
        u64::from(
            matches!(self, ValueSource::Promise { acceptor, .. } if *acceptor == usize::from(actor)),
        )
    }
}

/// Types that name no actor: renaming leaves them as they are.
macro_rules! holds_no_actor {
    ($($type:ty),*) => {
        $(
            impl<V: Clone + Hash> Relabel for $type {
                fn relabel(&self, _: &[ActorIndex]) -> Self {
                    self.clone()
                }

                fn hash_relabeled<H: Hasher>(&self, _: &[ActorIndex], state: &mut H) {
                    self.hash(state);
                }
            }
        )*
    };
}

holds_no_actor!(Acceptor<V>, Message<V>);

impl<V: Clone + Hash> Relabel for Proposer<V> {
    fn relabel(&self, map: &[ActorIndex]) -> Self {
        let status = match &self.status {
            Status::Idle => Status::Idle,
            Status::Preparing {
                ballot,
                from_slot,
                promised,
                reports,
            } => Status::Preparing {
                ballot: *ballot,
                from_slot: *from_slot,
                promised: promised.renamed(rename(map)),
                reports: reports
                    .iter()
                    .map(|(slot, (acceptor, proposal))| {
                        (slot, (usize::from(map[*acceptor]), proposal.clone()))
                    })
                    .collect(),
            },
            Status::Leading { ballot, quorum } => Status::Leading {
                ballot: *ballot,
                quorum: quorum.renamed(rename(map)),
            },
        };
        let in_flight = self
            .in_flight
            .iter()
            .map(|(slot, in_flight)| {
                let renamed = InFlight {
                    proposal: in_flight.proposal.clone(),
                    source: in_flight.source.relabel(map),
                    phase1_skipped: in_flight.phase1_skipped,
                    votes: in_flight.votes.renamed(rename(map)),
                };
                (slot, renamed)
            })
            .collect();
        Proposer {
            status,
            in_flight,
            ..self.clone()
        }
    }

    /// Hashes the renamed proposer field by field, without building it: the checker does this
    /// for every state it meets.
    fn hash_relabeled<H: Hasher>(&self, map: &[ActorIndex], state: &mut H) {
        let renamed = rename(map);
        self.rounds_started.hash(state);
        self.highest_seen_round.hash(state);
        match &self.status {
            Status::Idle => 0u8.hash(state),
            Status::Preparing {
                ballot,
                from_slot,
                promised,
                reports,
            } => {
                1u8.hash(state);
                ballot.hash(state);
                from_slot.hash(state);
                promised.renamed(&renamed).hash(state);
                reports.len().hash(state);
                for (slot, (acceptor, proposal)) in reports.iter() {
                    slot.hash(state);
                    renamed(*acceptor).hash(state);
                    proposal.hash(state);
                }
            }
            Status::Leading { ballot, quorum } => {
                2u8.hash(state);
                ballot.hash(state);
                quorum.renamed(&renamed).hash(state);
            }
        }
        self.requests.hash(state);
        self.in_flight.len().hash(state);
        for (slot, in_flight) in self.in_flight.iter() {
            slot.hash(state);
            in_flight.proposal.hash(state);
            in_flight.source.relabel(map).hash(state);
            in_flight.phase1_skipped.hash(state);
            in_flight.votes.renamed(&renamed).hash(state);
        }
        self.chosen.hash(state);
    }

    fn about(&self, actor: ActorIndex) -> u64 {
        let acceptor = usize::from(actor);
        let status = match &self.status {
            Status::Idle => (0, Vec::new()),
            Status::Preparing {
                promised, reports, ..
            } => {
                let reported: Vec<_> = reports
                    .iter()
                    .filter(|(_, (reporter, _))| *reporter == acceptor)
                    .map(|(slot, (_, proposal))| (slot, proposal))
                    .collect();
                (1 + u8::from(promised.contains(acceptor)), reported)
            }
            Status::Leading { quorum, .. } => (3 + u8::from(quorum.contains(acceptor)), Vec::new()),
        };
        let in_flight: Vec<_> = self
            .in_flight
            .iter()
            .map(|(slot, in_flight)| {
                (
                    slot,
                    in_flight.votes.contains(acceptor),
                    in_flight.source.about(actor),
                )
            })
            .collect();
        fingerprint(&(status, in_flight))
    }
}

impl Relabel for ProposerState {
    fn relabel(&self, map: &[ActorIndex]) -> Self {
        ProposerState {
            proposer: self.proposer.relabel(map),
            ..self.clone()
        }
    }

    fn hash_relabeled<H: Hasher>(&self, map: &[ActorIndex], state: &mut H) {
        self.proposer.hash_relabeled(map, state);
        self.log.hash(state);
        self.next_command.hash(state);
        self.skipped_phase1.hash(state);
        self.adopted.hash(state);
    }

    fn about(&self, actor: ActorIndex) -> u64 {
        self.proposer.about(actor)
    }
}

impl Relabel for PaxosState {
    fn relabel(&self, map: &[ActorIndex]) -> Self {
        match self {
            PaxosState::Acceptor(acceptor) => PaxosState::Acceptor(acceptor.relabel(map)),
            PaxosState::Proposer(proposer) => PaxosState::Proposer(proposer.relabel(map)),
        }
    }

    fn hash_relabeled<H: Hasher>(&self, map: &[ActorIndex], state: &mut H) {
        match self {
            // An acceptor names no other actor: hashing it as it is costs no copy.
            PaxosState::Acceptor(acceptor) => {
                std::mem::discriminant(self).hash(state);
                acceptor.hash(state);
            }
            PaxosState::Proposer(proposer) => {
                std::mem::discriminant(self).hash(state);
                proposer.hash_relabeled(map, state);
            }
        }
    }

    fn about(&self, actor: ActorIndex) -> u64 {
        match self {
            PaxosState::Acceptor(_) => 0,
            PaxosState::Proposer(proposer) => proposer.about(actor),
        }
    }
}

impl<V: Clone + PartialEq + Hash> Relabel for ChosenTracker<V> {
    fn relabel(&self, map: &[ActorIndex]) -> Self {
        self.renamed(rename(map))
    }

    fn about(&self, actor: ActorIndex) -> u64 {
        let accepted: Vec<_> = self.accepted_by(usize::from(actor)).collect();
        fingerprint(&accepted)
    }
}

impl<T: Relabel> Relabel for SlotMap<T> {
    fn relabel(&self, map: &[ActorIndex]) -> Self {
        self.iter()
            .map(|(slot, value)| (slot, value.relabel(map)))
            .collect()
    }
}
