//! Writing provider lists: a list merged into the blocks of `provider_cert_blocks` it falls in
//! (only changed blocks rewritten), the providers and the import recorded, one audit row; and the
//! one-time conversion of migration 7's row-per-certificate table.

use super::{append_audit_direct, blocking, copy_binary, sqlite_err, BulkProviderCert, BulkUpserted};
use crate::listed::{cut, decode_block, encode_block_into, groups, merge, sort_within_ids, Listed, Merged};
use crate::{append_audit, lock, now, on_pool, AuditEvent, Result, Store, StoreError};
use kyso_campaign::provider_list::STATUSES;
use kyso_campaign::register_index::{day_number, id_key};

/// A row of migration 7's `provider_certificates`: ID number, provider, issued, expires, ended,
/// status, source, first seen.
type V7Row = (String, String, String, Option<String>, Option<String>, String, String, i64);

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

/// Blocks bound for PostgreSQL: the first IDs of stored blocks to delete and the new blocks as
/// rows of a binary `COPY`, sent together (deletes first) whenever [`PG_FLUSH`] bytes are pending.
/// A block's delete and the blocks it was re-cut into always go in the same flush.
struct PgBlockSink {
    deletes: Vec<i64>,
    copy: Vec<u8>,
    rows: u64,
}

/// Pending block bytes that make a [`PgBlockSink`] flush: a few round trips per national list,
/// memory bounded however long the list.
const PG_FLUSH: usize = 16 << 20;

impl PgBlockSink {
    fn new() -> PgBlockSink {
        PgBlockSink { deletes: Vec::new(), copy: Vec::with_capacity(PG_FLUSH + (1 << 16)), rows: 0 }
    }

    /// A block as one binary `COPY` row: (first_id int8, last_id int8, records int4, data bytea).
    fn block(&mut self, part: &[Listed]) {
        let (first, last) = (part[0].id as i64, part[part.len() - 1].id as i64);
        let b = &mut self.copy;
        b.extend_from_slice(&4i16.to_be_bytes());
        b.extend_from_slice(&8i32.to_be_bytes());
        b.extend_from_slice(&first.to_be_bytes());
        b.extend_from_slice(&8i32.to_be_bytes());
        b.extend_from_slice(&last.to_be_bytes());
        b.extend_from_slice(&4i32.to_be_bytes());
        b.extend_from_slice(&(part.len() as i32).to_be_bytes());
        b.extend_from_slice(&((part.len() * crate::listed::RECORD) as i32).to_be_bytes());
        encode_block_into(part, b);
        self.rows += 1;
    }

    async fn flush_if_full(&mut self, tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> Result<()> {
        if self.copy.len() >= PG_FLUSH {
            self.flush(tx).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> Result<()> {
        if !self.deletes.is_empty() {
            sqlx::query("DELETE FROM provider_cert_blocks WHERE first_id = ANY($1)")
                .bind(&self.deletes)
                .execute(&mut **tx)
                .await?;
            self.deletes.clear();
        }
        if self.rows > 0 {
            let rows = std::mem::take(&mut self.copy);
            copy_binary(
                tx,
                "COPY provider_cert_blocks (first_id, last_id, records, data) FROM STDIN (FORMAT binary)",
                rows,
            )
            .await?;
            self.rows = 0;
        }
        Ok(())
    }
}

/// Existing blocks a PostgreSQL merge reads per query.
const PG_READ_BLOCKS: usize = 1024;

/// [`write_blocks_sqlite`] on PostgreSQL: the touched blocks read [`PG_READ_BLOCKS`] at a time by
/// one query, the deletes and the re-cut blocks sent by [`PgBlockSink`] (one `DELETE … = ANY`
/// and one binary `COPY` per flush) instead of a statement per block.
async fn write_blocks_pg(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    rows: &[BulkProviderCert],
    codes: &[u16],
    import: u32,
) -> Result<(Merged, u64)> {
    let first_ids: Vec<i64> = sqlx::query_scalar(BLOCK_DIRECTORY).fetch_all(&mut **tx).await?;
    let (mut total, mut given) = (Merged::default(), 0u64);
    let mut run = Vec::new();
    let mut sink = PgBlockSink::new();
    let all = groups(&first_ids, rows, |c| c.id);
    for batch in all.chunks(PG_READ_BLOCKS) {
        let wanted: Vec<i64> = batch.iter().filter_map(|(b, _)| b.map(|b| first_ids[b])).collect();
        let mut stored: std::collections::HashMap<i64, Vec<u8>> = if wanted.is_empty() {
            Default::default()
        } else {
            sqlx::query_as::<_, (i64, Vec<u8>)>(
                "SELECT first_id, data FROM provider_cert_blocks WHERE first_id = ANY($1)",
            )
            .bind(&wanted)
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .collect()
        };
        for (block, range) in batch {
            let Some(b) = *block else {
                // No blocks yet: the list is the content.
                for part in id_runs(&rows[range.clone()], RUN) {
                    listed_run(part, codes, import, &mut run);
                    given += run.len() as u64;
                    total.inserted += run.len() as u64;
                    for block in cut(&run) {
                        sink.block(block);
                    }
                    sink.flush_if_full(tx).await?;
                }
                continue;
            };
            listed_run(&rows[range.clone()], codes, import, &mut run);
            given += run.len() as u64;
            let first = first_ids[b];
            let blob = stored
                .remove(&first)
                .ok_or_else(|| StoreError::Conflict(format!("provider block {first} vanished during the import")))?;
            let existing = decode_block(first, &blob).map_err(StoreError::Conflict)?;
            let (merged, m) = merge(&existing, &run, import);
            if m.inserted + m.changed > 0 {
                total.inserted += m.inserted;
                total.changed += m.changed;
                sink.deletes.push(first);
                for block in cut(&merged) {
                    sink.block(block);
                }
                sink.flush_if_full(tx).await?;
            }
        }
    }
    sink.flush(tx).await?;
    Ok((total, given))
}

impl Store {
    /// Records how lists write their providers: `(key, as written)` pairs, the key being what
    /// [`Store::bulk_upsert_provider_certificates`] stored. The latest writing is shown; one that
    /// is empty or over-long (not a name) is ignored.
    pub async fn name_list_providers(&self, names: &[(String, String)]) -> Result<()> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for (key, shown) in names {
                if shown.trim().is_empty() || shown.chars().count() > 100 || shown == key {
                    continue;
                }
                sqlx::query("UPDATE list_providers SET shown = $2 WHERE name = $1 AND (shown IS NULL OR shown <> $2)")
                    .bind(key)
                    .bind(shown)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
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
}
