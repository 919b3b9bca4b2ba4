//! The peer wire format: how the replica's messages (`PeerMessage`) travel between nodes, as
//! Maelstrom message bodies with protocol names, documented in the manual (`docs/wire-format.md`)
//! and decoded example by example in the tests below.
//!
//! A ballot is `[round, "node id"]`; an entry of the log is
//! `{"type":"command","client":"c4","seq":12,"op":{"type":"write","key":1,"value":7}}`,
//! `{"type":"value","value":<any JSON>}` (a value a client asked for in a named slot), or
//! `{"type":"noop"}`. Each message's fields:
//!
//! | `type` | fields |
//! |---|---|
//! | `paxos_prepare` | `ballot`, `from_slot` |
//! | `paxos_promise` | `ballot`, `accepted`: `[{"slot","ballot","entry"}, ...]` |
//! | `paxos_prepare_refused` | `ballot`, `promised` |
//! | `paxos_accept`, `paxos_accepted` | `slot`, `ballot`, `entry` |
//! | `paxos_accept_refused` | `slot`, `ballot`, `promised` |
//! | `paxos_forward` | `client`, `seq`, `op` |
//! | `paxos_forward_slot` | `slot`, `value` |
//! | `paxos_learn` | `slot`, `entry` |
//! | `paxos_catch_up` | `from_slot` |
//! | `paxos_catch_up_reply` | `entries`: `[{"slot","entry"}, ...]` |
//! | `paxos_install_snapshot` | `through`, `store`: `[{"key","value"}, ...]`, `clients`: `[{"client","seq","result"}, ...]`, `dropped`: `[{"client","seq"}, ...]`, `entries` |
//! | `paxos_probe` | `nonce` |
//! | `paxos_probe_reply` | `nonce`, `promised` (a ballot or `null`), `highest_slot` (or `null`) |
//!
//! Decoding is strict: a missing or mistyped field, or a ballot naming a node outside the
//! cluster, is an error naming the field, and the node logs and drops the message.

use crate::codec::{Fields, JsonStr, JsonValue, Object, Reply, RequestError, WriteJson};
use paxos_model::protocol::ballot::{Ballot, Proposal};
use paxos_model::protocol::durable::Snapshot;
use paxos_model::protocol::entry::{Entry, RequestId};
use paxos_model::protocol::kv::{Key, KvOp, KvResult, KvStore, KvValue};
use paxos_model::protocol::message::Message;
use paxos_model::protocol::replica::{Floors, PeerMessage};
use paxos_model::protocol::slots::Slot;
use std::collections::BTreeMap;

/// The `type` of each peer message.
pub const PEER_TYPES: [&str; 14] = [
    "paxos_prepare",
    "paxos_promise",
    "paxos_prepare_refused",
    "paxos_accept",
    "paxos_accepted",
    "paxos_accept_refused",
    "paxos_forward",
    "paxos_forward_slot",
    "paxos_learn",
    "paxos_catch_up",
    "paxos_catch_up_reply",
    "paxos_install_snapshot",
    "paxos_probe",
    "paxos_probe_reply",
];

/// The message's `type` on the wire.
pub fn peer_type(message: &PeerMessage) -> &'static str {
    match message {
        PeerMessage::Paxos(Message::Prepare { .. }) => "paxos_prepare",
        PeerMessage::Paxos(Message::Promise { .. }) => "paxos_promise",
        PeerMessage::Paxos(Message::PrepareRefused { .. }) => "paxos_prepare_refused",
        PeerMessage::Paxos(Message::Accept { .. }) => "paxos_accept",
        PeerMessage::Paxos(Message::Accepted { .. }) => "paxos_accepted",
        PeerMessage::Paxos(Message::AcceptRefused { .. }) => "paxos_accept_refused",
        PeerMessage::Forward { .. } => "paxos_forward",
        PeerMessage::ForwardSlot { .. } => "paxos_forward_slot",
        PeerMessage::Chosen { .. } => "paxos_learn",
        PeerMessage::CatchUp { .. } => "paxos_catch_up",
        PeerMessage::CatchUpReply { .. } => "paxos_catch_up_reply",
        PeerMessage::InstallSnapshot { .. } => "paxos_install_snapshot",
        PeerMessage::Probe { .. } => "paxos_probe",
        PeerMessage::ProbeReply { .. } => "paxos_probe_reply",
    }
}

/// `message` as a Maelstrom body; `ids` are the cluster's node ids, by index.
pub fn encode(message: &PeerMessage, ids: &[JsonStr<'static>]) -> Reply {
    let reply = Reply::new(peer_type(message), None);
    let ballot = |ballot: &Ballot| WireBallot(*ballot, ids);
    match message {
        PeerMessage::Paxos(Message::Prepare {
            ballot: b,
            from_slot,
        }) => reply
            .with("ballot", ballot(b))
            .with("from_slot", *from_slot),
        PeerMessage::Paxos(Message::Promise {
            ballot: b,
            accepted,
        }) => {
            let accepted: Vec<Object> = accepted
                .iter()
                .map(|(slot, proposal)| {
                    Object::new()
                        .with("slot", *slot)
                        .with("ballot", ballot(&proposal.ballot))
                        .with("entry", WireEntry(&proposal.value))
                })
                .collect();
            reply.with("ballot", ballot(b)).with("accepted", accepted)
        }
        PeerMessage::Paxos(Message::PrepareRefused {
            ballot: b,
            promised,
        }) => reply
            .with("ballot", ballot(b))
            .with("promised", ballot(promised)),
        PeerMessage::Paxos(
            Message::Accept { slot, proposal } | Message::Accepted { slot, proposal },
        ) => reply
            .with("slot", *slot)
            .with("ballot", ballot(&proposal.ballot))
            .with("entry", WireEntry(&proposal.value)),
        PeerMessage::Paxos(Message::AcceptRefused {
            slot,
            ballot: b,
            promised,
        }) => reply
            .with("slot", *slot)
            .with("ballot", ballot(b))
            .with("promised", ballot(promised)),
        PeerMessage::Forward { id, op } => reply
            .with("client", PrintedString(&id.client))
            .with("seq", id.seq)
            .with("op", WireOp(op)),
        PeerMessage::ForwardSlot { slot, json } => {
            reply.with("slot", *slot).with("value", WireValue(json))
        }
        PeerMessage::Chosen { slot, entry } => {
            reply.with("slot", *slot).with("entry", WireEntry(entry))
        }
        PeerMessage::CatchUp { from_slot } => reply.with("from_slot", *from_slot),
        PeerMessage::CatchUpReply { entries } => reply.with("entries", wire_entries(entries)),
        PeerMessage::InstallSnapshot { snapshot, entries } => {
            let store: Vec<Object> = snapshot
                .store
                .entries
                .iter()
                .map(|(key, value)| Object::new().with("key", *key).with("value", *value))
                .collect();
            let clients: Vec<Object> = snapshot
                .clients
                .iter()
                .map(|(id, result)| {
                    Object::new()
                        .with("client", PrintedString(&id.client))
                        .with("seq", id.seq)
                        .with("result", WireResult(result))
                })
                .collect();
            let dropped: Vec<Object> = snapshot
                .dropped
                .iter()
                .map(|id| {
                    Object::new()
                        .with("client", PrintedString(&id.client))
                        .with("seq", id.seq)
                })
                .collect();
            reply
                .with("through", snapshot.through)
                .with("store", store)
                .with("clients", clients)
                .with("dropped", dropped)
                .with("entries", wire_entries(entries))
        }
        PeerMessage::Probe { nonce } => reply.with("nonce", *nonce),
        PeerMessage::ProbeReply { nonce, floors } => reply
            .with("nonce", *nonce)
            .with("promised", floors.ballot.as_ref().map(ballot))
            .with("highest_slot", floors.slot),
    }
}

/// The peer message of type `message_type` whose body is `body`; `ids` are the cluster's node
/// ids, by index.
pub fn decode(
    message_type: &str,
    body: &Fields<'_>,
    ids: &[JsonStr<'static>],
) -> Result<PeerMessage, RequestError> {
    let ballot = |fields: &Fields<'_>, field: &str| decode_ballot(fields, field, ids);
    let message = match message_type {
        "paxos_prepare" => PeerMessage::Paxos(Message::Prepare {
            ballot: ballot(body, "ballot")?,
            from_slot: body.u64("from_slot")?,
        }),
        "paxos_promise" => {
            let accepted = body
                .array("accepted")?
                .into_iter()
                .enumerate()
                .map(|(index, raw)| {
                    let report = body.nested_element(raw, "accepted", index)?;
                    let proposal = Proposal::new(ballot(&report, "ballot")?, entry(&report)?);
                    Ok((report.u64("slot")?, proposal))
                })
                .collect::<Result<Vec<(Slot, Proposal<Entry>)>, RequestError>>()?;
            PeerMessage::Paxos(Message::Promise {
                ballot: ballot(body, "ballot")?,
                accepted,
            })
        }
        "paxos_prepare_refused" => PeerMessage::Paxos(Message::PrepareRefused {
            ballot: ballot(body, "ballot")?,
            promised: ballot(body, "promised")?,
        }),
        "paxos_accept" | "paxos_accepted" => {
            let slot = body.u64("slot")?;
            let proposal = Proposal::new(ballot(body, "ballot")?, entry(body)?);
            PeerMessage::Paxos(if message_type == "paxos_accept" {
                Message::Accept { slot, proposal }
            } else {
                Message::Accepted { slot, proposal }
            })
        }
        "paxos_accept_refused" => PeerMessage::Paxos(Message::AcceptRefused {
            slot: body.u64("slot")?,
            ballot: ballot(body, "ballot")?,
            promised: ballot(body, "promised")?,
        }),
        "paxos_forward" => PeerMessage::Forward {
            id: request_id(body)?,
            op: op(&body.nested("op")?)?,
        },
        "paxos_forward_slot" => PeerMessage::ForwardSlot {
            slot: body.u64("slot")?,
            json: body.value("value")?.printed().to_owned(),
        },
        "paxos_learn" => PeerMessage::Chosen {
            slot: body.u64("slot")?,
            entry: entry(body)?,
        },
        "paxos_catch_up" => PeerMessage::CatchUp {
            from_slot: body.u64("from_slot")?,
        },
        "paxos_catch_up_reply" => PeerMessage::CatchUpReply {
            entries: entries(body)?,
        },
        "paxos_install_snapshot" => {
            let through = body.u64("through")?;
            let store = body
                .array("store")?
                .into_iter()
                .enumerate()
                .map(|(index, raw)| {
                    let element = body.nested_element(raw, "store", index)?;
                    Ok((element.i64("key")?, element.i64("value")?))
                })
                .collect::<Result<BTreeMap<Key, KvValue>, RequestError>>()?;
            let clients = body
                .array("clients")?
                .into_iter()
                .enumerate()
                .map(|(index, raw)| {
                    let element = body.nested_element(raw, "clients", index)?;
                    Ok((request_id(&element)?, result(&element.nested("result")?)?))
                })
                .collect::<Result<Vec<(RequestId, KvResult)>, RequestError>>()?;
            let dropped = body
                .array("dropped")?
                .into_iter()
                .enumerate()
                .map(|(index, raw)| request_id(&body.nested_element(raw, "dropped", index)?))
                .collect::<Result<Vec<RequestId>, RequestError>>()?;
            PeerMessage::InstallSnapshot {
                snapshot: Snapshot {
                    through,
                    store: KvStore { entries: store },
                    clients,
                    dropped,
                },
                entries: entries(body)?,
            }
        }
        "paxos_probe" => PeerMessage::Probe {
            nonce: body.u64("nonce")?,
        },
        "paxos_probe_reply" => PeerMessage::ProbeReply {
            nonce: body.u64("nonce")?,
            floors: Floors {
                ballot: nullable(body, "promised", |field| ballot(body, field))?,
                slot: nullable(body, "highest_slot", |field| body.u64(field))?,
            },
        },
        other => {
            return Err(RequestError::malformed(format!(
                "{other} is not a peer message type"
            )))
        }
    };
    Ok(message)
}

/// The `entries` field of a catch-up answer or a snapshot: `[{"slot","entry"}, ...]`.
fn entries(body: &Fields<'_>) -> Result<Vec<(Slot, Entry)>, RequestError> {
    body.array("entries")?
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            let element = body.nested_element(raw, "entries", index)?;
            Ok((element.u64("slot")?, entry(&element)?))
        })
        .collect()
}

fn wire_entries(entries: &[(Slot, Entry)]) -> Vec<Object> {
    entries
        .iter()
        .map(|(slot, entry)| {
            Object::new()
                .with("slot", *slot)
                .with("entry", WireEntry(entry))
        })
        .collect()
}

/// A command's answer, as a snapshot's client table carries it: lin-kv's own reply types.
struct WireResult<'a>(&'a KvResult);

impl WriteJson for WireResult<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        let object = match *self.0 {
            KvResult::ReadOk { value } => {
                Object::new().with("type", "read_ok").with("value", value)
            }
            KvResult::WriteOk => Object::new().with("type", "write_ok"),
            KvResult::CasOk => Object::new().with("type", "cas_ok"),
            KvResult::Error { code } => Object::new().with("type", "error").with("code", code),
        };
        object.write_json(out);
    }
}

fn result(fields: &Fields<'_>) -> Result<KvResult, RequestError> {
    let kind = fields.string("type")?;
    match kind.printed() {
        "read_ok" => Ok(KvResult::ReadOk {
            value: fields.i64("value")?,
        }),
        "write_ok" => Ok(KvResult::WriteOk),
        "cas_ok" => Ok(KvResult::CasOk),
        "error" => Ok(KvResult::Error {
            code: fields.u64("code")?,
        }),
        other => Err(RequestError::malformed(format!(
            "a result's type is read_ok, write_ok, cas_ok or error, not {other}"
        ))),
    }
}

/// A field that must be there, and may be `null`.
fn nullable<T>(
    fields: &Fields<'_>,
    field: &str,
    decode: impl FnOnce(&str) -> Result<T, RequestError>,
) -> Result<Option<T>, RequestError> {
    match fields.raw(field) {
        None => Err(RequestError::malformed(format!("field {field} is missing"))),
        Some("null") => Ok(None),
        Some(_) => decode(field).map(Some),
    }
}

/// `[round, "node id"]`.
struct WireBallot<'a>(Ballot, &'a [JsonStr<'static>]);

impl WriteJson for WireBallot<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        let WireBallot(ballot, ids) = self;
        let proposer = &ids[ballot.proposer as usize];
        out.push(b'[');
        ballot.round.write_json(out);
        out.extend_from_slice(b", ");
        proposer.write_json(out);
        out.push(b']');
    }
}

fn decode_ballot(
    fields: &Fields<'_>,
    field: &str,
    ids: &[JsonStr<'static>],
) -> Result<Ballot, RequestError> {
    let shape = || {
        RequestError::malformed(format!(
            "field {field} must be a ballot: [round, \"node id\"]"
        ))
    };
    let parts = fields.array(field).map_err(|_| shape())?;
    let [round, proposer] = parts[..] else {
        return Err(shape());
    };
    let round: u64 = crate::codec::integer(round).ok_or_else(shape)?;
    let proposer = crate::codec::string(proposer).ok_or_else(shape)?;
    let index = ids
        .iter()
        .position(|id| id.printed() == proposer.printed())
        .ok_or_else(|| {
            RequestError::malformed(format!(
                "field {field} names node \"{}\", which is not in this cluster",
                proposer.printed()
            ))
        })?;
    Ok(Ballot::new(
        round,
        u32::try_from(index).expect("a cluster is small"),
    ))
}

/// A string kept in its printed form (a client id), written back as it came.
struct PrintedString<'a>(&'a str);

impl WriteJson for PrintedString<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'"');
        out.extend_from_slice(self.0.as_bytes());
        out.push(b'"');
    }
}

/// A client's value (JSON text as Python prints it), written as the JSON it is.
struct WireValue<'a>(&'a str);

impl WriteJson for WireValue<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        // Text that is not JSON (only a faulty peer could have sent it) goes as a string.
        match JsonValue::parse(self.0) {
            Ok(value) => value.write_json(out),
            Err(_) => self.0.write_json(out),
        }
    }
}

struct WireEntry<'a>(&'a Entry);

impl WriteJson for WireEntry<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        let object = match self.0 {
            Entry::Command { id, op } => Object::new()
                .with("type", "command")
                .with("client", PrintedString(&id.client))
                .with("seq", id.seq)
                .with("op", WireOp(op)),
            Entry::Value { json } => Object::new()
                .with("type", "value")
                .with("value", WireValue(json)),
            Entry::Noop => Object::new().with("type", "noop"),
            Entry::Batch { commands } => {
                let commands: Vec<Object> = commands
                    .iter()
                    .map(|(id, op)| {
                        Object::new()
                            .with("client", PrintedString(&id.client))
                            .with("seq", id.seq)
                            .with("op", WireOp(op))
                    })
                    .collect();
                Object::new()
                    .with("type", "batch")
                    .with("commands", commands)
            }
        };
        object.write_json(out);
    }
}

/// The `entry` field of `fields`.
fn entry(fields: &Fields<'_>) -> Result<Entry, RequestError> {
    let entry = fields.nested("entry")?;
    let kind = entry.string("type")?;
    match kind.printed() {
        "command" => Ok(Entry::Command {
            id: request_id(&entry)?,
            op: op(&entry.nested("op")?)?,
        }),
        "value" => Ok(Entry::Value {
            json: entry.value("value")?.printed().to_owned(),
        }),
        "noop" => Ok(Entry::Noop),
        "batch" => {
            let commands = entry
                .array("commands")?
                .into_iter()
                .enumerate()
                .map(|(index, raw)| {
                    let command = entry.nested_element(raw, "commands", index)?;
                    Ok((request_id(&command)?, op(&command.nested("op")?)?))
                })
                .collect::<Result<Vec<(RequestId, KvOp)>, RequestError>>()?;
            if commands.is_empty() {
                return Err(RequestError::malformed(
                    "a batch entry holds one command or more, not none",
                ));
            }
            Ok(Entry::Batch { commands })
        }
        other => Err(RequestError::malformed(format!(
            "an entry's type is command, value, noop or batch, not {other}"
        ))),
    }
}

fn request_id(fields: &Fields<'_>) -> Result<RequestId, RequestError> {
    Ok(RequestId {
        client: fields.string("client")?.printed().into(),
        seq: fields.u64("seq")?,
    })
}

/// A lin-kv operation, in lin-kv's own words.
struct WireOp<'a>(&'a KvOp);

impl WriteJson for WireOp<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        let object = match *self.0 {
            KvOp::Read { key } => Object::new().with("type", "read").with("key", key),
            KvOp::Write { key, value } => Object::new()
                .with("type", "write")
                .with("key", key)
                .with("value", value),
            KvOp::Cas { key, from, to } => Object::new()
                .with("type", "cas")
                .with("key", key)
                .with("from", from)
                .with("to", to),
        };
        object.write_json(out);
    }
}

fn op(fields: &Fields<'_>) -> Result<KvOp, RequestError> {
    let kind = fields.string("type")?;
    let key = fields.i64("key")?;
    match kind.printed() {
        "read" => Ok(KvOp::Read { key }),
        "write" => Ok(KvOp::Write {
            key,
            value: fields.i64("value")?,
        }),
        "cas" => Ok(KvOp::Cas {
            key,
            from: fields.i64("from")?,
            to: fields.i64("to")?,
        }),
        other => Err(RequestError::malformed(format!(
            "an op's type is read, write or cas, not {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{parse_line, write_message, ParsedLine};

    const WIRE_FORMAT: &str = include_str!("../../../docs/wire-format.md");

    fn ids() -> Vec<JsonStr<'static>> {
        ["n1", "n2", "n3"]
            .into_iter()
            .map(|id| JsonStr::from_printed(id.to_owned()))
            .collect()
    }

    /// The manual's examples of peer messages: every body line of its wire format chapter.
    fn documented_examples() -> Vec<&'static str> {
        WIRE_FORMAT
            .lines()
            .map(str::trim)
            .filter(|line| line.starts_with("{\"type\": \"paxos_"))
            .collect()
    }

    /// `body` decoded from the wire and printed again, as node n1 would print it with the same
    /// `msg_id`.
    fn round_trip(body: &str) -> Result<String, RequestError> {
        let line = format!("{{\"src\": \"n2\", \"dest\": \"n1\", \"body\": {body}}}");
        let Ok(ParsedLine::Message(envelope)) = parse_line(&line) else {
            panic!("not a message: {body}");
        };
        let message_type = envelope.body.message_type()?.printed().to_owned();
        let message = decode(&message_type, &envelope.body, &ids())?;
        let msg_id = envelope.body.msg_id().expect("the example has a msg_id");
        let mut out = Vec::new();
        write_message(&mut out, "n2", "n1", &encode(&message, &ids()), msg_id);
        let printed = String::from_utf8(out).expect("UTF-8");
        let body = printed
            .trim_end()
            .strip_prefix("{\"src\": \"n2\", \"dest\": \"n1\", \"body\": ")
            .and_then(|rest| rest.strip_suffix('}'))
            .expect("an envelope");
        Ok(body.to_owned())
    }

    #[test]
    fn every_documented_example_decodes_and_prints_back_byte_for_byte() {
        let examples = documented_examples();
        for example in &examples {
            assert_eq!(round_trip(example).as_deref(), Ok(*example));
        }
        for message_type in PEER_TYPES {
            let documented = format!("{{\"type\": \"{message_type}\",");
            assert!(
                examples
                    .iter()
                    .any(|example| example.starts_with(&documented)),
                "docs/wire-format.md has no example of {message_type}"
            );
        }
    }

    #[test]
    fn a_batch_of_commands_decodes_and_prints_back_byte_for_byte() {
        let accept = r#"{"type": "paxos_accept", "slot": 7, "ballot": [3, "n2"], "entry": {"type": "batch", "commands": [{"client": "c4", "seq": 12, "op": {"type": "write", "key": 1, "value": 7}}, {"client": "c5", "seq": 2, "op": {"type": "read", "key": 1}}]}, "msg_id": 23}"#;
        assert_eq!(round_trip(accept).as_deref(), Ok(accept));
    }

    #[test]
    fn a_malformed_peer_message_is_an_error_that_names_the_field() {
        let cases = [
            (
                r#"{"type": "paxos_accept", "slot": 7, "ballot": [3], "entry": {"type": "noop"}, "msg_id": 1}"#,
                "field ballot must be a ballot: [round, \"node id\"]",
            ),
            (
                r#"{"type": "paxos_accept", "slot": 7, "ballot": [3, "n9"], "entry": {"type": "noop"}, "msg_id": 1}"#,
                "field ballot names node \"n9\", which is not in this cluster",
            ),
            (
                r#"{"type": "paxos_promise", "ballot": [3, "n2"], "accepted": [{"slot": 0, "ballot": [1, "n1"], "entry": {"type": "command", "client": "c1", "seq": 1, "op": {"type": "write", "key": "k"}}}], "msg_id": 1}"#,
                "field accepted[0].entry.op.key must be an integer from -9223372036854775808 to 9223372036854775807",
            ),
            (
                r#"{"type": "paxos_learn", "slot": -1, "entry": {"type": "noop"}, "msg_id": 1}"#,
                "field slot must be an integer from 0 to 18446744073709551615",
            ),
            (
                r#"{"type": "paxos_learn", "slot": 1, "entry": {"type": "maybe"}, "msg_id": 1}"#,
                "an entry's type is command, value, noop or batch, not maybe",
            ),
            (
                r#"{"type": "paxos_learn", "slot": 1, "entry": {"type": "batch", "commands": []}, "msg_id": 1}"#,
                "a batch entry holds one command or more, not none",
            ),
        ];
        for (body, error) in cases {
            assert_eq!(
                round_trip(body).map_err(|error| error.text),
                Err(error.to_owned()),
                "{body}"
            );
        }
    }
}
