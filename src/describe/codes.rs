//! The codes of every typed anomaly and notice, checked together: each is
//! snake_case, none is used twice, and README.md lists them all (the table
//! there is the one [`table`] writes; the test prints it when they differ).

use crate::event::anomaly::examples as http;
use crate::event::packet::examples as decode;
use crate::event::{Direction, HttpAnomaly, HttpNote, LinkType, Notice, RecordIssue, TrackNotice};

/// (code, kind, example text) for every code, in table order.
fn rows() -> Vec<(&'static str, &'static str, String)> {
    let mut rows = Vec::new();
    for a in http::http() {
        rows.push((a.code(), "HTTP note", a.to_string()));
    }
    for f in http::framing() {
        let a = HttpAnomaly::BodyFramingBroken {
            side: crate::event::MessageKind::Response,
            error: f,
        };
        rows.push((f.code(), "cause of `body_framing_broken`", a.to_string()));
    }
    for d in decode::decode() {
        rows.push((d.code(), "decode issue", d.to_string()));
    }
    for r in RecordIssue::examples() {
        rows.push((r.code(), "record issue", r.to_string()));
    }
    let notices = [
        Notice::KernelDropped { new: 5, total: 12 },
        Notice::FilterNotApplicable {
            linktype: LinkType(147),
            msg: "unknown link type".into(),
        },
    ];
    for n in notices
        .into_iter()
        .chain(TrackNotice::examples().into_iter().map(Notice::Track))
    {
        rows.push((n.code(), "notice", n.to_string()));
    }
    rows
}

/// The README table of codes.
fn table() -> String {
    let mut t = String::from("| code | kind | example text |\n|---|---|---|\n");
    for (code, kind, text) in rows() {
        t.push_str(&format!("| `{code}` | {kind} | {text} |\n"));
    }
    t
}

fn snake_case(code: &str) -> bool {
    !code.is_empty()
        && code.split('_').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && code.as_bytes()[0].is_ascii_lowercase()
}

#[test]
fn every_code_is_snake_case_and_unique() {
    let mut codes: Vec<&str> = rows().iter().map(|r| r.0).collect();
    // The codes of HTTP notes that are not anomalies (a notice carries
    // them when the input ends).
    let message = HttpNote::Interim {
        stream: 0,
        status: 100,
        reason: "Continue".into(),
    };
    codes.push(message.code());
    codes.push("http_request");
    codes.push("http_response");
    for c in &codes {
        assert!(snake_case(c), "{c} is not snake_case");
    }
    let n = codes.len();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), n, "a code is used twice");
    let anomaly = HttpNote::Anomaly {
        stream: 0,
        anomaly: HttpAnomaly::ConnectTunnel,
    };
    assert_eq!(Notice::Http(anomaly).code(), "connect_tunnel");
    // JSON's notice codes, as they were before the notices were typed.
    let track = TrackNotice::BufferLimit {
        stream: 0,
        dir: Direction::ToServer,
        limit: 1,
    };
    assert_eq!(Notice::Track(track).code(), "reassembly_limit");
}

#[test]
fn readme_lists_every_code() {
    let readme = include_str!("../../README.md");
    let t = table();
    assert!(
        readme.contains(&t),
        "README.md's table of codes is not current; it should read:\n\n{t}"
    );
}
