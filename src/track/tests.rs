//! The tracker driven by hand-made packets, grouped by what happens to
//! the connection.

use super::{reassembly, Limits, NoConsumer, TrackEvent, Tracker};
use crate::decode::TcpMeta;
use crate::event::TcpFlags as F;
use crate::event::{
    Analysis, CloseKind, Closer, ConnRecord, Direction, Role, TcpInfo, TcpOptions, TrackNotice,
};

const SYN: u16 = F::SYN;
const SA: u16 = F::SYN | F::ACK;
const A: u16 = F::ACK;
const PA: u16 = F::PSH | F::ACK;
const FA: u16 = F::FIN | F::ACK;
const R: u16 = F::RST;
const RA: u16 = F::RST | F::ACK;
const CISN: u32 = 1000;
const SISN: u32 = 5000;

/// A capture being played into a tracker: client 10.0.0.1:40000,
/// server 10.0.0.2:80, one millisecond between packets.
struct Play {
    t: Tracker,
    frame: u64,
    ts: i64,
    records: Vec<ConnRecord>,
    notices: Vec<TrackNotice>,
    /// The window field of the next packets.
    win: u16,
}

impl Play {
    fn new() -> Self {
        Self::with(Limits::default())
    }
    fn with(limits: Limits) -> Self {
        Self {
            t: Tracker::new(limits),
            frame: 0,
            ts: 1_000_000_000,
            records: Vec::new(),
            notices: Vec::new(),
            win: 1000,
        }
    }
    #[allow(clippy::too_many_arguments)]
    fn send_on(
        &mut self,
        cport: u16,
        from_client: bool,
        seq: u32,
        ack: u32,
        flags: u16,
        data: &[u8],
        opts: TcpOptions,
    ) -> TcpInfo {
        self.frame += 1;
        self.ts += 1_000_000;
        let (c, s): (std::net::IpAddr, std::net::IpAddr) =
            ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let (src, dst, sport, dport) = if from_client {
            (c, s, cport, 80)
        } else {
            (s, c, 80, cport)
        };
        let m = TcpMeta {
            src,
            dst,
            sport,
            dport,
            seq,
            ack,
            flags: F(flags),
            window: self.win,
            options: opts,
            payload: data,
            payload_len: data.len() as u32,
        };
        let info = self.t.process(self.frame, self.ts, &m, &mut NoConsumer);
        self.collect();
        info
    }
    fn c(&mut self, seq: u32, ack: u32, flags: u16, data: &[u8]) -> TcpInfo {
        self.send_on(40000, true, seq, ack, flags, data, TcpOptions::default())
    }
    fn s(&mut self, seq: u32, ack: u32, flags: u16, data: &[u8]) -> TcpInfo {
        self.send_on(40000, false, seq, ack, flags, data, TcpOptions::default())
    }
    fn collect(&mut self) {
        for ev in self.t.drain_events() {
            match ev {
                TrackEvent::Connection(c) => self.records.push(*c),
                TrackEvent::Notice(n) => self.notices.push(n),
            }
        }
    }
    fn end(&mut self) -> &[ConnRecord] {
        self.t.finish(&mut NoConsumer);
        self.collect();
        &self.records
    }
    /// SYN, SYN-ACK, ACK.
    fn handshake(&mut self) -> [TcpInfo; 3] {
        [
            self.c(CISN, 0, SYN, b""),
            self.s(SISN, CISN + 1, SA, b""),
            self.c(CISN + 1, SISN + 1, A, b""),
        ]
    }
}

fn only(records: &[ConnRecord]) -> &ConnRecord {
    assert_eq!(records.len(), 1, "{records:#?}");
    &records[0]
}

// ---- opening -----------------------------------------------------

#[test]
fn handshake_roles_relative_numbers_and_rtt() {
    let mut p = Play::new();
    let [syn, synack, ack] = p.handshake();
    assert_eq!(syn.role, Role::Handshake1);
    assert_eq!(synack.role, Role::Handshake2);
    assert_eq!(ack.role, Role::Handshake3);
    assert_eq!((syn.seq_rel, synack.seq_rel, synack.ack_rel), (0, 0, 1));
    assert_eq!((ack.seq_rel, ack.ack_rel), (1, 1));
    assert_eq!(syn.direction, Direction::ToServer);
    assert_eq!(synack.direction, Direction::ToClient);
    assert!(syn.new_stream && !synack.new_stream);
    // SYN at +1 ms, ACK at +3 ms.
    assert_eq!(ack.handshake_rtt_ns, Some(2_000_000));
    assert_eq!(syn.handshake_rtt_ns, None);
    let data = p.c(CISN + 1, SISN + 1, PA, b"GET /");
    assert_eq!(data.role, Role::Data);
    assert_eq!(data.seq_rel, 1);
    let r = only(p.end());
    assert_eq!(r.close, CloseKind::Open);
    assert_eq!(r.conn_state, "S1");
    assert_eq!(r.history, "ShAD");
    assert_eq!(
        (r.syn_frame, r.synack_frame, r.ack_frame, r.rtt_ns),
        (Some(1), Some(2), Some(3), Some(2_000_000))
    );
    assert_eq!(r.packets, [3, 1]);
    assert_eq!(r.bytes, [5, 0]);
}

#[test]
fn syn_without_answer_is_s0() {
    let mut p = Play::new();
    p.c(CISN, 0, SYN, b"");
    let again = p.c(CISN, 0, SYN, b"");
    assert!(again.verdict.flags.has(Analysis::RETRANSMISSION));
    let r = only(p.end());
    assert_eq!(
        (r.conn_state, r.close, r.history.as_str()),
        ("S0", CloseKind::Open, "S")
    );
    assert_eq!(r.rtt_ns, None);
}

#[test]
fn simultaneous_open() {
    // Both sides send a SYN, then both SYN-ACK.
    let mut p = Play::new();
    p.c(CISN, 0, SYN, b"");
    let ssyn = p.s(SISN, 0, SYN, b"");
    assert_eq!(
        ssyn.stream, 0,
        "the crossing SYN belongs to the same connection"
    );
    assert_eq!(ssyn.role, Role::Handshake1);
    p.c(CISN, SISN + 1, SA, b"");
    p.s(SISN, CISN + 1, SA, b"");
    let d = p.c(CISN + 1, SISN + 1, PA, b"hi");
    assert_eq!((d.seq_rel, d.ack_rel), (1, 1));
    let r = only(p.end());
    assert_eq!(r.client.port, 40000);
    assert_eq!(r.history, "SsHhD");
}

#[test]
fn refused_syn_answered_by_rst() {
    let mut p = Play::new();
    p.c(CISN, 0, SYN, b"");
    let rst = p.s(0, CISN + 1, RA, b"");
    assert_eq!(rst.role, Role::Reset);
    let r = only(&p.records).clone();
    assert_eq!(r.close, CloseKind::Refused);
    assert_eq!(r.closed_by, Some(Closer::Server));
    assert_eq!(r.conn_state, "REJ");
    assert_eq!(r.history, "Sr");
    // Wireshark's iRTT: SYN to the first ACK-bearing packet.
    assert_eq!(r.rtt_ns, Some(1_000_000));
}

#[test]
fn mid_stream_join_takes_the_higher_port_as_client() {
    let mut p = Play::new();
    let first = p.s(SISN + 100, CISN + 50, PA, b"abc");
    assert!(first.mid_stream);
    assert_eq!(first.direction, Direction::ToClient);
    assert_eq!((first.seq_rel, first.ack_rel), (1, 1));
    let r = only(p.end());
    assert!(r.mid_stream);
    assert_eq!(r.client.port, 40000);
    assert_eq!((r.conn_state, r.history.as_str()), ("OTH", "d"));
}

// ---- closing -----------------------------------------------------

fn established_with_data() -> Play {
    let mut p = Play::new();
    p.handshake();
    p.c(CISN + 1, SISN + 1, PA, b"request");
    p.s(SISN + 1, CISN + 8, PA, b"response!");
    p
}

#[test]
fn client_closes_first() {
    let mut p = established_with_data();
    let fin = p.c(CISN + 8, SISN + 10, FA, b"");
    assert_eq!(fin.role, Role::Fin);
    let fin2 = p.s(SISN + 10, CISN + 9, FA, b"");
    assert_eq!(fin2.role, Role::Fin);
    assert!(
        p.records.is_empty(),
        "not closed before the last FIN is acknowledged"
    );
    let last = p.c(CISN + 9, SISN + 11, A, b"");
    assert_eq!(last.role, Role::FinAck);
    let r = only(&p.records).clone();
    assert_eq!(
        (r.close, r.closed_by),
        (CloseKind::Fin, Some(Closer::Client))
    );
    assert_eq!((r.conn_state, r.history.as_str()), ("SF", "ShADdFf"));
    assert_eq!(r.bytes, [7, 9]);
}

#[test]
fn server_closes_first() {
    let mut p = established_with_data();
    p.s(SISN + 10, CISN + 8, FA, b"");
    let ack = p.c(CISN + 8, SISN + 11, A, b"");
    assert_eq!(ack.role, Role::FinAck);
    p.c(CISN + 8, SISN + 11, FA, b"");
    p.s(SISN + 11, CISN + 9, A, b"");
    let r = only(&p.records).clone();
    assert_eq!(
        (r.close, r.closed_by, r.conn_state),
        (CloseKind::Fin, Some(Closer::Server), "SF")
    );
}

#[test]
fn simultaneous_close_is_by_both() {
    let mut p = established_with_data();
    // Each FIN acknowledges only data, not the other's FIN.
    p.c(CISN + 8, SISN + 10, FA, b"");
    p.s(SISN + 10, CISN + 8, FA, b"");
    p.c(CISN + 9, SISN + 11, A, b"");
    p.s(SISN + 11, CISN + 9, A, b"");
    let r = only(&p.records).clone();
    assert_eq!((r.close, r.closed_by), (CloseKind::Fin, Some(Closer::Both)));
}

#[test]
fn half_close_then_end_of_input() {
    let mut p = established_with_data();
    p.c(CISN + 8, SISN + 10, FA, b"");
    p.s(SISN + 10, CISN + 9, PA, b"more");
    let r = only(p.end()).clone();
    assert_eq!(
        (r.close, r.closed_by),
        (CloseKind::HalfClosed, Some(Closer::Client))
    );
    assert_eq!(r.conn_state, "S2");
}

#[test]
fn half_close_by_server_is_s3() {
    let mut p = established_with_data();
    p.s(SISN + 10, CISN + 8, FA, b"");
    let r = only(p.end()).clone();
    assert_eq!(
        (r.close, r.closed_by, r.conn_state),
        (CloseKind::HalfClosed, Some(Closer::Server), "S3")
    );
}

#[test]
fn reset_by_client_is_rsto() {
    let mut p = established_with_data();
    p.c(CISN + 8, 0, R, b"");
    let r = only(&p.records).clone();
    assert_eq!(
        (r.close, r.closed_by, r.conn_state),
        (CloseKind::Reset, Some(Closer::Client), "RSTO")
    );
}

#[test]
fn reset_by_server_after_fin_is_rstr_by_server() {
    let mut p = established_with_data();
    p.c(CISN + 8, SISN + 10, FA, b"");
    p.s(SISN + 10, CISN + 9, RA, b"");
    let r = only(&p.records).clone();
    assert_eq!(
        (r.close, r.closed_by, r.conn_state),
        (CloseKind::Reset, Some(Closer::Server), "RSTR")
    );
    assert_eq!(r.history, "ShADdFr");
}

#[test]
fn syn_then_client_rst_is_rstos0() {
    let mut p = Play::new();
    p.c(CISN, 0, SYN, b"");
    p.c(CISN + 1, 0, R, b"");
    let r = only(&p.records).clone();
    assert_eq!((r.conn_state, r.history.as_str()), ("RSTOS0", "SR"));
}

#[test]
fn synack_then_rst_without_syn_is_rstrh() {
    let mut p = Play::new();
    p.s(SISN, CISN + 1, SA, b"");
    p.s(SISN + 1, 0, R, b"");
    let r = only(&p.records).clone();
    assert_eq!(r.conn_state, "RSTRH");
}

#[test]
fn syn_then_fin_is_sh_and_synack_then_fin_is_shr() {
    let mut p = Play::new();
    p.c(CISN, 0, SYN, b"");
    p.c(CISN + 1, 0, F::FIN, b"");
    assert_eq!(only(p.end()).conn_state, "SH");

    let mut p = Play::new();
    p.s(SISN, CISN + 1, SA, b"");
    p.s(SISN + 1, CISN + 1, FA, b"");
    assert_eq!(only(p.end()).conn_state, "SHR");
}

#[test]
fn mid_stream_fin_both_ways_is_sf() {
    let mut p = Play::new();
    p.c(CISN, SISN, PA, b"x");
    p.c(CISN + 1, SISN, FA, b"");
    p.s(SISN, CISN + 2, FA, b"");
    p.c(CISN + 2, SISN + 1, A, b"");
    let r = only(&p.records).clone();
    assert_eq!(
        (r.conn_state, r.close, r.mid_stream),
        ("SF", CloseKind::Fin, true)
    );
}

#[test]
fn history_repeats_zero_windows_logarithmically_and_marks_retransmissions() {
    let mut p = Play::new();
    p.handshake();
    p.c(CISN + 1, SISN + 1, PA, b"abc");
    // Eleven zero-window ACKs from the server: 'w' at the 1st and
    // the 10th only.
    p.win = 0;
    for _ in 0..11 {
        p.s(SISN + 1, CISN + 4, A, b"");
    }
    assert_eq!(only(p.end()).history, "ShADaww");

    let mut p = Play::new();
    p.handshake();
    p.c(CISN + 1, SISN + 1, PA, b"abc");
    p.ts += 1_000_000_000;
    let again = p.c(CISN + 1, SISN + 1, PA, b"abc");
    assert!(again.verdict.flags.has(Analysis::RETRANSMISSION));
    // A SYN carrying FIN is a multi-flag packet.
    p.send_on(40001, true, 9, 0, SYN | F::FIN, b"", TcpOptions::default());
    let recs = p.end();
    assert_eq!(recs[0].history, "ShADT");
    assert_eq!(recs[1].history, "QSF");
}

// ---- reuse and numbering -----------------------------------------

#[test]
fn new_syn_with_other_isn_starts_a_new_stream() {
    let mut p = established_with_data();
    p.c(CISN + 8, 0, R, b"");
    let syn = p.c(9_999_999, 0, SYN, b"");
    assert_eq!(syn.stream, 1);
    assert!(syn.new_stream);
    assert!(syn.verdict.flags.has(Analysis::REUSED_PORTS));
    // The same ISN again is a retransmission in the same stream.
    let again = p.c(9_999_999, 0, SYN, b"");
    assert_eq!(again.stream, 1);
    assert!(again.verdict.flags.has(Analysis::RETRANSMISSION));
    let other = p.send_on(40001, true, 1, 0, SYN, b"", TcpOptions::default());
    assert_eq!(
        other.stream, 2,
        "streams are numbered in order of appearance"
    );
    let recs = p.end();
    assert_eq!(
        recs.iter().map(|r| r.stream).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
}

#[test]
fn window_scaling_follows_both_syns() {
    let ws = |s| TcpOptions {
        wscale: Some(s),
        ..TcpOptions::default()
    };
    let mut p = Play::new();
    let syn = p.send_on(40000, true, CISN, 0, SYN, b"", ws(7));
    assert_eq!(syn.window, 1000, "a SYN's window is never scaled");
    p.send_on(40000, false, SISN, CISN + 1, SA, b"", ws(2));
    let a = p.c(CISN + 1, SISN + 1, A, b"");
    assert_eq!((a.window, a.window_shift), (128_000, Some(7)));
    let b = p.s(SISN + 1, CISN + 1, A, b"");
    assert_eq!(b.window, 4000);

    // A SYN-ACK without the option turns scaling off.
    let mut p = Play::new();
    p.send_on(40000, true, CISN, 0, SYN, b"", ws(7));
    p.s(SISN, CISN + 1, SA, b"");
    let a = p.c(CISN + 1, SISN + 1, A, b"");
    assert_eq!((a.window, a.window_shift), (1000, None));

    // Only the SYN-ACK seen: the server's own scale is known.
    let mut p = Play::new();
    p.send_on(40000, false, SISN, CISN + 1, SA, b"", ws(3));
    assert_eq!(p.s(SISN + 1, CISN + 1, A, b"").window, 8000);
    assert_eq!(p.c(CISN + 1, SISN + 1, A, b"").window, 1000);
}

// ---- limits ------------------------------------------------------

#[test]
fn full_table_evicts_the_least_recent_tenth_and_says_so() {
    let mut p = Play::with(Limits {
        max_connections: 20,
        ..Limits::default()
    });
    for port in 0..20 {
        p.send_on(30000 + port, true, 1, 0, SYN, b"", TcpOptions::default());
    }
    assert!(p.notices.is_empty());
    assert_eq!(p.t.len(), 20);
    p.send_on(31000, true, 1, 0, SYN, b"", TcpOptions::default());
    assert_eq!(
        p.notices,
        vec![TrackNotice::Evicted {
            count: 2,
            limit: 20
        }]
    );
    assert_eq!(p.t.len(), 19);
    assert_eq!(p.t.evicted_total(), 2);
    let evicted: Vec<_> = p.records.iter().map(|r| (r.stream, r.close)).collect();
    assert_eq!(
        evicted,
        vec![(0, CloseKind::Evicted), (1, CloseKind::Evicted)]
    );
}

#[test]
fn idle_connections_expire_in_capture_time() {
    let mut p = Play::with(Limits {
        idle_timeout_ns: 60_000_000_000,
        ..Limits::default()
    });
    p.handshake();
    p.ts += 30_000_000_000;
    p.send_on(40001, true, 1, 0, SYN, b"", TcpOptions::default());
    assert!(p.records.is_empty(), "30 s idle is within the timeout");
    p.ts += 61_000_000_000;
    p.send_on(40002, true, 1, 0, SYN, b"", TcpOptions::default());
    let expired: Vec<_> = p.records.iter().map(|r| (r.stream, r.close)).collect();
    assert_eq!(
        expired,
        vec![(0, CloseKind::Timeout), (1, CloseKind::Timeout)]
    );
    // The expired 4-tuple starts afresh.
    let again = p.c(CISN + 1, SISN + 1, A, b"");
    assert_eq!((again.stream, again.mid_stream), (3, true));
}

#[test]
fn buffer_limit_gives_up_on_a_hole_and_reports_it() {
    let mut p = Play::with(Limits {
        max_buffer_per_direction: 100,
        ..Limits::default()
    });
    p.handshake();
    // Bytes 1..51 never arrive; 150 bytes wait behind the hole.
    p.c(CISN + 51, SISN + 1, PA, &[b'x'; 150]);
    assert_eq!(
        p.notices,
        vec![TrackNotice::BufferLimit {
            stream: 0,
            dir: Direction::ToServer,
            limit: 100
        }]
    );
    let r = only(p.end()).clone();
    assert_eq!(r.missing, [50, 0]);
    assert!(r.history.contains('G'), "{}", r.history);
}

#[test]
fn total_buffer_limit_is_shared_between_connections() {
    // Held segments count their bytes plus a fixed overhead.
    let mut p = Play::with(Limits {
        max_buffer_total: 120 + reassembly::HELD_OVERHEAD,
        ..Limits::default()
    });
    p.handshake();
    p.c(CISN + 11, SISN + 1, PA, &[b'x'; 100]); // held: 100 + overhead
    assert!(p.notices.is_empty());
    p.send_on(40001, true, 7, 0, SYN, b"", TcpOptions::default());
    p.send_on(40001, true, 18, 0, PA, &[b'y'; 50], TcpOptions::default());
    assert_eq!(
        p.notices,
        vec![TrackNotice::BufferLimit {
            stream: 1,
            dir: Direction::ToServer,
            limit: 20
        }]
    );
}
