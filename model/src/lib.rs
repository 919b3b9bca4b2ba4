//! `paxos-model`: the protocol, once, and the models that check it.
//!
//! - `protocol`: the pure transition functions of Paxos and Multi-Paxos (no I/O, no clock, no
//!   randomness, no stateright): what `paxos-node` runs;
//! - `check` (cargo feature `check`, on by default): the stateright models built on them, the
//!   search engine, the flaw catalogue;
//! - `course`: the course's safety experiments (task 7-3-3), run on the protocol's roles.

#[cfg(feature = "check")]
pub mod check;
pub mod course;
pub mod protocol;

pub use protocol::ballot::{majority, quorum_size, AcceptorIndex, Ballot, Proposal};
pub use protocol::flaw::Flaw;

/// A model configuration value outside what the model supports, named as the CLI flag is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub setting: &'static str,
    pub message: String,
}

impl ConfigError {
    /// Checks `minimum <= value <= maximum` for the setting called `setting`.
    pub fn check_range(
        setting: &'static str,
        value: usize,
        minimum: usize,
        maximum: usize,
    ) -> Result<(), ConfigError> {
        if (minimum..=maximum).contains(&value) {
            return Ok(());
        }
        Err(ConfigError {
            setting,
            message: format!("must be from {minimum} to {maximum} (got {value})"),
        })
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "--{} {}", self.setting, self.message)
    }
}

impl std::error::Error for ConfigError {}
