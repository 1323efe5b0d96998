//! Parsing heads: gathered and in place alike (proptests), facts,
//! lenient parsing of broken lines, limits, shared text.

use super::facts::{is_name, parse_content_length};
use super::*;
use crate::event::{Fields, Snippet};
use std::borrow::Cow;

/// The parsers as a connection's first head meets them.
fn parse_head(buf: &[u8], kind: Kind, limits: HeadLimits) -> Result<Head, HttpAnomaly> {
    super::parse_head(buf, kind, limits, &mut Recent::default())
}

fn parse_whole(buf: &[u8], kind: Kind, limits: HeadLimits) -> Option<(Head, usize)> {
    super::parse_whole(buf, kind, limits, &mut Recent::default())
}

#[test]
fn repeated_text_is_shared() {
    use std::sync::Arc;
    let limits = HeadLimits::default();
    let long = "/".repeat(RECENT_MAX + 1);
    let req = |uri: &str, host: &str| format!("GET {uri} HTTP/1.1\r\nHost: {host}\r\n\r\n");
    let parts = |h: &Head| match &h.start {
        StartLine::Request { uri, .. } => (uri.clone(), h.facts.host.clone().unwrap()),
        StartLine::Response { .. } => panic!("not a request"),
    };
    let mut recent = Recent::default();
    let mut whole = |text: &str| {
        let (h, n) =
            super::parse_whole(text.as_bytes(), Kind::Request, limits, &mut recent).unwrap();
        assert_eq!(n, text.len());
        assert_eq!(
            Ok(&h),
            parse_head(text.as_bytes(), Kind::Request, limits).as_ref()
        );
        parts(&h)
    };
    let (u1, h1) = whole(&req("/a", "example.com"));
    let (u2, h2) = whole(&req("/a", "example.com"));
    assert!(Arc::ptr_eq(&u1, &u2) && Arc::ptr_eq(&h1, &h2));
    // A new URI is new text, and the one kept from then on.
    let (u3, h3) = whole(&req("/b", "example.com"));
    assert!(!Arc::ptr_eq(&u2, &u3) && Arc::ptr_eq(&h2, &h3));
    assert_eq!(&*u3, "/b");
    let (u4, _) = whole(&req("/b", "example.com"));
    assert!(Arc::ptr_eq(&u3, &u4));
    // Long text is not kept (nor does it displace "/b"): each head has
    // its own.
    let (l1, _) = whole(&req(&long, "example.com"));
    let (l2, _) = whole(&req(&long, "example.com"));
    assert!(!Arc::ptr_eq(&l1, &l2));
    assert_eq!(*l1, *long);
    // Gathered heads share too, and so do responses' Content-Type.
    let resp = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n";
    let ct = |recent: &mut Recent| {
        super::parse_head(resp, Kind::Response, limits, recent)
            .unwrap()
            .facts
            .content_type
            .unwrap()
    };
    let (c1, c2) = (ct(&mut recent), ct(&mut recent));
    assert!(Arc::ptr_eq(&c1, &c2));
    assert_eq!(&*c1, "text/html");
    let h5 = super::parse_head(
        req("/b", "example.com").as_bytes(),
        Kind::Request,
        limits,
        &mut recent,
    )
    .unwrap();
    assert!(Arc::ptr_eq(&parts(&h5).0, &u4));
}

fn gather(chunks: &[&[u8]]) -> (Vec<u8>, usize) {
    let mut h = HeadBuf::default();
    for (i, c) in chunks.iter().enumerate() {
        match h.push(c, 1 << 16) {
            Push::Complete(n) => {
                return (h.bytes().to_vec(), (i << 16) | n);
            }
            Push::More => {}
            Push::TooLarge(_) => panic!("too large"),
        }
    }
    panic!("incomplete")
}

#[test]
fn head_end_found_across_any_split() {
    let msg = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY";
    for cut in 1..msg.len() {
        let (a, b) = msg.split_at(cut);
        let (head, at) = gather(&[a, b]);
        assert_eq!(head, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", "cut {cut}");
        let (chunk, n) = (at >> 16, at & 0xffff);
        let consumed = if chunk == 0 { n } else { a.len() + n };
        assert_eq!(consumed, msg.len() - 4, "cut {cut}");
    }
}

#[test]
fn bare_lf_heads_and_leading_blank_lines() {
    let (head, _) = gather(&[b"\r\n\r\nGET / HTTP/1.0\n\nX"]);
    assert_eq!(head, b"GET / HTTP/1.0\n\n");
    let h = parse_head(&head, Kind::Request, HeadLimits::default()).unwrap();
    assert_eq!(
        h.start,
        StartLine::Request {
            method: "GET".into(),
            uri: "/".into(),
            version: "HTTP/1.0".into()
        }
    );
    assert!(h.notes.is_empty(), "{:?}", h.notes);
}

#[test]
fn too_large_head_is_reported_not_buffered() {
    let mut h = HeadBuf::default();
    let line = [b'a'; 100];
    let mut res = Push::More;
    for _ in 0..20 {
        res = h.push(&line, 1000);
        if res != Push::More {
            break;
        }
    }
    assert_eq!(res, Push::TooLarge(0));
    assert_eq!(h.len(), 1000);
}

#[test]
fn parses_request_with_facts() {
    let h = parse_head(
        b"POST /up?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 12\r\n\
          Expect: 100-continue\r\nContent-Type: text/plain\r\nConnection: keep-alive, close\r\n\r\n",
        Kind::Request,
        HeadLimits::default(),
    )
    .unwrap();
    assert_eq!(
        h.start,
        StartLine::Request {
            method: "POST".into(),
            uri: "/up?x=1".into(),
            version: "HTTP/1.1".into()
        }
    );
    assert_eq!(h.facts.content_length, Some(12));
    assert!(h.facts.expect_continue);
    assert!(h.facts.close);
    assert_eq!(h.facts.host.as_deref(), Some("example.com"));
    assert_eq!(h.facts.content_type.as_deref(), Some("text/plain"));
    assert_eq!(h.headers.len(), 5);
}

#[test]
fn parses_response_and_chunked_wins_over_length() {
    let h = parse_head(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 5\r\n\r\n",
        Kind::Response,
        HeadLimits::default(),
    )
    .unwrap();
    assert_eq!(
        h.start,
        StartLine::Response {
            version: "HTTP/1.1".into(),
            status: 200,
            reason: "OK".into()
        }
    );
    assert!(h.facts.chunked);
    assert_eq!(h.facts.content_length, Some(5));
    assert_eq!(h.notes.len(), 1);
}

#[test]
fn content_length_edge_cases() {
    assert_eq!(parse_content_length("42"), Some(42));
    assert_eq!(parse_content_length("42, 42"), Some(42));
    assert_eq!(parse_content_length("42, 43"), None);
    assert_eq!(parse_content_length("-1"), None);
    assert_eq!(
        parse_content_length("1000000000000000000"),
        Some(1_000_000_000_000_000_000)
    );
    assert_eq!(parse_content_length("99999999999999999999"), None);
    let h = parse_head(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        Kind::Response,
        HeadLimits::default(),
    )
    .unwrap();
    assert!(h.facts.content_length_bad);
    assert_eq!(h.facts.content_length, None);
    assert_eq!(h.notes, vec![HttpAnomaly::ConflictingContentLength]);
    assert_eq!(h.notes[0].to_string(), "conflicting Content-Length fields");
}

#[test]
fn malformed_request_lines_like_wireshark() {
    let l = HeadLimits::default();
    let h = parse_head(b"OPTIONS HTTP/1.1\r\nHost: x\r\n\r\n", Kind::Request, l).unwrap();
    assert_eq!(
        h.start,
        StartLine::Request {
            method: "OPTIONS".into(),
            uri: "HTTP/1.1".into(),
            version: "".into()
        }
    );
    assert_eq!(
        h.notes,
        vec![HttpAnomaly::MalformedRequestLine {
            line: Snippet::of(b"OPTIONS HTTP/1.1", 80)
        }]
    );
    assert_eq!(
        h.notes[0].to_string(),
        "malformed request line: `OPTIONS HTTP/1.1`"
    );
    assert_eq!(h.facts.host.as_deref(), Some("x"));
    let h = parse_head(b"OPTIONS\r\nHost: x\r\n\r\n", Kind::Request, l).unwrap();
    assert!(
        matches!(&h.start, StartLine::Request { method, uri, .. } if method == "OPTIONS" && uri.is_empty())
    );
    assert_eq!(
        parse_head(b"\x01\x02 / HTTP/1.1\r\n\r\n", Kind::Request, l).err(),
        Some(HttpAnomaly::MalformedRequestLine {
            line: Snippet::of(b"\x01\x02 / HTTP/1.1", 80)
        })
    );
    assert_eq!(
        parse_head(b"HTTP/1.1 abc\r\n\r\n", Kind::Response, l).err(),
        Some(HttpAnomaly::MalformedStatusLine {
            line: Snippet::of(b"HTTP/1.1 abc", 80)
        })
    );
}

#[test]
fn too_many_headers_keeps_the_first_and_still_frames() {
    let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..300 {
        head.extend_from_slice(format!("X-{i}: {i}\r\n").as_bytes());
    }
    head.extend_from_slice(b"Content-Length: 7\r\n\r\n");
    let h = parse_head(
        &head,
        Kind::Response,
        HeadLimits {
            max_bytes: 1 << 16,
            max_headers: 10,
            keep_fields: true,
        },
    )
    .unwrap();
    assert_eq!(h.headers.len(), 10);
    assert_eq!(h.facts.content_length, Some(7));
    assert_eq!(
        h.notes,
        vec![HttpAnomaly::TooManyHeaderFields {
            count: 301,
            limit: 10
        }]
    );
    assert_eq!(
        h.notes[0].to_string(),
        "301 header fields, more than the limit of 10: kept the first 10"
    );
}

mod whole {
    use super::*;
    use super::{parse_head, parse_whole};
    use proptest::prelude::*;

    const STARTS: [&[u8]; 12] = [
        b"GET / HTTP/1.1",
        b"POST /up?x=1 HTTP/1.0",
        b"get /lower HTTP/1.1",
        b"GET  /two-spaces HTTP/1.1",
        b"GET /tab\tHTTP/1.1",
        b"GET /no-version",
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 404 Not Found",
        b"HTTP/1.0  204",
        b"HTTP/1.1 200\tOK",
        b"HTTP/2 200 OK",
        b"SSH-2.0-OpenSSH",
    ];
    /// Fields httparse accepts in both kinds of message come first.
    const FIELDS: [&[u8]; 12] = [
        b"Host: example.com",
        b"Content-Length: 5",
        b"Content-Length: x",
        b"Transfer-Encoding: chunked",
        b"Cookie: secret=1",
        b"X-Bin: \xff\xfe",
        b"Empty:",
        b" folded continuation",
        b"Name : spaced",
        b"no colon here",
        b"X-Cr: a\rb",
        b"\r",
    ];
    const VALID_FIELDS: usize = 7;
    /// Text a connection may repeat, long and short, for
    /// `shared_text_changes_nothing`.
    const URIS: [&[u8]; 4] = [b"/", b"/a", b"/a?b=1", LONG_URI];
    const LONG_URI: &[u8] = &[b'/'; RECENT_MAX + 1];
    const SHARED: [&[u8]; 6] = [
        b"Host: example.com",
        b"host: example.org",
        b"Content-Type: text/html",
        b"content-type:   text/plain  ",
        b"Content-Type: \xff",
        b"Host:",
    ];
    const ENDS: [&[u8]; 3] = [b"\r\n", b"\n", b"\r\r\n"];

    fn build(lead: &[u8], start: usize, fields: &[(usize, usize)], tail: &[u8]) -> Vec<u8> {
        let mut v = lead.to_vec();
        v.extend_from_slice(STARTS[start]);
        v.extend_from_slice(b"\r\n");
        for &(f, e) in fields {
            v.extend_from_slice(FIELDS[f]);
            v.extend_from_slice(ENDS[e]);
        }
        v.extend_from_slice(b"\r\n");
        v.extend_from_slice(tail);
        v
    }

    proptest! {
        /// Whenever a head is parsed where it lies, gathering it and
        /// parsing it the general way gives the same head and length.
        #[test]
        fn parsed_in_place_as_gathered(
            lead in proptest::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n')], 0..4),
            start in 0..STARTS.len(),
            fields in proptest::collection::vec(
                (
                    prop_oneof![8 => 0..VALID_FIELDS, 1 => VALID_FIELDS..FIELDS.len()],
                    prop_oneof![8 => 0..2usize, 1 => Just(2usize)],
                ),
                0..40,
            ),
            tail in proptest::collection::vec(any::<u8>(), 0..16),
            max_bytes in prop_oneof![Just(64usize), Just(1 << 16)],
            max_headers in prop_oneof![Just(3usize), Just(32), Just(128)],
            keep_fields in any::<bool>(),
        ) {
            let input = build(&lead, start, &fields, &tail);
            let limits = HeadLimits { max_bytes, max_headers, keep_fields };
            let skip = input.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(0);
            for kind in [Kind::Request, Kind::Response] {
                let Some((head, n)) = parse_whole(&input[skip..], kind, limits) else {
                    continue;
                };
                let mut buf = HeadBuf::default();
                prop_assert_eq!(buf.push(&input, max_bytes), Push::Complete(skip + n));
                prop_assert_eq!(sniff(buf.bytes()), Sniff::Http(kind));
                prop_assert_eq!(parse_head(buf.bytes(), kind, limits), Ok(head));
            }
        }

        /// Heads parsed one after another on one connection (sharing
        /// the text they repeat) equal heads parsed each on its own,
        /// gathered or in place.
        #[test]
        fn shared_text_changes_nothing(
            heads in proptest::collection::vec(
                (
                    0..STARTS.len(),
                    0..URIS.len(),
                    proptest::collection::vec((0..SHARED.len(), 0..FIELDS.len()), 0..6),
                    any::<bool>(),
                ),
                1..8,
            ),
        ) {
            let limits = HeadLimits { max_bytes: 1 << 16, max_headers: 32, keep_fields: true };
            let mut recent = Recent::default();
            for (start, uri, fields, in_place) in heads {
                let mut input = match STARTS[start].strip_prefix(b"GET /") {
                    Some(rest) => [b"GET ", URIS[uri], rest].concat(),
                    None => STARTS[start].to_vec(),
                };
                input.extend_from_slice(b"\r\n");
                for (shared, other) in fields {
                    input.extend_from_slice(SHARED[shared]);
                    input.extend_from_slice(b"\r\n");
                    input.extend_from_slice(FIELDS[other]);
                    input.extend_from_slice(b"\r\n");
                }
                input.extend_from_slice(b"\r\n");
                for kind in [Kind::Request, Kind::Response] {
                    if in_place {
                        let shared = super::super::parse_whole(&input, kind, limits, &mut recent);
                        prop_assert_eq!(shared, parse_whole(&input, kind, limits));
                    } else {
                        let shared = super::super::parse_head(&input, kind, limits, &mut recent);
                        prop_assert_eq!(shared, parse_head(&input, kind, limits));
                    }
                }
            }
        }

        /// Without the fields kept, a head says the same: start line,
        /// facts, notes and the size the fields would take.
        #[test]
        fn fields_not_kept_change_nothing_else(
            start in 0..STARTS.len(),
            fields in proptest::collection::vec(
                (
                    prop_oneof![8 => 0..VALID_FIELDS, 1 => VALID_FIELDS..FIELDS.len()],
                    prop_oneof![8 => 0..2usize, 1 => Just(2usize)],
                ),
                0..40,
            ),
            max_headers in prop_oneof![Just(3usize), Just(32), Just(128)],
        ) {
            let input = build(b"", start, &fields, b"");
            let mut buf = HeadBuf::default();
            let Push::Complete(n) = buf.push(&input, 1 << 16) else {
                return Ok(());
            };
            let kept = HeadLimits { max_bytes: 1 << 16, max_headers, keep_fields: true };
            let not = HeadLimits { keep_fields: false, ..kept };
            for kind in [Kind::Request, Kind::Response] {
                let a = parse_head(&input[..n], kind, kept);
                let b = parse_head(&input[..n], kind, not);
                match (a, b) {
                    (Ok(a), Ok(b)) => {
                        prop_assert!(b.headers.is_empty());
                        prop_assert_eq!(
                            a.fields_size,
                            a.headers.text_len() + 8 * a.headers.len()
                        );
                        prop_assert_eq!(Head { headers: Fields::new(), ..a }, b);
                    }
                    (a, b) => prop_assert_eq!(a, b),
                }
                if let Some((b, m)) = parse_whole(&input, kind, not) {
                    prop_assert_eq!(m, n);
                    prop_assert!(b.headers.is_empty());
                }
            }
        }
    }

    const NAMES: [&str; 12] = [
        "content-length",
        "transfer-encoding",
        "connection",
        "upgrade",
        "expect",
        "host",
        "content-type",
        "content-encoding",
        "cookie",
        "set-cookie",
        "authorization",
        "proxy-authorization",
    ];

    proptest! {
        /// The word-wise comparison says what eq_ignore_ascii_case
        /// says, for names near the known ones (case changed, bytes
        /// replaced by ones that differ only in the case bit).
        #[test]
        fn name_comparison_ignores_case_only(
            which in 0..NAMES.len(),
            edits in proptest::collection::vec((0..20usize, any::<u8>()), 0..3),
            flips in proptest::collection::vec((0..20usize, any::<bool>()), 0..6),
        ) {
            let lower = NAMES[which].as_bytes();
            let mut name = lower.to_vec();
            for (at, up) in flips {
                if let Some(b) = name.get_mut(at) {
                    if up { b.make_ascii_uppercase() } else { *b ^= 0x20 }
                }
            }
            for (at, b) in edits {
                if let Some(c) = name.get_mut(at) {
                    *c = b;
                }
            }
            prop_assert_eq!(is_name(&name, lower), name.eq_ignore_ascii_case(lower));
        }
    }

    #[test]
    fn secret_fields_are_flagged_in_any_case() {
        for name in crate::event::redact::SECRET_HEADERS {
            for n in [name.to_string(), name.to_ascii_uppercase()] {
                let head = format!("HTTP/1.1 200 OK\r\n{n}: x\r\nX-Other: y\r\n\r\n");
                let h = parse_head(head.as_bytes(), Kind::Response, HeadLimits::default()).unwrap();
                assert!(h.facts.secret, "{n}");
                // The lenient path (a broken line first) too.
                let head = format!("HTTP/1.1 200 OK\r\nbroken\r\n{n} : x\r\n\r\n");
                let h = parse_head(head.as_bytes(), Kind::Response, HeadLimits::default()).unwrap();
                assert!(h.facts.secret, "{n} (lenient)");
            }
        }
        let plain = parse_head(
            b"HTTP/1.1 200 OK\r\nCookies: x\r\nSet-Cookie2: y\r\n\r\n",
            Kind::Response,
            HeadLimits::default(),
        )
        .unwrap();
        assert!(!plain.facts.secret);
    }

    #[test]
    fn whole_heads_and_what_is_left_to_gathering() {
        let limits = HeadLimits::default();
        let msg = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nBODY";
        let (head, n) = parse_whole(msg, Kind::Request, limits).unwrap();
        assert_eq!(n, msg.len() - 4);
        assert_eq!(head.facts.host.as_deref(), Some("h"));
        assert!(matches!(head.start.clone(), StartLine::Request { method, .. } if method == "GET"));
        // Cut short, too many fields, too long, or not strictly valid:
        // the general path decides.
        assert!(parse_whole(&msg[..20], Kind::Request, limits).is_none());
        let many = build(b"", 0, &[(0, 0); 33], b"");
        assert!(parse_whole(&many, Kind::Request, limits).is_none());
        assert!(parse_head(&many, Kind::Request, limits).is_ok());
        let small = HeadLimits {
            max_bytes: 20,
            ..limits
        };
        assert!(parse_whole(msg, Kind::Request, small).is_none());
        assert!(parse_whole(b"GET /tab\tHTTP/1.1\r\n\r\n", Kind::Request, limits).is_none());
        assert!(parse_whole(b"HTTP/1.1 200 OK\r\n\r\n", Kind::Request, limits).is_none());
    }

    #[test]
    fn common_words_are_not_copied() {
        let (head, _) = parse_whole(
            b"HTTP/1.1 200 OK\r\n\r\n",
            Kind::Response,
            HeadLimits::default(),
        )
        .unwrap();
        let StartLine::Response {
            version, reason, ..
        } = head.start
        else {
            panic!("not a response")
        };
        assert!(matches!(version, Cow::Borrowed("HTTP/1.1")));
        assert!(matches!(reason, Cow::Borrowed("OK")));
        let (head, _) = parse_whole(
            b"HTTP/1.1 299 Custom\r\n\r\n",
            Kind::Response,
            HeadLimits::default(),
        )
        .unwrap();
        assert!(
            matches!(head.start, StartLine::Response { reason: Cow::Owned(r), .. } if r == "Custom")
        );
    }
}
