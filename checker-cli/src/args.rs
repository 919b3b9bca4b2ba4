//! The command line as clap sees it: raw flags, each with its allowed range, turned into the
//! model crate's validated configurations by `config`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use paxos_model::check::cluster::{self, ClusterConfig};
use paxos_model::check::cuts::{Cut, Reductions};
use paxos_model::check::paxos::{self as models, MultiPaxosConfig, SingleDecreeConfig};
use paxos_model::check::settings::{Faults, NetworkKind};
use paxos_model::protocol::flaw::FlawScope;
use paxos_model::{ConfigError, Flaw};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "paxos-check",
    version,
    about = "Exhaustively model-check Paxos and browse counterexamples in the Explorer",
    long_about = "Exhaustively model-check single-decree Paxos, Multi-Paxos and a lin-kv cluster of \
                  replicas, built from the same transition functions as paxos-node, and browse any \
                  counterexample in the Explorer.\n\nExit status: 0 every property as expected on a complete run; 1 a property \
                  violated or a sometimes-property missing; 2 usage or configuration error; 3 a limit \
                  was reached before the state space was exhausted, with nothing violated."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check every property of a model and report verdicts and counterexamples.
    Check {
        #[command(subcommand)]
        model: CheckModel,
    },
    /// Serve the Explorer for a model: step through its runs in a browser, in protocol words.
    Explore {
        #[command(subcommand)]
        model: ExploreModel,
    },
    /// List the catalogue of classic Paxos flaws; with --check, let the checker catch each one.
    Flaws(FlawsArgs),
    /// Three myths about Paxos, each answered by a check: synchrony, simplicity, a strong leader.
    Myths(MythsArgs),
    /// Print a shell completion script for paxos-check on stdout (see docs/install.md).
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a manual page (roff) on stdout: `paxos-check man > paxos-check.1` for the
    /// command, `paxos-check man check single > paxos-check-check-single.1` for a subcommand.
    Man {
        /// The subcommand whose page to print, as typed after `paxos-check` (default: the
        /// command's own page, which lists them).
        #[arg(value_name = "SUBCOMMAND")]
        subcommand: Vec<String>,
    },
}

impl Command {
    /// Whether this command runs stateright's own checker (`check --engine stateright`) or
    /// serves its own Explorer (`explore --ui stateright`).
    pub fn runs_stateright(&self) -> bool {
        match self {
            Command::Check { model } => model.run().engine == Engine::Stateright,
            Command::Explore { model } => model.explorer().ui == Ui::Stateright,
            _ => false,
        }
    }

    /// The model's `--reduce`, for a check or an Explorer.
    pub fn reduce_mut(&mut self) -> Option<&mut ReduceArg> {
        match self {
            Command::Check { model } => Some(match model {
                CheckModel::Single { model, .. } => &mut model.reduce,
                CheckModel::Multi { model, .. } => &mut model.reduce,
                CheckModel::Cluster { model, .. } => &mut model.reduce,
            }),
            Command::Explore { model } => Some(match model {
                ExploreModel::Single { model, .. } => &mut model.reduce,
                ExploreModel::Multi { model, .. } => &mut model.reduce,
                ExploreModel::Cluster { model, .. } => &mut model.reduce,
            }),
            _ => None,
        }
    }

    fn reduce(&self) -> Option<Reductions> {
        match self {
            Command::Check { model } => Some(match model {
                CheckModel::Single { model, .. } => model.reduce.reduce,
                CheckModel::Multi { model, .. } => model.reduce.reduce,
                CheckModel::Cluster { model, .. } => model.reduce.reduce,
            }),
            Command::Explore { model } => Some(match model {
                ExploreModel::Single { model, .. } => model.reduce.reduce,
                ExploreModel::Multi { model, .. } => model.reduce.reduce,
                ExploreModel::Cluster { model, .. } => model.reduce.reduce,
            }),
            _ => None,
        }
    }

    /// What stateright's checker or Explorer cannot do that this command asks of it, as the
    /// error to refuse it with (rather than ignore a flag); `given` tells whether a flag (by its
    /// clap id) was typed on the command line rather than left at its default.
    pub fn refused_by_stateright(&self, given: impl Fn(&str) -> bool) -> Option<String> {
        if !self.runs_stateright() {
            return None;
        }
        let what = match self {
            Command::Check { .. } => "--engine stateright",
            _ => "--ui stateright",
        };
        if given("symmetry") || (given("reduce") && self.reduce() != Some(Reductions::NONE)) {
            return Some(format!(
                "--reduce: {what} knows none of the cuts and checks the model as it is (as \
                 --reduce none); drop --reduce, or use our own with the default"
            ));
        }
        match self {
            Command::Check { model } => {
                let run = model.run();
                if run.strategy == Strategy::Simulation {
                    return Some(
                        "--strategy simulation: with --engine stateright, --strategy is bfs or \
                         dfs (random walks need --engine ours)"
                            .into(),
                    );
                }
                if given("liveness") && run.liveness == LivenessArg::Fair {
                    return Some(
                        "--liveness fair: stateright's checker judges eventually-properties \
                         strictly (a run ends only where no step is left); use --liveness strict, \
                         or --engine ours"
                            .into(),
                    );
                }
                if run.max_memory.is_some() {
                    return Some(
                        "--max-memory: stateright's checker has no memory guard; drop \
                         --max-memory, or use --engine ours"
                            .into(),
                    );
                }
                if run.spill_dir.is_some() {
                    return Some(
                        "--spill-dir: stateright's checker keeps its queue in memory; drop \
                         --spill-dir, or use --engine ours"
                            .into(),
                    );
                }
                None
            }
            Command::Explore { .. } if given("timeout") => Some(
                "--timeout: stateright's Explorer runs its checker on demand, with no time \
                 limit; drop --timeout, or use --ui ours"
                    .into(),
            ),
            _ => None,
        }
    }
}

impl CheckModel {
    pub fn run(&self) -> &RunArgs {
        match self {
            CheckModel::Single { run, .. }
            | CheckModel::Multi { run, .. }
            | CheckModel::Cluster { run, .. } => run,
        }
    }
}

impl ExploreModel {
    pub fn explorer(&self) -> &ExplorerArgs {
        match self {
            ExploreModel::Single { explorer, .. }
            | ExploreModel::Multi { explorer, .. }
            | ExploreModel::Cluster { explorer, .. } => explorer,
        }
    }
}

/// `paxos-check myths`: the three myths and the checks that answer them.
#[derive(Args, Debug, Clone)]
pub struct MythsArgs {
    /// Only these myths (default: all three, in order).
    #[arg(value_name = "MYTH", value_enum)]
    pub only: Vec<Myth>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Checker threads for the exhaustive checks (default: the machine's cores).
    #[arg(long, default_value_t = default_threads(), value_parser = clap::value_parser!(u64).range(1..=256))]
    pub threads: u64,
    /// Write each myth's counterexample or example as an SVG sequence diagram into this
    /// directory (which must exist).
    #[arg(long, value_name = "DIR")]
    pub svg_dir: Option<PathBuf>,
    /// Address the Explorer links point to (`paxos-check explore ... --addr`).
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
}

/// The three myths of the course's overview.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Myth {
    /// "Paxos needs synchrony for safety."
    Synchrony,
    /// "Paxos is simple, so a quick implementation is right."
    Simple,
    /// "Paxos has a strong leader."
    Leader,
}

/// `paxos-check flaws`: the catalogue, and optionally the checks that bear it out.
#[derive(Args, Debug, Clone)]
pub struct FlawsArgs {
    /// Only these flaws (default: the whole catalogue).
    #[arg(value_name = "FLAW", value_parser = clap::builder::PossibleValuesParser::new(flaw_names()))]
    pub only: Vec<String>,
    /// Check every flaw in the small configuration that exposes it, and print a table of
    /// verdicts with each shortest counterexample. Exits 1 if any flaw is not as catalogued.
    #[arg(long)]
    pub check: bool,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Checker threads for the exhaustive checks of the benign flaws (default: the machine's
    /// cores). Each flawed one is one breadth-first search on one thread, so that its count of
    /// states is the same on every machine.
    #[arg(long, default_value_t = default_threads(), value_parser = clap::value_parser!(u64).range(1..=256))]
    pub threads: u64,
    /// Address the Explorer links point to (`paxos-check explore ... --addr`).
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
}

#[derive(Subcommand, Debug)]
pub enum CheckModel {
    /// Single-decree Paxos: acceptors and competing proposers agree on one value.
    #[command(mut_arg("flaw", single_decree_flaws))]
    Single {
        #[command(flatten)]
        model: SingleArgs,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Multi-Paxos: leaders fill a log, skipping Phase 1 while their ballot stands.
    #[command(mut_arg("flaw", multi_paxos_flaws))]
    Multi {
        #[command(flatten)]
        model: MultiArgs,
        #[command(flatten)]
        run: RunArgs,
    },
    /// A lin-kv cluster: replicas exactly as paxos-node runs them, and clients on one key.
    #[command(mut_arg("flaw", cluster_flaws))]
    Cluster {
        #[command(flatten)]
        model: ClusterArgs,
        #[command(flatten)]
        run: RunArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum ExploreModel {
    /// Single-decree Paxos.
    #[command(mut_arg("flaw", single_decree_flaws))]
    Single {
        #[command(flatten)]
        model: SingleArgs,
        #[command(flatten)]
        explorer: ExplorerArgs,
    },
    /// Multi-Paxos.
    #[command(mut_arg("flaw", multi_paxos_flaws))]
    Multi {
        #[command(flatten)]
        model: MultiArgs,
        #[command(flatten)]
        explorer: ExplorerArgs,
    },
    /// A lin-kv cluster of replicas.
    #[command(mut_arg("flaw", cluster_flaws))]
    Cluster {
        #[command(flatten)]
        model: ClusterArgs,
        #[command(flatten)]
        explorer: ExplorerArgs,
    },
}

/// The cluster model's shape.
#[derive(Args, Debug, Clone)]
pub struct ClusterArgs {
    /// Number of replicas (nodes), each acceptor, proposer and learner at once.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=cluster::REPLICAS_MAX as u64))]
    pub replicas: u64,
    /// Number of clients: the first writes the key, the second reads it, the third
    /// compares-and-sets it; client i talks to replica i.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=cluster::CLIENTS_MAX as u64))]
    pub clients: u64,
    /// Commands each client submits, one after the other.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=cluster::COMMANDS_MAX as u64))]
    pub commands: u64,
    /// The highest ballot round any replica may start.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=cluster::ROUNDS_MAX as i64))]
    pub rounds: u32,
    /// Retry-timer expiries in a run, across the cluster (the timer may expire at any moment it
    /// is armed). None by default: with every replica probing at the start, one expiry makes
    /// the space more than 3.7 million states (where a 6 GiB memory guard stopped it);
    /// `--start voters --timeouts 1` explores the timer's paths from the state the start
    /// reaches (2.5 million states).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=cluster::TIMEOUTS_MAX as u64))]
    pub timeouts: u64,
    /// Crashes that also lose the replica's disk (needs --crashes): the replica restarts with
    /// nothing, as a node whose data directory is gone, asks every other replica for its floors,
    /// and votes again once all have answered.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=cluster::DISK_LOSSES_MAX as u64))]
    pub disk_losses: u64,
    /// At most this many crashes in a run (--crashes bounds those at once). Default: no bound;
    /// with --disk-losses, 2.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=cluster::CRASHES_IN_RUN_MAX as u64))]
    pub crashes_in_run: Option<u64>,
    /// How the replicas start.
    #[arg(long, value_enum, default_value_t = StartArg::Fresh)]
    pub start: StartArg,
    /// The most lin-kv commands a leader puts in one slot; above 1, a leader holds commands
    /// back while a slot is in flight, so that waiting commands go together.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=cluster::BATCH_MAX as u64))]
    pub batch: u64,
    /// Replicas take a snapshot of their key-value store once this many applied slots sit in
    /// their log, drop those slots, and send the snapshot to a peer that asks for them; 0:
    /// never.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=cluster::SNAPSHOT_EVERY_MAX as u64))]
    pub snapshot_every: u64,
    #[command(flatten)]
    pub faults: FaultArgs,
    #[command(flatten)]
    pub reduce: ReduceArg,
}

/// How the cluster's replicas start.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartArg {
    /// As the node starts without state: every replica probes the others and votes once all
    /// have answered (the real start)
    Fresh,
    /// Every replica a voter from the first state: the state the fresh start reaches once every
    /// probe is answered, so a sub-case of it, with shorter runs
    Voters,
}

impl ClusterArgs {
    pub fn config(&self) -> Result<ClusterConfig, ConfigError> {
        let config = ClusterConfig {
            replicas: self.replicas as usize,
            clients: self.clients as usize,
            commands: self.commands as usize,
            rounds: self.rounds,
            timeouts: self.timeouts as usize,
            faults: self.faults.faults(),
            disk_losses: self.disk_losses as usize,
            crashes_in_run: self
                .crashes_in_run
                .map(|crashes| crashes as usize)
                .or((self.disk_losses > 0).then_some(cluster::CRASHES_IN_RUN_WITH_DISK_LOSS)),
            start: match self.start {
                StartArg::Fresh => cluster::ClusterStart::Fresh,
                StartArg::Voters => cluster::ClusterStart::Voters,
            },
            flaw: self.faults.flaw(),
            reductions: self.reduce.reduce,
            batch_max: self.batch as usize,
            snapshot_every: self.snapshot_every as usize,
        };
        config.validate()?;
        Ok(config)
    }
}

/// The Multi-Paxos model's shape.
#[derive(Args, Debug, Clone)]
pub struct MultiArgs {
    /// Number of acceptors.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=models::ACCEPTORS_MAX as u64))]
    pub acceptors: u64,
    /// Number of leaders; each has its own queue of distinct commands.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=models::PROPOSERS_MAX as u64))]
    pub leaders: u64,
    /// Length of the log.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=models::SLOTS_MAX as u64))]
    pub slots: u64,
    /// Ballots (Phase 1 runs) each leader may start.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=models::ROUNDS_MAX as i64))]
    pub rounds: u32,
    #[command(flatten)]
    pub faults: FaultArgs,
    #[command(flatten)]
    pub reduce: ReduceArg,
    #[command(flatten)]
    pub symmetry: SymmetryArg,
}

impl MultiArgs {
    pub fn config(&self) -> Result<MultiPaxosConfig, ConfigError> {
        let config = MultiPaxosConfig {
            acceptors: self.acceptors as usize,
            leaders: self.leaders as usize,
            slots: self.slots as usize,
            rounds: self.rounds,
            faults: self.faults.faults(),
            flaw: self.faults.flaw(),
            reductions: self.reduce.reductions(&self.symmetry),
        };
        config.validate()?;
        Ok(config)
    }
}

/// The single-decree model's shape.
#[derive(Args, Debug, Clone)]
pub struct SingleArgs {
    /// Number of acceptors.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=models::ACCEPTORS_MAX as u64))]
    pub acceptors: u64,
    /// Number of proposers; each proposes its own value (A, B, ...).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=models::PROPOSERS_MAX as u64))]
    pub proposers: u64,
    /// Ballots each proposer may start (it retries after a refusal, or a timeout on a lossy network).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=models::ROUNDS_MAX as i64))]
    pub rounds: u32,
    #[command(flatten)]
    pub faults: FaultArgs,
    #[command(flatten)]
    pub reduce: ReduceArg,
    #[command(flatten)]
    pub symmetry: SymmetryArg,
}

/// Faults and flaws, shared by every model.
#[derive(Args, Debug, Clone)]
pub struct FaultArgs {
    /// How the network delivers messages.
    #[arg(long, value_enum, default_value_t = NetworkArg::Unordered)]
    pub network: NetworkArg,
    /// Messages may be lost: shorthand for `--losses 2`, enough to keep a ballot of three
    /// acceptors from a majority.
    #[arg(long, conflicts_with = "losses")]
    pub lossy: bool,
    /// At most this many messages are lost in a run (any message, at any moment).
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=3))]
    pub losses: Option<u64>,
    /// At most this many acceptors (replicas, in the cluster) crashed at once; each recovers
    /// with what it persisted.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=7))]
    pub crashes: u64,
    /// Run a deliberately flawed protocol (see the flaw catalogue); `none` is Paxos itself.
    #[arg(long, default_value = "none", value_parser = clap::builder::PossibleValuesParser::new(Flaw::names()))]
    pub flaw: String,
}

/// The cuts of the state space (`paxos_model::check::cuts`).
#[derive(Args, Debug, Clone)]
pub struct ReduceArg {
    /// The cuts of the state space to make: all (the default), none, or a comma list of those
    /// the model has: symmetry (single, multi: one state per renaming of acceptors), dead
    /// (single, multi: requests that can no longer matter), stale (messages their recipient
    /// ignores for good), coalesce (cluster: repeated probes), hold (cluster: a request waits
    /// in flight until its replica votes), quiet (cluster: a probing replica's timer does not
    /// fire). Each is argued sound (docs/reductions.md), and one
    /// that does not hold under the chosen faults is off (or refused, if named); verdicts and
    /// shortest counterexamples are the same with any of them, `none` checks the model as it is.
    /// One more is asked for by name, not by `all`: por (single, multi: the partial-order
    /// reduction, breadth-first; e.g. `--reduce all,por`), which keeps every verdict and
    /// counterexample length but may lengthen an example.
    #[arg(long, value_name = "LIST", default_value = "all", value_parser = Reductions::parse)]
    pub reduce: Reductions,
}

impl ReduceArg {
    /// The cuts, with the older `--symmetry off` folded in.
    fn reductions(&self, symmetry: &SymmetryArg) -> Reductions {
        match symmetry.symmetry {
            Some(Switch::Off) => self.reduce.with(Cut::Symmetry, false),
            Some(Switch::On) | None => self.reduce,
        }
    }
}

/// `--symmetry off`, as it was before `--reduce`: every cut but symmetry.
#[derive(Args, Debug, Clone)]
pub struct SymmetryArg {
    /// Same as `--reduce dead,stale` (kept for older scripts).
    #[arg(long, value_enum, hide = true, conflicts_with = "reduce")]
    pub symmetry: Option<Switch>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switch {
    On,
    Off,
}

/// The default thread count: the machine's cores (at most the 256 the flag accepts).
fn default_threads() -> u64 {
    crate::report::machine_cores().min(256) as u64
}

/// `--flaw` as single-decree Paxos offers it: its help lists the flaws of single-decree Paxos.
/// The others still parse, so that the configuration can say which model shows them.
fn single_decree_flaws(arg: clap::Arg) -> clap::Arg {
    arg.value_parser(flaw_values(|flaw| flaw.scope() == FlawScope::SingleDecree))
}

/// `--flaw` as Multi-Paxos offers it: every flaw of the single-decree rules it shares, and its
/// own.
fn multi_paxos_flaws(arg: clap::Arg) -> clap::Arg {
    arg.value_parser(flaw_values(|flaw| {
        matches!(
            flaw.scope(),
            FlawScope::SingleDecree | FlawScope::MultiPaxos
        )
    }))
}

/// `--flaw` in the cluster: every flaw, since the replica runs every rule.
fn cluster_flaws(arg: clap::Arg) -> clap::Arg {
    arg.value_parser(flaw_values(|_| true))
}

/// Every flaw name, each with its description; those `shown` does not accept are accepted but
/// left out of the help.
fn flaw_values(shown: impl Fn(Flaw) -> bool) -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(Flaw::ALL.into_iter().map(|flaw| {
        clap::builder::PossibleValue::new(flaw.name())
            .help(flaw.description())
            .hide(!shown(flaw))
    }))
}

/// The catalogue's flaw names (Paxos itself, `none`, is not a flaw of the catalogue).
fn flaw_names() -> Vec<&'static str> {
    Flaw::names()
        .into_iter()
        .filter(|name| *name != Flaw::None.name())
        .collect()
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkArg {
    /// Messages race each other and arrive at most once.
    Unordered,
    /// Messages race each other and may arrive more than once.
    Duplicating,
    /// Messages between two actors arrive in the order sent.
    Ordered,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Breadth-first: every counterexample is a shortest one, with any number of threads.
    Bfs,
    /// Depth-first: less memory.
    Dfs,
    /// Random walks from a seed: for spaces too large to exhaust; never complete.
    Simulation,
}

/// Which checker runs a `check`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// This workbench's engine: cuts of the state space (--reduce), shortest counterexamples
    /// with any number of threads, a memory guard, Ctrl-C with a report.
    Ours,
    /// stateright's own checker (its spawn_bfs, or spawn_dfs with --strategy dfs) on the same
    /// model with every cut off, as stateright users know it.
    Stateright,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Ours => "ours",
            Engine::Stateright => "stateright",
        }
    }
}

/// Which Explorer `explore` serves.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ui {
    /// This workbench's Explorer: the protocol's words, stories, diagrams, verdicts.
    Ours,
    /// stateright's own Explorer (`checker().serve(addr)`) on the same model with every cut
    /// off: states as Rust debug output, its checker run on demand.
    Stateright,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LivenessArg {
    /// A run ends where only crashes (or steps back to the same state) are left.
    Fair,
    /// A run ends where no step at all is left (stateright's reading).
    Strict,
}

impl From<LivenessArg> for paxos_model::check::engine::Liveness {
    fn from(liveness: LivenessArg) -> Self {
        match liveness {
            LivenessArg::Fair => paxos_model::check::engine::Liveness::Fair,
            LivenessArg::Strict => paxos_model::check::engine::Liveness::Strict,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// How to run the checker and what to print.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// The checker: ours, or stateright's own. With stateright: every cut is off (it knows
    /// none), --strategy is bfs or dfs, eventually-properties are judged as --liveness strict,
    /// --max-states bounds states generated (repeats included), --timeout is looked at only when
    /// a thread goes back for work (with one thread, never), and there is no memory guard and no
    /// report on Ctrl-C (it ends the process). Its counterexamples may not be shortest: it keeps
    /// the last discovery it makes, not the first.
    #[arg(long, value_enum, default_value_t = Engine::Ours)]
    pub engine: Engine,
    /// Search strategy.
    #[arg(long, value_enum, default_value_t = Strategy::Bfs)]
    pub strategy: Strategy,
    /// Checker threads (default: the machine's cores). Breadth-first counterexamples are
    /// shortest with any number; with more than one, which of several shortest ones is shown,
    /// and how many states a run that stops early has seen, may differ from run to run.
    #[arg(long, default_value_t = default_threads(), value_parser = clap::value_parser!(u64).range(1..=256))]
    pub threads: u64,
    /// Where a run ends, for eventually-properties: fair (a state from which only crashes, or
    /// steps back to the same state, can happen: a crashed acceptor recovers and stays up), or
    /// strict (a state with no step at all, as stateright's checkers judge).
    #[arg(long, value_enum, default_value_t = LivenessArg::Fair)]
    pub liveness: LivenessArg,
    /// Stop after discovering this many distinct states (the run is then incomplete, exit
    /// status 3 unless something failed).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_states: Option<u64>,
    /// Stop after this many seconds (the run is then incomplete, exit status 3 unless
    /// something failed).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: Option<u64>,
    /// The memory budget (e.g. 4G, 512M, or bytes). A breadth-first run keeps within it by
    /// spilling the level it is building to disk, in compressed blocks, once the process's
    /// resident memory reaches seven eighths of it; it stops (with a report and exit status 3)
    /// only when the table of visited states alone takes the whole budget. A depth-first or
    /// random run (--strategy dfs, simulation) stops when resident memory reaches it. Default:
    /// three quarters of the memory available when the run starts.
    #[arg(long, value_name = "SIZE", value_parser = parse_memory_size)]
    pub max_memory: Option<u64>,
    /// Where a breadth-first run spills its frontier (default: the system's temporary
    /// directory, $TMPDIR or /tmp). The files are unnamed: they go when the run ends, however
    /// it ends.
    #[arg(long, value_name = "DIR")]
    pub spill_dir: Option<PathBuf>,
    /// Go on after the first violation until every property is decided (by default the run
    /// stops at the first violated always- or eventually-property, as TLC does, and the other
    /// properties are left undecided).
    #[arg(long)]
    pub keep_going: bool,
    /// Seed for `--strategy simulation`.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Report format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the first counterexample (or else the first example) as an SVG sequence diagram.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Write the first counterexample (or else the first example) as a self-contained HTML
    /// page: the sequence diagram beside the story and the numbered steps.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Address the Explorer links in the report point to (`paxos-check explore ... --addr`).
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
}

#[derive(Args, Debug, Clone)]
pub struct ExplorerArgs {
    /// The Explorer: ours, or stateright's own, served on the same model with every cut off
    /// (it knows none), so that a link from `check --engine stateright` opens in it. Its checker
    /// runs on demand, with --threads threads and no time limit (--timeout is ours alone).
    #[arg(long, value_enum, default_value_t = Ui::Ours)]
    pub ui: Ui,
    /// Address to serve the Explorer on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub addr: String,
    /// Checker threads behind the Explorer (default: the machine's cores).
    #[arg(long, default_value_t = default_threads(), value_parser = clap::value_parser!(u64).range(1..=256))]
    pub threads: u64,
    /// Seconds the check behind the page may run to give every property its verdict (the
    /// page serves paths meanwhile; what is undecided then stays unknown).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
}

impl FaultArgs {
    pub fn faults(&self) -> Faults {
        let network = match self.network {
            NetworkArg::Unordered => NetworkKind::Unordered,
            NetworkArg::Duplicating => NetworkKind::Duplicating,
            NetworkArg::Ordered => NetworkKind::Ordered,
        };
        let losses = match (self.lossy, self.losses) {
            (_, Some(losses)) => losses as usize,
            (true, None) => 2,
            (false, None) => 0,
        };
        Faults {
            network,
            losses,
            crashes: self.crashes as usize,
        }
    }

    pub fn flaw(&self) -> Flaw {
        self.flaw
            .parse()
            .expect("clap only accepts catalogue names")
    }
}

impl SingleArgs {
    /// The validated model configuration (ranges clap cannot check alone, such as crashes that
    /// exceed the acceptors, are checked here).
    pub fn config(&self) -> Result<SingleDecreeConfig, ConfigError> {
        let config = SingleDecreeConfig {
            acceptors: self.acceptors as usize,
            proposers: self.proposers as usize,
            rounds: self.rounds,
            faults: self.faults.faults(),
            flaw: self.faults.flaw(),
            reductions: self.reduce.reductions(&self.symmetry),
        };
        config.validate()?;
        Ok(config)
    }
}

/// A memory size: a whole number of bytes, or one with a suffix K, M, G or T (powers of 1024),
/// at least 16 MiB.
fn parse_memory_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let (digits, unit) = match trimmed.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((index, _)) => trimmed.split_at(index),
        None => (trimmed, ""),
    };
    let shift = match unit
        .trim_end_matches(['B', 'b', 'i'])
        .to_ascii_uppercase()
        .as_str()
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => {
            return Err(format!(
                "'{text}' is not a size: use bytes or a number with K, M, G or T (e.g. 4G)"
            ))
        }
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a size: use a whole number (e.g. 4G)"))?;
    let bytes = number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("'{text}' is too large"))?;
    const MINIMUM: u64 = 16 << 20;
    if bytes < MINIMUM {
        return Err(format!("'{text}' is below the minimum of 16M"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::parse_memory_size;

    #[test]
    fn memory_sizes_take_binary_suffixes_and_refuse_nonsense() {
        assert_eq!(parse_memory_size("4G"), Ok(4 << 30));
        assert_eq!(parse_memory_size("512M"), Ok(512 << 20));
        assert_eq!(parse_memory_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_memory_size("1073741824"), Ok(1 << 30));
        assert!(parse_memory_size("1M")
            .unwrap_err()
            .contains("minimum of 16M"));
        assert!(parse_memory_size("lots")
            .unwrap_err()
            .contains("not a size"));
        assert!(parse_memory_size("4X").unwrap_err().contains("not a size"));
        assert!(parse_memory_size("99999999999T")
            .unwrap_err()
            .contains("too large"));
    }
}
