//! A response's lifecycle: paired with its request, interim 1xx attached
//! to it, switching protocols or a CONNECT tunnel, the framing decided
//! from the status and the request, the held request side released.

use super::body::{coding_of, BodyReader, BodySink, Framing};
use super::conn::{Conn, Out};
use super::head::{Head, Kind, StartLine};
use super::pairing::Slot;
use super::side::{At, Cur, State};
use crate::event::{Direction, Exchange, HttpAnomaly, HttpNote, Interim, Response};
use crate::track::StreamCtx;

impl Conn {
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
}
