//! Property: any segmentation gives the same exchanges; garbage and
//! hostile bytes never panic and memory stays bounded.

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
