//! stateright's own checker and Explorer, one flag away: `check --engine stateright` runs
//! stateright's breadth-first (or depth-first) checker on the model with every cut off, and
//! `explore --ui stateright` serves stateright's own Explorer. Each test runs the real binary.
//!
//! The promises pinned here: stateright's checker sees exactly the state space of our engine
//! with `--reduce none` (the same number of distinct states), gives every property the verdict
//! our default check gives, finds a flaw's violation with a counterexample as long as ours, and
//! is refused, by name, what it cannot do.

use paxos_e2e::http::{free_address, http_get};
use paxos_e2e::{binary, run_with_input, Finished};
use serde_json::{Map, Value};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The single-decree runs take well under a second; one that outlives this hangs.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// The cluster at its default size, with every cut off, runs far beyond the others: its space
/// did not fit in 20 GiB (docs/checker.md).
const CLUSTER_RUN_LIMIT: Duration = Duration::from_secs(4 * 3600);

/// Distinct states of `check single` (3 acceptors, 2 proposers, 1 ballot each, unordered
/// lossless network) with every cut off: the model as it is, which both checkers must see.
const SINGLE_UNCUT_UNIQUE_STATES: u64 = 20_372;

/// `paxos-check check ... --format json` on one thread (so that which discovery stateright
/// keeps does not depend on a race between threads), within `limit`.
fn check_json(args: &[&str], limit: Duration) -> (i32, Map<String, Value>) {
    let mut args: Vec<&str> = [&["check"][..], args].concat();
    if !args.contains(&"--threads") {
        args.extend(["--threads", "1"]);
    }
    args.extend(["--format", "json"]);
    let run = run_with_input(&binary("paxos-check"), &args, "", limit);
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|error| panic!("{args:?}: {error}\n{}\n{}", run.stdout, run.stderr));
    let report = report.as_object().expect("one JSON object").clone();
    (exit_status(&run), report)
}

fn exit_status(run: &Finished) -> i32 {
    run.status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal: {}\n{}", run.status, run.stderr))
}

/// `(property, verdict)` in the report's order.
fn verdicts(report: &Map<String, Value>) -> Vec<(String, String)> {
    report["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .map(|property| {
            (
                property["name"].as_str().expect("a name").to_owned(),
                property["verdict"].as_str().expect("a verdict").to_owned(),
            )
        })
        .collect()
}

/// `(property, steps)` of every violated property.
fn violations(report: &Map<String, Value>) -> Vec<(String, u64)> {
    report["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .filter(|property| property["verdict"] == "violated")
        .map(|property| {
            (
                property["name"].as_str().expect("a name").to_owned(),
                property["steps"].as_u64().expect("a violation has steps"),
            )
        })
        .collect()
}

/// Default single-decree Paxos: stateright's checker explores exactly the states our engine
/// explores with `--reduce none` (the cuts only make our default smaller), and both agree with
/// the default check on every verdict.
#[test]
fn stateright_checks_single_decree_as_our_engine_does_with_every_cut_off() {
    let (status, theirs) = check_json(&["single", "--engine", "stateright"], RUN_LIMIT);
    let (uncut_status, uncut) = check_json(&["single", "--reduce", "none"], RUN_LIMIT);
    let (default_status, default) = check_json(&["single"], RUN_LIMIT);

    assert_eq!((status, uncut_status, default_status), (0, 0, 0));
    assert_eq!(theirs["engine"], "stateright");
    assert_eq!(default["engine"], "ours");
    assert_eq!(theirs["complete"], true);
    assert_eq!(theirs["unique_states"], SINGLE_UNCUT_UNIQUE_STATES);
    assert_eq!(uncut["unique_states"], SINGLE_UNCUT_UNIQUE_STATES);
    assert!(
        default["unique_states"].as_u64() < Some(SINGLE_UNCUT_UNIQUE_STATES),
        "the cuts make the default smaller: {}",
        default["unique_states"]
    );
    assert_eq!(verdicts(&theirs), verdicts(&default));
    assert_eq!(verdicts(&uncut), verdicts(&default));
    // Every cut is off for stateright, and the report's commands say so.
    assert!(
        theirs["cuts"]
            .as_object()
            .expect("cuts")
            .values()
            .all(|used| used == "off"),
        "{}",
        theirs["cuts"]
    );
    let explore = theirs["explore_command"].as_str().expect("a command");
    assert!(explore.contains("--reduce none"), "{explore}");
}

/// The text report is the one users of `check` know, and names the checker and its cuts.
#[test]
fn the_text_report_says_stateright_checked_with_no_cuts() {
    let run = run_with_input(
        &binary("paxos-check"),
        &[
            "check",
            "single",
            "--engine",
            "stateright",
            "--threads",
            "1",
        ],
        "",
        RUN_LIMIT,
    );
    assert_eq!(exit_status(&run), 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("strategy bfs, 1 thread, stateright's checker"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\ncuts: none (stateright's checker)\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("({SINGLE_UNCUT_UNIQUE_STATES} unique)")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("complete: every reachable state was explored"),
        "{}",
        run.stdout
    );
}

/// A flawed proposer (it sends its own value despite the acceptances its promises report):
/// stateright's checker finds immutability broken, as ours does, with a counterexample of the
/// same 11 steps, told in the protocol's words with the story of the flaw, and exits 1.
#[test]
fn stateright_finds_a_flaws_violation_with_a_counterexample_as_long_as_ours() {
    let flaw = ["single", "--flaw", "proposer-ignores-promises"];
    let (status, theirs) = check_json(
        &[&flaw[..], &["--engine", "stateright"]].concat(),
        RUN_LIMIT,
    );
    let (our_status, ours) = check_json(&flaw, RUN_LIMIT);

    assert_eq!((status, our_status), (1, 1));
    assert_eq!(violations(&theirs), [("immutability".to_owned(), 11)]);
    assert_eq!(violations(&ours), violations(&theirs));
    assert_eq!(theirs["stopped_by"], ours["stopped_by"]);
    let immutability = theirs["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .find(|property| property["name"] == "immutability")
        .expect("immutability");
    // stateright keeps the last discovery it makes, so it never claims a shortest one.
    assert_eq!(immutability["shortest"], false);
    assert_eq!(immutability["decisive_step"], 11);
    let story = immutability["story"].as_array().expect("a story").len();
    assert!(story > 0, "{immutability}");
    let steps = immutability["trace"].as_array().expect("a trace");
    assert_eq!(steps.len(), 11);
    assert_eq!(steps[10]["kind"], "Accept", "{}", steps[10]);
}

/// Flags stateright cannot honour are refused by name with exit status 2, never ignored.
#[test]
fn what_stateright_cannot_do_is_refused_naming_the_flag() {
    let refused: [(&[&str], &str); 7] = [
        (
            &[
                "check",
                "single",
                "--engine",
                "stateright",
                "--strategy",
                "simulation",
            ],
            "--strategy simulation: with --engine stateright, --strategy is bfs or dfs",
        ),
        (
            &[
                "check",
                "single",
                "--engine",
                "stateright",
                "--reduce",
                "stale",
            ],
            "--reduce: --engine stateright knows none of the cuts",
        ),
        (
            &[
                "check",
                "multi",
                "--engine",
                "stateright",
                "--symmetry",
                "off",
            ],
            "--reduce: --engine stateright knows none of the cuts",
        ),
        (
            &[
                "check",
                "single",
                "--engine",
                "stateright",
                "--liveness",
                "fair",
            ],
            "--liveness fair: stateright's checker judges eventually-properties strictly",
        ),
        (
            &[
                "check",
                "cluster",
                "--engine",
                "stateright",
                "--max-memory",
                "1G",
            ],
            "--max-memory: stateright's checker has no memory guard",
        ),
        (
            &[
                "check",
                "single",
                "--engine",
                "stateright",
                "--spill-dir",
                "/tmp",
            ],
            "--spill-dir: stateright's checker keeps its queue in memory",
        ),
        (
            &["explore", "single", "--ui", "stateright", "--timeout", "5"],
            "--timeout: stateright's Explorer runs its checker on demand",
        ),
    ];
    for (args, message) in refused {
        let run = run_with_input(&binary("paxos-check"), args, "", RUN_LIMIT);
        assert_eq!(exit_status(&run), 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with(&format!("error: {message}")),
            "{args:?}: {}",
            run.stderr
        );
    }
    // What stateright does is accepted: the model as it is, its strict liveness, depth first.
    let accepted: [&[&str]; 2] = [
        &[
            "single",
            "--engine",
            "stateright",
            "--reduce",
            "none",
            "--liveness",
            "strict",
        ],
        &["single", "--engine", "stateright", "--strategy", "dfs"],
    ];
    for args in accepted {
        let (status, report) = check_json(args, RUN_LIMIT);
        assert_eq!(status, 0, "{args:?}");
        assert_eq!(
            report["unique_states"], SINGLE_UNCUT_UNIQUE_STATES,
            "{args:?}"
        );
    }
}

/// A state limit stops stateright's checker too, and the run is reported incomplete (exit 3),
/// in the words of the flag.
#[test]
fn a_state_limit_stops_stateright_incomplete_with_exit_3() {
    let (status, report) = check_json(
        &["single", "--engine", "stateright", "--max-states", "2000"],
        RUN_LIMIT,
    );
    assert_eq!(status, 3);
    assert_eq!(report["complete"], false);
    assert_eq!(report["limit_reached"], true);
    assert_eq!(report["stopped_by"], "--max-states 2000 reached");
    assert!(
        report["states"].as_u64() >= Some(2000),
        "{}",
        report["states"]
    );
    assert!(report["unique_states"].as_u64() < Some(SINGLE_UNCUT_UNIQUE_STATES));
}

/// The cluster at its default size (three replicas starting fresh, every one probing, no
/// timer expiry): stateright's checker and ours with every cut off see one state space of
/// 249,974 distinct states, and both agree with our default (cut) check, 211,803 states, on
/// every verdict.
#[test]
fn stateright_checks_the_default_cluster_as_our_engine_does_with_every_cut_off() {
    let shape = ["cluster"];
    let (status, theirs) = check_json(
        &[&shape[..], &["--engine", "stateright"]].concat(),
        CLUSTER_RUN_LIMIT,
    );
    let (uncut_status, uncut) = check_json(
        &[&shape[..], &["--reduce", "none"]].concat(),
        CLUSTER_RUN_LIMIT,
    );
    let (default_status, default) = check_json(&shape, CLUSTER_RUN_LIMIT);
    assert_eq!((status, uncut_status, default_status), (0, 0, 0));
    assert_eq!(theirs["complete"], true);
    assert_eq!(theirs["unique_states"], 249_974);
    assert_eq!(uncut["unique_states"], 249_974);
    assert_eq!(default["unique_states"], 211_803);
    assert_eq!(verdicts(&theirs), verdicts(&default));
    assert_eq!(verdicts(&uncut), verdicts(&default));
}

/// A running `paxos-check explore ... --ui stateright`, killed when dropped.
struct StaterightExplorer {
    child: Child,
    address: SocketAddr,
}

impl StaterightExplorer {
    fn start(model_flags: &[&str]) -> StaterightExplorer {
        let address = free_address();
        let child = Command::new(binary("paxos-check"))
            .arg("explore")
            .args(model_flags)
            .args(["--ui", "stateright", "--addr", &address.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("paxos-check starts");
        let mut explorer = StaterightExplorer { child, address };
        let deadline = Instant::now() + Duration::from_secs(30);
        while http_get(address, "/.status").is_err() {
            if let Some(status) = explorer.child.try_wait().expect("waits") {
                panic!("the Explorer exited before serving: {status}");
            }
            assert!(Instant::now() < deadline, "no answer on {address}");
            std::thread::sleep(Duration::from_millis(50));
        }
        explorer
    }

    /// `GET path`, which must answer 200.
    fn get(&self, path: &str) -> String {
        let (status, body) =
            http_get(self.address, path).unwrap_or_else(|error| panic!("GET {path}: {error}"));
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    fn get_json(&self, path: &str) -> Value {
        let body = self.get(path);
        serde_json::from_str(&body).unwrap_or_else(|error| panic!("GET {path}: {error}: {body}"))
    }
}

impl Drop for StaterightExplorer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `explore --ui stateright` serves stateright's own Explorer: its page, its status with the
/// model's properties, its states; and the counterexample `check --engine stateright` links to
/// opens in it, since both have the model with every cut off.
#[test]
fn stateright_explorer_serves_its_page_states_and_the_checks_counterexample() {
    let flaw = ["single", "--flaw", "proposer-ignores-promises"];
    let (_, report) = check_json(
        &[&flaw[..], &["--engine", "stateright"]].concat(),
        RUN_LIMIT,
    );
    let explorer = StaterightExplorer::start(&flaw);

    let page = explorer.get("/");
    assert!(page.contains("<html"), "{page}");
    assert!(page.contains("app.js"), "stateright's own page: {page}");
    let status = explorer.get_json("/.status");
    let properties: Vec<&str> = status["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .map(|property| property[1].as_str().expect("a name"))
        .collect();
    assert!(properties.contains(&"immutability"), "{status}");

    let initial = explorer.get_json("/.states");
    assert_eq!(initial.as_array().map(Vec::len), Some(1), "{initial}");
    let path = report["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .find(|property| property["name"] == "immutability")
        .and_then(|property| property["explorer_path"].as_str())
        .expect("the counterexample's Explorer path")
        .to_owned();
    let next = explorer.get_json(&format!("/.states/{path}"));
    // Each step's page carries the sequence diagram of its path, drawn by our presentation
    // layer through the model's `as_svg` (`Checkable::with_drawings`).
    let steps = next.as_array().unwrap_or_else(|| panic!("{next}"));
    assert!(
        steps
            .iter()
            .all(|step| step["svg"].as_str().is_some_and(|svg| svg.contains("<svg"))),
        "every step has its diagram: {next}"
    );
    let (status, _) = http_get(explorer.address, &format!("/.states/{path}/999")).expect("GET");
    assert_eq!(status, 404, "no 999th step");
}

/// stateright's server would panic on an address it cannot bind; `--ui stateright` tries the
/// address first and refuses a busy one by name, with exit status 2, as our Explorer does.
#[test]
fn stateright_explorer_on_a_busy_address_exits_2_naming_the_flag() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("binds an ephemeral port");
    let address = taken.local_addr().expect("has an address").to_string();
    let run = run_with_input(
        &binary("paxos-check"),
        &[
            "explore",
            "single",
            "--ui",
            "stateright",
            "--addr",
            &address,
        ],
        "",
        RUN_LIMIT,
    );
    assert_eq!(exit_status(&run), 2, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with(&format!("error: --addr {address} cannot be served")),
        "{}",
        run.stderr
    );
}
