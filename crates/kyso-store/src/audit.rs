//! The tamper-evident audit log, chain v2: each row carries an HMAC-SHA-256, under the audit key,
//! of its content chained to the previous row's value. The audit key is derived from the
//! key-encryption key (`kyso_authority::audit_key`: HMAC-SHA-256(KEK, [`KEY_LABEL`])) and never
//! stored in the database, so whoever can write the database without holding the KEK cannot
//! recompute the chain after editing, deleting, inserting or reordering rows. (Chain v1 was plain
//! SHA-256: anyone could recompute it. v1 chains do not verify as v2; kyso had no deployment.)
//!
//! [`Verifier`] walks the chain and names the first bad row. `Store::check_audit` (what
//! `kyso audit verify` runs) resumes from the last verified [`Checkpoint`] (stored with a MAC
//! under the audit key), MAC-checks every certificate issuance and revocation row, and compares
//! every certificate's status with them. Truncating the tail is visible when it reaches below the
//! checkpoint, and otherwise only against an externally kept head, which `kyso audit verify`
//! prints for that purpose.

use crate::{on_pool, Result, Store, StoreError};
use aws_lc_rs::{constant_time, digest, hmac};

/// The label the audit key is derived from the KEK under.
pub const KEY_LABEL: &str = "kyso audit chain v2";
/// Domain separation of the two things the audit key MACs.
const ROW_TAG: &[u8] = b"kyso-audit-v2\0row\0";
const CHECKPOINT_TAG: &[u8] = b"kyso-audit-v2\0checkpoint\0";
/// The action of a certificate's issuance row (subject: its serial).
pub const CERT_ISSUE: &str = "cert.issue";
/// The action of a certificate's revocation row (subject: its serial).
pub const CERT_REVOKE: &str = "cert.revoke";

/// An event to append. Never put a full ID number or any secret in these fields.
#[derive(Clone, Debug)]
pub struct AuditEvent {
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

impl AuditEvent {
    pub fn new(actor: &str, action: &str, subject: &str, detail: impl Into<String>) -> AuditEvent {
        AuditEvent { actor: actor.into(), action: action.into(), subject: subject.into(), detail: detail.into() }
    }
}

#[derive(Clone, Debug)]
pub struct AuditRow {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// A stored row as the verifier reads it (borrowed from the driver's row: no copy per row).
#[derive(Clone, Copy, Debug)]
pub struct RowRef<'a> {
    pub seq: i64,
    pub at: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
    pub detail: &'a str,
    pub prev_hash: &'a [u8],
    pub hash: &'a [u8],
}

impl AuditRow {
    pub fn as_ref(&self) -> RowRef<'_> {
        RowRef {
            seq: self.seq,
            at: self.at,
            actor: &self.actor,
            action: &self.action,
            subject: &self.subject,
            detail: &self.detail,
            prev_hash: &self.prev_hash,
            hash: &self.hash,
        }
    }
}

/// The chain value before row 1.
pub const GENESIS: [u8; 32] = [0u8; 32];

/// The secret the chain and the checkpoints are MACed under. Not `Debug`-printable, never stored.
#[derive(Clone)]
pub struct AuditKey(hmac::Key);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(…)")
    }
}

impl AuditKey {
    /// From 32 secret bytes; kyso derives them from the KEK (`kyso_authority::audit_key`).
    pub fn new(secret: &[u8; 32]) -> AuditKey {
        AuditKey(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// The PUBLIC test key, SHA-256 of `kyso TEST audit key: public, never for a deployment`:
    /// for tests that write audit rows without a KEK (kyso-store's own). It protects nothing —
    /// anyone can recompute a chain under it — and a chain written under it does not verify under
    /// any real key (nor the reverse).
    pub fn insecure_test_key() -> AuditKey {
        let d = digest::digest(&digest::SHA256, b"kyso TEST audit key: public, never for a deployment");
        let mut k = [0u8; 32];
        k.copy_from_slice(d.as_ref());
        AuditKey::new(&k)
    }

    /// The chain value of a row: HMAC(key, tag ‖ prev ‖ seq ‖ at ‖ the four fields, each
    /// length-prefixed).
    pub fn row_mac(&self, prev: &[u8], seq: i64, at: i64, e: &AuditEvent) -> [u8; 32] {
        self.mac_fields(prev, seq, at, [&e.actor, &e.action, &e.subject, &e.detail])
    }

    fn mac_fields(&self, prev: &[u8], seq: i64, at: i64, fields: [&str; 4]) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(ROW_TAG);
        ctx.update(prev);
        ctx.update(&seq.to_be_bytes());
        ctx.update(&at.to_be_bytes());
        for f in fields {
            ctx.update(&(f.len() as u32).to_be_bytes());
            ctx.update(f.as_bytes());
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    /// Whether a stored row's `hash` is the MAC of its own content and `prev_hash` (the row
    /// alone, without its neighbours).
    pub fn row_is_authentic(&self, r: &RowRef<'_>) -> bool {
        let mac = self.mac_fields(r.prev_hash, r.seq, r.at, [r.actor, r.action, r.subject, r.detail]);
        constant_time::verify_slices_are_equal(&mac, r.hash).is_ok()
    }

    pub fn checkpoint_mac(&self, c: &Checkpoint) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(CHECKPOINT_TAG);
        ctx.update(&c.seq.to_be_bytes());
        ctx.update(&(c.hash.len() as u32).to_be_bytes());
        ctx.update(&c.hash);
        ctx.update(&c.issued.to_be_bytes());
        ctx.update(&c.revoked.to_be_bytes());
        ctx.update(&c.at.to_be_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    pub fn checkpoint_is_authentic(&self, c: &Checkpoint, mac: &[u8]) -> bool {
        constant_time::verify_slices_are_equal(&self.checkpoint_mac(c), mac).is_ok()
    }
}

/// The last verified point of the chain: row `seq` had chain value `hash`, and rows 1..=seq held
/// `issued` certificate issuance rows and `revoked` revocation rows. Stored with its MAC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: Vec<u8>,
    pub issued: i64,
    pub revoked: i64,
    /// When it was written (Unix seconds).
    pub at: i64,
}

/// Result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Rows walked (after the checkpoint when resumed).
    pub rows: u64,
    pub head_seq: i64,
    pub head_hash: String,
    /// (seq of the first bad row, what is wrong)
    pub first_error: Option<(i64, String)>,
}

/// Incremental verifier: feed rows in seq order.
pub struct Verifier<'k> {
    key: &'k AuditKey,
    expected_seq: i64,
    prev: [u8; 32],
    rows: u64,
    /// Certificate issuance and revocation rows seen (with those before the resume point).
    pub issued: i64,
    pub revoked: i64,
    pub first_error: Option<(i64, String)>,
}

impl<'k> Verifier<'k> {
    /// From the start of the chain.
    pub fn new(key: &'k AuditKey) -> Verifier<'k> {
        Verifier { key, expected_seq: 1, prev: GENESIS, rows: 0, issued: 0, revoked: 0, first_error: None }
    }

    /// After a verified checkpoint: the next row is `c.seq + 1`, chained to `c.hash`.
    pub fn resume(key: &'k AuditKey, c: &Checkpoint) -> Verifier<'k> {
        let mut prev = [0u8; 32];
        if c.hash.len() == 32 {
            prev.copy_from_slice(&c.hash);
        }
        Verifier {
            key,
            expected_seq: c.seq + 1,
            prev,
            rows: 0,
            issued: c.issued,
            revoked: c.revoked,
            first_error: None,
        }
    }

    /// Returns false once an error was found (stop feeding).
    pub fn feed(&mut self, r: &AuditRow) -> bool {
        self.feed_ref(&r.as_ref())
    }

    /// Returns false once an error was found (stop feeding).
    pub fn feed_ref(&mut self, r: &RowRef<'_>) -> bool {
        if self.first_error.is_some() {
            return false;
        }
        let err = if r.seq != self.expected_seq {
            Some(if r.seq > self.expected_seq {
                format!("expected row {} but found row {}: row(s) deleted", self.expected_seq, r.seq)
            } else {
                format!("row {} appears out of order", r.seq)
            })
        } else if r.prev_hash != self.prev {
            Some("prev_hash does not match the previous row: rows reordered, or the previous row rewritten".into())
        } else if !self.key.row_is_authentic(r) {
            Some("content does not match its MAC under the audit key: row edited, or the chain recomputed without the key".into())
        } else {
            None
        };
        if let Some(e) = err {
            self.first_error = Some((r.seq, e));
            return false;
        }
        match r.action {
            CERT_ISSUE => self.issued += 1,
            CERT_REVOKE => self.revoked += 1,
            _ => {}
        }
        self.expected_seq += 1;
        self.prev.copy_from_slice(r.hash);
        self.rows += 1;
        true
    }

    /// The checkpoint at the last row fed (None before any row, or after an error).
    pub fn checkpoint(&self, at: i64) -> Option<Checkpoint> {
        (self.first_error.is_none() && self.expected_seq > 1).then(|| Checkpoint {
            seq: self.expected_seq - 1,
            hash: self.prev.to_vec(),
            issued: self.issued,
            revoked: self.revoked,
            at,
        })
    }

    pub fn finish(self) -> VerifyReport {
        VerifyReport {
            rows: self.rows,
            head_seq: self.expected_seq - 1,
            head_hash: hex::encode(self.prev),
            first_error: self.first_error,
        }
    }
}

/// What `kyso audit verify` found ([`crate::Store::check_audit`]).
#[derive(Debug, Clone)]
pub struct AuditCheck {
    /// The walk: rows walked in this run, the head, the first bad row (the lowest seq found bad,
    /// by the walk or by the MAC check of the certificate rows before the checkpoint).
    pub chain: VerifyReport,
    /// The verified checkpoint the walk resumed from (its seq), if any.
    pub resumed_from: Option<i64>,
    /// Set when the stored checkpoint was refused (its MAC does not verify): the walk then
    /// started from row 1, and the check fails.
    pub checkpoint_refused: Option<String>,
    /// Certificate issuance and revocation rows up to the checkpoint, MAC-checked one by one.
    pub certificate_rows_checked: u64,
    /// Certificates whose stored status disagrees with the log, first ones of each kind (empty
    /// when consistent).
    pub mismatches: Vec<String>,
    /// Certificates whose custody key row is missing.
    pub without_key: i64,
    /// Certificates without an issuance row.
    pub without_audit: i64,
    /// The checkpoint written at the end, when everything verified.
    pub checkpoint_written: Option<Checkpoint>,
}

impl AuditCheck {
    pub fn ok(&self) -> bool {
        self.chain.first_error.is_none()
            && self.checkpoint_refused.is_none()
            && self.mismatches.is_empty()
            && self.without_key == 0
            && self.without_audit == 0
    }
}

/// Streams `SELECT seq, at, actor, action, subject, detail, prev_hash, hash …` (one bound value)
/// inside a transaction, each row as a [`RowRef`] borrowed from the driver's row.
macro_rules! for_each_row {
    ($tx:expr, $sql:expr, $bind:expr, |$r:ident| $body:block) => {{
        use futures_util::TryStreamExt as _;
        use sqlx::Row as _;
        let sql: &str = $sql;
        let mut rows = sqlx::query(sql).bind($bind).fetch(&mut *$tx);
        while let Some(row) = rows.try_next().await? {
            let $r = RowRef {
                seq: row.try_get(0)?,
                at: row.try_get(1)?,
                actor: row.try_get(2)?,
                action: row.try_get(3)?,
                subject: row.try_get(4)?,
                detail: row.try_get(5)?,
                prev_hash: row.try_get(6)?,
                hash: row.try_get(7)?,
            };
            $body
        }
    }};
}

const ROW_COLS: &str = "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log";

/// Slack allowed between a revocation's time and the time its audit row was appended (the row is
/// written after the revocation time was taken; clocks may step back a little).
const REVOCATION_SLACK_SECS: i64 = 60;

impl Store {
    /// Walk the whole chain from row 1 under the audit key (no checkpoint read or written).
    pub async fn verify_audit(&self) -> Result<VerifyReport> {
        let key = self.audit_key()?;
        let mut v = Verifier::new(key);
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for_each_row!(tx, &format!("{ROW_COLS} WHERE seq > $1 ORDER BY seq"), 0i64, |r| {
                if !v.feed_ref(&r) {
                    break;
                }
            });
            tx.rollback().await?;
        });
        Ok(v.finish())
    }

    /// The stored checkpoint and its MAC, if any (not checked here).
    pub async fn audit_checkpoint(&self) -> Result<Option<(Checkpoint, Vec<u8>)>> {
        on_pool!(self, p => {
            let r = sqlx::query("SELECT seq, hash, issued, revoked, at, mac FROM audit_checkpoint WHERE id = 1").fetch_optional(p).await?;
            Ok(r.map(|r| {
                use sqlx::Row as _;
                (Checkpoint { seq: r.get(0), hash: r.get(1), issued: r.get(2), revoked: r.get(3), at: r.get(4) }, r.get(5))
            }))
        })
    }

    /// Store `c` as the checkpoint, MACed under the audit key.
    pub async fn set_audit_checkpoint(&self, c: &Checkpoint) -> Result<()> {
        let mac = self.audit_key()?.checkpoint_mac(c).to_vec();
        on_pool!(self, p => {
            sqlx::query("INSERT INTO audit_checkpoint (id, seq, hash, issued, revoked, at, mac) VALUES (1,$1,$2,$3,$4,$5,$6) \
                         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, issued = excluded.issued, \
                         revoked = excluded.revoked, at = excluded.at, mac = excluded.mac")
                .bind(c.seq).bind(&c.hash).bind(c.issued).bind(c.revoked).bind(c.at).bind(&mac)
                .execute(p).await?;
            Ok(())
        })
    }

    /// The first revocation row (seq, serial) whose certificate's stored reason code is not the
    /// one its detail names, by `names(detail, reason)` (the store does not know reason names: the
    /// caller does). Run after [`Self::check_audit`], which authenticated those rows.
    pub async fn first_revocation_reason_mismatch(
        &self,
        names: impl Fn(&str, Option<i64>) -> bool,
    ) -> Result<Option<(i64, String)>> {
        on_pool!(self, p => {
            use futures_util::TryStreamExt as _;
            use sqlx::Row as _;
            let sql = format!("SELECT a.seq, a.subject, a.detail, c.revocation_reason FROM audit_log a \
                JOIN certificates c ON c.serial = a.subject WHERE a.action = '{CERT_REVOKE}' ORDER BY a.seq");
            let mut rows = sqlx::query(&sql).fetch(p);
            while let Some(r) = rows.try_next().await? {
                let (detail, reason): (&str, Option<i64>) = (r.try_get(2)?, r.try_get(3)?);
                if !names(detail, reason) {
                    return Ok(Some((r.try_get(0)?, r.try_get::<String, _>(1)?)));
                }
            }
            Ok(None)
        })
    }

    /// What `kyso audit verify` runs, on one snapshot of the database:
    /// 1. unless `full`, resume after the stored checkpoint — refused (and the walk starts from
    ///    row 1) when its MAC does not verify; the checkpointed row must still be there unchanged,
    ///    and every certificate issuance and revocation row up to it is MAC-checked one by one and
    ///    counted against the checkpoint (none edited, deleted or renamed);
    /// 2. walk the chain after that point (every row's MAC and link);
    /// 3. compare every certificate's status with the log: each certificate has its issuance row
    ///    and each issuance row its certificate; each revoked certificate its revocation row and
    ///    each revocation row a revoked certificate, revoked no later than the row was written;
    ///    each certificate's custody key row exists.
    ///
    /// When something before the checkpoint was found changed, the whole chain is walked to name
    /// the first bad row. When all of it holds, the head becomes the new checkpoint.
    pub async fn check_audit(&self, full: bool) -> Result<AuditCheck> {
        let key = self.audit_key()?;
        let is_sqlite = matches!(self, Store::Sqlite(_));
        let stored = if full { None } else { self.audit_checkpoint().await? };
        let mut checkpoint_refused = None;
        let start = match stored {
            Some((c, mac)) if key.checkpoint_is_authentic(&c, &mac) => Some(c),
            Some((c, _)) => {
                checkpoint_refused = Some(format!(
                    "the stored checkpoint (row {}) does not carry a valid MAC under this audit key: forged, or written under another key; the chain was walked from row 1",
                    c.seq
                ));
                None
            }
            None => None,
        };
        let mut v = match &start {
            Some(c) => Verifier::resume(key, c),
            None => Verifier::new(key),
        };
        let mut errors: Vec<(i64, String)> = Vec::new();
        let mut certificate_rows_checked = 0u64;
        let mut mismatches = Vec::new();
        let (without_key, without_audit): (i64, i64) = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            if !is_sqlite {
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
            }
            if let Some(c) = &start {
                let mut found = false;
                for_each_row!(tx, &format!("{ROW_COLS} WHERE seq = $1"), c.seq, |r| {
                    found = true;
                    if r.hash != c.hash.as_slice() || !key.row_is_authentic(&r) {
                        errors.push((c.seq, "the checkpointed row was changed since it was verified".into()));
                    }
                });
                if !found {
                    errors.push((c.seq, "the checkpointed row is gone: the log was truncated or rows deleted".into()));
                }
                let (mut issued, mut revoked) = (0i64, 0i64);
                let sql = format!("{ROW_COLS} WHERE action IN ('{CERT_ISSUE}', '{CERT_REVOKE}') AND seq <= $1");
                for_each_row!(tx, &sql, c.seq, |r| {
                    certificate_rows_checked += 1;
                    if !key.row_is_authentic(&r) {
                        errors.push((r.seq, "content does not match its MAC under the audit key: certificate row edited".into()));
                    } else if r.action == CERT_ISSUE {
                        issued += 1;
                    } else {
                        revoked += 1;
                    }
                });
                if errors.is_empty() && (issued, revoked) != (c.issued, c.revoked) {
                    errors.push((c.seq, format!(
                        "rows 1 to {} held {} issuance and {} revocation rows when verified, now {issued} and {revoked}: certificate rows deleted or renamed",
                        c.seq, c.issued, c.revoked
                    )));
                }
            }
            // Something before the checkpoint changed: walk from row 1 to name the first bad row.
            let after = match &start {
                Some(c) if errors.is_empty() => c.seq,
                _ => {
                    v = Verifier::new(key);
                    0
                }
            };
            for_each_row!(tx, &format!("{ROW_COLS} WHERE seq > $1 ORDER BY seq"), after, |r| {
                if !v.feed_ref(&r) {
                    break;
                }
            });

            // Every certificate's status against the log (indexed: audit_log(action, subject)).
            let row: Option<(i64, String)> = sqlx::query_as(&format!(
                "SELECT a.seq, a.subject FROM audit_log a WHERE a.action = '{CERT_REVOKE}' AND NOT EXISTS \
                 (SELECT 1 FROM certificates c WHERE c.serial = a.subject AND c.revoked_at IS NOT NULL) ORDER BY a.seq LIMIT 1"))
                .fetch_optional(&mut *tx).await?;
            if let Some((seq, serial)) = row {
                mismatches.push(format!("certificate {serial} is not revoked in the database, but audit row {seq} revoked it"));
            }
            let row: Option<(String,)> = sqlx::query_as(&format!(
                "SELECT c.serial FROM certificates c WHERE c.revoked_at IS NOT NULL AND NOT EXISTS \
                 (SELECT 1 FROM audit_log a WHERE a.action = '{CERT_REVOKE}' AND a.subject = c.serial) ORDER BY c.serial LIMIT 1"))
                .fetch_optional(&mut *tx).await?;
            if let Some((serial,)) = row {
                mismatches.push(format!("certificate {serial} is revoked in the database, but no audit row revoked it"));
            }
            let row: Option<(i64, String)> = sqlx::query_as(&format!(
                "SELECT a.seq, c.serial FROM audit_log a JOIN certificates c ON c.serial = a.subject \
                 WHERE a.action = '{CERT_REVOKE}' AND c.revoked_at > a.at + {REVOCATION_SLACK_SECS} ORDER BY a.seq LIMIT 1"))
                .fetch_optional(&mut *tx).await?;
            if let Some((seq, serial)) = row {
                mismatches.push(format!("certificate {serial} is revoked later in the database than audit row {seq} that revoked it"));
            }
            let row: Option<(String,)> = sqlx::query_as(&format!(
                "SELECT c.serial FROM certificates c WHERE NOT EXISTS \
                 (SELECT 1 FROM audit_log a WHERE a.action = '{CERT_ISSUE}' AND a.subject = c.serial) ORDER BY c.serial LIMIT 1"))
                .fetch_optional(&mut *tx).await?;
            if let Some((serial,)) = row {
                mismatches.push(format!("certificate {serial} has no issuance audit row"));
            }
            let row: Option<(i64, String)> = sqlx::query_as(&format!(
                "SELECT a.seq, a.subject FROM audit_log a WHERE a.action = '{CERT_ISSUE}' AND NOT EXISTS \
                 (SELECT 1 FROM certificates c WHERE c.serial = a.subject) ORDER BY a.seq LIMIT 1"))
                .fetch_optional(&mut *tx).await?;
            if let Some((seq, serial)) = row {
                mismatches.push(format!("audit row {seq} issued certificate {serial}, which is not in the database"));
            }
            let no_key: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM certificates c WHERE c.key_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM keys k WHERE k.id = c.key_id)")
                .fetch_one(&mut *tx).await?;
            let no_audit: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM certificates c WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.action = '{CERT_ISSUE}' AND a.subject = c.serial)"))
                .fetch_one(&mut *tx).await?;
            tx.rollback().await?;
            Ok::<_, StoreError>((no_key, no_audit))
        })?;
        let checkpoint = v.checkpoint(crate::now());
        let mut chain = v.finish();
        if let Some(e) = chain.first_error.take() {
            errors.push(e);
        }
        errors.sort_by_key(|e| e.0);
        chain.first_error = errors.into_iter().next();
        let mut check = AuditCheck {
            chain,
            resumed_from: start.map(|c| c.seq),
            checkpoint_refused,
            certificate_rows_checked,
            mismatches,
            without_key,
            without_audit,
            checkpoint_written: None,
        };
        if check.ok() {
            if let Some(c) = checkpoint {
                self.set_audit_checkpoint(&c).await?;
                check.checkpoint_written = Some(c);
            }
        }
        Ok(check)
    }
}
