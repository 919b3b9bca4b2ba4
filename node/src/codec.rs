//! The Maelstrom wire, as the course's Python grader reads and writes it.
//!
//! In: one JSON message per line, read as Python's `json.loads` reads it (NaN and Infinity,
//! lone surrogates, integers of any size, a repeated key's last value). Out: each reply exactly
//! as Python's `json.dumps` prints it (`", "` and `": "`, `ensure_ascii`, the course's key
//! order). Nothing here decides anything about Paxos.
//!
//! No tree of values is built either way. A line is scanned once, in place (`scan`); the
//! envelope and the body's fields are slices of it (`request`), decoded only when a handler asks
//! for one. A client's value is opaque to the node, so it is kept as the text Python prints for
//! it (`value`, printed by `python`), and a reply is printed field by field straight into the
//! output buffer (`reply`). serde_json could not do the reading: it refuses `NaN` and
//! `Infinity`, and lone surrogates in the strings it decodes, all of which Python accepts. It
//! still decodes and prints the peer messages' payloads, the core's own types.
//!
//! Bounds on what one line may cost are in `crate::limits`.

#[cfg(test)]
pub(crate) mod properties;
mod python;
mod reply;
mod request;
mod scan;
mod value;

pub use reply::{write_message, Object, Reply, Serialized, WriteJson};
pub use request::{
    integer, parse_line, parse_overlong_line, string, BadEnvelope, Fields, ParsedLine,
};
pub use value::{JsonStr, JsonValue};

use std::fmt;

/// Maelstrom's error codes that this node uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    NotSupported = 10,
    TemporarilyUnavailable = 11,
    MalformedRequest = 12,
    Crash = 13,
    /// Maelstrom's `abort`: the request was not carried out. This node gives it for a request
    /// over one of its limits (`crate::limits`), naming the limit.
    Abort = 14,
}

/// Why a request could not be served, as the `error` reply will say it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestError {
    pub code: ErrorCode,
    pub text: String,
}

impl RequestError {
    pub fn malformed(text: impl Into<String>) -> Self {
        RequestError {
            code: ErrorCode::MalformedRequest,
            text: text.into(),
        }
    }

    /// The request is over one of the node's limits; `text` names it.
    pub fn limit(text: impl Into<String>) -> Self {
        RequestError {
            code: ErrorCode::Abort,
            text: text.into(),
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error {}: {}", self.code as u8, self.text)
    }
}
