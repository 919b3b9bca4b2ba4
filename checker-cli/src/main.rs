//! `paxos-check`: exhaustive checks of the Paxos models, and an Explorer for them.
//!
//! Thin glue in the manner of ripgrep: clap parses raw flags (`args`), the model crate validates
//! them into a configuration, and one function per subcommand runs it (`run`, `explore`,
//! `flaws`, `myths`) and prints a report (`report`); `explorer` serves the Explorer's page.

mod args;
mod estimate;
mod explore;
mod explorer;
mod flaws;
mod myths;
mod page;
mod report;
mod run;
mod stateright_engine;

use args::{CheckModel, Cli, Command, Engine, ExploreModel, Format, RunArgs};
use clap::{ArgMatches, CommandFactory, FromArgMatches};
use paxos_model::check::checkable::Checkable;
use paxos_model::check::cluster::cluster_model;
use paxos_model::check::cuts::Reductions;
use paxos_model::check::paxos::{multi_paxos_model, single_decree_model};
use paxos_model::ConfigError;
use report::RunDescription;
use run::RunSettings;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit status for usage and configuration errors (clap uses it too).
const USAGE_ERROR: u8 = 2;

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    let typed = innermost(&matches);
    let given = |id: &str| {
        typed.ids().any(|known| known.as_str() == id)
            && typed.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
    };
    if let Some(refusal) = cli.command.refused_by_stateright(given) {
        eprintln!("error: {refusal}");
        return ExitCode::from(USAGE_ERROR);
    }
    // stateright's checker and Explorer know none of our cuts: they get the model as it is, and
    // the model's flags (in the report's links and commands) say so with `--reduce none`.
    if cli.command.runs_stateright() {
        if let Some(reduce) = cli.command.reduce_mut() {
            reduce.reduce = Reductions::NONE;
        }
    }
    let result = match cli.command {
        Command::Check {
            model: CheckModel::Single { model, run },
        } => model
            .config()
            .map(|config| check(single_decree_model(config), &run)),
        Command::Check {
            model: CheckModel::Multi { model, run },
        } => model
            .config()
            .map(|config| check(multi_paxos_model(config), &run)),
        Command::Check {
            model: CheckModel::Cluster { model, run },
        } => model
            .config()
            .map(|config| check(cluster_model(config), &run)),
        Command::Explore {
            model: ExploreModel::Single { model, explorer },
        } => model
            .config()
            .map(|config| explore::serve_as(single_decree_model(config), &explorer)),
        Command::Explore {
            model: ExploreModel::Multi { model, explorer },
        } => model
            .config()
            .map(|config| explore::serve_as(multi_paxos_model(config), &explorer)),
        Command::Explore {
            model: ExploreModel::Cluster { model, explorer },
        } => model
            .config()
            .map(|config| explore::serve_as(cluster_model(config), &explorer)),
        Command::Flaws(args) => Ok(flaws::run(&args)),
        Command::Myths(args) => Ok(myths::run(&args)),
        Command::Completions { shell } => Ok(completions(shell)),
        Command::Man { subcommand } => Ok(manual_page(&subcommand)),
    };
    match result {
        Ok(code) => code,
        Err(error) => usage_error(&error),
    }
}

/// The matches of the subcommand typed last (`check single`'s, for `paxos-check check single`).
fn innermost(matches: &ArgMatches) -> &ArgMatches {
    match matches.subcommand() {
        Some((_, sub)) => innermost(sub),
        None => matches,
    }
}

/// `paxos-check completions SHELL`: the completion script clap_complete writes for the CLI's
/// own definition, so that it offers exactly the subcommands, flags and values there are.
fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "paxos-check", &mut std::io::stdout());
    ExitCode::SUCCESS
}

/// `paxos-check man [SUBCOMMAND...]`: a manual page, rendered by clap_mangen from the same
/// definition. A subcommand's page is named as the command's page refers to it
/// (`paxos-check-check-single`).
fn manual_page(path: &[String]) -> ExitCode {
    let mut command = Cli::command();
    let mut name = String::from("paxos-check");
    let mut typed = String::from("paxos-check");
    for part in path {
        let Some(sub) = command.find_subcommand(part).cloned() else {
            eprintln!("error: `{typed}` has no subcommand '{part}'; `{typed} --help` lists them");
            return ExitCode::from(USAGE_ERROR);
        };
        typed = format!("{typed} {part}");
        name = format!("{name}-{part}");
        command = sub.name(name.clone()).version(env!("CARGO_PKG_VERSION"));
    }
    let page = clap_mangen::Man::new(command);
    let mut out = std::io::stdout().lock();
    match page.render(&mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: writing the manual page: {error}");
            ExitCode::FAILURE
        }
    }
}

fn usage_error(error: &ConfigError) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(USAGE_ERROR)
}

/// `paxos-check check MODEL`: run, report, and exit with the verdict.
fn check<M: Checkable>(model: M, run: &RunArgs) -> ExitCode {
    let settings = RunSettings {
        strategy: run.strategy,
        threads: run.threads as usize,
        max_states: run.max_states.map(|n| n as usize),
        timeout: run.timeout.map(Duration::from_secs),
        max_memory: match run.engine {
            Engine::Ours => run.max_memory.or_else(default_memory_limit),
            Engine::Stateright => None,
        },
        spill_dir: run.spill_dir.clone(),
        seed: run.seed,
        keep_going: run.keep_going,
        liveness: run.liveness.into(),
        progress: true,
        // stateright's checker cannot be stopped from outside: Ctrl-C ends the process, as it
        // does any program that does not catch it.
        interrupt: (run.engine == Engine::Ours).then(interrupt_flag),
    };
    let description = RunDescription {
        model_name: model.name(),
        model_title: model.title(),
        summary: model.summary(),
        flags: model.flags(),
        strategy: run.strategy,
        threads: settings.threads,
        explorer_addr: run.addr,
        cuts: model.cuts(),
        ballot_notation: model.ballot_notation(),
        run_flags: run_flags(run),
        engine: run.engine,
    };
    if run.strategy == args::Strategy::Simulation
        && run.max_states.is_none()
        && run.timeout.is_none()
    {
        eprintln!("error: --strategy simulation never exhausts the state space; give it --timeout or --max-states");
        return ExitCode::from(USAGE_ERROR);
    }
    if run.strategy != args::Strategy::Simulation && run.seed != 0 {
        eprintln!(
            "warning: --seed has no effect with --strategy {}: only simulation draws random numbers",
            if run.strategy == args::Strategy::Bfs { "bfs" } else { "dfs" }
        );
    }
    // Fail on an unwritable --svg or --html now, not after a long run.
    for (flag, path) in [("--svg", &run.svg), ("--html", &run.html)] {
        if let Some(path) = path {
            if let Err(error) = std::fs::File::create(path) {
                eprintln!("error: {flag} {}: {error}", path.display());
                return ExitCode::from(USAGE_ERROR);
            }
        }
    }
    if let Some(note) = estimate::note(description.model_name, &description.flags) {
        eprintln!("{note}");
    }
    let flaw = model.flaw();
    let outcome = match run.engine {
        Engine::Ours => run::check(model, &settings),
        Engine::Stateright => stateright_engine::check(model, &settings),
    };
    let flaw_note = flaws::note_on_run(
        flaw,
        description.model_name,
        &description.flags,
        &outcome,
        run.addr,
    );
    match run.format {
        Format::Text => {
            print!("{}", report::text(&description, &outcome));
            if let Some(note) = &flaw_note {
                print!("\n{note}\n");
            }
        }
        Format::Json => {
            let mut report = report::json(&description, &outcome);
            if let Some(note) = flaw_note {
                report["flaw_note"] = note.into();
            }
            println!("{report}");
        }
    }
    if let Some(path) = &run.svg {
        match &outcome.svg {
            Some((property, svg)) => match std::fs::write(path, svg) {
                Ok(()) => eprintln!("wrote the path of \"{property}\" to {}", path.display()),
                Err(error) => {
                    eprintln!("error: --svg {}: {error}", path.display());
                    return ExitCode::from(USAGE_ERROR);
                }
            },
            None => eprintln!(
                "note: --svg {}: nothing was discovered, so there is no path to draw",
                path.display()
            ),
        }
    }
    if let Some(path) = &run.html {
        match page::html(&description, &outcome) {
            Some((property, html)) => match std::fs::write(path, html) {
                Ok(()) => eprintln!("wrote the page of \"{property}\" to {}", path.display()),
                Err(error) => {
                    eprintln!("error: --html {}: {error}", path.display());
                    return ExitCode::from(USAGE_ERROR);
                }
            },
            None => eprintln!(
                "note: --html {}: nothing was discovered, so there is no path to show",
                path.display()
            ),
        }
    }
    ExitCode::from(outcome.exit_code() as u8)
}

/// The run's flags that differ from the defaults, as `(flag, value)`, so that a command a report
/// suggests (more threads, more time) reproduces the rest of the run.
fn run_flags(run: &RunArgs) -> Vec<(&'static str, String)> {
    let mut flags = Vec::new();
    if run.engine == Engine::Stateright {
        flags.push(("engine", "stateright".to_owned()));
    }
    match run.strategy {
        args::Strategy::Bfs => {}
        args::Strategy::Dfs => flags.push(("strategy", "dfs".to_owned())),
        args::Strategy::Simulation => flags.push(("strategy", "simulation".to_owned())),
    }
    if run.threads as usize != report::machine_cores() {
        flags.push(("threads", run.threads.to_string()));
    }
    if let Some(states) = run.max_states {
        flags.push(("max-states", states.to_string()));
    }
    if let Some(seconds) = run.timeout {
        flags.push(("timeout", seconds.to_string()));
    }
    if let Some(bytes) = run.max_memory {
        flags.push(("max-memory", bytes.to_string()));
    }
    if let Some(dir) = &run.spill_dir {
        flags.push(("spill-dir", dir.display().to_string()));
    }
    if run.keep_going {
        flags.push(("keep-going", String::new()));
    }
    if run.strategy == args::Strategy::Simulation && run.seed != 0 {
        flags.push(("seed", run.seed.to_string()));
    }
    flags
}

/// The memory guard when `--max-memory` is not given: three quarters of what the machine has
/// available now, so that the run stops with a report well before the kernel would kill it.
pub fn default_memory_limit() -> Option<u64> {
    paxos_model::check::engine::available_memory_bytes().map(|available| available / 4 * 3)
}

/// A flag that the first Ctrl-C raises, so that the run stops and reports what it explored; a
/// second Ctrl-C ends the process at once.
fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let raised = Arc::clone(&flag);
    let installed = ctrlc::set_handler(move || {
        if raised.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\ninterrupted: stopping the run and reporting what was explored (Ctrl-C again to quit at once)");
    });
    if let Err(error) = installed {
        eprintln!("warning: Ctrl-C will end the run without a report: {error}");
    }
    flag
}
