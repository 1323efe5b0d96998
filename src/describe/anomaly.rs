//! The sentences of the HTTP anomalies: what the timeline prints after
//! `! http:`, what the exchange records' `notes` and HAR comments say.
//! Written from the typed values only when an output shows them.

use std::fmt::{self, Write};

use super::units::num;
use crate::event::{
    ContentCoding, Direction, FramingError, HeadSyntax, HttpAnomaly, MessageKind, Snippet,
};

/// Printable ASCII as is, CR, LF and tab as `\r`, `\n`, `\t`, other bytes
/// as `\xNN`; `…` when the original was longer.
impl fmt::Display for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_snippet(f, self)
    }
}

fn write_snippet<W: Write + ?Sized>(f: &mut W, s: &Snippet) -> fmt::Result {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in s.bytes() {
        match b {
            b'\r' => f.write_str("\\r")?,
            b'\n' => f.write_str("\\n")?,
            b'\t' => f.write_str("\\t")?,
            0x20..=0x7e => f.write_char(char::from(b))?,
            _ => {
                f.write_str("\\x")?;
                f.write_char(char::from(HEX[usize::from(b >> 4)]))?;
                f.write_char(char::from(HEX[usize::from(b & 0x0f)]))?;
            }
        }
    }
    if s.is_cut() {
        f.write_char('…')?;
    }
    Ok(())
}

/// A snippet between backticks.
fn quoted<W: Write + ?Sized>(f: &mut W, s: &Snippet) -> fmt::Result {
    f.write_char('`')?;
    write_snippet(f, s)?;
    f.write_char('`')
}

fn side(k: MessageKind) -> &'static str {
    k.name()
}

/// A direction of a connection, client→server being the one that carries
/// requests.
pub fn direction_words(d: Direction) -> &'static str {
    match d {
        Direction::ToServer => "client→server",
        Direction::ToClient => "server→client",
    }
}

fn coding(c: Option<ContentCoding>) -> &'static str {
    c.map_or("content", ContentCoding::name)
}

impl fmt::Display for HeadSyntax {
    /// httparse's words for its errors.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HeadSyntax::HeaderName => "invalid header name",
            HeadSyntax::HeaderValue => "invalid header value",
            HeadSyntax::NewLine => "invalid new line",
            HeadSyntax::Status => "invalid response status",
            HeadSyntax::Token => "invalid token",
            HeadSyntax::TooManyHeaders => "too many headers",
            HeadSyntax::Version => "invalid HTTP version",
        })
    }
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_text(f)
    }
}

impl FramingError {
    pub fn write_text<W: Write + ?Sized>(&self, f: &mut W) -> fmt::Result {
        match self {
            FramingError::ChunkSizeLineTooLong => f.write_str("chunk size line too long"),
            FramingError::ChunkSizeTooLarge => f.write_str("chunk size too large"),
            FramingError::InvalidChunkSize { byte } => {
                write!(f, "invalid chunk size (byte 0x{byte:02x})")
            }
            FramingError::ChunkExtensionTooLong => f.write_str("chunk extension too long"),
            FramingError::ChunkDataWithoutCrlf => f.write_str("chunk data not followed by CRLF"),
            FramingError::TrailerTooLarge => f.write_str("trailer section too large"),
            FramingError::GapInChunkFraming { missing } => {
                f.write_str("capture gap of ")?;
                num(f, *missing)?;
                f.write_str(" bytes in chunk framing")
            }
        }
    }
}

impl fmt::Display for HttpAnomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_text(f)
    }
}

impl HttpAnomaly {
    /// The anomaly's sentence (its `Display`), into any writer: into a
    /// `String` directly, without the formatter between each piece.
    pub fn write_text<W: Write + ?Sized>(&self, f: &mut W) -> fmt::Result {
        use HttpAnomaly as A;
        match self {
            A::MalformedRequestLine { line } => {
                f.write_str("malformed request line: ")?;
                quoted(f, line)
            }
            A::MalformedStatusLine { line } => {
                f.write_str("malformed status line: ")?;
                quoted(f, line)
            }
            A::MalformedHeaderLines { first, count } => {
                f.write_str("malformed header line")?;
                if *count > 1 {
                    f.write_char('s')?;
                }
                f.write_str(": ")?;
                quoted(f, first)?;
                if *count > 1 {
                    write!(f, " and {} more", count - 1)?;
                }
                Ok(())
            }
            A::ParsedLeniently { error } => {
                write!(f, "not strictly valid ({error}); parsed leniently")
            }
            A::TooManyHeaderFields { count, limit } => write!(
                f,
                "{count} header fields, more than the limit of {limit}: kept the first {limit}"
            ),
            A::InvalidContentLength { value } => {
                f.write_str("invalid Content-Length: ")?;
                quoted(f, value)
            }
            A::ConflictingContentLength => f.write_str("conflicting Content-Length fields"),
            A::TransferEncodingAndContentLength => {
                f.write_str("both Transfer-Encoding and Content-Length: Transfer-Encoding wins")
            }
            A::RequestTransferEncodingNotChunked { value } => write!(
                f,
                "request Transfer-Encoding `{value}` does not end in chunked: body read until close"
            ),
            A::HeadTooLarge { side: k, bytes } => write!(
                f,
                "{} head longer than {bytes} bytes (the limit): skipped, looking for the next message",
                side(*k)
            ),
            A::NotHttpSkipped { dir, bytes, sample } => {
                write!(
                    f,
                    "{bytes} bytes ({}) were not HTTP and were skipped",
                    direction_words(*dir)
                )?;
                if let Some(s) = sample {
                    f.write_str(": ")?;
                    quoted(f, s)?;
                }
                Ok(())
            }
            A::NotHttpMessage { dir, line } => {
                write!(f, "not an HTTP message ({}): ", direction_words(*dir))?;
                quoted(f, line)
            }
            A::CaptureGap { side: k, missing } => write!(
                f,
                "capture gap of {missing} bytes before a {}: looking for the next message",
                side(*k)
            ),
            A::HeadCutByGap { side: k, missing } => write!(
                f,
                "{} head cut by a capture gap of {missing} bytes: looking for the next message",
                side(*k)
            ),
            A::IncompleteHead {
                side: k,
                bytes,
                line,
            } => {
                write!(
                    f,
                    "incomplete {} head at end of stream ({bytes} bytes): ",
                    side(*k)
                )?;
                quoted(f, line)
            }
            A::BodyFramingBroken { side: k, error } => {
                f.write_str(side(*k))?;
                f.write_str(" body framing broken: ")?;
                error.write_text(f)
            }
            A::BodyBytesMissing { side: k, missing } => write!(
                f,
                "{} body: {missing} bytes missing (capture gap)",
                side(*k)
            ),
            A::Truncated {
                side: k,
                body_bytes,
                expected,
            } => match expected {
                Some(e) => write!(
                    f,
                    "{} truncated: {body_bytes} of {e} body bytes",
                    side(*k)
                ),
                None => write!(
                    f,
                    "{} truncated: body ended after {body_bytes} bytes",
                    side(*k)
                ),
            },
            A::DecodedSizeLimit { coding: c, limit } => write!(
                f,
                "{} content decodes to more than {limit} bytes: stopped decoding",
                coding(*c)
            ),
            A::ContentDecodeFailed { coding: c, error } => {
                write!(f, "{} content could not be decoded: {error}", coding(*c))
            }
            A::ContentTooShort { coding: c } => write!(
                f,
                "{} content could not be decoded: body too short",
                coding(*c)
            ),
            A::ContentNotDecoded { .. } => {
                f.write_str("content not decoded: body bytes are missing")
            }
            A::ResponseWithoutRequest {
                client_skipped,
                sample,
            } => {
                f.write_str("response without a request")?;
                if *client_skipped > 0 {
                    write!(
                        f,
                        " (the client sent {client_skipped} bytes that are not HTTP"
                    )?;
                    if let Some(s) = sample {
                        f.write_str(": ")?;
                        quoted(f, s)?;
                    }
                    f.write_char(')')?;
                }
                Ok(())
            }
            A::InterimWithoutRequest { status, reason } => {
                write!(f, "interim response {status} {reason} without a request")
            }
            A::RequestWithoutResponse { switched: false } => {
                f.write_str("request without response")
            }
            A::RequestWithoutResponse { switched: true } => {
                f.write_str("request without response (connection switched protocols)")
            }
            A::ResponseLostInGap => f.write_str("response lost in a capture gap"),
            A::RequestBodyNotSent { status } => write!(
                f,
                "request body not sent: the server answered {status} instead of 100 Continue"
            ),
            A::ProtocolSwitched { to } => write!(
                f,
                "101 Switching Protocols to {}: HTTP parsing stopped on this connection",
                to.as_deref().unwrap_or("another protocol")
            ),
            A::ConnectTunnel => {
                f.write_str("CONNECT tunnel established: HTTP parsing stopped on this connection")
            }
            A::PendingLimit { limit } => write!(
                f,
                "more than {limit} requests awaiting a response: stopped waiting for this one"
            ),
            A::PendingBytesLimit { limit } => write!(
                f,
                "unanswered HTTP requests hold more than {limit} bytes: stopped waiting for this one"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::anomaly::examples;

    fn s(b: &[u8], max: usize) -> Snippet {
        Snippet::of(b, max)
    }

    #[test]
    fn snippets_escape_what_is_not_printable() {
        assert_eq!(s(b"GET / HTTP/1.1", 80).to_string(), "GET / HTTP/1.1");
        assert_eq!(
            s(b"a\r\n\tb\x00\xff", 80).to_string(),
            "a\\r\\n\\tb\\x00\\xff"
        );
        assert_eq!(s(b"abcdef", 3).to_string(), "abc…");
        assert_eq!(s(b"abc", 3).to_string(), "abc");
        assert_eq!(s(b"", 3).to_string(), "");
    }

    /// The sentence of every variant, exactly (the texts the dissector
    /// wrote before the anomalies were typed).
    #[test]
    fn every_anomaly_reads_as_before() {
        use HttpAnomaly as A;
        use MessageKind::{Request, Response};
        let cases: Vec<(HttpAnomaly, &str)> = vec![
            (
                A::MalformedRequestLine {
                    line: s(b"OPTIONS HTTP/1.1", 80),
                },
                "malformed request line: `OPTIONS HTTP/1.1`",
            ),
            (
                A::MalformedStatusLine {
                    line: s(b"HTTP/1.1 2x0 OK\x01", 80),
                },
                "malformed status line: `HTTP/1.1 2x0 OK\\x01`",
            ),
            (
                A::MalformedHeaderLines {
                    first: s(b"broken", 60),
                    count: 1,
                },
                "malformed header line: `broken`",
            ),
            (
                A::MalformedHeaderLines {
                    first: s(b"broken", 60),
                    count: 3,
                },
                "malformed header lines: `broken` and 2 more",
            ),
            (
                A::ParsedLeniently {
                    error: HeadSyntax::HeaderValue,
                },
                "not strictly valid (invalid header value); parsed leniently",
            ),
            (
                A::TooManyHeaderFields {
                    count: 301,
                    limit: 10,
                },
                "301 header fields, more than the limit of 10: kept the first 10",
            ),
            (
                A::InvalidContentLength {
                    value: s(b"12a", 40),
                },
                "invalid Content-Length: `12a`",
            ),
            (
                A::ConflictingContentLength,
                "conflicting Content-Length fields",
            ),
            (
                A::TransferEncodingAndContentLength,
                "both Transfer-Encoding and Content-Length: Transfer-Encoding wins",
            ),
            (
                A::RequestTransferEncodingNotChunked {
                    value: "gzip".into(),
                },
                "request Transfer-Encoding `gzip` does not end in chunked: body read until close",
            ),
            (
                A::HeadTooLarge {
                    side: Response,
                    bytes: 1024,
                },
                "response head longer than 1024 bytes (the limit): skipped, looking for the next message",
            ),
            (
                A::NotHttpSkipped {
                    dir: Direction::ToServer,
                    bytes: 12,
                    sample: Some(s(b"hello there", 40)),
                },
                "12 bytes (client→server) were not HTTP and were skipped: `hello there`",
            ),
            (
                A::NotHttpSkipped {
                    dir: Direction::ToClient,
                    bytes: 7,
                    sample: None,
                },
                "7 bytes (server→client) were not HTTP and were skipped",
            ),
            (
                A::NotHttpMessage {
                    dir: Direction::ToClient,
                    line: s(b"\x16\x03\x01", 60),
                },
                "not an HTTP message (server→client): `\\x16\\x03\\x01`",
            ),
            (
                A::CaptureGap {
                    side: Request,
                    missing: 100,
                },
                "capture gap of 100 bytes before a request: looking for the next message",
            ),
            (
                A::HeadCutByGap {
                    side: Response,
                    missing: 5,
                },
                "response head cut by a capture gap of 5 bytes: looking for the next message",
            ),
            (
                A::IncompleteHead {
                    side: Request,
                    bytes: 9,
                    line: s(b"GET / HTT", 60),
                },
                "incomplete request head at end of stream (9 bytes): `GET / HTT`",
            ),
            (
                A::IncompleteHead {
                    side: Response,
                    bytes: 12,
                    line: s(b"HTTP/1.1 200", 60),
                },
                "incomplete response head at end of stream (12 bytes): `HTTP/1.1 200`",
            ),
            (
                A::HeadTooLarge {
                    side: Request,
                    bytes: 65536,
                },
                "request head longer than 65536 bytes (the limit): skipped, looking for the next message",
            ),
            (
                A::CaptureGap {
                    side: Response,
                    missing: 7,
                },
                "capture gap of 7 bytes before a response: looking for the next message",
            ),
            (
                A::HeadCutByGap {
                    side: Request,
                    missing: 5,
                },
                "request head cut by a capture gap of 5 bytes: looking for the next message",
            ),
            (
                A::BodyBytesMissing {
                    side: Request,
                    missing: 10,
                },
                "request body: 10 bytes missing (capture gap)",
            ),
            (
                A::BodyFramingBroken {
                    side: Response,
                    error: FramingError::InvalidChunkSize { byte: 0x7a },
                },
                "response body framing broken: invalid chunk size (byte 0x7a)",
            ),
            (
                A::BodyFramingBroken {
                    side: Request,
                    error: FramingError::GapInChunkFraming { missing: 10 },
                },
                "request body framing broken: capture gap of 10 bytes in chunk framing",
            ),
            (
                A::BodyBytesMissing {
                    side: Response,
                    missing: 1448,
                },
                "response body: 1448 bytes missing (capture gap)",
            ),
            (
                A::Truncated {
                    side: Response,
                    body_bytes: 812,
                    expected: Some(1000),
                },
                "response truncated: 812 of 1000 body bytes",
            ),
            (
                A::Truncated {
                    side: Request,
                    body_bytes: 3,
                    expected: None,
                },
                "request truncated: body ended after 3 bytes",
            ),
            (
                A::DecodedSizeLimit {
                    coding: Some(ContentCoding::Gzip),
                    limit: 4096,
                },
                "gzip content decodes to more than 4096 bytes: stopped decoding",
            ),
            (
                A::ContentDecodeFailed {
                    coding: Some(ContentCoding::Deflate),
                    error: "corrupt deflate stream".into(),
                },
                "deflate content could not be decoded: corrupt deflate stream",
            ),
            (
                A::ContentTooShort {
                    coding: Some(ContentCoding::Deflate),
                },
                "deflate content could not be decoded: body too short",
            ),
            (
                A::ContentNotDecoded {
                    coding: Some(ContentCoding::Gzip),
                },
                "content not decoded: body bytes are missing",
            ),
            (
                A::ResponseWithoutRequest {
                    client_skipped: 0,
                    sample: None,
                },
                "response without a request",
            ),
            (
                A::ResponseWithoutRequest {
                    client_skipped: 4,
                    sample: Some(s(b"\x00\x01ab", 40)),
                },
                "response without a request (the client sent 4 bytes that are not HTTP: `\\x00\\x01ab`)",
            ),
            (
                A::ResponseWithoutRequest {
                    client_skipped: 4,
                    sample: None,
                },
                "response without a request (the client sent 4 bytes that are not HTTP)",
            ),
            (
                A::InterimWithoutRequest {
                    status: 100,
                    reason: "Continue".into(),
                },
                "interim response 100 Continue without a request",
            ),
            (
                A::RequestWithoutResponse { switched: false },
                "request without response",
            ),
            (
                A::RequestWithoutResponse { switched: true },
                "request without response (connection switched protocols)",
            ),
            (A::ResponseLostInGap, "response lost in a capture gap"),
            (
                A::RequestBodyNotSent { status: 417 },
                "request body not sent: the server answered 417 instead of 100 Continue",
            ),
            (
                A::ProtocolSwitched {
                    to: Some("websocket".into()),
                },
                "101 Switching Protocols to websocket: HTTP parsing stopped on this connection",
            ),
            (
                A::ProtocolSwitched { to: None },
                "101 Switching Protocols to another protocol: HTTP parsing stopped on this connection",
            ),
            (
                A::ConnectTunnel,
                "CONNECT tunnel established: HTTP parsing stopped on this connection",
            ),
            (
                A::PendingLimit { limit: 50 },
                "more than 50 requests awaiting a response: stopped waiting for this one",
            ),
            (
                A::PendingBytesLimit { limit: 8192 },
                "unanswered HTTP requests hold more than 8192 bytes: stopped waiting for this one",
            ),
        ];
        for (a, text) in &cases {
            assert_eq!(a.to_string(), *text, "{a:?}");
            let mut via_write = String::new();
            a.write_text(&mut via_write).unwrap();
            assert_eq!(via_write, *text);
        }
        // Every variant has at least one sentence above.
        for a in examples::http() {
            assert!(
                cases.iter().any(|(c, _)| c.code() == a.code()),
                "no sentence tested for {}",
                a.code()
            );
        }
    }

    #[test]
    fn every_framing_error_reads_as_before() {
        let texts = [
            "chunk size line too long",
            "chunk size too large",
            "invalid chunk size (byte 0x7a)",
            "chunk extension too long",
            "chunk data not followed by CRLF",
            "trailer section too large",
            "capture gap of 100 bytes in chunk framing",
        ];
        let all = examples::framing();
        assert_eq!(all.len(), texts.len());
        for (e, t) in all.iter().zip(texts) {
            assert_eq!(e.to_string(), t);
        }
    }

    #[test]
    fn httparse_words() {
        let cases = [
            (HeadSyntax::HeaderName, httparse::Error::HeaderName),
            (HeadSyntax::HeaderValue, httparse::Error::HeaderValue),
            (HeadSyntax::NewLine, httparse::Error::NewLine),
            (HeadSyntax::Status, httparse::Error::Status),
            (HeadSyntax::Token, httparse::Error::Token),
            (HeadSyntax::TooManyHeaders, httparse::Error::TooManyHeaders),
            (HeadSyntax::Version, httparse::Error::Version),
        ];
        for (ours, theirs) in cases {
            assert_eq!(ours.to_string(), theirs.to_string());
        }
    }
}
