//! The PIN (and one-time code) counter of remote-signing credentials, atomic in the store.
//!
//! A check takes a slot *before* it runs: [`Store::reserve_pin_attempt`] raises the credential's
//! checks in flight in one conditional `UPDATE` that holds only while the wrong PINs so far plus
//! the checks in flight stay under the limit, so however many requests arrive at the same moment
//! no more checks are ever evaluated than there are attempts left. A wrong answer
//! ([`Store::pin_attempt_failed`]) turns its slot into a counted failure and, at the limit, locks
//! the credential — the lock written and audited in the same transaction as that failure. A right
//! one resets the counter in the commit that issues the authorization ([`crate::Write::PinOk`],
//! refused when the credential locked meanwhile). A process killed mid-check leaves its slot
//! taken; slots are presumed left behind once no check was reserved for [`STALE_SECONDS`].

use crate::{append_audit, lock, on_pool, AuditEvent, Result, Store};

/// A check in flight is taken as abandoned when no slot was reserved for this long (a check is
/// one Argon2 or token operation: well under a second).
pub const STALE_SECONDS: i64 = 60;

/// The outcome of asking for an attempt slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinSlot {
    /// The check may run; wrong PINs counted before it.
    Reserved { failed_before: i64 },
    /// The credential is locked: nothing may be checked.
    Locked,
    /// Every attempt left is taken by checks still running: nothing may be checked now.
    Busy,
    /// No such credential.
    Unknown,
}

/// What a failed check left behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinFailure {
    /// Wrong PINs (or codes) counted now, this one included.
    pub attempt: i64,
    /// The credential is locked (by this failure or before).
    pub locked: bool,
}

/// The checks in flight, ignoring those reserved more than [`STALE_SECONDS`] before `$now`
/// (SQL over `pin_checks`, `pin_checks_at` and the bound parameter named in `now`).
macro_rules! live_checks {
    ($now:literal) => {
        concat!("(CASE WHEN pin_checks_at < ", $now, " - 60 THEN 0 ELSE pin_checks END)")
    };
}

impl Store {
    /// Take a slot for a PIN check of `credential`: one conditional update, so that no more than
    /// `max` wrong PINs can ever be evaluated between two successes.
    pub async fn reserve_pin_attempt(&self, credential: &str, max: i64, now: i64) -> Result<PinSlot> {
        const SQL: &str = concat!(
            "UPDATE credentials SET pin_checks = ",
            live_checks!("$1"),
            " + 1, pin_checks_at = $1 WHERE id = $2 AND status = 'active' AND failed_pins + ",
            live_checks!("$1"),
            " < $3 RETURNING failed_pins"
        );
        on_pool!(self, p => {
            let taken: Option<i64> = sqlx::query_scalar(SQL).bind(now).bind(credential).bind(max).fetch_optional(p).await?;
            if let Some(failed_before) = taken {
                return Ok(PinSlot::Reserved { failed_before });
            }
            let status: Option<String> = sqlx::query_scalar("SELECT status FROM credentials WHERE id = $1")
                .bind(credential).fetch_optional(p).await?;
            Ok(match status.as_deref() {
                None => PinSlot::Unknown,
                Some("active") => PinSlot::Busy,
                Some(_) => PinSlot::Locked,
            })
        })
    }

    /// A reserved check failed (wrong PIN, wrong or reused code): its slot becomes a counted
    /// failure, `event(attempt)` is recorded and, when the count reaches `max`, the credential
    /// locks and `lock_event` is recorded — one transaction.
    pub async fn pin_attempt_failed(
        &self,
        credential: &str,
        max: i64,
        now: i64,
        event: impl FnOnce(i64) -> AuditEvent,
        lock_event: &AuditEvent,
    ) -> Result<PinFailure> {
        let is_sqlite = self.backend() == "sqlite";
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let row: Option<(i64, String)> = sqlx::query_as(
                "UPDATE credentials SET failed_pins = failed_pins + 1, \
                 pin_checks = CASE WHEN pin_checks > 0 THEN pin_checks - 1 ELSE 0 END, \
                 status = CASE WHEN failed_pins + 1 >= $1 THEN 'locked' ELSE status END, updated_at = $2 \
                 WHERE id = $3 AND status = 'active' RETURNING failed_pins, status")
                .bind(max).bind(now).bind(credential).fetch_optional(&mut *tx).await?;
            let out = match row {
                Some((attempt, status)) => {
                    append_audit!(self, tx, &event(attempt));
                    if status == "locked" {
                        append_audit!(self, tx, lock_event);
                    }
                    PinFailure { attempt, locked: status == "locked" }
                }
                // Locked meanwhile (by an officer's action or another failure): nothing to count.
                None => PinFailure { attempt: max, locked: true },
            };
            tx.commit().await?;
            Ok(out)
        })
    }

    /// Give back a reserved slot whose check was not made (the key store failed, not the person).
    pub async fn release_pin_attempt(&self, credential: &str) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("UPDATE credentials SET pin_checks = CASE WHEN pin_checks > 0 THEN pin_checks - 1 ELSE 0 END WHERE id = $1")
                .bind(credential).execute(p).await?;
            Ok(())
        })
    }
}
