//! The `--follow` tap: a stream consumer that keeps the reassembled bytes
//! of one TCP stream, in the order the tracker delivers them (client and
//! server interleaved as they were seen), as [`FollowChunk`]s for the
//! follow printer. One chunk per delivery: a segment's new bytes, or a
//! held segment released once the hole before it filled, like tshark's
//! one record per segment.

use crate::event::{Direction, FollowChunk, FollowData};
use crate::track::{StreamConsumer, StreamCtx};

/// Collects the chunks of one stream (and, optionally, one direction).
#[derive(Debug)]
pub struct FollowTap {
    stream: u64,
    side: Option<Direction>,
    chunks: Vec<FollowChunk>,
}

impl FollowTap {
    /// Follows `stream` (Wireshark's `tcp.stream`); `side` keeps only one
    /// direction's data.
    pub fn new(stream: u64, side: Option<Direction>) -> Self {
        Self {
            stream,
            side,
            chunks: Vec::new(),
        }
    }

    /// Chunks collected since the last call.
    pub fn drain(&mut self) -> std::vec::Drain<'_, FollowChunk> {
        self.chunks.drain(..)
    }

    fn push(&mut self, ctx: &StreamCtx, dir: Direction, data: FollowData) {
        if ctx.stream != self.stream {
            return;
        }
        let wanted = matches!(data, FollowData::Closed) || self.side.is_none_or(|s| s == dir);
        if !wanted {
            return;
        }
        self.chunks.push(FollowChunk {
            stream: ctx.stream,
            frame: ctx.frame,
            ts_ns: ctx.ts_ns,
            client: ctx.client,
            server: ctx.server,
            dir,
            data,
        });
    }
}

impl StreamConsumer for FollowTap {
    fn data(&mut self, ctx: &StreamCtx, dir: Direction, bytes: &[u8]) {
        if ctx.stream == self.stream && !bytes.is_empty() {
            self.push(ctx, dir, FollowData::Bytes(bytes.to_vec()));
        }
    }

    fn gap(&mut self, ctx: &StreamCtx, dir: Direction, missing: u64) {
        if missing > 0 {
            self.push(ctx, dir, FollowData::Missing(missing));
        }
    }

    fn end(&mut self, ctx: &StreamCtx, dir: Direction) {
        self.push(ctx, dir, FollowData::End);
    }

    fn closed(&mut self, ctx: &StreamCtx) {
        self.push(ctx, Direction::ToServer, FollowData::Closed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Endpoint;

    fn ctx(stream: u64) -> StreamCtx {
        let ep = |port| Endpoint {
            ip: std::net::Ipv4Addr::LOCALHOST.into(),
            port,
        };
        StreamCtx {
            stream,
            frame: 3,
            ts_ns: 9,
            client: ep(40000),
            server: ep(80),
        }
    }

    #[test]
    fn keeps_only_the_followed_stream_and_side() {
        let mut t = FollowTap::new(1, Some(Direction::ToClient));
        t.data(&ctx(0), Direction::ToClient, b"other stream");
        t.data(&ctx(1), Direction::ToServer, b"GET / HTTP/1.1\r\n\r\n");
        t.data(&ctx(1), Direction::ToClient, b"HTTP/1.1 200 OK\r\n");
        t.gap(&ctx(1), Direction::ToClient, 14);
        t.gap(&ctx(1), Direction::ToServer, 3);
        t.closed(&ctx(1));
        let got: Vec<FollowData> = t.drain().map(|c| c.data).collect();
        assert_eq!(
            got,
            [
                FollowData::Bytes(b"HTTP/1.1 200 OK\r\n".to_vec()),
                FollowData::Missing(14),
                FollowData::Closed
            ]
        );
        assert_eq!(t.drain().count(), 0);
    }
}
