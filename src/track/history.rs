//! Zeek's view of a connection: the history letters (`ShADadFf`…) recorded
//! as packets pass, and the `conn_state` (`SF`, `S0`, `REJ`…) derived at the
//! end from what each side did.

use super::conn::Conn;
use crate::decode::TcpMeta;
use crate::event::{Analysis, Direction, Verdict};

/// Bits of `Side::hist_once`: letters recorded once per side.
const H_A: u16 = 4;
const H_D: u16 = 8;
const H_Q: u16 = 64;
/// Indexes into `Side::hist_seq`.
const HS_S: usize = 0;
const HS_H: usize = 1;
const HS_F: usize = 2;
const HS_R: usize = 3;
/// Indexes into `Side::hist_next` and `Side::hist_count`.
const H_T: usize = 0;
const H_W: usize = 1;
/// The gap letter, recorded by `Conn::update` once reassembly has run.
pub(super) const H_G: usize = 2;

impl Conn {
    /// Zeek's history letters for one packet from `dir` (all but the gap,
    /// which is known only after reassembly), and the client's
    /// acknowledgement after the SYN-ACK that Zeek's `conn_state` needs.
    #[inline]
    pub(super) fn record_history(&mut self, dir: Direction, m: &TcpMeta<'_>, verdict: &Verdict) {
        let flags = m.flags;
        let d = dir.index();
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
    }

    /// Zeek's once-per-side letters (a, d, q): recorded at the first
    /// packet that shows them.
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
    pub(super) fn hist_repeat(&mut self, d: Direction, which: usize, letter: char) {
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
    pub(super) fn conn_state(&self) -> &'static str {
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
