//! The registry: the dissect stage's one entry for what the tracker
//! delivers. It holds the stream dissectors in priority order (and which
//! one, if any, takes the streams no one claims) and the datagram
//! dissectors; it keeps one route per TCP connection — the only
//! per-connection lookup of the dispatch — and forgets it at the close.
//! How a route chooses is in [`route`].

pub mod route;

use std::collections::HashMap;

use super::datagram::{DatagramCtx, DatagramDissector};
use super::out::Out;
use super::stream::{FrameSpan, StreamDissector};
use crate::event::Direction;
use crate::track::StreamCtx;
pub use route::{Limits, MAX_STREAM_DISSECTORS};
use route::{Op, Route, Set};

/// Stream and datagram dissectors, and the route of every open connection
/// that has carried something.
pub struct Registry {
    set: Set,
    datagrams: Vec<Box<dyn DatagramDissector + Send>>,
    conns: HashMap<u64, Route, foldhash::fast::RandomState>,
}

impl Registry {
    /// Stream dissectors in priority order (at most
    /// [`MAX_STREAM_DISSECTORS`]; more are never asked), datagram
    /// dissectors likewise.
    pub fn new(
        stream: Vec<Box<dyn StreamDissector + Send>>,
        datagram: Vec<Box<dyn DatagramDissector + Send>>,
    ) -> Self {
        Self {
            set: Set::new(stream),
            datagrams: datagram,
            conns: HashMap::default(),
        }
    }

    /// The stream dissector (by its place in the list) that takes the
    /// streams no dissector claims by probe.
    pub fn with_fallback(mut self, index: usize) -> Self {
        let registered = self.set.slots.get(index).is_some_and(Option::is_some);
        self.set.fallback = registered.then_some(index);
        self
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.set.limits = limits;
        self
    }

    /// Whether any datagram dissector is registered (the read stage passes
    /// datagrams on only then).
    pub fn wants_datagrams(&self) -> bool {
        !self.datagrams.is_empty()
    }

    /// Connections with a route (open ones that have carried something).
    pub fn routes(&self) -> usize {
        self.conns.len()
    }

    /// The name of the dissector that claimed a connection, if one did.
    pub fn claimed_by(&self, stream: u64) -> Option<&'static str> {
        let i = self.conns.get(&stream)?.claimed_by()?;
        Some(self.set.slots.get(i)?.as_ref()?.name())
    }

    /// In-order bytes of one direction of a connection.
    #[inline]
    pub fn data(&mut self, ctx: &StreamCtx, dir: Direction, bytes: &[u8], out: &mut Out<'_>) {
        let route = self.conns.entry(ctx.stream).or_insert_with(Route::fresh);
        let (notes, records) = out.lists();
        let span = FrameSpan::at(ctx);
        // The claimed connection's bytes go straight to its dissector.
        match route.claimed_by() {
            Some(i) => route.call(i, &mut self.set, ctx, notes, records, |d, out| {
                d.on_data(ctx, dir, bytes, span, out)
            }),
            None => route::step(
                route,
                &mut self.set,
                ctx,
                Op::Data(dir, bytes, span),
                notes,
                records,
            ),
        }
    }

    /// Bytes of one direction lost for good.
    pub fn gap(&mut self, ctx: &StreamCtx, dir: Direction, missing: u64, out: &mut Out<'_>) {
        let route = self.conns.entry(ctx.stream).or_insert_with(Route::fresh);
        let (notes, records) = out.lists();
        route::step(
            route,
            &mut self.set,
            ctx,
            Op::Gap(dir, missing),
            notes,
            records,
        );
    }

    /// One direction ended.
    pub fn end(&mut self, ctx: &StreamCtx, dir: Direction, out: &mut Out<'_>) {
        if let Some(route) = self.conns.get_mut(&ctx.stream) {
            let (notes, records) = out.lists();
            route::step(route, &mut self.set, ctx, Op::End(dir), notes, records);
        }
    }

    /// The connection is gone: its dissectors finish, its route goes.
    pub fn closed(&mut self, ctx: &StreamCtx, out: &mut Out<'_>) {
        if let Some(mut route) = self.conns.remove(&ctx.stream) {
            let (notes, records) = out.lists();
            route::step(&mut route, &mut self.set, ctx, Op::Close, notes, records);
        }
    }

    /// A UDP datagram: the first datagram dissector whose probe says yes
    /// gets it.
    pub fn datagram(&mut self, ctx: &DatagramCtx, payload: &[u8], out: &mut Out<'_>) {
        if let Some(d) = self.datagrams.iter_mut().find(|d| d.probe(ctx, payload)) {
            d.on_datagram(ctx, payload, out);
        }
    }

    /// The input ended (after every connection was closed).
    pub fn input_end(&mut self, out: &mut Out<'_>) {
        for d in &mut self.datagrams {
            d.on_input_end(out);
        }
    }
}

#[cfg(test)]
mod tests;
