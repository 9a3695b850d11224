//! Storage for training records (migration 21): sessions with their attendance, written in one
//! transaction with the audit row, and the community digital-technology teams' rosters. Rows
//! only: what counts as trained is `kyso_campaign::training`'s.

use crate::audit::AuditEvent;
use crate::campaign::Upserted;
use crate::limits::{Limit, FULL_NAME, ID_NUMBER, TEAM, UNIT_CODE, WORD};
use crate::{append_audit, lock, now, on_pool, Result, Store, StoreError};
use sqlx::Row;

pub const TRAINER: Limit = Limit { field: "trainer", max_chars: 200 };
pub const TRAINING_TOPIC: Limit = Limit { field: "topic", max_chars: 500 };
/// Attendees of one session, at most.
pub const MAX_ATTENDEES: usize = 2_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrainingSessionRow {
    /// Assigned by [`Store::add_training_session`].
    pub id: i64,
    pub unit_code: String,
    /// ISO date, Vietnam time.
    pub held_on: String,
    pub trainer: String,
    pub topic: String,
    pub recorded_by: String,
    pub recorded_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttendeeRow {
    pub id_number: String,
    pub full_name: String,
    /// `staff` or `volunteer`.
    pub kind: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamMemberRow {
    pub unit_code: String,
    pub id_number: String,
    pub full_name: String,
    pub team: String,
}

fn session_limits(s: &TrainingSessionRow, attendees: &[AttendeeRow]) -> Result<()> {
    UNIT_CODE.check(&s.unit_code)?;
    WORD.named("held_on").check(&s.held_on)?;
    TRAINER.check(&s.trainer)?;
    TRAINING_TOPIC.check(&s.topic)?;
    crate::limits::USERNAME.named("recorded_by").check(&s.recorded_by)?;
    if attendees.len() > MAX_ATTENDEES {
        return Err(StoreError::TooLong { field: "attendees", max: MAX_ATTENDEES });
    }
    attendees.iter().try_for_each(|a| {
        ID_NUMBER.check(&a.id_number)?;
        FULL_NAME.check(&a.full_name)?;
        WORD.named("kind").check(&a.kind)
    })
}

impl Store {
    /// Records a session and who attended, with its audit row; a person listed twice is a conflict.
    pub async fn add_training_session(
        &self,
        session: &TrainingSessionRow,
        attendees: &[AttendeeRow],
        audit: &AuditEvent,
    ) -> Result<TrainingSessionRow> {
        session_limits(session, attendees)?;
        crate::limits::audit(audit)?;
        let is_sqlite = matches!(self, Store::Sqlite(_));
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM training_sessions").fetch_one(&mut *tx).await?;
            let row = TrainingSessionRow { id, recorded_at: now(), ..session.clone() };
            sqlx::query("INSERT INTO training_sessions (id, unit_code, held_on, trainer, topic, recorded_by, recorded_at) \
                VALUES ($1,$2,$3,$4,$5,$6,$7)")
                .bind(row.id).bind(&row.unit_code).bind(&row.held_on).bind(&row.trainer).bind(&row.topic)
                .bind(&row.recorded_by).bind(row.recorded_at).execute(&mut *tx).await?;
            for a in attendees {
                sqlx::query("INSERT INTO training_attendance (session_id, id_number, full_name, kind) VALUES ($1,$2,$3,$4)")
                    .bind(id).bind(&a.id_number).bind(&a.full_name).bind(&a.kind).execute(&mut *tx).await
                    .map_err(|e| match &e {
                        sqlx::Error::Database(d) if d.is_unique_violation() =>
                            StoreError::Conflict("an attendee is listed twice".into()),
                        _ => StoreError::Db(e),
                    })?;
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(row)
        })
    }

    /// Sessions of one unit or all (`None`), newest first, each with its number of attendees.
    pub async fn training_sessions(&self, unit_code: Option<&str>) -> Result<Vec<(TrainingSessionRow, i64)>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT s.id, s.unit_code, s.held_on, s.trainer, s.topic, s.recorded_by, s.recorded_at, \
                (SELECT COUNT(*) FROM training_attendance a WHERE a.session_id = s.id) AS attendees \
                FROM training_sessions s WHERE ($1 IS NULL OR s.unit_code = $1) ORDER BY s.held_on DESC, s.id DESC")
                .bind(unit_code).fetch_all(p).await?;
            Ok(rows.iter().map(|r| (TrainingSessionRow {
                id: r.get("id"), unit_code: r.get("unit_code"), held_on: r.get("held_on"), trainer: r.get("trainer"),
                topic: r.get("topic"), recorded_by: r.get("recorded_by"), recorded_at: r.get("recorded_at"),
            }, r.get::<i64, _>("attendees"))).collect())
        })
    }

    /// The distinct ID numbers that attended a session of `unit_code` held on or before `date`.
    pub async fn trained_ids(&self, unit_code: &str, date: &str) -> Result<Vec<String>> {
        on_pool!(self, p => Ok(sqlx::query_scalar("SELECT DISTINCT a.id_number FROM training_attendance a \
            JOIN training_sessions s ON s.id = a.session_id WHERE s.unit_code = $1 AND s.held_on <= $2 ORDER BY a.id_number")
            .bind(unit_code).bind(date).fetch_all(p).await?))
    }

    /// Inserts or updates community-team members by (unit, ID number), with one audit row.
    pub async fn upsert_team_members(&self, rows: &[TeamMemberRow], audit: &AuditEvent) -> Result<Upserted> {
        rows.iter().try_for_each(|r| {
            UNIT_CODE.check(&r.unit_code)?;
            ID_NUMBER.check(&r.id_number)?;
            FULL_NAME.check(&r.full_name)?;
            TEAM.check(&r.team)
        })?;
        crate::limits::audit(audit)?;
        let is_sqlite = matches!(self, Store::Sqlite(_));
        let at = now();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let mut existing = 0u64;
            for r in rows {
                // COUNT(*) is BIGINT on both backends (a bare 1 is INT4 on PostgreSQL).
                let found: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM community_team_members WHERE unit_code = $1 AND id_number = $2")
                    .bind(&r.unit_code).bind(&r.id_number).fetch_one(&mut *tx).await?;
                existing += u64::from(found > 0);
                sqlx::query("INSERT INTO community_team_members (unit_code, id_number, full_name, team, imported_at) VALUES ($1,$2,$3,$4,$5) \
                    ON CONFLICT (unit_code, id_number) DO UPDATE SET full_name = excluded.full_name, team = excluded.team, imported_at = excluded.imported_at")
                    .bind(&r.unit_code).bind(&r.id_number).bind(&r.full_name).bind(&r.team).bind(at).execute(&mut *tx).await?;
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(Upserted { inserted: rows.len() as u64 - existing, updated: existing, unchanged: 0 })
        })
    }

    /// The community-team rosters of one unit or all, by unit, team and ID number.
    pub async fn team_members(&self, unit_code: Option<&str>) -> Result<Vec<TeamMemberRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT unit_code, id_number, full_name, team FROM community_team_members \
                WHERE ($1 IS NULL OR unit_code = $1) ORDER BY unit_code, team, id_number")
                .bind(unit_code).fetch_all(p).await?;
            Ok(rows.iter().map(|r| TeamMemberRow {
                unit_code: r.get("unit_code"), id_number: r.get("id_number"), full_name: r.get("full_name"), team: r.get("team"),
            }).collect())
        })
    }
}
