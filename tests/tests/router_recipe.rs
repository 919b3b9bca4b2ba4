//! The three-node recipe as a reader runs it: `docs/router.py` starts three real `paxos-node`
//! processes, initialises them, and carries the recipe's requests to them. Piped, it must answer
//! every request as typed lines are answered: it sends one request at a time and waits for its
//! answer, so the input's end does not cut the run short.

use paxos_e2e::{binary, run_with_input, workspace_root};
use serde_json::Value;
use std::time::Duration;

/// The recipe's input: write, compare-and-set, read, each through another node.
const RECIPE: &str = r#"{"src":"c1","dest":"n1","body":{"type":"write","msg_id":1,"key":1,"value":10}}
{"src":"c1","dest":"n3","body":{"type":"cas","msg_id":2,"key":1,"from":10,"to":11}}
{"src":"c1","dest":"n2","body":{"type":"read","msg_id":3,"key":1}}
"#;

/// The router waits at most this long for one answer; the whole run far less.
const RUN_LIMIT: Duration = Duration::from_secs(120);

fn route(input: &str, data_dir: &std::path::Path) -> Vec<Value> {
    let node = binary("paxos-node");
    let router = workspace_root().join("docs/router.py");
    let run = run_with_input(
        std::path::Path::new("python3"),
        &[
            router.to_str().expect("a UTF-8 path"),
            "--node",
            node.to_str().expect("a UTF-8 path"),
            "--data-dir",
            data_dir.to_str().expect("a UTF-8 path"),
        ],
        input,
        RUN_LIMIT,
    );
    assert!(run.status.success(), "the router failed: {}", run.stderr);
    assert!(
        !run.stderr.contains("router: no answer"),
        "a request went unanswered: {}",
        run.stderr
    );
    run.stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect()
}

fn fresh_directory(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("paxos-router-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Piped in one go, the recipe's three requests are answered in order: `write_ok`, `cas_ok`,
/// then `read_ok` with 11; run again on the same directory, the cluster resumes and a new read
/// still answers 11.
#[test]
fn the_recipe_piped_through_the_router_is_answered_as_typed() {
    let data_dir = fresh_directory("recipe");

    let answers = route(RECIPE, &data_dir);

    let summary: Vec<(String, Value, String, Value)> = answers
        .iter()
        .map(|answer| {
            (
                answer["src"].as_str().expect("a source").to_owned(),
                answer["body"]["in_reply_to"].clone(),
                answer["body"]["type"].as_str().expect("a type").to_owned(),
                answer["body"]["value"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("n1".into(), 1.into(), "write_ok".into(), Value::Null),
            ("n3".into(), 2.into(), "cas_ok".into(), Value::Null),
            ("n2".into(), 3.into(), "read_ok".into(), 11.into()),
        ]
    );
    assert!(answers.iter().all(|answer| answer["dest"] == "c1"));

    let again = route(
        r#"{"src":"c1","dest":"n1","body":{"type":"read","msg_id":4,"key":1}}"#,
        &data_dir,
    );
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0]["body"]["type"], "read_ok");
    assert_eq!(again[0]["body"]["value"], 11);
    let _ = std::fs::remove_dir_all(&data_dir);
}
