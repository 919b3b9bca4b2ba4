//! The search engine behind `paxos-check`: breadth-first, depth-first and random-walk
//! exploration of a stateright `Model`, bounded on our own clock.
//!
//! The models, their properties, their paths and the Explorer stay stateright's; only the search
//! is ours, because stateright 0.31's checkers cannot be bounded or stopped reliably: their BFS
//! and DFS look at the deadline only when a thread goes back to the job broker for work, which a
//! single thread never does; BFS keeps the whole action path of every queued state; neither
//! offers symmetry reduction in BFS, a memory guard, an interrupt, or a stop at the first
//! violation.
//!
//! What the engine guarantees:
//! - **Bounded.** Every worker looks at one stop flag after every state it expands. A monitor
//!   thread sets it when the deadline passes, when the process's resident memory crosses the
//!   guard, or when the caller's interrupt flag (Ctrl-C) is raised; the workers set it
//!   themselves at the state budget or when the goal is met.
//! - **Shortest.** Breadth-first search runs level by level (several threads share a level) and
//!   checks every state when it is first discovered, so the first discovery of a property is at
//!   the least depth where one exists, with any number of threads. A depth-first or random
//!   discovery is shortened afterwards by a breadth-first search bounded by its depth (and by the
//!   same deadline).
//! - **Symmetry-aware.** States are deduplicated by `Explorable::class_fingerprint`, the
//!   fingerprint of the state's symmetry class. The search still walks real states, so every
//!   path it reports is a real run of the model, rebuilt by replaying it from an initial state.
//! - **Lean.** A discovered state costs 24 bytes in its table, two thirds full on average
//!   (`Visited`): its 128-bit fingerprint, 56 bits of its parent's and its depth; only the frontier holds
//!   whole states, and a level's states are freed as they are expanded.
//! - **Within memory.** Under a memory budget, a breadth-first search of a model that can write
//!   its states to bytes (`Explorable::codec`) spills the level it is building to disk
//!   (`check::frontier`) once resident memory nears the budget, and stops at the guard only
//!   when the visited set alone has reached it. Other searches stop at the budget.
//!
//! Property semantics are stateright's: an `always` property is violated by a reachable state
//! where it is false, a `sometimes` property has an example in a reachable state where it is
//! true, and an `eventually` property fails on a path to a terminal state where it never held.
//! What "terminal" means is the one choice (`Liveness`): stateright's strict reading (no
//! successor at all), or by default a fair one, where steps the model does not count as
//! progress (a crash, which the recovery undoes) and steps back to the same state cannot keep a
//! run from ending. The engine judges `eventually` at terminal states, which is exact for
//! conditions that stay true once true (stateright remembers along each path whether the
//! condition held, which comes to the same for those). Every run checks that, on every step it
//! takes: a condition that held and then stopped holding leaves its property unjudged
//! (`Exploration::unstable`), and a violation found for it is not to be trusted. Under the fair
//! reading, a step the model does not count as progress (a crash, a lost disk) may make such a
//! condition false again ("every replica votes" after a disk is lost): the property then asks
//! that it hold again at the end of every run, after the last fault, which is what a judgment
//! at terminal states gives; only progress steps must keep it. (Where stateright, which asks
//! only that the condition held somewhere on the path, would judge otherwise, the differential
//! suite's comparison with its checker shows it.)

pub use crate::check::frontier::SpillReport;
use crate::check::frontier::{Chunk, Spill, StateCodec};
use foldhash::quality::FixedState;
use stateright::{Expectation, Model, Path, Property};
use std::collections::VecDeque;
use std::fmt::Debug;
use std::hash::{BuildHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// A state's 128-bit fingerprint: two 64-bit foldhash values of the same input under two
/// independent seeds. The search keeps fingerprints, not states, so two distinct states that share
/// one are merged and the second is never explored. Over n states that happens with a probability
/// of about n²/2¹²⁹ (`collision_probability`): about 10⁻²³ at 10⁸ states, where 64 bits (TLC's
/// choice, and this engine's before) give 3·10⁻⁴, a figure that grows with the reach we want.
pub type Fingerprint = u128;

const FINGERPRINT_SEEDS: [u64; 2] = [
    0x5041_584f_535f_4650, // "PAXOS_FP"
    0x4650_5f32_5f48_4931, // "FP_2_HI1"
];

/// The fingerprint of any hashable value, stable across runs and platforms of one build.
pub fn fingerprint<T: Hash + ?Sized>(value: &T) -> Fingerprint {
    let mut hasher = fingerprint_hasher();
    value.hash(&mut hasher);
    hasher.finish128()
}

/// A hasher that finishes with a fingerprint (`finish128`), for values hashed piece by piece.
pub fn fingerprint_hasher() -> FingerprintHasher {
    FingerprintHasher {
        halves: FINGERPRINT_SEEDS.map(|seed| FixedState::with_seed(seed).build_hasher()),
    }
}

/// Two foldhash hashers fed the same input. Its `Hasher::finish` is a 64-bit hash (for ordering
/// keys, where a collision costs reduction only); a fingerprint is `finish128`.
pub struct FingerprintHasher {
    halves: [foldhash::quality::FoldHasher<'static>; 2],
}

impl FingerprintHasher {
    pub fn finish128(&self) -> Fingerprint {
        let [high, low] = &self.halves;
        u128::from(high.finish()) << 64 | u128::from(low.finish())
    }
}

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.halves[0].finish()
    }

    fn write(&mut self, bytes: &[u8]) {
        for half in &mut self.halves {
            half.write(bytes);
        }
    }

    // The derived `Hash` of a state writes mostly integers; forwarding them keeps foldhash's
    // fast paths for them (the default would go through `write` byte slices).
    fn write_u8(&mut self, value: u8) {
        for half in &mut self.halves {
            half.write_u8(value);
        }
    }

    fn write_u16(&mut self, value: u16) {
        for half in &mut self.halves {
            half.write_u16(value);
        }
    }

    fn write_u32(&mut self, value: u32) {
        for half in &mut self.halves {
            half.write_u32(value);
        }
    }

    fn write_u64(&mut self, value: u64) {
        for half in &mut self.halves {
            half.write_u64(value);
        }
    }

    fn write_u128(&mut self, value: u128) {
        for half in &mut self.halves {
            half.write_u128(value);
        }
    }

    fn write_usize(&mut self, value: usize) {
        for half in &mut self.halves {
            half.write_usize(value);
        }
    }
}

/// The probability that, among `unique` fingerprinted states, two distinct ones shared a
/// fingerprint (so that one of them, and what only it leads to, went unexplored): the birthday
/// bound n(n-1)/2 · 2⁻ᵇ for b-bit fingerprints (128 here), assuming fingerprints spread like random values. TLC prints the same
/// kind of estimate for its 64-bit fingerprints.
pub fn collision_probability(unique: usize, fingerprint_bits: u32) -> f64 {
    let n = unique as f64;
    (n * (n - 1.0) / 2.0 * (-f64::from(fingerprint_bits)).exp2()).min(1.0)
}

/// A model the engine can search. The bounds are what a multi-threaded search and stateright's
/// paths need.
pub trait Explorable:
    Model<
        State: Hash + Clone + PartialEq + Debug + Send + Sync + 'static,
        Action: Clone + PartialEq + Debug + Send + Sync,
    > + Send
    + Sync
{
    /// The fingerprint under which `state` is deduplicated. By default the state's own; a model
    /// with a symmetry (interchangeable acceptors) returns the fingerprint of a representative of
    /// the state's symmetry class, so that the search visits one state per class.
    fn class_fingerprint(&self, state: &Self::State) -> Fingerprint {
        fingerprint(state)
    }

    /// Whether `action` is progress, for judging `eventually` properties: a run "ends" where
    /// nothing but non-progress steps (and steps back to the same state) can happen. A model
    /// with faults that repeat forever (an acceptor that crashes and recovers, over and over)
    /// says they are not progress, which is the fairness assumption that a crashed acceptor
    /// eventually recovers and stays up.
    fn is_progress(&self, _action: &Self::Action) -> bool {
        true
    }

    /// How the model writes a state to bytes and reads it back, if it can: a breadth-first
    /// search under a memory budget then spills its frontier to disk rather than stop. `None`
    /// (the default): the frontier stays in memory, and the budget stops the search.
    fn codec(&self) -> Option<StateCodec<Self::State>> {
        None
    }

    /// An ample set of `state`'s steps for the partial-order reduction, where the model has one
    /// smaller than all of them: the successors by a set of steps (each a progress step, at
    /// least one, each successor within the model's boundary) such that
    /// 1. no run from `state` that takes none of them can take a step that depends on one of
    ///    them (it would change the outcome to take the two in the other order, or one would
    ///    enable or disable the other): the set is *persistent*; and
    /// 2. each of them moves every property's condition only the way the property tolerates,
    ///    in `state` and in every state reached from it without taking one of them: an
    ///    `always` condition may turn false but never true, a `sometimes` condition true but
    ///    never false, an `eventually` condition not at all. (Ample sets are usually asked to be
    ///    invisible, to keep every temporal property; for these three kinds of properties a
    ///    step that can only make a violation or an example appear earlier is as good.)
    ///
    /// The engine adds the third condition, the cycle proviso (`Run::expand_reduced`), unless
    /// the model vouches that no cycle can be made of ample steps (`Ample::descending`), and
    /// asks only in a breadth-first search. Together they keep every verdict: a state that
    /// violates an `always` property (or is an example of a `sometimes` one, or ends a run
    /// where an `eventually` condition never held) reachable in the full graph has one
    /// reachable in the reduced graph, by the same steps in another order with perhaps some of
    /// an ample set's steps before them, so a counterexample found this way is a real run but
    /// may be longer than the shortest (`Run::paths` shortens it). `None` (the default): every
    /// step.
    ///
    /// `settled` has bit i set where property i's verdict can no longer change (an `always`
    /// violated, a `sometimes` example or an `eventually` violation found, by the end of the
    /// level before): condition 2 need not hold for those. (Each verdict is kept by the
    /// reduction as long as its property is unsettled, and a settled one is kept by
    /// definition.) The engine takes the mask at the start of each level, so that a search's
    /// states do not depend on how its threads raced.
    fn ample(&self, _state: &Self::State, _settled: u64) -> Option<Ample<Self::State>> {
        None
    }
}

/// What a model offers the partial-order reduction at one state (`Explorable::ample`).
pub struct Ample<S> {
    /// The successors by the steps of the ample set: real successors of the state, at least one.
    pub successors: Vec<S>,
    /// How many of the state's steps the set leaves out (at least one).
    pub left_out: usize,
    /// The model's word that no cycle of states is made of ample steps alone when every step of
    /// this set lowers a measure that no ample step raises; the engine then needs no proviso
    /// for this set.
    pub descending: bool,
}

/// What the partial-order reduction did in a search.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReductionReport {
    /// States expanded by an ample set only.
    pub reduced_states: usize,
    /// States whose model offered an ample set that the cycle proviso refused: a successor by
    /// it was known from an earlier level, so every step was taken.
    pub proviso_refusals: usize,
    /// Steps left out at the states expanded by an ample set.
    pub steps_left_out: usize,
}

/// The order in which states are visited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Level by level: every first discovery is at the least depth.
    BreadthFirst,
    /// Deepest first: less memory for the frontier; discoveries are shortened afterwards.
    DepthFirst,
    /// Random walks from `seed`: samples paths of spaces too large to exhaust; never complete.
    RandomWalks { seed: u64 },
}

/// Which states end a run, for `eventually` properties.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Liveness {
    /// A state is terminal when every step from it is one the model does not count as
    /// progress (`Explorable::is_progress`: a crash) or returns to the same state: a run may
    /// crash and recover forever, or repeat a step that changes nothing, only where a fair
    /// scheduler would let it, so such runs are not asked to make progress.
    #[default]
    Fair,
    /// Stateright's reading: a state is terminal when it has no successor at all.
    Strict,
}

impl Liveness {
    pub const fn name(self) -> &'static str {
        match self {
            Liveness::Fair => "fair",
            Liveness::Strict => "strict",
        }
    }
}

/// When a search has done its job, short of exhausting the state space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Goal {
    /// Stop at the first discovery of any of these properties. Naming the `always` and
    /// `eventually` properties stops at the first violation, as TLC does.
    AnyOf(Vec<&'static str>),
    /// Go on until every property is decided (a discovery for each) or the space is exhausted.
    EveryProperty,
}

impl Goal {
    /// Stop at the first violation of any `always` or `eventually` property of `model`.
    pub fn first_violation<M: Model>(model: &M) -> Goal {
        Goal::AnyOf(
            model
                .properties()
                .iter()
                .filter(|property| property.expectation != Expectation::Sometimes)
                .map(|property| property.name)
                .collect(),
        )
    }
}

/// Limits on a search. A search stopped by one is incomplete.
#[derive(Clone, Debug, Default)]
pub struct Limits {
    pub deadline: Option<Instant>,
    /// Distinct states (symmetry classes) to discover at most.
    pub max_states: Option<usize>,
    /// The memory budget: resident memory of the whole process, in bytes. A breadth-first search
    /// of a model with a `codec` spills its frontier to disk from seven eighths of it on and
    /// stops only when the visited set alone takes it all; any other search stops when resident
    /// memory reaches it.
    pub max_memory_bytes: Option<u64>,
    /// Where spilled frontier blocks go: the system's temporary directory if `None`.
    pub spill_dir: Option<PathBuf>,
    /// Spill whenever the level being built holds more than this many states in memory,
    /// whatever the memory: a frontier budget in states, which makes spilling testable on a
    /// small model. Like the memory budget, it is used by a breadth-first search only, of a
    /// model with a `codec`.
    pub frontier_states_max: Option<usize>,
    /// Raised by the caller (on Ctrl-C) to stop the search.
    pub interrupt: Option<Arc<AtomicBool>>,
    /// States deeper than this are not expanded.
    pub max_depth: Option<usize>,
}

/// How to search.
#[derive(Clone, Debug)]
pub struct SearchOptions {
    pub strategy: Strategy,
    pub threads: usize,
    pub goal: Goal,
    pub limits: Limits,
    pub liveness: Liveness,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            strategy: Strategy::BreadthFirst,
            threads: 1,
            goal: Goal::EveryProperty,
            limits: Limits::default(),
            liveness: Liveness::Fair,
        }
    }
}

/// Why a search ended before exhausting the state space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The goal was met: one of the wanted discoveries, or every property decided.
    GoalMet = 1,
    Deadline = 2,
    StateBudget = 3,
    MemoryGuard = 4,
    Interrupted = 5,
    /// Random walks never exhaust a state space; they end only at a limit.
    NotExhaustive = 6,
}

impl Stop {
    fn from_code(code: u8) -> Option<Stop> {
        [
            Stop::GoalMet,
            Stop::Deadline,
            Stop::StateBudget,
            Stop::MemoryGuard,
            Stop::Interrupted,
            Stop::NotExhaustive,
        ]
        .into_iter()
        .find(|stop| *stop as u8 == code)
    }

    /// Whether a limit (not the goal) ended the search.
    pub fn is_limit(self) -> bool {
        self != Stop::GoalMet
    }
}

/// A snapshot of a running search, for progress reports.
#[derive(Clone, Copy, Debug, Default)]
pub struct Progress {
    pub states: usize,
    pub unique_states: usize,
    pub depth: usize,
    pub elapsed: Duration,
    pub memory_bytes: Option<u64>,
}

/// What a search found for one property.
pub struct Discovery<M: Model> {
    pub path: Path<M::State, M::Action>,
    /// The path is a shortest one: found breadth-first, or shortened afterwards.
    pub shortest: bool,
}

/// The result of a search.
pub struct Exploration<M: Model> {
    /// Successor states generated, duplicates included.
    pub states: usize,
    /// Distinct states (symmetry classes) discovered.
    pub unique_states: usize,
    pub max_depth: usize,
    pub elapsed: Duration,
    /// Why the search ended early; `None` when it exhausted the reachable state space.
    pub stopped_by: Option<Stop>,
    /// The largest resident memory the monitor saw, if it could read it.
    pub peak_memory_bytes: Option<u64>,
    /// What the visited set (every discovered fingerprint with 56 bits of its parent's and its depth) takes
    /// at the end:
    /// the part of the memory that grows with every state, where the frontier comes and goes.
    /// None where another checker searched (stateright's, which does not say).
    pub visited_bytes: Option<u64>,
    /// How wide the fingerprints that stood for states were: 128 here, 64 in stateright's.
    pub fingerprint_bits: u32,
    /// What the frontier spilled to disk, where the search could spill (breadth-first, a model
    /// with a `codec`, under a budget); `None` where it could not.
    pub spilled: Option<SpillReport>,
    /// What the partial-order reduction did (all zeros where the model offered no ample set).
    pub reduction: ReductionReport,
    /// Per property, in `model.properties()` order.
    pub discoveries: Vec<Option<Discovery<M>>>,
    /// Per property, in the same order: for an `eventually` property whose condition held in
    /// a state and not in a successor, that step (a path ending in it). Judged at terminal
    /// states, such a property's counterexample may be no counterexample at all: its path may
    /// have passed a state where the condition held.
    pub unstable: Vec<Option<Path<M::State, M::Action>>>,
}

impl<M: Model> Exploration<M> {
    /// Every reachable state was explored.
    pub fn complete(&self) -> bool {
        self.stopped_by.is_none()
    }

    pub fn discovery(&self, model: &M, name: &str) -> Option<&Discovery<M>> {
        let index = model
            .properties()
            .iter()
            .position(|property| property.name == name)?;
        self.discoveries[index].as_ref()
    }
}

/// Searches `model` as `options` say, calling `on_progress` a few times a second from a monitor
/// thread.
pub fn explore<M: Explorable>(
    model: &M,
    options: &SearchOptions,
    on_progress: &(dyn Fn(&Progress) + Sync),
) -> Exploration<M> {
    explore_reducing(model, options, on_progress, true)
}

/// `explore`, taking the model's ample sets (`Explorable::ample`) only if `partial_order`.
fn explore_reducing<M: Explorable>(
    model: &M,
    options: &SearchOptions,
    on_progress: &(dyn Fn(&Progress) + Sync),
    partial_order: bool,
) -> Exploration<M> {
    assert!(options.threads >= 1, "a search needs a thread");
    let started = Instant::now();
    let mut run = Run::new(model, options, started);
    run.partial_order = partial_order;
    let found = std::thread::scope(|scope| {
        let monitor = scope.spawn(|| run.monitor(on_progress));
        // Set however the search ends, a panic in a model included: the monitor stops only
        // when it is, and the scope waits for the monitor.
        let finished = SetOnDrop(&run.finished);
        let found = match options.strategy {
            Strategy::BreadthFirst => run.breadth_first(),
            Strategy::DepthFirst => run.depth_first(),
            Strategy::RandomWalks { seed } => run.random_walks(seed),
        };
        drop(finished);
        let peak = monitor.join().expect("the monitor does not panic");
        (found, peak)
    });
    let (frontier_left, peak_memory_bytes) = found;
    // A stopped search may leave millions of states behind; freeing them is no part of the
    // answer, so it happens on a thread of its own while the caller reports.
    std::thread::spawn(move || drop(frontier_left));
    let stopped_by = Stop::from_code(run.stop.load(Ordering::Acquire));
    let discoveries = run.paths();
    let unstable = run.unstable_paths();
    Exploration {
        unstable,
        states: run.generated.load(Ordering::Relaxed),
        unique_states: run.unique.load(Ordering::Relaxed),
        max_depth: run.max_depth.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
        stopped_by,
        peak_memory_bytes,
        visited_bytes: Some(run.visited.bytes()),
        fingerprint_bits: Fingerprint::BITS,
        spilled: run.spill.as_ref().map(Spill::report),
        reduction: ReductionReport {
            reduced_states: run.reduced_states.load(Ordering::Relaxed),
            proviso_refusals: run.proviso_refusals.load(Ordering::Relaxed),
            steps_left_out: run.steps_left_out.load(Ordering::Relaxed),
        },
        discoveries,
    }
}

/// Raises a flag when dropped, on the way out of a scope whether it ends or unwinds.
struct SetOnDrop<'f>(&'f AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Stops the search if the thread it lives on unwinds: a worker whose model panicked takes
/// the others down with it rather than leave them to finish the search.
struct HaltOnPanic<'r, 'm, M: Explorable>(&'r Run<'m, M>);

impl<M: Explorable> Drop for HaltOnPanic<'_, '_, M> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.halt(Stop::Interrupted);
        }
    }
}

/// The resident memory of this process, in bytes, if the platform tells.
pub fn resident_memory_bytes() -> Option<u64> {
    memory::resident_bytes()
}

/// The memory the machine has available now, in bytes, if the platform tells.
pub fn available_memory_bytes() -> Option<u64> {
    memory::available_bytes()
}

mod memory {
    use sysinfo::{MemoryRefreshKind, Pid, ProcessRefreshKind, ProcessesToUpdate, System};

    pub fn resident_bytes() -> Option<u64> {
        let pid = Pid::from_u32(std::process::id());
        let mut system = System::new();
        system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[pid]),
            false,
            ProcessRefreshKind::nothing().with_memory(),
        );
        system.process(pid).map(|process| process.memory())
    }

    pub fn available_bytes() -> Option<u64> {
        let mut system = System::new();
        system.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());
        let available = system.available_memory();
        let limit = system
            .cgroup_limits()
            .map(|limits| limits.free_memory)
            .unwrap_or(u64::MAX);
        let available = available.min(limit);
        (available > 0).then_some(available)
    }
}

/// A step after which an `eventually` property's condition stopped holding: from the class
/// `held` to the class `lost` (or the random walk that took it, ending in it).
#[derive(Clone, Debug)]
struct Unstable<A> {
    held: Fingerprint,
    lost: Fingerprint,
    walk: Option<(usize, Vec<A>)>,
}

/// Where a discovery was made: the state's class fingerprint and depth, or (for random walks)
/// the walk itself.
#[derive(Clone, Debug)]
struct Found<A> {
    fingerprint: Fingerprint,
    depth: usize,
    walk: Option<(usize, Vec<A>)>,
}

/// Every discovered class fingerprint, 56 bits of the class fingerprint of the state it was
/// first reached from (its parent tag), and the depth it was discovered at, in shards so that
/// threads rarely meet.
///
/// Each entry is 24 bytes: the 128-bit fingerprint, then one word holding the parent's low 56
/// bits and the depth (saturating at 255) in its top byte. The tag is enough to walk back to an
/// initial state (`parents_of` finds the entries whose fingerprint ends in it, where that is
/// more than one, which takes about n²/2⁵⁷ states, `Run::replay` tries each), and it keeps the
/// table at 24 bytes an entry instead of 32. The depth is what the partial-order reduction's
/// proviso asks of a state found known (`Run::expand_reduced`). The shards are open-addressed
/// tables that grow by doubling at nine tenths full; their first sizes are spread over one
/// doubling (shard i starts at 2^(i/64) times the smallest), so that they double at different
/// moments and the table as a whole stays about two thirds full, rather than all of it dropping
/// to under half full at once.
struct Visited {
    shards: Vec<Mutex<Table>>,
}

/// One shard: linear probing over slots `[low, high, parent tag and depth]`; a slot whose
/// fingerprint words are zeros is empty.
struct Table {
    slots: Vec<[u64; 3]>,
    len: usize,
}

/// A fingerprint as the table's key: its low and high 64 bits, never both zero (the empty
/// slot's mark), so fingerprint 0 is stored as 1, a merge as likely as any other collision of
/// 128-bit fingerprints.
fn key_of(fingerprint: Fingerprint) -> [u64; 2] {
    let fingerprint = fingerprint.max(1);
    [fingerprint as u64, (fingerprint >> 64) as u64]
}

fn fingerprint_of([low, high]: [u64; 2]) -> Fingerprint {
    (u128::from(high) << 64) | u128::from(low)
}

/// How many bits of the parent's fingerprint an entry keeps; the byte above them holds the
/// entry's depth.
const TAG_BITS: u32 = 56;
const TAG_MASK: u64 = (1 << TAG_BITS) - 1;

/// A depth as an entry keeps it: exact below 255, 255 for every depth from there on.
fn depth_byte(depth: usize) -> u8 {
    u8::try_from(depth).unwrap_or(u8::MAX)
}

/// An entry's third word: the parent's tag (its key's low word, cut to `TAG_BITS`) and the
/// depth.
fn tag_word(parent: [u64; 2], depth: usize) -> u64 {
    (parent[0] & TAG_MASK) | (u64::from(depth_byte(depth)) << TAG_BITS)
}

fn depth_of(word: u64) -> u8 {
    (word >> TAG_BITS) as u8
}

impl Table {
    /// Nine tenths full at most: with 128-bit random keys, linear probing stays short.
    const LOAD_TENTHS: usize = 9;

    fn with_slots(slots: usize) -> Self {
        Table {
            slots: vec![[0; 3]; slots.max(8)],
            len: 0,
        }
    }

    /// Where the probe for a fingerprint whose low bits are `low` starts: the top bits of the
    /// low `TAG_BITS` of `low` scaled to the table (any size, not only powers of two), so that a
    /// parent tag finds its home too; the shard took the bottom bits.
    fn home(&self, low: u64) -> usize {
        ((u128::from(low << (64 - TAG_BITS)) * self.slots.len() as u128) >> 64) as usize
    }

    /// The slots from `low`'s home onwards, wrapping, up to the first empty one.
    fn probe(&self, low: u64) -> impl Iterator<Item = usize> + '_ {
        let home = self.home(low);
        (home..self.slots.len()).chain(0..home)
    }

    /// Records `key` with its third word; if it was known, the word it was recorded with.
    fn insert(&mut self, key: [u64; 2], word: u64) -> Result<(), u64> {
        if (self.len + 1) * 10 > self.slots.len() * Self::LOAD_TENTHS {
            self.grow();
        }
        let slot = self
            .probe(key[0])
            .find(|&index| {
                let slot = self.slots[index];
                slot[..2] == key || slot[..2] == [0, 0]
            })
            .expect("a table below nine tenths full has an empty slot");
        if self.slots[slot][..2] == key {
            return Err(self.slots[slot][2]);
        }
        self.slots[slot] = [key[0], key[1], word];
        self.len += 1;
        Ok(())
    }

    fn grow(&mut self) {
        let mut bigger = Table::with_slots(self.slots.len() * 2);
        for slot in self.slots.iter().filter(|slot| slot[..2] != [0, 0]) {
            bigger
                .insert([slot[0], slot[1]], slot[2])
                .expect("a key is in a table once");
        }
        *self = bigger;
    }

    fn parent_tag(&self, key: [u64; 2]) -> Option<u64> {
        self.probe(key[0])
            .map(|index| self.slots[index])
            .take_while(|slot| slot[..2] != [0, 0])
            .find(|slot| slot[..2] == key)
            .map(|slot| slot[2] & TAG_MASK)
    }

    /// The fingerprints in this table whose low `TAG_BITS` are `tag`.
    fn ending_in(&self, tag: u64) -> Vec<Fingerprint> {
        self.probe(tag)
            .map(|index| self.slots[index])
            .take_while(|slot| slot[..2] != [0, 0])
            .filter(|slot| slot[0] & TAG_MASK == tag)
            .map(|slot| fingerprint_of([slot[0], slot[1]]))
            .collect()
    }
}

impl Visited {
    const SHARDS: usize = 64;
    /// The smallest shard's first size; the others start up to twice as large.
    const FIRST_SLOTS: f64 = 512.0;

    fn new() -> Self {
        Visited {
            shards: (0..Self::SHARDS)
                .map(|shard| {
                    let spread = (shard as f64 / Self::SHARDS as f64).exp2();
                    Mutex::new(Table::with_slots((Self::FIRST_SLOTS * spread) as usize))
                })
                .collect(),
        }
    }

    /// The shard of every fingerprint whose low 64 bits are `low`: its bottom bits, which a
    /// parent tag keeps, so that a tag finds its shard.
    fn shard(&self, low: u64) -> std::sync::MutexGuard<'_, Table> {
        self.shards[low as usize % Self::SHARDS]
            .lock()
            .expect("no poisoned shard")
    }

    /// Records `fingerprint`, reached from `parent` and discovered at `depth`; if it was known
    /// already, the depth it was discovered at (255 for any depth from 255 on).
    fn insert(
        &self,
        fingerprint: Fingerprint,
        parent: Fingerprint,
        depth: usize,
    ) -> Result<(), u8> {
        let key = key_of(fingerprint);
        self.shard(key[0])
            .insert(key, tag_word(key_of(parent), depth))
            .map_err(depth_of)
    }

    /// The memory the tables take: 24 bytes a slot, filled or not.
    fn bytes(&self) -> u64 {
        let slots: usize = self
            .shards
            .iter()
            .map(|shard| shard.lock().expect("no poisoned shard").slots.len())
            .sum();
        (slots * std::mem::size_of::<[u64; 3]>()) as u64
    }

    /// The fingerprints that may be the parent of `fingerprint`: those ending in its parent tag
    /// (one, but for a collision of 56-bit tags).
    fn parents_of(&self, fingerprint: Fingerprint) -> Vec<Fingerprint> {
        let key = key_of(fingerprint);
        let Some(tag) = self.shard(key[0]).parent_tag(key) else {
            return Vec::new();
        };
        self.shard(tag).ending_in(tag)
    }
}

/// A frontier entry: a state, its class fingerprint and its depth.
type Item<S> = (S, Fingerprint, usize);

/// The part of the memory budget from which the breadth-first frontier spills: seven eighths,
/// so that the visited set, which grows by doubling, and the level being expanded, which is
/// still held, have room before resident memory passes the budget.
fn spill_threshold(max_memory_bytes: u64) -> u64 {
    max_memory_bytes / 8 * 7
}

/// The shared state of one search.
struct Run<'m, M: Explorable> {
    model: &'m M,
    options: &'m SearchOptions,
    properties: Vec<Property<M>>,
    started: Instant,
    /// 0 while running, else a `Stop` code.
    stop: AtomicU8,
    finished: AtomicBool,
    generated: AtomicUsize,
    unique: AtomicUsize,
    max_depth: AtomicUsize,
    visited: Visited,
    /// Per property, the first discovery.
    found: Mutex<Vec<Option<Found<M::Action>>>>,
    /// Per `eventually` property, the first step seen to make its condition stop holding: the
    /// class it held in, and the class it did not hold in (or, on a random walk, the walk).
    unstable: Mutex<Vec<Option<Unstable<M::Action>>>>,
    /// Whether any property has an entry in `unstable` (read without the lock).
    any_unstable: AtomicBool,
    /// How many properties have a discovery (read without the lock on the hot path).
    found_count: AtomicUsize,
    /// The frontier's spill to disk, where this search may spill (see `Limits`).
    spill: Option<Spill<M::State>>,
    /// Set by the monitor while resident memory is past the spill threshold.
    memory_pressure: AtomicBool,
    /// States of the level being built that are held in memory (for `frontier_states_max`).
    next_level_held: AtomicUsize,
    /// Whether a breadth-first search takes the model's ample sets where it offers them.
    partial_order: bool,
    /// Bit i: property i was discovered by the start of the level being expanded (what
    /// `Explorable::ample` is told is settled).
    settled: AtomicU64,
    /// The partial-order reduction's counts (`ReductionReport`).
    reduced_states: AtomicUsize,
    proviso_refusals: AtomicUsize,
    steps_left_out: AtomicUsize,
}

impl<'m, M: Explorable> Run<'m, M> {
    fn new(model: &'m M, options: &'m SearchOptions, started: Instant) -> Self {
        let properties = model.properties();
        assert!(
            properties.len() <= 64,
            "the stability check keeps a property per bit of a u64"
        );
        let found = vec![None; properties.len()];
        let unstable = vec![None; properties.len()];
        let limits = &options.limits;
        let spill = model
            .codec()
            .filter(|_| {
                options.strategy == Strategy::BreadthFirst
                    && (limits.max_memory_bytes.is_some() || limits.frontier_states_max.is_some())
            })
            .map(|codec| Spill::new(codec, limits.spill_dir.clone()));
        Run {
            spill,
            memory_pressure: AtomicBool::new(false),
            next_level_held: AtomicUsize::new(0),
            partial_order: true,
            settled: AtomicU64::new(0),
            reduced_states: AtomicUsize::new(0),
            proviso_refusals: AtomicUsize::new(0),
            steps_left_out: AtomicUsize::new(0),
            unstable: Mutex::new(unstable),
            any_unstable: AtomicBool::new(false),
            model,
            options,
            properties,
            started,
            stop: AtomicU8::new(0),
            finished: AtomicBool::new(false),
            generated: AtomicUsize::new(0),
            unique: AtomicUsize::new(0),
            max_depth: AtomicUsize::new(0),
            visited: Visited::new(),
            found: Mutex::new(found),
            found_count: AtomicUsize::new(0),
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed) != 0
    }

    /// Stops the search for `reason`, unless it was stopped already (the first reason stands).
    fn halt(&self, reason: Stop) {
        let _ = self
            .stop
            .compare_exchange(0, reason as u8, Ordering::AcqRel, Ordering::Acquire);
    }

    /// Watches the clock, the memory and the interrupt flag until the search finishes; returns
    /// the peak resident memory it saw.
    fn monitor(&self, on_progress: &(dyn Fn(&Progress) + Sync)) -> Option<u64> {
        let limits = &self.options.limits;
        let mut peak: Option<u64> = None;
        let mut last_report = Instant::now();
        let mut last_memory_read = Instant::now() - Duration::from_secs(1);
        while !self.finished.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(10));
            let now = Instant::now();
            if limits.deadline.is_some_and(|deadline| now >= deadline) {
                self.halt(Stop::Deadline);
            }
            if let Some(interrupt) = &limits.interrupt {
                if interrupt.load(Ordering::Relaxed) {
                    self.halt(Stop::Interrupted);
                }
            }
            if now.duration_since(last_memory_read) >= Duration::from_millis(50) {
                last_memory_read = now;
                if let Some(resident) = memory::resident_bytes() {
                    peak = Some(peak.map_or(resident, |peak| peak.max(resident)));
                    match limits.max_memory_bytes {
                        // A search that spills makes room by spilling; only what it cannot
                        // spill, the visited set, stops it.
                        Some(max) if self.spill.is_some() => {
                            self.memory_pressure
                                .store(resident >= spill_threshold(max), Ordering::Relaxed);
                            if self.visited.bytes() >= max {
                                self.halt(Stop::MemoryGuard);
                            }
                        }
                        Some(max) if resident >= max => self.halt(Stop::MemoryGuard),
                        _ => {}
                    }
                }
            }
            if now.duration_since(last_report) >= Duration::from_millis(200) {
                last_report = now;
                on_progress(&self.progress(peak));
            }
        }
        if let Some(resident) = memory::resident_bytes() {
            peak = Some(peak.map_or(resident, |peak| peak.max(resident)));
        }
        peak
    }

    fn progress(&self, memory_bytes: Option<u64>) -> Progress {
        Progress {
            states: self.generated.load(Ordering::Relaxed),
            unique_states: self.unique.load(Ordering::Relaxed),
            depth: self.max_depth.load(Ordering::Relaxed),
            elapsed: self.started.elapsed(),
            memory_bytes,
        }
    }

    /// Records a newly discovered class; false if it was known.
    fn discover(&self, fingerprint: Fingerprint, parent: Fingerprint, depth: usize) -> bool {
        self.discover_at(fingerprint, parent, depth).is_ok()
    }

    /// Records a newly discovered class, found at `depth`; if it was known, the depth it was
    /// first found at (255 for any depth from 255 on).
    fn discover_at(
        &self,
        fingerprint: Fingerprint,
        parent: Fingerprint,
        depth: usize,
    ) -> Result<(), u8> {
        self.visited.insert(fingerprint, parent, depth)?;
        let unique = self.unique.fetch_add(1, Ordering::Relaxed) + 1;
        if self
            .options
            .limits
            .max_states
            .is_some_and(|max| unique >= max)
        {
            self.halt(Stop::StateBudget);
        }
        Ok(())
    }

    fn note_depth(&self, depth: usize) {
        self.max_depth.fetch_max(depth, Ordering::Relaxed);
    }

    /// Checks the `always` and `sometimes` properties in a newly discovered state.
    fn check_state(
        &self,
        state: &M::State,
        fingerprint: Fingerprint,
        depth: usize,
        walk: Option<&(usize, Vec<M::Action>)>,
    ) {
        if self.found_count.load(Ordering::Relaxed) == self.properties.len() {
            return;
        }
        for (index, property) in self.properties.iter().enumerate() {
            let discovered = match property.expectation {
                Expectation::Always => !(property.condition)(self.model, state),
                Expectation::Sometimes => (property.condition)(self.model, state),
                Expectation::Eventually => false,
            };
            if discovered {
                self.record(index, fingerprint, depth, walk);
            }
        }
    }

    /// Checks the `eventually` properties at a terminal state.
    fn check_terminal(
        &self,
        state: &M::State,
        fingerprint: Fingerprint,
        depth: usize,
        walk: Option<&(usize, Vec<M::Action>)>,
    ) {
        for (index, property) in self.properties.iter().enumerate() {
            if property.expectation == Expectation::Eventually
                && !(property.condition)(self.model, state)
            {
                self.record(index, fingerprint, depth, walk);
            }
        }
    }

    /// Which `eventually` conditions hold in `state` (bit i: property i), for checking that
    /// they keep holding in its successors.
    fn eventually_held(&self, state: &M::State) -> u64 {
        let mut held = 0u64;
        for (index, property) in self.properties.iter().enumerate().take(64) {
            if property.expectation == Expectation::Eventually
                && (property.condition)(self.model, state)
            {
                held |= 1 << index;
            }
        }
        held
    }

    /// What the engine's `eventually` semantics rest on, checked on every step: a condition
    /// that held (`held`, from `eventually_held`) keeps holding in `next`. The first step that
    /// breaks it is kept for the report.
    fn check_stable(
        &self,
        held: u64,
        (from, next, to): (Fingerprint, &M::State, Fingerprint),
        walk: Option<&(usize, Vec<M::Action>)>,
    ) {
        if held == 0 {
            return;
        }
        for (index, property) in self.properties.iter().enumerate().take(64) {
            if held & (1 << index) != 0 && !(property.condition)(self.model, next) {
                let mut unstable = self.unstable.lock().expect("not poisoned");
                if unstable[index].is_none() {
                    unstable[index] = Some(Unstable {
                        held: from,
                        lost: to,
                        walk: walk.cloned(),
                    });
                    self.any_unstable.store(true, Ordering::Relaxed);
                }
            }
        }
    }

    fn record(
        &self,
        index: usize,
        fingerprint: Fingerprint,
        depth: usize,
        walk: Option<&(usize, Vec<M::Action>)>,
    ) {
        let mut found = self.found.lock().expect("not poisoned");
        if found[index].is_some() {
            return;
        }
        found[index] = Some(Found {
            fingerprint,
            depth,
            walk: walk.cloned(),
        });
        let count = self.found_count.fetch_add(1, Ordering::Relaxed) + 1;
        drop(found);
        let property = &self.properties[index];
        let goal_met = match &self.options.goal {
            Goal::AnyOf(names) => names.contains(&property.name),
            Goal::EveryProperty => count == self.properties.len(),
        };
        if goal_met {
            self.halt(Stop::GoalMet);
        }
    }

    /// The successors of `state` that lie within the model's boundary, in action order.
    /// The successors of `state` that lie within the model's boundary, in action order, each
    /// with whether its action is progress (`Explorable::is_progress`).
    fn successors(&self, state: &M::State, actions: &mut Vec<M::Action>) -> Vec<(M::State, bool)> {
        actions.clear();
        self.model.actions(state, actions);
        let mut next_states = Vec::with_capacity(actions.len());
        for action in actions.drain(..) {
            let progress = self.model.is_progress(&action);
            if let Some(next) = self.model.next_state(state, action) {
                if self.model.within_boundary(&next) {
                    next_states.push((next, progress));
                }
            }
        }
        next_states
    }

    /// Expands one state: discovers its successors (each checked as it is discovered) and hands
    /// the new ones to `push`; checks `eventually` properties if the state is terminal. With
    /// `reduce` (breadth first only), by the model's ample set where it offers one and the
    /// cycle proviso allows.
    fn expand(
        &self,
        item: &Item<M::State>,
        actions: &mut Vec<M::Action>,
        reduce: bool,
        push: &mut impl FnMut(Item<M::State>),
    ) {
        let (state, fingerprint, depth) = item;
        if self
            .options
            .limits
            .max_depth
            .is_some_and(|max| *depth >= max)
        {
            return;
        }
        if reduce {
            if let Some(ample) = self
                .model
                .ample(state, self.settled.load(Ordering::Relaxed))
            {
                if self.expand_reduced(item, ample, push) {
                    return;
                }
            }
        }
        let next_states = self.successors(state, actions);
        self.generated
            .fetch_add(next_states.len(), Ordering::Relaxed);
        let held = self.eventually_held(state);
        let mut terminal = true;
        for (next, progress) in next_states {
            let next_fingerprint = self.model.class_fingerprint(&next);
            if progress {
                self.check_stable(held, (*fingerprint, &next, next_fingerprint), None);
            }
            terminal &= match self.options.liveness {
                // A step that returns to the same state, or one the model does not count as
                // progress (a crash, which the recovery undoes), cannot keep a run from ending.
                Liveness::Fair => !progress || next_fingerprint == *fingerprint,
                Liveness::Strict => false,
            };
            if self.discover(next_fingerprint, *fingerprint, depth + 1) {
                self.note_depth(depth + 1);
                self.check_state(&next, next_fingerprint, depth + 1, None);
                push((next, next_fingerprint, depth + 1));
            }
        }
        if terminal {
            self.check_terminal(state, *fingerprint, *depth, None);
        }
    }

    /// Expands `state` by its ample set alone, if the cycle proviso allows it: every successor
    /// the set gives is either new or first found in the level being built, one deeper than
    /// `state` (or the model says the set descends, `Ample::descending`). Returns whether it
    /// did; if not, the caller takes every step (the successors found here are known by then,
    /// and not handed on twice).
    ///
    /// Why the proviso: a persistent set may still postpone a step for ever, round a cycle of
    /// states each expanded by a set that leaves it out, and a violation behind that step would
    /// never be seen (the "ignoring" problem). Under this proviso every step of a reduced
    /// expansion that does not descend leads one level deeper than the state it leaves, in
    /// breadth-first order; descending steps lower a measure no ample step raises. So a cycle
    /// of reduced expansions alone would have to descend without ever climbing back, or go
    /// deeper at every step, and neither closes: each cycle has a state expanded in full. That
    /// is the condition (C3 of Peled's ample sets; Bošnački, Leue and Lluch Lafuente gave
    /// breadth-first forms of it) under which persistent sets keep every reachable violation
    /// reachable. The depth a known state was found at is in its visited entry (exact below
    /// 255; from there on only new successors pass).
    fn expand_reduced(
        &self,
        (state, fingerprint, depth): &Item<M::State>,
        ample: Ample<M::State>,
        push: &mut impl FnMut(Item<M::State>),
    ) -> bool {
        assert!(
            !ample.successors.is_empty() && ample.left_out > 0,
            "an ample set takes a step and leaves one out"
        );
        if cfg!(debug_assertions) {
            self.check_tolerated(state, &ample.successors);
        }
        self.generated
            .fetch_add(ample.successors.len(), Ordering::Relaxed);
        let held = self.eventually_held(state);
        let next_depth = depth + 1;
        let mut proviso_holds = true;
        for next in ample.successors {
            let next_fingerprint = self.model.class_fingerprint(&next);
            self.check_stable(held, (*fingerprint, &next, next_fingerprint), None);
            match self.discover_at(next_fingerprint, *fingerprint, next_depth) {
                Ok(()) => {
                    self.note_depth(next_depth);
                    self.check_state(&next, next_fingerprint, next_depth, None);
                    push((next, next_fingerprint, next_depth));
                }
                Err(found_at) => {
                    proviso_holds &= ample.descending
                        || (next_depth < usize::from(u8::MAX)
                            && usize::from(found_at) == next_depth);
                }
            }
        }
        if proviso_holds {
            self.reduced_states.fetch_add(1, Ordering::Relaxed);
            self.steps_left_out
                .fetch_add(ample.left_out, Ordering::Relaxed);
        } else {
            self.proviso_refusals.fetch_add(1, Ordering::Relaxed);
        }
        proviso_holds
    }

    /// What a model claims of its ample set (`Explorable::ample`, condition 2), checked where it
    /// can be seen (debug builds): each step of the set moves every property's condition only
    /// the way its kind tolerates, here in `state`. (The claim is wider: also in every state
    /// reached without the set's steps; the model argues that part.)
    fn check_tolerated(&self, state: &M::State, successors: &[M::State]) {
        let settled = self.settled.load(Ordering::Relaxed);
        for (index, property) in self.properties.iter().enumerate() {
            if settled & (1 << index) != 0 {
                continue;
            }
            let before = (property.condition)(self.model, state);
            for next in successors {
                let after = (property.condition)(self.model, next);
                let tolerated = match property.expectation {
                    Expectation::Always => before || !after,
                    Expectation::Sometimes => !before || after,
                    Expectation::Eventually => before == after,
                };
                assert!(
                    tolerated,
                    "a step of the ample set moves \"{}\" from {before} to {after}, which its \
                     kind does not tolerate: from {state:?} to {next:?}",
                    property.name
                );
            }
        }
    }

    /// Bit i set where property i has a discovery.
    fn discovered_mask(&self) -> u64 {
        let found = self.found.lock().expect("not poisoned");
        found
            .iter()
            .enumerate()
            .filter(|(_, found)| found.is_some())
            .fold(0, |mask, (index, _)| mask | 1 << index)
    }

    /// The initial states, each discovered and checked; duplicates (by class) left out.
    fn initial_items(&self) -> Vec<Item<M::State>> {
        let mut items = Vec::new();
        for state in self.model.init_states() {
            if !self.model.within_boundary(&state) {
                continue;
            }
            let fingerprint = self.model.class_fingerprint(&state);
            if self.discover(fingerprint, fingerprint, 0) {
                self.check_state(&state, fingerprint, 0, None);
                items.push((state, fingerprint, 0));
            }
        }
        items
    }

    /// Breadth-first, one level at a time; the threads share each level in chunks. Under a
    /// budget, full chunks of the level being built are spilled to disk (`spill_if_over`) and
    /// read back when their turn in the next level comes. Returns what was left of the frontier
    /// when it stopped.
    fn breadth_first(&self) -> Vec<Chunk<M::State>> {
        const CHUNK: usize = 1024;
        let mut level: VecDeque<Chunk<M::State>> =
            VecDeque::from([Chunk::Held(self.initial_items())]);
        while !self.stopped() && level.iter().any(|chunk| !chunk.is_empty()) {
            self.settled
                .store(self.discovered_mask(), Ordering::Relaxed);
            let queue = Mutex::new(std::mem::take(&mut level));
            let next_level = Mutex::new(Vec::new());
            self.next_level_held.store(0, Ordering::Relaxed);
            let work = || {
                let mut actions = Vec::new();
                let mut produced: Vec<Chunk<M::State>> = Vec::new();
                // The chunks of `produced` below this index have been offered to the spill.
                let mut offered = 0;
                let mut filling: Vec<Item<M::State>> = Vec::with_capacity(CHUNK);
                loop {
                    let Some(chunk) = queue.lock().expect("not poisoned").pop_front() else {
                        break;
                    };
                    for item in self.read(chunk) {
                        if self.stopped() {
                            break;
                        }
                        self.expand(&item, &mut actions, self.partial_order, &mut |next| {
                            filling.push(next);
                            if filling.len() == CHUNK {
                                let full =
                                    std::mem::replace(&mut filling, Vec::with_capacity(CHUNK));
                                self.next_level_held.fetch_add(CHUNK, Ordering::Relaxed);
                                produced.push(Chunk::Held(full));
                                self.spill_if_over(&mut produced, &mut offered);
                            }
                        });
                    }
                    if self.stopped() {
                        break;
                    }
                }
                // The last chunk is partial; over the budget it goes to disk too, so that a
                // level's memory is bounded by its budget and not by the threads' remainders.
                self.next_level_held
                    .fetch_add(filling.len(), Ordering::Relaxed);
                produced.push(Chunk::Held(filling));
                self.spill_if_over(&mut produced, &mut offered);
                next_level.lock().expect("not poisoned").extend(produced);
            };
            self.on_threads(&work);
            if let Some(spill) = &self.spill {
                spill.end_level();
            }
            level = next_level.into_inner().expect("not poisoned").into();
            let leftover = queue.into_inner().expect("not poisoned");
            if self.stopped() {
                level.extend(leftover);
            }
        }
        level.into()
    }

    /// The entries of a chunk of the level being expanded, read back from disk if spilled.
    fn read(&self, chunk: Chunk<M::State>) -> Vec<Item<M::State>> {
        match chunk {
            Chunk::Held(items) => items,
            spilled => self
                .spill
                .as_ref()
                .expect("only a search that spills has spilled chunks")
                .take(spilled),
        }
    }

    /// Spills the chunks of `produced` from `offered` on, if the level being built is over its
    /// budget: resident memory near the memory budget, or more states held than
    /// `frontier_states_max`.
    fn spill_if_over(&self, produced: &mut [Chunk<M::State>], offered: &mut usize) {
        let Some(spill) = &self.spill else {
            return;
        };
        let over = self.memory_pressure.load(Ordering::Relaxed)
            || self
                .options
                .limits
                .frontier_states_max
                .is_some_and(|max| self.next_level_held.load(Ordering::Relaxed) > max);
        if !over {
            return;
        }
        for chunk in &mut produced[*offered..] {
            let Chunk::Held(items) = chunk else {
                continue;
            };
            if items.is_empty() {
                continue;
            }
            let items = std::mem::take(items);
            if let Some(sample) = items.first().filter(|_| cfg!(debug_assertions)) {
                self.assert_round_trip(spill.codec(), sample);
            }
            let count = items.len();
            *chunk = spill.spill(items);
            if matches!(chunk, Chunk::Spilled(_)) {
                self.next_level_held.fetch_sub(count, Ordering::Relaxed);
            }
        }
        *offered = produced.len();
    }

    /// A sample of what spilling rests on: a state read back is the state written, with its
    /// fingerprint and its class's.
    fn assert_round_trip(&self, codec: StateCodec<M::State>, (state, class, _): &Item<M::State>) {
        let mut bytes = Vec::new();
        (codec.encode)(state, &mut bytes);
        let decoded = (codec.decode)(&bytes);
        assert!(
            decoded == *state
                && fingerprint(&decoded) == fingerprint(state)
                && self.model.class_fingerprint(&decoded) == *class,
            "a state read back from bytes is the state written: {state:?} came back as \
             {decoded:?}"
        );
    }

    /// Depth-first: each thread goes deep on its own stack and shares half of it whenever
    /// another thread has run dry; the search ends when every thread is out of work at once.
    fn depth_first(&self) -> Vec<Chunk<M::State>> {
        struct Pool<S> {
            items: Vec<Item<S>>,
            idle: usize,
            done: bool,
        }
        let pool = Mutex::new(Pool {
            items: self.initial_items(),
            idle: 0,
            done: false,
        });
        let wake = Condvar::new();
        let waiting = AtomicUsize::new(0);
        let threads = self.options.threads;
        let work = || {
            let mut actions = Vec::new();
            let mut stack: Vec<Item<M::State>> = Vec::new();
            loop {
                if self.stopped() {
                    wake.notify_all();
                    return;
                }
                if let Some(item) = stack.pop() {
                    self.expand(&item, &mut actions, false, &mut |next| stack.push(next));
                    if waiting.load(Ordering::Relaxed) > 0 && stack.len() > 1 {
                        let half = stack.len() / 2;
                        pool.lock()
                            .expect("not poisoned")
                            .items
                            .extend(stack.drain(..half));
                        wake.notify_all();
                    }
                    continue;
                }
                let mut shared = pool.lock().expect("not poisoned");
                loop {
                    if shared.done || self.stopped() {
                        wake.notify_all();
                        return;
                    }
                    if !shared.items.is_empty() {
                        let from = shared.items.len().saturating_sub(64);
                        stack.extend(shared.items.drain(from..));
                        break;
                    }
                    shared.idle += 1;
                    if shared.idle == threads {
                        shared.done = true;
                        wake.notify_all();
                        return;
                    }
                    waiting.fetch_add(1, Ordering::Relaxed);
                    shared = wake
                        .wait_timeout(shared, Duration::from_millis(20))
                        .expect("not poisoned")
                        .0;
                    waiting.fetch_sub(1, Ordering::Relaxed);
                    shared.idle -= 1;
                }
            }
        };
        self.on_threads(&work);
        vec![Chunk::Held(pool.into_inner().expect("not poisoned").items)]
    }

    /// Random walks from random initial states to a terminal state (or `max_depth`, default
    /// 1,000 steps), each thread from its own seeded stream, until a limit stops them.
    fn random_walks(&self, seed: u64) -> Vec<Chunk<M::State>> {
        use rand::{Rng, SeedableRng};
        let walk_depth_max = self.options.limits.max_depth.unwrap_or(1_000);
        let init_states: Vec<M::State> = self
            .model
            .init_states()
            .into_iter()
            .filter(|state| self.model.within_boundary(state))
            .collect();
        if init_states.is_empty() {
            return Vec::new();
        }
        let next_thread = AtomicUsize::new(0);
        let work = || {
            let thread = next_thread.fetch_add(1, Ordering::Relaxed) as u64;
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed.wrapping_add(thread));
            let mut actions = Vec::new();
            while !self.stopped() {
                let init_index = rng.random_range(0..init_states.len());
                let mut state = init_states[init_index].clone();
                let mut walk: (usize, Vec<M::Action>) = (init_index, Vec::new());
                let mut fingerprint = self.model.class_fingerprint(&state);
                if self.discover(fingerprint, fingerprint, 0) {
                    self.note_depth(0);
                }
                self.check_state(&state, fingerprint, 0, Some(&walk));
                loop {
                    if self.stopped() || walk.1.len() >= walk_depth_max {
                        break;
                    }
                    actions.clear();
                    self.model.actions(&state, &mut actions);
                    let mut steps: Vec<(M::Action, M::State)> = actions
                        .drain(..)
                        .filter_map(|action| {
                            let next = self.model.next_state(&state, action.clone())?;
                            self.model.within_boundary(&next).then_some((action, next))
                        })
                        .collect();
                    self.generated.fetch_add(steps.len(), Ordering::Relaxed);
                    if steps.is_empty() {
                        self.check_terminal(&state, fingerprint, walk.1.len(), Some(&walk));
                        break;
                    }
                    let (action, next) = steps.swap_remove(rng.random_range(0..steps.len()));
                    let next_fingerprint = self.model.class_fingerprint(&next);
                    self.discover(next_fingerprint, fingerprint, walk.1.len() + 1);
                    let held = self.eventually_held(&state);
                    let progress = self.model.is_progress(&action);
                    walk.1.push(action);
                    if progress {
                        self.check_stable(
                            held,
                            (fingerprint, &next, next_fingerprint),
                            Some(&walk),
                        );
                    }
                    self.note_depth(walk.1.len());
                    self.check_state(&next, next_fingerprint, walk.1.len(), Some(&walk));
                    state = next;
                    fingerprint = next_fingerprint;
                }
            }
        };
        self.on_threads(&work);
        self.halt(Stop::NotExhaustive);
        Vec::new()
    }

    /// Runs `work` on every thread of the search (the calling one among them) until each
    /// returns.
    fn on_threads(&self, work: &(dyn Fn() + Sync)) {
        let guarded = || {
            let _halt_on_panic = HaltOnPanic(self);
            work();
        };
        if self.options.threads == 1 {
            guarded();
            return;
        }
        // A panic on a spawned thread is raised again here with its own message: the scope
        // would otherwise replace it by "a scoped thread panicked", hiding what went wrong (a
        // model's claim that failed, say) from the user and from tests that read it.
        let calling_thread = std::thread::scope(|scope| {
            let spawned: Vec<_> = (1..self.options.threads)
                .map(|_| scope.spawn(guarded))
                .collect();
            let calling_thread = std::panic::catch_unwind(std::panic::AssertUnwindSafe(guarded));
            for thread in spawned {
                if let Err(payload) = thread.join() {
                    std::panic::resume_unwind(payload);
                }
            }
            calling_thread
        });
        if let Err(payload) = calling_thread {
            std::panic::resume_unwind(payload);
        }
    }

    /// The discoveries as stateright paths: rebuilt from the fingerprint chain (or the random
    /// walk) by replaying the model, then shortened by a bounded breadth-first search where
    /// they may not be shortest.
    fn paths(&self) -> Vec<Option<Discovery<M>>> {
        let found = self.found.lock().expect("not poisoned").clone();
        found
            .into_iter()
            .enumerate()
            .map(|(index, found)| {
                let found = found?;
                let path = match &found.walk {
                    Some((init_index, actions)) => {
                        let init = self.model.init_states().swap_remove(*init_index);
                        Path::from_actions(self.model, init, actions)
                            .expect("a random walk is a path of the model")
                    }
                    None => self.replay(found.fingerprint),
                };
                let breadth_first = self.options.strategy == Strategy::BreadthFirst;
                // The partial-order reduction may reach a state a longer way round than the
                // shortest: a counterexample is then shortened by a search that takes every
                // step; an example (of a sometimes-property) is left as found.
                let reduced = self.reduced_states.load(Ordering::Relaxed) > 0;
                if breadth_first && !reduced {
                    return Some(Discovery {
                        path,
                        shortest: true,
                    });
                }
                if reduced && self.properties[index].expectation == Expectation::Sometimes {
                    return Some(Discovery {
                        path,
                        shortest: false,
                    });
                }
                let shorter = self.shorten(index, found.depth);
                Some(match shorter {
                    Some(path) => Discovery {
                        path,
                        shortest: true,
                    },
                    None => Discovery {
                        path,
                        shortest: false,
                    },
                })
            })
            .collect()
    }

    /// Per property, the step that made its condition stop holding, as a path ending in it.
    fn unstable_paths(&self) -> Vec<Option<Path<M::State, M::Action>>> {
        if !self.any_unstable.load(Ordering::Relaxed) {
            return vec![None; self.properties.len()];
        }
        let unstable = self.unstable.lock().expect("not poisoned").clone();
        unstable
            .into_iter()
            .map(|unstable| {
                let unstable = unstable?;
                Some(match &unstable.walk {
                    Some((init_index, actions)) => {
                        let init = self.model.init_states().swap_remove(*init_index);
                        Path::from_actions(self.model, init, actions)
                            .expect("a random walk is a path of the model")
                    }
                    None => {
                        let to_held = self.replay(unstable.held);
                        let mut actions = to_held.clone().into_actions();
                        let held_state = to_held.last_state().clone();
                        let step = self
                            .step_into(&held_state, unstable.lost)
                            .expect("the step that lost the condition is a step of the model");
                        actions.push(step.0);
                        let init = to_held.into_states().swap_remove(0);
                        Path::from_actions(self.model, init, &actions)
                            .expect("a replayed path is a path of the model")
                    }
                })
            })
            .collect()
    }

    /// The first action from `state` to a successor of class `wanted`, with that successor.
    fn step_into(&self, state: &M::State, wanted: Fingerprint) -> Option<(M::Action, M::State)> {
        let mut actions = Vec::new();
        self.model.actions(state, &mut actions);
        actions.into_iter().find_map(|action| {
            let next = self.model.next_state(state, action.clone())?;
            (self.model.within_boundary(&next) && self.model.class_fingerprint(&next) == wanted)
                .then_some((action, next))
        })
    }

    /// A shortest path to property `index`'s discovery, by a breadth-first search no deeper than
    /// `depth` and within the same limits; `None` if a limit comes first.
    fn shorten(&self, index: usize, depth: usize) -> Option<Path<M::State, M::Action>> {
        let limits = &self.options.limits;
        if limits
            .deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
            || limits
                .interrupt
                .as_ref()
                .is_some_and(|interrupt| interrupt.load(Ordering::Relaxed))
        {
            return None;
        }
        let options = SearchOptions {
            strategy: Strategy::BreadthFirst,
            threads: self.options.threads,
            liveness: self.options.liveness,
            goal: Goal::AnyOf(vec![self.properties[index].name]),
            limits: Limits {
                max_states: None,
                // A state at `depth` is expanded too: an `eventually` discovery is judged where
                // a state is expanded and found terminal.
                max_depth: Some(depth + 1),
                ..limits.clone()
            },
        };
        let mut exploration = explore_reducing(self.model, &options, &|_| {}, false);
        exploration
            .discoveries
            .swap_remove(index)
            .map(|found| found.path)
    }

    /// The path to the class `target`: the chain of parents back to an initial state, replayed
    /// forwards from a real initial state, at each step taking the first action whose successor
    /// lies in the next class of the chain. A parent is known by 56 bits of its fingerprint
    /// (`Visited`); where those name more than one class, each is tried, and only a chain that
    /// replays from an initial state is taken.
    fn replay(&self, target: Fingerprint) -> Path<M::State, M::Action> {
        let inits = self.model.init_states();
        let mut chain = vec![target];
        self.replay_from(&inits, &mut chain)
            .expect("every discovered class has a chain of parents from an initial state")
    }

    /// A path through `chain` (target first, reversed ancestry after it), extended back to an
    /// initial state through the parents the visited table names.
    fn replay_from(
        &self,
        inits: &[M::State],
        chain: &mut Vec<Fingerprint>,
    ) -> Option<Path<M::State, M::Action>> {
        let last = *chain.last().expect("never empty");
        if let Some(init) = inits
            .iter()
            .find(|state| self.model.class_fingerprint(state) == last)
        {
            if let Some(path) = self.replay_chain(init, chain) {
                return Some(path);
            }
        }
        // A chain is never longer than the number of classes; the bound stops a cycle of tag
        // collisions, which a chain of real parents cannot have.
        if chain.len() > self.unique.load(Ordering::Relaxed) + 1 {
            return None;
        }
        for parent in self.visited.parents_of(last) {
            if parent == last || chain.contains(&parent) {
                continue;
            }
            chain.push(parent);
            if let Some(path) = self.replay_from(inits, chain) {
                return Some(path);
            }
            chain.pop();
        }
        None
    }

    /// `chain` (target first) replayed forwards from `init`, if each class is a successor of the
    /// one before.
    fn replay_chain(
        &self,
        init: &M::State,
        chain: &[Fingerprint],
    ) -> Option<Path<M::State, M::Action>> {
        let mut state = init.clone();
        let mut steps = Vec::with_capacity(chain.len());
        for wanted in chain.iter().rev().skip(1) {
            let (action, next) = self.step_into(&state, *wanted)?;
            steps.push(action);
            state = next;
        }
        Some(
            Path::from_actions(self.model, init.clone(), &steps)
                .expect("a replayed path is a path of the model"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fingerprint with these low and high 64 bits.
    fn print(low: u64, high: u64) -> Fingerprint {
        fingerprint_of([low, high])
    }

    #[test]
    fn the_visited_table_keeps_each_class_once_with_its_parent_through_growth() {
        let visited = Visited::new();
        let classes: Vec<Fingerprint> = (1..=50_000u64).map(|n| fingerprint(&n)).collect();
        let root = classes[0];
        assert!(
            visited.insert(root, root, 0).is_ok(),
            "an initial class is its own parent"
        );
        for (depth, pair) in classes.windows(2).enumerate() {
            assert!(
                visited.insert(pair[1], pair[0], depth + 1).is_ok(),
                "a new class is recorded"
            );
        }
        for (depth, pair) in classes.windows(2).enumerate() {
            assert_eq!(
                visited.insert(pair[1], root, 1),
                Err(depth_byte(depth + 1)),
                "a known class is not recorded again, and keeps its first depth"
            );
            assert_eq!(
                visited.parents_of(pair[1]),
                vec![pair[0]],
                "the first parent stays"
            );
        }
        assert_eq!(visited.parents_of(root), vec![root]);
        let slots = visited.bytes() / 24;
        assert!(
            slots as f64 >= classes.len() as f64 / 0.9,
            "no shard is more than nine tenths full"
        );
        assert!(
            visited.parents_of(fingerprint(&0u64)).is_empty(),
            "an unknown class has no parent"
        );
    }

    #[test]
    fn a_parent_tag_shared_by_two_classes_names_both() {
        let visited = Visited::new();
        let (twin_a, twin_b) = (print(7, 1), print(7, 2));
        let child = print(1_000, 3);
        assert!(visited.insert(twin_a, twin_a, 0).is_ok());
        assert!(visited.insert(twin_b, twin_b, 0).is_ok());
        assert!(visited.insert(child, twin_b, 1).is_ok());
        let mut parents = visited.parents_of(child);
        parents.sort();
        assert_eq!(
            parents,
            vec![twin_a, twin_b],
            "56 bits cannot tell the twins apart"
        );
    }

    #[test]
    fn a_depth_past_254_is_kept_as_255_and_a_tag_as_its_low_56_bits() {
        let visited = Visited::new();
        let parent = print(0xAB00_0000_0000_0007, 9);
        let twin = print(0xCD00_0000_0000_0007, 9);
        assert!(visited.insert(parent, parent, 0).is_ok());
        assert!(visited.insert(twin, twin, 0).is_ok());
        let deep = print(5_000, 1);
        assert!(visited.insert(deep, parent, 300).is_ok());
        assert_eq!(visited.insert(deep, parent, 1), Err(u8::MAX));
        let mut parents = visited.parents_of(deep);
        parents.sort();
        assert_eq!(
            parents,
            vec![parent, twin],
            "the top 8 bits of the low word hold the depth, not the tag"
        );
    }

    /// A counter that goes round 0 → 1 → 0 by one step, and a second step, independent of it,
    /// that raises a flag the one property forbids. The set {go round} is persistent (the two
    /// steps commute, and neither disables the other) and leaves the property alone; taken
    /// alone for ever, it would never raise the flag: the ignoring problem.
    struct GoingRound {
        /// Whether the model (wrongly) says that going round descends, sparing it the proviso.
        claims_descent: bool,
    }

    impl Model for GoingRound {
        type State = (u8, bool);
        type Action = u8;

        fn init_states(&self) -> Vec<Self::State> {
            vec![(0, false)]
        }

        fn actions(&self, _: &Self::State, actions: &mut Vec<u8>) {
            actions.extend([0, 1]); // go round, raise the flag
        }

        fn next_state(&self, &(counter, flag): &Self::State, action: u8) -> Option<Self::State> {
            Some(match action {
                0 => ((counter + 1) % 2, flag),
                _ => (counter, true),
            })
        }

        fn properties(&self) -> Vec<Property<Self>> {
            vec![Property::always(
                "flag never raised",
                |_, state: &(u8, bool)| !state.1,
            )]
        }
    }

    impl Explorable for GoingRound {
        fn ample(&self, &(counter, flag): &Self::State, _: u64) -> Option<Ample<Self::State>> {
            Some(Ample {
                successors: vec![((counter + 1) % 2, flag)],
                left_out: 1,
                descending: self.claims_descent,
            })
        }
    }

    #[test]
    fn the_cycle_proviso_expands_in_full_a_state_whose_ample_set_closes_a_cycle() {
        let honest = explore(
            &GoingRound {
                claims_descent: false,
            },
            &SearchOptions::default(),
            &|_| {},
        );
        assert!(
            honest.discoveries[0].is_some(),
            "the flag is raised at the state where going round comes back"
        );
        assert_eq!(
            honest.reduction,
            ReductionReport {
                reduced_states: 1,
                proviso_refusals: 1,
                steps_left_out: 1,
            },
            "0 is expanded by going round alone, 1 in full: its ample successor, 0, is older"
        );
        let false_claim = explore(
            &GoingRound {
                claims_descent: true,
            },
            &SearchOptions::default(),
            &|_| {},
        );
        assert!(
            false_claim.discoveries[0].is_none() && false_claim.unique_states == 2,
            "without the proviso the flag is never raised: what the proviso is for"
        );
        let full = explore_reducing(
            &GoingRound {
                claims_descent: true,
            },
            &SearchOptions::default(),
            &|_| {},
            false,
        );
        assert!(
            full.discoveries[0].is_some(),
            "every step taken, the flag is raised at once"
        );
    }

    #[test]
    fn fingerprint_zero_is_stored_as_one_since_zeros_mark_an_empty_slot() {
        let visited = Visited::new();
        assert!(visited.insert(0, 0, 0).is_ok());
        assert!(visited.insert(1, 1, 0).is_err(), "0 and 1 are one key");
        assert_eq!(visited.parents_of(0), vec![1]);
    }
}
