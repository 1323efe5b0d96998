//! Progress on stderr for people at a terminal: a bar while reading a
//! file (bytes of total, packets per second, time left), or a live counter
//! while capturing quietly to a file. Nothing at all when stderr is not a
//! terminal.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    kind: Kind,
    last: Instant,
    packets: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    None,
    File,
    Live,
}

const EVERY: Duration = Duration::from_millis(100);

impl Progress {
    pub fn none() -> Self {
        Self {
            bar: None,
            kind: Kind::None,
            last: Instant::now(),
            packets: 0,
        }
    }

    /// A bar for reading a file of `total` bytes (unknown for a pipe).
    pub fn file(total: Option<u64>) -> Self {
        let bar = match total {
            Some(t) => {
                ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::stderr_with_hz(10))
            }
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10)),
        };
        let style = if total.is_some() {
            "{spinner} reading [{bar:30}] {bytes}/{total_bytes}  {msg}  eta {eta}"
        } else {
            "{spinner} reading {bytes}  {msg}"
        };
        if let Ok(s) = ProgressStyle::with_template(style) {
            bar.set_style(s.progress_chars("=> "));
        }
        Self {
            bar: Some(bar),
            kind: Kind::File,
            last: Instant::now(),
            packets: 0,
        }
    }

    /// A counter for a quiet live capture to a file.
    pub fn live() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(5));
        if let Ok(s) = ProgressStyle::with_template("{spinner} {msg}") {
            bar.set_style(s);
        }
        Self {
            bar: Some(bar),
            kind: Kind::Live,
            last: Instant::now(),
            packets: 0,
        }
    }

    /// False when there is nothing to draw (no `--progress`), so the caller
    /// can skip gathering what `tick` takes.
    pub fn is_active(&self) -> bool {
        self.bar.is_some()
    }

    /// Called per packet; redraws at most ten times a second.
    pub fn tick(
        &mut self,
        packets: u64,
        read: Option<(u64, Option<u64>)>,
        dropped: u64,
        written: u64,
    ) {
        let Some(bar) = &self.bar else { return };
        if self.last.elapsed() < EVERY {
            return;
        }
        let dt = self.last.elapsed().as_secs_f64();
        let rate = (packets.saturating_sub(self.packets)) as f64 / dt.max(1e-9);
        self.last = Instant::now();
        self.packets = packets;
        match self.kind {
            Kind::File => {
                if let Some((pos, _)) = read {
                    bar.set_position(pos);
                }
                bar.set_message(format!("{packets} packets  {rate:.0} pkt/s"));
            }
            Kind::Live => {
                bar.set_message(format!(
                    "captured {packets} packets, dropped {dropped}, wrote {}",
                    indicatif::HumanBytes(written)
                ));
                bar.tick();
            }
            Kind::None => {}
        }
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
