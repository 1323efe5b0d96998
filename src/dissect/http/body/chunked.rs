//! The chunked transfer coding (RFC 9112 §7.1), read byte by byte from a
//! stream split anywhere: sizes, extensions, the CRLF after each chunk's
//! data and the trailer section, each bounded.

use super::{BodyReader, Step};
use crate::event::FramingError;

/// Where a chunked body stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Chunk {
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

fn hex(b: u8) -> Option<u64> {
    match b {
        b'0'..=b'9' => Some(u64::from(b - b'0')),
        b'a'..=b'f' => Some(u64::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u64::from(b - b'A' + 10)),
        _ => None,
    }
}

impl BodyReader {
    pub(super) fn feed_chunked(&mut self, input: &[u8], out: &mut dyn FnMut(&[u8])) -> Step {
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
}

#[cfg(test)]
mod tests {
    use super::super::tests::run;
    use super::super::*;
    use proptest::prelude::*;

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
