//! The stateright side of the workbench: the models built on the protocol, and how they are
//! searched.
//!
//! - `settings`: the faults a check explores, and how models name things for people;
//! - `cuts`: the cuts of the state space, each switchable (`--reduce`);
//! - `actors`: a compact actor system that runs stateright actors for exhaustive search;
//! - `engine`: the bounded search (breadth-first, depth-first, random walks);
//! - `symmetry`: renaming acceptors, for the search's symmetry reduction;
//! - `paxos`: the single-decree and Multi-Paxos models;
//! - `cluster`: the lin-kv cluster of replicas, exactly as the node runs them;
//! - `catalogue`: the flaw catalogue, borne out by the checker;
//! - `story`, `svg`: runs for people: traces, states in protocol words, counterexamples told as
//!   stories and drawn as sequence diagrams;
//! - `livelock`: duelling proposers with unbounded ballots, and the lasso that shows they can
//!   keep each other from choosing forever.

pub mod actors;
pub mod catalogue;
pub mod cluster;
pub mod cuts;
pub mod engine;
pub mod livelock;
pub mod paxos;
pub mod settings;
pub mod story;
pub mod svg;
pub mod symmetry;

use stateright::{Model, Path};

/// A path as its steps in the model's words (`format_action`).
pub fn describe_path<M>(model: &M, path: &Path<M::State, M::Action>) -> Vec<String>
where
    M: Model,
    M::State: Clone,
    M::Action: Clone + std::fmt::Debug,
{
    path.clone()
        .into_actions()
        .iter()
        .map(|action| model.format_action(action))
        .collect()
}

/// The key-value store is the sequential specification that stateright's linearizability tester
/// replays client histories against.
impl stateright::semantics::SequentialSpec for crate::protocol::kv::KvStore {
    type Op = crate::protocol::kv::KvOp;
    type Ret = crate::protocol::kv::KvResult;

    fn invoke(&mut self, op: &Self::Op) -> Self::Ret {
        self.apply(op)
    }
}
