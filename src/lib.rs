//! netpeek: a network traffic inspector. tcpdump's lines, Wireshark's TCP
//! analysis, HTTP exchanges paired with their latencies.
//!
//! # Pipeline
//!
//! ```text
//!  source ──► decode ──► track ──► dissect ──► events ──► sinks
//!  frames     views      conns,     HTTP,                      timeline, text,
//!                        streams    follow tap                 JSON, pcapng,
//!                                                              HAR, tables
//! ```
//!
//! * [`source`]: frames from libpcap (live) or a pcap/pcapng file, numbered
//!   like Wireshark's `frame.number`, filtered with libpcap's BPF compiler.
//! * [`decode`]: borrowed layer views over each frame (etherparse), read
//!   into the tracker's TCP facts and, when an output shows packets, the
//!   packet view the outputs print from ([`event::PacketView`]); problems
//!   become [`decode::DecodeIssue`] values.
//! * [`track`]: TCP connections, relative sequence numbers, Wireshark's
//!   `tcp.analysis.*`, reassembly into byte streams.
//! * [`dissect`]: consumers of the reassembled streams: HTTP/1.x exchanges
//!   (request, response, latencies), recognised by content on any port;
//!   the `--follow` tap that keeps one stream's bytes; the
//!   secret-redaction policy.
//! * [`event`]: the vocabulary the outputs consume.
//! * [`output`]: the annotated timeline (and `--explain`, `--ladder`),
//!   tcpdump-style lines, NDJSON with ECS field names, pcapng with
//!   annotations as packet comments (rotated with `-C`/`-G`/`-W`), HAR,
//!   `--follow` views, the `--stats` tables and the closing summary.
//! * [`privileges`]: `-Z` and giving up capture capabilities once the
//!   device and outputs are open.
//!
//! # Untrusted input
//!
//! Every byte of a packet or a capture file is hostile until checked.
//! Lengths and offsets from input are bounds-checked (`get`, not indexing);
//! sequence arithmetic is wrapping; memory is bounded by explicit limits
//! ([`track::Limits`], the file readers' record cap). Malformed input is
//! reported as an annotation or one clear error, never a panic.

pub mod cli;
pub mod decode;
pub mod describe;
pub mod dissect;
pub mod error;
pub mod event;
#[doc(hidden)]
pub mod fuzzing;
pub mod output;
pub mod pipeline;
pub mod privileges;
pub mod source;
pub mod track;

pub use error::Error;

/// Where `part` lies in `buf`, when it is a slice of it (found by address,
/// so a borrowed piece can be named by offsets and passed on).
#[inline]
pub(crate) fn range_in(buf: &[u8], part: &[u8]) -> Option<std::ops::Range<usize>> {
    let start = (part.as_ptr() as usize).checked_sub(buf.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    (end <= buf.len()).then_some(start..end)
}
