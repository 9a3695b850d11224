//! Remote signing under the citizen's sole control (ký số từ xa), shaped after the CSC API v2:
//! activation with a 6-digit PIN, lockout after 5 wrong PINs (kept in storage), per-transaction
//! authorization returning a single-use SAD bound to exactly the hashes to sign, then signHash.
//! Every step is in the audit log; no PIN, SAD, token or key material is ever logged.

use crate::hierarchy::key_row;
use crate::issue::{IssueRequest, IssuedCert, EID_LEVEL_REQUIRED};
use crate::{Authority, AuthorityError, Result};
use aws_lc_rs::rand::SecureRandom;
use kyso_custody::{CustodyError, Pin, SignatureScheme, Signer, WrappedKey};
use kyso_store::pins::PinSlot;
use kyso_store::{AuditEvent, CredentialRow, Write};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const MAX_PIN_ATTEMPTS: i64 = 5;
pub const MAX_HASHES_PER_SAD: usize = 1000;

/// Errors shaped for the CSC API (`error` codes from the specification).
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("the PIN is wrong; {remaining} attempt(s) left before the credential locks")]
    InvalidPin { remaining: i64 },
    #[error("the one-time code is wrong, expired or already used: wait for the next one")]
    InvalidOtp,
    #[error("the credential is locked after 5 wrong PINs or codes: visit a support desk so an officer re-verifies you in person (level 2)")]
    Locked,
    /// Every attempt slot is taken by checks still running: nothing was checked.
    #[error("other PIN checks for this credential are still running; try again in a few seconds")]
    Busy,
    #[error(transparent)]
    Authority(#[from] AuthorityError),
    /// No signing slot was free in time (HTTP 503 with Retry-After).
    #[error(transparent)]
    Overloaded(#[from] crate::pool::Busy),
}

impl From<kyso_store::StoreError> for SigningError {
    fn from(e: kyso_store::StoreError) -> Self {
        SigningError::Authority(e.into())
    }
}

/// A live signature activation: who, which credential, which hashes, until when.
pub(crate) struct Sad {
    credential: String,
    id_number: String,
    hashes: HashSet<[u8; 32]>,
    expires: Instant,
    signer: Arc<dyn Signer>,
    scheme: SignatureScheme,
}

#[derive(Default)]
pub(crate) struct SadStore {
    live: std::sync::Mutex<std::collections::HashMap<[u8; 32], Sad>>,
}

pub struct Activation {
    pub credential_id: String,
    pub certificate: IssuedCert,
    /// `otpauth://` URI for the citizen's authenticator app, when the provider requires a second factor.
    pub otpauth_uri: Option<String>,
}

pub struct Authorization {
    pub sad: String,
    pub expires_in: u64,
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| AuthorityError::Refused("system RNG failed".into()))?;
    Ok(b)
}

fn b64url(b: &[u8]) -> String {
    kyso_pki::b64::encode_url(b)
}

fn sha256(b: &[u8]) -> [u8; 32] {
    let mut o = [0u8; 32];
    o.copy_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b).as_ref());
    o
}

/// Digest of a list of hashes, for the audit trail (links the SAD to the signed documents).
fn hashes_digest(h: &[[u8; 32]]) -> String {
    hex::encode(sha256(&h.concat()))
}

/// RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30 s), accepting the previous and next step for clock
/// skew: the time step the code belongs to, if it is right. A step is good once: the caller
/// records it ([`Write::TotpStep`]) so that the same code cannot authorize twice.
pub fn totp_step(secret: &[u8], code: &str, unix: u64) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    (-1i64..=1).map(|d| (unix / 30) as i64 + d).find(|&step| {
        let tag = aws_lc_rs::hmac::sign(&key, &(step as u64).to_be_bytes());
        let t = tag.as_ref();
        let off = (t[19] & 0x0f) as usize;
        let bin = (u32::from(t[off] & 0x7f) << 24)
            | (u32::from(t[off + 1]) << 16)
            | (u32::from(t[off + 2]) << 8)
            | u32::from(t[off + 3]);
        format!("{:06}", bin % 1_000_000) == code
    })
}

fn base32(b: &[u8]) -> String {
    const A: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut acc, mut bits) = (String::new(), 0u32, 0u32);
    for &x in b {
        acc = (acc << 8) | u32::from(x);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(A[((acc >> bits) & 31) as usize] as char);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(A[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Signature algorithm OIDs accepted by signHash.
pub fn scheme_from_oid(oid: &str) -> Option<SignatureScheme> {
    match oid {
        "1.2.840.10045.4.3.2" => Some(SignatureScheme::EcdsaP256Sha256),
        "1.2.840.113549.1.1.10" => Some(SignatureScheme::RsaPssSha256),
        "1.2.840.113549.1.1.11" => Some(SignatureScheme::RsaPkcs1Sha256),
        _ => None,
    }
}

pub const SHA256_OID: &str = "2.16.840.1.101.3.4.2.1";

/// What a failed attempt was.
#[derive(Clone, Copy)]
enum Factor {
    Pin,
    PinChange,
    Otp,
    OtpReplayed,
}

fn not_signable() -> SigningError {
    SigningError::InvalidRequest("the certificate of this credential is revoked or expired".into())
}

impl Authority {
    fn wrapped(&self, k: &kyso_store::KeyRow) -> Result<WrappedKey> {
        let backend = match k.backend.as_str() {
            "vault-pin" => "vault-pin",
            "pkcs11" => "pkcs11",
            _ => return Err(AuthorityError::Refused("this key is not a citizen signing key".into())),
        };
        Ok(WrappedKey {
            backend,
            algorithm: k.algorithm.parse()?,
            public_key_der: k.public_key.clone(),
            blob: k.wrapped.clone(),
        })
    }

    /// Kích hoạt: set the PIN, generate the key under it in the provider's custody, and issue the
    /// certificate for it — one transaction.
    ///
    /// A person holds at most one valid certificate per provider through activation (renewal is
    /// the way to a newer one): with one, this fails with
    /// [`kyso_store::StoreError::AlreadyActive`], checked before the key is made and again in
    /// the transaction that issues.
    pub async fn activate(self: &Arc<Self>, req: IssueRequest, pin: &Pin) -> Result<Activation> {
        let now = kyso_store::now();
        if let Some(serial) = self.active_certificate(&req.id_number, &req.provider, now).await? {
            return Err(kyso_store::StoreError::AlreadyActive(serial).into());
        }
        let guard = Write::RequireNoActiveCertificate {
            id_number: req.id_number.clone(),
            issuer_id: req.provider.clone(),
            at: now,
        };
        self.activate_guarded(req, pin, vec![guard]).await
    }

    /// [`Authority::activate`] from a citizen's form: the form's one-use token is consumed and
    /// "no valid certificate from this provider yet" checked in the transaction that issues, so a
    /// resubmitted or replayed form fails with [`kyso_store::StoreError::FormUsed`] and a second
    /// activation at the same provider with [`kyso_store::StoreError::AlreadyActive`] (renewal
    /// is the way to a newer certificate). Both are checked before the key is made, too.
    pub async fn activate_form(self: &Arc<Self>, req: IssueRequest, pin: &Pin, form_token: &str) -> Result<Activation> {
        let now = kyso_store::now();
        let token_hash = crate::forms::token_hash(form_token);
        let owner = req.id_number.clone();
        match self.store.form_token(&token_hash, crate::forms::ACTIVATE, &owner, now).await? {
            Some(t) if t.used_at.is_none() && t.subject == req.provider => {}
            _ => return Err(kyso_store::StoreError::FormUsed(crate::forms::ACTIVATE.into()).into()),
        }
        if let Some(serial) = self.active_certificate(&req.id_number, &req.provider, now).await? {
            return Err(kyso_store::StoreError::AlreadyActive(serial).into());
        }
        let guards = vec![
            Write::ConsumeFormToken { token_hash, purpose: crate::forms::ACTIVATE.into(), owner, at: now },
            Write::RequireNoActiveCertificate {
                id_number: req.id_number.clone(),
                issuer_id: req.provider.clone(),
                at: now,
            },
        ];
        self.activate_guarded(req, pin, guards).await
    }

    /// The newest certificate of this person from this provider that is neither revoked,
    /// expired nor renewed.
    pub async fn active_certificate(&self, id_number: &str, provider: &str, now: i64) -> Result<Option<String>> {
        let certs = self.store.certificates(Some(id_number), Some(provider), 200, 0).await?;
        Ok(certs
            .into_iter()
            .find(|c| c.revoked_at.is_none() && c.not_after > now && c.superseded_by.is_none())
            .map(|c| c.serial))
    }

    async fn activate_guarded(
        self: &Arc<Self>,
        req: IssueRequest,
        pin: &Pin,
        guards: Vec<Write>,
    ) -> Result<Activation> {
        let subject =
            kyso_pki::CitizenSubject::new(&req.id_number, &req.full_name, &req.province, req.commune.as_deref())?;
        let pcfg = self.config.provider(&req.provider).cloned().ok_or_else(|| {
            AuthorityError::Refused(format!(
                "provider: unknown provider `{}`; licensed providers here: {}",
                req.provider,
                self.provider_ids().join(", ")
            ))
        })?;
        let custody = self.pin_custody(&req.provider);
        let alg = req.key_algorithm.unwrap_or(pcfg.citizen_key_algorithm);
        let pin_bytes = pin.clone();
        let wrapped = self.argon2(move || custody.generate_protected(alg, &pin_bytes)).await??;
        let now = kyso_store::now();
        let krow = key_row(&wrapped, now);
        let days = req.validity_days.unwrap_or(pcfg.citizen_validity_days);
        let (cert, mut writes) =
            self.prepare_issue(&req, &subject, alg, days, Some((krow.id.clone(), wrapped.public_key_der.clone())))?;
        let credential_id = format!("cred-{}", hex::encode(random::<10>()?));
        // The TOTP seed is stored sealed under the KEK, bound to this credential.
        let totp = if pcfg.require_totp { Some(random::<20>()?.to_vec()) } else { None };
        let sealed_totp = totp.as_deref().map(|s| self.custody.seal(credential_id.as_bytes(), s)).transpose()?;
        writes.push(Write::Key(krow.clone()));
        writes.push(Write::Credential(CredentialRow {
            id: credential_id.clone(),
            id_number: subject.id.expose().to_string(),
            provider_id: req.provider.clone(),
            key_id: krow.id.clone(),
            cert_serial: cert.serial.clone(),
            status: "active".into(),
            failed_pins: 0,
            totp_secret: sealed_totp,
            created_at: now,
            updated_at: now,
        }));
        writes.extend(guards);
        writes.push(Write::RequireEidLevel { id_number: subject.id.expose().to_string(), level: EID_LEVEL_REQUIRED });
        writes.push(Write::Audit(AuditEvent::new(
            &req.actor,
            "credential.activate",
            &credential_id,
            format!(
                "citizen {} at {}, key {} {} in {}, certificate {}",
                subject.id.masked(),
                req.provider,
                krow.id,
                alg,
                wrapped.backend,
                cert.serial
            ),
        )));
        match self.committer().commit(writes).await {
            Ok(()) => {}
            Err(kyso_store::StoreError::Precondition(_)) => {
                return Err(AuthorityError::Refused(format!(
                "id_number: {} has no level-2 e-ID account here; verify the person in person (chip card + face) first",
                subject.id.masked()
            )))
            }
            Err(e) => return Err(e.into()),
        }
        let otpauth_uri = totp.map(|mut s| {
            let uri = format!(
                "otpauth://totp/kyso:{}?secret={}&issuer=kyso&digits=6&period=30",
                subject.id.masked(),
                base32(&s)
            );
            s.iter_mut().for_each(|b| *b = 0);
            uri
        });
        Ok(Activation { credential_id, certificate: cert, otpauth_uri })
    }

    /// A credential, only if it belongs to this person (others' credentials look like unknown ones).
    pub async fn own_credential(
        &self,
        id_number: &str,
        credential: &str,
    ) -> std::result::Result<CredentialRow, SigningError> {
        match self.store.credential(credential).await? {
            Some(c) if c.id_number == id_number => Ok(c),
            _ => Err(SigningError::InvalidRequest("Invalid parameter credentialID".into())),
        }
    }

    /// CSC credentials/authorize: check the PIN (and OTP), return a SAD for exactly these hashes.
    ///
    /// The attempt is counted before the PIN is checked (an attempt slot taken in the store in
    /// one conditional update), so that concurrent requests cannot get more than
    /// [`MAX_PIN_ATTEMPTS`] wrong PINs evaluated; the lock is written with the 5th failure's
    /// audit row; and the authorization is committed only while the credential is still active
    /// and its certificate valid.
    pub async fn authorize(
        &self,
        id_number: &str,
        credential: &str,
        pin: &Pin,
        otp: Option<&str>,
        hashes: &[[u8; 32]],
    ) -> std::result::Result<Authorization, SigningError> {
        if hashes.is_empty() || hashes.len() > MAX_HASHES_PER_SAD {
            return Err(SigningError::InvalidRequest(format!("hashes: send 1 to {MAX_HASHES_PER_SAD} SHA-256 hashes")));
        }
        let c = self.own_credential(id_number, credential).await?;
        if c.status == "locked" {
            return Err(SigningError::Locked);
        }
        let cert = self.store.certificate(&c.cert_serial).await?;
        if cert.as_ref().is_none_or(|x| x.revoked_at.is_some() || x.not_after < kyso_store::now()) {
            return Err(not_signable());
        }
        let key = self.store.key(&c.key_id).await?;
        let wrapped = self.wrapped(&key)?;
        self.reserve_attempt(&c.id).await?;
        let custody = self.pin_custody(&c.provider_id);
        let pin_copy = pin.clone();
        // Argon2 (19 MiB) behind the memory-sized gate, off the async workers.
        let unlocked = self.argon2(move || custody.unlock(&wrapped, &pin_copy)).await;
        let now = kyso_store::now();
        let signer = match unlocked {
            Ok(Ok(s)) => s,
            Ok(Err(CustodyError::WrongPin)) => return Err(self.attempt_failed(&c.id, Factor::Pin).await?),
            // Not the person's failure (busy, key store down): the slot is given back.
            Ok(Err(e)) => {
                self.store.release_pin_attempt(&c.id).await?;
                return Err(AuthorityError::from(e).into());
            }
            Err(e) => {
                self.store.release_pin_attempt(&c.id).await?;
                return Err(e.into());
            }
        };
        // The second factor: a wrong code counts like a wrong PIN (five in all lock the
        // credential), and a right one is good once.
        let step = match &c.totp_secret {
            None => None,
            Some(stored) => {
                let mut secret = self.totp_secret(&c.id, stored)?;
                let step = otp.and_then(|o| totp_step(&secret, o, now as u64));
                secret.iter_mut().for_each(|b| *b = 0);
                match step {
                    Some(step) => Some(step),
                    None => return Err(self.attempt_failed(&c.id, Factor::Otp).await?),
                }
            }
        };
        let token = random::<32>()?;
        let ttl = self.config.sad_ttl_seconds.clamp(1, 300);
        let mut w = vec![
            Write::PinOk { credential: c.id.clone(), at: now },
            Write::RequireSignable { credential: c.id.clone(), at: now },
            Write::Audit(AuditEvent::new(
                "citizen",
                "credential.authorize",
                &c.id,
                format!("{} hash(es), digest {}, valid {ttl} s", hashes.len(), hashes_digest(hashes)),
            )),
        ];
        if let Some(step) = step {
            w.push(Write::TotpStep { credential: c.id.clone(), step });
        }
        match self.committer().commit(w).await {
            Ok(()) => {}
            Err(kyso_store::StoreError::Precondition(_)) => {
                return Err(self.attempt_failed(&c.id, Factor::OtpReplayed).await?);
            }
            Err(kyso_store::StoreError::Locked(_)) => return Err(self.not_signable_now(&c.id).await),
            Err(e) => return Err(e.into()),
        }
        let scheme = signer.algorithm().default_scheme();
        let sad = Sad {
            credential: c.id.clone(),
            id_number: id_number.to_string(),
            hashes: hashes.iter().copied().collect(),
            expires: Instant::now() + Duration::from_secs(ttl),
            signer: Arc::from(signer),
            scheme,
        };
        let mut live = self.sads.live.lock().unwrap_or_else(|p| p.into_inner());
        let now_i = Instant::now();
        live.retain(|_, s| s.expires > now_i);
        live.insert(sha256(&token), sad);
        Ok(Authorization { sad: b64url(&token), expires_in: ttl })
    }

    /// Take an attempt slot before checking a PIN or code (see `kyso_store::pins`).
    async fn reserve_attempt(&self, credential: &str) -> std::result::Result<(), SigningError> {
        match self.store.reserve_pin_attempt(credential, MAX_PIN_ATTEMPTS, kyso_store::now()).await? {
            PinSlot::Reserved { .. } => Ok(()),
            PinSlot::Locked => Err(SigningError::Locked),
            PinSlot::Busy => Err(SigningError::Busy),
            PinSlot::Unknown => Err(SigningError::InvalidRequest("Invalid parameter credentialID".into())),
        }
    }

    /// A reserved check failed: audited as attempt n of five; the fifth locks the credential in
    /// the same transaction. Returns the error to answer with.
    async fn attempt_failed(
        &self,
        credential: &str,
        factor: Factor,
    ) -> std::result::Result<SigningError, SigningError> {
        let action = match factor {
            Factor::Pin | Factor::PinChange => "credential.pin_failed",
            Factor::Otp => "credential.otp_failed",
            Factor::OtpReplayed => "credential.otp_replayed",
        };
        let during = if matches!(factor, Factor::PinChange) { ", during a PIN change" } else { "" };
        let event = |n: i64| {
            AuditEvent::new("citizen", action, credential, format!("attempt {n} of {MAX_PIN_ATTEMPTS}{during}"))
        };
        let lock_event = AuditEvent::new("system", "credential.locked", credential, "5 wrong PINs or codes");
        let f =
            self.store.pin_attempt_failed(credential, MAX_PIN_ATTEMPTS, kyso_store::now(), event, &lock_event).await?;
        Ok(match factor {
            _ if f.locked => {
                self.forget_sads(credential);
                SigningError::Locked
            }
            Factor::Pin | Factor::PinChange => SigningError::InvalidPin { remaining: MAX_PIN_ATTEMPTS - f.attempt },
            Factor::Otp | Factor::OtpReplayed => SigningError::InvalidOtp,
        })
    }

    /// A commit refused because the credential locked or its certificate was revoked or
    /// expired meanwhile: its live SADs are dropped; the error says which.
    async fn not_signable_now(&self, credential: &str) -> SigningError {
        self.forget_sads(credential);
        match self.store.credential(credential).await {
            Ok(Some(c)) if c.status == "locked" => SigningError::Locked,
            _ => not_signable(),
        }
    }

    fn forget_sads(&self, credential: &str) {
        let mut live = self.sads.live.lock().unwrap_or_else(|p| p.into_inner());
        live.retain(|_, s| s.credential != credential);
    }

    /// A credential's TOTP seed, unsealed; 20 bytes as stored before seeds were sealed are read as they are.
    fn totp_secret(&self, credential: &str, stored: &[u8]) -> Result<Vec<u8>> {
        if stored.len() == 20 {
            return Ok(stored.to_vec());
        }
        Ok(self.custody.unseal(credential.as_bytes(), stored)?)
    }

    /// CSC signatures/signHash: sign hashes the SAD was issued for; each hash once, then the SAD is spent.
    pub async fn sign_hash(
        &self,
        id_number: &str,
        credential: &str,
        sad: &str,
        hashes: &[[u8; 32]],
        scheme: Option<SignatureScheme>,
    ) -> std::result::Result<Vec<Vec<u8>>, SigningError> {
        let invalid_sad =
            || SigningError::InvalidRequest("Invalid parameter SAD (unknown, expired or already used)".into());
        let token = decode_b64url(sad.trim()).ok_or_else(invalid_sad)?;
        let h = sha256(&token);
        let (signer, scheme_used, cred) = {
            let mut live = self.sads.live.lock().unwrap_or_else(|p| p.into_inner());
            let entry = live.get_mut(&h).ok_or_else(invalid_sad)?;
            if entry.expires <= Instant::now() {
                live.remove(&h);
                return Err(invalid_sad());
            }
            if entry.credential != credential || entry.id_number != id_number {
                return Err(SigningError::InvalidRequest("Invalid parameter credentialID for this SAD".into()));
            }
            if hashes.is_empty()
                || !hashes.iter().all(|x| entry.hashes.contains(x))
                || hashes.iter().collect::<HashSet<_>>().len() != hashes.len()
            {
                return Err(SigningError::InvalidRequest(
                    "Invalid parameter hashes: not the hashes this SAD authorizes".into(),
                ));
            }
            let want = scheme.unwrap_or(entry.scheme);
            if !entry.signer.algorithm().produces(want) {
                return Err(SigningError::InvalidRequest("Invalid parameter signAlgo for this key".into()));
            }
            for x in hashes {
                entry.hashes.remove(x);
            }
            let out = (entry.signer.clone(), want, entry.credential.clone());
            if entry.hashes.is_empty() {
                live.remove(&h);
            }
            out
        };
        let mut sigs = Vec::with_capacity(hashes.len());
        for x in hashes {
            sigs.push(signer.sign_digest(scheme_used, x).map_err(AuthorityError::from)?);
        }
        // The signatures leave only with their audit row, committed while the credential is
        // active and unlocked and its certificate neither revoked nor expired.
        let audit = AuditEvent::new(
            "citizen",
            "signature.create",
            &cred,
            format!("{} signature(s) over digest {}", hashes.len(), hashes_digest(hashes)),
        );
        let w = vec![Write::RequireSignable { credential: cred.clone(), at: kyso_store::now() }, Write::Audit(audit)];
        match self.committer().commit(w).await {
            Ok(()) => Ok(sigs),
            Err(kyso_store::StoreError::Locked(_)) => Err(self.not_signable_now(&cred).await),
            Err(e) => Err(e.into()),
        }
    }

    /// Officer unlock after re-verifying the person in person at level 2.
    pub async fn unlock_credential(&self, credential: &str, officer: &str, method: &str) -> Result<()> {
        let c = self
            .store
            .credential(credential)
            .await?
            .ok_or_else(|| AuthorityError::NotFound(format!("credential {credential}")))?;
        let masked = kyso_pki::CitizenId::parse(&c.id_number).map(|i| i.masked()).unwrap_or_default();
        self.committer()
            .commit(vec![
                Write::Unlock { credential: c.id.clone(), at: kyso_store::now() },
                Write::Audit(AuditEvent::new(
                    officer,
                    "credential.unlock",
                    &c.id,
                    format!("{masked} re-verified at level 2 in person ({method})"),
                )),
            ])
            .await?;
        Ok(())
    }

    /// Change the PIN (the old one must be right; wrong ones count towards the lockout, with the
    /// same attempt slots as [`Authority::authorize`]).
    pub async fn change_pin(
        &self,
        id_number: &str,
        credential: &str,
        old: &Pin,
        new: &Pin,
    ) -> std::result::Result<(), SigningError> {
        let c = self.own_credential(id_number, credential).await?;
        if c.status == "locked" {
            return Err(SigningError::Locked);
        }
        let key = self.store.key(&c.key_id).await?;
        let wrapped = self.wrapped(&key)?;
        self.reserve_attempt(&c.id).await?;
        let custody = self.pin_custody(&c.provider_id);
        let (o, n) = (old.clone(), new.clone());
        let r = self.argon2(move || custody.change_pin(&wrapped, &o, &n)).await;
        let now = kyso_store::now();
        match r {
            Ok(Ok(w)) => {
                let writes = vec![
                    Write::PinOk { credential: c.id.clone(), at: now },
                    Write::Rewrap { key_id: c.key_id.clone(), wrapped: w.blob },
                    Write::Audit(AuditEvent::new("citizen", "credential.pin_change", &c.id, "")),
                ];
                match self.committer().commit(writes).await {
                    Ok(()) => Ok(()),
                    Err(kyso_store::StoreError::Locked(_)) => Err(SigningError::Locked),
                    Err(e) => Err(e.into()),
                }
            }
            Ok(Err(CustodyError::WrongPin)) => Err(self.attempt_failed(&c.id, Factor::PinChange).await?),
            Ok(Err(e)) => {
                self.store.release_pin_attempt(&c.id).await?;
                Err(AuthorityError::from(e).into())
            }
            Err(e) => {
                self.store.release_pin_attempt(&c.id).await?;
                Err(e.into())
            }
        }
    }

    /// A bearer token for a citizen (until e-ID login lands, issued by an operator or the desk).
    pub async fn issue_access_token(&self, id_number: &str, ttl_secs: i64, actor: &str) -> Result<String> {
        let id =
            kyso_pki::CitizenId::parse(id_number).map_err(|e| AuthorityError::Refused(format!("id_number: {e}")))?;
        let token = random::<32>()?;
        let now = kyso_store::now();
        self.committer()
            .commit(vec![
                Write::AccessToken {
                    token_hash: sha256(&token).to_vec(),
                    id_number: id.expose().to_string(),
                    expires_at: now + ttl_secs,
                    created_at: now,
                },
                Write::Audit(AuditEvent::new(actor, "token.issue", &id.masked(), format!("valid {ttl_secs} s"))),
            ])
            .await?;
        Ok(b64url(&token))
    }

    /// The ID number behind a bearer token, if it is valid.
    pub async fn token_owner(&self, token: &str) -> Result<Option<String>> {
        let Some(raw) = decode_b64url(token.trim()) else { return Ok(None) };
        Ok(self.store.access_token(&sha256(&raw), kyso_store::now()).await?)
    }
}

pub fn decode_b64url(s: &str) -> Option<Vec<u8>> {
    kyso_pki::b64::decode_url(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn totp_rfc6238_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59 → 94287082 (8 digits) → 287082 (6 digits)
        let secret = b"12345678901234567890";
        assert_eq!(totp_step(secret, "287082", 59), Some(1));
        assert_eq!(totp_step(secret, "287083", 59), None);
        assert_eq!(totp_step(secret, "28708", 59), None);
        // T = 1111111109 → 07081804; one step of skew either way, not two.
        assert_eq!(totp_step(secret, "081804", 1_111_111_109), Some(37_037_036));
        assert_eq!(totp_step(secret, "287082", 89), Some(1));
        assert_eq!(totp_step(secret, "287082", 120), None);
    }
    #[test]
    fn b64url_roundtrip() {
        for n in 0..40 {
            let v: Vec<u8> = (0..n as u8).map(|x| x.wrapping_mul(91)).collect();
            assert_eq!(decode_b64url(&b64url(&v)).unwrap(), v);
        }
        assert_eq!(base32(b"12345678901234567890"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }
}
