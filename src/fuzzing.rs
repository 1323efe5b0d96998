//! Entry points for the fuzz targets (`fuzz/`) and for the tests that
//! replay their corpora. Each takes arbitrary bytes, drives one stage of
//! the pipeline with them, and checks the stage's invariants; a panic is a
//! bug.

use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use crate::decode::{decode, TcpFlags, TcpMeta, TcpOptions};
use crate::event::{PacketEvent, Sink};
use crate::output::json::{JsonInput, JsonSink};
use crate::output::line::{write_line, LineOptions};
use crate::source::file::FileSource;
use crate::source::{Frame, LinkType, Next, PacketSource};
use crate::track::{Direction, Limits, StreamConsumer, StreamCtx, Tracker};

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
    if let Some(m) = d.tcp_meta() {
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
        let _ = write_line(&mut line, frame, &d, None, &opts, &none);
    }
    let _ = crate::output::dump::write_hex_ascii(
        &mut line,
        crate::output::dump::network_bytes(frame, &d),
    );
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
            decoded: &d,
            tcp: None,
            interface: None,
            interface_id: 0,
            http: &[],
            annotations: &[],
        };
        let _ = json.packet(&ev);
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

/// A whole capture file: every frame is read, decoded and tracked; reading
/// ends with the input or one error, never a panic or a hang.
pub fn read_file(data: &[u8]) {
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
    let mut sink = CheckingConsumer::default();
    let mut frames = 0u64;
    loop {
        match src.next() {
            Ok(Next::Frame(f, ifaces)) => {
                frames += 1;
                assert_eq!(f.number, frames);
                assert!((f.interface as usize) < ifaces.len());
                assert_eq!(f.caplen as usize, f.data.len());
                render(&f);
                if let Some(m) = decode(&f).tcp_meta() {
                    tracker.process(f.number, f.ts_ns, &m, &mut sink);
                }
            }
            Ok(Next::Notice(_)) | Ok(Next::Idle) => {}
            Ok(Next::End) | Err(_) => break,
        }
    }
    tracker.finish(&mut sink);
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
/// of header each followed by up to 63 payload bytes: the tracker must
/// stay within its limits and deliver no more than it was given.
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
        let take = plen.min(tail.len());
        let payload = tail.get(..take).unwrap_or(&payload_src[..0]);
        rest = &tail[take..];
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
    let ep = |ip: [u8; 4], port| crate::track::Endpoint {
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
