//! A client's value comes back from the real `paxos-node` exactly as the course's Python prints
//! what it read: `json.dumps(json.loads(text))`. Before the typed codec, integers beyond 64 bits
//! came back as floats (`2**70` as `1.1805916207174113e+21`), `-0` as `-0.0`, and a line holding
//! `1E400`, `NaN` or a lone surrogate (all of which Python reads) was dropped unanswered.
//!
//! The pinned table is checked against `python3` when the machine has one, and so is a stream of
//! random values (`PYTHON_JSON_VALUES` sets how many, default 3,000).

use paxos_e2e::run_node;
use rand::{Rng, SeedableRng};
use std::io::Write;
use std::process::{Command, Stdio};

const INIT: &str = r#"{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}}"#;

/// (a value as a client sent it, what CPython 3.11's json.dumps(json.loads(...)) prints).
const PINNED: &[(&str, &str)] = &[
    // 2**70 and beyond: every digit, never a float.
    ("1180591620717411303424", "1180591620717411303424"),
    ("-1180591620717411303424", "-1180591620717411303424"),
    (
        "[18446744073709551616, 123456789012345678901234567890123]",
        "[18446744073709551616, 123456789012345678901234567890123]",
    ),
    // -0 is the integer 0; -0.0 is the float.
    ("-0", "0"),
    ("-0.0", "-0.0"),
    ("[-0, 0, -0.0, 0.0, -0e0]", "[0, 0, -0.0, 0.0, -0.0]"),
    // Out of a float's range: the infinities, and a signed zero.
    ("1E400", "Infinity"),
    ("-1E400", "-Infinity"),
    ("1e-400", "0.0"),
    ("-1e-400", "-0.0"),
    // Python's own literals.
    ("NaN", "NaN"),
    ("Infinity", "Infinity"),
    ("-Infinity", "-Infinity"),
    (
        r#"{"nan":NaN,"inf":[Infinity,-Infinity]}"#,
        r#"{"nan": NaN, "inf": [Infinity, -Infinity]}"#,
    ),
    // Floats as repr prints them.
    ("1e16", r"1e+16"),
    ("0.1e1", "1.0"),
    ("1E+05", "100000.0"),
    (
        "123456789012345678901234567890e-10",
        "1.2345678901234567e+19",
    ),
    // Strings: lone surrogates kept, pairs as pairs, every non-ASCII character escaped.
    (r#""\ud800""#, r#""\ud800""#),
    (r#""\uDC00x\ud83d""#, r#""\udc00x\ud83d""#),
    (
        r#""\ud83d\ude00 😀 é\u00E9""#,
        r#""\ud83d\ude00 \ud83d\ude00 \u00e9\u00e9""#,
    ),
    // A repeated key: its first place, its last value.
    (r#"{"a":1,"b":2,"a":3}"#, r#"{"a": 3, "b": 2}"#),
    (r#"{"k":1,"\u006b":2}"#, r#"{"k": 2}"#),
];

fn accept(msg_id: usize, value: &str) -> String {
    format!(
        r#"{{"src":"c1","dest":"n1","body":{{"type":"paxos_accept","msg_id":{msg_id},"proposal_n":{msg_id},"value":{value}}}}}"#
    )
}

fn accepted(in_reply_to: usize, printed: &str, msg_id: usize) -> String {
    format!(
        r#"{{"src": "n1", "dest": "c1", "body": {{"type": "paxos_accepted", "in_reply_to": {in_reply_to}, "accepted": true, "proposal_n": {in_reply_to}, "value": {printed}, "msg_id": {msg_id}}}}}"#
    )
}

/// Sends each value in a `paxos_accept` at a rising ballot and checks every reply, byte for byte.
/// A node gets at most 20,000 values: its learner counts every distinct proposal it accepted by
/// searching those before, so one node fed a million would take minutes.
fn assert_echoed_as_python_prints(cases: &[(String, String)]) {
    for chunk in cases.chunks(20_000) {
        assert_one_node_echoes_as_python_prints(chunk);
    }
}

fn assert_one_node_echoes_as_python_prints(cases: &[(String, String)]) {
    let mut input = format!("{INIT}\n");
    for (index, (sent, _)) in cases.iter().enumerate() {
        input.push_str(&accept(index + 2, sent));
        input.push('\n');
    }
    let finished = run_node(&input);
    let replies: Vec<&str> = finished.stdout.lines().collect();
    assert_eq!(
        replies.len(),
        cases.len() + 1,
        "every line answered, none dropped; stderr:\n{}",
        finished.stderr
    );
    for (index, (sent, python)) in cases.iter().enumerate() {
        assert_eq!(
            replies[index + 1],
            accepted(index + 2, python, index + 1),
            "the value {sent}"
        );
    }
}

fn pinned() -> Vec<(String, String)> {
    PINNED
        .iter()
        .map(|(sent, python)| (sent.to_string(), python.to_string()))
        .collect()
}

#[test]
fn values_come_back_with_python_s_numbers_and_strings() {
    assert_echoed_as_python_prints(&pinned());
}

#[test]
fn a_value_keeps_its_text_through_promises_chosen_and_the_multi_paxos_log() {
    let sent = r#"{"big":1180591620717411303424,"zero":-0,"inf":1E400,"s":"\ud800"}"#;
    let python = r#"{"big": 1180591620717411303424, "zero": 0, "inf": Infinity, "s": "\ud800"}"#;
    let input = [
        INIT.to_owned(),
        accept(2, sent),
        r#"{"src":"c2","dest":"n1","body":{"type":"paxos_prepare","msg_id":3,"proposal_n":9}}"#
            .to_owned(),
        r#"{"src":"c2","dest":"n1","body":{"type":"paxos_chosen","msg_id":4}}"#.to_owned(),
        format!(
            r#"{{"src":"c3","dest":"n1","body":{{"type":"multi_paxos_propose","msg_id":5,"slot":1,"value":{sent}}}}}"#
        ),
        r#"{"src":"c3","dest":"n1","body":{"type":"multi_paxos_log","msg_id":6}}"#.to_owned(),
    ]
    .join("\n");
    let finished = run_node(&input);
    let replies: Vec<&str> = finished.stdout.lines().collect();
    assert_eq!(replies.len(), 6, "{}", finished.stdout);
    assert!(replies[2].contains(&format!(r#""accepted_n": 2, "accepted_value": {python}, "#)));
    assert!(replies[3].contains(&format!(r#""value": {python}, "chosen_at_n": 2"#)));
    assert!(replies[4].contains(&format!(r#""chosen": true, "value": {python}, "#)));
    assert!(replies[5].contains(&format!(
        r#""log": [{{"slot": 1, "value": {python}, "status": "chosen"}}]"#
    )));
}

/// What `python3` prints for each text, or `None` without a `python3` to ask.
fn python_prints(texts: &[String]) -> Option<Vec<String>> {
    const SCRIPT: &str = "import json, sys\n\
        for line in sys.stdin:\n    \
            try:\n        print(json.dumps(json.loads(line)))\n    \
            except Exception as error:\n        print('refused: ' + type(error).__name__)\n";
    let mut python = match Command::new("python3")
        .args(["-c", SCRIPT])
        .env("PYTHONUTF8", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    {
        Ok(python) => python,
        Err(error) => {
            eprintln!("note: no python3 to compare with ({error})");
            return None;
        }
    };
    let mut stdin = python.stdin.take().expect("piped");
    let input: String = texts.iter().map(|text| format!("{text}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = python.wait_with_output().expect("python3 runs");
    writer.join().expect("writer").expect("python3 reads");
    assert!(output.status.success(), "python3 failed");
    let printed: Vec<String> = String::from_utf8(output.stdout)
        .expect("ASCII")
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(printed.len(), texts.len(), "one line per text");
    Some(printed)
}

#[test]
fn the_pinned_table_is_what_python_prints() {
    let sent: Vec<String> = PINNED.iter().map(|(sent, _)| sent.to_string()).collect();
    let Some(printed) = python_prints(&sent) else {
        return;
    };
    for ((sent, pinned), python) in PINNED.iter().zip(printed) {
        assert_eq!(*pinned, python, "json.dumps(json.loads({sent:?}))");
    }
}

#[test]
fn random_values_come_back_as_python_prints_them() {
    let count: usize = std::env::var("PYTHON_JSON_VALUES")
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(3_000);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x7f3a_11d5);
    // Wrapped in an array, so that no value is null (which the node refuses, and rightly).
    let texts: Vec<String> = (0..count)
        .map(|_| format!("[{}]", random_value(&mut rng, 0)))
        .collect();
    let Some(printed) = python_prints(&texts) else {
        return;
    };
    let cases: Vec<(String, String)> = texts.into_iter().zip(printed).collect();
    assert!(
        cases
            .iter()
            .all(|(_, python)| !python.starts_with("refused")),
        "the generator writes only what Python reads"
    );
    assert_echoed_as_python_prints(&cases);
}

/// Random JSON as a client might spell it, heavy on what Python reads differently from strict
/// JSON parsers: big and negative-zero integers, floats out of range, NaN and the infinities,
/// escapes of every kind (lone surrogates too), raw non-ASCII, repeated keys, whitespace.
fn random_value(rng: &mut impl Rng, depth: usize) -> String {
    let kinds = if depth < 3 { 10 } else { 7 };
    match rng.random_range(0..kinds) {
        0 => ["true", "false", "null", "NaN", "Infinity", "-Infinity"][rng.random_range(0..6)]
            .to_owned(),
        1 => random_integer(rng),
        2 | 3 => random_float(rng),
        4..=6 => random_string(rng),
        7 | 8 => {
            let elements: Vec<String> = (0..rng.random_range(0..5))
                .map(|_| format!("{}{}{}", gap(rng), random_value(rng, depth + 1), gap(rng)))
                .collect();
            format!("[{}]", elements.join(","))
        }
        _ => {
            const KEYS: [&str; 7] = [
                r#""a""#,
                r#""\u0061""#,
                r#""b""#,
                r#""é""#,
                r#""\u00e9""#,
                r#""\ud800""#,
                r#""""#,
            ];
            let members: Vec<String> = (0..rng.random_range(0..5))
                .map(|_| {
                    let key = KEYS[rng.random_range(0..KEYS.len())];
                    format!(
                        "{}{key}{}:{}",
                        gap(rng),
                        gap(rng),
                        random_value(rng, depth + 1)
                    )
                })
                .collect();
            format!("{{{}}}", members.join(","))
        }
    }
}

fn gap(rng: &mut impl Rng) -> &'static str {
    ["", "", "", " ", "\t", "  "][rng.random_range(0..6)]
}

fn digits(rng: &mut impl Rng, count: usize) -> String {
    (0..count)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

fn random_integer(rng: &mut impl Rng) -> String {
    let sign = if rng.random_bool(0.4) { "-" } else { "" };
    match rng.random_range(0..4) {
        0 => format!("{sign}0"),
        1 => format!("{sign}{}", rng.random_range(1..1_000_000u32)),
        _ => {
            let length = rng.random_range(1..40);
            format!("{sign}{}{}", rng.random_range(1..10u8), digits(rng, length))
        }
    }
}

fn random_float(rng: &mut impl Rng) -> String {
    let mut text = random_integer(rng);
    let fraction = rng.random_bool(0.6);
    if fraction {
        let length = rng.random_range(1..20);
        text.push('.');
        text.push_str(&digits(rng, length));
    }
    if !fraction || rng.random_bool(0.5) {
        text.push(if rng.random_bool(0.5) { 'e' } else { 'E' });
        text.push_str(["", "+", "-"][rng.random_range(0..3)]);
        let exponent = rng.random_range(0..420u32);
        let padding = "0".repeat(rng.random_range(0..3));
        text.push_str(&format!("{padding}{exponent}"));
    }
    text
}

fn random_string(rng: &mut impl Rng) -> String {
    let mut text = String::from("\"");
    for _ in 0..rng.random_range(0..10) {
        match rng.random_range(0..6) {
            0 | 1 => {
                let byte = rng.random_range(0x20..0x7fu8);
                match byte {
                    b'"' => text.push_str("\\\""),
                    b'\\' => text.push_str("\\\\"),
                    _ => text.push(char::from(byte)),
                }
            }
            2 => {
                let escapes = ["\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"];
                text.push_str(escapes[rng.random_range(0..escapes.len())]);
            }
            3 => {
                let unit: u16 = rng.random();
                if rng.random_bool(0.5) {
                    text.push_str(&format!("\\u{unit:04x}"));
                } else {
                    text.push_str(&format!("\\u{unit:04X}"));
                }
            }
            4 => {
                // A surrogate escape, often unpaired.
                let unit = rng.random_range(0xd800..0xe000u16);
                text.push_str(&format!("\\u{unit:04x}"));
            }
            _ => {
                let raw = ['é', 'ß', '世', '😀', '\u{7f}', '\u{2028}', '\u{fffd}', '𝄞'];
                text.push(raw[rng.random_range(0..raw.len())]);
            }
        }
    }
    text.push('"');
    text
}
