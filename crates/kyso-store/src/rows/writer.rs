//! The SQLite writer: one rusqlite connection owned by the thread that group-commits (see
//! `kyso_authority::Committer`). Through sqlx every statement hops to the driver's worker thread
//! and back and every bound blob is copied; here the statements are prepared once and run on the
//! caller's thread, which on two cores is the difference between the writer competing with
//! issuance for the CPU and staying out of its way.
//!
//! It applies the writes of issuance and registration (keys, certificates, citizens, settings,
//! audit rows, the e-ID level precondition) with exactly the semantics of [`Store::commit`]: one
//! `BEGIN IMMEDIATE` transaction (the SQLite write lock, so the audit chain stays linear with any
//! other writer, sqlx or another process), durable (`synchronous=FULL`) before it returns.
//! Batches holding any other kind of write go through [`Store::commit`]; [`SqliteWriter::handles`]
//! tells which. Audit rows are chained under the store's audit key, which [`Store::sqlite_writer`]
//! hands over (a writer opened by path gets it from [`SqliteWriter::with_audit_key`]).

use crate::audit::{self, AuditEvent, AuditKey};
use crate::{now, Result, Store, StoreError, Write};
use rusqlite::{params, Connection, ErrorCode, OpenFlags, TransactionBehavior};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct SqliteWriter {
    conn: Connection,
    path: PathBuf,
    audit_key: Option<Arc<AuditKey>>,
}

impl Store {
    /// A direct writer on this store's SQLite file, or `None` for PostgreSQL (and for an
    /// in-memory SQLite database, which a second connection would not see).
    pub fn sqlite_writer(&self) -> Result<Option<SqliteWriter>> {
        let Store::Sqlite(pool) = self else { return Ok(None) };
        let path = pool.connect_options().get_filename().to_path_buf();
        if !path.is_file() {
            return Ok(None);
        }
        let mut w = SqliteWriter::open(&path)?;
        w.audit_key = self.audit_key_arc();
        Ok(Some(w))
    }
}

impl SqliteWriter {
    /// Open a connection with the same settings as the sqlx pool's (WAL, `synchronous=FULL`,
    /// foreign keys, 30 s busy timeout, 64 MiB page cache).
    pub fn open(path: &Path) -> Result<SqliteWriter> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(db)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(db)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Conflict(format!("{}: journal mode is {mode}, not WAL", path.display())));
        }
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 8192;",
        )
        .map_err(db)?;
        let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).map_err(db)?;
        if sync != 2 {
            return Err(StoreError::Conflict(format!("{}: synchronous is {sync}, not FULL (2)", path.display())));
        }
        conn.set_prepared_statement_cache_capacity(16);
        Ok(SqliteWriter { conn, path: path.to_path_buf(), audit_key: None })
    }

    /// This writer with the key its audit rows are chained under (see [`Store::with_audit_key`]).
    pub fn with_audit_key(mut self, key: AuditKey) -> SqliteWriter {
        self.audit_key = Some(Arc::new(key));
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether every write in the batch is one this writer applies (otherwise use
    /// [`Store::commit`] for the whole batch).
    pub fn handles(writes: &[Write]) -> bool {
        writes.iter().all(|w| {
            matches!(
                w,
                Write::Key(_)
                    | Write::Certificate(_)
                    | Write::Audit(_)
                    | Write::RequireEidLevel { .. }
                    | Write::Citizen(_)
                    | Write::Setting { .. }
            )
        })
    }

    /// Apply the writes in one transaction, in the same order and with the same errors as
    /// [`Store::commit`]: the e-ID preconditions, keys, citizens and settings (in the order
    /// given), certificates, then the audit rows appended to the chain. Returns once durable.
    pub fn commit(&mut self, writes: &[Write]) -> Result<()> {
        crate::limits::check_writes(writes)?;
        if !Self::handles(writes) {
            return Err(StoreError::Conflict("the SQLite writer was handed a write it does not apply".into()));
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        {
            let mut required: Vec<(&str, i64)> = writes
                .iter()
                .filter_map(|w| match w {
                    Write::RequireEidLevel { id_number, level } => Some((id_number.as_str(), *level)),
                    _ => None,
                })
                .collect();
            if !required.is_empty() {
                required.sort();
                required.dedup();
                let mut q = tx.prepare_cached("SELECT eid_level FROM citizens WHERE id_number = ?1").map_err(db)?;
                for (id, level) in required {
                    let have: Option<i64> = match q.query_row([id], |r| r.get(0)) {
                        Ok(l) => Some(l),
                        Err(rusqlite::Error::QueryReturnedNoRows) => None,
                        Err(e) => return Err(db(e)),
                    };
                    if have.is_none_or(|l| l < level) {
                        return Err(StoreError::Precondition(id.to_string()));
                    }
                }
            }
            let mut keys = None;
            for w in writes {
                if let Write::Key(k) = w {
                    let q = match &mut keys {
                        Some(q) => q,
                        None => keys.insert(tx.prepare_cached(
                            "INSERT INTO keys (id, backend, algorithm, public_key, wrapped, created_at) VALUES (?1,?2,?3,?4,?5,?6)",
                        ).map_err(db)?),
                    };
                    q.execute(params![k.id, k.backend, k.algorithm, k.public_key, k.wrapped, k.created_at])
                        .map_err(db)?;
                }
            }
            for w in writes {
                match w {
                    Write::Citizen(c) => {
                        tx.prepare_cached(
                            "INSERT INTO citizens (id_number, full_name, province, commune, eid_level, updated_at) VALUES (?1,?2,?3,?4,?5,?6) \
                             ON CONFLICT (id_number) DO UPDATE SET full_name = excluded.full_name, province = excluded.province, \
                             commune = excluded.commune, eid_level = excluded.eid_level, updated_at = excluded.updated_at",
                        )
                        .map_err(db)?
                        .execute(params![c.id_number, c.full_name, c.province, c.commune, c.eid_level, c.updated_at])
                        .map_err(db)?;
                    }
                    Write::Setting { name, value } => {
                        tx.prepare_cached(
                            "INSERT INTO settings (name, value) VALUES (?1,?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                        )
                        .map_err(db)?
                        .execute(params![name, value])
                        .map_err(db)?;
                    }
                    _ => {}
                }
            }
            let mut certs = None;
            for w in writes {
                if let Write::Certificate(c) = w {
                    let q = match &mut certs {
                        Some(q) => q,
                        None => certs.insert(tx.prepare_cached(
                            "INSERT INTO certificates (serial, issuer_id, profile, id_number, subject_cn, key_id, not_before, not_after, \
                             revoked_at, revocation_reason, superseded_by, der, created_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)",
                        ).map_err(db)?),
                    };
                    q.execute(params![
                        c.serial,
                        c.issuer_id,
                        c.profile,
                        c.id_number,
                        c.subject_cn,
                        c.key_id,
                        c.not_before,
                        c.not_after,
                        c.revoked_at,
                        c.revocation_reason,
                        c.superseded_by,
                        c.der,
                        c.created_at
                    ])
                    .map_err(|e| match unique_violation(&e) {
                        true => StoreError::Conflict("certificate serial already exists".into()),
                        false => db(e),
                    })?;
                }
            }
            let audits: Vec<&AuditEvent> = writes
                .iter()
                .filter_map(|w| match w {
                    Write::Audit(a) => Some(a),
                    _ => None,
                })
                .collect();
            if !audits.is_empty() {
                let key = self.audit_key.as_deref().ok_or(StoreError::NoAuditKey)?;
                let head = tx
                    .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                    .map_err(db)?
                    .query_row([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)));
                let (mut seq, mut prev) = match head {
                    Ok(h) => h,
                    Err(rusqlite::Error::QueryReturnedNoRows) => (0, audit::GENESIS.to_vec()),
                    Err(e) => return Err(db(e)),
                };
                let at = now();
                let mut q = tx
                    .prepare_cached(
                        "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
                    )
                    .map_err(db)?;
                for e in audits {
                    seq += 1;
                    let hash = key.row_mac(&prev, seq, at, e).to_vec();
                    q.execute(params![seq, at, e.actor, e.action, e.subject, e.detail, prev, hash]).map_err(db)?;
                    prev = hash;
                }
            }
        }
        tx.commit().map_err(db)
    }
}

fn unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.code == ErrorCode::ConstraintViolation
            && matches!(f.extended_code, rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY))
}

/// A rusqlite error as the database error sqlx would have reported for the same failure, so
/// callers see one error type whichever connection wrote.
fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Db(sqlx::Error::Database(Box::new(SqliteFailure(e))))
}

#[derive(Debug)]
struct SqliteFailure(rusqlite::Error);

impl std::fmt::Display for SqliteFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for SqliteFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl sqlx::error::DatabaseError for SqliteFailure {
    fn message(&self) -> &str {
        match &self.0 {
            rusqlite::Error::SqliteFailure(_, Some(m)) => m,
            _ => "SQLite error",
        }
    }
    fn code(&self) -> Option<Cow<'_, str>> {
        match &self.0 {
            rusqlite::Error::SqliteFailure(f, _) => Some(Cow::Owned(f.extended_code.to_string())),
            _ => None,
        }
    }
    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }
    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }
    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }
    fn kind(&self) -> sqlx::error::ErrorKind {
        use rusqlite::ffi;
        use sqlx::error::ErrorKind;
        match &self.0 {
            rusqlite::Error::SqliteFailure(f, _) => match f.extended_code {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => ErrorKind::UniqueViolation,
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
                ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
                ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
                _ => ErrorKind::Other,
            },
            _ => ErrorKind::Other,
        }
    }
}
