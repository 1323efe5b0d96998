//! Why decoding a frame stopped, as a typed value with a stable code; the
//! words are in `describe::notice`.

/// The layer a decode issue is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layer {
    EthernetHeader,
    VlanHeader,
    Ipv4Header,
    Ipv4Packet,
    Ipv6Header,
    Ipv6Packet,
    IpHeader,
    TcpHeader,
    UdpHeader,
    UdpPayload,
    Icmp,
    Icmpv6,
    Ipv6ExtensionHeader,
    IpAuthHeader,
    Arp,
    /// A layer without a name of its own.
    Other,
}

/// What stopped decoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeIssue {
    /// The link type is not one netpeek decodes.
    UnknownLinkType(u16),
    /// The link header itself is cut short.
    LinkTruncated { need: usize, have: usize },
    /// A layer was cut short by the snapshot length or a corrupt length field.
    Truncated {
        layer: Layer,
        need: usize,
        have: usize,
    },
    /// A header field holds an impossible value; `what` is the decoder's
    /// own message.
    Malformed { layer: Layer, what: String },
}

impl DecodeIssue {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeIssue::UnknownLinkType(_) => "unknown_link_type",
            DecodeIssue::LinkTruncated { .. } => "link_header_truncated",
            DecodeIssue::Truncated { .. } => "layer_truncated",
            DecodeIssue::Malformed { .. } => "layer_malformed",
        }
    }
}

#[cfg(test)]
pub(crate) mod examples {
    use super::*;

    /// Every [`DecodeIssue`] variant once (the match has no wildcard: a
    /// new variant must be listed).
    pub fn decode() -> Vec<DecodeIssue> {
        let all = vec![
            DecodeIssue::UnknownLinkType(147),
            DecodeIssue::LinkTruncated { need: 14, have: 10 },
            DecodeIssue::Truncated {
                layer: Layer::TcpHeader,
                need: 20,
                have: 12,
            },
            DecodeIssue::Malformed {
                layer: Layer::IpHeader,
                what: "bad version".into(),
            },
        ];
        for d in &all {
            match d {
                DecodeIssue::UnknownLinkType(_)
                | DecodeIssue::LinkTruncated { .. }
                | DecodeIssue::Truncated { .. }
                | DecodeIssue::Malformed { .. } => {}
            }
        }
        all
    }

    /// Every [`Layer`] once.
    pub fn layers() -> Vec<Layer> {
        use Layer as L;
        let all = vec![
            L::EthernetHeader,
            L::VlanHeader,
            L::Ipv4Header,
            L::Ipv4Packet,
            L::Ipv6Header,
            L::Ipv6Packet,
            L::IpHeader,
            L::TcpHeader,
            L::UdpHeader,
            L::UdpPayload,
            L::Icmp,
            L::Icmpv6,
            L::Ipv6ExtensionHeader,
            L::IpAuthHeader,
            L::Arp,
            L::Other,
        ];
        for l in &all {
            match l {
                L::EthernetHeader
                | L::VlanHeader
                | L::Ipv4Header
                | L::Ipv4Packet
                | L::Ipv6Header
                | L::Ipv6Packet
                | L::IpHeader
                | L::TcpHeader
                | L::UdpHeader
                | L::UdpPayload
                | L::Icmp
                | L::Icmpv6
                | L::Ipv6ExtensionHeader
                | L::IpAuthHeader
                | L::Arp
                | L::Other => {}
            }
        }
        all
    }
}
