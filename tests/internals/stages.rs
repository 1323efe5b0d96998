//! The run's stages (read → dissect → output, on three threads) pass bytes
//! two ways: a file read in place is referenced in its memory map, anything
//! else (standard input, a compressed file, reassembled out-of-order
//! stretches) is copied into the batch. Both ways, and every batch
//! boundary, must give the same output as the capture has.

use std::io::Write;
use std::process::Stdio;

use crate::support::capture::{Dir, PcapWriter, TcpConv, ACK, PSH};
use crate::support::netpeek;

/// 80 connections, each 30 keep-alive exchanges; every fifth response is
/// sent with its two segments swapped (the reassembler holds the second and
/// hands both over when the first arrives). About 9,000 frames, several
/// batches.
const CONNS: u16 = 80;

fn write_capture(path: &std::path::Path) -> u64 {
    let mut out = Some(PcapWriter::create(path, 1));
    for c in 0..CONNS {
        let mut conv = TcpConv::new(
            out.take().unwrap(),
            20_000 + c,
            1_000 * u32::from(c),
            7_000_000 + u32::from(c),
        );
        conv.ts_us += u64::from(c) * 1_000_000;
        conv.handshake();
        for i in 0..30u32 {
            let req = format!("GET /c{c}/r{i} HTTP/1.1\r\nHost: example\r\n\r\n");
            conv.send(Dir::ToServer, req.as_bytes(), 1448, 0);
            let body = "x".repeat(100 + (i as usize * 37) % 900);
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let bytes = resp.as_bytes();
            if i % 5 == 4 {
                let (a, b) = bytes.split_at(bytes.len() / 2);
                let s = conv.next[1];
                conv.raw(Dir::ToClient, s.wrapping_add(a.len() as u32), PSH | ACK, b);
                conv.raw(Dir::ToClient, s, PSH | ACK, a);
                conv.next[1] = s.wrapping_add(bytes.len() as u32);
            } else {
                conv.send(Dir::ToClient, bytes, 1448, 0);
            }
            conv.ack(Dir::ToClient);
        }
        conv.close();
        out = Some(conv.out);
    }
    out.unwrap().finish()
}

fn run_stdin(args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = netpeek()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    out
}

#[test]
fn mapped_streamed_and_compressed_input_give_the_same_output() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("many.pcap");
    let frames = write_capture(&file);
    assert!(frames > 8_000, "{frames} frames");
    let raw = std::fs::read(&file).unwrap();
    let gz = dir.path().join("many.pcap.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&raw).unwrap();
    enc.finish().unwrap();

    for mode in [&[][..], &["-q", "--stats"][..], &["-v", "--body"][..]] {
        let mapped = netpeek().arg("-r").arg(&file).args(mode).output().unwrap();
        assert!(mapped.status.success(), "{mode:?}");
        let text = String::from_utf8(mapped.stdout.clone()).unwrap();
        if mode.is_empty() {
            // Every frame has its line, every response its note (the
            // swapped ones on the frame that completed them).
            let frame_lines = text
                .lines()
                .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
                .count();
            assert_eq!(frame_lines as u64, frames);
            let responses = text.lines().filter(|l| l.contains("← 200 OK")).count();
            assert_eq!(responses, usize::from(CONNS) * 30, "{text:.3000}");
            let get = text.lines().filter(|l| l.contains("→ GET /c3/r4 ")).count();
            assert_eq!(get, 1, "{text:.3000}");
        } else if mode == ["-q", "--stats"] {
            assert!(text.contains("2400"), "{text}");
        }
        let mut args = vec!["-r", "-"];
        args.extend_from_slice(mode);
        let streamed = run_stdin(&args, &raw);
        let compressed = netpeek().arg("-r").arg(&gz).args(mode).output().unwrap();
        for (what, other) in [("standard input", &streamed), ("gzip", &compressed)] {
            assert!(other.status.success(), "{what} {mode:?}");
            assert!(
                other.stdout == mapped.stdout,
                "{what} {mode:?}: output differs from the mapped file's"
            );
        }
    }
}

#[test]
fn count_stops_the_reader_and_still_finishes_the_connections() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("many.pcap");
    write_capture(&file);
    let out = netpeek()
        .arg("-r")
        .arg(&file)
        .args(["-c", "2500", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let packets = text
        .lines()
        .filter(|l| l.contains("\"type\":\"packet\""))
        .count();
    assert_eq!(packets, 2500);
    // Connections still open at frame 2500 are reported at the end, after
    // every packet line.
    let lines: Vec<&str> = text.lines().collect();
    let last_packet = lines
        .iter()
        .rposition(|l| l.contains("\"type\":\"packet\""))
        .unwrap();
    let open = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("\"type\":\"connection\"") && l.contains("\"close\":\"open\""))
        .map(|(i, _)| i)
        .collect::<Vec<_>>();
    assert_eq!(open.len(), 1, "one connection is open at frame 2500");
    assert!(open.iter().all(|&i| i > last_packet));
}

/// `-G 5 -W 2`: the run stops at the frame that would begin a third file,
/// as it did when one loop read and wrote; the reader does not run ahead
/// into frames the connection records would then count.
#[test]
fn the_file_limit_stops_the_reader_at_the_frame_that_reaches_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("many.pcap");
    write_capture(&file);
    let pattern = dir.path().join("w-%H%M%S.pcapng");
    let out = netpeek()
        .arg("-r")
        .arg(&file)
        .args(["--json", "-G", "5", "-W", "2", "-w"])
        .arg(&pattern)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let packets = lines
        .iter()
        .filter(|l| l.contains("\"type\":\"packet\""))
        .count();
    // Connection c starts c seconds in: files hold connections 0-4 and
    // 5-9; the SYN of connection 10 reaches the limit (shown, not written).
    let mut files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcapng"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    let written: usize = files
        .iter()
        .map(|f| {
            let o = netpeek().arg("-r").arg(f).arg("--json").output().unwrap();
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|l| l.contains("\"type\":\"packet\""))
                .count()
        })
        .sum();
    assert_eq!(written + 1, packets);
    let conns: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains("\"type\":\"connection\""))
        .collect();
    assert_eq!(conns.len(), 11);
    let open: Vec<&&&str> = conns
        .iter()
        .filter(|l| l.contains("\"close\":\"open\""))
        .collect();
    assert_eq!(open.len(), 1);
    assert!(
        open[0].contains("\"packets\":{\"client\":1,\"server\":0}"),
        "{}",
        open[0]
    );
    assert!(open[0].contains(&format!("\"last_frame\":{packets},")));
}
