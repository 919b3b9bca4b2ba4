//! `paxos-check explore MODEL`: serve the Explorer (`explorer`) for a model, or stateright's
//! own (`--ui stateright`), after making sure the address can be served: a typo or a busy port
//! is a clear error with exit status 2.

use crate::args::{ExplorerArgs, Strategy, Ui};
use crate::run::RunSettings;
use paxos_model::check::checkable::Checkable;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

/// Serves the Explorer `explorer.ui` names.
pub fn serve_as<M: Checkable>(model: M, explorer: &ExplorerArgs) -> ExitCode {
    match explorer.ui {
        Ui::Ours => serve(model, explorer),
        Ui::Stateright => serve_stateright(model, explorer),
    }
}

/// stateright's own Explorer (`checker().serve(addr)`), as its users know it: its page, its
/// `/.status` and `/.states/...`, its on-demand checker on `--threads` threads. `model` has
/// every cut off (the command line sees to it), so the paths of `check --engine stateright`
/// open in it.
fn serve_stateright<M: Checkable>(model: M, explorer: &ExplorerArgs) -> ExitCode {
    // stateright's server panics on an address it cannot bind; try it first, then hand the
    // address over.
    let address = match listen(&explorer.addr) {
        Ok(listener) => listener
            .local_addr()
            .expect("a bound socket has an address"),
        Err(message) => {
            eprintln!("error: --addr {message}");
            return ExitCode::from(crate::USAGE_ERROR);
        }
    };
    println!(
        "stateright's Explorer for {}: {}",
        model.title(),
        model.summary()
    );
    println!("serving on http://{address}/ (Ctrl-C to stop)");
    // Serves until the process ends; with the drawings its page shows beside each path.
    model
        .with_drawings()
        .checker()
        .threads(explorer.threads as usize)
        .serve(address);
    ExitCode::SUCCESS
}

fn serve<M: Checkable>(model: M, explorer: &ExplorerArgs) -> ExitCode {
    let listener = match listen(&explorer.addr) {
        Ok(listener) => listener,
        Err(message) => {
            eprintln!("error: --addr {message}");
            return ExitCode::from(crate::USAGE_ERROR);
        }
    };
    let address = listener
        .local_addr()
        .expect("a bound socket has an address");
    println!("Explorer for {}: {}", model.title(), model.summary());
    println!("serving on http://{address}/ (Ctrl-C to stop)");
    // The check behind the page: the search `check --keep-going` makes, quietly and within its
    // own time limit, so that every property it can decide shows a verdict.
    let settings = RunSettings {
        strategy: Strategy::Bfs,
        threads: explorer.threads as usize,
        max_states: None,
        timeout: Some(Duration::from_secs(explorer.timeout)),
        max_memory: crate::default_memory_limit(),
        spill_dir: None,
        seed: 0,
        keep_going: true,
        liveness: paxos_model::check::engine::Liveness::Fair,
        progress: false,
        interrupt: None,
    };
    crate::explorer::serve(model, listener, settings);
    ExitCode::SUCCESS
}

/// Resolves `text` and binds it.
fn listen(text: &str) -> Result<TcpListener, String> {
    let address: SocketAddr = text
        .to_socket_addrs()
        .map_err(|error| format!("'{text}' is not an address like 127.0.0.1:3000 ({error})"))?
        .next()
        .ok_or_else(|| format!("'{text}' resolves to no address"))?;
    TcpListener::bind(address).map_err(|error| format!("{address} cannot be served: {error}"))
}
