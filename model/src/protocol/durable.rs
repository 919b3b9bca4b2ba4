//! What a replica must not forget, as records: the unit a replica's step asks its caller to make
//! durable, and the state that replaying them rebuilds.
//!
//! Three kinds of fact, each true for good once written:
//! - the acceptor's promises and acceptances (`Change`): forgetting one could let a second value
//!   be chosen;
//! - the learned log (`Learned`): every entry in it is chosen, so a restarted node need not learn
//!   it again, its proposer's Phase 1 starts above it, and its acceptor may drop the acceptances
//!   it holds for those slots (see `Replica::learn` for why that is safe);
//! - a snapshot (`Snapshot`): the key-value store and the client table as applying every slot
//!   up to `through` left them. It stands for the learned entries up to there, which it
//!   subsumes: replaying it drops them, and a learned record at or below it changes nothing;
//! - whether the acceptor votes (`Membership`), which a node that started without any state
//!   settles by asking the others (see `replica`'s module header), and the floors it took from
//!   their answers (`BallotFloor`, `SlotFloor`): what an earlier life of it may have voted for
//!   and forgotten.
//!
//! Replaying a replica's records in the order its steps made them gives back exactly this state:
//! records are facts, and applying one twice changes nothing (a promise is a maximum, an
//! acceptance or a learned entry a value per slot), so a caller that rewrites its records as a
//! snapshot need not know which records the snapshot already holds.

use crate::protocol::acceptor::{Acceptor, Change};
use crate::protocol::ballot::Ballot;
use crate::protocol::entry::{Entry, RequestId};
use crate::protocol::kv::{KvResult, KvStore};
use crate::protocol::slots::{Slot, SlotMap};
use serde::{Deserialize, Serialize};

/// Whether a replica's acceptor takes part in the votes, as its durable state records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Membership {
    /// It promises and accepts: its acceptor's state is intact, or it has heard every other
    /// node's floors since it started without state and took them (see `Replica::settle`).
    Voter,
    /// It started without state and has not yet heard from every other node: it promises and
    /// accepts nothing yet. A restart asks again.
    Probing,
    /// Written by an earlier version, whose node never voted again after it started without
    /// state. Such a node probes again, as one that has just lost its disk: it may vote once
    /// every other node has answered.
    Learner,
}

impl Membership {
    /// Whether the acceptor takes part in the votes.
    pub fn votes(self) -> bool {
        self == Membership::Voter
    }
}

/// The state machine as applying every slot up to `through` left it: what a replica keeps in
/// place of those slots of its log (see `Replica::compact`), and sends a peer that asks for
/// slots it no longer holds (`PeerMessage::InstallSnapshot`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Snapshot {
    /// The last slot applied to it.
    pub through: Slot,
    pub store: KvStore,
    /// The last commands applied (at most `ReplicaConfig::answers_kept`), with their answers,
    /// in the order they were applied: a repeat of one is answered as it was.
    pub clients: Vec<(RequestId, KvResult)>,
    /// For each client whose older answers were dropped, the highest of those commands: it and
    /// every older command of the client count as applied (`Replica::was_applied` says why
    /// that is sound).
    #[serde(default)]
    pub dropped: Vec<RequestId>,
}

impl Snapshot {
    /// The first slot it does not cover.
    pub fn below(&self) -> Slot {
        self.through + 1
    }
}

/// One fact to make durable before the step's messages leave.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Record {
    Acceptor(Change<Entry>),
    Learned {
        slot: Slot,
        entry: Entry,
    },
    Membership(Membership),
    /// The floors of a replica that started without state (see `Replica::ballot_floor` and
    /// `Replica::slot_floor`).
    BallotFloor(Ballot),
    SlotFloor(Slot),
    /// Every slot up to the snapshot's is chosen and applied, with this result.
    Snapshot(Snapshot),
}

/// What replaying a replica's records gives back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DurableState {
    /// `None` where no membership record was ever written: a replica its caller started as a
    /// member of a new cluster (`Replica::new`), which is a voter.
    pub membership: Option<Membership>,
    pub acceptor: Acceptor<Entry>,
    pub learned: SlotMap<Entry>,
    /// The highest ballot an earlier life of this replica may have promised, and the highest
    /// slot it may have accepted in, and forgotten, if it ever started without state in a
    /// cluster that held some.
    #[serde(default)]
    pub ballot_floor: Option<Ballot>,
    #[serde(default)]
    pub slot_floor: Option<Slot>,
    /// The highest snapshot written; `learned` then holds only slots above it.
    #[serde(default)]
    pub snapshot: Option<Snapshot>,
}

impl DurableState {
    pub fn apply(&mut self, record: &Record) {
        match record {
            Record::Acceptor(change) => self.acceptor.apply(change),
            // A slot the snapshot covers is in it already.
            Record::Learned { slot, .. } if *slot < self.snapshot_below() => {}
            Record::Learned { slot, entry } => {
                self.learned.insert(*slot, entry.clone());
            }
            // A lower snapshot is a fact the higher one already holds: every slot it covers is
            // covered, with the state applying them gave.
            Record::Snapshot(snapshot) if snapshot.below() <= self.snapshot_below() => {}
            Record::Snapshot(snapshot) => {
                self.learned.remove_below(snapshot.below());
                // The acceptances there are for chosen slots, which the replica would drop on
                // recovery anyway (`Replica::learn` argues why).
                self.acceptor.accepted.remove_below(snapshot.below());
                self.snapshot = Some(snapshot.clone());
            }
            Record::Membership(membership) => self.membership = Some(*membership),
            Record::BallotFloor(ballot) => self.ballot_floor = self.ballot_floor.max(Some(*ballot)),
            Record::SlotFloor(slot) => self.slot_floor = self.slot_floor.max(Some(*slot)),
        }
    }

    /// The first slot no snapshot covers (0 without one).
    pub fn snapshot_below(&self) -> Slot {
        self.snapshot.as_ref().map_or(0, Snapshot::below)
    }

    /// Whether any record was ever applied: a node that finds none where it keeps its state
    /// cannot tell a new cluster from a lost disk.
    pub fn is_empty(&self) -> bool {
        *self == DurableState::default()
    }

    /// The fewest records that rebuild this state, in an order that replays to it: the
    /// membership, the floors, the promise, the snapshot, each acceptance, each learned entry
    /// (above the snapshot). A caller rewrites its log
    /// as these (a snapshot) when the log has grown long.
    pub fn records(&self) -> impl Iterator<Item = Record> + '_ {
        let membership = self.membership.map(Record::Membership);
        let ballot_floor = self.ballot_floor.map(Record::BallotFloor);
        let slot_floor = self.slot_floor.map(Record::SlotFloor);
        let promised = self
            .acceptor
            .promised
            .map(|ballot| Record::Acceptor(Change::Promised(ballot)));
        let snapshot = self.snapshot.clone().map(Record::Snapshot);
        let accepted = self.acceptor.accepted.iter().map(|(slot, proposal)| {
            Record::Acceptor(Change::Accepted {
                slot,
                proposal: proposal.clone(),
            })
        });
        let learned = self.learned.iter().map(|(slot, entry)| Record::Learned {
            slot,
            entry: entry.clone(),
        });
        membership
            .into_iter()
            .chain(ballot_floor)
            .chain(slot_floor)
            .chain(promised)
            .chain(snapshot)
            .chain(accepted)
            .chain(learned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ballot::Proposal;

    #[test]
    fn replaying_a_snapshot_after_the_records_it_holds_changes_nothing() {
        // A caller that crashes between writing a snapshot and dropping the older log replays
        // both: the records are facts, so the state is the same.
        let records = [
            Record::Membership(Membership::Voter),
            Record::Acceptor(Change::Promised(Ballot::new(1, 0))),
            Record::Acceptor(Change::Accepted {
                slot: 0,
                proposal: Proposal::new(Ballot::new(1, 0), Entry::Noop),
            }),
            Record::Learned {
                slot: 0,
                entry: Entry::Noop,
            },
            Record::Acceptor(Change::Promised(Ballot::new(3, 1))),
            Record::BallotFloor(Ballot::new(2, 2)),
            Record::SlotFloor(4),
        ];
        let mut state = DurableState::default();
        assert!(state.is_empty());
        records.iter().for_each(|record| state.apply(record));
        let snapshot: Vec<Record> = state.records().collect();
        assert_eq!(snapshot.len(), 6, "one promise, the highest: {snapshot:?}");
        let mut replayed = DurableState::default();
        for record in snapshot.iter().chain(&records) {
            replayed.apply(record);
        }
        assert_eq!(replayed, state);
    }

    #[test]
    fn a_snapshot_subsumes_the_learned_records_below_it_in_either_order() {
        let learned = |slot| Record::Learned {
            slot,
            entry: Entry::Noop,
        };
        let snapshot = |through| {
            Record::Snapshot(Snapshot {
                through,
                store: KvStore::default(),
                clients: Vec::new(),
                dropped: Vec::new(),
            })
        };
        let records = [learned(0), learned(1), snapshot(1), learned(2), learned(1)];
        let mut state = DurableState::default();
        records.iter().for_each(|record| state.apply(record));
        assert_eq!(state.snapshot_below(), 2);
        assert_eq!(state.learned.slots().collect::<Vec<_>>(), [2]);
        // A lower snapshot, replayed after (a rewrite that crashed halfway), changes nothing.
        let before = state.clone();
        state.apply(&snapshot(0));
        assert_eq!(state, before);
        // The fewest records: the snapshot and slot 2; replaying them gives the same state.
        let rewritten: Vec<Record> = state.records().collect();
        assert_eq!(rewritten, [snapshot(1), learned(2)]);
        let mut replayed = DurableState::default();
        rewritten.iter().for_each(|record| replayed.apply(record));
        assert_eq!(replayed, state);
    }
}
