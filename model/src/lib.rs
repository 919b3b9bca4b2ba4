//! `paxos-model`: the protocol, once.
//!
//! The pure transition functions of single-decree Paxos and Multi-Paxos (`single`, `multi`),
//! the rules they share (`rules`), the course's safety scenarios built on them (`course`), and
//! the flaws that each bend one rule, or a pair (`flaw`), and the catalogue that shows what each one breaks
//! (`catalogue`). Nothing here does I/O,
//! reads a clock or draws a random number: the stateright models and `paxos-node` are adapters
//! that feed inputs in and apply the steps that come out.

pub mod ballot;
pub mod catalogue;
pub mod cluster;
pub mod course;
pub mod flaw;
pub mod kv;
pub mod multi;
pub mod multi_model;
pub mod rules;
pub mod search;
pub mod single;
pub mod single_model;
pub mod system;

pub use ballot::{majority, quorum_size, AcceptorIndex, Ballot, Proposal};
pub use flaw::Flaw;

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
