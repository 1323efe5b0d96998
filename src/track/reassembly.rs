//! One direction of a TCP connection turned back into an ordered byte
//! stream.
//!
//! In-order data is handed on straight from the packet (no copy).
//! Segments that arrive ahead of a hole are copied and held until the hole
//! fills, the receiver acknowledges past it (the data was sent but not
//! captured), the direction ends, or the buffer limit is hit; in the last
//! three cases the consumer is told how many bytes are missing and the
//! stream continues after them. Retransmitted and overlapping bytes keep
//! the first copy seen (Wireshark's rule).
//!
//! Positions are 64-bit offsets from the start of the direction's stream,
//! so sequence-number wraparound needs no special case.

use std::collections::BTreeMap;

use super::seq;

/// What the reassembler hands to its consumer.
pub trait Deliver {
    fn data(&mut self, bytes: &[u8]);
    fn gap(&mut self, missing: u64);
}

/// Memory a held segment costs beyond its bytes (tree node, vector
/// header, allocator overhead), counted toward the buffer limits so that a
/// flood of one-byte out-of-order segments is bounded too.
pub const HELD_OVERHEAD: usize = 64;

/// Why buffered data was given up waiting for a hole to fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapCause {
    /// The receiver acknowledged bytes that were never captured.
    AckedUnseen,
    /// The per-direction or global buffer limit was reached.
    BufferLimit,
    /// The direction ended (FIN, RST, end of input) with the hole open.
    StreamEnd,
    /// The capture holds only part of a segment (snapshot length).
    Truncated,
}

#[derive(Debug, Default)]
pub struct Reassembler {
    /// Sequence number of the next byte to deliver; `None` until the
    /// direction's start is known.
    next_seq: Option<u32>,
    /// Stream offset of `next_seq`.
    next_pos: u64,
    /// Held segments by stream offset (non-overlapping, first copy wins).
    pending: BTreeMap<u64, Vec<u8>>,
    buffered: usize,
    /// Set after FIN or RST: nothing more is delivered.
    closed: bool,
    pub delivered: u64,
    pub missing: u64,
}

impl Reassembler {
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    pub fn is_started(&self) -> bool {
        self.next_seq.is_some()
    }

    /// True when every byte before `seq_no` has been delivered and nothing
    /// is held (or nothing was ever seen).
    pub fn caught_up_to(&self, seq_no: u32) -> bool {
        self.pending.is_empty() && self.next_seq.is_none_or(|n| seq::ge(n, seq_no))
    }

    /// The SYN fixes the start: data begins at `isn + 1`.
    pub fn on_syn(&mut self, isn: u32) {
        if self.next_seq.is_none() {
            self.next_seq = Some(isn.wrapping_add(1));
        }
    }

    /// A data segment. `captured` may be shorter than `wire_len` (snapshot
    /// length); the rest counts as missing. Returns the number of bytes of
    /// this segment that were new (not seen before).
    pub fn segment<D: Deliver>(
        &mut self,
        seq_no: u32,
        captured: &[u8],
        wire_len: u32,
        limit: usize,
        out: &mut D,
    ) -> Result<(), GapCause> {
        if self.closed || wire_len == 0 {
            return Ok(());
        }
        let next = *self.next_seq.get_or_insert(seq_no);
        let rel = seq::diff(seq_no, next);
        let start = self.next_pos as i64 + rel;
        let end = start + i64::from(wire_len);
        if end <= self.next_pos as i64 {
            return Ok(()); // entirely old data: a retransmission
        }
        let cap_end = start + captured.len() as i64;
        let mut result = Ok(());
        if start <= self.next_pos as i64 {
            // Starts at or before the next byte: deliver the new part now.
            let skip = (self.next_pos as i64 - start) as usize;
            if let Some(fresh) = captured.get(skip..) {
                if !fresh.is_empty() {
                    self.advance_with(fresh, out);
                }
            }
            if cap_end < end {
                // Snaplen cut the segment: the rest is a hole we know of.
                let missing = (end - (self.next_pos as i64)).max(0) as u64;
                if missing > 0 {
                    self.skip(missing, out);
                    result = Err(GapCause::Truncated);
                }
            }
            self.drain(out);
        } else {
            self.hold(start as u64, captured, limit);
            if cap_end < end {
                // A truncated out-of-order segment: hold what we have; the
                // hole after it is found when delivery reaches it.
            }
            if self.buffered > limit {
                self.force_gap(limit, out);
                result = Err(GapCause::BufferLimit);
            }
        }
        result
    }

    /// The peer acknowledged up to `ack`: anything before it that never
    /// arrived will not come any more.
    pub fn acked<D: Deliver>(&mut self, ack: u32, out: &mut D) -> bool {
        let Some(next) = self.next_seq else {
            return false;
        };
        if self.closed || !seq::gt(ack, next) || self.pending.is_empty() {
            return false;
        }
        let acked_pos = self.next_pos + seq::diff(ack, next).max(0) as u64;
        let Some((&first, _)) = self.pending.iter().next() else {
            return false;
        };
        if first > acked_pos {
            return false;
        }
        // The hole before the first held segment is acknowledged: skip it.
        self.skip(first - self.next_pos, out);
        self.drain(out);
        true
    }

    /// The direction ends (FIN or RST or end of input): flush what is held,
    /// reporting holes. Returns true if a hole was reported.
    pub fn finish<D: Deliver>(&mut self, out: &mut D) -> bool {
        let mut gap = false;
        while let Some((&pos, _)) = self.pending.iter().next() {
            if pos > self.next_pos {
                self.skip(pos - self.next_pos, out);
                gap = true;
            }
            self.drain(out);
        }
        self.closed = true;
        gap
    }

    /// Gives up on holes, first to last, until what is held fits in
    /// `limit` again. One hole is not enough: if it frees only a small
    /// segment while a large one waits behind the next hole, the buffer
    /// would stay over the limit and grow with every such segment.
    fn force_gap<D: Deliver>(&mut self, limit: usize, out: &mut D) {
        while self.buffered > limit {
            let Some((&pos, _)) = self.pending.iter().next() else {
                break;
            };
            if pos > self.next_pos {
                self.skip(pos - self.next_pos, out);
            }
            self.drain(out);
        }
    }

    fn skip<D: Deliver>(&mut self, n: u64, out: &mut D) {
        out.gap(n);
        self.missing += n;
        self.next_pos += n;
        if let Some(s) = self.next_seq.as_mut() {
            *s = s.wrapping_add(n as u32);
        }
    }

    fn advance_with<D: Deliver>(&mut self, bytes: &[u8], out: &mut D) {
        out.data(bytes);
        self.delivered += bytes.len() as u64;
        self.next_pos += bytes.len() as u64;
        if let Some(s) = self.next_seq.as_mut() {
            *s = s.wrapping_add(bytes.len() as u32);
        }
    }

    /// Delivers held segments that are now contiguous.
    fn drain<D: Deliver>(&mut self, out: &mut D) {
        while let Some(entry) = self.pending.first_entry() {
            let pos = *entry.key();
            if pos > self.next_pos {
                break;
            }
            let bytes = entry.remove();
            self.buffered -= bytes.len() + HELD_OVERHEAD;
            let skip = (self.next_pos - pos) as usize;
            if let Some(fresh) = bytes.get(skip..) {
                if !fresh.is_empty() {
                    self.advance_with(fresh, out);
                }
            }
        }
    }

    /// Stores the parts of [pos, pos+len) not already held (first copy wins).
    fn hold(&mut self, pos: u64, bytes: &[u8], limit: usize) {
        let end = pos + bytes.len() as u64;
        let mut cur = pos;
        // Held segments never overlap, so only the one starting before
        // `pos` and those starting inside [pos, end) can overlap the new one.
        let mut spans: Vec<(u64, u64)> = Vec::new();
        if let Some((&p, b)) = self.pending.range(..pos).next_back() {
            if p + b.len() as u64 > pos {
                spans.push((p, p + b.len() as u64));
            }
        }
        spans.extend(
            self.pending
                .range(pos..end)
                .map(|(&p, b)| (p, p + b.len() as u64)),
        );
        for (s, e) in spans {
            if s > cur {
                let part = bytes.get((cur - pos) as usize..(s - pos) as usize);
                self.insert(cur, part.unwrap_or_default(), limit);
            }
            cur = cur.max(e);
        }
        if cur < end {
            self.insert(
                cur,
                bytes.get((cur - pos) as usize..).unwrap_or_default(),
                limit,
            );
        }
    }

    fn insert(&mut self, pos: u64, bytes: &[u8], _limit: usize) {
        if bytes.is_empty() {
            return;
        }
        self.buffered += bytes.len() + HELD_OVERHEAD;
        self.pending.insert(pos, bytes.to_vec());
    }

    /// Stops accepting data (after the direction is torn down).
    pub fn close(&mut self) {
        self.closed = true;
    }

    /// Releases held segments without delivering them (eviction).
    pub fn clear(&mut self) -> usize {
        let n = self.buffered;
        self.pending.clear();
        self.buffered = 0;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Default)]
    struct Collect {
        bytes: Vec<u8>,
        gaps: Vec<(usize, u64)>,
    }

    impl Deliver for Collect {
        fn data(&mut self, bytes: &[u8]) {
            self.bytes.extend_from_slice(bytes);
        }
        fn gap(&mut self, missing: u64) {
            self.gaps.push((self.bytes.len(), missing));
            self.bytes.extend(std::iter::repeat_n(0, missing as usize));
        }
    }

    const LIMIT: usize = 1 << 20;

    #[test]
    fn in_order_and_reordered() {
        let mut r = Reassembler::default();
        let mut c = Collect::default();
        r.on_syn(999);
        r.segment(1000, b"hello ", 6, LIMIT, &mut c).unwrap();
        r.segment(1011, b"!", 1, LIMIT, &mut c).unwrap();
        assert_eq!(c.bytes, b"hello ");
        assert_eq!(r.buffered(), 1 + HELD_OVERHEAD);
        r.segment(1006, b"world", 5, LIMIT, &mut c).unwrap();
        assert_eq!(c.bytes, b"hello world!");
        assert_eq!(r.buffered(), 0);
    }

    #[test]
    fn first_copy_wins_on_overlap() {
        let mut r = Reassembler::default();
        let mut c = Collect::default();
        r.on_syn(0);
        r.segment(5, b"EFGH", 4, LIMIT, &mut c).unwrap();
        r.segment(3, b"xxxxzzz", 7, LIMIT, &mut c).unwrap(); // 3..10: 5..9 held already
        r.segment(1, b"AB", 2, LIMIT, &mut c).unwrap();
        assert_eq!(c.bytes, b"ABxxEFGHz");
    }

    #[test]
    fn wraparound() {
        let mut r = Reassembler::default();
        let mut c = Collect::default();
        r.on_syn(u32::MAX - 2);
        r.segment(u32::MAX - 1, b"ab", 2, LIMIT, &mut c).unwrap();
        r.segment(1, b"de", 2, LIMIT, &mut c).unwrap();
        r.segment(0, b"c", 1, LIMIT, &mut c).unwrap();
        assert_eq!(c.bytes, b"abcde");
    }

    #[test]
    fn ack_past_hole_reports_gap() {
        let mut r = Reassembler::default();
        let mut c = Collect::default();
        r.on_syn(0);
        r.segment(1, b"abc", 3, LIMIT, &mut c).unwrap();
        r.segment(10, b"XYZ", 3, LIMIT, &mut c).unwrap();
        assert!(r.acked(13, &mut c));
        assert_eq!(c.gaps, vec![(3, 6)]);
        assert_eq!(&c.bytes[9..], b"XYZ");
    }

    #[test]
    fn truncated_segment_is_a_gap() {
        let mut r = Reassembler::default();
        let mut c = Collect::default();
        r.on_syn(0);
        assert_eq!(
            r.segment(1, b"ab", 10, LIMIT, &mut c),
            Err(GapCause::Truncated)
        );
        assert_eq!(c.gaps, vec![(2, 8)]);
        r.segment(11, b"next", 4, LIMIT, &mut c).unwrap();
        assert_eq!(&c.bytes[10..], b"next");
    }

    #[test]
    fn buffer_limit_forces_gap() {
        let mut r = Reassembler::default();
        let mut c = Collect::default();
        r.on_syn(0);
        assert_eq!(
            r.segment(101, &[7; 64], 64, 32, &mut c),
            Err(GapCause::BufferLimit)
        );
        assert_eq!(c.gaps, vec![(0, 100)]);
        assert_eq!(r.buffered(), 0);
        assert_eq!(c.bytes.len(), 164);
    }

    #[test]
    fn buffer_limit_gives_up_as_many_holes_as_it_takes() {
        // Small segments each after a one-byte hole fill the buffer; a
        // large one far ahead must not stay held over the limit because
        // giving up the first hole freed only a small one.
        let limit = 10 * (1 + HELD_OVERHEAD);
        let mut r = Reassembler::default();
        let mut c = Collect::default();
        r.on_syn(0);
        for i in 0..10u32 {
            r.segment(2 + 2 * i, b"s", 1, limit, &mut c).unwrap();
        }
        assert_eq!(r.buffered(), limit);
        for k in 0..5u32 {
            assert_eq!(
                r.segment(1000 + 600 * k, &[b'L'; 500], 500, limit, &mut c),
                Err(GapCause::BufferLimit)
            );
            assert!(r.buffered() <= limit, "{} held", r.buffered());
        }
        // The large segments still reach the stream, after their holes.
        r.finish(&mut c);
        assert_eq!(c.bytes.len(), 999 + 600 * 4 + 500);
        assert_eq!(c.bytes.iter().filter(|&&b| b == b'L').count(), 2500);
        assert_eq!(c.bytes.iter().filter(|&&b| b == b's').count(), 10);
    }

    proptest! {
        /// Any cutting, reordering, duplication and overlap of a stream
        /// reassembles to the stream itself.
        #[test]
        fn reassembles_any_order(
            data in proptest::collection::vec(any::<u8>(), 1..2000),
            cuts in proptest::collection::vec((0usize..2000, 1usize..300), 1..60),
            isn in any::<u32>(),
            order in any::<u64>(),
        ) {
            let n = data.len();
            let mut segs: Vec<(usize, usize)> = cuts.iter().map(|&(s, l)| (s % n, (s % n + l).min(n))).collect();
            // Make sure every byte is covered at least once.
            let mut pos = 0;
            while pos < n {
                let end = (pos + 97).min(n);
                segs.push((pos, end));
                pos = end;
            }
            // Deterministic shuffle.
            let mut state = order | 1;
            for i in (1..segs.len()).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                segs.swap(i, (state % (i as u64 + 1)) as usize);
            }
            let mut r = Reassembler::default();
            let mut c = Collect::default();
            r.on_syn(isn);
            for (s, e) in segs {
                let seq_no = isn.wrapping_add(1).wrapping_add(s as u32);
                r.segment(seq_no, &data[s..e], (e - s) as u32, LIMIT, &mut c).unwrap();
            }
            r.finish(&mut c);
            prop_assert!(c.gaps.is_empty());
            prop_assert_eq!(c.bytes, data);
        }

        /// With segments removed, exactly the missing ranges are reported
        /// as gaps, at the right places, whatever the order, duplication
        /// and overlap of the segments that did arrive.
        #[test]
        fn gaps_are_exact(
            data in proptest::collection::vec(any::<u8>(), 10..3000),
            lens in proptest::collection::vec(1usize..200, 1..40),
            drop_mask in any::<u64>(),
            dups in proptest::collection::vec((any::<u16>(), any::<u16>(), any::<u16>()), 0..10),
            isn in any::<u32>(),
            order in any::<u64>(),
        ) {
            let n = data.len();
            let mut segs = Vec::new();
            let mut pos = 0;
            let mut i = 0;
            while pos < n {
                let end = (pos + lens[i % lens.len()]).min(n);
                segs.push((pos, end));
                pos = end;
                i += 1;
            }
            let last = segs.len() - 1;
            let kept: Vec<(usize, usize)> = segs
                .iter()
                .enumerate()
                .filter(|(i, _)| *i == last || drop_mask >> (i % 64) & 1 == 0)
                .map(|(_, s)| *s)
                .collect();
            // Duplicates and overlapping pieces of segments that arrived.
            let mut arrivals = kept.clone();
            for &(k, a, b) in &dups {
                let (s, e) = kept[k as usize % kept.len()];
                let len = e - s;
                let from = s + a as usize % len;
                let to = (from + 1 + b as usize % len).min(e);
                arrivals.push((from, to));
            }
            let mut state = order | 1;
            for i in (1..arrivals.len()).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                arrivals.swap(i, (state % (i as u64 + 1)) as usize);
            }
            let mut r = Reassembler::default();
            let mut c = Collect::default();
            r.on_syn(isn);
            for (s, e) in arrivals {
                r.segment(isn.wrapping_add(1).wrapping_add(s as u32), &data[s..e], (e - s) as u32, LIMIT, &mut c).unwrap();
            }
            r.finish(&mut c);
            // Expected gaps: maximal runs of bytes no kept segment covers.
            let mut covered = vec![false; n];
            for &(s, e) in &kept {
                covered[s..e].iter_mut().for_each(|b| *b = true);
            }
            let mut expected = Vec::new();
            let mut i = 0;
            while i < n {
                if !covered[i] {
                    let start = i;
                    while i < n && !covered[i] { i += 1; }
                    expected.push((start, (i - start) as u64));
                } else {
                    i += 1;
                }
            }
            prop_assert_eq!(&c.gaps, &expected);
            prop_assert_eq!(c.bytes.len(), n);
            prop_assert_eq!(r.missing, expected.iter().map(|g| g.1).sum::<u64>());
            for &(s, e) in &kept {
                prop_assert_eq!(&c.bytes[s..e], &data[s..e]);
            }
            prop_assert_eq!(r.buffered(), 0);
        }
    }
}
