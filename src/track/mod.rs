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

pub mod analysis;
pub mod flow;
pub mod reassembly;
pub mod seq;

use std::collections::hash_map::Entry;
use std::collections::HashMap;

pub use flow::FlowKey;
use reassembly::{Deliver, GapCause, Reassembler};

use crate::decode::TcpMeta;

use crate::event::{
    Analysis, CloseKind, Closer, ConnRecord, Direction, Endpoint, Role, TcpFlags, TcpInfo,
    TcpOptions, TrackNotice,
};

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

/// Recent segments a sender transmitted, to name the original of a
/// retransmission: (seq, frame, ts). A small ring, never allocated.
#[derive(Clone, Copy, Debug, Default)]
struct Recent {
    slots: [(u32, u64, i64); 16],
    next: usize,
    used: usize,
}

impl Recent {
    fn push(&mut self, seq: u32, frame: u64, ts: i64) {
        if let Some(slot) = self.slots.get_mut(self.next) {
            *slot = (seq, frame, ts);
        }
        self.next = (self.next + 1) % self.slots.len();
        self.used = (self.used + 1).min(self.slots.len());
    }

    /// The earliest recent segment that started at `seq`.
    fn find(&self, seq: u32) -> Option<(u64, i64)> {
        self.slots
            .iter()
            .take(self.used)
            .filter(|(s, _, _)| *s == seq)
            .map(|&(_, f, t)| (f, t))
            .min_by_key(|&(f, _)| f)
    }
}

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

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrackEvent {
    Connection(Box<ConnRecord>),
    Notice(TrackNotice),
}

/// One direction of a connection.
#[derive(Debug, Default)]
struct Side {
    base: Option<u32>,
    isn: Option<u32>,
    syn_opts: Option<TcpOptions>,
    /// Sequence number of this side's FIN, and the frame.
    fin_seq: Option<u32>,
    fin_acked: bool,
    rst: bool,
    flow: analysis::FlowAnalysis,
    reasm: Reassembler,
    packets: u64,
    bytes: u64,
    /// Zeek history letters already recorded (bit per letter).
    hist_once: u16,
    /// Sequence number of the last S, H, F and R recorded: Zeek records
    /// these letters again when the sequence number changes.
    hist_seq: [Option<u32>; 4],
    /// This side sent a SYN without ACK / a SYN-ACK.
    sent_syn: bool,
    sent_synack: bool,
    /// Counters for Zeek's repeatable letters (t, w, g): next threshold.
    hist_next: [u64; 3],
    hist_count: [u64; 3],
    /// Frame and time of this side's first FIN.
    fin_at: Option<(u64, i64)>,
    /// Recent segments with data (or SYN/FIN), for retransmissions; made at
    /// the first such segment, so idle entries (a SYN flood) stay small.
    recent: Option<Box<Recent>>,
    ended: bool,
}

#[derive(Debug)]
struct Conn {
    stream: u64,
    client: Endpoint,
    server: Endpoint,
    mid_stream: bool,
    sides: [Side; 2],
    syn_frame: Option<u64>,
    /// Time of the most recent SYN (Wireshark's `ts_mru_syn`).
    syn_ts: Option<i64>,
    /// Frame and time of the first SYN-carrying segment of each side (for
    /// naming the original of a retransmitted SYN or SYN-ACK).
    first_syn_of: [Option<(u64, i64)>; 2],
    synack_frame: Option<u64>,
    ack_frame: Option<u64>,
    /// Wireshark's iRTT: most recent SYN → first packet with ACK and
    /// without SYN (in either direction; 0 counts as not measured yet).
    rtt_ns: Option<i64>,
    established: bool,
    /// tcpdump's relative-number state: (thseq, thack) once recorded.
    tcpdump: Option<(u32, u32)>,
    first_frame: u64,
    last_frame: u64,
    start_ns: i64,
    last_ns: i64,
    first_closer: Option<Direction>,
    closer_both: bool,
    /// The side that sent the first RST.
    first_rst: Option<Direction>,
    /// The client acknowledged something after the SYN-ACK (Zeek's
    /// "established").
    client_acked_synack: bool,
    reported: bool,
    history: String,
    analysis_counts: [u64; 15],
    /// Window scale per direction, Wireshark's `win_scale`: the shift,
    /// or [`WS_UNKNOWN`] (no SYN seen yet), or [`WS_NONE`] (not used).
    wscale: [i8; 2],
}

/// Window scaling not known (the SYN was not captured).
const WS_UNKNOWN: i8 = -1;
/// Window scaling not in use on this connection.
const WS_NONE: i8 = -2;

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

const SWEEP_EVERY_NS: i64 = 10 * 1_000_000_000;

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

    /// Tracks one TCP packet.
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

        // A SYN whose ISN differs from the one this connection started with
        // begins a new connection on the same ports (Wireshark: "reused
        // ports").
        let mut reused = false;
        if pure_syn {
            if let Some(c) = self.table.get(&key) {
                let d = if src == c.client { 0 } else { 1 };
                reused = c.sides[d].base.is_some_and(|base| base != m.seq);
            }
            if reused {
                if let Some(old) = self.table.remove(&key) {
                    self.finish_conn(old, None, consumer);
                }
            }
        }

        if self.table.len() >= self.limits.max_connections && !self.table.contains_key(&key) {
            self.evict(ts_ns, consumer);
        }
        let limits = self.limits;
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
            conn.reported = true;
            let record = conn.record(None);
            let ctx = conn.ctx(frame, ts_ns);
            for d in [Direction::ToServer, Direction::ToClient] {
                let side = &mut conn.sides[d.index()];
                self.buffered_total = self.buffered_total.saturating_sub(side.reasm.buffered());
                let mut sink = Sink {
                    consumer,
                    ctx: &ctx,
                    dir: d,
                };
                side.reasm.finish(&mut sink);
                if !side.ended {
                    side.ended = true;
                    consumer.end(&ctx, d);
                }
            }
            consumer.closed(&ctx);
            self.events.push(TrackEvent::Connection(Box::new(record)));
        }
        info
    }
}

impl Conn {
    fn new(
        stream: u64,
        frame: u64,
        ts_ns: i64,
        m: &TcpMeta<'_>,
        src: Endpoint,
        dst: Endpoint,
    ) -> Conn {
        // The client sent the SYN; without one, the side with the higher
        // port (ephemeral ports are high) is taken as the client.
        let (client, server, mid) = if m.flags.syn() && !m.flags.ack() {
            (src, dst, false)
        } else if m.flags.syn() && m.flags.ack() {
            (dst, src, false)
        } else if m.sport > m.dport || (m.sport == m.dport && src >= dst) {
            (src, dst, true)
        } else {
            (dst, src, true)
        };
        Conn {
            stream,
            client,
            server,
            mid_stream: mid,
            sides: Default::default(),
            syn_frame: None,
            syn_ts: None,
            first_syn_of: [None, None],
            synack_frame: None,
            ack_frame: None,
            rtt_ns: None,
            established: false,
            tcpdump: None,
            first_frame: frame,
            last_frame: frame,
            start_ns: ts_ns,
            last_ns: ts_ns,
            first_closer: None,
            closer_both: false,
            first_rst: None,
            client_acked_synack: false,
            reported: false,
            history: String::new(),
            analysis_counts: [0; 15],
            wscale: [WS_UNKNOWN, WS_UNKNOWN],
        }
    }
}

impl Tracker {
    /// Expires idle connections, at most once per ten seconds of capture
    /// time.
    fn maybe_sweep<C: StreamConsumer>(&mut self, now: i64, consumer: &mut C) {
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
    fn evict<C: StreamConsumer>(&mut self, now: i64, consumer: &mut C) {
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
        let _ = now;
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
    fn finish_conn<C: StreamConsumer>(
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

/// Adapts a reassembler's output to the consumer for one direction.
struct Sink<'a, C: StreamConsumer> {
    consumer: &'a mut C,
    ctx: &'a StreamCtx,
    dir: Direction,
}

impl<C: StreamConsumer> Deliver for Sink<'_, C> {
    fn data(&mut self, bytes: &[u8]) {
        self.consumer.data(self.ctx, self.dir, bytes);
    }
    fn gap(&mut self, missing: u64) {
        self.consumer.gap(self.ctx, self.dir, missing);
    }
}

const H_A: u16 = 4;
const H_D: u16 = 8;
const H_Q: u16 = 64;
/// Indexes into `Side::hist_seq`.
const HS_S: usize = 0;
const HS_H: usize = 1;
const HS_F: usize = 2;
const HS_R: usize = 3;
const H_T: usize = 0;
const H_W: usize = 1;
const H_G: usize = 2;

impl Conn {
    fn ctx(&self, frame: u64, ts_ns: i64) -> StreamCtx {
        StreamCtx {
            stream: self.stream,
            frame,
            ts_ns,
            client: self.client,
            server: self.server,
        }
    }

    /// Closed by a FIN exchange (both FINs acknowledged) or by RST.
    fn is_finished(&self) -> bool {
        let [c, s] = &self.sides;
        c.rst || s.rst || (c.fin_seq.is_some() && s.fin_seq.is_some() && c.fin_acked && s.fin_acked)
    }

    fn hist_once(&mut self, d: Direction, bit: u16, letter: char) {
        let side = &mut self.sides[d.index()];
        if side.hist_once & bit == 0 {
            side.hist_once |= bit;
            self.history.push(if d == Direction::ToServer {
                letter.to_ascii_uppercase()
            } else {
                letter
            });
        }
    }

    /// Zeek's S, H, F, R: recorded again when the sequence number differs
    /// from the last packet with the same flag.
    fn hist_seq(&mut self, d: Direction, which: usize, seq_no: u32, letter: char) {
        let side = &mut self.sides[d.index()];
        let Some(last) = side.hist_seq.get_mut(which) else {
            return;
        };
        if *last != Some(seq_no) {
            *last = Some(seq_no);
            self.history.push(if d == Direction::ToServer {
                letter.to_ascii_uppercase()
            } else {
                letter
            });
        }
    }

    /// Zeek's repeatable letters: recorded at the 1st, 10th, 100th… time.
    fn hist_repeat(&mut self, d: Direction, which: usize, letter: char) {
        let side = &mut self.sides[d.index()];
        side.hist_count[which] += 1;
        if side.hist_next[which] == 0 {
            side.hist_next[which] = 1;
        }
        if side.hist_count[which] == side.hist_next[which] {
            side.hist_next[which] = side.hist_next[which].saturating_mul(10);
            self.history.push(if d == Direction::ToServer {
                letter.to_ascii_uppercase()
            } else {
                letter
            });
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn update<C: StreamConsumer>(
        &mut self,
        frame: u64,
        ts_ns: i64,
        m: &TcpMeta<'_>,
        src: Endpoint,
        reused: bool,
        limits: Limits,
        buffered_total: &mut usize,
        events: &mut Vec<TrackEvent>,
        consumer: &mut C,
    ) -> TcpInfo {
        let new_stream = self.first_frame == frame;
        self.last_frame = frame;
        self.last_ns = ts_ns;
        let dir = if src == self.client {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        let (d, r) = (dir.index(), dir.reverse().index());
        let flags = m.flags;

        // Relative numbers (Wireshark): the base is the ISN for a SYN, else
        // one before the first sequence number seen; an ACK fixes the
        // peer's base when nothing from the peer has been seen yet. A
        // SYN-ACK whose ISN differs from the known base restarts the base
        // in the same stream and is flagged as reused ports (Wireshark 4.0).
        let mut synack_reused = false;
        match self.sides[d].base {
            None => {
                self.sides[d].base = Some(if flags.syn() {
                    m.seq
                } else {
                    m.seq.wrapping_sub(1)
                });
            }
            Some(base) if flags.syn() && flags.ack() && base != m.seq => {
                self.sides[d].base = Some(m.seq);
                self.sides[d].isn = None;
                synack_reused = true;
            }
            Some(_) => {}
        }
        if flags.ack() && self.sides[r].base.is_none() {
            self.sides[r].base = Some(m.ack.wrapping_sub(1));
        }
        let base = self.sides[d].base.unwrap_or(0);
        let seq_rel = m.seq.wrapping_sub(base);
        let ack_rel = if flags.ack() {
            m.ack.wrapping_sub(self.sides[r].base.unwrap_or(0))
        } else {
            m.ack
        };

        let (tcpdump_seq, tcpdump_ack, tcpdump_sack_base) = self.tcpdump_numbers(m);

        // Handshake bookkeeping.
        if flags.syn() {
            if self.first_syn_of[d].is_none() {
                self.first_syn_of[d] = Some((frame, ts_ns));
            }
            if self.sides[d].isn.is_none() {
                self.sides[d].isn = Some(m.seq);
                self.sides[d].syn_opts = Some(m.options);
                self.sides[d].reasm.on_syn(m.seq);
            }
            if flags.ack() {
                if self.synack_frame.is_none() {
                    self.synack_frame = Some(frame);
                }
            } else {
                if self.syn_frame.is_none() {
                    self.syn_frame = Some(frame);
                }
                self.syn_ts = Some(ts_ns);
            }
            // Window scaling (Wireshark's verify_tcp_window_scaling): a
            // SYN without the option turns scaling off for both sides; a
            // SYN-ACK with it after a SYN without it changes nothing.
            if let Some(ws) = m.options.wscale {
                self.wscale[d] = ws.min(14) as i8;
            }
            if self.wscale[d] == WS_UNKNOWN {
                self.wscale = [WS_NONE, WS_NONE];
            } else if flags.ack() && self.wscale[r] == WS_NONE {
                self.wscale[d] = WS_NONE;
            }
        }

        // Window: scaled by the sender's shift once its SYN said so (a
        // SYN's own window is never scaled).
        let shift = if flags.syn() {
            None
        } else {
            u8::try_from(self.wscale[d]).ok()
        };
        let window = u32::from(m.window) << shift.unwrap_or(0);

        // Wireshark's iRTT: from the most recent SYN to the first packet
        // with ACK and without SYN, whichever side sends it.
        let mut handshake_rtt_ns = None;
        if flags.ack() && !flags.syn() && self.rtt_ns.is_none_or(|r| r == 0) {
            if let Some(t0) = self.syn_ts {
                let rtt = ts_ns.saturating_sub(t0);
                self.rtt_ns = Some(rtt);
                handshake_rtt_ns = Some(rtt);
            }
        }

        let mut role = if flags.rst() {
            Role::Reset
        } else if flags.syn() && flags.ack() {
            Role::Handshake2
        } else if flags.syn() {
            Role::Handshake1
        } else if flags.fin() {
            Role::Fin
        } else if m.payload_len > 0 {
            Role::Data
        } else {
            Role::Ack
        };

        // The third packet of the handshake: the client acknowledges the
        // server's ISN, once.
        if !flags.syn()
            && !flags.rst()
            && flags.ack()
            && dir == Direction::ToServer
            && self.ack_frame.is_none()
            && self.synack_frame.is_some()
        {
            if let Some(sisn) = self.sides[r].isn {
                if m.ack == sisn.wrapping_add(1) {
                    self.ack_frame = Some(frame);
                    self.established = true;
                    if role == Role::Ack || role == Role::Data {
                        role = Role::Handshake3;
                    }
                }
            }
        }
        if !self.established && self.mid_stream && !flags.syn() {
            self.established = true;
        }

        // A bare ACK of the peer's FIN.
        let was_closed = self.both_fins_acked();
        if flags.ack() && !flags.rst() {
            if let Some(fs) = self.sides[r].fin_seq {
                if seq::ge(m.ack, fs.wrapping_add(1)) && !self.sides[r].fin_acked {
                    self.sides[r].fin_acked = true;
                    if role == Role::Ack {
                        role = Role::FinAck;
                    }
                }
            }
        }
        let first_fin =
            flags.fin() && self.sides[d].fin_seq.is_none() && self.sides[r].fin_seq.is_none();
        let refused = flags.rst()
            && dir == Direction::ToClient
            && !self.established
            && self.synack_frame.is_none()
            && self.syn_frame.is_some();
        // The analysis keeps raw windows; show them scaled like this one.
        let prev_window = self.sides[d]
            .flow
            .window
            .map(|w| w << shift.unwrap_or(0).min(14));
        let expected_seq = match self.sides[d].flow.nextseq {
            0 => None,
            n => Some(n.wrapping_sub(self.sides[d].base.unwrap_or(0))),
        };

        // Sequence analysis, on absolute numbers as in Wireshark.
        let facts = analysis::SegmentFacts {
            frame,
            ts_ns,
            seq: m.seq,
            ack: m.ack,
            seglen: m.payload_len,
            flags,
            window: u32::from(m.window),
        };
        let conn_facts = analysis::ConnFacts {
            first_rtt_ns: self.rtt_ns,
            rev_shift: match self.wscale[r] {
                WS_UNKNOWN => None,
                ws => Some(u8::try_from(ws).unwrap_or(0)),
            },
        };
        let (fwd, rev) = split_pair(&mut self.sides, d);
        let mut verdict = analysis::analyze(&mut fwd.flow, &mut rev.flow, &facts, &conn_facts);
        if (reused && new_stream) || synack_reused {
            verdict.flags.set(Analysis::REUSED_PORTS);
        }
        if !verdict.flags.is_empty() {
            for (i, (bit, _)) in Analysis::ALL.iter().enumerate() {
                if verdict.flags.has(*bit) {
                    if let Some(n) = self.analysis_counts.get_mut(i) {
                        *n += 1;
                    }
                }
            }
        }
        let carries = m.payload_len > 0 || flags.syn() || flags.fin();
        let retrans_of = if verdict.flags.has(Analysis::RETRANSMISSION)
            || verdict.flags.has(Analysis::SPURIOUS_RETRANSMISSION)
        {
            if flags.syn() && m.payload_len == 0 {
                self.first_syn_of[d].filter(|&(f, _)| f != frame)
            } else if flags.fin() && m.payload_len == 0 {
                self.sides[d].fin_at.filter(|&(f, _)| f != frame)
            } else {
                self.sides[d].recent.as_ref().and_then(|r| r.find(m.seq))
            }
        } else {
            None
        };
        if carries && retrans_of.is_none() && (m.payload_len > 0 || self.sides[d].recent.is_some())
        {
            self.sides[d]
                .recent
                .get_or_insert_with(Default::default)
                .push(m.seq, frame, ts_ns);
        }

        // Zeek history.
        if flags.syn() && (flags.fin() || flags.rst()) {
            self.hist_once(dir, H_Q, 'q');
        }
        if flags.syn() && flags.ack() {
            self.hist_seq(dir, HS_H, m.seq, 'h');
            self.sides[d].sent_synack = true;
        } else if flags.syn() {
            self.hist_seq(dir, HS_S, m.seq, 's');
            self.sides[d].sent_syn = true;
        }
        if dir == Direction::ToServer && flags.ack() && !flags.syn() && self.synack_frame.is_some()
        {
            self.client_acked_synack = true;
        }
        if flags.ack() && !flags.syn() && m.payload_len == 0 && !flags.fin() && !flags.rst() {
            self.hist_once(dir, H_A, 'a');
        }
        if m.payload_len > 0 {
            self.hist_once(dir, H_D, 'd');
        }
        if flags.fin() {
            self.hist_seq(dir, HS_F, m.seq.wrapping_add(m.payload_len), 'f');
        }
        if flags.rst() {
            self.hist_seq(dir, HS_R, m.seq, 'r');
        }
        if verdict.flags.has(Analysis::RETRANSMISSION) && m.payload_len > 0 {
            self.hist_repeat(dir, H_T, 't');
        }
        if m.window == 0 && !flags.syn() && !flags.rst() {
            self.hist_repeat(dir, H_W, 'w');
        }

        // Counters.
        self.sides[d].packets += 1;
        self.sides[d].bytes += u64::from(m.payload_len);

        // Reassembly and delivery.
        let ctx = self.ctx(frame, ts_ns);
        let mut gap_seen = false;
        {
            let side = &mut self.sides[d];
            let before = side.reasm.buffered();
            let per_dir = limits.max_buffer_per_direction;
            let room = limits
                .max_buffer_total
                .saturating_sub(*buffered_total - before.min(*buffered_total));
            let limit = per_dir.min(room.max(1));
            if m.payload_len > 0 && !side.ended {
                let mut sink = Sink {
                    consumer,
                    ctx: &ctx,
                    dir,
                };
                // A SYN occupies its sequence number: data on a SYN (TCP
                // Fast Open, or a crafted packet) starts one byte later.
                let data_seq = if flags.syn() {
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
        }
        if flags.ack() {
            // The peer's data up to `ack` was received: holes before it are
            // final.
            let side = &mut self.sides[r];
            let before = side.reasm.buffered();
            let mut sink = Sink {
                consumer,
                ctx: &ctx,
                dir: dir.reverse(),
            };
            if side.reasm.acked(m.ack, &mut sink) {
                gap_seen = true;
            }
            let after = side.reasm.buffered();
            *buffered_total = (*buffered_total + after).saturating_sub(before);
        }
        if gap_seen {
            self.hist_repeat(dir, H_G, 'g');
        }

        // Teardown.
        if flags.fin() && self.sides[d].fin_seq.is_none() {
            self.sides[d].fin_seq = Some(m.seq.wrapping_add(m.payload_len));
            self.sides[d].fin_at = Some((frame, ts_ns));
            match self.first_closer {
                None => self.first_closer = Some(dir),
                Some(first) if first != dir => {
                    // The second FIN does not acknowledge the first: both
                    // sides closed without waiting for the other.
                    let peer_fin_ack = self.sides[r].fin_seq.map(|s| s.wrapping_add(1));
                    if !flags.ack() || Some(m.ack) != peer_fin_ack {
                        self.closer_both = true;
                    }
                }
                _ => {}
            }
        }
        if flags.rst() {
            self.sides[d].rst = true;
            if self.first_rst.is_none() {
                self.first_rst = Some(dir);
            }
            if self.first_closer.is_none() {
                self.first_closer = Some(dir);
            }
        }
        // A direction ends at its FIN once every byte before the FIN has
        // been delivered (a reordered FIN waits for the data before it), and
        // both end at a RST.
        for e in [d, r] {
            let side = &mut self.sides[e];
            if side.ended {
                continue;
            }
            let fin_reached = side.fin_seq.is_some_and(|f| side.reasm.caught_up_to(f));
            if !(flags.rst() || fin_reached) {
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
                ctx: &ctx,
                dir: dir_e,
            };
            side.reasm.finish(&mut sink);
            *buffered_total = buffered_total.saturating_sub(before);
            side.ended = true;
            consumer.end(&ctx, dir_e);
        }

        TcpInfo {
            stream: self.stream,
            direction: dir,
            client: self.client,
            server: self.server,
            new_stream,
            mid_stream: self.mid_stream,
            seq_rel,
            ack_rel,
            tcpdump_seq,
            tcpdump_ack,
            tcpdump_sack_base,
            window,
            window_shift: shift,
            role,
            verdict,
            handshake_rtt_ns,
            isn: self.sides[d].isn,
            peer_isn: self.sides[r].isn,
            payload_len: m.payload_len,
            retrans_of,
            prev_window,
            expected_seq,
            first_fin,
            closes: !was_closed && self.both_fins_acked(),
            refused,
        }
    }

    /// Both sides sent FIN and both FINs were acknowledged.
    fn both_fins_acked(&self) -> bool {
        let [c, s] = &self.sides;
        c.fin_seq.is_some() && s.fin_seq.is_some() && c.fin_acked && s.fin_acked
    }

    /// tcpdump's relative numbers (print-tcp.c): the first ACK-bearing
    /// packet of a conversation (or any SYN+ACK) records the bases and is
    /// printed absolute; later ACK-bearing packets are printed relative.
    fn tcpdump_numbers(&mut self, m: &TcpMeta<'_>) -> (u32, u32, u32) {
        if !m.flags.ack() {
            return (m.seq, m.ack, 0);
        }
        let rev = m.sport > m.dport || (m.sport == m.dport && addr_bytes_gt(&m.src, &m.dst));
        match self.tcpdump {
            Some((thseq, thack)) if !m.flags.syn() => {
                if rev {
                    (m.seq.wrapping_sub(thack), m.ack.wrapping_sub(thseq), thseq)
                } else {
                    (m.seq.wrapping_sub(thseq), m.ack.wrapping_sub(thack), thack)
                }
            }
            _ => {
                let rec = if rev {
                    (m.ack.wrapping_sub(1), m.seq)
                } else {
                    (m.seq, m.ack.wrapping_sub(1))
                };
                self.tcpdump = Some(rec);
                (m.seq, m.ack, if rev { rec.0 } else { rec.1 })
            }
        }
    }

    fn record(&self, kind: Option<CloseKind>) -> ConnRecord {
        let [c, s] = &self.sides;
        let any_fin = c.fin_seq.is_some() || s.fin_seq.is_some();
        let both_fin = c.fin_seq.is_some() && s.fin_seq.is_some();
        let close = kind.unwrap_or(if c.rst || s.rst {
            if !self.established && self.synack_frame.is_none() && s.rst && self.syn_frame.is_some()
            {
                CloseKind::Refused
            } else {
                CloseKind::Reset
            }
        } else if both_fin {
            CloseKind::Fin
        } else if any_fin {
            CloseKind::HalfClosed
        } else {
            CloseKind::Open
        });
        let side_name = |d: Direction| match d {
            Direction::ToServer => Closer::Client,
            Direction::ToClient => Closer::Server,
        };
        // A reset is ended by whoever sent the RST; a FIN close by the
        // first to send FIN, or by both when neither waited for the other.
        let closed_by = match close {
            CloseKind::Reset | CloseKind::Refused => self.first_rst.map(side_name),
            _ if self.closer_both => Some(Closer::Both),
            _ => self.first_closer.map(side_name),
        };
        let analysis = Analysis::ALL
            .iter()
            .zip(self.analysis_counts.iter())
            .filter(|(_, &n)| n > 0)
            .map(|((_, name), &n)| (*name, n))
            .collect();
        ConnRecord {
            stream: self.stream,
            client: self.client,
            server: self.server,
            start_ns: self.start_ns,
            end_ns: self.last_ns,
            first_frame: self.first_frame,
            last_frame: self.last_frame,
            mid_stream: self.mid_stream,
            syn_frame: self.syn_frame,
            synack_frame: self.synack_frame,
            ack_frame: self.ack_frame,
            rtt_ns: self.rtt_ns,
            close,
            closed_by,
            packets: [c.packets, s.packets],
            bytes: [c.bytes, s.bytes],
            analysis,
            history: self.history.clone(),
            conn_state: self.conn_state(),
            missing: [c.reasm.missing, s.reasm.missing],
        }
    }

    /// Zeek's endpoint state for one side (`TCP_INACTIVE` …
    /// `TCP_RESET`), from what that side did.
    fn zeek_endpoint(&self, d: usize) -> ZeekEndpoint {
        let Some(side) = self.sides.get(d) else {
            return ZeekEndpoint::Inactive;
        };
        if side.rst {
            ZeekEndpoint::Reset
        } else if side.fin_seq.is_some() {
            ZeekEndpoint::Closed
        } else if self.syn_frame.is_some()
            && self.synack_frame.is_some()
            && self.client_acked_synack
        {
            ZeekEndpoint::Established
        } else if side.sent_syn {
            ZeekEndpoint::SynSent
        } else if side.sent_synack {
            ZeekEndpoint::SynAckSent
        } else if side.packets > 0 {
            ZeekEndpoint::Partial
        } else {
            ZeekEndpoint::Inactive
        }
    }

    /// Zeek's conn_state (base/protocols/conn/main.zeek), from the two
    /// endpoint states and the history.
    fn conn_state(&self) -> &'static str {
        use ZeekEndpoint::*;
        let (os, rs) = (self.zeek_endpoint(0), self.zeek_endpoint(1));
        let o_inactive = matches!(os, Inactive | Partial);
        let r_inactive = matches!(rs, Inactive | Partial);
        let [c, s] = &self.sides;
        if rs == Reset {
            if matches!(os, SynSent | SynAckSent) || (os == Reset && c.bytes == 0 && s.bytes == 0) {
                "REJ"
            } else if o_inactive {
                "RSTRH"
            } else {
                "RSTR"
            }
        } else if os == Reset {
            if r_inactive {
                // The originator sent a SYN, then a RST, and nothing else
                // of note (Zeek's /^?S[^HAFGIQ]*R.*/ on the history).
                let after_s = self.history.split_once('S');
                let rsts0 = after_s.is_some_and(|(pre, post)| {
                    (pre.is_empty() || pre == "^")
                        && post
                            .split_once('R')
                            .is_some_and(|(mid, _)| !mid.contains(['H', 'A', 'F', 'G', 'I', 'Q']))
                });
                if rsts0 {
                    "RSTOS0"
                } else {
                    "OTH"
                }
            } else {
                "RSTO"
            }
        } else if rs == Closed && os == Closed {
            "SF"
        } else if os == Closed {
            if r_inactive {
                "SH"
            } else {
                "S2"
            }
        } else if rs == Closed {
            if o_inactive {
                "SHR"
            } else {
                "S3"
            }
        } else if os == SynSent && rs == Inactive {
            "S0"
        } else if os == Established && rs == Established {
            "S1"
        } else {
            "OTH"
        }
    }
}

/// Zeek's TCP endpoint states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ZeekEndpoint {
    Inactive,
    SynSent,
    SynAckSent,
    Partial,
    Established,
    Closed,
    Reset,
}

fn addr_bytes_gt(a: &std::net::IpAddr, b: &std::net::IpAddr) -> bool {
    use std::net::IpAddr::*;
    match (a, b) {
        (V4(a), V4(b)) => a.octets() > b.octets(),
        (V6(a), V6(b)) => a.octets() > b.octets(),
        _ => false,
    }
}

fn split_pair(sides: &mut [Side; 2], d: usize) -> (&mut Side, &mut Side) {
    let (a, b) = sides.split_at_mut(1);
    if d == 0 {
        (&mut a[0], &mut b[0])
    } else {
        (&mut b[0], &mut a[0])
    }
}

/// Flags for the tracker's unit tests and benchmarks.
pub fn flags(bits: u16) -> TcpFlags {
    TcpFlags(bits)
}

#[cfg(test)]
mod tests;
