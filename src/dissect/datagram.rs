//! The datagram dissector interface: what a protocol carried in UDP
//! datagrams (DNS, mDNS, NTP …) implements. Each datagram is offered to
//! the registered datagram dissectors in order, by content, on any port;
//! the first whose probe says yes gets it. There is no connection: a
//! protocol that pairs messages (a DNS query with its response) keeps its
//! own state, keyed by what it pairs on (endpoints, ids).

use super::out::Out;
use crate::event::Endpoint;

/// Where and when a datagram was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DatagramCtx {
    pub frame: u64,
    pub ts_ns: i64,
    pub src: Endpoint,
    pub dst: Endpoint,
}

/// A protocol over UDP datagrams.
pub trait DatagramDissector {
    /// Short name, for logs and tests ("dns").
    fn name(&self) -> &'static str;

    /// Is this datagram this protocol's (by content; the ports are in
    /// `ctx` for protocols that need them as a hint)? Must not change
    /// state.
    fn probe(&self, ctx: &DatagramCtx, payload: &[u8]) -> bool;

    /// A datagram this dissector claimed. `out` carries records and
    /// per-packet notes; datagrams have no inner stream to hand on.
    fn on_datagram(&mut self, ctx: &DatagramCtx, payload: &[u8], out: &mut Out<'_>);

    /// The input ended: emit what is still pending (queries never
    /// answered).
    fn on_input_end(&mut self, _out: &mut Out<'_>) {}
}
