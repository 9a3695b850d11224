//! Row types and the repository methods over them.

use crate::audit::{self, AuditEvent, AuditRow};
use crate::{now, on_pool, values_list, Result, Store, StoreError};
use sqlx::Row;
use std::collections::HashMap;

mod writer;
pub use writer::SqliteWriter;

#[derive(Clone, Debug)]
pub struct KeyRow {
    pub id: String,
    pub backend: String,
    pub algorithm: String,
    pub public_key: Vec<u8>,
    pub wrapped: Vec<u8>,
    pub created_at: i64,
}

#[derive(Clone, Debug)]
pub struct AuthorityRow {
    pub id: String,
    pub kind: String,
    pub parent_id: Option<String>,
    pub display_name: String,
    pub key_id: String,
    pub serial: String,
    pub cert_der: Vec<u8>,
    pub created_at: i64,
}

#[derive(Clone, Debug)]
pub struct CitizenRow {
    pub id_number: String,
    pub full_name: String,
    pub province: String,
    pub commune: Option<String>,
    pub eid_level: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug)]
pub struct CertRow {
    pub serial: String,
    pub issuer_id: String,
    pub profile: String,
    pub id_number: Option<String>,
    pub subject_cn: String,
    pub key_id: Option<String>,
    pub not_before: i64,
    pub not_after: i64,
    pub revoked_at: Option<i64>,
    pub revocation_reason: Option<i64>,
    pub superseded_by: Option<String>,
    pub der: Vec<u8>,
    pub created_at: i64,
}

#[derive(Clone, Debug)]
pub struct CrlRow {
    pub issuer_id: String,
    pub crl_number: i64,
    pub this_update: i64,
    pub next_update: i64,
    pub der: Vec<u8>,
}

#[derive(Clone, Debug)]
pub struct CredentialRow {
    pub id: String,
    pub id_number: String,
    pub provider_id: String,
    pub key_id: String,
    pub cert_serial: String,
    pub status: String,
    pub failed_pins: i64,
    pub totp_secret: Option<Vec<u8>>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One change inside a [`Store::commit`] transaction.
#[derive(Clone, Debug)]
pub enum Write {
    Key(KeyRow),
    Authority(AuthorityRow),
    /// Insert or update by ID number.
    Citizen(CitizenRow),
    Certificate(CertRow),
    /// Fails the whole commit if the certificate is unknown or already revoked.
    Revoke {
        serial: String,
        at: i64,
        reason: i64,
    },
    Supersede {
        serial: String,
        by: String,
    },
    Crl(CrlRow),
    Setting {
        name: String,
        value: String,
    },
    Audit(AuditEvent),
    /// Commit only if this person is in the register with at least this e-ID level, checked
    /// inside the transaction (no gap between the check and the issuance).
    RequireEidLevel {
        id_number: String,
        level: i64,
    },
    Credential(CredentialRow),
    /// Use up a one-use form token ([`crate::forms`]): fails the whole commit with
    /// [`StoreError::FormUsed`] when it is unknown, someone else's, expired or used before.
    ConsumeFormToken {
        token_hash: Vec<u8>,
        purpose: String,
        owner: String,
        at: i64,
    },
    /// Commit only if this person holds no certificate from this provider's CA that is neither
    /// revoked nor expired at `at` ([`StoreError::AlreadyActive`] with its serial otherwise).
    RequireNoActiveCertificate {
        id_number: String,
        issuer_id: String,
        at: i64,
    },
    /// A TOTP code of time step `step` was accepted: fails with [`StoreError::Precondition`]
    /// (and nothing of the batch is written) when this or a later step was accepted before.
    TotpStep {
        credential: String,
        step: i64,
    },
    /// A right PIN: the counter goes back to zero. Fails the whole commit with
    /// [`StoreError::Locked`] when the credential is no longer active (it locked while the PIN
    /// was being checked), so nothing is authorized after a lock.
    PinOk {
        credential: String,
        at: i64,
    },
    /// Commit only if the credential is active and its certificate is neither revoked nor
    /// expired at `at`, checked inside the transaction ([`StoreError::Locked`] otherwise): what a
    /// signature made under a SAD is committed with.
    RequireSignable {
        credential: String,
        at: i64,
    },
    /// An officer re-verified the person at level 2: unlock and reset the counter.
    Unlock {
        credential: String,
        at: i64,
    },
    /// Replace a key's wrapped form (PIN change); the public key stays the same.
    Rewrap {
        key_id: String,
        wrapped: Vec<u8>,
    },
    AccessToken {
        token_hash: Vec<u8>,
        id_number: String,
        expires_at: i64,
        created_at: i64,
    },
    /// Point the remote-signing credential of `old_serial` (if any) at its renewal `new_serial`.
    RebindCredential {
        old_serial: String,
        new_serial: String,
    },
    /// A new e-ID account; fails with `Conflict` if the ID number already has one.
    EidAccount(crate::accounts::EidAccountRow),
    /// Level 2 after an in-person check: sets the account's level, activation case and who
    /// verified how, where, when. Fails with `NotFound` if there is no account.
    EidVerified {
        id_number: String,
        activation: String,
        method: String,
        officer: String,
        place: String,
        at: i64,
    },
    /// Change an account's activation case without changing its level.
    EidActivation {
        id_number: String,
        activation: String,
    },
    /// Insert or replace a staff account.
    Staff(crate::accounts::StaffAccountRow),
    /// Insert or replace a support point.
    SupportPoint(crate::accounts::SupportPointRow),
    /// Append a support session (its id is assigned in the transaction).
    SupportSession(crate::accounts::SupportSessionRow),
}

const CERT_COLS: &str = "serial, issuer_id, profile, id_number, subject_cn, key_id, not_before, not_after, revoked_at, revocation_reason, superseded_by, der, created_at";
const CHUNK: usize = 200;

macro_rules! credential_row {
    ($r:expr) => {
        CredentialRow {
            id: $r.get("id"),
            id_number: $r.get("id_number"),
            provider_id: $r.get("provider_id"),
            key_id: $r.get("key_id"),
            cert_serial: $r.get("cert_serial"),
            status: $r.get("status"),
            failed_pins: $r.get("failed_pins"),
            totp_secret: $r.get("totp_secret"),
            created_at: $r.get("created_at"),
            updated_at: $r.get("updated_at"),
        }
    };
}

macro_rules! cert_row {
    ($r:expr) => {
        CertRow {
            serial: $r.get("serial"),
            issuer_id: $r.get("issuer_id"),
            profile: $r.get("profile"),
            id_number: $r.get("id_number"),
            subject_cn: $r.get("subject_cn"),
            key_id: $r.get("key_id"),
            not_before: $r.get("not_before"),
            not_after: $r.get("not_after"),
            revoked_at: $r.get("revoked_at"),
            revocation_reason: $r.get("revocation_reason"),
            superseded_by: $r.get("superseded_by"),
            der: $r.get("der"),
            created_at: $r.get("created_at"),
        }
    };
}

impl Store {
    /// Apply writes and their audit events in one transaction; returns once it is durable.
    /// Audit appends are serialised (SQLite write lock / PostgreSQL advisory lock) so the
    /// chain stays linear even with several processes writing.
    pub async fn commit(&self, writes: &[Write]) -> Result<()> {
        crate::limits::check_writes(writes)?;
        // Two issuances guarded for the same person and issuer in one batch would both pass the
        // guard (the certificates are written after every check): refuse the batch, and the
        // group committer retries its jobs one by one, where the second sees the first.
        let mut guarded = std::collections::HashSet::new();
        for w in writes {
            if let Write::RequireNoActiveCertificate { id_number, issuer_id, .. } = w {
                if !guarded.insert((id_number, issuer_id)) {
                    return Err(StoreError::AlreadyActive(format!("two issuances at {issuer_id} in one batch")));
                }
            }
        }
        let is_sqlite = matches!(self, Store::Sqlite(_));
        let mut keys = Vec::new();
        let mut certs = Vec::new();
        let mut audits = Vec::new();
        let mut others = Vec::new();
        let mut required: Vec<(&String, i64)> = Vec::new();
        for w in writes {
            match w {
                Write::RequireEidLevel { id_number, level } => required.push((id_number, *level)),
                Write::Key(k) => keys.push(k),
                Write::Certificate(c) => certs.push(c),
                Write::Audit(a) => audits.push(a),
                o => others.push(o),
            }
        }
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            // Take the write lock first: no deferred-to-write upgrade failures, one chain head.
            if is_sqlite {
                sqlx::query("UPDATE settings SET value = value WHERE name = '-'").execute(&mut *tx).await?;
            } else {
                sqlx::query("SELECT pg_advisory_xact_lock(735271)").execute(&mut *tx).await?;
            }
            if !required.is_empty() {
                required.sort();
                required.dedup();
                let mut ok = std::collections::HashMap::new();
                for chunk in required.chunks(CHUNK) {
                    let ph = values_list(is_sqlite, 1, chunk.len());
                    let sql = format!("SELECT id_number, eid_level FROM citizens WHERE id_number IN {ph}");
                    let mut q = sqlx::query(&sql);
                    for (id, _) in chunk {
                        q = q.bind(id);
                    }
                    for r in q.fetch_all(&mut *tx).await? {
                        ok.insert(r.get::<String, _>("id_number"), r.get::<i64, _>("eid_level"));
                    }
                }
                if let Some((id, _)) = required.iter().find(|(id, level)| ok.get(id.as_str()).is_none_or(|l| l < level)) {
                    return Err(StoreError::Precondition(id.to_string()));
                }
            }
            for chunk in keys.chunks(CHUNK) {
                let sql = format!("INSERT INTO keys (id, backend, algorithm, public_key, wrapped, created_at) VALUES {}", values_list(is_sqlite, chunk.len(), 6));
                let mut q = sqlx::query(&sql);
                for k in chunk {
                    q = q.bind(&k.id).bind(&k.backend).bind(&k.algorithm).bind(&k.public_key).bind(&k.wrapped).bind(k.created_at);
                }
                q.execute(&mut *tx).await?;
            }
            for o in &others {
                match o {
                    Write::Authority(a) => {
                        sqlx::query("INSERT INTO authorities (id, kind, parent_id, display_name, key_id, serial, cert_der, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)")
                            .bind(&a.id).bind(&a.kind).bind(&a.parent_id).bind(&a.display_name).bind(&a.key_id).bind(&a.serial).bind(&a.cert_der).bind(a.created_at)
                            .execute(&mut *tx).await?;
                    }
                    Write::Citizen(c) => {
                        sqlx::query("INSERT INTO citizens (id_number, full_name, province, commune, eid_level, updated_at) VALUES ($1,$2,$3,$4,$5,$6) \
                                     ON CONFLICT (id_number) DO UPDATE SET full_name = excluded.full_name, province = excluded.province, commune = excluded.commune, eid_level = excluded.eid_level, updated_at = excluded.updated_at")
                            .bind(&c.id_number).bind(&c.full_name).bind(&c.province).bind(&c.commune).bind(c.eid_level).bind(c.updated_at)
                            .execute(&mut *tx).await?;
                    }
                    Write::Revoke { serial, at, reason } => {
                        let n = sqlx::query("UPDATE certificates SET revoked_at = $1, revocation_reason = $2 WHERE serial = $3 AND revoked_at IS NULL")
                            .bind(at).bind(reason).bind(serial).execute(&mut *tx).await?.rows_affected();
                        if n != 1 {
                            return Err(StoreError::Conflict(format!("certificate {serial} is unknown or already revoked")));
                        }
                    }
                    Write::Supersede { serial, by } => {
                        sqlx::query("UPDATE certificates SET superseded_by = $1 WHERE serial = $2")
                            .bind(by).bind(serial).execute(&mut *tx).await?;
                    }
                    Write::Crl(c) => {
                        sqlx::query("INSERT INTO crls (issuer_id, crl_number, this_update, next_update, der) VALUES ($1,$2,$3,$4,$5)")
                            .bind(&c.issuer_id).bind(c.crl_number).bind(c.this_update).bind(c.next_update).bind(&c.der)
                            .execute(&mut *tx).await?;
                    }
                    Write::Credential(c) => {
                        sqlx::query("INSERT INTO credentials (id, id_number, provider_id, key_id, cert_serial, status, failed_pins, totp_secret, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)")
                            .bind(&c.id).bind(&c.id_number).bind(&c.provider_id).bind(&c.key_id).bind(&c.cert_serial).bind(&c.status)
                            .bind(c.failed_pins).bind(&c.totp_secret).bind(c.created_at).bind(c.updated_at)
                            .execute(&mut *tx).await?;
                    }
                    Write::TotpStep { credential, step } => {
                        let n = sqlx::query("INSERT INTO totp_steps (credential_id, last_step) VALUES ($1,$2) \
                            ON CONFLICT (credential_id) DO UPDATE SET last_step = excluded.last_step WHERE totp_steps.last_step < excluded.last_step")
                            .bind(credential).bind(step).execute(&mut *tx).await?.rows_affected();
                        if n != 1 {
                            return Err(StoreError::Precondition(format!("TOTP step {step} of {credential} was used")));
                        }
                    }
                    Write::PinOk { credential, at } => {
                        let n = sqlx::query("UPDATE credentials SET failed_pins = 0, pin_checks = CASE WHEN pin_checks > 0 THEN pin_checks - 1 ELSE 0 END, updated_at = $1 WHERE id = $2 AND status = 'active'")
                            .bind(at).bind(credential).execute(&mut *tx).await?.rows_affected();
                        if n != 1 {
                            return Err(StoreError::Locked(format!("credential {credential} is locked")));
                        }
                    }
                    Write::RequireSignable { credential, at } => {
                        let r = sqlx::query("SELECT c.status, k.revoked_at, k.not_before, k.not_after FROM credentials c \
                                             JOIN certificates k ON k.serial = c.cert_serial WHERE c.id = $1")
                            .bind(credential).fetch_optional(&mut *tx).await?;
                        let why = match r {
                            None => Some("has no certificate"),
                            Some(r) if r.get::<String, _>("status") != "active" => Some("is locked"),
                            Some(r) if r.get::<Option<i64>, _>("revoked_at").is_some() => Some("has a revoked certificate"),
                            Some(r) if r.get::<i64, _>("not_after") < *at || r.get::<i64, _>("not_before") > *at => Some("has a certificate outside its validity"),
                            Some(_) => None,
                        };
                        if let Some(why) = why {
                            return Err(StoreError::Locked(format!("credential {credential} {why}")));
                        }
                    }
                    Write::Unlock { credential, at } => {
                        sqlx::query("UPDATE credentials SET failed_pins = 0, pin_checks = 0, status = 'active', updated_at = $1 WHERE id = $2")
                            .bind(at).bind(credential).execute(&mut *tx).await?;
                    }
                    Write::RebindCredential { old_serial, new_serial } => {
                        sqlx::query("UPDATE credentials SET cert_serial = $1 WHERE cert_serial = $2")
                            .bind(new_serial).bind(old_serial).execute(&mut *tx).await?;
                    }
                    Write::Rewrap { key_id, wrapped } => {
                        let n = sqlx::query("UPDATE keys SET wrapped = $1 WHERE id = $2").bind(wrapped).bind(key_id).execute(&mut *tx).await?.rows_affected();
                        if n != 1 {
                            return Err(StoreError::NotFound(format!("key {key_id}")));
                        }
                    }
                    Write::AccessToken { token_hash, id_number, expires_at, created_at } => {
                        sqlx::query("INSERT INTO access_tokens (token_hash, id_number, expires_at, created_at) VALUES ($1,$2,$3,$4)")
                            .bind(token_hash).bind(id_number).bind(expires_at).bind(created_at).execute(&mut *tx).await?;
                    }
                    Write::ConsumeFormToken { token_hash, purpose, owner, at } => {
                        let n = sqlx::query("UPDATE form_tokens SET used_at = $1 WHERE token_hash = $2 AND purpose = $3 AND owner = $4 AND used_at IS NULL AND expires_at > $1")
                            .bind(at).bind(token_hash).bind(purpose).bind(owner).execute(&mut *tx).await?.rows_affected();
                        if n != 1 {
                            return Err(StoreError::FormUsed(purpose.clone()));
                        }
                    }
                    Write::RequireNoActiveCertificate { id_number, issuer_id, at } => {
                        let r = sqlx::query("SELECT serial FROM certificates WHERE id_number = $1 AND issuer_id = $2 AND revoked_at IS NULL AND not_after > $3 AND superseded_by IS NULL ORDER BY not_before DESC LIMIT 1")
                            .bind(id_number).bind(issuer_id).bind(at).fetch_optional(&mut *tx).await?;
                        if let Some(r) = r {
                            return Err(StoreError::AlreadyActive(r.get("serial")));
                        }
                    }
                    Write::Setting { name, value } => {
                        sqlx::query("INSERT INTO settings (name, value) VALUES ($1,$2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
                            .bind(name).bind(value).execute(&mut *tx).await?;
                    }
                    Write::EidAccount(_) | Write::EidVerified { .. } | Write::EidActivation { .. } | Write::Staff(_) | Write::SupportPoint(_) | Write::SupportSession(_) => {
                        crate::accounts::apply_write!(o, tx);
                    }
                    Write::Key(_) | Write::Certificate(_) | Write::Audit(_) | Write::RequireEidLevel { .. } => {
                        unreachable!("sorted above")
                    }
                }
            }
            for chunk in certs.chunks(CHUNK) {
                let sql = format!("INSERT INTO certificates ({CERT_COLS}) VALUES {}", values_list(is_sqlite, chunk.len(), 13));
                let mut q = sqlx::query(&sql);
                for c in chunk {
                    q = q.bind(&c.serial).bind(&c.issuer_id).bind(&c.profile).bind(&c.id_number).bind(&c.subject_cn).bind(&c.key_id)
                        .bind(c.not_before).bind(c.not_after).bind(c.revoked_at).bind(c.revocation_reason).bind(&c.superseded_by)
                        .bind(&c.der).bind(c.created_at);
                }
                q.execute(&mut *tx).await.map_err(|e| match &e {
                    sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict("certificate serial already exists".into()),
                    _ => StoreError::Db(e),
                })?;
            }
            if !audits.is_empty() {
                let key = self.audit_key()?;
                let head = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetch_optional(&mut *tx).await?;
                let (mut seq, mut prev): (i64, Vec<u8>) = match head {
                    Some(r) => (r.get("seq"), r.get("hash")),
                    None => (0, audit::GENESIS.to_vec()),
                };
                let at = now();
                let mut rows = Vec::with_capacity(audits.len());
                for e in audits {
                    seq += 1;
                    let hash = key.row_mac(&prev, seq, at, e).to_vec();
                    rows.push((seq, e, std::mem::replace(&mut prev, hash.clone()), hash));
                }
                for chunk in rows.chunks(CHUNK) {
                    let sql = format!("INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES {}", values_list(is_sqlite, chunk.len(), 8));
                    let mut q = sqlx::query(&sql);
                    for (seq, e, prev, hash) in chunk {
                        q = q.bind(*seq).bind(at).bind(&e.actor).bind(&e.action).bind(&e.subject).bind(&e.detail).bind(prev).bind(hash);
                    }
                    q.execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn authorities(&self) -> Result<Vec<AuthorityRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT id, kind, parent_id, display_name, key_id, serial, cert_der, created_at FROM authorities ORDER BY created_at, id")
                .fetch_all(p).await?;
            Ok(rows.iter().map(|r| AuthorityRow {
                id: r.get("id"), kind: r.get("kind"), parent_id: r.get("parent_id"), display_name: r.get("display_name"),
                key_id: r.get("key_id"), serial: r.get("serial"), cert_der: r.get("cert_der"), created_at: r.get("created_at"),
            }).collect())
        })
    }

    pub async fn key(&self, id: &str) -> Result<KeyRow> {
        on_pool!(self, p => {
            let r = sqlx::query("SELECT id, backend, algorithm, public_key, wrapped, created_at FROM keys WHERE id = $1")
                .bind(id).fetch_optional(p).await?.ok_or_else(|| StoreError::NotFound(format!("key {id}")))?;
            Ok(KeyRow { id: r.get("id"), backend: r.get("backend"), algorithm: r.get("algorithm"), public_key: r.get("public_key"), wrapped: r.get("wrapped"), created_at: r.get("created_at") })
        })
    }

    /// A citizen as issuance knows them: their `citizens` row (kept for people kyso has dealt
    /// with: an e-ID account, a level set), else a resident of the register as a citizen of
    /// e-ID level 0 named by the register and the unit list.
    pub async fn citizen(&self, id_number: &str) -> Result<Option<CitizenRow>> {
        let row = on_pool!(self, p => {
            let r = sqlx::query("SELECT id_number, full_name, province, commune, eid_level, updated_at FROM citizens WHERE id_number = $1")
                .bind(id_number).fetch_optional(p).await?;
            r.map(|r| CitizenRow { id_number: r.get("id_number"), full_name: r.get("full_name"), province: r.get("province"), commune: r.get("commune"), eid_level: r.get("eid_level"), updated_at: r.get("updated_at") })
        });
        if row.is_some() {
            return Ok(row);
        }
        let Some((resident, at)) = self.register_row(id_number).await? else { return Ok(None) };
        let names: Option<(String, String)> = on_pool!(self, p => {
            sqlx::query_as("SELECT p.name, c.name FROM admin_communes c JOIN admin_provinces p ON p.code = c.province_code WHERE c.code = $1")
                .bind(&resident.commune_code).fetch_optional(p).await?
        });
        let (province, commune) = names.unwrap_or_default();
        Ok(Some(CitizenRow {
            id_number: resident.id_number,
            full_name: resident.full_name.unwrap_or_default(),
            province,
            commune: Some(commune),
            eid_level: 0,
            updated_at: at,
        }))
    }

    pub async fn certificate(&self, serial: &str) -> Result<Option<CertRow>> {
        on_pool!(self, p => {
            let r = sqlx::query(&format!("SELECT {CERT_COLS} FROM certificates WHERE serial = $1")).bind(serial).fetch_optional(p).await?;
            Ok(r.map(|r| cert_row!(r)))
        })
    }

    /// Certificates, newest first; filtered by holder ID number and/or issuer.
    pub async fn certificates(
        &self,
        id_number: Option<&str>,
        issuer_id: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<CertRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query(&format!(
                "SELECT {CERT_COLS} FROM certificates WHERE ($1 IS NULL OR id_number = $1) AND ($2 IS NULL OR issuer_id = $2) \
                 ORDER BY created_at DESC, serial LIMIT $3 OFFSET $4"))
                .bind(id_number).bind(issuer_id).bind(limit).bind(offset).fetch_all(p).await?;
            Ok(rows.iter().map(|r| cert_row!(r)).collect())
        })
    }

    pub async fn count_certificates(&self) -> Result<i64> {
        on_pool!(self, p => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM certificates").fetch_one(p).await?))
    }

    /// All serials (for checks after crash tests and audits).
    pub async fn all_serials(&self) -> Result<Vec<String>> {
        on_pool!(self, p => Ok(sqlx::query_scalar("SELECT serial FROM certificates").fetch_all(p).await?))
    }

    /// (serial, revoked_at, reason) of every revoked certificate of an issuer, for its CRL.
    pub async fn revoked(&self, issuer_id: &str) -> Result<Vec<(String, i64, i64)>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT serial, revoked_at, revocation_reason FROM certificates WHERE issuer_id = $1 AND revoked_at IS NOT NULL ORDER BY revoked_at, serial")
                .bind(issuer_id).fetch_all(p).await?;
            Ok(rows.iter().map(|r| (r.get("serial"), r.get("revoked_at"), r.get::<Option<i64>, _>("revocation_reason").unwrap_or(0))).collect())
        })
    }

    /// OCSP lookup: None if this issuer never issued the serial.
    pub async fn status(&self, issuer_id: &str, serial: &str) -> Result<Option<(Option<i64>, i64)>> {
        on_pool!(self, p => {
            let r = sqlx::query("SELECT revoked_at, revocation_reason FROM certificates WHERE serial = $1 AND issuer_id = $2")
                .bind(serial).bind(issuer_id).fetch_optional(p).await?;
            Ok(r.map(|r| (r.get("revoked_at"), r.get::<Option<i64>, _>("revocation_reason").unwrap_or(0))))
        })
    }

    /// [`Store::status`] for several certificates in one round trip (a validator asks for every
    /// certificate of a document at once): (issuer, serial) → (revoked_at, reason) for those
    /// issued; pairs never issued are absent. At most 64 pairs per query; more are asked in
    /// several.
    pub async fn statuses(&self, wanted: &[(String, String)]) -> Result<HashMap<(String, String), (Option<i64>, i64)>> {
        let mut out = HashMap::new();
        for chunk in wanted.chunks(64) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT issuer_id, serial, revoked_at, revocation_reason FROM certificates WHERE serial IN ({})",
                marks.join(", ")
            );
            on_pool!(self, p => {
                let mut q = sqlx::query(&sql);
                for (_, serial) in chunk {
                    q = q.bind(serial);
                }
                for r in q.fetch_all(p).await? {
                    let key: (String, String) = (r.get("issuer_id"), r.get("serial"));
                    if chunk.contains(&key) {
                        let st = (r.get("revoked_at"), r.get::<Option<i64>, _>("revocation_reason").unwrap_or(0));
                        out.insert(key, st);
                    }
                }
            });
        }
        Ok(out)
    }

    pub async fn latest_crl(&self, issuer_id: &str) -> Result<Option<CrlRow>> {
        on_pool!(self, p => {
            let r = sqlx::query("SELECT issuer_id, crl_number, this_update, next_update, der FROM crls WHERE issuer_id = $1 ORDER BY crl_number DESC LIMIT 1")
                .bind(issuer_id).fetch_optional(p).await?;
            Ok(r.map(|r| CrlRow { issuer_id: r.get("issuer_id"), crl_number: r.get("crl_number"), this_update: r.get("this_update"), next_update: r.get("next_update"), der: r.get("der") }))
        })
    }

    pub async fn audit_rows(&self, after_seq: i64, limit: i64) -> Result<Vec<AuditRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2")
                .bind(after_seq).bind(limit).fetch_all(p).await?;
            Ok(rows.iter().map(|r| AuditRow { seq: r.get("seq"), at: r.get("at"), actor: r.get("actor"), action: r.get("action"), subject: r.get("subject"), detail: r.get("detail"), prev_hash: r.get("prev_hash"), hash: r.get("hash") }).collect())
        })
    }

    /// Cross-table consistency: certificates whose custody key row or issuance audit row is
    /// missing (a half-issued certificate would show up here). Returns (without_key, without_audit).
    pub async fn consistency(&self) -> Result<(i64, i64)> {
        on_pool!(self, p => {
            let no_key: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM certificates c WHERE c.key_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM keys k WHERE k.id = c.key_id)")
                .fetch_one(p).await?;
            let no_audit: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM certificates c WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'cert.issue' AND a.subject = c.serial)")
                .fetch_one(p).await?;
            Ok((no_key, no_audit))
        })
    }

    pub async fn credential(&self, id: &str) -> Result<Option<CredentialRow>> {
        on_pool!(self, p => {
            let r = sqlx::query("SELECT id, id_number, provider_id, key_id, cert_serial, status, failed_pins, totp_secret, created_at, updated_at FROM credentials WHERE id = $1")
                .bind(id).fetch_optional(p).await?;
            Ok(r.map(|r| credential_row!(r)))
        })
    }

    pub async fn credentials_of(&self, id_number: &str) -> Result<Vec<CredentialRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT id, id_number, provider_id, key_id, cert_serial, status, failed_pins, totp_secret, created_at, updated_at FROM credentials WHERE id_number = $1 ORDER BY created_at, id")
                .bind(id_number).fetch_all(p).await?;
            Ok(rows.iter().map(|r| credential_row!(r)).collect())
        })
    }

    /// The ID number an unexpired access token belongs to.
    pub async fn access_token(&self, token_hash: &[u8], now: i64) -> Result<Option<String>> {
        on_pool!(self, p => Ok(sqlx::query_scalar("SELECT id_number FROM access_tokens WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash).bind(now).fetch_optional(p).await?))
    }

    /// Raw SQL for tests that tamper with the database on purpose.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        on_pool!(self, p => Ok(sqlx::raw_sql(sql).execute(p).await?.rows_affected()))
    }
}
