//! Payload dumps as tcpdump prints them: `-A` (ASCII) and `-X` (hex and
//! ASCII), from the network header on.

use std::io::{self, Write};

use etherparse::LaxNetSlice;

use crate::decode::Decoded;
use crate::source::Frame;

/// The bytes tcpdump dumps for `-A`/`-X`: the frame minus its link-level
/// header, to the end of what was captured (link-layer padding included).
pub fn network_bytes<'a>(frame: &Frame<'a>, d: &Decoded<'a>) -> &'a [u8] {
    let data = frame.data;
    let Some(pkt) = &d.pkt else {
        return &[];
    };
    let start = match &pkt.net {
        Some(LaxNetSlice::Ipv4(v4)) => offset_in(data, v4.header().slice()),
        Some(LaxNetSlice::Ipv6(v6)) => offset_in(data, v6.header().slice()),
        Some(LaxNetSlice::Arp(a)) => offset_in(data, a.slice()),
        None => None,
    };
    start.and_then(|s| data.get(s..)).unwrap_or(&[])
}

fn offset_in(outer: &[u8], inner: &[u8]) -> Option<usize> {
    let o = outer.as_ptr() as usize;
    let i = inner.as_ptr() as usize;
    (i >= o && i <= o + outer.len()).then(|| i - o)
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
