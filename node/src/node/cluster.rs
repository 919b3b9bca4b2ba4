//! The node as one replica of a cluster: Maelstrom's `lin-kv` workload (`read`, `write`, `cas`)
//! served by `paxos_model::cluster::Replica`, peer messages between nodes, the retry timer, and
//! the acceptor's durable state.
//!
//! Peer messages travel as Maelstrom messages between node ids, in the wire format of `wire`
//! (`paxos_prepare`, `paxos_promise`, ..., with protocol fields). A message from a peer is never
//! answered with an error: two nodes that disagree about a message would otherwise bounce errors
//! at each other forever; it is logged and dropped.

use super::{log_entry, wire, Node, ServeError};
use crate::codec::{Fields, JsonValue, Object, Reply, RequestError, Serialized, WriteJson};
use paxos_model::protocol::acceptor::Acceptor;
use paxos_model::protocol::kv::{KvOp, KvResult, KEY_DOES_NOT_EXIST};
use paxos_model::protocol::replica::{Entry, Replica, ReplicaStep, RequestId, SLOT_WINDOW};
use paxos_model::protocol::rules::TimerChange;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The `lin-kv` client requests.
pub const KV_TYPES: [&str; 3] = ["read", "write", "cas"];

/// Where the replica's acceptor of node `id` keeps its state under `--data-dir`.
pub fn state_file(data_dir: &Path, id: &str) -> PathBuf {
    data_dir.join(format!("{id}.acceptor.json"))
}

/// Where the course's single-decree acceptor (tasks 7-3-1, 7-3-2) of node `id` keeps its state.
pub fn course_state_file(data_dir: &Path, id: &str) -> PathBuf {
    data_dir.join(format!("{id}.course-acceptor.json"))
}

/// The replica's acceptor state a previous run of this node persisted, if any.
pub fn load_acceptor(
    data_dir: Option<&Path>,
    id: &str,
) -> Result<Option<Acceptor<Entry>>, ServeError> {
    match data_dir {
        Some(data_dir) => load(&state_file(data_dir, id)),
        None => Ok(None),
    }
}

/// The course acceptor's state a previous run of this node persisted, if any.
pub fn load_course_acceptor(
    data_dir: Option<&Path>,
    id: &str,
) -> Result<Option<Acceptor<JsonValue>>, ServeError> {
    match data_dir {
        Some(data_dir) => load(&course_state_file(data_dir, id)),
        None => Ok(None),
    }
}

fn load<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, ServeError> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|error| {
            ServeError(format!("{}: not acceptor state: {error}", path.display()))
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(ServeError(format!("{}: {error}", path.display()))),
    }
}

/// Makes the course acceptor's state durable (see `persist`).
pub fn persist_course_acceptor(
    data_dir: &Path,
    id: &str,
    state: &Acceptor<JsonValue>,
) -> Result<(), ServeError> {
    persist(data_dir, &course_state_file(data_dir, id), state)
}

/// Makes an acceptor's state durable: write a temporary file, fsync it, rename it over the old
/// one and fsync the directory, so that a crash leaves either the old state or the new.
fn persist<T: Serialize>(data_dir: &Path, path: &Path, state: &T) -> Result<(), ServeError> {
    let temporary = path.with_extension("json.tmp");
    let failed = |error: std::io::Error| ServeError(format!("{}: {error}", path.display()));
    let bytes = serde_json::to_vec(state).expect("acceptor state serialises");
    let mut file = fs::File::create(&temporary).map_err(failed)?;
    file.write_all(&bytes).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    fs::rename(&temporary, path).map_err(failed)?;
    fs::File::open(data_dir)
        .and_then(|directory| directory.sync_all())
        .map_err(failed)
}

impl Node {
    pub(super) fn replica_mut(&mut self) -> &mut Replica {
        self.replica.as_mut().expect("created by init")
    }

    fn node_index(&self, id: &str) -> Option<usize> {
        self.membership
            .as_ref()
            .and_then(|membership| membership.ids.iter().position(|peer| peer.printed() == id))
    }

    /// Whether `src` is another node of this cluster (peer messages come only from those).
    pub(super) fn is_peer(&self, src: &str) -> bool {
        self.node_index(src).is_some() && self.own_id() != Some(src)
    }

    /// A message from a peer: handed to the replica, or logged and dropped if it is not one.
    pub(super) fn peer_message(
        &mut self,
        src: &str,
        message_type: &str,
        body: &Fields<'_>,
    ) -> Result<Vec<(String, Reply)>, ServeError> {
        let from = self.node_index(src).expect("checked by is_peer");
        let ids = &self.membership.as_ref().expect("initialised").ids;
        let message = match wire::decode(message_type, body, ids) {
            Ok(message) => message,
            Err(error) => {
                self.log(format!(
                    "dropped a {message_type} from peer {src}: {}",
                    error.text
                ));
                return Ok(vec![]);
            }
        };
        let step = self.replica_mut().on_peer(from, message);
        self.apply_replica_step(step)
    }

    /// A `lin-kv` request: it becomes a command of the replicated log, answered once applied.
    pub(super) fn kv_request(
        &mut self,
        src: &str,
        message_type: &str,
        body: &Fields<'_>,
        msg_id: Option<u64>,
    ) -> Result<Vec<(String, Reply)>, RequestError> {
        let seq = msg_id.ok_or_else(|| {
            RequestError::malformed("field msg_id is missing (a lin-kv request needs one)")
        })?;
        let key = body.i64("key")?;
        let op = match message_type {
            "read" => KvOp::Read { key },
            "write" => KvOp::Write {
                key,
                value: body.i64("value")?,
            },
            "cas" => KvOp::Cas {
                key,
                from: body.i64("from")?,
                to: body.i64("to")?,
            },
            other => unreachable!("not a lin-kv type: {other}"),
        };
        let id = RequestId {
            client: src.into(),
            seq,
        };
        let step = self.replica_mut().on_request(id, op);
        Ok(self.apply_or_stop(step))
    }

    /// Applies a step; if its state cannot be made durable, the node must stop (nothing is sent).
    fn apply_or_stop(&mut self, step: ReplicaStep) -> Vec<(String, Reply)> {
        self.apply_replica_step(step).unwrap_or_else(|error| {
            self.fatal = Some(error.0);
            vec![]
        })
    }

    /// The retry timer fired.
    pub fn on_timer(&mut self) -> Result<Vec<(String, Reply)>, ServeError> {
        let Some(replica) = self.replica.as_mut() else {
            return Ok(vec![]);
        };
        let step = replica.on_timeout();
        self.apply_replica_step(step)
    }

    /// Persist, then send, then answer; the timer change is left for the event loop.
    fn apply_replica_step(
        &mut self,
        step: ReplicaStep,
    ) -> Result<Vec<(String, Reply)>, ServeError> {
        let ReplicaStep {
            persist: state,
            send,
            replies,
            acceptances: _,
            slot_replies,
            timer,
            rejected,
        } = step;
        for note in rejected {
            self.log(format!("dropped a peer message: {note}"));
        }
        if let (false, Some(data_dir)) = (state.is_empty(), self.data_dir.clone()) {
            let id = self.own_id().expect("initialised").to_owned();
            let acceptor = &self.replica.as_ref().expect("initialised").acceptor;
            persist(&data_dir, &state_file(&data_dir, &id), acceptor)?;
        }
        if timer != TimerChange::Unchanged {
            self.timer = timer;
        }
        let ids = &self.membership.as_ref().expect("initialised").ids;
        let mut out = Vec::with_capacity(send.len() + replies.len());
        for (to, message) in send {
            out.push((ids[to].printed().to_owned(), wire::encode(&message, ids)));
        }
        for (id, result) in replies {
            out.push((id.client.to_string(), kv_reply(id.seq, result)));
        }
        for (id, decision) in slot_replies {
            let reply = Reply::new("multi_paxos_propose_ok", Some(id.seq))
                .with("slot", decision.slot)
                .with("phase1_skipped", decision.phase1_skipped)
                .with("chosen", true)
                .with("value", EntryValue(&decision.entry));
            out.push((id.client.to_string(), reply));
        }
        Ok(out)
    }

    /// `multi_paxos_propose` in a cluster: the value goes to the named slot through the leader,
    /// and the answer, from this node, is whatever the slot chose.
    pub(super) fn cluster_propose(
        &mut self,
        src: &str,
        body: &Fields<'_>,
        msg_id: Option<u64>,
    ) -> Result<Vec<(String, Reply)>, RequestError> {
        let seq = msg_id.ok_or_else(|| {
            RequestError::malformed("field msg_id is missing (a cluster proposal needs one)")
        })?;
        let slot = body.u64("slot")?;
        let value = body.value("value")?;
        let id = RequestId {
            client: src.into(),
            seq,
        };
        let step = self
            .replica_mut()
            .on_propose(id, slot, value.printed().to_owned())
            .map_err(|too_far| {
                RequestError::malformed(format!(
                    "field slot must be at most {} (this node accepts slots up to {SLOT_WINDOW} \
                     beyond the log it has applied)",
                    too_far.slot_max
                ))
            })?;
        Ok(self.apply_or_stop(step))
    }

    /// `multi_paxos_log`: the chosen slots this node has learned, in slot order.
    pub(super) fn cluster_log(&self, msg_id: Option<u64>) -> Reply {
        let replica = self.replica.as_ref().expect("created by init");
        let log: Vec<Object> = replica
            .log
            .iter()
            .map(|(slot, entry)| log_entry(slot, EntryValue(entry)))
            .collect();
        Reply::new("multi_paxos_log_ok", msg_id).with("log", log)
    }
}

/// A log entry as clients see it: a proposed value as itself, a lin-kv command or a no-op as the
/// core's entry.
struct EntryValue<'a>(&'a Entry);

impl WriteJson for EntryValue<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        match self.0 {
            // Kept as Python prints it; printed again, since a peer may have sent the text.
            // Text that is not JSON (only a faulty peer could send it) is shown as a string.
            Entry::Value { json } => match JsonValue::parse(json) {
                Ok(value) => value.write_json(out),
                Err(_) => json.as_str().write_json(out),
            },
            other => Serialized(other).write_json(out),
        }
    }
}

fn kv_reply(in_reply_to: u64, result: KvResult) -> Reply {
    let msg_id = Some(in_reply_to);
    match result {
        KvResult::ReadOk { value } => Reply::new("read_ok", msg_id).with("value", value),
        KvResult::WriteOk => Reply::new("write_ok", msg_id),
        KvResult::CasOk => Reply::new("cas_ok", msg_id),
        KvResult::Error { code } => {
            let text = if code == KEY_DOES_NOT_EXIST {
                "key does not exist"
            } else {
                "precondition failed: the current value is not 'from'"
            };
            Reply::new("error", msg_id)
                .with("code", code)
                .with("text", text)
        }
    }
}
