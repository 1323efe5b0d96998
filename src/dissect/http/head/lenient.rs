//! The line-by-line parser for heads httparse rejects, so a slightly
//! broken message is still reported, with a note saying what was wrong.

use super::facts::FactsOf;
use super::start::{is_tchar, request_line_strict, status_line_ok};
use super::{Head, HeadLimits, Kind, Recent, StartLine};
use crate::event::{HeadSyntax, HttpAnomaly, Snippet};

fn lines(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    buf.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

fn split_blanks(line: &[u8]) -> Vec<&[u8]> {
    line.split(|&b| b == b' ' || b == b'\t')
        .filter(|t| !t.is_empty())
        .collect()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The line-by-line fallback for heads httparse rejects.
pub(super) fn parse_lenient(
    buf: &[u8],
    kind: Kind,
    limits: HeadLimits,
    why: Option<httparse::Error>,
    recent: &mut Recent,
) -> Result<Head, HttpAnomaly> {
    let max_headers = limits.max_fields();
    let mut it = lines(buf).skip_while(|l| l.is_empty());
    let first = it.next().unwrap_or_default();
    let mut notes = Vec::new();
    let start = match kind {
        Kind::Response => status_line(first)?,
        Kind::Request => request_line(first, &mut notes)?,
    };
    let (mut all, bad) = field_lines(it);
    if let Some(bad) = bad {
        notes.push(bad);
    } else if let Some(e) = why {
        if e != httparse::Error::TooManyHeaders && notes.is_empty() {
            notes.push(HttpAnomaly::ParsedLeniently {
                error: head_syntax(e),
            });
        }
    }
    let mut facts = FactsOf::default();
    for (n, v) in &all {
        facts.field(n, v, &mut notes, recent);
    }
    let facts = facts.finish(&mut notes);
    if all.len() > max_headers {
        notes.push(HttpAnomaly::TooManyHeaderFields {
            count: all.len(),
            limit: max_headers,
        });
        all.truncate(max_headers);
    }
    let fields_size = all.iter().map(|(n, v)| n.len() + v.len() + 8).sum();
    if !limits.keep_fields {
        all.clear();
    }
    Ok(Head {
        start,
        headers: all.into_iter().collect(),
        facts,
        notes,
        fields_size,
    })
}

/// A status line: `Err` unless it has the shape `HTTP/d.d SP ddd`.
fn status_line(first: &[u8]) -> Result<StartLine, HttpAnomaly> {
    if !status_line_ok(first) {
        return Err(HttpAnomaly::MalformedStatusLine {
            line: Snippet::of(first, 80),
        });
    }
    // status_line_ok checked the shape: "HTTP/d.d", blanks, three digits.
    let version = text(first.get(..8).unwrap_or_default());
    let after = first.get(8..).unwrap_or_default();
    let digits_at = after.iter().position(|&b| b != b' ').unwrap_or(0);
    let code = after.get(digits_at..digits_at + 3).unwrap_or_default();
    let status = code
        .iter()
        .fold(0u16, |n, &d| n * 10 + u16::from(d.wrapping_sub(b'0') % 10));
    let reason = text(after.get(digits_at + 3..).unwrap_or_default())
        .trim()
        .to_string();
    Ok(StartLine::Response {
        version: version.into(),
        status,
        reason: reason.into(),
    })
}

/// A request line: `Err` unless it starts with a token; a note when
/// httparse would not take it as it is.
fn request_line(first: &[u8], notes: &mut Vec<HttpAnomaly>) -> Result<StartLine, HttpAnomaly> {
    let toks = split_blanks(first);
    let method = toks.first().copied().unwrap_or_default();
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return Err(HttpAnomaly::MalformedRequestLine {
            line: Snippet::of(first, 80),
        });
    }
    let (uri, version) = match toks.len() {
        0 | 1 => (String::new(), String::new()),
        2 => (
            text(toks.get(1).copied().unwrap_or_default()),
            String::new(),
        ),
        n => {
            let last = toks.get(n - 1).copied().unwrap_or_default();
            if last.starts_with(b"HTTP/") {
                let mid: Vec<String> = toks
                    .get(1..n - 1)
                    .unwrap_or_default()
                    .iter()
                    .map(|t| text(t))
                    .collect();
                (mid.join(" "), text(last))
            } else {
                let mid: Vec<String> = toks
                    .get(1..)
                    .unwrap_or_default()
                    .iter()
                    .map(|t| text(t))
                    .collect();
                (mid.join(" "), String::new())
            }
        }
    };
    if !request_line_strict(first) {
        notes.push(HttpAnomaly::MalformedRequestLine {
            line: Snippet::of(first, 80),
        });
    }
    Ok(StartLine::Request {
        method: text(method).into(),
        uri: uri.into(),
        version: version.into(),
    })
}

/// The field lines up to the empty line, obs-folds joined to the field
/// they continue; lines without a name and a colon are counted in a note.
fn field_lines<'a>(
    lines: impl Iterator<Item = &'a [u8]>,
) -> (Vec<(String, String)>, Option<HttpAnomaly>) {
    let mut all: Vec<(String, String)> = Vec::new();
    let mut bad_lines = 0usize;
    let mut first_bad = None;
    for line in lines {
        if line.is_empty() {
            break;
        }
        if matches!(line.first(), Some(b' ' | b'\t')) {
            // obs-fold: the line continues the previous field's value.
            if let Some((_, v)) = all.last_mut() {
                v.push(' ');
                v.push_str(text(line).trim());
                continue;
            }
        }
        match line.iter().position(|&b| b == b':') {
            Some(colon) if colon > 0 => {
                let name = text(line.get(..colon).unwrap_or_default())
                    .trim()
                    .to_string();
                let value = text(line.get(colon + 1..).unwrap_or_default())
                    .trim()
                    .to_string();
                all.push((name, value));
            }
            _ => {
                bad_lines += 1;
                first_bad.get_or_insert_with(|| Snippet::of(line, 60));
            }
        }
    }
    let bad = first_bad.map(|first| HttpAnomaly::MalformedHeaderLines {
        first,
        count: bad_lines,
    });
    (all, bad)
}

/// httparse's error as the vocabulary names it.
fn head_syntax(e: httparse::Error) -> HeadSyntax {
    match e {
        httparse::Error::HeaderName => HeadSyntax::HeaderName,
        httparse::Error::HeaderValue => HeadSyntax::HeaderValue,
        httparse::Error::NewLine => HeadSyntax::NewLine,
        httparse::Error::Status => HeadSyntax::Status,
        httparse::Error::Token => HeadSyntax::Token,
        httparse::Error::TooManyHeaders => HeadSyntax::TooManyHeaders,
        httparse::Error::Version => HeadSyntax::Version,
    }
}
