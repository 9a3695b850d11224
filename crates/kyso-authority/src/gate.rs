//! The Argon2 gate: every Argon2id evaluation kyso does for a request — a password checked at
//! login or hashed at registration, a PIN that unlocks a citizen key — takes ~19.5 MiB and tens of
//! milliseconds of one core. Unbounded, 500 anonymous attempts at once need ~10 GB. So they run
//! off the async workers (the blocking pool) and only `permits` at a time, `permits` sized to a
//! memory budget: `KYSO_ARGON2_MEMORY_MIB` (default 160 MiB) ÷ 19.5 MiB = 8 at a time by default,
//! which also keeps 2–8 cores busy without starving the rest of the server. A request waits for a
//! permit at most `KYSO_ARGON2_WAIT_MS` (default 5 s), and at most 16 requests per permit wait at
//! all; beyond either the caller gets [`Busy`] (the web answers 503 with Retry-After), never an
//! unbounded queue.
//!
//! The permit is held by the blocking task itself, so memory stays bounded even when the request
//! that started it is cancelled (its client went away) while the hash is still running.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Memory one evaluation holds, in KiB: m = 19,456 KiB (kyso-access, kyso-custody) plus the
/// working state and allocator slack measured around it (~19.5 MiB in all).
pub const ARGON2_KIB: usize = 19_968;
/// Default memory budget for Argon2 at once.
pub const DEFAULT_BUDGET_MIB: usize = 160;
/// Default longest wait for a permit.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5);
/// Requests allowed to wait, per permit.
pub const WAITING_PER_PERMIT: usize = 16;

/// No permit soon enough: too many Argon2 evaluations at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "hệ thống đang bận, vui lòng thử lại sau ít giây / busy: too many password checks at once, retry in a few seconds"
)]
pub struct Busy;

#[derive(Debug)]
pub struct Argon2Gate {
    permits: Arc<Semaphore>,
    size: usize,
    waiting: AtomicUsize,
    max_waiting: usize,
    wait: Duration,
}

/// Counts a waiting request for as long as it waits (also when its future is dropped).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Argon2Gate {
    /// `permits` evaluations at once (at least one); a request waits at most `wait`.
    pub fn new(permits: usize, wait: Duration) -> Argon2Gate {
        let size = permits.max(1);
        Argon2Gate {
            permits: Arc::new(Semaphore::new(size)),
            size,
            waiting: AtomicUsize::new(0),
            max_waiting: size * WAITING_PER_PERMIT,
            wait,
        }
    }

    /// As many permits as `budget_mib` of memory holds evaluations (at least one).
    pub fn for_memory(budget_mib: usize, wait: Duration) -> Argon2Gate {
        Argon2Gate::new(budget_mib.saturating_mul(1024) / ARGON2_KIB, wait)
    }

    /// Sized from `KYSO_ARGON2_MEMORY_MIB` and `KYSO_ARGON2_WAIT_MS` (defaults above).
    pub fn from_env() -> Argon2Gate {
        let num = |name: &str| std::env::var(name).ok().and_then(|v| v.trim().parse::<u64>().ok());
        let budget = num("KYSO_ARGON2_MEMORY_MIB").map_or(DEFAULT_BUDGET_MIB, |v| v as usize);
        let wait = num("KYSO_ARGON2_WAIT_MS").map_or(DEFAULT_WAIT, Duration::from_millis);
        Argon2Gate::for_memory(budget, wait)
    }

    /// Evaluations allowed at once.
    pub fn permits(&self) -> usize {
        self.size
    }

    /// Runs `f` on the blocking pool once a permit is free; [`Busy`] if none is free within the
    /// wait, or too many requests are waiting already. A panic in `f` is the caller's panic.
    pub async fn run<T, F>(&self, f: F) -> Result<T, Busy>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    return Err(Busy);
                }
                let _waiting = Waiting(&self.waiting);
                match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
                    Ok(Ok(p)) => p,
                    _ => return Err(Busy),
                }
            }
        };
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f()
        });
        match task.await {
            Ok(v) => Ok(v),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Cancelled: only at runtime shutdown.
            Err(_) => Err(Busy),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn sized_to_memory() {
        assert_eq!(Argon2Gate::for_memory(DEFAULT_BUDGET_MIB, DEFAULT_WAIT).permits(), 8);
        assert_eq!(Argon2Gate::for_memory(1024, DEFAULT_WAIT).permits(), 52);
        assert_eq!(Argon2Gate::for_memory(0, DEFAULT_WAIT).permits(), 1, "never zero");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_gate_answers_busy_instead_of_queueing() {
        let gate = Arc::new(Argon2Gate::new(1, Duration::from_millis(50)));
        let (release, hold) = mpsc::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel();
        let g = gate.clone();
        let first = tokio::spawn(async move {
            g.run(move || {
                started_tx.send(()).unwrap();
                hold.recv().unwrap();
                7
            })
            .await
        });
        started.await.unwrap();
        // The one permit is held: a second evaluation waits 50 ms, then is refused.
        assert_eq!(gate.run(|| 8).await, Err(Busy));
        // Requests beyond 16 per permit are refused without waiting at all.
        let slow = Arc::new(Argon2Gate::new(1, Duration::from_secs(3600)));
        let (r2, h2) = mpsc::channel::<()>();
        let (s2tx, s2) = tokio::sync::oneshot::channel();
        let g2 = slow.clone();
        let holder = tokio::spawn(async move {
            g2.run(move || {
                s2tx.send(()).unwrap();
                h2.recv().unwrap();
            })
            .await
        });
        s2.await.unwrap();
        let mut waiters = Vec::new();
        for _ in 0..WAITING_PER_PERMIT {
            let g = slow.clone();
            waiters.push(tokio::spawn(async move { g.run(|| 1).await }));
        }
        while slow.waiting.load(Ordering::Acquire) < WAITING_PER_PERMIT {
            tokio::task::yield_now().await;
        }
        assert_eq!(slow.run(|| 2).await, Err(Busy), "the queue is full");
        r2.send(()).unwrap();
        holder.await.unwrap().unwrap();
        for w in waiters {
            assert_eq!(w.await.unwrap(), Ok(1), "the ones waiting get their turn");
        }
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap(), Ok(7));
        assert_eq!(gate.run(|| 9).await, Ok(9), "the permit came back");
    }
}
