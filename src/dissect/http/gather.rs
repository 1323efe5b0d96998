//! A direction in its Start or Head state: a head parsed where it lies in
//! the segment (the common case) or gathered across segments, its start
//! line judged as soon as it can be, then handed to the request or
//! response lifecycle.

use super::conn::{http_dir, Act, Conn, Out};
use super::head::{parse_head, parse_whole, sniff, Head, Kind, Push, Sniff};
use super::side::{At, State};
use crate::event::{Direction, HttpAnomaly};
use crate::track::StreamCtx;

impl Conn {
    pub(super) fn head_step(
        &mut self,
        out: &mut Out<'_>,
        ctx: &StreamCtx,
        dir: Direction,
        data: &[u8],
    ) -> Act {
        let max = out.opts.head.max_bytes;
        if self.side(dir).head.is_empty() {
            if let Some(act) = self.whole_head(out, ctx, dir, data) {
                return act;
            }
        }
        let side = self.side(dir);
        let was_empty = side.head.is_empty();
        let pushed = side.head.push(data, max);
        if was_empty && !side.head.is_empty() && side.head_at == At::default() {
            side.head_at = At::of(ctx);
        }
        // Judge the start line as soon as it can be judged.
        let verdict = sniff(side.head.bytes());
        if side.head.is_empty() {
            return match pushed {
                Push::Complete(n) | Push::TooLarge(n) => Act::Consumed(n),
                Push::More => Act::Consumed(data.len()),
            };
        }
        match verdict {
            Sniff::NotHttp => return self.not_a_start(out, dir, consumed(pushed, data)),
            Sniff::Http(k) if k != self.kind_of(dir) => {
                if self.http {
                    return self.not_a_start(out, dir, consumed(pushed, data));
                }
                // Nothing paired yet: the tracker guessed the client
                // wrong (joined mid-stream). Swap roles.
                self.swapped = !self.swapped;
            }
            _ => {}
        }
        match pushed {
            Push::More => Act::Consumed(data.len()),
            Push::TooLarge(n) => {
                let kind = self.kind_of(dir);
                let side = self.side(dir);
                let len = side.head.len();
                side.skip(side.head.bytes().to_vec().as_slice());
                side.head.clear();
                side.head_at = At::default();
                side.state = State::Resync;
                self.carry_note(
                    out,
                    HttpAnomaly::HeadTooLarge {
                        side: kind,
                        bytes: len,
                    },
                );
                Act::Consumed(n)
            }
            Push::Complete(n) => {
                let kind = self.kind_of(dir);
                let side = self.side(dir);
                let at = side.head_at;
                // Borrow the gathered bytes out of the buffer (no copy);
                // the buffer is handed back below, keeping its capacity.
                let bytes = side.head.take_bytes();
                side.head_at = At::default();
                let parsed = parse_head(&bytes, kind, out.opts.head, &mut self.recent);
                match parsed {
                    Ok(head) => {
                        self.on_head(out, ctx, dir, head, at, bytes.len());
                        self.side(dir).head.restore(bytes);
                        Act::Consumed(n)
                    }
                    Err(note) => {
                        if self.http {
                            self.carry_note(out, note);
                        }
                        let side = self.side(dir);
                        side.state = State::Resync;
                        // Search again from the second byte of the head.
                        if let Some((first, rest)) = bytes.split_first() {
                            side.skip(std::slice::from_ref(first));
                            Act::Replay(rest.to_vec(), n)
                        } else {
                            Act::Consumed(n)
                        }
                    }
                }
            }
        }
    }

    /// A whole head at the start of `data`, parsed where it lies (no
    /// gathering); `None` when `data` needs the general path.
    fn whole_head(
        &mut self,
        out: &mut Out<'_>,
        ctx: &StreamCtx,
        dir: Direction,
        data: &[u8],
    ) -> Option<Act> {
        // Empty lines before a message are not part of it (as in HeadBuf).
        let start = data.iter().position(|&b| b != b'\r' && b != b'\n')?;
        let kind = self.kind_of(dir);
        let (head, len) = parse_whole(data.get(start..)?, kind, out.opts.head, &mut self.recent)?;
        let side = self.side(dir);
        let at = std::mem::take(&mut side.head_at);
        self.on_head(out, ctx, dir, head, at, len);
        Some(Act::Consumed(start + len))
    }

    /// A head was parsed: the connection speaks HTTP.
    fn on_head(
        &mut self,
        out: &mut Out<'_>,
        ctx: &StreamCtx,
        dir: Direction,
        head: Head,
        at: At,
        head_len: usize,
    ) {
        self.http = true;
        let skipped = std::mem::take(&mut self.side(dir).skipped);
        let sample = self.side(dir).skipped_sample.take();
        if skipped > 0 {
            let a = HttpAnomaly::NotHttpSkipped {
                dir: http_dir(dir, self.swapped),
                bytes: skipped,
                sample,
            };
            self.carry_note(out, a);
        }
        match self.kind_of(dir) {
            Kind::Request => self.on_request(out, ctx, dir, head, at, head_len),
            Kind::Response => self.on_response(out, ctx, dir, head, at, head_len),
        }
    }
}

fn consumed(p: Push, data: &[u8]) -> usize {
    match p {
        Push::Complete(n) | Push::TooLarge(n) => n,
        Push::More => data.len(),
    }
}
