//! e-ID levels as the police list them: one row per ID number (level, the day given for it),
//! written in batches of a streamed import and read per commune through the register.

use crate::audit::AuditEvent;
use crate::campaign::{Upserted, BULK_CHUNK};
use crate::{append_audit, lock, now, on_pool, values_list, Result, Store, StoreError};
use sqlx::Row;

/// One person's e-ID level from the police list. `verified_on`: `YYYY-MM-DD`, when the list gives it.
#[derive(Clone, PartialEq, Eq)]
pub struct EidLevelRow {
    pub id_number: String,
    pub level: i64,
    pub verified_on: Option<String>,
}

impl std::fmt::Debug for EidLevelRow {
    // never the clear ID number in a log
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let id = &self.id_number;
        let masked = if id.len() == 12 { format!("{}****{}", &id[..4], &id[8..]) } else { "?".into() };
        f.debug_struct("EidLevelRow")
            .field("id", &masked)
            .field("level", &self.level)
            .field("verified_on", &self.verified_on)
            .finish()
    }
}

impl Store {
    /// Stores a batch of e-ID levels in one transaction with its audit row: new ID numbers
    /// inserted, known ones updated when the list says otherwise, the rest counted unchanged
    /// (a re-import of the same list writes nothing).
    pub async fn upsert_eid_levels_batch(&self, rows: &[EidLevelRow], audit: &AuditEvent) -> Result<Upserted> {
        for r in rows {
            if r.id_number.len() != 12 || !r.id_number.bytes().all(|b| b.is_ascii_digit()) {
                return Err(StoreError::Conflict("eid_levels: an ID number is not 12 digits".into()));
            }
            if !(1..=2).contains(&r.level) || r.verified_on.as_ref().is_some_and(|d| d.len() != 10) {
                return Err(StoreError::Conflict("eid_levels: level 1 or 2, a YYYY-MM-DD date".into()));
            }
        }
        crate::limits::audit(audit)?;
        let is_sqlite = self.is_sqlite();
        let at = now();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let (mut existing, mut written) = (0i64, 0u64);
            for chunk in rows.chunks(BULK_CHUNK) {
                let sql = format!("SELECT COUNT(*) FROM eid_levels WHERE id_number IN {}", values_list(is_sqlite, 1, chunk.len()));
                let mut q = sqlx::query_scalar::<_, i64>(&sql);
                for r in chunk {
                    q = q.bind(&r.id_number);
                }
                existing += q.fetch_one(&mut *tx).await?;
                let sql = format!("INSERT INTO eid_levels (id_number, level, verified_on, updated_at) VALUES {} \
                    ON CONFLICT (id_number) DO UPDATE SET level = excluded.level, verified_on = excluded.verified_on, \
                    updated_at = excluded.updated_at \
                    WHERE eid_levels.level IS DISTINCT FROM excluded.level OR eid_levels.verified_on IS DISTINCT FROM excluded.verified_on",
                    values_list(is_sqlite, chunk.len(), 4));
                let mut q = sqlx::query(&sql);
                for r in chunk {
                    q = q.bind(&r.id_number).bind(r.level).bind(&r.verified_on).bind(at);
                }
                written += q.execute(&mut *tx).await?.rows_affected();
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            let inserted = rows.len() as u64 - existing as u64;
            let updated = written.saturating_sub(inserted).min(existing as u64);
            Ok(Upserted { inserted, updated, unchanged: existing as u64 - updated })
        })
    }

    /// The e-ID levels of a commune's residents (optionally one hamlet's), by ID number.
    pub async fn eid_levels(&self, commune_code: &str, hamlet_code: Option<&str>) -> Result<Vec<EidLevelRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT e.id_number, e.level, e.verified_on FROM eid_levels e \
                JOIN residents r ON r.id_number = e.id_number \
                WHERE r.commune_code = $1 AND ($2 IS NULL OR r.hamlet_code = $2) ORDER BY e.id_number")
                .bind(commune_code).bind(hamlet_code).fetch_all(p).await?;
            Ok(rows.iter().map(|r| EidLevelRow {
                id_number: r.get("id_number"),
                level: r.get("level"),
                verified_on: r.get("verified_on"),
            }).collect())
        })
    }

    /// Whether the police list names anyone of this commune's register (one row looked up).
    pub async fn eid_list_covers(&self, commune_code: &str) -> Result<bool> {
        on_pool!(self, p => {
            let row = sqlx::query("SELECT 1 FROM eid_levels e JOIN residents r ON r.id_number = e.id_number \
                WHERE r.commune_code = $1 LIMIT 1").bind(commune_code).fetch_optional(p).await?;
            Ok(row.is_some())
        })
    }

    /// Residents of the register with a level-2 account born on or before `born_by`
    /// (`YYYY-MM-DD`: the age line's last birthday) per commune, of one province or of all:
    /// (commune code, count) — the KPI's numerator, counted by the database; no ID number leaves it.
    pub async fn eid_level2_adults(&self, province_code: Option<&str>, born_by: &str) -> Result<Vec<(String, i64)>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT r.commune_code, COUNT(*) FROM eid_levels e \
                JOIN residents r ON r.id_number = e.id_number \
                JOIN admin_communes c ON c.code = r.commune_code \
                WHERE e.level = 2 AND r.date_of_birth <= $1 AND ($2 IS NULL OR c.province_code = $2) \
                GROUP BY r.commune_code ORDER BY r.commune_code")
                .bind(born_by).bind(province_code).fetch_all(p).await?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }
}
