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
    if write_link(w, frame, v, opts.link_header, iface_names)? == Ended::Yes {
        return Ok(());
    }
    write_net(w, frame, v, tcp, opts)
}

/// Whether the line ended with the link layer.
#[derive(PartialEq, Eq)]
enum Ended {
    Yes,
    No,
}

/// The link layer: its header with `-e` (`e`), and the cooked v2
/// interface always; the whole line when nothing further was decoded.
fn write_link<W: Write>(
    w: &mut W,
    frame: &Frame<'_>,
    v: &PacketView,
    e: bool,
    iface_names: &dyn Fn(u32) -> Option<String>,
) -> io::Result<Ended> {
    match v.link {
        LinkHeader::Ethernet {
            dst,
            src,
            ethertype,
        } => return write_ethernet(w, frame, v, e, (src, dst, ethertype)),
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
            match &v.issue {
                Some(issue) => write!(w, "[{issue}], length {}", frame.len)?,
                None => write!(
                    w,
                    "[unknown link type {}], length {}",
                    frame.linktype.0, frame.len
                )?,
            }
            return Ok(Ended::Yes);
        }
    }
    Ok(Ended::No)
}

/// An Ethernet header: `(src, dst, ethertype)`.
fn write_ethernet<W: Write>(
    w: &mut W,
    frame: &Frame<'_>,
    v: &PacketView,
    e: bool,
    (src, dst, ethertype): ([u8; 6], [u8; 6], u16),
) -> io::Result<Ended> {
    let has_net = matches!(v.net, Net::Ipv4 { .. } | Net::Ipv6 { .. } | Net::Arp { .. });
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
            write!(w, "802.3, length {}: LLC", frame.len)?;
            return Ok(Ended::Yes);
        }
        write!(
            w,
            "ethertype {} (0x{ethertype:04x}), length {}: ",
            ethertype_name(ethertype),
            frame.len
        )?;
        write_issue(w, v)?;
        return Ok(Ended::Yes);
    }
    Ok(Ended::No)
}

/// The network layer and what follows it.
fn write_net<W: Write>(
    w: &mut W,
    frame: &Frame<'_>,
    v: &PacketView,
    tcp: Option<&TcpInfo>,
    opts: &LineOptions,
) -> io::Result<()> {
    let e = opts.link_header;
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
        Net::Arp { .. } => {
            if !e {
                w.write_all(b"ARP, ")?;
            }
            write_arp(w, frame, v)
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

fn write_arp<W: Write>(w: &mut W, frame: &Frame<'_>, v: &PacketView) -> io::Result<()> {
    let Net::Arp {
        operation,
        sender_hw,
        sender_proto,
        target_proto,
    } = v.net
    else {
        return Ok(());
    };
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

#[cfg(test)]
mod tests {
    //! Lines from views built by hand: what each fact of the view becomes
    //! in tcpdump's words.

    use super::*;
    use crate::event::{ByteRange, LinkType, Offered, QuotedIpv4, SackBlocks};
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
}
