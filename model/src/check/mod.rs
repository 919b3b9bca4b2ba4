//! The stateright side of the workbench: the models built on the protocol, and how they are
//! searched and shown. Its modules form layers, and imports run one way, down:
//!
//! 1. the search: `frontier` (the breadth-first frontier's spill to disk, states as bytes),
//!    `engine` (breadth-first, depth-first, random walks over any `Explorable`), `cuts` (the
//!    cuts of the state space, each switchable with `--reduce`) and, with the feature
//!    `distributed`, `distributed` (one search over several processes, on timely);
//! 2. the actor runtime: `settings` (the faults a check explores, what a model's configuration
//!    says, how a model names its actors and messages), `actors` (a compact actor system that
//!    runs stateright actors for exhaustive search) and `symmetry` (renaming acceptors);
//! 3. the models: `paxos` (single-decree and Multi-Paxos), `cluster` (the lin-kv cluster of
//!    replicas, exactly as the node runs them) and `livelock` (duelling proposers with unbounded
//!    ballots, and the lasso that shows they can keep each other from choosing forever); then
//!    `catalogue`, the flaws and the configuration each is shown in;
//! 4. the presentation: `story` (traces, states in the protocol's words, counterexamples told as
//!    stories), `svg` (sequence diagrams), `checkable` (a model as the tools see it) and
//!    `examine` (the catalogue borne out by the checker).
//!
//! `model/tests/layers.rs` holds the code to this order.

pub mod actors;
pub mod catalogue;
pub mod checkable;
pub mod cluster;
pub mod cuts;
#[cfg(feature = "distributed")]
pub mod distributed;
pub mod engine;
pub mod examine;
pub mod frontier;
pub mod livelock;
pub mod paxos;
pub mod settings;
pub mod story;
pub mod svg;
pub mod symmetry;

/// The key-value store is the sequential specification that stateright's linearizability tester
/// replays client histories against.
impl stateright::semantics::SequentialSpec for crate::protocol::kv::KvStore {
    type Op = crate::protocol::kv::KvOp;
    type Ret = crate::protocol::kv::KvResult;

    fn invoke(&mut self, op: &Self::Op) -> Self::Ret {
        self.apply(op)
    }
}
