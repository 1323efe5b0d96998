//! The words of notices (things worth telling that are not packets) and of
//! odd capture records.

use std::fmt;

use crate::event::{Direction, HttpNote, Notice, RecordIssue, TrackNotice};

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::KernelDropped { new, total } => {
                write!(f, "kernel dropped {new} packets ({total} so far): the capture has a gap here")
            }
            Notice::FilterNotApplicable { linktype, msg } => write!(
                f,
                "filter does not apply to link type {} ({}): {msg}; those frames are skipped",
                linktype.name(),
                linktype.0
            ),
            Notice::Track(TrackNotice::Evicted { count, limit }) => write!(
                f,
                "connection table full ({limit} connections): evicted the {count} least recently active \
                 (raise --max-connections to keep more)"
            ),
            Notice::Track(TrackNotice::BufferLimit { stream, dir, limit }) => write!(
                f,
                "stream #{stream} {}: reassembly buffer limit ({limit} bytes) reached, skipping a hole \
                 (raise --max-buffer to wait longer)",
                match dir {
                    Direction::ToServer => "client→server",
                    Direction::ToClient => "server→client",
                }
            ),
            Notice::Http(HttpNote::Notice { stream, text }) => write!(f, "http #{stream}: {text}"),
            Notice::Http(n) => write!(f, "http #{}: {n}", n.stream()),
        }
    }
}

impl fmt::Display for RecordIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordIssue::TimestampFractionOutOfRange { raw } => {
                write!(f, "timestamp fraction out of range (raw {raw}), clamped")
            }
            RecordIssue::NoTimestamp => f.write_str("no timestamp (pcapng simple packet block)"),
            RecordIssue::CaplenExceedsLen => f.write_str("captured length exceeds wire length"),
        }
    }
}
