//! Tests of the HTTP state machine, driven like the tracker drives it:
//! each call is one frame delivering bytes of one direction.

use super::head::{HeadLimits, Kind};
use super::resync::MAX_CARRY;
use super::*;
use crate::event::{Direction, Endpoint, Exchange, FramingError, HttpAnomaly, HttpNote, Snippet};
use crate::track::{StreamConsumer, StreamCtx};
use Direction::{ToClient as S, ToServer as C};

/// The notes' sentences, as the outputs write them.
fn texts(notes: &[HttpAnomaly]) -> Vec<String> {
    notes.iter().map(ToString::to_string).collect()
}

/// Drives a dissector through one connection, one frame per call; frame
/// N happens at N milliseconds.
pub(crate) struct Script {
    pub d: HttpDissector,
    pub frame: u64,
    pub stream: u64,
    pub out: Vec<Exchange>,
    pub notes: Vec<(u64, HttpNote)>,
}

pub(crate) fn ep(port: u16) -> Endpoint {
    Endpoint {
        ip: "127.0.0.1".parse().unwrap(),
        port,
    }
}

impl Script {
    pub fn new(opts: HttpOptions) -> Self {
        Self {
            d: HttpDissector::new(opts),
            frame: 0,
            stream: 0,
            out: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn ctx(&self) -> StreamCtx {
        StreamCtx {
            stream: self.stream,
            frame: self.frame,
            ts_ns: self.frame as i64 * 1_000_000,
            client: ep(40000),
            server: ep(80),
        }
    }

    fn collect(&mut self) {
        self.out.extend(self.d.drain_exchanges().map(|x| *x));
        let f = self.frame;
        self.notes
            .extend(self.d.take_notes().into_iter().map(|n| (f, n)));
    }

    pub fn send(&mut self, dir: Direction, bytes: &[u8]) -> &mut Self {
        self.frame += 1;
        let ctx = self.ctx();
        self.d.data(&ctx, dir, bytes);
        self.collect();
        self
    }

    pub fn gap(&mut self, dir: Direction, n: u64) -> &mut Self {
        self.frame += 1;
        let ctx = self.ctx();
        self.d.gap(&ctx, dir, n);
        self.collect();
        self
    }

    pub fn fin(&mut self, dir: Direction) -> &mut Self {
        self.frame += 1;
        let ctx = self.ctx();
        self.d.end(&ctx, dir);
        self.collect();
        self
    }

    pub fn close(&mut self) -> Vec<Exchange> {
        let ctx = self.ctx();
        self.d.closed(&ctx);
        self.collect();
        std::mem::take(&mut self.out)
    }
}

fn run(steps: &[(Direction, &[u8])]) -> Vec<Exchange> {
    let mut s = Script::new(HttpOptions::default());
    for (d, b) in steps {
        s.send(*d, b);
    }
    s.close()
}

fn summary(x: &Exchange) -> String {
    let req = x
        .request
        .as_ref()
        .map(|r| {
            format!(
                "{} {} [{}-{}]",
                r.method, r.uri, r.msg.first_frame, r.msg.last_frame
            )
        })
        .unwrap_or_else(|| "-".into());
    let resp = x
        .response
        .as_ref()
        .map(|r| {
            format!(
                "{} {}B [{}-{}]",
                r.status, r.msg.body_bytes, r.msg.first_frame, r.msg.last_frame
            )
        })
        .unwrap_or_else(|| "-".into());
    format!("{req} => {resp}")
}

fn summaries(xs: &[Exchange]) -> Vec<String> {
    xs.iter().map(summary).collect()
}

mod exchanges;
mod framing;
mod gaps;
mod limits;
mod malformed;
mod proptests;
