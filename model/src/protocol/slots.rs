//! Positions in the replicated log, and a map from slot to whatever a role keeps per slot.
//!
//! `SlotMap` is a vector sorted by slot. A log grows at its end and is read by slot or from a
//! slot on, which a sorted vector serves in O(log n) without a tree node per entry; the model
//! checker keeps millions of copies of small ones, where a tree's node (room for eleven entries)
//! would cost ten times the bytes of the one or two it holds.

use serde::{Deserialize, Serialize};

/// A position in the replicated log. Single-decree Paxos is the log of one slot, slot 0.
pub type Slot = u64;

/// Entries keyed by slot, in slot order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SlotMap<T> {
    entries: Vec<(Slot, T)>,
}

impl<T> Default for SlotMap<T> {
    fn default() -> Self {
        SlotMap {
            entries: Vec::new(),
        }
    }
}

impl<T> SlotMap<T> {
    pub fn new() -> Self {
        SlotMap::default()
    }

    fn position(&self, slot: Slot) -> Result<usize, usize> {
        // Appends are the common case: look at the end first.
        match self.entries.last() {
            Some((last, _)) if *last < slot => Err(self.entries.len()),
            None => Err(0),
            _ => self.entries.binary_search_by_key(&slot, |(key, _)| *key),
        }
    }

    pub fn get(&self, slot: Slot) -> Option<&T> {
        self.position(slot).ok().map(|index| &self.entries[index].1)
    }

    pub fn get_mut(&mut self, slot: Slot) -> Option<&mut T> {
        self.position(slot)
            .ok()
            .map(|index| &mut self.entries[index].1)
    }

    pub fn contains(&self, slot: Slot) -> bool {
        self.position(slot).is_ok()
    }

    /// Sets `slot` to `value`; returns the value it replaced.
    pub fn insert(&mut self, slot: Slot, value: T) -> Option<T> {
        match self.position(slot) {
            Ok(index) => Some(std::mem::replace(&mut self.entries[index].1, value)),
            Err(index) => {
                self.entries.insert(index, (slot, value));
                None
            }
        }
    }

    pub fn remove(&mut self, slot: Slot) -> Option<T> {
        let index = self.position(slot).ok()?;
        Some(self.entries.remove(index).1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (Slot, &T)> + ExactSizeIterator {
        self.entries.iter().map(|(slot, value)| (*slot, value))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Slot, &mut T)> {
        self.entries.iter_mut().map(|(slot, value)| (*slot, value))
    }

    /// The entries from `slot` on.
    pub fn from_slot(&self, slot: Slot) -> impl DoubleEndedIterator<Item = (Slot, &T)> {
        let start = self.entries.partition_point(|(key, _)| *key < slot);
        self.entries[start..]
            .iter()
            .map(|(slot, value)| (*slot, value))
    }

    pub fn slots(&self) -> impl DoubleEndedIterator<Item = Slot> + '_ {
        self.entries.iter().map(|(slot, _)| *slot)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.entries.iter().map(|(_, value)| value)
    }

    pub fn last_slot(&self) -> Option<Slot> {
        self.entries.last().map(|(slot, _)| *slot)
    }

    pub fn first_slot(&self) -> Option<Slot> {
        self.entries.first().map(|(slot, _)| *slot)
    }

    /// Keeps the entries for which `keep` holds.
    pub fn retain(&mut self, mut keep: impl FnMut(Slot, &mut T) -> bool) {
        self.entries.retain_mut(|(slot, value)| keep(*slot, value));
    }

    /// Removes every entry below `slot`.
    pub fn remove_below(&mut self, slot: Slot) {
        let end = self.entries.partition_point(|(key, _)| *key < slot);
        self.entries.drain(..end);
    }
}

impl<T> FromIterator<(Slot, T)> for SlotMap<T> {
    fn from_iter<I: IntoIterator<Item = (Slot, T)>>(iter: I) -> Self {
        let mut map = SlotMap::new();
        for (slot, value) in iter {
            map.insert(slot, value);
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_map_keeps_slot_order_whatever_the_order_of_insertion() {
        let mut map = SlotMap::new();
        for slot in [5, 1, 9, 3] {
            assert_eq!(map.insert(slot, slot * 10), None);
        }
        assert_eq!(map.insert(3, 31), Some(30));
        assert_eq!(map.slots().collect::<Vec<_>>(), [1, 3, 5, 9]);
        assert_eq!(
            map.from_slot(4).map(|(slot, _)| slot).collect::<Vec<_>>(),
            [5, 9]
        );
        assert_eq!(map.get(3), Some(&31));
        assert_eq!(map.remove(5), Some(50));
        map.remove_below(9);
        assert_eq!(map.slots().collect::<Vec<_>>(), [9]);
        assert_eq!(map.get(4), None);
    }
}
