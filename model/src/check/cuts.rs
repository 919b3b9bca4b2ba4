//! The cuts of the state space: what each one is called, the switch that turns it off
//! (`--reduce`), and the words a report uses for it.
//!
//! A cut is a claim that no violation hides behind it. Each one's argument sits beside its code
//! (named below), states the fault settings it holds under, and the model that wires it in
//! turns it off (or refuses it, when asked for by name) where it does not hold:
//!
//! - `symmetry`: acceptors are interchangeable, so the search visits one state per class of
//!   states that differ by a renaming of them (`actors::canonical_fingerprint`). Single-decree
//!   and Multi-Paxos; every network and fault.
//! - `dead`: a request its acceptor will refuse, from a proposer that has moved past its ballot,
//!   is dropped (`rules::request_is_dead`, wired by `paxos::dead_request`). Single-decree and
//!   Multi-Paxos; every network and fault (the rule itself says no under `forget-on-crash`).
//! - `stale`: a message its running recipient will ignore for good is dropped
//!   (`actors::ActorSystem::collect_stale`, with each model's own test: `paxos::ignores_reply`,
//!   and `cluster::ignores` over `Replica::ignores_for_good`). Every model; every network; under
//!   crashes only what a restart (or a lost disk) does not bring back to life.
//! - `coalesce`: a second copy of a probe (or of a probe's answer) is not sent while one is in
//!   flight (`cluster::repeated_probe`). The cluster; not on an ordered network, where the copy
//!   cannot be delivered "at the later moment"; at most one lost disk in a run.
//!
//! - `hold`: a client's request stays in flight until its replica votes
//!   (`cluster::ClusterActor::on_msg`). The cluster; not on an ordered network, where a delivery
//!   that changes nothing consumes the message.
//! - `quiet`: a probing replica's timer does not fire (`cluster::ClusterActor::on_timeout`). The
//!   cluster; only on a network that loses nothing and need not keep order.
//! - `por`: the partial-order reduction: where one proposer's steps can be taken before every
//!   other step, they are, and the other interleavings are left out (`actors::ActorSystem::
//!   ample`, with the engine's cycle proviso in `engine::Run::expand_reduced`). Single-decree
//!   and Multi-Paxos; breadth-first searches; at states where no message can be lost. Not among
//!   `all`: it keeps every verdict but not every shortest counterexample, so it is asked for
//!   by name (`--reduce all,por`).
//!
//! The differential suite (`model/tests/differential.rs`) runs every model with every cut on,
//! with every cut off, and stateright's own checker on the latter, and compares them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One cut of the state space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cut {
    Symmetry,
    DeadRequests,
    StaleMessages,
    CoalescedProbes,
    HeldRequests,
    QuietProbers,
    PartialOrder,
}

impl Cut {
    /// The cuts `all` means: those that keep every verdict and every shortest counterexample.
    pub const ALL: [Cut; 6] = [
        Cut::Symmetry,
        Cut::DeadRequests,
        Cut::StaleMessages,
        Cut::CoalescedProbes,
        Cut::HeldRequests,
        Cut::QuietProbers,
    ];

    /// Every cut there is: those of `all`, then those asked for only by name.
    pub const EVERY: [Cut; 7] = {
        let mut every = [Cut::PartialOrder; 7];
        let mut index = 0;
        while index < Cut::ALL.len() {
            every[index] = Cut::ALL[index];
            index += 1;
        }
        every
    };

    /// The name in `--reduce` lists and in reports.
    pub const fn name(self) -> &'static str {
        match self {
            Cut::Symmetry => "symmetry",
            Cut::DeadRequests => "dead",
            Cut::StaleMessages => "stale",
            Cut::CoalescedProbes => "coalesce",
            Cut::HeldRequests => "hold",
            Cut::QuietProbers => "quiet",
            Cut::PartialOrder => "por",
        }
    }

    /// What the cut does, in a line.
    pub const fn description(self) -> &'static str {
        match self {
            Cut::Symmetry => "one state per class of states that differ by a renaming of acceptors",
            Cut::DeadRequests => {
                "requests an acceptor will refuse from a proposer that moved past them are dropped"
            }
            Cut::StaleMessages => "messages their recipient will ignore for good are dropped",
            Cut::CoalescedProbes => "a second copy of a probe or its answer in flight is not sent",
            Cut::HeldRequests => {
                "a client's request reaches its replica only once the replica votes"
            }
            Cut::QuietProbers => "a replica's timer does not fire while it probes",
            Cut::PartialOrder => {
                "where one proposer's steps commute with every other, only they are taken"
            }
        }
    }

    fn parse(name: &str) -> Option<Cut> {
        Cut::EVERY.into_iter().find(|cut| cut.name() == name)
    }
}

impl fmt::Display for Cut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The cuts a run may use (`--reduce`): those of `all` by default. A model uses those of them
/// it has and that hold under its settings (`CutUse`). Read from older JSON without the field
/// as every cut of `all` on, which is what those runs used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct Reductions {
    pub symmetry: bool,
    pub dead: bool,
    pub stale: bool,
    pub coalesce: bool,
    pub hold: bool,
    pub quiet: bool,
    /// The partial-order reduction: not among `all`, asked for by name.
    pub por: bool,
    /// The cuts were listed by name (`--reduce stale,dead`), not taken as "all of them but":
    /// a model refuses a listed cut it does not have, or one that does not hold in its settings.
    #[serde(skip)]
    pub listed: bool,
}

impl Default for Reductions {
    fn default() -> Self {
        Reductions::ALL
    }
}

impl Reductions {
    pub const ALL: Reductions = Reductions {
        symmetry: true,
        dead: true,
        stale: true,
        coalesce: true,
        hold: true,
        quiet: true,
        por: false,
        listed: false,
    };

    pub const NONE: Reductions = Reductions {
        symmetry: false,
        dead: false,
        stale: false,
        coalesce: false,
        hold: false,
        quiet: false,
        por: false,
        listed: false,
    };

    /// Only `cuts`, listed by name.
    pub fn only(cuts: &[Cut]) -> Reductions {
        let only = cuts.iter().fold(Reductions::NONE, |reductions, cut| {
            reductions.with(*cut, true)
        });
        Reductions {
            listed: true,
            ..only
        }
    }

    pub fn allows(&self, cut: Cut) -> bool {
        let Reductions {
            symmetry,
            dead,
            stale,
            coalesce,
            hold,
            quiet,
            por,
            listed: _,
        } = *self;
        match cut {
            Cut::Symmetry => symmetry,
            Cut::DeadRequests => dead,
            Cut::StaleMessages => stale,
            Cut::CoalescedProbes => coalesce,
            Cut::HeldRequests => hold,
            Cut::QuietProbers => quiet,
            Cut::PartialOrder => por,
        }
    }

    /// The same with `cut` switched `on` or off.
    pub fn with(mut self, cut: Cut, on: bool) -> Reductions {
        let switch = match cut {
            Cut::Symmetry => &mut self.symmetry,
            Cut::DeadRequests => &mut self.dead,
            Cut::StaleMessages => &mut self.stale,
            Cut::CoalescedProbes => &mut self.coalesce,
            Cut::HeldRequests => &mut self.hold,
            Cut::QuietProbers => &mut self.quiet,
            Cut::PartialOrder => &mut self.por,
        };
        *switch = on;
        self
    }

    /// `all`, `none`, or a comma list of cut names, in which `all` stands for its cuts (so
    /// `all,por` is every cut of `all` and the partial-order reduction).
    pub fn parse(text: &str) -> Result<Reductions, String> {
        match text.trim() {
            "all" => return Ok(Reductions::ALL),
            "none" => return Ok(Reductions::NONE),
            _ => {}
        }
        let mut cuts = Vec::new();
        let mut with_all = false;
        for name in text.split(',').map(str::trim) {
            if name == "all" {
                with_all = true;
                cuts.extend(Cut::ALL);
                continue;
            }
            let cut = Cut::parse(name).ok_or_else(|| {
                format!(
                    "'{name}' is no cut; give all, none, or a comma list of {} (all may be \
                     one of the list: all,por)",
                    Cut::EVERY.map(Cut::name).join(", ")
                )
            })?;
            cuts.push(cut);
        }
        let only = Reductions::only(&cuts);
        // Every cut of `all` is one the model has where it holds: `all,por` names only `por`.
        Ok(if with_all {
            Reductions {
                listed: false,
                ..only
            }
        } else {
            only
        })
    }

    /// Every cut of `all` (a model uses those it has and that hold).
    pub fn is_all(&self) -> bool {
        Cut::ALL.into_iter().all(|cut| self.allows(cut))
    }

    /// How `--reduce` spells these: `all`, `none`, or the list (`all,por` for `all` and more).
    pub fn spelled(&self) -> String {
        if self.is_all() {
            return if self.por {
                "all,por".into()
            } else {
                "all".into()
            };
        }
        let names: Vec<&str> = Cut::EVERY
            .into_iter()
            .filter(|cut| self.allows(*cut))
            .map(Cut::name)
            .collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(",")
        }
    }

    /// Whether `cut` was asked for by name (not just as one of all the cuts). `por`, never
    /// one of `all`, is named whenever it is on.
    pub fn names(&self, cut: Cut) -> bool {
        (self.listed || cut == Cut::PartialOrder) && self.allows(cut)
    }
}

/// Whether a run uses one of its model's cuts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CutUse {
    On,
    /// Switched off (`--reduce`).
    Off,
    /// Asked for (by `all`) but off: it does not hold under these settings, for this reason.
    Unsound(&'static str),
}

impl CutUse {
    pub fn is_on(self) -> bool {
        self == CutUse::On
    }
}

/// The cuts of a model and whether a run uses each, as a report says it: `symmetry, dead,
/// stale` or `none`, and a note per cut that does not hold here.
pub fn cuts_words(cuts: &[(Cut, CutUse)]) -> (String, Vec<String>) {
    let on: Vec<&str> = cuts
        .iter()
        .filter(|(_, used)| used.is_on())
        .map(|(cut, _)| cut.name())
        .collect();
    let on = if on.is_empty() {
        "none".to_owned()
    } else {
        on.join(", ")
    };
    let notes = cuts
        .iter()
        .filter_map(|(cut, used)| match used {
            CutUse::Unsound(why) => Some(format!("{cut} is off: {why}")),
            _ => None,
        })
        .collect();
    (on, notes)
}

/// The use of `cut` that `reductions` asks for, where the cut holds only when `holds` is `Ok`:
/// off where it does not hold (with the reason), or an error if it was asked for by name.
pub fn use_of(
    reductions: &Reductions,
    cut: Cut,
    holds: Result<(), &'static str>,
) -> Result<CutUse, String> {
    match (reductions.allows(cut), holds) {
        (false, _) => Ok(CutUse::Off),
        (true, Ok(())) => Ok(CutUse::On),
        (true, Err(why)) if reductions.names(cut) => {
            Err(format!("names {cut}, which does not hold here: {why}"))
        }
        (true, Err(why)) => Ok(CutUse::Unsound(why)),
    }
}

/// An error if `reductions` names a cut the model does not have.
pub fn only_cuts_of(reductions: &Reductions, model: &str, cuts: &[Cut]) -> Result<(), String> {
    for cut in Cut::EVERY {
        if reductions.names(cut) && !cuts.contains(&cut) {
            let own: Vec<&str> = cuts.iter().map(|cut| cut.name()).collect();
            return Err(format!(
                "names {cut}, which the {model} model does not have (its cuts: {})",
                own.join(", ")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduce_lists_parse_and_spell_back() {
        assert_eq!(Reductions::parse("all"), Ok(Reductions::ALL));
        assert_eq!(Reductions::parse("none"), Ok(Reductions::NONE));
        assert!(Reductions::parse("symmetry,dead,stale,coalesce,hold,quiet")
            .expect("every cut")
            .is_all());
        let two = Reductions::parse("stale, symmetry").expect("two cuts");
        assert!(two.allows(Cut::Symmetry) && two.allows(Cut::StaleMessages));
        assert!(!two.allows(Cut::DeadRequests) && !two.allows(Cut::CoalescedProbes));
        assert_eq!(two.spelled(), "symmetry,stale");
        assert_eq!(Reductions::ALL.spelled(), "all");
        assert_eq!(Reductions::NONE.spelled(), "none");
        let with_por = Reductions::parse("all,por").expect("all and por");
        assert!(with_por.is_all() && with_por.por && !Reductions::ALL.por);
        assert_eq!(with_por.spelled(), "all,por");
        assert!(
            with_por.names(Cut::PartialOrder) && !with_por.names(Cut::Symmetry),
            "all,por names por only"
        );
        assert_eq!(
            Reductions::parse("stale,por").expect("two cuts").spelled(),
            "stale,por"
        );
        let error = Reductions::parse("symmetry,ignores").unwrap_err();
        assert!(error.contains("'ignores' is no cut"), "{error}");
        assert!(
            error.contains("symmetry, dead, stale, coalesce, hold, quiet"),
            "{error}"
        );
    }

    #[test]
    fn a_cut_that_does_not_hold_is_off_unless_named_which_is_an_error() {
        let ordered = Err("the network keeps order");
        assert_eq!(
            use_of(&Reductions::ALL, Cut::CoalescedProbes, ordered),
            Ok(CutUse::Unsound("the network keeps order"))
        );
        let named = Reductions::only(&[Cut::CoalescedProbes]);
        assert!(use_of(&named, Cut::CoalescedProbes, ordered)
            .unwrap_err()
            .contains("does not hold here"));
        assert_eq!(
            use_of(&Reductions::NONE, Cut::CoalescedProbes, ordered),
            Ok(CutUse::Off)
        );
        assert!(only_cuts_of(&named, "single", &[Cut::Symmetry])
            .unwrap_err()
            .contains("the single model does not have"));
        assert_eq!(
            only_cuts_of(&Reductions::ALL, "single", &[Cut::Symmetry]),
            Ok(())
        );
        // All but one is not a list: the cuts the model lacks are not asked for by name.
        let all_but_symmetry = Reductions::ALL.with(Cut::Symmetry, false);
        assert_eq!(
            only_cuts_of(&all_but_symmetry, "cluster", &[Cut::StaleMessages]),
            Ok(())
        );
    }
}
