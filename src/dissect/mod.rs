//! Dissectors: turn reassembled TCP byte streams into application messages.
//!
//! A dissector implements [`crate::track::StreamConsumer`]; the tracker
//! pushes each direction's in-order bytes, gaps and ends into it. Protocols
//! are recognised by content, never by port. Dissectors produce records
//! (see [`crate::event::Exchange`]) and never print.

pub mod follow;
pub mod http;
pub mod tee;
