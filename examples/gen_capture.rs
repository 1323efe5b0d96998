//! Generates a large, realistic HTTP/1.1 capture, deterministically, for
//! benchmarks: many interleaved connections over Ethernet (IPv4, some IPv6),
//! handshakes with options, keep-alive exchanges with bodies of mixed sizes
//! (Content-Length and chunked), delayed ACKs, FIN and RST teardowns, and a
//! few percent of retransmissions and reordering.
//!
//! ```text
//! cargo run --release --example gen_capture -- --packets 2000000 --seed 1 out.pcap [out.pcapng]
//! ```

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::IpAddr;
use std::time::Duration;

use etherparse::PacketBuilder;

/// splitmix64: small, fast, good enough, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

const MSS: usize = 1448;

#[derive(Clone)]
struct Packet {
    ts_ns: u64,
    data: Vec<u8>,
}

struct Conn {
    client: (IpAddr, u16),
    server: (IpAddr, u16),
    cseq: u32,
    sseq: u32,
    ts_ns: u64,
    rtt_ns: u64,
    exchanges: u32,
    queue: VecDeque<Packet>,
}

fn build(
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    seq: u32,
    ack: u32,
    flags: &str,
    payload: &[u8],
    tsval: u32,
) -> Vec<u8> {
    let eth = PacketBuilder::ethernet2([0x02, 0, 0, 0, 0, 1], [0x02, 0, 0, 0, 0, 2]);
    let ip = match (src.0, dst.0) {
        (IpAddr::V4(s), IpAddr::V4(d)) => eth.ipv4(s.octets(), d.octets(), 64),
        (IpAddr::V6(s), IpAddr::V6(d)) => eth.ipv6(s.octets(), d.octets(), 64),
        _ => unreachable!("same family"),
    };
    let mut tcp = ip.tcp(src.1, dst.1, seq, 502);
    if flags.contains('S') {
        tcp = tcp
            .syn()
            .options(&[
                etherparse::TcpOptionElement::MaximumSegmentSize(1460),
                etherparse::TcpOptionElement::SelectiveAcknowledgementPermitted,
                etherparse::TcpOptionElement::Timestamp(tsval, 0),
                etherparse::TcpOptionElement::Noop,
                etherparse::TcpOptionElement::WindowScale(7),
            ])
            .unwrap();
    } else {
        tcp = tcp
            .options(&[
                etherparse::TcpOptionElement::Noop,
                etherparse::TcpOptionElement::Noop,
                etherparse::TcpOptionElement::Timestamp(tsval, tsval.wrapping_sub(3)),
            ])
            .unwrap();
    }
    if flags.contains('A') {
        tcp = tcp.ack(ack);
    }
    if flags.contains('P') {
        tcp = tcp.psh();
    }
    if flags.contains('F') {
        tcp = tcp.fin();
    }
    if flags.contains('R') {
        tcp = tcp.rst();
    }
    let mut out = Vec::with_capacity(tcp.size(payload.len()));
    tcp.write(&mut out, payload).unwrap();
    out
}

impl Conn {
    fn push(
        &mut self,
        from_client: bool,
        seq: u32,
        ack: u32,
        flags: &str,
        payload: &[u8],
        gap_ns: u64,
    ) {
        self.ts_ns += gap_ns;
        let (s, d) = if from_client {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        let tsval = (self.ts_ns / 1_000_000) as u32;
        self.queue.push_back(Packet {
            ts_ns: self.ts_ns,
            data: build(s, d, seq, ack, flags, payload, tsval),
        });
    }

    /// Scripts the whole connection into its queue.
    fn script(&mut self, rng: &mut Rng, id: u64) {
        let (ci, si) = (self.cseq, self.sseq);
        let half = self.rtt_ns / 2;
        self.push(true, ci, 0, "S", &[], 0);
        self.push(false, si, ci + 1, "SA", &[], half);
        self.push(true, ci + 1, si + 1, "A", &[], half);
        let mut c = ci + 1;
        let mut s = si + 1;
        for i in 0..self.exchanges {
            let req = format!(
                "GET /objects/{id}/{i}.bin?v={} HTTP/1.1\r\nHost: bench.example\r\nUser-Agent: gen/1.0\r\nAccept: */*\r\n\r\n",
                rng.below(1_000_000)
            );
            self.push(
                true,
                c,
                s,
                "AP",
                req.as_bytes(),
                200_000 + rng.below(2_000_000),
            );
            c += req.len() as u32;
            // Log-uniform body sizes: 100 B .. 256 KiB.
            let size = (100f64 * (2621.0f64).powf(rng.below(10_000) as f64 / 10_000.0)) as usize;
            let chunked = rng.chance(200);
            let mut body = Vec::with_capacity(size + 64);
            let head = if chunked {
                let mut left = size;
                while left > 0 {
                    let n = left.min(8192);
                    body.extend_from_slice(format!("{n:x}\r\n").as_bytes());
                    body.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, n));
                    body.extend_from_slice(b"\r\n");
                    left -= n;
                }
                body.extend_from_slice(b"0\r\n\r\n");
                "HTTP/1.1 200 OK\r\nServer: gen\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n".to_string()
            } else {
                body.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, size));
                format!("HTTP/1.1 200 OK\r\nServer: gen\r\nContent-Type: application/octet-stream\r\nContent-Length: {size}\r\n\r\n")
            };
            let mut resp = head.into_bytes();
            resp.extend_from_slice(&body);
            self.push(false, s, c, "A", &[], half);
            let segs: Vec<&[u8]> = resp.chunks(MSS).collect();
            let mut k = 0;
            let mut pending_swap: Option<Packet> = None;
            while k < segs.len() {
                let seg = segs[k];
                let last = k + 1 == segs.len();
                self.push(
                    false,
                    s,
                    c,
                    if last { "AP" } else { "A" },
                    seg,
                    2_000 + rng.below(20_000),
                );
                if rng.chance(10) && !last {
                    // Reorder: hold this segment back behind the next one.
                    pending_swap = self.queue.pop_back();
                } else if let Some(p) = pending_swap.take() {
                    let mut p = p;
                    p.ts_ns = self.ts_ns + 500;
                    self.ts_ns += 500;
                    self.queue.push_back(p);
                }
                if rng.chance(20) {
                    // A retransmission of this segment one RTO later.
                    self.push(false, s, c, "A", seg, self.rtt_ns * 3);
                }
                s += seg.len() as u32;
                k += 1;
                if k % 2 == 0 || last {
                    self.push(true, c, s, "A", &[], 40_000);
                }
            }
            if let Some(mut p) = pending_swap.take() {
                p.ts_ns = self.ts_ns + 500;
                self.ts_ns += 500;
                self.queue.push_back(p);
            }
        }
        if rng.chance(50) {
            self.push(true, c, s, "RA", &[], 1_000_000);
        } else if rng.chance(500) {
            self.push(true, c, s, "AF", &[], 1_000_000);
            self.push(false, s, c + 1, "AF", &[], half);
            self.push(true, c + 1, s + 1, "A", &[], half);
        } else {
            self.push(false, s, c, "AF", &[], 5_000_000);
            self.push(true, c, s + 1, "AF", &[], half);
            self.push(false, s + 1, c + 1, "A", &[], half);
        }
    }
}

fn main() {
    let mut packets_wanted: u64 = 2_000_000;
    let mut seed: u64 = 1;
    let mut outs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--packets" => {
                packets_wanted = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--packets N")
            }
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).expect("--seed N"),
            other => outs.push(other.to_string()),
        }
    }
    assert!(
        !outs.is_empty(),
        "usage: gen_capture [--packets N] [--seed N] OUT.pcap [OUT.pcapng]"
    );
    let mut rng = Rng(seed);
    let mut pcap = BufWriter::with_capacity(1 << 20, File::create(&outs[0]).unwrap());
    // Nanosecond pcap header.
    pcap.write_all(&0xa1b2_3c4du32.to_le_bytes()).unwrap();
    pcap.write_all(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        .unwrap();
    pcap.write_all(&262_144u32.to_le_bytes()).unwrap();
    pcap.write_all(&1u32.to_le_bytes()).unwrap();
    let mut ng = outs.get(1).map(|p| {
        let w = BufWriter::with_capacity(1 << 20, File::create(p).unwrap());
        let mut w = pcap_file::pcapng::PcapNgWriter::new(w).unwrap();
        w.write_pcapng_block(pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock {
            linktype: pcap_file::DataLink::ETHERNET,
            snaplen: 262_144,
            options: vec![pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption::IfTsResol(9)],
        })
        .unwrap();
        w
    });

    let start_ns: u64 = 1_700_000_000_000_000_000;
    let mut active: Vec<Conn> = Vec::new();
    let mut written = 0u64;
    let mut next_id = 0u64;
    let mut clock = start_ns;
    while written < packets_wanted {
        while active.len() < 64 {
            let id = next_id;
            next_id += 1;
            let v6 = rng.chance(100);
            let (client, server) = if v6 {
                let c: IpAddr = format!("2001:db8::{:x}", 0x100 + id % 5000)
                    .parse()
                    .unwrap();
                let s: IpAddr = format!("2001:db8:1::{:x}", 1 + id % 7).parse().unwrap();
                (c, s)
            } else {
                let c: IpAddr = format!(
                    "10.{}.{}.{}",
                    (id >> 16) % 200,
                    (id >> 8) % 256,
                    1 + id % 250
                )
                .parse()
                .unwrap();
                let s: IpAddr = format!("192.168.0.{}", 1 + id % 7).parse().unwrap();
                (c, s)
            };
            let mut c = Conn {
                client: (client, 20_000 + (id % 40_000) as u16),
                server: (server, if id % 3 == 0 { 8080 } else { 80 }),
                cseq: rng.next() as u32,
                sseq: rng.next() as u32,
                ts_ns: clock + rng.below(5_000_000),
                rtt_ns: 200_000 + rng.below(30_000_000),
                exchanges: 1 + rng.below(10) as u32,
                queue: VecDeque::new(),
            };
            c.script(&mut rng, id);
            active.push(c);
        }
        // Emit the earliest packet of all active connections.
        let (i, _) = active
            .iter()
            .enumerate()
            .min_by_key(|(_, c)| c.queue.front().map_or(u64::MAX, |p| p.ts_ns))
            .unwrap();
        let p = active[i].queue.pop_front().unwrap();
        clock = clock.max(p.ts_ns);
        let ts = clock;
        pcap.write_all(&((ts / 1_000_000_000) as u32).to_le_bytes())
            .unwrap();
        pcap.write_all(&((ts % 1_000_000_000) as u32).to_le_bytes())
            .unwrap();
        pcap.write_all(&(p.data.len() as u32).to_le_bytes())
            .unwrap();
        pcap.write_all(&(p.data.len() as u32).to_le_bytes())
            .unwrap();
        pcap.write_all(&p.data).unwrap();
        if let Some(w) = ng.as_mut() {
            w.write_pcapng_block(
                pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock {
                    interface_id: 0,
                    timestamp: Duration::from_nanos(ts),
                    original_len: p.data.len() as u32,
                    data: Cow::Borrowed(&p.data),
                    options: vec![],
                },
            )
            .unwrap();
        }
        written += 1;
        if active[i].queue.is_empty() {
            active.swap_remove(i);
        }
    }
    pcap.flush().unwrap();
    if let Some(mut w) = ng {
        w.get_mut().flush().unwrap();
    }
    eprintln!("wrote {written} packets from {next_id} connections");
}
