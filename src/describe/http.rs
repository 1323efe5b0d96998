//! The words of the HTTP notes (what the timeline, the ladder and the
//! pcapng comments print beside a request or a response), of kept bodies
//! under their exchange, and of HAR comments.

use std::fmt;
use std::io::{self, Write};

use super::human_bytes;
use super::units::{num, write_bytes, write_duration};
use crate::event::{Exchange, HttpNote, Message};

impl fmt::Display for HttpNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_text(f)
    }
}

impl HttpNote {
    /// The note's text (its `Display`), into any writer: into a `String`
    /// directly, without the formatter between each piece.
    pub fn write_text<W: fmt::Write + ?Sized>(&self, f: &mut W) -> fmt::Result {
        match self {
            HttpNote::Request {
                method,
                uri,
                version,
                host,
                ..
            } => {
                f.write_str("→ ")?;
                f.write_str(method)?;
                f.write_str(" ")?;
                f.write_str(uri)?;
                if !version.is_empty() {
                    f.write_str(" ")?;
                    f.write_str(version)?;
                }
                if let Some(h) = host {
                    f.write_str("  Host: ")?;
                    f.write_str(h)?;
                }
                Ok(())
            }
            HttpNote::Response {
                status,
                reason,
                content_type,
                body_bytes,
                ttfb_ns,
                duration_ns,
                complete,
                ..
            } => {
                f.write_str("← ")?;
                num(f, u64::from(*status))?;
                if !reason.is_empty() {
                    f.write_str(" ")?;
                    f.write_str(reason)?;
                }
                if let Some(ct) = content_type {
                    let short = ct.split(';').next().unwrap_or(ct).trim();
                    f.write_str("  ")?;
                    f.write_str(short)?;
                }
                f.write_str("  ")?;
                write_bytes(f, *body_bytes)?;
                if !complete {
                    f.write_str(" (incomplete)")?;
                }
                if let Some(t) = ttfb_ns {
                    f.write_str("  ttfb ")?;
                    write_duration(f, *t)?;
                }
                if let Some(d) = duration_ns {
                    f.write_str("  total ")?;
                    write_duration(f, *d)?;
                }
                Ok(())
            }
            HttpNote::Interim { status, reason, .. } => {
                f.write_str("← ")?;
                num(f, u64::from(*status))?;
                if !reason.is_empty() {
                    f.write_str(" ")?;
                    f.write_str(reason)?;
                }
                Ok(())
            }
            HttpNote::Anomaly { anomaly, .. } => {
                f.write_str("! http: ")?;
                anomaly.write_text(f)
            }
        }
    }
}

/// The kept bodies (`--body`) of an exchange's request and response.
pub fn write_exchange_bodies(buf: &mut Vec<u8>, x: &Exchange) -> io::Result<()> {
    if let Some(r) = &x.request {
        let label = format!("→ {} {}", r.method, r.uri);
        write_body(buf, &label, &r.msg)?;
    }
    if let Some(r) = &x.response {
        let label = format!("← {} {}", r.status, r.reason);
        write_body(buf, label.trim_end(), &r.msg)?;
    }
    Ok(())
}

/// A kept body under its exchange: a summary line, then the text (each
/// line prefixed) or a note that binary content is not shown.
pub fn write_body<W: Write>(w: &mut W, label: &str, m: &Message) -> io::Result<()> {
    let Some(b) = &m.body else { return Ok(()) };
    let ct = m
        .content_type
        .as_deref()
        .map(|c| c.split(';').next().unwrap_or(c).trim())
        .unwrap_or("no content type");
    write!(w, "    {label}: body {ct}, {}", human_bytes(m.body_bytes))?;
    if let (Some(enc), Some(dec)) = (&m.content_encoding, m.body_decoded_bytes) {
        write!(w, " ({enc}, {} decoded)", human_bytes(dec))?;
    }
    if !m.complete {
        write!(w, ", incomplete")?;
    }
    match b.as_text() {
        Some(text) => {
            writeln!(w, ":")?;
            for line in text.lines() {
                writeln!(w, "    | {line}")?;
            }
            if b.truncated {
                writeln!(w, "    | … (first {} bytes shown)", b.bytes.len())?;
            }
        }
        None => writeln!(w, ", binary (not shown)")?,
    }
    Ok(())
}

/// The HAR comment of an entry without request.
pub const HAR_NO_REQUEST: &str = "the request was not captured (or was not HTTP)";
/// The HAR comment of an entry without response.
pub const HAR_NO_RESPONSE: &str = "no response was captured";

/// The HAR comment on body bytes lost in capture gaps.
pub fn body_bytes_not_captured(n: u64) -> String {
    format!("{n} body bytes were not captured")
}

/// The HAR comment of a body cut at the display limit.
pub fn body_limit_note(shown: usize, total: u64) -> String {
    format!("only the first {shown} of {total} bytes (--body-limit)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_read_like_the_issue() {
        let req = HttpNote::Request {
            stream: 0,
            method: "GET".into(),
            uri: "/index.html".into(),
            version: "HTTP/1.1".into(),
            host: Some("127.0.0.1:8000".into()),
        };
        assert_eq!(
            req.to_string(),
            "→ GET /index.html HTTP/1.1  Host: 127.0.0.1:8000"
        );
        let resp = HttpNote::Response {
            stream: 0,
            status: 200,
            reason: "OK".into(),
            content_type: Some("text/html; charset=utf-8".into()),
            body_bytes: 2300,
            ttfb_ns: Some(1_100_000),
            duration_ns: Some(1_300_000),
            complete: true,
        };
        assert_eq!(
            resp.to_string(),
            "← 200 OK  text/html  2.3 KB  ttfb 1.1 ms  total 1.3 ms"
        );
    }

    #[test]
    fn kept_bodies_and_har_comments() {
        use crate::event::{Body, Request, Response};
        let body = |bytes: &[u8], truncated| Body {
            bytes: bytes.to_vec(),
            decoded: false,
            truncated,
        };
        let x = Exchange {
            request: Some(Request {
                method: "POST".into(),
                uri: "/form".into(),
                msg: Message {
                    body: Some(body(b"a=1\nb=2", true)),
                    body_bytes: 1200,
                    complete: true,
                    ..Message::default()
                },
                ..Request::default()
            }),
            response: Some(Response {
                status: 200,
                reason: "".into(),
                msg: Message {
                    content_type: Some("image/png; q=1".into()),
                    content_encoding: Some("gzip".into()),
                    body_decoded_bytes: Some(3000),
                    body: Some(body(b"\x89PNG\0", false)),
                    body_bytes: 1500,
                    ..Message::default()
                },
            }),
            ..Exchange::default()
        };
        let mut v = Vec::new();
        write_exchange_bodies(&mut v, &x).unwrap();
        assert_eq!(
            String::from_utf8(v).unwrap(),
            "    → POST /form: body no content type, 1.2 KB:\n    | a=1\n    | b=2\n    | … (first 7 bytes shown)\n    \
             ← 200: body image/png, 1.5 KB (gzip, 3.0 KB decoded), incomplete, binary (not shown)\n"
        );
        assert_eq!(
            body_bytes_not_captured(14),
            "14 body bytes were not captured"
        );
        assert_eq!(
            body_limit_note(4096, 10000),
            "only the first 4096 of 10000 bytes (--body-limit)"
        );
    }
}
