//! `--har FILE` (issue #7): the HTTP Archive of a capture validates against
//! the HAR 1.2 JSON schema of the npm package `har-schema` (vendored in
//! tests/data/har-schema), holds every exchange netpeek reports, and takes
//! its timings from the capture.

use std::path::Path;

use crate::support::*;
use serde_json::Value;

/// Resolves the schema's relative `$ref`s (`log.json#`, …) to the
/// vendored files.
struct VendoredSchemas;

impl jsonschema::Retrieve for VendoredSchemas {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri
            .as_str()
            .strip_prefix("file:///har-schema/")
            .ok_or_else(|| format!("unexpected schema reference {uri}"))?;
        let path = repo().join("tests/data/har-schema").join(name);
        Ok(serde_json::from_slice(&std::fs::read(path)?)?)
    }
}

fn har_validator() -> jsonschema::Validator {
    let root: Value = serde_json::from_slice(
        &std::fs::read(repo().join("tests/data/har-schema/har.json")).unwrap(),
    )
    .unwrap();
    jsonschema::options()
        .with_base_uri("file:///har-schema/")
        .with_retriever(VendoredSchemas)
        .should_validate_formats(true)
        .build(&root)
        .expect("the vendored HAR schema compiles")
}

fn errors(v: &jsonschema::Validator, har: &Value) -> Vec<String> {
    v.iter_errors(har)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// The HAR netpeek writes for `file`, and whether netpeek succeeded (a
/// damaged capture ends with exit status 1, after the outputs are closed).
fn har_run(file: &Path, extra: &[&str]) -> (Value, bool) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.har");
    let o = run(netpeek()
        .arg("-r")
        .arg(file)
        .arg("-q")
        .arg("--har")
        .arg(&out)
        .args(extra));
    // An input that cannot be opened leaves no file behind.
    let Ok(bytes) = std::fs::read(&out) else {
        assert!(!o.status.success(), "{}: no HAR written", name(file));
        return (Value::Null, false);
    };
    let har = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{}: the HAR is not JSON: {e}", name(file)));
    (har, o.status.success())
}

fn har_of(file: &Path, extra: &[&str]) -> Value {
    let (har, ok) = har_run(file, extra);
    assert!(ok, "netpeek failed on {}", name(file));
    har
}

/// netpeek's NDJSON for `file`, and whether netpeek succeeded.
fn json_run(file: &Path) -> (Vec<Value>, bool) {
    let o = run(netpeek().arg("-r").arg(file).arg("--json"));
    (json_lines(&o.stdout), o.status.success())
}

fn json_of(file: &Path) -> Vec<Value> {
    let (v, ok) = json_run(file);
    assert!(ok, "netpeek --json failed on {}", name(file));
    v
}

fn ms(ns: &Value) -> f64 {
    ns.as_i64().unwrap() as f64 / 1e6
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn the_validator_rejects_a_broken_har() {
    // The check below means something only if the validator can say no.
    let v = har_validator();
    let mut har = har_of(&repo().join("captures/lecture-http.pcapng"), &[]);
    assert!(errors(&v, &har).is_empty());
    let entry = &mut har["log"]["entries"][0];
    entry.as_object_mut().unwrap().remove("timings");
    entry["request"]["url"] = "not a uri".into();
    entry["startedDateTime"] = "yesterday".into();
    let e = errors(&v, &har);
    assert!(e.len() >= 3, "{e:?}");
    assert!(e.iter().any(|m| m.contains("timings")), "{e:?}");
    assert!(e.iter().any(|m| m.contains("/request/url")), "{e:?}");
}

#[test]
fn har_validates_and_holds_every_exchange() {
    let v = har_validator();
    let mut files = vec![repo().join("captures/lecture-http.pcapng")];
    files.extend(corpus_files());
    let mut with_http = 0;
    let mut total = 0;
    for file in &files {
        let (json, json_ok) = json_run(file);
        let http: Vec<Value> = json.into_iter().filter(|l| l["type"] == "http").collect();
        let (har, har_ok) = har_run(file, &[]);
        assert_eq!(json_ok, har_ok, "{}", name(file));
        if har.is_null() {
            assert!(http.is_empty(), "{}", name(file));
            continue;
        }
        let e = errors(&v, &har);
        assert!(e.is_empty(), "{}: {e:?}", name(file));
        assert_eq!(har["log"]["version"], "1.2");
        assert_eq!(har["log"]["creator"]["name"], "netpeek");
        let entries = har["log"]["entries"].as_array().unwrap();
        assert_eq!(entries.len(), http.len(), "{}", name(file));
        // Entry i is exchange i: same stream, method, status, frames.
        for (x, e) in http.iter().zip(entries) {
            assert_eq!(e["connection"], x["stream"].to_string().as_str());
            match x.get("request") {
                Some(r) => {
                    assert_eq!(e["request"]["method"], r["method"], "{}", name(file));
                    assert_eq!(e["_frames"][0], r["first_frame"]);
                    assert_eq!(e["request"]["httpVersion"], r["version"]);
                    assert_eq!(e["request"]["bodySize"], r["body_bytes"]);
                }
                None => assert_eq!(e["request"]["method"], ""),
            }
            match x.get("response") {
                Some(r) => {
                    assert_eq!(e["response"]["status"], r["status_code"], "{}", name(file));
                    assert_eq!(e["response"]["statusText"], r["reason"]);
                    assert_eq!(e["_frames"][1], r["last_frame"]);
                    assert_eq!(e["response"]["bodySize"], r["body_wire_bytes"]);
                }
                None => assert_eq!(e["response"]["status"], 0),
            }
            if let (Some(t), Some(d)) = (x.get("ttfb_ns"), x.get("duration_ns")) {
                let tm = &e["timings"];
                assert!(
                    close(tm["wait"].as_f64().unwrap(), ms(t).max(0.0)),
                    "{}",
                    name(file)
                );
                let sum = tm["send"].as_f64().unwrap()
                    + tm["wait"].as_f64().unwrap()
                    + tm["receive"].as_f64().unwrap();
                // send + wait + receive spans the exchange (a response that
                // began before the request ended clamps wait at 0).
                if t.as_i64().unwrap() >= 0 {
                    assert!(close(sum, ms(d)), "{}: {sum} vs {}", name(file), ms(d));
                }
            }
            for k in ["blocked", "dns", "ssl"] {
                assert_eq!(e["timings"][k], -1.0);
            }
        }
        if !http.is_empty() {
            with_http += 1;
        }
        total += entries.len();
    }
    if files.len() > 1 {
        assert!(with_http >= 20, "only {with_http} captures with HTTP");
        assert!(total >= 1000, "only {total} exchanges");
    }
}

#[test]
fn lecture_har_timings_come_from_the_capture() {
    let file = repo().join("captures/lecture-http.pcapng");
    let lines = json_of(&file);
    let x = lines.iter().find(|l| l["type"] == "http").unwrap();
    let conn = lines.iter().find(|l| l["type"] == "connection").unwrap();
    let har = har_of(&file, &[]);
    let e = &har["log"]["entries"][0];
    let req = &x["request"];
    assert_eq!(e["request"]["url"], "http://127.0.0.1:8000/");
    assert_eq!(e["request"]["method"], "GET");
    assert_eq!(e["response"]["status"], 200);
    assert_eq!(e["serverIPAddress"], "127.0.0.1");
    assert_eq!(
        e["response"]["content"]["mimeType"],
        x["response"]["content_type"]
    );
    assert!(e["response"]["content"]["mimeType"]
        .as_str()
        .unwrap()
        .starts_with("text/html"));
    // connect: the handshake of the connection's first exchange.
    let rtt = ms(&conn["handshake"]["rtt_ns"]);
    assert!(rtt > 0.0);
    let t = &e["timings"];
    assert!(close(t["connect"].as_f64().unwrap(), rtt));
    let send = rfc3339_to_ns(req["last_timestamp"].as_str().unwrap())
        - rfc3339_to_ns(req["@timestamp"].as_str().unwrap());
    assert!(close(t["send"].as_f64().unwrap(), send as f64 / 1e6));
    assert!(close(t["wait"].as_f64().unwrap(), ms(&x["ttfb_ns"])));
    let time = e["time"].as_f64().unwrap();
    assert!(close(time, rtt + ms(&x["duration_ns"])));
    // It starts at the request's first byte less the handshake.
    let started = rfc3339_to_ns(e["startedDateTime"].as_str().unwrap());
    let want = rfc3339_to_ns(req["@timestamp"].as_str().unwrap())
        - conn["handshake"]["rtt_ns"].as_i64().unwrap() as i128;
    assert_eq!(started, want);
    // Headers in order, sizes from the wire.
    let names: Vec<&str> = e["request"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[0], "Host");
    assert_eq!(
        e["response"]["content"]["size"],
        x["response"]["body_bytes"]
    );
    assert!(e["response"]["headersSize"].as_i64().unwrap() > 100);
    // `--har -`: the same document on standard output.
    let o = run(netpeek().arg("-r").arg(&file).args(["--har", "-"]));
    assert!(o.status.success());
    let stdout: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(stdout, har);
}

#[test]
fn later_exchanges_on_a_connection_have_no_connect_time() {
    let dir = corpus_dir();
    // Keep-alive: several exchanges on one connection.
    let har = har_of(&dir.join("sv-http-vlan-keepalive-gzip-8000.pcap"), &[]);
    let entries = har["log"]["entries"].as_array().unwrap();
    assert!(entries.len() >= 2);
    assert!(entries[0]["timings"]["connect"].as_f64().unwrap() >= 0.0);
    for e in &entries[1..] {
        assert_eq!(e["timings"]["connect"], -1.0);
    }
}

fn header<'a>(hs: &'a Value, name: &str) -> Option<&'a str> {
    hs.as_array()?
        .iter()
        .find(|h| {
            h["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .and_then(|h| h["value"].as_str())
}

#[test]
fn secrets_are_redacted_unless_asked_for() {
    let dir = corpus_dir();
    let file = dir.join("zeek-http-basic-auth-with-colon-ipv4linktype.pcap");
    let hidden = har_of(&file, &[]);
    let shown = har_of(&file, &["--show-secrets"]);
    let h = &hidden["log"]["entries"][0]["request"]["headers"];
    let s = &shown["log"]["entries"][0]["request"]["headers"];
    let real = header(s, "Authorization").unwrap();
    assert!(real.starts_with("Basic "), "{real}");
    assert_eq!(
        header(h, "Authorization").unwrap(),
        format!("<redacted {} bytes>", real.len())
    );
    assert!(!serde_json::to_string(&hidden).unwrap().contains(real));
    // Cookies: listed only with --show-secrets.
    let file = dir.join("sv-http-vlan-keepalive-gzip-8000.pcap");
    let hidden = har_of(&file, &[]);
    let shown = har_of(&file, &["--show-secrets"]);
    let count = |h: &Value, side: &str| -> usize {
        h["log"]["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e[side]["cookies"].as_array().unwrap().len())
            .sum()
    };
    assert_eq!(count(&hidden, "request"), 0);
    assert_eq!(count(&hidden, "response"), 0);
    let with_cookie = shown["log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| header(&e["request"]["headers"], "Cookie").is_some())
        .expect("a request with a Cookie header");
    let cookie = header(&with_cookie["request"]["headers"], "Cookie").unwrap();
    let first = &with_cookie["request"]["cookies"][0];
    let (n, v) = cookie.split(';').next().unwrap().split_once('=').unwrap();
    assert_eq!(first["name"], n.trim());
    assert_eq!(first["value"], v.trim());
    assert!(count(&shown, "request") > 0);
}

#[test]
fn bodies_with_body_text_or_base64() {
    let dir = corpus_dir();
    let v = har_validator();
    // Text (some gzip-encoded) and a PNG.
    let file = dir.join("sv-http-vlan-keepalive-gzip-8000.pcap");
    let har = har_of(&file, &["--body", "--body-limit", "10000000"]);
    assert!(errors(&v, &har).is_empty());
    let entries = har["log"]["entries"].as_array().unwrap();
    let mut text = 0;
    let mut b64 = 0;
    for e in entries {
        let c = &e["response"]["content"];
        let size = c["size"].as_u64().unwrap() as usize;
        match (c.get("text").and_then(Value::as_str), c.get("encoding")) {
            (Some(t), None) => {
                assert_eq!(t.len(), size, "{}", e["request"]["url"]);
                text += 1;
            }
            (Some(t), Some(enc)) => {
                assert_eq!(enc, "base64");
                use base64::Engine as _;
                let raw = base64::engine::general_purpose::STANDARD.decode(t).unwrap();
                assert_eq!(raw.len(), size, "{}", e["request"]["url"]);
                b64 += 1;
            }
            (None, _) => assert_eq!(size, 0, "{}", e["request"]["url"]),
        }
    }
    assert!(text > 0 && b64 > 0, "text {text}, base64 {b64}");
    // Without --body, no content text at all.
    let plain = har_of(&file, &[]);
    assert!(plain["log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["response"]["content"].get("text").is_none()));
}
