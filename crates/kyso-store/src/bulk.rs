//! Bulk paths for national-scale campaign data: millions of provider-list rows in one
//! transaction, the register read once into its column index, every commune's snapshot written
//! at once.
//!
//! On SQLite these talk to the database file directly (rusqlite, on a blocking thread): one
//! prepared statement stepped per row, no per-statement hop to a driver thread and no copy of
//! every bound value, which is what bounds sqlx at millions of rows. The sqlx pool and these
//! connections share the file under SQLite's own locking (WAL; writers serialise, readers do not
//! block). On PostgreSQL the same operations go through sqlx.

use crate::campaign::BULK_CHUNK;
use crate::{append_audit, audit, lock, now, on_pool, values_list, AuditEvent, Result, Store, StoreError};
use sqlx::Row;
use std::path::PathBuf;
use std::time::Duration;

/// One provider-list certificate as the bulk import stores it: text fields in fixed arrays, so
/// millions of rows cost no allocation. Dates are ISO `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BulkProviderCert {
    pub id_number: [u8; 12],
    /// Index into the provider names passed alongside.
    pub provider: u16,
    pub issued_on: [u8; 10],
    pub expires_on: Option<[u8; 10]>,
    pub ended_on: Option<[u8; 10]>,
    pub status: &'static str,
}

/// What a bulk upsert did: new certificates, known ones the list changed, known ones unchanged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BulkUpserted {
    pub inserted: u64,
    pub changed: u64,
    pub unchanged: u64,
}

/// The upsert of one provider certificate: a later expiry replaces, the earliest end stays, and a
/// row the list does not change is not written at all (so a re-import writes nothing).
const UPSERT_TAIL: &str = "ON CONFLICT (id_number, provider, issued_on) DO UPDATE SET \
    expires_on = COALESCE(excluded.expires_on, provider_certificates.expires_on), \
    ended_on = CASE WHEN excluded.ended_on IS NULL THEN provider_certificates.ended_on \
        WHEN provider_certificates.ended_on IS NULL OR excluded.ended_on < provider_certificates.ended_on THEN excluded.ended_on \
        ELSE provider_certificates.ended_on END, \
    status = excluded.status, source = excluded.source, updated_at = excluded.updated_at \
    WHERE provider_certificates.status IS DISTINCT FROM excluded.status \
       OR (excluded.expires_on IS NOT NULL AND provider_certificates.expires_on IS DISTINCT FROM excluded.expires_on) \
       OR (excluded.ended_on IS NOT NULL AND (provider_certificates.ended_on IS NULL OR excluded.ended_on < provider_certificates.ended_on))";
/// [`UPSERT_TAIL`]'s update on its own, for a key known to be there (`?1`–`?8` as in the insert).
const UPDATE_KNOWN: &str = "UPDATE provider_certificates SET expires_on = COALESCE(?4, expires_on), \
    ended_on = CASE WHEN ?5 IS NULL THEN ended_on WHEN ended_on IS NULL OR ?5 < ended_on THEN ?5 ELSE ended_on END, \
    status = ?6, source = ?7, updated_at = ?8 \
    WHERE id_number = ?1 AND provider = ?2 AND issued_on = ?3 AND (status IS DISTINCT FROM ?6 \
       OR (?4 IS NOT NULL AND expires_on IS DISTINCT FROM ?4) OR (?5 IS NOT NULL AND (ended_on IS NULL OR ?5 < ended_on)))";
const INSERT_HEAD: &str =
    "INSERT INTO provider_certificates (id_number, provider, issued_on, expires_on, ended_on, status, \
    source, first_seen, updated_at) VALUES ";

/// Rows per multi-row insert statement (8 parameters each, under SQLite's 32,766).
const INSERT_BATCH: usize = 64;

/// Register index parts: large enough for few rows, small enough for any driver's buffers.
const INDEX_PART: usize = 32 << 20;

fn sqlite_err(e: rusqlite::Error) -> StoreError {
    StoreError::Db(sqlx::Error::Io(std::io::Error::other(e)))
}

fn text(b: &[u8]) -> Result<&str> {
    std::str::from_utf8(b).map_err(|e| StoreError::Conflict(format!("not UTF-8: {e}")))
}

fn opt_text(d: &Option<[u8; 10]>) -> Result<Option<&str>> {
    d.as_ref().map(|d| text(d)).transpose()
}

/// A 12-digit ID number as a number (leading zeros dropped); `None` for anything else.
fn id_key(id: &str) -> Option<u64> {
    let b = id.as_bytes();
    (b.len() == 12 && b.iter().all(u8::is_ascii_digit)).then(|| b.iter().fold(0, |n, c| n * 10 + u64::from(c - b'0')))
}

/// A direct connection to the SQLite file of `pool`, with the pool's durability settings.
fn direct(pool: &sqlx::SqlitePool) -> Result<rusqlite::Connection> {
    let path: PathBuf = pool.connect_options().get_filename().to_owned();
    let c = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_err)?;
    c.busy_timeout(Duration::from_secs(30)).map_err(sqlite_err)?;
    // WAL is a property of the file (the pool set it); FULL: a commit is durable when it returns.
    // A 256 MiB page cache: bulk writes and scans touch hundreds of thousands of pages.
    c.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -262144;")
        .map_err(sqlite_err)?;
    Ok(c)
}

/// Runs `f` on a direct connection on the blocking pool.
async fn blocking<T: Send + 'static>(
    pool: &sqlx::SqlitePool,
    f: impl FnOnce(&mut rusqlite::Connection) -> Result<T> + Send + 'static,
) -> Result<T> {
    let mut c = direct(pool)?;
    tokio::task::spawn_blocking(move || f(&mut c))
        .await
        .map_err(|e| StoreError::Conflict(format!("bulk task failed: {e}")))?
}

/// [`crate::append_audit`] on a direct connection (inside a transaction holding the audit lock).
fn append_audit_direct(c: &rusqlite::Connection, event: &AuditEvent) -> Result<()> {
    let head: Option<(i64, Vec<u8>)> = c
        .query_row("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .map(Some)
        .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })
        .map_err(sqlite_err)?;
    let (seq, prev) = match head {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, audit::GENESIS.to_vec()),
    };
    let at = now();
    let hash = audit::row_hash(&prev, seq, at, event);
    c.execute(
        "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
        rusqlite::params![seq, at, event.actor, event.action, event.subject, event.detail, prev, hash],
    )
    .map_err(sqlite_err)?;
    Ok(())
}

impl Store {
    /// Bumped by every write to the register (insert, update, delete).
    pub async fn register_generation(&self) -> Result<i64> {
        on_pool!(self, p => Ok(sqlx::query_scalar("SELECT generation FROM register_state WHERE id = 1").fetch_one(p).await?))
    }

    /// The stored register index, if it was built from the register as it is now.
    pub async fn register_index(&self) -> Result<Option<Vec<u8>>> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let generation: i64 = sqlx::query_scalar("SELECT generation FROM register_state WHERE id = 1").fetch_one(&mut *tx).await?;
            let parts = sqlx::query("SELECT generation, data FROM register_index ORDER BY part").fetch_all(&mut *tx).await?;
            tx.commit().await?;
            if parts.is_empty() || parts.iter().any(|r| r.get::<i64, _>("generation") != generation) {
                return Ok(None);
            }
            let mut out = Vec::with_capacity(parts.iter().map(|r| r.get::<&[u8], _>("data").len()).sum());
            for r in &parts {
                out.extend_from_slice(r.get::<&[u8], _>("data"));
            }
            Ok(Some(out))
        })
    }

    /// Stores the register index built from `generation`, unless the register changed since
    /// (then it is stale on arrival and the next reader rebuilds it). Returns whether it was kept.
    pub async fn save_register_index(&self, generation: i64, bytes: &[u8]) -> Result<bool> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            // Take the write lock first, so the generation cannot move before the commit.
            sqlx::query("UPDATE register_state SET generation = generation WHERE id = 1").execute(&mut *tx).await?;
            let now_gen: i64 = sqlx::query_scalar("SELECT generation FROM register_state WHERE id = 1").fetch_one(&mut *tx).await?;
            if now_gen != generation {
                return Ok(false);
            }
            sqlx::query("DELETE FROM register_index").execute(&mut *tx).await?;
            for (i, part) in bytes.chunks(INDEX_PART).enumerate() {
                sqlx::query("INSERT INTO register_index (part, generation, data) VALUES ($1, $2, $3)")
                    .bind(i as i64).bind(generation).bind(part).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Calls `f(state, id_number, commune_code, date_of_birth)` for every resident, in no
    /// particular order, and returns the register generation of that same snapshot with `state`.
    pub async fn scan_register<S, F>(&self, mut state: S, f: F) -> Result<(i64, S)>
    where
        S: Send + 'static,
        F: Fn(&mut S, &str, &str, &str) + Send + 'static,
    {
        match self {
            Store::Sqlite(p) => {
                blocking(p, move |c| {
                    let tx = c.transaction().map_err(sqlite_err)?;
                    let generation: i64 = tx
                        .query_row("SELECT generation FROM register_state WHERE id = 1", [], |r| r.get(0))
                        .map_err(sqlite_err)?;
                    {
                        let mut st = tx
                            .prepare("SELECT id_number, commune_code, date_of_birth FROM residents")
                            .map_err(sqlite_err)?;
                        let mut rows = st.query([]).map_err(sqlite_err)?;
                        while let Some(r) = rows.next().map_err(sqlite_err)? {
                            let s = |i| r.get_ref(i).and_then(|v| v.as_str().map_err(Into::into));
                            f(
                                &mut state,
                                s(0).map_err(sqlite_err)?,
                                s(1).map_err(sqlite_err)?,
                                s(2).map_err(sqlite_err)?,
                            );
                        }
                    }
                    tx.commit().map_err(sqlite_err)?;
                    Ok((generation, state))
                })
                .await
            }
            Store::Postgres(p) => {
                use futures_util::TryStreamExt;
                let mut tx = p.begin().await?;
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(&mut *tx).await?;
                let generation: i64 = sqlx::query_scalar("SELECT generation FROM register_state WHERE id = 1")
                    .fetch_one(&mut *tx)
                    .await?;
                {
                    let mut rows =
                        sqlx::query("SELECT id_number, commune_code, date_of_birth FROM residents").fetch(&mut *tx);
                    while let Some(r) = rows.try_next().await? {
                        f(&mut state, r.get("id_number"), r.get("commune_code"), r.get("date_of_birth"));
                    }
                }
                tx.commit().await?;
                Ok((generation, state))
            }
        }
    }

    /// The ID numbers (as numbers, sorted, each once) with a certificate valid on `date`
    /// (`YYYY-MM-DD`), from both sources: kyso's own citizen certificates (valid at some instant
    /// of the day: issued before its end, not expired before its end, not revoked before it) and
    /// provider lists (issued on or before the day, its expiry and end day, when given, after it).
    /// `day_end`: the Unix instant at which the day after `date` starts in Vietnam.
    pub async fn valid_holder_ids(&self, date: &str, day_end: i64) -> Result<Vec<u64>> {
        const LISTED: &str = "SELECT id_number FROM provider_certificates WHERE issued_on <= $1 \
            AND (expires_on IS NULL OR expires_on > $1) AND (ended_on IS NULL OR ended_on > $1)";
        const ISSUED: &str = "SELECT id_number FROM certificates WHERE profile = 'citizen' AND id_number IS NOT NULL \
            AND not_before < $1 AND not_after + 1 >= $1 AND (revoked_at IS NULL OR revoked_at >= $1)";
        let mut ids = match self {
            Store::Sqlite(p) => {
                let date = date.to_owned();
                blocking(p, move |c| {
                    let tx = c.transaction().map_err(sqlite_err)?;
                    let mut ids = Vec::new();
                    for (sql, arg) in [(LISTED, rusqlite::types::Value::Text(date)), (ISSUED, day_end.into())] {
                        let mut st = tx.prepare(&sql.replace("$1", "?1")).map_err(sqlite_err)?;
                        let mut rows = st.query([arg]).map_err(sqlite_err)?;
                        while let Some(r) = rows.next().map_err(sqlite_err)? {
                            if let Some(k) = r.get_ref(0).ok().and_then(|v| v.as_str().ok()).and_then(id_key) {
                                ids.push(k);
                            }
                        }
                    }
                    drop(tx);
                    Ok(ids)
                })
                .await?
            }
            Store::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(&mut *tx).await?;
                let listed: Vec<String> = sqlx::query_scalar(LISTED).bind(date).fetch_all(&mut *tx).await?;
                let issued: Vec<String> = sqlx::query_scalar(ISSUED).bind(day_end).fetch_all(&mut *tx).await?;
                tx.commit().await?;
                listed.iter().chain(&issued).filter_map(|s| id_key(s)).collect()
            }
        };
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// Stores provider-list certificates in one transaction with one audit row: new ones
    /// inserted, known ones updated only where the list says something new (see
    /// [`UPSERT_TAIL`]). `providers[c.provider]` names each row's provider; `source` is the list.
    /// Rows in key order (ID number, provider, issue date) write fastest.
    pub async fn bulk_upsert_provider_certificates(
        &self,
        rows: std::sync::Arc<Vec<BulkProviderCert>>,
        providers: std::sync::Arc<Vec<String>>,
        source: &str,
        audit: &AuditEvent,
    ) -> Result<BulkUpserted> {
        let at = now();
        for r in rows.iter() {
            if providers.get(usize::from(r.provider)).is_none() {
                return Err(StoreError::Conflict(format!("provider index {} out of range", r.provider)));
            }
        }
        match self {
            Store::Sqlite(p) => {
                let (source, audit) = (source.to_owned(), audit.clone());
                blocking(p, move |c| {
                    let tx =
                        c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(sqlite_err)?;
                    tx.execute("UPDATE settings SET value = value WHERE name = '-'", []).map_err(sqlite_err)?;
                    let started = std::time::Instant::now();
                    let (mut inserted, mut changed) = (0u64, 0u64);
                    {
                        // New certificates go in as multi-row inserts (one statement step per
                        // batch); a batch where some key was already there then runs the update
                        // for each of its rows, which writes only where the list says something
                        // new (rows the batch just inserted equal the list: left alone).
                        let insert = |n: usize| {
                            let values: Vec<String> = (0..n)
                                .map(|i| {
                                    let k = i * 8;
                                    let p: Vec<String> = (1..=8).chain([8]).map(|j| format!("?{}", k + j)).collect();
                                    format!("({})", p.join(","))
                                })
                                .collect();
                            format!("{INSERT_HEAD}{} ON CONFLICT DO NOTHING", values.join(","))
                        };
                        let bind = |st: &mut rusqlite::Statement, base: usize, r: &BulkProviderCert| -> Result<()> {
                            let e = sqlite_err;
                            st.raw_bind_parameter(base + 1, text(&r.id_number)?).map_err(e)?;
                            st.raw_bind_parameter(base + 2, providers[usize::from(r.provider)].as_str()).map_err(e)?;
                            st.raw_bind_parameter(base + 3, text(&r.issued_on)?).map_err(e)?;
                            st.raw_bind_parameter(base + 4, opt_text(&r.expires_on)?).map_err(e)?;
                            st.raw_bind_parameter(base + 5, opt_text(&r.ended_on)?).map_err(e)?;
                            st.raw_bind_parameter(base + 6, r.status).map_err(e)?;
                            st.raw_bind_parameter(base + 7, source.as_str()).map_err(e)?;
                            st.raw_bind_parameter(base + 8, at).map_err(e)?;
                            Ok(())
                        };
                        let mut full = tx.prepare(&insert(INSERT_BATCH)).map_err(sqlite_err)?;
                        let mut upd = tx.prepare(UPDATE_KNOWN).map_err(sqlite_err)?;
                        for batch in rows.chunks(INSERT_BATCH) {
                            let mut tail;
                            let st = if batch.len() == INSERT_BATCH {
                                &mut full
                            } else {
                                tail = tx.prepare(&insert(batch.len())).map_err(sqlite_err)?;
                                &mut tail
                            };
                            for (i, r) in batch.iter().enumerate() {
                                bind(st, i * 8, r)?;
                            }
                            let n = st.raw_execute().map_err(sqlite_err)? as u64;
                            inserted += n;
                            if n < batch.len() as u64 {
                                for r in batch {
                                    bind(&mut upd, 0, r)?;
                                    changed += upd.raw_execute().map_err(sqlite_err)? as u64;
                                }
                            }
                        }
                    }
                    let written = started.elapsed();
                    append_audit_direct(&tx, &audit)?;
                    tx.commit().map_err(sqlite_err)?;
                    tracing::debug!(
                        rows = rows.len(),
                        written_s = written.as_secs_f64(),
                        committed_s = started.elapsed().as_secs_f64(),
                        "provider certificates stored"
                    );
                    Ok(BulkUpserted { inserted, changed, unchanged: rows.len() as u64 - inserted - changed })
                })
                .await
            }
            Store::Postgres(p) => {
                let mut tx = p.begin().await?;
                lock!(tx, false);
                let before: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM provider_certificates").fetch_one(&mut *tx).await?;
                let mut touched = 0u64;
                for chunk in rows.chunks(BULK_CHUNK) {
                    let sql = format!("{INSERT_HEAD}{} {UPSERT_TAIL}", values_list(false, chunk.len(), 9));
                    let mut q = sqlx::query(&sql);
                    for r in chunk {
                        q = q
                            .bind(text(&r.id_number)?.to_owned())
                            .bind(providers[usize::from(r.provider)].clone())
                            .bind(text(&r.issued_on)?.to_owned())
                            .bind(opt_text(&r.expires_on)?.map(str::to_owned))
                            .bind(opt_text(&r.ended_on)?.map(str::to_owned))
                            .bind(r.status)
                            .bind(source)
                            .bind(at)
                            .bind(at);
                    }
                    touched += q.execute(&mut *tx).await?.rows_affected();
                }
                let after: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM provider_certificates").fetch_one(&mut *tx).await?;
                append_audit!(tx, audit);
                tx.commit().await?;
                let inserted = (after - before).max(0) as u64;
                let changed = touched.saturating_sub(inserted);
                Ok(BulkUpserted { inserted, changed, unchanged: rows.len() as u64 - inserted - changed })
            }
        }
    }

    /// Stores every commune's holders and adults on `date` as that day's snapshots (replacing
    /// earlier ones of the day), in one transaction. Returns the rows written.
    pub async fn save_adoption_snapshots(&self, date: &str, communes: &[(String, i64, i64)]) -> Result<u64> {
        let is_sqlite = self.is_sqlite();
        let at = now();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut n = 0;
            for chunk in communes.chunks(BULK_CHUNK) {
                let sql = format!("INSERT INTO adoption_snapshots (commune_code, date, holders, adults, taken_at) VALUES {} \
                    ON CONFLICT (commune_code, date) DO UPDATE SET holders = excluded.holders, adults = excluded.adults, \
                    taken_at = excluded.taken_at", values_list(is_sqlite, chunk.len(), 5));
                let mut q = sqlx::query(&sql);
                for (code, holders, adults) in chunk {
                    q = q.bind(code).bind(date).bind(holders).bind(adults).bind(at);
                }
                n += q.execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            Ok(n)
        })
    }
}
