//! No heap allocation per packet on the tracking path in steady state: a
//! counting global allocator watches `Tracker::process` over many in-order
//! packets of established connections (after a warm-up that creates the
//! connections and grows the table) and must see zero allocations. The
//! counter is per thread, so the test harness's own threads do not count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::IpAddr;

mod support;

use support::api::{
    Direction, Limits, NoConsumer, StreamConsumer, StreamCtx, TcpFlags, TcpMeta, TcpOptions,
    Tracker,
};

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: defers to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(|c| c.get())
}

/// Counts what it is given, without allocating (a consumer must see the
/// bytes: in-order data is handed on straight from the packet).
#[derive(Default)]
struct Bytes(u64);

impl StreamConsumer for Bytes {
    fn data(&mut self, _: &StreamCtx, _: Direction, b: &[u8]) {
        self.0 += b.len() as u64;
    }
    fn gap(&mut self, _: &StreamCtx, _: Direction, _: u64) {}
    fn end(&mut self, _: &StreamCtx, _: Direction) {}
    fn closed(&mut self, _: &StreamCtx) {}
}

const CONNS: u16 = 64;
const MSS: u32 = 1448;

struct Feed {
    t: Tracker,
    frame: u64,
    ts: i64,
    next_seq: Vec<u32>,
    client: IpAddr,
    server: IpAddr,
}

impl Feed {
    #[allow(clippy::too_many_arguments)]
    fn packet<C: StreamConsumer>(
        &mut self,
        conn: u16,
        from_client: bool,
        seq: u32,
        ack: u32,
        flags: u16,
        data: &[u8],
        c: &mut C,
    ) {
        self.frame += 1;
        // 1 ms apart: the measured stretch spans several idle sweeps.
        self.ts += 1_000_000;
        let (src, dst, sport, dport) = if from_client {
            (self.client, self.server, 40000 + conn, 80)
        } else {
            (self.server, self.client, 80, 40000 + conn)
        };
        let m = TcpMeta {
            src,
            dst,
            sport,
            dport,
            seq,
            ack,
            flags: TcpFlags(flags),
            window: 65535,
            options: TcpOptions::default(),
            payload: data,
            payload_len: data.len() as u32,
        };
        let info = self.t.process(self.frame, self.ts, &m, c);
        assert!(
            info.verdict.flags.is_empty(),
            "frame {}: {:?}",
            self.frame,
            info.verdict
        );
        // As the pipeline does after every packet.
        self.t.drain_events().for_each(drop);
    }

    /// One round: every connection sends a full segment and gets it
    /// acknowledged.
    fn round<C: StreamConsumer>(&mut self, data: &[u8], c: &mut C) {
        for conn in 0..CONNS {
            let seq = self.next_seq[conn as usize];
            self.packet(conn, true, seq, 1, TcpFlags::ACK | TcpFlags::PSH, data, c);
            self.next_seq[conn as usize] = seq.wrapping_add(MSS);
            self.packet(conn, false, 1, seq.wrapping_add(MSS), TcpFlags::ACK, b"", c);
        }
    }
}

#[test]
fn steady_state_tracking_does_not_allocate() {
    let data = vec![b'x'; MSS as usize];
    let mut consumer = Bytes::default();
    let mut f = Feed {
        t: Tracker::new(Limits::default()),
        frame: 0,
        ts: 1_000_000_000,
        // Start near the top of sequence space: wraparound on the way.
        next_seq: vec![0; CONNS as usize],
        client: "10.0.0.1".parse().unwrap(),
        server: "10.0.0.2".parse().unwrap(),
    };
    // Warm-up: handshakes (these allocate: table entries) and some data.
    for conn in 0..CONNS {
        let isn = u32::MAX - 10 * MSS;
        f.packet(conn, true, isn, 0, TcpFlags::SYN, b"", &mut consumer);
        f.packet(
            conn,
            false,
            0,
            isn.wrapping_add(1),
            TcpFlags::SYN | TcpFlags::ACK,
            b"",
            &mut consumer,
        );
        f.packet(
            conn,
            true,
            isn.wrapping_add(1),
            1,
            TcpFlags::ACK,
            b"",
            &mut consumer,
        );
        f.next_seq[conn as usize] = isn.wrapping_add(1);
    }
    for _ in 0..20 {
        f.round(&data, &mut consumer);
    }
    let before = allocs();
    let frames_before = f.frame;
    for _ in 0..200 {
        f.round(&data, &mut consumer);
    }
    let counted = allocs() - before;
    let packets = f.frame - frames_before;
    assert_eq!(packets, 200 * 2 * u64::from(CONNS));
    assert_eq!(
        counted, 0,
        "{counted} allocations over {packets} steady-state packets"
    );
    // The data really went through the reassembler to the consumer.
    assert_eq!(consumer.0, 220 * u64::from(CONNS) * u64::from(MSS));

    // The counter itself works: a connection end allocates its record.
    let before = allocs();
    f.t.finish(&mut NoConsumer);
    assert!(allocs() > before, "the counting allocator sees allocations");
}
