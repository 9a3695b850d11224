//! Signature validation after ETSI EN 319 102-1: for each signature, integrity (ByteRange and
//! digest), the cryptographic check, a path to a configured trust anchor, revocation status at the
//! signing time (proven by a signature time-stamp for B-T, else as claimed) — from the PDF's DSS
//! when it holds the evidence (B-LT), else from the caller's live source — key usage, and what
//! changed in the PDF after signing; then a verdict TOTAL-PASSED / INDETERMINATE / TOTAL-FAILED
//! with its sub-indication and the baseline level reached (B-B, B-T, B-LT, B-LTA), reported in
//! Vietnamese (default) or English. Document time-stamps (B-LTA) get a report of their own.
//!
//! # Validation policy
//!
//! - **Algorithms** (Circular 15/2025): RSA of 2048 to 8192 bits with PKCS#1 v1.5 or RSASSA-PSS
//!   under any valid parameters (SHA-2 or SHA-3 hash, MGF1 over any of them, any salt length;
//!   read by meaning, not by bytes), ECDSA on P-256, P-384 and P-521 (curve from the key) with
//!   SHA-2 (with SHA-3: P-384/SHA3-384 and P-521/SHA3-512, what aws-lc verifies), message digests
//!   SHA-2 and SHA-3. Anything else — RSA under 2048 bits, SHA-1, DSA, EdDSA, brainpool curves,
//!   ECDSA P-256 with SHA-3 — is named in `unsupported_algorithm` and gives
//!   INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE, in the signature or anywhere on its path; never
//!   NO_CERTIFICATE_CHAIN_FOUND.
//! - **No revocation service declared**: a certificate with neither an OCSP responder in its AIA
//!   nor a CRL distribution point, on a path to an anchor the caller configured, is taken as not
//!   revoked (as pyHanko does), listed in `no_revocation_service` with a warning.
//! - **Expired now, valid then**: a signer certificate outside its validity now passes when a
//!   valid signature time-stamp, or a later valid document time-stamp, proves the signature
//!   existed while it was valid; without such proof: INDETERMINATE / OUT_OF_BOUNDS_NO_POE.
//! - **Status unknown**: a certificate that names a revocation service whose answer is neither in
//!   the document nor from the caller's source gives INDETERMINATE / TRY_LATER, listed in
//!   `revocation_unchecked`; the readable report warns in Vietnamese ("Không kiểm tra được tình
//!   trạng chứng thư số …").
//!
//! Architecture invariant: no IO. Trust anchors and revocation statuses come in from the caller
//! (`kyso-authority` answers revocation from its own store); documents come in as bytes.

mod chain;
pub mod dossier;
mod limits;
mod ltv;
mod modifications;
mod readable;
mod report;
mod trusted;
mod xml;

pub use chain::{PathError, TrustAnchors};
pub use limits::{LimitExceeded, Limits, ValidationError};
pub use ltv::DssEvidence;
pub use readable::{readable, Readable};
pub use report::{render, verdict, Lang};
pub use trusted::TrustedPeriod;
pub use xml::etsi_xml;

use kyso_sign::pdf::FoundSignature;
use serde::Serialize;
use std::time::SystemTime;
use x509_cert::Certificate;

/// Revocation status of one certificate, as the caller's source knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revocation {
    Good,
    Revoked {
        at: SystemTime,
        reason: u8,
    },
    /// The source cannot tell (unknown issuer, responder down): the law asks to warn.
    Unknown,
}

/// Where revocation statuses come from (kyso's store, a DSS, OCSP, a CRL).
pub trait RevocationSource {
    fn status(&self, issuer: &Certificate, subject: &Certificate) -> Revocation;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
pub enum Indication {
    TotalPassed,
    Indeterminate,
    TotalFailed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubIndication {
    HashFailure,
    SigCryptoFailure,
    Revoked,
    RevokedNoPoe,
    NoCertificateChainFound,
    OutOfBoundsNoPoe,
    TryLater,
    FormatFailure,
    SigConstraintsFailure,
    /// An algorithm or key size that is not supported or not allowed (named in the report).
    CryptoConstraintsFailure,
}

/// What a report is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A CAdES/PAdES signature.
    Signature,
    /// A document time-stamp (`/SubFilter /ETSI.RFC3161`): the signer is the TSA.
    DocumentTimestamp,
}

/// The PAdES/CAdES baseline level a signature reaches (EN 319 142-1 / 319 122-1), judged from
/// what validated: B-T needs a valid signature time-stamp, B-LT revocation evidence for the
/// signer's and the TSA's chains in the DSS, B-LTA a valid document time-stamp over that DSS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Level {
    #[serde(rename = "B-B")]
    BB,
    #[serde(rename = "B-T")]
    BT,
    #[serde(rename = "B-LT")]
    BLt,
    #[serde(rename = "B-LTA")]
    BLta,
}

impl std::str::FromStr for Level {
    type Err = String;
    /// `b-b`, `b-t`, `b-lt`, `b-lta` (any case).
    fn from_str(s: &str) -> Result<Level, String> {
        match s.to_ascii_lowercase().as_str() {
            "b-b" => Ok(Level::BB),
            "b-t" => Ok(Level::BT),
            "b-lt" => Ok(Level::BLt),
            "b-lta" => Ok(Level::BLta),
            _ => Err(format!("{s:?} is not one of b-b, b-t, b-lt, b-lta")),
        }
    }
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::BB => "B-B",
            Level::BT => "B-T",
            Level::BLt => "B-LT",
            Level::BLta => "B-LTA",
        }
    }
}

/// What changed in the file after a signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Modification {
    /// The signature covers the whole file.
    None,
    /// Later incremental updates only add signatures, form fields, DSS or timestamps.
    AllowedLater { bytes: usize },
    /// A later update changes page content or the page tree.
    PageContentChanged { at_byte: usize, detail: String },
    /// Later updates that could not be analysed.
    Unknown { bytes: usize, detail: String },
}

#[derive(Clone, Debug, Serialize)]
pub struct SignatureReport {
    pub index: usize,
    pub kind: Kind,
    /// The baseline level reached (signatures only).
    pub level: Option<Level>,
    pub field_name: Option<String>,
    pub signer_name: Option<String>,
    /// `CCCD:0012****7890`
    pub signer_id_masked: Option<String>,
    pub issuer_name: Option<String>,
    /// The issuer's organisation (the provider), when its name has one.
    pub issuer_org: Option<String>,
    pub serial: Option<String>,
    pub cert_valid_from: Option<i64>,
    pub cert_valid_to: Option<i64>,
    /// Claimed by the signer (`/M` or signing-time): not proof of existence.
    pub claimed_signing_time: Option<i64>,
    /// From a signature time-stamp (proof of existence), when present.
    pub timestamp_time: Option<i64>,
    pub byte_range_ok: bool,
    pub digest_ok: bool,
    pub signature_ok: bool,
    pub signing_certificate_ok: bool,
    pub chain: Vec<String>,
    pub chain_ok: bool,
    pub revocation: String,
    pub key_usage_ok: bool,
    pub modification: Modification,
    pub indication: Indication,
    pub sub_indication: Option<SubIndication>,
    pub problems: Vec<String>,
    pub warnings: Vec<String>,
    /// An algorithm, key or digest kyso does not verify or the rules do not allow, named
    /// (the verdict is then INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE, not a missing root).
    pub unsupported_algorithm: Option<String>,
    /// A later document time-stamp that proves the signature existed (when it was needed: the
    /// signer certificate has expired since).
    pub poe_time: Option<i64>,
    /// Certificates whose revocation status could not be checked (the law asks to warn).
    pub revocation_unchecked: Vec<String>,
    /// Certificates that name no revocation service, accepted under the validation policy.
    pub no_revocation_service: Vec<String>,
    /// The document digest could not be computed (its algorithm is unsupported): not a HASH_FAILURE.
    #[serde(skip)]
    pub digest_unchecked: bool,
}

/// Validate every signature of a PDF, within the default [`Limits`].
pub fn validate_pdf(
    pdf: &[u8],
    anchors: &TrustAnchors,
    revocation: &dyn RevocationSource,
    now: SystemTime,
) -> Result<Vec<SignatureReport>, ValidationError> {
    let limits = Limits::default();
    let parsed = ParsedPdf::new(pdf, &limits)?;
    validate_parsed(&parsed, anchors, revocation, now)
}

/// The signatures of a PDF ([`kyso_sign::pdf::signatures`], one linear pass), refused with
/// [`ValidationError::Limit`] when the file or their number is over a bound — before any
/// certificate is looked up or any signature checked.
pub fn signatures_within(pdf: &[u8], limits: &Limits) -> Result<Vec<FoundSignature>, ValidationError> {
    if pdf.len() > limits.max_bytes {
        return Err(ValidationError::Limit(LimitExceeded::Bytes { found: pdf.len(), max: limits.max_bytes }));
    }
    if !pdf.starts_with(b"%PDF-") {
        return Err(ValidationError::NotPdf);
    }
    let sigs = kyso_sign::pdf::signatures(pdf);
    if sigs.len() > limits.max_signatures {
        return Err(ValidationError::Limit(LimitExceeded::Signatures {
            found: sigs.len(),
            max: limits.max_signatures,
        }));
    }
    if sigs.is_empty() {
        return Err(ValidationError::NoSignature);
    }
    let mut ranges: Vec<[usize; 4]> = sigs.iter().map(|s| s.byte_range).collect();
    ranges.sort_unstable();
    ranges.dedup();
    let hashed = ranges.iter().fold(0usize, |acc, r| acc.saturating_add(r[1]).saturating_add(r[3]));
    let work =
        modifications::parse_cost(pdf.len(), sigs.iter().map(|s| s.covers_whole_file_up_to)).saturating_add(hashed);
    if work > limits.max_work_bytes {
        return Err(ValidationError::Limit(LimitExceeded::Work { found: work, max: limits.max_work_bytes }));
    }
    Ok(sigs)
}

/// A PDF read once for validation, whatever the number of validation passes over it: its
/// signatures, the certificates they carry (read, not verified), its DSS, and the pages of the
/// final file and of each signed revision for the modification analysis. The final file is
/// parsed once (signature values blanked) for both the DSS and the modification analysis.
/// Nothing here depends on trust anchors or revocation, so a caller that fetches revocation
/// data between two passes ([`validate_parsed`] twice) does not read the file again.
pub struct ParsedPdf<'a> {
    pdf: &'a [u8],
    sigs: Vec<FoundSignature>,
    /// Per signature, the certificates its CMS and its time-stamp token carry (DER).
    sig_certs: Vec<Vec<Vec<u8>>>,
    /// Per signature, its CMS's own certificates, parsed (its time-stamp token's are not here).
    own_pools: Vec<chain::CertPool>,
    /// The DSS's certificates, parsed; and those with every signature's and token's.
    dss_pool: chain::CertPool,
    all_pool: chain::CertPool,
    /// Per signature, the certificate its SignerInfo names (DER), when included.
    signers: Vec<Option<Vec<u8>>>,
    /// Per signature, its CMS decoded (None for what does not decode: the check says why).
    decoded: Vec<Option<kyso_sign::DecodedCms>>,
    dss: kyso_sign::ValidationData,
    revisions: modifications::Revisions,
}

impl<'a> ParsedPdf<'a> {
    /// Find the signatures within `limits` ([`signatures_within`]) and read the rest.
    pub fn new(pdf: &'a [u8], limits: &Limits) -> Result<ParsedPdf<'a>, ValidationError> {
        let sigs = signatures_within(pdf, limits)?;
        ParsedPdf::from_found(pdf, sigs, limits)
    }

    /// Read what validation needs besides the signatures [`signatures_within`] found.
    pub fn from_found(
        pdf: &'a [u8],
        sigs: Vec<FoundSignature>,
        limits: &Limits,
    ) -> Result<ParsedPdf<'a>, ValidationError> {
        if sigs.is_empty() {
            return Err(ValidationError::NoSignature);
        }
        let ends: Vec<usize> = sigs.iter().map(|s| s.covers_whole_file_up_to).collect();
        let wants_dss = kyso_sign::dss::may_hold_dss(pdf);
        let wants_revisions = ends.iter().any(|&e| e < pdf.len());
        let (dss, revisions) = if wants_dss || wants_revisions {
            let blanked = kyso_sign::pdf::blank_signature_contents_ending_dicts(pdf);
            let doc = modifications::load(&blanked);
            let dss = match (&doc, wants_dss) {
                (Some(d), true) => kyso_sign::dss::read_dss_in(d),
                _ => kyso_sign::ValidationData::default(),
            };
            (dss, modifications::Revisions::with_final(pdf, &blanked, doc.as_ref(), ends))
        } else {
            (kyso_sign::ValidationData::default(), modifications::Revisions::with_final(pdf, &[], None, ends))
        };
        let dss_items = dss.certs.len() + dss.ocsps.len() + dss.crls.len();
        if dss_items > limits.max_dss_items {
            return Err(ValidationError::Limit(LimitExceeded::DssItems {
                found: dss_items,
                max: limits.max_dss_items,
            }));
        }
        // a signature's certificates and its token's; a document time-stamp is a token itself
        // each certificate parsed once here, whatever the number of passes and uses
        let mut sig_certs = Vec::with_capacity(sigs.len());
        let mut signers = Vec::with_capacity(sigs.len());
        let mut own_pools = Vec::with_capacity(sigs.len());
        let mut token_pools = Vec::with_capacity(sigs.len());
        let mut decoded = Vec::with_capacity(sigs.len());
        for s in &sigs {
            let mut own = chain::CertPool::default();
            let cms = kyso_sign::DecodedCms::decode(&s.contents).ok();
            let listed = match &cms {
                Some(d) => d.certificates(),
                None => kyso_sign::certificates_of(&s.contents),
            };
            decoded.push(cms);
            let mut token = chain::CertPool::default();
            match listed {
                Ok(c) => {
                    for (d, p) in c.certificates.iter().zip(&c.parsed) {
                        own.add_parsed(d, p);
                    }
                    for (d, p) in c.timestamp_certificates.iter().zip(&c.timestamp_parsed) {
                        token.add_parsed(d, p);
                    }
                    sig_certs.push(c.certificates.into_iter().chain(c.timestamp_certificates).collect());
                    signers.push(c.signer_cert_der);
                }
                Err(_) => {
                    sig_certs.push(Vec::new());
                    signers.push(None);
                }
            }
            own_pools.push(own);
            token_pools.push(token);
        }
        // the DSS usually repeats the signatures' certificates: each decoded once
        let decoded_pools: Vec<&chain::CertPool> = own_pools.iter().chain(&token_pools).collect();
        let mut dss_pool = chain::CertPool::default();
        for d in &dss.certs {
            dss_pool.add_der_from(d, &decoded_pools);
        }
        // the DSS's, then each signature's and its token's (the order issuers are tried in)
        let mut all_pool = dss_pool.clone();
        for (own, token) in own_pools.iter().zip(&token_pools) {
            all_pool.extend_from(own);
            all_pool.extend_from(token);
        }
        Ok(ParsedPdf { pdf, sigs, sig_certs, own_pools, dss_pool, all_pool, signers, decoded, dss, revisions })
    }

    pub fn signatures(&self) -> &[FoundSignature] {
        &self.sigs
    }

    /// What the document's DSS holds.
    pub fn dss(&self) -> &kyso_sign::ValidationData {
        &self.dss
    }

    /// Every certificate the signatures, their time-stamp tokens and the DSS carry, each once
    /// (DER, in that order).
    pub fn certificates(&self) -> Vec<Vec<u8>> {
        let mut seen = std::collections::HashSet::new();
        self.sig_certs.iter().flatten().chain(&self.dss.certs).filter(|d| seen.insert(d.as_slice())).cloned().collect()
    }

    /// The certificate the signature at `index` (as in [`SignatureReport::index`]) names as its
    /// signer, DER: read, not verified (its report judges it).
    pub fn signer_certificate(&self, index: usize) -> Option<&[u8]> {
        self.signers.get(index)?.as_deref()
    }

    /// Every certificate of [`ParsedPdf::certificates`] that parses, parsed (once, when the file
    /// was read).
    pub fn parsed_certificates(&self) -> &[Certificate] {
        self.all_pool.certificates()
    }
}

/// Validate the signatures [`signatures_within`] found (reads the file: see [`ParsedPdf`]).
pub fn validate_found(
    pdf: &[u8],
    sigs: Vec<FoundSignature>,
    anchors: &TrustAnchors,
    revocation: &dyn RevocationSource,
    now: SystemTime,
    limits: &Limits,
) -> Result<Vec<SignatureReport>, ValidationError> {
    let parsed = ParsedPdf::from_found(pdf, sigs, limits)?;
    validate_parsed(&parsed, anchors, revocation, now)
}

/// Validate every signature of a [`ParsedPdf`]. Each signature's checks cost the same whatever
/// the number of others: certificates are parsed once per document into a pool indexed by
/// subject, each signed revision was parsed once (see `modifications`), and the revisions that
/// hold a DSS are read once each.
pub fn validate_parsed(
    parsed: &ParsedPdf,
    anchors: &TrustAnchors,
    revocation: &dyn RevocationSource,
    now: SystemTime,
) -> Result<Vec<SignatureReport>, ValidationError> {
    let ParsedPdf { pdf, sigs, dss: dss_data, revisions, own_pools, dss_pool, all_pool, decoded, .. } = parsed;
    let pdf: &[u8] = pdf;
    let last_full = sigs.iter().map(|s| s.covers_whole_file_up_to).max().unwrap_or(0);
    let (pool, dss) = if dss_data.is_empty() {
        (dss_pool, ltv::DssEvidence::default())
    } else {
        // the issuers the evidence may name: the trust list, the DSS's and the signatures' certificates
        let issuers: Vec<&Certificate> = anchors.certificate_refs().chain(all_pool.certificates()).collect();
        (all_pool, ltv::DssEvidence::with_memo(dss_data, &issuers, &anchors.memo))
    };
    // each distinct ByteRange hashed once
    let mut digests: std::collections::HashMap<[usize; 4], Option<[u8; 32]>> = std::collections::HashMap::new();
    for s in sigs {
        digests.entry(s.byte_range).or_insert_with(|| s.digest(pdf));
    }
    let mut reports: Vec<SignatureReport> = sigs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut r = if s.doc_timestamp {
                check_doc_timestamp(i, s, pdf, anchors, &dss, revocation, pool)
            } else {
                let claimed = s.claimed_time.as_deref().and_then(pdf_date);
                let ctx = Context { anchors, revocation, dss: &dss, extra_certs: pool, now };
                let sha256 = digests[&s.byte_range];
                let content = |oid: &der::asn1::ObjectIdentifier| match kyso_pki::alg::hash_by_oid(oid)? {
                    kyso_keys::HashAlg::Sha256 => sha256.map(|d| d.to_vec()),
                    h => s.digest_with(pdf, h),
                };
                let own = own_pools.get(i);
                let cms = match decoded.get(i).and_then(Option::as_ref) {
                    Some(d) => Cms::Decoded(d),
                    None => Cms::Der(&s.contents),
                };
                check_cms(i, s.field_name.clone(), cms, sha256.is_some(), &content, claimed, own, &ctx)
            };
            for why in &dss.rejected {
                r.warnings.push(format!("unusable validation data: {why}"));
            }
            pdf_checks(&mut r, s, pdf, last_full, revisions);
            finish(&mut r);
            r
        })
        .collect();
    // B-LTA: a valid document time-stamp over a revision that holds the DSS, after the signature
    // (each distinct revision read once)
    let mut holds_dss: std::collections::HashMap<usize, bool> = std::collections::HashMap::new();
    let mut archive: Vec<usize> = Vec::new();
    for (s, r) in sigs.iter().zip(&reports) {
        if !(s.doc_timestamp && r.indication == Indication::TotalPassed) {
            continue;
        }
        let end = s.covers_whole_file_up_to;
        let held = *holds_dss
            .entry(end)
            .or_insert_with(|| pdf.get(..end).is_some_and(|rev| !kyso_sign::dss::read_dss(rev).is_empty()));
        if held {
            archive.push(end);
        }
    }
    for (s, r) in sigs.iter().zip(reports.iter_mut()) {
        if r.level == Some(Level::BLt) && archive.iter().any(|&end| end > s.covers_whole_file_up_to) {
            r.level = Some(Level::BLta);
        }
    }
    // A valid document time-stamp over a signature is proof of its existence at genTime: a signer
    // certificate expired now but valid then passes (EN 319 102-1, past signature validation).
    let doc_ts: Vec<(usize, i64)> = sigs
        .iter()
        .zip(&reports)
        .filter(|(s, r)| s.doc_timestamp && r.indication == Indication::TotalPassed)
        .filter_map(|(s, r)| Some((s.covers_whole_file_up_to, r.timestamp_time?)))
        .collect();
    for (s, r) in sigs.iter().zip(reports.iter_mut()) {
        if s.doc_timestamp || r.sub_indication != Some(SubIndication::OutOfBoundsNoPoe) {
            continue;
        }
        let (Some(from), Some(to)) = (r.cert_valid_from, r.cert_valid_to) else { continue };
        let poe = doc_ts.iter().find(|(end, at)| *end > s.covers_whole_file_up_to && from <= *at && *at <= to);
        if let Some((_, at)) = poe {
            r.warnings.retain(|w| w != chain::EXPIRED_NO_POE);
            r.warnings.push(format!(
                "the signer certificate is outside its validity period now; a later document time-stamp proves the signature existed at {}, within it",
                kyso_pki::time::rfc3339(*at)
            ));
            r.poe_time = Some(*at);
            r.sub_indication = None;
            finish(r);
        }
    }
    Ok(reports)
}

/// A CMS signature to check: as found, or decoded already (a [`ParsedPdf`]).
#[derive(Clone, Copy)]
enum Cms<'a> {
    Der(&'a [u8]),
    Decoded(&'a kyso_sign::DecodedCms),
}

/// What every check needs besides the signature: trust, revocation, the DSS, time.
struct Context<'a> {
    anchors: &'a TrustAnchors,
    revocation: &'a dyn RevocationSource,
    dss: &'a ltv::DssEvidence,
    /// Certificates from the DSS and the other signatures, to build paths with.
    extra_certs: &'a chain::CertPool,
    now: SystemTime,
}

/// A document time-stamp: an RFC 3161 token over the ByteRange, judged like a signature whose
/// signer is the TSA (imprint, token signature, path, EKU timeStamping, validity and revocation
/// at genTime).
fn check_doc_timestamp(
    index: usize,
    s: &FoundSignature,
    pdf: &[u8],
    anchors: &TrustAnchors,
    dss: &ltv::DssEvidence,
    revocation: &dyn RevocationSource,
    pool: &chain::CertPool,
) -> SignatureReport {
    let mut r = blank(index, s.field_name.clone());
    r.kind = Kind::DocumentTimestamp;
    let Some(signed) = s.signed_bytes(pdf) else {
        r.problems.push("the ByteRange does not fit inside the file".into());
        r.sub_indication = Some(SubIndication::FormatFailure);
        return r;
    };
    let ts = match kyso_sign::check_timestamp(&s.contents, &signed) {
        Ok(t) => t,
        Err(e) => {
            r.problems.push(format!("the document time-stamp cannot be read: {e}"));
            r.sub_indication = Some(SubIndication::FormatFailure);
            return r;
        }
    };
    r.digest_ok = ts.imprint_ok;
    r.signature_ok = ts.token_signature_ok;
    r.signing_certificate_ok = true;
    if !ts.imprint_ok {
        r.problems.push("the time-stamp's message imprint is not the digest of the signed ranges".into());
    }
    r.timestamp_time = Some(unix(ts.gen_time));
    let Some(tsa) = ts.tsa_cert.as_ref() else {
        r.problems.push("the TSA certificate is missing or cannot be parsed".into());
        r.sub_indication = Some(SubIndication::FormatFailure);
        return r;
    };
    chain::describe_signer(&mut r, tsa);
    let mut own = chain::CertPool::default();
    for (d, p) in ts.certificates.iter().zip(&ts.parsed) {
        own.add_parsed(d, p);
    }
    match anchors.build_path_in(tsa, ts.tsa_cert_der.as_deref(), &[&own, pool]) {
        Ok(path) => {
            r.chain = path.iter().map(chain::common_name).collect();
            r.chain_ok = true;
            if let Err(why) = anchors.listed_status_at(&path, ts.gen_time) {
                r.problems.push(why);
                r.chain_ok = false;
                r.sub_indication = Some(SubIndication::NoCertificateChainFound);
            }
            let src = ltv::Layered::new(dss, revocation, ts.gen_time);
            let statuses: Vec<_> = path
                .windows(2)
                .map(|p| {
                    let (st, from) = chain::no_service_policy(&mut r, &p[0], src.lookup(&p[1], &p[0]));
                    (chain::common_name(&p[0]), st, from)
                })
                .collect();
            chain::judge_revocation(&mut r, &statuses, ts.gen_time, true);
        }
        Err(e) => path_failed(&mut r, e),
    }
    let exts = tsa.tbs_certificate.extensions.as_deref().unwrap_or(&[]);
    r.key_usage_ok = exts
        .iter()
        .find(|e| e.extn_id == kyso_pki::cert::OID_EKU)
        .and_then(|e| <x509_cert::ext::pkix::ExtendedKeyUsage as der::Decode>::from_der(e.extn_value.as_bytes()).ok())
        .is_some_and(|x| x.0.iter().any(|o| o.to_string() == chain::EKU_TIME_STAMPING));
    if !r.key_usage_ok {
        r.problems.push(format!("«{}» is not a time-stamping certificate", chain::common_name(tsa)));
    }
    if !chain::within_validity(tsa, ts.gen_time) {
        r.problems.push("the TSA certificate was outside its validity period at genTime".into());
        chain::set(&mut r, SubIndication::OutOfBoundsNoPoe);
    }
    r
}

/// Validate a detached CMS/CAdES signature (`.p7s`) over `content`.
pub fn validate_detached(
    cms: &[u8],
    content: &[u8],
    anchors: &TrustAnchors,
    revocation: &dyn RevocationSource,
    now: SystemTime,
) -> SignatureReport {
    let dss = ltv::DssEvidence::default();
    let none = chain::CertPool::default();
    let ctx = Context { anchors, revocation, dss: &dss, extra_certs: &none, now };
    let digest = |oid: &der::asn1::ObjectIdentifier| kyso_pki::alg::hash_by_oid(oid).map(|h| h.digest(content));
    let mut r = check_cms(0, None, Cms::Der(cms), true, &digest, None, None, &ctx);
    r.byte_range_ok = true;
    finish(&mut r);
    r
}

fn blank(index: usize, field_name: Option<String>) -> SignatureReport {
    SignatureReport {
        index,
        kind: Kind::Signature,
        level: None,
        field_name,
        signer_name: None,
        signer_id_masked: None,
        issuer_name: None,
        issuer_org: None,
        serial: None,
        cert_valid_from: None,
        cert_valid_to: None,
        claimed_signing_time: None,
        timestamp_time: None,
        byte_range_ok: false,
        digest_ok: false,
        signature_ok: false,
        signing_certificate_ok: false,
        chain: Vec::new(),
        chain_ok: false,
        revocation: String::new(),
        key_usage_ok: false,
        modification: Modification::None,
        indication: Indication::Indeterminate,
        sub_indication: None,
        problems: Vec::new(),
        warnings: Vec::new(),
        unsupported_algorithm: None,
        poe_time: None,
        revocation_unchecked: Vec::new(),
        no_revocation_service: Vec::new(),
        digest_unchecked: false,
    }
}

fn unix(t: SystemTime) -> i64 {
    kyso_pki::time::unix(t) as i64
}

/// A PDF date `D:YYYYMMDDHHmmSS` with an optional `Z` or `±HH'mm'` offset (the signature
/// dictionary's `/M`: PAdES puts the claimed signing time there, not in the CMS).
fn pdf_date(m: &[u8]) -> Option<SystemTime> {
    let raw = m.strip_prefix(b"D:")?;
    let s = std::str::from_utf8(&raw[..raw.len().min(21)]).ok()?;
    let num = |a: usize, b: usize| s.get(a..b).and_then(|x| x.parse::<i64>().ok());
    let (y, mo, d) = (num(0, 4)?, num(4, 6).unwrap_or(1), num(6, 8).unwrap_or(1));
    let (h, mi, se) = (num(8, 10).unwrap_or(0), num(10, 12).unwrap_or(0), num(12, 14).unwrap_or(0));
    let offset = match s.as_bytes().get(14) {
        Some(b'+') | Some(b'-') => {
            let sign = if s.as_bytes()[14] == b'-' { -1 } else { 1 };
            sign * (num(15, 17).unwrap_or(0) * 3600 + num(18, 20).unwrap_or(0) * 60)
        }
        _ => 0,
    };
    let date = time::Date::from_calendar_date(y as i32, time::Month::try_from(mo as u8).ok()?, d as u8).ok()?;
    let t = date.with_hms(h as u8, mi as u8, se as u8).ok()?.assume_utc().unix_timestamp() - offset;
    Some(kyso_pki::time::from_unix(t))
}

/// Check one CMS signature. `content` digests the signed content under the SignerInfo's
/// digestAlgorithm (`None`: an unsupported algorithm); `fits` is false when the ByteRange does
/// not fit the file; `own_pool`: the CMS's certificates, when parsed already.
#[allow(clippy::too_many_arguments)]
fn check_cms(
    index: usize,
    field_name: Option<String>,
    cms: Cms,
    fits: bool,
    content: &dyn Fn(&der::asn1::ObjectIdentifier) -> Option<Vec<u8>>,
    claimed: Option<SystemTime>,
    own_pool: Option<&chain::CertPool>,
    ctx: &Context,
) -> SignatureReport {
    let Context { anchors, revocation, dss, extra_certs, now } = *ctx;
    let mut r = blank(index, field_name);
    if !fits {
        r.problems.push("the ByteRange does not fit inside the file".into());
        r.sub_indication = Some(SubIndication::FormatFailure);
        return r;
    }
    let unchecked = std::cell::Cell::new(false);
    let digest = |oid: &der::asn1::ObjectIdentifier| {
        let d = content(oid);
        unchecked.set(d.is_none());
        d
    };
    let checked = match cms {
        Cms::Decoded(d) => d.verify_with(&digest),
        Cms::Der(der) => kyso_sign::verify_detached_with(der, &digest),
    };
    let check = match checked {
        Ok(c) => c,
        Err(e) => {
            r.problems.push(format!("the signature container cannot be read: {e}"));
            r.sub_indication = Some(SubIndication::FormatFailure);
            return r;
        }
    };
    r.digest_ok = check.message_digest_ok;
    r.digest_unchecked = unchecked.get();
    r.signature_ok = check.signature_ok;
    r.signing_certificate_ok = check.signing_cert_v2_ok;
    if let Some(why) = &check.algorithm_problem {
        r.problems.push(format!("unsupported algorithm: {why}"));
        r.unsupported_algorithm = Some(why.clone());
    }
    // decoded leniently (BER, repeated certificates): said, not held against the signature
    r.warnings.extend(check.leniency.notes());
    let claimed = check.signing_time.or(claimed);
    r.claimed_signing_time = claimed.map(unix);
    let cert = &check.signer_cert;
    chain::describe_signer(&mut r, cert);
    // a valid signature time-stamp is proof of existence: it replaces the claimed time
    let mut proven = None;
    // the signature's own certificates: parsed when the file was read, else here
    let built;
    let own: &chain::CertPool = match own_pool {
        Some(p) => p,
        None => {
            let mut p = chain::CertPool::default();
            for d in &check.certificates {
                p.add_der(d);
            }
            built = p;
            &built
        }
    };
    let mut tsa_from_dss = false;
    if let Some(ts) = &check.timestamp {
        let src = ltv::Layered::new(dss, revocation, ts.gen_time);
        let judged = chain::judge_timestamp(&mut r, ts, anchors, &src, &[own, extra_certs]);
        tsa_from_dss = src.all_from_dss.get();
        match judged {
            Ok(()) => {
                r.timestamp_time = Some(unix(ts.gen_time));
                proven = Some(ts.gen_time);
            }
            Err(why) => {
                r.problems.push(format!("the signature time-stamp is not proof of existence: {why}"));
                chain::set(&mut r, SubIndication::SigConstraintsFailure);
            }
        }
    }
    let path = anchors.build_path_in(cert, Some(&check.signer_cert_der), &[own, extra_certs]);
    let signing_time = proven.or(claimed).unwrap_or(now);
    let mut signer_from_dss = false;
    match path {
        Ok(path) => {
            r.chain = path.iter().map(chain::common_name).collect();
            r.chain_ok = true;
            // the trust list's status of each listed service on the path, at the signing time
            if let Err(why) = anchors.listed_status_at(&path, signing_time) {
                r.problems.push(why);
                r.chain_ok = false;
                r.sub_indication = Some(SubIndication::NoCertificateChainFound);
            }
            // revocation of each non-anchor certificate at the signing time: the DSS, else live
            let src = ltv::Layered::new(dss, revocation, signing_time);
            let mut statuses = Vec::new();
            for pair in path.windows(2) {
                let (st, from) = chain::no_service_policy(&mut r, &pair[0], src.lookup(&pair[1], &pair[0]));
                statuses.push((chain::common_name(&pair[0]), st, from));
            }
            signer_from_dss = src.all_from_dss.get();
            chain::judge_revocation(&mut r, &statuses, signing_time, proven.is_some());
        }
        Err(e) => path_failed(&mut r, e),
    }
    chain::judge_validity_and_usage(&mut r, cert, now, proven);
    r.level = Some(match proven {
        None => Level::BB,
        Some(_) if !dss.is_empty() && signer_from_dss && tsa_from_dss => Level::BLt,
        Some(_) => Level::BT,
    });
    r
}

/// No path to a trust anchor: a missing issuer (NO_CERTIFICATE_CHAIN_FOUND), or a link whose
/// algorithm kyso cannot verify (CRYPTO_CONSTRAINTS_FAILURE, named).
fn path_failed(r: &mut SignatureReport, e: PathError) {
    match e {
        PathError::Unsupported(why) => {
            r.problems.push(format!("unsupported algorithm in the certificate path: {why}"));
            r.unsupported_algorithm.get_or_insert(why);
            chain::set(r, SubIndication::CryptoConstraintsFailure);
        }
        e => {
            r.problems.push(format!("no path to a trusted root: {e}"));
            r.sub_indication = Some(SubIndication::NoCertificateChainFound);
        }
    }
}

fn pdf_checks(
    r: &mut SignatureReport,
    s: &FoundSignature,
    pdf: &[u8],
    _last_full: usize,
    revisions: &modifications::Revisions,
) {
    r.byte_range_ok = s.byte_range[0] == 0 && s.gap_is_contents && s.covers_whole_file_up_to <= pdf.len();
    if !r.byte_range_ok {
        r.problems.push("the ByteRange does not cover the whole revision except the signature value".into());
    }
    let expected = if s.doc_timestamp { "ETSI.RFC3161" } else { "ETSI.CAdES.detached" };
    if s.sub_filter.as_deref().map(|f| f.trim_start_matches('/')) != Some(expected) {
        r.warnings.push(format!("SubFilter is {:?}, not {expected} (not a PAdES baseline signature)", s.sub_filter));
    }
    r.modification = revisions.analyse(s.covers_whole_file_up_to);
}

/// The verdict, from the most serious finding down (EN 319 102-1 order of checks).
fn finish(r: &mut SignatureReport) {
    use Indication::*;
    use SubIndication::*;
    let (ind, sub) = if matches!(r.sub_indication, Some(FormatFailure)) {
        (TotalFailed, Some(FormatFailure))
    } else if !r.byte_range_ok || (!r.digest_ok && !r.digest_unchecked) {
        (TotalFailed, Some(HashFailure))
    } else if r.unsupported_algorithm.is_some() && matches!(r.modification, Modification::PageContentChanged { .. }) {
        // the content changed after signing, whatever the algorithm
        (TotalFailed, Some(HashFailure))
    } else if r.unsupported_algorithm.is_some() {
        (Indeterminate, Some(CryptoConstraintsFailure))
    } else if !r.signature_ok {
        (TotalFailed, Some(SigCryptoFailure))
    } else if let Modification::PageContentChanged { .. } = r.modification {
        (TotalFailed, Some(HashFailure))
    } else if matches!(r.sub_indication, Some(Revoked)) {
        (TotalFailed, Some(Revoked))
    } else if !r.signing_certificate_ok {
        (Indeterminate, Some(FormatFailure))
    } else if let Some(
        s @ (NoCertificateChainFound | RevokedNoPoe | OutOfBoundsNoPoe | TryLater | SigConstraintsFailure),
    ) = r.sub_indication
    {
        (Indeterminate, Some(s))
    } else if !r.key_usage_ok {
        (Indeterminate, Some(SigConstraintsFailure))
    } else if let Modification::Unknown { .. } = r.modification {
        (Indeterminate, Some(FormatFailure))
    } else {
        (TotalPassed, None)
    };
    r.indication = ind;
    r.sub_indication = sub;
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn pdf_dates() {
        let t = |s: &[u8]| pdf_date(s).map(unix);
        assert_eq!(t(b"D:20261118110640+00'00'"), Some(1_795_000_000));
        assert_eq!(t(b"D:20261118180640+07'00'"), Some(1_795_000_000));
        assert_eq!(t(b"D:20261118110640Z"), Some(1_795_000_000));
        assert_eq!(t(b"D:2026"), Some(1_767_225_600));
        assert_eq!(t(b"20261118110640Z"), None, "the D: prefix is required");
        assert_eq!(t(b"D:20261318"), None);
    }
}
