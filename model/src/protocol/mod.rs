//! The protocol: Paxos as pure transition functions. No I/O, no clock, no randomness and no
//! stateright: a role takes its state and one input and returns a step (what to persist, what to
//! send, what it learned, what to do with its timer), which its caller applies in that order.
//! The node depends on this alone; the models in `check` are adapters over it.
//!
//! - `ballot`, `quorum`, `slots`: the vocabulary (ballots and proposals, sets of acceptors, log
//!   positions);
//! - `rules`: each rule of Paxos once, with the one flaw that bends it (`flaw`);
//! - `message`: the messages, and the one dispatch that routes each to its role;
//! - `acceptor`, `proposer`: the two roles, for a log of any length (single-decree Paxos is the
//!   log of one slot);
//! - `chosen`: what a majority accepted, the truth that learners must agree with;
//! - `replica`, `kv`: a lin-kv server over the proposer, as every node of a cluster runs it;
//!   `entry`: what its log holds; `durable`: the records a replica persists, and the state they
//!   rebuild. Imports run one way: `entry` below `durable` below `replica`.

pub mod acceptor;
pub mod ballot;
pub mod chosen;
pub mod durable;
pub mod entry;
pub mod flaw;
pub mod kv;
pub mod message;
pub mod proposer;
pub mod quorum;
pub mod replica;
pub mod rules;
pub mod slots;
