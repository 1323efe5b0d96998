//! The registry's rules, with the test dissectors of `dissect::testing`.

use super::*;
use crate::dissect::testing::{ctx, frame_units, Framed, Journal, Logger, Rule};
use crate::dissect::Probe;
use crate::event::{HttpNote, Record};

const TO_S: Direction = Direction::ToServer;
const TO_C: Direction = Direction::ToClient;

/// A registry and the lists its dissectors fill.
struct H {
    reg: Registry,
    notes: Vec<HttpNote>,
    records: Vec<Record>,
}

impl H {
    fn new(reg: Registry) -> Self {
        Self {
            reg,
            notes: Vec::new(),
            records: Vec::new(),
        }
    }

    fn data(&mut self, stream: u64, frame: u64, dir: Direction, bytes: &[u8]) {
        let mut out = Out::new(&mut self.notes, &mut self.records);
        self.reg.data(&ctx(stream, frame), dir, bytes, &mut out);
    }

    fn gap(&mut self, stream: u64, frame: u64, dir: Direction, missing: u64) {
        let mut out = Out::new(&mut self.notes, &mut self.records);
        self.reg.gap(&ctx(stream, frame), dir, missing, &mut out);
    }

    fn end(&mut self, stream: u64, frame: u64, dir: Direction) {
        let mut out = Out::new(&mut self.notes, &mut self.records);
        self.reg.end(&ctx(stream, frame), dir, &mut out);
    }

    fn close(&mut self, stream: u64, frame: u64) {
        let mut out = Out::new(&mut self.notes, &mut self.records);
        self.reg.closed(&ctx(stream, frame), &mut out);
    }
}

/// The journal without the probes' lines.
fn calls(j: &Journal) -> Vec<String> {
    j.take()
        .into_iter()
        .filter(|l| !l.contains(": probe "))
        .collect()
}

fn two(j: &Journal, a: Rule, b: Rule) -> H {
    H::new(Registry::new(
        vec![Logger::boxed("a", a, j), Logger::boxed("b", b, j)],
        Vec::new(),
    ))
}

#[test]
fn the_first_in_priority_order_that_matches_claims() {
    let j = Journal::default();
    let mut h = two(&j, Rule::Magic(b"GET"), Rule::Magic(b"GET"));
    h.data(1, 1, TO_S, b"GET /");
    assert_eq!(h.reg.claimed_by(1), Some("a"));
    // (b was not asked: a decided.)
    assert_eq!(
        j.take(),
        ["a: probe > f1 \"GET /\"", "a: data > f1 (1..1) \"GET /\""]
    );

    let mut h = two(&j, Rule::Magic(b"SSH-"), Rule::Magic(b"GET"));
    h.data(2, 1, TO_S, b"GET /");
    assert_eq!(h.reg.claimed_by(2), Some("b"));
    assert_eq!(calls(&j), ["b: data > f1 (1..1) \"GET /\""]);
}

#[test]
fn a_match_waits_for_a_higher_dissector_that_needs_more() {
    // b matches at once, but a (before it) needs 4 bytes to judge.
    let j = Journal::default();
    let mut h = two(&j, Rule::Magic(b"ABCD"), Rule::Always(Probe::Match));
    h.data(1, 1, TO_S, b"AB");
    assert_eq!(h.reg.claimed_by(1), None);
    assert!(calls(&j).is_empty());
    h.data(1, 2, TO_S, b"CX");
    // a said no at "ABCX": b's remembered match claims, everything held
    // is replayed first.
    assert_eq!(h.reg.claimed_by(1), Some("b"));
    assert_eq!(
        calls(&j),
        ["b: data > f1 (1..1) \"AB\"", "b: data > f2 (2..2) \"CX\""]
    );

    let mut h = two(&j, Rule::Magic(b"ABCD"), Rule::Always(Probe::Match));
    h.data(1, 1, TO_S, b"AB");
    h.data(1, 2, TO_S, b"CD");
    assert_eq!(h.reg.claimed_by(1), Some("a"));
}

#[test]
fn held_calls_are_replayed_in_their_order_across_directions() {
    let j = Journal::default();
    let mut h = H::new(Registry::new(
        vec![Logger::boxed("a", Rule::AfterBytes(6), &j)],
        Vec::new(),
    ));
    h.data(1, 1, TO_S, b"AB");
    h.data(1, 2, TO_C, b"xy");
    h.end(1, 3, TO_C);
    h.data(1, 4, TO_S, b"CD");
    assert!(calls(&j).is_empty());
    // Each direction is probed on its own bytes: "ABCDEF" decides.
    h.data(1, 5, TO_S, b"EF");
    assert_eq!(
        calls(&j),
        [
            "a: data > f1 (1..1) \"AB\"",
            "a: data < f2 (2..2) \"xy\"",
            "a: end < f3",
            "a: data > f4 (4..4) \"CD\"",
            "a: data > f5 (5..5) \"EF\"",
        ]
    );
    // The records come out in the same order.
    let recs: Vec<_> = h.records.iter().map(|r| format!("{r:?}")).collect();
    assert_eq!(recs.len(), 4);
    assert!(recs[0].contains("f1") && recs[3].contains("f5"));
    // Probes saw each direction's bytes so far.
    h.data(2, 1, TO_S, b"ABC");
    h.data(2, 2, TO_S, b"D");
    let probes: Vec<_> = j
        .take()
        .into_iter()
        .filter(|l| l.contains("probe"))
        .collect();
    assert_eq!(probes, ["a: probe > f1 \"ABC\"", "a: probe > f2 \"ABCD\""]);
}

#[test]
fn the_hold_is_bounded_in_bytes_and_in_calls() {
    let j = Journal::default();
    let limits = Limits {
        max_probe_bytes: 8,
        max_probe_ops: 3,
    };
    let needy = |j: &Journal| Logger::boxed("a", Rule::Always(Probe::NeedMore), j);
    let mut h = H::new(Registry::new(vec![needy(&j)], Vec::new()).with_limits(limits));
    h.data(1, 1, TO_S, b"12345");
    h.data(1, 2, TO_S, b"6789");
    // 9 bytes would be held: decided without a claim, left alone.
    assert_eq!(h.reg.claimed_by(1), None);
    h.data(1, 3, TO_S, b"more");
    assert!(calls(&j).is_empty());
    assert_eq!(h.reg.routes(), 1);
    h.close(1, 4);
    assert_eq!(h.reg.routes(), 0);
    assert!(calls(&j).is_empty());

    // With a fallback, it gets everything, the call that decided last.
    let mut h = H::new(
        Registry::new(
            vec![
                needy(&j),
                Logger::boxed("f", Rule::Always(Probe::NoMatch), &j),
            ],
            Vec::new(),
        )
        .with_fallback(1)
        .with_limits(limits),
    );
    h.data(1, 1, TO_S, b"1");
    h.gap(1, 2, TO_C, 3);
    h.data(1, 3, TO_S, b"2");
    assert_eq!(h.reg.claimed_by(1), None);
    // The fourth call would be one too many.
    h.data(1, 4, TO_C, b"3");
    assert_eq!(h.reg.claimed_by(1), Some("f"));
    assert_eq!(
        calls(&j),
        [
            "f: data > f1 (1..1) \"1\"",
            "f: gap < f2 3",
            "f: data > f3 (3..3) \"2\"",
            "f: data < f4 (4..4) \"3\"",
        ]
    );
}

#[test]
fn a_first_chunk_over_the_bound_is_probed_on_its_start() {
    let j = Journal::default();
    let limits = Limits {
        max_probe_bytes: 4,
        max_probe_ops: 8,
    };
    let mut h = H::new(
        Registry::new(
            vec![Logger::boxed("a", Rule::Magic(b"ABCD"), &j)],
            Vec::new(),
        )
        .with_limits(limits),
    );
    h.data(1, 1, TO_S, b"ABCDEFGH");
    assert_eq!(
        j.take(),
        ["a: probe > f1 \"ABCD\"", "a: data > f1 (1..1) \"ABCDEFGH\""]
    );
}

#[test]
fn no_match_everywhere_leaves_the_connection_alone() {
    let j = Journal::default();
    let mut h = two(&j, Rule::Magic(b"SSH-"), Rule::Magic(b"GET "));
    h.data(1, 1, TO_S, b"\x16\x03\x01");
    h.data(1, 2, TO_C, b"\x16\x03\x03");
    h.end(1, 3, TO_S);
    assert_eq!(h.reg.claimed_by(1), None);
    // Each said no once, and was not asked again.
    assert_eq!(j.take().len(), 2);
    assert_eq!(h.reg.routes(), 1);
    h.close(1, 4);
    assert_eq!(h.reg.routes(), 0);
    assert!(j.take().is_empty());
    assert!(h.records.is_empty());
}

#[test]
fn a_claim_after_a_gap_gets_the_gap_first_and_probes_restart_there() {
    let j = Journal::default();
    let mut h = H::new(Registry::new(
        vec![Logger::boxed("a", Rule::Magic(b"HELLO"), &j)],
        Vec::new(),
    ));
    h.data(1, 1, TO_S, b"HEL");
    h.gap(1, 2, TO_S, 100);
    // Had the bytes before the gap counted, "HELHELLO" would be no.
    h.data(1, 3, TO_S, b"HELLO");
    assert_eq!(h.reg.claimed_by(1), Some("a"));
    assert_eq!(
        calls(&j),
        [
            "a: data > f1 (1..1) \"HEL\"",
            "a: gap > f2 100",
            "a: data > f3 (3..3) \"HELLO\""
        ]
    );

    // A gap as the very first call.
    h.gap(2, 1, TO_C, 7);
    h.data(2, 2, TO_C, b"HELLO");
    assert_eq!(
        calls(&j),
        ["a: gap < f1 7", "a: data < f2 (2..2) \"HELLO\""]
    );
}

#[test]
fn ends_are_held_and_both_ends_force_the_decision() {
    let j = Journal::default();
    let mut h = H::new(
        Registry::new(
            vec![
                Logger::boxed("a", Rule::Magic(b"ABCD"), &j),
                Logger::boxed("b", Rule::AfterBytes(2), &j),
            ],
            Vec::new(),
        )
        .with_fallback(0),
    );
    h.data(1, 1, TO_S, b"AB");
    h.end(1, 2, TO_S);
    assert_eq!(h.reg.claimed_by(1), None);
    // Both ended: a still needs more and counts as no; b matched.
    h.end(1, 3, TO_C);
    assert_eq!(h.reg.claimed_by(1), Some("b"));
    assert_eq!(
        calls(&j),
        ["b: data > f1 (1..1) \"AB\"", "b: end > f2", "b: end < f3"]
    );

    // An end before anything was carried is not held (no route yet).
    h.end(2, 1, TO_S);
    assert_eq!(h.reg.routes(), 1);
    h.close(2, 2);
    assert!(j.take().is_empty());

    // A close decides: the fallback gets what was held, then the close.
    h.data(3, 1, TO_S, b"A");
    h.close(3, 2);
    assert_eq!(calls(&j), ["a: data > f1 (1..1) \"A\"", "a: close f2"]);
}

#[test]
fn close_removes_the_route_and_a_reused_number_starts_fresh() {
    let j = Journal::default();
    let mut h = two(&j, Rule::Magic(b"A"), Rule::Magic(b"B"));
    h.data(1, 1, TO_S, b"A1");
    h.data(2, 2, TO_S, b"B2");
    assert_eq!(h.reg.routes(), 2);
    h.close(1, 3);
    assert_eq!(h.reg.routes(), 1);
    h.data(1, 4, TO_S, b"B3");
    assert_eq!(h.reg.claimed_by(1), Some("b"));
    assert_eq!(
        calls(&j),
        [
            "a: data > f1 (1..1) \"A1\"",
            "b: data > f2 (2..2) \"B2\"",
            "a: close f3",
            "b: data > f4 (4..4) \"B3\""
        ]
    );
    // Closing an unknown connection is nothing.
    h.close(9, 5);
    assert!(j.take().is_empty());
}

fn stacked(j: &Journal, hint: Option<&'static str>) -> H {
    let mut inner = Logger::boxed("inner", Rule::Magic(b"IN"), j);
    inner.hints = &["test/inner"];
    H::new(Registry::new(
        vec![
            Framed::boxed(hint),
            Logger::boxed("other", Rule::Magic(b"OT"), j),
            inner,
        ],
        Vec::new(),
    ))
}

#[test]
fn stacking_routes_the_inner_stream_by_probe() {
    let j = Journal::default();
    let mut h = stacked(&j, None);
    let wire = frame_units(&[b"IN one", b"IN two"]);
    // Unit one ends in frame 2, unit two begins there and ends in 3.
    h.data(1, 1, TO_S, &wire[..6]);
    h.data(1, 2, TO_S, &wire[6..14]);
    h.data(1, 3, TO_S, &wire[14..]);
    h.end(1, 4, TO_S);
    h.close(1, 5);
    assert_eq!(
        j.take(),
        [
            "other: probe > f2 \"IN one\"",
            "inner: probe > f2 \"IN one\"",
            "inner: data > f2 (1..2) \"IN one\"",
            "inner: data > f3 (2..3) \"IN two\"",
            "inner: end > f4",
            "inner: close f5",
        ]
    );
    assert_eq!(h.reg.routes(), 0);
}

#[test]
fn stacking_routes_the_inner_stream_by_hint() {
    let j = Journal::default();
    let mut h = stacked(&j, Some("test/inner"));
    // The inner bytes would not pass the inner probe: the hint decides.
    h.data(1, 1, TO_S, &frame_units(&[b"xyz"]));
    assert_eq!(j.take(), ["inner: data > f1 (1..1) \"xyz\""]);

    // An unknown name: the inner stream is probed.
    let mut h = stacked(&j, Some("h9"));
    h.data(1, 1, TO_S, &frame_units(&[b"OT!"]));
    assert_eq!(
        j.take(),
        [
            "other: probe > f1 \"OT!\"",
            "other: data > f1 (1..1) \"OT!\""
        ]
    );
}

#[test]
fn a_dissector_is_never_stacked_on_itself() {
    let j = Journal::default();
    let mut h = stacked(&j, None);
    // The inner stream is framed again: the framer is busy below it, so
    // the others are asked, and no one takes it.
    let inner = frame_units(&[b"IN"]);
    h.data(1, 1, TO_S, &frame_units(&[&inner]));
    let log = j.take();
    assert!(log.iter().all(|l| !l.contains("data")), "{log:?}");
    assert_eq!(h.reg.claimed_by(1), Some("framed"));
}
