//! A TCP segment in tcpdump's words: flags, sequence numbers (relative or
//! absolute), window, options, length.

use std::io::{self, Write};

use crate::event::Frame;
use crate::event::TcpFlags;
use crate::event::TcpInfo;
use crate::event::{TcpOption, TcpSegment};

use super::LineOptions;

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

pub(super) fn write_tcp<W: Write>(
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
