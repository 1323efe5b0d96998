//! One connection's HTTP state: both directions' parsers, the queue of
//! exchanges in progress, and the dispatch of each direction's bytes to
//! the handler of its state; the end of a direction and of the connection.

use std::collections::VecDeque;

use super::body::Framing;
use super::head::{Kind, Recent};
use super::pairing::Slot;
use super::side::{At, Side, State};
use super::HttpOptions;
use crate::event::{Direction, Endpoint, Exchange, HttpAnomaly, HttpNote, Snippet};
use crate::track::StreamCtx;

/// One connection's HTTP state.
pub(super) struct Conn {
    pub(super) stream: u64,
    pub(super) client: Endpoint,
    pub(super) server: Endpoint,
    /// Requests flow server→client: the tracker's guess of the client
    /// (mid-stream, by port) was wrong.
    pub(super) swapped: bool,
    /// An HTTP message was seen on this connection.
    pub(super) http: bool,
    pub(super) sides: [Side; 2],
    pub(super) queue: VecDeque<Slot>,
    pub(super) next_id: u64,
    /// Notes waiting for the next exchange of this connection.
    pub(super) carry: Vec<HttpAnomaly>,
    /// The response direction lost bytes at this frame, outside a body.
    pub(super) resp_gap: Option<u64>,
    pub(super) tunnel: bool,
    /// `pending_size()` after the last callback.
    pub(super) pending_bytes: usize,
    /// Text its heads repeat, shared between their records.
    pub(super) recent: Recent,
}

/// Where results go while a connection is processed.
pub(super) struct Out<'a> {
    pub(super) opts: &'a HttpOptions,
    pub(super) notes: &'a mut Vec<HttpNote>,
    #[allow(clippy::vec_box)] // (see Slot::x)
    pub(super) done: &'a mut Vec<Box<Exchange>>,
}

/// What a state handler did with its input.
pub(super) enum Act {
    Consumed(usize),
    /// Process these bytes first, then the input after `usize` bytes.
    Replay(Vec<u8>, usize),
}

/// The direction as the notes name it: `ToServer` for the one that
/// carries requests (the tracker's guess of the client may be wrong).
pub(super) fn http_dir(dir: Direction, swapped: bool) -> Direction {
    match (dir, swapped) {
        (Direction::ToServer, false) | (Direction::ToClient, true) => Direction::ToServer,
        _ => Direction::ToClient,
    }
}

impl Conn {
    pub(super) fn new(ctx: &StreamCtx) -> Self {
        Self {
            stream: ctx.stream,
            client: ctx.client,
            server: ctx.server,
            swapped: false,
            http: false,
            sides: [Side::new(), Side::new()],
            queue: VecDeque::new(),
            next_id: 0,
            carry: Vec::new(),
            resp_gap: None,
            tunnel: false,
            pending_bytes: 0,
            recent: Recent::default(),
        }
    }

    /// Client and server as the requests say (the tracker's guess may be
    /// the wrong way round).
    pub(super) fn endpoints(&self) -> (Endpoint, Endpoint) {
        if self.swapped {
            (self.server, self.client)
        } else {
            (self.client, self.server)
        }
    }

    pub(super) fn kind_of(&self, dir: Direction) -> Kind {
        match (dir, self.swapped) {
            (Direction::ToServer, false) | (Direction::ToClient, true) => Kind::Request,
            _ => Kind::Response,
        }
    }

    pub(super) fn dir_of(&self, kind: Kind) -> Direction {
        match (kind, self.swapped) {
            (Kind::Request, false) | (Kind::Response, true) => Direction::ToServer,
            _ => Direction::ToClient,
        }
    }

    pub(super) fn side(&mut self, dir: Direction) -> &mut Side {
        let [a, b] = &mut self.sides;
        match dir {
            Direction::ToServer => a,
            Direction::ToClient => b,
        }
    }

    pub(super) fn slot(&mut self, id: u64) -> Option<&mut Slot> {
        self.queue.iter_mut().find(|s| s.id == id)
    }

    /// A note for the timeline that belongs to no exchange yet: it goes on
    /// the next exchange of this connection.
    pub(super) fn carry_note(&mut self, out: &mut Out<'_>, a: HttpAnomaly) {
        out.notes.push(HttpNote::Anomaly {
            stream: self.stream,
            anomaly: a.clone(),
        });
        self.carry.push(a);
    }

    pub(super) fn note(&mut self, out: &mut Out<'_>, id: u64, a: HttpAnomaly) {
        out.notes.push(HttpNote::Anomaly {
            stream: self.stream,
            anomaly: a.clone(),
        });
        match self.slot(id) {
            Some(s) => s.x.notes.push(a),
            None => self.carry.push(a),
        }
    }

    pub(super) fn process(
        &mut self,
        out: &mut Out<'_>,
        ctx: &StreamCtx,
        dir: Direction,
        input: &[u8],
    ) {
        let mut work: std::borrow::Cow<'_, [u8]> = std::borrow::Cow::Borrowed(input);
        let mut pos = 0usize;
        // Every turn consumes input or replays strictly fewer bytes than
        // it took; the bound is a guard, not a limit in practice.
        let mut turns = 0usize;
        while pos < work.len() && turns < 1 << 20 {
            turns += 1;
            let data = work.get(pos..).unwrap_or_default();
            match self.step(out, ctx, dir, data) {
                Act::Consumed(n) => pos += n,
                Act::Replay(mut v, n) => {
                    v.extend_from_slice(data.get(n..).unwrap_or_default());
                    work = std::borrow::Cow::Owned(v);
                    pos = 0;
                }
            }
        }
    }

    fn step(&mut self, out: &mut Out<'_>, ctx: &StreamCtx, dir: Direction, data: &[u8]) -> Act {
        let http = self.http;
        let tunnel = self.tunnel;
        let max_sniff = out.opts.max_sniff;
        let side = self.side(dir);
        if tunnel && side.state != State::Ended {
            side.state = State::Tunnel;
        }
        match side.state {
            State::Ended => Act::Consumed(data.len()),
            State::Tunnel => {
                side.tunnel_bytes += data.len() as u64;
                Act::Consumed(data.len())
            }
            State::NotHttp => {
                if http {
                    side.state = State::Resync;
                    return Act::Consumed(0);
                }
                side.skip(data);
                Act::Consumed(data.len())
            }
            State::Hold => {
                let room = out.opts.head.max_bytes.saturating_sub(side.held.len());
                let take = data.get(..room.min(data.len())).unwrap_or_default();
                side.held.extend_from_slice(take);
                side.tunnel_bytes += (data.len() - take.len()) as u64;
                Act::Consumed(data.len())
            }
            State::Resync => {
                if !http && side.sniffed > max_sniff {
                    side.state = State::NotHttp;
                    return Act::Consumed(0);
                }
                side.sniffed += data.len() as u64;
                self.resync(ctx, dir, data)
            }
            State::Start | State::Head => self.head_step(out, ctx, dir, data),
            State::Body => self.body_step(out, ctx, dir, data),
        }
    }

    pub(super) fn end(&mut self, out: &mut Out<'_>, ctx: &StreamCtx, dir: Direction) {
        let kind = self.kind_of(dir);
        let http = self.http;
        let side = self.side(dir);
        match side.state {
            State::Body => {
                let complete = side.cur.as_mut().is_some_and(|c| {
                    let close_delimited = c.reader.framing() == Framing::UntilClose;
                    if close_delimited {
                        // The close is the end of such a message (as in
                        // tshark): its frame ends the message.
                        c.last = At::of(ctx);
                    }
                    c.reader.end_of_stream()
                });
                self.end_body(out, dir, complete, None);
            }
            State::Start | State::Head if !side.head.is_empty() && http => {
                let n = side.head.len();
                let line = Snippet::of(
                    side.head
                        .bytes()
                        .split(|&b| b == b'\n')
                        .next()
                        .unwrap_or_default(),
                    60,
                );
                side.head.clear();
                let a = HttpAnomaly::IncompleteHead {
                    side: kind,
                    bytes: n,
                    line,
                };
                self.carry_note(out, a);
            }
            _ => {}
        }
        self.side(dir).state = State::Ended;
    }

    pub(super) fn close(&mut self, out: &mut Out<'_>, ctx: &StreamCtx) {
        for dir in [Direction::ToServer, Direction::ToClient] {
            if self.side(dir).state != State::Ended {
                self.end(out, ctx, dir);
            }
        }
        let stream = self.stream;
        let carry = std::mem::take(&mut self.carry);
        let last = self.queue.len();
        for (i, mut s) in std::mem::take(&mut self.queue).into_iter().enumerate() {
            if s.x.request.is_some() && !s.resp_started && !self.tunnel {
                let a = HttpAnomaly::RequestWithoutResponse { switched: false };
                out.notes.push(HttpNote::Anomaly {
                    stream,
                    anomaly: a.clone(),
                });
                s.x.notes.push(a);
            } else if s.x.request.is_some() && !s.resp_started && self.tunnel {
                s.x.notes
                    .push(HttpAnomaly::RequestWithoutResponse { switched: true });
            }
            if i + 1 == last {
                s.x.notes.extend(carry.iter().cloned());
            }
            out.done.push(s.x);
        }
    }
}
