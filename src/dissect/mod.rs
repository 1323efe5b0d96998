//! Dissectors: turn reassembled TCP byte streams into application messages.
//!
//! A dissector implements [`crate::track::StreamConsumer`]; the tracker
//! pushes each direction's in-order bytes, gaps and ends into it. Protocols
//! are recognised by content, never by port. Dissectors produce records
//! (see [`http::Exchange`]) and never print.
//!
//! This module also holds the secret-redaction policy shared by every
//! output: the values of `Authorization`, `Proxy-Authorization`, `Cookie`
//! and `Set-Cookie` become `<redacted N bytes>` unless the user asked to see
//! them (`--show-secrets`).

use std::borrow::Cow;

pub mod follow;
pub mod http;
pub mod tee;

/// Header fields whose values are secrets (credentials, session cookies).
pub const SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// True for a header field name whose value must not be shown by default.
pub fn is_secret_header(name: &str) -> bool {
    let name = name.trim();
    SECRET_HEADERS.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// The text that replaces a secret value of `len` bytes.
pub fn redacted(len: usize) -> String {
    format!("<redacted {len} bytes>")
}

/// A header value as it may be shown: secrets replaced by
/// `<redacted N bytes>` unless `show_secrets`.
pub fn redact<'a>(name: &str, value: &'a str, show_secrets: bool) -> Cow<'a, str> {
    if !show_secrets && is_secret_header(name) {
        Cow::Owned(redacted(value.len()))
    } else {
        Cow::Borrowed(value)
    }
}

/// Redacts secret header values inside raw payload bytes (for `-A`/`-X`
/// dumps of single packets): every line that starts with a secret field
/// name and a colon keeps its name and gets `<redacted N bytes>` as value.
/// Lines split across packets cannot be recognised here; the HTTP
/// exchange records are redacted from the reassembled stream instead.
///
/// Returns the input unchanged (borrowed) when it holds no secret line.
pub fn redact_payload(payload: &[u8], show_secrets: bool) -> Cow<'_, [u8]> {
    if show_secrets || !payload.contains(&b':') {
        return Cow::Borrowed(payload);
    }
    let mut out: Option<Vec<u8>> = None;
    let mut line_start = 0usize;
    let mut copied = 0usize;
    while line_start < payload.len() {
        let rest = payload.get(line_start..).unwrap_or_default();
        let line_len = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |p| p + 1);
        let line = rest.get(..line_len).unwrap_or_default();
        if let Some((value_start, value_end)) = secret_value_span(line) {
            let o = out.get_or_insert_with(|| Vec::with_capacity(payload.len()));
            let abs_start = line_start + value_start;
            let abs_end = line_start + value_end;
            o.extend_from_slice(payload.get(copied..abs_start).unwrap_or_default());
            o.extend_from_slice(redacted(value_end - value_start).as_bytes());
            copied = abs_end;
        }
        line_start += line_len;
    }
    match out {
        None => Cow::Borrowed(payload),
        Some(mut o) => {
            o.extend_from_slice(payload.get(copied..).unwrap_or_default());
            Cow::Owned(o)
        }
    }
}

/// The span (within `line`) of a secret header's value, trimmed of
/// surrounding blanks and the line end.
fn secret_value_span(line: &[u8]) -> Option<(usize, usize)> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = std::str::from_utf8(line.get(..colon)?).ok()?;
    if !is_secret_header(name) || name.starts_with([' ', '\t']) {
        return None;
    }
    let mut start = colon + 1;
    let mut end = line.len();
    while end > start && matches!(line.get(end - 1), Some(b'\r' | b'\n' | b' ' | b'\t')) {
        end -= 1;
    }
    while start < end && matches!(line.get(start), Some(b' ' | b'\t')) {
        start += 1;
    }
    (end > start).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_any_case() {
        assert!(is_secret_header("Authorization"));
        assert!(is_secret_header("COOKIE"));
        assert!(is_secret_header("set-cookie"));
        assert!(is_secret_header("Proxy-Authorization"));
        assert!(!is_secret_header("Cookie2x"));
        assert!(!is_secret_header("Host"));
    }

    #[test]
    fn redact_replaces_value_with_its_length() {
        assert_eq!(
            redact("Authorization", "Basic dXNlcjpwYXNz", false),
            "<redacted 18 bytes>"
        );
        assert_eq!(
            redact("Authorization", "Basic dXNlcjpwYXNz", true),
            "Basic dXNlcjpwYXNz"
        );
        assert_eq!(redact("Host", "example.com", false), "example.com");
    }

    #[test]
    fn redact_payload_rewrites_only_secret_lines() {
        let p =
            b"GET / HTTP/1.1\r\nHost: a\r\nCookie: sid=42; x=1\r\nAuthorization:Bearer t\r\n\r\n";
        let r = redact_payload(p, false);
        assert_eq!(
            std::str::from_utf8(&r).unwrap(),
            "GET / HTTP/1.1\r\nHost: a\r\nCookie: <redacted 11 bytes>\r\nAuthorization:<redacted 8 bytes>\r\n\r\n"
        );
        assert!(matches!(redact_payload(p, true), Cow::Borrowed(_)));
        let plain = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        assert!(matches!(redact_payload(plain, false), Cow::Borrowed(_)));
        // A value cut by the end of the packet is still redacted.
        let cut = b"Set-Cookie: abc";
        assert_eq!(
            &*redact_payload(cut, false),
            b"Set-Cookie: <redacted 3 bytes>"
        );
    }
}
