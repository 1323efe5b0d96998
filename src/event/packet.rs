//! A decoded packet as the outputs see it: every fact they print or use,
//! as plain values and offsets into the frame's bytes. `decode` fills it
//! once, on the read stage, from the same slicing the tracker reads; it
//! travels in every packet record to the output stage, so it holds no
//! borrowed parser types and nothing on the heap, and stays small (its
//! size is asserted below).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::tcp::{TcpFlags, TcpOptions};
use super::tcp_options::TcpOptionList;

/// A packet's layers as decoded, from the link header down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketView {
    pub link: LinkHeader,
    /// 802.1Q tags after an Ethernet (or cooked) header, outermost first.
    pub vlans: VlanTags,
    pub net: Net,
    /// Where the network header (IP or ARP) starts in the frame.
    pub net_start: u16,
    /// The IP payload's length on the wire (from the IP header's length
    /// fields; what was captured for an IPv6 jumbogram), 0 without IP.
    pub ip_payload_len: u32,
    pub transport: Transport,
    /// What stopped decoding, when something did.
    pub issue: Option<DecodeIssue>,
}

impl PacketView {
    /// A frame nothing could be read from.
    pub fn undecoded(issue: Option<DecodeIssue>) -> Self {
        Self {
            link: LinkHeader::Unknown,
            vlans: VlanTags::default(),
            net: Net::None,
            net_start: 0,
            ip_payload_len: 0,
            transport: Transport::None,
            issue,
        }
    }

    /// The TCP header of a complete (unfragmented) segment: what the
    /// tracker follows.
    pub fn tcp(&self) -> Option<&TcpSegment> {
        match &self.transport {
            Transport::Tcp(t) => Some(t),
            _ => None,
        }
    }

    /// Source and destination of an IP packet.
    pub fn addresses(&self) -> Option<(IpAddr, IpAddr)> {
        match self.net {
            Net::Ipv4 { src, dst, .. } => {
                Some((Ipv4Addr::from(src).into(), Ipv4Addr::from(dst).into()))
            }
            Net::Ipv6 { src, dst, .. } => {
                Some((Ipv6Addr::from(src).into(), Ipv6Addr::from(dst).into()))
            }
            _ => None,
        }
    }

    /// Source and destination ports of a TCP (complete or first-fragment)
    /// or UDP header.
    pub fn ports(&self) -> Option<(u16, u16)> {
        match &self.transport {
            Transport::Tcp(t) | Transport::TcpFragment(t) => Some((t.sport, t.dport)),
            Transport::Udp { sport, dport, .. } => Some((*sport, *dport)),
            _ => None,
        }
    }

    /// The IP protocol number of the payload (after IPv6 extension
    /// headers and an IPv4 authentication header).
    pub fn ip_proto(&self) -> Option<u8> {
        match self.net {
            Net::Ipv4 { proto, .. } | Net::Ipv6 { proto, .. } => Some(proto),
            _ => None,
        }
    }
}

/// A range of the frame's bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u16,
    pub len: u8,
}

impl ByteRange {
    /// The bytes in `frame` (empty if the range is not inside it).
    pub fn get<'a>(&self, frame: &'a [u8]) -> &'a [u8] {
        let start = usize::from(self.start);
        frame
            .get(start..start + usize::from(self.len))
            .unwrap_or_default()
    }
}

/// A link-layer address of up to 8 bytes (Linux cooked headers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HwAddr {
    len: u8,
    bytes: [u8; 8],
}

impl HwAddr {
    /// The first 8 bytes of `addr` at most (the field's size).
    pub fn new(addr: &[u8]) -> Self {
        let mut bytes = [0; 8];
        let len = addr.len().min(8);
        bytes[..len].copy_from_slice(&addr[..len]);
        Self {
            len: len as u8,
            bytes,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len).min(8)]
    }
}

/// The link-layer header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkHeader {
    Ethernet {
        dst: [u8; 6],
        src: [u8; 6],
        ethertype: u16,
    },
    /// Linux cooked capture v1.
    Sll {
        packet_type: u16,
        hatype: u16,
        addr: HwAddr,
        protocol: u16,
    },
    /// Linux cooked capture v2: also names the interface index.
    Sll2 {
        protocol: u16,
        ifindex: u32,
        hatype: u16,
        packet_type: u8,
        addr: HwAddr,
    },
    /// BSD loopback: the address family, in host order.
    Null {
        family: u32,
    },
    Raw,
    /// A link type netpeek does not decode, or a header cut short.
    Unknown,
}

/// One 802.1Q tag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VlanTag {
    /// Tag control information: priority (3 bits), DEI, VLAN id (12).
    pub tci: u16,
    /// The EtherType that follows the tag.
    pub ethertype: u16,
}

impl VlanTag {
    pub fn id(self) -> u16 {
        self.tci & 0x0fff
    }

    pub fn priority(self) -> u8 {
        (self.tci >> 13) as u8
    }
}

/// Up to three VLAN tags (as many as the decoder reads).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VlanTags {
    n: u8,
    tags: [VlanTag; 3],
}

impl VlanTags {
    /// Adds a tag; false when three are there already.
    pub fn push(&mut self, tag: VlanTag) -> bool {
        match self.tags.get_mut(usize::from(self.n)) {
            Some(slot) => {
                *slot = tag;
                self.n += 1;
                true
            }
            None => false,
        }
    }

    pub fn as_slice(&self) -> &[VlanTag] {
        &self.tags[..usize::from(self.n).min(3)]
    }
}

/// The network layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Net {
    /// Nothing after the link header was read: the link names no
    /// protocol netpeek decodes, or the IP header of a raw-IP frame could
    /// not be read.
    None,
    /// The link header names a next protocol that was not decoded or
    /// failed to decode: `ethertype` when the link gives an EtherType.
    Other { ethertype: Option<u16> },
    Ipv4 {
        src: [u8; 4],
        dst: [u8; 4],
        /// The payload's protocol (after an authentication header).
        proto: u8,
        fragmented: bool,
        /// A fragment other than the first (its offset is not 0).
        later_fragment: bool,
    },
    Ipv6 {
        src: [u8; 16],
        dst: [u8; 16],
        /// The payload's protocol, after the extension headers.
        proto: u8,
        fragmented: bool,
    },
    /// The addresses as ranges of the frame: their lengths are the
    /// packet's to say.
    Arp {
        operation: u16,
        sender_hw: ByteRange,
        sender_proto: ByteRange,
        target_proto: ByteRange,
    },
}

/// The transport layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    None,
    /// A complete TCP header of an unfragmented packet.
    Tcp(TcpSegment),
    /// The TCP header of a first IP fragment: shown, not tracked (the
    /// segment is incomplete).
    TcpFragment(TcpSegment),
    Udp {
        sport: u16,
        dport: u16,
        /// The UDP length field (header included).
        length: u16,
    },
    Icmpv4 {
        kind: u8,
        code: u8,
        message: Icmpv4Message,
    },
    Icmpv6 {
        kind: u8,
        code: u8,
        message: Icmpv6Message,
    },
    Igmp,
    /// A TCP or UDP header cut short after its ports.
    Ports {
        sport: u16,
        dport: u16,
    },
}

/// A TCP header and where its payload lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpSegment {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    pub urgent: u16,
    /// Header length in bytes (data offset × 4).
    pub header_len: u8,
    /// Where the payload starts in the frame.
    pub payload_start: u16,
    /// Payload bytes captured (never more than `payload_wire_len`).
    pub payload_len: u32,
    /// Payload length on the wire: the IP payload less the TCP header.
    pub payload_wire_len: u32,
    /// What the options offer, read as the tracker reads them.
    pub offered: Offered,
    pub options: TcpOptionList,
}

/// The options a handshake offers, with the tracker's reading (a known
/// option counts only with its proper length).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offered {
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    pub sack_permitted: bool,
    pub timestamps: bool,
}

impl From<&TcpOptions> for Offered {
    fn from(o: &TcpOptions) -> Self {
        Self {
            mss: o.mss,
            wscale: o.wscale,
            sack_permitted: o.sack_permitted,
            timestamps: o.timestamp.is_some(),
        }
    }
}

/// An ICMP message, classified as tcpdump names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Icmpv4Message {
    EchoRequest {
        id: u16,
        seq: u16,
    },
    EchoReply {
        id: u16,
        seq: u16,
    },
    Unreachable {
        code: Unreachable,
        /// The start of the datagram the error is about.
        quoted: Option<QuotedIpv4>,
    },
    TimeExceeded {
        /// Fragment reassembly (rather than the TTL in transit).
        reassembly: bool,
    },
    Redirect,
    ParameterProblem,
    TimestampRequest,
    TimestampReply,
    /// A type (or a type's code) with no name here.
    Unknown,
}

/// What was unreachable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unreachable {
    Network,
    Host,
    Protocol,
    Port,
    /// Any other (known) code.
    Other,
}

/// The facts of the IPv4 header an ICMP error quotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotedIpv4 {
    pub dst: [u8; 4],
    pub proto: u8,
    /// The quoted transport header's destination port, when captured.
    pub dport: Option<u16>,
}

/// An ICMPv6 message, classified as tcpdump names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Icmpv6Message {
    EchoRequest {
        id: u16,
        seq: u16,
    },
    EchoReply {
        id: u16,
        seq: u16,
    },
    DestinationUnreachable,
    PacketTooBig {
        mtu: u32,
    },
    TimeExceeded,
    ParameterProblem,
    RouterSolicitation,
    RouterAdvertisement,
    /// The target address as netpeek has always read it: the 16 bytes
    /// from offset 4 of the message body, when captured. (The target is
    /// at offset 0; the line shows these bytes, unchanged for now so that
    /// the output stays what it was.)
    NeighborSolicitation {
        target: Option<[u8; 16]>,
    },
    NeighborAdvertisement {
        target: Option<[u8; 16]>,
    },
    Redirect,
    /// Any other type (by its number).
    Unknown,
}

/// What stopped decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeIssue {
    /// The link type is not one netpeek decodes.
    UnknownLinkType(u16),
    /// The link header itself is cut short.
    LinkTruncated { need: u32, have: u32 },
    /// A layer was cut short by the snapshot length or a corrupt length
    /// field.
    Truncated {
        layer: DecodeLayer,
        need: u32,
        have: u32,
    },
    /// A header field holds an impossible value.
    Malformed { layer: DecodeLayer, what: Malformed },
}

impl DecodeIssue {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeIssue::UnknownLinkType(_) => "unknown_link_type",
            DecodeIssue::LinkTruncated { .. } => "link_header_truncated",
            DecodeIssue::Truncated { .. } => "layer_truncated",
            DecodeIssue::Malformed { .. } => "layer_malformed",
        }
    }
}

/// The layer a decode issue is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeLayer {
    Ethernet,
    Vlan,
    IpHeader,
    Ipv4Header,
    Ipv4Packet,
    Ipv6Header,
    Ipv6Packet,
    Ipv6Extension,
    IpAuthentication,
    TcpHeader,
    UdpHeader,
    UdpPayload,
    Icmp,
    Icmpv6,
    Arp,
    /// Any other header.
    Other,
}

/// An impossible header value, with the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// An IP header whose version is neither 4 nor 6.
    IpVersion(u8),
    /// An IPv4 header whose version is not 4.
    Ipv4Version(u8),
    /// An IPv6 header whose version is not 6.
    Ipv6Version(u8),
    /// An IPv4 header length (in 32-bit words) below 5.
    Ipv4HeaderLength(u8),
    /// An IP authentication header with payload length 0.
    AuthPayloadLength,
    /// An IPv6 hop-by-hop header after another extension header.
    HopByHopNotFirst,
    /// A TCP data offset below 5.
    TcpDataOffset(u8),
    /// A MACsec header whose version is not 0.
    MacsecVersion,
    /// A MACsec short length of 1 in an unmodified packet.
    MacsecShortLength,
    /// A Linux cooked header field (netpeek reads those headers itself,
    /// so this is not expected).
    LinuxSll,
}

#[cfg(test)]
pub(crate) mod examples {
    use super::*;

    /// Every [`DecodeIssue`] variant once (the match has no wildcard: a
    /// new variant must be listed).
    pub fn decode() -> Vec<DecodeIssue> {
        let all = vec![
            DecodeIssue::UnknownLinkType(147),
            DecodeIssue::LinkTruncated { need: 14, have: 10 },
            DecodeIssue::Truncated {
                layer: DecodeLayer::TcpHeader,
                need: 20,
                have: 12,
            },
            DecodeIssue::Malformed {
                layer: DecodeLayer::IpHeader,
                what: Malformed::IpVersion(7),
            },
        ];
        for d in &all {
            match d {
                DecodeIssue::UnknownLinkType(_)
                | DecodeIssue::LinkTruncated { .. }
                | DecodeIssue::Truncated { .. }
                | DecodeIssue::Malformed { .. } => {}
            }
        }
        all
    }

    /// Every [`DecodeLayer`] once.
    pub fn layers() -> Vec<DecodeLayer> {
        use DecodeLayer as L;
        let all = vec![
            L::Ethernet,
            L::Vlan,
            L::IpHeader,
            L::Ipv4Header,
            L::Ipv4Packet,
            L::Ipv6Header,
            L::Ipv6Packet,
            L::Ipv6Extension,
            L::IpAuthentication,
            L::TcpHeader,
            L::UdpHeader,
            L::UdpPayload,
            L::Icmp,
            L::Icmpv6,
            L::Arp,
            L::Other,
        ];
        for l in &all {
            match l {
                L::Ethernet
                | L::Vlan
                | L::IpHeader
                | L::Ipv4Header
                | L::Ipv4Packet
                | L::Ipv6Header
                | L::Ipv6Packet
                | L::Ipv6Extension
                | L::IpAuthentication
                | L::TcpHeader
                | L::UdpHeader
                | L::UdpPayload
                | L::Icmp
                | L::Icmpv6
                | L::Arp
                | L::Other => {}
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_stays_small() {
        // It travels in every packet record: a field that makes it grow
        // should be a choice, not an accident.
        assert_eq!(std::mem::size_of::<TcpOptionList>(), 112);
        assert_eq!(std::mem::size_of::<PacketView>(), 244);
    }
}
