//! The tracker's byte-stream output: the interface a consumer of
//! reassembled streams implements (the HTTP dissector, `--follow`), the
//! adapter that hands one direction's in-order bytes and gaps from the
//! reassembler to it, and the per-packet delivery steps (a segment into
//! its direction's reassembler within the buffer limits, an ACK settling
//! the peer's holes, a direction ending at its FIN or a RST).

use super::conn::Conn;
use super::reassembly::{Deliver, GapCause};
use super::{Limits, TrackEvent};
use crate::decode::TcpMeta;
use crate::event::{Direction, Endpoint, TrackNotice};

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

impl Conn {
    /// The context of this connection's callbacks for one packet.
    pub(super) fn ctx(&self, frame: u64, ts_ns: i64) -> StreamCtx {
        StreamCtx {
            stream: self.stream,
            frame,
            ts_ns,
            client: self.client,
            server: self.server,
        }
    }

    /// Puts a segment's payload into its direction's reassembler, which
    /// delivers what is now in order. Out-of-order bytes are held within
    /// the per-direction limit and what is left of the total; past it the
    /// hole is given up (and reported). True when a gap was delivered.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn deliver_segment<C: StreamConsumer>(
        &mut self,
        ctx: &StreamCtx,
        m: &TcpMeta<'_>,
        dir: Direction,
        limits: Limits,
        buffered_total: &mut usize,
        events: &mut Vec<TrackEvent>,
        consumer: &mut C,
    ) -> bool {
        let mut gap_seen = false;
        let side = &mut self.sides[dir.index()];
        let before = side.reasm.buffered();
        let per_dir = limits.max_buffer_per_direction;
        let room = limits
            .max_buffer_total
            .saturating_sub(*buffered_total - before.min(*buffered_total));
        let limit = per_dir.min(room.max(1));
        if m.payload_len > 0 && !side.ended {
            let mut sink = Sink { consumer, ctx, dir };
            // A SYN occupies its sequence number: data on a SYN (TCP
            // Fast Open, or a crafted packet) starts one byte later.
            let data_seq = if m.flags.syn() {
                m.seq.wrapping_add(1)
            } else {
                m.seq
            };
            match side
                .reasm
                .segment(data_seq, m.payload, m.payload_len, limit, &mut sink)
            {
                Ok(()) => {}
                Err(GapCause::BufferLimit) => {
                    gap_seen = true;
                    events.push(TrackEvent::Notice(TrackNotice::BufferLimit {
                        stream: self.stream,
                        dir,
                        limit,
                    }));
                }
                Err(_) => gap_seen = true,
            }
        }
        let after = side.reasm.buffered();
        *buffered_total = (*buffered_total + after).saturating_sub(before);
        gap_seen
    }

    /// The peer (`dir`) had its data up to `ack` received: holes before it
    /// are final, and what waited behind them is delivered. True when a
    /// gap was delivered.
    #[inline]
    pub(super) fn deliver_acked<C: StreamConsumer>(
        &mut self,
        ctx: &StreamCtx,
        ack: u32,
        dir: Direction,
        buffered_total: &mut usize,
        consumer: &mut C,
    ) -> bool {
        let side = &mut self.sides[dir.index()];
        let before = side.reasm.buffered();
        let mut sink = Sink { consumer, ctx, dir };
        let gap_seen = side.reasm.acked(ack, &mut sink);
        let after = side.reasm.buffered();
        *buffered_total = (*buffered_total + after).saturating_sub(before);
        gap_seen
    }

    /// A direction ends at its FIN once every byte before the FIN has been
    /// delivered (a reordered FIN waits for the data before it), and both
    /// end at a RST. The sender's direction (`dir`) is looked at first.
    #[inline]
    pub(super) fn end_directions<C: StreamConsumer>(
        &mut self,
        ctx: &StreamCtx,
        rst: bool,
        dir: Direction,
        buffered_total: &mut usize,
        consumer: &mut C,
    ) {
        for e in [dir.index(), dir.reverse().index()] {
            let side = &mut self.sides[e];
            if side.ended {
                continue;
            }
            let fin_reached = side.fin_seq.is_some_and(|f| side.reasm.caught_up_to(f));
            if !(rst || fin_reached) {
                continue;
            }
            let dir_e = if e == 0 {
                Direction::ToServer
            } else {
                Direction::ToClient
            };
            let before = side.reasm.buffered();
            let mut sink = Sink {
                consumer,
                ctx,
                dir: dir_e,
            };
            side.reasm.finish(&mut sink);
            *buffered_total = buffered_total.saturating_sub(before);
            side.ended = true;
            consumer.end(ctx, dir_e);
        }
    }
}
