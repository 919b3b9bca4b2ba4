//! Runs told for people: a path as a trace of fields (who sent what to whom, at which ballot),
//! a state in the protocol's words, and a counterexample as a short story — when a value was
//! chosen and by which majority, the step that broke the property and what it broke, where the
//! offending value came from (the promises its proposer heard), and the rule of the flaw
//! catalogue that the flaw bends.
//!
//! Everything here is worked out from the path alone, through the model's `Presentation`: the
//! kind, ballot and value of each message (`fields`), and the model's narration of what a step
//! decided (`ActorSystem::notes`). Acceptances are the steps that deliver an Accept and change the
//! ghost history, so the story keeps its own record of them, by Lamport's definition of chosen,
//! and can say which acceptance conflicts with which choice.

use crate::check::actors::{ActorSystem, Packet, SystemAction, SystemPath, SystemState};
use crate::check::catalogue;
use crate::check::settings::{MessageFields, Presentation};
use crate::protocol::ballot::{majority, Ballot, Proposal};
use crate::protocol::chosen::ChosenTracker;
use crate::protocol::flaw::Flaw;
use crate::protocol::slots::Slot;
use serde::Serialize;
use stateright::actor::{Actor, Id};
use stateright::{Expectation, Model};
use std::collections::{HashMap, VecDeque};
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;

/// One step of a path, as a tool (`--format json`) or a story reads it. `from` and `to` are the
/// sender and recipient of a delivered or lost message; a timeout, crash or recovery has only
/// `to`, the actor it happens to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceStep {
    /// 1 for the first action, as in the text report.
    pub step: usize,
    /// `deliver`, `lose`, `timeout`, `crash` or `recover`.
    pub action: &'static str,
    pub from: Option<String>,
    pub to: Option<String>,
    /// The message's kind (`Prepare`, ...), or the action for a step without a message.
    pub kind: String,
    pub ballot: Option<String>,
    pub value: Option<String>,
    pub slot: Option<Slot>,
    /// The step as the text report prints it.
    pub text: String,
    /// The step that sent the message (0: sent before the first step), if it carries one.
    pub sent_at: Option<usize>,
    /// What the step decided, in words ("A chosen at 1.p1 by a1, a2").
    pub notes: Vec<String>,
}

impl TraceStep {
    /// A step known only by its text.
    pub fn plain(step: usize, text: String) -> Self {
        TraceStep {
            step,
            action: "step",
            from: None,
            to: None,
            kind: String::new(),
            ballot: None,
            value: None,
            slot: None,
            text,
            sent_at: None,
            notes: Vec::new(),
        }
    }
}

/// For each step of `path` that delivers or loses a message, the step that sent it (0: before
/// the first step); `None` for the other steps. Messages are matched to their sending in order:
/// the first copy sent is the first taken.
pub fn sending_steps<A, H>(path: &SystemPath<A, H>) -> Vec<Option<usize>>
where
    A: Actor,
    A::Msg: Ord,
    H: Clone,
{
    let steps = path.clone().into_vec();
    let mut sent: HashMap<&Packet<A::Msg>, VecDeque<usize>> = HashMap::new();
    if let Some((first, _)) = steps.first() {
        for packet in &first.network {
            sent.entry(packet).or_default().push_back(0);
        }
    }
    let mut sending = Vec::with_capacity(steps.len().saturating_sub(1));
    for (index, window) in steps.windows(2).enumerate() {
        let ((before, action), (after, _)) = (&window[0], &window[1]);
        let step = index + 1;
        let taken = match action {
            Some(SystemAction::Deliver(packet) | SystemAction::Lose(packet)) => Some(packet),
            _ => None,
        };
        sending.push(taken.map(|packet| {
            sent.get_mut(packet)
                .and_then(|times| times.pop_front())
                .unwrap_or(0)
        }));
        // What this step sent: the packets in flight after it that were not before it.
        let mut before_counts: HashMap<&Packet<A::Msg>, usize> = HashMap::new();
        for packet in &before.network {
            *before_counts.entry(packet).or_default() += 1;
        }
        if let Some(count) = taken.and_then(|packet| before_counts.get_mut(packet)) {
            *count = count.saturating_sub(1);
        }
        for packet in &after.network {
            match before_counts.get_mut(packet) {
                Some(count) if *count > 0 => *count -= 1,
                _ => sent.entry(packet).or_default().push_back(step),
            }
        }
    }
    sending
}

impl<A, C, H> ActorSystem<A, C, H>
where
    A: Actor,
    A::Msg: Ord + Debug,
    A::Timer: Ord,
    H: Clone + Debug + Hash + Eq,
    C: Presentation<A::Msg>,
{
    fn name_of(&self, index: u8) -> String {
        self.cfg.actor_name(Id::from(usize::from(index)))
    }

    /// `path` as a list of steps with their fields.
    pub fn trace_of(&self, path: &SystemPath<A, H>) -> Vec<TraceStep> {
        let (owner, _) = self.cfg.ballot_owner();
        let sending = sending_steps(path);
        let steps = path.clone().into_vec();
        steps
            .windows(2)
            .enumerate()
            .filter_map(|(index, window)| {
                let ((before, action), (after, _)) = (&window[0], &window[1]);
                let action = action.as_ref()?;
                let mut step = TraceStep::plain(index + 1, self.format_step_label(action));
                step.notes = self.notes(before, after);
                step.sent_at = sending[index];
                match action {
                    SystemAction::Deliver(packet) | SystemAction::Lose(packet) => {
                        step.action = if matches!(action, SystemAction::Lose(_)) {
                            "lose"
                        } else {
                            "deliver"
                        };
                        step.from = Some(self.name_of(packet.src));
                        step.to = Some(self.name_of(packet.dst));
                        match self.cfg.fields(&packet.msg) {
                            Some(fields) => {
                                step.kind = fields.kind.to_owned();
                                step.ballot = fields.ballot.map(|ballot| ballot.named(owner));
                                step.value = fields.value;
                                step.slot = fields.slot;
                            }
                            None => step.kind = self.cfg.describe(&packet.msg),
                        }
                    }
                    SystemAction::Timeout(actor, _) => {
                        step.action = "timeout";
                        step.kind = "timeout".into();
                        step.to = Some(self.name_of(*actor));
                    }
                    SystemAction::Crash(actor) => {
                        step.action = "crash";
                        step.kind = "crash".into();
                        step.to = Some(self.name_of(*actor));
                    }
                    SystemAction::CrashLosingDisk(actor) => {
                        step.action = "crash";
                        step.kind = "crash, disk lost".into();
                        step.to = Some(self.name_of(*actor));
                    }
                    SystemAction::Recover(actor) => {
                        step.action = "recover";
                        step.kind = "recover".into();
                        step.to = Some(self.name_of(*actor));
                    }
                }
                Some(step)
            })
            .collect()
    }

    /// `state` in the protocol's words: one line per actor (`a2: promised 2.p1, accepted (1.p2,
    /// B)`), then the messages in flight, the timers set, the losses so far and what is chosen.
    pub fn describe(&self, state: &SystemState<A, H>) -> Vec<String> {
        let mut lines = Vec::new();
        for (index, actor_state) in state.actors.iter().enumerate() {
            let name = self.cfg.actor_name(Id::from(index));
            // The alternate form names slots (see `PaxosState`'s `Debug`).
            let words = if self.cfg.names_slots() {
                format!("{:#?}", &***actor_state)
            } else {
                format!("{:?}", &***actor_state)
            };
            if state.is_crashed(index) {
                lines.push(format!(
                    "{name}: CRASHED (recovers with what it persisted); was {words}"
                ));
            } else {
                lines.push(format!("{name}: {words}"));
            }
        }
        if state.network.is_empty() {
            lines.push("in flight: nothing".into());
        } else {
            lines.push(format!("in flight ({}):", state.network.len()));
            for packet in &state.network {
                lines.push(format!(
                    "  {} -> {}  {}",
                    self.name_of(packet.src),
                    self.name_of(packet.dst),
                    self.cfg.describe(&packet.msg)
                ));
            }
        }
        if !state.timers.is_empty() {
            let timers: Vec<String> = state
                .timers
                .iter()
                .map(|(actor, timer)| format!("{} {timer:?}", self.name_of(*actor)))
                .collect();
            lines.push(format!("timers set: {}", timers.join(", ")));
        }
        if self.faults.losses > 0 {
            lines.push(format!(
                "messages lost so far: {} of at most {}",
                state.lost, self.faults.losses
            ));
        }
        let chosen = self
            .init_states()
            .first()
            .map(|init| self.notes(init, state))
            .unwrap_or_default();
        if chosen.is_empty() {
            lines.push("chosen: nothing yet".into());
        } else {
            lines.push(format!("chosen: {}", chosen.join("; ")));
        }
        lines
    }

    /// `path`, which discovered `property_name`, told as a story; `flaw` is the deviation the
    /// model runs, if any.
    pub fn story_of(&self, path: &SystemPath<A, H>, property_name: &str, flaw: Flaw) -> Vec<String>
    where
        A::Msg: Hash + Clone,
    {
        let Some(property) = self
            .properties
            .iter()
            .find(|property| property.name == property_name)
        else {
            return Vec::new();
        };
        let record = Record::of(self, path);
        let states = path.clone().into_states();
        let mut story = Vec::new();
        match property.expectation {
            Expectation::Always => {
                let Some(broken) = states
                    .iter()
                    .position(|state| !(property.condition)(self, state))
                else {
                    return Vec::new();
                };
                story.extend(record.decisions_before(broken));
                story.push(record.breach(broken, property_name));
                if let Some(offender) = record.offending_acceptance(broken, property_name) {
                    story.push(record.origin(offender));
                }
                if let Some(why) = flaw_explanation(flaw) {
                    story.push(why);
                }
            }
            Expectation::Sometimes => {
                let Some(reached) = states
                    .iter()
                    .position(|state| (property.condition)(self, state))
                else {
                    return Vec::new();
                };
                story.extend(record.decisions_before(reached + 1));
                story.push(format!(
                    "step {reached}: {} — from here \"{property_name}\" holds.",
                    record.text(reached)
                ));
            }
            Expectation::Eventually => {
                story.extend(record.decisions_before(states.len()));
                story.push(format!(
                    "After step {}: the run can go no further (no step is left that changes \
                     anything), and \"{property_name}\" never held.",
                    states.len() - 1
                ));
                if let Some(why) = flaw_explanation(flaw) {
                    story.push(why);
                }
            }
        }
        story
    }
}

/// The flaw, what it does, and the rule of Paxos it bends, from the catalogue.
fn flaw_explanation(flaw: Flaw) -> Option<String> {
    let entry = catalogue::entry_for(flaw)?;
    Some(format!(
        "Why: the flaw `{flaw}` — {}. The rule it bends: {}.",
        flaw.description(),
        entry.lesson
    ))
}

/// An acceptance in a path: `acceptor` accepted `proposal` in `slot` at `step`, from the Accept
/// that `proposer` sent at `sent_at`.
#[derive(Clone, Debug)]
struct Acceptance {
    step: usize,
    acceptor: String,
    proposer: u8,
    slot: Slot,
    proposal: Proposal<String>,
    sent_at: usize,
}

/// A proposal a majority accepted at `step`.
#[derive(Clone, Debug)]
struct Choice {
    step: usize,
    slot: Slot,
    proposal: Proposal<String>,
    voters: Vec<String>,
}

/// A message delivered at `step`.
#[derive(Clone, Debug)]
struct Delivery {
    step: usize,
    /// The step that sent it (0: before the first step).
    sent_at: usize,
    from: u8,
    to: u8,
    fields: MessageFields,
}

/// What a path did, step by step, in the terms a story needs.
struct Record {
    /// The text report's line for each step (index 0: the initial state).
    texts: Vec<String>,
    names: Vec<String>,
    names_slots: bool,
    /// The letter ballots name their owner with (`p` for `1.p2`, `l` for `1.l2`).
    owner: char,
    /// The model's own narration of each step (index 0: nothing).
    notes: Vec<Vec<String>>,
    acceptances: Vec<Acceptance>,
    choices: Vec<Choice>,
    deliveries: Vec<Delivery>,
    /// (step, acceptor, ballot): a Prepare the acceptor took, changing its state.
    promises: Vec<(usize, u8, Ballot)>,
    /// (step, actor): crashes.
    crashes: Vec<(usize, u8)>,
    /// What else a story should mention, at its step: losses, crashes and recoveries, an
    /// acceptance below a promise, one ballot promised to two proposers.
    events: Vec<(usize, String)>,
}

impl Record {
    fn of<A, C, H>(model: &ActorSystem<A, C, H>, path: &SystemPath<A, H>) -> Record
    where
        A: Actor,
        A::Msg: Ord + Debug + Hash + Clone,
        A::Timer: Ord,
        H: Clone + Debug + Hash + Eq,
        C: Presentation<A::Msg>,
    {
        let sending = sending_steps(path);
        let steps = path.clone().into_vec();
        let acceptor_count = model.cfg.acceptor_count();
        let mut tracker = (acceptor_count > 0).then(|| ChosenTracker::new(acceptor_count));
        let mut record = Record {
            texts: vec!["the initial state".into()],
            names: (0..model.actors.len())
                .map(|index| model.cfg.actor_name(Id::from(index)))
                .collect(),
            names_slots: model.cfg.names_slots(),
            owner: model.cfg.ballot_owner().0,
            notes: vec![Vec::new()],
            acceptances: Vec::new(),
            choices: Vec::new(),
            deliveries: Vec::new(),
            promises: Vec::new(),
            crashes: Vec::new(),
            events: Vec::new(),
        };
        for (index, window) in steps.windows(2).enumerate() {
            let ((before, action), (after, _)) = (&window[0], &window[1]);
            let step = index + 1;
            let Some(action) = action else { continue };
            record.texts.push(model.format_step_label(action));
            record.notes.push(model.notes(before, after));
            match action {
                SystemAction::Deliver(packet) => {
                    let Some(fields) = model.cfg.fields(&packet.msg) else {
                        continue;
                    };
                    let recorded = !Arc::ptr_eq(&before.history, &after.history);
                    if recorded && fields.kind == "Accept" {
                        if let (Some(ballot), Some(value)) = (fields.ballot, fields.value.clone()) {
                            let acceptance = Acceptance {
                                step,
                                acceptor: record.names[usize::from(packet.dst)].clone(),
                                proposer: packet.src,
                                slot: fields.slot.unwrap_or(0),
                                proposal: Proposal::new(ballot, value),
                                sent_at: sending[index].unwrap_or(0),
                            };
                            if let Some(tracker) = tracker.as_mut() {
                                record.note_acceptance(
                                    tracker,
                                    usize::from(packet.dst),
                                    &acceptance,
                                );
                            }
                            if let Some(event) = record.below_promise(packet.dst, &acceptance) {
                                record.events.push((step, event));
                            }
                            record.acceptances.push(acceptance);
                        }
                    }
                    let changed = before.actors[usize::from(packet.dst)]
                        != after.actors[usize::from(packet.dst)];
                    if changed && fields.kind == "Prepare" {
                        if let Some(ballot) = fields.ballot {
                            record.promises.push((step, packet.dst, ballot));
                        }
                    }
                    let delivery = Delivery {
                        step,
                        sent_at: sending[index].unwrap_or(0),
                        from: packet.src,
                        to: packet.dst,
                        fields,
                    };
                    if let Some(event) = record.promised_twice(&delivery) {
                        record.events.push((step, event));
                    }
                    record.deliveries.push(delivery);
                }
                SystemAction::Lose(_) => {
                    let text = &record.texts[step];
                    let message = text.strip_suffix("(lost)").unwrap_or(text).trim_end();
                    let event = format!("{message} is lost");
                    record.events.push((step, event));
                }
                SystemAction::Crash(actor) | SystemAction::CrashLosingDisk(actor) => {
                    record.crashes.push((step, *actor));
                    record.events.push((step, record.texts[step].clone()));
                }
                SystemAction::Recover(_) => {
                    record.events.push((step, record.texts[step].clone()));
                }
                SystemAction::Timeout(..) => {}
            }
        }
        record
    }

    /// Records `acceptance` by `acceptor` and notes the choice it completes, if it does.
    fn note_acceptance(
        &mut self,
        tracker: &mut ChosenTracker<String>,
        acceptor: usize,
        acceptance: &Acceptance,
    ) {
        if !tracker.record(acceptance.slot, &acceptance.proposal, acceptor) {
            return;
        }
        let Some(tally) = tracker
            .tallies()
            .iter()
            .find(|tally| tally.slot == acceptance.slot && tally.proposal == acceptance.proposal)
        else {
            return;
        };
        if tally.acceptors.len() == majority(tracker.acceptor_count()) {
            self.choices.push(Choice {
                step: acceptance.step,
                slot: acceptance.slot,
                proposal: acceptance.proposal.clone(),
                voters: tally
                    .acceptors
                    .iter()
                    .map(|voter| self.names[voter].clone())
                    .collect(),
            });
        }
    }

    /// `ballot` as the model writes it (`1.p2`, `1.l2`).
    fn b(&self, ballot: Ballot) -> String {
        ballot.named(self.owner)
    }

    fn text(&self, step: usize) -> &str {
        &self.texts[step]
    }

    fn in_slot(&self, slot: Slot) -> String {
        if self.names_slots {
            format!(" in slot {slot}")
        } else {
            String::new()
        }
    }

    /// "B is chosen at ballot 1.p2 by a1, a2".
    fn choice_words(&self, choice: &Choice) -> String {
        format!(
            "{} is chosen{} at ballot {} by {}",
            choice.proposal.value,
            self.in_slot(choice.slot),
            self.b(choice.proposal.ballot),
            choice.voters.join(", ")
        )
    }

    /// The decisive steps before `step`, in order: each choice (or, for a model that does not
    /// give fields, its own narration) and each event worth a word.
    fn decisions_before(&self, step: usize) -> Vec<String> {
        // (step, whether it is a choice, words): within a step the event that led to a choice
        // (an acceptance below a promise) comes before the choice.
        let mut told: Vec<(usize, bool, String)> = if self.choices.is_empty() {
            (1..step.min(self.notes.len()))
                .filter(|index| !self.notes[*index].is_empty())
                .map(|index| (index, true, self.notes[index].join("; ")))
                .collect()
        } else {
            self.choices
                .iter()
                .filter(|choice| choice.step < step)
                .map(|choice| (choice.step, true, self.choice_words(choice)))
                .collect()
        };
        told.extend(
            self.events
                .iter()
                .filter(|(at, _)| *at < step)
                .map(|(at, text)| (*at, false, text.clone())),
        );
        told.sort_by_key(|(at, is_choice, _)| (*at, *is_choice));
        told.into_iter()
            .map(|(at, _, text)| format!("step {at}: {text}."))
            .collect()
    }

    /// "a2 accepts A at ballot 1.p1 although it promised 1.p2 at step 6", for an acceptance
    /// below the highest ballot its acceptor promised.
    fn below_promise(&self, acceptor: u8, acceptance: &Acceptance) -> Option<String> {
        let (promised_at, _, promised) = self
            .promises
            .iter()
            .filter(|(at, who, _)| *who == acceptor && *at < acceptance.step)
            .max_by_key(|(_, _, ballot)| *ballot)?;
        if acceptance.proposal.ballot >= *promised {
            return None;
        }
        Some(format!(
            "{} accepts {}{} at ballot {} although it promised {} at step {promised_at}",
            acceptance.acceptor,
            acceptance.proposal.value,
            self.in_slot(acceptance.slot),
            self.b(acceptance.proposal.ballot),
            self.b(*promised)
        ))
    }

    /// "a2 promises ballot 1.p1 to p2, having promised the same ballot to p1 at step 4": one
    /// ballot promised by one acceptor to two proposers.
    fn promised_twice(&self, delivery: &Delivery) -> Option<String> {
        if delivery.fields.kind != "Promise" {
            return None;
        }
        let ballot = delivery.fields.ballot?;
        let earlier = self.deliveries.iter().find(|earlier| {
            earlier.fields.kind == "Promise"
                && earlier.from == delivery.from
                && earlier.to != delivery.to
                && earlier.fields.ballot == Some(ballot)
        })?;
        Some(format!(
            "{} promises ballot {} to {}, having promised the same ballot to {} at step {}",
            self.names[usize::from(delivery.from)],
            self.b(ballot),
            self.names[usize::from(delivery.to)],
            self.names[usize::from(earlier.to)],
            earlier.step
        ))
    }

    /// The step that broke `property`, what it did, and the fact that breaks the property.
    fn breach(&self, step: usize, property: &str) -> String {
        if step == 0 {
            return format!("The initial state already breaks \"{property}\".");
        }
        let mut happened = Vec::new();
        if let Some(acceptance) = self.acceptances.iter().find(|a| a.step == step) {
            happened.push(format!(
                "{} accepts {}{} at ballot {}",
                acceptance.acceptor,
                acceptance.proposal.value,
                self.in_slot(acceptance.slot),
                self.b(acceptance.proposal.ballot)
            ));
        } else if let Some(delivery) = self.deliveries.iter().find(|d| d.step == step) {
            happened.push(self.reception_words(delivery));
        }
        for choice in self.choices.iter().filter(|choice| choice.step == step) {
            happened.push(format!("so {}", self.choice_words(choice)));
        }
        if happened.is_empty() {
            // A model without message fields (the cluster) narrates what the step did inside
            // its actors: the acceptances, choices and answers that broke the property.
            happened.extend(self.notes[step].iter().cloned());
        }
        let mut line = format!("step {step}: {}", self.text(step));
        if !happened.is_empty() {
            line.push_str(&format!(" — {}", happened.join(", ")));
        }
        line.push_str(&format!(" — \"{property}\" is broken"));
        match self.reason(step, property) {
            Some(reason) => line.push_str(&format!(": {reason}.")),
            None => line.push('.'),
        }
        line
    }

    /// What the recipient of a delivery takes from it.
    fn reception_words(&self, delivery: &Delivery) -> String {
        let from = &self.names[usize::from(delivery.from)];
        let to = &self.names[usize::from(delivery.to)];
        let fields = &delivery.fields;
        match (fields.kind, &fields.value, fields.ballot) {
            ("Accepted", Some(value), Some(ballot)) => format!(
                "{to} counts {from}'s vote for {value}{} at ballot {}",
                self.in_slot(fields.slot.unwrap_or(0)),
                self.b(ballot)
            ),
            ("Promise", _, Some(ballot)) => {
                format!("{to} takes {from}'s promise for {}", self.b(ballot))
            }
            _ => format!("{to} receives it"),
        }
    }

    /// Why `property` fails after `step`, in facts of the run.
    fn reason(&self, step: usize, property: &str) -> Option<String> {
        if property.contains("agreement") {
            return self.two_choices(step);
        }
        if property.contains("immutab") {
            return self.overturned(step).map(|(chosen, acceptance)| {
                let rule =
                    "once a value is chosen, every acceptance at a higher ballot must carry it";
                if acceptance.step == step {
                    format!(
                        "{} was chosen at ballot {} (step {}), and {} is not {}; {rule}",
                        chosen.proposal.value,
                        self.b(chosen.proposal.ballot),
                        chosen.step,
                        acceptance.proposal.value,
                        chosen.proposal.value,
                    )
                } else {
                    format!(
                        "{} had accepted {} at the higher ballot {} (step {}); {rule}",
                        acceptance.acceptor,
                        acceptance.proposal.value,
                        self.b(acceptance.proposal.ballot),
                        acceptance.step
                    )
                }
            });
        }
        if property.contains("learn") || property.contains("logs") {
            return self.earlier_learning(step);
        }
        None
    }

    /// "A was chosen at 1.p1 (step 8) and B at 1.p2 (step 12): two values in one slot".
    fn two_choices(&self, step: usize) -> Option<String> {
        let latest = self.choices.iter().rev().find(|c| c.step <= step)?;
        let earlier = self.choices.iter().find(|c| {
            c.step <= step && c.slot == latest.slot && c.proposal.value != latest.proposal.value
        })?;
        Some(format!(
            "{} was chosen at ballot {} (step {}) and {} at ballot {} (step {}): two values{}",
            earlier.proposal.value,
            self.b(earlier.proposal.ballot),
            earlier.step,
            latest.proposal.value,
            self.b(latest.proposal.ballot),
            latest.step,
            if self.names_slots {
                format!(" in slot {}", latest.slot)
            } else {
                " chosen".to_owned()
            }
        ))
    }

    /// A choice and an acceptance at a higher ballot with another value, in one slot, both made
    /// by `step`.
    fn overturned(&self, step: usize) -> Option<(&Choice, &Acceptance)> {
        self.choices
            .iter()
            .filter(|choice| choice.step <= step)
            .find_map(|choice| {
                let acceptance = self.acceptances.iter().find(|acceptance| {
                    acceptance.step <= step
                        && acceptance.slot == choice.slot
                        && acceptance.proposal.ballot > choice.proposal.ballot
                        && acceptance.proposal.value != choice.proposal.value
                })?;
                Some((choice, acceptance))
            })
    }

    /// For a learner that took a value at `step`: the other learner's earlier vote count for a
    /// different value in the same slot.
    fn earlier_learning(&self, step: usize) -> Option<String> {
        let now = self.deliveries.iter().find(|d| d.step == step)?;
        let value = now.fields.value.as_ref()?;
        let earlier = self.deliveries.iter().rev().find(|d| {
            d.step < step
                && d.to != now.to
                && d.fields.kind == "Accepted"
                && d.fields.slot == now.fields.slot
                && d.fields.value.as_ref().is_some_and(|other| other != value)
        })?;
        Some(format!(
            "{} learned {} at step {} (on {}'s vote), and now {} learns {}",
            self.names[usize::from(earlier.to)],
            earlier.fields.value.as_deref().unwrap_or("?"),
            earlier.step,
            self.names[usize::from(earlier.from)],
            self.names[usize::from(now.to)],
            value
        ))
    }

    /// The acceptance that carries the value the property objects to, made by `step`.
    fn offending_acceptance(&self, step: usize, property: &str) -> Option<&Acceptance> {
        if property.contains("immutab") {
            return self.overturned(step).map(|(_, acceptance)| acceptance);
        }
        if property.contains("agreement") {
            // Of two conflicting choices, the one at the higher ballot is the one Paxos forbids:
            // its proposer should have found the lower one in its Phase 1.
            let latest = self.choices.iter().rev().find(|c| c.step <= step)?;
            let conflicting = self.choices.iter().find(|c| {
                c.step <= step && c.slot == latest.slot && c.proposal.value != latest.proposal.value
            })?;
            let higher = if conflicting.proposal.ballot > latest.proposal.ballot {
                conflicting
            } else {
                latest
            };
            return self.acceptances.iter().rev().find(|acceptance| {
                acceptance.step <= step
                    && acceptance.slot == higher.slot
                    && acceptance.proposal == higher.proposal
            });
        }
        None
    }

    /// Where an acceptance's value came from: the Accept its proposer sent, after which promises
    /// at that ballot, reporting what.
    fn origin(&self, acceptance: &Acceptance) -> String {
        let proposer = &self.names[usize::from(acceptance.proposer)];
        let Proposal { ballot, value } = &acceptance.proposal;
        let named = self.b(*ballot);
        let promises: Vec<&Delivery> = self
            .deliveries
            .iter()
            .filter(|delivery| {
                delivery.step <= acceptance.sent_at
                    && delivery.to == acceptance.proposer
                    && delivery.fields.kind == "Promise"
                    && delivery.fields.ballot == Some(*ballot)
            })
            .collect();
        // A message is sent by one step and delivered by a later one; the trace numbers
        // deliveries, so both are said.
        let sent = if acceptance.sent_at == 0 {
            format!(
                "at the start (delivered to {} at step {})",
                acceptance.acceptor, acceptance.step
            )
        } else {
            format!(
                "at step {} (delivered to {} at step {})",
                acceptance.sent_at, acceptance.acceptor, acceptance.step
            )
        };
        let slot = if self.names_slots {
            format!("slot {}, ", acceptance.slot)
        } else {
            String::new()
        };
        let intro = format!(
            "Where {value} came from: {proposer} sent Accept({slot}b={named}, {value}) {sent}"
        );
        if promises.is_empty() {
            return format!("{intro}, without having heard one promise for ballot {named}.");
        }
        let reports: Vec<(String, Option<&Proposal<String>>)> = promises
            .iter()
            .map(|promise| {
                let reported = promise
                    .fields
                    .reported
                    .iter()
                    .find(|(slot, _)| *slot == acceptance.slot)
                    .map(|(_, proposal)| proposal);
                let mut words = match reported {
                    Some(proposal) => format!(
                        "{} reported ({}, {}) (step {})",
                        self.names[usize::from(promise.from)],
                        self.b(proposal.ballot),
                        proposal.value,
                        promise.step
                    ),
                    None => format!(
                        "{} reported no acceptance (step {})",
                        self.names[usize::from(promise.from)],
                        promise.step
                    ),
                };
                words.push_str(&self.unreported(promise, acceptance.slot, reported));
                (words, reported)
            })
            .collect();
        let listed: Vec<&str> = reports.iter().map(|(words, _)| words.as_str()).collect();
        let highest = reports
            .iter()
            .filter_map(|(_, reported)| *reported)
            .max_by_key(|proposal| proposal.ballot);
        let choice = match highest {
            None => format!("no promise reported an acceptance, so {proposer} was free to propose its own value"),
            Some(highest) if highest.value == *value => format!(
                "{value} is the value of the highest reported ballot, {}, as the rule demands",
                self.b(highest.ballot)
            ),
            Some(highest) => format!(
                "yet the highest reported ballot, {}, carries {}: {proposer} should have proposed {}",
                self.b(highest.ballot), highest.value, highest.value
            ),
        };
        format!(
            "{intro}, after its Phase 1 at {named}: {}; {choice}.",
            listed.join(", ")
        )
    }

    /// ", though it had accepted (1.p1, A) at step 5" when `promise` did not report its sender's
    /// latest acceptance in `slot` (and that it crashed in between, if it did).
    fn unreported(
        &self,
        promise: &Delivery,
        slot: Slot,
        reported: Option<&Proposal<String>>,
    ) -> String {
        let acceptor = &self.names[usize::from(promise.from)];
        let Some(latest) = self.acceptances.iter().rev().find(|acceptance| {
            acceptance.acceptor == *acceptor
                && acceptance.slot == slot
                && acceptance.step <= promise.sent_at
        }) else {
            return String::new();
        };
        if reported == Some(&latest.proposal) {
            return String::new();
        }
        let crash = self
            .crashes
            .iter()
            .find(|(at, who)| *who == promise.from && *at > latest.step && *at <= promise.sent_at)
            .map(|(at, _)| format!(", and crashed at step {at}"))
            .unwrap_or_default();
        format!(
            ", though it had accepted ({}, {}) at step {}{crash}",
            self.b(latest.proposal.ballot),
            latest.proposal.value,
            latest.step
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::check::engine::{explore, Goal, SearchOptions};
    use crate::check::paxos::{single_decree_model, SingleDecreeConfig};
    use crate::check::settings::Faults;
    use crate::protocol::flaw::Flaw;

    /// The story of the first safety violation under `flaw`, found breadth-first.
    fn story(flaw: Flaw, crashes: usize, rounds: u32) -> Vec<String> {
        let model = single_decree_model(SingleDecreeConfig {
            faults: Faults {
                crashes,
                ..Faults::default()
            },
            rounds,
            flaw,
            ..SingleDecreeConfig::default()
        });
        let exploration = explore(
            &model,
            &SearchOptions {
                goal: Goal::first_violation(&model),
                ..SearchOptions::default()
            },
            &|_| {},
        );
        let (index, found) = exploration
            .discoveries
            .iter()
            .enumerate()
            .find_map(|(index, found)| Some((index, found.as_ref()?)))
            .expect("the flaw is caught");
        let name = model.properties[index].name;
        model.story_of(&found.path, name, flaw)
    }

    fn told(story: &[String], words: &str) -> bool {
        story.iter().any(|line| line.contains(words))
    }

    /// The rule a promise makes: accepting below it is the step the story points at.
    #[test]
    fn an_acceptance_below_its_promise_is_told_where_it_happens() {
        let story = story(Flaw::AcceptBelowPromise, 0, 1);
        assert_eq!(
            story[0],
            "step 8: a2 accepts A at ballot 1.p1 although it promised 1.p2 at step 6."
        );
        assert_eq!(story[1], "step 8: A is chosen at ballot 1.p1 by a1, a2.");
    }

    /// Durability: the promise after a crash hides an acceptance the acceptor made before it.
    #[test]
    fn a_crash_that_forgets_an_acceptance_is_told_in_the_promise_that_hides_it() {
        let story = story(Flaw::ForgetOnCrash, 1, 1);
        assert!(told(&story, "step 9: a1 crashes."), "{story:#?}");
        assert!(
            told(
                &story,
                "a1 reported no acceptance (step 12), though it had accepted (1.p1, A) at step 5, \
                 and crashed at step 9"
            ),
            "{story:#?}"
        );
    }

    /// Unique ballots and strict promises: one acceptor promising one ballot to two proposers.
    #[test]
    fn one_ballot_promised_to_two_proposers_is_told() {
        let story = story(Flaw::SharedBallotsAndEqualPromise, 0, 1);
        assert_eq!(
            story[0],
            "step 7: a2 promises ballot 1.p1 to p2, having promised the same ballot to p1 at step 4."
        );
    }

    /// Value selection: the story traces the offending value to the promises its proposer heard
    /// and names the value the rule demanded.
    #[test]
    fn the_offending_value_is_traced_to_the_promises_its_proposer_heard() {
        let story = story(Flaw::LowestAcceptedValue, 0, 2);
        assert!(
            told(
                &story,
                "a1 reported (1.p1, A) (step 11), a2 reported (1.p2, B) (step 16); yet the highest \
                 reported ballot, 1.p2, carries B: p1 should have proposed B."
            ),
            "{story:#?}"
        );
        assert!(story
            .last()
            .expect("a story")
            .starts_with("Why: the flaw `lowest-accepted-value`"));
    }
}
