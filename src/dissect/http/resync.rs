//! Finding the next plausible message start in bytes that are not HTTP
//! (junk, a connection joined mid-way, what follows a capture gap or a
//! broken head), keeping a possible start cut by a segment's end.

use super::conn::{http_dir, Act, Conn, Out};
use super::head::find_start;
use super::side::{At, State};
use crate::event::{Direction, HttpAnomaly, Snippet};
use crate::track::StreamCtx;

/// Longest possible message start kept across segments while resyncing.
pub(super) const MAX_CARRY: usize = 8 * 1024;

impl Conn {
    pub(super) fn resync(&mut self, ctx: &StreamCtx, dir: Direction, data: &[u8]) -> Act {
        let want = if self.http {
            Some(self.kind_of(dir))
        } else {
            None
        };
        let side = self.side(dir);
        if side.carry.is_empty() {
            match find_start(data, want) {
                Some((p, true)) => {
                    side.skip(data.get(..p).unwrap_or_default());
                    side.state = State::Start;
                    Act::Consumed(p)
                }
                Some((p, false)) => {
                    side.skip(data.get(..p).unwrap_or_default());
                    let cand = data.get(p..).unwrap_or_default();
                    let keep = cand.len().saturating_sub(MAX_CARRY);
                    side.skip(cand.get(..keep).unwrap_or_default());
                    side.carry
                        .extend_from_slice(cand.get(keep..).unwrap_or_default());
                    side.carry_at = At::of(ctx);
                    Act::Consumed(data.len())
                }
                None => {
                    side.skip(data);
                    Act::Consumed(data.len())
                }
            }
        } else {
            let mut scan = std::mem::take(&mut side.carry);
            let carried = scan.len();
            scan.extend_from_slice(data);
            match find_start(&scan, want) {
                Some((p, true)) => {
                    side.skip(scan.get(..p).unwrap_or_default());
                    side.state = State::Start;
                    if p < carried {
                        // The message began in an earlier segment.
                        side.head_at = side.carry_at;
                    }
                    let rest = scan.get(p..).unwrap_or_default().to_vec();
                    Act::Replay(rest, data.len())
                }
                Some((p, false)) => {
                    side.skip(scan.get(..p).unwrap_or_default());
                    let cand = scan.get(p..).unwrap_or_default();
                    let keep = cand.len().saturating_sub(MAX_CARRY);
                    side.skip(cand.get(..keep).unwrap_or_default());
                    if p + keep >= carried {
                        side.carry_at = At::of(ctx);
                    }
                    side.carry = cand.get(keep..).unwrap_or_default().to_vec();
                    Act::Consumed(data.len())
                }
                None => {
                    side.skip(&scan);
                    Act::Consumed(data.len())
                }
            }
        }
    }

    /// The head being gathered does not start a message: search for one
    /// in its bytes and what follows.
    pub(super) fn not_a_start(&mut self, out: &mut Out<'_>, dir: Direction, n: usize) -> Act {
        let http = self.http;
        let side = self.side(dir);
        let bytes = side.head.bytes().to_vec();
        side.head.clear();
        side.head_at = At::default();
        side.state = State::Resync;
        if http && side.skipped == 0 {
            let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
            let a = HttpAnomaly::NotHttpMessage {
                dir: http_dir(dir, self.swapped),
                line: Snippet::of(line, 60),
            };
            self.carry_note(out, a);
        }
        let side = self.side(dir);
        if side.skipped_sample.is_none() {
            let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
            side.skipped_sample = Some(Snippet::of(line, 40));
        }
        match bytes.split_first() {
            Some((first, rest)) => {
                side.skip(std::slice::from_ref(first));
                Act::Replay(rest.to_vec(), n)
            }
            None => Act::Consumed(n),
        }
    }
}
