//! What a slot of a replica's log holds (`Entry`), and the name of the client request a command
//! carries (`RequestId`). Below both the replica, which proposes and applies entries, and
//! `durable`, which persists them: so neither imports the other for them.

use crate::protocol::kv::KvOp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A client request, unique in the cluster, so that a command forwarded or proposed twice is
/// applied once.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequestId {
    /// Shared, not copied, as the request travels and is held in many states of a model.
    pub client: Arc<str>,
    pub seq: u64,
}

/// What a slot of the log holds.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Entry {
    Command {
        id: RequestId,
        op: KvOp,
    },
    /// A value a client asked for in a named slot, as JSON text (the core does not parse it).
    Value {
        json: String,
    },
    /// A new leader's filler for a hole below slots already in use.
    Noop,
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.client, self.seq)
    }
}

/// `c1#1 write 0=1`, `no-op`: how traces show an entry.
impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Command { id, op } => write!(f, "{id} {op}"),
            Entry::Value { json } => f.write_str(json),
            Entry::Noop => f.write_str("no-op"),
        }
    }
}
