//! Commit throughput and latency of a simulated 3-node cluster (the core's replicas in the
//! deterministic simulator), on a healthy network and under the default faults.
//!
//! Figures are per virtual second of the faulty phase (the simulator's clock: message delays of
//! 1 to 20 ms, a 100 ms retry timer), so they measure the protocol's round trips, not this
//! machine; the wall-clock rate of simulated events is printed beside them. Three clients each
//! keep one command in flight, so throughput is bounded by latency by design.
//!
//! Run: `cargo bench -p paxos-e2e --bench cluster_commits` (`SIM_BENCH_SEEDS`, default 2,000).
//! A side-by-side figure for 3 real `paxos-node` processes is still to come (issue 6).

use paxos_e2e::simulator::{median_and_p99, SimConfig, Simulation};
use std::time::Instant;

fn main() {
    let seeds: u64 = std::env::var("SIM_BENCH_SEEDS")
        .ok()
        .map(|value| value.parse().expect("SIM_BENCH_SEEDS is a number"))
        .unwrap_or(2_000);
    let healthy = SimConfig {
        drop_percent: 0,
        duplicate_percent: 0,
        crash_percent_per_100ms: 0,
        partition_percent_per_100ms: 0,
        ..SimConfig::default()
    };
    for (name, cfg) in [("healthy", healthy), ("faulty", SimConfig::default())] {
        measure(name, seeds, &cfg);
    }
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
