//! The node's durable state under `--data-dir`, and the one format it is written in.
//!
//! Every persisted fact is a record, one per line:
//!
//! ```text
//! 1 5c0a8b1e {"Learned":{"slot":0,"entry":"Noop"}}
//! ```
//!
//! the format version, the CRC-32 (IEEE, as eight hex digits) of everything after it on the line
//! (the space and the JSON), and the record as JSON. A record that fails its checksum, names
//! another version, or is not a record at all makes the file damaged: the node refuses to start
//! (exit status 2) and names the file, the record and the byte where it is, rather than serve
//! with promises it may not have made or may have forgotten.
//!
//! - `<id>.state` holds a cluster replica's records (`paxos_model::protocol::durable::Record`):
//!   an append-only log, written as each step makes them and fsynced once per batch of input,
//!   before any of the batch's messages leave. When the log has grown to more than twice the
//!   records a rewrite of the state would take, it is rewritten as the fewest records that
//!   rebuild the state (`DurableState::records`: a temporary file, fsynced, renamed over the log,
//!   and the directory fsynced), so that the file stays within a small factor of the state and
//!   a restart reads it in one pass. With the replica's snapshots on (`--snapshot-every`, the
//!   default), that state is a snapshot of the key-value store and the client table, the
//!   acceptor's open slots, and the entries learned beyond a hole: its size follows the live
//!   data, not the history, and so does a restart's time. Without them, it holds every learned
//!   entry. The first record is always the replica's membership (voter, probing, learner).
//! - `<id>.course-acceptor.state` holds the course's single-decree acceptor (tasks 7-3-1,
//!   7-3-2): one record, rewritten the same way at each change (it is one slot).
//!
//! A crash can leave one thing behind that is not damage: the last line of the log cut short (no
//! newline), by a write that never completed and so was never followed by a message. It is cut
//! off, with a note. A complete line that fails its checksum is damage, wherever it is.

use paxos_model::protocol::durable::{DurableState, Record};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The format this node writes, and the only one it reads.
pub const FORMAT_VERSION: &str = "1";

/// The log is rewritten when it holds more than this many records beyond the last rewrite, and
/// more than the rewrite itself: the cost of a rewrite is then paid for by as many appends, so
/// persistence costs the same per step however long the log. With the replica's snapshots the
/// rewrite is a few records, so this bounds what a restart replays: 1,000 records (a few hundred
/// slots), a millisecond's work, where 10,000 made a restart after a long history replay more
/// than one after a short one.
const SNAPSHOT_RECORDS_MIN: u64 = 1_000;

/// A state file that cannot be trusted, and why: what the node prints before it refuses to
/// start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damaged {
    pub path: PathBuf,
    pub problem: String,
}

impl std::fmt::Display for Damaged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.problem)
    }
}

/// Where node `id` keeps its replica's records under `data_dir`.
pub fn state_file(data_dir: &Path, id: &str) -> PathBuf {
    data_dir.join(format!("{id}.state"))
}

/// Where node `id` keeps the course's single-decree acceptor under `data_dir`.
pub fn course_state_file(data_dir: &Path, id: &str) -> PathBuf {
    data_dir.join(format!("{id}.course-acceptor.state"))
}

/// The files an earlier `paxos-node` wrote, as plain JSON without checksums. This one does not
/// trust them (an edited promise would load): it refuses to start while one is there.
fn unchecked_files(data_dir: &Path, id: &str) -> [PathBuf; 2] {
    [
        data_dir.join(format!("{id}.acceptor.json")),
        data_dir.join(format!("{id}.course-acceptor.json")),
    ]
}

/// Refuses a data directory that holds an earlier format's files for node `id`.
pub fn refuse_unchecked_files(data_dir: &Path, id: &str) -> Result<(), Damaged> {
    match unchecked_files(data_dir, id)
        .into_iter()
        .find(|path| path.exists())
    {
        Some(path) => Err(Damaged {
            path,
            problem: "state of an earlier paxos-node, written without checksums, which this \
                      version does not read; move the file away to start this node without \
                      state (it then asks its peers whether it may vote)"
                .into(),
        }),
        None => Ok(()),
    }
}

/// Appends `record` to `out` as one line of the format.
fn write_record<T: Serialize>(record: &T, out: &mut Vec<u8>) {
    let json = serde_json::to_vec(record).expect("a record serialises");
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(b" ");
    hasher.update(&json);
    let crc = hasher.finalize();
    out.extend_from_slice(FORMAT_VERSION.as_bytes());
    write!(out, " {crc:08x} ").expect("writing to a Vec");
    out.extend_from_slice(&json);
    out.push(b'\n');
}

/// What a file's bytes hold: every record, and where the valid part ends (before a torn tail).
struct Parsed<T> {
    records: Vec<T>,
    valid_bytes: usize,
    torn_bytes: usize,
}

/// Reads every record of `bytes`, the content of `path`.
fn parse_records<T: DeserializeOwned>(path: &Path, bytes: &[u8]) -> Result<Parsed<T>, Damaged> {
    let damaged = |problem: String| Damaged {
        path: path.to_owned(),
        problem,
    };
    let mut records = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let Some(length) = bytes[offset..].iter().position(|byte| *byte == b'\n') else {
            // A last line without its newline: a write cut short by a crash.
            return Ok(Parsed {
                records,
                valid_bytes: offset,
                torn_bytes: bytes.len() - offset,
            });
        };
        let line = &bytes[offset..offset + length];
        let record = parse_line(line).map_err(|problem| {
            damaged(format!(
                "record {} (at byte {offset}) {problem}: the file is damaged",
                records.len() + 1
            ))
        })?;
        records.push(record);
        offset += length + 1;
    }
    Ok(Parsed {
        records,
        valid_bytes: offset,
        torn_bytes: 0,
    })
}

/// One line of the format, without its newline.
fn parse_line<T: DeserializeOwned>(line: &[u8]) -> Result<T, String> {
    let version_end = line
        .iter()
        .position(|byte| *byte == b' ')
        .ok_or("is not a record (no format version)")?;
    let version = &line[..version_end];
    if version != FORMAT_VERSION.as_bytes() {
        return Err(format!(
            "has format version {:?}; this paxos-node reads version {FORMAT_VERSION}",
            String::from_utf8_lossy(&version[..version.len().min(16)])
        ));
    }
    let rest = &line[version_end + 1..];
    let (stored, after) = match (rest.get(..8), rest.get(8..)) {
        (Some(stored), Some(after)) if after.first() == Some(&b' ') => (stored, after),
        _ => return Err("is not a record (no checksum)".into()),
    };
    let stored = std::str::from_utf8(stored)
        .ok()
        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
        .ok_or("is not a record (the checksum is not 8 hex digits)")?;
    let computed = crc32fast::hash(after);
    if stored != computed {
        return Err(format!(
            "fails its checksum (stored {stored:08x}, computed {computed:08x})"
        ));
    }
    serde_json::from_slice(&after[1..]).map_err(|error| format!("is not a record: {error}"))
}

/// Writes `bytes` to `path` so that a crash leaves the old file or the new, never a mix: a
/// temporary file, fsynced, renamed over `path`, and the directory fsynced.
fn replace_file(data_dir: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut temporary_name = path.as_os_str().to_owned();
    temporary_name.push(".tmp");
    let temporary = PathBuf::from(temporary_name);
    let mut file = File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&temporary, path)?;
    sync_directory(data_dir)
}

fn sync_directory(data_dir: &Path) -> io::Result<()> {
    File::open(data_dir)?.sync_all()
}

/// An I/O error on `path`, as the node reports it before it stops.
fn io_failure(path: &Path) -> impl Fn(io::Error) -> String + '_ {
    move |error| format!("{}: {error}", path.display())
}

/// A cluster replica's log of records.
pub struct ReplicaStore {
    data_dir: PathBuf,
    path: PathBuf,
    file: File,
    /// Records in the file, and how many of them the last snapshot wrote.
    records: u64,
    snapshot_records: u64,
    /// Records written since the last fsync.
    unsynced: bool,
}

/// What opening a replica's log found.
pub struct Opened {
    pub store: ReplicaStore,
    /// `None` when the file holds no record: this node never persisted anything there.
    pub state: Option<DurableState>,
    /// Worth a log line: a torn last record cut off.
    pub note: Option<String>,
}

impl ReplicaStore {
    /// Opens (or creates) node `id`'s log under `data_dir` and replays it.
    pub fn open(data_dir: &Path, id: &str) -> Result<Opened, Damaged> {
        let path = state_file(data_dir, id);
        let unreadable = |error: io::Error| Damaged {
            path: path.clone(),
            problem: format!("cannot be read: {error}"),
        };
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(error) => return Err(unreadable(error)),
        };
        let parsed: Parsed<Record> = parse_records(&path, &bytes)?;
        let state = replay(&path, &parsed.records)?;
        let note = (parsed.torn_bytes > 0).then(|| {
            format!(
                "{}: the last {} bytes were a record cut short by a crash (never fsynced, so \
                 never relied on); cut off",
                path.display(),
                parsed.torn_bytes
            )
        });
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(unreadable)?;
        if parsed.torn_bytes > 0 {
            file.set_len(parsed.valid_bytes as u64)
                .and_then(|()| file.sync_all())
                .map_err(unreadable)?;
        }
        // A file just created must survive a crash too: its name is in the directory.
        sync_directory(data_dir).map_err(unreadable)?;
        let records = parsed.records.len() as u64;
        let store = ReplicaStore {
            data_dir: data_dir.to_owned(),
            path,
            file,
            records,
            snapshot_records: records,
            unsynced: false,
        };
        Ok(Opened { store, state, note })
    }

    /// Writes `records` at the end of the log (not yet fsynced: see `sync`).
    pub fn append(&mut self, records: &[Record]) -> Result<(), String> {
        if records.is_empty() {
            return Ok(());
        }
        let mut bytes = Vec::with_capacity(128 * records.len());
        for record in records {
            write_record(record, &mut bytes);
        }
        self.file
            .write_all(&bytes)
            .map_err(io_failure(&self.path))?;
        self.records += records.len() as u64;
        self.unsynced = true;
        Ok(())
    }

    /// Makes every record appended so far durable. The node calls it before any message leaves.
    pub fn sync(&mut self) -> Result<(), String> {
        if self.unsynced {
            self.file.sync_data().map_err(io_failure(&self.path))?;
            self.unsynced = false;
        }
        Ok(())
    }

    /// Whether the log has grown enough to be rewritten as a snapshot.
    pub fn wants_snapshot(&self) -> bool {
        let since = self.records - self.snapshot_records;
        since > SNAPSHOT_RECORDS_MIN.max(self.snapshot_records)
    }

    /// Rewrites the log as the fewest records that rebuild `state`, which must be what the log
    /// rebuilds now (every record of it applied, and synced).
    pub fn snapshot(&mut self, state: &DurableState) -> Result<(), String> {
        debug_assert!(!self.unsynced, "a snapshot replaces only what is durable");
        let mut bytes = Vec::new();
        let mut records = 0;
        for record in state.records() {
            write_record(&record, &mut bytes);
            records += 1;
        }
        replace_file(&self.data_dir, &self.path, &bytes).map_err(io_failure(&self.path))?;
        self.file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(io_failure(&self.path))?;
        self.records = records;
        self.snapshot_records = records;
        Ok(())
    }
}

/// The state `records` rebuild. A log that holds records begins with the replica's membership
/// (the node writes it first, and every snapshot does): one that does not was cut or edited.
fn replay(path: &Path, records: &[Record]) -> Result<Option<DurableState>, Damaged> {
    let Some(first) = records.first() else {
        return Ok(None);
    };
    if !matches!(first, Record::Membership(_)) {
        return Err(Damaged {
            path: path.to_owned(),
            problem: "record 1 is not the replica's membership, which every log begins with: \
                      the file is damaged"
                .into(),
        });
    }
    let mut state = DurableState::default();
    for record in records {
        state.apply(record);
    }
    Ok(Some(state))
}

/// The course acceptor's state node `id` persisted under `data_dir`, if any.
pub fn load_course_acceptor<T: DeserializeOwned>(
    data_dir: &Path,
    id: &str,
) -> Result<Option<T>, Damaged> {
    let path = course_state_file(data_dir, id);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(Damaged {
                path,
                problem: format!("cannot be read: {error}"),
            })
        }
    };
    let parsed: Parsed<T> = parse_records(&path, &bytes)?;
    if parsed.torn_bytes > 0 || parsed.records.len() > 1 {
        // The file is replaced whole, never appended to: anything but one record is damage.
        return Err(Damaged {
            path,
            problem: format!(
                "holds {} records and {} bytes more; the course acceptor's file holds one: \
                 the file is damaged",
                parsed.records.len(),
                parsed.torn_bytes
            ),
        });
    }
    Ok(parsed.records.into_iter().next())
}

/// Makes the course acceptor's state durable: its one record, replacing the file.
pub fn persist_course_acceptor<T: Serialize>(
    data_dir: &Path,
    id: &str,
    state: &T,
) -> Result<(), String> {
    let path = course_state_file(data_dir, id);
    let mut bytes = Vec::new();
    write_record(state, &mut bytes);
    replace_file(data_dir, &path, &bytes).map_err(io_failure(&path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use paxos_model::protocol::acceptor::Change;
    use paxos_model::protocol::durable::{Membership, Snapshot};
    use paxos_model::protocol::entry::{Entry, RequestId};
    use paxos_model::protocol::kv::{KvResult, KvStore};
    use paxos_model::Ballot;

    /// A fresh directory of its own for each test.
    fn data_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("paxos-store-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("a directory");
        dir
    }

    fn records() -> Vec<Record> {
        vec![
            Record::Membership(Membership::Voter),
            Record::Acceptor(Change::Promised(Ballot::new(2, 1))),
            Record::Learned {
                slot: 0,
                entry: Entry::Noop,
            },
        ]
    }

    #[test]
    fn a_log_written_and_reopened_gives_back_its_state() {
        let dir = data_dir("reopen");
        let mut store = ReplicaStore::open(&dir, "n1").expect("a new log").store;
        store.append(&records()).expect("appended");
        store.sync().expect("synced");
        let opened = ReplicaStore::open(&dir, "n1").expect("readable");
        let state = opened.state.expect("state");
        assert_eq!(state.membership, Some(Membership::Voter));
        assert_eq!(state.acceptor.promised, Some(Ballot::new(2, 1)));
        assert_eq!(state.learned.get(0), Some(&Entry::Noop));
        assert!(opened.note.is_none());
        fs::remove_dir_all(&dir).expect("removed");
    }

    #[test]
    fn a_changed_byte_anywhere_is_damage_that_names_the_record() {
        let dir = data_dir("flip");
        let mut store = ReplicaStore::open(&dir, "n1").expect("a new log").store;
        store.append(&records()).expect("appended");
        store.sync().expect("synced");
        let path = state_file(&dir, "n1");
        let clean = fs::read(&path).expect("written");
        // The promise's round, 2, edited to 9: the checksum catches it.
        let second_line = clean.iter().position(|byte| *byte == b'\n').unwrap() + 1;
        let round = second_line
            + clean[second_line..]
                .windows(9)
                .position(|w| w == b"round\":2,")
                .unwrap()
            + 7;
        let mut edited = clean.clone();
        edited[round] = b'9';
        fs::write(&path, &edited).expect("edited");
        let damaged = ReplicaStore::open(&dir, "n1").err().expect("refused");
        assert_eq!(damaged.path, path);
        assert!(
            damaged.problem.starts_with(&format!(
                "record 2 (at byte {second_line}) fails its checksum"
            )),
            "{damaged}"
        );
        fs::remove_dir_all(&dir).expect("removed");
    }

    #[test]
    fn a_record_cut_short_by_a_crash_is_cut_off_and_the_rest_kept() {
        let dir = data_dir("torn");
        let mut store = ReplicaStore::open(&dir, "n1").expect("a new log").store;
        store.append(&records()).expect("appended");
        store.sync().expect("synced");
        let path = state_file(&dir, "n1");
        let clean = fs::read(&path).expect("written");
        fs::write(&path, &clean[..clean.len() - 5]).expect("cut");
        let opened = ReplicaStore::open(&dir, "n1").expect("readable");
        assert!(opened
            .note
            .expect("a note")
            .contains("cut short by a crash"));
        let state = opened.state.expect("state");
        assert_eq!(state.learned.len(), 0, "the torn record is gone");
        assert_eq!(state.acceptor.promised, Some(Ballot::new(2, 1)));
        fs::remove_dir_all(&dir).expect("removed");
    }

    #[test]
    fn a_snapshot_replaces_the_log_with_the_fewest_records() {
        let dir = data_dir("snapshot");
        let mut store = ReplicaStore::open(&dir, "n1").expect("a new log").store;
        let mut state = DurableState::default();
        let mut written = records();
        for round in 3..20 {
            written.push(Record::Acceptor(Change::Promised(Ballot::new(round, 0))));
        }
        written.iter().for_each(|record| state.apply(record));
        store.append(&written).expect("appended");
        store.sync().expect("synced");
        store.snapshot(&state).expect("snapshot");
        store
            .append(&[Record::Learned {
                slot: 1,
                entry: Entry::Noop,
            }])
            .expect("appended");
        store.sync().expect("synced");
        let reopened = ReplicaStore::open(&dir, "n1").expect("readable");
        assert_eq!(
            reopened.store.records, 4,
            "membership, promise, slot 0, slot 1"
        );
        let mut expected = state;
        expected.learned.insert(1, Entry::Noop);
        assert_eq!(reopened.state, Some(expected));
        fs::remove_dir_all(&dir).expect("removed");
    }

    #[test]
    fn a_replica_snapshot_in_the_file_stands_for_the_history_below_it() {
        // A long history, then the replica's snapshot through its last slot: the rewrite is
        // the membership, the promise and the snapshot, however long the history was.
        let dir = data_dir("replica-snapshot");
        let mut store = ReplicaStore::open(&dir, "n1").expect("a new log").store;
        let mut written = records();
        for slot in 1..5_000 {
            written.push(Record::Learned {
                slot,
                entry: Entry::Noop,
            });
        }
        let id = RequestId {
            client: "c1".into(),
            seq: 7,
        };
        written.push(Record::Snapshot(Snapshot {
            through: 4_999,
            store: KvStore {
                entries: [(-3, 9), (1, 8)].into_iter().collect(),
            },
            clients: vec![(id.clone(), KvResult::ReadOk { value: 8 })],
            dropped: vec![RequestId { seq: 3, ..id }],
        }));
        let mut state = DurableState::default();
        written.iter().for_each(|record| state.apply(record));
        assert!(
            state.learned.is_empty(),
            "the snapshot subsumes every learned entry"
        );
        store.append(&written).expect("appended");
        store.sync().expect("synced");
        assert!(store.wants_snapshot());
        store.snapshot(&state).expect("rewritten");
        let reopened = ReplicaStore::open(&dir, "n1").expect("readable");
        assert_eq!(reopened.store.records, 3, "membership, promise, snapshot");
        assert_eq!(reopened.state, Some(state));
        fs::remove_dir_all(&dir).expect("removed");
    }

    #[test]
    fn a_file_of_an_earlier_format_or_version_is_refused() {
        let dir = data_dir("formats");
        fs::write(dir.join("n1.acceptor.json"), "{\"promised\":null}").expect("written");
        assert!(refuse_unchecked_files(&dir, "n1").is_err());
        assert!(refuse_unchecked_files(&dir, "n2").is_ok());
        let path = state_file(&dir, "n2");
        fs::write(&path, "2 00000000 {}\n").expect("written");
        let damaged = ReplicaStore::open(&dir, "n2").err().expect("refused");
        assert!(
            damaged.problem.contains("format version \"2\""),
            "{damaged}"
        );
        fs::write(&path, "not a record\n").expect("written");
        assert!(ReplicaStore::open(&dir, "n2").is_err());
        fs::remove_dir_all(&dir).expect("removed");
    }
}
