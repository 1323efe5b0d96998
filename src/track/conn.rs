//! One TCP connection: its state per direction and for the whole, and
//! `update`, which advances it by one packet in named steps. The steps live
//! with their concept: numbers.rs (relative numbers), handshake.rs
//! (handshake, window scale, iRTT), verdict.rs (sequence analysis and
//! retransmissions), history.rs (Zeek letters), stream.rs (reassembly and
//! delivery), teardown.rs (FIN, RST and closing).

use super::analysis;
use super::handshake::WS_UNKNOWN;
use super::history::H_G;
use super::reassembly::Reassembler;
use super::recent::Recent;
use super::stream::StreamConsumer;
use super::{Limits, TrackEvent};
use crate::decode::TcpMeta;
use crate::event::{Direction, Endpoint, Role, TcpInfo, TcpOptions};

/// One direction of a connection.
#[derive(Debug, Default)]
pub(super) struct Side {
    pub(super) base: Option<u32>,
    pub(super) isn: Option<u32>,
    pub(super) syn_opts: Option<TcpOptions>,
    /// Sequence number of this side's FIN, and the frame.
    pub(super) fin_seq: Option<u32>,
    pub(super) fin_acked: bool,
    pub(super) rst: bool,
    pub(super) flow: analysis::FlowAnalysis,
    pub(super) reasm: Reassembler,
    pub(super) packets: u64,
    pub(super) bytes: u64,
    /// Zeek history letters already recorded (bit per letter).
    pub(super) hist_once: u16,
    /// Sequence number of the last S, H, F and R recorded: Zeek records
    /// these letters again when the sequence number changes.
    pub(super) hist_seq: [Option<u32>; 4],
    /// This side sent a SYN without ACK / a SYN-ACK.
    pub(super) sent_syn: bool,
    pub(super) sent_synack: bool,
    /// Counters for Zeek's repeatable letters (t, w, g): next threshold.
    pub(super) hist_next: [u64; 3],
    pub(super) hist_count: [u64; 3],
    /// Frame and time of this side's first FIN.
    pub(super) fin_at: Option<(u64, i64)>,
    /// Recent segments with data (or SYN/FIN), for retransmissions; made at
    /// the first such segment, so idle entries (a SYN flood) stay small.
    pub(super) recent: Option<Box<Recent>>,
    pub(super) ended: bool,
}

/// One connection, both directions and what is known of it as a whole.
#[derive(Debug)]
pub(super) struct Conn {
    pub(super) stream: u64,
    pub(super) client: Endpoint,
    pub(super) server: Endpoint,
    pub(super) mid_stream: bool,
    pub(super) sides: [Side; 2],
    pub(super) syn_frame: Option<u64>,
    /// Time of the most recent SYN (Wireshark's `ts_mru_syn`).
    pub(super) syn_ts: Option<i64>,
    /// Frame and time of the first SYN-carrying segment of each side (for
    /// naming the original of a retransmitted SYN or SYN-ACK).
    pub(super) first_syn_of: [Option<(u64, i64)>; 2],
    pub(super) synack_frame: Option<u64>,
    pub(super) ack_frame: Option<u64>,
    /// Wireshark's iRTT: most recent SYN → first packet with ACK and
    /// without SYN (in either direction; 0 counts as not measured yet).
    pub(super) rtt_ns: Option<i64>,
    pub(super) established: bool,
    /// tcpdump's relative-number state: (thseq, thack) once recorded.
    pub(super) tcpdump: Option<(u32, u32)>,
    pub(super) first_frame: u64,
    pub(super) last_frame: u64,
    pub(super) start_ns: i64,
    pub(super) last_ns: i64,
    pub(super) first_closer: Option<Direction>,
    pub(super) closer_both: bool,
    /// The side that sent the first RST.
    pub(super) first_rst: Option<Direction>,
    /// The client acknowledged something after the SYN-ACK (Zeek's
    /// "established").
    pub(super) client_acked_synack: bool,
    pub(super) reported: bool,
    pub(super) history: String,
    pub(super) analysis_counts: [u64; 15],
    /// Window scale per direction, Wireshark's `win_scale`: the shift,
    /// or `WS_UNKNOWN` (no SYN seen yet), or `WS_NONE` (not used); see
    /// handshake.rs.
    pub(super) wscale: [i8; 2],
}

impl Conn {
    /// A connection as its first packet shows it: stream number `stream`,
    /// client and server told apart by who sent the SYN.
    pub(super) fn new(
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

    /// Advances the connection by one packet from `src` and says what the
    /// packet is. The order of the steps matters: each reads what the
    /// earlier ones recorded (the analysis sees the handshake's iRTT and
    /// window scale, the history sees the analysis verdict, the ends of
    /// the directions see the FIN just recorded).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn update<C: StreamConsumer>(
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

        let (seq_rel, ack_rel, synack_reused) = self.relative_numbers(m, d, r);
        let (tcpdump_seq, tcpdump_ack, tcpdump_sack_base) = self.tcpdump_numbers(m);
        if flags.syn() {
            self.note_syn(frame, ts_ns, m, d, r);
        }
        let shift = self.window_shift(flags, d);
        let window = u32::from(m.window) << shift.unwrap_or(0);
        let handshake_rtt_ns = self.measure_irtt(ts_ns, flags);
        let role = self.note_handshake_ack(frame, m, dir, role_of(m));
        let was_closed = self.both_fins_acked();
        let role = self.note_fin_acked(m, r, role);
        let first_fin = self.is_first_fin(flags, d, r);
        let refused = self.is_refusal(flags, dir);

        let (prev_window, expected_seq) = self.analysis_before(d, shift);
        let verdict = self.analyze_segment(
            frame,
            ts_ns,
            m,
            d,
            r,
            (reused && new_stream) || synack_reused,
        );
        let retrans_of = self.retransmission_of(frame, m, d, &verdict);
        if retrans_of.is_none() {
            self.remember_sent(frame, ts_ns, m, d);
        }
        self.record_history(dir, m, &verdict);
        self.sides[d].packets += 1;
        self.sides[d].bytes += u64::from(m.payload_len);

        let ctx = self.ctx(frame, ts_ns);
        let mut gap_seen =
            self.deliver_segment(&ctx, m, dir, limits, buffered_total, events, consumer);
        // Not `||`: the peer's holes before the ACK are settled whether or
        // not this segment made a gap.
        if flags.ack() && self.deliver_acked(&ctx, m.ack, dir.reverse(), buffered_total, consumer) {
            gap_seen = true;
        }
        if gap_seen {
            self.hist_repeat(dir, H_G, 'g');
        }
        self.note_close(frame, ts_ns, m, dir);
        self.end_directions(&ctx, flags.rst(), dir, buffered_total, consumer);

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
}

/// What a packet does, from its flags and length alone; the handshake and
/// teardown steps refine a plain ACK or data into the handshake's third
/// packet or the acknowledgement of a FIN.
#[inline]
fn role_of(m: &TcpMeta<'_>) -> Role {
    let flags = m.flags;
    if flags.rst() {
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
    }
}

/// The sending and the receiving side of a connection, both mutable.
pub(super) fn split_pair(sides: &mut [Side; 2], d: usize) -> (&mut Side, &mut Side) {
    let (a, b) = sides.split_at_mut(1);
    if d == 0 {
        (&mut a[0], &mut b[0])
    } else {
        (&mut b[0], &mut a[0])
    }
}
