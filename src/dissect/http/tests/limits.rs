//! Hostile input: huge lengths, endless heads, floods of header fields
//! and of unanswered requests stay within the limits, with notes.

use super::*;

#[test]
fn huge_lengths_are_counted_not_buffered() {
    let mut s = Script::new(HttpOptions::default());
    s.send(C, b"GET / HTTP/1.1\r\n\r\n");
    s.send(
        S,
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000000\r\n\r\n",
    );
    s.send(S, &[0u8; 1000]);
    let xs = s.close();
    assert_eq!(
        texts(&xs[0].notes),
        vec!["response truncated: 1000 of 1000000000000000000 body bytes"]
    );
    let mut s = Script::new(HttpOptions::default());
    s.send(C, b"GET / HTTP/1.1\r\n\r\n");
    s.send(
        S,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8000000000000000\r\nabc",
    );
    s.send(C, b"GET /2 HTTP/1.1\r\n\r\n");
    let xs = s.close();
    assert_eq!(
        texts(&xs[0].notes),
        vec!["response truncated: body ended after 3 bytes"]
    );
    assert_eq!(texts(&xs[1].notes), vec!["request without response"]);
    assert_eq!(
        xs[1].notes,
        vec![HttpAnomaly::RequestWithoutResponse { switched: false }]
    );
    let mut s = Script::new(HttpOptions::default());
    s.send(C, b"GET / HTTP/1.1\r\n\r\n");
    s.send(
        S,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
    );
    let xs = s.close();
    assert_eq!(
        texts(&xs[0].notes),
        vec![
            "response body framing broken: chunk size too large",
            "response truncated: body ended after 0 bytes"
        ]
    );
    assert_eq!(
        xs[0].notes,
        vec![
            HttpAnomaly::BodyFramingBroken {
                side: Kind::Response,
                error: FramingError::ChunkSizeTooLarge
            },
            HttpAnomaly::Truncated {
                side: Kind::Response,
                body_bytes: 0,
                expected: None
            }
        ]
    );
}

#[test]
fn endless_head_and_header_floods_are_notices() {
    let mut s = Script::new(HttpOptions::default());
    s.send(C, b"GET / HTTP/1.1\r\n");
    let line = b"X-Flood: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    for _ in 0..100_000 / 10 {
        s.send(C, &line.repeat(10));
    }
    s.send(
        S,
        b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\r\n",
    );
    let xs = s.close();
    assert_eq!(summaries(&xs), vec!["- => 431 0B [10002-10002]"]);
    assert_eq!(
        texts(&xs[0].notes),
        vec![
            "request head longer than 65536 bytes (the limit): skipped, looking for the next message",
            "response without a request (the client sent 5000016 bytes that are not HTTP: `GET / HTTP/1.1\\r`)"
        ]
    );
    assert_eq!(
        xs[0].notes[0],
        HttpAnomaly::HeadTooLarge {
            side: Kind::Request,
            bytes: 65536
        }
    );
    // The dissector holds no more than the head limit for it.
    let mut s = Script::new(HttpOptions::default());
    s.send(C, b"GET / HTTP/1.1\r\n");
    for _ in 0..1000 {
        s.send(C, &line.repeat(100));
    }
    let side = &s.d.conns.get(&0).unwrap().sides[0];
    assert!(side.head.len() + side.carry.len() <= 64 * 1024);
}

#[test]
fn unanswered_requests_are_bounded_in_number_and_bytes() {
    let mut s = Script::new(HttpOptions {
        max_pending: 50,
        ..HttpOptions::default()
    });
    for i in 0..120 {
        s.send(
            C,
            format!("GET /{i} HTTP/1.1\r\nHost: h\r\n\r\n").as_bytes(),
        );
    }
    assert_eq!(s.out.len(), 70, "the oldest are emitted beyond 50");
    assert_eq!(
        texts(&s.out[0].notes),
        vec!["more than 50 requests awaiting a response: stopped waiting for this one"]
    );
    let mut s = Script::new(HttpOptions {
        max_pending_bytes: 8 * 1024,
        ..HttpOptions::default()
    });
    let big = "x".repeat(1000);
    for i in 0..100 {
        s.send(
            C,
            format!("GET /{i} HTTP/1.1\r\nX-Big: {big}\r\n\r\n").as_bytes(),
        );
        assert!(s.d.pending_bytes() <= 8 * 1024, "{}", s.d.pending_bytes());
    }
    assert!(s.out.len() >= 90);
    assert_eq!(
        s.out[0].notes[0],
        HttpAnomaly::PendingBytesLimit { limit: 8192 }
    );
    assert!(s.out[0].notes[0]
        .to_string()
        .starts_with("unanswered HTTP requests hold more than 8192 bytes"));
    // The budget is released when connections close.
    let xs = s.close();
    assert_eq!(xs.len(), 100);
    assert_eq!(s.d.pending_bytes(), 0);
    assert_eq!(s.d.connections(), 0);
}

#[test]
fn hundred_thousand_headers_within_the_head_limit_are_capped() {
    let mut s = Script::new(HttpOptions {
        head: HeadLimits {
            max_bytes: 1 << 20,
            max_headers: 100,
            ..HeadLimits::default()
        },
        ..HttpOptions::default()
    });
    let mut req = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..100_000u32 {
        req.extend_from_slice(format!("a{}:\r\n", i % 10).as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    s.send(C, &req);
    let xs = s.close();
    assert_eq!(xs[0].request.as_ref().unwrap().msg.headers.len(), 100);
    assert_eq!(
        texts(&xs[0].notes),
        vec![
            "100000 header fields, more than the limit of 100: kept the first 100",
            "request without response"
        ]
    );
}
