//! A response's lifecycle: paired with its request, interim 1xx attached
//! to it, switching protocols or a CONNECT tunnel, the framing decided
//! from the status and the request, the held request side released.

use super::body::{coding_of, Framing};
use super::conn::{Conn, Out};
use super::head::{Facts, Head, Kind, StartLine};
use super::message::BodyPlan;
use super::side::{At, State};
use crate::event::{Direction, HttpAnomaly, HttpNote, Interim, Response};
use crate::track::StreamCtx;

impl Conn {
    /// A response head was parsed: it answers the oldest unanswered request
    /// (an interim 1xx only attaches to it), then its body is read, or the
    /// connection leaves HTTP.
    pub(super) fn on_response(
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
        let target = self.oldest_unanswered();
        for n in &head_notes {
            out.notes.push(HttpNote::Anomaly {
                stream: self.stream,
                anomaly: n.clone(),
            });
        }
        // Interim responses: 1xx other than 101.
        if (100..200).contains(&status) && status != 101 {
            let interim = Interim {
                status,
                reason,
                first_frame: at.frame,
                last_frame: ctx.frame,
                ts_ns: at.ts,
            };
            self.on_interim(out, dir, target, interim, head_notes);
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
            None => self.queue_unpaired_response(out),
        };
        let asked = self.attach_response(id, status, fields_size, head_notes);
        // (Placed here: moved into a call, the record was copied once more.)
        if let Some(s) = self.slot(id) {
            s.x.response = Some(response);
        }
        let (framing, tunnel) = response_framing(status, &f, has_te, asked);
        match tunnel {
            Some(t) => self.start_tunnel(out, id, t),
            None => self.release_held(out, ctx),
        }
        let plan = BodyPlan {
            id,
            kind: Kind::Response,
            framing,
            coding,
            expect_continue: false,
        };
        // (In a tunnel, the direction stays in it.)
        let empty = (!self.tunnel).then_some(State::Head);
        self.start_body(out, ctx, dir, plan, empty);
    }

    /// An interim (1xx) response belongs to the request it precedes; the
    /// final response is still to come.
    fn on_interim(
        &mut self,
        out: &mut Out<'_>,
        dir: Direction,
        target: Option<u64>,
        interim: Interim,
        head_notes: Vec<HttpAnomaly>,
    ) {
        if out.opts.message_notes {
            out.notes.push(HttpNote::Interim {
                stream: self.stream,
                status: interim.status,
                reason: interim.reason.clone(),
            });
        }
        match target.and_then(|id| self.slot(id)) {
            Some(s) => {
                s.x.interim.push(interim);
                s.x.notes.extend(head_notes);
            }
            None => {
                self.carry.push(HttpAnomaly::InterimWithoutRequest {
                    status: interim.status,
                    reason: interim.reason,
                });
                self.carry.extend(head_notes);
            }
        }
        self.side(dir).state = State::Head;
    }

    /// A response starts in exchange `id`, with the notes waiting for it;
    /// returns what its request asked that frames the response.
    fn attach_response(
        &mut self,
        id: u64,
        status: u16,
        fields_size: usize,
        head_notes: Vec<HttpAnomaly>,
    ) -> Asked {
        let carry = std::mem::take(&mut self.carry);
        match self.slot(id) {
            Some(s) => {
                s.resp_started = true;
                s.fields_size += fields_size;
                s.x.notes.extend(carry);
                s.x.notes.extend(head_notes);
                let req = s.x.request.as_ref();
                let method_is = |m: &str| req.is_some_and(|r| r.method.eq_ignore_ascii_case(m));
                Asked {
                    head: method_is("HEAD"),
                    connect: method_is("CONNECT"),
                    upgrade: s.req_upgrade.clone().filter(|_| status == 101),
                }
            }
            None => Asked {
                head: false,
                connect: false,
                upgrade: None,
            },
        }
    }

    /// The request side waited (Hold) for this answer, which keeps the
    /// connection HTTP: what it held is parsed now.
    fn release_held(&mut self, out: &mut Out<'_>, ctx: &StreamCtx) {
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
}

/// What the request a response answers says about the response's framing.
struct Asked {
    /// A HEAD request: the response has no body.
    head: bool,
    connect: bool,
    /// The request's Upgrade field, when the response is a 101.
    upgrade: Option<String>,
}

/// How a response's body is delimited, and the note when the connection
/// leaves HTTP with it (a 101, or a 2xx to CONNECT). `has_te`: the head had
/// a Transfer-Encoding (`facts` no longer holds it).
fn response_framing(
    status: u16,
    f: &Facts,
    has_te: bool,
    asked: Asked,
) -> (Framing, Option<HttpAnomaly>) {
    if asked.head || status == 204 || status == 304 {
        (Framing::None, None)
    } else if status == 101 {
        let to = f.upgrade.clone().or(asked.upgrade);
        (Framing::None, Some(HttpAnomaly::ProtocolSwitched { to }))
    } else if asked.connect && (200..300).contains(&status) {
        (Framing::None, Some(HttpAnomaly::ConnectTunnel))
    } else if f.chunked {
        (Framing::Chunked, None)
    } else if has_te {
        (Framing::UntilClose, None)
    } else if let Some(n) = f.content_length {
        (Framing::Length(n), None)
    } else {
        (Framing::UntilClose, None)
    }
}
