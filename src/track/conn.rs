//! One TCP connection's state and the per-packet update that advances it.

use super::analysis;
use super::history::{HS_F, HS_H, HS_R, HS_S, H_A, H_D, H_G, H_Q, H_T, H_W};
use super::reassembly::{GapCause, Reassembler};
use super::recent::Recent;
use super::stream::{Sink, StreamConsumer, StreamCtx};
use super::{seq, Limits, TrackEvent};
use crate::decode::TcpMeta;
use crate::event::{Analysis, Direction, Endpoint, Role, TcpInfo, TcpOptions, TrackNotice};

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
    /// or [`WS_UNKNOWN`] (no SYN seen yet), or [`WS_NONE`] (not used).
    pub(super) wscale: [i8; 2],
}

/// Window scaling not known (the SYN was not captured).
const WS_UNKNOWN: i8 = -1;
/// Window scaling not in use on this connection.
const WS_NONE: i8 = -2;

impl Conn {
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
    pub(super) fn ctx(&self, frame: u64, ts_ns: i64) -> StreamCtx {
        StreamCtx {
            stream: self.stream,
            frame,
            ts_ns,
            client: self.client,
            server: self.server,
        }
    }

    /// Closed by a FIN exchange (both FINs acknowledged) or by RST.
    pub(super) fn is_finished(&self) -> bool {
        let [c, s] = &self.sides;
        c.rst || s.rst || (c.fin_seq.is_some() && s.fin_seq.is_some() && c.fin_acked && s.fin_acked)
    }

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
    pub(super) fn both_fins_acked(&self) -> bool {
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
