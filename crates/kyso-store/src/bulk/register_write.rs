//! Writing the police register in bulk: the rows an import found new or changed, streamed in
//! batches into one transaction (one audit row, one register generation bump), so that the
//! register is replaced all at once or not at all.
//!
//! The register is stored as blocks ([`super::register_blocks`]): the writer collects the rows,
//! finds where each ID lives now from the ID blocks, rewrites the blocks of every hamlet that
//! gains, changes or loses a resident and the ID blocks whose entries change, and leaves the rest
//! alone. Into an empty register nothing is read: the rows are cut into blocks and written.
//! SQLite: a direct connection, prepared statements. PostgreSQL: the blocks by binary `COPY`.
//!
//! `citizens` holds only people kyso has dealt with (an e-ID account, a certificate): a resident
//! is a citizen of e-ID level 0 without a row ([`Store::citizen`] answers from the register). An
//! import renames those that have a row, as the register names them.

use super::register_blocks::{decode_ids, merge_ids, merge_place, IdEntry, IdRewrite, NewBlock, Places, RegisterRows};
use super::{append_audit_direct, copy_binary, sqlite_err};
use crate::campaign::ResidentRow;
use crate::{append_audit, lock, now, on_pool, AuditEvent, Result, Store, StoreError};
use std::collections::{BTreeMap, HashSet};
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
    /// Rows already encoded (an import builds them as it reads, with no allocation per row).
    Encoded(RegisterRows),
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
    /// The register was empty: nothing was read before writing.
    pub first_load: bool,
}

/// The feed closed without its commit (the import failed): nothing was written.
fn stopped() -> StoreError {
    StoreError::Conflict("the register import stopped before its end: nothing written".into())
}

const GENERATION: &str = "SELECT generation FROM register_state WHERE id = 1";

/// What the writer does with the rows it was given, worked out against the stored ID blocks.
#[derive(Default)]
struct Plan {
    /// Per place: its incoming rows, each with whether its ID is in the register anywhere.
    add: Vec<Vec<(u32, bool)>>,
    /// Per place: IDs that move away from it.
    gone: BTreeMap<u32, Vec<u64>>,
    /// New or changed ID entries, sorted.
    changed: Vec<IdEntry>,
    /// The stored ID blocks, decoded.
    id_blocks: Vec<(i64, Vec<IdEntry>)>,
}

impl Plan {
    fn new(incoming: &mut RegisterRows, stored: Vec<(i64, Vec<u8>)>) -> Result<Plan> {
        let mut plan = Plan::default();
        for (first, data) in stored {
            let entries = decode_ids(&data, &mut incoming.places)?;
            plan.id_blocks.push((first, entries));
        }
        let mut old = plan.id_blocks.iter().flat_map(|(_, e)| e.iter()).peekable();
        plan.changed.reserve(if plan.id_blocks.is_empty() { incoming.len() } else { 0 });
        for (k, r) in incoming.rows().iter().enumerate() {
            while old.next_if(|e| e.id < r.id).is_some() {}
            let was = old.next_if(|e| e.id == r.id).copied();
            if let Some(w) = was {
                if w.place != r.place {
                    plan.gone.entry(w.place).or_default().push(r.id);
                }
            }
            let now = IdEntry { id: r.id, place: r.place, born: r.born, sex: r.sex };
            if was != Some(now) {
                plan.changed.push(now);
            }
            let place = r.place as usize;
            if plan.add.len() <= place {
                plan.add.resize_with(place + 1, Vec::new);
            }
            plan.add[place].push((k as u32, was.is_some()));
        }
        Ok(plan)
    }

    /// The places whose blocks may change, in key order (commune, hamlet).
    fn places(&self, places: &Places) -> Vec<u32> {
        let with_rows = self.add.iter().enumerate().filter(|(_, a)| !a.is_empty()).map(|(p, _)| p as u32);
        let mut all: Vec<u32> = with_rows.chain(self.gone.keys().copied()).collect();
        all.sort_unstable_by(|a, b| places.get(*a).cmp(&places.get(*b)));
        all.dedup();
        all
    }
}

/// Counts of a write, summed over places.
#[derive(Default)]
struct Counts {
    inserted: u64,
    updated: u64,
}

impl Counts {
    /// What a write of `given` rows did; the generations before and after it.
    fn written(&self, given: usize, (before, after): (i64, i64), first_load: bool) -> RegisterWritten {
        RegisterWritten {
            inserted: self.inserted,
            updated: self.updated,
            unchanged: (given as u64).saturating_sub(self.inserted + self.updated),
            generation_before: before,
            generation_after: after,
            first_load,
        }
    }
}

/// One place merged: its new blocks if they change.
fn merge(
    incoming: &RegisterRows,
    plan: &Plan,
    place: u32,
    old: &[Vec<u8>],
    counts: &mut Counts,
) -> Result<Option<Vec<NewBlock>>> {
    let add = plan.add.get(place as usize).map_or(&[][..], Vec::as_slice);
    let gone = plan.gone.get(&place).map_or(&[][..], Vec::as_slice);
    let m = merge_place(old, incoming, add, gone)?;
    counts.inserted += m.inserted;
    counts.updated += m.updated;
    Ok(m.blocks)
}

/// How a register write ends.
enum End {
    /// With this audit row (an import, an upsert).
    Audited(AuditEvent),
    /// Without one, the old `residents_v26` table dropped: the conversion of migration 27, run
    /// when the store opens, before it has an audit key.
    Converted,
}

/// Collects the feed into `incoming`; how it ends, or the error of a feed that stopped without
/// its commit (nothing is written then). `convert`: a closed feed ends a conversion.
fn collect(incoming: &mut RegisterRows, next: Option<RegisterFeed>, convert: bool) -> Result<Option<End>> {
    match next {
        Some(RegisterFeed::Rows(rows)) => {
            for w in &rows {
                incoming.push(&w.row)?;
            }
            Ok(None)
        }
        Some(RegisterFeed::Encoded(rows)) => {
            incoming.append(rows);
            Ok(None)
        }
        Some(RegisterFeed::Commit(audit)) if !convert => {
            crate::limits::audit(&audit)?;
            Ok(Some(End::Audited(audit)))
        }
        None if convert => Ok(Some(End::Converted)),
        _ => Err(stopped()),
    }
}

/// Rows for the citizens who have a `citizens` row: (ID number, the register's name), non-empty
/// names only (an empty one does not replace a citizen's name).
fn citizen_names(incoming: &RegisterRows, citizens: &HashSet<u64>) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    if citizens.is_empty() {
        return Ok(out);
    }
    for r in incoming.rows() {
        if citizens.contains(&r.id) {
            let rows = super::register_blocks::decode_block_row(incoming.raw(r))?;
            if let Some(name) = rows.full_name.filter(|n| !n.is_empty()) {
                out.push((format!("{:012}", r.id), name.to_owned()));
            }
        }
    }
    Ok(out)
}

impl Store {
    /// Writes the register rows `feed` brings, in one transaction committed with the audit event
    /// that ends the feed; returns what was written. A row is checked against the store's limits
    /// first (an over-long value or an ID number that is not 12 digits fails the whole import:
    /// the importer rejects those rows itself).
    pub async fn write_register(&self, feed: mpsc::Receiver<RegisterFeed>) -> Result<RegisterWritten> {
        self.write_register_as(feed, false).await
    }

    async fn write_register_as(&self, feed: mpsc::Receiver<RegisterFeed>, convert: bool) -> Result<RegisterWritten> {
        match self {
            Store::Sqlite(p) => {
                let key = if convert { None } else { Some(self.audit_key()?.clone()) };
                let mut c = super::direct(p)?;
                tokio::task::spawn_blocking(move || write_sqlite(&mut c, feed, key.as_ref()))
                    .await
                    .map_err(|e| StoreError::Conflict(format!("bulk task failed: {e}")))?
            }
            Store::Postgres(p) => self.write_register_pg(p, feed, convert).await,
        }
    }

    /// Converts the one-row-per-resident register of migrations 3–26 (renamed `residents_v26` by
    /// migration 27) into blocks and drops it, in one transaction. Nothing to do when it is gone;
    /// run by [`Store::open`] after the migrations. Returns the residents converted.
    pub async fn convert_v26_residents(&self) -> Result<u64> {
        let exists: bool = match self {
            Store::Sqlite(p) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'residents_v26'",
                )
                .fetch_one(p.pool())
                .await?
            }
            Store::Postgres(p) => {
                sqlx::query_scalar("SELECT to_regclass('residents_v26') IS NOT NULL").fetch_one(p.pool()).await?
            }
        };
        if !exists {
            return Ok(0);
        }
        let rows: Vec<ResidentRow> = on_pool!(self, p => {
            let rows = sqlx::query("SELECT id_number, full_name, date_of_birth, sex, commune_code, hamlet_code, household FROM residents_v26")
                .fetch_all(p).await?;
            use sqlx::Row;
            rows.iter().map(|r| ResidentRow {
                id_number: r.get(0), full_name: r.get(1), date_of_birth: r.get(2), sex: r.get(3),
                commune_code: r.get(4), hamlet_code: r.get(5), household: r.get(6),
            }).collect()
        });
        let n = rows.len() as u64;
        let (feed, rx) = mpsc::channel(1);
        let writes = rows.into_iter().map(|row| RegisterWrite { row, known: false }).collect();
        feed.send(RegisterFeed::Rows(writes)).await.map_err(|_| stopped())?;
        drop(feed);
        self.write_register_as(rx, true).await?;
        tracing::info!(residents = n, "register converted into blocks (migration 27)");
        Ok(n)
    }

    async fn write_register_pg(
        &self,
        p: &sqlx::PgPool,
        mut feed: mpsc::Receiver<RegisterFeed>,
        convert: bool,
    ) -> Result<RegisterWritten> {
        // Nothing is locked until the first rows (or the commit) arrive.
        let mut next = Some(feed.recv().await.ok_or_else(stopped)?);
        let at = now();
        let mut tx = p.begin().await?;
        lock!(tx, false);
        // One register writer at a time; readers are not blocked.
        sqlx::query("LOCK TABLE register_ids IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
        let generation_before: i64 = sqlx::query_scalar(GENERATION).fetch_one(&mut *tx).await?;
        let mut incoming = RegisterRows::default();
        let end = loop {
            let n = match next.take() {
                Some(n) => Some(n),
                None => feed.recv().await,
            };
            if let Some(e) = collect(&mut incoming, n, convert)? {
                break e;
            }
        };
        incoming.finish();
        let stored: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT first_id, data FROM register_ids ORDER BY first_id").fetch_all(&mut *tx).await?;
        let first_load = stored.is_empty();
        let plan = Plan::new(&mut incoming, stored)?;
        let mut counts = Counts::default();
        let mut sink = PgSink::default();
        let places = plan.places(&incoming.places);
        for batch in places.chunks(if first_load { usize::MAX } else { 1024 }) {
            let mut old: std::collections::HashMap<u32, Vec<Vec<u8>>> = std::collections::HashMap::new();
            if !first_load {
                let (communes, hamlets): (Vec<&str>, Vec<&str>) = batch.iter().map(|&p| incoming.places.get(p)).unzip();
                let rows: Vec<(String, String, Vec<u8>)> = sqlx::query_as(
                    "SELECT b.commune_code, b.hamlet_code, b.data FROM register_blocks b \
                     JOIN unnest($1::text[], $2::text[]) AS p(c, h) ON b.commune_code = p.c AND b.hamlet_code = p.h",
                )
                .bind(&communes)
                .bind(&hamlets)
                .fetch_all(&mut *tx)
                .await?;
                let asked: std::collections::HashMap<(&str, &str), u32> =
                    batch.iter().map(|&p| (incoming.places.get(p), p)).collect();
                for (c, h, data) in rows {
                    let place = *asked
                        .get(&(c.as_str(), h.as_str()))
                        .ok_or_else(|| StoreError::Conflict("register block of an unasked place".into()))?;
                    old.entry(place).or_default().push(data);
                }
            }
            for &place in batch {
                let blocks =
                    merge(&incoming, &plan, place, old.get(&place).map_or(&[][..], Vec::as_slice), &mut counts)?;
                if let Some(blocks) = blocks {
                    let (c, h) = incoming.places.get(place);
                    if !first_load {
                        sink.deletes.push((c.to_owned(), h.to_owned()));
                    }
                    for b in &blocks {
                        sink.block(c, h, at, b);
                    }
                    sink.flush_if_full(&mut tx).await?;
                }
            }
        }
        sink.flush(&mut tx).await?;
        let ids = merge_ids(&plan.id_blocks, &plan.changed, &incoming.places)?;
        write_ids_pg(&mut tx, &ids).await?;
        if counts.inserted + counts.updated > 0 {
            let citizens: Vec<String> =
                sqlx::query_scalar("SELECT id_number FROM citizens").fetch_all(&mut *tx).await?;
            let citizens: HashSet<u64> =
                citizens.iter().filter_map(|s| kyso_campaign::register_index::id_key(s)).collect();
            let names = citizen_names(&incoming, &citizens)?;
            if !names.is_empty() {
                let (ids, names): (Vec<String>, Vec<String>) = names.into_iter().unzip();
                sqlx::query(
                    "UPDATE citizens c SET full_name = n.name, updated_at = $3 FROM unnest($1::text[], $2::text[]) AS n(id, name) \
                     WHERE c.id_number = n.id AND c.full_name <> n.name",
                )
                .bind(&ids)
                .bind(&names)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("UPDATE register_state SET generation = generation + 1 WHERE id = 1").execute(&mut *tx).await?;
        }
        match &end {
            End::Audited(audit) => append_audit!(self, tx, audit),
            End::Converted => {
                sqlx::query("DROP TABLE residents_v26").execute(&mut *tx).await?;
            }
        }
        let generation_after: i64 = sqlx::query_scalar(GENERATION).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(counts.written(incoming.len(), (generation_before, generation_after), first_load))
    }
}

/// Block bytes that make a [`PgSink`] flush: memory bounded however large the register.
const PG_FLUSH: usize = 16 << 20;

/// Register blocks on their way to PostgreSQL: the places whose blocks go, and the new blocks as
/// binary `COPY` rows.
#[derive(Default)]
struct PgSink {
    deletes: Vec<(String, String)>,
    copy: Vec<u8>,
    rows: usize,
}

fn pg_text(b: &mut Vec<u8>, s: &str) {
    b.extend_from_slice(&(s.len() as i32).to_be_bytes());
    b.extend_from_slice(s.as_bytes());
}

fn pg_i64(b: &mut Vec<u8>, v: i64) {
    b.extend_from_slice(&8i32.to_be_bytes());
    b.extend_from_slice(&v.to_be_bytes());
}

fn pg_i32(b: &mut Vec<u8>, v: i32) {
    b.extend_from_slice(&4i32.to_be_bytes());
    b.extend_from_slice(&v.to_be_bytes());
}

fn pg_bytea(b: &mut Vec<u8>, v: &[u8]) {
    b.extend_from_slice(&(v.len() as i32).to_be_bytes());
    b.extend_from_slice(v);
}

/// A one-dimensional `int4[]` without NULLs, in the binary format.
fn pg_int4_array(b: &mut Vec<u8>, v: &[i32]) {
    b.extend_from_slice(&((20 + 8 * v.len()) as i32).to_be_bytes());
    for h in [1i32, 0, 23, v.len() as i32, 1] {
        b.extend_from_slice(&h.to_be_bytes());
    }
    for x in v {
        pg_i32(b, *x);
    }
}

impl PgSink {
    fn block(&mut self, commune: &str, hamlet: &str, at: i64, blk: &NewBlock) {
        let b = &mut self.copy;
        b.extend_from_slice(&8i16.to_be_bytes());
        pg_text(b, commune);
        pg_text(b, hamlet);
        pg_i64(b, blk.first_id);
        pg_i64(b, blk.last_id);
        pg_i32(b, blk.n);
        pg_i64(b, at);
        pg_int4_array(b, &blk.births);
        pg_bytea(b, &blk.data);
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
            let (communes, hamlets): (Vec<String>, Vec<String>) = std::mem::take(&mut self.deletes).into_iter().unzip();
            sqlx::query(
                "DELETE FROM register_blocks b USING unnest($1::text[], $2::text[]) AS p(c, h) \
                 WHERE b.commune_code = p.c AND b.hamlet_code = p.h",
            )
            .bind(&communes)
            .bind(&hamlets)
            .execute(&mut **tx)
            .await?;
        }
        if self.rows > 0 {
            copy_binary(
                tx,
                "COPY register_blocks (commune_code, hamlet_code, first_id, last_id, n, updated_at, births, data) \
                 FROM STDIN (FORMAT binary)",
                std::mem::take(&mut self.copy),
            )
            .await?;
            self.rows = 0;
        }
        Ok(())
    }
}

async fn write_ids_pg(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, ids: &IdRewrite) -> Result<()> {
    if !ids.delete.is_empty() {
        sqlx::query("DELETE FROM register_ids WHERE first_id = ANY($1)").bind(&ids.delete).execute(&mut **tx).await?;
    }
    for part in ids.insert.chunks(1024) {
        let mut b = Vec::new();
        for (first, last, n, data) in part {
            b.extend_from_slice(&4i16.to_be_bytes());
            pg_i64(&mut b, *first);
            pg_i64(&mut b, *last);
            pg_i32(&mut b, *n);
            pg_bytea(&mut b, data);
        }
        copy_binary(tx, "COPY register_ids (first_id, last_id, n, data) FROM STDIN (FORMAT binary)", b).await?;
    }
    Ok(())
}

fn write_sqlite(
    c: &mut rusqlite::Connection,
    mut feed: mpsc::Receiver<RegisterFeed>,
    key: Option<&crate::AuditKey>,
) -> Result<RegisterWritten> {
    let convert = key.is_none();
    // Nothing is locked until the first rows (or the commit) arrive.
    let mut next = Some(feed.blocking_recv().ok_or_else(stopped)?);
    let at = now();
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(sqlite_err)?;
    tx.execute("UPDATE settings SET value = value WHERE name = '-'", []).map_err(sqlite_err)?;
    let generation_before: i64 = tx.query_row(GENERATION, [], |r| r.get(0)).map_err(sqlite_err)?;
    let mut incoming = RegisterRows::default();
    let end = loop {
        let n = match next.take() {
            Some(n) => Some(n),
            None => feed.blocking_recv(),
        };
        if let Some(e) = collect(&mut incoming, n, convert)? {
            break e;
        }
    };
    incoming.finish();
    let stored: Vec<(i64, Vec<u8>)> = {
        let mut st = tx.prepare("SELECT first_id, data FROM register_ids ORDER BY first_id").map_err(sqlite_err)?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(sqlite_err)?;
        rows.collect::<std::result::Result<_, _>>().map_err(sqlite_err)?
    };
    let first_load = stored.is_empty();
    let plan = Plan::new(&mut incoming, stored)?;
    let mut counts = Counts::default();
    {
        let mut read = tx
            .prepare("SELECT data FROM register_blocks WHERE commune_code = ?1 AND hamlet_code = ?2")
            .map_err(sqlite_err)?;
        let mut delete = tx
            .prepare("DELETE FROM register_blocks WHERE commune_code = ?1 AND hamlet_code = ?2")
            .map_err(sqlite_err)?;
        let mut insert = tx
            .prepare(
                "INSERT INTO register_blocks (commune_code, hamlet_code, first_id, last_id, n, updated_at, births, data) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .map_err(sqlite_err)?;
        let mut births = Vec::new();
        for place in plan.places(&incoming.places) {
            let (commune, hamlet) = incoming.places.get(place);
            let old: Vec<Vec<u8>> = if first_load {
                Vec::new()
            } else {
                let rows = read.query_map([commune, hamlet], |r| r.get(0)).map_err(sqlite_err)?;
                rows.collect::<std::result::Result<_, _>>().map_err(sqlite_err)?
            };
            let Some(blocks) = merge(&incoming, &plan, place, &old, &mut counts)? else { continue };
            if !old.is_empty() {
                delete.execute([commune, hamlet]).map_err(sqlite_err)?;
            }
            for b in &blocks {
                births.clear();
                births.extend(b.births.iter().flat_map(|d| d.to_le_bytes()));
                insert
                    .execute(rusqlite::params![commune, hamlet, b.first_id, b.last_id, b.n, at, births, b.data])
                    .map_err(sqlite_err)?;
            }
        }
    }
    let ids = merge_ids(&plan.id_blocks, &plan.changed, &incoming.places)?;
    {
        let mut delete = tx.prepare("DELETE FROM register_ids WHERE first_id = ?1").map_err(sqlite_err)?;
        for first in &ids.delete {
            delete.execute([first]).map_err(sqlite_err)?;
        }
        let mut insert = tx
            .prepare("INSERT INTO register_ids (first_id, last_id, n, data) VALUES (?1, ?2, ?3, ?4)")
            .map_err(sqlite_err)?;
        for (first, last, n, data) in &ids.insert {
            insert.execute(rusqlite::params![first, last, n, data]).map_err(sqlite_err)?;
        }
    }
    if counts.inserted + counts.updated > 0 {
        let citizens: HashSet<u64> = {
            let mut st = tx.prepare("SELECT id_number FROM citizens").map_err(sqlite_err)?;
            let rows = st.query_map([], |r| r.get::<_, String>(0)).map_err(sqlite_err)?;
            let mut set = HashSet::new();
            for id in rows {
                if let Some(k) = kyso_campaign::register_index::id_key(&id.map_err(sqlite_err)?) {
                    set.insert(k);
                }
            }
            set
        };
        let mut rename = tx
            .prepare("UPDATE citizens SET full_name = ?2, updated_at = ?3 WHERE id_number = ?1 AND full_name <> ?2")
            .map_err(sqlite_err)?;
        for (id, name) in citizen_names(&incoming, &citizens)? {
            rename.execute(rusqlite::params![id, name, at]).map_err(sqlite_err)?;
        }
        drop(rename);
        tx.execute("UPDATE register_state SET generation = generation + 1 WHERE id = 1", []).map_err(sqlite_err)?;
    }
    let generation_after: i64 = tx.query_row(GENERATION, [], |r| r.get(0)).map_err(sqlite_err)?;
    match (&end, key) {
        (End::Audited(audit), Some(key)) => append_audit_direct(&tx, key, audit)?,
        (End::Converted, None) => tx.execute_batch("DROP TABLE residents_v26").map_err(sqlite_err)?,
        // (`key` is None exactly for a conversion, whose feed ends unaudited)
        _ => return Err(StoreError::Conflict("register write: an audit row without its key".into())),
    }
    tx.commit().map_err(sqlite_err)?;
    Ok(counts.written(incoming.len(), (generation_before, generation_after), first_load))
}
