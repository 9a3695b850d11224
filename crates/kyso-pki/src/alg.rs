//! Algorithm identifiers and digests. kyso *writes* ECDSA-SHA256, RSASSA-PSS (SHA-256,
//! MGF1-SHA-256, salt 32) and RSA PKCS#1 v1.5 with SHA-256; it *reads* every scheme the
//! Vietnamese rules allow from other signers ([`verify_scheme_of`]: ECDSA and RSA PKCS#1 with
//! SHA-2, RSASSA-PSS under any valid parameters, SHA-3 where aws-lc verifies it) and names the
//! rest. No SHA-1 signatures anywhere (Circular 15/2025).

use der::asn1::{Any, ObjectIdentifier};
use der::Decode;
use kyso_keys::{HashAlg, SignatureScheme, VerifyScheme};
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
pub const SHA224: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.4");
pub const SHA3_256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.8");
pub const SHA3_384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.9");
pub const SHA3_512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.10");
pub const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
pub const ECDSA_WITH_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
pub const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
pub const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
pub const ECDSA_WITH_SHA3_256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.3.10");
pub const ECDSA_WITH_SHA3_384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.3.11");
pub const ECDSA_WITH_SHA3_512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.3.12");
pub const RSA_WITH_SHA3_256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.3.14");
pub const RSA_WITH_SHA3_384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.3.15");
pub const RSA_WITH_SHA3_512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.3.16");

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

/// A hash AlgorithmIdentifier with absent or NULL parameters (signers write it either way).
fn hash_of(a: &AlgorithmIdentifierOwned) -> Result<HashAlg, String> {
    // NULL is 05 00: a NULL with contents is not DER, and not read as NULL
    if a.parameters.as_ref().is_some_and(|p| der::Tagged::tag(p) != der::Tag::Null || !p.value().is_empty()) {
        return Err(format!("hash {} has unexpected parameters", a.oid));
    }
    hash_by_oid(&a.oid).ok_or_else(|| match a.oid {
        SHA1 => "SHA-1 is not allowed for signatures (Circular 15/2025)".to_string(),
        o => format!("hash algorithm {} is not supported", name_of(&o)),
    })
}

/// The hash an OID names, among those kyso computes.
pub fn hash_by_oid(oid: &ObjectIdentifier) -> Option<HashAlg> {
    Some(match *oid {
        SHA256 => HashAlg::Sha256,
        SHA384 => HashAlg::Sha384,
        SHA512 => HashAlg::Sha512,
        SHA3_256 => HashAlg::Sha3_256,
        SHA3_384 => HashAlg::Sha3_384,
        SHA3_512 => HashAlg::Sha3_512,
        _ => return None,
    })
}

/// RSASSA-PSS-params read by meaning (RFC 4055 §3.1): the hash, the MGF1 hash and the salt
/// length, however encoded (NULL hash parameters present or absent, DEFAULT fields written out or
/// left away). DEFAULTs mean SHA-1, which is refused by name.
pub fn pss_params(der: &[u8]) -> Result<VerifyScheme, String> {
    let p = PssParams::from_der(der).map_err(|e| format!("RSASSA-PSS parameters cannot be read: {e}"))?;
    let hash = match &p.hash {
        None => return Err("RSASSA-PSS with the default hash SHA-1 is not allowed (Circular 15/2025)".into()),
        Some(h) => hash_of(h)?,
    };
    let mgf1 = match &p.mask_gen {
        None => return Err("RSASSA-PSS with the default mask MGF1-SHA-1 is not allowed (Circular 15/2025)".into()),
        Some(m) if m.oid != MGF1 => return Err(format!("RSASSA-PSS mask generation {} is not supported", m.oid)),
        Some(m) => {
            let inner = m
                .parameters
                .as_ref()
                .and_then(|a| der::Encode::to_der(a).ok())
                .and_then(|d| AlgorithmIdentifierOwned::from_der(&d).ok())
                .ok_or("RSASSA-PSS MGF1 parameters cannot be read")?;
            hash_of(&inner)?
        }
    };
    if p.trailer_field.unwrap_or(1) != 1 {
        return Err("RSASSA-PSS trailer field other than 1 (0xBC) is not valid".into());
    }
    Ok(VerifyScheme::RsaPss { hash, mgf1, salt_len: p.salt_length.unwrap_or(20) })
}

/// Do these DER RSASSA-PSS-params say SHA-256, MGF1 with SHA-256, a 32-byte salt and the
/// standard trailer (what kyso's own keys sign with)? Read by meaning, see [`pss_params`].
pub fn pss_params_are_sha256(der: &[u8]) -> bool {
    pss_params(der) == Ok(VerifyScheme::from(SignatureScheme::RsaPssSha256))
}

/// The scheme an AlgorithmIdentifier names, if it is one kyso *signs* with (PSS: SHA-256,
/// MGF1-SHA-256, a 32-byte salt however encoded).
pub fn scheme_of(alg: &AlgorithmIdentifierOwned) -> Option<SignatureScheme> {
    match verify_scheme_of(alg).ok()? {
        VerifyScheme::Ecdsa(HashAlg::Sha256) => Some(SignatureScheme::EcdsaP256Sha256),
        VerifyScheme::RsaPkcs1(HashAlg::Sha256) => Some(SignatureScheme::RsaPkcs1Sha256),
        v if v == VerifyScheme::from(SignatureScheme::RsaPssSha256) => Some(SignatureScheme::RsaPssSha256),
        _ => None,
    }
}

/// The scheme a signature AlgorithmIdentifier names, for verifying a signature made by anyone;
/// the error names an algorithm that is unsupported or not allowed.
pub fn verify_scheme_of(alg: &AlgorithmIdentifierOwned) -> Result<VerifyScheme, String> {
    let ecdsa = |h| {
        // RFC 5758 §3.2: the parameters field MUST be absent
        if alg.parameters.is_some() {
            return Err(format!("{} must have no parameters", name_of(&alg.oid)));
        }
        Ok(VerifyScheme::Ecdsa(h))
    };
    match alg.oid {
        ECDSA_WITH_SHA256 => ecdsa(HashAlg::Sha256),
        ECDSA_WITH_SHA384 => ecdsa(HashAlg::Sha384),
        ECDSA_WITH_SHA512 => ecdsa(HashAlg::Sha512),
        ECDSA_WITH_SHA3_256 => ecdsa(HashAlg::Sha3_256),
        ECDSA_WITH_SHA3_384 => ecdsa(HashAlg::Sha3_384),
        ECDSA_WITH_SHA3_512 => ecdsa(HashAlg::Sha3_512),
        SHA256_WITH_RSA => Ok(VerifyScheme::RsaPkcs1(HashAlg::Sha256)),
        SHA384_WITH_RSA => Ok(VerifyScheme::RsaPkcs1(HashAlg::Sha384)),
        SHA512_WITH_RSA => Ok(VerifyScheme::RsaPkcs1(HashAlg::Sha512)),
        RSA_WITH_SHA3_256 => Ok(VerifyScheme::RsaPkcs1(HashAlg::Sha3_256)),
        RSA_WITH_SHA3_384 => Ok(VerifyScheme::RsaPkcs1(HashAlg::Sha3_384)),
        RSA_WITH_SHA3_512 => Ok(VerifyScheme::RsaPkcs1(HashAlg::Sha3_512)),
        RSASSA_PSS => {
            let p = alg.parameters.as_ref().ok_or("RSASSA-PSS without parameters (SHA-1 defaults) is not allowed")?;
            pss_params(&der::Encode::to_der(p).map_err(|e| e.to_string())?)
        }
        o => Err(format!("signature algorithm {} is not supported", name_of(&o))),
    }
}

/// The scheme of a CMS SignerInfo: its signatureAlgorithm, or — where signers write only the key
/// type there (rsaEncryption, id-ecPublicKey) — that key type with the digestAlgorithm's hash.
pub fn cms_verify_scheme(
    signature_alg: &AlgorithmIdentifierOwned,
    digest_alg: &AlgorithmIdentifierOwned,
) -> Result<VerifyScheme, String> {
    match signature_alg.oid {
        RSA_ENCRYPTION => Ok(VerifyScheme::RsaPkcs1(hash_of(digest_alg)?)),
        EC_PUBLIC_KEY => Ok(VerifyScheme::Ecdsa(hash_of(digest_alg)?)),
        _ => verify_scheme_of(signature_alg),
    }
}

/// A readable name for an algorithm OID (the dotted form when kyso does not know it).
pub fn name_of(oid: &ObjectIdentifier) -> String {
    let known = match oid.to_string().as_str() {
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption (MD5)",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption (SHA-1 is not allowed)",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption (SHA-224)",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1 (SHA-1 is not allowed)",
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224 (SHA-224)",
        "1.2.840.10040.4.3" => "dsa-with-sha1 (DSA)",
        "2.16.840.1.101.3.4.3.1" => "dsa-with-sha224 (DSA)",
        "2.16.840.1.101.3.4.3.2" => "dsa-with-sha256 (DSA)",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.3.14.3.2.26" => "SHA-1",
        "2.16.840.1.101.3.4.2.4" => "SHA-224",
        "1.2.840.113549.2.5" => "MD5",
        _ => return oid.to_string(),
    };
    format!("{known} [{oid}]")
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
    if *oid == SHA1 {
        return Some(d::digest(&d::SHA1_FOR_LEGACY_USE_ONLY, data).as_ref().to_vec());
    }
    hash_by_oid(oid).map(|h| h.digest(data))
}

pub fn digest_len(oid: &ObjectIdentifier) -> Option<usize> {
    match *oid {
        SHA1 => Some(20),
        o => hash_by_oid(&o).map(HashAlg::output_len),
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
        // any valid parameters are read: SHA-512 with salt 64, SHA-384 with salt 0
        let sha512 = [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];
        let sha384 = [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
        let pss = |hash, mgf1, salt_len| Ok(VerifyScheme::RsaPss { hash, mgf1, salt_len });
        assert_eq!(pss_params(&params(&sha512, 64)), pss(HashAlg::Sha512, HashAlg::Sha512, 64));
        assert_eq!(pss_params(&params(&sha384, 0)), pss(HashAlg::Sha384, HashAlg::Sha384, 0));
        // the SHA-1 defaults are named, not guessed
        let e = pss_params(&tlv(0x30, &tlv(0xa2, &[0x02, 0x01, 32]))).unwrap_err();
        assert!(e.contains("SHA-1"), "{e}");
        let e = pss_params(&tlv(0x30, &[])).unwrap_err();
        assert!(e.contains("SHA-1"), "{e}");
        // a trailer field other than 1 is refused; 1 written out is the same scheme
        let with = |extra: &[u8]| {
            let p = params(&sha256, 32);
            tlv(0x30, &[&p[2..], extra].concat())
        };
        let e = pss_params(&with(&tlv(0xa3, &[0x02, 0x01, 2]))).unwrap_err();
        assert!(e.contains("trailer"), "{e}");
        assert!(pss_params_are_sha256(&with(&tlv(0xa3, &[0x02, 0x01, 1]))));
        // a negative salt length, an unknown field after the trailer, a NULL with contents, a
        // mask other than MGF1: refused
        assert!(pss_params(&params(&sha256, 0xe0)).is_err(), "salt -32");
        assert!(pss_params(&with(&tlv(0xa4, &[0x05, 0x00]))).is_err(), "field [4]");
        assert!(pss_params(&params(&[&sha256[..], &[0x05, 0x01, 0x00]].concat(), 32)).is_err(), "NULL 01 00");
        let other_mask = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x09];
        let h = tlv(0xa0, &tlv(0x30, &sha256));
        let m = tlv(0xa1, &tlv(0x30, &[&other_mask[..], &tlv(0x30, &sha256)].concat()));
        assert!(pss_params(&tlv(0x30, &[h, m].concat())).unwrap_err().contains("mask"));
    }

    #[test]
    fn other_signers_algorithms_are_read_and_the_rest_named() {
        let alg = |oid: &str| AlgorithmIdentifierOwned { oid: ObjectIdentifier::new_unwrap(oid), parameters: None };
        assert_eq!(verify_scheme_of(&alg("1.2.840.10045.4.3.3")), Ok(VerifyScheme::Ecdsa(HashAlg::Sha384)));
        assert_eq!(verify_scheme_of(&alg("1.2.840.10045.4.3.4")), Ok(VerifyScheme::Ecdsa(HashAlg::Sha512)));
        assert_eq!(verify_scheme_of(&alg("1.2.840.113549.1.1.13")), Ok(VerifyScheme::RsaPkcs1(HashAlg::Sha512)));
        assert!(verify_scheme_of(&alg("1.2.840.113549.1.1.5")).unwrap_err().contains("SHA-1"));
        assert!(verify_scheme_of(&alg("2.16.840.1.101.3.4.3.2")).unwrap_err().contains("DSA"));
        assert!(verify_scheme_of(&alg("1.2.840.113549.1.1.10")).unwrap_err().contains("SHA-1"));
        // CMS: rsaEncryption / id-ecPublicKey with the digest algorithm's hash
        let sha384 = alg("2.16.840.1.101.3.4.2.2");
        assert_eq!(
            cms_verify_scheme(&alg("1.2.840.113549.1.1.1"), &sha384),
            Ok(VerifyScheme::RsaPkcs1(HashAlg::Sha384))
        );
        assert_eq!(cms_verify_scheme(&alg("1.2.840.10045.2.1"), &sha384), Ok(VerifyScheme::Ecdsa(HashAlg::Sha384)));
    }
}
