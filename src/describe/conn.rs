//! A connection in words: how it ended, Zeek's conn_state and history
//! letters spelled out, and the one-line summary the timeline and the
//! ladder print when it closes. Zeek's codes are kept so people who know
//! conn.log read them at once, and spelled out for everyone else.

use std::io::{self, Write};

use crate::event::{CloseKind, Closer, ConnRecord};

/// Zeek's conn_state, in words (client = Zeek's originator).
pub fn conn_state_words(state: &str) -> &'static str {
    match state {
        "S0" => "connection attempt seen, no reply",
        "S1" => "established, not terminated",
        "SF" => "normal establishment and termination",
        "REJ" => "connection attempt rejected",
        "S2" => "established, the client tried to close, no reply from the server",
        "S3" => "established, the server tried to close, no reply from the client",
        "RSTO" => "established, the client aborted (RST)",
        "RSTR" => "the server sent a RST",
        "RSTOS0" => "the client sent a SYN then a RST, no SYN-ACK seen",
        "RSTRH" => "the server sent a SYN-ACK then a RST, no SYN seen",
        "SH" => "the client sent a SYN then a FIN, no SYN-ACK seen",
        "SHR" => "the server sent a SYN-ACK then a FIN, no SYN seen",
        "OTH" => "no SYN seen, mid-stream traffic",
        _ => "unknown state",
    }
}

/// One Zeek history letter, in words (upper case = from the client).
pub fn history_letter_words(letter: char) -> &'static str {
    match letter.to_ascii_lowercase() {
        's' => "SYN",
        'h' => "SYN-ACK",
        'a' => "pure ACK",
        'd' => "data",
        'f' => "FIN",
        'r' => "RST",
        'c' => "bad checksum",
        'g' => "content gap",
        't' => "retransmitted data",
        'w' => "zero window",
        'i' => "inconsistent packet",
        'q' => "multi-flag packet (SYN with FIN or RST)",
        '^' => "direction flipped",
        _ => "unknown",
    }
}

/// A Zeek history string in words: "S client SYN, h server SYN-ACK, …".
pub fn history_words(history: &str) -> String {
    history
        .chars()
        .map(|c| {
            let who = if c.is_ascii_uppercase() {
                "client"
            } else {
                "server"
            };
            format!("{c} {who} {}", history_letter_words(c))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `--explain` sentence under a closed connection: "History ShAD…:
/// S client SYN, …." (`None` for an empty history).
pub fn history_sentence(history: &str) -> Option<String> {
    let words = history_words(history);
    (!words.is_empty()).then(|| format!("History {history}: {words}."))
}

/// A duration for the summaries: µs below a millisecond, ms below a
/// second.
pub fn summary_duration(ns: i64) -> String {
    let ns = ns.max(0);
    if ns < 1_000_000 {
        format!("{} µs", ns / 1_000)
    } else if ns < 1_000_000_000 {
        format!("{:.1} ms", ns as f64 / 1e6)
    } else {
        format!("{:.3} s", ns as f64 / 1e9)
    }
}

fn who(c: Option<Closer>) -> &'static str {
    match c {
        Some(Closer::Client) => "client",
        Some(Closer::Server) => "server",
        Some(Closer::Both) => "both sides",
        None => "?",
    }
}

/// How the connection ended, in words.
pub fn close_words(r: &ConnRecord) -> String {
    match r.close {
        CloseKind::Fin => format!("closed by {} (FIN)", who(r.closed_by)),
        CloseKind::HalfClosed => {
            format!("half-closed by {} (FIN), other side open", who(r.closed_by))
        }
        CloseKind::Reset => format!("reset by {} (RST)", who(r.closed_by)),
        CloseKind::Refused => "refused (SYN answered by RST)".to_string(),
        CloseKind::Open => "still open at the end".to_string(),
        CloseKind::Timeout => "expired after being idle".to_string(),
        CloseKind::Evicted => "evicted (connection table full)".to_string(),
    }
}

/// The one-line summary of a connection, e.g.
/// `#0 141.142.228.5:59856 → 192.150.187.43:80  211.0 ms  rtt 69.8 ms  136 B → / ← 4705 B  closed by client (FIN)  SF: normal establishment and termination`.
pub fn write_conn_summary<W: Write + ?Sized>(w: &mut W, r: &ConnRecord) -> io::Result<()> {
    write!(
        w,
        "#{} {} → {}  {}",
        r.stream,
        r.client,
        r.server,
        summary_duration(r.end_ns - r.start_ns)
    )?;
    match r.rtt_ns {
        Some(rtt) => write!(w, "  rtt {}", summary_duration(rtt))?,
        None if r.mid_stream => write!(w, "  joined mid-stream")?,
        None => {}
    }
    write!(w, "  {} B → / ← {} B", r.bytes[0], r.bytes[1])?;
    if r.missing != [0, 0] {
        write!(
            w,
            " ({} B → / ← {} B not captured)",
            r.missing[0], r.missing[1]
        )?;
    }
    write!(w, "  {}", close_words(r))?;
    let retrans = r.retransmissions();
    if retrans > 0 {
        write!(
            w,
            "  {retrans} retransmission{}",
            if retrans == 1 { "" } else { "s" }
        )?;
    }
    writeln!(w, "  {}: {}", r.conn_state, conn_state_words(r.conn_state))
}

/// A `--ladder --fold` line standing for a run of plain packets.
pub fn folded_run(packets: usize, up: u64, up_bytes: u64, down: u64, down_bytes: u64) -> String {
    format!(
        "… {packets} packets: {up} → ({}), {down} ← ({}) …",
        super::human_bytes(up_bytes),
        super::human_bytes(down_bytes)
    )
}

/// The ladder's last row when rows were dropped.
pub fn packets_not_kept(n: u64) -> String {
    format!("… {n} more packets not kept …")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Endpoint;

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

    fn line(r: &ConnRecord) -> String {
        let mut v = Vec::new();
        write_conn_summary(&mut v, r).unwrap();
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn normal_connection_in_one_line() {
        assert_eq!(
            line(&record()),
            "#0 141.142.228.5:59856 → 192.150.187.43:80  211.0 ms  rtt 69.8 ms  136 B → / ← 4705 B  \
             closed by client (FIN)  SF: normal establishment and termination\n"
        );
    }

    #[test]
    fn refused_reset_and_lossy_connections() {
        let mut r = record();
        r.close = CloseKind::Refused;
        r.closed_by = Some(Closer::Server);
        r.conn_state = "REJ";
        r.rtt_ns = Some(525_000);
        r.bytes = [0, 0];
        assert_eq!(
            line(&r),
            "#0 141.142.228.5:59856 → 192.150.187.43:80  211.0 ms  rtt 525 µs  0 B → / ← 0 B  \
             refused (SYN answered by RST)  REJ: connection attempt rejected\n"
        );
        let mut r = record();
        r.close = CloseKind::Reset;
        r.closed_by = Some(Closer::Server);
        r.conn_state = "RSTR";
        r.rtt_ns = None;
        r.mid_stream = true;
        r.missing = [0, 1448];
        r.analysis = vec![("retransmission", 3), ("duplicate_ack", 5)];
        assert_eq!(
            line(&r),
            "#0 141.142.228.5:59856 → 192.150.187.43:80  211.0 ms  joined mid-stream  136 B → / ← 4705 B \
             (0 B → / ← 1448 B not captured)  reset by server (RST)  3 retransmissions  RSTR: the server sent a RST\n"
        );
    }

    #[test]
    fn every_zeek_state_and_letter_has_words() {
        for s in [
            "S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR",
            "OTH",
        ] {
            assert_ne!(conn_state_words(s), "unknown state", "{s}");
        }
        for l in "ShADadFfRrTtWwGgCcQqIi^".chars() {
            assert_ne!(history_letter_words(l), "unknown", "{l}");
        }
        assert_eq!(history_letter_words('F'), "FIN");
    }

    #[test]
    fn every_close_and_history_in_words() {
        let mut r = record();
        let cases = [
            (CloseKind::Fin, "closed by client (FIN)"),
            (
                CloseKind::HalfClosed,
                "half-closed by client (FIN), other side open",
            ),
            (CloseKind::Reset, "reset by client (RST)"),
            (CloseKind::Refused, "refused (SYN answered by RST)"),
            (CloseKind::Open, "still open at the end"),
            (CloseKind::Timeout, "expired after being idle"),
            (CloseKind::Evicted, "evicted (connection table full)"),
        ];
        for (close, words) in cases {
            r.close = close;
            assert_eq!(close_words(&r), words);
        }
        r.close = CloseKind::Fin;
        r.closed_by = Some(Closer::Both);
        assert_eq!(close_words(&r), "closed by both sides (FIN)");
        r.closed_by = None;
        assert_eq!(close_words(&r), "closed by ? (FIN)");
        assert_eq!(
            history_sentence("Sh").as_deref(),
            Some("History Sh: S client SYN, h server SYN-ACK.")
        );
        assert_eq!(history_sentence(""), None);
    }

    #[test]
    fn ladder_words() {
        assert_eq!(
            folded_run(6, 3, 1500, 3, 0),
            "… 6 packets: 3 → (1.5 KB), 3 ← (0 B) …"
        );
        assert_eq!(packets_not_kept(12), "… 12 more packets not kept …");
        assert_eq!(summary_duration(1_500_000_000), "1.500 s");
    }
}
