//! Records the dissectors emit for the outputs, one variant per kind of
//! record. A protocol adds its variant here (DNS exchanges, TLS sessions,
//! HTTP/2 streams …); the dissect stage passes every record on in the
//! order it was emitted, beside the packet that finished it, and
//! `output::sink::deliver` hands it to the sink method for its kind. An
//! output that knows nothing of a new kind keeps working unchanged: kinds
//! without a method of their own reach `Sink::record`, which ignores them
//! unless the output says otherwise.
//!
//! HTTP/1.x's per-packet notes ([`super::HttpNote`]) are not records: they
//! belong to the packet being dissected and travel with it
//! ([`super::PacketEvent::http`]).

use super::http::Exchange;

/// A typed record from a dissector.
#[derive(Debug, PartialEq)]
pub enum Record {
    /// An HTTP/1.x exchange ended (`Sink::http`). Boxed: records move
    /// between lists and threads as pointers.
    Http(Box<Exchange>),
    /// A test dissector's record (the registry's and the stages' tests).
    #[cfg(test)]
    Test(String),
}
