//! The register on the bulk paths: the residents scanned in one snapshot, and the column index
//! built from them stored in parts and read back in place.

use super::register_blocks::{decode_block, decode_ids, find_id, IdEntry, Places};
use super::{blocking, snapshot_pg, sqlite_err};
use crate::campaign::ResidentRow;
use crate::{on_pool, Result, Store};
use sqlx::Row;

/// Register index parts: large enough for few rows, small enough for any driver's buffers.
const INDEX_PART: usize = 32 << 20;

impl Store {
    /// Bumped by every write to the register (insert, update, delete).
    pub async fn register_generation(&self) -> Result<i64> {
        on_pool!(self, p => Ok(sqlx::query_scalar("SELECT generation FROM register_state WHERE id = 1").fetch_one(p).await?))
    }

    /// Hands the stored register index to `feed` part by part, if it was built from the
    /// register as it is now (`None` otherwise: stale, or never built), with that register
    /// generation. `init` gets the total length first. On SQLite the parts are read in place,
    /// never copied whole.
    pub async fn read_register_index<S, I, F>(&self, init: I, mut feed: F) -> Result<Option<(i64, S)>>
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
                    let (generation, parts, stale, total): (i64, i64, i64, i64) = tx
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
                    Ok(Some((generation, state)))
                })
                .await
            }
            Store::Postgres(p) => {
                use futures_util::TryStreamExt;
                let mut tx = snapshot_pg(p).await?;
                let (generation, parts, stale, total): (i64, i64, i64, i64) =
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
                Ok(Some((generation, state)))
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

    /// Calls `f(state, resident)` for every resident, in no particular order, and returns the
    /// register generation of that same snapshot with `state`.
    pub async fn scan_register<S, F>(&self, mut state: S, f: F) -> Result<(i64, S)>
    where
        S: Send + 'static,
        F: Fn(&mut S, &ResidentRef<'_>) + Send + 'static,
    {
        const SCAN: &str = "SELECT commune_code, hamlet_code, data FROM register_blocks";
        fn each<S>(
            state: &mut S,
            f: &impl Fn(&mut S, &ResidentRef<'_>),
            commune: &str,
            hamlet: &str,
            data: &[u8],
        ) -> Result<()> {
            for r in decode_block(data)? {
                let id = format!("{:012}", r.id);
                let resident = ResidentRef {
                    id_number: &id,
                    full_name: r.full_name,
                    date_of_birth: r.date_of_birth,
                    sex: r.sex,
                    commune_code: commune,
                    hamlet_code: hamlet,
                    household: r.household,
                };
                f(state, &resident);
            }
            Ok(())
        }
        match self {
            Store::Sqlite(p) => {
                blocking(p, move |c| {
                    let tx = c.transaction().map_err(sqlite_err)?;
                    let generation: i64 = tx
                        .query_row("SELECT generation FROM register_state WHERE id = 1", [], |r| r.get(0))
                        .map_err(sqlite_err)?;
                    {
                        let mut st = tx.prepare(SCAN).map_err(sqlite_err)?;
                        let mut rows = st.query([]).map_err(sqlite_err)?;
                        while let Some(r) = rows.next().map_err(sqlite_err)? {
                            let s = |i| r.get_ref(i).and_then(|v| v.as_str().map_err(Into::into)).map_err(sqlite_err);
                            let data =
                                r.get_ref(2).and_then(|v| v.as_blob().map_err(Into::into)).map_err(sqlite_err)?;
                            each(&mut state, &f, s(0)?, s(1)?, data)?;
                        }
                    }
                    tx.commit().map_err(sqlite_err)?;
                    Ok((generation, state))
                })
                .await
            }
            Store::Postgres(p) => {
                use futures_util::TryStreamExt;
                let mut tx = snapshot_pg(p).await?;
                let generation: i64 = sqlx::query_scalar("SELECT generation FROM register_state WHERE id = 1")
                    .fetch_one(&mut *tx)
                    .await?;
                {
                    let mut rows = sqlx::query(SCAN).fetch(&mut *tx);
                    while let Some(r) = rows.try_next().await? {
                        each(&mut state, &f, r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)?;
                    }
                }
                tx.commit().await?;
                Ok((generation, state))
            }
        }
    }

    /// The residents of a commune (optionally one hamlet), sorted by ID number.
    pub(crate) async fn register_rows(
        &self,
        commune_code: &str,
        hamlet_code: Option<&str>,
    ) -> Result<Vec<ResidentRow>> {
        let blocks: Vec<(String, Vec<u8>)> = on_pool!(self, p => {
            sqlx::query_as(BLOCKS_OF).bind(commune_code).bind(hamlet_code).fetch_all(p).await?
        });
        let mut out = Vec::new();
        for (hamlet, data) in &blocks {
            out.extend(decode_block(data)?.into_iter().map(|r| r.to_row(commune_code, hamlet)));
        }
        out.sort_unstable_by(|a, b| a.id_number.cmp(&b.id_number));
        Ok(out)
    }

    /// The ID numbers (as numbers) of a commune's residents (optionally one hamlet's), sorted.
    pub(crate) async fn register_keys(&self, commune_code: &str, hamlet_code: Option<&str>) -> Result<Vec<u64>> {
        let blocks: Vec<(String, Vec<u8>)> = on_pool!(self, p => {
            sqlx::query_as(BLOCKS_OF).bind(commune_code).bind(hamlet_code).fetch_all(p).await?
        });
        let mut out = Vec::new();
        for (_, data) in &blocks {
            out.extend(decode_block(data)?.into_iter().map(|r| r.id));
        }
        out.sort_unstable();
        Ok(out)
    }

    /// One resident by ID number, with when their block was written: where the ID blocks say they
    /// live, then that hamlet's block.
    pub(crate) async fn register_row(&self, id_number: &str) -> Result<Option<(ResidentRow, i64)>> {
        let Some(id) = kyso_campaign::register_index::id_key(id_number) else { return Ok(None) };
        let id = id as i64;
        let found: Option<(String, String, Vec<u8>, i64)> = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let ids: Option<Vec<u8>> =
                sqlx::query_scalar("SELECT data FROM register_ids WHERE first_id <= $1 ORDER BY first_id DESC LIMIT 1")
                    .bind(id).fetch_optional(&mut *tx).await?;
            let mut places = Places::default();
            let entry = match ids {
                Some(data) => find_id(&decode_ids(&data, &mut places)?, id as u64),
                None => None,
            };
            let found = match entry {
                Some(e) => {
                    let (c, h) = places.get(e.place);
                    let data: Option<(Vec<u8>, i64)> = sqlx::query_as(
                        "SELECT data, updated_at FROM register_blocks WHERE commune_code = $1 AND hamlet_code = $2 AND first_id <= $3 \
                         ORDER BY first_id DESC LIMIT 1")
                        .bind(c).bind(h).bind(id).fetch_optional(&mut *tx).await?;
                    data.map(|(d, at)| (c.to_owned(), h.to_owned(), d, at))
                }
                None => None,
            };
            tx.commit().await?;
            found
        });
        let Some((commune, hamlet, data, at)) = found else { return Ok(None) };
        let rows = decode_block(&data)?;
        Ok(rows.iter().find(|r| r.id == id as u64).map(|r| (r.to_row(&commune, &hamlet), at)))
    }
}

impl Store {
    /// Calls `f(entry, commune code)` for every ID of the register (ID blocks in key order).
    pub(crate) async fn scan_register_ids(&self, mut f: impl FnMut(&IdEntry, &str)) -> Result<()> {
        let blocks: Vec<Vec<u8>> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT data FROM register_ids ORDER BY first_id").fetch_all(p).await?
        });
        let mut places = Places::default();
        for data in &blocks {
            for e in decode_ids(data, &mut places)? {
                f(&e, places.get(e.place).0);
            }
        }
        Ok(())
    }
}

const BLOCKS_OF: &str =
    "SELECT hamlet_code, data FROM register_blocks WHERE commune_code = $1 AND ($2 IS NULL OR hamlet_code = $2)";

/// A resident as a scan of the register hands it over (borrowed from the database's row).
#[derive(Clone, Copy, Debug)]
pub struct ResidentRef<'a> {
    pub id_number: &'a str,
    pub full_name: Option<&'a str>,
    pub date_of_birth: &'a str,
    pub sex: &'a str,
    pub commune_code: &'a str,
    pub hamlet_code: &'a str,
    pub household: Option<&'a str>,
}
