//! The annotated timeline, netpeek's default view: one line per packet
//! with tcpdump's facts (time, endpoints, flags, relative sequence numbers,
//! window, length) and, after them, what the packet means. Lines carry
//! their connection's tag (`#N`, coloured per connection); the client is
//! always on the left and the arrow shows which way the packet went. With
//! `--explain`, plain sentences with the real numbers follow each event.
//! When a connection ends, a line sums it up; at the end of the run, a
//! summary lists every connection.

use std::io::{self, Write};

use super::digits::Digits;
use super::dump;
use super::line::{self, LineOptions};
use super::text::{write_dump, write_tcpdump_line, DumpMode};
use super::theme::Theme;
use super::time::{TimeFormatter, TimeStyle};
use super::Sink;
use crate::describe::annotate::{Annotation, Tone};
use crate::describe::conn::{history_sentence, write_conn_summary};
use crate::describe::http::write_exchange_bodies;
use crate::describe::run;
use crate::event::Exchange;
use crate::event::{ConnRecord, Direction};
use crate::event::{Notice, PacketEvent, RunStats};

pub struct TimelineOptions {
    pub time: TimeStyle,
    pub nanos: bool,
    pub line: LineOptions,
    pub dump: DumpMode,
    /// `--show-secrets`: dumps show secret header values as sent.
    pub show_secrets: bool,
    pub line_buffered: bool,
    pub http_body: bool,
    pub local_ifindex_names: bool,
    pub explain: bool,
    /// ASCII arrows instead of Unicode ones.
    pub ascii: bool,
    /// Connections listed in the final summary (the rest are counted).
    pub summary_max: usize,
}

/// Widest explanation line, for wrapping.
const EXPLAIN_WIDTH: usize = 78;

pub struct TimelineSink<W: Write> {
    out: W,
    opts: TimelineOptions,
    theme: Theme,
    time: TimeFormatter,
    buf: Vec<u8>,
    /// Widths of the client and server columns so far (they only grow,
    /// so columns stay aligned as addresses get longer).
    widths: [usize; 2],
    /// Width of the facts column so far, where annotations start.
    facts_width: usize,
    if_names: Vec<(u32, String)>,
    /// Client and server endpoints as text, per stream (a connection's
    /// packets all show the same two); cleared when it grows large.
    endpoints: std::collections::HashMap<u64, EndpointTexts, foldhash::fast::RandomState>,
    /// Hides secret header values in `-A`/`-X` dumps.
    redactor: dump::DumpRedactor,
    /// Final-summary lines, one per connection (bounded).
    summary: Vec<String>,
    summary_more: u64,
    connections: u64,
    packets: u64,
    first_ts: Option<i64>,
    last_ts: i64,
}

/// A stream's endpoints as text: `[client, server]`.
type EndpointTexts = [Digits; 2];

/// Streams whose endpoint texts are kept at most.
const ENDPOINT_CACHE: usize = 4096;

impl<W: Write> TimelineSink<W> {
    pub fn new(out: W, opts: TimelineOptions, theme: Theme) -> Self {
        let if_names = if opts.local_ifindex_names {
            super::text::local_if_names()
        } else {
            Vec::new()
        };
        Self {
            out,
            time: TimeFormatter::new(opts.time, opts.nanos),
            redactor: dump::DumpRedactor::new(opts.show_secrets),
            opts,
            theme,
            buf: Vec::with_capacity(4096),
            widths: [0, 0],
            facts_width: 0,
            if_names,
            endpoints: Default::default(),
            summary: Vec::new(),
            summary_more: 0,
            connections: 0,
            packets: 0,
            first_ts: None,
            last_ts: 0,
        }
    }

    fn flush_line(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        if self.opts.line_buffered {
            self.out.flush()?;
        }
        Ok(())
    }

    /// Characters printed before the facts (time and tag), for indenting
    /// explanations under them.
    fn indent(&self) -> usize {
        let t = match self.opts.time {
            TimeStyle::None => 0,
            TimeStyle::Relative => 12 + if self.opts.nanos { 3 } else { 0 },
            TimeStyle::Epoch => 11 + if self.opts.nanos { 10 } else { 7 },
            TimeStyle::DateTime => 20 + if self.opts.nanos { 10 } else { 7 },
            TimeStyle::Absolute => 9 + if self.opts.nanos { 10 } else { 7 },
            TimeStyle::DeltaPrevious | TimeStyle::DeltaFirst => {
                10 + if self.opts.nanos { 10 } else { 7 }
            }
        };
        t + 6
    }

    fn write_annotations(&mut self, notes: &[Annotation]) -> io::Result<()> {
        for (i, n) in notes.iter().enumerate() {
            self.buf
                .extend_from_slice(if i == 0 { b"  " } else { b"; " });
            self.theme.write_tone(&mut self.buf, n.tone, &n.text);
        }
        Ok(())
    }

    fn write_explanations(&mut self, notes: &[Annotation]) -> io::Result<()> {
        let indent = " ".repeat(self.indent());
        for n in notes {
            let Some(text) = &n.explain else { continue };
            for line in wrap(text, EXPLAIN_WIDTH) {
                let l = self.theme.explain(format!("│ {line}"));
                write!(self.buf, "\n{indent}{l}")?;
            }
        }
        Ok(())
    }

    /// Writes the TCP facts into the line buffer without building strings;
    /// returns their visible width, or `None` for a packet without TCP.
    fn write_tcp_facts(&mut self, p: &PacketEvent<'_, '_>) -> Option<usize> {
        let t = p.tcp?;
        let flags = p.view.tcp()?.flags;
        // Endpoints are formatted once per stream.
        if self.endpoints.len() >= ENDPOINT_CACHE && !self.endpoints.contains_key(&t.stream) {
            self.endpoints.clear();
        }
        let [client, server] = self
            .endpoints
            .entry(t.stream)
            .or_insert_with(|| [endpoint_text(&t.client), endpoint_text(&t.server)]);
        let (client, server) = (client.as_bytes(), server.as_bytes());
        self.widths[0] = self.widths[0].max(client.len());
        self.widths[1] = self.widths[1].max(server.len());
        let arrow: &[u8] = match (t.direction, self.opts.ascii) {
            (Direction::ToServer, false) => "→".as_bytes(),
            (Direction::ToClient, false) => "←".as_bytes(),
            (Direction::ToServer, true) => b"->",
            (Direction::ToClient, true) => b"<-",
        };
        let arrow_w = if self.opts.ascii { 2 } else { 1 };
        let b = &mut self.buf;
        let start = b.len();
        let mut escapes = 0usize;
        let mut mark = |b: &mut Vec<u8>, s: &str| {
            // (Empty without colour: no call to copy nothing.)
            if !s.is_empty() {
                b.extend_from_slice(s.as_bytes());
                escapes += s.len();
            }
        };
        // Tag.
        let (pre, post) = self.theme.stream_marks(t.stream);
        mark(b, pre);
        let tag_start = b.len();
        let mut d = Digits::new();
        d.push(b"#").num(t.stream);
        b.extend_from_slice(d.as_bytes());
        pad(b, tag_start, 5);
        mark(b, post);
        b.push(b' ');
        // Endpoints and direction.
        let c0 = b.len();
        b.extend_from_slice(client);
        pad(b, c0, self.widths[0]);
        b.push(b' ');
        let (pre, post) = self.theme.direction_marks(t.direction);
        mark(b, pre);
        b.extend_from_slice(arrow);
        mark(b, post);
        b.push(b' ');
        let s0 = b.len();
        b.extend_from_slice(server);
        pad(b, s0, self.widths[1]);
        b.extend_from_slice(b"  ");
        // Flags.
        let (pre, post) = self
            .theme
            .flags_marks(flags.syn(), flags.fin(), flags.rst());
        mark(b, pre);
        let f0 = b.len();
        b.push(b'[');
        let _ = line::write_flags(&mut *b, flags);
        b.push(b']');
        pad(b, f0, 6);
        mark(b, post);
        b.push(b' ');
        // Numbers.
        let n0 = b.len();
        let mut d = Digits::new();
        if t.payload_len > 0 || flags.syn() || flags.fin() || flags.rst() {
            d.push(b"seq ").num(u64::from(t.seq_rel));
            if t.payload_len > 0 {
                d.push(b":")
                    .num(u64::from(t.seq_rel.wrapping_add(t.payload_len)));
            }
        }
        if flags.ack() {
            if !d.is_empty() {
                d.push(b" ");
            }
            d.push(b"ack ").num(u64::from(t.ack_rel));
        }
        b.extend_from_slice(d.as_bytes());
        pad(b, n0, 22);
        let mut d = Digits::new();
        d.num(u64::from(t.window));
        b.extend_from_slice(b" win ");
        let w0 = b.len();
        b.extend_from_slice(d.as_bytes());
        pad(b, w0, 6);
        let l0 = b.len();
        let mut d = Digits::new();
        d.push(b" len ").num(u64::from(t.payload_len));
        b.extend_from_slice(d.as_bytes());
        pad(b, l0 + 5, 5);
        let _ = arrow_w;
        // Visible width: bytes minus escapes, minus the arrow's extra
        // UTF-8 bytes.
        let extra = arrow.len() - arrow_w;
        Some(b.len() - start - escapes - extra)
    }
}

/// Pads with spaces so that what was written since `from` is `width` wide.
fn pad(b: &mut Vec<u8>, from: usize, width: usize) {
    let have = b.len().saturating_sub(from);
    for _ in have..width {
        b.push(b' ');
    }
}

/// An endpoint as text (`a.b.c.d:port`, `[v6]:port`), on the stack.
fn endpoint_text(ep: &crate::event::Endpoint) -> Digits {
    use std::fmt::Write as _;
    let mut d = Digits::new();
    let _ = write!(d, "{ep}");
    d
}

/// Splits a paragraph into lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

impl<W: Write> Sink for TimelineSink<W> {
    fn wants_http_fields(&self) -> bool {
        false
    }

    fn packet(&mut self, p: &PacketEvent<'_, '_>, annotations: &[Annotation]) -> io::Result<()> {
        self.packets += 1;
        self.first_ts.get_or_insert(p.frame.ts_ns);
        self.last_ts = p.frame.ts_ns;
        self.buf.clear();
        self.time.write(&mut self.buf, p.frame.ts_ns)?;
        match self.write_tcp_facts(p) {
            Some(w) => {
                if annotations.is_empty() {
                    while self.buf.last() == Some(&b' ') {
                        self.buf.pop();
                    }
                } else {
                    self.facts_width = self.facts_width.max(w).min(110);
                    for _ in w..self.facts_width {
                        self.buf.push(b' ');
                    }
                }
            }
            None => {
                self.buf.extend_from_slice(b"      ");
                write_tcpdump_line(&mut self.buf, p, &self.opts.line, &self.if_names)?;
            }
        }
        self.write_annotations(annotations)?;
        if self.opts.explain {
            self.write_explanations(annotations)?;
        }
        write_dump(&mut self.buf, self.opts.dump, &mut self.redactor, p)?;
        self.buf.push(b'\n');
        self.flush_line()
    }

    fn http(&mut self, x: &Exchange) -> io::Result<()> {
        if !self.opts.http_body {
            return Ok(());
        }
        self.buf.clear();
        write_exchange_bodies(&mut self.buf, x)?;
        if !self.buf.is_empty() {
            self.flush_line()?;
        }
        Ok(())
    }

    fn connection(&mut self, c: &ConnRecord) -> io::Result<()> {
        self.connections += 1;
        let mut line = Vec::new();
        write_conn_summary(&mut line, c)?;
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        self.buf.clear();
        let indent = " ".repeat(self.indent().saturating_sub(6));
        let tone = match c.close {
            crate::event::CloseKind::Reset | crate::event::CloseKind::Refused => Tone::Reset,
            _ => Tone::Teardown,
        };
        let mark = if self.opts.ascii { "==" } else { "══" };
        writeln!(
            self.buf,
            "{indent}{} {}",
            self.theme.tone(tone, mark),
            self.theme.stream(c.stream, &text)
        )?;
        if self.opts.explain {
            if let Some(sentence) = history_sentence(&c.history) {
                let pad = " ".repeat(self.indent());
                for line in wrap(&sentence, EXPLAIN_WIDTH) {
                    writeln!(self.buf, "{pad}{}", self.theme.explain(format!("│ {line}")))?;
                }
            }
        }
        self.flush_line()?;
        if self.summary.len() < self.opts.summary_max {
            self.summary.push(text);
        } else {
            self.summary_more += 1;
        }
        Ok(())
    }

    fn notice(&mut self, n: &Notice, _ts: Option<i64>) -> io::Result<()> {
        self.buf.clear();
        writeln!(
            self.buf,
            "{}",
            self.theme.notice(format!("-- netpeek: {n}"))
        )?;
        self.flush_line()
    }

    fn finish(&mut self, stats: &RunStats) -> io::Result<()> {
        self.buf.clear();
        writeln!(self.buf)?;
        let span = self.first_ts.map_or(0, |f| self.last_ts - f);
        writeln!(
            self.buf,
            "{}",
            self.theme
                .heading(run::timeline_summary(self.packets, self.connections, span))
        )?;
        for l in &self.summary {
            writeln!(self.buf, "  {l}")?;
        }
        if self.summary_more > 0 {
            writeln!(self.buf, "  {}", run::more_connections(self.summary_more))?;
        }
        if stats.frames_read > stats.frames_shown {
            writeln!(
                self.buf,
                "  {}",
                run::frames_matched(stats.frames_shown, stats.frames_read)
            )?;
        }
        self.out.write_all(&self.buf)?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_words_whole() {
        let w = wrap("The server accepts: it acknowledges the client's ISN 2615568916 by sending ack = 2615568917, and picks its own ISN 89437789.", 40);
        assert!(w.iter().all(|l| l.chars().count() <= 40));
        assert_eq!(w.join(" "), "The server accepts: it acknowledges the client's ISN 2615568916 by sending ack = 2615568917, and picks its own ISN 89437789.");
    }
}
