//! The HTTP vocabulary: the record of one exchange (a request and its
//! response) and the short per-packet notes the dissector attaches to the
//! frame that completed a message. Words for them are in `describe::http`.
//!
//! Secrets are already redacted in these records unless `--show-secrets`
//! was given, so no output can leak them by accident.

use std::borrow::Cow;
use std::sync::Arc;

use super::anomaly::HttpAnomaly;
use super::flow::Endpoint;

/// Text that is usually one of a few known words (a version, a method, a
/// reason phrase): borrowed from a static table then, so the common case
/// costs no allocation.
pub type Text = Cow<'static, str>;

/// Text that an exchange record and a timeline note both hold (the URI,
/// the host, the content type): a clone shares it instead of copying.
pub type Shared = Arc<str>;

/// Header (or trailer) fields in order, kept in one string: a head costs
/// two allocations however many fields it has, not two per field.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Fields {
    text: String,
    /// Per field: where its name ends and where its value ends in `text`
    /// (a name starts where the previous value ended).
    ends: Vec<(u32, u32)>,
}

impl Fields {
    pub fn new() -> Self {
        Self::default()
    }

    /// Room for `fields` fields of `bytes` bytes in all.
    pub fn with_capacity(fields: usize, bytes: usize) -> Self {
        Self {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(fields),
        }
    }

    pub fn push(&mut self, name: &str, value: &str) {
        // (Heads are bounded far below 4 GiB; a longer field is cut.)
        let room = (u32::MAX as usize).saturating_sub(self.text.len());
        let name = cut(name, room);
        let value = cut(value, room - name.len());
        self.text.reserve(name.len() + value.len());
        self.text.push_str(name);
        let name_end = self.text.len() as u32;
        self.text.push_str(value);
        self.ends.push((name_end, self.text.len() as u32));
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The `i`-th field as (name, value).
    pub fn get(&self, i: usize) -> Option<(&str, &str)> {
        let start = match i {
            0 => 0,
            _ => self.ends.get(i - 1)?.1 as usize,
        };
        let (n, v) = *self.ends.get(i)?;
        Some((
            self.text.get(start..n as usize)?,
            self.text.get(n as usize..v as usize)?,
        ))
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + Clone + '_ {
        (0..self.ends.len()).map(|i| self.get(i).unwrap_or_default())
    }

    /// The first value of a field (case-insensitive name).
    pub fn value(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Bytes the names and values take.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// The fields as (name, value) bytes: [`Fields::iter`] without the
    /// character-boundary checks of string slicing (the bounds are the
    /// ones `push` recorded), for writers that copy bytes.
    pub fn iter_bytes(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        let text = self.text.as_bytes();
        let mut start = 0;
        self.ends.iter().map(move |&(n, v)| {
            let (n, v) = (n as usize, v as usize);
            let name = text.get(start..n).unwrap_or_default();
            let value = text.get(n..v).unwrap_or_default();
            start = v;
            (name, value)
        })
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a
/// character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

impl<N: AsRef<str>, V: AsRef<str>> PartialEq<Vec<(N, V)>> for Fields {
    fn eq(&self, other: &Vec<(N, V)>) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other)
                .all(|((n, v), (on, ov))| n == on.as_ref() && v == ov.as_ref())
    }
}

impl std::fmt::Debug for Fields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<N: AsRef<str>, V: AsRef<str>> FromIterator<(N, V)> for Fields {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(it: I) -> Self {
        let mut f = Fields::new();
        for (n, v) in it {
            f.push(n.as_ref(), v.as_ref());
        }
        f
    }
}

/// As a JSON array of `[name, value]` pairs.
impl serde::Serialize for Fields {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// Where and when a message was seen, and what its body held.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// Frame that delivered the first byte of the message.
    pub first_frame: u64,
    /// Frame that delivered the last byte (the end of the body).
    pub last_frame: u64,
    pub first_ts_ns: i64,
    pub last_ts_ns: i64,
    /// `HTTP/1.1`, or what the message said when it was malformed.
    pub version: Text,
    /// Header fields in order (secrets redacted).
    pub headers: Fields,
    /// Trailer fields of a chunked body (secrets redacted).
    pub trailers: Fields,
    pub content_type: Option<Shared>,
    pub content_encoding: Option<String>,
    pub transfer_encoding: Option<String>,
    /// Head bytes (start line through the blank line).
    pub head_bytes: u64,
    /// Body size as framed: Content-Length bytes, or de-chunked payload,
    /// including bytes lost in capture gaps.
    pub body_bytes: u64,
    /// Bytes the body took on the wire (chunk framing and trailers
    /// included).
    pub body_wire_bytes: u64,
    /// Size after undoing gzip/deflate content coding, when that worked.
    pub body_decoded_bytes: Option<u64>,
    /// Body bytes never captured (gaps).
    pub body_missing_bytes: u64,
    /// The body was kept for display (`--body`).
    pub body: Option<Body>,
    /// The whole message was seen (the body ended as framed).
    pub complete: bool,
}

/// A body kept for display.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Body {
    /// Up to the display limit: decoded when `decoded`, else as received
    /// (de-chunked).
    pub bytes: Vec<u8>,
    pub decoded: bool,
    /// The body is longer than `bytes`.
    pub truncated: bool,
}

impl Body {
    /// The body as text, when it is text: valid UTF-8 (a character cut by
    /// the display limit is dropped) without control characters other
    /// than tab, CR, LF and form feed. `None` for binary content.
    pub fn as_text(&self) -> Option<&str> {
        let s = match std::str::from_utf8(&self.bytes) {
            Ok(s) => s,
            Err(e) if self.truncated && e.error_len().is_none() => {
                std::str::from_utf8(self.bytes.get(..e.valid_up_to())?).ok()?
            }
            Err(_) => return None,
        };
        let binary = s
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n' | '\x0c'));
        (!binary).then_some(s)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    pub method: Text,
    pub uri: Shared,
    pub host: Option<Shared>,
    pub msg: Message,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: Text,
    pub msg: Message,
}

/// An interim (1xx) response before the final one, e.g. `100 Continue`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Interim {
    pub status: u16,
    pub reason: Text,
    pub first_frame: u64,
    pub last_frame: u64,
    pub ts_ns: i64,
}

/// One request and its response, as far as they were seen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exchange {
    /// The TCP stream (tshark's `tcp.stream`).
    pub stream: u64,
    pub client: Option<Endpoint>,
    pub server: Option<Endpoint>,
    /// Absent when only a response was seen (capture started late, or the
    /// request was not HTTP).
    pub request: Option<Request>,
    /// Absent for a request without response.
    pub response: Option<Response>,
    pub interim: Vec<Interim>,
    /// What went wrong or is worth knowing, in order.
    pub notes: Vec<HttpAnomaly>,
}

impl Exchange {
    /// Time to first byte: last byte of the request → first byte of the
    /// (final) response.
    pub fn ttfb_ns(&self) -> Option<i64> {
        let req = self.request.as_ref()?;
        let resp = self.response.as_ref()?;
        Some(resp.msg.first_ts_ns.saturating_sub(req.msg.last_ts_ns))
    }

    /// Duration: first byte of the request → last byte of the response.
    pub fn duration_ns(&self) -> Option<i64> {
        let req = self.request.as_ref()?;
        let resp = self.response.as_ref()?;
        Some(resp.msg.last_ts_ns.saturating_sub(req.msg.first_ts_ns))
    }

    /// The message the exchange starts with: the request, or the response
    /// when no request was seen.
    pub fn first_message(&self) -> Option<&Message> {
        self.request
            .as_ref()
            .map(|r| &r.msg)
            .or(self.response.as_ref().map(|r| &r.msg))
    }

    /// The message the exchange ends with: the response, or the request
    /// when no response was seen.
    pub fn last_message(&self) -> Option<&Message> {
        self.response
            .as_ref()
            .map(|r| &r.msg)
            .or(self.request.as_ref().map(|r| &r.msg))
    }
}

/// A short note for the timeline, attached to the frame being shown when
/// it became known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpNote {
    /// A request head was complete.
    Request {
        stream: u64,
        method: Text,
        uri: Shared,
        version: Text,
        host: Option<Shared>,
    },
    /// A response ended (or was cut off).
    Response {
        stream: u64,
        status: u16,
        reason: Text,
        content_type: Option<Shared>,
        body_bytes: u64,
        ttfb_ns: Option<i64>,
        duration_ns: Option<i64>,
        complete: bool,
    },
    /// An interim response (1xx other than 101).
    Interim {
        stream: u64,
        status: u16,
        reason: Text,
    },
    /// Anything else worth a word: malformed messages, gaps, upgrades.
    Anomaly { stream: u64, anomaly: HttpAnomaly },
}

impl HttpNote {
    pub fn stream(&self) -> u64 {
        match self {
            HttpNote::Request { stream, .. }
            | HttpNote::Response { stream, .. }
            | HttpNote::Interim { stream, .. }
            | HttpNote::Anomaly { stream, .. } => *stream,
        }
    }

    /// Stable snake_case code: the anomaly's, or the kind of message.
    pub fn code(&self) -> &'static str {
        match self {
            HttpNote::Request { .. } => "http_request",
            HttpNote::Response { .. } => "http_response",
            HttpNote::Interim { .. } => "http_interim",
            HttpNote::Anomaly { anomaly, .. } => anomaly.code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_or_binary_bodies() {
        let b = |bytes: &[u8], truncated| Body {
            bytes: bytes.to_vec(),
            decoded: false,
            truncated,
        };
        assert_eq!(b(b"<p>hi</p>\r\n", false).as_text(), Some("<p>hi</p>\r\n"));
        assert_eq!(b("é".as_bytes(), false).as_text(), Some("é"));
        // "é" cut in half by the display limit.
        assert_eq!(b(b"ab\xc3", true).as_text(), Some("ab"));
        assert_eq!(b(b"ab\xc3", false).as_text(), None);
        assert_eq!(b(b"\x89PNG\r\n\x1a\n\0\0", false).as_text(), None);
        assert_eq!(b(b"a\0b", false).as_text(), None);
    }
}

#[cfg(test)]
mod fields_tests {
    use super::Fields;

    #[test]
    fn fields_keep_order_names_and_values() {
        let mut f = Fields::new();
        assert!(f.is_empty());
        f.push("Host", "example.com");
        f.push("X-Empty", "");
        f.push("Content-Type", "text/html; charset=utf-8");
        f.push("host", "second");
        assert_eq!(f.len(), 4);
        assert_eq!(f.get(0), Some(("Host", "example.com")));
        assert_eq!(f.get(1), Some(("X-Empty", "")));
        assert_eq!(f.get(3), Some(("host", "second")));
        assert_eq!(f.get(4), None);
        assert_eq!(f.value("HOST"), Some("example.com"));
        assert_eq!(f.value("x-empty"), Some(""));
        assert_eq!(f.value("Cookie"), None);
        assert_eq!(f.iter().len(), 4);
        assert_eq!(
            f,
            vec![
                ("Host", "example.com"),
                ("X-Empty", ""),
                ("Content-Type", "text/html; charset=utf-8"),
                ("host", "second"),
            ]
        );
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"[["Host","example.com"],["X-Empty",""],["Content-Type","text/html; charset=utf-8"],["host","second"]]"#
        );
        let again: Fields = f.iter().collect();
        assert_eq!(again, f);
        assert_eq!(format!("{f:?}").matches('(').count(), 4);
    }

    #[test]
    fn cut_keeps_character_boundaries() {
        assert_eq!(super::cut("héllo", 2), "h");
        assert_eq!(super::cut("héllo", 3), "hé");
        assert_eq!(super::cut("abc", 10), "abc");
    }
}
