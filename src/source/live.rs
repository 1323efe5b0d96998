//! Live capture through libpcap.
//!
//! The device is opened on the calling thread, so every setup error (no such
//! interface, no permission, bad filter) is reported before anything runs.
//! Capture then moves to a thread of its own that drains the kernel ring in
//! batches (`pcap_dispatch`) and hands them over a bounded channel, so slow
//! output never stalls the ring. On stop, the thread first reads everything
//! the kernel already holds, then reports the final counters.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pcap::{Active, Capture, Device, Precision};

use super::{Next, PacketSource, SourceNotice};
use crate::error::Error;
use crate::event::{CaptureStats, Frame, InterfaceInfo, LinkType};

/// What the user asked of the capture device.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Interface name; `None` picks the first suitable one, as tcpdump does.
    pub interface: Option<String>,
    pub snaplen: u32,
    /// Kernel buffer in KiB (`-B`).
    pub buffer_kib: u32,
    pub promiscuous: bool,
    pub filter: Option<String>,
    /// Deliver each packet at once instead of waiting for a full block.
    pub immediate: bool,
}

/// The default kernel ring: large enough that a burst on loopback at a few
/// hundred thousand packets per second does not overflow it while the
/// dissector catches up (tcpdump's 2 MiB default does).
pub const DEFAULT_BUFFER_KIB: u32 = 32 * 1024;

const BATCH_BYTES: usize = 1 << 20;
const RECORD_HEADER: usize = 16;
const POLL: Duration = Duration::from_millis(100);
/// Longest a captured packet waits in the kernel before delivery.
const DELIVERY: Duration = Duration::from_millis(10);
const STATS_EVERY: Duration = Duration::from_millis(250);

enum Msg {
    Batch(Vec<u8>),
    Dropped { new: u64, total: u64 },
    Failed(String),
    Done(CaptureStats),
}

/// A running live capture.
pub struct LiveSource {
    rx: Receiver<Msg>,
    recycle: SyncSender<Vec<u8>>,
    batch: Vec<u8>,
    pos: usize,
    interfaces: Vec<InterfaceInfo>,
    stop: Arc<AtomicBool>,
    breaker: pcap::BreakLoop,
    thread: Option<JoinHandle<()>>,
    frames: u64,
    final_stats: Option<CaptureStats>,
    /// Set by the caller (signal handler flag) to ask for a stop.
    interrupt: Option<Arc<AtomicBool>>,
    stopping: bool,
}

/// Lists capture devices the way `tcpdump -D` does.
pub fn list_interfaces() -> Result<Vec<String>, Error> {
    let devices =
        Device::list().map_err(|e| Error::Interface(format!("cannot list interfaces: {e}")))?;
    Ok(devices
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let mut flags = Vec::new();
            if d.flags.is_up() {
                flags.push("Up");
            }
            if d.flags.is_running() {
                flags.push("Running");
            }
            if d.flags.is_wireless() {
                flags.push("Wireless");
            }
            if d.flags.is_loopback() {
                flags.push("Loopback");
            }
            let desc = d
                .desc
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            format!("{}.{}{} [{}]", i + 1, d.name, desc, flags.join(", "))
        })
        .collect())
}

/// The interface tcpdump would pick without `-i`: the first one libpcap
/// lists that is up and not a loopback (libpcap sorts the best first).
pub fn default_interface() -> Result<String, Error> {
    let devices =
        Device::list().map_err(|e| Error::Interface(format!("cannot list interfaces: {e}")))?;
    devices
        .iter()
        .find(|d| d.flags.is_up() && !d.flags.is_loopback() && d.name != "any")
        .or_else(|| devices.iter().find(|d| d.flags.is_up() && d.name != "any"))
        .map(|d| d.name.clone())
        .ok_or_else(|| {
            Error::Interface(
                "no suitable capture interface found; name one with -i (netpeek -D lists them)"
                    .into(),
            )
        })
}

fn open_error(iface: &str, msg: String) -> Error {
    let lower = msg.to_lowercase();
    if lower.contains("permission") || lower.contains("not permitted") {
        Error::Permission(format!(
            "{iface}: {msg}; capturing needs root or the capabilities CAP_NET_RAW and CAP_NET_ADMIN \
             (sudo setcap cap_net_raw,cap_net_admin=eip $(command -v netpeek))"
        ))
    } else if lower.contains("no such device") || lower.contains("doesn't exist") {
        Error::Interface(format!(
            "{iface}: no such capture interface ({msg}); netpeek -D lists the available ones"
        ))
    } else {
        Error::Capture {
            iface: iface.to_string(),
            msg,
        }
    }
}

fn pcap_msg(e: pcap::Error) -> String {
    match e {
        pcap::Error::PcapError(m) => m,
        other => other.to_string(),
    }
}

impl LiveSource {
    /// Opens the device and starts the capture thread.
    pub fn open(opts: &LiveOptions) -> Result<Self, Error> {
        let iface = match &opts.interface {
            Some(i) => i.clone(),
            None => default_interface()?,
        };
        let snaplen = i32::try_from(opts.snaplen).unwrap_or(i32::MAX);
        let buffer = i32::try_from(u64::from(opts.buffer_kib) * 1024).unwrap_or(i32::MAX);
        let block_timeout = if opts.immediate { DELIVERY } else { POLL };
        let inactive = Capture::from_device(iface.as_str())
            .map_err(|e| open_error(&iface, pcap_msg(e)))?
            .promisc(opts.promiscuous)
            .snaplen(snaplen)
            .buffer_size(buffer)
            // libpcap's immediate mode falls back to TPACKET_V2, whose ring
            // has one snaplen-sized slot per packet (on lo, 64 KiB each: a
            // 32 MiB ring holds 512 packets and overflows under load).
            // TPACKET_V3 packs packets into blocks; a 10 ms block timeout
            // still delivers each packet within 10 ms.
            .immediate_mode(false)
            .precision(Precision::Nano)
            .timeout(block_timeout.as_millis() as i32);
        let mut cap = inactive
            .open()
            .map_err(|e| open_error(&iface, pcap_msg(e)))?;
        // On "any", prefer cooked v2: it names the interface of each packet.
        if iface == "any" {
            if let Ok(dlts) = cap.list_datalinks() {
                if dlts.iter().any(|d| d.0 == 276) {
                    let _ = cap.set_datalink(pcap::Linktype(276));
                }
            }
        }
        if let Some(expr) = &opts.filter {
            cap.filter(expr, true).map_err(|e| Error::Filter {
                expr: expr.clone(),
                msg: pcap_msg(e),
            })?;
        }
        let linktype = LinkType::from_dlt(cap.get_datalink().0);
        let interfaces = vec![InterfaceInfo {
            name: Some(iface.clone()),
            description: None,
            linktype,
            snaplen: opts.snaplen,
            filter: opts.filter.clone(),
            os: os_name(),
            section: 0,
            index_in_section: 0,
        }];
        let (tx, rx) = mpsc::sync_channel::<Msg>(64);
        let (recycle, recycled) = mpsc::sync_channel::<Vec<u8>>(64);
        let stop = Arc::new(AtomicBool::new(false));
        let breaker = cap.breakloop_handle();
        let thread_stop = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("netpeek-capture".into())
            .spawn(move || capture_loop(cap, tx, recycled, thread_stop, block_timeout))
            .map_err(|e| Error::Other(format!("cannot start the capture thread: {e}")))?;
        Ok(Self {
            rx,
            recycle,
            batch: Vec::new(),
            pos: 0,
            interfaces,
            stop,
            breaker,
            thread: Some(thread),
            frames: 0,
            final_stats: None,
            interrupt: None,
            stopping: false,
        })
    }

    /// A flag that, once set (by a signal handler), stops the capture
    /// cleanly: the kernel's backlog is drained, then the source ends.
    pub fn set_interrupt(&mut self, flag: Arc<AtomicBool>) {
        self.interrupt = Some(flag);
    }

    fn begin_stop(&mut self) {
        if !self.stopping {
            self.stopping = true;
            self.stop.store(true, Ordering::SeqCst);
            self.breaker.breakloop();
        }
    }

    fn iface_name(&self) -> String {
        self.interfaces
            .first()
            .and_then(|i| i.name.clone())
            .unwrap_or_default()
    }
}

fn os_name() -> Option<String> {
    // SAFETY: uname fills a zeroed struct of C strings.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return None;
        }
        let sys = std::ffi::CStr::from_ptr(u.sysname.as_ptr()).to_string_lossy();
        let rel = std::ffi::CStr::from_ptr(u.release.as_ptr()).to_string_lossy();
        Some(format!("{sys} {rel}"))
    }
}

fn stats_of(cap: &mut Capture<Active>) -> Option<CaptureStats> {
    cap.stats().ok().map(|s| CaptureStats {
        received: u64::from(s.received),
        dropped: u64::from(s.dropped),
        if_dropped: u64::from(s.if_dropped),
    })
}

/// A packet's timestamp in nanoseconds (the handle uses nanosecond
/// precision).
fn packet_ns(p: &pcap::Packet<'_>) -> i64 {
    #[allow(clippy::useless_conversion)] // time_t is not i64 everywhere
    let ns = i64::from(p.header.ts.tv_sec) * 1_000_000_000 + i64::from(p.header.ts.tv_usec);
    ns
}

fn capture_loop(
    mut cap: Capture<Active>,
    tx: SyncSender<Msg>,
    recycled: Receiver<Vec<u8>>,
    stop: Arc<AtomicBool>,
    block_timeout: Duration,
) {
    let fresh = |recycled: &Receiver<Vec<u8>>| {
        let mut b = recycled
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BATCH_BYTES + 65536));
        b.clear();
        b
    };
    let mut batch = fresh(&recycled);
    let mut last_stats = Instant::now();
    let mut dropped_seen = 0u64;
    let append = |batch: &mut Vec<u8>, p: pcap::Packet<'_>| {
        let ts = packet_ns(&p);
        batch.extend_from_slice(&ts.to_le_bytes());
        batch.extend_from_slice(&(p.data.len() as u32).to_le_bytes());
        batch.extend_from_slice(&p.header.len.to_le_bytes());
        batch.extend_from_slice(p.data);
    };
    let mut failure = None;
    while !stop.load(Ordering::SeqCst) {
        let result = cap.dispatch(None, |p| append(&mut batch, p));
        if !batch.is_empty() {
            let full = std::mem::replace(&mut batch, fresh(&recycled));
            if tx.send(Msg::Batch(full)).is_err() {
                return;
            }
        }
        match result {
            Ok(_) => {}
            Err(_) if stop.load(Ordering::SeqCst) => break,
            Err(pcap::Error::TimeoutExpired) => {}
            Err(e) => {
                failure = Some(pcap_msg(e));
                break;
            }
        }
        if last_stats.elapsed() >= STATS_EVERY {
            last_stats = Instant::now();
            if let Some(s) = stats_of(&mut cap) {
                if s.dropped > dropped_seen {
                    let new = s.dropped - dropped_seen;
                    dropped_seen = s.dropped;
                    let _ = tx.send(Msg::Dropped {
                        new,
                        total: s.dropped,
                    });
                }
            }
        }
    }
    if let Some(msg) = failure {
        let _ = tx.send(Msg::Failed(msg));
        return;
    }
    // Drain what the kernel already captured, without waiting for more.
    // TPACKET_V3 hands packets over in blocks, which the kernel retires
    // when they fill or when the block timeout passes (the retire timer may
    // need two periods, each rounded up to whole jiffies): the packets of
    // the block being filled when the stop came show only after that. So
    // keep reading, without blocking, for four block timeouts and 50 ms
    // more, and then until the ring is empty, or (under a load that never
    // lets it empty) until packets stamped well after the stop show up. A
    // read that fails (the "break" that breakloop() can leave behind when
    // it came between two reads) is retried.
    let stop_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    let horizon =
        stop_ns.saturating_add(i64::try_from((2 * block_timeout).as_nanos()).unwrap_or(i64::MAX));
    let settle = Instant::now() + 4 * block_timeout + Duration::from_millis(50);
    if let Ok(mut cap) = cap.setnonblock() {
        loop {
            let mut newest = i64::MIN;
            let n = cap
                .dispatch(None, |p| {
                    newest = newest.max(packet_ns(&p));
                    append(&mut batch, p)
                })
                .unwrap_or(0);
            if !batch.is_empty() {
                let full = std::mem::replace(&mut batch, fresh(&recycled));
                if tx.send(Msg::Batch(full)).is_err() {
                    return;
                }
            }
            if newest > horizon {
                break;
            }
            if n == 0 {
                if Instant::now() >= settle {
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        let stats = stats_of(&mut cap).unwrap_or_default();
        if stats.dropped > dropped_seen {
            // Drops since the last poll: report them in-band too, so the
            // notices add up to the final count.
            let _ = tx.send(Msg::Dropped {
                new: stats.dropped - dropped_seen,
                total: stats.dropped,
            });
        }
        let _ = tx.send(Msg::Done(stats));
    } else {
        let _ = tx.send(Msg::Done(CaptureStats::default()));
    }
}

impl PacketSource for LiveSource {
    fn next(&mut self) -> Result<Next<'_>, Error> {
        // Make sure a whole record is waiting in the current batch, fetching
        // batches (and passing on notices) as needed.
        loop {
            if self.batch.len().saturating_sub(self.pos) >= RECORD_HEADER {
                break;
            }
            if !self.batch.is_empty() {
                let old = std::mem::take(&mut self.batch);
                let _ = self.recycle.try_send(old);
                self.pos = 0;
            }
            if self.final_stats.is_some() {
                return Ok(Next::End);
            }
            if !self.stopping
                && self
                    .interrupt
                    .as_ref()
                    .is_some_and(|f| f.load(Ordering::SeqCst))
            {
                self.begin_stop();
            }
            match self.rx.recv_timeout(POLL) {
                Ok(Msg::Batch(b)) => {
                    self.batch = b;
                    self.pos = 0;
                }
                Ok(Msg::Dropped { new, total }) => {
                    return Ok(Next::Notice(SourceNotice::KernelDropped { new, total }));
                }
                Ok(Msg::Failed(msg)) => {
                    self.final_stats = Some(CaptureStats::default());
                    return Err(Error::Capture {
                        iface: self.iface_name(),
                        msg,
                    });
                }
                Ok(Msg::Done(stats)) => {
                    self.final_stats = Some(stats);
                }
                Err(RecvTimeoutError::Timeout) => {
                    if !self.stopping {
                        return Ok(Next::Idle);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.final_stats.get_or_insert_with(CaptureStats::default);
                }
            }
        }
        let rest = &self.batch[self.pos..];
        let ts = i64::from_le_bytes(rest[0..8].try_into().unwrap_or_default());
        let caplen = u32::from_le_bytes(rest[8..12].try_into().unwrap_or_default());
        let len = u32::from_le_bytes(rest[12..16].try_into().unwrap_or_default());
        let end = (RECORD_HEADER + caplen as usize).min(rest.len());
        let data = &rest[RECORD_HEADER..end];
        self.pos += end;
        self.frames += 1;
        Ok(Next::Frame(
            Frame {
                number: self.frames,
                ts_ns: ts,
                interface: 0,
                linktype: self.interfaces[0].linktype,
                caplen: data.len() as u32,
                len,
                data,
                comment: None,
                record_issue: None,
            },
            &self.interfaces,
        ))
    }

    fn interfaces(&self) -> &[InterfaceInfo] {
        &self.interfaces
    }

    fn stats(&mut self) -> Option<CaptureStats> {
        if self.final_stats.is_none() {
            // Stopped early (-c): stop the thread and wait for its counters,
            // discarding frames it still delivers.
            self.begin_stop();
            loop {
                match self.rx.recv_timeout(Duration::from_secs(5)) {
                    Ok(Msg::Done(s)) => {
                        self.final_stats = Some(s);
                        break;
                    }
                    Ok(Msg::Batch(_)) | Ok(Msg::Dropped { .. }) => {}
                    Ok(Msg::Failed(_)) | Err(_) => break,
                }
            }
        }
        self.final_stats
    }

    fn request_stop(&mut self) {
        self.begin_stop();
    }

    /// While the current batch from the capture thread lasts.
    fn ready(&self) -> bool {
        self.pos < self.batch.len()
    }
}

impl Drop for LiveSource {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.breaker.breakloop();
        // Unblock a sender waiting on a full channel, then join.
        while self.rx.try_recv().is_ok() {}
        if let Some(t) = self.thread.take() {
            drop(std::mem::replace(&mut self.rx, mpsc::sync_channel(1).1));
            let _ = t.join();
        }
    }
}
