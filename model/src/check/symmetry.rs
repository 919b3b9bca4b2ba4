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
use crate::check::engine::fingerprint_hasher;
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

                fn names_actors(&self) -> bool {
                    false
                }
            }
        )*
    };
}

holds_no_actor!(Acceptor<V>, Message<V>);

// Every impl below names each field of the struct it hashes or renames (no `..`): a field
// added later and left out would merge states that differ in it (a hash that skips it) or
// keep an acceptor's old name (a rename that copies it), so leaving it out is a compile error.

impl<V: Clone + Hash> Relabel for Proposer<V> {
    fn relabel(&self, map: &[ActorIndex]) -> Self {
        let Proposer {
            rounds_started,
            highest_seen_round,
            status,
            requests,
            in_flight,
            chosen,
        } = self;
        let status = match status {
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
        let in_flight = in_flight
            .iter()
            .map(|(slot, in_flight)| (slot, in_flight.relabel(map)))
            .collect();
        Proposer {
            rounds_started: *rounds_started,
            highest_seen_round: *highest_seen_round,
            status,
            requests: requests.clone(),
            in_flight,
            chosen: chosen.clone(),
        }
    }

    /// Hashes the renamed proposer, without building it: the checker does this for every state
    /// it meets.
    fn hash_relabeled<H: Hasher>(&self, map: &[ActorIndex], state: &mut H) {
        self.hash_unnamed(state);
        self.hash_names_relabeled(map, state);
    }

    /// Everything but the acceptors it names: counters, ballots, requests, proposals, what it
    /// knows chosen.
    fn hash_unnamed<H: Hasher>(&self, state: &mut H) {
        let Proposer {
            rounds_started,
            highest_seen_round,
            status,
            requests,
            in_flight,
            chosen,
        } = self;
        rounds_started.hash(state);
        highest_seen_round.hash(state);
        match status {
            Status::Idle => 0u8.hash(state),
            Status::Preparing {
                ballot,
                from_slot,
                promised: _, // named: `hash_names_relabeled`
                reports,
            } => {
                1u8.hash(state);
                ballot.hash(state);
                from_slot.hash(state);
                for (slot, (_, proposal)) in reports.iter() {
                    (slot, proposal).hash(state);
                }
            }
            Status::Leading {
                ballot,
                quorum: _, // named: `hash_names_relabeled`
            } => {
                2u8.hash(state);
                ballot.hash(state);
            }
        }
        requests.hash(state);
        for (slot, in_flight) in in_flight.iter() {
            slot.hash(state);
            in_flight.hash_unnamed(state);
        }
        chosen.hash(state);
    }

    /// The acceptors it names, renamed: who promised, who reported each slot, the quorum, who
    /// voted and where an adopted value came from.
    fn hash_names_relabeled<H: Hasher>(&self, map: &[ActorIndex], state: &mut H) {
        let Proposer {
            rounds_started: _,
            highest_seen_round: _,
            status,
            requests: _,
            in_flight,
            chosen: _,
        } = self;
        let renamed = rename(map);
        match status {
            Status::Idle => {}
            Status::Preparing {
                ballot: _,
                from_slot: _,
                promised,
                reports,
            } => {
                promised.renamed(&renamed).hash(state);
                for (_, (acceptor, _)) in reports.iter() {
                    renamed(*acceptor).hash(state);
                }
            }
            Status::Leading { ballot: _, quorum } => quorum.renamed(&renamed).hash(state),
        }
        for (_, in_flight) in in_flight.iter() {
            in_flight.hash_names_relabeled(map, state);
        }
    }

    fn about(&self, actor: ActorIndex) -> u64 {
        let acceptor = usize::from(actor);
        let mut hasher = fingerprint_hasher();
        match &self.status {
            Status::Idle => 0u8.hash(&mut hasher),
            Status::Preparing {
                promised, reports, ..
            } => {
                (1 + u8::from(promised.contains(acceptor))).hash(&mut hasher);
                for (slot, (reporter, proposal)) in reports.iter() {
                    if *reporter == acceptor {
                        (slot, proposal).hash(&mut hasher);
                    }
                }
            }
            Status::Leading { quorum, .. } => {
                (3 + u8::from(quorum.contains(acceptor))).hash(&mut hasher)
            }
        }
        for (slot, in_flight) in self.in_flight.iter() {
            (
                slot,
                in_flight.votes.contains(acceptor),
                in_flight.source.about(actor),
            )
                .hash(&mut hasher);
        }
        hasher.finish()
    }
}

impl<V: Clone + Hash> Relabel for InFlight<V> {
    fn relabel(&self, map: &[ActorIndex]) -> Self {
        let InFlight {
            proposal,
            source,
            phase1_skipped,
            votes,
        } = self;
        InFlight {
            proposal: proposal.clone(),
            source: source.relabel(map),
            phase1_skipped: *phase1_skipped,
            votes: votes.renamed(rename(map)),
        }
    }

    fn hash_relabeled<H: Hasher>(&self, map: &[ActorIndex], state: &mut H) {
        self.hash_unnamed(state);
        self.hash_names_relabeled(map, state);
    }

    fn hash_unnamed<H: Hasher>(&self, state: &mut H) {
        let InFlight {
            proposal,
            source: _, // named: `hash_names_relabeled`
            phase1_skipped,
            votes: _, // named: `hash_names_relabeled`
        } = self;
        (proposal, phase1_skipped).hash(state);
    }

    fn hash_names_relabeled<H: Hasher>(&self, map: &[ActorIndex], state: &mut H) {
        let InFlight {
            proposal: _,
            source,
            phase1_skipped: _,
            votes,
        } = self;
        source.relabel(map).hash(state);
        votes.renamed(rename(map)).hash(state);
    }
}

impl<V: Clone + PartialEq + Hash> Relabel for ChosenTracker<V> {
    fn relabel(&self, map: &[ActorIndex]) -> Self {
        self.renamed(rename(map))
    }

    /// The tallies in their order (slot, ballot: no acceptor's name decides it), each with its
    /// voters renamed, hashed without building the renamed record.
    fn hash_relabeled<S: Hasher>(&self, map: &[ActorIndex], state: &mut S) {
        self.hash_renamed(rename(map), state);
    }

    fn about(&self, actor: ActorIndex) -> u64 {
        let mut hasher = fingerprint_hasher();
        for (slot, proposal) in self.accepted_by(usize::from(actor)) {
            (slot, proposal).hash(&mut hasher);
        }
        hasher.finish()
    }
}

impl<T: Relabel> Relabel for SlotMap<T> {
    fn relabel(&self, map: &[ActorIndex]) -> Self {
        self.iter()
            .map(|(slot, value)| (slot, value.relabel(map)))
            .collect()
    }
}
