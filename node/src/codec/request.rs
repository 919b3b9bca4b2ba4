//! Reading a request line: the envelope (`src`, `dest`, `body`) in one pass over the line, the
//! body's fields as slices of it, and typed accessors whose errors name the field and what it
//! must be.
//!
//! The one pass validates the whole line as Python's `json.loads` would, so a line is either
//! answered or refused as a whole; the fields it records are only borrowed text. A field is
//! decoded when a handler asks for it, and only that field: a `paxos_prepare` costs a scan of
//! its line and three small parses. As in Python's `dict`, a repeated key's last value wins.

use super::scan::{ScanError, Scanner};
use super::value::{JsonStr, JsonValue};
use super::RequestError;
use crate::limits::{LINE_BYTES_MAX, OVERLONG_PREFIX_BYTES, VALUE_BYTES_MAX};

/// An incoming message whose envelope is sound: who sent it, to whom, and its body.
#[derive(Debug)]
pub struct Envelope<'a> {
    pub src: JsonStr<'a>,
    pub dest: JsonStr<'a>,
    pub body: Fields<'a>,
}

/// A line that cannot be answered at all: there is nobody known to answer to.
#[derive(Debug, PartialEq, Eq)]
pub struct UnanswerableLine(pub String);

/// A line that names its sender but cannot be served: answer with `error`.
#[derive(Debug)]
pub struct BadEnvelope<'a> {
    pub src: JsonStr<'a>,
    /// Whom the line was for, when it says (the reply comes from there before `init`).
    pub dest: Option<JsonStr<'a>>,
    pub msg_id: Option<u64>,
    pub error: RequestError,
}

#[derive(Debug)]
pub enum ParsedLine<'a> {
    Message(Envelope<'a>),
    BadEnvelope(BadEnvelope<'a>),
}

/// A key's last value in the envelope, as far as the scan got.
#[derive(Debug, Default)]
enum Slot<T> {
    #[default]
    Absent,
    /// Present, but not of the kind the envelope needs.
    Mistyped,
    Present(T),
}

impl<T> Slot<T> {
    fn present(self) -> Option<T> {
        match self {
            Slot::Present(value) => Some(value),
            _ => None,
        }
    }
}

/// What one pass over a line found, kept even when the pass stops early (to answer a line
/// that is over a limit, the sender and the `msg_id` are enough).
#[derive(Debug, Default)]
struct EnvelopeScan<'a> {
    src: Slot<JsonStr<'a>>,
    dest: Slot<JsonStr<'a>>,
    body: Slot<Vec<(JsonStr<'a>, &'a str)>>,
}

impl<'a> EnvelopeScan<'a> {
    /// Scans `line`; `Ok(false)` when it is JSON but not an object.
    fn scan(&mut self, line: &'a str) -> Result<bool, ScanError> {
        let mut scanner = Scanner::new(line);
        if scanner.peek() != Some(b'{') {
            scanner.value(1)?;
            scanner.finish()?;
            return Ok(false);
        }
        scanner.object(1, |scanner, key| {
            match JsonStr::from_raw(key).printed() {
                "src" => self.src = string_member(scanner)?,
                "dest" => self.dest = string_member(scanner)?,
                "body" if scanner.peek() == Some(b'{') => {
                    let mut members = Vec::with_capacity(8);
                    let scanned = scanner.object(2, |scanner, key| {
                        members.push((JsonStr::from_raw(key), scanner.value(3)?));
                        Ok(())
                    });
                    // Kept even when the scan stopped inside the body: it may hold the msg_id.
                    self.body = Slot::Present(members);
                    scanned?;
                }
                "body" => {
                    scanner.value(2)?;
                    self.body = Slot::Mistyped;
                }
                _ => {
                    scanner.value(2)?;
                }
            }
            Ok(())
        })?;
        scanner.finish()?;
        Ok(true)
    }

    /// The body's `msg_id`, if the scan got that far.
    fn msg_id(&self) -> Option<u64> {
        match &self.body {
            Slot::Present(members) => msg_id(members),
            _ => None,
        }
    }

    /// A line this scan could not finish, answered with `error` if its sender is known.
    fn refuse(
        self,
        error: RequestError,
        unanswerable: String,
    ) -> Result<BadEnvelope<'a>, UnanswerableLine> {
        let msg_id = self.msg_id();
        match self.src {
            Slot::Present(src) => Ok(BadEnvelope {
                src,
                dest: self.dest.present(),
                msg_id,
                error,
            }),
            _ => Err(UnanswerableLine(unanswerable)),
        }
    }
}

/// The value of an envelope member that must be a string (validated either way).
fn string_member<'a>(scanner: &mut Scanner<'a>) -> Result<Slot<JsonStr<'a>>, ScanError> {
    if scanner.peek() == Some(b'"') {
        Ok(Slot::Present(JsonStr::from_raw(scanner.string()?)))
    } else {
        scanner.value(2)?;
        Ok(Slot::Mistyped)
    }
}

type ParsedResult<'a> = Result<ParsedLine<'a>, UnanswerableLine>;

/// Reads one input line (without its newline).
pub fn parse_line(line: &str) -> ParsedResult<'_> {
    let mut scan = EnvelopeScan::default();
    match scan.scan(line) {
        Err(error @ ScanError::Syntax { .. }) => {
            Err(UnanswerableLine(format!("not JSON ({error})")))
        }
        Err(limit) => {
            let text = format!("the line is over a limit: {limit}");
            scan.refuse(
                RequestError::limit(text.clone()),
                format!("{text}, and names no src to answer"),
            )
            .map(ParsedLine::BadEnvelope)
        }
        Ok(false) => Err(UnanswerableLine("not a JSON object".into())),
        Ok(true) => envelope(scan),
    }
}

/// A sound envelope, or the error its sender gets.
fn envelope(scan: EnvelopeScan<'_>) -> ParsedResult<'_> {
    let Slot::Present(src) = scan.src else {
        return Err(UnanswerableLine("no string field src to reply to".into()));
    };
    let dest = scan
        .dest
        .present()
        .filter(|dest| !dest.printed().is_empty());
    let Slot::Present(members) = scan.body else {
        return Ok(ParsedLine::BadEnvelope(BadEnvelope {
            src,
            dest,
            msg_id: None,
            error: RequestError::malformed("field body must be a JSON object"),
        }));
    };
    let body = Fields::body(members);
    let Some(dest) = dest else {
        return Ok(ParsedLine::BadEnvelope(BadEnvelope {
            src,
            dest: None,
            msg_id: body.msg_id(),
            error: RequestError::malformed("field dest must be a non-empty string"),
        }));
    };
    Ok(ParsedLine::Message(Envelope { src, dest, body }))
}

/// Reads what it can from the first bytes of a line longer than `LINE_BYTES_MAX` (the rest
/// was never kept), to tell its sender, if those bytes name one, that the line was too long.
pub fn parse_overlong_line(
    prefix: &str,
    line_bytes: u64,
) -> Result<BadEnvelope<'_>, UnanswerableLine> {
    let mut scan = EnvelopeScan::default();
    let _cut_off_mid_value = scan.scan(prefix);
    // A number that runs to the end of the prefix may have had more digits after it.
    if let Slot::Present(members) = &mut scan.body {
        let prefix_end = prefix.as_ptr() as usize + prefix.len();
        members.retain(|(_, raw)| raw.as_ptr() as usize + raw.len() < prefix_end);
    }
    let text = format!(
        "the line is {line_bytes} bytes long; the limit is {LINE_BYTES_MAX} (limit line_bytes_max)"
    );
    scan.refuse(
        RequestError::limit(text.clone()),
        format!("{text}, and its first {OVERLONG_PREFIX_BYTES} bytes name no src to answer"),
    )
}

/// Where a set of fields sits in the request, for error messages: the path to it, such as
/// `proposals[2]` or `accepted[0].entry` (empty for the body itself).
#[derive(Clone, Debug)]
struct Place(String);

/// The members of one object of a request, as slices of the line, with typed accessors.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    members: Vec<(JsonStr<'a>, &'a str)>,
    place: Place,
}

impl<'a> Fields<'a> {
    fn body(members: Vec<(JsonStr<'a>, &'a str)>) -> Self {
        Fields {
            members,
            place: Place(String::new()),
        }
    }

    /// The `index`-th element of the array field `array`, which must be an object.
    pub fn element(raw: &'a str, array: &'static str, index: usize) -> Result<Self, RequestError> {
        Fields::object(raw, format!("{array}[{index}]"))
    }

    /// The members of the object field `field` of these fields.
    pub fn nested(&self, field: &str) -> Result<Fields<'a>, RequestError> {
        Fields::object(self.required(field)?, self.name(field))
    }

    /// The `index`-th element of the array field `field` of these fields, which must be an
    /// object.
    pub fn nested_element(
        &self,
        raw: &'a str,
        field: &str,
        index: usize,
    ) -> Result<Fields<'a>, RequestError> {
        Fields::object(raw, format!("{}[{index}]", self.name(field)))
    }

    /// The members of the object `raw`, which sits at `place` in the request.
    fn object(raw: &'a str, place: String) -> Result<Self, RequestError> {
        let mut members = Vec::with_capacity(4);
        let mut scanner = Scanner::new(raw);
        let is_object = scanner.peek() == Some(b'{');
        let scanned = is_object
            && scanner
                .object(1, |scanner, key| {
                    members.push((JsonStr::from_raw(key), scanner.value(2)?));
                    Ok(())
                })
                .is_ok();
        if !scanned {
            return Err(RequestError::malformed(format!(
                "{place} must be an object"
            )));
        }
        Ok(Fields {
            members,
            place: Place(place),
        })
    }

    /// The text of `field`'s last value (as in Python's `dict`, a repeated key's last wins).
    pub fn raw(&self, field: &str) -> Option<&'a str> {
        last_value(&self.members, field)
    }

    /// How an error names `field`: `proposal_n`, or `proposals[2].n` inside an array.
    fn name(&self, field: &str) -> String {
        if self.place.0.is_empty() {
            field.to_owned()
        } else {
            format!("{}.{field}", self.place.0)
        }
    }

    fn required(&self, field: &str) -> Result<&'a str, RequestError> {
        self.raw(field).ok_or_else(|| {
            RequestError::malformed(format!("field {} is missing", self.name(field)))
        })
    }

    /// The request's `msg_id`, when it is a usable one.
    pub fn msg_id(&self) -> Option<u64> {
        msg_id(&self.members)
    }

    pub fn message_type(&self) -> Result<JsonStr<'a>, RequestError> {
        match self.raw("type") {
            Some(raw) => {
                string(raw).ok_or_else(|| RequestError::malformed("field type must be a string"))
            }
            None => Err(RequestError::malformed("field type is missing")),
        }
    }

    pub fn u64(&self, field: &str) -> Result<u64, RequestError> {
        let raw = self.required(field)?;
        integer(raw).ok_or_else(|| self.out_of_range(field, 0, u64::MAX))
    }

    pub fn optional_u64(&self, field: &str) -> Result<Option<u64>, RequestError> {
        match self.raw(field) {
            None | Some("null") => Ok(None),
            Some(raw) => integer(raw)
                .map(Some)
                .ok_or_else(|| self.out_of_range(field, 0, u64::MAX)),
        }
    }

    pub fn i64(&self, field: &str) -> Result<i64, RequestError> {
        let raw = self.required(field)?;
        integer(raw).ok_or_else(|| self.out_of_range(field, i64::MIN, i64::MAX))
    }

    fn out_of_range(&self, field: &str, min: impl ToString, max: impl ToString) -> RequestError {
        RequestError::malformed(format!(
            "field {} must be an integer from {} to {}",
            self.name(field),
            min.to_string(),
            max.to_string()
        ))
    }

    pub fn string(&self, field: &str) -> Result<JsonStr<'a>, RequestError> {
        string(self.required(field)?).ok_or_else(|| self.must_be(field, "a string"))
    }

    pub fn optional_string(&self, field: &str) -> Result<Option<JsonStr<'a>>, RequestError> {
        match self.raw(field) {
            None | Some("null") => Ok(None),
            Some(raw) => string(raw)
                .map(Some)
                .ok_or_else(|| self.must_be(field, "a string")),
        }
    }

    fn must_be(&self, field: &str, what: &str) -> RequestError {
        RequestError::malformed(format!("field {} must be {what}", self.name(field)))
    }

    pub fn strings(&self, field: &str) -> Result<Vec<JsonStr<'a>>, RequestError> {
        let error = || self.must_be(field, "an array of strings");
        self.required(field)?;
        self.array(field)
            .map_err(|_| error())?
            .into_iter()
            .map(|raw| string(raw).ok_or_else(error))
            .collect()
    }

    /// The texts of the elements of the array `field`.
    pub fn array(&self, field: &str) -> Result<Vec<&'a str>, RequestError> {
        let raw = self.required(field)?;
        let mut elements = Vec::new();
        let mut scanner = Scanner::new(raw);
        let is_array = scanner.peek() == Some(b'[');
        let scanned = is_array
            && scanner
                .array(1, |scanner| {
                    elements.push(scanner.value(2)?);
                    Ok(())
                })
                .is_ok();
        if !scanned {
            return Err(self.must_be(field, "an array"));
        }
        Ok(elements)
    }

    /// A proposed value: any JSON but null, because null is how replies say "no value", and at
    /// most `VALUE_BYTES_MAX` bytes of it.
    pub fn value(&self, field: &str) -> Result<JsonValue, RequestError> {
        let raw = self.required(field)?;
        if raw == "null" {
            return Err(RequestError::malformed(format!(
                "field {} must not be null (null means 'no value' in replies)",
                self.name(field)
            )));
        }
        if raw.len() > VALUE_BYTES_MAX {
            return Err(RequestError::limit(format!(
                "field {} is {} bytes of JSON; the limit is {VALUE_BYTES_MAX} (limit value_bytes_max)",
                self.name(field),
                raw.len()
            )));
        }
        JsonValue::parse(raw).map_err(|error| {
            RequestError::malformed(format!("field {}: {error}", self.name(field)))
        })
    }

    pub fn optional_value(&self, field: &str) -> Result<Option<JsonValue>, RequestError> {
        match self.raw(field) {
            None => Ok(None),
            Some(_) => self.value(field).map(Some),
        }
    }
}

/// The text of `field`'s last value among `members`.
fn last_value<'a>(members: &[(JsonStr<'a>, &'a str)], field: &str) -> Option<&'a str> {
    members
        .iter()
        .rev()
        .find(|(key, _)| key.printed() == field)
        .map(|(_, raw)| *raw)
}

fn msg_id(members: &[(JsonStr<'_>, &str)]) -> Option<u64> {
    last_value(members, "msg_id").and_then(integer::<u64>)
}

/// An integer field's value: JSON's integer syntax only (Python reads `3.0` as a float), and
/// `-0` is the integer 0, as Python reads it.
pub fn integer<T: std::str::FromStr + Default>(raw: &str) -> Option<T> {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    if digits == "0" {
        return Some(T::default());
    }
    raw.parse().ok()
}

/// A string value's text, in its printed form.
pub fn string(raw: &str) -> Option<JsonStr<'_>> {
    let mut scanner = Scanner::new(raw);
    if scanner.peek() != Some(b'"') {
        return None;
    }
    scanner.string().ok().map(JsonStr::from_raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::ErrorCode;

    fn message(line: &str) -> Envelope<'_> {
        match parse_line(line) {
            Ok(ParsedLine::Message(envelope)) => envelope,
            other => panic!("a sound envelope: {other:?}"),
        }
    }

    fn bad(line: &str) -> BadEnvelope<'_> {
        match parse_line(line) {
            Ok(ParsedLine::BadEnvelope(bad)) => bad,
            other => panic!("a bad envelope: {other:?}"),
        }
    }

    #[test]
    fn fields_are_checked_and_named() {
        let body = message(
            r#"{"src":"c1","dest":"n1","body":{"type":"t","msg_id":4,"n":-1,"v":null,"s":[1],"z":-0}}"#,
        )
        .body;
        assert_eq!(body.msg_id(), Some(4));
        assert_eq!(body.message_type().unwrap().printed(), "t");
        assert_eq!(
            body.u64("n").unwrap_err().text,
            "field n must be an integer from 0 to 18446744073709551615"
        );
        assert_eq!(body.i64("n"), Ok(-1));
        assert_eq!(body.u64("z"), Ok(0), "Python reads -0 as the integer 0");
        assert_eq!(
            body.u64("missing").unwrap_err().text,
            "field missing is missing"
        );
        assert!(body
            .value("v")
            .unwrap_err()
            .text
            .contains("must not be null"));
        assert_eq!(
            body.strings("s").unwrap_err().text,
            "field s must be an array of strings"
        );
    }

    #[test]
    fn integers_are_json_integers_in_range() {
        for (raw, expected) in [
            ("0", Some(0)),
            ("-0", Some(0)),
            ("18446744073709551615", Some(u64::MAX)),
            ("18446744073709551616", None),
            ("3.0", None),
            ("1e2", None),
            ("-1", None),
            ("\"3\"", None),
            ("null", None),
        ] {
            assert_eq!(integer::<u64>(raw), expected, "{raw}");
        }
        assert_eq!(integer::<i64>("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(integer::<i64>("9223372036854775808"), None);
    }

    #[test]
    fn a_repeated_key_takes_its_last_value_as_in_python() {
        let envelope = message(
            r#"{"src":"x","src":"c1","dest":"n1","body":{"type":"a","msg_id":1,"type":"b"}}"#,
        );
        assert_eq!(envelope.src.printed(), "c1");
        assert_eq!(envelope.body.message_type().unwrap().printed(), "b");
        let escaped_key = message(r#"{"src":"c1","dest":"n1","body":{"\u0074ype":"t"}}"#);
        assert_eq!(escaped_key.body.message_type().unwrap().printed(), "t");
    }

    #[test]
    fn unanswerable_and_bad_envelopes_are_told_apart() {
        assert!(parse_line("not json").is_err());
        assert!(parse_line("[1]").is_err());
        assert!(parse_line(r#"{"dest":"n1","body":{}}"#).is_err());
        assert!(parse_line(r#"{"src":5,"dest":"n1","body":{}}"#).is_err());
        let no_body = bad(r#"{"src":"c1","dest":"n1","body":7}"#);
        assert_eq!(no_body.src.printed(), "c1");
        assert_eq!(no_body.error.code, ErrorCode::MalformedRequest);
        let no_dest = bad(r#"{"src":"c1","body":{"msg_id":6}}"#);
        assert_eq!(no_dest.msg_id, Some(6));
        assert_eq!(no_dest.error.text, "field dest must be a non-empty string");
    }

    #[test]
    fn a_line_over_a_limit_is_answered_when_it_names_its_sender() {
        let deep = format!(
            r#"{{"src":"c1","dest":"n1","body":{{"msg_id":9,"value":{}1{}}}}}"#,
            "[".repeat(600),
            "]".repeat(600)
        );
        let refused = bad(&deep);
        assert_eq!(refused.error.code, ErrorCode::Abort);
        assert_eq!(refused.msg_id, Some(9));
        assert!(
            refused.error.text.contains("nesting_depth_max"),
            "{refused:?}"
        );
        let anonymous = format!(r#"{{"body":{}}}"#, "[".repeat(600));
        assert!(parse_line(&anonymous).is_err());
    }

    #[test]
    fn an_overlong_line_is_answered_from_its_first_bytes() {
        let prefix =
            r#"{"src":"c1","dest":"n1","body":{"type":"paxos_accept","msg_id":12,"value":"xxxxx"#;
        let refused = parse_overlong_line(prefix, 99_000_000).expect("answered");
        assert_eq!(refused.msg_id, Some(12));
        assert_eq!(refused.dest.unwrap().printed(), "n1");
        assert_eq!(
            refused.error.text,
            "the line is 99000000 bytes long; the limit is 8388608 (limit line_bytes_max)"
        );
        // A number cut off by the end of the prefix might have had more digits: not used.
        let cut = r#"{"src":"c1","dest":"n1","body":{"msg_id":12"#;
        let refused = parse_overlong_line(cut, 99_000_000).expect("answered");
        assert_eq!(refused.msg_id, None);
        assert!(parse_overlong_line(r#"{"dest":"n1","body":"#, 99_000_000).is_err());
    }

    #[test]
    fn values_over_the_size_limit_are_refused_by_name() {
        let big = format!("\"{}\"", "x".repeat(VALUE_BYTES_MAX));
        let line = format!(r#"{{"src":"c1","dest":"n1","body":{{"value":{big}}}}}"#);
        let error = message(&line).body.value("value").unwrap_err();
        assert_eq!(error.code, ErrorCode::Abort);
        assert_eq!(
            error.text,
            format!(
                "field value is {} bytes of JSON; the limit is {VALUE_BYTES_MAX} (limit value_bytes_max)",
                VALUE_BYTES_MAX + 2
            )
        );
    }
}
