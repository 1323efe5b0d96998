//! Wireshark's TCP sequence analysis (`tcp.analysis.*`), rule for rule.
//!
//! The rules follow `tcp_analyze_sequence_number()` in Wireshark's
//! packet-tcp.c (4.0, the version of our oracles): the same per-direction
//! state (next expected sequence number, last ACK, window, duplicate-ACK
//! count, the flags of the last segment), the same order of checks and the
//! same thresholds, so the flags on each frame equal tshark's. Sequence
//! numbers are absolute, as in Wireshark (its analysis runs before the
//! numbers are made relative for display).

use super::seq;
use crate::event::{Analysis, TcpFlags, Verdict};

/// Per-direction analysis state (Wireshark's `tcp_flow_t` and
/// `tcp_analyze_seq_flow_info_t`), in absolute sequence numbers as in
/// Wireshark (its analysis runs before numbers are made relative; 0 means
/// "not known yet" for `nextseq`, `maxseqtobeacked` and `lastack`).
#[derive(Clone, Copy, Debug, Default)]
pub struct FlowAnalysis {
    /// Highest sequence number seen so far, plus the segment length
    /// (and one for SYN or FIN).
    pub nextseq: u32,
    pub nextseq_time: i64,
    /// Highest contiguous sequence number not yet acknowledged.
    pub maxseqtobeacked: u32,
    pub lastack: u32,
    pub lastack_time: i64,
    /// Last window advertised by this side, as on the wire (unscaled);
    /// `None` until the first packet.
    pub window: Option<u32>,
    /// The last window came from a SYN (never scaled).
    pub window_from_syn: bool,
    pub lastsegmentflags: Analysis,
    /// Duplicate ACKs in a row. After an "ACKed unseen segment" it is set
    /// to [`DUPACK_SUPPRESS`] (Wireshark's -1 in an unsigned field), which
    /// reports such an ACK only once and, being large, also counts as
    /// "at least two duplicate ACKs" for fast retransmissions, as in
    /// Wireshark 4.0.
    pub dupacknum: u32,
    pub lastnondupack: u64,
}

/// Wireshark's `dupacknum = -1` stored in its unsigned counter.
pub const DUPACK_SUPPRESS: u32 = u32::MAX;

/// What one packet looks like to the analysis.
#[derive(Clone, Copy, Debug)]
pub struct SegmentFacts {
    pub frame: u64,
    pub ts_ns: i64,
    /// Absolute sequence and acknowledgement numbers (the ACK field as on
    /// the wire, even when the ACK flag is clear, as Wireshark does).
    pub seq: u32,
    pub ack: u32,
    pub seglen: u32,
    pub flags: TcpFlags,
    /// The window field as on the wire (unscaled).
    pub window: u32,
}

/// What the analysis needs to know about the connection as a whole.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnFacts {
    /// Wireshark's iRTT (first SYN → first ACK), the out-of-order
    /// threshold; `None` or 0 means 3 ms.
    pub first_rtt_ns: Option<i64>,
    /// The receiver's window scale shift: `None` while unknown (then
    /// "window full" is not judged), `Some(0)` when scaling is not used.
    pub rev_shift: Option<u8>,
}

/// Elapsed capture time as Wireshark computes it (unsigned: a packet
/// stamped before the reference gives a huge value, never a small one).
fn elapsed(now: i64, then: i64) -> u64 {
    now.wrapping_sub(then) as u64
}

/// Runs Wireshark's rules for a packet travelling in direction `fwd`;
/// `rev` is the opposite direction's state. The steps are Wireshark's
/// sections, in its order: the checks of this segment against its own
/// direction (up to `finished_fwd`), the acknowledgement checks, the kind
/// of retransmission (up to `finished_checking_retransmission_type`), then
/// the direction's state moves on.
pub fn analyze(
    fwd: &mut FlowAnalysis,
    rev: &mut FlowAnalysis,
    s: &SegmentFacts,
    conn: &ConnFacts,
) -> Verdict {
    let mut v = Verdict::default();
    check_forward(fwd, rev, s, conn, &mut v);
    check_acks(fwd, rev, s, &mut v);
    if s.seglen > 0 || s.flags.syn() || s.flags.fin() {
        check_retransmission(fwd, rev, s, conn, &mut v);
    }
    advance(fwd, s, &v);
    v
}

/// Wireshark's checks up to `finished_fwd`: zero windows and their probes,
/// lost segments, keep-alives, window updates and full windows, duplicate
/// ACKs. A zero-window probe, a keep-alive ACK or a zero-window-probe ACK
/// ends them (Wireshark's `goto finished_fwd`).
#[inline]
fn check_forward(
    fwd: &mut FlowAnalysis,
    rev: &FlowAnalysis,
    s: &SegmentFacts,
    conn: &ConnFacts,
    v: &mut Verdict,
) {
    let flags = s.flags;
    let syn_fin_rst = flags.syn() || flags.fin() || flags.rst();
    let (seq, ack, seglen, window) = (s.seq, s.ack, s.seglen, s.window);
    // Zero-window probe: one byte at the next expected sequence number
    // while the receiver advertises a zero window.
    if seglen == 1 && seq == fwd.nextseq && rev.window == Some(0) {
        v.flags.set(Analysis::ZERO_WINDOW_PROBE);
        return;
    }
    if window == 0 && !syn_fin_rst {
        v.flags.set(Analysis::ZERO_WINDOW);
    }
    if fwd.nextseq != 0 && seq::gt(seq, fwd.nextseq) && !flags.rst() {
        v.flags.set(Analysis::LOST_SEGMENT);
    }
    if (seglen == 0 || seglen == 1) && seq == fwd.nextseq.wrapping_sub(1) && !syn_fin_rst {
        v.flags.set(Analysis::KEEP_ALIVE);
    }
    if seglen == 0
        && window != 0
        && Some(window) != fwd.window
        && seq == fwd.nextseq
        && ack == fwd.lastack
        && !syn_fin_rst
    {
        v.flags.set(Analysis::WINDOW_UPDATE);
    }
    // Window full: the data reaches the right edge of the receiver's
    // (scaled) window. Only judged when the receiver's scale is known.
    if let (Some(shift), Some(rwin)) = (conn.rev_shift, rev.window) {
        let shift = if rev.window_from_syn { 0 } else { shift };
        let edge = rev
            .lastack
            .wrapping_add(rwin.checked_shl(u32::from(shift)).unwrap_or(0));
        if seglen > 0 && seq.wrapping_add(seglen) == edge && !syn_fin_rst {
            v.flags.set(Analysis::WINDOW_FULL);
        }
    }
    if seglen == 0
        && window != 0
        && Some(window) == fwd.window
        && seq == fwd.nextseq
        && ack == fwd.lastack
        && rev.lastsegmentflags.has(Analysis::KEEP_ALIVE)
        && !syn_fin_rst
    {
        v.flags.set(Analysis::KEEP_ALIVE_ACK);
        return;
    }
    if seglen == 0
        && window == 0
        && Some(window) == fwd.window
        && seq == fwd.nextseq
        && ack == fwd.lastack
        && rev.lastsegmentflags.has(Analysis::ZERO_WINDOW_PROBE)
        && !syn_fin_rst
    {
        v.flags.set(Analysis::ZERO_WINDOW_PROBE_ACK);
        return;
    }
    if seglen == 0
        && window != 0
        && Some(window) == fwd.window
        && seq == fwd.nextseq
        && ack == fwd.lastack
        && !syn_fin_rst
    {
        // After an "ACKed unseen segment" the count restarts at 1.
        fwd.dupacknum = if fwd.dupacknum == DUPACK_SUPPRESS {
            1
        } else {
            fwd.dupacknum.saturating_add(1)
        };
        v.flags.set(Analysis::DUPLICATE_ACK);
        v.dup_ack_num = fwd.dupacknum;
        v.dup_ack_of = fwd.lastnondupack;
    }
}

/// A new acknowledgement number restarts the duplicate-ACK count; an ACK
/// of data never seen is reported.
#[inline]
fn check_acks(fwd: &mut FlowAnalysis, rev: &mut FlowAnalysis, s: &SegmentFacts, v: &mut Verdict) {
    let (flags, ack) = (s.flags, s.ack);
    if ack != fwd.lastack {
        fwd.lastnondupack = s.frame;
        fwd.dupacknum = 0;
    }

    // An ACK for data beyond anything seen from the other side: the data
    // was sent but not captured. Reported once per hole: the other side
    // must send a new ACK number before it is reported again.
    if rev.maxseqtobeacked != 0 && seq::gt(ack, rev.maxseqtobeacked) && flags.ack() {
        // Data seen since the last report: move the mark up to it.
        if seq::lt(rev.maxseqtobeacked, rev.nextseq) {
            rev.maxseqtobeacked = rev.nextseq;
            v.flags.set(Analysis::ACK_LOST_SEGMENT);
        } else {
            if rev.dupacknum == 0 {
                v.flags.set(Analysis::ACK_LOST_SEGMENT);
            }
            rev.dupacknum = DUPACK_SUPPRESS;
        }
    }
}

/// What kind of retransmission a segment that occupies sequence space is,
/// if any (Wireshark's checks up to
/// `finished_checking_retransmission_type`): spurious, fast, out of order,
/// or plain. The first that matches ends them.
#[inline]
fn check_retransmission(
    fwd: &FlowAnalysis,
    rev: &FlowAnalysis,
    s: &SegmentFacts,
    conn: &ConnFacts,
    v: &mut Verdict,
) {
    let flags = s.flags;
    let (seq, seglen) = (s.seq, s.seglen);
    let mut seq_not_advanced = fwd.nextseq != 0 && seq::lt(seq, fwd.nextseq);
    if v.flags.has(Analysis::KEEP_ALIVE) {
        return;
    }
    // New data starting one byte early (after a zero-window probe
    // or a keep-alive carrying one byte) is not a retransmission.
    if seglen > 1 && fwd.nextseq.wrapping_sub(1) == seq {
        seq_not_advanced = false;
    }
    // Data the receiver has already acknowledged.
    if seglen > 0 && rev.lastack != 0 && seq::le(seq.wrapping_add(seglen), rev.lastack) {
        v.flags.set(Analysis::SPURIOUS_RETRANSMISSION);
        v.flags.set(Analysis::RETRANSMISSION);
        return;
    }
    // At least two duplicate ACKs asked for this sequence number
    // within the last 20 ms.
    if seq_not_advanced
        && rev.dupacknum >= 2
        && rev.lastack == seq
        && elapsed(s.ts_ns, rev.lastack_time) < 20_000_000
    {
        v.flags.set(Analysis::FAST_RETRANSMISSION);
        v.flags.set(Analysis::RETRANSMISSION);
        return;
    }
    // Sent soon (within the handshake RTT) after the highest
    // segment and not simply a resend of the last one.
    let ooo_thres = conn
        .first_rtt_ns
        .filter(|&r| r != 0)
        .map_or(3_000_000, |r| r as u64);
    let end = seq
        .wrapping_add(seglen)
        .wrapping_add(u32::from(flags.syn() || flags.fin()));
    if seq_not_advanced && elapsed(s.ts_ns, fwd.nextseq_time) < ooo_thres && fwd.nextseq != end {
        v.flags.set(Analysis::OUT_OF_ORDER);
        return;
    }
    if seq_not_advanced {
        v.flags.set(Analysis::RETRANSMISSION);
    }
}

/// The direction's state moves on past this segment (a zero-window probe
/// does not advance it).
#[inline]
fn advance(fwd: &mut FlowAnalysis, s: &SegmentFacts, v: &Verdict) {
    let flags = s.flags;
    let (seq, ack, seglen, window) = (s.seq, s.ack, s.seglen, s.window);
    let mut nextseq = seq.wrapping_add(seglen);
    if flags.syn() || flags.fin() {
        nextseq = nextseq.wrapping_add(1);
    }
    let zwp = v.flags.has(Analysis::ZERO_WINDOW_PROBE);
    if (seq::gt(nextseq, fwd.nextseq) || fwd.nextseq == 0) && !zwp {
        fwd.nextseq = nextseq;
        fwd.nextseq_time = s.ts_ns;
    }
    if (seq == fwd.maxseqtobeacked || fwd.maxseqtobeacked == 0) && !zwp {
        fwd.maxseqtobeacked = fwd.nextseq;
    }
    fwd.window = Some(window);
    fwd.window_from_syn = flags.syn();
    fwd.lastack = ack;
    fwd.lastack_time = s.ts_ns;
    fwd.lastsegmentflags = v.flags;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(
        frame: u64,
        ts_ms: i64,
        seq: u32,
        ack: u32,
        len: u32,
        flags: u16,
        win: u32,
    ) -> SegmentFacts {
        SegmentFacts {
            frame,
            ts_ns: ts_ms * 1_000_000,
            seq,
            ack,
            seglen: len,
            flags: TcpFlags(flags),
            window: win,
        }
    }

    /// No handshake RTT known; window scaling negotiated off (so "window
    /// full" is judged on raw windows).
    const NO_RTT: ConnFacts = ConnFacts {
        first_rtt_ns: None,
        rev_shift: Some(0),
    };

    fn rtt(ns: i64) -> ConnFacts {
        ConnFacts {
            first_rtt_ns: Some(ns),
            rev_shift: Some(0),
        }
    }

    const A: u16 = TcpFlags::ACK;
    const PA: u16 = TcpFlags::ACK | TcpFlags::PSH;

    /// Sets up both directions after a handshake: client nextseq 1,
    /// server nextseq 1, both have ACKed 1.
    fn established() -> (FlowAnalysis, FlowAnalysis) {
        let mut c = FlowAnalysis::default();
        let mut s = FlowAnalysis::default();
        analyze(
            &mut c,
            &mut s,
            &seg(1, 0, 0, 0, 0, TcpFlags::SYN, 1000),
            &NO_RTT,
        );
        analyze(
            &mut s,
            &mut c,
            &seg(2, 1, 0, 1, 0, TcpFlags::SYN | A, 1000),
            &NO_RTT,
        );
        analyze(&mut c, &mut s, &seg(3, 2, 1, 1, 0, A, 1000), &NO_RTT);
        (c, s)
    }

    #[test]
    fn retransmission_of_data() {
        let (mut c, mut s) = established();
        let v = analyze(
            &mut c,
            &mut s,
            &seg(4, 3, 1, 1, 100, PA, 1000),
            &rtt(2_000_000),
        );
        assert!(v.flags.is_empty());
        // Resent long after (100 ms > RTT): a plain retransmission.
        let v = analyze(
            &mut c,
            &mut s,
            &seg(5, 103, 1, 1, 100, PA, 1000),
            &rtt(2_000_000),
        );
        assert_eq!(v.flags, Analysis(Analysis::RETRANSMISSION));
    }

    #[test]
    fn out_of_order_within_rtt() {
        let (mut c, mut s) = established();
        analyze(
            &mut c,
            &mut s,
            &seg(4, 3, 101, 1, 100, PA, 1000),
            &rtt(50_000_000),
        );
        // seq 101 > nextseq 1: a segment before it was not captured (yet).
        let v = analyze(
            &mut c,
            &mut s,
            &seg(5, 4, 1, 1, 100, PA, 1000),
            &rtt(50_000_000),
        );
        assert_eq!(v.flags, Analysis(Analysis::OUT_OF_ORDER));
    }

    #[test]
    fn lost_segment_then_duplicate_acks_then_fast_retransmission() {
        let (mut c, mut s) = established();
        let v = analyze(&mut c, &mut s, &seg(4, 3, 1, 1, 100, PA, 1000), &NO_RTT);
        assert!(v.flags.is_empty());
        // 101..201 is never captured.
        let v = analyze(&mut c, &mut s, &seg(5, 4, 201, 1, 100, PA, 1000), &NO_RTT);
        assert_eq!(v.flags, Analysis(Analysis::LOST_SEGMENT));
        let v = analyze(&mut s, &mut c, &seg(6, 5, 1, 101, 0, A, 1000), &NO_RTT);
        assert!(v.flags.is_empty());
        let v = analyze(&mut s, &mut c, &seg(7, 6, 1, 101, 0, A, 1000), &NO_RTT);
        assert_eq!(v.flags, Analysis(Analysis::DUPLICATE_ACK));
        assert_eq!((v.dup_ack_num, v.dup_ack_of), (1, 6));
        let v = analyze(&mut s, &mut c, &seg(8, 7, 1, 101, 0, A, 1000), &NO_RTT);
        assert_eq!((v.dup_ack_num, v.dup_ack_of), (2, 6));
        let v = analyze(&mut c, &mut s, &seg(9, 10, 101, 1, 100, PA, 1000), &NO_RTT);
        assert!(v.flags.has(Analysis::FAST_RETRANSMISSION));
        assert!(v.flags.has(Analysis::RETRANSMISSION));
    }

    #[test]
    fn zero_window_probe_and_ack() {
        let (mut c, mut s) = established();
        let v = analyze(&mut s, &mut c, &seg(4, 3, 1, 1, 0, A, 0), &NO_RTT);
        assert_eq!(v.flags, Analysis(Analysis::ZERO_WINDOW));
        let v = analyze(&mut c, &mut s, &seg(5, 4, 1, 1, 1, A, 1000), &NO_RTT);
        assert_eq!(v.flags, Analysis(Analysis::ZERO_WINDOW_PROBE));
        let v = analyze(&mut s, &mut c, &seg(6, 5, 1, 1, 0, A, 0), &NO_RTT);
        assert!(v.flags.has(Analysis::ZERO_WINDOW_PROBE_ACK));
        // The probe does not advance nextseq: the same byte sent again is
        // again a probe, not a retransmission.
        let v = analyze(&mut c, &mut s, &seg(7, 6, 1, 1, 1, A, 1000), &NO_RTT);
        assert_eq!(v.flags, Analysis(Analysis::ZERO_WINDOW_PROBE));
    }

    #[test]
    fn keep_alive_and_its_ack() {
        let (mut c, mut s) = established();
        let v = analyze(&mut c, &mut s, &seg(4, 3, 0, 1, 0, A, 1000), &NO_RTT);
        assert_eq!(v.flags, Analysis(Analysis::KEEP_ALIVE));
        let v = analyze(&mut s, &mut c, &seg(5, 4, 1, 1, 0, A, 1000), &NO_RTT);
        assert_eq!(v.flags, Analysis(Analysis::KEEP_ALIVE_ACK));
    }

    #[test]
    fn window_update_and_full() {
        let (mut c, mut s) = established();
        let v = analyze(&mut s, &mut c, &seg(4, 3, 1, 1, 0, A, 2000), &NO_RTT);
        assert_eq!(v.flags, Analysis(Analysis::WINDOW_UPDATE));
        // The server's window is 2000 from ack 1: 2000 bytes fill it.
        let v = analyze(&mut c, &mut s, &seg(5, 4, 1, 1, 2000, PA, 1000), &NO_RTT);
        assert_eq!(v.flags, Analysis(Analysis::WINDOW_FULL));
    }

    #[test]
    fn ack_of_segment_not_captured() {
        let (mut c, mut s) = established();
        analyze(&mut c, &mut s, &seg(4, 3, 1, 1, 100, PA, 1000), &NO_RTT);
        let v = analyze(&mut s, &mut c, &seg(5, 4, 1, 201, 0, A, 1000), &NO_RTT);
        assert_eq!(v.flags, Analysis(Analysis::ACK_LOST_SEGMENT));
        // An ACK of what was captured is ordinary.
        let v = analyze(&mut s, &mut c, &seg(6, 5, 1, 101, 0, A, 1000), &NO_RTT);
        assert!(!v.flags.has(Analysis::ACK_LOST_SEGMENT));
    }

    #[test]
    fn spurious_retransmission_of_acked_data() {
        let (mut c, mut s) = established();
        analyze(&mut c, &mut s, &seg(4, 3, 1, 1, 100, PA, 1000), &NO_RTT);
        analyze(&mut s, &mut c, &seg(5, 4, 1, 101, 0, A, 1000), &NO_RTT);
        let v = analyze(&mut c, &mut s, &seg(6, 500, 1, 1, 100, PA, 1000), &NO_RTT);
        assert!(v.flags.has(Analysis::SPURIOUS_RETRANSMISSION));
        assert!(v.flags.has(Analysis::RETRANSMISSION));
    }

    #[test]
    fn syn_retransmission() {
        let mut c = FlowAnalysis::default();
        let mut s = FlowAnalysis::default();
        analyze(
            &mut c,
            &mut s,
            &seg(1, 0, 0, 0, 0, TcpFlags::SYN, 1000),
            &NO_RTT,
        );
        let v = analyze(
            &mut c,
            &mut s,
            &seg(2, 1000, 0, 0, 0, TcpFlags::SYN, 1000),
            &NO_RTT,
        );
        assert_eq!(v.flags, Analysis(Analysis::RETRANSMISSION));
    }
}
