//! Documents: sign a PDF (PAdES B-T, or B-B) or any file (CAdES `.p7s`) with a citizen's credential through
//! the same authorize/signHash path as the remote-signing API, and validate signed documents
//! against kyso's trust list with revocation answered from kyso's own store.

use crate::signing::SigningError;
use crate::{Authority, AuthorityError};
use kyso_custody::Pin;
use kyso_pki::cert::serial_hex;
use kyso_validate::{Revocation, RevocationSource, SignatureReport, TrustAnchors, ValidationError};
use std::collections::HashMap;
use std::time::SystemTime;
use x509_cert::Certificate;

/// Statuses fetched from the store before validation (validation itself does no IO).
struct StoreStatuses {
    /// (issuer CA DER, subject serial hex) → status
    known: HashMap<(Vec<u8>, String), Revocation>,
}

impl RevocationSource for StoreStatuses {
    fn status(&self, issuer: &Certificate, subject: &Certificate) -> Revocation {
        let key = (
            der::Encode::to_der(issuer).unwrap_or_default(),
            serial_hex(subject.tbs_certificate.serial_number.as_bytes()),
        );
        self.known.get(&key).copied().unwrap_or(Revocation::Unknown)
    }
}

impl Authority {
    /// kyso's trust list: the national root as anchor, provider CAs as known intermediates, plus
    /// extra roots the caller trusts (e.g. another country's or a test CA).
    pub fn trust_anchors(&self, extra_roots: &[Vec<u8>]) -> TrustAnchors {
        let mut t = TrustAnchors::new();
        for ca in self.cas() {
            let _ = if ca.kind == "root" { t.add_root(&ca.cert_der) } else { t.add_intermediate(&ca.cert_der) };
        }
        for r in extra_roots {
            let _ = t.add_root(r);
        }
        t
    }

    /// Look up every certificate in these CMS blobs that one of kyso's CAs issued.
    async fn statuses(&self, cms_blobs: &[&[u8]]) -> Result<StoreStatuses, AuthorityError> {
        let mut known = HashMap::new();
        for cms in cms_blobs {
            let Ok(check) = kyso_sign::verify_detached(cms, [0u8; 32]) else { continue };
            // the signature's certificates and those of its time-stamp token (the TSA's)
            let tsa_certs = check.timestamp.iter().flat_map(|t| t.certificates.iter());
            for der in check.certificates.iter().chain(tsa_certs) {
                let Ok(cert) = kyso_pki::cert::parse(der) else { continue };
                for ca in self.cas() {
                    if ca.cert.tbs_certificate.subject != cert.tbs_certificate.issuer {
                        continue;
                    }
                    let serial = serial_hex(cert.tbs_certificate.serial_number.as_bytes());
                    let st = match self.store.status(&ca.id, &serial).await? {
                        Some((Some(at), reason)) => {
                            Revocation::Revoked { at: kyso_pki::time::from_unix(at), reason: reason as u8 }
                        }
                        Some((None, _)) => Revocation::Good,
                        None => Revocation::Unknown,
                    };
                    known.insert((ca.cert_der.clone(), serial), st);
                }
            }
        }
        Ok(StoreStatuses { known })
    }

    pub async fn validate_pdf(
        &self,
        pdf: &[u8],
        extra_roots: &[Vec<u8>],
    ) -> Result<Vec<SignatureReport>, ValidationError> {
        let found = kyso_sign::pdf::signatures(pdf);
        let blobs: Vec<&[u8]> = found.iter().map(|s| s.contents.as_slice()).collect();
        let statuses = self
            .statuses(&blobs)
            .await
            .map_err(|e| kyso_sign::SignError::Malformed { what: "revocation lookup", reason: e.to_string() })?;
        kyso_validate::validate_pdf(pdf, &self.trust_anchors(extra_roots), &statuses, SystemTime::now())
    }

    pub async fn validate_detached(
        &self,
        cms: &[u8],
        content: &[u8],
        extra_roots: &[Vec<u8>],
    ) -> Result<SignatureReport, AuthorityError> {
        let statuses = self.statuses(&[cms]).await?;
        Ok(kyso_validate::validate_detached(
            cms,
            content,
            &self.trust_anchors(extra_roots),
            &statuses,
            SystemTime::now(),
        ))
    }

    /// The credential's certificate and its chain up to the root (DER).
    async fn credential_chain(
        &self,
        id_number: &str,
        credential: &str,
    ) -> Result<(Vec<u8>, Vec<Vec<u8>>), SigningError> {
        let c = self.own_credential(id_number, credential).await?;
        let cert = self
            .store
            .certificate(&c.cert_serial)
            .await?
            .ok_or_else(|| SigningError::InvalidRequest("the credential's certificate is missing".into()))?;
        let mut chain = Vec::new();
        if let Some(ca) = self.ca(&c.provider_id) {
            chain.push(ca.cert_der.clone());
        }
        if let Some(root) = self.ca("root") {
            chain.push(root.cert_der.clone());
        }
        Ok((cert.der, chain))
    }

    /// Sign one 32-byte digest through authorize + signHash (the remote-signing path).
    async fn sign_one(
        &self,
        id_number: &str,
        credential: &str,
        pin: &Pin,
        otp: Option<&str>,
        digest: [u8; 32],
    ) -> Result<(Vec<u8>, kyso_custody::SignatureScheme), SigningError> {
        let a = self.authorize(id_number, credential, pin, otp, &[digest]).await?;
        let mut sigs = self.sign_hash(id_number, credential, &a.sad, &[digest], None).await?;
        let c = self.own_credential(id_number, credential).await?;
        let alg: kyso_custody::KeyAlgorithm =
            self.store.key(&c.key_id).await?.algorithm.parse().map_err(AuthorityError::from)?;
        Ok((sigs.remove(0), alg.default_scheme()))
    }

    /// B-B → B-T: a time-stamp from kyso's own TSA over the signature value, added as the
    /// signature-time-stamp unsigned attribute.
    fn add_timestamp(&self, cms: &[u8]) -> Result<Vec<u8>, kyso_sign::SignError> {
        let value = kyso_sign::signature_value(cms)?;
        let mut nonce = [0u8; 8];
        aws_lc_rs::rand::fill(&mut nonce)
            .map_err(|_| kyso_sign::SignError::Malformed { what: "nonce", reason: "no randomness".into() })?;
        let req = kyso_sign::timestamp_request(&value, &nonce)?;
        let token = kyso_sign::timestamp_token(&self.timestamp(&req))?;
        kyso_sign::add_signature_timestamp(cms, &token)
    }

    /// PAdES B-T (`timestamp`) or B-B: an incremental update with the citizen's signature.
    #[allow(clippy::too_many_arguments)]
    pub async fn sign_pdf(
        &self,
        id_number: &str,
        credential: &str,
        pin: &Pin,
        otp: Option<&str>,
        pdf: &[u8],
        reason: Option<String>,
        timestamp: bool,
    ) -> Result<Vec<u8>, SigningError> {
        let bad = |e: kyso_sign::SignError| SigningError::InvalidRequest(format!("PDF: {e}"));
        let (cert, chain) = self.credential_chain(id_number, credential).await?;
        let now = SystemTime::now();
        let mut opts = kyso_sign::SigOptions::new(now);
        opts.reason = reason;
        opts.name = kyso_pki::cert::parse(&cert)
            .ok()
            .and_then(|c| kyso_pki::subject::name_attr(&c.tbs_certificate.subject, kyso_pki::subject::OID_CN));
        let prepared = kyso_sign::pdf::prepare(pdf, &opts).map_err(bad)?;
        let p = kyso_sign::prepare(prepared.digest, &cert, kyso_sign::Profile::Pades, now).map_err(bad)?;
        let (sig, scheme) = self.sign_one(id_number, credential, pin, otp, p.to_be_signed_digest()).await?;
        let mut cms = p.assemble(&sig, scheme, &chain).map_err(bad)?;
        if timestamp {
            cms = self.add_timestamp(&cms).map_err(bad)?;
        }
        // embed refuses a CMS larger than the /Contents reserve (TooBig names both sizes)
        kyso_sign::pdf::embed(prepared, &cms).map_err(bad)
    }

    /// CAdES B-T (`timestamp`) or B-B detached (`.p7s`) over any file.
    pub async fn sign_detached(
        &self,
        id_number: &str,
        credential: &str,
        pin: &Pin,
        otp: Option<&str>,
        content: &[u8],
        timestamp: bool,
    ) -> Result<Vec<u8>, SigningError> {
        let bad = |e: kyso_sign::SignError| SigningError::InvalidRequest(format!("CMS: {e}"));
        let (cert, chain) = self.credential_chain(id_number, credential).await?;
        let digest: [u8; 32] = kyso_pki::alg::sha256(content).try_into().unwrap_or([0u8; 32]);
        let p = kyso_sign::prepare(digest, &cert, kyso_sign::Profile::Cades, SystemTime::now()).map_err(bad)?;
        let (sig, scheme) = self.sign_one(id_number, credential, pin, otp, p.to_be_signed_digest()).await?;
        let cms = p.assemble(&sig, scheme, &chain).map_err(bad)?;
        if timestamp {
            return self.add_timestamp(&cms).map_err(bad);
        }
        Ok(cms)
    }
}
