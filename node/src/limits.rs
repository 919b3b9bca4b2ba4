//! Every bound `paxos-node` puts on one request, in one place.
//!
//! A node that serves whatever arrives can be made to hold gigabytes or to spin for minutes by a
//! single line. Each limit here is far above what the course's tasks or Maelstrom's workloads
//! send, and a request beyond one is refused with Maelstrom error 14 (abort: nothing was done)
//! whose text names the limit, so a client can tell "too big" from "wrong" (error 12).

/// The longest input line, newline excluded. The reader never holds more than this (plus a
/// read buffer) of a longer line: the rest is skipped, and the sender, if its first bytes name
/// one, is answered with error 14.
pub const LINE_BYTES_MAX: usize = 8 << 20;

/// How much of an over-long line is kept to find whom to answer (`src`, `dest`, `msg_id`).
pub const OVERLONG_PREFIX_BYTES: usize = 64 << 10;

/// The largest opaque value (`value`, `chosen_value`, `proposer_value`, a proposal's `value`),
/// in bytes of JSON as sent. The node keeps such values and echoes them, so this bounds what one
/// request can make it hold.
pub const VALUE_BYTES_MAX: usize = 1 << 20;

/// How deeply a line may nest arrays and objects. Python's `json` gives up near 1,000 (its
/// recursion limit); the node's decoder and printer recurse once per level, so it stops sooner.
pub const NESTING_DEPTH_MAX: usize = 512;

/// The most digits of an integer. This is Python's own limit (`sys.get_int_max_str_digits()`,
/// 4,300 since 3.11): `json.loads` refuses a longer integer, so the node answers it with an
/// error rather than echo what the course's Python could never have read.
pub const INTEGER_DIGITS_MAX: usize = 4_300;

/// The most nodes `init` may name. A cluster node sends to every peer on most steps, so the
/// cluster size multiplies each step's work; Maelstrom's clusters are far smaller.
pub const NODE_IDS_MAX: usize = 64;

/// Peer messages that reach a node before its `init` are kept, and handled after it (see
/// `Node::hold_until_init`), up to this many bytes of them; beyond, they are dropped, as a
/// network may drop them, and the peers' timers send them again.
pub const HELD_BEFORE_INIT_BYTES_MAX: usize = 16 << 20;

/// The most proposals one `paxos_invariant_check` may list. The check itself is near-linear;
/// this bounds what one request may make the node build and judge.
pub const PROPOSALS_MAX: usize = 100_000;
