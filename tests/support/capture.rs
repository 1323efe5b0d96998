//! Generated captures for the tests: a streaming pcap writer (so captures
//! of hundreds of megabytes never sit in the test's memory) and a TCP
//! conversation builder over Ethernet/IPv4 with exact sequence numbers.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes a microsecond little-endian pcap, one record at a time.
pub struct PcapWriter {
    w: BufWriter<File>,
    pub frames: u64,
}

impl PcapWriter {
    pub fn create(path: &Path, linktype: u32) -> Self {
        let mut w = BufWriter::with_capacity(1 << 20, File::create(path).unwrap());
        w.write_all(&0xa1b2_c3d4u32.to_le_bytes()).unwrap();
        w.write_all(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
        w.write_all(&262_144u32.to_le_bytes()).unwrap();
        w.write_all(&linktype.to_le_bytes()).unwrap();
        Self { w, frames: 0 }
    }

    pub fn frame(&mut self, ts_us: u64, data: &[u8]) {
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&((ts_us / 1_000_000) as u32).to_le_bytes());
        h[4..8].copy_from_slice(&((ts_us % 1_000_000) as u32).to_le_bytes());
        h[8..12].copy_from_slice(&(data.len() as u32).to_le_bytes());
        h[12..16].copy_from_slice(&(data.len() as u32).to_le_bytes());
        self.w.write_all(&h).unwrap();
        self.w.write_all(data).unwrap();
        self.frames += 1;
    }

    pub fn finish(mut self) -> u64 {
        self.w.flush().unwrap();
        self.frames
    }
}

/// Which way a segment goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    ToServer,
    ToClient,
}

/// TCP flags of a generated segment.
pub const SYN: u8 = 0x02;
pub const FIN: u8 = 0x01;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// One TCP connection between 10.0.0.1:client_port and 10.0.0.2:80,
/// written segment by segment. `next[0]`/`next[1]` are the client's and the
/// server's next sequence numbers (absolute, wrapping).
pub struct TcpConv {
    pub out: PcapWriter,
    pub client_port: u16,
    pub next: [u32; 2],
    pub ts_us: u64,
    /// Microseconds between segments.
    pub step_us: u64,
    buf: Vec<u8>,
}

impl TcpConv {
    pub fn new(out: PcapWriter, client_port: u16, client_isn: u32, server_isn: u32) -> Self {
        Self {
            out,
            client_port,
            next: [client_isn, server_isn],
            ts_us: 1_700_000_000_000_000,
            step_us: 10,
            buf: Vec::with_capacity(66_000),
        }
    }

    /// Writes one segment with explicit sequence number, flags and
    /// payload; the acknowledgment is the peer's next sequence number.
    pub fn raw(&mut self, dir: Dir, seq: u32, flags: u8, payload: &[u8]) {
        let (src, dst, sport, dport, ack) = match dir {
            Dir::ToServer => (
                [10, 0, 0, 1],
                [10, 0, 0, 2],
                self.client_port,
                80,
                self.next[1],
            ),
            Dir::ToClient => (
                [10, 0, 0, 2],
                [10, 0, 0, 1],
                80,
                self.client_port,
                self.next[0],
            ),
        };
        self.buf.clear();
        let mut b = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(src, dst, 64)
            .tcp(sport, dport, seq, 65_535);
        if flags & SYN != 0 {
            b = b.syn();
        }
        if flags & FIN != 0 {
            b = b.fin();
        }
        if flags & RST != 0 {
            b = b.rst();
        }
        if flags & PSH != 0 {
            b = b.psh();
        }
        if flags & ACK != 0 {
            b = b.ack(ack);
        }
        b.write(&mut self.buf, payload).unwrap();
        self.ts_us += self.step_us;
        self.out.frame(self.ts_us, &self.buf);
    }

    fn idx(dir: Dir) -> usize {
        match dir {
            Dir::ToServer => 0,
            Dir::ToClient => 1,
        }
    }

    /// SYN, SYN-ACK, ACK.
    pub fn handshake(&mut self) {
        let (c, s) = (self.next[0], self.next[1]);
        self.raw(Dir::ToServer, c, SYN, &[]);
        self.next[0] = c.wrapping_add(1);
        self.raw(Dir::ToClient, s, SYN | ACK, &[]);
        self.next[1] = s.wrapping_add(1);
        self.raw(Dir::ToServer, self.next[0], ACK, &[]);
    }

    /// Sends `data` in order in segments of at most `mss` bytes, the peer
    /// acknowledging every `ack_every` segments (0: never).
    pub fn send(&mut self, dir: Dir, data: &[u8], mss: usize, ack_every: usize) {
        let i = Self::idx(dir);
        for (n, chunk) in data.chunks(mss).enumerate() {
            self.raw(dir, self.next[i], PSH | ACK, chunk);
            self.next[i] = self.next[i].wrapping_add(chunk.len() as u32);
            if ack_every > 0 && (n + 1) % ack_every == 0 {
                self.ack(dir);
            }
        }
    }

    /// The receiver of `dir` acknowledges everything so far.
    pub fn ack(&mut self, dir: Dir) {
        let other = match dir {
            Dir::ToServer => Dir::ToClient,
            Dir::ToClient => Dir::ToServer,
        };
        let s = self.next[Self::idx(other)];
        self.raw(other, s, ACK, &[]);
    }

    /// Client FIN, server FIN, client ACK.
    pub fn close(&mut self) {
        self.raw(Dir::ToServer, self.next[0], FIN | ACK, &[]);
        self.next[0] = self.next[0].wrapping_add(1);
        self.raw(Dir::ToClient, self.next[1], FIN | ACK, &[]);
        self.next[1] = self.next[1].wrapping_add(1);
        self.raw(Dir::ToServer, self.next[0], ACK, &[]);
    }

    /// Another connection in the same capture, after this one.
    pub fn then(self, client_port: u16, client_isn: u32, server_isn: u32) -> Self {
        let mut c = Self::new(self.out, client_port, client_isn, server_isn);
        c.ts_us = self.ts_us;
        c.step_us = self.step_us;
        c
    }

    pub fn finish(self) -> u64 {
        self.out.finish()
    }
}
