//! CAdES / CMS detached signatures (RFC 5652, EN 319 122-1 baseline B-B), two-phase.
//!
//! Signed attributes: content-type (id-data), message-digest, signing-certificate-v2 (RFC 5035)
//! and, for CAdES only, signing-time. PAdES B-B must not carry signing-time (EN 319 142-1: the
//! time goes in the signature dictionary's /M), so [`Profile::Pades`] leaves it out.

use crate::{der_walk, sha256, DerContext, SignError};
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode, Encode, Sequence};
use kyso_custody::{SignatureScheme, Signer};
use kyso_pki::alg;
use kyso_pki::tsa::{
    self, attr, signing_certificate_v2_attr, OID_CONTENT_TYPE, OID_DATA, OID_MESSAGE_DIGEST, OID_SIGNED_DATA,
    OID_SIGNING_CERT_V2, OID_SIGNING_TIME,
};
use spki::AlgorithmIdentifierOwned;
use std::time::SystemTime;
use x509_cert::attr::Attribute;
use x509_cert::certificate::Certificate;
use x509_cert::time::Time;

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
        if !kyso_custody::verify(&spki, scheme, self.attrs.der(), signature) {
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
}

impl CmsCheck {
    /// All three cryptographic checks passed.
    pub fn is_valid(&self) -> bool {
        self.message_digest_ok && self.signature_ok && self.signing_cert_v2_ok
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

fn scheme_for(si: &SignerInfo) -> Result<SignatureScheme, SignError> {
    if let Some(s) = alg::scheme_of(&si.signature_algorithm) {
        return Ok(s);
    }
    // Many signers put plain rsaEncryption here and let digestAlgorithm say SHA-256.
    if si.signature_algorithm.oid == alg::RSA_ENCRYPTION {
        return Ok(SignatureScheme::RsaPkcs1Sha256);
    }
    Err(SignError::malformed(
        "signatureAlgorithm",
        format!("{} is not supported (use ECDSA-SHA256, RSASSA-PSS-SHA256 or RSA-SHA256)", si.signature_algorithm.oid),
    ))
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

/// Check a detached CMS signature over content whose SHA-256 is `content_sha256`. Structural
/// problems (not CMS, not detached, no signer certificate, unsupported algorithm) are errors
/// naming the part at fault; failed checks are `false` fields in the answer.
pub fn verify_detached(cms_der: &[u8], content_sha256: [u8; 32]) -> Result<CmsCheck, SignError> {
    let ci = ContentInfo::from_der(cms_der).ctx("ContentInfo")?;
    if ci.content_type != OID_SIGNED_DATA {
        return Err(SignError::malformed(
            "ContentInfo",
            format!("content type {} is not signed-data", ci.content_type),
        ));
    }
    let sd: SignedData = ci.content.decode_as().ctx("SignedData")?;
    if sd.encap_content_info.econtent.is_some() {
        return Err(SignError::malformed("SignedData", "carries its content (eContent): not a detached signature"));
    }
    let mut infos = sd.signer_infos.0.iter();
    let si = match (infos.next(), infos.next()) {
        (Some(si), None) => si,
        (None, _) => return Err(SignError::malformed("SignedData", "has no SignerInfo")),
        (Some(_), Some(_)) => return Err(SignError::malformed("SignedData", "has more than one SignerInfo")),
    };
    if si.digest_alg.oid != alg::SHA256 {
        return Err(SignError::malformed("digestAlgorithm", format!("{} is not SHA-256", si.digest_alg.oid)));
    }
    let scheme = scheme_for(si)?;
    let attrs = si
        .signed_attrs
        .as_ref()
        .ok_or_else(|| SignError::malformed("SignerInfo", "has no signed attributes (CAdES requires them)"))?;

    let mut certificates = Vec::new();
    let mut signer = None;
    for choice in sd.certificates.iter().flat_map(|set| set.0.iter()) {
        if let CertificateChoices::Certificate(c) = choice {
            let der = c.to_der().ctx("certificates")?;
            if signer.is_none() && matches_sid(c, &si.sid) {
                signer = Some((c.clone(), der.clone()));
            }
            certificates.push(der);
        }
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
    let message_digest_ok = md.as_bytes() == content_sha256;

    let signing_cert_v2_ok = match single_value(attrs, OID_SIGNING_CERT_V2)? {
        None => false,
        Some(v) => {
            let sc: SigningCertificateV2Loose = v.decode_as().ctx("signing-certificate-v2 attribute")?;
            sc.certs.first().is_some_and(|id| {
                let sha256_alg = id.hash_algorithm.as_ref().is_none_or(|a| a.oid == alg::SHA256);
                sha256_alg && id.cert_hash.as_bytes() == sha256(&signer_cert_der)
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

    // Verify over the attributes exactly as the signer encoded them; fall back to our DER.
    let signed = match der_walk::raw_signed_attrs(cms_der) {
        Some(raw) => raw,
        None => attrs.to_der().ctx("signedAttrs")?,
    };
    let spki = signer_cert.tbs_certificate.subject_public_key_info.to_der().ctx("signer SPKI")?;
    let signature_ok = kyso_custody::verify(&spki, scheme, &signed, si.signature.as_bytes());

    Ok(CmsCheck { signer_cert_der, message_digest_ok, signature_ok, signing_cert_v2_ok, signing_time, certificates })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for input in [&b""[..], b"\x30", b"\x30\x03\x06\x01\x00", b"not a cms at all", &[0xff; 64]] {
            assert!(verify_detached(input, [0; 32]).is_err());
        }
        assert!(prepare([0; 32], b"\x30\x00", Profile::Cades, SystemTime::UNIX_EPOCH).is_err());
    }
}
