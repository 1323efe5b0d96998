//! Dissectors: turn reassembled TCP byte streams and UDP datagrams into
//! typed records. Protocols are recognised by content, never by port, and
//! never print: what they learn leaves as values of `crate::event`, which
//! `describe` puts into words and the outputs render.
//!
//! # The interface
//!
//! - [`StreamDissector`] — a protocol over an ordered byte stream:
//!   `probe(ctx, dir, first_bytes) -> Probe { Match, NoMatch, NeedMore }`,
//!   then `on_data(ctx, dir, bytes, span, out)`, `on_gap`, `on_end`,
//!   `on_close`. The [`StreamCtx`](crate::track::StreamCtx) names the
//!   connection (tshark's stream number, client, server) and the frame
//!   being processed; a [`FrameSpan`] names the first and last frame that
//!   carried a chunk (for TCP both are the current frame today: the
//!   tracker knows no other; a dissector gathering units across chunks
//!   gives real spans to the one above it).
//! - [`DatagramDissector`] — a protocol over UDP: `probe(ctx, payload) ->
//!   bool`, `on_datagram(ctx, payload, out)`, `on_input_end(out)`, with a
//!   [`DatagramCtx`] (frame, time, source and destination endpoints).
//! - [`Out`] — where results go, in order: records
//!   ([`Record`](crate::event::Record), one variant per kind; a kind no
//!   output knows reaches `Sink::record`, which ignores it, so adding one
//!   changes neither the tracker nor the outputs), per-packet notes
//!   (HTTP/1.x's [`HttpNote`](crate::event::HttpNote), shown beside the
//!   packet), and, for a protocol that carries another, the inner stream:
//!   `inner_hint(name)`, `inner_data(dir, bytes, span)`, `inner_gap`,
//!   `inner_end`.
//! - [`Registry`] — the dissect stage's one entry: it keeps a route per
//!   connection (the only per-connection lookup of the dispatch; the route
//!   goes at the close), chooses the dissector by probing, and routes
//!   inner streams the same way. The rules are in [`registry::route`]: the
//!   first dissector in priority order that matches claims, once every one
//!   before it said no; while some need more, calls are held (bounded in
//!   bytes and calls) and replayed in order to the claimer; a gap restarts
//!   what probes see; both ends, the close or the bound force a decision;
//!   unclaimed streams go to the fallback dissector if there is one, else
//!   are left alone.
//!
//! The `--follow` tap is no protocol: it reads every stream's bytes, beside
//! the registry (see `pipeline::stages`).
//!
//! # Adding a protocol
//!
//! **A stream protocol** (HTTP/1.x is the worked example, in
//! `http/protocol.rs`): implement [`StreamDissector`] for a type that keeps
//! per-connection state keyed by `ctx.stream`. Build `probe` from the
//! protocol's own first-bytes test — HTTP/1.x sniffs its first line:
//! a request or status line is `Match`, a line that cannot be one is
//! `NoMatch`, an incomplete but plausible line is `NeedMore`. Probes must
//! not change state; the bytes come again through `on_data` once the
//! connection is claimed. Emit records through `out` as they finish (HTTP
//! moves its notes and exchanges after each call), and forget the
//! connection at `on_close`. Put its record types in `crate::event`, a
//! variant in `Record`, its words in `crate::describe`. Register it in
//! `pipeline::dissectors` at its place in the priority order: before
//! HTTP/1.x for anything HTTP/1.x must not see (TLS, HTTP/2's preface,
//! which HTTP/1.x's probe rejects anyway). DNS over TCP is such a
//! protocol: its probe checks the 2-byte length and a DNS header, its
//! `on_data` splits messages on the length prefix.
//!
//! **A datagram protocol** (DNS over UDP): implement [`DatagramDissector`]
//! and register it in the registry's datagram list; the read stage then
//! passes UDP payloads on (and only then). The probe judges each datagram
//! by content; pairing (a query with its response) is the dissector's own
//! state, keyed by endpoints and ids; `on_input_end` emits what never got
//! an answer.
//!
//! **A stacked protocol** (TLS carrying HTTP): the outer dissector decodes
//! and hands the inner bytes on with `out.inner_data(dir, bytes, span)`,
//! naming the inner protocol first when it knows it (`out.inner_hint`
//! with the ALPN id: "http/1.1", "h2" — a dissector answers to the names
//! in its `hints()`), and passes gaps and ends on. The registry routes the
//! inner stream as it routes a connection: by the hint, else by probe.
//! The inner dissector sees the outer connection's context with the last
//! frame of the span as its frame, so its records name the TCP stream and
//! the frame where the inner bytes became whole. It is closed after the
//! outer one. A dissector never appears twice in one stack (it keeps one
//! state per connection): the registry skips the ones below in the stack.
//! The test dissector `testing::Framed` (a 2-byte length framing) shows
//! the pattern; HTTP/1.x carried in it gives the records of plain HTTP.

pub mod datagram;
pub mod follow;
pub mod http;
pub mod out;
pub mod registry;
pub mod stream;
pub mod tee;
#[cfg(test)]
pub(crate) mod testing;

pub use datagram::{DatagramCtx, DatagramDissector};
pub use out::Out;
pub use registry::{Limits, Registry};
pub use stream::{FrameAt, FrameSpan, Probe, StreamDissector};
