//! The link layer of a tcpdump line: the `-e` header (Ethernet, Linux
//! cooked, BSD loopback), VLAN tags, and ARP, which ends at the link.

use std::io::{self, Write};
use std::net::Ipv4Addr;

use crate::event::VlanTags;
use crate::event::{Frame, LinkHeader, Net, PacketView};

use super::Ended;

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

pub(super) fn ethertype_name(t: u16) -> &'static str {
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

/// The link layer: its header with `-e` (`e`), and the cooked v2
/// interface always; the whole line when nothing further was decoded.
pub(super) fn write_link<W: Write>(
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

pub(super) fn write_arp<W: Write>(w: &mut W, frame: &Frame<'_>, v: &PacketView) -> io::Result<()> {
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
pub(super) fn write_issue<W: Write>(w: &mut W, v: &PacketView) -> io::Result<()> {
    match &v.issue {
        Some(i) => write!(w, "[{i}]"),
        None => Ok(()),
    }
}

pub(super) fn write_vlans<W: Write>(w: &mut W, vlans: &VlanTags) -> io::Result<()> {
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
