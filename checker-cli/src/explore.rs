//! `paxos-check explore MODEL`: serve stateright's Explorer, after making sure the address can
//! be served (stateright itself would panic on a busy one).

use crate::args::ExplorerArgs;
use paxos_model::system::{ActorNames, ModelConfig, System};
use stateright::actor::Actor;
use stateright::Model;
use std::fmt::{Debug, Display};
use std::hash::Hash;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::process::ExitCode;

pub fn serve<A, C, H>(model: System<A, C, H>, explorer: &ExplorerArgs) -> ExitCode
where
    A: Actor + Clone + Send + Sync + 'static,
    A::Msg: Ord + Display + Debug + Send + Sync,
    A::Timer: Ord + Send + Sync,
    A::State: Send + Sync,
    A::Storage: Send + Sync,
    A::Random: Send + Sync,
    H: Clone + Debug + Hash + Eq + Send + Sync + 'static,
    C: ModelConfig + ActorNames + Clone + Send + Sync + 'static,
{
    let address = match usable_address(&explorer.addr) {
        Ok(address) => address,
        Err(message) => {
            eprintln!("error: --addr {message}");
            return ExitCode::from(crate::USAGE_ERROR);
        }
    };
    println!("Explorer for {}: {}", C::TITLE, model.cfg().summary());
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
