//! The dissect stage: replays the read stage's recorded stream callbacks
//! and datagrams into the dissector registry (and the `--follow` tap
//! beside it), puts what came of them beside the packet that produced
//! them, and frees the written batches' records on its own thread.

use std::sync::mpsc::{Receiver, Sender, SyncSender};

use super::{Batch, Item, Product, StreamOp};
use crate::dissect::follow::FollowTap;
use crate::dissect::{Out, Registry};
use crate::event::{Notice, Record};
use crate::source::SharedMap;
use crate::track::StreamConsumer;

/// How batches come back from the output stage: through the dissect stage,
/// which empties them and hands them to the reader. What the dissector
/// allocated is freed on its own thread, a little after each packet it
/// dissects, so the allocator hands the same memory out again at once
/// (freed a whole batch at a time, it would take the slow path).
pub(super) struct Returns {
    written: Receiver<Batch>,
    to_reader: Sender<Batch>,
    /// Written batches being emptied, oldest first.
    emptying: std::collections::VecDeque<Batch>,
}

/// Batches the dissect stage may hold while it empties them.
const EMPTYING: usize = 2;

impl Returns {
    pub(super) fn new(written: Receiver<Batch>, to_reader: Sender<Batch>) -> Self {
        Self {
            written,
            to_reader,
            emptying: Default::default(),
        }
    }

    /// Frees about `n` of the exchanges and notes that are written.
    fn free_some(&mut self, mut n: usize) {
        // The channel is looked at once per batch (n == 0) and when there
        // is nothing left to free, not after every packet.
        if n == 0 || self.emptying.is_empty() {
            self.emptying.extend(self.written.try_iter());
        }
        while self.emptying.len() > EMPTYING {
            self.pass_oldest();
        }
        while n > 0 {
            let Some(b) = self.emptying.front_mut() else {
                return;
            };
            if b.records.pop().is_some() || b.notes.pop().is_some() {
                n -= 1;
            } else {
                self.pass_oldest();
            }
        }
    }

    fn pass_oldest(&mut self) {
        if let Some(mut b) = self.emptying.pop_front() {
            b.clear();
            let _ = self.to_reader.send(b);
        }
    }
}

/// The dissect stage: the dissector registry and the `--follow` tap (which
/// sees every stream's bytes, whatever their protocol).
pub(super) fn run(
    rx: Receiver<Batch>,
    tx: SyncSender<Batch>,
    mut returns: Returns,
    map: Option<SharedMap>,
    mut registry: Registry,
    mut follow: Option<FollowTap>,
) {
    for mut batch in rx {
        returns.free_some(0);
        let Batch {
            bytes,
            items,
            packets,
            notes,
            products,
            records,
            ..
        } = &mut batch;
        let mut out = Products {
            products,
            passed: 0,
        };
        let mut packet = packets.iter_mut();
        // Notes made since the last packet's are the next packet's.
        let mut noted = 0;
        for (at, item) in items.iter().enumerate() {
            match item {
                Item::Stream(ctx, dir, op) => {
                    let mut emit = Out::new(notes, records);
                    match op {
                        StreamOp::Data(span) => {
                            let b = span.get(bytes, map.as_ref());
                            registry.data(ctx, *dir, b, &mut emit);
                            follow.data(ctx, *dir, b);
                        }
                        StreamOp::Gap(n) => {
                            registry.gap(ctx, *dir, *n, &mut emit);
                            follow.gap(ctx, *dir, *n);
                        }
                        StreamOp::End => {
                            registry.end(ctx, *dir, &mut emit);
                            follow.end(ctx, *dir);
                        }
                        StreamOp::Closed => {
                            registry.closed(ctx, &mut emit);
                            follow.closed(ctx);
                        }
                    }
                }
                Item::Datagram(ctx, span) => {
                    let payload = span.get(bytes, map.as_ref());
                    registry.datagram(ctx, payload, &mut Out::new(notes, records));
                }
                Item::Packet => {
                    if let Some(p) = packet.next() {
                        p.notes = noted..notes.len();
                    }
                    noted = notes.len();
                    out.follow(at, &mut follow);
                    out.records(at, records);
                    returns.free_some(2);
                }
                Item::FinishStep | Item::InputEnd => {
                    if matches!(item, Item::InputEnd) {
                        registry.input_end(&mut Out::new(notes, records));
                    }
                    // Notes with no packet to stand beside become notices.
                    out.follow(at, &mut follow);
                    for n in notes.drain(noted..) {
                        out.products.push((at, Product::Notice(Notice::Http(n))));
                    }
                    out.records(at, records);
                    returns.free_some(2);
                }
                _ => {}
            }
        }
        if tx.send(batch).is_err() {
            return;
        }
    }
}

/// Where the dissect stage puts what it made.
struct Products<'b> {
    products: &'b mut Vec<(usize, Product)>,
    /// Records given a marker so far.
    passed: usize,
}

impl Products<'_> {
    /// After item `at`: the chunks followed since the last call.
    fn follow(&mut self, at: usize, follow: &mut Option<FollowTap>) {
        if let Some(tap) = follow.as_mut() {
            self.products
                .extend(tap.drain().map(|c| (at, Product::Follow(c))));
        }
    }

    /// After item `at`: the records made since the last call.
    fn records(&mut self, at: usize, records: &[Record]) {
        for _ in self.passed..records.len() {
            self.products.push((at, Product::Record));
        }
        self.passed = records.len();
    }
}
