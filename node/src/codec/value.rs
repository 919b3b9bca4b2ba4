//! The two kinds of JSON the node keeps from a request: strings it reads (ids, types, names) and
//! values it only echoes (a proposal's value). Both are kept as Python prints them, which makes
//! writing them back a copy, and makes comparing them honest: Python's printed form of a string
//! is a function of the string alone, so two strings are equal exactly when their printed forms
//! are, however they were escaped on the way in (`"\u0061"` is `"a"`).

use super::python::{self, KeyOrder};
use super::scan::{RawStr, ScanError};
use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A JSON string as Python prints it between the quotes (`ensure_ascii`): borrowed from the line
/// when it arrived plain, as almost every id and type does. It can hold what a Rust string
/// cannot, such as a lone surrogate (`\ud800`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JsonStr<'a>(Cow<'a, str>);

impl<'a> JsonStr<'a> {
    pub fn from_raw(string: RawStr<'a>) -> Self {
        if string.plain {
            return JsonStr(Cow::Borrowed(string.raw));
        }
        let mut printed = Vec::with_capacity(string.raw.len() + 8);
        python::print_raw_string(&mut printed, string);
        JsonStr(Cow::Owned(
            String::from_utf8(printed).expect("Python's printed form is ASCII"),
        ))
    }

    /// A string kept earlier in its printed form (as `into_printed` gave it).
    pub fn from_printed(printed: String) -> JsonStr<'static> {
        JsonStr(Cow::Owned(printed))
    }

    /// The printed form (what goes between the quotes on output).
    pub fn printed(&self) -> &str {
        &self.0
    }

    pub fn into_printed(self) -> String {
        self.0.into_owned()
    }

    /// The string itself, for messages and for names the node interprets (a flaw, a file name).
    pub fn decoded(&self) -> Cow<'_, str> {
        if self.0.contains('\\') {
            Cow::Owned(python::decode_printed(&self.0))
        } else {
            Cow::Borrowed(&self.0)
        }
    }
}

/// A client's value, opaque to the node: any JSON, kept as the exact text Python's `json.dumps`
/// prints for it, and shared (not copied) between the roles that hold it.
///
/// Two values are the same value when Python's `==` says so, with two exceptions that make a
/// proposal equal to itself: NaN equals NaN, and `true` is not `1`. Key order does not matter,
/// `1` equals `1.0`. The canonical form that decides this is kept only when it differs from the
/// printed one (an object with several keys, or a float).
#[derive(Clone)]
pub struct JsonValue {
    printed: Arc<str>,
    canonical: Option<Arc<str>>,
}

impl JsonValue {
    /// The value whose JSON text is `raw` (whitespace around it allowed).
    pub fn parse(raw: &str) -> Result<Self, ScanError> {
        let mut printed = Vec::with_capacity(raw.len() + raw.len() / 8 + 2);
        let facts = python::print_value(raw, KeyOrder::AsSent, &mut printed)?;
        let printed = String::from_utf8(printed).expect("Python's printed form is ASCII");
        let canonical = if facts.canonical_may_differ {
            let mut canonical = Vec::with_capacity(printed.len());
            python::print_value(&printed, KeyOrder::Sorted, &mut canonical)?;
            let canonical = String::from_utf8(canonical).expect("ASCII");
            (canonical != printed).then(|| Arc::from(canonical))
        } else {
            None
        };
        Ok(JsonValue {
            printed: Arc::from(printed),
            canonical,
        })
    }

    /// A Rust string as a JSON string value.
    pub fn string(text: &str) -> Self {
        let mut printed = Vec::with_capacity(text.len() + 2);
        python::write_str(&mut printed, text);
        JsonValue {
            printed: Arc::from(String::from_utf8(printed).expect("ASCII")),
            canonical: None,
        }
    }

    /// The text Python prints for this value.
    pub fn printed(&self) -> &str {
        &self.printed
    }

    fn identity(&self) -> &str {
        self.canonical.as_deref().unwrap_or(&self.printed)
    }
}

impl PartialEq for JsonValue {
    fn eq(&self, other: &Self) -> bool {
        self.identity() == other.identity()
    }
}

impl Eq for JsonValue {}

impl Hash for JsonValue {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.identity().hash(state);
    }
}

/// On disk (the course acceptor's state) a value is its printed text, as a JSON string: the
/// text is what the node answers with, and reading it back restores the same value.
impl serde::Serialize for JsonValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.printed)
    }
}

impl<'de> serde::Deserialize<'de> for JsonValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let printed = String::deserialize(deserializer)?;
        JsonValue::parse(&printed)
            .map_err(|error| serde::de::Error::custom(format!("not a JSON value: {error:?}")))
    }
}

impl fmt::Debug for JsonValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.printed)
    }
}

impl fmt::Display for JsonValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.printed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(raw: &str) -> JsonValue {
        JsonValue::parse(raw).expect("valid JSON")
    }

    #[test]
    fn a_value_is_kept_as_python_prints_it() {
        assert_eq!(
            value(r#" {"z":1, "a":[1e16,-0,"é"]} "#).printed(),
            r#"{"z": 1, "a": [1e+16, 0, "\u00e9"]}"#
        );
        assert_eq!(JsonValue::string("value_7").printed(), r#""value_7""#);
    }

    #[test]
    fn values_are_equal_as_python_compares_them() {
        assert_eq!(value(r#"{"a":1,"b":2}"#), value(r#"{"b":2,"a":1}"#));
        assert_eq!(value("[1.0]"), value("[1]"));
        assert_eq!(value(r#""\u00e9""#), value(r#""é""#));
        assert_eq!(value("NaN"), value("NaN"), "a proposal equals itself");
        assert_ne!(value("[1,2]"), value("[2,1]"));
        assert_ne!(value("true"), value("1"));
        assert_ne!(value(r#""1""#), value("1"));
    }

    #[test]
    fn strings_compare_by_what_they_say() {
        let string = |text: &'static str| {
            JsonStr::from_raw(super::super::scan::Scanner::new(text).string().unwrap())
        };
        assert_eq!(string(r#""\u0061b""#), string(r#""ab""#));
        assert_eq!(string(r#""é""#).printed(), r"\u00e9");
        assert_eq!(string(r#""é""#).decoded(), "é");
        assert_eq!(string(r#""\ud800""#).printed(), r"\ud800");
    }
}
