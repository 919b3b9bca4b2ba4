//! The node as one replica of a cluster: Maelstrom's `lin-kv` workload (`read`, `write`, `cas`)
//! served by `paxos_model::protocol::replica::Replica`, peer messages between nodes, the retry
//! timer, and the replica's records, written to its log (`store`) before any message leaves.
//!
//! Peer messages travel as Maelstrom messages between node ids, in the wire format of `wire`
//! (`paxos_prepare`, `paxos_promise`, ..., with protocol fields). A message from a peer is never
//! answered with an error: two nodes that disagree about a message would otherwise bounce errors
//! at each other forever; it is logged and dropped.

use super::{log_entry, wire, Node, ServeError, Stop};
use crate::codec::{Fields, JsonValue, Object, Reply, RequestError, Serialized, WriteJson};
use paxos_model::protocol::entry::{Entry, RequestId};
use paxos_model::protocol::kv::{KvOp, KvResult, KEY_DOES_NOT_EXIST};
use paxos_model::protocol::replica::{Pending, Replica, ReplicaStep, SlotRefused, SLOT_WINDOW};
use paxos_model::protocol::rules::TimerChange;

/// The `lin-kv` client requests.
pub const KV_TYPES: [&str; 3] = ["read", "write", "cas"];

impl Node {
    pub(super) fn replica_mut(&mut self) -> &mut Replica {
        self.replica.as_mut().expect("created by init")
    }

    /// The id of the node at `index` of the cluster, as the operator knows it.
    fn peer_name(&self, index: usize) -> String {
        let ids = &self.membership.as_ref().expect("initialised").ids;
        ids.get(index)
            .map_or_else(|| format!("node #{index}"), |id| id.decoded().to_string())
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
            self.stop = Some(Stop::serving(format!(
                "state could not be made durable: {}",
                error.0
            )));
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

    /// Persist, then send, then answer; the timer change is left for the event loop. The
    /// records are written here and fsynced by `make_durable` before the batch's output leaves
    /// (one fsync for a batch of input: group commit).
    pub(super) fn apply_replica_step(
        &mut self,
        step: ReplicaStep,
    ) -> Result<Vec<(String, Reply)>, ServeError> {
        let ReplicaStep {
            persist,
            send,
            replies,
            acceptances: _,
            slot_replies,
            timer,
            rejected,
            settled,
            caught_up_past,
        } = step;
        for (from, note) in rejected {
            let peer = self.peer_name(from);
            self.log(format!("dropped a message from peer {peer}: {note}"));
        }
        if let Some(store) = self.store.as_mut() {
            store.append(&persist).map_err(ServeError)?;
        }
        if timer != TimerChange::Unchanged {
            self.timer = timer;
        }
        let mut out = Vec::with_capacity(send.len() + replies.len() + 1);
        if let Some(settled) = settled {
            out.extend(self.on_settled(&settled.explain()));
        }
        if let Some(floor) = caught_up_past {
            self.log(format!(
                "learned the log past slot {floor}, the highest an earlier life may have accepted \
                 in: it promises any Phase 1 again, and may campaign"
            ));
        }
        let ids = &self.membership.as_ref().expect("initialised").ids;
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

    /// A probe settled: say so, with the floors the node took, for its operator, and answer the
    /// `init` that waited for it.
    fn on_settled(&mut self, why: &str) -> Option<(String, Reply)> {
        self.log(format!("started without state; this node votes: {why}"));
        let (client, msg_id) = self.init_waiting.take()?;
        Some((client, Reply::new("init_ok", msg_id)))
    }

    /// Requests still waiting on this node, one line each, as the end of input reports them:
    /// `c1 msg 5 write 1=7`, `c2 msg 9 multi_paxos_propose slot 3`.
    pub fn pending_requests(&self) -> Vec<String> {
        let Some(replica) = self.replica.as_ref() else {
            return Vec::new();
        };
        replica
            .pending()
            .into_iter()
            .map(|pending| match pending {
                Pending::Command { id, op: Some(op) } => {
                    format!("{} msg {} {op}", id.client, id.seq)
                }
                Pending::Command { id, op: None } => format!("{} msg {}", id.client, id.seq),
                Pending::Slot { id, slot } => {
                    format!(
                        "{} msg {} multi_paxos_propose slot {slot}",
                        id.client, id.seq
                    )
                }
            })
            .collect()
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
            .map_err(|refused| match refused {
                SlotRefused::TooFar { slot_max } => RequestError::malformed(format!(
                    "field slot must be at most {slot_max} (this node accepts slots up to \
                     {SLOT_WINDOW} beyond the log it has applied)"
                )),
                SlotRefused::Compacted { log_start } => RequestError::malformed(format!(
                    "field slot must be at least {log_start}: the slots below are chosen and \
                     were dropped with a snapshot of the log"
                )),
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
