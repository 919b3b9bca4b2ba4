//! How far `paxos-check` reaches on this machine: the configurations one size up from the
//! defaults, each run by the release binary to the end or to a limit, with unique states, time,
//! peak memory, bytes per unique state (all, and the visited table's), and whether each
//! property was decided, printed as a table beside the target each row is held to.
//!
//! A row that stops at its limit says so (`stopped`), with what it reached; nothing here is
//! timed against a pass/fail threshold: the table is the measurement.
//!
//! Run: `cargo bench -p paxos-e2e --bench reach`. `REACH_BENCH_TIMEOUT` (seconds per row,
//! default 600), `REACH_BENCH_THREADS` (default 2), `REACH_BENCH_ROWS` (a comma-separated list
//! of row numbers from the table, default all), `REACH_BENCH_MAX_MEMORY` (passed to
//! `--max-memory`, default the checker's own), `REACH_BENCH_REDUCE` (passed to `--reduce`,
//! default the checker's own, `all`; `all,por` adds the partial-order reduction).

use paxos_e2e::{binary, env_count};
use serde_json::Value;
use std::process::Command;

/// A configuration and the target it is held to: at most `seconds` and `gib` of memory.
struct Row {
    args: &'static str,
    seconds: u64,
    gib: u64,
}

/// The rows: the configurations one size up that the checker is asked to exhaust, and the
/// largest of those it exhausted before.
const ROWS: &[Row] = &[
    Row {
        args: "single --proposers 3 --rounds 2",
        seconds: 600,
        gib: 12,
    },
    Row {
        args: "single --acceptors 5 --rounds 2",
        seconds: 600,
        gib: 12,
    },
    Row {
        args: "single --acceptors 4 --proposers 3",
        seconds: 600,
        gib: 12,
    },
    Row {
        args: "multi --rounds 3",
        seconds: 600,
        gib: 12,
    },
    Row {
        args: "multi --slots 3 --rounds 2",
        seconds: 600,
        gib: 12,
    },
    Row {
        args: "multi --leaders 3",
        seconds: 600,
        gib: 12,
    },
    Row {
        args: "cluster --clients 3 --timeouts 0 --rounds 1",
        seconds: 600,
        gib: 12,
    },
    Row {
        args: "single --proposers 4",
        seconds: 60,
        gib: 3,
    },
    Row {
        args: "single --acceptors 5 --proposers 3",
        seconds: 600,
        gib: 12,
    },
    Row {
        args: "cluster --losses 1",
        seconds: 60,
        gib: 12,
    },
    Row {
        args: "single --rounds 3",
        seconds: 600,
        gib: 12,
    },
    Row {
        args: "multi --rounds 2",
        seconds: 600,
        gib: 12,
    },
];

const MIB: f64 = 1024.0 * 1024.0;

fn main() {
    let timeout = env_count("REACH_BENCH_TIMEOUT", 600);
    let threads = env_count("REACH_BENCH_THREADS", 2);
    let chosen: Option<Vec<usize>> = std::env::var("REACH_BENCH_ROWS").ok().map(|list| {
        list.split(',')
            .map(|number| {
                number
                    .trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("REACH_BENCH_ROWS lists row numbers, not {list:?}"))
            })
            .collect()
    });
    let max_memory = std::env::var("REACH_BENCH_MAX_MEMORY").ok();
    let reduce = std::env::var("REACH_BENCH_REDUCE").ok();
    let checker = binary("paxos-check");
    println!(
        "paxos-check reach: release build, --threads {threads}, --timeout {timeout} per row{}{}",
        max_memory
            .as_deref()
            .map(|size| format!(", --max-memory {size}"))
            .unwrap_or_default(),
        reduce
            .as_deref()
            .map(|cuts| format!(", --reduce {cuts}"))
            .unwrap_or_default()
    );
    println!(
        "{:>2}  {:<44} {:>12} {:>8} {:>9} {:>7} {:>7}  {:<24} end",
        "#", "paxos-check check ...", "unique", "s", "peak MiB", "B/st", "B/vis", "target"
    );
    for (number, row) in ROWS.iter().enumerate().map(|(index, row)| (index + 1, row)) {
        if chosen.as_ref().is_some_and(|rows| !rows.contains(&number)) {
            continue;
        }
        let mut command = Command::new(&checker);
        command
            .arg("check")
            .args(row.args.split_whitespace())
            .args([
                "--threads",
                &threads.to_string(),
                "--timeout",
                &timeout.to_string(),
                "--format",
                "json",
            ]);
        if let Some(size) = &max_memory {
            command.args(["--max-memory", size]);
        }
        if let Some(cuts) = &reduce {
            command.args(["--reduce", cuts]);
        }
        let output = command.output().expect("paxos-check runs");
        let report: Value = match serde_json::from_slice(&output.stdout) {
            Ok(report) => report,
            Err(error) => {
                println!(
                    "{number:>2}  {:<44} no report ({error}); stderr: {}",
                    row.args,
                    String::from_utf8_lossy(&output.stderr).trim()
                );
                continue;
            }
        };
        println!("{}", line(number, row, &report));
    }
}

/// One row of the table from the checker's JSON report.
fn line(number: usize, row: &Row, report: &Value) -> String {
    let unique = report["unique_states"].as_u64().unwrap_or(0);
    let seconds = report["seconds"].as_f64().unwrap_or(0.0);
    let peak = report["peak_memory_bytes"].as_u64().unwrap_or(0);
    let visited = report["visited_bytes"].as_u64().unwrap_or(0);
    let per_state = |bytes: u64| {
        if unique == 0 {
            0.0
        } else {
            bytes as f64 / unique as f64
        }
    };
    let complete = report["complete"].as_bool().unwrap_or(false);
    let undecided = report["properties"]
        .as_array()
        .map(|properties| {
            properties
                .iter()
                .filter(|property| property["verdict"] == "unknown")
                .count()
        })
        .unwrap_or(0);
    let end = if complete {
        if undecided == 0 {
            "exhausted".to_owned()
        } else {
            format!("{undecided} undecided")
        }
    } else {
        format!(
            "stopped: {}",
            report["stopped_by"].as_str().unwrap_or("a violation")
        )
    };
    let met = complete
        && undecided == 0
        && seconds <= row.seconds as f64
        && peak as f64 <= row.gib as f64 * 1024.0 * MIB;
    format!(
        "{number:>2}  {:<44} {:>12} {:>8.1} {:>9.0} {:>7.0} {:>7.1}  {:<24} {end}",
        row.args,
        unique,
        seconds,
        peak as f64 / MIB,
        per_state(peak),
        per_state(visited),
        format!(
            "{} s, {} GiB: {}",
            row.seconds,
            row.gib,
            if met { "met" } else { "not met" }
        ),
    )
}
