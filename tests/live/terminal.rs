//! The timeline on a real terminal (issue #5): colour only on a terminal
//! and never with NO_COLOR or `--color never`; lines flushed one by one as
//! packets arrive; the annotations stored as pcapng comments that tshark
//! reads and filters on; README's examples equal what netpeek prints.

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::*;

/// A pseudo-terminal pair: (master, slave).
fn openpty() -> (OwnedFd, OwnedFd) {
    let mut master = 0;
    let mut slave = 0;
    // SAFETY: openpty fills two descriptors we then own.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty");
    // SAFETY: fresh descriptors from openpty.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

/// Runs `cmd` with stdout and stderr on a terminal; returns a channel of
/// what the terminal shows, chunk by chunk.
fn spawn_on_tty(cmd: &mut Command) -> (ChildGuard, mpsc::Receiver<Vec<u8>>) {
    let (master, slave) = openpty();
    let out = slave.try_clone().unwrap();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(slave))
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let mut f = std::fs::File::from(master);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match f.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    (ChildGuard(Some(child)), rx)
}

fn collect(rx: &mpsc::Receiver<Vec<u8>>, until: &str, timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(50)) {
            seen.extend_from_slice(&chunk);
            if String::from_utf8_lossy(&seen).contains(until) {
                break;
            }
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[test]
fn colour_on_a_terminal_only() {
    let file = repo().join("captures/lecture-http.pcapng");
    // On a terminal: colour.
    let (mut g, rx) = spawn_on_tty(netpeek().arg("-r").arg(&file));
    let shown = collect(&rx, "Summary:", Duration::from_secs(20));
    let _ = g.child().wait();
    assert!(
        shown.contains("\u{1b}["),
        "no colour on a terminal: {shown:?}"
    );
    assert!(shown.contains("handshake 1/3"), "{shown:?}");
    // On a terminal with NO_COLOR, or --color never: none.
    let (mut g, rx) = spawn_on_tty(netpeek().env("NO_COLOR", "1").arg("-r").arg(&file));
    let shown = collect(&rx, "Summary:", Duration::from_secs(20));
    let _ = g.child().wait();
    assert!(shown.contains("handshake 1/3"), "{shown:?}");
    assert!(
        !shown.contains("\u{1b}["),
        "colour despite NO_COLOR: {shown:?}"
    );
    let (mut g, rx) = spawn_on_tty(netpeek().args(["--color", "never", "-r"]).arg(&file));
    let shown = collect(&rx, "Summary:", Duration::from_secs(20));
    let _ = g.child().wait();
    assert!(!shown.contains("\u{1b}["), "{shown:?}");
    // Piped: none; --color always forces it.
    let piped = run(netpeek().arg("-r").arg(&file));
    assert!(!String::from_utf8_lossy(&piped.stdout).contains('\u{1b}'));
    let forced = run(netpeek().args(["--color", "always", "-r"]).arg(&file));
    assert!(String::from_utf8_lossy(&forced.stdout).contains("\u{1b}["));
    // NO_COLOR does not override an explicit --color always.
    let forced = run(netpeek()
        .env("NO_COLOR", "1")
        .args(["--color", "always", "-r"])
        .arg(&file));
    assert!(String::from_utf8_lossy(&forced.stdout).contains("\u{1b}["));
}

#[test]
fn live_lines_are_flushed_one_by_one_on_a_terminal() {
    if !require(Need::Root) {
        return;
    }
    let rx_sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = rx_sock.local_addr().unwrap().port();
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    // No -l: a terminal alone must make netpeek flush each line.
    let (mut g, rx) =
        spawn_on_tty(netpeek().args(["-i", "lo", "udp", "dst", "port", &port.to_string()]));
    let shown = collect(&rx, "snapshot length", Duration::from_secs(10));
    assert!(shown.contains("listening on lo"), "{shown:?}");
    tx.send_to(b"first", ("127.0.0.1", port)).unwrap();
    let shown = collect(&rx, "UDP, length 5", Duration::from_secs(5));
    assert!(
        shown.contains("UDP, length 5"),
        "first line not shown while capturing: {shown:?}"
    );
    assert!(g.child().try_wait().unwrap().is_none());
    tx.send_to(b"second!", ("127.0.0.1", port)).unwrap();
    let shown = collect(&rx, "UDP, length 7", Duration::from_secs(5));
    assert!(shown.contains("UDP, length 7"), "{shown:?}");
    send_signal(g.child(), libc::SIGINT);
    let status = g.child().wait().unwrap();
    assert!(status.success());
}

#[test]
fn annotations_become_pcapng_comments_tshark_can_filter() {
    if !require(Need::Tshark) {
        return;
    }
    let dir = corpus_dir();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("annotated.pcapng");
    // Converting a file offline adds the comments.
    let o = run(netpeek()
        .arg("-r")
        .arg(dir.join("zeek-tcp-ctu-64702-888.pcap"))
        .args(["-q", "-w"])
        .arg(&out));
    assert!(o.status.success());
    let t = run(tshark().arg("-r").arg(&out).args([
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "frame.comment",
    ]));
    assert_eq!(tshark_warnings(&t.stderr), Vec::<String>::new());
    let rows: Vec<(String, String)> = String::from_utf8_lossy(&t.stdout)
        .lines()
        .map(|l| {
            let (a, b) = l.split_once('\t').unwrap_or((l, ""));
            (a.to_string(), b.to_string())
        })
        .collect();
    assert_eq!(rows.len(), 16);
    assert_eq!(
        rows[0].1,
        "handshake 2/3 (SYN-ACK): ISN 2500392577, ack 1331021504"
    );
    // The same words as the timeline, without colour.
    let timeline = run(netpeek()
        .arg("-r")
        .arg(dir.join("zeek-tcp-ctu-64702-888.pcap"))
        .args(["--color", "never"]));
    let first = String::from_utf8_lossy(&timeline.stdout)
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(first.ends_with(&rows[0].1), "{first}");
    // Wireshark's display filter finds netpeek's reading.
    let f = run(tshark().arg("-r").arg(&out).args([
        "-Y",
        "frame.comment contains \"retransmission\"",
        "-T",
        "fields",
        "-e",
        "frame.number",
    ]));
    let frames: Vec<String> = String::from_utf8_lossy(&f.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let expected: Vec<String> = rows
        .iter()
        .filter(|(_, c)| c.contains("retransmission"))
        .map(|(n, _)| n.clone())
        .collect();
    assert_eq!(frames, expected);
    assert_eq!(frames.len(), 3, "{frames:?}");
    // An HTTP latency is known at the response's last packet and stored
    // there.
    let out2 = tmp.path().join("http.pcapng");
    let o = run(netpeek()
        .arg("-r")
        .arg(repo().join("captures/lecture-http.pcapng"))
        .args(["-q", "-w"])
        .arg(&out2));
    assert!(o.status.success());
    let t = run(tshark()
        .arg("-r")
        .arg(&out2)
        .args(["-T", "fields", "-e", "frame.comment"]));
    let comments: Vec<String> = String::from_utf8_lossy(&t.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        comments[7],
        "← 200 OK  text/html  77 B  ttfb 884 µs  total 976 µs"
    );
}

/// README's examples are what netpeek prints: each fenced block that
/// starts with `$ netpeek …` holds that command's exact output.
/// `UPDATE_README=1` rewrites the blocks after an intended change.
#[test]
fn readme_examples_are_current() {
    let path = repo().join("README.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = String::new();
    let mut checked = 0;
    let mut rest = text.as_str();
    while let Some(start) = rest.find("```text\n$ netpeek ") {
        let block_start = start + "```text\n".len();
        let end = rest[block_start..]
            .find("\n```")
            .map(|e| block_start + e)
            .expect("closed block");
        let block = &rest[block_start..end];
        let (cmd_line, shown) = block.split_once('\n').unwrap_or((block, ""));
        let args: Vec<&str> = cmd_line
            .trim_start_matches("$ netpeek ")
            .split_whitespace()
            .collect();
        let o = run(netpeek().current_dir(repo()).args(&args));
        assert!(o.status.success(), "{cmd_line}");
        let actual = String::from_utf8_lossy(&o.stdout).trim_end().to_string();
        out.push_str(&rest[..block_start]);
        out.push_str(cmd_line);
        out.push('\n');
        out.push_str(&actual);
        rest = &rest[end..];
        if std::env::var_os("UPDATE_README").is_none() {
            assert_eq!(
                shown, actual,
                "README block `{cmd_line}` is out of date (UPDATE_README=1 rewrites it)"
            );
        }
        checked += 1;
    }
    out.push_str(rest);
    if std::env::var_os("UPDATE_README").is_some() {
        std::fs::write(&path, out).unwrap();
    }
    assert!(
        checked >= 3,
        "README shows the timeline, --explain and --ladder"
    );
}

#[test]
fn live_ladder_is_drawn_when_its_connection_closes() {
    if !require(Need::Root) || !require(Need::Program("python3")) || !require(Need::Program("curl"))
    {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("index.html"), "ladder\n").unwrap();
    let port = free_port();
    let _server = python_http_server(port, tmp.path());
    let out = tmp.path().join("ladder.txt");
    let np = LiveNetpeek::start(
        &[
            "-i",
            "lo",
            "-l",
            "--ladder",
            "--ascii",
            "tcp",
            "port",
            &port.to_string(),
        ],
        &out,
    );
    let curl = run(Command::new("curl")
        .args(["-s", "-o", "/dev/null"])
        .arg(format!("http://127.0.0.1:{port}/")));
    assert!(curl.status.success());
    // Printed when the connection closes, while netpeek keeps capturing.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut text = String::new();
    while Instant::now() < deadline {
        text = std::fs::read_to_string(&out).unwrap_or_default();
        if text.contains("SF: normal establishment and termination") {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, _) = np.stop(libc::SIGINT);
    assert!(status.success());
    assert!(
        text.contains("SF: normal establishment and termination"),
        "{text}"
    );
    assert!(text.contains(&format!("server 127.0.0.1:{port}")), "{text}");
    assert!(text.contains("| SYN seq 0 --"), "{text}");
    assert!(text.contains("  → GET / HTTP/1.1"), "{text}");
}
