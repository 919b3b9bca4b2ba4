//! The key-value state machine of Maelstrom's `lin-kv` workload: `read`, `write` and
//! compare-and-set over integer keys and values, applied one command at a time in log order.
//!
//! It is also the sequential specification that linearizability checks replay client histories
//! against (stateright's tester, wired in `check`): the replicas are linearizable exactly when their answers could
//! have come from this one object, touched by one operation at a time.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

pub type Key = i64;
pub type KvValue = i64;

/// Maelstrom's error code for a read or cas on a key that was never written.
pub const KEY_DOES_NOT_EXIST: u64 = 20;
/// Maelstrom's error code for a cas whose `from` is not the current value.
pub const PRECONDITION_FAILED: u64 = 22;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum KvOp {
    Read {
        key: Key,
    },
    Write {
        key: Key,
        value: KvValue,
    },
    Cas {
        key: Key,
        from: KvValue,
        to: KvValue,
    },
}

impl KvOp {
    pub fn key(&self) -> Key {
        match *self {
            KvOp::Read { key } | KvOp::Write { key, .. } | KvOp::Cas { key, .. } => key,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum KvResult {
    ReadOk {
        value: KvValue,
    },
    WriteOk,
    CasOk,
    /// A Maelstrom error: `KEY_DOES_NOT_EXIST` or `PRECONDITION_FAILED`.
    Error {
        code: u64,
    },
}

/// `write 0=1`, `read 0`, `cas 0 1->2`: how traces show a command.
impl fmt::Display for KvOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvOp::Read { key } => write!(f, "read {key}"),
            KvOp::Write { key, value } => write!(f, "write {key}={value}"),
            KvOp::Cas { key, from, to } => write!(f, "cas {key} {from}->{to}"),
        }
    }
}

/// `ok`, `read 1`, `error 20`: how traces show an answer.
impl fmt::Display for KvResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvResult::ReadOk { value } => write!(f, "value {value}"),
            KvResult::WriteOk | KvResult::CasOk => f.write_str("ok"),
            KvResult::Error {
                code: KEY_DOES_NOT_EXIST,
            } => f.write_str("key does not exist"),
            KvResult::Error {
                code: PRECONDITION_FAILED,
            } => f.write_str("precondition failed"),
            KvResult::Error { code } => write!(f, "error {code}"),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KvStore {
    pub entries: BTreeMap<Key, KvValue>,
}

impl KvStore {
    pub fn apply(&mut self, op: &KvOp) -> KvResult {
        match *op {
            KvOp::Read { key } => match self.entries.get(&key) {
                Some(value) => KvResult::ReadOk { value: *value },
                None => KvResult::Error {
                    code: KEY_DOES_NOT_EXIST,
                },
            },
            KvOp::Write { key, value } => {
                self.entries.insert(key, value);
                KvResult::WriteOk
            }
            KvOp::Cas { key, from, to } => match self.entries.get_mut(&key) {
                None => KvResult::Error {
                    code: KEY_DOES_NOT_EXIST,
                },
                Some(current) if *current != from => KvResult::Error {
                    code: PRECONDITION_FAILED,
                },
                Some(current) => {
                    *current = to;
                    KvResult::CasOk
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_writes_and_cas_answer_as_maelstrom_expects() {
        let mut store = KvStore::default();
        assert_eq!(
            store.apply(&KvOp::Read { key: 1 }),
            KvResult::Error { code: 20 }
        );
        assert_eq!(
            store.apply(&KvOp::Cas {
                key: 1,
                from: 0,
                to: 1
            }),
            KvResult::Error { code: 20 }
        );
        assert_eq!(
            store.apply(&KvOp::Write { key: 1, value: 5 }),
            KvResult::WriteOk
        );
        assert_eq!(
            store.apply(&KvOp::Cas {
                key: 1,
                from: 4,
                to: 6
            }),
            KvResult::Error { code: 22 }
        );
        assert_eq!(
            store.apply(&KvOp::Cas {
                key: 1,
                from: 5,
                to: 6
            }),
            KvResult::CasOk
        );
        assert_eq!(
            store.apply(&KvOp::Read { key: 1 }),
            KvResult::ReadOk { value: 6 }
        );
    }
}
