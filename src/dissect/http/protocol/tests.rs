//! HTTP/1.x through the registry: its probe, the same calls and results
//! as when it is driven directly (whatever the connection looks like),
//! and the same records when its bytes come stacked in another protocol.

use std::collections::BTreeMap;

use super::super::{HttpDissector, HttpOptions};
use super::*;
use crate::dissect::testing::{ctx, frame_units, Framed};
use crate::dissect::Registry;
use crate::event::{Exchange, HttpNote};
use Direction::{ToClient as TO_C, ToServer as TO_S};

fn probe(bytes: &[u8]) -> Probe {
    HttpDissector::new(HttpOptions::default()).probe(&ctx(0, 1), TO_S, bytes)
}

#[test]
fn the_probe_is_the_first_line_test() {
    assert_eq!(probe(b"GET / HTTP/1.1\r\nHost: a\r\n"), Probe::Match);
    assert_eq!(probe(b"HTTP/1.1 200 OK\r\n"), Probe::Match);
    assert_eq!(probe(b"\r\n\r\nPOST /x HTTP/1.0\r\n"), Probe::Match);
    assert_eq!(probe(b""), Probe::NeedMore);
    assert_eq!(probe(b"\r\n"), Probe::NeedMore);
    assert_eq!(probe(b"GE"), Probe::NeedMore);
    assert_eq!(probe(b"GET /index.ht"), Probe::NeedMore);
    assert_eq!(probe(b"HTT"), Probe::NeedMore);
    assert_eq!(probe(b"\x16\x03\x01\x02\x00"), Probe::NoMatch);
    assert_eq!(probe(b"SSH-2.0-OpenSSH_9.2\r\n"), Probe::NoMatch);
    assert_eq!(probe(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Probe::NoMatch);
    // A first line as long as a head may be: HTTP's (too large) either way.
    let small = HttpOptions {
        head: super::super::head::HeadLimits {
            max_bytes: 20,
            ..Default::default()
        },
        ..Default::default()
    };
    let d = HttpDissector::new(small);
    let long = [b"GET /".as_slice(), &[b'a'; 30]].concat();
    assert_eq!(d.probe(&ctx(0, 1), TO_S, &long[..19]), Probe::NeedMore);
    assert_eq!(d.probe(&ctx(0, 1), TO_S, &long), Probe::Match);
}

/// One tracker call.
#[derive(Clone)]
enum Call {
    Data(Direction, Vec<u8>),
    Gap(Direction, u64),
    End(Direction),
    Close,
}

use Call::{Close, Data, End, Gap};

fn data(dir: Direction, b: &[u8]) -> Call {
    Data(dir, b.to_vec())
}

/// What came out after each call (frame = index + 1).
type Trace = Vec<(Vec<HttpNote>, Vec<Exchange>)>;

/// HTTP/1.x driven directly, as the dissect stage did before the registry.
fn direct(opts: HttpOptions, calls: &[Call]) -> Trace {
    let mut d = HttpDissector::new(opts);
    let mut trace = Vec::new();
    for (i, c) in calls.iter().enumerate() {
        let cx = ctx(3, i as u64 + 1);
        match c {
            Data(dir, b) => d.data(&cx, *dir, b),
            Gap(dir, n) => d.gap(&cx, *dir, *n),
            End(dir) => d.end(&cx, *dir),
            Close => d.closed(&cx),
        }
        let mut notes = Vec::new();
        d.move_notes(&mut notes);
        trace.push((notes, d.drain_exchanges().map(|x| *x).collect()));
    }
    trace
}

/// HTTP/1.x alone in a registry, as the pipeline registers it.
fn registered(opts: HttpOptions, calls: &[Call]) -> Trace {
    let mut reg =
        Registry::new(vec![Box::new(HttpDissector::new(opts))], Vec::new()).with_fallback(0);
    let mut trace = Vec::new();
    for (i, c) in calls.iter().enumerate() {
        let cx = ctx(3, i as u64 + 1);
        let (mut notes, mut records) = (Vec::new(), Vec::new());
        let mut out = Out::new(&mut notes, &mut records);
        match c {
            Data(dir, b) => reg.data(&cx, *dir, b, &mut out),
            Gap(dir, n) => reg.gap(&cx, *dir, *n, &mut out),
            End(dir) => reg.end(&cx, *dir, &mut out),
            Close => reg.closed(&cx, &mut out),
        }
        trace.push((notes, records.into_iter().map(http).collect()));
    }
    assert_eq!(reg.routes(), 0, "the close removes the route");
    trace
}

fn http(r: Record) -> Exchange {
    match r {
        Record::Http(x) => *x,
        other => panic!("not HTTP: {other:?}"),
    }
}

fn same_either_way(opts: HttpOptions, calls: &[Call]) {
    let want = direct(opts, calls);
    assert_eq!(registered(opts, calls), want);
}

const REQ: &[u8] = b"GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n";
const RESP: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

#[test]
fn registered_http_behaves_as_before_on_every_kind_of_connection() {
    let o = HttpOptions::default();
    // Plain keep-alive, an unanswered request at the close.
    same_either_way(
        o,
        &[
            data(TO_S, REQ),
            data(TO_C, RESP),
            data(TO_S, REQ),
            End(TO_S),
            Close,
        ],
    );
    // A first line in pieces: held while the probe needs more.
    same_either_way(
        o,
        &[
            data(TO_S, b"GE"),
            data(TO_S, b"T /a HT"),
            data(TO_C, b"HTT"),
            data(TO_S, &REQ[9..]),
            data(TO_C, &RESP[3..]),
            Close,
        ],
    );
    // Joined mid-stream: the end of a body first, then messages.
    same_either_way(
        o,
        &[
            data(TO_C, b"lo world</html>\r\n"),
            data(TO_S, REQ),
            data(TO_C, RESP),
            Close,
        ],
    );
    // Server speaks first with something else; HTTP turns up later.
    same_either_way(
        o,
        &[
            data(TO_C, b"220 smtp.example.com ESMTP\r\n"),
            data(TO_S, b"EHLO me\r\n"),
            data(TO_S, REQ),
            data(TO_C, RESP),
            Close,
        ],
    );
    // Gaps: first of all, inside a head, before a response.
    same_either_way(
        o,
        &[
            Gap(TO_S, 40),
            data(TO_S, REQ),
            data(TO_C, &RESP[..10]),
            Gap(TO_C, 30),
            data(TO_S, &REQ[..12]),
            Gap(TO_S, 4),
            data(TO_S, REQ),
            data(TO_C, RESP),
            End(TO_C),
            Close,
        ],
    );
    // Not HTTP at all (TLS), both directions, until the close.
    same_either_way(
        o,
        &[
            data(TO_S, b"\x16\x03\x01\x00\xf4\x01\x00\x00\xf0\x03\x03"),
            data(TO_C, b"\x16\x03\x03\x00\x7a\x02\x00\x00\x76"),
            data(TO_S, &[0x17; 3000]),
            End(TO_S),
            End(TO_C),
            Close,
        ],
    );
    // A head too large while the first line is still open.
    let small = HttpOptions {
        head: super::super::head::HeadLimits {
            max_bytes: 20,
            ..Default::default()
        },
        ..o
    };
    same_either_way(
        small,
        &[
            data(TO_S, b"GET /"),
            data(TO_S, &[b'a'; 10]),
            data(TO_S, &[b'a'; 10]),
            data(TO_S, b" HTTP/1.1\r\n\r\n"),
            data(TO_S, REQ),
            data(TO_C, RESP),
            Close,
        ],
    );
    // A first line that stays open past the registry's hold (16 KiB):
    // handed to HTTP (the fallback) at the call that would pass it.
    let mut long = vec![data(TO_S, b"GET /")];
    long.extend((0..20).map(|_| data(TO_S, &[b'a'; 1000])));
    long.extend([data(TO_S, b" HTTP/1.1\r\n\r\n"), data(TO_C, RESP), Close]);
    same_either_way(o, &long);
    // Ends before anything was carried, then data on the other side.
    same_either_way(o, &[End(TO_S), data(TO_C, RESP), Close]);
}

/// One direction's chunk of HTTP bytes, at a frame.
struct Chunk {
    frame: u64,
    dir: Direction,
    bytes: &'static [u8],
}

/// Feeds `calls` to a registry; what came out, keyed by frame.
fn outputs(
    reg: &mut Registry,
    calls: &[(u64, Call)],
) -> BTreeMap<u64, (Vec<HttpNote>, Vec<Exchange>)> {
    let mut by_frame = BTreeMap::new();
    for (frame, c) in calls {
        let cx = ctx(5, *frame);
        let (mut notes, mut records) = (Vec::new(), Vec::new());
        let mut out = Out::new(&mut notes, &mut records);
        match c {
            Data(dir, b) => reg.data(&cx, *dir, b, &mut out),
            Gap(dir, n) => reg.gap(&cx, *dir, *n, &mut out),
            End(dir) => reg.end(&cx, *dir, &mut out),
            Close => reg.closed(&cx, &mut out),
        }
        if !notes.is_empty() || !records.is_empty() {
            let e: &mut (Vec<_>, Vec<_>) = by_frame.entry(*frame).or_default();
            e.0.extend(notes);
            e.1.extend(records.into_iter().map(http));
        }
    }
    by_frame
}

#[test]
fn http_stacked_in_a_framing_gives_the_records_of_plain_http() {
    // Plain frames are even; in the framed stream each unit starts in the
    // odd frame before and ends in the plain chunk's frame.
    let chunks = [
        Chunk { frame: 2, dir: TO_S, bytes: b"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nab" },
        Chunk { frame: 4, dir: TO_S, bytes: b"cdef" },
        Chunk { frame: 6, dir: TO_C, bytes: b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n" },
        Chunk { frame: 8, dir: TO_C, bytes: b"Content-Length: 3\r\nContent-Type: text/plain\r\n\r\nok\n" },
        Chunk { frame: 10, dir: TO_S, bytes: REQ },
        Chunk { frame: 12, dir: TO_C, bytes: b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nnone\r\n0\r\n\r\n" },
        Chunk { frame: 14, dir: TO_S, bytes: b"GET /never HTTP/1.1\r\nAuthorization: Basic c2VjcmV0\r\n\r\n" },
    ];
    let mut plain = Vec::new();
    let mut framed = Vec::new();
    let mut magic_sent = [false; 2];
    for c in &chunks {
        plain.push((c.frame, data(c.dir, c.bytes)));
        let mut unit = frame_units(&[c.bytes]);
        if std::mem::replace(&mut magic_sent[c.dir.index()], true) {
            unit.drain(..4);
        }
        let cut = unit.len() - 3;
        framed.push((c.frame - 1, data(c.dir, &unit[..cut])));
        framed.push((c.frame, data(c.dir, &unit[cut..])));
    }
    for tail in [(15, End(TO_C)), (16, End(TO_S)), (17, Close)] {
        plain.push(tail.clone());
        framed.push(tail);
    }
    let http = || Box::new(HttpDissector::new(HttpOptions::default()));
    let mut alone = Registry::new(vec![http()], Vec::new()).with_fallback(0);
    let mut stacked = Registry::new(vec![Framed::boxed(None), http()], Vec::new());
    let want = outputs(&mut alone, &plain);
    let got = outputs(&mut stacked, &framed);
    // Methods, URIs, statuses, frames, times, latencies, notes: all equal.
    assert_eq!(got, want);
    let exchanges: Vec<_> = want.values().flat_map(|(_, x)| x).collect();
    assert_eq!(exchanges.len(), 3);
    let first = exchanges[0];
    assert_eq!(first.request.as_ref().unwrap().method, "POST");
    assert_eq!(first.request.as_ref().unwrap().msg.last_frame, 4);
    assert_eq!(first.response.as_ref().unwrap().status, 201);
    assert_eq!(first.interim.len(), 1);
    assert_eq!(first.ttfb_ns(), Some(2_000_000));
    assert_eq!(exchanges[1].response.as_ref().unwrap().status, 404);
    assert!(exchanges[2].response.is_none());
    assert!(want.values().any(|(n, _)| !n.is_empty()));
}

#[test]
fn the_hint_names_http_for_an_inner_stream() {
    // The inner stream starts with a line HTTP's probe rejects; HTTP finds
    // the request after it once it has the stream.
    let inner = [b"hello\r\n".as_slice(), REQ].concat();
    let calls = [
        (1, data(TO_S, &frame_units(&[&inner]))),
        (2, data(TO_C, &frame_units(&[RESP]))),
        (3, Close),
    ];
    let run = |hint| {
        let mut reg = Registry::new(
            vec![
                Framed::boxed(hint),
                Box::new(HttpDissector::new(HttpOptions::default())),
            ],
            Vec::new(),
        );
        let got = outputs(&mut reg, &calls);
        got.into_values().flat_map(|(_, x)| x).collect::<Vec<_>>()
    };
    let named = run(Some("http/1.1"));
    assert_eq!(named.len(), 1);
    assert_eq!(named[0].request.as_ref().unwrap().uri.as_ref(), "/a");
    assert_eq!(named[0].response.as_ref().unwrap().status, 200);
    // Unnamed, the probe says no and no one takes the inner stream.
    assert!(run(None).is_empty());
}
