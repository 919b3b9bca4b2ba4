//! `paxos-check explore MODEL`: serve stateright's Explorer, after making sure the address can
//! be served (stateright itself would panic on a busy one).

use crate::args::ExplorerArgs;
use paxos_model::check::settings::Checkable;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::process::ExitCode;

pub fn serve<M: Checkable>(model: M, explorer: &ExplorerArgs) -> ExitCode {
    let address = match usable_address(&explorer.addr) {
        Ok(address) => address,
        Err(message) => {
            eprintln!("error: --addr {message}");
            return ExitCode::from(crate::USAGE_ERROR);
        }
    };
    println!("Explorer for {}: {}", model.title(), model.summary());
    println!("serving on http://{address}/ (Ctrl-C to stop)");
    model
        .checker()
        .threads(explorer.threads as usize)
        .serve(address);
    ExitCode::SUCCESS
}

/// Resolves `text` and checks that it can be bound now, so that a typo or a busy port is a
/// clear error rather than a panic inside the web server.
fn usable_address(text: &str) -> Result<SocketAddr, String> {
    let address = text
        .to_socket_addrs()
        .map_err(|error| format!("'{text}' is not an address like 127.0.0.1:3000 ({error})"))?
        .next()
        .ok_or_else(|| format!("'{text}' resolves to no address"))?;
    let probe = TcpListener::bind(address)
        .map_err(|error| format!("{address} cannot be served: {error}"))?;
    drop(probe);
    Ok(address)
}
