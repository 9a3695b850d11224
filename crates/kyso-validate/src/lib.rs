//! Signature validation after ETSI EN 319 102-1: for each signature, integrity (ByteRange and
//! digest), the cryptographic check, a path to a configured trust anchor, revocation status at the
//! signing time (proven by a signature time-stamp for B-T, else as claimed) — from the PDF's DSS
//! when it holds the evidence (B-LT), else from the caller's live source — key usage, and what
//! changed in the PDF after signing; then a verdict TOTAL-PASSED / INDETERMINATE / TOTAL-FAILED
//! with its sub-indication and the baseline level reached (B-B, B-T, B-LT, B-LTA), reported in
//! Vietnamese (default) or English. Document time-stamps (B-LTA) get a report of their own.
//!
//! Architecture invariant: no IO. Trust anchors and revocation statuses come in from the caller
//! (`kyso-authority` answers revocation from its own store); documents come in as bytes.

mod chain;
mod ltv;
mod modifications;
mod report;
mod trusted;

pub use chain::TrustAnchors;
pub use ltv::DssEvidence;
pub use report::{render, Lang};
pub use trusted::TrustedPeriod;

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
}

#[derive(Debug, thiserror::Error)]
pub enum ValidationError {
    #[error("this PDF has no signature")]
    NoSignature,
    #[error(transparent)]
    Sign(#[from] kyso_sign::SignError),
    /// A bound of [`Limits`] was hit before the expensive checks ran.
    #[error("{}", .0.message(Lang::En))]
    Limit(LimitExceeded),
}

/// Which bound of [`Limits`] a file went over, and by how much.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "limit", rename_all = "snake_case")]
pub enum LimitExceeded {
    /// The file is larger than `max_bytes`.
    Bytes { found: usize, max: usize },
    /// More signature dictionaries (signatures and document time-stamps) than `max_signatures`.
    Signatures { found: usize, max: usize },
    /// More DSS entries (certificates, OCSP responses, CRLs) than `max_dss_items`.
    DssItems { found: usize, max: usize },
    /// The bytes to hash and parse add up to more than `max_work_bytes` (the work budget).
    Work { found: usize, max: usize },
}

impl LimitExceeded {
    /// The bound's name as the JSON API reports it.
    pub fn name(&self) -> &'static str {
        match self {
            LimitExceeded::Bytes { .. } => "bytes",
            LimitExceeded::Signatures { .. } => "signatures",
            LimitExceeded::DssItems { .. } => "dss_items",
            LimitExceeded::Work { .. } => "work",
        }
    }

    /// What was refused and why, in Vietnamese or English.
    pub fn message(&self, lang: Lang) -> String {
        let vi = lang == Lang::Vi;
        match *self {
            LimitExceeded::Bytes { found, max } if vi => {
                format!("Tệp có {found} byte; hệ thống chỉ kiểm tra tệp tối đa {max} byte.")
            }
            LimitExceeded::Bytes { found, max } => {
                format!("the file has {found} bytes; at most {max} bytes are validated")
            }
            LimitExceeded::Signatures { found, max } if vi => format!(
                "Tệp có {found} chữ ký (kể cả dấu thời gian tài liệu); hệ thống chỉ kiểm tra tệp có tối đa {max} chữ ký."
            ),
            LimitExceeded::Signatures { found, max } => format!(
                "the file has {found} signature dictionaries (signatures and document time-stamps); at most {max} are validated"
            ),
            LimitExceeded::DssItems { found, max } if vi => format!(
                "Dữ liệu kiểm tra hiệu lực (DSS) trong tệp có {found} mục; hệ thống chỉ đọc tối đa {max} mục."
            ),
            LimitExceeded::DssItems { found, max } => format!(
                "the file's validation data (DSS) holds {found} certificates, OCSP responses and CRLs; at most {max} are read"
            ),
            LimitExceeded::Work { found, max } if vi => format!(
                "Kiểm tra tệp này cần băm và phân tích {found} byte qua các phiên bản đã ký; giới hạn là {max} byte."
            ),
            LimitExceeded::Work { found, max } => format!(
                "validating this file would hash and parse {found} bytes over its signed revisions; the work budget is {max} bytes"
            ),
        }
    }
}

impl ValidationError {
    /// The error in Vietnamese or English (bounds are named; other errors are technical and
    /// stay in English after a Vietnamese lead).
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (ValidationError::Limit(l), _) => l.message(lang),
            (ValidationError::NoSignature, Lang::Vi) => "Tệp PDF này không có chữ ký số.".into(),
            (e, Lang::Vi) => format!("Không đọc được tệp: {e}"),
            (e, Lang::En) => e.to_string(),
        }
    }
}

/// Bounds on one validation, checked before the expensive work: what a single anonymous upload
/// may cost. The defaults hold any document a person signs in practice (tens of signatures).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_signatures: usize,
    pub max_dss_items: usize,
    /// The work budget: the bytes hashed (each distinct ByteRange once) plus the bytes the
    /// modification analysis may parse (the whole file once, each distinct signed revision at
    /// most once). Each signature must hash the revision it covers, so a file with many
    /// signatures over a large revision costs their product: this bounds it.
    pub max_work_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_bytes: 32 << 20, max_signatures: 100, max_dss_items: 2_000, max_work_bytes: 2 << 30 }
    }
}

/// Validate every signature of a PDF, within the default [`Limits`].
pub fn validate_pdf(
    pdf: &[u8],
    anchors: &TrustAnchors,
    revocation: &dyn RevocationSource,
    now: SystemTime,
) -> Result<Vec<SignatureReport>, ValidationError> {
    let limits = Limits::default();
    let sigs = signatures_within(pdf, &limits)?;
    validate_found(pdf, sigs, anchors, revocation, now, &limits)
}

/// The signatures of a PDF ([`kyso_sign::pdf::signatures`], one linear pass), refused with
/// [`ValidationError::Limit`] when the file or their number is over a bound — before any
/// certificate is looked up or any signature checked.
pub fn signatures_within(pdf: &[u8], limits: &Limits) -> Result<Vec<FoundSignature>, ValidationError> {
    if pdf.len() > limits.max_bytes {
        return Err(ValidationError::Limit(LimitExceeded::Bytes { found: pdf.len(), max: limits.max_bytes }));
    }
    if !pdf.starts_with(b"%PDF-") {
        return Err(kyso_sign::SignError::Malformed { what: "PDF", reason: "does not start with %PDF-".into() }.into());
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

/// Validate the signatures [`signatures_within`] found. Each signature's checks cost the same
/// whatever the number of others: certificates are parsed once per document into a pool indexed
/// by subject, each signed revision is parsed once (see `modifications`), and the revisions that
/// hold a DSS are read once each.
pub fn validate_found(
    pdf: &[u8],
    sigs: Vec<FoundSignature>,
    anchors: &TrustAnchors,
    revocation: &dyn RevocationSource,
    now: SystemTime,
    limits: &Limits,
) -> Result<Vec<SignatureReport>, ValidationError> {
    if sigs.is_empty() {
        return Err(ValidationError::NoSignature);
    }
    let last_full = sigs.iter().map(|s| s.covers_whole_file_up_to).max().unwrap_or(0);
    let dss_data = kyso_sign::dss::read_dss(pdf);
    let dss_items = dss_data.certs.len() + dss_data.ocsps.len() + dss_data.crls.len();
    if dss_items > limits.max_dss_items {
        return Err(ValidationError::Limit(LimitExceeded::DssItems { found: dss_items, max: limits.max_dss_items }));
    }
    let mut pool = chain::CertPool::default();
    for d in &dss_data.certs {
        pool.add_der(d);
    }
    let dss = if dss_data.is_empty() {
        ltv::DssEvidence::default()
    } else {
        // the issuers the evidence may name: the trust list, the DSS's and the signatures' certificates
        for s in &sigs {
            if let Ok(c) = kyso_sign::verify_detached(&s.contents, [0; 32]) {
                for d in c.certificates.iter().chain(c.timestamp.iter().flat_map(|t| &t.certificates)) {
                    pool.add_der(d);
                }
            } else if let Ok(t) = kyso_sign::check_timestamp(&s.contents, b"") {
                for d in &t.certificates {
                    pool.add_der(d);
                }
            }
        }
        let mut issuers = anchors.certificates();
        issuers.extend(pool.certificates().iter().cloned());
        ltv::DssEvidence::new(&dss_data, &issuers)
    };
    let revisions = modifications::Revisions::new(pdf, sigs.iter().map(|s| s.covers_whole_file_up_to));
    // each distinct ByteRange hashed once
    let mut digests: std::collections::HashMap<[usize; 4], Option<[u8; 32]>> = std::collections::HashMap::new();
    for s in &sigs {
        digests.entry(s.byte_range).or_insert_with(|| s.digest(pdf));
    }
    let mut reports: Vec<SignatureReport> = sigs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut r = if s.doc_timestamp {
                check_doc_timestamp(i, s, pdf, anchors, &dss, revocation, &pool)
            } else {
                let claimed = s.claimed_time.as_deref().and_then(pdf_date);
                let ctx = Context { anchors, revocation, dss: &dss, extra_certs: &pool, now };
                check_cms(i, s.field_name.clone(), &s.contents, digests[&s.byte_range], claimed, &ctx)
            };
            for why in &dss.rejected {
                r.warnings.push(format!("unusable validation data: {why}"));
            }
            pdf_checks(&mut r, s, pdf, last_full, &revisions);
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
    Ok(reports)
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
    let Some(tsa) = ts.tsa_cert_der.as_deref().and_then(|d| kyso_pki::cert::parse(d).ok()) else {
        r.problems.push("the TSA certificate is missing or cannot be parsed".into());
        r.sub_indication = Some(SubIndication::FormatFailure);
        return r;
    };
    chain::describe_signer(&mut r, &tsa);
    let mut own = chain::CertPool::default();
    for d in &ts.certificates {
        own.add_der(d);
    }
    match anchors.build_path_in(&tsa, &[&own, pool]) {
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
                    let (st, from) = src.lookup(&p[1], &p[0]);
                    (chain::common_name(&p[0]), st, from)
                })
                .collect();
            chain::judge_revocation(&mut r, &statuses, ts.gen_time, true);
        }
        Err(missing) => {
            r.problems.push(format!("no path to a trusted root: {missing}"));
            r.sub_indication = Some(SubIndication::NoCertificateChainFound);
        }
    }
    let exts = tsa.tbs_certificate.extensions.as_deref().unwrap_or(&[]);
    r.key_usage_ok = exts
        .iter()
        .find(|e| e.extn_id == kyso_pki::cert::OID_EKU)
        .and_then(|e| <x509_cert::ext::pkix::ExtendedKeyUsage as der::Decode>::from_der(e.extn_value.as_bytes()).ok())
        .is_some_and(|x| x.0.iter().any(|o| o.to_string() == chain::EKU_TIME_STAMPING));
    if !r.key_usage_ok {
        r.problems.push(format!("«{}» is not a time-stamping certificate", chain::common_name(&tsa)));
    }
    if !chain::within_validity(&tsa, ts.gen_time) {
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
    let digest = kyso_pki::alg::sha256(content).try_into().unwrap_or([0u8; 32]);
    let dss = ltv::DssEvidence::default();
    let none = chain::CertPool::default();
    let ctx = Context { anchors, revocation, dss: &dss, extra_certs: &none, now };
    let mut r = check_cms(0, None, cms, Some(digest), None, &ctx);
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

fn check_cms(
    index: usize,
    field_name: Option<String>,
    cms: &[u8],
    digest: Option<[u8; 32]>,
    claimed: Option<SystemTime>,
    ctx: &Context,
) -> SignatureReport {
    let Context { anchors, revocation, dss, extra_certs, now } = *ctx;
    let mut r = blank(index, field_name);
    let Some(digest) = digest else {
        r.problems.push("the ByteRange does not fit inside the file".into());
        r.sub_indication = Some(SubIndication::FormatFailure);
        return r;
    };
    let check = match kyso_sign::verify_detached(cms, digest) {
        Ok(c) => c,
        Err(e) => {
            r.problems.push(format!("the signature container cannot be read: {e}"));
            r.sub_indication = Some(SubIndication::FormatFailure);
            return r;
        }
    };
    r.digest_ok = check.message_digest_ok;
    r.signature_ok = check.signature_ok;
    r.signing_certificate_ok = check.signing_cert_v2_ok;
    // decoded leniently (BER, repeated certificates): said, not held against the signature
    r.warnings.extend(check.leniency.notes());
    let claimed = check.signing_time.or(claimed);
    r.claimed_signing_time = claimed.map(unix);
    let Ok(cert) = kyso_pki::cert::parse(&check.signer_cert_der) else {
        r.problems.push("the signer certificate cannot be parsed".into());
        r.sub_indication = Some(SubIndication::FormatFailure);
        return r;
    };
    chain::describe_signer(&mut r, &cert);
    // a valid signature time-stamp is proof of existence: it replaces the claimed time
    let mut proven = None;
    let mut own = chain::CertPool::default();
    for d in &check.certificates {
        own.add_der(d);
    }
    let mut tsa_from_dss = false;
    if let Some(ts) = &check.timestamp {
        let src = ltv::Layered::new(dss, revocation, ts.gen_time);
        let judged = chain::judge_timestamp(&mut r, ts, anchors, &src, &[&own, extra_certs]);
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
    let path = anchors.build_path_in(&cert, &[&own, extra_certs]);
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
                let (st, from) = src.lookup(&pair[1], &pair[0]);
                statuses.push((chain::common_name(&pair[0]), st, from));
            }
            signer_from_dss = src.all_from_dss.get();
            chain::judge_revocation(&mut r, &statuses, signing_time, proven.is_some());
        }
        Err(missing) => {
            r.problems.push(format!("no path to a trusted root: {missing}"));
            r.sub_indication = Some(SubIndication::NoCertificateChainFound);
        }
    }
    chain::judge_validity_and_usage(&mut r, &cert, now, proven);
    r.level = Some(match proven {
        None => Level::BB,
        Some(_) if !dss.is_empty() && signer_from_dss && tsa_from_dss => Level::BLt,
        Some(_) => Level::BT,
    });
    r
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
    } else if !r.byte_range_ok || !r.digest_ok {
        (TotalFailed, Some(HashFailure))
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
