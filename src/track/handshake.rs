//! Opening a connection: the handshake's frames and initial sequence
//! numbers, window scaling as the SYNs negotiate it, Wireshark's initial
//! RTT, and the third packet of the handshake.

use super::conn::Conn;
use crate::decode::TcpMeta;
use crate::event::{Direction, Role, TcpFlags};

/// Window scaling not known (the SYN was not captured).
pub(super) const WS_UNKNOWN: i8 = -1;
/// Window scaling not in use on this connection.
pub(super) const WS_NONE: i8 = -2;

impl Conn {
    /// Records a SYN or SYN-ACK from side `d`: the first SYN frames, the
    /// ISN (where the reassembler starts), and the window scale it offers.
    #[inline]
    pub(super) fn note_syn(&mut self, frame: u64, ts_ns: i64, m: &TcpMeta<'_>, d: usize, r: usize) {
        let flags = m.flags;
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
        self.negotiate_window_scale(m, d, r);
    }

    /// Window scaling (Wireshark's verify_tcp_window_scaling): a SYN
    /// without the option turns scaling off for both sides; a SYN-ACK with
    /// it after a SYN without it changes nothing.
    #[inline]
    fn negotiate_window_scale(&mut self, m: &TcpMeta<'_>, d: usize, r: usize) {
        if let Some(ws) = m.options.wscale {
            self.wscale[d] = ws.min(14) as i8;
        }
        if self.wscale[d] == WS_UNKNOWN {
            self.wscale = [WS_NONE, WS_NONE];
        } else if m.flags.ack() && self.wscale[r] == WS_NONE {
            self.wscale[d] = WS_NONE;
        }
    }

    /// The shift side `d`'s window is scaled by: its own, once its SYN
    /// said so (a SYN's own window is never scaled).
    #[inline]
    pub(super) fn window_shift(&self, flags: TcpFlags, d: usize) -> Option<u8> {
        if flags.syn() {
            None
        } else {
            u8::try_from(self.wscale[d]).ok()
        }
    }

    /// Wireshark's iRTT: from the most recent SYN to the first packet with
    /// ACK and without SYN, whichever side sends it. Returns it on the
    /// packet that measures it.
    #[inline]
    pub(super) fn measure_irtt(&mut self, ts_ns: i64, flags: TcpFlags) -> Option<i64> {
        let mut handshake_rtt_ns = None;
        if flags.ack() && !flags.syn() && self.rtt_ns.is_none_or(|r| r == 0) {
            if let Some(t0) = self.syn_ts {
                let rtt = ts_ns.saturating_sub(t0);
                self.rtt_ns = Some(rtt);
                handshake_rtt_ns = Some(rtt);
            }
        }
        handshake_rtt_ns
    }

    /// The third packet of the handshake: the client acknowledges the
    /// server's ISN, once; the connection is established then (or at once
    /// when it was joined mid-stream). Returns `role`, made
    /// [`Role::Handshake3`] for that packet.
    #[inline]
    pub(super) fn note_handshake_ack(
        &mut self,
        frame: u64,
        m: &TcpMeta<'_>,
        dir: Direction,
        mut role: Role,
    ) -> Role {
        let flags = m.flags;
        if !flags.syn()
            && !flags.rst()
            && flags.ack()
            && dir == Direction::ToServer
            && self.ack_frame.is_none()
            && self.synack_frame.is_some()
        {
            if let Some(sisn) = self.sides[dir.reverse().index()].isn {
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
        role
    }
}
