//! The breadth-first frontier's overflow to disk: when a level of the search outgrows the
//! memory it may take, whole chunks of the next level are written, as bytes compressed in
//! blocks, to a temporary file, and read back in order when that level is expanded.
//!
//! The search stays level by level: a spilled chunk is still a chunk of its level, taken from
//! the same queue in the same turn as the chunks kept in memory, so first discoveries stay at
//! the least depth and every count stays what it is without spilling. What spilling changes is
//! where a waiting state lives, and what it costs: a state in memory shares its actors with its
//! parent and siblings, a spilled one is a few hundred bytes that LZ4 halves or better, and it
//! is rebuilt (its caches worked out again) when read back.
//!
//! This module knows states only through a `StateCodec`, a model's pair of functions to bytes
//! and back; it knows nothing of models, fingerprints or the search, which sit above it.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How a model writes a state to bytes and reads it back. `decode(encode(s))` must be equal to
/// `s` and have its fingerprint: the search goes on from the decoded state as if it were `s`.
pub struct StateCodec<S> {
    pub encode: fn(&S, &mut Vec<u8>),
    pub decode: fn(&[u8]) -> S,
}

impl<S> Clone for StateCodec<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for StateCodec<S> {}

impl<S> std::fmt::Debug for StateCodec<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateCodec")
    }
}

/// A frontier entry as the search keeps it: a state, the 128-bit fingerprint it was discovered
/// under, and its depth.
pub type Entry<S> = (S, u128, usize);

/// A run of a level's entries: in memory, or spilled to a block of a file.
pub enum Chunk<S> {
    Held(Vec<Entry<S>>),
    Spilled(Block),
}

impl<S> Chunk<S> {
    /// How many entries it holds, wherever they are.
    pub fn len(&self) -> usize {
        match self {
            Chunk::Held(entries) => entries.len(),
            Chunk::Spilled(block) => block.entries,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where a spilled chunk lies: `compressed_len` bytes at `offset` of `file`.
pub struct Block {
    file: Arc<SpillFile>,
    offset: u64,
    compressed_len: usize,
    entries: usize,
}

/// One level's spill file: unnamed (removed by the system when closed, even if the process is
/// killed), appended to by every thread at once through positional writes, and closed when the
/// last block of it has been read back and dropped.
struct SpillFile {
    file: File,
    end: Mutex<u64>,
    /// The spill's count of bytes on disk, which this file leaves when it closes.
    on_disk: Arc<AtomicU64>,
}

impl Drop for SpillFile {
    fn drop(&mut self) {
        let size = *self.end.get_mut().expect("not poisoned");
        self.on_disk.fetch_sub(size, Ordering::Relaxed);
    }
}

/// What a search spilled, for its report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpillReport {
    /// Blocks written (one chunk of up to `CHUNK` states each).
    pub blocks: u64,
    /// States written (a state is spilled at most once: it is expanded when read back).
    pub states: u64,
    /// The states' encoded bytes, before compression.
    pub encoded_bytes: u64,
    /// The bytes written to disk, compressed.
    pub disk_bytes: u64,
    /// The most bytes on disk at once (a level's file is removed once that level is expanded).
    pub peak_disk_bytes: u64,
}

impl SpillReport {
    /// Encoded bytes per byte on disk: how much compression saved.
    pub fn compression_ratio(&self) -> f64 {
        if self.disk_bytes == 0 {
            return 1.0;
        }
        self.encoded_bytes as f64 / self.disk_bytes as f64
    }
}

/// A search's spilling: the codec, where files go, the file that the level being built is
/// spilled to, and the counts.
pub struct Spill<S> {
    codec: StateCodec<S>,
    dir: PathBuf,
    /// The file of the level being built, made at its first spilled chunk.
    writing: Mutex<Option<Arc<SpillFile>>>,
    on_disk: Arc<AtomicU64>,
    peak_disk_bytes: AtomicU64,
    blocks: AtomicU64,
    states: AtomicU64,
    encoded_bytes: AtomicU64,
    disk_bytes: AtomicU64,
}

impl<S> Spill<S> {
    /// Spills into files in `dir` (the system's temporary directory if `None`).
    pub fn new(codec: StateCodec<S>, dir: Option<PathBuf>) -> Self {
        Spill {
            codec,
            dir: dir.unwrap_or_else(std::env::temp_dir),
            writing: Mutex::new(None),
            on_disk: Arc::new(AtomicU64::new(0)),
            peak_disk_bytes: AtomicU64::new(0),
            blocks: AtomicU64::new(0),
            states: AtomicU64::new(0),
            encoded_bytes: AtomicU64::new(0),
            disk_bytes: AtomicU64::new(0),
        }
    }

    pub fn codec(&self) -> StateCodec<S> {
        self.codec
    }

    /// The level being built is complete: its blocks stay readable through the file they hold,
    /// and the next level's spilled chunks go to a new file.
    pub fn end_level(&self) {
        self.writing.lock().expect("not poisoned").take();
    }

    /// Writes `entries` to disk as one compressed block. If the file cannot be made or
    /// written (a full disk), the entries stay in memory: the search goes on, and the memory
    /// guard still stands behind it.
    pub fn spill(&self, entries: Vec<Entry<S>>) -> Chunk<S> {
        let mut encoded = Vec::with_capacity(entries.len() * 256);
        let mut state_bytes = Vec::with_capacity(512);
        for (state, fingerprint, depth) in &entries {
            state_bytes.clear();
            (self.codec.encode)(state, &mut state_bytes);
            encoded.extend_from_slice(&fingerprint.to_le_bytes());
            encoded.extend_from_slice(&(*depth as u32).to_le_bytes());
            encoded.extend_from_slice(&(state_bytes.len() as u32).to_le_bytes());
            encoded.extend_from_slice(&state_bytes);
        }
        let compressed = lz4_flex::block::compress_prepend_size(&encoded);
        let Some(file) = self.file() else {
            return Chunk::Held(entries);
        };
        let offset = {
            let mut end = file.end.lock().expect("not poisoned");
            let offset = *end;
            if file.file.write_all_at(&compressed, offset).is_err() {
                return Chunk::Held(entries);
            }
            *end += compressed.len() as u64;
            offset
        };
        let on_disk = self
            .on_disk
            .fetch_add(compressed.len() as u64, Ordering::Relaxed)
            + compressed.len() as u64;
        self.peak_disk_bytes.fetch_max(on_disk, Ordering::Relaxed);
        self.blocks.fetch_add(1, Ordering::Relaxed);
        self.states
            .fetch_add(entries.len() as u64, Ordering::Relaxed);
        self.encoded_bytes
            .fetch_add(encoded.len() as u64, Ordering::Relaxed);
        self.disk_bytes
            .fetch_add(compressed.len() as u64, Ordering::Relaxed);
        Chunk::Spilled(Block {
            file,
            offset,
            compressed_len: compressed.len(),
            entries: entries.len(),
        })
    }

    /// The entries of `chunk`, read back from disk if it was spilled.
    ///
    /// # Panics
    /// If a spilled block cannot be read back or does not decode: its states would be lost,
    /// and a search that goes on without them could report a space as exhausted that is not.
    pub fn take(&self, chunk: Chunk<S>) -> Vec<Entry<S>> {
        let block = match chunk {
            Chunk::Held(entries) => return entries,
            Chunk::Spilled(block) => block,
        };
        let mut compressed = vec![0; block.compressed_len];
        block
            .file
            .file
            .read_exact_at(&mut compressed, block.offset)
            .expect("a spilled block of the frontier reads back");
        let encoded = lz4_flex::block::decompress_size_prepended(&compressed)
            .expect("a spilled block of the frontier decompresses");
        let mut entries = Vec::with_capacity(block.entries);
        let mut rest = encoded.as_slice();
        while !rest.is_empty() {
            let (fingerprint, after) = rest.split_at(16);
            let (depth, after) = after.split_at(4);
            let (len, after) = after.split_at(4);
            let len = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
            let (state, after) = after.split_at(len);
            entries.push((
                (self.codec.decode)(state),
                u128::from_le_bytes(fingerprint.try_into().expect("16 bytes")),
                u32::from_le_bytes(depth.try_into().expect("4 bytes")) as usize,
            ));
            rest = after;
        }
        assert_eq!(
            entries.len(),
            block.entries,
            "a spilled block holds its entries"
        );
        entries
    }

    /// The file the level being built spills to, made at its first spill; `None` if it cannot
    /// be made.
    fn file(&self) -> Option<Arc<SpillFile>> {
        let mut writing = self.writing.lock().expect("not poisoned");
        if writing.is_none() {
            let file = tempfile::tempfile_in(&self.dir).ok()?;
            *writing = Some(Arc::new(SpillFile {
                file,
                end: Mutex::new(0),
                on_disk: self.on_disk.clone(),
            }));
        }
        writing.clone()
    }

    pub fn report(&self) -> SpillReport {
        SpillReport {
            blocks: self.blocks.load(Ordering::Relaxed),
            states: self.states.load(Ordering::Relaxed),
            encoded_bytes: self.encoded_bytes.load(Ordering::Relaxed),
            disk_bytes: self.disk_bytes.load(Ordering::Relaxed),
            peak_disk_bytes: self.peak_disk_bytes.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec() -> StateCodec<String> {
        StateCodec {
            encode: |state, out| out.extend_from_slice(state.as_bytes()),
            decode: |bytes| String::from_utf8(bytes.to_vec()).expect("utf-8"),
        }
    }

    /// Blocks of two levels, spilled from two files and interleaved with a held chunk, read
    /// back whole and in order; a level's file leaves the disk once its blocks are read.
    #[test]
    fn spilled_chunks_read_back_in_order_and_their_file_goes() {
        let spill = Spill::new(codec(), None);
        let level = |name: &str, count: usize| -> Vec<Entry<String>> {
            (0..count)
                .map(|i| (format!("{name}-{i}").repeat(i % 7), i as u128 * 31, i))
                .collect()
        };
        let first = spill.spill(level("a", 1000));
        let held = Chunk::Held(level("b", 3));
        let second = spill.spill(level("c", 0));
        spill.end_level();
        let next = spill.spill(level("d", 10));
        let report = spill.report();
        assert_eq!(report.blocks, 3);
        assert_eq!(report.states, 1010);
        assert!(report.disk_bytes < report.encoded_bytes, "{report:?}");
        assert_eq!(first.len(), 1000);
        assert_eq!(spill.take(first), level("a", 1000));
        assert_eq!(spill.take(held), level("b", 3));
        assert_eq!(spill.take(second), Vec::new());
        assert!(spill.on_disk.load(Ordering::Relaxed) > 0);
        spill.end_level();
        assert_eq!(spill.take(next), level("d", 10));
        assert_eq!(spill.on_disk.load(Ordering::Relaxed), 0);
        assert_eq!(spill.report().peak_disk_bytes, report.disk_bytes);
    }
}
