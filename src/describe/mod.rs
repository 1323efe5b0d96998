//! Every word a user reads, written from the typed events: the timeline's
//! labels and notes, the `--explain` sentences, human sizes and durations.
//! Outputs lay these words out; dissectors and the tracker never write
//! prose.

pub mod annotate;
pub mod anomaly;
#[cfg(test)]
mod codes;
pub mod conn;
pub mod decode_issue;
pub mod http;
pub mod notice;
pub mod run;
pub mod units;

pub use units::{human_bytes, human_duration, write_bytes, write_duration};
