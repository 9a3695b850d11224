//! Revocation status and time: CRLs (signed on revocation and on a schedule), OCSP answers from
//! the delegated responders, RFC 3161 time-stamps.

use crate::ocsp_cache::{OcspCache, Produced};
use crate::{Authority, AuthorityError, LoadedCa, LoadedSigner, Result, ACTOR_SYSTEM};
use der::{Decode, Encode};
use kyso_pki::cert::{serial_hex, Serial};
use kyso_pki::crl::{build_crl, RevokedEntry};
use kyso_pki::ocsp::{self, CertId, OcspQuery, ResponseStatus, Status};
use kyso_pki::time::{from_unix, unix};
use kyso_pki::tsa;
use kyso_store::{AuditEvent, CrlRow, Write};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

/// What the authority keeps for answering status and time requests fast.
#[derive(Default)]
pub struct StatusState {
    pub(crate) ocsp: OcspCache,
    /// Built at the first time-stamp.
    tsa: std::sync::OnceLock<tsa::Template>,
    /// Tests only: a pause between reading a status and signing, to widen the race with a
    /// revocation (`Authority::ocsp_fill_delay_for_tests`).
    fill_delay_ms: std::sync::atomic::AtomicU64,
}

/// An OCSP answer: a pre-produced response (HTTP caches may keep it until its nextUpdate) or one
/// made for this request alone.
pub enum OcspAnswer {
    Produced(Arc<Produced>),
    Fresh(Vec<u8>),
}

/// thisUpdate to nextUpdate of every response (`KYSO_OCSP_VALIDITY_SECS`, default one hour);
/// pre-produced ones are re-produced after half of it.
fn ocsp_validity() -> Duration {
    let secs = std::env::var("KYSO_OCSP_VALIDITY_SECS").ok().and_then(|v| v.parse().ok()).filter(|&s| s >= 60);
    Duration::from_secs(secs.unwrap_or(3600))
}

/// How often the change feed is read for revocations made by other processes
/// (`KYSO_OCSP_SYNC_MS`, default 50 ms). Revocations made in this process are seen at once.
fn ocsp_sync() -> Duration {
    let ms = std::env::var("KYSO_OCSP_SYNC_MS").ok().and_then(|v| v.parse().ok()).filter(|&s| s >= 1);
    Duration::from_millis(ms.unwrap_or(50))
}

/// The cache key: the provider, then the CertID as [`ocsp::cache_key`] normalises it.
fn cache_key(provider: &str, id: &CertId) -> Vec<u8> {
    let mut k = provider.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(&ocsp::cache_key(id));
    k
}

/// Sign a response for one CertID, to keep.
fn produced(
    provider: &str,
    responder: &LoadedSigner,
    id: &CertId,
    status: Status,
    now: SystemTime,
) -> std::result::Result<Arc<Produced>, Vec<u8>> {
    let internal = |_| ocsp::error_response(ResponseStatus::InternalError);
    let query = OcspQuery { cert_ids: vec![id.clone()], nonce: None };
    let r = ocsp::Responder { cert: &responder.cert, signer: responder.signer.as_ref() };
    let next = now + ocsp_validity();
    let der = ocsp::build_response(&query, &[status], &r, now, next).map_err(internal)?;
    let etag = format!("\"{}\"", hex::encode(&kyso_pki::alg::sha256(&der)[..16]));
    Ok(Arc::new(Produced {
        der,
        etag,
        produced_at: unix(now) as i64,
        next_update: unix(next) as i64,
        revoked: matches!(status, Status::Revoked { .. }),
        provider: provider.into(),
        cert_id_der: id.to_der().map_err(|_| ocsp::error_response(ResponseStatus::InternalError))?,
    }))
}

/// The cache's background work, for as long as the authority lives: every [`ocsp_sync`], the
/// audit rows after `seq` (revocations by any process: `cert.revoke`) invalidate their serials;
/// every minute, responses past half their validity are re-produced.
async fn follow_and_refresh(me: Weak<Authority>, mut seq: i64) {
    let mut tick = tokio::time::interval(ocsp_sync());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_refresh = tokio::time::Instant::now();
    loop {
        tick.tick().await;
        let Some(a) = me.upgrade() else { return };
        loop {
            let (store, on_replica) = a.ocsp_store();
            match store.audit_rows(seq, 1000).await {
                Ok(rows) => {
                    if !on_replica && rows.iter().any(|r| r.action == "cert.revoke") {
                        // revocations read from the primary: OCSP reads the replica again only
                        // once it has them too (raised before the invalidations below). Only for
                        // revocations: raising it on every poll from the primary would keep
                        // the floor ahead of the replica for good, and OCSP on the primary.
                        a.raise_ocsp_floor();
                    }
                    for r in &rows {
                        if r.action == "cert.revoke" {
                            if let Ok(serial) = crate::issue::normalise_serial(&r.subject) {
                                a.ocsp_invalidate(&serial);
                            }
                        }
                        seq = seq.max(r.seq);
                    }
                    if rows.len() < 1000 {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "OCSP cache: the audit log could not be read");
                    break;
                }
            }
        }
        if last_refresh.elapsed() >= Duration::from_secs(60) {
            last_refresh = tokio::time::Instant::now();
            a.refresh_ocsp().await;
        }
    }
}

impl Authority {
    /// The writes for a freshly signed CRL of `issuer_id` (plus `extra`, a revocation being
    /// committed in the same transaction). The caller holds the revocation lock.
    pub(crate) async fn crl_writes(
        &self,
        issuer_id: &str,
        extra: Option<(&str, i64, i64)>,
        actor: &str,
    ) -> Result<Vec<Write>> {
        let ca = self.ca(issuer_id).ok_or_else(|| AuthorityError::NotFound(format!("CA {issuer_id}")))?;
        // a CRL must miss no revocation: the replica only once it has replayed everything so far
        let mut revoked = self.complete_read_store().await.revoked(issuer_id).await?;
        if let Some((s, at, r)) = extra {
            revoked.push((s.to_string(), at, r));
        }
        let mut entries = Vec::with_capacity(revoked.len());
        for (serial, at, reason) in revoked {
            entries.push(RevokedEntry {
                serial: hex::decode(&serial)
                    .map_err(|_| AuthorityError::Refused(format!("stored serial {serial} is not hex")))?,
                revoked_at: from_unix(at),
                reason: reason as u8,
            });
        }
        let number = self.store.latest_crl(issuer_id).await?.map(|c| c.crl_number + 1).unwrap_or(1);
        let now = SystemTime::now();
        let next = now + Duration::from_secs(self.config.crl_validity_hours * 3600);
        let der = build_crl(&ca.issuer(), number as u64, now, next, &entries)?;
        Ok(vec![
            Write::Crl(CrlRow {
                issuer_id: issuer_id.to_string(),
                crl_number: number,
                this_update: kyso_pki::time::unix(now) as i64,
                next_update: kyso_pki::time::unix(next) as i64,
                der,
            }),
            Write::Audit(AuditEvent::new(
                actor,
                "crl.sign",
                issuer_id,
                format!("CRL #{number}, {} entries", entries.len()),
            )),
        ])
    }

    /// Sign a new CRL for `issuer_id` now.
    pub async fn sign_crl(&self, issuer_id: &str, actor: &str) -> Result<CrlRow> {
        let _guard = self.revocation_lock.lock().await;
        let w = self.crl_writes(issuer_id, None, actor).await?;
        self.committer().commit(w).await?;
        self.store.latest_crl(issuer_id).await?.ok_or_else(|| AuthorityError::NotFound(format!("CRL of {issuer_id}")))
    }

    /// The current CRL; re-signed when none exists or half its validity has passed.
    pub async fn current_crl(&self, issuer_id: &str) -> Result<CrlRow> {
        if self.ca(issuer_id).is_none() {
            return Err(AuthorityError::NotFound(format!("CA {issuer_id}")));
        }
        let current = |c: &CrlRow| kyso_store::now() < c.this_update + (c.next_update - c.this_update) / 2;
        // the replica's CRL may be older by the lag bound (never older than a revocation this
        // process made: the OCSP floor); before signing a new one, the primary's
        if let Some(c) = self.ocsp_store().0.latest_crl(issuer_id).await?.filter(current) {
            return Ok(c);
        }
        match self.store.latest_crl(issuer_id).await? {
            Some(c) if current(&c) => Ok(c),
            _ => self.sign_crl(issuer_id, ACTOR_SYSTEM).await,
        }
    }

    /// The scheduled job: refresh every CA's CRL that is past half its validity.
    pub async fn refresh_crls(&self) -> Result<()> {
        let ids: Vec<String> = self.cas().map(|c| c.id.clone()).collect();
        for id in ids {
            self.current_crl(&id).await?;
        }
        Ok(())
    }

    /// Answer a DER OCSPRequest addressed to `provider`'s responder. Always returns a DER
    /// OCSPResponse (errors become malformedRequest / unauthorized / internalError).
    pub async fn ocsp(&self, provider: &str, request: &[u8]) -> Vec<u8> {
        match self.ocsp_answer(provider, request).await {
            OcspAnswer::Produced(p) => p.der.clone(),
            OcspAnswer::Fresh(der) => der,
        }
    }

    /// Like [`Authority::ocsp`], but a request with one known CertID and no nonce gets the
    /// pre-produced response (from memory when cached, else produced now and kept), which HTTP
    /// caches may keep until its nextUpdate. Nonces, several CertIDs and unknown serials are
    /// answered fresh, from the store.
    pub async fn ocsp_answer(&self, provider: &str, request: &[u8]) -> OcspAnswer {
        let (Some(ca), Some(responder)) = (self.ca(provider), self.responder(provider)) else {
            return OcspAnswer::Fresh(ocsp::error_response(ResponseStatus::Unauthorized));
        };
        let query = match ocsp::parse_request(request) {
            Ok(q) => q,
            Err(_) => return OcspAnswer::Fresh(ocsp::error_response(ResponseStatus::MalformedRequest)),
        };
        let cache = &self.status_state.ocsp;
        let now = SystemTime::now();
        let cached = cache.is_active().then(|| ocsp::cacheable(&query)).flatten();
        let Some(id) = cached else {
            return OcspAnswer::Fresh(self.ocsp_fresh(ca, responder, &query, now).await);
        };
        let key = cache_key(provider, id);
        if let Some(p) = cache.get(&key, unix(now) as i64) {
            return OcspAnswer::Produced(p);
        }
        let generation = cache.generation(&key);
        match self.produce(ca, responder, id, now).await {
            // another request (or the issuance's pre-production) may have cached one meanwhile:
            // that one is served, so every client sees the same bytes
            Ok(Some(p)) => {
                OcspAnswer::Produced(cache.fill_missing(key, generation, p.clone(), unix(now) as i64).unwrap_or(p))
            }
            Ok(None) => OcspAnswer::Fresh(self.ocsp_fresh(ca, responder, &query, now).await),
            Err(der) => OcspAnswer::Fresh(der),
        }
    }

    /// The status of one CertID from the store; Err is the error response to send.
    async fn cert_status(&self, ca: &LoadedCa, id: &CertId) -> std::result::Result<Status, Vec<u8>> {
        if !ocsp::names_issuer(id, &ca.cert) {
            return Err(ocsp::error_response(ResponseStatus::Unauthorized));
        }
        let serial = serial_hex(id.serial_number.as_bytes());
        match self.ocsp_store().0.status(&ca.id, &serial).await {
            Ok(Some((Some(at), reason))) => Ok(Status::Revoked { at: from_unix(at), reason: reason as u8 }),
            Ok(Some((None, _))) => Ok(Status::Good),
            Ok(None) => Ok(Status::Unknown),
            Err(e) => {
                tracing::error!(error = %e, "OCSP status lookup failed");
                Err(ocsp::error_response(ResponseStatus::TryLater))
            }
        }
    }

    async fn ocsp_fresh(&self, ca: &LoadedCa, responder: &LoadedSigner, query: &OcspQuery, now: SystemTime) -> Vec<u8> {
        let mut statuses = Vec::with_capacity(query.cert_ids.len());
        for id in &query.cert_ids {
            match self.cert_status(ca, id).await {
                Ok(s) => statuses.push(s),
                Err(der) => return der,
            }
        }
        let r = ocsp::Responder { cert: &responder.cert, signer: responder.signer.as_ref() };
        ocsp::build_response(query, &statuses, &r, now, now + ocsp_validity())
            .unwrap_or_else(|_| ocsp::error_response(ResponseStatus::InternalError))
    }

    /// A pre-produced response for one CertID, its status read from the store now. None for a
    /// serial this CA never issued (answered fresh, never kept); Err is the error response.
    async fn produce(
        &self,
        ca: &LoadedCa,
        responder: &LoadedSigner,
        id: &CertId,
        now: SystemTime,
    ) -> std::result::Result<Option<Arc<Produced>>, Vec<u8>> {
        let status = self.cert_status(ca, id).await?;
        let delay = self.status_state.fill_delay_ms.load(std::sync::atomic::Ordering::Relaxed);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        if status == Status::Unknown {
            return Ok(None);
        }
        Ok(Some(produced(&ca.id, responder, id, status, now)?))
    }

    /// Start following the store for revocations made by other processes, refreshing responses
    /// before their nextUpdate and pre-producing on issuance; until that runs, every answer is
    /// fresh. Called by the server on its first OCSP request (cheap after that).
    pub fn ensure_ocsp_cache(self: &Arc<Self>) {
        if !self.status_state.ocsp.claim_start() {
            return;
        }
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            let Some(head) = (match me.upgrade() {
                Some(a) => a.audit_head().await,
                None => return,
            }) else {
                tracing::error!("OCSP cache stays off: the audit log could not be read");
                return;
            };
            if let Some(a) = me.upgrade() {
                // the feed starts at the primary's head: the replica must have it before OCSP
                // reads there
                a.raise_ocsp_floor();
                a.status_state.ocsp.activate();
            }
            follow_and_refresh(me, head).await;
        });
    }

    /// Tests only: pause every fill this long between the store's status and the signature.
    #[doc(hidden)]
    pub fn ocsp_fill_delay_for_tests(&self, ms: u64) {
        self.status_state.fill_delay_ms.store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether pre-produced responses are served (after [`Authority::ensure_ocsp_cache`]).
    pub fn ocsp_cache_active(&self) -> bool {
        self.status_state.ocsp.is_active()
    }

    /// The last audit sequence number (a binary search over `audit_rows`, ~50 queries at 30
    /// million rows; once, at start).
    async fn audit_head(&self) -> Option<i64> {
        let after = |a: i64| async move { self.store.audit_rows(a, 1).await.map(|r| !r.is_empty()) };
        let mut hi = 1i64;
        while after(hi).await.ok()? {
            hi *= 2;
        }
        let mut lo = -1i64; // rows exist after lo (trivially for -1); none after hi
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if after(mid).await.ok()? {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(hi)
    }

    /// After a revocation of `serial` by `issuer_id` committed in this process (the revocation
    /// lock held): replace its pre-produced responses before the revocation returns.
    pub(crate) fn ocsp_revoked(&self, issuer_id: &str, serial: &str, at: i64, reason: u8) {
        // fills read the replica only once it has this revocation
        self.raise_ocsp_floor();
        let cache = &self.status_state.ocsp;
        let (Some(ca), Some(responder), Ok(bytes)) =
            (self.ca(issuer_id), self.responder(issuer_id), hex::decode(serial))
        else {
            return;
        };
        for (i, hash) in ocsp::CERT_ID_HASHES.iter().enumerate() {
            let Ok(id) = ocsp::cert_id(&ca.cert, &bytes, *hash) else { continue };
            let key = cache_key(issuer_id, &id);
            let status = Status::Revoked { at: from_unix(at), reason };
            match (i, cache.is_active()) {
                // SHA-1 (RFC 5019's CertID): the revoked response, signed now
                (0, true) => match produced(issuer_id, responder, &id, status, SystemTime::now()) {
                    Ok(p) => cache.replace(key, p),
                    Err(_) => cache.invalidate(&key),
                },
                _ => cache.invalidate(&key),
            }
        }
    }

    /// After a revocation committed and the revocation lock is released: wait until the read
    /// replica (if this process has one) replayed it, then out the followers' polling (two
    /// [`ocsp_sync`] intervals and a margin), so that a server in another process (`kyso cert
    /// revoke` beside `kyso serve`, or another server instance, on the primary or on this replica)
    /// has dropped its pre-produced "good" before this revocation returns.
    pub(crate) async fn ocsp_followers_catch_up(&self) {
        // servers whose change feed reads the replica see it once the replica has replayed it
        self.replica_caught_up().await;
        tokio::time::sleep(ocsp_sync() * 2 + Duration::from_millis(50)).await;
    }

    /// A revocation seen on the change feed (maybe another process's): drop the serial's
    /// responses under every provider (the audit row does not name the issuer).
    fn ocsp_invalidate(&self, serial: &str) {
        let Ok(bytes) = hex::decode(serial) else { return };
        for ca in self.cas() {
            for hash in ocsp::CERT_ID_HASHES {
                if let Ok(id) = ocsp::cert_id(&ca.cert, &bytes, hash) {
                    self.status_state.ocsp.invalidate(&cache_key(&ca.id, &id));
                }
            }
        }
    }

    /// After an issuance committed: pre-produce its response in the background (when the cache
    /// is on; the issuance does not wait).
    pub(crate) fn ocsp_issued(self: &Arc<Self>, issuer_id: &str, serial: &str) {
        if !self.status_state.ocsp.is_active() {
            return;
        }
        let (me, issuer, serial) = (self.clone(), issuer_id.to_string(), serial.to_string());
        tokio::spawn(async move {
            let (Some(ca), Some(responder), Ok(bytes)) = (me.ca(&issuer), me.responder(&issuer), hex::decode(&serial))
            else {
                return;
            };
            let Ok(id) = ocsp::cert_id(&ca.cert, &bytes, ocsp::CERT_ID_HASHES[0]) else { return };
            let key = cache_key(&issuer, &id);
            let generation = me.status_state.ocsp.generation(&key);
            let now = SystemTime::now();
            if let Ok(Some(p)) = me.produce(ca, responder, &id, now).await {
                me.status_state.ocsp.fill_missing(key, generation, p, unix(now) as i64);
            }
        });
    }

    /// Re-produce every cached response past half its validity, from the store.
    async fn refresh_ocsp(&self) {
        let half = ocsp_validity().as_secs() as i64 / 2;
        let cache = &self.status_state.ocsp;
        for (key, old) in cache.due(kyso_store::now() - half) {
            let (Some(ca), Some(responder)) = (self.ca(&old.provider), self.responder(&old.provider)) else { continue };
            let Ok(id) = CertId::from_der(&old.cert_id_der) else { continue };
            let generation = cache.generation(&key);
            match self.produce(ca, responder, &id, SystemTime::now()).await {
                Ok(Some(p)) => {
                    cache.fill(key, generation, p);
                }
                _ => cache.invalidate(&key),
            }
        }
    }

    /// Answer a DER TimeStampReq. Returns a DER TimeStampResp (granted, or a rejection). CPU
    /// bound (a signature): the server runs it on the blocking pool.
    pub fn timestamp(&self, request: &[u8]) -> Vec<u8> {
        let q = match tsa::parse_request(request) {
            Ok(q) => q,
            Err(e) => return tsa::rejection(&e.to_string()),
        };
        let t = self.tsa();
        let template = match self.status_state.tsa.get() {
            Some(tpl) => tpl,
            None => {
                let policy =
                    kyso_pki::cert::parse_oid(&self.config.tsa.policy_oid).unwrap_or(kyso_pki::cert::OID_ANY_POLICY);
                match tsa::Template::new(&t.cert, &t.cert_der, t.signer.as_ref(), policy) {
                    Ok(tpl) => self.status_state.tsa.get_or_init(|| tpl),
                    Err(e) => return tsa::rejection(&e.to_string()),
                }
            }
        };
        let serial = match Serial::random() {
            Ok(s) => s,
            Err(e) => return tsa::rejection(&e.to_string()),
        };
        template
            .response(&q, t.signer.as_ref(), &serial.0, SystemTime::now())
            .unwrap_or_else(|e| tsa::rejection(&e.to_string()))
    }
}
