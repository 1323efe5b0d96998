//! The HTTP/1.x dissector: turns each TCP connection's two byte streams
//! into [`Exchange`]s (a request paired with its response, with latencies).
//!
//! HTTP is recognised by content, on any port: a request line or status
//! line at the start of a direction (or, for a connection joined mid-way,
//! within its first bytes). Each direction is a small state machine:
//!
//! ```text
//!  Start ──head──► Head ──► Body ──► Head …      (keep-alive, pipelining)
//!    │ not HTTP      │ broken  │ broken framing
//!    ▼               ▼         ▼
//!  Resync ◄──────────┴─────────┘  (also after a capture gap): search for
//!    │                             the next plausible start line
//!    └──► Head
//!  Hold    request side after an Upgrade/CONNECT request, until the
//!          response says whether the connection switches protocols
//!  Tunnel  after 101 or a 2xx to CONNECT: bytes are counted, not parsed
//! ```
//!
//! Responses pair with requests in order (FIFO), which is right for
//! keep-alive and pipelining. Interim 1xx responses attach to the request
//! they precede. A response lost in a capture gap is detected with a
//! heuristic (see `Conn::skip_lost_responses`) so later pairs stay right.
//!
//! Memory is bounded: heads are gathered up to `max_head_bytes`, bodies are
//! never held beyond the display limit, each connection keeps at most
//! `max_pending` unanswered exchanges, and the records of unanswered
//! exchanges take at most `max_pending_bytes` across all connections (the
//! oldest of the connection that grew are emitted early, with a note).
//!
//! Where each part lives: this file has the dissector's public face
//! ([`HttpDissector`], [`HttpOptions`]) and the memory budget across
//! connections. conn.rs holds a connection's state and hands each
//! direction's bytes to the handler of its state (side.rs: one direction's
//! parser state): gather.rs for Start and Head, message.rs for Body (and a
//! message's record from head to end), resync.rs for Resync; gaps.rs
//! handles capture gaps in every state. request.rs and response.rs are the
//! two messages' lifecycles (Hold begins after an Upgrade or CONNECT
//! request, Tunnel with the response that switches); pairing.rs pairs
//! them first in, first out and bounds the unanswered. head/ parses heads,
//! body/ frames and decodes bodies. protocol.rs puts the dissector on the
//! dissector interface (its probe, and why it is the registry's fallback).

pub mod body;
mod conn;
mod gaps;
mod gather;
pub mod head;
mod message;
mod pairing;
mod protocol;
mod request;
mod response;
mod resync;
mod side;

use std::collections::HashMap;

use conn::{Conn, Out};
use head::HeadLimits;

use crate::event::{Direction, Exchange, HttpNote};
use crate::track::{StreamConsumer, StreamCtx};

/// The dissector's limits and choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpOptions {
    /// Show Authorization, Cookie… values instead of `<redacted N bytes>`.
    pub show_secrets: bool,
    /// Keep bodies (up to `body_limit` bytes each) for display.
    pub keep_body: bool,
    pub body_limit: usize,
    pub head: HeadLimits,
    /// Exchanges per connection waiting for their response.
    pub max_pending: usize,
    /// Bytes (approximate) held in unanswered exchanges, all connections.
    pub max_pending_bytes: usize,
    /// Decoded (gunzipped) bytes counted per body at most.
    pub max_decoded: u64,
    /// Bytes of a direction searched for a first message start before it
    /// is declared not HTTP (connections joined mid-way).
    pub max_sniff: u64,
    /// Per-packet notes for requests, responses and interim responses
    /// (what the timeline shows). Off when no output shows them: the
    /// exchange records and the notices are made either way.
    pub message_notes: bool,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            show_secrets: false,
            keep_body: false,
            body_limit: 4096,
            head: HeadLimits::default(),
            max_pending: 1024,
            max_pending_bytes: 64 << 20,
            max_decoded: 256 << 20,
            max_sniff: 64 << 10,
            message_notes: true,
        }
    }
}

/// The HTTP/1.x dissector: a [`StreamConsumer`] with one state machine per
/// TCP stream.
pub struct HttpDissector {
    opts: HttpOptions,
    conns: HashMap<u64, Conn, foldhash::quality::RandomState>,
    #[allow(clippy::vec_box)] // (see Slot::x)
    done: Vec<Box<Exchange>>,
    notes: Vec<HttpNote>,
    /// Sum of the connections' `pending_bytes`.
    pending_bytes: usize,
}

impl HttpDissector {
    pub fn new(opts: HttpOptions) -> Self {
        Self {
            opts,
            conns: HashMap::default(),
            done: Vec::new(),
            notes: Vec::new(),
            pending_bytes: 0,
        }
    }

    /// Bytes held in head, resync and hold buffers, all connections.
    pub fn buffered_bytes(&self) -> usize {
        self.conns
            .values()
            .flat_map(|c| c.sides.iter())
            .map(|s| s.head.len() + s.carry.len() + s.held.len())
            .sum()
    }

    /// Approximate bytes held by unanswered exchanges.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Runs `f` on the stream's connection (created if `create`), then
    /// keeps the memory held by unanswered exchanges within its budget.
    fn with_conn<F>(&mut self, ctx: &StreamCtx, create: bool, f: F)
    where
        F: FnOnce(&mut Conn, &mut Out<'_>),
    {
        let max_total = self.opts.max_pending_bytes;
        let (conns, mut out) = (
            &mut self.conns,
            Out {
                opts: &self.opts,
                notes: &mut self.notes,
                done: &mut self.done,
            },
        );
        let conn = if create {
            conns.entry(ctx.stream).or_insert_with(|| Conn::new(ctx))
        } else {
            match conns.get_mut(&ctx.stream) {
                Some(c) => c,
                None => return,
            }
        };
        let before = conn.pending_bytes;
        f(conn, &mut out);
        conn.pending_bytes = conn.pending_size();
        let others = self.pending_bytes.saturating_sub(before);
        if others + conn.pending_bytes > max_total {
            conn.shed(&mut out, max_total.saturating_sub(others));
            conn.pending_bytes = conn.pending_size();
        }
        self.pending_bytes = others + conn.pending_bytes;
    }

    pub fn options(&self) -> &HttpOptions {
        &self.opts
    }

    /// Exchanges finished since the last call, in the order they finished.
    pub fn drain_exchanges(&mut self) -> std::vec::Drain<'_, Box<Exchange>> {
        self.done.drain(..)
    }

    /// Moves the finished exchanges to the end of `out`, in the order they
    /// finished.
    pub fn move_exchanges(&mut self, out: &mut Vec<Box<Exchange>>) {
        out.append(&mut self.done);
    }

    /// Timeline notes produced since the last call (for the frame being
    /// processed).
    pub fn take_notes(&mut self) -> Vec<HttpNote> {
        std::mem::take(&mut self.notes)
    }

    /// Moves the notes produced since the last call to the end of `out`.
    pub fn move_notes(&mut self, out: &mut Vec<HttpNote>) {
        out.append(&mut self.notes);
    }

    /// Connections with HTTP state.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }
}

impl StreamConsumer for HttpDissector {
    fn data(&mut self, ctx: &StreamCtx, dir: Direction, bytes: &[u8]) {
        self.with_conn(ctx, true, |c, out| c.process(out, ctx, dir, bytes));
    }

    fn gap(&mut self, ctx: &StreamCtx, dir: Direction, missing: u64) {
        self.with_conn(ctx, true, |c, out| c.gap(out, ctx, dir, missing));
    }

    fn end(&mut self, ctx: &StreamCtx, dir: Direction) {
        self.with_conn(ctx, false, |c, out| c.end(out, ctx, dir));
    }

    fn closed(&mut self, ctx: &StreamCtx) {
        self.with_conn(ctx, false, |c, out| c.close(out, ctx));
        if let Some(conn) = self.conns.remove(&ctx.stream) {
            self.pending_bytes = self.pending_bytes.saturating_sub(conn.pending_bytes);
        }
    }
}

#[cfg(test)]
mod tests;
