//! What a packet means, in words: its part in the handshake or teardown,
//! Wireshark's analysis flags, the HTTP message it starts or ends, and (for
//! `--explain`) a plain sentence or two with the real numbers for someone
//! learning TCP. One source of text for the timeline, the ladder and the
//! pcapng comments, so they always say the same thing.

mod analysis;
mod http;
mod role;
#[cfg(test)]
mod tests;

use crate::event::{Analysis, Direction, PacketEvent};

/// How an annotation should look: what kind of thing it says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Handshake,
    Teardown,
    /// A reset or refusal: the connection died.
    Reset,
    /// Worth knowing, not a problem (window update, keep-alive).
    Note,
    /// A warning sign (duplicate ACK, out of order, window full).
    Warn,
    /// Something went wrong (retransmission, loss, zero window).
    Error,
    Request,
    /// A response, by status code.
    Response(u16),
    /// Anything else (decode issues, HTTP notes).
    Other,
}

/// One thing a packet means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    pub tone: Tone,
    pub text: String,
    /// The `--explain` sentences, when asked for.
    pub explain: Option<String>,
}

/// A packet's annotations, and the texts of earlier packets' kept for
/// reuse (most HTTP packets get a note: written into a kept String, not a
/// new one each time).
#[derive(Debug, Default)]
pub struct Annotations {
    pub list: Vec<Annotation>,
    spare: Vec<String>,
}

/// Texts kept for reuse at most.
const SPARE_TEXTS: usize = 8;

impl Annotations {
    fn push(&mut self, a: Annotation) {
        self.list.push(a);
    }

    /// Empties the list, keeping a few of its texts' room.
    fn clear(&mut self) {
        for a in self.list.drain(..) {
            if self.spare.len() < SPARE_TEXTS && a.text.capacity() <= 1024 {
                let mut t = a.text;
                t.clear();
                self.spare.push(t);
            }
        }
    }

    /// An empty String, with room from an earlier text when there is one.
    fn text(&mut self) -> String {
        self.spare
            .pop()
            .unwrap_or_else(|| String::with_capacity(128))
    }
}

pub(super) fn side(d: Direction) -> (&'static str, &'static str) {
    match d {
        Direction::ToServer => ("client", "server"),
        Direction::ToClient => ("server", "client"),
    }
}

/// The tone of an analysis flag.
pub fn flag_tone(bit: u32) -> Tone {
    match bit {
        Analysis::RETRANSMISSION
        | Analysis::FAST_RETRANSMISSION
        | Analysis::LOST_SEGMENT
        | Analysis::ACK_LOST_SEGMENT
        | Analysis::ZERO_WINDOW => Tone::Error,
        Analysis::SPURIOUS_RETRANSMISSION
        | Analysis::OUT_OF_ORDER
        | Analysis::DUPLICATE_ACK
        | Analysis::WINDOW_FULL
        | Analysis::ZERO_WINDOW_PROBE => Tone::Warn,
        _ => Tone::Note,
    }
}

/// Everything a packet means, in order: its role, its analysis flags, its
/// HTTP messages, and what is odd about its bytes.
pub fn annotate(p: &PacketEvent<'_, '_>, explain: bool, out: &mut Annotations) {
    out.clear();
    if let Some(t) = p.tcp {
        role::role(p, t, explain, out);
        analysis::analysis(p, t, explain, out);
    }
    http::http(p, explain, out);
    // (A packet without TCP facts shows its decode issue in its line.)
    if let (Some(issue), Some(_)) = (&p.view.issue, p.tcp) {
        out.push(Annotation {
            tone: Tone::Warn,
            text: issue.to_string(),
            explain: None,
        });
    }
    if p.frame.caplen < p.frame.len {
        out.push(Annotation {
            tone: Tone::Note,
            text: format!("captured {} of {} bytes", p.frame.caplen, p.frame.len),
            explain: explain.then(|| {
                "The capture kept only the start of this packet (its snapshot length); the rest \
                 is counted but not seen."
                    .to_string()
            }),
        });
    }
    if let Some(ri) = p.frame.record_issue {
        out.push(Annotation {
            tone: Tone::Note,
            text: ri.to_string(),
            explain: None,
        });
    }
}

/// The annotations joined into one line of plain text (pcapng comments).
pub fn plain_text(notes: &[Annotation]) -> String {
    let mut s = String::new();
    for (i, n) in notes.iter().enumerate() {
        if i > 0 {
            s.push_str("; ");
        }
        s.push_str(&n.text);
    }
    s
}
