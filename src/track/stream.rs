//! The tracker's byte-stream output: the interface a consumer of
//! reassembled streams implements (the HTTP dissector, `--follow`), and the
//! adapter that hands one direction's in-order bytes and gaps from the
//! reassembler to it.

use super::reassembly::Deliver;
use crate::event::{Direction, Endpoint};

/// Context passed with stream callbacks.
#[derive(Clone, Copy, Debug)]
pub struct StreamCtx {
    pub stream: u64,
    pub frame: u64,
    pub ts_ns: i64,
    pub client: Endpoint,
    pub server: Endpoint,
}

/// Receives reassembled byte streams (the HTTP dissector implements it).
pub trait StreamConsumer {
    /// In-order bytes of one direction.
    fn data(&mut self, ctx: &StreamCtx, dir: Direction, bytes: &[u8]);
    /// `missing` bytes of one direction will never arrive.
    fn gap(&mut self, ctx: &StreamCtx, dir: Direction, missing: u64);
    /// One direction has ended (FIN, or RST for both).
    fn end(&mut self, ctx: &StreamCtx, dir: Direction);
    /// The connection is gone (closed, reset, expired, evicted, or the input
    /// ended); no more callbacks for this stream.
    fn closed(&mut self, ctx: &StreamCtx);
}

/// A consumer that ignores everything (for `--plain` and benchmarks).
pub struct NoConsumer;

impl StreamConsumer for NoConsumer {
    fn data(&mut self, _: &StreamCtx, _: Direction, _: &[u8]) {}
    fn gap(&mut self, _: &StreamCtx, _: Direction, _: u64) {}
    fn end(&mut self, _: &StreamCtx, _: Direction) {}
    fn closed(&mut self, _: &StreamCtx) {}
}

/// Adapts a reassembler's output to the consumer for one direction.
pub(super) struct Sink<'a, C: StreamConsumer> {
    pub(super) consumer: &'a mut C,
    pub(super) ctx: &'a StreamCtx,
    pub(super) dir: Direction,
}

impl<C: StreamConsumer> Deliver for Sink<'_, C> {
    fn data(&mut self, bytes: &[u8]) {
        self.consumer.data(self.ctx, self.dir, bytes);
    }
    fn gap(&mut self, missing: u64) {
        self.consumer.gap(self.ctx, self.dir, missing);
    }
}
