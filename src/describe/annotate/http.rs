//! The words of HTTP notes on the timeline, and their `--explain` sentences.

use std::fmt::Write as _;

use super::{Annotation, Annotations, Tone};
use crate::describe::{human_bytes, human_duration};
use crate::event::{HttpNote, PacketEvent};

/// HTTP notes for this frame.
pub(super) fn http(p: &PacketEvent<'_, '_>, explain: bool, out: &mut Annotations) {
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
