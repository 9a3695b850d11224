//! Documents: sign a PDF (PAdES B-B, B-T, B-LT or B-LTA) or any file (CAdES `.p7s`, B-B or B-T)
//! with a citizen's credential through the same authorize/signHash path as the remote-signing
//! API, and validate signed documents against kyso's trust list with revocation answered from the
//! document's DSS, else from kyso's own store.
//!
//! B-LT's validation data comes from kyso itself, in process: OCSP responses from the provider's
//! delegated responder (the same code that answers `/ocsp/{provider}`) for what a provider CA
//! issued, the current CRL for what the root issued (provider CAs, the TSA).

use crate::pool::{self, Busy, Work};
use crate::signing::SigningError;
use crate::{Authority, AuthorityError};
use kyso_custody::Pin;
use kyso_pki::cert::serial_hex;
use kyso_sign::ValidationData;
use kyso_validate::{Level, Revocation, RevocationSource, SignatureReport, TrustAnchors, ValidationError};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::SystemTime;
use x509_cert::Certificate;

/// Statuses fetched from the store before validation (validation itself does no IO).
pub(crate) struct StoreStatuses {
    /// (issuer CA's public key, subject serial hex) → status
    known: HashMap<(Vec<u8>, String), Revocation>,
}

/// The key an issuer is known by here: its public key's bits (no encoding needed per look-up).
fn issuer_key(issuer: &Certificate) -> Vec<u8> {
    issuer.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes().to_vec()
}

impl RevocationSource for StoreStatuses {
    fn status(&self, issuer: &Certificate, subject: &Certificate) -> Revocation {
        let key = (issuer_key(issuer), serial_hex(subject.tbs_certificate.serial_number.as_bytes()));
        self.known.get(&key).copied().unwrap_or(Revocation::Unknown)
    }
}

/// What the files of one dossier share while they are validated one after the other: the
/// anchors (the trust list read once; their clones share verified signatures, see
/// [`kyso_validate::TrustAnchors`]) and the store's answers about kyso's own certificates (the
/// applicant's certificate, the provider CA and the TSA are in every file: asked once).
pub(crate) struct Shared {
    pub anchors: kyso_validate::TrustAnchors,
    statuses: std::sync::Mutex<HashMap<(Vec<u8>, String), Revocation>>,
}

impl Shared {
    pub fn new(anchors: kyso_validate::TrustAnchors) -> Shared {
        Shared { anchors, statuses: std::sync::Mutex::new(HashMap::new()) }
    }
}

/// Why a document was not validated: over a bound or unreadable, or no validation slot free.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Busy(#[from] Busy),
}

/// Bytes reserved for a document time-stamp token (kyso's are about 3 KB with the TSA certificate).
const DOC_TIMESTAMP_RESERVE: usize = 8 * 1024;

/// Where the visible signature's font is looked for unless `KYSO_SIGNATURE_FONT` names one: DejaVu
/// Sans (Debian's fonts-dejavu-core), a TrueType font with every Vietnamese letter.
const FONT_PATHS: [&str; 2] =
    ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf"];

/// The TrueType font for visible signatures, or an error saying how to provide one.
pub fn signature_font() -> Result<Vec<u8>, String> {
    let from_env = std::env::var("KYSO_SIGNATURE_FONT").ok().filter(|p| !p.is_empty());
    let paths: Vec<&str> = match &from_env {
        Some(p) => vec![p.as_str()],
        None => FONT_PATHS.to_vec(),
    };
    let mut tried = Vec::new();
    for path in paths {
        match std::fs::read(path) {
            Ok(bytes) => return Ok(bytes),
            Err(e) => tried.push(format!("{path}: {e}")),
        }
    }
    Err(format!(
        "a visible signature needs a TrueType font with Vietnamese letters; none could be read ({}): install fonts-dejavu-core or set KYSO_SIGNATURE_FONT to a .ttf file",
        tried.join("; ")
    ))
}

/// The visible signature's lines: who (name), which ID (masked), when (Vietnam time, UTC+7).
fn appearance_lines(subject: Option<&x509_cert::name::Name>, at: SystemTime) -> Vec<String> {
    use kyso_pki::subject::{name_attr, name_attrs, OID_CN, OID_UID};
    let mut lines = Vec::new();
    if let Some(cn) = subject.and_then(|s| name_attr(s, OID_CN)) {
        lines.push(format!("Ký bởi: {cn}"));
    }
    let uid = subject.map(|s| name_attrs(s, OID_UID)).unwrap_or_default();
    if let Some(masked) = uid.iter().find_map(|u| {
        let (prefix, v) = kyso_pki::id::parse_uid(u)?;
        Some(format!("{prefix}:{}", kyso_pki::CitizenId::parse(v).ok()?.masked()))
    }) {
        lines.push(masked);
    }
    let local = at + std::time::Duration::from_secs(kyso_calendar::VIETNAM_OFFSET_SECS.unsigned_abs());
    if let Ok(d) = der::DateTime::from_system_time(local) {
        lines.push(format!(
            "Thời gian: {:02}/{:02}/{:04} {:02}:{:02}:{:02} (UTC+7)",
            d.day(),
            d.month(),
            d.year(),
            d.hour(),
            d.minutes(),
            d.seconds()
        ));
    }
    lines
}

fn nonce() -> Result<[u8; 8], kyso_sign::SignError> {
    let mut nonce = [0u8; 8];
    aws_lc_rs::rand::fill(&mut nonce)
        .map_err(|_| kyso_sign::SignError::Malformed { what: "nonce", reason: "no randomness".into() })?;
    Ok(nonce)
}

/// A PDF to sign with a citizen's credential ([`Authority::sign_pdf`]).
pub struct PdfJob<'a> {
    pub id_number: &'a str,
    pub credential: &'a str,
    pub pin: &'a Pin,
    /// The one-time code, for providers that require a second factor.
    pub otp: Option<&'a str>,
    pub pdf: &'a [u8],
    pub reason: Option<String>,
    pub level: Level,
    /// A visible signature's rectangle on page 1; `None`: invisible.
    pub visible: Option<[f32; 4]>,
}

impl Authority {
    /// kyso's trust list: the national root as anchor, provider CAs as known intermediates, plus
    /// extra roots the caller trusts (e.g. another country's or a test CA).
    pub fn trust_anchors(&self, extra_roots: &[Vec<u8>]) -> TrustAnchors {
        let mut t = TrustAnchors::new();
        for ca in self.cas() {
            let _ = if ca.kind == "root" { t.add_root(&ca.cert_der) } else { t.add_intermediate(&ca.cert_der) };
        }
        for r in extra_roots {
            let _ = t.add_root(r);
        }
        t
    }

    /// The certificates among `certs` (DER) that kyso's own CAs issued, each once, with the CA:
    /// the (CA, serial) pairs whose status the store answers. CPU only.
    pub(crate) fn wanted_statuses_of(&self, certs: &[x509_cert::Certificate]) -> Vec<(Arc<crate::LoadedCa>, String)> {
        let mut wanted = Vec::new();
        let mut seen = HashSet::new();
        for cert in certs {
            for ca in self.cas() {
                if ca.cert.tbs_certificate.subject != cert.tbs_certificate.issuer {
                    continue;
                }
                let serial = serial_hex(cert.tbs_certificate.serial_number.as_bytes());
                if seen.insert((ca.id.clone(), serial.clone())) {
                    wanted.push((ca.clone(), serial));
                }
            }
        }
        wanted
    }

    /// The stored status of each wanted certificate (one query for them all; none for those
    /// `shared` knows already).
    pub(crate) async fn lookup_statuses(
        &self,
        wanted: Vec<(Arc<crate::LoadedCa>, String)>,
        shared: Option<&Shared>,
    ) -> Result<StoreStatuses, AuthorityError> {
        let mut known = HashMap::new();
        let mut ask = Vec::new();
        for (ca, serial) in wanted {
            let key = (issuer_key(&ca.cert), serial);
            match shared.and_then(|s| s.statuses.lock().ok()?.get(&key).copied()) {
                Some(st) => {
                    known.insert(key, st);
                }
                None => ask.push((ca, key)),
            }
        }
        if ask.is_empty() {
            return Ok(StoreStatuses { known });
        }
        // one round trip for the whole document
        let pairs: Vec<(String, String)> =
            ask.iter().map(|(ca, (_, serial))| (ca.id.clone(), serial.clone())).collect();
        let mut found = self.store.statuses(&pairs).await?;
        for (ca, key) in ask {
            let st = match found.remove(&(ca.id.clone(), key.1.clone())) {
                Some((Some(at), reason)) => {
                    Revocation::Revoked { at: kyso_pki::time::from_unix(at), reason: reason as u8 }
                }
                Some((None, _)) => Revocation::Good,
                None => Revocation::Unknown,
            };
            if let Some(mut m) = shared.and_then(|s| s.statuses.lock().ok()) {
                m.insert(key.clone(), st);
            }
            known.insert(key, st);
        }
        Ok(StoreStatuses { known })
    }

    /// Validate a signed PDF. Bounded ([`kyso_validate::Limits`]: size, signatures, DSS entries,
    /// parse work; refused with [`ValidationError::Limit`] before anything expensive) and run off
    /// the async workers behind the validation cap ([`crate::pool::Work::Validate`]): a caller
    /// that cannot get a slot in time gets [`ValidateError::Busy`].
    pub async fn validate_pdf(
        &self,
        pdf: &[u8],
        extra_roots: &[Vec<u8>],
    ) -> Result<Vec<SignatureReport>, ValidateError> {
        Ok(self.validate_pdf_keeping(pdf, extra_roots, None).await?.0)
    }

    /// [`Authority::validate_pdf`], also giving the certificate each signature names as its signer
    /// (DER, in the order of [`SignatureReport::index`]; read, not verified) so that callers need
    /// not decode the signatures again.
    pub(crate) async fn validate_pdf_keeping(
        &self,
        pdf: &[u8],
        extra_roots: &[Vec<u8>],
        shared: Option<&Shared>,
    ) -> Result<(Vec<SignatureReport>, Vec<Option<Vec<u8>>>), ValidateError> {
        self.validate_pdf_online(pdf, extra_roots, shared).await
    }

    /// Validate a detached CMS/CAdES signature over `content` (same anchors, revocation and
    /// online fetching as [`Authority::validate_pdf`]).
    pub async fn validate_detached(
        &self,
        cms: &[u8],
        content: &[u8],
        extra_roots: &[Vec<u8>],
    ) -> Result<SignatureReport, AuthorityError> {
        self.validate_detached_online(cms, content, extra_roots).await
    }

    /// The credential's certificate and its chain up to the root (DER).
    async fn credential_chain(
        &self,
        id_number: &str,
        credential: &str,
    ) -> Result<(Vec<u8>, Vec<Vec<u8>>), SigningError> {
        let c = self.own_credential(id_number, credential).await?;
        let cert = self
            .store
            .certificate(&c.cert_serial)
            .await?
            .ok_or_else(|| SigningError::InvalidRequest("the credential's certificate is missing".into()))?;
        let mut chain = Vec::new();
        if let Some(ca) = self.ca(&c.provider_id) {
            chain.push(ca.cert_der.clone());
        }
        if let Some(root) = self.ca("root") {
            chain.push(root.cert_der.clone());
        }
        Ok((cert.der, chain))
    }

    /// Sign one 32-byte digest through authorize + signHash (the remote-signing path).
    async fn sign_one(
        &self,
        id_number: &str,
        credential: &str,
        pin: &Pin,
        otp: Option<&str>,
        digest: [u8; 32],
    ) -> Result<(Vec<u8>, kyso_custody::SignatureScheme), SigningError> {
        let a = self.authorize(id_number, credential, pin, otp, &[digest]).await?;
        let mut sigs = self.sign_hash(id_number, credential, &a.sad, &[digest], None).await?;
        let c = self.own_credential(id_number, credential).await?;
        let alg: kyso_custody::KeyAlgorithm =
            self.store.key(&c.key_id).await?.algorithm.parse().map_err(AuthorityError::from)?;
        Ok((sigs.remove(0), alg.default_scheme()))
    }

    /// B-B → B-T: a time-stamp from kyso's own TSA over the signature value, added as the
    /// signature-time-stamp unsigned attribute.
    fn add_timestamp(&self, cms: &[u8]) -> Result<Vec<u8>, kyso_sign::SignError> {
        let value = kyso_sign::signature_value(cms)?;
        let req = kyso_sign::timestamp_request(&value, &nonce()?)?;
        let token = kyso_sign::timestamp_token(&self.timestamp(&req))?;
        kyso_sign::add_signature_timestamp(cms, &token)
    }

    /// B-LT's validation data for `certs` (DER): the certificates themselves, for each one a
    /// provider CA issued an OCSP response from that provider's responder (and the responder's
    /// certificate), for each one the root issued the root's current CRL. Self-signed roots need
    /// nothing; certificates no kyso CA issued are carried without revocation data.
    pub async fn validation_data(&self, certs: &[Vec<u8>]) -> Result<ValidationData, AuthorityError> {
        let mut data = ValidationData::default();
        let add = |slot: &mut Vec<Vec<u8>>, item: Vec<u8>| {
            if !slot.contains(&item) {
                slot.push(item);
            }
        };
        for der in certs {
            add(&mut data.certs, der.clone());
            let cert = kyso_pki::cert::parse(der)?;
            let tbs = &cert.tbs_certificate;
            if tbs.issuer == tbs.subject {
                continue;
            }
            let Some(ca) = self.cas().find(|ca| ca.cert.tbs_certificate.subject == tbs.issuer) else { continue };
            let ocsp = match self.responder(&ca.id) {
                Some(responder) => {
                    let req = kyso_sign::dss::ocsp_request(&ca.cert_der, der)
                        .map_err(|e| AuthorityError::Refused(format!("OCSP request: {e}")))?;
                    let resp = self.ocsp(&ca.id, &req).await;
                    // only a successful, signed answer is evidence; otherwise the CA's CRL
                    kyso_sign::dss::ocsp_successful(&resp).then_some((resp, responder.cert_der.clone()))
                }
                None => None,
            };
            match ocsp {
                Some((resp, responder_cert)) => {
                    add(&mut data.ocsps, resp);
                    add(&mut data.certs, responder_cert);
                }
                None => add(&mut data.crls, self.current_crl(&ca.id).await?.der),
            }
        }
        Ok(data)
    }

    /// B-T → B-LT: append a DSS with the signer's chain, the TSA's chain and kyso's OCSP
    /// responses / CRLs for them, with a `/VRI` entry for the PDF's last signature.
    pub async fn add_dss(&self, pdf: &[u8], signer_chain: &[Vec<u8>]) -> Result<Vec<u8>, SigningError> {
        let bad = |e: kyso_sign::SignError| SigningError::InvalidRequest(format!("PDF: {e}"));
        let mut certs = signer_chain.to_vec();
        certs.push(self.tsa().cert_der.clone());
        if let Some(root) = self.ca("root") {
            certs.push(root.cert_der.clone());
        }
        let data = self.validation_data(&certs).await?;
        pool::cpu(|| {
            let last = kyso_sign::pdf::signatures(pdf).into_iter().rfind(|s| !s.doc_timestamp);
            kyso_sign::dss::append_dss(pdf, &data, last.as_ref()).map_err(bad)
        })
    }

    /// B-LT → B-LTA: a document time-stamp from kyso's TSA over the whole file as it now is (DSS
    /// included), in a further incremental update.
    pub fn add_document_timestamp(&self, pdf: &[u8]) -> Result<Vec<u8>, kyso_sign::SignError> {
        let prepared = kyso_sign::pdf::prepare_doc_timestamp(pdf, DOC_TIMESTAMP_RESERVE)?;
        let req = kyso_sign::timestamp_request_for_digest(prepared.digest, &nonce()?)?;
        let token = kyso_sign::timestamp_token(&self.timestamp(&req))?;
        kyso_sign::pdf::embed(prepared, &token)
    }

    /// PAdES at `job.level`: an incremental update with the citizen's signature (B-B), its
    /// signature time-stamp (B-T), a DSS with validation data (B-LT), a document time-stamp
    /// (B-LTA). Each level is a further step on the previous one. When `job.visible` gives a
    /// rectangle on page 1 (`[x1, y1, x2, y2]` in PDF units), a visible signature there: signer
    /// name, masked ID number and signing time in Vietnam time, in an embedded subset of
    /// [`signature_font`].
    pub async fn sign_pdf(&self, job: PdfJob<'_>) -> Result<Vec<u8>, SigningError> {
        let PdfJob { id_number, credential, pin, otp, pdf, reason, level, visible } = job;
        let bad = |e: kyso_sign::SignError| SigningError::InvalidRequest(format!("PDF: {e}"));
        // one signing slot for the whole job; its CPU-bound steps run off the async workers
        let _permit = self.pools.permit(Work::Sign).await?;
        let (cert, chain) = self.credential_chain(id_number, credential).await?;
        let now = SystemTime::now();
        let mut opts = kyso_sign::SigOptions::new(now);
        opts.reason = reason;
        let parsed = kyso_pki::cert::parse(&cert).ok();
        opts.name = parsed
            .as_ref()
            .and_then(|c| kyso_pki::subject::name_attr(&c.tbs_certificate.subject, kyso_pki::subject::OID_CN));
        if let Some(rect) = visible {
            let font = signature_font().map_err(SigningError::InvalidRequest)?;
            let subject = parsed.as_ref().map(|c| &c.tbs_certificate.subject);
            opts.visible = Some(kyso_sign::Visible { rect, lines: appearance_lines(subject, now), font });
        }
        let prepared = pool::cpu(|| kyso_sign::pdf::prepare(pdf, &opts)).map_err(bad)?;
        let p = kyso_sign::prepare(prepared.digest, &cert, kyso_sign::Profile::Pades, now).map_err(bad)?;
        let (sig, scheme) = self.sign_one(id_number, credential, pin, otp, p.to_be_signed_digest()).await?;
        let mut signed = pool::cpu(|| {
            let mut cms = p.assemble(&sig, scheme, &chain)?;
            if level >= Level::BT {
                cms = self.add_timestamp(&cms)?;
            }
            // embed refuses a CMS larger than the /Contents reserve (TooBig names both sizes)
            kyso_sign::pdf::embed(prepared, &cms)
        })
        .map_err(bad)?;
        if level >= Level::BLt {
            let mut signer_chain = vec![cert];
            signer_chain.extend(chain);
            signed = self.add_dss(&signed, &signer_chain).await?;
        }
        if level >= Level::BLta {
            signed = pool::cpu(|| self.add_document_timestamp(&signed)).map_err(bad)?;
        }
        Ok(signed)
    }

    /// CAdES B-T (`timestamp`) or B-B detached (`.p7s`) over any file.
    pub async fn sign_detached(
        &self,
        id_number: &str,
        credential: &str,
        pin: &Pin,
        otp: Option<&str>,
        content: &[u8],
        timestamp: bool,
    ) -> Result<Vec<u8>, SigningError> {
        let bad = |e: kyso_sign::SignError| SigningError::InvalidRequest(format!("CMS: {e}"));
        let _permit = self.pools.permit(Work::Sign).await?;
        let (cert, chain) = self.credential_chain(id_number, credential).await?;
        let digest: [u8; 32] = pool::cpu(|| kyso_pki::alg::sha256(content)).try_into().unwrap_or([0u8; 32]);
        let p = kyso_sign::prepare(digest, &cert, kyso_sign::Profile::Cades, SystemTime::now()).map_err(bad)?;
        let (sig, scheme) = self.sign_one(id_number, credential, pin, otp, p.to_be_signed_digest()).await?;
        let cms = p.assemble(&sig, scheme, &chain).map_err(bad)?;
        if timestamp {
            return self.add_timestamp(&cms).map_err(bad);
        }
        Ok(cms)
    }
}
