//! A request's lifecycle: its head queued as a new exchange, its body
//! framing, and a body withheld after `Expect: 100-continue` was answered
//! with a final status.

use super::body::{coding_of, BodyReader, BodySink, Framing};
use super::conn::{Conn, Out};
use super::head::{sniff, Head, Kind, Sniff, StartLine};
use super::pairing::Slot;
use super::side::{At, Cur, State};
use crate::event::{Direction, Exchange, HttpAnomaly, HttpNote, Request};
use crate::track::StreamCtx;

impl Conn {
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
