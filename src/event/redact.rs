//! The secret-redaction policy, shared by the dissector (records are
//! redacted when they are made) and the outputs (payload dumps): the values
//! of `Authorization`, `Proxy-Authorization`, `Cookie` and `Set-Cookie`
//! become `<redacted N bytes>` unless the user asked to see them
//! (`--show-secrets`).

use std::borrow::Cow;

/// Header fields whose values are secrets (credentials, session cookies).
pub const SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// True for a header field name whose value must not be shown by default.
pub fn is_secret_header(name: &str) -> bool {
    let name = trim(name);
    // Most names are ruled out by their length alone.
    if !SECRET_HEADERS.iter().any(|s| s.len() == name.len()) {
        return false;
    }
    SECRET_HEADERS.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// `s.trim()`, without the search for Unicode whitespace when `s` starts
/// and ends with a visible ASCII character (as most header names and
/// values do).
pub(crate) fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => s,
        _ => s.trim(),
    }
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
/// The payload is taken to start at a line start; see
/// [`redact_payload_cont`] for segments that continue an earlier one.
///
/// Returns the input unchanged (borrowed) when it holds no secret line.
pub fn redact_payload(payload: &[u8], show_secrets: bool) -> Cow<'_, [u8]> {
    let mut carry = LineCarry::LineStart;
    redact_payload_cont(payload, show_secrets, &mut carry)
}

/// Where the last line of a payload stood when the payload ended, so that
/// the next segment of the same byte stream is redacted in context: a
/// secret value cut by a segment boundary stays hidden in the next
/// segment, and a field name split between two segments is recognised.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LineCarry {
    /// The next byte starts a line.
    #[default]
    LineStart,
    /// Inside a secret value: everything up to the line end is secret.
    InSecret,
    /// An unfinished line without a colon that may still become a secret
    /// field name (it is a prefix of one).
    Partial(Vec<u8>),
    /// Inside a line that holds no secret.
    MidLine,
}

/// Longest unfinished line kept as a possible secret field name.
const MAX_PARTIAL: usize = 32;

/// [`redact_payload`] for a payload that continues the byte stream where
/// `carry` left it; `carry` is updated to where this payload ends.
pub fn redact_payload_cont<'a>(
    payload: &'a [u8],
    show_secrets: bool,
    carry: &mut LineCarry,
) -> Cow<'a, [u8]> {
    if show_secrets {
        return Cow::Borrowed(payload);
    }
    let mut r = Redaction::default();
    let mut line_start = 0usize;
    // The line carried over from the previous segment.
    match std::mem::take(carry) {
        LineCarry::LineStart => {}
        LineCarry::MidLine => {
            line_start = line_len(payload);
            if !ends_line(payload, line_start) {
                *carry = LineCarry::MidLine;
                return Cow::Borrowed(payload);
            }
        }
        LineCarry::InSecret => {
            let len = line_len(payload);
            let line = payload.get(..len).unwrap_or_default();
            r.replace(payload, 0, content_end(line));
            line_start = len;
            if !ends_line(payload, len) {
                *carry = LineCarry::InSecret;
            }
        }
        LineCarry::Partial(mut prefix) => {
            let len = line_len(payload);
            let line = payload.get(..len).unwrap_or_default();
            let had = prefix.len();
            prefix.extend_from_slice(line);
            match secret_line(&prefix) {
                Some(span) => {
                    let (vs, ve) = span.value;
                    // The value lies in this segment: the carried part had
                    // no colon.
                    r.replace(payload, vs.saturating_sub(had), ve.saturating_sub(had));
                    if !ends_line(payload, len) {
                        *carry = LineCarry::InSecret;
                    }
                }
                None if !ends_line(payload, len) => {
                    *carry = unfinished(&prefix);
                }
                None => {}
            }
            line_start = len;
        }
    }
    while line_start < payload.len() {
        let rest = payload.get(line_start..).unwrap_or_default();
        let len = line_len(rest);
        let line = rest.get(..len).unwrap_or_default();
        let ended = ends_line(rest, len);
        match secret_line(line) {
            Some(span) => {
                let (vs, ve) = span.value;
                r.replace(payload, line_start + vs, line_start + ve);
                if !ended {
                    *carry = LineCarry::InSecret;
                }
            }
            None if !ended => *carry = unfinished(line),
            None => {}
        }
        line_start += len;
    }
    r.finish(payload)
}

/// Bytes of `bytes` up to and including its first line feed (all of it
/// when there is none).
fn line_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| p + 1)
}

/// The line of `len` bytes at the start of `bytes` ended with a line feed.
fn ends_line(bytes: &[u8], len: usize) -> bool {
    len > 0 && bytes.get(len - 1) == Some(&b'\n')
}

/// Where a line's content ends (before CR LF or a lone LF).
fn content_end(line: &[u8]) -> usize {
    let mut end = line.len();
    while end > 0 && matches!(line.get(end - 1), Some(b'\r' | b'\n')) {
        end -= 1;
    }
    end
}

/// What an unfinished, non-secret line leaves for the next segment.
fn unfinished(line: &[u8]) -> LineCarry {
    let could_be_name = line.len() <= MAX_PARTIAL
        && !line.contains(&b':')
        && std::str::from_utf8(line).is_ok_and(|l| {
            let l = l.trim_end_matches([' ', '\t']);
            !l.starts_with([' ', '\t'])
                && SECRET_HEADERS.iter().any(|s| {
                    s.len() >= l.len()
                        && s.get(..l.len()).is_some_and(|p| p.eq_ignore_ascii_case(l))
                })
        });
    if could_be_name {
        LineCarry::Partial(line.to_vec())
    } else {
        LineCarry::MidLine
    }
}

/// A redacted copy, made only once something needs replacing.
#[derive(Default)]
struct Redaction {
    out: Option<Vec<u8>>,
    copied: usize,
}

impl Redaction {
    /// Replaces `payload[start..end]` (nothing when empty).
    fn replace(&mut self, payload: &[u8], start: usize, end: usize) {
        if end <= start || start < self.copied {
            return;
        }
        let o = self
            .out
            .get_or_insert_with(|| Vec::with_capacity(payload.len() + 32));
        o.extend_from_slice(payload.get(self.copied..start).unwrap_or_default());
        o.extend_from_slice(redacted(end - start).as_bytes());
        self.copied = end;
    }

    fn finish(self, payload: &[u8]) -> Cow<'_, [u8]> {
        match self.out {
            None => Cow::Borrowed(payload),
            Some(mut o) => {
                o.extend_from_slice(payload.get(self.copied..).unwrap_or_default());
                Cow::Owned(o)
            }
        }
    }
}

/// A line of a secret field: where its value is.
struct SecretSpan {
    /// The value (within the line), trimmed of blanks and the line end;
    /// empty when the line ends right after the colon.
    value: (usize, usize),
}

/// The value span of a secret header line (its name, then a colon).
fn secret_line(line: &[u8]) -> Option<SecretSpan> {
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
    Some(SecretSpan {
        value: (start, end),
    })
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

    /// Redacts `parts` one after another, carrying the line state.
    fn redact_parts(parts: &[&[u8]]) -> String {
        let mut carry = LineCarry::LineStart;
        let mut out = Vec::new();
        for p in parts {
            out.extend_from_slice(&redact_payload_cont(p, false, &mut carry));
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_value_cut_by_a_segment_end_stays_hidden_in_the_next() {
        assert_eq!(
            redact_parts(&[
                b"GET / HTTP/1.1\r\nCookie: sid=4",
                b"2; x=1\r\nHost: a\r\n\r\n"
            ]),
            "GET / HTTP/1.1\r\nCookie: <redacted 5 bytes><redacted 6 bytes>\r\nHost: a\r\n\r\n"
        );
        // The whole next segment is still the value.
        assert_eq!(
            redact_parts(&[b"Cookie: a", b"bcdef", b"gh\r\nX: 1\r\n"]),
            "Cookie: <redacted 1 bytes><redacted 5 bytes><redacted 2 bytes>\r\nX: 1\r\n"
        );
        // Cut right after the colon, and between CR and LF.
        assert_eq!(
            redact_parts(&[
                b"Authorization:",
                b" Basic Zm9vOmJhcg==\r",
                b"\nHost: a\r\n"
            ]),
            "Authorization:<redacted 19 bytes>\r\nHost: a\r\n"
        );
    }

    #[test]
    fn a_name_split_between_segments_is_recognised() {
        assert_eq!(
            redact_parts(&[b"Host: a\r\nCoo", b"kie: sid=42\r\n\r\n"]),
            "Host: a\r\nCookie: <redacted 6 bytes>\r\n\r\n"
        );
        assert_eq!(
            redact_parts(&[b"X: 1\r\nproxy-", b"AUTHOR", b"IZATION: Basic eA==\r\n"]),
            "X: 1\r\nproxy-AUTHORIZATION: <redacted 10 bytes>\r\n"
        );
        // Not a prefix of a secret name: the next segment is left alone.
        assert_eq!(
            redact_parts(&[b"X-Cookie", b": not secret\r\n"]),
            "X-Cookie: not secret\r\n"
        );
        // A line that continues (no line end yet) is not a line start.
        assert_eq!(
            redact_parts(&[b"Referer: http://a/", b"Cookie: x\r\n"]),
            "Referer: http://a/Cookie: x\r\n"
        );
    }

    use proptest::prelude::*;

    proptest! {
        /// Cut anywhere into segments, a head never shows a secret value,
        /// and every other line is shown unchanged.
        #[test]
        fn secrets_stay_hidden_however_the_stream_is_cut(
            secrets in proptest::collection::vec("[A-Za-z0-9+/=]{12,40}", 1..4),
            names in proptest::collection::vec(0usize..4, 1..4),
            cuts in proptest::collection::vec(0usize..400, 0..12),
        ) {
            let mut head = String::from("GET /p HTTP/1.1\r\nHost: example.com\r\n");
            for (i, s) in secrets.iter().enumerate() {
                let name = SECRET_HEADERS[names[i % names.len()]];
                head.push_str(&format!("{name}: {s}\r\nX-Plain-{i}: keep-{i}\r\n"));
            }
            head.push_str("\r\n");
            let bytes = head.as_bytes();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % bytes.len()).collect();
            cuts.sort_unstable();
            cuts.dedup();
            let mut parts: Vec<&[u8]> = Vec::new();
            let mut at = 0;
            for c in cuts.into_iter().chain([bytes.len()]) {
                parts.push(&bytes[at..c]);
                at = c;
            }
            let out = redact_parts(&parts);
            // Text that may legitimately hold a run of a value's characters.
            let mut skeleton = head.clone();
            for s in &secrets {
                skeleton = skeleton.replace(s.as_str(), "");
            }
            skeleton.push_str("<redacted 00 bytes>");
            for s in &secrets {
                // Any other 6 bytes of a value would be a leak.
                for w in s.as_bytes().windows(6) {
                    let w = std::str::from_utf8(w).unwrap();
                    prop_assert!(!out.contains(w) || skeleton.contains(w), "{out:?} shows part of {s}");
                }
            }
            for i in 0..secrets.len() {
                let line = format!("X-Plain-{i}: keep-{i}\r\n");
                prop_assert!(out.contains(&line), "{out:?} lost {line:?}");
            }
            prop_assert!(out.starts_with("GET /p HTTP/1.1\r\nHost: example.com\r\n"));
        }
    }
}
