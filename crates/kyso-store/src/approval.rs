//! Storage for report approval (migration 22): the review state of each submission, changed only
//! by one conditional write that also checks the submission is the unit's latest for the period,
//! and the reporting agencies. Rows only: who may approve and what a decision needs are
//! `kyso_access` and `kyso_campaign::approval`'s.
//!
//! Why atomic here: two officers of the province may open the same report; whichever write lands
//! first decides, the other gets [`StoreError::Conflict`] and nothing of theirs is written (nor
//! audited).

use crate::audit::AuditEvent;
use crate::limits::{Limit, UNIT_CODE, UNIT_NAME, USERNAME, WORD};
use crate::{append_audit, lock, now, on_pool, Result, Store, StoreError};
use sqlx::Row;

pub const REASON: Limit = Limit { field: "reason", max_chars: 1000 };

/// A submission's review.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewRow {
    pub report_id: i64,
    pub unit_code: String,
    /// `submitted`, `approved` or `returned`.
    pub state: String,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<i64>,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgencyRow {
    /// `01960-CA`: the unit it reports beside, a dash, its own code.
    pub code: String,
    pub unit_code: String,
    pub name: String,
    /// `police`, `telecom`, `mass_org` or `other`.
    pub kind: String,
}

impl Store {
    /// Moves submission `id` from `submitted` to `to_state` (`approved` or `returned`) in one
    /// conditional write, only while it is the latest submission of its unit and period; with its
    /// audit row. `NotFound` for an unknown id; `Conflict` when it was reviewed already or a newer
    /// submission replaced it.
    pub async fn review_report(
        &self,
        id: i64,
        to_state: &str,
        by: &str,
        reason: &str,
        audit: &AuditEvent,
    ) -> Result<ReviewRow> {
        if !matches!(to_state, "approved" | "returned") {
            return Err(StoreError::Conflict(format!("a report is approved or returned, not {to_state}")));
        }
        USERNAME.named("reviewed_by").check(by)?;
        REASON.check(reason)?;
        crate::limits::audit(audit)?;
        let is_sqlite = matches!(self, Store::Sqlite(_));
        let at = now();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let n = sqlx::query("UPDATE report_submissions SET state = $1, reviewed_by = $2, reviewed_at = $3, review_reason = $4 \
                WHERE id = $5 AND state = 'submitted' AND id = (SELECT MAX(r.id) FROM report_submissions r \
                WHERE r.unit_code = report_submissions.unit_code AND r.frequency = report_submissions.frequency \
                AND r.period_start = report_submissions.period_start)")
                .bind(to_state).bind(by).bind(at).bind(reason).bind(id).execute(&mut *tx).await?.rows_affected();
            let r = sqlx::query("SELECT id, unit_code, state, reviewed_by, reviewed_at, review_reason FROM report_submissions WHERE id = $1")
                .bind(id).fetch_optional(&mut *tx).await?;
            let Some(r) = r else { return Err(StoreError::NotFound(format!("report {id}"))) };
            let row = ReviewRow {
                report_id: r.get("id"), unit_code: r.get("unit_code"), state: r.get("state"),
                reviewed_by: r.get("reviewed_by"), reviewed_at: r.get("reviewed_at"), reason: r.get("review_reason"),
            };
            if n == 0 {
                return Err(StoreError::Conflict(if row.state == "submitted" {
                    format!("report {id} was replaced by a newer submission")
                } else {
                    format!("report {id} was {} already", row.state)
                }));
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(row)
        })
    }

    /// The review of every submission for a period (all units), in submission order.
    pub async fn period_reviews(&self, frequency: &str, period_start: &str) -> Result<Vec<ReviewRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT id, unit_code, state, reviewed_by, reviewed_at, review_reason FROM report_submissions \
                WHERE frequency = $1 AND period_start = $2 ORDER BY submitted_at, id")
                .bind(frequency).bind(period_start).fetch_all(p).await?;
            Ok(rows.iter().map(|r| ReviewRow {
                report_id: r.get("id"), unit_code: r.get("unit_code"), state: r.get("state"),
                reviewed_by: r.get("reviewed_by"), reviewed_at: r.get("reviewed_at"), reason: r.get("review_reason"),
            }).collect())
        })
    }

    /// Adds or renames a reporting agency, with an audit row.
    pub async fn upsert_agency(&self, a: &AgencyRow, audit: &AuditEvent) -> Result<()> {
        Limit { field: "code", max_chars: 16 }.check(&a.code)?;
        UNIT_CODE.check(&a.unit_code)?;
        UNIT_NAME.check(&a.name)?;
        WORD.named("kind").check(&a.kind)?;
        crate::limits::audit(audit)?;
        let is_sqlite = matches!(self, Store::Sqlite(_));
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            sqlx::query("INSERT INTO reporting_agencies (code, unit_code, name, kind, updated_at) VALUES ($1,$2,$3,$4,$5) \
                ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, updated_at = excluded.updated_at")
                .bind(&a.code).bind(&a.unit_code).bind(&a.name).bind(&a.kind).bind(now()).execute(&mut *tx).await?;
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    /// The reporting agencies beside the given units (all with `None`), by code.
    pub async fn agencies(&self, unit_code: Option<&str>) -> Result<Vec<AgencyRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT code, unit_code, name, kind FROM reporting_agencies WHERE ($1 IS NULL OR unit_code = $1) ORDER BY code")
                .bind(unit_code).fetch_all(p).await?;
            Ok(rows.iter().map(|r| AgencyRow { code: r.get("code"), unit_code: r.get("unit_code"), name: r.get("name"), kind: r.get("kind") }).collect())
        })
    }
}
