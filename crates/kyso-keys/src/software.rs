//! [`SoftwareKey`]: a signing key in memory on aws-lc, with the P-256 encodings aws-lc marshals
//! written out by hand (cheaper than asking aws-lc to marshal them).

use crate::{KeyAlgorithm, KeyError, SignatureScheme, Signer};
use aws_lc_rs::encoding::{AsBigEndian, AsDer};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self as sig, KeyPair};

/// DER of a P-256 SubjectPublicKeyInfo up to the point: SEQUENCE { SEQUENCE { id-ecPublicKey,
/// prime256v1 }, BIT STRING (66 octets: no unused bits, then the 65-octet uncompressed point) }.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// PKCS#8 v1 (RFC 5208) around an RFC 5915 ECPrivateKey without parameters, with the public key:
/// the form aws-lc marshals. The 32-octet scalar follows this prefix; then [`P256_PKCS8_MIDDLE`]
/// and the 65-octet point.
const P256_PKCS8_PREFIX: [u8; 36] = [
    0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
    0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x6d, 0x30, 0x6b, 0x02, 0x01, 0x01, 0x04, 0x20,
];
const P256_PKCS8_MIDDLE: [u8; 5] = [0xa1, 0x44, 0x03, 0x42, 0x00];

fn p256_point(point: &[u8]) -> Result<&[u8], KeyError> {
    match point {
        [0x04, ..] if point.len() == 65 => Ok(point),
        _ => Err(KeyError::Malformed("a P-256 public key is a 65-octet uncompressed point")),
    }
}

fn p256_spki(point: &[u8]) -> Result<Vec<u8>, KeyError> {
    let point = p256_point(point)?;
    let mut v = Vec::with_capacity(P256_SPKI_PREFIX.len() + 65);
    v.extend_from_slice(&P256_SPKI_PREFIX);
    v.extend_from_slice(point);
    Ok(v)
}

fn p256_pkcs8(scalar: &[u8], point: &[u8]) -> Result<Vec<u8>, KeyError> {
    let point = p256_point(point)?;
    if scalar.len() != 32 {
        return Err(KeyError::Malformed("a P-256 private key is a 32-octet scalar"));
    }
    let mut v = Vec::with_capacity(138);
    v.extend_from_slice(&P256_PKCS8_PREFIX);
    v.extend_from_slice(scalar);
    v.extend_from_slice(&P256_PKCS8_MIDDLE);
    v.extend_from_slice(point);
    Ok(v)
}

enum Inner {
    Ec(sig::EcdsaKeyPair),
    Rsa(aws_lc_rs::rsa::KeyPair),
}

/// A key pair held in memory, signing with aws-lc. The vault opens its keys into one; tests and
/// tools that need a throw-away key generate one directly. The private key is never exported
/// except as the PKCS#8 that [`SoftwareKey::generate_with_pkcs8`] hands to the vault to wrap.
pub struct SoftwareKey {
    algorithm: KeyAlgorithm,
    inner: Inner,
    spki: Vec<u8>,
    rng: SystemRandom,
}

impl SoftwareKey {
    /// A fresh key of `algorithm`, living only in this value.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<SoftwareKey, KeyError> {
        let (key, mut pkcs8) = SoftwareKey::generate_with_pkcs8(algorithm)?;
        pkcs8.iter_mut().for_each(|b| *b = 0);
        Ok(key)
    }

    /// A fresh key and its PKCS#8 encoding, for custody to wrap; the caller zeroes the PKCS#8.
    pub fn generate_with_pkcs8(algorithm: KeyAlgorithm) -> Result<(SoftwareKey, Vec<u8>), KeyError> {
        let (inner, pkcs8) = match algorithm {
            KeyAlgorithm::EcP256 => {
                let kp = sig::EcdsaKeyPair::generate(&sig::ECDSA_P256_SHA256_ASN1_SIGNING)
                    .map_err(|_| KeyError::Generate)?;
                // PKCS#8 from the scalar and the point the key pair already holds: asking aws-lc
                // to marshal it converts the point to affine coordinates again (a field inversion).
                let scalar = kp.private_key().as_be_bytes().map_err(|_| KeyError::Generate)?;
                let pkcs8 = p256_pkcs8(scalar.as_ref(), kp.public_key().as_ref())?;
                (Inner::Ec(kp), pkcs8)
            }
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => {
                let size = if algorithm == KeyAlgorithm::Rsa2048 { KeySize::Rsa2048 } else { KeySize::Rsa3072 };
                let kp = aws_lc_rs::rsa::KeyPair::generate(size).map_err(|_| KeyError::Generate)?;
                let der = kp.as_der().map_err(|_| KeyError::Generate)?;
                (Inner::Rsa(kp), der.as_ref().to_vec())
            }
        };
        let key = SoftwareKey::new(algorithm, inner)?;
        Ok((key, pkcs8))
    }

    /// Open a PKCS#8 key of `algorithm`.
    pub fn from_pkcs8(algorithm: KeyAlgorithm, pkcs8: &[u8]) -> Result<SoftwareKey, KeyError> {
        let inner = match algorithm {
            KeyAlgorithm::EcP256 => Inner::Ec(
                sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8)
                    .map_err(|_| KeyError::Malformed("not a P-256 PKCS#8 key"))?,
            ),
            _ => Inner::Rsa(
                aws_lc_rs::rsa::KeyPair::from_pkcs8(pkcs8).map_err(|_| KeyError::Malformed("not an RSA PKCS#8 key"))?,
            ),
        };
        SoftwareKey::new(algorithm, inner)
    }

    fn new(algorithm: KeyAlgorithm, inner: Inner) -> Result<SoftwareKey, KeyError> {
        let spki = match &inner {
            Inner::Ec(kp) => p256_spki(kp.public_key().as_ref())?,
            Inner::Rsa(kp) => kp.public_key().as_der().map_err(|_| KeyError::Generate)?.as_ref().to_vec(),
        };
        Ok(SoftwareKey { algorithm, inner, spki, rng: SystemRandom::new() })
    }
}

impl Signer for SoftwareKey {
    fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }
    fn public_key_der(&self) -> &[u8] {
        &self.spki
    }
    fn sign(&self, scheme: SignatureScheme, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match (&self.inner, scheme) {
            (Inner::Ec(kp), SignatureScheme::EcdsaP256Sha256) => {
                Ok(kp.sign(&self.rng, message).map_err(|_| KeyError::Sign)?.as_ref().to_vec())
            }
            (Inner::Rsa(kp), SignatureScheme::RsaPssSha256 | SignatureScheme::RsaPkcs1Sha256) => {
                let pad: &'static dyn sig::RsaEncoding =
                    if scheme == SignatureScheme::RsaPssSha256 { &sig::RSA_PSS_SHA256 } else { &sig::RSA_PKCS1_SHA256 };
                let mut out = vec![0u8; kp.public_modulus_len()];
                kp.sign(pad, &self.rng, message, &mut out).map_err(|_| KeyError::Sign)?;
                Ok(out)
            }
            _ => Err(KeyError::SchemeMismatch { scheme, key: self.algorithm }),
        }
    }
    fn sign_digest(&self, scheme: SignatureScheme, sha256: &[u8]) -> Result<Vec<u8>, KeyError> {
        let digest = aws_lc_rs::digest::Digest::import_less_safe(sha256, &aws_lc_rs::digest::SHA256)
            .map_err(|_| KeyError::Malformed("a SHA-256 digest is 32 bytes"))?;
        match (&self.inner, scheme) {
            (Inner::Ec(kp), SignatureScheme::EcdsaP256Sha256) => {
                Ok(kp.sign_digest(&digest).map_err(|_| KeyError::Sign)?.as_ref().to_vec())
            }
            (Inner::Rsa(kp), SignatureScheme::RsaPssSha256 | SignatureScheme::RsaPkcs1Sha256) => {
                let pad: &'static dyn sig::RsaEncoding =
                    if scheme == SignatureScheme::RsaPssSha256 { &sig::RSA_PSS_SHA256 } else { &sig::RSA_PKCS1_SHA256 };
                let mut out = vec![0u8; kp.public_modulus_len()];
                kp.sign_digest(pad, &digest, &mut out).map_err(|_| KeyError::Sign)?;
                Ok(out)
            }
            _ => Err(KeyError::SchemeMismatch { scheme, key: self.algorithm }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify;

    #[test]
    fn p256_encodings_are_the_ones_aws_lc_marshals() {
        for _ in 0..20 {
            let kp = sig::EcdsaKeyPair::generate(&sig::ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
            let scalar = kp.private_key().as_be_bytes().unwrap();
            let ours = p256_pkcs8(scalar.as_ref(), kp.public_key().as_ref()).unwrap();
            assert_eq!(ours, kp.to_pkcs8v1().unwrap().as_ref());
            let spki = p256_spki(kp.public_key().as_ref()).unwrap();
            assert_eq!(spki, kp.public_key().as_der().unwrap().as_ref());
            // and the PKCS#8 opens to the same key
            let back = SoftwareKey::from_pkcs8(KeyAlgorithm::EcP256, &ours).unwrap();
            assert_eq!(back.public_key_der(), spki.as_slice());
        }
        assert!(p256_spki(&[4; 64]).is_err());
        assert!(p256_pkcs8(&[1; 31], &[4; 65]).is_err());
    }

    #[test]
    fn rsa_pkcs1_and_pss_both_available() {
        let s = SoftwareKey::generate(KeyAlgorithm::Rsa2048).unwrap();
        for scheme in [SignatureScheme::RsaPssSha256, SignatureScheme::RsaPkcs1Sha256] {
            let sig = s.sign(scheme, b"m").unwrap();
            assert!(verify(s.public_key_der(), scheme, b"m", &sig));
        }
        assert!(s.sign(SignatureScheme::EcdsaP256Sha256, b"m").is_err());
    }
}
