//! NDJSON output: one object per line, versioned by the `schema` number in
//! the first (`"type":"meta"`) line. Field names follow the Elastic Common
//! Schema where it has the field (`@timestamp`, `source.ip`,
//! `network.transport`, …). Absent layers are omitted, never null.
//! README.md documents every field.

use crate::describe::annotate::Annotation;
use std::io::{self, Write};
use std::net::IpAddr;

use serde::Serialize;

use super::ecs;
use super::json_writer;
use super::time::{rfc3339, Rfc3339};
use super::Sink;
use crate::event::TcpFlags;
use crate::event::{ConnRecord, Direction};
use crate::event::{Exchange, Fields, HttpAnomaly, HttpNote, Message};
use crate::event::{Net, PacketView, Transport};
use crate::event::{Notice, PacketEvent, RunStats};

/// Bump when a field changes meaning or disappears.
pub const SCHEMA: u32 = 1;

#[derive(Serialize)]
struct Meta<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    schema: u32,
    netpeek: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    interface: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    filter: Option<&'a str>,
}

#[derive(Serialize)]
struct Endpoint {
    #[serde(serialize_with = "json_writer::serialize_ip")]
    ip: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
}

#[derive(Serialize)]
struct Network {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    transport: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iana_number: Option<u8>,
    /// ECS: bytes of the frame on the wire.
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<u32>,
}

#[derive(Serialize)]
struct Tcp {
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<u64>,
    flags: FlagNames,
    seq: u32,
    ack: u32,
    seq_raw: u32,
    ack_raw: u32,
    /// Window in bytes (scaled when the scale factor is known).
    window: u32,
    window_raw: u16,
    payload_len: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    analysis: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dup_ack: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dup_ack_of: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    handshake_rtt_ns: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    direction: Option<&'static str>,
}

/// TCP flag names as a JSON array, without collecting them first.
struct FlagNames(TcpFlags);

impl Serialize for FlagNames {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.names())
    }
}

#[derive(Serialize)]
struct Icmp {
    #[serde(rename = "type")]
    kind: u8,
    code: u8,
}

#[derive(Serialize)]
struct Arp {
    operation: u16,
    sender_ip: String,
    target_ip: String,
}

#[derive(Serialize)]
struct Packet<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    frame: u64,
    #[serde(rename = "@timestamp")]
    timestamp: Rfc3339,
    #[serde(skip_serializing_if = "Option::is_none")]
    interface: Option<&'a str>,
    interface_id: u32,
    len: u32,
    caplen: u32,
    /// The snapshot length cut the packet (`caplen < len`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    network: Option<Network>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<Endpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination: Option<Endpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tcp: Option<Tcp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    icmp: Option<Icmp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arp: Option<Arp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    decode_issue: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    record_issue: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'a str>,
    /// HTTP problems noticed at this packet (a head over the limit, broken
    /// framing, a gap). The exchange records carry them too; these also
    /// reach the output when no exchange follows.
    #[serde(skip_serializing_if = "AnomalyTexts::is_empty")]
    http_notes: AnomalyTexts<'a>,
    event: ecs::Event,
    #[serde(skip_serializing_if = "Option::is_none")]
    observer: Option<ecs::Observer<'a>>,
}

#[derive(Serialize)]
struct Handshake {
    #[serde(skip_serializing_if = "Option::is_none")]
    syn_frame: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    synack_frame: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ack_frame: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rtt_ns: Option<i64>,
}

#[derive(Serialize)]
struct PerSide {
    client: u64,
    server: u64,
}

#[derive(Serialize)]
struct Connection<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    stream: u64,
    client: Endpoint,
    server: Endpoint,
    start: String,
    end: String,
    duration_ns: i64,
    first_frame: u64,
    last_frame: u64,
    mid_stream: bool,
    handshake: Handshake,
    close: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    closed_by: Option<&'static str>,
    packets: PerSide,
    bytes: PerSide,
    missing_bytes: PerSide,
    analysis: serde_json::Map<String, serde_json::Value>,
    history: &'a str,
    conn_state: &'static str,
    #[serde(rename = "@timestamp")]
    timestamp: String,
    event: ecs::Event,
    source: ecs::Side,
    destination: ecs::Side,
    network: ecs::Network,
}

#[derive(Serialize)]
struct NoticeLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "@timestamp")]
    timestamp: Option<String>,
    code: &'static str,
    message: &'a str,
    event: ecs::Event,
}

/// A kept body: text as text, anything else summarised.
#[derive(Serialize)]
struct HttpBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    /// Binary content is not shown; its type and size are.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    binary: bool,
    /// The text was gzip/deflate-decoded.
    decoded: bool,
    /// Only the first part is shown (`--body-limit`).
    truncated: bool,
}

/// What requests and responses share.
#[derive(Serialize)]
struct HttpMsg<'a> {
    first_frame: u64,
    last_frame: u64,
    #[serde(rename = "@timestamp")]
    timestamp: Rfc3339,
    /// When the last byte was seen.
    last_timestamp: Rfc3339,
    version: &'a str,
    headers: &'a Fields,
    #[serde(skip_serializing_if = "Fields::is_empty")]
    trailers: &'a Fields,
    body_bytes: u64,
    body_wire_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    body_decoded_bytes: Option<u64>,
    #[serde(skip_serializing_if = "is_zero")]
    body_missing_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_encoding: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transfer_encoding: Option<&'a str>,
    complete: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<HttpBody<'a>>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Serialize)]
struct HttpRequest<'a> {
    method: &'a str,
    uri: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<&'a str>,
    #[serde(flatten)]
    msg: HttpMsg<'a>,
}

#[derive(Serialize)]
struct HttpResponse<'a> {
    status_code: u16,
    reason: &'a str,
    #[serde(flatten)]
    msg: HttpMsg<'a>,
}

#[derive(Serialize)]
struct HttpInterim<'a> {
    status_code: u16,
    reason: &'a str,
    first_frame: u64,
    last_frame: u64,
    #[serde(rename = "@timestamp")]
    timestamp: Rfc3339,
}

#[derive(Serialize)]
struct HttpLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    stream: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    client: Option<Endpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<Endpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<HttpRequest<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response: Option<HttpResponse<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    interim: Vec<HttpInterim<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttfb_ns: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_ns: Option<i64>,
    notes: NoteTexts<'a>,
    #[serde(rename = "@timestamp")]
    timestamp: Rfc3339,
    event: ecs::Event,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<ecs::Side>,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination: Option<ecs::Side>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network: Option<ecs::Network>,
    http: ecs::Http<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<ecs::Url<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<ecs::UserAgent<'a>>,
}

fn http_msg(m: &Message) -> HttpMsg<'_> {
    HttpMsg {
        first_frame: m.first_frame,
        last_frame: m.last_frame,
        timestamp: Rfc3339(m.first_ts_ns),
        last_timestamp: Rfc3339(m.last_ts_ns),
        version: &m.version,
        headers: &m.headers,
        trailers: &m.trailers,
        body_bytes: m.body_bytes,
        body_wire_bytes: m.body_wire_bytes,
        body_decoded_bytes: m.body_decoded_bytes,
        body_missing_bytes: m.body_missing_bytes,
        content_type: m.content_type.as_deref(),
        content_encoding: m.content_encoding.as_deref(),
        transfer_encoding: m.transfer_encoding.as_deref(),
        complete: m.complete,
        body: m.body.as_ref().map(|b| {
            let text = b.as_text();
            HttpBody {
                text,
                binary: text.is_none(),
                decoded: b.decoded,
                truncated: b.truncated,
            }
        }),
    }
}

pub struct JsonSink<W: Write> {
    out: W,
    /// One line is serialized here, then written in one call (serde_json
    /// writes token by token, and a Vec takes those far faster).
    line: Vec<u8>,
    line_buffered: bool,
    totals: Totals,
    urls: ecs::UrlCache,
}

/// What the run saw, for the closing `summary` line.
#[derive(Default)]
struct Totals {
    packets: u64,
    first_ts: Option<i64>,
    last_ts: i64,
    connections: u64,
    by_close: std::collections::BTreeMap<&'static str, u64>,
    analysis: std::collections::BTreeMap<&'static str, u64>,
    http_exchanges: u64,
    http_unanswered: u64,
    notices: u64,
}

#[derive(Serialize)]
struct SummaryLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    frames_read: u64,
    packets: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<String>,
    duration_ns: i64,
    tcp_connections: u64,
    close: &'a std::collections::BTreeMap<&'static str, u64>,
    analysis: &'a std::collections::BTreeMap<&'static str, u64>,
    http_exchanges: u64,
    http_unanswered: u64,
    notices: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    capture: Option<CaptureJson>,
}

#[derive(Serialize)]
struct CaptureJson {
    received: u64,
    dropped: u64,
    if_dropped: u64,
}

/// What the meta line says about the input.
pub struct JsonInput<'a> {
    pub file: Option<&'a str>,
    pub interface: Option<&'a str>,
    pub filter: Option<&'a str>,
}

impl<W: Write> JsonSink<W> {
    pub fn new(mut out: W, input: &JsonInput<'_>, line_buffered: bool) -> io::Result<Self> {
        let meta = Meta {
            kind: "meta",
            schema: SCHEMA,
            netpeek: env!("CARGO_PKG_VERSION"),
            file: input.file,
            interface: input.interface,
            filter: input.filter,
        };
        serde_json::to_writer(&mut out, &meta)?;
        out.write_all(b"\n")?;
        Ok(Self {
            out,
            line: Vec::with_capacity(4096),
            line_buffered,
            totals: Totals::default(),
            urls: ecs::UrlCache::default(),
        })
    }

    fn line<T: Serialize>(&mut self, v: &T) -> io::Result<()> {
        self.line_with(v, |out, v| json_writer::append(out, v))
    }

    /// Writes one line made by `write`, which must write what serde_json
    /// writes for `v` (debug builds check that it does).
    fn line_with<T: Serialize>(
        &mut self,
        v: &T,
        write: impl FnOnce(&mut Vec<u8>, &T) -> Result<(), json_writer::Error>,
    ) -> io::Result<()> {
        self.line.clear();
        write(&mut self.line, v)?;
        debug_assert_eq!(
            String::from_utf8_lossy(&self.line),
            String::from_utf8_lossy(&serde_json::to_vec(v)?),
            "the fast JSON writer must write what serde_json writes"
        );
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        if self.line.capacity() > 1 << 20 {
            // (a line with a large body; do not keep its room)
            self.line = Vec::with_capacity(4096);
        }
        if self.line_buffered {
            self.out.flush()?;
        }
        Ok(())
    }
}

/// The anomalies among a packet's HTTP notes, written as their sentences
/// (no list is built: most packets have none).
struct AnomalyTexts<'a>(&'a [HttpNote]);

impl<'a> AnomalyTexts<'a> {
    fn anomalies(&self) -> impl Iterator<Item = &'a HttpAnomaly> {
        self.0.iter().filter_map(|n| match n {
            HttpNote::Anomaly { anomaly, .. } => Some(anomaly),
            _ => None,
        })
    }

    fn is_empty(&self) -> bool {
        self.anomalies().next().is_none()
    }
}

impl Serialize for AnomalyTexts<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.anomalies().map(ToString::to_string))
    }
}

/// Anomalies as a JSON array of their sentences.
fn write_texts<'a>(o: &mut Vec<u8>, anomalies: impl IntoIterator<Item = &'a HttpAnomaly>) {
    o.push(b'[');
    for (i, a) in anomalies.into_iter().enumerate() {
        if i > 0 {
            o.push(b',');
        }
        json_writer::str(o, &a.to_string());
    }
    o.push(b']');
}

/// An exchange's notes, written as their sentences.
struct NoteTexts<'a>(&'a [HttpAnomaly]);

impl Serialize for NoteTexts<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(ToString::to_string))
    }
}

/// The packet line field by field, without serde's per-token work: it is
/// the line every packet gets. Same text as `Packet`'s derived
/// serialization (debug builds compare the two on every line written).
fn write_packet(o: &mut Vec<u8>, p: &Packet<'_>) -> Result<(), json_writer::Error> {
    use json_writer::{append, int, str};
    o.extend_from_slice(b"{\"type\":");
    str(o, p.kind);
    o.extend_from_slice(b",\"frame\":");
    int(o, p.frame);
    o.extend_from_slice(b",\"@timestamp\":");
    p.timestamp.write_json(o);
    if let Some(i) = p.interface {
        o.extend_from_slice(b",\"interface\":");
        str(o, i);
    }
    o.extend_from_slice(b",\"interface_id\":");
    int(o, p.interface_id);
    o.extend_from_slice(b",\"len\":");
    int(o, p.len);
    o.extend_from_slice(b",\"caplen\":");
    int(o, p.caplen);
    if p.truncated {
        o.extend_from_slice(b",\"truncated\":true");
    }
    if let Some(n) = &p.network {
        o.extend_from_slice(b",\"network\":{\"type\":");
        str(o, n.kind);
        if let Some(t) = n.transport {
            o.extend_from_slice(b",\"transport\":");
            str(o, t);
        }
        if let Some(i) = n.iana_number {
            o.extend_from_slice(b",\"iana_number\":");
            int(o, i);
        }
        if let Some(b) = n.bytes {
            o.extend_from_slice(b",\"bytes\":");
            int(o, b);
        }
        o.push(b'}');
    }
    for (key, e) in [
        (&b",\"source\":"[..], &p.source),
        (b",\"destination\":", &p.destination),
    ] {
        if let Some(e) = e {
            o.extend_from_slice(key);
            write_endpoint(o, e)?;
        }
    }
    if let Some(t) = &p.tcp {
        write_tcp(o, t);
    }
    if let Some(i) = &p.icmp {
        o.extend_from_slice(b",\"icmp\":");
        append(o, i)?;
    }
    if let Some(a) = &p.arp {
        o.extend_from_slice(b",\"arp\":");
        append(o, a)?;
    }
    if let Some(d) = &p.decode_issue {
        o.extend_from_slice(b",\"decode_issue\":");
        str(o, d);
    }
    if let Some(r) = &p.record_issue {
        o.extend_from_slice(b",\"record_issue\":");
        str(o, r);
    }
    if let Some(c) = p.comment {
        o.extend_from_slice(b",\"comment\":");
        str(o, c);
    }
    if !p.http_notes.is_empty() {
        o.extend_from_slice(b",\"http_notes\":");
        write_texts(o, p.http_notes.anomalies());
    }
    o.extend_from_slice(b",\"event\":");
    // (Every packet has the same event object: serialized once.)
    PACKET_EVENT.with(|e| o.extend_from_slice(e));
    if let Some(obs) = &p.observer {
        o.extend_from_slice(b",\"observer\":");
        append(o, obs)?;
    }
    o.push(b'}');
    Ok(())
}

/// The HTTP line field by field (one per exchange; its heads are most of
/// the `--json` output). Same text as `HttpLine`'s derived serialization
/// (debug builds compare the two on every line written).
fn write_http(o: &mut Vec<u8>, l: &HttpLine<'_>) -> Result<(), json_writer::Error> {
    use json_writer::{append, int, str};
    o.extend_from_slice(b"{\"type\":");
    str(o, l.kind);
    o.extend_from_slice(b",\"stream\":");
    int(o, l.stream);
    for (key, e) in [
        (&b",\"client\":"[..], &l.client),
        (b",\"server\":", &l.server),
    ] {
        if let Some(e) = e {
            o.extend_from_slice(key);
            write_endpoint(o, e)?;
        }
    }
    if let Some(r) = &l.request {
        o.extend_from_slice(b",\"request\":{\"method\":");
        str(o, r.method);
        o.extend_from_slice(b",\"uri\":");
        str(o, r.uri);
        if let Some(h) = r.host {
            o.extend_from_slice(b",\"host\":");
            str(o, h);
        }
        write_msg(o, &r.msg)?;
        o.push(b'}');
    }
    if let Some(r) = &l.response {
        o.extend_from_slice(b",\"response\":{\"status_code\":");
        int(o, r.status_code);
        o.extend_from_slice(b",\"reason\":");
        str(o, r.reason);
        write_msg(o, &r.msg)?;
        o.push(b'}');
    }
    if !l.interim.is_empty() {
        o.extend_from_slice(b",\"interim\":");
        append(o, &l.interim)?;
    }
    if let Some(t) = l.ttfb_ns {
        o.extend_from_slice(b",\"ttfb_ns\":");
        int(o, t);
    }
    if let Some(d) = l.duration_ns {
        o.extend_from_slice(b",\"duration_ns\":");
        int(o, d);
    }
    o.extend_from_slice(b",\"notes\":");
    write_texts(o, l.notes.0);
    o.extend_from_slice(b",\"@timestamp\":");
    l.timestamp.write_json(o);
    o.extend_from_slice(b",\"event\":");
    l.event.write_json(o)?;
    if let Some(s) = &l.source {
        o.extend_from_slice(b",\"source\":");
        s.write_json(o)?;
    }
    if let Some(d) = &l.destination {
        o.extend_from_slice(b",\"destination\":");
        d.write_json(o)?;
    }
    if let Some(n) = &l.network {
        o.extend_from_slice(b",\"network\":");
        n.write_json(o);
    }
    o.extend_from_slice(b",\"http\":");
    l.http.write_json(o);
    if let Some(u) = &l.url {
        o.extend_from_slice(b",\"url\":");
        u.write_json(o);
    }
    if let Some(u) = &l.user_agent {
        o.extend_from_slice(b",\"user_agent\":{\"original\":");
        json_writer::str(o, u.original);
        o.push(b'}');
    }
    o.push(b'}');
    Ok(())
}

/// `{"ip":…,"port":…}`.
fn write_endpoint(o: &mut Vec<u8>, e: &Endpoint) -> Result<(), json_writer::Error> {
    o.extend_from_slice(b"{\"ip\":");
    json_writer::ip(o, &e.ip)?;
    if let Some(port) = e.port {
        o.extend_from_slice(b",\"port\":");
        json_writer::int(o, port);
    }
    o.push(b'}');
    Ok(())
}

/// A message's fields inside its request or response object.
fn write_msg(o: &mut Vec<u8>, m: &HttpMsg<'_>) -> Result<(), json_writer::Error> {
    use json_writer::{append, int, str};
    o.extend_from_slice(b",\"first_frame\":");
    int(o, m.first_frame);
    o.extend_from_slice(b",\"last_frame\":");
    int(o, m.last_frame);
    o.extend_from_slice(b",\"@timestamp\":");
    m.timestamp.write_json(o);
    o.extend_from_slice(b",\"last_timestamp\":");
    m.last_timestamp.write_json(o);
    o.extend_from_slice(b",\"version\":");
    str(o, m.version);
    o.extend_from_slice(b",\"headers\":");
    write_fields(o, m.headers);
    if !m.trailers.is_empty() {
        o.extend_from_slice(b",\"trailers\":");
        write_fields(o, m.trailers);
    }
    o.extend_from_slice(b",\"body_bytes\":");
    int(o, m.body_bytes);
    o.extend_from_slice(b",\"body_wire_bytes\":");
    int(o, m.body_wire_bytes);
    if let Some(n) = m.body_decoded_bytes {
        o.extend_from_slice(b",\"body_decoded_bytes\":");
        int(o, n);
    }
    if m.body_missing_bytes != 0 {
        o.extend_from_slice(b",\"body_missing_bytes\":");
        int(o, m.body_missing_bytes);
    }
    for (key, v) in [
        (&b",\"content_type\":"[..], m.content_type),
        (b",\"content_encoding\":", m.content_encoding),
        (b",\"transfer_encoding\":", m.transfer_encoding),
    ] {
        if let Some(v) = v {
            o.extend_from_slice(key);
            str(o, v);
        }
    }
    o.extend_from_slice(if m.complete {
        b",\"complete\":true"
    } else {
        b",\"complete\":false"
    });
    if let Some(b) = &m.body {
        o.extend_from_slice(b",\"body\":");
        append(o, b)?;
    }
    Ok(())
}

/// Header fields as `[["name","value"],…]`.
fn write_fields(o: &mut Vec<u8>, f: &Fields) {
    o.reserve(f.text_len() + 7 * f.len() + 2);
    o.push(b'[');
    for (i, (n, v)) in f.iter_bytes().enumerate() {
        if i > 0 {
            o.push(b',');
        }
        o.extend_from_slice(b"[\"");
        json_writer::escape_into(o, n);
        o.extend_from_slice(b"\",\"");
        json_writer::escape_into(o, v);
        o.extend_from_slice(b"\"]");
    }
    o.push(b']');
}

thread_local! {
    static PACKET_EVENT: Vec<u8> = {
        let mut v = Vec::new();
        let _ = json_writer::append(&mut v, &ecs::Event::packet());
        v
    };
}

fn write_tcp(o: &mut Vec<u8>, t: &Tcp) {
    use json_writer::{int, str};
    o.extend_from_slice(b",\"tcp\":{");
    if let Some(s) = t.stream {
        o.extend_from_slice(b"\"stream\":");
        int(o, s);
        o.push(b',');
    }
    o.extend_from_slice(b"\"flags\":");
    json_writer::str_array(o, t.flags.0.names());
    o.extend_from_slice(b",\"seq\":");
    int(o, t.seq);
    o.extend_from_slice(b",\"ack\":");
    int(o, t.ack);
    o.extend_from_slice(b",\"seq_raw\":");
    int(o, t.seq_raw);
    o.extend_from_slice(b",\"ack_raw\":");
    int(o, t.ack_raw);
    o.extend_from_slice(b",\"window\":");
    int(o, t.window);
    o.extend_from_slice(b",\"window_raw\":");
    int(o, t.window_raw);
    o.extend_from_slice(b",\"payload_len\":");
    int(o, t.payload_len);
    if let Some(r) = t.role {
        o.extend_from_slice(b",\"role\":");
        str(o, r);
    }
    if !t.analysis.is_empty() {
        o.extend_from_slice(b",\"analysis\":");
        json_writer::str_array(o, t.analysis.iter().copied());
    }
    if let Some(n) = t.dup_ack {
        o.extend_from_slice(b",\"dup_ack\":");
        int(o, n);
    }
    if let Some(n) = t.dup_ack_of {
        o.extend_from_slice(b",\"dup_ack_of\":");
        int(o, n);
    }
    if let Some(n) = t.handshake_rtt_ns {
        o.extend_from_slice(b",\"handshake_rtt_ns\":");
        int(o, n);
    }
    if let Some(d) = t.direction {
        o.extend_from_slice(b",\"direction\":");
        str(o, d);
    }
    o.push(b'}');
}

fn network_of(v: &PacketView) -> Option<Network> {
    let (kind, proto) = match v.net {
        Net::Ipv4 { proto, .. } => ("ipv4", Some(proto)),
        Net::Ipv6 { proto, .. } => ("ipv6", Some(proto)),
        Net::Arp { .. } => ("arp", None),
        Net::None | Net::Other { .. } => return None,
    };
    let transport = proto.map(|p| match p {
        6 => "tcp",
        17 => "udp",
        1 => "icmp",
        58 => "ipv6-icmp",
        2 => "igmp",
        47 => "gre",
        50 => "esp",
        132 => "sctp",
        _ => "other",
    });
    Some(Network {
        kind,
        iana_number: proto.filter(|_| transport == Some("other")),
        transport,
        bytes: None,
    })
}

fn endpoints(v: &PacketView) -> (Option<Endpoint>, Option<Endpoint>) {
    let Some((src, dst)) = v.addresses() else {
        return (None, None);
    };
    let ports = v.ports();
    (
        Some(Endpoint {
            ip: src,
            port: ports.map(|p| p.0),
        }),
        Some(Endpoint {
            ip: dst,
            port: ports.map(|p| p.1),
        }),
    )
}

impl<W: Write> Sink for JsonSink<W> {
    fn packet(&mut self, p: &PacketEvent<'_, '_>, _annotations: &[Annotation]) -> io::Result<()> {
        self.totals.packets += 1;
        self.totals.first_ts.get_or_insert(p.frame.ts_ns);
        self.totals.last_ts = p.frame.ts_ns;
        let d = p.view;
        let (source, destination) = endpoints(d);
        let tcp = d.tcp().map(|t| {
            let info = p.tcp;
            Tcp {
                stream: info.map(|i| i.stream),
                flags: FlagNames(t.flags),
                seq: info.map_or(t.seq, |i| i.seq_rel),
                ack: info.map_or(t.ack, |i| i.ack_rel),
                seq_raw: t.seq,
                ack_raw: t.ack,
                window: info.map_or(u32::from(t.window), |i| i.window),
                window_raw: t.window,
                payload_len: t.payload_wire_len,
                role: info.map(|i| i.role.name()),
                analysis: info
                    .map(|i| i.verdict.flags.names().collect())
                    .unwrap_or_default(),
                dup_ack: info
                    .and_then(|i| (i.verdict.dup_ack_num > 0).then_some(i.verdict.dup_ack_num)),
                dup_ack_of: info
                    .and_then(|i| (i.verdict.dup_ack_num > 0).then_some(i.verdict.dup_ack_of)),
                handshake_rtt_ns: info.and_then(|i| i.handshake_rtt_ns),
                direction: info.map(|i| match i.direction {
                    Direction::ToServer => "to_server",
                    Direction::ToClient => "to_client",
                }),
            }
        });
        let icmp = match d.transport {
            Transport::Icmpv4 { kind, code, .. } | Transport::Icmpv6 { kind, code, .. } => {
                Some(Icmp { kind, code })
            }
            _ => None,
        };
        let arp = match d.net {
            Net::Arp {
                operation,
                sender_proto,
                target_proto,
                ..
            } => {
                let ip = |r: crate::event::ByteRange| match <[u8; 4]>::try_from(r.get(p.frame.data))
                {
                    Ok(b) => std::net::Ipv4Addr::from(b).to_string(),
                    Err(_) => String::new(),
                };
                Some(Arp {
                    operation,
                    sender_ip: ip(sender_proto),
                    target_ip: ip(target_proto),
                })
            }
            _ => None,
        };
        let pkt = Packet {
            kind: "packet",
            frame: p.frame.number,
            timestamp: Rfc3339(p.frame.ts_ns),
            interface: p.interface,
            interface_id: p.interface_id,
            len: p.frame.len,
            caplen: p.frame.caplen,
            truncated: p.frame.caplen < p.frame.len,
            network: network_of(d).map(|n| Network {
                bytes: Some(p.frame.len),
                ..n
            }),
            source,
            destination,
            tcp,
            icmp,
            arp,
            decode_issue: d.issue.as_ref().map(|i| i.to_string()),
            record_issue: p.frame.record_issue.map(|i| i.to_string()),
            comment: p.frame.comment,
            http_notes: AnomalyTexts(p.http),
            event: ecs::Event::packet(),
            observer: p.interface.map(ecs::Observer::interface),
        };
        self.line_with(&pkt, write_packet)
    }

    fn connection(&mut self, c: &ConnRecord) -> io::Result<()> {
        self.totals.connections += 1;
        *self.totals.by_close.entry(c.close.name()).or_default() += 1;
        for (name, n) in &c.analysis {
            *self.totals.analysis.entry(name).or_default() += n;
        }
        let mut analysis = serde_json::Map::new();
        for (name, n) in &c.analysis {
            analysis.insert((*name).to_string(), (*n).into());
        }
        let rec = Connection {
            kind: "connection",
            stream: c.stream,
            client: Endpoint {
                ip: c.client.ip,
                port: Some(c.client.port),
            },
            server: Endpoint {
                ip: c.server.ip,
                port: Some(c.server.port),
            },
            start: rfc3339(c.start_ns),
            end: rfc3339(c.end_ns),
            duration_ns: c.end_ns - c.start_ns,
            first_frame: c.first_frame,
            last_frame: c.last_frame,
            mid_stream: c.mid_stream,
            handshake: Handshake {
                syn_frame: c.syn_frame,
                synack_frame: c.synack_frame,
                ack_frame: c.ack_frame,
                rtt_ns: c.rtt_ns,
            },
            close: c.close.name(),
            closed_by: c.closed_by.map(|b| b.name()),
            packets: PerSide {
                client: c.packets[0],
                server: c.packets[1],
            },
            bytes: PerSide {
                client: c.bytes[0],
                server: c.bytes[1],
            },
            missing_bytes: PerSide {
                client: c.missing[0],
                server: c.missing[1],
            },
            analysis,
            history: &c.history,
            conn_state: c.conn_state,
            timestamp: rfc3339(c.start_ns),
            event: ecs::Event::connection(c.start_ns, c.end_ns),
            source: ecs::Side {
                ip: c.client.ip,
                port: c.client.port,
                bytes: Some(c.bytes[0]),
                packets: Some(c.packets[0]),
            },
            destination: ecs::Side {
                ip: c.server.ip,
                port: c.server.port,
                bytes: Some(c.bytes[1]),
                packets: Some(c.packets[1]),
            },
            network: ecs::Network {
                bytes: Some(c.bytes[0].saturating_add(c.bytes[1])),
                packets: Some(c.packets[0].saturating_add(c.packets[1])),
                ..ecs::Network::tcp(c.client.ip)
            },
        };
        self.line(&rec)
    }

    fn http(&mut self, x: &Exchange) -> io::Result<()> {
        self.totals.http_exchanges += 1;
        if x.request.is_some() && x.response.is_none() {
            self.totals.http_unanswered += 1;
        }
        // (The cache is lent to the line, which borrows it while `self`
        // writes.)
        let mut urls = std::mem::take(&mut self.urls);
        let e = ecs::HttpEcs::of(x, &mut urls);
        let line = HttpLine {
            kind: "http",
            stream: x.stream,
            client: x.client.map(|e| Endpoint {
                ip: e.ip,
                port: Some(e.port),
            }),
            server: x.server.map(|e| Endpoint {
                ip: e.ip,
                port: Some(e.port),
            }),
            request: x.request.as_ref().map(|r| HttpRequest {
                method: &r.method,
                uri: &r.uri,
                host: r.host.as_deref(),
                msg: http_msg(&r.msg),
            }),
            response: x.response.as_ref().map(|r| HttpResponse {
                status_code: r.status,
                reason: &r.reason,
                msg: http_msg(&r.msg),
            }),
            interim: x
                .interim
                .iter()
                .map(|i| HttpInterim {
                    status_code: i.status,
                    reason: &i.reason,
                    first_frame: i.first_frame,
                    last_frame: i.last_frame,
                    timestamp: Rfc3339(i.ts_ns),
                })
                .collect(),
            ttfb_ns: x.ttfb_ns(),
            duration_ns: x.duration_ns(),
            notes: NoteTexts(&x.notes),
            timestamp: e.timestamp,
            event: e.event,
            source: e.source,
            destination: e.destination,
            network: e.network,
            http: e.http,
            url: e.url,
            user_agent: e.user_agent,
        };
        let wrote = self.line_with(&line, write_http);
        drop(line);
        self.urls = urls;
        wrote
    }

    fn notice(&mut self, n: &Notice, ts_ns: Option<i64>) -> io::Result<()> {
        self.totals.notices += 1;
        if let Notice::Http(_) = n {
            // The exchange records carry HTTP notes.
            return Ok(());
        }
        let code = n.code();
        let msg = n.to_string();
        self.line(&NoticeLine {
            kind: "notice",
            timestamp: ts_ns.map(rfc3339),
            code,
            message: &msg,
            event: ecs::Event::notice(code),
        })
    }

    fn finish(&mut self, stats: &RunStats) -> io::Result<()> {
        let t = &self.totals;
        let line = SummaryLine {
            kind: "summary",
            frames_read: stats.frames_read,
            packets: t.packets,
            start: t.first_ts.map(rfc3339),
            end: t.first_ts.map(|_| rfc3339(t.last_ts)),
            duration_ns: t.first_ts.map_or(0, |f| t.last_ts - f),
            tcp_connections: t.connections,
            close: &t.by_close,
            analysis: &t.analysis,
            http_exchanges: t.http_exchanges,
            http_unanswered: t.http_unanswered,
            notices: t.notices,
            capture: stats.capture.map(|c| CaptureJson {
                received: c.received,
                dropped: c.dropped,
                if_dropped: c.if_dropped,
            }),
        };
        serde_json::to_writer(&mut self.out, &line)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}
