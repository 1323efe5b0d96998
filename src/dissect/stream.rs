//! The stream dissector interface: what a protocol carried over a
//! reassembled byte stream (TCP, or the plaintext another dissector hands
//! on) implements to be chosen by content and fed in order. See the
//! module docs of [`crate::dissect`] for how the registry drives it.

use super::out::Out;
use crate::event::Direction;
use crate::track::StreamCtx;

/// A probe's answer about a connection, judging by the first bytes of one
/// of its directions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// The bytes are this protocol's: the dissector claims the connection.
    Match,
    /// The connection is not this protocol's. Final: the dissector is not
    /// asked about this connection again.
    NoMatch,
    /// Cannot tell yet (too few bytes, or a direction this probe cannot
    /// judge): ask again with more.
    NeedMore,
}

/// A frame and its capture time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameAt {
    pub number: u64,
    pub ts_ns: i64,
}

/// The frames that carried a chunk of bytes: the first one and the last
/// one (the chunk is complete at the last).
///
/// The tracker hands on bytes as a segment makes them contiguous and knows
/// only the frame being processed, so for the bytes it delivers both ends
/// are that frame ([`FrameSpan::at`]). A dissector that gathers a unit from
/// several chunks (a TLS record) gives the unit's real span to the
/// dissector above it; a later change of the reassembler can fill real
/// spans for TCP too without changing this interface.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameSpan {
    pub first: FrameAt,
    pub last: FrameAt,
}

impl FrameSpan {
    /// A chunk carried by the context's frame alone.
    #[inline]
    pub fn at(ctx: &StreamCtx) -> Self {
        let at = FrameAt {
            number: ctx.frame,
            ts_ns: ctx.ts_ns,
        };
        Self {
            first: at,
            last: at,
        }
    }

    /// From the first chunk's span to the last one's.
    pub fn to(self, later: FrameSpan) -> Self {
        Self {
            first: self.first,
            last: later.last,
        }
    }
}

/// A protocol over an ordered byte stream.
///
/// One value serves every connection it claims (it keeps per-connection
/// state itself, keyed by [`StreamCtx::stream`]) and may appear once in a
/// connection's stack of dissectors. Calls for a connection come in the
/// order the bytes, gaps and ends were delivered, both directions
/// interleaved; after `on_close` no more come for it and its state should
/// go. Everything it learns leaves through `out`: typed records and
/// per-packet notes for the outputs, and the decoded inner stream of a
/// protocol that carries another (`out.inner_data`, …).
pub trait StreamDissector {
    /// Short name, for logs and tests ("http/1.x").
    fn name(&self) -> &'static str;

    /// Protocol names a parent may give as a hint for the stream it hands
    /// on (ALPN identifiers: "http/1.1", "h2"): a named dissector takes
    /// the inner stream without probing.
    fn hints(&self) -> &'static [&'static str] {
        &[]
    }

    /// Looks at the first bytes of one direction (since its start, or
    /// since the last gap in it), on any port. Must not change state: the
    /// registry may ask again with more bytes, and the bytes are delivered
    /// through `on_data` once the connection is claimed.
    fn probe(&self, ctx: &StreamCtx, dir: Direction, first: &[u8]) -> Probe;

    /// In-order bytes of one direction, carried by the frames of `span`.
    fn on_data(
        &mut self,
        ctx: &StreamCtx,
        dir: Direction,
        bytes: &[u8],
        span: FrameSpan,
        out: &mut Out<'_>,
    );

    /// `missing` bytes of one direction will never arrive.
    fn on_gap(&mut self, ctx: &StreamCtx, dir: Direction, missing: u64, out: &mut Out<'_>);

    /// One direction has ended (its FIN, or a RST for both).
    fn on_end(&mut self, ctx: &StreamCtx, dir: Direction, out: &mut Out<'_>);

    /// The connection is gone (closed, reset, expired, evicted, or the
    /// input ended): emit what is pending and forget it.
    fn on_close(&mut self, ctx: &StreamCtx, out: &mut Out<'_>);
}
