//! Algorithm identifiers and digests: ECDSA-SHA256, RSASSA-PSS (SHA-256, MGF1-SHA-256, salt 32)
//! and RSA PKCS#1 v1.5 with SHA-256. No SHA-1 signatures anywhere (Circular 15/2025).

use der::asn1::{Any, ObjectIdentifier};
use der::Decode;
use kyso_keys::SignatureScheme;
use spki::AlgorithmIdentifierOwned;

pub const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
pub const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
pub const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
pub const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
pub const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
pub const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
pub const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
pub const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
pub const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");

/// RSASSA-PSS-params { sha256 (NULL params), mgf1(sha256), saltLength 32 }, DER.
const PSS_SHA256_PARAMS: [u8; 54] = [
    0x30, 0x34, 0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
    0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09,
    0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x20,
];

pub fn signature_algorithm(scheme: SignatureScheme) -> AlgorithmIdentifierOwned {
    match scheme {
        SignatureScheme::EcdsaP256Sha256 => AlgorithmIdentifierOwned { oid: ECDSA_WITH_SHA256, parameters: None },
        SignatureScheme::RsaPkcs1Sha256 => {
            AlgorithmIdentifierOwned { oid: SHA256_WITH_RSA, parameters: Some(Any::null()) }
        }
        SignatureScheme::RsaPssSha256 => AlgorithmIdentifierOwned {
            oid: RSASSA_PSS,
            parameters: Some(Any::from_der(&PSS_SHA256_PARAMS).expect("constant PSS parameters are valid DER")),
        },
    }
}

/// RSASSA-PSS-params (RFC 4055 §3.1); absent fields take their DEFAULT (SHA-1, MGF1-SHA-1, 20, 1).
#[derive(der::Sequence)]
struct PssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_gen: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_length: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer_field: Option<u32>,
}

const MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");

/// SHA-256 with absent or NULL parameters, as signers write it either way.
fn is_sha256(a: &AlgorithmIdentifierOwned) -> bool {
    a.oid == SHA256 && a.parameters.as_ref().is_none_or(|p| der::Tagged::tag(p) == der::Tag::Null)
}

/// Do these DER RSASSA-PSS-params say SHA-256, MGF1 with SHA-256, a 32-byte salt and the
/// standard trailer? Read by meaning, not by bytes: the hash's NULL parameters may be absent or
/// present, and DEFAULT fields written out or left away, as other signers (pyHanko, OpenSSL) do.
pub fn pss_params_are_sha256(der: &[u8]) -> bool {
    let Ok(p) = PssParams::from_der(der) else { return false };
    let mgf_ok = p.mask_gen.as_ref().is_some_and(|m| {
        m.oid == MGF1
            && m.parameters
                .as_ref()
                .and_then(|a| der::Encode::to_der(a).ok())
                .and_then(|d| AlgorithmIdentifierOwned::from_der(&d).ok())
                .is_some_and(|h| is_sha256(&h))
    });
    p.hash.as_ref().is_some_and(is_sha256) && mgf_ok && p.salt_length == Some(32) && p.trailer_field.unwrap_or(1) == 1
}

/// The scheme an AlgorithmIdentifier names, if kyso supports it. PSS is accepted only with
/// SHA-256, MGF1-SHA-256 and a 32-byte salt (however the parameters are encoded).
pub fn scheme_of(alg: &AlgorithmIdentifierOwned) -> Option<SignatureScheme> {
    match alg.oid {
        ECDSA_WITH_SHA256 if alg.parameters.is_none() => Some(SignatureScheme::EcdsaP256Sha256),
        SHA256_WITH_RSA => Some(SignatureScheme::RsaPkcs1Sha256),
        RSASSA_PSS => {
            let p = alg.parameters.as_ref()?;
            let der = der::Encode::to_der(p).ok()?;
            pss_params_are_sha256(&der).then_some(SignatureScheme::RsaPssSha256)
        }
        _ => None,
    }
}

/// kyso's own encoding of the PSS parameters (what it writes).
pub fn pss_sha256_params_der() -> &'static [u8] {
    &PSS_SHA256_PARAMS
}

pub fn sha256_alg() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid: SHA256, parameters: None }
}

pub fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref().to_vec()
}

/// SHA-1 only where the standards fix it for identifiers (key IDs, OCSP CertID), never to sign.
pub fn sha1(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, data).as_ref().to_vec()
}

/// Digest with a named algorithm (for CertID and message imprints); None if unsupported.
pub fn digest_by_oid(oid: &ObjectIdentifier, data: &[u8]) -> Option<Vec<u8>> {
    use aws_lc_rs::digest as d;
    let alg = match *oid {
        SHA1 => &d::SHA1_FOR_LEGACY_USE_ONLY,
        SHA256 => &d::SHA256,
        SHA384 => &d::SHA384,
        SHA512 => &d::SHA512,
        _ => return None,
    };
    Some(d::digest(alg, data).as_ref().to_vec())
}

pub fn digest_len(oid: &ObjectIdentifier) -> Option<usize> {
    match *oid {
        SHA1 => Some(20),
        SHA256 => Some(32),
        SHA384 => Some(48),
        SHA512 => Some(64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn scheme_roundtrip() {
        for s in [SignatureScheme::EcdsaP256Sha256, SignatureScheme::RsaPssSha256, SignatureScheme::RsaPkcs1Sha256] {
            assert_eq!(scheme_of(&signature_algorithm(s)), Some(s));
        }
    }

    #[test]
    fn pss_parameters_are_read_by_meaning() {
        assert!(pss_params_are_sha256(&PSS_SHA256_PARAMS));
        let sha256 = [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
        let mgf1 = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08];
        let tlv = |tag: u8, body: &[u8]| [&[tag, body.len() as u8][..], body].concat();
        let params = |hash: &[u8], salt: u8| {
            let h = tlv(0xa0, &tlv(0x30, hash));
            let m = tlv(0xa1, &tlv(0x30, &[&mgf1[..], &tlv(0x30, hash)].concat()));
            let s = tlv(0xa2, &[0x02, 0x01, salt]);
            tlv(0x30, &[h, m, s].concat())
        };
        // SHA-256 written without its NULL parameters (as several signers do): the same scheme.
        assert!(pss_params_are_sha256(&params(&sha256, 32)));
        assert!(pss_params_are_sha256(&params(&[&sha256[..], &[0x05, 0x00]].concat(), 32)));
        // Another salt, the DEFAULT hash (SHA-1), or garbage: refused.
        assert!(!pss_params_are_sha256(&params(&sha256, 20)));
        assert!(!pss_params_are_sha256(&tlv(0x30, &tlv(0xa2, &[0x02, 0x01, 32]))));
        assert!(!pss_params_are_sha256(b"\x30\x00junk"));
    }
}
