//! A read replica beside the primary (a province on PostgreSQL streaming replication): a second
//! [`Store`] on a hot standby, and how far behind the primary it may be.
//!
//! **How lag is measured.** Every `interval` (an eighth of the bound, 10–250 ms) a sampler notes
//! the time `t`, then reads the primary's WAL write position `pg_current_wal_lsn()`, then the
//! standby's replay position `pg_last_wal_replay_lsn()`. Every transaction visible on the primary
//! before `t` has its commit record at or before the position read after `t` (kyso commits with
//! `synchronous_commit = on`, so a transaction becomes visible only once its commit record is
//! flushed, hence written). So once the standby has replayed up to a sample's position it shows
//! everything committed before that sample's `t`: the newest such `t` is the replica's *fresh-at*
//! time, and its staleness is `now - fresh-at`. The staleness keeps growing between samples and
//! while the standby does not replay, so a stuck or unreachable replica crosses the bound by
//! itself and reads go back to the primary.
//!
//! Why not the alternatives: `now() - pg_last_xact_replay_timestamp()` is the age of the last
//! replayed *transaction*: on an idle primary it grows without bound although the standby is fully
//! caught up, so an idle province would read from the primary for no reason (and a busy one would
//! not notice a standby that replays old WAL quickly). A heartbeat row would be correct but writes
//! to the primary every interval (WAL, an fsync) and compares two machines' clocks. The LSN
//! comparison writes nothing, is exact on an idle primary (the standby reaches the primary's
//! position and stays there), and every time in it comes from this process's monotonic clock.
//! `pg_current_wal_insert_lsn()` is not used: right after a WAL page boundary it points past the
//! next page's header, a position an idle standby never reports, so the replica would look stale
//! forever on an idle primary.
//!
//! The bound is checked at each read ([`ReadReplica::fresh_since`]), not only by the sampler.
//! SQLite has no replica: [`ReadReplica::connect`] refuses a SQLite primary or replica.

use crate::{Result, Store, StoreError};
use sqlx::PgPool;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// A moment of this process's monotonic clock, in microseconds since the replica was connected
/// (comparable with [`ReadReplica::fresh_at`]).
pub type Mark = u64;

/// The samples kept while the standby is behind (older ones are dropped: the fresh-at time can
/// then only be underestimated, which is the safe side).
const MAX_SAMPLES: usize = 4096;

/// A hot standby of the primary and its measured staleness. Cheap to clone.
#[derive(Clone)]
pub struct ReadReplica {
    store: Store,
    max_lag: Duration,
    lag: Arc<LagState>,
}

struct LagState {
    epoch: Instant,
    /// Everything committed on the primary before this mark is visible on the standby; 0 = not
    /// measured yet.
    fresh_at: AtomicU64,
    /// Whether the sampler last saw the replica within the bound (for the log's transitions).
    within: AtomicBool,
}

impl LagState {
    fn now(&self) -> Mark {
        self.epoch.elapsed().as_micros() as u64 + 1
    }
}

fn refused(vi: &str, en: &str) -> StoreError {
    StoreError::Replica(format!("{vi} / {en}"))
}

impl ReadReplica {
    /// Connect to the standby at `url` (PostgreSQL only) and start measuring its lag behind
    /// `primary`. Refused with a message in Vietnamese and English when the primary is SQLite,
    /// the URL is not PostgreSQL, the server is not a standby, or it is a standby of another
    /// cluster. The sampler stops when the last clone of the result is dropped.
    pub async fn connect(primary: &Store, url: &str, max_lag: Duration) -> Result<ReadReplica> {
        let Store::Postgres(p) = primary else {
            return Err(refused(
                "--read-database-url chỉ dùng với PostgreSQL: SQLite không có bản sao chỉ đọc (máy chủ đọc chính tệp của nó)",
                "--read-database-url needs a PostgreSQL primary: SQLite has no read replica (the server reads its own file)",
            ));
        };
        if !(url.starts_with("postgres:") || url.starts_with("postgresql:")) {
            return Err(refused(
                "--read-database-url phải là một URL postgres:// tới máy chủ dự phòng (hot standby)",
                "--read-database-url must be a postgres:// URL of a hot standby",
            ));
        }
        let replica = crate::open_postgres_pool(url).await?;
        let in_recovery: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()").fetch_one(&replica).await?;
        if !in_recovery {
            return Err(refused(
                "máy chủ ở --read-database-url không phải bản sao đang nhận WAL (pg_is_in_recovery() = false)",
                "the server at --read-database-url is not a standby (pg_is_in_recovery() is false): point it at a streaming replica of the primary",
            ));
        }
        let id = "SELECT system_identifier FROM pg_control_system()";
        let (a, b): (i64, i64) =
            (sqlx::query_scalar(id).fetch_one(&p.pool).await?, sqlx::query_scalar(id).fetch_one(&replica).await?);
        if a != b {
            return Err(refused(
                &format!("--read-database-url là bản sao của một cụm khác (system identifier {b}, cụm chính {a})"),
                &format!(
                    "--read-database-url is a standby of another cluster (system identifier {b}, the primary's {a})"
                ),
            ));
        }
        if sqlx::query("SELECT 1 FROM kyso_migrations LIMIT 1").fetch_optional(&replica).await.is_err() {
            return Err(refused(
                "cơ sở dữ liệu ở --read-database-url không có bảng của kyso (sai tên cơ sở dữ liệu hoặc search_path?)",
                "the database at --read-database-url has no kyso tables (another database name or search_path than the primary's?)",
            ));
        }
        let lag =
            Arc::new(LagState { epoch: Instant::now(), fresh_at: AtomicU64::new(0), within: AtomicBool::new(true) });
        let mut sampler = Sampler { primary: p.pool.clone(), replica: replica.clone(), samples: VecDeque::new() };
        sampler.sample(&lag).await;
        let interval = (max_lag / 8).clamp(Duration::from_millis(10), Duration::from_millis(250));
        tokio::spawn(sampler.run(Arc::downgrade(&lag), interval, max_lag));
        let store = Store::Postgres(crate::Keyed { pool: replica, audit_key: p.audit_key.clone() });
        Ok(ReadReplica { store, max_lag, lag })
    }

    /// The standby's store (reads only: a write fails there).
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn max_lag(&self) -> Duration {
        self.max_lag
    }

    /// Now, on the clock [`ReadReplica::fresh_at`] uses.
    pub fn mark(&self) -> Mark {
        self.lag.now()
    }

    /// Everything committed on the primary before this mark is visible on the standby (None
    /// before the first measurement).
    pub fn fresh_at(&self) -> Option<Mark> {
        Some(self.lag.fresh_at.load(Ordering::Acquire)).filter(|&m| m > 0)
    }

    /// How far behind the primary the standby may be now (None: not measured yet).
    pub fn staleness(&self) -> Option<Duration> {
        self.fresh_at().map(|f| Duration::from_micros(self.lag.now().saturating_sub(f)))
    }

    /// Whether the standby is within the bound now and shows every commit made on the primary
    /// before `floor` (a moment this process needs it to have caught up to: a write it made, a
    /// change-feed row it read from the primary).
    pub fn fresh_since(&self, floor: Mark) -> bool {
        match self.fresh_at() {
            Some(f) => f >= floor && self.lag.now().saturating_sub(f) <= self.max_lag.as_micros() as u64,
            None => false,
        }
    }

    /// Wait (at most `timeout`) until the standby has replayed everything committed on the
    /// primary until now: true when it has (then a read on it is as complete as one on the
    /// primary), false otherwise (the caller reads the primary).
    pub async fn caught_up_now(&self, timeout: Duration) -> bool {
        let floor = self.lag.now();
        let start = Instant::now();
        loop {
            if self.fresh_at().is_some_and(|f| f >= floor) {
                return true;
            }
            if start.elapsed() >= timeout {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

struct Sampler {
    primary: PgPool,
    replica: PgPool,
    /// (the mark before the primary's position was read, that position), oldest first.
    samples: VecDeque<(Mark, i64)>,
}

impl Sampler {
    async fn run(mut self, lag: Weak<LagState>, interval: Duration, max_lag: Duration) {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(lag) = lag.upgrade() else { return };
            self.sample(&lag).await;
            let stale = Duration::from_micros(lag.now().saturating_sub(lag.fresh_at.load(Ordering::Acquire)));
            let within = stale <= max_lag;
            if lag.within.swap(within, Ordering::AcqRel) != within {
                if within {
                    tracing::info!(
                        lag_ms = stale.as_millis() as u64,
                        "read replica back within the bound: reading from the replica"
                    );
                } else {
                    tracing::warn!(
                        bound_ms = max_lag.as_millis() as u64,
                        "read replica behind the primary past the bound: reading from the primary"
                    );
                }
            }
        }
    }

    /// One measurement; a failed query leaves the fresh-at time where it was (the staleness then
    /// grows past the bound by itself).
    async fn sample(&mut self, lag: &LagState) {
        let t = lag.now();
        let q = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint";
        match sqlx::query_scalar::<_, i64>(q).fetch_one(&self.primary).await {
            Ok(lsn) => {
                if self.samples.len() >= MAX_SAMPLES {
                    self.samples.pop_front();
                }
                self.samples.push_back((t, lsn));
            }
            Err(e) => tracing::warn!(error = %e, "read replica: the primary's WAL position could not be read"),
        }
        let q = "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint";
        let replayed = match sqlx::query_scalar::<_, Option<i64>>(q).fetch_one(&self.replica).await {
            Ok(Some(r)) => r,
            Ok(None) => {
                tracing::warn!("read replica: the server is no longer a standby (promoted?); reading from the primary");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "read replica: the replay position could not be read");
                return;
            }
        };
        let mut newest = None;
        while let Some(&(m, lsn)) = self.samples.front() {
            if lsn > replayed {
                break;
            }
            newest = Some(m);
            self.samples.pop_front();
        }
        if let Some(m) = newest {
            lag.fresh_at.fetch_max(m, Ordering::AcqRel);
        }
    }
}
