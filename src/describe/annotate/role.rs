//! The words of a packet's part in its connection: the three steps of the
//! handshake, the teardown, a reset or refusal.

use super::{side, Annotation, Annotations, Tone};
use crate::describe::human_duration;
use crate::event::{PacketEvent, Role, TcpInfo};

/// A label and the `--explain` sentence under it.
type Words = (Tone, String, String);

/// The meaning of a TCP packet's role (handshake, teardown, reset).
pub(super) fn role(p: &PacketEvent<'_, '_>, t: &TcpInfo, explain: bool, out: &mut Annotations) {
    let (me, peer) = side(t.direction);
    let (seq_raw, ack_raw) = raw_seq_ack(p);
    let (tone, text, why) = match t.role {
        Role::Handshake1 => handshake1(p, me, seq_raw),
        Role::Handshake2 => handshake2(t, me, peer, seq_raw, ack_raw),
        Role::Handshake3 => handshake3(t, me, peer, ack_raw),
        Role::Fin => fin(p, t, me, peer),
        Role::FinAck => fin_ack(t, me, peer),
        Role::Reset => reset(t, me),
        Role::Data | Role::Ack => return,
    };
    out.push(Annotation {
        tone,
        text,
        explain: explain.then_some(why),
    });
}

/// The SYN: the client's ISN and the options it offers.
fn handshake1(p: &PacketEvent<'_, '_>, me: &str, seq_raw: u32) -> Words {
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

/// The SYN-ACK: the server's ISN and its acknowledgement of the client's.
fn handshake2(t: &TcpInfo, me: &str, peer: &str, seq_raw: u32, ack_raw: u32) -> Words {
    let text = format!("handshake 2/3 (SYN-ACK): ISN {seq_raw}, ack {ack_raw}");
    let peer_isn = t.peer_isn.map_or(ack_raw.wrapping_sub(1), |i| i);
    let why = format!(
        "The {me} accepts: it acknowledges the {peer}'s ISN {peer_isn} by sending ack = \
         {ack_raw}, and picks its own ISN {seq_raw}."
    );
    (Tone::Handshake, text, why)
}

/// The ACK that completes the handshake, with its round trip.
fn handshake3(t: &TcpInfo, me: &str, peer: &str, ack_raw: u32) -> Words {
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

/// A FIN: the first side to close, or the second.
fn fin(p: &PacketEvent<'_, '_>, t: &TcpInfo, me: &str, peer: &str) -> Words {
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

/// The acknowledgement of a FIN, and whether it ends the connection.
fn fin_ack(t: &TcpInfo, me: &str, peer: &str) -> Words {
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

/// A reset: a refused connection, or one aborted.
fn reset(t: &TcpInfo, me: &str) -> Words {
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
