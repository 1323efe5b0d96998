//! What a packet means, in words: its part in the handshake or teardown,
//! Wireshark's analysis flags, the HTTP message it starts or ends, and (for
//! `--explain`) a plain sentence or two with the real numbers for someone
//! learning TCP. One source of text for the timeline, the ladder and the
//! pcapng comments, so they always say the same thing.

use std::fmt::Write as _;

use crate::dissect::http::{human_bytes, human_duration, HttpNote};
use crate::event::PacketEvent;
use crate::track::{Analysis, Direction, Role, TcpInfo};

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

fn side(d: Direction) -> (&'static str, &'static str) {
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

fn options_text(p: &PacketEvent<'_, '_>) -> String {
    let Some(m) = p.decoded.tcp_meta() else {
        return String::new();
    };
    let o = m.options;
    let mut parts = Vec::new();
    if let Some(mss) = o.mss {
        parts.push(format!("MSS {mss}"));
    }
    if let Some(ws) = o.wscale {
        parts.push(format!("window scale {ws}"));
    }
    if o.sack_permitted {
        parts.push("SACK".to_string());
    }
    if o.timestamp.is_some() {
        parts.push("timestamps".to_string());
    }
    parts.join(", ")
}

fn raw_seq_ack(p: &PacketEvent<'_, '_>) -> (u32, u32) {
    p.decoded
        .tcp_slice()
        .map(|t| (t.sequence_number(), t.acknowledgment_number()))
        .unwrap_or((0, 0))
}

fn seq_range(t: &TcpInfo) -> String {
    if t.payload_len > 0 {
        format!("{}:{}", t.seq_rel, t.seq_rel.wrapping_add(t.payload_len))
    } else {
        t.seq_rel.to_string()
    }
}

/// The meaning of a TCP packet's role (handshake, teardown, reset).
fn role(p: &PacketEvent<'_, '_>, t: &TcpInfo, explain: bool, out: &mut Vec<Annotation>) {
    let (me, peer) = side(t.direction);
    let (seq_raw, ack_raw) = raw_seq_ack(p);
    let (tone, text, why) = match t.role {
        Role::Handshake1 => {
            let opts = options_text(p);
            let text = if opts.is_empty() {
                format!("handshake 1/3 (SYN): ISN {seq_raw}")
            } else {
                format!("handshake 1/3 (SYN): ISN {seq_raw}, {opts}")
            };
            let why = format!(
                "The {me} asks to open a connection: it picks its initial sequence number (ISN) \
                 {seq_raw}{}.",
                if opts.is_empty() {
                    String::new()
                } else {
                    format!(" and offers {opts}")
                }
            );
            (Tone::Handshake, text, why)
        }
        Role::Handshake2 => {
            let text = format!("handshake 2/3 (SYN-ACK): ISN {seq_raw}, ack {ack_raw}");
            let peer_isn = t.peer_isn.map_or(ack_raw.wrapping_sub(1), |i| i);
            let why = format!(
                "The {me} accepts: it acknowledges the {peer}'s ISN {peer_isn} by sending ack = \
                 {ack_raw}, and picks its own ISN {seq_raw}."
            );
            (Tone::Handshake, text, why)
        }
        Role::Handshake3 => {
            let rtt = t.handshake_rtt_ns.map(human_duration);
            let text = match &rtt {
                Some(r) => format!("handshake 3/3 (ACK): established in {r}"),
                None => "handshake 3/3 (ACK): established".to_string(),
            };
            let why = format!(
                "The {me} acknowledges the {peer}'s ISN {} with ack = {ack_raw}: the connection is \
                 established{}.",
                ack_raw.wrapping_sub(1),
                match &rtt {
                    Some(r) => format!(". The handshake took {r}, from the SYN to this ACK"),
                    None => String::new(),
                }
            );
            (Tone::Handshake, text, why)
        }
        Role::Fin => {
            let text = if t.first_fin {
                format!("teardown: {me} closes (FIN)")
            } else {
                format!("teardown: {me} closes too (FIN)")
            };
            let why = if t.first_fin {
                format!(
                    "The {me} has nothing more to send and closes its direction (FIN at seq {}); it \
                     can still receive until the {peer} closes too.",
                    t.seq_rel.wrapping_add(t.payload_len)
                )
            } else {
                format!(
                    "The {me} closes its direction as well (FIN at seq {}){}.",
                    t.seq_rel.wrapping_add(t.payload_len),
                    if p.decoded.tcp_meta().is_some_and(|m| m.flags.ack()) {
                        format!(
                            ", acknowledging everything the {peer} sent (ack = {})",
                            t.ack_rel
                        )
                    } else {
                        String::new()
                    }
                )
            };
            (Tone::Teardown, text, why)
        }
        Role::FinAck => {
            let text = if t.closes {
                format!("teardown: {me} acks the {peer}'s FIN, connection closed")
            } else {
                format!("teardown: {me} acks the {peer}'s FIN")
            };
            let why = if t.closes {
                format!(
                    "The {me} acknowledges the {peer}'s FIN (ack = {}): both directions are \
                     closed, the connection is over.",
                    t.ack_rel
                )
            } else {
                format!(
                    "The {me} acknowledges the {peer}'s FIN (ack = {}); its own direction stays \
                     open until it sends a FIN too.",
                    t.ack_rel
                )
            };
            (Tone::Teardown, text, why)
        }
        Role::Reset => {
            if t.refused {
                let port = t.server.port;
                (
                    Tone::Reset,
                    "connection refused (RST)".to_string(),
                    format!(
                        "The {me} refuses the connection: nothing accepts connections on port \
                         {port}, so the SYN is answered with a reset."
                    ),
                )
            } else {
                (
                    Tone::Reset,
                    format!("reset by {me} (RST)"),
                    format!(
                        "The {me} aborts the connection with a reset: no more data flows either \
                         way, and anything not yet acknowledged is lost."
                    ),
                )
            }
        }
        Role::Data | Role::Ack => return,
    };
    out.push(Annotation {
        tone,
        text,
        explain: explain.then_some(why),
    });
}

/// Wireshark's analysis flags, in words.
fn analysis(p: &PacketEvent<'_, '_>, t: &TcpInfo, explain: bool, out: &mut Vec<Annotation>) {
    let flags = t.verdict.flags;
    let (me, peer) = side(t.direction);
    let ts = p.frame.ts_ns;
    for (bit, _) in Analysis::ALL {
        if !flags.has(bit) {
            continue;
        }
        // A fast or spurious retransmission also carries the plain
        // retransmission bit; say it once.
        if bit == Analysis::RETRANSMISSION
            && (flags.has(Analysis::FAST_RETRANSMISSION)
                || flags.has(Analysis::SPURIOUS_RETRANSMISSION))
        {
            continue;
        }
        let original = t
            .retrans_of
            .map(|(f, t0)| format!(" of frame {f} (+{})", human_duration(ts - t0)));
        let (text, why) = match bit {
            Analysis::RETRANSMISSION => (
                format!("retransmission{}", original.clone().unwrap_or_default()),
                format!(
                    "The {me} sends bytes {} again{}: no acknowledgement came back in time, so its \
                     retransmission timer expired and TCP resends the data it assumes lost.",
                    seq_range(t),
                    t.retrans_of
                        .map(|(f, t0)| format!(", {} after the original in frame {f}", human_duration(ts - t0)))
                        .unwrap_or_default()
                ),
            ),
            Analysis::FAST_RETRANSMISSION => (
                format!("fast retransmission{}", original.clone().unwrap_or_default()),
                format!(
                    "The {me} resends bytes {} right after duplicate ACKs from the {peer}, without \
                     waiting for its timer: three duplicate ACKs mean a segment was lost while later \
                     ones arrived (fast retransmit, RFC 5681).",
                    seq_range(t)
                ),
            ),
            Analysis::SPURIOUS_RETRANSMISSION => (
                format!("spurious retransmission{}", original.clone().unwrap_or_default()),
                format!(
                    "The {me} resends bytes {}, but the {peer} had already acknowledged them: the \
                     retransmission was unnecessary (often a timer that fired too early).",
                    seq_range(t)
                ),
            ),
            Analysis::OUT_OF_ORDER => (
                "out of order".to_string(),
                format!(
                    "This segment (bytes {}) arrives after segments that follow it: it was \
                     reordered on the way rather than lost (it came within one round trip).",
                    seq_range(t)
                ),
            ),
            Analysis::DUPLICATE_ACK => (
                format!("dup ACK #{} of frame {}", t.verdict.dup_ack_num, t.verdict.dup_ack_of),
                format!(
                    "Duplicate ACK #{}: the {me} again acknowledges only up to byte {} (as in frame \
                     {}). It received later data but is still missing what comes next; after three \
                     duplicates the {peer} retransmits at once.",
                    t.verdict.dup_ack_num, t.ack_rel, t.verdict.dup_ack_of
                ),
            ),
            Analysis::ZERO_WINDOW => (
                "zero window".to_string(),
                format!(
                    "The {me} advertises a window of 0 bytes: its receive buffer is full, so the {peer} \
                     must stop sending until the window opens again."
                ),
            ),
            Analysis::ZERO_WINDOW_PROBE => (
                "zero window probe".to_string(),
                format!(
                    "The {peer}'s window is 0, so the {me} sends a 1-byte probe to learn when there \
                     is room again."
                ),
            ),
            Analysis::ZERO_WINDOW_PROBE_ACK => (
                "zero window probe ACK".to_string(),
                format!("The {me} answers the window probe; its window is still {} bytes.", t.window),
            ),
            Analysis::WINDOW_FULL => (
                "window full".to_string(),
                format!(
                    "This segment fills the {peer}'s advertised receive window: the {me} must wait \
                     for an acknowledgement before sending more."
                ),
            ),
            Analysis::WINDOW_UPDATE => (
                match t.prev_window {
                    Some(w) => format!("window update {w} → {}", t.window),
                    None => format!("window update → {}", t.window),
                },
                format!(
                    "The {me} sends no data, only a new window of {} bytes{}: it tells the {peer} how \
                     much more it may send.",
                    t.window,
                    t.prev_window.map(|w| format!(" (was {w})")).unwrap_or_default()
                ),
            ),
            Analysis::KEEP_ALIVE => (
                "keep-alive".to_string(),
                format!(
                    "A keep-alive: an (almost) empty segment one byte behind, to check that the {peer} \
                     is still there on an idle connection."
                ),
            ),
            Analysis::KEEP_ALIVE_ACK => (
                "keep-alive ACK".to_string(),
                format!("The {me} answers the keep-alive: it is still there."),
            ),
            Analysis::LOST_SEGMENT => {
                let hole = t
                    .expected_seq
                    .map(|e| format!("bytes {e}:{}", t.seq_rel))
                    .unwrap_or_else(|| "earlier bytes".to_string());
                (
                    "previous segment not captured".to_string(),
                    format!(
                        "There is a hole before this segment: {hole} from the {me} were never seen \
                         (lost on the way, or missed by the capture)."
                    ),
                )
            }
            Analysis::ACK_LOST_SEGMENT => (
                "ACKed segment not captured".to_string(),
                format!(
                    "The {me} acknowledges data up to byte {} that the capture never saw: the {peer} \
                     sent it, the {me} received it, but it was not captured.",
                    t.ack_rel
                ),
            ),
            Analysis::REUSED_PORTS => (
                "port reuse".to_string(),
                "A new connection on the same addresses and ports as an earlier one (it starts with \
                 a different ISN)."
                    .to_string(),
            ),
            _ => continue,
        };
        out.push(Annotation {
            tone: flag_tone(bit),
            text,
            explain: explain.then_some(why),
        });
    }
}

/// HTTP notes for this frame.
fn http(p: &PacketEvent<'_, '_>, explain: bool, out: &mut Vec<Annotation>) {
    for n in p.http {
        let (tone, why) = match n {
            HttpNote::Request {
                method, uri, host, ..
            } => (
                Tone::Request,
                format!(
                    "The client sends an HTTP {method} request for {uri}{}.",
                    host.as_ref()
                        .map(|h| format!(" to {h}"))
                        .unwrap_or_default()
                ),
            ),
            HttpNote::Response {
                status,
                reason,
                content_type,
                body_bytes,
                ttfb_ns,
                duration_ns,
                ..
            } => {
                let mut s = format!(
                    "The server answers {status}{} with {}{}.",
                    if reason.is_empty() {
                        String::new()
                    } else {
                        format!(" {reason}")
                    },
                    human_bytes(*body_bytes),
                    content_type
                        .as_ref()
                        .map(|c| format!(" of {}", c.split(';').next().unwrap_or(c).trim()))
                        .unwrap_or_default()
                );
                if let Some(t) = ttfb_ns {
                    let _ = write!(
                        s,
                        " Its first byte came {} after the request's last (time to first byte)",
                        human_duration(*t)
                    );
                    match duration_ns {
                        Some(d) => {
                            let _ = write!(s, "; the whole exchange took {}.", human_duration(*d));
                        }
                        None => s.push('.'),
                    }
                }
                (Tone::Response(*status), s)
            }
            HttpNote::Interim { status, reason, .. } => (
                Tone::Response(*status),
                format!(
                    "An interim response ({status} {reason}): the server tells the client to go on \
                     before the final answer."
                ),
            ),
            HttpNote::Notice { text, .. } => (Tone::Other, text.clone()),
        };
        out.push(Annotation {
            tone,
            text: n.to_string(),
            explain: explain.then_some(why),
        });
    }
}

/// Everything a packet means, in order: its role, its analysis flags, its
/// HTTP messages, and what is odd about its bytes.
pub fn annotate(p: &PacketEvent<'_, '_>, explain: bool, out: &mut Vec<Annotation>) {
    out.clear();
    if let Some(t) = p.tcp {
        role(p, t, explain, out);
        analysis(p, t, explain, out);
    }
    http(p, explain, out);
    // (A packet without TCP facts shows its decode issue in its line.)
    if let (Some(issue), Some(_)) = (&p.decoded.issue, p.tcp) {
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
