//! The outputs' interface: what the run hands to every output, in capture
//! order (packets with their annotations, connection records, HTTP
//! exchanges, followed chunks, notices, and the end of the run).

use std::io;

use crate::describe::annotate::Annotation;
use crate::event::{
    ConnRecord, Exchange, FollowChunk, InterfaceInfo, Notice, PacketEvent, Record, RunStats,
};

/// An output: renders or stores events.
pub trait Sink {
    /// A packet, with what it means in words (`describe::annotate`; empty
    /// when no output shows them).
    fn packet(&mut self, p: &PacketEvent<'_, '_>, annotations: &[Annotation]) -> io::Result<()>;
    /// False for an output that ignores packets (only records and tables):
    /// when no output wants them, frames are not kept for the output stage.
    fn wants_packets(&self) -> bool {
        true
    }
    fn connection(&mut self, _c: &ConnRecord) -> io::Result<()> {
        Ok(())
    }
    fn notice(&mut self, _n: &Notice, _ts_ns: Option<i64>) -> io::Result<()> {
        Ok(())
    }
    /// False for an output that never looks at the header fields of an
    /// exchange ([`Exchange`]'s `headers`): when no output does, the
    /// dissector does not keep them (it still reads every field).
    fn wants_http_fields(&self) -> bool {
        true
    }
    /// An HTTP exchange ended (its response ended, or the connection or
    /// the input did).
    fn http(&mut self, _x: &Exchange) -> io::Result<()> {
        Ok(())
    }
    /// A dissector's record of a kind without a method of its own (see
    /// [`deliver`]): outputs that do not show it ignore it.
    fn record(&mut self, _r: &Record) -> io::Result<()> {
        Ok(())
    }
    /// A piece of the stream followed with `--follow`.
    fn follow(&mut self, _c: &FollowChunk) -> io::Result<()> {
        Ok(())
    }
    /// Interfaces are known (or grew): called before the first packet of a
    /// new interface.
    fn interfaces(&mut self, _all: &[InterfaceInfo]) -> io::Result<()> {
        Ok(())
    }
    fn finish(&mut self, _stats: &RunStats) -> io::Result<()> {
        Ok(())
    }
}

/// Hands a dissector's record to the sink's method for its kind: a kind
/// with a method of its own (HTTP exchanges) to that, any other to
/// [`Sink::record`].
#[inline]
pub fn deliver(sink: &mut dyn Sink, r: &Record) -> io::Result<()> {
    match r {
        Record::Http(x) => sink.http(x),
        #[allow(unreachable_patterns)] // (only the test kind lands here today)
        other => sink.record(other),
    }
}
