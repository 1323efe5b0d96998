//! The tcpdump line: what `tcpdump -n` prints for a packet, byte for byte
//! where netpeek decodes the same layers (TCP, UDP, ICMP, ICMPv6, ARP,
//! IP fragments; Ethernet, VLAN, Linux cooked, BSD loopback, raw IP).
//!
//! tcpdump also prints application protocols by port (DNS, DHCP, "HTTP:"
//! after port-80 segments, …); netpeek says what those mean in its
//! annotations instead, from reassembled streams.

mod link;
mod net;
mod tcp;
#[cfg(test)]
mod tests;
mod transport;

use std::io::{self, Write};

use crate::event::TcpInfo;
use crate::event::{Frame, PacketView};

use link::write_link;
use net::write_net;
pub use tcp::write_flags;

/// Flags that change the line, as in tcpdump.
#[derive(Clone, Copy, Debug, Default)]
pub struct LineOptions {
    /// `-e`: print the link-level header.
    pub link_header: bool,
    /// `-S`: absolute sequence numbers.
    pub absolute_seq: bool,
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
