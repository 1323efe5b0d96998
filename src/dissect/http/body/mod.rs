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
//!
//! Where each part lives: this file frames a body ([`BodyReader`]: by
//! length, until the close, chunked, and what a gap does to each);
//! chunked.rs reads the chunked transfer coding byte by byte; content.rs
//! receives the payload ([`BodySink`]: the kept prefix, gzip and deflate
//! decoding).

mod chunked;
mod content;

pub use content::{coding_of, BodyResult, BodySink, Coding};

use chunked::Chunk;

use crate::event::FramingError;

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

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn run(framing: Framing, pieces: &[&[u8]]) -> (Vec<u8>, Step, BodyReader) {
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
}
