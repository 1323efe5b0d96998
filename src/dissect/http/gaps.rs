//! Capture gaps: what bytes missing from a direction do in each state
//! (counted in a body, the end of a head and a search for the next message,
//! the mark that lets pairing notice a response lost in the gap).

use super::body::GapOutcome;
use super::conn::{Conn, Out};
use super::head::Kind;
use super::side::{At, State};
use crate::event::{Direction, FramingError, HttpAnomaly};
use crate::track::StreamCtx;

impl Conn {
    pub(super) fn gap(&mut self, out: &mut Out<'_>, ctx: &StreamCtx, dir: Direction, missing: u64) {
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
}
