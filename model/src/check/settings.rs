//! What every model shares: the faults a check explores, how actors and messages are named in
//! traces, and what a report needs to know about a model's configuration.

use crate::check::cuts::{Cut, CutUse};
use crate::protocol::ballot::{Ballot, Proposal};
use crate::protocol::flaw::Flaw;
use crate::protocol::slots::Slot;
use serde::{Deserialize, Serialize};
use stateright::actor::Id;
use std::fmt;
use std::str::FromStr;

/// How the network may misbehave, besides losing messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NetworkKind {
    /// Messages race each other and arrive at most once.
    #[default]
    Unordered,
    /// Messages race each other and may arrive any number of times.
    Duplicating,
    /// Messages between each pair of actors arrive in the order sent, at most once.
    Ordered,
}

impl NetworkKind {
    pub const ALL: [NetworkKind; 3] = [
        NetworkKind::Unordered,
        NetworkKind::Duplicating,
        NetworkKind::Ordered,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            NetworkKind::Unordered => "unordered",
            NetworkKind::Duplicating => "duplicating",
            NetworkKind::Ordered => "ordered",
        }
    }
}

impl fmt::Display for NetworkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for NetworkKind {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        NetworkKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = NetworkKind::ALL.iter().map(|kind| kind.name()).collect();
                format!(
                    "unknown network '{name}'; known networks: {}",
                    names.join(", ")
                )
            })
    }
}

/// The faults a model explores. Each is bounded, as crashes are in stateright: a bound keeps
/// the state space finite and small enough to exhaust, and most bugs need only one fault.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Faults {
    pub network: NetworkKind,
    /// At most this many messages are lost in a run (0: a lossless network).
    pub losses: usize,
    /// At most this many acceptors are crashed at once; each may recover with what it persisted.
    pub crashes: usize,
}

impl Faults {
    pub fn lossy(&self) -> bool {
        self.losses > 0
    }

    /// Whether the models arm retry timers at all. A timer matters only where a message can be
    /// lost for good. On a lossless network every message arrives (a crashed acceptor gets it on
    /// recovery), so a proposer or leader retries when refused; modelling spurious timeouts too
    /// would multiply the state space without a behaviour the refusals do not already produce
    /// (a ballot abandoned while its messages are still in flight).
    pub fn models_retry_timers(&self) -> bool {
        self.lossy()
    }

    /// Why liveness ("eventually chosen") is not promised under these faults, if it is not. A
    /// lost message can stop progress once the bounded retries run out. Crashes alone do not
    /// excuse it: liveness is judged on the runs where a crashed acceptor eventually recovers
    /// (with what it persisted) and stays up, as the engine's terminal states assume.
    pub fn liveness_caveat(&self) -> Option<&'static str> {
        self.lossy()
            .then_some("messages can be lost, and the proposers' retries are bounded")
    }
}

/// A message's fields in protocol terms.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageFields {
    /// `Prepare`, `Promise`, `PrepareRefused`, `Accept`, `Accepted`, `AcceptRefused`.
    pub kind: &'static str,
    pub slot: Option<Slot>,
    pub ballot: Option<Ballot>,
    /// The value an Accept or Accepted carries.
    pub value: Option<String>,
    /// What a Promise reported: the acceptor's acceptances, per slot.
    pub reported: Vec<(Slot, Proposal<String>)>,
    /// The higher promise a refusal names.
    pub promised: Option<Ballot>,
}

/// How a model names its actors and messages for people: `a1`, `p2`, `l1`, and
/// `Prepare(b=1.p1)`.
pub trait Presentation<M> {
    fn actor_name(&self, id: Id) -> String;
    fn describe(&self, message: &M) -> String;
    /// Whether the log has more than one slot, so that slots are worth naming.
    fn names_slots(&self) -> bool;
    /// A message's fields in protocol terms (kind, ballot, value, slot), for traces that tools
    /// read and for stories; `None` where the model does not say.
    fn fields(&self, _message: &M) -> Option<MessageFields> {
        None
    }
    /// How many acceptors there are (actors `0..n`), so that a story can tell when a majority
    /// accepted; 0 where the model has none.
    fn acceptor_count(&self) -> usize {
        0
    }
    /// Who owns a ballot, as its name says it: `('p', "proposer")` names ballot `1.p2` after
    /// proposer p2. Each model names ballots after the actors that start them, so that `1.l2`
    /// is leader l2's and `1.n2` node n2's.
    fn ballot_owner(&self) -> (char, &'static str) {
        ('p', "proposer")
    }
}

/// The ballot notation, once, for a report or a page: `Ballots read round.owner: 1.p2 is round
/// 1 of proposer p2; ...`.
pub fn ballot_notation((letter, owner): (char, &'static str)) -> String {
    format!(
        "Ballots read round.{owner}: 1.{letter}2 is round 1 of {owner} {letter}2. A higher round \
         wins; in one round, the higher-numbered {owner}."
    )
}

/// What a report needs to know about a model's configuration.
pub trait ModelConfig {
    /// The model's name on the command line: `single` or `multi`.
    const NAME: &'static str;
    /// What the model is, for people.
    const TITLE: &'static str;
    /// One line: every setting that shapes the state space.
    fn summary(&self) -> String;
    fn faults(&self) -> Faults;
    fn flaw(&self) -> Flaw;
    /// The settings as `(flag, value)` pairs, in the CLI's spelling, for JSON reports and for
    /// the command line that reproduces a run.
    fn flags(&self) -> Vec<(&'static str, String)>;
    /// Why the liveness property is not promised in this configuration, if it is not.
    fn liveness_caveat(&self) -> Option<&'static str> {
        self.faults().liveness_caveat()
    }
    /// The model's cuts of the state space, and whether a run in this configuration uses each.
    fn cuts(&self) -> Vec<(Cut, CutUse)>;
}

/// A choice in words, `slot 1: A chosen at 1.p1 by a1, a2` (without the slot where a log has
/// one slot); `role` names ballots' proposers (`p`, or `n` for nodes), `name` the voters.
pub fn chosen_words<V: fmt::Display>(
    tally: &crate::protocol::chosen::Tally<V>,
    with_slot: bool,
    role: char,
    name: impl Fn(Id) -> String,
) -> String {
    let voters: Vec<String> = tally
        .acceptors
        .iter()
        .map(|acceptor| name(Id::from(acceptor)))
        .collect();
    let slot = if with_slot {
        format!("slot {}: ", tally.slot)
    } else {
        String::new()
    };
    format!(
        "{slot}{} chosen at {} by {}",
        tally.proposal.value,
        tally.proposal.ballot.named(role),
        voters.join(", ")
    )
}

/// The people's name of actor `id` when acceptors come first: `a1`.. for them, then
/// `{role}1`.. for the others.
pub fn actor_name(id: Id, acceptors: usize, role: char) -> String {
    let index = usize::from(id);
    if index < acceptors {
        format!("a{}", index + 1)
    } else {
        format!("{role}{}", index - acceptors + 1)
    }
}

/// "1 ballot", "2 ballots": how many ballots each proposer or leader may start.
pub fn ballots(rounds: u32) -> String {
    counted(rounds as usize, "ballot")
}

/// "1 acceptor", "3 acceptors".
/// `1234567` as `1,234,567`: a count as the reports print it.
pub fn thousands(count: impl std::fmt::Display) -> String {
    let digits = count.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

pub fn counted(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// The shared part of a configuration summary.
pub fn faults_summary(faults: &Faults, flaw: Flaw) -> String {
    let loss = match faults.losses {
        0 => "lossless".to_owned(),
        1 => "at most 1 message lost".to_owned(),
        n => format!("at most {n} messages lost"),
    };
    let crashes = match faults.crashes {
        0 => "no crashes".to_owned(),
        1 => "at most 1 acceptor crashed at a time".to_owned(),
        n => format!("at most {n} acceptors crashed at a time"),
    };
    format!("{} network, {loss}, {crashes}, flaw {flaw}", faults.network)
}

/// The fault flags shared by both models.
pub fn fault_flags(faults: &Faults, flaw: Flaw) -> Vec<(&'static str, String)> {
    let mut flags = vec![("network", faults.network.to_string())];
    flags.push(("losses", faults.losses.to_string()));
    flags.push(("crashes", faults.crashes.to_string()));
    flags.push(("flaw", flaw.to_string()));
    flags
}
