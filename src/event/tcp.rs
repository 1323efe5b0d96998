//! The TCP vocabulary: what one packet says (flags, options), what the
//! tracker says about it (stream, relative numbers, role, Wireshark's
//! analysis flags) and the record of a finished connection.

use super::flow::{Direction, Endpoint};

/// TCP flag bits, in header order (FIN = bit 0 … CWR = bit 7, NS = bit 8).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    pub const FIN: u16 = 0x01;
    pub const SYN: u16 = 0x02;
    pub const RST: u16 = 0x04;
    pub const PSH: u16 = 0x08;
    pub const ACK: u16 = 0x10;
    pub const URG: u16 = 0x20;
    pub const ECE: u16 = 0x40;
    pub const CWR: u16 = 0x80;
    pub const NS: u16 = 0x100;

    pub fn has(self, bit: u16) -> bool {
        self.0 & bit != 0
    }
    pub fn syn(self) -> bool {
        self.has(Self::SYN)
    }
    pub fn ack(self) -> bool {
        self.has(Self::ACK)
    }
    pub fn fin(self) -> bool {
        self.has(Self::FIN)
    }
    pub fn rst(self) -> bool {
        self.has(Self::RST)
    }
    pub fn psh(self) -> bool {
        self.has(Self::PSH)
    }
    pub fn urg(self) -> bool {
        self.has(Self::URG)
    }

    /// Names in JSON order, as the schema lists them.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        const NAMES: [(u16, &str); 8] = [
            (TcpFlags::SYN, "SYN"),
            (TcpFlags::ACK, "ACK"),
            (TcpFlags::FIN, "FIN"),
            (TcpFlags::RST, "RST"),
            (TcpFlags::PSH, "PSH"),
            (TcpFlags::URG, "URG"),
            (TcpFlags::ECE, "ECE"),
            (TcpFlags::CWR, "CWR"),
        ];
        NAMES
            .into_iter()
            .filter(move |(b, _)| self.has(*b))
            .map(|(_, n)| n)
    }
}

/// The TCP options a tracker cares about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    pub sack_permitted: bool,
    pub timestamp: Option<(u32, u32)>,
    /// Up to four SACK blocks (left, right), absolute sequence numbers.
    pub sack: [(u32, u32); 4],
    pub sack_count: u8,
}

/// The part a packet plays in its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// SYN: the client opens.
    Handshake1,
    /// SYN-ACK: the server accepts.
    Handshake2,
    /// The client's ACK of the SYN-ACK: established.
    Handshake3,
    Data,
    Ack,
    /// A FIN (first or second).
    Fin,
    /// A bare ACK of the peer's FIN.
    FinAck,
    Reset,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Handshake1 => "handshake-1/3",
            Role::Handshake2 => "handshake-2/3",
            Role::Handshake3 => "handshake-3/3",
            Role::Data => "data",
            Role::Ack => "ack",
            Role::Fin => "fin",
            Role::FinAck => "fin-ack",
            Role::Reset => "reset",
        }
    }
}

/// What the tracker says about one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpInfo {
    pub stream: u64,
    pub direction: Direction,
    pub client: Endpoint,
    pub server: Endpoint,
    /// True for the first packet of a stream.
    pub new_stream: bool,
    /// The connection was joined after its start (no SYN seen).
    pub mid_stream: bool,
    /// Sequence number relative to this direction's ISN (Wireshark).
    pub seq_rel: u32,
    /// Acknowledgement number relative to the peer's ISN (raw when the ACK
    /// flag is clear, as in Wireshark).
    pub ack_rel: u32,
    /// tcpdump's numbers for the same packet: relative after the first
    /// ACK-bearing packet of the connection, absolute before.
    pub tcpdump_seq: u32,
    pub tcpdump_ack: u32,
    /// tcpdump's base for SACK blocks (thseq/thack, rev), for printing.
    pub tcpdump_sack_base: u32,
    /// Window in bytes, scaled when the scale factor is known.
    pub window: u32,
    /// The window scale shift applied (`None` = unknown or not used).
    pub window_shift: Option<u8>,
    pub role: Role,
    pub verdict: Verdict,
    /// On the handshake's third packet: SYN → this ACK, Wireshark's iRTT.
    pub handshake_rtt_ns: Option<i64>,
    /// The ISN of this packet's sender (absolute), when known.
    pub isn: Option<u32>,
    /// The peer's ISN (absolute), when known.
    pub peer_isn: Option<u32>,
    /// Payload bytes on the wire.
    pub payload_len: u32,
    /// For a retransmission: the frame and time of the segment it repeats
    /// (when it is among the sender's recent segments).
    pub retrans_of: Option<(u64, i64)>,
    /// The sender's previous window (scaled), for window updates.
    pub prev_window: Option<u32>,
    /// The next sequence number expected from the sender before this packet
    /// (relative), for "previous segment not captured".
    pub expected_seq: Option<u32>,
    /// This FIN is the connection's first (the sender closes first).
    pub first_fin: bool,
    /// With this packet both FINs are acknowledged: the connection is closed.
    pub closes: bool,
    /// This RST refuses a connection (answers a SYN, nothing established).
    pub refused: bool,
}

/// Analysis results of one packet, as a bit set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Analysis(pub u32);

impl Analysis {
    pub const RETRANSMISSION: u32 = 1 << 0;
    pub const FAST_RETRANSMISSION: u32 = 1 << 1;
    pub const SPURIOUS_RETRANSMISSION: u32 = 1 << 2;
    pub const OUT_OF_ORDER: u32 = 1 << 3;
    pub const DUPLICATE_ACK: u32 = 1 << 4;
    pub const ZERO_WINDOW: u32 = 1 << 5;
    pub const ZERO_WINDOW_PROBE: u32 = 1 << 6;
    pub const ZERO_WINDOW_PROBE_ACK: u32 = 1 << 7;
    pub const WINDOW_FULL: u32 = 1 << 8;
    pub const WINDOW_UPDATE: u32 = 1 << 9;
    pub const KEEP_ALIVE: u32 = 1 << 10;
    pub const KEEP_ALIVE_ACK: u32 = 1 << 11;
    pub const LOST_SEGMENT: u32 = 1 << 12;
    pub const ACK_LOST_SEGMENT: u32 = 1 << 13;
    pub const REUSED_PORTS: u32 = 1 << 14;

    /// Every flag with its JSON name, in the order they are reported.
    pub const ALL: [(u32, &'static str); 15] = [
        (Self::REUSED_PORTS, "reused_ports"),
        (Self::LOST_SEGMENT, "lost_segment"),
        (Self::ACK_LOST_SEGMENT, "ack_lost_segment"),
        (Self::RETRANSMISSION, "retransmission"),
        (Self::FAST_RETRANSMISSION, "fast_retransmission"),
        (Self::SPURIOUS_RETRANSMISSION, "spurious_retransmission"),
        (Self::OUT_OF_ORDER, "out_of_order"),
        (Self::DUPLICATE_ACK, "duplicate_ack"),
        (Self::ZERO_WINDOW, "zero_window"),
        (Self::ZERO_WINDOW_PROBE, "zero_window_probe"),
        (Self::ZERO_WINDOW_PROBE_ACK, "zero_window_probe_ack"),
        (Self::WINDOW_FULL, "window_full"),
        (Self::WINDOW_UPDATE, "window_update"),
        (Self::KEEP_ALIVE, "keep_alive"),
        (Self::KEEP_ALIVE_ACK, "keep_alive_ack"),
    ];

    pub fn has(self, bit: u32) -> bool {
        self.0 & bit != 0
    }

    pub fn set(&mut self, bit: u32) {
        self.0 |= bit;
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Names of the flags that are set. A fast retransmission is also a
    /// retransmission, as in Wireshark (`tcp.analysis.retransmission`
    /// matches both).
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::ALL
            .iter()
            .filter(move |(b, _)| self.has(*b))
            .map(|&(_, n)| n)
    }
}

/// Result for one packet: flags, and for a duplicate ACK its number and the
/// frame it duplicates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    pub flags: Analysis,
    pub dup_ack_num: u32,
    pub dup_ack_of: u64,
}

/// How a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseKind {
    /// Both sides sent FIN.
    Fin,
    /// Only one side sent FIN before the input ended.
    HalfClosed,
    Reset,
    /// The SYN was answered by RST.
    Refused,
    /// Still open at the end of the input.
    Open,
    /// Idle longer than the timeout.
    Timeout,
    /// Dropped to make room in a full connection table.
    Evicted,
}

impl CloseKind {
    pub fn name(self) -> &'static str {
        match self {
            CloseKind::Fin => "fin",
            CloseKind::HalfClosed => "half-closed",
            CloseKind::Reset => "reset",
            CloseKind::Refused => "refused",
            CloseKind::Open => "open",
            CloseKind::Timeout => "timeout",
            CloseKind::Evicted => "evicted",
        }
    }
}

/// Who ended a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closer {
    Client,
    Server,
    Both,
}

impl Closer {
    pub fn name(self) -> &'static str {
        match self {
            Closer::Client => "client",
            Closer::Server => "server",
            Closer::Both => "both",
        }
    }
}

/// The summary of a finished (or still open) connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnRecord {
    pub stream: u64,
    pub client: Endpoint,
    pub server: Endpoint,
    pub start_ns: i64,
    pub end_ns: i64,
    pub first_frame: u64,
    pub last_frame: u64,
    pub mid_stream: bool,
    pub syn_frame: Option<u64>,
    pub synack_frame: Option<u64>,
    pub ack_frame: Option<u64>,
    pub rtt_ns: Option<i64>,
    pub close: CloseKind,
    pub closed_by: Option<Closer>,
    /// Packets and payload bytes [from client, from server].
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    /// Count of each analysis flag over the connection.
    pub analysis: Vec<(&'static str, u64)>,
    /// Zeek's history string.
    pub history: String,
    /// Zeek's conn_state.
    pub conn_state: &'static str,
    /// Bytes the reassembler never saw, per direction.
    pub missing: [u64; 2],
}

impl ConnRecord {
    /// Retransmissions over the connection (its `retransmission` count).
    pub fn retransmissions(&self) -> u64 {
        self.analysis
            .iter()
            .find(|(n, _)| *n == "retransmission")
            .map_or(0, |(_, c)| *c)
    }
}

/// Tracker notices for the output (never silent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrackNotice {
    /// Connections dropped from a full table.
    Evicted { count: usize, limit: usize },
    /// Reassembly gave up on a hole because a buffer limit was reached.
    BufferLimit {
        stream: u64,
        dir: Direction,
        limit: usize,
    },
}

impl TrackNotice {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            TrackNotice::Evicted { .. } => "connections_evicted",
            TrackNotice::BufferLimit { .. } => "reassembly_limit",
        }
    }

    /// Every variant once (tests; no wildcard: a new variant must be
    /// listed).
    #[cfg(test)]
    pub(crate) fn examples() -> Vec<Self> {
        let all = vec![
            TrackNotice::Evicted {
                count: 10,
                limit: 100,
            },
            TrackNotice::BufferLimit {
                stream: 3,
                dir: Direction::ToClient,
                limit: 1 << 20,
            },
        ];
        for t in &all {
            match t {
                TrackNotice::Evicted { .. } | TrackNotice::BufferLimit { .. } => {}
            }
        }
        all
    }
}
