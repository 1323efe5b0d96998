//! Human-readable sizes and durations, written without the formatting
//! machinery where it is hot (every HTTP response on the timeline).

use std::fmt;

/// `2.3 KB`, `612 B`, `1.4 MB` (decimal units).
pub fn human_bytes(n: u64) -> String {
    let mut s = String::with_capacity(12);
    let _ = write_bytes(&mut s, n);
    s
}

/// [`human_bytes`] into a writer.
pub fn write_bytes<W: fmt::Write + ?Sized>(w: &mut W, n: u64) -> fmt::Result {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1000 {
        num(w, n)?;
        return w.write_str(" B");
    }
    let mut div = 1000u64;
    let mut unit = 0;
    while n / div >= 1000 && unit + 1 < UNITS.len() {
        div *= 1000;
        unit += 1;
    }
    let u = UNITS.get(unit).copied().unwrap_or("TB");
    let decimals = if n / div < 10 { 1 } else { 0 };
    match fixed(n, div, decimals) {
        Some(t) => {
            t.write_to(w)?;
            w.write_str(" ")?;
            w.write_str(u)
        }
        None => {
            let v = n as f64 / div as f64;
            if decimals == 1 {
                write!(w, "{v:.1} {u}")
            } else {
                write!(w, "{v:.0} {u}")
            }
        }
    }
}

/// A quotient with a fixed number of decimals, as computed by [`fixed`].
struct Fixed {
    int: u64,
    frac: u64,
    decimals: u32,
}

impl Fixed {
    /// The number into a writer (without the formatting machinery: the
    /// timeline writes sizes and durations for every HTTP response).
    fn write_to<W: fmt::Write + ?Sized>(&self, w: &mut W) -> fmt::Result {
        num(w, self.int)?;
        // `.` and the fraction's digits (at most two), zero-padded.
        let mut frac = *b".00";
        let decimals = (self.decimals as usize).min(2);
        let mut v = self.frac;
        for c in frac.iter_mut().skip(1).take(decimals).rev() {
            *c = b'0' + (v % 10) as u8;
            v /= 10;
        }
        match decimals {
            0 => Ok(()),
            n => w.write_str(
                std::str::from_utf8(frac.get(..=n).unwrap_or_default()).unwrap_or_default(),
            ),
        }
    }
}

/// `n / div` with `decimals` (0, 1 or 2) decimal places, rounded to nearest
/// like `format!("{:.N}")` on the quotient; `None` on an exact tie, where
/// the float's own rounding decides (callers fall back to it).
fn fixed(n: u64, div: u64, decimals: u32) -> Option<Fixed> {
    let step = div / 10u64.pow(decimals);
    if step == 0 || n >= 1 << 53 {
        return None;
    }
    let (q, r) = (n / step, n % step);
    let half = step / 2;
    if step % 2 == 0 && r == half {
        return None;
    }
    let q = if r > half { q + 1 } else { q };
    let scale = 10u64.pow(decimals);
    Some(Fixed {
        int: q / scale,
        frac: q % scale,
        decimals,
    })
}

/// `1.1 ms`, `850 µs`, `2.04 s`.
pub fn human_duration(ns: i64) -> String {
    let mut s = String::with_capacity(12);
    let _ = write_duration(&mut s, ns);
    s
}

/// [`human_duration`] into a writer.
pub fn write_duration<W: fmt::Write + ?Sized>(w: &mut W, ns: i64) -> fmt::Result {
    let a = ns.unsigned_abs();
    let sign = if ns < 0 { "-" } else { "" };
    if a < 1_000_000 {
        w.write_str(sign)?;
        if a < 1_000 {
            num(w, a)?;
            w.write_str(" ns")
        } else {
            num(w, a / 1_000)?;
            w.write_str(" µs")
        }
    } else if a < 1_000_000_000 {
        match fixed(a, 1_000_000, 1) {
            Some(t) => {
                w.write_str(sign)?;
                t.write_to(w)?;
                w.write_str(" ms")
            }
            None => write!(w, "{sign}{:.1} ms", a as f64 / 1e6),
        }
    } else {
        match fixed(a, 1_000_000_000, 2) {
            Some(t) => {
                w.write_str(sign)?;
                t.write_to(w)?;
                w.write_str(" s")
            }
            None => write!(w, "{sign}{:.2} s", a as f64 / 1e9),
        }
    }
}

/// `v` in decimal (without the formatting machinery: notes are written
/// for every HTTP message on the timeline).
pub(crate) fn num<W: fmt::Write + ?Sized>(w: &mut W, v: u64) -> fmt::Result {
    w.write_str(itoa::Buffer::new().format(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes_and_durations_equal_the_float_formatting() {
        let bytes_float = |n: u64| {
            const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
            if n < 1000 {
                return format!("{n} B");
            }
            let mut v = n as f64 / 1000.0;
            let mut unit = 0;
            while v >= 1000.0 && unit + 1 < UNITS.len() {
                v /= 1000.0;
                unit += 1;
            }
            if v < 10.0 {
                format!("{v:.1} {}", UNITS[unit])
            } else {
                format!("{v:.0} {}", UNITS[unit])
            }
        };
        let dur_float = |ns: i64| {
            let a = ns.unsigned_abs();
            let sign = if ns < 0 { "-" } else { "" };
            if a < 1_000 {
                format!("{sign}{a} ns")
            } else if a < 1_000_000 {
                format!("{sign}{} µs", a / 1_000)
            } else if a < 1_000_000_000 {
                format!("{sign}{:.1} ms", a as f64 / 1e6)
            } else {
                format!("{sign}{:.2} s", a as f64 / 1e9)
            }
        };
        let mut x: u64 = 1;
        for i in 0..200_000u64 {
            // A spread of values, ties and near-ties included.
            let n = match i % 4 {
                0 => x % 20_000_000_000,
                1 => (i * 50) % 10_000_000,
                2 => i * 50_000,
                _ => i * 5_000_000 + (i % 3),
            };
            assert_eq!(human_bytes(n), bytes_float(n), "{n}");
            let ns = n as i64 * if i % 5 == 0 { -1 } else { 1 };
            assert_eq!(human_duration(ns), dur_float(ns), "{ns}");
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
    }

    #[test]
    fn human_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1000), "1.0 KB");
        assert_eq!(human_bytes(23_372), "23 KB");
        assert_eq!(human_bytes(1_415_201), "1.4 MB");
        assert_eq!(human_bytes(u64::MAX), "18446744 TB");
        assert_eq!(human_duration(850_000), "850 µs");
        assert_eq!(human_duration(2_040_000_000), "2.04 s");
        assert_eq!(human_duration(-5), "-5 ns");
    }
}
