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
//! - **Lean.** A discovered state costs one (fingerprint, parent fingerprint) pair; only the
//!   frontier holds whole states, and a level's states are freed as they are expanded.
//!
//! Property semantics are stateright's: an `always` property is violated by a reachable state
//! where it is false, a `sometimes` property has an example in a reachable state where it is
//! true, and an `eventually` property fails on a path to a terminal state (one without
//! successors) where it never held. The engine judges `eventually` at terminal states, which is
//! exact for conditions that stay true once true; it asserts that of every model in debug builds.
//! A fault the model does not count as progress (a crash, `Explorable::is_progress`) may make
//! such a condition false again: the engine then asks it to hold again at the end of every run,
//! after the last fault ("once faults stop, the cluster votes again"), which is what a judgment
//! at terminal states gives.

use foldhash::quality::FixedState;
use stateright::{Expectation, Model, Path, Property};
use std::collections::{HashMap, VecDeque};
use std::fmt::Debug;
use std::hash::{BuildHasher, BuildHasherDefault, Hash};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// A state's 64-bit fingerprint. Two distinct states share one with a probability of about
/// n²/2⁶⁵ over n states (TLC makes the same trade): for 100 million states, about 3 in 10,000.
pub type Fingerprint = u64;

const FINGERPRINT_SEED: u64 = 0x5041_584f_535f_4650; // "PAXOS_FP"

/// The fingerprint of any hashable value, stable across runs and platforms of one build.
pub fn fingerprint<T: Hash + ?Sized>(value: &T) -> Fingerprint {
    FixedState::with_seed(FINGERPRINT_SEED).hash_one(value)
}

/// A hasher that finishes with the same kind of fingerprint, for values hashed piece by piece.
pub fn fingerprint_hasher() -> impl std::hash::Hasher {
    FixedState::with_seed(FINGERPRINT_SEED).build_hasher()
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
    /// Resident memory of the whole process, in bytes, at which the search stops.
    pub max_memory_bytes: Option<u64>,
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
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            strategy: Strategy::BreadthFirst,
            threads: 1,
            goal: Goal::EveryProperty,
            limits: Limits::default(),
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
    /// Per property, in `model.properties()` order.
    pub discoveries: Vec<Option<Discovery<M>>>,
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
    assert!(options.threads >= 1, "a search needs a thread");
    let started = Instant::now();
    let run = Run::new(model, options, started);
    let found = std::thread::scope(|scope| {
        let monitor = scope.spawn(|| run.monitor(on_progress));
        let found = match options.strategy {
            Strategy::BreadthFirst => run.breadth_first(),
            Strategy::DepthFirst => run.depth_first(),
            Strategy::RandomWalks { seed } => run.random_walks(seed),
        };
        run.finished.store(true, Ordering::Release);
        let peak = monitor.join().expect("the monitor does not panic");
        (found, peak)
    });
    let (frontier_left, peak_memory_bytes) = found;
    // A stopped search may leave millions of states behind; freeing them is no part of the
    // answer, so it happens on a thread of its own while the caller reports.
    std::thread::spawn(move || drop(frontier_left));
    let stopped_by = Stop::from_code(run.stop.load(Ordering::Acquire));
    let discoveries = run.paths();
    Exploration {
        states: run.generated.load(Ordering::Relaxed),
        unique_states: run.unique.load(Ordering::Relaxed),
        max_depth: run.max_depth.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
        stopped_by,
        peak_memory_bytes,
        discoveries,
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

/// Where a discovery was made: the state's class fingerprint and depth, or (for random walks)
/// the walk itself.
#[derive(Clone, Debug)]
struct Found<A> {
    fingerprint: Fingerprint,
    depth: usize,
    walk: Option<(usize, Vec<A>)>,
}

type NoHash = BuildHasherDefault<nohash_hasher::NoHashHasher<u64>>;

/// Every discovered class fingerprint and the class fingerprint of the state it was first
/// reached from (itself for an initial state), in shards so that threads rarely meet.
struct Visited {
    shards: Vec<Mutex<HashMap<Fingerprint, Fingerprint, NoHash>>>,
}

impl Visited {
    const SHARDS: usize = 64;

    fn new() -> Self {
        Visited {
            shards: (0..Self::SHARDS)
                .map(|_| Mutex::new(HashMap::default()))
                .collect(),
        }
    }

    fn shard(&self, fingerprint: Fingerprint) -> &Mutex<HashMap<Fingerprint, Fingerprint, NoHash>> {
        // The table places entries by the low bits and tags them with the top seven, so the
        // shard takes bits from the middle.
        &self.shards[(fingerprint >> 32) as usize % Self::SHARDS]
    }

    /// Records `fingerprint`, reached from `parent`; false if it was known already.
    fn insert(&self, fingerprint: Fingerprint, parent: Fingerprint) -> bool {
        let mut shard = self.shard(fingerprint).lock().expect("no poisoned shard");
        match shard.entry(fingerprint) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(parent);
                true
            }
        }
    }

    fn parent(&self, fingerprint: Fingerprint) -> Option<Fingerprint> {
        let shard = self.shard(fingerprint).lock().expect("no poisoned shard");
        shard.get(&fingerprint).copied()
    }
}

/// A frontier entry: a state, its class fingerprint and its depth.
type Item<S> = (S, Fingerprint, usize);

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
    /// How many properties have a discovery (read without the lock on the hot path).
    found_count: AtomicUsize,
}

impl<'m, M: Explorable> Run<'m, M> {
    fn new(model: &'m M, options: &'m SearchOptions, started: Instant) -> Self {
        let properties = model.properties();
        let found = vec![None; properties.len()];
        Run {
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
                    if limits.max_memory_bytes.is_some_and(|max| resident >= max) {
                        self.halt(Stop::MemoryGuard);
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
    fn discover(&self, fingerprint: Fingerprint, parent: Fingerprint) -> bool {
        if !self.visited.insert(fingerprint, parent) {
            return false;
        }
        let unique = self.unique.fetch_add(1, Ordering::Relaxed) + 1;
        if self
            .options
            .limits
            .max_states
            .is_some_and(|max| unique >= max)
        {
            self.halt(Stop::StateBudget);
        }
        true
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

    /// Debug builds check what the engine's `eventually` semantics rest on: a condition that
    /// held keeps holding, through every step that is progress (see the module header for
    /// faults).
    fn assert_eventually_stable(&self, state: &M::State, next: &M::State) {
        if !cfg!(debug_assertions) {
            return;
        }
        for property in &self.properties {
            if property.expectation == Expectation::Eventually
                && (property.condition)(self.model, state)
            {
                assert!(
                    (property.condition)(self.model, next),
                    "eventually-property {:?} held and then stopped holding: the engine judges \
                     such properties at terminal states, which needs them to stay true",
                    property.name
                );
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
    /// the new ones to `push`; checks `eventually` properties if the state is terminal.
    fn expand(
        &self,
        (state, fingerprint, depth): &Item<M::State>,
        actions: &mut Vec<M::Action>,
        push: &mut impl FnMut(Item<M::State>),
    ) {
        if self
            .options
            .limits
            .max_depth
            .is_some_and(|max| *depth >= max)
        {
            return;
        }
        let next_states = self.successors(state, actions);
        self.generated
            .fetch_add(next_states.len(), Ordering::Relaxed);
        let mut terminal = true;
        for (next, progress) in next_states {
            if progress {
                self.assert_eventually_stable(state, &next);
            }
            let next_fingerprint = self.model.class_fingerprint(&next);
            // A step that returns to the same state, or one the model does not count as
            // progress (a crash, which the recovery undoes), cannot keep a run from ending.
            terminal &= !progress || next_fingerprint == *fingerprint;
            if self.discover(next_fingerprint, *fingerprint) {
                self.note_depth(depth + 1);
                self.check_state(&next, next_fingerprint, depth + 1, None);
                push((next, next_fingerprint, depth + 1));
            }
        }
        if terminal {
            self.check_terminal(state, *fingerprint, *depth, None);
        }
    }

    /// The initial states, each discovered and checked; duplicates (by class) left out.
    fn initial_items(&self) -> Vec<Item<M::State>> {
        let mut items = Vec::new();
        for state in self.model.init_states() {
            if !self.model.within_boundary(&state) {
                continue;
            }
            let fingerprint = self.model.class_fingerprint(&state);
            if self.discover(fingerprint, fingerprint) {
                self.check_state(&state, fingerprint, 0, None);
                items.push((state, fingerprint, 0));
            }
        }
        items
    }

    /// Breadth-first, one level at a time; the threads share each level in chunks. Returns what
    /// was left of the frontier when it stopped.
    fn breadth_first(&self) -> Vec<Vec<Item<M::State>>> {
        const CHUNK: usize = 1024;
        let mut level: VecDeque<Vec<Item<M::State>>> = VecDeque::from([self.initial_items()]);
        while !self.stopped() && level.iter().any(|chunk| !chunk.is_empty()) {
            let queue = Mutex::new(std::mem::take(&mut level));
            let next_level = Mutex::new(Vec::new());
            let work = || {
                let mut actions = Vec::new();
                let mut produced: Vec<Vec<Item<M::State>>> = vec![Vec::with_capacity(CHUNK)];
                loop {
                    let Some(chunk) = queue.lock().expect("not poisoned").pop_front() else {
                        break;
                    };
                    for item in chunk {
                        if self.stopped() {
                            break;
                        }
                        self.expand(&item, &mut actions, &mut |next| {
                            let last = produced.last_mut().expect("never empty");
                            if last.len() == CHUNK {
                                produced.push(Vec::with_capacity(CHUNK));
                            }
                            produced.last_mut().expect("never empty").push(next);
                        });
                    }
                    if self.stopped() {
                        break;
                    }
                }
                next_level.lock().expect("not poisoned").extend(produced);
            };
            self.on_threads(&work);
            level = next_level.into_inner().expect("not poisoned").into();
            let leftover = queue.into_inner().expect("not poisoned");
            if self.stopped() {
                level.extend(leftover);
            }
        }
        level.into()
    }

    /// Depth-first: each thread goes deep on its own stack and shares half of it whenever
    /// another thread has run dry; the search ends when every thread is out of work at once.
    fn depth_first(&self) -> Vec<Vec<Item<M::State>>> {
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
                    self.expand(&item, &mut actions, &mut |next| stack.push(next));
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
        vec![pool.into_inner().expect("not poisoned").items]
    }

    /// Random walks from random initial states to a terminal state (or `max_depth`, default
    /// 1,000 steps), each thread from its own seeded stream, until a limit stops them.
    fn random_walks(&self, seed: u64) -> Vec<Vec<Item<M::State>>> {
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
                if self.discover(fingerprint, fingerprint) {
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
                    self.discover(next_fingerprint, fingerprint);
                    walk.1.push(action);
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
        if self.options.threads == 1 {
            work();
            return;
        }
        std::thread::scope(|scope| {
            for _ in 1..self.options.threads {
                scope.spawn(work);
            }
            work();
        });
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
                if breadth_first {
                    return Some(Discovery {
                        path,
                        shortest: true,
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
            goal: Goal::AnyOf(vec![self.properties[index].name]),
            limits: Limits {
                max_states: None,
                max_depth: Some(depth),
                ..limits.clone()
            },
        };
        let mut exploration = explore(self.model, &options, &|_| {});
        exploration
            .discoveries
            .swap_remove(index)
            .map(|found| found.path)
    }

    /// The path to the class `target`: the chain of parents back to an initial state, replayed
    /// forwards from a real initial state, at each step taking the first action whose successor
    /// lies in the next class of the chain.
    fn replay(&self, target: Fingerprint) -> Path<M::State, M::Action> {
        let mut chain = vec![target];
        loop {
            let last = *chain.last().expect("never empty");
            let parent = self
                .visited
                .parent(last)
                .expect("every discovered class has a parent");
            if parent == last {
                break;
            }
            chain.push(parent);
        }
        chain.reverse();
        let init = self
            .model
            .init_states()
            .into_iter()
            .find(|state| self.model.class_fingerprint(state) == chain[0])
            .expect("the chain starts at an initial state");
        let mut state = init.clone();
        let mut steps = Vec::with_capacity(chain.len());
        let mut actions = Vec::new();
        for wanted in &chain[1..] {
            actions.clear();
            self.model.actions(&state, &mut actions);
            let (action, next) = actions
                .drain(..)
                .find_map(|action| {
                    let next = self.model.next_state(&state, action.clone())?;
                    (self.model.within_boundary(&next)
                        && self.model.class_fingerprint(&next) == *wanted)
                        .then_some((action, next))
                })
                .expect("each class of the chain is reached from the one before");
            steps.push(action);
            state = next;
        }
        Path::from_actions(self.model, init, &steps)
            .expect("a replayed path is a path of the model")
    }
}
