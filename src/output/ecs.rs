//! The Elastic Common Schema side of the JSON output: the `event`, `http`,
//! `url` and `user_agent` objects and the ECS names of endpoints and sizes
//! that `--json` records carry beside netpeek's own fields, so that the
//! lines can be indexed by Elasticsearch as they are (README: "Kibana and
//! Elasticsearch"). Only fields that ECS defines are named here; values
//! follow ECS's allowed values (`event.kind`, `event.category`,
//! `event.type`) and units (`event.duration` in nanoseconds).

use serde::Serialize;

use super::har::request_url;
use super::json_writer;
use super::time::Rfc3339;
use crate::event::{Exchange, Message};

/// ECS `event.*`.
#[derive(Serialize)]
pub struct Event {
    pub kind: &'static str,
    pub category: &'static [&'static str],
    #[serde(rename = "type")]
    pub kind_of: &'static [&'static str],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<&'static str>,
    pub dataset: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<Rfc3339>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<Rfc3339>,
    /// Nanoseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
}

impl Event {
    /// The object as `--json` writes it, field by field (the same text as
    /// its serde serialization, which debug builds check on every line).
    pub fn write_json(&self, o: &mut Vec<u8>) -> Result<(), json_writer::Error> {
        o.extend_from_slice(b"{\"kind\":");
        json_writer::str(o, self.kind);
        o.extend_from_slice(b",\"category\":");
        json_writer::str_array(o, self.category.iter().copied());
        o.extend_from_slice(b",\"type\":");
        json_writer::str_array(o, self.kind_of.iter().copied());
        if let Some(a) = self.action {
            o.extend_from_slice(b",\"action\":");
            json_writer::str(o, a);
        }
        o.extend_from_slice(b",\"dataset\":");
        json_writer::str(o, self.dataset);
        if let Some(t) = &self.start {
            o.extend_from_slice(b",\"start\":");
            t.write_json(o);
        }
        if let Some(t) = &self.end {
            o.extend_from_slice(b",\"end\":");
            t.write_json(o);
        }
        if let Some(d) = self.duration {
            o.extend_from_slice(b",\"duration\":");
            json_writer::int(o, d);
        }
        o.push(b'}');
        Ok(())
    }

    pub fn packet() -> Self {
        Self::plain(&["network"], &["info"], "netpeek.packet")
    }

    pub fn notice(code: &'static str) -> Self {
        Self {
            action: Some(code),
            ..Self::plain(&["network"], &["info"], "netpeek.notice")
        }
    }

    pub fn connection(start_ns: i64, end_ns: i64) -> Self {
        Self {
            start: Some(Rfc3339(start_ns)),
            end: Some(Rfc3339(end_ns)),
            duration: Some(end_ns.saturating_sub(start_ns)),
            ..Self::plain(&["network"], &["connection", "end"], "netpeek.connection")
        }
    }

    fn plain(
        category: &'static [&'static str],
        kind_of: &'static [&'static str],
        dataset: &'static str,
    ) -> Self {
        Self {
            kind: "event",
            category,
            kind_of,
            action: None,
            dataset,
            start: None,
            end: None,
            duration: None,
        }
    }
}

/// ECS `source.*` / `destination.*` with the per-side counters of a
/// connection.
#[derive(Serialize)]
pub struct Side {
    #[serde(serialize_with = "super::json_writer::serialize_ip")]
    pub ip: std::net::IpAddr,
    pub port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packets: Option<u64>,
}

/// The counts that close a side or a network object when known, and the
/// closing brace.
fn write_counts(o: &mut Vec<u8>, bytes: Option<u64>, packets: Option<u64>) {
    if let Some(b) = bytes {
        o.extend_from_slice(b",\"bytes\":");
        json_writer::int(o, b);
    }
    if let Some(p) = packets {
        o.extend_from_slice(b",\"packets\":");
        json_writer::int(o, p);
    }
    o.push(b'}');
}

impl Side {
    /// The object as `--json` writes it (see [`Event::write_json`]).
    pub fn write_json(&self, o: &mut Vec<u8>) -> Result<(), json_writer::Error> {
        o.extend_from_slice(b"{\"ip\":");
        json_writer::ip(o, &self.ip)?;
        o.extend_from_slice(b",\"port\":");
        json_writer::int(o, self.port);
        write_counts(o, self.bytes, self.packets);
        Ok(())
    }
}

/// ECS `network.*` of a connection or an exchange.
#[derive(Serialize)]
pub struct Network {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub transport: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packets: Option<u64>,
}

impl Network {
    /// The object as `--json` writes it (see [`Event::write_json`]).
    pub fn write_json(&self, o: &mut Vec<u8>) {
        o.extend_from_slice(b"{\"type\":");
        json_writer::str(o, self.kind);
        o.extend_from_slice(b",\"transport\":");
        json_writer::str(o, self.transport);
        if let Some(p) = self.protocol {
            o.extend_from_slice(b",\"protocol\":");
            json_writer::str(o, p);
        }
        write_counts(o, self.bytes, self.packets);
    }

    pub fn tcp(ip: std::net::IpAddr) -> Self {
        Self {
            kind: if ip.is_ipv4() { "ipv4" } else { "ipv6" },
            transport: "tcp",
            protocol: None,
            bytes: None,
            packets: None,
        }
    }
}

/// ECS `observer.ingress.interface.name`.
#[derive(Serialize)]
pub struct Observer<'a> {
    pub ingress: Ingress<'a>,
}

#[derive(Serialize)]
pub struct Ingress<'a> {
    pub interface: InterfaceName<'a>,
}

#[derive(Serialize)]
pub struct InterfaceName<'a> {
    pub name: &'a str,
}

impl<'a> Observer<'a> {
    pub fn interface(name: &'a str) -> Self {
        Self {
            ingress: Ingress {
                interface: InterfaceName { name },
            },
        }
    }
}

#[derive(Serialize)]
pub struct BodyBytes {
    pub bytes: u64,
}

/// `http.request.*` / `http.response.*` as ECS names them.
#[derive(Serialize)]
pub struct HttpMessage<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<std::borrow::Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referrer: Option<&'a str>,
    /// Head and body as they were on the wire.
    pub bytes: u64,
    pub body: BodyBytes,
}

impl HttpMessage<'_> {
    /// The object as `--json` writes it (see [`Event::write_json`]).
    pub fn write_json(&self, o: &mut Vec<u8>) {
        o.push(b'{');
        if let Some(m) = self.method {
            o.extend_from_slice(b"\"method\":");
            json_writer::str(o, m);
            o.push(b',');
        }
        if let Some(c) = self.status_code {
            o.extend_from_slice(b"\"status_code\":");
            json_writer::int(o, c);
            o.push(b',');
        }
        if let Some(m) = &self.mime_type {
            o.extend_from_slice(b"\"mime_type\":");
            json_writer::str(o, m);
            o.push(b',');
        }
        if let Some(r) = self.referrer {
            o.extend_from_slice(b"\"referrer\":");
            json_writer::str(o, r);
            o.push(b',');
        }
        o.extend_from_slice(b"\"bytes\":");
        json_writer::int(o, self.bytes);
        o.extend_from_slice(b",\"body\":{\"bytes\":");
        json_writer::int(o, self.body.bytes);
        o.extend_from_slice(b"}}");
    }
}

/// ECS `http.*`.
#[derive(Serialize)]
pub struct Http<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<HttpMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<HttpMessage<'a>>,
}

impl Http<'_> {
    /// The object as `--json` writes it (see [`Event::write_json`]).
    pub fn write_json(&self, o: &mut Vec<u8>) {
        o.push(b'{');
        let mut first = true;
        let mut key = |o: &mut Vec<u8>, k: &[u8]| {
            if !std::mem::take(&mut first) {
                o.push(b',');
            }
            o.extend_from_slice(k);
        };
        if let Some(v) = self.version {
            key(o, b"\"version\":");
            json_writer::str(o, v);
        }
        if let Some(m) = &self.request {
            key(o, b"\"request\":");
            m.write_json(o);
        }
        if let Some(m) = &self.response {
            key(o, b"\"response\":");
            m.write_json(o);
        }
        o.push(b'}');
    }
}

/// ECS `url.*`: the absolute URL and its parts (borrowed from a
/// [`UrlCache`], which also holds the object's text).
pub struct Url<'a> {
    pub original: &'a str,
    pub full: &'a str,
    pub scheme: &'static str,
    /// The object as `--json` writes it.
    text: &'a [u8],
}

/// The `url` object of the last request, made again only when what it is
/// made from changes: a connection's requests, and a client's, mostly
/// repeat their target and Host (an absolute URL is built and then split
/// into ECS's parts, the dearest part of an HTTP line to write).
#[derive(Default)]
pub struct UrlCache {
    made: bool,
    connect: bool,
    target: String,
    host: Option<String>,
    server: Option<crate::event::Endpoint>,
    full: String,
    text: Vec<u8>,
}

impl UrlCache {
    /// The URL of a request (what [`request_url`] makes, which depends on
    /// the method only through whether it is CONNECT).
    pub fn url<'a>(
        &'a mut self,
        method: &str,
        target: &'a str,
        host: Option<&str>,
        server: Option<crate::event::Endpoint>,
    ) -> Url<'a> {
        let connect = method.eq_ignore_ascii_case("CONNECT");
        let same = self.made
            && self.connect == connect
            && self.target == target
            && self.host.as_deref() == host
            && self.server == server;
        if !same {
            self.full = request_url(method, target, host, server);
            self.text.clear();
            write_url(&mut self.text, target, &self.full, "http");
            self.made = true;
            self.connect = connect;
            target.clone_into(&mut self.target);
            self.host = host.map(str::to_string);
            self.server = server;
        }
        Url {
            original: target,
            full: &self.full,
            scheme: "http",
            text: &self.text,
        }
    }
}

impl Serialize for Url<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let (domain, port, path, query) = url_parts(self.full);
        let mut st = s.serialize_struct("Url", 7)?;
        st.serialize_field("original", self.original)?;
        st.serialize_field("full", self.full)?;
        st.serialize_field("scheme", self.scheme)?;
        st.serialize_field("domain", domain)?;
        if let Some(p) = port {
            st.serialize_field("port", &p)?;
        }
        st.serialize_field("path", path)?;
        if let Some(q) = query {
            st.serialize_field("query", q)?;
        }
        st.end()
    }
}

impl Url<'_> {
    /// The object as `--json` writes it (see [`Event::write_json`]).
    pub fn write_json(&self, o: &mut Vec<u8>) {
        o.extend_from_slice(self.text);
    }
}

/// The `url` object of `original`, whose absolute form is `full`.
fn write_url(o: &mut Vec<u8>, original: &str, full: &str, scheme: &str) {
    let (domain, port, path, query) = url_parts(full);
    o.extend_from_slice(b"{\"original\":");
    json_writer::str(o, original);
    o.extend_from_slice(b",\"full\":");
    json_writer::str(o, full);
    o.extend_from_slice(b",\"scheme\":");
    json_writer::str(o, scheme);
    o.extend_from_slice(b",\"domain\":");
    json_writer::str(o, domain);
    if let Some(p) = port {
        o.extend_from_slice(b",\"port\":");
        json_writer::int(o, p);
    }
    o.extend_from_slice(b",\"path\":");
    json_writer::str(o, path);
    if let Some(q) = query {
        o.extend_from_slice(b",\"query\":");
        json_writer::str(o, q);
    }
    o.push(b'}');
}

/// ECS `user_agent.original`.
#[derive(Serialize)]
pub struct UserAgent<'a> {
    pub original: &'a str,
}

/// Everything ECS says about one exchange.
pub struct HttpEcs<'a> {
    pub timestamp: Rfc3339,
    pub event: Event,
    pub source: Option<Side>,
    pub destination: Option<Side>,
    pub network: Option<Network>,
    pub http: Http<'a>,
    pub url: Option<Url<'a>>,
    pub user_agent: Option<UserAgent<'a>>,
}

fn header<'a>(m: &'a Message, name: &str) -> Option<&'a str> {
    m.headers.value(name)
}

/// `text/html; charset=utf-8` → `text/html`.
fn mime(m: &Message) -> Option<std::borrow::Cow<'_, str>> {
    let ct = m.content_type.as_deref()?;
    let t = ct.split(';').next().unwrap_or(ct).trim();
    if t.is_empty() {
        None
    } else if t.bytes().any(|b| b.is_ascii_uppercase()) {
        Some(t.to_ascii_lowercase().into())
    } else {
        Some(t.into())
    }
}

fn message<'a>(m: &'a Message) -> HttpMessage<'a> {
    HttpMessage {
        method: None,
        status_code: None,
        mime_type: mime(m),
        referrer: None,
        bytes: m.head_bytes.saturating_add(m.body_wire_bytes),
        body: BodyBytes {
            bytes: m.body_bytes,
        },
    }
}

/// Splits the absolute URL `request_url` made (always
/// `http[s]://authority/path[?query]`) into ECS's parts: domain, port,
/// path (`/` when empty) and query.
fn url_parts(full: &str) -> (&str, Option<u16>, &str, Option<&str>) {
    let rest = full
        .strip_prefix("http://")
        .or_else(|| full.strip_prefix("https://"))
        .unwrap_or(full);
    let (authority, path_query) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (domain, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (addr, after) = v6.split_once(']').unwrap_or((v6, ""));
            (addr, after.strip_prefix(':').and_then(|p| p.parse().ok()))
        }
        None => match authority.rsplit_once(':') {
            Some((d, p)) => (d, p.parse().ok()),
            None => (authority, None),
        },
    };
    let (path, query) = match path_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_query, None),
    };
    let path = if path.is_empty() { "/" } else { path };
    (domain, port, path, query)
}

impl<'a> HttpEcs<'a> {
    pub fn of(x: &'a Exchange, urls: &'a mut UrlCache) -> Self {
        let req = x.request.as_ref();
        let resp = x.response.as_ref();
        let start = x.first_message().map_or(0, |m| m.first_ts_ns);
        let end = x.last_message().map_or(start, |m| m.last_ts_ns);
        let event = Event {
            start: Some(Rfc3339(start)),
            end: Some(Rfc3339(end)),
            duration: x.duration_ns(),
            ..Event::plain(&["network", "web"], &["access", "protocol"], "netpeek.http")
        };
        let side = |e: Option<crate::event::Endpoint>| {
            e.map(|e| Side {
                ip: e.ip,
                port: e.port,
                bytes: None,
                packets: None,
            })
        };
        let version = x
            .first_message()
            .map(|m| &*m.version)
            .map(|v| v.strip_prefix("HTTP/").unwrap_or(v))
            .filter(|v| !v.is_empty());
        let http = Http {
            version,
            request: req.map(|r| HttpMessage {
                method: Some(&r.method),
                referrer: header(&r.msg, "referer"),
                ..message(&r.msg)
            }),
            response: resp.map(|r| HttpMessage {
                status_code: Some(r.status),
                ..message(&r.msg)
            }),
        };
        let url = req.map(|r| urls.url(&r.method, &r.uri, r.host.as_deref(), x.server));
        Self {
            timestamp: Rfc3339(start),
            event,
            source: side(x.client),
            destination: side(x.server),
            network: x.server.map(|s| Network {
                protocol: Some("http"),
                ..Network::tcp(s.ip)
            }),
            http,
            url,
            user_agent: req
                .and_then(|r| header(&r.msg, "user-agent"))
                .map(|original| UserAgent { original }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A URL made again from the cache equals one made afresh, whatever
    /// part of what it is made from changes between requests.
    #[test]
    fn cached_urls_equal_fresh_ones() {
        use crate::event::Endpoint;
        let server = |port| {
            Some(Endpoint {
                ip: std::net::IpAddr::from([10, 0, 0, 2]),
                port,
            })
        };
        let requests = [
            ("GET", "/", Some("example.com"), server(80)),
            ("GET", "/", Some("example.com"), server(80)),
            ("HEAD", "/", Some("example.com"), server(80)),
            ("GET", "/a?b=1", Some("example.com"), server(80)),
            ("GET", "/a?b=1", Some("example.org:8080"), server(80)),
            ("GET", "/a?b=1", None, server(80)),
            ("GET", "/a?b=1", None, server(81)),
            ("GET", "/a?b=1", Some("bad host"), server(81)),
            ("GET", "/a?b=1", Some("bad host"), server(82)),
            ("CONNECT", "e.com:443", Some("e.com:443"), server(80)),
            ("connect", "e.com:443", Some("e.com:443"), server(80)),
            ("GET", "e.com:443", Some("e.com:443"), server(80)),
            ("GET", "http://proxy.example/p", Some("h"), None),
            ("GET", "/\u{e9}\"", Some("h"), None),
        ];
        let mut cache = UrlCache::default();
        let mut remade = 0;
        for (method, target, host, server) in requests {
            let before = cache.full.as_ptr();
            let url = cache.url(method, target, host, server);
            let (full, text) = (url.full.to_string(), url.text.to_vec());
            remade += usize::from(cache.full.as_ptr() != before);
            let mut fresh = UrlCache::default();
            let want = fresh.url(method, target, host, server);
            assert_eq!(full, request_url(method, target, host, server));
            assert_eq!(full, want.full, "{method} {target} {host:?} {server:?}");
            assert_eq!(text, want.text, "{method} {target} {host:?} {server:?}");
            let mut serde = Vec::new();
            json_writer::append(&mut serde, &want).unwrap();
            assert_eq!(
                String::from_utf8(text).unwrap(),
                String::from_utf8(serde).unwrap()
            );
        }
        // Made once per change: all but the repeated GET /, the HEAD (the
        // method counts only as CONNECT or not) and the CONNECT in another
        // case.
        assert_eq!(remade, requests.len() - 3);
    }

    #[test]
    fn url_parts_follow_ecs() {
        assert_eq!(
            url_parts("http://example.com:8080/a/b?q=1&r"),
            ("example.com", Some(8080), "/a/b", Some("q=1&r"))
        );
        assert_eq!(url_parts("http://[::1]:80/"), ("::1", Some(80), "/", None));
        assert_eq!(url_parts("http://h"), ("h", None, "/", None));
    }

    #[test]
    fn mime_type_is_the_lowercased_media_type() {
        let m = |ct: Option<&str>| Message {
            content_type: ct.map(Into::into),
            ..Message::default()
        };
        for (ct, want) in [
            (Some("Text/HTML; charset=UTF-8"), Some("text/html")),
            (Some("application/json"), Some("application/json")),
            (Some(" image/png ;q=1"), Some("image/png")),
            (Some(";charset=utf-8"), None),
            (None, None),
        ] {
            assert_eq!(mime(&m(ct)).as_deref(), want, "{ct:?}");
        }
    }
}
