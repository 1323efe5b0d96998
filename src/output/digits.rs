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

    pub fn push(&mut self, s: &[u8]) -> &mut Self {
        let room = self.buf.len() - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
        self
    }

    /// `v` in decimal.
    pub fn num(&mut self, v: u64) -> &mut Self {
        self.padded(v, 1)
    }

    /// `v` in decimal, zero-padded to at least `width` digits.
    pub fn padded(&mut self, mut v: u64, width: usize) -> &mut Self {
        let mut tmp = [b'0'; 20];
        let mut i = tmp.len();
        loop {
            i -= 1;
            tmp[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        let start = i.min(tmp.len().saturating_sub(width));
        self.push(&tmp[start..])
    }

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
        assert_eq!(long.len(), 64);
    }
}
