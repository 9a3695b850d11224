//! Key custody: the one interface every signing key sits behind, and its first backend,
//! the software vault that keeps private keys encrypted at rest (AES-256-GCM under a KEK).
//!
//! Architecture invariant: a private key never leaves this crate unencrypted. Callers get a
//! [`Signer`] (sign a message) and a [`WrappedKey`] (opaque ciphertext to persist), nothing else.

mod pkcs11;
mod vault;

pub use pkcs11::Pkcs11Custody;
pub use vault::{Kek, Vault, KEK_LEN};

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
    type Err = CustodyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "ec-p256" | "p256" | "ecdsa-p256" | "ec" => Ok(KeyAlgorithm::EcP256),
            "rsa-2048" | "rsa2048" => Ok(KeyAlgorithm::Rsa2048),
            "rsa-3072" | "rsa3072" => Ok(KeyAlgorithm::Rsa3072),
            other => Err(CustodyError::UnknownAlgorithm(other.to_string())),
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

#[derive(Debug, thiserror::Error)]
pub enum CustodyError {
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
    fn sign(&self, scheme: SignatureScheme, message: &[u8]) -> Result<Vec<u8>, CustodyError>;
    /// Sign a SHA-256 digest computed elsewhere (remote signing: the client hashes the document,
    /// only the 32-byte hash travels). Same schemes as [`Signer::sign`].
    fn sign_digest(&self, scheme: SignatureScheme, sha256: &[u8]) -> Result<Vec<u8>, CustodyError>;
}

/// What a custody backend hands back to be persisted: enough to find and use the key again.
/// For the vault it is the AES-GCM ciphertext of the PKCS#8 key; for a PKCS#11 token it is
/// the object's identifier. Either way it is useless without the backend's secret.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub backend: &'static str,
    pub algorithm: KeyAlgorithm,
    pub public_key_der: Vec<u8>,
    pub blob: Vec<u8>,
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedKey")
            .field("backend", &self.backend)
            .field("algorithm", &self.algorithm)
            .field("blob_len", &self.blob.len())
            .finish()
    }
}

/// The key-custody interface. The vault implements it now; a PKCS#11 backend plugs in beside.
pub trait KeyCustody: Send + Sync {
    fn backend(&self) -> &'static str;
    /// Generate a key inside custody; return the signer and the form to persist.
    fn generate(&self, algorithm: KeyAlgorithm) -> Result<(Box<dyn Signer>, WrappedKey), CustodyError>;
    /// Re-open a persisted key.
    fn open(&self, key: &WrappedKey) -> Result<Box<dyn Signer>, CustodyError>;
    /// Seal a small secret for storage (a credential's TOTP seed), bound to `context` (what it
    /// belongs to): only this custody opens it, and only for the same context.
    fn seal(&self, _context: &[u8], _secret: &[u8]) -> Result<Vec<u8>, CustodyError> {
        Err(CustodyError::Token(format!("{} custody does not seal secrets", self.backend())))
    }
    /// Open what [`KeyCustody::seal`] sealed for `context`.
    fn unseal(&self, _context: &[u8], _sealed: &[u8]) -> Result<Vec<u8>, CustodyError> {
        Err(CustodyError::Token(format!("{} custody does not seal secrets", self.backend())))
    }
}

/// Custody of citizen keys under the citizen's sole control: every use needs the citizen's PIN.
/// The vault wraps the key a second time under a key derived from the PIN (Argon2id), so the
/// database plus the KEK are not enough to sign; a PKCS#11 backend keeps the key as a
/// non-extractable token object and checks an Argon2id hash of the PIN before each unlock.
pub trait PinCustody: Send + Sync {
    fn backend(&self) -> &'static str;
    /// Generate a key that only `pin` unlocks.
    fn generate_protected(&self, algorithm: KeyAlgorithm, pin: &Pin) -> Result<WrappedKey, CustodyError>;
    /// Unlock for signing; `Err(WrongPin)` when the PIN is wrong.
    fn unlock(&self, key: &WrappedKey, pin: &Pin) -> Result<Box<dyn Signer>, CustodyError>;
    /// Change the PIN: the same key, protected by the new PIN.
    fn change_pin(&self, key: &WrappedKey, old: &Pin, new: &Pin) -> Result<WrappedKey, CustodyError>;
}

/// A citizen's 6-digit PIN. Never printed; every copy is zeroed on drop.
#[derive(Clone)]
pub struct Pin([u8; 6]);

impl Pin {
    pub fn parse(s: &str) -> Result<Pin, CustodyError> {
        let b = s.as_bytes();
        if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
            return Err(CustodyError::PinFormat);
        }
        let mut p = [0u8; 6];
        p.copy_from_slice(b);
        Ok(Pin(p))
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        self.0.iter_mut().for_each(|b| *b = 0);
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(******)")
    }
}

/// Verify a signature with a DER SubjectPublicKeyInfo. Used by lint and by tests.
pub fn verify(spki_der: &[u8], scheme: SignatureScheme, message: &[u8], signature: &[u8]) -> bool {
    use aws_lc_rs::signature as sig;
    let Some(raw) = vault::spki_subject_public_key(spki_der) else {
        return false;
    };
    let alg: &dyn sig::VerificationAlgorithm = match scheme {
        SignatureScheme::EcdsaP256Sha256 => &sig::ECDSA_P256_SHA256_ASN1,
        SignatureScheme::RsaPssSha256 => &sig::RSA_PSS_2048_8192_SHA256,
        SignatureScheme::RsaPkcs1Sha256 => &sig::RSA_PKCS1_2048_8192_SHA256,
    };
    sig::UnparsedPublicKey::new(alg, raw).verify(message, signature).is_ok()
}
