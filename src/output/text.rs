//! The text output: one tcpdump line per packet, with `-A`/`-X` dumps.

use crate::describe::annotate::Annotation;
use std::io::{self, Write};

use super::dump;
use super::line::{self, LineOptions};
use super::time::{TimeFormatter, TimeStyle};
use super::Sink;
use crate::describe::http::write_exchange_bodies;
use crate::event::Exchange;
use crate::event::InterfaceInfo;
use crate::event::{Notice, PacketEvent};

/// How payloads are dumped under each line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DumpMode {
    #[default]
    None,
    /// `-A`
    Ascii,
    /// `-X`
    HexAscii,
}

pub struct TextOptions {
    pub time: TimeStyle,
    pub nanos: bool,
    pub line: LineOptions,
    pub dump: DumpMode,
    /// `--show-secrets`: dumps show secret header values as sent.
    pub show_secrets: bool,
    /// Flush after every packet (`-l`, or a terminal).
    pub line_buffered: bool,
    /// Show HTTP bodies under their exchange (`--body`).
    pub http_body: bool,
    /// Resolve Linux cooked v2 interface indexes to this machine's names:
    /// right for a live capture, wrong for a file from another machine
    /// (where tcpdump would name the local interface with that index).
    pub local_ifindex_names: bool,
    /// `--plain`: bare tcpdump lines on stdout; notices go to stderr.
    pub plain: bool,
}

pub struct TextSink<W: Write> {
    out: W,
    time: TimeFormatter,
    opts: TextOptions,
    buf: Vec<u8>,
    /// Interface names by Linux ifindex are unknown in files; SLL2 lines
    /// fall back to "ifindex N". Live captures could resolve them.
    if_names: Vec<(u32, String)>,
    /// Hides secret header values in `-A`/`-X` dumps.
    redactor: dump::DumpRedactor,
}

impl<W: Write> TextSink<W> {
    pub fn new(out: W, opts: TextOptions) -> Self {
        Self {
            out,
            time: TimeFormatter::new(opts.time, opts.nanos),
            buf: Vec::with_capacity(4096),
            redactor: dump::DumpRedactor::new(opts.show_secrets),
            if_names: if opts.local_ifindex_names {
                local_if_names()
            } else {
                Vec::new()
            },
            opts,
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Interface names by index on this machine, for Linux cooked v2 lines.
pub(crate) fn local_if_names() -> Vec<(u32, String)> {
    let mut v = Vec::new();
    // SAFETY: if_nameindex returns a heap array terminated by a zero entry,
    // released with if_freenameindex.
    unsafe {
        let list = libc::if_nameindex();
        if list.is_null() {
            return v;
        }
        let mut p = list;
        while (*p).if_index != 0 && !(*p).if_name.is_null() {
            let name = std::ffi::CStr::from_ptr((*p).if_name)
                .to_string_lossy()
                .into_owned();
            v.push(((*p).if_index, name));
            p = p.add(1);
        }
        libc::if_freenameindex(list);
    }
    v
}

/// tcpdump's line for a packet; interface indexes named from `if_names`.
pub(super) fn write_tcpdump_line(
    buf: &mut Vec<u8>,
    p: &PacketEvent<'_, '_>,
    opts: &LineOptions,
    if_names: &[(u32, String)],
) -> io::Result<()> {
    let lookup = |idx: u32| {
        if_names
            .iter()
            .find(|(i, _)| *i == idx)
            .map(|(_, n)| n.clone())
    };
    line::write_line(buf, p.frame, p.view, p.tcp, opts, &lookup)
}

/// The `-A`/`-X` dump of a packet, secrets redacted by `redactor`.
pub(super) fn write_dump(
    buf: &mut Vec<u8>,
    mode: DumpMode,
    redactor: &mut dump::DumpRedactor,
    p: &PacketEvent<'_, '_>,
) -> io::Result<()> {
    match mode {
        DumpMode::None => Ok(()),
        DumpMode::Ascii => dump::write_ascii(buf, &redactor.bytes(p)),
        DumpMode::HexAscii => dump::write_hex_ascii(buf, &redactor.bytes(p)),
    }
}

impl<W: Write> Sink for TextSink<W> {
    fn wants_http_fields(&self) -> bool {
        false
    }

    fn packet(&mut self, p: &PacketEvent<'_, '_>, _annotations: &[Annotation]) -> io::Result<()> {
        self.buf.clear();
        self.time.write(&mut self.buf, p.frame.ts_ns)?;
        write_tcpdump_line(&mut self.buf, p, &self.opts.line, &self.if_names)?;
        if !self.opts.plain {
            for note in p.http {
                write!(self.buf, "  {note}")?;
            }
        }
        write_dump(&mut self.buf, self.opts.dump, &mut self.redactor, p)?;
        self.buf.push(b'\n');
        self.out.write_all(&self.buf)?;
        if self.opts.line_buffered {
            self.out.flush()?;
        }
        Ok(())
    }

    fn http(&mut self, x: &Exchange) -> io::Result<()> {
        if !self.opts.http_body || self.opts.plain {
            return Ok(());
        }
        self.buf.clear();
        write_exchange_bodies(&mut self.buf, x)?;
        if !self.buf.is_empty() {
            self.out.write_all(&self.buf)?;
            if self.opts.line_buffered {
                self.out.flush()?;
            }
        }
        Ok(())
    }

    fn notice(&mut self, n: &Notice, _ts: Option<i64>) -> io::Result<()> {
        if self.opts.plain {
            // Keep stdout tcpdump's; the gap is still told, on stderr.
            self.out.flush()?;
            eprintln!("netpeek: notice: {n}");
            return Ok(());
        }
        writeln!(self.out, "-- netpeek: {n}")?;
        if self.opts.line_buffered {
            self.out.flush()?;
        }
        Ok(())
    }

    fn interfaces(&mut self, _all: &[InterfaceInfo]) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, _stats: &crate::event::RunStats) -> io::Result<()> {
        self.out.flush()
    }
}
