//! Golden-file tests of the rendered views (issue #5): the annotated
//! timeline (plain and in colour), `--explain`, `--ladder` (Unicode, and
//! ASCII folded) and the end summary, for the shipped capture and a
//! selection of the corpus. After an intended change,
//! `UPDATE_GOLDEN=1 cargo test --test corpus golden::` rewrites the files;
//! review the diff.

use std::path::PathBuf;

use crate::support::*;

const MODES: &[(&str, &[&str])] = &[
    ("timeline", &["--color", "never"]),
    ("timeline-color", &["--color", "always"]),
    ("explain", &["--color", "never", "--explain"]),
    ("ladder", &["--color", "never", "--ladder"]),
    (
        "ladder-ascii-fold",
        &["--color", "never", "--ladder", "--ascii", "--fold"],
    ),
];

/// Corpus captures with golden files: a plain exchange, loss and
/// retransmissions, a snaplen-cut connection, pipelining, 100-continue.
const CORPUS: &[&str] = &[
    "zeek-http-get.pcap",
    "zeek-tcp-ctu-64702-888.pcap",
    "zeek-tcp-retransmit-fast009.pcap",
    "sv-http-pipeline-2req-one-segment.pcap",
    "zeek-http-100-continue.pcap",
    "zeek-web.pcap",
];

fn golden_dir() -> PathBuf {
    repo().join("tests/golden")
}

fn check(capture: &std::path::Path, label: &str) -> usize {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut checked = 0;
    for (mode, args) in MODES {
        let out = run(netpeek().arg("-r").arg(capture).args(*args));
        assert!(
            out.status.success(),
            "{label} {mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = golden_dir().join(format!("{label}.{mode}.txt"));
        if update {
            std::fs::create_dir_all(golden_dir()).unwrap();
            std::fs::write(&path, &out.stdout).unwrap();
            continue;
        }
        let want = std::fs::read(&path)
            .unwrap_or_else(|_| panic!("missing {}; run with UPDATE_GOLDEN=1", path.display()));
        if want != out.stdout {
            let got = String::from_utf8_lossy(&out.stdout);
            let want = String::from_utf8_lossy(&want);
            let first = got
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(got.lines().count().min(want.lines().count()));
            panic!(
                "{} differs from the output at line {}:\n got: {:?}\nwant: {:?}\n(UPDATE_GOLDEN=1 rewrites it)",
                path.display(),
                first + 1,
                got.lines().nth(first),
                want.lines().nth(first)
            );
        }
        checked += 1;
    }
    checked
}

#[test]
fn shipped_capture_views() {
    let n = check(&repo().join("captures/lecture-http.pcapng"), "lecture-http");
    assert!(std::env::var_os("UPDATE_GOLDEN").is_some() || n == MODES.len());
}

#[test]
fn corpus_views() {
    let dir = corpus_dir();
    for c in CORPUS {
        check(&dir.join(c), c.trim_end_matches(".pcap"));
    }
}

#[test]
fn colour_is_only_in_the_colour_file() {
    let plain = std::fs::read_to_string(golden_dir().join("lecture-http.timeline.txt")).unwrap();
    let color =
        std::fs::read_to_string(golden_dir().join("lecture-http.timeline-color.txt")).unwrap();
    assert!(!plain.contains('\u{1b}'));
    assert!(color.contains("\u{1b}["));
    // Without its escapes, the coloured view is the plain one.
    let stripped: String = {
        let mut s = String::new();
        let mut esc = false;
        for c in color.chars() {
            if esc {
                esc = c != 'm';
            } else if c == '\u{1b}' {
                esc = true;
            } else {
                s.push(c);
            }
        }
        s
    };
    assert_eq!(stripped, plain);
}

#[test]
fn timeline_time_styles_follow_tcpdumps_flags() {
    let file = repo().join("captures/lecture-http.pcapng");
    let first = |args: &[&str]| -> String {
        let o = run(netpeek().args(args).arg("-r").arg(&file));
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .next()
            .unwrap()
            .to_string()
    };
    // Default: seconds since the first packet.
    assert!(first(&[]).starts_with("   0.000000 #0 "));
    // -tt: seconds since the epoch; -tttt: date and time (UTC here).
    assert!(
        first(&["-tt"]).starts_with("1795736491.447619 #0 "),
        "{}",
        first(&["-tt"])
    );
    assert!(
        first(&["-tttt"]).starts_with("2026-11-26 23:41:31.447619 #0 "),
        "{}",
        first(&["-tttt"])
    );
    assert!(first(&["-t"]).starts_with("#0 "), "{}", first(&["-t"]));
    assert!(
        first(&["--nano"]).starts_with("   0.000000000 #0 "),
        "{}",
        first(&["--nano"])
    );
}

#[test]
fn json_ends_with_a_summary() {
    let file = repo().join("captures/lecture-http.pcapng");
    let o = run(netpeek().arg("--json").arg("-r").arg(&file));
    let lines = json_lines(&o.stdout);
    let last = lines.last().unwrap();
    assert_eq!(last["type"], "summary");
    assert_eq!(last["packets"], 12);
    assert_eq!(last["frames_read"], 12);
    assert_eq!(last["tcp_connections"], 1);
    assert_eq!(last["close"]["fin"], 1);
    assert_eq!(last["http_exchanges"], 1);
    assert_eq!(last["http_unanswered"], 0);
    assert_eq!(last["duration_ns"], 1_255_712);
    assert_eq!(last["start"], "2026-11-26T23:41:31.447619071Z");
}
