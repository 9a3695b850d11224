//! Signing formats: CMS/CAdES detached signatures and PAdES (PDF) signatures, built and checked
//! without IO.
//!
//! Signing is two-phase ("hash out, CMS in"): [`cades::prepare`] fixes the signed attributes and
//! yields the 32-byte digest a remote key signs (`Signer::sign_digest`, CSC signHash);
//! [`cades::Prepared::assemble`] wraps the returned signature into a CMS SignedData. PAdES adds a
//! first phase that appends an incremental update with a `/Contents` placeholder to the PDF
//! ([`pdf::prepare`]) and a last one that writes the CMS into it ([`pdf::embed`]).
//!
//! Long-term levels: B-LT appends a Document Security Store with certificates, OCSP responses and
//! CRLs ([`dss::append_dss`]); B-LTA then appends a document time-stamp
//! ([`pdf::prepare_doc_timestamp`], a token over the new ByteRange written in by [`pdf::embed`]).
//!
//! Architecture invariant: no IO. Documents, certificates, times and keys (as `&dyn Signer`)
//! come in as arguments; bytes go out.

pub mod appearance;
mod ber;
pub mod cades;
mod der_walk;
pub mod dss;
pub mod pdf;
mod pdf_scan;
/// The classic-xref reader's revision resolver, for the validator's modification analysis.
#[doc(hidden)]
pub use pdf_scan::{startxref_before, Resolved, XrefChains};

pub use appearance::Visible;
pub use ber::Leniency;
pub use cades::{
    add_signature_timestamp, certificates_of, check_timestamp, prepare, sign_detached, signature_value,
    timestamp_request, timestamp_request_for_digest, timestamp_token, verify_detached, verify_detached_with,
    CmsCertificates, CmsCheck, DecodedCms, Prepared, Profile, TimestampCheck, OID_SIGNATURE_TIMESTAMP,
};
pub use dss::ValidationData;
pub use pdf::{FoundSignature, PreparedPdf, SigOptions};

/// Errors from building or checking signatures. Each names what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The input (CMS, certificate, PDF) is not what it must be.
    #[error("{what}: {reason}")]
    Malformed { what: &'static str, reason: String },
    #[error("DER encoding/decoding failed in {context}: {source}")]
    Der { context: &'static str, source: der::Error },
    #[error("the CMS signature needs {needed} bytes but the PDF reserves only {reserved} in /Contents")]
    TooBig { needed: usize, reserved: usize },
    #[error(transparent)]
    Pki(#[from] kyso_pki::PkiError),
    #[error(transparent)]
    Key(#[from] kyso_keys::KeyError),
}

impl SignError {
    pub(crate) fn malformed(what: &'static str, reason: impl Into<String>) -> SignError {
        SignError::Malformed { what, reason: reason.into() }
    }
}

pub(crate) trait DerContext<T> {
    fn ctx(self, context: &'static str) -> Result<T, SignError>;
}

impl<T> DerContext<T> for Result<T, der::Error> {
    fn ctx(self, context: &'static str) -> Result<T, SignError> {
        self.map_err(|source| SignError::Der { context, source })
    }
}

pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref());
    out
}
