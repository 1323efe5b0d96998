//! One layer of routing: to which dissector a stream's bytes go — a TCP
//! connection's, or the inner stream a dissector hands on. A route starts
//! fresh, probes while some dissector needs more bytes (holding what came,
//! within bounds), and ends claimed by one dissector or unclaimed; a
//! claimed route carries the route of its inner stream, if any.
//!
//! The rules (also in the module docs of [`crate::dissect`]):
//!
//! - Dissectors are asked in priority order about the first bytes of the
//!   direction that has new data (since its start, or since its last gap).
//!   The first in that order that matches claims the stream, but only once
//!   every dissector before it has said no: one still needing more bytes
//!   holds the decision. A `NoMatch` is final for the stream; a `Match`
//!   is remembered while the decision is held.
//! - While undecided, data, gaps and ends are held in their order (both
//!   directions interleaved, each with its context and frame span) and
//!   replayed to the dissector that claims the stream, before the call
//!   that decided. A gap restarts the bytes probes see for its direction.
//! - The decision is forced — dissectors still needing more count as no —
//!   when the held bytes would pass `max_probe_bytes` or the held calls
//!   `max_probe_ops`, when both directions have ended, and at the close.
//! - No dissector claims it: the fallback dissector takes the stream if
//!   one is set (HTTP/1.x, which finds its messages mid-stream itself),
//!   else the stream is left alone until its close.
//! - Ends and closes of a stream that has carried nothing yet (no byte,
//!   no gap) are not held: there is no one to tell.
//! - A dissector is out of its slot while it runs, so it is never chosen
//!   for its own inner stream (nor for one further up its stack).

use std::ops::Range;

use super::super::out::{Inner, Out};
use super::super::stream::{FrameSpan, Probe, StreamDissector};
use crate::event::{Direction, HttpNote, Record};
use crate::track::StreamCtx;

/// Stream dissectors a registry can hold (the answers of one route's
/// probes are kept in a fixed array).
pub const MAX_STREAM_DISSECTORS: usize = 16;

/// How long a stream may stay undecided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes held (both directions) while probes need more.
    pub max_probe_bytes: usize,
    /// Calls held (data, gaps, ends) while probes need more.
    pub max_probe_ops: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_probe_bytes: 16 << 10,
            max_probe_ops: 128,
        }
    }
}

/// A stream dissector's place in the registry.
type Slot = Option<Box<dyn StreamDissector + Send>>;

/// The registry's stream dissectors, in priority order, and its choices.
pub(in crate::dissect) struct Set {
    /// `None` past the registered ones, and while the dissector runs (see
    /// the module docs). A fixed array: a claimed route's index needs no
    /// bounds check.
    pub(super) slots: [Slot; MAX_STREAM_DISSECTORS],
    pub(super) fallback: Option<usize>,
    pub(super) limits: Limits,
}

impl Set {
    pub(super) fn new(stream: Vec<Box<dyn StreamDissector + Send>>) -> Self {
        let mut slots: [Slot; MAX_STREAM_DISSECTORS] = Default::default();
        for (slot, d) in slots.iter_mut().zip(stream) {
            *slot = Some(d);
        }
        Self {
            slots,
            fallback: None,
            limits: Limits::default(),
        }
    }

    #[inline(always)]
    fn slot(&mut self, i: usize) -> &mut Slot {
        &mut self.slots[i % MAX_STREAM_DISSECTORS]
    }

    /// The fallback, unless it is running (it is below in this stack).
    fn fallback(&self) -> Option<usize> {
        self.fallback
            .filter(|&f| self.slots.get(f).is_some_and(Option::is_some))
    }
}

/// One call of the stream interface.
#[derive(Clone, Copy)]
pub(in crate::dissect) enum Op<'b> {
    Data(Direction, &'b [u8], FrameSpan),
    Gap(Direction, u64),
    End(Direction),
    Close,
}

/// Where one stream's calls go.
pub(in crate::dissect) struct Route {
    state: State,
    /// The inner stream's route, once the claiming dissector hands one on.
    child: Option<Box<Route>>,
}

enum State {
    /// Nothing seen yet.
    Fresh,
    Probing(Box<Probing>),
    Claimed(usize),
    /// No one claimed it: calls are dropped.
    Unclaimed,
}

type Answers = [Probe; MAX_STREAM_DISSECTORS];

/// An undecided stream: the probes' answers so far and the held calls.
struct Probing {
    answers: Answers,
    held: Vec<(StreamCtx, Held)>,
    /// Held bytes of each direction, back to back.
    bytes: [Vec<u8>; 2],
    /// Where each direction's bytes since its last gap begin in `bytes`.
    run: [usize; 2],
    held_bytes: usize,
    ended: [bool; 2],
}

enum Held {
    Data(Direction, Range<usize>, FrameSpan),
    Gap(Direction, u64),
    End(Direction),
}

/// What the probes made of a window.
enum Verdict {
    Claim(usize),
    /// A dissector needs more before any lower one may claim.
    Wait,
    /// Every dissector said no.
    NoOne,
}

/// What a call to an undecided route came to.
enum Step {
    /// The call is held.
    Wait,
    /// Claimed (or left alone, `None`); `held` says whether the call
    /// itself is among the held ones (it is then replayed with them).
    Decide { to: Option<usize>, held: bool },
}

impl Route {
    pub(in crate::dissect) fn fresh() -> Self {
        Self {
            state: State::Fresh,
            child: None,
        }
    }

    /// Whether a dissector has claimed the stream (and which).
    #[inline]
    pub(super) fn claimed_by(&self) -> Option<usize> {
        match self.state {
            State::Claimed(i) => Some(i),
            _ => None,
        }
    }

    /// Runs `f` on dissector `i` (the one that claimed this route), with
    /// this route's inner stream.
    #[inline(always)]
    pub(super) fn call<F>(
        &mut self,
        i: usize,
        set: &mut Set,
        ctx: &StreamCtx,
        notes: &mut Vec<HttpNote>,
        records: &mut Vec<Record>,
        f: F,
    ) where
        F: FnOnce(&mut dyn StreamDissector, &mut Out<'_>),
    {
        call(i, &mut self.child, set, ctx, notes, records, f);
    }
}

/// The route of an inner stream whose protocol a parent named: claimed at
/// once by the first free dissector answering to `hint`, else fresh.
pub(in crate::dissect) fn by_hint(set: &Set, hint: &str) -> Route {
    let named = set
        .slots
        .iter()
        .position(|s| s.as_ref().is_some_and(|d| d.hints().contains(&hint)));
    Route {
        state: named.map_or(State::Fresh, State::Claimed),
        child: None,
    }
}

/// Routes one call.
#[inline]
pub(in crate::dissect) fn step(
    route: &mut Route,
    set: &mut Set,
    ctx: &StreamCtx,
    op: Op<'_>,
    notes: &mut Vec<HttpNote>,
    records: &mut Vec<Record>,
) {
    match route.state {
        State::Claimed(i) => deliver(i, &mut route.child, set, ctx, op, notes, records),
        State::Unclaimed => {}
        State::Fresh | State::Probing(_) => undecided(route, set, ctx, op, notes, records),
    }
}

/// A call to a route not yet claimed: probe, hold or decide (and replay).
#[inline(never)]
fn undecided(
    route: &mut Route,
    set: &mut Set,
    ctx: &StreamCtx,
    op: Op<'_>,
    notes: &mut Vec<HttpNote>,
    records: &mut Vec<Record>,
) {
    let step = match &mut route.state {
        State::Fresh => fresh(&mut route.state, set, ctx, op),
        State::Probing(p) => probing(p, set, ctx, op),
        State::Claimed(_) | State::Unclaimed => return,
    };
    let Step::Decide { to, held } = step else {
        return;
    };
    let new = to.map_or(State::Unclaimed, State::Claimed);
    let old = std::mem::replace(&mut route.state, new);
    let Some(i) = to else { return };
    if let State::Probing(p) = old {
        let Probing { held, bytes, .. } = *p;
        for (ctx, h) in held {
            let op = match h {
                Held::Data(dir, r, span) => {
                    let b = bytes.get(dir.index()).and_then(|b| b.get(r));
                    Op::Data(dir, b.unwrap_or_default(), span)
                }
                Held::Gap(dir, missing) => Op::Gap(dir, missing),
                Held::End(dir) => Op::End(dir),
            };
            deliver(i, &mut route.child, set, &ctx, op, notes, records);
        }
    }
    if !held {
        deliver(i, &mut route.child, set, ctx, op, notes, records);
    }
}

/// The first call of a stream. Data is probed where it lies; it is
/// copied only when the probes need more.
fn fresh(state: &mut State, set: &Set, ctx: &StreamCtx, op: Op<'_>) -> Step {
    let mut answers = [Probe::NeedMore; MAX_STREAM_DISSECTORS];
    match op {
        Op::Data(dir, bytes, span) => {
            let window = bytes.get(..set.limits.max_probe_bytes).unwrap_or(bytes);
            match ask(&mut answers, set, ctx, dir, window) {
                Verdict::Claim(i) => Step::Decide {
                    to: Some(i),
                    held: false,
                },
                Verdict::NoOne => Step::Decide {
                    to: set.fallback(),
                    held: false,
                },
                Verdict::Wait if window.len() == bytes.len() => {
                    let mut p = Probing::new(answers);
                    p.hold_data(ctx, dir, bytes, span);
                    *state = State::Probing(Box::new(p));
                    Step::Wait
                }
                Verdict::Wait => Step::Decide {
                    to: settle(&answers, set),
                    held: false,
                },
            }
        }
        Op::Gap(dir, missing) => {
            let mut p = Probing::new(answers);
            p.held.push((*ctx, Held::Gap(dir, missing)));
            *state = State::Probing(Box::new(p));
            Step::Wait
        }
        Op::End(_) | Op::Close => Step::Wait,
    }
}

fn probing(p: &mut Probing, set: &Set, ctx: &StreamCtx, op: Op<'_>) -> Step {
    let limits = set.limits;
    let full = p.held.len() >= limits.max_probe_ops;
    let forced = |p: &Probing| Step::Decide {
        to: settle(&p.answers, set),
        held: false,
    };
    match op {
        Op::Data(dir, bytes, span) => {
            let d = dir.index();
            let room = limits.max_probe_bytes.saturating_sub(p.held_bytes);
            let take = bytes.get(..room).unwrap_or(bytes);
            let (Some(buf), Some(&run)) = (p.bytes.get_mut(d), p.run.get(d)) else {
                return forced(p);
            };
            let mark = buf.len();
            buf.extend_from_slice(take);
            let window = buf.get(run..).unwrap_or_default();
            let verdict = ask(&mut p.answers, set, ctx, dir, window);
            if matches!(verdict, Verdict::Wait) && take.len() == bytes.len() && !full {
                p.held.push((*ctx, Held::Data(dir, mark..buf.len(), span)));
                p.held_bytes += take.len();
                return Step::Wait;
            }
            // Decided with this call: it is delivered from where it lies.
            buf.truncate(mark);
            match verdict {
                Verdict::Claim(i) => Step::Decide {
                    to: Some(i),
                    held: false,
                },
                Verdict::NoOne => Step::Decide {
                    to: set.fallback(),
                    held: false,
                },
                Verdict::Wait => forced(p),
            }
        }
        _ if full => forced(p),
        Op::Gap(dir, missing) => {
            p.held.push((*ctx, Held::Gap(dir, missing)));
            let d = dir.index();
            if let (Some(run), Some(b)) = (p.run.get_mut(d), p.bytes.get(d)) {
                *run = b.len();
            }
            Step::Wait
        }
        Op::End(dir) => {
            p.held.push((*ctx, Held::End(dir)));
            if let Some(e) = p.ended.get_mut(dir.index()) {
                *e = true;
            }
            if p.ended == [true, true] {
                Step::Decide {
                    to: settle(&p.answers, set),
                    held: true,
                }
            } else {
                Step::Wait
            }
        }
        Op::Close => forced(p),
    }
}

impl Probing {
    fn new(answers: Answers) -> Self {
        Self {
            answers,
            held: Vec::new(),
            bytes: [Vec::new(), Vec::new()],
            run: [0, 0],
            held_bytes: 0,
            ended: [false, false],
        }
    }

    fn hold_data(&mut self, ctx: &StreamCtx, dir: Direction, bytes: &[u8], span: FrameSpan) {
        if let Some(buf) = self.bytes.get_mut(dir.index()) {
            let mark = buf.len();
            buf.extend_from_slice(bytes);
            self.held_bytes += bytes.len();
            self.held
                .push((*ctx, Held::Data(dir, mark..buf.len(), span)));
        }
    }
}

/// Asks the dissectors that have not answered for good about `window`,
/// in priority order. A running dissector (one below in this stack) is
/// out for this stream.
fn ask(
    answers: &mut Answers,
    set: &Set,
    ctx: &StreamCtx,
    dir: Direction,
    window: &[u8],
) -> Verdict {
    let mut waiting = false;
    for (i, (slot, a)) in set.slots.iter().zip(answers.iter_mut()).enumerate() {
        if *a == Probe::NeedMore {
            *a = match slot {
                Some(d) => d.probe(ctx, dir, window),
                None => Probe::NoMatch,
            };
        }
        match *a {
            Probe::Match if !waiting => return Verdict::Claim(i),
            Probe::NeedMore => waiting = true,
            _ => {}
        }
    }
    if waiting {
        Verdict::Wait
    } else {
        Verdict::NoOne
    }
}

/// A forced decision: the first dissector that matched, else the fallback.
fn settle(answers: &Answers, set: &Set) -> Option<usize> {
    answers
        .iter()
        .position(|a| *a == Probe::Match)
        .or_else(|| set.fallback())
}

/// Hands one call to dissector `i`, with the inner stream's route for
/// what it hands on; a close goes on to the inner stream afterwards.
#[inline]
fn deliver(
    i: usize,
    child: &mut Option<Box<Route>>,
    set: &mut Set,
    ctx: &StreamCtx,
    op: Op<'_>,
    notes: &mut Vec<HttpNote>,
    records: &mut Vec<Record>,
) {
    match op {
        Op::Data(dir, bytes, span) => call(i, child, set, ctx, notes, records, |d, out| {
            d.on_data(ctx, dir, bytes, span, out)
        }),
        Op::Gap(dir, missing) => call(i, child, set, ctx, notes, records, |d, out| {
            d.on_gap(ctx, dir, missing, out)
        }),
        Op::End(dir) => call(i, child, set, ctx, notes, records, |d, out| {
            d.on_end(ctx, dir, out)
        }),
        Op::Close => {
            call(i, child, set, ctx, notes, records, |d, out| {
                d.on_close(ctx, out)
            });
            if let Some(mut c) = child.take() {
                step(&mut c, set, ctx, Op::Close, notes, records);
            }
        }
    }
}

/// Runs `f` on dissector `i`, out of its slot meanwhile.
#[inline(always)]
fn call<F>(
    i: usize,
    child: &mut Option<Box<Route>>,
    set: &mut Set,
    ctx: &StreamCtx,
    notes: &mut Vec<HttpNote>,
    records: &mut Vec<Record>,
    f: F,
) where
    F: FnOnce(&mut dyn StreamDissector, &mut Out<'_>),
{
    let Some(mut d) = set.slot(i).take() else {
        return;
    };
    let inner = Inner {
        ctx,
        route: child,
        set,
    };
    f(d.as_mut(), &mut Out::with_inner(notes, records, inner));
    *set.slot(i) = Some(d);
}
