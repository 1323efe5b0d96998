//! Frame → layered views: link header, then network and transport layers
//! through etherparse's lax slicer. Nothing here allocates or copies, and
//! nothing fails: a truncated or unknown layer becomes a [`DecodeIssue`]
//! and decoding stops there.

pub mod link;
pub mod options;
mod view;
#[cfg(test)]
mod view_tests;

pub use view::decode_into_view;

use std::net::IpAddr;

use etherparse::{LaxNetSlice, LaxSlicedPacket, TcpSlice, TransportSlice};

pub use crate::event::DecodeIssue;
use crate::event::{DecodeLayer, Frame, LinkHeader, Malformed, TcpFlags, TcpOptions};

/// A decoded frame: borrowed views into its bytes.
#[derive(Clone, Debug)]
pub struct Decoded<'a> {
    pub link: LinkHeader,
    /// Network layer and below (VLAN tags are in `pkt.link_exts`).
    pub pkt: Option<LaxSlicedPacket<'a>>,
    /// The TCP header of a first IP fragment, which etherparse leaves alone;
    /// shown (as tcpdump does) but not tracked (the segment is incomplete).
    pub fragment_tcp: Option<TcpSlice<'a>>,
    pub issue: Option<DecodeIssue>,
}

/// The TCP facts a packet carries, independent of etherparse: the tracker's
/// only input, so it can be tested without building packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpMeta<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    pub options: TcpOptions,
    /// Payload bytes captured (may be fewer than `payload_len`).
    pub payload: &'a [u8],
    /// Payload length on the wire, from the IP header.
    pub payload_len: u32,
}

impl TcpFlags {
    pub fn from_slice(tcp: &TcpSlice<'_>) -> Self {
        // Byte 13 holds CWR…FIN; the low bit of byte 12 is NS.
        let hdr = tcp.header_slice();
        let low = u16::from(hdr.get(13).copied().unwrap_or(0));
        let ns = u16::from(hdr.get(12).copied().unwrap_or(0) & 1) << 8;
        Self(low | ns)
    }
}

impl TcpOptions {
    /// Parses raw option bytes; stops quietly at anything malformed.
    pub fn parse(opts: &[u8]) -> Self {
        // Most segments of a connection with timestamps carry exactly
        // NOP, NOP, TS (the layout RFC 7323 suggests): read it directly.
        if let &[1, 1, 8, 10, v0, v1, v2, v3, e0, e1, e2, e3] = opts {
            return Self {
                timestamp: Some((
                    u32::from_be_bytes([v0, v1, v2, v3]),
                    u32::from_be_bytes([e0, e1, e2, e3]),
                )),
                ..Self::default()
            };
        }
        Self::parse_general(opts)
    }

    fn parse_general(mut opts: &[u8]) -> Self {
        let mut out = Self::default();
        while let Some((&kind, rest)) = opts.split_first() {
            match kind {
                0 => break,
                1 => {
                    opts = rest;
                    continue;
                }
                _ => {}
            }
            let Some(&len) = rest.first() else { break };
            let len = usize::from(len);
            if len < 2 || len > opts.len() {
                break;
            }
            let body = &opts[2..len];
            match (kind, body.len()) {
                (2, 2) => out.mss = Some(u16::from_be_bytes([body[0], body[1]])),
                (3, 1) => out.wscale = Some(body[0]),
                (4, 0) => out.sack_permitted = true,
                (5, n) if n % 8 == 0 => {
                    for chunk in body.chunks_exact(8) {
                        if usize::from(out.sack_count) < out.sack.len() {
                            let l = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
                            let r = u32::from_be_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
                            out.sack[usize::from(out.sack_count)] = (l, r);
                            out.sack_count += 1;
                        }
                    }
                }
                (8, 8) => {
                    let v = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                    let e = u32::from_be_bytes([body[4], body[5], body[6], body[7]]);
                    out.timestamp = Some((v, e));
                }
                _ => {}
            }
            opts = &opts[len..];
        }
        out
    }

    pub fn sack_blocks(&self) -> &[(u32, u32)] {
        &self.sack[..usize::from(self.sack_count).min(self.sack.len())]
    }
}

impl<'a> Decoded<'a> {
    /// The TCP facts for the tracker; `None` unless this is a complete
    /// (unfragmented) TCP header over IP.
    pub fn tcp_meta(&self) -> Option<TcpMeta<'a>> {
        let pkt = self.pkt.as_ref()?;
        let Some(TransportSlice::Tcp(tcp)) = pkt.transport.as_ref() else {
            return None;
        };
        // Addresses and wire length in one look at the network layer.
        let (src, dst, ip_len) = match pkt.net.as_ref()? {
            LaxNetSlice::Ipv4(v4) => {
                let h = v4.header();
                (
                    IpAddr::V4(h.source_addr()),
                    IpAddr::V4(h.destination_addr()),
                    wire_len_v4(v4),
                )
            }
            LaxNetSlice::Ipv6(v6) => {
                let h = v6.header();
                (
                    IpAddr::V6(h.source_addr()),
                    IpAddr::V6(h.destination_addr()),
                    wire_len_v6(v6),
                )
            }
            LaxNetSlice::Arp(_) => return None,
        };
        let hlen = tcp.header_slice().len() as u32;
        let payload_len = ip_len.saturating_sub(hlen);
        let payload = tcp.payload();
        let payload = payload.get(..payload_len as usize).unwrap_or(payload);
        Some(TcpMeta {
            src,
            dst,
            sport: tcp.source_port(),
            dport: tcp.destination_port(),
            seq: tcp.sequence_number(),
            ack: tcp.acknowledgment_number(),
            flags: TcpFlags::from_slice(tcp),
            window: tcp.window_size(),
            options: TcpOptions::parse(tcp.options()),
            payload,
            payload_len,
        })
    }
}

/// The IPv4 payload's wire length: total length less the header and any
/// authentication header.
fn wire_len_v4(v4: &etherparse::LaxIpv4Slice<'_>) -> u32 {
    let h = v4.header();
    let total = u32::from(h.total_len());
    let ihl = u32::from(h.ihl()) * 4;
    total.saturating_sub(ihl).saturating_sub(ext_len_v4(v4))
}

/// The IPv6 payload's wire length after the extension headers.
fn wire_len_v6(v6: &etherparse::LaxIpv6Slice<'_>) -> u32 {
    let plen = u32::from(v6.header().payload_length());
    let ext = v6.extensions().slice().len() as u32;
    if plen == 0 {
        // Jumbogram or zero: fall back to what was captured.
        v6.payload().payload.len() as u32
    } else {
        plen.saturating_sub(ext)
    }
}

fn ext_len_v4(v4: &etherparse::LaxIpv4Slice<'_>) -> u32 {
    v4.extensions()
        .auth
        .map(|a| a.slice().len() as u32)
        .unwrap_or(0)
}

/// Decodes one frame. Never fails; problems end up in `issue`.
pub fn decode<'a>(frame: &Frame<'a>) -> Decoded<'a> {
    let (link, rest) = match link::parse(frame.linktype, frame.data) {
        Ok(x) => x,
        Err(issue) => {
            return Decoded {
                link: LinkHeader::Unknown,
                pkt: None,
                fragment_tcp: None,
                issue: Some(issue),
            }
        }
    };
    let next = link::next_layer(&link);
    if let Some(pkt) = slice_plain(next, rest) {
        return Decoded {
            link,
            pkt: Some(pkt),
            fragment_tcp: None,
            issue: None,
        };
    }
    let pkt = match next {
        link::NextLayer::EtherType(et) => Some(LaxSlicedPacket::from_ether_type(
            etherparse::EtherType(et),
            rest,
        )),
        link::NextLayer::Ip => match LaxSlicedPacket::from_ip(rest) {
            Ok(p) => Some(p),
            Err(e) => {
                return Decoded {
                    link,
                    pkt: None,
                    fragment_tcp: None,
                    issue: Some(ip_issue(&e)),
                }
            }
        },
        link::NextLayer::None => None,
    };
    let mut issue = None;
    let mut fragment_tcp = None;
    if let Some(p) = &pkt {
        if let Some((err, layer)) = &p.stop_err {
            issue = Some(slice_issue(err, *layer));
        }
        if p.transport.is_none() && p.stop_err.is_none() {
            fragment_tcp = first_fragment_tcp(p);
        }
    }
    Decoded {
        link,
        pkt,
        fragment_tcp,
        issue,
    }
}

/// The common packet, sliced directly: IPv4 or IPv6 right after the link
/// header, not fragmented, then a TCP or UDP header, with nothing cut short
/// or malformed. The result is exactly what etherparse's lax slicer builds
/// for such a packet, without the slicer's layer-by-layer moves of the
/// whole packet value; `None` for anything else (VLAN tags, ARP, ICMP,
/// fragments, errors), which the slicer then handles.
fn slice_plain<'a>(next: link::NextLayer, rest: &'a [u8]) -> Option<LaxSlicedPacket<'a>> {
    use etherparse::{ip_number, EtherPayloadSlice, LaxIpSlice, LenSource, LinkSlice, UdpSlice};
    let link = match next {
        link::NextLayer::EtherType(et @ (0x0800 | 0x86dd)) => {
            Some(LinkSlice::EtherPayload(EtherPayloadSlice {
                ether_type: etherparse::EtherType(et),
                len_source: LenSource::Slice,
                payload: rest,
            }))
        }
        link::NextLayer::Ip => None,
        _ => return None,
    };
    let (ip, stop) = LaxIpSlice::from_slice(rest).ok()?;
    if stop.is_some() {
        return None;
    }
    let payload = ip.payload();
    if payload.fragmented {
        return None;
    }
    let transport = match payload.ip_number {
        ip_number::TCP => TransportSlice::Tcp(TcpSlice::from_slice(payload.payload).ok()?),
        ip_number::UDP => TransportSlice::Udp(UdpSlice::from_slice_lax(payload.payload).ok()?),
        _ => return None,
    };
    Some(LaxSlicedPacket {
        link,
        link_exts: Default::default(),
        net: Some(ip.into()),
        transport: Some(transport),
        stop_err: None,
    })
}

fn first_fragment_tcp<'a>(p: &LaxSlicedPacket<'a>) -> Option<TcpSlice<'a>> {
    let (payload, first) = match p.net.as_ref()? {
        LaxNetSlice::Ipv4(v4) => (v4.payload(), v4.header().fragments_offset().value() == 0),
        LaxNetSlice::Ipv6(v6) => (v6.payload(), true),
        LaxNetSlice::Arp(_) => return None,
    };
    if !payload.fragmented || !first || payload.ip_number != etherparse::ip_number::TCP {
        return None;
    }
    TcpSlice::from_slice(payload.payload).ok()
}

fn layer(layer: etherparse::err::Layer) -> DecodeLayer {
    use etherparse::err::Layer as L;
    match layer {
        L::Ethernet2Header => DecodeLayer::Ethernet,
        L::VlanHeader => DecodeLayer::Vlan,
        L::Ipv4Header => DecodeLayer::Ipv4Header,
        L::Ipv4Packet => DecodeLayer::Ipv4Packet,
        L::Ipv6Header => DecodeLayer::Ipv6Header,
        L::Ipv6Packet => DecodeLayer::Ipv6Packet,
        L::IpHeader => DecodeLayer::IpHeader,
        L::TcpHeader => DecodeLayer::TcpHeader,
        L::UdpHeader => DecodeLayer::UdpHeader,
        L::UdpPayload => DecodeLayer::UdpPayload,
        L::Icmpv4 | L::Icmpv4Timestamp | L::Icmpv4TimestampReply => DecodeLayer::Icmp,
        L::Icmpv6 => DecodeLayer::Icmpv6,
        L::Ipv6ExtHeader
        | L::Ipv6HopByHopHeader
        | L::Ipv6DestOptionsHeader
        | L::Ipv6RouteHeader
        | L::Ipv6FragHeader => DecodeLayer::Ipv6Extension,
        L::IpAuthHeader => DecodeLayer::IpAuthentication,
        L::Arp => DecodeLayer::Arp,
        _ => DecodeLayer::Other,
    }
}

/// A length as the issue holds it (frames are far below 4 GiB).
fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn ip_malformed(e: &etherparse::err::ip::HeaderError) -> Malformed {
    use etherparse::err::ip::HeaderError as H;
    match e {
        H::UnsupportedIpVersion { version_number } => Malformed::IpVersion(*version_number),
        H::Ipv4HeaderLengthSmallerThanHeader { ihl } => Malformed::Ipv4HeaderLength(*ihl),
    }
}

fn slice_issue(
    err: &etherparse::err::packet::SliceError,
    layer: etherparse::err::Layer,
) -> DecodeIssue {
    use etherparse::err::packet::SliceError as E;
    use etherparse::err::{ip_auth, ipv4, ipv6, ipv6_exts, macsec, tcp};
    let auth = |e: &ip_auth::HeaderError| match e {
        ip_auth::HeaderError::ZeroPayloadLen => Malformed::AuthPayloadLength,
    };
    let what = match err {
        E::Len(l) => {
            return DecodeIssue::Truncated {
                layer: self::layer(l.layer),
                need: len32(l.required_len),
                have: len32(l.len),
            }
        }
        E::Ip(e) => ip_malformed(e),
        E::Ipv4(ipv4::HeaderError::UnexpectedVersion { version_number }) => {
            Malformed::Ipv4Version(*version_number)
        }
        E::Ipv4(ipv4::HeaderError::HeaderLengthSmallerThanHeader { ihl }) => {
            Malformed::Ipv4HeaderLength(*ihl)
        }
        E::Ipv6(ipv6::HeaderError::UnexpectedVersion { version_number }) => {
            Malformed::Ipv6Version(*version_number)
        }
        E::Ipv4Exts(e) | E::Ipv6Exts(ipv6_exts::HeaderError::IpAuth(e)) => auth(e),
        E::Ipv6Exts(ipv6_exts::HeaderError::HopByHopNotAtStart) => Malformed::HopByHopNotFirst,
        E::Tcp(tcp::HeaderError::DataOffsetTooSmall { data_offset }) => {
            Malformed::TcpDataOffset(*data_offset)
        }
        E::Macsec(macsec::HeaderError::UnexpectedVersion) => Malformed::MacsecVersion,
        E::Macsec(macsec::HeaderError::InvalidUnmodifiedShortLen) => Malformed::MacsecShortLength,
        E::LinuxSll(_) => Malformed::LinuxSll,
    };
    DecodeIssue::Malformed {
        layer: self::layer(layer),
        what,
    }
}

fn ip_issue(err: &etherparse::err::ip::LaxHeaderSliceError) -> DecodeIssue {
    use etherparse::err::ip::LaxHeaderSliceError as E;
    match err {
        E::Len(l) => DecodeIssue::Truncated {
            layer: layer(l.layer),
            need: len32(l.required_len),
            have: len32(l.len),
        },
        E::Content(c) => DecodeIssue::Malformed {
            layer: DecodeLayer::IpHeader,
            what: ip_malformed(c),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::LinkType;

    fn frame(linktype: LinkType, data: &[u8]) -> Frame<'_> {
        Frame {
            number: 1,
            ts_ns: 0,
            interface: 0,
            linktype,
            caplen: data.len() as u32,
            len: data.len() as u32,
            data,
            comment: None,
            record_issue: None,
        }
    }

    /// IPv6 (with hop-by-hop and destination-options headers) + TCP.
    fn ipv6_tcp_with_extensions() -> Vec<u8> {
        let mut tcp = Vec::new();
        etherparse::TcpHeader::new(40000, 80, 7, 1000)
            .write(&mut tcp)
            .unwrap();
        tcp.extend_from_slice(b"GET");
        let mut p = vec![0x60, 0, 0, 0];
        let plen = (8 + 8 + tcp.len()) as u16;
        p.extend_from_slice(&plen.to_be_bytes());
        p.push(0); // next: hop-by-hop
        p.push(64);
        p.extend_from_slice(&[0; 15]);
        p.push(1); // ::1
        p.extend_from_slice(&[0; 15]);
        p.push(1);
        p.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]); // HBH → dest opts, PadN
        p.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]); // dest opts → TCP
        p.extend_from_slice(&tcp);
        p
    }

    #[test]
    fn ipv6_extension_headers_are_skipped_on_every_link_type() {
        let ip = ipv6_tcp_with_extensions();
        let mut eth = vec![0; 12];
        eth.extend_from_slice(&[0x86, 0xdd]);
        eth.extend_from_slice(&ip);
        let mut vlan2 = vec![0; 12];
        vlan2.extend_from_slice(&[0x88, 0xa8, 0, 30, 0x81, 0x00, 0, 20, 0x86, 0xdd]);
        vlan2.extend_from_slice(&ip);
        let null = |af: u32, le: bool| {
            let mut v = if le {
                af.to_le_bytes().to_vec()
            } else {
                af.to_be_bytes().to_vec()
            };
            v.extend_from_slice(&ip);
            v
        };
        let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x86, 0xdd];
        sll.extend_from_slice(&ip);
        let mut sll2 = vec![
            0x86, 0xdd, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0,
        ];
        sll2.extend_from_slice(&ip);
        let cases: Vec<(LinkType, Vec<u8>)> = vec![
            (LinkType::ETHERNET, eth),
            (LinkType::ETHERNET, vlan2),
            (LinkType::NULL, null(24, true)),
            (LinkType::NULL, null(28, false)),
            (LinkType::NULL, null(30, true)),
            (LinkType::LOOP, null(24, false)),
            (LinkType::LINUX_SLL, sll),
            (LinkType::LINUX_SLL2, sll2),
            (LinkType::RAW, ip.clone()),
            (LinkType::IPV6, ip.clone()),
        ];
        for (lt, data) in &cases {
            let d = decode(&frame(*lt, data));
            assert_eq!(d.issue, None, "{lt:?}");
            let m = d.tcp_meta().unwrap_or_else(|| panic!("no TCP for {lt:?}"));
            assert_eq!((m.sport, m.dport, m.seq), (40000, 80, 7), "{lt:?}");
            assert_eq!(m.payload, b"GET", "{lt:?}");
            assert_eq!(m.payload_len, 3, "{lt:?}");
            assert_eq!(m.src, "::1".parse::<IpAddr>().unwrap());
        }
    }

    #[test]
    fn truncated_tcp_header_is_an_issue_not_a_panic() {
        let mut pkt = Vec::new();
        etherparse::PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(1, 2, 3, 4)
            .write(&mut pkt, b"payload")
            .unwrap();
        for cut in 0..pkt.len() {
            let d = decode(&frame(LinkType::RAW, &pkt[..cut]));
            if cut < 40 {
                assert!(d.tcp_meta().is_none(), "cut {cut}");
                assert!(d.issue.is_some(), "cut {cut}: no issue");
            } else {
                // Payload cut by the snapshot length: wire length still known.
                let m = d.tcp_meta().unwrap();
                assert_eq!(m.payload_len, 7);
                assert_eq!(m.payload.len(), cut - 40);
            }
        }
        let d = decode(&frame(LinkType(4242), &pkt));
        assert_eq!(d.issue, Some(DecodeIssue::UnknownLinkType(4242)));
    }

    #[test]
    fn plain_slicing_matches_etherparse() {
        let mut v4_tcp = Vec::new();
        etherparse::PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(1, 2, 3, 4)
            .write(&mut v4_tcp, b"payload")
            .unwrap();
        let mut v4_udp = Vec::new();
        etherparse::PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(53, 5353)
            .write(&mut v4_udp, b"dns")
            .unwrap();
        let mut v6_udp = Vec::new();
        etherparse::PacketBuilder::ipv6([1; 16], [2; 16], 64)
            .udp(53, 5353)
            .write(&mut v6_udp, b"dns")
            .unwrap();
        let mut v4_icmp = Vec::new();
        etherparse::PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .icmpv4_echo_request(1, 2)
            .write(&mut v4_icmp, b"ping")
            .unwrap();
        let mut frag = v4_tcp.clone();
        frag[6] = 0x20; // more fragments
        let mut long = v4_tcp.clone();
        long.extend_from_slice(b"trailer beyond the IP total length");
        let mut bad_tcp = v4_tcp.clone();
        bad_tcp[32] = 0x20; // data offset 2: shorter than a TCP header
        let packets = [
            v4_tcp,
            v4_udp,
            v6_udp,
            v4_icmp,
            frag,
            long,
            bad_tcp,
            ipv6_tcp_with_extensions(),
        ];
        let mut fast = 0;
        for p in &packets {
            for cut in 0..=p.len() {
                let p = &p[..cut];
                for et in [0x0800, 0x86dd, 0x0806, 0x8100] {
                    let next = link::NextLayer::EtherType(et);
                    if let Some(got) = slice_plain(next, p) {
                        let want = LaxSlicedPacket::from_ether_type(etherparse::EtherType(et), p);
                        assert_eq!(got, want, "ethertype {et:#x}, cut {cut}");
                        fast += 1;
                    }
                }
                if let Some(got) = slice_plain(link::NextLayer::Ip, p) {
                    assert_eq!(Ok(got), LaxSlicedPacket::from_ip(p), "raw, cut {cut}");
                    fast += 1;
                }
                assert_eq!(slice_plain(link::NextLayer::None, p), None);
            }
        }
        assert!(fast > 100, "the fast path was taken {fast} times");
    }

    #[test]
    fn options_parse_common_syn() {
        // mss 1460, nop, wscale 4, nop, nop, TS val 1 ecr 0, sackOK, eol
        let opts = [
            2, 4, 0x05, 0xb4, 1, 3, 3, 4, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 4, 2, 0, 0,
        ];
        let o = TcpOptions::parse(&opts);
        assert_eq!(o.mss, Some(1460));
        assert_eq!(o.wscale, Some(4));
        assert_eq!(o.timestamp, Some((1, 0)));
        assert!(o.sack_permitted);
    }

    #[test]
    fn options_parse_nop_nop_timestamp() {
        let opts = [1, 1, 8, 10, 0, 0, 1, 2, 0xff, 0, 0, 3];
        let o = TcpOptions::parse(&opts);
        assert_eq!(o.timestamp, Some((258, 0xff00_0003)));
        assert_eq!(o, TcpOptions::parse_general(&opts));
        // The same bytes with something after them take the general path.
        let mut longer = opts.to_vec();
        longer.extend_from_slice(&[4, 2]);
        assert!(TcpOptions::parse(&longer).sack_permitted);
    }

    #[test]
    fn options_parse_rejects_bad_length() {
        let o = TcpOptions::parse(&[2, 40, 1, 2]);
        assert_eq!(o, TcpOptions::default());
        let o = TcpOptions::parse(&[2, 1]);
        assert_eq!(o, TcpOptions::default());
    }

    #[test]
    fn options_parse_sack_blocks() {
        let mut opts = vec![5, 18];
        for v in [10u32, 20, 30, 40] {
            opts.extend_from_slice(&v.to_be_bytes());
        }
        let o = TcpOptions::parse(&opts);
        assert_eq!(o.sack_blocks(), &[(10, 20), (30, 40)]);
    }
}
