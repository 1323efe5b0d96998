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

use std::collections::HashMap;

pub use analysis::{Analysis, Verdict};
pub use flow::{Direction, Endpoint, FlowKey};
use reassembly::{Deliver, GapCause, Reassembler};

use crate::decode::{TcpFlags, TcpMeta, TcpOptions};

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

/// The part a packet plays in its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// SYN: the client opens.
    Handshake1,
    /// SYN-ACK: the server accepts.
    Handshake2,
    /// The client's ACK of the SYN-ACK: established.
    Handshake3,
    Data,
    Ack,
    /// A FIN (first or second).
    Fin,
    /// A bare ACK of the peer's FIN.
    FinAck,
    Reset,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Handshake1 => "handshake-1/3",
            Role::Handshake2 => "handshake-2/3",
            Role::Handshake3 => "handshake-3/3",
            Role::Data => "data",
            Role::Ack => "ack",
            Role::Fin => "fin",
            Role::FinAck => "fin-ack",
            Role::Reset => "reset",
        }
    }
}

/// What the tracker says about one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpInfo {
    pub stream: u64,
    pub direction: Direction,
    pub client: Endpoint,
    pub server: Endpoint,
    /// True for the first packet of a stream.
    pub new_stream: bool,
    /// The connection was joined after its start (no SYN seen).
    pub mid_stream: bool,
    /// Sequence number relative to this direction's ISN (Wireshark).
    pub seq_rel: u32,
    /// Acknowledgement number relative to the peer's ISN (raw when the ACK
    /// flag is clear, as in Wireshark).
    pub ack_rel: u32,
    /// tcpdump's numbers for the same packet: relative after the first
    /// ACK-bearing packet of the connection, absolute before.
    pub tcpdump_seq: u32,
    pub tcpdump_ack: u32,
    /// tcpdump's base for SACK blocks (thseq/thack, rev), for printing.
    pub tcpdump_sack_base: u32,
    /// Window in bytes, scaled when the scale factor is known.
    pub window: u32,
    /// The window scale shift applied (`None` = unknown or not used).
    pub window_shift: Option<u8>,
    pub role: Role,
    pub verdict: Verdict,
    /// On the handshake's third packet: SYN → this ACK, Wireshark's iRTT.
    pub handshake_rtt_ns: Option<i64>,
    /// The ISN of this packet's sender (absolute), when known.
    pub isn: Option<u32>,
    /// The peer's ISN (absolute), when known.
    pub peer_isn: Option<u32>,
    /// Payload bytes on the wire.
    pub payload_len: u32,
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

/// How a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseKind {
    /// Both sides sent FIN.
    Fin,
    /// Only one side sent FIN before the input ended.
    HalfClosed,
    Reset,
    /// The SYN was answered by RST.
    Refused,
    /// Still open at the end of the input.
    Open,
    /// Idle longer than the timeout.
    Timeout,
    /// Dropped to make room in a full connection table.
    Evicted,
}

impl CloseKind {
    pub fn name(self) -> &'static str {
        match self {
            CloseKind::Fin => "fin",
            CloseKind::HalfClosed => "half-closed",
            CloseKind::Reset => "reset",
            CloseKind::Refused => "refused",
            CloseKind::Open => "open",
            CloseKind::Timeout => "timeout",
            CloseKind::Evicted => "evicted",
        }
    }
}

/// Who ended a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closer {
    Client,
    Server,
    Both,
}

impl Closer {
    pub fn name(self) -> &'static str {
        match self {
            Closer::Client => "client",
            Closer::Server => "server",
            Closer::Both => "both",
        }
    }
}

/// The summary of a finished (or still open) connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnRecord {
    pub stream: u64,
    pub client: Endpoint,
    pub server: Endpoint,
    pub start_ns: i64,
    pub end_ns: i64,
    pub first_frame: u64,
    pub last_frame: u64,
    pub mid_stream: bool,
    pub syn_frame: Option<u64>,
    pub synack_frame: Option<u64>,
    pub ack_frame: Option<u64>,
    pub rtt_ns: Option<i64>,
    pub close: CloseKind,
    pub closed_by: Option<Closer>,
    /// Packets and payload bytes [from client, from server].
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    /// Count of each analysis flag over the connection.
    pub analysis: Vec<(&'static str, u64)>,
    /// Zeek's history string.
    pub history: String,
    /// Zeek's conn_state.
    pub conn_state: &'static str,
    /// Bytes the reassembler never saw, per direction.
    pub missing: [u64; 2],
}

/// Tracker notices for the output (never silent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrackNotice {
    /// Connections dropped from a full table.
    Evicted { count: usize, limit: usize },
    /// Reassembly gave up on a hole because a buffer limit was reached.
    BufferLimit {
        stream: u64,
        dir: Direction,
        limit: usize,
    },
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
    /// Counters for Zeek's repeatable letters (t, w, g): next threshold.
    hist_next: [u64; 3],
    hist_count: [u64; 3],
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
    table: HashMap<FlowKey, Conn>,
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
            table: HashMap::new(),
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

        if !self.table.contains_key(&key) {
            if self.table.len() >= self.limits.max_connections {
                self.evict(ts_ns, consumer);
            }
            let conn = self.new_conn(frame, ts_ns, m, src, dst);
            self.table.insert(key, conn);
        }
        let limits = self.limits;
        let Some(conn) = self.table.get_mut(&key) else {
            unreachable!("inserted above")
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

    fn new_conn(
        &mut self,
        frame: u64,
        ts_ns: i64,
        m: &TcpMeta<'_>,
        src: Endpoint,
        dst: Endpoint,
    ) -> Conn {
        let stream = self.next_stream;
        self.next_stream += 1;
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
            reported: false,
            history: String::new(),
            analysis_counts: [0; 15],
            wscale: [WS_UNKNOWN, WS_UNKNOWN],
        }
    }

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
        let mut expired: Vec<Conn> = expired
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
        let mut victims: Vec<Conn> = ages[..n]
            .iter()
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
        self.events.push(TrackEvent::Notice(TrackNotice::Evicted {
            count,
            limit: self.limits.max_connections,
        }));
    }

    /// Ends a connection that leaves the table: flushes its streams and, if
    /// not reported yet, emits its record.
    fn finish_conn<C: StreamConsumer>(
        &mut self,
        mut c: Conn,
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
        let mut conns: Vec<Conn> = self.table.drain().map(|(_, c)| c).collect();
        conns.sort_by_key(|c| c.stream);
        for c in conns {
            self.finish_conn(c, None, consumer);
        }
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

const H_S: u16 = 1;
const H_H: u16 = 2;
const H_A: u16 = 4;
const H_D: u16 = 8;
const H_F: u16 = 16;
const H_R: u16 = 32;
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
        for (i, (bit, _)) in Analysis::ALL.iter().enumerate() {
            if verdict.flags.has(*bit) {
                if let Some(n) = self.analysis_counts.get_mut(i) {
                    *n += 1;
                }
            }
        }

        // Zeek history.
        if flags.syn() && flags.ack() {
            self.hist_once(dir, H_H, 'h');
        } else if flags.syn() {
            self.hist_once(dir, H_S, 's');
        }
        if flags.ack() && !flags.syn() && m.payload_len == 0 && !flags.fin() && !flags.rst() {
            self.hist_once(dir, H_A, 'a');
        }
        if m.payload_len > 0 {
            self.hist_once(dir, H_D, 'd');
        }
        if flags.fin() {
            self.hist_once(dir, H_F, 'f');
        }
        if flags.rst() {
            self.hist_once(dir, H_R, 'r');
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
                match side
                    .reasm
                    .segment(m.seq, m.payload, m.payload_len, limit, &mut sink)
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
        }
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
        let closed_by = if self.closer_both {
            Some(Closer::Both)
        } else {
            self.first_closer.map(|d| match d {
                Direction::ToServer => Closer::Client,
                Direction::ToClient => Closer::Server,
            })
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

    /// Zeek's conn_state, from what each side did.
    fn conn_state(&self) -> &'static str {
        let [c, s] = &self.sides;
        let orig_syn = self.syn_frame.is_some();
        let resp_synack = self.synack_frame.is_some();
        let (cf, sf) = (c.fin_seq.is_some(), s.fin_seq.is_some());
        if !orig_syn && !resp_synack {
            return "OTH";
        }
        if orig_syn && !resp_synack {
            if s.rst {
                return "REJ";
            }
            if c.rst {
                return "RSTOS0";
            }
            if cf {
                return "SH";
            }
            if s.packets == 0 {
                return "S0";
            }
        }
        if !orig_syn && resp_synack {
            if s.rst {
                return "RSTRH";
            }
            if sf {
                return "SHR";
            }
        }
        if c.rst {
            return "RSTO";
        }
        if s.rst {
            return "RSTR";
        }
        match (cf, sf) {
            (true, true) => "SF",
            (true, false) => "S2",
            (false, true) => "S3",
            (false, false) => {
                if self.established || (orig_syn && resp_synack) {
                    "S1"
                } else {
                    "OTH"
                }
            }
        }
    }
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
