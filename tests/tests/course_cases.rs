//! Every sample case of the course's Paxos tasks, fed through the real `paxos-node` and compared
//! byte for byte with the whole expected output.

use paxos_e2e::{first_difference, run_node, workspace_root};
use std::fs;
use std::path::Path;

fn course_dir() -> std::path::PathBuf {
    workspace_root().join("tests/course")
}

fn check_case(task: &str, case: u32) {
    let dir = course_dir().join(task);
    let input = fs::read_to_string(dir.join(format!("case-{case}.input.jsonl"))).expect("input");
    let expected =
        fs::read_to_string(dir.join(format!("case-{case}.expected.jsonl"))).expect("expected");
    let finished = run_node(&input);
    if let Some(difference) = first_difference(&finished.stdout, &expected) {
        panic!("{task} case {case} differs at {difference}");
    }
    assert_eq!(
        finished.stdout, expected,
        "{task} case {case}: byte-for-byte"
    );
}

#[test]
fn phase1_first_prepare_is_promised() {
    check_case("task-7-3-1-single-decree", 1);
}

#[test]
fn phase1_higher_proposal_supersedes_lower() {
    check_case("task-7-3-1-single-decree", 2);
}

#[test]
fn phase2_accept_succeeds_after_promise() {
    check_case("task-7-3-2-accept-phase", 1);
}

#[test]
fn phase2_accept_rejected_for_lower_proposal() {
    check_case("task-7-3-2-accept-phase", 2);
}

#[test]
fn safety_new_proposal_forced_to_chosen_value() {
    check_case("task-7-3-3-paxos-safety", 1);
}

#[test]
fn safety_invariant_holds_across_proposals() {
    check_case("task-7-3-3-paxos-safety", 2);
}

#[test]
fn multi_paxos_first_slot_requires_phase1() {
    check_case("task-7-3-4-multi-paxos", 1);
}

#[test]
fn multi_paxos_later_slots_skip_phase1() {
    check_case("task-7-3-4-multi-paxos", 2);
}

/// The copies here may only complete the course's expected files, never change them: the
/// course's own lines must be a prefix of ours. Skipped (with a note) where `shared/` is absent.
#[test]
fn copied_cases_agree_with_the_course() {
    let original = workspace_root().join("../shared/course");
    if !original.is_dir() {
        eprintln!(
            "note: {} not found; nothing to compare the copies with",
            original.display()
        );
        return;
    }
    let mut compared = 0;
    for task in fs::read_dir(course_dir()).expect("course dir").flatten() {
        if !task.path().is_dir() {
            continue;
        }
        for file in fs::read_dir(task.path()).expect("task dir").flatten() {
            let name = file.file_name().into_string().expect("UTF-8 name");
            let ours = fs::read_to_string(file.path()).expect("ours");
            let theirs =
                fs::read_to_string(Path::new(&original).join(task.file_name()).join(&name))
                    .unwrap_or_else(|_| panic!("{name} has no original"));
            if name.ends_with(".input.jsonl") {
                assert_eq!(ours, theirs, "{name} must be the course's input");
            } else {
                assert!(
                    ours.starts_with(&theirs),
                    "{name} must start with the course's lines"
                );
            }
            compared += 1;
        }
    }
    assert_eq!(compared, 16, "4 tasks x 2 cases x (input, expected)");
}
