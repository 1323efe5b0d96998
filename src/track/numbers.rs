//! The numbers a packet is shown with: Wireshark's relative sequence and
//! acknowledgement numbers (from each side's ISN), and tcpdump's (which
//! record their bases at the first ACK-bearing packet of a conversation).

use super::conn::Conn;
use crate::decode::TcpMeta;

impl Conn {
    /// Relative numbers (Wireshark): the base is the ISN for a SYN, else
    /// one before the first sequence number seen; an ACK fixes the
    /// peer's base when nothing from the peer has been seen yet. A
    /// SYN-ACK whose ISN differs from the known base restarts the base
    /// in the same stream and is flagged as reused ports (Wireshark 4.0).
    ///
    /// Returns the relative sequence and acknowledgement numbers, and
    /// whether a SYN-ACK restarted the base.
    #[inline]
    pub(super) fn relative_numbers(
        &mut self,
        m: &TcpMeta<'_>,
        d: usize,
        r: usize,
    ) -> (u32, u32, bool) {
        let flags = m.flags;
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
        (seq_rel, ack_rel, synack_reused)
    }

    /// tcpdump's relative numbers (print-tcp.c): the first ACK-bearing
    /// packet of a conversation (or any SYN+ACK) records the bases and is
    /// printed absolute; later ACK-bearing packets are printed relative.
    #[inline]
    pub(super) fn tcpdump_numbers(&mut self, m: &TcpMeta<'_>) -> (u32, u32, u32) {
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

/// tcpdump orders the two ends of a conversation by port, then by address
/// bytes.
fn addr_bytes_gt(a: &std::net::IpAddr, b: &std::net::IpAddr) -> bool {
    use std::net::IpAddr::*;
    match (a, b) {
        (V4(a), V4(b)) => a.octets() > b.octets(),
        (V6(a), V6(b)) => a.octets() > b.octets(),
        _ => false,
    }
}
