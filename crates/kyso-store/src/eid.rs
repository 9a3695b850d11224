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
        let ids = self.register_keys(commune_code, hamlet_code).await?;
        let is_sqlite = self.is_sqlite();
        let mut out = Vec::new();
        on_pool!(self, p => {
            for chunk in ids.chunks(BULK_CHUNK) {
                let sql = format!("SELECT id_number, level, verified_on FROM eid_levels WHERE id_number IN {}",
                    values_list(is_sqlite, 1, chunk.len()));
                let mut q = sqlx::query(&sql);
                for id in chunk {
                    q = q.bind(format!("{id:012}"));
                }
                out.extend(q.fetch_all(p).await?.iter().map(|r| EidLevelRow {
                    id_number: r.get("id_number"),
                    level: r.get("level"),
                    verified_on: r.get("verified_on"),
                }));
            }
        });
        out.sort_by(|a, b| a.id_number.cmp(&b.id_number));
        Ok(out)
    }

    /// Whether the police list names anyone of this commune's register.
    pub async fn eid_list_covers(&self, commune_code: &str) -> Result<bool> {
        let ids = self.register_keys(commune_code, None).await?;
        let is_sqlite = self.is_sqlite();
        on_pool!(self, p => {
            for chunk in ids.chunks(BULK_CHUNK) {
                let sql = format!("SELECT 1 FROM eid_levels WHERE id_number IN {} LIMIT 1", values_list(is_sqlite, 1, chunk.len()));
                let mut q = sqlx::query(&sql);
                for id in chunk {
                    q = q.bind(format!("{id:012}"));
                }
                if q.fetch_optional(p).await?.is_some() {
                    return Ok(true);
                }
            }
        });
        Ok(false)
    }

    /// Residents of the register with a level-2 account born on or before `born_by`
    /// (`YYYY-MM-DD`: the age line's last birthday) per commune, of one province or of all:
    /// (commune code, count) — the KPI's numerator; communes with none are left out. Read from
    /// the register's ID blocks (ID, where, born) beside the level-2 ID numbers.
    pub async fn eid_level2_adults(&self, province_code: Option<&str>, born_by: &str) -> Result<Vec<(String, i64)>> {
        let born_by = kyso_campaign::register_index::day_number(born_by)
            .ok_or_else(|| StoreError::Conflict(format!("born_by: not a YYYY-MM-DD date: {born_by}")))?;
        let (level2, communes): (Vec<String>, Vec<String>) = on_pool!(self, p => {
            let level2 = sqlx::query_scalar("SELECT id_number FROM eid_levels WHERE level = 2").fetch_all(p).await?;
            let communes = sqlx::query_scalar("SELECT code FROM admin_communes WHERE ($1 IS NULL OR province_code = $1)")
                .bind(province_code).fetch_all(p).await?;
            (level2, communes)
        });
        let level2: std::collections::HashSet<u64> =
            level2.iter().filter_map(|id| kyso_campaign::register_index::id_key(id)).collect();
        if level2.is_empty() {
            return Ok(Vec::new());
        }
        let communes: std::collections::HashSet<String> = communes.into_iter().collect();
        let mut counts: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
        self.scan_register_ids(|entry, commune| {
            if entry.born <= born_by && level2.contains(&entry.id) && communes.contains(commune) {
                *counts.entry(commune.to_owned()).or_default() += 1;
            }
        })
        .await?;
        Ok(counts.into_iter().collect())
    }
}
