//! A whole-cluster restart with a long log, and write throughput as the log grows: the two
//! recovery targets of issue 13, measured on three release `paxos-node` processes.
//!
//! The bench starts three nodes with `--data-dir` (a fresh temporary directory) behind a small
//! router of its own, then:
//!
//! 1. **Load.** `RESTART_BENCH_CLIENTS` lin-kv clients each keep one `write` in flight (client
//!    `c<i>` writes key `i - 1`, always to the same node, spread over the three) until
//!    `RESTART_BENCH_ENTRIES` writes are acknowledged: one log entry each. It times two equal
//!    windows of `RESTART_BENCH_WINDOW` acknowledged writes, one from the 1,000th write and one
//!    ending at the last, and prints both rates and their ratio. The target is that ops/s does not
//!    fall as the log grows; the verdict is "met" when the later rate is at least 0.9 of the
//!    earlier (see `RATE_RATIO_MIN` for why 0.9).
//! 2. **Files.** Once the cluster is quiet, every node is killed with SIGKILL, and the bench
//!    prints the data directory's size and, for each state file, its records against the log it
//!    holds: the snapshots should keep a file within a small factor of its state.
//! 3. **Restart.** All three nodes start again on the same directory. The bench times, from the
//!    moment it starts them, the first answered `write` (sent to n1) and the first answered `read`
//!    (sent to n2, of a key whose last value before the kill it knows, and checks the value),
//!    against the 2 s target; then the clients write for `RESTART_BENCH_OBSERVE_MS` more.
//! 4. **Peer traffic after the restart.** From the lines it routes, the bench counts the Accepts
//!    that name a slot of the restored log (every slot learned before the kill: should be about
//!    0, since a restarted node's Phase 1 starts above what it knows chosen), and the highest
//!    ballot round seen (should stay small: a leader that keeps its leadership does not climb).
//!
//! The test router (`paxos_e2e::router`) is not used: it serves one client with one request at a
//! time, parses every line into a `serde_json::Value` on one thread, and keeps no account of the
//! peer messages it moves. Here one thread per node reads its lines and routes each by a scan of
//! its `dest` field, another per node writes its input in batches, and only the answers to
//! clients are parsed in full.
//!
//! How long a node takes to start depends on how many records its state file holds beyond its
//! last snapshot (each is replayed), so the bench prints them per file. The files are rewritten as
//! a snapshot at fixed record counts, so with the default settings the kill always lands at the
//! same point of that cycle; `RESTART_BENCH_ENTRIES=113000` lands just before a snapshot of the
//! accepting nodes, the slowest restart for a log of about 100,000 entries.
//!
//! **Side by side.** The bench runs all of the above once per history length
//! (`RESTART_BENCH_ENTRIES`, default 2,000 and 200,000) and per snapshot setting of the nodes
//! (`RESTART_BENCH_SNAPSHOT_EVERY`, default 0, snapshots off as before them, and 10,000, the
//! node's default), each on a fresh data directory, and ends with one table: the state files'
//! size, the slowest node's `init_ok` (its start-up, which replays the state file) and the first
//! answered write and read after the restart. The target (issue 19): with snapshots, a restart
//! after 200,000 entries is no slower than after 2,000, and the files do not grow with history.
//! Set `RESTART_BENCH_BATCH=1` for one entry per write, so that writes and log entries agree.
//!
//! Run: `RESTART_BENCH_BATCH=1 cargo bench -p paxos-e2e --bench node_restart` (about 5 minutes
//! on the 2-core machine, once built)
//! Quick: `RESTART_BENCH_ENTRIES=2000,10000 cargo bench -p paxos-e2e --bench node_restart`
//!
//! Settings (environment variables, `_` allowed as a digit separator):
//! - `RESTART_BENCH_ENTRIES` (default `2000,200000`): writes before the kill, so entries in the
//!   log (with `RESTART_BENCH_BATCH=1`); a comma-separated list, one run each.
//! - `RESTART_BENCH_SNAPSHOT_EVERY` (default `0,10000`): the nodes' `--snapshot-every`; a list,
//!   one run each (0: snapshots off).
//! - `RESTART_BENCH_WINDOW` (default 5,000): acknowledged writes per timed window (at most
//!   half of what a run writes beyond the first 1,000).
//! - `RESTART_BENCH_CLIENTS` (default 48): clients, each with one write in flight.
//! - `RESTART_BENCH_TIMEOUT_MS` (default 200, the node's own default): the nodes' `--timeout-ms`.
//! - `RESTART_BENCH_OBSERVE_MS` (default 3,000): how long the clients write after the restart,
//!   while the peer traffic is counted.
//! - `RESTART_BENCH_KEEP` (set to anything): keep the data directory and the nodes' stderr logs.
//! - `RESTART_BENCH_BATCH`: the nodes' `--batch` (the most commands per slot; 1 turns batching
//!   off, for the figure without it). Unset: the node's default.

use paxos_e2e::{binary, env_count};
use paxos_model::check::settings::thousands;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const NODES: usize = 3;
/// The target for the first answer after a whole-cluster restart.
const RESTART_ANSWER_TARGET: Duration = Duration::from_secs(2);
/// How long the bench waits for those first answers before it reports none.
const RESTART_ANSWER_LIMIT: Duration = Duration::from_secs(30);
/// The early window starts once the log holds this many entries.
const EARLY_WINDOW_FROM: u64 = 1_000;
/// The later rate must be at least this share of the earlier. "Does not fall" is a ratio of 1,
/// but two windows of one run on a shared 2-core machine differ by a few percent with nothing
/// changed (fsync latency, the scheduler, a snapshot rewrite landing in one window and not the
/// other); 0.9 leaves room for that noise, while any per-write cost that grows with the log
/// cannot hide in it over a hundredfold growth (the issue measured a fall to 0.43 over the first
/// 2,000 entries alone).
const RATE_RATIO_MIN: f64 = 0.9;
/// A write unanswered this long is sent again under a new `msg_id` (counted and printed).
const RESEND_AFTER: Duration = Duration::from_secs(5);
/// With no answer at all for this long, the cluster has stopped serving: the bench gives up.
const STALL_LIMIT: Duration = Duration::from_secs(60);
/// The cluster counts as quiet once no peer message has moved for this long.
const QUIET_FOR: Duration = Duration::from_millis(300);

/// Two restarts of the same state differ by a few milliseconds on a shared machine (the
/// scheduler, the page cache); a start-up that grows with history grows by far more than this
/// over a hundredfold longer one (0.47 s at 200,000 entries without snapshots, issue 19).
const RESTART_NOISE: Duration = Duration::from_millis(5);

/// What one run measured, for the table at the end.
struct Case {
    entries: u64,
    snapshot_every: u64,
    state_bytes: u64,
    state_records: u64,
    /// The slowest node's `init_ok` after the restart: its start-up, state file replayed.
    init_ok_max: Option<Duration>,
    first_write: Option<Duration>,
    first_read: Option<Duration>,
}

fn main() {
    let settings = Settings::from_env();
    // Built (if need be) before anything is timed; the build is a child process too, so its
    // CPU time is taken away from what the nodes are charged with.
    let node = binary("paxos-node");
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let mut cases = Vec::new();
    for &snapshot_every in &settings.snapshot_every {
        for &entries in &settings.entries {
            cases.push(run(&node, &settings, entries, snapshot_every));
        }
    }
    report_cases(&cases);
    if let (Some((own_before, built)), Some((own, children))) = (cpu_before, cpu_seconds()) {
        let (own, nodes) = (own - own_before, children - built);
        println!(
            "CPU: nodes {nodes:.1} s, this bench (router and clients) {own:.1} s, over {:.1} s \
             wall on {} cores",
            started.elapsed().as_secs_f64(),
            std::thread::available_parallelism().map_or(1, usize::from)
        );
    }
}

/// The table: for each snapshot setting, each history length side by side.
fn report_cases(cases: &[Case]) {
    let show = |time: Option<Duration>| {
        time.map_or("none".to_owned(), |time| {
            format!("{:.3} s", time.as_secs_f64())
        })
    };
    println!();
    println!(
        "{:<18} {:>9} {:>12} {:>9} {:>14} {:>13} {:>13}",
        "--snapshot-every",
        "entries",
        "state files",
        "records",
        "slowest init",
        "first write",
        "first read"
    );
    for case in cases {
        println!(
            "{:<18} {:>9} {:>12} {:>9} {:>14} {:>13} {:>13}",
            if case.snapshot_every == 0 {
                "0 (off)".to_owned()
            } else {
                thousands(case.snapshot_every)
            },
            thousands(case.entries),
            megabytes(case.state_bytes),
            thousands(case.state_records),
            show(case.init_ok_max),
            show(case.first_write),
            show(case.first_read)
        );
    }
    // The target, per setting: the longest history restarts no slower than the shortest.
    for setting in cases
        .iter()
        .map(|case| case.snapshot_every)
        .collect::<BTreeSet<_>>()
    {
        let runs: Vec<&Case> = cases
            .iter()
            .filter(|c| c.snapshot_every == setting)
            .collect();
        let (Some(short), Some(long)) = (
            runs.iter().min_by_key(|c| c.entries),
            runs.iter().max_by_key(|c| c.entries),
        ) else {
            continue;
        };
        if short.entries == long.entries {
            continue;
        }
        let ratio = |long: Option<Duration>, short: Option<Duration>| {
            long.zip(short).map_or("-".to_owned(), |(long, short)| {
                format!("{:.2}x", long.as_secs_f64() / short.as_secs_f64())
            })
        };
        let no_slower = long
            .init_ok_max
            .zip(short.init_ok_max)
            .is_some_and(|(long, short)| long <= short + RESTART_NOISE.max(short / 5));
        println!(
            "--snapshot-every {}: {} entries against {}: state files {:.1}x, slowest init {} \
             (first write {}, first read {}); restart no slower (within {} ms or 20%): {}",
            if setting == 0 {
                "0 (off)".to_owned()
            } else {
                thousands(setting)
            },
            thousands(long.entries),
            thousands(short.entries),
            long.state_bytes as f64 / short.state_bytes.max(1) as f64,
            ratio(long.init_ok_max, short.init_ok_max),
            ratio(long.first_write, short.first_write),
            ratio(long.first_read, short.first_read),
            RESTART_NOISE.as_millis(),
            verdict(no_slower)
        );
    }
}

/// One run: load `entries` writes into a fresh cluster with `--snapshot-every snapshot_every`,
/// kill it, restart it, and measure.
fn run(node: &Path, settings: &Settings, entries: u64, snapshot_every: u64) -> Case {
    let started = Instant::now();
    let scratch = std::env::temp_dir().join(format!(
        "paxos-restart-bench-{}-{entries}-{snapshot_every}",
        std::process::id()
    ));
    let data_dir = scratch.join("data");
    let log_dir = scratch.join("logs");
    let _ = fs::remove_dir_all(&scratch);
    fs::create_dir_all(&data_dir).expect("a data directory");
    fs::create_dir_all(&log_dir).expect("a log directory");
    println!(
        "paxos-node restart: 3 release nodes, --data-dir {}, --timeout-ms {}, --snapshot-every \
         {snapshot_every}; {} clients with one write in flight each",
        data_dir.display(),
        settings.timeout_ms,
        settings.clients
    );

    let mut cluster = Cluster::new(
        node.to_owned(),
        data_dir.clone(),
        log_dir.clone(),
        settings.timeout_ms,
        snapshot_every,
    );
    cluster.start_all();
    let mut writers = Writers::new(settings.clients);
    let (early, late) = load(&mut cluster, &mut writers, settings, entries);
    report_rates(&early, &late);

    cluster.wait_quiet();
    let before_kill = cluster.take_tally();
    let restored_log = before_kill.learned_slot_max.map_or(0, |slot| slot + 1);
    println!(
        "  before the kill: log of {} slots learned; peer traffic: {}",
        thousands(restored_log),
        before_kill.summary()
    );
    cluster.kill_all();
    let (state_bytes, state_records) = report_files(&data_dir);

    cluster.tally.lock().expect("tally").below = restored_log;
    let [init_ok_max, first_write, first_read] = restart(&mut cluster, &mut writers, settings);
    let after_restart = cluster.take_tally();
    report_after_restart(&after_restart, restored_log);
    cluster.kill_all();

    let log_lines = count_log_lines(&log_dir);
    println!("  nodes' stderr: {log_lines} lines");
    if std::env::var_os("RESTART_BENCH_KEEP").is_some() {
        println!("  kept: {}", scratch.display());
    } else {
        let _ = fs::remove_dir_all(&scratch);
    }
    println!("  run took {:.1} s", started.elapsed().as_secs_f64());
    Case {
        entries,
        snapshot_every,
        state_bytes,
        state_records,
        init_ok_max,
        first_write,
        first_read,
    }
}

struct Settings {
    entries: Vec<u64>,
    snapshot_every: Vec<u64>,
    window: u64,
    clients: usize,
    timeout_ms: u64,
    observe: Duration,
}

impl Settings {
    fn from_env() -> Self {
        let settings = Settings {
            entries: env_counts("RESTART_BENCH_ENTRIES", &[2_000, 200_000]),
            snapshot_every: env_counts("RESTART_BENCH_SNAPSHOT_EVERY", &[0, 10_000]),
            window: env_count("RESTART_BENCH_WINDOW", 5_000).max(1),
            clients: env_count("RESTART_BENCH_CLIENTS", 48).max(2) as usize,
            timeout_ms: env_count("RESTART_BENCH_TIMEOUT_MS", 200),
            observe: Duration::from_millis(env_count("RESTART_BENCH_OBSERVE_MS", 3_000)),
        };
        for entries in &settings.entries {
            assert!(
                *entries >= EARLY_WINDOW_FROM + 2,
                "RESTART_BENCH_ENTRIES ({entries}) must leave room for two windows from entry \
                 {EARLY_WINDOW_FROM} on"
            );
        }
        settings
    }

    /// The writes per timed window in a run of `entries` writes: two must fit after the first
    /// `EARLY_WINDOW_FROM`.
    fn window(&self, entries: u64) -> u64 {
        self.window.min((entries - EARLY_WINDOW_FROM) / 2).max(1)
    }
}

/// A comma-separated list of whole numbers from the environment, or `default`.
fn env_counts(name: &str, default: &[u64]) -> Vec<u64> {
    match std::env::var(name) {
        Ok(text) => text
            .split(',')
            .map(|count| {
                count.trim().replace('_', "").parse().unwrap_or_else(|_| {
                    panic!("{name} must be whole numbers separated by commas, not {text:?}")
                })
            })
            .collect(),
        Err(_) => default.to_vec(),
    }
}

// ---------------------------------------------------------------------------------------------
// The router: one reader and one writer thread per node.

/// What the nodes said to the bench (the router keeps peer messages to itself).
enum Event {
    /// Node `node` answered its `init`.
    InitOk { node: usize },
    /// An answer to client `c<client + 1>`.
    Answer {
        client: usize,
        in_reply_to: u64,
        body: Value,
    },
}

/// What the router saw of the peer messages it moved, since the last `take_tally`.
#[derive(Default)]
struct PeerTally {
    messages: u64,
    /// When the last peer message moved.
    last_message: Option<Instant>,
    accepts: u64,
    /// Accepts that name a slot below `below` (the log learned before the kill).
    accepts_below: u64,
    below: u64,
    accept_refusals: u64,
    prepares: u64,
    prepare_from_slots: BTreeSet<u64>,
    prepare_refusals: u64,
    catch_ups: u64,
    learned_slot_max: Option<u64>,
    round_max: u64,
}

impl PeerTally {
    /// Counts one peer line, read by scanning for the fields the node prints first in its body
    /// (`slot`, `ballot`, `from_slot` come before any entry).
    fn see(&mut self, line: &str) {
        self.messages += 1;
        self.last_message = Some(Instant::now());
        let Some(kind) = after(line, "\"type\": \"").and_then(quoted) else {
            return;
        };
        let slot = after(line, "\"slot\": ").and_then(number);
        if let Some(round) = after(line, "\"ballot\": [").and_then(number) {
            self.round_max = self.round_max.max(round);
        }
        match kind {
            "paxos_accept" => {
                self.accepts += 1;
                if slot.is_some_and(|slot| slot < self.below) {
                    self.accepts_below += 1;
                }
            }
            "paxos_accept_refused" => self.accept_refusals += 1,
            "paxos_prepare" => {
                self.prepares += 1;
                if let Some(from_slot) = after(line, "\"from_slot\": ").and_then(number) {
                    self.prepare_from_slots.insert(from_slot);
                }
            }
            "paxos_prepare_refused" => self.prepare_refusals += 1,
            "paxos_catch_up" => self.catch_ups += 1,
            "paxos_learn" => self.learned_slot_max = self.learned_slot_max.max(slot),
            _ => {}
        }
    }

    fn summary(&self) -> String {
        let from_slots: Vec<String> = self
            .prepare_from_slots
            .iter()
            .map(|slot| thousands(*slot))
            .collect();
        format!(
            "{} messages, {} accepts ({} refused), {} prepares{} ({} refused), {} catch-up \
             requests, highest ballot round {}",
            thousands(self.messages),
            thousands(self.accepts),
            thousands(self.accept_refusals),
            thousands(self.prepares),
            if from_slots.is_empty() {
                String::new()
            } else {
                format!(" from slot {}", from_slots.join(", "))
            },
            thousands(self.prepare_refusals),
            thousands(self.catch_ups),
            self.round_max
        )
    }
}

/// The rest of `line` after the first `pattern`.
fn after<'a>(line: &'a str, pattern: &str) -> Option<&'a str> {
    line.find(pattern)
        .map(|start| &line[start + pattern.len()..])
}

/// The text up to the closing quote.
fn quoted(rest: &str) -> Option<&str> {
    rest.find('"').map(|end| &rest[..end])
}

/// The leading digits, as a number.
fn number(rest: &str) -> Option<u64> {
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// `n1` -> 0: the index of a node id, or `None` for a client.
fn node_index(id: &str) -> Option<usize> {
    let index: usize = id.strip_prefix('n')?.parse().ok()?;
    (1..=NODES).contains(&index).then(|| index - 1)
}

fn node_id(index: usize) -> String {
    format!("n{}", index + 1)
}

/// Where each node's input goes: the channel to its writer thread, while it runs.
type Routes = Arc<Mutex<Vec<Option<mpsc::Sender<String>>>>>;

struct Process {
    child: Child,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

struct Cluster {
    node: PathBuf,
    data_dir: PathBuf,
    log_dir: PathBuf,
    timeout_ms: u64,
    processes: Vec<Option<Process>>,
    routes: Routes,
    events: mpsc::Receiver<Event>,
    event_sender: mpsc::Sender<Event>,
    tally: Arc<Mutex<PeerTally>>,
    /// How many times the nodes were started, for their log files' names.
    generation: u32,
    /// The nodes' `--batch`, if set.
    batch: Option<u64>,
    /// The nodes' `--snapshot-every`.
    snapshot_every: u64,
}

impl Cluster {
    fn new(
        node: PathBuf,
        data_dir: PathBuf,
        log_dir: PathBuf,
        timeout_ms: u64,
        snapshot_every: u64,
    ) -> Self {
        let (event_sender, events) = mpsc::channel();
        Cluster {
            node,
            data_dir,
            log_dir,
            timeout_ms,
            processes: (0..NODES).map(|_| None).collect(),
            routes: Arc::new(Mutex::new(vec![None; NODES])),
            events,
            event_sender,
            tally: Arc::new(Mutex::new(PeerTally::default())),
            generation: 0,
            batch: std::env::var("RESTART_BENCH_BATCH")
                .ok()
                .map(|_| env_count("RESTART_BENCH_BATCH", 64)),
            snapshot_every,
        }
    }

    /// Starts all three nodes and sends each its `init` (its `init_ok` comes as an event).
    fn start_all(&mut self) {
        self.generation += 1;
        for index in 0..NODES {
            self.spawn(index);
        }
    }

    fn spawn(&mut self, index: usize) {
        let log = fs::File::create(self.log_dir.join(format!(
            "{}.{}.log",
            node_id(index),
            self.generation
        )))
        .expect("a log file");
        let mut child = Command::new(&self.node)
            .args(["--data-dir", self.data_dir.to_str().expect("UTF-8 path")])
            .args(["--timeout-ms", &self.timeout_ms.to_string()])
            .args(["--snapshot-every", &self.snapshot_every.to_string()])
            .args(
                self.batch
                    .iter()
                    .flat_map(|batch| ["--batch".to_owned(), batch.to_string()]),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("paxos-node starts");
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let (sender, lines) = mpsc::channel();
        let writer = std::thread::spawn(move || write_lines(stdin, lines));
        let (routes, events, tally) = (
            self.routes.clone(),
            self.event_sender.clone(),
            self.tally.clone(),
        );
        let reader = std::thread::spawn(move || route_lines(index, stdout, routes, events, tally));
        self.routes.lock().expect("routes")[index] = Some(sender);
        self.processes[index] = Some(Process {
            child,
            reader,
            writer,
        });
        let ids: Vec<String> = (0..NODES)
            .map(|id| format!("\"{}\"", node_id(id)))
            .collect();
        self.send(
            index,
            format!(
                "{{\"src\": \"c0\", \"dest\": \"{}\", \"body\": {{\"type\": \"init\", \
                 \"msg_id\": 0, \"node_id\": \"{}\", \"node_ids\": [{}]}}}}",
                node_id(index),
                node_id(index),
                ids.join(", ")
            ),
        );
    }

    fn send(&self, index: usize, line: String) {
        if let Some(sender) = &self.routes.lock().expect("routes")[index] {
            // A node that just died reads nothing more: the line is lost, as on a network.
            let _ = sender.send(line);
        }
    }

    /// SIGKILLs every node at once, then waits for each and for its threads; whatever was on
    /// its way to a node is lost.
    fn kill_all(&mut self) {
        self.routes.lock().expect("routes").fill(None);
        let mut processes: Vec<Process> =
            self.processes.iter_mut().filter_map(Option::take).collect();
        for process in &mut processes {
            // `Child::kill` sends SIGKILL.
            let _ = process.child.kill();
        }
        for mut process in processes {
            process.child.wait().expect("reaped");
            process.reader.join().expect("reader thread");
            process.writer.join().expect("writer thread");
        }
        // Nothing said by the dead counts for the living.
        while self.events.try_recv().is_ok() {}
    }

    /// Routes until no peer message has moved for `QUIET_FOR` (at most 10 s).
    fn wait_quiet(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let last = self.tally.lock().expect("tally").last_message;
            if last.is_none_or(|last| last.elapsed() >= QUIET_FOR) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The tally so far, and a fresh one (keeping the slot it counts Accepts below).
    fn take_tally(&self) -> PeerTally {
        let mut tally = self.tally.lock().expect("tally");
        let below = tally.below;
        std::mem::replace(
            &mut *tally,
            PeerTally {
                below,
                ..PeerTally::default()
            },
        )
    }
}

/// A node's writer: its input lines, written in batches (all the lines waiting, then a flush),
/// so that a node reads many lines at once and makes them durable with one fsync.
fn write_lines(stdin: ChildStdin, lines: mpsc::Receiver<String>) {
    let mut input = BufWriter::with_capacity(1 << 16, stdin);
    while let Ok(line) = lines.recv() {
        let mut next = Some(line);
        while let Some(line) = next {
            if writeln!(input, "{line}").is_err() {
                return;
            }
            next = lines.try_recv().ok();
        }
        if input.flush().is_err() {
            return;
        }
    }
}

/// A node's reader: each line to the node it names, or to the bench if it names a client.
fn route_lines(
    from: usize,
    stdout: ChildStdout,
    routes: Routes,
    events: mpsc::Sender<Event>,
    tally: Arc<Mutex<PeerTally>>,
) {
    for line in BufReader::with_capacity(1 << 16, stdout).lines() {
        let Ok(line) = line else { break };
        let Some(dest) = after(&line, "\"dest\": \"").and_then(quoted) else {
            panic!("node {} wrote a line without a dest: {line}", node_id(from));
        };
        if let Some(to) = node_index(dest) {
            tally.lock().expect("tally").see(&line);
            if let Some(sender) = &routes.lock().expect("routes")[to] {
                let _ = sender.send(line);
            }
            continue;
        }
        let message: Value = serde_json::from_str(&line).unwrap_or_else(|error| {
            panic!(
                "{} wrote a line that is not JSON ({error}): {line}",
                node_id(from)
            )
        });
        let body = &message["body"];
        let event = if dest == "c0" {
            match body["type"].as_str() {
                Some("init_ok") => Event::InitOk { node: from },
                _ => panic!("{} did not start: {line}", node_id(from)),
            }
        } else {
            let client: usize = dest
                .strip_prefix('c')
                .and_then(|number| number.parse().ok())
                .unwrap_or_else(|| panic!("an answer to an unknown client: {line}"));
            Event::Answer {
                client: client - 1,
                in_reply_to: body["in_reply_to"]
                    .as_u64()
                    .expect("an answer says to what"),
                body: message["body"].clone(),
            }
        };
        if events.send(event).is_err() {
            break;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The clients.

/// A lin-kv client with at most one write in flight; client `index` writes key `index`.
struct Client {
    node: usize,
    next_msg_id: u64,
    /// The write in flight: its `msg_id`, value, when it was sent, and when it was first sent.
    in_flight: Option<InFlight>,
    /// The value of this client's last acknowledged write (its key's value: nobody else writes
    /// it).
    last_written: Option<u64>,
}

#[derive(Clone, Copy)]
struct InFlight {
    msg_id: u64,
    value: u64,
    sent: Instant,
    first_sent: Instant,
}

struct Writers {
    clients: Vec<Client>,
    next_value: u64,
    acked: u64,
    resent: u64,
    errors: u64,
    /// Each acknowledged write's latency, in acknowledgement order, in microseconds.
    latencies_us: Vec<u32>,
}

/// When the writers stop taking on new writes.
#[derive(Clone, Copy)]
enum Until {
    Acked(u64),
    Time(Instant),
}

impl Writers {
    fn new(clients: usize) -> Self {
        Writers {
            clients: (0..clients)
                .map(|index| Client {
                    node: index % NODES,
                    next_msg_id: 1,
                    in_flight: None,
                    last_written: None,
                })
                .collect(),
            next_value: 1,
            acked: 0,
            resent: 0,
            errors: 0,
            latencies_us: Vec::new(),
        }
    }

    fn send(&mut self, cluster: &Cluster, index: usize, value: u64, first_sent: Instant) {
        let client = &mut self.clients[index];
        let msg_id = client.next_msg_id;
        client.next_msg_id += 1;
        client.in_flight = Some(InFlight {
            msg_id,
            value,
            sent: Instant::now(),
            first_sent,
        });
        cluster.send(
            client.node,
            format!(
                "{{\"src\": \"c{}\", \"dest\": \"{}\", \"body\": {{\"type\": \"write\", \
                 \"key\": {index}, \"value\": {value}, \"msg_id\": {msg_id}}}}}",
                index + 1,
                node_id(client.node)
            ),
        );
    }

    fn in_flight(&self) -> u64 {
        self.clients
            .iter()
            .filter(|client| client.in_flight.is_some())
            .count() as u64
    }

    /// Keeps every client writing until `until`, then lets the writes in flight finish; calls
    /// `at_ack` with the count after each acknowledgement.
    fn run(&mut self, cluster: &Cluster, until: Until, mut at_ack: impl FnMut(&Writers)) {
        let may_start = |writers: &Writers| match until {
            Until::Acked(total) => writers.acked + writers.in_flight() < total,
            Until::Time(end) => Instant::now() < end,
        };
        for index in 0..self.clients.len() {
            if self.clients[index].in_flight.is_none() && may_start(self) {
                let value = self.take_value();
                self.send(cluster, index, value, Instant::now());
            }
        }
        let mut last_answer = Instant::now();
        while self.in_flight() > 0 {
            let event = cluster.events.recv_timeout(Duration::from_millis(500));
            if let Ok(Event::Answer {
                client,
                in_reply_to,
                body,
            }) = event
            {
                let Some(flight) = self.clients.get(client).and_then(|c| c.in_flight) else {
                    continue;
                };
                if flight.msg_id != in_reply_to {
                    continue; // the answer to a write sent again since
                }
                last_answer = Instant::now();
                if body["type"] == "write_ok" {
                    self.clients[client].in_flight = None;
                    self.clients[client].last_written = Some(flight.value);
                    self.acked += 1;
                    let latency = flight.first_sent.elapsed().as_micros();
                    self.latencies_us
                        .push(u32::try_from(latency).unwrap_or(u32::MAX));
                    at_ack(self);
                    if may_start(self) {
                        let value = self.take_value();
                        self.send(cluster, client, value, Instant::now());
                    }
                } else {
                    self.errors += 1;
                    self.send(cluster, client, flight.value, flight.first_sent);
                }
            }
            self.resend_overdue(cluster);
            assert!(
                last_answer.elapsed() < STALL_LIMIT,
                "no write answered for {} s with {} in flight: the cluster stopped serving",
                STALL_LIMIT.as_secs(),
                self.in_flight()
            );
        }
    }

    fn take_value(&mut self) -> u64 {
        let value = self.next_value;
        self.next_value += 1;
        value
    }

    fn resend_overdue(&mut self, cluster: &Cluster) {
        for index in 0..self.clients.len() {
            if let Some(flight) = self.clients[index].in_flight {
                if flight.sent.elapsed() >= RESEND_AFTER {
                    self.resent += 1;
                    self.send(cluster, index, flight.value, flight.first_sent);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The phases.

/// One timed stretch of acknowledged writes.
struct Window {
    from_entries: u64,
    to_entries: u64,
    elapsed: Duration,
    latency_median_us: u32,
    /// State files rewritten as a snapshot during the window (seen as a new inode).
    snapshots: usize,
}

impl Window {
    fn rate(&self) -> f64 {
        (self.to_entries - self.from_entries) as f64 / self.elapsed.as_secs_f64()
    }
}

/// Writes until the log holds `total` entries; returns the early and the late window.
fn load(
    cluster: &mut Cluster,
    writers: &mut Writers,
    settings: &Settings,
    total: u64,
) -> (Window, Window) {
    wait_init(cluster, Duration::from_secs(10));
    let window = settings.window(total);
    let bounds = [
        EARLY_WINDOW_FROM,
        EARLY_WINDOW_FROM + window,
        total - window,
        total,
    ];
    let progress_every = (total / 10).max(1);
    let data_dir = cluster.data_dir.clone();
    let mut marks: BTreeMap<u64, (Instant, Vec<u64>)> = BTreeMap::new();
    let load_started = Instant::now();
    let mut stretch = (0, load_started);
    println!("  load: {} writes, one log entry each", thousands(total));
    writers.run(cluster, Until::Acked(total), |writers| {
        let acked = writers.acked;
        if bounds.contains(&acked) {
            marks.insert(acked, (Instant::now(), state_file_inodes(&data_dir)));
        }
        if acked % progress_every == 0 {
            let (from, since) = stretch;
            println!(
                "    {:>9} entries  {:>7.0} writes/s over the last {}  ({:.1} s in)",
                thousands(acked),
                (acked - from) as f64 / since.elapsed().as_secs_f64(),
                thousands(acked - from),
                load_started.elapsed().as_secs_f64()
            );
            stretch = (acked, Instant::now());
        }
    });
    println!(
        "  load done: {} writes in {:.1} s ({:.0} writes/s); {} sent again after {} s, {} \
         answered with an error",
        thousands(writers.acked),
        load_started.elapsed().as_secs_f64(),
        writers.acked as f64 / load_started.elapsed().as_secs_f64(),
        writers.resent,
        RESEND_AFTER.as_secs(),
        writers.errors
    );
    let window = |from: u64, to: u64| {
        let (start, start_inodes) = &marks[&from];
        let (end, end_inodes) = &marks[&to];
        let mut latencies = writers.latencies_us[from as usize..to as usize].to_vec();
        latencies.sort_unstable();
        Window {
            from_entries: from,
            to_entries: to,
            elapsed: *end - *start,
            latency_median_us: latencies[latencies.len() / 2],
            snapshots: start_inodes
                .iter()
                .zip(end_inodes)
                .filter(|(a, b)| a != b)
                .count(),
        }
    };
    (window(bounds[0], bounds[1]), window(bounds[2], bounds[3]))
}

/// Routes until every node has answered its `init`.
fn wait_init(cluster: &Cluster, limit: Duration) {
    let deadline = Instant::now() + limit;
    let mut started = [false; NODES];
    while !started.iter().all(|started| *started) {
        let left = deadline
            .checked_duration_since(Instant::now())
            .unwrap_or_else(|| panic!("not every node answered its init within {limit:?}"));
        if let Ok(Event::InitOk { node }) = cluster.events.recv_timeout(left) {
            started[node] = true;
        }
    }
}

/// The inode of each node's state file (a snapshot replaces the file, so the inode changes).
fn state_file_inodes(data_dir: &Path) -> Vec<u64> {
    (0..NODES)
        .map(|index| {
            fs::metadata(data_dir.join(format!("{}.state", node_id(index))))
                .map_or(0, |metadata| metadata.ino())
        })
        .collect()
}

fn report_rates(early: &Window, late: &Window) {
    let describe = |name: &str, window: &Window| {
        println!(
            "  ops/s {name}: entries {} to {}: {:.0} writes/s ({:.2} s; median latency {:.1} ms; \
             {} snapshot rewrite(s) in the window)",
            thousands(window.from_entries),
            thousands(window.to_entries),
            window.rate(),
            window.elapsed.as_secs_f64(),
            f64::from(window.latency_median_us) / 1000.0,
            window.snapshots
        );
    };
    describe("early", early);
    describe("late ", late);
    let ratio = late.rate() / early.rate();
    println!(
        "  late / early = {ratio:.3}; target: ops/s does not fall as the log grows (ratio >= \
         {RATE_RATIO_MIN}): {}",
        verdict(ratio >= RATE_RATIO_MIN)
    );
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

/// The data directory's files: their sizes, and for each node's state file, the records it holds
/// against the log they rebuild. Returns the state files' bytes and records, all nodes together.
fn report_files(data_dir: &Path) -> (u64, u64) {
    let mut files: Vec<(String, u64)> = fs::read_dir(data_dir)
        .expect("the data directory")
        .map(|entry| {
            let entry = entry.expect("a directory entry");
            let size = entry.metadata().expect("metadata").len();
            (entry.file_name().to_string_lossy().into_owned(), size)
        })
        .collect();
    files.sort();
    let total: u64 = files.iter().map(|(_, size)| size).sum();
    println!(
        "  data dir after the kill: {} in {} files",
        megabytes(total),
        files.len()
    );
    let (mut state_bytes, mut state_records) = (0, 0);
    for (name, size) in &files {
        let contents = StateContents::read(&data_dir.join(name));
        println!(
            "    {name:<12} {:>10}  {}",
            megabytes(*size),
            contents.describe(*size)
        );
        if name.ends_with(".state") {
            state_bytes += size;
            state_records += contents.records;
        }
    }
    (state_bytes, state_records)
}

/// What a replica's state file holds, counted line by line.
#[derive(Default)]
struct StateContents {
    records: u64,
    learned: u64,
    acceptor: u64,
    membership: u64,
    snapshots: u64,
    /// The distinct slots learned, and the bytes of one record each: the learned log alone.
    learned_slots: BTreeSet<u64>,
    log_bytes: u64,
}

impl StateContents {
    fn read(path: &Path) -> Self {
        let mut contents = StateContents::default();
        let Ok(text) = fs::read_to_string(path) else {
            return contents;
        };
        for line in text.lines() {
            contents.records += 1;
            // `1 <crc> {"Kind":...}`: the record's kind is its first key.
            let record = line.splitn(3, ' ').nth(2).unwrap_or("");
            if record.starts_with("{\"Learned\"") {
                contents.learned += 1;
                let slot = after(record, "\"slot\":").and_then(number);
                if slot.is_some_and(|slot| contents.learned_slots.insert(slot)) {
                    contents.log_bytes += line.len() as u64 + 1;
                }
            } else if record.starts_with("{\"Acceptor\"") {
                contents.acceptor += 1;
            } else if record.starts_with("{\"Membership\"") {
                contents.membership += 1;
            } else if record.starts_with("{\"Snapshot\"") {
                contents.snapshots += 1;
            }
        }
        contents
    }

    fn describe(&self, size: u64) -> String {
        if self.records == 0 {
            return String::new();
        }
        let counts = format!(
            "{} records ({} learned, {} acceptor, {} membership, {} snapshot)",
            thousands(self.records),
            thousands(self.learned),
            thousands(self.acceptor),
            thousands(self.membership),
            thousands(self.snapshots),
        );
        if self.snapshots > 0 {
            // The snapshots stand for the rest of the log: no ratio to the entries says much.
            return format!(
                "{counts}: snapshots and {} slots learned after them",
                thousands(self.learned_slots.len() as u64)
            );
        }
        format!(
            "{counts} for a log of {} slots: {:.2}x the bytes of the learned log alone",
            thousands(self.learned_slots.len() as u64),
            size as f64 / self.log_bytes.max(1) as f64
        )
    }
}

/// Starts all three nodes again on the same data directory and times the first answers; returns
/// the slowest `init_ok`, the first answered write and the first answered read.
fn restart(
    cluster: &mut Cluster,
    writers: &mut Writers,
    settings: &Settings,
) -> [Option<Duration>; 3] {
    // The write goes to n1 as a new client; the read to n2, of client c2's key, whose last
    // value before the kill is known.
    let (write_client, read_client) = (writers.clients.len(), writers.clients.len() + 1);
    let read_key = 1;
    let expected = writers.clients[read_key].last_written;
    let restarted = Instant::now();
    cluster.start_all();
    let mut init_ok: [Option<Duration>; NODES] = [None; NODES];
    let (mut write_answer, mut read_answer): (Option<Duration>, Option<(Duration, Value)>) =
        (None, None);
    while write_answer.is_none() || read_answer.is_none() || init_ok.iter().any(Option::is_none) {
        let Some(left) = (restarted + RESTART_ANSWER_LIMIT).checked_duration_since(Instant::now())
        else {
            break;
        };
        match cluster.events.recv_timeout(left) {
            Ok(Event::InitOk { node }) => {
                init_ok[node] = Some(restarted.elapsed());
                let request = match node {
                    0 => Some((
                        write_client,
                        "\"type\": \"write\", \"key\": 0, \"value\": 0",
                    )),
                    1 => Some((read_client, "\"type\": \"read\", \"key\": 1")),
                    _ => None,
                };
                if let Some((client, fields)) = request {
                    cluster.send(
                        node,
                        format!(
                            "{{\"src\": \"c{}\", \"dest\": \"{}\", \"body\": {{{fields}, \
                             \"msg_id\": 1}}}}",
                            client + 1,
                            node_id(node)
                        ),
                    );
                }
            }
            Ok(Event::Answer { client, body, .. }) if client == write_client => {
                write_answer.get_or_insert(restarted.elapsed());
                if body["type"] != "write_ok" {
                    println!("    the write after the restart was answered {body}");
                }
            }
            Ok(Event::Answer { client, body, .. }) if client == read_client => {
                read_answer.get_or_insert((restarted.elapsed(), body));
            }
            Ok(Event::Answer { .. }) | Err(_) => {}
        }
    }
    let show = |time: Option<Duration>| match time {
        Some(time) => format!("{:.3} s", time.as_secs_f64()),
        None => format!("none within {} s", RESTART_ANSWER_LIMIT.as_secs()),
    };
    let inits: Vec<String> = init_ok
        .iter()
        .enumerate()
        .map(|(node, time)| format!("{} {}", node_id(node), show(*time)))
        .collect();
    println!("  restart of all three nodes on the same data dir (SIGKILLed):");
    println!("    init_ok after: {}", inits.join(", "));
    println!("    first answered write (to n1): {}", show(write_answer));
    let read_time = read_answer.as_ref().map(|(time, _)| *time);
    let read_check = match &read_answer {
        Some((_, body)) if body["type"] == "read_ok" && body["value"].as_u64() == expected => {
            format!("value {}, the last written before the kill", body["value"])
        }
        Some((_, body)) => format!(
            "WRONG: answered {body}, but the last value written before the kill was {expected:?}"
        ),
        None => String::new(),
    };
    println!(
        "    first answered read (to n2): {}{}{read_check}",
        show(read_time),
        if read_check.is_empty() { "" } else { "; " }
    );
    let slowest = write_answer.zip(read_time).map(|(w, r)| w.max(r));
    println!(
        "    target: first answers within {} s: {}",
        RESTART_ANSWER_TARGET.as_secs(),
        verdict(slowest.is_some_and(|slowest| slowest <= RESTART_ANSWER_TARGET))
    );
    let before = writers.acked;
    let observing = Instant::now();
    writers.run(cluster, Until::Time(observing + settings.observe), |_| {});
    println!(
        "    then {} writes in {:.1} s ({:.0} writes/s)",
        thousands(writers.acked - before),
        observing.elapsed().as_secs_f64(),
        (writers.acked - before) as f64 / observing.elapsed().as_secs_f64()
    );
    cluster.wait_quiet();
    let init_ok_max = init_ok
        .iter()
        .copied()
        .collect::<Option<Vec<Duration>>>()
        .and_then(|times| times.into_iter().max());
    [init_ok_max, write_answer, read_time]
}

fn report_after_restart(tally: &PeerTally, restored_log: u64) {
    println!("  peer traffic after the restart: {}", tally.summary());
    println!(
        "    accepts naming a slot of the restored log (below slot {}): {} (should be about 0)",
        thousands(restored_log),
        thousands(tally.accepts_below)
    );
    println!(
        "    highest ballot round: {} (should stay small)",
        tally.round_max
    );
}

fn count_log_lines(log_dir: &Path) -> usize {
    fs::read_dir(log_dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| fs::read_to_string(entry.path()).ok())
                .map(|text| text.lines().count())
                .sum()
        })
        .unwrap_or(0)
}

/// The CPU time of this process and of its children that ended (the nodes, and the build that
/// `binary` may have run), in seconds, from `/proc/self/stat` (fields 14 to 17, in clock ticks
/// of 1/100 s on Linux).
fn cpu_seconds() -> Option<(f64, f64)> {
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<u64> = stat
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|field| field.parse().ok())
        .collect::<Option<_>>()?;
    let [user, system, children_user, children_system] = fields[..] else {
        return None;
    };
    let ticks = |ticks: u64| ticks as f64 / 100.0;
    Some((ticks(user + system), ticks(children_user + children_system)))
}

fn megabytes(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}
