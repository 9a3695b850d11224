//! CPU-bound work off the async workers, with a cap per kind of work.
//!
//! Validation, PDF signing, XLSX parsing, report building and time-stamping run on tokio's blocking
//! pool through [`Pools::run`], each kind behind a semaphore of its own: at most `cap` jobs of a
//! kind run at once, so an anonymous upload can take one slot of its kind and no more, and the
//! async workers stay free for `/healthz`, OCSP and the pages. A caller that cannot get a slot
//! within [`Pools::wait`] gets [`Busy`] (HTTP 503 with `Retry-After`), not a place in an
//! unbounded queue. Argon2 has its own gate (see the accounts and signing modules).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The kinds of CPU-bound work, each with its own cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// Validating a signed document (`/api/validate`, `/verify/report`, `kyso verify`).
    Validate,
    /// Preparing and signing a PDF or a file (`/me/sign`, `kyso sign-pdf`).
    Sign,
    /// Parsing an uploaded spreadsheet or building a report (XLSX in and out).
    Parse,
    /// Signing a time-stamp token (`/tsa`).
    Timestamp,
}

impl Work {
    pub fn name(self) -> &'static str {
        match self {
            Work::Validate => "validation",
            Work::Sign => "signing",
            Work::Parse => "parsing",
            Work::Timestamp => "time-stamping",
        }
    }
}

/// No slot of this kind became free in time: answer 503 with `Retry-After: retry_after_secs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Busy {
    pub work: Work,
    pub retry_after_secs: u64,
}

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the server is busy with other {} work; retry in {} s", self.work.name(), self.retry_after_secs)
    }
}

impl std::error::Error for Busy {}

/// One semaphore per kind of work.
pub struct Pools {
    validate: Arc<Semaphore>,
    sign: Arc<Semaphore>,
    parse: Arc<Semaphore>,
    timestamp: Arc<Semaphore>,
    /// How long a caller waits for a slot before [`Busy`].
    pub wait: Duration,
}

impl Default for Pools {
    /// Caps from the machine: validation and signing get half the cores each (at least one),
    /// parsing one, time-stamping (a few milliseconds each) twice the cores.
    fn default() -> Pools {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let env = |name: &str, default: usize| {
            std::env::var(name).ok().and_then(|v| v.parse::<usize>().ok()).filter(|&n| n > 0).unwrap_or(default)
        };
        Pools::new(
            env("KYSO_POOL_VALIDATE", (cores / 2).max(1)),
            env("KYSO_POOL_SIGN", (cores / 2).max(1)),
            env("KYSO_POOL_PARSE", 1),
            env("KYSO_POOL_TIMESTAMP", cores * 2),
            Duration::from_millis(env("KYSO_POOL_WAIT_MS", 2_000) as u64),
        )
    }
}

impl Pools {
    pub fn new(validate: usize, sign: usize, parse: usize, timestamp: usize, wait: Duration) -> Pools {
        let sem = |n: usize| Arc::new(Semaphore::new(n.max(1)));
        Pools { validate: sem(validate), sign: sem(sign), parse: sem(parse), timestamp: sem(timestamp), wait }
    }

    fn semaphore(&self, work: Work) -> &Arc<Semaphore> {
        match work {
            Work::Validate => &self.validate,
            Work::Sign => &self.sign,
            Work::Parse => &self.parse,
            Work::Timestamp => &self.timestamp,
        }
    }

    /// A slot of this kind, waiting at most [`Pools::wait`]. Hold it across a job that has async
    /// steps between its CPU-bound ones (signing: prepare, authorize, embed, DSS).
    pub async fn permit(&self, work: Work) -> Result<OwnedSemaphorePermit, Busy> {
        let busy = Busy { work, retry_after_secs: self.wait.as_secs().max(1) * 2 };
        match tokio::time::timeout(self.wait, self.semaphore(work).clone().acquire_owned()).await {
            Ok(Ok(p)) => Ok(p),
            _ => Err(busy),
        }
    }

    /// Run `f` on the blocking pool once a slot of this kind is free.
    pub async fn run<T, F>(&self, work: Work, f: F) -> Result<T, Busy>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = self.permit(work).await?;
        Ok(blocking(move || {
            let out = f();
            drop(permit);
            out
        })
        .await)
    }
}

/// Run `f` on the blocking pool (for a caller that already holds a permit). A panic in `f` is
/// carried back to the caller, as if `f` had run inline.
pub async fn blocking<T, F>(f: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Run CPU-bound `f` that borrows from the caller without blocking an async worker: on the
/// multi-threaded runtime the worker thread hands its other tasks to a fresh worker while `f` runs
/// ([`tokio::task::block_in_place`]); elsewhere (a single-threaded test runtime, no runtime) `f`
/// runs inline. Callers hold a permit of their kind, which bounds how many such threads exist.
pub fn cpu<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// A future run while holding a permit of `work` (for jobs whose heavy steps are inside
/// [`blocking`] calls).
pub async fn with_permit<T>(pools: &Pools, work: Work, fut: impl Future<Output = T>) -> Result<T, Busy> {
    let _permit = pools.permit(work).await?;
    Ok(fut.await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_kind_answers_busy_and_other_kinds_still_run() {
        let pools = Arc::new(Pools::new(1, 1, 1, 1, Duration::from_millis(50)));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let p = pools.clone();
        let holder = tokio::spawn(async move { p.run(Work::Validate, move || rx.recv().ok()).await });
        // wait until the job holds the only validation slot
        while pools.validate.available_permits() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let refused = pools.run(Work::Validate, || 1).await;
        assert_eq!(refused, Err(Busy { work: Work::Validate, retry_after_secs: 2 }));
        assert_eq!(pools.run(Work::Sign, || 2).await, Ok(2), "another kind is not blocked");
        tx.send(()).unwrap();
        assert!(holder.await.unwrap().is_ok());
        assert_eq!(pools.run(Work::Validate, || 3).await, Ok(3), "the slot is given back");
    }
}
