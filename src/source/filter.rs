//! BPF filters in tcpdump's language, compiled by libpcap.
//!
//! Live captures hand the expression to the kernel. Files are filtered here,
//! frame by frame, with libpcap's own compiler and interpreter
//! (`pcap_offline_filter`), so the packet set equals tcpdump's. A pcapng file
//! may mix link types; the expression is compiled once per link type.

use std::collections::HashMap;
use std::ffi::c_void;
use std::os::raw::c_int;

use pcap::{BpfProgram, Capture, Linktype};

use crate::error::Error;
use crate::event::{Frame, LinkType};

#[repr(C)]
struct PcapPkthdr {
    ts: libc::timeval,
    caplen: u32,
    len: u32,
}

#[link(name = "pcap")]
extern "C" {
    // `BpfProgram` is `#[repr(transparent)]` over libpcap's `struct bpf_program`.
    fn pcap_offline_filter(prog: *const c_void, h: *const PcapPkthdr, pkt: *const u8) -> c_int;
}

/// Compiles `expr` for frames of `linktype` read from a capture file; the
/// error is libpcap's message.
///
/// The program is compiled on a savefile handle (a bare pcap header fed
/// through a pipe), not a "dead" one, because libpcap generates different
/// code for files: on BSD loopback, for example, `ip6` must match all three
/// BSD values of AF_INET6 (24, 28, 30), not just the running host's.
pub fn compile(expr: &str, linktype: LinkType) -> Result<BpfProgram, String> {
    let mut header = Vec::with_capacity(24);
    header.extend_from_slice(&0xa1b2_c3d4u32.to_ne_bytes());
    header.extend_from_slice(&2u16.to_ne_bytes());
    header.extend_from_slice(&4u16.to_ne_bytes());
    header.extend_from_slice(&[0; 8]);
    header.extend_from_slice(&262_144u32.to_ne_bytes());
    header.extend_from_slice(&u32::from(linktype.0).to_ne_bytes());
    let mut fds = [0 as c_int; 2];
    // SAFETY: pipe(2) fills two descriptors we then own.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return compile_dead(expr, linktype);
    }
    let [rd, wr] = fds;
    // SAFETY: 24 bytes fit in any pipe buffer, so the write cannot block;
    // both descriptors are ours.
    let written = unsafe {
        let n = libc::write(wr, header.as_ptr().cast(), header.len());
        libc::close(wr);
        n
    };
    if written != header.len() as isize {
        // SAFETY: closing our own descriptor.
        unsafe { libc::close(rd) };
        return compile_dead(expr, linktype);
    }
    // SAFETY: the capture takes ownership of `rd`.
    let file = match unsafe { Capture::from_raw_fd(rd) } {
        Ok(c) => c,
        Err(_) => return compile_dead(expr, linktype),
    };
    file.compile(expr, true).map_err(pcap_message)
}

/// Fallback when no pipe can be made: libpcap's generic ("dead") handle.
fn compile_dead(expr: &str, linktype: LinkType) -> Result<BpfProgram, String> {
    let dead = Capture::dead(Linktype(linktype.to_dlt())).map_err(|e| e.to_string())?;
    dead.compile(expr, true).map_err(pcap_message)
}

fn pcap_message(e: pcap::Error) -> String {
    match e {
        pcap::Error::PcapError(msg) => msg,
        other => other.to_string(),
    }
}

/// Runs a compiled program over one packet, with its real wire length (so
/// `greater`/`less` and `len` behave as in tcpdump).
pub fn matches(prog: &BpfProgram, data: &[u8], wire_len: u32) -> bool {
    let hdr = PcapPkthdr {
        ts: libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        caplen: data.len() as u32,
        len: wire_len.max(data.len() as u32),
    };
    // SAFETY: `prog` points at a valid compiled program for as long as the
    // borrow lives, `hdr.caplen` equals the length of `data`, and libpcap's
    // interpreter never reads past caplen.
    unsafe {
        pcap_offline_filter(
            prog as *const BpfProgram as *const c_void,
            &hdr,
            data.as_ptr(),
        ) > 0
    }
}

/// A filter applied to file frames, compiled lazily per link type.
pub struct FrameFilter {
    expr: String,
    programs: HashMap<LinkType, Option<BpfProgram>>,
    /// Link types the expression cannot apply to, with libpcap's reason;
    /// taken (and reported) once each.
    rejected: Vec<(LinkType, String)>,
}

impl FrameFilter {
    /// Compiles `expr` for the first link type of the input, so a bad
    /// expression fails before anything is read.
    pub fn new(expr: &str, first: LinkType) -> Result<Self, Error> {
        let prog = compile(expr, first).map_err(|msg| Error::Filter {
            expr: expr.to_string(),
            msg,
        })?;
        let mut programs = HashMap::new();
        programs.insert(first, Some(prog));
        Ok(Self {
            expr: expr.to_string(),
            programs,
            rejected: Vec::new(),
        })
    }

    pub fn expr(&self) -> &str {
        &self.expr
    }

    pub fn matches(&mut self, frame: &Frame<'_>) -> bool {
        let expr = &self.expr;
        let rejected = &mut self.rejected;
        let prog = self.programs.entry(frame.linktype).or_insert_with(|| {
            compile(expr, frame.linktype)
                .map_err(|msg| rejected.push((frame.linktype, msg)))
                .ok()
        });
        match prog {
            Some(p) => matches(p, frame.data, frame.len),
            None => false,
        }
    }

    /// Link types whose frames the expression could not be compiled for
    /// since the last call (each reported once).
    pub fn take_rejected(&mut self) -> Vec<(LinkType, String)> {
        std::mem::take(&mut self.rejected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_expression_reports_libpcap_message() {
        let err = FrameFilter::new("tcp port eighty", LinkType::ETHERNET)
            .err()
            .expect("must fail");
        let msg = err.to_string();
        assert!(msg.contains("tcp port eighty"), "{msg}");
        assert!(
            msg.contains("unknown port") || msg.contains("syntax"),
            "{msg}"
        );
    }

    #[test]
    fn ethernet_tcp_frame_matches_tcp() {
        // Ethernet + IPv4 + TCP SYN from 10.0.0.1:1234 to 10.0.0.2:80.
        let mut pkt = Vec::new();
        etherparse::PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(1234, 80, 1, 1000)
            .syn()
            .write(&mut pkt, &[])
            .unwrap();
        let tcp = compile("tcp port 80", LinkType::ETHERNET).unwrap();
        let udp = compile("udp", LinkType::ETHERNET).unwrap();
        let big = compile("greater 1000", LinkType::ETHERNET).unwrap();
        assert!(matches(&tcp, &pkt, pkt.len() as u32));
        assert!(!matches(&udp, &pkt, pkt.len() as u32));
        assert!(!matches(&big, &pkt, pkt.len() as u32));
        // The wire length, not the captured length, decides `greater`.
        assert!(matches(&big, &pkt, 1500));
    }
}
