//! The classic pcap format: a 24-byte file header, then records of a 16-byte
//! header and the packet bytes. Either byte order; microsecond or nanosecond
//! timestamps.

use super::file::{ByteReader, RawRecord, ReadError, MAX_RECORD};
use crate::event::{InterfaceInfo, LinkType, RecordIssue};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endian {
    Little,
    Big,
}

impl Endian {
    pub(crate) fn u16(self, b: &[u8]) -> u16 {
        let a = [b[0], b[1]];
        match self {
            Endian::Little => u16::from_le_bytes(a),
            Endian::Big => u16::from_be_bytes(a),
        }
    }

    pub(crate) fn u32(self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        match self {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        }
    }

    pub(crate) fn u64(self, b: &[u8]) -> u64 {
        let a = [b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]];
        match self {
            Endian::Little => u64::from_le_bytes(a),
            Endian::Big => u64::from_be_bytes(a),
        }
    }
}

const FILE_HEADER: usize = 24;
const RECORD_HEADER: usize = 16;

pub(crate) struct PcapReader {
    endian: Endian,
    nanos: bool,
    interfaces: Vec<InterfaceInfo>,
}

impl PcapReader {
    pub(crate) fn from_magic(magic: [u8; 4]) -> Option<Self> {
        let (endian, nanos) = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] => (Endian::Little, false),
            [0xa1, 0xb2, 0xc3, 0xd4] => (Endian::Big, false),
            [0x4d, 0x3c, 0xb2, 0xa1] => (Endian::Little, true),
            [0xa1, 0xb2, 0x3c, 0x4d] => (Endian::Big, true),
            _ => return None,
        };
        Some(Self {
            endian,
            nanos,
            interfaces: Vec::new(),
        })
    }

    pub(crate) fn interfaces(&self) -> &[InterfaceInfo] {
        &self.interfaces
    }

    pub(crate) fn read_header(&mut self, r: &mut ByteReader) -> Result<(), ReadError> {
        if !r.ensure(FILE_HEADER)? {
            return Err(ReadError::Header(format!(
                "truncated dump file; tried to read {FILE_HEADER} file header bytes, only got {}",
                r.available()
            )));
        }
        let h = r.peek(FILE_HEADER);
        let major = self.endian.u16(&h[4..6]);
        let snaplen = self.endian.u32(&h[16..20]);
        // The upper bits of the link-type field carry FCS information.
        let linktype = LinkType((self.endian.u32(&h[20..24]) & 0xffff) as u16);
        if major != 2 {
            return Err(ReadError::Header(format!(
                "unsupported pcap format version {major} (only version 2 exists)"
            )));
        }
        r.consume(FILE_HEADER);
        self.interfaces.push(InterfaceInfo {
            name: None,
            description: None,
            linktype,
            snaplen,
            filter: None,
            os: None,
            section: 0,
            index_in_section: 0,
        });
        Ok(())
    }

    pub(crate) fn next_record(
        &mut self,
        r: &mut ByteReader,
    ) -> Result<Option<RawRecord>, ReadError> {
        if !r.ensure(RECORD_HEADER)? {
            let have = r.available();
            if have == 0 {
                return Ok(None);
            }
            return Err(ReadError::Corrupt {
                offset: r.offset(),
                msg: format!(
                    "truncated dump file; tried to read {RECORD_HEADER} header bytes, only got {have}"
                ),
            });
        }
        let h = r.peek(RECORD_HEADER);
        let sec = self.endian.u32(&h[0..4]);
        let frac = self.endian.u32(&h[4..8]);
        let caplen = self.endian.u32(&h[8..12]);
        let len = self.endian.u32(&h[12..16]);
        if caplen as usize > MAX_RECORD {
            return Err(ReadError::Corrupt {
                offset: r.offset(),
                msg: format!(
                    "record claims {caplen} captured bytes, more than any real packet; the file is corrupt"
                ),
            });
        }
        let total = RECORD_HEADER + caplen as usize;
        if !r.ensure(total)? {
            return Err(ReadError::Corrupt {
                offset: r.offset(),
                msg: format!(
                    "truncated dump file; tried to read {caplen} captured bytes, only got {}",
                    r.available().saturating_sub(RECORD_HEADER)
                ),
            });
        }
        r.prefetch(total);
        let (unit, limit) = if self.nanos {
            (1, 1_000_000_000)
        } else {
            (1_000, 1_000_000)
        };
        let record_issue = if frac >= limit {
            Some(RecordIssue::TimestampFractionOutOfRange { raw: frac })
        } else if caplen > len {
            Some(RecordIssue::CaplenExceedsLen)
        } else {
            None
        };
        // An out-of-range fraction is clamped, not carried: carrying a
        // garbage field into the seconds would invent a jump in time.
        let frac = frac.min(limit - 1);
        let ts_ns = i64::from(sec) * 1_000_000_000 + i64::from(frac) * unit;
        Ok(Some(RawRecord {
            data_offset: RECORD_HEADER,
            caplen,
            len,
            ts_ns,
            interface: 0,
            comment: None,
            record_issue,
            total,
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::event::RecordIssue;
    use crate::source::file::FileSource;
    use crate::source::{Next, PacketSource};

    fn pcap(big: bool, nanos: bool, records: &[(u32, u32, &[u8], u32)]) -> Vec<u8> {
        let w32 = |v: &mut Vec<u8>, x: u32| {
            v.extend_from_slice(&if big {
                x.to_be_bytes()
            } else {
                x.to_le_bytes()
            })
        };
        let w16 = |v: &mut Vec<u8>, x: u16| {
            v.extend_from_slice(&if big {
                x.to_be_bytes()
            } else {
                x.to_le_bytes()
            })
        };
        let mut v = Vec::new();
        w32(&mut v, if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 });
        w16(&mut v, 2);
        w16(&mut v, 4);
        w32(&mut v, 0);
        w32(&mut v, 0);
        w32(&mut v, 65535);
        w32(&mut v, 1);
        for &(sec, frac, data, len) in records {
            w32(&mut v, sec);
            w32(&mut v, frac);
            w32(&mut v, data.len() as u32);
            w32(&mut v, len);
            v.extend_from_slice(data);
        }
        v
    }

    fn read_all(bytes: Vec<u8>) -> Vec<(u64, i64, u32, u32, Option<RecordIssue>)> {
        let mut src = FileSource::from_reader(
            std::path::Path::new("t"),
            Box::new(std::io::Cursor::new(bytes)),
            None,
        )
        .unwrap();
        let mut out = Vec::new();
        while let Next::Frame(f, _) = src.next().unwrap() {
            out.push((f.number, f.ts_ns, f.caplen, f.len, f.record_issue));
        }
        out
    }

    #[test]
    fn both_byte_orders_and_resolutions() {
        for big in [false, true] {
            for nanos in [false, true] {
                let frac = if nanos { 123_456_789 } else { 123_456 };
                let got = read_all(pcap(
                    big,
                    nanos,
                    &[(10, frac, &[1, 2, 3], 60), (11, 0, &[], 0)],
                ));
                let ns = if nanos { 123_456_789 } else { 123_456_000 };
                assert_eq!(
                    got,
                    vec![
                        (1, 10_000_000_000 + ns, 3, 60, None),
                        (2, 11_000_000_000, 0, 0, None)
                    ],
                    "big={big} nanos={nanos}"
                );
            }
        }
    }

    #[test]
    fn caplen_above_len_is_kept_and_marked() {
        let got = read_all(pcap(false, false, &[(1, 0, &[0; 8], 4)]));
        assert_eq!(got[0].4, Some(RecordIssue::CaplenExceedsLen));
        assert_eq!((got[0].2, got[0].3), (8, 4));
    }

    #[test]
    fn hostile_caplen_is_an_error_not_an_allocation() {
        let mut v = pcap(false, false, &[]);
        v.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
        v.extend_from_slice(&u32::MAX.to_le_bytes());
        v.extend_from_slice(&u32::MAX.to_le_bytes());
        let mut src = FileSource::from_reader(
            std::path::Path::new("t"),
            Box::new(std::io::Cursor::new(v)),
            None,
        )
        .unwrap();
        let err = src.next().unwrap_err().to_string();
        assert!(
            err.contains("record claims 4294967295 captured bytes"),
            "{err}"
        );
        assert!(err.contains("at byte offset 24"), "{err}");
    }
}
