//! Commit throughput and latency of a 3-node cluster: simulated (the core's replicas in the
//! deterministic simulator), on a healthy network and under the default faults; and real (three
//! `paxos-node` release processes behind the test router, on a healthy network).
//!
//! Figures are per virtual second of the faulty phase (the simulator's clock: message delays of
//! 1 to 20 ms, a 100 ms retry timer), so they measure the protocol's round trips, not this
//! machine; the wall-clock rate of simulated events is printed beside them. Three clients each
//! keep one command in flight, so throughput is bounded by latency by design.
//!
//! The real cluster is measured in wall time with one client and one command in flight, sent
//! to a node at random (two in three go to a follower, which forwards): it measures the round
//! trips through pipes, the router and `--data-dir` fsyncs on this machine.
//!
//! Run: `cargo bench -p paxos-e2e --bench cluster_commits` (`SIM_BENCH_SEEDS`, default 2,000;
//! `REAL_BENCH_COMMANDS`, default 2,000).

use paxos_e2e::router::{Cluster, NODES};
use paxos_e2e::simulator::{median_and_p99, SimConfig, Simulation};
use rand::Rng;
use serde_json::json;
use std::time::Instant;

fn main() {
    let seeds: u64 = std::env::var("SIM_BENCH_SEEDS")
        .ok()
        .map(|value| value.parse().expect("SIM_BENCH_SEEDS is a number"))
        .unwrap_or(2_000);
    // lin-kv commands only: named-slot proposals would load the log without being counted.
    let faulty = SimConfig {
        slot_proposers: 0,
        ..SimConfig::default()
    };
    let healthy = SimConfig {
        drop_percent: 0,
        duplicate_percent: 0,
        crash_percent_per_100ms: 0,
        partition_percent_per_100ms: 0,
        ..faulty.clone()
    };
    for (name, cfg) in [("healthy", healthy), ("faulty", faulty)] {
        measure(name, seeds, &cfg);
    }
    let commands: u64 = std::env::var("REAL_BENCH_COMMANDS")
        .ok()
        .map(|value| value.parse().expect("REAL_BENCH_COMMANDS is a number"))
        .unwrap_or(2_000);
    measure_real(commands);
}

fn measure_real(commands: u64) {
    let data_dir = std::env::temp_dir().join(format!("paxos-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir).expect("a data directory");
    let mut cluster = Cluster::start(data_dir.clone(), 0);
    let started = Instant::now();
    let mut latencies_us = Vec::new();
    for msg_id in 1..=commands {
        let node = cluster.rng.random_range(0..NODES);
        let key = cluster.rng.random_range(0..4);
        let body = if msg_id % 2 == 0 {
            json!({"type": "read", "key": key})
        } else {
            json!({"type": "write", "key": key, "value": msg_id})
        };
        let sent = Instant::now();
        if cluster.request(node, msg_id, body).is_some() {
            latencies_us.push(sent.elapsed().as_micros() as u64);
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let committed = latencies_us.len();
    let (median, p99) = median_and_p99(&mut latencies_us).unwrap_or((0, 0));
    println!(
        "3 real paxos-node processes, healthy, --data-dir with fsync: {committed} of {commands} \
         commands committed in {wall:.1} s = {:.0} commits/s; commit latency median {:.2} ms, \
         p99 {:.2} ms",
        committed as f64 / wall,
        median as f64 / 1000.0,
        p99 as f64 / 1000.0
    );
    drop(cluster);
    let _ = std::fs::remove_dir_all(&data_dir);
}

fn measure(name: &str, seeds: u64, cfg: &SimConfig) {
    let started = Instant::now();
    let mut latencies = Vec::new();
    let (mut submitted, mut answered, mut messages) = (0, 0, 0);
    for seed in 0..seeds {
        let report = Simulation::new(seed, cfg.clone())
            .run()
            .unwrap_or_else(|failure| panic!("{failure}"));
        submitted += report.submitted;
        answered += report.answered;
        messages += report.messages;
        latencies.extend(report.commit_latencies_ms);
    }
    let wall = started.elapsed().as_secs_f64();
    let virtual_seconds = seeds as f64 * cfg.faulty_ms as f64 / 1000.0;
    let (median, p99) = median_and_p99(&mut latencies).unwrap_or((0, 0));
    println!(
        "simulated 3 nodes, {name}: {answered} of {submitted} commands committed in {seeds} runs \
         = {:.1} commits per virtual second; commit latency median {median} ms, p99 {p99} ms; \
         {messages} messages simulated in {wall:.1} s wall ({:.0} messages/s)",
        answered as f64 / virtual_seconds,
        messages as f64 / wall
    );
}
