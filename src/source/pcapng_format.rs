//! pcapng: a sequence of blocks, grouped in sections. Each section has its
//! own byte order and its own interfaces; each interface its own link type,
//! snapshot length and timestamp resolution. Packets come in Enhanced,
//! Simple and (obsolete) Packet Blocks; all other blocks are skipped.

use super::file::{ByteReader, RawRecord, ReadError, MAX_RECORD};
use super::pcap_format::Endian;
use crate::event::{InterfaceInfo, LinkType, RecordIssue};

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 0x0000_0001;
const PB: u32 = 0x0000_0002;
const SPB: u32 = 0x0000_0003;
const EPB: u32 = 0x0000_0006;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

const OPT_END: u16 = 0;
const OPT_COMMENT: u16 = 1;
const IF_NAME: u16 = 2;
const IF_DESCRIPTION: u16 = 3;
const IF_TSRESOL: u16 = 9;
const IF_FILTER: u16 = 11;
const IF_OS: u16 = 12;
const IF_TSOFFSET: u16 = 14;

/// How to turn an interface's timestamp units into nanoseconds.
#[derive(Clone, Copy, Debug)]
struct TsUnit {
    /// Units per second.
    per_sec: u64,
    offset_secs: i64,
}

impl TsUnit {
    fn to_ns(self, units: u64) -> i64 {
        let secs = units / self.per_sec;
        let rem = units % self.per_sec;
        // rem < per_sec ≤ 2^63, so the product fits in u128.
        let frac_ns = (u128::from(rem) * 1_000_000_000 / u128::from(self.per_sec)) as i64;
        let secs = i64::try_from(secs).unwrap_or(i64::MAX / 1_000_000_000);
        secs.saturating_add(self.offset_secs)
            .saturating_mul(1_000_000_000)
            .saturating_add(frac_ns)
    }
}

pub(crate) struct PcapNgReader {
    endian: Endian,
    section: u32,
    /// Global index (into `interfaces`) of the current section's first interface.
    section_base: usize,
    interfaces: Vec<InterfaceInfo>,
    units: Vec<TsUnit>,
    seen_section: bool,
}

/// Iterates over pcapng options: (code, value) pairs, stopping at opt_endofopt.
struct Options<'a> {
    data: &'a [u8],
    endian: Endian,
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<(u16, &'a [u8]), String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.data.len() < 4 {
            return None;
        }
        let code = self.endian.u16(&self.data[0..2]);
        let len = usize::from(self.endian.u16(&self.data[2..4]));
        if code == OPT_END {
            return None;
        }
        let padded = (len + 3) & !3;
        let Some(value) = self.data.get(4..4 + len) else {
            self.data = &[];
            return Some(Err(format!(
                "option {code} claims {len} bytes, more than its block holds"
            )));
        };
        self.data = self.data.get(4 + padded..).unwrap_or(&[]);
        Some(Ok((code, value)))
    }
}

fn utf8(v: &[u8]) -> String {
    String::from_utf8_lossy(v)
        .trim_end_matches('\0')
        .to_string()
}

impl PcapNgReader {
    pub(crate) fn new() -> Self {
        Self {
            endian: Endian::Little,
            section: 0,
            section_base: 0,
            interfaces: Vec::new(),
            units: Vec::new(),
            seen_section: false,
        }
    }

    pub(crate) fn interfaces(&self) -> &[InterfaceInfo] {
        &self.interfaces
    }

    /// Reads the first section header and the interface blocks that follow
    /// it, up to the first packet, so the interfaces are known before any
    /// frame is delivered (the filter compiler and `-w` need them).
    pub(crate) fn read_first_section(&mut self, r: &mut ByteReader) -> Result<(), ReadError> {
        if !r.ensure(12)? {
            return Err(ReadError::Header(format!(
                "truncated pcapng section header: only {} bytes",
                r.available()
            )));
        }
        self.read_block_header(r, true)?;
        // Read interface (and other) blocks up to the first packet block,
        // which stays unconsumed for next_record.
        while self.read_block_header(r, false)?.is_none() {
            if r.at_eof()? {
                break;
            }
        }
        Ok(())
    }

    /// Reads one block header, validates its framing and, for non-packet
    /// blocks, processes and consumes the block. Returns the block type and
    /// total length for packet blocks (left unconsumed), or None.
    fn read_block_header(
        &mut self,
        r: &mut ByteReader,
        first: bool,
    ) -> Result<Option<(u32, usize)>, ReadError> {
        let offset = r.offset();
        if !r.ensure(12)? {
            let have = r.available();
            if have == 0 && !first {
                return Ok(None);
            }
            return Err(ReadError::Corrupt {
                offset,
                msg: format!("truncated block header: need 12 bytes, the file ends after {have}"),
            });
        }
        let head = r.peek(12);
        let raw_type = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        if raw_type == SHB {
            let magic = [head[8], head[9], head[10], head[11]];
            self.endian = if u32::from_le_bytes(magic) == BYTE_ORDER_MAGIC {
                Endian::Little
            } else if u32::from_be_bytes(magic) == BYTE_ORDER_MAGIC {
                Endian::Big
            } else {
                return Err(corrupt_or_header(
                    first,
                    offset,
                    "section header has an invalid byte-order magic".into(),
                ));
            };
        } else if first {
            return Err(ReadError::Header(
                "pcapng file does not start with a section header".into(),
            ));
        }
        let btype = self.endian.u32(&head[0..4]);
        let total = self.endian.u32(&head[4..8]) as usize;
        if total < 12 || total % 4 != 0 {
            return Err(corrupt_or_header(
                first,
                offset,
                format!("block of type 0x{btype:08x} has an invalid total length {total}"),
            ));
        }
        if total > MAX_RECORD {
            return Err(corrupt_or_header(
                first,
                offset,
                format!(
                    "block of type 0x{btype:08x} claims {total} bytes, more than any real block"
                ),
            ));
        }
        if !r.ensure(total)? {
            return Err(corrupt_or_header(
                first,
                offset,
                format!(
                    "truncated block of type 0x{btype:08x}: it claims {total} bytes, the file ends after {}",
                    r.available()
                ),
            ));
        }
        r.prefetch(total);
        let block = r.peek(total);
        let trailer = self.endian.u32(&block[total - 4..total]) as usize;
        if trailer != total {
            return Err(corrupt_or_header(
                first,
                offset,
                format!(
                    "block total length in header ({total}) and trailer ({trailer}) don't match"
                ),
            ));
        }
        match btype {
            EPB | SPB | PB => {
                if !self.seen_section {
                    return Err(corrupt_or_header(
                        first,
                        offset,
                        "packet block before any section header".into(),
                    ));
                }
                return Ok(Some((btype, total)));
            }
            SHB => self.section_header(&block[8..total - 4], first, offset)?,
            IDB => self.interface_block(&block[8..total - 4], offset)?,
            _ => {}
        }
        r.consume(total);
        Ok(None)
    }

    /// A section header block's body: its version and options checked, a
    /// new section begun (interfaces are numbered afresh in each).
    fn section_header(&mut self, body: &[u8], first: bool, offset: u64) -> Result<(), ReadError> {
        if body.len() < 16 {
            return Err(corrupt_or_header(
                first,
                offset,
                "section header block too short".into(),
            ));
        }
        let major = self.endian.u16(&body[4..6]);
        if major != 1 {
            return Err(corrupt_or_header(
                first,
                offset,
                format!("unsupported pcapng version {major}"),
            ));
        }
        for opt in (Options {
            data: &body[16..],
            endian: self.endian,
        }) {
            if let Err(msg) = opt {
                return Err(corrupt_or_header(
                    first,
                    offset,
                    format!("section header: {msg}"),
                ));
            }
        }
        if self.seen_section {
            self.section += 1;
        }
        self.seen_section = true;
        self.section_base = self.interfaces.len();
        Ok(())
    }

    /// An interface description block's body: the interface, its link type,
    /// snapshot length, names and timestamp unit.
    fn interface_block(&mut self, body: &[u8], offset: u64) -> Result<(), ReadError> {
        if body.len() < 8 {
            return Err(ReadError::Corrupt {
                offset,
                msg: "interface description block too short".into(),
            });
        }
        let linktype = LinkType(self.endian.u16(&body[0..2]));
        let snaplen = self.endian.u32(&body[4..8]);
        let mut info = InterfaceInfo {
            name: None,
            description: None,
            linktype,
            snaplen,
            filter: None,
            os: None,
            section: self.section,
            index_in_section: (self.interfaces.len() - self.section_base) as u32,
        };
        let mut unit = TsUnit {
            per_sec: 1_000_000,
            offset_secs: 0,
        };
        for opt in (Options {
            data: &body[8..],
            endian: self.endian,
        }) {
            // A damaged option costs the remaining options, not the file.
            let Ok((code, value)) = opt else { break };
            match code {
                IF_NAME => info.name = Some(utf8(value)),
                IF_DESCRIPTION => info.description = Some(utf8(value)),
                IF_OS => info.os = Some(utf8(value)),
                // First byte: filter type (0 = libpcap expression).
                IF_FILTER if value.first() == Some(&0) => {
                    info.filter = Some(utf8(&value[1..]));
                }
                IF_TSRESOL => {
                    if let Some(&v) = value.first() {
                        unit.per_sec = tsresol_per_sec(v).ok_or_else(|| ReadError::Corrupt {
                            offset,
                            msg: format!(
                                "interface declares an unusable timestamp resolution 0x{v:02x}"
                            ),
                        })?;
                    }
                }
                IF_TSOFFSET if value.len() == 8 => {
                    unit.offset_secs = self.endian.u64(value) as i64;
                }
                _ => {}
            }
        }
        self.interfaces.push(info);
        self.units.push(unit);
        Ok(())
    }

    pub(crate) fn next_record(
        &mut self,
        r: &mut ByteReader,
    ) -> Result<Option<RawRecord>, ReadError> {
        loop {
            let offset = r.offset();
            let Some((btype, total)) = self.read_block_header(r, false)? else {
                if r.at_eof()? {
                    return Ok(None);
                }
                continue;
            };
            let block = r.peek(total);
            let body = &block[8..total - 4];
            let e = self.endian;
            let (local_if, ts_units, caplen, len, data_start, opts_start, no_ts) = match btype {
                EPB => {
                    if body.len() < 20 {
                        return Err(corrupt(offset, "enhanced packet block too short"));
                    }
                    let ts = (u64::from(e.u32(&body[4..8])) << 32) | u64::from(e.u32(&body[8..12]));
                    let caplen = e.u32(&body[12..16]);
                    let len = e.u32(&body[16..20]);
                    let padded = (caplen as usize + 3) & !3;
                    if 20 + padded > body.len() {
                        return Err(ReadError::Corrupt {
                            offset,
                            msg: format!(
                                "enhanced packet block claims {caplen} captured bytes, but the block holds only {}",
                                body.len() - 20
                            ),
                        });
                    }
                    (e.u32(&body[0..4]), ts, caplen, len, 28, 28 + padded, false)
                }
                PB => {
                    if body.len() < 20 {
                        return Err(corrupt(offset, "packet block too short"));
                    }
                    let ts = (u64::from(e.u32(&body[4..8])) << 32) | u64::from(e.u32(&body[8..12]));
                    let caplen = e.u32(&body[12..16]);
                    let len = e.u32(&body[16..20]);
                    let padded = (caplen as usize + 3) & !3;
                    if 20 + padded > body.len() {
                        return Err(corrupt(
                            offset,
                            "packet block claims more captured bytes than it holds",
                        ));
                    }
                    (
                        u32::from(e.u16(&body[0..2])),
                        ts,
                        caplen,
                        len,
                        28,
                        28 + padded,
                        false,
                    )
                }
                _ => {
                    // SPB: original length, then data up to the block's end,
                    // cut to the interface's snaplen.
                    if body.len() < 4 {
                        return Err(corrupt(offset, "simple packet block too short"));
                    }
                    let len = e.u32(&body[0..4]);
                    let mut caplen = len.min((body.len() - 4) as u32);
                    if let Some(snap) = self.interfaces.get(self.section_base).map(|i| i.snaplen) {
                        if snap != 0 {
                            caplen = caplen.min(snap);
                        }
                    }
                    (0, 0, caplen, len, 12, total - 4, true)
                }
            };
            let global = self.section_base + local_if as usize;
            if global >= self.interfaces.len() {
                return Err(ReadError::Corrupt {
                    offset,
                    msg: format!(
                        "packet refers to interface {local_if}, but its section declares only {}",
                        self.interfaces.len() - self.section_base
                    ),
                });
            }
            let unit = self.units[global];
            let mut comment = None;
            if let Some(opts) = block.get(opts_start..total - 4) {
                for (code, value) in (Options {
                    data: opts,
                    endian: e,
                })
                .map_while(Result::ok)
                {
                    if code == OPT_COMMENT && comment.is_none() {
                        let start = value.as_ptr() as usize - block.as_ptr() as usize;
                        comment = Some((start, start + value.len()));
                    }
                }
            }
            let record_issue = if no_ts {
                Some(RecordIssue::NoTimestamp)
            } else if caplen > len {
                Some(RecordIssue::CaplenExceedsLen)
            } else {
                None
            };
            return Ok(Some(RawRecord {
                data_offset: data_start,
                caplen,
                len,
                ts_ns: if no_ts { 0 } else { unit.to_ns(ts_units) },
                interface: global as u32,
                comment,
                record_issue,
                total,
            }));
        }
    }
}

fn tsresol_per_sec(v: u8) -> Option<u64> {
    let exp = u32::from(v & 0x7f);
    if v & 0x80 == 0 {
        10u64.checked_pow(exp)
    } else {
        1u64.checked_shl(exp).filter(|_| exp < 64)
    }
    .filter(|&n| n > 0)
}

fn corrupt(offset: u64, msg: &str) -> ReadError {
    ReadError::Corrupt {
        offset,
        msg: msg.to_string(),
    }
}

fn corrupt_or_header(first: bool, offset: u64, msg: String) -> ReadError {
    if first {
        ReadError::Header(msg)
    } else {
        ReadError::Corrupt { offset, msg }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsresol_values() {
        assert_eq!(tsresol_per_sec(6), Some(1_000_000));
        assert_eq!(tsresol_per_sec(9), Some(1_000_000_000));
        assert_eq!(tsresol_per_sec(0x80 | 10), Some(1024));
        assert_eq!(tsresol_per_sec(0x80 | 70), None);
        assert_eq!(tsresol_per_sec(30), None);
    }

    #[test]
    fn ts_unit_conversion() {
        let us = TsUnit {
            per_sec: 1_000_000,
            offset_secs: 0,
        };
        assert_eq!(us.to_ns(1_340_954_905_298_858), 1_340_954_905_298_858_000);
        let bin = TsUnit {
            per_sec: 1024,
            offset_secs: 10,
        };
        assert_eq!(bin.to_ns(1024 + 512), 11_500_000_000);
    }
}
