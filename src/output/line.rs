//! The tcpdump line: what `tcpdump -n` prints for a packet, byte for byte
//! where netpeek decodes the same layers (TCP, UDP, ICMP, ICMPv6, ARP,
//! IP fragments; Ethernet, VLAN, Linux cooked, BSD loopback, raw IP).
//!
//! tcpdump also prints application protocols by port (DNS, DHCP, "HTTP:"
//! after port-80 segments, …); netpeek says what those mean in its
//! annotations instead, from reassembled streams.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::event::TcpFlags;
use crate::event::TcpInfo;
use crate::event::{Frame, Icmpv4Message, Icmpv6Message, LinkHeader, Net, PacketView};
use crate::event::{TcpOption, TcpSegment, Transport, Unreachable, VlanTags};

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
    v: &PacketView,
    tcp: Option<&TcpInfo>,
    opts: &LineOptions,
    iface_names: &dyn Fn(u32) -> Option<String>,
) -> io::Result<()> {
    let e = opts.link_header;
    let has_net = matches!(v.net, Net::Ipv4 { .. } | Net::Ipv6 { .. } | Net::Arp { .. });
    // Link layer.
    match v.link {
        LinkHeader::Ethernet {
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
                    write_vlans(w, &v.vlans)?;
                }
            } else if !has_net {
                // tcpdump shows the link header when it cannot go further.
                write!(w, "{} > {}, ", Mac(&src), Mac(&dst))?;
                if ethertype <= 1500 {
                    return write!(w, "802.3, length {}: LLC", frame.len);
                }
                write!(
                    w,
                    "ethertype {} (0x{ethertype:04x}), length {}: ",
                    ethertype_name(ethertype),
                    frame.len
                )?;
                return write_issue(w, v);
            }
        }
        LinkHeader::Sll {
            packet_type,
            addr,
            protocol,
            ..
        } => {
            if e {
                // Cooked v1 right-aligns the packet type; v2 left-aligns it.
                write!(w, "{:>3} ", sll_packet_type(packet_type).trim_end())?;
                if !addr.as_bytes().is_empty() {
                    write!(w, "{} ", Mac(addr.as_bytes()))?;
                }
                write!(
                    w,
                    "ethertype {} (0x{protocol:04x}), length {}: ",
                    ethertype_name(protocol),
                    frame.len
                )?;
                write_vlans(w, &v.vlans)?;
            }
        }
        LinkHeader::Sll2 {
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
                    Mac(addr.as_bytes()),
                    ethertype_name(protocol),
                    frame.len
                )?;
                write_vlans(w, &v.vlans)?;
            }
        }
        LinkHeader::Null { family } => {
            if e {
                let name = match family {
                    2 => "IPv4",
                    24 | 28 | 30 => "IPv6",
                    _ => "Unknown",
                };
                write!(w, "AF {name} ({family}), length {}: ", frame.len)?;
            }
        }
        LinkHeader::Raw => {
            if e {
                w.write_all(b"ip: ")?;
            }
        }
        LinkHeader::Unknown => {
            if let Some(issue) = &v.issue {
                return write!(w, "[{issue}], length {}", frame.len);
            }
            return write!(
                w,
                "[unknown link type {}], length {}",
                frame.linktype.0, frame.len
            );
        }
    }

    match v.net {
        Net::None => write_issue(w, v),
        Net::Ipv4 {
            src,
            dst,
            proto,
            later_fragment,
            ..
        } => {
            if !e {
                w.write_all(b"IP ")?;
            }
            let (src, dst) = (Ipv4Addr::from(src).into(), Ipv4Addr::from(dst).into());
            if later_fragment {
                return write!(w, "{src} > {dst}: ip-proto-{proto}");
            }
            write_transport(w, frame, v, src, dst, proto, tcp, opts)
        }
        Net::Ipv6 {
            src,
            dst,
            proto,
            fragmented,
        } => {
            if !e {
                w.write_all(b"IP6 ")?;
            }
            let (src, dst) = (Ipv6Addr::from(src).into(), Ipv6Addr::from(dst).into());
            if fragmented && matches!(v.transport, Transport::None | Transport::Ports { .. }) {
                return write!(w, "{src} > {dst}: frag ip-proto-{proto}");
            }
            write_transport(w, frame, v, src, dst, proto, tcp, opts)
        }
        Net::Arp {
            operation,
            sender_hw,
            sender_proto,
            target_proto,
        } => {
            if !e {
                w.write_all(b"ARP, ")?;
            }
            let spa = sender_proto.get(frame.data);
            let tpa = target_proto.get(frame.data);
            let ip = |a: &[u8]| match <[u8; 4]>::try_from(a) {
                Ok(b) => Ipv4Addr::from(b).to_string(),
                Err(_) => Mac(a).to_string(),
            };
            match operation {
                1 => write!(w, "Request who-has {} tell {}", ip(tpa), ip(spa))?,
                2 => write!(
                    w,
                    "Reply {} is-at {}",
                    ip(spa),
                    Mac(sender_hw.get(frame.data))
                )?,
                op => write!(w, "arp-#{op} for {} from {}", ip(tpa), ip(spa))?,
            }
            // tcpdump counts everything after the link header, padding too.
            let start = usize::from(v.net_start);
            write!(w, ", length {}", (frame.len as usize).saturating_sub(start))
        }
        Net::Other { ethertype } => {
            if let Some(issue) = &v.issue {
                let proto = match ethertype {
                    Some(0x0800) => "IP ",
                    Some(0x86dd) => "IP6 ",
                    _ => "",
                };
                write!(w, "{proto}[{issue}]")
            } else if let Some(et) = ethertype {
                write!(
                    w,
                    "ethertype {} (0x{et:04x}), length {}",
                    ethertype_name(et),
                    frame.len
                )
            } else {
                write!(w, "length {}", frame.len)
            }
        }
    }
}

/// `[issue]` when decoding stopped early; nothing otherwise.
fn write_issue<W: Write>(w: &mut W, v: &PacketView) -> io::Result<()> {
    match &v.issue {
        Some(i) => write!(w, "[{i}]"),
        None => Ok(()),
    }
}

fn write_vlans<W: Write>(w: &mut W, vlans: &VlanTags) -> io::Result<()> {
    for tag in vlans.as_slice() {
        let et = tag.ethertype;
        write!(
            w,
            "vlan {}, p {}, ethertype {} (0x{et:04x}), ",
            tag.id(),
            tag.priority(),
            ethertype_name(et)
        )?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn write_transport<W: Write>(
    w: &mut W,
    frame: &Frame<'_>,
    v: &PacketView,
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    tcp: Option<&TcpInfo>,
    opts: &LineOptions,
) -> io::Result<()> {
    let wire = v.ip_payload_len;
    match &v.transport {
        Transport::Tcp(t) | Transport::TcpFragment(t) => {
            write!(w, "{src}.{} > {dst}.{}: ", t.sport, t.dport)?;
            write_tcp(w, frame, t, wire, tcp, opts)
        }
        Transport::Udp {
            sport,
            dport,
            length,
        } => {
            write!(w, "{src}.{sport} > {dst}.{dport}: ")?;
            if *length < 8 {
                write!(w, "UDP, bad length {length} < 8")
            } else {
                write!(w, "UDP, length {}", length - 8)
            }
        }
        Transport::Icmpv4 { kind, message, .. } => {
            write!(w, "{src} > {dst}: ")?;
            write_icmpv4(w, *kind, message, wire)
        }
        Transport::Icmpv6 { kind, message, .. } => {
            write!(w, "{src} > {dst}: ICMP6, ")?;
            write_icmpv6(w, *kind, message, wire)
        }
        Transport::Igmp => write!(w, "{src} > {dst}: igmp, length {wire}"),
        Transport::None | Transport::Ports { .. } => {
            // A TCP or UDP header cut short still shows its ports when the
            // first four bytes were captured, as tcpdump does.
            match v.transport {
                Transport::Ports { sport, dport } => write!(w, "{src}.{sport} > {dst}.{dport}: ")?,
                _ => write!(w, "{src} > {dst}: ")?,
            }
            match (&v.issue, proto) {
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

fn write_icmpv4<W: Write>(w: &mut W, kind: u8, m: &Icmpv4Message, len: u32) -> io::Result<()> {
    match m {
        Icmpv4Message::EchoRequest { id, seq } => {
            write!(w, "ICMP echo request, id {id}, seq {seq}, length {len}")
        }
        Icmpv4Message::EchoReply { id, seq } => {
            write!(w, "ICMP echo reply, id {id}, seq {seq}, length {len}")
        }
        Icmpv4Message::Unreachable { code, quoted } => {
            // The quoted datagram names the destination and, for ports,
            // the port.
            let qdst = quoted
                .map(|q| Ipv4Addr::from(q.dst).to_string())
                .unwrap_or_default();
            w.write_all(b"ICMP ")?;
            match code {
                Unreachable::Port => {
                    let (proto, port) = quoted.map_or(("ip", 0), |q| {
                        let name = match q.proto {
                            6 => "tcp",
                            17 => "udp",
                            _ => "ip",
                        };
                        (name, q.dport.unwrap_or(0))
                    });
                    write!(w, "{qdst} {proto} port {port}")?
                }
                Unreachable::Host => write!(w, "host {qdst}")?,
                Unreachable::Network => write!(w, "net {qdst}")?,
                Unreachable::Protocol => write!(w, "{qdst} protocol")?,
                Unreachable::Other => w.write_all(qdst.as_bytes())?,
            }
            write!(w, " unreachable, length {len}")
        }
        Icmpv4Message::TimeExceeded { reassembly } => {
            let what = if *reassembly {
                "reassembly"
            } else {
                "in-transit"
            };
            write!(w, "ICMP time exceeded {what}, length {len}")
        }
        Icmpv4Message::Redirect => write!(w, "ICMP redirect, length {len}"),
        Icmpv4Message::ParameterProblem => write!(w, "ICMP parameter problem, length {len}"),
        Icmpv4Message::TimestampRequest => write!(w, "ICMP time stamp query, length {len}"),
        Icmpv4Message::TimestampReply => write!(w, "ICMP time stamp reply, length {len}"),
        Icmpv4Message::Unknown => write!(w, "ICMP type-#{kind}, length {len}"),
    }
}

fn write_icmpv6<W: Write>(w: &mut W, kind: u8, m: &Icmpv6Message, len: u32) -> io::Result<()> {
    let target =
        |t: &Option<[u8; 16]>| t.map(|b| Ipv6Addr::from(b).to_string()).unwrap_or_default();
    match m {
        Icmpv6Message::EchoRequest { id, seq } => {
            write!(w, "echo request, id {id}, seq {seq}, length {len}")
        }
        Icmpv6Message::EchoReply { id, seq } => {
            write!(w, "echo reply, id {id}, seq {seq}, length {len}")
        }
        Icmpv6Message::DestinationUnreachable => {
            write!(w, "destination unreachable, length {len}")
        }
        Icmpv6Message::PacketTooBig { mtu } => {
            write!(w, "packet too big, mtu {mtu}, length {len}")
        }
        Icmpv6Message::TimeExceeded => write!(w, "time exceeded in-transit, length {len}"),
        Icmpv6Message::ParameterProblem => write!(w, "parameter problem, length {len}"),
        Icmpv6Message::RouterSolicitation => write!(w, "router solicitation, length {len}"),
        Icmpv6Message::RouterAdvertisement => write!(w, "router advertisement, length {len}"),
        Icmpv6Message::NeighborSolicitation { target: t } => write!(
            w,
            "neighbor solicitation, who has {}, length {len}",
            target(t)
        ),
        Icmpv6Message::NeighborAdvertisement { target: t } => write!(
            w,
            "neighbor advertisement, tgt is {}, length {len}",
            target(t)
        ),
        Icmpv6Message::Redirect => write!(w, "redirect, length {len}"),
        Icmpv6Message::Unknown => match kind {
            130 => write!(w, "multicast listener query v1, length {len}"),
            131 => write!(w, "multicast listener report, length {len}"),
            143 => write!(w, "multicast listener report v2, length {len}"),
            t => write!(w, "type-#{t}, length {len}"),
        },
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
    frame: &Frame<'_>,
    t: &TcpSegment,
    ip_payload_len: u32,
    info: Option<&TcpInfo>,
    opts: &LineOptions,
) -> io::Result<()> {
    let hlen = u32::from(t.header_len);
    let flags = t.flags;
    w.write_all(b"Flags [")?;
    write_flags(w, flags)?;
    w.write_all(b"]")?;
    if hlen > ip_payload_len {
        return write!(w, " [bad hdr length {hlen} - too long, > {ip_payload_len}]");
    }
    let len = ip_payload_len - hlen;
    let (seq, ack, sack_base) = match info {
        Some(i) if !opts.absolute_seq => (i.tcpdump_seq, i.tcpdump_ack, Some(i.tcpdump_sack_base)),
        _ => (t.seq, t.ack, None),
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
    write!(w, ", win {}", t.window)?;
    if flags.urg() {
        write!(w, ", urg {}", t.urgent)?;
    }
    if !t.options.is_empty() {
        w.write_all(b", options [")?;
        write_tcp_options(w, frame, t, sack_base)?;
        w.write_all(b"]")?;
    }
    write!(w, ", length {len}")
}

fn write_tcp_options<W: Write>(
    w: &mut W,
    frame: &Frame<'_>,
    t: &TcpSegment,
    sack_base: Option<u32>,
) -> io::Result<()> {
    for (i, opt) in t.options.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        // The name, then the length when it is not the kind's own.
        let (len, expected) = match opt {
            TcpOption::Eol => return w.write_all(b"eol"),
            TcpOption::Nop => {
                w.write_all(b"nop")?;
                continue;
            }
            TcpOption::Bad => return w.write_all(b"[bad opt]"),
            TcpOption::Mss { value, len } => {
                write!(w, "mss {value}")?;
                (len, 4)
            }
            TcpOption::WindowScale { shift, len } => {
                write!(w, "wscale {shift}")?;
                (len, 3)
            }
            TcpOption::SackPermitted { len } => {
                w.write_all(b"sackOK")?;
                (len, 2)
            }
            TcpOption::Sack { blocks, len } => {
                w.write_all(b"sack")?;
                match blocks {
                    None => w.write_all(b" invalid sack")?,
                    Some(b) => {
                        write!(w, " {} ", b.len())?;
                        let base = sack_base.unwrap_or(0);
                        for (l, r) in b.iter() {
                            write!(w, "{{{}:{}}}", l.wrapping_sub(base), r.wrapping_sub(base))?;
                        }
                    }
                }
                (len, len)
            }
            TcpOption::Timestamp { val, ecr, len } => {
                write!(w, "TS val {val} ecr {ecr}")?;
                (len, 10)
            }
            TcpOption::Other { kind, len, body } => {
                let expected = match kind {
                    19 => 18,
                    28 => 4,
                    _ => len,
                };
                match kind {
                    19 => w.write_all(b"md5")?,
                    28 => w.write_all(b"utolen")?,
                    29 => w.write_all(b"tcp-ao")?,
                    30 => w.write_all(b"mptcp")?,
                    34 => w.write_all(b"tfo")?,
                    k => {
                        write!(w, "unknown-{k}")?;
                        let body = body.get(frame.data);
                        if !body.is_empty() {
                            w.write_all(b" 0x")?;
                            for b in body {
                                write!(w, "{b:02x}")?;
                            }
                        }
                    }
                }
                (len, expected)
            }
        };
        if expected != len {
            write!(w, "[len {len}]")?;
        }
    }
    Ok(())
}
