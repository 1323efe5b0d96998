//! The retransmission ring: the last segments one side sent, so a
//! retransmission can name the frame it repeats.

/// Recent segments a sender transmitted, to name the original of a
/// retransmission: (seq, frame, ts). A small ring, never allocated.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Recent {
    slots: [(u32, u64, i64); 16],
    next: usize,
    used: usize,
}

impl Recent {
    pub(super) fn push(&mut self, seq: u32, frame: u64, ts: i64) {
        if let Some(slot) = self.slots.get_mut(self.next) {
            *slot = (seq, frame, ts);
        }
        self.next = (self.next + 1) % self.slots.len();
        self.used = (self.used + 1).min(self.slots.len());
    }

    /// The earliest recent segment that started at `seq`.
    pub(super) fn find(&self, seq: u32) -> Option<(u64, i64)> {
        self.slots
            .iter()
            .take(self.used)
            .filter(|(s, _, _)| *s == seq)
            .map(|&(_, f, t)| (f, t))
            .min_by_key(|&(f, _)| f)
    }
}
