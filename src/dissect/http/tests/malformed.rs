//! Incomplete and malformed messages, bytes that are not HTTP, and
//! connections joined mid-way or with the roles guessed wrong.

use super::*;

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
