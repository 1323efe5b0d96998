//! Test-only dissectors for the registry's and the stages' tests: one that
//! logs every call it gets (its probe a magic prefix), one that strips a
//! 2-byte length framing and hands the payload upwards (a stand-in for
//! TLS), and a datagram dissector that turns tagged datagrams into
//! records.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::datagram::{DatagramCtx, DatagramDissector};
use super::out::Out;
use super::stream::{FrameSpan, Probe, StreamDissector};
use crate::event::{Direction, Endpoint, Record};
use crate::track::StreamCtx;

/// Calls seen by the test dissectors, in order, shared with the test.
#[derive(Clone, Default)]
pub struct Journal(Arc<Mutex<Vec<String>>>);

impl Journal {
    pub fn push(&self, line: String) {
        self.0.lock().unwrap().push(line);
    }

    /// Everything so far, emptied.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// How a [`Logger`]'s probe answers.
#[derive(Clone, Copy, Debug)]
pub enum Rule {
    /// `Match` once the bytes start with the magic, `NeedMore` while they
    /// are a prefix of it, else `NoMatch`.
    Magic(&'static [u8]),
    /// `Match` once `n` bytes are seen, `NeedMore` before.
    AfterBytes(usize),
    Always(Probe),
}

/// Logs every call as `name: what dir frame…` (and records one line per
/// data call, so the records' order can be checked too).
pub struct Logger {
    pub name: &'static str,
    pub rule: Rule,
    pub hints: &'static [&'static str],
    pub journal: Journal,
}

impl Logger {
    pub fn boxed(name: &'static str, rule: Rule, journal: &Journal) -> Box<Self> {
        Box::new(Self {
            name,
            rule,
            hints: &[],
            journal: journal.clone(),
        })
    }
}

fn d(dir: Direction) -> &'static str {
    match dir {
        Direction::ToServer => ">",
        Direction::ToClient => "<",
    }
}

impl StreamDissector for Logger {
    fn name(&self) -> &'static str {
        self.name
    }

    fn hints(&self) -> &'static [&'static str] {
        self.hints
    }

    fn probe(&self, ctx: &StreamCtx, dir: Direction, first: &[u8]) -> Probe {
        self.journal.push(format!(
            "{}: probe {} f{} {:?}",
            self.name,
            d(dir),
            ctx.frame,
            String::from_utf8_lossy(first)
        ));
        match self.rule {
            Rule::Magic(m) if first.starts_with(m) => Probe::Match,
            Rule::Magic(m) if m.starts_with(first) => Probe::NeedMore,
            Rule::Magic(_) => Probe::NoMatch,
            Rule::AfterBytes(n) if first.len() >= n => Probe::Match,
            Rule::AfterBytes(_) => Probe::NeedMore,
            Rule::Always(p) => p,
        }
    }

    fn on_data(
        &mut self,
        ctx: &StreamCtx,
        dir: Direction,
        bytes: &[u8],
        span: FrameSpan,
        out: &mut Out<'_>,
    ) {
        let line = format!(
            "{}: data {} f{} ({}..{}) {:?}",
            self.name,
            d(dir),
            ctx.frame,
            span.first.number,
            span.last.number,
            String::from_utf8_lossy(bytes)
        );
        out.record(Record::Test(line.clone()));
        self.journal.push(line);
    }

    fn on_gap(&mut self, ctx: &StreamCtx, dir: Direction, missing: u64, _out: &mut Out<'_>) {
        self.journal.push(format!(
            "{}: gap {} f{} {missing}",
            self.name,
            d(dir),
            ctx.frame
        ));
    }

    fn on_end(&mut self, ctx: &StreamCtx, dir: Direction, _out: &mut Out<'_>) {
        self.journal
            .push(format!("{}: end {} f{}", self.name, d(dir), ctx.frame));
    }

    fn on_close(&mut self, ctx: &StreamCtx, _out: &mut Out<'_>) {
        self.journal
            .push(format!("{}: close f{}", self.name, ctx.frame));
    }
}

/// The magic that starts each direction of a framed stream.
pub const FRAMED_MAGIC: &[u8] = b"LP1\n";

/// A stream of `[u16 length, big-endian][payload]` units after
/// [`FRAMED_MAGIC`]; each unit's payload goes upwards once whole, with
/// the span from the frame of its first byte to that of its last. A gap
/// loses the framing of its direction (the rest is passed over).
#[derive(Default)]
pub struct Framed {
    /// Names the inner protocol before the first unit (like ALPN).
    pub hint: Option<&'static str>,
    conns: HashMap<u64, [Side; 2]>,
}

#[derive(Default)]
struct Side {
    buf: Vec<u8>,
    /// Frame and time of `buf`'s first byte.
    first: Option<FrameSpan>,
    magic_seen: bool,
    lost: bool,
}

/// Frames `units` for a [`Framed`] stream (the magic first).
pub fn frame_units(units: &[&[u8]]) -> Vec<u8> {
    let mut v = FRAMED_MAGIC.to_vec();
    for u in units {
        v.extend_from_slice(&(u.len() as u16).to_be_bytes());
        v.extend_from_slice(u);
    }
    v
}

impl Framed {
    pub fn boxed(hint: Option<&'static str>) -> Box<Self> {
        Box::new(Self {
            hint,
            conns: HashMap::new(),
        })
    }
}

impl StreamDissector for Framed {
    fn name(&self) -> &'static str {
        "framed"
    }

    fn probe(&self, _ctx: &StreamCtx, _dir: Direction, first: &[u8]) -> Probe {
        if first.starts_with(FRAMED_MAGIC) {
            Probe::Match
        } else if FRAMED_MAGIC.starts_with(first) {
            Probe::NeedMore
        } else {
            Probe::NoMatch
        }
    }

    fn on_data(
        &mut self,
        ctx: &StreamCtx,
        dir: Direction,
        bytes: &[u8],
        span: FrameSpan,
        out: &mut Out<'_>,
    ) {
        let side = &mut self.conns.entry(ctx.stream).or_default()[dir.index()];
        if side.lost {
            return;
        }
        if let Some(h) = self.hint {
            out.inner_hint(h);
        }
        side.buf.extend_from_slice(bytes);
        let first = *side.first.get_or_insert(span);
        if !side.magic_seen {
            if side.buf.len() < FRAMED_MAGIC.len() {
                return;
            }
            side.buf.drain(..FRAMED_MAGIC.len());
            side.magic_seen = true;
        }
        let mut start = Some(first);
        while side.buf.len() >= 2 {
            let n = usize::from(u16::from_be_bytes([side.buf[0], side.buf[1]]));
            if side.buf.len() < 2 + n {
                break;
            }
            let unit: Vec<u8> = side.buf.drain(..2 + n).skip(2).collect();
            let from = start.take().unwrap_or(span);
            out.inner_data(dir, &unit, from.to(span));
        }
        // What is left began in this call's frames (or earlier, if no
        // unit ended here).
        side.first = if side.buf.is_empty() {
            None
        } else {
            Some(start.unwrap_or(span))
        };
    }

    fn on_gap(&mut self, ctx: &StreamCtx, dir: Direction, missing: u64, out: &mut Out<'_>) {
        let side = &mut self.conns.entry(ctx.stream).or_default()[dir.index()];
        if !side.lost {
            side.lost = true;
            side.buf.clear();
            out.inner_gap(dir, missing);
        }
    }

    fn on_end(&mut self, ctx: &StreamCtx, dir: Direction, out: &mut Out<'_>) {
        out.inner_end(dir);
        let _ = ctx;
    }

    fn on_close(&mut self, ctx: &StreamCtx, _out: &mut Out<'_>) {
        self.conns.remove(&ctx.stream);
    }
}

/// Datagrams that start with `TAG ` become a record
/// `"tag f<frame> <src> > <dst> <rest>"`; the end of the input adds
/// `"tag end (<n> seen)"`.
#[derive(Default)]
pub struct Tagger {
    seen: usize,
}

impl DatagramDissector for Tagger {
    fn name(&self) -> &'static str {
        "tag"
    }

    fn probe(&self, _ctx: &DatagramCtx, payload: &[u8]) -> bool {
        payload.starts_with(b"TAG ")
    }

    fn on_datagram(&mut self, ctx: &DatagramCtx, payload: &[u8], out: &mut Out<'_>) {
        self.seen += 1;
        let rest = String::from_utf8_lossy(payload.get(4..).unwrap_or_default());
        out.record(Record::Test(format!(
            "tag f{} {} > {} {rest}",
            ctx.frame, ctx.src, ctx.dst
        )));
    }

    fn on_input_end(&mut self, out: &mut Out<'_>) {
        out.record(Record::Test(format!("tag end ({} seen)", self.seen)));
    }
}

/// A connection's context at a frame (client 10.0.0.1:40000, server
/// 10.0.0.2:80, time = frame × 1 ms).
pub fn ctx(stream: u64, frame: u64) -> StreamCtx {
    let ep = |last: u8, port| Endpoint {
        ip: std::net::Ipv4Addr::new(10, 0, 0, last).into(),
        port,
    };
    StreamCtx {
        stream,
        frame,
        ts_ns: frame as i64 * 1_000_000,
        client: ep(1, 40000),
        server: ep(2, 80),
    }
}
