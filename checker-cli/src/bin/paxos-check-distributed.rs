//! `paxos-check-distributed`: `check single` as one breadth-first search spread over timely
//! dataflow workers, threads or processes (`paxos_model::check::distributed`), a prototype
//! built only with the cargo feature `distributed`. It prints, from worker 0, one JSON line:
//! unique states, depth, each property's verdict and the traffic between workers; a test in
//! the long suite holds it to the one-process engine (`tests/tests/distributed.rs`).
//!
//! Usage: `paxos-check-distributed [--acceptors N] [--proposers N] [--rounds N] [--flaw NAME]
//! [-- TIMELY]`,
//! where TIMELY are timely's own arguments: `-w THREADS` for threads in one process, or
//! `-n PROCESSES -p INDEX -h HOSTFILE` for one process of several (the hostfile lists each
//! process's `host:port`, one per line). Every process must be given the same model flags.

use clap::Parser;
use paxos_model::check::distributed::explore_on;
use paxos_model::check::paxos::{single_decree_model, SingleDecreeConfig};
use paxos_model::protocol::flaw::Flaw;
use serde_json::json;
use stateright::{Expectation, Model};
use std::process::ExitCode;

/// One `check single` run spread over timely workers.
#[derive(Parser, Debug)]
#[command(name = "paxos-check-distributed", version)]
struct Args {
    /// Acceptors (2..=5 as `check single` allows).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=7))]
    acceptors: u8,
    /// Proposers.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=4))]
    proposers: u8,
    /// Ballots each proposer may start.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=3))]
    rounds: u32,
    /// A flaw from the catalogue to plant (`paxos-check flaws` lists them).
    #[arg(long, default_value = "none", value_parser = parse_flaw)]
    flaw: Flaw,
    /// timely's arguments, after `--`: `-w N`, or `-n N -p I -h HOSTFILE`.
    #[arg(last = true)]
    timely: Vec<String>,
}

fn parse_flaw(name: &str) -> Result<Flaw, String> {
    name.parse::<Flaw>().map_err(|error| error.to_string())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = SingleDecreeConfig {
        acceptors: usize::from(args.acceptors),
        proposers: usize::from(args.proposers),
        rounds: args.rounds,
        flaw: args.flaw,
        ..SingleDecreeConfig::default()
    };
    let timely_args = std::iter::once("paxos-check-distributed".to_owned()).chain(args.timely);
    let started = std::time::Instant::now();
    let guards = timely::execute_from_args(timely_args, move |worker| {
        let model = single_decree_model(config.clone());
        let outcome = explore_on(&model, worker);
        if worker.index() == 0 {
            let properties: Vec<_> = model
                .properties()
                .iter()
                .zip(&outcome.discovered)
                .map(|(property, &discovered)| {
                    let sometimes = property.expectation == Expectation::Sometimes;
                    let verdict = match (sometimes, discovered) {
                        (true, true) => "example",
                        (true, false) => "no example",
                        (false, true) => "violated",
                        (false, false) => "holds",
                    };
                    json!({"name": property.name, "verdict": verdict})
                })
                .collect();
            println!(
                "{}",
                json!({
                    "workers": outcome.workers,
                    "unique_states": outcome.unique_states,
                    "max_depth": outcome.max_depth,
                    "properties": properties,
                    "path_steps_sent": outcome.path_steps_sent,
                    "seconds": started.elapsed().as_secs_f64(),
                })
            );
        }
    });
    match guards {
        Ok(guards) => {
            for result in guards.join() {
                if let Err(message) = result {
                    eprintln!("error: a worker failed: {message}");
                    return ExitCode::from(1);
                }
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: timely arguments: {message}");
            ExitCode::from(2)
        }
    }
}
