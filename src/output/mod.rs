//! Sinks: renderers and writers of events. Adding an output never touches
//! a dissector.

pub mod dump;
pub mod json;
pub mod line;
pub mod pcapng;
pub mod summary;
pub mod text;
pub mod time;
