//! A request's lifecycle: its head queued as a new exchange, its body
//! framing, and a body withheld after `Expect: 100-continue` was answered
//! with a final status.

use super::body::{coding_of, BodyReader, Framing};
use super::conn::{Conn, Out};
use super::head::{sniff, Facts, Head, Kind, Sniff, StartLine};
use super::message::BodyPlan;
use super::pairing::Slot;
use super::side::{At, State};
use crate::event::{Direction, Exchange, HttpAnomaly, HttpNote, Request};
use crate::track::StreamCtx;

impl Conn {
    /// A request head was parsed: a new exchange joins the queue, then its
    /// body is read.
    pub(super) fn on_request(
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
        let framing = self.request_framing(out, &f, &mut notes);
        let coding = f.content_encoding.as_deref().and_then(coding_of);
        let upgrade_like = method.eq_ignore_ascii_case("CONNECT") || f.upgrade.is_some();
        let expect_continue = f.expect_continue;
        let host = f.host.take();
        let show = out.opts.show_secrets;
        let msg = Self::message(version, headers, &mut f, at, ctx, head_len, show);
        let request = Request {
            method,
            uri,
            host,
            msg,
        };
        let id = self.queue_request(out, request, notes, fields_size, f.upgrade);
        let plan = BodyPlan {
            id,
            kind: Kind::Request,
            framing,
            coding,
            expect_continue,
        };
        // Without a body, an Upgrade or CONNECT waits for its answer.
        let empty = if upgrade_like {
            State::Hold
        } else {
            State::Head
        };
        self.start_body(out, ctx, dir, plan, Some(empty));
    }

    /// How a request's body is delimited: chunked, by length, or none; a
    /// transfer coding other than chunked leaves only the close (noted).
    fn request_framing(
        &self,
        out: &mut Out<'_>,
        f: &Facts,
        notes: &mut Vec<HttpAnomaly>,
    ) -> Framing {
        if f.chunked {
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
        }
    }

    /// A new exchange at the end of the queue, waiting for its response;
    /// returns its id.
    fn queue_request(
        &mut self,
        out: &mut Out<'_>,
        request: Request,
        notes: Vec<HttpAnomaly>,
        fields_size: usize,
        req_upgrade: Option<String>,
    ) -> u64 {
        let (client, server) = self.endpoints();
        let id = self.next_id;
        self.next_id += 1;
        self.queue.push_back(Slot {
            id,
            x: Box::new(Exchange {
                stream: self.stream,
                client: Some(client),
                server: Some(server),
                request: Some(request),
                response: None,
                interim: Vec::new(),
                notes,
            }),
            fields_size,
            req_upgrade,
            req_done: false,
            resp_started: false,
            resp_done: false,
        });
        self.bound_queue(out);
        id
    }

    /// A client that sent `Expect: 100-continue` and got a final answer
    /// instead may skip the body and send its next request: when the bytes
    /// where the body would start are a request line, the body was not
    /// sent. Returns true when the request was ended that way.
    pub(super) fn body_withheld(&mut self, out: &mut Out<'_>, dir: Direction, data: &[u8]) -> bool {
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
}
