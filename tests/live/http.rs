//! Live HTTP tests on the loopback interface, with real peers: python3's
//! http.server, nginx (started here with a configuration written to a
//! temporary directory), curl, and raw socket clients.
//!
//! Each test starts `netpeek -i lo --json -l tcp port P`, waits for its
//! "listening on" line, makes traffic, waits (bounded) until netpeek has
//! printed the expected number of HTTP exchanges, stops it with SIGINT
//! (it drains the kernel buffer and exits 0), and checks the exchanges
//! exactly: methods, URIs, statuses, body sizes (compared with what curl
//! or the client itself saw), and that the latencies are positive with
//! ttfb ≤ duration.
//!
//! Capturing needs root (CI runs as root); without it the tests fail under
//! CI and say SKIPPED elsewhere. Traffic goes only to 127.0.0.1 and ::1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::nginx::Nginx;
use crate::support::{require, require_part, Need};

const WAIT: Duration = Duration::from_secs(30);

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let p = l.local_addr().expect("local addr").port();
    drop(l);
    p
}

/// Waits (bounded) until something accepts connections on the port.
fn wait_listening(addr: &str, what: &str) {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if TcpStream::connect(addr).is_ok() {
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not start listening on {addr}");
}

/// A child process that is killed when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running `netpeek -i lo --json` capture.
struct Capture {
    child: Option<Child>,
    lines: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
}

impl Capture {
    fn start(port: u16) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_netpeek"))
            .args(["-i", "lo", "--json", "-l", "tcp", "port", &port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start netpeek");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let out = child.stdout.take().expect("stdout");
        let l2 = Arc::clone(&lines);
        thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                l2.lock().unwrap().push(line);
            }
        });
        let err = child.stderr.take().expect("stderr");
        let e2 = Arc::clone(&stderr);
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = tx.send(());
                }
                let mut e = e2.lock().unwrap();
                e.push_str(&line);
                e.push('\n');
            }
        });
        let cap = Self {
            child: Some(child),
            lines,
            stderr,
        };
        if rx.recv_timeout(WAIT).is_err() {
            panic!(
                "netpeek did not say `listening on`; stderr:\n{}",
                cap.stderr.lock().unwrap()
            );
        }
        cap
    }

    fn http(&self) -> Vec<Value> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["type"] == "http")
            .collect()
    }

    /// Waits (bounded) for `n` exchanges, stops netpeek with SIGINT and
    /// returns the exchanges.
    fn finish(mut self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + WAIT;
        while self.http().len() < n && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(50));
        }
        let mut child = self.child.take().expect("child");
        // SAFETY: kill with a valid pid and signal.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGINT);
        }
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait") {
                break Some(s);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            thread::sleep(Duration::from_millis(20));
        };
        // Let the reader threads drain the pipes.
        thread::sleep(Duration::from_millis(100));
        let stderr = self.stderr.lock().unwrap().clone();
        let status = status.unwrap_or_else(|| panic!("netpeek ignored SIGINT; stderr:\n{stderr}"));
        assert!(
            status.success(),
            "netpeek exited with {status}; stderr:\n{stderr}"
        );
        let got = self.http();
        assert_eq!(
            got.len(),
            n,
            "expected {n} HTTP exchanges, got:\n{}",
            got.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
        got
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Runs curl; returns (http code, bytes downloaded) from `-w`.
fn curl(args: &[&str]) -> (u16, u64) {
    let out = Command::new("curl")
        .args([
            "-s",
            "-S",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{size_download}",
        ])
        .args(args)
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut it = text.split_whitespace();
    let code = it.next().and_then(|c| c.parse().ok()).expect("http code");
    let size = it.next().and_then(|c| c.parse().ok()).expect("size");
    (code, size)
}

/// Checks one exchange: method, URI, status, body sizes, latencies.
#[track_caller]
fn check(x: &Value, method: &str, uri: &str, status: u64, req_body: u64, resp_body: u64) {
    let req = &x["request"];
    let resp = &x["response"];
    assert_eq!(req["method"], method, "{x}");
    assert_eq!(req["uri"], uri, "{x}");
    assert_eq!(req["body_bytes"], req_body, "{x}");
    assert_eq!(resp["status_code"], status, "{x}");
    assert_eq!(resp["body_bytes"], resp_body, "{x}");
    assert_eq!(req["complete"], true, "{x}");
    assert_eq!(resp["complete"], true, "{x}");
    let ttfb = x["ttfb_ns"].as_i64().expect("ttfb");
    let dur = x["duration_ns"].as_i64().expect("duration");
    assert!(ttfb > 0, "ttfb {ttfb}: {x}");
    assert!(dur > 0, "duration {dur}: {x}");
    assert!(ttfb <= dur, "ttfb {ttfb} > duration {dur}: {x}");
    assert!(req["first_frame"].as_u64() <= req["last_frame"].as_u64());
    assert!(
        req["last_frame"].as_u64() < resp["first_frame"].as_u64(),
        "{x}"
    );
    assert!(resp["first_frame"].as_u64() <= resp["last_frame"].as_u64());
    assert_eq!(x["notes"], serde_json::json!([]), "{x}");
}

fn header<'a>(msg: &'a Value, name: &str) -> Option<&'a str> {
    msg["headers"].as_array()?.iter().find_map(|h| {
        let n = h.get(0)?.as_str()?;
        n.eq_ignore_ascii_case(name)
            .then(|| h.get(1)?.as_str())
            .flatten()
    })
}

/// Exchanges sorted by the request's first frame (they are emitted as
/// they complete).
fn by_request(mut xs: Vec<Value>) -> Vec<Value> {
    xs.sort_by_key(|x| x["request"]["first_frame"].as_u64());
    xs
}

// ---- python3 -m http.server -----------------------------------------------

#[test]
fn python_http_server_get_head_404_post() {
    if !require(Need::Root) || !require(Need::Program("python3")) || !require(Need::Program("curl"))
    {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let page = "<!doctype html>\n<title>netpeek</title>\n<p>Hello from the test server.</p>\n";
    std::fs::write(dir.path().join("index.html"), page).expect("write page");
    let port = free_port();
    let server = Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--directory",
        ])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start python3 http.server");
    let _server = Guard(server);
    let base = format!("http://127.0.0.1:{port}");
    wait_listening(&format!("127.0.0.1:{port}"), "python3 http.server");

    let cap = Capture::start(port);
    let get = curl(&[&format!("{base}/index.html")]);
    let head = curl(&["-I", &format!("{base}/index.html")]);
    let missing = curl(&[&format!("{base}/missing.html")]);
    let post = curl(&["-d", "name=netpeek", &format!("{base}/form")]);
    assert_eq!((get.0, head.0, missing.0, post.0), (200, 200, 404, 501));
    assert_eq!(get.1, page.len() as u64);

    let xs = by_request(cap.finish(4));
    check(&xs[0], "GET", "/index.html", 200, 0, page.len() as u64);
    check(&xs[1], "HEAD", "/index.html", 200, 0, 0);
    check(&xs[2], "GET", "/missing.html", 404, 0, missing.1);
    check(&xs[3], "POST", "/form", 501, 12, post.1);
    // HEAD announced the length of the page it did not send.
    assert_eq!(
        header(&xs[1]["response"], "Content-Length"),
        Some(&*page.len().to_string())
    );
    assert_eq!(xs[0]["response"]["content_type"], "text/html");
    assert_eq!(xs[0]["request"]["host"], format!("127.0.0.1:{port}"));
    // Four curls, four connections.
    let mut streams: Vec<u64> = xs.iter().map(|x| x["stream"].as_u64().unwrap()).collect();
    streams.dedup();
    assert_eq!(streams.len(), 4);
}

/// python3 server that answers `Expect: 100-continue` with an interim 100
/// (http.server does this for HTTP/1.1 handlers), reads the body and says
/// how many bytes it got.
const UPLOAD_SERVER: &str = r#"
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        got = self.rfile.read(n)
        body = ("got %d bytes\n" % len(got)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"#;

#[test]
fn expect_100_continue_upload() {
    if !require(Need::Root) || !require(Need::Program("python3")) || !require(Need::Program("curl"))
    {
        return;
    }
    let port = free_port();
    let server = Command::new("python3")
        .args(["-c", UPLOAD_SERVER, &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the upload server");
    let _server = Guard(server);
    wait_listening(&format!("127.0.0.1:{port}"), "upload server");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("upload.bin");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&file, &data).expect("write upload");

    let cap = Capture::start(port);
    let (code, size) = curl(&[
        "-H",
        "Expect: 100-continue",
        "--expect100-timeout",
        "10",
        "--data-binary",
        &format!("@{}", file.display()),
        &format!("http://127.0.0.1:{port}/upload"),
    ]);
    assert_eq!((code, size), (200, "got 300000 bytes\n".len() as u64));
    let xs = cap.finish(1);
    let x = &xs[0];
    check(x, "POST", "/upload", 200, 300_000, size);
    let interim = x["interim"].as_array().expect("interim responses");
    assert_eq!(interim.len(), 1, "{x}");
    assert_eq!(interim[0]["status_code"], 100);
    // The 100 came after the head and before the body ended.
    let req = &x["request"];
    let i_frame = interim[0]["last_frame"].as_u64().unwrap();
    assert!(req["first_frame"].as_u64().unwrap() < i_frame);
    assert!(i_frame < req["last_frame"].as_u64().unwrap());
    assert_eq!(header(req, "Expect"), Some("100-continue"));
}

// ---- nginx --------------------------------------------------------------------

#[test]
fn nginx_keep_alive_gzip_post_304_ipv6() {
    if !require(Need::Root) || !require(Need::Nginx) || !require(Need::Program("curl")) {
        return;
    }
    let v6 = require_part(Need::Ipv6Loopback, "the IPv6 part");
    let ng = Nginx::start(v6);
    let a = b"alpha\n".repeat(3);
    let b = b"bravo bravo\n".repeat(10);
    let big: Vec<u8> = (0..4000)
        .flat_map(|i| format!("line {i} of a compressible text\n").into_bytes())
        .collect();
    ng.file("a.txt", &a);
    ng.file("b.txt", &b);
    ng.file("big.txt", &big);

    let cap = Capture::start(ng.port);
    // Keep-alive: three URLs in one curl (one connection).
    let out = Command::new("curl")
        .args(["-s", "-S", "-H", "Accept-Encoding: identity"])
        .args([ng.url("/a.txt"), ng.url("/b.txt"), ng.url("/missing")])
        .args(["-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null"])
        .output()
        .expect("curl");
    assert!(out.status.success());
    // gzip + chunked.
    let gz = curl(&["--compressed", &ng.url("/big.txt")]);
    assert_eq!(gz.0, 200);
    // POST with a body.
    let post = curl(&["-d", "hello=world", &ng.url("/echo")]);
    assert_eq!(post, (200, 7));
    // 304: the file is older than the date asked about.
    let not_mod = curl(&[
        "-H",
        "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT",
        &ng.url("/a.txt"),
    ]);
    assert_eq!(not_mod, (304, 0));
    let mut expected = 6;
    if v6 {
        let r = curl(&["-g", &format!("http://[::1]:{}/b.txt", ng.port)]);
        assert_eq!(r, (200, b.len() as u64));
        expected += 1;
    }

    let xs = by_request(cap.finish(expected));
    check(&xs[0], "GET", "/a.txt", 200, 0, a.len() as u64);
    check(&xs[1], "GET", "/b.txt", 200, 0, b.len() as u64);
    let missing_len = xs[2]["response"]["body_bytes"].as_u64().unwrap();
    check(&xs[2], "GET", "/missing", 404, 0, missing_len);
    assert_eq!(
        header(&xs[2]["response"], "Content-Length").map(str::to_string),
        Some(missing_len.to_string())
    );
    let keep_alive_stream = &xs[0]["stream"];
    assert_eq!(&xs[1]["stream"], keep_alive_stream);
    assert_eq!(&xs[2]["stream"], keep_alive_stream);

    let g = &xs[3];
    let wire = g["response"]["body_bytes"].as_u64().unwrap();
    check(g, "GET", "/big.txt", 200, 0, wire);
    assert_eq!(g["response"]["transfer_encoding"], "chunked", "{g}");
    assert_eq!(g["response"]["content_encoding"], "gzip", "{g}");
    assert_eq!(g["response"]["body_decoded_bytes"], big.len() as u64, "{g}");
    assert!(
        wire < big.len() as u64 / 4,
        "gzip should shrink the text: {wire}"
    );
    assert!(g["response"]["body_wire_bytes"].as_u64().unwrap() > wire);
    assert_ne!(&g["stream"], keep_alive_stream);

    check(&xs[4], "POST", "/echo", 200, 11, 7);
    check(&xs[5], "GET", "/a.txt", 304, 0, 0);
    assert_eq!(
        header(&xs[5]["request"], "If-Modified-Since"),
        Some("Fri, 01 Jan 2100 00:00:00 GMT")
    );
    if v6 {
        let x = &xs[6];
        check(x, "GET", "/b.txt", 200, 0, b.len() as u64);
        assert_eq!(x["client"]["ip"], "::1");
        assert_eq!(x["server"]["ip"], "::1");
        assert_eq!(x["server"]["port"], ng.port);
    }
}

/// Reads a whole HTTP/1.1 conversation until the server closes.
fn read_all(s: &mut TcpStream) -> Vec<u8> {
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

#[test]
fn raw_clients_pipelining_and_tiny_segments() {
    if !require(Need::Root) || !require(Need::Nginx) {
        return;
    }
    let ng = Nginx::start(false);
    let a = b"alpha\n".repeat(3);
    let b = b"bravo bravo\n".repeat(10);
    ng.file("a.txt", &a);
    ng.file("b.txt", &b);
    let cap = Capture::start(ng.port);
    let addr = format!("127.0.0.1:{}", ng.port);

    // Three pipelined requests in one write.
    let mut s = TcpStream::connect(&addr).expect("connect");
    let three = "GET /a.txt HTTP/1.1\r\nHost: p\r\n\r\n\
                 GET /b.txt HTTP/1.1\r\nHost: p\r\n\r\n\
                 HEAD /a.txt HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n";
    s.write_all(three.as_bytes()).expect("write");
    let replies = read_all(&mut s);
    let text = String::from_utf8_lossy(&replies);
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 3, "{text}");

    // One request dribbled out a few bytes at a time.
    let mut s = TcpStream::connect(&addr).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    let req = b"GET /b.txt HTTP/1.1\r\nHost: dribble\r\nUser-Agent: netpeek-test\r\nConnection: close\r\n\r\n";
    for piece in req.chunks(3) {
        s.write_all(piece).expect("write");
        thread::sleep(Duration::from_millis(5));
    }
    let _ = read_all(&mut s);
    let _ = s.shutdown(Shutdown::Both);

    let xs = by_request(cap.finish(4));
    check(&xs[0], "GET", "/a.txt", 200, 0, a.len() as u64);
    check(&xs[1], "GET", "/b.txt", 200, 0, b.len() as u64);
    check(&xs[2], "HEAD", "/a.txt", 200, 0, 0);
    // All three requests came in one segment.
    let f = &xs[0]["request"]["first_frame"];
    for x in &xs[..3] {
        assert_eq!(&x["request"]["first_frame"], f, "{x}");
        assert_eq!(&x["request"]["last_frame"], f, "{x}");
        assert_eq!(x["stream"], xs[0]["stream"]);
    }
    // Responses in order.
    assert!(xs[0]["response"]["last_frame"].as_u64() <= xs[1]["response"]["first_frame"].as_u64());

    let d = &xs[3];
    check(d, "GET", "/b.txt", 200, 0, b.len() as u64);
    assert_eq!(d["request"]["host"], "dribble");
    let (first, last) = (
        d["request"]["first_frame"].as_u64().unwrap(),
        d["request"]["last_frame"].as_u64().unwrap(),
    );
    // 27 writes of 3 bytes: the head spans many segments.
    assert!(last - first >= 10, "request in frames {first}..{last}");
}
