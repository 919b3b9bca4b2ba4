//! `paxos-node`: a Maelstrom node for the course's Paxos tasks (7-3-1 to 7-3-4).
//!
//! Reads one JSON message per line on stdin and writes replies on stdout; logs go to stderr.
//! Every protocol decision is made by `paxos-model`; this loop only moves lines.

mod codec;
mod limits;
mod node;

use limits::{LINE_BYTES_MAX, OVERLONG_PREFIX_BYTES};
use paxos_model::protocol::rules::TimerChange;
use std::io::{self, BufRead, Read, Write};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: paxos-node [--data-dir DIR] [--timeout-ms N] [--batch N] [--snapshot-every N]
       paxos-node --help | --version

A Maelstrom node for the consensus track's Paxos tasks (7-3-1 to 7-3-4), and a replica of a
lin-kv store replicated by Multi-Paxos when node_ids name more than one node.
Reads one JSON message per line on stdin, answers on stdout, logs to stderr (each line
names the node, once init has named it).

  --data-dir DIR   keep the node's state in DIR, in <node id>.state: the cluster acceptor's
                   promises and acceptances, the learned log (the chosen entries), and
                   whether the node votes (with the floors it took when it last started
                   without state); and the course's single-decree acceptor in
                   <node id>.course-acceptor.state. Every record is written and fsynced
                   before any message that depends on it leaves.
  --timeout-ms N   retry timer of the cluster replica, in milliseconds (default 200, 1 to
                   60000); each node waits N plus a share of N by its index, so that
                   nodes do not all take over at once.
  --batch N        the most lin-kv commands a leader puts in one slot (default 64, 1 to
                   1024; 1 gives every command a slot of its own): commands that arrive
                   while two slots are in flight wait and go together in the next.
  --snapshot-every N
                   once N applied entries sit in the log, snapshot the key-value store
                   and the answers of the last 4096 commands, and drop those entries
                   (default 10000; 0: never, keeping the whole log in memory and in
                   the state file). A peer that asks for dropped entries is sent the
                   snapshot. Either way, a client's command overtaken by a later one
                   of its own by 4096 commands counts as given up and is not applied.
  -h, --help       print this text
  -V, --version    print the version

A node that starts without state (an empty DIR, or no --data-dir at all: one case) cannot
tell a new cluster from a lost disk. It asks every other node for its floors (the highest
ballot it promised, the highest slot it accepted in or learned), answers init only once all
have answered, and then votes: it promises and accepts nothing below that ballot, and
promises no Phase 1 reaching that slot until it has learned the log that far. A new cluster
is the case where every answer is empty. Until every other node is up to answer, the node
does not vote.

What each mode survives:
  with --data-dir     any crash or kill of any nodes, at once or not: each restarts from
                      its state. A node whose DIR was emptied rejoins by the rule above.
  without --data-dir  every start is a start without state, so a killed node rejoins by
                      the same rule.
The rule is safe while nodes lose their state one at a time: another node loses its own
only once every node votes and has learned past its floor (its log says so), and a node
starts again only once what it sent before is delivered. Two nodes that lose their state
before both have rejoined may lose acknowledged writes; a memory-only cluster killed whole
starts again as a new, empty one. See docs/cluster.md.";

/// The usage text, with the messages the node handles and the limits as `limits` sets them.
fn usage() -> String {
    let clients: Vec<&str> = std::iter::once("init")
        .chain(node::client_types())
        .collect();
    format!(
        "{USAGE}\n\n{}\n{}\n\n\
         Limits (a request beyond one gets error 14 naming it): a line of {} bytes,\n\
         a value of {} bytes, nesting {} deep, integers of {} digits, {} nodes,\n\
         {} proposals per invariant check.",
        wrapped("Messages from clients:", &clients),
        wrapped("Messages between nodes:", &node::wire::PEER_TYPES),
        limits::LINE_BYTES_MAX,
        limits::VALUE_BYTES_MAX,
        limits::NESTING_DEPTH_MAX,
        limits::INTEGER_DIGITS_MAX,
        limits::NODE_IDS_MAX,
        limits::PROPOSALS_MAX,
    )
}

/// `heading` and the `names`, comma-separated, wrapped at the usage text's width.
fn wrapped(heading: &str, names: &[&str]) -> String {
    const WIDTH: usize = 92;
    let mut text = heading.to_owned();
    let mut line_length = text.len();
    for (position, name) in names.iter().enumerate() {
        let word = if position + 1 == names.len() {
            format!("{name}.")
        } else {
            format!("{name},")
        };
        if line_length + 1 + word.len() > WIDTH {
            text.push('\n');
            line_length = 0;
        } else {
            text.push(' ');
            line_length += 1;
        }
        line_length += word.len();
        text.push_str(&word);
    }
    text
}

struct Options {
    data_dir: Option<PathBuf>,
    timeout_ms: u64,
    batch_max: usize,
    /// `None`: never.
    snapshot_every: Option<u64>,
}

/// What the command line asks for.
enum Command {
    Serve(Options),
    Help,
    Version,
}

/// The most `--batch` allows: a batch travels in one Accept, and a line holds at most
/// `limits::LINE_BYTES_MAX` bytes.
const BATCH_FLAG_MAX: usize = 1024;

fn parse_options(arguments: &[String]) -> Result<Command, String> {
    let mut options = Options {
        data_dir: None,
        timeout_ms: 200,
        batch_max: paxos_model::protocol::replica::BATCH_MAX,
        snapshot_every: Some(paxos_model::protocol::replica::SNAPSHOT_EVERY),
    };
    let mut arguments = arguments.iter();
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
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
            "--batch" => {
                let value = arguments.next().ok_or("--batch needs a number")?;
                options.batch_max = value
                    .parse()
                    .ok()
                    .filter(|batch| (1..=BATCH_FLAG_MAX).contains(batch))
                    .ok_or_else(|| {
                        format!("--batch must be from 1 to {BATCH_FLAG_MAX} (got {value})")
                    })?;
            }
            "--snapshot-every" => {
                let value = arguments.next().ok_or("--snapshot-every needs a number")?;
                let every: u64 = value.parse().map_err(|_| {
                    format!(
                        "--snapshot-every must be a number of entries, 0 for never (got {value})"
                    )
                })?;
                options.snapshot_every = (every > 0).then_some(every);
            }
            other => return Err(format!("unexpected argument '{other}'")),
        }
    }
    Ok(Command::Serve(options))
}

/// The exit status of a command line the node cannot use.
const EXIT_USAGE: i32 = 2;

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_options(&arguments) {
        Ok(Command::Serve(options)) => options,
        // A reader that stops early (`paxos-node --help | head`) is no error.
        Ok(Command::Help) => {
            let _ = writeln!(io::stdout(), "{}", usage());
            return;
        }
        Ok(Command::Version) => {
            let _ = writeln!(io::stdout(), "paxos-node {}", env!("CARGO_PKG_VERSION"));
            return;
        }
        Err(error) => {
            eprintln!("paxos-node: {error} (see paxos-node --help)");
            std::process::exit(EXIT_USAGE);
        }
    };
    let node = node::Node::new(options.data_dir)
        .with_batch_max(options.batch_max)
        .with_snapshot_every(options.snapshot_every);
    let timeout = Duration::from_millis(options.timeout_ms);
    match serve_stdin(node, timeout, io::stdout().lock()) {
        Ok(()) => {}
        // A closed stdout means nobody is listening any more.
        Err(Ended::Io(error)) if error.kind() == io::ErrorKind::BrokenPipe => {}
        Err(Ended::Io(_)) => std::process::exit(node::EXIT_STOPPED),
        Err(Ended::Stopped(stop)) => std::process::exit(stop.status),
    }
}

/// Why the event loop ended before the end of its input.
enum Ended {
    Io(io::Error),
    /// The node had to stop (see `node::Stop`).
    Stopped(node::Stop),
}

impl From<io::Error> for Ended {
    fn from(error: io::Error) -> Self {
        Ended::Io(error)
    }
}

/// What the reader thread hands the event loop.
#[derive(Debug)]
enum Input {
    /// Whole lines, newlines included (the last may lack one at the end of input).
    Lines(Vec<u8>),
    /// A line longer than `LINE_BYTES_MAX`: its first bytes, kept to find whom to answer, and
    /// its length. The rest was read and dropped, never held.
    Overlong { prefix: Vec<u8>, line_bytes: u64 },
}

/// Reads stdin on its own thread, in batches (whatever one read made available), so that the
/// loop below can wait for a line or for the retry timer, whichever comes first. An empty
/// batch means the end of input.
fn serve_stdin(node: node::Node, timeout: Duration, output: impl Write) -> Result<(), Ended> {
    let (batches, inbox) = mpsc::sync_channel::<io::Result<Input>>(4);
    std::thread::spawn(move || {
        // Our own buffer, not stdin's: `buffer()` tells what is already read without waiting.
        let mut input = io::BufReader::with_capacity(1 << 16, io::stdin());
        loop {
            let (lines, overlong) = match read_batch(&mut input) {
                Ok(batch) => batch,
                Err(error) => {
                    let _ = batches.send(Err(error));
                    break;
                }
            };
            let done = lines.is_empty() && overlong.is_none();
            if (!lines.is_empty() || done) && batches.send(Ok(Input::Lines(lines))).is_err() {
                break;
            }
            if let Some(overlong) = overlong {
                if batches.send(Ok(overlong)).is_err() {
                    break;
                }
            }
            if done {
                break;
            }
        }
    });
    serve(node, timeout, inbox, output)
}

/// The next line and every further one `input` has already buffered, in one buffer, without
/// waiting for more (waiting would hold back the answer to a client that waits for it): one
/// batch is answered, then flushed. Empty at the end of input. One buffer per batch, not one per
/// line, because lines are read on one thread and freed on another. A line longer than
/// `LINE_BYTES_MAX` ends the batch; only its first bytes are kept.
fn read_batch<R: io::Read>(input: &mut io::BufReader<R>) -> io::Result<(Vec<u8>, Option<Input>)> {
    let mut lines = Vec::with_capacity(input.buffer().len() + 256);
    loop {
        let line_start = lines.len();
        // At most one byte beyond the limit is read into the batch: enough to know.
        let allowed = (LINE_BYTES_MAX + 1) as u64;
        let read = input.by_ref().take(allowed).read_until(b'\n', &mut lines)?;
        if read == 0 {
            return Ok((lines, None));
        }
        let line = &lines[line_start..];
        let content_bytes = line.len() - usize::from(line.ends_with(b"\n"));
        if content_bytes > LINE_BYTES_MAX {
            let prefix = line[..OVERLONG_PREFIX_BYTES.min(line.len())].to_vec();
            let rest_bytes = skip_rest_of_line(input)?;
            lines.truncate(line_start);
            let line_bytes = (content_bytes + rest_bytes) as u64;
            return Ok((lines, Some(Input::Overlong { prefix, line_bytes })));
        }
        if input.buffer().is_empty() {
            return Ok((lines, None));
        }
    }
}

/// Reads and drops the rest of the current line, newline included, a buffer at a time; returns
/// how many bytes came before the newline (or the end of input).
fn skip_rest_of_line<R: io::Read>(input: &mut io::BufReader<R>) -> io::Result<usize> {
    let mut skipped = 0;
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            return Ok(skipped);
        }
        match available.iter().position(|&byte| byte == b'\n') {
            Some(newline) => {
                input.consume(newline + 1);
                return Ok(skipped + newline);
            }
            None => {
                let length = available.len();
                input.consume(length);
                skipped += length;
            }
        }
    }
}

/// The event loop: a batch of lines or the retry timer, whichever comes first. Replies are
/// written after each batch (or sooner, once a batch's replies fill the buffer), so a piped
/// stream is written in large chunks and an interactive request is answered at once; before
/// any of them leaves, what the node persisted is made durable (one fsync per batch). At the end
/// of input every request still waiting for its answer is reported on stderr, and so is why
/// the loop ended early, if it did.
fn serve(
    mut node: node::Node,
    timeout: Duration,
    inbox: mpsc::Receiver<io::Result<Input>>,
    output: impl Write,
) -> Result<(), Ended> {
    let served = serve_until_the_end(&mut node, timeout, inbox, output);
    match &served {
        Ok(()) => {
            for pending in node.pending_requests() {
                log(&node, format_args!("pending at end of input: {pending}"));
            }
        }
        Err(Ended::Io(error)) if error.kind() == io::ErrorKind::BrokenPipe => {}
        Err(Ended::Io(error)) => log(&node, error),
        Err(Ended::Stopped(stop)) => log(&node, format_args!("stopping: {}", stop.reason)),
    }
    served
}

/// One line on stderr, naming the node (`n2: ...`) once `init` has named it.
fn log(node: &node::Node, text: impl std::fmt::Display) {
    eprintln!("{}: {text}", node.log_name());
}

fn serve_until_the_end(
    node: &mut node::Node,
    timeout: Duration,
    inbox: mpsc::Receiver<io::Result<Input>>,
    mut output: impl Write,
) -> Result<(), Ended> {
    let node = &mut *node;
    let mut out: Vec<u8> = Vec::with_capacity(2 * OUTPUT_BUFFER_BYTES);
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
            Ok(input) => match input? {
                Input::Lines(lines) if lines.is_empty() => break, // end of input
                Input::Lines(lines) => {
                    for line in lines.split(|byte| *byte == b'\n') {
                        if let Some(outcome) = serve_line(node, line, &mut out) {
                            after_input(
                                outcome,
                                node,
                                timeout,
                                &mut deadline,
                                &mut out,
                                &mut output,
                            )?;
                        }
                        if out.len() >= OUTPUT_BUFFER_BYTES {
                            send(node, &mut out, &mut output)?;
                        }
                    }
                }
                Input::Overlong { prefix, line_bytes } => {
                    // The prefix may end inside a character; what precedes it is still text.
                    let valid = match std::str::from_utf8(&prefix) {
                        Ok(text) => text,
                        Err(error) => std::str::from_utf8(&prefix[..error.valid_up_to()])
                            .expect("valid up to there"),
                    };
                    let outcome = node.handle_overlong_line(valid, line_bytes, &mut out);
                    after_input(outcome, node, timeout, &mut deadline, &mut out, &mut output)?;
                }
            },
            Err(mpsc::RecvTimeoutError::Timeout) => {
                deadline = None;
                let outcome = node.handle_timeout(&mut out);
                after_input(outcome, node, timeout, &mut deadline, &mut out, &mut output)?;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        send(node, &mut out, &mut output)?;
        output.flush()?;
    }
    send(node, &mut out, &mut output)?;
    output.flush()?;
    Ok(())
}

/// Writes the replies gathered so far, once what the node persisted is durable.
fn send(node: &mut node::Node, out: &mut Vec<u8>, output: &mut impl Write) -> Result<(), Ended> {
    node.make_durable().map_err(Ended::Stopped)?;
    output.write_all(out)?;
    out.clear();
    Ok(())
}

/// Replies are written to stdout once this much is buffered (or the batch ends).
const OUTPUT_BUFFER_BYTES: usize = 1 << 16;

/// One line through the node; bytes that are not UTF-8 are bad input like any other: skipped.
fn serve_line(node: &mut node::Node, line: &[u8], out: &mut Vec<u8>) -> Option<node::LineOutcome> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(|byte| matches!(byte, b' ' | b'\t' | b'\r')) {
        return None;
    }
    match std::str::from_utf8(line) {
        Ok(text) => Some(node.handle_line(text, out)),
        Err(error) => {
            log(node, format_args!("skipped line: not UTF-8 ({error})"));
            None
        }
    }
}

/// Logs what the outcome says to log and moves the timer's deadline. An outcome that stops the
/// node ends the loop; a refusal to start first sends its answer to the `init`.
fn after_input(
    outcome: node::LineOutcome,
    node: &mut node::Node,
    timeout: Duration,
    deadline: &mut Option<Instant>,
    out: &mut Vec<u8>,
    output: &mut impl Write,
) -> Result<(), Ended> {
    if let Some(diagnostic) = outcome.diagnostic {
        log(node, diagnostic);
    }
    for note in outcome.notes {
        log(node, note);
    }
    if let Some(stop) = outcome.stop {
        if stop.send_output {
            send(node, out, output)?;
            output.flush()?;
        }
        return Err(Ended::Stopped(stop));
    }
    match outcome.timer {
        TimerChange::Arm => *deadline = Some(Instant::now() + node.timer_delay(timeout)),
        TimerChange::Cancel => *deadline = None,
        TimerChange::Unchanged => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INIT: &[u8] = b"{\"src\":\"c0\",\"dest\":\"n1\",\"body\":{\"type\":\"init\",\"msg_id\":1,\"node_id\":\"n1\",\"node_ids\":[\"n1\"]}}\n";

    /// Serves `input` as the reader thread would hand it over, and returns the replies.
    fn serve_input(input: &[u8]) -> Vec<String> {
        let (batches, inbox) = mpsc::sync_channel(64);
        let mut reader = io::BufReader::new(input);
        loop {
            let (lines, overlong) = read_batch(&mut reader).expect("in memory");
            let done = lines.is_empty() && overlong.is_none();
            if !lines.is_empty() {
                batches.send(Ok(Input::Lines(lines))).expect("queued");
            }
            if let Some(overlong) = overlong {
                batches.send(Ok(overlong)).expect("queued");
            }
            if done {
                break;
            }
        }
        batches.send(Ok(Input::Lines(vec![]))).expect("queued");
        let mut output = Vec::new();
        let served = serve(
            node::Node::new(None),
            Duration::from_millis(200),
            inbox,
            &mut output,
        );
        assert!(served.is_ok(), "bad input is not an I/O error");
        let output = String::from_utf8(output).expect("replies are ASCII");
        output.lines().map(str::to_owned).collect()
    }

    #[test]
    fn a_line_that_is_not_utf8_is_skipped_and_serving_goes_on() {
        let input = [
            INIT,
            b"\xff\xfe{\"not\": \"utf-8\"}\n",
            b"{\"src\":\"c1\",\"dest\":\"n1\",\"body\":{\"type\":\"paxos_chosen\",\"msg_id\":2}}",
        ]
        .concat();
        let replies = serve_input(&input);
        assert_eq!(replies.len(), 2, "{replies:?}");
        assert!(replies[0].contains(r#""type": "init_ok""#));
        // The last line has no newline and is still served.
        assert!(replies[1].contains(r#""type": "paxos_chosen_ok", "in_reply_to": 2"#));
    }

    #[test]
    fn a_line_over_the_limit_is_answered_from_its_first_bytes_and_never_held() {
        let head = b"{\"src\":\"c1\",\"dest\":\"n1\",\"body\":{\"type\":\"paxos_accept\",\"msg_id\":2,\"proposal_n\":1,\"value\":\"";
        let filler = vec![b'x'; LINE_BYTES_MAX];
        let overlong = [head.as_slice(), &filler, b"\"}}\n"].concat();
        let line_bytes = overlong.len() - 1;
        let input = [
            INIT,
            &overlong,
            b"{\"src\":\"c1\",\"dest\":\"n1\",\"body\":{\"type\":\"paxos_chosen\",\"msg_id\":3}}\n",
        ]
        .concat();
        let mut reader = io::BufReader::with_capacity(1 << 16, input.as_slice());
        let (lines, overlong) = read_batch(&mut reader).unwrap();
        assert_eq!(lines, INIT, "the batch holds the lines before the long one");
        let Some(Input::Overlong {
            prefix,
            line_bytes: length,
        }) = overlong
        else {
            panic!("an over-long line")
        };
        assert_eq!(
            (prefix.len(), length),
            (OVERLONG_PREFIX_BYTES, line_bytes as u64)
        );

        let replies = serve_input(&input);
        assert_eq!(replies.len(), 3, "{replies:?}");
        assert_eq!(
            replies[1],
            format!(
                "{{\"src\": \"n1\", \"dest\": \"c1\", \"body\": {{\"type\": \"error\", \"in_reply_to\": 2, \
                 \"code\": 14, \"text\": \"the line is {line_bytes} bytes long; the limit is {LINE_BYTES_MAX} \
                 (limit line_bytes_max)\", \"msg_id\": 1}}}}"
            )
        );
        assert!(
            replies[2].contains(r#""in_reply_to": 3, "value": null"#),
            "nothing accepted"
        );
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_served() {
        let head = b"{\"src\":\"c1\",\"dest\":\"n1\",\"body\":{\"type\":\"paxos_chosen\",\"msg_id\":2,\"pad\":\"";
        let tail = b"\"}}\n";
        let filler = vec![b'x'; LINE_BYTES_MAX - head.len() - (tail.len() - 1)];
        let input = [INIT, head.as_slice(), &filler, tail].concat();
        let replies = serve_input(&input);
        assert!(
            replies[1].contains(r#""type": "paxos_chosen_ok""#),
            "{:?}",
            &replies[1][..80.min(replies[1].len())]
        );
    }
}
