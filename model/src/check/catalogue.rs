//! The flaw catalogue as a claim the checker confirms: for every flaw, a small configuration that
//! exposes it (two or three acceptors, two proposers or leaders, as few ballots and slots as the
//! story needs), the safety property it breaks there (or that it is benign), and the rule of
//! Paxos it teaches; `check::examine` runs the checker on one entry and returns what it found.
//!
//! The property an entry names is the one a `check` of its configuration finds broken first
//! (see `examine`), so the catalogue, `check --flaw` and the Explorer report one property with
//! one length: often `immutability`, which breaks one step before a second value is chosen (the
//! acceptance that contradicts the chosen value comes before the majority for it).

use crate::check::cluster::{ClusterConfig, ClusterStart};
use crate::check::paxos::{MultiPaxosConfig, SingleDecreeConfig};
use crate::check::settings::{counted, Faults, ModelConfig, NetworkKind};
use crate::protocol::flaw::Flaw;

/// The model and configuration an entry is shown in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Setting {
    Single(SingleDecreeConfig),
    Multi(MultiPaxosConfig),
    Cluster(ClusterConfig),
}

impl Setting {
    /// `single` or `multi`, as on the command line.
    pub fn model_name(&self) -> &'static str {
        match self {
            Setting::Single(_) => "single",
            Setting::Multi(_) => "multi",
            Setting::Cluster(_) => "cluster",
        }
    }

    /// The configuration as command-line flags, `--acceptors 3 --proposers 2 ...`, flaw included.
    pub fn flags(&self) -> Vec<(&'static str, String)> {
        match self {
            Setting::Single(cfg) => cfg.flags(),
            Setting::Multi(cfg) => cfg.flags(),
            Setting::Cluster(cfg) => cfg.flags(),
        }
    }

    /// The configuration in a few words, for a table: what differs between entries.
    pub fn brief(&self) -> String {
        let mut parts = match self {
            Setting::Single(cfg) => vec![
                counted(cfg.acceptors, "acceptor"),
                counted(cfg.proposers, "proposer"),
                counted(cfg.rounds as usize, "ballot"),
            ],
            Setting::Multi(cfg) => vec![
                counted(cfg.acceptors, "acceptor"),
                counted(cfg.leaders, "leader"),
                counted(cfg.slots, "slot"),
                counted(cfg.rounds as usize, "ballot"),
            ],
            Setting::Cluster(cfg) => vec![
                counted(cfg.replicas, "replica"),
                counted(cfg.clients, "client"),
                format!("rounds up to {}", cfg.rounds),
                counted(cfg.timeouts, "timeout"),
            ],
        };
        let faults = match self {
            Setting::Single(cfg) => cfg.faults,
            Setting::Multi(cfg) => cfg.faults,
            Setting::Cluster(cfg) => cfg.faults,
        };
        match faults.network {
            NetworkKind::Unordered => {}
            NetworkKind::Ordered => parts.push("FIFO links".into()),
            NetworkKind::Duplicating => parts.push("duplicating".into()),
        }
        if faults.losses > 0 {
            parts.push(counted(faults.losses, "lost message"));
        }
        if faults.crashes > 0 {
            let crashed = match self {
                Setting::Cluster(_) => "crashed replica",
                _ => "crashed acceptor",
            };
            parts.push(counted(faults.crashes, crashed));
        }
        if let Setting::Cluster(cfg) = self {
            if cfg.disk_losses > 0 {
                parts.push(counted(cfg.disk_losses, "lost disk"));
            }
        }
        parts.join(", ")
    }

    /// The configuration in words.
    pub fn summary(&self) -> String {
        match self {
            Setting::Single(cfg) => cfg.summary(),
            Setting::Multi(cfg) => cfg.summary(),
            Setting::Cluster(cfg) => cfg.summary(),
        }
    }
}

/// What a flaw does to Paxos.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consequence {
    /// The named safety property is the first one a check of the entry's configuration finds
    /// violated.
    Breaks(&'static str),
    /// Every property holds, exhaustively, in the entry's configuration.
    Benign,
}

/// One flaw of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub flaw: Flaw,
    pub setting: Setting,
    pub consequence: Consequence,
    /// The rule of Paxos the flaw shows to matter, or why it does not.
    pub lesson: &'static str,
}

/// Every flaw, in catalogue order (`Flaw::ALL` without `None`).
pub fn catalogue() -> Vec<Entry> {
    Flaw::ALL
        .into_iter()
        .filter(|flaw| *flaw != Flaw::None)
        .map(entry)
        .collect()
}

/// Single-decree: 3 acceptors and 2 proposers with one ballot each, on a reliable network with
/// at most `crashes` acceptors down at once.
fn single(flaw: Flaw, crashes: usize) -> Setting {
    Setting::Single(SingleDecreeConfig {
        faults: Faults {
            crashes,
            ..Faults::default()
        },
        flaw,
        ..SingleDecreeConfig::default()
    })
}

/// Multi-Paxos: 2 leaders on a reliable network. Two acceptors suffice for every Multi-Paxos
/// flaw: each needs a rival leader, not a third vote.
fn multi(flaw: Flaw, slots: usize, rounds: u32) -> Setting {
    Setting::Multi(MultiPaxosConfig {
        acceptors: 2,
        slots,
        rounds,
        flaw,
        ..MultiPaxosConfig::default()
    })
}

/// Three replicas, two clients (a write and a read), ballots up to round 2 and one timer
/// expiry, every replica a voter from the start. That start is a sub-case of the real one (see
/// `ClusterStart::Voters`): a counterexample from it is one from the real start with the probes
/// cut off, which the story of these flaws does not need. Every replica flaw shows in it.
fn cluster(flaw: Flaw) -> Setting {
    Setting::Cluster(ClusterConfig {
        flaw,
        timeouts: 1,
        start: ClusterStart::Voters,
        ..ClusterConfig::default()
    })
}

/// The same with `clients` and `timeouts`, where one replica may crash and lose its disk once
/// in the run. The rejoin flaws need no timer, and without one their search stays at a few
/// hundred thousand states (with one, millions).
fn cluster_losing_a_disk(flaw: Flaw, clients: usize, timeouts: usize) -> Setting {
    Setting::Cluster(ClusterConfig {
        clients,
        faults: Faults {
            crashes: 1,
            ..Faults::default()
        },
        disk_losses: 1,
        crashes_in_run: Some(1),
        flaw,
        timeouts,
        start: ClusterStart::Voters,
        ..ClusterConfig::default()
    })
}

/// The catalogue's entry for `flaw`; `None` for Paxos itself.
pub fn entry_for(flaw: Flaw) -> Option<Entry> {
    (flaw != Flaw::None).then(|| entry(flaw))
}

fn entry(flaw: Flaw) -> Entry {
    use Consequence::{Benign, Breaks};
    let (setting, consequence, lesson) = match flaw {
        Flaw::AcceptBelowPromise => (
            single(flaw, 0),
            Breaks("immutability"),
            "a promise is a vow to ignore lower ballots; without it an old Accept lands after a \
             newer Phase 1 has already decided what to propose",
        ),
        Flaw::PromiseHidesAccepted => (
            single(flaw, 0),
            Breaks("immutability"),
            "promises must carry what the acceptor accepted: that is how a new ballot learns a \
             value that may already be chosen",
        ),
        Flaw::ProposerIgnoresPromises => (
            single(flaw, 0),
            Breaks("immutability"),
            "a proposer whose quorum reported an acceptance is bound to propose that value",
        ),
        Flaw::LowestAcceptedValue => (
            // Three ballots are needed, so one proposer must retry.
            Setting::Single(SingleDecreeConfig {
                rounds: 2,
                flaw,
                ..SingleDecreeConfig::default()
            }),
            Breaks("immutability"),
            "only the highest reported ballot is safe: a lower one may have been overtaken by a \
             value chosen since",
        ),
        Flaw::MinorityQuorum => (
            single(flaw, 0),
            Breaks("learners agree"),
            "any two quorums must intersect: two proposers that each count one acceptor as a \
             quorum each learn their own value as chosen, and the learners disagree",
        ),
        Flaw::SharedBallots => (
            single(flaw, 0),
            Benign,
            "safe alone: an acceptor promises a ballot once, so two proposers sharing one cannot \
             both gather a majority; the loser just never proposes (see \
             shared-ballots-and-equal-promise)",
        ),
        Flaw::ForgetOnCrash => (
            single(flaw, 1),
            Breaks("immutability"),
            "promises and acceptances must be durable before the reply leaves: an acceptor that \
             forgets votes twice",
        ),
        Flaw::SkipPhase1AfterPreemption => (
            multi(flaw, 2, 2),
            Breaks("immutability"),
            "a refusal means a rival ran Phase 1 and may have got values accepted; only a new \
             Phase 1 can tell the leader which",
        ),
        Flaw::NewLeaderSkipsPhase1 => (
            multi(flaw, 1, 1),
            Breaks("immutability"),
            "skipping Phase 1 is earned by a Phase 1 at the leader's own ballot; a leader that \
             assumes it overwrites the log",
        ),
        Flaw::IgnoreSlotPromises => (
            multi(flaw, 2, 1),
            Breaks("immutability"),
            "Phase 1 for many slots binds the leader in every slot a promise reported",
        ),
        Flaw::PromiseEqualBallot => (
            single(flaw, 0),
            Benign,
            "with unique ballots an equal Prepare can only be the same proposer's, so promising it \
             again is harmless",
        ),
        Flaw::SharedBallotsAndEqualPromise => (
            single(flaw, 0),
            Breaks("agreement"),
            "each of the two rules covers for the other: break both and two proposers hold a \
             majority of promises for one ballot and get two values accepted",
        ),
        Flaw::LeaderSkipsReportedSlots => (
            cluster(flaw),
            Breaks("immutability"),
            "a slot a promise reported is no hole: its value may already be chosen, and the new \
             leader must finish it with that value before it puts anything else there",
        ),
        Flaw::CatchUpFromAccepted => (
            cluster(flaw),
            Breaks("logs agree"),
            "an acceptance is a vote, not a decision: only a chosen entry may be handed to a \
             replica that applies it",
        ),
        Flaw::AcknowledgeBeforeChosen => (
            cluster(flaw),
            Breaks("no acknowledged write lost"),
            "a command takes effect when it is chosen and applied in log order, not when it is \
             proposed: a write acknowledged before a majority accepted it can still be replaced \
             in its slot by a rival leader, and an answer given earlier can contradict one given \
             after it",
        ),
        Flaw::ForwardRenamesRequest => (
            cluster(flaw),
            Breaks("validity"),
            "a command travels as its client sent it: the log holds only what clients asked \
             for, under their ids, so that each command is applied once and answered",
        ),
        Flaw::LostDiskVotes => (
            cluster_losing_a_disk(flaw, 2, 1),
            Breaks("immutability"),
            "a vote, once given, must be remembered for good: a replica that lost its disk may \
             have promised or accepted and forgotten it, so it must not vote until the others \
             have told it what it may have voted for",
        ),
        Flaw::RejoinAfterMajority => (
            cluster_losing_a_disk(flaw, 3, 0),
            Breaks("immutability"),
            "what the lost disk held (an acceptance that helped choose a value, or a promise \
             still in flight to a node that started a ballot above every one the answering \
             majority knows) may be known to the one node that did not answer: only the answer \
             of every other node bounds what the replica may have voted for",
        ),
        Flaw::RejoinIgnoresSlotFloor => (
            cluster_losing_a_disk(flaw, 2, 0),
            Breaks("immutability"),
            "a promise reports what the acceptor accepted; a replica that lost its disk cannot \
             report what it forgot, so it must not promise a Phase 1 reaching slots it may have \
             accepted in until it has learned them",
        ),
        Flaw::None => unreachable!("Paxos itself is not a flaw"),
    };
    Entry {
        flaw,
        setting,
        consequence,
        lesson,
    }
}
