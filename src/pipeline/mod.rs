//! The run: source → filter → decode → track → dissect → sinks, in capture
//! order, as three stages on their own threads (see [`stages`]; a live
//! capture adds its own capture thread behind the source).

mod stages;
#[cfg(test)]
mod tests;

use std::io::{self, BufWriter};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;

use crate::cli::config::{Config, Format, Input, ProgressMode};
use crate::dissect::follow::FollowTap;
use crate::dissect::http::{HttpDissector, HttpOptions};
use crate::dissect::Registry;
use crate::error::Error;
use crate::event::RunStats;
use crate::output::follow::FollowPrinter;
use crate::output::har::HarSink;
use crate::output::json::{JsonInput, JsonSink};
use crate::output::ladder::{LadderOptions, LadderSink};
use crate::output::progress::Progress;
use crate::output::rotate::PcapngOutput;
use crate::output::stats::StatsSink;
use crate::output::text::{TextOptions, TextSink};
use crate::output::theme::Theme;
use crate::output::timeline::{TimelineOptions, TimelineSink};
use crate::output::Sink;
use crate::source::file::FileSource;
use crate::source::filter::FrameFilter;
use crate::source::live::LiveSource;
use crate::source::PacketSource;
use crate::track::Tracker;

/// What happened, for `main` to report.
#[derive(Debug, Default)]
pub struct Outcome {
    pub stats: RunStats,
    /// Live captures print tcpdump's counters at the end.
    pub live: bool,
}

/// Signals that stop a run cleanly (SIGINT, SIGTERM).
pub fn install_signal_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(sig, Arc::clone(&flag));
    }
    flag
}

/// Where an output error happened, so the message names the file.
enum OutErr {
    Stdout(io::Error),
    File(PathBuf, io::Error),
}

impl OutErr {
    fn into_error(self) -> Error {
        match self {
            OutErr::Stdout(source) => Error::Output {
                path: PathBuf::from("-"),
                source,
            },
            OutErr::File(path, source) => Error::Output { path, source },
        }
    }
}

struct Outputs {
    primary: Option<Box<dyn Sink>>,
    pcapng: Option<(PathBuf, PcapngOutput)>,
    /// `--har FILE`.
    har: Option<(PathBuf, Box<dyn Sink>)>,
    /// `--stats`: last, so its tables follow the primary output.
    stats: Option<Box<dyn Sink>>,
}

impl Outputs {
    fn each<F>(&mut self, mut f: F) -> Result<(), OutErr>
    where
        F: FnMut(&mut dyn Sink) -> io::Result<()>,
    {
        if let Some(p) = self.primary.as_mut() {
            f(p.as_mut()).map_err(OutErr::Stdout)?;
        }
        if let Some((path, w)) = self.pcapng.as_mut() {
            f(w).map_err(|e| OutErr::File(path.clone(), e))?;
        }
        if let Some((path, w)) = self.har.as_mut() {
            f(w.as_mut()).map_err(|e| OutErr::File(path.clone(), e))?;
        }
        if let Some(s) = self.stats.as_mut() {
            f(s.as_mut()).map_err(OutErr::Stdout)?;
        }
        Ok(())
    }
}

/// Runs netpeek with a resolved configuration.
pub fn run(cfg: &Config, interrupt: Arc<AtomicBool>) -> Result<Outcome, Error> {
    let mut listening = None;
    let mut source: Box<dyn PacketSource + Send> = match &cfg.input {
        Input::File(path) => {
            let src = FileSource::open(path)?;
            log::info!(
                "opened {} ({:?} compression, {} interface(s) so far)",
                path.display(),
                src.compression(),
                src.interfaces().len()
            );
            if let Some(first) = src.first_interface() {
                eprintln!(
                    "reading from file {}, link-type {} ({}), snapshot length {}",
                    path.display(),
                    first.linktype.name(),
                    first.linktype.description(),
                    first.snaplen
                );
            }
            Box::new(src)
        }
        Input::Live(opts) => {
            let mut src = LiveSource::open(opts)?;
            log::info!(
                "capturing: snaplen {}, kernel buffer {} KiB, promiscuous {}, immediate delivery",
                opts.snaplen,
                opts.buffer_kib,
                opts.promiscuous
            );
            src.set_interrupt(Arc::clone(&interrupt));
            listening = src.interfaces().first().map(|i| {
                format!(
                    "listening on {}, link-type {} ({}), snapshot length {} bytes",
                    i.name.as_deref().unwrap_or("?"),
                    i.linktype.name(),
                    i.linktype.description(),
                    opts.snaplen
                )
            });
            Box::new(src)
        }
    };
    let live = matches!(cfg.input, Input::Live(_));

    // The filter: live captures apply it in the kernel; files here.
    let filter = match (&cfg.input, &cfg.filter) {
        (Input::File(_), Some(expr)) => {
            let first = source
                .interfaces()
                .first()
                .map(|i| i.linktype)
                .unwrap_or(crate::event::LinkType::ETHERNET);
            let f = FrameFilter::new(expr, first)?;
            log::info!("filter '{expr}' compiled for link type {}", first.name());
            Some(f)
        }
        _ => None,
    };

    // Outputs. The pcapng file is created only after the input opened and
    // the filter compiled, so a failed start leaves nothing behind that
    // looks like a capture.
    let stdout_used_by_pcapng = cfg.write.as_ref().is_some_and(|p| p.as_os_str() == "-");
    let pcapng = match &cfg.write {
        Some(path) => {
            let sink = PcapngOutput::create(path, cfg.rotation, cfg.filter.clone(), live).map_err(
                |source| Error::Output {
                    path: path.clone(),
                    source,
                },
            )?;
            Some((path.clone(), sink))
        }
        None => None,
    };
    let primary: Option<Box<dyn Sink>> = match cfg.format {
        // `--follow` replaces the per-packet output.
        _ if cfg.follow.is_some() => cfg.follow.map(|f| {
            Box::new(FollowPrinter::new(
                BufWriter::with_capacity(1 << 16, io::stdout()),
                f,
                cfg.color,
                live || cfg.line_buffered,
            )) as Box<dyn Sink>
        }),
        Format::Quiet => None,
        _ if stdout_used_by_pcapng => None,
        Format::Text if cfg.ladder => Some(Box::new(LadderSink::new(
            BufWriter::with_capacity(1 << 16, io::stdout()),
            LadderOptions {
                time: cfg.timeline_time,
                nanos: cfg.nanos,
                ascii: cfg.ascii,
                fold: cfg.fold,
                immediate: live,
                line_buffered: cfg.line_buffered,
            },
            Theme::new(cfg.color),
        ))),
        Format::Text if !cfg.plain => Some(Box::new(TimelineSink::new(
            BufWriter::with_capacity(1 << 16, io::stdout()),
            TimelineOptions {
                time: cfg.timeline_time,
                nanos: cfg.nanos,
                line: cfg.line,
                dump: cfg.dump,
                show_secrets: cfg.http.show_secrets,
                line_buffered: cfg.line_buffered,
                http_body: cfg.http.keep_body,
                local_ifindex_names: live,
                explain: cfg.explain,
                ascii: cfg.ascii,
                summary_max: cfg.summary_max,
            },
            Theme::new(cfg.color),
        ))),
        Format::Text => Some(Box::new(TextSink::new(
            BufWriter::with_capacity(1 << 16, io::stdout()),
            TextOptions {
                time: cfg.time,
                nanos: cfg.nanos,
                line: cfg.line,
                dump: cfg.dump,
                show_secrets: cfg.http.show_secrets,
                line_buffered: cfg.line_buffered,
                http_body: cfg.http.keep_body,
                local_ifindex_names: live,
                plain: cfg.plain,
            },
        ))),
        Format::Json => {
            let (file, interface) = match &cfg.input {
                Input::File(p) => (Some(p.to_string_lossy().into_owned()), None),
                Input::Live(_) => (
                    None,
                    source.interfaces().first().and_then(|i| i.name.clone()),
                ),
            };
            let sink = JsonSink::new(
                BufWriter::with_capacity(1 << 16, io::stdout()),
                &JsonInput {
                    file: file.as_deref(),
                    interface: interface.as_deref(),
                    filter: cfg.filter.as_deref(),
                },
                cfg.line_buffered,
            )
            .map_err(|source| Error::Output {
                path: PathBuf::from("-"),
                source,
            })?;
            Some(Box::new(sink))
        }
    };
    // Tables go to stdout after the primary output, or to stderr when
    // stdout carries the capture itself.
    let stats: Option<Box<dyn Sink>> = match (cfg.stats, stdout_used_by_pcapng) {
        (false, _) => None,
        // Buffered: the tables are written at the end, in many small
        // pieces, and flushed by `finish`.
        (true, true) => Some(Box::new(StatsSink::new(
            BufWriter::new(io::stderr()),
            false,
        ))),
        (true, false) => Some(Box::new(StatsSink::new(
            BufWriter::new(io::stdout()),
            cfg.format == Format::Json,
        ))),
    };
    let har = match &cfg.har {
        None => None,
        Some(path) => {
            let show_secrets = cfg.http.show_secrets;
            let sink: io::Result<Box<dyn Sink>> = if path.as_os_str() == "-" {
                HarSink::new(BufWriter::new(io::stdout()), show_secrets)
                    .map(|s| Box::new(s) as Box<dyn Sink>)
            } else {
                std::fs::File::create(path).and_then(|f| {
                    HarSink::new(BufWriter::with_capacity(1 << 16, f), show_secrets)
                        .map(|s| Box::new(s) as Box<dyn Sink>)
                })
            };
            let sink = sink.map_err(|source| Error::Output {
                path: path.clone(),
                source,
            })?;
            Some((path.clone(), sink))
        }
    };
    let mut outputs = Outputs {
        primary,
        pcapng,
        har,
        stats,
    };
    if let Some(user) = &cfg.drop_user {
        crate::privileges::drop_to(user)?;
    } else {
        crate::privileges::drop_capabilities()?;
    }
    // As tcpdump: said once the device and every output are open and the
    // privileges are given up, right before packets are read.
    if let Some(l) = listening {
        eprintln!("{l}");
    }

    // Annotations are made only when an output shows them: the timeline
    // (and ladder), or the comments of a pcapng file. The dissector's
    // request and response notes exist only to be annotated.
    let want_annotations = (cfg.format == Format::Text && !cfg.plain) || cfg.write.is_some();
    let mut http_opts = cfg.http;
    http_opts.message_notes = want_annotations;
    let progress = match cfg.progress {
        ProgressMode::None => Progress::none(),
        ProgressMode::File => Progress::file(source.progress().and_then(|p| p.1)),
        ProgressMode::Live => Progress::live(),
    };
    let stop = AtomicBool::new(false);
    let written = AtomicU64::new(0);
    let mut want_packets = false;
    let mut want_fields = false;
    let _ = outputs.each(|s| {
        want_packets |= s.wants_packets();
        want_fields |= s.wants_http_fields();
        Ok(())
    });
    http_opts.head.keep_fields = want_fields;
    let registry = dissectors(http_opts);
    let map = source.share_map();
    let file_limit = outputs.pcapng.as_ref().and_then(|(_, o)| o.stop_clock());
    let read = stages::ReadStage {
        file_limit,
        map: map.clone(),
        source,
        filter,
        tracker: Tracker::new(cfg.limits),
        live,
        count: cfg.count,
        want_packets,
        want_datagrams: registry.wants_datagrams(),
        progress,
        interrupt: &interrupt,
        stop: &stop,
        written: &written,
    };
    let output = stages::OutputStage {
        outputs: &mut outputs,
        map,
        want_annotations,
        explain: cfg.explain,
        stop: &stop,
        written: &written,
    };
    let (read_end, result) = stages::run(
        read,
        registry,
        cfg.follow.map(|f| FollowTap::new(f.stream, f.side)),
        output,
    );
    let stats = read_end.stats;
    let finish = match &result {
        // Do not try to finish after a failed write; repair what is there.
        Err(OutErr::File(..)) => Ok(()),
        _ => outputs.each(|s| s.finish(&stats)),
    };
    if let Err(OutErr::File(..)) = result.as_ref().and(finish.as_ref()) {
        if let Some((_, o)) = outputs.pcapng.as_mut() {
            o.salvage();
        }
    }
    result.and(finish).map_err(OutErr::into_error)?;
    if let Some(e) = read_end.error {
        return Err(e);
    }
    Ok(Outcome { stats, live })
}

/// The dissectors of a run, in priority order: HTTP/1.x, which also takes
/// every connection no other dissector claims (it recognises its messages
/// mid-stream itself; see `dissect::http::protocol`).
fn dissectors(http: HttpOptions) -> Registry {
    Registry::new(vec![Box::new(HttpDissector::new(http))], Vec::new()).with_fallback(0)
}
