//! `paxos-model`: the protocol, once.
//!
//! The pure transition functions of single-decree Paxos and Multi-Paxos (`single`, `multi`),
//! the rules they share (`rules`), the course's safety scenarios built on them (`course`), and
//! the flaw catalogue that bends exactly one rule at a time (`flaw`). Nothing here does I/O,
//! reads a clock or draws a random number: the stateright models and `paxos-node` are adapters
//! that feed inputs in and apply the steps that come out.

pub mod ballot;
pub mod course;
pub mod flaw;
pub mod multi;
pub mod rules;
pub mod single;

pub use ballot::{majority, quorum_size, AcceptorIndex, Ballot, Proposal};
pub use flaw::Flaw;
