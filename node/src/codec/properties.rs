//! Property tests over the line decoder and the printer: a fuzz target run by `cargo test`.
//!
//! A generator builds JSON values the way Python sees them and spells each one at random the
//! way a client might send it (escaped or raw characters, upper- or lowercase hex, lone
//! surrogates, any spelling of a number, NaN and the infinities, repeated keys, whitespace),
//! together with what Python's `json.dumps(json.loads(text))` prints for it, worked out here
//! independently of the printer under test. The properties: the node prints exactly that,
//! through the whole decoder too; printing is idempotent; key order does not make values
//! differ; and no text at all, arbitrary or a mutilated request, makes the decoder panic or
//! call strict JSON "not JSON".
//!
//! The default suite runs 1,024 cases per property (under a second). A long run:
//! `PROPTEST_CASES=1000000 cargo test -p paxos-node --release properties`.

use super::python::{self, KeyOrder};
use super::request::{parse_line, ParsedLine};
use super::value::JsonValue;
use proptest::prelude::*;
use proptest::sample::select;

/// One value: how a client spelled it, and what Python prints for it.
#[derive(Clone, Debug)]
struct Spelled {
    text: String,
    python: String,
}

/// What Python's `ensure_ascii` prints for one UTF-16 code unit, written out from the spec
/// (`json.encoder.ESCAPE_DCT` and `\uXXXX` with lowercase hex), not from the printer.
fn python_unit(unit: u16) -> String {
    match unit {
        0x22 => "\\\"".into(),
        0x5c => "\\\\".into(),
        0x0a => "\\n".into(),
        0x0d => "\\r".into(),
        0x09 => "\\t".into(),
        0x08 => "\\b".into(),
        0x0c => "\\f".into(),
        0x20..=0x7e => char::from(unit as u8).to_string(),
        _ => format!("\\u{unit:04x}"),
    }
}

/// One piece of a string: a character sent raw, or one escape.
fn string_piece() -> impl Strategy<Value = (String, String)> {
    // Quote and backslash must be escaped; chosen from the rest rather than filtered, so that
    // long runs never run out of proptest's rejects.
    let printable: Vec<u8> = (0x20u8..0x7f)
        .filter(|byte| *byte != b'"' && *byte != b'\\')
        .collect();
    let raw_ascii = select(printable).prop_map(|byte| {
        let text = char::from(byte).to_string();
        (text.clone(), python_unit(u16::from(byte)))
    });
    let raw_other = select(vec![
        'é', 'ü', '世', '😀', '\u{7f}', '\u{2028}', '\u{ffff}', '𝄞',
    ])
    .prop_map(|character| {
        let mut units = [0u16; 2];
        let python = character
            .encode_utf16(&mut units)
            .iter()
            .map(|unit| python_unit(*unit))
            .collect();
        (character.to_string(), python)
    });
    let short_escape = select(vec![
        ("\\\"", 0x22u16),
        ("\\\\", 0x5c),
        ("\\/", 0x2f),
        ("\\b", 0x08),
        ("\\f", 0x0c),
        ("\\n", 0x0a),
        ("\\r", 0x0d),
        ("\\t", 0x09),
    ])
    .prop_map(|(escape, unit)| (escape.to_owned(), python_unit(unit)));
    // Any code unit, lone surrogates included, in either case of hex digits.
    let unicode_escape = (any::<u16>(), any::<bool>()).prop_map(|(unit, upper)| {
        let text = if upper {
            format!("\\u{unit:04X}")
        } else {
            format!("\\u{unit:04x}")
        };
        (text, python_unit(unit))
    });
    prop_oneof![
        4 => raw_ascii,
        2 => raw_other,
        1 => short_escape,
        2 => unicode_escape,
    ]
}

fn string() -> impl Strategy<Value = Spelled> {
    prop::collection::vec(string_piece(), 0..12).prop_map(|pieces| {
        let (text, python): (String, String) = pieces.into_iter().unzip();
        Spelled {
            text: format!("\"{text}\""),
            python: format!("\"{python}\""),
        }
    })
}

/// Integers: Python keeps every digit, and reads `-0` as 0.
fn integer() -> impl Strategy<Value = Spelled> {
    let small = any::<i64>().prop_map(|value| value.to_string());
    let huge = "-?[1-9][0-9]{19,60}";
    prop_oneof![small, huge, Just("-0".to_owned()), Just("0".to_owned())].prop_map(|text| {
        let python = if text == "-0" {
            "0".to_owned()
        } else {
            text.clone()
        };
        Spelled { text, python }
    })
}

/// Floats, spelled in every way JSON allows, and the literals Python adds.
fn float() -> impl Strategy<Value = Spelled> {
    // Finite by construction (any::<f64>() filtered would run out of rejects on long runs).
    let finite = any::<f64>().prop_map(|value| if value.is_finite() { value } else { 0.5 });
    let spelled = (finite, 0..5usize).prop_map(|(value, style)| {
        let text = match style {
            0 => format!("{value:e}"),
            1 => format!("{value:E}").replace("E", "E+").replace("E+-", "E-"),
            2 => format!("{value:?}"),
            3 => {
                // Rounded to 4 digits, with a zero-padded exponent: "1.500e-007".
                let rounded = format!("{value:.3e}");
                let (mantissa, exponent) = rounded.split_once('e').expect("an exponent");
                let exponent: i32 = exponent.parse().expect("an integer");
                let sign = if exponent < 0 { "-" } else { "" };
                format!("{mantissa}e{sign}{:03}", exponent.unsigned_abs())
            }
            _ => format!("{:?}", value.trunc()),
        };
        let number: f64 = text.parse().expect("a Rust float spelling");
        let mut python = Vec::new();
        python::write_float(&mut python, number);
        Spelled {
            text,
            python: String::from_utf8(python).expect("ASCII"),
        }
    });
    let literal = select(vec![
        ("NaN", "NaN"),
        ("Infinity", "Infinity"),
        ("-Infinity", "-Infinity"),
        ("1E400", "Infinity"),
        ("-1e999", "-Infinity"),
        ("1e-400", "0.0"),
        ("-1e-400", "-0.0"),
        ("-0.0", "-0.0"),
        ("0e0", "0.0"),
        ("1.0", "1.0"),
        ("1e16", "1e+16"),
        (
            "123456789012345678901234567890e-10",
            "1.2345678901234567e+19",
        ),
    ])
    .prop_map(|(text, python)| Spelled {
        text: text.into(),
        python: python.into(),
    });
    prop_oneof![3 => spelled, 1 => literal]
}

fn leaf() -> impl Strategy<Value = Spelled> {
    let literal = select(vec!["true", "false", "null"]).prop_map(|text| Spelled {
        text: text.into(),
        python: text.into(),
    });
    prop_oneof![1 => literal, 1 => integer(), 1 => float(), 3 => string()]
}

/// Whitespace Python skips between tokens (not newlines: a request is one line).
fn gap() -> impl Strategy<Value = &'static str> {
    select(vec!["", "", "", " ", "\t", "  \t "])
}

fn array(inner: BoxedStrategy<Spelled>) -> impl Strategy<Value = Spelled> {
    prop::collection::vec((gap(), inner, gap()), 0..6).prop_map(|elements| {
        let text: Vec<String> = elements
            .iter()
            .map(|(before, element, after)| format!("{before}{}{after}", element.text))
            .collect();
        let python: Vec<&str> = elements.iter().map(|(_, e, _)| e.python.as_str()).collect();
        Spelled {
            text: format!("[{}]", text.join(",")),
            python: format!("[{}]", python.join(", ")),
        }
    })
}

/// Keys from a small set, some spelled two ways, so that keys repeat: Python's `dict` keeps a
/// repeated key where it first appeared, with its last value.
fn key() -> impl Strategy<Value = Spelled> {
    select(vec![
        ("\"a\"", "\"a\""),
        ("\"\\u0061\"", "\"a\""),
        ("\"b\"", "\"b\""),
        ("\"é\"", "\"\\u00e9\""),
        ("\"\\u00E9\"", "\"\\u00e9\""),
        ("\"\\ud800\"", "\"\\ud800\""),
        ("\"type\"", "\"type\""),
        ("\"\"", "\"\""),
    ])
    .prop_map(|(text, python)| Spelled {
        text: text.into(),
        python: python.into(),
    })
}

fn object(inner: BoxedStrategy<Spelled>) -> impl Strategy<Value = Spelled> {
    prop::collection::vec((key(), gap(), inner), 0..6).prop_map(|members| {
        let text: Vec<String> = members
            .iter()
            .map(|(key, gap, value)| format!("{gap}{}{gap}:{gap}{}{gap}", key.text, value.text))
            .collect();
        let mut kept: Vec<(&str, &str)> = Vec::new();
        for (key, _, value) in &members {
            match kept.iter_mut().find(|(seen, _)| *seen == key.python) {
                Some(slot) => slot.1 = &value.python,
                None => kept.push((&key.python, &value.python)),
            }
        }
        let python: Vec<String> = kept
            .iter()
            .map(|(key, value)| format!("{key}: {value}"))
            .collect();
        Spelled {
            text: format!("{{{}}}", text.join(",")),
            python: format!("{{{}}}", python.join(", ")),
        }
    })
}

fn value() -> impl Strategy<Value = Spelled> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![array(inner.clone()), object(inner)]
    })
}

fn printed(text: &str, order: KeyOrder) -> String {
    let mut out = Vec::new();
    python::print_value(text, order, &mut out).expect("valid JSON");
    String::from_utf8(out).expect("ASCII")
}

fn request_line(value: &str) -> String {
    format!(
        r#"{{"src":"c1","dest":"n1","body":{{"type":"paxos_accept","msg_id":7,"proposal_n":1,"value":{value}}}}}"#
    )
}

/// Every accessor a handler might call, on every field: none may panic.
fn read_every_field(line: &str) {
    let Ok(ParsedLine::Message(envelope)) = parse_line(line) else {
        return;
    };
    let body = &envelope.body;
    let _ = (body.msg_id(), body.message_type());
    for field in [
        "type",
        "msg_id",
        "proposal_n",
        "value",
        "payload",
        "node_ids",
    ] {
        let _ = body.u64(field);
        let _ = body.i64(field);
        let _ = body.optional_u64(field);
        let _ = body.string(field);
        let _ = body.optional_string(field);
        let _ = body.strings(field);
        let _ = body.value(field);
        if let Ok(elements) = body.array(field) {
            for (index, element) in elements.into_iter().enumerate() {
                if let Ok(item) = super::Fields::element(element, "proposals", index) {
                    let _ = (
                        item.u64("n"),
                        item.value("value"),
                        item.strings("accepted_by"),
                    );
                }
            }
        }
    }
}

/// Cuts, duplicates or replaces bytes of a line (keeping it UTF-8, as the event loop does).
pub(crate) fn mutilate(line: &str, edits: &[(usize, u8, usize)]) -> String {
    let mut bytes = line.as_bytes().to_vec();
    const NOISE: &[u8] = b"{}[]\",:\\ 0-9eEnNaIu.+\t";
    for &(position, kind, noise) in edits {
        if bytes.is_empty() {
            break;
        }
        let at = position % bytes.len();
        let byte = NOISE[noise % NOISE.len()];
        match kind % 4 {
            0 => {
                bytes.remove(at);
            }
            1 => bytes.insert(at, byte),
            2 => bytes[at] = byte,
            _ => bytes.truncate(at),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// 1,024 cases per property, or `PROPTEST_CASES`.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(1024);
    ProptestConfig::with_cases(cases)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn values_print_as_python_prints_what_it_read(value in value()) {
        prop_assert_eq!(printed(&value.text, KeyOrder::AsSent), value.python.clone());
        let kept = JsonValue::parse(&value.text).unwrap();
        prop_assert_eq!(kept.printed(), value.python.as_str());
    }

    #[test]
    fn printing_is_idempotent_and_keeps_the_value(value in value()) {
        let once = printed(&value.text, KeyOrder::AsSent);
        prop_assert_eq!(printed(&once, KeyOrder::AsSent), once.clone());
        prop_assert_eq!(printed(&once, KeyOrder::Sorted), printed(&value.text, KeyOrder::Sorted));
        prop_assert_eq!(JsonValue::parse(&once).unwrap(), JsonValue::parse(&value.text).unwrap());
    }

    #[test]
    fn a_request_carrying_any_value_is_decoded_to_what_python_prints(value in value()) {
        let line = request_line(&value.text);
        let Ok(ParsedLine::Message(envelope)) = parse_line(&line) else {
            return Err(TestCaseError::fail(format!("not a message: {line}")));
        };
        prop_assert_eq!(envelope.body.msg_id(), Some(7));
        match envelope.body.value("value") {
            Ok(decoded) => prop_assert_eq!(decoded.printed(), value.python.as_str()),
            Err(error) => prop_assert!(value.python == "null", "{}", error),
        }
    }

    #[test]
    fn key_order_does_not_make_values_differ(
        members in prop::collection::vec((0..6usize, value()), 1..6),
        rotation in 0..6usize,
    ) {
        let distinct: Vec<(String, String)> = members
            .iter()
            .enumerate()
            .map(|(index, (_, value))| (format!("\"k{index}\""), value.text.clone()))
            .collect();
        let spell = |members: &[(String, String)]| {
            let members: Vec<String> = members.iter().map(|(k, v)| format!("{k}:{v}")).collect();
            format!("{{{}}}", members.join(","))
        };
        let mut rotated = distinct.clone();
        rotated.rotate_left(rotation % distinct.len());
        prop_assert_eq!(
            JsonValue::parse(&spell(&distinct)).unwrap(),
            JsonValue::parse(&spell(&rotated)).unwrap()
        );
    }

    #[test]
    fn arbitrary_text_never_makes_the_decoder_panic(text in any::<String>()) {
        read_every_field(&text);
    }

    #[test]
    fn a_mutilated_request_never_makes_the_decoder_panic_or_refuse_strict_json(
        value in value(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<usize>()), 1..4),
    ) {
        let line = mutilate(&request_line(&value.text), &edits);
        read_every_field(&line);
        // What serde_json accepts is strict JSON, which Python (and so the node) reads too.
        if serde_json::from_str::<serde_json::Value>(&line).is_ok() {
            if let Err(refused) = parse_line(&line) {
                prop_assert!(!refused.0.starts_with("not JSON"), "{}: {}", line, refused.0);
            }
        }
    }
}
