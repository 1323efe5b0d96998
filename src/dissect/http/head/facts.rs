//! What a head's fields say about framing and content ([`Facts`]),
//! learned field by field in the pass that reads them: one name
//! comparison per field, chosen by the name's length.

use super::Recent;
use crate::event::{HttpAnomaly, Shared, Snippet};

/// What the header fields say about framing and content (computed over
/// every field, including those beyond the kept limit).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// A usable Content-Length.
    pub content_length: Option<u64>,
    /// Content-Length was present but unusable (invalid or conflicting).
    pub content_length_bad: bool,
    /// Transfer-Encoding as sent (all fields joined).
    pub transfer_encoding: Option<String>,
    /// The final transfer coding is chunked.
    pub chunked: bool,
    /// `Connection: close`.
    pub close: bool,
    pub upgrade: Option<String>,
    /// `Expect: 100-continue`.
    pub expect_continue: bool,
    pub host: Option<Shared>,
    pub content_type: Option<Shared>,
    pub content_encoding: Option<String>,
    /// A field whose value is secret (shown redacted unless asked).
    pub secret: bool,
}

/// Parses a Content-Length value: digits only, possibly a list of equal
/// values (RFC 9110 §8.6).
pub(super) fn parse_content_length(v: &str) -> Option<u64> {
    // The usual case: one plain number.
    if !v.is_empty() && v.len() <= 19 && v.bytes().all(|b| b.is_ascii_digit()) {
        return v.parse().ok();
    }
    let mut out: Option<u64> = None;
    for part in v.split(',') {
        let part = part.trim();
        if part.is_empty() || part.len() > 19 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u64 = part.parse().ok()?;
        match out {
            Some(prev) if prev != n => return None,
            _ => out = Some(n),
        }
    }
    out
}

/// [`Facts`] gathered field by field.
#[derive(Default)]
pub(super) struct FactsOf {
    f: Facts,
    /// Transfer-Encoding values joined so far.
    te: Option<String>,
    /// The Content-Length seen (`Some(None)`: unusable).
    cl_seen: Option<Option<u64>>,
}

/// `name` is `lower` (lowercase letters and `-`, of the same length)
/// but for the case of its letters: eight bytes at a time, a letter's
/// case bit set in both before comparing (`-` compared as is).
pub(super) fn is_name(name: &[u8], lower: &[u8]) -> bool {
    const CASE: u64 = 0x4040_4040_4040_4040;
    let same = |n: &[u8], l: &[u8]| {
        let word = |c: &[u8]| u64::from_le_bytes(c.try_into().unwrap_or_default());
        let (n, l) = (word(n), word(l));
        // Letters (0x61..0x7a) have 0x40 set; `-` (0x2d) has not.
        (n | ((l & CASE) >> 1)) == l
    };
    if name.len() != lower.len() {
        return false;
    }
    if name.len() < 8 {
        return name
            .iter()
            .zip(lower)
            .all(|(&b, &l)| if l == b'-' { b == l } else { b | 0x20 == l });
    }
    let (mut n, mut l) = (name.chunks_exact(8), lower.chunks_exact(8));
    n.by_ref().zip(l.by_ref()).all(|(a, b)| same(a, b))
        && (n.remainder().is_empty()
            || same(
                name.get(name.len() - 8..).unwrap_or_default(),
                lower.get(lower.len() - 8..).unwrap_or_default(),
            ))
}

impl FactsOf {
    pub(super) fn field(
        &mut self,
        name: &str,
        value: &str,
        notes: &mut Vec<HttpAnomaly>,
        recent: &mut Recent,
    ) {
        let f = &mut self.f;
        // One comparison per field at most: the name's length picks it.
        let is = |n: &str| is_name(name.as_bytes(), n.as_bytes());
        match name.len() {
            14 if is("content-length") => {
                let parsed = parse_content_length(value);
                match (self.cl_seen, parsed) {
                    (None, p) => {
                        self.cl_seen = Some(p);
                        if p.is_none() {
                            notes.push(HttpAnomaly::InvalidContentLength {
                                value: Snippet::of(value.as_bytes(), 40),
                            });
                        }
                    }
                    (Some(Some(a)), Some(b)) if a == b => {}
                    (Some(_), _) => {
                        if self.cl_seen != Some(None) {
                            notes.push(HttpAnomaly::ConflictingContentLength);
                        }
                        self.cl_seen = Some(None);
                    }
                }
            }
            17 if is("transfer-encoding") => match &mut self.te {
                Some(te) => {
                    te.push_str(", ");
                    te.push_str(value);
                }
                None => self.te = Some(value.to_string()),
            },
            10 if is("connection") => {
                f.close |= value
                    .split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("close"));
            }
            7 if is("upgrade") => {
                f.upgrade.get_or_insert_with(|| value.to_string());
            }
            6 if is("expect") => {
                f.expect_continue |= value.trim().eq_ignore_ascii_case("100-continue");
            }
            4 if is("host") => {
                f.host
                    .get_or_insert_with(|| Recent::share(&mut recent.host, value));
            }
            12 if is("content-type") => {
                f.content_type
                    .get_or_insert_with(|| Recent::share(&mut recent.content_type, value));
            }
            16 if is("content-encoding") => {
                f.content_encoding.get_or_insert_with(|| value.to_string());
            }
            // The secret fields (crate::event::redact::SECRET_HEADERS).
            6 if is("cookie") => f.secret = true,
            10 if is("set-cookie") => f.secret = true,
            13 if is("authorization") => f.secret = true,
            19 if is("proxy-authorization") => f.secret = true,
            _ => {}
        }
    }

    pub(super) fn finish(self, notes: &mut Vec<HttpAnomaly>) -> Facts {
        let mut f = self.f;
        match self.cl_seen {
            Some(Some(n)) => f.content_length = Some(n),
            Some(None) => f.content_length_bad = true,
            None => {}
        }
        if let Some(te) = self.te {
            f.chunked = te
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
            f.transfer_encoding = Some(te);
            if self.cl_seen.is_some() {
                notes.push(HttpAnomaly::TransferEncodingAndContentLength);
            }
        }
        f
    }
}
