//! The certificate authorities as a running service: creates the hierarchy (`init`), loads it,
//! and runs issuance, renewal, revocation, CRLs, OCSP and time-stamping over storage and custody.
//!
//! Architecture invariant: this crate composes `kyso-pki` (what a certificate is), `kyso-custody`
//! (where keys live) and `kyso-store` (where rows live). It knows nothing of HTTP or the CLI. Every
//! CA key use is committed together with its audit row; nothing is returned before it is durable.

pub mod accounts;
mod committer;
pub mod config;
mod documents;
pub mod dossiers;
pub mod forms;
pub mod gate;
mod hierarchy;
mod issue;
mod ocsp_cache;
pub mod online;
pub mod pool;
mod reads;
pub mod signing;
mod status;
mod trust;
mod validate;

pub use committer::Committer;
pub use config::{Config, NotifyConfig};
pub use documents::{PdfJob, ValidateError};
pub use issue::{IssueRequest, IssuedCert};
pub use ocsp_cache::Produced as OcspProduced;
pub use status::OcspAnswer;
pub use trust::add_listed;
pub use validate::validate_as_relying_party;

use kyso_custody::{KeyCustody, PinCustody, Signer};
use kyso_pki::{IssuerRef, PkiError};
use kyso_store::{Store, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use x509_cert::Certificate;

/// The key the audit chain is MACed under, derived from the KEK (HMAC-SHA-256(KEK,
/// [`kyso_store::audit::KEY_LABEL`])): it lives with the KEK, never in the database. Every
/// process that writes or verifies audit rows opens its store with it
/// (`Store::open(url).await?.with_audit_key(audit_key(&kek))`).
pub fn audit_key(kek: &kyso_custody::Kek) -> kyso_store::AuditKey {
    kyso_store::AuditKey::new(&kek.derive(kyso_store::audit::KEY_LABEL))
}

#[derive(Debug, thiserror::Error)]
pub enum AuthorityError {
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Custody(#[from] kyso_custody::CustodyError),
    #[error("{0}")]
    Refused(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("kyso is not initialised here: run `kyso init` first")]
    NotInitialised,
    #[error("kyso is already initialised in this database (found {0} authorities)")]
    AlreadyInitialised(usize),
    /// Too many Argon2 evaluations at once ([`gate`]): retry shortly (HTTP 503).
    #[error(transparent)]
    Busy(#[from] gate::Busy),
    /// Too many attempts from this account or address: wait this many seconds (HTTP 429).
    #[error("quá nhiều lần thử; thử lại sau {0} giây / too many attempts: retry in {0} s")]
    Throttled(u64),
}

pub type Result<T> = std::result::Result<T, AuthorityError>;

/// A CA (root or provider) loaded with its key, ready to sign.
pub struct LoadedCa {
    pub id: String,
    pub kind: String,
    pub display_name: String,
    pub cert: Certificate,
    pub cert_der: Vec<u8>,
    pub key_id: Vec<u8>,
    pub signer: Box<dyn Signer>,
    /// Citizen certificates of a provider CA: issuer, extensions and URLs encoded once at load.
    pub citizen_template: Option<kyso_pki::cert::Template>,
}

impl LoadedCa {
    pub fn issuer(&self) -> IssuerRef<'_> {
        IssuerRef {
            name: self.cert.tbs_certificate.subject.clone(),
            key_id: self.key_id.clone(),
            signer: self.signer.as_ref(),
            scheme: self.signer.algorithm().default_scheme(),
        }
    }
}

/// A delegated OCSP responder or the TSA: a certificate and its key.
pub struct LoadedSigner {
    pub id: String,
    pub parent_id: Option<String>,
    pub cert: Certificate,
    pub cert_der: Vec<u8>,
    pub signer: Box<dyn Signer>,
}

pub struct Authority {
    pub store: Store,
    pub config: Config,
    custody: Arc<dyn KeyCustody>,
    committer: Committer,
    /// "root" and each provider id.
    cas: HashMap<String, Arc<LoadedCa>>,
    /// provider id → its OCSP responder.
    responders: HashMap<String, Arc<LoadedSigner>>,
    tsa: Arc<LoadedSigner>,
    /// Serialises revocations and CRL signing (CRL numbers are consecutive).
    revocation_lock: tokio::sync::Mutex<()>,
    /// Citizen-key custody per provider (default: the PIN-protected vault).
    pin_custody: HashMap<String, Arc<dyn PinCustody>>,
    default_pin_custody: Arc<dyn PinCustody>,
    sads: signing::SadStore,
    /// Bounds the Argon2 evaluations running at once ([`Authority::argon2`]).
    argon2: gate::Argon2Gate,
    /// When the login throttle's closed windows were last pruned (Unix seconds).
    throttle_pruned: std::sync::atomic::AtomicI64,
    /// Caps on CPU-bound work run off the async workers (validation, signing, parsing, TSA).
    pub pools: pool::Pools,
    /// Pre-produced OCSP responses and the time-stamp template.
    status_state: status::StatusState,
    /// The imported trust list, parsed once per edition.
    trust_cache: trust::TrustCache,
    /// Revocation data and issuers fetched for certificates other CAs issued, cached in the store.
    pub online: online::Online,
    /// The read replica, when there is one, and where each kind of read goes ([`reads`]).
    reads: reads::Reads,
}

impl Authority {
    pub fn ca(&self, id: &str) -> Option<&Arc<LoadedCa>> {
        self.cas.get(id)
    }
    pub fn cas(&self) -> impl Iterator<Item = &Arc<LoadedCa>> {
        self.cas.values()
    }
    pub fn provider_ids(&self) -> Vec<String> {
        self.config.providers.iter().map(|p| p.id.clone()).collect()
    }
    pub fn tsa(&self) -> &LoadedSigner {
        &self.tsa
    }
    pub fn responder(&self, provider: &str) -> Option<&Arc<LoadedSigner>> {
        self.responders.get(provider)
    }
    pub fn committer(&self) -> &Committer {
        &self.committer
    }
    /// Put a provider's citizen keys in another custody backend (e.g. PKCS#11).
    pub fn set_pin_custody(&mut self, provider: &str, custody: Arc<dyn PinCustody>) {
        self.pin_custody.insert(provider.to_string(), custody);
    }
    pub(crate) fn pin_custody(&self, provider: &str) -> Arc<dyn PinCustody> {
        self.pin_custody.get(provider).cloned().unwrap_or_else(|| self.default_pin_custody.clone())
    }
    /// Runs Argon2 work — a password hashed or checked, a PIN that unlocks a key
    /// (`PinCustody::unlock`, `change_pin`, `generate_protected`) — on the blocking pool behind
    /// the memory-sized [`gate`]: `AuthorityError::Busy` when no permit comes soon.
    pub async fn argon2<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        Ok(self.argon2.run(f).await?)
    }
    /// Argon2 evaluations allowed at once.
    pub fn argon2_permits(&self) -> usize {
        self.argon2.permits()
    }
}

/// Actor names recorded in the audit log.
pub const ACTOR_SYSTEM: &str = "system";
