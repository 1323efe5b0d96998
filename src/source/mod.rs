//! Where frames come from: live capture through libpcap, or a capture file.
//!
//! Every source yields [`Frame`]s: one per packet record, numbered from 1 in
//! input order (Wireshark's `frame.number`), with the exact timestamp in
//! nanoseconds and both lengths. A source also describes the interfaces its
//! frames came from, for the pcapng writer and for `-e`/JSON output.

pub mod file;
pub mod filter;
pub mod live;
mod pcap_format;
mod pcapng_format;

use crate::error::Error;
use crate::event::{CaptureStats, Frame, InterfaceInfo};

/// Something the source reports in-band, between frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceNotice {
    /// The kernel's drop counter rose by `new` (total `total`).
    KernelDropped { new: u64, total: u64 },
}

/// What a source yields next.
#[derive(Debug)]
pub enum Next<'a> {
    /// A frame, and the interfaces known so far (the frame's `interface`
    /// indexes them).
    Frame(Frame<'a>, &'a [InterfaceInfo]),
    Notice(SourceNotice),
    /// A live source waited a while without a packet (lets the run update
    /// progress displays and flush output).
    Idle,
    End,
}

/// A memory-mapped capture shared with other threads: frames stay valid as
/// ranges of `map`. The source gives pages back to the kernel as it reads
/// on, but never past `done`, which the other readers move forward (a byte
/// offset into the map) once they are finished with what lies before it.
#[derive(Clone)]
pub struct SharedMap {
    pub map: std::sync::Arc<memmap2::Mmap>,
    pub done: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl SharedMap {
    /// Where `bytes` lie in the map, if they do.
    pub fn range_of(&self, bytes: &[u8]) -> Option<std::ops::Range<usize>> {
        crate::range_in(&self.map, bytes)
    }
}

/// A stream of frames. `next` borrows the source, so frames stay zero-copy.
pub trait PacketSource {
    fn next(&mut self) -> Result<Next<'_>, Error>;
    /// Interfaces seen so far; grows as a pcapng file declares more.
    fn interfaces(&self) -> &[InterfaceInfo];
    /// Final counters of a live capture, `None` for files.
    fn stats(&mut self) -> Option<CaptureStats> {
        None
    }
    /// Bytes consumed and total size, for progress display (files only).
    fn progress(&self) -> Option<(u64, Option<u64>)> {
        None
    }
    /// Asks a live source to stop and drain what the kernel already holds.
    fn request_stop(&mut self) {}
    /// True when `next` would return without waiting (a file always; a
    /// live source while it holds captured frames), so a reader may keep
    /// gathering before it passes frames on.
    fn ready(&self) -> bool {
        true
    }
    /// A file read in place from memory: the map its frames borrow from,
    /// for readers that keep frames past `next` (see [`SharedMap`]).
    fn share_map(&mut self) -> Option<SharedMap> {
        None
    }
}
