//! `-w` with tcpdump's rotation: `-C` (size, millions of bytes), `-G`
//! (seconds, names through strftime) and `-W` (file count). Every file is a
//! complete pcapng: section header, the interface blocks, its packets.
//!
//! Names follow tcpdump's `MakeFilename`: the name (strftime-expanded with
//! `-G`), then, with `-C`, a file number zero-padded to the width `-W`
//! implies. `-C` with `-W` reuses the names in a ring; `-G` with `-W` (and
//! no `-C`) stops the capture after that many files.

use crate::describe::annotate::Annotation;
use std::io;
use std::path::{Path, PathBuf};

use super::files::OutFile;
use super::pcapng::PcapngSink;
use super::Sink;
use crate::event::InterfaceInfo;
use crate::event::{PacketEvent, RunStats};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rotation {
    /// `-C`: rotate once a file exceeds this many bytes.
    pub size_bytes: Option<u64>,
    /// `-G`: rotate every this many seconds (capture time).
    pub seconds: Option<u64>,
    /// `-W`: number of files.
    pub count: Option<u32>,
}

impl Rotation {
    pub fn is_active(&self) -> bool {
        self.size_bytes.is_some() || self.seconds.is_some()
    }
}

/// Digits needed for file numbers 0..count-1 (tcpdump's getWflagChars).
fn width_for(count: u32) -> usize {
    let mut x = count.saturating_sub(1);
    let mut c = 0;
    while x > 0 {
        c += 1;
        x /= 10;
    }
    c
}

/// strftime(3) in local time.
fn strftime(pattern: &str, ts_ns: i64) -> String {
    let Ok(fmt) = std::ffi::CString::new(pattern) else {
        return pattern.to_string();
    };
    let t = ts_ns.div_euclid(1_000_000_000) as libc::time_t;
    let mut buf = vec![0u8; pattern.len() * 4 + 256];
    // SAFETY: localtime_r fills our struct; strftime writes at most
    // buf.len() bytes and returns how many.
    let n = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return pattern.to_string();
        }
        libc::strftime(buf.as_mut_ptr().cast(), buf.len(), fmt.as_ptr(), &tm)
    };
    if n == 0 && !pattern.is_empty() {
        return pattern.to_string();
    }
    buf.truncate(n);
    String::from_utf8_lossy(&buf).into_owned()
}

/// When `-G` files turn over and when `-W` (without `-C`) says to stop: a
/// function of packet times alone, so the reader can stop at the very
/// packet where the writer's last file ends, however far the writer lags.
#[derive(Clone, Copy, Debug)]
pub struct FileClock {
    period_ns: Option<i64>,
    /// `-W` with `-G` alone: the files to write before stopping.
    stop_after: Option<u32>,
    /// When the current file began (its first packet, or its opening).
    start: Option<i64>,
    opened: u32,
}

/// What a packet's time means for the files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Turn {
    /// It goes in the current file.
    Same,
    /// It begins the next file.
    Next,
    /// It would begin a file past the `-W` limit: the run stops.
    Stop,
}

impl FileClock {
    fn new(rot: &Rotation) -> Self {
        Self {
            period_ns: rot
                .seconds
                .map(|s| (s as i64).saturating_mul(1_000_000_000)),
            stop_after: rot.count.filter(|_| rot.size_bytes.is_none()),
            start: None,
            opened: 0,
        }
    }

    fn opened(&mut self, ts_ns: Option<i64>) {
        self.opened += 1;
        self.start = ts_ns;
    }

    fn turn(&self, ts_ns: i64) -> Turn {
        match (self.period_ns, self.start) {
            (Some(p), Some(start)) if ts_ns.saturating_sub(start) >= p => {
                if self.stop_after.is_some_and(|w| self.opened >= w) {
                    Turn::Stop
                } else {
                    Turn::Next
                }
            }
            _ => Turn::Same,
        }
    }

    fn started(&mut self, ts_ns: i64) {
        self.start.get_or_insert(ts_ns);
    }

    /// For the reader, frame by frame (what the writer does with its
    /// files, without the files): true when this frame reaches the limit.
    pub fn stops_at(&mut self, ts_ns: i64) -> bool {
        if self.opened == 0 {
            self.opened(Some(ts_ns));
        }
        match self.turn(ts_ns) {
            Turn::Stop => return true,
            Turn::Next => self.opened(Some(ts_ns)),
            Turn::Same => {}
        }
        self.started(ts_ns);
        false
    }
}

/// Tells the run to stop (the `-G`/`-W` file limit was reached).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LimitReached;

pub struct PcapngOutput {
    base: PathBuf,
    rot: Rotation,
    filter: Option<String>,
    live: bool,
    current: Option<PcapngSink<OutFile>>,
    current_written: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    interfaces: Vec<InterfaceInfo>,
    /// The file being written.
    current_path: Option<PathBuf>,
    /// tcpdump's Cflag_count: the number appended with -C.
    number: u32,
    clock: FileClock,
    limit_reached: bool,
    /// Bytes in files already closed.
    closed_bytes: u64,
}

impl PcapngOutput {
    /// Opens the output. The first file is created at once, so an
    /// unwritable path fails before capturing (and before `-Z` gives up the
    /// rights to create it); with `-G` its name takes the time of day, as
    /// tcpdump's does. Reading a file with `-G`, the first name takes the
    /// first packet's time instead, so only the directory is checked now.
    pub fn create(
        base: &Path,
        rot: Rotation,
        filter: Option<String>,
        live: bool,
    ) -> io::Result<Self> {
        let mut me = Self {
            base: base.to_path_buf(),
            rot,
            filter,
            live,
            current: None,
            current_written: None,
            current_path: None,
            interfaces: Vec::new(),
            number: 0,
            clock: FileClock::new(&rot),
            limit_reached: false,
            closed_bytes: 0,
        };
        if rot.seconds.is_none() {
            me.open(None)?;
        } else if live {
            me.open(Some(now_ns()))?;
        } else {
            let dir = match base.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes())
                .map_err(io::Error::other)?;
            // SAFETY: access(2) reads a NUL-terminated path.
            if unsafe { libc::access(c.as_ptr(), libc::W_OK) } != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(me)
    }

    /// The name of the next file.
    pub fn file_name(&self, ts_ns: Option<i64>) -> PathBuf {
        let mut name = self.base.to_string_lossy().into_owned();
        if self.rot.seconds.is_some() {
            let t = ts_ns.unwrap_or_else(now_ns);
            name = strftime(&name, t);
        }
        let width = if self.rot.size_bytes.is_some() {
            self.rot.count.map_or(0, width_for)
        } else {
            0
        };
        if self.number != 0 || width != 0 {
            name = format!("{name}{:0width$}", self.number);
        }
        PathBuf::from(name)
    }

    fn open(&mut self, ts_ns: Option<i64>) -> io::Result<()> {
        let path = self.file_name(ts_ns);
        log::info!("writing {}", path.display());
        let file = OutFile::create(&path).map_err(|e| {
            if path == self.base {
                e
            } else {
                // A rotated name: say which file failed.
                io::Error::new(
                    e.kind(),
                    format!("{}: {}", path.display(), crate::error::io_msg(&e)),
                )
            }
        })?;
        self.current_written = Some(file.written_counter());
        self.current_path = Some(path.clone());
        let mut sink = PcapngSink::new(file, self.filter.clone(), self.live)?;
        if !self.interfaces.is_empty() {
            sink.interfaces(&self.interfaces)?;
        }
        self.current = Some(sink);
        self.clock.opened(ts_ns);
        Ok(())
    }

    /// Bytes written across all files so far.
    pub fn written_total(&self) -> u64 {
        self.closed_bytes
            + self
                .current_written
                .as_ref()
                .map_or(0, |w| w.load(std::sync::atomic::Ordering::Relaxed))
    }

    fn close_current(&mut self, stats: Option<&RunStats>) -> io::Result<()> {
        if let Some(mut sink) = self.current.take() {
            if let Some(s) = stats {
                sink.finish(s)?;
            } else {
                sink.finish(&RunStats::default())?;
            }
            sink.into_inner()?.finish()?;
            if let Some(w) = self.current_written.take() {
                self.closed_bytes += w.load(std::sync::atomic::Ordering::Relaxed);
            }
        }
        Ok(())
    }

    /// After a write error: gives up the current file and cuts it back to
    /// its last complete block, so what was written stays readable.
    pub fn salvage(&mut self) {
        let Some(path) = self.current_path.take() else {
            return;
        };
        // Dropping the sink tries one last flush; it may fail again.
        self.current = None;
        let compressed = path.extension().is_some_and(|e| e == "gz");
        let regular = std::fs::metadata(&path).is_ok_and(|m| m.is_file());
        if !compressed && regular {
            match super::pcapng::truncate_to_whole_blocks(&path) {
                Ok(n) => log::info!(
                    "kept the first {n} bytes of {} (whole blocks)",
                    path.display()
                ),
                Err(e) => log::warn!("could not repair {}: {e}", path.display()),
            }
        }
    }

    /// True once `-G` with `-W` has produced its last file: stop capturing.
    pub fn limit_reached(&self) -> bool {
        self.limit_reached
    }

    /// The clock that reaches the `-W` limit, when there is one, as it
    /// stands now (before the first packet).
    pub fn stop_clock(&self) -> Option<FileClock> {
        self.clock.stop_after.map(|_| self.clock)
    }

    fn rotate(&mut self, ts_ns: i64) -> io::Result<()> {
        self.close_current(None)?;
        if self.rot.size_bytes.is_some() {
            self.number += 1;
            if let Some(w) = self.rot.count {
                if self.number >= w {
                    self.number = 0;
                }
            }
        }
        self.open(Some(ts_ns))
    }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

impl Sink for PcapngOutput {
    fn wants_http_fields(&self) -> bool {
        false
    }

    fn interfaces(&mut self, all: &[InterfaceInfo]) -> io::Result<()> {
        self.interfaces = all.to_vec();
        match self.current.as_mut() {
            Some(s) => s.interfaces(all),
            None => Ok(()),
        }
    }

    fn packet(&mut self, p: &PacketEvent<'_, '_>, annotations: &[Annotation]) -> io::Result<()> {
        if self.limit_reached {
            return Ok(());
        }
        let ts = p.frame.ts_ns;
        if self.current.is_none() {
            self.open(Some(ts))?;
        }
        let mut rotate = false;
        match self.clock.turn(ts) {
            Turn::Stop => {
                self.limit_reached = true;
                return Ok(());
            }
            Turn::Next => rotate = true,
            Turn::Same => {}
        }
        if let (Some(limit), Some(w)) = (self.rot.size_bytes, &self.current_written) {
            if w.load(std::sync::atomic::Ordering::Relaxed) > limit {
                rotate = true;
            }
        }
        if rotate {
            self.rotate(ts)?;
        }
        self.clock.started(ts);
        match self.current.as_mut() {
            Some(s) => s.packet(p, annotations),
            None => Ok(()),
        }
    }

    fn finish(&mut self, stats: &RunStats) -> io::Result<()> {
        self.close_current(Some(stats))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcpdump_file_numbering() {
        assert_eq!(width_for(0), 0);
        assert_eq!(width_for(1), 0);
        assert_eq!(width_for(3), 1);
        assert_eq!(width_for(10), 1);
        assert_eq!(width_for(11), 2);
        assert_eq!(width_for(100), 2);
        assert_eq!(width_for(101), 3);
    }

    #[test]
    fn strftime_expands() {
        // Local time: check the parts that do not depend on the zone.
        let s = strftime("cap-%Y-%S.pcapng", 1_362_692_526_869_344_000);
        assert_eq!(s, "cap-2013-06.pcapng");
        assert_eq!(strftime("plain.pcapng", 0), "plain.pcapng");
    }
}
