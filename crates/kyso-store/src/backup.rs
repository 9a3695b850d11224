//! Backups of the database while the server runs, and putting one back.
//!
//! **SQLite.** [`backup_sqlite`] copies the database with SQLite's online backup API from one
//! read snapshot: the copying connection holds a read transaction from the first page to the
//! last, so the copy is the database as it was at one instant (every certificate with its key
//! and audit rows, every import whole or not at all), and in WAL mode the server's writers go on
//! meanwhile. The copy is written to a temporary file beside the destination (mode 0600), gets a
//! `kyso_backup` table (the [`Manifest`]: schema version, audit head, counts, `kyso.toml`), is
//! checked with `PRAGMA integrity_check` (or `quick_check`), synced, and only then renamed to its
//! name (and the directory synced): a backup file that exists is a whole, checked backup.
//! [`prepare_restore`] copies a backup to a temporary file, checks it, and takes the manifest
//! out; [`install`] renames it into place, moving what was there aside, never deleting it.
//!
//! **PostgreSQL.** [`Store::pg_snapshot`] exports a snapshot and reads the manifest in it, so that
//! `pg_dump --snapshot` (run by the binary) dumps exactly what the manifest describes.
//!
//! The key-encryption key is never in the database (custody wraps keys under it, the audit chain
//! is keyed by a key derived from it), so no backup made here contains it: it is kept apart.

use crate::Store;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a backup file says it is (the manifest's `format`).
pub const FORMAT: &str = "kyso-backup 1";
/// The manifest's table inside a SQLite backup (dropped on restore).
const MANIFEST_TABLE: &str = "kyso_backup";
/// Pages copied per step of the backup API by default (4 KiB pages: 32 MiB), between progress
/// reports.
pub const PAGES_PER_STEP: i32 = 8192;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} exists already")]
    Exists(PathBuf),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Sqlite { path: PathBuf, source: rusqlite::Error },
    /// The file is not a SQLite database, or has no manifest (not made by `kyso backup`).
    #[error("{0} is not a kyso backup ({1})")]
    NotABackup(PathBuf, String),
    /// The source is not a kyso database (no `kyso_migrations` table).
    #[error("{0} is not a kyso database")]
    NotKyso(PathBuf),
    /// `PRAGMA integrity_check` did not answer `ok`: its first lines.
    #[error("{path} failed the integrity check: {problems}")]
    Corrupt { path: PathBuf, problems: String },
    /// The backup's schema is newer than this kyso knows: a newer kyso made it.
    #[error("the backup's schema version {backup} is newer than this kyso's {known}")]
    NewerSchema { backup: i64, known: i64 },
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}

pub type Result<T> = std::result::Result<T, BackupError>;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io { path: path.to_path_buf(), source }
}

fn sq(path: &Path) -> impl FnOnce(rusqlite::Error) -> BackupError + '_ {
    move |source| BackupError::Sqlite { path: path.to_path_buf(), source }
}

/// What a backup holds, read from the backup's own snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub format: String,
    /// Unix seconds when the snapshot was taken.
    pub created_at: i64,
    /// The kyso version that made it.
    pub kyso_version: String,
    /// The highest migration applied in the backed-up database.
    pub schema_version: i64,
    pub audit_rows: i64,
    /// The audit chain's last row (0 and "" when the log is empty): a restore must end there.
    pub audit_head_seq: i64,
    pub audit_head_hash: String,
    pub certificates: i64,
    /// `kyso.toml` of the data directory (it holds no secrets: those are named by environment
    /// variables), when there was one.
    pub config: Option<String>,
}

impl Manifest {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![
            ("format", self.format.clone()),
            ("created_at", self.created_at.to_string()),
            ("kyso_version", self.kyso_version.clone()),
            ("schema_version", self.schema_version.to_string()),
            ("audit_rows", self.audit_rows.to_string()),
            ("audit_head_seq", self.audit_head_seq.to_string()),
            ("audit_head_hash", self.audit_head_hash.clone()),
            ("certificates", self.certificates.to_string()),
        ];
        if let Some(c) = &self.config {
            v.push(("config", c.clone()));
        }
        v
    }

    fn from_pairs(pairs: &[(String, String)]) -> std::result::Result<Manifest, String> {
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let need = |k: &str| get(k).ok_or_else(|| format!("the manifest has no {k}"));
        let num = |k: &str| need(k)?.parse::<i64>().map_err(|_| format!("the manifest's {k} is not a number"));
        let format = need("format")?;
        if format != FORMAT {
            return Err(format!("unknown backup format `{format}`"));
        }
        Ok(Manifest {
            format,
            created_at: num("created_at")?,
            kyso_version: need("kyso_version")?,
            schema_version: num("schema_version")?,
            audit_rows: num("audit_rows")?,
            audit_head_seq: num("audit_head_seq")?,
            audit_head_hash: need("audit_head_hash")?,
            certificates: num("certificates")?,
            config: get("config"),
        })
    }
}

/// How far a backup is: pages of `page_size` bytes copied, then the check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub pages_done: u64,
    pub pages_total: u64,
    pub page_size: u64,
    pub phase: Phase,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Copying,
    /// The copy is whole; the integrity check starts (it reports nothing until it ends).
    Checking,
}

/// `PRAGMA integrity_check` (every page, every index entry against its row) or `quick_check`
/// (pages and records, not the indexes' agreement with the tables: faster on large files).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    Full,
    Quick,
}

impl Check {
    fn pragma(self) -> &'static str {
        match self {
            Check::Full => "PRAGMA integrity_check(20)",
            Check::Quick => "PRAGMA quick_check(20)",
        }
    }
}

/// The latest schema version this kyso knows (its last migration).
pub fn schema_version() -> i64 {
    crate::MIGRATIONS.last().map(|m| m.version).unwrap_or(0)
}

/// A temporary file beside its destination, removed (with SQLite's side files) unless kept.
struct Temp {
    path: PathBuf,
    keep: bool,
}

impl Temp {
    /// `.<name>.<tag>-<pid>` in `dest`'s directory, created empty with mode 0600.
    fn beside(dest: &Path, tag: &str) -> Result<Temp> {
        let name = dest.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "kyso".into());
        let path = dest.with_file_name(format!(".{name}.{tag}-{}", std::process::id()));
        remove_with_sidecars(&path);
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        o.open(&path).map_err(io(&path))?;
        Ok(Temp { path, keep: false })
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.keep {
            remove_with_sidecars(&self.path);
        }
    }
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn remove_with_sidecars(path: &Path) {
    for p in [path.to_path_buf(), sidecar(path, "-journal"), sidecar(path, "-wal"), sidecar(path, "-shm")] {
        let _ = std::fs::remove_file(p);
    }
}

/// fsync a file, then rename it to `to` and fsync the directory: after a crash the name holds
/// either nothing (or what it held before) or the whole file.
fn sync_rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::File::open(from).and_then(|f| f.sync_all()).map_err(io(from))?;
    std::fs::rename(from, to).map_err(io(to))?;
    sync_dir(to)
}

fn sync_dir(file: &Path) -> Result<()> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    #[cfg(unix)]
    std::fs::File::open(dir).and_then(|f| f.sync_all()).map_err(io(dir))?;
    Ok(())
}

/// Opens an existing database file (never creating one).
fn open_existing(path: &Path, read_only: bool) -> Result<Connection> {
    if !path.exists() {
        return Err(io(path)(std::io::Error::from(std::io::ErrorKind::NotFound)));
    }
    let mode = if read_only { OpenFlags::SQLITE_OPEN_READ_ONLY } else { OpenFlags::SQLITE_OPEN_READ_WRITE };
    let flags = mode | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let c = Connection::open_with_flags(path, flags).map_err(sq(path))?;
    c.busy_timeout(Duration::from_secs(30)).map_err(sq(path))?;
    Ok(c)
}

fn has_table(c: &Connection, path: &Path, table: &str) -> Result<bool> {
    c.query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", [table], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n > 0)
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
            BackupError::NotABackup(path.to_path_buf(), "not a SQLite database".into())
        }
        e => sq(path)(e),
    })
}

/// The schema version, audit head and counts of the database `c` sees.
fn facts(c: &Connection, path: &Path) -> Result<Manifest> {
    let one = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).map_err(sq(path));
    let head: Option<(i64, Vec<u8>)> = c
        .query_row("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(sq(path))?;
    let (audit_head_seq, audit_head_hash) = head.map(|(s, h)| (s, hex::encode(h))).unwrap_or_default();
    Ok(Manifest {
        format: FORMAT.into(),
        schema_version: one("SELECT COALESCE(MAX(version), 0) FROM kyso_migrations")?,
        audit_rows: one("SELECT COUNT(*) FROM audit_log")?,
        audit_head_seq,
        audit_head_hash,
        certificates: one("SELECT COUNT(*) FROM certificates")?,
        ..Manifest::default()
    })
}

fn check(c: &Connection, path: &Path, how: Check) -> Result<()> {
    let mut st = c.prepare(how.pragma()).map_err(sq(path))?;
    let lines: Vec<String> = st
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(sq(path))?
        .collect::<rusqlite::Result<_>>()
        .map_err(sq(path))?;
    if lines.len() == 1 && lines[0] == "ok" {
        return Ok(());
    }
    Err(BackupError::Corrupt { path: path.to_path_buf(), problems: lines.join("; ") })
}

/// What [`backup_sqlite`] is told besides the paths.
pub struct BackupOptions {
    /// Replace an existing destination file (atomically: the old one stays whole until the
    /// rename).
    pub force: bool,
    pub check: Check,
    pub kyso_version: String,
    /// The data directory's `kyso.toml`.
    pub config: Option<String>,
    /// Pages per step of the backup API ([`PAGES_PER_STEP`]): `progress` is called after each.
    pub pages_per_step: i32,
}

/// Copies the SQLite database `src` to `dest` from one read snapshot, while other connections
/// (the server) go on writing; `progress` is called after every step. Returns the manifest
/// written into the copy.
pub fn backup_sqlite(
    src: &Path,
    dest: &Path,
    opts: &BackupOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Manifest> {
    if dest.exists() && !opts.force {
        return Err(BackupError::Exists(dest.to_path_buf()));
    }
    let source = open_existing(src, false)?;
    if !has_table(&source, src, "kyso_migrations")? {
        return Err(BackupError::NotKyso(src.to_path_buf()));
    }
    let mut temp = Temp::beside(dest, "partial")?;
    let mut copy =
        Connection::open_with_flags(&temp.path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(sq(&temp.path))?;
    // Nothing to protect in a file that is renamed only once whole and synced: no journal.
    let _: String = copy.query_row("PRAGMA journal_mode = OFF", [], |r| r.get(0)).map_err(sq(&temp.path))?;
    copy.execute_batch("PRAGMA synchronous = OFF").map_err(sq(&temp.path))?;
    // One read transaction for the whole copy: each step reuses it instead of taking a new one,
    // so the snapshot never moves and the server's commits never restart the copy.
    source.execute_batch("BEGIN DEFERRED").map_err(sq(src))?;
    let created_at = crate::now();
    source.query_row("SELECT COUNT(*) FROM kyso_migrations", [], |r| r.get::<_, i64>(0)).map_err(sq(src))?;
    let page_size: i64 = source.query_row("PRAGMA page_size", [], |r| r.get(0)).map_err(sq(src))?;
    {
        let b = rusqlite::backup::Backup::new(&source, &mut copy).map_err(sq(&temp.path))?;
        loop {
            match b.step(opts.pages_per_step.max(1)).map_err(sq(src))? {
                rusqlite::backup::StepResult::Done => break,
                rusqlite::backup::StepResult::More => {}
                _ => std::thread::sleep(Duration::from_millis(20)), // busy or locked: try again
            }
            let p = b.progress();
            let total = p.pagecount.max(0) as u64;
            progress(Progress {
                pages_done: total.saturating_sub(p.remaining.max(0) as u64),
                pages_total: total,
                page_size: page_size as u64,
                phase: Phase::Copying,
            });
        }
    }
    let total: i64 = copy.query_row("PRAGMA page_count", [], |r| r.get(0)).map_err(sq(&temp.path))?;
    let (total, page_size) = (total.max(0) as u64, page_size.max(0) as u64);
    progress(Progress { pages_done: total, pages_total: total, page_size, phase: Phase::Copying });
    source.execute_batch("COMMIT").map_err(sq(src))?;
    drop(source);

    // The copy's header says WAL (copied from the source): make it a plain rollback-journal file,
    // one self-contained file. The server turns WAL back on when it opens a restored database.
    let jm: String = copy.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0)).map_err(sq(&temp.path))?;
    if jm != "delete" {
        return Err(BackupError::Corrupt { path: temp.path.clone(), problems: format!("journal mode stayed {jm}") });
    }
    let mut m = facts(&copy, &temp.path)?;
    m.created_at = created_at;
    m.kyso_version = opts.kyso_version.clone();
    m.config = opts.config.clone();
    copy.execute_batch(&format!("CREATE TABLE {MANIFEST_TABLE} (name TEXT PRIMARY KEY, value TEXT NOT NULL)"))
        .map_err(sq(&temp.path))?;
    for (k, v) in m.pairs() {
        copy.execute(&format!("INSERT INTO {MANIFEST_TABLE} (name, value) VALUES (?1, ?2)"), [k, v.as_str()])
            .map_err(sq(&temp.path))?;
    }
    progress(Progress { pages_done: total, pages_total: total, page_size, phase: Phase::Checking });
    check(&copy, &temp.path, opts.check)?;
    copy.close().map_err(|(_, e)| sq(&temp.path)(e))?;
    sync_rename(&temp.path, dest)?;
    temp.keep = true;
    Ok(m)
}

/// The manifest of a SQLite backup file, read without changing it.
pub fn read_manifest(file: &Path) -> Result<Manifest> {
    let c = open_existing(file, true)?;
    manifest_of(&c, file)
}

fn manifest_of(c: &Connection, file: &Path) -> Result<Manifest> {
    if !has_table(c, file, MANIFEST_TABLE)? {
        return Err(BackupError::NotABackup(file.to_path_buf(), "no manifest: not made by `kyso backup`".into()));
    }
    let mut st = c.prepare(&format!("SELECT name, value FROM {MANIFEST_TABLE}")).map_err(sq(file))?;
    let pairs: Vec<(String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(sq(file))?
        .collect::<rusqlite::Result<_>>()
        .map_err(sq(file))?;
    Manifest::from_pairs(&pairs).map_err(|why| BackupError::NotABackup(file.to_path_buf(), why))
}

/// A backup copied beside its destination, checked, its manifest taken out: ready for the store
/// to open (migrations, audit check) and for [`Prepared::install`].
pub struct Prepared {
    temp: Temp,
    pub manifest: Manifest,
}

impl Prepared {
    /// The temporary database file, to open (`sqlite://…`) before installing it.
    pub fn path(&self) -> &Path {
        &self.temp.path
    }

    /// Renames the prepared database to `dest` (synced). What was at `dest` (with its `-wal` and
    /// `-shm`) is moved aside to `<dest>.before-restore-<unix seconds>`, never deleted: returns
    /// that name. The server must not be running on `dest`.
    pub fn install(mut self, dest: &Path) -> Result<Option<PathBuf>> {
        // One file, no WAL beside it (`Store::open_restoring` keeps it so; a file left in WAL by
        // another opener is turned back, which needs it to itself: wait for its connections).
        let c = open_existing(&self.temp.path, false)?;
        let t = std::time::Instant::now();
        loop {
            match c.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get::<_, String>(0)) {
                Ok(m) if m == "delete" => break,
                Ok(_) | Err(rusqlite::Error::SqliteFailure(..)) if t.elapsed() < Duration::from_secs(30) => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(m) => {
                    let problems = format!("still in {m} mode: is a server running on it?");
                    return Err(BackupError::Corrupt { path: self.temp.path.clone(), problems });
                }
                Err(e) => return Err(sq(&self.temp.path)(e)),
            }
        }
        c.close().map_err(|(_, e)| sq(&self.temp.path)(e))?;
        let aside = if dest.exists() {
            let old = sidecar(dest, &format!(".before-restore-{}", crate::now()));
            for s in ["-wal", "-shm"] {
                let from = sidecar(dest, s);
                if from.exists() {
                    std::fs::rename(&from, sidecar(&old, s)).map_err(io(&from))?;
                }
            }
            std::fs::rename(dest, &old).map_err(io(dest))?;
            Some(old)
        } else {
            None
        };
        sync_rename(&self.temp.path, dest)?;
        self.temp.keep = true;
        Ok(aside)
    }
}

/// Copies the backup `file` beside `dest` (mode 0600), checks it (`check`), reads and drops its
/// manifest; refuses a backup whose schema is newer than this kyso's.
pub fn prepare_restore(file: &Path, dest: &Path, how: Check) -> Result<Prepared> {
    // Before copying anything: is it a backup at all, and one this kyso can read?
    let m = read_manifest(file)?;
    if m.schema_version > schema_version() {
        return Err(BackupError::NewerSchema { backup: m.schema_version, known: schema_version() });
    }
    let temp = Temp::beside(dest, "restoring")?;
    {
        let mut from = std::fs::File::open(file).map_err(io(file))?;
        let mut to = std::fs::OpenOptions::new().write(true).open(&temp.path).map_err(io(&temp.path))?;
        std::io::copy(&mut from, &mut to).map_err(io(&temp.path))?;
    }
    let c = open_existing(&temp.path, false)?;
    check(&c, file, how)?;
    let manifest = manifest_of(&c, file)?;
    if !has_table(&c, file, "kyso_migrations")? {
        return Err(BackupError::NotKyso(file.to_path_buf()));
    }
    c.execute_batch(&format!("DROP TABLE {MANIFEST_TABLE}")).map_err(sq(&temp.path))?;
    c.close().map_err(|(_, e)| sq(&temp.path)(e))?;
    Ok(Prepared { temp, manifest })
}

/// A PostgreSQL snapshot held open for `pg_dump --snapshot=<id>`, with the manifest read in it.
pub struct PgSnapshot {
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    /// The snapshot's name for `pg_dump --snapshot`.
    pub id: String,
    pub manifest: Manifest,
}

impl PgSnapshot {
    /// Ends the snapshot (after `pg_dump` has finished with it).
    pub async fn end(self) -> Result<()> {
        self.tx.rollback().await.map_err(crate::StoreError::from)?;
        Ok(())
    }
}

impl Store {
    /// Exports a repeatable-read snapshot of a PostgreSQL store and reads the manifest in it
    /// (`config` and `kyso_version` as the caller says). Fails on SQLite.
    pub async fn pg_snapshot(&self, kyso_version: &str, config: Option<String>) -> Result<PgSnapshot> {
        let Store::Postgres(k) = self else {
            return Err(crate::StoreError::Conflict("a PostgreSQL snapshot of a SQLite store".into()).into());
        };
        let e = crate::StoreError::from;
        let mut tx = k.pool.begin().await.map_err(e)?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await.map_err(e)?;
        let id: String = sqlx::query_scalar("SELECT pg_export_snapshot()").fetch_one(&mut *tx).await.map_err(e)?;
        let one = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
        let schema_version =
            one("SELECT COALESCE(MAX(version), 0) FROM kyso_migrations").fetch_one(&mut *tx).await.map_err(e)?;
        let audit_rows = one("SELECT COUNT(*) FROM audit_log").fetch_one(&mut *tx).await.map_err(e)?;
        let certificates = one("SELECT COUNT(*) FROM certificates").fetch_one(&mut *tx).await.map_err(e)?;
        let head: Option<(i64, Vec<u8>)> = sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await
            .map_err(e)?;
        let (audit_head_seq, audit_head_hash) = head.map(|(s, h)| (s, hex::encode(h))).unwrap_or_default();
        let manifest = Manifest {
            format: FORMAT.into(),
            created_at: crate::now(),
            kyso_version: kyso_version.into(),
            schema_version,
            audit_rows,
            audit_head_seq,
            audit_head_hash,
            certificates,
            config,
        };
        Ok(PgSnapshot { tx, id, manifest })
    }
}

/// The schema version of the PostgreSQL database at `url` (its search path), None when it has no
/// kyso tables; nothing is created or migrated.
pub async fn pg_schema_version(url: &str) -> Result<Option<i64>> {
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    use std::str::FromStr;
    let e = crate::StoreError::from;
    let opts = PgConnectOptions::from_str(url).map_err(e)?;
    let pool = PgPoolOptions::new().max_connections(1).connect_with(opts).await.map_err(e)?;
    let found: bool =
        sqlx::query_scalar("SELECT to_regclass('kyso_migrations') IS NOT NULL").fetch_one(&pool).await.map_err(e)?;
    let version = if found {
        Some(
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM kyso_migrations")
                .fetch_one(&pool)
                .await
                .map_err(e)?,
        )
    } else {
        None
    };
    pool.close().await;
    Ok(version)
}
