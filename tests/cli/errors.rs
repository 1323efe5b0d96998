//! Setup and input errors: one clear line on stderr, the right exit code,
//! no panic, and nothing written that looks like success (issue #2).

use std::process::Command;

use crate::support::*;

struct Failure {
    code: Option<i32>,
    stderr: String,
    stdout: Vec<u8>,
}

fn fail(cmd: &mut Command) -> Failure {
    let o = run(cmd);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    assert!(
        !stderr.contains("RUST_BACKTRACE"),
        "backtrace hint: {stderr}"
    );
    Failure {
        code: o.status.code(),
        stderr,
        stdout: o.stdout,
    }
}

/// The lines of stderr that are netpeek's error (not the "reading from
/// file" preamble).
fn error_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("netpeek: ") && !l.starts_with("netpeek: notice: "))
        .collect()
}

#[test]
fn unknown_interface() {
    let f = fail(netpeek().args(["-i", "nosuchif0"]));
    assert_eq!(f.code, Some(1));
    assert_eq!(
        error_lines(&f.stderr),
        ["netpeek: nosuchif0: no such capture interface (No such device exists); netpeek -D lists the available ones"]
    );
    assert_eq!(f.stderr.lines().count(), 1, "{}", f.stderr);
}

#[test]
fn missing_capture_permission_says_how_to_get_it() {
    if !require(Need::Root) {
        return;
    }
    let f = fail(Command::new("runuser").args(["-u", "nobody", "--", netpeek_bin(), "-i", "lo"]));
    assert_eq!(f.code, Some(1));
    let lines = error_lines(&f.stderr);
    assert_eq!(lines.len(), 1, "{}", f.stderr);
    assert!(lines[0].starts_with("netpeek: lo: "), "{}", lines[0]);
    assert!(lines[0].contains("Operation not permitted"), "{}", lines[0]);
    assert!(
        lines[0].contains("setcap cap_net_raw,cap_net_admin=eip"),
        "{}",
        lines[0]
    );
}

#[test]
fn bad_filter_prints_libpcaps_message() {
    let file = repo().join("captures/lecture-http.pcapng");
    let f = fail(
        netpeek()
            .arg("-r")
            .arg(&file)
            .args(["tcp", "port", "eighty"]),
    );
    assert_eq!(f.code, Some(1));
    assert_eq!(
        error_lines(&f.stderr),
        ["netpeek: invalid filter expression 'tcp port eighty': unknown port 'eighty'"]
    );
    assert!(f.stdout.is_empty());
    let f = fail(netpeek().arg("-r").arg(&file).arg("tcp and ("));
    assert_eq!(f.code, Some(1));
    assert_eq!(
        error_lines(&f.stderr),
        ["netpeek: invalid filter expression 'tcp and (': can't parse filter expression: syntax error"]
    );
    if require_part(Need::Root, "the live part") {
        // Live: the same compiler, the same words, before capturing.
        let f = fail(netpeek().args(["-i", "lo", "tcp", "port", "eighty"]));
        assert_eq!(f.code, Some(1));
        assert_eq!(
            error_lines(&f.stderr),
            ["netpeek: invalid filter expression 'tcp port eighty': unknown port 'eighty'"]
        );
    }
}

#[test]
fn missing_unreadable_and_non_capture_files() {
    let f = fail(netpeek().args(["-r", "/nonexistent/netpeek-test.pcap"]));
    assert_eq!(f.code, Some(1));
    assert_eq!(
        error_lines(&f.stderr),
        ["netpeek: cannot open /nonexistent/netpeek-test.pcap: No such file or directory"]
    );

    let dir = tempfile::tempdir().unwrap();
    let f = fail(netpeek().arg("-r").arg(dir.path()));
    assert_eq!(f.code, Some(1));
    assert_eq!(
        error_lines(&f.stderr),
        [format!(
            "netpeek: {}: is a directory, not a capture file",
            dir.path().display()
        )
        .as_str()]
    );

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello, world\n").unwrap();
    let f = fail(netpeek().arg("-r").arg(&text));
    assert_eq!(f.code, Some(1));
    assert_eq!(
        error_lines(&f.stderr),
        [format!(
            "netpeek: {}: not a pcap or pcapng capture (unknown magic number 68656c6c)",
            text.display()
        )
        .as_str()]
    );

    let empty = dir.path().join("empty.pcap");
    std::fs::write(&empty, "").unwrap();
    let f = fail(netpeek().arg("-r").arg(&empty));
    assert_eq!(f.code, Some(1));
    assert!(error_lines(&f.stderr)[0].ends_with("the file is empty, not a pcap or pcapng capture"));

    if require_part(Need::Root, "the unprivileged-user part") {
        // Unreadable for an unprivileged user.
        let secret = dir.path().join("secret.pcap");
        std::fs::copy(repo().join("captures/lecture-http.pcapng"), &secret).unwrap();
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        let f = fail(
            Command::new("runuser")
                .args(["-u", "nobody", "--", netpeek_bin(), "-r"])
                .arg(&secret),
        );
        assert_eq!(f.code, Some(1));
        assert_eq!(
            error_lines(&f.stderr),
            [format!(
                "netpeek: cannot open {}: Permission denied",
                secret.display()
            )
            .as_str()]
        );
    }
}

#[test]
fn corrupt_file_shows_frames_before_the_damage_then_one_error() {
    let src = std::fs::read(repo().join("captures/lecture-http.pcapng")).unwrap();
    let whole = run(netpeek()
        .arg("--plain")
        .arg("-r")
        .arg(repo().join("captures/lecture-http.pcapng")));
    let whole_lines: Vec<String> = String::from_utf8_lossy(&whole.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let cut_file = dir.path().join("cut.pcapng");
    // Cut in the middle of the 7th packet block (well after the headers).
    let cut = src.len() * 6 / 10;
    std::fs::write(&cut_file, &src[..cut]).unwrap();
    let f = fail(netpeek().arg("--plain").arg("-r").arg(&cut_file));
    assert_eq!(f.code, Some(1));
    // Packet lines; the notices after them report what the cut left
    // unfinished (a truncated response, for instance).
    let shown: Vec<String> = String::from_utf8_lossy(&f.stdout)
        .lines()
        .filter(|l| !l.starts_with("-- netpeek"))
        .map(str::to_string)
        .collect();
    assert!(!shown.is_empty() && shown.len() < whole_lines.len());
    assert_eq!(
        shown[..],
        whole_lines[..shown.len()],
        "frames before the damage are shown unchanged"
    );
    let errs = error_lines(&f.stderr);
    assert_eq!(errs.len(), 1, "{}", f.stderr);
    assert!(
        errs[0].starts_with(&format!(
            "netpeek: {}: truncated block of type 0x00000006",
            cut_file.display()
        )),
        "{}",
        errs[0]
    );
    assert!(
        errs[0].contains(&format!("after frame {}", shown.len())),
        "{}",
        errs[0]
    );

    // A pcapng block whose length fields disagree.
    let mut bogus = src.clone();
    // The first packet block follows the section header and the interface
    // block; find it by its type.
    let epb = (0..bogus.len() - 8)
        .step_by(4)
        .find(|&i| bogus[i..i + 4] == [6, 0, 0, 0])
        .unwrap();
    bogus[epb + 4] = bogus[epb + 4].wrapping_add(8);
    let bogus_file = dir.path().join("bogus.pcapng");
    std::fs::write(&bogus_file, &bogus).unwrap();
    let f = fail(netpeek().arg("-r").arg(&bogus_file));
    assert_eq!(f.code, Some(1));
    assert!(f.stdout.is_empty());
    let errs = error_lines(&f.stderr);
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].contains("don't match") || errs[0].contains("truncated block"),
        "{}",
        errs[0]
    );
    assert!(
        errs[0].contains(&format!("at byte offset {epb}")),
        "{}",
        errs[0]
    );
}

#[test]
fn unwritable_output_writes_nothing_and_fails() {
    let file = repo().join("captures/lecture-http.pcapng");
    let f = fail(
        netpeek()
            .arg("-r")
            .arg(&file)
            .args(["-w", "/nonexistent/dir/out.pcapng"]),
    );
    assert_eq!(f.code, Some(1));
    assert_eq!(
        error_lines(&f.stderr),
        ["netpeek: cannot write /nonexistent/dir/out.pcapng: No such file or directory"]
    );
    assert!(
        f.stdout.is_empty(),
        "nothing printed that looks like success"
    );
    let dir = tempfile::tempdir().unwrap();
    let f = fail(netpeek().arg("-r").arg(&file).arg("-w").arg(dir.path()));
    assert_eq!(f.code, Some(1));
    assert_eq!(
        error_lines(&f.stderr),
        [format!(
            "netpeek: cannot write {}: Is a directory",
            dir.path().display()
        )
        .as_str()]
    );
    // A failed start leaves no output file behind.
    let out = dir.path().join("never.pcapng");
    let f = fail(
        netpeek()
            .args(["-r", "/nonexistent/in.pcap", "-w"])
            .arg(&out),
    );
    assert_eq!(f.code, Some(1));
    assert!(!out.exists());
}

#[test]
fn usage_errors_exit_2() {
    let f = fail(netpeek().arg("--no-such-flag"));
    assert_eq!(f.code, Some(2));
    assert!(f.stderr.contains("unexpected argument '--no-such-flag'"));
    let f = fail(netpeek().args(["-c", "many"]));
    assert_eq!(f.code, Some(2));
    let f = fail(netpeek().args(["-r", "x.pcap", "-i", "lo"]));
    assert_eq!(f.code, Some(2));
    assert_eq!(
        error_lines(&f.stderr),
        ["netpeek: -r reads a file; it cannot be combined with -i"]
    );
    let f = fail(netpeek().args(["-r", "x.pcap", "-w", "-", "--json"]));
    assert_eq!(f.code, Some(2));
}

#[test]
fn closed_stdout_is_not_an_error() {
    // `netpeek … | head -1`: the pipe closes early; netpeek stops quietly.
    let file = corpus_dir().join("zeek-http-1000-requests-one-dropped-response.pcap");
    let o = run(Command::new("bash").arg("-c").arg(format!(
        "'{}' -r '{}' | head -1 >/dev/null; echo ${{PIPESTATUS[0]}}",
        netpeek_bin(),
        file.display()
    )));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "0");
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("netpeek:"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
