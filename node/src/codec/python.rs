//! Python's `json.dumps` output, byte for byte: what the course's grader prints.
//!
//! Python's defaults: `", "` between items and `": "` after keys; `ensure_ascii`, so every
//! character outside printable ASCII is escaped as `\uXXXX` (lowercase hex, astral characters as
//! a surrogate pair, DEL too; `\n`, `\t` and friends in their short forms); integers with every
//! digit; floats as `repr` prints them (`1e+16`, `1e-07`, `100.0`), and the infinities and NaN
//! as `Infinity`, `-Infinity`, `NaN`. A client's value is printed from its text as received
//! (`print_value`), so nothing is lost to a float or a map on the way: what Python would have
//! read is what Python would print.
//!
//! `print_value` also gives a value's canonical form (`KeyOrder::Sorted`), the text two values
//! share exactly when they are the same JSON value: keys in a fixed order, and numbers as the
//! numbers they are (`1`, `1.0` and `1e0` alike, `-0.0` as `0`), as Python's `==` compares them.

use super::scan::{RawNumber, RawStr, Scalar, ScanError, Scanner};
use std::fmt::Write as _;

/// Writes `text` (a Rust string, so never a lone surrogate) as a Python JSON string.
pub fn write_str(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    write_str_content(out, text);
    out.push(b'"');
}

/// `text` as Python prints it between the quotes.
pub fn write_str_content(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let plain_run = bytes[at..]
            .iter()
            .position(|&byte| !is_plain(byte))
            .unwrap_or(bytes.len() - at);
        out.extend_from_slice(&bytes[at..at + plain_run]);
        at += plain_run;
        if let Some(character) = text[at.min(text.len())..].chars().next() {
            write_character(out, character);
            at += character.len_utf8();
        }
    }
}

/// Printable ASCII that Python writes as itself inside a string.
fn is_plain(byte: u8) -> bool {
    (b' '..=b'~').contains(&byte) && byte != b'"' && byte != b'\\'
}

fn write_character(out: &mut Vec<u8>, character: char) {
    let mut units = [0u16; 2];
    for &unit in character.encode_utf16(&mut units).iter() {
        write_code_unit(out, unit);
    }
}

/// One UTF-16 code unit as Python's `ensure_ascii` writes it.
fn write_code_unit(out: &mut Vec<u8>, unit: u16) {
    match unit {
        0x22 => out.extend_from_slice(b"\\\""),
        0x5c => out.extend_from_slice(b"\\\\"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        0x0a => out.extend_from_slice(b"\\n"),
        0x0d => out.extend_from_slice(b"\\r"),
        0x09 => out.extend_from_slice(b"\\t"),
        0x20..=0x7e => out.push(unit as u8),
        _ => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u");
            for shift in [12, 8, 4, 0] {
                out.push(HEX[usize::from((unit >> shift) & 0xf)]);
            }
        }
    }
}

/// A JSON string's content (escapes and all, already validated) as Python prints it between
/// the quotes. Python reads `\ud83d\ude00` as one character and prints it as the same pair, and
/// a lone surrogate as itself, so each escaped unit can be printed on its own.
pub fn print_raw_string(out: &mut Vec<u8>, string: RawStr<'_>) {
    if string.plain {
        out.extend_from_slice(string.raw.as_bytes());
        return;
    }
    let text = string.raw;
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let plain_run = bytes[at..]
            .iter()
            .position(|&byte| !is_plain(byte))
            .unwrap_or(bytes.len() - at);
        out.extend_from_slice(&bytes[at..at + plain_run]);
        at += plain_run;
        if at >= bytes.len() {
            break;
        }
        if bytes[at] == b'\\' {
            let (unit, length) = unescape(&bytes[at..]);
            write_code_unit(out, unit);
            at += length;
        } else {
            let character = text[at..].chars().next().expect("inside the text");
            write_character(out, character);
            at += character.len_utf8();
        }
    }
}

/// The code unit an escape stands for, and the escape's length. The scanner has checked it.
fn unescape(escape: &[u8]) -> (u16, usize) {
    match escape[1] {
        b'b' => (0x08, 2),
        b'f' => (0x0c, 2),
        b'n' => (0x0a, 2),
        b'r' => (0x0d, 2),
        b't' => (0x09, 2),
        b'u' => {
            let hex = std::str::from_utf8(&escape[2..6]).expect("hex digits are ASCII");
            (
                u16::from_str_radix(hex, 16).expect("the scanner checked the digits"),
                6,
            )
        }
        other => (u16::from(other), 2), // \" \\ \/
    }
}

/// The string a printed form stands for, for messages and names (a lone surrogate, which Rust
/// strings cannot hold, becomes U+FFFD).
pub fn decode_printed(printed: &str) -> String {
    let bytes = printed.as_bytes();
    let mut units: Vec<u16> = Vec::with_capacity(printed.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'\\' && at + 1 < bytes.len() {
            let (unit, length) = unescape(&bytes[at..]);
            units.push(unit);
            at += length;
        } else {
            units.push(u16::from(bytes[at]));
            at += 1;
        }
    }
    String::from_utf16_lossy(&units)
}

/// In which order an object's keys are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOrder {
    /// As sent, as Python's `dict` keeps them: a repeated key stays where it first appeared and
    /// takes its last value.
    AsSent,
    /// The canonical form: keys sorted (by their printed bytes), numbers by value.
    Sorted,
}

/// What printing a value found out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Printed {
    /// The canonical form may differ from the as-sent form: an object with two keys or more,
    /// or a float, was printed.
    pub canonical_may_differ: bool,
}

/// Prints the value `raw` (one JSON value, validated or not) as Python would.
pub fn print_value(raw: &str, order: KeyOrder, out: &mut Vec<u8>) -> Result<Printed, ScanError> {
    let mut printer = Printer {
        out,
        order,
        members: Vec::new(),
        printed: Printed::default(),
    };
    let mut scanner = Scanner::new(raw);
    printer.value(&mut scanner, 1)?;
    scanner.finish()?;
    Ok(printer.printed)
}

/// Where one printed member `"key": value` of an object lies in the output.
#[derive(Clone, Copy)]
struct Member {
    start: usize,
    key_end: usize,
    end: usize,
}

struct Printer<'o> {
    out: &'o mut Vec<u8>,
    order: KeyOrder,
    /// The members of every object being printed, innermost last (one stack for all levels,
    /// so that printing allocates nothing per object).
    members: Vec<Member>,
    printed: Printed,
}

impl Printer<'_> {
    fn value(&mut self, scanner: &mut Scanner<'_>, depth: usize) -> Result<(), ScanError> {
        match scanner.peek() {
            Some(b'{') => self.object(scanner, depth),
            Some(b'[') => self.array(scanner, depth),
            _ => {
                let scalar = scanner.scalar()?;
                self.scalar(scalar);
                Ok(())
            }
        }
    }

    fn array(&mut self, scanner: &mut Scanner<'_>, depth: usize) -> Result<(), ScanError> {
        self.out.push(b'[');
        let mut first = true;
        scanner.array(depth, |scanner| {
            if !std::mem::take(&mut first) {
                self.out.extend_from_slice(b", ");
            }
            self.value(scanner, depth + 1)
        })?;
        self.out.push(b']');
        Ok(())
    }

    fn object(&mut self, scanner: &mut Scanner<'_>, depth: usize) -> Result<(), ScanError> {
        let object_start = self.out.len();
        let first_member = self.members.len();
        self.out.push(b'{');
        scanner.object(depth, |scanner, key| {
            if self.members.len() > first_member {
                self.out.extend_from_slice(b", ");
            }
            let start = self.out.len();
            self.out.push(b'"');
            print_raw_string(self.out, key);
            self.out.push(b'"');
            let key_end = self.out.len();
            self.out.extend_from_slice(b": ");
            self.value(scanner, depth + 1)?;
            let end = self.out.len();
            self.members.push(Member {
                start,
                key_end,
                end,
            });
            Ok(())
        })?;
        self.out.push(b'}');
        if self.members.len() - first_member >= 2 {
            self.printed.canonical_may_differ = true;
            self.settle_keys(object_start, first_member);
        }
        self.members.truncate(first_member);
        Ok(())
    }

    /// Rewrites the object just printed at `object_start` if a key repeats (Python's `dict`
    /// keeps one) or the keys must be sorted; otherwise it is already right.
    fn settle_keys(&mut self, object_start: usize, first_member: usize) {
        let members = &self.members[first_member..];
        let key = |member: &Member| &self.out[member.start..member.key_end];
        let mut by_key: Vec<usize> = (0..members.len()).collect();
        by_key.sort_by(|&a, &b| key(&members[a]).cmp(key(&members[b])).then(a.cmp(&b)));
        let repeats = by_key
            .windows(2)
            .any(|pair| key(&members[pair[0]]) == key(&members[pair[1]]));
        if !repeats && self.order == KeyOrder::AsSent {
            return;
        }
        // One member per key: (where the key first appeared, the member with its last value).
        let mut kept: Vec<(usize, usize)> = Vec::with_capacity(members.len());
        for &index in &by_key {
            match kept.last_mut() {
                Some(last) if key(&members[last.1]) == key(&members[index]) => last.1 = index,
                _ => kept.push((index, index)),
            }
        }
        if self.order == KeyOrder::AsSent {
            kept.sort_unstable_by_key(|&(first_seen, _)| first_seen);
        }
        let printed = self.out.split_off(object_start);
        self.out.push(b'{');
        for (position, &(_, holder)) in kept.iter().enumerate() {
            if position > 0 {
                self.out.extend_from_slice(b", ");
            }
            let member = members[holder];
            self.out.extend_from_slice(
                &printed[member.start - object_start..member.end - object_start],
            );
        }
        self.out.push(b'}');
    }

    fn scalar(&mut self, scalar: Scalar<'_>) {
        match scalar {
            Scalar::String(string) => {
                self.out.push(b'"');
                print_raw_string(self.out, string);
                self.out.push(b'"');
            }
            Scalar::Number(number) if number.integer => print_integer(self.out, number),
            Scalar::Number(number) => {
                self.printed.canonical_may_differ = true;
                let value: f64 = number.text.parse().expect("the scanner checked the syntax");
                match self.order {
                    KeyOrder::AsSent => write_float(self.out, value),
                    KeyOrder::Sorted => write_float_by_value(self.out, value),
                }
            }
            Scalar::Literal(literal) => self.out.extend_from_slice(literal.as_bytes()),
        }
    }
}

/// Python reads an integer exactly and prints every digit; `-0` is the integer 0.
fn print_integer(out: &mut Vec<u8>, number: RawNumber<'_>) {
    let text = if number.text == "-0" {
        "0"
    } else {
        number.text
    };
    out.extend_from_slice(text.as_bytes());
}

/// A float as the number it is, for the canonical form: an integral float as the integer it
/// equals (so `1.0` matches `1`, and `-0.0` matches `0`, as in Python), any other as its repr.
fn write_float_by_value(out: &mut Vec<u8>, value: f64) {
    if value.is_finite() && value.fract() == 0.0 {
        // Every integral f64 prints exactly with no fraction digits.
        let digits = format!("{:.0}", value.abs());
        if value < 0.0 {
            out.push(b'-');
        }
        out.extend_from_slice(digits.as_bytes());
    } else {
        write_float(out, value);
    }
}

/// Python's `json.dumps` of a float: its `repr`, or the literal for an infinity or NaN.
pub fn write_float(out: &mut Vec<u8>, value: f64) {
    let text = if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else {
        python_float_repr(value)
    };
    out.extend_from_slice(text.as_bytes());
}

/// Python's `repr(float)` for a finite value: the shortest digits that read back as the same
/// float, nearest the exact value, a tie going to the even digit (David Gay's `dtoa`, which
/// CPython uses); laid out positionally while the decimal point falls within 16 digits of the
/// first digit and at most 4 zeros after it, else as `d.ddde+XX`.
///
/// The digits come from `zmij` (serde_json's float printer), which breaks ties as Python does.
/// Rust's own `{:e}` does not: 2034841939709879.25 has two equally near 17-digit candidates,
/// and Python prints `...879.2` where `{:e}` gives `...879.3`.
pub fn python_float_repr(value: f64) -> String {
    debug_assert!(value.is_finite(), "repr of a finite float");
    let sign = if value.is_sign_negative() { "-" } else { "" };
    if value == 0.0 {
        return format!("{sign}0.0");
    }
    let (digits, point) = shortest_digits(value.abs());
    let mut text = String::with_capacity(digits.len() + 8);
    text.push_str(sign);
    if point <= -4 || point > 16 {
        let (first, rest) = digits.split_at(1);
        text.push_str(first);
        if !rest.is_empty() {
            text.push('.');
            text.push_str(rest);
        }
        let exponent = point - 1;
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(text, "e{exponent_sign}{:02}", exponent.unsigned_abs());
    } else if point <= 0 {
        text.push_str("0.");
        text.extend(std::iter::repeat_n('0', point.unsigned_abs() as usize));
        text.push_str(&digits);
    } else {
        let point = point as usize;
        if point >= digits.len() {
            text.push_str(&digits);
            text.extend(std::iter::repeat_n('0', point - digits.len()));
            text.push_str(".0");
        } else {
            text.push_str(&digits[..point]);
            text.push('.');
            text.push_str(&digits[point..]);
        }
    }
    text
}

/// The shortest round-trip digits of a positive finite float, without leading or trailing
/// zeros, and where the decimal point falls among them: `value = 0.DIGITS x 10^point`
/// (CPython's `decpt`).
fn shortest_digits(value: f64) -> (String, i32) {
    let mut buffer = zmij::Buffer::new();
    let text = buffer.format_finite(value);
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (
            mantissa,
            exponent.parse::<i32>().expect("an integer exponent"),
        ),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = format!("{whole}{fraction}");
    let significant = all_digits.trim_start_matches('0');
    let leading_zeros = all_digits.len() - significant.len();
    let point = whole.len() as i32 + exponent - leading_zeros as i32;
    (significant.trim_end_matches('0').to_owned(), point)
}

/// Writes an unsigned integer in decimal without going through `fmt` (this is on every line).
pub fn write_u64(out: &mut Vec<u8>, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

pub fn write_i64(out: &mut Vec<u8>, value: i64) {
    if value < 0 {
        out.push(b'-');
    }
    write_u64(out, value.unsigned_abs());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(raw: &str) -> String {
        let mut out = Vec::new();
        print_value(raw, KeyOrder::AsSent, &mut out).expect("valid JSON");
        String::from_utf8(out).expect("ASCII")
    }

    fn canonical(raw: &str) -> String {
        let mut out = Vec::new();
        print_value(raw, KeyOrder::Sorted, &mut out).expect("valid JSON");
        String::from_utf8(out).expect("ASCII")
    }

    /// Each pair was printed by CPython 3.11's `json.dumps(json.loads(raw))`.
    #[test]
    fn values_print_as_python_prints_what_it_read() {
        let cases = [
            ("1180591620717411303424", "1180591620717411303424"),
            ("-0", "0"),
            ("-0.0", "-0.0"),
            ("1E400", "Infinity"),
            ("-1E400", "-Infinity"),
            ("1e-400", "0.0"),
            ("-1e-400", "-0.0"),
            ("NaN", "NaN"),
            ("Infinity", "Infinity"),
            ("-Infinity", "-Infinity"),
            ("\"\\ud800\"", "\"\\ud800\""),
            ("\"\\ude00\\ud83d\"", "\"\\ude00\\ud83d\""),
            ("\"\\uD834\"", "\"\\ud834\""),
            ("\"\\u00E9\"", "\"\\u00e9\""),
            ("\"\\/\"", "\"/\""),
            ("\"\u{7f}\"", "\"\\u007f\""),
            ("\"a\\u0000b\"", "\"a\\u0000b\""),
            ("\"\u{2028}\"", "\"\\u2028\""),
            ("{\"a\":1,\"b\":2,\"a\":3}", "{\"a\": 3, \"b\": 2}"),
            ("{\"a\":1,\"\\u0061\":5}", "{\"a\": 5}"),
            ("1e5", "100000.0"),
            ("1E+05", "100000.0"),
            ("1.5e-3", "0.0015"),
            ("1e0001", "10.0"),
            ("100000000000000000000000.0", "1e+23"),
            ("0.1e1", "1.0"),
            ("1e16", "1e+16"),
            (
                "123456789012345678901234567890e-10",
                "1.2345678901234567e+19",
            ),
            ("1.0000000000000000000000000000000000001", "1.0"),
            (" [ ] ", "[]"),
            ("{\"a\":[],\"b\":{}}", "{\"a\": [], \"b\": {}}"),
            ("[true,false,null]", "[true, false, null]"),
        ];
        for (raw, python) in cases {
            assert_eq!(printed(raw), python, "{raw}");
        }
    }

    #[test]
    fn a_repeated_key_keeps_its_first_place_and_last_value_at_every_depth() {
        assert_eq!(
            printed(r#"{"z":{"b":1,"a":2,"b":3},"y":[{"k":1,"k":2}],"z":{"c":0,"c":9}}"#),
            r#"{"z": {"c": 9}, "y": [{"k": 2}]}"#
        );
        let many: String = (0..40).map(|i| format!("\"k{}\":{i},", i % 20)).collect();
        let expected: Vec<String> = (0..20).map(|i| format!("\"k{i}\": {}", i + 20)).collect();
        assert_eq!(
            printed(&format!("{{{}\"end\":0}}", many)),
            format!("{{{}, \"end\": 0}}", expected.join(", "))
        );
    }

    #[test]
    fn canonical_forms_are_equal_exactly_for_equal_values() {
        assert_eq!(canonical(r#"{"b":1,"a":2}"#), canonical(r#"{"a":2,"b":1}"#));
        assert_eq!(canonical("[1, 1.0, 1e0, -0.0, 0]"), "[1, 1, 1, 0, 0]");
        assert_eq!(canonical("1e400"), "Infinity");
        assert_eq!(canonical("0.5"), "0.5");
        assert_eq!(canonical(r#""\u0061""#), canonical(r#""a""#));
        assert_ne!(canonical("[1, 2]"), canonical("[2, 1]"));
        assert_ne!(
            canonical("true"),
            canonical("1"),
            "JSON's true is not a number"
        );
        assert_ne!(
            canonical("9007199254740993"),
            canonical("9007199254740993.0")
        );
    }

    #[test]
    // The tie cases are written as the exact values of their floats, which is the point.
    #[allow(clippy::excessive_precision)]
    fn floats_print_as_python_repr() {
        // Each pair was printed by CPython 3's json.dumps.
        let cases = [
            (1e16, "1e+16"),
            (1e-7, "1e-07"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (0.0015, "0.0015"),
            (100.0, "100.0"),
            (1e15, "1000000000000000.0"),
            (9999999999999998.0, "9999999999999998.0"),
            (123456789.123, "123456789.123"),
            (12345678901234567.0, "1.2345678901234568e+16"),
            (18446744073709551616.0, "1.8446744073709552e+19"),
            (0.1 + 0.2, "0.30000000000000004"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (-2.5e-300, "-2.5e-300"),
            (1e100, "1e+100"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.5, "1.5"),
            // Ties between two shortest candidates go to the even digit, as in CPython.
            (-2034841939709879.25, "-2034841939709879.2"),
            (2034841939709879.75, "2034841939709879.8"),
            (9007199254740993.0, "9007199254740992.0"),
            (2.5e-5, "2.5e-05"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (f64::NAN, "NaN"),
        ];
        for (value, python) in cases {
            let mut out = Vec::new();
            write_float(&mut out, value);
            assert_eq!(String::from_utf8(out).unwrap(), python, "{value:?}");
        }
    }

    #[test]
    fn rust_strings_print_with_ensure_ascii() {
        let mut out = Vec::new();
        write_str(&mut out, "é\u{7f}😀\n\"\\/\u{1}");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""\u00e9\u007f\ud83d\ude00\n\"\\/\u0001""#
        );
    }

    #[test]
    fn printed_forms_decode_back() {
        assert_eq!(
            decode_printed(r#"c\u00e9 \"q\" \ud83d\ude00"#),
            "cé \"q\" 😀"
        );
        assert_eq!(decode_printed(r"\ud800"), "\u{fffd}");
    }

    #[test]
    fn integers_print_without_fmt() {
        for value in [0, 7, 10, 1234567890, u64::MAX] {
            let mut out = Vec::new();
            write_u64(&mut out, value);
            assert_eq!(String::from_utf8(out).unwrap(), value.to_string());
        }
        let mut out = Vec::new();
        write_i64(&mut out, i64::MIN);
        assert_eq!(String::from_utf8(out).unwrap(), i64::MIN.to_string());
    }
}
