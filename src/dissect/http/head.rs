//! HTTP/1.x message heads: the start line and the header fields up to the
//! blank line.
//!
//! [`HeadBuf`] gathers a head from a byte stream split anywhere (a request
//! line spread over six segments parses like one in a single segment), up
//! to a size limit. [`parse_head`] turns the finished head into a [`Head`]
//! with `httparse`; when httparse rejects it, a lenient line parser takes
//! over, so a slightly broken message is still reported (with a note saying
//! what was wrong) instead of being lost. [`classify_line`] and
//! [`sniff`] decide whether bytes at the start of a direction, or after a
//! gap, begin an HTTP message at all.

use std::borrow::Cow;
use std::mem::MaybeUninit;

use crate::event::redact::trim;
use crate::event::{Fields, HeadSyntax, HttpAnomaly, MessageKind, Shared, Snippet, Text};

/// Methods recognised even when the rest of the request line is broken
/// (the list Wireshark's HTTP dissector accepts, so broken requests are
/// recognised alike).
pub const KNOWN_METHODS: [&str; 44] = [
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "CONNECT",
    "OPTIONS",
    "TRACE",
    "PATCH",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "SEARCH",
    "REPORT",
    "CHECKOUT",
    "CHECKIN",
    "UNCHECKOUT",
    "MKWORKSPACE",
    "UPDATE",
    "LABEL",
    "MERGE",
    "BASELINE-CONTROL",
    "MKACTIVITY",
    "ORDERPATCH",
    "ACL",
    "MKCALENDAR",
    "MKREDIRECTREF",
    "UPDATEREDIRECTREF",
    "VERSION-CONTROL",
    "NOTIFY",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "POLL",
    "BMOVE",
    "BCOPY",
    "BDELETE",
    "BPROPFIND",
    "BPROPPATCH",
    "CCM_POST",
    "M-SEARCH",
];

/// Longest token accepted as a method while sniffing a direction.
const MAX_METHOD_LEN: usize = 32;

/// Which kind of message a start line begins.
pub type Kind = MessageKind;

/// What the first bytes of a direction say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniff {
    Http(Kind),
    /// Could still be HTTP: the first line is not complete yet.
    Maybe,
    NotHttp,
}

/// How a head was gathered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Push {
    /// The head ends after this many bytes of the input.
    Complete(usize),
    /// All input consumed; the head goes on.
    More,
    /// The head grew past the limit (after this many bytes of the input).
    TooLarge(usize),
}

/// A head being gathered from a stream. Empty lines before the start line
/// are skipped (RFC 9112 §2.2).
#[derive(Debug, Default)]
pub struct HeadBuf {
    buf: Vec<u8>,
    /// The current line has a byte other than CR.
    line_nonempty: bool,
}

impl HeadBuf {
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Takes the gathered bytes out (the buffer is left empty); give the
    /// vector back with `restore` to reuse its allocation.
    pub fn take_bytes(&mut self) -> Vec<u8> {
        self.line_nonempty = false;
        std::mem::take(&mut self.buf)
    }

    /// Hands a vector back for reuse (its contents are discarded).
    pub fn restore(&mut self, mut v: Vec<u8>) {
        if self.buf.capacity() == 0 && v.capacity() <= 16 * 1024 {
            v.clear();
            self.buf = v;
        }
    }

    /// Forgets the head (keeping a modest allocation for the next one).
    pub fn clear(&mut self) {
        self.buf.clear();
        if self.buf.capacity() > 16 * 1024 {
            self.buf.shrink_to(4096);
        }
        self.line_nonempty = false;
    }

    /// The first line so far, without its line end; `None` until it ends.
    pub fn first_line(&self) -> Option<&[u8]> {
        let lf = self.buf.iter().position(|&b| b == b'\n')?;
        let line = self.buf.get(..lf)?;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }

    /// Appends bytes up to the end of the head. `max` bounds the head.
    pub fn push(&mut self, input: &[u8], max: usize) -> Push {
        let mut start = 0;
        if self.buf.is_empty() {
            // Leading blank lines are not part of the message.
            start = input
                .iter()
                .position(|&b| b != b'\r' && b != b'\n')
                .unwrap_or(input.len());
        }
        let rest = input.get(start..).unwrap_or_default();
        let room = max.saturating_sub(self.buf.len());
        let window = rest.get(..room).unwrap_or(rest);
        // Jump from line end to line end (memchr), looking at each line
        // only to learn whether it holds anything but CR.
        let mut line_start = 0;
        for lf in memchr::memchr_iter(b'\n', window) {
            let line = window.get(line_start..lf).unwrap_or_default();
            let nonempty = self.line_nonempty || line.iter().any(|&b| b != b'\r');
            if !nonempty {
                self.buf
                    .extend_from_slice(window.get(..=lf).unwrap_or_default());
                self.line_nonempty = false;
                return Push::Complete(start + lf + 1);
            }
            self.line_nonempty = false;
            line_start = lf + 1;
        }
        let tail = window.get(line_start..).unwrap_or_default();
        if tail.iter().any(|&b| b != b'\r') {
            self.line_nonempty = true;
        }
        self.buf.extend_from_slice(window);
        if window.len() < rest.len() {
            return Push::TooLarge(start + window.len());
        }
        Push::More
    }
}

/// A parsed start line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartLine {
    Request {
        method: Text,
        uri: Shared,
        version: Text,
    },
    Response {
        version: Text,
        status: u16,
        reason: Text,
    },
}

/// The URI, Host and Content-Type a connection last sent, kept so that a
/// head repeating one (a client asking for the same page again and
/// again, a server's every response of one type) shares its text instead
/// of allocating it anew. Only short values are kept, so a connection
/// holds at most three of [`RECENT_MAX`] bytes.
#[derive(Clone, Debug, Default)]
pub struct Recent {
    uri: Option<Shared>,
    host: Option<Shared>,
    content_type: Option<Shared>,
}

/// The longest value [`Recent`] keeps.
pub const RECENT_MAX: usize = 256;

impl Recent {
    /// `s` as [`Shared`]: the kept text when it is the same, else a new
    /// one, kept in its place when short (a long one leaves the kept text
    /// as it was).
    fn share(kept: &mut Option<Shared>, s: &str) -> Shared {
        if let Some(k) = kept {
            if **k == *s {
                return k.clone();
            }
        }
        let new = Shared::from(s);
        if s.len() <= RECENT_MAX {
            *kept = Some(new.clone());
        }
        new
    }
}

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

/// A parsed head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub start: StartLine,
    /// Header fields in order, at most the configured number; values as
    /// text (invalid UTF-8 replaced).
    pub headers: Fields,
    pub facts: Facts,
    /// What was wrong with the head, if anything.
    pub notes: Vec<HttpAnomaly>,
    /// What the fields take in memory when kept (their names and values,
    /// and 8 bytes each), whether or not `headers` holds them.
    pub fields_size: usize,
}

/// Limits applied to a head, and what is kept of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadLimits {
    /// Bytes of a head, start line included.
    pub max_bytes: usize,
    /// Header fields kept per head.
    pub max_headers: usize,
    /// Keep the header fields (an output shows them). Without, `headers`
    /// stays empty; the facts are gathered from every field either way.
    pub keep_fields: bool,
}

impl HeadLimits {
    /// The field limit as applied (at least one, at most 10,000).
    fn max_fields(&self) -> usize {
        self.max_headers.clamp(1, 10_000)
    }
}

impl Default for HeadLimits {
    fn default() -> Self {
        Self {
            max_bytes: 64 * 1024,
            max_headers: 128,
            keep_fields: true,
        }
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn known_method(token: &[u8]) -> bool {
    KNOWN_METHODS.iter().any(|m| m.as_bytes() == token)
}

/// `HTTP/d.d SP ddd` followed by the end of the line or a space.
fn status_line_ok(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"HTTP/") else {
        return false;
    };
    let mut it = rest.iter().copied().peekable();
    let (Some(a), Some(b'.'), Some(c)) = (it.next(), it.next(), it.next()) else {
        return false;
    };
    if !a.is_ascii_digit() || !c.is_ascii_digit() {
        return false;
    }
    let mut spaces = 0;
    while it.peek() == Some(&b' ') {
        it.next();
        spaces += 1;
    }
    if spaces == 0 {
        return false;
    }
    for _ in 0..3 {
        match it.next() {
            Some(d) if d.is_ascii_digit() => {}
            _ => return false,
        }
    }
    matches!(it.next(), None | Some(b' ') | Some(b'\t'))
}

/// A request line httparse accepts as is.
fn request_line_strict(line: &[u8]) -> bool {
    const END: &[u8] = b"\r\n\r\n";
    // The line and an empty head's end, in a stack buffer when it fits
    // (request lines are checked for every request).
    let mut stack = [0u8; 256];
    let mut heap = Vec::new();
    let n = line.len() + END.len();
    let probe = match stack.get_mut(..n) {
        Some(p) => p,
        None => {
            heap.resize(n, 0);
            heap.as_mut_slice()
        }
    };
    let (head, end) = probe.split_at_mut(line.len());
    head.copy_from_slice(line);
    end.copy_from_slice(END);
    let mut headers = [httparse::EMPTY_HEADER; 0];
    let mut req = httparse::Request::new(&mut headers);
    matches!(
        parser_config().parse_request(&mut req, probe),
        Ok(httparse::Status::Complete(_))
    )
}

/// A request line that starts with a known method, followed by a space or
/// nothing (what Wireshark still calls a request).
fn request_line_lenient(line: &[u8]) -> bool {
    let end = line
        .iter()
        .position(|&b| b == b' ' || b == b'\t')
        .unwrap_or(line.len());
    line.get(..end).is_some_and(known_method)
}

/// Classifies a complete first line (without its line end). `lenient`
/// also accepts broken request lines that start with a known method.
pub fn classify_line(line: &[u8], lenient: bool) -> Option<Kind> {
    if line.starts_with(b"HTTP/") {
        return status_line_ok(line).then_some(Kind::Response);
    }
    // The lenient test is the cheaper one: try it first when it counts.
    if (lenient && request_line_lenient(line)) || request_line_strict(line) {
        Some(Kind::Request)
    } else {
        None
    }
}

/// Judges the first bytes of a direction (the start of a head).
pub fn sniff(bytes: &[u8]) -> Sniff {
    if let Some(lf) = bytes.iter().position(|&b| b == b'\n') {
        let line = bytes.get(..lf).unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        return match classify_line(line, true) {
            Some(k) => Sniff::Http(k),
            None => Sniff::NotHttp,
        };
    }
    // No complete line yet: is it still a plausible beginning?
    let n = bytes.len().min(5);
    if bytes.get(..n) == b"HTTP/".get(..n) {
        return Sniff::Maybe;
    }
    let tok = bytes.iter().take_while(|&&b| is_tchar(b)).count();
    if tok == 0 || tok > MAX_METHOD_LEN {
        return Sniff::NotHttp;
    }
    match bytes.get(tok) {
        None => Sniff::Maybe,
        Some(b' ' | b'\t' | b'\r') => {
            let ctl = bytes
                .get(tok..)
                .unwrap_or_default()
                .iter()
                .any(|&b| b < 0x20 && b != b'\t' && b != b'\r' || b == 0x7f);
            if ctl {
                Sniff::NotHttp
            } else {
                Sniff::Maybe
            }
        }
        Some(_) => Sniff::NotHttp,
    }
}

/// Where a message may start inside `buf` (used to resynchronise after a
/// gap): the offset of a known method followed by a space, or of `HTTP/1.`,
/// whose line is complete and valid (strictly), or which runs to the end
/// of `buf` (`complete == false`: more bytes are needed to decide).
pub fn find_start(buf: &[u8], want: Option<Kind>) -> Option<(usize, bool)> {
    let mut p = 0;
    while p < buf.len() {
        let Some(rest) = buf.get(p..) else { break };
        let first = rest.first().copied().unwrap_or(0);
        if !first.is_ascii_uppercase() {
            p += 1;
            continue;
        }
        let cand_req = want != Some(Kind::Response)
            && KNOWN_METHODS.iter().any(|m| {
                let m = m.as_bytes();
                if rest.len() > m.len() {
                    rest.starts_with(m) && rest.get(m.len()) == Some(&b' ')
                } else {
                    // The buffer ends inside "METHOD ": undecided.
                    m.starts_with(rest)
                }
            });
        let cand_resp = want != Some(Kind::Request) && {
            let n = rest.len().min(7);
            rest.get(..n) == b"HTTP/1.".get(..n)
        };
        if cand_req || cand_resp {
            match rest.iter().position(|&b| b == b'\n') {
                None => return Some((p, false)),
                Some(lf) => {
                    let line = rest.get(..lf).unwrap_or_default();
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    let kind = classify_line(line, false);
                    if kind.is_some() && (want.is_none() || kind == want) {
                        return Some((p, true));
                    }
                }
            }
        }
        p += 1;
    }
    None
}

fn parser_config() -> httparse::ParserConfig {
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

/// Parses a complete head (as gathered by [`HeadBuf`]) of the given kind.
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
/// way ([`HeadBuf`], then [`parse_head`]), which yields exactly this
/// result whenever this one is `Some` (httparse ends a head at the first
/// empty line, as `HeadBuf` does, and a start line it accepts is one that
/// [`sniff`] classifies as `kind`).
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

fn lines(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    buf.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

fn split_blanks(line: &[u8]) -> Vec<&[u8]> {
    line.split(|&b| b == b' ' || b == b'\t')
        .filter(|t| !t.is_empty())
        .collect()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The line-by-line fallback for heads httparse rejects.
fn parse_lenient(
    buf: &[u8],
    kind: Kind,
    limits: HeadLimits,
    why: Option<httparse::Error>,
    recent: &mut Recent,
) -> Result<Head, HttpAnomaly> {
    let max_headers = limits.max_fields();
    let mut it = lines(buf).skip_while(|l| l.is_empty());
    let first = it.next().unwrap_or_default();
    let mut notes = Vec::new();
    let start = match kind {
        Kind::Response => {
            if !status_line_ok(first) {
                return Err(HttpAnomaly::MalformedStatusLine {
                    line: Snippet::of(first, 80),
                });
            }
            // status_line_ok checked the shape: "HTTP/d.d", blanks, three digits.
            let version = text(first.get(..8).unwrap_or_default());
            let after = first.get(8..).unwrap_or_default();
            let digits_at = after.iter().position(|&b| b != b' ').unwrap_or(0);
            let code = after.get(digits_at..digits_at + 3).unwrap_or_default();
            let status = code
                .iter()
                .fold(0u16, |n, &d| n * 10 + u16::from(d.wrapping_sub(b'0') % 10));
            let reason = text(after.get(digits_at + 3..).unwrap_or_default())
                .trim()
                .to_string();
            StartLine::Response {
                version: version.into(),
                status,
                reason: reason.into(),
            }
        }
        Kind::Request => {
            let toks = split_blanks(first);
            let method = toks.first().copied().unwrap_or_default();
            if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
                return Err(HttpAnomaly::MalformedRequestLine {
                    line: Snippet::of(first, 80),
                });
            }
            let (uri, version) = match toks.len() {
                0 | 1 => (String::new(), String::new()),
                2 => (
                    text(toks.get(1).copied().unwrap_or_default()),
                    String::new(),
                ),
                n => {
                    let last = toks.get(n - 1).copied().unwrap_or_default();
                    if last.starts_with(b"HTTP/") {
                        let mid: Vec<String> = toks
                            .get(1..n - 1)
                            .unwrap_or_default()
                            .iter()
                            .map(|t| text(t))
                            .collect();
                        (mid.join(" "), text(last))
                    } else {
                        let mid: Vec<String> = toks
                            .get(1..)
                            .unwrap_or_default()
                            .iter()
                            .map(|t| text(t))
                            .collect();
                        (mid.join(" "), String::new())
                    }
                }
            };
            if !request_line_strict(first) {
                notes.push(HttpAnomaly::MalformedRequestLine {
                    line: Snippet::of(first, 80),
                });
            }
            StartLine::Request {
                method: text(method).into(),
                uri: uri.into(),
                version: version.into(),
            }
        }
    };
    let mut all: Vec<(String, String)> = Vec::new();
    let mut bad_lines = 0usize;
    let mut first_bad = None;
    for line in it {
        if line.is_empty() {
            break;
        }
        if matches!(line.first(), Some(b' ' | b'\t')) {
            // obs-fold: the line continues the previous field's value.
            if let Some((_, v)) = all.last_mut() {
                v.push(' ');
                v.push_str(text(line).trim());
                continue;
            }
        }
        match line.iter().position(|&b| b == b':') {
            Some(colon) if colon > 0 => {
                let name = text(line.get(..colon).unwrap_or_default())
                    .trim()
                    .to_string();
                let value = text(line.get(colon + 1..).unwrap_or_default())
                    .trim()
                    .to_string();
                all.push((name, value));
            }
            _ => {
                bad_lines += 1;
                first_bad.get_or_insert_with(|| Snippet::of(line, 60));
            }
        }
    }
    if let Some(bad) = first_bad {
        notes.push(HttpAnomaly::MalformedHeaderLines {
            first: bad,
            count: bad_lines,
        });
    } else if let Some(e) = why {
        if e != httparse::Error::TooManyHeaders && notes.is_empty() {
            notes.push(HttpAnomaly::ParsedLeniently {
                error: head_syntax(e),
            });
        }
    }
    let mut facts = FactsOf::default();
    for (n, v) in &all {
        facts.field(n, v, &mut notes, recent);
    }
    let facts = facts.finish(&mut notes);
    if all.len() > max_headers {
        notes.push(HttpAnomaly::TooManyHeaderFields {
            count: all.len(),
            limit: max_headers,
        });
        all.truncate(max_headers);
    }
    let fields_size = all.iter().map(|(n, v)| n.len() + v.len() + 8).sum();
    if !limits.keep_fields {
        all.clear();
    }
    Ok(Head {
        start,
        headers: all.into_iter().collect(),
        facts,
        notes,
        fields_size,
    })
}

/// httparse's error as the vocabulary names it.
fn head_syntax(e: httparse::Error) -> HeadSyntax {
    match e {
        httparse::Error::HeaderName => HeadSyntax::HeaderName,
        httparse::Error::HeaderValue => HeadSyntax::HeaderValue,
        httparse::Error::NewLine => HeadSyntax::NewLine,
        httparse::Error::Status => HeadSyntax::Status,
        httparse::Error::Token => HeadSyntax::Token,
        httparse::Error::TooManyHeaders => HeadSyntax::TooManyHeaders,
        httparse::Error::Version => HeadSyntax::Version,
    }
}

/// Parses a Content-Length value: digits only, possibly a list of equal
/// values (RFC 9110 §8.6).
fn parse_content_length(v: &str) -> Option<u64> {
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
struct FactsOf {
    f: Facts,
    /// Transfer-Encoding values joined so far.
    te: Option<String>,
    /// The Content-Length seen (`Some(None)`: unusable).
    cl_seen: Option<Option<u64>>,
}

/// `name` is `lower` (lowercase letters and `-`, of the same length)
/// but for the case of its letters: eight bytes at a time, a letter's
/// case bit set in both before comparing (`-` compared as is).
fn is_name(name: &[u8], lower: &[u8]) -> bool {
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
    fn field(
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

    fn finish(self, notes: &mut Vec<HttpAnomaly>) -> Facts {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The parsers as a connection's first head meets them.
    fn parse_head(buf: &[u8], kind: Kind, limits: HeadLimits) -> Result<Head, HttpAnomaly> {
        super::parse_head(buf, kind, limits, &mut Recent::default())
    }

    fn parse_whole(buf: &[u8], kind: Kind, limits: HeadLimits) -> Option<(Head, usize)> {
        super::parse_whole(buf, kind, limits, &mut Recent::default())
    }

    #[test]
    fn repeated_text_is_shared() {
        use std::sync::Arc;
        let limits = HeadLimits::default();
        let long = "/".repeat(RECENT_MAX + 1);
        let req = |uri: &str, host: &str| format!("GET {uri} HTTP/1.1\r\nHost: {host}\r\n\r\n");
        let parts = |h: &Head| match &h.start {
            StartLine::Request { uri, .. } => (uri.clone(), h.facts.host.clone().unwrap()),
            StartLine::Response { .. } => panic!("not a request"),
        };
        let mut recent = Recent::default();
        let mut whole = |text: &str| {
            let (h, n) =
                super::parse_whole(text.as_bytes(), Kind::Request, limits, &mut recent).unwrap();
            assert_eq!(n, text.len());
            assert_eq!(
                Ok(&h),
                parse_head(text.as_bytes(), Kind::Request, limits).as_ref()
            );
            parts(&h)
        };
        let (u1, h1) = whole(&req("/a", "example.com"));
        let (u2, h2) = whole(&req("/a", "example.com"));
        assert!(Arc::ptr_eq(&u1, &u2) && Arc::ptr_eq(&h1, &h2));
        // A new URI is new text, and the one kept from then on.
        let (u3, h3) = whole(&req("/b", "example.com"));
        assert!(!Arc::ptr_eq(&u2, &u3) && Arc::ptr_eq(&h2, &h3));
        assert_eq!(&*u3, "/b");
        let (u4, _) = whole(&req("/b", "example.com"));
        assert!(Arc::ptr_eq(&u3, &u4));
        // Long text is not kept (nor does it displace "/b"): each head has
        // its own.
        let (l1, _) = whole(&req(&long, "example.com"));
        let (l2, _) = whole(&req(&long, "example.com"));
        assert!(!Arc::ptr_eq(&l1, &l2));
        assert_eq!(*l1, *long);
        // Gathered heads share too, and so do responses' Content-Type.
        let resp = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n";
        let ct = |recent: &mut Recent| {
            super::parse_head(resp, Kind::Response, limits, recent)
                .unwrap()
                .facts
                .content_type
                .unwrap()
        };
        let (c1, c2) = (ct(&mut recent), ct(&mut recent));
        assert!(Arc::ptr_eq(&c1, &c2));
        assert_eq!(&*c1, "text/html");
        let h5 = super::parse_head(
            req("/b", "example.com").as_bytes(),
            Kind::Request,
            limits,
            &mut recent,
        )
        .unwrap();
        assert!(Arc::ptr_eq(&parts(&h5).0, &u4));
    }

    fn gather(chunks: &[&[u8]]) -> (Vec<u8>, usize) {
        let mut h = HeadBuf::default();
        for (i, c) in chunks.iter().enumerate() {
            match h.push(c, 1 << 16) {
                Push::Complete(n) => {
                    return (h.bytes().to_vec(), (i << 16) | n);
                }
                Push::More => {}
                Push::TooLarge(_) => panic!("too large"),
            }
        }
        panic!("incomplete")
    }

    #[test]
    fn head_end_found_across_any_split() {
        let msg = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY";
        for cut in 1..msg.len() {
            let (a, b) = msg.split_at(cut);
            let (head, at) = gather(&[a, b]);
            assert_eq!(head, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", "cut {cut}");
            let (chunk, n) = (at >> 16, at & 0xffff);
            let consumed = if chunk == 0 { n } else { a.len() + n };
            assert_eq!(consumed, msg.len() - 4, "cut {cut}");
        }
    }

    #[test]
    fn bare_lf_heads_and_leading_blank_lines() {
        let (head, _) = gather(&[b"\r\n\r\nGET / HTTP/1.0\n\nX"]);
        assert_eq!(head, b"GET / HTTP/1.0\n\n");
        let h = parse_head(&head, Kind::Request, HeadLimits::default()).unwrap();
        assert_eq!(
            h.start,
            StartLine::Request {
                method: "GET".into(),
                uri: "/".into(),
                version: "HTTP/1.0".into()
            }
        );
        assert!(h.notes.is_empty(), "{:?}", h.notes);
    }

    #[test]
    fn too_large_head_is_reported_not_buffered() {
        let mut h = HeadBuf::default();
        let line = [b'a'; 100];
        let mut res = Push::More;
        for _ in 0..20 {
            res = h.push(&line, 1000);
            if res != Push::More {
                break;
            }
        }
        assert_eq!(res, Push::TooLarge(0));
        assert_eq!(h.len(), 1000);
    }

    #[test]
    fn parses_request_with_facts() {
        let h = parse_head(
            b"POST /up?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 12\r\n\
              Expect: 100-continue\r\nContent-Type: text/plain\r\nConnection: keep-alive, close\r\n\r\n",
            Kind::Request,
            HeadLimits::default(),
        )
        .unwrap();
        assert_eq!(
            h.start,
            StartLine::Request {
                method: "POST".into(),
                uri: "/up?x=1".into(),
                version: "HTTP/1.1".into()
            }
        );
        assert_eq!(h.facts.content_length, Some(12));
        assert!(h.facts.expect_continue);
        assert!(h.facts.close);
        assert_eq!(h.facts.host.as_deref(), Some("example.com"));
        assert_eq!(h.facts.content_type.as_deref(), Some("text/plain"));
        assert_eq!(h.headers.len(), 5);
    }

    #[test]
    fn parses_response_and_chunked_wins_over_length() {
        let h = parse_head(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 5\r\n\r\n",
            Kind::Response,
            HeadLimits::default(),
        )
        .unwrap();
        assert_eq!(
            h.start,
            StartLine::Response {
                version: "HTTP/1.1".into(),
                status: 200,
                reason: "OK".into()
            }
        );
        assert!(h.facts.chunked);
        assert_eq!(h.facts.content_length, Some(5));
        assert_eq!(h.notes.len(), 1);
    }

    #[test]
    fn content_length_edge_cases() {
        assert_eq!(parse_content_length("42"), Some(42));
        assert_eq!(parse_content_length("42, 42"), Some(42));
        assert_eq!(parse_content_length("42, 43"), None);
        assert_eq!(parse_content_length("-1"), None);
        assert_eq!(
            parse_content_length("1000000000000000000"),
            Some(1_000_000_000_000_000_000)
        );
        assert_eq!(parse_content_length("99999999999999999999"), None);
        let h = parse_head(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            Kind::Response,
            HeadLimits::default(),
        )
        .unwrap();
        assert!(h.facts.content_length_bad);
        assert_eq!(h.facts.content_length, None);
        assert_eq!(h.notes, vec![HttpAnomaly::ConflictingContentLength]);
        assert_eq!(h.notes[0].to_string(), "conflicting Content-Length fields");
    }

    #[test]
    fn malformed_request_lines_like_wireshark() {
        let l = HeadLimits::default();
        let h = parse_head(b"OPTIONS HTTP/1.1\r\nHost: x\r\n\r\n", Kind::Request, l).unwrap();
        assert_eq!(
            h.start,
            StartLine::Request {
                method: "OPTIONS".into(),
                uri: "HTTP/1.1".into(),
                version: "".into()
            }
        );
        assert_eq!(
            h.notes,
            vec![HttpAnomaly::MalformedRequestLine {
                line: Snippet::of(b"OPTIONS HTTP/1.1", 80)
            }]
        );
        assert_eq!(
            h.notes[0].to_string(),
            "malformed request line: `OPTIONS HTTP/1.1`"
        );
        assert_eq!(h.facts.host.as_deref(), Some("x"));
        let h = parse_head(b"OPTIONS\r\nHost: x\r\n\r\n", Kind::Request, l).unwrap();
        assert!(
            matches!(&h.start, StartLine::Request { method, uri, .. } if method == "OPTIONS" && uri.is_empty())
        );
        assert_eq!(
            parse_head(b"\x01\x02 / HTTP/1.1\r\n\r\n", Kind::Request, l).err(),
            Some(HttpAnomaly::MalformedRequestLine {
                line: Snippet::of(b"\x01\x02 / HTTP/1.1", 80)
            })
        );
        assert_eq!(
            parse_head(b"HTTP/1.1 abc\r\n\r\n", Kind::Response, l).err(),
            Some(HttpAnomaly::MalformedStatusLine {
                line: Snippet::of(b"HTTP/1.1 abc", 80)
            })
        );
    }

    #[test]
    fn too_many_headers_keeps_the_first_and_still_frames() {
        let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..300 {
            head.extend_from_slice(format!("X-{i}: {i}\r\n").as_bytes());
        }
        head.extend_from_slice(b"Content-Length: 7\r\n\r\n");
        let h = parse_head(
            &head,
            Kind::Response,
            HeadLimits {
                max_bytes: 1 << 16,
                max_headers: 10,
                keep_fields: true,
            },
        )
        .unwrap();
        assert_eq!(h.headers.len(), 10);
        assert_eq!(h.facts.content_length, Some(7));
        assert_eq!(
            h.notes,
            vec![HttpAnomaly::TooManyHeaderFields {
                count: 301,
                limit: 10
            }]
        );
        assert_eq!(
            h.notes[0].to_string(),
            "301 header fields, more than the limit of 10: kept the first 10"
        );
    }

    #[test]
    fn sniffing_the_first_bytes() {
        assert_eq!(sniff(b"GE"), Sniff::Maybe);
        assert_eq!(sniff(b"GET /index"), Sniff::Maybe);
        assert_eq!(sniff(b"GET / HTTP/1.1\r\n"), Sniff::Http(Kind::Request));
        assert_eq!(sniff(b"HTT"), Sniff::Maybe);
        assert_eq!(sniff(b"HTTP/1.1 200 OK\r\n"), Sniff::Http(Kind::Response));
        assert_eq!(sniff(b"\x16\x03\x01\x02\x00"), Sniff::NotHttp);
        assert_eq!(sniff(b"SSH-2.0-OpenSSH_5.9p1 Debian\r\n"), Sniff::NotHttp);
        assert_eq!(sniff(b"OPTIONSHTTP/1.1\r\n"), Sniff::NotHttp);
        assert_eq!(sniff(b"GET/ HTTP/1.1\r\n"), Sniff::NotHttp);
        assert_eq!(sniff(b"OPTIONS HTTP/1.1\r\n"), Sniff::Http(Kind::Request));
        assert_eq!(sniff(b"FOO /x HTTP/1.1\r\n"), Sniff::Http(Kind::Request));
        assert_eq!(sniff(b"GET \x00"), Sniff::NotHttp);
    }

    #[test]
    fn finding_a_message_start_after_a_gap() {
        assert_eq!(
            find_start(b"xx\r\nGET / HTTP/1.1\r\n", None),
            Some((4, true))
        );
        assert_eq!(
            find_start(b"AAAAGET / HTTP/1.1\r\n", Some(Kind::Request)),
            Some((4, true))
        );
        assert_eq!(
            find_start(b"AAAA HTTP/1.1 200 OK\r\n", Some(Kind::Response)),
            Some((5, true))
        );
        assert_eq!(find_start(b"GET nonsense\r\nmore", None), None);
        assert_eq!(find_start(b"abc GE", None), Some((4, false)));
        assert_eq!(
            find_start(b"HTTP/1.1 200 OK\r\n", Some(Kind::Request)),
            None
        );
    }

    mod whole {
        use super::super::*;
        use super::{parse_head, parse_whole};
        use proptest::prelude::*;

        const STARTS: [&[u8]; 12] = [
            b"GET / HTTP/1.1",
            b"POST /up?x=1 HTTP/1.0",
            b"get /lower HTTP/1.1",
            b"GET  /two-spaces HTTP/1.1",
            b"GET /tab\tHTTP/1.1",
            b"GET /no-version",
            b"HTTP/1.1 200 OK",
            b"HTTP/1.1 404 Not Found",
            b"HTTP/1.0  204",
            b"HTTP/1.1 200\tOK",
            b"HTTP/2 200 OK",
            b"SSH-2.0-OpenSSH",
        ];
        /// Fields httparse accepts in both kinds of message come first.
        const FIELDS: [&[u8]; 12] = [
            b"Host: example.com",
            b"Content-Length: 5",
            b"Content-Length: x",
            b"Transfer-Encoding: chunked",
            b"Cookie: secret=1",
            b"X-Bin: \xff\xfe",
            b"Empty:",
            b" folded continuation",
            b"Name : spaced",
            b"no colon here",
            b"X-Cr: a\rb",
            b"\r",
        ];
        const VALID_FIELDS: usize = 7;
        /// Text a connection may repeat, long and short, for
        /// `shared_text_changes_nothing`.
        const URIS: [&[u8]; 4] = [b"/", b"/a", b"/a?b=1", LONG_URI];
        const LONG_URI: &[u8] = &[b'/'; RECENT_MAX + 1];
        const SHARED: [&[u8]; 6] = [
            b"Host: example.com",
            b"host: example.org",
            b"Content-Type: text/html",
            b"content-type:   text/plain  ",
            b"Content-Type: \xff",
            b"Host:",
        ];
        const ENDS: [&[u8]; 3] = [b"\r\n", b"\n", b"\r\r\n"];

        fn build(lead: &[u8], start: usize, fields: &[(usize, usize)], tail: &[u8]) -> Vec<u8> {
            let mut v = lead.to_vec();
            v.extend_from_slice(STARTS[start]);
            v.extend_from_slice(b"\r\n");
            for &(f, e) in fields {
                v.extend_from_slice(FIELDS[f]);
                v.extend_from_slice(ENDS[e]);
            }
            v.extend_from_slice(b"\r\n");
            v.extend_from_slice(tail);
            v
        }

        proptest! {
            /// Whenever a head is parsed where it lies, gathering it and
            /// parsing it the general way gives the same head and length.
            #[test]
            fn parsed_in_place_as_gathered(
                lead in proptest::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n')], 0..4),
                start in 0..STARTS.len(),
                fields in proptest::collection::vec(
                    (
                        prop_oneof![8 => 0..VALID_FIELDS, 1 => VALID_FIELDS..FIELDS.len()],
                        prop_oneof![8 => 0..2usize, 1 => Just(2usize)],
                    ),
                    0..40,
                ),
                tail in proptest::collection::vec(any::<u8>(), 0..16),
                max_bytes in prop_oneof![Just(64usize), Just(1 << 16)],
                max_headers in prop_oneof![Just(3usize), Just(32), Just(128)],
                keep_fields in any::<bool>(),
            ) {
                let input = build(&lead, start, &fields, &tail);
                let limits = HeadLimits { max_bytes, max_headers, keep_fields };
                let skip = input.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(0);
                for kind in [Kind::Request, Kind::Response] {
                    let Some((head, n)) = parse_whole(&input[skip..], kind, limits) else {
                        continue;
                    };
                    let mut buf = HeadBuf::default();
                    prop_assert_eq!(buf.push(&input, max_bytes), Push::Complete(skip + n));
                    prop_assert_eq!(sniff(buf.bytes()), Sniff::Http(kind));
                    prop_assert_eq!(parse_head(buf.bytes(), kind, limits), Ok(head));
                }
            }

            /// Heads parsed one after another on one connection (sharing
            /// the text they repeat) equal heads parsed each on its own,
            /// gathered or in place.
            #[test]
            fn shared_text_changes_nothing(
                heads in proptest::collection::vec(
                    (
                        0..STARTS.len(),
                        0..URIS.len(),
                        proptest::collection::vec((0..SHARED.len(), 0..FIELDS.len()), 0..6),
                        any::<bool>(),
                    ),
                    1..8,
                ),
            ) {
                let limits = HeadLimits { max_bytes: 1 << 16, max_headers: 32, keep_fields: true };
                let mut recent = Recent::default();
                for (start, uri, fields, in_place) in heads {
                    let mut input = match STARTS[start].strip_prefix(b"GET /") {
                        Some(rest) => [b"GET ", URIS[uri], rest].concat(),
                        None => STARTS[start].to_vec(),
                    };
                    input.extend_from_slice(b"\r\n");
                    for (shared, other) in fields {
                        input.extend_from_slice(SHARED[shared]);
                        input.extend_from_slice(b"\r\n");
                        input.extend_from_slice(FIELDS[other]);
                        input.extend_from_slice(b"\r\n");
                    }
                    input.extend_from_slice(b"\r\n");
                    for kind in [Kind::Request, Kind::Response] {
                        if in_place {
                            let shared = super::super::parse_whole(&input, kind, limits, &mut recent);
                            prop_assert_eq!(shared, parse_whole(&input, kind, limits));
                        } else {
                            let shared = super::super::parse_head(&input, kind, limits, &mut recent);
                            prop_assert_eq!(shared, parse_head(&input, kind, limits));
                        }
                    }
                }
            }

            /// Without the fields kept, a head says the same: start line,
            /// facts, notes and the size the fields would take.
            #[test]
            fn fields_not_kept_change_nothing_else(
                start in 0..STARTS.len(),
                fields in proptest::collection::vec(
                    (
                        prop_oneof![8 => 0..VALID_FIELDS, 1 => VALID_FIELDS..FIELDS.len()],
                        prop_oneof![8 => 0..2usize, 1 => Just(2usize)],
                    ),
                    0..40,
                ),
                max_headers in prop_oneof![Just(3usize), Just(32), Just(128)],
            ) {
                let input = build(b"", start, &fields, b"");
                let mut buf = HeadBuf::default();
                let Push::Complete(n) = buf.push(&input, 1 << 16) else {
                    return Ok(());
                };
                let kept = HeadLimits { max_bytes: 1 << 16, max_headers, keep_fields: true };
                let not = HeadLimits { keep_fields: false, ..kept };
                for kind in [Kind::Request, Kind::Response] {
                    let a = parse_head(&input[..n], kind, kept);
                    let b = parse_head(&input[..n], kind, not);
                    match (a, b) {
                        (Ok(a), Ok(b)) => {
                            prop_assert!(b.headers.is_empty());
                            prop_assert_eq!(
                                a.fields_size,
                                a.headers.text_len() + 8 * a.headers.len()
                            );
                            prop_assert_eq!(Head { headers: Fields::new(), ..a }, b);
                        }
                        (a, b) => prop_assert_eq!(a, b),
                    }
                    if let Some((b, m)) = parse_whole(&input, kind, not) {
                        prop_assert_eq!(m, n);
                        prop_assert!(b.headers.is_empty());
                    }
                }
            }
        }

        const NAMES: [&str; 12] = [
            "content-length",
            "transfer-encoding",
            "connection",
            "upgrade",
            "expect",
            "host",
            "content-type",
            "content-encoding",
            "cookie",
            "set-cookie",
            "authorization",
            "proxy-authorization",
        ];

        proptest! {
            /// The word-wise comparison says what eq_ignore_ascii_case
            /// says, for names near the known ones (case changed, bytes
            /// replaced by ones that differ only in the case bit).
            #[test]
            fn name_comparison_ignores_case_only(
                which in 0..NAMES.len(),
                edits in proptest::collection::vec((0..20usize, any::<u8>()), 0..3),
                flips in proptest::collection::vec((0..20usize, any::<bool>()), 0..6),
            ) {
                let lower = NAMES[which].as_bytes();
                let mut name = lower.to_vec();
                for (at, up) in flips {
                    if let Some(b) = name.get_mut(at) {
                        if up { b.make_ascii_uppercase() } else { *b ^= 0x20 }
                    }
                }
                for (at, b) in edits {
                    if let Some(c) = name.get_mut(at) {
                        *c = b;
                    }
                }
                prop_assert_eq!(is_name(&name, lower), name.eq_ignore_ascii_case(lower));
            }
        }

        #[test]
        fn secret_fields_are_flagged_in_any_case() {
            for name in crate::event::redact::SECRET_HEADERS {
                for n in [name.to_string(), name.to_ascii_uppercase()] {
                    let head = format!("HTTP/1.1 200 OK\r\n{n}: x\r\nX-Other: y\r\n\r\n");
                    let h =
                        parse_head(head.as_bytes(), Kind::Response, HeadLimits::default()).unwrap();
                    assert!(h.facts.secret, "{n}");
                    // The lenient path (a broken line first) too.
                    let head = format!("HTTP/1.1 200 OK\r\nbroken\r\n{n} : x\r\n\r\n");
                    let h =
                        parse_head(head.as_bytes(), Kind::Response, HeadLimits::default()).unwrap();
                    assert!(h.facts.secret, "{n} (lenient)");
                }
            }
            let plain = parse_head(
                b"HTTP/1.1 200 OK\r\nCookies: x\r\nSet-Cookie2: y\r\n\r\n",
                Kind::Response,
                HeadLimits::default(),
            )
            .unwrap();
            assert!(!plain.facts.secret);
        }

        #[test]
        fn whole_heads_and_what_is_left_to_gathering() {
            let limits = HeadLimits::default();
            let msg = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nBODY";
            let (head, n) = parse_whole(msg, Kind::Request, limits).unwrap();
            assert_eq!(n, msg.len() - 4);
            assert_eq!(head.facts.host.as_deref(), Some("h"));
            assert!(
                matches!(head.start.clone(), StartLine::Request { method, .. } if method == "GET")
            );
            // Cut short, too many fields, too long, or not strictly valid:
            // the general path decides.
            assert!(parse_whole(&msg[..20], Kind::Request, limits).is_none());
            let many = build(b"", 0, &[(0, 0); 33], b"");
            assert!(parse_whole(&many, Kind::Request, limits).is_none());
            assert!(parse_head(&many, Kind::Request, limits).is_ok());
            let small = HeadLimits {
                max_bytes: 20,
                ..limits
            };
            assert!(parse_whole(msg, Kind::Request, small).is_none());
            assert!(parse_whole(b"GET /tab\tHTTP/1.1\r\n\r\n", Kind::Request, limits).is_none());
            assert!(parse_whole(b"HTTP/1.1 200 OK\r\n\r\n", Kind::Request, limits).is_none());
        }

        #[test]
        fn common_words_are_not_copied() {
            let (head, _) = parse_whole(
                b"HTTP/1.1 200 OK\r\n\r\n",
                Kind::Response,
                HeadLimits::default(),
            )
            .unwrap();
            let StartLine::Response {
                version, reason, ..
            } = head.start
            else {
                panic!("not a response")
            };
            assert!(matches!(version, Cow::Borrowed("HTTP/1.1")));
            assert!(matches!(reason, Cow::Borrowed("OK")));
            let (head, _) = parse_whole(
                b"HTTP/1.1 299 Custom\r\n\r\n",
                Kind::Response,
                HeadLimits::default(),
            )
            .unwrap();
            assert!(
                matches!(head.start, StartLine::Response { reason: Cow::Owned(r), .. } if r == "Custom")
            );
        }
    }
}
