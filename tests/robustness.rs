//! Hostile and damaged input, faults during capture, privileges (issue #6).

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Writes a microsecond pcap of Ethernet frames.
fn write_pcap(path: &Path, linktype: u32, frames: &[(u64, Vec<u8>)]) {
    let mut v = Vec::new();
    v.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    v.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    v.extend_from_slice(&262_144u32.to_le_bytes());
    v.extend_from_slice(&linktype.to_le_bytes());
    for (ts_us, f) in frames {
        v.extend_from_slice(&((ts_us / 1_000_000) as u32).to_le_bytes());
        v.extend_from_slice(&((ts_us % 1_000_000) as u32).to_le_bytes());
        v.extend_from_slice(&(f.len() as u32).to_le_bytes());
        v.extend_from_slice(&(f.len() as u32).to_le_bytes());
        v.extend_from_slice(f);
    }
    std::fs::write(path, v).unwrap();
}

/// Runs a command, returning its output and peak resident memory (KiB).
// The child is reaped with wait4(2), which also reports its peak memory.
#[allow(clippy::zombie_processes)]
fn run_measured(cmd: &mut Command) -> (std::process::Output, i64) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t1 = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t2 = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let mut status = 0;
    // SAFETY: wait4 on our own child; fills the rusage we own.
    let rss = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::wait4(child.id() as i32, &mut status, 0, &mut ru);
        ru.ru_maxrss
    };
    let stdout = t1.join().unwrap();
    let stderr = t2.join().unwrap();
    use std::os::unix::process::ExitStatusExt;
    (
        std::process::Output {
            status: std::process::ExitStatus::from_raw(status),
            stdout,
            stderr,
        },
        rss,
    )
}

#[test]
fn truncated_files_show_every_complete_frame_then_one_error() {
    let mut inputs = vec![repo().join("captures/lecture-http.pcapng")];
    if let Some(dir) = corpus_dir() {
        inputs.push(dir.join("zeek-http-get.pcap"));
        inputs.push(dir.join("pcapng-gen-test202-multi-section-mixed-endian.pcapng"));
        inputs.push(dir.join("zeek-http-cooper-grill-dvwa.pcapng"));
    }
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
            at += 97;
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
    let Some(dir) = corpus_dir() else { return };
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
    if !is_root() {
        eprintln!("not root: skipping the tmpfs part");
        return;
    }
    let Some(dir) = corpus_dir() else { return };
    let mnt = tempfile::tempdir().unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "netpeek-test"])
        .arg(mnt.path())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("cannot mount tmpfs here; skipping the tmpfs part");
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _u = Unmount(mnt.path());
    let out = mnt.path().join("full.pcapng");
    let o = run(netpeek()
        .arg("-r")
        .arg(dir.join("zeek-http-206_example_b.pcap"))
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
    if !live_allowed("interface_going_away_is_a_clear_error") {
        return;
    }
    let a = format!("npgo{}", std::process::id() % 10000);
    let b = format!("{a}p");
    let made = Command::new("ip")
        .args(["link", "add", &a, "type", "veth", "peer", "name", &b])
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        eprintln!("cannot create a veth pair here; skipping");
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
    if !live_allowed("drops_privileges_after_opening_device_and_files") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // The output is created as root before the drop.
    let out = tmp.path().join("z.pcapng");
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = rx.local_addr().unwrap().port();
    let np = LiveNetpeek::start(
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
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("flood.pcap");
    let n = 1_000_000u32;
    let mut frames = Vec::with_capacity(n as usize);
    for i in 0..n {
        let mut pkt = Vec::with_capacity(54);
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
        frames.push((1_700_000_000_000_000 + u64::from(i) * 10, pkt));
    }
    write_pcap(&f, 1, &frames);
    drop(frames);
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
    assert!(rss_kib < 180 * 1024, "peak RSS {rss_kib} KiB");
}
