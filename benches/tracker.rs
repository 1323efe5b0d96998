//! The tracker's cost per packet: over the shipped lecture capture and a
//! corpus capture (tests/fixtures/corpus), and over a long in-order
//! connection, the steady state that must not allocate (see
//! tests/tracker_alloc.rs for the allocation count itself).

use std::hint::black_box;
use std::net::IpAddr;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netpeek::decode::{decode, TcpMeta};
use netpeek::event::{Frame, LinkType};
use netpeek::event::{TcpFlags, TcpOptions};
use netpeek::source::file::FileSource;
use netpeek::source::{Next, PacketSource};
use netpeek::track::{Limits, NoConsumer, Tracker};

/// A capture held in memory: (number, ts, link type, bytes).
fn load(path: &Path) -> Vec<(u64, i64, LinkType, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(mut src) = FileSource::open(path) else {
        return out;
    };
    while let Ok(next) = src.next() {
        match next {
            Next::Frame(f, _) => out.push((f.number, f.ts_ns, f.linktype, f.data.to_vec())),
            Next::Notice(_) | Next::Idle => {}
            Next::End => break,
        }
    }
    out
}

fn bench_capture(c: &mut Criterion, name: &str, path: &Path) {
    let frames = load(path);
    if frames.is_empty() {
        return;
    }
    let metas: Vec<(u64, i64, TcpMeta<'_>)> = frames
        .iter()
        .filter_map(|(n, ts, lt, data)| {
            let frame = Frame {
                number: *n,
                ts_ns: *ts,
                interface: 0,
                linktype: *lt,
                caplen: data.len() as u32,
                len: data.len() as u32,
                data,
                comment: None,
                record_issue: None,
            };
            decode(&frame).tcp_meta().map(|m| (*n, *ts, m))
        })
        .collect();
    let mut g = c.benchmark_group("tracker");
    g.throughput(Throughput::Elements(metas.len() as u64));
    g.bench_function(name, |b| {
        b.iter(|| {
            let mut t = Tracker::new(Limits::default());
            for (n, ts, m) in &metas {
                black_box(t.process(*n, *ts, m, &mut NoConsumer));
                t.drain_events().for_each(drop);
            }
            t.finish(&mut NoConsumer);
            t.drain_events().count()
        })
    });
    g.finish();
}

fn captures(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    bench_capture(
        c,
        "lecture-http.pcapng",
        &root.join("captures/lecture-http.pcapng"),
    );
    bench_capture(
        c,
        "zeek-http-1000-requests",
        &root.join("tests/fixtures/corpus/zeek-http-1000-requests-one-dropped-response.pcap"),
    );
}

fn in_order(c: &mut Criterion) {
    const N: u32 = 10_000;
    let cl: IpAddr = "10.0.0.1".parse().unwrap();
    let sv: IpAddr = "10.0.0.2".parse().unwrap();
    let payload = [b'x'; 1448];
    let meta = |from_client: bool, seq: u32, ack: u32, flags: u16, data: &'static [u8]| TcpMeta {
        src: if from_client { cl } else { sv },
        dst: if from_client { sv } else { cl },
        sport: if from_client { 40000 } else { 80 },
        dport: if from_client { 80 } else { 40000 },
        seq,
        ack,
        flags: TcpFlags(flags),
        window: 65535,
        options: TcpOptions::default(),
        payload: data,
        payload_len: data.len() as u32,
    };
    let data: &'static [u8] = Box::leak(Box::new(payload));
    let mut g = c.benchmark_group("tracker");
    g.throughput(Throughput::Elements(u64::from(2 * N)));
    g.bench_function("in-order data + ACKs", |b| {
        b.iter(|| {
            let mut t = Tracker::new(Limits::default());
            let mut f = 0;
            let mut ts = 0;
            let mut send = |t: &mut Tracker, m: TcpMeta<'_>| {
                f += 1;
                ts += 10_000;
                black_box(t.process(f, ts, &m, &mut NoConsumer));
            };
            send(&mut t, meta(true, 0, 0, TcpFlags::SYN, b""));
            send(
                &mut t,
                meta(false, 0, 1, TcpFlags::SYN | TcpFlags::ACK, b""),
            );
            send(&mut t, meta(true, 1, 1, TcpFlags::ACK, b""));
            for i in 0..N {
                let seq = 1 + i * 1448;
                send(&mut t, meta(true, seq, 1, TcpFlags::ACK, data));
                send(&mut t, meta(false, 1, seq + 1448, TcpFlags::ACK, b""));
            }
            t.len()
        })
    });
    g.finish();
}

criterion_group!(benches, captures, in_order);
criterion_main!(benches);
