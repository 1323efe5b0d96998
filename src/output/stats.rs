//! `--stats`: summary tables written when the run ends. The HTTP table
//! counts requests by method and status and gives latency (first byte of
//! the request → last byte of the response) by host and path.
//!
//! Memory is bounded: at most [`MAX_ROWS`] (method, status) and (host, path)
//! rows each (the rest are pooled under `(other)`), and each row keeps at most [`MAX_SAMPLES`]
//! latencies (a uniform reservoir sample beyond that, so the median and p95
//! become estimates; count, min and max stay exact).

use crate::describe::annotate::Annotation;
use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::event::Exchange;

use super::Sink;
use crate::describe::{human_duration, run};
use crate::event::{PacketEvent, RunStats};

pub const MAX_ROWS: usize = 1000;
pub const MAX_SAMPLES: usize = 10_000;

#[derive(Debug, Default)]
struct Samples {
    count: u64,
    min: i64,
    max: i64,
    kept: Vec<i64>,
    rng: u64,
}

impl Samples {
    fn add(&mut self, v: i64) {
        if self.count == 0 {
            self.min = v;
            self.max = v;
            self.rng = 0x9e37_79b9_7f4a_7c15;
        }
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.count += 1;
        if self.kept.len() < MAX_SAMPLES {
            self.kept.push(v);
        } else {
            // Reservoir sampling with a fixed-seed xorshift: deterministic.
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            let j = self.rng % self.count;
            if let Some(slot) = usize::try_from(j).ok().and_then(|j| self.kept.get_mut(j)) {
                *slot = v;
            }
        }
    }

    /// The kept samples in order, for [`percentile`].
    fn sorted(&self) -> Vec<i64> {
        let mut v = self.kept.clone();
        v.sort_unstable();
        v
    }
}

/// Nearest-rank percentile of sorted samples (0 when there are none).
fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied().unwrap_or(0)
}

/// HTTP statistics over a run.
///
/// The maps are nested (method → status, host → path) rather than keyed by
/// pairs so that a row already present is found with borrowed strings: an
/// exchange allocates nothing unless it starts a new row. Iteration order
/// is the same as for pair keys.
#[derive(Debug, Default)]
pub struct HttpStats {
    /// method → (status or None for no response) → count.
    by_status: BTreeMap<String, BTreeMap<Option<u16>, u64>>,
    /// Rows in `by_status` (pairs).
    status_len: usize,
    /// host → path → latencies.
    latency: BTreeMap<String, BTreeMap<String, Samples>>,
    /// Rows in `latency` (pairs).
    latency_len: usize,
}

/// Updates the row for (`a`, `b`) in a nested map with `f`, or the row for
/// `other` when (`a`, `b`) is new and the map already holds `max` rows.
/// Keys are copied only when a row is made.
fn update_row<B, V>(
    map: &mut BTreeMap<String, BTreeMap<B::Owned, V>>,
    rows: &mut usize,
    (a, b): (&str, &B),
    other: (&str, &B),
    max: usize,
    f: impl FnOnce(&mut V),
) where
    B: Ord + ToOwned + ?Sized,
    B::Owned: Ord + Borrow<B>,
    V: Default,
{
    if let Some(v) = map.get_mut(a).and_then(|inner| inner.get_mut(b)) {
        f(v);
        return;
    }
    let (a, b) = if *rows < max { (a, b) } else { other };
    let inner = map.entry(a.to_owned()).or_default();
    if !inner.contains_key(b) {
        *rows += 1;
    }
    f(inner.entry(b.to_owned()).or_default());
}

/// The path of a request target: origin-form up to `?`, or the path of an
/// absolute-form URI.
fn path_of(uri: &str) -> &str {
    let mut p = uri;
    if let Some(rest) = after_scheme(uri) {
        p = rest.find('/').and_then(|i| rest.get(i..)).unwrap_or("/");
    }
    p.split(['?', '#']).next().unwrap_or(p)
}

/// What follows `scheme://` when `uri` is in absolute form (RFC 3986: a
/// scheme is a letter, then letters, digits, `+`, `-` or `.`). A `://`
/// later in the URI (in a query, say) does not count.
fn after_scheme(uri: &str) -> Option<&str> {
    let colon = memchr::memchr(b':', uri.as_bytes())?;
    let scheme = uri.as_bytes().get(..colon)?;
    let valid = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'));
    if !valid {
        return None;
    }
    uri.get(colon..)?.strip_prefix("://")
}

impl HttpStats {
    pub fn add(&mut self, x: &Exchange) {
        let Some(req) = &x.request else { return };
        let status = x.response.as_ref().map(|r| r.status);
        // Methods are whatever the client sent: past MAX_ROWS rows the
        // rest are pooled, as for paths.
        update_row(
            &mut self.by_status,
            &mut self.status_len,
            (&req.method, &status),
            ("(other)", &status),
            MAX_ROWS,
            |n| *n += 1,
        );
        if let Some(d) = x.duration_ns().filter(|_| x.response.is_some()) {
            let server;
            let host = match (&req.host, x.server) {
                (Some(h), _) => &**h,
                (None, Some(s)) => {
                    server = s.to_string();
                    server.as_str()
                }
                (None, None) => "",
            };
            update_row(
                &mut self.latency,
                &mut self.latency_len,
                (host, path_of(&req.uri)),
                ("(other)", "(other)"),
                MAX_ROWS,
                |s| s.add(d),
            );
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_status.is_empty()
    }

    /// (method, status, count) rows in table order.
    fn statuses(&self) -> impl Iterator<Item = (&str, Option<u16>, u64)> {
        self.by_status
            .iter()
            .flat_map(|(m, inner)| inner.iter().map(move |(s, n)| (m.as_str(), *s, *n)))
    }

    /// (host, path, latencies) rows in table order.
    fn latencies(&self) -> impl Iterator<Item = (&str, &str, &Samples)> {
        self.latency
            .iter()
            .flat_map(|(h, inner)| inner.iter().map(move |(p, s)| (h.as_str(), p.as_str(), s)))
    }

    pub fn write_table<W: Write>(&self, w: &mut W) -> io::Result<()> {
        writeln!(w, "HTTP requests by method and status:")?;
        if self.by_status.is_empty() {
            writeln!(w, "  (no HTTP requests)")?;
            return Ok(());
        }
        let mw = self
            .by_status
            .keys()
            .map(|m| m.len())
            .max()
            .unwrap_or(6)
            .max(6);
        writeln!(w, "  {:<mw$}  {:>6}  {:>8}", "method", "status", "requests")?;
        for (m, s, n) in self.statuses() {
            let s = s.map_or("-".to_string(), |s| s.to_string());
            writeln!(w, "  {m:<mw$}  {s:>6}  {n:>8}")?;
        }
        writeln!(
            w,
            "HTTP latency by host and path (first byte of the request to last byte of the response):"
        )?;
        let hw = self
            .latency
            .keys()
            .map(|h| h.chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        let pw = self
            .latencies()
            .map(|(_, p, _)| p.chars().count().min(60))
            .max()
            .unwrap_or(4)
            .max(4);
        writeln!(
            w,
            "  {:<hw$}  {:<pw$}  {:>8}  {:>9}  {:>9}  {:>9}  {:>9}",
            "host", "path", "requests", "min", "median", "p95", "max"
        )?;
        for (h, p, s) in self.latencies() {
            let p: String = p.chars().take(60).collect();
            let sorted = s.sorted();
            writeln!(
                w,
                "  {h:<hw$}  {p:<pw$}  {:>8}  {:>9}  {:>9}  {:>9}  {:>9}",
                s.count,
                human_duration(s.min),
                human_duration(percentile(&sorted, 0.5)),
                human_duration(percentile(&sorted, 0.95)),
                human_duration(s.max)
            )?;
        }
        Ok(())
    }

    pub fn write_json<W: Write>(&self, w: &mut W) -> io::Result<()> {
        #[derive(Serialize)]
        struct ByStatus<'a> {
            method: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            status_code: Option<u16>,
            requests: u64,
        }
        #[derive(Serialize)]
        struct Latency<'a> {
            host: &'a str,
            path: &'a str,
            requests: u64,
            min_ns: i64,
            median_ns: i64,
            p95_ns: i64,
            max_ns: i64,
        }
        #[derive(Serialize)]
        struct Line<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            by_method_status: Vec<ByStatus<'a>>,
            latency: Vec<Latency<'a>>,
        }
        let line = Line {
            kind: "http_stats",
            by_method_status: self
                .statuses()
                .map(|(m, s, n)| ByStatus {
                    method: m,
                    status_code: s,
                    requests: n,
                })
                .collect(),
            latency: self
                .latencies()
                .map(|(h, p, s)| {
                    let sorted = s.sorted();
                    Latency {
                        host: h,
                        path: p,
                        requests: s.count,
                        min_ns: s.min,
                        median_ns: percentile(&sorted, 0.5),
                        p95_ns: percentile(&sorted, 0.95),
                        max_ns: s.max,
                    }
                })
                .collect(),
        };
        serde_json::to_writer(&mut *w, &line)?;
        w.write_all(b"\n")
    }
}

/// Connections kept for the conversation table (the rest are counted).
pub const MAX_CONVERSATIONS: usize = 10_000;

/// TCP conversations for `--stats`: the table rows (bounded) and totals.
#[derive(Debug, Default)]
struct TcpStats {
    rows: Vec<crate::event::ConnRecord>,
    more: u64,
    total: u64,
    retransmissions: u64,
    rtt: Samples,
}

#[derive(Serialize)]
struct RttJson {
    count: u64,
    min: i64,
    median: i64,
    max: i64,
}

#[derive(Serialize)]
struct TcpStatsJson {
    #[serde(rename = "type")]
    kind: &'static str,
    connections: u64,
    retransmissions: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    handshake_rtt_ns: Option<RttJson>,
}

impl TcpStats {
    fn add(&mut self, c: &crate::event::ConnRecord) {
        self.total += 1;
        self.retransmissions += c.retransmissions();
        if let Some(r) = c.rtt_ns {
            self.rtt.add(r);
        }
        if self.rows.len() < MAX_CONVERSATIONS {
            self.rows.push(c.clone());
        } else {
            self.more += 1;
        }
    }

    fn write_table<W: Write>(&self, w: &mut W) -> io::Result<()> {
        if self.total == 0 {
            return Ok(());
        }
        super::summary::write_conversations(w, &self.rows)?;
        if self.more > 0 {
            writeln!(w, "{}", run::connections_not_listed(self.more))?;
        }
        if self.rtt.count > 0 {
            let line = run::handshake_rtt(
                &human_duration(self.rtt.min),
                &human_duration(percentile(&self.rtt.sorted(), 0.5)),
                &human_duration(self.rtt.max),
                self.rtt.count,
                self.retransmissions,
            );
            writeln!(w, "{line}")?;
        }
        writeln!(w)
    }

    fn write_json<W: Write>(&self, w: &mut W) -> io::Result<()> {
        let line = TcpStatsJson {
            kind: "tcp_stats",
            connections: self.total,
            retransmissions: self.retransmissions,
            handshake_rtt_ns: (self.rtt.count > 0).then(|| RttJson {
                count: self.rtt.count,
                min: self.rtt.min,
                median: percentile(&self.rtt.sorted(), 0.5),
                max: self.rtt.max,
            }),
        };
        serde_json::to_writer(&mut *w, &line)?;
        w.write_all(b"\n")
    }
}

/// A sink that gathers statistics and writes them when the run ends.
pub struct StatsSink<W: Write> {
    out: W,
    json: bool,
    http: HttpStats,
    tcp: TcpStats,
}

impl<W: Write> StatsSink<W> {
    /// `json`: one `{"type":"http_stats",…}` line instead of tables.
    pub fn new(out: W, json: bool) -> Self {
        Self {
            out,
            json,
            http: HttpStats::default(),
            tcp: TcpStats::default(),
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Sink for StatsSink<W> {
    fn wants_http_fields(&self) -> bool {
        false
    }

    fn packet(&mut self, _p: &PacketEvent<'_, '_>, _annotations: &[Annotation]) -> io::Result<()> {
        Ok(())
    }

    fn wants_packets(&self) -> bool {
        false
    }

    fn http(&mut self, x: &Exchange) -> io::Result<()> {
        self.http.add(x);
        Ok(())
    }

    fn connection(&mut self, c: &crate::event::ConnRecord) -> io::Result<()> {
        self.tcp.add(c);
        Ok(())
    }

    fn finish(&mut self, _stats: &RunStats) -> io::Result<()> {
        if self.json {
            self.tcp.write_json(&mut self.out)?;
            self.http.write_json(&mut self.out)?;
        } else {
            self.tcp.write_table(&mut self.out)?;
            self.http.write_table(&mut self.out)?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Message, Request, Response};

    fn x(method: &str, uri: &str, status: Option<u16>, dur_ms: i64) -> Exchange {
        Exchange {
            request: Some(Request {
                method: method.to_string().into(),
                uri: uri.into(),
                host: Some("h:80".into()),
                msg: Message {
                    first_ts_ns: 0,
                    ..Message::default()
                },
            }),
            response: status.map(|s| Response {
                status: s,
                reason: "".into(),
                msg: Message {
                    last_ts_ns: dur_ms * 1_000_000,
                    ..Message::default()
                },
            }),
            ..Exchange::default()
        }
    }

    #[test]
    fn methods_beyond_the_row_limit_are_pooled() {
        let mut st = HttpStats::default();
        for i in 0..3 * MAX_ROWS {
            st.add(&x(&format!("M{i}"), "/", Some(200), 1));
        }
        assert_eq!(st.statuses().count(), MAX_ROWS + 1);
        assert_eq!(
            st.by_status.get("(other)").and_then(|m| m.get(&Some(200))),
            Some(&(2 * MAX_ROWS as u64))
        );
    }

    #[test]
    fn paths_drop_queries_and_schemes() {
        assert_eq!(path_of("/a/b?x=1"), "/a/b");
        assert_eq!(path_of("http://example.com/x?y"), "/x");
        assert_eq!(path_of("http://example.com"), "/");
        assert_eq!(path_of("*"), "*");
        assert_eq!(path_of("example.com:443"), "example.com:443");
        assert_eq!(path_of("HTTPS://example.com/a/b?x"), "/a/b");
        assert_eq!(path_of("svn+ssh://h/p"), "/p");
        // A `://` that is not after a scheme at the start is part of the
        // path or query.
        assert_eq!(path_of("/a?u=http://x/y"), "/a");
        assert_eq!(path_of("/redirect/http://x/y"), "/redirect/http://x/y");
        for (uri, want) in [
            ("http://", Some("")),
            ("a:b://c/d", None),
            ("1http://x", None),
            ("http:/x", None),
            ("::://", None),
            (":", None),
            ("é://ü", None),
        ] {
            assert_eq!(after_scheme(uri), want, "{uri}");
        }
    }

    #[test]
    fn table_counts_and_percentiles() {
        let mut s = HttpStats::default();
        for ms in 1..=20 {
            s.add(&x("GET", &format!("/p?i={ms}"), Some(200), ms));
        }
        s.add(&x("GET", "/missing", Some(404), 3));
        s.add(&x("POST", "/p", None, 0));
        let mut out = Vec::new();
        s.write_table(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "HTTP requests by method and status:\n\
             \x20 method  status  requests\n\
             \x20 GET        200        20\n\
             \x20 GET        404         1\n\
             \x20 POST         -         1\n\
             HTTP latency by host and path (first byte of the request to last byte of the response):\n\
             \x20 host  path      requests        min     median        p95        max\n\
             \x20 h:80  /missing         1     3.0 ms     3.0 ms     3.0 ms     3.0 ms\n\
             \x20 h:80  /p              20     1.0 ms    10.0 ms    19.0 ms    20.0 ms\n"
        );
        let mut j = Vec::new();
        s.write_json(&mut j).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&j).unwrap();
        assert_eq!(v["type"], "http_stats");
        assert_eq!(v["by_method_status"][2]["method"], "POST");
        assert!(v["by_method_status"][2].get("status_code").is_none());
        assert_eq!(v["latency"][1]["p95_ns"], 19_000_000);
    }

    #[test]
    fn handshake_rtt_median_is_the_middle_sample() {
        let mut t = TcpStats::default();
        for us in [40, 10, 1000, 20, 30] {
            t.total += 1;
            t.rtt.add(us * 1000);
        }
        let mut out = Vec::new();
        t.write_table(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("handshake rtt: min 10 µs  median 30 µs  max 1.0 ms  over 5 connections"),
            "{text}"
        );
        let mut j = Vec::new();
        t.write_json(&mut j).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&j).unwrap();
        assert_eq!(v["handshake_rtt_ns"]["median"], 30_000);
    }

    #[test]
    fn bounded_rows_and_samples() {
        let mut s = HttpStats::default();
        for i in 0..(MAX_ROWS + 50) {
            s.add(&x("GET", &format!("/{i}"), Some(200), 1));
        }
        assert_eq!(s.latencies().count(), MAX_ROWS + 1);
        let other = &s.latency["(other)"]["(other)"];
        assert_eq!(other.count, 50);
        let mut one = Samples::default();
        for v in 0..(3 * MAX_SAMPLES as i64) {
            one.add(v);
        }
        assert_eq!(one.kept.len(), MAX_SAMPLES);
        assert_eq!(
            (one.min, one.max, one.count),
            (0, 3 * MAX_SAMPLES as i64 - 1, 30_000)
        );
    }
}
