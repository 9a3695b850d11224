//! Printing a command's result: JSON under `--json`, text otherwise. A leaf: it imports nothing
//! else from this crate.
//!
//! Every line to standard output goes through [`print`]: a reader that stops early (`kyso … |
//! head`) closes the pipe, and the command then ends quietly (exit 0) instead of panicking the
//! way `println!` does on a broken pipe. Notes to standard error ([`note`]) are dropped when it
//! is closed.

use std::io::Write;

/// The result of a command: `v` under `--json`, else `text` (nothing when empty).
pub fn out(json_mode: bool, v: serde_json::Value, text: &str) {
    if json_mode {
        print(&format!("{v}\n"));
    } else if !text.is_empty() {
        print(&format!("{text}\n"));
    }
}

/// Writes `text` as it is to standard output; a closed pipe ends the process quietly.
pub fn print(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        closed(&e);
    }
}

/// What a failed write to standard output means: the reader has gone (exit quietly) or a real
/// error (said on standard error, exit 1).
pub fn closed(e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    note(&format!("error: cannot write to standard output: {e}"));
    std::process::exit(1);
}

/// A line on standard error (progress, warnings), never a panic when it is closed.
pub fn note(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
