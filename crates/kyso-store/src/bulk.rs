//! Bulk paths for national-scale campaign data: millions of provider-list rows in one
//! transaction, the register read once into its column index, every commune's snapshot written
//! at once.
//!
//! On SQLite these talk to the database file directly (rusqlite, on a blocking thread): one
//! prepared statement stepped per row, no per-statement hop to a driver thread and no copy of
//! every bound value, which is what bounds sqlx at millions of rows. The sqlx pool and these
//! connections share the file under SQLite's own locking (WAL; writers serialise, readers do not
//! block). On PostgreSQL the same operations go through sqlx.

mod list_read;
mod list_write;
mod register;
pub(crate) mod register_blocks;
mod register_write;

pub(crate) use list_read::BlocksOf;
pub use register::ResidentRef;
pub use register_blocks::RegisterRows;
pub use register_write::{RegisterFeed, RegisterWrite, RegisterWritten};

use crate::campaign::BULK_CHUNK;
use crate::{audit, now, on_pool, values_list, AuditEvent, AuditKey, Result, Store, StoreError};
use std::path::PathBuf;
use std::time::Duration;

/// A provider-list certificate as a bulk import hands it over: the campaign core's 40-byte form
/// (ID number as a number, provider as an index into the names passed alongside, days since
/// 1970-01-01, status as an index of [`kyso_campaign::provider_list::STATUSES`]).
pub use kyso_campaign::provider_list::CompactCert as BulkProviderCert;

/// What a bulk upsert did: new certificates, known ones the list changed, known ones unchanged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BulkUpserted {
    pub inserted: u64,
    pub changed: u64,
    pub unchanged: u64,
}

pub(super) fn sqlite_err(e: rusqlite::Error) -> StoreError {
    StoreError::Db(sqlx::Error::Io(std::io::Error::other(e)))
}

/// A direct connection to the SQLite file of `pool`, with the pool's durability settings.
fn direct(pool: &sqlx::SqlitePool) -> Result<rusqlite::Connection> {
    let path: PathBuf = pool.connect_options().get_filename().to_owned();
    let c = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_err)?;
    c.busy_timeout(Duration::from_secs(30)).map_err(sqlite_err)?;
    // WAL is a property of the file (the pool set it); FULL: a commit is durable when it returns.
    // A 256 MiB page cache: bulk writes and scans touch hundreds of thousands of pages.
    c.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -262144;")
        .map_err(sqlite_err)?;
    Ok(c)
}

/// Runs `f` on a direct connection on the blocking pool.
pub(super) async fn blocking<T: Send + 'static>(
    pool: &sqlx::SqlitePool,
    f: impl FnOnce(&mut rusqlite::Connection) -> Result<T> + Send + 'static,
) -> Result<T> {
    let mut c = direct(pool)?;
    tokio::task::spawn_blocking(move || f(&mut c))
        .await
        .map_err(|e| StoreError::Conflict(format!("bulk task failed: {e}")))?
}

/// [`crate::append_audit`] on a direct connection (inside a transaction holding the audit lock).
pub(super) fn append_audit_direct(c: &rusqlite::Connection, key: &AuditKey, event: &AuditEvent) -> Result<()> {
    let head: Option<(i64, Vec<u8>)> = c
        .query_row("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .map(Some)
        .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })
        .map_err(sqlite_err)?;
    let (seq, prev) = match head {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, audit::GENESIS.to_vec()),
    };
    let at = now();
    let hash = key.row_mac(&prev, seq, at, event).to_vec();
    c.execute(
        "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
        rusqlite::params![seq, at, event.actor, event.action, event.subject, event.detail, prev, hash],
    )
    .map_err(sqlite_err)?;
    Ok(())
}

/// `COPY … (FORMAT binary)`: the signature, no flags, no header extension.
const PGCOPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// Sends `rows` (binary `COPY` tuples) through `statement` (`COPY … FROM STDIN (FORMAT binary)`),
/// with the format's header and trailer.
async fn copy_binary(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, statement: &str, rows: Vec<u8>) -> Result<()> {
    let mut copy = tx.copy_in_raw(statement).await?;
    let mut data = Vec::with_capacity(PGCOPY_HEADER.len() + rows.len() + 2);
    data.extend_from_slice(PGCOPY_HEADER);
    data.extend_from_slice(&rows);
    data.extend_from_slice(&(-1i16).to_be_bytes());
    copy.send(data).await?;
    copy.finish().await?;
    Ok(())
}

/// A read snapshot on PostgreSQL: a transaction that sees one state of the database throughout.
async fn snapshot_pg(pool: &sqlx::PgPool) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(&mut *tx).await?;
    Ok(tx)
}

impl Store {
    /// Stores every commune's holders and adults on `date` as that day's snapshots (replacing
    /// earlier ones of the day), in one transaction. Returns the rows written.
    pub async fn save_adoption_snapshots(&self, date: &str, communes: &[(String, i64, i64)]) -> Result<u64> {
        let is_sqlite = self.is_sqlite();
        let at = now();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut n = 0;
            for chunk in communes.chunks(BULK_CHUNK) {
                let sql = format!("INSERT INTO adoption_snapshots (commune_code, date, holders, adults, taken_at) VALUES {} \
                    ON CONFLICT (commune_code, date) DO UPDATE SET holders = excluded.holders, adults = excluded.adults, \
                    taken_at = excluded.taken_at", values_list(is_sqlite, chunk.len(), 5));
                let mut q = sqlx::query(&sql);
                for (code, holders, adults) in chunk {
                    q = q.bind(code).bind(date).bind(holders).bind(adults).bind(at);
                }
                n += q.execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            Ok(n)
        })
    }
}
