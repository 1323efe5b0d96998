//! The transport part of a tcpdump line: UDP, ICMP and ICMPv6 as tcpdump
//! words them, IGMP, and TCP (in `tcp`).

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::event::TcpInfo;
use crate::event::{Frame, Icmpv4Message, Icmpv6Message, PacketView};
use crate::event::{Transport, Unreachable};

use super::tcp::write_tcp;
use super::LineOptions;

#[allow(clippy::too_many_arguments)]
pub(super) fn write_transport<W: Write>(
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
