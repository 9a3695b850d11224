//! Citizen certificates: issue, renew (gia hạn), revoke (thu hồi). Validation first (the error
//! names the field), the level-2 e-ID check, key generation in custody, build + lint, then one
//! durable commit with the audit rows. Only then is the certificate returned.

use crate::hierarchy::{cert_row, key_row};
use crate::{Authority, AuthorityError, Result};
use kyso_custody::{KeyAlgorithm, Signer, WrappedKey};
use kyso_pki::cert::{self, CertSpec, Profile, Serial, Urls};
use kyso_pki::crl::reason_name;
use kyso_pki::CitizenSubject;
use kyso_store::{AuditEvent, CertRow, CitizenRow, Write};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

#[derive(Clone, Debug)]
pub struct IssueRequest {
    pub id_number: String,
    pub full_name: String,
    pub province: String,
    pub commune: Option<String>,
    pub provider: String,
    pub key_algorithm: Option<KeyAlgorithm>,
    pub validity_days: Option<u64>,
    /// Who asked (operator, officer, the citizen): recorded in the audit log.
    pub actor: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct IssuedCert {
    pub serial: String,
    pub provider: String,
    pub subject: String,
    pub id_masked: String,
    pub key_id: String,
    pub key_algorithm: String,
    pub not_before: i64,
    pub not_after: i64,
    #[serde(skip)]
    pub der: Vec<u8>,
    pub pem: String,
}

/// Level 2 = verified in person (chip card + face); the plans' precondition for a certificate.
pub const EID_LEVEL_REQUIRED: i64 = 2;

impl Authority {
    /// Record (or update) a person from the register, with their e-ID level.
    pub async fn register_citizen(&self, s: &CitizenSubject, eid_level: i64, actor: &str) -> Result<()> {
        let row = CitizenRow {
            id_number: s.id.expose().to_string(),
            full_name: s.full_name.clone(),
            province: s.province.clone(),
            commune: s.commune.clone(),
            eid_level,
            updated_at: kyso_store::now(),
        };
        let ev = AuditEvent::new(actor, "citizen.upsert", &s.id.masked(), format!("e-ID level {eid_level}"));
        self.committer().commit(vec![Write::Citizen(row), Write::Audit(ev)]).await?;
        Ok(())
    }

    fn validate(&self, req: &IssueRequest) -> Result<(CitizenSubject, KeyAlgorithm, u64)> {
        let subject = CitizenSubject::new(&req.id_number, &req.full_name, &req.province, req.commune.as_deref())?;
        let p = self.config.provider(&req.provider).ok_or_else(|| {
            AuthorityError::Refused(format!(
                "provider: unknown provider `{}`; licensed providers here: {}",
                req.provider,
                self.provider_ids().join(", ")
            ))
        })?;
        let days = req.validity_days.unwrap_or(p.citizen_validity_days);
        if days == 0 || days > 3 * 365 {
            return Err(AuthorityError::Refused(
                "validity_days: must be 1..=1095 (Decree 23/2025: at most 3 years)".into(),
            ));
        }
        Ok((subject, req.key_algorithm.unwrap_or(p.citizen_key_algorithm), days))
    }

    async fn require_level2(&self, s: &CitizenSubject) -> Result<()> {
        match self.store.citizen(s.id.expose()).await? {
            Some(c) if c.eid_level >= EID_LEVEL_REQUIRED => Ok(()),
            Some(c) => Err(AuthorityError::Refused(format!(
                "id_number: {} has a level-{} e-ID account; a certificate needs level 2. Verify the person in person (chip card + face) first.",
                s.id.masked(),
                c.eid_level
            ))),
            None => Err(AuthorityError::Refused(format!(
                "id_number: {} is not in the population register here; import the register or mark the person as level 2 first.",
                s.id.masked()
            ))),
        }
    }

    /// Issue a citizen certificate with a fresh key generated in custody. The level-2 check runs
    /// inside the transaction that stores the certificate, so a downgrade cannot slip between.
    pub async fn issue(self: &Arc<Self>, req: IssueRequest) -> Result<IssuedCert> {
        let (subject, alg, days) = self.validate(&req)?;
        // ~0.1 ms of CPU (key generation, signing): cheaper inline than a hop to another thread.
        let (issued, writes) = self.prepare_issue(&req, &subject, alg, days, None)?;
        self.commit_issued(&subject, issued, writes).await
    }

    /// Issue for a key the citizen holds (a PKCS#10 request verified by the caller): no key in
    /// custody. Same validation, level-2 check and audit as [`Authority::issue`].
    pub async fn issue_for_public_key(self: &Arc<Self>, req: IssueRequest, spki_der: Vec<u8>) -> Result<IssuedCert> {
        let (subject, alg, days) = self.validate(&req)?;
        let (issued, writes) = self.prepare_issue(&req, &subject, alg, days, Some((String::new(), spki_der)))?;
        self.commit_issued(&subject, issued, writes).await
    }

    /// Store what [`Authority::prepare_issue`] built, the level-2 check in the same transaction.
    async fn commit_issued(
        self: &Arc<Self>,
        subject: &CitizenSubject,
        issued: IssuedCert,
        mut writes: Vec<Write>,
    ) -> Result<IssuedCert> {
        writes.push(Write::RequireEidLevel { id_number: subject.id.expose().to_string(), level: EID_LEVEL_REQUIRED });
        match self.committer().commit(writes).await {
            Ok(()) => {
                self.ocsp_issued(&issued.provider, &issued.serial);
                Ok(issued)
            }
            Err(kyso_store::StoreError::Precondition(_)) => {
                self.require_level2(subject).await?;
                Err(AuthorityError::Refused("id_number: the e-ID level changed during issuance; retry".into()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// CPU part of issuance: key generation (unless `reuse` gives the key), build, sign, lint.
    /// Returns the certificate and the writes that make it real; nothing is stored yet.
    pub fn prepare_issue(
        &self,
        req: &IssueRequest,
        subject: &CitizenSubject,
        alg: KeyAlgorithm,
        days: u64,
        reuse: Option<(String, Vec<u8>)>,
    ) -> Result<(IssuedCert, Vec<Write>)> {
        let ca =
            self.ca(&req.provider).ok_or_else(|| AuthorityError::NotFound(format!("provider CA {}", req.provider)))?;
        let pcfg = self.config.provider(&req.provider).ok_or_else(|| AuthorityError::NotFound(req.provider.clone()))?;
        let now = SystemTime::now();
        let now_s = kyso_pki::time::unix(now) as i64;
        let mut writes = Vec::with_capacity(4);
        let (key_id, spki, alg) = match reuse {
            Some((id, spki)) => (id, spki, alg),
            None => {
                let (signer, wrapped): (Box<dyn Signer>, WrappedKey) = self.custody().generate(alg)?;
                let krow = key_row(&wrapped, now_s);
                let id = krow.id.clone();
                writes.push(Write::Key(krow));
                (id, signer.public_key_der().to_vec(), alg)
            }
        };
        let serial = Serial::random()?;
        let not_after = now + Duration::from_secs(days * 86_400);
        let name = subject.to_name()?;
        let der = match &ca.citizen_template {
            // Built, signed and linted like `cert::issue`, around the CA's pre-encoded parts.
            Some(t) => {
                let holder = cert::Holder { subject: &name, public_key_der: &spki, serial, not_before: now, not_after };
                t.issue(&holder, ca.signer.as_ref())?
            }
            None => {
                let spec = CertSpec {
                    profile: Profile::Citizen,
                    subject: name,
                    subject_public_key_der: &spki,
                    serial,
                    not_before: now,
                    not_after,
                    urls: Urls {
                        crl: Some(self.config.crl_url(&ca.id)),
                        ocsp: Some(self.config.ocsp_url(&ca.id)),
                        ca_issuers: Some(self.config.ca_url(&ca.id)),
                    },
                    policy_oid: kyso_pki::cert::parse_oid(&pcfg.policy_oid),
                };
                cert::issue(&spec, &ca.issuer())?
            }
        };
        let mut row: CertRow = cert_row(
            &serial,
            &ca.id,
            Profile::Citizen,
            &subject.full_name,
            (!key_id.is_empty()).then(|| key_id.clone()),
            now,
            not_after,
            der.clone(),
            now_s,
        );
        row.id_number = Some(subject.id.expose().to_string());
        writes.push(Write::Certificate(row));
        writes.push(Write::Audit(AuditEvent::new(
            &req.actor,
            "cert.issue",
            &serial.hex(),
            format!("citizen {} by {} ({alg}, {days} days)", subject.id.masked(), ca.id),
        )));
        let issued = IssuedCert {
            serial: serial.hex(),
            provider: ca.id.clone(),
            subject: subject.full_name.clone(),
            id_masked: subject.id.masked(),
            key_id,
            key_algorithm: alg.as_str().to_string(),
            not_before: now_s,
            not_after: kyso_pki::time::unix(not_after) as i64,
            pem: kyso_pki::pem("CERTIFICATE", &der),
            der,
        };
        Ok((issued, writes))
    }

    /// Renew (gia hạn): a new certificate for the same person and provider, with the same key or a
    /// new one; the old certificate is marked superseded and revoked with reason superseded.
    pub async fn renew(self: &Arc<Self>, serial: &str, new_key: bool, actor: &str) -> Result<IssuedCert> {
        let old = self.certificate(serial).await?;
        if old.profile != "citizen" {
            return Err(AuthorityError::Refused(format!(
                "serial: {serial} is a {} certificate; only citizen certificates are renewed here",
                old.profile
            )));
        }
        if old.revoked_at.is_some() {
            return Err(AuthorityError::Refused(format!(
                "serial: {serial} is revoked; issue a new certificate instead"
            )));
        }
        let id_number = old.id_number.clone().unwrap_or_default();
        let c = self
            .store
            .citizen(&id_number)
            .await?
            .ok_or_else(|| AuthorityError::NotFound("citizen of this certificate".into()))?;
        let req = IssueRequest {
            id_number: c.id_number.clone(),
            full_name: c.full_name.clone(),
            province: c.province.clone(),
            commune: c.commune.clone(),
            provider: old.issuer_id.clone(),
            key_algorithm: None,
            validity_days: None,
            actor: actor.to_string(),
        };
        let (subject, mut alg, days) = self.validate(&req)?;
        self.require_level2(&subject).await?;
        let reuse = if new_key {
            None
        } else {
            let key_id = old.key_id.clone().ok_or_else(|| {
                AuthorityError::Refused("certificate has no key in custody; renew with a new key".into())
            })?;
            let k = self.store.key(&key_id).await?;
            alg = k.algorithm.parse()?;
            Some((key_id, k.public_key))
        };
        let me = self.clone();
        let (issued, mut writes) =
            tokio::task::spawn_blocking(move || me.prepare_issue(&req, &subject, alg, days, reuse))
                .await
                .map_err(|e| AuthorityError::Refused(format!("issuance worker failed: {e}")))??;
        let now = kyso_store::now();
        writes.push(Write::Supersede { serial: serial.to_string(), by: issued.serial.clone() });
        if !new_key {
            // Same key: the citizen's remote-signing credential now signs with the new certificate.
            writes.push(Write::RebindCredential { old_serial: old.serial.clone(), new_serial: issued.serial.clone() });
        }
        writes.push(Write::Audit(AuditEvent::new(
            actor,
            "cert.renew",
            serial,
            format!("superseded by {} ({})", issued.serial, if new_key { "new key" } else { "same key" }),
        )));
        let _guard = self.revocation_lock.lock().await;
        writes.push(Write::Revoke { serial: serial.to_string(), at: now, reason: 4 });
        writes.push(Write::Audit(AuditEvent::new(actor, "cert.revoke", serial, "superseded")));
        writes.extend(self.crl_writes(&old.issuer_id, Some((serial, now, 4)), actor).await?);
        self.committer().commit(writes).await?;
        self.ocsp_revoked(&old.issuer_id, &old.serial, now, 4);
        self.ocsp_issued(&issued.provider, &issued.serial);
        drop(_guard);
        self.ocsp_followers_catch_up().await;
        Ok(issued)
    }

    /// Revoke with an RFC 5280 reason code; the issuer's CRL is re-signed in the same transaction.
    pub async fn revoke(&self, serial: &str, reason: u8, actor: &str) -> Result<CertRow> {
        if kyso_pki::crl::reason_from_code(reason).is_none() || reason == 8 {
            return Err(AuthorityError::Refused(format!("reason: {reason} is not a revocation reason code")));
        }
        let _guard = self.revocation_lock.lock().await;
        let c = self.certificate(serial).await?;
        if c.revoked_at.is_some() {
            return Err(AuthorityError::Refused(format!("serial: {serial} is already revoked")));
        }
        let now = kyso_store::now();
        let mut writes = vec![
            Write::Revoke { serial: c.serial.clone(), at: now, reason: i64::from(reason) },
            Write::Audit(AuditEvent::new(actor, "cert.revoke", &c.serial, format!("reason {}", reason_name(reason)))),
        ];
        writes.extend(self.crl_writes(&c.issuer_id, Some((&c.serial, now, i64::from(reason))), actor).await?);
        self.committer().commit(writes).await?;
        // before returning: the next OCSP answer from this process says "revoked"
        self.ocsp_revoked(&c.issuer_id, &c.serial, now, reason);
        drop(_guard);
        self.ocsp_followers_catch_up().await;
        self.certificate(serial).await
    }

    /// A certificate by serial (hex, any case, with or without colons or leading zeros).
    pub async fn certificate(&self, serial: &str) -> Result<CertRow> {
        let norm = normalise_serial(serial)?;
        self.store.certificate(&norm).await?.ok_or_else(|| AuthorityError::NotFound(format!("certificate {serial}")))
    }
}

pub fn normalise_serial(s: &str) -> Result<String> {
    let h: String = s.chars().filter(|c| *c != ':' && !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    let h = h.strip_prefix("0x").unwrap_or(&h).to_string();
    if h.is_empty() || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AuthorityError::Refused(format!("serial: `{s}` is not a hexadecimal serial number")));
    }
    let t = h.trim_start_matches('0');
    let t = if t.is_empty() { "0" } else { t };
    Ok(if t.len() % 2 == 1 { format!("0{t}") } else { t.to_string() })
}
