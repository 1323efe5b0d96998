//! Offline input: pcap (µs or ns, either byte order) and pcapng (several
//! sections and interfaces, each with its own link type and timestamp
//! resolution), from a file or standard input.
//!
//! The readers are our own rather than libpcap's, for three reasons: libpcap
//! stops at the first pcapng interface whose link type differs from the
//! first; a damaged file must yield every frame before the damage and then
//! say exactly where it broke; and reading in large blocks with borrowed
//! frames keeps the hot path free of copies and allocation.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use super::pcap_format::PcapReader;
use super::pcapng_format::PcapNgReader;
use super::{Next, PacketSource, SharedMap};
use crate::error::Error;
use crate::event::InterfaceInfo;

/// Largest record or block accepted. Real packets are at most 256 KiB
/// (libpcap's largest snaplen); anything near this is corruption, and the
/// cap keeps a hostile length from making us allocate gigabytes.
pub(crate) const MAX_RECORD: usize = 16 * 1024 * 1024;

const READ_CHUNK: usize = 1 << 20;

/// A growable window over a byte stream, refilled in large reads.
pub(crate) struct ByteReader {
    inner: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// A memory-mapped regular file: read in place, no copy. `start` and
    /// `end` then index the map.
    map: Option<Arc<memmap2::Mmap>>,
    /// Bytes of the map already given back to the kernel.
    released: usize,
    /// When the map is shared ([`ByteReader::share_map`]): how far its
    /// other readers are done; pages after that are kept.
    shared_done: Option<Arc<AtomicUsize>>,
    start: usize,
    end: usize,
    /// Absolute offset of `buf[start]` in the stream.
    offset: u64,
    eof: bool,
}

impl ByteReader {
    pub(crate) fn new(inner: Box<dyn Read + Send>) -> Self {
        Self {
            inner,
            buf: vec![0; 4 * READ_CHUNK],
            map: None,
            released: 0,
            shared_done: None,
            start: 0,
            end: 0,
            offset: 0,
            eof: false,
        }
    }

    /// Reads a mapped file in place.
    pub(crate) fn mapped(map: memmap2::Mmap) -> Self {
        let _ = map.advise(memmap2::Advice::Sequential);
        Self {
            inner: Box::new(io::empty()),
            buf: Vec::new(),
            end: map.len(),
            map: Some(Arc::new(map)),
            released: 0,
            shared_done: None,
            start: 0,
            offset: 0,
            eof: true,
        }
    }

    /// Makes at least `n` bytes available. Returns `false` when the stream
    /// ends first; `available()` then tells how many there are.
    #[inline]
    pub(crate) fn ensure(&mut self, n: usize) -> io::Result<bool> {
        if self.end - self.start >= n {
            // The common case: a mapped file, or a record inside the
            // buffered window.
            return Ok(true);
        }
        self.fill(n)
    }

    /// [`ByteReader::ensure`] when the window is short: reads more.
    #[inline(never)]
    fn fill(&mut self, n: usize) -> io::Result<bool> {
        while self.end - self.start < n {
            if self.eof {
                return Ok(false);
            }
            if self.start + n > self.buf.len() {
                // Slide what is left to the front; grow only for a record
                // larger than the whole buffer.
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
                if n > self.buf.len() {
                    self.buf.resize(n.next_power_of_two(), 0);
                }
            }
            let want = (self.buf.len() - self.end).min(READ_CHUNK.max(n));
            let got = match self.inner.read(&mut self.buf[self.end..self.end + want]) {
                Ok(got) => got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if got == 0 {
                self.eof = true;
            }
            self.end += got;
        }
        Ok(true)
    }

    pub(crate) fn available(&self) -> usize {
        self.end - self.start
    }

    /// The next `n` bytes; call `ensure(n)` first.
    pub(crate) fn peek(&self, n: usize) -> &[u8] {
        match &self.map {
            Some(m) => &m[self.start..self.start + n],
            None => &self.buf[self.start..self.start + n],
        }
    }

    /// Hints that the byte `n` bytes ahead (the next record's header)
    /// will be read soon: in a map it is fetched into the cache while the
    /// current record is worked on, instead of stalling the next read.
    #[inline]
    pub(crate) fn prefetch(&self, n: usize) {
        #[cfg(target_arch = "x86_64")]
        if let Some(b) = self.map.as_ref().and_then(|m| m.get(self.start + n)) {
            // SAFETY: a prefetch is only a hint; it reads nothing, and the
            // address lies inside the map.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    (b as *const u8).cast(),
                )
            };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = n;
    }

    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.offset += n as u64;
        if let Some(m) = &self.map {
            // Give pages already read back to the kernel, so resident
            // memory stays small however large the file.
            const STEP: usize = 4 << 20;
            if self.start - self.released >= 2 * STEP {
                let mut upto = self.start - STEP;
                if let Some(done) = &self.shared_done {
                    upto = upto.min(done.load(Ordering::Acquire));
                }
                let upto = upto & !(4096 - 1);
                if upto <= self.released {
                    return;
                }
                // SAFETY: the range lies inside the map and is not read
                // again: reading only moves forward, and the other readers
                // of a shared map are done with it (`shared_done`). Even
                // so, for a read-only file mapping DONTNEED only drops
                // cached pages; a later read would fetch them again.
                let _ = unsafe {
                    m.unchecked_advise_range(
                        memmap2::UncheckedAdvice::DontNeed,
                        self.released,
                        upto - self.released,
                    )
                };
                self.released = upto;
            }
        }
    }

    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    pub(crate) fn is_mapped(&self) -> bool {
        self.map.is_some()
    }

    /// The map, for readers on other threads that keep ranges of it, and
    /// the mark they move forward as they finish with them: from now on
    /// pages are given back only behind that mark.
    pub(crate) fn share_map(&mut self) -> Option<SharedMap> {
        let map = Arc::clone(self.map.as_ref()?);
        let done = Arc::clone(
            self.shared_done
                .get_or_insert_with(|| Arc::new(AtomicUsize::new(self.released))),
        );
        Some(SharedMap { map, done })
    }

    /// True when the stream has no more bytes.
    pub(crate) fn at_eof(&mut self) -> io::Result<bool> {
        Ok(!self.ensure(1)?)
    }
}

/// How the file on disk is compressed (found by its magic bytes, not its
/// name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Counts the bytes read from the underlying file (compressed bytes when
/// the file is compressed), for progress display.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Wraps `inner` in a decompressor when it starts with a gzip or zstd
/// magic number.
fn decompressing(inner: Box<dyn Read + Send>) -> io::Result<(Box<dyn Read + Send>, Compression)> {
    let mut buffered = BufReader::with_capacity(1 << 16, inner);
    let head = buffered.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        return Ok((
            Box::new(flate2::read::MultiGzDecoder::new(buffered)),
            Compression::Gzip,
        ));
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let dec = zstd::stream::read::Decoder::with_buffer(buffered)?;
        return Ok((Box::new(dec), Compression::Zstd));
    }
    Ok((Box::new(buffered), Compression::None))
}

enum Format {
    Pcap(PcapReader),
    PcapNg(PcapNgReader),
}

/// A capture file (or standard input) as a [`PacketSource`].
pub struct FileSource {
    path: PathBuf,
    format: Format,
    reader: ByteReader,
    total_size: Option<u64>,
    frames: u64,
    failed: bool,
    /// Bytes of the frame handed out last, consumed on the next call.
    pending: usize,
    compression: Compression,
    raw_read: Arc<AtomicU64>,
}

impl FileSource {
    /// Opens `path` (`-` for standard input) and reads the file header.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let (inner, total_size): (Box<dyn Read + Send>, Option<u64>) = if path.as_os_str() == "-" {
            (Box::new(io::stdin()), None)
        } else {
            let file = File::open(path).map_err(|source| Error::OpenInput {
                path: path.to_path_buf(),
                source,
            })?;
            let meta = file.metadata().ok();
            if meta.as_ref().is_some_and(|m| m.is_dir()) {
                return Err(Error::NotACapture {
                    path: path.to_path_buf(),
                    msg: "is a directory, not a capture file".into(),
                });
            }
            // A regular, uncompressed file is read in place through a
            // memory map (no copy from the page cache); anything else
            // (pipes, devices, compressed files) is streamed.
            if meta.as_ref().is_some_and(|m| m.is_file() && m.len() >= 4) {
                // SAFETY: the map is only read. If another process
                // truncated the file while we read it, access past the new
                // end would fault; netpeek reads capture files that are
                // complete, as tcpdump -r does.
                if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
                    let compressed = map.starts_with(&[0x1f, 0x8b])
                        || map.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]);
                    if !compressed {
                        return Self::from_map(path, map);
                    }
                }
            }
            (Box::new(file), meta.map(|m| m.len()))
        };
        Self::from_reader(path, inner, total_size)
    }

    /// Reads an uncompressed capture in place from a memory map (what
    /// `open` does for regular files); `path` names it in messages.
    pub fn from_map(path: &Path, map: memmap2::Mmap) -> Result<Self, Error> {
        let size = map.len() as u64;
        Self::with_reader(
            path,
            ByteReader::mapped(map),
            Compression::None,
            Arc::new(AtomicU64::new(0)),
            Some(size),
        )
    }

    /// Reads a capture from any byte stream; `path` names it in messages.
    pub fn from_reader(
        path: &Path,
        inner: Box<dyn Read + Send>,
        total_size: Option<u64>,
    ) -> Result<Self, Error> {
        let read_err = |source| Error::ReadInput {
            path: path.to_path_buf(),
            source,
        };
        let raw_read = Arc::new(AtomicU64::new(0));
        let counted = Box::new(Counting {
            inner,
            count: Arc::clone(&raw_read),
        });
        let (inner, compression) = decompressing(counted).map_err(read_err)?;
        Self::with_reader(
            path,
            ByteReader::new(inner),
            compression,
            raw_read,
            total_size,
        )
    }

    fn with_reader(
        path: &Path,
        mut reader: ByteReader,
        compression: Compression,
        raw_read: Arc<AtomicU64>,
        total_size: Option<u64>,
    ) -> Result<Self, Error> {
        let read_err = |source| Error::ReadInput {
            path: path.to_path_buf(),
            source,
        };
        let have4 = reader.ensure(4).map_err(read_err)?;
        if !have4 {
            let n = reader.available();
            return Err(Error::NotACapture {
                path: path.to_path_buf(),
                msg: if n == 0 {
                    "the file is empty, not a pcap or pcapng capture".into()
                } else {
                    format!("truncated file header: only {n} bytes, not a pcap or pcapng capture")
                },
            });
        }
        let magic: [u8; 4] = [
            reader.peek(4)[0],
            reader.peek(4)[1],
            reader.peek(4)[2],
            reader.peek(4)[3],
        ];
        let format = if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
            Format::PcapNg(PcapNgReader::new())
        } else if let Some(pcap) = PcapReader::from_magic(magic) {
            Format::Pcap(pcap)
        } else {
            return Err(Error::NotACapture {
                path: path.to_path_buf(),
                msg: format!(
                    "not a pcap or pcapng capture (unknown magic number {:02x}{:02x}{:02x}{:02x})",
                    magic[0], magic[1], magic[2], magic[3]
                ),
            });
        };
        let mut source = Self {
            path: path.to_path_buf(),
            format,
            reader,
            total_size,
            frames: 0,
            failed: false,
            pending: 0,
            compression,
            raw_read,
        };
        let result = match &mut source.format {
            Format::Pcap(p) => p.read_header(&mut source.reader),
            Format::PcapNg(p) => p.read_first_section(&mut source.reader),
        };
        result.map_err(|e| source.describe(e))?;
        Ok(source)
    }

    /// How the input was compressed.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// The path as given (`-` for standard input).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What `tcpdump -r` prints first: the link type and snapshot length of
    /// the first interface.
    pub fn first_interface(&self) -> Option<&InterfaceInfo> {
        self.interfaces().first()
    }

    fn describe(&self, e: ReadError) -> Error {
        match e {
            ReadError::Io(source) => Error::ReadInput {
                path: self.path.clone(),
                source,
            },
            ReadError::Header(msg) => Error::NotACapture {
                path: self.path.clone(),
                msg,
            },
            ReadError::Corrupt { offset, msg } => Error::Corrupt {
                path: self.path.clone(),
                offset,
                frames_read: self.frames,
                msg,
            },
        }
    }
}

/// Reader failures before they get the file's name attached.
#[derive(Debug)]
pub(crate) enum ReadError {
    Io(io::Error),
    /// The file header itself is unusable.
    Header(String),
    /// A record or block is damaged at `offset`.
    Corrupt {
        offset: u64,
        msg: String,
    },
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// One record as the format readers return it, before numbering.
pub(crate) struct RawRecord {
    /// Where the packet bytes start relative to the reader's window.
    pub data_offset: usize,
    pub caplen: u32,
    pub len: u32,
    pub ts_ns: i64,
    pub interface: u32,
    pub comment: Option<(usize, usize)>,
    pub record_issue: Option<crate::event::RecordIssue>,
    /// Bytes to consume after the frame has been handed out.
    pub total: usize,
}

impl PacketSource for FileSource {
    fn share_map(&mut self) -> Option<SharedMap> {
        self.reader.share_map()
    }

    fn next(&mut self) -> Result<Next<'_>, Error> {
        if self.failed {
            return Ok(Next::End);
        }
        self.reader.consume(std::mem::take(&mut self.pending));
        let record = match &mut self.format {
            Format::Pcap(p) => p.next_record(&mut self.reader),
            Format::PcapNg(p) => p.next_record(&mut self.reader),
        };
        let record = match record {
            Ok(Some(r)) => r,
            Ok(None) => return Ok(Next::End),
            Err(e) => {
                self.failed = true;
                return Err(self.describe(e));
            }
        };
        self.frames += 1;
        let linktype = match &self.format {
            Format::Pcap(p) => p.interfaces(),
            Format::PcapNg(p) => p.interfaces(),
        }
        .get(record.interface as usize)
        .map(|i| i.linktype)
        .unwrap_or(crate::event::LinkType::ETHERNET);
        // The window holds the whole record; consume it lazily on the next
        // call so the frame can borrow it now.
        let window = self.reader.peek(record.total);
        let data = window
            .get(record.data_offset..record.data_offset + record.caplen as usize)
            .unwrap_or(&[]);
        let comment = record
            .comment
            .and_then(|(s, e)| window.get(s..e))
            .and_then(|b| std::str::from_utf8(b).ok());
        let frame = super::Frame {
            number: self.frames,
            ts_ns: record.ts_ns,
            interface: record.interface,
            linktype,
            caplen: record.caplen,
            len: record.len,
            data,
            comment,
            record_issue: record.record_issue,
        };
        self.pending = record.total;
        let interfaces = match &self.format {
            Format::Pcap(p) => p.interfaces(),
            Format::PcapNg(p) => p.interfaces(),
        };
        Ok(Next::Frame(frame, interfaces))
    }

    fn interfaces(&self) -> &[InterfaceInfo] {
        match &self.format {
            Format::Pcap(p) => p.interfaces(),
            Format::PcapNg(p) => p.interfaces(),
        }
    }

    fn progress(&self) -> Option<(u64, Option<u64>)> {
        let read = match self.compression {
            // Mapped or plain: the position in the file.
            Compression::None if self.reader.is_mapped() => self.reader.offset(),
            _ => self.raw_read.load(Ordering::Relaxed),
        };
        Some((read, self.total_size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapped(len: usize) -> (tempfile::NamedTempFile, ByteReader) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, &vec![7u8; len]).unwrap();
        // SAFETY: the file is this test's own and is not changed.
        let map = unsafe { memmap2::Mmap::map(f.as_file()) }.unwrap();
        (f, ByteReader::mapped(map))
    }

    #[test]
    fn pages_are_given_back_behind_the_reader() {
        let (_f, mut r) = mapped(32 << 20);
        assert!(r.ensure(20 << 20).unwrap());
        r.consume(20 << 20);
        // Everything but the last 4 MiB read.
        assert_eq!(r.released, 16 << 20);
    }

    #[test]
    fn a_shared_map_keeps_what_its_other_readers_still_need() {
        let (_f, mut r) = mapped(32 << 20);
        let shared = r.share_map().unwrap();
        assert_eq!(shared.map.len(), 32 << 20);
        r.consume(20 << 20);
        assert_eq!(r.released, 0, "nothing is done with yet");
        shared.done.store((5 << 20) + 100, Ordering::Release);
        r.consume(8 << 20);
        // Up to the page before the mark.
        assert_eq!(r.released, 5 << 20);
        shared.done.store(30 << 20, Ordering::Release);
        r.consume(2 << 20);
        // Now the reader's own 4 MiB margin is the limit.
        assert_eq!(r.released, 26 << 20);
        // Ranges are found only for bytes inside the map.
        assert_eq!(shared.range_of(&shared.map[10..20]), Some(10..20));
        assert_eq!(shared.range_of(b"elsewhere"), None);
    }
}
