//! The words of notices (things worth telling that are not packets) and of
//! odd capture records (decode issues: `decode_issue`).

use std::fmt;

use super::anomaly::direction_words;
use crate::event::{HttpNote, Notice, RecordIssue, TrackNotice};

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::KernelDropped { new, total } => {
                write!(
                    f,
                    "kernel dropped {new} packets ({total} so far): the capture has a gap here"
                )
            }
            Notice::FilterNotApplicable { linktype, msg } => write!(
                f,
                "filter does not apply to link type {} ({}): {msg}; those frames are skipped",
                linktype.name(),
                linktype.0
            ),
            Notice::Track(t) => t.fmt(f),
            Notice::Http(HttpNote::Anomaly { stream, anomaly }) => {
                write!(f, "http #{stream}: {anomaly}")
            }
            Notice::Http(n) => write!(f, "http #{}: {n}", n.stream()),
        }
    }
}

impl fmt::Display for TrackNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrackNotice::Evicted { count, limit } => write!(
                f,
                "connection table full ({limit} connections): evicted the {count} least recently active \
                 (raise --max-connections to keep more)"
            ),
            TrackNotice::BufferLimit { stream, dir, limit } => write!(
                f,
                "stream #{stream} {}: reassembly buffer limit ({limit} bytes) reached, skipping a hole \
                 (raise --max-buffer to wait longer)",
                direction_words(*dir)
            ),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Direction, HttpAnomaly, LinkType};

    #[test]
    fn notices_read_as_before() {
        let cases = [
            (
                Notice::KernelDropped { new: 5, total: 12 },
                "kernel dropped 5 packets (12 so far): the capture has a gap here",
            ),
            (
                Notice::FilterNotApplicable {
                    linktype: LinkType(147),
                    msg: "unknown link type".into(),
                },
                "filter does not apply to link type UNKNOWN (147): unknown link type; those frames are skipped",
            ),
            (
                Notice::Track(TrackNotice::Evicted {
                    count: 10,
                    limit: 100,
                }),
                "connection table full (100 connections): evicted the 10 least recently active \
                 (raise --max-connections to keep more)",
            ),
            (
                Notice::Track(TrackNotice::BufferLimit {
                    stream: 3,
                    dir: Direction::ToClient,
                    limit: 1024,
                }),
                "stream #3 server→client: reassembly buffer limit (1024 bytes) reached, skipping a hole \
                 (raise --max-buffer to wait longer)",
            ),
            (
                Notice::Http(HttpNote::Anomaly {
                    stream: 7,
                    anomaly: HttpAnomaly::RequestWithoutResponse { switched: false },
                }),
                "http #7: request without response",
            ),
            (
                Notice::Http(HttpNote::Interim {
                    stream: 2,
                    status: 100,
                    reason: "Continue".into(),
                }),
                "http #2: ← 100 Continue",
            ),
        ];
        for (n, text) in cases {
            assert_eq!(n.to_string(), text);
        }
    }

    #[test]
    fn record_issues_read_as_before() {
        assert_eq!(
            RecordIssue::TimestampFractionOutOfRange { raw: 1_000_000 }.to_string(),
            "timestamp fraction out of range (raw 1000000), clamped"
        );
        assert_eq!(
            RecordIssue::NoTimestamp.to_string(),
            "no timestamp (pcapng simple packet block)"
        );
        assert_eq!(
            RecordIssue::CaplenExceedsLen.to_string(),
            "captured length exceeds wire length"
        );
    }
}
