//! Live TCP tests: real connections on the loopback interface, captured by
//! netpeek itself (`-i lo -w FILE`, stopped with SIGINT), then read back
//! and checked: how each connection ended, who ended it, Zeek's
//! conn_state, and (where tshark is installed) every frame's analysis
//! against tshark's. The loss test builds its own network namespace with an
//! nftables rule on the *input* hook, so dropped segments were captured
//! and then lost, and the capture holds genuine retransmissions and
//! duplicate ACKs.
//!
//! They need root (CI runs as root); without it they fail under CI and say
//! SKIPPED elsewhere.
//! Traffic goes only to 127.0.0.1, in the root namespace or inside the
//! namespace the test creates.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::api::{CloseKind, Closer, ConnRecord};
use crate::support::tcp::{compare, netpeek, tshark};
use crate::support::{require, require_part, unavailable, Need};

/// A running `netpeek -i IFACE -w FILE FILTER`, stopped with SIGINT.
struct Capture {
    child: Child,
    path: PathBuf,
}

impl Capture {
    /// Starts capturing and returns once netpeek says "listening on".
    fn start(netns: Option<&str>, iface: &str, path: &Path, filter: &str) -> Capture {
        let bin = env!("CARGO_BIN_EXE_netpeek");
        let mut cmd = match netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, bin]);
                c
            }
            None => Command::new(bin),
        };
        cmd.args(["-i", iface, "-w"])
            .arg(path)
            .args(filter.split_whitespace())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start netpeek");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            // Forward every line; the first "listening on" is the signal.
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("netpeek: {line}");
                let _ = tx.send(line);
            }
        });
        loop {
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(line) if line.starts_with("listening on") => break,
                Ok(_) => continue,
                Err(e) => {
                    let _ = child.kill();
                    panic!("netpeek did not start capturing: {e:?}");
                }
            }
        }
        Capture {
            child,
            path: path.to_path_buf(),
        }
    }

    /// SIGINT, then wait (bounded) for netpeek to drain and close the file.
    fn stop(mut self) -> PathBuf {
        // Let the last packets reach the capture buffer before asking to
        // stop; netpeek drains what the kernel holds on SIGINT.
        thread::sleep(Duration::from_millis(300));
        // SAFETY: kill with a valid pid of our own child and a valid signal.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGINT);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    assert!(status.success(), "netpeek exited with {status}");
                    break;
                }
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(50)),
                _ => {
                    let _ = self.child.kill();
                    panic!("netpeek did not stop after SIGINT");
                }
            }
        }
        self.path.clone()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A port that is free right now on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The connections of a capture, and (with tshark) its per-frame parity.
fn check_capture(path: &Path) -> Vec<ConnRecord> {
    let np = netpeek(path);
    if require_part(Need::Tshark, "the per-frame parity") {
        let ts = tshark(path);
        assert_eq!(ts.rows.len(), np.rows.len(), "TCP frame count");
        let diffs = compare(&ts, &np);
        assert!(diffs.is_empty(), "differences from tshark: {diffs:#?}");
    }
    np.conns
}

fn set_timeouts(s: &TcpStream) {
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    s.set_write_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
}

/// Reads until the blank line that ends an HTTP-like request head.
fn read_head(s: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    got
}

const REQUEST: &[u8] = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";

#[test]
fn server_closes_first() {
    if !require(Need::Root) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let cap = Capture::start(
        None,
        "lo",
        &dir.path().join("a.pcapng"),
        &format!("tcp port {port}"),
    );
    let server = thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        set_timeouts(&s);
        let head = read_head(&mut s);
        s.write_all(RESPONSE).expect("respond");
        drop(s); // the server closes first
        head.len()
    });
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    set_timeouts(&c);
    c.write_all(REQUEST).expect("request");
    let mut body = Vec::new();
    c.read_to_end(&mut body).expect("read to the server's FIN");
    assert_eq!(body, RESPONSE);
    drop(c);
    assert_eq!(server.join().expect("server"), REQUEST.len());
    let conns = check_capture(&cap.stop());
    let [r] = conns.as_slice() else {
        panic!("expected one connection: {conns:#?}")
    };
    assert_eq!(r.server.port, port);
    assert_eq!(
        (r.close, r.closed_by),
        (CloseKind::Fin, Some(Closer::Server))
    );
    assert_eq!(r.conn_state, "SF");
    assert_eq!(r.bytes, [REQUEST.len() as u64, RESPONSE.len() as u64]);
    assert!(r.syn_frame.is_some() && r.synack_frame.is_some() && r.ack_frame.is_some());
    assert!(r.rtt_ns.is_some_and(|t| t >= 0));
    // The server's FIN comes before the client's.
    let f_server = r.history.find('f').expect("server FIN in history");
    let f_client = r.history.find('F').expect("client FIN in history");
    assert!(f_server < f_client, "history {}", r.history);
    assert!(r.history.starts_with("ShA"), "history {}", r.history);
}

#[test]
fn connection_to_a_closed_port_is_refused() {
    if !require(Need::Root) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let cap = Capture::start(
        None,
        "lo",
        &dir.path().join("b.pcapng"),
        &format!("tcp port {port}"),
    );
    let err = TcpStream::connect(("127.0.0.1", port)).expect_err("nothing listens there");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    let conns = check_capture(&cap.stop());
    let [r] = conns.as_slice() else {
        panic!("expected one connection: {conns:#?}")
    };
    assert_eq!(
        (r.close, r.closed_by),
        (CloseKind::Refused, Some(Closer::Server))
    );
    assert_eq!(r.conn_state, "REJ");
    assert_eq!(r.history, "Sr");
    assert_eq!(r.packets, [1, 1]);
    assert_eq!((r.synack_frame, r.ack_frame), (None, None));
}

#[test]
fn server_aborts_with_rst() {
    if !require(Need::Root) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let cap = Capture::start(
        None,
        "lo",
        &dir.path().join("c.pcapng"),
        &format!("tcp port {port}"),
    );
    let server = thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        set_timeouts(&s);
        read_head(&mut s);
        // SO_LINGER with a zero timeout: close() sends RST, not FIN.
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: a valid socket fd and a correctly sized linger struct.
        let rc = unsafe {
            libc::setsockopt(
                s.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            )
        };
        assert_eq!(rc, 0, "setsockopt SO_LINGER");
        drop(s);
    });
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    set_timeouts(&c);
    c.write_all(REQUEST).expect("request");
    server.join().expect("server");
    let mut buf = Vec::new();
    let err = c
        .read_to_end(&mut buf)
        .expect_err("the server reset the connection");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
    drop(c);
    let conns = check_capture(&cap.stop());
    let [r] = conns.as_slice() else {
        panic!("expected one connection: {conns:#?}")
    };
    assert_eq!(
        (r.close, r.closed_by),
        (CloseKind::Reset, Some(Closer::Server))
    );
    assert_eq!(r.conn_state, "RSTR");
    assert!(r.history.ends_with('r'), "history {}", r.history);
    assert!(!r.history.contains(['F', 'f']), "no FIN: {}", r.history);
}

// ---------------------------------------------------------------------
// Real loss in a namespace of our own.

/// A network namespace that is deleted however the test ends.
struct Netns {
    name: String,
}

impl Netns {
    fn create(name: &str) -> Option<Netns> {
        let _ = Command::new("ip").args(["netns", "del", name]).output();
        let ok = Command::new("ip")
            .args(["netns", "add", name])
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Netns {
            name: name.to_string(),
        })
    }

    fn run(&self, args: &[&str]) {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(args)
            .output()
            .expect("ip netns exec");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Moves the calling thread into a namespace (network namespaces are per
/// thread, so the test's other threads stay where they are).
fn enter_netns(name: &str) {
    let f = std::fs::File::open(format!("/var/run/netns/{name}")).expect("netns file");
    // SAFETY: a valid namespace fd; affects only this thread.
    let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

#[test]
fn real_loss_gives_retransmissions_and_duplicate_acks_equal_to_tshark() {
    if !require(Need::Root) || !require(Need::Program("ip")) || !require(Need::Program("nft")) {
        return;
    }
    let Some(ns) = Netns::create(&format!("netpeek-loss-{}", std::process::id())) else {
        unavailable("cannot create a network namespace (ip netns add)");
        return;
    };
    ns.run(&["ip", "link", "set", "lo", "up"]);
    // Ethernet-sized segments (no 64 KiB GSO packets on lo), so the
    // transfer has many of them.
    ns.run(&["ip", "link", "set", "lo", "mtu", "1500"]);
    let _ = Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .args([
            "ip",
            "link",
            "set",
            "lo",
            "gso_max_size",
            "1500",
            "gso_max_segs",
            "1",
        ])
        .output();
    let port: u16 = 8080;
    ns.run(&["nft", "add", "table", "inet", "netpeek_loss"]);
    ns.run(&[
        "nft",
        "add chain inet netpeek_loss input { type filter hook input priority 0 ; }",
    ]);
    // Drop about one data segment in twelve on its way into the server.
    ns.run(&[
        "nft",
        &format!("add rule inet netpeek_loss input tcp dport {port} meta length > 200 numgen random mod 12 == 0 drop"),
    ]);

    let dir = tempfile::tempdir().expect("temp dir");
    let cap = Capture::start(
        Some(&ns.name),
        "lo",
        &dir.path().join("loss.pcapng"),
        &format!("tcp port {port}"),
    );

    const CHUNK: usize = 16 * 1024;
    const TOTAL: usize = 40 * CHUNK;
    let (ready_tx, ready_rx) = mpsc::channel();
    let server_ns = ns.name.clone();
    let server = thread::spawn(move || {
        enter_netns(&server_ns);
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind in namespace");
        ready_tx.send(()).expect("ready");
        let (mut s, _) = listener.accept().expect("accept");
        set_timeouts(&s);
        let mut got = 0usize;
        let mut buf = vec![0u8; 65536];
        while got < TOTAL {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        let _ = s.write_all(b"done");
        got
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("server ready");
    let client_ns = ns.name.clone();
    let client = thread::spawn(move || {
        enter_netns(&client_ns);
        let mut c = TcpStream::connect(("127.0.0.1", port))?;
        set_timeouts(&c);
        let chunk = vec![b'x'; CHUNK];
        for _ in 0..TOTAL / CHUNK {
            c.write_all(&chunk)?;
        }
        let mut reply = [0u8; 4];
        c.read_exact(&mut reply)?;
        let _ = c.shutdown(Shutdown::Both);
        Ok::<_, std::io::Error>(reply)
    });
    let reply = client.join().expect("client thread");
    let received = server.join().expect("server thread");
    let path = cap.stop();
    if let Ok(keep) = std::env::var("NETPEEK_KEEP_CAPTURE") {
        let _ = std::fs::copy(&path, keep);
    }
    assert_eq!(received, TOTAL, "bytes received by the server");
    assert_eq!(reply.expect("the server's reply"), *b"done");

    let np = netpeek(&path);
    let count = |flag: &str| {
        np.rows
            .values()
            .filter(|r| r.analysis.contains(flag))
            .count()
    };
    eprintln!(
        "loss capture: {} TCP frames, {} retransmissions, {} duplicate ACKs",
        np.rows.len(),
        count("retransmission"),
        count("duplicate_ack")
    );
    assert!(count("retransmission") > 0, "no retransmission captured");
    assert!(count("duplicate_ack") > 0, "no duplicate ACK captured");
    if !require_part(Need::Tshark, "the per-frame parity") {
        return;
    }
    let ts = tshark(&path);
    let ts_count = |flag: &str| {
        ts.rows
            .values()
            .filter(|r| r.analysis.contains(flag))
            .count()
    };
    assert!(ts_count("retransmission") > 0 && ts_count("duplicate_ack") > 0);
    let diffs = compare(&ts, &np);
    assert!(diffs.is_empty(), "differences from tshark: {diffs:#?}");
    drop(ns);
}
