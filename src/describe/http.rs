//! The words of the HTTP notes: what the timeline, the ladder and the
//! pcapng comments print beside a request or a response.

use std::fmt;

use super::units::{num, write_bytes, write_duration};
use crate::event::HttpNote;

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
}
