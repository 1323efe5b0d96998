//! Lines from views built by hand: what each fact of the view becomes
//! in tcpdump's words.

use super::*;
use crate::event::{ByteRange, LinkType, Offered, QuotedIpv4, SackBlocks};
use crate::event::{
    Frame, Icmpv4Message, LinkHeader, Net, PacketView, TcpFlags, TcpOption, Transport, Unreachable,
};
use crate::event::{TcpOptionList, TcpSegment};
use crate::event::{VlanTag, VlanTags};

fn frame(data: &[u8]) -> Frame<'_> {
    Frame {
        number: 1,
        ts_ns: 0,
        interface: 0,
        linktype: LinkType::ETHERNET,
        caplen: data.len() as u32,
        len: data.len() as u32,
        data,
        comment: None,
        record_issue: None,
    }
}

fn ipv4_view(transport: Transport, ip_payload_len: u32) -> PacketView {
    PacketView {
        link: LinkHeader::Ethernet {
            dst: [2, 0, 0, 0, 0, 0xb],
            src: [2, 0, 0, 0, 0, 0xa],
            ethertype: 0x0800,
        },
        vlans: VlanTags::default(),
        net: Net::Ipv4 {
            src: [10, 0, 0, 1],
            dst: [10, 0, 0, 2],
            proto: 6,
            fragmented: false,
            later_fragment: false,
        },
        net_start: 14,
        ip_payload_len,
        transport,
        issue: None,
    }
}

fn segment(flags: u16, options: TcpOptionList, header_len: u8) -> TcpSegment {
    TcpSegment {
        sport: 40000,
        dport: 80,
        seq: 1000,
        ack: 2000,
        flags: TcpFlags(flags),
        window: 512,
        urgent: 0,
        header_len,
        payload_start: 0,
        payload_len: 0,
        payload_wire_len: 0,
        offered: Offered::default(),
        options,
    }
}

fn line(data: &[u8], v: &PacketView, e: bool) -> String {
    let mut out = Vec::new();
    let opts = LineOptions {
        link_header: e,
        absolute_seq: false,
    };
    write_line(&mut out, &frame(data), v, None, &opts, &|_| None).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn tcp_options_in_tcpdumps_words() {
    // Options from 54: the unknown one's body is at 54 + 20 + 2.
    let mut data = vec![0u8; 80];
    data[76] = 0xab;
    data[77] = 0xcd;
    let mut o = TcpOptionList::new(54);
    for opt in [
        TcpOption::Mss {
            value: 1460,
            len: 4,
        },
        TcpOption::Nop,
        TcpOption::WindowScale { shift: 7, len: 3 },
        TcpOption::SackPermitted { len: 2 },
        TcpOption::Timestamp {
            val: 1,
            ecr: 0,
            len: 10,
        },
        TcpOption::Other {
            kind: 99,
            len: 4,
            body: ByteRange::default(),
        },
        TcpOption::Other {
            kind: 19,
            len: 2,
            body: ByteRange::default(),
        },
        TcpOption::Eol,
    ] {
        assert!(o.push(opt));
    }
    let v = ipv4_view(Transport::Tcp(segment(0x02, o, 52)), 52);
    assert_eq!(
        line(&data, &v, false),
        "IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1000, win 512, options [mss \
         1460,nop,wscale 7,sackOK,TS val 1 ecr 0,unknown-99 0xabcd,md5[len 2],eol], length 0"
    );
}

#[test]
fn sack_blocks_are_relative_and_bad_options_end_the_list() {
    let mut o = TcpOptionList::new(0);
    o.push(TcpOption::Nop);
    o.push(TcpOption::Sack {
        blocks: Some(SackBlocks::new(&[1500, 2900])),
        len: 10,
    });
    o.push(TcpOption::Sack {
        blocks: None,
        len: 5,
    });
    o.push(TcpOption::Bad);
    let v = ipv4_view(Transport::Tcp(segment(0x10, o, 40)), 40);
    let end = crate::event::Endpoint {
        ip: std::net::Ipv4Addr::LOCALHOST.into(),
        port: 1,
    };
    let info = TcpInfo {
        stream: 0,
        direction: crate::event::Direction::ToServer,
        client: end,
        server: end,
        new_stream: false,
        mid_stream: false,
        seq_rel: 0,
        ack_rel: 0,
        tcpdump_seq: 1,
        tcpdump_ack: 1,
        tcpdump_sack_base: 1000,
        window: 512,
        window_shift: None,
        role: crate::event::Role::Ack,
        verdict: Default::default(),
        handshake_rtt_ns: None,
        isn: None,
        peer_isn: None,
        payload_len: 0,
        retrans_of: None,
        prev_window: None,
        expected_seq: None,
        first_fin: false,
        closes: false,
        refused: false,
    };
    let mut out = Vec::new();
    let opts = LineOptions::default();
    write_line(&mut out, &frame(&[]), &v, Some(&info), &opts, &|_| None).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [.], ack 1, win 512, options \
         [nop,sack 1 {500:1900},sack invalid sack,[bad opt]], length 0"
    );
}

#[test]
fn icmp_unreachable_names_the_quoted_port() {
    let message = Icmpv4Message::Unreachable {
        code: Unreachable::Port,
        quoted: Some(QuotedIpv4 {
            dst: [10, 9, 9, 9],
            proto: 17,
            dport: Some(53),
        }),
    };
    let v = ipv4_view(
        Transport::Icmpv4 {
            kind: 3,
            code: 3,
            message,
        },
        36,
    );
    assert_eq!(
        line(&[], &v, false),
        "IP 10.0.0.1 > 10.0.0.2: ICMP 10.9.9.9 udp port 53 unreachable, length 36"
    );
}

#[test]
fn link_header_and_vlan_tags_with_e() {
    let mut v = ipv4_view(Transport::Ports { sport: 1, dport: 2 }, 0);
    v.link = LinkHeader::Ethernet {
        dst: [2, 0, 0, 0, 0, 0xb],
        src: [2, 0, 0, 0, 0, 0xa],
        ethertype: 0x8100,
    };
    v.vlans.push(VlanTag {
        tci: (3 << 13) | 20,
        ethertype: 0x0800,
    });
    v.issue = Some(crate::event::DecodeIssue::Truncated {
        layer: crate::event::DecodeLayer::TcpHeader,
        need: 20,
        have: 4,
    });
    assert_eq!(
        line(&[0; 42], &v, true),
        "02:00:00:00:00:0a > 02:00:00:00:00:0b, ethertype 802.1Q (0x8100), length 42: vlan \
         20, p 3, ethertype IPv4 (0x0800), 10.0.0.1.1 > 10.0.0.2.2:  [|tcp]"
    );
}
