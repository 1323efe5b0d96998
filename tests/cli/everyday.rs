//! Everyday conveniences (issue #7): compressed captures, rotation,
//! completions and man page, logging, progress display.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::*;

fn text_of(args: &[&str], file: &std::path::Path) -> Vec<u8> {
    let o = run(netpeek().args(args).arg("-r").arg(file));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout
}

#[test]
fn gzip_and_zstd_captures_read_like_the_plain_file() {
    let mut files = vec![repo().join("captures/lecture-http.pcapng")];
    files.extend(corpus_files().into_iter().filter(|p| {
        let n = name(p);
        n.contains("multi-section")
            || n.contains("workshop")
            || n.contains("206")
            || n.contains("null-ipv6")
    }));
    let tmp = tempfile::tempdir().unwrap();
    for f in files {
        let data = std::fs::read(&f).unwrap();
        // Names that do not say "compressed": detection is by magic bytes.
        let gz = tmp.path().join(format!("{}.bin1", name(&f)));
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&data).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let zst = tmp.path().join(format!("{}.bin2", name(&f)));
        std::fs::write(&zst, zstd::encode_all(&data[..], 3).unwrap()).unwrap();
        for args in [&[][..], &["--json"][..]] {
            let plain = text_of(args, &f);
            assert!(!plain.is_empty());
            let a = text_of(args, &gz);
            let b = text_of(args, &zst);
            // JSON's meta line names the file; compare everything after it.
            let skip = |v: &[u8]| -> Vec<u8> {
                if args.is_empty() {
                    v.to_vec()
                } else {
                    v.splitn(2, |&c| c == b'\n').nth(1).unwrap_or(&[]).to_vec()
                }
            };
            assert_eq!(skip(&plain), skip(&a), "gzip {}", name(&f));
            assert_eq!(skip(&plain), skip(&b), "zstd {}", name(&f));
        }
    }
    // A damaged gzip stream is one clear error, not a panic.
    let bad = tmp.path().join("bad.gz");
    std::fs::write(
        &bad,
        [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef],
    )
    .unwrap();
    let o = run(netpeek().arg("-r").arg(&bad));
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with(&format!("netpeek: cannot read {}", bad.display())),
        "{err}"
    );
}

#[test]
fn writes_gzip_compressed_pcapng() {
    if !require(Need::Tshark) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = repo().join("captures/lecture-http.pcapng");
    let out = tmp.path().join("out.pcapng.gz");
    let o = run(netpeek().arg("-r").arg(&src).arg("-q").arg("-w").arg(&out));
    assert!(o.status.success());
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip magic");
    let mut plain = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut plain).unwrap();
    assert_eq!(&plain[..4], &[0x0a, 0x0d, 0x0d, 0x0a], "a pcapng inside");
    // tshark reads it as is; netpeek reads it back frame for frame.
    let t = run(tshark()
        .arg("-r")
        .arg(&out)
        .args(["-T", "fields", "-e", "frame.len"]));
    assert_eq!(tshark_warnings(&t.stderr), Vec::<String>::new());
    assert_eq!(String::from_utf8_lossy(&t.stdout).lines().count(), 12);
    assert_eq!(text_of(&[], &out), text_of(&[], &src));
}

fn frames_in(path: &std::path::Path) -> usize {
    let t = run(tshark()
        .arg("-r")
        .arg(path)
        .args(["-T", "fields", "-e", "frame.number"]));
    assert_eq!(
        tshark_warnings(&t.stderr),
        Vec::<String>::new(),
        "{}",
        path.display()
    );
    String::from_utf8_lossy(&t.stdout).lines().count()
}

#[test]
fn rotation_by_size_count_and_time() {
    if !require(Need::Tshark) {
        return;
    }
    let dir = corpus_dir();
    // 1556 frames, 1.4 MB: 300 kB files.
    let input = dir.join("zeek-http-206_example_b.pcap");
    let total = 1556;
    let tmp = tempfile::tempdir().unwrap();

    // -C: "out.pcapng", "out.pcapng1", … each complete, nothing lost.
    let base = tmp.path().join("c.pcapng");
    let o = run(netpeek()
        .arg("-r")
        .arg(&input)
        .args(["-q", "-C", "300k", "-w"])
        .arg(&base));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("c.pcapng"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "c.pcapng",
            "c.pcapng1",
            "c.pcapng2",
            "c.pcapng3",
            "c.pcapng4"
        ]
    );
    let mut sum = 0;
    for n in &names {
        let p = tmp.path().join(n);
        let size = std::fs::metadata(&p).unwrap().len();
        assert!(size < 300 * 1024 + 2000, "{n}: {size} bytes");
        sum += frames_in(&p);
    }
    assert_eq!(sum, total);

    // -C with -W 3: a ring of three names, zero-padded as tcpdump does.
    let ring = tmp.path().join("r.pcapng");
    let o = run(netpeek()
        .arg("-r")
        .arg(&input)
        .args(["-q", "-C", "300k", "-W", "3", "-w"])
        .arg(&ring));
    assert!(o.status.success());
    let mut names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("r.pcapng"))
        .collect();
    names.sort();
    assert_eq!(names, ["r.pcapng0", "r.pcapng1", "r.pcapng2"]);
    for n in &names {
        assert!(frames_in(&tmp.path().join(n)) > 0);
    }

    // -G: one file per second of capture time, named with strftime.
    let g = tmp.path().join("g-%H%M%S.pcapng");
    let o = run(netpeek()
        .arg("-r")
        .arg(repo().join("captures/lecture-http.pcapng"))
        .args(["-q", "-G", "1", "-w"])
        .arg(&g));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let made: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("g-"))
        .collect();
    // The whole lecture exchange fits in one second: one file, named by
    // the first packet's time (23:41:31 UTC).
    assert_eq!(made, ["g-234131.pcapng"]);
    assert_eq!(frames_in(&tmp.path().join(&made[0])), 12);

    // -G 5 -W 2 over a capture spanning 15 s: stops after 2 files.
    let long = dir.join("zeek-workshop_2011_browse.pcap");
    let g2 = tmp.path().join("w-%H%M%S.pcapng");
    let o = run(netpeek()
        .arg("-r")
        .arg(&long)
        .args(["-q", "-G", "5", "-W", "2", "-w"])
        .arg(&g2));
    assert!(o.status.success());
    let made: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("w-"))
        .collect();
    assert_eq!(made.len(), 2, "{made:?}");
    let first_two: usize = made.iter().map(|n| frames_in(&tmp.path().join(n))).sum();
    assert!(
        first_two < 121,
        "stopped before the end: {first_two} of 121 frames"
    );

    // Rotation needs -w, and cannot rotate standard output.
    assert_eq!(
        run(netpeek().arg("-r").arg(&input).args(["-C", "1"]))
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(netpeek().arg("-r").arg(&input).args(["-C", "1", "-w", "-"]))
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn completions_and_man_page() {
    for (shell, marker) in [
        ("bash", "_netpeek()"),
        ("zsh", "#compdef netpeek"),
        ("fish", "complete -c netpeek"),
    ] {
        let o = run(netpeek().args(["--completions", shell]));
        assert!(o.status.success());
        let s = String::from_utf8_lossy(&o.stdout);
        assert!(s.contains(marker), "{shell}");
        assert!(
            s.contains("json") && s.contains("interface"),
            "{shell} lacks options"
        );
    }
    let o = run(netpeek().arg("--generate-man"));
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains(".TH netpeek 1"));
    assert!(s.contains("\\-\\-json"));
    assert!(s.contains("strftime"));
}

#[test]
fn diagnostics_go_to_stderr_through_the_logger() {
    let file = repo().join("captures/lecture-http.pcapng");
    let quiet = run(netpeek().arg("-r").arg(&file));
    let verbose = run(netpeek().arg("-v").arg("-r").arg(&file).arg("tcp"));
    assert_eq!(quiet.stdout, verbose.stdout, "logging never touches stdout");
    let err = String::from_utf8_lossy(&verbose.stderr);
    assert!(err.contains("netpeek: info: opened"), "{err}");
    assert!(
        err.contains("netpeek: info: filter 'tcp' compiled for link type EN10MB"),
        "{err}"
    );
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("netpeek: info"));
    let env = run(netpeek().env("RUST_LOG", "info").arg("-r").arg(&file));
    assert!(String::from_utf8_lossy(&env.stderr).contains("netpeek: info: opened"));
}

/// Runs a shell command under a pseudo-terminal (util-linux `script`),
/// returning what the terminal showed.
fn under_pty(cmd: &str, timeout: Duration) -> String {
    let mut child = Command::new("script")
        .args(["-qfec", cmd, "/dev/null"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script(1)");
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut v);
        v
    });
    let deadline = std::time::Instant::now() + timeout;
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    String::from_utf8_lossy(&reader.join().unwrap()).into_owned()
}

#[test]
fn progress_bar_on_a_terminal_only() {
    if !require(Need::Program("script")) || !require(Need::Program("python3")) {
        return;
    }
    let file = repo().join("captures/lecture-http.pcapng");
    // A slow producer through a pipe, so the bar has time to draw.
    let slow = format!(
        "python3 -c \"import sys,time; d=open('{}','rb').read(); [ (sys.stdout.buffer.write(d[i:i+200]), sys.stdout.flush(), time.sleep(0.05)) for i in range(0,len(d),200)]\"",
        file.display()
    );
    let shown = under_pty(
        &format!("{slow} | {} -r - > /dev/null", netpeek_bin()),
        Duration::from_secs(20),
    );
    assert!(shown.contains("reading"), "no progress shown: {shown:?}");
    assert!(shown.contains("packets"), "{shown:?}");
    // Same run with stderr piped: no bar, no escape codes.
    let o = run(Command::new("sh").arg("-c").arg(format!(
        "{slow} | {} -r - 2>&1 >/dev/null | cat",
        netpeek_bin()
    )));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(!text.contains("reading ["), "{text}");
    assert!(!text.contains('\u{1b}'), "{text:?}");
    // With -q there is no bar either.
    let shown = under_pty(
        &format!("{slow} | {} -q -r -", netpeek_bin()),
        Duration::from_secs(20),
    );
    assert!(!shown.contains("pkt/s"), "{shown:?}");
}

#[test]
fn live_counter_for_quiet_capture_on_a_terminal() {
    if !require(Need::Root) || !require(Need::Program("script")) || !require(Need::Tshark) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = rx.local_addr().unwrap().port();
    let out = tmp.path().join("c.pcapng");
    let cmd = format!(
        "{} -i lo -q -w {} udp port {port} & p=$!; sleep 1; for i in $(seq 20); do printf x > /dev/udp/127.0.0.1/{port}; sleep 0.05; done; sleep 0.6; kill -INT $p; wait $p",
        netpeek_bin(),
        out.display()
    );
    let shown = under_pty(&format!("bash -c '{cmd}'"), Duration::from_secs(30));
    assert!(
        shown.contains("captured 20 packets, dropped 0, wrote"),
        "{shown:?}"
    );
    assert_eq!(frames_in(&out), 20);
}
