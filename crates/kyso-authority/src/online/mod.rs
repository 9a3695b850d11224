//! Revocation data and missing issuers for certificates kyso did not issue, fetched at the edge:
//! OCSP from the certificate's AIA (POST, RFC 6960; no nonce, freshness from thisUpdate and
//! nextUpdate), else the CRL from its distribution points, and issuers the document left out from
//! AIA caIssuers (DER, PEM or PKCS#7 certs-only). What comes back is checked by kyso-validate's
//! own evidence code (signed by the issuer or a responder it authorised) before it is used or
//! cached. Fetched items are cached in the store (`fetch_cache`, migration 14) until their
//! nextUpdate, so a cache hit makes no network call; in offline mode nothing is fetched and only
//! the document's DSS and the cache answer. The URLs come from uploaded certificates, so the
//! fetcher connects only to public addresses on port 80 unless a network is allowed
//! ([`reach`]); a refusal is reported as "could not be checked", naming the host and why.
//!
//! Validation stays pure: it asks a [`Recording`] source, which answers from kyso's own statuses,
//! the cache and what was fetched, and records what it could not answer; the caller fetches that
//! and validates again ([`crate::Authority::validate_pdf`]).

pub mod http;
pub mod reach;

use der::{Decode, Encode};
use kyso_sign::ValidationData;
use kyso_store::Store;
use kyso_validate::{DssEvidence, Revocation, RevocationSource};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::Semaphore;
use x509_cert::Certificate;

/// Bounds and mode of online fetching.
#[derive(Clone, Debug)]
pub struct OnlineConfig {
    /// Air-gapped: fetch nothing (the DSS and the cache still answer).
    pub offline: bool,
    /// Deadline of one fetch, redirects included.
    pub timeout: Duration,
    pub max_ocsp_bytes: usize,
    pub max_crl_bytes: usize,
    pub max_cert_bytes: usize,
    pub max_redirects: u8,
    /// Fetches running at once (each on the blocking pool).
    pub concurrency: usize,
    /// Revocation fetches one validation may cause.
    pub max_fetches: usize,
    /// caIssuers fetches one validation may cause (any certificate of an uploaded document can
    /// name a URL: few, GET only, bounded; `offline` turns them off).
    pub max_issuer_fetches: usize,
    /// How long a CA certificate fetched from caIssuers is kept.
    pub issuer_cache_secs: i64,
    /// Clock skew tolerated on a response's thisUpdate.
    pub skew_secs: u64,
    /// Networks the fetcher may reach though they are not public, on any port
    /// (`allow_private_fetch` in kyso.toml, `KYSO_ALLOW_PRIVATE_FETCH`); see [`reach`].
    pub allow_private: Vec<reach::Cidr>,
}

impl Default for OnlineConfig {
    fn default() -> OnlineConfig {
        OnlineConfig {
            offline: false,
            timeout: Duration::from_secs(5),
            max_ocsp_bytes: 1 << 20,
            max_crl_bytes: 20 << 20,
            max_cert_bytes: 1 << 20,
            max_redirects: 3,
            concurrency: 8,
            max_fetches: 32,
            max_issuer_fetches: 4,
            issuer_cache_secs: 86_400,
            skew_secs: 300,
            allow_private: Vec::new(),
        }
    }
}

/// Cache look-ups one validation may make.
const MAX_CACHE_KEYS: usize = 256;

enum Cache {
    Store(Store),
    Memory(Mutex<HashMap<String, (Vec<u8>, i64)>>),
}

/// The fetcher with its cache: the store's (shared by the server and the CLI), or a process's
/// own memory for a relying party without an installation.
pub struct Online {
    cfg: OnlineConfig,
    offline: AtomicBool,
    sem: Arc<Semaphore>,
    cache: Cache,
    network_calls: AtomicU64,
}

/// What validation may use beyond the document and kyso's own statuses: issuers fetched from
/// caIssuers, and cached or fetched OCSP responses and CRLs (checked).
pub struct Prepared {
    /// CA certificates fetched through caIssuers (DER), to build paths with.
    pub issuers: Vec<Vec<u8>>,
    data: ValidationData,
    pool: Vec<Certificate>,
    evidence: DssEvidence,
    /// Why a certificate's status could not be fetched, by the certificate's name (Vietnamese).
    pub notes: HashMap<String, String>,
    /// Why an issuer could not be fetched through caIssuers (Vietnamese), for reports without a
    /// chain.
    pub issuer_notes: Vec<String>,
}

/// kyso's own CA certificates, as loaded: their certificates' statuses come from the store.
#[derive(Default)]
pub struct OwnCas<'a>(Vec<&'a Certificate>);

impl<'a> OwnCas<'a> {
    pub fn new(certs: impl IntoIterator<Item = &'a Certificate>) -> OwnCas<'a> {
        OwnCas(certs.into_iter().collect())
    }

    /// Whether `c` is one of them: compared as decoded (no encoding; the decoder takes DER only,
    /// so two certificates decode equal when their DER is the same).
    pub fn contains(&self, c: &Certificate) -> bool {
        self.0.contains(&c)
    }
}

/// A revocation source for one validation pass: kyso's own CAs answer from the store only;
/// others from the cache and what was fetched. What it cannot answer is recorded.
pub struct Recording<'a> {
    own: &'a dyn RevocationSource,
    own_cas: &'a OwnCas<'a>,
    evidence: &'a DssEvidence,
    asked: Mutex<Vec<(Vec<u8>, Vec<u8>)>>,
}

impl RevocationSource for Recording<'_> {
    fn status(&self, issuer: &Certificate, subject: &Certificate) -> Revocation {
        if self.own_cas.contains(issuer) {
            return self.own.status(issuer, subject);
        }
        // fetched now (or cached and still fresh): the current status, whatever the signing time
        if let Some((st, _)) = self.evidence.status_at(issuer, subject, SystemTime::UNIX_EPOCH) {
            return st;
        }
        if let (Ok(mut a), Ok(s), Ok(issuer_der)) = (self.asked.lock(), subject.to_der(), issuer.to_der()) {
            if !a.iter().any(|(i, x)| *i == issuer_der && *x == s) {
                a.push((issuer_der, s));
            }
        }
        Revocation::Unknown
    }
}

impl Recording<'_> {
    /// The (issuer, subject) pairs nobody could answer.
    pub fn asked(self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.asked.into_inner().unwrap_or_default()
    }
}

fn cn(c: &Certificate) -> String {
    kyso_pki::subject::name_attr(&c.tbs_certificate.subject, kyso_pki::subject::OID_CN)
        .unwrap_or_else(|| c.tbs_certificate.subject.to_string())
}

fn self_signed(c: &Certificate) -> bool {
    c.tbs_certificate.issuer == c.tbs_certificate.subject
}

/// Cache key of an OCSP answer: the issuer's name (as the subject certificate names it) and the
/// serial, both known before the issuer is found.
fn ocsp_key(subject: &Certificate) -> String {
    let name = subject.tbs_certificate.issuer.to_der().unwrap_or_default();
    format!(
        "ocsp:{}:{}",
        hex::encode(kyso_pki::alg::sha256(&name)),
        hex::encode(subject.tbs_certificate.serial_number.as_bytes())
    )
}

fn unix_now() -> i64 {
    kyso_pki::time::unix(SystemTime::now()) as i64
}

/// Certificates in a caIssuers answer: one DER or PEM certificate, or PKCS#7 certs-only.
fn certs_in(body: &[u8]) -> Vec<Vec<u8>> {
    if let Ok(der) = kyso_pki::pem_or_der("CERTIFICATE", body) {
        if Certificate::from_der(&der).is_ok() {
            return vec![der];
        }
    }
    let der = kyso_pki::pem_or_der("PKCS7", body).unwrap_or_else(|_| body.to_vec());
    let Ok(ci) = cms::content_info::ContentInfo::from_der(&der) else { return Vec::new() };
    let Ok(sd) = ci.content.decode_as::<cms::signed_data::SignedData>() else { return Vec::new() };
    sd.certificates
        .map(|set| {
            set.0
                .iter()
                .filter_map(|c| match c {
                    cms::cert::CertificateChoices::Certificate(c) => c.to_der().ok(),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// thisUpdate and nextUpdate of the response's statement about `serial`.
fn ocsp_window(der: &[u8], serial: &[u8]) -> Option<(SystemTime, Option<SystemTime>)> {
    let resp = x509_ocsp::OcspResponse::from_der(der).ok()?;
    let basic = x509_ocsp::BasicOcspResponse::from_der(resp.response_bytes?.response.as_bytes()).ok()?;
    let single = basic.tbs_response_data.responses.iter().find(|r| r.cert_id.serial_number.as_bytes() == serial)?;
    Some((single.this_update.0.to_system_time(), single.next_update.map(|t| t.0.to_system_time())))
}

fn crl_window(der: &[u8]) -> Option<(SystemTime, Option<SystemTime>)> {
    let crl = x509_cert::crl::CertificateList::from_der(der).ok()?;
    Some((crl.tbs_cert_list.this_update.to_system_time(), crl.tbs_cert_list.next_update.map(|t| t.to_system_time())))
}

/// Fresh now: issued no later than now (plus skew) and not past its nextUpdate. `Ok(Some(t))`:
/// cache until t; `Ok(None)`: usable now, not cacheable (no nextUpdate).
fn freshness(window: Option<(SystemTime, Option<SystemTime>)>, skew: u64) -> Result<Option<i64>, String> {
    let (this, next) = window.ok_or("it cannot be read")?;
    let now = SystemTime::now();
    if this > now + Duration::from_secs(skew) {
        return Err("its thisUpdate is in the future".into());
    }
    match next {
        Some(n) if n <= now => {
            Err(format!("it is stale (nextUpdate {})", kyso_pki::time::rfc3339(kyso_pki::time::unix(n) as i64)))
        }
        Some(n) => Ok(Some(kyso_pki::time::unix(n) as i64)),
        None => Ok(None),
    }
}

/// One fetched item to cache and use.
struct Got {
    key: String,
    kind: &'static str,
    body: Vec<u8>,
    until: Option<i64>,
}

impl Online {
    pub fn new(cfg: OnlineConfig, store: Option<Store>) -> Online {
        let cache = match store {
            Some(s) => Cache::Store(s),
            None => Cache::Memory(Mutex::new(HashMap::new())),
        };
        Online {
            offline: AtomicBool::new(cfg.offline),
            sem: Arc::new(Semaphore::new(cfg.concurrency.max(1))),
            cfg,
            cache,
            network_calls: AtomicU64::new(0),
        }
    }

    pub fn set_offline(&self, offline: bool) {
        self.offline.store(offline, Ordering::Relaxed);
    }
    pub fn is_offline(&self) -> bool {
        self.offline.load(Ordering::Relaxed)
    }
    /// HTTP requests made so far (a cache hit makes none).
    pub fn network_calls(&self) -> u64 {
        self.network_calls.load(Ordering::Relaxed)
    }

    async fn cached(&self, keys: &[String]) -> HashMap<String, Vec<u8>> {
        let now = unix_now();
        match &self.cache {
            Cache::Store(s) => s.fetch_cached(keys, now).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "fetch cache unreadable");
                HashMap::new()
            }),
            Cache::Memory(m) => {
                let m = m.lock().map(|m| m.clone()).unwrap_or_default();
                keys.iter()
                    .filter_map(|k| m.get(k).filter(|(_, t)| *t > now).map(|(b, _)| (k.clone(), b.clone())))
                    .collect()
            }
        }
    }

    async fn put(&self, g: &Got) {
        let Some(until) = g.until else { return };
        match &self.cache {
            Cache::Store(s) => {
                if let Err(e) = s.put_fetched(&g.key, g.kind, &g.body, unix_now(), until).await {
                    tracing::warn!(error = %e, kind = g.kind, "fetched item not cached");
                }
            }
            Cache::Memory(m) => {
                if let Ok(mut m) = m.lock() {
                    m.insert(g.key.clone(), (g.body.clone(), until));
                }
            }
        }
    }

    /// An HTTP fetch on the blocking pool, behind the concurrency cap.
    async fn fetch<T: Send + 'static>(&self, f: impl FnOnce(&AtomicU64) -> T + Send + 'static) -> Option<T> {
        let _permit = self.sem.clone().acquire_owned().await.ok()?;
        let counter = Arc::new(AtomicU64::new(0));
        let c = counter.clone();
        let out = tokio::task::spawn_blocking(move || f(&c)).await.ok();
        self.network_calls.fetch_add(counter.load(Ordering::Relaxed), Ordering::Relaxed);
        out
    }

    fn bounds(&self, max_bytes: usize) -> http::Bounds {
        http::Bounds {
            timeout: self.cfg.timeout,
            max_bytes,
            max_redirects: self.cfg.max_redirects,
            reach: reach::Reach::new(self.cfg.allow_private.clone()),
        }
    }

    /// Before validation: the issuers the document left out (through caIssuers, cached) and the
    /// cached revocation data for every certificate of `doc_certs` that kyso's CAs did not issue.
    /// `known` are the certificates validation has anyway (the trust list's).
    pub async fn prepare(&self, doc_certs: &[Vec<u8>], known: &[Certificate], own_cas: &OwnCas<'_>) -> Prepared {
        let parsed: Vec<Certificate> = doc_certs.iter().filter_map(|d| Certificate::from_der(d).ok()).collect();
        self.prepare_parsed(&parsed, known, own_cas).await
    }

    /// [`Online::prepare`] for certificates parsed already (a document read once).
    pub async fn prepare_parsed(
        &self,
        parsed: &[Certificate],
        known: &[Certificate],
        own_cas: &OwnCas<'_>,
    ) -> Prepared {
        let mut issuers: Vec<Vec<u8>> = Vec::new();
        let mut notes = HashMap::new();
        let mut issuer_notes = Vec::new();
        // only the certificates whose issuer is not at hand are worth a look at caIssuers (names
        // compared as decoded: most documents need nothing fetched, and then nothing is encoded)
        let at_hand = |n: &x509_cert::name::Name| parsed.iter().chain(known).any(|k| k.tbs_certificate.subject == *n);
        let mut frontier: Vec<Certificate> =
            parsed.iter().filter(|c| !self_signed(c) && !at_hand(&c.tbs_certificate.issuer)).cloned().collect();
        let mut subjects: HashSet<Vec<u8>> = if frontier.is_empty() {
            HashSet::new()
        } else {
            parsed.iter().chain(known).filter_map(|c| c.tbs_certificate.subject.to_der().ok()).collect()
        };
        let mut fetches = 0usize;
        for _ in 0..4 {
            let mut next = Vec::new();
            for c in &frontier {
                let want = c.tbs_certificate.issuer.to_der().unwrap_or_default();
                if self_signed(c) || subjects.contains(&want) {
                    continue;
                }
                for url in
                    kyso_pki::aia::published(c).ca_issuers.into_iter().filter(|u| u.starts_with("http://")).take(2)
                {
                    let key = format!("cert:{url}");
                    let body = match self.cached(std::slice::from_ref(&key)).await.remove(&key) {
                        Some(b) => b,
                        None if self.is_offline() || fetches >= self.cfg.max_issuer_fetches => continue,
                        None => {
                            fetches += 1;
                            let b = self.bounds(self.cfg.max_cert_bytes);
                            let u = url.clone();
                            match self
                                .fetch(move |n| {
                                    let r = http::get(&u, &b);
                                    if !matches!(r, Err(http::FetchError::Refused(_))) {
                                        n.fetch_add(1, Ordering::Relaxed);
                                    }
                                    r
                                })
                                .await
                            {
                                Some(Ok(body)) if !certs_in(&body).is_empty() => {
                                    let until = unix_now() + self.cfg.issuer_cache_secs;
                                    self.put(&Got { key, kind: "cert", body: body.clone(), until: Some(until) }).await;
                                    body
                                }
                                Some(Ok(_)) => {
                                    notes.insert(cn(c), format!("tệp tại {url} (caIssuers) không chứa chứng thư nào"));
                                    continue;
                                }
                                Some(Err(http::FetchError::Refused(r))) => {
                                    let note = format!("không tải chứng thư tổ chức cấp từ {url}: {}", r.vi());
                                    notes.insert(cn(c), note.clone());
                                    issuer_notes.push(note);
                                    continue;
                                }
                                Some(Err(e)) => {
                                    let note = format!("không tải được chứng thư tổ chức cấp từ {url}: {e}");
                                    notes.insert(cn(c), note.clone());
                                    issuer_notes.push(note);
                                    continue;
                                }
                                None => continue,
                            }
                        }
                    };
                    for der in certs_in(&body) {
                        let Ok(ic) = Certificate::from_der(&der) else { continue };
                        if ic.tbs_certificate.subject.to_der().ok().as_ref() == Some(&want) && !issuers.contains(&der) {
                            subjects.insert(want.clone());
                            issuers.push(der);
                            next.push(ic);
                        }
                    }
                    if subjects.contains(&want) {
                        break;
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        let fetched: Vec<Certificate> = issuers.iter().filter_map(|d| Certificate::from_der(d).ok()).collect();
        let all: Vec<&Certificate> = known.iter().chain(parsed).chain(&fetched).collect();
        // cached revocation data for every certificate another CA issued that a path may hold:
        // the document's, the fetched issuers and the trust list's intermediates
        let mut keys = Vec::new();
        // the subjects of kyso's own CAs in the pool (each certificate encoded once)
        // (only a certificate that issued another one here is encoded to be compared)
        let issuer_names: Vec<&x509_cert::name::Name> = all.iter().map(|c| &c.tbs_certificate.issuer).collect();
        let own_subjects: Vec<&x509_cert::name::Name> = all
            .iter()
            .filter(|i| issuer_names.contains(&&i.tbs_certificate.subject))
            .filter(|i| own_cas.contains(i))
            .map(|i| &i.tbs_certificate.subject)
            .collect();
        for c in &all {
            if self_signed(c) || own_subjects.iter().any(|s| **s == c.tbs_certificate.issuer) {
                continue;
            }
            keys.push(ocsp_key(c));
            keys.extend(kyso_pki::aia::published(c).crl.into_iter().take(2).map(|u| format!("crl:{u}")));
        }
        keys.sort();
        keys.dedup();
        // a document stuffed with certificates costs a bounded number of cache look-ups
        keys.truncate(MAX_CACHE_KEYS);
        // the issuers evidence may name; nothing to keep when no certificate needs outside data
        // (then a later fetch adds the issuers it asks about)
        let pool: Vec<Certificate> = if keys.is_empty() { Vec::new() } else { all.into_iter().cloned().collect() };
        let mut data = ValidationData::default();
        for (k, body) in self.cached(&keys).await {
            if k.starts_with("ocsp:") {
                data.ocsps.push(body);
            } else {
                data.crls.push(body);
            }
        }
        let evidence = DssEvidence::new(&data, &pool);
        Prepared { issuers, data, pool, evidence, notes, issuer_notes }
    }

    /// After a pass that left `asked` unanswered: fetch each one's OCSP answer (else its CRL),
    /// check it, cache it, and make it part of `p` for the next pass. In offline mode, only say why.
    pub async fn fetch_asked(&self, p: &mut Prepared, asked: Vec<(Vec<u8>, Vec<u8>)>) {
        let mut jobs = tokio::task::JoinSet::new();
        let mut names = Vec::new();
        for (issuer_der, subject_der) in asked.into_iter().take(self.cfg.max_fetches) {
            let (Ok(issuer), Ok(subject)) = (Certificate::from_der(&issuer_der), Certificate::from_der(&subject_der))
            else {
                continue;
            };
            // what is fetched for it is checked against its issuer
            if !p.pool.contains(&issuer) {
                p.pool.push(issuer.clone());
            }
            let name = cn(&subject);
            if self.is_offline() {
                p.notes.insert(
                    name,
                    "chế độ ngoại tuyến: không tra cứu qua mạng, và tệp cũng như bộ nhớ đệm không có dữ liệu thu hồi"
                        .into(),
                );
                continue;
            }
            let urls = kyso_pki::aia::published(&subject);
            if urls.ocsp.is_empty() && urls.crl.is_empty() {
                p.notes.insert(name, "chứng thư không ghi địa chỉ OCSP hay CRL nào".into());
                continue;
            }
            let (ob, cb, skew) =
                (self.bounds(self.cfg.max_ocsp_bytes), self.bounds(self.cfg.max_crl_bytes), self.cfg.skew_secs);
            let sem = self.sem.clone();
            names.push(name.clone());
            jobs.spawn(async move {
                let _permit = sem.acquire_owned().await.ok();
                let calls = Arc::new(AtomicU64::new(0));
                let c = calls.clone();
                let r = tokio::task::spawn_blocking(move || fetch_status(&issuer, &subject, &urls, &ob, &cb, skew, &c))
                    .await
                    .unwrap_or_else(|e| Err(format!("lỗi nội bộ: {e}")));
                (name, r, calls.load(Ordering::Relaxed))
            });
        }
        while let Some(done) = jobs.join_next().await {
            let Ok((name, r, calls)) = done else { continue };
            self.network_calls.fetch_add(calls, Ordering::Relaxed);
            match r {
                Ok(got) => {
                    self.put(&got).await;
                    if got.kind == "ocsp" {
                        p.data.ocsps.push(got.body);
                    } else {
                        p.data.crls.push(got.body);
                    }
                }
                Err(why) => {
                    p.notes.insert(name, why);
                }
            }
        }
        p.evidence = DssEvidence::new(&p.data, &p.pool);
        // rows past their nextUpdate are never served again: drop them whenever something was fetched
        if let Cache::Store(s) = &self.cache {
            if let Err(e) = s.prune_fetched(unix_now()).await {
                tracing::warn!(error = %e, "fetch cache not pruned");
            }
        }
    }
}

impl Prepared {
    /// The source for a validation pass.
    pub fn source<'a>(&'a self, own: &'a dyn RevocationSource, own_cas: &'a OwnCas<'a>) -> Recording<'a> {
        Recording { own, own_cas, evidence: &self.evidence, asked: Mutex::new(Vec::new()) }
    }
}

/// OCSP first (each AIA responder), then each CRL distribution point; the first answer that
/// verifies, speaks of `subject` and is fresh wins. Blocking (HTTP).
fn fetch_status(
    issuer: &Certificate,
    subject: &Certificate,
    urls: &kyso_pki::aia::Published,
    ocsp_bounds: &http::Bounds,
    crl_bounds: &http::Bounds,
    skew: u64,
    calls: &AtomicU64,
) -> Result<Got, String> {
    let mut why = Vec::new();
    // hosts not contacted (not public, or not port 80), in Vietnamese
    let mut refused: Vec<String> = Vec::new();
    let mut refuse = |r: reach::Refusal| {
        let vi = r.vi();
        if !refused.contains(&vi) {
            refused.push(vi);
        }
    };
    let (issuer_der, subject_der) = (issuer.to_der().unwrap_or_default(), subject.to_der().unwrap_or_default());
    let serial = subject.tbs_certificate.serial_number.as_bytes().to_vec();
    let usable = |data: ValidationData| {
        let e = DssEvidence::new(&data, std::slice::from_ref(issuer));
        match e.rejected.first() {
            Some(r) => Err(r.clone()),
            None if e.status_at(issuer, subject, SystemTime::UNIX_EPOCH).is_none() => {
                Err("the answer says nothing about this certificate".to_string())
            }
            None => Ok(()),
        }
    };
    for url in urls.ocsp.iter().filter(|u| u.starts_with("http://")).take(2) {
        let req = match kyso_sign::dss::ocsp_request(&issuer_der, &subject_der) {
            Ok(r) => r,
            Err(e) => return Err(format!("không lập được yêu cầu OCSP: {e}")),
        };
        let body = match http::post(url, "application/ocsp-request", &req, ocsp_bounds) {
            Err(http::FetchError::Refused(r)) => {
                refuse(r);
                continue;
            }
            other => {
                calls.fetch_add(1, Ordering::Relaxed);
                other
            }
        };
        let r = body.map_err(|e| e.to_string()).and_then(|body| {
            usable(ValidationData { ocsps: vec![body.clone()], ..Default::default() })?;
            let until = freshness(ocsp_window(&body, &serial), skew)?;
            Ok(Got { key: ocsp_key(subject), kind: "ocsp", body, until })
        });
        match r {
            Ok(g) => return Ok(g),
            Err(e) => why.push(format!("OCSP {url}: {e}")),
        }
    }
    for url in urls.crl.iter().filter(|u| u.starts_with("http://")).take(2) {
        let body = match http::get(url, crl_bounds) {
            Err(http::FetchError::Refused(r)) => {
                refuse(r);
                continue;
            }
            other => {
                calls.fetch_add(1, Ordering::Relaxed);
                other
            }
        };
        let r = body.map_err(|e| e.to_string()).and_then(|body| {
            usable(ValidationData { crls: vec![body.clone()], ..Default::default() })?;
            let until = freshness(crl_window(&body), skew)?;
            Ok(Got { key: format!("crl:{url}"), kind: "crl", body, until })
        });
        match r {
            Ok(g) => return Ok(g),
            Err(e) => why.push(format!("CRL {url}: {e}")),
        }
    }
    if why.is_empty() && !refused.is_empty() {
        return Err(refused.join("; "));
    }
    if why.is_empty() {
        why.push("chỉ hỗ trợ địa chỉ http://".into());
    }
    let mut note = format!("dịch vụ kiểm tra trạng thái không trả lời được ({})", why.join("; "));
    for r in refused {
        note.push_str("; ");
        note.push_str(&r);
    }
    Err(note)
}

/// The Vietnamese warning the law asks for, for each certificate whose revocation status could
/// not be checked (the report's typed `revocation_unchecked`), with why when known; and, for a
/// report without a trusted chain, why a missing issuer could not be fetched.
pub fn warn_in_vietnamese(r: &mut kyso_validate::SignatureReport, p: &Prepared) {
    let mut add = Vec::new();
    for name in &r.revocation_unchecked {
        let why = p.notes.get(name).map(|n| format!(": {n}")).unwrap_or_default();
        add.push(format!("Không kiểm tra được trạng thái thu hồi của chứng thư «{name}»{why}."));
    }
    if !r.chain_ok {
        for n in &p.issuer_notes {
            add.push(format!("Không dựng được chuỗi chứng thư đến gốc tin cậy: {n}."));
        }
    }
    for a in add {
        if !r.warnings.contains(&a) {
            r.warnings.push(a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared(notes: &[(&str, &str)], issuer_notes: &[&str]) -> Prepared {
        let data = ValidationData::default();
        Prepared {
            issuers: Vec::new(),
            evidence: DssEvidence::new(&data, &[]),
            data,
            pool: Vec::new(),
            notes: notes.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            issuer_notes: issuer_notes.iter().map(|n| n.to_string()).collect(),
        }
    }

    /// The warning follows the report's typed `revocation_unchecked`, whatever its English
    /// warnings say (here: none at all, and one that only looks like the old wording).
    #[test]
    fn the_vietnamese_warning_follows_the_typed_flag_not_the_english_text() {
        let anchors = kyso_validate::TrustAnchors::new();
        struct Nothing;
        impl RevocationSource for Nothing {
            fn status(&self, _: &Certificate, _: &Certificate) -> Revocation {
                Revocation::Unknown
            }
        }
        let mut r = kyso_validate::validate_detached(b"not a CMS", b"x", &anchors, &Nothing, SystemTime::now());
        r.warnings = vec!["the revocation status of «Someone Else» could not be checked".into()];
        r.revocation_unchecked = vec!["Nguyễn Văn An".into(), "TSA kiểm thử".into()];
        let p = prepared(
            &[("Nguyễn Văn An", "chế độ ngoại tuyến")],
            &["không tải chứng thư tổ chức cấp từ http://x/ca.crt"],
        );
        warn_in_vietnamese(&mut r, &p);
        let vi: Vec<&String> = r.warnings.iter().filter(|w| w.starts_with("Không")).collect();
        assert_eq!(
            vi,
            [
                "Không kiểm tra được trạng thái thu hồi của chứng thư «Nguyễn Văn An»: chế độ ngoại tuyến.",
                "Không kiểm tra được trạng thái thu hồi của chứng thư «TSA kiểm thử».",
                "Không dựng được chuỗi chứng thư đến gốc tin cậy: không tải chứng thư tổ chức cấp từ http://x/ca.crt.",
            ],
            "{:?}",
            r.warnings
        );
        // twice: nothing added again
        let n = r.warnings.len();
        warn_in_vietnamese(&mut r, &p);
        assert_eq!(r.warnings.len(), n);
        // a report with a chain gets no caIssuers note
        r.chain_ok = true;
        r.warnings.clear();
        warn_in_vietnamese(&mut r, &p);
        assert!(r.warnings.iter().all(|w| !w.contains("chuỗi")), "{:?}", r.warnings);
    }
}
