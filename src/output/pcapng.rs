//! pcapng output (`-w`), written with pcap-file: a section header naming
//! netpeek, one interface block per input interface (name, link type,
//! snaplen, nanosecond resolution, the filter), one enhanced packet block
//! per frame with its exact timestamp and lengths (and a comment), and, for
//! live captures, interface statistics at the end.

use crate::describe::annotate::Annotation;
use std::borrow::Cow;
use std::io::{self, Write};
use std::time::Duration;

use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::interface_statistics::{
    InterfaceStatisticsBlock, InterfaceStatisticsOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::{DataLink, Endianness, PcapError};

use super::Sink;
use crate::event::InterfaceInfo;
use crate::event::{PacketEvent, RunStats};

pub struct PcapngSink<W: Write> {
    writer: PcapNgWriter<W>,
    /// Input interfaces written so far (output id = input index).
    written: usize,
    /// The filter the capture applied, recorded in each interface block.
    filter: Option<String>,
    live: bool,
    first_ts: Option<i64>,
    last_ts: i64,
    packets: u64,
}

fn io_err(e: PcapError) -> io::Error {
    match e {
        PcapError::IoError(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

impl<W: Write> PcapngSink<W> {
    pub fn new(out: W, filter: Option<String>, live: bool) -> io::Result<Self> {
        let shb = SectionHeaderBlock {
            endianness: if cfg!(target_endian = "big") {
                Endianness::Big
            } else {
                Endianness::Little
            },
            major_version: 1,
            minor_version: 0,
            section_length: -1,
            options: vec![
                SectionHeaderOption::UserApplication(Cow::Owned(format!(
                    "netpeek {}",
                    env!("CARGO_PKG_VERSION")
                ))),
                SectionHeaderOption::OS(Cow::Owned(os_description())),
            ],
        };
        let writer = PcapNgWriter::with_section_header(out, shb).map_err(io_err)?;
        Ok(Self {
            writer,
            written: 0,
            filter,
            live,
            first_ts: None,
            last_ts: 0,
            packets: 0,
        })
    }

    pub fn get_mut(&mut self) -> &mut W {
        self.writer.get_mut()
    }

    /// The underlying writer (call `Sink::finish` first).
    pub fn into_inner(self) -> io::Result<W> {
        Ok(self.writer.into_inner())
    }

    fn write_interface(&mut self, info: &InterfaceInfo) -> io::Result<()> {
        let mut options = Vec::new();
        if let Some(name) = &info.name {
            options.push(InterfaceDescriptionOption::IfName(Cow::Owned(name.clone())));
        }
        if let Some(desc) = &info.description {
            options.push(InterfaceDescriptionOption::IfDescription(Cow::Owned(
                desc.clone(),
            )));
        }
        options.push(InterfaceDescriptionOption::IfTsResol(9));
        let filter = self.filter.clone().or_else(|| info.filter.clone());
        if let Some(f) = filter {
            let mut v = Vec::with_capacity(f.len() + 1);
            v.push(0); // libpcap filter string
            v.extend_from_slice(f.as_bytes());
            options.push(InterfaceDescriptionOption::IfFilter(Cow::Owned(v)));
        }
        if let Some(os) = &info.os {
            options.push(InterfaceDescriptionOption::IfOs(Cow::Owned(os.clone())));
        }
        let idb = InterfaceDescriptionBlock {
            linktype: DataLink::from(u32::from(info.linktype.0)),
            snaplen: info.snaplen,
            options,
        };
        self.writer.write_pcapng_block(idb).map_err(io_err)?;
        Ok(())
    }

    /// Writes one frame, with an optional comment (netpeek's annotation).
    pub fn write_frame(
        &mut self,
        p: &PacketEvent<'_, '_>,
        comment: Option<&str>,
    ) -> io::Result<()> {
        let f = p.frame;
        let mut options = Vec::new();
        if let Some(c) = f.comment {
            options.push(EnhancedPacketOption::Comment(Cow::Borrowed(c)));
        }
        if let Some(c) = comment {
            options.push(EnhancedPacketOption::Comment(Cow::Owned(c.to_string())));
        }
        let epb = EnhancedPacketBlock {
            interface_id: f.interface,
            timestamp: Duration::from_nanos(f.ts_ns.max(0) as u64),
            original_len: f.len.max(f.caplen),
            data: Cow::Borrowed(f.data),
            options,
        };
        self.writer.write_pcapng_block(epb).map_err(io_err)?;
        self.first_ts.get_or_insert(f.ts_ns);
        self.last_ts = f.ts_ns;
        self.packets += 1;
        Ok(())
    }
}

fn os_description() -> String {
    // SAFETY: uname fills a zeroed struct of C strings.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return "unknown".into();
        }
        let sys = std::ffi::CStr::from_ptr(u.sysname.as_ptr()).to_string_lossy();
        let rel = std::ffi::CStr::from_ptr(u.release.as_ptr()).to_string_lossy();
        format!("{sys} {rel}")
    }
}

impl<W: Write> Sink for PcapngSink<W> {
    fn wants_http_fields(&self) -> bool {
        false
    }

    fn interfaces(&mut self, all: &[InterfaceInfo]) -> io::Result<()> {
        while self.written < all.len() {
            let info = all[self.written].clone();
            self.write_interface(&info)?;
            self.written += 1;
        }
        Ok(())
    }

    fn packet(&mut self, p: &PacketEvent<'_, '_>, annotations: &[Annotation]) -> io::Result<()> {
        // netpeek's reading of the packet (the timeline's annotation text,
        // without colour; HTTP notes are already free of secrets) becomes
        // the frame's comment.
        let comment =
            (!annotations.is_empty()).then(|| crate::describe::annotate::plain_text(annotations));
        self.write_frame(p, comment.as_deref())
    }

    fn finish(&mut self, stats: &RunStats) -> io::Result<()> {
        if self.live && self.written > 0 {
            if let Some(c) = stats.capture {
                // pcap-file writes these 64-bit timestamps as one integer in
                // the section's byte order; pcapng wants the high 32 bits
                // first, so a little-endian section needs the halves swapped.
                let little = cfg!(target_endian = "little");
                let fix = |t: u64| if little { t.rotate_left(32) } else { t };
                let to_ns = |t: i64| fix(t.max(0) as u64);
                let mut options = vec![
                    InterfaceStatisticsOption::IsbIfRecv(c.received),
                    InterfaceStatisticsOption::IsbIfDrop(c.dropped + c.if_dropped),
                    InterfaceStatisticsOption::IsbOsDrop(c.dropped),
                    InterfaceStatisticsOption::IsbUsrDeliv(self.packets),
                ];
                if let Some(first) = self.first_ts {
                    options.push(InterfaceStatisticsOption::IsbStartTime(to_ns(first)));
                    options.push(InterfaceStatisticsOption::IsbEndTime(to_ns(self.last_ts)));
                }
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(0);
                let isb = InterfaceStatisticsBlock {
                    interface_id: 0,
                    timestamp: fix(now),
                    options,
                };
                self.writer.write_pcapng_block(isb).map_err(io_err)?;
            }
        }
        self.writer.get_mut().flush()
    }
}

/// Cuts a pcapng file back to its last complete block, so that a file whose
/// writing failed midway (a full disk) still opens without complaint.
/// Returns the new length.
pub fn truncate_to_whole_blocks(path: &std::path::Path) -> io::Result<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)?;
    let len = f.metadata()?.len();
    let mut good = 0u64;
    let mut head = [0u8; 8];
    loop {
        if good + 12 > len {
            break;
        }
        f.seek(SeekFrom::Start(good))?;
        if f.read_exact(&mut head).is_err() {
            break;
        }
        let total = u64::from(u32::from_ne_bytes([head[4], head[5], head[6], head[7]]));
        if total < 12 || total % 4 != 0 || good + total > len {
            break;
        }
        good += total;
    }
    f.set_len(good)?;
    Ok(good)
}
