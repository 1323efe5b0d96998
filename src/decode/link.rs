//! Link-layer headers: Ethernet, Linux cooked v1 and v2, BSD loopback
//! (null), OpenBSD loop, raw IP, read into the packet view's
//! [`LinkHeader`]. VLAN tags after Ethernet are etherparse's job
//! (`link_exts`).

use super::DecodeIssue;
use crate::event::{HwAddr, LinkHeader, LinkType};

/// What follows the link header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextLayer {
    EtherType(u16),
    /// IPv4 or IPv6, told apart by the version nibble.
    Ip,
    None,
}

/// What follows a link header.
#[inline]
pub fn next_layer(link: &LinkHeader) -> NextLayer {
    match *link {
        LinkHeader::Ethernet { ethertype, .. } => NextLayer::EtherType(ethertype),
        LinkHeader::Sll {
            protocol, hatype, ..
        }
        | LinkHeader::Sll2 {
            protocol, hatype, ..
        } => sll_next(protocol, hatype),
        LinkHeader::Null { family } => match family {
            2 => NextLayer::EtherType(0x0800),
            // IPv6 on NetBSD/OpenBSD/BSD/OSI (24), FreeBSD (28), macOS (30).
            24 | 28 | 30 => NextLayer::EtherType(0x86dd),
            _ => NextLayer::None,
        },
        LinkHeader::Raw => NextLayer::Ip,
        LinkHeader::Unknown => NextLayer::None,
    }
}

fn sll_next(protocol: u16, hatype: u16) -> NextLayer {
    // For these ARPHRD types the protocol field is not an EtherType
    // (802.2 frames, CAN, …); everything else carries one.
    match (hatype, protocol) {
        (_, 0x0004) | (_, 0x0001) | (_, 0x000c) => NextLayer::None,
        _ => NextLayer::EtherType(protocol),
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn need(data: &[u8], n: usize) -> Result<(), DecodeIssue> {
    if data.len() < n {
        Err(DecodeIssue::LinkTruncated {
            need: super::len32(n),
            have: super::len32(data.len()),
        })
    } else {
        Ok(())
    }
}

/// Splits the link header off `data`.
#[inline(always)]
pub fn parse(linktype: LinkType, data: &[u8]) -> Result<(LinkHeader, &[u8]), DecodeIssue> {
    match linktype {
        LinkType::ETHERNET => {
            need(data, 14)?;
            let mut dst = [0; 6];
            let mut src = [0; 6];
            dst.copy_from_slice(&data[0..6]);
            src.copy_from_slice(&data[6..12]);
            Ok((
                LinkHeader::Ethernet {
                    dst,
                    src,
                    ethertype: be16(data, 12),
                },
                &data[14..],
            ))
        }
        LinkType::LINUX_SLL => {
            need(data, 16)?;
            let alen = usize::from(be16(data, 4)).min(8);
            Ok((
                LinkHeader::Sll {
                    packet_type: be16(data, 0),
                    hatype: be16(data, 2),
                    addr: HwAddr::new(&data[6..6 + alen]),
                    protocol: be16(data, 14),
                },
                &data[16..],
            ))
        }
        LinkType::LINUX_SLL2 => {
            need(data, 20)?;
            let alen = usize::from(data[11]).min(8);
            Ok((
                LinkHeader::Sll2 {
                    protocol: be16(data, 0),
                    ifindex: u32::from_be_bytes([data[4], data[5], data[6], data[7]]),
                    hatype: be16(data, 8),
                    packet_type: data[10],
                    addr: HwAddr::new(&data[12..12 + alen]),
                },
                &data[20..],
            ))
        }
        LinkType::NULL | LinkType::LOOP => {
            need(data, 4)?;
            let raw = [data[0], data[1], data[2], data[3]];
            let family = if linktype == LinkType::LOOP {
                u32::from_be_bytes(raw)
            } else {
                // Written in the capturing host's byte order; families are
                // small, so the zero half tells which order that was.
                let le = u32::from_le_bytes(raw);
                if le > 0xffff {
                    u32::from_be_bytes(raw)
                } else {
                    le
                }
            };
            Ok((LinkHeader::Null { family }, &data[4..]))
        }
        LinkType::RAW | LinkType::IPV4 | LinkType::IPV6 => Ok((LinkHeader::Raw, data)),
        other => Err(DecodeIssue::UnknownLinkType(other.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_family_either_byte_order() {
        let (l, _) = parse(LinkType::NULL, &[2, 0, 0, 0, 0x45]).unwrap();
        assert_eq!(l, LinkHeader::Null { family: 2 });
        let (l, _) = parse(LinkType::NULL, &[0, 0, 0, 30, 0x60]).unwrap();
        assert_eq!(l, LinkHeader::Null { family: 30 });
        assert_eq!(next_layer(&l), NextLayer::EtherType(0x86dd));
        let (l, _) = parse(LinkType::NULL, &[24, 0, 0, 0]).unwrap();
        assert_eq!(next_layer(&l), NextLayer::EtherType(0x86dd));
        let (l, _) = parse(LinkType::NULL, &[28, 0, 0, 0]).unwrap();
        assert_eq!(next_layer(&l), NextLayer::EtherType(0x86dd));
        let (l, _) = parse(LinkType::LOOP, &[0, 0, 0, 2]).unwrap();
        assert_eq!(next_layer(&l), NextLayer::EtherType(0x0800));
    }

    #[test]
    fn truncated_link_headers_are_issues() {
        assert_eq!(
            parse(LinkType::ETHERNET, &[0; 10]).unwrap_err(),
            DecodeIssue::LinkTruncated { need: 14, have: 10 }
        );
        assert!(parse(LinkType::LINUX_SLL2, &[0; 19]).is_err());
        assert_eq!(
            parse(LinkType(147), &[0; 40]).unwrap_err(),
            DecodeIssue::UnknownLinkType(147)
        );
    }

    #[test]
    fn sll2_fields() {
        let mut d = vec![0x08, 0x00, 0, 0, 0, 0, 0, 7, 0, 1, 4, 6];
        d.extend_from_slice(&[1, 2, 3, 4, 5, 6, 0, 0]);
        d.push(0x45);
        let (l, rest) = parse(LinkType::LINUX_SLL2, &d).unwrap();
        assert_eq!(
            l,
            LinkHeader::Sll2 {
                protocol: 0x0800,
                ifindex: 7,
                hatype: 1,
                packet_type: 4,
                addr: HwAddr::new(&[1, 2, 3, 4, 5, 6]),
            }
        );
        assert_eq!(rest, &[0x45]);
    }
}
