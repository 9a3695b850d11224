//! A tiny progress meter for long imports, on stderr: a redrawn bar when stderr is a terminal, a
//! plain line every few seconds otherwise (logs, CI), nothing for short runs.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Meter {
    label: String,
    total: u64,
    tty: bool,
    start: Instant,
    last: Instant,
    drawn: bool,
}

/// How often a terminal bar is redrawn, and a plain line printed.
const REDRAW: Duration = Duration::from_millis(100);
const PLAIN_EVERY: Duration = Duration::from_secs(5);
/// Runs shorter than this print nothing.
const QUIET_FOR: Duration = Duration::from_millis(500);

impl Meter {
    /// `total`: the amount of work in the unit passed to [`Meter::update`] (bytes of the file).
    pub fn new(label: &str, total: u64) -> Self {
        let now = Instant::now();
        Self {
            label: label.to_owned(),
            total,
            tty: std::io::stderr().is_terminal(),
            start: now,
            last: now,
            drawn: false,
        }
    }

    pub fn update(&mut self, done: u64, rows: u64) {
        let now = Instant::now();
        let every = if self.tty { REDRAW } else { PLAIN_EVERY };
        if now.duration_since(self.start) < QUIET_FOR || now.duration_since(self.last) < every {
            return;
        }
        self.last = now;
        self.draw(done, rows, false);
    }

    /// The final state (only when something was drawn before, or on a terminal after a long run).
    pub fn finish(&mut self, rows: u64) {
        if self.drawn {
            self.draw(self.total, rows, true);
        }
    }

    fn draw(&mut self, done: u64, rows: u64, last: bool) {
        let fraction = if self.total == 0 { 1.0 } else { (done as f64 / self.total as f64).min(1.0) };
        let secs = self.start.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { rows as f64 / secs } else { 0.0 };
        let mut err = std::io::stderr().lock();
        if self.tty {
            const WIDTH: usize = 30;
            let filled = (fraction * WIDTH as f64) as usize;
            let bar: String = "#".repeat(filled) + &"-".repeat(WIDTH - filled);
            let _ = write!(
                err,
                "\r{} [{bar}] {:>3.0}%  {rows} rows  {secs:.1} s  {rate:.0} rows/s",
                self.label,
                fraction * 100.0
            );
            if last {
                let _ = writeln!(err);
            }
        } else {
            let _ = writeln!(err, "{}: {:.0}% ({rows} rows, {secs:.1} s)", self.label, fraction * 100.0);
        }
        let _ = err.flush();
        self.drawn = true;
    }
}

/// The tracker's [`kyso_tracker::Progress`] shown on stderr: a meter per phase, notes as lines.
#[derive(Default)]
pub struct Shown(Option<Meter>);

impl kyso_tracker::Progress for Shown {
    fn begin(&mut self, label: &str, total: u64) {
        self.0 = Some(Meter::new(label, total));
    }

    fn update(&mut self, done: u64, rows: u64) {
        if let Some(m) = &mut self.0 {
            m.update(done, rows);
        }
    }

    fn finish(&mut self, rows: u64) {
        if let Some(m) = &mut self.0 {
            m.finish(rows);
        }
    }

    fn note(&mut self, line: &str) {
        crate::output::note(line);
    }
}
