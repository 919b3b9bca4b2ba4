//! Writing replies: each field is printed in Python's format as it is added, and a message is
//! the envelope around those bytes, appended to the event loop's output buffer. No tree of
//! values is built and nothing is printed twice.
//!
//! The course's key order is the order fields are added: `type`, `in_reply_to`, the payload as
//! the course shows it, and `msg_id` last, when the message is numbered on its way out.

use super::python::{self, write_i64, write_u64};
use super::value::{JsonStr, JsonValue};
use super::RequestError;
use serde::Serialize;
use std::io;

/// Something that can print itself as Python's `json.dumps` would.
pub trait WriteJson {
    fn write_json(&self, out: &mut Vec<u8>);
}

impl WriteJson for bool {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(if *self { b"true" } else { b"false" });
    }
}

impl WriteJson for u64 {
    fn write_json(&self, out: &mut Vec<u8>) {
        write_u64(out, *self);
    }
}

impl WriteJson for i64 {
    fn write_json(&self, out: &mut Vec<u8>) {
        write_i64(out, *self);
    }
}

impl WriteJson for u8 {
    fn write_json(&self, out: &mut Vec<u8>) {
        write_u64(out, u64::from(*self));
    }
}

/// A Rust string, printed with `ensure_ascii`.
impl WriteJson for str {
    fn write_json(&self, out: &mut Vec<u8>) {
        python::write_str(out, self);
    }
}

/// A string kept in its printed form: copied between quotes.
impl WriteJson for JsonStr<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'"');
        out.extend_from_slice(self.printed().as_bytes());
        out.push(b'"');
    }
}

/// A client's value, kept as Python prints it: copied.
impl WriteJson for JsonValue {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.printed().as_bytes());
    }
}

/// `None` is JSON's null.
impl<T: WriteJson> WriteJson for Option<T> {
    fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Some(value) => value.write_json(out),
            None => out.extend_from_slice(b"null"),
        }
    }
}

impl<T: WriteJson + ?Sized> WriteJson for &T {
    fn write_json(&self, out: &mut Vec<u8>) {
        (**self).write_json(out);
    }
}

impl<T: WriteJson> WriteJson for [T] {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        for (index, item) in self.iter().enumerate() {
            if index > 0 {
                out.extend_from_slice(b", ");
            }
            item.write_json(out);
        }
        out.push(b']');
    }
}

impl<T: WriteJson> WriteJson for Vec<T> {
    fn write_json(&self, out: &mut Vec<u8>) {
        self.as_slice().write_json(out);
    }
}

/// Anything serde can serialise (a peer message's payload), printed through serde_json with
/// Python's separators and escapes.
pub struct Serialized<'a, T: Serialize>(pub &'a T);

impl<T: Serialize> WriteJson for Serialized<'_, T> {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut serializer = serde_json::Serializer::with_formatter(out, PythonFormatter);
        self.0
            .serialize(&mut serializer)
            .expect("the core's messages serialise to JSON");
    }
}

/// An object's fields, printed as they are added, in that order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Object {
    /// `"name": value, "name": value` without the braces.
    fields: Vec<u8>,
}

impl Object {
    pub fn new() -> Self {
        Object::default()
    }

    pub fn with(mut self, field: &'static str, value: impl WriteJson) -> Self {
        debug_assert!(
            field
                .bytes()
                .all(|byte| byte.is_ascii_graphic() && byte != b'"' && byte != b'\\'),
            "field names are printed as they are"
        );
        if !self.fields.is_empty() {
            self.fields.extend_from_slice(b", ");
        }
        self.fields.push(b'"');
        self.fields.extend_from_slice(field.as_bytes());
        self.fields.extend_from_slice(b"\": ");
        value.write_json(&mut self.fields);
        self
    }
}

impl WriteJson for Object {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'{');
        out.extend_from_slice(&self.fields);
        out.push(b'}');
    }
}

/// A reply body under construction: `type` and `in_reply_to` first, then what `with` adds;
/// `msg_id` is appended when the message is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply(Object);

impl Reply {
    pub fn new(message_type: &'static str, in_reply_to: Option<u64>) -> Self {
        let reply = Object {
            fields: Vec::with_capacity(128),
        }
        .with("type", message_type);
        Reply(match in_reply_to {
            Some(msg_id) => reply.with("in_reply_to", msg_id),
            None => reply,
        })
    }

    pub fn error(in_reply_to: Option<u64>, error: &RequestError) -> Self {
        Reply::new("error", in_reply_to)
            .with("code", error.code as u8)
            .with("text", error.text.as_str())
    }

    pub fn with(self, field: &'static str, value: impl WriteJson) -> Self {
        Reply(self.0.with(field, value))
    }
}

/// Appends one message as a line, byte for byte as Python's `json.dumps` prints it: `src`,
/// `dest` (both in printed form, as `JsonStr` keeps them), then the body with `msg_id` last.
pub fn write_message(out: &mut Vec<u8>, src: &str, dest: &str, reply: &Reply, msg_id: u64) {
    out.extend_from_slice(b"{\"src\": \"");
    out.extend_from_slice(src.as_bytes());
    out.extend_from_slice(b"\", \"dest\": \"");
    out.extend_from_slice(dest.as_bytes());
    out.extend_from_slice(b"\", \"body\": {");
    out.extend_from_slice(&reply.0.fields);
    out.extend_from_slice(b", \"msg_id\": ");
    write_u64(out, msg_id);
    out.extend_from_slice(b"}}\n");
}

/// serde_json's compact output with Python's separators, `ensure_ascii` and float repr.
struct PythonFormatter;

/// Python's item separator: `", "` before every item but the first.
fn python_separator<W: ?Sized + io::Write>(writer: &mut W, first: bool) -> io::Result<()> {
    if first {
        Ok(())
    } else {
        writer.write_all(b", ")
    }
}

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        python_separator(writer, first)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        python_separator(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        let mut text = Vec::new();
        python::write_float(&mut text, value);
        writer.write_all(&text)
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut text = Vec::with_capacity(fragment.len());
        python::write_str_content(&mut text, fragment);
        writer.write_all(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(reply: &Reply) -> String {
        let mut out = Vec::new();
        write_message(&mut out, "n1", "c1", reply, 3);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn replies_print_like_python_json_dumps() {
        let value = JsonValue::parse(r#"{"k":[1,"two"]}"#).unwrap();
        let reply = Reply::new("paxos_promise", Some(2))
            .with("promised", true)
            .with("accepted_n", None::<u64>)
            .with("accepted_value", &value);
        assert_eq!(
            line(&reply),
            "{\"src\": \"n1\", \"dest\": \"c1\", \"body\": {\"type\": \"paxos_promise\", \"in_reply_to\": 2, \
             \"promised\": true, \"accepted_n\": null, \"accepted_value\": {\"k\": [1, \"two\"]}, \"msg_id\": 3}}\n"
        );
    }

    #[test]
    fn non_ascii_is_escaped_as_python_does() {
        let reply = Reply::new("x", None).with("value", "é\u{7f}😀\n\"");
        assert!(
            line(&reply).contains(r#""value": "\u00e9\u007f\ud83d\ude00\n\"""#),
            "{}",
            line(&reply)
        );
    }

    #[test]
    fn nested_objects_and_arrays_print_in_order() {
        let entries = vec![
            Object::new().with("slot", 1u64).with("status", "chosen"),
            Object::new().with("slot", 2u64),
        ];
        let reply = Reply::new("log_ok", None)
            .with("log", entries)
            .with("empty", Vec::<u64>::new());
        assert!(line(&reply).contains(
            r#""log": [{"slot": 1, "status": "chosen"}, {"slot": 2}], "empty": [], "msg_id": 3"#
        ));
    }

    #[test]
    fn serde_values_print_with_python_separators_and_escapes() {
        #[derive(Serialize)]
        struct Peer {
            ballot: (u64, u32),
            name: &'static str,
            ratio: f64,
        }
        let mut out = Vec::new();
        Serialized(&Peer {
            ballot: (1, 0),
            name: "é\"",
            ratio: 1e16,
        })
        .write_json(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"ballot": [1, 0], "name": "\u00e9\"", "ratio": 1e+16}"#
        );
    }
}
