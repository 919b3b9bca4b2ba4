//! `paxos-node`: a Maelstrom node for the course's Paxos tasks (7-3-1 to 7-3-4).
//!
//! Reads one JSON message per line on stdin and writes replies on stdout; logs go to stderr.
//! Every protocol decision is made by `paxos-model`; this loop only moves lines.

mod codec;
mod node;

use std::io::{self, BufRead, Write};

const USAGE: &str = "\
usage: paxos-node

A Maelstrom node for the consensus track's Paxos tasks (7-3-1 to 7-3-4).
Reads one JSON message per line on stdin, answers on stdout, logs to stderr.
State is kept in memory only.

Messages: init, paxos_prepare, paxos_accept, paxos_chosen, paxos_safety_test,
paxos_invariant_check, multi_paxos_propose, multi_paxos_log.";

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    match arguments.first().map(String::as_str) {
        None => {}
        Some("-h" | "--help") => {
            println!("{USAGE}");
            return;
        }
        Some(other) => {
            eprintln!("paxos-node: unexpected argument '{other}'\n\n{USAGE}");
            std::process::exit(2);
        }
    }
    if let Err(error) = serve(io::stdin().lock(), io::stdout().lock()) {
        // A closed stdout means nobody is listening any more; anything else is worth saying.
        if error.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("paxos-node: {error}");
            std::process::exit(1);
        }
    }
}

/// The event loop. Replies are buffered and flushed whenever stdin has nothing more buffered, so
/// a piped batch is written in large chunks and an interactive request is answered at once.
fn serve(mut input: impl BufRead, output: impl Write) -> io::Result<()> {
    let mut output = io::BufWriter::with_capacity(1 << 16, output);
    let mut node = node::Node::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        // Bytes that are not UTF-8 are bad input like any other: skipped, not fatal.
        match std::str::from_utf8(&line) {
            Ok(text) => {
                let text = text.trim_end_matches(['\n', '\r']);
                if !text.trim().is_empty() {
                    handle(&mut node, text, &mut output)?;
                }
            }
            Err(error) => eprintln!("paxos-node: skipped line: not UTF-8 ({error})"),
        }
        if input.fill_buf()?.is_empty() {
            output.flush()?;
        }
    }
    output.flush()
}

fn handle(node: &mut node::Node, line: &str, output: &mut impl Write) -> io::Result<()> {
    let outcome = node.handle_line(line);
    if let Some(diagnostic) = outcome.diagnostic {
        eprintln!("paxos-node: {diagnostic}");
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
        serve(input, &mut output).expect("bad bytes are not an I/O error");
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
