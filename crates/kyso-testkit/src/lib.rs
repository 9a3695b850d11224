//! What the integration tests of several crates share: a temporary directory, a free port, the
//! PostgreSQL test database, the independent tools the interop checks run, a tiny HTTP/1.1
//! client and a hand-written one-page PDF. A dev-dependency only; it depends on no kyso crate.

pub mod http;
pub mod pdf;
pub mod pg_cluster;
pub mod pki;
pub mod postgres;
pub mod tools;

use std::path::{Path, PathBuf};

/// A free TCP port on 127.0.0.1 (free when asked; the caller binds it soon after), never one this
/// process was given before: tests run on parallel threads, and a port released by one caller
/// can be handed to the next before the first has bound it again.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// A fresh directory under the system temp dir, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// `<tmp>/<prefix>-<name>-<pid>-<unique>`, emptied if it existed.
    pub fn new(prefix: &str, name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("{prefix}-{name}-{}-{}", std::process::id(), unique()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Keep the directory (no removal on drop); returns its path.
    pub fn keep(self) -> PathBuf {
        let p = self.0.clone();
        std::mem::forget(self);
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A number no other caller in this process gets: a counter, after a part taken from the clock
/// when the process first asks (so that a later process that reuses this one's pid does not meet
/// the schemas and directories this one left). Names built from it also carry the pid. (It was a
/// free port, which two threads could both be given: two tests then shared a schema.)
pub fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static BASE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let base = *BASE.get_or_init(|| {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        u64::from(t.subsec_micros()) % 100_000
    });
    base * 100_000 + NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A fixture built once per test binary and lent to one test at a time (tests run on threads in
/// parallel; the cases of a shared server take turns, so none sees another's half-done steps).
/// `None` when the fixture could not be built and its tests skip (PostgreSQL down outside CI).
pub struct Shared<T>(std::sync::OnceLock<Option<std::sync::Mutex<T>>>);

impl<T> Shared<T> {
    pub const fn new() -> Shared<T> {
        Shared(std::sync::OnceLock::new())
    }

    /// The fixture, built by `init` on first use; a case that panicked does not poison it.
    pub fn get(&'static self, init: impl FnOnce() -> Option<T>) -> Option<std::sync::MutexGuard<'static, T>> {
        let m = self.0.get_or_init(|| init().map(std::sync::Mutex::new)).as_ref()?;
        Some(m.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl<T> Default for Shared<T> {
    fn default() -> Shared<T> {
        Shared::new()
    }
}

/// The SQL with which a database owner rewrites one audit row: its detail and its chain values
/// (hex or blob literals of the backend), the attack the keyed audit chain defeats.
pub fn rewrite_audit_row_sql(seq: i64, detail: &str, prev_hash: &str, hash: &str) -> String {
    let detail = detail.replace('\'', "''");
    format!("UPDATE audit_log SET detail = '{detail}', prev_hash = {prev_hash}, hash = {hash} WHERE seq = {seq};")
}

#[cfg(test)]
mod tests {
    #[test]
    fn unique_numbers_and_ports_are_never_given_twice() {
        let handles: Vec<_> = (0..8)
            .map(|_| std::thread::spawn(|| (0..200).map(|_| (super::unique(), super::free_port())).collect::<Vec<_>>()))
            .collect();
        let all: Vec<(u64, u16)> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
        let mut numbers: Vec<u64> = all.iter().map(|a| a.0).collect();
        let mut ports: Vec<u16> = all.iter().map(|a| a.1).collect();
        numbers.sort_unstable();
        numbers.dedup();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(numbers.len(), all.len());
        assert_eq!(ports.len(), all.len());
    }
}
