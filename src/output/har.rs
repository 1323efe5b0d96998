//! `--har FILE`: every HTTP exchange as an HTTP Archive (HAR 1.2), the
//! format browsers' developer tools import and export.
//!
//! Timings come from the capture, in milliseconds:
//!
//! * `connect`: the TCP handshake (SYN → the ACK that completes it) for the
//!   first exchange of a connection whose handshake was captured, else -1;
//! * `send`: first → last byte of the request;
//! * `wait`: last byte of the request → first byte of the response (time
//!   to first byte);
//! * `receive`: first → last byte of the response;
//! * `blocked`, `dns`, `ssl`: -1 (not visible on the wire, or not HTTP).
//!
//! `startedDateTime` is the request's first byte, less the handshake when
//! `connect` counts it, and `time` is the sum of the timings that apply.
//!
//! The file is written as exchanges end (memory stays flat on long
//! captures): the head, one entry per exchange, and the closing brackets
//! at the end. Header values are the exchange records' (secrets redacted
//! unless `--show-secrets`); cookies are listed only with
//! `--show-secrets`. Bodies are included when kept (`--body`): text as
//! text, anything else base64.

use crate::describe::annotate::Annotation;
use std::collections::HashMap;
use std::io::{self, Write};
use std::net::IpAddr;

use base64::Engine as _;
use serde::Serialize;

use super::time::rfc3339;
use super::Sink;
use crate::describe::http::{
    body_bytes_not_captured, body_limit_note, HAR_NO_REQUEST, HAR_NO_RESPONSE,
};
use crate::event::{Body, Exchange, Message};
use crate::event::{ConnRecord, Endpoint};
use crate::event::{PacketEvent, RunStats};

#[derive(Serialize)]
struct NameValue<'a> {
    name: &'a str,
    value: &'a str,
}

#[derive(Serialize)]
struct Query {
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Cookie<'a> {
    name: &'a str,
    value: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secure: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PostData<'a> {
    mime_type: &'a str,
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Request<'a> {
    method: &'a str,
    url: String,
    http_version: &'a str,
    cookies: Vec<Cookie<'a>>,
    headers: Vec<NameValue<'a>>,
    query_string: Vec<Query>,
    #[serde(skip_serializing_if = "Option::is_none")]
    post_data: Option<PostData<'a>>,
    headers_size: i64,
    body_size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Content<'a> {
    size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    compression: Option<i64>,
    mime_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Response<'a> {
    status: u16,
    status_text: &'a str,
    http_version: &'a str,
    cookies: Vec<Cookie<'a>>,
    headers: Vec<NameValue<'a>>,
    content: Content<'a>,
    #[serde(rename = "redirectURL")]
    redirect_url: &'a str,
    headers_size: i64,
    body_size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'static str>,
}

#[derive(Serialize)]
struct Cache {}

#[derive(Serialize)]
struct Timings {
    blocked: f64,
    dns: f64,
    connect: f64,
    send: f64,
    wait: f64,
    receive: f64,
    ssl: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    started_date_time: String,
    time: f64,
    request: Request<'a>,
    response: Response<'a>,
    cache: Cache,
    timings: Timings,
    #[serde(rename = "serverIPAddress", skip_serializing_if = "Option::is_none")]
    server_ip_address: Option<String>,
    /// The TCP stream number, as a string (Chrome puts its connection id
    /// here).
    #[serde(skip_serializing_if = "Option::is_none")]
    connection: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    /// netpeek's own: the frames of the request's first and the response's
    /// last byte.
    #[serde(rename = "_frames")]
    frames: [u64; 2],
}

/// Milliseconds, as HAR wants them.
fn ms(ns: i64) -> f64 {
    ns as f64 / 1e6
}

/// Writes the HAR file as exchanges arrive.
pub struct HarSink<W: Write> {
    out: W,
    show_secrets: bool,
    entries: u64,
    /// Handshake durations of connections whose first exchange has not
    /// been written yet (removed when it is, or when the connection ends).
    handshakes: HashMap<u64, i64>,
}

impl<W: Write> HarSink<W> {
    pub fn new(mut out: W, show_secrets: bool) -> io::Result<Self> {
        write!(
            out,
            "{{\"log\":{{\"version\":\"1.2\",\"creator\":{{\"name\":\"netpeek\",\"version\":\"{}\"}},\"pages\":[],\"entries\":[",
            env!("CARGO_PKG_VERSION")
        )?;
        Ok(Self {
            out,
            show_secrets,
            entries: 0,
            handshakes: HashMap::new(),
        })
    }

    /// Exchanges written so far.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    fn entry<'a>(&self, x: &'a Exchange, connect_ns: Option<i64>) -> Entry<'a> {
        let req = x.request.as_ref();
        let resp = x.response.as_ref();
        let mut notes: Vec<String> = x.notes.iter().map(ToString::to_string).collect();
        let (send, wait, receive, start_ns) = match (req, resp) {
            (Some(q), Some(r)) => (
                span(&q.msg),
                (r.msg.first_ts_ns.saturating_sub(q.msg.last_ts_ns)).max(0),
                span(&r.msg),
                q.msg.first_ts_ns,
            ),
            (Some(q), None) => (span(&q.msg), 0, 0, q.msg.first_ts_ns),
            (None, Some(r)) => (0, 0, span(&r.msg), r.msg.first_ts_ns),
            (None, None) => (0, 0, 0, 0),
        };
        let connect_ns = connect_ns.filter(|_| req.is_some());
        let timings = Timings {
            blocked: -1.0,
            dns: -1.0,
            connect: connect_ns.map_or(-1.0, ms),
            send: ms(send),
            wait: ms(wait),
            receive: ms(receive),
            ssl: -1.0,
        };
        let time = [timings.connect, timings.send, timings.wait, timings.receive]
            .iter()
            .filter(|t| **t >= 0.0)
            .sum();
        let request = self.request(x, req);
        let response = self.response(resp, &mut notes);
        let first_frame = x.first_message().map_or(0, |m| m.first_frame);
        let last_frame = x.last_message().map_or(0, |m| m.last_frame);
        Entry {
            started_date_time: rfc3339(start_ns.saturating_sub(connect_ns.unwrap_or(0))),
            time,
            request,
            response,
            cache: Cache {},
            timings,
            server_ip_address: x.server.map(|s| s.ip.to_string()),
            connection: Some(x.stream.to_string()),
            comment: (!notes.is_empty()).then(|| notes.join("; ")),
            frames: [first_frame, last_frame],
        }
    }

    /// The HAR request of an exchange (an empty one, with a comment, when
    /// the request was not captured).
    fn request<'a>(&self, x: &'a Exchange, req: Option<&'a crate::event::Request>) -> Request<'a> {
        match req {
            Some(q) => {
                let url = request_url(&q.method, &q.uri, q.host.as_deref(), x.server);
                Request {
                    method: &q.method,
                    url,
                    http_version: &q.msg.version,
                    cookies: if self.show_secrets {
                        request_cookies(&q.msg)
                    } else {
                        Vec::new()
                    },
                    headers: name_values(&q.msg.headers),
                    query_string: query_string(&q.uri),
                    post_data: q.msg.body.as_ref().map(|b| {
                        let (text, _) = body_text(b);
                        PostData {
                            mime_type: q.msg.content_type.as_deref().unwrap_or(""),
                            text,
                            comment: b.truncated.then(|| truncated_note(b, q.msg.body_bytes)),
                        }
                    }),
                    headers_size: i64::try_from(q.msg.head_bytes).unwrap_or(i64::MAX),
                    body_size: i64::try_from(q.msg.body_bytes).unwrap_or(i64::MAX),
                    comment: None,
                }
            }
            None => Request {
                method: "",
                url: request_url("", "/", None, x.server),
                http_version: "",
                cookies: Vec::new(),
                headers: Vec::new(),
                query_string: Vec::new(),
                post_data: None,
                headers_size: -1,
                body_size: -1,
                comment: Some(HAR_NO_REQUEST),
            },
        }
    }

    /// The HAR response of an exchange; a note for body bytes the capture
    /// missed goes to `notes`.
    fn response<'a>(
        &self,
        resp: Option<&'a crate::event::Response>,
        notes: &mut Vec<String>,
    ) -> Response<'a> {
        match resp {
            Some(r) => {
                let m = &r.msg;
                let size = m.body_decoded_bytes.unwrap_or(m.body_bytes);
                let compression = m
                    .body_decoded_bytes
                    .and_then(|d| d.checked_sub(m.body_bytes))
                    .filter(|c| *c > 0)
                    .and_then(|c| i64::try_from(c).ok());
                let (text, encoding, comment) = match &m.body {
                    Some(b) => {
                        let (t, enc) = body_text(b);
                        (Some(t), enc, b.truncated.then(|| truncated_note(b, size)))
                    }
                    None => (None, None, None),
                };
                if m.body_missing_bytes > 0 {
                    notes.push(body_bytes_not_captured(m.body_missing_bytes));
                }
                Response {
                    status: r.status,
                    status_text: &r.reason,
                    http_version: &m.version,
                    cookies: if self.show_secrets {
                        response_cookies(m)
                    } else {
                        Vec::new()
                    },
                    headers: name_values(&m.headers),
                    content: Content {
                        size: i64::try_from(size).unwrap_or(i64::MAX),
                        compression,
                        mime_type: m.content_type.as_deref().unwrap_or("x-unknown"),
                        text,
                        encoding,
                        comment,
                    },
                    redirect_url: header(m, "location").unwrap_or(""),
                    headers_size: i64::try_from(m.head_bytes).unwrap_or(i64::MAX),
                    body_size: i64::try_from(m.body_wire_bytes).unwrap_or(i64::MAX),
                    comment: None,
                }
            }
            None => Response {
                status: 0,
                status_text: "",
                http_version: "",
                cookies: Vec::new(),
                headers: Vec::new(),
                content: Content {
                    size: 0,
                    compression: None,
                    mime_type: "x-unknown",
                    text: None,
                    encoding: None,
                    comment: None,
                },
                redirect_url: "",
                headers_size: -1,
                body_size: -1,
                comment: Some(HAR_NO_RESPONSE),
            },
        }
    }
}

fn span(m: &Message) -> i64 {
    m.last_ts_ns.saturating_sub(m.first_ts_ns).max(0)
}

fn name_values(h: &crate::event::Fields) -> Vec<NameValue<'_>> {
    h.iter()
        .map(|(n, v)| NameValue { name: n, value: v })
        .collect()
}

fn header<'a>(m: &'a Message, name: &str) -> Option<&'a str> {
    m.headers.value(name)
}

fn truncated_note(b: &Body, total: u64) -> String {
    body_limit_note(b.bytes.len(), total)
}

/// Text bodies as text; anything else base64.
fn body_text(b: &Body) -> (String, Option<&'static str>) {
    match b.as_text() {
        Some(t) => (t.to_string(), None),
        None => (
            base64::engine::general_purpose::STANDARD.encode(&b.bytes),
            Some("base64"),
        ),
    }
}

fn request_cookies(m: &Message) -> Vec<Cookie<'_>> {
    m.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| v.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            let name = name.trim();
            (!name.is_empty()).then(|| Cookie {
                name,
                value: value.trim(),
                path: None,
                domain: None,
                http_only: None,
                secure: None,
            })
        })
        .collect()
}

fn response_cookies(m: &Message) -> Vec<Cookie<'_>> {
    m.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| {
            let mut parts = v.split(';');
            let (name, value) = parts.next()?.split_once('=')?;
            let mut c = Cookie {
                name: name.trim(),
                value: value.trim(),
                path: None,
                domain: None,
                http_only: None,
                secure: None,
            };
            for attr in parts {
                let (k, val) = attr.split_once('=').unwrap_or((attr, ""));
                let k = k.trim();
                if k.eq_ignore_ascii_case("path") {
                    c.path = Some(val.trim());
                } else if k.eq_ignore_ascii_case("domain") {
                    c.domain = Some(val.trim());
                } else if k.eq_ignore_ascii_case("httponly") {
                    c.http_only = Some(true);
                } else if k.eq_ignore_ascii_case("secure") {
                    c.secure = Some(true);
                }
            }
            (!c.name.is_empty()).then_some(c)
        })
        .collect()
}

/// `name=value` pairs of the request target's query, percent-decoded
/// (`+` is a space, as in forms).
fn query_string(uri: &str) -> Vec<Query> {
    let Some((_, q)) = uri.split_once('?') else {
        return Vec::new();
    };
    let q = q.split('#').next().unwrap_or("");
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            Query {
                name: percent_decode(n),
                value: percent_decode(v),
            }
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = |j: usize| b.get(j).and_then(|h| (*h as char).to_digit(16));
        match c {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => match (hex(i + 1), hex(i + 2)) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Characters allowed as they are in a URI's path and query (RFC 3986
/// unreserved, sub-delims, `:`, `@`, `/`, `?`); `%` only before two hex
/// digits.
fn uri_char_ok(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?".contains(&c)
}

/// Appends the request target made a valid URI path and query: anything
/// else is percent-encoded (spaces, non-ASCII, `#`, a stray `%`…).
fn encode_target_into(s: &mut String, t: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let b = t.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        let pct_ok = c == b'%'
            && b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        if uri_char_ok(c) || pct_ok {
            s.push(c as char);
        } else {
            s.push('%');
            s.push(char::from(HEX[usize::from(c >> 4)]));
            s.push(char::from(HEX[usize::from(c & 15)]));
        }
    }
}

/// A Host header usable as a URI authority: a name or IPv4 address, or a
/// bracketed IPv6 address, with an optional numeric port.
fn valid_authority(h: &str) -> bool {
    let (host, port) = if let Some(rest) = h.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        match after.strip_prefix(':') {
            Some(p) => ("x", p),
            None if after.is_empty() => ("x", ""),
            None => return false,
        }
    } else {
        match h.rsplit_once(':') {
            Some((n, p)) => (n, p),
            None => (h, ""),
        }
    };
    !host.is_empty()
        && host
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-._~".contains(&c))
        && port.bytes().all(|c| c.is_ascii_digit())
}

fn push_endpoint_authority(s: &mut String, e: Endpoint) {
    use std::fmt::Write as _;
    let _ = match e.ip {
        IpAddr::V4(a) => write!(s, "{a}:{}", e.port),
        IpAddr::V6(a) => write!(s, "[{a}]:{}", e.port),
    };
}

/// The absolute URL of a request: absolute-form targets as they are,
/// origin-form ones joined to the Host header (or, without a usable one,
/// the server's address). Always a valid URI.
pub fn request_url(
    method: &str,
    target: &str,
    host: Option<&str>,
    server: Option<Endpoint>,
) -> String {
    let mut url = String::with_capacity(24 + target.len() + host.map_or(0, str::len));
    // An absolute-form target: a scheme, then at least one more byte.
    let scheme = ["http://", "https://"].into_iter().find(|p| {
        target.len() > 7
            && target
                .get(..p.len())
                .is_some_and(|t| t.eq_ignore_ascii_case(p))
    });
    if let Some(scheme) = scheme {
        let rest = target.get(scheme.len()..).unwrap_or("");
        let (auth, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if valid_authority(auth) {
            url.push_str(scheme);
            url.push_str(auth);
            encode_target_into(&mut url, if path.is_empty() { "/" } else { path });
            return url;
        }
    }
    url.push_str("http://");
    match (host.map(str::trim), server) {
        (Some(h), _) if valid_authority(h) => url.push_str(h),
        (_, Some(e)) => push_endpoint_authority(&mut url, e),
        (_, None) => url.push_str("unknown"),
    }
    if method.eq_ignore_ascii_case("CONNECT") {
        url.push('/');
        return url;
    }
    if !target.starts_with('/') {
        url.push('/');
    }
    encode_target_into(&mut url, target);
    url
}

impl<W: Write> Sink for HarSink<W> {
    fn packet(&mut self, p: &PacketEvent<'_, '_>, _annotations: &[Annotation]) -> io::Result<()> {
        if let Some(rtt) = p
            .tcp
            .and_then(|t| t.handshake_rtt_ns.map(|r| (t.stream, r)))
        {
            self.handshakes.insert(rtt.0, rtt.1.max(0));
        }
        Ok(())
    }

    fn connection(&mut self, c: &ConnRecord) -> io::Result<()> {
        self.handshakes.remove(&c.stream);
        Ok(())
    }

    fn http(&mut self, x: &Exchange) -> io::Result<()> {
        let connect = if x.request.is_some() {
            self.handshakes.remove(&x.stream)
        } else {
            None
        };
        let e = self.entry(x, connect);
        self.out
            .write_all(if self.entries == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut self.out, &e)?;
        self.entries += 1;
        Ok(())
    }

    fn finish(&mut self, _stats: &RunStats) -> io::Result<()> {
        self.out.write_all(b"\n]}}\n")?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(ip: &str, port: u16) -> Option<Endpoint> {
        Some(Endpoint {
            ip: ip.parse().unwrap(),
            port,
        })
    }

    #[test]
    fn urls_are_absolute_and_valid() {
        let s = ep("10.0.0.2", 8080);
        assert_eq!(
            request_url("GET", "/a b?q=é#x", Some("example.com"), s),
            "http://example.com/a%20b?q=%C3%A9%23x"
        );
        assert_eq!(
            request_url("GET", "/x%41%zz", Some("example.com:81"), s),
            "http://example.com:81/x%41%25zz"
        );
        // An unusable Host falls back to the server's address.
        assert_eq!(
            request_url("GET", "/", Some("bad host"), s),
            "http://10.0.0.2:8080/"
        );
        assert_eq!(
            request_url("GET", "/", None, ep("::1", 80)),
            "http://[::1]:80/"
        );
        assert_eq!(
            request_url("GET", "/", Some("[::1]:8000"), s),
            "http://[::1]:8000/"
        );
        assert_eq!(
            request_url("GET", "HTTP://Proxy.example/p?x", Some("h"), s),
            "http://Proxy.example/p?x"
        );
        assert_eq!(
            request_url("CONNECT", "example.com:443", Some("example.com:443"), s),
            "http://example.com:443/"
        );
        assert_eq!(request_url("OPTIONS", "*", Some("h"), s), "http://h/*");
    }

    #[test]
    fn query_strings_are_decoded() {
        let q = query_string("/s?q=a+b%21&empty&x=%zz");
        let got: Vec<(&str, &str)> = q
            .iter()
            .map(|q| (q.name.as_str(), q.value.as_str()))
            .collect();
        assert_eq!(got, [("q", "a b!"), ("empty", ""), ("x", "%zz")]);
        assert!(query_string("/plain").is_empty());
    }
}
