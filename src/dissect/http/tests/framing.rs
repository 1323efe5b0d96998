//! Body framing special cases: 100-continue, Upgrade, CONNECT, chunked
//! gzip bodies decoded and kept.

use super::*;

#[test]
fn expect_100_continue_with_interim_response() {
    let mut s = Script::new(HttpOptions::default());
    s.send(
        C,
        b"PUT /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 6\r\n\r\n",
    );
    s.send(S, b"HTTP/1.1 100 Continue\r\n\r\n");
    s.send(C, b"abc");
    s.send(C, b"def");
    s.send(S, b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
    let xs = s.close();
    assert_eq!(summaries(&xs), vec!["PUT /up [1-4] => 201 0B [5-5]"]);
    let x = &xs[0];
    assert_eq!(x.interim.len(), 1);
    assert_eq!((x.interim[0].status, x.interim[0].first_frame), (100, 2));
    assert_eq!(x.ttfb_ns(), Some(1_000_000));
    assert_eq!(x.duration_ns(), Some(4_000_000));
    assert!(s
        .notes
        .iter()
        .any(|(f, n)| *f == 2 && n.to_string() == "← 100 Continue"));
}

#[test]
fn expect_100_continue_answered_with_a_final_status() {
    // The server refuses at once; the client skips the body and sends
    // its next request on the same connection.
    let xs = run(&[
        (
            C,
            b"POST /big HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n",
        ),
        (S, b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n"),
        (C, b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
        (S, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ]);
    assert_eq!(
        summaries(&xs),
        vec![
            "POST /big [1-1] => 417 0B [2-2]",
            "GET /next [3-3] => 200 2B [4-4]"
        ]
    );
    assert_eq!(
        texts(&xs[0].notes),
        vec!["request body not sent: the server answered 417 instead of 100 Continue"]
    );
    assert_eq!(
        xs[0].notes,
        vec![HttpAnomaly::RequestBodyNotSent { status: 417 }]
    );
    // Sending the body after all is fine too.
    let xs = run(&[
        (
            C,
            b"POST /big HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n",
        ),
        (S, b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"),
        (C, b"body"),
    ]);
    assert_eq!(summaries(&xs), vec!["POST /big [1-3] => 401 0B [2-2]"]);
    assert!(xs[0].notes.is_empty());
}

#[test]
fn upgrade_stops_parsing_and_says_so() {
    let mut s = Script::new(HttpOptions::default());
    s.send(
        C,
        b"GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    );
    // A frame the client sends before the 101 arrives is held, then
    // counted as tunnel data.
    s.send(C, b"\x81\x05hello");
    s.send(
        S,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi",
    );
    s.send(C, b"GET /not-http HTTP/1.1\r\n\r\n");
    let xs = s.close();
    assert_eq!(summaries(&xs), vec!["GET /chat [1-1] => 101 0B [3-3]"]);
    assert_eq!(
        texts(&xs[0].notes),
        vec!["101 Switching Protocols to websocket: HTTP parsing stopped on this connection"]
    );
    assert_eq!(
        xs[0].notes,
        vec![HttpAnomaly::ProtocolSwitched {
            to: Some("websocket".into())
        }]
    );
}

#[test]
fn connect_tunnel_and_refused_connect() {
    let xs = run(&[
        (
            C,
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        ),
        (S, b"HTTP/1.1 200 Connection established\r\n\r\n"),
        (C, b"\x16\x03\x01\x00\x05hello"),
        (S, b"\x16\x03\x03\x00\x02hi"),
    ]);
    assert_eq!(
        summaries(&xs),
        vec!["CONNECT example.com:443 [1-1] => 200 0B [2-2]"]
    );
    assert_eq!(
        texts(&xs[0].notes),
        vec!["CONNECT tunnel established: HTTP parsing stopped on this connection"]
    );
    assert_eq!(xs[0].notes, vec![HttpAnomaly::ConnectTunnel]);
    // A refused CONNECT keeps the connection HTTP, with the bytes the
    // client sent meanwhile parsed as the next request.
    let xs = run(&[
        (C, b"CONNECT example.com:443 HTTP/1.1\r\n\r\n"),
        (C, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        (
            S,
            b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n",
        ),
        (S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(
        summaries(&xs),
        vec![
            "CONNECT example.com:443 [1-1] => 407 0B [3-3]",
            "GET / [3-3] => 200 0B [4-4]",
        ]
    );
}

#[test]
fn gzip_chunked_body_decoded_and_kept() {
    use std::io::Write;
    let text = b"<html>hello hello hello hello</html>".repeat(40);
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&text).unwrap();
    let gz = e.finish().unwrap();
    let mut body = Vec::new();
    for c in gz.chunks(17) {
        body.extend_from_slice(format!("{:x};ext=1\r\n", c.len()).as_bytes());
        body.extend_from_slice(c);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\nX-Checksum: 42\r\n\r\n");
    let mut resp = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    resp.extend_from_slice(&body);
    let mut s = Script::new(HttpOptions {
        keep_body: true,
        body_limit: 12,
        ..HttpOptions::default()
    });
    s.send(C, b"GET / HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n");
    for part in resp.chunks(100) {
        s.send(S, part);
    }
    let xs = s.close();
    let r = xs[0].response.as_ref().unwrap();
    assert_eq!(r.msg.body_bytes, gz.len() as u64);
    assert_eq!(r.msg.body_wire_bytes, body.len() as u64);
    assert_eq!(r.msg.body_decoded_bytes, Some(text.len() as u64));
    assert_eq!(r.msg.content_encoding.as_deref(), Some("gzip"));
    assert_eq!(r.msg.transfer_encoding.as_deref(), Some("chunked"));
    assert_eq!(r.msg.trailers, vec![("X-Checksum", "42")]);
    let b = r.msg.body.as_ref().unwrap();
    assert_eq!(b.bytes, b"<html>hello ");
    assert!(b.decoded && b.truncated);
}
