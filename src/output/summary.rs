//! The `--stats` conversation table (in the spirit of `tshark -z
//! conv,tcp`, plus handshake RTT, retransmissions and Zeek's conn_state).
//! The one-line summary of a connection is written by
//! `describe::conn` (re-exported here for its callers).

use std::io::{self, Write};

use crate::describe::conn::summary_duration;
pub use crate::describe::conn::write_conn_summary;
use crate::describe::run::CONVERSATIONS_FOOTER;
use crate::event::ConnRecord;

/// The `--stats` table: one row per connection, in stream order.
pub fn write_conversations<W: Write + ?Sized>(w: &mut W, conns: &[ConnRecord]) -> io::Result<()> {
    let t0 = conns.iter().map(|c| c.start_ns).min().unwrap_or(0);
    let mut rows: Vec<&ConnRecord> = conns.iter().collect();
    rows.sort_by_key(|c| c.stream);
    let width = rows
        .iter()
        .map(|c| c.client.to_string().len() + c.server.to_string().len() + 5)
        .max()
        .unwrap_or(0)
        .max(24);
    writeln!(w, "TCP conversations ({} connections)", rows.len())?;
    writeln!(
        w,
        "{:>6}  {:<width$}  {:>8} {:>10}  {:>8} {:>10}  {:>8} {:>10}  {:>10}  {:>10}  {:>10}  {:>7}  state",
        "stream",
        "client → server",
        "pkts →",
        "bytes →",
        "pkts ←",
        "bytes ←",
        "pkts",
        "bytes",
        "start s",
        "duration s",
        "rtt",
        "retrans",
    )?;
    for c in rows {
        let ends = format!("{} → {}", c.client, c.server);
        let rtt = c.rtt_ns.map_or_else(|| "-".to_string(), summary_duration);
        writeln!(
            w,
            "{:>6}  {:<width$}  {:>8} {:>10}  {:>8} {:>10}  {:>8} {:>10}  {:>10.6}  {:>10.6}  {:>10}  {:>7}  {}",
            c.stream,
            ends,
            c.packets[0],
            c.bytes[0],
            c.packets[1],
            c.bytes[1],
            c.packets[0] + c.packets[1],
            c.bytes[0] + c.bytes[1],
            (c.start_ns - t0) as f64 / 1e9,
            (c.end_ns - c.start_ns).max(0) as f64 / 1e9,
            rtt,
            c.retransmissions(),
            c.conn_state,
        )?;
    }
    writeln!(w, "{CONVERSATIONS_FOOTER}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{CloseKind, Closer, Endpoint};

    fn record() -> ConnRecord {
        ConnRecord {
            stream: 0,
            client: Endpoint {
                ip: "141.142.228.5".parse().unwrap(),
                port: 59856,
            },
            server: Endpoint {
                ip: "192.150.187.43".parse().unwrap(),
                port: 80,
            },
            start_ns: 1_000_000_000,
            end_ns: 1_211_000_000,
            first_frame: 1,
            last_frame: 10,
            mid_stream: false,
            syn_frame: Some(1),
            synack_frame: Some(2),
            ack_frame: Some(3),
            rtt_ns: Some(69_800_000),
            close: CloseKind::Fin,
            closed_by: Some(Closer::Client),
            packets: [6, 4],
            bytes: [136, 4705],
            analysis: vec![],
            history: "ShADadFf".into(),
            conn_state: "SF",
            missing: [0, 0],
        }
    }

    #[test]
    fn conversation_table() {
        let a = record();
        let mut b = record();
        b.stream = 1;
        b.start_ns = 1_500_000_000;
        b.end_ns = 1_500_000_000;
        b.rtt_ns = None;
        b.conn_state = "S0";
        b.packets = [2, 0];
        b.bytes = [0, 0];
        b.analysis = vec![("retransmission", 1)];
        let mut v = Vec::new();
        write_conversations(&mut v, &[b, a]).unwrap();
        let text = String::from_utf8(v).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert_eq!(lines[0], "TCP conversations (2 connections)");
        let cols = |l: &str| l.split_whitespace().map(String::from).collect::<Vec<_>>();
        assert_eq!(
            cols(lines[2]),
            [
                "0",
                "141.142.228.5:59856",
                "→",
                "192.150.187.43:80",
                "6",
                "136",
                "4",
                "4705",
                "10",
                "4841",
                "0.000000",
                "0.211000",
                "69.8",
                "ms",
                "0",
                "SF"
            ]
        );
        assert_eq!(
            cols(lines[3])[10..],
            ["0.500000", "0.000000", "-", "1", "S0"]
        );
    }
}
