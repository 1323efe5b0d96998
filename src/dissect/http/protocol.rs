//! HTTP/1.x on the dissector interface: [`HttpDissector`] as a
//! [`StreamDissector`], its probe made of its own first-line test
//! ([`head::sniff`]), its calls those of its [`StreamConsumer`] side, its
//! notes and exchanges moved to `out` after each call.
//!
//! # How HTTP/1.x is chosen (and why the outputs did not change)
//!
//! The probe matches when the first line of a direction (after blank
//! lines) is a request or status line, says no when it cannot be one, and
//! needs more while the line is incomplete but plausible. Yet HTTP/1.x
//! finds its messages after a capture gap, in a connection joined
//! mid-stream (the first bytes are the middle of a body) and after bytes
//! that are not HTTP, searching each direction's first 64 KiB
//! (`max_sniff`) before declaring it not HTTP. A probe cannot do that
//! without holding those bytes for every connection, so HTTP/1.x is also
//! the registry's *fallback*: a connection no dissector claims is handed
//! to it, with everything held, and its own state machine (Start →
//! Resync → NotHttp) goes on deciding as before. A later dissector with a
//! higher priority (TLS, HTTP/2) takes its connections first; the rest
//! still reach HTTP/1.x.
//!
//! With HTTP/1.x alone registered every connection that carries a byte or
//! a gap reaches it with the same calls, in the same order, with the same
//! contexts as before: at once when the first call decides, else replayed
//! from the held calls. Replaying changes nothing it emits because while
//! its probe needs more — a first line without its line end — the parser
//! would have emitted nothing: a head cannot be complete without a line
//! end, the notes about gaps and ends wait for a first message, and the
//! one note it makes before any message (a head over `max_bytes`) is
//! pre-empted: the probe matches once a direction holds that many bytes.

use super::head::{self, Sniff};
use super::HttpDissector;
use crate::dissect::out::Out;
use crate::dissect::stream::{FrameSpan, Probe, StreamDissector};
use crate::event::{Direction, Record};
use crate::track::{StreamConsumer, StreamCtx};

impl HttpDissector {
    /// What this call produced, to `out`.
    #[inline]
    fn emit(&mut self, out: &mut Out<'_>) {
        self.move_notes(out.notes());
        let done = self.drain_exchanges();
        if done.len() > 0 {
            out.extend_records(done.map(Record::Http));
        }
    }
}

impl StreamDissector for HttpDissector {
    fn name(&self) -> &'static str {
        "http/1.x"
    }

    fn hints(&self) -> &'static [&'static str] {
        &["http/1.1", "http/1.0", "http/0.9"]
    }

    fn probe(&self, _ctx: &StreamCtx, _dir: Direction, first: &[u8]) -> Probe {
        // Blank lines before a message are not part of it (as in HeadBuf).
        let Some(start) = first.iter().position(|&b| b != b'\r' && b != b'\n') else {
            return Probe::NeedMore;
        };
        let line = first.get(start..).unwrap_or_default();
        match head::sniff(line) {
            Sniff::Http(_) => Probe::Match,
            Sniff::NotHttp => Probe::NoMatch,
            // A head this long is too large: saying so is HTTP's.
            Sniff::Maybe if line.len() >= self.options().head.max_bytes => Probe::Match,
            Sniff::Maybe => Probe::NeedMore,
        }
    }

    #[inline]
    fn on_data(
        &mut self,
        ctx: &StreamCtx,
        dir: Direction,
        bytes: &[u8],
        _span: FrameSpan,
        out: &mut Out<'_>,
    ) {
        // (HTTP/1.x dates its messages by the context's frame: the last
        // of the span.)
        self.data(ctx, dir, bytes);
        self.emit(out);
    }

    fn on_gap(&mut self, ctx: &StreamCtx, dir: Direction, missing: u64, out: &mut Out<'_>) {
        self.gap(ctx, dir, missing);
        self.emit(out);
    }

    fn on_end(&mut self, ctx: &StreamCtx, dir: Direction, out: &mut Out<'_>) {
        self.end(ctx, dir);
        self.emit(out);
    }

    fn on_close(&mut self, ctx: &StreamCtx, out: &mut Out<'_>) {
        self.closed(ctx);
        self.emit(out);
    }
}

#[cfg(test)]
mod tests;
