//! The HTTP/1.x dissector: turns each TCP connection's two byte streams
//! into [`Exchange`]s (a request paired with its response, with latencies).
//!
//! HTTP is recognised by content, on any port: a request line or status
//! line at the start of a direction (or, for a connection joined mid-way,
//! within its first bytes). Each direction is a small state machine:
//!
//! ```text
//!  Start ──head──► Head ──► Body ──► Head …      (keep-alive, pipelining)
//!    │ not HTTP      │ broken  │ broken framing
//!    ▼               ▼         ▼
//!  Resync ◄──────────┴─────────┘  (also after a capture gap): search for
//!    │                             the next plausible start line
//!    └──► Head
//!  Hold    request side after an Upgrade/CONNECT request, until the
//!          response says whether the connection switches protocols
//!  Tunnel  after 101 or a 2xx to CONNECT: bytes are counted, not parsed
//! ```
//!
//! Responses pair with requests in order (FIFO), which is right for
//! keep-alive and pipelining. Interim 1xx responses attach to the request
//! they precede. A response lost in a capture gap is detected with a
//! heuristic (see `Conn::skip_lost_responses`) so later pairs stay right.
//!
//! Memory is bounded: heads are gathered up to `max_head_bytes`, bodies are
//! never held beyond the display limit, each connection keeps at most
//! `max_pending` unanswered exchanges, and the records of unanswered
//! exchanges take at most `max_pending_bytes` across all connections (the
//! oldest of the connection that grew are emitted early, with a note).

pub mod body;
pub mod head;

use std::collections::{HashMap, VecDeque};

use body::{coding_of, BodyReader, BodySink, Framing, GapOutcome, Step};
use head::{
    find_start, parse_head, parse_whole, sniff, Facts, Head, HeadBuf, HeadLimits, Kind, Push,
    Recent, Sniff, StartLine,
};

use crate::event::redact::{is_secret_header, redact};
use crate::event::{
    Body, Direction, Endpoint, Exchange, Fields, FramingError, HttpAnomaly, HttpNote, Interim,
    Message, Request, Response, Snippet, Text,
};
use crate::track::{StreamConsumer, StreamCtx};

/// The dissector's limits and choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpOptions {
    /// Show Authorization, Cookie… values instead of `<redacted N bytes>`.
    pub show_secrets: bool,
    /// Keep bodies (up to `body_limit` bytes each) for display.
    pub keep_body: bool,
    pub body_limit: usize,
    pub head: HeadLimits,
    /// Exchanges per connection waiting for their response.
    pub max_pending: usize,
    /// Bytes (approximate) held in unanswered exchanges, all connections.
    pub max_pending_bytes: usize,
    /// Decoded (gunzipped) bytes counted per body at most.
    pub max_decoded: u64,
    /// Bytes of a direction searched for a first message start before it
    /// is declared not HTTP (connections joined mid-way).
    pub max_sniff: u64,
    /// Per-packet notes for requests, responses and interim responses
    /// (what the timeline shows). Off when no output shows them: the
    /// exchange records and the notices are made either way.
    pub message_notes: bool,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            show_secrets: false,
            keep_body: false,
            body_limit: 4096,
            head: HeadLimits::default(),
            max_pending: 1024,
            max_pending_bytes: 64 << 20,
            max_decoded: 256 << 20,
            max_sniff: 64 << 10,
            message_notes: true,
        }
    }
}

/// Longest possible message start kept across segments while resyncing.
const MAX_CARRY: usize = 8 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Start,
    Head,
    Body,
    Resync,
    NotHttp,
    Hold,
    Tunnel,
    Ended,
}

/// Frame and time of a byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct At {
    frame: u64,
    ts: i64,
}

impl At {
    fn of(ctx: &StreamCtx) -> Self {
        Self {
            frame: ctx.frame,
            ts: ctx.ts_ns,
        }
    }
}

/// The message whose body a direction is reading.
struct Cur {
    id: u64,
    kind: Kind,
    reader: BodyReader,
    sink: BodySink,
    last: At,
    /// A request that asked `Expect: 100-continue`.
    expect_continue: bool,
}

/// One direction's parser.
struct Side {
    state: State,
    head: HeadBuf,
    head_at: At,
    cur: Option<Cur>,
    /// Bytes passed over (not HTTP) since the last message.
    skipped: u64,
    skipped_sample: Option<Snippet>,
    /// Bytes searched while the connection had no HTTP yet.
    sniffed: u64,
    /// Resync: a possible message start cut by the end of a segment.
    carry: Vec<u8>,
    carry_at: At,
    /// Hold: bytes after an Upgrade/CONNECT request.
    held: Vec<u8>,
    tunnel_bytes: u64,
}

impl Side {
    fn new() -> Self {
        Self {
            state: State::Start,
            head: HeadBuf::default(),
            head_at: At::default(),
            cur: None,
            skipped: 0,
            skipped_sample: None,
            sniffed: 0,
            carry: Vec::new(),
            carry_at: At::default(),
            held: Vec::new(),
            tunnel_bytes: 0,
        }
    }

    fn skip(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.skipped += bytes.len() as u64;
        if self.skipped_sample.is_none() {
            let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
            self.skipped_sample = Some(Snippet::of(line, 40));
        }
    }
}

/// An exchange in progress.
struct Slot {
    id: u64,
    /// Boxed: the record moves from the queue to the output lists and
    /// across threads; a pointer moves cheaper than 800 bytes.
    x: Box<Exchange>,
    /// What the header fields of both messages take when kept (counted
    /// whether or not they are, so the pending budget does not depend on
    /// the outputs).
    fields_size: usize,
    /// The request's Upgrade field.
    req_upgrade: Option<String>,
    req_done: bool,
    resp_started: bool,
    resp_done: bool,
}

struct Conn {
    stream: u64,
    client: Endpoint,
    server: Endpoint,
    /// Requests flow server→client: the tracker's guess of the client
    /// (mid-stream, by port) was wrong.
    swapped: bool,
    /// An HTTP message was seen on this connection.
    http: bool,
    sides: [Side; 2],
    queue: VecDeque<Slot>,
    next_id: u64,
    /// Notes waiting for the next exchange of this connection.
    carry: Vec<HttpAnomaly>,
    /// The response direction lost bytes at this frame, outside a body.
    resp_gap: Option<u64>,
    tunnel: bool,
    /// `pending_size()` after the last callback.
    pending_bytes: usize,
    /// Text its heads repeat, shared between their records.
    recent: Recent,
}

/// Where results go while a connection is processed.
struct Out<'a> {
    opts: &'a HttpOptions,
    notes: &'a mut Vec<HttpNote>,
    #[allow(clippy::vec_box)] // (see Slot::x)
    done: &'a mut Vec<Box<Exchange>>,
}

/// What a state handler did with its input.
enum Act {
    Consumed(usize),
    /// Process these bytes first, then the input after `usize` bytes.
    Replay(Vec<u8>, usize),
}

/// The HTTP/1.x dissector: a [`StreamConsumer`] with one state machine per
/// TCP stream.
pub struct HttpDissector {
    opts: HttpOptions,
    conns: HashMap<u64, Conn, foldhash::quality::RandomState>,
    #[allow(clippy::vec_box)] // (see Slot::x)
    done: Vec<Box<Exchange>>,
    notes: Vec<HttpNote>,
    /// Sum of the connections' `pending_bytes`.
    pending_bytes: usize,
}

impl HttpDissector {
    pub fn new(opts: HttpOptions) -> Self {
        Self {
            opts,
            conns: HashMap::default(),
            done: Vec::new(),
            notes: Vec::new(),
            pending_bytes: 0,
        }
    }

    /// Bytes held in head, resync and hold buffers, all connections.
    pub fn buffered_bytes(&self) -> usize {
        self.conns
            .values()
            .flat_map(|c| c.sides.iter())
            .map(|s| s.head.len() + s.carry.len() + s.held.len())
            .sum()
    }

    /// Approximate bytes held by unanswered exchanges.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Runs `f` on the stream's connection (created if `create`), then
    /// keeps the memory held by unanswered exchanges within its budget.
    fn with_conn<F>(&mut self, ctx: &StreamCtx, create: bool, f: F)
    where
        F: FnOnce(&mut Conn, &mut Out<'_>),
    {
        let max_total = self.opts.max_pending_bytes;
        let (conns, mut out) = (
            &mut self.conns,
            Out {
                opts: &self.opts,
                notes: &mut self.notes,
                done: &mut self.done,
            },
        );
        let conn = if create {
            conns.entry(ctx.stream).or_insert_with(|| Conn::new(ctx))
        } else {
            match conns.get_mut(&ctx.stream) {
                Some(c) => c,
                None => return,
            }
        };
        let before = conn.pending_bytes;
        f(conn, &mut out);
        conn.pending_bytes = conn.pending_size();
        let others = self.pending_bytes.saturating_sub(before);
        if others + conn.pending_bytes > max_total {
            conn.shed(&mut out, max_total.saturating_sub(others));
            conn.pending_bytes = conn.pending_size();
        }
        self.pending_bytes = others + conn.pending_bytes;
    }

    pub fn options(&self) -> &HttpOptions {
        &self.opts
    }

    /// Exchanges finished since the last call, in the order they finished.
    pub fn drain_exchanges(&mut self) -> std::vec::Drain<'_, Box<Exchange>> {
        self.done.drain(..)
    }

    /// Moves the finished exchanges to the end of `out`, in the order they
    /// finished.
    pub fn move_exchanges(&mut self, out: &mut Vec<Box<Exchange>>) {
        out.append(&mut self.done);
    }

    /// Timeline notes produced since the last call (for the frame being
    /// processed).
    pub fn take_notes(&mut self) -> Vec<HttpNote> {
        std::mem::take(&mut self.notes)
    }

    /// Moves the notes produced since the last call to the end of `out`.
    pub fn move_notes(&mut self, out: &mut Vec<HttpNote>) {
        out.append(&mut self.notes);
    }

    /// Connections with HTTP state.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }
}

impl StreamConsumer for HttpDissector {
    fn data(&mut self, ctx: &StreamCtx, dir: Direction, bytes: &[u8]) {
        self.with_conn(ctx, true, |c, out| c.process(out, ctx, dir, bytes));
    }

    fn gap(&mut self, ctx: &StreamCtx, dir: Direction, missing: u64) {
        self.with_conn(ctx, true, |c, out| c.gap(out, ctx, dir, missing));
    }

    fn end(&mut self, ctx: &StreamCtx, dir: Direction) {
        self.with_conn(ctx, false, |c, out| c.end(out, ctx, dir));
    }

    fn closed(&mut self, ctx: &StreamCtx) {
        self.with_conn(ctx, false, |c, out| c.close(out, ctx));
        if let Some(conn) = self.conns.remove(&ctx.stream) {
            self.pending_bytes = self.pending_bytes.saturating_sub(conn.pending_bytes);
        }
    }
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

/// Redacts secret values in place (most headers are kept as they are).
fn redact_all(fields: Fields, show: bool) -> Fields {
    // `redact` changes exactly the values of secret fields.
    if show || !fields.iter().any(|(n, _)| is_secret_header(n)) {
        return fields;
    }
    fields
        .iter()
        .map(|(n, v)| (n, redact(n, v, show)))
        .collect()
}

/// The direction as the notes name it: `ToServer` for the one that
/// carries requests (the tracker's guess of the client may be wrong).
fn http_dir(dir: Direction, swapped: bool) -> Direction {
    match (dir, swapped) {
        (Direction::ToServer, false) | (Direction::ToClient, true) => Direction::ToServer,
        _ => Direction::ToClient,
    }
}

impl Conn {
    fn new(ctx: &StreamCtx) -> Self {
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

    fn pending_size(&self) -> usize {
        self.queue.iter().map(approx_size).sum()
    }

    /// Emits the oldest unanswered exchanges early until this connection
    /// holds at most `budget` bytes of them (the newest one stays).
    fn shed(&mut self, out: &mut Out<'_>, budget: usize) {
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

    fn kind_of(&self, dir: Direction) -> Kind {
        match (dir, self.swapped) {
            (Direction::ToServer, false) | (Direction::ToClient, true) => Kind::Request,
            _ => Kind::Response,
        }
    }

    fn dir_of(&self, kind: Kind) -> Direction {
        match (kind, self.swapped) {
            (Kind::Request, false) | (Kind::Response, true) => Direction::ToServer,
            _ => Direction::ToClient,
        }
    }

    fn side(&mut self, dir: Direction) -> &mut Side {
        let [a, b] = &mut self.sides;
        match dir {
            Direction::ToServer => a,
            Direction::ToClient => b,
        }
    }

    fn slot(&mut self, id: u64) -> Option<&mut Slot> {
        self.queue.iter_mut().find(|s| s.id == id)
    }

    /// A note for the timeline that belongs to no exchange yet: it goes on
    /// the next exchange of this connection.
    fn carry_note(&mut self, out: &mut Out<'_>, a: HttpAnomaly) {
        out.notes.push(HttpNote::Anomaly {
            stream: self.stream,
            anomaly: a.clone(),
        });
        self.carry.push(a);
    }

    fn note(&mut self, out: &mut Out<'_>, id: u64, a: HttpAnomaly) {
        out.notes.push(HttpNote::Anomaly {
            stream: self.stream,
            anomaly: a.clone(),
        });
        match self.slot(id) {
            Some(s) => s.x.notes.push(a),
            None => self.carry.push(a),
        }
    }

    fn process(&mut self, out: &mut Out<'_>, ctx: &StreamCtx, dir: Direction, input: &[u8]) {
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

    fn resync(&mut self, ctx: &StreamCtx, dir: Direction, data: &[u8]) -> Act {
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

    fn head_step(
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

    /// The head being gathered does not start a message: search for one
    /// in its bytes and what follows.
    fn not_a_start(&mut self, out: &mut Out<'_>, dir: Direction, n: usize) -> Act {
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

    /// The record of a message whose head was parsed: the version, the
    /// fields and the content facts move into it (`facts` keeps the rest).
    fn message(
        version: Text,
        headers: Fields,
        facts: &mut Facts,
        at: At,
        ctx: &StreamCtx,
        head_len: usize,
        show: bool,
    ) -> Message {
        Message {
            first_frame: at.frame,
            last_frame: ctx.frame,
            first_ts_ns: at.ts,
            last_ts_ns: ctx.ts_ns,
            version,
            // (Facts saw every field: no secret there, nothing to redact.)
            headers: if facts.secret {
                redact_all(headers, show)
            } else {
                headers
            },
            trailers: Fields::new(),
            content_type: facts.content_type.take(),
            content_encoding: facts.content_encoding.take(),
            transfer_encoding: facts.transfer_encoding.take(),
            head_bytes: head_len as u64,
            body_bytes: 0,
            body_wire_bytes: 0,
            body_decoded_bytes: None,
            body_missing_bytes: 0,
            body: None,
            complete: false,
        }
    }

    fn on_request(
        &mut self,
        out: &mut Out<'_>,
        ctx: &StreamCtx,
        dir: Direction,
        head: Head,
        at: At,
        head_len: usize,
    ) {
        let at = if at == At::default() { At::of(ctx) } else { at };
        let Head {
            start,
            headers,
            facts: mut f,
            notes: head_notes,
            fields_size,
        } = head;
        let StartLine::Request {
            method,
            uri,
            version,
        } = start
        else {
            return;
        };
        if out.opts.message_notes {
            out.notes.push(HttpNote::Request {
                stream: self.stream,
                method: method.clone(),
                uri: uri.clone(),
                version: version.clone(),
                host: f.host.clone(),
            });
        }
        let mut notes = std::mem::take(&mut self.carry);
        for n in &head_notes {
            out.notes.push(HttpNote::Anomaly {
                stream: self.stream,
                anomaly: n.clone(),
            });
        }
        notes.extend(head_notes);
        let framing = if f.chunked {
            Framing::Chunked
        } else if let Some(te) = &f.transfer_encoding {
            let a = HttpAnomaly::RequestTransferEncodingNotChunked { value: te.clone() };
            out.notes.push(HttpNote::Anomaly {
                stream: self.stream,
                anomaly: a.clone(),
            });
            notes.push(a);
            Framing::UntilClose
        } else if let Some(n) = f.content_length {
            Framing::Length(n)
        } else {
            Framing::None
        };
        let (client, server) = if self.swapped {
            (self.server, self.client)
        } else {
            (self.client, self.server)
        };
        let id = self.next_id;
        self.next_id += 1;
        let coding = f.content_encoding.as_deref().and_then(coding_of);
        let upgrade_like = method.eq_ignore_ascii_case("CONNECT") || f.upgrade.is_some();
        let expect_continue = f.expect_continue;
        let host = f.host.take();
        let show = out.opts.show_secrets;
        let msg = Self::message(version, headers, &mut f, at, ctx, head_len, show);
        self.queue.push_back(Slot {
            id,
            x: Box::new(Exchange {
                stream: self.stream,
                client: Some(client),
                server: Some(server),
                request: Some(Request {
                    method,
                    uri,
                    host,
                    msg,
                }),
                response: None,
                interim: Vec::new(),
                notes,
            }),
            fields_size,
            req_upgrade: f.upgrade,
            req_done: false,
            resp_started: false,
            resp_done: false,
        });
        self.bound_queue(out);
        let keep = if out.opts.keep_body {
            out.opts.body_limit
        } else {
            0
        };
        let reader = BodyReader::new(framing);
        let side = self.side(dir);
        if reader.is_done() {
            side.state = if upgrade_like {
                State::Hold
            } else {
                State::Head
            };
            self.finish_message(
                out,
                id,
                Kind::Request,
                reader,
                BodySink::new(0, None, 0),
                At::of(ctx),
                true,
            );
        } else {
            side.state = State::Body;
            side.cur = Some(Cur {
                id,
                kind: Kind::Request,
                reader,
                sink: BodySink::new(keep, coding, out.opts.max_decoded),
                last: At::of(ctx),
                expect_continue,
            });
        }
    }

    /// Keeps the queue of unanswered exchanges bounded.
    fn bound_queue(&mut self, out: &mut Out<'_>) {
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
    fn skip_lost_responses(&mut self, out: &mut Out<'_>, gap_frame: u64) {
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

    fn on_response(
        &mut self,
        out: &mut Out<'_>,
        ctx: &StreamCtx,
        dir: Direction,
        head: Head,
        at: At,
        head_len: usize,
    ) {
        let at = if at == At::default() { At::of(ctx) } else { at };
        let Head {
            start,
            headers,
            facts: mut f,
            notes: head_notes,
            fields_size,
        } = head;
        let StartLine::Response {
            status,
            reason,
            version,
        } = start
        else {
            return;
        };
        if let Some(g) = self.resp_gap.take() {
            self.skip_lost_responses(out, g);
        }
        let target = self
            .queue
            .iter()
            .find(|s| !s.resp_started && s.x.request.is_some())
            .map(|s| s.id);
        for n in &head_notes {
            out.notes.push(HttpNote::Anomaly {
                stream: self.stream,
                anomaly: n.clone(),
            });
        }
        // Interim responses: 1xx other than 101.
        if (100..200).contains(&status) && status != 101 {
            if out.opts.message_notes {
                out.notes.push(HttpNote::Interim {
                    stream: self.stream,
                    status,
                    reason: reason.clone(),
                });
            }
            let interim = Interim {
                status,
                reason: reason.clone(),
                first_frame: at.frame,
                last_frame: ctx.frame,
                ts_ns: at.ts,
            };
            match target.and_then(|id| self.slot(id)) {
                Some(s) => {
                    s.x.interim.push(interim);
                    s.x.notes.extend(head_notes);
                }
                None => {
                    self.carry
                        .push(HttpAnomaly::InterimWithoutRequest { status, reason });
                    self.carry.extend(head_notes);
                }
            }
            self.side(dir).state = State::Head;
            return;
        }
        // What framing needs of the facts the message takes.
        let has_te = f.transfer_encoding.is_some();
        let coding = f.content_encoding.as_deref().and_then(coding_of);
        let show = out.opts.show_secrets;
        let msg = Self::message(version, headers, &mut f, at, ctx, head_len, show);
        let response = Response {
            status,
            reason,
            msg,
        };
        let id = match target {
            Some(id) => id,
            None => {
                let id = self.next_id;
                self.next_id += 1;
                let (client, server) = if self.swapped {
                    (self.server, self.client)
                } else {
                    (self.client, self.server)
                };
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
        };
        let carry = std::mem::take(&mut self.carry);
        let (head_req, connect, req_upgrade) = match self.slot(id) {
            Some(s) => {
                s.resp_started = true;
                s.fields_size += fields_size;
                s.x.notes.extend(carry);
                s.x.notes.extend(head_notes);
                s.x.response = Some(response);
                let req = s.x.request.as_ref();
                let method_is = |m: &str| req.is_some_and(|r| r.method.eq_ignore_ascii_case(m));
                (
                    method_is("HEAD"),
                    method_is("CONNECT"),
                    s.req_upgrade.clone().filter(|_| status == 101),
                )
            }
            None => (false, false, None),
        };
        let mut tunnel = None;
        let framing = if head_req || status == 204 || status == 304 {
            Framing::None
        } else if status == 101 {
            let to = f.upgrade.clone().or(req_upgrade);
            tunnel = Some(HttpAnomaly::ProtocolSwitched { to });
            Framing::None
        } else if connect && (200..300).contains(&status) {
            tunnel = Some(HttpAnomaly::ConnectTunnel);
            Framing::None
        } else if f.chunked {
            Framing::Chunked
        } else if has_te {
            Framing::UntilClose
        } else if let Some(n) = f.content_length {
            Framing::Length(n)
        } else {
            Framing::UntilClose
        };
        if tunnel.is_none() {
            // The request side waited for this answer; the connection stays HTTP.
            let req_dir = self.dir_of(Kind::Request);
            let rs = self.side(req_dir);
            if rs.state == State::Hold {
                rs.state = State::Head;
                let held = std::mem::take(&mut rs.held);
                if !held.is_empty() {
                    self.process(out, ctx, req_dir, &held);
                }
            }
        }
        let keep = if out.opts.keep_body {
            out.opts.body_limit
        } else {
            0
        };
        let reader = BodyReader::new(framing);
        if let Some(t) = tunnel {
            self.start_tunnel(out, id, t);
        }
        if reader.is_done() {
            if !self.tunnel {
                self.side(dir).state = State::Head;
            }
            self.finish_message(
                out,
                id,
                Kind::Response,
                reader,
                BodySink::new(0, None, 0),
                At::of(ctx),
                true,
            );
        } else {
            let side = self.side(dir);
            side.state = State::Body;
            side.cur = Some(Cur {
                id,
                kind: Kind::Response,
                reader,
                sink: BodySink::new(keep, coding, out.opts.max_decoded),
                last: At::of(ctx),
                expect_continue: false,
            });
        }
    }

    fn start_tunnel(&mut self, out: &mut Out<'_>, id: u64, a: HttpAnomaly) {
        self.tunnel = true;
        for s in &mut self.sides {
            if s.state != State::Ended && s.state != State::Body {
                s.state = State::Tunnel;
                s.tunnel_bytes += s.held.len() as u64;
                s.held.clear();
                s.head.clear();
            }
        }
        self.note(out, id, a);
        // Requests still waiting will not be answered in HTTP.
        self.emit_ready(out);
    }

    fn body_step(
        &mut self,
        out: &mut Out<'_>,
        ctx: &StreamCtx,
        dir: Direction,
        data: &[u8],
    ) -> Act {
        if self.body_withheld(out, dir, data) {
            return Act::Consumed(0);
        }
        let side = self.side(dir);
        let Some(cur) = side.cur.as_mut() else {
            side.state = State::Head;
            return Act::Consumed(0);
        };
        let sink = &mut cur.sink;
        let step = cur.reader.feed(data, &mut |b| sink.data(b));
        let used = match &step {
            Step::More => data.len(),
            Step::Done(n) | Step::Error(n, _) => *n,
        };
        if used > 0 {
            cur.last = At::of(ctx);
        }
        match step {
            Step::More => Act::Consumed(data.len()),
            Step::Done(n) => {
                self.end_body(out, dir, true, None);
                Act::Consumed(n)
            }
            Step::Error(n, msg) => {
                self.end_body(out, dir, false, Some(msg));
                self.side(dir).state = State::Resync;
                Act::Consumed(n)
            }
        }
    }

    /// A client that sent `Expect: 100-continue` and got a final answer
    /// instead may skip the body and send its next request: when the bytes
    /// where the body would start are a request line, the body was not
    /// sent. Returns true when the request was ended that way.
    fn body_withheld(&mut self, out: &mut Out<'_>, dir: Direction, data: &[u8]) -> bool {
        let Some(cur) = self.side(dir).cur.as_ref() else {
            return false;
        };
        if cur.kind != Kind::Request || !cur.expect_continue || cur.reader.wire > 0 {
            return false;
        }
        let id = cur.id;
        let status = match self.slot(id) {
            Some(s) if s.resp_started => s.x.response.as_ref().map(|r| r.status),
            _ => None,
        };
        let Some(status) = status else { return false };
        if sniff(data) != Sniff::Http(Kind::Request) {
            return false;
        }
        self.note(out, id, HttpAnomaly::RequestBodyNotSent { status });
        if let Some(cur) = self.side(dir).cur.take() {
            self.side(dir).state = State::Head;
            let last = cur.last;
            self.finish_message(
                out,
                cur.id,
                cur.kind,
                BodyReader::new(Framing::None),
                cur.sink,
                last,
                true,
            );
        }
        true
    }

    /// Ends the body being read in `dir`.
    fn end_body(
        &mut self,
        out: &mut Out<'_>,
        dir: Direction,
        complete: bool,
        why: Option<FramingError>,
    ) {
        let side = self.side(dir);
        let Some(cur) = side.cur.take() else { return };
        side.state = State::Head;
        if let Some(error) = why {
            let a = HttpAnomaly::BodyFramingBroken {
                side: cur.kind,
                error,
            };
            self.note(out, cur.id, a);
        }
        if cur.reader.missing > 0 {
            let a = HttpAnomaly::BodyBytesMissing {
                side: cur.kind,
                missing: cur.reader.missing,
            };
            self.note(out, cur.id, a);
        }
        let upgrade_req = cur.kind == Kind::Request
            && self.slot(cur.id).is_some_and(|s| {
                s.req_upgrade.is_some()
                    || s.x
                        .request
                        .as_ref()
                        .is_some_and(|r| r.method.eq_ignore_ascii_case("CONNECT"))
            });
        let resp_pending = self.slot(cur.id).is_some_and(|s| !s.resp_done);
        if upgrade_req && resp_pending && complete {
            self.side(dir).state = State::Hold;
        }
        self.finish_message(
            out, cur.id, cur.kind, cur.reader, cur.sink, cur.last, complete,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_message(
        &mut self,
        out: &mut Out<'_>,
        id: u64,
        kind: Kind,
        reader: BodyReader,
        sink: BodySink,
        last: At,
        complete: bool,
    ) {
        let show = out.opts.show_secrets;
        let keep = out.opts.keep_body;
        let res = sink.finish(complete);
        let trailers = parse_trailers(reader.trailer_bytes());
        let stream = self.stream;
        let Some(slot) = self.slot(id) else { return };
        let msg = match kind {
            Kind::Request => slot.x.request.as_mut().map(|r| &mut r.msg),
            Kind::Response => slot.x.response.as_mut().map(|r| &mut r.msg),
        };
        let Some(msg) = msg else { return };
        if reader.framing() != Framing::None {
            msg.last_frame = last.frame;
            msg.last_ts_ns = last.ts;
        }
        msg.body_bytes = reader.size();
        msg.body_wire_bytes = reader.wire;
        msg.body_missing_bytes = reader.missing;
        msg.body_decoded_bytes = res.decoded_bytes;
        msg.trailers = redact_all(trailers, show);
        msg.complete = complete;
        if keep && reader.size() > 0 {
            msg.body = Some(Body {
                bytes: res.shown,
                decoded: res.shown_decoded,
                truncated: res.shown_truncated,
            });
        }
        let mut notes = Vec::new();
        if let Some(n) = res.note {
            notes.push(n);
        }
        if !complete {
            notes.push(HttpAnomaly::Truncated {
                side: kind,
                body_bytes: reader.size(),
                expected: reader.expected(),
            });
        }
        slot.x.notes.extend(notes.iter().cloned());
        match kind {
            Kind::Request => slot.req_done = true,
            Kind::Response => slot.resp_done = true,
        }
        for a in notes {
            out.notes.push(HttpNote::Anomaly { stream, anomaly: a });
        }
        if kind == Kind::Response && out.opts.message_notes {
            let x = &slot.x;
            if let Some(r) = &x.response {
                out.notes.push(HttpNote::Response {
                    stream,
                    status: r.status,
                    reason: r.reason.clone(),
                    content_type: r.msg.content_type.clone(),
                    body_bytes: r.msg.body_bytes,
                    ttfb_ns: x
                        .ttfb_ns()
                        .filter(|_| x.request.as_ref().is_some_and(|q| q.msg.complete)),
                    duration_ns: x
                        .duration_ns()
                        .filter(|_| x.request.as_ref().is_some_and(|q| q.msg.complete)),
                    complete,
                });
            }
        }
        self.emit_ready(out);
    }

    /// Emits finished exchanges from the front of the queue, in order.
    fn emit_ready(&mut self, out: &mut Out<'_>) {
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

    fn gap(&mut self, out: &mut Out<'_>, ctx: &StreamCtx, dir: Direction, missing: u64) {
        let kind = self.kind_of(dir);
        let http = self.http;
        let side = self.side(dir);
        match side.state {
            State::Ended | State::NotHttp => side.skipped += missing,
            State::Tunnel | State::Hold => side.tunnel_bytes += missing,
            State::Resync => {
                side.skipped += missing;
                side.carry.clear();
                if kind == Kind::Response {
                    self.resp_gap = Some(ctx.frame);
                }
            }
            State::Start | State::Head => {
                let partial = side.head.len();
                side.skipped += missing + partial as u64;
                side.head.clear();
                side.head_at = At::default();
                side.state = State::Resync;
                if http {
                    let a = if partial > 0 {
                        HttpAnomaly::HeadCutByGap {
                            side: kind,
                            missing,
                        }
                    } else {
                        HttpAnomaly::CaptureGap {
                            side: kind,
                            missing,
                        }
                    };
                    self.carry_note(out, a);
                }
                if kind == Kind::Response {
                    self.resp_gap = Some(ctx.frame);
                }
            }
            State::Body => {
                let Some(cur) = side.cur.as_mut() else { return };
                let outcome = cur.reader.gap(missing);
                cur.sink.gap();
                match outcome {
                    // Counted; the note comes when the body ends.
                    GapOutcome::Absorbed => {}
                    GapOutcome::Ended { leftover } => {
                        self.end_body(out, dir, true, None);
                        if leftover > 0 {
                            let side = self.side(dir);
                            side.state = State::Resync;
                            side.skipped += leftover;
                            if kind == Kind::Response {
                                self.resp_gap = Some(ctx.frame);
                            }
                        }
                    }
                    GapOutcome::Lost => {
                        self.end_body(
                            out,
                            dir,
                            false,
                            Some(FramingError::GapInChunkFraming { missing }),
                        );
                        self.side(dir).state = State::Resync;
                        if kind == Kind::Response {
                            self.resp_gap = Some(ctx.frame);
                        }
                    }
                }
            }
        }
    }

    fn end(&mut self, out: &mut Out<'_>, ctx: &StreamCtx, dir: Direction) {
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

    fn close(&mut self, out: &mut Out<'_>, ctx: &StreamCtx) {
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

fn consumed(p: Push, data: &[u8]) -> usize {
    match p {
        Push::Complete(n) | Push::TooLarge(n) => n,
        Push::More => data.len(),
    }
}

fn parse_trailers(raw: &[u8]) -> Fields {
    if raw.is_empty() {
        // No trailer section (the body was not chunked, or had none).
        return Fields::new();
    }
    raw.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter_map(|l| {
            let colon = l.iter().position(|&b| b == b':')?;
            let name = String::from_utf8_lossy(l.get(..colon)?).trim().to_string();
            let value = String::from_utf8_lossy(l.get(colon + 1..)?)
                .trim()
                .to_string();
            (!name.is_empty()).then_some((name, value))
        })
        .collect()
}

#[cfg(test)]
mod tests;
