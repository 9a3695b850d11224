//! Storage for procedures and dossiers (migration 15): a dossier's row, its files' hashes and
//! verdicts (never their contents), and the counts the "fully signed" KPI and the holders' use
//! are computed from. Rows only: what a verdict means is `kyso_validate::dossier`'s.
//!
//! Every write takes the audit lock and appends its audit row in the same transaction, which also
//! serialises the `MAX(id) + 1` dossier numbers.

use crate::audit::AuditEvent;
use crate::limits::{self, Limit};
use crate::{append_audit, lock, on_pool, Result, Store};
use sqlx::Row;

const FILE_NAME: Limit = limits::UNIT_NAME.named("file_name");
const REASON: Limit = limits::NOTE.named("reason");
const PROCEDURE_FILES: Limit = limits::SETTING.named("files");

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcedureRow {
    pub code: String,
    pub name: String,
    /// The files, as JSON (`kyso_validate::dossier::FileRule`s).
    pub files: String,
    pub updated_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DossierRow {
    /// Assigned by [`Store::add_dossier`].
    pub id: i64,
    pub procedure_code: String,
    pub applicant_id: String,
    pub applicant_masked: String,
    pub unit_code: String,
    /// `desk` or `api`.
    pub channel: String,
    pub received_by: String,
    pub needs_signatures: bool,
    pub fully_signed: bool,
    /// What is missing, as JSON.
    pub missing: String,
    /// Vietnam's date at reception.
    pub day: String,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DossierFileRow {
    pub role: String,
    pub file_name: String,
    pub size: i64,
    pub sha256: Vec<u8>,
    pub signature_sha256: Option<Vec<u8>>,
    pub verdict: String,
    pub satisfied: bool,
    pub reason_vi: String,
    pub reason_en: String,
    pub applicant_serial: Option<String>,
}

/// Dossiers received by one unit on one day: how many needed signatures, how many of those were
/// fully signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DossierDayCount {
    pub unit_code: String,
    pub day: String,
    pub needing: i64,
    pub fully_signed: i64,
}

const DOSSIER_COLS: &str = "id, procedure_code, applicant_id, applicant_masked, unit_code, channel, received_by, needs_signatures, fully_signed, missing, day, at";
const FILE_COLS: &str =
    "role, file_name, size, sha256, signature_sha256, verdict, satisfied, reason_vi, reason_en, applicant_serial";

macro_rules! dossier_row {
    ($r:expr) => {
        DossierRow {
            id: $r.get("id"),
            procedure_code: $r.get("procedure_code"),
            applicant_id: $r.get("applicant_id"),
            applicant_masked: $r.get("applicant_masked"),
            unit_code: $r.get("unit_code"),
            channel: $r.get("channel"),
            received_by: $r.get("received_by"),
            needs_signatures: $r.get::<i64, _>("needs_signatures") != 0,
            fully_signed: $r.get::<i64, _>("fully_signed") != 0,
            missing: $r.get("missing"),
            day: $r.get("day"),
            at: $r.get("at"),
        }
    };
}

fn check_dossier(d: &DossierRow, files: &[DossierFileRow]) -> Result<()> {
    limits::UNIT_CODE.named("procedure").check(&d.procedure_code)?;
    limits::ID_NUMBER.check(&d.applicant_id)?;
    limits::ID_NUMBER.check(&d.applicant_masked)?;
    limits::UNIT_CODE.check(&d.unit_code)?;
    limits::WORD.check(&d.channel)?;
    limits::AUDIT_ACTOR.named("received_by").check(&d.received_by)?;
    limits::NOTE.named("missing").check(&d.missing)?;
    limits::WORD.check(&d.day)?;
    for f in files {
        limits::WORD.named("role").check(&f.role)?;
        FILE_NAME.check(&f.file_name)?;
        limits::WORD.check(&f.verdict)?;
        REASON.check(&f.reason_vi)?;
        REASON.check(&f.reason_en)?;
        if let Some(s) = &f.applicant_serial {
            limits::WORD.named("serial").check(s)?;
        }
    }
    Ok(())
}

impl Store {
    /// Adds or replaces a procedure, with its audit row.
    pub async fn put_procedure(&self, p: &ProcedureRow, audit: &AuditEvent) -> Result<()> {
        limits::UNIT_CODE.named("code").check(&p.code)?;
        limits::AGENCY.named("name").check(&p.name)?;
        PROCEDURE_FILES.check(&p.files)?;
        limits::audit(audit)?;
        let is_sqlite = matches!(self, Store::Sqlite(_));
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            lock!(tx, is_sqlite);
            sqlx::query("INSERT INTO procedures (code, name, files, updated_at) VALUES ($1,$2,$3,$4) \
                         ON CONFLICT (code) DO UPDATE SET name = excluded.name, files = excluded.files, updated_at = excluded.updated_at")
                .bind(&p.code).bind(&p.name).bind(&p.files).bind(p.updated_at).execute(&mut *tx).await?;
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn procedures(&self) -> Result<Vec<ProcedureRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT code, name, files, updated_at FROM procedures ORDER BY name, code").fetch_all(p).await?;
            Ok(rows.iter().map(|r| ProcedureRow { code: r.get("code"), name: r.get("name"), files: r.get("files"), updated_at: r.get("updated_at") }).collect())
        })
    }

    pub async fn procedure(&self, code: &str) -> Result<Option<ProcedureRow>> {
        on_pool!(self, p => {
            let r = sqlx::query("SELECT code, name, files, updated_at FROM procedures WHERE code = $1").bind(code).fetch_optional(p).await?;
            Ok(r.map(|r| ProcedureRow { code: r.get("code"), name: r.get("name"), files: r.get("files"), updated_at: r.get("updated_at") }))
        })
    }

    /// Records a dossier and its files' verdicts in one transaction with its audit row; returns
    /// the row with its number.
    pub async fn add_dossier(
        &self,
        d: &DossierRow,
        files: &[DossierFileRow],
        audit: &AuditEvent,
    ) -> Result<DossierRow> {
        check_dossier(d, files)?;
        limits::audit(audit)?;
        let is_sqlite = matches!(self, Store::Sqlite(_));
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM dossiers").fetch_one(&mut *tx).await?;
            let row = DossierRow { id, ..d.clone() };
            sqlx::query(&format!("INSERT INTO dossiers ({DOSSIER_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)"))
                .bind(row.id).bind(&row.procedure_code).bind(&row.applicant_id).bind(&row.applicant_masked)
                .bind(&row.unit_code).bind(&row.channel).bind(&row.received_by).bind(i64::from(row.needs_signatures))
                .bind(i64::from(row.fully_signed)).bind(&row.missing).bind(&row.day).bind(row.at)
                .execute(&mut *tx).await?;
            for (position, f) in (0i64..).zip(files) {
                sqlx::query(&format!("INSERT INTO dossier_files (dossier_id, position, {FILE_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)"))
                    .bind(id).bind(position).bind(&f.role).bind(&f.file_name).bind(f.size).bind(&f.sha256).bind(&f.signature_sha256)
                    .bind(&f.verdict).bind(i64::from(f.satisfied)).bind(&f.reason_vi).bind(&f.reason_en).bind(&f.applicant_serial)
                    .execute(&mut *tx).await?;
            }
            let audit = AuditEvent { subject: format!("dossier {id}"), ..audit.clone() };
            append_audit!(self, tx, &audit);
            tx.commit().await?;
            Ok(row)
        })
    }

    /// A dossier and its files, in the order they were given.
    pub async fn dossier(&self, id: i64) -> Result<Option<(DossierRow, Vec<DossierFileRow>)>> {
        on_pool!(self, p => {
            let Some(r) = sqlx::query(&format!("SELECT {DOSSIER_COLS} FROM dossiers WHERE id = $1")).bind(id).fetch_optional(p).await? else {
                return Ok(None);
            };
            let files = sqlx::query(&format!("SELECT {FILE_COLS} FROM dossier_files WHERE dossier_id = $1 ORDER BY position"))
                .bind(id).fetch_all(p).await?;
            let files = files.iter().map(|f| DossierFileRow {
                role: f.get("role"),
                file_name: f.get("file_name"),
                size: f.get("size"),
                sha256: f.get("sha256"),
                signature_sha256: f.get("signature_sha256"),
                verdict: f.get("verdict"),
                satisfied: f.get::<i64, _>("satisfied") != 0,
                reason_vi: f.get("reason_vi"),
                reason_en: f.get("reason_en"),
                applicant_serial: f.get("applicant_serial"),
            }).collect();
            Ok(Some((dossier_row!(r), files)))
        })
    }

    /// The latest dossiers received by these units, newest first.
    pub async fn recent_dossiers(&self, units: &[String], limit: i64) -> Result<Vec<DossierRow>> {
        let mut out = Vec::new();
        for unit in units {
            on_pool!(self, p => {
                let rows = sqlx::query(&format!("SELECT {DOSSIER_COLS} FROM dossiers WHERE unit_code = $1 ORDER BY id DESC LIMIT $2"))
                    .bind(unit).bind(limit).fetch_all(p).await?;
                out.extend(rows.iter().map(|r| dossier_row!(r)));
            });
        }
        out.sort_by_key(|d| std::cmp::Reverse(d.id));
        out.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(out)
    }

    /// Per unit and day from `from` to `to` (inclusive, ISO days): dossiers that needed
    /// signatures and how many of them were fully signed.
    pub async fn dossier_counts(&self, from: &str, to: &str) -> Result<Vec<DossierDayCount>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT unit_code, day, CAST(COUNT(*) AS BIGINT) AS needing, CAST(SUM(fully_signed) AS BIGINT) AS fully \
                FROM dossiers WHERE needs_signatures = 1 AND day >= $1 AND day <= $2 GROUP BY unit_code, day ORDER BY unit_code, day")
                .bind(from).bind(to).fetch_all(p).await?;
            Ok(rows.iter().map(|r| DossierDayCount {
                unit_code: r.get("unit_code"),
                day: r.get("day"),
                needing: r.get("needing"),
                fully_signed: r.get("fully"),
            }).collect())
        })
    }

    /// Who signed with a certificate between `from` and `to` (Unix seconds, `to` excluded), as
    /// (ID number, certificate serial) pairs: remote signatures made through kyso (each
    /// `signature.create` audit row, through its credential) and dossier files the applicant
    /// signed validly.
    pub async fn signers_between(&self, from: i64, to: i64) -> Result<Vec<(String, String)>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT DISTINCT c.id_number, c.cert_serial AS serial FROM audit_log a JOIN credentials c ON c.id = a.subject \
                WHERE a.action = 'signature.create' AND a.at >= $1 AND a.at < $2 \
                UNION SELECT DISTINCT d.applicant_id AS id_number, f.applicant_serial AS serial FROM dossiers d JOIN dossier_files f ON f.dossier_id = d.id \
                WHERE f.applicant_serial IS NOT NULL AND d.at >= $1 AND d.at < $2")
                .bind(from).bind(to).fetch_all(p).await?;
            Ok(rows.iter().map(|r| (r.get("id_number"), r.get("serial"))).collect())
        })
    }
}
