//! Live capture behaviour on loopback (issue #2): counts, signals, the
//! default and "any" interfaces, snaplen, immediate delivery, kernel drops.
//! Needs root (CI runs as root); traffic stays on 127.0.0.1.

use std::io::{BufRead, BufReader, Read};
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// A UDP sink on 127.0.0.1 and a way to send `n` datagrams to it.
fn udp_pair() -> (UdpSocket, UdpSocket, u16) {
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = rx.local_addr().unwrap().port();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    tx.connect(("127.0.0.1", port)).unwrap();
    (rx, tx, port)
}

#[test]
fn count_stops_after_n_packets() {
    if !require(Need::Root) {
        return;
    }
    let (_rx, tx, port) = udp_pair();
    let mut child = netpeek()
        .args(["-i", "lo", "-c", "3", "-l", "--plain", "udp", "port"])
        .arg(port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    assert!(
        first.starts_with(
            "listening on lo, link-type EN10MB (Ethernet), snapshot length 262144 bytes"
        ),
        "{first}"
    );
    // Send until netpeek has stopped on its own (bounded).
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        let _ = tx.send(b"ping");
        std::thread::sleep(Duration::from_millis(20));
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "netpeek -c 3 did not stop");
    };
    assert!(status.success());
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    assert_eq!(out.lines().count(), 3, "{out}");
    for l in out.lines() {
        assert!(
            l.ends_with(&format!("> 127.0.0.1.{port}: UDP, length 4")),
            "{l}"
        );
    }
    assert!(rest.lines().next() == Some("3 packets captured"), "{rest}");
}

#[test]
fn sigterm_stops_cleanly_and_the_file_is_complete() {
    if !require(Need::Root) || !require(Need::Tshark) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("t.pcapng");
    let (np, _rx, port) = start_udp_capture(
        &["-q", "-w", file.to_str().unwrap()],
        &tmp.path().join("stdout"),
    );
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..25 {
        tx.send_to(b"hello", ("127.0.0.1", port)).unwrap();
    }
    let (status, stderr) = np.stop(libc::SIGTERM);
    assert!(status.success(), "{status:?} {stderr:?}");
    assert!(
        stderr.contains(&"25 packets captured".to_string()),
        "{stderr:?}"
    );
    let out = run(tshark()
        .arg("-r")
        .arg(&file)
        .args(["-T", "fields", "-e", "udp.length"]));
    assert_eq!(tshark_warnings(&out.stderr), Vec::<String>::new());
    let lens: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lens, vec!["13".to_string(); 25]);
    // -q printed nothing per packet.
    assert_eq!(std::fs::read(tmp.path().join("stdout")).unwrap(), b"");
}

#[test]
fn lines_appear_as_packets_arrive() {
    if !require(Need::Root) {
        return;
    }
    let (_rx, tx, port) = udp_pair();
    let mut child = ChildGuard(Some(
        netpeek()
            .args(["-i", "lo", "-l", "udp", "port"])
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    let mut err = BufReader::new(child.child().stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    assert!(first.starts_with("listening on lo"));
    let stdout = child.child().stdout.take().unwrap();
    let (txl, rxl) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = txl.send(l);
        }
    });
    // One packet: its line must arrive while netpeek keeps running.
    tx.send(b"one").unwrap();
    let line = rxl
        .recv_timeout(Duration::from_secs(5))
        .expect("a line for the packet while capturing");
    assert!(
        line.ends_with(&format!("127.0.0.1.{port}: UDP, length 3")),
        "{line}"
    );
    assert!(
        child.child().try_wait().unwrap().is_none(),
        "still capturing"
    );
    tx.send(b"two!").unwrap();
    let line = rxl
        .recv_timeout(Duration::from_secs(5))
        .expect("second line");
    assert!(line.ends_with("UDP, length 4"), "{line}");
}

#[test]
fn snaplen_limits_captured_bytes() {
    if !require(Need::Root) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (_rx, tx, port) = udp_pair();
    let json = tmp.path().join("o.json");
    let np = LiveNetpeek::start(
        &[
            "-i",
            "lo",
            "-s",
            "60",
            "-p",
            "--json",
            "udp",
            "port",
            &port.to_string(),
        ],
        &json,
    );
    tx.send(&[b'x'; 500]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let (status, _) = np.stop(libc::SIGINT);
    assert!(status.success());
    let lines = json_lines(&std::fs::read(&json).unwrap());
    let p = packets(&lines);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0]["caplen"], 60);
    assert_eq!(p[0]["len"], 14 + 20 + 8 + 500);
}

#[test]
fn default_interface_is_tcpdumps_choice() {
    if !require(Need::Root) || !require(Need::Tcpdump) {
        return;
    }
    let first_line = |cmd: &mut Command| -> String {
        let mut child = ChildGuard(Some(
            cmd.stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        ));
        let err = child.child().stderr.take().unwrap();
        let mut lines = BufReader::new(err).lines();
        let l = lines
            .find(|l| {
                l.as_ref().map_or(true, |l| {
                    l.starts_with("listening on")
                        || (l.starts_with("tcpdump:") && !l.contains("verbose output suppressed"))
                        || l.starts_with("netpeek:")
                })
            })
            .and_then(Result::ok)
            .unwrap_or_default();
        drop(child);
        l
    };
    let td = first_line(Command::new("tcpdump").args(["-n", "tcp", "port", "9"]));
    let np = first_line(netpeek().args(["tcp", "port", "9"]));
    let iface = |l: &str| {
        l.strip_prefix("listening on ")
            .and_then(|r| r.split(',').next())
            .map(str::to_string)
    };
    assert!(td.starts_with("listening on"), "tcpdump: {td}");
    assert_eq!(iface(&np), iface(&td), "netpeek: {np}\ntcpdump: {td}");
}

#[test]
fn list_interfaces_names_what_tcpdump_lists() {
    if !require(Need::Root) || !require(Need::Tcpdump) {
        return;
    }
    let names = |out: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(out)
            .lines()
            .filter_map(|l| {
                l.split_once('.')
                    .map(|(_, r)| r.split([' ', '\t']).next().unwrap_or("").to_string())
            })
            .collect()
    };
    let td = run(Command::new("tcpdump").arg("-D"));
    let np = run(netpeek().arg("-D"));
    assert!(np.status.success());
    assert_eq!(names(&np.stdout), names(&td.stdout));
    assert!(names(&np.stdout).contains(&"lo".to_string()));
    let text = String::from_utf8_lossy(&np.stdout);
    assert!(
        text.lines()
            .any(|l| l.contains(".lo ") && l.contains("Loopback")),
        "{text}"
    );
}

#[test]
fn any_interface_uses_cooked_v2_with_interface_names() {
    if !require(Need::Root) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (_rx, tx, port) = udp_pair();
    let out = tmp.path().join("o.txt");
    let np = LiveNetpeek::start(
        &["-i", "any", "-l", "udp", "dst", "port", &port.to_string()],
        &out,
    );
    assert!(
        np.stderr_seen[0].contains("link-type LINUX_SLL2"),
        "{:?}",
        np.stderr_seen
    );
    tx.send(b"any").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let (status, _) = np.stop(libc::SIGINT);
    assert!(status.success());
    let text = std::fs::read_to_string(&out).unwrap();
    let l = text.lines().next().expect("a line");
    // "lo  In  IP 127.0.0.1.x > 127.0.0.1.port: UDP, length 3"
    assert!(l.contains(" lo  In  IP 127.0.0.1."), "{l}");
    assert!(
        l.ends_with(&format!("127.0.0.1.{port}: UDP, length 3")),
        "{l}"
    );
}

#[test]
fn kernel_drops_are_reported_when_they_happen() {
    if !require(Need::Root) {
        return;
    }
    // A tiny kernel buffer and a reader that does not read: netpeek's
    // output blocks, its queue fills, the ring overflows, the kernel drops.
    let (_rx, tx, port) = udp_pair();
    let mut child = ChildGuard(Some(
        netpeek()
            .args(["-i", "lo", "-B", "1", "-l", "udp", "port"])
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    let mut err = BufReader::new(child.child().stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    assert!(first.starts_with("listening on lo"), "{first}");
    let payload = [b'd'; 1000];
    for _ in 0..40_000 {
        let _ = tx.send(&payload);
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut out = child.child().stdout.take().unwrap();
    // Now read; stop netpeek once the burst is out.
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    std::thread::sleep(Duration::from_millis(500));
    send_signal(child.child(), libc::SIGINT);
    let status = child.child().wait().unwrap();
    assert!(status.success());
    let text = reader.join().unwrap();
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    let dropped: u64 = rest
        .lines()
        .find_map(|l| l.strip_suffix(" packets dropped by kernel"))
        .and_then(|n| n.parse().ok())
        .expect("drop count on stderr");
    assert!(dropped > 0, "expected kernel drops; stderr: {rest}");
    // The notices in the output add up to the final count, and each one
    // sits between packet lines, where the gap happened.
    let noted: u64 = text
        .lines()
        .filter_map(|l| l.strip_prefix("-- netpeek: kernel dropped "))
        .map(|r| r.split(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(noted, dropped, "{rest}");
    let captured: u64 = rest
        .lines()
        .find_map(|l| l.strip_suffix(" packets captured"))
        .and_then(|n| n.parse().ok())
        .unwrap();
    let lines = text
        .lines()
        .filter(|l| l.contains("UDP, length 1000"))
        .count() as u64;
    assert_eq!(lines, captured);
}
