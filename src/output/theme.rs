//! Colours, chosen once: every output that colours something asks the
//! theme, so a retransmission is the same red everywhere. `Theme::plain()`
//! styles nothing (pipes, `NO_COLOR`, `--color never`, tests).

use std::fmt::Display;

use owo_colors::{OwoColorize, Style};

use crate::describe::annotate::Tone;
use crate::event::Direction;

#[derive(Clone, Debug)]
pub struct Theme {
    on: bool,
    /// Escape sequences around text, precomputed for the per-packet
    /// columns (so a line is written without building strings).
    marks: Marks,
}

/// (prefix, suffix) pairs.
#[derive(Clone, Debug, Default)]
struct Marks {
    stream: Vec<(String, String)>,
    to_server: (String, String),
    to_client: (String, String),
    /// plain, syn, fin, rst
    flags: [(String, String); 4],
}

fn marks_of(style: Style) -> (String, String) {
    let s = "\u{1}".style(style).to_string();
    match s.split_once('\u{1}') {
        Some((a, b)) => (a.to_string(), b.to_string()),
        None => (String::new(), String::new()),
    }
}

/// Connection tags cycle through these.
const STREAM_STYLES: [fn(Style) -> Style; 6] = [
    |s| s.cyan(),
    |s| s.magenta(),
    |s| s.yellow(),
    |s| s.green(),
    |s| s.blue(),
    |s| s.bright_red(),
];

impl Theme {
    pub fn new(color: bool) -> Self {
        let marks = if color {
            Marks {
                stream: STREAM_STYLES
                    .iter()
                    .map(|f| marks_of(f(Style::new()).bold()))
                    .collect(),
                to_server: marks_of(Style::new().bright_green()),
                to_client: marks_of(Style::new().bright_blue()),
                flags: [
                    (String::new(), String::new()),
                    marks_of(Style::new().green()),
                    marks_of(Style::new().cyan()),
                    marks_of(Style::new().red().bold()),
                ],
            }
        } else {
            Marks::default()
        };
        Self { on: color, marks }
    }

    pub fn plain() -> Self {
        Self::new(false)
    }

    /// Escape codes around a connection's tag.
    pub fn stream_marks(&self, stream: u64) -> (&str, &str) {
        match self
            .marks
            .stream
            .get((stream % STREAM_STYLES.len() as u64) as usize)
        {
            Some((a, b)) => (a, b),
            None => ("", ""),
        }
    }

    /// Escape codes around a direction arrow.
    pub fn direction_marks(&self, d: Direction) -> (&str, &str) {
        let m = match d {
            Direction::ToServer => &self.marks.to_server,
            Direction::ToClient => &self.marks.to_client,
        };
        (&m.0, &m.1)
    }

    /// Escape codes around TCP flags, by their most telling flag.
    pub fn flags_marks(&self, syn: bool, fin: bool, rst: bool) -> (&str, &str) {
        let i = if rst {
            3
        } else if syn {
            1
        } else if fin {
            2
        } else {
            0
        };
        let m = &self.marks.flags[i];
        (&m.0, &m.1)
    }

    pub fn is_on(&self) -> bool {
        self.on
    }

    fn paint<T: Display>(&self, style: Style, v: T) -> String {
        if self.on {
            v.style(style).to_string()
        } else {
            v.to_string()
        }
    }

    pub fn stream<T: Display>(&self, stream: u64, v: T) -> String {
        let f = STREAM_STYLES[(stream % STREAM_STYLES.len() as u64) as usize];
        self.paint(f(Style::new()).bold(), v)
    }

    pub fn direction<T: Display>(&self, d: Direction, v: T) -> String {
        match d {
            Direction::ToServer => self.paint(Style::new().bright_green(), v),
            Direction::ToClient => self.paint(Style::new().bright_blue(), v),
        }
    }

    pub fn tone<T: Display>(&self, tone: Tone, v: T) -> String {
        let style = match tone {
            Tone::Handshake => Style::new().green(),
            Tone::Teardown => Style::new().cyan(),
            Tone::Reset => Style::new().red().bold(),
            Tone::Note => Style::new().blue(),
            Tone::Warn => Style::new().yellow(),
            Tone::Error => Style::new().red().bold(),
            Tone::Request => Style::new().bold(),
            Tone::Response(s) if s >= 500 => Style::new().red().bold(),
            Tone::Response(s) if s >= 400 => Style::new().yellow().bold(),
            Tone::Response(s) if s >= 300 => Style::new().cyan().bold(),
            Tone::Response(_) => Style::new().green().bold(),
            Tone::Other => Style::new().dimmed(),
        };
        self.paint(style, v)
    }

    /// Appends `text` in the tone's colour (as is without colour: the
    /// timeline writes a toned note on most lines).
    pub fn write_tone(&self, out: &mut Vec<u8>, tone: Tone, text: &str) {
        if self.on {
            out.extend_from_slice(self.tone(tone, text).as_bytes());
        } else {
            out.extend_from_slice(text.as_bytes());
        }
    }

    pub fn dim<T: Display>(&self, v: T) -> String {
        self.paint(Style::new().dimmed(), v)
    }

    pub fn explain<T: Display>(&self, v: T) -> String {
        self.paint(Style::new().italic().dimmed(), v)
    }

    pub fn notice<T: Display>(&self, v: T) -> String {
        self.paint(Style::new().yellow().bold(), v)
    }

    pub fn heading<T: Display>(&self, v: T) -> String {
        self.paint(Style::new().bold().underline(), v)
    }

    pub fn flags<T: Display>(&self, syn: bool, fin: bool, rst: bool, v: T) -> String {
        let style = if rst {
            Style::new().red().bold()
        } else if syn {
            Style::new().green()
        } else if fin {
            Style::new().cyan()
        } else {
            Style::new()
        };
        self.paint(style, v)
    }
}
