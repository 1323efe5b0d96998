//! A body's payload as it arrives: counted, a bounded prefix kept for
//! display, and gzip or deflate content streamed through flate2 to learn
//! the decoded size (a bounded prefix of the decoded text kept too).

use std::io::{self, Write};

use flate2::write::{DeflateDecoder, GzDecoder, ZlibDecoder};

use crate::event::{ContentCoding, HttpAnomaly};

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
