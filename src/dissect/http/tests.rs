//! Tests of the HTTP state machine, driven like the tracker drives it:
//! each call is one frame delivering bytes of one direction.

use super::*;
use crate::event::{Direction, Endpoint};
use crate::track::{StreamConsumer, StreamCtx};
use Direction::{ToClient as S, ToServer as C};

/// The notes' sentences, as the outputs write them.
fn texts(notes: &[HttpAnomaly]) -> Vec<String> {
    notes.iter().map(ToString::to_string).collect()
}

/// Drives a dissector through one connection, one frame per call; frame
/// N happens at N milliseconds.
pub(crate) struct Script {
    pub d: HttpDissector,
    pub frame: u64,
    pub stream: u64,
    pub out: Vec<Exchange>,
    pub notes: Vec<(u64, HttpNote)>,
}

pub(crate) fn ep(port: u16) -> Endpoint {
    Endpoint {
        ip: "127.0.0.1".parse().unwrap(),
        port,
    }
}

impl Script {
    pub fn new(opts: HttpOptions) -> Self {
        Self {
            d: HttpDissector::new(opts),
            frame: 0,
            stream: 0,
            out: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn ctx(&self) -> StreamCtx {
        StreamCtx {
            stream: self.stream,
            frame: self.frame,
            ts_ns: self.frame as i64 * 1_000_000,
            client: ep(40000),
            server: ep(80),
        }
    }

    fn collect(&mut self) {
        self.out.extend(self.d.drain_exchanges().map(|x| *x));
        let f = self.frame;
        self.notes
            .extend(self.d.take_notes().into_iter().map(|n| (f, n)));
    }

    pub fn send(&mut self, dir: Direction, bytes: &[u8]) -> &mut Self {
        self.frame += 1;
        let ctx = self.ctx();
        self.d.data(&ctx, dir, bytes);
        self.collect();
        self
    }

    pub fn gap(&mut self, dir: Direction, n: u64) -> &mut Self {
        self.frame += 1;
        let ctx = self.ctx();
        self.d.gap(&ctx, dir, n);
        self.collect();
        self
    }

    pub fn fin(&mut self, dir: Direction) -> &mut Self {
        self.frame += 1;
        let ctx = self.ctx();
        self.d.end(&ctx, dir);
        self.collect();
        self
    }

    pub fn close(&mut self) -> Vec<Exchange> {
        let ctx = self.ctx();
        self.d.closed(&ctx);
        self.collect();
        std::mem::take(&mut self.out)
    }
}

fn run(steps: &[(Direction, &[u8])]) -> Vec<Exchange> {
    let mut s = Script::new(HttpOptions::default());
    for (d, b) in steps {
        s.send(*d, b);
    }
    s.close()
}

fn summary(x: &Exchange) -> String {
    let req = x
        .request
        .as_ref()
        .map(|r| {
            format!(
                "{} {} [{}-{}]",
                r.method, r.uri, r.msg.first_frame, r.msg.last_frame
            )
        })
        .unwrap_or_else(|| "-".into());
    let resp = x
        .response
        .as_ref()
        .map(|r| {
            format!(
                "{} {}B [{}-{}]",
                r.status, r.msg.body_bytes, r.msg.first_frame, r.msg.last_frame
            )
        })
        .unwrap_or_else(|| "-".into());
    format!("{req} => {resp}")
}

fn summaries(xs: &[Exchange]) -> Vec<String> {
    xs.iter().map(summary).collect()
}

// ---- Basic exchanges -------------------------------------------------

#[test]
fn one_get_with_content_length() {
    let mut s = Script::new(HttpOptions::default());
    s.send(
        C,
        b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: t\r\n\r\n",
    );
    s.send(
        S,
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 10\r\n\r\n0123",
    );
    assert!(s.out.is_empty(), "not finished yet");
    s.send(S, b"456789");
    assert_eq!(s.out.len(), 1, "emitted when complete, before the close");
    let xs = s.close();
    assert_eq!(xs.len(), 1);
    let x = &xs[0];
    let req = x.request.as_ref().unwrap();
    let resp = x.response.as_ref().unwrap();
    assert_eq!((&*req.method, &*req.uri), ("GET", "/index.html"));
    assert_eq!(req.msg.version, "HTTP/1.1");
    assert_eq!(req.host.as_deref(), Some("127.0.0.1:8000"));
    assert_eq!((req.msg.first_frame, req.msg.last_frame), (1, 1));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.reason, "OK");
    assert_eq!(resp.msg.content_type.as_deref(), Some("text/html"));
    assert_eq!((resp.msg.first_frame, resp.msg.last_frame), (2, 3));
    assert_eq!(resp.msg.body_bytes, 10);
    assert_eq!(resp.msg.body_wire_bytes, 10);
    assert!(resp.msg.complete && req.msg.complete);
    assert_eq!(x.ttfb_ns(), Some(1_000_000));
    assert_eq!(x.duration_ns(), Some(2_000_000));
    assert!(x.notes.is_empty(), "{:?}", x.notes);
    // Timeline: the request at frame 1, the response at its last frame.
    let texts: Vec<(u64, String)> = s.notes.iter().map(|(f, n)| (*f, n.to_string())).collect();
    assert_eq!(
        texts,
        vec![
            (
                1,
                "→ GET /index.html HTTP/1.1  Host: 127.0.0.1:8000".to_string()
            ),
            (
                3,
                "← 200 OK  text/html  10 B  ttfb 1.0 ms  total 2.0 ms".to_string()
            ),
        ]
    );
}

#[test]
fn keep_alive_several_exchanges() {
    let xs = run(&[
        (C, b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n"),
        (S, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"),
        (C, b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n"),
        (S, b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno"),
        (C, b"GET /c HTTP/1.1\r\nHost: h\r\n\r\n"),
        (
            S,
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
        ),
    ]);
    assert_eq!(
        summaries(&xs),
        vec![
            "GET /a [1-1] => 200 1B [2-2]",
            "GET /b [3-3] => 404 2B [4-4]",
            "GET /c [5-5] => 304 0B [6-6]",
        ]
    );
}

#[test]
fn pipelined_requests_pair_in_order() {
    let xs = run(&[
        (
            C,
            b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nHEAD /3 HTTP/1.1\r\nHost: h\r\n\r\n",
        ),
        (
            S,
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none",
        ),
        (
            S,
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n",
        ),
    ]);
    assert_eq!(
        summaries(&xs),
        vec![
            "GET /1 [1-1] => 200 3B [2-2]",
            "GET /2 [1-1] => 201 3B [3-3]",
            "HEAD /3 [1-1] => 200 0B [3-3]",
        ]
    );
    assert!(xs.iter().all(|x| x.notes.is_empty()), "{:?}", xs);
}

#[test]
fn request_split_into_single_bytes() {
    let req = b"POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
    let mut s = Script::new(HttpOptions::default());
    for b in req.iter() {
        s.send(C, std::slice::from_ref(b));
    }
    s.send(S, b"HTTP/1.0 200 OK\r\n\r\nclose-delimited");
    s.fin(S);
    let xs = s.close();
    assert_eq!(xs.len(), 1);
    let x = &xs[0];
    let r = x.request.as_ref().unwrap();
    assert_eq!((r.msg.first_frame, r.msg.last_frame), (1, req.len() as u64));
    assert_eq!(r.msg.body_bytes, 5);
    let resp = x.response.as_ref().unwrap();
    assert_eq!(resp.msg.body_bytes, 15);
    assert!(resp.msg.complete, "a close-delimited body ends at FIN");
    // The FIN delimits the message: its frame ends it (as in tshark).
    assert_eq!(resp.msg.last_frame, req.len() as u64 + 2);
    // The request note appears where its head was complete.
    let (f, n) = &s.notes[0];
    assert_eq!(*f, (req.len() - 5) as u64);
    assert_eq!(n.to_string(), "→ POST /form HTTP/1.1  Host: h");
}

// ---- Body framing special cases ------------------------------------------

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

// ---- Incomplete and malformed messages ----------------------------------

#[test]
fn truncated_response_and_request_without_response() {
    let mut s = Script::new(HttpOptions::default());
    s.send(C, b"GET /big HTTP/1.1\r\n\r\n");
    s.send(S, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
    s.send(S, &[b'x'; 812]);
    s.fin(S);
    s.send(C, b"GET /again HTTP/1.1\r\n\r\n");
    let xs = s.close();
    assert_eq!(
        summaries(&xs),
        vec!["GET /big [1-1] => 200 812B [2-3]", "GET /again [5-5] => -"]
    );
    assert_eq!(
        texts(&xs[0].notes),
        vec!["response truncated: 812 of 1000 body bytes"]
    );
    assert_eq!(
        xs[0].notes,
        vec![HttpAnomaly::Truncated {
            side: Kind::Response,
            body_bytes: 812,
            expected: Some(1000)
        }]
    );
    assert!(!xs[0].response.as_ref().unwrap().msg.complete);
    assert_eq!(texts(&xs[1].notes), vec!["request without response"]);
}

#[test]
fn malformed_request_line_is_annotated_and_tracking_continues() {
    let xs = run(&[
        (C, b"GET /a b c\r\nHost: h\r\n\r\n"),
        (S, b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
        (C, b"GET /ok HTTP/1.1\r\n\r\n"),
        (S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(
        summaries(&xs),
        vec![
            "GET /a b c [1-1] => 400 0B [2-2]",
            "GET /ok [3-3] => 200 0B [4-4]"
        ]
    );
    assert_eq!(
        texts(&xs[0].notes),
        vec!["malformed request line: `GET /a b c`"]
    );
    assert_eq!(
        xs[0].notes,
        vec![HttpAnomaly::MalformedRequestLine {
            line: Snippet::of(b"GET /a b c", 80)
        }]
    );
}

#[test]
fn junk_between_messages_is_skipped_with_a_note() {
    let xs = run(&[
        (C, b"GET /a HTTP/1.1\r\n\r\n"),
        (S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        (C, b"\x00\x01garbage\r\nGET /b HTTP/1.1\r\n\r\n"),
        (S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(
        summaries(&xs),
        vec![
            "GET /a [1-1] => 200 0B [2-2]",
            "GET /b [3-3] => 200 0B [4-4]"
        ]
    );
    assert_eq!(
        texts(&xs[1].notes),
        vec![
            "not an HTTP message (client→server): `\\x00\\x01garbage\\r`",
            "11 bytes (client→server) were not HTTP and were skipped: `\\x00\\x01garbage\\r`"
        ]
    );
    assert_eq!(
        xs[1].notes,
        vec![
            HttpAnomaly::NotHttpMessage {
                dir: C,
                line: Snippet::of(b"\x00\x01garbage\r", 60)
            },
            HttpAnomaly::NotHttpSkipped {
                dir: C,
                bytes: 11,
                sample: Some(Snippet::of(b"\x00\x01garbage\r", 40))
            }
        ]
    );
}

#[test]
fn not_http_at_all_gives_nothing() {
    let mut s = Script::new(HttpOptions::default());
    s.send(C, b"SSH-2.0-OpenSSH_5.9p1 Debian-5ubuntu1\r\n");
    s.send(S, b"SSH-2.0-OpenSSH_6.0\r\n");
    s.send(C, &[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]);
    let xs = s.close();
    assert!(xs.is_empty());
    assert!(s.notes.is_empty(), "{:?}", s.notes);
}

#[test]
fn response_only_when_the_request_is_not_http() {
    let xs = run(&[
        (C, b"OPTIONSHTTP/1.1\r\nHost: www.google.com\r\n\r\n"),
        (
            S,
            b"HTTP/1.0 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad",
        ),
    ]);
    assert_eq!(summaries(&xs), vec!["- => 400 3B [2-2]"]);
    assert_eq!(
        texts(&xs[0].notes),
        vec!["response without a request (the client sent 41 bytes that are not HTTP: `OPTIONSHTTP/1.1\\r`)"]
    );
    assert_eq!(
        xs[0].notes,
        vec![HttpAnomaly::ResponseWithoutRequest {
            client_skipped: 41,
            sample: Some(Snippet::of(b"OPTIONSHTTP/1.1\r", 40))
        }]
    );
}

#[test]
fn joined_mid_stream_finds_the_next_message() {
    let xs = run(&[
        (S, b"...tail of a body</html>"),
        (C, b"t: more\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
        (S, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ]);
    assert_eq!(summaries(&xs), vec!["GET /next [2-2] => 200 2B [3-3]"]);
}

#[test]
fn roles_swap_when_the_tracker_guessed_the_client_wrong() {
    let xs = run(&[
        (S, b"GET /x HTTP/1.1\r\n\r\n"),
        (C, b"HTTP/1.1 204 No Content\r\n\r\n"),
    ]);
    assert_eq!(summaries(&xs), vec!["GET /x [1-1] => 204 0B [2-2]"]);
    assert_eq!(xs[0].client, Some(ep(80)));
    assert_eq!(xs[0].server, Some(ep(40000)));
}

// ---- Gaps -----------------------------------------------------------------

#[test]
fn gap_inside_a_body_is_absorbed() {
    let mut s = Script::new(HttpOptions::default());
    s.send(C, b"GET /1 HTTP/1.0\r\n\r\n");
    s.send(S, b"HTTP/1.0 200 OK\r\nContent-Length: 70\r\n\r\n");
    s.send(S, &[b'A'; 14]);
    s.gap(S, 14);
    s.send(S, &[b'A'; 42]);
    let xs = s.close();
    assert_eq!(summaries(&xs), vec!["GET /1 [1-1] => 200 70B [2-5]"]);
    let r = xs[0].response.as_ref().unwrap();
    assert_eq!(r.msg.body_missing_bytes, 14);
    assert!(r.msg.complete);
    assert_eq!(
        texts(&xs[0].notes),
        vec!["response body: 14 bytes missing (capture gap)"]
    );
    assert_eq!(
        xs[0].notes,
        vec![HttpAnomaly::BodyBytesMissing {
            side: Kind::Response,
            missing: 14
        }]
    );
}

#[test]
fn gap_over_a_head_resynchronises() {
    let xs = run(&[
        (C, b"GET /1 HTTP/1.1\r\n\r\n"),
        (S, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"),
        (C, b"GET /2 HTTP/1.1\r\nHo"),
    ]);
    // The head of /2 never ended: no exchange, a note on the timeline.
    assert_eq!(summaries(&xs), vec!["GET /1 [1-1] => 200 3B [2-2]"]);
    let mut s = Script::new(HttpOptions::default());
    s.send(C, b"GET /1 HTTP/1.1\r\n\r\n");
    s.send(S, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
    s.send(C, b"GET /2 HTTP/1.1\r\nHo");
    s.gap(C, 30);
    s.send(C, b"xyz\r\n\r\nGET /3 HTTP/1.1\r\n\r\n");
    s.send(S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let xs = s.close();
    assert_eq!(
        summaries(&xs),
        vec![
            "GET /1 [1-1] => 200 3B [2-2]",
            "GET /3 [5-5] => 200 0B [6-6]"
        ]
    );
    assert_eq!(
        texts(&xs[1].notes),
        vec![
            "request head cut by a capture gap of 30 bytes: looking for the next message",
            "56 bytes (client→server) were not HTTP and were skipped: `xyz\\r`"
        ]
    );
}

#[test]
fn response_lost_in_a_gap_does_not_shift_the_pairs() {
    // zeek's http-1000-requests-one-dropped-response: the first response
    // is missing; the client sends the next request afterwards.
    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    let mut s = Script::new(HttpOptions::default());
    s.send(C, b"GET /1 HTTP/1.1\r\n\r\n");
    s.gap(S, resp.len() as u64 - 3);
    s.send(S, b"llo");
    s.send(C, b"GET /2 HTTP/1.1\r\n\r\n");
    s.send(S, resp);
    s.send(C, b"GET /3 HTTP/1.1\r\n\r\n");
    s.send(S, resp);
    let xs = s.close();
    assert_eq!(
        summaries(&xs),
        vec![
            "GET /1 [1-1] => -",
            "GET /2 [4-4] => 200 5B [5-5]",
            "GET /3 [6-6] => 200 5B [7-7]"
        ]
    );
    assert_eq!(texts(&xs[0].notes), vec!["response lost in a capture gap"]);
    assert_eq!(xs[0].notes, vec![HttpAnomaly::ResponseLostInGap]);
    // With pipelining (both requests before the gap) nothing is skipped.
    let mut s = Script::new(HttpOptions::default());
    s.send(C, b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
    s.gap(S, 10);
    s.send(S, resp);
    s.send(S, resp);
    let xs = s.close();
    assert_eq!(
        summaries(&xs),
        vec![
            "GET /1 [1-1] => 200 5B [3-3]",
            "GET /2 [1-1] => 200 5B [4-4]"
        ]
    );
}

// ---- Secrets ---------------------------------------------------------------

#[test]
fn secrets_are_redacted_unless_asked() {
    let steps: [(Direction, &[u8]); 2] = [
        (
            C,
            b"GET / HTTP/1.1\r\nAuthorization: Basic dXNlcjpwYXNz\r\nCookie: a=1\r\n\r\n",
        ),
        (
            S,
            b"HTTP/1.1 200 OK\r\nSet-Cookie: sid=secret; HttpOnly\r\nContent-Length: 0\r\n\r\n",
        ),
    ];
    let xs = run(&steps);
    let req = &xs[0].request.as_ref().unwrap().msg.headers;
    assert_eq!(
        req,
        &vec![
            (
                "Authorization".to_string(),
                "<redacted 18 bytes>".to_string()
            ),
            ("Cookie".to_string(), "<redacted 3 bytes>".to_string()),
        ]
    );
    let resp = &xs[0].response.as_ref().unwrap().msg.headers;
    assert_eq!(resp.get(0).unwrap().1, "<redacted 20 bytes>");

    let mut s = Script::new(HttpOptions {
        show_secrets: true,
        ..HttpOptions::default()
    });
    for (d, b) in steps {
        s.send(d, b);
    }
    let xs = s.close();
    assert_eq!(
        xs[0]
            .request
            .as_ref()
            .unwrap()
            .msg
            .headers
            .get(0)
            .unwrap()
            .1,
        "Basic dXNlcjpwYXNz"
    );
}

// ---- Hostile input ----------------------------------------------------------

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

// ---- Property: any segmentation gives the same exchanges -------------------

mod proptests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    struct Spec {
        method: &'static str,
        req_body: Vec<u8>,
        req_chunked: bool,
        interim: bool,
        status: u16,
        resp_body: Vec<u8>,
        resp_chunks: Option<Vec<usize>>,
    }

    fn chunked(body: &[u8], sizes: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = body;
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes
                .get(i % sizes.len().max(1))
                .copied()
                .unwrap_or(7)
                .clamp(1, rest.len());
            let (a, b) = rest.split_at(n);
            // Extensions on odd chunks, upper-case hex on even ones.
            if i % 2 == 1 {
                out.extend_from_slice(format!("{n:x};name=\"v\"\r\n").as_bytes());
            } else {
                out.extend_from_slice(format!("{n:X}\r\n").as_bytes());
            }
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
            rest = b;
            i += 1;
        }
        out.extend_from_slice(b"0\r\nX-Trailer: t\r\n\r\n");
        out
    }

    impl Spec {
        fn request(&self, i: usize) -> Vec<u8> {
            let mut r = format!("{} /p{i} HTTP/1.1\r\nHost: h\r\n", self.method).into_bytes();
            if self.interim {
                r.extend_from_slice(b"Expect: 100-continue\r\n");
            }
            if self.req_body.is_empty() {
                r.extend_from_slice(b"\r\n");
            } else if self.req_chunked {
                r.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                r.extend_from_slice(&chunked(&self.req_body, &[5, 1, 13]));
            } else {
                r.extend_from_slice(
                    format!("Content-Length: {}\r\n\r\n", self.req_body.len()).as_bytes(),
                );
                r.extend_from_slice(&self.req_body);
            }
            r
        }

        fn no_body(&self) -> bool {
            self.method == "HEAD" || self.status == 204 || self.status == 304
        }

        fn response(&self) -> Vec<u8> {
            let mut r = Vec::new();
            if self.interim {
                r.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
            }
            r.extend_from_slice(format!("HTTP/1.1 {} X\r\nServer: t\r\n", self.status).as_bytes());
            match &self.resp_chunks {
                Some(sizes) if !self.no_body() => {
                    r.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                    r.extend_from_slice(&chunked(&self.resp_body, sizes));
                }
                _ => {
                    // HEAD and 304 announce a length without sending a body.
                    r.extend_from_slice(
                        format!("Content-Length: {}\r\n\r\n", self.resp_body.len()).as_bytes(),
                    );
                    if !self.no_body() {
                        r.extend_from_slice(&self.resp_body);
                    }
                }
            }
            r
        }

        fn expected(&self, i: usize) -> String {
            let req = if self.method == "GET" || self.method == "HEAD" {
                0
            } else {
                self.req_body.len()
            };
            let resp = if self.no_body() {
                0
            } else {
                self.resp_body.len()
            };
            format!(
                "{} /p{i} {req} => {}{} {resp}",
                self.method,
                if self.interim { "100 " } else { "" },
                self.status
            )
        }
    }

    fn spec() -> impl Strategy<Value = Spec> {
        (
            prop::sample::select(vec!["GET", "HEAD", "POST", "PUT"]),
            prop::collection::vec(any::<u8>(), 1..120),
            any::<bool>(),
            any::<bool>(),
            prop::sample::select(vec![200u16, 201, 204, 304, 404, 500]),
            prop::collection::vec(any::<u8>(), 0..200),
            prop::option::of(prop::collection::vec(1usize..40, 1..5)),
        )
            .prop_map(
                |(method, body, req_chunked, interim, status, resp_body, resp_chunks)| {
                    let has_body = method == "POST" || method == "PUT";
                    Spec {
                        method,
                        req_body: if has_body { body } else { Vec::new() },
                        req_chunked,
                        interim: interim && has_body,
                        status,
                        resp_body,
                        resp_chunks,
                    }
                },
            )
    }

    fn summarise(xs: &[Exchange]) -> Vec<String> {
        xs.iter()
            .map(|x| {
                let q = x.request.as_ref().expect("request");
                let r = x.response.as_ref().expect("response");
                let interim: String = x.interim.iter().map(|i| format!("{} ", i.status)).collect();
                assert!(x.notes.is_empty(), "{:?}", x.notes);
                assert!(q.msg.complete && r.msg.complete);
                assert!(q.msg.first_frame <= q.msg.last_frame);
                assert!(r.msg.first_frame <= r.msg.last_frame);
                let (t, d) = (x.ttfb_ns().unwrap(), x.duration_ns().unwrap());
                assert!(t <= d, "ttfb {t} > duration {d}");
                format!(
                    "{} {} {} => {interim}{} {}",
                    q.method, q.uri, q.msg.body_bytes, r.status, r.msg.body_bytes
                )
            })
            .collect()
    }

    /// Sends `bytes` cut at the given sizes (cycled).
    fn send_cut(s: &mut Script, dir: Direction, bytes: &[u8], cuts: &[usize]) {
        let mut rest = bytes;
        let mut i = 0;
        while !rest.is_empty() {
            let n = cuts
                .get(i % cuts.len())
                .copied()
                .unwrap_or(1)
                .clamp(1, rest.len());
            let (a, b) = rest.split_at(n);
            s.send(dir, a);
            rest = b;
            i += 1;
        }
    }

    /// Pieces of HTTP messages; `{n}` becomes a number, `{x}` the same in hex.
    const PIECES: [&str; 22] = [
        "GET /{n} HTTP/1.1\r\n",
        "HEAD / HTTP/1.0\r\n",
        "POST /p HTTP/1.1\r\n",
        "CONNECT h:{n} HTTP/1.1\r\n",
        "HTTP/1.1 200 OK\r\n",
        "HTTP/1.1 100 Continue\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\n",
        "HTTP/1.0 304 Not Modified\r\n",
        "Content-Length: {n}\r\n",
        "Content-Length: 99999999999999999999\r\n",
        "Transfer-Encoding: chunked\r\n",
        "Expect: 100-continue\r\n",
        "Upgrade: websocket\r\n",
        "Content-Encoding: gzip\r\n",
        "Host: h\r\n",
        "\r\n",
        "{x}\r\n",
        "{x};e=1\r\n",
        "0\r\n\r\n",
        "abcdefghij",
        "\x1f\u{8b}\x08\x00garbage",
        "X: y\r\n Folded: z\r\n",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Keep-alive: each request, then its response, every byte
        /// stream cut anywhere.
        #[test]
        fn keep_alive_any_segmentation(
            specs in prop::collection::vec(spec(), 1..6),
            cuts in prop::collection::vec(1usize..64, 1..20),
        ) {
            let mut s = Script::new(HttpOptions::default());
            for (i, sp) in specs.iter().enumerate() {
                if sp.interim {
                    // Head, then the 100, then the body.
                    let req = sp.request(i);
                    let head_end = req.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                    send_cut(&mut s, C, &req[..head_end], &cuts);
                    send_cut(&mut s, S, b"HTTP/1.1 100 Continue\r\n\r\n", &cuts);
                    send_cut(&mut s, C, &req[head_end..], &cuts);
                    let resp = sp.response();
                    send_cut(&mut s, S, &resp[25..], &cuts);
                } else {
                    send_cut(&mut s, C, &sp.request(i), &cuts);
                    send_cut(&mut s, S, &sp.response(), &cuts);
                }
            }
            let got = summarise(&s.close());
            let want: Vec<String> = specs.iter().enumerate().map(|(i, sp)| sp.expected(i)).collect();
            prop_assert_eq!(got, want);
        }

        /// Pipelining: all requests first, then all responses.
        #[test]
        fn pipelined_any_segmentation(
            specs in prop::collection::vec(spec(), 1..6),
            cuts in prop::collection::vec(1usize..200, 1..20),
        ) {
            let mut s = Script::new(HttpOptions::default());
            let reqs: Vec<u8> = specs.iter().enumerate().flat_map(|(i, sp)| sp.request(i)).collect();
            let resps: Vec<u8> = specs.iter().flat_map(|sp| sp.response()).collect();
            send_cut(&mut s, C, &reqs, &cuts);
            send_cut(&mut s, S, &resps, &cuts);
            let got = summarise(&s.close());
            let want: Vec<String> = specs.iter().enumerate().map(|(i, sp)| sp.expected(i)).collect();
            prop_assert_eq!(got, want);
        }

        /// HTTP-shaped garbage (pieces of real messages in random order,
        /// cut anywhere) never panics, and memory stays bounded.
        #[test]
        fn http_shaped_garbage_never_panics(
            pieces in prop::collection::vec((any::<bool>(), 0usize..PIECES.len(), 0u64..99_999), 0..60),
            cut in 1usize..40,
        ) {
            let opts = HttpOptions {
                head: HeadLimits { max_bytes: 1024, max_headers: 4, ..HeadLimits::default() },
                max_pending: 8,
                ..HttpOptions::default()
            };
            let mut s = Script::new(opts);
            let mut streams: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
            for (to_server, i, n) in &pieces {
                let p = PIECES[*i].replace("{n}", &n.to_string()).replace("{x}", &format!("{n:x}"));
                streams[usize::from(!*to_server)].extend_from_slice(p.as_bytes());
            }
            let [c, sv] = streams;
            let mut ci = c.chunks(cut);
            let mut si = sv.chunks(cut + 3);
            loop {
                let a = ci.next();
                let b = si.next();
                if a.is_none() && b.is_none() {
                    break;
                }
                if let Some(a) = a {
                    s.send(C, a);
                }
                if let Some(b) = b {
                    s.send(S, b);
                }
                prop_assert!(s.d.buffered_bytes() <= 2 * (1024 + MAX_CARRY));
            }
            let xs = s.close();
            for x in &xs {
                if let (Some(t), Some(d)) = (x.ttfb_ns(), x.duration_ns()) {
                    prop_assert!(d >= 0 && t <= d);
                }
            }
        }

        /// Arbitrary bytes never panic, and memory stays bounded.
        #[test]
        fn hostile_bytes_never_panic(
            chunks in prop::collection::vec((any::<bool>(), prop::collection::vec(any::<u8>(), 0..300)), 0..30),
            gaps in prop::collection::vec(0u64..5000, 0..3),
        ) {
            let opts = HttpOptions {
                head: HeadLimits { max_bytes: 512, max_headers: 8, ..HeadLimits::default() },
                ..HttpOptions::default()
            };
            let mut s = Script::new(opts);
            s.send(C, b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
            for (i, (to_server, bytes)) in chunks.iter().enumerate() {
                let dir = if *to_server { C } else { S };
                s.send(dir, bytes);
                if let Some(g) = gaps.get(i) {
                    s.gap(dir, *g);
                }
                // Two directions, each: a head (512) or a resync carry
                // (8 KiB) or held bytes (512).
                prop_assert!(s.d.buffered_bytes() <= 2 * (512 + MAX_CARRY));
            }
            let _ = s.close();
            prop_assert_eq!(s.d.connections(), 0);
            prop_assert_eq!(s.d.pending_bytes(), 0);
        }
    }
}
