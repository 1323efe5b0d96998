//! Micro-benchmarks of the stages around the tracker: frame decoding,
//! reassembly (in order and reordered), and HTTP parsing of a keep-alive
//! conversation. `make bench` runs them (with benches/tracker.rs).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netpeek::decode::decode;
use netpeek::dissect::http::{HttpDissector, HttpOptions};
use netpeek::event::{Direction, Endpoint};
use netpeek::event::{Frame, LinkType};
use netpeek::track::reassembly::{Deliver, Reassembler};
use netpeek::track::{StreamConsumer, StreamCtx};

fn tcp_frame(seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(40000, 80, seq, 502)
        .ack(7)
        .write(&mut v, payload)
        .unwrap();
    v
}

fn bench_decode(c: &mut Criterion) {
    let frames: Vec<Vec<u8>> = (0..1000)
        .map(|i| tcp_frame(i * 1448, &[b'x'; 1448]))
        .collect();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(frames.len() as u64));
    g.bench_function("ethernet_ipv4_tcp", |b| {
        b.iter(|| {
            for (i, data) in frames.iter().enumerate() {
                let f = Frame {
                    number: i as u64,
                    ts_ns: 0,
                    interface: 0,
                    linktype: LinkType::ETHERNET,
                    caplen: data.len() as u32,
                    len: data.len() as u32,
                    data,
                    comment: None,
                    record_issue: None,
                };
                black_box(decode(&f).tcp_meta());
            }
        })
    });
    g.finish();
}

struct Count(u64);

impl Deliver for Count {
    fn data(&mut self, bytes: &[u8]) {
        self.0 += bytes.len() as u64;
    }
    fn gap(&mut self, missing: u64) {
        self.0 += missing;
    }
}

fn bench_reassembly(c: &mut Criterion) {
    let seg = [b'y'; 1448];
    let mut g = c.benchmark_group("reassembly");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("in_order", |b| {
        b.iter(|| {
            let mut r = Reassembler::default();
            let mut out = Count(0);
            r.on_syn(0);
            for i in 0..1000u32 {
                let _ = r.segment(1 + i * 1448, &seg, 1448, 1 << 20, &mut out);
            }
            black_box(out.0)
        })
    });
    g.bench_function("pairs_swapped", |b| {
        b.iter(|| {
            let mut r = Reassembler::default();
            let mut out = Count(0);
            r.on_syn(0);
            for i in (0..1000u32).step_by(2) {
                let _ = r.segment(1 + (i + 1) * 1448, &seg, 1448, 1 << 20, &mut out);
                let _ = r.segment(1 + i * 1448, &seg, 1448, 1 << 20, &mut out);
            }
            black_box(out.0)
        })
    });
    g.finish();
}

fn bench_http(c: &mut Criterion) {
    let req = b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n";
    let mut resp = b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 612\r\nConnection: keep-alive\r\n\r\n".to_vec();
    resp.extend_from_slice(&[b'a'; 612]);
    let ep = |last, port| Endpoint {
        ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)),
        port,
    };
    let mut g = c.benchmark_group("http");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("keep_alive_exchanges", |b| {
        b.iter(|| {
            let mut d = HttpDissector::new(HttpOptions::default());
            for i in 0..1000u64 {
                let ctx = StreamCtx {
                    stream: 0,
                    frame: i,
                    ts_ns: i as i64 * 1000,
                    client: ep(1, 40000),
                    server: ep(2, 80),
                };
                d.data(&ctx, Direction::ToServer, req);
                d.data(&ctx, Direction::ToClient, &resp);
                black_box(d.drain_exchanges().count());
                black_box(d.take_notes());
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench_decode, bench_reassembly, bench_http);
criterion_main!(benches);
