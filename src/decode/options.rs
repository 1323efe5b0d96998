//! TCP options, read once for both their readers: the list tcpdump prints
//! (every option in wire order, up to where tcpdump stops) and the
//! tracker's summary ([`TcpOptions`]: a known option counts only with its
//! proper length, and reading goes on past one that does not).

use crate::event::{SackBlocks, TcpOption, TcpOptionList, TcpOptions};

/// Reads the options into `list` (empty) and returns their summary, which
/// equals [`TcpOptions::parse`] of the same bytes.
#[inline(always)]
pub fn parse_options(opts: &[u8], list: &mut TcpOptionList) -> TcpOptions {
    // Most segments of a connection with timestamps carry exactly NOP,
    // NOP, TS (the layout RFC 7323 suggests).
    if let &[1, 1, 8, 10, v0, v1, v2, v3, e0, e1, e2, e3] = opts {
        let (val, ecr) = (
            u32::from_be_bytes([v0, v1, v2, v3]),
            u32::from_be_bytes([e0, e1, e2, e3]),
        );
        list.set_nop_nop_timestamp(val, ecr);
        return TcpOptions {
            timestamp: Some((val, ecr)),
            ..TcpOptions::default()
        };
    }
    parse_general(opts, list)
}

fn parse_general(opts: &[u8], list: &mut TcpOptionList) -> TcpOptions {
    let mut summary = TcpOptions::default();
    // tcpdump's list ends at the first option it cannot read; the
    // tracker reads on.
    let mut listing = true;
    let mut rest = opts;
    while let Some((&kind, after)) = rest.split_first() {
        match kind {
            0 => {
                if listing {
                    list.push(TcpOption::Eol);
                }
                break;
            }
            1 => {
                if listing && !list.push(TcpOption::Nop) {
                    list.push(TcpOption::Bad);
                    listing = false;
                }
                rest = after;
                continue;
            }
            _ => {}
        }
        let len = after.first().map_or(0, |&l| usize::from(l));
        let (Some(body), Some(next)) = (rest.get(2..len), rest.get(len..)) else {
            // No length byte, a length below 2 or past the end.
            if listing {
                list.push(TcpOption::Bad);
            }
            break;
        };
        summarise(&mut summary, kind, body);
        if listing {
            listing = list_one(list, kind, len as u8, body);
            if !listing {
                list.push(TcpOption::Bad);
            }
        }
        rest = next;
    }
    summary
}

/// The tracker's reading of one option (as [`TcpOptions::parse`]).
fn summarise(out: &mut TcpOptions, kind: u8, body: &[u8]) {
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    match (kind, body) {
        (2, &[a, b]) => out.mss = Some(u16::from_be_bytes([a, b])),
        (3, &[s]) => out.wscale = Some(s),
        (4, []) => out.sack_permitted = true,
        (5, b) if b.len() % 8 == 0 => {
            for chunk in b.chunks_exact(8) {
                if let Some(slot) = out.sack.get_mut(usize::from(out.sack_count)) {
                    *slot = (be32(&chunk[0..4]), be32(&chunk[4..8]));
                    out.sack_count += 1;
                }
            }
        }
        (8, b) if b.len() == 8 => out.timestamp = Some((be32(&b[0..4]), be32(&b[4..8]))),
        _ => {}
    }
}

/// tcpdump's reading of one option: false when it cannot read it (a body
/// too short for the kind's value).
fn list_one(list: &mut TcpOptionList, kind: u8, len: u8, body: &[u8]) -> bool {
    match kind {
        2 => match body {
            [a, b, ..] => list.push(TcpOption::Mss {
                value: u16::from_be_bytes([*a, *b]),
                len,
            }),
            _ => false,
        },
        3 => match body.first() {
            Some(&shift) => list.push(TcpOption::WindowScale { shift, len }),
            None => false,
        },
        4 => list.push(TcpOption::SackPermitted { len }),
        5 => {
            let mut edges = [0u32; 8];
            let mut n = 0;
            for (e, b) in edges.iter_mut().zip(body.chunks_exact(4)) {
                *e = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                n += 1;
            }
            let blocks = (body.len() % 8 == 0).then(|| SackBlocks::new(&edges[..n]));
            list.push(TcpOption::Sack { blocks, len })
        }
        8 => match body {
            [v0, v1, v2, v3, e0, e1, e2, e3, ..] => list.push(TcpOption::Timestamp {
                val: u32::from_be_bytes([*v0, *v1, *v2, *v3]),
                ecr: u32::from_be_bytes([*e0, *e1, *e2, *e3]),
                len,
            }),
            _ => false,
        },
        kind => list.push(TcpOption::Other {
            kind,
            len,
            body: Default::default(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The list as text (its items borrow it), one item per entry.
    fn parse(opts: &[u8]) -> (TcpOptionList, TcpOptions) {
        let mut l = TcpOptionList::new(54);
        let s = parse_options(opts, &mut l);
        (l, s)
    }

    fn list(opts: &[u8]) -> Vec<String> {
        let (l, _) = parse(opts);
        l.iter()
            .map(|o| match o {
                TcpOption::Sack {
                    blocks: Some(b),
                    len,
                } => format!("sack {len} {:?}", b.iter().collect::<Vec<_>>()),
                o => format!("{o:?}"),
            })
            .collect()
    }

    #[test]
    fn every_kind_in_wire_order() {
        // mss 1460, nop, wscale 7, sackOK, TS, unknown 99 with a 2-byte
        // body, md5 (shortened), eol.
        let mut o = vec![
            2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2,
        ];
        o.extend_from_slice(&[99, 4, 0xab, 0xcd, 19, 2, 0]);
        assert_eq!(
            list(&o),
            [
                "Mss { value: 1460, len: 4 }",
                "Nop",
                "WindowScale { shift: 7, len: 3 }",
                "SackPermitted { len: 2 }",
                "Timestamp { val: 1, ecr: 2, len: 10 }",
                // Bodies are ranges of the frame: the options start at 54.
                "Other { kind: 99, len: 4, body: ByteRange { start: 76, len: 2 } }",
                "Other { kind: 19, len: 2, body: ByteRange { start: 80, len: 0 } }",
                "Eol",
            ]
        );
    }

    #[test]
    fn sack_blocks_and_invalid_sacks() {
        let mut o = vec![1, 1, 5, 18];
        for v in [10u32, 20, 30, 40] {
            o.extend_from_slice(&v.to_be_bytes());
        }
        assert_eq!(list(&o), ["Nop", "Nop", "sack 18 [(10, 20), (30, 40)]"]);
        assert_eq!(list(&[5, 5, 1, 2, 3]), ["Sack { blocks: None, len: 5 }"]);
        assert_eq!(list(&[5, 2]), ["sack 2 []"]);
    }

    #[test]
    fn tcpdump_stops_where_the_tracker_reads_on() {
        // An MSS too short for its value, then a window scale: tcpdump
        // says "[bad opt]"; the tracker still sees the window scale.
        let (l, s) = parse(&[2, 3, 5, 3, 3, 7]);
        assert_eq!(l.iter().collect::<Vec<_>>(), [TcpOption::Bad]);
        assert_eq!(s.wscale, Some(7));
        assert_eq!(s.mss, None);
        // Lengths that do not fit end both.
        for bad in [&[2u8][..], &[2, 1], &[2, 40, 1, 2], &[8, 9, 0]] {
            let (l, s) = parse(bad);
            assert_eq!(l.iter().last(), Some(TcpOption::Bad), "{bad:?}");
            assert_eq!(s, TcpOptions::default(), "{bad:?}");
        }
        // An oversized MSS is printed (with its length) but not used.
        let (l, s) = parse(&[2, 5, 1, 0, 9]);
        assert_eq!(
            l.iter().collect::<Vec<_>>(),
            [TcpOption::Mss { value: 256, len: 5 }]
        );
        assert_eq!(s.mss, None);
    }

    #[test]
    fn eol_ends_the_list() {
        assert_eq!(list(&[1, 0, 2, 4, 5, 0xb4]), ["Nop", "Eol"]);
    }

    /// Deterministic pseudo-random bytes (xorshift).
    fn noise(seed: &mut u64) -> u8 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        (*seed >> 24) as u8
    }

    #[test]
    fn the_summary_is_the_trackers_reading_and_the_list_never_overflows() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..200_000 {
            let n = usize::from(noise(&mut seed)) % 41;
            // Mostly small kinds and lengths, so that options parse.
            let o: Vec<u8> = (0..n)
                .map(|i| {
                    let b = noise(&mut seed);
                    if i % 2 == 0 {
                        [0, 1, 1, 2, 3, 4, 5, 8, 19, 30, b][usize::from(b) % 11]
                    } else {
                        [2, 3, 4, 8, 10, 18, b % 41][usize::from(b) % 7]
                    }
                })
                .collect();
            let (l, s) = parse(&o);
            assert_eq!(s, TcpOptions::parse(&o), "round {round}: {o:?}");
            // The list holds every option tcpdump would print: the bytes it
            // accounts for are the bytes read up to where it stopped.
            let mut at = 0usize;
            for opt in l.iter() {
                at += match opt {
                    TcpOption::Eol | TcpOption::Nop => 1,
                    TcpOption::Mss { len, .. }
                    | TcpOption::WindowScale { len, .. }
                    | TcpOption::SackPermitted { len }
                    | TcpOption::Sack { len, .. }
                    | TcpOption::Timestamp { len, .. }
                    | TcpOption::Other { len, .. } => usize::from(len),
                    TcpOption::Bad => 0,
                };
            }
            assert!(at <= o.len(), "round {round}: {o:?}");
            let ended = matches!(l.iter().last(), Some(TcpOption::Eol | TcpOption::Bad));
            assert!(
                ended || at == o.len(),
                "round {round}: {o:?} stopped at {at}"
            );
        }
        // The busiest 40 bytes.
        let mut o = Vec::new();
        for _ in 0..13 {
            o.extend_from_slice(&[1, 4, 2]);
        }
        o.push(0);
        assert_eq!(list(&o).len(), 13 * 2 + 1);
        let o: Vec<u8> = (0..13).flat_map(|s| [3, 3, s]).collect();
        assert_eq!(list(&o).len(), 13);
    }
}
