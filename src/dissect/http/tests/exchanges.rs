//! Plain exchanges: one, keep-alive, pipelined, cut into single bytes;
//! secret header values redacted unless asked.

use super::*;

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
