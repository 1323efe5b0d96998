//! The stages end to end with dissectors registered at run time: a test
//! datagram dissector's records reach the outputs in capture order, beside
//! the packets that carried them, with HTTP's exchanges between them.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64};

use super::stages::{self, OutputStage, ReadStage};
use super::Outputs;
use crate::describe::annotate::Annotation;
use crate::dissect::http::{HttpDissector, HttpOptions};
use crate::dissect::testing::Tagger;
use crate::dissect::Registry;
use crate::event::{ConnRecord, Exchange, PacketEvent, Record};
use crate::output::progress::Progress;
use crate::output::sink::Sink;
use crate::source::file::FileSource;
use crate::source::PacketSource;
use crate::track::{Limits, Tracker};

/// Writes down what reaches it.
struct Log(Rc<RefCell<Vec<String>>>);

impl Sink for Log {
    fn packet(&mut self, p: &PacketEvent<'_, '_>, _: &[Annotation]) -> io::Result<()> {
        self.0
            .borrow_mut()
            .push(format!("packet {}", p.frame.number));
        Ok(())
    }
    fn connection(&mut self, c: &ConnRecord) -> io::Result<()> {
        self.0.borrow_mut().push(format!("connection {}", c.stream));
        Ok(())
    }
    fn http(&mut self, x: &Exchange) -> io::Result<()> {
        let req = x
            .request
            .as_ref()
            .map(|r| format!("{} {}", r.method, r.uri));
        let status = x.response.as_ref().map(|r| r.status);
        self.0.borrow_mut().push(format!(
            "http {} {}",
            req.unwrap_or_default(),
            status.unwrap_or(0)
        ));
        Ok(())
    }
    fn record(&mut self, r: &Record) -> io::Result<()> {
        if let Record::Test(t) = r {
            self.0.borrow_mut().push(format!("record {t}"));
        }
        Ok(())
    }
}

fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], l4: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&[0x08, 0x00]);
    let total = (20 + l4.len()) as u16;
    let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, proto, 0, 0];
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let sum: u32 = ip
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    let sum = !((sum & 0xffff) + (sum >> 16)) as u16;
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(l4);
    f
}

const A: [u8; 4] = [10, 0, 0, 1];
const B: [u8; 4] = [10, 0, 0, 2];

fn udp(payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&5353u16.to_be_bytes());
    u.extend_from_slice(&53u16.to_be_bytes());
    u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    ipv4(17, A, B, &u)
}

/// A TCP segment from the client (`to_server`) or the server.
fn tcp(to_server: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let (sp, dp, src, dst) = if to_server {
        (40000u16, 80u16, A, B)
    } else {
        (80, 40000, B, A)
    };
    let mut t = Vec::new();
    t.extend_from_slice(&sp.to_be_bytes());
    t.extend_from_slice(&dp.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend_from_slice(payload);
    ipv4(6, src, dst, &t)
}

fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut v = Vec::new();
    for w in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
        v.extend_from_slice(&w.to_le_bytes());
    }
    for (i, f) in frames.iter().enumerate() {
        let len = f.len() as u32;
        for w in [1_700_000_000u32, i as u32 * 1000, len, len] {
            v.extend_from_slice(&w.to_le_bytes());
        }
        v.extend_from_slice(f);
    }
    v
}

/// Runs the stages over `frames` with `registry`; what the sink saw.
fn run(frames: &[Vec<u8>], registry: Registry) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.pcap");
    std::fs::write(&path, pcap(frames)).unwrap();
    let mut source = FileSource::open(&path).unwrap();
    let map = source.share_map();
    let log = Rc::new(RefCell::new(Vec::new()));
    let mut outputs = Outputs {
        primary: Some(Box::new(Log(Rc::clone(&log)))),
        pcapng: None,
        har: None,
        stats: None,
    };
    let (interrupt, stop) = (AtomicBool::new(false), AtomicBool::new(false));
    let written = AtomicU64::new(0);
    let read = ReadStage {
        source: Box::new(source),
        map: map.clone(),
        filter: None,
        tracker: Tracker::new(Limits::default()),
        live: false,
        count: None,
        file_limit: None,
        want_packets: true,
        want_datagrams: registry.wants_datagrams(),
        progress: Progress::none(),
        interrupt: &interrupt,
        stop: &stop,
        written: &written,
    };
    let output = OutputStage {
        outputs: &mut outputs,
        map,
        want_annotations: false,
        explain: false,
        stop: &stop,
        written: &written,
    };
    let (end, wrote) = stages::run(read, registry, None, output);
    assert!(end.error.is_none() && wrote.is_ok());
    drop(outputs);
    Rc::try_unwrap(log).unwrap().into_inner()
}

fn capture() -> Vec<Vec<u8>> {
    let req = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let (c, s) = (1000u32, 5000u32);
    vec![
        udp(b"TAG first"),
        udp(b"not for the tagger"),
        udp(b"TAG second"),
        tcp(true, c, 0, 0x02, b""),
        tcp(false, s, c + 1, 0x12, b""),
        tcp(true, c + 1, s + 1, 0x10, b""),
        tcp(true, c + 1, s + 1, 0x18, req),
        tcp(false, s + 1, c + 1 + req.len() as u32, 0x18, resp),
        udp(b"TAG third"),
    ]
}

fn http() -> Box<HttpDissector> {
    Box::new(HttpDissector::new(HttpOptions::default()))
}

#[test]
fn datagram_records_reach_the_outputs_in_capture_order() {
    let registry = Registry::new(vec![http()], vec![Box::new(Tagger::default())]).with_fallback(0);
    let got = run(&capture(), registry);
    let tag = |f: u64, t: &str| format!("record tag f{f} 10.0.0.1:5353 > 10.0.0.2:53 {t}");
    let want = [
        "packet 1".to_string(),
        tag(1, "first"),
        "packet 2".into(),
        "packet 3".into(),
        tag(3, "second"),
        "packet 4".into(),
        "packet 5".into(),
        "packet 6".into(),
        "packet 7".into(),
        "packet 8".into(),
        "http GET /a 200".into(),
        "packet 9".into(),
        tag(9, "third"),
        "connection 0".into(),
        "record tag end (3 seen)".into(),
    ];
    assert_eq!(got, want);
}

#[test]
fn without_a_datagram_dissector_no_datagram_is_passed_on() {
    let registry = Registry::new(vec![http()], Vec::new()).with_fallback(0);
    assert!(!registry.wants_datagrams());
    let got = run(&capture(), registry);
    assert!(got.iter().all(|l| !l.starts_with("record")), "{got:?}");
    assert!(got.contains(&"http GET /a 200".to_string()));
    assert_eq!(got.iter().filter(|l| l.starts_with("packet")).count(), 9);
}
