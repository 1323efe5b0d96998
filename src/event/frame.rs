//! A frame as read: one packet record with its times, lengths and bytes,
//! and the interfaces, link types and counters that describe where frames
//! came from.

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
    /// Index into the source's interfaces (`PacketSource::interfaces`).
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

impl RecordIssue {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            RecordIssue::TimestampFractionOutOfRange { .. } => "timestamp_fraction_out_of_range",
            RecordIssue::NoTimestamp => "no_timestamp",
            RecordIssue::CaplenExceedsLen => "caplen_exceeds_len",
        }
    }

    /// Every variant once (tests; no wildcard: a new variant must be
    /// listed).
    #[cfg(test)]
    pub(crate) fn examples() -> Vec<Self> {
        let all = vec![
            RecordIssue::TimestampFractionOutOfRange { raw: 1_000_000 },
            RecordIssue::NoTimestamp,
            RecordIssue::CaplenExceedsLen,
        ];
        for r in &all {
            match r {
                RecordIssue::TimestampFractionOutOfRange { .. }
                | RecordIssue::NoTimestamp
                | RecordIssue::CaplenExceedsLen => {}
            }
        }
        all
    }
}

/// Counters a live capture reports at the end (libpcap's `pcap_stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureStats {
    pub received: u64,
    pub dropped: u64,
    pub if_dropped: u64,
}
