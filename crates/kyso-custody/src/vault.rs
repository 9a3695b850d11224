//! The software vault: private keys generated here and stored only as AES-256-GCM ciphertext
//! under the key-encryption key (KEK). The AAD binds each ciphertext to its public key, so a
//! wrapped key cannot be swapped onto another key's row.

use crate::{CustodyError, KeyAlgorithm, KeyCustody, Signer, WrappedKey};
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use kyso_keys::SoftwareKey;

pub const KEK_LEN: usize = 32;
const WRAP_VERSION: u8 = 1;
/// First byte of a sealed secret (not a key): `S`.
const SEAL_VERSION: u8 = b'S';

/// The 256-bit key-encryption key. Never printed, never logged.
pub struct Kek([u8; KEK_LEN]);

impl Kek {
    pub fn generate() -> Result<Kek, CustodyError> {
        let mut k = [0u8; KEK_LEN];
        SystemRandom::new().fill(&mut k).map_err(|_| CustodyError::Generate)?;
        Ok(Kek(k))
    }
    pub fn from_bytes(b: &[u8]) -> Result<Kek, CustodyError> {
        let arr: [u8; KEK_LEN] =
            b.try_into().map_err(|_| CustodyError::Kek(format!("must be {KEK_LEN} bytes, got {}", b.len())))?;
        Ok(Kek(arr))
    }
    /// Parse the textual form (64 hex digits) used in the KEK file and `KYSO_KEK`.
    pub fn from_hex(s: &str) -> Result<Kek, CustodyError> {
        let s = s.trim();
        if s.len() != KEK_LEN * 2 || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(CustodyError::Kek("must be 64 hexadecimal digits".into()));
        }
        let mut out = [0u8; KEK_LEN];
        for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
            let hi = (chunk[0] as char).to_digit(16).unwrap_or(0);
            let lo = (chunk[1] as char).to_digit(16).unwrap_or(0);
            out[i] = (hi * 16 + lo) as u8;
        }
        Ok(Kek(out))
    }
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
    /// A key for another purpose derived from the KEK: HMAC-SHA-256(KEK, `label`). Distinct
    /// labels give independent keys; the KEK itself stays here.
    pub fn derive(&self, label: &str) -> [u8; KEK_LEN] {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.0);
        let mut out = [0u8; KEK_LEN];
        out.copy_from_slice(aws_lc_rs::hmac::sign(&key, label.as_bytes()).as_ref());
        out
    }
}

impl Drop for Kek {
    fn drop(&mut self) {
        self.0.iter_mut().for_each(|b| *b = 0);
    }
}

/// The vault backend of [`KeyCustody`].
pub struct Vault {
    aead: LessSafeKey,
    rng: SystemRandom,
}

impl Vault {
    pub fn new(kek: &Kek) -> Vault {
        let key = UnboundKey::new(&AES_256_GCM, &kek.0).expect("AES-256 key length is fixed");
        Vault { aead: LessSafeKey::new(key), rng: SystemRandom::new() }
    }

    fn aad(algorithm: KeyAlgorithm, public_key_der: &[u8]) -> Vec<u8> {
        let mut aad = b"kyso-vault-v1|".to_vec();
        aad.extend_from_slice(algorithm.as_str().as_bytes());
        aad.push(b'|');
        aad.extend_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, public_key_der).as_ref());
        aad
    }

    /// AES-256-GCM under the KEK: `version` ‖ nonce ‖ ciphertext ‖ tag, bound to `aad`.
    fn seal_blob(&self, version: u8, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, CustodyError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| CustodyError::Generate)?;
        let mut buf = plain.to_vec();
        self.aead
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut buf)
            .map_err(|_| CustodyError::Generate)?;
        let mut blob = Vec::with_capacity(1 + NONCE_LEN + buf.len());
        blob.push(version);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&buf);
        Ok(blob)
    }

    /// What [`Self::seal_blob`] sealed with this `version` and `aad`; the working copy is zeroised.
    fn open_blob(&self, version: u8, aad: &[u8], blob: &[u8], what: &'static str) -> Result<Vec<u8>, CustodyError> {
        if blob.len() < 1 + NONCE_LEN + 16 || blob[0] != version {
            return Err(CustodyError::Malformed(what));
        }
        let nonce: [u8; NONCE_LEN] = blob[1..1 + NONCE_LEN].try_into().map_err(|_| CustodyError::Unwrap)?;
        let mut buf = blob[1 + NONCE_LEN..].to_vec();
        let plain = self
            .aead
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut buf)
            .map_err(|_| CustodyError::Unwrap)
            .map(|p| p.to_vec());
        buf.iter_mut().for_each(|b| *b = 0);
        plain
    }

    fn wrap(&self, algorithm: KeyAlgorithm, public_key_der: Vec<u8>, pkcs8: &[u8]) -> Result<WrappedKey, CustodyError> {
        let blob = self.seal_blob(WRAP_VERSION, &Self::aad(algorithm, &public_key_der), pkcs8)?;
        Ok(WrappedKey { backend: "vault", algorithm, public_key_der, blob })
    }

    fn unwrap(&self, key: &WrappedKey) -> Result<Vec<u8>, CustodyError> {
        let aad = Self::aad(key.algorithm, &key.public_key_der);
        self.open_blob(WRAP_VERSION, &aad, &key.blob, "wrapped key has the wrong length or version")
    }
}

impl Vault {
    /// Bring an existing PKCS#8 key into custody (as an HSM's key import does): from here on it
    /// exists only wrapped. Used to sign with the same key as another tool in comparisons.
    pub fn import_pkcs8(
        &self,
        algorithm: KeyAlgorithm,
        pkcs8: &[u8],
    ) -> Result<(Box<dyn Signer>, WrappedKey), CustodyError> {
        let key = SoftwareKey::from_pkcs8(algorithm, pkcs8)?;
        let wrapped = self.wrap(algorithm, key.public_key_der().to_vec(), pkcs8)?;
        Ok((Box::new(key), wrapped))
    }
}

impl KeyCustody for Vault {
    fn backend(&self) -> &'static str {
        "vault"
    }

    /// Sealed like a key (`S` ‖ nonce ‖ ciphertext ‖ tag), the context in the AAD.
    fn seal(&self, context: &[u8], secret: &[u8]) -> Result<Vec<u8>, CustodyError> {
        self.seal_blob(SEAL_VERSION, &[b"kyso-sealed-v1|".as_slice(), context].concat(), secret)
    }

    fn unseal(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CustodyError> {
        let aad = [b"kyso-sealed-v1|".as_slice(), context].concat();
        self.open_blob(SEAL_VERSION, &aad, sealed, "sealed secret has the wrong length or version")
    }

    fn generate(&self, algorithm: KeyAlgorithm) -> Result<(Box<dyn Signer>, WrappedKey), CustodyError> {
        let (signer, mut pkcs8) = SoftwareKey::generate_with_pkcs8(algorithm)?;
        let wrapped = self.wrap(algorithm, signer.public_key_der().to_vec(), &pkcs8);
        pkcs8.iter_mut().for_each(|b| *b = 0);
        Ok((Box::new(signer), wrapped?))
    }

    fn open(&self, key: &WrappedKey) -> Result<Box<dyn Signer>, CustodyError> {
        opened(key, self.unwrap(key)?)
    }
}

/// The signer for `key` from its unwrapped PKCS#8 (zeroed here), checked against the stored
/// public key.
fn opened(key: &WrappedKey, mut pkcs8: Vec<u8>) -> Result<Box<dyn Signer>, CustodyError> {
    let soft = SoftwareKey::from_pkcs8(key.algorithm, &pkcs8);
    pkcs8.iter_mut().for_each(|b| *b = 0);
    let soft = soft?;
    if soft.public_key_der() != key.public_key_der.as_slice() {
        return Err(CustodyError::Malformed("stored public key does not match the private key"));
    }
    Ok(Box::new(soft))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify;

    #[test]
    fn sealed_secrets_open_only_for_their_context_and_kek() {
        let vault = Vault::new(&Kek::generate().unwrap());
        let secret = b"12345678901234567890";
        let sealed = vault.seal(b"cred-a", secret).unwrap();
        assert_eq!(sealed.len(), 1 + NONCE_LEN + secret.len() + 16);
        assert!(!sealed.windows(secret.len()).any(|w| w == secret), "the secret in clear");
        assert_eq!(vault.unseal(b"cred-a", &sealed).unwrap(), secret);
        assert_ne!(vault.seal(b"cred-a", secret).unwrap(), sealed, "a fresh nonce each time");
        assert!(matches!(vault.unseal(b"cred-b", &sealed), Err(CustodyError::Unwrap)), "another credential's");
        let other = Vault::new(&Kek::generate().unwrap());
        assert!(matches!(other.unseal(b"cred-a", &sealed), Err(CustodyError::Unwrap)), "another KEK");
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(vault.unseal(b"cred-a", &flipped).is_err());
        assert!(matches!(vault.unseal(b"cred-a", secret), Err(CustodyError::Malformed(_))), "not sealed");
    }

    #[test]
    fn wrap_roundtrip_and_tamper_detection() {
        let vault = Vault::new(&Kek::generate().unwrap());
        for alg in [KeyAlgorithm::EcP256, KeyAlgorithm::Rsa2048] {
            let (signer, wrapped) = vault.generate(alg).unwrap();
            let sig = signer.sign(alg.default_scheme(), b"hello").unwrap();
            assert!(verify(signer.public_key_der(), alg.default_scheme(), b"hello", &sig));
            assert!(!verify(signer.public_key_der(), alg.default_scheme(), b"hellO", &sig));
            let reopened = vault.open(&wrapped).unwrap();
            assert_eq!(reopened.public_key_der(), signer.public_key_der());
            // the private key is not in the blob in clear: flip a byte and it no longer opens
            let mut bad = wrapped.clone();
            let n = bad.blob.len() - 1;
            bad.blob[n] ^= 1;
            assert!(matches!(vault.open(&bad), Err(CustodyError::Unwrap)));
            // a different KEK cannot open it
            let other = Vault::new(&Kek::generate().unwrap());
            assert!(matches!(other.open(&wrapped), Err(CustodyError::Unwrap)));
        }
    }

    #[test]
    fn wrapped_key_cannot_be_moved_to_another_public_key() {
        let vault = Vault::new(&Kek::generate().unwrap());
        let (_, a) = vault.generate(KeyAlgorithm::EcP256).unwrap();
        let (_, b) = vault.generate(KeyAlgorithm::EcP256).unwrap();
        let swapped = WrappedKey { blob: a.blob.clone(), ..b };
        assert!(vault.open(&swapped).is_err());
    }

    #[test]
    fn kek_hex_roundtrip_and_errors() {
        let k = Kek::generate().unwrap();
        assert_eq!(Kek::from_hex(&k.to_hex()).unwrap().to_hex(), k.to_hex());
        assert!(Kek::from_hex("abc").is_err());
        assert!(Kek::from_hex(&"zz".repeat(32)).is_err());
    }
}

/// Argon2id parameters for PIN-derived keys (OWASP's second recommended setting: 19 MiB, t=2,
/// p=1). Recorded in every blob so they can be raised later without breaking old keys.
pub const PIN_KDF_M_KIB: u32 = 19_456;
pub const PIN_KDF_T: u32 = 2;
pub const PIN_KDF_P: u32 = 1;
const PIN_WRAP_VERSION: u8 = 2;

fn pin_key(pin: &crate::Pin, salt: &[u8], m: u32, t: u32, p: u32) -> Result<[u8; 32], CustodyError> {
    let params =
        argon2::Params::new(m, t, p, Some(32)).map_err(|_| CustodyError::Malformed("bad Argon2 parameters"))?;
    let blocks = params.block_count();
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = [0u8; 32];
    // Reuse this thread's 19 MiB work area: a fresh allocation each time costs more in kernel page
    // zeroing than the hash itself. (Argon2 overwrites every block it reads, so reuse is safe.)
    thread_local!(static WORK: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) });
    WORK.with(|w| {
        let mut w = w.borrow_mut();
        if w.len() < blocks {
            w.resize(blocks, argon2::Block::default());
        }
        a.hash_password_into_with_memory(pin.as_bytes(), salt, &mut out, &mut w[..blocks])
    })
    .map_err(|_| CustodyError::Malformed("Argon2 failed"))?;
    Ok(out)
}

impl Vault {
    /// Inner layer: [v=2][salt 16][m][t][p][nonce 12][AES-256-GCM_{Argon2id(PIN)}(PKCS#8)].
    fn pin_seal(&self, pkcs8: &[u8], pin: &crate::Pin, aad: &[u8]) -> Result<Vec<u8>, CustodyError> {
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut salt).map_err(|_| CustodyError::Generate)?;
        self.rng.fill(&mut nonce).map_err(|_| CustodyError::Generate)?;
        let mut k = pin_key(pin, &salt, PIN_KDF_M_KIB, PIN_KDF_T, PIN_KDF_P)?;
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &k).map_err(|_| CustodyError::Generate)?);
        k.iter_mut().for_each(|b| *b = 0);
        let mut buf = pkcs8.to_vec();
        key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut buf)
            .map_err(|_| CustodyError::Generate)?;
        let mut out = vec![PIN_WRAP_VERSION];
        out.extend_from_slice(&salt);
        for v in [PIN_KDF_M_KIB, PIN_KDF_T, PIN_KDF_P] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        Ok(out)
    }

    fn pin_open(&self, inner: &[u8], pin: &crate::Pin, aad: &[u8]) -> Result<Vec<u8>, CustodyError> {
        let head = 1 + 16 + 12 + NONCE_LEN;
        if inner.len() < head + 16 || inner[0] != PIN_WRAP_VERSION {
            return Err(CustodyError::Malformed("not a PIN-protected key"));
        }
        let u32_at = |i: usize| u32::from_be_bytes([inner[i], inner[i + 1], inner[i + 2], inner[i + 3]]);
        let (m, t, p) = (u32_at(17), u32_at(21), u32_at(25));
        let mut k = pin_key(pin, &inner[1..17], m, t, p)?;
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &k).map_err(|_| CustodyError::Unwrap)?);
        k.iter_mut().for_each(|b| *b = 0);
        let nonce: [u8; NONCE_LEN] = inner[29..29 + NONCE_LEN].try_into().map_err(|_| CustodyError::Unwrap)?;
        let mut buf = inner[head..].to_vec();
        let plain = key
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut buf)
            .map_err(|_| CustodyError::WrongPin)?
            .to_vec();
        buf.iter_mut().for_each(|b| *b = 0);
        Ok(plain)
    }

    fn protected(
        &self,
        algorithm: KeyAlgorithm,
        spki: Vec<u8>,
        pkcs8: &[u8],
        pin: &crate::Pin,
    ) -> Result<WrappedKey, CustodyError> {
        let aad = Self::aad(algorithm, &spki);
        let inner = self.pin_seal(pkcs8, pin, &aad)?;
        let mut w = self.wrap(algorithm, spki, &inner)?;
        w.backend = "vault-pin";
        Ok(w)
    }

    fn unprotect(&self, key: &WrappedKey, pin: &crate::Pin) -> Result<Vec<u8>, CustodyError> {
        if key.backend != "vault-pin" {
            return Err(CustodyError::Malformed("not a PIN-protected vault key"));
        }
        let mut inner = self.unwrap(key)?;
        let r = self.pin_open(&inner, pin, &Self::aad(key.algorithm, &key.public_key_der));
        inner.iter_mut().for_each(|b| *b = 0);
        r
    }
}

impl crate::PinCustody for Vault {
    fn backend(&self) -> &'static str {
        "vault-pin"
    }

    fn generate_protected(&self, algorithm: KeyAlgorithm, pin: &crate::Pin) -> Result<WrappedKey, CustodyError> {
        let (signer, mut pkcs8) = SoftwareKey::generate_with_pkcs8(algorithm)?;
        let w = self.protected(algorithm, signer.public_key_der().to_vec(), &pkcs8, pin);
        pkcs8.iter_mut().for_each(|b| *b = 0);
        w
    }

    fn unlock(&self, key: &WrappedKey, pin: &crate::Pin) -> Result<Box<dyn Signer>, CustodyError> {
        opened(key, self.unprotect(key, pin)?)
    }

    fn change_pin(&self, key: &WrappedKey, old: &crate::Pin, new: &crate::Pin) -> Result<WrappedKey, CustodyError> {
        let mut pkcs8 = self.unprotect(key, old)?;
        let w = self.protected(key.algorithm, key.public_key_der.clone(), &pkcs8, new);
        pkcs8.iter_mut().for_each(|b| *b = 0);
        w
    }
}

#[cfg(test)]
mod pin_tests {
    use super::*;
    use crate::{KeyCustody, Pin, PinCustody, SignatureScheme};

    #[test]
    fn kek_alone_cannot_use_a_pin_protected_key() {
        let vault = Vault::new(&Kek::generate().unwrap());
        let pin = Pin::parse("482913").unwrap();
        let w = vault.generate_protected(KeyAlgorithm::EcP256, &pin).unwrap();
        // database row + KEK, no PIN: the KeyCustody path refuses, and the KEK layer only yields
        // the PIN-encrypted inner blob, which is not a private key
        assert!(KeyCustody::open(&vault, &WrappedKey { backend: "vault", ..w.clone() }).is_err());
        let inner = vault.unwrap(&w).unwrap();
        assert_eq!(inner[0], PIN_WRAP_VERSION);
        assert!(aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &inner
        )
        .is_err());
        assert!(matches!(vault.unlock(&w, &Pin::parse("482914").unwrap()), Err(CustodyError::WrongPin)));
        let s = vault.unlock(&w, &pin).unwrap();
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"dossier");
        let sig = s.sign_digest(SignatureScheme::EcdsaP256Sha256, d.as_ref()).unwrap();
        assert!(crate::verify(&w.public_key_der, SignatureScheme::EcdsaP256Sha256, b"dossier", &sig));
    }

    #[test]
    fn change_pin_keeps_the_key_and_retires_the_old_pin() {
        let vault = Vault::new(&Kek::generate().unwrap());
        let (old, new) = (Pin::parse("111111").unwrap(), Pin::parse("222222").unwrap());
        let w = vault.generate_protected(KeyAlgorithm::EcP256, &old).unwrap();
        let w2 = vault.change_pin(&w, &old, &new).unwrap();
        assert_eq!(w.public_key_der, w2.public_key_der);
        assert!(matches!(vault.unlock(&w2, &old), Err(CustodyError::WrongPin)));
        assert!(vault.unlock(&w2, &new).is_ok());
        assert!(Pin::parse("12345").is_err() && Pin::parse("12345a").is_err());
        assert_eq!(format!("{:?}", new), "Pin(******)");
    }
}
