//! Timestamp formatting: tcpdump's styles (-t … -ttttt) and RFC 3339.

use std::io::Write;

use super::digits::Digits;

/// tcpdump's timestamp styles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TimeStyle {
    /// Local wall-clock time of day, `HH:MM:SS.ffffff` (tcpdump's default).
    #[default]
    Absolute,
    /// No timestamp (`-t`).
    None,
    /// Seconds since the epoch (`-tt`).
    Epoch,
    /// Time since the previous packet (`-ttt`).
    DeltaPrevious,
    /// Local date and time (`-tttt`).
    DateTime,
    /// Time since the first packet (`-ttttt`).
    DeltaFirst,
    /// Seconds since the first packet, `0.001234` (the timeline's default).
    Relative,
}

/// Civil date from days since 1970-01-01 (proleptic Gregorian).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Writes `2013-03-07T21:42:06.869344000Z`.
pub fn write_rfc3339<W: Write>(w: &mut W, ts_ns: i64) -> std::io::Result<()> {
    w.write_all(&Rfc3339Text::new(ts_ns).0)
}

/// `2013-03-07T21:42:06.869344000Z` on the stack: every field has a fixed
/// width, so digits are put in place (JSON output stamps every packet, and
/// general formatting would be a large share of its run time).
struct Rfc3339Text([u8; 30]);

/// `00` to `99`.
const PAIRS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    t
};

/// Writes `v` as `width` decimal digits ending at `at + width`.
fn put_digits(t: &mut [u8], at: usize, width: usize, mut v: u32) {
    for c in t.iter_mut().skip(at).take(width).rev() {
        *c = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

thread_local! {
    /// The date and time of day of the last second formatted: packets come
    /// many to a second.
    static SECOND: std::cell::Cell<(i64, [u8; 20])> =
        const { std::cell::Cell::new((i64::MIN, [0; 20])) };
    /// The last two timestamps formatted, newest first: an HTTP line states
    /// its request's and its response's times several times each.
    static LAST: std::cell::Cell<[(i64, [u8; 30]); 2]> =
        const { std::cell::Cell::new([(i64::MIN, [0; 30]); 2]) };
}

impl Rfc3339Text {
    fn new(ts_ns: i64) -> Self {
        let last = LAST.get();
        if let Some((_, text)) = last.iter().find(|(t, _)| *t == ts_ns && *t != i64::MIN) {
            return Self(*text);
        }
        let made = Self::make(ts_ns);
        LAST.set([(ts_ns, made.0), last[0]]);
        made
    }

    fn make(ts_ns: i64) -> Self {
        let secs = ts_ns.div_euclid(1_000_000_000);
        let nanos = ts_ns.rem_euclid(1_000_000_000) as u32;
        let mut t = *b"0000-00-00T00:00:00.000000000Z";
        let (cached, head) = SECOND.get();
        if cached == secs && secs != i64::MIN {
            if let Some(h) = t.get_mut(..20) {
                h.copy_from_slice(&head);
            }
        } else {
            let days = secs.div_euclid(86_400);
            let sod = secs.rem_euclid(86_400) as u32;
            let (y, m, day) = civil_from_days(days);
            // (Nanoseconds in an i64 span the years 1677 to 2262: always
            // four digits, never a sign.)
            let y = y.unsigned_abs() as u32;
            put_digits(&mut t, 0, 4, y);
            put_digits(&mut t, 5, 2, m);
            put_digits(&mut t, 8, 2, day);
            put_digits(&mut t, 11, 2, sod / 3600);
            put_digits(&mut t, 14, 2, (sod / 60) % 60);
            put_digits(&mut t, 17, 2, sod % 60);
            let mut head = [0; 20];
            head.copy_from_slice(t.get(..20).unwrap_or(&[0; 20]));
            SECOND.set((secs, head));
        }
        // The fraction two digits at a time (every timestamp has one).
        let mut v = nanos;
        for at in [27, 25, 23, 21] {
            if let Some(pair) = t.get_mut(at..at + 2) {
                pair.copy_from_slice(&PAIRS[(v % 100) as usize]);
            }
            v /= 100;
        }
        put_digits(&mut t, 20, 1, v);
        Self(t)
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// A timestamp that serializes as RFC 3339 text without allocating.
#[derive(Clone, Copy, Debug)]
pub struct Rfc3339(pub i64);

impl Rfc3339 {
    /// As a JSON string (the text never needs escaping).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'"');
        out.extend_from_slice(&Rfc3339Text::new(self.0).0);
        out.push(b'"');
    }
}

impl serde::Serialize for Rfc3339 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(Rfc3339Text::new(self.0).as_str())
    }
}

pub fn rfc3339(ts_ns: i64) -> String {
    let mut v = Vec::with_capacity(32);
    let _ = write_rfc3339(&mut v, ts_ns);
    String::from_utf8(v).unwrap_or_default()
}

/// Converts seconds to local broken-down time, caching the UTC offset per
/// distinct second (localtime is costly, and packets come many per second).
#[derive(Default)]
pub struct LocalClock {
    cached_sec: Option<i64>,
    cached: (i64, u32, u32, u32, u32, u32),
}

impl LocalClock {
    /// (year, month, day, hour, minute, second) in local time.
    pub fn local(&mut self, secs: i64) -> (i64, u32, u32, u32, u32, u32) {
        if self.cached_sec == Some(secs) {
            return self.cached;
        }
        let t = secs as libc::time_t;
        // SAFETY: localtime_r writes into the zeroed struct we own.
        let tm = unsafe {
            let mut tm: libc::tm = std::mem::zeroed();
            if libc::localtime_r(&t, &mut tm).is_null() {
                None
            } else {
                Some(tm)
            }
        };
        let v = match tm {
            Some(tm) => (
                i64::from(tm.tm_year) + 1900,
                (tm.tm_mon + 1) as u32,
                tm.tm_mday as u32,
                tm.tm_hour as u32,
                tm.tm_min as u32,
                tm.tm_sec as u32,
            ),
            None => {
                let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
                let sod = secs.rem_euclid(86_400);
                (
                    y,
                    m,
                    d,
                    (sod / 3600) as u32,
                    ((sod / 60) % 60) as u32,
                    (sod % 60) as u32,
                )
            }
        };
        self.cached_sec = Some(secs);
        self.cached = v;
        v
    }
}

/// Formats a packet timestamp in one of tcpdump's styles.
#[derive(Default)]
pub struct TimeFormatter {
    pub style: TimeStyle,
    /// Print nanoseconds instead of microseconds.
    pub nanos: bool,
    clock: LocalClock,
    first: Option<i64>,
    prev: Option<i64>,
}

impl TimeFormatter {
    pub fn new(style: TimeStyle, nanos: bool) -> Self {
        Self {
            style,
            nanos,
            ..Default::default()
        }
    }

    fn frac(&self, d: &mut Digits, ns: i64) {
        d.push(b".");
        if self.nanos {
            d.padded(ns.unsigned_abs(), 9);
        } else {
            d.padded(ns.unsigned_abs() / 1000, 6);
        }
    }

    /// The timestamp at the printed precision: tcpdump subtracts the
    /// printed (truncated) values, so deltas must too.
    fn shown(&self, ts_ns: i64) -> i64 {
        if self.nanos {
            ts_ns
        } else {
            ts_ns.div_euclid(1000) * 1000
        }
    }

    fn delta(&self, out: &mut Digits, d: i64) {
        // tcpdump leaves a column for the sign.
        out.push(if d < 0 { b"-" } else { b" " });
        let d = d.unsigned_abs();
        let secs = d / 1_000_000_000;
        out.padded(secs / 3600, 2)
            .push(b":")
            .padded((secs / 60) % 60, 2)
            .push(b":")
            .padded(secs % 60, 2);
        self.frac(out, (d % 1_000_000_000) as i64);
    }

    fn clock_time(d: &mut Digits, h: u32, m: u32, s: u32) {
        d.padded(u64::from(h), 2)
            .push(b":")
            .padded(u64::from(m), 2)
            .push(b":")
            .padded(u64::from(s), 2);
    }

    /// Writes the timestamp followed by a space (nothing for `-t`).
    pub fn write<W: Write>(&mut self, w: &mut W, ts_ns: i64) -> std::io::Result<()> {
        let secs = ts_ns.div_euclid(1_000_000_000);
        let ns = ts_ns.rem_euclid(1_000_000_000);
        let mut d = Digits::new();
        match self.style {
            TimeStyle::None => return Ok(()),
            TimeStyle::Absolute => {
                let (_, _, _, h, m, s) = self.clock.local(secs);
                Self::clock_time(&mut d, h, m, s);
                self.frac(&mut d, ns);
            }
            TimeStyle::Epoch => {
                if secs < 0 {
                    d.push(b"-");
                }
                d.num(secs.unsigned_abs());
                self.frac(&mut d, ns);
            }
            TimeStyle::DateTime => {
                let (y, mo, day, h, m, s) = self.clock.local(secs);
                if y < 0 {
                    // (years before 0 are beyond this fast path)
                    write!(w, "{y:04}-{mo:02}-{day:02} {h:02}:{m:02}:{s:02}")?;
                } else {
                    d.padded(y.unsigned_abs(), 4)
                        .push(b"-")
                        .padded(u64::from(mo), 2)
                        .push(b"-")
                        .padded(u64::from(day), 2)
                        .push(b" ");
                    Self::clock_time(&mut d, h, m, s);
                }
                self.frac(&mut d, ns);
            }
            TimeStyle::DeltaPrevious => {
                let prev = self.prev.unwrap_or(ts_ns);
                self.delta(&mut d, self.shown(ts_ns) - self.shown(prev));
            }
            TimeStyle::DeltaFirst => {
                let first = *self.first.get_or_insert(ts_ns);
                self.delta(&mut d, self.shown(ts_ns) - self.shown(first));
            }
            TimeStyle::Relative => {
                let first = *self.first.get_or_insert(ts_ns);
                let delta = self.shown(ts_ns) - self.shown(first);
                let a = delta.unsigned_abs();
                let mut secs = itoa::Buffer::new();
                let secs = secs.format(a / 1_000_000_000).as_bytes();
                // Right-aligned: sign, seconds, point, fraction.
                let (width, frac) = if self.nanos { (14, 9) } else { (11, 6) };
                let len = usize::from(delta < 0) + secs.len() + 1 + frac;
                for _ in len..width {
                    d.push(b" ");
                }
                if delta < 0 {
                    d.push(b"-");
                }
                d.push(secs);
                self.frac(&mut d, (a % 1_000_000_000) as i64);
            }
        }
        self.prev = Some(ts_ns);
        d.push(b" ");
        w.write_all(d.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_digits_by_hand_equal_the_formatter() {
        let slow = |ts: i64| {
            let secs = ts.div_euclid(1_000_000_000);
            let nanos = ts.rem_euclid(1_000_000_000);
            let sod = secs.rem_euclid(86_400);
            let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
            format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
                sod / 3600,
                (sod / 60) % 60,
                sod % 60
            )
        };
        let mut ts: i64 = -70_000_000_000_000_000;
        while ts < 300_000_000_000_000_000 {
            assert_eq!(rfc3339(ts), slow(ts), "{ts}");
            ts += 987_654_321_012_345;
        }
        for ts in [-1, 0, 1, i64::MAX, i64::MIN, -6_000_000_000_000_000_000] {
            assert_eq!(rfc3339(ts), slow(ts), "{ts}");
        }
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
        // Runs of stamps within a second and across seconds, days, years
        // (the date and time of day are kept from one stamp to the next).
        for start in [1_798_761_599_000_000_000i64, -1_000_000_001, 0] {
            for i in 0..50 {
                let ts = start + i * 123_456_789;
                assert_eq!(rfc3339(ts), slow(ts), "{ts}");
            }
        }
        // Stamps repeated and alternating as an HTTP line states them (the
        // last two texts are kept), and i64::MIN, the empty mark, twice.
        let (a, b, c) = (1_798_761_599_999_999_999i64, 1_798_761_600_000_000_000, 5);
        for ts in [a, a, b, b, a, a, b, c, a, b, c, c, i64::MIN, i64::MIN, b, a] {
            assert_eq!(rfc3339(ts), slow(ts), "{ts}");
        }
    }

    #[test]
    fn relative_times_are_right_aligned_seconds_since_the_first() {
        let s = 1_000_000_000i64;
        let run = |nanos: bool| {
            let mut t = TimeFormatter::new(TimeStyle::Relative, nanos);
            [
                1000 * s,
                1001 * s + s / 2 + 7,
                1000 * s - s / 4,
                13_345 * s + 1,
            ]
            .map(|ts| {
                let mut v = Vec::new();
                t.write(&mut v, ts).unwrap();
                String::from_utf8(v).unwrap()
            })
        };
        assert_eq!(
            run(false),
            [
                "   0.000000 ",
                "   1.500000 ",
                "  -0.250000 ",
                "12345.000000 "
            ]
        );
        assert_eq!(
            run(true),
            [
                "   0.000000000 ",
                "   1.500000007 ",
                "  -0.250000000 ",
                "12345.000000001 "
            ]
        );
    }

    #[test]
    fn rfc3339_with_nanoseconds() {
        assert_eq!(
            rfc3339(1_362_692_526_869_344_000),
            "2013-03-07T21:42:06.869344000Z"
        );
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            rfc3339(951_782_400_000_000_001),
            "2000-02-29T00:00:00.000000001Z"
        );
    }

    #[test]
    fn epoch_and_deltas() {
        let mut f = TimeFormatter::new(TimeStyle::Epoch, false);
        let mut v = Vec::new();
        f.write(&mut v, 1_362_692_526_869_344_123).unwrap();
        assert_eq!(v, b"1362692526.869344 ");
        let mut f = TimeFormatter::new(TimeStyle::DeltaPrevious, false);
        let mut v = Vec::new();
        f.write(&mut v, 1_000_000_000).unwrap();
        f.write(&mut v, 3_661_500_000_000).unwrap();
        assert_eq!(v, b" 00:00:00.000000  01:01:00.500000 ");
        let mut f = TimeFormatter::new(TimeStyle::Epoch, true);
        let mut v = Vec::new();
        f.write(&mut v, 1_418_145_369_999_999_000).unwrap();
        assert_eq!(v, b"1418145369.999999000 ");
    }
}
