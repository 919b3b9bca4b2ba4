#!/usr/bin/env python3
"""Three paxos-node processes wired together by hand, for trying the cluster at a terminal.

Each node speaks Maelstrom's JSON lines on stdin and stdout, so something must carry every line
to the node its "dest" names; Maelstrom does that, and so does this router. It starts n1, n2 and
n3, initialises them, then reads client requests (as client c1), one JSON line each, from its
standard input, typed or piped. It sends one request at a time and prints its answer before it
sends the next, so a piped file behaves exactly like lines typed one after another (requests in
flight together would be concurrent, and the log could order them either way). A request that
gets no answer within --answer-timeout seconds is reported on stderr and the router goes on.

    python3 docs/router.py [--node PATH] [--data-dir DIR] [--answer-timeout SECONDS]

--node defaults to paxos-node on PATH (after `cargo install --locked --path node`), else
./target/release/paxos-node. --data-dir (default /tmp/paxos-data, created if missing) keeps what
the nodes persist: run the router again on the same directory and the cluster resumes.
"""

import argparse
import json
import os
import queue
import shutil
import subprocess
import sys
import threading

NODES = ["n1", "n2", "n3"]
CLIENT = "c1"


def node_command(requested):
    if requested:
        return requested
    return shutil.which("paxos-node") or "./target/release/paxos-node"


class Router:
    def __init__(self, node, data_dir):
        self.lock = threading.Lock()
        self.answers = queue.Queue()
        self.nodes = {
            name: subprocess.Popen(
                [node, "--data-dir", data_dir],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                bufsize=1,
            )
            for name in NODES
        }
        for name in NODES:
            threading.Thread(target=self.relay, args=(name,), daemon=True).start()

    def route(self, line):
        """Sends a line to the node it names; an answer to the client goes to the queue."""
        dest = json.loads(line)["dest"]
        if dest in self.nodes:
            with self.lock:
                self.nodes[dest].stdin.write(line + "\n")
                self.nodes[dest].stdin.flush()
        elif dest == CLIENT:
            self.answers.put(line)
        # Answers to the initialising client (c0) need no reader.

    def relay(self, name):
        for line in self.nodes[name].stdout:
            if line.strip():
                self.route(line.strip())

    def initialise(self):
        for msg_id, name in enumerate(NODES):
            self.route(json.dumps({"src": "c0", "dest": name, "body": {
                "type": "init", "msg_id": msg_id, "node_id": name, "node_ids": NODES}}))

    def request(self, line, timeout):
        """Sends one client request and waits for the answer that names its msg_id."""
        msg_id = json.loads(line)["body"].get("msg_id")
        self.route(line)
        while True:
            try:
                answer = self.answers.get(timeout=timeout)
            except queue.Empty:
                print(f"router: no answer to msg_id {msg_id} within {timeout} s", file=sys.stderr)
                return
            print(answer, flush=True)
            if json.loads(answer)["body"].get("in_reply_to") == msg_id:
                return

    def stop(self):
        for process in self.nodes.values():
            process.stdin.close()
        for process in self.nodes.values():
            process.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--node", help="the paxos-node binary (default: from PATH)")
    parser.add_argument("--data-dir", default="/tmp/paxos-data")
    parser.add_argument("--answer-timeout", type=float, default=10.0)
    args = parser.parse_args()
    os.makedirs(args.data_dir, exist_ok=True)
    router = Router(node_command(args.node), args.data_dir)
    router.initialise()
    try:
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            try:
                json.loads(line)["dest"]
            except (ValueError, KeyError, TypeError):
                print(f"router: not a request with a dest: {line}", file=sys.stderr)
                continue
            router.request(line, args.answer_timeout)
    finally:
        router.stop()


if __name__ == "__main__":
    main()
