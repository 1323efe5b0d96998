//! The network layer of a tcpdump line: IPv4/IPv6 addresses, fragments,
//! then the transport.

use std::io::{self, Write};
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::event::TcpInfo;
use crate::event::Transport;
use crate::event::{Frame, Net, PacketView};

use super::link::{ethertype_name, write_arp, write_issue};
use super::transport::write_transport;
use super::LineOptions;

/// The network layer and what follows it.
pub(super) fn write_net<W: Write>(
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
