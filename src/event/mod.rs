//! The one vocabulary every output consumes. The source, the tracker and
//! the dissectors produce these types; `describe` puts them into words;
//! outputs render or store them. Nothing here parses bytes on the wire or
//! says how a person reads them.

pub mod anomaly;
pub mod flow;
pub mod follow;
pub mod frame;
pub mod http;
pub mod packet;
pub mod record;
pub mod redact;
pub mod tcp;
pub mod tcp_options;

pub use anomaly::{ContentCoding, FramingError, HeadSyntax, HttpAnomaly, MessageKind, Snippet};
pub use flow::{Direction, Endpoint};
pub use follow::{FollowChunk, FollowData};
pub use frame::{CaptureStats, Frame, InterfaceInfo, LinkType, RecordIssue};
pub use http::{
    Body, Exchange, Fields, HttpNote, Interim, Message, Request, Response, Shared, Text,
};
pub use packet::{
    ByteRange, DecodeIssue, DecodeLayer, HwAddr, Icmpv4Message, Icmpv6Message, LinkHeader,
    Malformed, Net, Offered, PacketView, QuotedIpv4, TcpSegment, Transport, Unreachable, VlanTag,
    VlanTags,
};
pub use record::Record;
pub use tcp::{
    Analysis, CloseKind, Closer, ConnRecord, Role, TcpFlags, TcpInfo, TcpOptions, TrackNotice,
    Verdict,
};
pub use tcp_options::{SackBlocks, TcpOption, TcpOptionIter, TcpOptionList};

/// A packet with everything netpeek learned about it.
pub struct PacketEvent<'a, 'f> {
    pub frame: &'a Frame<'f>,
    /// The frame's layers, decoded (offsets in it are into `frame.data`).
    pub view: &'a PacketView,
    pub tcp: Option<&'a TcpInfo>,
    /// Name of the interface the frame came from, when known.
    pub interface: Option<&'a str>,
    /// The interface's index within its pcapng section.
    pub interface_id: u32,
    /// HTTP notes that became known at this frame (a request head ended,
    /// a response ended, something was malformed), for the timeline.
    pub http: &'a [HttpNote],
}

/// Things worth telling that are not packets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// The kernel dropped packets during a live capture.
    KernelDropped {
        new: u64,
        total: u64,
    },
    /// The filter cannot be compiled for frames of this link type; they are
    /// left out.
    FilterNotApplicable {
        linktype: LinkType,
        msg: String,
    },
    Track(TrackNotice),
    /// An HTTP note that became known outside any packet (when the input
    /// ended). The exchange records carry the same anomalies.
    Http(HttpNote),
}

impl Notice {
    /// Stable snake_case code (what JSON writes as the notice's `code`).
    pub fn code(&self) -> &'static str {
        match self {
            Notice::KernelDropped { .. } => "kernel_dropped",
            Notice::FilterNotApplicable { .. } => "filter_not_applicable",
            Notice::Track(t) => t.code(),
            Notice::Http(n) => n.code(),
        }
    }
}

/// What a run saw, for the final summary.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunStats {
    /// Frames read from the input (every record).
    pub frames_read: u64,
    /// Frames that passed the filter and were processed.
    pub frames_shown: u64,
    /// Live capture counters.
    pub capture: Option<CaptureStats>,
}
