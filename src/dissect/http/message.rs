//! A message from its parsed head to its end: the record made from the
//! head, the body read in the Body state, and the record finished (body
//! facts, trailers, notes) when the body ends.

use super::body::{BodyReader, BodySink, Coding, Framing, Step};
use super::conn::{Act, Conn, Out};
use super::head::{Facts, Kind};
use super::side::{At, Cur, State};
use crate::event::redact::{is_secret_header, redact};
use crate::event::{Body, Direction, Fields, FramingError, HttpAnomaly, HttpNote, Message, Text};
use crate::track::StreamCtx;

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

/// What reading a message's body takes, once its head is parsed.
pub(super) struct BodyPlan {
    pub(super) id: u64,
    pub(super) kind: Kind,
    pub(super) framing: Framing,
    pub(super) coding: Option<Coding>,
    /// A request that asked `Expect: 100-continue`.
    pub(super) expect_continue: bool,
}

impl Conn {
    /// The record of a message whose head was parsed: the version, the
    /// fields and the content facts move into it (`facts` keeps the rest).
    pub(super) fn message(
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

    /// The head of a message is done: its body is read next in `dir`, or,
    /// when the framing says there is none, the message is finished now
    /// and `dir` goes to `empty` (`None`: its state stays).
    // Always inlined: out of line, with its two callers, it cost ~50
    // instructions per message (1 % of the dissect thread).
    #[inline(always)]
    pub(super) fn start_body(
        &mut self,
        out: &mut Out<'_>,
        ctx: &StreamCtx,
        dir: Direction,
        plan: BodyPlan,
        empty: Option<State>,
    ) {
        let keep = if out.opts.keep_body {
            out.opts.body_limit
        } else {
            0
        };
        let reader = BodyReader::new(plan.framing);
        if reader.is_done() {
            if let Some(state) = empty {
                self.side(dir).state = state;
            }
            self.finish_message(
                out,
                plan.id,
                plan.kind,
                reader,
                BodySink::new(0, None, 0),
                At::of(ctx),
                true,
            );
        } else {
            let side = self.side(dir);
            side.state = State::Body;
            side.cur = Some(Cur {
                id: plan.id,
                kind: plan.kind,
                reader,
                sink: BodySink::new(keep, plan.coding, out.opts.max_decoded),
                last: At::of(ctx),
                expect_continue: plan.expect_continue,
            });
        }
    }

    pub(super) fn body_step(
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

    /// Ends the body being read in `dir`.
    pub(super) fn end_body(
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
    pub(super) fn finish_message(
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
