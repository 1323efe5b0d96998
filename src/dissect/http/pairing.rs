//! Pairing responses with requests, first in first out (right for
//! keep-alive and pipelining); requests whose response a capture gap ate;
//! the bounds on unanswered exchanges (per connection in number, across
//! connections in bytes) and the shedding that keeps them.

use super::conn::{Conn, Out};
use super::head::Kind;
use crate::event::{Exchange, Fields, HttpAnomaly, HttpNote, Message};

/// An exchange in progress.
pub(super) struct Slot {
    pub(super) id: u64,
    /// Boxed: the record moves from the queue to the output lists and
    /// across threads; a pointer moves cheaper than 800 bytes.
    pub(super) x: Box<Exchange>,
    /// What the header fields of both messages take when kept (counted
    /// whether or not they are, so the pending budget does not depend on
    /// the outputs).
    pub(super) fields_size: usize,
    /// The request's Upgrade field.
    pub(super) req_upgrade: Option<String>,
    pub(super) req_done: bool,
    pub(super) resp_started: bool,
    pub(super) resp_done: bool,
}

/// Rough bytes an exchange record holds.
fn approx_size(s: &Slot) -> usize {
    // Per field: its name, its value and 8 bytes (the text holds exactly
    // the names and values).
    let fields = |f: &Fields| f.text_len() + 8 * f.len();
    let msg = |m: &Message| {
        fields(&m.trailers) + m.body.as_ref().map_or(0, |b| b.bytes.len()) + m.version.len()
    };
    let x = &s.x;
    256 + s.fields_size
        + x.notes
            .iter()
            .map(|n| std::mem::size_of::<HttpAnomaly>() + n.heap_bytes())
            .sum::<usize>()
        + x.request
            .as_ref()
            .map_or(0, |r| r.method.len() + r.uri.len() + msg(&r.msg))
        + x.response
            .as_ref()
            .map_or(0, |r| r.reason.len() + msg(&r.msg))
        + x.interim.len() * 64
}

impl Conn {
    pub(super) fn pending_size(&self) -> usize {
        self.queue.iter().map(approx_size).sum()
    }

    /// Emits the oldest unanswered exchanges early until this connection
    /// holds at most `budget` bytes of them (the newest one stays).
    pub(super) fn shed(&mut self, out: &mut Out<'_>, budget: usize) {
        let max = out.opts.max_pending_bytes;
        while self.queue.len() > 1 && self.pending_size() > budget {
            let Some(mut s) = self.queue.pop_front() else {
                break;
            };
            let a = HttpAnomaly::PendingBytesLimit { limit: max };
            out.notes.push(HttpNote::Anomaly {
                stream: self.stream,
                anomaly: a.clone(),
            });
            s.x.notes.push(a);
            out.done.push(s.x);
        }
    }

    /// The exchange the next response answers: the oldest request without
    /// a response (first in, first out).
    pub(super) fn oldest_unanswered(&self) -> Option<u64> {
        self.queue
            .iter()
            .find(|s| !s.resp_started && s.x.request.is_some())
            .map(|s| s.id)
    }

    /// A response with no request to answer (lost, or not HTTP) gets an
    /// exchange of its own, noting what the client sent instead; returns
    /// its id.
    pub(super) fn queue_unpaired_response(&mut self, out: &mut Out<'_>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let (client, server) = self.endpoints();
        let req_side = self.side(self.dir_of(Kind::Request));
        let skipped = std::mem::take(&mut req_side.skipped);
        // (The sample is told, and used up, only with a count.)
        let sample = if skipped > 0 {
            req_side.skipped_sample.take()
        } else {
            None
        };
        let a = HttpAnomaly::ResponseWithoutRequest {
            client_skipped: skipped,
            sample,
        };
        out.notes.push(HttpNote::Anomaly {
            stream: self.stream,
            anomaly: a.clone(),
        });
        let mut notes = std::mem::take(&mut self.carry);
        notes.push(a);
        self.queue.push_back(Slot {
            id,
            x: Box::new(Exchange {
                stream: self.stream,
                client: Some(client),
                server: Some(server),
                request: None,
                response: None,
                interim: Vec::new(),
                notes,
            }),
            fields_size: 0,
            req_upgrade: None,
            req_done: true,
            resp_started: false,
            resp_done: false,
        });
        self.bound_queue(out);
        id
    }

    /// Keeps the queue of unanswered exchanges bounded.
    pub(super) fn bound_queue(&mut self, out: &mut Out<'_>) {
        let max = out.opts.max_pending.max(1);
        while self.queue.len() > max {
            let Some(mut s) = self.queue.pop_front() else {
                break;
            };
            let a = HttpAnomaly::PendingLimit { limit: max };
            out.notes.push(HttpNote::Anomaly {
                stream: self.stream,
                anomaly: a.clone(),
            });
            s.x.notes.push(a);
            out.done.push(s.x);
        }
    }

    /// When the response direction lost bytes outside a body (a whole
    /// response may be gone) and resynchronised: a request sent before the
    /// gap, followed by a request sent after it, had its response in the
    /// gap (a client on a keep-alive connection sends its next request
    /// after the previous response). Those requests are closed as
    /// unanswered so the response found next pairs with the right request.
    pub(super) fn skip_lost_responses(&mut self, out: &mut Out<'_>, gap_frame: u64) {
        loop {
            let Some(idx) = self
                .queue
                .iter()
                .position(|s| !s.resp_started && s.x.request.is_some())
            else {
                return;
            };
            let before = self
                .queue
                .get(idx)
                .and_then(|s| s.x.request.as_ref())
                .is_some_and(|r| r.msg.last_frame <= gap_frame);
            let later_after = self
                .queue
                .iter()
                .skip(idx + 1)
                .filter_map(|s| s.x.request.as_ref())
                .any(|r| r.msg.first_frame > gap_frame);
            if !(before && later_after) {
                return;
            }
            let Some(s) = self.queue.get_mut(idx) else {
                return;
            };
            s.resp_started = true;
            s.resp_done = true;
            let a = HttpAnomaly::ResponseLostInGap;
            s.x.notes.push(a.clone());
            out.notes.push(HttpNote::Anomaly {
                stream: self.stream,
                anomaly: a,
            });
            self.emit_ready(out);
        }
    }

    /// Emits finished exchanges from the front of the queue, in order.
    pub(super) fn emit_ready(&mut self, out: &mut Out<'_>) {
        while let Some(front) = self.queue.front() {
            let answered = front.resp_done || (self.tunnel && front.resp_started);
            let tunnelled_unanswered = self.tunnel && !front.resp_started && front.req_done;
            if !(tunnelled_unanswered || front.req_done && answered) {
                // A request whose body is still in flight may already
                // have its answer: wait for the request.
                break;
            }
            let Some(mut s) = self.queue.pop_front() else {
                break;
            };
            if tunnelled_unanswered {
                s.x.notes
                    .push(HttpAnomaly::RequestWithoutResponse { switched: true });
            }
            out.done.push(s.x);
        }
    }
}
