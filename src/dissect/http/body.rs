//! Message bodies (RFC 9112 §6): how long a body is on the wire, the
//! de-chunked payload, and its content decoding.
//!
//! [`BodyReader`] frames a body from the stream, split anywhere: a fixed
//! Content-Length, chunked transfer coding (sizes, extensions, trailers) or
//! "until the connection closes". It never holds the body: the de-chunked
//! payload is handed to a callback piece by piece. [`BodySink`] is that
//! callback's usual target: it counts the payload, keeps a bounded prefix
//! for display, and streams gzip/deflate content through flate2 to learn the
//! decoded size (keeping a bounded prefix of the decoded text too).

use std::io::{self, Write};

use flate2::write::{DeflateDecoder, GzDecoder, ZlibDecoder};

use crate::event::{ContentCoding, FramingError, HttpAnomaly};

/// How a message's body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body (HEAD responses, 1xx, 204, 304, requests without length).
    None,
    Length(u64),
    Chunked,
    /// Until the sender closes the connection (responses only).
    UntilClose,
}

/// Where a chunked body stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chunk {
    /// Reading the hex size.
    Size {
        value: u64,
        digits: u32,
    },
    /// After the size: blanks and extensions up to the line end.
    Ext {
        value: u64,
        len: usize,
    },
    Data {
        left: u64,
    },
    /// Expecting the CRLF after a chunk's data.
    DataCr,
    DataLf,
    /// After the last chunk: trailer fields up to an empty line.
    Trailer {
        line_nonempty: bool,
    },
    Done,
}

/// Longest chunk-size line (extensions included) accepted.
const MAX_CHUNK_LINE: usize = 4096;
/// Most hex digits (leading zeros included) in a chunk size.
const MAX_SIZE_DIGITS: u32 = 64;
/// Largest trailer section kept and accepted.
const MAX_TRAILER: usize = 16 * 1024;

/// The result of feeding bytes to a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Every byte belonged to the body and it goes on.
    More,
    /// The body ended after this many bytes of the input.
    Done(usize),
    /// The framing is broken after this many bytes of the input.
    Error(usize, FramingError),
}

/// What a gap in the stream does to a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapOutcome {
    /// The missing bytes lie inside the body; framing continues after them.
    Absorbed,
    /// The body ended inside the gap; `leftover` missing bytes follow it.
    Ended { leftover: u64 },
    /// Framing cannot continue (the gap hit chunk framing).
    Lost,
}

/// Frames one body from a byte stream.
#[derive(Clone, Debug)]
pub struct BodyReader {
    framing: Framing,
    remaining: u64,
    chunk: Chunk,
    /// Bytes of the stream that belonged to the body (chunk framing and
    /// trailers included).
    pub wire: u64,
    /// Payload bytes received (de-chunked).
    pub payload: u64,
    /// Payload bytes lost in capture gaps.
    pub missing: u64,
    trailer: Vec<u8>,
    done: bool,
}

fn hex(b: u8) -> Option<u64> {
    match b {
        b'0'..=b'9' => Some(u64::from(b - b'0')),
        b'a'..=b'f' => Some(u64::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u64::from(b - b'A' + 10)),
        _ => None,
    }
}

impl BodyReader {
    pub fn new(framing: Framing) -> Self {
        Self {
            framing,
            remaining: match framing {
                Framing::Length(n) => n,
                _ => 0,
            },
            chunk: Chunk::Size {
                value: 0,
                digits: 0,
            },
            wire: 0,
            payload: 0,
            missing: 0,
            trailer: Vec::new(),
            done: matches!(framing, Framing::None | Framing::Length(0)),
        }
    }

    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// The body is complete.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The announced length (Content-Length), if any.
    pub fn expected(&self) -> Option<u64> {
        match self.framing {
            Framing::Length(n) => Some(n),
            _ => None,
        }
    }

    /// The raw trailer section of a chunked body (up to its limit).
    pub fn trailer_bytes(&self) -> &[u8] {
        &self.trailer
    }

    /// Feeds stream bytes; `out` receives the payload (de-chunked).
    pub fn feed(&mut self, input: &[u8], out: &mut dyn FnMut(&[u8])) -> Step {
        if self.done {
            return Step::Done(0);
        }
        match self.framing {
            Framing::None => {
                self.done = true;
                Step::Done(0)
            }
            Framing::UntilClose => {
                self.wire += input.len() as u64;
                self.payload += input.len() as u64;
                if !input.is_empty() {
                    out(input);
                }
                Step::More
            }
            Framing::Length(_) => {
                let n = usize::try_from(self.remaining)
                    .unwrap_or(usize::MAX)
                    .min(input.len());
                let piece = input.get(..n).unwrap_or_default();
                if !piece.is_empty() {
                    out(piece);
                }
                self.remaining -= n as u64;
                self.wire += n as u64;
                self.payload += n as u64;
                if self.remaining == 0 {
                    self.done = true;
                    Step::Done(n)
                } else {
                    Step::More
                }
            }
            Framing::Chunked => self.feed_chunked(input, out),
        }
    }

    fn feed_chunked(&mut self, input: &[u8], out: &mut dyn FnMut(&[u8])) -> Step {
        let mut i = 0usize;
        while i < input.len() {
            if let Chunk::Data { left } = self.chunk {
                let n = usize::try_from(left)
                    .unwrap_or(usize::MAX)
                    .min(input.len() - i);
                let piece = input.get(i..i + n).unwrap_or_default();
                if !piece.is_empty() {
                    out(piece);
                }
                self.payload += n as u64;
                i += n;
                let left = left - n as u64;
                self.chunk = if left == 0 {
                    Chunk::DataCr
                } else {
                    Chunk::Data { left }
                };
                continue;
            }
            let Some(&b) = input.get(i) else { break };
            i += 1;
            let err = |msg: FramingError, i: usize, me: &mut Self| {
                me.wire += i as u64;
                Step::Error(i, msg)
            };
            self.chunk = match self.chunk {
                Chunk::Size { value, digits } => match (hex(b), b) {
                    (Some(_), _) if digits >= MAX_SIZE_DIGITS => {
                        return err(FramingError::ChunkSizeLineTooLong, i, self)
                    }
                    (Some(d), _) => match value.checked_mul(16).and_then(|v| v.checked_add(d)) {
                        Some(v) => Chunk::Size {
                            value: v,
                            digits: digits + 1,
                        },
                        None => return err(FramingError::ChunkSizeTooLarge, i, self),
                    },
                    (None, b';' | b' ' | b'\t' | b'\r') if digits > 0 => {
                        Chunk::Ext { value, len: 0 }
                    }
                    (None, b'\n') if digits > 0 => self.size_done(value),
                    (None, _) => return err(FramingError::InvalidChunkSize { byte: b }, i, self),
                },
                Chunk::Ext { value, len } => {
                    if b == b'\n' {
                        self.size_done(value)
                    } else if len >= MAX_CHUNK_LINE {
                        return err(FramingError::ChunkExtensionTooLong, i, self);
                    } else {
                        Chunk::Ext {
                            value,
                            len: len + 1,
                        }
                    }
                }
                Chunk::Data { .. } => {
                    // Handled at the top of the loop; look at the byte again.
                    i -= 1;
                    continue;
                }
                Chunk::DataCr => match b {
                    b'\r' => Chunk::DataLf,
                    b'\n' => Chunk::Size {
                        value: 0,
                        digits: 0,
                    },
                    _ => return err(FramingError::ChunkDataWithoutCrlf, i, self),
                },
                Chunk::DataLf => match b {
                    b'\n' => Chunk::Size {
                        value: 0,
                        digits: 0,
                    },
                    _ => return err(FramingError::ChunkDataWithoutCrlf, i, self),
                },
                Chunk::Trailer { line_nonempty } => {
                    if self.trailer.len() >= MAX_TRAILER {
                        return err(FramingError::TrailerTooLarge, i, self);
                    }
                    self.trailer.push(b);
                    match b {
                        b'\n' if !line_nonempty => {
                            self.wire += i as u64;
                            self.chunk = Chunk::Done;
                            self.done = true;
                            return Step::Done(i);
                        }
                        b'\n' => Chunk::Trailer {
                            line_nonempty: false,
                        },
                        b'\r' => Chunk::Trailer { line_nonempty },
                        _ => Chunk::Trailer {
                            line_nonempty: true,
                        },
                    }
                }
                Chunk::Done => {
                    self.wire += (i - 1) as u64;
                    return Step::Done(i - 1);
                }
            };
        }
        self.wire += input.len() as u64;
        Step::More
    }

    fn size_done(&mut self, value: u64) -> Chunk {
        if value == 0 {
            Chunk::Trailer {
                line_nonempty: false,
            }
        } else {
            Chunk::Data { left: value }
        }
    }

    /// `n` bytes of the stream are missing at the current position.
    pub fn gap(&mut self, n: u64) -> GapOutcome {
        if self.done {
            return GapOutcome::Ended { leftover: n };
        }
        match self.framing {
            Framing::None => GapOutcome::Ended { leftover: n },
            Framing::UntilClose => {
                self.missing += n;
                self.wire += n;
                GapOutcome::Absorbed
            }
            Framing::Length(_) => {
                if n < self.remaining {
                    self.remaining -= n;
                    self.missing += n;
                    self.wire += n;
                    GapOutcome::Absorbed
                } else {
                    let leftover = n - self.remaining;
                    self.missing += self.remaining;
                    self.wire += self.remaining;
                    self.remaining = 0;
                    self.done = true;
                    GapOutcome::Ended { leftover }
                }
            }
            Framing::Chunked => match self.chunk {
                Chunk::Data { left } if n <= left => {
                    self.missing += n;
                    self.wire += n;
                    let left = left - n;
                    self.chunk = if left == 0 {
                        Chunk::DataCr
                    } else {
                        Chunk::Data { left }
                    };
                    GapOutcome::Absorbed
                }
                _ => GapOutcome::Lost,
            },
        }
    }

    /// The stream ended: is the body complete?
    pub fn end_of_stream(&mut self) -> bool {
        if self.framing == Framing::UntilClose {
            self.done = true;
        }
        self.done
    }

    /// Payload bytes the framing accounts for (received + missing).
    pub fn size(&self) -> u64 {
        self.payload + self.missing
    }
}

/// A content coding netpeek can decode.
pub type Coding = ContentCoding;

/// The coding named by a Content-Encoding value (one coding only).
pub fn coding_of(v: &str) -> Option<Coding> {
    match v.trim().to_ascii_lowercase().as_str() {
        "gzip" | "x-gzip" => Some(Coding::Gzip),
        "deflate" => Some(Coding::Deflate),
        _ => None,
    }
}

/// The errors [`Keep`] and a too short deflate body raise inside the
/// decoders, told apart from the decoders' own when the body ends.
const SIZE_LIMIT: &str = "decoded size limit reached";
const TOO_SHORT: &str = "body too short";

/// Counts decoded bytes and keeps the first `keep` of them.
#[derive(Debug)]
struct Keep {
    n: u64,
    kept: Vec<u8>,
    keep: usize,
    cap: u64,
}

impl Write for Keep {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.n += buf.len() as u64;
        if self.kept.len() < self.keep {
            let room = self.keep - self.kept.len();
            self.kept
                .extend_from_slice(buf.get(..room.min(buf.len())).unwrap_or_default());
        }
        if self.n > self.cap {
            return Err(io::Error::other(SIZE_LIMIT));
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum Decoder {
    /// Deflate: waiting for two bytes to tell zlib from raw deflate.
    Sniff(Vec<u8>),
    Gzip(GzDecoder<Keep>),
    Zlib(ZlibDecoder<Keep>),
    Raw(DeflateDecoder<Keep>),
    Failed,
}

/// What a [`BodySink`] learned, once the body ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BodyResult {
    /// Size after content decoding (gzip/deflate), when it succeeded.
    pub decoded_bytes: Option<u64>,
    /// The bytes kept for display: decoded when decoding worked, else as
    /// received (de-chunked). Empty unless keeping was asked for.
    pub shown: Vec<u8>,
    /// `shown` is decoded content.
    pub shown_decoded: bool,
    /// More bytes exist than `shown` holds.
    pub shown_truncated: bool,
    /// Why decoding failed or stopped.
    pub note: Option<HttpAnomaly>,
}

/// Receives a body's payload: keeps a bounded prefix, decodes content.
pub struct BodySink {
    keep: usize,
    raw: Vec<u8>,
    raw_total: u64,
    coding: Option<Coding>,
    /// Boxed: most bodies have no content coding, and the sink moves with
    /// the message being read.
    dec: Option<Box<Decoder>>,
    failed: Option<HttpAnomaly>,
    gap: bool,
    max_decoded: u64,
}

impl BodySink {
    /// `keep`: bytes kept for display (0: none); `coding`: the
    /// Content-Encoding to undo; `max_decoded`: stop decoding beyond this
    /// many decoded bytes (a compression bomb costs no more).
    pub fn new(keep: usize, coding: Option<Coding>, max_decoded: u64) -> Self {
        let keep_dec = |k: usize| Keep {
            n: 0,
            kept: Vec::new(),
            keep: k,
            cap: max_decoded,
        };
        let dec = coding.map(|c| {
            Box::new(match c {
                Coding::Gzip => Decoder::Gzip(GzDecoder::new(keep_dec(keep))),
                Coding::Deflate => Decoder::Sniff(Vec::new()),
            })
        });
        Self {
            keep,
            raw: Vec::new(),
            raw_total: 0,
            coding,
            dec,
            failed: None,
            gap: false,
            max_decoded,
        }
    }

    pub fn data(&mut self, bytes: &[u8]) {
        self.raw_total += bytes.len() as u64;
        if self.raw.len() < self.keep {
            let room = self.keep - self.raw.len();
            self.raw
                .extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or_default());
        }
        if self.gap {
            return;
        }
        let keep = Keep {
            n: 0,
            kept: Vec::new(),
            keep: self.keep,
            cap: self.max_decoded,
        };
        let Some(dec) = self.dec.as_mut() else {
            return;
        };
        let res = match &mut **dec {
            Decoder::Sniff(first) => {
                first.extend_from_slice(bytes);
                if first.len() < 2 {
                    return;
                }
                let combined = std::mem::take(first);
                let (b0, b1) = (
                    combined.first().copied().unwrap_or(0),
                    combined.get(1).copied().unwrap_or(0),
                );
                // RFC 1950: CM = 8 and the header is a multiple of 31.
                let zlib = b0 & 0x0f == 8 && (u16::from(b0) << 8 | u16::from(b1)) % 31 == 0;
                let mut d = if zlib {
                    Decoder::Zlib(ZlibDecoder::new(keep))
                } else {
                    Decoder::Raw(DeflateDecoder::new(keep))
                };
                let r = write_dec(&mut d, &combined);
                **dec = d;
                r
            }
            d => write_dec(d, bytes),
        };
        if let Err(e) = res {
            self.fail(e);
        }
    }

    fn fail(&mut self, e: io::Error) {
        let coding = self.coding;
        if self.failed.is_none() {
            let msg = e.to_string();
            self.failed = Some(if msg.contains(SIZE_LIMIT) {
                HttpAnomaly::DecodedSizeLimit {
                    coding,
                    limit: self.max_decoded,
                }
            } else if msg == TOO_SHORT {
                HttpAnomaly::ContentTooShort { coding }
            } else {
                HttpAnomaly::ContentDecodeFailed { coding, error: msg }
            });
        }
        self.dec = Some(Box::new(Decoder::Failed));
    }

    /// Bytes are missing from the body: decoding cannot go on.
    pub fn gap(&mut self) {
        self.gap = true;
    }

    /// The body ended (`complete`: all of it was seen).
    pub fn finish(mut self, complete: bool) -> BodyResult {
        if self.keep == 0 && self.coding.is_none() {
            // Nothing kept and nothing to decode: only the counts mattered.
            return BodyResult {
                note: self.failed,
                ..BodyResult::default()
            };
        }
        let mut decoded = None;
        let mut shown_dec = None;
        if complete && !self.gap {
            let dec = self.dec.take().map(|d| *d);
            let fin = match dec {
                Some(Decoder::Gzip(d)) => Some(d.finish()),
                Some(Decoder::Zlib(d)) => Some(d.finish()),
                Some(Decoder::Raw(d)) => Some(d.finish()),
                Some(Decoder::Sniff(first)) if first.is_empty() => Some(Ok(Keep {
                    n: 0,
                    kept: Vec::new(),
                    keep: 0,
                    cap: 0,
                })),
                Some(Decoder::Sniff(_)) => Some(Err(io::Error::other(TOO_SHORT))),
                Some(Decoder::Failed) | None => None,
            };
            match fin {
                Some(Ok(k)) => {
                    decoded = Some(k.n);
                    shown_dec = Some(k);
                }
                Some(Err(e)) => self.fail(e),
                None => {}
            }
        } else if self.gap && self.coding.is_some() && self.failed.is_none() {
            self.failed = Some(HttpAnomaly::ContentNotDecoded {
                coding: self.coding,
            });
        }
        let (shown, shown_decoded, shown_truncated) = match shown_dec {
            Some(k) if self.keep > 0 => {
                let trunc = k.n > k.kept.len() as u64;
                (k.kept, true, trunc)
            }
            _ => {
                let trunc = self.raw_total > self.raw.len() as u64;
                (self.raw, false, trunc)
            }
        };
        BodyResult {
            decoded_bytes: decoded,
            shown,
            shown_decoded,
            shown_truncated: shown_truncated && self.keep > 0,
            note: self.failed,
        }
    }
}

fn write_dec(d: &mut Decoder, bytes: &[u8]) -> io::Result<()> {
    match d {
        Decoder::Gzip(w) => w.write_all(bytes),
        Decoder::Zlib(w) => w.write_all(bytes),
        Decoder::Raw(w) => w.write_all(bytes),
        Decoder::Sniff(_) | Decoder::Failed => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(framing: Framing, pieces: &[&[u8]]) -> (Vec<u8>, Step, BodyReader) {
        let mut r = BodyReader::new(framing);
        let mut out = Vec::new();
        let mut last = Step::More;
        for p in pieces {
            last = r.feed(p, &mut |b| out.extend_from_slice(b));
            if last != Step::More {
                break;
            }
        }
        (out, last, r)
    }

    #[test]
    fn content_length_stops_at_the_length() {
        let (out, step, r) = run(Framing::Length(5), &[b"abc", b"deXYZ"]);
        assert_eq!(out, b"abcde");
        assert_eq!(step, Step::Done(2));
        assert_eq!((r.wire, r.payload, r.missing), (5, 5, 0));
    }

    #[test]
    fn chunked_with_extensions_and_trailers() {
        let body = b"4;name=value\r\nWiki\r\n5 ; x\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\nNEXT";
        let (out, step, r) = run(Framing::Chunked, &[body]);
        assert_eq!(out, b"Wikipedia in\r\n\r\nchunks.");
        assert_eq!(step, Step::Done(body.len() - 4));
        assert_eq!(r.wire, (body.len() - 4) as u64);
        assert_eq!(r.payload, 23);
        assert_eq!(r.trailer_bytes(), b"Expires: never\r\nX-Sum: 1\r\n\r\n");
    }

    #[test]
    fn chunked_byte_by_byte_equals_whole() {
        let body = b"1a\r\nabcdefghijklmnopqrstuvwxyz\r\n3\r\n123\r\n0\r\n\r\n";
        let pieces: Vec<&[u8]> = body.chunks(1).collect();
        let (out, step, r) = run(Framing::Chunked, &pieces);
        assert_eq!(out, b"abcdefghijklmnopqrstuvwxyz123");
        assert_eq!(step, Step::Done(1));
        assert_eq!(r.wire, body.len() as u64);
    }

    #[test]
    fn hostile_chunk_sizes_are_errors_not_panics() {
        // 2^63 fits: the body just never ends.
        let (_, step, r) = run(Framing::Chunked, &[b"8000000000000000\r\nabc"]);
        assert_eq!(step, Step::More);
        assert_eq!(r.payload, 3);
        // 2^64 does not.
        let (_, step, _) = run(Framing::Chunked, &[b"10000000000000000\r\n"]);
        assert_eq!(step, Step::Error(17, FramingError::ChunkSizeTooLarge));
        let (_, step, _) = run(Framing::Chunked, &[b"zz\r\n"]);
        assert_eq!(
            step,
            Step::Error(1, FramingError::InvalidChunkSize { byte: b'z' })
        );
        let (_, step, _) = run(Framing::Chunked, &[b"2\r\nabX"]);
        assert_eq!(step, Step::Error(6, FramingError::ChunkDataWithoutCrlf));
        let zeros = [b'0'; 100];
        let (_, step, _) = run(Framing::Chunked, &[&zeros]);
        assert_eq!(step, Step::Error(65, FramingError::ChunkSizeLineTooLong));
        let long = [b'a'; 5000];
        let (_, step, _) = run(Framing::Chunked, &[b"1;", &long]);
        assert!(matches!(
            step,
            Step::Error(_, FramingError::ChunkExtensionTooLong)
        ));
    }

    #[test]
    fn gaps_inside_and_past_a_body() {
        let mut r = BodyReader::new(Framing::Length(100));
        assert_eq!(r.feed(&[0; 30], &mut |_| {}), Step::More);
        assert_eq!(r.gap(20), GapOutcome::Absorbed);
        assert_eq!(r.gap(60), GapOutcome::Ended { leftover: 10 });
        assert_eq!((r.payload, r.missing, r.size()), (30, 70, 100));
        let mut c = BodyReader::new(Framing::Chunked);
        assert_eq!(c.feed(b"a\r\nxy", &mut |_| {}), Step::More);
        assert_eq!(c.gap(8), GapOutcome::Absorbed);
        assert_eq!(c.feed(b"\r\n0\r\n\r\n", &mut |_| {}), Step::Done(7));
        let mut c = BodyReader::new(Framing::Chunked);
        assert_eq!(c.feed(b"a\r\nxy", &mut |_| {}), Step::More);
        assert_eq!(c.gap(9), GapOutcome::Lost);
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_and_deflate_are_decoded_and_counted() {
        let text = b"hello hello hello hello hello hello".repeat(50);
        let gz = gzip(&text);
        let mut s = BodySink::new(20, Some(Coding::Gzip), 1 << 30);
        for c in gz.chunks(7) {
            s.data(c);
        }
        let r = s.finish(true);
        assert_eq!(r.decoded_bytes, Some(text.len() as u64));
        assert_eq!(r.shown, b"hello hello hello he");
        assert!(r.shown_decoded && r.shown_truncated);

        for zlib in [true, false] {
            let data = if zlib {
                let mut e =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(&text).unwrap();
                e.finish().unwrap()
            } else {
                let mut e =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(&text).unwrap();
                e.finish().unwrap()
            };
            let mut s = BodySink::new(0, Some(Coding::Deflate), 1 << 30);
            for c in data.chunks(1) {
                s.data(c);
            }
            let r = s.finish(true);
            assert_eq!(r.decoded_bytes, Some(text.len() as u64), "zlib={zlib}");
            assert!(r.shown.is_empty());
        }
    }

    #[test]
    fn decoding_bombs_and_garbage_are_notes() {
        let zeros = vec![0u8; 1 << 20];
        let gz = gzip(&zeros);
        let mut s = BodySink::new(0, Some(Coding::Gzip), 4096);
        s.data(&gz);
        let r = s.finish(true);
        assert_eq!(r.decoded_bytes, None);
        assert_eq!(
            r.note,
            Some(HttpAnomaly::DecodedSizeLimit {
                coding: Some(Coding::Gzip),
                limit: 4096
            })
        );
        assert_eq!(
            r.note.unwrap().to_string(),
            "gzip content decodes to more than 4096 bytes: stopped decoding"
        );
        let mut s = BodySink::new(8, Some(Coding::Gzip), 1 << 30);
        s.data(b"not gzip at all");
        let r = s.finish(true);
        assert_eq!(r.decoded_bytes, None);
        let note = r.note.unwrap();
        assert!(matches!(
            note,
            HttpAnomaly::ContentDecodeFailed {
                coding: Some(Coding::Gzip),
                ..
            }
        ));
        assert!(note
            .to_string()
            .starts_with("gzip content could not be decoded"));
        assert_eq!(r.shown, b"not gzip");
        assert!(!r.shown_decoded);
        // One byte cannot tell zlib from raw deflate.
        let mut s = BodySink::new(0, Some(Coding::Deflate), 1 << 30);
        s.data(b"x");
        assert_eq!(
            s.finish(true).note,
            Some(HttpAnomaly::ContentTooShort {
                coding: Some(Coding::Deflate)
            })
        );
        let mut s = BodySink::new(0, Some(Coding::Gzip), 1 << 30);
        s.data(&gz[..10]);
        s.gap();
        assert_eq!(
            s.finish(true).note,
            Some(HttpAnomaly::ContentNotDecoded {
                coding: Some(Coding::Gzip)
            })
        );
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    fn encode(body: &[u8], sizes: &[usize], ext: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = body;
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes[i % sizes.len()].clamp(1, rest.len());
            let (a, b) = rest.split_at(n);
            out.extend_from_slice(format!("{n:x}").as_bytes());
            if ext {
                out.extend_from_slice(b" ; a=b;c");
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
            rest = b;
            i += 1;
        }
        out.extend_from_slice(b"0\r\n");
        if ext {
            out.extend_from_slice(b"Trailer-A: 1\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    proptest! {
        #[test]
        fn chunked_decoding_is_independent_of_segmentation(
            body in prop::collection::vec(any::<u8>(), 0..2000),
            sizes in prop::collection::vec(1usize..300, 1..8),
            ext in any::<bool>(),
            cuts in prop::collection::vec(1usize..50, 1..10),
            tail in prop::collection::vec(any::<u8>(), 0..20),
        ) {
            let enc = encode(&body, &sizes, ext);
            let mut stream = enc.clone();
            stream.extend_from_slice(&tail);
            let mut r = BodyReader::new(Framing::Chunked);
            let mut out = Vec::new();
            let mut pos = 0;
            let mut i = 0;
            let mut end = None;
            while pos < stream.len() {
                let n = cuts[i % cuts.len()].min(stream.len() - pos);
                match r.feed(&stream[pos..pos + n], &mut |b| out.extend_from_slice(b)) {
                    Step::More => {}
                    Step::Done(k) => {
                        end = Some(pos + k);
                        break;
                    }
                    Step::Error(_, m) => prop_assert!(false, "error {m}"),
                }
                pos += n;
                i += 1;
            }
            prop_assert_eq!(end, Some(enc.len()));
            prop_assert_eq!(out, body.clone());
            prop_assert_eq!(r.wire, enc.len() as u64);
            prop_assert_eq!(r.payload, body.len() as u64);
        }
    }
}
