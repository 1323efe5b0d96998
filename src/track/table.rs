//! The connection table's upkeep: ending a connection whose ports a new
//! SYN reuses, expiring idle connections, evicting the least recently
//! active when the table is full, and flushing every connection at the end
//! of the input; each connection is reported once.

use super::conn::Conn;
use super::stream::{Sink, StreamConsumer};
use super::{FlowKey, TrackEvent, Tracker};
use crate::event::{CloseKind, Direction, Endpoint, TrackNotice};

/// How often, in capture time, idle connections are looked for.
const SWEEP_EVERY_NS: i64 = 10 * 1_000_000_000;

impl Tracker {
    /// A SYN whose ISN differs from the one this connection started with
    /// begins a new connection on the same ports (Wireshark: "reused
    /// ports"): the old one is ended and reported. True if so.
    #[inline]
    pub(super) fn end_if_reused<C: StreamConsumer>(
        &mut self,
        key: &FlowKey,
        src: Endpoint,
        isn: u32,
        consumer: &mut C,
    ) -> bool {
        let mut reused = false;
        if let Some(c) = self.table.get(key) {
            let d = if src == c.client { 0 } else { 1 };
            reused = c.sides[d].base.is_some_and(|base| base != isn);
        }
        if reused {
            if let Some(old) = self.table.remove(key) {
                self.finish_conn(old, None, consumer);
            }
        }
        reused
    }

    /// Evicts before a new connection enters a full table. The size is
    /// tested first: below the limit that costs no second lookup.
    #[inline]
    pub(super) fn make_room<C: StreamConsumer>(&mut self, key: &FlowKey, consumer: &mut C) {
        if self.table.len() >= self.limits.max_connections && !self.table.contains_key(key) {
            self.evict(consumer);
        }
    }

    /// Expires idle connections, at most once per ten seconds of capture
    /// time.
    pub(super) fn maybe_sweep<C: StreamConsumer>(&mut self, now: i64, consumer: &mut C) {
        let last = *self.last_sweep_ns.get_or_insert(now);
        if now.saturating_sub(last) < SWEEP_EVERY_NS {
            return;
        }
        self.last_sweep_ns = Some(now);
        let timeout = self.limits.idle_timeout_ns;
        let expired: Vec<FlowKey> = self
            .table
            .iter()
            .filter(|(_, c)| now.saturating_sub(c.last_ns) > timeout)
            .map(|(k, _)| *k)
            .collect();
        let mut expired: Vec<Box<Conn>> = expired
            .iter()
            .filter_map(|k| self.table.remove(k))
            .collect();
        expired.sort_by_key(|c| c.stream);
        for c in expired {
            self.finish_conn(c, Some(CloseKind::Timeout), consumer);
        }
    }

    /// Makes room in a full table: drops the least recently active tenth.
    pub(super) fn evict<C: StreamConsumer>(&mut self, consumer: &mut C) {
        let mut ages: Vec<(i64, u64, FlowKey)> = self
            .table
            .iter()
            .map(|(k, c)| (c.last_ns, c.stream, *k))
            .collect();
        let n = (self.limits.max_connections / 10).max(1).min(ages.len());
        if n == 0 {
            return;
        }
        ages.select_nth_unstable_by_key(n - 1, |&(t, s, _)| (t, s));
        let mut victims: Vec<Box<Conn>> = ages
            .iter()
            .take(n)
            .filter_map(|(_, _, k)| self.table.remove(k))
            .collect();
        victims.sort_by_key(|c| c.stream);
        let count = victims.len();
        for c in victims {
            let kind = if c.reported {
                None
            } else {
                Some(CloseKind::Evicted)
            };
            self.finish_conn(c, kind, consumer);
        }
        self.evicted_total += count as u64;
        log::debug!("connection table full: evicted {count} connections");
        self.events.push(TrackEvent::Notice(TrackNotice::Evicted {
            count,
            limit: self.limits.max_connections,
        }));
    }

    /// Ends a connection that leaves the table: flushes its streams and, if
    /// not reported yet, emits its record.
    pub(super) fn finish_conn<C: StreamConsumer>(
        &mut self,
        mut c: Box<Conn>,
        kind: Option<CloseKind>,
        consumer: &mut C,
    ) {
        let ctx = c.ctx(c.last_frame, c.last_ns);
        for d in [Direction::ToServer, Direction::ToClient] {
            let side = &mut c.sides[d.index()];
            self.buffered_total = self.buffered_total.saturating_sub(side.reasm.buffered());
            if !c.reported {
                let mut sink = Sink {
                    consumer,
                    ctx: &ctx,
                    dir: d,
                };
                side.reasm.finish(&mut sink);
            } else {
                side.reasm.clear();
            }
            if !side.ended {
                side.ended = true;
                consumer.end(&ctx, d);
            }
        }
        if !c.reported {
            c.reported = true;
            consumer.closed(&ctx);
            self.events
                .push(TrackEvent::Connection(Box::new(c.record(kind))));
        }
    }

    /// Ends the input: every connection still in the table is flushed and
    /// reported, in stream order.
    pub fn finish<C: StreamConsumer>(&mut self, consumer: &mut C) {
        self.begin_finish();
        while self.finish_one(consumer) {}
    }

    /// Starts ending the input one connection at a time (so the caller can
    /// pass each record on before the next is made): see `finish_one`.
    pub fn begin_finish(&mut self) {
        self.finishing = self.table.iter().map(|(k, c)| (c.stream, *k)).collect();
        self.finishing
            .sort_unstable_by_key(|&(stream, _)| std::cmp::Reverse(stream));
    }

    /// Flushes and reports the open connection with the lowest stream
    /// number; false when none is left.
    pub fn finish_one<C: StreamConsumer>(&mut self, consumer: &mut C) -> bool {
        while let Some((_, key)) = self.finishing.pop() {
            if let Some(c) = self.table.remove(&key) {
                self.finish_conn(c, None, consumer);
                return true;
            }
        }
        false
    }
}
