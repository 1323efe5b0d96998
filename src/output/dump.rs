//! Payload dumps as tcpdump prints them: `-A` (ASCII) and `-X` (hex and
//! ASCII), from the network header on, with secret header values
//! (`Authorization`, `Cookie`, …) redacted unless `--show-secrets`.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::io::{self, Write};

use crate::event::redact::{redact_payload, redact_payload_cont, LineCarry};
use crate::event::Direction;
use crate::event::Frame;
use crate::event::{Net, PacketEvent, PacketView};

/// What `-A`/`-X` show of each packet: [`network_bytes`] with the values
/// of secret header fields replaced by `<redacted N bytes>`.
///
/// A TCP segment is redacted in the context of its direction's byte
/// stream: a secret value cut by the end of one segment stays hidden in the
/// segment that continues it, and a field name split between two segments
/// is still recognised. Context is kept per direction for the last few
/// segment ends (so a retransmission of a continuing segment is redacted
/// the same way); a segment whose start matches none is read as starting a
/// line. Other packets are redacted line by line on their own.
pub struct DumpRedactor {
    show_secrets: bool,
    /// Per stream and direction: line state at recent segment ends, by
    /// absolute sequence number.
    streams: HashMap<(u64, Direction), VecDeque<(u32, LineCarry)>>,
}

/// Segment ends remembered per direction.
const ENDS_KEPT: usize = 16;
/// Directions remembered; beyond this the context is forgotten (a bound
/// for captures with very many connections).
const DIRECTIONS_KEPT: usize = 8192;

impl DumpRedactor {
    pub fn new(show_secrets: bool) -> Self {
        Self {
            show_secrets,
            streams: HashMap::new(),
        }
    }

    /// The bytes to dump for this packet.
    pub fn bytes<'f>(&mut self, p: &PacketEvent<'_, 'f>) -> Cow<'f, [u8]> {
        let all = network_bytes(p.frame, p.view);
        if self.show_secrets {
            return Cow::Borrowed(all);
        }
        let tcp = p.view.tcp().zip(p.tcp);
        let Some((m, info)) = tcp else {
            return redact_payload(all, false);
        };
        let Some(start) = m.payload_start.checked_sub(p.view.net_start) else {
            return redact_payload(all, false);
        };
        let start = usize::from(start);
        let end = start + m.payload_len as usize;
        let (Some(head), Some(payload), Some(tail)) =
            (all.get(..start), all.get(start..end), all.get(end..))
        else {
            return redact_payload(all, false);
        };
        if payload.is_empty() {
            return Cow::Borrowed(all);
        }
        // A SYN's data starts one after its sequence number.
        let seq = if m.flags.syn() {
            m.seq.wrapping_add(1)
        } else {
            m.seq
        };
        if self.streams.len() >= DIRECTIONS_KEPT
            && !self.streams.contains_key(&(info.stream, info.direction))
        {
            self.streams.clear();
        }
        let ends = self
            .streams
            .entry((info.stream, info.direction))
            .or_default();
        let mut carry = ends
            .iter()
            .rev()
            .find(|(at, _)| *at == seq)
            .map(|(_, c)| c.clone())
            .unwrap_or_default();
        let redacted = redact_payload_cont(payload, false, &mut carry);
        let seg_end = seq.wrapping_add(payload.len() as u32);
        ends.retain(|(at, _)| *at != seg_end);
        if ends.len() >= ENDS_KEPT {
            ends.pop_front();
        }
        ends.push_back((seg_end, carry));
        match redacted {
            Cow::Borrowed(_) => Cow::Borrowed(all),
            Cow::Owned(r) => {
                let mut v = Vec::with_capacity(head.len() + r.len() + tail.len());
                v.extend_from_slice(head);
                v.extend_from_slice(&r);
                v.extend_from_slice(tail);
                Cow::Owned(v)
            }
        }
    }
}

/// The bytes tcpdump dumps for `-A`/`-X`: the frame minus its link-level
/// header, to the end of what was captured (link-layer padding included).
pub fn network_bytes<'a>(frame: &Frame<'a>, v: &PacketView) -> &'a [u8] {
    match v.net {
        Net::Ipv4 { .. } | Net::Ipv6 { .. } | Net::Arp { .. } => frame
            .data
            .get(usize::from(v.net_start)..)
            .unwrap_or_default(),
        Net::None | Net::Other { .. } => &[],
    }
}

fn is_graph(b: u8) -> bool {
    (0x21..=0x7e).contains(&b)
}

/// `-A`: printable characters, newlines and tabs as they are; a CR is
/// dropped before a newline; everything else is a dot.
pub fn write_ascii<W: Write>(w: &mut W, bytes: &[u8]) -> io::Result<()> {
    w.write_all(b"\n")?;
    let mut out = Vec::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\r' {
            let rest = bytes.len() - i - 1;
            if rest > 1 && bytes.get(i + 1) != Some(&b'\n') {
                out.push(b'.');
            }
        } else if is_graph(b) || b == b'\t' || b == b' ' || b == b'\n' {
            out.push(b);
        } else {
            out.push(b'.');
        }
    }
    w.write_all(&out)
}

/// `-X`: offset, eight groups of two bytes in hex, and the ASCII column.
pub fn write_hex_ascii<W: Write>(w: &mut W, bytes: &[u8]) -> io::Result<()> {
    for (line, chunk) in bytes.chunks(16).enumerate() {
        let mut hex = String::with_capacity(40);
        for pair in chunk.chunks(2) {
            match pair {
                [a, b] => hex.push_str(&format!(" {a:02x}{b:02x}")),
                [a] => hex.push_str(&format!(" {a:02x}")),
                _ => {}
            }
        }
        let ascii: String = chunk
            .iter()
            .map(|&b| if is_graph(b) { b as char } else { '.' })
            .collect();
        write!(w, "\n\t0x{:04x}: {hex:<40}  {ascii}", line * 16)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_ascii_matches_tcpdump_layout() {
        let mut v = Vec::new();
        write_hex_ascii(&mut v, b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
        let s = String::from_utf8(v).unwrap();
        assert_eq!(
            s,
            "\n\t0x0000:  4745 5420 2f20 4854 5450 2f31 2e31 0d0a  GET./.HTTP/1.1..\
             \n\t0x0010:  486f 7374 3a20 780d 0a                   Host:.x.."
        );
    }

    #[test]
    fn ascii_drops_cr_before_lf() {
        let mut v = Vec::new();
        write_ascii(&mut v, b"a\r\nb\x01c\r\n").unwrap();
        assert_eq!(
            v,
            b"\na\nb.c\r\n"
                .iter()
                .filter(|&&c| c != b'\r')
                .copied()
                .collect::<Vec<_>>()
                .as_slice()
        );
    }
}
