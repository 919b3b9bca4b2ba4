//! A compact actor system: stateright `Actor`s run over a state laid out for exhaustive search.
//!
//! The semantics are those of stateright's `ActorModel` (a message is delivered or lost; an actor
//! may crash, losing all but its `Storage`, and recover through `on_start`; timers fire in any
//! order), and the actors are the very same `Actor` adapters. What differs is the state: actor
//! ids are `u8`, the network is one sorted vector instead of a hash map of 64-bit ids, timers
//! and crashes are bitsets, and nothing that never changes (the actors, the bounds) is in it.
//! That, not the protocol, decided how far the old checks reached: a state of stateright's
//! `ActorModel` held its network in a freshly allocated hash table.
//!
//! The cuts of the state space it can make (`check::cuts`), each switched by the model's
//! `cuts` and argued where it is made:
//! - **Stale messages are collected** (`collect_stale`): a message that its running recipient
//!   will ignore for good, by the model's own test (`ignores`), is removed from the network;
//!   left in place it would only multiply the states by the moments of its pointless delivery
//!   or loss. So is a message the model calls dead (`dead`).
//! - **Repeats are coalesced** (`send`): a second copy of a message the model names
//!   (`coalesce`) is not sent while one is in flight.
//! - **Symmetry.** With `symmetry`, the actors of that range (the acceptors) are
//!   interchangeable: states that differ by a permutation of them are one class, and the search
//!   visits one state per class (see `class_fingerprint`). The search still walks real states,
//!   so counterexamples and Explorer paths are real, unpermuted runs.
//!
//! Without its cut, the model's test is still asked: debug builds check, on every step, that a
//! message it calls ignored (or dead) stays so whatever the step did to its parties, a restart
//! and a lost disk included, and that delivering it changes nothing (`check_claims`).

use crate::check::cuts::Reductions;
use crate::check::engine::{fingerprint, fingerprint_hasher, Ample, Explorable, Fingerprint};
use crate::check::frontier::StateCodec;
use crate::check::settings::{Faults, NetworkKind, Presentation};
use serde::de::DeserializeOwned;
use serde::Serialize;
use smallvec::SmallVec;
use stateright::actor::{is_no_op, is_no_op_with_timer, Actor, Command, Id, Out};
use stateright::{Model, Path, Property};
use std::borrow::Cow;
use std::fmt::{self, Debug};
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::{Arc, OnceLock};

/// An actor's index in the system: acceptors first, then proposers or leaders.
pub type ActorIndex = u8;

/// A value with its fingerprint, computed once when the value is made. A state shares its
/// actors' states and its messages with millions of others, and the search hashes each of them
/// far more often than it makes one; with the fingerprint at hand, hashing one is hashing a
/// number.
#[derive(Clone)]
pub struct Digested<T> {
    digest: Fingerprint,
    value: T,
}

impl<T: Hash> Digested<T> {
    pub fn new(value: T) -> Self {
        Digested {
            digest: fingerprint(&value),
            value,
        }
    }
}

/// An actor's state (or the history) as a state holds it: digested, and with what the symmetry
/// reduction asks of it over and over worked out once, when first asked: the fingerprint of its
/// parts that name no actor, and what it holds about each actor of the symmetric range.
#[derive(Clone)]
pub struct Cached<T> {
    digested: Digested<T>,
    symmetry: OnceLock<Box<SymmetryCache>>,
}

#[derive(Clone, Debug)]
struct SymmetryCache {
    unnamed: Fingerprint,
    about: SmallVec<[u64; INLINE_ACTORS]>,
}

impl<T: Hash> Cached<T> {
    pub fn new(value: T) -> Self {
        Cached {
            digested: Digested::new(value),
            symmetry: OnceLock::new(),
        }
    }
}

impl<T> std::ops::Deref for Cached<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.digested.value
    }
}

impl<T: PartialEq> PartialEq for Cached<T> {
    fn eq(&self, other: &Self) -> bool {
        self.digested == other.digested
    }
}

impl<T: Eq> Eq for Cached<T> {}

impl<T> Hash for Cached<T> {
    fn hash<S: Hasher>(&self, state: &mut S) {
        self.digested.digest.hash(state);
    }
}

impl<T: Debug> Debug for Cached<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.digested.value.fmt(f)
    }
}

impl<T: Relabel> Cached<T> {
    fn symmetry_cache(&self, range: &Range<usize>) -> &SymmetryCache {
        self.symmetry.get_or_init(|| {
            let mut hasher = fingerprint_hasher();
            self.digested.value.hash_unnamed(&mut hasher);
            let about = range
                .clone()
                .map(|actor| self.digested.value.about(small(actor)))
                .collect();
            Box::new(SymmetryCache {
                unnamed: hasher.finish128(),
                about,
            })
        })
    }

    /// What the value holds about `actor` of the symmetric `range`, worked out once.
    pub fn about_in(&self, range: &Range<usize>, actor: usize) -> u64 {
        self.symmetry_cache(range).about[actor - range.start]
    }

    /// Hashes the value renamed by `map`: its own fingerprint when it names no actor, else the
    /// fingerprint of its unnamed parts and its named parts renamed.
    pub fn hash_renamed<S: Hasher>(&self, range: &Range<usize>, map: &[ActorIndex], state: &mut S) {
        let value = &self.digested.value;
        if value.names_actors() {
            self.symmetry_cache(range).unnamed.hash(state);
            value.hash_names_relabeled(map, state);
        } else {
            self.digested.digest.hash(state);
        }
    }
}

impl<T> Digested<T> {
    pub fn digest(&self) -> Fingerprint {
        self.digest
    }
}

impl<T> std::ops::Deref for Digested<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: PartialEq> PartialEq for Digested<T> {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest && self.value == other.value
    }
}

impl<T: Eq> Eq for Digested<T> {}

impl<T: Ord> PartialOrd for Digested<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Ordered by the value, so that a sorted network reads in the value's order.
impl<T: Ord> Ord for Digested<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value.cmp(&other.value)
    }
}

impl<T> Hash for Digested<T> {
    fn hash<S: Hasher>(&self, state: &mut S) {
        self.digest.hash(state);
    }
}

impl<T: Debug> Debug for Digested<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

/// How many actors a state holds without an allocation of their own: the Paxos models have
/// at most a dozen.
pub const INLINE_ACTORS: usize = 8;

/// A message in flight.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Packet<M> {
    pub src: ActorIndex,
    pub dst: ActorIndex,
    pub msg: Digested<M>,
}

impl<M: Ord> PartialOrd for Packet<M> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Sender, recipient, then message: a sorted network groups each pair's messages.
impl<M: Ord> Ord for Packet<M> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.src, self.dst, &self.msg).cmp(&(other.src, other.dst, &other.msg))
    }
}

/// What can happen next.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SystemAction<M, T> {
    /// The packet reaches its recipient.
    Deliver(Packet<M>),
    /// The network loses the packet.
    Lose(Packet<M>),
    /// An actor's timer fires.
    Timeout(ActorIndex, T),
    /// An actor crashes: it loses everything but what it saved.
    Crash(ActorIndex),
    /// An actor crashes and loses what it saved too (its disk): it restarts from what the
    /// model's `disk_loss` says an empty disk holds.
    CrashLosingDisk(ActorIndex),
    /// A crashed actor restarts from what it saved.
    Recover(ActorIndex),
}

/// One state of the whole system.
pub struct SystemState<A: Actor, H> {
    /// Every actor's state, shared with the states it was copied from until it changes.
    pub actors: SmallVec<[Arc<Cached<A::State>>; INLINE_ACTORS]>,
    /// What each actor saved (`Out::save`), all it keeps through a crash.
    pub storage: SmallVec<[Option<Arc<A::Storage>>; INLINE_ACTORS]>,
    /// Messages in flight, sorted (a multiset; a set on a duplicating network; in send order
    /// within each pair of actors on an ordered one).
    pub network: Vec<Packet<A::Msg>>,
    /// Timers set, as (actor, timer), sorted.
    pub timers: Vec<(ActorIndex, A::Timer)>,
    /// Bit i: actor i is crashed.
    pub crashed: u64,
    /// Messages lost so far in this run.
    pub lost: u8,
    /// Disks lost so far in this run.
    pub disks_lost: u8,
    /// Crashes so far in this run (counted only where the model bounds them).
    pub crashes_so_far: u8,
    /// Timer expiries so far in this run (counted only where the model bounds them).
    pub expired: u8,
    /// The ghost history the properties judge, shared with the states it was copied from until
    /// it changes.
    pub history: Arc<Cached<H>>,
}

// Each of these names every field (no `..`): a field added to the state and forgotten here
// would merge distinct states (in `Hash`, which the fingerprints are made of) or tell equal
// ones apart, so forgetting it is a compile error.

impl<A: Actor, H: Clone> Clone for SystemState<A, H> {
    fn clone(&self) -> Self {
        let SystemState {
            actors,
            storage,
            network,
            timers,
            crashed,
            lost,
            disks_lost,
            crashes_so_far,
            expired,
            history,
        } = self;
        SystemState {
            actors: actors.clone(),
            storage: storage.clone(),
            network: network.clone(),
            timers: timers.clone(),
            crashed: *crashed,
            lost: *lost,
            disks_lost: *disks_lost,
            crashes_so_far: *crashes_so_far,
            expired: *expired,
            history: history.clone(),
        }
    }
}

impl<A: Actor, H: PartialEq> PartialEq for SystemState<A, H> {
    fn eq(&self, other: &Self) -> bool {
        let SystemState {
            actors,
            storage,
            network,
            timers,
            crashed,
            lost,
            disks_lost,
            crashes_so_far,
            expired,
            history,
        } = self;
        *actors == other.actors
            && *storage == other.storage
            && *network == other.network
            && *timers == other.timers
            && *crashed == other.crashed
            && *lost == other.lost
            && *disks_lost == other.disks_lost
            && *crashes_so_far == other.crashes_so_far
            && *expired == other.expired
            && *history == other.history
    }
}

impl<A: Actor, H: Eq> Eq for SystemState<A, H> {}

impl<A: Actor, H: Hash> Hash for SystemState<A, H> {
    fn hash<S: Hasher>(&self, state: &mut S) {
        let SystemState {
            actors,
            storage,
            network,
            timers,
            crashed,
            lost,
            disks_lost,
            crashes_so_far,
            expired,
            history,
        } = self;
        actors.hash(state);
        storage.hash(state);
        network.hash(state);
        timers.hash(state);
        crashed.hash(state);
        lost.hash(state);
        disks_lost.hash(state);
        crashes_so_far.hash(state);
        expired.hash(state);
        history.hash(state);
    }
}

impl<A: Actor, H: Debug> Debug for SystemState<A, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let SystemState {
            actors,
            storage,
            network,
            timers,
            crashed,
            lost,
            disks_lost,
            crashes_so_far,
            expired,
            history,
        } = self;
        f.debug_struct("SystemState")
            .field("actors", actors)
            .field("storage", storage)
            .field("network", network)
            .field("timers", timers)
            .field("crashed", &format_args!("{crashed:#b}"))
            .field("lost", lost)
            .field("disks_lost", disks_lost)
            .field("crashes_so_far", crashes_so_far)
            .field("expired", expired)
            .field("history", history)
            .finish()
    }
}

impl<A: Actor, H> SystemState<A, H> {
    pub fn is_crashed(&self, actor: usize) -> bool {
        self.crashed & (1 << actor) != 0
    }

    /// The messages that can be delivered or lost now: all on an unordered network, the head of
    /// each pair's queue on an ordered one.
    fn deliverable(&self, network: NetworkKind) -> impl Iterator<Item = &Packet<A::Msg>> {
        self.network
            .iter()
            .enumerate()
            .filter_map(move |(index, packet)| {
                let first_of_its_kind = index == 0 || {
                    let before = &self.network[index - 1];
                    match network {
                        // Equal packets are one choice.
                        NetworkKind::Unordered | NetworkKind::Duplicating => before != packet,
                        // Only the head of a pair's queue.
                        NetworkKind::Ordered => {
                            (before.src, before.dst) != (packet.src, packet.dst)
                        }
                    }
                };
                first_of_its_kind.then_some(packet)
            })
    }
}

/// What a symmetry needs of every type a state holds: the value with actor indices renamed
/// by `map` (old index → new index), and what the value says about one actor.
pub trait Relabel: Sized + Hash {
    fn relabel(&self, map: &[ActorIndex]) -> Self;

    /// Hashes the renamed value (types that name no actor hash themselves, without a copy).
    fn hash_relabeled<S: Hasher>(&self, map: &[ActorIndex], state: &mut S) {
        self.relabel(map).hash(state);
    }

    /// What the value holds about `actor`, as a fingerprint that does not depend on any actor's
    /// index (0 when it holds nothing about it): symmetric actors that differ only in what
    /// others hold about them are told apart by this.
    fn about(&self, _actor: ActorIndex) -> u64 {
        0
    }

    /// Whether the value names any actor at all (if not, renaming leaves it as it is).
    fn names_actors(&self) -> bool {
        true
    }

    /// Hashes the parts of the value that name no actor; with `hash_names_relabeled` it hashes
    /// the renamed value, in two parts so that the first can be worked out once per value. By
    /// default the whole value goes through `hash_names_relabeled`.
    fn hash_unnamed<S: Hasher>(&self, _state: &mut S) {}

    /// Hashes the parts of the value that name actors, renamed by `map`.
    fn hash_names_relabeled<S: Hasher>(&self, map: &[ActorIndex], state: &mut S) {
        self.hash_relabeled(map, state);
    }
}

/// A digested value renamed: the value's own fingerprint stands for it when it names no actor.
impl<T: Relabel> Relabel for Digested<T> {
    fn relabel(&self, map: &[ActorIndex]) -> Self {
        Digested::new(self.value.relabel(map))
    }

    fn hash_relabeled<S: Hasher>(&self, map: &[ActorIndex], state: &mut S) {
        if self.value.names_actors() {
            self.value.hash_relabeled(map, state);
        } else {
            self.digest.hash(state);
        }
    }

    fn about(&self, actor: ActorIndex) -> u64 {
        self.value.about(actor)
    }

    fn names_actors(&self) -> bool {
        self.value.names_actors()
    }
}

/// Actors that are interchangeable, and how to fingerprint a state's class under renaming them.
pub struct Symmetry<A: Actor, H> {
    pub actors: Range<usize>,
    /// Whether the network keeps each pair's messages in send order (then renaming must not
    /// reorder them).
    pub ordered_network: bool,
    pub fingerprint: fn(&SystemState<A, H>, &Range<usize>, bool) -> Fingerprint,
}

impl<A: Actor, H> Clone for Symmetry<A, H> {
    fn clone(&self) -> Self {
        Symmetry {
            actors: self.actors.clone(),
            ordered_network: self.ordered_network,
            fingerprint: self.fingerprint,
        }
    }
}

impl<A, H> Symmetry<A, H>
where
    A: Actor,
    A::State: Relabel,
    A::Storage: Relabel,
    A::Msg: Relabel + Ord,
    A::Timer: Ord,
    H: Relabel,
{
    /// `actors` are interchangeable, on a network of `kind`.
    pub fn over(actors: Range<usize>, kind: NetworkKind) -> Self {
        Symmetry {
            actors,
            ordered_network: kind == NetworkKind::Ordered,
            fingerprint: canonical_fingerprint::<A, H>,
        }
    }
}

/// The fingerprint of a canonical member of `state`'s class under renaming the actors of
/// `range`: they are put in the order of what each one is (state, crash, storage, timers, the
/// messages in flight to and from it) and what every other part of the state holds about it
/// (`Relabel::about`), and the state is hashed as if renamed into that order. States that differ
/// by a renaming of those actors have the same fingerprint. Actors that look alike in every
/// respect are interchangeable in the state itself, so the order between them does not matter.
/// Should a type's `about` miss something, two such states could get different fingerprints,
/// which costs reduction, never soundness: a state only ever shares a fingerprint with a renaming
/// of itself.
pub fn canonical_fingerprint<A, H>(
    state: &SystemState<A, H>,
    range: &Range<usize>,
    ordered_network: bool,
) -> Fingerprint
where
    A: Actor,
    A::State: Relabel,
    A::Storage: Relabel,
    A::Msg: Relabel + Ord,
    A::Timer: Ord,
    H: Relabel,
{
    let count = state.actors.len();
    assert!(count <= ACTORS_MAX && range.len() <= ACTORS_MAX);
    let mut keys = [0u64; ACTORS_MAX];
    local_keys(state, range, &mut keys);
    let mut order = [(0u64, 0usize); ACTORS_MAX];
    for ((slot, actor), key) in order.iter_mut().zip(range.clone()).zip(keys) {
        *slot = (key, actor);
    }
    let order = &mut order[..range.len()];
    order.sort_unstable();
    let mut map = [0 as ActorIndex; ACTORS_MAX];
    for (index, entry) in map.iter_mut().enumerate().take(count) {
        *entry = small(index);
    }
    for (position, (_, actor)) in order.iter().enumerate() {
        map[*actor] = small(range.start + position);
    }
    let map = &map[..count];
    let mut inverse = [0usize; ACTORS_MAX];
    for (old, new) in map.iter().enumerate() {
        inverse[usize::from(*new)] = old;
    }
    // Every field, named (no `..`): one added to the state and left out here would merge
    // states that differ in it, so leaving it out is a compile error.
    let SystemState {
        actors,
        storage,
        network,
        timers,
        crashed,
        lost,
        disks_lost,
        crashes_so_far,
        expired,
        history,
    } = state;
    let mut hasher = fingerprint_hasher();
    for &old in &inverse[..count] {
        actors[old].hash_renamed(range, map, &mut hasher);
        match &storage[old] {
            Some(saved) => {
                1u8.hash(&mut hasher);
                saved.hash_relabeled(map, &mut hasher);
            }
            None => 0u8.hash(&mut hasher),
        }
        (crashed & (1 << old) != 0).hash(&mut hasher);
    }
    hash_network(network, map, ordered_network, &mut hasher);
    // Timers: a set, hashed whatever the order its renamed members fall in.
    let timers = timers
        .iter()
        .map(|(actor, timer)| fingerprint(&(map[usize::from(*actor)], timer)))
        .fold(0, Fingerprint::wrapping_add);
    timers.hash(&mut hasher);
    lost.hash(&mut hasher);
    disks_lost.hash(&mut hasher);
    crashes_so_far.hash(&mut hasher);
    expired.hash(&mut hasher);
    history.hash_renamed(range, map, &mut hasher);
    hasher.finish128()
}

/// The most actors a symmetric system holds (crashes are a 64-bit set; the Paxos models stay far
/// below).
const ACTORS_MAX: usize = 64;

/// Hashes the network renamed by `map` without building it: an unordered network is a multiset,
/// so the hashes of its renamed messages are added up, which no order of them changes; on an
/// ordered one each pair's queue is hashed in send order (the network keeps it so), and the
/// pairs are added up.
fn hash_network<M: Relabel, S: Hasher>(
    network: &[Packet<M>],
    map: &[ActorIndex],
    ordered: bool,
    hasher: &mut S,
) {
    let renamed = |packet: &Packet<M>| (map[usize::from(packet.src)], map[usize::from(packet.dst)]);
    let mut sum: Fingerprint = 0;
    if ordered {
        for queue in network.chunk_by(|a, b| (a.src, a.dst) == (b.src, b.dst)) {
            let mut queue_hasher = fingerprint_hasher();
            renamed(&queue[0]).hash(&mut queue_hasher);
            for packet in queue {
                packet.msg.hash_relabeled(map, &mut queue_hasher);
            }
            sum = sum.wrapping_add(queue_hasher.finish128());
        }
    } else {
        for packet in network {
            let (src, dst) = renamed(packet);
            let message = if packet.msg.names_actors() {
                let mut message_hasher = fingerprint_hasher();
                packet.msg.hash_relabeled(map, &mut message_hasher);
                message_hasher.finish128()
            } else {
                packet.msg.digest()
            };
            sum = sum.wrapping_add(mix128(message, u64::from(src) << 8 | u64::from(dst)));
        }
    }
    network.len().hash(hasher);
    sum.hash(hasher);
}

/// Mixes a fingerprint with a small tag (a pair of actor indices) into a well-spread 128-bit
/// value, as an element of a sum of hashes: each half of the fingerprint (two independent
/// hashes) through `mix`, under different tags, so the halves of the sum stay independent.
fn mix128(fingerprint: Fingerprint, tag: u64) -> Fingerprint {
    let high = mix((fingerprint >> 64) as u64, tag);
    let low = mix(fingerprint as u64, !tag);
    u128::from(high) << 64 | u128::from(low)
}

/// Mixes a 64-bit hash with a small tag into a well-spread 64-bit value: SplitMix64's
/// finaliser, which is cheap and spreads every input bit over every output bit.
fn mix(fingerprint: u64, tag: u64) -> u64 {
    let mut z = fingerprint ^ tag.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What each symmetric actor is, independent of its index, into `keys` (one per actor of
/// `range`): its state, crash, storage and timers, the messages in flight to and from it with
/// the other party (any symmetric actor counts as "one of them"), and what the other actors'
/// states and the history hold about it. Sets are hashed by adding up their members' hashes, so
/// no order and no allocation is involved, and the network is read once for all actors.
fn local_keys<A, H>(state: &SystemState<A, H>, range: &Range<usize>, keys: &mut [u64])
where
    A: Actor,
    A::State: Relabel,
    A::Storage: Relabel,
    A::Msg: Relabel + Ord,
    A::Timer: Ord,
    H: Relabel,
{
    let symmetric = |index: ActorIndex| range.contains(&usize::from(index));
    let other = |index: ActorIndex| if symmetric(index) { u8::MAX } else { index };
    let mut traffic = [0u64; ACTORS_MAX];
    for packet in &state.network {
        // An ordering key, not a fingerprint: 64 bits of the message's digest do.
        let digest = packet.msg.digest() as u64;
        if symmetric(packet.dst) {
            let tag = 1 << 8 | u64::from(other(packet.src));
            let slot = &mut traffic[usize::from(packet.dst) - range.start];
            *slot = slot.wrapping_add(mix(digest, tag));
        }
        if symmetric(packet.src) {
            let tag = u64::from(other(packet.dst));
            let slot = &mut traffic[usize::from(packet.src) - range.start];
            *slot = slot.wrapping_add(mix(digest, tag));
        }
    }
    let mut timers = [0u64; ACTORS_MAX];
    for (owner, timer) in &state.timers {
        if symmetric(*owner) {
            let slot = &mut timers[usize::from(*owner) - range.start];
            *slot = slot.wrapping_add(fingerprint(timer) as u64);
        }
    }
    for (position, actor) in range.clone().enumerate() {
        let mut hasher = fingerprint_hasher();
        state.actors[actor].hash(&mut hasher);
        state.is_crashed(actor).hash(&mut hasher);
        state.storage[actor].hash(&mut hasher);
        timers[position].hash(&mut hasher);
        traffic[position].hash(&mut hasher);
        for (other_actor, other_state) in state.actors.iter().enumerate() {
            if !range.contains(&other_actor) {
                other_state.about_in(range, actor).hash(&mut hasher);
            }
        }
        state.history.about_in(range, actor).hash(&mut hasher);
        keys[position] = hasher.finish();
    }
}

/// Crashes that lose the disk: at most `max` in a run; `empty(n)` is what an actor that lost
/// its disk in the run's `n`-th such crash (from 1) finds at its restart (its `on_start` must
/// tell it from a first start, which finds nothing, and may tell one loss from another), and
/// `is_empty` tells such a disk. An actor restarts on an empty disk only once no message it
/// sent before the loss is still in flight: a model whose recovery from a lost disk assumes that
/// of its environment (the cluster's rejoin rule does) is checked under that assumption.
pub struct DiskLoss<A: Actor> {
    pub max: usize,
    pub empty: fn(u8) -> A::Storage,
    pub is_empty: fn(&A::Storage) -> bool,
}

impl<A: Actor> Clone for DiskLoss<A> {
    fn clone(&self) -> Self {
        DiskLoss {
            max: self.max,
            empty: self.empty,
            is_empty: self.is_empty,
        }
    }
}

/// Whether a message can no longer matter, in a model's own terms.
pub type DeadMessage<M, A, H> = fn(&M, &SystemState<A, H>, &Packet<<A as Actor>::Msg>) -> bool;

/// What a step from one state to the next decided, in words.
pub type Narrate<C, A, H> = fn(&C, &SystemState<A, H>, &SystemState<A, H>) -> Vec<String>;

/// A path drawn as an SVG sequence diagram.
pub type Draw<A, C, H> = fn(&ActorSystem<A, C, H>, &SystemPath<A, H>) -> String;

/// Whether `actor`, in `state`, would ignore `message` from actor `src`.
pub type Ignores<A> = fn(&A, &<A as Actor>::State, usize, &<A as Actor>::Msg) -> bool;

/// How a model records an outgoing message in its ghost history, if it does.
pub type RecordSend<C, H, M> = fn(&C, &H, usize, usize, &M) -> Option<H>;

/// What the partial-order reduction (the `por` cut, `ActorSystem::ample`) needs a model to say
/// of its actors: two claims, each argued by the model beside its code.
pub struct Interleaving<A: Actor> {
    /// Whether every message `actor` will ever be sent is an answer: sent to it by an actor
    /// handling a message from it, in that delivery. Then, while none of its messages is in
    /// flight, no step of another actor can send it anything. Checked on every step in debug
    /// builds (`check_answers_only`).
    pub hears_only_answers: fn(&A) -> bool,
    /// Whether a step of an actor, from its state `before` to `after`, changes what the
    /// properties read of it only the way they tolerate. The claim: where this says yes and
    /// the step leaves the ghost history as it was, it turns no `always` condition true, no
    /// `sometimes` condition false and no `eventually` condition either way, in whatever state
    /// of the rest of the system it is taken (the properties read actor states, through what
    /// this looks at, and the history, not the network or the timers). Only of the properties
    /// `unsettled` names: a property whose verdict is settled may be moved any way.
    pub only_grows: OnlyGrows<A>,
}

/// `Interleaving::only_grows`: an actor's state before and after a step, and which properties
/// (by name) are unsettled.
pub type OnlyGrows<A> =
    fn(&<A as Actor>::State, &<A as Actor>::State, unsettled: &dyn Fn(&str) -> bool) -> bool;

impl<A: Actor> Clone for Interleaving<A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A: Actor> Copy for Interleaving<A> {}

/// A stateright model of `actors`, configured by `cfg`, with the properties it checks.
pub struct ActorSystem<A, C, H>
where
    A: Actor,
    A::Msg: Ord + Debug,
    A::Timer: Ord,
    H: Clone + Debug + Hash + Eq,
    C: Presentation<A::Msg>,
{
    pub cfg: C,
    pub actors: Vec<A>,
    pub faults: Faults,
    /// Which actors may crash (acceptors).
    pub crashable: Vec<bool>,
    /// Whether a crash may also lose the actor's disk, at most how many times in a run, and
    /// what an empty disk holds for the actor's `on_start` to find.
    pub disk_loss: Option<DiskLoss<A>>,
    /// The cuts this system makes (`check::cuts`): each of `symmetry`, `dead`, `ignores` and
    /// `coalesce` below is a model's claim, and is used to cut the state space only where its
    /// cut is on here. The model decides, from its settings, which cuts hold.
    pub cuts: Reductions,
    /// Messages of which a second copy in flight adds nothing, by an argument the model makes:
    /// with the `coalesce` cut, one is sent only if no copy is in flight already.
    pub coalesce: Option<fn(&A::Msg) -> bool>,
    pub init_history: H,
    pub record_send: RecordSend<C, H, A::Msg>,
    /// At most this many timer expiries in a run, if the model bounds them (the cluster's
    /// replicas re-arm their timer for as long as work is outstanding). The Paxos models'
    /// timers are bounded by their ballots instead.
    pub timeouts_max: Option<usize>,
    /// At most this many crashes in a run, if the model bounds them (besides `faults.crashes`,
    /// which bounds the actors crashed at once).
    pub crashes_in_run_max: Option<usize>,
    pub properties: Vec<Property<Self>>,
    /// Actors that are interchangeable, if the model has such a symmetry (used with the
    /// `symmetry` cut).
    pub symmetry: Option<Symmetry<A, H>>,
    /// A message that can no longer matter, by an argument about the protocol that the model
    /// makes (see `collect_stale`), if it has one (used with the `dead` cut).
    pub dead: Option<DeadMessage<Self, A, H>>,
    /// What a step decided, in words ("A chosen at 1.p1 by a1, a2"), for diagrams and stories.
    pub narrate: Option<Narrate<C, A, H>>,
    /// The actors' own test of a message their state will ignore for good (used with the
    /// `stale` cut): yes only for a message whose delivery changes nothing now and after
    /// anything that can happen to the recipient before it arrives, a crash and restart (and a
    /// lost disk, where the model has them) included. A no that could have been a yes costs
    /// only reduction. Without a test, nothing is collected.
    pub ignores: Option<Ignores<A>>,
    /// How a path is drawn for stateright's own Explorer (`Model::as_svg`). Drawing is the
    /// presentation layer's (`check::svg`), which sits above this runtime; it fills this in
    /// (`Checkable::with_drawings`) where a tool hands the model to stateright. `None`: no
    /// drawing.
    pub draw: Option<Draw<A, C, H>>,
    /// How a state is written to bytes and read back (`SystemState::codec`), for a search that
    /// spills its frontier to disk; `None` where the model's types cannot be read back.
    pub codec: Option<StateCodec<SystemState<A, H>>>,
    /// What the partial-order reduction needs to know of the actors (used with the `por` cut),
    /// if the model has it.
    pub interleaving: Option<Interleaving<A>>,
}

impl<A, C, H> Clone for ActorSystem<A, C, H>
where
    A: Actor + Clone,
    A::Msg: Ord + Debug,
    A::Timer: Ord,
    H: Clone + Debug + Hash + Eq,
    C: Presentation<A::Msg> + Clone,
{
    fn clone(&self) -> Self {
        ActorSystem {
            cfg: self.cfg.clone(),
            actors: self.actors.clone(),
            faults: self.faults,
            crashable: self.crashable.clone(),
            disk_loss: self.disk_loss.clone(),
            cuts: self.cuts,
            coalesce: self.coalesce,
            init_history: self.init_history.clone(),
            record_send: self.record_send,
            timeouts_max: self.timeouts_max,
            crashes_in_run_max: self.crashes_in_run_max,
            properties: self.properties.clone(),
            symmetry: self.symmetry.clone(),
            dead: self.dead,
            narrate: self.narrate,
            draw: self.draw,
            ignores: self.ignores,
            codec: self.codec,
            interleaving: self.interleaving,
        }
    }
}

impl<A, C, H> ActorSystem<A, C, H>
where
    A: Actor,
    A::Msg: Ord + Debug,
    A::Timer: Ord,
    H: Clone + Debug + Hash + Eq,
    C: Presentation<A::Msg>,
{
    fn id(index: usize) -> Id {
        Id::from(index)
    }

    /// Applies an actor's commands: sends (recorded in the history first), timers, saves.
    /// Returns the packets it sent.
    fn process(
        &self,
        actor: usize,
        out: Out<A>,
        state: &mut SystemState<A, H>,
    ) -> Vec<Packet<A::Msg>> {
        let mut sent = Vec::new();
        for command in out {
            match command {
                Command::Send(dst, msg) => {
                    let dst = usize::from(dst);
                    if let Some(history) =
                        (self.record_send)(&self.cfg, &state.history, actor, dst, &msg)
                    {
                        state.history = Arc::new(Cached::new(history));
                    }
                    if dst == usize::from(OBSERVER) {
                        continue; // for the ghost history only
                    }
                    let packet = Packet {
                        src: small(actor),
                        dst: small(dst),
                        msg: Digested::new(msg),
                    };
                    sent.push(packet.clone());
                    self.send(state, packet);
                }
                Command::SetTimer(timer, _) => {
                    let entry = (small(actor), timer);
                    if let Err(position) = state.timers.binary_search(&entry) {
                        state.timers.insert(position, entry);
                    }
                }
                Command::CancelTimer(timer) => {
                    let entry = (small(actor), timer);
                    if let Ok(position) = state.timers.binary_search(&entry) {
                        state.timers.remove(position);
                    }
                }
                // What an actor saves matters only to its recovery: without crashes it is
                // never read, and keeping it would only make the state bigger.
                Command::Save(storage) if self.faults.crashes > 0 => {
                    state.storage[actor] = Some(Arc::new(storage))
                }
                Command::Save(_) => {}
                Command::ChooseRandom(..) => {
                    unreachable!("the Paxos actors draw no random numbers")
                }
            }
        }
        sent
    }

    fn send(&self, state: &mut SystemState<A, H>, packet: Packet<A::Msg>) {
        let network = &mut state.network;
        let redundant =
            self.cuts.coalesce && self.coalesce.is_some_and(|coalesce| coalesce(&packet.msg));
        if redundant && network.contains(&packet) {
            return;
        }
        match self.faults.network {
            NetworkKind::Unordered => {
                let position = network.partition_point(|queued| *queued <= packet);
                network.insert(position, packet);
            }
            NetworkKind::Duplicating => {
                if let Err(position) = network.binary_search(&packet) {
                    network.insert(position, packet);
                }
            }
            NetworkKind::Ordered => {
                // After every queued packet of the same pair: the queue keeps send order.
                let channel = (packet.src, packet.dst);
                let position =
                    network.partition_point(|queued| (queued.src, queued.dst) <= channel);
                network.insert(position, packet);
            }
        }
    }

    /// Removes one copy of `packet` (a duplicating network keeps delivered messages).
    fn take(&self, state: &mut SystemState<A, H>, packet: &Packet<A::Msg>, delivered: bool) {
        if delivered && self.faults.network == NetworkKind::Duplicating {
            return;
        }
        let position = state
            .network
            .iter()
            .position(|queued| queued == packet)
            .expect("only packets in flight are delivered or lost");
        state.network.remove(position);
    }

    /// Removes the messages their running recipients will ignore for good, and those the model
    /// calls dead (see the module header), each where its cut is on. Whether a message is
    /// ignored depends only on its recipient's state, and whether it is dead on its sender's
    /// and recipient's, so after a step only the messages to and from the actor that changed,
    /// and those just sent, need a look; every other message was looked at when it was sent or
    /// when its parties last changed.
    ///
    /// Why no violation hides behind it: a message removed is one whose delivery would change
    /// nothing whenever it came (the model's claim, checked in debug builds by `check_claims`),
    /// and whose loss would only spend one of the run's losses; so every run of the full
    /// system, with its pointless deliveries and losses of the message left out, is a run of
    /// the cut system through states that differ only in that message, which no property
    /// reads (none reads the network). On an ordered network too: an ignored message is
    /// consumed by its delivery and changes nothing, whenever it comes, so taking it out now
    /// is the same as delivering it just before the message behind it (a run may then be a
    /// step shorter than the full system's). Not for a crashed recipient: the model's test is
    /// asked of the running actor, and the message is looked at again when it recovers.
    fn collect_stale(
        &self,
        state: &mut SystemState<A, H>,
        changed: Option<usize>,
        sent: &[Packet<A::Msg>],
    ) {
        let ignores = self.ignores.filter(|_| self.cuts.stale);
        let dead = self.dead.filter(|_| self.cuts.dead);
        if ignores.is_none() && dead.is_none() {
            return;
        }
        let actors = &state.actors;
        let crashed = state.crashed;
        let ignored = |packet: &Packet<A::Msg>| {
            let recipient = usize::from(packet.dst);
            crashed & (1 << recipient) == 0
                && ignores.is_some_and(|ignores| {
                    ignores(
                        &self.actors[recipient],
                        &actors[recipient],
                        usize::from(packet.src),
                        &packet.msg,
                    )
                })
        };
        let dead = |packet: &Packet<A::Msg>| dead.is_some_and(|dead| dead(self, state, packet));
        let mut stale: Vec<Packet<A::Msg>> = Vec::new();
        for packet in &state.network {
            let recipient_changed = changed == Some(usize::from(packet.dst));
            let sender_changed = changed == Some(usize::from(packet.src));
            let fresh = sent.contains(packet);
            if stale.last() == Some(packet) {
                continue;
            }
            if ((recipient_changed || fresh) && ignored(packet))
                || ((recipient_changed || sender_changed || fresh) && dead(packet))
            {
                stale.push(packet.clone());
            }
        }
        if let Some(interleaving) = self.interleaving.filter(|_| cfg!(debug_assertions)) {
            for packet in stale.iter().filter(|packet| !sent.contains(packet)) {
                let to = usize::from(packet.dst);
                assert!(
                    !(interleaving.hears_only_answers)(&self.actors[to]) || changed == Some(to),
                    "a message to actor {to}, which hears only answers, was collected after a \
                     step of another: {packet:?}; the partial-order reduction rests on that not \
                     happening"
                );
            }
        }
        if !stale.is_empty() {
            state.network.retain(|packet| !stale.contains(packet));
        }
    }

    /// `state` as the model's tests see `actor`: as it is when it runs, and as its restart
    /// from what it saved would find it when it is crashed (the tests speak of the actor's
    /// whole life, restarts included).
    fn as_if_running<'s>(
        &self,
        state: &'s SystemState<A, H>,
        actor: usize,
    ) -> Cow<'s, SystemState<A, H>> {
        if !state.is_crashed(actor) {
            return Cow::Borrowed(state);
        }
        let mut running = state.clone();
        let storage = state.storage[actor].as_deref().cloned();
        let restarted = self.actors[actor].on_start(Self::id(actor), &storage, &mut Out::new());
        running.actors[actor] = Arc::new(Cached::new(restarted));
        running.crashed &= !(1 << actor);
        Cow::Owned(running)
    }

    fn claims_ignored(&self, state: &SystemState<A, H>, packet: &Packet<A::Msg>) -> bool {
        let recipient = usize::from(packet.dst);
        self.ignores.is_some_and(|ignores| {
            ignores(
                &self.actors[recipient],
                &state.actors[recipient],
                usize::from(packet.src),
                &packet.msg,
            )
        })
    }

    fn claims_dead(&self, state: &SystemState<A, H>, packet: &Packet<A::Msg>) -> bool {
        self.dead.is_some_and(|dead| dead(self, state, packet))
    }

    /// Debug builds test what the `stale` and `dead` cuts rest on, where the cut is off (so
    /// that the message is still in flight): a message the model calls ignored or dead before
    /// a step that changed `actor` is still so after it, whatever the step was (a delivery, a
    /// timeout, a crash, a restart, a lost disk). With `check_delivery`, it follows along every
    /// path that the message's delivery changes nothing.
    fn check_claims(&self, before: &SystemState<A, H>, after: &SystemState<A, H>, actor: usize) {
        let ignores = self.ignores.is_some() && !self.cuts.stale;
        let dead = self.dead.is_some() && !self.cuts.dead;
        if !cfg!(debug_assertions) || !(ignores || dead) {
            return;
        }
        let concerned = |packet: &&Packet<A::Msg>| {
            (ignores && usize::from(packet.dst) == actor)
                || (dead && (usize::from(packet.dst) == actor || usize::from(packet.src) == actor))
        };
        if !after.network.iter().any(|packet| concerned(&packet)) {
            return;
        }
        let (before_running, after_running) = (
            self.as_if_running(before, actor),
            self.as_if_running(after, actor),
        );
        for packet in after.network.iter().filter(concerned) {
            if !before.network.contains(packet) {
                continue;
            }
            let ignored_before = ignores
                && usize::from(packet.dst) == actor
                && self.claims_ignored(&before_running, packet);
            assert!(
                !ignored_before || self.claims_ignored(&after_running, packet),
                "the model called {packet:?} ignored for good, and a step made it matter again: \
                 {before:?} became {after:?}"
            );
            assert!(
                !dead
                    || !self.claims_dead(&before_running, packet)
                    || self.claims_dead(&after_running, packet),
                "the model called {packet:?} dead, and a step brought it back to life: \
                 {before:?} became {after:?}"
            );
        }
    }

    /// Debug builds test that delivering a message the model calls ignored changes nothing,
    /// and that delivering one it calls dead changes nothing but the replies, which their
    /// recipients ignore for good.
    fn check_delivery(
        &self,
        last: &SystemState<A, H>,
        packet: &Packet<A::Msg>,
        unchanged: bool,
        out: &Out<A>,
    ) {
        if !cfg!(debug_assertions) {
            return;
        }
        if self.claims_ignored(last, packet) {
            assert!(
                unchanged && out.is_empty(),
                "the model called {packet:?} ignored, but its delivery did something: {out:?} \
                 from {last:?}"
            );
        }
        if self.claims_dead(last, packet) {
            assert!(
                unchanged,
                "the model called {packet:?} dead, but its delivery changed its recipient"
            );
            for command in out.iter() {
                if let Command::Send(dst, msg) = command {
                    let reply = Packet {
                        src: packet.dst,
                        dst: small(usize::from(*dst)),
                        msg: Digested::new(msg.clone()),
                    };
                    assert!(
                        self.claims_ignored(last, &reply),
                        "the model called {packet:?} dead, but its reply {reply:?} matters"
                    );
                }
            }
        }
    }

    /// What the step from `before` to `after` decided, in words.
    pub fn notes(&self, before: &SystemState<A, H>, after: &SystemState<A, H>) -> Vec<String> {
        self.narrate
            .map(|narrate| narrate(&self.cfg, before, after))
            .unwrap_or_default()
    }

    /// An action in words, as the text report shows it.
    pub fn format_step_label(&self, action: &SystemAction<A::Msg, A::Timer>) -> String {
        stateright::Model::format_action(self, action)
    }

    /// `actor` crashes: its timers go, and it is counted (where crashes in a run are bounded).
    fn crash(&self, last: &SystemState<A, H>, actor: ActorIndex) -> SystemState<A, H> {
        let mut next = last.clone();
        next.timers.retain(|(owner, _)| *owner != actor);
        next.crashed |= 1 << actor;
        if self.crashes_in_run_max.is_some() {
            next.crashes_so_far += 1;
        }
        next
    }

    /// Whether crashed `actor` may restart now: unless its disk was lost, at once; if it was,
    /// once every message it sent before has been delivered or lost (see `DiskLoss`). A message
    /// whose delivery would change nothing (a stale answer, say) counts as delivered: the engine
    /// takes no such step, and it may be taken at any moment.
    fn may_recover(&self, state: &SystemState<A, H>, actor: usize) -> bool {
        let lost = self.disk_loss.as_ref().is_some_and(|loss| {
            state.storage[actor]
                .as_deref()
                .is_some_and(|storage| (loss.is_empty)(storage))
        });
        !lost
            || state
                .network
                .iter()
                .filter(|packet| usize::from(packet.src) == actor)
                .all(|packet| self.delivery_changes_nothing(state, packet))
    }

    /// Whether delivering `packet` now would change nothing: its recipient is up and ignores it.
    fn delivery_changes_nothing(&self, state: &SystemState<A, H>, packet: &Packet<A::Msg>) -> bool {
        let recipient = usize::from(packet.dst);
        if state.is_crashed(recipient) {
            return false;
        }
        let mut actor_state = Cow::Borrowed(&**state.actors[recipient]);
        let mut out = Out::new();
        self.actors[recipient].on_msg(
            Self::id(recipient),
            &mut actor_state,
            Self::id(usize::from(packet.src)),
            (*packet.msg).clone(),
            &mut out,
        );
        is_no_op(&actor_state, &out)
    }

    /// The claim of `Interleaving::hears_only_answers`, checked on a step in debug builds:
    /// every message it `sent` to an actor that hears only answers went back to the sender of
    /// the message it handled (`answering`; `None` for a timer or a recovery, which answer no
    /// one).
    fn check_answers_only(&self, sent: &[Packet<A::Msg>], answering: Option<usize>) {
        let Some(interleaving) = self.interleaving.filter(|_| cfg!(debug_assertions)) else {
            return;
        };
        for packet in sent {
            let to = usize::from(packet.dst);
            assert!(
                !(interleaving.hears_only_answers)(&self.actors[to]) || answering == Some(to),
                "the model says actor {to} hears only answers, but {packet:?} was sent to it \
                 by a step that answered {answering:?}"
            );
        }
    }

    /// The partial-order reduction's ample set (`Explorable::ample`, the `por` cut): the steps
    /// of one actor P, the first (by index) for which all of this holds: P hears only answers
    /// (`Interleaving`), none of its messages is in flight, it cannot crash and is up, every
    /// step of P changes what the properties read of it only as they tolerate
    /// (`Interleaving::only_grows`) and leaves the ghost history as it was, and some other
    /// actor has a step too. Only where no message can be lost in this state, no disk can be
    /// lost and timer expiries are not counted.
    ///
    /// Why the set is persistent (no step outside it, on any run from here that takes none of
    /// its steps, depends on one of them). P's steps are the deliveries of the messages to P
    /// and P's timers; every other step is another actor's delivery, timer, crash or recovery.
    /// - Nothing outside the set sends P a message: P hears only answers, and none of its
    ///   messages is in flight, nor can one be sent without a step of P. So no delivery to P
    ///   that is not in the set can come first, and the set's deliveries stay exactly those
    ///   messages.
    /// - No step outside the set removes a message to P: no message can be lost here, and the
    ///   stale and dead collections drop a message to P only after a step of P (`ignores` reads
    ///   the recipient's state; the model's `dead` judges requests to acceptors only, checked
    ///   in debug builds by `collect_stale`). Without a crash of P (P cannot crash) nothing else
    ///   stops P's steps.
    /// - A step of another actor X and one of P commute: they change two different actor
    ///   states; each takes its own message out of the network and adds its own, which commute
    ///   in a multiset (and per pair of actors on an ordered network, where P's incoming and X's
    ///   incoming pairs differ); the history is not written by P's steps (the invisibility
    ///   test); the only counters a step of X may move, crashes so far, are not P's. With a
    ///   lost disk, P's deliveries would decide when a crashed X may recover (`may_recover`),
    ///   and with counted expiries P's and X's timers would share a budget: hence the
    ///   exclusions.
    ///
    /// Why its steps move the properties only as they tolerate (condition 2): each leaves the
    /// history as it was and changes P as `only_grows` allows; a run that avoids the set changes
    /// neither P's state nor its messages, so the step does the same to P wherever it is taken
    /// on such a run, and `only_grows` speaks for every state of the rest of the system.
    ///
    /// Why it descends (`Ample::descending`), where all of its steps are deliveries on a network
    /// that consumes what it delivers: each lowers the number of messages in flight to actors
    /// that hear only answers, and no ample step raises it (such an actor, P included, sends
    /// nothing to another one: a message to one is sent only by an actor answering it). A set
    /// with a timer step is left to the engine's proviso.
    fn ample(&self, state: &SystemState<A, H>, settled: u64) -> Option<Ample<SystemState<A, H>>> {
        let interleaving = self.interleaving.filter(|_| self.cuts.por)?;
        let unsettled = |name: &str| {
            self.properties
                .iter()
                .enumerate()
                .any(|(index, property)| property.name == name && settled & (1 << index) == 0)
        };
        let may_lose = usize::from(state.lost) < self.faults.losses && !state.network.is_empty();
        if may_lose || self.disk_loss.is_some() || self.timeouts_max.is_some() {
            return None;
        }
        // The cheap tests first: most states have no candidate, and their steps are listed
        // again by the engine.
        let candidates: Vec<usize> = (0..self.actors.len())
            .filter(|&actor| {
                !self.crashable[actor]
                    && !state.is_crashed(actor)
                    && (interleaving.hears_only_answers)(&self.actors[actor])
                    && !state
                        .network
                        .iter()
                        .any(|packet| usize::from(packet.src) == actor)
                    && (state
                        .network
                        .iter()
                        .any(|packet| usize::from(packet.dst) == actor)
                        || state
                            .timers
                            .iter()
                            .any(|(owner, _)| usize::from(*owner) == actor))
            })
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let mut all_steps = Vec::new();
        self.actions(state, &mut all_steps);
        candidates.into_iter().find_map(|actor| {
            let own: Vec<&SystemAction<A::Msg, A::Timer>> = all_steps
                .iter()
                .filter(|step| match step {
                    SystemAction::Deliver(packet) => usize::from(packet.dst) == actor,
                    SystemAction::Timeout(owner, _) => usize::from(*owner) == actor,
                    _ => false,
                })
                .collect();
            let left_out = all_steps.len() - own.len();
            if own.is_empty() || left_out == 0 {
                return None;
            }
            let descending = self.faults.network != NetworkKind::Duplicating
                && own
                    .iter()
                    .all(|step| matches!(step, SystemAction::Deliver(_)));
            let mut successors = Vec::with_capacity(own.len());
            for step in own {
                let Some(next) = self.next_state(state, step.clone()) else {
                    continue; // changes nothing: no step at all
                };
                if !self.within_boundary(&next) {
                    return None; // the search would not take it: no persistent set of steps
                }
                let tolerated = Arc::ptr_eq(&next.history, &state.history)
                    && (interleaving.only_grows)(
                        &state.actors[actor],
                        &next.actors[actor],
                        &unsettled,
                    );
                if !tolerated {
                    return None;
                }
                successors.push(next);
            }
            (!successors.is_empty()).then_some(Ample {
                successors,
                left_out,
                descending,
            })
        })
    }

    fn crashed_count(state: &SystemState<A, H>) -> usize {
        state.crashed.count_ones() as usize
    }
}

/// The address of the ghost history: a message an actor sends here is recorded (`record_send`)
/// and goes no further. It lets a model observe what happens inside an actor, such as an
/// acceptance a node makes on its own proposer's behalf, which no network message shows.
pub const OBSERVER: ActorIndex = ActorIndex::MAX;

/// An index known to be small: the models have at most a few dozen actors.
fn small(index: usize) -> ActorIndex {
    ActorIndex::try_from(index).expect("an actor index fits a byte")
}

impl<A, C, H> Model for ActorSystem<A, C, H>
where
    A: Actor,
    A::Msg: Ord + Debug,
    A::Timer: Ord,
    H: Clone + Debug + Hash + Eq,
    C: Presentation<A::Msg>,
{
    type State = SystemState<A, H>;
    type Action = SystemAction<A::Msg, A::Timer>;

    fn init_states(&self) -> Vec<Self::State> {
        assert!(self.actors.len() <= 64, "crashes are a 64-bit set");
        assert!(self.actors.len() < usize::from(OBSERVER));
        let mut state = SystemState {
            actors: SmallVec::with_capacity(self.actors.len()),
            storage: smallvec::smallvec![None; self.actors.len()],
            network: Vec::new(),
            timers: Vec::new(),
            crashed: 0,
            lost: 0,
            disks_lost: 0,
            crashes_so_far: 0,
            expired: 0,
            history: Arc::new(Cached::new(self.init_history.clone())),
        };
        for (index, actor) in self.actors.iter().enumerate() {
            let mut out = Out::new();
            let actor_state = actor.on_start(Self::id(index), &None, &mut out);
            state.actors.push(Arc::new(Cached::new(actor_state)));
            self.process(index, out, &mut state);
        }
        vec![state]
    }

    fn actions(&self, state: &Self::State, actions: &mut Vec<Self::Action>) {
        let may_lose = usize::from(state.lost) < self.faults.losses;
        for packet in state.deliverable(self.faults.network) {
            if may_lose {
                actions.push(SystemAction::Lose(packet.clone()));
            }
            if !state.is_crashed(usize::from(packet.dst)) {
                actions.push(SystemAction::Deliver(packet.clone()));
            }
        }
        let may_expire = self
            .timeouts_max
            .is_none_or(|max| usize::from(state.expired) < max);
        for (actor, timer) in state.timers.iter().filter(|_| may_expire) {
            actions.push(SystemAction::Timeout(*actor, timer.clone()));
        }
        let may_crash = self
            .crashes_in_run_max
            .is_none_or(|max| usize::from(state.crashes_so_far) < max);
        if Self::crashed_count(state) < self.faults.crashes && may_crash {
            for actor in 0..self.actors.len() {
                if self.crashable[actor] && !state.is_crashed(actor) {
                    actions.push(SystemAction::Crash(small(actor)));
                    if self
                        .disk_loss
                        .as_ref()
                        .is_some_and(|loss| usize::from(state.disks_lost) < loss.max)
                    {
                        actions.push(SystemAction::CrashLosingDisk(small(actor)));
                    }
                }
            }
        }
        for actor in 0..self.actors.len() {
            if state.is_crashed(actor) && self.may_recover(state, actor) {
                actions.push(SystemAction::Recover(small(actor)));
            }
        }
    }

    fn next_state(&self, last: &Self::State, action: Self::Action) -> Option<Self::State> {
        let changed = match &action {
            SystemAction::Deliver(packet) => Some(usize::from(packet.dst)),
            SystemAction::Lose(_) => None,
            SystemAction::Timeout(actor, _)
            | SystemAction::Crash(actor)
            | SystemAction::CrashLosingDisk(actor)
            | SystemAction::Recover(actor) => Some(usize::from(*actor)),
        };
        let next = self.step(last, action)?;
        if let Some(actor) = changed {
            self.check_claims(last, &next, actor);
        }
        Some(next)
    }

    fn format_action(&self, action: &Self::Action) -> String {
        self.action_words(action)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        self.properties.clone()
    }

    fn as_svg(&self, path: Path<Self::State, Self::Action>) -> Option<String> {
        self.draw.map(|draw| draw(self, &path))
    }
}

impl<A, C, H> ActorSystem<A, C, H>
where
    A: Actor,
    A::Msg: Ord + Debug,
    A::Timer: Ord,
    H: Clone + Debug + Hash + Eq,
    C: Presentation<A::Msg>,
{
    /// The state after `action`, if it changes anything.
    fn step(
        &self,
        last: &SystemState<A, H>,
        action: SystemAction<A::Msg, A::Timer>,
    ) -> Option<SystemState<A, H>> {
        let next = match action {
            SystemAction::Deliver(packet) => {
                let index = usize::from(packet.dst);
                if last.is_crashed(index) {
                    return None;
                }
                let mut actor_state = Cow::Borrowed(&**last.actors[index]);
                let mut out = Out::new();
                self.actors[index].on_msg(
                    Self::id(index),
                    &mut actor_state,
                    Self::id(usize::from(packet.src)),
                    (*packet.msg).clone(),
                    &mut out,
                );
                self.check_delivery(last, &packet, matches!(actor_state, Cow::Borrowed(_)), &out);
                let ordered = self.faults.network == NetworkKind::Ordered;
                if is_no_op(&actor_state, &out) && !ordered {
                    return None;
                }
                let mut next = last.clone();
                self.take(&mut next, &packet, true);
                if let Cow::Owned(actor_state) = actor_state {
                    next.actors[index] = Arc::new(Cached::new(actor_state));
                }
                let sent = self.process(index, out, &mut next);
                self.check_answers_only(&sent, Some(usize::from(packet.src)));
                self.collect_stale(&mut next, Some(index), &sent);
                next
            }
            SystemAction::Lose(packet) => {
                let mut next = last.clone();
                self.take(&mut next, &packet, false);
                next.lost += 1;
                next
            }
            SystemAction::Timeout(actor, timer) => {
                let index = usize::from(actor);
                let mut actor_state = Cow::Borrowed(&**last.actors[index]);
                let mut out = Out::new();
                self.actors[index].on_timeout(Self::id(index), &mut actor_state, &timer, &mut out);
                if is_no_op_with_timer(&actor_state, &out, &timer) {
                    return None;
                }
                let mut next = last.clone();
                if let Ok(position) = next.timers.binary_search(&(actor, timer)) {
                    next.timers.remove(position);
                }
                if self.timeouts_max.is_some() {
                    next.expired += 1;
                }
                if let Cow::Owned(actor_state) = actor_state {
                    next.actors[index] = Arc::new(Cached::new(actor_state));
                }
                let sent = self.process(index, out, &mut next);
                self.check_answers_only(&sent, None);
                self.collect_stale(&mut next, Some(index), &sent);
                next
            }
            SystemAction::Crash(actor) => self.crash(last, actor),
            SystemAction::CrashLosingDisk(actor) => {
                let loss = self
                    .disk_loss
                    .as_ref()
                    .expect("offered only with disk loss");
                let mut next = self.crash(last, actor);
                next.disks_lost += 1;
                next.storage[usize::from(actor)] = Some(Arc::new((loss.empty)(next.disks_lost)));
                next
            }
            SystemAction::Recover(actor) => {
                let index = usize::from(actor);
                let mut out = Out::new();
                let storage = last.storage[index].as_deref().cloned();
                let actor_state = self.actors[index].on_start(Self::id(index), &storage, &mut out);
                let mut next = last.clone();
                next.actors[index] = Arc::new(Cached::new(actor_state));
                next.crashed &= !(1 << actor);
                let sent = self.process(index, out, &mut next);
                self.check_answers_only(&sent, None);
                // Messages that waited for the recovered actor are looked at again.
                self.collect_stale(&mut next, Some(index), &sent);
                next
            }
        };
        Some(next)
    }

    fn action_words(&self, action: &SystemAction<A::Msg, A::Timer>) -> String {
        let name = |index: &ActorIndex| self.cfg.actor_name(Id::from(usize::from(*index)));
        match action {
            SystemAction::Deliver(packet) => format!(
                "{} -> {}  {}",
                name(&packet.src),
                name(&packet.dst),
                self.cfg.describe(&packet.msg)
            ),
            SystemAction::Lose(packet) => format!(
                "{} -> {}  {}  (lost)",
                name(&packet.src),
                name(&packet.dst),
                self.cfg.describe(&packet.msg)
            ),
            SystemAction::Timeout(actor, _) => format!("{} times out", name(actor)),
            SystemAction::Crash(actor) => format!("{} crashes", name(actor)),
            SystemAction::CrashLosingDisk(actor) => {
                format!("{} crashes and loses its disk", name(actor))
            }
            SystemAction::Recover(actor) => {
                format!("{} recovers from what it persisted", name(actor))
            }
        }
    }
}

impl<A, C, H> Explorable for ActorSystem<A, C, H>
where
    A: Actor + Send + Sync + 'static,
    A::Msg: Ord + Debug + Send + Sync,
    A::Timer: Ord + Send + Sync,
    A::State: Send + Sync,
    A::Storage: Send + Sync,
    H: Clone + Debug + Hash + Eq + Send + Sync + 'static,
    C: Presentation<A::Msg> + Send + Sync,
{
    fn class_fingerprint(&self, state: &Self::State) -> Fingerprint {
        match &self.symmetry {
            Some(symmetry) if self.cuts.symmetry && symmetry.actors.len() > 1 => {
                (symmetry.fingerprint)(state, &symmetry.actors, symmetry.ordered_network)
            }
            _ => fingerprint(state),
        }
    }

    /// A crash is no progress: the recovery that undoes it is always possible, and crashing and
    /// recovering forever is not a run that liveness is asked of.
    fn is_progress(&self, action: &Self::Action) -> bool {
        !matches!(
            action,
            SystemAction::Crash(_) | SystemAction::CrashLosingDisk(_)
        )
    }

    fn codec(&self) -> Option<StateCodec<Self::State>> {
        self.codec
    }

    fn ample(&self, state: &Self::State, settled: u64) -> Option<Ample<Self::State>> {
        ActorSystem::ample(self, state, settled)
    }
}

/// A state as bytes: its values in field order, bincode's compact form (variable-length
/// integers), with none of what a state shares or caches. Reading it back makes every actor
/// state, message and history anew, each digested again (`Cached::new`, `Digested::new`), so a
/// decoded state equals the state written and has its fingerprint; what it no longer does is
/// share its actors with the states it was copied from.
impl<A, H> SystemState<A, H>
where
    A: Actor,
    A::State: Serialize + DeserializeOwned,
    A::Storage: Serialize + DeserializeOwned,
    A::Msg: Serialize + DeserializeOwned,
    A::Timer: Serialize + DeserializeOwned,
    H: Hash + Serialize + DeserializeOwned,
{
    pub fn codec() -> StateCodec<Self> {
        StateCodec {
            encode: Self::encode,
            decode: Self::decode,
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let SystemState {
            actors,
            storage,
            network,
            timers,
            crashed,
            lost,
            disks_lost,
            crashes_so_far,
            expired,
            history,
        } = self;
        let wire: Wire<&A::State, &A::Storage, &A::Msg, &A::Timer, &H> = (
            actors.iter().map(|actor| &***actor).collect(),
            storage.iter().map(Option::as_deref).collect(),
            network
                .iter()
                .map(|packet| (packet.src, packet.dst, &*packet.msg))
                .collect(),
            timers
                .iter()
                .map(|(actor, timer)| (*actor, timer))
                .collect(),
            (*crashed, *lost, *disks_lost, *crashes_so_far, *expired),
            &***history,
        );
        bincode::Options::serialize_into(bincode::options(), out, &wire)
            .expect("a state's values serialize");
    }

    fn decode(bytes: &[u8]) -> Self {
        let (actors, storage, network, timers, counts, history): Wire<
            A::State,
            A::Storage,
            A::Msg,
            A::Timer,
            H,
        > = bincode::Options::deserialize(bincode::options(), bytes)
            .expect("bytes that a state was written to read back");
        let (crashed, lost, disks_lost, crashes_so_far, expired) = counts;
        SystemState {
            actors: actors
                .into_iter()
                .map(|actor| Arc::new(Cached::new(actor)))
                .collect(),
            storage: storage
                .into_iter()
                .map(|saved| saved.map(Arc::new))
                .collect(),
            network: network
                .into_iter()
                .map(|(src, dst, msg)| Packet {
                    src,
                    dst,
                    msg: Digested::new(msg),
                })
                .collect(),
            timers,
            crashed,
            lost,
            disks_lost,
            crashes_so_far,
            expired,
            history: Arc::new(Cached::new(history)),
        }
    }
}

/// A `SystemState` on the wire, by reference when written and by value when read (bincode
/// writes both alike): actors, storage, network as (sender, recipient, message), timers, the
/// counts (crashed, lost, disks lost, crashes, expiries), the history.
type Wire<S, D, M, T, H> = (
    Vec<S>,
    Vec<Option<D>>,
    Vec<(ActorIndex, ActorIndex, M)>,
    Vec<(ActorIndex, T)>,
    (u64, u8, u8, u8, u8),
    H,
);

/// A path through an actor system, as the reports and the catalogue see it.
pub type SystemPath<A, H> =
    Path<SystemState<A, H>, SystemAction<<A as Actor>::Msg, <A as Actor>::Timer>>;
