//! CAdES / CMS detached signatures (RFC 5652, EN 319 122-1 baseline B-B), two-phase.
//!
//! Signed attributes: content-type (id-data), message-digest, signing-certificate-v2 (RFC 5035)
//! and, for CAdES only, signing-time. PAdES B-B must not carry signing-time (EN 319 142-1: the
//! time goes in the signature dictionary's /M), so [`Profile::Pades`] leaves it out.
//!
//! Baseline B-T adds a signature time-stamp as an unsigned attribute ([`add_signature_timestamp`]):
//! an RFC 3161 token over the signature value, the proof that the signature existed at its genTime.

use crate::ber::{self, Leniency};
use crate::{der_walk, sha256, DerContext, SignError};
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{Any, Int, ObjectIdentifier, OctetString, SetOfVec, Uint};
use der::{Decode, Encode, Sequence};
use kyso_keys::{SignatureScheme, Signer};
use kyso_pki::alg;
use kyso_pki::tsa::{
    self, attr, signing_certificate_v2_attr, OID_CONTENT_TYPE, OID_DATA, OID_MESSAGE_DIGEST, OID_SIGNED_DATA,
    OID_SIGNING_CERT_V2, OID_SIGNING_TIME,
};
use spki::AlgorithmIdentifierOwned;
use std::borrow::Cow;
use std::time::SystemTime;
use x509_cert::attr::Attribute;
use x509_cert::certificate::Certificate;
use x509_cert::time::Time;
use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

/// Which baseline the signed attributes are for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// CAdES B-B: signing-time is required.
    Cades,
    /// PAdES B-B (CMS inside a PDF): signing-time must be absent.
    Pades,
}

/// The signed attributes of one signature, fixed before the key is asked to sign.
#[derive(Clone, Debug)]
pub struct SignedAttrs {
    attrs: SetOfVec<Attribute>,
    der: Vec<u8>,
}

impl SignedAttrs {
    /// content-type id-data, message-digest, signing-certificate-v2, and signing-time for CAdES.
    pub fn new(
        content_sha256: [u8; 32],
        signer_cert_der: &[u8],
        profile: Profile,
        signing_time: SystemTime,
    ) -> Result<SignedAttrs, SignError> {
        let mut v = vec![
            attr(OID_CONTENT_TYPE, Any::encode_from(&OID_DATA).ctx("contentType")?)?,
            attr(
                OID_MESSAGE_DIGEST,
                Any::encode_from(&OctetString::new(content_sha256.to_vec()).ctx("messageDigest")?)
                    .ctx("messageDigest")?,
            )?,
            signing_certificate_v2_attr(signer_cert_der)?,
        ];
        if profile == Profile::Cades {
            // RFC 5652 §11.3: UTCTime through 2049, GeneralizedTime after (x509_time does both).
            let t = kyso_pki::time::x509_time(signing_time)?;
            v.push(attr(OID_SIGNING_TIME, Any::encode_from(&t).ctx("signingTime")?)?);
        }
        let attrs = SetOfVec::try_from(v).ctx("signedAttrs")?;
        // RFC 5652 §5.4: the signature covers the DER of the attributes as an explicit SET OF.
        let der = attrs.to_der().ctx("signedAttrs")?;
        Ok(SignedAttrs { attrs, der })
    }

    /// DER of the SET OF attributes: the message the signature is computed over.
    pub fn der(&self) -> &[u8] {
        &self.der
    }
}

/// Phase one done: the attributes are fixed, the key has not signed yet.
#[derive(Clone, Debug)]
pub struct Prepared {
    attrs: SignedAttrs,
    cert: Certificate,
    cert_der: Vec<u8>,
}

/// Fix the signed attributes for content whose SHA-256 is `content_sha256`, signed by the holder
/// of `signer_cert_der`.
pub fn prepare(
    content_sha256: [u8; 32],
    signer_cert_der: &[u8],
    profile: Profile,
    signing_time: SystemTime,
) -> Result<Prepared, SignError> {
    let cert = Certificate::from_der(signer_cert_der).ctx("signer certificate")?;
    let attrs = SignedAttrs::new(content_sha256, signer_cert_der, profile, signing_time)?;
    Ok(Prepared { attrs, cert, cert_der: signer_cert_der.to_vec() })
}

impl Prepared {
    /// SHA-256 of the DER SET OF signed attributes: what `Signer::sign_digest` / signHash signs.
    pub fn to_be_signed_digest(&self) -> [u8; 32] {
        sha256(self.attrs.der())
    }

    pub fn signed_attrs(&self) -> &SignedAttrs {
        &self.attrs
    }

    /// Phase two: wrap the signature into a detached ContentInfo(SignedData), DER. Certificates
    /// are the signer's followed by `chain` (duplicates dropped). The signature is checked
    /// against the certificate's key first, so a wrong key or scheme fails here, not at the
    /// relying party.
    pub fn assemble(&self, signature: &[u8], scheme: SignatureScheme, chain: &[Vec<u8>]) -> Result<Vec<u8>, SignError> {
        let spki = self.cert.tbs_certificate.subject_public_key_info.to_der().ctx("signer SPKI")?;
        if !kyso_keys::verify(&spki, scheme, self.attrs.der(), signature) {
            return Err(SignError::malformed(
                "signature",
                format!("does not verify with the signer certificate's key under {scheme:?}"),
            ));
        }
        let mut certs = vec![self.cert.clone()];
        let mut seen = vec![self.cert_der.clone()];
        for (i, c) in chain.iter().enumerate() {
            if seen.contains(c) {
                continue;
            }
            let parsed = Certificate::from_der(c).map_err(|e| {
                SignError::malformed("chain", format!("certificate #{} is not a DER certificate: {e}", i + 1))
            })?;
            seen.push(c.clone());
            certs.push(parsed);
        }
        let si = tsa::signer_info(&self.cert, self.attrs.attrs.clone(), scheme, signature.to_vec())?;
        let ci = tsa::signed_data(OID_DATA, None, certs, si)?;
        ci.to_der().ctx("ContentInfo")
    }
}

/// Sign `content` with a local or remote key in one go (CAdES or PAdES attributes), through
/// `Signer::sign_digest` as a remote signHash would.
pub fn sign_detached(
    content: &[u8],
    signer: &dyn Signer,
    cert_der: &[u8],
    chain: &[Vec<u8>],
    profile: Profile,
    signing_time: SystemTime,
) -> Result<Vec<u8>, SignError> {
    let p = prepare(sha256(content), cert_der, profile, signing_time)?;
    let scheme = signer.algorithm().default_scheme();
    let signature = signer.sign_digest(scheme, &p.to_be_signed_digest())?;
    p.assemble(&signature, scheme, chain)
}

/// What a detached CMS signature says about itself. Cryptographic checks only: whether the
/// signer certificate is trusted, valid at the time, or revoked is the validator's job.
#[derive(Clone, Debug)]
pub struct CmsCheck {
    pub signer_cert_der: Vec<u8>,
    /// `signer_cert_der` decoded.
    pub signer_cert: Certificate,
    /// The message-digest attribute equals the SHA-256 of the content.
    pub message_digest_ok: bool,
    /// The signature over the signed attributes verifies with the signer certificate's key.
    pub signature_ok: bool,
    /// signing-certificate-v2 is present and its first ESSCertIDv2 hashes the signer certificate.
    pub signing_cert_v2_ok: bool,
    /// The claimed signing time (signing-time attribute), if any. A claim, not a proof.
    pub signing_time: Option<SystemTime>,
    /// Every certificate in the SignedData, DER, in the order found.
    pub certificates: Vec<Vec<u8>>,
    /// The signature time-stamp (CAdES/PAdES B-T), when the SignerInfo carries one.
    pub timestamp: Option<TimestampCheck>,
    /// What had to be read leniently (BER, repeated certificates); empty for plain DER.
    pub leniency: Leniency,
    /// An algorithm (signature scheme, key, digest) kyso does not verify or the rules do not
    /// allow, named; the check it belongs to is then `false`.
    pub algorithm_problem: Option<String>,
}

impl CmsCheck {
    /// All three cryptographic checks passed.
    pub fn is_valid(&self) -> bool {
        self.message_digest_ok && self.signature_ok && self.signing_cert_v2_ok && self.algorithm_problem.is_none()
    }
}

/// ESSCertIDv2 as others may encode it: hash algorithm and issuerSerial optional.
#[derive(Sequence)]
struct EssCertIdV2Loose {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<Any>,
}

#[derive(Sequence)]
struct SigningCertificateV2Loose {
    certs: Vec<EssCertIdV2Loose>,
    #[asn1(optional = "true")]
    policies: Option<Any>,
}

fn single_value(attrs: &SetOfVec<Attribute>, oid: ObjectIdentifier) -> Result<Option<&Any>, SignError> {
    let mut found = attrs.iter().filter(|a| a.oid == oid);
    let Some(a) = found.next() else { return Ok(None) };
    if found.next().is_some() {
        return Err(SignError::malformed("signedAttrs", format!("attribute {oid} appears more than once")));
    }
    let mut values = a.values.iter();
    match (values.next(), values.next()) {
        (Some(v), None) => Ok(Some(v)),
        _ => Err(SignError::malformed("signedAttrs", format!("attribute {oid} must have exactly one value"))),
    }
}

fn matches_sid(cert: &Certificate, sid: &SignerIdentifier) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            cert.tbs_certificate.issuer == isn.issuer && cert.tbs_certificate.serial_number == isn.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .ok()
            .and_then(|spki| kyso_pki::cert::key_identifier(&spki).ok())
            .is_some_and(|id| id.as_slice() == ski.0.as_bytes()),
    }
}

/// What the typed checks of one SignerInfo found (shared by signatures and time-stamp tokens).
struct SignerCheck {
    signer_cert_der: Vec<u8>,
    signer_cert: Certificate,
    message_digest_ok: bool,
    signature_ok: bool,
    signing_cert_v2_ok: bool,
    signing_time: Option<SystemTime>,
    certificates: Vec<Vec<u8>>,
    /// `certificates` decoded (same order).
    parsed: Vec<Certificate>,
    algorithm_problem: Option<String>,
}

/// The DER of each certificate (CertificateChoices::Certificate) of `sd`, in order: encoded once
/// per decoded SignedData, whatever the number of readers.
fn certificate_ders(sd: &SignedData) -> Result<Vec<Vec<u8>>, SignError> {
    sd.certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            CertificateChoices::Certificate(c) => Some(c.to_der().ctx("certificates")),
            _ => None,
        })
        .collect()
}

/// The certificates of `sd` zipped with their DER (`ders`, from [`certificate_ders`]).
fn with_ders<'a>(sd: &'a SignedData, ders: &'a [Vec<u8>]) -> impl Iterator<Item = (&'a Certificate, &'a Vec<u8>)> {
    sd.certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            CertificateChoices::Certificate(c) => Some(c),
            _ => None,
        })
        .zip(ders)
}

fn only_signer(sd: &SignedData) -> Result<&SignerInfo, SignError> {
    let mut infos = sd.signer_infos.0.iter();
    match (infos.next(), infos.next()) {
        (Some(si), None) => Ok(si),
        (None, _) => Err(SignError::malformed("SignedData", "has no SignerInfo")),
        (Some(_), Some(_)) => Err(SignError::malformed("SignedData", "has more than one SignerInfo")),
    }
}

/// Decode leniently, validate strictly: the input re-encoded as DER without repeated
/// certificates ([`ber::normalise`]), then the strict decoder. Every check after this runs on the
/// returned bytes.
fn signed_data_of<'a>(input: &'a [u8], what: &'static str) -> Result<(SignedData, Cow<'a, [u8]>, Leniency), SignError> {
    let (der, leniency) = ber::normalise(input, what)?;
    let ci = ContentInfo::from_der(&der).ctx(what)?;
    if ci.content_type != OID_SIGNED_DATA {
        return Err(SignError::malformed(what, format!("content type {} is not signed-data", ci.content_type)));
    }
    let sd = ci.content.decode_as().ctx("SignedData")?;
    Ok((sd, der, leniency))
}

/// Check the only SignerInfo of `sd` (whose DER ContentInfo is `cms_der`): message-digest against
/// `content_digest` (computed with the SignerInfo's digest algorithm; `None` when that algorithm
/// is not supported), the signature over the signed attributes as encoded, and
/// signing-certificate-v2. An algorithm that cannot be verified is named in `algorithm_problem`.
/// The certificates come back decoded as well when `keep_parsed`.
fn check_signer(
    cms_der: &[u8],
    sd: &SignedData,
    ders: &[Vec<u8>],
    content_digest: &dyn Fn(&ObjectIdentifier) -> Option<Vec<u8>>,
    keep_parsed: bool,
) -> Result<SignerCheck, SignError> {
    let si = only_signer(sd)?;
    let mut algorithm_problem = None;
    let expected = content_digest(&si.digest_alg.oid);
    if expected.is_none() {
        algorithm_problem = Some(format!("digest algorithm {} is not supported", alg::name_of(&si.digest_alg.oid)));
    }
    let scheme = alg::cms_verify_scheme(&si.signature_algorithm, &si.digest_alg);
    let attrs = si
        .signed_attrs
        .as_ref()
        .ok_or_else(|| SignError::malformed("SignerInfo", "has no signed attributes (CAdES requires them)"))?;

    let mut certificates = Vec::new();
    let mut parsed: Vec<&Certificate> = Vec::new();
    let mut signer = None;
    for (c, der) in with_ders(sd, ders) {
        if signer.is_none() && matches_sid(c, &si.sid) {
            signer = Some((c, der.clone()));
        }
        certificates.push(der.clone());
        parsed.push(c);
    }
    let (signer_cert, signer_cert_der) = signer.ok_or_else(|| {
        SignError::malformed("certificates", "the signer's certificate (named by the SignerInfo) is not included")
    })?;

    let content_type = single_value(attrs, OID_CONTENT_TYPE)?
        .ok_or_else(|| SignError::malformed("signedAttrs", "content-type attribute is missing (RFC 5652 §11.1)"))?;
    let ct: ObjectIdentifier = content_type.decode_as().ctx("content-type attribute")?;
    if ct != sd.encap_content_info.econtent_type {
        return Err(SignError::malformed("signedAttrs", "content-type attribute differs from eContentType"));
    }
    let md = single_value(attrs, OID_MESSAGE_DIGEST)?
        .ok_or_else(|| SignError::malformed("signedAttrs", "message-digest attribute is missing (RFC 5652 §11.2)"))?;
    let md: OctetString = md.decode_as().ctx("message-digest attribute")?;
    let message_digest_ok = expected.as_deref() == Some(md.as_bytes());

    let signing_cert_v2_ok = match single_value(attrs, OID_SIGNING_CERT_V2)? {
        None => false,
        Some(v) => {
            let sc: SigningCertificateV2Loose = v.decode_as().ctx("signing-certificate-v2 attribute")?;
            // RFC 5035: hashAlgorithm DEFAULT SHA-256; others (CAdES signers that follow their
            // message digest: SHA-384, SHA-512, SHA-3) are hashed with what they name
            sc.certs.first().is_some_and(|id| {
                let hash =
                    id.hash_algorithm.as_ref().map_or(Some(kyso_keys::HashAlg::Sha256), |a| alg::hash_by_oid(&a.oid));
                hash.is_some_and(|h| id.cert_hash.as_bytes() == h.digest(&signer_cert_der).as_slice())
            })
        }
    };
    let signing_time = match single_value(attrs, OID_SIGNING_TIME)? {
        None => None,
        Some(v) => {
            let der = v.to_der().ctx("signing-time attribute")?;
            Some(Time::from_der(&der).ctx("signing-time attribute")?.to_system_time())
        }
    };

    // Verify over the attributes exactly as the signer encoded them (lengths made DER by
    // `signed_data_of`); if that fails, over their DER with the SET OF sorted (RFC 5652 §5.4).
    // Both are encodings of the same attributes, the ones checked above.
    let sorted = attrs.to_der().ctx("signedAttrs")?;
    let spki = signer_cert.tbs_certificate.subject_public_key_info.to_der().ctx("signer SPKI")?;
    let verify = |m: &[u8]| match &scheme {
        Ok(s) => kyso_keys::verify_with(&spki, *s, m, si.signature.as_bytes()),
        Err(why) => Err(kyso_keys::VerifyError::Unsupported(why.clone())),
    };
    let first = match der_walk::raw_signed_attrs(cms_der) {
        Some(raw) => match verify(&raw) {
            Err(kyso_keys::VerifyError::Invalid) if raw != sorted => verify(&sorted),
            r => r,
        },
        None => verify(&sorted),
    };
    let signature_ok = first.is_ok();
    match first {
        Err(kyso_keys::VerifyError::Unsupported(why)) => algorithm_problem = algorithm_problem.or(Some(why)),
        Err(kyso_keys::VerifyError::BadKey) => {
            algorithm_problem = algorithm_problem.or(Some("the signer certificate's public key cannot be read".into()))
        }
        _ => {}
    }
    Ok(SignerCheck {
        signer_cert_der,
        signer_cert: signer_cert.clone(),
        parsed: if keep_parsed { parsed.into_iter().cloned().collect() } else { Vec::new() },
        message_digest_ok,
        signature_ok,
        signing_cert_v2_ok,
        signing_time,
        certificates,
        algorithm_problem,
    })
}

/// Check a detached CMS signature over content whose SHA-256 is `content_sha256` (a signature
/// with another digest algorithm gets `algorithm_problem`; see [`verify_detached_with`]).
pub fn verify_detached(cms_der: &[u8], content_sha256: [u8; 32]) -> Result<CmsCheck, SignError> {
    verify_detached_with(cms_der, &|oid| (*oid == alg::SHA256).then(|| content_sha256.to_vec()))
}

/// Check a detached CMS signature; `content_digest` gives the content's digest under the
/// SignerInfo's digestAlgorithm (`None`: not supported). Structural problems (not CMS, not
/// detached, no signer certificate) are errors naming the part at fault; failed checks are
/// `false` fields in the answer and an algorithm kyso cannot verify is named in
/// `algorithm_problem`. A signature time-stamp (unsigned attribute) is checked too: see
/// [`TimestampCheck`].
pub fn verify_detached_with(
    cms_der: &[u8],
    content_digest: &dyn Fn(&ObjectIdentifier) -> Option<Vec<u8>>,
) -> Result<CmsCheck, SignError> {
    DecodedCms::decode(cms_der)?.verify_with(content_digest)
}

/// A CMS signature decoded once (leniently, like [`verify_detached_with`]) for a caller that
/// both lists its certificates and verifies it: [`DecodedCms::certificates`] is
/// [`certificates_of`], [`DecodedCms::verify_with`] is [`verify_detached_with`], without a second
/// decode.
#[derive(Clone, Debug)]
pub struct DecodedCms {
    sd: SignedData,
    der: Vec<u8>,
    leniency: Leniency,
    /// The signature time-stamp token (unsigned attribute), decoded once for both uses: absent,
    /// decoded (its SignedData and normalised DER), or why it could not be.
    token: Option<Result<DecodedToken, String>>,
    /// The DER of `sd`'s certificates ([`certificate_ders`]).
    ders: Vec<Vec<u8>>,
}

/// A time-stamp token's SignedData and the normalised DER it was decoded from.
#[derive(Clone, Debug)]
struct DecodedToken {
    sd: SignedData,
    der: Vec<u8>,
    /// The DER of its certificates ([`certificate_ders`]).
    ders: Vec<Vec<u8>>,
}

/// The signature time-stamp token of `sd`'s only SignerInfo, decoded: `None` when there is none.
fn signature_token(sd: &SignedData) -> Option<Result<DecodedToken, String>> {
    let si = only_signer(sd).ok()?;
    let token = match si.unsigned_attrs.as_ref().map(|a| single_value(a, OID_SIGNATURE_TIMESTAMP)) {
        None | Some(Ok(None)) => return None,
        Some(Err(e)) => return Some(Err(e.to_string())),
        Some(Ok(Some(token))) => token,
    };
    Some(
        token
            .to_der()
            .map_err(|e| e.to_string())
            .and_then(|der| {
                signed_data_of(&der, "time-stamp token")
                    .map_err(|e| e.to_string())
                    .map(|(sd, der, _)| (sd, der.into_owned()))
            })
            .and_then(|(sd, der)| {
                let ders = certificate_ders(&sd).map_err(|e| e.to_string())?;
                Ok(DecodedToken { sd, der, ders })
            }),
    )
}

impl DecodedCms {
    pub fn decode(cms_der: &[u8]) -> Result<DecodedCms, SignError> {
        let (sd, der, leniency) = signed_data_of(cms_der, "ContentInfo")?;
        let token = signature_token(&sd);
        let ders = certificate_ders(&sd)?;
        Ok(DecodedCms { sd, der: der.into_owned(), leniency, token, ders })
    }

    /// See [`verify_detached_with`].
    pub fn verify_with(
        &self,
        content_digest: &dyn Fn(&ObjectIdentifier) -> Option<Vec<u8>>,
    ) -> Result<CmsCheck, SignError> {
        let sd = &self.sd;
        if sd.encap_content_info.econtent.is_some() {
            return Err(SignError::malformed("SignedData", "carries its content (eContent): not a detached signature"));
        }
        let c = check_signer(&self.der, sd, &self.ders, content_digest, false)?;
        let si = only_signer(sd)?;
        let timestamp = self.token.as_ref().map(|t| match t {
            Ok(t) => check_decoded_timestamp(&t.sd, &t.der, &t.ders, si.signature.as_bytes())
                .unwrap_or_else(|e| TimestampCheck::broken(e.to_string())),
            Err(why) => TimestampCheck::broken(why.clone()),
        });
        Ok(CmsCheck {
            signer_cert_der: c.signer_cert_der,
            signer_cert: c.signer_cert,
            message_digest_ok: c.message_digest_ok,
            signature_ok: c.signature_ok,
            signing_cert_v2_ok: c.signing_cert_v2_ok,
            signing_time: c.signing_time,
            certificates: c.certificates,
            timestamp,
            leniency: self.leniency.clone(),
            algorithm_problem: c.algorithm_problem,
        })
    }

    /// See [`certificates_of`].
    pub fn certificates(&self) -> Result<CmsCertificates, SignError> {
        let si = only_signer(&self.sd)?;
        let (signer_cert_der, certificates, parsed) = certificates_in(&self.sd, &self.ders, si)?;
        let (timestamp_certificates, timestamp_parsed) = match &self.token {
            Some(Ok(t)) => only_signer(&t.sd)
                .ok()
                .and_then(|tsi| certificates_in(&t.sd, &t.ders, tsi).ok())
                .map(|(_, c, p)| (c, p))
                .unwrap_or_default(),
            _ => (Vec::new(), Vec::new()),
        };
        Ok(CmsCertificates { signer_cert_der, certificates, timestamp_certificates, parsed, timestamp_parsed })
    }
}

/// The certificates a CMS signature (or a time-stamp token) carries, read without checking
/// anything: for callers that only need to know who signed or which certificates to look up,
/// after or before [`verify_detached`] has judged the signature.
#[derive(Debug, Default)]
pub struct CmsCertificates {
    /// The certificate its only SignerInfo names, when included.
    pub signer_cert_der: Option<Vec<u8>>,
    pub certificates: Vec<Vec<u8>>,
    /// Those of its signature time-stamp token (unsigned attribute), if it has one that parses.
    pub timestamp_certificates: Vec<Vec<u8>>,
    /// `certificates` as decoded (same order): a caller that needs them parsed need not decode
    /// them again.
    pub parsed: Vec<Certificate>,
    /// `timestamp_certificates` as decoded (same order).
    pub timestamp_parsed: Vec<Certificate>,
}

/// The signer's certificate (when included) and all the certificates, DER and decoded.
type SignerAndCertificates = (Option<Vec<u8>>, Vec<Vec<u8>>, Vec<Certificate>);

/// The certificates of `sd`, each with its DER (`ders`, from [`certificate_ders`]).
fn certificates_in(sd: &SignedData, ders: &[Vec<u8>], si: &SignerInfo) -> Result<SignerAndCertificates, SignError> {
    let mut signer = None;
    let mut certificates = Vec::new();
    let mut parsed = Vec::new();
    for (c, der) in with_ders(sd, ders) {
        if signer.is_none() && matches_sid(c, &si.sid) {
            signer = Some(der.clone());
        }
        certificates.push(der.clone());
        parsed.push(c.clone());
    }
    Ok((signer, certificates, parsed))
}

/// [`CmsCertificates`] of `cms_der`: one decode, no signature verified. Errors only when it is not
/// a SignedData with exactly one SignerInfo.
pub fn certificates_of(cms_der: &[u8]) -> Result<CmsCertificates, SignError> {
    DecodedCms::decode(cms_der)?.certificates()
}

/// id-aa-signatureTimeStampToken (RFC 3161 appendix A, CAdES B-T): an unsigned attribute whose
/// value is a time-stamp token over the SignerInfo's signature value.
pub const OID_SIGNATURE_TIMESTAMP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");

/// What a signature time-stamp says and whether it holds. Cryptographic checks only: whether the
/// TSA certificate is trusted (a path to an anchor, EKU timeStamping) is the validator's job.
#[derive(Clone, Debug)]
pub struct TimestampCheck {
    /// TSTInfo genTime (the Unix epoch when the token could not be read: see `problem`).
    pub gen_time: SystemTime,
    /// The message imprint is the SHA-2 hash of the signature value.
    pub imprint_ok: bool,
    /// The token's content-type and message-digest attributes match the TSTInfo and its
    /// signature verifies with the TSA certificate it carries.
    pub token_signature_ok: bool,
    /// The TSA certificate (the token's signer), when the token includes it.
    pub tsa_cert_der: Option<Vec<u8>>,
    /// `tsa_cert_der` decoded.
    pub tsa_cert: Option<Certificate>,
    /// Every certificate in the token, DER.
    pub certificates: Vec<Vec<u8>>,
    /// `certificates` decoded (same order).
    pub parsed: Vec<Certificate>,
    /// Why the token could not be read, when it could not.
    pub problem: Option<String>,
}

impl TimestampCheck {
    fn broken(problem: String) -> TimestampCheck {
        TimestampCheck {
            gen_time: SystemTime::UNIX_EPOCH,
            imprint_ok: false,
            token_signature_ok: false,
            tsa_cert_der: None,
            tsa_cert: None,
            certificates: Vec::new(),
            parsed: Vec::new(),
            problem: Some(problem),
        }
    }

    /// Imprint and token signature both hold.
    pub fn is_valid(&self) -> bool {
        self.problem.is_none() && self.imprint_ok && self.token_signature_ok
    }
}

/// Check an RFC 3161 time-stamp token (a DER ContentInfo) over `signature_value`.
pub fn check_timestamp(token_der: &[u8], signature_value: &[u8]) -> Result<TimestampCheck, SignError> {
    let (sd, token_der, _) = signed_data_of(token_der, "time-stamp token")?;
    let ders = certificate_ders(&sd)?;
    check_decoded_timestamp(&sd, &token_der, &ders, signature_value)
}

/// [`check_timestamp`] of a token decoded already (`sd` from the normalised DER `token_der`).
fn check_decoded_timestamp(
    sd: &SignedData,
    token_der: &[u8],
    ders: &[Vec<u8>],
    signature_value: &[u8],
) -> Result<TimestampCheck, SignError> {
    if sd.encap_content_info.econtent_type != tsa::OID_TST_INFO {
        return Err(SignError::malformed(
            "time-stamp token",
            format!("eContentType {} is not id-ct-TSTInfo", sd.encap_content_info.econtent_type),
        ));
    }
    let econtent = sd
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| SignError::malformed("time-stamp token", "has no TSTInfo (eContent)"))?;
    let info_der = econtent.decode_as::<OctetString>().ctx("TSTInfo")?.as_bytes().to_vec();
    let info = TstInfo::from_der(&info_der).ctx("TSTInfo")?;
    let by_alg = |oid: &ObjectIdentifier| alg::hash_by_oid(oid).map(|h| h.digest(&info_der));
    let c = check_signer(token_der, sd, ders, &by_alg, true)?;
    if let Some(why) = &c.algorithm_problem {
        return Err(SignError::malformed("time-stamp token", why.clone()));
    }
    let imprint = &info.message_imprint;
    let imprint_ok = alg::digest_by_oid(&imprint.hash_algorithm.oid, signature_value)
        .is_some_and(|d| d.as_slice() == imprint.hashed_message.as_bytes());
    Ok(TimestampCheck {
        gen_time: info.gen_time.to_system_time(),
        imprint_ok,
        token_signature_ok: c.message_digest_ok && c.signature_ok,
        tsa_cert_der: Some(c.signer_cert_der),
        tsa_cert: Some(c.signer_cert),
        certificates: c.certificates,
        parsed: c.parsed,
        problem: None,
    })
}

/// The signature octets of the (only) SignerInfo: what a signature time-stamp covers.
pub fn signature_value(cms_der: &[u8]) -> Result<Vec<u8>, SignError> {
    let (sd, _, _) = signed_data_of(cms_der, "ContentInfo")?;
    Ok(only_signer(&sd)?.signature.as_bytes().to_vec())
}

/// A DER RFC 3161 TimeStampReq for `signature_value`: SHA-256 imprint, certReq true, the nonce
/// given (big-endian, positive).
pub fn timestamp_request(signature_value: &[u8], nonce: &[u8]) -> Result<Vec<u8>, SignError> {
    timestamp_request_for_digest(sha256(signature_value), nonce)
}

/// A DER RFC 3161 TimeStampReq whose SHA-256 imprint is `digest` (for a document time-stamp: the
/// digest of the ByteRange), certReq true, the nonce given (big-endian, positive).
pub fn timestamp_request_for_digest(digest: [u8; 32], nonce: &[u8]) -> Result<Vec<u8>, SignError> {
    let nonce = Uint::new(nonce).ctx("nonce")?;
    let req = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: alg::sha256_alg(),
            hashed_message: OctetString::new(digest.to_vec()).ctx("hashedMessage")?,
        },
        req_policy: None,
        nonce: Some(Int::new(&nonce.to_der().ctx("nonce")?[2..]).ctx("nonce")?),
        cert_req: true,
        extensions: None,
    };
    req.to_der().ctx("TimeStampReq")
}

/// The time-stamp token (DER ContentInfo) of a DER TimeStampResp; a rejection is an error with the
/// TSA's reason.
pub fn timestamp_token(resp_der: &[u8]) -> Result<Vec<u8>, SignError> {
    let resp = TimeStampResp::from_der(resp_der).ctx("TimeStampResp")?;
    match resp.time_stamp_token {
        Some(t) => t.to_der().ctx("TimeStampToken"),
        None => {
            let why: Vec<String> = resp.status.status_string.iter().flatten().map(|s| s.as_str().to_string()).collect();
            Err(SignError::malformed("TimeStampResp", format!("the TSA refused: {}", why.join("; "))))
        }
    }
}

/// Header (tag + DER length) for `len` content octets.
fn header(tag: u8, len: usize) -> Vec<u8> {
    let mut h = vec![tag];
    if len < 0x80 {
        h.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        h.push(0x80 | bytes.len() as u8);
        h.extend(bytes);
    }
    h
}

/// `outer` re-encoded with its child `inner` replaced by `with` (lengths recomputed).
fn replace_child(buf: &[u8], outer: der_walk::Tlv, inner: der_walk::Tlv, with: &[u8]) -> Vec<u8> {
    let mut content = buf[outer.content_start..inner.start].to_vec();
    content.extend_from_slice(with);
    content.extend_from_slice(&buf[inner.end..outer.end]);
    let mut out = header(outer.tag, content.len());
    out.extend(content);
    out
}

/// Add the time-stamp token `token_der` (a DER ContentInfo) as the unsigned attribute
/// id-aa-signatureTimeStampToken of the (only) SignerInfo: CAdES/PAdES B-B becomes B-T. Every
/// other byte — the signed attributes above all — is kept as it was; only lengths change (a BER
/// input comes out as DER, repeated certificates once: see [`ber::normalise`]).
pub fn add_signature_timestamp(cms_der: &[u8], token_der: &[u8]) -> Result<Vec<u8>, SignError> {
    let (cms_der, _) = ber::normalise(cms_der, "ContentInfo")?;
    let cms_der: &[u8] = &cms_der;
    let value = signature_value(cms_der)?;
    let check = check_timestamp(token_der, &value)?;
    if !check.imprint_ok {
        return Err(SignError::malformed("time-stamp token", "its message imprint is not over this signature"));
    }
    let walk = || -> Option<_> {
        let ci = der_walk::tlv_at(cms_der, 0)?;
        let explicit = *der_walk::children(cms_der, ci)?.get(1)?;
        let sd = *der_walk::children(cms_der, explicit)?.first()?;
        let infos = *der_walk::children(cms_der, sd)?.last()?;
        let si = *der_walk::children(cms_der, infos)?.first()?;
        let parts = der_walk::children(cms_der, si)?;
        Some((ci, explicit, sd, infos, si, parts))
    };
    let (ci, explicit, sd, infos, si, parts) =
        walk().ok_or_else(|| SignError::malformed("ContentInfo", "cannot be walked as DER"))?;
    if ci.end != cms_der.len() {
        return Err(SignError::malformed("ContentInfo", "trailing bytes after the signature"));
    }
    let mut unsigned: Vec<Attribute> = Vec::new();
    let mut keep_until = si.end;
    if let Some(last) = parts.last().filter(|t| t.tag == 0xa1) {
        let mut raw = cms_der[last.start..last.end].to_vec();
        raw[0] = 0x31;
        let existing = SetOfVec::<Attribute>::from_der(&raw).ctx("unsignedAttrs")?;
        if existing.iter().any(|a| a.oid == OID_SIGNATURE_TIMESTAMP) {
            return Err(SignError::malformed("unsignedAttrs", "already carries a signature time-stamp"));
        }
        unsigned.extend(existing.into_vec());
        keep_until = last.start;
    }
    unsigned.push(attr(OID_SIGNATURE_TIMESTAMP, Any::from_der(token_der).ctx("time-stamp token")?)?);
    let mut ua = SetOfVec::try_from(unsigned).ctx("unsignedAttrs")?.to_der().ctx("unsignedAttrs")?;
    ua[0] = 0xa1; // [1] IMPLICIT SET OF Attribute
    let mut si_content = cms_der[si.content_start..keep_until].to_vec();
    si_content.extend(ua);
    let mut new_si = header(si.tag, si_content.len());
    new_si.extend(si_content);
    let new_infos = replace_child(cms_der, infos, si, &new_si);
    let new_sd = replace_child(cms_der, sd, infos, &new_infos);
    let new_explicit = replace_child(cms_der, explicit, sd, &new_sd);
    let out = replace_child(cms_der, ci, explicit, &new_explicit);
    // the signature still verifies over the untouched signed attributes
    debug_assert_eq!(der_walk::raw_signed_attrs(&out), der_walk::raw_signed_attrs(cms_der));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for input in [&b""[..], b"\x30", b"\x30\x03\x06\x01\x00", b"not a cms at all", &[0xff; 64]] {
            assert!(verify_detached(input, [0; 32]).is_err());
            assert!(certificates_of(input).is_err());
        }
        assert!(prepare([0; 32], b"\x30\x00", Profile::Cades, SystemTime::UNIX_EPOCH).is_err());
    }

    #[test]
    fn time_stamp_helpers_refuse_garbage_and_encode_lengths() {
        assert_eq!(header(0x30, 0x7f), [0x30, 0x7f]);
        assert_eq!(header(0x30, 0x80), [0x30, 0x81, 0x80]);
        assert_eq!(header(0xa1, 0x1234), [0xa1, 0x82, 0x12, 0x34]);
        assert!(signature_value(b"\x30\x00").is_err());
        assert!(add_signature_timestamp(b"\x30\x00", b"\x30\x00").is_err());
        assert!(check_timestamp(b"not a token", b"sig").is_err());
        assert!(timestamp_token(b"\x30\x00").is_err());
        let req = timestamp_request(b"signature", &[0x80, 1, 2, 3]).unwrap();
        let parsed = TimeStampReq::from_der(&req).unwrap();
        assert!(parsed.cert_req);
        assert_eq!(parsed.message_imprint.hashed_message.as_bytes(), sha256(b"signature"));
    }
}
