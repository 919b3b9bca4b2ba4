//! Property tests over the peer-message handler: a fuzz target run by `cargo test`.
//!
//! Peer messages arrive on the same stdin as clients' requests, so anyone who can write a line
//! can claim to be a peer (issue 13, item 4: a forged `paxos_learn` once panicked the node). A
//! generator writes peer lines in the wire format of `wire` (`docs/wire-format.md`), each
//! field drawn from what a peer really sends, from its limits (huge slots and rounds, slots at
//! the edge of the window a node takes a peer's word for) and from what no peer sends (wrong
//! types, node ids outside the cluster, entries that contradict each other, values that are not
//! JSON), and some lines are mutilated after (bytes cut, inserted, replaced, the line
//! truncated). Sequences of them, interleaved with client requests and timeouts, go to node n1 of
//! a cluster of three, through `Node::handle_line` as the event loop would hand them over.
//!
//! The sequences also hold healthy answers: a peer that promises for n1's latest Prepare, or
//! accepts its latest Accept, as an acceptor would. With those, and with small rounds and slots
//! the likeliest draws, forged messages are mixed into real progress: n1 campaigns, leads,
//! fills holes, decides and applies, so the sequences reach the leader's paths, not only the
//! decoder's refusals.
//!
//! The properties: the node never stops (no panic caught inside it, no half-applied step); a
//! slot it reported chosen keeps its entry whatever it is told later; and it answers a client
//! at the end.
//!
//! Rounds at and beyond the highest a node takes from a peer (`ROUND_MAX`) hit two bugs of the
//! replica, pinned by the ignored tests at the end; until they are fixed the default property
//! draws rounds just below the limit, and an ignored twin draws the rest.
//!
//! The default suite runs 256 cases (about a second). A long run, in the test profile so that
//! the replica's debug assertions check every step:
//! `PROPTEST_CASES=100000 cargo test -p paxos-node peer_properties` (add `-- --include-ignored`
//! for the rounds at the limit).

use super::{LineOutcome, Node};
use crate::codec::properties::mutilate;
use paxos_model::protocol::replica::{PEER_SLOT_WINDOW, ROUND_MAX, SLOT_WINDOW};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;
use std::collections::BTreeMap;

/// One input to the node.
#[derive(Clone, Debug)]
enum Input {
    /// A line that claims to come from a peer (or from whoever `src` names).
    Peer(String),
    /// A client's request, without its `msg_id` (the test numbers them).
    Client(String),
    /// The retry timer fires.
    Timeout,
    /// Peer `from` answers one of the requests n1 sent it (the `pick`-th latest, counting
    /// round those kept) as a healthy acceptor would: a promise for a Prepare, an acceptance for
    /// an Accept. With these among the forgeries n1 leads, decides and applies.
    Answer { from: &'static str, pick: usize },
}

/// Values no field should hold: wrong types, out of range, or not JSON numbers as the node
/// reads them.
fn junk() -> impl Strategy<Value = String> {
    select(vec![
        "-1",
        "2.5",
        "\"0\"",
        "null",
        "true",
        "{}",
        "[0]",
        "1e400",
        "18446744073709551616",
    ])
    .prop_map(String::from)
}

/// A node id as a peer line might name it: the two peers mostly, n1 itself, or none of the
/// cluster.
fn node_id() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        6 => select(vec!["n2", "n3"]),
        2 => Just("n1"),
        1 => select(vec!["n9", "c1", "", "N2"]),
    ]
}

/// The rounds near the highest a node takes from a peer (`ROUND_MAX`) that the default suite
/// draws: far enough below it that n1's own campaigns in one sequence stay below it too.
const ROUNDS_BELOW_THE_LIMIT: &[u64] = &[ROUND_MAX - 1_000, ROUND_MAX - 100];

/// The rounds at and beyond the limit. A node must drop a message naming one and serve on, but
/// two bugs in the replica stop it instead (debug builds) or lock it out of its own ballots (see
/// the ignored tests at the end): until they are fixed, only the ignored property draws these.
const ROUNDS_AT_THE_LIMIT: &[u64] = &[ROUND_MAX - 1, ROUND_MAX, ROUND_MAX + 1, u64::MAX];

/// A ballot round: small mostly, one of `limit_rounds`, or not a round at all.
fn round(limit_rounds: &'static [u64]) -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (0u64..4).prop_map(|round| round.to_string()),
        1 => select(limit_rounds).prop_map(|round| round.to_string()),
        1 => junk(),
    ]
}

fn slot() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (0u64..6).prop_map(|slot| slot.to_string()),
        1 => select(vec![
            SLOT_WINDOW + 1,
            PEER_SLOT_WINDOW,
            PEER_SLOT_WINDOW + 1,
            u64::MAX,
        ])
        .prop_map(|slot| slot.to_string()),
        1 => junk(),
    ]
}

/// `[round, "node id"]`, or something that is not one.
fn ballot(limit_rounds: &'static [u64]) -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (round(limit_rounds), node_id()).prop_map(|(round, id)| format!("[{round}, \"{id}\"]")),
        1 => select(vec!["[3]", "42", "\"b\"", "[1, 2]", "null", "[1, \"n2\", 0]"])
            .prop_map(String::from),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (0i64..3).prop_map(|key| key.to_string()),
        1 => select(vec!["9223372036854775808", "\"k\"", "null"]).prop_map(String::from),
    ]
}

/// A lin-kv operation as `paxos_forward` and a command entry carry it.
fn op() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => key().prop_map(|key| format!(r#"{{"type": "read", "key": {key}}}"#)),
        3 => (key(), 0i64..4).prop_map(|(key, value)| {
            format!(r#"{{"type": "write", "key": {key}, "value": {value}}}"#)
        }),
        2 => (key(), 0i64..4, 0i64..4).prop_map(|(key, from, to)| {
            format!(r#"{{"type": "cas", "key": {key}, "from": {from}, "to": {to}}}"#)
        }),
        1 => select(vec![
            r#"{"type": "delete", "key": 1}"#,
            r#"{"type": "write", "key": 1}"#,
            r#"{"type": "cas", "key": 1, "from": "a", "to": 2}"#,
            "[]",
        ])
        .prop_map(String::from),
    ]
}

/// A client's value, as `paxos_forward_slot` and a value entry carry it.
fn client_value() -> impl Strategy<Value = String> {
    select(vec![
        "\"first\"",
        "\"second\"",
        "1",
        "-0",
        "1E400",
        "{\"x\": [1, 2.5]}",
        "null",
        "\"{not json\"",
        "[]",
    ])
    .prop_map(String::from)
}

/// A log entry: a command, a value, a no-op, or no entry at all.
fn entry() -> impl Strategy<Value = String> {
    let client = select(vec!["c1", "c2"]);
    prop_oneof![
        2 => Just(r#"{"type": "noop"}"#.to_owned()),
        3 => (client, 0u64..4, op()).prop_map(|(client, seq, op)| {
            format!(r#"{{"type": "command", "client": "{client}", "seq": {seq}, "op": {op}}}"#)
        }),
        3 => client_value().prop_map(|value| format!(r#"{{"type": "value", "value": {value}}}"#)),
        1 => select(vec![
            r#"{"type": "maybe"}"#,
            r#"{"type": "command"}"#,
            r#"{"type": "value"}"#,
            r#"{"Value": {"json": "{not json"}}"#,
            r#"{"type": "command", "client": 3, "seq": -1, "op": {}}"#,
            "7",
        ])
        .prop_map(String::from),
    ]
}

/// `{"slot": ..., "ballot": ..., "entry": ...}`, as a promise reports an acceptance.
fn report(limit_rounds: &'static [u64]) -> impl Strategy<Value = String> {
    (slot(), ballot(limit_rounds), entry()).prop_map(|(slot, ballot, entry)| {
        format!(r#"{{"slot": {slot}, "ballot": {ballot}, "entry": {entry}}}"#)
    })
}

/// `{"slot": ..., "entry": ...}`, as a catch-up reply carries a chosen entry.
fn chosen() -> impl Strategy<Value = String> {
    (slot(), entry()).prop_map(|(slot, entry)| format!(r#"{{"slot": {slot}, "entry": {entry}}}"#))
}

/// A peer message's body fields after its `type`, one type per arm, as the wire format lists
/// them; and types that are no peer message.
fn peer_body(limit_rounds: &'static [u64]) -> impl Strategy<Value = String> {
    let list = |items: Vec<String>| items.join(", ");
    prop_oneof![
        1 => (ballot(limit_rounds), slot()).prop_map(|(ballot, slot)| {
            format!(r#""type": "paxos_prepare", "ballot": {ballot}, "from_slot": {slot}"#)
        }),
        1 => (ballot(limit_rounds), prop::collection::vec(report(limit_rounds), 0..3)).prop_map(move |(ballot, reports)| {
            format!(
                r#""type": "paxos_promise", "ballot": {ballot}, "accepted": [{}]"#,
                list(reports)
            )
        }),
        1 => (ballot(limit_rounds), ballot(limit_rounds)).prop_map(|(ballot, promised)| {
            format!(r#""type": "paxos_prepare_refused", "ballot": {ballot}, "promised": {promised}"#)
        }),
        1 => (select(vec!["paxos_accept", "paxos_accepted"]), slot(), ballot(limit_rounds), entry()).prop_map(
            |(kind, slot, ballot, entry)| {
                format!(r#""type": "{kind}", "slot": {slot}, "ballot": {ballot}, "entry": {entry}"#)
            }
        ),
        1 => (slot(), ballot(limit_rounds), ballot(limit_rounds)).prop_map(|(slot, ballot, promised)| {
            format!(
                r#""type": "paxos_accept_refused", "slot": {slot}, "ballot": {ballot}, "promised": {promised}"#
            )
        }),
        1 => (select(vec!["c1", "c2"]), 0u64..4, op()).prop_map(|(client, seq, op)| {
            format!(r#""type": "paxos_forward", "client": "{client}", "seq": {seq}, "op": {op}"#)
        }),
        1 => (slot(), client_value()).prop_map(|(slot, value)| {
            format!(r#""type": "paxos_forward_slot", "slot": {slot}, "value": {value}"#)
        }),
        3 => (slot(), entry()).prop_map(|(slot, entry)| {
            format!(r#""type": "paxos_learn", "slot": {slot}, "entry": {entry}"#)
        }),
        1 => slot().prop_map(|slot| format!(r#""type": "paxos_catch_up", "from_slot": {slot}"#)),
        2 => prop::collection::vec(chosen(), 0..4).prop_map(move |entries| {
            format!(r#""type": "paxos_catch_up_reply", "entries": [{}]"#, list(entries))
        }),
        1 => (slot(), 0i64..3, select(vec!["c1", "c2"]), 0u64..4, prop::collection::vec(chosen(), 0..3)).prop_map(
            move |(through, value, client, seq, entries)| {
                format!(
                    r#""type": "paxos_install_snapshot", "through": {through}, "store": [{{"key": 1, "value": {value}}}], "clients": [{{"client": "{client}", "seq": {seq}, "result": {{"type": "write_ok"}}}}], "dropped": [{{"client": "{client}", "seq": 0}}], "entries": [{}]"#,
                    list(entries)
                )
            }
        ),
        1 => prop_oneof![Just("7".to_owned()), junk()]
            .prop_map(|nonce| format!(r#""type": "paxos_probe", "nonce": {nonce}"#)),
        1 => (prop_oneof![Just("7".to_owned()), junk()], ballot(limit_rounds), slot()).prop_map(
            |(nonce, promised, slot)| {
                format!(
                    r#""type": "paxos_probe_reply", "nonce": {nonce}, "promised": {promised}, "highest_slot": {slot}"#
                )
            }
        ),
        1 => select(vec![
            r#""type": "bogus""#,
            r#""type": "init", "node_id": "n1", "node_ids": ["n1"]"#,
            r#""type": "error", "code": 13"#,
            r#""type": "read", "key": 1"#,
            r#""code": 13"#,
        ])
        .prop_map(String::from),
    ]
}

/// A peer line: `src` a peer (mostly), `dest` n1, the body, and at times a `msg_id`.
fn peer_line(limit_rounds: &'static [u64]) -> impl Strategy<Value = String> {
    (
        node_id(),
        peer_body(limit_rounds),
        prop::option::of(0u64..100),
    )
        .prop_map(|(src, body, msg_id)| {
            let msg_id = msg_id.map_or(String::new(), |id| format!(r#", "msg_id": {id}"#));
            format!(r#"{{"src": "{src}", "dest": "n1", "body": {{{body}{msg_id}}}}}"#)
        })
}

/// A client request the node answers at once (the log, the course's acceptor, a named slot),
/// or one that needs the cluster (lin-kv).
fn client_request() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(r#""type": "multi_paxos_log""#.to_owned()),
        1 => Just(r#""type": "paxos_chosen""#.to_owned()),
        2 => (0u64..6, client_value()).prop_map(|(slot, value)| {
            format!(r#""type": "multi_paxos_propose", "slot": {slot}, "value": {value}"#)
        }),
        2 => (0i64..3, 0i64..4).prop_map(|(key, value)| {
            format!(r#""type": "write", "key": {key}, "value": {value}"#)
        }),
        1 => (0i64..3).prop_map(|key| format!(r#""type": "read", "key": {key}"#)),
    ]
}

/// One input: a peer line, whole or mutilated, a client's request, a timeout or a healthy
/// answer.
fn input(limit_rounds: &'static [u64]) -> impl Strategy<Value = Input> {
    let edits = prop::collection::vec((any::<usize>(), any::<u8>(), any::<usize>()), 1..4);
    prop_oneof![
        8 => peer_line(limit_rounds).prop_map(Input::Peer),
        2 => (peer_line(limit_rounds), edits).prop_map(|(line, edits)| Input::Peer(mutilate(&line, &edits))),
        3 => client_request().prop_map(Input::Client),
        1 => Just(Input::Timeout),
        4 => (
            select(vec!["n2", "n3"]),
            prop_oneof![4 => Just(0usize), 2 => 1usize..4, 1 => any::<usize>()],
        )
            .prop_map(|(from, pick)| Input::Answer { from, pick }),
    ]
}

const INIT: &str = r#"{"src": "c0", "dest": "n1", "body": {"type": "init", "msg_id": 0, "node_id": "n1", "node_ids": ["n1", "n2", "n3"]}}"#;

/// A line the node printed, read as JSON. Python's `json` prints the non-finite floats bare
/// (`Infinity`, `NaN`), as the node does, and serde_json reads no such thing: they are read as
/// strings, which compare the same.
fn read_printed(line: &str) -> Option<Value> {
    serde_json::from_str(line)
        .ok()
        .or_else(|| serde_json::from_str(&quote_non_finite(line)).ok())
}

/// `line` with every `Infinity`, `-Infinity` and `NaN` outside a string put in quotes.
fn quote_non_finite(line: &str) -> String {
    let mut quoted = String::with_capacity(line.len() + 16);
    let (mut in_string, mut escaped) = (false, false);
    let mut rest = line;
    while let Some(character) = rest.chars().next() {
        let bare = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|word| !in_string && rest.starts_with(word));
        if let Some(word) = bare {
            quoted.push_str(&format!("\"{word}\""));
            rest = &rest[word.len()..];
            continue;
        }
        if escaped {
            escaped = false;
        } else if in_string && character == '\\' {
            escaped = true;
        } else if character == '"' {
            in_string = !in_string;
        }
        quoted.push(character);
        rest = &rest[character.len_utf8()..];
    }
    quoted
}

/// The client's answers among the node's output lines, by `in_reply_to`.
fn answers(out: &[u8]) -> BTreeMap<u64, Value> {
    String::from_utf8_lossy(out)
        .lines()
        .filter_map(read_printed)
        .filter(|message| message["dest"] == "c9")
        .filter_map(|message| {
            let body = message["body"].clone();
            Some((body["in_reply_to"].as_u64()?, body))
        })
        .collect()
}

/// Node n1, what it sent its peers, and what it has reported chosen.
struct Harness {
    node: Node,
    out: Vec<u8>,
    next_msg_id: u64,
    /// Every Prepare and Accept n1 sent to a peer, by recipient.
    requests_to: BTreeMap<String, Vec<Value>>,
    /// What n1's `multi_paxos_log` has said each slot holds.
    reported: BTreeMap<u64, Value>,
}

impl Harness {
    fn new() -> Result<Self, TestCaseError> {
        let mut harness = Harness {
            node: Node::new(None),
            out: Vec::new(),
            next_msg_id: 1,
            requests_to: BTreeMap::new(),
            reported: BTreeMap::new(),
        };
        let outcome = harness.node.handle_line(INIT, &mut harness.out);
        prop_assert!(outcome.stop.is_none() && outcome.diagnostic.is_none());
        // n1 started without state: it votes once both peers have answered its probe, which
        // in a new cluster they do with empty floors.
        let probes = String::from_utf8_lossy(&harness.out).into_owned();
        let nonce = probes
            .lines()
            .find_map(|line| {
                let message: Value = serde_json::from_str(line).ok()?;
                message["body"]["nonce"].as_u64()
            })
            .expect("n1 probes its peers");
        for peer in ["n2", "n3"] {
            let answer = format!(
                r#"{{"src": "{peer}", "dest": "n1", "body": {{"type": "paxos_probe_reply", "nonce": {nonce}, "promised": null, "highest_slot": null}}}}"#
            );
            harness.out.clear();
            let outcome = harness.node.handle_line(&answer, &mut harness.out);
            prop_assert!(outcome.stop.is_none() && outcome.diagnostic.is_none());
        }
        prop_assert!(
            String::from_utf8_lossy(&harness.out).contains("init_ok"),
            "n1 votes once both peers answered"
        );
        harness.out.clear();
        Ok(harness)
    }

    /// Hands `input` to n1; what it sends to its peers is kept for `Input::Answer`.
    fn serve(&mut self, input: &Input) -> LineOutcome {
        self.out.clear();
        let outcome = match input {
            Input::Peer(line) => self.node.handle_line(line, &mut self.out),
            Input::Client(body) => self.ask(body).1,
            Input::Timeout => self.node.handle_timeout(&mut self.out),
            Input::Answer { from, pick } => match self.healthy_answer(from, *pick) {
                Some(line) => self.node.handle_line(&line, &mut self.out),
                None => LineOutcome::default(),
            },
        };
        self.keep_requests_to_peers();
        outcome
    }

    /// Sends a client request from c9 with the next `msg_id`.
    fn ask(&mut self, body: &str) -> (u64, LineOutcome) {
        let msg_id = self.next_msg_id;
        self.next_msg_id += 1;
        let line =
            format!(r#"{{"src": "c9", "dest": "n1", "body": {{{body}, "msg_id": {msg_id}}}}}"#);
        (msg_id, self.node.handle_line(&line, &mut self.out))
    }

    /// Keeps the last `KEPT_REQUESTS` Prepares and Accepts n1 sent each peer (a forged promise
    /// can make it fill thousands of slots with no-ops: they need not all be answerable).
    fn keep_requests_to_peers(&mut self) {
        const KEPT_REQUESTS: usize = 64;
        let sent = String::from_utf8_lossy(&self.out).into_owned();
        let requests: Vec<&str> = sent
            .lines()
            .filter(|line| {
                line.contains(r#""type": "paxos_prepare", "#)
                    || line.contains(r#""type": "paxos_accept", "#)
            })
            .collect();
        let last = &requests[requests.len().saturating_sub(2 * KEPT_REQUESTS)..];
        for message in last.iter().filter_map(|line| read_printed(line)) {
            let dest = message["dest"].as_str().unwrap_or_default().to_owned();
            let kept = self.requests_to.entry(dest).or_default();
            if kept.len() == KEPT_REQUESTS {
                kept.remove(0);
            }
            kept.push(message["body"].clone());
        }
    }

    /// What acceptor `from` would answer to one of n1's requests to it, had it promised
    /// nothing higher (and accepted nothing: its promise reports no acceptance).
    fn healthy_answer(&self, from: &str, pick: usize) -> Option<String> {
        let requests = self.requests_to.get(from)?;
        let request = &requests[requests.len() - 1 - pick % requests.len()];
        let ballot = &request["ballot"];
        let body = match request["type"].as_str()? {
            "paxos_prepare" => {
                serde_json::json!({"type": "paxos_promise", "ballot": ballot, "accepted": []})
            }
            _ => serde_json::json!({"type": "paxos_accepted", "slot": request["slot"],
                "ballot": ballot, "entry": request["entry"]}),
        };
        Some(serde_json::json!({"src": from, "dest": "n1", "body": body}).to_string())
    }

    /// n1's log, checked against what it said before: a slot it reported chosen keeps its
    /// entry, whatever a peer claims after.
    fn check_log(&mut self, after: &Input) -> Result<(), TestCaseError> {
        self.out.clear();
        let (msg_id, outcome) = self.ask(r#""type": "multi_paxos_log""#);
        prop_assert!(outcome.stop.is_none());
        let answer = answers(&self.out).remove(&msg_id);
        let log = answer
            .as_ref()
            .and_then(|body| body["log"].as_array().cloned())
            .ok_or_else(|| TestCaseError::fail(format!("no log after {after:?}: {answer:?}")))?;
        for slot in log {
            let number = slot["slot"].as_u64().expect("a slot number");
            let earlier = self.reported.entry(number).or_insert(slot["value"].clone());
            prop_assert_eq!(
                &*earlier,
                &slot["value"],
                "slot {} changed after {:?}",
                number,
                after
            );
        }
        Ok(())
    }
}

/// Serves `inputs` to n1 and checks after each that it serves on and that no slot it reported
/// chosen changed; then that it answers a last client request.
fn serve(inputs: &[Input]) -> Result<(), TestCaseError> {
    let mut harness = Harness::new()?;
    for input in inputs {
        let outcome = harness.serve(input);
        prop_assert!(
            outcome.stop.is_none(),
            "n1 stopped after {:?}: {:?}",
            input,
            outcome.stop
        );
        harness.check_log(input)?;
    }
    harness.out.clear();
    let (msg_id, outcome) = harness.ask(r#""type": "paxos_chosen""#);
    prop_assert!(outcome.stop.is_none());
    let answer = answers(&harness.out).remove(&msg_id);
    prop_assert_eq!(
        answer.map(|body| body["type"].clone()),
        Some(Value::from("paxos_chosen_ok"))
    );
    Ok(())
}

/// 256 cases, or `PROPTEST_CASES`.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_sequence_of_peer_lines_stops_the_node_or_changes_what_it_learned(
        inputs in prop::collection::vec(input(ROUNDS_BELOW_THE_LIMIT), 1..60),
    ) {
        serve(&inputs)?;
    }

    /// The same, with ballots at and beyond `ROUND_MAX`, the highest round a peer may name.
    #[test]
    fn no_sequence_of_peer_lines_with_rounds_at_the_limit_stops_the_node(
        inputs in prop::collection::vec(input(ROUNDS_AT_THE_LIMIT), 1..60),
    ) {
        serve(&inputs)?;
    }
}

fn peer(from: &str, body: &str) -> Input {
    Input::Peer(format!(
        r#"{{"src": "{from}", "dest": "n1", "body": {body}}}"#
    ))
}

/// A Promise that is not for n1's ballot is one `Replica::ignores` passes over; one that also
/// reports an acceptance at a round beyond `ROUND_MAX` is dropped with a note. The note is no
/// change to the replica, so a debug build, which checks `ignores` against the handler, serves
/// on. (It used to stop here.)
#[test]
fn a_promise_reporting_a_round_beyond_the_limit_is_dropped_not_fatal() {
    let mut harness = Harness::new().expect("initialised");
    let beyond = ROUND_MAX + 1;
    let forged = peer(
        "n2",
        &format!(
            r#"{{"type": "paxos_promise", "ballot": [0, "n2"], "accepted": [{{"slot": 0, "ballot": [{beyond}, "n2"], "entry": {{"type": "noop"}}}}]}}"#
        ),
    );
    let outcome = harness.serve(&forged);
    assert_eq!(outcome.stop, None);
    assert!(
        outcome
            .notes
            .iter()
            .any(|note| note.contains("which no node of this cluster starts")),
        "{:?}",
        outcome.notes
    );
}

/// A peer may name round `ROUND_MAX` itself, and a node starts no ballot above it (its
/// `round_cap`), so that every ballot it starts is one its peers take in. A forged refusal that
/// names it leaves n1 unable to campaign: it stands down and forwards its client's write to
/// the node the refusal named, rather than start a ballot its own peers would drop. (It used to
/// campaign at `ROUND_MAX + 1`, drop every promise for that ballot, and refuse every lower
/// Prepare: locked out for good.)
#[test]
fn a_refusal_naming_the_highest_round_makes_the_node_defer_rather_than_overflow() {
    let mut harness = Harness::new().expect("initialised");
    let inputs = [
        Input::Client(r#""type": "write", "key": 1, "value": 7"#.into()),
        peer(
            "n2",
            &format!(
                r#"{{"type": "paxos_prepare_refused", "ballot": [1, "n1"], "promised": [{ROUND_MAX}, "n2"]}}"#
            ),
        ),
        Input::Timeout,
        Input::Timeout,
        Input::Answer {
            from: "n2",
            pick: 0,
        },
        Input::Answer {
            from: "n3",
            pick: 0,
        },
    ];
    let mut notes = Vec::new();
    let mut sent = String::new();
    for input in &inputs {
        let outcome = harness.serve(input);
        assert_eq!(outcome.stop, None, "after {input:?}");
        notes.extend(outcome.notes);
        sent += &String::from_utf8_lossy(&harness.out);
    }
    let out = sent;
    let beyond = format!("[{}, ", ROUND_MAX + 1);
    assert!(!out.contains(&beyond), "no ballot above ROUND_MAX: {out}");
    assert!(
        out.contains(r#""dest": "n2", "body": {"type": "paxos_forward""#),
        "n1 forwards to n2; it noted {notes:?}: {out}"
    );
}

/// Maelstrom sends every node its `init` at once, in no order: a peer that got its own first
/// may probe this node before this node knows who its peers are. The probe is kept, without a
/// word (an error would bounce between the two), and answered as soon as `init` names the
/// node: so no start order can leave a prober waiting on a probe that was lost.
#[test]
fn a_peer_message_before_init_is_kept_and_answered_right_after_it() {
    let probe = r#"{"src": "n2", "dest": "n1", "body": {"type": "paxos_probe", "nonce": 5}}"#;
    let mut node = Node::new(None);
    let mut out = Vec::new();
    let outcome = node.handle_line(probe, &mut out);
    assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
    assert_eq!(outcome.diagnostic, None);
    node.handle_line(INIT, &mut out);
    let sent = String::from_utf8_lossy(&out);
    assert!(
        sent.contains(
            r#""dest": "n2", "body": {"type": "paxos_probe_reply", "nonce": 5, "promised": null, "highest_slot": null"#
        ),
        "{sent}"
    );
}
