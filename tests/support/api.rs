//! Every path into the netpeek library that the integration tests use, in
//! one place: when a type moves inside src/, this file is the one to
//! change. (Everything else drives the binary, `CARGO_BIN_EXE_netpeek`.)
#![allow(unused_imports)]

pub use netpeek::decode::{decode, TcpMeta};
pub use netpeek::event::{CloseKind, Closer, ConnRecord, Direction, TcpFlags, TcpInfo, TcpOptions};
pub use netpeek::fuzzing;
pub use netpeek::output::summary::write_conn_summary;
pub use netpeek::source::file::FileSource;
pub use netpeek::source::{Next, PacketSource};
pub use netpeek::track::{Limits, NoConsumer, StreamConsumer, StreamCtx, TrackEvent, Tracker};
