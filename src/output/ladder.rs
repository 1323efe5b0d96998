//! `--ladder`: a sequence diagram per connection, like Wireshark's Flow
//! Graph in text. The client's column is on the left, the server's on the
//! right, one arrow per packet with its flags and numbers, the time on the
//! left and the packet's meaning on the right. A live capture prints a
//! connection's ladder when it closes; a file prints them in stream order.
//! `--fold` folds long runs of plain data and ACKs into one line.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use super::theme::Theme;
use super::time::{TimeFormatter, TimeStyle};
use super::Sink;
use crate::describe::annotate::{Annotation, Tone};
use crate::describe::conn::{folded_run, packets_not_kept, write_conn_summary};
use crate::event::TcpFlags;
use crate::event::{ConnRecord, Direction, Endpoint};
use crate::event::{PacketEvent, RunStats};

pub struct LadderOptions {
    pub time: TimeStyle,
    pub nanos: bool,
    pub ascii: bool,
    pub fold: bool,
    /// Print each ladder as soon as its connection closes (live), rather
    /// than in stream order (files).
    pub immediate: bool,
    pub line_buffered: bool,
}

/// Width of the arrow between the two columns.
const SPAN: usize = 46;
/// Rows kept per connection; beyond, rows are counted, not kept.
const MAX_ROWS: usize = 50_000;
/// Runs of at least this many plain packets are folded with `--fold`.
const FOLD_MIN: usize = 4;

struct Row {
    time: String,
    dir: Direction,
    label: String,
    notes: Vec<(Tone, String)>,
    bytes: u32,
}

struct Ladder {
    client: Endpoint,
    server: Endpoint,
    rows: Vec<Row>,
    dropped: u64,
    record: Option<ConnRecord>,
}

pub struct LadderSink<W: Write> {
    out: W,
    opts: LadderOptions,
    theme: Theme,
    time: TimeFormatter,
    open: HashMap<u64, Ladder>,
    /// Closed ladders waiting for lower streams (file mode).
    ready: BTreeMap<u64, Ladder>,
    next_to_print: u64,
    /// Streams already printed ahead of order (a ladder evicted early).
    printed: u64,
}

fn arrow_label(flags: TcpFlags, seq: u32, ack: u32, len: u32) -> String {
    let mut names: Vec<&str> = Vec::new();
    for (bit, n) in [
        (TcpFlags::SYN, "SYN"),
        (TcpFlags::FIN, "FIN"),
        (TcpFlags::RST, "RST"),
        (TcpFlags::PSH, "PSH"),
        (TcpFlags::ACK, "ACK"),
        (TcpFlags::URG, "URG"),
    ] {
        if flags.has(bit) {
            names.push(n);
        }
    }
    let mut s = names.join(",");
    if len > 0 {
        s.push_str(&format!(" {seq}:{}", seq.wrapping_add(len)));
    } else if flags.syn() || flags.fin() || flags.rst() {
        s.push_str(&format!(" seq {seq}"));
    }
    if flags.ack() {
        s.push_str(&format!(" ack {ack}"));
    }
    if len > 0 {
        s.push_str(&format!(" ({len} B)"));
    }
    s
}

impl<W: Write> LadderSink<W> {
    pub fn new(out: W, opts: LadderOptions, theme: Theme) -> Self {
        Self {
            out,
            time: TimeFormatter::new(opts.time, opts.nanos),
            opts,
            theme,
            open: HashMap::new(),
            ready: BTreeMap::new(),
            next_to_print: 0,
            printed: 0,
        }
    }

    fn glyphs(&self) -> (&'static str, &'static str, &'static str, &'static str) {
        if self.opts.ascii {
            ("|", "-", ">", "<")
        } else {
            ("│", "─", "▶", "◀")
        }
    }

    fn arrow(&self, dir: Direction, label: &str) -> String {
        let (_, dash, right, left) = self.glyphs();
        let label_len = label.chars().count();
        let fill = SPAN.saturating_sub(label_len + 3);
        let s = match dir {
            Direction::ToServer => format!(" {label} {}{right}", dash.repeat(fill)),
            Direction::ToClient => format!("{left}{} {label} ", dash.repeat(fill)),
        };
        self.theme.direction(dir, s)
    }

    fn render(&self, stream: u64, l: &Ladder, buf: &mut Vec<u8>) -> io::Result<()> {
        let (bar, _, _, _) = self.glyphs();
        let tw = l.rows.first().map_or(10, |r| r.time.chars().count());
        let blank = " ".repeat(tw);
        let left = format!("client {}", l.client);
        let right = format!("server {}", l.server);
        let tag = format!("{:<tw$}", format!("#{stream}"));
        writeln!(
            buf,
            "{} {left:<w$}{right}",
            self.theme.stream(stream, tag),
            w = SPAN + 2
        )?;
        writeln!(buf, "{blank} {bar}{}{bar}", " ".repeat(SPAN))?;
        let rows = &l.rows;
        let mut i = 0;
        while i < rows.len() {
            if self.opts.fold {
                let run = rows[i..].iter().take_while(|r| r.notes.is_empty()).count();
                if run >= FOLD_MIN {
                    let part = &rows[i..i + run];
                    let (mut up, mut down, mut up_b, mut down_b) = (0u64, 0u64, 0u64, 0u64);
                    for r in part {
                        match r.dir {
                            Direction::ToServer => {
                                up += 1;
                                up_b += u64::from(r.bytes);
                            }
                            Direction::ToClient => {
                                down += 1;
                                down_b += u64::from(r.bytes);
                            }
                        }
                    }
                    let text = folded_run(run, up, up_b, down, down_b);
                    writeln!(
                        buf,
                        "{blank} {bar}{}{bar}",
                        self.theme.dim(format!("{text:^SPAN$}"))
                    )?;
                    i += run;
                    continue;
                }
            }
            let r = &rows[i];
            let notes: Vec<String> = r
                .notes
                .iter()
                .map(|(t, s)| self.theme.tone(*t, s))
                .collect();
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!("  {}", notes.join("; "))
            };
            writeln!(
                buf,
                "{} {bar}{}{bar}{notes}",
                r.time,
                self.arrow(r.dir, &r.label)
            )?;
            i += 1;
        }
        if l.dropped > 0 {
            writeln!(
                buf,
                "{blank} {bar}{}{bar}",
                self.theme
                    .dim(format!("{:^SPAN$}", packets_not_kept(l.dropped)))
            )?;
        }
        writeln!(buf, "{blank} {bar}{}{bar}", " ".repeat(SPAN))?;
        if let Some(rec) = &l.record {
            let mut line = Vec::new();
            write_conn_summary(&mut line, rec)?;
            write!(buf, "{}", String::from_utf8_lossy(&line))?;
        }
        writeln!(buf)?;
        Ok(())
    }

    fn print(&mut self, stream: u64, l: &Ladder) -> io::Result<()> {
        let mut buf = Vec::new();
        self.render(stream, l, &mut buf)?;
        self.out.write_all(&buf)?;
        self.printed += 1;
        if self.opts.line_buffered {
            self.out.flush()?;
        }
        Ok(())
    }

    /// Prints closed ladders whose turn has come.
    fn drain_ready(&mut self) -> io::Result<()> {
        while let Some(l) = self.ready.remove(&self.next_to_print) {
            let s = self.next_to_print;
            self.print(s, &l)?;
            self.next_to_print += 1;
        }
        Ok(())
    }
}

impl<W: Write> Sink for LadderSink<W> {
    fn wants_http_fields(&self) -> bool {
        false
    }

    fn packet(&mut self, p: &PacketEvent<'_, '_>, annotations: &[Annotation]) -> io::Result<()> {
        let mut time = Vec::new();
        self.time.write(&mut time, p.frame.ts_ns)?;
        let (Some(t), Some(tcp)) = (p.tcp, p.view.tcp()) else {
            return Ok(());
        };
        let flags = tcp.flags;
        let ladder = self.open.entry(t.stream).or_insert_with(|| Ladder {
            client: t.client,
            server: t.server,
            rows: Vec::new(),
            dropped: 0,
            record: None,
        });
        if ladder.rows.len() >= MAX_ROWS {
            ladder.dropped += 1;
            return Ok(());
        }
        ladder.rows.push(Row {
            time: String::from_utf8_lossy(&time).trim_end().to_string(),
            dir: t.direction,
            label: arrow_label(flags, t.seq_rel, t.ack_rel, t.payload_len),
            notes: annotations
                .iter()
                .map(|a: &Annotation| (a.tone, a.text.clone()))
                .collect(),
            bytes: t.payload_len,
        });
        Ok(())
    }

    fn connection(&mut self, c: &ConnRecord) -> io::Result<()> {
        let Some(mut l) = self.open.remove(&c.stream) else {
            return Ok(());
        };
        l.record = Some(c.clone());
        if self.opts.immediate {
            return self.print(c.stream, &l);
        }
        self.ready.insert(c.stream, l);
        // Streams that never get a record (no TCP seen) cannot hold the
        // order up: skip numbers with nothing open or ready.
        while self.next_to_print < c.stream
            && !self.open.contains_key(&self.next_to_print)
            && !self.ready.contains_key(&self.next_to_print)
        {
            self.next_to_print += 1;
        }
        self.drain_ready()
    }

    fn finish(&mut self, _stats: &RunStats) -> io::Result<()> {
        // Connections still open (no record came): print what is left, in
        // stream order.
        let mut rest: Vec<(u64, Ladder)> = self.open.drain().collect();
        rest.extend(std::mem::take(&mut self.ready));
        rest.sort_by_key(|(s, _)| *s);
        for (s, l) in rest {
            self.print(s, &l)?;
        }
        self.out.flush()
    }
}
