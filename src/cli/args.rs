//! The command line, as the user typed it. tcpdump's flags keep tcpdump's
//! meaning; netpeek's own behaviour has long options. These doc comments are
//! the `--help` text.

use std::path::PathBuf;

use clap::{ArgAction, Parser, ValueEnum};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// Colour when stdout is a terminal and NO_COLOR is not set.
    Auto,
    Always,
    Never,
}

/// `--follow-format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FollowFormatArg {
    /// tshark's `-z follow,tcp,ascii` layout: a length line per chunk (tab
    /// indented for the server), then the bytes, unprintable ones as `.`.
    Ascii,
    /// A hex dump per chunk, offsets counted per direction.
    Hex,
    /// The bytes of one direction (--follow-side), nothing else.
    Raw,
}

/// `--follow-side`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FollowSideArg {
    /// What the client (the side that sent the SYN) sent.
    Client,
    /// What the server sent.
    Server,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TsPrecision {
    Micro,
    Nano,
}

/// netpeek: tcpdump's lines, Wireshark's analysis, an annotated timeline.
///
/// Capture live (`netpeek -i lo port 8000`) or read a capture file
/// (`netpeek -r capture.pcapng`). Trailing arguments form a BPF filter in
/// tcpdump's language, applied to live captures and to files alike.
#[derive(Debug, Parser)]
#[command(name = "netpeek", version, about, long_about = None, disable_help_flag = false)]
pub struct Args {
    /// Capture on this interface ("any" for all); default: the first up,
    /// non-loopback interface, as tcpdump picks it.
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    pub interface: Option<String>,

    /// List the interfaces that can be captured on, then exit.
    #[arg(short = 'D', long = "list-interfaces")]
    pub list_interfaces: bool,

    /// Read packets from a pcap or pcapng file ("-" for standard input).
    #[arg(short = 'r', value_name = "FILE")]
    pub read: Option<PathBuf>,

    /// Write the packets to a pcapng file ("-" for standard output).
    #[arg(short = 'w', value_name = "FILE")]
    pub write: Option<PathBuf>,

    /// Stop after this many packets (after filtering).
    #[arg(short = 'c', value_name = "COUNT")]
    pub count: Option<u64>,

    /// Bytes captured per packet (0 means 262144).
    #[arg(
        short = 's',
        long = "snapshot-length",
        value_name = "SNAPLEN",
        default_value_t = 262144
    )]
    pub snaplen: u32,

    /// Kernel capture buffer in KiB (default 32768: large enough not to drop
    /// under loopback bursts).
    #[arg(short = 'B', long = "buffer-size", value_name = "KiB")]
    pub buffer_kib: Option<u32>,

    /// Do not put the interface into promiscuous mode.
    #[arg(short = 'p', long = "no-promiscuous-mode")]
    pub no_promiscuous: bool,

    /// Do not resolve names (netpeek never does; accepted for tcpdump's sake).
    #[arg(short = 'n', action = ArgAction::Count)]
    pub numeric: u8,

    /// Print each packet (minus its link-level header) in ASCII.
    #[arg(short = 'A')]
    pub ascii: bool,

    /// Print each packet (minus its link-level header) in hex and ASCII.
    #[arg(short = 'X')]
    pub hex_ascii: bool,

    /// Print the link-level header on each line.
    #[arg(short = 'e')]
    pub link_header: bool,

    /// Timestamp style: -t none, -tt epoch seconds, -ttt delta to the
    /// previous packet, -tttt date and time, -ttttt delta to the first.
    #[arg(short = 't', action = ArgAction::Count)]
    pub time: u8,

    /// Print timestamps with this precision.
    #[arg(long = "time-stamp-precision", value_enum, value_name = "PRECISION")]
    pub ts_precision: Option<TsPrecision>,

    /// Same as --time-stamp-precision=nano.
    #[arg(long = "nano")]
    pub nano: bool,

    /// Line-buffer the output, so each packet appears at once in a pipe.
    #[arg(short = 'l')]
    pub line_buffered: bool,

    /// Quiet: no per-packet output (summaries and files are still written).
    #[arg(short = 'q')]
    pub quiet: bool,

    /// Print absolute TCP sequence numbers.
    #[arg(short = 'S', long = "absolute-tcp-sequence-numbers")]
    pub absolute_seq: bool,

    /// Drop root privileges and run as this user once the capture device
    /// and output files are open (as tcpdump does).
    #[arg(short = 'Z', long = "relinquish-privileges", value_name = "USER")]
    pub user: Option<String>,

    /// Read the filter expression from this file.
    #[arg(short = 'F', value_name = "FILE")]
    pub filter_file: Option<PathBuf>,

    /// Deliver packets as they arrive (always on; accepted for tcpdump's sake).
    #[arg(long = "immediate-mode")]
    pub immediate_mode: bool,

    /// With -w: start a new file once the current one is larger than this
    /// many millions of bytes (a k, m or g suffix means KiB, MiB, GiB).
    #[arg(short = 'C', value_name = "FILE_SIZE", value_parser = parse_file_size)]
    pub file_size: Option<u64>,

    /// With -w: start a new file every this many seconds; the file name may
    /// hold strftime(3) conversions (e.g. cap-%H%M%S.pcapng).
    #[arg(short = 'G', value_name = "SECONDS")]
    pub rotate_seconds: Option<u64>,

    /// With -C: keep this many files, reusing their names in a ring. With
    /// -G alone: stop after this many files.
    #[arg(short = 'W', value_name = "FILECOUNT", value_parser = clap::value_parser!(u32).range(1..))]
    pub file_count: Option<u32>,

    /// Teaching mode: under each handshake, teardown, reset, analysis flag
    /// and HTTP message, explain in plain sentences what happened, with the
    /// real numbers.
    #[arg(long = "explain", conflicts_with_all = ["json", "plain"])]
    pub explain: bool,

    /// Draw a ladder (sequence) diagram per TCP connection instead of the
    /// timeline: client and server columns, one arrow per packet.
    #[arg(long = "ladder", conflicts_with_all = ["json", "plain", "explain"])]
    pub ladder: bool,

    /// With --ladder: fold long runs of plain data and ACKs into one line.
    #[arg(long = "fold", requires = "ladder")]
    pub fold: bool,

    /// Use ASCII only (arrows and rules), no Unicode drawing characters.
    #[arg(long = "ascii")]
    pub ascii_only: bool,

    /// Connections listed one per line in the final summary (the rest are
    /// counted).
    #[arg(long = "summary-max", value_name = "N", default_value_t = 10_000)]
    pub summary_max: usize,

    /// Print bare tcpdump-style lines, without netpeek's annotations (for
    /// scripts written for tcpdump's output).
    #[arg(long = "plain", conflicts_with = "json")]
    pub plain: bool,

    /// Print NDJSON objects instead of text lines (schema in README.md).
    #[arg(long = "json")]
    pub json: bool,

    /// When to use colour.
    #[arg(
        long = "color",
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub color: ColorWhen,

    /// Most connections tracked at once; the least recently active are
    /// evicted beyond it (and reported).
    #[arg(long = "max-connections", value_name = "N", default_value_t = 100_000)]
    pub max_connections: usize,

    /// Out-of-order bytes held per direction while waiting for a hole to fill.
    #[arg(long = "max-buffer", value_name = "BYTES", default_value_t = 1 << 20)]
    pub max_buffer: usize,

    /// Out-of-order bytes held across all connections.
    #[arg(long = "max-buffer-total", value_name = "BYTES", default_value_t = 32 << 20)]
    pub max_buffer_total: usize,

    /// Seconds of capture time after which a silent connection is expired.
    #[arg(long = "idle-timeout", value_name = "SECONDS", default_value_t = 900)]
    pub idle_timeout: u64,

    /// Log netpeek's own diagnostics to stderr: -v informational, -vv
    /// debugging, -vvv tracing (RUST_LOG overrides).
    #[arg(short = 'v', action = ArgAction::Count)]
    pub verbose: u8,

    /// Print a shell completion script for SHELL, then exit.
    #[arg(long = "completions", value_name = "SHELL")]
    pub completions: Option<clap_complete::Shell>,

    /// Print the man page (roff), then exit.
    #[arg(long = "generate-man", hide = true)]
    pub generate_man: bool,

    /// Show HTTP message bodies under their exchange: chunked bodies
    /// de-chunked, gzip and deflate decoded; text up to --body-limit bytes,
    /// binary summarised by type and size.
    #[arg(long = "body")]
    pub body: bool,

    /// Bytes of each HTTP body kept and shown with --body.
    #[arg(long = "body-limit", value_name = "BYTES", default_value_t = 4096)]
    pub body_limit: usize,

    /// Show the values of Authorization, Proxy-Authorization, Cookie and
    /// Set-Cookie (by default they are replaced by `<redacted N bytes>`,
    /// in -A/-X dumps too; -w files and --follow keep the bytes as captured).
    #[arg(long = "show-secrets")]
    pub show_secrets: bool,

    /// At the end, print summary tables: HTTP requests by method and
    /// status, and latency (min, median, p95, max) by host and path.
    #[arg(long = "stats")]
    pub stats: bool,

    /// Largest HTTP head (start line and header fields) parsed, in bytes;
    /// a longer one is reported and skipped.
    #[arg(long = "http-max-head", value_name = "BYTES", default_value_t = 64 * 1024)]
    pub http_max_head: usize,

    /// Header fields kept per HTTP message (the rest are counted, and still
    /// used to frame the body).
    #[arg(long = "http-max-headers", value_name = "N", default_value_t = 128)]
    pub http_max_headers: usize,

    /// Print the reassembled conversation of TCP stream N (the number on
    /// the timeline, Wireshark's tcp.stream) instead of packet lines, like
    /// Wireshark's "Follow TCP Stream": client and server data in the order
    /// seen, missing bytes marked. Works live and on files.
    #[arg(long = "follow", value_name = "N", conflicts_with_all = ["json", "plain"])]
    pub follow: Option<u64>,

    /// How --follow prints the conversation (default ascii).
    #[arg(
        long = "follow-format",
        value_enum,
        value_name = "FORMAT",
        requires = "follow"
    )]
    pub follow_format: Option<FollowFormatArg>,

    /// With --follow: only this direction (required with --follow-format
    /// raw, which writes that side's bytes to stdout, e.g. to save a
    /// download).
    #[arg(
        long = "follow-side",
        value_enum,
        value_name = "SIDE",
        requires = "follow"
    )]
    pub follow_side: Option<FollowSideArg>,

    /// Write every HTTP exchange to FILE as an HTTP Archive (HAR 1.2) for a
    /// browser's developer tools or any HAR viewer ("-" for standard
    /// output, instead of packet lines). Timings come from the capture;
    /// bodies are included with --body.
    #[arg(long = "har", value_name = "FILE")]
    pub har: Option<PathBuf>,

    /// The filter expression, in tcpdump's (libpcap's) language.
    #[arg(value_name = "EXPRESSION")]
    pub expression: Vec<String>,
}

/// tcpdump's -C argument: millions of bytes, or a number with a k/m/g
/// suffix (KiB, MiB, GiB).
fn parse_file_size(s: &str) -> Result<u64, String> {
    let (num, mult) = match s.chars().last() {
        Some('k' | 'K') => (&s[..s.len() - 1], 1024u64),
        Some('m' | 'M') => (&s[..s.len() - 1], 1024 * 1024),
        Some('g' | 'G') => (&s[..s.len() - 1], 1024 * 1024 * 1024),
        _ => (s, 1_000_000),
    };
    let n: u64 = num.parse().map_err(|_| {
        format!("'{s}' is not a file size (a number of millions of bytes, or with a k/m/g suffix)")
    })?;
    if n == 0 {
        return Err("the file size must be at least 1".into());
    }
    n.checked_mul(mult)
        .ok_or_else(|| format!("file size '{s}' is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_sizes() {
        assert_eq!(parse_file_size("1"), Ok(1_000_000));
        assert_eq!(parse_file_size("10k"), Ok(10 * 1024));
        assert_eq!(parse_file_size("2M"), Ok(2 * 1024 * 1024));
        assert!(parse_file_size("0").is_err());
        assert!(parse_file_size("x").is_err());
    }
}
