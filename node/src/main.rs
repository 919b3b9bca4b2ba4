//! `paxos-node`: a Maelstrom node for the course's Paxos tasks (7-3-1 to 7-3-4).
//!
//! Reads one JSON message per line on stdin and writes replies on stdout; logs go to stderr.
//! Every protocol decision is made by `paxos-model`; this loop only moves lines.

mod codec;
mod node;

use paxos_model::protocol::rules::TimerChange;
use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: paxos-node [--data-dir DIR] [--timeout-ms N]

A Maelstrom node for the consensus track's Paxos tasks (7-3-1 to 7-3-4), and a replica of a
lin-kv store when node_ids name more than one node.
Reads one JSON message per line on stdin, answers on stdout, logs to stderr.

  --data-dir DIR   make the cluster acceptor's promises and acceptances durable in DIR
                   (written and fsynced before any reply leaves; a restarted node resumes
                   from them). Without it, all state is kept in memory only.
  --timeout-ms N   retry timer of the cluster replica, in milliseconds (default 200, 1 to
                   60000); each node waits N plus a share of N by its index, so that
                   nodes do not all take over at once.

Messages: init, paxos_prepare, paxos_accept, paxos_chosen, paxos_safety_test,
paxos_invariant_check, multi_paxos_propose, multi_paxos_log, read, write, cas;
between nodes: paxos_prepare, paxos_promise, paxos_accept, paxos_accepted (and their
refusals), paxos_forward, paxos_forward_slot, paxos_learn, paxos_catch_up.";

struct Options {
    data_dir: Option<PathBuf>,
    timeout_ms: u64,
}

fn parse_options(arguments: &[String]) -> Result<Option<Options>, String> {
    let mut options = Options {
        data_dir: None,
        timeout_ms: 200,
    };
    let mut arguments = arguments.iter();
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "-h" | "--help" => return Ok(None),
            "--data-dir" => {
                let dir = arguments.next().ok_or("--data-dir needs a directory")?;
                let dir = PathBuf::from(dir);
                if !dir.is_dir() {
                    return Err(format!("--data-dir {}: not a directory", dir.display()));
                }
                options.data_dir = Some(dir);
            }
            "--timeout-ms" => {
                let value = arguments.next().ok_or("--timeout-ms needs a number")?;
                options.timeout_ms = value
                    .parse()
                    .ok()
                    .filter(|ms| (1..=60_000).contains(ms))
                    .ok_or_else(|| format!("--timeout-ms must be from 1 to 60000 (got {value})"))?;
            }
            other => return Err(format!("unexpected argument '{other}'")),
        }
    }
    Ok(Some(options))
}

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_options(&arguments) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return;
        }
        Err(error) => {
            eprintln!("paxos-node: {error}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let node = node::Node::new(options.data_dir);
    let timeout = Duration::from_millis(options.timeout_ms);
    match serve_stdin(node, timeout, io::stdout().lock()) {
        Ok(()) => {}
        // A closed stdout means nobody is listening any more; anything else is worth saying.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {}
        Err(error) => {
            eprintln!("paxos-node: {error}");
            std::process::exit(1);
        }
    }
}

/// Reads stdin on its own thread, in batches (whatever one read made available), so that the
/// loop below can wait for a line or for the retry timer, whichever comes first.
fn serve_stdin(node: node::Node, timeout: Duration, output: impl Write) -> io::Result<()> {
    let (batches, inbox) = mpsc::sync_channel::<io::Result<Vec<u8>>>(4);
    std::thread::spawn(move || {
        // Our own buffer, not stdin's: `buffer()` tells what is already read without waiting.
        let mut input = io::BufReader::with_capacity(1 << 16, io::stdin());
        loop {
            let batch = read_batch(&mut input);
            let done = matches!(&batch, Ok(lines) if lines.is_empty()) || batch.is_err();
            if batches.send(batch).is_err() || done {
                break;
            }
        }
    });
    serve(node, timeout, inbox, output)
}

/// The next line and every further one `input` has already buffered, in one buffer, without
/// waiting for more (waiting would hold back the answer to a client that waits for it): one
/// batch is answered, then flushed. Empty at the end of input. One buffer per batch, not one per
/// line, because lines are read on one thread and freed on another.
fn read_batch<R: io::Read>(input: &mut io::BufReader<R>) -> io::Result<Vec<u8>> {
    let mut lines = Vec::with_capacity(input.buffer().len() + 256);
    loop {
        if input.read_until(b'\n', &mut lines)? == 0 || input.buffer().is_empty() {
            return Ok(lines);
        }
    }
}

/// The event loop: a batch of lines or the retry timer, whichever comes first. Replies are
/// flushed after each batch, so a piped stream is written in large chunks and an interactive
/// request is answered at once.
fn serve(
    mut node: node::Node,
    timeout: Duration,
    inbox: mpsc::Receiver<io::Result<Vec<u8>>>,
    output: impl Write,
) -> io::Result<()> {
    let mut output = io::BufWriter::with_capacity(1 << 16, output);
    let mut deadline: Option<Instant> = None;
    loop {
        let received = match deadline {
            Some(deadline) => {
                inbox.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            }
            None => inbox
                .recv()
                .map_err(|_| mpsc::RecvTimeoutError::Disconnected),
        };
        match received {
            Ok(batch) => {
                let lines = batch?;
                if lines.is_empty() {
                    break; // end of input
                }
                for line in lines.split(|byte| *byte == b'\n') {
                    if let Some(outcome) = serve_line(&mut node, line) {
                        write_outcome(outcome, &node, timeout, &mut deadline, &mut output)?;
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                deadline = None;
                let outcome = node.handle_timeout();
                write_outcome(outcome, &node, timeout, &mut deadline, &mut output)?;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        output.flush()?;
    }
    output.flush()
}

/// One line through the node; bytes that are not UTF-8 are bad input like any other: skipped.
fn serve_line(node: &mut node::Node, line: &[u8]) -> Option<node::LineOutcome> {
    match std::str::from_utf8(line) {
        Ok(text) => {
            let text = text.trim_end_matches(['\n', '\r']);
            (!text.trim().is_empty()).then(|| node.handle_line(text))
        }
        Err(error) => {
            eprintln!("paxos-node: skipped line: not UTF-8 ({error})");
            None
        }
    }
}

/// Logs what the outcome says to log, moves the timer's deadline, and writes its messages.
fn write_outcome(
    outcome: node::LineOutcome,
    node: &node::Node,
    timeout: Duration,
    deadline: &mut Option<Instant>,
    output: &mut impl Write,
) -> io::Result<()> {
    if let Some(diagnostic) = outcome.diagnostic {
        eprintln!("paxos-node: {diagnostic}");
    }
    for note in outcome.notes {
        eprintln!("paxos-node: {note}");
    }
    if let Some(fatal) = outcome.fatal {
        output.flush()?;
        return Err(io::Error::other(format!(
            "stopping: acceptor state could not be made durable: {fatal}"
        )));
    }
    match outcome.timer {
        TimerChange::Arm => *deadline = Some(Instant::now() + node.timer_delay(timeout)),
        TimerChange::Cancel => *deadline = None,
        TimerChange::Unchanged => {}
    }
    for message in outcome.messages {
        message.write(output)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_that_is_not_utf8_is_skipped_and_serving_goes_on() {
        let input: &[u8] = b"{\"src\":\"c0\",\"dest\":\"n1\",\"body\":{\"type\":\"init\",\"msg_id\":1,\"node_id\":\"n1\",\"node_ids\":[\"n1\"]}}\n\
            \xff\xfe{\"not\": \"utf-8\"}\n\
            {\"src\":\"c1\",\"dest\":\"n1\",\"body\":{\"type\":\"paxos_chosen\",\"msg_id\":2}}";
        let mut output = Vec::new();
        let (batches, inbox) = mpsc::sync_channel(2);
        let mut reader = io::BufReader::new(input);
        batches.send(read_batch(&mut reader)).expect("queued");
        batches.send(Ok(vec![])).expect("queued");
        serve(
            node::Node::new(None),
            Duration::from_millis(200),
            inbox,
            &mut output,
        )
        .expect("bad bytes are not an I/O error");
        let output = String::from_utf8(output).expect("replies are ASCII");
        let replies: Vec<&str> = output.lines().collect();
        assert_eq!(replies.len(), 2, "{output}");
        assert!(replies[0].contains(r#""type": "init_ok""#), "{output}");
        // The last line has no newline and is still served.
        assert!(
            replies[1].contains(r#""type": "paxos_chosen_ok", "in_reply_to": 2"#),
            "{output}"
        );
    }
}
