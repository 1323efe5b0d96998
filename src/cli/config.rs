//! Resolves what the user typed into what the run needs: input, filter,
//! outputs, buffering, colour, limits.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::args::{Args, ColorWhen, FollowFormatArg, FollowSideArg, TsPrecision};
use crate::dissect::http::head::HeadLimits;
use crate::dissect::http::HttpOptions;
use crate::error::Error;
use crate::event::Direction;
use crate::output::follow::{FollowFormat, FollowOptions};
use crate::output::line::LineOptions;
use crate::output::text::DumpMode;
use crate::output::time::TimeStyle;
use crate::source::live::{LiveOptions, DEFAULT_BUFFER_KIB};
use crate::track::Limits;

#[derive(Clone, Debug)]
pub enum Input {
    Live(LiveOptions),
    File(PathBuf),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    /// Nothing per packet (`-q`, or `-w -`).
    Quiet,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub input: Input,
    pub filter: Option<String>,
    pub count: Option<u64>,
    pub format: Format,
    pub write: Option<PathBuf>,
    pub time: TimeStyle,
    pub nanos: bool,
    pub line: LineOptions,
    pub dump: DumpMode,
    pub line_buffered: bool,
    pub color: bool,
    pub limits: Limits,
    pub rotation: crate::output::rotate::Rotation,
    pub progress: ProgressMode,
    /// `-Z`: the user to become once inputs and outputs are open.
    pub drop_user: Option<String>,
    /// The HTTP dissector's options (`--body`, `--show-secrets`, limits).
    pub http: HttpOptions,
    /// Print summary tables at the end (`--stats`).
    pub stats: bool,
    /// `--plain`: tcpdump lines without annotations.
    pub plain: bool,
    /// Time style of the timeline (relative seconds unless a -t flag).
    pub timeline_time: TimeStyle,
    pub explain: bool,
    pub ladder: bool,
    pub fold: bool,
    pub ascii: bool,
    pub summary_max: usize,
    /// `--follow N`: the follow output replaces the per-packet output.
    pub follow: Option<FollowOptions>,
    /// `--har FILE` (`-` for standard output).
    pub har: Option<PathBuf>,
}

/// What progress display stderr gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressMode {
    None,
    /// A bar while reading a file.
    File,
    /// A counter during a quiet live capture to a file.
    Live,
}

impl Config {
    pub fn from_args(args: &Args) -> Result<Self, Error> {
        let filter = filter_of(args)?;
        let input = input_of(args, &filter)?;
        let write_stdout = args.write.as_ref().is_some_and(|p| p.as_os_str() == "-");
        let har_stdout = args.har.as_ref().is_some_and(|p| p.as_os_str() == "-");
        check_stdout_sharing(args, write_stdout, har_stdout)?;
        let follow = follow_of(args, write_stdout)?;
        let format = if args.quiet || write_stdout || har_stdout {
            Format::Quiet
        } else if args.json {
            Format::Json
        } else {
            Format::Text
        };
        let time = time_style(args.time);
        let nanos = args.nano || args.ts_precision == Some(TsPrecision::Nano);
        let stdout_tty = std::io::stdout().is_terminal();
        let color = match args.color {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                stdout_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        let dump = if args.hex_ascii {
            DumpMode::HexAscii
        } else if args.ascii {
            DumpMode::Ascii
        } else {
            DumpMode::None
        };
        let rotation = rotation_of(args)?;
        check_limits(args)?;
        let progress = progress_of(args, &input, stdout_tty);
        Ok(Self {
            timeline_time: if args.time == 0 {
                TimeStyle::Relative
            } else {
                time
            },
            explain: args.explain,
            ladder: args.ladder,
            fold: args.fold,
            ascii: args.ascii_only,
            summary_max: args.summary_max,
            plain: args.plain,
            drop_user: args.user.clone(),
            progress,
            input,
            filter,
            count: args.count,
            format,
            write: args.write.clone(),
            time,
            nanos,
            line: LineOptions {
                link_header: args.link_header,
                absolute_seq: args.absolute_seq,
            },
            dump,
            line_buffered: args.line_buffered || stdout_tty,
            color,
            limits: Limits {
                max_connections: args.max_connections,
                max_buffer_per_direction: args.max_buffer,
                max_buffer_total: args.max_buffer_total,
                idle_timeout_ns: i64::try_from(args.idle_timeout)
                    .unwrap_or(i64::MAX / 1_000_000_000)
                    .saturating_mul(1_000_000_000),
            },
            rotation,
            http: HttpOptions {
                show_secrets: args.show_secrets,
                keep_body: args.body,
                body_limit: args.body_limit,
                head: HeadLimits {
                    max_bytes: args.http_max_head,
                    max_headers: args.http_max_headers,
                    // Set once the outputs are known (pipeline::run).
                    keep_fields: true,
                },
                ..HttpOptions::default()
            },
            stats: args.stats,
            follow,
            har: args.har.clone(),
        })
    }
}

/// The filter expression: from `-F FILE` (with tcpdump's `#` comments) or
/// the trailing words, never both.
fn filter_of(args: &Args) -> Result<Option<String>, Error> {
    let filter = match &args.filter_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::OpenInput {
                path: path.clone(),
                source,
            })?;
            // Like tcpdump: '#' starts a comment to the end of the line.
            let expr: Vec<&str> = text
                .lines()
                .map(|l| l.split('#').next().unwrap_or(""))
                .collect();
            Some(
                expr.join(" ")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        }
        None if args.expression.is_empty() => None,
        None => Some(args.expression.join(" ")),
    }
    .filter(|f| !f.trim().is_empty());
    if args.filter_file.is_some() && !args.expression.is_empty() {
        return Err(Error::Usage(
            "give the filter either with -F FILE or on the command line, not both".into(),
        ));
    }
    Ok(filter)
}

/// A file with `-r`, else a live capture (the filter then runs in the kernel).
fn input_of(args: &Args, filter: &Option<String>) -> Result<Input, Error> {
    Ok(match &args.read {
        Some(path) => {
            if args.interface.is_some() {
                return Err(Error::Usage(
                    "-r reads a file; it cannot be combined with -i".into(),
                ));
            }
            Input::File(path.clone())
        }
        None => Input::Live(LiveOptions {
            interface: args.interface.clone(),
            snaplen: if args.snaplen == 0 {
                262_144
            } else {
                args.snaplen
            },
            buffer_kib: args.buffer_kib.unwrap_or(DEFAULT_BUFFER_KIB),
            promiscuous: !args.no_promiscuous,
            filter: filter.clone(),
            immediate: true,
        }),
    })
}

/// Standard output carries one thing: the capture (`-w -`), the HAR file
/// (`--har -`), or the per-packet output.
fn check_stdout_sharing(args: &Args, write_stdout: bool, har_stdout: bool) -> Result<(), Error> {
    if write_stdout && args.json {
        return Err(Error::Usage(
            "-w - writes the capture to standard output; --json cannot share it".into(),
        ));
    }
    if har_stdout && (write_stdout || args.json || args.follow.is_some()) {
        return Err(Error::Usage(
            "--har - writes the HAR file to standard output; -w -, --json and --follow cannot share it"
                .into(),
        ));
    }
    Ok(())
}

/// `--follow N` with its format and side.
fn follow_of(args: &Args, write_stdout: bool) -> Result<Option<FollowOptions>, Error> {
    let Some(stream) = args.follow else {
        return Ok(None);
    };
    let format = match args.follow_format.unwrap_or(FollowFormatArg::Ascii) {
        FollowFormatArg::Ascii => FollowFormat::Ascii,
        FollowFormatArg::Hex => FollowFormat::Hex,
        FollowFormatArg::Raw => FollowFormat::Raw,
    };
    let side = args.follow_side.map(|s| match s {
        FollowSideArg::Client => Direction::ToServer,
        FollowSideArg::Server => Direction::ToClient,
    });
    if format == FollowFormat::Raw && side.is_none() {
        return Err(Error::Usage(
            "--follow-format raw writes one direction's bytes: add --follow-side client or --follow-side server"
                .into(),
        ));
    }
    if write_stdout {
        return Err(Error::Usage(
            "-w - writes the capture to standard output; --follow cannot share it".into(),
        ));
    }
    Ok(Some(FollowOptions {
        stream,
        format,
        side,
    }))
}

/// tcpdump's `-t` count: none, `-t`, `-tt`, `-ttt`, `-tttt`, `-ttttt`.
fn time_style(t: u8) -> TimeStyle {
    match t {
        0 => TimeStyle::Absolute,
        1 => TimeStyle::None,
        2 => TimeStyle::Epoch,
        3 => TimeStyle::DeltaPrevious,
        4 => TimeStyle::DateTime,
        _ => TimeStyle::DeltaFirst,
    }
}

/// `-C`, `-G` and `-W`, which only make sense for a `-w` file.
fn rotation_of(args: &Args) -> Result<crate::output::rotate::Rotation, Error> {
    let rotation = crate::output::rotate::Rotation {
        size_bytes: args.file_size,
        seconds: args.rotate_seconds,
        count: args.file_count,
    };
    if rotation.is_active() || rotation.count.is_some() {
        match &args.write {
            None => return Err(Error::Usage("-C, -G and -W need -w FILE".into())),
            Some(p) if p.as_os_str() == "-" => {
                return Err(Error::Usage(
                    "-C and -G cannot rotate standard output".into(),
                ))
            }
            _ => {}
        }
        if rotation.count.is_some() && !rotation.is_active() {
            return Err(Error::Usage("-W needs -C or -G".into()));
        }
    }
    Ok(rotation)
}

/// The analysis limits the user may set, within sense.
fn check_limits(args: &Args) -> Result<(), Error> {
    if args.http_max_head < 64 {
        return Err(Error::Usage(
            "--http-max-head must be at least 64 bytes".into(),
        ));
    }
    if args.http_max_headers == 0 || args.http_max_headers > 10_000 {
        return Err(Error::Usage(
            "--http-max-headers must be between 1 and 10000".into(),
        ));
    }
    if args.max_connections == 0 {
        return Err(Error::Usage("--max-connections must be at least 1".into()));
    }
    Ok(())
}

/// Progress only for a person watching stderr: a bar when reading a file
/// (unless -q, or unless packet lines share the terminal), a counter for a
/// quiet live capture into a file.
fn progress_of(args: &Args, input: &Input, stdout_tty: bool) -> ProgressMode {
    let stderr_tty = std::io::stderr().is_terminal();
    match input {
        _ if !stderr_tty => ProgressMode::None,
        Input::File(_) if !args.quiet && !stdout_tty => ProgressMode::File,
        Input::Live(_) if args.quiet && args.write.is_some() => ProgressMode::Live,
        _ => ProgressMode::None,
    }
}
