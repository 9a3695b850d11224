//! The signing-key interfaces every crate that signs or verifies shares: key algorithms,
//! signature schemes, the [`Signer`] trait, [`verify`], and [`SoftwareKey`], an in-memory key.
//!
//! Architecture invariant: no IO and no HSM driver. Where a key lives (the encrypted vault, a
//! PKCS#11 token) is `kyso-custody`'s business; the PKI, signing and validation cores see only
//! `&dyn Signer` and public keys.

mod rsa_public;
mod software;
mod verify;

pub use software::SoftwareKey;
pub use verify::{public_key_kind, verify_with, HashAlg, PublicKeyKind, VerifyError, VerifyScheme, MIN_RSA_BITS};

use std::fmt;

/// Key types kyso can generate. ECDSA P-256 is the default everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum KeyAlgorithm {
    #[serde(rename = "ec-p256")]
    EcP256,
    #[serde(rename = "rsa-2048", alias = "rsa2048")]
    Rsa2048,
    #[serde(rename = "rsa-3072", alias = "rsa3072")]
    Rsa3072,
}

impl KeyAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::EcP256 => "ec-p256",
            KeyAlgorithm::Rsa2048 => "rsa-2048",
            KeyAlgorithm::Rsa3072 => "rsa-3072",
        }
    }
    pub fn is_rsa(self) -> bool {
        !matches!(self, KeyAlgorithm::EcP256)
    }
    /// Can a key of this type produce signatures of this scheme? (RSA keys: PKCS#1 v1.5 and PSS.)
    pub fn produces(self, scheme: SignatureScheme) -> bool {
        self.is_rsa() == !matches!(scheme, SignatureScheme::EcdsaP256Sha256)
    }
    /// The signature scheme kyso uses by default with this key: ECDSA-SHA256, or RSASSA-PSS
    /// with SHA-256 (Circular 15/2025 asks for PSS on new RSA keys).
    pub fn default_scheme(self) -> SignatureScheme {
        if self.is_rsa() {
            SignatureScheme::RsaPssSha256
        } else {
            SignatureScheme::EcdsaP256Sha256
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for KeyAlgorithm {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "ec-p256" | "p256" | "ecdsa-p256" | "ec" => Ok(KeyAlgorithm::EcP256),
            "rsa-2048" | "rsa2048" => Ok(KeyAlgorithm::Rsa2048),
            "rsa-3072" | "rsa3072" => Ok(KeyAlgorithm::Rsa3072),
            other => Err(KeyError::UnknownAlgorithm(other.to_string())),
        }
    }
}

/// How a signature is computed over a message (the message is hashed inside).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureScheme {
    EcdsaP256Sha256,
    RsaPssSha256,
    RsaPkcs1Sha256,
}

/// Errors from keys: generating, opening and using them. The custody backends (the vault, PKCS#11)
/// report through the same type, re-exported as `kyso_custody::CustodyError`.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("unknown key algorithm `{0}`: use ec-p256, rsa-2048 or rsa-3072")]
    UnknownAlgorithm(String),
    #[error("signature scheme {scheme:?} cannot be used with a {key} key")]
    SchemeMismatch { scheme: SignatureScheme, key: KeyAlgorithm },
    #[error("key generation failed")]
    Generate,
    #[error("signing failed")]
    Sign,
    #[error("the key-encryption key does not open this key (wrong KEK, or the stored key was altered)")]
    Unwrap,
    #[error("stored key is malformed: {0}")]
    Malformed(&'static str),
    #[error("key-encryption key: {0}")]
    Kek(String),
    /// The PIN does not open this key. Callers count these (lockout after 5).
    #[error("wrong PIN")]
    WrongPin,
    #[error("PIN must be exactly 6 digits")]
    PinFormat,
    #[error("key token: {0}")]
    Token(String),
}

/// A usable signing key. The private half stays inside the implementation.
pub trait Signer: Send + Sync {
    fn algorithm(&self) -> KeyAlgorithm;
    /// DER SubjectPublicKeyInfo of the public key.
    fn public_key_der(&self) -> &[u8];
    fn sign(&self, scheme: SignatureScheme, message: &[u8]) -> Result<Vec<u8>, KeyError>;
    /// Sign a SHA-256 digest computed elsewhere (remote signing: the client hashes the document,
    /// only the 32-byte hash travels). Same schemes as [`Signer::sign`].
    fn sign_digest(&self, scheme: SignatureScheme, sha256: &[u8]) -> Result<Vec<u8>, KeyError>;
}

/// Verify a signature of one of kyso's own schemes with a DER SubjectPublicKeyInfo. Used by lint,
/// by the signing paths' self-checks and by tests; validation of others' signatures goes through
/// [`verify_with`], which names what it cannot verify.
pub fn verify(spki_der: &[u8], scheme: SignatureScheme, message: &[u8], signature: &[u8]) -> bool {
    verify_with(spki_der, scheme.into(), message, signature).is_ok()
}

impl From<SignatureScheme> for VerifyScheme {
    fn from(s: SignatureScheme) -> VerifyScheme {
        match s {
            SignatureScheme::EcdsaP256Sha256 => VerifyScheme::Ecdsa(HashAlg::Sha256),
            SignatureScheme::RsaPkcs1Sha256 => VerifyScheme::RsaPkcs1(HashAlg::Sha256),
            SignatureScheme::RsaPssSha256 => {
                VerifyScheme::RsaPss { hash: HashAlg::Sha256, mgf1: HashAlg::Sha256, salt_len: 32 }
            }
        }
    }
}

/// One DER header: tag, header length, content length.
pub(crate) fn der_header(b: &[u8]) -> Option<(u8, usize, usize)> {
    let tag = *b.first()?;
    let l0 = *b.get(1)? as usize;
    if l0 < 0x80 {
        return Some((tag, 2, l0));
    }
    let n = l0 & 0x7f;
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for i in 0..n {
        len = (len << 8) | *b.get(2 + i)? as usize;
    }
    Some((tag, 2 + n, len))
}

/// The AlgorithmIdentifier contents and the subjectPublicKey BIT STRING contents of a DER
/// SubjectPublicKeyInfo (a tiny DER walk, so this crate needs no ASN.1 library).
pub(crate) fn spki_parts(spki: &[u8]) -> Option<(&[u8], &[u8])> {
    let (t, h, l) = der_header(spki)?;
    if t != 0x30 {
        return None;
    }
    let body = spki.get(h..h.checked_add(l)?)?;
    let (t1, h1, l1) = der_header(body)?;
    if t1 != 0x30 {
        return None;
    }
    let alg = body.get(h1..h1.checked_add(l1)?)?;
    let rest = body.get(h1 + l1..)?;
    let (t2, h2, l2) = der_header(rest)?;
    if t2 != 0x03 {
        return None;
    }
    let bits = rest.get(h2..h2.checked_add(l2)?)?;
    if bits.first()? != &0 {
        return None;
    }
    Some((alg, &bits[1..]))
}
