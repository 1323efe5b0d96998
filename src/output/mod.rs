//! Sinks: renderers and writers of events. Adding an output never touches
//! a dissector.

pub mod digits;
pub mod dump;
pub mod ecs;
pub mod files;
pub mod follow;
pub mod har;
pub mod json;
pub mod json_writer;
pub mod ladder;
pub mod line;
pub mod pcapng;
pub mod progress;
pub mod rotate;
pub mod sink;
pub mod stats;
pub mod summary;
pub mod text;
pub mod theme;
pub mod time;
pub mod timeline;

pub use sink::Sink;
