//! The coordinator's copy of the national roll-up: the rows [`Coordinator::rollup`] returns (one
//! per province and day), kept in a local table so that a national dashboard reads them in about
//! a millisecond instead of asking 34 provinces (≈ 1 ms of postgres_fdw round trips each,
//! docs/BENCHMARKS.md). [`Coordinator::refresh_rollup`] fills it from the live, pushed-down query —
//! run it after the provinces' daily adoption refresh; a province that does not answer keeps its
//! previous rows, with the time they were copied. The copy holds aggregates only, never a
//! province's rows.

use super::{figures, Coordinator, NationalRollup, ProvinceFigures};
use crate::Result;
use sqlx::Row;

pub(super) const DDL: &str = "CREATE TABLE IF NOT EXISTS nation_rollup_copy (
  province_code TEXT NOT NULL, date TEXT NOT NULL, communes BIGINT NOT NULL, holders BIGINT NOT NULL,
  adults BIGINT NOT NULL, copied_at BIGINT NOT NULL, PRIMARY KEY (province_code, date));\n";

impl Coordinator {
    /// Ask the provinces for the roll-up of `date` (live, as [`Coordinator::rollup`]) and copy
    /// what the ones that answered say, at `now` (Unix seconds), in one transaction: their rows
    /// of that day are replaced, the others' stay. Returns the live answer.
    pub async fn refresh_rollup(&self, date: &str, now: i64) -> Result<NationalRollup> {
        let live = self.rollup(date).await?;
        let answered: Vec<String> =
            self.provinces().await?.into_iter().filter(|c| !live.unavailable.iter().any(|u| &u.code == c)).collect();
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM nation_rollup_copy WHERE date = $1 AND province_code = ANY($2)")
            .bind(date)
            .bind(&answered)
            .execute(&mut *tx)
            .await?;
        for p in &live.provinces {
            sqlx::query(
                "INSERT INTO nation_rollup_copy (province_code, date, communes, holders, adults, copied_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&p.code)
            .bind(date)
            .bind(p.communes)
            .bind(p.holders)
            .bind(p.adults)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(live)
    }

    /// The roll-up of `date` from the coordinator's copy: every province ever copied for that
    /// day (none is unavailable: the copy always answers), and when the oldest row was copied.
    pub async fn copied_rollup(&self, date: &str) -> Result<NationalRollup> {
        let rows = sqlx::query(
            "SELECT province_code, communes, holders, adults, copied_at FROM nation_rollup_copy WHERE date = $1",
        )
        .bind(date)
        .fetch_all(&self.pool)
        .await?;
        let mut provinces: Vec<ProvinceFigures> = rows.iter().map(figures).collect();
        provinces.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(NationalRollup {
            holders: provinces.iter().map(|p| p.holders).sum(),
            adults: provinces.iter().map(|p| p.adults).sum(),
            provinces,
            unavailable: Vec::new(),
            one_query: true,
            copied_at: rows.iter().map(|r| r.get::<i64, _>("copied_at")).min(),
        })
    }
}
