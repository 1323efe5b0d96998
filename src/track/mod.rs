//! TCP connections: who is client and server, stream numbers, relative
//! sequence numbers, handshake and teardown, Wireshark's sequence analysis,
//! and per-direction reassembly into byte streams.
//!
//! The tracker's input is [`TcpMeta`] (what one packet says), so it is
//! testable without building packets. Its outputs are a [`TcpInfo`] per
//! packet (for the timeline and JSON), stream callbacks to a
//! [`StreamConsumer`] (for the HTTP dissector), and [`TrackEvent`]s
//! (connection records and notices).
//!
//! Memory is bounded: the table holds at most `Limits::max_connections`
//! connections (the least recently active are evicted in batches when it is
//! full), reassembly buffers are capped per direction and in total, and
//! connections idle longer than the timeout (in capture time) are expired.
//! Every eviction is reported.
//!
//! Where each part lives: this file has the public face ([`Tracker`],
//! [`Limits`], [`TrackEvent`]) and the per-packet entry; table.rs keeps the
//! table (expiry, eviction, the end of the input); conn.rs holds one
//! connection's state and `Conn::update`, whose steps live by concept in
//! numbers.rs (relative numbers), handshake.rs (handshake, window scale,
//! iRTT), verdict.rs (the connection's side of analysis.rs, Wireshark's
//! rules, and of recent.rs, the retransmission ring), history.rs (Zeek's
//! letters and state), stream.rs (the consumer interface, fed from
//! reassembly.rs) and teardown.rs (FIN, RST, closing); record.rs makes the
//! connection record.

pub mod analysis;
mod conn;
pub mod flow;
mod handshake;
mod history;
mod numbers;
pub mod reassembly;
mod recent;
mod record;
pub mod seq;
mod stream;
mod table;
mod teardown;
mod verdict;

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use conn::Conn;
pub use flow::FlowKey;
pub use stream::{NoConsumer, StreamConsumer, StreamCtx};

use crate::decode::TcpMeta;
use crate::event::{ConnRecord, Endpoint, TcpFlags, TcpInfo, TrackNotice};

/// Bounds on the tracker's memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_connections: usize,
    /// Out-of-order bytes held per direction before giving up on a hole.
    pub max_buffer_per_direction: usize,
    /// Out-of-order bytes held across all connections.
    pub max_buffer_total: usize,
    /// Connections silent this long (capture time) are expired.
    pub idle_timeout_ns: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 100_000,
            max_buffer_per_direction: 1 << 20,
            max_buffer_total: 32 << 20,
            idle_timeout_ns: 900 * 1_000_000_000,
        }
    }
}

/// What the tracker reports besides each packet's [`TcpInfo`]: a
/// connection's record when it ends, and notices (evictions, buffer
/// limits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrackEvent {
    Connection(Box<ConnRecord>),
    Notice(TrackNotice),
}

/// The connection table.
pub struct Tracker {
    /// Boxed, so the table's slots stay small: growing it moves pointers,
    /// not whole connections.
    /// foldhash: several times faster than SipHash on these small keys,
    /// still seeded per process so crafted addresses cannot aim at buckets.
    table: HashMap<FlowKey, Box<Conn>, foldhash::quality::RandomState>,
    /// Keys left to flush at the end of the input, highest stream first.
    finishing: Vec<(u64, FlowKey)>,
    next_stream: u64,
    limits: Limits,
    events: Vec<TrackEvent>,
    buffered_total: usize,
    last_sweep_ns: Option<i64>,
    evicted_total: u64,
}

impl Tracker {
    pub fn new(limits: Limits) -> Self {
        Self {
            table: HashMap::default(),
            finishing: Vec::new(),
            next_stream: 0,
            limits,
            events: Vec::new(),
            buffered_total: 0,
            last_sweep_ns: None,
            evicted_total: 0,
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Connections currently tracked.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Bytes held for reassembly across all connections (each held
    /// segment counted with its bookkeeping overhead); at most
    /// `Limits::max_buffer_total`.
    pub fn buffered(&self) -> usize {
        self.buffered_total
    }

    /// [`Tracker::buffered`] summed afresh over every direction, for
    /// checks (fuzzing) that the running total stays exact.
    pub fn buffered_recount(&self) -> usize {
        self.table
            .values()
            .flat_map(|c| c.sides.iter())
            .map(|s| s.reasm.buffered())
            .sum()
    }

    /// Total connections evicted for lack of room.
    pub fn evicted_total(&self) -> u64 {
        self.evicted_total
    }

    /// Events produced since the last call.
    pub fn drain_events(&mut self) -> std::vec::Drain<'_, TrackEvent> {
        self.events.drain(..)
    }

    /// Tracks one TCP packet: finds or makes its connection (ending one
    /// whose ports are reused, making room in a full table), advances it,
    /// and reports it if the packet closed it.
    pub fn process<C: StreamConsumer>(
        &mut self,
        frame: u64,
        ts_ns: i64,
        m: &TcpMeta<'_>,
        consumer: &mut C,
    ) -> TcpInfo {
        self.maybe_sweep(ts_ns, consumer);
        let src = Endpoint {
            ip: m.src,
            port: m.sport,
        };
        let dst = Endpoint {
            ip: m.dst,
            port: m.dport,
        };
        let (key, _) = FlowKey::new(src, dst);
        let pure_syn = m.flags.syn() && !m.flags.ack();
        let reused = pure_syn && self.end_if_reused(&key, src, m.seq, consumer);
        self.make_room(&key, consumer);
        let limits = self.limits;
        // Streams are numbered in order of appearance.
        let conn = match self.table.entry(key) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(v) => {
                let stream = self.next_stream;
                self.next_stream += 1;
                v.insert(Box::new(Conn::new(stream, frame, ts_ns, m, src, dst)))
            }
        };
        let info = conn.update(
            frame,
            ts_ns,
            m,
            src,
            reused,
            limits,
            &mut self.buffered_total,
            &mut self.events,
            consumer,
        );
        if conn.is_finished() && !conn.reported {
            conn.report_closed(
                frame,
                ts_ns,
                &mut self.buffered_total,
                &mut self.events,
                consumer,
            );
        }
        info
    }
}

/// Flags for the tracker's unit tests and benchmarks.
pub fn flags(bits: u16) -> TcpFlags {
    TcpFlags(bits)
}

#[cfg(test)]
mod tests;
