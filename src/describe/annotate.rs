//! What a packet means, in words: its part in the handshake or teardown,
//! Wireshark's analysis flags, the HTTP message it starts or ends, and (for
//! `--explain`) a plain sentence or two with the real numbers for someone
//! learning TCP. One source of text for the timeline, the ladder and the
//! pcapng comments, so they always say the same thing.

use std::fmt::Write as _;

use crate::event::HttpNote;

use crate::describe::{human_bytes, human_duration};
use crate::event::PacketEvent;
use crate::event::{Analysis, Direction, Role, TcpInfo};

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
    let Some(t) = p.view.tcp() else {
        return String::new();
    };
    let o = t.offered;
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
    if o.timestamps {
        parts.push("timestamps".to_string());
    }
    parts.join(", ")
}

fn raw_seq_ack(p: &PacketEvent<'_, '_>) -> (u32, u32) {
    p.view.tcp().map_or((0, 0), |t| (t.seq, t.ack))
}

fn seq_range(t: &TcpInfo) -> String {
    if t.payload_len > 0 {
        format!("{}:{}", t.seq_rel, t.seq_rel.wrapping_add(t.payload_len))
    } else {
        t.seq_rel.to_string()
    }
}

/// What a retransmitted segment carried: "bytes 1:1449", or its SYN/FIN.
fn what_is_resent(p: &PacketEvent<'_, '_>, t: &TcpInfo) -> String {
    if t.payload_len > 0 {
        return format!("bytes {}", seq_range(t));
    }
    match p.view.tcp().map(|t| t.flags) {
        Some(f) if f.syn() && f.ack() => "its SYN-ACK".to_string(),
        Some(f) if f.syn() => "its SYN".to_string(),
        Some(f) if f.fin() => "its FIN".to_string(),
        _ => format!("the segment at seq {}", t.seq_rel),
    }
}

/// The meaning of a TCP packet's role (handshake, teardown, reset).
fn role(p: &PacketEvent<'_, '_>, t: &TcpInfo, explain: bool, out: &mut Annotations) {
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
                    if p.view.tcp().is_some_and(|t| t.flags.ack()) {
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
fn analysis(p: &PacketEvent<'_, '_>, t: &TcpInfo, explain: bool, out: &mut Annotations) {
    let flags = t.verdict.flags;
    let (me, peer) = side(t.direction);
    let ts = p.frame.ts_ns;
    // (By reference: iterating the constant by value copied all of it for
    // every packet.)
    for &(bit, _) in &Analysis::ALL {
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
                    "The {me} sends {} again{}: no acknowledgement came back in time, so its \
                     retransmission timer expired and TCP resends what it assumes lost.",
                    what_is_resent(p, t),
                    t.retrans_of
                        .map(|(f, t0)| format!(", {} after the original in frame {f}", human_duration(ts - t0)))
                        .unwrap_or_default()
                ),
            ),
            Analysis::FAST_RETRANSMISSION => (
                format!("fast retransmission{}", original.clone().unwrap_or_default()),
                format!(
                    "The {me} resends {} right after duplicate ACKs from the {peer}, without \
                     waiting for its timer: three duplicate ACKs mean a segment was lost while later \
                     ones arrived (fast retransmit, RFC 5681).",
                    what_is_resent(p, t)
                ),
            ),
            Analysis::SPURIOUS_RETRANSMISSION => (
                format!("spurious retransmission{}", original.clone().unwrap_or_default()),
                format!(
                    "The {me} resends {}, but the {peer} had already acknowledged it: the \
                     retransmission was unnecessary (often a timer that fired too early).",
                    what_is_resent(p, t)
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
fn http(p: &PacketEvent<'_, '_>, explain: bool, out: &mut Annotations) {
    for n in p.http {
        let tone = match n {
            HttpNote::Request { .. } => Tone::Request,
            HttpNote::Response { status, .. } | HttpNote::Interim { status, .. } => {
                Tone::Response(*status)
            }
            HttpNote::Anomaly { .. } => Tone::Other,
        };
        let mut text = out.text();
        let _ = n.write_text(&mut text);
        out.push(Annotation {
            tone,
            text,
            // The sentences are written only when asked for.
            explain: explain.then(|| explain_http(n)),
        });
    }
}

/// The `--explain` sentence under an HTTP note.
fn explain_http(n: &HttpNote) -> String {
    match n {
        HttpNote::Request {
            method, uri, host, ..
        } => format!(
            "The client sends an HTTP {method} request for {uri}{}.",
            host.as_ref()
                .map(|h| format!(" to {h}"))
                .unwrap_or_default()
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
            s
        }
        HttpNote::Interim { status, reason, .. } => format!(
            "An interim response ({status} {reason}): the server tells the client to go on \
                     before the final answer."
        ),
        HttpNote::Anomaly { anomaly, .. } => anomaly.to_string(),
    }
}

/// Everything a packet means, in order: its role, its analysis flags, its
/// HTTP messages, and what is odd about its bytes.
pub fn annotate(p: &PacketEvent<'_, '_>, explain: bool, out: &mut Annotations) {
    out.clear();
    if let Some(t) = p.tcp {
        role(p, t, explain, out);
        analysis(p, t, explain, out);
    }
    http(p, explain, out);
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

#[cfg(test)]
mod tests {
    //! Every kind of event gets its words, with the real numbers: each test
    //! plays a small conversation through the real decoder, tracker and
    //! HTTP dissector and checks what the packets are said to mean.

    use super::*;
    use crate::decode::decode;
    use crate::dissect::http::{HttpDissector, HttpOptions};
    use crate::event::{Frame, LinkType};
    use crate::track::{Limits, Tracker};

    const C: [u8; 4] = [10, 0, 0, 1];
    const S: [u8; 4] = [10, 0, 0, 2];
    const CP: u16 = 40000;
    const SP: u16 = 8000;
    const CISN: u32 = 1000;
    const SISN: u32 = 5000;

    #[derive(Clone, Copy)]
    struct P<'a> {
        from_client: bool,
        seq: u32,
        ack: u32,
        flags: &'a str,
        payload: &'a [u8],
        win: u16,
        ms: i64,
    }

    fn p<'a>(
        from_client: bool,
        seq: u32,
        ack: u32,
        flags: &'a str,
        payload: &'a [u8],
        ms: i64,
    ) -> P<'a> {
        P {
            from_client,
            seq,
            ack,
            flags,
            payload,
            win: 1000,
            ms,
        }
    }

    fn build(x: &P<'_>) -> Vec<u8> {
        let (src, dst, sp, dp) = if x.from_client {
            (C, S, CP, SP)
        } else {
            (S, C, SP, CP)
        };
        let mut t = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(src, dst, 64)
            .tcp(sp, dp, x.seq, x.win);
        if x.flags.contains('S') {
            t = t
                .syn()
                .options(&[
                    etherparse::TcpOptionElement::MaximumSegmentSize(1460),
                    etherparse::TcpOptionElement::WindowScale(0),
                    etherparse::TcpOptionElement::SelectiveAcknowledgementPermitted,
                ])
                .unwrap();
        }
        if x.flags.contains('A') {
            t = t.ack(x.ack);
        }
        if x.flags.contains('F') {
            t = t.fin();
        }
        if x.flags.contains('R') {
            t = t.rst();
        }
        if x.flags.contains('P') {
            t = t.psh();
        }
        let mut v = Vec::new();
        t.write(&mut v, x.payload).unwrap();
        v
    }

    /// Plays the packets; returns each packet's annotations (explained).
    /// Every packet is also annotated into one `Annotations` kept across
    /// the conversation, as the output stage does: reused texts must say
    /// exactly what fresh ones say.
    fn play(pkts: &[P<'_>]) -> Vec<Vec<Annotation>> {
        let mut tracker = Tracker::new(Limits::default());
        let mut http = HttpDissector::new(HttpOptions::default());
        let mut all = Vec::new();
        let mut kept = Annotations::default();
        for (i, x) in pkts.iter().enumerate() {
            let data = build(x);
            let frame = Frame {
                number: i as u64 + 1,
                ts_ns: x.ms * 1_000_000,
                interface: 0,
                linktype: LinkType::ETHERNET,
                caplen: data.len() as u32,
                len: data.len() as u32,
                data: &data,
                comment: None,
                record_issue: None,
            };
            let (view, m) = decode(&frame).view(frame.data);
            let info = tracker.process(frame.number, frame.ts_ns, &m.unwrap(), &mut http);
            let notes = http.take_notes();
            let ev = PacketEvent {
                frame: &frame,
                view: &view,
                tcp: Some(&info),
                interface: None,
                interface_id: 0,
                http: &notes,
            };
            let mut out = Annotations::default();
            annotate(&ev, true, &mut out);
            annotate(&ev, true, &mut kept);
            assert_eq!(kept.list, out.list, "packet {}", i + 1);
            all.push(out.list);
        }
        all
    }

    fn texts(a: &[Annotation]) -> Vec<&str> {
        a.iter().map(|n| n.text.as_str()).collect()
    }

    fn why(a: &[Annotation]) -> String {
        a.iter()
            .filter_map(|n| n.explain.clone())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn handshake() -> Vec<P<'static>> {
        vec![
            p(true, CISN, 0, "S", b"", 0),
            p(false, SISN, CISN + 1, "SA", b"", 10),
            p(true, CISN + 1, SISN + 1, "A", b"", 20),
        ]
    }

    #[test]
    fn handshake_in_words_and_numbers() {
        let a = play(&handshake());
        assert_eq!(
            texts(&a[0]),
            ["handshake 1/3 (SYN): ISN 1000, MSS 1460, window scale 0, SACK"]
        );
        assert_eq!(
            why(&a[0]),
            "The client asks to open a connection: it picks its initial sequence number (ISN) 1000 \
             and offers MSS 1460, window scale 0, SACK."
        );
        assert_eq!(
            texts(&a[1]),
            ["handshake 2/3 (SYN-ACK): ISN 5000, ack 1001"]
        );
        assert_eq!(
            why(&a[1]),
            "The server accepts: it acknowledges the client's ISN 1000 by sending ack = 1001, and \
             picks its own ISN 5000."
        );
        assert_eq!(
            texts(&a[2]),
            ["handshake 3/3 (ACK): established in 20.0 ms"]
        );
        assert_eq!(
            why(&a[2]),
            "The client acknowledges the server's ISN 5000 with ack = 5001: the connection is \
             established. The handshake took 20.0 ms, from the SYN to this ACK."
        );
        assert_eq!(a[0][0].tone, Tone::Handshake);
    }

    #[test]
    fn teardown_in_words() {
        let mut v = handshake();
        v.push(p(true, CISN + 1, SISN + 1, "FA", b"", 30));
        v.push(p(false, SISN + 1, CISN + 2, "FA", b"", 31));
        v.push(p(true, CISN + 2, SISN + 2, "A", b"", 32));
        let a = play(&v);
        assert_eq!(texts(&a[3]), ["teardown: client closes (FIN)"]);
        assert!(
            why(&a[3]).contains("closes its direction (FIN at seq 1)"),
            "{}",
            why(&a[3])
        );
        assert_eq!(texts(&a[4]), ["teardown: server closes too (FIN)"]);
        assert!(why(&a[4])
            .contains("(FIN at seq 1), acknowledging everything the client sent (ack = 2)"));
        assert_eq!(
            texts(&a[5]),
            ["teardown: client acks the server's FIN, connection closed"]
        );
        assert_eq!(
            why(&a[5]),
            "The client acknowledges the server's FIN (ack = 2): both directions are closed, the \
             connection is over."
        );
    }

    #[test]
    fn refusal_and_reset() {
        let a = play(&[
            p(true, CISN, 0, "S", b"", 0),
            p(false, 0, CISN + 1, "RA", b"", 1),
        ]);
        assert_eq!(texts(&a[1]), ["connection refused (RST)"]);
        assert!(why(&a[1]).contains("nothing accepts connections on port 8000"));
        assert_eq!(a[1][0].tone, Tone::Reset);
        let mut v = handshake();
        v.push(p(false, SISN + 1, CISN + 1, "RA", b"", 40));
        let a = play(&v);
        assert_eq!(texts(&a[3]), ["reset by server (RST)"]);
    }

    #[test]
    fn retransmission_names_the_original_and_the_delay() {
        let mut v = handshake();
        v.push(p(true, CISN + 1, SISN + 1, "PA", b"hello", 30));
        v.push(p(true, CISN + 1, SISN + 1, "PA", b"hello", 230));
        let a = play(&v);
        assert_eq!(texts(&a[4]), ["retransmission of frame 4 (+200.0 ms)"]);
        assert!(
            why(&a[4]).starts_with(
                "The client sends bytes 1:6 again, 200.0 ms after the original in frame 4"
            ),
            "{}",
            why(&a[4])
        );
        assert_eq!(a[4][0].tone, Tone::Error);
    }

    #[test]
    fn loss_duplicate_acks_and_fast_retransmission() {
        let d = [b'x'; 100];
        let mut v = handshake();
        v.push(p(true, CISN + 1, SISN + 1, "A", &d, 30));
        v.push(p(true, CISN + 201, SISN + 1, "A", &d, 31)); // 101..201 lost
        v.push(p(false, SISN + 1, CISN + 101, "A", b"", 40));
        v.push(p(false, SISN + 1, CISN + 101, "A", b"", 41));
        v.push(p(false, SISN + 1, CISN + 101, "A", b"", 42));
        v.push(p(false, SISN + 1, CISN + 101, "A", b"", 43));
        v.push(p(true, CISN + 101, SISN + 1, "A", &d, 44));
        let a = play(&v);
        assert_eq!(texts(&a[4]), ["previous segment not captured"]);
        assert!(
            why(&a[4]).contains("bytes 101:201 from the client were never seen"),
            "{}",
            why(&a[4])
        );
        assert_eq!(texts(&a[6]), ["dup ACK #1 of frame 6"]);
        assert!(why(&a[6]).starts_with(
            "Duplicate ACK #1: the server again acknowledges only up to byte 101 (as in frame 6)."
        ));
        assert_eq!(texts(&a[8]), ["dup ACK #3 of frame 6"]);
        assert_eq!(texts(&a[9])[0], "fast retransmission");
        assert!(why(&a[9]).starts_with(
            "The client resends bytes 101:201 right after duplicate ACKs from the server"
        ));
    }

    #[test]
    fn out_of_order_and_acked_unseen() {
        let d = [b'y'; 50];
        let mut v = handshake();
        v.push(p(true, CISN + 51, SISN + 1, "A", &d, 30));
        v.push(p(true, CISN + 1, SISN + 1, "A", &d, 31));
        let a = play(&v);
        assert_eq!(texts(&a[4]), ["out of order"]);
        assert!(why(&a[4]).contains("(bytes 1:51) arrives after segments that follow it"));
        let mut v = handshake();
        v.push(p(false, SISN + 1, CISN + 1, "A", &d, 30));
        v.push(p(true, CISN + 1, SISN + 301, "A", b"", 31));
        let a = play(&v);
        assert_eq!(texts(&a[4]), ["ACKed segment not captured"]);
        assert!(why(&a[4]).contains("data up to byte 301 that the capture never saw"));
    }

    #[test]
    fn windows_in_words() {
        let mut v = handshake();
        let mut zero = p(false, SISN + 1, CISN + 1, "A", b"", 30);
        zero.win = 0;
        v.push(zero);
        v.push(p(true, CISN + 1, SISN + 1, "A", b"z", 31));
        let mut upd = p(false, SISN + 1, CISN + 1, "A", b"", 32);
        upd.win = 4000;
        v.push(upd);
        let a = play(&v);
        assert_eq!(texts(&a[3]), ["zero window"]);
        assert!(why(&a[3]).contains("advertises a window of 0 bytes"));
        assert_eq!(texts(&a[4]), ["zero window probe"]);
        assert_eq!(texts(&a[5]), ["window update 0 → 4000"]);
        assert!(
            why(&a[5]).contains("only a new window of 4000 bytes (was 0)"),
            "{}",
            why(&a[5])
        );
    }

    #[test]
    fn keep_alive_and_answer() {
        let mut v = handshake();
        v.push(p(true, CISN, SISN + 1, "A", b"", 30));
        v.push(p(false, SISN + 1, CISN + 1, "A", b"", 31));
        let a = play(&v);
        assert_eq!(texts(&a[3]), ["keep-alive"]);
        assert_eq!(texts(&a[4]), ["keep-alive ACK"]);
        assert_eq!(a[3][0].tone, Tone::Note);
    }

    #[test]
    fn http_messages_in_words() {
        let req = b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n";
        let resp = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello";
        let mut v = handshake();
        v.push(p(true, CISN + 1, SISN + 1, "PA", req, 30));
        v.push(p(
            false,
            SISN + 1,
            CISN + 1 + req.len() as u32,
            "PA",
            resp,
            32,
        ));
        let a = play(&v);
        assert_eq!(
            texts(&a[3]),
            ["→ GET /index.html HTTP/1.1  Host: 127.0.0.1:8000"]
        );
        assert_eq!(
            why(&a[3]),
            "The client sends an HTTP GET request for /index.html to 127.0.0.1:8000."
        );
        assert_eq!(
            texts(&a[4]),
            ["← 200 OK  text/html  5 B  ttfb 2.0 ms  total 2.0 ms"]
        );
        assert_eq!(
            why(&a[4]),
            "The server answers 200 OK with 5 B of text/html. Its first byte came 2.0 ms after the \
             request's last (time to first byte); the whole exchange took 2.0 ms."
        );
        assert_eq!(a[4][0].tone, Tone::Response(200));
    }
}
