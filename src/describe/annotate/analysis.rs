//! The words of Wireshark's analysis flags (`tcp.analysis.*`): what each
//! says happened, with the frame and delay it refers to.

use super::{flag_tone, side, Annotation, Annotations};
use crate::describe::human_duration;
use crate::event::{Analysis, PacketEvent, TcpInfo};

/// Wireshark's analysis flags, in words.
pub(super) fn analysis(p: &PacketEvent<'_, '_>, t: &TcpInfo, explain: bool, out: &mut Annotations) {
    let flags = t.verdict.flags;
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
        let Some((text, why)) = flag_words(bit, p, t, original.as_deref()) else {
            continue;
        };
        out.push(Annotation {
            tone: flag_tone(bit),
            text,
            explain: explain.then_some(why),
        });
    }
}

/// The label and the `--explain` sentence of one analysis flag (`None` for
/// a flag without words).
fn flag_words(
    bit: u32,
    p: &PacketEvent<'_, '_>,
    t: &TcpInfo,
    original: Option<&str>,
) -> Option<(String, String)> {
    retransmission_words(bit, p, t, original)
        .or_else(|| order_words(bit, t))
        .or_else(|| window_words(bit, t))
}

/// A segment sent again: by timer, after duplicate ACKs, or needlessly.
fn retransmission_words(
    bit: u32,
    p: &PacketEvent<'_, '_>,
    t: &TcpInfo,
    original: Option<&str>,
) -> Option<(String, String)> {
    let (me, peer) = side(t.direction);
    let ts = p.frame.ts_ns;
    Some(match bit {
            Analysis::RETRANSMISSION => (
                format!("retransmission{}", original.unwrap_or_default()),
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
                format!("fast retransmission{}", original.unwrap_or_default()),
                format!(
                    "The {me} resends {} right after duplicate ACKs from the {peer}, without \
                     waiting for its timer: three duplicate ACKs mean a segment was lost while later \
                     ones arrived (fast retransmit, RFC 5681).",
                    what_is_resent(p, t)
                ),
            ),
            Analysis::SPURIOUS_RETRANSMISSION => (
                format!("spurious retransmission{}", original.unwrap_or_default()),
                format!(
                    "The {me} resends {}, but the {peer} had already acknowledged it: the \
                     retransmission was unnecessary (often a timer that fired too early).",
                    what_is_resent(p, t)
                ),
            ),
        _ => return None,
    })
}

/// Segments out of order, duplicate ACKs, holes in the capture, port reuse.
fn order_words(bit: u32, t: &TcpInfo) -> Option<(String, String)> {
    let (me, peer) = side(t.direction);
    Some(match bit {
        Analysis::OUT_OF_ORDER => (
            "out of order".to_string(),
            format!(
                "This segment (bytes {}) arrives after segments that follow it: it was \
                     reordered on the way rather than lost (it came within one round trip).",
                seq_range(t)
            ),
        ),
        Analysis::DUPLICATE_ACK => (
            format!(
                "dup ACK #{} of frame {}",
                t.verdict.dup_ack_num, t.verdict.dup_ack_of
            ),
            format!(
                "Duplicate ACK #{}: the {me} again acknowledges only up to byte {} (as in frame \
                     {}). It received later data but is still missing what comes next; after three \
                     duplicates the {peer} retransmits at once.",
                t.verdict.dup_ack_num, t.ack_rel, t.verdict.dup_ack_of
            ),
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
        _ => return None,
    })
}

/// The receive window: zero, probed, full, updated; keep-alives.
fn window_words(bit: u32, t: &TcpInfo) -> Option<(String, String)> {
    let (me, peer) = side(t.direction);
    Some(match bit {
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
        _ => return None,
    })
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
