//! kyso's storage: one repository layer over embedded SQLite (default, WAL, synchronous=FULL)
//! and PostgreSQL. Migrations for both live side by side and are applied at start.
//!
//! Architecture invariant: the only crate that speaks SQL. It knows rows, not certificates:
//! no PKI logic here. Every write that must be audited goes through [`Store::commit`], which
//! appends the audit rows in the same transaction as the change.

pub mod accounts;
pub mod adoption;
pub mod approval;
pub mod audit;
pub mod backup;
pub mod bulk;
pub mod campaign;
pub mod dossiers;
pub mod eid;
pub mod federation;
pub mod forms;
pub mod hotline;
pub mod limits;
pub mod listed;
pub mod notify;
pub mod pins;
pub mod replica;
pub mod reports;
mod rows;
pub mod throttle;
pub mod training;
pub mod trust;

pub use audit::{AuditCheck, AuditEvent, AuditKey, AuditRow, Checkpoint, VerifyReport};
pub use rows::*;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A [`Write::RequireEidLevel`] condition failed for this ID number, or a
    /// [`Write::TotpStep`] was used before. The text is for the caller, not for display.
    #[error("precondition failed (an e-ID level, or a one-time code already used)")]
    Precondition(String),
    /// A [`Write::PinOk`] or [`Write::RequireSignable`] found the credential locked, or its
    /// certificate revoked or expired: nothing of the batch was written.
    #[error("{0}")]
    Locked(String),
    /// A [`Write::ConsumeFormToken`] found the form's token unknown, expired or used before:
    /// the form was submitted already (nothing of the batch was written).
    #[error("this form was submitted already: {0}")]
    FormUsed(String),
    /// A [`Write::RequireNoActiveCertificate`] found a valid certificate (its serial).
    #[error("an active certificate exists already: {0}")]
    AlreadyActive(String),
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://…")]
    BadUrl(String),
    /// A text field longer than its limit ([`limits`]); nothing of the write was stored.
    #[error("{field}: at most {max} characters")]
    TooLong { field: &'static str, max: usize },
    /// An audit row was to be appended (or the chain verified) by a store opened without the
    /// audit key ([`Store::with_audit_key`]).
    #[error("no audit key: the audit chain is keyed by the key-encryption key (run `kyso init`, or set KYSO_KEK)")]
    NoAuditKey,
    /// A read replica refused ([`replica::ReadReplica::connect`]): the sentence says why and
    /// what to do, in Vietnamese then English.
    #[error("{0}")]
    Replica(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Clone)]
pub enum Store {
    Sqlite(Keyed<SqlitePool>),
    Postgres(Keyed<PgPool>),
}

/// A connection pool and the key its audit rows are chained under ([`Store::with_audit_key`]).
/// It dereferences to the pool (`Store::Sqlite(p)` hands out the pool's methods as before); the
/// key lives only in this process, never in the database.
#[derive(Clone)]
pub struct Keyed<P> {
    pub(crate) pool: P,
    audit_key: Option<Arc<AuditKey>>,
}

impl<P> Keyed<P> {
    fn new(pool: P) -> Keyed<P> {
        Keyed { pool, audit_key: None }
    }
    pub fn pool(&self) -> &P {
        &self.pool
    }
}

impl<P> std::ops::Deref for Keyed<P> {
    type Target = P;
    fn deref(&self) -> &P {
        &self.pool
    }
}

/// Run the same sqlx code against whichever pool this is (compiled once per backend); `$p` is
/// the `&SqlitePool` or `&PgPool`.
macro_rules! on_pool {
    ($store:expr, $p:ident => $body:expr) => {
        match $store {
            Store::Sqlite(keyed) => {
                let $p = &keyed.pool;
                $body
            }
            Store::Postgres(keyed) => {
                let $p = &keyed.pool;
                $body
            }
        }
    };
}
pub(crate) use on_pool;

/// Takes the audit lock (SQLite write lock / PostgreSQL advisory lock) at the start of a
/// transaction: the same rule as [`Store::commit`], so the audit chain stays linear.
macro_rules! lock {
    ($tx:expr, $is_sqlite:expr) => {
        if $is_sqlite {
            sqlx::query("UPDATE settings SET value = value WHERE name = '-'").execute(&mut *$tx).await?;
        } else {
            sqlx::query("SELECT pg_advisory_xact_lock(735271)").execute(&mut *$tx).await?;
        }
    };
}
pub(crate) use lock;

/// Appends one audit row to the chain inside a transaction that holds the audit lock, keyed by
/// `$store`'s audit key (fails with [`StoreError::NoAuditKey`] without one).
macro_rules! append_audit {
    ($store:expr, $tx:expr, $event:expr) => {{
        use sqlx::Row as _;
        let event: &$crate::AuditEvent = $event;
        let key = $store.audit_key()?;
        let head = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetch_optional(&mut *$tx).await?;
        let (seq, prev): (i64, Vec<u8>) = match head {
            Some(r) => (r.get::<i64, _>("seq") + 1, r.get("hash")),
            None => (1, $crate::audit::GENESIS.to_vec()),
        };
        let at = $crate::now();
        let hash = key.row_mac(&prev, seq, at, event).to_vec();
        sqlx::query("INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)")
            .bind(seq).bind(at).bind(&event.actor).bind(&event.action).bind(&event.subject).bind(&event.detail)
            .bind(&prev).bind(&hash).execute(&mut *$tx).await?;
    }};
}
pub(crate) use append_audit;

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "trust core",
        sqlite: include_str!("../migrations/sqlite/0001_trust_core.sql"),
        postgres: include_str!("../migrations/postgres/0001_trust_core.sql"),
    },
    Migration {
        version: 2,
        name: "remote signing",
        sqlite: include_str!("../migrations/sqlite/0002_remote_signing.sql"),
        postgres: include_str!("../migrations/postgres/0002_remote_signing.sql"),
    },
    Migration {
        version: 3,
        name: "campaign",
        sqlite: include_str!("../migrations/sqlite/0003_campaign.sql"),
        postgres: include_str!("../migrations/postgres/0003_campaign.sql"),
    },
    Migration {
        version: 4,
        name: "accounts",
        sqlite: include_str!("../migrations/sqlite/0004_accounts.sql"),
        postgres: include_str!("../migrations/postgres/0004_accounts.sql"),
    },
    Migration {
        version: 5,
        name: "reports and tasks",
        sqlite: include_str!("../migrations/sqlite/0005_reports_tasks.sql"),
        postgres: include_str!("../migrations/postgres/0005_reports_tasks.sql"),
    },
    Migration {
        version: 6,
        name: "provider lists",
        sqlite: include_str!("../migrations/sqlite/0006_provider_lists.sql"),
        postgres: include_str!("../migrations/postgres/0006_provider_lists.sql"),
    },
    Migration {
        version: 7,
        name: "bulk campaign data",
        sqlite: include_str!("../migrations/sqlite/0007_bulk_campaign.sql"),
        postgres: include_str!("../migrations/postgres/0007_bulk_campaign.sql"),
    },
    Migration {
        version: 8,
        name: "packed provider lists",
        sqlite: include_str!("../migrations/sqlite/0008_packed_provider_lists.sql"),
        postgres: include_str!("../migrations/postgres/0008_packed_provider_lists.sql"),
    },
    Migration {
        version: 9,
        name: "second factor",
        sqlite: include_str!("../migrations/sqlite/0009_second_factor.sql"),
        postgres: include_str!("../migrations/postgres/0009_second_factor.sql"),
    },
    Migration {
        version: 10,
        name: "guide scans",
        sqlite: include_str!("../migrations/sqlite/0010_guide_scans.sql"),
        postgres: include_str!("../migrations/postgres/0010_guide_scans.sql"),
    },
    Migration {
        version: 11,
        name: "audit hardening",
        sqlite: include_str!("../migrations/sqlite/0011_audit_hardening.sql"),
        postgres: include_str!("../migrations/postgres/0011_audit_hardening.sql"),
    },
    Migration {
        version: 12,
        name: "login throttle",
        sqlite: include_str!("../migrations/sqlite/0012_login_throttle.sql"),
        postgres: include_str!("../migrations/postgres/0012_login_throttle.sql"),
    },
    Migration {
        version: 13,
        name: "PIN checks in flight",
        sqlite: include_str!("../migrations/sqlite/0013_pin_checks.sql"),
        postgres: include_str!("../migrations/postgres/0013_pin_checks.sql"),
    },
    Migration {
        version: 14,
        name: "trust list and fetch cache",
        sqlite: include_str!("../migrations/sqlite/0014_trust_list.sql"),
        postgres: include_str!("../migrations/postgres/0014_trust_list.sql"),
    },
    Migration {
        version: 15,
        name: "dossiers",
        sqlite: include_str!("../migrations/sqlite/0015_dossiers.sql"),
        postgres: include_str!("../migrations/postgres/0015_dossiers.sql"),
    },
    Migration {
        version: 16,
        name: "form tokens, opening hours",
        sqlite: include_str!("../migrations/sqlite/0016_form_tokens_hours.sql"),
        postgres: include_str!("../migrations/postgres/0016_form_tokens_hours.sql"),
    },
    Migration {
        version: 17,
        name: "provider names as written",
        sqlite: include_str!("../migrations/sqlite/0017_provider_names_as_written.sql"),
        postgres: include_str!("../migrations/postgres/0017_provider_names_as_written.sql"),
    },
    Migration {
        version: 18,
        name: "e-ID levels from the police list",
        sqlite: include_str!("../migrations/sqlite/0018_eid_levels.sql"),
        postgres: include_str!("../migrations/postgres/0018_eid_levels.sql"),
    },
    Migration {
        version: 19,
        name: "notification outbox",
        sqlite: include_str!("../migrations/sqlite/0019_notify_outbox.sql"),
        postgres: include_str!("../migrations/postgres/0019_notify_outbox.sql"),
    },
    Migration {
        version: 21,
        name: "reaching people: hotline, training",
        sqlite: include_str!("../migrations/sqlite/0021_reaching_people.sql"),
        postgres: include_str!("../migrations/postgres/0021_reaching_people.sql"),
    },
    Migration {
        version: 22,
        name: "report approval and reporting agencies",
        sqlite: include_str!("../migrations/sqlite/0022_report_approval.sql"),
        postgres: include_str!("../migrations/postgres/0022_report_approval.sql"),
    },
    Migration {
        version: 23,
        name: "adoption snapshots by date",
        sqlite: include_str!("../migrations/sqlite/0023_adoption_by_date.sql"),
        postgres: include_str!("../migrations/postgres/0023_adoption_by_date.sql"),
    },
    Migration {
        version: 25,
        name: "federation views",
        sqlite: include_str!("../migrations/sqlite/0025_federation_views.sql"),
        postgres: include_str!("../migrations/postgres/0025_federation_views.sql"),
    },
    Migration {
        version: 26,
        name: "federation: residents, certificates, provider-list blocks",
        sqlite: include_str!("../migrations/sqlite/0026_federation_national_tables.sql"),
        postgres: include_str!("../migrations/postgres/0026_federation_national_tables.sql"),
    },
    Migration {
        version: 27,
        name: "the register as blocks",
        sqlite: include_str!("../migrations/sqlite/0027_register_blocks.sql"),
        postgres: include_str!("../migrations/postgres/0027_register_blocks.sql"),
    },
];

impl Store {
    /// Connect (creating the SQLite file if needed) and apply pending migrations.
    pub async fn open(url: &str) -> Result<Store> {
        let store = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(30))
                // Group commits touch many random index pages (serials are random): keep them
                // cached, and checkpoint the WAL in larger steps.
                .pragma("cache_size", "-65536")
                .pragma("wal_autocheckpoint", "8192")
                .foreign_keys(true);
            Store::Sqlite(Keyed::new(SqlitePoolOptions::new().max_connections(4).connect_with(opts).await?))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Store::Postgres(Keyed::new(open_postgres_pool(url).await?))
        } else {
            return Err(StoreError::BadUrl(url.to_string()));
        };
        store.migrate(i64::MAX).await?;
        Ok(store)
    }

    /// A SQLite file being restored ([`backup::prepare_restore`]), migrated forward, in
    /// rollback-journal mode on one connection: nothing stays locked or beside the file once it
    /// is closed, so it can be renamed into place ([`backup::Prepared::install`]); the server
    /// turns WAL on when it opens it.
    pub async fn open_restoring(path: &std::path::Path) -> Result<Store> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .journal_mode(SqliteJournalMode::Delete)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        let store = Store::Sqlite(Keyed::new(SqlitePoolOptions::new().max_connections(1).connect_with(opts).await?));
        store.migrate(i64::MAX).await?;
        Ok(store)
    }

    /// A SQLite store with the migrations up to `version` only: an older kyso's database, for the
    /// tests of migrating a restored backup forward.
    #[doc(hidden)]
    pub async fn open_sqlite_at_version(path: &std::path::Path, version: i64) -> Result<Store> {
        let opts =
            SqliteConnectOptions::new().filename(path).create_if_missing(true).journal_mode(SqliteJournalMode::Wal);
        let store = Store::Sqlite(Keyed::new(SqlitePoolOptions::new().max_connections(1).connect_with(opts).await?));
        store.migrate(version).await?;
        Ok(store)
    }

    /// PostgreSQL in a fresh schema of its own (tests run in parallel without interfering).
    pub async fn open_postgres_schema(url: &str, schema: &str) -> Result<Store> {
        let admin = PgPoolOptions::new().max_connections(1).connect(url).await?;
        sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"")).execute(&admin).await?;
        admin.close().await;
        let opts = PgConnectOptions::from_str(url)?.options([("search_path", schema)]);
        let store = Store::Postgres(Keyed::new(PgPoolOptions::new().max_connections(8).connect_with(opts).await?));
        store.migrate(i64::MAX).await?;
        Ok(store)
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// This store with the key its audit rows are chained (and verified) under. kyso derives it
    /// from the KEK (`kyso_authority::audit_key`); tests without a KEK use
    /// [`AuditKey::insecure_test_key`]. Without a key, appending an audit row fails.
    pub fn with_audit_key(self, key: AuditKey) -> Store {
        let key = Some(Arc::new(key));
        match self {
            Store::Sqlite(k) => Store::Sqlite(Keyed { audit_key: key, ..k }),
            Store::Postgres(k) => Store::Postgres(Keyed { audit_key: key, ..k }),
        }
    }

    /// The audit key, or [`StoreError::NoAuditKey`].
    pub fn audit_key(&self) -> Result<&AuditKey> {
        let key = match self {
            Store::Sqlite(k) => &k.audit_key,
            Store::Postgres(k) => &k.audit_key,
        };
        key.as_deref().ok_or(StoreError::NoAuditKey)
    }

    pub(crate) fn audit_key_arc(&self) -> Option<Arc<AuditKey>> {
        match self {
            Store::Sqlite(k) => k.audit_key.clone(),
            Store::Postgres(k) => k.audit_key.clone(),
        }
    }

    /// Applies the migrations not applied yet, up to `up_to` (all: `i64::MAX`).
    async fn migrate(&self, up_to: i64) -> Result<()> {
        on_pool!(self, p => {
            sqlx::raw_sql("CREATE TABLE IF NOT EXISTS kyso_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)")
                .execute(p).await?;
            for m in MIGRATIONS.iter().take_while(|m| m.version <= up_to) {
                let mut tx = p.begin().await?;
                let done: Option<i64> = sqlx::query_scalar("SELECT version FROM kyso_migrations WHERE version = $1")
                    .bind(m.version).fetch_optional(&mut *tx).await?;
                if done.is_some() {
                    continue;
                }
                let sql = if matches!(self, Store::Sqlite(_)) { m.sqlite } else { m.postgres };
                sqlx::raw_sql(sql).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO kyso_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                    .bind(m.version).bind(m.name).bind(now()).execute(&mut *tx).await?;
                tx.commit().await?;
                tracing::info!(version = m.version, name = m.name, "applied migration");
            }
            Ok::<(), StoreError>(())
        })?;
        self.convert_v7_provider_certificates().await?;
        self.convert_v26_residents().await?;
        Ok(())
    }

    pub async fn close(&self) {
        on_pool!(self, p => p.close().await)
    }

    pub async fn setting(&self, name: &str) -> Result<Option<String>> {
        on_pool!(self, p => Ok(sqlx::query_scalar("SELECT value FROM settings WHERE name = $1").bind(name).fetch_optional(p).await?))
    }
}

/// A PostgreSQL pool as [`Store::open`] makes it (no migrations: a read replica opens one too).
pub(crate) async fn open_postgres_pool(url: &str) -> Result<PgPool> {
    let opts = PgConnectOptions::from_str(url)?;
    Ok(PgPoolOptions::new().max_connections(8).connect_with(opts).await?)
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Placeholders for a multi-row VALUES list: `?` for SQLite (positional; named ones make the
/// driver look every name up, quadratic in the row count), `$1, $2, …` for PostgreSQL.
fn values_list(sqlite: bool, rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push(',');
            }
            if sqlite {
                s.push('?');
            } else {
                s.push('$');
                s.push_str(&(r * cols + c + 1).to_string());
            }
        }
        s.push(')');
    }
    s
}
