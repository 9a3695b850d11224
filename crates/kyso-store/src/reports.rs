//! Storage for unit reports and their figures, the task register, segment targets and staff
//! lists (migration 5). Rows only: periods, roll-ups, overdue and counting are `kyso-campaign`'s.
//!
//! Every write takes the audit lock and appends its audit row in the same transaction, which also
//! serialises the `MAX(id) + 1` keys (the rule of `campaign.rs`).

use crate::audit::AuditEvent;
use crate::campaign::{HolderCertRow, ReportRow, Upserted};
use crate::{append_audit, lock, now, on_pool, Result, Store, StoreError};
use sqlx::Row;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskRow {
    /// Assigned by [`Store::add_task`].
    pub id: i64,
    pub unit_code: String,
    pub number: String,
    pub name: String,
    pub lead: String,
    pub coordinating: String,
    pub expected_result: String,
    /// As the plan writes it ("Trước 31/7/2026", "Thường xuyên").
    pub deadline: String,
    /// `not_started`, `in_progress` or `done`.
    pub status: String,
    pub note: String,
    pub updated_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentSetRow {
    pub unit_code: String,
    pub period: String,
    pub total: i64,
    pub source: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentRow {
    pub key: String,
    pub name: String,
    pub target: i64,
    /// `tagged` or `everyone`.
    pub membership: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffRow {
    pub unit_code: String,
    pub id_number: String,
    pub full_name: String,
    pub agency: String,
    /// The segment the person's agency counts toward, when the plan has segments.
    pub segment_key: Option<String>,
    /// The 100 %-of-staff target date.
    pub deadline: Option<String>,
}

const TASK_COLS: &str =
    "id, unit_code, number, name, lead, coordinating, expected_result, deadline, status, note, updated_at";
const REPORT_COLS: &str = "id, unit_code, frequency, period_start, submitted_at, submitted_by, difficulties, proposals";

macro_rules! task_row {
    ($r:expr) => {
        TaskRow {
            id: $r.get("id"),
            unit_code: $r.get("unit_code"),
            number: $r.get("number"),
            name: $r.get("name"),
            lead: $r.get("lead"),
            coordinating: $r.get("coordinating"),
            expected_result: $r.get("expected_result"),
            deadline: $r.get("deadline"),
            status: $r.get("status"),
            note: $r.get("note"),
            updated_at: $r.get("updated_at"),
        }
    };
}

macro_rules! report_row {
    ($r:expr) => {
        ReportRow {
            id: $r.get("id"),
            unit_code: $r.get("unit_code"),
            frequency: $r.get("frequency"),
            period_start: $r.get("period_start"),
            submitted_at: $r.get("submitted_at"),
            submitted_by: $r.get("submitted_by"),
            difficulties: $r.get("difficulties"),
            proposals: $r.get("proposals"),
        }
    };
}

impl Store {
    /// Records a report with the figures it carries, in one transaction with its audit row.
    /// `submitted_at` is the caller's instant (it decides timeliness). `Conflict` once a report of
    /// the unit for the period was approved ([`Store::review_report`]): approved figures freeze.
    pub async fn submit_report(
        &self,
        report: &ReportRow,
        figures: &[(String, i64)],
        audit: &AuditEvent,
    ) -> Result<ReportRow> {
        crate::limits::report(report)?;
        crate::limits::audit(audit)?;
        let is_sqlite = matches!(self, Store::Sqlite(_));
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            // Approved figures freeze: no submission follows an approved one (checked under the lock).
            let approved: Option<i64> = sqlx::query_scalar("SELECT id FROM report_submissions WHERE unit_code = $1 AND frequency = $2 \
                AND period_start = $3 AND state = 'approved'")
                .bind(&report.unit_code).bind(&report.frequency).bind(&report.period_start).fetch_optional(&mut *tx).await?;
            if let Some(approved) = approved {
                return Err(StoreError::Conflict(format!("report {approved} for this period was approved; approved figures do not change")));
            }
            let id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM report_submissions").fetch_one(&mut *tx).await?;
            let row = ReportRow { id, ..report.clone() };
            sqlx::query(&format!("INSERT INTO report_submissions ({REPORT_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)"))
                .bind(row.id).bind(&row.unit_code).bind(&row.frequency).bind(&row.period_start).bind(row.submitted_at)
                .bind(&row.submitted_by).bind(&row.difficulties).bind(&row.proposals).execute(&mut *tx).await?;
            for (name, value) in figures {
                sqlx::query("INSERT INTO report_figures (report_id, name, value) VALUES ($1,$2,$3)")
                    .bind(id).bind(name).bind(*value).execute(&mut *tx).await
                    .map_err(|e| match &e {
                        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(format!("figure {name} given twice")),
                        _ => StoreError::Db(e),
                    })?;
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(row)
        })
    }

    /// Every submission for a period (all units), in submission order, each with its figures.
    pub async fn period_reports(
        &self,
        frequency: &str,
        period_start: &str,
    ) -> Result<Vec<(ReportRow, Vec<(String, i64)>)>> {
        on_pool!(self, p => {
            let rows = sqlx::query(&format!("SELECT {REPORT_COLS} FROM report_submissions WHERE frequency = $1 AND period_start = $2 \
                ORDER BY submitted_at, id"))
                .bind(frequency).bind(period_start).fetch_all(p).await?;
            let figures = sqlx::query("SELECT f.report_id, f.name, f.value FROM report_figures f JOIN report_submissions r ON r.id = f.report_id \
                WHERE r.frequency = $1 AND r.period_start = $2 ORDER BY f.report_id, f.name")
                .bind(frequency).bind(period_start).fetch_all(p).await?;
            let mut out: Vec<(ReportRow, Vec<(String, i64)>)> = rows.iter().map(|r| (report_row!(r), Vec::new())).collect();
            let at: std::collections::HashMap<i64, usize> = out.iter().enumerate().map(|(i, (r, _))| (r.id, i)).collect();
            for f in &figures {
                if let Some(&i) = at.get(&f.get::<i64, _>("report_id")) {
                    out[i].1.push((f.get("name"), f.get("value")));
                }
            }
            Ok(out)
        })
    }

    /// The name of a province, by code.
    pub async fn province_name(&self, code: &str) -> Result<Option<String>> {
        on_pool!(self, p => Ok(sqlx::query_scalar("SELECT name FROM admin_provinces WHERE code = $1").bind(code).fetch_optional(p).await?))
    }

    /// Adds a task to a unit's register; a second task with the same number is a conflict.
    pub async fn add_task(&self, task: &TaskRow, audit: &AuditEvent) -> Result<TaskRow> {
        crate::limits::task(task)?;
        crate::limits::audit(audit)?;
        let is_sqlite = matches!(self, Store::Sqlite(_));
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM campaign_tasks").fetch_one(&mut *tx).await?;
            let row = TaskRow { id, updated_at: now(), ..task.clone() };
            sqlx::query(&format!("INSERT INTO campaign_tasks ({TASK_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"))
                .bind(row.id).bind(&row.unit_code).bind(&row.number).bind(&row.name).bind(&row.lead).bind(&row.coordinating)
                .bind(&row.expected_result).bind(&row.deadline).bind(&row.status).bind(&row.note).bind(row.updated_at)
                .execute(&mut *tx).await
                .map_err(|e| match &e {
                    sqlx::Error::Database(d) if d.is_unique_violation() =>
                        StoreError::Conflict(format!("task {} already exists for unit {}", row.number, row.unit_code)),
                    _ => StoreError::Db(e),
                })?;
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(row)
        })
    }

    /// Changes a task's status, deadline or note (the fields given); `NotFound` for an unknown task.
    pub async fn update_task(
        &self,
        unit_code: &str,
        number: &str,
        (status, deadline, note): (Option<&str>, Option<&str>, Option<&str>),
        audit: &AuditEvent,
    ) -> Result<TaskRow> {
        crate::limits::UNIT_CODE.check(unit_code)?;
        crate::limits::WORD.check(number)?;
        status.map_or(Ok(()), |v| crate::limits::WORD.check(v))?;
        deadline.map_or(Ok(()), |v| crate::limits::SOURCE.check(v))?;
        note.map_or(Ok(()), |v| crate::limits::NOTE.check(v))?;
        crate::limits::audit(audit)?;
        let is_sqlite = matches!(self, Store::Sqlite(_));
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let n = sqlx::query("UPDATE campaign_tasks SET status = COALESCE($1, status), deadline = COALESCE($2, deadline), \
                note = COALESCE($3, note), updated_at = $4 WHERE unit_code = $5 AND number = $6")
                .bind(status).bind(deadline).bind(note).bind(now()).bind(unit_code).bind(number).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound(format!("task {number} of unit {unit_code}")));
            }
            let r = sqlx::query(&format!("SELECT {TASK_COLS} FROM campaign_tasks WHERE unit_code = $1 AND number = $2"))
                .bind(unit_code).bind(number).fetch_one(&mut *tx).await?;
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(task_row!(r))
        })
    }

    /// The tasks of one unit, or of all units, in insertion order.
    pub async fn tasks(&self, unit_code: Option<&str>) -> Result<Vec<TaskRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query(&format!("SELECT {TASK_COLS} FROM campaign_tasks WHERE ($1 IS NULL OR unit_code = $1) ORDER BY unit_code, id"))
                .bind(unit_code).fetch_all(p).await?;
            Ok(rows.iter().map(|r| task_row!(r)).collect())
        })
    }

    /// Replaces the segment targets of (unit, period) with these, in assignment order.
    pub async fn set_segments(&self, set: &SegmentSetRow, segments: &[SegmentRow], audit: &AuditEvent) -> Result<()> {
        crate::limits::segments(set, segments)?;
        crate::limits::audit(audit)?;
        let is_sqlite = matches!(self, Store::Sqlite(_));
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            sqlx::query("DELETE FROM segment_targets WHERE unit_code = $1 AND period = $2")
                .bind(&set.unit_code).bind(&set.period).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO segment_sets (unit_code, period, total, source, updated_at) VALUES ($1,$2,$3,$4,$5) \
                ON CONFLICT (unit_code, period) DO UPDATE SET total = excluded.total, source = excluded.source, updated_at = excluded.updated_at")
                .bind(&set.unit_code).bind(&set.period).bind(set.total).bind(&set.source).bind(now()).execute(&mut *tx).await?;
            for (position, s) in segments.iter().enumerate() {
                sqlx::query("INSERT INTO segment_targets (unit_code, period, position, key, name, target, membership) VALUES ($1,$2,$3,$4,$5,$6,$7)")
                    .bind(&set.unit_code).bind(&set.period).bind(position as i64).bind(&s.key).bind(&s.name).bind(s.target).bind(&s.membership)
                    .execute(&mut *tx).await
                    .map_err(|e| match &e {
                        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(format!("segment {} given twice", s.key)),
                        _ => StoreError::Db(e),
                    })?;
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Every segment set with its segments in assignment order.
    pub async fn segment_sets(&self) -> Result<Vec<(SegmentSetRow, Vec<SegmentRow>)>> {
        on_pool!(self, p => {
            let sets = sqlx::query("SELECT unit_code, period, total, source FROM segment_sets ORDER BY unit_code, period").fetch_all(p).await?;
            let mut out = Vec::with_capacity(sets.len());
            for s in &sets {
                let set = SegmentSetRow { unit_code: s.get("unit_code"), period: s.get("period"), total: s.get("total"), source: s.get("source") };
                let rows = sqlx::query("SELECT key, name, target, membership FROM segment_targets WHERE unit_code = $1 AND period = $2 ORDER BY position")
                    .bind(&set.unit_code).bind(&set.period).fetch_all(p).await?;
                let segs = rows.iter().map(|r| SegmentRow { key: r.get("key"), name: r.get("name"), target: r.get("target"), membership: r.get("membership") }).collect();
                out.push((set, segs));
            }
            Ok(out)
        })
    }

    /// Inserts or updates staff by (unit, ID number), with one audit row.
    pub async fn upsert_staff(&self, rows: &[StaffRow], audit: &AuditEvent) -> Result<Upserted> {
        rows.iter().try_for_each(crate::limits::staff)?;
        crate::limits::audit(audit)?;
        let is_sqlite = matches!(self, Store::Sqlite(_));
        let at = now();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let mut existing = 0u64;
            for r in rows {
                // COUNT(*) is a BIGINT on both backends (PostgreSQL's bare `SELECT 1` is an INT4,
                // which an i64 does not decode: a re-import failed there)
                let found: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM staff_members WHERE unit_code = $1 AND id_number = $2")
                    .bind(&r.unit_code).bind(&r.id_number).fetch_one(&mut *tx).await?;
                existing += u64::from(found > 0);
                sqlx::query("INSERT INTO staff_members (unit_code, id_number, full_name, agency, segment_key, deadline, imported_at) \
                    VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (unit_code, id_number) DO UPDATE SET full_name = excluded.full_name, \
                    agency = excluded.agency, segment_key = excluded.segment_key, deadline = excluded.deadline, imported_at = excluded.imported_at")
                    .bind(&r.unit_code).bind(&r.id_number).bind(&r.full_name).bind(&r.agency).bind(&r.segment_key).bind(&r.deadline).bind(at)
                    .execute(&mut *tx).await?;
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(Upserted { inserted: rows.len() as u64 - existing, updated: existing, unchanged: 0 })
        })
    }

    /// The staff lists of one unit or of all units (`None`), by agency then ID number.
    pub async fn staff(&self, unit_code: Option<&str>) -> Result<Vec<StaffRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT unit_code, id_number, full_name, agency, segment_key, deadline FROM staff_members \
                WHERE ($1 IS NULL OR unit_code = $1) ORDER BY unit_code, agency, id_number")
                .bind(unit_code).fetch_all(p).await?;
            Ok(rows.iter().map(|r| StaffRow {
                unit_code: r.get("unit_code"), id_number: r.get("id_number"), full_name: r.get("full_name"), agency: r.get("agency"),
                segment_key: r.get("segment_key"), deadline: r.get("deadline"),
            }).collect())
        })
    }

    /// Certificates held by the listed staff of a unit (or of all units), any state: kyso's own
    /// citizen certificates and provider-list ones, as [`Store::holder_certificates`] gives them.
    pub async fn staff_certificates(&self, unit_code: Option<&str>) -> Result<Vec<HolderCertRow>> {
        let (mut out, ids) = on_pool!(self, p => {
            let rows = sqlx::query("SELECT DISTINCT c.id_number, c.serial, c.issuer_id, c.not_before, c.not_after, c.revoked_at \
                FROM staff_members s JOIN certificates c ON c.id_number = s.id_number \
                WHERE ($1 IS NULL OR s.unit_code = $1) AND c.profile = 'citizen' ORDER BY c.id_number, c.serial")
                .bind(unit_code).fetch_all(p).await?;
            let out: Vec<HolderCertRow> = rows.iter().map(|r| HolderCertRow {
                id_number: r.get("id_number"), serial: r.get("serial"), issuer_id: r.get("issuer_id"),
                not_before: r.get("not_before"), not_after: r.get("not_after"), revoked_at: r.get("revoked_at"),
            }).collect();
            let ids: Vec<String> = sqlx::query_scalar("SELECT id_number FROM staff_members WHERE ($1 IS NULL OR unit_code = $1)")
                .bind(unit_code).fetch_all(p).await?;
            (out, ids)
        });
        let (listed, names) = self
            .listed_of(
                ids.iter().filter_map(|s| kyso_campaign::register_index::id_key(s)).collect(),
                crate::bulk::BlocksOf::Staff(unit_code),
            )
            .await?;
        out.extend(crate::campaign::listed_holders(&listed, &names));
        Ok(out)
    }
}
