//! A TCP header's options as tcpdump reads them, in wire order: a list of
//! fixed size (options take at most 40 bytes) that the decoder fills and
//! the outputs walk, so nothing downstream reads option bytes.

use super::packet::ByteRange;

/// How many items a TCP option list holds. Options take at most 40
/// bytes; every item but a run of NOPs or the final EOL takes two or more,
/// and two runs of NOPs are never next to each other, so 40 bytes make at
/// most 27 items (NOP, a 2-byte option, NOP, … EOL).
const OPTION_ITEMS: usize = 27;
/// Values held for the items: one for an MSS or a window scale, two for
/// timestamps and for each SACK block. The most 40 bytes can ask for is 13
/// (thirteen 3-byte window scales).
const OPTION_WORDS: usize = 13;

/// A TCP header's options in wire order, as tcpdump reads them: up to
/// where it stops (an EOL, or an option it cannot read). Built by the
/// decoder ([`TcpOptionList::push`]); read with [`TcpOptionList::iter`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpOptionList {
    /// Where the options start in the frame (other kinds' bodies are
    /// ranges of the frame).
    start: u16,
    /// (kind, length) per item; a run of NOPs is (1, count), an EOL (0, 1).
    items: [(u8, u8); OPTION_ITEMS],
    n: u8,
    /// The items' values, in item order.
    words: [u32; OPTION_WORDS],
    n_words: u8,
    /// The list ends in an option tcpdump cannot read (`[bad opt]`).
    bad: bool,
}

/// One TCP option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpOption<'a> {
    Eol,
    Nop,
    Mss {
        value: u16,
        len: u8,
    },
    WindowScale {
        shift: u8,
        len: u8,
    },
    SackPermitted {
        len: u8,
    },
    /// The blocks, or `None` when the length is not 2 + 8·n.
    Sack {
        blocks: Option<SackBlocks<'a>>,
        len: u8,
    },
    Timestamp {
        val: u32,
        ecr: u32,
        len: u8,
    },
    /// Any other kind; its body (`len` − 2 bytes) is a range of the frame.
    Other {
        kind: u8,
        len: u8,
        body: ByteRange,
    },
    /// An option that cannot be read (too short for its kind, or a length
    /// that does not fit): the list ends here.
    Bad,
}

/// SACK blocks: (left edge, right edge) pairs, absolute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SackBlocks<'a>(&'a [u32]);

impl<'a> SackBlocks<'a> {
    /// Blocks from their edges, left and right in turn (an odd last edge
    /// is left out).
    pub fn new(edges: &'a [u32]) -> Self {
        Self(&edges[..edges.len() / 2 * 2])
    }

    pub fn len(&self) -> usize {
        self.0.len() / 2
    }

    pub fn is_empty(&self) -> bool {
        self.0.len() < 2
    }

    pub fn iter(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.0.chunks_exact(2).map(|c| (c[0], c[1]))
    }
}

impl TcpOptionList {
    /// An empty list for options starting at `start` in the frame.
    pub const fn new(start: u16) -> Self {
        Self {
            start,
            items: [(0, 0); OPTION_ITEMS],
            n: 0,
            words: [0; OPTION_WORDS],
            n_words: 0,
            bad: false,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0 && !self.bad
    }

    /// Makes an empty list NOP, NOP, timestamps (what most segments of a
    /// connection with timestamps carry), without the general steps.
    pub fn set_nop_nop_timestamp(&mut self, val: u32, ecr: u32) {
        self.items[0] = (1, 2);
        self.items[1] = (8, 10);
        self.words[0] = val;
        self.words[1] = ecr;
        self.n = 2;
        self.n_words = 2;
        self.bad = false;
    }

    /// Appends an option;
    /// false when the list has no room (which 40 bytes of options cannot
    /// cause) or has ended.
    #[inline]
    pub fn push(&mut self, opt: TcpOption<'_>) -> bool {
        if self.bad {
            return false;
        }
        match opt {
            TcpOption::Eol => self.item(0, 1, &[]),
            TcpOption::Nop => match self.last_item() {
                Some((1, run)) if *run < u8::MAX => {
                    *run += 1;
                    true
                }
                _ => self.item(1, 1, &[]),
            },
            TcpOption::Mss { value, len } => self.item(2, len, &[u32::from(value)]),
            TcpOption::WindowScale { shift, len } => self.item(3, len, &[u32::from(shift)]),
            TcpOption::SackPermitted { len } => self.item(4, len, &[]),
            TcpOption::Sack { blocks, len } => {
                // The blocks are there exactly when the length is
                // 2 + 8·n, all n of them (the list reads them so).
                let body = usize::from(len).wrapping_sub(2);
                let words = blocks.map_or(&[][..], |b| b.0);
                let whole = len >= 2 && body % 8 == 0;
                if whole != blocks.is_some() || (whole && words.len() * 4 != body) {
                    return false;
                }
                self.item(5, len, words)
            }
            TcpOption::Timestamp { val, ecr, len } => self.item(8, len, &[val, ecr]),
            TcpOption::Other { kind, len, .. } => self.item(kind, len, &[]),
            TcpOption::Bad => {
                self.bad = true;
                true
            }
        }
    }

    fn last_item(&mut self) -> Option<&mut (u8, u8)> {
        let last = usize::from(self.n).checked_sub(1)?;
        self.items.get_mut(last)
    }

    fn item(&mut self, kind: u8, len: u8, words: &[u32]) -> bool {
        let n = usize::from(self.n);
        let w = usize::from(self.n_words);
        let (Some(slot), Some(dst)) = (
            self.items.get_mut(n),
            self.words.get_mut(w..w + words.len()),
        ) else {
            return false;
        };
        *slot = (kind, len);
        dst.copy_from_slice(words);
        self.n += 1;
        self.n_words += words.len() as u8;
        true
    }

    /// The options in wire order.
    pub fn iter(&self) -> TcpOptionIter<'_> {
        TcpOptionIter {
            list: self,
            item: 0,
            nops_left: 0,
            word: 0,
            at: 0,
            bad_done: false,
        }
    }
}

/// Walks a [`TcpOptionList`].
pub struct TcpOptionIter<'a> {
    list: &'a TcpOptionList,
    item: usize,
    /// NOPs of the current run still to give.
    nops_left: u8,
    word: usize,
    /// Offset of the next item from the first option byte.
    at: usize,
    bad_done: bool,
}

impl<'a> Iterator for TcpOptionIter<'a> {
    type Item = TcpOption<'a>;

    fn next(&mut self) -> Option<TcpOption<'a>> {
        if self.nops_left > 0 {
            self.nops_left -= 1;
            return Some(TcpOption::Nop);
        }
        let list = self.list;
        let item = list
            .items
            .get(self.item)
            .filter(|_| self.item < usize::from(list.n));
        let Some(&(kind, len)) = item else {
            if list.bad && !self.bad_done {
                self.bad_done = true;
                return Some(TcpOption::Bad);
            }
            return None;
        };
        self.item += 1;
        let at = self.at;
        self.at += usize::from(len);
        let mut take = |n: usize| {
            let w = list.words.get(self.word..self.word + n).unwrap_or(&[]);
            self.word += w.len();
            w
        };
        let word = |w: &[u32], i: usize| w.get(i).copied().unwrap_or(0);
        Some(match kind {
            0 => TcpOption::Eol,
            1 => {
                self.nops_left = len.saturating_sub(1);
                TcpOption::Nop
            }
            2 => TcpOption::Mss {
                value: word(take(1), 0) as u16,
                len,
            },
            3 => TcpOption::WindowScale {
                shift: word(take(1), 0) as u8,
                len,
            },
            4 => TcpOption::SackPermitted { len },
            5 => {
                let body = usize::from(len).saturating_sub(2);
                TcpOption::Sack {
                    blocks: (body % 8 == 0).then(|| SackBlocks(take(body / 4))),
                    len,
                }
            }
            8 => {
                let w = take(2);
                TcpOption::Timestamp {
                    val: word(w, 0),
                    ecr: word(w, 1),
                    len,
                }
            }
            kind => TcpOption::Other {
                kind,
                len,
                body: ByteRange {
                    start: list.start.saturating_add((at + 2) as u16),
                    len: len.saturating_sub(2),
                },
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_come_back_in_wire_order() {
        let mut l = TcpOptionList::new(54);
        let sack = [10, 20, 30, 40];
        assert!(l.push(TcpOption::Mss {
            value: 1460,
            len: 4
        }));
        assert!(l.push(TcpOption::Nop));
        assert!(l.push(TcpOption::Nop));
        assert!(l.push(TcpOption::Sack {
            blocks: Some(SackBlocks::new(&sack)),
            len: 18
        }));
        assert!(l.push(TcpOption::Timestamp {
            val: 7,
            ecr: 8,
            len: 10
        }));
        assert!(l.push(TcpOption::Other {
            kind: 99,
            len: 4,
            body: ByteRange::default()
        }));
        assert!(l.push(TcpOption::WindowScale { shift: 7, len: 3 }));
        assert!(l.push(TcpOption::Sack {
            blocks: None,
            len: 5
        }));
        // Blocks that do not match the length are refused.
        let one = [1, 2];
        for (blocks, len) in [(None, 10), (Some(SackBlocks::new(&one)), 18)] {
            assert!(!l.push(TcpOption::Sack { blocks, len }));
        }
        assert!(l.push(TcpOption::Bad));
        assert!(!l.push(TcpOption::Nop), "nothing after the end");
        let got: Vec<_> = l.iter().collect();
        assert_eq!(got.len(), 9);
        assert_eq!(
            got[..3],
            [
                TcpOption::Mss {
                    value: 1460,
                    len: 4
                },
                TcpOption::Nop,
                TcpOption::Nop
            ]
        );
        let TcpOption::Sack {
            blocks: Some(b),
            len: 18,
        } = got[3]
        else {
            panic!("{:?}", got[3])
        };
        assert_eq!(b.iter().collect::<Vec<_>>(), [(10, 20), (30, 40)]);
        assert_eq!(
            got[4],
            TcpOption::Timestamp {
                val: 7,
                ecr: 8,
                len: 10
            }
        );
        // 4 (mss) + 2 (nops) + 18 (sack) + 10 (ts) bytes come before it.
        assert_eq!(
            got[5],
            TcpOption::Other {
                kind: 99,
                len: 4,
                body: ByteRange {
                    start: 54 + 34 + 2,
                    len: 2
                }
            }
        );
        assert_eq!(got[6], TcpOption::WindowScale { shift: 7, len: 3 });
        assert_eq!(
            got[7],
            TcpOption::Sack {
                blocks: None,
                len: 5
            }
        );
        assert_eq!(got[8], TcpOption::Bad);
    }

    #[test]
    fn a_list_has_room_for_the_busiest_forty_bytes() {
        // NOP, sackOK, NOP, sackOK, … then EOL: 27 items.
        let mut l = TcpOptionList::new(0);
        for _ in 0..13 {
            assert!(l.push(TcpOption::Nop));
            assert!(l.push(TcpOption::SackPermitted { len: 2 }));
        }
        assert!(l.push(TcpOption::Eol));
        assert_eq!(l.iter().count(), 27);
        // Thirteen window scales: 13 values.
        let mut l = TcpOptionList::new(0);
        for shift in 0..13 {
            assert!(l.push(TcpOption::WindowScale { shift, len: 3 }));
        }
        let shifts: Vec<_> = l
            .iter()
            .map(|o| match o {
                TcpOption::WindowScale { shift, .. } => shift,
                _ => panic!(),
            })
            .collect();
        assert_eq!(shifts, (0..13).collect::<Vec<_>>());
    }

    #[test]
    fn long_nop_runs_are_counted_exactly() {
        let mut l = TcpOptionList::new(0);
        for _ in 0..40 {
            assert!(l.push(TcpOption::Nop));
        }
        assert_eq!(l.iter().filter(|o| *o == TcpOption::Nop).count(), 40);
        assert_eq!(l.n, 1);
    }
}
