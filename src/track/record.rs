//! The connection record: what the tracker reports about a connection when
//! it leaves the table (how it closed and by whom, counters, analysis
//! counts, Zeek's history and state).

use super::conn::Conn;
use crate::event::{Analysis, CloseKind, Closer, ConnRecord, Direction};

impl Conn {
    pub(super) fn record(&self, kind: Option<CloseKind>) -> ConnRecord {
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
        let side_name = |d: Direction| match d {
            Direction::ToServer => Closer::Client,
            Direction::ToClient => Closer::Server,
        };
        // A reset is ended by whoever sent the RST; a FIN close by the
        // first to send FIN, or by both when neither waited for the other.
        let closed_by = match close {
            CloseKind::Reset | CloseKind::Refused => self.first_rst.map(side_name),
            _ if self.closer_both => Some(Closer::Both),
            _ => self.first_closer.map(side_name),
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
}
