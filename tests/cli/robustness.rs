//! Hostile and damaged input, faults during capture, privileges (issue #6).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::capture::*;
use crate::support::*;

/// Writes a microsecond pcap of Ethernet frames.
fn write_pcap(path: &Path, linktype: u32, frames: &[(u64, Vec<u8>)]) {
    let mut w = PcapWriter::create(path, linktype);
    for (ts_us, f) in frames {
        w.frame(*ts_us, f);
    }
    w.finish();
}

/// Runs a command, returning its output and peak resident memory (KiB).
fn run_measured(cmd: &mut Command) -> (std::process::Output, i64) {
    run_measured_with(cmd, None)
}

/// Forks and execs the command given as arguments, waits for it with
/// wait4(2) and writes its peak resident memory (KiB) to the file named
/// first.
const MEASURE: &str = "import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, ru = os.wait4(pid, 0)
open(sys.argv[1], 'w').write(str(ru.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
os._exit(code if code >= 0 else 128 - code)
";

/// Like [`run_measured`], with stdout written to `stdout_file` instead of
/// collected (for outputs of hundreds of megabytes).
///
/// The peak comes from wait4(2) in a small python3 parent rather than in
/// this test process: Linux counts a process's peak from before its exec
/// too, so a child forked from a test binary holding hundreds of
/// megabytes would report at least that much. Forked from python, the
/// floor is python's own size (about 10 MiB).
fn run_measured_with(cmd: &mut Command, stdout_file: Option<&Path>) -> (std::process::Output, i64) {
    let rss_file = tempfile::NamedTempFile::new().unwrap();
    let mut wrapped = Command::new("python3");
    wrapped
        .arg("-c")
        .arg(MEASURE)
        .arg(rss_file.path())
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    match stdout_file {
        Some(p) => wrapped.stdout(std::fs::File::create(p).unwrap()),
        None => wrapped.stdout(Stdio::piped()),
    };
    let o = wrapped
        .stderr(Stdio::piped())
        .output()
        .expect("python3 (make deps installs it)");
    let rss = std::fs::read_to_string(rss_file.path())
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (o, rss)
}

/// A tmpfs of a given size mounted on a temporary directory (root only),
/// unmounted on drop.
struct SmallTmpfs {
    dir: tempfile::TempDir,
}

impl SmallTmpfs {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "netpeek-test"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Self { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallTmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn truncated_files_show_every_complete_frame_then_one_error() {
    let dir = corpus_dir();
    let inputs = vec![
        repo().join("captures/lecture-http.pcapng"),
        dir.join("zeek-http-get.pcap"),
        dir.join("pcapng-gen-test202-multi-section-mixed-endian.pcapng"),
        dir.join("zeek-http-cooper-grill-dvwa.pcapng"),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let mut cuts = 0;
    for input in inputs {
        let data = std::fs::read(&input).unwrap();
        let full = run(netpeek().arg("--plain").arg("-r").arg(&input));
        assert!(full.status.success());
        let full_lines: Vec<&str> = std::str::from_utf8(&full.stdout).unwrap().lines().collect();
        let cut_file = tmp.path().join("cut");
        let mut at = 1;
        while at < data.len() {
            std::fs::write(&cut_file, &data[..at]).unwrap();
            let o = run(netpeek().arg("--plain").arg("-r").arg(&cut_file));
            let text = String::from_utf8_lossy(&o.stdout);
            // Packet lines; notices after them may report what the cut
            // left unfinished.
            let lines: Vec<&str> = text
                .lines()
                .filter(|l| !l.starts_with("-- netpeek"))
                .collect();
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                !err.contains("panicked"),
                "{} cut at {at}: {err}",
                name(&input)
            );
            assert_eq!(
                lines[..],
                full_lines[..lines.len()],
                "{} cut at {at}",
                name(&input)
            );
            let errors: Vec<&str> = err
                .lines()
                .filter(|l| l.starts_with("netpeek: ") && !l.starts_with("netpeek: notice: "))
                .collect();
            match o.status.code() {
                Some(0) => assert!(errors.is_empty()),
                Some(1) => {
                    assert_eq!(errors.len(), 1, "{} cut at {at}: {err}", name(&input));
                    assert!(
                        errors[0].contains("truncated") || errors[0].contains("don't match"),
                        "{} cut at {at}: {}",
                        name(&input),
                        errors[0]
                    );
                }
                other => panic!("{} cut at {at}: exit {other:?}", name(&input)),
            }
            cuts += 1;
            // Every 97 bytes, and at least 200 cuts of a small file.
            at += (data.len() / 200).clamp(1, 97);
        }
    }
    assert!(cuts > 100);
}

#[test]
fn unknown_link_type_is_shown_not_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("user0.pcap");
    write_pcap(
        &f,
        147,
        &[(1_000_000, vec![1, 2, 3, 4, 5]), (2_000_000, vec![9; 40])],
    );
    let o = run(netpeek().arg("--plain").arg("-r").arg(&f));
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "00:00:01.000000 [unknown link type 147], length 5\n00:00:02.000000 [unknown link type 147], length 40\n"
    );
    // The timeline says the same, and goes on to its summary.
    let o = run(netpeek().arg("-r").arg(&f));
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "   0.000000       [unknown link type 147], length 5"
    );
    assert_eq!(
        lines[1],
        "   1.000000       [unknown link type 147], length 40"
    );
    assert!(
        text.contains("Summary: 2 packets, 0 TCP connections"),
        "{text}"
    );
    let o = run(netpeek().arg("-r").arg(&f).arg("--json"));
    let lines = json_lines(&o.stdout);
    assert_eq!(packets(&lines)[0]["decode_issue"], "unknown link type 147");
}

#[test]
fn snaplen_truncated_packets_are_decoded_as_far_as_the_bytes_go() {
    let dir = corpus_dir();
    // 21 data frames of this connection were cut to 54 bytes (headers only).
    let o = run(netpeek()
        .arg("-r")
        .arg(dir.join("zeek-tcp-retransmit-fast009.pcap"))
        .arg("--json"));
    assert!(o.status.success());
    let lines = json_lines(&o.stdout);
    let all = packets(&lines);
    let cut: Vec<&serde_json::Value> = all
        .iter()
        .copied()
        .filter(|p| p["caplen"].as_u64() < p["len"].as_u64())
        .collect();
    assert_eq!(cut.len(), 21);
    for p in cut {
        assert_eq!(p["caplen"], 54);
        assert_eq!(p["truncated"], true);
        // The TCP header was captured: ports, numbers and the payload
        // length on the wire are all known.
        let len = p["len"].as_u64().unwrap();
        assert_eq!(p["tcp"]["payload_len"].as_u64().unwrap(), len - 54);
    }
}

#[test]
fn output_to_a_full_device_fails_cleanly_and_keeps_a_readable_file() {
    // /dev/full: every write fails with ENOSPC.
    let src = repo().join("captures/lecture-http.pcapng");
    let o = run(netpeek()
        .arg("-r")
        .arg(&src)
        .args(["-q", "-w", "/dev/full"]));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr)
            .lines()
            .filter(|l| l.starts_with("netpeek:"))
            .collect::<Vec<_>>(),
        ["netpeek: cannot write /dev/full: No space left on device"]
    );
    if !require_part(Need::Root, "the tmpfs part") || !require_part(Need::Tshark, "the tmpfs part")
    {
        return;
    }
    let Some(mnt) = SmallTmpfs::mount("256k") else {
        unavailable("the tmpfs part cannot mount a tmpfs here");
        return;
    };
    let out = mnt.path().join("full.pcapng");
    let o = run(netpeek()
        .arg("-r")
        .arg(corpus_dir().join("zeek-http-206_example_b.pcap"))
        .args(["-q", "-w"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "netpeek: cannot write {}: No space left on device",
            out.display()
        )),
        "{err}"
    );
    // What was written is a valid capture: tshark reads it without a word.
    let t = run(tshark()
        .arg("-r")
        .arg(&out)
        .args(["-T", "fields", "-e", "frame.number"]));
    assert!(t.status.success());
    assert_eq!(tshark_warnings(&t.stderr), Vec::<String>::new());
    let n = String::from_utf8_lossy(&t.stdout).lines().count();
    assert!(n > 100, "only {n} frames kept");
}

#[test]
fn interface_going_away_is_a_clear_error() {
    if !require(Need::Root) {
        return;
    }
    let a = format!("npgo{}", std::process::id() % 10000);
    let b = format!("{a}p");
    let made = Command::new("ip")
        .args(["link", "add", &a, "type", "veth", "peer", "name", &b])
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        unavailable("cannot create a veth pair here (ip link add)");
        return;
    }
    struct Del(String);
    impl Drop for Del {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["link", "del", &self.0]).status();
        }
    }
    let _del = Del(a.clone());
    let _ = Command::new("ip").args(["link", "set", &a, "up"]).status();
    let _ = Command::new("ip").args(["link", "set", &b, "up"]).status();
    let tmp = tempfile::tempdir().unwrap();
    let np = LiveNetpeek::start(&["-i", &a], &tmp.path().join("out"));
    let mut np = np;
    std::thread::sleep(Duration::from_millis(300));
    assert!(Command::new("ip")
        .args(["link", "del", &a])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = np.guard.child().try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "netpeek kept running after its interface was deleted"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(1));
    let line = np.wait_stderr("netpeek:", Duration::from_secs(5));
    assert!(
        line.starts_with(&format!("netpeek: live capture on {a} failed: ")),
        "{line}"
    );
}

#[test]
fn drops_privileges_after_opening_device_and_files() {
    if !require(Need::Root) || !require(Need::Tshark) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // The output is created as root before the drop, in a directory only
    // root may write to.
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = tmp.path().join("z.pcapng");
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = rx.local_addr().unwrap().port();
    // netpeek starts with supplementary groups of its own (root's 0 and
    // 4242); after the drop it must hold exactly nobody's.
    let np = LiveNetpeek::start_with(
        &[
            "-i",
            "lo",
            "-Z",
            "nobody",
            "-w",
            out.to_str().unwrap(),
            "udp",
            "port",
            &port.to_string(),
        ],
        &tmp.path().join("stdout"),
        |cmd| {
            use std::os::unix::process::CommandExt;
            // SAFETY: setgroups(2) between fork and exec, with a valid
            // array; no allocation happens in the closure.
            unsafe {
                cmd.pre_exec(|| {
                    let groups: [libc::gid_t; 2] = [0, 4242];
                    if libc::setgroups(2, groups.as_ptr()) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        },
    );
    let pid = np.guard.0.as_ref().unwrap().id();
    std::thread::sleep(Duration::from_millis(200));
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid_line = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .unwrap()
        .to_string();
    let gid_line = status
        .lines()
        .find(|l| l.starts_with("Gid:"))
        .unwrap()
        .to_string();
    let groups_line = status
        .lines()
        .find(|l| l.starts_with("Groups:"))
        .unwrap()
        .to_string();
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..3 {
        tx.send_to(b"z", ("127.0.0.1", port)).unwrap();
    }
    std::thread::sleep(Duration::from_millis(200));
    let (st, stderr) = np.stop(libc::SIGINT);
    // Real, effective, saved and filesystem uid are all nobody's.
    assert_eq!(
        uid_line.split_whitespace().skip(1).collect::<Vec<_>>(),
        ["65534"; 4],
        "{uid_line}"
    );
    assert!(
        gid_line.split_whitespace().skip(1).all(|g| g == "65534"),
        "{gid_line}"
    );
    // Supplementary groups: nobody's, from the group database (as
    // initgroups(3) makes them), and nothing left of the starting set.
    let id = run(Command::new("id").args(["-G", "nobody"]));
    let mut want: Vec<String> = String::from_utf8_lossy(&id.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    want.sort();
    let mut have: Vec<String> = groups_line
        .split_whitespace()
        .skip(1)
        .map(str::to_string)
        .collect();
    have.sort();
    assert_eq!(have, want, "{groups_line}");
    assert!(
        !have.iter().any(|g| g == "0" || g == "4242"),
        "{groups_line}"
    );
    // The file was created (by root) before the drop: nobody could not
    // have created it there.
    assert_eq!(std::fs::metadata(&out).unwrap().uid(), 0);
    assert!(st.success(), "{stderr:?}");
    // It kept capturing after the drop, and the file is complete.
    assert!(
        stderr.contains(&"3 packets captured".to_string()),
        "{stderr:?}"
    );
    let t = run(tshark()
        .arg("-r")
        .arg(&out)
        .args(["-T", "fields", "-e", "udp.length"]));
    assert_eq!(String::from_utf8_lossy(&t.stdout).lines().count(), 3);
    // An unknown user is a usage error before anything is captured.
    let o = run(netpeek().args(["-i", "lo", "-c", "1", "-Z", "no-such-user-np"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("-Z: no such user 'no-such-user-np'"));
}

#[test]
fn syn_flood_keeps_the_connection_table_bounded() {
    // One million SYNs from distinct ports and addresses: the table stays
    // at its limit, evictions are reported, memory stays bounded.
    if !require(Need::Program("python3")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("flood.pcap");
    let n = 1_000_000u32;
    let mut w = PcapWriter::create(&f, 1);
    let mut pkt = Vec::with_capacity(54);
    for i in 0..n {
        pkt.clear();
        let src = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
        etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(src, [192, 168, 0, 1], 64)
            .tcp(
                1024 + (i % 60000) as u16,
                80,
                i.wrapping_mul(2_654_435_761),
                1024,
            )
            .syn()
            .write(&mut pkt, &[])
            .unwrap();
        w.frame(1_700_000_000_000_000 + u64::from(i) * 10, &pkt);
    }
    w.finish();
    let (o, rss_kib) = run_measured(netpeek().arg("-r").arg(&f).arg("--json"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let mut evicted = 0u64;
    let mut notices = 0;
    let mut connections = 0;
    let mut max_stream = 0;
    for l in text.lines() {
        if l.contains("\"type\":\"notice\"") && l.contains("connections_evicted") {
            notices += 1;
        } else if l.contains("\"type\":\"connection\"") {
            connections += 1;
            if l.contains("\"close\":\"evicted\"") {
                evicted += 1;
            }
        } else if let Some(i) = l.find("\"stream\":") {
            let v: u64 = l[i + 9..]
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse()
                .unwrap();
            max_stream = max_stream.max(v);
        }
    }
    assert_eq!(max_stream, u64::from(n) - 1, "every SYN is its own stream");
    assert_eq!(connections, n as usize, "every connection is reported once");
    assert!(notices >= 18, "eviction notices: {notices}");
    assert!(evicted >= 850_000, "evicted: {evicted}");
    // The default 100 000 tracked connections (about 1.2 KiB each) plus
    // the reader's buffers; without the limit this would pass 1 GiB.
    eprintln!("peak RSS {rss_kib} KiB (bound 180 MiB)");
    assert!(rss_kib < 180 * 1024, "peak RSS {rss_kib} KiB");
}

// ---- hostile HTTP and TCP streams, memory measured ------------------------

/// Peak RSS bounds below are set well under what the input would cost if
/// the limit in question did not hold (the input's size, or more), and
/// well above what netpeek needs (about 10 MiB for these runs).
const MIB: i64 = 1024;

/// The JSON records of one type, from a file of NDJSON; packet lines are
/// skipped unless asked for (they can be millions).
fn json_records(path: &Path, kind: &str) -> Vec<serde_json::Value> {
    use std::io::BufRead;
    let prefix = format!("{{\"type\":\"{kind}\"");
    std::io::BufReader::new(std::fs::File::open(path).unwrap())
        .lines()
        .map(|l| l.unwrap())
        .filter(|l| l.starts_with(&prefix))
        .map(|l| serde_json::from_str(&l).unwrap())
        .collect()
}

/// The one `http` record of a run, for captures of one exchange.
fn only(records: &[serde_json::Value]) -> &serde_json::Value {
    assert_eq!(records.len(), 1, "{records:#?}");
    &records[0]
}

fn notes(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|n| n.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn http_head_of_100_mb_without_an_end_is_given_up_at_the_head_limit() {
    if !require(Need::Program("python3")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("head.pcap");
    let mut c = TcpConv::new(PcapWriter::create(&f, 1), 40000, 1000, 5000);
    c.handshake();
    let start = b"GET /endless HTTP/1.1\r\nHost: x\r\nX-Filler: ";
    c.send(Dir::ToServer, start, 1460, 1);
    // 100 MB of one header value, never ended, each segment acknowledged.
    let filler = vec![b'a'; 64_000];
    let segments = 100_000_000 / filler.len();
    for _ in 0..segments {
        c.send(Dir::ToServer, &filler, filler.len(), 1);
    }
    let sent = (start.len() + segments * filler.len()) as u64;
    c.send(
        Dir::ToClient,
        b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\r\n",
        1460,
        1,
    );
    c.close();
    c.finish();
    let out = tmp.path().join("out.json");
    let (o, rss_kib) = run_measured_with(netpeek().arg("-r").arg(&f).arg("--json"), Some(&out));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let limit_note =
        "request head longer than 65536 bytes (the limit): skipped, looking for the next message";
    let unpaired = format!(
        "response without a request (the client sent {sent} bytes that are not HTTP: `GET /endless HTTP/1.1\\r`)"
    );
    // The packet that carried the 65537th byte of the head says so: the
    // head started in frame 4 (42 bytes), then 64 000-byte segments (each
    // acknowledged) in frames 6, 8, …: byte 65537 is in frame 8. The
    // answer's frame tells that it pairs with nothing.
    let flagged: Vec<(u64, Vec<String>)> = json_records(&out, "packet")
        .iter()
        .filter(|p| p.get("http_notes").is_some())
        .map(|p| (p["frame"].as_u64().unwrap(), notes(&p["http_notes"])))
        .collect();
    let answer_frame = 4 + 2 + 2 * segments as u64;
    assert_eq!(
        flagged,
        [
            (8, vec![limit_note.to_string()]),
            (answer_frame, vec![unpaired.clone()])
        ]
    );
    // The answer pairs with no request; the record tells why.
    let http = json_records(&out, "http");
    let x = only(&http);
    assert!(x.get("request").is_none(), "{x}");
    assert_eq!(x["response"]["status_code"], 431);
    assert_eq!(notes(&x["notes"]), [limit_note.to_string(), unpaired]);
    let conns = json_records(&out, "connection");
    assert_eq!(only(&conns)["bytes"]["client"], sent);
    // Holding the head would take 100 MB.
    eprintln!("peak RSS {rss_kib} KiB (bound 40 MiB)");
    assert!(rss_kib < 40 * MIB, "peak RSS {rss_kib} KiB");
}

#[test]
fn http_head_with_100_000_header_fields_keeps_the_first_128() {
    if !require(Need::Program("python3")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("headers.pcap");
    let mut c = TcpConv::new(PcapWriter::create(&f, 1), 40000, 1000, 5000);
    c.handshake();
    let mut req = b"GET /many HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..100_000 {
        req.extend_from_slice(format!("X-H{i}: v{i}\r\n").as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    let head_len = req.len();
    c.send(Dir::ToServer, &req, 1460, 2);
    c.send(
        Dir::ToClient,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        1460,
        1,
    );
    c.close();
    c.finish();

    // A head this big passes the byte limit only when asked to; then the
    // field-count limit keeps the first 128 fields.
    let max_head = (2 * head_len).to_string();
    let (o, rss_kib) =
        run_measured(
            netpeek()
                .arg("-r")
                .arg(&f)
                .args(["--json", "--http-max-head", &max_head]),
        );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines = json_lines(&o.stdout);
    let http: Vec<&serde_json::Value> = lines.iter().filter(|l| l["type"] == "http").collect();
    assert_eq!(http.len(), 1);
    let x = http[0];
    let headers = x["request"]["headers"].as_array().unwrap();
    assert_eq!(headers.len(), 128);
    assert_eq!(headers[127], serde_json::json!(["X-H126", "v126"]));
    assert_eq!(x["request"]["complete"], true);
    assert_eq!(x["response"]["status_code"], 200);
    assert_eq!(x["response"]["body_bytes"], 2);
    assert_eq!(
        notes(&x["notes"]),
        ["100001 header fields, more than the limit of 128: kept the first 128"]
    );
    // The head (1.3 MB) is held once while it arrives and parsed once;
    // keeping all 100 001 fields in the record (about 22 MB as owned
    // strings, redacted copy included) would pass the bound.
    eprintln!("peak RSS {rss_kib} KiB (bound 32 MiB)");
    assert!(rss_kib < 32 * MIB, "peak RSS {rss_kib} KiB");

    // With the default head limit (64 KiB) the same head is given up.
    let (o, rss_kib) = run_measured(netpeek().arg("-r").arg(&f).arg("--json"));
    assert!(o.status.success());
    let lines = json_lines(&o.stdout);
    let x = lines.iter().find(|l| l["type"] == "http").unwrap();
    assert!(x.get("request").is_none());
    assert_eq!(
        notes(&x["notes"])[0],
        "request head longer than 65536 bytes (the limit): skipped, looking for the next message"
    );
    eprintln!("peak RSS {rss_kib} KiB (bound 40 MiB)");
    assert!(rss_kib < 40 * MIB, "peak RSS {rss_kib} KiB");
}

/// One exchange per connection: a GET answered by `response_head`, then
/// `body_len` bytes of body (in 16 000-byte segments), then the connection
/// closes.
fn answered_with(
    c: TcpConv,
    port: u16,
    response_head: &str,
    body_len: usize,
    first: bool,
) -> TcpConv {
    let mut c = if first { c } else { c.then(port, 1000, 5000) };
    c.handshake();
    c.send(
        Dir::ToServer,
        b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n",
        1460,
        1,
    );
    c.send(Dir::ToClient, response_head.as_bytes(), 1460, 1);
    let piece = vec![b'b'; 1 << 20];
    let mut left = body_len;
    while left > 0 {
        let n = left.min(piece.len());
        c.send(Dir::ToClient, &piece[..n], 16_000, 4);
        left -= n;
    }
    c.close();
    c
}

/// (status, body_bytes, complete, notes) of each response, by stream.
fn responses(lines: &[serde_json::Value]) -> Vec<(u64, u64, bool, Vec<String>)> {
    let mut v: Vec<(u64, &serde_json::Value)> = lines
        .iter()
        .filter(|l| l["type"] == "http")
        .map(|l| (l["stream"].as_u64().unwrap(), l))
        .collect();
    v.sort_by_key(|(s, _)| *s);
    v.into_iter()
        .map(|(_, x)| {
            let r = &x["response"];
            (
                r["status_code"].as_u64().unwrap(),
                r["body_bytes"].as_u64().unwrap(),
                r["complete"].as_bool().unwrap(),
                notes(&x["notes"]),
            )
        })
        .collect()
}

#[test]
fn chunk_size_of_2_pow_63_and_beyond() {
    if !require(Need::Program("python3")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("chunks.pcap");
    let sizes = [
        "8000000000000000",  // 2^63
        "FFFFFFFFFFFFFFFF",  // 2^64 - 1
        "10000000000000000", // 2^64: does not fit
    ];
    // 64 MB of body after the first size: holding it would show.
    let lens = [64_000_000, 2_000_000, 2_000_000];
    let mut c = TcpConv::new(PcapWriter::create(&f, 1), 40000, 1000, 5000);
    for (i, size) in sizes.iter().enumerate() {
        let head = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\n");
        c = answered_with(c, 40000 + i as u16, &head, lens[i], i == 0);
    }
    c.finish();
    let (o, rss_kib) = run_measured(netpeek().arg("-r").arg(&f).args(["--json", "--body"]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines = json_lines(&o.stdout);
    let truncated = |n: u64| vec![format!("response truncated: body ended after {n} bytes")];
    assert_eq!(
        responses(&lines),
        [
            (200, 64_000_000, false, truncated(64_000_000)),
            (200, 2_000_000, false, truncated(2_000_000)),
            (
                200,
                0,
                false,
                vec![
                    "response body framing broken: chunk size too large".to_string(),
                    "response truncated: body ended after 0 bytes".to_string()
                ]
            ),
        ]
    );
    // --body keeps the first 4096 bytes (the default --body-limit) of the
    // 64 MB, no more.
    let kept = lines
        .iter()
        .find(|l| l["type"] == "http")
        .map(|x| x["response"]["body"].clone())
        .unwrap();
    assert_eq!(kept["text"].as_str().unwrap().len(), 4096, "{kept}");
    assert_eq!(kept["truncated"], true);
    eprintln!("peak RSS {rss_kib} KiB (bound 40 MiB)");
    assert!(rss_kib < 40 * MIB, "peak RSS {rss_kib} KiB");
}

#[test]
fn content_length_of_10_pow_18() {
    if !require(Need::Program("python3")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("cl.pcap");
    let mut c = TcpConv::new(PcapWriter::create(&f, 1), 40000, 1000, 5000);
    c = answered_with(
        c,
        40000,
        "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000000\r\n\r\n",
        64_000_000,
        true,
    );
    // Beyond what 64 bits hold: the length is invalid, the body runs to
    // the close.
    c = answered_with(
        c,
        40001,
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        1000,
        false,
    );
    // A request announcing 10^18 bytes, refused after 2 MB.
    let mut c = c.then(40002, 1000, 5000);
    c.handshake();
    c.send(
        Dir::ToServer,
        b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000000000\r\n\r\n",
        1460,
        1,
    );
    c.send(Dir::ToServer, &vec![b'p'; 2_000_000], 1460, 8);
    c.send(
        Dir::ToClient,
        b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        1460,
        1,
    );
    c.close();
    c.finish();
    let (o, rss_kib) = run_measured(netpeek().arg("-r").arg(&f).args(["--json", "--body"]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines = json_lines(&o.stdout);
    assert_eq!(
        responses(&lines),
        [
            (
                200,
                64_000_000,
                false,
                vec!["response truncated: 64000000 of 1000000000000000000 body bytes".to_string()]
            ),
            (
                200,
                1000,
                true,
                vec!["invalid Content-Length: `99999999999999999999999`".to_string()]
            ),
            (
                413,
                0,
                true,
                vec!["request truncated: 2000000 of 1000000000000000000 body bytes".to_string()]
            ),
        ]
    );
    let post = lines
        .iter()
        .find(|l| l["type"] == "http" && l["stream"] == 2)
        .unwrap();
    assert_eq!(post["request"]["body_bytes"], 2_000_000);
    assert_eq!(post["request"]["complete"], false);
    // Bodies kept for display stop at --body-limit (4096 by default).
    let first = lines
        .iter()
        .find(|l| l["type"] == "http" && l["stream"] == 0)
        .unwrap();
    assert_eq!(
        first["response"]["body"]["text"].as_str().unwrap().len(),
        4096
    );
    assert_eq!(
        post["request"]["body"]["text"].as_str().unwrap().len(),
        4096
    );
    eprintln!("peak RSS {rss_kib} KiB (bound 40 MiB)");
    assert!(rss_kib < 40 * MIB, "peak RSS {rss_kib} KiB");
}

#[test]
fn a_million_one_byte_segments_out_of_order_stay_within_the_buffer_limit() {
    // The client sends bytes 1..=1 000 000 of its stream one per segment,
    // each pair swapped (2, 1, 4, 3, …). Byte 0 and byte 500 000 never
    // come: the segments after each hole are held until the per-direction
    // buffer (1 MiB, each held segment counted with its bookkeeping) is
    // full, then the hole is given up and reported.
    if !require(Need::Program("python3")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("ooo.pcap");
    let mut c = TcpConv::new(PcapWriter::create(&f, 1), 40000, 7000, 9000);
    c.step_us = 1;
    c.handshake();
    let base = c.next[0];
    let n = 1_000_000u32;
    let lost = [0u32, 500_000];
    let mut k = 1;
    let mut sent = 0u64;
    while k <= n {
        for off in [k + 1, k] {
            if off <= n && !lost.contains(&off) {
                c.raw(Dir::ToServer, base.wrapping_add(off), PSH | ACK, b"z");
                sent += 1;
            }
        }
        k += 2;
    }
    c.next[0] = base.wrapping_add(n + 1);
    c.close();
    let frames = c.finish();
    assert_eq!(sent, 999_999);
    let out = tmp.path().join("out.json");
    let (o, rss_kib) = run_measured_with(netpeek().arg("-r").arg(&f).arg("--json"), Some(&out));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let notices: Vec<(String, String)> = json_records(&out, "notice")
        .iter()
        .map(|n| {
            (
                n["code"].as_str().unwrap().to_string(),
                n["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let msg = "stream #0 client→server: reassembly buffer limit (1048576 bytes) reached, \
               skipping a hole (raise --max-buffer to wait longer)";
    assert_eq!(
        notices,
        vec![("reassembly_limit".to_string(), msg.to_string()); 2]
    );
    let conns = json_records(&out, "connection");
    let conn = only(&conns);
    // Every byte but the two lost ones reached the stream.
    assert_eq!(conn["missing_bytes"]["client"], 2);
    assert_eq!(conn["bytes"]["client"], sent);
    assert_eq!(conn["last_frame"], frames);
    // 1 MiB of held segments is about 16 000 of them; all million held
    // would take well over 64 MiB, and the 32 MiB total limit alone would
    // let the buffer grow past this bound.
    eprintln!("peak RSS {rss_kib} KiB (bound 32 MiB)");
    assert!(rss_kib < 32 * MIB, "peak RSS {rss_kib} KiB");
}

#[test]
fn held_segments_stay_within_the_buffer_limit_whatever_their_sizes() {
    // 20 000 one-byte segments, each after a one-byte hole, fill the
    // 1 MiB per-direction buffer; then 1 000 segments of 60 000 bytes
    // arrive far ahead, each after a hole. Giving up one hole per segment
    // would free one small segment while a large one is added: the buffer
    // would grow by about 60 KB per segment (to 60 MB here).
    if !require(Need::Program("python3")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("mix.pcap");
    let mut c = TcpConv::new(PcapWriter::create(&f, 1), 40000, 1000, 5000);
    c.handshake();
    let base = c.next[0];
    for i in 0..20_000u32 {
        c.raw(Dir::ToServer, base.wrapping_add(2 * i + 1), PSH | ACK, b"t");
    }
    let big = vec![b'B'; 60_000];
    for i in 0..1_000u32 {
        c.raw(
            Dir::ToServer,
            base.wrapping_add(1_000_000 + i * 61_000),
            PSH | ACK,
            &big,
        );
    }
    c.finish();
    let out = tmp.path().join("out.json");
    let (o, rss_kib) = run_measured_with(netpeek().arg("-r").arg(&f).arg("--json"), Some(&out));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let conns = json_records(&out, "connection");
    let conn = only(&conns);
    // Every byte sent reached the stream (held, then delivered after the
    // holes before it were given up); only the holes are missing.
    assert_eq!(conn["bytes"]["client"], 20_000 + 60_000_000u64);
    let holes = 20_000 + (1_000_000 - 2 * 20_000) + 999 * 1_000;
    assert_eq!(conn["missing_bytes"]["client"], holes);
    let notices = json_records(&out, "notice");
    assert!(
        notices.iter().all(|n| n["code"] == "reassembly_limit"),
        "{notices:?}"
    );
    assert!(!notices.is_empty());
    eprintln!("peak RSS {rss_kib} KiB (bound 32 MiB)");
    assert!(rss_kib < 32 * MIB, "peak RSS {rss_kib} KiB");
}

#[test]
fn an_http_exchange_across_the_sequence_number_wrap() {
    // Both initial sequence numbers sit just below 2^32: the request body
    // crosses the client's wrap, the response body the server's.
    if !require(Need::Tshark) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("wrap.pcap");
    let exchange = |c: &mut TcpConv, swap_at_wrap: bool| {
        c.handshake();
        let mut req = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n".to_vec();
        req.extend(std::iter::repeat_n(b'q', 1000));
        c.send(Dir::ToServer, &req, 100, 1);
        let mut resp = b"HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n".to_vec();
        resp.extend(std::iter::repeat_n(b'r', 200_000));
        let mut chunks: Vec<(u32, &[u8])> = Vec::new();
        let mut seq = c.next[1];
        for ch in resp.chunks(1460) {
            chunks.push((seq, ch));
            seq = seq.wrapping_add(ch.len() as u32);
        }
        if swap_at_wrap {
            // The segment that crosses 2^32 arrives after the next one.
            let i = chunks
                .iter()
                .position(|(s, ch)| s.checked_add(ch.len() as u32).is_none())
                .unwrap();
            chunks.swap(i, i + 1);
        }
        // The client acknowledges every second segment, up to what it
        // holds in order (so no duplicate ACKs).
        let first = c.next[1];
        let mut received: Vec<(u32, u32)> = Vec::new();
        let mut acked = first;
        for (i, (s, ch)) in chunks.iter().enumerate() {
            c.raw(Dir::ToClient, *s, PSH | ACK, ch);
            let off = s.wrapping_sub(first);
            received.push((off, off + ch.len() as u32));
            if i % 2 == 1 {
                received.sort_unstable();
                let contiguous = received
                    .iter()
                    .fold(0u32, |end, &(o, e)| if o == end { e } else { end });
                let now = first.wrapping_add(contiguous);
                if now != acked {
                    acked = now;
                    c.next[1] = now;
                    c.ack(Dir::ToClient);
                }
            }
        }
        c.next[1] = seq;
        if acked != seq {
            c.ack(Dir::ToClient);
        }
        c.close();
    };
    let mut c = TcpConv::new(PcapWriter::create(&f, 1), 40000, 0xFFFF_FF00, 0xFFFF_0000);
    exchange(&mut c, false);
    let mut c = c.then(40001, 0xFFFF_FFF0, 0xFFFD_0000);
    exchange(&mut c, true);
    c.finish();
    let o = run(netpeek().arg("-r").arg(&f).arg("--json"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines = json_lines(&o.stdout);
    let http: Vec<&serde_json::Value> = lines.iter().filter(|l| l["type"] == "http").collect();
    assert_eq!(http.len(), 2);
    for x in &http {
        assert_eq!(x["request"]["method"], "POST");
        assert_eq!(x["request"]["body_bytes"], 1000);
        assert_eq!(x["request"]["complete"], true);
        assert_eq!(x["response"]["status_code"], 200);
        assert_eq!(x["response"]["body_bytes"], 200_000);
        assert_eq!(x["response"]["complete"], true);
        assert_eq!(notes(&x["notes"]), Vec::<String>::new());
    }
    // The wrap really happened: raw numbers fall back below the ISN.
    let wrapped = packets(&lines)
        .iter()
        .filter(|p| p["tcp"]["stream"] == 0 && p["tcp"]["seq_raw"].as_u64().unwrap() < 0x1_0000)
        .count();
    assert!(wrapped > 100, "{wrapped}");
    // Analysis flags: none on the clean connection, and on the other only
    // the segment that came late, exactly where tshark sees them.
    let ours: Vec<(u64, Vec<String>)> = packets(&lines)
        .iter()
        .filter_map(|p| {
            let a = p["tcp"]["analysis"].as_array()?;
            Some((
                p["frame"].as_u64().unwrap(),
                a.iter().map(|s| s.as_str().unwrap().to_string()).collect(),
            ))
        })
        .collect();
    let conns: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["type"] == "connection").collect();
    assert_eq!(conns[0]["analysis"], serde_json::json!({}));
    assert_eq!(
        conns[0]["missing_bytes"],
        serde_json::json!({"client": 0, "server": 0})
    );
    assert_eq!(
        conns[1]["missing_bytes"],
        serde_json::json!({"client": 0, "server": 0})
    );
    let t = run(tshark().arg("-r").arg(&f).args([
        "-Y",
        "tcp.analysis.flags",
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "tcp.analysis.lost_segment",
        "-e",
        "tcp.analysis.out_of_order",
    ]));
    assert!(t.status.success());
    let theirs: Vec<(u64, Vec<String>)> = String::from_utf8_lossy(&t.stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let mut flags = Vec::new();
            if !f[1].is_empty() {
                flags.push("lost_segment".to_string());
            }
            if !f[2].is_empty() {
                flags.push("out_of_order".to_string());
            }
            (f[0].parse().unwrap(), flags)
        })
        .collect();
    assert_eq!(ours, theirs);
    // The segment after the one that crosses 2^32 shows a hole ("previous
    // segment not captured"), which the late one fills.
    assert_eq!(ours.len(), 2, "{ours:?}");
    assert_eq!(ours[0].1, ["lost_segment"]);
    assert_eq!(ours[1].1, ["out_of_order"]);
    assert_eq!(ours[1].0, ours[0].0 + 1);
    assert!(ours[0].0 > conns[0]["last_frame"].as_u64().unwrap());
}

// ---- secrets in payload dumps ---------------------------------------------

/// The bytes a `-X` dump shows, decoded back from its hex columns.
fn hex_dump_bytes(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("\t0x") else {
            continue;
        };
        // "\t0x0000: " then 40 columns of hex, two blanks, the ASCII.
        let hex: String = rest
            .get(6..46)
            .unwrap_or_else(|| rest.get(6..).unwrap())
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        for i in (0..hex.len()).step_by(2) {
            out.push(u8::from_str_radix(&hex[i..i + 2], 16).unwrap());
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Runs netpeek on `file` with each dump mode and view, and checks that no
/// secret shows by default and that every one shows with --show-secrets.
fn check_dumps(file: &Path, secrets: &[&str]) {
    for view in [&[][..], &["--plain"][..]] {
        for mode in ["-A", "-X"] {
            for show in [false, true] {
                let mut cmd = netpeek();
                cmd.arg("-r").arg(file).arg(mode).args(view);
                if show {
                    cmd.arg("--show-secrets");
                }
                let o = run(&mut cmd);
                assert!(o.status.success());
                let shown = if mode == "-X" {
                    hex_dump_bytes(&String::from_utf8_lossy(&o.stdout))
                } else {
                    o.stdout.clone()
                };
                assert!(shown.len() > 100, "{view:?} {mode}: nothing dumped");
                for s in secrets {
                    assert_eq!(
                        contains(&shown, s.as_bytes()),
                        show,
                        "{} {view:?} {mode} show_secrets={show}: {s}",
                        name(file)
                    );
                }
                if !show {
                    assert!(
                        contains(&shown, b"<redacted "),
                        "{view:?} {mode}: no redaction marker"
                    );
                }
            }
        }
    }
}

#[test]
fn secrets_are_redacted_in_ascii_and_hex_dumps() {
    if !require(Need::Tshark) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("secrets.pcap");
    let cookie = "session=Zk9vQmFyQmF6UXV4LWNvb2tpZQ";
    let token = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu";
    let set_cookie = "id=c2V0LWNvb2tpZS12YWx1ZQ; HttpOnly";
    let req = format!(
        "GET /account HTTP/1.1\r\nHost: shop.example\r\nCookie: {cookie}\r\n\
         Authorization: Bearer {token}\r\nAccept: */*\r\n\r\n"
    );
    let mut c = TcpConv::new(PcapWriter::create(&f, 1), 40000, 1000, 5000);
    c.handshake();
    // Three segments: the first ends inside the cookie's value, the second
    // inside the name "Authorization".
    let cut1 = req.find("Zk9vQmFy").unwrap() + 8;
    let cut2 = req.find("Authoriz").unwrap() + 8;
    c.send(Dir::ToServer, &req.as_bytes()[..cut1], 1460, 0);
    c.send(Dir::ToServer, &req.as_bytes()[cut1..cut2], 1460, 0);
    c.send(Dir::ToServer, &req.as_bytes()[cut2..], 1460, 1);
    let resp =
        format!("HTTP/1.1 200 OK\r\nSet-Cookie: {set_cookie}\r\nContent-Length: 2\r\n\r\nok");
    c.send(Dir::ToClient, resp.as_bytes(), 1460, 1);
    c.close();
    c.finish();
    // Fragments of each value that sit in different segments.
    let secrets = [
        "Zk9vQmFy",
        "QmF6UXV4LWNvb2tpZQ",
        "c2VjcmV0LXRva2Vu",
        "c2V0LWNvb2tpZS12YWx1ZQ",
    ];
    check_dumps(&f, &secrets);

    // JSON records and pcapng comments were redacted already; they stay so.
    let o = run(netpeek().arg("-r").arg(&f).arg("--json"));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let lines = json_lines(&o.stdout);
    let x = lines.iter().find(|l| l["type"] == "http").unwrap();
    let headers = &x["request"]["headers"];
    assert_eq!(
        headers[1],
        serde_json::json!(["Cookie", format!("<redacted {} bytes>", cookie.len())])
    );
    assert_eq!(
        headers[2],
        serde_json::json!([
            "Authorization",
            format!("<redacted {} bytes>", token.len() + 7)
        ])
    );
    assert_eq!(
        x["response"]["headers"][0],
        serde_json::json!([
            "Set-Cookie",
            format!("<redacted {} bytes>", set_cookie.len())
        ])
    );
    for s in secrets {
        assert!(!text.contains(s), "JSON shows {s}");
    }
    let out = tmp.path().join("c.pcapng");
    let o = run(netpeek().arg("-r").arg(&f).args(["-q", "-w"]).arg(&out));
    assert!(o.status.success());
    let t = run(tshark()
        .arg("-r")
        .arg(&out)
        .args(["-T", "fields", "-e", "frame.comment"]));
    let comments = String::from_utf8_lossy(&t.stdout);
    assert!(comments.contains("→ GET /account HTTP/1.1"), "{comments}");
    for s in secrets {
        assert!(!comments.contains(s), "pcapng comment shows {s}");
    }

    // A real capture: Basic credentials with a colon in them.
    check_dumps(
        &corpus_dir().join("zeek-http-basic-auth-with-colon-ipv4linktype.pcap"),
        &["dGVzdDoxOjM0"],
    );
}

// ---- faults during live capture --------------------------------------------

/// "N packets captured" from netpeek's final statistics.
fn captured_count(stderr: &[String]) -> u64 {
    stderr
        .iter()
        .find_map(|l| {
            l.strip_suffix(" packets captured")
                .or_else(|| l.strip_suffix(" packet captured"))
        })
        .unwrap_or_else(|| panic!("no 'packets captured' line: {stderr:?}"))
        .parse()
        .unwrap()
}

/// Frames tshark reads from `file`, which must open without a warning.
fn tshark_frame_count(file: &Path) -> u64 {
    let t = run(tshark()
        .arg("-r")
        .arg(file)
        .args(["-T", "fields", "-e", "frame.number"]));
    assert!(
        t.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&t.stderr)
    );
    assert_eq!(tshark_warnings(&t.stderr), Vec::<String>::new());
    let numbers: Vec<u64> = String::from_utf8_lossy(&t.stdout)
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    // Numbered 1..=n without holes.
    assert!(numbers.iter().enumerate().all(|(i, &n)| n == i as u64 + 1));
    numbers.len() as u64
}

#[test]
fn sigint_and_sigterm_under_load_leave_every_captured_packet_in_the_file() {
    if !require(Need::Root)
        || !require(Need::Nginx)
        || !require(Need::Program("wrk"))
        || !require(Need::Tshark)
    {
        return;
    }
    let ng = crate::support::nginx::Nginx::start(false);
    ng.file("index.html", &[b'n'; 64]);
    for sig in [libc::SIGINT, libc::SIGTERM] {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("load.pcapng");
        let np = LiveNetpeek::start(
            &[
                "-i",
                "lo",
                "-q",
                "-w",
                file.to_str().unwrap(),
                "tcp",
                "port",
                &ng.port.to_string(),
            ],
            &tmp.path().join("stdout"),
        );
        // Eight keep-alive connections for at most 30 s.
        let mut wrk = ChildGuard(Some(
            Command::new("wrk")
                .args(["-t", "1", "-c", "8", "-d", "30s"])
                .arg(ng.url("/index.html"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        ));
        // The signal comes once 4 MB of capture reached the file, while
        // wrk is still sending.
        let deadline = Instant::now() + Duration::from_secs(25);
        while std::fs::metadata(&file).map_or(0, |m| m.len()) < 4 << 20 {
            assert!(Instant::now() < deadline, "the capture file stays small");
            assert!(wrk.child().try_wait().unwrap().is_none(), "wrk ended early");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(wrk.child().try_wait().unwrap().is_none(), "wrk ended early");
        let (status, stderr) = np.stop(sig);
        let load_went_on = wrk.child().try_wait().unwrap().is_none();
        drop(wrk);
        assert!(status.success(), "signal {sig}: {status:?} {stderr:?}");
        assert!(load_went_on, "wrk ended before netpeek did");
        let captured = captured_count(&stderr);
        assert!(captured > 10_000, "{captured}");
        assert_eq!(tshark_frame_count(&file), captured, "signal {sig}");
        eprintln!("signal {sig}: {captured} packets captured and in the file");
    }
}

#[test]
fn output_filesystem_filling_up_during_a_live_capture() {
    if !require(Need::Root) || !require(Need::Tshark) {
        return;
    }
    let Some(mnt) = SmallTmpfs::mount("2m") else {
        unavailable("cannot mount a tmpfs here");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = mnt.path().join("live.pcapng");
    let (mut np, rx, port) = start_udp_capture(
        &["-q", "-w", out.to_str().unwrap()],
        &tmp.path().join("stdout"),
    );
    // 1000-byte datagrams until netpeek gives up (at most 20 MB, ten
    // times the room on the filesystem).
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let payload = [b'f'; 1000];
    let mut status = None;
    for i in 0..20_000 {
        tx.send_to(&payload, ("127.0.0.1", port)).unwrap();
        let mut buf = [0u8; 2048];
        let _ = rx.set_nonblocking(true);
        while rx.recv(&mut buf).is_ok() {}
        if i % 100 == 99 {
            std::thread::sleep(Duration::from_millis(5));
            status = np.guard.child().try_wait().unwrap();
            if status.is_some() {
                break;
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = status.or_else(|| np.guard.child().try_wait().unwrap()) {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "netpeek kept running with its output filesystem full"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(1));
    let line = np.wait_stderr("netpeek:", Duration::from_secs(5));
    assert_eq!(
        line,
        format!(
            "netpeek: cannot write {}: No space left on device",
            out.display()
        )
    );
    // What was written is cut back to whole blocks: tshark reads it
    // without a word, and it holds most of what fit.
    let frames = tshark_frame_count(&out);
    let size = std::fs::metadata(&out).unwrap().len();
    assert!(size > 1 << 20, "only {size} bytes kept");
    assert!(frames > 1000, "only {frames} frames kept");
    eprintln!("{frames} frames, {size} bytes kept on a 2 MiB filesystem");
}

/// A status line of /proc/PID/status, without its name.
fn proc_status(pid: u32, field: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field).and_then(|r| r.strip_prefix(':')))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
        .trim()
        .to_string()
}

#[test]
fn file_capabilities_let_a_plain_user_capture_and_are_given_up_after_opening() {
    // The README's recipe: setcap on the binary, getcap to check, then an
    // ordinary user captures; once the device and the file are open the
    // process holds no capability any more.
    if !require(Need::Root) || !require(Need::Program("setcap")) || !require(Need::Tshark) {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    // Reachable and writable by nobody; the binary is a copy (capabilities
    // live in the file's extended attributes).
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let bin = dir.path().join("netpeek");
    std::fs::copy(netpeek_bin(), &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let set = Command::new("setcap")
        .arg("cap_net_raw,cap_net_admin=eip")
        .arg(&bin)
        .status();
    if !set.is_ok_and(|s| s.success()) {
        unavailable("setcap failed: the filesystem refuses file capabilities (xattrs)");
        return;
    }
    let get = run(Command::new("getcap").arg(&bin));
    assert_eq!(
        String::from_utf8_lossy(&get.stdout).trim(),
        format!("{} cap_net_admin,cap_net_raw=eip", bin.display())
    );
    let out = dir.path().join("user.pcapng");
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = rx.local_addr().unwrap().port();
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .arg(&bin)
        .args(["-i", "lo", "-q", "-w"])
        .arg(&out)
        .args(["udp", "port", &port.to_string()]);
    let np = LiveNetpeek::start_cmd(cmd, &dir.path().join("stdout"));
    let pid = np.guard.0.as_ref().unwrap().id();
    assert_eq!(proc_status(pid, "Uid"), "65534\t65534\t65534\t65534");
    // Listening means the device and the output are open: nothing is left.
    let deadline = Instant::now() + Duration::from_secs(5);
    while proc_status(pid, "CapPrm") != "0000000000000000" {
        assert!(
            Instant::now() < deadline,
            "capabilities kept: {}",
            proc_status(pid, "CapPrm")
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(proc_status(pid, "CapEff"), "0000000000000000");
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..3 {
        tx.send_to(b"cap", ("127.0.0.1", port)).unwrap();
    }
    std::thread::sleep(Duration::from_millis(200));
    let (st, stderr) = np.stop(libc::SIGINT);
    assert!(st.success(), "{stderr:?}");
    assert_eq!(captured_count(&stderr), 3);
    assert_eq!(tshark_frame_count(&out), 3);

    // Without the capabilities the same user gets told how to get them.
    let plain = dir.path().join("plain");
    std::fs::copy(netpeek_bin(), &plain).unwrap();
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = run(Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .arg(&plain)
        .args(["-i", "lo", "-c", "1"]));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("sudo setcap cap_net_raw,cap_net_admin=eip"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_signal_right_after_the_last_packet_loses_none() {
    // The kernel hands packets over in blocks that it closes when full or
    // after a timeout; packets of the block still open when the signal
    // comes must be read too. Ten rounds: 25 datagrams, then SIGTERM or
    // SIGINT at once.
    if !require(Need::Root) || !require(Need::Tshark) {
        return;
    }
    for round in 0..10 {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("t.pcapng");
        let (np, _rx, port) = start_udp_capture(
            &["-q", "-w", file.to_str().unwrap()],
            &tmp.path().join("stdout"),
        );
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for _ in 0..25 {
            tx.send_to(b"last", ("127.0.0.1", port)).unwrap();
        }
        let sig = if round % 2 == 0 {
            libc::SIGTERM
        } else {
            libc::SIGINT
        };
        let (status, stderr) = np.stop(sig);
        assert!(status.success(), "round {round}: {stderr:?}");
        assert_eq!(captured_count(&stderr), 25, "round {round}: {stderr:?}");
        if round == 0 || round == 9 {
            // (tshark takes a second to start; the other test checks files
            // under load.)
            assert_eq!(tshark_frame_count(&file), 25, "round {round}");
        }
    }
}

#[test]
fn output_path_becoming_unwritable_during_a_rotating_capture() {
    // -G 1 opens a new file every second. Once the first file is being
    // written, its directory is moved away and a plain file takes its
    // name: the next rotation cannot create its file. netpeek must say so
    // on one line, exit 1, and leave every file it wrote complete.
    if !require(Need::Root) || !require(Need::Tshark) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    let pattern = dir.join("cap-%s.pcapng");
    let (mut np, _rx, port) = start_udp_capture(
        &["-q", "-G", "1", "-w", pattern.to_str().unwrap()],
        &tmp.path().join("stdout"),
    );
    // The first file exists from the start, as tcpdump's does.
    let first: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(first.len(), 1, "{first:?}");
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut sent_before = 0u64;
    for _ in 0..20 {
        tx.send_to(b"before", ("127.0.0.1", port)).unwrap();
        sent_before += 1;
        std::thread::sleep(Duration::from_millis(10));
    }
    let moved = tmp.path().join("moved");
    std::fs::rename(&dir, &moved).unwrap();
    std::fs::write(&dir, b"not a directory").unwrap();
    // Keep the traffic going until a rotation is due and fails (bounded:
    // at most 5 s).
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(s) = np.guard.child().try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "netpeek kept running without a place to write"
        );
        tx.send_to(b"after", ("127.0.0.1", port)).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(1));
    let line = np.wait_stderr("netpeek:", Duration::from_secs(5));
    assert!(
        line.starts_with(&format!("netpeek: cannot write {}", pattern.display()))
            && line.ends_with(": Not a directory"),
        "{line}"
    );
    // Every file written so far is complete, and together they hold every
    // packet sent before the path went away.
    let mut frames = 0;
    for f in std::fs::read_dir(&moved).unwrap() {
        frames += tshark_frame_count(&f.unwrap().path());
    }
    assert!(
        frames >= sent_before,
        "{frames} frames kept of {sent_before} sent before"
    );
}
