//! The packet view as the decoder fills it, on frames built byte by byte:
//! every layer's facts, TCP options of every kind, ICMP errors quoting a
//! packet, VLAN tags, Linux cooked headers, and frames cut anywhere. The
//! view's TCP facts are always the tracker's ([`Decoded::tcp_meta`]), and
//! the direct path for common packets fills exactly what the general one
//! does.

use std::net::IpAddr;

use super::{decode, decode_into_view, Decoded, TcpMeta};
use crate::event::{
    ByteRange, DecodeIssue, DecodeLayer, Frame, HwAddr, Icmpv4Message, Icmpv6Message, LinkHeader,
    LinkType, Malformed, Net, Offered, PacketView, QuotedIpv4, TcpFlags, TcpOption, Transport,
    Unreachable,
};

const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 0xa];
const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 0xb];

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

/// The view both ways, checked equal, with the TCP facts.
fn view_of(linktype: LinkType, data: &[u8]) -> (PacketView, Option<TcpMeta<'_>>) {
    let f = frame(linktype, data);
    let d: Decoded<'_> = decode(&f);
    let (view, meta) = d.view(data);
    assert_eq!(meta, d.tcp_meta(), "the view's TCP facts are the tracker's");
    let mut direct = PacketView::undecoded(Some(DecodeIssue::UnknownLinkType(9)));
    let direct_meta = decode_into_view(&f, &mut direct);
    assert_eq!(
        direct, view,
        "the direct path fills what the general one does"
    );
    assert_eq!(direct_meta, meta);
    (view, meta)
}

fn tcp(sport: u16, dport: u16, seq: u32, flags: u8, opts: &[u8], payload: &[u8]) -> Vec<u8> {
    assert_eq!(opts.len() % 4, 0, "options pad to whole words");
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&7u32.to_be_bytes()); // ack
    t.push((((20 + opts.len()) / 4) << 4) as u8);
    t.push(flags);
    t.extend_from_slice(&1000u16.to_be_bytes()); // window
    t.extend_from_slice(&[0, 0]); // checksum
    t.extend_from_slice(&3u16.to_be_bytes()); // urgent pointer
    t.extend_from_slice(opts);
    t.extend_from_slice(payload);
    t
}

fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], frag: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
    p.extend_from_slice(&[0, 1]); // id
    p.extend_from_slice(&frag.to_be_bytes());
    p.extend_from_slice(&[64, proto, 0, 0]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(payload);
    p
}

fn ipv6(next: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.extend_from_slice(&[next, 64]);
    p.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    p.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    p.extend_from_slice(payload);
    p
}

/// Ethernet with 802.1Q tags (TCI, each followed by the next EtherType).
fn eth(tags: &[u16], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut e = MAC_B.to_vec();
    e.extend_from_slice(&MAC_A);
    let mut types = vec![ethertype];
    if !tags.is_empty() {
        types = vec![0x88a8];
        types.extend(std::iter::repeat_n(0x8100, tags.len() - 1));
        types.push(ethertype);
    }
    e.extend_from_slice(&types[0].to_be_bytes());
    for (tci, next) in tags.iter().zip(&types[1..]) {
        e.extend_from_slice(&tci.to_be_bytes());
        e.extend_from_slice(&next.to_be_bytes());
    }
    e.extend_from_slice(payload);
    e
}

fn options(v: &PacketView) -> Vec<String> {
    let t = match &v.transport {
        Transport::Tcp(t) | Transport::TcpFragment(t) => t,
        other => panic!("not TCP: {other:?}"),
    };
    t.options
        .iter()
        .map(|o| match o {
            TcpOption::Sack {
                blocks: Some(b),
                len,
            } => format!("sack {len} {:?}", b.iter().collect::<Vec<_>>()),
            o => format!("{o:?}"),
        })
        .collect()
}

#[test]
fn vlan_tagged_ipv4_tcp_with_every_option_kind() {
    // mss 1460, nop, wscale 7, sackOK, TS 1/2, sack 2 blocks: 40 bytes.
    let mut opts = vec![
        2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2,
    ];
    opts.extend_from_slice(&[5, 18]);
    for v in [100u32, 200, 300, 400] {
        opts.extend_from_slice(&v.to_be_bytes());
    }
    opts.extend_from_slice(&[0, 0]); // eol and padding
    assert_eq!(opts.len(), 40);
    let seg = tcp(40000, 80, 1000, 0x18, &opts, b"GET /");
    let ip = ipv4(6, [10, 0, 0, 1], [10, 0, 0, 2], 0, &seg);
    let data = eth(&[0x6005, 0x0014], 0x0800, &ip);
    let (v, meta) = view_of(LinkType::ETHERNET, &data);
    assert_eq!(
        v.link,
        LinkHeader::Ethernet {
            dst: MAC_B,
            src: MAC_A,
            ethertype: 0x88a8
        }
    );
    let tags: Vec<_> = v
        .vlans
        .as_slice()
        .iter()
        .map(|t| (t.id(), t.priority(), t.ethertype))
        .collect();
    assert_eq!(tags, [(5, 3, 0x8100), (20, 0, 0x0800)]);
    assert_eq!(
        v.net,
        Net::Ipv4 {
            src: [10, 0, 0, 1],
            dst: [10, 0, 0, 2],
            proto: 6,
            fragmented: false,
            later_fragment: false
        }
    );
    assert_eq!(v.net_start, 22);
    assert_eq!(v.ip_payload_len, 60 + 5);
    assert_eq!(v.issue, None);
    let t = v.tcp().expect("TCP");
    assert_eq!((t.sport, t.dport, t.seq, t.ack), (40000, 80, 1000, 7));
    assert_eq!(t.flags, TcpFlags(0x18));
    assert_eq!((t.window, t.urgent, t.header_len), (1000, 3, 60));
    assert_eq!(
        (t.payload_start, t.payload_len, t.payload_wire_len),
        (102, 5, 5)
    );
    assert_eq!(
        &data[usize::from(t.payload_start)..][..t.payload_len as usize],
        b"GET /"
    );
    assert_eq!(
        t.offered,
        Offered {
            mss: Some(1460),
            wscale: Some(7),
            sack_permitted: true,
            timestamps: true
        }
    );
    assert_eq!(
        options(&v),
        [
            "Mss { value: 1460, len: 4 }",
            "Nop",
            "WindowScale { shift: 7, len: 3 }",
            "SackPermitted { len: 2 }",
            "Timestamp { val: 1, ecr: 2, len: 10 }",
            "sack 18 [(100, 200), (300, 400)]",
            "Eol",
        ]
    );
    let m = meta.expect("tracked");
    assert_eq!(m.payload, b"GET /");
    assert_eq!(m.src, "10.0.0.1".parse::<IpAddr>().unwrap());
    assert_eq!(m.options.sack_blocks(), &[(100, 200), (300, 400)]);
}

#[test]
fn named_and_unknown_options_keep_their_lengths_and_bodies() {
    // md5 (18 bytes, signature zeros), nop, nop, unknown 99 with body
    // ab cd ef, tfo with a cookie (4 bytes), utolen cut to 3, then pad.
    let mut opts = vec![19, 18];
    opts.extend_from_slice(&[0; 16]);
    opts.extend_from_slice(&[1, 1, 99, 5, 0xab, 0xcd, 0xef, 34, 6, 1, 2, 3, 4, 28, 3, 0]);
    assert_eq!(opts.len(), 34);
    opts.extend_from_slice(&[0, 0]);
    let seg = tcp(1, 2, 3, 0x02, &opts, b"");
    let data = ipv4(6, [1, 1, 1, 1], [2, 2, 2, 2], 0, &seg);
    let (v, _) = view_of(LinkType::RAW, &data);
    let start = 20 + 20;
    assert_eq!(
        options(&v),
        [
            "Other { kind: 19, len: 18, body: ByteRange { start: 42, len: 16 } }".to_string(),
            "Nop".into(),
            "Nop".into(),
            format!(
                "Other {{ kind: 99, len: 5, body: ByteRange {{ start: {}, len: 3 }} }}",
                start + 22
            ),
            format!(
                "Other {{ kind: 34, len: 6, body: ByteRange {{ start: {}, len: 4 }} }}",
                start + 27
            ),
            format!(
                "Other {{ kind: 28, len: 3, body: ByteRange {{ start: {}, len: 1 }} }}",
                start + 33
            ),
            "Eol".into(),
        ]
    );
    let body = ByteRange {
        start: start + 22,
        len: 3,
    };
    assert_eq!(body.get(&data), [0xab, 0xcd, 0xef]);
    // What tcpdump cannot read ends the list; the tracker reads on.
    let seg = tcp(1, 2, 3, 0x02, &[3, 2, 2, 4, 5, 0xb4, 1, 1], b"");
    let data = ipv4(6, [1, 1, 1, 1], [2, 2, 2, 2], 0, &seg);
    let (v, meta) = view_of(LinkType::RAW, &data);
    assert_eq!(options(&v), ["Bad"]);
    assert_eq!(v.tcp().unwrap().offered.mss, Some(1460));
    assert_eq!(meta.unwrap().options.mss, Some(1460));
}

#[test]
fn icmp_errors_quote_the_ipv4_and_tcp_headers() {
    // A port unreachable quoting an IPv4 header and the first 8 bytes of
    // the TCP segment it is about.
    let quoted_tcp = tcp(5555, 8080, 1, 0x02, &[], b"");
    let quoted = ipv4(6, [10, 0, 0, 2], [10, 9, 9, 9], 0, &quoted_tcp);
    let mut icmp = vec![3, 3, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&quoted[..28]);
    let data = ipv4(1, [10, 9, 9, 9], [10, 0, 0, 2], 0, &icmp);
    let (v, meta) = view_of(LinkType::RAW, &data);
    assert_eq!(meta, None);
    assert_eq!(
        v.transport,
        Transport::Icmpv4 {
            kind: 3,
            code: 3,
            message: Icmpv4Message::Unreachable {
                code: Unreachable::Port,
                quoted: Some(QuotedIpv4 {
                    dst: [10, 9, 9, 9],
                    proto: 6,
                    dport: Some(8080)
                })
            }
        }
    );
    assert_eq!(v.ip_payload_len, 36);
    // Quoting the IPv4 header alone: no port.
    let mut icmp = vec![3, 1, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&quoted[..20]);
    let data = ipv4(1, [10, 9, 9, 9], [10, 0, 0, 2], 0, &icmp);
    let (v, _) = view_of(LinkType::RAW, &data);
    let Transport::Icmpv4 { message, .. } = v.transport else {
        panic!("{v:?}")
    };
    assert_eq!(
        message,
        Icmpv4Message::Unreachable {
            code: Unreachable::Host,
            quoted: Some(QuotedIpv4 {
                dst: [10, 9, 9, 9],
                proto: 6,
                dport: None
            })
        }
    );
    // Nothing quoted, and the other messages by their names.
    for (kind, code, rest, want) in [
        (
            3u8,
            13u8,
            vec![],
            Icmpv4Message::Unreachable {
                code: Unreachable::Other,
                quoted: None,
            },
        ),
        (
            8,
            0,
            vec![],
            Icmpv4Message::EchoRequest { id: 0x102, seq: 3 },
        ),
        (
            11,
            1,
            vec![],
            Icmpv4Message::TimeExceeded { reassembly: true },
        ),
        (
            11,
            0,
            vec![],
            Icmpv4Message::TimeExceeded { reassembly: false },
        ),
        (13, 0, vec![0; 12], Icmpv4Message::TimestampRequest),
        (42, 0, vec![], Icmpv4Message::Unknown),
    ] {
        let mut icmp = vec![kind, code, 0, 0, 1, 2, 0, 3];
        icmp.extend_from_slice(&rest);
        let data = ipv4(1, [1, 1, 1, 1], [2, 2, 2, 2], 0, &icmp);
        let (v, _) = view_of(LinkType::IPV4, &data);
        assert_eq!(
            v.transport,
            Transport::Icmpv4 {
                kind,
                code,
                message: want
            },
            "type {kind} code {code}"
        );
    }
}

#[test]
fn icmpv6_messages_and_neighbor_targets() {
    // A solicitation with a source link-layer address option.
    let mut ns = vec![135, 0, 0, 0, 0, 0, 0, 0];
    ns.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]);
    ns.extend_from_slice(&[1, 1, 2, 0, 0, 0, 0, 0xa]);
    let data = ipv6(58, &ns);
    let (v, _) = view_of(LinkType::IPV6, &data);
    // The 16 bytes from offset 4 of the body, as the line has always
    // shown them (see `Icmpv6Message::NeighborSolicitation`).
    let mut target = [0; 16];
    target.copy_from_slice(&ns[12..28]);
    assert_eq!(
        v.transport,
        Transport::Icmpv6 {
            kind: 135,
            code: 0,
            message: Icmpv6Message::NeighborSolicitation {
                target: Some(target)
            }
        }
    );
    // Bytes cut off by the snapshot length are not there.
    let cut = &data[..data.len() - 5];
    let (v, _) = view_of(LinkType::IPV6, cut);
    assert!(matches!(
        v.transport,
        Transport::Icmpv6 {
            message: Icmpv6Message::NeighborSolicitation { target: None },
            ..
        }
    ));
    let too_big = ipv6(58, &[2, 0, 0, 0, 0, 0, 5, 0xdc]);
    let (v, _) = view_of(LinkType::RAW, &too_big);
    assert!(matches!(
        v.transport,
        Transport::Icmpv6 {
            message: Icmpv6Message::PacketTooBig { mtu: 1500 },
            ..
        }
    ));
    let mld = ipv6(58, &[143, 0, 0, 0, 0, 0, 0, 0]);
    let (v, _) = view_of(LinkType::RAW, &mld);
    assert!(matches!(
        v.transport,
        Transport::Icmpv6 {
            kind: 143,
            message: Icmpv6Message::Unknown,
            ..
        }
    ));
}

#[test]
fn linux_cooked_headers_and_bsd_loopback() {
    let seg = tcp(1, 2, 3, 0x10, &[1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 8], b"x");
    let ip = ipv4(6, [1, 1, 1, 1], [2, 2, 2, 2], 0, &seg);
    let mut sll = vec![0, 4, 0, 1, 0, 6];
    sll.extend_from_slice(&MAC_A);
    sll.extend_from_slice(&[0, 0, 0x08, 0x00]);
    sll.extend_from_slice(&ip);
    let (v, meta) = view_of(LinkType::LINUX_SLL, &sll);
    assert_eq!(
        v.link,
        LinkHeader::Sll {
            packet_type: 4,
            hatype: 1,
            addr: HwAddr::new(&MAC_A),
            protocol: 0x0800
        }
    );
    assert_eq!(v.net_start, 16);
    assert_eq!(meta.unwrap().options.timestamp, Some((9, 8)));
    assert_eq!(
        options(&v),
        ["Nop", "Nop", "Timestamp { val: 9, ecr: 8, len: 10 }"]
    );
    let mut sll2 = vec![0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6];
    sll2.extend_from_slice(&MAC_B);
    sll2.extend_from_slice(&[0, 0]);
    sll2.extend_from_slice(&ip);
    let (v, _) = view_of(LinkType::LINUX_SLL2, &sll2);
    assert_eq!(
        v.link,
        LinkHeader::Sll2 {
            protocol: 0x0800,
            ifindex: 3,
            hatype: 1,
            packet_type: 0,
            addr: HwAddr::new(&MAC_B)
        }
    );
    assert_eq!(v.net_start, 20);
    let mut null = 2u32.to_le_bytes().to_vec();
    null.extend_from_slice(&ip);
    let (v, _) = view_of(LinkType::NULL, &null);
    assert_eq!(v.link, LinkHeader::Null { family: 2 });
    assert_eq!(v.net_start, 4);
    // A cooked header naming no EtherType (802.2 frames) goes no further.
    let mut llc = vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4];
    llc.extend_from_slice(&[0xaa; 8]);
    let (v, _) = view_of(LinkType::LINUX_SLL, &llc);
    assert_eq!(
        (v.net, v.transport, v.issue),
        (Net::None, Transport::None, None)
    );
}

#[test]
fn arp_addresses_are_ranges_of_the_frame() {
    let mut arp = vec![0, 1, 0x08, 0x00, 6, 4, 0, 1];
    arp.extend_from_slice(&MAC_A);
    arp.extend_from_slice(&[10, 0, 0, 1]);
    arp.extend_from_slice(&[0; 6]);
    arp.extend_from_slice(&[10, 0, 0, 2]);
    let data = eth(&[], 0x0806, &arp);
    let (v, _) = view_of(LinkType::ETHERNET, &data);
    let Net::Arp {
        operation,
        sender_hw,
        sender_proto,
        target_proto,
    } = v.net
    else {
        panic!("{v:?}")
    };
    assert_eq!(operation, 1);
    assert_eq!(sender_hw.get(&data), MAC_A);
    assert_eq!(sender_proto.get(&data), [10, 0, 0, 1]);
    assert_eq!(target_proto.get(&data), [10, 0, 0, 2]);
    assert_eq!(v.net_start, 14);
    assert_eq!(v.addresses(), None);
}

#[test]
fn fragments_udp_and_igmp() {
    // The first fragment shows its TCP header; the tracker leaves it.
    let seg = tcp(1, 2, 3, 0x10, &[], b"abcdefgh");
    let first = ipv4(6, [1, 1, 1, 1], [2, 2, 2, 2], 0x2000, &seg);
    let (v, meta) = view_of(LinkType::RAW, &first);
    assert_eq!(meta, None);
    assert!(matches!(v.transport, Transport::TcpFragment(t) if t.sport == 1));
    assert_eq!(v.ports(), Some((1, 2)));
    assert!(matches!(
        v.net,
        Net::Ipv4 {
            fragmented: true,
            later_fragment: false,
            ..
        }
    ));
    let later = ipv4(6, [1, 1, 1, 1], [2, 2, 2, 2], 0x0003, b"12345678");
    let (v, _) = view_of(LinkType::RAW, &later);
    assert!(matches!(
        v.net,
        Net::Ipv4 {
            later_fragment: true,
            ..
        }
    ));
    let udp = ipv4(
        17,
        [1, 1, 1, 1],
        [2, 2, 2, 2],
        0,
        &[0, 53, 0x14, 0xe9, 0, 11, 0, 0, 1, 2, 3],
    );
    let (v, _) = view_of(LinkType::RAW, &udp);
    assert_eq!(
        v.transport,
        Transport::Udp {
            sport: 53,
            dport: 5353,
            length: 11
        }
    );
    let igmp = ipv4(
        2,
        [1, 1, 1, 1],
        [224, 0, 0, 1],
        0,
        &[0x11, 0, 0, 0, 0, 0, 0, 0],
    );
    let (v, _) = view_of(LinkType::RAW, &igmp);
    assert_eq!(v.transport, Transport::Igmp);
}

#[test]
fn frames_cut_anywhere_say_how_far_they_got() {
    let seg = tcp(
        40000,
        80,
        1,
        0x18,
        &[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2],
        b"hello",
    );
    let ip = ipv4(6, [10, 0, 0, 1], [10, 0, 0, 2], 0, &seg);
    let data = eth(&[0x0064], 0x0800, &ip);
    for cut in 0..=data.len() {
        let (v, meta) = view_of(LinkType::ETHERNET, &data[..cut]);
        match cut {
            0..=13 => {
                assert_eq!(v.link, LinkHeader::Unknown, "cut {cut}");
                assert!(
                    matches!(v.issue, Some(DecodeIssue::LinkTruncated { need: 14, .. })),
                    "cut {cut}"
                );
            }
            14..=17 => assert_eq!(
                v.issue.map(|i| matches!(
                    i,
                    DecodeIssue::Truncated {
                        layer: DecodeLayer::Vlan,
                        ..
                    }
                )),
                Some(true),
                "cut {cut}"
            ),
            18..=37 => {
                assert_eq!(
                    v.net,
                    Net::Other {
                        ethertype: Some(0x88a8)
                    },
                    "cut {cut}"
                );
                assert!(v.issue.is_some(), "cut {cut}");
            }
            // The IPv4 header is whole; TCP is cut before its ports.
            38..=41 => assert_eq!(v.transport, Transport::None, "cut {cut}"),
            // The ports are there, the rest of the header is not.
            42..=69 => {
                assert_eq!(
                    v.transport,
                    Transport::Ports {
                        sport: 40000,
                        dport: 80
                    },
                    "cut {cut}"
                );
                assert!(matches!(
                    v.issue,
                    Some(DecodeIssue::Truncated {
                        layer: DecodeLayer::TcpHeader,
                        ..
                    })
                ));
            }
            // A whole header: the payload cut by the snapshot length.
            _ => {
                let t = v.tcp().expect("TCP");
                assert_eq!(t.payload_wire_len, 5, "cut {cut}");
                assert_eq!(t.payload_len as usize, cut - 70, "cut {cut}");
                assert_eq!(meta.unwrap().payload.len(), cut - 70);
            }
        }
    }
    let (v, _) = view_of(LinkType(4242), &data);
    assert_eq!(v.issue, Some(DecodeIssue::UnknownLinkType(4242)));
}

#[test]
fn common_packets_take_the_direct_path_to_the_same_view() {
    // Every link type, both IP versions, cut at every length: `view_of`
    // checks the direct path against the general one each time.
    let seg = tcp(1, 2, 3, 0x02, &[2, 4, 5, 0xb4, 4, 2, 1, 0], b"data");
    let v4 = ipv4(6, [1, 1, 1, 1], [2, 2, 2, 2], 0, &seg);
    let v6 = ipv6(6, &seg);
    for ip in [&v4, &v6] {
        let et: u16 = if ip[0] >> 4 == 4 { 0x0800 } else { 0x86dd };
        let mut null = (if et == 0x0800 { 2u32 } else { 30 })
            .to_le_bytes()
            .to_vec();
        null.extend_from_slice(ip);
        let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0];
        sll.extend_from_slice(&et.to_be_bytes());
        sll.extend_from_slice(ip);
        for (lt, data) in [
            (LinkType::ETHERNET, eth(&[], et, ip)),
            (LinkType::ETHERNET, eth(&[0x0001], et, ip)),
            (LinkType::RAW, ip.to_vec()),
            (LinkType::NULL, null),
            (LinkType::LINUX_SLL, sll),
        ] {
            for cut in 0..=data.len() {
                view_of(lt, &data[..cut]);
            }
            let (v, meta) = view_of(lt, &data);
            assert_eq!(meta.map(|m| m.payload), Some(&b"data"[..]), "{lt:?}");
            assert_eq!(options(&v).len(), 4, "{lt:?}");
        }
    }
}

#[test]
fn malformed_values_read_as_the_parser_wrote_them() {
    use etherparse::err::{ip, ip_auth, ipv4, ipv6, ipv6_exts, macsec, tcp};
    let pairs: [(Malformed, String); 10] = [
        (
            Malformed::IpVersion(7),
            ip::HeaderError::UnsupportedIpVersion { version_number: 7 }.to_string(),
        ),
        (
            Malformed::Ipv4HeaderLength(3),
            ip::HeaderError::Ipv4HeaderLengthSmallerThanHeader { ihl: 3 }.to_string(),
        ),
        (
            Malformed::Ipv4HeaderLength(2),
            ipv4::HeaderError::HeaderLengthSmallerThanHeader { ihl: 2 }.to_string(),
        ),
        (
            Malformed::Ipv4Version(5),
            ipv4::HeaderError::UnexpectedVersion { version_number: 5 }.to_string(),
        ),
        (
            Malformed::Ipv6Version(4),
            ipv6::HeaderError::UnexpectedVersion { version_number: 4 }.to_string(),
        ),
        (
            Malformed::AuthPayloadLength,
            ip_auth::HeaderError::ZeroPayloadLen.to_string(),
        ),
        (
            Malformed::HopByHopNotFirst,
            ipv6_exts::HeaderError::HopByHopNotAtStart.to_string(),
        ),
        (
            Malformed::TcpDataOffset(4),
            tcp::HeaderError::DataOffsetTooSmall { data_offset: 4 }.to_string(),
        ),
        (
            Malformed::MacsecVersion,
            macsec::HeaderError::UnexpectedVersion.to_string(),
        ),
        (
            Malformed::MacsecShortLength,
            macsec::HeaderError::InvalidUnmodifiedShortLen.to_string(),
        ),
    ];
    for (ours, theirs) in pairs {
        assert_eq!(ours.to_string(), theirs);
    }
    // Decoded: a TCP data offset below 5.
    let mut seg = tcp(1, 2, 3, 0x02, &[], b"");
    seg[12] = 0x40;
    let data = ipv4(6, [1, 1, 1, 1], [2, 2, 2, 2], 0, &seg);
    let (v, _) = view_of(LinkType::RAW, &data);
    let issue = v.issue.expect("malformed");
    assert_eq!(
        issue,
        DecodeIssue::Malformed {
            layer: DecodeLayer::TcpHeader,
            what: Malformed::TcpDataOffset(4)
        }
    );
    assert!(issue
        .to_string()
        .starts_with("malformed TCP header: TCP Header Error: 'data offset' too small (4)."));
}
