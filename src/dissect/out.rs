//! Where a dissector's results go: typed records and per-packet notes for
//! the outputs, and — for a protocol that carries another one (TLS carries
//! HTTP) — the decoded inner byte stream, which the registry routes to the
//! dissector above, chosen by hint or by probe as for a connection.

use super::registry::route::{self, Op, Route, Set};
use super::stream::FrameSpan;
use crate::event::{Direction, HttpNote, Record};
use crate::track::StreamCtx;

/// The emitting end a dissector is given with every call.
pub struct Out<'a> {
    notes: &'a mut Vec<HttpNote>,
    records: &'a mut Vec<Record>,
    /// The layer above the called dissector's (absent for datagrams, and
    /// for an `Out` made outside the registry).
    inner: Option<Inner<'a>>,
}

/// The stack above a stream dissector: the route of its inner stream and
/// the registry's dissectors (the called one and its ancestors are out of
/// their slots while they run, so none is chosen above itself).
pub(super) struct Inner<'a> {
    pub(super) ctx: &'a StreamCtx,
    pub(super) route: &'a mut Option<Box<Route>>,
    pub(super) set: &'a mut Set,
}

impl<'a> Out<'a> {
    /// Results go to the end of these lists, in the order they are made.
    pub fn new(notes: &'a mut Vec<HttpNote>, records: &'a mut Vec<Record>) -> Self {
        Self {
            notes,
            records,
            inner: None,
        }
    }

    pub(super) fn with_inner(
        notes: &'a mut Vec<HttpNote>,
        records: &'a mut Vec<Record>,
        inner: Inner<'a>,
    ) -> Self {
        Self {
            notes,
            records,
            inner: Some(inner),
        }
    }

    /// The lists, for the registry to hand on to the dissectors it calls.
    pub(super) fn lists(&mut self) -> (&mut Vec<HttpNote>, &mut Vec<Record>) {
        (self.notes, self.records)
    }

    /// A note about the packet being dissected (shown beside it).
    pub fn note(&mut self, n: HttpNote) {
        self.notes.push(n);
    }

    /// The notes list, for a dissector that gathers its notes itself and
    /// moves them over at once (append only).
    pub fn notes(&mut self) -> &mut Vec<HttpNote> {
        self.notes
    }

    /// A finished record.
    pub fn record(&mut self, r: Record) {
        self.records.push(r);
    }

    /// Finished records, in order.
    pub fn extend_records(&mut self, rs: impl IntoIterator<Item = Record>) {
        self.records.extend(rs);
    }

    /// Names the protocol of the inner stream (an ALPN identifier such as
    /// "http/1.1" or "h2"), before its first bytes: the dissector that
    /// answers to the name takes it without probing. Ignored once the
    /// inner stream has begun, or when no dissector answers to it (the
    /// inner stream is then probed).
    pub fn inner_hint(&mut self, hint: &str) {
        if let Some(inner) = self.inner.as_mut() {
            if inner.route.is_none() {
                *inner.route = Some(Box::new(route::by_hint(inner.set, hint)));
            }
        }
    }

    /// Decoded bytes of the inner stream, in order, carried by the frames
    /// of `span` (the dissector above sees the last of them as its frame).
    pub fn inner_data(&mut self, dir: Direction, bytes: &[u8], span: FrameSpan) {
        let ctx = self.inner.as_ref().map(|i| StreamCtx {
            frame: span.last.number,
            ts_ns: span.last.ts_ns,
            ..*i.ctx
        });
        if let Some(ctx) = ctx {
            self.inner_op(&ctx, Op::Data(dir, bytes, span));
        }
    }

    /// `missing` bytes of the inner stream are lost.
    pub fn inner_gap(&mut self, dir: Direction, missing: u64) {
        if let Some(ctx) = self.inner.as_ref().map(|i| *i.ctx) {
            self.inner_op(&ctx, Op::Gap(dir, missing));
        }
    }

    /// One direction of the inner stream has ended. (The inner stream is
    /// closed by the registry after the connection's own `on_close`.)
    pub fn inner_end(&mut self, dir: Direction) {
        if let Some(ctx) = self.inner.as_ref().map(|i| *i.ctx) {
            self.inner_op(&ctx, Op::End(dir));
        }
    }

    fn inner_op(&mut self, ctx: &StreamCtx, op: Op<'_>) {
        if let Some(inner) = self.inner.as_mut() {
            let r = inner.route.get_or_insert_with(|| Box::new(Route::fresh()));
            route::step(r, inner.set, ctx, op, self.notes, self.records);
        }
    }
}
