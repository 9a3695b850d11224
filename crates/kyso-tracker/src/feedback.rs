//! How long-running work (imports, the register index) tells its caller how far it got. The
//! CLI draws a meter from it; the server's timers log it. Nothing here prints.

/// Progress of one long-running job. Every method has a do-nothing default.
pub trait Progress: Send {
    /// A phase starts: `total` is its work in the unit [`Progress::update`] counts (file bytes).
    fn begin(&mut self, _label: &str, _total: u64) {}
    /// `done` of the phase's total, `rows` read so far.
    fn update(&mut self, _done: u64, _rows: u64) {}
    /// The phase ended after `rows` rows.
    fn finish(&mut self, _rows: u64) {}
    /// A line for the operator (a phase's timing, rows left out).
    fn note(&mut self, _line: &str) {}
}

/// Tells nothing.
pub struct Silent;

impl Progress for Silent {}

/// Logs the notes at `info` (the server's timers).
pub struct Logged;

impl Progress for Logged {
    fn note(&mut self, line: &str) {
        tracing::info!("{line}");
    }
}
