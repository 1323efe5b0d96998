//! A piece of the conversation followed with `--follow`: bytes, a hole,
//! or the end of a direction, in the order the tracker delivered them.

use super::flow::{Direction, Endpoint};

/// What one chunk holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FollowData {
    /// Bytes, in stream order.
    Bytes(Vec<u8>),
    /// This many bytes were never captured (a hole given up on).
    Missing(u64),
    /// One direction ended (FIN, RST or the end of the input).
    End,
    /// The connection is gone; nothing follows.
    Closed,
}

/// A piece of the followed conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FollowChunk {
    pub stream: u64,
    /// The frame being processed when the bytes were delivered.
    pub frame: u64,
    pub ts_ns: i64,
    pub client: Endpoint,
    pub server: Endpoint,
    /// Unused for `Closed`.
    pub dir: Direction,
    pub data: FollowData,
}
