//! Wireshark's TCP sequence analysis (`tcp.analysis.*`), rule for rule.
//!
//! The rules follow `tcp_analyze_sequence_number()` in Wireshark's
//! packet-tcp.c (4.0, the version of our oracles): the same per-direction
//! state (next expected sequence number, last ACK, window, duplicate-ACK
//! count, the flags of the last segment), the same order of checks and the
//! same thresholds, so the flags on each frame equal tshark's. Sequence
//! numbers are relative to each direction's base, as in Wireshark.

use super::seq;
use crate::decode::TcpFlags;

/// Analysis results of one packet, as a bit set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Analysis(pub u32);

impl Analysis {
    pub const RETRANSMISSION: u32 = 1 << 0;
    pub const FAST_RETRANSMISSION: u32 = 1 << 1;
    pub const SPURIOUS_RETRANSMISSION: u32 = 1 << 2;
    pub const OUT_OF_ORDER: u32 = 1 << 3;
    pub const DUPLICATE_ACK: u32 = 1 << 4;
    pub const ZERO_WINDOW: u32 = 1 << 5;
    pub const ZERO_WINDOW_PROBE: u32 = 1 << 6;
    pub const ZERO_WINDOW_PROBE_ACK: u32 = 1 << 7;
    pub const WINDOW_FULL: u32 = 1 << 8;
    pub const WINDOW_UPDATE: u32 = 1 << 9;
    pub const KEEP_ALIVE: u32 = 1 << 10;
    pub const KEEP_ALIVE_ACK: u32 = 1 << 11;
    pub const LOST_SEGMENT: u32 = 1 << 12;
    pub const ACK_LOST_SEGMENT: u32 = 1 << 13;
    pub const REUSED_PORTS: u32 = 1 << 14;

    /// Every flag with its JSON name, in the order they are reported.
    pub const ALL: [(u32, &'static str); 15] = [
        (Self::REUSED_PORTS, "reused_ports"),
        (Self::LOST_SEGMENT, "lost_segment"),
        (Self::ACK_LOST_SEGMENT, "ack_lost_segment"),
        (Self::RETRANSMISSION, "retransmission"),
        (Self::FAST_RETRANSMISSION, "fast_retransmission"),
        (Self::SPURIOUS_RETRANSMISSION, "spurious_retransmission"),
        (Self::OUT_OF_ORDER, "out_of_order"),
        (Self::DUPLICATE_ACK, "duplicate_ack"),
        (Self::ZERO_WINDOW, "zero_window"),
        (Self::ZERO_WINDOW_PROBE, "zero_window_probe"),
        (Self::ZERO_WINDOW_PROBE_ACK, "zero_window_probe_ack"),
        (Self::WINDOW_FULL, "window_full"),
        (Self::WINDOW_UPDATE, "window_update"),
        (Self::KEEP_ALIVE, "keep_alive"),
        (Self::KEEP_ALIVE_ACK, "keep_alive_ack"),
    ];

    pub fn has(self, bit: u32) -> bool {
        self.0 & bit != 0
    }

    pub fn set(&mut self, bit: u32) {
        self.0 |= bit;
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Names of the flags that are set. A fast retransmission is also a
    /// retransmission, as in Wireshark (`tcp.analysis.retransmission`
    /// matches both).
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::ALL
            .into_iter()
            .filter(move |(b, _)| self.has(*b))
            .map(|(_, n)| n)
    }
}

/// Per-direction analysis state (Wireshark's `tcp_flow_t` and
/// `tcp_analyze_seq_flow_info_t`), in relative sequence numbers.
#[derive(Clone, Copy, Debug, Default)]
pub struct FlowAnalysis {
    /// Highest sequence number seen so far, plus the segment length
    /// (0 means "not known yet", as in Wireshark).
    pub nextseq: u32,
    pub nextseq_time: i64,
    /// Highest contiguous sequence number not yet acknowledged.
    pub maxseqtobeacked: u32,
    pub lastack: u32,
    pub lastack_time: i64,
    /// Last (scaled) window advertised by this side; `None` until the first
    /// packet.
    pub window: Option<u32>,
    pub lastsegmentflags: Analysis,
    pub dupacknum: u32,
    pub lastnondupack: u64,
}

/// What one packet looks like to the analysis.
#[derive(Clone, Copy, Debug)]
pub struct SegmentFacts {
    pub frame: u64,
    pub ts_ns: i64,
    /// Relative sequence and acknowledgement numbers.
    pub seq: u32,
    pub ack: u32,
    pub seglen: u32,
    pub flags: TcpFlags,
    /// The scaled window.
    pub window: u32,
}

/// Result for one packet: flags, and for a duplicate ACK its number and the
/// frame it duplicates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    pub flags: Analysis,
    pub dup_ack_num: u32,
    pub dup_ack_of: u64,
}

/// Runs Wireshark's rules for a packet travelling in direction `fwd`;
/// `rev` is the opposite direction's state. `first_rtt_ns` is the
/// connection's handshake RTT, if known (the out-of-order threshold).
pub fn analyze(
    fwd: &mut FlowAnalysis,
    rev: &mut FlowAnalysis,
    s: &SegmentFacts,
    first_rtt_ns: Option<i64>,
) -> Verdict {
    let mut v = Verdict::default();
    let flags = s.flags;
    let syn_fin_rst = flags.syn() || flags.fin() || flags.rst();
    let seq = s.seq;
    let ack = s.ack;
    let seglen = s.seglen;
    let window = s.window;
    let fwd_window = fwd.window;
    let rev_window = rev.window.unwrap_or(u32::MAX);

    'fwd: {
        // Zero-window probe: one byte at the next expected sequence number
        // while the receiver advertises a zero window.
        if seglen == 1 && seq == fwd.nextseq && rev.window == Some(0) {
            v.flags.set(Analysis::ZERO_WINDOW_PROBE);
            break 'fwd;
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
            && Some(window) != fwd_window
            && seq == fwd.nextseq
            && ack == fwd.lastack
            && !syn_fin_rst
        {
            v.flags.set(Analysis::WINDOW_UPDATE);
        }
        if seglen > 0
            && rev_window != 0
            && rev.window.is_some()
            && seq.wrapping_add(seglen) == rev.lastack.wrapping_add(rev_window)
            && !syn_fin_rst
        {
            v.flags.set(Analysis::WINDOW_FULL);
        }
        if seglen == 0
            && window != 0
            && Some(window) == fwd_window
            && seq == fwd.nextseq
            && ack == fwd.lastack
            && rev.lastsegmentflags.has(Analysis::KEEP_ALIVE)
            && !syn_fin_rst
        {
            v.flags.set(Analysis::KEEP_ALIVE_ACK);
            break 'fwd;
        }
        if seglen == 0
            && window == 0
            && Some(window) == fwd_window
            && seq == fwd.nextseq
            && (ack == fwd.lastack || ack == fwd.lastack.wrapping_add(1))
            && rev.lastsegmentflags.has(Analysis::ZERO_WINDOW_PROBE)
            && !syn_fin_rst
        {
            v.flags.set(Analysis::ZERO_WINDOW_PROBE_ACK);
            break 'fwd;
        }
        if seglen == 0
            && window != 0
            && Some(window) == fwd_window
            && seq == fwd.nextseq
            && ack == fwd.lastack
            && !syn_fin_rst
        {
            fwd.dupacknum += 1;
            v.flags.set(Analysis::DUPLICATE_ACK);
            v.dup_ack_num = fwd.dupacknum;
            v.dup_ack_of = fwd.lastnondupack;
        }
    }

    if !v.flags.has(Analysis::DUPLICATE_ACK) {
        fwd.lastnondupack = s.frame;
        fwd.dupacknum = 0;
    }

    // An ACK for data beyond anything seen from the other side: the data
    // was sent but not captured.
    if rev.maxseqtobeacked != 0 && seq::gt(ack, rev.maxseqtobeacked) && flags.ack() {
        v.flags.set(Analysis::ACK_LOST_SEGMENT);
        rev.maxseqtobeacked = rev.nextseq;
    }

    if seglen > 0 || flags.syn() || flags.fin() {
        'retrans: {
            let seq_not_advanced = fwd.nextseq != 0 && seq::lt(seq, fwd.nextseq);
            if v.flags.has(Analysis::KEEP_ALIVE) {
                break 'retrans;
            }
            let since_dup = s.ts_ns.saturating_sub(rev.lastack_time);
            if seq_not_advanced
                && rev.dupacknum >= 2
                && rev.lastack == seq
                && since_dup < 20_000_000
            {
                v.flags.set(Analysis::FAST_RETRANSMISSION);
                v.flags.set(Analysis::RETRANSMISSION);
                break 'retrans;
            }
            let since_next = s.ts_ns.saturating_sub(fwd.nextseq_time);
            let ooo_thres = first_rtt_ns.filter(|&r| r != 0).unwrap_or(3_000_000);
            if seq_not_advanced && since_next < ooo_thres && fwd.nextseq != seq.wrapping_add(seglen)
            {
                v.flags.set(Analysis::OUT_OF_ORDER);
                break 'retrans;
            }
            if seglen > 0 && rev.lastack != 0 && seq::le(seq.wrapping_add(seglen), rev.lastack) {
                v.flags.set(Analysis::SPURIOUS_RETRANSMISSION);
                v.flags.set(Analysis::RETRANSMISSION);
                break 'retrans;
            }
            if seq_not_advanced {
                v.flags.set(Analysis::RETRANSMISSION);
            }
        }
    }

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
    fwd.lastack = ack;
    fwd.lastack_time = s.ts_ns;
    fwd.lastsegmentflags = v.flags;
    v
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
            None,
        );
        analyze(
            &mut s,
            &mut c,
            &seg(2, 1, 0, 1, 0, TcpFlags::SYN | A, 1000),
            None,
        );
        analyze(&mut c, &mut s, &seg(3, 2, 1, 1, 0, A, 1000), None);
        (c, s)
    }

    #[test]
    fn retransmission_of_data() {
        let (mut c, mut s) = established();
        let v = analyze(
            &mut c,
            &mut s,
            &seg(4, 3, 1, 1, 100, PA, 1000),
            Some(2_000_000),
        );
        assert!(v.flags.is_empty());
        // Resent long after (100 ms > RTT): a plain retransmission.
        let v = analyze(
            &mut c,
            &mut s,
            &seg(5, 103, 1, 1, 100, PA, 1000),
            Some(2_000_000),
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
            Some(50_000_000),
        );
        // seq 101 > nextseq 1: a segment before it was not captured (yet).
        let v = analyze(
            &mut c,
            &mut s,
            &seg(5, 4, 1, 1, 100, PA, 1000),
            Some(50_000_000),
        );
        assert_eq!(v.flags, Analysis(Analysis::OUT_OF_ORDER));
    }

    #[test]
    fn lost_segment_then_duplicate_acks_then_fast_retransmission() {
        let (mut c, mut s) = established();
        let v = analyze(&mut c, &mut s, &seg(4, 3, 1, 1, 100, PA, 1000), None);
        assert!(v.flags.is_empty());
        // 101..201 is never captured.
        let v = analyze(&mut c, &mut s, &seg(5, 4, 201, 1, 100, PA, 1000), None);
        assert_eq!(v.flags, Analysis(Analysis::LOST_SEGMENT));
        let v = analyze(&mut s, &mut c, &seg(6, 5, 1, 101, 0, A, 1000), None);
        assert!(v.flags.is_empty());
        let v = analyze(&mut s, &mut c, &seg(7, 6, 1, 101, 0, A, 1000), None);
        assert_eq!(v.flags, Analysis(Analysis::DUPLICATE_ACK));
        assert_eq!((v.dup_ack_num, v.dup_ack_of), (1, 6));
        let v = analyze(&mut s, &mut c, &seg(8, 7, 1, 101, 0, A, 1000), None);
        assert_eq!((v.dup_ack_num, v.dup_ack_of), (2, 6));
        let v = analyze(&mut c, &mut s, &seg(9, 10, 101, 1, 100, PA, 1000), None);
        assert!(v.flags.has(Analysis::FAST_RETRANSMISSION));
        assert!(v.flags.has(Analysis::RETRANSMISSION));
    }

    #[test]
    fn zero_window_probe_and_ack() {
        let (mut c, mut s) = established();
        let v = analyze(&mut s, &mut c, &seg(4, 3, 1, 1, 0, A, 0), None);
        assert_eq!(v.flags, Analysis(Analysis::ZERO_WINDOW));
        let v = analyze(&mut c, &mut s, &seg(5, 4, 1, 1, 1, A, 1000), None);
        assert_eq!(v.flags, Analysis(Analysis::ZERO_WINDOW_PROBE));
        let v = analyze(&mut s, &mut c, &seg(6, 5, 1, 1, 0, A, 0), None);
        assert!(v.flags.has(Analysis::ZERO_WINDOW_PROBE_ACK));
        // The probe does not advance nextseq: the same byte sent again is
        // again a probe, not a retransmission.
        let v = analyze(&mut c, &mut s, &seg(7, 6, 1, 1, 1, A, 1000), None);
        assert_eq!(v.flags, Analysis(Analysis::ZERO_WINDOW_PROBE));
    }

    #[test]
    fn keep_alive_and_its_ack() {
        let (mut c, mut s) = established();
        let v = analyze(&mut c, &mut s, &seg(4, 3, 0, 1, 0, A, 1000), None);
        assert_eq!(v.flags, Analysis(Analysis::KEEP_ALIVE));
        let v = analyze(&mut s, &mut c, &seg(5, 4, 1, 1, 0, A, 1000), None);
        assert_eq!(v.flags, Analysis(Analysis::KEEP_ALIVE_ACK));
    }

    #[test]
    fn window_update_and_full() {
        let (mut c, mut s) = established();
        let v = analyze(&mut s, &mut c, &seg(4, 3, 1, 1, 0, A, 2000), None);
        assert_eq!(v.flags, Analysis(Analysis::WINDOW_UPDATE));
        // The server's window is 2000 from ack 1: 2000 bytes fill it.
        let v = analyze(&mut c, &mut s, &seg(5, 4, 1, 1, 2000, PA, 1000), None);
        assert_eq!(v.flags, Analysis(Analysis::WINDOW_FULL));
    }

    #[test]
    fn ack_of_segment_not_captured() {
        let (mut c, mut s) = established();
        analyze(&mut c, &mut s, &seg(4, 3, 1, 1, 100, PA, 1000), None);
        let v = analyze(&mut s, &mut c, &seg(5, 4, 1, 201, 0, A, 1000), None);
        assert_eq!(v.flags, Analysis(Analysis::ACK_LOST_SEGMENT));
        // An ACK of what was captured is ordinary.
        let v = analyze(&mut s, &mut c, &seg(6, 5, 1, 101, 0, A, 1000), None);
        assert!(!v.flags.has(Analysis::ACK_LOST_SEGMENT));
    }

    #[test]
    fn spurious_retransmission_of_acked_data() {
        let (mut c, mut s) = established();
        analyze(&mut c, &mut s, &seg(4, 3, 1, 1, 100, PA, 1000), None);
        analyze(&mut s, &mut c, &seg(5, 4, 1, 101, 0, A, 1000), None);
        let v = analyze(&mut c, &mut s, &seg(6, 500, 1, 1, 100, PA, 1000), None);
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
            None,
        );
        let v = analyze(
            &mut c,
            &mut s,
            &seg(2, 1000, 0, 0, 0, TcpFlags::SYN, 1000),
            None,
        );
        assert_eq!(v.flags, Analysis(Analysis::RETRANSMISSION));
    }
}
