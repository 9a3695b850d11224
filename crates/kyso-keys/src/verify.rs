//! Verifying signatures made by any signer the Vietnamese rules allow (Circular 15/2025): RSA of
//! at least 2048 bits with PKCS#1 v1.5 or RSASSA-PSS, ECDSA on P-256, P-384 and P-521, with SHA-2
//! and SHA-3 (ECDSA with SHA-3 where aws-lc offers it; RSA with SHA-3, and PSS whose MGF1 hash
//! differs from the message hash, in `rsa_public`). The key type and curve come from the SubjectPublicKeyInfo;
//! the scheme and hash from the signature's AlgorithmIdentifier (read in `kyso-pki`). What cannot
//! be verified is *named* ([`VerifyError::Unsupported`]), never confused with a bad signature.

use aws_lc_rs::signature::{self as sig, RsaPssSaltLength, VerificationAlgorithm};
use std::fmt;

/// A message hash a verifier may meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlg {
    Sha256,
    Sha384,
    Sha512,
    Sha3_256,
    Sha3_384,
    Sha3_512,
}

impl HashAlg {
    pub fn name(self) -> &'static str {
        match self {
            HashAlg::Sha256 => "SHA-256",
            HashAlg::Sha384 => "SHA-384",
            HashAlg::Sha512 => "SHA-512",
            HashAlg::Sha3_256 => "SHA3-256",
            HashAlg::Sha3_384 => "SHA3-384",
            HashAlg::Sha3_512 => "SHA3-512",
        }
    }
    pub fn output_len(self) -> usize {
        self.digest_alg().output_len()
    }
    fn digest_alg(self) -> &'static aws_lc_rs::digest::Algorithm {
        use aws_lc_rs::digest as d;
        match self {
            HashAlg::Sha256 => &d::SHA256,
            HashAlg::Sha384 => &d::SHA384,
            HashAlg::Sha512 => &d::SHA512,
            HashAlg::Sha3_256 => &d::SHA3_256,
            HashAlg::Sha3_384 => &d::SHA3_384,
            HashAlg::Sha3_512 => &d::SHA3_512,
        }
    }
    /// The digest of `data` under this hash.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        aws_lc_rs::digest::digest(self.digest_alg(), data).as_ref().to_vec()
    }
    /// The digest of the concatenation of `parts`, without copying them together.
    pub fn digest_parts(self, parts: &[&[u8]]) -> Vec<u8> {
        let mut ctx = aws_lc_rs::digest::Context::new(self.digest_alg());
        for p in parts {
            ctx.update(p);
        }
        ctx.finish().as_ref().to_vec()
    }
}

/// How a signature to verify was computed, as its AlgorithmIdentifier says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyScheme {
    Ecdsa(HashAlg),
    RsaPkcs1(HashAlg),
    /// RSASSA-PSS (RFC 8017 §8.1) with MGF1 over `mgf1` and a salt of `salt_len` octets.
    RsaPss {
        hash: HashAlg,
        mgf1: HashAlg,
        salt_len: u32,
    },
}

impl fmt::Display for VerifyScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            VerifyScheme::Ecdsa(h) => write!(f, "ECDSA with {}", h.name()),
            VerifyScheme::RsaPkcs1(h) => write!(f, "RSA PKCS#1 v1.5 with {}", h.name()),
            VerifyScheme::RsaPss { hash, mgf1, salt_len } => {
                write!(f, "RSASSA-PSS with {}, MGF1-{}, salt {salt_len}", hash.name(), mgf1.name())
            }
        }
    }
}

/// Why a signature did not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The key or scheme is outside what kyso verifies (or what the rules allow): named.
    #[error("{0}")]
    Unsupported(String),
    /// The public key could not be read.
    #[error("the public key cannot be read")]
    BadKey,
    /// The signature does not verify: the data or the signature was changed, or another key signed.
    #[error("the signature does not verify")]
    Invalid,
}

/// The smallest RSA modulus accepted (Circular 15/2025).
pub const MIN_RSA_BITS: u32 = 2048;
/// The largest RSA modulus accepted (aws-lc's verifiers stop there; it bounds the work a key
/// from an untrusted signature can cause).
pub const MAX_RSA_BITS: u32 = 8192;

/// A public key as its SubjectPublicKeyInfo says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublicKeyKind {
    Rsa { bits: u32 },
    EcP256,
    EcP384,
    EcP521,
}

const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_RSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
const OID_DSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const OID_ED448: &[u8] = &[0x2b, 0x65, 0x71];
const BRAINPOOL_PREFIX: &[u8] = &[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01];

/// Dotted form of DER OID contents (for naming what is not supported).
fn dotted(oid: &[u8]) -> String {
    let mut parts: Vec<u64> = Vec::new();
    let mut acc = 0u64;
    for (i, &b) in oid.iter().enumerate() {
        acc = (acc << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if parts.is_empty() && i < oid.len() {
                let first = if acc >= 80 { 2 } else { acc / 40 };
                parts.push(first);
                parts.push(acc - first * 40);
            } else {
                parts.push(acc);
            }
            acc = 0;
        }
    }
    parts.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
}

/// The key type of a SubjectPublicKeyInfo and its subjectPublicKey contents, or why it is not one
/// kyso verifies with (named: "RSA key of 1024 bits", "curve brainpoolP256r1", "DSA key").
pub fn public_key_kind(spki: &[u8]) -> Result<(PublicKeyKind, &[u8]), VerifyError> {
    let (alg, raw) = crate::spki_parts(spki).ok_or(VerifyError::BadKey)?;
    let (t, h, l) = crate::der_header(alg).ok_or(VerifyError::BadKey)?;
    if t != 0x06 {
        return Err(VerifyError::BadKey);
    }
    let oid = alg.get(h..h + l).ok_or(VerifyError::BadKey)?;
    let params = alg.get(h + l..).unwrap_or(&[]);
    if oid == OID_RSA || oid == OID_RSA_PSS {
        let bits = sig::RsaParameters::public_modulus_len(raw).map_err(|_| VerifyError::BadKey)?;
        if bits < MIN_RSA_BITS {
            return Err(VerifyError::Unsupported(format!(
                "RSA key of {bits} bits is too weak: at least {MIN_RSA_BITS} bits are required"
            )));
        }
        if bits > MAX_RSA_BITS {
            return Err(VerifyError::Unsupported(format!("RSA key of {bits} bits is larger than {MAX_RSA_BITS} bits")));
        }
        return Ok((PublicKeyKind::Rsa { bits }, raw));
    }
    if oid == OID_EC {
        let (pt, ph, pl) = crate::der_header(params).ok_or(VerifyError::BadKey)?;
        if pt != 0x06 {
            return Err(VerifyError::Unsupported("EC key with explicit curve parameters (not a named curve)".into()));
        }
        let curve = params.get(ph..ph + pl).ok_or(VerifyError::BadKey)?;
        let kind = match curve {
            c if c == OID_P256 => PublicKeyKind::EcP256,
            c if c == OID_P384 => PublicKeyKind::EcP384,
            c if c == OID_P521 => PublicKeyKind::EcP521,
            c if c.starts_with(BRAINPOOL_PREFIX) && c.len() == BRAINPOOL_PREFIX.len() + 1 => {
                let name = match c[BRAINPOOL_PREFIX.len()] {
                    1 => "brainpoolP160r1",
                    3 => "brainpoolP192r1",
                    5 => "brainpoolP224r1",
                    7 => "brainpoolP256r1",
                    9 => "brainpoolP320r1",
                    11 => "brainpoolP384r1",
                    13 => "brainpoolP512r1",
                    _ => "a brainpool curve",
                };
                return Err(VerifyError::Unsupported(format!(
                    "elliptic curve {name} is not supported (P-256, P-384 and P-521 are)"
                )));
            }
            c => {
                return Err(VerifyError::Unsupported(format!(
                    "elliptic curve {} is not supported (P-256, P-384 and P-521 are)",
                    dotted(c)
                )))
            }
        };
        return Ok((kind, raw));
    }
    let what = match oid {
        o if o == OID_DSA => "DSA keys are not supported (the rules allow RSA and ECDSA)".to_string(),
        o if o == OID_ED25519 || o == OID_ED448 => {
            "EdDSA keys are not supported (the rules allow RSA and ECDSA)".to_string()
        }
        o => format!("public key algorithm {} is not supported (RSA and ECDSA are)", dotted(o)),
    };
    Err(VerifyError::Unsupported(what))
}

/// Is the key published as id-RSASSA-PSS (for RSASSA-PSS only, RFC 4055 §1.2)?
fn is_pss_only(spki: &[u8]) -> bool {
    let Some((alg, _)) = crate::spki_parts(spki) else { return false };
    crate::der_header(alg).is_some_and(|(t, h, l)| t == 0x06 && alg.get(h..h + l) == Some(OID_RSA_PSS))
}

/// Verify `signature` over `message` with the key in `spki_der` under `scheme`.
pub fn verify_with(spki_der: &[u8], scheme: VerifyScheme, message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
    use HashAlg::*;
    let (kind, raw) = public_key_kind(spki_der)?;
    let unsupported = || Err(VerifyError::Unsupported(format!("{scheme} is not supported with this key")));
    let ok = |r: Result<(), aws_lc_rs::error::Unspecified>| r.map_err(|_| VerifyError::Invalid);
    let is_rsa = matches!(kind, PublicKeyKind::Rsa { .. });
    if is_rsa == matches!(scheme, VerifyScheme::Ecdsa(_)) {
        let key = if is_rsa { "an RSA key" } else { "an EC key" };
        return Err(VerifyError::Unsupported(format!("{scheme} cannot be used with {key}")));
    }
    if matches!(scheme, VerifyScheme::RsaPkcs1(_)) && is_pss_only(spki_der) {
        return Err(VerifyError::Unsupported(format!(
            "{scheme} cannot be used with a key for RSASSA-PSS only (id-RSASSA-PSS, RFC 4055)"
        )));
    }
    match scheme {
        VerifyScheme::Ecdsa(h) => {
            let alg: &sig::EcdsaVerificationAlgorithm = match (kind, h) {
                (PublicKeyKind::EcP256, Sha256) => &sig::ECDSA_P256_SHA256_ASN1,
                (PublicKeyKind::EcP256, Sha384) => &sig::ECDSA_P256_SHA384_ASN1,
                (PublicKeyKind::EcP256, Sha512) => &sig::ECDSA_P256_SHA512_ASN1,
                (PublicKeyKind::EcP384, Sha256) => &sig::ECDSA_P384_SHA256_ASN1,
                (PublicKeyKind::EcP384, Sha384) => &sig::ECDSA_P384_SHA384_ASN1,
                (PublicKeyKind::EcP384, Sha512) => &sig::ECDSA_P384_SHA512_ASN1,
                (PublicKeyKind::EcP384, Sha3_384) => &sig::ECDSA_P384_SHA3_384_ASN1,
                (PublicKeyKind::EcP521, Sha256) => &sig::ECDSA_P521_SHA256_ASN1,
                (PublicKeyKind::EcP521, Sha384) => &sig::ECDSA_P521_SHA384_ASN1,
                (PublicKeyKind::EcP521, Sha512) => &sig::ECDSA_P521_SHA512_ASN1,
                (PublicKeyKind::EcP521, Sha3_512) => &sig::ECDSA_P521_SHA3_512_ASN1,
                _ => return unsupported(),
            };
            ok(alg.verify_sig(raw, message, signature))
        }
        VerifyScheme::RsaPkcs1(h) => {
            let alg: &sig::RsaParameters = match h {
                Sha256 => &sig::RSA_PKCS1_2048_8192_SHA256,
                Sha384 => &sig::RSA_PKCS1_2048_8192_SHA384,
                Sha512 => &sig::RSA_PKCS1_2048_8192_SHA512,
                Sha3_256 | Sha3_384 | Sha3_512 => {
                    // aws-lc has no RSA with SHA-3: the public operation and the encoding by hand
                    return crate::rsa_public::verify_pkcs1(raw, h, message, signature)
                        .then_some(())
                        .ok_or(VerifyError::Invalid);
                }
            };
            ok(alg.verify_sig(raw, message, signature))
        }
        VerifyScheme::RsaPss { hash, mgf1, salt_len } => {
            let salt = u16::try_from(salt_len)
                .map_err(|_| VerifyError::Unsupported(format!("RSASSA-PSS salt length {salt_len} is out of range")))?;
            let base = match hash {
                _ if mgf1 != hash => None,
                Sha256 => Some(sig::RSA_PSS_2048_8192_SHA256),
                Sha384 => Some(sig::RSA_PSS_2048_8192_SHA384),
                Sha512 => Some(sig::RSA_PSS_2048_8192_SHA512),
                Sha3_256 | Sha3_384 | Sha3_512 => None,
            };
            match base {
                Some(base) => {
                    ok(base.with_pss_salt_length(RsaPssSaltLength::Custom(salt)).verify_sig(raw, message, signature))
                }
                // valid PSS that aws-lc does not take (MGF1 over another hash, SHA-3): by hand
                None => crate::rsa_public::verify_pss(raw, hash, mgf1, usize::from(salt), message, signature)
                    .then_some(())
                    .ok_or(VerifyError::Invalid),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeyAlgorithm, SignatureScheme, Signer, SoftwareKey};

    #[test]
    fn kyso_schemes_verify_through_the_general_path() {
        for (alg, scheme, v) in [
            (KeyAlgorithm::EcP256, SignatureScheme::EcdsaP256Sha256, VerifyScheme::Ecdsa(HashAlg::Sha256)),
            (KeyAlgorithm::Rsa2048, SignatureScheme::RsaPkcs1Sha256, VerifyScheme::RsaPkcs1(HashAlg::Sha256)),
            (
                KeyAlgorithm::Rsa2048,
                SignatureScheme::RsaPssSha256,
                VerifyScheme::RsaPss { hash: HashAlg::Sha256, mgf1: HashAlg::Sha256, salt_len: 32 },
            ),
        ] {
            let k = SoftwareKey::generate(alg).unwrap();
            let s = k.sign(scheme, b"ho so").unwrap();
            assert_eq!(verify_with(k.public_key_der(), v, b"ho so", &s), Ok(()));
            assert_eq!(verify_with(k.public_key_der(), v, b"ho s0", &s), Err(VerifyError::Invalid));
        }
        // the wrong salt length does not verify; ECDSA with an RSA key is named
        let k = SoftwareKey::generate(KeyAlgorithm::Rsa2048).unwrap();
        let s = k.sign(SignatureScheme::RsaPssSha256, b"m").unwrap();
        let pss = |salt_len| VerifyScheme::RsaPss { hash: HashAlg::Sha256, mgf1: HashAlg::Sha256, salt_len };
        assert_eq!(verify_with(k.public_key_der(), pss(20), b"m", &s), Err(VerifyError::Invalid));
        assert!(matches!(
            verify_with(k.public_key_der(), VerifyScheme::Ecdsa(HashAlg::Sha256), b"m", &s),
            Err(VerifyError::Unsupported(_))
        ));
    }

    /// RFC 4055 §1.2: a key published as id-RSASSA-PSS is for RSASSA-PSS only — a PKCS#1 v1.5
    /// signature under it is refused by name, PSS still verifies.
    #[test]
    fn a_pss_only_key_refuses_pkcs1_v1_5() {
        let k = SoftwareKey::generate(KeyAlgorithm::Rsa2048).unwrap();
        let mut spki = k.public_key_der().to_vec();
        let at = spki.windows(OID_RSA.len()).position(|w| w == OID_RSA).unwrap();
        spki[at + OID_RSA.len() - 1] = 0x0a;
        let pkcs1 = k.sign(SignatureScheme::RsaPkcs1Sha256, b"m").unwrap();
        let e = verify_with(&spki, VerifyScheme::RsaPkcs1(HashAlg::Sha256), b"m", &pkcs1).unwrap_err();
        assert!(matches!(&e, VerifyError::Unsupported(m) if m.contains("RSASSA-PSS only")), "{e:?}");
        let pss = k.sign(SignatureScheme::RsaPssSha256, b"m").unwrap();
        assert_eq!(verify_with(&spki, SignatureScheme::RsaPssSha256.into(), b"m", &pss), Ok(()));
    }

    #[test]
    fn oids_are_named() {
        assert_eq!(dotted(OID_P384), "1.3.132.0.34");
        assert_eq!(dotted(OID_RSA), "1.2.840.113549.1.1.1");
    }
}
