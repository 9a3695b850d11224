//! Certificate paths to the configured trust anchors, revocation at signing time, validity and
//! key usage. A missing link is named (which issuer is not trusted) so an operator knows what to add.

use crate::{Revocation, SignatureReport, SubIndication};
use der::{Decode, Encode};
use kyso_pki::subject::{name_attr, name_attrs, OID_CN, OID_UID};
use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};
use std::time::SystemTime;
use x509_cert::Certificate;

/// The national trust list: roots, plus intermediates known in advance (the provider CAs).
///
/// Clones share what they verified (see [`Memo`]): a dossier validates its files with clones of
/// one set of anchors, so the applicant's certificate and its OCSP response, repeated in every
/// file, are verified once per dossier rather than once per file.
#[derive(Clone, Default)]
pub struct TrustAnchors {
    roots: Vec<(Certificate, Vec<u8>)>,
    intermediates: Vec<(Certificate, Vec<u8>)>,
    /// Trust-list services and the periods they were trusted in (`trusted.rs`).
    pub(crate) services: Vec<crate::trusted::ListedService>,
    pub(crate) memo: Memo,
}

/// Signatures of per-person objects (a citizen's certificate, an OCSP response about it) verified
/// during one validation: the key of [`VERIFIED`]'s entries, kept only as long as the anchors
/// that hold it (one request, one dossier). Bounded like [`VERIFIED`].
#[derive(Clone, Default)]
pub(crate) struct Memo(std::sync::Arc<Mutex<HashSet<[u8; 32]>>>);

impl Memo {
    /// `verify()`'s answer for `signed` (what is signed, then the signature value) under the key
    /// `signer_spki`, remembered here when it is yes.
    pub(crate) fn verified(&self, signed: &[&[u8]], signer_spki: &[u8], verify: impl FnOnce() -> bool) -> bool {
        let key = entry_key(signed, signer_spki);
        if self.0.lock().is_ok_and(|set| set.contains(&key)) {
            return true;
        }
        let ok = verify();
        if ok {
            if let Ok(mut set) = self.0.lock() {
                if set.len() >= VERIFIED_MAX {
                    set.clear();
                }
                set.insert(key);
            }
        }
        ok
    }
}

impl TrustAnchors {
    pub fn new() -> TrustAnchors {
        TrustAnchors::default()
    }
    pub fn add_root(&mut self, der: &[u8]) -> Result<(), der::Error> {
        self.roots.push((Certificate::from_der(der)?, der.to_vec()));
        Ok(())
    }
    pub fn add_intermediate(&mut self, der: &[u8]) -> Result<(), der::Error> {
        self.intermediates.push((Certificate::from_der(der)?, der.to_vec()));
        Ok(())
    }
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    /// Every configured certificate, roots and intermediates.
    pub fn certificates(&self) -> Vec<Certificate> {
        self.certificate_refs().cloned().collect()
    }

    /// [`TrustAnchors::certificates`] without copying them.
    pub(crate) fn certificate_refs(&self) -> impl Iterator<Item = &Certificate> {
        self.roots.iter().chain(&self.intermediates).map(|(c, _)| c)
    }

    /// `c` (whose DER is `c_der` when known) is a configured root.
    fn is_root(&self, c: &Certificate, c_der: Option<&[u8]>) -> bool {
        // cheap comparisons first: only a certificate named like a root is compared whole
        self.roots.iter().any(|(r, d)| {
            r.tbs_certificate.subject == c.tbs_certificate.subject
                && match c_der {
                    Some(der) => der == d.as_slice(),
                    None => c.to_der().is_ok_and(|der| der == *d),
                }
        })
    }

    /// [signer, …, root], each certificate signed by the next; the error names the missing issuer,
    /// or the algorithm that kept a link from being verified.
    pub fn build_path(&self, signer: &Certificate, from_signature: &[Vec<u8>]) -> Result<Vec<Certificate>, PathError> {
        let mut pool = CertPool::default();
        for d in from_signature {
            pool.add_der(d);
        }
        self.build_path_in(signer, None, &[&pool])
    }

    /// [`TrustAnchors::build_path`] over certificate pools parsed once per document: the
    /// signature's own, then the document's (DSS and other signatures'). At each step at most
    /// [`MAX_ISSUER_CANDIDATES`] certificates named like the issuer are tried, so a file that
    /// carries thousands of look-alike issuers costs a bounded number of signature checks.
    /// `signer_der` is the signer's DER when the caller has it (the signed part is then read
    /// from it rather than re-encoded).
    pub(crate) fn build_path_in(
        &self,
        signer: &Certificate,
        signer_der: Option<&[u8]>,
        pools: &[&CertPool],
    ) -> Result<Vec<Certificate>, PathError> {
        let mut path = vec![signer.clone()];
        let mut cur_der = signer_der;
        for _ in 0..6 {
            let cur = path.last().expect("non-empty").clone();
            if self.is_root(&cur, cur_der) {
                return Ok(path);
            }
            let want = &cur.tbs_certificate.issuer;
            let key = want.to_der().unwrap_or_default();
            let mut unsupported = None;
            let mut wrong_key = None;
            let issuer = pools
                .iter()
                .flat_map(|p| p.named(&key))
                .chain(
                    self.intermediates
                        .iter()
                        .chain(&self.roots)
                        .filter(|(c, _)| &c.tbs_certificate.subject == want)
                        .map(|(c, d)| (c, d.as_slice())),
                )
                .take(MAX_ISSUER_CANDIDATES)
                .find(|(c, _)| match check_signed_by_in(&cur, cur_der, c, &self.memo) {
                    SigCheck::Verified => true,
                    SigCheck::Invalid => {
                        wrong_key = Some(common_name(c));
                        false
                    }
                    SigCheck::Unsupported(why) => {
                        unsupported = Some(why);
                        false
                    }
                });
            match issuer {
                Some((i, d)) if *i == cur && !self.is_root(i, Some(d)) => {
                    return Err(PathError::Missing(format!(
                        "«{}» is self-signed and not a configured trust anchor; give it (or the national root) as a trusted root",
                        common_name(&cur)
                    )))
                }
                Some((i, d)) if path.iter().any(|p| p == i) && !self.is_root(i, Some(d)) => {
                    return Err(PathError::Other("the certificate path loops".into()))
                }
                Some((i, d)) => {
                    path.push(i.clone());
                    cur_der = Some(d);
                }
                None if unsupported.is_some() => {
                    return Err(PathError::Unsupported(format!(
                        "the signature on «{}» by «{}» cannot be verified: {}",
                        common_name(&cur),
                        name_or_dn(want),
                        unsupported.unwrap_or_default()
                    )))
                }
                None if wrong_key.is_some() => {
                    return Err(PathError::Missing(format!(
                        "«{}» is named as the issuer of «{}» but its key does not verify that certificate's signature (another CA of the same name, or a damaged certificate)",
                        wrong_key.unwrap_or_default(),
                        common_name(&cur)
                    )))
                }
                None => {
                    return Err(PathError::Missing(format!(
                        "the issuer «{}» of «{}» is neither a configured trust anchor nor in the signature; add the national root (and provider CA) to the trust list",
                        name_or_dn(&cur.tbs_certificate.issuer),
                        common_name(&cur)
                    )))
                }
            }
        }
        Err(PathError::Other("the certificate path is longer than 6".into()))
    }
}

/// Why no path to a trust anchor was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathError {
    /// An issuer is not known (not a trust anchor, not in the file): NO_CERTIFICATE_CHAIN_FOUND.
    Missing(String),
    /// A certificate's signature uses an algorithm or key kyso does not verify, named:
    /// CRYPTO_CONSTRAINTS_FAILURE, never "no trusted root".
    Unsupported(String),
    /// A loop, or a path too long.
    Other(String),
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathError::Missing(s) | PathError::Unsupported(s) | PathError::Other(s) => f.write_str(s),
        }
    }
}

/// How many certificates named like an issuer are tried (signature checked) at one step of a path.
pub(crate) const MAX_ISSUER_CANDIDATES: usize = 8;

/// Certificates parsed once, without repeats, found by subject name.
#[derive(Clone, Default)]
pub struct CertPool {
    certs: Vec<Certificate>,
    /// Each certificate's DER, in the order of `certs`.
    order: Vec<Vec<u8>>,
    /// Each DER's index in `certs`.
    ders: std::collections::HashMap<Vec<u8>, usize>,
    by_subject: std::collections::HashMap<Vec<u8>, Vec<usize>>,
}

impl CertPool {
    /// Add a DER certificate (ignored when unreadable or already here).
    pub fn add_der(&mut self, der: &[u8]) {
        if self.ders.contains_key(der) {
            return;
        }
        let Ok(c) = Certificate::from_der(der) else { return };
        self.ders.insert(der.to_vec(), self.certs.len());
        let key = c.tbs_certificate.subject.to_der().unwrap_or_default();
        self.by_subject.entry(key).or_default().push(self.certs.len());
        self.certs.push(c);
        self.order.push(der.to_vec());
    }

    /// Add a certificate decoded already, with its DER (ignored when already here).
    pub fn add_parsed(&mut self, der: &[u8], c: &Certificate) {
        if self.ders.contains_key(der) {
            return;
        }
        self.ders.insert(der.to_vec(), self.certs.len());
        let key = c.tbs_certificate.subject.to_der().unwrap_or_default();
        self.by_subject.entry(key).or_default().push(self.certs.len());
        self.certs.push(c.clone());
        self.order.push(der.to_vec());
    }

    /// Add the certificates of `other` (already parsed) that are not here.
    pub fn extend_from(&mut self, other: &CertPool) {
        for (c, der) in other.certs.iter().zip(&other.order) {
            if self.ders.contains_key(der.as_slice()) {
                continue;
            }
            self.ders.insert(der.clone(), self.certs.len());
            let key = c.tbs_certificate.subject.to_der().unwrap_or_default();
            self.by_subject.entry(key).or_default().push(self.certs.len());
            self.certs.push(c.clone());
            self.order.push(der.clone());
        }
    }

    /// The certificates whose subject is the name with this DER encoding, with their DER.
    fn named<'a>(&'a self, subject_der: &[u8]) -> impl Iterator<Item = (&'a Certificate, &'a [u8])> + 'a {
        self.by_subject.get(subject_der).into_iter().flatten().map(|&i| (&self.certs[i], self.order[i].as_slice()))
    }

    pub fn certificates(&self) -> &[Certificate] {
        &self.certs
    }

    /// The certificate with this DER, when it is here (decoded already).
    pub fn get(&self, der: &[u8]) -> Option<&Certificate> {
        self.ders.get(der).map(|&i| &self.certs[i])
    }

    /// Add a DER certificate, reusing its decoded form from one of `decoded` when it is there.
    pub fn add_der_from(&mut self, der: &[u8], decoded: &[&CertPool]) {
        match decoded.iter().find_map(|p| p.get(der)) {
            Some(c) => self.add_parsed(der, c),
            None => self.add_der(der),
        }
    }
}

fn name_or_dn(n: &x509_cert::name::Name) -> String {
    name_attr(n, OID_CN).unwrap_or_else(|| n.to_string())
}

pub fn common_name(c: &Certificate) -> String {
    name_or_dn(&c.tbs_certificate.subject)
}

/// Signatures of shared infrastructure verified in this process: CA certificates, TSA and OCSP
/// responder certificates, CRLs. Each entry is the SHA-256 of the signed object's DER (what is
/// signed, the algorithm and the signature value) followed by the signer's SubjectPublicKeyInfo
/// DER (two self-delimiting DER elements). The same provider CA under the same root signs
/// thousands of citizens' certificates, the same TSA stamps every document and the same CRL
/// covers them all until its nextUpdate: each signature is checked the first time it is seen,
/// not on every document. A citizen's certificate and an OCSP response about it are verified
/// every time (they are per person: remembering them would cost memory and rarely spare work).
/// Only successful verifications are recorded, and any change to the object or the key changes
/// the key of the entry.
static VERIFIED: LazyLock<Mutex<HashSet<[u8; 32]>>> = LazyLock::new(|| Mutex::new(HashSet::new()));
/// Past this many entries the cache starts over (a bound on memory, not a correctness matter).
const VERIFIED_MAX: usize = 4096;

/// `verify()`'s answer for the signed object `signed_der` under the key `signer_spki`, remembered
/// when it is yes (see [`VERIFIED`]).
pub(crate) fn verified_once(signed_der: &[u8], signer_spki: &[u8], verify: impl FnOnce() -> bool) -> bool {
    let key = entry_key(&[signed_der], signer_spki);
    if VERIFIED.lock().is_ok_and(|set| set.contains(&key)) {
        return true;
    }
    let ok = verify();
    if ok {
        remember(key);
    }
    ok
}

/// SHA-256 over the parts of the signed object (each a self-delimiting DER element: the signed
/// part, then the signature value as a BIT or OCTET STRING's bytes) and the signer's key.
fn entry_key(signed: &[&[u8]], signer_spki: &[u8]) -> [u8; 32] {
    let mut all = Vec::with_capacity(signed.iter().map(|p| p.len() + 4).sum::<usize>() + signer_spki.len());
    for part in signed {
        // length-prefixed: no two different splits hash alike
        all.extend_from_slice(&(part.len() as u32).to_be_bytes());
        all.extend_from_slice(part);
    }
    all.extend_from_slice(signer_spki);
    kyso_pki::alg::sha256(&all).try_into().unwrap_or([0; 32])
}

fn remember(key: [u8; 32]) {
    if let Ok(mut set) = VERIFIED.lock() {
        if set.len() >= VERIFIED_MAX {
            set.clear();
        }
        set.insert(key);
    }
}

/// A certificate shared by many documents: a CA, a TSA or an OCSP responder.
fn is_infrastructure(cert: &Certificate) -> bool {
    is_ca(cert) || has_eku(cert, EKU_TIME_STAMPING) || has_eku(cert, EKU_OCSP_SIGNING)
}

pub(crate) const EKU_OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";

pub(crate) fn has_eku(c: &Certificate, oid: &str) -> bool {
    c.tbs_certificate
        .extensions
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .find(|e| e.extn_id == kyso_pki::cert::OID_EKU)
        .and_then(|e| x509_cert::ext::pkix::ExtendedKeyUsage::from_der(e.extn_value.as_bytes()).ok())
        .is_some_and(|x| x.0.iter().any(|o| o.to_string() == oid))
}

fn is_ca(cert: &Certificate) -> bool {
    cert.tbs_certificate.extensions.as_deref().unwrap_or(&[]).iter().any(|e| {
        e.extn_id == BASIC_CONSTRAINTS
            && x509_cert::ext::pkix::BasicConstraints::from_der(e.extn_value.as_bytes()).is_ok_and(|b| b.ca)
    })
}

const BASIC_CONSTRAINTS: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("2.5.29.19");

/// What checking one certificate's signature under a candidate issuer's key found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SigCheck {
    Verified,
    Invalid,
    /// The algorithm or key is not one kyso verifies: named.
    Unsupported(String),
}

/// Does `issuer`'s key verify `cert`'s signature?
pub(crate) fn signed_by(cert: &Certificate, issuer: &Certificate) -> bool {
    check_signed_by(cert, issuer) == SigCheck::Verified
}

/// [`signed_by`], saying why not (no memo beyond the process-wide one).
pub(crate) fn check_signed_by(cert: &Certificate, issuer: &Certificate) -> SigCheck {
    check_signed_by_in(cert, None, issuer, &Memo::default())
}

/// [`check_signed_by`] remembering successes: for infrastructure certificates (CA, TSA, OCSP
/// responder) in the process (see [`VERIFIED`]), for the others in `memo` (one validation).
/// `cert_der` is `cert`'s DER when the caller has it: the signed part is then taken from it as it
/// stands (what the issuer signed) instead of re-encoded.
pub(crate) fn check_signed_by_in(
    cert: &Certificate,
    cert_der: Option<&[u8]>,
    issuer: &Certificate,
    memo: &Memo,
) -> SigCheck {
    let scheme = match kyso_pki::alg::verify_scheme_of(&cert.signature_algorithm) {
        Ok(s) => s,
        Err(why) => return SigCheck::Unsupported(why),
    };
    let Ok(spki) = issuer.tbs_certificate.subject_public_key_info.to_der() else { return SigCheck::Invalid };
    let tbs: std::borrow::Cow<[u8]> = match cert_der.and_then(kyso_pki::cert::signed_part) {
        Some(raw) => std::borrow::Cow::Borrowed(raw),
        None => match cert.tbs_certificate.to_der() {
            Ok(t) => std::borrow::Cow::Owned(t),
            Err(_) => return SigCheck::Invalid,
        },
    };
    let (Ok(alg), sig) = (cert.signature_algorithm.to_der(), cert.signature.raw_bytes()) else {
        return SigCheck::Invalid;
    };
    let signed: [&[u8]; 3] = [&tbs, &alg, sig];
    let mut unsupported = None;
    let mut verify = || match kyso_keys::verify_with(&spki, scheme, &tbs, cert.signature.as_bytes().unwrap_or(&[])) {
        Ok(()) => true,
        Err(kyso_keys::VerifyError::Unsupported(why)) => {
            unsupported = Some(format!("{why} (key of «{}»)", common_name(issuer)));
            false
        }
        Err(_) => false,
    };
    let ok = if is_infrastructure(cert) {
        let key = entry_key(&signed, &spki);
        if VERIFIED.lock().is_ok_and(|set| set.contains(&key)) {
            true
        } else {
            let ok = verify();
            if ok {
                remember(key);
            }
            ok
        }
    } else {
        memo.verified(&signed, &spki, verify)
    };
    match (ok, unsupported) {
        (true, _) => SigCheck::Verified,
        (false, Some(why)) => SigCheck::Unsupported(why),
        (false, None) => SigCheck::Invalid,
    }
}

/// Who signed: name, masked ID number, issuer, serial, validity.
pub fn describe_signer(r: &mut SignatureReport, cert: &Certificate) {
    let tbs = &cert.tbs_certificate;
    r.signer_name = name_attr(&tbs.subject, OID_CN);
    r.signer_id_masked = name_attrs(&tbs.subject, OID_UID).into_iter().find_map(|u| {
        let (p, v) = kyso_pki::id::parse_uid(&u)?;
        let masked = match kyso_pki::CitizenId::parse(v) {
            Ok(id) => id.masked(),
            Err(_) if v.len() > 6 => format!("{}****{}", &v[..3], &v[v.len() - 3..]),
            Err(_) => "****".into(),
        };
        Some(format!("{p}:{masked}"))
    });
    r.issuer_name = Some(name_or_dn(&tbs.issuer));
    r.issuer_org = name_attr(&tbs.issuer, kyso_pki::subject::OID_O);
    r.serial = Some(kyso_pki::cert::serial_hex(tbs.serial_number.as_bytes()));
    r.cert_valid_from = Some(tbs.validity.not_before.to_unix_duration().as_secs() as i64);
    r.cert_valid_to = Some(tbs.validity.not_after.to_unix_duration().as_secs() as i64);
}

pub(crate) fn set(r: &mut SignatureReport, s: SubIndication) {
    if r.sub_indication.is_none() {
        r.sub_indication = Some(s);
    }
}

const OID_AIA: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.1");
const OID_CDP: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("2.5.29.31");

/// Does the certificate name a revocation service: an OCSP responder in its authority
/// information access, or a CRL distribution point?
pub(crate) fn declares_revocation_service(c: &Certificate) -> bool {
    c.tbs_certificate.extensions.as_deref().unwrap_or(&[]).iter().any(|e| {
        e.extn_id == OID_CDP
            || (e.extn_id == OID_AIA
                && x509_cert::ext::pkix::AuthorityInfoAccessSyntax::from_der(e.extn_value.as_bytes())
                    .is_ok_and(|a| a.0.iter().any(|d| d.access_method == kyso_pki::cert::OID_AD_OCSP)))
    })
}

/// Validation policy (see the crate documentation): a certificate that names no revocation
/// service at all (no OCSP in its AIA, no CRL distribution point), on a path to an anchor the
/// relying party configured, cannot be revoked through any channel a validator could check; it is
/// accepted as not revoked, with a warning, as pyHanko does. A certificate that names a service
/// whose answer is missing stays unknown (INDETERMINATE / TRY_LATER).
pub(crate) fn no_service_policy(
    r: &mut SignatureReport,
    subject: &Certificate,
    (status, source): (Revocation, String),
) -> (Revocation, String) {
    if status != Revocation::Unknown || declares_revocation_service(subject) {
        return (status, source);
    }
    let name = common_name(subject);
    r.warnings.push(format!(
        "«{name}» names no revocation service (no OCSP responder, no CRL distribution point): accepted as not revoked under the trusted root"
    ));
    r.no_revocation_service.push(name);
    (Revocation::Good, "no revocation service declared".into())
}

/// Revocation of each certificate at `signing_time`; `proven` when that time comes from a valid
/// signature time-stamp (a revocation after it then only warns).
pub fn judge_revocation(
    r: &mut SignatureReport,
    statuses: &[(String, Revocation, String)],
    signing_time: SystemTime,
    proven: bool,
) {
    let mut summary = Vec::new();
    for (name, st, source) in statuses {
        match *st {
            Revocation::Good => summary.push(format!("{name}: good ({source})")),
            Revocation::Revoked { at, reason } => {
                let when = kyso_pki::time::rfc3339(crate::unix(at));
                summary.push(format!("{name}: revoked {when} ({}; {source})", kyso_pki::crl::reason_name(reason)));
                // Times have one-second resolution: a revocation in the same second as the
                // signature is not proven to precede it.
                if at < signing_time {
                    r.problems.push(format!("«{name}» was revoked on {when}, before the signing time"));
                    r.sub_indication = Some(SubIndication::Revoked);
                } else if proven {
                    r.warnings.push(format!(
                        "«{name}» was revoked on {when}, after the time-stamp that proves the signature existed at {}",
                        kyso_pki::time::rfc3339(crate::unix(signing_time))
                    ));
                } else {
                    r.warnings.push(format!(
                        "«{name}» was revoked on {when}, after the claimed signing time; without a time-stamp the signing time is not proven"
                    ));
                    set(r, SubIndication::RevokedNoPoe);
                }
            }
            Revocation::Unknown => {
                summary.push(format!("{name}: unknown ({source})"));
                r.warnings.push(format!("the revocation status of «{name}» could not be checked"));
                r.revocation_unchecked.push(name.clone());
                set(r, SubIndication::TryLater);
            }
        }
    }
    r.revocation = summary.join("; ");
}

const EKU_OK: [&str; 6] = [
    "1.3.6.1.5.5.7.3.36",      // documentSigning (RFC 9336)
    "1.3.6.1.5.5.7.3.4",       // emailProtection
    "2.5.29.37.0",             // anyExtendedKeyUsage
    "1.2.840.113583.1.1.5",    // Adobe Authentic Documents Trust
    "1.3.6.1.4.1.311.10.3.12", // Microsoft document signing
    "1.3.6.1.5.5.7.3.2",       // clientAuth (common on Vietnamese token certificates)
];

fn secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

pub(crate) fn within_validity(cert: &Certificate, at: SystemTime) -> bool {
    let v = &cert.tbs_certificate.validity;
    let at = secs(at);
    v.not_before.to_unix_duration().as_secs() <= at && at <= v.not_after.to_unix_duration().as_secs()
}

pub(crate) const EXPIRED_NO_POE: &str =
    "the signer certificate is outside its validity period now and no time-stamp proves an earlier signing time";

/// Validity (now, or at the time-stamp `proven` when there is a valid one) and key usage.
pub fn judge_validity_and_usage(
    r: &mut SignatureReport,
    cert: &Certificate,
    now: SystemTime,
    proven: Option<SystemTime>,
) {
    let t = &cert.tbs_certificate;
    match proven {
        Some(at) if !within_validity(cert, at) => {
            r.problems.push("the signer certificate was outside its validity period at the time-stamp".into());
            set(r, SubIndication::OutOfBoundsNoPoe);
        }
        Some(_) if !within_validity(cert, now) => r.warnings.push(
            "the signer certificate is outside its validity period now; the time-stamp proves it was signed within it"
                .into(),
        ),
        Some(_) => {}
        None if !within_validity(cert, now) => {
            r.warnings.push(EXPIRED_NO_POE.into());
            set(r, SubIndication::OutOfBoundsNoPoe);
        }
        None => {}
    }
    let exts = t.extensions.as_deref().unwrap_or(&[]);
    let ku_ok = match exts.iter().find(|e| e.extn_id == kyso_pki::cert::OID_KU) {
        None => true,
        Some(e) => x509_cert::ext::pkix::KeyUsage::from_der(e.extn_value.as_bytes())
            .map(|ku| ku.digital_signature() || ku.non_repudiation())
            .unwrap_or(false),
    };
    let eku_ok = match exts.iter().find(|e| e.extn_id == kyso_pki::cert::OID_EKU) {
        None => true,
        Some(e) => x509_cert::ext::pkix::ExtendedKeyUsage::from_der(e.extn_value.as_bytes())
            .map(|x| x.0.iter().any(|o| EKU_OK.contains(&o.to_string().as_str())))
            .unwrap_or(false),
    };
    r.key_usage_ok = ku_ok && eku_ok;
    if !r.key_usage_ok {
        r.problems.push("the signer certificate's key usage does not allow signing documents".into());
    }
}

/// id-kp-timeStamping (RFC 3161 §2.3).
pub(crate) const EKU_TIME_STAMPING: &str = "1.3.6.1.5.5.7.3.8";

/// Is this signature time-stamp proof of existence? Imprint and token signature hold, the TSA
/// certificate chains to a trust anchor, carries EKU timeStamping, was valid at genTime and is not
/// revoked (for key compromise at any time, otherwise before genTime). The error says why not;
/// a warning is pushed when the TSA's revocation status is unknown.
pub fn judge_timestamp(
    r: &mut SignatureReport,
    ts: &kyso_sign::TimestampCheck,
    anchors: &TrustAnchors,
    revocation: &dyn crate::RevocationSource,
    pools: &[&CertPool],
) -> Result<(), String> {
    if let Some(p) = &ts.problem {
        return Err(format!("the token cannot be read: {p}"));
    }
    if !ts.imprint_ok {
        return Err("its message imprint is not the hash of this signature value".into());
    }
    if !ts.token_signature_ok {
        return Err("the token's signature does not verify".into());
    }
    let Some(tsa) = ts.tsa_cert.as_ref() else {
        return Err("the token does not include the TSA certificate".into());
    };
    let mut own = CertPool::default();
    for (d, p) in ts.certificates.iter().zip(&ts.parsed) {
        own.add_parsed(d, p);
    }
    let mut all: Vec<&CertPool> = vec![&own];
    all.extend_from_slice(pools);
    let path = anchors.build_path_in(tsa, ts.tsa_cert_der.as_deref(), &all).map_err(|e| e.to_string())?;
    anchors.listed_status_at(&path, ts.gen_time)?;
    let exts = tsa.tbs_certificate.extensions.as_deref().unwrap_or(&[]);
    let eku = exts
        .iter()
        .find(|e| e.extn_id == kyso_pki::cert::OID_EKU)
        .and_then(|e| x509_cert::ext::pkix::ExtendedKeyUsage::from_der(e.extn_value.as_bytes()).ok())
        .is_some_and(|x| x.0.iter().any(|o| o.to_string() == EKU_TIME_STAMPING));
    if !eku {
        return Err(format!("«{}» is not a time-stamping certificate (no EKU timeStamping)", common_name(tsa)));
    }
    if !within_validity(tsa, ts.gen_time) {
        return Err(format!("«{}» was outside its validity period at genTime", common_name(tsa)));
    }
    if let Some(issuer) = path.get(1) {
        let st = revocation.status(issuer, tsa);
        let (st, _) = no_service_policy(r, tsa, (st, String::new()));
        match st {
            Revocation::Revoked { at, reason } if at <= ts.gen_time || reason == 1 => {
                return Err(format!(
                    "the TSA certificate «{}» was revoked on {} ({})",
                    common_name(tsa),
                    kyso_pki::time::rfc3339(crate::unix(at)),
                    kyso_pki::crl::reason_name(reason)
                ))
            }
            Revocation::Unknown => {
                r.warnings.push(format!(
                    "the revocation status of the TSA certificate «{}» could not be checked",
                    common_name(tsa)
                ));
                r.revocation_unchecked.push(common_name(tsa));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kyso_keys::{KeyAlgorithm, Signer, SoftwareKey};
    use kyso_pki::cert::{self, CertSpec, IssuerRef, Profile, Serial, Urls};
    use kyso_pki::subject::org_name;
    use std::time::Duration;

    fn key(algorithm: KeyAlgorithm) -> Box<dyn Signer> {
        Box::new(SoftwareKey::generate(algorithm).unwrap())
    }

    fn spec<'a>(profile: Profile, cn: &str, key: &'a dyn Signer) -> CertSpec<'a> {
        let now = SystemTime::now();
        CertSpec {
            profile,
            subject: org_name("Kyso Test", cn).unwrap(),
            subject_public_key_der: key.public_key_der(),
            serial: Serial::random().unwrap(),
            not_before: now - Duration::from_secs(3600),
            not_after: now + Duration::from_secs(86400),
            urls: Urls { crl: None, ocsp: None, ca_issuers: None },
            policy_oid: None,
        }
    }

    fn cached(cert: &Certificate, issuer: &Certificate) -> bool {
        let spki = issuer.tbs_certificate.subject_public_key_info.to_der().unwrap();
        let tbs = cert.tbs_certificate.to_der().unwrap();
        let alg = cert.signature_algorithm.to_der().unwrap();
        let key = entry_key(&[&tbs, &alg, cert.signature.raw_bytes()], &spki);
        VERIFIED.lock().unwrap().contains(&key)
    }

    /// The cache remembers a CA signature only after it verified, keyed by the certificate and the
    /// issuer key: a look-alike root (same name, other key) and a CA certificate with a damaged
    /// signature are still refused after the genuine pair was cached.
    #[test]
    fn verified_ca_signatures_are_remembered_only_for_the_same_certificate_and_key() {
        let root_key = key(KeyAlgorithm::EcP256);
        let other_key = key(KeyAlgorithm::EcP256);
        let ca_key = key(KeyAlgorithm::EcP256);
        let root_der = cert::self_signed(&spec(Profile::Root, "Root", &*root_key), &*root_key).unwrap();
        let other_der = cert::self_signed(&spec(Profile::Root, "Root", &*other_key), &*other_key).unwrap();
        let root = cert::parse(&root_der).unwrap();
        let other = cert::parse(&other_der).unwrap();
        let ca_der = cert::issue(
            &spec(Profile::ProviderCa, "Provider", &*ca_key),
            &IssuerRef::from_cert(&root, &*root_key).unwrap(),
        )
        .unwrap();
        let ca = cert::parse(&ca_der).unwrap();
        assert!(is_ca(&ca));
        assert!(!cached(&ca, &root), "nothing is cached before a first verification");
        assert!(!signed_by(&ca, &other));
        assert!(!cached(&ca, &other), "a failed verification is not remembered");
        assert!(signed_by(&ca, &root));
        assert!(cached(&ca, &root));
        assert!(signed_by(&ca, &root), "the remembered answer");
        assert!(!signed_by(&ca, &other), "another key with the same name is still checked, and refused");
        // the same certificate with its signature damaged: another key, verified again, refused
        let mut bad_der = ca_der.clone();
        let last = bad_der.len() - 1;
        bad_der[last] ^= 1;
        let bad = cert::parse(&bad_der).unwrap();
        assert!(!cached(&bad, &root));
        assert!(!signed_by(&bad, &root));
        // paths: the look-alike root as the only anchor finds no path
        let mut anchors = TrustAnchors::new();
        anchors.add_root(&other_der).unwrap();
        assert!(anchors.build_path(&ca, std::slice::from_ref(&root_der)).is_err());
        // an untrusted self-signed certificate is named as such, not as a loop
        match anchors.build_path(&root, std::slice::from_ref(&root_der)) {
            Err(PathError::Missing(m)) => assert!(m.contains("self-signed"), "{m}"),
            other => panic!("{other:?}"),
        }
        let mut anchors = TrustAnchors::new();
        anchors.add_root(&root_der).unwrap();
        assert_eq!(anchors.build_path(&ca, &[]).unwrap().len(), 2);
        assert!(anchors.build_path(&bad, &[]).is_err());
    }
}
