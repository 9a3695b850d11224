//! Login throttling, persisted and atomic: per key (an account, a client address) the window
//! opened by its first counted attempt and how many attempts it holds (`login_throttle`,
//! migration 12). The rule is `kyso_access::throttle::Limit::reserve`; here it is one conditional
//! upsert per key, so that attempts racing each other are counted one after the other by the
//! database (SQLite: the write lock; PostgreSQL: the row lock the upsert takes, the condition
//! re-checked on the row as committed) and no check-then-count gap exists in the application.
//!
//! An attempt is counted before the password is checked and given back when it was right (or never
//! checked); the counts outlive a restart. Rows whose window has closed are pruned.

use crate::{on_pool, Result, Store};
use sqlx::Row;

/// A key to count an attempt against, with its limit: at most `max` attempts in a window of
/// `window` seconds opened by the first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptKey {
    pub key: String,
    pub max: i64,
    pub window: i64,
}

/// A counted attempt: the key and the window that holds it (to give it back).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counted {
    pub key: String,
    pub window_start: i64,
    /// Attempts in that window, this one included.
    pub attempts: i64,
}

/// The upsert that counts one attempt if the key's window is closed (a new one opens now) or not
/// yet full. Every expression on the right of `SET` reads the row as it was (both backends).
/// No row comes back when the window is full.
const COUNT: &str = "INSERT INTO login_throttle (key, window_start, attempts) VALUES ($1, $2, 1) \
    ON CONFLICT (key) DO UPDATE SET \
      attempts = CASE WHEN login_throttle.window_start <= $3 THEN 1 ELSE login_throttle.attempts + 1 END, \
      window_start = CASE WHEN login_throttle.window_start <= $3 THEN $2 ELSE login_throttle.window_start END \
    WHERE login_throttle.window_start <= $3 OR login_throttle.attempts < $4 \
    RETURNING window_start, attempts";

impl Store {
    /// Counts one attempt at `now` against every key, all or none: `Ok(Ok(counted))`, or
    /// `Ok(Err(seconds to wait))` when a key's window is full (then nothing is counted). The keys
    /// are taken in sorted order, so two attempts sharing keys never wait on each other in a cycle.
    pub async fn count_attempt(&self, keys: &[AttemptKey], now: i64) -> Result<std::result::Result<Vec<Counted>, i64>> {
        let mut keys: Vec<&AttemptKey> = keys.iter().collect();
        keys.sort_by(|a, b| a.key.cmp(&b.key));
        keys.dedup_by(|a, b| a.key == b.key);
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut counted = Vec::with_capacity(keys.len());
            let mut wait: Option<i64> = None;
            for k in &keys {
                let r = sqlx::query(COUNT)
                    .bind(&k.key).bind(now).bind(now - k.window).bind(k.max)
                    .fetch_optional(&mut *tx).await?;
                match r {
                    Some(r) => counted.push(Counted {
                        key: k.key.clone(),
                        window_start: r.get("window_start"),
                        attempts: r.get("attempts"),
                    }),
                    None => {
                        let start: i64 = sqlx::query_scalar("SELECT window_start FROM login_throttle WHERE key = $1")
                            .bind(&k.key).fetch_one(&mut *tx).await?;
                        let w = (start + k.window - now).max(1);
                        wait = Some(wait.map_or(w, |x| x.max(w)));
                    }
                }
            }
            match wait {
                Some(w) => {
                    tx.rollback().await?;
                    Ok(Err(w))
                }
                None => {
                    tx.commit().await?;
                    Ok(Ok(counted))
                }
            }
        })
    }

    /// Gives back counted attempts (the password was right, or it was never checked). Only from
    /// the window that holds each: an attempt whose window has since closed is not taken from the
    /// next one.
    pub async fn give_back_attempts(&self, counted: &[Counted]) -> Result<()> {
        on_pool!(self, p => {
            for c in counted {
                sqlx::query("UPDATE login_throttle SET attempts = attempts - 1 WHERE key = $1 AND window_start = $2 AND attempts > 0")
                    .bind(&c.key).bind(c.window_start).execute(p).await?;
            }
            Ok(())
        })
    }

    /// Forgets a key's attempts (an account after a successful login).
    pub async fn clear_attempts(&self, key: &str) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("DELETE FROM login_throttle WHERE key = $1").bind(key).execute(p).await?;
            Ok(())
        })
    }

    /// A key's window: when it opened and how many attempts it holds.
    pub async fn attempts(&self, key: &str) -> Result<Option<(i64, i64)>> {
        on_pool!(self, p => {
            let r = sqlx::query("SELECT window_start, attempts FROM login_throttle WHERE key = $1").bind(key).fetch_optional(p).await?;
            Ok(r.map(|r| (r.get("window_start"), r.get("attempts"))))
        })
    }

    /// Deletes the windows that opened at or before `before` (closed: pass now minus the longest
    /// window). Returns how many went.
    pub async fn prune_attempts(&self, before: i64) -> Result<u64> {
        on_pool!(self, p => {
            Ok(sqlx::query("DELETE FROM login_throttle WHERE window_start <= $1").bind(before).execute(p).await?.rows_affected())
        })
    }
}
