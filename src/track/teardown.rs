//! Closing a connection: FINs and their acknowledgements, RSTs, who closed
//! first, and the report of a connection that closed by itself (the table
//! reports the ones that leave it otherwise: table.rs).

use super::conn::Conn;
use super::stream::{Sink, StreamConsumer};
use super::{seq, TrackEvent};
use crate::decode::TcpMeta;
use crate::event::{Direction, Role, TcpFlags};

impl Conn {
    /// Closed by a FIN exchange (both FINs acknowledged) or by RST.
    pub(super) fn is_finished(&self) -> bool {
        let [c, s] = &self.sides;
        c.rst || s.rst || (c.fin_seq.is_some() && s.fin_seq.is_some() && c.fin_acked && s.fin_acked)
    }

    /// Both sides sent FIN and both FINs were acknowledged.
    pub(super) fn both_fins_acked(&self) -> bool {
        let [c, s] = &self.sides;
        c.fin_seq.is_some() && s.fin_seq.is_some() && c.fin_acked && s.fin_acked
    }

    /// An ACK that covers the FIN of the peer (side `r`) marks it
    /// acknowledged. Returns `role`, made [`Role::FinAck`] for a bare ACK.
    #[inline]
    pub(super) fn note_fin_acked(&mut self, m: &TcpMeta<'_>, r: usize, mut role: Role) -> Role {
        let flags = m.flags;
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
        role
    }

    /// The first FIN of the connection, from either side.
    #[inline]
    pub(super) fn is_first_fin(&self, flags: TcpFlags, d: usize, r: usize) -> bool {
        flags.fin() && self.sides[d].fin_seq.is_none() && self.sides[r].fin_seq.is_none()
    }

    /// The server answers a SYN with a RST before any SYN-ACK: the
    /// connection was refused.
    #[inline]
    pub(super) fn is_refusal(&self, flags: TcpFlags, dir: Direction) -> bool {
        flags.rst()
            && dir == Direction::ToClient
            && !self.established
            && self.synack_frame.is_none()
            && self.syn_frame.is_some()
    }

    /// Records a FIN or RST from `dir`: where the FIN is, and who closed
    /// first (or both, when the FINs crossed).
    #[inline]
    pub(super) fn note_close(&mut self, frame: u64, ts_ns: i64, m: &TcpMeta<'_>, dir: Direction) {
        let flags = m.flags;
        let (d, r) = (dir.index(), dir.reverse().index());
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
    }

    /// Reports a connection that has just closed (both FINs acknowledged,
    /// or a RST) while it stays in the table (a retransmission may still
    /// come): its record is taken as it stands, then every byte still held
    /// is flushed to the consumer and both directions end.
    #[inline]
    pub(super) fn report_closed<C: StreamConsumer>(
        &mut self,
        frame: u64,
        ts_ns: i64,
        buffered_total: &mut usize,
        events: &mut Vec<TrackEvent>,
        consumer: &mut C,
    ) {
        self.reported = true;
        let record = self.record(None);
        let ctx = self.ctx(frame, ts_ns);
        for d in [Direction::ToServer, Direction::ToClient] {
            let side = &mut self.sides[d.index()];
            *buffered_total = buffered_total.saturating_sub(side.reasm.buffered());
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
        events.push(TrackEvent::Connection(Box::new(record)));
    }
}
