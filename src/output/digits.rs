//! Numbers written into a small stack buffer by hand. Every output line
//! carries several numbers; the formatting machinery (`write!`) costs many
//! times more per number than these few divisions.

/// Text built on the stack (at most 64 bytes; more is cut).
pub struct Digits {
    buf: [u8; 64],
    len: usize,
}

impl Default for Digits {
    fn default() -> Self {
        Self::new()
    }
}

impl Digits {
    pub fn new() -> Self {
        Self {
            buf: [0; 64],
            len: 0,
        }
    }

    #[inline]
    pub fn push(&mut self, s: &[u8]) -> &mut Self {
        // Byte by byte: the pieces are a few bytes long, shorter than a
        // call to memcpy.
        for &b in s {
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            }
        }
        self
    }

    /// `v` in decimal.
    #[inline]
    pub fn num(&mut self, v: u64) -> &mut Self {
        self.padded(v, 1)
    }

    /// `v` in decimal, zero-padded to at least `width` digits (left out
    /// whole when it does not fit).
    #[inline]
    pub fn padded(&mut self, v: u64, width: usize) -> &mut Self {
        let mut text = itoa::Buffer::new();
        let digits = text.format(v).as_bytes();
        let total = digits.len().max(width);
        if self.len + total > self.buf.len() {
            return self;
        }
        // Byte by byte, as in `push`: fill and copy_from_slice would call
        // memset and memcpy for a few bytes.
        for _ in digits.len()..total {
            self.push(b"0");
        }
        self.push(digits)
    }

    /// The text (only ASCII is ever pushed by netpeek's callers).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// For the rare text that needs the formatting machinery (an IPv6
/// address); what does not fit is cut.
impl std::fmt::Write for Digits {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Digits;

    #[test]
    fn numbers_equal_the_formatter() {
        for v in [
            0u64,
            1,
            9,
            10,
            99,
            100,
            12345,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            for w in [1usize, 2, 6, 9, 20] {
                let mut d = Digits::new();
                d.padded(v, w);
                assert_eq!(d.as_bytes(), format!("{v:0w$}").as_bytes());
            }
        }
        let mut d = Digits::new();
        d.push(b"-").num(42).push(b".").padded(7, 6);
        assert_eq!(d.as_bytes(), b"-42.000007");
        assert_eq!(d.len(), 10);
        let mut long = Digits::new();
        for _ in 0..10 {
            long.num(u64::MAX);
        }
        // Three 20-digit numbers fit; the rest are left out whole.
        assert_eq!(long.len(), 60);
        long.push(b"abcdef");
        assert_eq!(long.len(), 64);
    }
}
