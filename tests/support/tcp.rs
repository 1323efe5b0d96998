//! The TCP parity harness: runs netpeek's tracker (the library, exactly
//! as the pipeline does) and tshark over one capture and compares what
//! each says about every TCP frame.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use super::api::{
    decode, ConnRecord, FileSource, Limits, Next, NoConsumer, PacketSource, TcpInfo, TrackEvent,
    Tracker,
};

/// The analysis flags compared, with tshark's field names
/// (`tcp.analysis.<name>`) equal to netpeek's JSON names.
pub const FLAGS: [&str; 15] = [
    "retransmission",
    "fast_retransmission",
    "spurious_retransmission",
    "out_of_order",
    "duplicate_ack",
    "zero_window",
    "zero_window_probe",
    "zero_window_probe_ack",
    "window_full",
    "window_update",
    "keep_alive",
    "keep_alive_ack",
    "lost_segment",
    "ack_lost_segment",
    "reused_ports",
];

/// What both tools say about one TCP frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub stream: u64,
    pub seq: u32,
    pub ack: u32,
    pub len: u32,
    pub sport: u16,
    pub dport: u16,
    /// FIN … NS (9 bits).
    pub flags: u16,
    /// Scaled window (tshark's `tcp.window_size`).
    pub window: u32,
    pub analysis: BTreeSet<String>,
    pub dup_ack: Option<u32>,
}

/// netpeek's view of a capture: rows by frame number, the full per-packet
/// info, and the connection records.
pub struct Netpeek {
    pub rows: BTreeMap<u64, Row>,
    pub infos: BTreeMap<u64, TcpInfo>,
    pub conns: Vec<ConnRecord>,
}

pub fn netpeek(path: &Path) -> Netpeek {
    netpeek_with(path, Limits::default())
}

pub fn netpeek_with(path: &Path, limits: Limits) -> Netpeek {
    let mut out = Netpeek {
        rows: BTreeMap::new(),
        infos: BTreeMap::new(),
        conns: Vec::new(),
    };
    let Ok(mut src) = FileSource::open(path) else {
        return out; // unreadable files have no TCP frames to compare
    };
    let mut tracker = Tracker::new(limits);
    let mut consumer = NoConsumer;
    // A damaged file ends the loop with an error: compare what was read.
    while let Ok(next) = src.next() {
        let frame = match next {
            Next::Frame(f, _) => f,
            Next::Notice(_) | Next::Idle => continue,
            Next::End => break,
        };
        let d = decode(&frame);
        if let Some(m) = d.tcp_meta() {
            let info = tracker.process(frame.number, frame.ts_ns, &m, &mut consumer);
            let row = Row {
                stream: info.stream,
                seq: info.seq_rel,
                ack: info.ack_rel,
                len: info.payload_len,
                sport: m.sport,
                dport: m.dport,
                flags: m.flags.0 & 0x1ff,
                window: info.window,
                analysis: info.verdict.flags.names().map(String::from).collect(),
                dup_ack: (info.verdict.dup_ack_num > 0).then_some(info.verdict.dup_ack_num),
            };
            out.rows.insert(frame.number, row);
            out.infos.insert(frame.number, info);
        }
        for ev in tracker.drain_events() {
            if let TrackEvent::Connection(c) = ev {
                out.conns.push(*c);
            }
        }
    }
    tracker.finish(&mut consumer);
    for ev in tracker.drain_events() {
        if let TrackEvent::Connection(c) = ev {
            out.conns.push(*c);
        }
    }
    out.conns.sort_by_key(|c| c.stream);
    out
}

/// tshark's view: rows keyed by netpeek's frame numbers, and the iRTT of
/// each stream that has one.
pub struct Tshark {
    pub rows: BTreeMap<u64, Row>,
    pub irtt_ns: BTreeMap<u64, i64>,
}

/// "0.185458000" → 185458000.
fn parse_secs_ns(s: &str) -> Option<i64> {
    let (i, f) = s.split_once('.').unwrap_or((s, ""));
    let mut frac = f.to_string();
    frac.truncate(9);
    while frac.len() < 9 {
        frac.push('0');
    }
    Some(i.parse::<i64>().ok()? * 1_000_000_000 + frac.parse::<i64>().ok()?)
}

/// Runs tshark 4.0 with default preferences, as the oracles were made.
/// Frame numbers are mapped to netpeek's: tshark also counts pcapng
/// Custom Blocks as frames (they have no encapsulation type).
pub fn tshark(path: &Path) -> Tshark {
    let mut fields: Vec<String> = [
        "frame.number",
        "frame.encap_type",
        "tcp.stream",
        "tcp.seq",
        "tcp.ack",
        "tcp.len",
        "tcp.srcport",
        "tcp.dstport",
        "tcp.flags",
        "tcp.window_size",
        "tcp.analysis.duplicate_ack_num",
        "tcp.analysis.initial_rtt",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for f in FLAGS {
        fields.push(format!("tcp.analysis.{f}"));
    }
    let cfg = tempfile::tempdir().expect("temp dir");
    let mut cmd = Command::new("tshark");
    cmd.env("LC_ALL", "C")
        .env("TZ", "UTC")
        .env("WIRESHARK_CONFIG_DIR", cfg.path())
        .arg("-r")
        .arg(path)
        .args(["-T", "fields", "-E", "separator=/t", "-E", "occurrence=f"]);
    for f in &fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut rows = BTreeMap::new();
    let mut irtt_ns = BTreeMap::new();
    let mut number = 0u64;
    for line in text.lines() {
        let c: Vec<&str> = line.split('\t').collect();
        if c.len() < fields.len() || c[1].is_empty() {
            continue; // a Custom Block: not a packet record for netpeek
        }
        number += 1;
        if c[2].is_empty() {
            continue; // not TCP
        }
        let num = |i: usize| c[i].parse::<u64>().unwrap_or(0);
        let analysis: BTreeSet<String> = FLAGS
            .iter()
            .enumerate()
            .filter(|(i, _)| !c[12 + i].is_empty())
            .map(|(_, f)| f.to_string())
            .collect();
        let stream = num(2);
        if let Some(rtt) = parse_secs_ns(c[11]).filter(|_| !c[11].is_empty()) {
            irtt_ns.insert(stream, rtt);
        }
        let flags = u16::from_str_radix(c[8].trim_start_matches("0x"), 16).unwrap_or(0);
        rows.insert(
            number,
            Row {
                stream,
                seq: num(3) as u32,
                ack: num(4) as u32,
                len: num(5) as u32,
                sport: num(6) as u16,
                dport: num(7) as u16,
                flags: flags & 0x1ff,
                window: num(9) as u32,
                analysis,
                dup_ack: c[10].parse().ok(),
            },
        );
    }
    Tshark { rows, irtt_ns }
}

/// One difference: (frame, field, tshark's value, netpeek's value). Frame
/// 0 stands for a per-stream value (the iRTT), with the stream in `field`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub frame: u64,
    pub field: String,
    pub tshark: String,
    pub netpeek: String,
}

pub fn compare(ts: &Tshark, np: &Netpeek) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let frames: BTreeSet<u64> = ts.rows.keys().chain(np.rows.keys()).copied().collect();
    for f in frames {
        let (a, b) = match (ts.rows.get(&f), np.rows.get(&f)) {
            (Some(a), Some(b)) => (a, b),
            (a, b) => {
                out.push(Mismatch {
                    frame: f,
                    field: "tcp".into(),
                    tshark: format!("{}", a.is_some()),
                    netpeek: format!("{}", b.is_some()),
                });
                continue;
            }
        };
        let mut field = |name: &str, x: String, y: String| {
            if x != y {
                out.push(Mismatch {
                    frame: f,
                    field: name.into(),
                    tshark: x,
                    netpeek: y,
                });
            }
        };
        field("stream", a.stream.to_string(), b.stream.to_string());
        field("seq", a.seq.to_string(), b.seq.to_string());
        field("ack", a.ack.to_string(), b.ack.to_string());
        field("len", a.len.to_string(), b.len.to_string());
        field("srcport", a.sport.to_string(), b.sport.to_string());
        field("dstport", a.dport.to_string(), b.dport.to_string());
        field(
            "flags",
            format!("{:#x}", a.flags),
            format!("{:#x}", b.flags),
        );
        field("window_size", a.window.to_string(), b.window.to_string());
        field(
            "analysis",
            format!("{:?}", a.analysis),
            format!("{:?}", b.analysis),
        );
        field(
            "duplicate_ack_num",
            format!("{:?}", a.dup_ack),
            format!("{:?}", b.dup_ack),
        );
    }
    for c in &np.conns {
        let t = ts.irtt_ns.get(&c.stream).copied();
        // A reused 4-tuple after an idle expiry can give netpeek more
        // streams than tshark; those show up as frame mismatches already.
        if t != c.rtt_ns {
            out.push(Mismatch {
                frame: 0,
                field: format!("initial_rtt of stream {}", c.stream),
                tshark: format!("{t:?}"),
                netpeek: format!("{:?}", c.rtt_ns),
            });
        }
    }
    out
}
