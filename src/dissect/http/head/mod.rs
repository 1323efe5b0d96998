//! HTTP/1.x message heads: the start line and the header fields up to the
//! blank line.
//!
//! [`HeadBuf`] gathers a head from a byte stream split anywhere (a request
//! line spread over six segments parses like one in a single segment), up
//! to a size limit. [`parse_head`] turns the finished head into a [`Head`]
//! with `httparse`; when httparse rejects it, a lenient line parser takes
//! over, so a slightly broken message is still reported (with a note saying
//! what was wrong) instead of being lost. [`classify_line`] and
//! [`sniff`] decide whether bytes at the start of a direction, or after a
//! gap, begin an HTTP message at all.
//!
//! Where each part lives: this file has what a head becomes ([`Head`],
//! [`StartLine`]) and its limits ([`HeadLimits`]); start.rs recognises a
//! message start ([`sniff`], [`classify_line`], [`find_start`]); buf.rs
//! gathers a head ([`HeadBuf`]); parse.rs parses it with httparse, gathered
//! or where it lies in a segment ([`parse_head`], [`parse_whole`]);
//! lenient.rs parses, line by line, the heads httparse rejects; facts.rs
//! learns what the fields say ([`Facts`]: framing, content, secrets) in the
//! same pass over them; recent.rs shares the text a connection's heads
//! repeat ([`Recent`]).

mod buf;
mod facts;
mod lenient;
mod parse;
mod recent;
mod start;
#[cfg(test)]
mod tests;

pub use buf::{HeadBuf, Push};
pub use facts::Facts;
pub use parse::{parse_head, parse_whole};
pub use recent::{Recent, RECENT_MAX};
pub use start::{classify_line, find_start, sniff, Sniff, KNOWN_METHODS};

use crate::event::{Fields, HttpAnomaly, MessageKind, Shared, Text};

/// Which kind of message a start line begins.
pub type Kind = MessageKind;

/// A parsed start line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartLine {
    Request {
        method: Text,
        uri: Shared,
        version: Text,
    },
    Response {
        version: Text,
        status: u16,
        reason: Text,
    },
}

/// A parsed head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub start: StartLine,
    /// Header fields in order, at most the configured number; values as
    /// text (invalid UTF-8 replaced).
    pub headers: Fields,
    pub facts: Facts,
    /// What was wrong with the head, if anything.
    pub notes: Vec<HttpAnomaly>,
    /// What the fields take in memory when kept (their names and values,
    /// and 8 bytes each), whether or not `headers` holds them.
    pub fields_size: usize,
}

/// Limits applied to a head, and what is kept of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadLimits {
    /// Bytes of a head, start line included.
    pub max_bytes: usize,
    /// Header fields kept per head.
    pub max_headers: usize,
    /// Keep the header fields (an output shows them). Without, `headers`
    /// stays empty; the facts are gathered from every field either way.
    pub keep_fields: bool,
}

impl HeadLimits {
    /// The field limit as applied (at least one, at most 10,000).
    pub(super) fn max_fields(&self) -> usize {
        self.max_headers.clamp(1, 10_000)
    }
}

impl Default for HeadLimits {
    fn default() -> Self {
        Self {
            max_bytes: 64 * 1024,
            max_headers: 128,
            keep_fields: true,
        }
    }
}
