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
    /// Several lin-kv commands in one slot, applied in their order within it: a leader that
    /// finds more than one command waiting places them together (at most
    /// `ReplicaConfig::batch_max`), so that one round of Paxos and one fsync per acceptor serve
    /// them all. Each is still applied once, by its id, and answered on its own.
    Batch {
        commands: Vec<(RequestId, KvOp)>,
    },
}

impl Entry {
    /// The lin-kv commands the entry holds, in the order they are applied.
    pub fn commands(&self) -> impl Iterator<Item = (&RequestId, &KvOp)> {
        let (single, batch) = match self {
            Entry::Command { id, op } => (Some((id, op)), &[][..]),
            Entry::Batch { commands } => (None, &commands[..]),
            Entry::Value { .. } | Entry::Noop => (None, &[][..]),
        };
        single
            .into_iter()
            .chain(batch.iter().map(|(id, op)| (id, op)))
    }

    /// Whether the entry holds the command `id`.
    pub fn holds_command(&self, id: &RequestId) -> bool {
        self.commands().any(|(held, _)| held == id)
    }
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
            Entry::Batch { commands } => {
                let commands: Vec<String> = commands
                    .iter()
                    .map(|(id, op)| format!("{id} {op}"))
                    .collect();
                write!(f, "[{}]", commands.join(", "))
            }
        }
    }
}
