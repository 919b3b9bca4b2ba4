//! JSON as Python's `json.loads` reads it, scanned in place.
//!
//! The grammar is RFC 8259's plus what Python adds: the literals `NaN`, `Infinity` and
//! `-Infinity`; strings whose `\u` escapes may leave a surrogate unpaired (`"\ud800"`); numbers
//! of any size (`1E400` is a float, and infinite). serde_json refuses the first two, so a line
//! Python answers would be dropped; hence this scanner. It builds nothing: it validates and hands
//! out slices of the text, which the decoder (`request`) and the printer (`python`) borrow.
//!
//! Two bounds keep one line from costing much: nesting depth (every walk here recurses once per
//! level) and integer length (Python's own limit). Both are reported apart from syntax errors,
//! because such a line is JSON and its sender deserves an answer.

use crate::limits::{INTEGER_DIGITS_MAX, NESTING_DEPTH_MAX};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanError {
    /// Not JSON as Python reads it: `json.loads` refuses the text too.
    Syntax { at: usize, expected: &'static str },
    /// JSON, nested deeper than `NESTING_DEPTH_MAX`.
    TooDeep,
    /// JSON, with an integer longer than `INTEGER_DIGITS_MAX` digits.
    IntegerTooLong { digits: usize },
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScanError::Syntax { at, expected } => write!(f, "expected {expected} at byte {at}"),
            ScanError::TooDeep => write!(
                f,
                "arrays and objects nest deeper than {NESTING_DEPTH_MAX} levels \
                 (limit nesting_depth_max)"
            ),
            ScanError::IntegerTooLong { digits } => write!(
                f,
                "an integer has {digits} digits; the limit is {INTEGER_DIGITS_MAX} \
                 (limit integer_digits_max, Python's int_max_str_digits)"
            ),
        }
    }
}

/// The text between a string's quotes, escapes and all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawStr<'a> {
    pub raw: &'a str,
    /// Only printable ASCII and no escape: Python prints such a string exactly as it came.
    pub plain: bool,
}

/// A number's text, as the grammar matched it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawNumber<'a> {
    pub text: &'a str,
    /// No fraction and no exponent: Python reads it as an `int` (exact, any size), else `float`.
    pub integer: bool,
}

/// A value that is not an array or an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scalar<'a> {
    String(RawStr<'a>),
    Number(RawNumber<'a>),
    /// `true`, `false`, `null`, `NaN`, `Infinity` or `-Infinity`: Python prints each as it reads.
    Literal(&'static str),
}

/// A cursor over one text. Every method that reads a value first skips whitespace.
pub struct Scanner<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scanner<'a> {
    pub fn new(text: &'a str) -> Self {
        Scanner { text, at: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The next byte after any whitespace.
    pub fn peek(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.bytes().get(self.at).copied()
    }

    /// Python's `json` whitespace: space, tab, newline, carriage return (nothing else).
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes().get(self.at) {
            self.at += 1;
        }
    }

    fn syntax(&self, expected: &'static str) -> ScanError {
        ScanError::Syntax {
            at: self.at,
            expected,
        }
    }

    fn expect(&mut self, byte: u8, expected: &'static str) -> Result<(), ScanError> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.syntax(expected))
        }
    }

    /// Only whitespace may follow the value.
    pub fn finish(&mut self) -> Result<(), ScanError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.syntax("the end of the line")),
        }
    }

    /// Validates one value, at nesting `depth` if it is an array or object (the outermost
    /// value is at depth 1), and returns its text.
    pub fn value(&mut self, depth: usize) -> Result<&'a str, ScanError> {
        let start = match self.peek() {
            Some(_) => self.at,
            None => return Err(self.syntax("a value")),
        };
        match self.bytes()[start] {
            b'{' => self.object(depth, |scanner, _key| scanner.value(depth + 1).map(drop))?,
            b'[' => self.array(depth, |scanner| scanner.value(depth + 1).map(drop))?,
            _ => {
                self.scalar()?;
            }
        }
        Ok(&self.text[start..self.at])
    }

    /// Walks the object at the cursor; `member` gets each key and must consume its value.
    pub fn object(
        &mut self,
        depth: usize,
        mut member: impl FnMut(&mut Self, RawStr<'a>) -> Result<(), ScanError>,
    ) -> Result<(), ScanError> {
        if depth > NESTING_DEPTH_MAX {
            return Err(ScanError::TooDeep);
        }
        self.expect(b'{', "'{'")?;
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(());
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.syntax("a key in double quotes"));
            }
            let key = self.string()?;
            self.expect(b':', "':'")?;
            member(self, key)?;
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(self.syntax("',' or '}'")),
            }
        }
    }

    /// Walks the array at the cursor; `element` must consume each element.
    pub fn array(
        &mut self,
        depth: usize,
        mut element: impl FnMut(&mut Self) -> Result<(), ScanError>,
    ) -> Result<(), ScanError> {
        if depth > NESTING_DEPTH_MAX {
            return Err(ScanError::TooDeep);
        }
        self.expect(b'[', "'['")?;
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(());
        }
        loop {
            element(self)?;
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(self.syntax("',' or ']'")),
            }
        }
    }

    /// The string, number or literal at the cursor.
    pub fn scalar(&mut self) -> Result<Scalar<'a>, ScanError> {
        match self.peek() {
            Some(b'"') => self.string().map(Scalar::String),
            Some(b'-') if self.rest().starts_with(b"-Infinity") => self.literal("-Infinity"),
            Some(b'-' | b'0'..=b'9') => self.number().map(Scalar::Number),
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(b'N') => self.literal("NaN"),
            Some(b'I') => self.literal("Infinity"),
            _ => Err(self.syntax("a value")),
        }
    }

    fn rest(&self) -> &'a [u8] {
        &self.bytes()[self.at..]
    }

    fn literal(&mut self, literal: &'static str) -> Result<Scalar<'a>, ScanError> {
        if self.rest().starts_with(literal.as_bytes()) {
            self.at += literal.len();
            Ok(Scalar::Literal(literal))
        } else {
            Err(self.syntax("a value"))
        }
    }

    /// The string at the cursor (which is at its opening quote). Python's strict mode: a raw
    /// control character is an error, and so is an escape JSON does not define; `\u` escapes
    /// are not paired up here (the printer writes each unit as it is).
    pub fn string(&mut self) -> Result<RawStr<'a>, ScanError> {
        self.expect(b'"', "'\"'")?;
        let start = self.at;
        let bytes = self.bytes();
        let mut plain = true;
        loop {
            // Most strings are plain ASCII: skip those bytes in one tight loop.
            while let Some(b' ' | b'!' | b'#'..=b'[' | b']'..=b'~') = bytes.get(self.at) {
                self.at += 1;
            }
            match bytes.get(self.at) {
                Some(b'"') => {
                    let raw = &self.text[start..self.at];
                    self.at += 1;
                    return Ok(RawStr { raw, plain });
                }
                Some(b'\\') => {
                    plain = false;
                    self.escape()?;
                }
                Some(0x00..=0x1f) => {
                    return Err(self.syntax("no raw control character in a string"));
                }
                // DEL and UTF-8: legal, but printed escaped.
                Some(_) => {
                    plain = false;
                    self.at += 1;
                }
                None => return Err(self.syntax("'\"' to close the string")),
            }
        }
    }

    fn escape(&mut self) -> Result<(), ScanError> {
        let bytes = self.bytes();
        match bytes.get(self.at + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                self.at += 2;
                Ok(())
            }
            Some(b'u')
                if bytes
                    .get(self.at + 2..self.at + 6)
                    .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) =>
            {
                self.at += 6;
                Ok(())
            }
            _ => {
                Err(self
                    .syntax("an escape: \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\u and 4 hex digits"))
            }
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`, as Python's scanner matches it.
    fn number(&mut self) -> Result<RawNumber<'a>, ScanError> {
        let start = self.at;
        if self.bytes().get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        let digits = match self.bytes().get(self.at) {
            Some(b'0') => {
                self.at += 1;
                1
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.syntax("a digit")),
        };
        let mut integer = true;
        if self.bytes().get(self.at) == Some(&b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return Err(self.syntax("a digit after '.'"));
            }
            integer = false;
        }
        if let Some(b'e' | b'E') = self.bytes().get(self.at) {
            self.at += 1;
            if let Some(b'+' | b'-') = self.bytes().get(self.at) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(self.syntax("a digit in the exponent"));
            }
            integer = false;
        }
        if integer && digits > INTEGER_DIGITS_MAX {
            return Err(ScanError::IntegerTooLong { digits });
        }
        Ok(RawNumber {
            text: &self.text[start..self.at],
            integer,
        })
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while self.bytes().get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        self.at - start
    }
}

/// Validates a whole text as one JSON value (whitespace around it allowed) and returns it
/// without that whitespace.
#[cfg(test)]
pub fn whole_value(text: &str) -> Result<&str, ScanError> {
    let mut scanner = Scanner::new(text);
    let value = scanner.value(1)?;
    scanner.finish()?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(text: &str) -> bool {
        whole_value(text).is_ok()
    }

    #[test]
    fn python_reads_what_rfc_8259_reads_and_its_own_literals() {
        for text in [
            "0",
            "-0",
            "-0.0",
            "1E400",
            "1e-400",
            "12345678901234567890123",
            "NaN",
            "Infinity",
            "-Infinity",
            " [1, {\"a\": [true, false, null]}] ",
            "\"\\ud800\"",
            "\"\\ude00\\ud83d\"",
            "\"\u{7f}é😀\"",
            "{\"a\":1,\"a\":2}",
            "[]",
            "{}",
            "\t\r\n[ ]\n",
        ] {
            assert!(accepts(text), "{text}");
        }
    }

    #[test]
    fn python_refuses_what_json_loads_refuses() {
        for text in [
            "",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "1e+",
            "-NaN",
            "nan",
            "inf",
            "[1,]",
            "{\"a\":1,}",
            "{a:1}",
            "\"\u{1}\"",
            "\"\\x\"",
            "\"\\u12\"",
            "\"open",
            "[1] 2",
            "\u{feff}[1]",
            "{\"a\" 1}",
            "[1 2]",
            "tru",
        ] {
            assert!(
                matches!(whole_value(text), Err(ScanError::Syntax { .. })),
                "{text:?}"
            );
        }
    }

    #[test]
    fn integers_stop_at_python_s_digit_limit() {
        let longest = "7".repeat(INTEGER_DIGITS_MAX);
        assert!(accepts(&longest));
        assert!(accepts(&format!("-{longest}")), "the sign is not a digit");
        assert_eq!(
            whole_value(&format!("{longest}7")),
            Err(ScanError::IntegerTooLong {
                digits: INTEGER_DIGITS_MAX + 1
            })
        );
        assert!(
            accepts(&format!("{longest}7.5")),
            "a float has no digit limit in Python"
        );
    }

    #[test]
    fn nesting_stops_at_the_depth_limit() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(accepts(&nested(NESTING_DEPTH_MAX)));
        assert_eq!(
            whole_value(&nested(NESTING_DEPTH_MAX + 1)),
            Err(ScanError::TooDeep)
        );
        let objects = format!(
            "{}1{}",
            "{\"k\":".repeat(NESTING_DEPTH_MAX + 1),
            "}".repeat(NESTING_DEPTH_MAX + 1)
        );
        assert_eq!(whole_value(&objects), Err(ScanError::TooDeep));
    }

    #[test]
    fn strings_know_whether_python_prints_them_as_they_came() {
        let string = |text: &'static str| Scanner::new(text).string().unwrap();
        assert_eq!(
            string("\"c1 n2\""),
            RawStr {
                raw: "c1 n2",
                plain: true
            }
        );
        assert!(!string("\"a\\nb\"").plain);
        assert!(!string("\"é\"").plain);
        assert!(!string("\"\u{7f}\"").plain);
    }
}
