//! The course's safety exercises (task 7-3-3), answered by running the real roles.
//!
//! `run_safety_scenario` replays Lamport's argument as an experiment: a value is chosen at one
//! ballot, then a new proposer runs Phase 1 and Phase 2 at a later ballot against *every*
//! possible quorum, using the same acceptor and proposer code as the node and the model.
//! `check_invariant` judges a list of proposals against the definition of "chosen".

use crate::protocol::acceptor::Acceptor;
use crate::protocol::ballot::{majority, quorum_size, AcceptorIndex, Ballot, Proposal};
use crate::protocol::flaw::{Flaw, FlawScope};
use crate::protocol::message::Message;
use crate::protocol::proposer::{Proposer, ProposerConfig, ProposerInput, ProposerStep};
use crate::protocol::rules::ValueSource;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::hash::Hash;

/// The largest cluster the safety scenario enumerates: C(15, 8) = 6,435 quorums, each a handful
/// of steps. The count grows exponentially, so larger requests are refused, not attempted.
pub const SAFETY_SCENARIO_NODES_MAX: usize = 15;

/// The experiment: `chosen_value` is chosen at `chosen_at` by the first majority of `nodes`
/// acceptors (n1, n2, ...); then a new proposer, whose own value is `new_proposer_value`, runs
/// Phase 1 and Phase 2 at `new_ballot`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SafetyScenario<V> {
    pub nodes: usize,
    pub chosen_value: V,
    pub chosen_at: Ballot,
    pub new_ballot: Ballot,
    pub new_proposer_value: V,
    pub flaw: Flaw,
}

/// How the new proposer fared with one quorum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NewProposalOutcome<V> {
    /// An acceptor of the quorum refused the prepare (it promised at least `new_ballot`), so
    /// Phase 1 failed and nothing was proposed.
    Refused { by: AcceptorIndex },
    /// Phase 1 succeeded; the proposer sent `proposal`, whose value came from `source`, and the
    /// quorum accepted it.
    Proposed {
        proposal: Proposal<V>,
        source: ValueSource,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuorumRun<V> {
    pub quorum: Vec<AcceptorIndex>,
    pub outcome: NewProposalOutcome<V>,
}

impl<V: PartialEq> QuorumRun<V> {
    /// Immutability for this run: anything proposed above the chosen ballot carries the chosen value.
    pub fn keeps(&self, chosen_value: &V) -> bool {
        match &self.outcome {
            NewProposalOutcome::Refused { .. } => true,
            NewProposalOutcome::Proposed { proposal, .. } => proposal.value == *chosen_value,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SafetyReport<V> {
    /// The run the course reports. Scenario rule: the first leader, n1, is down by the time the
    /// new proposer runs Phase 1, so this is the first quorum (in the order n1 < n2 < ...) that
    /// excludes n1, or the first quorum when every quorum needs n1 (one or two nodes).
    pub reported: QuorumRun<V>,
    pub quorums_tried: usize,
    /// The first quorum whose run proposed a value other than the chosen one, if any.
    pub first_unsafe: Option<QuorumRun<V>>,
}

impl<V> SafetyReport<V> {
    pub fn safe(&self) -> bool {
        self.first_unsafe.is_none()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScenarioError {
    NoNodes,
    TooManyNodes {
        nodes: usize,
    },
    /// A Multi-Paxos flaw bends no rule this single-decree experiment runs: accepting it would
    /// report "safe" for a flaw that was never exercised.
    FlawOutsideScenario {
        flaw: Flaw,
    },
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::NoNodes => write!(f, "nodes must be at least 1"),
            ScenarioError::TooManyNodes { nodes } => write!(
                f,
                "nodes must be at most {SAFETY_SCENARIO_NODES_MAX} (got {nodes}): every quorum is simulated"
            ),
            ScenarioError::FlawOutsideScenario { flaw } => {
                let model = match flaw.scope() {
                    FlawScope::Replica => "the lin-kv replica",
                    _ => "Multi-Paxos",
                };
                write!(
                    f,
                    "flaw {flaw} bends {model} only; the safety test runs single-decree Paxos"
                )
            }
        }
    }
}

impl std::error::Error for ScenarioError {}

pub fn run_safety_scenario<V: Clone + PartialEq>(
    scenario: &SafetyScenario<V>,
) -> Result<SafetyReport<V>, ScenarioError> {
    let nodes = scenario.nodes;
    if nodes == 0 {
        return Err(ScenarioError::NoNodes);
    }
    if nodes > SAFETY_SCENARIO_NODES_MAX {
        return Err(ScenarioError::TooManyNodes { nodes });
    }
    if scenario.flaw.scope() != FlawScope::SingleDecree {
        return Err(ScenarioError::FlawOutsideScenario {
            flaw: scenario.flaw,
        });
    }
    let quorum = quorum_size(nodes, scenario.flaw);
    let mut reported = None;
    let mut first_unsafe = None;
    let mut quorums_tried = 0;
    for members in combinations(nodes, quorum) {
        quorums_tried += 1;
        let run = run_with_quorum(scenario, members);
        if first_unsafe.is_none() && !run.keeps(&scenario.chosen_value) {
            first_unsafe = Some(run.clone());
        }
        let n1_is_down_here = !run.quorum.contains(&0);
        if reported.is_none() && (n1_is_down_here || quorum == nodes) {
            reported = Some(run);
        }
    }
    let reported = reported.expect("some quorum excludes n1 unless the quorum is everyone");
    Ok(SafetyReport {
        reported,
        quorums_tried,
        first_unsafe,
    })
}

/// One experiment: choose the value with the first majority, then let the new proposer talk to
/// `quorum` only.
fn run_with_quorum<V: Clone + PartialEq>(
    scenario: &SafetyScenario<V>,
    quorum: Vec<AcceptorIndex>,
) -> QuorumRun<V> {
    let nodes = scenario.nodes;
    let mut acceptors = vec![Acceptor::new(); nodes];
    let first_majority: Vec<AcceptorIndex> = (0..majority(nodes)).collect();
    // The chosen value is set up by correct Paxos: the flaw under study is the new proposer's.
    let (chosen, decided) = run_ballot(
        &proposer_config(0, nodes, Flaw::None),
        scenario.chosen_at,
        scenario.chosen_value.clone(),
        &mut acceptors,
        &first_majority,
    );
    let NewProposalOutcome::Proposed { proposal, .. } = chosen else {
        unreachable!("fresh acceptors promise any first ballot");
    };
    assert!(
        proposal.value == scenario.chosen_value && decided,
        "the setup must choose the value"
    );
    let (outcome, _) = run_ballot(
        &proposer_config(1, nodes, scenario.flaw),
        scenario.new_ballot,
        scenario.new_proposer_value.clone(),
        &mut acceptors,
        &quorum,
    );
    QuorumRun { quorum, outcome }
}

fn proposer_config(index: u32, acceptor_count: usize, flaw: Flaw) -> ProposerConfig {
    ProposerConfig {
        index,
        acceptor_count,
        rounds_max: 1,
        round_cap: u64::MAX,
        flaw,
        defer_to_rival: false,
    }
}

/// Phase 1 and Phase 2 of one ballot of a fresh proposer asked for `value` in the one slot,
/// against `quorum`, every message delivered in order; whether the proposer learned its value.
fn run_ballot<V: Clone + PartialEq>(
    config: &ProposerConfig,
    ballot: Ballot,
    value: V,
    acceptors: &mut [Acceptor<V>],
    quorum: &[AcceptorIndex],
) -> (NewProposalOutcome<V>, bool) {
    let mut proposer = Proposer::new();
    let mut requests = proposer.campaign_at(config, ballot);
    requests.outgoing.extend(
        proposer
            .step(config, ProposerInput::Propose { slot: 0, value })
            .outgoing,
    );
    let mut decision = None;
    // Phase 1, then Phase 2: each round of requests goes to the quorum, in its order.
    while !requests.outgoing.is_empty() {
        let mut next = ProposerStep::default();
        for outgoing in std::mem::take(&mut requests.outgoing) {
            for &index in quorum.iter().filter(|index| outgoing.to.includes(**index)) {
                let step = acceptors[index]
                    .step(outgoing.message.clone(), config.flaw)
                    .expect("a proposer sends requests");
                if matches!(
                    step.reply,
                    Message::PrepareRefused { .. } | Message::AcceptRefused { .. }
                ) {
                    return (NewProposalOutcome::Refused { by: index }, false);
                }
                let reply = ProposerInput::Reply {
                    from: index,
                    message: step.reply,
                };
                let step = proposer.step(config, reply);
                decision = decision.or(step.decided.into_iter().next());
                next.outgoing.extend(step.outgoing);
            }
        }
        requests = next;
    }
    let decision = decision.expect("a whole quorum promised and accepted");
    let outcome = NewProposalOutcome::Proposed {
        proposal: decision.proposal,
        source: decision.source,
    };
    (outcome, true)
}

/// Every `size`-subset of `0..count`, in lexicographic order.
fn combinations(count: usize, size: usize) -> impl Iterator<Item = Vec<usize>> {
    assert!(size >= 1 && size <= count);
    let mut next = Some((0..size).collect::<Vec<usize>>());
    std::iter::from_fn(move || {
        let current = next.take()?;
        let mut following = current.clone();
        // Advance the rightmost position that still has room, then reset everything after it.
        if let Some(position) = (0..size).rev().find(|&i| following[i] < count - size + i) {
            following[position] += 1;
            for i in position + 1..size {
                following[i] = following[i - 1] + 1;
            }
            next = Some(following);
        }
        Some(current)
    })
}

/// One line of a `paxos_invariant_check` request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProposalRecord<V, A> {
    pub ballot: Ballot,
    pub value: V,
    pub accepted_by: BTreeSet<A>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvariantReport<V> {
    /// The lowest-ballot proposal accepted by a majority, if any.
    pub chosen: Option<Proposal<V>>,
    /// Every proposal above the chosen ballot carries the chosen value (vacuously true when
    /// nothing is chosen).
    pub all_subsequent_match: bool,
    /// Ballots that carry two different values: a ballot is one proposer's single proposal.
    pub conflicting_ballots: Vec<Ballot>,
}

impl<V> InvariantReport<V> {
    pub fn safe(&self) -> bool {
        self.all_subsequent_match && self.conflicting_ballots.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvariantError {
    NoNodes,
    FewerNodesThanNamed { nodes: usize, named: usize },
}

impl fmt::Display for InvariantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvariantError::NoNodes => write!(f, "nodes must be at least 1"),
            InvariantError::FewerNodesThanNamed { nodes, named } => {
                write!(
                    f,
                    "nodes is {nodes}, but the proposals name {named} distinct acceptors"
                )
            }
        }
    }
}

impl std::error::Error for InvariantError {}

/// Judges `proposals` against Lamport's definition: a value is chosen when a majority of the
/// acceptors accepted one proposal; once (b, v) is chosen, every proposal above b must carry v.
/// The acceptors are those named in the proposals, or `nodes` of them when given.
///
/// Near-linear in the size of the request: records are merged through a hash index on
/// (ballot, value), not by searching the records merged so far, which made a long history
/// quadratic (200,000 proposals took minutes).
pub fn check_invariant<V: Clone + Eq + Hash, A: Ord + Clone>(
    proposals: &[ProposalRecord<V, A>],
    nodes: Option<usize>,
) -> Result<InvariantReport<V>, InvariantError> {
    let named: BTreeSet<&A> = proposals
        .iter()
        .flat_map(|p| p.accepted_by.iter())
        .collect();
    let acceptor_count = match nodes {
        Some(0) => return Err(InvariantError::NoNodes),
        Some(nodes) if nodes < named.len() => {
            return Err(InvariantError::FewerNodesThanNamed {
                nodes,
                named: named.len(),
            })
        }
        Some(nodes) => nodes,
        None => named.len(),
    };

    // One proposal per (ballot, value), in the order each first appears: records that repeat
    // one merge their acceptors.
    let mut merged: Vec<ProposalRecord<V, A>> = Vec::new();
    let mut merged_index: HashMap<(Ballot, &V), usize> = HashMap::new();
    let mut ballots_seen: HashSet<Ballot> = HashSet::new();
    let mut conflicting_ballots = BTreeSet::new();
    for record in proposals {
        if let Some(&same) = merged_index.get(&(record.ballot, &record.value)) {
            merged[same]
                .accepted_by
                .extend(record.accepted_by.iter().cloned());
            continue;
        }
        if !ballots_seen.insert(record.ballot) {
            conflicting_ballots.insert(record.ballot);
        }
        merged_index.insert((record.ballot, &record.value), merged.len());
        merged.push(record.clone());
    }

    // The first of the lowest-ballot majorities, as the records list them.
    let chosen = merged
        .iter()
        .filter(|record| acceptor_count > 0 && record.accepted_by.len() >= majority(acceptor_count))
        .min_by_key(|record| record.ballot)
        .map(|record| Proposal::new(record.ballot, record.value.clone()));
    let all_subsequent_match = match &chosen {
        None => true,
        Some(chosen) => merged
            .iter()
            .filter(|record| record.ballot > chosen.ballot)
            .all(|record| record.value == chosen.value),
    };
    Ok(InvariantReport {
        chosen,
        all_subsequent_match,
        conflicting_ballots: conflicting_ballots.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(nodes: usize, chosen_at: u64, new_n: u64) -> SafetyScenario<&'static str> {
        SafetyScenario {
            nodes,
            chosen_value: "v1",
            chosen_at: Ballot::from_course_number(chosen_at),
            new_ballot: Ballot::from_course_number(new_n),
            new_proposer_value: "mine",
            flaw: Flaw::None,
        }
    }

    fn reported_value_and_source(
        report: &SafetyReport<&'static str>,
    ) -> (Option<&'static str>, Option<AcceptorIndex>) {
        match &report.reported.outcome {
            NewProposalOutcome::Refused { .. } => (None, None),
            NewProposalOutcome::Proposed { proposal, source } => (
                Some(proposal.value),
                match source {
                    ValueSource::Own => None,
                    ValueSource::Promise { acceptor, .. } => Some(*acceptor),
                },
            ),
        }
    }

    #[test]
    fn course_sample_is_forced_by_n2() {
        // 5 nodes, v1 chosen at 3 by {n1, n2, n3}; n1 is down, so the reported quorum is
        // {n2, n3, n4}, and n2 is the first to report v1.
        let report = run_safety_scenario(&scenario(5, 3, 7)).unwrap();
        assert_eq!(report.reported.quorum, [1, 2, 3]);
        assert_eq!(reported_value_and_source(&report), (Some("v1"), Some(1)));
        assert_eq!(report.quorums_tried, 10, "C(5, 3)");
        assert!(report.safe());
    }

    #[test]
    fn every_cluster_size_is_safe_and_reports_a_source() {
        // (nodes, reported quorum, source): n1 is excluded when a quorum can do without it.
        let table: [(usize, &[usize], usize, usize); 5] = [
            (1, &[0], 0, 1),
            (2, &[0, 1], 0, 1),
            (3, &[1, 2], 1, 3),
            (5, &[1, 2, 3], 1, 10),
            (7, &[1, 2, 3, 4], 1, 35),
        ];
        for (nodes, quorum, source, tried) in table {
            let report = run_safety_scenario(&scenario(nodes, 3, 7)).unwrap();
            assert_eq!(report.reported.quorum, quorum, "{nodes} nodes");
            assert_eq!(
                reported_value_and_source(&report),
                (Some("v1"), Some(source)),
                "{nodes} nodes"
            );
            assert_eq!(report.quorums_tried, tried, "{nodes} nodes");
            assert!(report.safe(), "{nodes} nodes");
        }
    }

    #[test]
    fn a_ballot_not_above_the_chosen_one_cannot_even_prepare() {
        for new_n in [3, 2] {
            let report = run_safety_scenario(&scenario(5, 3, new_n)).unwrap();
            assert_eq!(
                report.reported.outcome,
                NewProposalOutcome::Refused { by: 1 },
                "new_n {new_n}"
            );
            assert!(report.safe());
        }
    }

    #[test]
    fn cluster_size_is_bounded() {
        assert_eq!(
            run_safety_scenario(&scenario(0, 3, 7)),
            Err(ScenarioError::NoNodes)
        );
        assert!(run_safety_scenario(&scenario(15, 3, 7)).unwrap().safe());
        assert_eq!(
            run_safety_scenario(&scenario(16, 3, 7)),
            Err(ScenarioError::TooManyNodes { nodes: 16 })
        );
    }

    #[test]
    fn flawed_proposer_is_caught_by_some_quorum() {
        for flaw in [
            Flaw::ProposerIgnoresPromises,
            Flaw::PromiseHidesAccepted,
            Flaw::MinorityQuorum,
        ] {
            let report = run_safety_scenario(&SafetyScenario {
                flaw,
                ..scenario(5, 3, 7)
            })
            .unwrap();
            assert!(!report.safe(), "{flaw} must be caught");
        }
        // With minority quorums of 2, the first quorum without any holder of v1 is {n4, n5}.
        let report = run_safety_scenario(&SafetyScenario {
            flaw: Flaw::MinorityQuorum,
            ..scenario(5, 3, 7)
        })
        .unwrap();
        assert_eq!(report.first_unsafe.unwrap().quorum, [3, 4]);
    }

    #[test]
    fn multi_paxos_flaws_are_refused_not_silently_ignored() {
        let scenario = SafetyScenario {
            flaw: Flaw::SkipPhase1AfterPreemption,
            ..scenario(5, 3, 7)
        };
        assert_eq!(
            run_safety_scenario(&scenario),
            Err(ScenarioError::FlawOutsideScenario {
                flaw: Flaw::SkipPhase1AfterPreemption
            })
        );
    }

    #[test]
    fn combinations_are_lexicographic_and_complete() {
        let all: Vec<Vec<usize>> = combinations(4, 2).collect();
        assert_eq!(
            all,
            [
                vec![0, 1],
                vec![0, 2],
                vec![0, 3],
                vec![1, 2],
                vec![1, 3],
                vec![2, 3]
            ]
        );
        assert_eq!(combinations(15, 8).count(), 6435);
        assert_eq!(combinations(3, 3).count(), 1);
    }

    fn record(
        n: u64,
        value: &'static str,
        accepted_by: &[&'static str],
    ) -> ProposalRecord<&'static str, &'static str> {
        ProposalRecord {
            ballot: Ballot::from_course_number(n),
            value,
            accepted_by: accepted_by.iter().copied().collect(),
        }
    }

    #[test]
    fn course_invariant_sample_chooses_b_at_3() {
        let proposals = [
            record(1, "a", &["n1", "n2"]),
            record(3, "b", &["n2", "n3", "n4"]),
            record(5, "b", &["n3", "n4", "n5"]),
        ];
        let report = check_invariant(&proposals, None).unwrap();
        assert_eq!(
            report.chosen,
            Some(Proposal::new(Ballot::from_course_number(3), "b"))
        );
        assert!(report.all_subsequent_match && report.safe());
    }

    #[test]
    fn a_later_different_value_is_a_violation() {
        let proposals = [record(3, "b", &["n1", "n2"]), record(5, "c", &["n3"])];
        let report = check_invariant(&proposals, Some(3)).unwrap();
        assert!(!report.all_subsequent_match && !report.safe());
    }

    #[test]
    fn nothing_chosen_is_safe_with_no_chosen_value() {
        let proposals = [record(1, "a", &["n1"]), record(2, "b", &["n2"])];
        let report = check_invariant(&proposals, Some(5)).unwrap();
        assert_eq!(report.chosen, None);
        assert!(report.safe());
        assert!(check_invariant::<&str, &str>(&[], None).unwrap().safe());
    }

    #[test]
    fn one_ballot_with_two_values_is_a_violation() {
        let proposals = [record(2, "a", &["n1"]), record(2, "b", &["n2"])];
        let report = check_invariant(&proposals, Some(3)).unwrap();
        assert_eq!(report.conflicting_ballots, [Ballot::from_course_number(2)]);
        assert!(!report.safe());
    }

    #[test]
    fn repeated_proposals_merge_their_acceptors() {
        let proposals = [record(2, "a", &["n1"]), record(2, "a", &["n2"])];
        let report = check_invariant(&proposals, Some(3)).unwrap();
        assert_eq!(
            report.chosen,
            Some(Proposal::new(Ballot::from_course_number(2), "a"))
        );
    }

    #[test]
    fn explicit_node_count_changes_the_majority_and_is_validated() {
        let proposals = [record(1, "a", &["n1", "n2"])];
        assert!(
            check_invariant(&proposals, None).unwrap().chosen.is_some(),
            "2 of 2 named"
        );
        assert!(
            check_invariant(&proposals, Some(5))
                .unwrap()
                .chosen
                .is_none(),
            "2 of 5"
        );
        assert_eq!(
            check_invariant(&proposals, Some(1)),
            Err(InvariantError::FewerNodesThanNamed { nodes: 1, named: 2 })
        );
        assert_eq!(
            check_invariant(&proposals, Some(0)),
            Err(InvariantError::NoNodes)
        );
    }

    #[test]
    fn a_long_history_is_judged_in_near_linear_time() {
        // 200,000 distinct proposals took minutes when each record searched those before it.
        let count = 200_000u64;
        let proposals: Vec<ProposalRecord<u64, u32>> = (0..count)
            .map(|n| ProposalRecord {
                ballot: Ballot::from_course_number(n),
                value: n % 1_000,
                accepted_by: [(n % 5) as u32, ((n + 1) % 5) as u32, ((n + 2) % 5) as u32]
                    .into_iter()
                    .collect(),
            })
            .collect();
        let started = std::time::Instant::now();
        let report = check_invariant(&proposals, None).unwrap();
        let elapsed = started.elapsed();
        assert_eq!(
            report.chosen,
            Some(Proposal::new(Ballot::from_course_number(0), 0))
        );
        assert!(!report.all_subsequent_match);
        assert!(
            elapsed < std::time::Duration::from_secs(10),
            "{count} proposals took {elapsed:?}"
        );
    }

    #[test]
    fn the_first_listed_of_two_lowest_majorities_is_chosen() {
        // Ballot 4 carries two values, each accepted by a majority of the 3 acceptors named
        // in total: the record listed first wins, and the conflict makes the history unsafe.
        let proposals = [record(4, "b", &["n1", "n2"]), record(4, "a", &["n2", "n3"])];
        let report = check_invariant(&proposals, None).unwrap();
        assert_eq!(
            report.chosen,
            Some(Proposal::new(Ballot::from_course_number(4), "b"))
        );
        assert!(!report.safe());
    }
}
