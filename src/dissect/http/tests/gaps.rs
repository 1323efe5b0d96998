//! Capture gaps: inside a body, over a head, over a whole response.

use super::*;

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
