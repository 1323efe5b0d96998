//! The packet view ([`PacketView`]): what the outputs print or use of a
//! decoded frame, read out of its slices once, on the read stage, together
//! with the tracker's TCP facts ([`TcpMeta`]). The outputs never parse the
//! frame again.

use etherparse::{
    Icmpv4Slice, Icmpv6Slice, LaxIpv4Slice, LaxIpv6Slice, LaxLinkExtSlice, LaxNetSlice,
    LaxSlicedPacket, LinkSlice, TcpSlice, TransportSlice,
};

use super::link::{self, NextLayer};
use super::options::parse_options;
use super::{wire_len_v4, wire_len_v6, Decoded, TcpMeta};
use crate::event::Frame;
use crate::event::{
    ByteRange, Icmpv4Message, Icmpv6Message, Net, Offered, PacketView, QuotedIpv4, TcpFlags,
    TcpOptionList, TcpOptions, TcpSegment, Transport, Unreachable, VlanTag, VlanTags,
};

/// Decodes `frame` into `view` and returns the tracker's TCP facts: what
/// `decode(frame).fill_view(..)` gives, with the common packet (IPv4 or
/// IPv6 right after the link header, unfragmented, a whole TCP header)
/// read straight from its slices, without assembling the slicer's
/// whole-packet value first.
pub fn decode_into_view<'a>(frame: &Frame<'a>, view: &mut PacketView) -> Option<TcpMeta<'a>> {
    if let Some(meta) = plain_tcp(frame, view) {
        return meta;
    }
    super::decode(frame).fill_view(frame.data, view)
}

/// The common TCP packet's view (what [`super::slice_plain`] takes, TCP
/// only); `None`, with `view` untouched, for anything else.
fn plain_tcp<'a>(frame: &Frame<'a>, view: &mut PacketView) -> Option<Option<TcpMeta<'a>>> {
    use etherparse::{ip_number, LaxIpSlice};
    let data = frame.data;
    let (link, rest) = link::parse(frame.linktype, data).ok()?;
    match link::next_layer(&link) {
        NextLayer::EtherType(0x0800 | 0x86dd) | NextLayer::Ip => {}
        _ => return None,
    }
    let (ip, stop) = LaxIpSlice::from_slice(rest).ok()?;
    let payload = ip.payload();
    if stop.is_some() || payload.fragmented || payload.ip_number != ip_number::TCP {
        return None;
    }
    let tcp = TcpSlice::from_slice(payload.payload).ok()?;
    view.link = link;
    view.vlans = VlanTags::default();
    view.issue = None;
    match &ip {
        LaxIpSlice::Ipv4(v4) => fill_ipv4(view, data, v4),
        LaxIpSlice::Ipv6(v6) => fill_ipv6(view, data, v6),
    };
    Some(fill_tcp(view, data, &tcp))
}

impl<'a> Decoded<'a> {
    /// The packet view of this frame (`data`, the bytes it was decoded
    /// from), and the tracker's TCP facts read in the same pass (equal to
    /// [`Decoded::tcp_meta`]).
    pub fn view(&self, data: &'a [u8]) -> (PacketView, Option<TcpMeta<'a>>) {
        let mut view = PacketView::undecoded(None);
        let meta = self.fill_view(data, &mut view);
        (view, meta)
    }

    /// [`Decoded::view`] written into `view` (where it will stay: the
    /// view is large enough that building it elsewhere and moving it costs
    /// more than filling it). Every field is written.
    pub fn fill_view(&self, data: &'a [u8], view: &mut PacketView) -> Option<TcpMeta<'a>> {
        view.link = self.link;
        view.issue = self.issue;
        view.net_start = 0;
        view.ip_payload_len = 0;
        view.transport = Transport::None;
        let Some(pkt) = &self.pkt else {
            view.vlans = VlanTags::default();
            view.net = Net::None;
            return None;
        };
        view.vlans = vlans(pkt);
        let ip_payload: &[u8] = match &pkt.net {
            Some(LaxNetSlice::Ipv4(v4)) => fill_ipv4(view, data, v4),
            Some(LaxNetSlice::Ipv6(v6)) => fill_ipv6(view, data, v6),
            Some(LaxNetSlice::Arp(arp)) => {
                let range = |part: &[u8]| ByteRange {
                    start: offset(data, part),
                    len: part.len().min(usize::from(u8::MAX)) as u8,
                };
                view.net = Net::Arp {
                    operation: arp.operation().0,
                    sender_hw: range(arp.sender_hw_addr()),
                    sender_proto: range(arp.sender_protocol_addr()),
                    target_proto: range(arp.target_protocol_addr()),
                };
                view.net_start = offset(data, arp.slice());
                return None;
            }
            None => {
                view.net = Net::Other {
                    ethertype: match &pkt.link {
                        Some(LinkSlice::EtherPayload(p)) => Some(p.ether_type.0),
                        _ => None,
                    },
                };
                return None;
            }
        };
        let ip_len = view.ip_payload_len;
        match &pkt.transport {
            Some(TransportSlice::Tcp(t)) => return fill_tcp(view, data, t),
            Some(TransportSlice::Udp(u)) => {
                view.transport = Transport::Udp {
                    sport: u.source_port(),
                    dport: u.destination_port(),
                    length: u.length(),
                }
            }
            Some(TransportSlice::Icmpv4(i)) => {
                view.transport = Transport::Icmpv4 {
                    kind: i.type_u8(),
                    code: i.code_u8(),
                    message: icmpv4(i),
                }
            }
            Some(TransportSlice::Icmpv6(i)) => {
                view.transport = Transport::Icmpv6 {
                    kind: i.type_u8(),
                    code: i.code_u8(),
                    message: icmpv6(i),
                }
            }
            Some(TransportSlice::Igmp(_)) => view.transport = Transport::Igmp,
            None => match &self.fragment_tcp {
                Some(t) => {
                    view.transport = Transport::TcpFragment(segment(data, t, ip_len));
                    if let Transport::TcpFragment(seg) = &mut view.transport {
                        read_options(seg, t);
                    }
                }
                None => view.transport = cut_short(view, ip_payload),
            },
        }
        None
    }
}

/// The IPv4 layer's facts; returns its payload.
#[inline(always)]
fn fill_ipv4<'a>(view: &mut PacketView, data: &[u8], v4: &LaxIpv4Slice<'a>) -> &'a [u8] {
    let h = v4.header();
    let payload = v4.payload();
    view.net = Net::Ipv4 {
        src: h.source(),
        dst: h.destination(),
        proto: payload.ip_number.0,
        fragmented: payload.fragmented,
        later_fragment: payload.fragmented && h.fragments_offset().value() != 0,
    };
    view.net_start = offset(data, h.slice());
    view.ip_payload_len = wire_len_v4(v4);
    payload.payload
}

/// The IPv6 layer's facts; returns its payload.
#[inline(always)]
fn fill_ipv6<'a>(view: &mut PacketView, data: &[u8], v6: &LaxIpv6Slice<'a>) -> &'a [u8] {
    let h = v6.header();
    let payload = v6.payload();
    view.net = Net::Ipv6 {
        src: h.source(),
        dst: h.destination(),
        proto: payload.ip_number.0,
        fragmented: payload.fragmented,
    };
    view.net_start = offset(data, h.slice());
    view.ip_payload_len = wire_len_v6(v6);
    payload.payload
}

/// A complete TCP header's facts, after the IP layer's; returns the
/// tracker's.
#[inline(always)]
fn fill_tcp<'a>(view: &mut PacketView, data: &'a [u8], t: &TcpSlice<'_>) -> Option<TcpMeta<'a>> {
    let addresses = view.addresses();
    view.transport = Transport::Tcp(segment(data, t, view.ip_payload_len));
    let (Transport::Tcp(seg), Some((src, dst))) = (&mut view.transport, addresses) else {
        return None;
    };
    let options = read_options(seg, t);
    let payload = data
        .get(usize::from(seg.payload_start)..)
        .and_then(|p| p.get(..seg.payload_len as usize))
        .unwrap_or_default();
    Some(TcpMeta {
        src,
        dst,
        sport: seg.sport,
        dport: seg.dport,
        seq: seg.seq,
        ack: seg.ack,
        flags: seg.flags,
        window: seg.window,
        options,
        payload,
        payload_len: seg.payload_wire_len,
    })
}

/// Where `part` starts in `data` (0 when it is not there, which a slice
/// of the frame always is).
fn offset(data: &[u8], part: &[u8]) -> u16 {
    crate::range_in(data, part)
        .and_then(|r| u16::try_from(r.start).ok())
        .unwrap_or(0)
}

fn vlans(pkt: &LaxSlicedPacket<'_>) -> VlanTags {
    let mut tags = VlanTags::default();
    for ext in &pkt.link_exts {
        if let LaxLinkExtSlice::Vlan(v) = ext {
            let h = v.to_header();
            let tci = (u16::from(h.pcp.value()) << 13)
                | (u16::from(h.drop_eligible_indicator) << 12)
                | h.vlan_id.value();
            tags.push(VlanTag {
                tci,
                ethertype: v.ether_type().0,
            });
        }
    }
    tags
}

/// A TCP header's facts, with its options left empty (they are read in
/// place, [`read_options`]: the list is most of the segment's size).
#[inline(always)]
fn segment(data: &[u8], t: &TcpSlice<'_>, ip_payload_len: u32) -> TcpSegment {
    let header = t.header_slice();
    // (A TCP slice's header has its 20 fixed bytes.)
    let h = header.first_chunk::<20>().copied().unwrap_or([0; 20]);
    let be16 = |at: usize| u16::from_be_bytes([h[at], h[at + 1]]);
    let be32 = |at: usize| u32::from_be_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
    let header_len = header.len() as u32;
    let payload_wire_len = ip_payload_len.saturating_sub(header_len);
    let start = offset(data, header);
    TcpSegment {
        sport: be16(0),
        dport: be16(2),
        seq: be32(4),
        ack: be32(8),
        // Byte 13 holds CWR…FIN; the low bit of byte 12 is NS.
        flags: TcpFlags(u16::from(h[13]) | (u16::from(h[12] & 1) << 8)),
        window: be16(14),
        urgent: be16(18),
        header_len: header_len.min(u32::from(u8::MAX)) as u8,
        payload_start: start.saturating_add(header_len as u16),
        payload_len: (t.payload().len() as u32).min(payload_wire_len),
        payload_wire_len,
        offered: Offered::default(),
        options: TcpOptionList::new(start.saturating_add(20)),
    }
}

/// Reads a segment's options into it; returns the tracker's reading.
#[inline(always)]
fn read_options(seg: &mut TcpSegment, t: &TcpSlice<'_>) -> TcpOptions {
    let options = parse_options(t.options(), &mut seg.options);
    seg.offered = Offered::from(&options);
    options
}

/// A transport header that could not be read: its ports when a TCP or UDP
/// header was cut short after them (tcpdump still shows them).
fn cut_short(view: &PacketView, ip_payload: &[u8]) -> Transport {
    match (view.ip_proto(), ip_payload) {
        (Some(6 | 17), &[s0, s1, d0, d1, ..]) if view.issue.is_some() => Transport::Ports {
            sport: u16::from_be_bytes([s0, s1]),
            dport: u16::from_be_bytes([d0, d1]),
        },
        _ => Transport::None,
    }
}

fn icmpv4(i: &Icmpv4Slice<'_>) -> Icmpv4Message {
    use etherparse::icmpv4::{DestUnreachableHeader as D, TimeExceededCode};
    use etherparse::Icmpv4Type as T;
    match i.icmp_type() {
        T::EchoRequest(h) => Icmpv4Message::EchoRequest {
            id: h.id,
            seq: h.seq,
        },
        T::EchoReply(h) => Icmpv4Message::EchoReply {
            id: h.id,
            seq: h.seq,
        },
        T::DestinationUnreachable(h) => Icmpv4Message::Unreachable {
            code: match h {
                D::Network => Unreachable::Network,
                D::Host => Unreachable::Host,
                D::Protocol => Unreachable::Protocol,
                D::Port => Unreachable::Port,
                _ => Unreachable::Other,
            },
            quoted: quoted_ipv4(i.payload()),
        },
        T::TimeExceeded(c) => Icmpv4Message::TimeExceeded {
            reassembly: c == TimeExceededCode::FragmentReassemblyTimeExceeded,
        },
        T::Redirect(_) => Icmpv4Message::Redirect,
        T::ParameterProblem(_) => Icmpv4Message::ParameterProblem,
        T::TimestampRequest(_) => Icmpv4Message::TimestampRequest,
        T::TimestampReply(_) => Icmpv4Message::TimestampReply,
        T::Unknown { .. } => Icmpv4Message::Unknown,
    }
}

/// The IPv4 header an ICMP error quotes, and the destination port of the
/// transport header after it.
fn quoted_ipv4(payload: &[u8]) -> Option<QuotedIpv4> {
    let q = etherparse::Ipv4HeaderSlice::from_slice(payload).ok()?;
    let off = usize::from(q.ihl()) * 4;
    Some(QuotedIpv4 {
        dst: q.destination(),
        proto: q.protocol().0,
        dport: payload
            .get(off + 2..off + 4)
            .map(|b| u16::from_be_bytes([b[0], b[1]])),
    })
}

fn icmpv6(i: &Icmpv6Slice<'_>) -> Icmpv6Message {
    use etherparse::Icmpv6Type as T;
    // (Offset 4: see `Icmpv6Message::NeighborSolicitation`.)
    let target = || <[u8; 16]>::try_from(i.payload().get(4..20).unwrap_or_default()).ok();
    match i.icmp_type() {
        T::EchoRequest(h) => Icmpv6Message::EchoRequest {
            id: h.id,
            seq: h.seq,
        },
        T::EchoReply(h) => Icmpv6Message::EchoReply {
            id: h.id,
            seq: h.seq,
        },
        T::DestinationUnreachable(_) => Icmpv6Message::DestinationUnreachable,
        T::PacketTooBig { mtu } => Icmpv6Message::PacketTooBig { mtu },
        T::TimeExceeded(_) => Icmpv6Message::TimeExceeded,
        T::ParameterProblem(_) => Icmpv6Message::ParameterProblem,
        T::RouterSolicitation => Icmpv6Message::RouterSolicitation,
        T::RouterAdvertisement(_) => Icmpv6Message::RouterAdvertisement,
        T::NeighborSolicitation => Icmpv6Message::NeighborSolicitation { target: target() },
        T::NeighborAdvertisement(_) => Icmpv6Message::NeighborAdvertisement { target: target() },
        T::Redirect => Icmpv6Message::Redirect,
        T::Unknown { .. } => Icmpv6Message::Unknown,
    }
}
