//! The words of decode issues: what stopped decoding a packet, in words a
//! person can act on. The texts of impossible header values are the ones
//! the packet parser (etherparse) gives its errors, so they read the same
//! as before the issues were typed (decode's tests hold them equal).

use std::fmt;

use crate::event::{DecodeIssue, DecodeLayer, Malformed};

impl fmt::Display for DecodeIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeIssue::UnknownLinkType(t) => write!(f, "unknown link type {t}"),
            DecodeIssue::LinkTruncated { need, have } => {
                write!(f, "link header truncated: need {need} bytes, have {have}")
            }
            DecodeIssue::Truncated { layer, need, have } => {
                write!(f, "{layer} truncated: need {need} bytes, have {have}")
            }
            DecodeIssue::Malformed { layer, what } => write!(f, "malformed {layer}: {what}"),
        }
    }
}

impl fmt::Display for DecodeLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DecodeLayer::Ethernet => "Ethernet header",
            DecodeLayer::Vlan => "VLAN header",
            DecodeLayer::IpHeader => "IP header",
            DecodeLayer::Ipv4Header => "IPv4 header",
            DecodeLayer::Ipv4Packet => "IPv4 packet",
            DecodeLayer::Ipv6Header => "IPv6 header",
            DecodeLayer::Ipv6Packet => "IPv6 packet",
            DecodeLayer::Ipv6Extension => "IPv6 extension header",
            DecodeLayer::IpAuthentication => "IP authentication header",
            DecodeLayer::TcpHeader => "TCP header",
            DecodeLayer::UdpHeader => "UDP header",
            DecodeLayer::UdpPayload => "UDP payload",
            DecodeLayer::Icmp => "ICMP",
            DecodeLayer::Icmpv6 => "ICMPv6",
            DecodeLayer::Arp => "ARP",
            DecodeLayer::Other => "header",
        })
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::IpVersion(v) => write!(
                f,
                "IP Header Error: Encountered '{v}' as IP version number in the IP header (only \
                 '4' or '6' are supported)."
            ),
            Malformed::Ipv4Version(v) => write!(
                f,
                "IPv4 Header Error: Encountered '{v}' as IP version number in the IPv4 header \
                 (must be '4' in an IPv4 header)."
            ),
            Malformed::Ipv6Version(v) => write!(
                f,
                "IPv6 Header Error: Encountered '{v}' as IP version number in the IPv6 header \
                 (must be '6' in an IPv6 header)."
            ),
            Malformed::Ipv4HeaderLength(ihl) => write!(
                f,
                "IPv4 Header Error: The 'internet header length' value '{ihl}' present in the \
                 IPv4 header is smaller than the minimum size of an IPv4 header. The minimum \
                 allowed value is '5'."
            ),
            Malformed::AuthPayloadLength => f.write_str(
                "IP Authentication Header Error: Payload Length too small (0). The payload \
                 length must be at least 1.",
            ),
            Malformed::HopByHopNotFirst => f.write_str(
                "IPv6 Extension Header Error: Encountered an IPv6 hop-by-hop header not directly \
                 after the IPv6 header. This is not allowed according to RFC 8200.",
            ),
            Malformed::TcpDataOffset(off) => write!(
                f,
                "TCP Header Error: 'data offset' too small ({off}). The 'data offset' must be at \
                 least 5 so the data is not overlapping with the TCP header itself."
            ),
            Malformed::MacsecVersion => f.write_str(
                "MACsec Header Error: Encountered '1' as MACsec version in the MACsec SecTag \
                 header (must be '0').",
            ),
            Malformed::MacsecShortLength => f.write_str(
                "MACsec Header Error: Encountered '1' as MACsec short len in an unmodified packet \
                 (must be '0' or '2' or greater).",
            ),
            Malformed::LinuxSll => f.write_str("Linux cooked capture header error"),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::event::packet::examples;
    use crate::event::{DecodeIssue, DecodeLayer, Malformed};

    #[test]
    fn decode_issues_read_as_before() {
        assert_eq!(
            DecodeIssue::UnknownLinkType(147).to_string(),
            "unknown link type 147"
        );
        assert_eq!(
            DecodeIssue::LinkTruncated { need: 14, have: 10 }.to_string(),
            "link header truncated: need 14 bytes, have 10"
        );
        assert_eq!(
            DecodeIssue::Truncated {
                layer: DecodeLayer::TcpHeader,
                need: 20,
                have: 12
            }
            .to_string(),
            "TCP header truncated: need 20 bytes, have 12"
        );
        assert_eq!(
            DecodeIssue::Malformed {
                layer: DecodeLayer::TcpHeader,
                what: Malformed::TcpDataOffset(3),
            }
            .to_string()
            .split(':')
            .next(),
            Some("malformed TCP header")
        );
        assert_eq!(DecodeLayer::Other.to_string(), "header");
    }

    #[test]
    fn every_layer_has_its_own_name() {
        let mut names: Vec<String> = examples::layers().iter().map(ToString::to_string).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
