//! The nation on PostgreSQL's own machinery: a national coordinator database whose
//! `nation_adoption` table is partitioned by province code (`PARTITION BY LIST`), each province's
//! partition a `postgres_fdw` foreign table over that province's kyso database (its
//! `federation_adoption` view, migration 25). The national roll-up and ranking are one query on
//! the coordinator; with `enable_partitionwise_aggregate` the planner sends each province the
//! aggregate itself (`SELECT province_code, sum(holders), … GROUP BY`), so only one row per
//! province crosses the network.
//!
//! A province that cannot be reached fails the one query; then each province is asked on its
//! own, and the ones that fail are reported [`Unavailable`] with a sentence saying which and why,
//! in Vietnamese and English, while the others' figures stand. No home-made sharding: which rows
//! live where is PostgreSQL's partitioning, and the coordinator holds no copy of them (only, in
//! `copy.rs`, the roll-up's per-province sums).
//!
//! The other national tables follow the same pattern ([`national`], migration 26):
//! `nation_register` (a province's register blocks: counts and sorted birth days, no names),
//! `nation_register_ids` (its ID blocks), `nation_certificates` and `nation_provider_blocks`, each
//! partitioned by province code with each province a foreign partition over a view of its
//! database (migrations 26 and 27).
//!
//! Setup (docs/DEPLOYMENT.md): [`Coordinator::connect`] creates the extension and the partitioned
//! tables, [`Coordinator::attach`] a province's server, user mapping and foreign partitions. The
//! SQL is built from validated parts only (a two-digit province code, a host name, a port, a
//! database and a user name of plain characters): DDL takes no bind parameters.

mod copy;
pub mod national;

use crate::{Result, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Row};
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

/// The national tables: each `nation_<name>` on the coordinator, partitioned by province code,
/// its province partitions `nation_<name>_p<code>` over the province's `federation_<view>`.
const TABLES: &[(&str, &str, &str)] = &[
    (
        "adoption",
        "federation_adoption",
        "commune_code TEXT NOT NULL, date TEXT NOT NULL, holders BIGINT NOT NULL, adults BIGINT NOT NULL",
    ),
    (
        "register",
        "federation_register",
        "commune_code TEXT NOT NULL, hamlet_code TEXT NOT NULL, n INTEGER NOT NULL, births INTEGER[] NOT NULL",
    ),
    (
        "register_ids",
        "federation_register_ids",
        "first_id BIGINT NOT NULL, last_id BIGINT NOT NULL, data BYTEA NOT NULL",
    ),
    (
        "certificates",
        "federation_certificates",
        "id_number TEXT NOT NULL, serial TEXT NOT NULL, issuer_id TEXT NOT NULL, not_before BIGINT NOT NULL, \
         not_after BIGINT NOT NULL, revoked_at BIGINT",
    ),
    (
        "provider_blocks",
        "federation_provider_blocks",
        "first_id BIGINT NOT NULL, last_id BIGINT NOT NULL, records INTEGER NOT NULL, data BYTEA NOT NULL, \
         provider_codes INTEGER[] NOT NULL, provider_names TEXT[] NOT NULL",
    ),
];

/// Where a province's kyso database is, as the coordinator connects to it.
#[derive(Clone, Debug)]
pub struct ProvinceLink {
    /// Two digits: `01` (Hà Nội) … `96`.
    pub code: String,
    pub host: String,
    pub port: u16,
    pub dbname: String,
    pub user: String,
    /// Stored in the user mapping (readable by superusers and the mapping's owner only); None
    /// where the province trusts the coordinator's address or uses a client certificate.
    pub password: Option<String>,
}

/// One province's figures on a day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvinceFigures {
    pub code: String,
    pub communes: i64,
    pub holders: i64,
    pub adults: i64,
}

/// A province whose database could not be reached: which, and the sentence to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unavailable {
    pub code: String,
    pub message: String,
}

/// The national roll-up of a day.
#[derive(Clone, Debug, Default)]
pub struct NationalRollup {
    /// The provinces that answered, by code.
    pub provinces: Vec<ProvinceFigures>,
    /// The provinces that did not.
    pub unavailable: Vec<Unavailable>,
    /// Sums over the provinces that answered.
    pub holders: i64,
    pub adults: i64,
    /// Whether the one pushed-down query answered (false: asked province by province).
    pub one_query: bool,
    /// Read from the coordinator's copy ([`Coordinator::copied_rollup`]): when the oldest of its
    /// provinces' rows was copied (Unix seconds). None: asked live.
    pub copied_at: Option<i64>,
}

/// A commune in the national ranking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RankedCommune {
    pub province_code: String,
    pub commune_code: String,
    pub holders: i64,
    pub adults: i64,
}

fn refused(vi: &str, en: &str) -> StoreError {
    StoreError::Conflict(format!("{vi} / {en}"))
}

fn plain(field: &str, v: &str, extra: &[char]) -> Result<()> {
    let ok = !v.is_empty()
        && v.len() <= 63
        && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(&c));
    if ok {
        Ok(())
    } else {
        Err(refused(
            &format!("{field}: «{v}» không hợp lệ (chỉ chữ, số, _ và tối đa 63 ký tự)"),
            &format!("{field}: «{v}» is not valid (letters, digits and _ only, at most 63 characters)"),
        ))
    }
}

fn province_code(code: &str) -> Result<()> {
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(refused(
            &format!("mã tỉnh «{code}» không hợp lệ: hai chữ số, ví dụ 01 hoặc 19"),
            &format!("province code «{code}» is not valid: two digits, e.g. 01 or 19"),
        ))
    }
}

/// The national coordinator: a PostgreSQL database holding the partitioned national tables.
pub struct Coordinator {
    pool: PgPool,
}

impl Coordinator {
    /// Connect to the coordinator's database (PostgreSQL with postgres_fdw, which Debian's
    /// postgresql package ships) and create what is missing: the extension and the partitioned
    /// national tables. Sessions plan aggregates partition by partition, so that each
    /// province computes its own sums.
    pub async fn connect(url: &str) -> Result<Coordinator> {
        if !(url.starts_with("postgres:") || url.starts_with("postgresql:")) {
            return Err(refused(
                "cơ sở dữ liệu điều phối quốc gia phải là PostgreSQL (postgres://…)",
                "the national coordinator must be a PostgreSQL database (postgres://…)",
            ));
        }
        let opts = PgConnectOptions::from_str(url)?.options([("enable_partitionwise_aggregate", "on")]);
        let pool = PgPoolOptions::new().max_connections(4).connect_with(opts).await?;
        let mut ddl = String::from("CREATE EXTENSION IF NOT EXISTS postgres_fdw;\n");
        for (name, _, columns) in TABLES {
            ddl.push_str(&format!(
                "CREATE TABLE IF NOT EXISTS nation_{name} (province_code TEXT NOT NULL, {columns}) \
                 PARTITION BY LIST (province_code);\n"
            ));
        }
        ddl.push_str(copy::DDL);
        sqlx::raw_sql(&ddl).execute(&pool).await?;
        let coord = Coordinator { pool };
        // Provinces attached by an earlier kyso have the adoption partition only: add the others
        // (one count first, so that a complete coordinator costs one query per connect).
        let provinces = coord.provinces().await?;
        let partitions: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = ANY($1::regclass[])",
        )
        .bind(TABLES.iter().map(|(name, _, _)| format!("nation_{name}")).collect::<Vec<_>>())
        .fetch_one(&coord.pool)
        .await?;
        if partitions < (provinces.len() * TABLES.len()) as i64 {
            for code in provinces {
                coord.complete(&code).await?;
            }
        }
        Ok(coord)
    }

    /// Attach a province: its foreign server (connection errors after 3 s; `async_capable`, so
    /// that the provinces of one national query are asked concurrently; its sessions told their
    /// province code, which the provider-block view reports), the user mapping the
    /// coordinator connects with, and `nation_<table>_p<code>`, the foreign partitions holding
    /// that province's rows. Refused when the province is attached already.
    pub async fn attach(&self, p: &ProvinceLink) -> Result<()> {
        province_code(&p.code)?;
        plain("host", &p.host, &['.', '-', ':'])?;
        plain("dbname", &p.dbname, &[])?;
        plain("user", &p.user, &[])?;
        if self.provinces().await?.contains(&p.code) {
            return Err(refused(
                &format!("tỉnh {} đã được gắn vào cơ sở dữ liệu điều phối", p.code),
                &format!("province {} is attached already", p.code),
            ));
        }
        let code = &p.code;
        let password = match &p.password {
            Some(pw) => format!(", password '{}'", pw.replace('\'', "''")),
            None => String::new(),
        };
        let sql = format!(
            "CREATE SERVER province_{code} FOREIGN DATA WRAPPER postgres_fdw
               OPTIONS (host '{host}', port '{port}', dbname '{db}', connect_timeout '3', fetch_size '10000',
                        async_capable 'true', options '-c kyso.province_code={code}');
             CREATE USER MAPPING FOR CURRENT_USER SERVER province_{code} OPTIONS (user '{user}'{password});
             {partitions}",
            host = p.host,
            port = p.port,
            db = p.dbname,
            user = p.user,
            partitions = partitions(code),
        );
        let mut tx = self.pool.begin().await?;
        sqlx::raw_sql(&sql).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The partitions an attached province lacks (attached by an earlier kyso), and the
    /// province code its sessions are told.
    async fn complete(&self, code: &str) -> Result<()> {
        province_code(code)?;
        let told: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_foreign_server, unnest(srvoptions) o \
             WHERE srvname = $1 AND o LIKE 'options=%')",
        )
        .bind(format!("province_{code}"))
        .fetch_one(&self.pool)
        .await?;
        let mut sql = partitions(code).replace("CREATE FOREIGN TABLE", "CREATE FOREIGN TABLE IF NOT EXISTS");
        if !told {
            sql.push_str(&format!(
                "ALTER SERVER province_{code} OPTIONS (ADD options '-c kyso.province_code={code}');"
            ));
        }
        let mut tx = self.pool.begin().await?;
        sqlx::raw_sql(&sql).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ask the provinces of one national query concurrently (`async_capable`, the default) or one
    /// after the other: for measuring what concurrency gives.
    pub async fn set_concurrent(&self, on: bool) -> Result<()> {
        let value = if on { "true" } else { "false" };
        for code in self.provinces().await? {
            province_code(&code)?;
            let has: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM pg_foreign_server, unnest(srvoptions) o \
                 WHERE srvname = $1 AND o LIKE 'async_capable=%')",
            )
            .bind(format!("province_{code}"))
            .fetch_one(&self.pool)
            .await?;
            let verb = if has { "SET" } else { "ADD" };
            sqlx::raw_sql(&format!("ALTER SERVER province_{code} OPTIONS ({verb} async_capable '{value}')"))
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Detach a province (its partitions, user mapping and server).
    pub async fn detach(&self, code: &str) -> Result<()> {
        province_code(code)?;
        let mut sql = String::new();
        for (name, _, _) in TABLES {
            sql.push_str(&format!("DROP FOREIGN TABLE IF EXISTS nation_{name}_p{code};\n"));
        }
        sql.push_str(&format!("DROP SERVER IF EXISTS province_{code} CASCADE;\n"));
        sql.push_str(&format!("DELETE FROM nation_rollup_copy WHERE province_code = '{code}';"));
        sqlx::raw_sql(&sql).execute(&self.pool).await?;
        Ok(())
    }

    /// The attached provinces' codes, in order.
    pub async fn provinces(&self) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'nation_adoption'::regclass ORDER BY c.relname",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .filter_map(|r| r.get::<String, _>("relname").strip_prefix("nation_adoption_p").map(str::to_owned))
            .collect())
    }

    /// No ORDER BY: with one, PostgreSQL 15 plans a sort over the raw rows and aggregates on
    /// the coordinator instead of sending each province its aggregate (sorted here instead).
    const ROLLUP: &'static str = "SELECT province_code, count(*) AS communes, sum(holders)::BIGINT AS holders, \
        sum(adults)::BIGINT AS adults FROM {table} WHERE date = $1 GROUP BY province_code";

    /// Runs a national query: `run("nation_<table>")` once over the partitioned table; if that
    /// fails (a province cannot be reached: the statement fails as a whole), `run` on each
    /// province's partition, the ones that fail named [`Unavailable`]. Returns the rows, the
    /// provinces that did not answer, and whether the one statement answered.
    pub(crate) async fn national<'a, F, Fut>(
        &'a self,
        table: &str,
        run: F,
    ) -> Result<(Vec<PgRow>, Vec<Unavailable>, bool)>
    where
        F: Fn(&'a PgPool, String) -> Fut,
        Fut: Future<Output = std::result::Result<Vec<PgRow>, sqlx::Error>>,
    {
        match run(&self.pool, format!("nation_{table}")).await {
            Ok(rows) => Ok((rows, Vec::new(), true)),
            Err(whole) => {
                tracing::warn!(error = %whole, table, "national query: a province did not answer; asking each");
                let (mut rows, mut missing) = (Vec::new(), Vec::new());
                for code in self.provinces().await? {
                    match run(&self.pool, format!("nation_{table}_p{code}")).await {
                        Ok(r) => rows.extend(r),
                        Err(e) => missing.push(unavailable(&code, &e)),
                    }
                }
                Ok((rows, missing, false))
            }
        }
    }

    /// The national roll-up of `date` (`YYYY-MM-DD`): one query over the partitioned table; if a
    /// province cannot be reached, each province on its own and the failed ones [`Unavailable`].
    pub async fn rollup(&self, date: &str) -> Result<NationalRollup> {
        let (rows, unavailable, one_query) = self
            .national("adoption", |pool, table| async move {
                sqlx::query(&Self::ROLLUP.replace("{table}", &table)).bind(date).fetch_all(pool).await
            })
            .await?;
        let mut out = NationalRollup {
            provinces: rows.iter().map(figures).collect(),
            unavailable,
            one_query,
            ..NationalRollup::default()
        };
        out.provinces.sort_by(|a, b| a.code.cmp(&b.code));
        out.holders = out.provinces.iter().map(|p| p.holders).sum();
        out.adults = out.provinces.iter().map(|p| p.adults).sum();
        Ok(out)
    }

    /// The `limit` communes with the highest share of adults holding a certificate on `date`,
    /// nationally (ties by commune code), and the provinces that could not be asked. Each
    /// province is sent the filter, the order and the limit.
    pub async fn ranking(&self, date: &str, limit: i64) -> Result<(Vec<RankedCommune>, Vec<Unavailable>)> {
        let limit = limit.clamp(0, 10_000);
        let (rows, missing, _) = self
            .national("adoption", |pool, table| async move {
                let sql = format!(
                    "SELECT province_code, commune_code, holders, adults FROM {table} WHERE date = $1 AND adults > 0 \
                     ORDER BY holders::float8 / adults DESC, commune_code LIMIT $2"
                );
                sqlx::query(&sql).bind(date).bind(limit).fetch_all(pool).await
            })
            .await?;
        let mut all: Vec<RankedCommune> = rows
            .iter()
            .map(|r| RankedCommune {
                province_code: r.get("province_code"),
                commune_code: r.get("commune_code"),
                holders: r.get("holders"),
                adults: r.get("adults"),
            })
            .collect();
        // the one query is ordered already; partitions asked one by one are merged here
        all.sort_by(|a, b| {
            let share = |c: &RankedCommune| c.holders as f64 / c.adults as f64;
            share(b).total_cmp(&share(a)).then_with(|| a.commune_code.cmp(&b.commune_code))
        });
        all.truncate(usize::try_from(limit).unwrap_or(0));
        Ok((all, missing))
    }

    /// The coordinator's plan of the roll-up (`EXPLAIN VERBOSE`): each province's "Remote SQL".
    pub async fn explain_rollup(&self, date: &str) -> Result<String> {
        let one = Self::ROLLUP.replace("{table}", "nation_adoption").replace("$1", &literal(date));
        self.explain(&one).await
    }

    /// `EXPLAIN (VERBOSE, COSTS OFF)` of a statement without parameters, one line per row.
    pub(crate) async fn explain(&self, sql: &str) -> Result<String> {
        let rows = sqlx::query(&format!("EXPLAIN (VERBOSE, COSTS OFF) {sql}")).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|r| r.get::<String, _>(0)).collect::<Vec<_>>().join("\n"))
    }

    /// Wait at most `timeout` for the coordinator's pool to close.
    pub async fn close(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.pool.close()).await;
    }
}

/// The foreign partitions of a province, one per national table.
fn partitions(code: &str) -> String {
    TABLES
        .iter()
        .map(|(name, view, _)| {
            format!(
                "CREATE FOREIGN TABLE nation_{name}_p{code} PARTITION OF nation_{name} FOR VALUES IN ('{code}') \
                 SERVER province_{code} OPTIONS (table_name '{view}');\n"
            )
        })
        .collect()
}

/// A text literal for an EXPLAIN (quotes doubled).
fn literal(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

fn figures(r: &PgRow) -> ProvinceFigures {
    ProvinceFigures {
        code: r.get("province_code"),
        communes: r.get("communes"),
        holders: r.get("holders"),
        adults: r.get("adults"),
    }
}

fn unavailable(code: &str, e: &sqlx::Error) -> Unavailable {
    // the first line of PostgreSQL's message (e.g. "could not connect to server …") is enough
    let why = e.to_string();
    let why = why.lines().next().unwrap_or("").trim().to_owned();
    Unavailable {
        code: code.to_owned(),
        message: format!(
            "tỉnh {code}: không truy cập được cơ sở dữ liệu của tỉnh, số liệu của tỉnh tạm thời không có ({why}) / \
             province {code}: its database cannot be reached, its figures are unavailable for now ({why})"
        ),
    }
}
