//! The tcpdump line: what `tcpdump -n` prints for a packet, byte for byte
//! where netpeek decodes the same layers (TCP, UDP, ICMP, ICMPv6, ARP,
//! IP fragments; Ethernet, VLAN, Linux cooked, BSD loopback, raw IP).
//!
//! tcpdump also prints application protocols by port (DNS, DHCP, "HTTP:"
//! after port-80 segments, …); netpeek says what those mean in its
//! annotations instead, from reassembled streams.

use std::io::{self, Write};
use std::net::IpAddr;

use etherparse::{
    ArpOperation, Icmpv4Type, Icmpv6Type, LaxNetSlice, LaxSlicedPacket, LinkSlice, TcpSlice,
    TransportSlice,
};

use crate::decode::{Decoded, Link};

use crate::event::Frame;
use crate::event::TcpFlags;
use crate::event::TcpInfo;

/// Flags that change the line, as in tcpdump.
#[derive(Clone, Copy, Debug, Default)]
pub struct LineOptions {
    /// `-e`: print the link-level header.
    pub link_header: bool,
    /// `-S`: absolute sequence numbers.
    pub absolute_seq: bool,
}

struct Mac<'a>(&'a [u8]);

impl std::fmt::Display for Mac<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

fn ethertype_name(t: u16) -> &'static str {
    match t {
        0x0800 => "IPv4",
        0x86dd => "IPv6",
        0x0806 => "ARP",
        0x8035 => "Reverse ARP",
        0x8100 => "802.1Q",
        0x88a8 => "802.1Q-QinQ",
        0x9100 => "802.1Q-9100",
        0x8847 => "MPLS unicast",
        0x8848 => "MPLS multicast",
        0x8863 => "PPPoE D",
        0x8864 => "PPPoE S",
        0x88cc => "LLDP",
        0x88e5 => "802.1AE",
        0x888e => "EAPOL",
        _ => "Unknown",
    }
}

fn sll_packet_type(t: u16) -> &'static str {
    match t {
        0 => "In ",
        1 => "B  ",
        2 => "M  ",
        3 => "P  ",
        4 => "Out",
        _ => "?  ",
    }
}

/// Writes the protocol part of the line (everything after the timestamp),
/// without the trailing newline.
pub fn write_line<W: Write>(
    w: &mut W,
    frame: &Frame<'_>,
    d: &Decoded<'_>,
    tcp: Option<&TcpInfo>,
    opts: &LineOptions,
    iface_names: &dyn Fn(u32) -> Option<String>,
) -> io::Result<()> {
    let e = opts.link_header;
    // Link layer.
    match d.link {
        Link::Ethernet {
            dst,
            src,
            ethertype,
        } => {
            if e {
                write!(w, "{} > {}, ", Mac(&src), Mac(&dst))?;
                if ethertype <= 1500 {
                    write!(w, "802.3, length {}: ", frame.len)?;
                } else {
                    write!(
                        w,
                        "ethertype {} (0x{ethertype:04x}), length {}: ",
                        ethertype_name(ethertype),
                        frame.len
                    )?;
                    write_vlans(w, d.pkt.as_ref())?;
                }
            } else if !has_net(d) {
                // tcpdump shows the link header when it cannot go further.
                write!(w, "{} > {}, ", Mac(&src), Mac(&dst))?;
                if ethertype <= 1500 {
                    return write!(w, "802.3, length {}: LLC", frame.len);
                }
                return write!(
                    w,
                    "ethertype {} (0x{ethertype:04x}), length {}: {}",
                    ethertype_name(ethertype),
                    frame.len,
                    truncated_marker(d)
                );
            }
        }
        Link::Sll {
            packet_type,
            addr,
            protocol,
            ..
        } => {
            if e {
                // Cooked v1 right-aligns the packet type; v2 left-aligns it.
                write!(w, "{:>3} ", sll_packet_type(packet_type).trim_end())?;
                if !addr.is_empty() {
                    write!(w, "{} ", Mac(addr))?;
                }
                write!(
                    w,
                    "ethertype {} (0x{protocol:04x}), length {}: ",
                    ethertype_name(protocol),
                    frame.len
                )?;
                write_vlans(w, d.pkt.as_ref())?;
            }
        }
        Link::Sll2 {
            protocol,
            ifindex,
            packet_type,
            addr,
            ..
        } => {
            let name = iface_names(ifindex).unwrap_or_else(|| format!("ifindex {ifindex}"));
            write!(w, "{name}  {} ", sll_packet_type(u16::from(packet_type)))?;
            if e {
                write!(
                    w,
                    "ifindex {ifindex} {} ethertype {} (0x{protocol:04x}), length {}: ",
                    Mac(addr),
                    ethertype_name(protocol),
                    frame.len
                )?;
                write_vlans(w, d.pkt.as_ref())?;
            }
        }
        Link::Null { family } => {
            if e {
                let name = match family {
                    2 => "IPv4",
                    24 | 28 | 30 => "IPv6",
                    _ => "Unknown",
                };
                write!(w, "AF {name} ({family}), length {}: ", frame.len)?;
            }
        }
        Link::Raw => {
            if e {
                w.write_all(b"ip: ")?;
            }
        }
        Link::Unknown => {
            if let Some(issue) = &d.issue {
                return write!(w, "[{issue}], length {}", frame.len);
            }
            return write!(
                w,
                "[unknown link type {}], length {}",
                frame.linktype.0, frame.len
            );
        }
    }

    let Some(pkt) = &d.pkt else {
        return write!(w, "{}", truncated_marker(d));
    };
    match &pkt.net {
        Some(LaxNetSlice::Ipv4(v4)) => {
            if !e {
                w.write_all(b"IP ")?;
            }
            let h = v4.header();
            let (src, dst) = (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
            );
            let payload = v4.payload();
            if payload.fragmented && h.fragments_offset().value() != 0 {
                return write!(w, "{src} > {dst}: ip-proto-{}", payload.ip_number.0);
            }
            write_transport(w, d, pkt, src, dst, payload.ip_number.0, tcp, opts)
        }
        Some(LaxNetSlice::Ipv6(v6)) => {
            if !e {
                w.write_all(b"IP6 ")?;
            }
            let h = v6.header();
            let (src, dst) = (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
            );
            let payload = v6.payload();
            if payload.fragmented && d.fragment_tcp.is_none() && pkt.transport.is_none() {
                return write!(w, "{src} > {dst}: frag ip-proto-{}", payload.ip_number.0);
            }
            write_transport(w, d, pkt, src, dst, payload.ip_number.0, tcp, opts)
        }
        Some(LaxNetSlice::Arp(arp)) => {
            if !e {
                w.write_all(b"ARP, ")?;
            }
            let spa = arp.sender_protocol_addr();
            let tpa = arp.target_protocol_addr();
            let ip = |a: &[u8]| match <[u8; 4]>::try_from(a) {
                Ok(b) => std::net::Ipv4Addr::from(b).to_string(),
                Err(_) => Mac(a).to_string(),
            };
            match arp.operation() {
                ArpOperation::REQUEST => write!(w, "Request who-has {} tell {}", ip(tpa), ip(spa))?,
                ArpOperation::REPLY => {
                    write!(w, "Reply {} is-at {}", ip(spa), Mac(arp.sender_hw_addr()))?
                }
                op => write!(w, "arp-#{} for {} from {}", op.0, ip(tpa), ip(spa))?,
            }
            // tcpdump counts everything after the link header, padding too.
            let start = arp.slice().as_ptr() as usize - frame.data.as_ptr() as usize;
            write!(w, ", length {}", (frame.len as usize).saturating_sub(start))
        }
        None => {
            if let Some(issue) = &d.issue {
                let proto = match d.link.next_layer() {
                    crate::decode::link::NextLayer::EtherType(0x0800) => "IP ",
                    crate::decode::link::NextLayer::EtherType(0x86dd) => "IP6 ",
                    _ => "",
                };
                write!(w, "{proto}[{issue}]")
            } else if let Some(LinkSlice::EtherPayload(p)) = &pkt.link {
                write!(
                    w,
                    "ethertype {} (0x{:04x}), length {}",
                    ethertype_name(p.ether_type.0),
                    p.ether_type.0,
                    frame.len
                )
            } else {
                write!(w, "length {}", frame.len)
            }
        }
    }
}

fn has_net(d: &Decoded<'_>) -> bool {
    d.pkt.as_ref().is_some_and(|p| p.net.is_some())
}

fn truncated_marker(d: &Decoded<'_>) -> String {
    match &d.issue {
        Some(i) => format!("[{i}]"),
        None => String::new(),
    }
}

fn write_vlans<W: Write>(w: &mut W, pkt: Option<&LaxSlicedPacket<'_>>) -> io::Result<()> {
    let Some(pkt) = pkt else { return Ok(()) };
    for ext in &pkt.link_exts {
        if let etherparse::LaxLinkExtSlice::Vlan(v) = ext {
            let h = v.to_header();
            let et = v.ether_type().0;
            write!(
                w,
                "vlan {}, p {}, ethertype {} (0x{et:04x}), ",
                h.vlan_id.value(),
                h.pcp.value(),
                ethertype_name(et)
            )?;
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn write_transport<W: Write>(
    w: &mut W,
    d: &Decoded<'_>,
    pkt: &LaxSlicedPacket<'_>,
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    tcp: Option<&TcpInfo>,
    opts: &LineOptions,
) -> io::Result<()> {
    let wire = d.ip_payload_wire_len().unwrap_or(0);
    match &pkt.transport {
        Some(TransportSlice::Tcp(t)) => {
            write!(
                w,
                "{src}.{} > {dst}.{}: ",
                t.source_port(),
                t.destination_port()
            )?;
            write_tcp(w, t, wire, tcp, opts)
        }
        Some(TransportSlice::Udp(u)) => {
            let len = u.length();
            write!(
                w,
                "{src}.{} > {dst}.{}: ",
                u.source_port(),
                u.destination_port()
            )?;
            if len < 8 {
                write!(w, "UDP, bad length {len} < 8")
            } else {
                write!(w, "UDP, length {}", len - 8)
            }
        }
        Some(TransportSlice::Icmpv4(i)) => {
            write!(w, "{src} > {dst}: ")?;
            let len = wire;
            match i.icmp_type() {
                Icmpv4Type::EchoRequest(h) => {
                    write!(
                        w,
                        "ICMP echo request, id {}, seq {}, length {len}",
                        h.id, h.seq
                    )
                }
                Icmpv4Type::EchoReply(h) => {
                    write!(
                        w,
                        "ICMP echo reply, id {}, seq {}, length {len}",
                        h.id, h.seq
                    )
                }
                Icmpv4Type::DestinationUnreachable(h) => {
                    write!(
                        w,
                        "ICMP {} unreachable, length {len}",
                        unreach_name(&h, i.payload())
                    )
                }
                Icmpv4Type::TimeExceeded(c) => {
                    let what = match c {
                        etherparse::icmpv4::TimeExceededCode::TtlExceededInTransit => "in-transit",
                        etherparse::icmpv4::TimeExceededCode::FragmentReassemblyTimeExceeded => {
                            "reassembly"
                        }
                    };
                    write!(w, "ICMP time exceeded {what}, length {len}")
                }
                Icmpv4Type::Redirect(_) => write!(w, "ICMP redirect, length {len}"),
                Icmpv4Type::ParameterProblem(_) => {
                    write!(w, "ICMP parameter problem, length {len}")
                }
                Icmpv4Type::TimestampRequest(_) => write!(w, "ICMP time stamp query, length {len}"),
                Icmpv4Type::TimestampReply(_) => write!(w, "ICMP time stamp reply, length {len}"),
                Icmpv4Type::Unknown { type_u8, .. } => {
                    write!(w, "ICMP type-#{type_u8}, length {len}")
                }
            }
        }
        Some(TransportSlice::Icmpv6(i)) => {
            write!(w, "{src} > {dst}: ICMP6, ")?;
            let len = wire;
            let body = i.payload();
            let target = || {
                <[u8; 16]>::try_from(body.get(4..20).unwrap_or(&[]))
                    .map(|b| std::net::Ipv6Addr::from(b).to_string())
                    .unwrap_or_default()
            };
            match i.icmp_type() {
                Icmpv6Type::EchoRequest(h) => {
                    write!(w, "echo request, id {}, seq {}, length {len}", h.id, h.seq)
                }
                Icmpv6Type::EchoReply(h) => {
                    write!(w, "echo reply, id {}, seq {}, length {len}", h.id, h.seq)
                }
                Icmpv6Type::DestinationUnreachable(_) => {
                    write!(w, "destination unreachable, length {len}")
                }
                Icmpv6Type::PacketTooBig { mtu } => {
                    write!(w, "packet too big, mtu {mtu}, length {len}")
                }
                Icmpv6Type::TimeExceeded(_) => write!(w, "time exceeded in-transit, length {len}"),
                Icmpv6Type::ParameterProblem(_) => write!(w, "parameter problem, length {len}"),
                Icmpv6Type::RouterSolicitation => write!(w, "router solicitation, length {len}"),
                Icmpv6Type::RouterAdvertisement(_) => {
                    write!(w, "router advertisement, length {len}")
                }
                Icmpv6Type::NeighborSolicitation => {
                    write!(
                        w,
                        "neighbor solicitation, who has {}, length {len}",
                        target()
                    )
                }
                Icmpv6Type::NeighborAdvertisement(_) => {
                    write!(
                        w,
                        "neighbor advertisement, tgt is {}, length {len}",
                        target()
                    )
                }
                Icmpv6Type::Redirect => write!(w, "redirect, length {len}"),
                Icmpv6Type::Unknown { type_u8, .. } => match type_u8 {
                    130 => write!(w, "multicast listener query v1, length {len}"),
                    131 => write!(w, "multicast listener report, length {len}"),
                    143 => write!(w, "multicast listener report v2, length {len}"),
                    t => write!(w, "type-#{t}, length {len}"),
                },
            }
        }
        Some(TransportSlice::Igmp(_)) => write!(w, "{src} > {dst}: igmp, length {wire}"),
        None => {
            if let Some(t) = &d.fragment_tcp {
                write!(
                    w,
                    "{src}.{} > {dst}.{}: ",
                    t.source_port(),
                    t.destination_port()
                )?;
                return write_tcp(w, t, wire, tcp, opts);
            }
            // A TCP or UDP header cut short still shows its ports when the
            // first four bytes were captured, as tcpdump does.
            let ip_payload = match &pkt.net {
                Some(LaxNetSlice::Ipv4(v4)) => v4.payload().payload,
                Some(LaxNetSlice::Ipv6(v6)) => v6.payload().payload,
                _ => &[],
            };
            match (proto, ip_payload.get(0..4)) {
                (6 | 17, Some(p)) if d.issue.is_some() => {
                    let sport = u16::from_be_bytes([p[0], p[1]]);
                    let dport = u16::from_be_bytes([p[2], p[3]]);
                    write!(w, "{src}.{sport} > {dst}.{dport}: ")?;
                }
                _ => write!(w, "{src} > {dst}: ")?,
            }
            match (&d.issue, proto) {
                (Some(_), 6) => w.write_all(b" [|tcp]"),
                (Some(_), 17) => w.write_all(b" [|udp]"),
                (Some(_), 1) => w.write_all(b" [|icmp]"),
                (Some(_), 58) => w.write_all(b" [|icmp6]"),
                (Some(i), _) => write!(w, "[{i}]"),
                (None, p) => write!(w, "ip-proto-{p} {wire}"),
            }
        }
    }
}

fn unreach_name(h: &etherparse::icmpv4::DestUnreachableHeader, payload: &[u8]) -> String {
    use etherparse::icmpv4::DestUnreachableHeader as D;
    // The quoted datagram names the destination and, for ports, the port.
    let quoted = etherparse::Ipv4HeaderSlice::from_slice(payload).ok();
    let qdst = quoted
        .as_ref()
        .map(|q| q.destination_addr().to_string())
        .unwrap_or_default();
    match h {
        D::Port => {
            let (proto, port) = quoted
                .as_ref()
                .map(|q| {
                    let off = usize::from(q.ihl()) * 4;
                    let port = payload
                        .get(off + 2..off + 4)
                        .map(|b| u16::from_be_bytes([b[0], b[1]]))
                        .unwrap_or(0);
                    let name = match q.protocol().0 {
                        6 => "tcp",
                        17 => "udp",
                        _ => "ip",
                    };
                    (name, port)
                })
                .unwrap_or(("ip", 0));
            format!("{qdst} {proto} port {port}")
        }
        D::Host => format!("host {qdst}"),
        D::Network => format!("net {qdst}"),
        D::Protocol => format!("{qdst} protocol"),
        _ => qdst,
    }
}

/// tcpdump's flag letters, in its order.
pub fn write_flags<W: Write>(w: &mut W, f: TcpFlags) -> io::Result<()> {
    if f.0 & 0xff == 0 {
        return w.write_all(b"none");
    }
    for (bit, c) in [
        (TcpFlags::FIN, b'F'),
        (TcpFlags::SYN, b'S'),
        (TcpFlags::RST, b'R'),
        (TcpFlags::PSH, b'P'),
        (TcpFlags::ACK, b'.'),
        (TcpFlags::URG, b'U'),
        (TcpFlags::ECE, b'E'),
        (TcpFlags::CWR, b'W'),
    ] {
        if f.has(bit) {
            w.write_all(&[c])?;
        }
    }
    Ok(())
}

fn write_tcp<W: Write>(
    w: &mut W,
    t: &TcpSlice<'_>,
    ip_payload_len: u32,
    info: Option<&TcpInfo>,
    opts: &LineOptions,
) -> io::Result<()> {
    let hlen = u32::from(t.data_offset()) * 4;
    let flags = TcpFlags::from_slice(t);
    w.write_all(b"Flags [")?;
    write_flags(w, flags)?;
    w.write_all(b"]")?;
    if hlen > ip_payload_len {
        return write!(w, " [bad hdr length {hlen} - too long, > {ip_payload_len}]");
    }
    let len = ip_payload_len - hlen;
    let (seq, ack, sack_base) = match info {
        Some(i) if !opts.absolute_seq => (i.tcpdump_seq, i.tcpdump_ack, Some(i.tcpdump_sack_base)),
        _ => (t.sequence_number(), t.acknowledgment_number(), None),
    };
    if len > 0 || flags.syn() || flags.fin() || flags.rst() {
        write!(w, ", seq {seq}")?;
        if len > 0 {
            write!(w, ":{}", seq.wrapping_add(len))?;
        }
    }
    if flags.ack() {
        write!(w, ", ack {ack}")?;
    }
    write!(w, ", win {}", t.window_size())?;
    if flags.urg() {
        write!(w, ", urg {}", t.urgent_pointer())?;
    }
    let o = t.options();
    if !o.is_empty() {
        w.write_all(b", options [")?;
        write_tcp_options(w, o, sack_base)?;
        w.write_all(b"]")?;
    }
    write!(w, ", length {len}")
}

fn write_tcp_options<W: Write>(w: &mut W, mut o: &[u8], sack_base: Option<u32>) -> io::Result<()> {
    let mut first = true;
    while let Some((&kind, rest)) = o.split_first() {
        if !first {
            w.write_all(b",")?;
        }
        first = false;
        if kind == 0 || kind == 1 {
            w.write_all(if kind == 0 { b"eol" } else { b"nop" })?;
            if kind == 0 {
                return Ok(());
            }
            o = rest;
            continue;
        }
        let Some(&len) = rest.first() else {
            return w.write_all(b"[bad opt]");
        };
        let len = usize::from(len);
        if len < 2 || len > o.len() {
            return w.write_all(b"[bad opt]");
        }
        let body = &o[2..len];
        let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        let (name_len_ok, expected) = match kind {
            2 => {
                if body.len() >= 2 {
                    write!(w, "mss {}", u16::from_be_bytes([body[0], body[1]]))?;
                }
                (body.len() >= 2, 4)
            }
            3 => {
                if let Some(&s) = body.first() {
                    write!(w, "wscale {s}")?;
                }
                (!body.is_empty(), 3)
            }
            4 => {
                w.write_all(b"sackOK")?;
                (true, 2)
            }
            5 => {
                w.write_all(b"sack")?;
                if body.len() % 8 != 0 {
                    w.write_all(b" invalid sack")?;
                } else {
                    write!(w, " {} ", body.len() / 8)?;
                    for c in body.chunks_exact(8) {
                        let base = sack_base.unwrap_or(0);
                        write!(
                            w,
                            "{{{}:{}}}",
                            be32(&c[0..4]).wrapping_sub(base),
                            be32(&c[4..8]).wrapping_sub(base)
                        )?;
                    }
                }
                (true, len)
            }
            8 => {
                if body.len() >= 8 {
                    write!(w, "TS val {} ecr {}", be32(&body[0..4]), be32(&body[4..8]))?;
                }
                (body.len() >= 8, 10)
            }
            19 => {
                w.write_all(b"md5")?;
                (true, 18)
            }
            28 => {
                w.write_all(b"utolen")?;
                (true, 4)
            }
            29 => {
                w.write_all(b"tcp-ao")?;
                (true, len)
            }
            30 => {
                w.write_all(b"mptcp")?;
                (true, len)
            }
            34 => {
                w.write_all(b"tfo")?;
                (true, len)
            }
            k => {
                write!(w, "unknown-{k}")?;
                if !body.is_empty() {
                    w.write_all(b" 0x")?;
                    for b in body {
                        write!(w, "{b:02x}")?;
                    }
                }
                (true, len)
            }
        };
        if !name_len_ok {
            return w.write_all(b"[bad opt]");
        }
        if expected != len {
            write!(w, "[len {len}]")?;
        }
        o = &o[len..];
    }
    Ok(())
}
