//! Entry points for the fuzz targets (`fuzz/`) and for the tests that
//! replay their corpora. Each takes arbitrary bytes, drives one stage of
//! the pipeline with them, and checks the stage's invariants; a panic is a
//! bug.

use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use crate::decode::{decode, TcpMeta};

use crate::event::Direction;
use crate::event::PacketEvent;
use crate::event::{Frame, LinkType};
use crate::event::{TcpFlags, TcpOptions};
use crate::output::json::{JsonInput, JsonSink};
use crate::output::line::{write_line, LineOptions};
use crate::output::Sink;
use crate::source::file::FileSource;
use crate::source::{Next, PacketSource};
use crate::track::{Limits, StreamConsumer, StreamCtx, Tracker};

const LINK_TYPES: [LinkType; 8] = [
    LinkType::ETHERNET,
    LinkType::NULL,
    LinkType::LOOP,
    LinkType::RAW,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType::LINUX_SLL,
    LinkType::LINUX_SLL2,
];

fn render(frame: &Frame<'_>) {
    let d = decode(frame);
    let (view, meta) = d.view(frame.data);
    assert_eq!(
        meta,
        d.tcp_meta(),
        "the view's TCP facts differ from the tracker's"
    );
    if let Some(m) = meta {
        assert!(
            m.payload.len() <= m.payload_len as usize,
            "captured payload exceeds wire length"
        );
    }
    let mut line = Vec::new();
    let none = |_: u32| None;
    for link_header in [false, true] {
        let opts = LineOptions {
            link_header,
            absolute_seq: false,
        };
        let _ = write_line(&mut line, frame, &view, None, &opts, &none);
    }
    let dumped = crate::event::redact::redact_payload(
        crate::output::dump::network_bytes(frame, &view),
        false,
    );
    let _ = crate::output::dump::write_hex_ascii(&mut line, &dumped);
    if let Ok(mut json) = JsonSink::new(
        Vec::new(),
        &JsonInput {
            file: None,
            interface: None,
            filter: None,
        },
        false,
    ) {
        let ev = PacketEvent {
            frame,
            view: &view,
            tcp: None,
            interface: None,
            interface_id: 0,
            http: &[],
        };
        let _ = json.packet(&ev, &[]);
    }
}

/// One frame: the first byte picks the link type, the rest is the frame.
pub fn decode_frame(data: &[u8]) {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let frame = Frame {
        number: 1,
        ts_ns: 0,
        interface: 0,
        linktype: LINK_TYPES[usize::from(sel) % LINK_TYPES.len()],
        caplen: bytes.len() as u32,
        len: bytes.len() as u32,
        data: bytes,
        comment: None,
        record_issue: None,
    };
    render(&frame);
}

/// A whole capture file through every stage and output the binary has:
/// read, decode, track, HTTP, annotate, then the timeline (with `-X`
/// dumps, explanations and bodies), the plain lines (`-A`), JSON, ladders,
/// the `--stats` tables and a pcapng copy. Reading ends with the input or
/// one error, never a panic or a hang; the pcapng copy reads back as the
/// same frames.
pub fn read_file(data: &[u8]) {
    use crate::describe::annotate::{annotate, Annotations};
    use crate::dissect::http::{HttpDissector, HttpOptions};
    use crate::output::ladder::{LadderOptions, LadderSink};
    use crate::output::pcapng::PcapngSink;
    use crate::output::stats::StatsSink;
    use crate::output::text::{DumpMode, TextOptions, TextSink};
    use crate::output::theme::Theme;
    use crate::output::time::TimeStyle;
    use crate::output::timeline::{TimelineOptions, TimelineSink};
    use crate::track::TrackEvent;

    let Ok(mut src) = FileSource::from_reader(
        Path::new("fuzz"),
        Box::new(Cursor::new(data.to_vec())),
        None,
    ) else {
        return;
    };
    let mut tracker = Tracker::new(Limits {
        max_connections: 64,
        max_buffer_per_direction: 1 << 16,
        max_buffer_total: 1 << 18,
        idle_timeout_ns: 60_000_000_000,
    });
    let mut consumer = Tee {
        check: CheckingConsumer::default(),
        http: HttpDissector::new(HttpOptions {
            keep_body: true,
            body_limit: 1024,
            max_pending: 16,
            max_pending_bytes: 1 << 16,
            max_decoded: 1 << 20,
            ..HttpOptions::default()
        }),
    };
    let line = LineOptions {
        link_header: true,
        absolute_seq: false,
    };
    let mut sinks: Vec<Box<dyn Sink>> = vec![
        Box::new(TimelineSink::new(
            std::io::sink(),
            TimelineOptions {
                time: TimeStyle::DeltaFirst,
                nanos: true,
                line,
                dump: DumpMode::HexAscii,
                show_secrets: false,
                line_buffered: false,
                http_body: true,
                local_ifindex_names: false,
                explain: true,
                ascii: false,
                summary_max: 8,
            },
            Theme::new(true),
        )),
        Box::new(TextSink::new(
            std::io::sink(),
            TextOptions {
                time: TimeStyle::Absolute,
                nanos: false,
                line,
                dump: DumpMode::Ascii,
                show_secrets: false,
                line_buffered: false,
                http_body: true,
                local_ifindex_names: false,
                plain: false,
            },
        )),
        Box::new(LadderSink::new(
            std::io::sink(),
            LadderOptions {
                time: TimeStyle::DeltaFirst,
                nanos: false,
                ascii: false,
                fold: true,
                immediate: false,
                line_buffered: false,
            },
            Theme::plain(),
        )),
        Box::new(StatsSink::new(std::io::sink(), false)),
    ];
    if let Ok(json) = JsonSink::new(
        std::io::sink(),
        &JsonInput {
            file: Some("fuzz"),
            interface: None,
            filter: None,
        },
        false,
    ) {
        sinks.push(Box::new(json));
    }
    let Ok(mut copy) = PcapngSink::new(Vec::new(), None, false) else {
        return;
    };
    let mut frames = 0u64;
    let mut given = 0u64;
    let mut known_interfaces = 0usize;
    let mut annotations = Annotations::default();
    // What the copy must hold: each frame's interface and bytes.
    let mut seen: Vec<(u32, Vec<u8>)> = Vec::new();
    fn each(sinks: &mut [Box<dyn Sink>], f: &mut dyn FnMut(&mut dyn Sink)) {
        for s in sinks.iter_mut() {
            f(s.as_mut());
        }
    }
    loop {
        let (f, ifaces) = match src.next() {
            Ok(Next::Frame(f, ifaces)) => (f, ifaces),
            Ok(Next::Notice(_)) | Ok(Next::Idle) => continue,
            Ok(Next::End) | Err(_) => break,
        };
        frames += 1;
        assert_eq!(f.number, frames);
        assert!((f.interface as usize) < ifaces.len());
        assert_eq!(f.caplen as usize, f.data.len());
        if ifaces.len() != known_interfaces {
            known_interfaces = ifaces.len();
            each(&mut sinks, &mut |s| {
                let _ = s.interfaces(ifaces);
            });
            let _ = copy.interfaces(ifaces);
        }
        let (view, meta) = decode(&f).view(f.data);
        if let Some(m) = &meta {
            assert!(
                m.payload.len() <= m.payload_len as usize,
                "captured payload exceeds wire length"
            );
            given += u64::from(m.payload_len);
        }
        let tcp = meta.map(|m| tracker.process(f.number, f.ts_ns, &m, &mut consumer));
        let notes = consumer.http.take_notes();
        let iface = ifaces.get(f.interface as usize);
        let ev = PacketEvent {
            frame: &f,
            view: &view,
            tcp: tcp.as_ref(),
            interface: iface.and_then(|i| i.name.as_deref()),
            interface_id: iface.map_or(0, |i| i.index_in_section),
            http: &notes,
        };
        annotate(&ev, true, &mut annotations);
        each(&mut sinks, &mut |s| {
            let _ = s.packet(&ev, &annotations.list);
        });
        assert!(
            copy.packet(&ev, &annotations.list).is_ok(),
            "pcapng copy: writing to memory failed"
        );
        seen.push((f.interface, f.data.to_vec()));
        for x in consumer.http.drain_exchanges() {
            each(&mut sinks, &mut |s| {
                let _ = s.http(&x);
            });
        }
        for e in tracker.drain_events() {
            match e {
                TrackEvent::Connection(c) => each(&mut sinks, &mut |s| {
                    let _ = s.connection(&c);
                }),
                TrackEvent::Notice(n) => {
                    let n = crate::event::Notice::Track(n);
                    each(&mut sinks, &mut |s| {
                        let _ = s.notice(&n, Some(f.ts_ns));
                    });
                }
            }
        }
    }
    tracker.begin_finish();
    loop {
        let more = tracker.finish_one(&mut consumer);
        for n in consumer.http.take_notes() {
            let n = crate::event::Notice::Http(n);
            each(&mut sinks, &mut |s| {
                let _ = s.notice(&n, None);
            });
        }
        for x in consumer.http.drain_exchanges() {
            each(&mut sinks, &mut |s| {
                let _ = s.http(&x);
            });
        }
        for e in tracker.drain_events() {
            if let TrackEvent::Connection(c) = e {
                each(&mut sinks, &mut |s| {
                    let _ = s.connection(&c);
                });
            }
        }
        if !more {
            break;
        }
    }
    let stats = crate::event::RunStats {
        frames_read: frames,
        frames_shown: frames,
        capture: None,
    };
    each(&mut sinks, &mut |s| {
        let _ = s.finish(&stats);
    });
    assert!(copy.finish(&stats).is_ok());
    assert!(
        consumer.check.delivered <= given,
        "delivered {} of {given} bytes given",
        consumer.check.delivered
    );

    // The pcapng copy reads back as the same frames.
    let Ok(bytes) = copy.into_inner() else {
        panic!("pcapng copy: no bytes");
    };
    let back = FileSource::from_reader(Path::new("copy"), Box::new(Cursor::new(bytes)), None);
    let Ok(mut back) = back else {
        panic!("the pcapng copy does not open");
    };
    let mut n = 0usize;
    loop {
        match back.next() {
            Ok(Next::Frame(f, _)) => {
                let Some((iface, data)) = seen.get(n) else {
                    panic!("the pcapng copy has more frames than were read");
                };
                assert_eq!(f.interface, *iface, "frame {}: interface", n + 1);
                assert_eq!(f.data, data.as_slice(), "frame {}: bytes", n + 1);
                n += 1;
            }
            Ok(Next::Notice(_)) | Ok(Next::Idle) => {}
            Ok(Next::End) => break,
            Err(e) => panic!("the pcapng copy is unreadable after {n} frames: {e}"),
        }
    }
    assert_eq!(n, seen.len(), "frames in the pcapng copy");
    mapped_reads_as_streamed(data);
}

/// Every record of a source, and how it ended (`None`: the input ended,
/// else the error), for comparing readers.
type Records = (Vec<(u64, i64, u32, u32, u32, Vec<u8>)>, Option<String>);

fn records(src: Result<FileSource, crate::error::Error>) -> Records {
    let mut src = match src {
        Ok(s) => s,
        Err(e) => return (Vec::new(), Some(e.to_string())),
    };
    let mut out = Vec::new();
    loop {
        match src.next() {
            Ok(Next::Frame(f, _)) => out.push((
                f.number,
                f.ts_ns,
                f.interface,
                f.caplen,
                f.len,
                f.data.to_vec(),
            )),
            Ok(Next::Notice(_)) | Ok(Next::Idle) => {}
            Ok(Next::End) => return (out, None),
            Err(e) => return (out, Some(e.to_string())),
        }
    }
}

/// A regular file is read in place through a memory map, anything else
/// through a stream: both must see the same records and end the same way.
fn mapped_reads_as_streamed(data: &[u8]) {
    let compressed = data.starts_with(&[0x1f, 0x8b]) || data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]);
    if compressed || data.len() < 4 {
        return;
    }
    let Ok(mut anon) = memmap2::MmapMut::map_anon(data.len()) else {
        return;
    };
    anon.copy_from_slice(data);
    let Ok(map) = anon.make_read_only() else {
        return;
    };
    let path = Path::new("fuzz");
    let mapped = records(FileSource::from_map(path, map));
    let streamed = records(FileSource::from_reader(
        path,
        Box::new(Cursor::new(data.to_vec())),
        None,
    ));
    assert_eq!(mapped.0.len(), streamed.0.len(), "records read");
    assert!(mapped.0 == streamed.0, "records differ");
    assert_eq!(mapped.1, streamed.1, "how reading ended");
}

/// Feeds the checks and the HTTP dissector the same stream events.
struct Tee {
    check: CheckingConsumer,
    http: crate::dissect::http::HttpDissector,
}

impl StreamConsumer for Tee {
    fn data(&mut self, ctx: &StreamCtx, dir: Direction, bytes: &[u8]) {
        self.check.data(ctx, dir, bytes);
        self.http.data(ctx, dir, bytes);
    }
    fn gap(&mut self, ctx: &StreamCtx, dir: Direction, missing: u64) {
        self.check.gap(ctx, dir, missing);
        self.http.gap(ctx, dir, missing);
    }
    fn end(&mut self, ctx: &StreamCtx, dir: Direction) {
        self.check.end(ctx, dir);
        self.http.end(ctx, dir);
    }
    fn closed(&mut self, ctx: &StreamCtx) {
        self.check.closed(ctx);
        self.http.closed(ctx);
    }
}

/// Checks what the tracker hands to a stream consumer.
#[derive(Default)]
struct CheckingConsumer {
    delivered: u64,
    closed: u64,
}

impl StreamConsumer for CheckingConsumer {
    fn data(&mut self, _ctx: &StreamCtx, _dir: Direction, bytes: &[u8]) {
        assert!(!bytes.is_empty(), "empty data callback");
        self.delivered += bytes.len() as u64;
    }
    fn gap(&mut self, _ctx: &StreamCtx, _dir: Direction, missing: u64) {
        assert!(missing > 0, "empty gap");
    }
    fn end(&mut self, _ctx: &StreamCtx, _dir: Direction) {}
    fn closed(&mut self, _ctx: &StreamCtx) {
        self.closed += 1;
    }
}

/// A sequence of synthetic TCP segments between a few endpoints, 16 bytes
/// of header each followed by up to 63 payload bytes, or (bit 0x80 of the
/// 14th byte) a filler payload of up to 4032 bytes that takes no input:
/// the tracker must stay within its limits, keep its buffer accounting
/// exact and deliver no more than it was given.
pub fn track_segments(data: &[u8]) {
    let limits = Limits {
        max_connections: 8,
        max_buffer_per_direction: 4096,
        max_buffer_total: 16384,
        idle_timeout_ns: 5_000_000_000,
    };
    let mut tracker = Tracker::new(limits);
    let mut sink = CheckingConsumer::default();
    let mut rest = data;
    let mut frame = 0u64;
    let mut ts = 0i64;
    let mut given = 0u64;
    let payload_src = [b'x'; 64];
    let filler = [b'f'; 63 * 64];
    while rest.len() >= 16 {
        let (h, tail) = rest.split_at(16);
        frame += 1;
        let sel = h[0];
        let flags = TcpFlags(u16::from(h[1]));
        let seq = u32::from_be_bytes([h[2], h[3], h[4], h[5]]);
        let ack = u32::from_be_bytes([h[6], h[7], h[8], h[9]]);
        let window = u16::from_be_bytes([h[10], h[11]]);
        let plen = usize::from(h[12] & 63);
        let wire_extra = u32::from(h[13] & 7);
        ts += i64::from(u16::from_be_bytes([h[14], h[15]])) * 1_000_000;
        let payload = if h[13] & 0x80 != 0 {
            // Large segments next to small ones stress the buffer limits.
            rest = tail;
            filler.get(..plen * 64).unwrap_or_default()
        } else {
            let take = plen.min(tail.len());
            rest = &tail[take..];
            tail.get(..take).unwrap_or(&payload_src[..0])
        };
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1 + (sel & 3)));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1 + ((sel >> 2) & 3)));
        let (src, dst, sport, dport) = if sel & 0x80 == 0 {
            (a, b, 40000 + u16::from((sel >> 4) & 3), 80)
        } else {
            (b, a, 80, 40000 + u16::from((sel >> 4) & 3))
        };
        let m = TcpMeta {
            src,
            dst,
            sport,
            dport,
            seq,
            ack,
            flags,
            window,
            options: TcpOptions {
                wscale: (sel & 0x40 != 0).then_some(sel & 15),
                ..TcpOptions::default()
            },
            payload,
            payload_len: payload.len() as u32 + wire_extra,
        };
        given += u64::from(m.payload_len);
        tracker.process(frame, ts, &m, &mut sink);
        assert!(tracker.len() <= limits.max_connections);
        assert!(
            tracker.buffered() <= limits.max_buffer_total,
            "{} bytes held, limit {}",
            tracker.buffered(),
            limits.max_buffer_total
        );
        assert_eq!(tracker.buffered(), tracker.buffered_recount());
        let _ = tracker.drain_events().count();
    }
    tracker.finish(&mut sink);
    assert!(
        sink.delivered <= given,
        "delivered {} of {} bytes given",
        sink.delivered,
        given
    );
}

/// Arbitrary stream chunks, gaps and ends fed to the HTTP dissector, on
/// a few streams: it must never panic, and its buffers must stay within
/// their limits.
pub fn http_stream(data: &[u8]) {
    use crate::dissect::http::{HttpDissector, HttpOptions};
    let opts = HttpOptions {
        keep_body: data.first().is_some_and(|b| b & 1 == 1),
        body_limit: 512,
        ..HttpOptions::default()
    };
    let mut d = HttpDissector::new(opts);
    let ep = |ip: [u8; 4], port| crate::event::Endpoint {
        ip: IpAddr::V4(Ipv4Addr::from(ip)),
        port,
    };
    let mut rest = data;
    let mut frame = 0u64;
    while rest.len() >= 3 {
        let ctl = rest[0];
        let len = usize::from(u16::from_be_bytes([rest[1], rest[2]]) & 0x0fff);
        rest = &rest[3..];
        frame += 1;
        let ctx = StreamCtx {
            stream: u64::from(ctl >> 5 & 3),
            frame,
            ts_ns: frame as i64 * 1_000_000,
            client: ep([10, 0, 0, 1], 40000),
            server: ep([10, 0, 0, 2], 80),
        };
        let dir = if ctl & 0x80 == 0 {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        match ctl & 3 {
            0 | 1 => {
                let take = len.min(rest.len());
                if take > 0 {
                    d.data(&ctx, dir, &rest[..take]);
                }
                rest = &rest[take..];
            }
            2 => d.gap(&ctx, dir, len as u64 + 1),
            _ => {
                if ctl & 4 == 0 {
                    d.end(&ctx, dir);
                } else {
                    d.closed(&ctx);
                }
            }
        }
        let _ = d.drain_exchanges().count();
        let _ = d.take_notes();
        // Heads, carries and holds are bounded per direction.
        assert!(
            d.buffered_bytes() <= 4 * 3 * 2 * (opts.head.max_bytes + 16 * 1024),
            "{}",
            d.buffered_bytes()
        );
    }
}
