//! Parsing a head with httparse: [`parse_head`] for a gathered head,
//! [`parse_whole`] for one that lies whole in a segment (parsed in place,
//! the common case); heads httparse rejects go to the lenient parser.

use std::borrow::Cow;
use std::mem::MaybeUninit;

use super::facts::FactsOf;
use super::lenient::parse_lenient;
use super::start::KNOWN_METHODS;
use super::{Head, HeadLimits, Kind, Recent, StartLine};
use crate::event::redact::trim;
use crate::event::{Fields, HttpAnomaly, Text};

pub(super) fn parser_config() -> httparse::ParserConfig {
    let mut c = httparse::ParserConfig::default();
    c.allow_multiple_spaces_in_request_line_delimiters(true)
        .allow_multiple_spaces_in_response_status_delimiters(true)
        .allow_spaces_after_header_name_in_responses(true)
        .allow_obsolete_multiline_headers_in_responses(true);
    c
}

fn version_name(v: Option<u8>) -> Text {
    match v {
        Some(0) => Cow::Borrowed("HTTP/1.0"),
        Some(1) => Cow::Borrowed("HTTP/1.1"),
        Some(n) => Cow::Owned(format!("HTTP/1.{n}")),
        None => Cow::Borrowed(""),
    }
}

/// Reason phrases common enough to be kept without an allocation.
const COMMON_REASONS: [&str; 24] = [
    "OK",
    "Not Found",
    "Not Modified",
    "No Content",
    "Found",
    "Moved Permanently",
    "Created",
    "Accepted",
    "Partial Content",
    "See Other",
    "Temporary Redirect",
    "Permanent Redirect",
    "Bad Request",
    "Unauthorized",
    "Forbidden",
    "Method Not Allowed",
    "Conflict",
    "Precondition Failed",
    "Too Many Requests",
    "Internal Server Error",
    "Bad Gateway",
    "Service Unavailable",
    "Gateway Timeout",
    "Continue",
];

/// `s` as [`Text`]: borrowed from `table` when it is one of its words
/// (exactly), else copied.
fn known_text(s: &str, table: &'static [&'static str]) -> Text {
    match table.iter().find(|t| **t == s) {
        Some(t) => Cow::Borrowed(*t),
        None => Cow::Owned(s.to_string()),
    }
}

/// Most heads have a handful of fields: a stack array of this many slots
/// is tried first, and room for the limit is allocated only when it is
/// not enough. The slots are left uninitialised (httparse fills those it
/// uses): clearing 32 of them took a kilobyte of stores per head.
const STACK_SLOTS: usize = 32;

/// Parses a complete head (as gathered by [`HeadBuf`](super::HeadBuf)) of the given kind.
/// `Err` carries a note when the start line is beyond repair.
pub fn parse_head(
    buf: &[u8],
    kind: Kind,
    limits: HeadLimits,
    recent: &mut Recent,
) -> Result<Head, HttpAnomaly> {
    let max_headers = limits.max_fields();
    if max_headers > STACK_SLOTS {
        let mut slots = [const { MaybeUninit::uninit() }; STACK_SLOTS];
        match parse_with(buf, kind, &mut slots, limits.keep_fields, recent) {
            Err(ParseFail::TooMany) => {}
            other => return finish_parse(other, buf, kind, limits, recent),
        }
    }
    let mut slots: Vec<_> = (0..max_headers).map(|_| MaybeUninit::uninit()).collect();
    let r = parse_with(buf, kind, &mut slots, limits.keep_fields, recent);
    finish_parse(r, buf, kind, limits, recent)
}

/// The common case without gathering: `buf` (a segment's bytes, from the
/// first byte of a message on) holds a whole head that httparse accepts
/// strictly, within the limits and with at most [`STACK_SLOTS`] fields.
/// Returns the head and its length; `None` sends the bytes the general
/// way ([`HeadBuf`](super::HeadBuf), then [`parse_head`]), which yields exactly this
/// result whenever this one is `Some` (httparse ends a head at the first
/// empty line, as `HeadBuf` does, and a start line it accepts is one that
/// [`sniff`](super::sniff) classifies as `kind`).
pub fn parse_whole(
    buf: &[u8],
    kind: Kind,
    limits: HeadLimits,
    recent: &mut Recent,
) -> Option<(Head, usize)> {
    let max_headers = limits.max_fields().min(STACK_SLOTS);
    let mut slots = [const { MaybeUninit::uninit() }; STACK_SLOTS];
    let slots = slots.get_mut(..max_headers)?;
    match parse_with(buf, kind, slots, limits.keep_fields, recent) {
        Ok((head, n)) if n <= limits.max_bytes => Some((head, n)),
        _ => None,
    }
}

enum ParseFail {
    Partial,
    TooMany,
    Bad(httparse::Error),
}

fn finish_parse(
    r: Result<(Head, usize), ParseFail>,
    buf: &[u8],
    kind: Kind,
    limits: HeadLimits,
    recent: &mut Recent,
) -> Result<Head, HttpAnomaly> {
    let why = match r {
        Ok((head, _)) => return Ok(head),
        Err(ParseFail::Partial) => None,
        Err(ParseFail::TooMany) => Some(httparse::Error::TooManyHeaders),
        Err(ParseFail::Bad(e)) => Some(e),
    };
    parse_lenient(buf, kind, limits, why, recent)
}

/// httparse over `buf`: the head and its length.
fn parse_with<'b>(
    buf: &'b [u8],
    kind: Kind,
    slots: &mut [MaybeUninit<httparse::Header<'b>>],
    keep: bool,
    recent: &mut Recent,
) -> Result<(Head, usize), ParseFail> {
    let fail = |e: httparse::Error| {
        if e == httparse::Error::TooManyHeaders {
            ParseFail::TooMany
        } else {
            ParseFail::Bad(e)
        }
    };
    let cfg = parser_config();
    match kind {
        Kind::Request => {
            let mut req = httparse::Request::new(&mut []);
            match cfg.parse_request_with_uninit_headers(&mut req, buf, slots) {
                Ok(httparse::Status::Complete(n)) => Ok((
                    collect(
                        StartLine::Request {
                            method: known_text(req.method.unwrap_or_default(), &KNOWN_METHODS),
                            uri: Recent::share(&mut recent.uri, req.path.unwrap_or_default()),
                            version: version_name(req.version),
                        },
                        buf.get(..n).unwrap_or(buf),
                        req.headers,
                        keep,
                        recent,
                    ),
                    n,
                )),
                Ok(httparse::Status::Partial) => Err(ParseFail::Partial),
                Err(e) => Err(fail(e)),
            }
        }
        Kind::Response => {
            let mut resp = httparse::Response::new(&mut []);
            match cfg.parse_response_with_uninit_headers(&mut resp, buf, slots) {
                Ok(httparse::Status::Complete(n)) => Ok((
                    collect(
                        StartLine::Response {
                            version: version_name(resp.version),
                            status: resp.code.unwrap_or(0),
                            reason: known_text(resp.reason.unwrap_or_default(), &COMMON_REASONS),
                        },
                        buf.get(..n).unwrap_or(buf),
                        resp.headers,
                        keep,
                        recent,
                    ),
                    n,
                )),
                Ok(httparse::Status::Partial) => Err(ParseFail::Partial),
                Err(e) => Err(fail(e)),
            }
        }
    }
}

/// The head httparse found in `buf`: the fields (when kept), values
/// trimmed and as text (invalid UTF-8 replaced), and what they say.
fn collect(
    start: StartLine,
    buf: &[u8],
    headers: &[httparse::Header<'_>],
    keep: bool,
    recent: &mut Recent,
) -> Head {
    let mut fields = Fields::new();
    if keep {
        let bytes = headers.iter().map(|h| h.name.len() + h.value.len()).sum();
        fields = Fields::with_capacity(headers.len(), bytes);
    }
    let mut fields_size = 0;
    let mut keep_field = |name: &str, value: &str| {
        fields_size += name.len() + value.len() + 8;
        if keep {
            fields.push(name, value);
        }
    };
    let mut facts = FactsOf::default();
    let mut notes = Vec::new();
    // One UTF-8 check of the whole head (usually all ASCII) instead of
    // one per value; a value is then a slice of that text.
    let head_text = std::str::from_utf8(buf).ok();
    for h in headers {
        let raw = h.value.trim_ascii();
        let checked = head_text.and_then(|t| t.get(crate::range_in(buf, raw)?));
        let lossy;
        let v = match checked.or_else(|| std::str::from_utf8(raw).ok()) {
            Some(v) => trim(v),
            None => {
                lossy = String::from_utf8_lossy(h.value);
                lossy.trim()
            }
        };
        facts.field(h.name, v, &mut notes, recent);
        keep_field(h.name, v);
    }
    Head {
        start,
        headers: fields,
        facts: facts.finish(&mut notes),
        notes,
        fields_size,
    }
}
