//! Reading provider lists back from their blocks: every record a predicate keeps, the records of
//! given ID numbers (only their blocks read), and who held a valid certificate on a day.

use super::{blocking, snapshot_pg, sqlite_err};
use crate::listed::{for_each_record, records_of, Listed};
use crate::{on_pool, Result, Store, StoreError};
use kyso_campaign::register_index::{day_number, id_key};
use sqlx::Row;

/// Where the ID numbers of a [`Store::listed_of`] come from: the database finds their blocks.
#[derive(Clone, Copy, Debug)]
pub(crate) enum BlocksOf<'a> {
    /// These ID numbers (a commune's residents, from the register blocks).
    Ids(&'a [u64]),
    /// The listed staff of a unit, or of every unit.
    Staff(Option<&'a str>),
    /// One ID number.
    Id(i64),
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

/// Every record of the blocks `sql` selects (one `data` column) to `each`: SQLite, inside `tx`.
fn each_listed_sqlite(tx: &rusqlite::Transaction, sql: &str, mut each: impl FnMut(Listed)) -> Result<()> {
    let mut st = tx.prepare(sql).map_err(sqlite_err)?;
    let mut rows = st.query([]).map_err(sqlite_err)?;
    while let Some(r) = rows.next().map_err(sqlite_err)? {
        let data = r.get_ref(0).and_then(|v| v.as_blob().map_err(Into::into)).map_err(sqlite_err)?;
        for_each_record(data, &mut each);
    }
    Ok(())
}

/// [`each_listed_sqlite`] on PostgreSQL.
async fn each_listed_pg(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    sql: &str,
    mut each: impl FnMut(Listed),
) -> Result<()> {
    use futures_util::TryStreamExt;
    let mut rows = sqlx::query(sql).fetch(&mut **tx);
    while let Some(r) = rows.try_next().await? {
        for_each_record(r.get::<&[u8], _>(0), &mut each);
    }
    Ok(())
}

impl Store {
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
                    each_listed_sqlite(&tx, BLOCKS, |l| {
                        if l.valid_on(day) {
                            ids.push(l.id);
                        }
                    })?;
                    {
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
                let mut tx = snapshot_pg(p).await?;
                let mut ids = Vec::new();
                each_listed_pg(&mut tx, BLOCKS, |l| {
                    if l.valid_on(day) {
                        ids.push(l.id);
                    }
                })
                .await?;
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

    /// Every provider-list certificate that `keep` accepts, in (ID number, provider, issue day)
    /// order, with the provider names their codes stand for: one pass over the blocks (~15,000
    /// rows for a national list), for reconciliations that look at all of them.
    pub async fn listed_where(
        &self,
        keep: impl Fn(&Listed) -> bool + Send + 'static,
    ) -> Result<(Vec<Listed>, Vec<String>)> {
        const BLOCKS: &str = "SELECT data FROM provider_cert_blocks ORDER BY first_id";
        const NAMES: &str = "SELECT CAST(code AS BIGINT), COALESCE(shown, name) FROM list_providers";
        match self {
            Store::Sqlite(p) => {
                blocking(p, move |c| {
                    let tx = c.transaction().map_err(sqlite_err)?;
                    let mut out = Vec::new();
                    let mut names = Vec::new();
                    each_listed_sqlite(&tx, BLOCKS, |l| {
                        if keep(&l) {
                            out.push(l);
                        }
                    })?;
                    {
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
                let mut tx = snapshot_pg(p).await?;
                let mut out = Vec::new();
                each_listed_pg(&mut tx, BLOCKS, |l| {
                    if keep(&l) {
                        out.push(l);
                    }
                })
                .await?;
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
        // The blocks of the IDs a subquery gives. PostgreSQL hash-joins `IN (subquery)` to a scan of
        // every block (~15,000 for a national list); with the IDs gathered into an array first it
        // seeks each block by its key (a hamlet's worklist: ~10 ms of execution down to ~3).
        let blocks_in = |ids: String| {
            if self.is_sqlite() {
                format!("SELECT first_id, data FROM provider_cert_blocks WHERE first_id IN ({ids})")
            } else {
                format!("SELECT first_id, data FROM provider_cert_blocks WHERE first_id = ANY(ARRAY({ids}))")
            }
        };
        let sql = match of {
            BlocksOf::Ids(_) if self.is_sqlite() => {
                blocks_in(format!("SELECT {} FROM json_each($1) j", block_of("j.value")))
            }
            BlocksOf::Ids(_) => blocks_in(format!(
                "SELECT {} FROM jsonb_array_elements_text($1::jsonb) AS j(value)",
                block_of("j.value")
            )),
            BlocksOf::Staff(_) => blocks_in(format!(
                "SELECT {} FROM staff_members s WHERE ($1 IS NULL OR s.unit_code = $1)",
                block_of("s.id_number")
            )),
            BlocksOf::Id(_) => {
                format!("SELECT first_id, data FROM provider_cert_blocks WHERE first_id = {}", block_of("$1"))
            }
        };
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let q = sqlx::query(&sql);
            let q = match of {
                // a JSON array of the IDs: one parameter on both backends
                BlocksOf::Ids(ids) => {
                    q.bind(format!("[{}]", ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",")))
                }
                BlocksOf::Staff(unit) => q.bind(unit),
                BlocksOf::Id(id) => q.bind(id),
            };
            let mut out = Vec::new();
            for r in q.fetch_all(&mut *tx).await? {
                records_of(r.get(0), r.get::<&[u8], _>(1), &ids, &mut out).map_err(StoreError::Conflict)?;
            }
            let names: Vec<(i64, String)> =
                sqlx::query_as("SELECT CAST(code AS BIGINT), COALESCE(shown, name) FROM list_providers").fetch_all(&mut *tx).await?;
            tx.commit().await?;
            Ok((out, names_by_code(names)))
        })
    }
}
