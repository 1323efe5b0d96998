//! Gathering a head from a byte stream split anywhere, up to a size
//! limit: [`HeadBuf`] finds the blank line that ends it without looking
//! at a byte twice.

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
