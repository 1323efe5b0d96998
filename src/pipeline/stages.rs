//! The run's three stages, each on its own thread, joined by bounded
//! channels of batches:
//!
//! 1. **read**: source → filter → decode → TCP tracker. The tracker's
//!    stream callbacks are not run here but recorded ([`Recorder`]) in the
//!    batch. When an output shows packets, each packet's decoded view
//!    ([`PacketView`]) is read here too, in the same pass as the tracker's
//!    facts, and travels with the packet.
//! 2. **dissect**: replays the recorded callbacks (and UDP datagrams, when
//!    a datagram dissector is registered) into the dissector registry (and
//!    the `--follow` tap), and puts what they produced (timeline notes,
//!    records such as finished exchanges, followed chunks) beside the
//!    packet that produced them.
//! 3. **output** (the calling thread): annotates each packet from its
//!    view and hands everything to the sinks.
//!
//! Every stage keeps the order it was given, so the outputs see exactly the
//! sequence one loop over the frames would make: a packet, its followed
//! chunks, the exchanges it finished, the tracker's records and notices.
//!
//! Bytes travel by reference when they can: a file read in place from a
//! memory map stays there (the items hold ranges of the map, and the
//! source gives pages back only behind what the output stage is done
//! with); other bytes (live frames, reassembled stretches) are copied into
//! the batch. A batch goes back to the reader once written, so its buffers
//! keep their room.

use std::net::IpAddr;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender};

use crate::decode::{decode, decode_into_view};
use crate::describe::annotate::{annotate, Annotations};
use crate::dissect::follow::FollowTap;
use crate::dissect::{DatagramCtx, Registry};
use crate::error::Error;
use crate::event::FollowChunk;
use crate::event::{Direction, Endpoint, TcpInfo};
use crate::event::{Frame, InterfaceInfo, LinkType, RecordIssue};
use crate::event::{HttpNote, Record};
use crate::event::{Notice, PacketEvent, PacketView, RunStats};
use crate::output::progress::Progress;
use crate::output::rotate::FileClock;
use crate::output::sink::deliver;
use crate::source::filter::FrameFilter;
use crate::source::{Next, PacketSource, SharedMap};
use crate::track::{StreamConsumer, StreamCtx, TrackEvent, Tracker};
use etherparse::{LaxNetSlice, TransportSlice};

use super::{OutErr, Outputs};
use dissect::Returns;

mod dissect;

/// A batch is passed on once it holds this many items or refers to this
/// many bytes (or the source has nothing more ready).
const BATCH_ITEMS: usize = 1024;
const BATCH_BYTES: usize = 512 << 10;
/// Batches waiting between two stages.
const CHANNEL_DEPTH: usize = 1;
/// Batches in the whole pipeline: the reader waits for a written one to
/// come back rather than make more (memory stays bounded however far
/// ahead it could read). More than the stages and channels hold at once
/// plus those being emptied ([`EMPTYING`]), so one always comes back.
const BATCHES: usize = 8;
/// A returned batch whose buffer grew past this (one huge reassembled
/// stretch) gives the room back; so does one whose item list grew past
/// [`KEEP_ITEMS`] (a packet that evicted thousands of connections).
const KEEP_BYTES: usize = 4 << 20;
const KEEP_ITEMS: usize = 4 * BATCH_ITEMS;

/// Frames, recorded stream callbacks and what came of them, in order.
#[derive(Default)]
pub(super) struct Batch {
    /// Bytes the items refer to that are not in the mapped input: frame
    /// copies and reassembled stream stretches, back to back.
    bytes: Vec<u8>,
    items: Vec<Item>,
    /// The packets, in the order of their [`Item::Packet`] markers (none
    /// when no output shows packets).
    packets: Vec<PacketItem>,
    /// Each packet's decoded view, by its index in `packets`: apart, so
    /// it is filled where it stays rather than moved in with the item, and
    /// kept when the batch is emptied (every view is filled whole, so the
    /// room is reused as it is; only the first `packets.len()` count).
    views: Vec<PacketView>,
    /// HTTP notes of the batch's packets (each packet holds its range).
    notes: Vec<HttpNote>,
    /// What the dissect stage made of the items, each to be passed on
    /// right after the item it names.
    products: Vec<(usize, Product)>,
    /// Dissectors' records, in the order of their [`Product::Record`]
    /// markers.
    records: Vec<Record>,
    /// The end of the last range of the map the batch refers to.
    map_end: usize,
    /// Bytes of the map the batch refers to (for its size).
    mapped: usize,
}

impl Batch {
    fn clear(&mut self) {
        self.bytes.clear();
        if self.bytes.capacity() > KEEP_BYTES {
            self.bytes.shrink_to(BATCH_BYTES);
        }
        self.items.clear();
        if self.items.capacity() > KEEP_ITEMS {
            self.items.shrink_to(BATCH_ITEMS);
        }
        self.packets.clear();
        self.notes.clear();
        self.products.clear();
        self.records.clear();
        self.map_end = 0;
        self.mapped = 0;
    }

    fn full(&self) -> bool {
        self.items.len() >= BATCH_ITEMS || self.bytes.len() + self.mapped >= BATCH_BYTES
    }

    fn copy(&mut self, bytes: &[u8]) -> Span {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        Span {
            range: start..self.bytes.len(),
            mapped: false,
        }
    }

    /// `bytes` for the next stages: where they lie in the map, if they do.
    fn in_map(&mut self, map: Option<&SharedMap>, bytes: &[u8]) -> Option<Span> {
        let range = map?.range_of(bytes)?;
        self.map_end = self.map_end.max(range.end);
        self.mapped += range.len();
        Some(Span {
            range,
            mapped: true,
        })
    }

    /// The view of the next packet of [`Batch::packets`], to be filled
    /// (what it holds is a view of an earlier batch's, or empty).
    fn next_view(&mut self) -> &mut PacketView {
        let at = self.packets.len();
        if at >= self.views.len() {
            if self.views.capacity() == 0 {
                // Room for a full batch at once (growing would copy it).
                self.views.reserve_exact(BATCH_ITEMS);
            }
            self.views.push(PacketView::undecoded(None));
        }
        let last = self.views.len() - 1;
        &mut self.views[at.min(last)]
    }

    /// A packet's record for the output stage (its view is the next of
    /// [`Batch::views`]), `data` where its bytes are.
    fn record(
        &mut self,
        map: Option<&SharedMap>,
        frame: &Frame<'_>,
        data: Span,
        tcp: Option<TcpInfo>,
    ) {
        let comment = frame.comment.map(|c| self.place(map, c.as_bytes()));
        self.packets.push(PacketItem {
            number: frame.number,
            ts_ns: frame.ts_ns,
            interface: frame.interface,
            linktype: frame.linktype,
            caplen: frame.caplen,
            len: frame.len,
            data,
            comment,
            record_issue: frame.record_issue,
            tcp,
            notes: 0..0,
        });
    }

    /// A UDP datagram of `frame` for the dissect stage (its payload a range
    /// of the frame's span `data` when there is one).
    fn datagram(&mut self, frame: &Frame<'_>, data: Option<&Span>) {
        if let Some((ctx, payload)) = udp_datagram(frame) {
            let span = in_frame(self, data.map(|d| (frame.data, d)), payload);
            self.items.push(Item::Datagram(ctx, span));
        }
    }

    /// `bytes` for the next stages: in the map, or else copied.
    fn place(&mut self, map: Option<&SharedMap>, bytes: &[u8]) -> Span {
        match self.in_map(map, bytes) {
            Some(span) => span,
            None => self.copy(bytes),
        }
    }
}

/// Bytes an item refers to: a range of the batch's own bytes, or of the
/// mapped input file.
#[derive(Clone, Debug, Default)]
struct Span {
    range: Range<usize>,
    mapped: bool,
}

impl Span {
    fn get<'a>(&self, copied: &'a [u8], map: Option<&'a SharedMap>) -> &'a [u8] {
        let all: &[u8] = match (self.mapped, map) {
            (true, Some(m)) => &m.map,
            _ => copied,
        };
        all.get(self.range.clone()).unwrap_or_default()
    }
}

enum Item {
    /// Boxed: rare, and the largest variant otherwise (every item would
    /// take its size).
    Notice(Box<Notice>, Option<i64>),
    Interfaces(Vec<InterfaceInfo>),
    /// A tracker callback, for the dissect stage.
    Stream(StreamCtx, Direction, StreamOp),
    /// A UDP datagram's payload, for the dissect stage (only when a
    /// datagram dissector is registered).
    Datagram(DatagramCtx, Span),
    /// The next packet of [`Batch::packets`].
    Packet,
    /// One connection finished at the end of the input (its callbacks came
    /// before): the dissect stage passes on what that produced.
    FinishStep,
    /// The input ended (after the last connection finished).
    InputEnd,
    Track(TrackEvent, Option<i64>),
}

/// What the dissect stage adds.
enum Product {
    Follow(FollowChunk),
    /// An HTTP note with no packet to stand beside (the input ended).
    Notice(Notice),
    /// The next record of [`Batch::records`].
    Record,
}

enum StreamOp {
    Data(Span),
    Gap(u64),
    End,
    Closed,
}

struct PacketItem {
    number: u64,
    ts_ns: i64,
    interface: u32,
    linktype: LinkType,
    caplen: u32,
    len: u32,
    data: Span,
    comment: Option<Span>,
    record_issue: Option<RecordIssue>,
    tcp: Option<TcpInfo>,
    /// Range of [`Batch::notes`].
    notes: Range<usize>,
}

/// Stands in for the stream consumers on the read stage: each callback is
/// written down, its bytes kept as a range of the current frame when they
/// lie there, copied otherwise (reassembled stretches).
struct Recorder<'b> {
    batch: &'b mut Batch,
    /// The current frame's bytes and where the next stages find them, when
    /// they do.
    frame: Option<(&'b [u8], &'b Span)>,
}

impl Recorder<'_> {
    fn push(&mut self, ctx: &StreamCtx, dir: Direction, op: StreamOp) {
        self.batch.items.push(Item::Stream(*ctx, dir, op));
    }
}

/// `bytes` for the next stages: a range of the current frame's span when
/// they lie in the frame and the frame has one, else a copy.
fn in_frame(batch: &mut Batch, frame: Option<(&[u8], &Span)>, bytes: &[u8]) -> Span {
    let within = frame.and_then(|(data, span)| Some((crate::range_in(data, bytes)?, span)));
    match within {
        Some((r, frame)) => Span {
            range: frame.range.start + r.start..frame.range.start + r.end,
            mapped: frame.mapped,
        },
        None => batch.copy(bytes),
    }
}

/// A UDP datagram's context and payload, read from the frame (a fragment
/// has no transport layer in the decoding: its payload would be
/// incomplete).
fn udp_datagram<'f>(frame: &Frame<'f>) -> Option<(DatagramCtx, &'f [u8])> {
    let decoded = decode(frame);
    let pkt = decoded.pkt?;
    let Some(TransportSlice::Udp(udp)) = pkt.transport else {
        return None;
    };
    let (src, dst): (IpAddr, IpAddr) = match pkt.net? {
        LaxNetSlice::Ipv4(v4) => {
            let h = v4.header();
            (h.source_addr().into(), h.destination_addr().into())
        }
        LaxNetSlice::Ipv6(v6) => {
            let h = v6.header();
            (h.source_addr().into(), h.destination_addr().into())
        }
        LaxNetSlice::Arp(_) => return None,
    };
    let ctx = DatagramCtx {
        frame: frame.number,
        ts_ns: frame.ts_ns,
        src: Endpoint {
            ip: src,
            port: udp.source_port(),
        },
        dst: Endpoint {
            ip: dst,
            port: udp.destination_port(),
        },
    };
    Some((ctx, udp.payload()))
}

impl StreamConsumer for Recorder<'_> {
    fn data(&mut self, ctx: &StreamCtx, dir: Direction, bytes: &[u8]) {
        let span = in_frame(self.batch, self.frame, bytes);
        self.push(ctx, dir, StreamOp::Data(span));
    }

    fn gap(&mut self, ctx: &StreamCtx, dir: Direction, missing: u64) {
        self.push(ctx, dir, StreamOp::Gap(missing));
    }

    fn end(&mut self, ctx: &StreamCtx, dir: Direction) {
        self.push(ctx, dir, StreamOp::End);
    }

    fn closed(&mut self, ctx: &StreamCtx) {
        // The direction is not part of the callback.
        self.push(ctx, Direction::ToServer, StreamOp::Closed);
    }
}

/// The read stage: the source and what runs on each frame as it is read.
pub(super) struct ReadStage<'a> {
    pub source: Box<dyn PacketSource + Send>,
    /// The input file's map, when it is read in place.
    pub map: Option<SharedMap>,
    pub filter: Option<FrameFilter>,
    pub tracker: Tracker,
    pub live: bool,
    pub count: Option<u64>,
    /// `-G` with `-W`: stop at the frame that would begin one file too many.
    pub file_limit: Option<FileClock>,
    /// Keep frames for the output stage (some output shows packets).
    pub want_packets: bool,
    /// Pass UDP datagrams to the dissect stage (a datagram dissector is
    /// registered).
    pub want_datagrams: bool,
    pub progress: Progress,
    pub interrupt: &'a AtomicBool,
    /// Set by the output stage: stop reading (an output failed).
    pub stop: &'a AtomicBool,
    /// Bytes the pcapng output has written, for the progress display.
    pub written: &'a AtomicU64,
}

/// How reading ended.
pub(super) struct ReadEnd {
    pub stats: RunStats,
    pub error: Option<Error>,
}

/// Where the read stage sends batches and gets the written ones back.
struct Ends {
    tx: SyncSender<Batch>,
    recycled: Receiver<Batch>,
    /// Batches made so far.
    made: usize,
}

impl Ends {
    fn fresh(&mut self) -> Batch {
        if let Ok(b) = self.recycled.try_recv() {
            return b;
        }
        if self.made < BATCHES {
            self.made += 1;
            return Batch::default();
        }
        // All are on their way: one comes back once the dissect stage
        // takes the batch just sent (it returns the written ones then).
        self.recycled.recv().unwrap_or_default()
    }

    /// Passes the last batch on (no fresh one is wanted after it).
    fn send_last(self, batch: Batch) {
        if !batch.items.is_empty() {
            let _ = self.tx.send(batch);
        }
    }

    /// Passes a non-empty batch on; false when the next stage is gone.
    fn send(&mut self, batch: &mut Batch) -> bool {
        if batch.items.is_empty() {
            return true;
        }
        if self.tx.send(std::mem::take(batch)).is_err() {
            return false;
        }
        *batch = self.fresh();
        true
    }
}

impl ReadStage<'_> {
    fn run(mut self, mut ends: Ends) -> ReadEnd {
        let mut stats = RunStats::default();
        let mut error = None;
        let mut batch = ends.fresh();
        let mut known_interfaces = 0usize;
        let mut dropped = 0u64;
        let gone = loop {
            if self.stop.load(Ordering::Relaxed)
                || (!self.live && self.interrupt.load(Ordering::Relaxed))
            {
                break false;
            }
            if self.progress.is_active() {
                let written = self.written.load(Ordering::Relaxed);
                self.progress
                    .tick(stats.frames_shown, self.source.progress(), dropped, written);
            }
            let pass_on = batch.full() || (!batch.items.is_empty() && !self.source.ready());
            if pass_on && !ends.send(&mut batch) {
                break true;
            }
            let next = match self.source.next() {
                Ok(n) => n,
                Err(e) => {
                    error = Some(e);
                    break false;
                }
            };
            let (frame, interfaces) = match next {
                Next::End => break false,
                Next::Idle => {
                    if !ends.send(&mut batch) {
                        break true;
                    }
                    continue;
                }
                Next::Notice(n) => {
                    let notice = match n {
                        crate::source::SourceNotice::KernelDropped { new, total } => {
                            log::warn!("kernel dropped {new} packets ({total} so far)");
                            dropped = total;
                            Notice::KernelDropped { new, total }
                        }
                    };
                    batch.items.push(Item::Notice(Box::new(notice), None));
                    continue;
                }
                Next::Frame(f, interfaces) => (f, interfaces),
            };
            stats.frames_read += 1;
            if let Some(filt) = self.filter.as_mut() {
                let keep = filt.matches(&frame);
                for (linktype, msg) in filt.take_rejected() {
                    log::warn!(
                        "filter does not apply to link type {}: {msg}",
                        linktype.name()
                    );
                    let notice = Notice::FilterNotApplicable { linktype, msg };
                    batch
                        .items
                        .push(Item::Notice(Box::new(notice), Some(frame.ts_ns)));
                }
                if !keep {
                    continue;
                }
            }
            if interfaces.len() != known_interfaces {
                known_interfaces = interfaces.len();
                batch.items.push(Item::Interfaces(interfaces.to_vec()));
            }
            stats.frames_shown += 1;
            let last_file_full = self
                .file_limit
                .as_mut()
                .is_some_and(|c| c.stops_at(frame.ts_ns));
            let map = self.map.as_ref();
            // Where the next stages find the frame: in the map, or a copy
            // when an output shows packets (the stream bytes of a frame
            // neither holds are copied by the recorder).
            let data = if self.want_packets {
                Some(batch.place(map, frame.data))
            } else {
                batch.in_map(map, frame.data)
            };
            // The packet's view only for an output that shows packets, read
            // where it stays, in the same pass as the tracker's facts.
            let recorded = data.clone().filter(|_| self.want_packets);
            let meta = match recorded {
                Some(_) => decode_into_view(&frame, batch.next_view()),
                None => decode(&frame).tcp_meta(),
            };
            let tcp = meta.map(|m| {
                let mut rec = Recorder {
                    frame: data.as_ref().map(|d| (frame.data, d)),
                    batch: &mut batch,
                };
                self.tracker
                    .process(frame.number, frame.ts_ns, &m, &mut rec)
            });
            if self.want_datagrams {
                batch.datagram(&frame, data.as_ref());
            }
            batch.items.push(Item::Packet);
            // The packet's record, likewise (the marker alone paces the
            // other stages).
            if let Some(d) = recorded {
                batch.record(map, &frame, d, tcp);
            }
            for ev in self.tracker.drain_events() {
                batch.items.push(Item::Track(ev, Some(frame.ts_ns)));
            }
            if self.count.is_some_and(|c| stats.frames_shown >= c) {
                break false;
            }
            if last_file_full {
                log::info!("the -W file limit is reached; stopping");
                break false;
            }
        };
        if !gone {
            // The end of the input finishes the open connections one at a
            // time, in stream order, each passed on before long (so memory
            // does not grow with the number still open).
            self.tracker.begin_finish();
            loop {
                let more = self.tracker.finish_one(&mut Recorder {
                    batch: &mut batch,
                    frame: None,
                });
                batch.items.push(Item::FinishStep);
                for ev in self.tracker.drain_events() {
                    batch.items.push(Item::Track(ev, None));
                }
                if !more || (batch.full() && !ends.send(&mut batch)) {
                    break;
                }
            }
            batch.items.push(Item::InputEnd);
            ends.send_last(batch);
        }
        self.progress.finish();
        stats.capture = self.source.stats();
        ReadEnd { stats, error }
    }
}

/// The output stage: every sink.
pub(super) struct OutputStage<'a> {
    pub outputs: &'a mut Outputs,
    pub map: Option<SharedMap>,
    pub want_annotations: bool,
    pub explain: bool,
    pub stop: &'a AtomicBool,
    pub written: &'a AtomicU64,
}

impl OutputStage<'_> {
    /// Writes every batch until the input ends or an output fails.
    fn run(mut self, rx: Receiver<Batch>, written: Sender<Batch>) -> Result<(), OutErr> {
        let mut interfaces: Vec<InterfaceInfo> = Vec::new();
        let mut annotations = Annotations::default();
        for batch in rx {
            let mut packets = batch.packets.iter().zip(&batch.views);
            let mut records = batch.records.iter();
            let mut products = batch.products.iter().peekable();
            for (at, item) in batch.items.iter().enumerate() {
                match item {
                    Item::Packet => {
                        // (Packets are recorded only when an output shows them.)
                        if let Some((p, view)) = packets.next() {
                            self.packet(p, view, &batch, &interfaces, &mut annotations)?;
                        }
                    }
                    Item::Notice(n, ts) => self.outputs.each(|s| s.notice(n, *ts))?,
                    Item::Interfaces(all) => {
                        interfaces.clone_from(all);
                        self.outputs.each(|s| s.interfaces(all))?;
                    }
                    Item::Track(TrackEvent::Connection(c), _) => {
                        self.outputs.each(|s| s.connection(c))?
                    }
                    Item::Track(TrackEvent::Notice(n), ts) => {
                        let notice = Notice::Track(n.clone());
                        self.outputs.each(|s| s.notice(&notice, *ts))?;
                    }
                    Item::FinishStep | Item::InputEnd | Item::Stream(..) | Item::Datagram(..) => {}
                }
                while let Some((_, product)) = products.next_if(|(i, _)| *i == at) {
                    match product {
                        Product::Follow(c) => self.outputs.each(|s| s.follow(c))?,
                        Product::Notice(n) => self.outputs.each(|s| s.notice(n, None))?,
                        Product::Record => {
                            if let Some(r) = records.next() {
                                self.outputs.each(|s| deliver(s, r))?;
                            }
                        }
                    }
                }
            }
            if let Some(m) = &self.map {
                m.done.fetch_max(batch.map_end, Ordering::Release);
            }
            if let Some((_, o)) = self.outputs.pcapng.as_ref() {
                self.written.store(o.written_total(), Ordering::Relaxed);
            }
            let _ = written.send(batch);
        }
        Ok(())
    }

    /// One packet: annotated, written.
    fn packet(
        &mut self,
        p: &PacketItem,
        view: &PacketView,
        batch: &Batch,
        interfaces: &[InterfaceInfo],
        annotations: &mut Annotations,
    ) -> Result<(), OutErr> {
        let map = self.map.as_ref();
        let frame = Frame {
            number: p.number,
            ts_ns: p.ts_ns,
            interface: p.interface,
            linktype: p.linktype,
            caplen: p.caplen,
            len: p.len,
            data: p.data.get(&batch.bytes, map),
            comment: p
                .comment
                .as_ref()
                .and_then(|c| std::str::from_utf8(c.get(&batch.bytes, map)).ok()),
            record_issue: p.record_issue,
        };
        let iface = interfaces.get(frame.interface as usize);
        let event = PacketEvent {
            frame: &frame,
            view,
            tcp: p.tcp.as_ref(),
            interface: iface.and_then(|i| i.name.as_deref()),
            interface_id: iface.map_or(0, |i| i.index_in_section),
            http: batch.notes.get(p.notes.clone()).unwrap_or_default(),
        };
        let said: &[_] = if self.want_annotations {
            annotate(&event, self.explain, annotations);
            &annotations.list
        } else {
            &[]
        };
        self.outputs.each(|s| s.packet(&event, said))
    }
}

/// Runs the three stages; returns how reading ended and how writing did.
pub(super) fn run(
    read: ReadStage<'_>,
    registry: Registry,
    follow: Option<FollowTap>,
    output: OutputStage<'_>,
) -> (ReadEnd, Result<(), OutErr>) {
    let (read_tx, dissect_rx) = std::sync::mpsc::sync_channel(CHANNEL_DEPTH);
    let (dissect_tx, output_rx) = std::sync::mpsc::sync_channel(CHANNEL_DEPTH);
    let (recycle_tx, recycled) = std::sync::mpsc::channel();
    let (written_tx, written_rx) = std::sync::mpsc::channel();
    let returns = Returns::new(written_rx, recycle_tx);
    let stop = output.stop;
    let map = output.map.clone();
    std::thread::scope(|scope| {
        let reader = std::thread::Builder::new()
            .name("read".into())
            .spawn_scoped(scope, move || {
                read.run(Ends {
                    tx: read_tx,
                    recycled,
                    made: 0,
                })
            });
        let dissector = std::thread::Builder::new()
            .name("dissect".into())
            .spawn_scoped(scope, move || {
                dissect::run(dissect_rx, dissect_tx, returns, map, registry, follow)
            });
        let wrote = match (&reader, &dissector) {
            (Ok(_), Ok(_)) => output.run(output_rx, written_tx),
            _ => Ok(()),
        };
        if wrote.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        let end = match reader {
            Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            Err(e) => ReadEnd {
                stats: RunStats::default(),
                error: Some(Error::Other(format!("cannot start a thread: {e}"))),
            },
        };
        if let Ok(h) = dissector {
            if let Err(p) = h.join() {
                std::panic::resume_unwind(p);
            }
        }
        (end, wrote)
    })
}
