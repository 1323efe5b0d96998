//! The words of a run's summaries and warnings: the timeline's closing
//! lines, the sentences of `--stats` (table titles and column headers stay
//! with the tables in the outputs) and what `--follow` warns about.

use crate::event::Direction;

/// Under the conversation table: what its columns count.
pub const CONVERSATIONS_FOOTER: &str =
    "bytes are TCP payload; rtt is the handshake round trip (SYN → first ACK)";

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The timeline's closing heading: `Summary: 12 packets, 1 TCP
/// connection, 1.2 s`.
pub fn timeline_summary(packets: u64, connections: u64, span_ns: i64) -> String {
    format!(
        "Summary: {packets} packet{}, {connections} TCP connection{}, {}",
        plural(packets),
        plural(connections),
        super::human_duration(span_ns.max(0))
    )
}

/// After the connections the timeline's summary lists.
pub fn more_connections(n: u64) -> String {
    format!("… and {n} more connection{}", plural(n))
}

/// When a filter left frames out.
pub fn frames_matched(shown: u64, read: u64) -> String {
    format!("{shown} of {read} frames matched the filter")
}

/// After the `--stats` conversation table, when rows were left out.
pub fn connections_not_listed(n: u64) -> String {
    format!("… and {n} more connections (not listed)")
}

/// The `--stats` line on handshake round trips (durations already in
/// words) and retransmissions.
pub fn handshake_rtt(
    min: &str,
    median: &str,
    max: &str,
    connections: u64,
    retransmissions: u64,
) -> String {
    format!(
        "handshake rtt: min {min}  median {median}  max {max}  over {connections} connections; \
         {retransmissions} retransmissions in all"
    )
}

/// `--follow … raw` cannot mark a gap in the bytes it prints: it says so.
pub fn follow_raw_gap(stream: u64, dir: Direction, missing: u64) -> String {
    let whose = match dir {
        Direction::ToServer => "client's data",
        Direction::ToClient => "server's data",
    };
    format!(
        "stream {stream}: {missing} bytes of the {whose} were never captured; the raw output goes on without them"
    )
}

/// `--follow N` named a stream the input does not have.
pub fn follow_stream_not_seen(stream: u64) -> String {
    format!(
        "stream {stream} was not seen in the input (streams are numbered from 0, as Wireshark's tcp.stream)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_summaries_read_as_before() {
        assert_eq!(
            timeline_summary(1, 1, 1_200_000_000),
            "Summary: 1 packet, 1 TCP connection, 1.20 s"
        );
        assert_eq!(
            timeline_summary(12, 0, -5),
            "Summary: 12 packets, 0 TCP connections, 0 ns"
        );
        assert_eq!(more_connections(1), "… and 1 more connection");
        assert_eq!(more_connections(3), "… and 3 more connections");
        assert_eq!(frames_matched(3, 10), "3 of 10 frames matched the filter");
        assert_eq!(
            connections_not_listed(2),
            "… and 2 more connections (not listed)"
        );
        assert_eq!(
            handshake_rtt("10 µs", "30 µs", "1.0 ms", 5, 2),
            "handshake rtt: min 10 µs  median 30 µs  max 1.0 ms  over 5 connections; 2 retransmissions in all"
        );
        assert_eq!(
            follow_raw_gap(4, Direction::ToClient, 100),
            "stream 4: 100 bytes of the server's data were never captured; the raw output goes on without them"
        );
        assert_eq!(
            follow_stream_not_seen(9),
            "stream 9 was not seen in the input (streams are numbered from 0, as Wireshark's tcp.stream)"
        );
    }
}
