//! Where an HTTP message starts: whether a line is a request or status
//! line ([`classify_line`]), what the first bytes of a direction say
//! ([`sniff`]), and where the next plausible start lies after bytes that
//! are not HTTP or a capture gap ([`find_start`]).

use super::parse::parser_config;
use super::Kind;

/// Methods recognised even when the rest of the request line is broken
/// (the list Wireshark's HTTP dissector accepts, so broken requests are
/// recognised alike).
pub const KNOWN_METHODS: [&str; 44] = [
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "CONNECT",
    "OPTIONS",
    "TRACE",
    "PATCH",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "SEARCH",
    "REPORT",
    "CHECKOUT",
    "CHECKIN",
    "UNCHECKOUT",
    "MKWORKSPACE",
    "UPDATE",
    "LABEL",
    "MERGE",
    "BASELINE-CONTROL",
    "MKACTIVITY",
    "ORDERPATCH",
    "ACL",
    "MKCALENDAR",
    "MKREDIRECTREF",
    "UPDATEREDIRECTREF",
    "VERSION-CONTROL",
    "NOTIFY",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "POLL",
    "BMOVE",
    "BCOPY",
    "BDELETE",
    "BPROPFIND",
    "BPROPPATCH",
    "CCM_POST",
    "M-SEARCH",
];

/// Longest token accepted as a method while sniffing a direction.
const MAX_METHOD_LEN: usize = 32;

/// What the first bytes of a direction say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniff {
    Http(Kind),
    /// Could still be HTTP: the first line is not complete yet.
    Maybe,
    NotHttp,
}

pub(super) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn known_method(token: &[u8]) -> bool {
    KNOWN_METHODS.iter().any(|m| m.as_bytes() == token)
}

/// `HTTP/d.d SP ddd` followed by the end of the line or a space.
pub(super) fn status_line_ok(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"HTTP/") else {
        return false;
    };
    let mut it = rest.iter().copied().peekable();
    let (Some(a), Some(b'.'), Some(c)) = (it.next(), it.next(), it.next()) else {
        return false;
    };
    if !a.is_ascii_digit() || !c.is_ascii_digit() {
        return false;
    }
    let mut spaces = 0;
    while it.peek() == Some(&b' ') {
        it.next();
        spaces += 1;
    }
    if spaces == 0 {
        return false;
    }
    for _ in 0..3 {
        match it.next() {
            Some(d) if d.is_ascii_digit() => {}
            _ => return false,
        }
    }
    matches!(it.next(), None | Some(b' ') | Some(b'\t'))
}

/// A request line httparse accepts as is.
pub(super) fn request_line_strict(line: &[u8]) -> bool {
    const END: &[u8] = b"\r\n\r\n";
    // The line and an empty head's end, in a stack buffer when it fits
    // (request lines are checked for every request).
    let mut stack = [0u8; 256];
    let mut heap = Vec::new();
    let n = line.len() + END.len();
    let probe = match stack.get_mut(..n) {
        Some(p) => p,
        None => {
            heap.resize(n, 0);
            heap.as_mut_slice()
        }
    };
    let (head, end) = probe.split_at_mut(line.len());
    head.copy_from_slice(line);
    end.copy_from_slice(END);
    let mut headers = [httparse::EMPTY_HEADER; 0];
    let mut req = httparse::Request::new(&mut headers);
    matches!(
        parser_config().parse_request(&mut req, probe),
        Ok(httparse::Status::Complete(_))
    )
}

/// A request line that starts with a known method, followed by a space or
/// nothing (what Wireshark still calls a request).
fn request_line_lenient(line: &[u8]) -> bool {
    let end = line
        .iter()
        .position(|&b| b == b' ' || b == b'\t')
        .unwrap_or(line.len());
    line.get(..end).is_some_and(known_method)
}

/// Classifies a complete first line (without its line end). `lenient`
/// also accepts broken request lines that start with a known method.
pub fn classify_line(line: &[u8], lenient: bool) -> Option<Kind> {
    if line.starts_with(b"HTTP/") {
        return status_line_ok(line).then_some(Kind::Response);
    }
    // The lenient test is the cheaper one: try it first when it counts.
    if (lenient && request_line_lenient(line)) || request_line_strict(line) {
        Some(Kind::Request)
    } else {
        None
    }
}

/// Judges the first bytes of a direction (the start of a head).
pub fn sniff(bytes: &[u8]) -> Sniff {
    if let Some(lf) = bytes.iter().position(|&b| b == b'\n') {
        let line = bytes.get(..lf).unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        return match classify_line(line, true) {
            Some(k) => Sniff::Http(k),
            None => Sniff::NotHttp,
        };
    }
    // No complete line yet: is it still a plausible beginning?
    let n = bytes.len().min(5);
    if bytes.get(..n) == b"HTTP/".get(..n) {
        return Sniff::Maybe;
    }
    let tok = bytes.iter().take_while(|&&b| is_tchar(b)).count();
    if tok == 0 || tok > MAX_METHOD_LEN {
        return Sniff::NotHttp;
    }
    match bytes.get(tok) {
        None => Sniff::Maybe,
        Some(b' ' | b'\t' | b'\r') => {
            let ctl = bytes
                .get(tok..)
                .unwrap_or_default()
                .iter()
                .any(|&b| b < 0x20 && b != b'\t' && b != b'\r' || b == 0x7f);
            if ctl {
                Sniff::NotHttp
            } else {
                Sniff::Maybe
            }
        }
        Some(_) => Sniff::NotHttp,
    }
}

/// Where a message may start inside `buf` (used to resynchronise after a
/// gap): the offset of a known method followed by a space, or of `HTTP/1.`,
/// whose line is complete and valid (strictly), or which runs to the end
/// of `buf` (`complete == false`: more bytes are needed to decide).
pub fn find_start(buf: &[u8], want: Option<Kind>) -> Option<(usize, bool)> {
    let mut p = 0;
    while p < buf.len() {
        let Some(rest) = buf.get(p..) else { break };
        let first = rest.first().copied().unwrap_or(0);
        if !first.is_ascii_uppercase() {
            p += 1;
            continue;
        }
        let cand_req = want != Some(Kind::Response)
            && KNOWN_METHODS.iter().any(|m| {
                let m = m.as_bytes();
                if rest.len() > m.len() {
                    rest.starts_with(m) && rest.get(m.len()) == Some(&b' ')
                } else {
                    // The buffer ends inside "METHOD ": undecided.
                    m.starts_with(rest)
                }
            });
        let cand_resp = want != Some(Kind::Request) && {
            let n = rest.len().min(7);
            rest.get(..n) == b"HTTP/1.".get(..n)
        };
        if cand_req || cand_resp {
            match rest.iter().position(|&b| b == b'\n') {
                None => return Some((p, false)),
                Some(lf) => {
                    let line = rest.get(..lf).unwrap_or_default();
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    let kind = classify_line(line, false);
                    if kind.is_some() && (want.is_none() || kind == want) {
                        return Some((p, true));
                    }
                }
            }
        }
        p += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_the_first_bytes() {
        assert_eq!(sniff(b"GE"), Sniff::Maybe);
        assert_eq!(sniff(b"GET /index"), Sniff::Maybe);
        assert_eq!(sniff(b"GET / HTTP/1.1\r\n"), Sniff::Http(Kind::Request));
        assert_eq!(sniff(b"HTT"), Sniff::Maybe);
        assert_eq!(sniff(b"HTTP/1.1 200 OK\r\n"), Sniff::Http(Kind::Response));
        assert_eq!(sniff(b"\x16\x03\x01\x02\x00"), Sniff::NotHttp);
        assert_eq!(sniff(b"SSH-2.0-OpenSSH_5.9p1 Debian\r\n"), Sniff::NotHttp);
        assert_eq!(sniff(b"OPTIONSHTTP/1.1\r\n"), Sniff::NotHttp);
        assert_eq!(sniff(b"GET/ HTTP/1.1\r\n"), Sniff::NotHttp);
        assert_eq!(sniff(b"OPTIONS HTTP/1.1\r\n"), Sniff::Http(Kind::Request));
        assert_eq!(sniff(b"FOO /x HTTP/1.1\r\n"), Sniff::Http(Kind::Request));
        assert_eq!(sniff(b"GET \x00"), Sniff::NotHttp);
    }

    #[test]
    fn finding_a_message_start_after_a_gap() {
        assert_eq!(
            find_start(b"xx\r\nGET / HTTP/1.1\r\n", None),
            Some((4, true))
        );
        assert_eq!(
            find_start(b"AAAAGET / HTTP/1.1\r\n", Some(Kind::Request)),
            Some((4, true))
        );
        assert_eq!(
            find_start(b"AAAA HTTP/1.1 200 OK\r\n", Some(Kind::Response)),
            Some((5, true))
        );
        assert_eq!(find_start(b"GET nonsense\r\nmore", None), None);
        assert_eq!(find_start(b"abc GE", None), Some((4, false)));
        assert_eq!(
            find_start(b"HTTP/1.1 200 OK\r\n", Some(Kind::Request)),
            None
        );
    }
}
