//! The JSON output and the Elastic Common Schema (issue #7): every field
//! name `--json` emits on the corpus is an ECS field (tests/data/ecs-fields.txt,
//! from the ECS field reference) or one of netpeek's own documented fields
//! (tests/data/netpeek-fields.txt); ECS fields carry values of their ECS
//! type; own fields never clash with ECS's objects; and the ECS values
//! say the same as netpeek's own fields.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::*;
use serde_json::Value;

/// ECS fields whose JSON type differs from their ECS type, and why.
const TYPE_EXCEPTIONS: &[(&str, &str)] = &[(
    "network.iana_number",
    "a number since schema 1 (ECS: keyword); Elasticsearch indexes the number as its text",
)];

/// Records that are not events and stay outside the mapping-conflict
/// check (their names are still checked against the lists).
const NOT_EVENTS: &[(&str, &str)] = &[(
    "meta",
    "the first line describes the run (its `file` is a string where ECS has a \
     `file` object); the README's Filebeat example drops it",
)];

/// Allowed values from the ECS reference (ECS 9.x, event.* field set).
const EVENT_KINDS: &[&str] = &[
    "alert",
    "asset",
    "enrichment",
    "event",
    "metric",
    "state",
    "pipeline_error",
    "signal",
];
/// event.category → the event.type values ECS expects with it.
const EVENT_CATEGORIES: &[(&str, &[&str])] = &[
    (
        "network",
        &[
            "access",
            "allowed",
            "connection",
            "denied",
            "end",
            "info",
            "protocol",
            "start",
        ],
    ),
    ("web", &["access", "error", "info"]),
];

fn lists() -> (BTreeMap<String, String>, Vec<String>) {
    let read = |f: &str| std::fs::read_to_string(repo().join("tests/data").join(f)).unwrap();
    let data_lines = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    };
    let ecs: BTreeMap<String, String> = data_lines(&read("ecs-fields.txt"))
        .iter()
        .map(|l| {
            let (n, t) = l.split_once('\t').expect("name<TAB>type");
            (n.to_string(), t.to_string())
        })
        .collect();
    let own: Vec<String> = data_lines(&read("netpeek-fields.txt"))
        .iter()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    (ecs, own)
}

fn own_matches(own: &[String], path: &str) -> bool {
    own.iter().any(|o| match o.strip_suffix(".*") {
        Some(prefix) => path
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('.'))
            .is_some_and(|rest| !rest.is_empty() && !rest.contains('.')),
        None => o == path,
    })
}

/// Leaf paths of a record with their values. Arrays of objects contribute
/// their members under the array's path (as Elasticsearch maps them);
/// empty arrays contribute nothing.
fn leaves<'a>(v: &'a Value, prefix: &str, out: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(x, &p, out);
            }
        }
        Value::Array(a) if a.is_empty() => {}
        Value::Array(a) if a.iter().all(Value::is_object) => {
            for x in a {
                leaves(x, prefix, out);
            }
        }
        _ => out.push((prefix.to_string(), v)),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`.
fn is_rfc3339_utc(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let frac_ok = match s.get(19..) {
        Some("Z") => true,
        Some(f) => f
            .strip_prefix('.')
            .and_then(|f| f.strip_suffix('Z'))
            .is_some_and(|f| !f.is_empty() && f.bytes().all(|c| c.is_ascii_digit())),
        None => false,
    };
    digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && b.get(10) == Some(&b'T')
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19)
        && frac_ok
}

fn type_ok(ecs_type: &str, v: &Value) -> bool {
    if let Value::Array(a) = v {
        return a.iter().all(|x| type_ok(ecs_type, x));
    }
    match ecs_type {
        "date" => v.as_str().is_some_and(is_rfc3339_utc),
        "long" | "integer" | "short" | "byte" | "unsigned_long" => v.is_i64() || v.is_u64(),
        "float" | "double" | "scaled_float" | "half_float" => v.is_number(),
        "keyword" | "wildcard" | "match_only_text" | "text" | "constant_keyword" => v.is_string(),
        "ip" => v
            .as_str()
            .is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok()),
        "boolean" => v.is_boolean(),
        _ => false,
    }
}

/// Every record netpeek writes for the corpus and the shipped capture,
/// with options that bring out the rarer fields.
fn all_records() -> Vec<Value> {
    let mut files = vec![repo().join("captures/lecture-http.pcapng")];
    files.extend(corpus_files());
    let mut out = Vec::new();
    let runs: &[&[&str]] = &[&[], &["--body"], &["--stats"]];
    for f in &files {
        for extra in runs {
            let o = run(netpeek().arg("-r").arg(f).arg("--json").args(*extra));
            out.extend(json_lines(&o.stdout));
        }
    }
    // Notices: a connection table of one evicts on a busy capture.
    let o = run(netpeek()
        .arg("-r")
        .arg(corpus_dir().join("zeek-http-methods.pcap"))
        .args(["--json", "--max-connections", "1"]));
    out.extend(json_lines(&o.stdout));
    out
}

#[test]
fn the_lists_are_sound() {
    let (ecs, own) = lists();
    // ECS as packaged: well over a thousand fields, the ones we use inside.
    assert!(ecs.len() > 1500, "{}", ecs.len());
    for f in [
        "@timestamp",
        "event.duration",
        "http.request.method",
        "url.original",
    ] {
        assert!(ecs.contains_key(f), "{f}");
    }
    assert_eq!(
        ecs.get("http.response.status_code").map(String::as_str),
        Some("long")
    );
    // A name is either ECS's or netpeek's, never both.
    let both: Vec<&String> = own.iter().filter(|o| ecs.contains_key(*o)).collect();
    assert!(
        both.is_empty(),
        "listed as netpeek's own but defined by ECS: {both:?}"
    );
    assert!(own_matches(&own, "analysis.retransmission"));
    assert!(!own_matches(&own, "analysis.a.b"));
    assert!(!own_matches(&own, "tcp.nonsense"));
}

#[test]
fn every_emitted_field_is_ecs_or_documented() {
    let (ecs, own) = lists();
    let records = all_records();
    let mut unknown: BTreeSet<String> = BTreeSet::new();
    let mut bad_type: BTreeSet<String> = BTreeSet::new();
    let mut clashes: BTreeSet<String> = BTreeSet::new();
    let mut seen_ecs: BTreeSet<String> = BTreeSet::new();
    let mut kinds: BTreeSet<String> = BTreeSet::new();
    for r in &records {
        let kind = r["type"].as_str().unwrap_or("?").to_string();
        kinds.insert(kind.clone());
        let mut ls = Vec::new();
        leaves(r, "", &mut ls);
        for (path, value) in ls {
            match ecs.get(&path) {
                Some(t) => {
                    seen_ecs.insert(path.clone());
                    let excepted = TYPE_EXCEPTIONS.iter().any(|(p, _)| *p == path);
                    if !excepted && !type_ok(t, value) {
                        bad_type.insert(format!("{path} ({t}): {value}"));
                    }
                }
                None if own_matches(&own, &path) => {
                    if NOT_EVENTS.iter().any(|(k, _)| *k == kind) {
                        continue;
                    }
                    // An own leaf where ECS has an object, or an own path
                    // below an ECS leaf, would clash in an ECS index.
                    let below = format!("{path}.");
                    if ecs.keys().any(|k| k.starts_with(&below)) {
                        clashes.insert(format!("{path} is an object in ECS"));
                    }
                    let mut p = path.as_str();
                    while let Some((head, _)) = p.rsplit_once('.') {
                        if ecs.contains_key(head) {
                            clashes.insert(format!("{path} is below the ECS field {head}"));
                        }
                        p = head;
                    }
                }
                None => {
                    unknown.insert(format!("{path} (in {kind})"));
                }
            }
        }
    }
    assert!(unknown.is_empty(), "fields in neither list: {unknown:#?}");
    assert!(
        bad_type.is_empty(),
        "ECS fields of the wrong type: {bad_type:#?}"
    );
    assert!(
        clashes.is_empty(),
        "own fields that clash with ECS: {clashes:#?}"
    );
    // The check saw every kind of record and the ECS fields the issue names.
    for k in [
        "meta",
        "packet",
        "connection",
        "http",
        "notice",
        "http_stats",
        "tcp_stats",
        "summary",
    ] {
        assert!(kinds.contains(k), "no {k} record seen");
    }
    for f in [
        "@timestamp",
        "event.kind",
        "event.category",
        "event.type",
        "event.duration",
        "source.ip",
        "destination.port",
        "network.transport",
        "http.request.method",
        "http.response.status_code",
        "url.original",
        "user_agent.original",
    ] {
        assert!(seen_ecs.contains(f), "{f} never emitted");
    }
}

fn lecture_records() -> Vec<Value> {
    let o = run(netpeek()
        .arg("-r")
        .arg(repo().join("captures/lecture-http.pcapng"))
        .arg("--json"));
    json_lines(&o.stdout)
}

fn one<'a>(rs: &'a [Value], kind: &str) -> &'a Value {
    rs.iter().find(|r| r["type"] == kind).unwrap()
}

#[test]
fn ecs_values_agree_with_netpeeks_own() {
    let rs = lecture_records();
    // The schema did not change meaning: additive fields only.
    assert_eq!(one(&rs, "meta")["schema"], 1);
    let x = one(&rs, "http");
    assert_eq!(x["http"]["request"]["method"], "GET");
    assert_eq!(x["http"]["response"]["status_code"], 200);
    assert_eq!(x["http"]["version"], "1.1");
    assert_eq!(x["http"]["response"]["mime_type"], "text/html");
    assert_eq!(x["http"]["response"]["body"]["bytes"], 77);
    assert_eq!(x["http"]["request"]["body"]["bytes"], 0);
    assert_eq!(x["url"]["original"], "/");
    assert_eq!(x["url"]["full"], "http://127.0.0.1:8000/");
    assert_eq!(x["url"]["domain"], "127.0.0.1");
    assert_eq!(x["url"]["port"], 8000);
    assert_eq!(x["url"]["path"], "/");
    assert_eq!(x["user_agent"]["original"], "curl/7.88.1");
    assert_eq!(x["event"]["duration"], x["duration_ns"]);
    assert_eq!(x["event"]["duration"], 976_086);
    assert_eq!(x["event"]["start"], x["request"]["@timestamp"]);
    assert_eq!(x["event"]["end"], x["response"]["last_timestamp"]);
    assert_eq!(x["@timestamp"], x["request"]["@timestamp"]);
    assert_eq!(x["source"], x["client"]);
    assert_eq!(x["destination"], x["server"]);
    assert_eq!(x["network"]["protocol"], "http");
    let c = one(&rs, "connection");
    assert_eq!(c["event"]["duration"], c["duration_ns"]);
    assert_eq!(c["@timestamp"], c["start"]);
    assert_eq!(c["source"]["ip"], c["client"]["ip"]);
    assert_eq!(c["source"]["bytes"], c["bytes"]["client"]);
    assert_eq!(c["destination"]["packets"], c["packets"]["server"]);
    assert_eq!(c["network"]["bytes"], 78 + 262);
    assert_eq!(c["network"]["packets"], 12);
    assert_eq!(c["event"]["type"], serde_json::json!(["connection", "end"]));
    for p in rs.iter().filter(|r| r["type"] == "packet") {
        assert_eq!(p["network"]["bytes"], p["len"]);
        assert_eq!(p["observer"]["ingress"]["interface"]["name"], "lo");
        assert_eq!(p["event"]["dataset"], "netpeek.packet");
    }
    // ECS's allowed values for kind, category and type, on every record.
    let mut all = rs.clone();
    all.extend(all_records());
    for r in all
        .iter()
        // Aggregate lines (tables and the run's summary) are not events.
        .filter(|r| {
            !matches!(
                r["type"].as_str(),
                Some("meta" | "http_stats" | "tcp_stats" | "summary")
            )
        })
    {
        let e = &r["event"];
        assert!(EVENT_KINDS.contains(&e["kind"].as_str().unwrap()), "{r}");
        let cats: Vec<&str> = e["category"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for t in e["type"].as_array().unwrap() {
            let t = t.as_str().unwrap();
            // Each type is one that some category of the record expects.
            assert!(
                cats.iter().any(|c| EVENT_CATEGORIES
                    .iter()
                    .any(|(name, types)| name == c && types.contains(&t))),
                "{t} with {cats:?}"
            );
        }
    }
}

#[test]
fn readme_documents_the_mapping() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    for needle in [
        "tests/data/netpeek-fields.txt",
        "tests/data/ecs-fields.txt",
        "http.response.status_code",
        "user_agent.original",
        "event.duration",
        "filebeat.inputs",
    ] {
        assert!(readme.contains(needle), "README lacks {needle}");
    }
}
