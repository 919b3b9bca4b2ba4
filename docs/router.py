#!/usr/bin/env python3
"""Three paxos-node processes wired together, with you as client c1.

The nodes talk through their stdin and stdout, so something must carry each line a node writes to
the node its "dest" names; Maelstrom does that, and so does this router. It starts the nodes,
initialises them, then reads your requests (one JSON message per line, typed or piped) and sends
each to the node it names, printing every answer addressed to c1.

Requests go one at a time, as a client with one request in flight: the next is sent once the
previous one is answered (or after --answer-timeout seconds). Requests in flight together are
concurrent, and the log may order them either way; one at a time, the answers are those of the
order you wrote. At the end of the input the router waits for the last answer, then stops the
nodes.

    python3 docs/router.py [--data-dir DIR] [--binary PATH] [--nodes N] < requests.jsonl
"""

import argparse
import json
import queue
import shutil
import subprocess
import sys
import threading


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="where the nodes keep their state (must exist)")
    parser.add_argument("--binary", default=shutil.which("paxos-node") or "./target/release/paxos-node",
                        help="the paxos-node binary (default: the one on PATH)")
    parser.add_argument("--nodes", type=int, default=3, help="how many nodes (default 3)")
    parser.add_argument("--answer-timeout", type=float, default=10.0,
                        help="seconds to wait for each answer (default 10)")
    args = parser.parse_args()

    names = [f"n{i + 1}" for i in range(args.nodes)]
    command = [args.binary] + (["--data-dir", args.data_dir] if args.data_dir else [])
    nodes = {
        name: subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True, bufsize=1)
        for name in names
    }
    lock = threading.Lock()
    answers = queue.Queue()

    def route(line):
        message = json.loads(line)
        dest = message.get("dest")
        if dest in nodes:
            with lock:
                nodes[dest].stdin.write(line + "\n")
                nodes[dest].stdin.flush()
        elif dest == "c1":
            print(line, flush=True)
            answers.put(message.get("body", {}).get("in_reply_to"))

    def relay(name):
        for line in nodes[name].stdout:
            if line.strip():
                route(line.strip())

    for index, name in enumerate(names):
        threading.Thread(target=relay, args=(name,), daemon=True).start()
        init = {"src": "c0", "dest": name,
                "body": {"type": "init", "msg_id": index, "node_id": name, "node_ids": names}}
        route(json.dumps(init))

    status = 0
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        msg_id = json.loads(line).get("body", {}).get("msg_id")
        route(line)
        if not wait_for(answers, msg_id, args.answer_timeout):
            print(f"router: no answer to msg_id {msg_id} within {args.answer_timeout} s",
                  file=sys.stderr)
            status = 1
    for node in nodes.values():
        node.stdin.close()
    for node in nodes.values():
        node.wait(timeout=10)
    sys.exit(status)


def wait_for(answers, msg_id, timeout):
    """Waits until the answer to msg_id arrives; False if it does not within timeout seconds."""
    if msg_id is None:
        return True
    while True:
        try:
            if answers.get(timeout=timeout) == msg_id:
                return True
        except queue.Empty:
            return False


if __name__ == "__main__":
    main()
