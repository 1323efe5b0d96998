//! Every kind of event gets its words, with the real numbers: each test
//! plays a small conversation through the real decoder, tracker and
//! HTTP dissector and checks what the packets are said to mean.

use super::*;
use crate::decode::decode;
use crate::dissect::http::{HttpDissector, HttpOptions};
use crate::event::{Frame, LinkType};
use crate::track::{Limits, Tracker};

const C: [u8; 4] = [10, 0, 0, 1];
const S: [u8; 4] = [10, 0, 0, 2];
const CP: u16 = 40000;
const SP: u16 = 8000;
const CISN: u32 = 1000;
const SISN: u32 = 5000;

#[derive(Clone, Copy)]
struct P<'a> {
    from_client: bool,
    seq: u32,
    ack: u32,
    flags: &'a str,
    payload: &'a [u8],
    win: u16,
    ms: i64,
}

fn p<'a>(
    from_client: bool,
    seq: u32,
    ack: u32,
    flags: &'a str,
    payload: &'a [u8],
    ms: i64,
) -> P<'a> {
    P {
        from_client,
        seq,
        ack,
        flags,
        payload,
        win: 1000,
        ms,
    }
}

fn build(x: &P<'_>) -> Vec<u8> {
    let (src, dst, sp, dp) = if x.from_client {
        (C, S, CP, SP)
    } else {
        (S, C, SP, CP)
    };
    let mut t = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(src, dst, 64)
        .tcp(sp, dp, x.seq, x.win);
    if x.flags.contains('S') {
        t = t
            .syn()
            .options(&[
                etherparse::TcpOptionElement::MaximumSegmentSize(1460),
                etherparse::TcpOptionElement::WindowScale(0),
                etherparse::TcpOptionElement::SelectiveAcknowledgementPermitted,
            ])
            .unwrap();
    }
    if x.flags.contains('A') {
        t = t.ack(x.ack);
    }
    if x.flags.contains('F') {
        t = t.fin();
    }
    if x.flags.contains('R') {
        t = t.rst();
    }
    if x.flags.contains('P') {
        t = t.psh();
    }
    let mut v = Vec::new();
    t.write(&mut v, x.payload).unwrap();
    v
}

/// Plays the packets; returns each packet's annotations (explained).
/// Every packet is also annotated into one `Annotations` kept across
/// the conversation, as the output stage does: reused texts must say
/// exactly what fresh ones say.
fn play(pkts: &[P<'_>]) -> Vec<Vec<Annotation>> {
    let mut tracker = Tracker::new(Limits::default());
    let mut http = HttpDissector::new(HttpOptions::default());
    let mut all = Vec::new();
    let mut kept = Annotations::default();
    for (i, x) in pkts.iter().enumerate() {
        let data = build(x);
        let frame = Frame {
            number: i as u64 + 1,
            ts_ns: x.ms * 1_000_000,
            interface: 0,
            linktype: LinkType::ETHERNET,
            caplen: data.len() as u32,
            len: data.len() as u32,
            data: &data,
            comment: None,
            record_issue: None,
        };
        let (view, m) = decode(&frame).view(frame.data);
        let info = tracker.process(frame.number, frame.ts_ns, &m.unwrap(), &mut http);
        let notes = http.take_notes();
        let ev = PacketEvent {
            frame: &frame,
            view: &view,
            tcp: Some(&info),
            interface: None,
            interface_id: 0,
            http: &notes,
        };
        let mut out = Annotations::default();
        annotate(&ev, true, &mut out);
        annotate(&ev, true, &mut kept);
        assert_eq!(kept.list, out.list, "packet {}", i + 1);
        all.push(out.list);
    }
    all
}

fn texts(a: &[Annotation]) -> Vec<&str> {
    a.iter().map(|n| n.text.as_str()).collect()
}

fn why(a: &[Annotation]) -> String {
    a.iter()
        .filter_map(|n| n.explain.clone())
        .collect::<Vec<_>>()
        .join(" ")
}

fn handshake() -> Vec<P<'static>> {
    vec![
        p(true, CISN, 0, "S", b"", 0),
        p(false, SISN, CISN + 1, "SA", b"", 10),
        p(true, CISN + 1, SISN + 1, "A", b"", 20),
    ]
}

#[test]
fn handshake_in_words_and_numbers() {
    let a = play(&handshake());
    assert_eq!(
        texts(&a[0]),
        ["handshake 1/3 (SYN): ISN 1000, MSS 1460, window scale 0, SACK"]
    );
    assert_eq!(
        why(&a[0]),
        "The client asks to open a connection: it picks its initial sequence number (ISN) 1000 \
         and offers MSS 1460, window scale 0, SACK."
    );
    assert_eq!(
        texts(&a[1]),
        ["handshake 2/3 (SYN-ACK): ISN 5000, ack 1001"]
    );
    assert_eq!(
        why(&a[1]),
        "The server accepts: it acknowledges the client's ISN 1000 by sending ack = 1001, and \
         picks its own ISN 5000."
    );
    assert_eq!(
        texts(&a[2]),
        ["handshake 3/3 (ACK): established in 20.0 ms"]
    );
    assert_eq!(
        why(&a[2]),
        "The client acknowledges the server's ISN 5000 with ack = 5001: the connection is \
         established. The handshake took 20.0 ms, from the SYN to this ACK."
    );
    assert_eq!(a[0][0].tone, Tone::Handshake);
}

#[test]
fn teardown_in_words() {
    let mut v = handshake();
    v.push(p(true, CISN + 1, SISN + 1, "FA", b"", 30));
    v.push(p(false, SISN + 1, CISN + 2, "FA", b"", 31));
    v.push(p(true, CISN + 2, SISN + 2, "A", b"", 32));
    let a = play(&v);
    assert_eq!(texts(&a[3]), ["teardown: client closes (FIN)"]);
    assert!(
        why(&a[3]).contains("closes its direction (FIN at seq 1)"),
        "{}",
        why(&a[3])
    );
    assert_eq!(texts(&a[4]), ["teardown: server closes too (FIN)"]);
    assert!(
        why(&a[4]).contains("(FIN at seq 1), acknowledging everything the client sent (ack = 2)")
    );
    assert_eq!(
        texts(&a[5]),
        ["teardown: client acks the server's FIN, connection closed"]
    );
    assert_eq!(
        why(&a[5]),
        "The client acknowledges the server's FIN (ack = 2): both directions are closed, the \
         connection is over."
    );
}

#[test]
fn refusal_and_reset() {
    let a = play(&[
        p(true, CISN, 0, "S", b"", 0),
        p(false, 0, CISN + 1, "RA", b"", 1),
    ]);
    assert_eq!(texts(&a[1]), ["connection refused (RST)"]);
    assert!(why(&a[1]).contains("nothing accepts connections on port 8000"));
    assert_eq!(a[1][0].tone, Tone::Reset);
    let mut v = handshake();
    v.push(p(false, SISN + 1, CISN + 1, "RA", b"", 40));
    let a = play(&v);
    assert_eq!(texts(&a[3]), ["reset by server (RST)"]);
}

#[test]
fn retransmission_names_the_original_and_the_delay() {
    let mut v = handshake();
    v.push(p(true, CISN + 1, SISN + 1, "PA", b"hello", 30));
    v.push(p(true, CISN + 1, SISN + 1, "PA", b"hello", 230));
    let a = play(&v);
    assert_eq!(texts(&a[4]), ["retransmission of frame 4 (+200.0 ms)"]);
    assert!(
        why(&a[4]).starts_with(
            "The client sends bytes 1:6 again, 200.0 ms after the original in frame 4"
        ),
        "{}",
        why(&a[4])
    );
    assert_eq!(a[4][0].tone, Tone::Error);
}

#[test]
fn loss_duplicate_acks_and_fast_retransmission() {
    let d = [b'x'; 100];
    let mut v = handshake();
    v.push(p(true, CISN + 1, SISN + 1, "A", &d, 30));
    v.push(p(true, CISN + 201, SISN + 1, "A", &d, 31)); // 101..201 lost
    v.push(p(false, SISN + 1, CISN + 101, "A", b"", 40));
    v.push(p(false, SISN + 1, CISN + 101, "A", b"", 41));
    v.push(p(false, SISN + 1, CISN + 101, "A", b"", 42));
    v.push(p(false, SISN + 1, CISN + 101, "A", b"", 43));
    v.push(p(true, CISN + 101, SISN + 1, "A", &d, 44));
    let a = play(&v);
    assert_eq!(texts(&a[4]), ["previous segment not captured"]);
    assert!(
        why(&a[4]).contains("bytes 101:201 from the client were never seen"),
        "{}",
        why(&a[4])
    );
    assert_eq!(texts(&a[6]), ["dup ACK #1 of frame 6"]);
    assert!(why(&a[6]).starts_with(
        "Duplicate ACK #1: the server again acknowledges only up to byte 101 (as in frame 6)."
    ));
    assert_eq!(texts(&a[8]), ["dup ACK #3 of frame 6"]);
    assert_eq!(texts(&a[9])[0], "fast retransmission");
    assert!(why(&a[9]).starts_with(
        "The client resends bytes 101:201 right after duplicate ACKs from the server"
    ));
}

#[test]
fn out_of_order_and_acked_unseen() {
    let d = [b'y'; 50];
    let mut v = handshake();
    v.push(p(true, CISN + 51, SISN + 1, "A", &d, 30));
    v.push(p(true, CISN + 1, SISN + 1, "A", &d, 31));
    let a = play(&v);
    assert_eq!(texts(&a[4]), ["out of order"]);
    assert!(why(&a[4]).contains("(bytes 1:51) arrives after segments that follow it"));
    let mut v = handshake();
    v.push(p(false, SISN + 1, CISN + 1, "A", &d, 30));
    v.push(p(true, CISN + 1, SISN + 301, "A", b"", 31));
    let a = play(&v);
    assert_eq!(texts(&a[4]), ["ACKed segment not captured"]);
    assert!(why(&a[4]).contains("data up to byte 301 that the capture never saw"));
}

#[test]
fn windows_in_words() {
    let mut v = handshake();
    let mut zero = p(false, SISN + 1, CISN + 1, "A", b"", 30);
    zero.win = 0;
    v.push(zero);
    v.push(p(true, CISN + 1, SISN + 1, "A", b"z", 31));
    let mut upd = p(false, SISN + 1, CISN + 1, "A", b"", 32);
    upd.win = 4000;
    v.push(upd);
    let a = play(&v);
    assert_eq!(texts(&a[3]), ["zero window"]);
    assert!(why(&a[3]).contains("advertises a window of 0 bytes"));
    assert_eq!(texts(&a[4]), ["zero window probe"]);
    assert_eq!(texts(&a[5]), ["window update 0 → 4000"]);
    assert!(
        why(&a[5]).contains("only a new window of 4000 bytes (was 0)"),
        "{}",
        why(&a[5])
    );
}

#[test]
fn keep_alive_and_answer() {
    let mut v = handshake();
    v.push(p(true, CISN, SISN + 1, "A", b"", 30));
    v.push(p(false, SISN + 1, CISN + 1, "A", b"", 31));
    let a = play(&v);
    assert_eq!(texts(&a[3]), ["keep-alive"]);
    assert_eq!(texts(&a[4]), ["keep-alive ACK"]);
    assert_eq!(a[3][0].tone, Tone::Note);
}

#[test]
fn http_messages_in_words() {
    let req = b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n";
    let resp = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello";
    let mut v = handshake();
    v.push(p(true, CISN + 1, SISN + 1, "PA", req, 30));
    v.push(p(
        false,
        SISN + 1,
        CISN + 1 + req.len() as u32,
        "PA",
        resp,
        32,
    ));
    let a = play(&v);
    assert_eq!(
        texts(&a[3]),
        ["→ GET /index.html HTTP/1.1  Host: 127.0.0.1:8000"]
    );
    assert_eq!(
        why(&a[3]),
        "The client sends an HTTP GET request for /index.html to 127.0.0.1:8000."
    );
    assert_eq!(
        texts(&a[4]),
        ["← 200 OK  text/html  5 B  ttfb 2.0 ms  total 2.0 ms"]
    );
    assert_eq!(
        why(&a[4]),
        "The server answers 200 OK with 5 B of text/html. Its first byte came 2.0 ms after the \
         request's last (time to first byte); the whole exchange took 2.0 ms."
    );
    assert_eq!(a[4][0].tone, Tone::Response(200));
}
