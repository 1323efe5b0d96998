//! One direction's parser state: where its state machine stands, the
//! head being gathered, the body being read, and the bookkeeping of bytes
//! passed over (skipped, sniffed, carried while resyncing, held).

use super::body::{BodyReader, BodySink};
use super::head::{HeadBuf, Kind};
use crate::event::Snippet;
use crate::track::StreamCtx;

/// Where a direction's parser stands (the picture in mod.rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    Start,
    Head,
    Body,
    Resync,
    NotHttp,
    Hold,
    Tunnel,
    Ended,
}

/// Frame and time of a byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct At {
    pub(super) frame: u64,
    pub(super) ts: i64,
}

impl At {
    pub(super) fn of(ctx: &StreamCtx) -> Self {
        Self {
            frame: ctx.frame,
            ts: ctx.ts_ns,
        }
    }
}

/// The message whose body a direction is reading.
pub(super) struct Cur {
    pub(super) id: u64,
    pub(super) kind: Kind,
    pub(super) reader: BodyReader,
    pub(super) sink: BodySink,
    pub(super) last: At,
    /// A request that asked `Expect: 100-continue`.
    pub(super) expect_continue: bool,
}

/// One direction's parser.
pub(super) struct Side {
    pub(super) state: State,
    pub(super) head: HeadBuf,
    pub(super) head_at: At,
    pub(super) cur: Option<Cur>,
    /// Bytes passed over (not HTTP) since the last message.
    pub(super) skipped: u64,
    pub(super) skipped_sample: Option<Snippet>,
    /// Bytes searched while the connection had no HTTP yet.
    pub(super) sniffed: u64,
    /// Resync: a possible message start cut by the end of a segment.
    pub(super) carry: Vec<u8>,
    pub(super) carry_at: At,
    /// Hold: bytes after an Upgrade/CONNECT request.
    pub(super) held: Vec<u8>,
    pub(super) tunnel_bytes: u64,
}

impl Side {
    pub(super) fn new() -> Self {
        Self {
            state: State::Start,
            head: HeadBuf::default(),
            head_at: At::default(),
            cur: None,
            skipped: 0,
            skipped_sample: None,
            sniffed: 0,
            carry: Vec::new(),
            carry_at: At::default(),
            held: Vec::new(),
            tunnel_bytes: 0,
        }
    }

    pub(super) fn skip(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.skipped += bytes.len() as u64;
        if self.skipped_sample.is_none() {
            let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
            self.skipped_sample = Some(Snippet::of(line, 40));
        }
    }
}
