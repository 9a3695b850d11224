//! Writing the police register in bulk: the rows an import found new or changed, streamed in
//! batches into one transaction (one audit row, one register generation bump), so that the
//! register is replaced all at once or not at all.
//!
//! SQLite: prepared statements stepped per row on a direct connection; the row triggers that bump
//! the register generation are dropped for the transaction and the generation bumped once, and
//! into an empty register the secondary index is built once at the end instead of row by row.
//! PostgreSQL: the rows are copied (`COPY … FROM STDIN`, text format) into a temporary table and
//! merged into `residents` and `citizens` by two statements.

use super::{append_audit_direct, sqlite_err};
use crate::campaign::ResidentRow;
use crate::{append_audit, lock, now, AuditEvent, Result, Store, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;

/// A register row to write, and whether the importer's register index holds its ID number. The
/// writer does not trust the guess: a "new" row that exists is updated, a "known" one that does
/// not is inserted, and a row equal to the stored one is counted unchanged.
#[derive(Clone, Debug)]
pub struct RegisterWrite {
    pub row: ResidentRow,
    pub known: bool,
}

/// What an import hands the register writer: rows, then the audit event that commits them (a
/// feed that closes without it rolls everything back).
#[derive(Debug)]
pub enum RegisterFeed {
    Rows(Vec<RegisterWrite>),
    Commit(AuditEvent),
}

/// What the register writer did, and the register generation before and after it (equal when
/// nothing was written).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegisterWritten {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub generation_before: i64,
    pub generation_after: i64,
    /// The register was empty: its secondary index was built once at the end.
    pub first_load: bool,
}

/// (province name, commune name) by commune code: written for a new citizen of that commune.
pub type CommuneNames = Arc<HashMap<String, (String, String)>>;

// The row triggers of migration 7, recreated as they were at the end of the bulk transaction.
const TRIGGERS: [(&str, &str); 2] = [
    (
        "residents_generation_insert",
        "CREATE TRIGGER residents_generation_insert AFTER INSERT ON residents \
         BEGIN UPDATE register_state SET generation = generation + 1 WHERE id = 1; END",
    ),
    (
        "residents_generation_update",
        "CREATE TRIGGER residents_generation_update AFTER UPDATE ON residents \
         BEGIN UPDATE register_state SET generation = generation + 1 WHERE id = 1; END",
    ),
];
const HAMLET_INDEX: &str = "CREATE INDEX residents_hamlet ON residents(commune_code, hamlet_code)";
const GENERATION: &str = "SELECT generation FROM register_state WHERE id = 1";

const INSERT_SQLITE: &str = "INSERT INTO residents (id_number, full_name, date_of_birth, sex, commune_code, \
    hamlet_code, household, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id_number) DO NOTHING";
const UPDATE_SQLITE: &str = "UPDATE residents SET full_name = ?2, date_of_birth = ?3, sex = ?4, commune_code = ?5, \
    hamlet_code = ?6, household = ?7, updated_at = ?8 WHERE id_number = ?1 AND (full_name IS NOT ?2 \
    OR date_of_birth IS NOT ?3 OR sex IS NOT ?4 OR commune_code IS NOT ?5 OR hamlet_code IS NOT ?6 OR household IS NOT ?7)";
// As the row-by-row upsert always did: a register name replaces the citizen's, an empty one does not.
const CITIZEN_SQLITE: &str = "INSERT INTO citizens (id_number, full_name, province, commune, eid_level, updated_at) \
    VALUES (?1, ?2, ?3, ?4, 0, ?5) ON CONFLICT (id_number) DO UPDATE SET \
    full_name = CASE WHEN excluded.full_name = '' THEN citizens.full_name ELSE excluded.full_name END, \
    updated_at = excluded.updated_at";

/// The feed closed without its commit (the import failed): nothing was written.
fn stopped() -> StoreError {
    StoreError::Conflict("the register import stopped before its end: nothing written".into())
}

/// Appends `v` to a `COPY … FROM STDIN` text-format row: `\N` for NULL, the format's escapes.
fn copy_field(out: &mut Vec<u8>, v: Option<&str>) {
    match v {
        None => out.extend_from_slice(b"\\N"),
        Some(s) => {
            for &b in s.as_bytes() {
                match b {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    _ => out.push(b),
                }
            }
        }
    }
}

/// One row of the PostgreSQL staging table, in `COPY` text format.
fn copy_row(out: &mut Vec<u8>, w: &RegisterWrite) {
    let r = &w.row;
    let fields = [
        Some(r.id_number.as_str()),
        r.full_name.as_deref(),
        Some(r.date_of_birth.as_str()),
        Some(r.sex.as_str()),
        Some(r.commune_code.as_str()),
        Some(r.hamlet_code.as_str()),
        r.household.as_deref(),
    ];
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        copy_field(out, f);
    }
    out.push(b'\n');
}

impl Store {
    /// Writes the register rows `feed` brings, in one transaction committed with the audit event
    /// that ends the feed; returns what was written. A row is checked against the store's limits
    /// first (an over-long value fails the whole import: the importer rejects those rows itself).
    pub async fn write_register(
        &self,
        feed: mpsc::Receiver<RegisterFeed>,
        names: CommuneNames,
    ) -> Result<RegisterWritten> {
        match self {
            Store::Sqlite(p) => {
                let key = self.audit_key()?.clone();
                let mut c = super::direct(p)?;
                tokio::task::spawn_blocking(move || write_sqlite(&mut c, feed, &names, &key))
                    .await
                    .map_err(|e| StoreError::Conflict(format!("bulk task failed: {e}")))?
            }
            Store::Postgres(p) => self.write_register_pg(p, feed).await,
        }
    }

    async fn write_register_pg(
        &self,
        p: &sqlx::PgPool,
        mut feed: mpsc::Receiver<RegisterFeed>,
    ) -> Result<RegisterWritten> {
        // Nothing is locked until the first rows (or the commit) arrive.
        let mut first = Some(feed.recv().await.ok_or_else(stopped)?);
        let at = now();
        let mut tx = p.begin().await?;
        lock!(tx, false);
        // One importer at a time, and no other register write between the count and the merge.
        sqlx::query("LOCK TABLE residents IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
        let generation_before: i64 = sqlx::query_scalar(GENERATION).fetch_one(&mut *tx).await?;
        let first_load: bool =
            sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM residents)").fetch_one(&mut *tx).await?;
        sqlx::query(
            "CREATE TEMPORARY TABLE register_load (id_number TEXT NOT NULL, full_name TEXT, date_of_birth TEXT NOT NULL, \
             sex TEXT NOT NULL, commune_code TEXT NOT NULL, hamlet_code TEXT NOT NULL, household TEXT) ON COMMIT DROP",
        )
        .execute(&mut *tx)
        .await?;
        let mut given = 0u64;
        let audit = {
            let mut copy = Some(tx.copy_in_raw("COPY register_load FROM STDIN").await?);
            let mut buf = Vec::with_capacity(1 << 20);
            let audit = loop {
                let next = match first.take() {
                    Some(f) => Some(f),
                    None => feed.recv().await,
                };
                match next {
                    Some(RegisterFeed::Rows(rows)) => {
                        for w in &rows {
                            crate::limits::resident(&w.row)?;
                            copy_row(&mut buf, w);
                        }
                        given += rows.len() as u64;
                        if buf.len() >= 1 << 20 {
                            if let Some(c) = copy.as_mut() {
                                c.send(std::mem::take(&mut buf)).await?;
                                buf.reserve(1 << 20);
                            }
                        }
                    }
                    Some(RegisterFeed::Commit(audit)) => break Some(audit),
                    None => break None,
                }
            };
            let mut copy = copy.take().ok_or_else(|| StoreError::Conflict("register copy lost".into()))?;
            let Some(audit) = audit else {
                copy.abort("the import stopped").await.ok();
                return Err(stopped());
            };
            if !buf.is_empty() {
                copy.send(buf).await?;
            }
            copy.finish().await?;
            audit
        };
        crate::limits::audit(&audit)?;
        let (mut inserted, mut updated) = (0i64, 0i64);
        // Rows as they are stored are not written: a statement that writes nothing would still
        // fire the generation trigger (statement-level), and the index would be rebuilt for nothing.
        let mut to_write = given;
        if given > 0 && !first_load {
            let same = sqlx::query(
                "DELETE FROM register_load l USING residents r WHERE r.id_number = l.id_number \
                 AND r.full_name IS NOT DISTINCT FROM l.full_name AND r.date_of_birth = l.date_of_birth AND r.sex = l.sex \
                 AND r.commune_code = l.commune_code AND r.hamlet_code = l.hamlet_code \
                 AND r.household IS NOT DISTINCT FROM l.household",
            )
            .execute(&mut *tx)
            .await?
            .rows_affected();
            to_write = given.saturating_sub(same);
        }
        if to_write > 0 {
            // Into an empty register the hamlet index is built once and the foreign keys checked
            // by one join at the end, instead of an index insert and a trigger per row.
            let mut foreign_keys: Vec<(String, String)> = Vec::new();
            if first_load {
                sqlx::query("DROP INDEX residents_hamlet").execute(&mut *tx).await?;
                foreign_keys = sqlx::query_as(
                    "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
                     WHERE conrelid = 'residents'::regclass AND contype = 'f' ORDER BY conname",
                )
                .fetch_all(&mut *tx)
                .await?;
                for (name, _) in &foreign_keys {
                    sqlx::query(&format!("ALTER TABLE residents DROP CONSTRAINT \"{name}\"")).execute(&mut *tx).await?;
                }
            }
            // New and changed rows into `residents` (unchanged ones are not written), and those
            // into `citizens`; `xmax = 0` tells an inserted row from an updated one.
            (inserted, updated) = sqlx::query_as(
                "WITH written AS (
                   INSERT INTO residents (id_number, full_name, date_of_birth, sex, commune_code, hamlet_code, household, updated_at)
                   SELECT id_number, full_name, date_of_birth, sex, commune_code, hamlet_code, household, $1 FROM register_load
                   ON CONFLICT (id_number) DO UPDATE SET full_name = excluded.full_name, date_of_birth = excluded.date_of_birth,
                     sex = excluded.sex, commune_code = excluded.commune_code, hamlet_code = excluded.hamlet_code,
                     household = excluded.household, updated_at = excluded.updated_at
                   WHERE residents.full_name IS DISTINCT FROM excluded.full_name OR residents.date_of_birth IS DISTINCT FROM excluded.date_of_birth
                     OR residents.sex IS DISTINCT FROM excluded.sex OR residents.commune_code IS DISTINCT FROM excluded.commune_code
                     OR residents.hamlet_code IS DISTINCT FROM excluded.hamlet_code OR residents.household IS DISTINCT FROM excluded.household
                   RETURNING id_number, full_name, commune_code, (xmax = 0) AS inserted),
                 citizens_written AS (
                   INSERT INTO citizens (id_number, full_name, province, commune, eid_level, updated_at)
                   SELECT w.id_number, COALESCE(w.full_name, ''), COALESCE(ap.name, ''), COALESCE(ac.name, ''), 0, $1
                   FROM written w LEFT JOIN admin_communes ac ON ac.code = w.commune_code
                   LEFT JOIN admin_provinces ap ON ap.code = ac.province_code
                   ON CONFLICT (id_number) DO UPDATE SET
                     full_name = CASE WHEN excluded.full_name = '' THEN citizens.full_name ELSE excluded.full_name END,
                     updated_at = excluded.updated_at)
                 SELECT COUNT(*) FILTER (WHERE inserted), COUNT(*) FILTER (WHERE NOT inserted) FROM written",
            )
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            if first_load {
                for (name, definition) in &foreign_keys {
                    sqlx::query(&format!("ALTER TABLE residents ADD CONSTRAINT \"{name}\" {definition}"))
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query(HAMLET_INDEX).execute(&mut *tx).await?;
            }
        }
        append_audit!(self, tx, &audit);
        let generation_after: i64 = sqlx::query_scalar(GENERATION).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        let (inserted, updated) = (inserted as u64, updated as u64);
        Ok(RegisterWritten {
            inserted,
            updated,
            unchanged: given.saturating_sub(inserted + updated),
            generation_before,
            generation_after,
            first_load,
        })
    }
}

fn write_sqlite(
    c: &mut rusqlite::Connection,
    mut feed: mpsc::Receiver<RegisterFeed>,
    names: &HashMap<String, (String, String)>,
    key: &crate::AuditKey,
) -> Result<RegisterWritten> {
    // Nothing is locked until the first rows (or the commit) arrive.
    let mut first = Some(feed.blocking_recv().ok_or_else(stopped)?);
    let at = now();
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(sqlite_err)?;
    tx.execute("UPDATE settings SET value = value WHERE name = '-'", []).map_err(sqlite_err)?;
    let generation_before: i64 = tx.query_row(GENERATION, [], |r| r.get(0)).map_err(sqlite_err)?;
    let first_load: bool =
        tx.query_row("SELECT NOT EXISTS (SELECT 1 FROM residents)", [], |r| r.get(0)).map_err(sqlite_err)?;
    // Triggers bump the generation once per row; this transaction bumps it once.
    for (name, _) in TRIGGERS {
        tx.execute_batch(&format!("DROP TRIGGER {name}")).map_err(sqlite_err)?;
    }
    if first_load {
        tx.execute_batch("DROP INDEX residents_hamlet").map_err(sqlite_err)?;
    }
    let mut out = RegisterWritten { generation_before, first_load, ..RegisterWritten::default() };
    let audit = {
        let mut insert = tx.prepare(INSERT_SQLITE).map_err(sqlite_err)?;
        let mut update = tx.prepare(UPDATE_SQLITE).map_err(sqlite_err)?;
        let mut citizen = tx.prepare(CITIZEN_SQLITE).map_err(sqlite_err)?;
        loop {
            let next = match first.take() {
                Some(f) => Some(f),
                None => feed.blocking_recv(),
            };
            let rows = match next {
                Some(RegisterFeed::Rows(rows)) => rows,
                Some(RegisterFeed::Commit(audit)) => break audit,
                // dropping the transaction rolls back, the dropped triggers and index included
                None => return Err(stopped()),
            };
            for w in &rows {
                let r = &w.row;
                crate::limits::resident(r)?;
                let values = rusqlite::params![
                    r.id_number,
                    r.full_name,
                    r.date_of_birth,
                    r.sex,
                    r.commune_code,
                    r.hamlet_code,
                    r.household,
                    at
                ];
                let (first, second) = if w.known { (&mut update, &mut insert) } else { (&mut insert, &mut update) };
                let wrote = if first.execute(values).map_err(sqlite_err)? == 1 {
                    Some(!w.known)
                } else if second.execute(values).map_err(sqlite_err)? == 1 {
                    Some(w.known)
                } else {
                    None
                };
                match wrote {
                    Some(true) => out.inserted += 1,
                    Some(false) => out.updated += 1,
                    None => {
                        out.unchanged += 1;
                        continue;
                    }
                }
                let (province, commune) =
                    names.get(&r.commune_code).map_or(("", ""), |(p, c)| (p.as_str(), c.as_str()));
                citizen
                    .execute(rusqlite::params![
                        r.id_number,
                        r.full_name.as_deref().unwrap_or(""),
                        province,
                        commune,
                        at
                    ])
                    .map_err(sqlite_err)?;
            }
        }
    };
    crate::limits::audit(&audit)?;
    if first_load {
        tx.execute_batch(HAMLET_INDEX).map_err(sqlite_err)?;
    }
    for (_, create) in TRIGGERS {
        tx.execute_batch(create).map_err(sqlite_err)?;
    }
    if out.inserted + out.updated > 0 {
        tx.execute("UPDATE register_state SET generation = generation + 1 WHERE id = 1", []).map_err(sqlite_err)?;
    }
    out.generation_after = tx.query_row(GENERATION, [], |r| r.get(0)).map_err(sqlite_err)?;
    append_audit_direct(&tx, key, &audit)?;
    tx.commit().map_err(sqlite_err)?;
    Ok(out)
}
