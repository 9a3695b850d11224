//! The register on the bulk paths: the residents scanned in one snapshot, and the column index
//! built from them stored in parts and read back in place.

use super::{blocking, snapshot_pg, sqlite_err};
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
        const SCAN: &str =
            "SELECT id_number, full_name, date_of_birth, sex, commune_code, hamlet_code, household FROM residents";
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
                            let o = |i| {
                                r.get_ref(i).and_then(|v| v.as_str_or_null().map_err(Into::into)).map_err(sqlite_err)
                            };
                            let resident = ResidentRef {
                                id_number: s(0)?,
                                full_name: o(1)?,
                                date_of_birth: s(2)?,
                                sex: s(3)?,
                                commune_code: s(4)?,
                                hamlet_code: s(5)?,
                                household: o(6)?,
                            };
                            f(&mut state, &resident);
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
                        let resident = ResidentRef {
                            id_number: r.try_get(0)?,
                            full_name: r.try_get(1)?,
                            date_of_birth: r.try_get(2)?,
                            sex: r.try_get(3)?,
                            commune_code: r.try_get(4)?,
                            hamlet_code: r.try_get(5)?,
                            household: r.try_get(6)?,
                        };
                        f(&mut state, &resident);
                    }
                }
                tx.commit().await?;
                Ok((generation, state))
            }
        }
    }
}

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
