//! The crate's layers, held to: within `check/` and within `protocol/`, a module imports only
//! modules below it in its layer order, so that imports run one way and no two modules need
//! each other. The order is the one `check`'s and `protocol`'s module headers describe; a new
//! module takes its place in the list below, and an import that runs upwards fails here with
//! the line that makes it.
//!
//! The node's side of the split (the node builds the protocol without stateright) is held by
//! `node/Cargo.toml`, which takes `paxos-model` without its `check` feature; `cargo tree -p
//! paxos-node` shows it.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// `check/`, from the search engine up through the actor runtime and the models to the
/// presentation.
const CHECK_LAYERS: &[&str] = &[
    // the search: the frontier's spill to disk knows states only as bytes, under the engine
    "frontier",
    "engine",
    "cuts",
    "distributed",
    // the actor runtime
    "settings",
    "actors",
    "symmetry",
    // the models, then the flaws shown in them
    "paxos",
    "cluster",
    "livelock",
    "catalogue",
    // the presentation
    "story",
    "svg",
    "checkable",
    "examine",
];

/// `protocol/`, from ballots and slots up to the replica that the node runs.
const PROTOCOL_LAYERS: &[&str] = &[
    "flaw", "slots", "kv", "ballot", "quorum", "entry", "message", "rules", "acceptor", "chosen",
    "durable", "proposer", "replica",
];

/// The module's own code: the file without its unit tests (`#[cfg(test)]` to the end), which
/// may reach up the layers to build the models they test the module on.
fn code_of(source: &str) -> &str {
    match source.find("\n#[cfg(test)]") {
        Some(at) => &source[..at],
        None => source,
    }
}

/// Every `crate::{folder}::NAME` the code names, with the line that names it.
fn imports<'s>(code: &'s str, folder: &str) -> Vec<(&'s str, String)> {
    let prefix = format!("crate::{folder}::");
    let mut found = Vec::new();
    for line in code.lines() {
        let mut rest = line;
        while let Some(at) = rest.find(&prefix) {
            rest = &rest[at + prefix.len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.push((line.trim(), name));
        }
        // `use super::x` in a module of the folder names a sibling too.
        if let Some(after) = line.trim().strip_prefix("use super::") {
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.push((line.trim(), name));
        }
    }
    found
}

/// Each module of `folder` imports only the modules before it in `layers`; every module of the
/// folder is in `layers`.
fn assert_layered(folder: &str, layers: &[&str]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(folder);
    let mut modules = BTreeSet::new();
    let mut upward = Vec::new();
    for file in fs::read_dir(&dir).expect("the folder is readable") {
        let path = file.expect("an entry").path();
        let Some(module) = path.file_stem().and_then(|stem| stem.to_str()) else {
            continue;
        };
        if module == "mod" || path.extension().is_none_or(|ext| ext != "rs") {
            continue;
        }
        modules.insert(module.to_owned());
        let Some(rank) = layers.iter().position(|&m| m == module) else {
            panic!("{folder}/{module}.rs is in no layer: give it its place in layers.rs");
        };
        let source = fs::read_to_string(&path).expect("a readable source file");
        for (line, imported) in imports(code_of(&source), folder) {
            match layers.iter().position(|&m| m == imported) {
                Some(below) if below < rank => {}
                Some(_) => upward.push(format!("{folder}/{module}.rs imports {imported}: {line}")),
                None => panic!("{folder}/{module}.rs imports {imported}, which is in no layer"),
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that run up or across the layers:\n{}",
        upward.join("\n")
    );
    let listed: BTreeSet<String> = layers.iter().map(|m| (*m).to_owned()).collect();
    assert_eq!(
        modules, listed,
        "the layer list names exactly {folder}'s modules"
    );
}

#[test]
fn the_checking_side_imports_one_way_from_presentation_down_to_the_search() {
    assert_layered("check", CHECK_LAYERS);
}

#[test]
fn the_protocol_imports_one_way_from_the_replica_down_to_ballots() {
    assert_layered("protocol", PROTOCOL_LAYERS);
}

#[test]
fn an_upward_import_is_found() {
    let code = "use crate::check::story::TraceStep;\nfn f() { crate::check::svg::escape(\"\"); }";
    let found: Vec<String> = imports(code, "check")
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    assert_eq!(found, ["story", "svg"]);
    let with_tests =
        "use crate::check::actors::A;\n#[cfg(test)]\nmod tests { use crate::check::paxos::B; }";
    assert_eq!(imports(code_of(with_tests), "check").len(), 1);
}
