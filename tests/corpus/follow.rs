//! `--follow N` (issue #7): the reassembled conversation of one stream,
//! checked against tshark's `-q -z follow,tcp,ascii|hex,N` on every TCP
//! stream of the corpus, the raw bytes of one side against the payloads
//! and the HTTP body, and a live follow on lo.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::*;

const RULE: &str = "===================================================================";

/// Where netpeek's follow output deliberately differs from tshark 4.0's,
/// and why. Every other (file, stream, format) must be byte-identical, and
/// every row here must still differ (a row that starts matching is stale)
/// and must hold its own, narrower, check.
const DEVIATIONS: &[(&str, u64, &str, Deviation, &str)] = &[
    (
        "sv-http-gap-simple-null.pcap",
        0,
        "hex",
        Deviation::HexGapMarker,
        "tshark hex-dumps its '[N bytes missing in capture file]' text as if it \
         were stream data and counts it into the offsets; netpeek prints the marker \
         on its own line and advances the offset by the N missing bytes, so offsets \
         stay stream positions (the ascii output is identical)",
    ),
    (
        "zeek-http-1000-requests-one-dropped-response.pcap",
        0,
        "hex",
        Deviation::HexGapMarker,
        "same gap marker in hex as above (one lost server segment)",
    ),
    (
        "zeek-tcp-ctu-64702-888.pcap",
        0,
        "ascii",
        Deviation::NodesSwapped,
        "the capture starts with the SYN-ACK: tshark makes the first packet's \
         sender (the server) Node 0; netpeek's client is the side that sent the \
         SYN, so the nodes and the tab indentation are swapped",
    ),
    (
        "zeek-tcp-ctu-64702-888.pcap",
        0,
        "hex",
        Deviation::NodesSwapped,
        "as above",
    ),
    (
        "zeek-tcp-retransmit-fast009.pcap",
        0,
        "ascii",
        Deviation::UncapturedMarked,
        "every data segment was cut to 54 bytes by the snapshot length: tshark \
         prints no chunk for payload it does not have; netpeek marks each \
         segment's bytes as missing",
    ),
    (
        "zeek-tcp-retransmit-fast009.pcap",
        0,
        "hex",
        Deviation::UncapturedMarked,
        "as above",
    ),
    (
        "zeek-ipv4-fragmented-4.pcap",
        1,
        "ascii",
        Deviation::IpFragments,
        "the only data segment arrives in IPv4 fragments: tshark reassembles \
         them, netpeek does not defragment IP (yet), so the stream shows no data",
    ),
    (
        "zeek-ipv4-fragmented-4.pcap",
        1,
        "hex",
        Deviation::IpFragments,
        "as above",
    ),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Deviation {
    HexGapMarker,
    NodesSwapped,
    UncapturedMarked,
    IpFragments,
}

/// tshark's follow blocks of one file, per stream, from one run with one
/// `-z` per stream.
fn tshark_follow(file: &Path, streams: &[u64], format: &str) -> BTreeMap<u64, String> {
    let mut cmd = tshark();
    cmd.arg("-r").arg(file).arg("-q");
    for s in streams {
        cmd.arg("-z").arg(format!("follow,tcp,{format},{s}"));
    }
    let o = run(&mut cmd);
    assert!(o.status.success(), "tshark failed on {}", name(file));
    let text = String::from_utf8(o.stdout).expect("tshark's follow output is ASCII");
    let start = format!("\n{RULE}\nFollow: ");
    let mut blocks = BTreeMap::new();
    for part in text.split(start.as_str()).skip(1) {
        let body = part
            .split(&format!("\n{RULE}\n"))
            .next()
            .unwrap_or_default();
        let stream: u64 = body
            .lines()
            .find_map(|l| l.strip_prefix("Filter: tcp.stream eq "))
            .and_then(|n| n.parse().ok())
            .expect("a Filter line");
        blocks.insert(stream, format!("{start}{body}\n{RULE}\n"));
    }
    blocks
}

fn tcp_streams(file: &Path) -> Vec<u64> {
    let o =
        run(tshark()
            .arg("-r")
            .arg(file)
            .args(["-Y", "tcp", "-T", "fields", "-e", "tcp.stream"]));
    let mut v: Vec<u64> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn follow(file: &Path, args: &[&str]) -> Vec<u8> {
    let o = run(netpeek().arg("-r").arg(file).args(args));
    assert!(
        o.status.success(),
        "netpeek {args:?} on {}: {}",
        name(file),
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

/// Swaps Node 0 and Node 1 and flips the direction (tab) of every chunk
/// line, turning netpeek's client/server view into tshark's
/// first-packet view.
fn swap_nodes(text: &str) -> String {
    let mut out = String::new();
    let (mut n0, mut n1) = (String::new(), String::new());
    for l in text.lines() {
        if let Some(a) = l.strip_prefix("Node 0: ") {
            n0 = a.to_string();
        } else if let Some(b) = l.strip_prefix("Node 1: ") {
            n1 = b.to_string();
        }
    }
    let mut in_body = false;
    for l in text.split_inclusive('\n') {
        if l.starts_with("Node 0: ") {
            out.push_str(&format!("Node 0: {n1}\n"));
        } else if l.starts_with("Node 1: ") {
            out.push_str(&format!("Node 1: {n0}\n"));
            in_body = true;
        } else if in_body && !l.starts_with(RULE) && is_chunk_head(l) {
            match l.strip_prefix('\t') {
                Some(rest) => out.push_str(rest),
                None => {
                    out.push('\t');
                    out.push_str(l);
                }
            }
        } else {
            out.push_str(l);
        }
    }
    out
}

/// A length line of the ascii format or an offset line of the hex format.
fn is_chunk_head(l: &str) -> bool {
    let l = l.trim_start_matches('\t').trim_end();
    !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit())
        || l.get(..8)
            .is_some_and(|o| o.bytes().all(|b| b.is_ascii_hexdigit()))
            && l.get(8..10) == Some("  ")
}

/// A hex dump turned back into (is_server, bytes) runs, with tshark's
/// in-band gap text (`[N bytes missing in capture file]` and its NUL) and
/// netpeek's marker line both turned into N zero bytes.
fn hex_runs(text: &str) -> Vec<(bool, Vec<u8>)> {
    let mut runs: Vec<(bool, Vec<u8>)> = Vec::new();
    let push = |server: bool, bytes: &[u8], runs: &mut Vec<(bool, Vec<u8>)>| match runs.last_mut() {
        Some((s, b)) if *s == server => b.extend_from_slice(bytes),
        _ => runs.push((server, bytes.to_vec())),
    };
    for l in text.lines() {
        let server = l.starts_with('\t');
        let t = l.trim_start_matches('\t');
        if let Some(n) = t
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(" bytes missing in capture file]"))
        {
            let n: usize = n.parse().unwrap();
            push(server, &vec![0; n], &mut runs);
            continue;
        }
        if !is_chunk_head(t) {
            continue;
        }
        let hex = t.get(10..58).unwrap_or(t.get(10..).unwrap_or_default());
        let bytes: Vec<u8> = hex
            .split_whitespace()
            .map(|h| u8::from_str_radix(h, 16).unwrap())
            .collect();
        push(server, &bytes, &mut runs);
    }
    // tshark's marker as data: "[N bytes missing in capture file]\0".
    const SUFFIX: &[u8] = b" bytes missing in capture file]\0";
    for (_, b) in runs.iter_mut() {
        while let Some(end) = find(b, SUFFIX) {
            let start = b[..end].iter().rposition(|&c| c == b'[').unwrap();
            let n: usize = std::str::from_utf8(&b[start + 1..end])
                .unwrap()
                .parse()
                .unwrap();
            b.splice(start..end + SUFFIX.len(), vec![0; n]);
        }
    }
    runs
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The text without netpeek's missing-bytes records (ascii: the length line
/// and the marker; hex: the marker line).
fn without_markers(text: &str, format: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        let is_marker = |l: &str| {
            l.trim_start_matches('\t').starts_with('[')
                && l.contains(" bytes missing in capture file]")
        };
        if format == "ascii" && lines.get(i + 1).is_some_and(|n| is_marker(n)) {
            i += 2;
            continue;
        }
        if format == "hex" && is_marker(l) {
            i += 1;
            continue;
        }
        out.push_str(l);
        i += 1;
    }
    out
}

#[test]
fn follow_matches_tshark_on_the_corpus() {
    if !require(Need::Tshark) {
        return;
    }
    let files = corpus_files();
    let mut identical = 0usize;
    let mut deviations_seen = Vec::new();
    let mut report = Vec::new();
    for file in &files {
        let streams = tcp_streams(file);
        if streams.is_empty() {
            continue;
        }
        for format in ["ascii", "hex"] {
            let theirs = tshark_follow(file, &streams, format);
            let mut same = 0;
            for &s in &streams {
                let want = theirs
                    .get(&s)
                    .unwrap_or_else(|| panic!("tshark printed no block for {} #{s}", name(file)));
                let ours = follow(
                    file,
                    &["--follow", &s.to_string(), "--follow-format", format],
                );
                let ours = String::from_utf8(ours).expect("follow output of these files is text");
                let dev = DEVIATIONS
                    .iter()
                    .find(|d| d.0 == name(file) && d.1 == s && d.2 == format);
                match dev {
                    None => {
                        assert_eq!(
                            &ours,
                            want,
                            "{} stream {s} ({format}) differs from tshark",
                            name(file)
                        );
                        same += 1;
                    }
                    Some(d) => {
                        assert_ne!(&ours, want, "stale deviation row {d:?}");
                        check_deviation(d.3, &ours, want, format, file, s);
                        deviations_seen.push((d.0, d.1, d.2));
                    }
                }
            }
            identical += same;
            report.push(format!(
                "{}: {format}: {same}/{} streams identical",
                name(file),
                streams.len()
            ));
        }
    }
    eprintln!("{}", report.join("\n"));
    // Every deviation row was exercised, and the corpus was really there.
    assert_eq!(
        deviations_seen.len(),
        DEVIATIONS.len(),
        "{deviations_seen:?}"
    );
    assert!(
        identical >= 190,
        "only {identical} streams compared identical"
    );
}

fn check_deviation(d: Deviation, ours: &str, theirs: &str, format: &str, file: &Path, s: u64) {
    let what = format!("{} #{s} {format} ({d:?})", name(file));
    match d {
        Deviation::HexGapMarker => {
            assert!(ours.contains("bytes missing in capture file]\n"), "{what}");
            assert_eq!(hex_runs(ours), hex_runs(theirs), "{what}");
        }
        Deviation::NodesSwapped => assert_eq!(swap_nodes(ours), theirs, "{what}"),
        Deviation::UncapturedMarked => {
            let marked = ours.matches(" bytes missing in capture file]").count();
            assert!(marked >= 10, "{what}: {marked} markers");
            assert_eq!(without_markers(ours, format), theirs, "{what}");
        }
        Deviation::IpFragments => {
            // Header and closing rule only: no data, nothing invented.
            let header_only = ours.lines().count() == 7 && ours.ends_with(&format!("{RULE}\n"));
            assert!(header_only, "{what}: {ours}");
            assert!(
                theirs.starts_with(ours.trim_end_matches(&format!("{RULE}\n"))),
                "{what}"
            );
        }
    }
}

/// The bytes tshark's raw follow format lists for one side (hex per chunk,
/// the server's tab indented).
fn tshark_raw_side(file: &Path, stream: u64, server: bool) -> Vec<u8> {
    let o =
        run(tshark()
            .arg("-r")
            .arg(file)
            .args(["-q", "-z", &format!("follow,tcp,raw,{stream}")]));
    let text = String::from_utf8(o.stdout).unwrap();
    let mut out = Vec::new();
    for l in text
        .lines()
        .skip_while(|l| !l.starts_with("Node 1:"))
        .skip(1)
    {
        if l.starts_with(RULE) {
            break;
        }
        if l.starts_with('\t') != server {
            continue;
        }
        let h = l.trim();
        for i in (0..h.len()).step_by(2) {
            out.push(u8::from_str_radix(&h[i..i + 2], 16).unwrap());
        }
    }
    out
}

fn http_records(file: &Path) -> Vec<serde_json::Value> {
    let o = run(netpeek().arg("-r").arg(file).arg("--json"));
    json_lines(&o.stdout)
        .into_iter()
        .filter(|v| v["type"] == "http")
        .collect()
}

#[test]
fn raw_writes_exactly_one_sides_bytes() {
    if !require(Need::Tshark) {
        return;
    }
    let lecture = repo().join("captures/lecture-http.pcapng");
    let dir = corpus_dir();
    let cases = vec![
        (lecture, 0u64),
        (dir.join("zeek-http-get.pcap"), 0),
        (dir.join("sv-http-multipart-post-ipv6.pcap"), 0),
    ];
    for (file, stream) in cases {
        let s = stream.to_string();
        let server = follow(
            &file,
            &[
                "--follow",
                &s,
                "--follow-format",
                "raw",
                "--follow-side",
                "server",
            ],
        );
        let client = follow(
            &file,
            &[
                "--follow",
                &s,
                "--follow-format",
                "raw",
                "--follow-side",
                "client",
            ],
        );
        // Exactly the reassembled payloads, as tshark lists them.
        assert_eq!(
            server,
            tshark_raw_side(&file, stream, true),
            "{}",
            name(&file)
        );
        assert_eq!(
            client,
            tshark_raw_side(&file, stream, false),
            "{}",
            name(&file)
        );
        // And the HTTP messages: heads, then bodies of the sizes the HTTP
        // dissector framed.
        let x = &http_records(&file)[0];
        assert!(client.starts_with(x["request"]["method"].as_str().unwrap().as_bytes()));
        assert!(server.starts_with(b"HTTP/1."), "{}", name(&file));
        let head_end = find(&server, b"\r\n\r\n").unwrap() + 4;
        let body_bytes = x["response"]["body_wire_bytes"].as_u64().unwrap() as usize;
        assert_eq!(server.len() - head_end, body_bytes, "{}", name(&file));
        let req_body = x["request"]["body_wire_bytes"].as_u64().unwrap() as usize;
        let req_head_end = find(&client, b"\r\n\r\n").unwrap() + 4;
        assert_eq!(client.len() - req_head_end, req_body, "{}", name(&file));
    }
    // The 4705-byte text file zeek-http-get.pcap downloads.
    let server = follow(
        &dir.join("zeek-http-get.pcap"),
        &[
            "--follow",
            "0",
            "--follow-format",
            "raw",
            "--follow-side",
            "server",
        ],
    );
    let body = &server[find(&server, b"\r\n\r\n").unwrap() + 4..];
    assert_eq!(body.len(), 4705);
    assert!(body.starts_with(b"\n0.26 | 2012-08-24 15:10:04 -0700\n"));
    assert!(body.ends_with(b"(Jon Siwek)\n"));
}

#[test]
fn raw_needs_a_side_and_stdout_to_itself() {
    let lecture = repo().join("captures/lecture-http.pcapng");
    let o =
        run(netpeek()
            .arg("-r")
            .arg(&lecture)
            .args(["--follow", "0", "--follow-format", "raw"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--follow-side"));
    let o = run(netpeek()
        .arg("-r")
        .arg(&lecture)
        .args(["--follow", "0", "-w", "-"]));
    assert_eq!(o.status.code(), Some(2));
    let o = run(netpeek()
        .arg("-r")
        .arg(&lecture)
        .args(["--follow", "0", "--json"]));
    assert_eq!(o.status.code(), Some(2));
    let o = run(netpeek()
        .arg("-r")
        .arg(&lecture)
        .args(["--follow-side", "client"]));
    assert_eq!(o.status.code(), Some(2), "--follow-side without --follow");
}

#[test]
fn unknown_stream_prints_an_empty_block_and_a_warning() {
    let lecture = repo().join("captures/lecture-http.pcapng");
    let o = run(netpeek().arg("-r").arg(&lecture).args(["--follow", "9"]));
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        format!("\n{RULE}\nFollow: tcp,ascii\nFilter: tcp.stream eq 9\nNode 0: :0\nNode 1: :0\n{RULE}\n")
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("netpeek: warn: stream 9 was not seen"));
}

#[test]
fn follow_side_and_colour() {
    let lecture = repo().join("captures/lecture-http.pcapng");
    let both = String::from_utf8(follow(&lecture, &["--follow", "0"])).unwrap();
    let server = String::from_utf8(follow(
        &lecture,
        &["--follow", "0", "--follow-side", "server"],
    ))
    .unwrap();
    // The same header, then only the tab-indented (server) chunks.
    let body = |t: &str| t.lines().skip(6).map(str::to_string).collect::<Vec<_>>();
    assert!(body(&both).iter().any(|l| l.starts_with("GET / HTTP/1.1")));
    assert!(!body(&server).iter().any(|l| l.starts_with("GET ")));
    assert!(body(&server)
        .iter()
        .any(|l| l.starts_with("HTTP/1.0 200 OK")));
    // Colour: the client's lines red, the server's blue; the text itself
    // unchanged once the escapes are gone.
    let coloured =
        String::from_utf8(follow(&lecture, &["--follow", "0", "--color", "always"])).unwrap();
    assert!(
        coloured.contains("\x1b[31mGET / HTTP/1.1\r\x1b[0m\n"),
        "{coloured:?}"
    );
    assert!(
        coloured.contains("\x1b[34mHTTP/1.0 200 OK\r\x1b[0m\n"),
        "{coloured:?}"
    );
    let stripped = coloured
        .replace("\x1b[31m", "")
        .replace("\x1b[34m", "")
        .replace("\x1b[0m", "");
    assert_eq!(stripped, both);
    // NO_COLOR and a pipe: no escapes by default.
    assert!(!both.contains('\x1b'));
}

/// Serves one fixed response to one request on 127.0.0.1, then closes.
struct OneShotServer {
    port: u16,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl OneShotServer {
    fn start(response: &'static [u8]) -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let thread = std::thread::spawn(move || {
            if let Ok((mut c, _)) = l.accept() {
                c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let mut got = Vec::new();
                let mut buf = [0u8; 1024];
                while find(&got, b"\r\n\r\n").is_none() {
                    match c.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = c.write_all(response);
            }
        });
        Self {
            port,
            thread: Some(thread),
        }
    }
}

impl Drop for OneShotServer {
    fn drop(&mut self) {
        // Unblock a server still waiting in accept().
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn live_follow_on_lo() {
    if !require(Need::Root) {
        return;
    }
    const REQUEST: &[u8] = b"GET /follow-me HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    const RESPONSE: &[u8] =
        b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nConnection: close\r\n\r\nfollowed \x01!\n";
    let server = OneShotServer::start(RESPONSE);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("follow.txt");
    let filter = format!("tcp port {}", server.port);
    let np = LiveNetpeek::start(&["-i", "lo", "--follow", "0", &filter], &out);
    let mut c = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let client_port = c.local_addr().unwrap().port();
    c.write_all(REQUEST).unwrap();
    let mut got = Vec::new();
    c.read_to_end(&mut got).unwrap();
    drop(c);
    assert_eq!(got, RESPONSE);
    // The follow output appears while the capture runs (flushed per
    // chunk); wait, bounded, for the response's chunk.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&out)
        .unwrap_or_default()
        .contains("followed .!")
    {
        assert!(
            Instant::now() < deadline,
            "no follow output during the capture"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, _) = np.stop(libc::SIGINT);
    assert!(status.success());
    let text = std::fs::read_to_string(&out).unwrap();
    let want = format!(
        "\n{RULE}\nFollow: tcp,ascii\nFilter: tcp.stream eq 0\n\
         Node 0: 127.0.0.1:{client_port}\nNode 1: 127.0.0.1:{}\n\
         {}\n{}\n\t{}\n{}\n{RULE}\n",
        server.port,
        REQUEST.len(),
        String::from_utf8_lossy(REQUEST),
        RESPONSE.len(),
        String::from_utf8_lossy(RESPONSE).replace('\x01', ".")
    );
    assert_eq!(text, want);
}
