//! What the HTTP dissector found wrong or worth knowing, as typed values:
//! one variant per kind of problem, its facts as fields, and a stable
//! snake_case [`HttpAnomaly::code`] a script can match. The sentences a
//! person reads are written by `describe::anomaly`, only when an output
//! shows them.

use super::flow::Direction;
use super::http::Text;

/// Which message of an exchange a fact is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    Request,
    Response,
}

impl MessageKind {
    /// One of two codes, by the message the fact is about: a script matches
    /// `response_truncated`, not a code and a field.
    pub fn pick(self, request: &'static str, response: &'static str) -> &'static str {
        match self {
            MessageKind::Request => request,
            MessageKind::Response => response,
        }
    }

    /// Lower-case name, as codes and JSON write it.
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Request => "request",
            MessageKind::Response => "response",
        }
    }
}

/// The first bytes of an offending line or value, kept as data (a note
/// shows them escaped). At most the length asked for is kept; `cut` says
/// there was more.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snippet {
    bytes: Vec<u8>,
    cut: bool,
}

impl Snippet {
    /// The first `max` bytes of `bytes`.
    pub fn of(bytes: &[u8], max: usize) -> Self {
        Self {
            bytes: bytes.get(..max).unwrap_or(bytes).to_vec(),
            cut: bytes.len() > max,
        }
    }

    /// The bytes kept.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The original was longer than what is kept.
    pub fn is_cut(&self) -> bool {
        self.cut
    }
}

/// A content coding netpeek undoes to learn a body's decoded size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentCoding {
    Gzip,
    Deflate,
}

impl ContentCoding {
    /// The coding's token, as Content-Encoding names it.
    pub fn name(self) -> &'static str {
        match self {
            ContentCoding::Gzip => "gzip",
            ContentCoding::Deflate => "deflate",
        }
    }
}

/// Why a strict parse of a head failed (httparse's error kinds), when the
/// lenient parser still read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeadSyntax {
    HeaderName,
    HeaderValue,
    NewLine,
    Status,
    Token,
    TooManyHeaders,
    Version,
}

/// How a body's framing broke (chunked transfer coding, or a gap in it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FramingError {
    /// More hex digits than any size needs.
    ChunkSizeLineTooLong,
    /// The chunk size does not fit 64 bits.
    ChunkSizeTooLarge,
    /// A byte that cannot be part of a chunk-size line.
    InvalidChunkSize {
        byte: u8,
    },
    ChunkExtensionTooLong,
    ChunkDataWithoutCrlf,
    TrailerTooLarge,
    /// Bytes lost in a capture gap where chunk framing was expected.
    GapInChunkFraming {
        missing: u64,
    },
}

impl FramingError {
    /// Stable snake_case code of the cause.
    pub fn code(&self) -> &'static str {
        match self {
            FramingError::ChunkSizeLineTooLong => "chunk_size_line_too_long",
            FramingError::ChunkSizeTooLarge => "chunk_size_too_large",
            FramingError::InvalidChunkSize { .. } => "invalid_chunk_size",
            FramingError::ChunkExtensionTooLong => "chunk_extension_too_long",
            FramingError::ChunkDataWithoutCrlf => "chunk_data_without_crlf",
            FramingError::TrailerTooLarge => "trailer_too_large",
            FramingError::GapInChunkFraming { .. } => "capture_gap_in_chunk_framing",
        }
    }
}

/// Something the HTTP dissector found wrong or worth knowing about an
/// exchange or a connection. `side` names the message a fact is about;
/// `dir` a direction of the connection (`ToServer`: the direction that
/// carries requests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpAnomaly {
    /// A request line that is not `method SP target SP version` (the
    /// message was still read when its method was a token).
    MalformedRequestLine {
        line: Snippet,
    },
    /// A status line that is not `HTTP/d.d ddd …`: the head is dropped.
    MalformedStatusLine {
        line: Snippet,
    },
    /// Header lines without a colon; `first` is the first of `count`.
    MalformedHeaderLines {
        first: Snippet,
        count: usize,
    },
    /// httparse rejected the head; the lenient parser read it.
    ParsedLeniently {
        error: HeadSyntax,
    },
    /// More header fields than kept; the first `limit` are.
    TooManyHeaderFields {
        count: usize,
        limit: usize,
    },
    InvalidContentLength {
        value: Snippet,
    },
    ConflictingContentLength,
    /// Both framings were given; Transfer-Encoding is used.
    TransferEncodingAndContentLength,
    /// A request Transfer-Encoding whose last coding is not chunked: the
    /// body is read until the connection closes.
    RequestTransferEncodingNotChunked {
        value: String,
    },
    /// A head grew past the limit (`bytes` gathered) and was skipped.
    HeadTooLarge {
        side: MessageKind,
        bytes: usize,
    },
    /// Bytes of a direction that were not HTTP were skipped before the
    /// next message (`sample`: the start of the first skipped line).
    NotHttpSkipped {
        dir: Direction,
        bytes: u64,
        sample: Option<Snippet>,
    },
    /// Where a message should start, the bytes are not HTTP.
    NotHttpMessage {
        dir: Direction,
        line: Snippet,
    },
    /// A capture gap where the next message would start.
    CaptureGap {
        side: MessageKind,
        missing: u64,
    },
    /// A capture gap cut a head being gathered.
    HeadCutByGap {
        side: MessageKind,
        missing: u64,
    },
    /// The stream ended inside a head (`bytes` of it seen).
    IncompleteHead {
        side: MessageKind,
        bytes: usize,
        line: Snippet,
    },
    BodyFramingBroken {
        side: MessageKind,
        error: FramingError,
    },
    /// Body bytes lost in capture gaps (the framing went on).
    BodyBytesMissing {
        side: MessageKind,
        missing: u64,
    },
    /// The message ended before its body did: `body_bytes` of `expected`
    /// (Content-Length) or of an unknown length.
    Truncated {
        side: MessageKind,
        body_bytes: u64,
        expected: Option<u64>,
    },
    /// Content decoding stopped at the decoded-size limit.
    DecodedSizeLimit {
        coding: Option<ContentCoding>,
        limit: u64,
    },
    /// The decoder rejected the content; `error` is its message.
    ContentDecodeFailed {
        coding: Option<ContentCoding>,
        error: String,
    },
    /// A deflate body too short to tell zlib from raw deflate.
    ContentTooShort {
        coding: Option<ContentCoding>,
    },
    /// Body bytes are missing, so the content was not decoded.
    ContentNotDecoded {
        coding: Option<ContentCoding>,
    },
    /// A response with no request to pair with; the client had sent
    /// `client_skipped` bytes that are not HTTP (`sample` their start).
    ResponseWithoutRequest {
        client_skipped: u64,
        sample: Option<Snippet>,
    },
    InterimWithoutRequest {
        status: u16,
        reason: Text,
    },
    /// The connection ended (`switched`: or switched protocols) before
    /// the request was answered.
    RequestWithoutResponse {
        switched: bool,
    },
    /// The response direction lost a whole response in a gap (the
    /// client's next request came after it).
    ResponseLostInGap,
    /// The client asked `Expect: 100-continue`, got a final `status`
    /// and did not send the body.
    RequestBodyNotSent {
        status: u16,
    },
    /// 101 Switching Protocols (`to`: the Upgrade named, if any).
    ProtocolSwitched {
        to: Option<String>,
    },
    /// A 2xx answer to CONNECT.
    ConnectTunnel,
    /// More than `limit` requests awaited a response on a connection.
    PendingLimit {
        limit: usize,
    },
    /// Unanswered requests held more than `limit` bytes in all.
    PendingBytesLimit {
        limit: usize,
    },
}

impl HttpAnomaly {
    /// Stable snake_case code: what a script matches (the text may
    /// change; the code does not).
    pub fn code(&self) -> &'static str {
        use HttpAnomaly as A;
        match self {
            A::MalformedRequestLine { .. } => "malformed_request_line",
            A::MalformedStatusLine { .. } => "malformed_status_line",
            A::MalformedHeaderLines { .. } => "malformed_header_lines",
            A::ParsedLeniently { .. } => "parsed_leniently",
            A::TooManyHeaderFields { .. } => "too_many_header_fields",
            A::InvalidContentLength { .. } => "invalid_content_length",
            A::ConflictingContentLength => "conflicting_content_length",
            A::TransferEncodingAndContentLength => "transfer_encoding_and_content_length",
            A::RequestTransferEncodingNotChunked { .. } => "request_transfer_encoding_not_chunked",
            A::HeadTooLarge { side, .. } => {
                side.pick("request_head_too_large", "response_head_too_large")
            }
            A::NotHttpSkipped { .. } => "not_http_skipped",
            A::NotHttpMessage { .. } => "not_http_message",
            A::CaptureGap { side, .. } => {
                side.pick("capture_gap_before_request", "capture_gap_before_response")
            }
            A::HeadCutByGap { side, .. } => {
                side.pick("request_head_cut_by_gap", "response_head_cut_by_gap")
            }
            A::IncompleteHead { side, .. } => {
                side.pick("incomplete_request_head", "incomplete_response_head")
            }
            A::BodyFramingBroken { side, .. } => side.pick(
                "request_body_framing_broken",
                "response_body_framing_broken",
            ),
            A::BodyBytesMissing { side, .. } => {
                side.pick("request_body_bytes_missing", "response_body_bytes_missing")
            }
            A::Truncated { side, .. } => side.pick("request_truncated", "response_truncated"),
            A::DecodedSizeLimit { .. } => "decoded_size_limit",
            A::ContentDecodeFailed { .. } => "content_decode_failed",
            A::ContentTooShort { .. } => "content_too_short",
            A::ContentNotDecoded { .. } => "content_not_decoded",
            A::ResponseWithoutRequest { .. } => "response_without_request",
            A::InterimWithoutRequest { .. } => "interim_without_request",
            A::RequestWithoutResponse { .. } => "request_without_response",
            A::ResponseLostInGap => "response_lost_in_gap",
            A::RequestBodyNotSent { .. } => "request_body_not_sent",
            A::ProtocolSwitched { .. } => "protocol_switched",
            A::ConnectTunnel => "connect_tunnel",
            A::PendingLimit { .. } => "pending_limit",
            A::PendingBytesLimit { .. } => "pending_bytes_limit",
        }
    }

    /// Bytes the value holds on the heap (for the dissector's memory
    /// estimate of unanswered exchanges).
    pub fn heap_bytes(&self) -> usize {
        use HttpAnomaly as A;
        match self {
            A::MalformedRequestLine { line }
            | A::MalformedStatusLine { line }
            | A::NotHttpMessage { line, .. }
            | A::IncompleteHead { line, .. } => line.bytes.capacity(),
            A::MalformedHeaderLines { first, .. } => first.bytes.capacity(),
            A::InvalidContentLength { value } => value.bytes.capacity(),
            A::NotHttpSkipped { sample, .. } | A::ResponseWithoutRequest { sample, .. } => {
                sample.as_ref().map_or(0, |s| s.bytes.capacity())
            }
            A::RequestTransferEncodingNotChunked { value } => value.capacity(),
            A::ContentDecodeFailed { error, .. } => error.capacity(),
            A::ProtocolSwitched { to } => to.as_ref().map_or(0, String::capacity),
            A::InterimWithoutRequest { reason, .. } => match reason {
                std::borrow::Cow::Owned(s) => s.capacity(),
                std::borrow::Cow::Borrowed(_) => 0,
            },
            _ => 0,
        }
    }
}

/// One value of every variant (tests: codes, texts, documentation).
#[cfg(test)]
pub(crate) mod examples {
    use super::*;

    /// Every [`HttpAnomaly`] variant once. The match below has no
    /// wildcard: a new variant does not compile until it is listed here.
    pub fn http() -> Vec<HttpAnomaly> {
        use HttpAnomaly as A;
        let s = |b: &[u8]| Snippet::of(b, 80);
        let all = vec![
            A::MalformedRequestLine {
                line: s(b"GET /a b c"),
            },
            A::MalformedStatusLine {
                line: s(b"HTTP/1.1 abc"),
            },
            A::MalformedHeaderLines {
                first: s(b"broken"),
                count: 1,
            },
            A::ParsedLeniently {
                error: HeadSyntax::HeaderName,
            },
            A::TooManyHeaderFields {
                count: 301,
                limit: 10,
            },
            A::InvalidContentLength { value: s(b"12a") },
            A::ConflictingContentLength,
            A::TransferEncodingAndContentLength,
            A::RequestTransferEncodingNotChunked {
                value: "gzip".into(),
            },
            A::HeadTooLarge {
                side: MessageKind::Request,
                bytes: 65536,
            },
            A::NotHttpSkipped {
                dir: Direction::ToClient,
                bytes: 10,
                sample: Some(s(b"garbage")),
            },
            A::NotHttpMessage {
                dir: Direction::ToServer,
                line: s(b"hello"),
            },
            A::CaptureGap {
                side: MessageKind::Response,
                missing: 100,
            },
            A::HeadCutByGap {
                side: MessageKind::Request,
                missing: 100,
            },
            A::IncompleteHead {
                side: MessageKind::Request,
                bytes: 9,
                line: s(b"GET / HTT"),
            },
            A::BodyFramingBroken {
                side: MessageKind::Response,
                error: FramingError::InvalidChunkSize { byte: b'z' },
            },
            A::BodyBytesMissing {
                side: MessageKind::Response,
                missing: 1448,
            },
            A::Truncated {
                side: MessageKind::Response,
                body_bytes: 812,
                expected: Some(1000),
            },
            A::DecodedSizeLimit {
                coding: Some(ContentCoding::Gzip),
                limit: 4096,
            },
            A::ContentDecodeFailed {
                coding: Some(ContentCoding::Gzip),
                error: "invalid gzip header".into(),
            },
            A::ContentTooShort {
                coding: Some(ContentCoding::Deflate),
            },
            A::ContentNotDecoded {
                coding: Some(ContentCoding::Gzip),
            },
            A::ResponseWithoutRequest {
                client_skipped: 0,
                sample: None,
            },
            A::InterimWithoutRequest {
                status: 100,
                reason: "Continue".into(),
            },
            A::RequestWithoutResponse { switched: false },
            A::ResponseLostInGap,
            A::RequestBodyNotSent { status: 417 },
            A::ProtocolSwitched {
                to: Some("websocket".into()),
            },
            A::ConnectTunnel,
            A::PendingLimit { limit: 1024 },
            A::PendingBytesLimit { limit: 8192 },
        ];
        for a in &all {
            match a {
                A::MalformedRequestLine { .. }
                | A::MalformedStatusLine { .. }
                | A::MalformedHeaderLines { .. }
                | A::ParsedLeniently { .. }
                | A::TooManyHeaderFields { .. }
                | A::InvalidContentLength { .. }
                | A::ConflictingContentLength
                | A::TransferEncodingAndContentLength
                | A::RequestTransferEncodingNotChunked { .. }
                | A::HeadTooLarge { .. }
                | A::NotHttpSkipped { .. }
                | A::NotHttpMessage { .. }
                | A::CaptureGap { .. }
                | A::HeadCutByGap { .. }
                | A::IncompleteHead { .. }
                | A::BodyFramingBroken { .. }
                | A::BodyBytesMissing { .. }
                | A::Truncated { .. }
                | A::DecodedSizeLimit { .. }
                | A::ContentDecodeFailed { .. }
                | A::ContentTooShort { .. }
                | A::ContentNotDecoded { .. }
                | A::ResponseWithoutRequest { .. }
                | A::InterimWithoutRequest { .. }
                | A::RequestWithoutResponse { .. }
                | A::ResponseLostInGap
                | A::RequestBodyNotSent { .. }
                | A::ProtocolSwitched { .. }
                | A::ConnectTunnel
                | A::PendingLimit { .. }
                | A::PendingBytesLimit { .. } => {}
            }
        }
        // Codes name the side: each side-bearing anomaly once per side.
        let mut twins = Vec::new();
        for a in &all {
            let mut t = a.clone();
            let side = match &mut t {
                A::HeadTooLarge { side, .. }
                | A::CaptureGap { side, .. }
                | A::HeadCutByGap { side, .. }
                | A::IncompleteHead { side, .. }
                | A::BodyFramingBroken { side, .. }
                | A::BodyBytesMissing { side, .. }
                | A::Truncated { side, .. } => side,
                _ => continue,
            };
            *side = match side {
                MessageKind::Request => MessageKind::Response,
                MessageKind::Response => MessageKind::Request,
            };
            twins.push(t);
        }
        let mut all = all;
        for t in twins {
            let at = all
                .iter()
                .position(|a| std::mem::discriminant(a) == std::mem::discriminant(&t));
            all.insert(at.map_or(all.len(), |i| i + 1), t);
        }
        all
    }

    /// Every [`FramingError`] variant once (no wildcard, as above).
    pub fn framing() -> Vec<FramingError> {
        use FramingError as F;
        let all = vec![
            F::ChunkSizeLineTooLong,
            F::ChunkSizeTooLarge,
            F::InvalidChunkSize { byte: 0x7a },
            F::ChunkExtensionTooLong,
            F::ChunkDataWithoutCrlf,
            F::TrailerTooLarge,
            F::GapInChunkFraming { missing: 100 },
        ];
        for f in &all {
            match f {
                F::ChunkSizeLineTooLong
                | F::ChunkSizeTooLarge
                | F::InvalidChunkSize { .. }
                | F::ChunkExtensionTooLong
                | F::ChunkDataWithoutCrlf
                | F::TrailerTooLarge
                | F::GapInChunkFraming { .. } => {}
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_keep_a_bounded_prefix() {
        let s = Snippet::of(b"GET / HTTP/1.1", 5);
        assert_eq!(s.bytes(), b"GET /");
        assert!(s.is_cut());
        let s = Snippet::of(b"GET", 5);
        assert_eq!(s.bytes(), b"GET");
        assert!(!s.is_cut());
        assert!(!Snippet::of(b"abcde", 5).is_cut());
    }

    #[test]
    fn every_variant_has_its_own_code() {
        let all = examples::http();
        let mut codes: Vec<&str> = all.iter().map(HttpAnomaly::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len(), "two variants share a code");
        let f = examples::framing();
        let mut codes: Vec<&str> = f.iter().map(FramingError::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), f.len());
    }
}
