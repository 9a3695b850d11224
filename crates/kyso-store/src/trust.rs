//! The trust list's editions and the fetch cache (migration 14). The store keeps text and bytes;
//! what they mean is kyso-trust's (the list) and kyso-authority's (fetched revocation data).

use crate::{append_audit, lock, on_pool, AuditEvent, Result, Store, StoreError};
use sqlx::Row;
use std::collections::HashMap;

/// One imported edition of the trust list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustListRow {
    /// Local import number (grows with each import).
    pub seq: i64,
    /// The list's own TSLSequenceNumber.
    pub sequence_number: i64,
    pub sha256: String,
    pub body: String,
    pub imported_at: i64,
    pub imported_by: String,
}

/// Longest trust list text stored (kyso-trust refuses larger ones first).
pub const MAX_TRUST_LIST_BYTES: usize = 8 << 20;
/// Largest fetched item cached (a CRL of a big provider is a few MiB).
pub const MAX_FETCH_BYTES: usize = 20 << 20;

impl Store {
    /// Store a new edition, audited in the same transaction. Refused with
    /// [`StoreError::Conflict`] when its sequence number is below the edition in force (an older
    /// list must not replace a newer one); the same number again replaces it only with new text.
    pub async fn import_trust_list(&self, sequence_number: i64, sha256: &str, body: &str, actor: &str) -> Result<i64> {
        if body.len() > MAX_TRUST_LIST_BYTES {
            return Err(StoreError::TooLong { field: "trust list", max: MAX_TRUST_LIST_BYTES });
        }
        let is_sqlite = matches!(self, Store::Sqlite(_));
        let event = AuditEvent::new(
            actor,
            "trust_list.import",
            &format!("sequence {sequence_number}"),
            format!("sha256 {sha256}"),
        );
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let cur = sqlx::query("SELECT sequence_number, sha256 FROM trust_lists ORDER BY seq DESC LIMIT 1").fetch_optional(&mut *tx).await?;
            if let Some(r) = cur {
                let (n, h): (i64, String) = (r.get("sequence_number"), r.get("sha256"));
                if sequence_number < n {
                    return Err(StoreError::Conflict(format!(
                        "danh sách có số thứ tự {sequence_number}, cũ hơn danh sách đang dùng (số {n}) / sequence {sequence_number} is older than the list in force ({n})"
                    )));
                }
                if sequence_number == n && h == sha256 {
                    return Err(StoreError::Conflict(format!("danh sách này (số {n}) đã được nhập / this list (sequence {n}) is already imported")));
                }
            }
            let seq: i64 = sqlx::query_scalar("INSERT INTO trust_lists (sequence_number, sha256, body, imported_at, imported_by) VALUES ($1,$2,$3,$4,$5) RETURNING seq")
                .bind(sequence_number).bind(sha256).bind(body).bind(crate::now()).bind(actor).fetch_one(&mut *tx).await?;
            append_audit!(self, tx, &event);
            tx.commit().await?;
            Ok(seq)
        })
    }

    /// The edition in force, if any.
    pub async fn trust_list(&self) -> Result<Option<TrustListRow>> {
        on_pool!(self, p => {
            let r = sqlx::query("SELECT seq, sequence_number, sha256, body, imported_at, imported_by FROM trust_lists ORDER BY seq DESC LIMIT 1")
                .fetch_optional(p).await?;
            Ok(r.map(|r| TrustListRow {
                seq: r.get("seq"),
                sequence_number: r.get("sequence_number"),
                sha256: r.get("sha256"),
                body: r.get("body"),
                imported_at: r.get("imported_at"),
                imported_by: r.get("imported_by"),
            }))
        })
    }

    /// The import number of the edition in force (a cheap check before reloading it).
    pub async fn trust_list_seq(&self) -> Result<Option<i64>> {
        on_pool!(self, p => Ok(sqlx::query_scalar("SELECT MAX(seq) FROM trust_lists").fetch_one(p).await?))
    }

    /// The cached items among `keys` still fresh at `now` (next_update after it), asked together.
    pub async fn fetch_cached(&self, keys: &[String], now: i64) -> Result<HashMap<String, Vec<u8>>> {
        let mut out = HashMap::new();
        // one round trip per 64 keys (a document's certificates are asked about together)
        for chunk in keys.chunks(64) {
            let marks: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
            let sql =
                format!("SELECT key, body FROM fetch_cache WHERE next_update > $1 AND key IN ({})", marks.join(", "));
            on_pool!(self, p => {
                let mut q = sqlx::query(&sql).bind(now);
                for k in chunk {
                    q = q.bind(k);
                }
                for r in q.fetch_all(p).await? {
                    out.insert(r.get::<String, _>("key"), r.get::<Vec<u8>, _>("body"));
                }
            });
        }
        Ok(out)
    }

    /// Cache a fetched item until `next_update` (replacing what the key held).
    pub async fn put_fetched(&self, key: &str, kind: &str, body: &[u8], now: i64, next_update: i64) -> Result<()> {
        if body.len() > MAX_FETCH_BYTES {
            return Err(StoreError::TooLong { field: "fetched item", max: MAX_FETCH_BYTES });
        }
        on_pool!(self, p => {
            sqlx::query("INSERT INTO fetch_cache (key, kind, body, fetched_at, next_update) VALUES ($1,$2,$3,$4,$5) \
                ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, body = excluded.body, fetched_at = excluded.fetched_at, next_update = excluded.next_update")
                .bind(key).bind(kind).bind(body).bind(now).bind(next_update).execute(p).await?;
            Ok(())
        })
    }

    /// Drop cached items whose next_update is at or before `now`; how many went.
    pub async fn prune_fetched(&self, now: i64) -> Result<u64> {
        on_pool!(self, p => Ok(sqlx::query("DELETE FROM fetch_cache WHERE next_update <= $1").bind(now).execute(p).await?.rows_affected()))
    }
}
