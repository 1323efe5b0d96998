//! `--follow N`: one TCP stream's reassembled conversation, like
//! Wireshark's "Follow TCP Stream" and `tshark -q -z follow,tcp,FORMAT,N`.
//!
//! * `ascii`: tshark's layout: each chunk is a line with its length (tab
//!   indented for the server) followed by its bytes, with CR and LF kept
//!   and other unprintable bytes shown as `.`.
//! * `hex`: a hex dump per chunk, offsets counted per direction, the server
//!   tab indented.
//! * `raw`: the bytes of one direction exactly as sent, for saving or
//!   piping; no header, no framing.
//!
//! Bytes that were never captured are marked where they belong:
//! `[N bytes missing in capture file]` (tshark's words). With colour on,
//! the client's chunks are red and the server's blue (Wireshark's colours).

use crate::describe::annotate::Annotation;
use std::io::{self, Write};

use owo_colors::{OwoColorize, Style};

use super::Sink;
use crate::describe::run;
use crate::event::Direction;
use crate::event::{FollowChunk, FollowData};
use crate::event::{PacketEvent, RunStats};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FollowFormat {
    Ascii,
    Hex,
    Raw,
}

impl FollowFormat {
    fn name(self) -> &'static str {
        match self {
            FollowFormat::Ascii => "ascii",
            FollowFormat::Hex => "hex",
            FollowFormat::Raw => "raw",
        }
    }
}

/// What `--follow` asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FollowOptions {
    pub stream: u64,
    pub format: FollowFormat,
    /// Only this direction (`--follow-side`); required for `raw`.
    pub side: Option<Direction>,
}

const RULE: &str = "===================================================================";

/// tshark's gap marker (its length line counts the `.` that stands for the
/// string's terminating NUL, which tshark prints too).
pub fn missing_marker(n: u64) -> String {
    format!("[{n} bytes missing in capture file].")
}

/// Prints the followed stream as its chunks arrive.
pub struct FollowPrinter<W: Write> {
    out: W,
    opts: FollowOptions,
    color: bool,
    flush_each: bool,
    header_done: bool,
    /// Hex offsets per direction (stream positions).
    offset: [u64; 2],
}

impl<W: Write> FollowPrinter<W> {
    /// `flush_each`: flush after every chunk (live captures, `-l`).
    pub fn new(out: W, opts: FollowOptions, color: bool, flush_each: bool) -> Self {
        Self {
            out,
            opts,
            color,
            flush_each,
            header_done: false,
            offset: [0, 0],
        }
    }

    fn header(&mut self, nodes: Option<(String, String)>) -> io::Result<()> {
        self.header_done = true;
        if self.opts.format == FollowFormat::Raw {
            return Ok(());
        }
        let (a, b) = nodes.unwrap_or_else(|| (":0".into(), ":0".into()));
        write!(
            self.out,
            "\n{RULE}\nFollow: tcp,{}\nFilter: tcp.stream eq {}\nNode 0: {a}\nNode 1: {b}\n",
            self.opts.format.name(),
            self.opts.stream
        )
    }

    fn dir_style(&self, dir: Direction) -> Option<Style> {
        self.color.then(|| match dir {
            Direction::ToServer => Style::new().red(),
            Direction::ToClient => Style::new().blue(),
        })
    }

    /// Writes `text` line by line, each line's content in `style`.
    fn styled_lines(&mut self, text: &str, style: Option<Style>) -> io::Result<()> {
        match style {
            None => self.out.write_all(text.as_bytes()),
            Some(st) => {
                for line in text.split_inclusive('\n') {
                    let (body, nl) = match line.strip_suffix('\n') {
                        Some(b) => (b, "\n"),
                        None => (line, ""),
                    };
                    if !body.is_empty() {
                        write!(self.out, "{}", body.style(st))?;
                    }
                    self.out.write_all(nl.as_bytes())?;
                }
                Ok(())
            }
        }
    }

    fn ascii(&mut self, dir: Direction, text: &str) -> io::Result<()> {
        let indent = if dir == Direction::ToClient { "\t" } else { "" };
        let style = self.dir_style(dir);
        let mut s = String::with_capacity(text.len() + 16);
        s.push_str(indent);
        s.push_str(&text.len().to_string());
        s.push('\n');
        s.push_str(text);
        s.push('\n');
        self.styled_lines(&s, style)
    }

    fn hex(&mut self, dir: Direction, bytes: &[u8]) -> io::Result<()> {
        let indent = if dir == Direction::ToClient { "\t" } else { "" };
        let style = self.dir_style(dir);
        let mut s = String::with_capacity(bytes.len() * 5);
        let mut pos = self.offset[dir.index()];
        for line in bytes.chunks(16) {
            hex_line(&mut s, indent, pos, line);
            pos += line.len() as u64;
        }
        self.offset[dir.index()] = pos;
        self.styled_lines(&s, style)
    }

    fn chunk(&mut self, c: &FollowChunk) -> io::Result<()> {
        if c.stream != self.opts.stream {
            return Ok(());
        }
        if !self.header_done {
            self.header(Some((c.client.to_string(), c.server.to_string())))?;
        }
        if self.opts.side.is_some_and(|s| s != c.dir) && !matches!(c.data, FollowData::Closed) {
            return Ok(());
        }
        match (&c.data, self.opts.format) {
            (FollowData::Bytes(b), FollowFormat::Ascii) => self.ascii(c.dir, &ascii_text(b))?,
            (FollowData::Bytes(b), FollowFormat::Hex) => self.hex(c.dir, b)?,
            (FollowData::Bytes(b), FollowFormat::Raw) => self.out.write_all(b)?,
            (FollowData::Missing(n), FollowFormat::Ascii) => {
                self.ascii(c.dir, &missing_marker(*n))?
            }
            (FollowData::Missing(n), FollowFormat::Hex) => {
                let indent = if c.dir == Direction::ToClient {
                    "\t"
                } else {
                    ""
                };
                let style = self.dir_style(c.dir);
                let line = format!("{indent}[{n} bytes missing in capture file]\n");
                self.styled_lines(&line, style)?;
                let o = &mut self.offset[c.dir.index()];
                *o = o.saturating_add(*n);
            }
            (FollowData::Missing(n), FollowFormat::Raw) => {
                log::warn!("{}", run::follow_raw_gap(c.stream, c.dir, *n));
            }
            (FollowData::End | FollowData::Closed, _) => {}
        }
        if self.flush_each {
            self.out.flush()?;
        }
        Ok(())
    }
}

/// tshark's ascii rendering: CR and LF as they are, printable ASCII as it
/// is, anything else `.`.
pub fn ascii_text(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'\r' | b'\n' | 0x20..=0x7e => b as char,
            _ => '.',
        })
        .collect()
}

/// One hex dump line: offset, 16 bytes in two groups of 8, then the bytes
/// as text in two groups (tshark's layout).
fn hex_line(s: &mut String, indent: &str, pos: u64, line: &[u8]) {
    use std::fmt::Write as _;
    s.push_str(indent);
    let _ = write!(s, "{pos:08X}  ");
    for i in 0..16 {
        if i == 8 {
            s.push(' ');
        }
        match line.get(i) {
            Some(b) => {
                let _ = write!(s, "{b:02x} ");
            }
            None => s.push_str("   "),
        }
    }
    s.push(' ');
    for (i, &b) in line.iter().enumerate() {
        s.push(if (0x20..=0x7e).contains(&b) {
            b as char
        } else {
            '.'
        });
        if i == 7 {
            s.push(' ');
        }
    }
    // tshark drops one trailing blank (meant for the group separator, it
    // also takes a space the data ends with).
    if s.ends_with(' ') {
        s.pop();
    }
    s.push('\n');
}

impl<W: Write> Sink for FollowPrinter<W> {
    fn wants_http_fields(&self) -> bool {
        false
    }

    /// The follow output replaces the per-packet lines.
    fn packet(&mut self, _p: &PacketEvent<'_, '_>, _annotations: &[Annotation]) -> io::Result<()> {
        Ok(())
    }

    fn wants_packets(&self) -> bool {
        false
    }

    fn follow(&mut self, c: &FollowChunk) -> io::Result<()> {
        self.chunk(c)
    }

    fn finish(&mut self, _stats: &RunStats) -> io::Result<()> {
        if !self.header_done {
            log::warn!("{}", run::follow_stream_not_seen(self.opts.stream));
            self.header(None)?;
        }
        if self.opts.format != FollowFormat::Raw {
            writeln!(self.out, "{RULE}")?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Endpoint;

    fn chunk(dir: Direction, data: FollowData) -> FollowChunk {
        let ep = |port| Endpoint {
            ip: std::net::Ipv4Addr::new(10, 0, 0, 1).into(),
            port,
        };
        FollowChunk {
            stream: 2,
            frame: 1,
            ts_ns: 0,
            client: ep(40000),
            server: ep(80),
            dir,
            data,
        }
    }

    fn render_bytes(format: FollowFormat, side: Option<Direction>, color: bool) -> Vec<u8> {
        let opts = FollowOptions {
            stream: 2,
            format,
            side,
        };
        let mut p = FollowPrinter::new(Vec::new(), opts, color, false);
        let chunks = [
            chunk(
                Direction::ToServer,
                FollowData::Bytes(b"GET /\r\n\r\n".to_vec()),
            ),
            chunk(
                Direction::ToClient,
                FollowData::Bytes(b"HTTP/1.1 200 OK\r\n\tx\xff".to_vec()),
            ),
            chunk(Direction::ToClient, FollowData::Missing(14)),
            chunk(Direction::ToClient, FollowData::Bytes(b"AB".to_vec())),
            chunk(Direction::ToServer, FollowData::Closed),
        ];
        for c in &chunks {
            p.follow(c).unwrap();
        }
        p.finish(&RunStats::default()).unwrap();
        p.out
    }

    fn render(format: FollowFormat, side: Option<Direction>, color: bool) -> String {
        String::from_utf8(render_bytes(format, side, color)).unwrap()
    }

    #[test]
    fn ascii_is_tsharks_layout() {
        assert_eq!(
            render(FollowFormat::Ascii, None, false),
            "\n===================================================================\n\
             Follow: tcp,ascii\nFilter: tcp.stream eq 2\n\
             Node 0: 10.0.0.1:40000\nNode 1: 10.0.0.1:80\n\
             9\nGET /\r\n\r\n\n\
             \t20\nHTTP/1.1 200 OK\r\n.x.\n\
             \t35\n[14 bytes missing in capture file].\n\
             \t2\nAB\n\
             ===================================================================\n"
        );
    }

    #[test]
    fn hex_offsets_count_per_direction_and_skip_the_gap() {
        let out = render(FollowFormat::Hex, None, false);
        let body: Vec<&str> = out.lines().skip(6).collect();
        assert_eq!(
            body,
            [
                "00000000  47 45 54 20 2f 0d 0a 0d  0a                       GET /... .",
                "\t00000000  48 54 54 50 2f 31 2e 31  20 32 30 30 20 4f 4b 0d  HTTP/1.1  200 OK.",
                "\t00000010  0a 09 78 ff                                       ..x.",
                "\t[14 bytes missing in capture file]",
                "\t00000022  41 42                                             AB",
                RULE,
            ]
        );
    }

    #[test]
    fn raw_is_one_side_only_without_framing() {
        assert_eq!(
            render_bytes(FollowFormat::Raw, Some(Direction::ToClient), false),
            b"HTTP/1.1 200 OK\r\n\tx\xffAB"
        );
        assert_eq!(
            render_bytes(FollowFormat::Raw, Some(Direction::ToServer), false),
            b"GET /\r\n\r\n"
        );
    }

    #[test]
    fn colour_by_direction_per_line() {
        let out = render(FollowFormat::Ascii, None, true);
        // Client red (31), server blue (34); the tab and line ends outside.
        assert!(
            out.contains("\x1b[31m9\x1b[0m\n\x1b[31mGET /\r\x1b[0m\n"),
            "{out:?}"
        );
        assert!(out.contains("\x1b[34m\t20\x1b[0m\n"), "{out:?}");
        assert!(out.contains("\x1b[34mAB\x1b[0m\n"), "{out:?}");
    }
}
