//! One segment's sequence analysis within its connection: the facts handed
//! to Wireshark's rules (analysis.rs), the flag only the connection can
//! tell (reused ports), the per-connection counts of each flag, and the
//! earlier frame a retransmission repeats.

use super::analysis;
use super::conn::{split_pair, Conn};
use super::handshake::WS_UNKNOWN;
use crate::decode::TcpMeta;
use crate::event::{Analysis, Verdict};

impl Conn {
    /// What side `d`'s analysis state held before this segment, for
    /// display: the last window it advertised and the next sequence
    /// number expected from it (relative). The analysis keeps raw windows;
    /// they are shown scaled like this one.
    #[inline]
    pub(super) fn analysis_before(
        &self,
        d: usize,
        shift: Option<u8>,
    ) -> (Option<u32>, Option<u32>) {
        let prev_window = self.sides[d]
            .flow
            .window
            .map(|w| w << shift.unwrap_or(0).min(14));
        let expected_seq = match self.sides[d].flow.nextseq {
            0 => None,
            n => Some(n.wrapping_sub(self.sides[d].base.unwrap_or(0))),
        };
        (prev_window, expected_seq)
    }

    /// Sequence analysis of a segment from side `d`, on absolute numbers as
    /// in Wireshark; `reused` adds the reused-ports flag (a new connection
    /// on ports seen before, or a SYN-ACK with another ISN).
    #[inline]
    pub(super) fn analyze_segment(
        &mut self,
        frame: u64,
        ts_ns: i64,
        m: &TcpMeta<'_>,
        d: usize,
        r: usize,
        reused: bool,
    ) -> Verdict {
        let facts = analysis::SegmentFacts {
            frame,
            ts_ns,
            seq: m.seq,
            ack: m.ack,
            seglen: m.payload_len,
            flags: m.flags,
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
        if reused {
            verdict.flags.set(Analysis::REUSED_PORTS);
        }
        self.count_analysis(&verdict);
        verdict
    }

    /// Counts each flag of the verdict for the connection record.
    #[inline]
    fn count_analysis(&mut self, verdict: &Verdict) {
        // Most segments have no flag: skip the walk over all of them.
        if !verdict.flags.is_empty() {
            for (i, (bit, _)) in Analysis::ALL.iter().enumerate() {
                if verdict.flags.has(*bit) {
                    if let Some(n) = self.analysis_counts.get_mut(i) {
                        *n += 1;
                    }
                }
            }
        }
    }

    /// The frame and time a retransmitted segment from side `d` first
    /// went out: a bare SYN or FIN repeats the side's first one, anything
    /// else the recent segment that started at the same sequence number.
    #[inline]
    pub(super) fn retransmission_of(
        &self,
        frame: u64,
        m: &TcpMeta<'_>,
        d: usize,
        verdict: &Verdict,
    ) -> Option<(u64, i64)> {
        let flags = m.flags;
        if verdict.flags.has(Analysis::RETRANSMISSION)
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
        }
    }

    /// Remembers an original segment from side `d` that occupies sequence
    /// space, so a later retransmission of it can name it. The ring is made
    /// at the first segment with data: a side that only ever sends SYNs or
    /// FINs (a SYN flood) costs no ring.
    // Always inlined: it runs for nearly every packet, and being shared by
    // every consumer's copy of `update`, the ring's allocation path made
    // LLVM keep it out of line (a call per packet).
    #[inline(always)]
    pub(super) fn remember_sent(&mut self, frame: u64, ts_ns: i64, m: &TcpMeta<'_>, d: usize) {
        let flags = m.flags;
        let carries = m.payload_len > 0 || flags.syn() || flags.fin();
        if carries && (m.payload_len > 0 || self.sides[d].recent.is_some()) {
            self.sides[d]
                .recent
                .get_or_insert_with(Default::default)
                .push(m.seq, frame, ts_ns);
        }
    }
}
