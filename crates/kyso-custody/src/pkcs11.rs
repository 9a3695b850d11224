//! The PKCS#11 backend: keys are generated on a token (HSM) as sensitive, non-extractable
//! objects and every signature is computed by the token. The persisted [`WrappedKey`] only
//! names the token object (its CKA_ID), plus an Argon2id hash of the citizen's PIN.
//!
//! On a real QSCD the citizen's activation data would be checked inside the HSM boundary
//! (per-key authentication); with SoftHSM the citizen PIN is checked by kyso, against the
//! Argon2id hash in the blob, before the token key is used.

use crate::{CustodyError, KeyAlgorithm, KeyCustody, Pin, PinCustody, SignatureScheme, Signer, WrappedKey};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use cryptoki::context::{CInitializeArgs, Pkcs11};
use cryptoki::error::{Error as P11Error, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use std::collections::HashMap;
use std::os::raw::c_ulong;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

const BACKEND: &str = "pkcs11";
const BLOB_VERSION: u8 = 1;
const ID_LEN: usize = 16;
/// Sessions kept open for reuse; more may be opened under load, the surplus is closed.
const POOL_MAX: usize = 8;

/// DER of the OID prime256v1 (1.2.840.10045.3.1.7), the CKA_EC_PARAMS of a P-256 key.
const P256_PARAMS: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// DER of the OID id-ecPublicKey (1.2.840.10045.2.1).
const EC_PUBLIC_KEY_OID: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// DER of the OID rsaEncryption (1.2.840.113549.1.1.1).
const RSA_ENCRYPTION_OID: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// DER DigestInfo prefix for SHA-256 (RFC 8017 §9.2, note 1).
const SHA256_DIGEST_INFO: &[u8] =
    &[0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20];

/// One initialised context per module for the whole process: C_Initialize may only be called
/// once, and dropping a cryptoki context calls C_Finalize, which would close every session of
/// every other user of the module. Contexts are therefore shared and never finalised.
fn context(module: &Path) -> Result<Pkcs11, CustodyError> {
    static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let key = module.canonicalize().unwrap_or_else(|_| module.to_path_buf());
    let mut map = CONTEXTS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(ctx) = map.get(&key) {
        return Ok(ctx.clone());
    }
    let ctx = Pkcs11::new(&key)
        .map_err(|e| CustodyError::Token(format!("cannot load PKCS#11 module {}: {e}", key.display())))?;
    match ctx.initialize(CInitializeArgs::OsThreads) {
        Ok(()) | Err(P11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(CustodyError::Token(format!("C_Initialize: {e}"))),
    }
    map.insert(key, ctx.clone());
    Ok(ctx)
}

fn token_err(what: &str) -> impl Fn(P11Error) -> CustodyError + '_ {
    move |e| CustodyError::Token(format!("{what}: {e}"))
}

/// The token, its user PIN and a pool of logged-in read-write sessions.
struct Token {
    ctx: Pkcs11,
    slot: Slot,
    user_pin: AuthPin,
    pool: Mutex<Vec<Session>>,
}

impl Token {
    fn login(&self, session: &Session) -> cryptoki::error::Result<()> {
        match session.login(UserType::User, Some(&self.user_pin)) {
            Ok(()) | Err(P11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn checkout(&self) -> Result<Session, CustodyError> {
        if let Some(s) = self.pool.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Ok(s);
        }
        let session = self.ctx.open_rw_session(self.slot).map_err(token_err("C_OpenSession"))?;
        self.login(&session).map_err(token_err("C_Login"))?;
        Ok(session)
    }

    fn checkin(&self, session: Session) {
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < POOL_MAX {
            pool.push(session);
        }
    }

    /// Run `f` on a pooled session. When the token reports the user logged out, log in again
    /// and retry once; when the session itself is gone, drop it and retry once on a fresh one.
    fn run<T>(&self, what: &str, f: impl Fn(&Session) -> cryptoki::error::Result<T>) -> Result<T, CustodyError> {
        let mut retried = false;
        loop {
            let session = self.checkout()?;
            let mut result = f(&session);
            if matches!(result, Err(P11Error::Pkcs11(RvError::UserNotLoggedIn, _))) {
                result = self.login(&session).and_then(|()| f(&session));
            }
            match result {
                Err(e @ P11Error::Pkcs11(RvError::SessionHandleInvalid | RvError::SessionClosed, _)) => {
                    drop(session);
                    if retried {
                        return Err(token_err(what)(e));
                    }
                    retried = true;
                }
                other => {
                    self.checkin(session);
                    return other.map_err(token_err(what));
                }
            }
        }
    }
}

/// The PKCS#11 backend of [`KeyCustody`] (CA keys) and [`PinCustody`] (citizen keys).
#[derive(Clone)]
pub struct Pkcs11Custody {
    token: Arc<Token>,
    rng: SystemRandom,
}

impl std::fmt::Debug for Pkcs11Custody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Custody").field("slot", &self.token.slot).finish_non_exhaustive()
    }
}

impl Pkcs11Custody {
    /// Load the PKCS#11 module, find the token labelled `token_label` and log in as user.
    pub fn open(module_path: &Path, token_label: &str, user_pin: &str) -> Result<Self, CustodyError> {
        let ctx = context(module_path)?;
        let slots = ctx.get_slots_with_token().map_err(token_err("C_GetSlotList"))?;
        let mut found = None;
        for slot in slots {
            let info = ctx.get_token_info(slot).map_err(token_err("C_GetTokenInfo"))?;
            if info.label().trim_end() == token_label {
                found = Some(slot);
                break;
            }
        }
        let slot = found.ok_or_else(|| CustodyError::Token(format!("no token labelled `{token_label}`")))?;
        let token =
            Arc::new(Token { ctx, slot, user_pin: AuthPin::new(user_pin.into()), pool: Mutex::new(Vec::new()) });
        // Log in now, so a wrong user PIN or a missing token fails at start-up.
        let session = token.checkout()?;
        token.checkin(session);
        Ok(Pkcs11Custody { token, rng: SystemRandom::new() })
    }

    /// True when the key's private object on the token is sensitive and not extractable.
    pub fn key_is_non_extractable(&self, key: &WrappedKey) -> Result<bool, CustodyError> {
        let blob = Blob::parse(key)?;
        self.token.run("reading key attributes", |s| {
            let h = find_one(s, ObjectClass::PRIVATE_KEY, &blob.id)?;
            let attrs = s.get_attributes(h, &[AttributeType::Sensitive, AttributeType::Extractable])?;
            let (mut sensitive, mut extractable) = (false, true);
            for a in attrs {
                match a {
                    Attribute::Sensitive(v) => sensitive = v,
                    Attribute::Extractable(v) => extractable = v,
                    _ => {}
                }
            }
            Ok(sensitive && !extractable)
        })
    }

    fn random<const N: usize>(&self) -> Result<[u8; N], CustodyError> {
        let mut b = [0u8; N];
        self.rng.fill(&mut b).map_err(|_| CustodyError::Generate)?;
        Ok(b)
    }

    /// Generate a key pair on the token; return its CKA_ID and DER SubjectPublicKeyInfo.
    fn generate_on_token(&self, algorithm: KeyAlgorithm) -> Result<([u8; ID_LEN], Vec<u8>), CustodyError> {
        let id: [u8; ID_LEN] = self.random()?;
        let mut public = vec![
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::Id(id.to_vec()),
            Attribute::Label(format!("kyso {algorithm}").into_bytes()),
        ];
        let mut private = vec![
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Id(id.to_vec()),
            Attribute::Label(format!("kyso {algorithm}").into_bytes()),
        ];
        let mechanism = match algorithm {
            KeyAlgorithm::EcP256 => {
                public.push(Attribute::EcParams(P256_PARAMS.to_vec()));
                private.push(Attribute::Derive(false));
                Mechanism::EccKeyPairGen
            }
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => {
                let bits: u32 = if algorithm == KeyAlgorithm::Rsa2048 { 2048 } else { 3072 };
                public.push(Attribute::ModulusBits(c_ulong::from(bits).into()));
                public.push(Attribute::PublicExponent(vec![0x01, 0x00, 0x01]));
                private.push(Attribute::Decrypt(false));
                Mechanism::RsaPkcsKeyPairGen
            }
        };
        self.token.run("C_GenerateKeyPair", |s| s.generate_key_pair(&mechanism, &public, &private))?;
        let spki = self.token_public_key(algorithm, &id)?;
        Ok((id, spki))
    }

    /// The DER SubjectPublicKeyInfo of the token key `id`, read back from the token.
    fn token_public_key(&self, algorithm: KeyAlgorithm, id: &[u8]) -> Result<Vec<u8>, CustodyError> {
        match algorithm {
            KeyAlgorithm::EcP256 => {
                let point = self.token.run("reading CKA_EC_POINT", |s| {
                    let h = find_one(s, ObjectClass::PUBLIC_KEY, id)?;
                    let attrs = s.get_attributes(h, &[AttributeType::EcPoint])?;
                    Ok(attrs.into_iter().find_map(|a| if let Attribute::EcPoint(p) = a { Some(p) } else { None }))
                })?;
                let point = point.ok_or(CustodyError::Token("public key has no CKA_EC_POINT".into()))?;
                ec_spki(&point)
            }
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => {
                let attrs = self.token.run("reading CKA_MODULUS", |s| {
                    let h = find_one(s, ObjectClass::PRIVATE_KEY, id)?;
                    s.get_attributes(h, &[AttributeType::Modulus, AttributeType::PublicExponent])
                })?;
                let (mut n, mut e) = (None, None);
                for a in attrs {
                    match a {
                        Attribute::Modulus(v) => n = Some(v),
                        Attribute::PublicExponent(v) => e = Some(v),
                        _ => {}
                    }
                }
                match (n, e) {
                    (Some(n), Some(e)) => Ok(rsa_spki(&n, &e)),
                    _ => Err(CustodyError::Token("RSA key has no CKA_MODULUS / CKA_PUBLIC_EXPONENT".into())),
                }
            }
        }
    }

    /// A signer for the token key named by `key`, after checking the token's public key is
    /// the one persisted with it.
    fn signer(&self, key: &WrappedKey, id: [u8; ID_LEN]) -> Result<Box<dyn Signer>, CustodyError> {
        let spki = self.token_public_key(key.algorithm, &id)?;
        if spki != key.public_key_der {
            return Err(CustodyError::Malformed("the token key does not match the stored public key"));
        }
        Ok(Box::new(TokenKey { token: self.token.clone(), algorithm: key.algorithm, id, spki }))
    }

    fn hash_pin(&self, pin: &Pin) -> Result<String, CustodyError> {
        let salt = SaltString::encode_b64(&self.random::<16>()?).map_err(|_| CustodyError::Generate)?;
        let hash = argon2()?.hash_password(pin.as_bytes(), &salt).map_err(|_| CustodyError::Generate)?;
        Ok(hash.to_string())
    }

    fn check_pin(blob: &Blob, pin: &Pin) -> Result<(), CustodyError> {
        let phc = blob.pin_hash.as_deref().ok_or(CustodyError::Malformed("this pkcs11 key is not PIN-protected"))?;
        let parsed = PasswordHash::new(phc).map_err(|_| CustodyError::Malformed("bad PIN hash"))?;
        if parsed.algorithm != Algorithm::Argon2id.ident() {
            return Err(CustodyError::Malformed("PIN hash is not Argon2id"));
        }
        argon2()?.verify_password(pin.as_bytes(), &parsed).map_err(|e| match e {
            argon2::password_hash::Error::Password => CustodyError::WrongPin,
            _ => CustodyError::Malformed("bad PIN hash"),
        })
    }

    fn wrapped(&self, algorithm: KeyAlgorithm, spki: Vec<u8>, id: &[u8; ID_LEN], pin_hash: Option<&str>) -> WrappedKey {
        let mut blob = Vec::with_capacity(1 + ID_LEN + pin_hash.map_or(0, str::len));
        blob.push(BLOB_VERSION);
        blob.extend_from_slice(id);
        if let Some(h) = pin_hash {
            blob.extend_from_slice(h.as_bytes());
        }
        WrappedKey { backend: BACKEND, algorithm, public_key_der: spki, blob }
    }
}

/// Argon2id, m = 19456 KiB, t = 2, p = 1 (the OWASP minimum).
fn argon2() -> Result<Argon2<'static>, CustodyError> {
    let params = Params::new(19456, 2, 1, None).map_err(|_| CustodyError::Generate)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The parsed pkcs11 blob: version, CKA_ID, optional Argon2id PHC string.
struct Blob {
    id: [u8; ID_LEN],
    pin_hash: Option<String>,
}

impl Blob {
    fn parse(key: &WrappedKey) -> Result<Blob, CustodyError> {
        if key.backend != BACKEND {
            return Err(CustodyError::Malformed("not a pkcs11 key"));
        }
        let b = &key.blob;
        if b.len() < 1 + ID_LEN || b[0] != BLOB_VERSION {
            return Err(CustodyError::Malformed("pkcs11 key blob has the wrong length or version"));
        }
        let id: [u8; ID_LEN] = b[1..1 + ID_LEN].try_into().map_err(|_| CustodyError::Malformed("bad CKA_ID"))?;
        let rest = &b[1 + ID_LEN..];
        let pin_hash = if rest.is_empty() {
            None
        } else {
            Some(String::from_utf8(rest.to_vec()).map_err(|_| CustodyError::Malformed("bad PIN hash"))?)
        };
        Ok(Blob { id, pin_hash })
    }
}

impl KeyCustody for Pkcs11Custody {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn generate(&self, algorithm: KeyAlgorithm) -> Result<(Box<dyn Signer>, WrappedKey), CustodyError> {
        let (id, spki) = self.generate_on_token(algorithm)?;
        let wrapped = self.wrapped(algorithm, spki.clone(), &id, None);
        let signer = TokenKey { token: self.token.clone(), algorithm, id, spki };
        Ok((Box::new(signer), wrapped))
    }

    fn open(&self, key: &WrappedKey) -> Result<Box<dyn Signer>, CustodyError> {
        let blob = Blob::parse(key)?;
        if blob.pin_hash.is_some() {
            // A citizen key: opening it without the PIN would bypass the citizen's control.
            return Err(CustodyError::Malformed("this key is PIN-protected; unlock it with the PIN"));
        }
        self.signer(key, blob.id)
    }
}

impl PinCustody for Pkcs11Custody {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn generate_protected(&self, algorithm: KeyAlgorithm, pin: &Pin) -> Result<WrappedKey, CustodyError> {
        let hash = self.hash_pin(pin)?;
        let (id, spki) = self.generate_on_token(algorithm)?;
        Ok(self.wrapped(algorithm, spki, &id, Some(&hash)))
    }

    fn unlock(&self, key: &WrappedKey, pin: &Pin) -> Result<Box<dyn Signer>, CustodyError> {
        let blob = Blob::parse(key)?;
        Self::check_pin(&blob, pin)?;
        self.signer(key, blob.id)
    }

    fn change_pin(&self, key: &WrappedKey, old: &Pin, new: &Pin) -> Result<WrappedKey, CustodyError> {
        let blob = Blob::parse(key)?;
        Self::check_pin(&blob, old)?;
        // Make sure the token key is still there (and still this public key) before re-protecting it.
        self.signer(key, blob.id)?;
        let hash = self.hash_pin(new)?;
        Ok(self.wrapped(key.algorithm, key.public_key_der.clone(), &blob.id, Some(&hash)))
    }
}

/// Find exactly one token object of `class` with CKA_ID `id`.
fn find_one(s: &Session, class: ObjectClass, id: &[u8]) -> cryptoki::error::Result<ObjectHandle> {
    let found = s.find_objects(&[Attribute::Class(class), Attribute::Token(true), Attribute::Id(id.to_vec())])?;
    match found.as_slice() {
        [h] => Ok(*h),
        // Reported as an invalid key handle: the key is gone (or, impossibly, duplicated).
        _ => Err(P11Error::Pkcs11(RvError::KeyHandleInvalid, cryptoki::context::Function::FindObjects)),
    }
}

/// A signing key living on the token, found by CKA_ID at each use (object handles do not
/// survive a logout on every token).
struct TokenKey {
    token: Arc<Token>,
    algorithm: KeyAlgorithm,
    id: [u8; ID_LEN],
    spki: Vec<u8>,
}

impl Signer for TokenKey {
    fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    fn public_key_der(&self) -> &[u8] {
        &self.spki
    }

    fn sign(&self, scheme: SignatureScheme, message: &[u8]) -> Result<Vec<u8>, CustodyError> {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, message);
        self.sign_digest(scheme, digest.as_ref())
    }

    fn sign_digest(&self, scheme: SignatureScheme, sha256: &[u8]) -> Result<Vec<u8>, CustodyError> {
        if sha256.len() != 32 {
            return Err(CustodyError::Malformed("a SHA-256 digest is 32 bytes"));
        }
        let pss;
        let (mechanism, input) = match (self.algorithm, scheme) {
            (KeyAlgorithm::EcP256, SignatureScheme::EcdsaP256Sha256) => (Mechanism::Ecdsa, sha256.to_vec()),
            (KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072, SignatureScheme::RsaPssSha256) => {
                pss = PkcsPssParams {
                    hash_alg: MechanismType::SHA256,
                    mgf: PkcsMgfType::MGF1_SHA256,
                    s_len: c_ulong::from(32u32).into(),
                };
                (Mechanism::RsaPkcsPss(pss), sha256.to_vec())
            }
            (KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072, SignatureScheme::RsaPkcs1Sha256) => {
                (Mechanism::RsaPkcs, [SHA256_DIGEST_INFO, sha256].concat())
            }
            _ => return Err(CustodyError::SchemeMismatch { scheme, key: self.algorithm }),
        };
        let sig = self.token.run("C_Sign", |s| {
            let h = find_one(s, ObjectClass::PRIVATE_KEY, &self.id)?;
            s.sign(&mechanism, h, &input)
        })?;
        if self.algorithm == KeyAlgorithm::EcP256 {
            ecdsa_raw_to_der(&sig)
        } else {
            Ok(sig)
        }
    }
}

// --- a few lines of DER, so this crate needs no ASN.1 library ---

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A DER INTEGER from an unsigned big-endian magnitude (minimal, non-negative).
fn der_uint(magnitude: &[u8]) -> Vec<u8> {
    let skip = magnitude.iter().take_while(|b| **b == 0).count();
    let m = &magnitude[skip..];
    let mut content = Vec::with_capacity(m.len() + 1);
    if m.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(m);
    der(0x02, &content)
}

fn spki(algorithm_identifier: &[u8], public_key: &[u8]) -> Vec<u8> {
    let bits = [&[0u8][..], public_key].concat();
    der(0x30, &[der(0x30, algorithm_identifier), der(0x03, &bits)].concat())
}

/// SPKI of a P-256 key from CKA_EC_POINT, which tokens return either DER-wrapped in an OCTET
/// STRING (as PKCS#11 specifies, and SoftHSM does) or raw.
fn ec_spki(ec_point: &[u8]) -> Result<Vec<u8>, CustodyError> {
    let point = match ec_point {
        [0x04, 0x41, rest @ ..] if rest.len() == 65 => rest,
        raw if raw.len() == 65 => raw,
        _ => return Err(CustodyError::Token("CKA_EC_POINT is not an uncompressed P-256 point".into())),
    };
    if point[0] != 0x04 {
        return Err(CustodyError::Token("CKA_EC_POINT is not an uncompressed P-256 point".into()));
    }
    Ok(spki(&[EC_PUBLIC_KEY_OID, P256_PARAMS].concat(), point))
}

/// SPKI of an RSA key: rsaEncryption with NULL parameters, RSAPublicKey { n, e }.
fn rsa_spki(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    let rsa_public_key = der(0x30, &[der_uint(modulus), der_uint(exponent)].concat());
    spki(&[RSA_ENCRYPTION_OID, &[0x05, 0x00]].concat(), &rsa_public_key)
}

/// PKCS#11 ECDSA gives r || s; kyso (like aws-lc) uses the DER ECDSA-Sig-Value.
fn ecdsa_raw_to_der(raw: &[u8]) -> Result<Vec<u8>, CustodyError> {
    if raw.len() != 64 {
        return Err(CustodyError::Sign);
    }
    let (r, s) = raw.split_at(32);
    Ok(der(0x30, &[der_uint(r), der_uint(s)].concat()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_integers_are_minimal() {
        assert_eq!(der_uint(&[0, 0, 0x7f]), [0x02, 0x01, 0x7f]);
        assert_eq!(der_uint(&[0x80]), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(der_uint(&[0, 0]), [0x02, 0x01, 0x00]);
        assert_eq!(der_uint(&[1, 0, 1]), [0x02, 0x03, 1, 0, 1]);
    }

    #[test]
    fn der_long_lengths() {
        let v = der(0x04, &[0u8; 300]);
        assert_eq!(&v[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(v.len(), 304);
        assert_eq!(&der(0x04, &[0u8; 200])[..3], &[0x04, 0x81, 200]);
    }

    #[test]
    fn ec_spki_matches_aws_lc() {
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
        let kp = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        let point = kp.public_key().as_ref().to_vec();
        let expected = kp.public_key().as_der().unwrap().as_ref().to_vec();
        assert_eq!(ec_spki(&point).unwrap(), expected);
        assert_eq!(ec_spki(&der(0x04, &point)).unwrap(), expected);
        assert!(ec_spki(&point[1..]).is_err());
    }

    #[test]
    fn rsa_spki_matches_aws_lc() {
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::signature::KeyPair;
        let kp = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let expected = kp.public_key().as_der().unwrap().as_ref().to_vec();
        // RSAPublicKey of a 2048-bit key with e = 65537: 30 82 01 0a 02 82 01 01 00 <n> 02 03 01 00 01
        let rsa_public_key = kp.public_key().as_ref();
        assert_eq!(rsa_public_key.len(), 270);
        assert_eq!(&rsa_public_key[..9], &[0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01, 0x00]);
        assert_eq!(&rsa_public_key[265..], &[0x02, 0x03, 0x01, 0x00, 0x01]);
        let n = &rsa_public_key[9..265];
        assert_eq!(rsa_spki(n, &[1, 0, 1]), expected);
        // a magnitude with leading zero bytes encodes the same
        assert_eq!(rsa_spki(&[&[0u8][..], n].concat(), &[0, 1, 0, 1]), expected);
    }

    #[test]
    fn ecdsa_conversion_verifies() {
        // r with the top bit set, s with leading zero bytes
        let mut raw = [0u8; 64];
        raw[0] = 0x80;
        raw[34] = 0x01;
        let d = ecdsa_raw_to_der(&raw).unwrap();
        assert_eq!(d[0], 0x30);
        assert_eq!(&d[2..5], &[0x02, 0x21, 0x00]);
        assert_eq!(&d[d.len() - 32..d.len() - 30], &[0x02, 0x1e]);
        assert!(ecdsa_raw_to_der(&raw[..63]).is_err());
    }
}
