//! Key custody: where signing keys live — the software vault that keeps private keys encrypted at
//! rest (AES-256-GCM under a KEK) and PKCS#11 tokens — behind [`KeyCustody`] and [`PinCustody`].
//! The [`Signer`] interface they hand out is kyso-keys'.
//!
//! Architecture invariant: a private key held in custody never leaves this crate unencrypted.
//! Callers get a [`Signer`] (sign a message) and a [`WrappedKey`] (opaque ciphertext to persist),
//! nothing else.

mod pkcs11;
mod vault;

pub use pkcs11::Pkcs11Custody;
pub use vault::{Kek, Vault, KEK_LEN};

// The key interfaces live in kyso-keys (no HSM driver); custody implements them. Re-exported so
// that `kyso_custody::{Signer, KeyAlgorithm, …}` keeps naming the same items.
pub use kyso_keys::{verify, KeyAlgorithm, KeyError as CustodyError, SignatureScheme, Signer};

use std::fmt;

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
