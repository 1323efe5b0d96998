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

/// A link-layer header type as stored in capture files (LINKTYPE_* values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u16);

impl LinkType {
    pub const NULL: Self = Self(0);
    pub const ETHERNET: Self = Self(1);
    pub const RAW: Self = Self(101);
    pub const LOOP: Self = Self(108);
    pub const LINUX_SLL: Self = Self(113);
    pub const IPV4: Self = Self(228);
    pub const IPV6: Self = Self(229);
    pub const LINUX_SLL2: Self = Self(276);

    /// The name tcpdump prints in "reading from file …, link-type NAME (…)".
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "NULL",
            1 => "EN10MB",
            101 => "RAW",
            108 => "LOOP",
            113 => "LINUX_SLL",
            228 => "IPV4",
            229 => "IPV6",
            276 => "LINUX_SLL2",
            _ => "UNKNOWN",
        }
    }

    /// A human description, as tcpdump shows it in parentheses.
    pub fn description(self) -> &'static str {
        match self.0 {
            0 => "BSD loopback",
            1 => "Ethernet",
            101 => "Raw IP",
            108 => "OpenBSD loopback",
            113 => "Linux cooked v1",
            228 => "Raw IPv4",
            229 => "Raw IPv6",
            276 => "Linux cooked v2",
            _ => "unsupported link type",
        }
    }

    /// Maps a libpcap DLT_* value (what a live handle reports) to the
    /// LINKTYPE_* value written into files. They differ only for a few types.
    pub fn from_dlt(dlt: i32) -> Self {
        match dlt {
            12 | 14 => Self::RAW,
            _ => Self(u16::try_from(dlt).unwrap_or(u16::MAX)),
        }
    }

    /// The DLT_* value libpcap's filter compiler expects for this link type.
    pub fn to_dlt(self) -> i32 {
        match self {
            Self::RAW => 12,
            _ => i32::from(self.0),
        }
    }
}

/// One interface (pcapng IDB, the single pcap header, or the live device).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceInfo {
    pub name: Option<String>,
    pub description: Option<String>,
    pub linktype: LinkType,
    pub snaplen: u32,
    /// The BPF filter the capture used, if the file recorded one.
    pub filter: Option<String>,
    pub os: Option<String>,
    /// Which pcapng section the interface belongs to (0 for pcap and live).
    pub section: u32,
    /// The interface's index inside its section (what tshark shows as
    /// `frame.interface_id`).
    pub index_in_section: u32,
}

/// A packet record, borrowed from the source's buffer.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// 1-based position among the input's packet records.
    pub number: u64,
    /// Nanoseconds since the Unix epoch (UTC).
    pub ts_ns: i64,
    /// Index into [`PacketSource::interfaces`].
    pub interface: u32,
    pub linktype: LinkType,
    /// Bytes captured (`data.len()`).
    pub caplen: u32,
    /// Length of the packet on the wire.
    pub len: u32,
    pub data: &'a [u8],
    /// The first packet comment stored with the record (pcapng `opt_comment`).
    pub comment: Option<&'a str>,
    /// Something odd about the record itself (not its contents).
    pub record_issue: Option<RecordIssue>,
}

/// Oddities of a capture record that the reader repaired or could not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordIssue {
    /// pcap: the sub-second field was out of range (µs ≥ 10^6 or ns ≥ 10^9);
    /// it is clamped to the largest valid value.
    TimestampFractionOutOfRange { raw: u32 },
    /// pcapng Simple Packet Block: the format stores no timestamp.
    NoTimestamp,
    /// The record claims a captured length larger than its wire length.
    CaplenExceedsLen,
}

impl std::fmt::Display for RecordIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordIssue::TimestampFractionOutOfRange { raw } => {
                write!(f, "timestamp fraction out of range (raw {raw}), clamped")
            }
            RecordIssue::NoTimestamp => f.write_str("no timestamp (pcapng simple packet block)"),
            RecordIssue::CaplenExceedsLen => f.write_str("captured length exceeds wire length"),
        }
    }
}

/// Counters a live capture reports at the end (libpcap's `pcap_stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureStats {
    pub received: u64,
    pub dropped: u64,
    pub if_dropped: u64,
}

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
