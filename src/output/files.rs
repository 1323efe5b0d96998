//! Output files: plain or gzip-compressed (by the `.gz` suffix of the
//! name), or standard output, with a byte count for size-based rotation.

use std::fs::File;
use std::io::{self, BufWriter, Stdout, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::write::GzEncoder;

/// Counts bytes that reach the file (after compression).
pub struct Counted<W> {
    inner: W,
    count: Arc<AtomicU64>,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

enum Kind {
    Plain(Counted<BufWriter<File>>),
    Gzip(GzEncoder<Counted<BufWriter<File>>>),
    Stdout(BufWriter<Stdout>),
}

/// A file netpeek writes.
pub struct OutFile {
    kind: Option<Kind>,
    written: Arc<AtomicU64>,
}

impl OutFile {
    /// Creates (or truncates) `path`; `-` is standard output. A name ending
    /// in `.gz` is written gzip-compressed.
    pub fn create(path: &Path) -> io::Result<Self> {
        let written = Arc::new(AtomicU64::new(0));
        if path.as_os_str() == "-" {
            return Ok(Self {
                kind: Some(Kind::Stdout(BufWriter::with_capacity(
                    1 << 20,
                    io::stdout(),
                ))),
                written,
            });
        }
        let file = File::create(path)?;
        let counted = Counted {
            inner: BufWriter::with_capacity(1 << 20, file),
            count: Arc::clone(&written),
        };
        let kind = if path.extension().is_some_and(|e| e == "gz") {
            Kind::Gzip(GzEncoder::new(counted, flate2::Compression::default()))
        } else {
            Kind::Plain(counted)
        };
        Ok(Self {
            kind: Some(kind),
            written,
        })
    }

    /// Bytes that reached the file so far.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// A handle on the byte count that outlives the file.
    pub fn written_counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.written)
    }

    /// Flushes everything and, for gzip, writes the trailer.
    pub fn finish(mut self) -> io::Result<()> {
        match self.kind.take() {
            Some(Kind::Plain(mut w)) => w.flush(),
            Some(Kind::Gzip(g)) => g.finish()?.flush(),
            Some(Kind::Stdout(mut w)) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Write for OutFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.kind.as_mut() {
            Some(Kind::Plain(w)) => w.write(buf),
            Some(Kind::Gzip(w)) => w.write(buf),
            Some(Kind::Stdout(w)) => w.write(buf),
            None => Err(io::Error::other("output already finished")),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self.kind.as_mut() {
            Some(Kind::Plain(w)) => w.write_all(buf),
            Some(Kind::Gzip(w)) => w.write_all(buf),
            Some(Kind::Stdout(w)) => w.write_all(buf),
            None => Err(io::Error::other("output already finished")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.kind.as_mut() {
            Some(Kind::Plain(w)) => w.flush(),
            Some(Kind::Gzip(w)) => w.flush(),
            Some(Kind::Stdout(w)) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for OutFile {
    fn drop(&mut self) {
        // Best effort for paths that end without `finish` (a panic, an
        // earlier error): a gzip file still gets its trailer.
        if let Some(kind) = self.kind.take() {
            match kind {
                Kind::Plain(mut w) => {
                    let _ = w.flush();
                }
                Kind::Gzip(g) => {
                    let _ = g.finish().map(|mut w| w.flush());
                }
                Kind::Stdout(mut w) => {
                    let _ = w.flush();
                }
            }
        }
    }
}
