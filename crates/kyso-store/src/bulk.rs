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
use crate::listed::{
    cut, decode_block, encode_block, encode_block_into, for_each_record, groups, merge, records_of, sort_within_ids,
    Listed, Merged,
};
use crate::{append_audit, audit, lock, now, on_pool, values_list, AuditEvent, AuditKey, Result, Store, StoreError};
use kyso_campaign::provider_list::STATUSES;
use kyso_campaign::register_index::{day_number, id_key};
use sqlx::Row;
use std::path::PathBuf;
use std::time::Duration;

/// A provider-list certificate as a bulk import hands it over: the campaign core's 40-byte form
/// (ID number as a number, provider as an index into the names passed alongside, days since
/// 1970-01-01, status as an index of [`kyso_campaign::provider_list::STATUSES`]).
pub use kyso_campaign::provider_list::CompactCert as BulkProviderCert;

/// What a bulk upsert did: new certificates, known ones the list changed, known ones unchanged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BulkUpserted {
    pub inserted: u64,
    pub changed: u64,
    pub unchanged: u64,
}

/// A row of migration 7's `provider_certificates`: ID number, provider, issued, expires, ended,
/// status, source, first seen.
type V7Row = (String, String, String, Option<String>, Option<String>, String, String, i64);

/// Where the ID numbers of a [`Store::listed_of`] come from: the database finds their blocks.
#[derive(Clone, Copy, Debug)]
pub(crate) enum BlocksOf<'a> {
    /// The residents of a commune, or of one hamlet of it.
    Residents(&'a str, Option<&'a str>),
    /// The listed staff of a unit, or of every unit.
    Staff(Option<&'a str>),
    /// One ID number.
    Id(i64),
}

/// Register index parts: large enough for few rows, small enough for any driver's buffers.
const INDEX_PART: usize = 32 << 20;

fn sqlite_err(e: rusqlite::Error) -> StoreError {
    StoreError::Db(sqlx::Error::Io(std::io::Error::other(e)))
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
fn append_audit_direct(c: &rusqlite::Connection, key: &AuditKey, event: &AuditEvent) -> Result<()> {
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
    let hash = key.row_mac(&prev, seq, at, event).to_vec();
    c.execute(
        "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
        rusqlite::params![seq, at, event.actor, event.action, event.subject, event.detail, prev, hash],
    )
    .map_err(sqlite_err)?;
    Ok(())
}

/// Records per conversion run when a list fills an empty range (bounded memory however long the list).
const RUN: usize = 64 * crate::listed::BLOCK;

/// Part of a list (sorted by ID number) as stored records, with the store's provider codes and
/// this import, in key order (a key given twice keeps its first row), into `out`.
fn listed_run(rows: &[BulkProviderCert], codes: &[u16], import: u32, out: &mut Vec<Listed>) {
    out.clear();
    out.extend(rows.iter().map(|c| Listed {
        id: c.id,
        provider: codes[usize::from(c.provider)],
        status: c.status,
        issued: c.issued,
        expires: c.expires,
        ended: c.ended,
        first_import: import,
        last_import: import,
    }));
    sort_within_ids(out);
    out.dedup_by(|later, earlier| later.key() == earlier.key());
}

/// Splits rows sorted by ID number into runs of about `n`, never splitting one ID.
fn id_runs(rows: &[BulkProviderCert], n: usize) -> impl Iterator<Item = &[BulkProviderCert]> {
    let mut rest = rows;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = n.min(rest.len());
        while end < rest.len() && rest[end].id == rest[end - 1].id {
            end += 1;
        }
        let (run, tail) = rest.split_at(end);
        rest = tail;
        Some(run)
    })
}

/// The list in ID-number order (as the campaign core hands it over; sorted here otherwise).
fn by_id(rows: &[BulkProviderCert]) -> std::borrow::Cow<'_, [BulkProviderCert]> {
    if rows.windows(2).all(|w| w[0].id <= w[1].id) {
        std::borrow::Cow::Borrowed(rows)
    } else {
        let mut sorted = rows.to_vec();
        sorted.sort_by_key(|c| c.id);
        std::borrow::Cow::Owned(sorted)
    }
}

/// The store's code for each provider name (new names get the next free code).
fn provider_codes_sqlite(tx: &rusqlite::Transaction, names: &[String]) -> Result<Vec<u16>> {
    let mut codes = Vec::with_capacity(names.len());
    for name in names {
        let code: i64 = tx
            .query_row(PROVIDER_CODE, [name], |r| r.get(0))
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => tx.query_row(NEW_PROVIDER, [name], |r| r.get(0)),
                e => Err(e),
            })
            .map_err(sqlite_err)?;
        codes.push(code_u16(code)?);
    }
    Ok(codes)
}

async fn provider_codes_pg(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, names: &[String]) -> Result<Vec<u16>> {
    let mut codes = Vec::with_capacity(names.len());
    for name in names {
        let code: Option<i32> = sqlx::query_scalar(PROVIDER_CODE).bind(name).fetch_optional(&mut **tx).await?;
        let code = match code {
            Some(c) => c,
            None => sqlx::query_scalar(NEW_PROVIDER).bind(name).fetch_one(&mut **tx).await?,
        };
        codes.push(code_u16(i64::from(code))?);
    }
    Ok(codes)
}

const PROVIDER_CODE: &str = "SELECT code FROM list_providers WHERE name = $1";
const NEW_PROVIDER: &str =
    "INSERT INTO list_providers (code, name) SELECT COALESCE(MAX(code) + 1, 0), $1 FROM list_providers RETURNING code";
const NEW_IMPORT: &str = "INSERT INTO provider_list_imports (id, source, imported_at) \
    SELECT COALESCE(MAX(id), 0) + 1, $1, $2 FROM provider_list_imports RETURNING id";

fn code_u16(code: i64) -> Result<u16> {
    u16::try_from(code).map_err(|_| StoreError::Conflict(format!("provider code {code} out of range")))
}

fn import_u32(id: i64) -> Result<u32> {
    u32::try_from(id).map_err(|_| StoreError::Conflict(format!("provider list import {id} out of range")))
}

fn new_import_sqlite(tx: &rusqlite::Transaction, source: &str, at: i64) -> Result<u32> {
    let sql = NEW_IMPORT.replace("$1", "?1").replace("$2", "?2");
    import_u32(tx.query_row(&sql, rusqlite::params![source, at], |r| r.get(0)).map_err(sqlite_err)?)
}

async fn new_import_pg(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, source: &str, at: i64) -> Result<u32> {
    import_u32(sqlx::query_scalar(NEW_IMPORT).bind(source).bind(at).fetch_one(&mut **tx).await?)
}

/// Provider names by code, from `(code, name)` rows (a code with no name, which the schema does
/// not allow, reads `?`).
fn names_by_code(rows: Vec<(i64, String)>) -> Vec<String> {
    let mut names = vec!["?".to_owned(); rows.iter().map(|(c, _)| *c as usize + 1).max().unwrap_or(0)];
    for (code, name) in rows {
        names[code as usize] = name;
    }
    names
}

const BLOCK_DIRECTORY: &str = "SELECT first_id FROM provider_cert_blocks ORDER BY first_id";
const BLOCK_DATA: &str = "SELECT data FROM provider_cert_blocks WHERE first_id = $1";
const BLOCK_DELETE: &str = "DELETE FROM provider_cert_blocks WHERE first_id = $1";
const BLOCK_INSERT: &str =
    "INSERT INTO provider_cert_blocks (first_id, last_id, records, data) VALUES ($1, $2, $3, $4)";

/// Merges a list (sorted by ID number) into the blocks it falls in, writing back only the blocks
/// it changed, re-cut; an empty range is filled run by run. Returns what changed and how many
/// distinct certificates the list gave. SQLite, on a direct connection.
fn write_blocks_sqlite(
    tx: &rusqlite::Transaction,
    rows: &[BulkProviderCert],
    codes: &[u16],
    import: u32,
) -> Result<(Merged, u64)> {
    let sql = |s: &str| s.replace("$1", "?1").replace("$2", "?2").replace("$3", "?3").replace("$4", "?4");
    let first_ids: Vec<i64> = {
        let mut st = tx.prepare(BLOCK_DIRECTORY).map_err(sqlite_err)?;
        let ids = st.query_map([], |r| r.get(0)).map_err(sqlite_err)?.collect::<std::result::Result<_, _>>();
        ids.map_err(sqlite_err)?
    };
    let mut data = tx.prepare(&sql(BLOCK_DATA)).map_err(sqlite_err)?;
    let mut delete = tx.prepare(&sql(BLOCK_DELETE)).map_err(sqlite_err)?;
    let mut insert = tx.prepare(&sql(BLOCK_INSERT)).map_err(sqlite_err)?;
    let (mut total, mut given) = (Merged::default(), 0u64);
    let (mut run, mut bytes) = (Vec::new(), Vec::new());
    let mut write = |records: &[Listed]| -> Result<()> {
        for part in cut(records) {
            bytes.clear();
            encode_block_into(part, &mut bytes);
            let (first, last) = (part[0].id as i64, part[part.len() - 1].id as i64);
            insert.execute(rusqlite::params![first, last, part.len() as i64, bytes]).map_err(sqlite_err)?;
        }
        Ok(())
    };
    for (block, range) in groups(&first_ids, rows, |c| c.id) {
        let Some(b) = block else {
            // No blocks yet: the list is the content.
            for part in id_runs(&rows[range.clone()], RUN) {
                listed_run(part, codes, import, &mut run);
                given += run.len() as u64;
                total.inserted += run.len() as u64;
                write(&run)?;
            }
            continue;
        };
        listed_run(&rows[range], codes, import, &mut run);
        given += run.len() as u64;
        let blob: Vec<u8> = data.query_row([first_ids[b]], |r| r.get(0)).map_err(sqlite_err)?;
        let existing = decode_block(first_ids[b], &blob).map_err(StoreError::Conflict)?;
        let (merged, m) = merge(&existing, &run, import);
        if m.inserted + m.changed > 0 {
            total.inserted += m.inserted;
            total.changed += m.changed;
            delete.execute([first_ids[b]]).map_err(sqlite_err)?;
            write(&merged)?;
        }
    }
    Ok((total, given))
}

/// [`write_blocks_sqlite`] on PostgreSQL.
async fn write_blocks_pg(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    rows: &[BulkProviderCert],
    codes: &[u16],
    import: u32,
) -> Result<(Merged, u64)> {
    let first_ids: Vec<i64> = sqlx::query_scalar(BLOCK_DIRECTORY).fetch_all(&mut **tx).await?;
    let (mut total, mut given) = (Merged::default(), 0u64);
    let mut run = Vec::new();
    for (block, range) in groups(&first_ids, rows, |c| c.id) {
        let mut merged = Vec::new();
        let parts: Vec<&[BulkProviderCert]> = match block {
            None => id_runs(&rows[range], RUN).collect(),
            Some(_) => vec![&rows[range]],
        };
        for part in parts {
            listed_run(part, codes, import, &mut run);
            given += run.len() as u64;
            let m = match block {
                None => {
                    merged.clone_from(&run);
                    Merged { inserted: run.len() as u64, changed: 0 }
                }
                Some(b) => {
                    let blob: Vec<u8> = sqlx::query_scalar(BLOCK_DATA).bind(first_ids[b]).fetch_one(&mut **tx).await?;
                    let existing = decode_block(first_ids[b], &blob).map_err(StoreError::Conflict)?;
                    let (out, m) = merge(&existing, &run, import);
                    merged = out;
                    m
                }
            };
            if m.inserted + m.changed == 0 {
                continue;
            }
            total.inserted += m.inserted;
            total.changed += m.changed;
            if let Some(b) = block {
                sqlx::query(BLOCK_DELETE).bind(first_ids[b]).execute(&mut **tx).await?;
            }
            for part in cut(&merged) {
                let (first, last) = (part[0].id as i64, part[part.len() - 1].id as i64);
                sqlx::query(BLOCK_INSERT)
                    .bind(first)
                    .bind(last)
                    .bind(part.len() as i32)
                    .bind(encode_block(part))
                    .execute(&mut **tx)
                    .await?;
            }
        }
    }
    Ok((total, given))
}

impl Store {
    /// Bumped by every write to the register (insert, update, delete).
    pub async fn register_generation(&self) -> Result<i64> {
        on_pool!(self, p => Ok(sqlx::query_scalar("SELECT generation FROM register_state WHERE id = 1").fetch_one(p).await?))
    }

    /// Hands the stored register index to `feed` part by part, if it was built from the
    /// register as it is now (`None` otherwise: stale, or never built). `init` gets the total
    /// length first. On SQLite the parts are read in place, never copied whole.
    pub async fn read_register_index<S, I, F>(&self, init: I, mut feed: F) -> Result<Option<S>>
    where
        S: Send + 'static,
        I: FnOnce(usize) -> S + Send + 'static,
        F: FnMut(&mut S, &[u8]) + Send + 'static,
    {
        const CURRENT: &str = "SELECT (SELECT generation FROM register_state WHERE id = 1), \
            (SELECT COUNT(*) FROM register_index), \
            (SELECT COUNT(*) FROM register_index WHERE generation <> (SELECT generation FROM register_state WHERE id = 1)), \
            (SELECT CAST(COALESCE(SUM(length(data)), 0) AS BIGINT) FROM register_index)";
        const PARTS: &str = "SELECT data FROM register_index ORDER BY part";
        match self {
            Store::Sqlite(p) => {
                blocking(p, move |c| {
                    let tx = c.transaction().map_err(sqlite_err)?;
                    let (_, parts, stale, total): (i64, i64, i64, i64) = tx
                        .query_row(CURRENT, [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                        .map_err(sqlite_err)?;
                    if parts == 0 || stale > 0 {
                        return Ok(None);
                    }
                    let mut state = init(total as usize);
                    {
                        let mut st = tx.prepare(PARTS).map_err(sqlite_err)?;
                        let mut rows = st.query([]).map_err(sqlite_err)?;
                        while let Some(r) = rows.next().map_err(sqlite_err)? {
                            feed(
                                &mut state,
                                r.get_ref(0).and_then(|v| v.as_blob().map_err(Into::into)).map_err(sqlite_err)?,
                            );
                        }
                    }
                    drop(tx);
                    Ok(Some(state))
                })
                .await
            }
            Store::Postgres(p) => {
                use futures_util::TryStreamExt;
                let mut tx = p.begin().await?;
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(&mut *tx).await?;
                let (_, parts, stale, total): (i64, i64, i64, i64) =
                    sqlx::query_as(&CURRENT.replace("length(data)", "octet_length(data)")).fetch_one(&mut *tx).await?;
                if parts == 0 || stale > 0 {
                    return Ok(None);
                }
                let mut state = init(total as usize);
                {
                    let mut rows = sqlx::query(PARTS).fetch(&mut *tx);
                    while let Some(r) = rows.try_next().await? {
                        feed(&mut state, r.get::<&[u8], _>(0));
                    }
                }
                tx.commit().await?;
                Ok(Some(state))
            }
        }
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
        const ISSUED: &str = "SELECT id_number FROM certificates WHERE profile = 'citizen' AND id_number IS NOT NULL \
            AND not_before < $1 AND not_after + 1 >= $1 AND (revoked_at IS NULL OR revoked_at >= $1)";
        const BLOCKS: &str = "SELECT data FROM provider_cert_blocks";
        let day = day_number(date).ok_or_else(|| StoreError::Conflict(format!("{date}: not a YYYY-MM-DD date")))?;
        let mut ids = match self {
            Store::Sqlite(p) => {
                blocking(p, move |c| {
                    let tx = c.transaction().map_err(sqlite_err)?;
                    let mut ids = Vec::new();
                    {
                        let mut st = tx.prepare(BLOCKS).map_err(sqlite_err)?;
                        let mut rows = st.query([]).map_err(sqlite_err)?;
                        while let Some(r) = rows.next().map_err(sqlite_err)? {
                            let data =
                                r.get_ref(0).and_then(|v| v.as_blob().map_err(Into::into)).map_err(sqlite_err)?;
                            for_each_record(data, |l| {
                                if l.valid_on(day) {
                                    ids.push(l.id);
                                }
                            });
                        }
                        let mut st = tx.prepare(&ISSUED.replace("$1", "?1")).map_err(sqlite_err)?;
                        let mut rows = st.query([day_end]).map_err(sqlite_err)?;
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
                use futures_util::TryStreamExt;
                let mut tx = p.begin().await?;
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(&mut *tx).await?;
                let mut ids = Vec::new();
                {
                    let mut rows = sqlx::query(BLOCKS).fetch(&mut *tx);
                    while let Some(r) = rows.try_next().await? {
                        for_each_record(r.get::<&[u8], _>(0), |l| {
                            if l.valid_on(day) {
                                ids.push(l.id);
                            }
                        });
                    }
                }
                let issued: Vec<String> = sqlx::query_scalar(ISSUED).bind(day_end).fetch_all(&mut *tx).await?;
                tx.commit().await?;
                ids.extend(issued.iter().filter_map(|s| id_key(s)));
                ids
            }
        };
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// Stores provider-list certificates in one transaction with one audit row: new ones
    /// inserted, known ones updated only where the list says something new (see
    /// [`listed::merge`]). `providers[c.provider]` names each row's provider; `source` is the list.
    /// Rows in ID-number order (as the campaign core sorts them) need no sorting here; a key
    /// given twice keeps its first row.
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
        let (source, audit) = (source.to_owned(), audit.clone());
        let (m, given) = match self {
            Store::Sqlite(p) => {
                let key = self.audit_key()?.clone();
                blocking(p, move |c| {
                    let started = std::time::Instant::now();
                    // Blocks are written once, in order: a small cache spills finished pages to
                    // the WAL as it goes instead of holding the whole list in fresh memory.
                    c.execute_batch("PRAGMA cache_size = -16384").map_err(sqlite_err)?;
                    let tx =
                        c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(sqlite_err)?;
                    tx.execute("UPDATE settings SET value = value WHERE name = '-'", []).map_err(sqlite_err)?;
                    let codes = provider_codes_sqlite(&tx, &providers)?;
                    let import = new_import_sqlite(&tx, &source, at)?;
                    let converted = started.elapsed();
                    let (m, given) = write_blocks_sqlite(&tx, &by_id(&rows), &codes, import)?;
                    let written = started.elapsed();
                    append_audit_direct(&tx, &key, &audit)?;
                    tx.commit().map_err(sqlite_err)?;
                    tracing::debug!(
                        rows = rows.len(),
                        converted_s = converted.as_secs_f64(),
                        written_s = written.as_secs_f64(),
                        committed_s = started.elapsed().as_secs_f64(),
                        "provider certificates stored"
                    );
                    Ok((m, given))
                })
                .await?
            }
            Store::Postgres(p) => {
                let mut tx = p.begin().await?;
                lock!(tx, false);
                let codes = provider_codes_pg(&mut tx, &providers).await?;
                let import = new_import_pg(&mut tx, &source, at).await?;
                let m = write_blocks_pg(&mut tx, &by_id(&rows), &codes, import).await?;
                append_audit!(self, tx, &audit);
                tx.commit().await?;
                m
            }
        };
        let unchanged = given.saturating_sub(m.inserted + m.changed);
        Ok(BulkUpserted { inserted: m.inserted, changed: m.changed, unchanged })
    }

    /// Every provider-list certificate that `keep` accepts, in (ID number, provider, issue day)
    /// order, with the provider names their codes stand for: one pass over the blocks (~15,000
    /// rows for a national list), for reconciliations that look at all of them.
    pub async fn listed_where(
        &self,
        keep: impl Fn(&Listed) -> bool + Send + 'static,
    ) -> Result<(Vec<Listed>, Vec<String>)> {
        const BLOCKS: &str = "SELECT data FROM provider_cert_blocks ORDER BY first_id";
        const NAMES: &str = "SELECT CAST(code AS BIGINT), name FROM list_providers";
        match self {
            Store::Sqlite(p) => {
                blocking(p, move |c| {
                    let tx = c.transaction().map_err(sqlite_err)?;
                    let mut out = Vec::new();
                    let mut names = Vec::new();
                    {
                        let mut st = tx.prepare(BLOCKS).map_err(sqlite_err)?;
                        let mut rows = st.query([]).map_err(sqlite_err)?;
                        while let Some(r) = rows.next().map_err(sqlite_err)? {
                            let data =
                                r.get_ref(0).and_then(|v| v.as_blob().map_err(Into::into)).map_err(sqlite_err)?;
                            for_each_record(data, |l| {
                                if keep(&l) {
                                    out.push(l);
                                }
                            });
                        }
                        let mut st = tx.prepare(NAMES).map_err(sqlite_err)?;
                        let mut rows = st.query([]).map_err(sqlite_err)?;
                        while let Some(r) = rows.next().map_err(sqlite_err)? {
                            names.push((r.get(0).map_err(sqlite_err)?, r.get(1).map_err(sqlite_err)?));
                        }
                    }
                    drop(tx);
                    Ok((out, names_by_code(names)))
                })
                .await
            }
            Store::Postgres(p) => {
                use futures_util::TryStreamExt;
                let mut tx = p.begin().await?;
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(&mut *tx).await?;
                let mut out = Vec::new();
                {
                    let mut rows = sqlx::query(BLOCKS).fetch(&mut *tx);
                    while let Some(r) = rows.try_next().await? {
                        for_each_record(r.get::<&[u8], _>(0), |l| {
                            if keep(&l) {
                                out.push(l);
                            }
                        });
                    }
                }
                let names: Vec<(i64, String)> = sqlx::query_as(NAMES).fetch_all(&mut *tx).await?;
                tx.commit().await?;
                Ok((out, names_by_code(names)))
            }
        }
    }

    /// Provider-list certificates of the given ID numbers (any order, repeats allowed), with the
    /// provider names their codes stand for. `of` says where those IDs come from, so that the
    /// database finds each ID's block with one index seek: only those blocks are read.
    pub(crate) async fn listed_of(&self, mut ids: Vec<u64>, of: BlocksOf<'_>) -> Result<(Vec<Listed>, Vec<String>)> {
        ids.sort_unstable();
        ids.dedup();
        // The block of an ID: the greatest first_id not above it (an ID never spans two blocks).
        let block_of = |id: &str| {
            format!(
                "(SELECT b.first_id FROM provider_cert_blocks b WHERE b.first_id <= CAST({id} AS BIGINT) \
                 ORDER BY b.first_id DESC LIMIT 1)"
            )
        };
        let sql = match of {
            BlocksOf::Residents(..) => format!(
                "SELECT first_id, data FROM provider_cert_blocks WHERE first_id IN (SELECT {} FROM residents r \
                 WHERE r.commune_code = $1 AND ($2 IS NULL OR r.hamlet_code = $2))",
                block_of("r.id_number")
            ),
            BlocksOf::Staff(_) => format!(
                "SELECT first_id, data FROM provider_cert_blocks WHERE first_id IN (SELECT {} FROM staff_members s \
                 WHERE ($1 IS NULL OR s.unit_code = $1))",
                block_of("s.id_number")
            ),
            BlocksOf::Id(_) => {
                format!("SELECT first_id, data FROM provider_cert_blocks WHERE first_id = {}", block_of("$1"))
            }
        };
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let q = sqlx::query(&sql);
            let q = match of {
                BlocksOf::Residents(commune, hamlet) => q.bind(commune).bind(hamlet),
                BlocksOf::Staff(unit) => q.bind(unit),
                BlocksOf::Id(id) => q.bind(id),
            };
            let mut out = Vec::new();
            for r in q.fetch_all(&mut *tx).await? {
                records_of(r.get(0), r.get::<&[u8], _>(1), &ids, &mut out).map_err(StoreError::Conflict)?;
            }
            let names: Vec<(i64, String)> =
                sqlx::query_as("SELECT CAST(code AS BIGINT), name FROM list_providers").fetch_all(&mut *tx).await?;
            tx.commit().await?;
            Ok((out, names_by_code(names)))
        })
    }

    /// Converts the one-row-per-certificate table of migrations 6–7 (renamed by migration 8) into
    /// blocks, one import per list it named, and drops it, in one transaction. Nothing to do when
    /// it is gone; run by [`Store::open`] after the migrations.
    pub async fn convert_v7_provider_certificates(&self) -> Result<u64> {
        let exists: bool =
            match self {
                Store::Sqlite(p) => sqlx::query_scalar(
                    "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'provider_certificates_v7'",
                )
                .fetch_one(p.pool())
                .await?,
                Store::Postgres(p) => {
                    sqlx::query_scalar("SELECT to_regclass('provider_certificates_v7') IS NOT NULL")
                        .fetch_one(p.pool())
                        .await?
                }
            };
        if !exists {
            return Ok(0);
        }
        let rows: Vec<V7Row> = on_pool!(self, p => {
            sqlx::query_as("SELECT id_number, provider, issued_on, expires_on, ended_on, status, source, first_seen FROM provider_certificates_v7")
                .fetch_all(p).await?
        });
        let mut providers: Vec<String> = Vec::new();
        let mut sources: Vec<(String, i64)> = Vec::new();
        let mut certs = Vec::with_capacity(rows.len());
        let index = |names: &mut Vec<String>, name: &str| match names.iter().position(|n| n == name) {
            Some(i) => i,
            None => {
                names.push(name.to_owned());
                names.len() - 1
            }
        };
        for (id, provider, issued, expires, ended, status, source, first_seen) in &rows {
            let day = |d: &str| {
                day_number(d).ok_or_else(|| StoreError::Conflict(format!("provider_certificates_v7: bad date {d}")))
            };
            let Some(id) = id_key(id) else {
                return Err(StoreError::Conflict("provider_certificates_v7: an ID number is not 12 digits".into()));
            };
            let s = match sources.iter().position(|(n, _)| n == source) {
                Some(i) => i,
                None => {
                    sources.push((source.clone(), *first_seen));
                    sources.len() - 1
                }
            };
            sources[s].1 = sources[s].1.min(*first_seen);
            certs.push((
                s,
                BulkProviderCert {
                    id,
                    provider: index(&mut providers, provider) as u16,
                    status: STATUSES.iter().position(|x| x == status).unwrap_or(0) as u8,
                    issued: day(issued)?,
                    expires: expires.as_deref().map(day).transpose()?,
                    ended: ended.as_deref().map(day).transpose()?,
                    row: 0,
                },
            ));
        }
        certs.sort_by_key(|(s, c)| (*s, c.id));
        let n = certs.len() as u64;
        // One import per list; each list's certificates merged in as that import.
        let sql_drop = "DROP TABLE provider_certificates_v7";
        match self {
            Store::Sqlite(p) => {
                blocking(p, move |c| {
                    let tx =
                        c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(sqlite_err)?;
                    let codes = provider_codes_sqlite(&tx, &providers)?;
                    for (s, (source, at)) in sources.iter().enumerate() {
                        let import = new_import_sqlite(&tx, source, *at)?;
                        let list: Vec<BulkProviderCert> =
                            certs.iter().filter(|(i, _)| *i == s).map(|(_, c)| *c).collect();
                        write_blocks_sqlite(&tx, &list, &codes, import)?;
                    }
                    tx.execute(sql_drop, []).map_err(sqlite_err)?;
                    tx.commit().map_err(sqlite_err)?;
                    Ok(())
                })
                .await?
            }
            Store::Postgres(p) => {
                let mut tx = p.begin().await?;
                lock!(tx, false);
                let codes = provider_codes_pg(&mut tx, &providers).await?;
                for (s, (source, at)) in sources.iter().enumerate() {
                    let import = new_import_pg(&mut tx, source, *at).await?;
                    let list: Vec<BulkProviderCert> = certs.iter().filter(|(i, _)| *i == s).map(|(_, c)| *c).collect();
                    write_blocks_pg(&mut tx, &list, &codes, import).await?;
                }
                sqlx::query(sql_drop).execute(&mut *tx).await?;
                tx.commit().await?;
            }
        }
        tracing::info!(certificates = n, "provider certificates converted into blocks (migration 8)");
        Ok(n)
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
