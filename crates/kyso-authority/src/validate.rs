//! Validation with revocation for any certificate: kyso's own CAs answer from the store; other
//! CAs' certificates from the document's DSS, else the fetch cache, else online (OCSP from AIA,
//! CRL from the distribution points), with missing issuers fetched from caIssuers. Validation
//! itself stays pure: a first pass records what no source could answer, that is fetched off the
//! async workers, and a second pass uses it. Anchors come from the trust list with each service's
//! status at the signing time.

use crate::documents::ValidateError;
use crate::online::{warn_in_vietnamese, Online, OnlineConfig, OwnCas, Prepared};
use crate::pool::{self, Work};
use crate::{Authority, AuthorityError};
use kyso_validate::{Limits, Revocation, RevocationSource, SignatureReport, TrustAnchors, ValidationError};
use std::time::SystemTime;

/// Every certificate the CMS blobs carry (signatures, their time-stamp tokens, document
/// time-stamps), read without verifying anything (validation judges them).
fn certs_of(blobs: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for cms in blobs {
        let Ok(c) = kyso_sign::certificates_of(cms) else { continue };
        for c in c.certificates.into_iter().chain(c.timestamp_certificates) {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

fn lookup_error(e: AuthorityError) -> ValidationError {
    ValidationError::from(kyso_sign::SignError::Malformed { what: "revocation lookup", reason: e.to_string() })
}

/// One pass; when some statuses were left unanswered, fetch them and a second pass.
async fn two_passes<R>(
    online: &Online,
    p: &mut Prepared,
    own: &(dyn RevocationSource + Sync),
    own_cas: &OwnCas<'_>,
    run: impl Fn(&dyn RevocationSource) -> R,
) -> R {
    let (r, asked) = pool::cpu(|| {
        let src = p.source(own, own_cas);
        let r = run(&src);
        (r, src.asked())
    });
    if asked.is_empty() {
        return r;
    }
    online.fetch_asked(p, asked).await;
    pool::cpu(|| run(&p.source(own, own_cas)))
}

/// No CA of one's own: nothing answers but the document and the network.
struct NoOwnStatuses;
impl RevocationSource for NoOwnStatuses {
    fn status(&self, _: &x509_cert::Certificate, _: &x509_cert::Certificate) -> Revocation {
        Revocation::Unknown
    }
}

/// A relying party without a kyso installation (`kyso verify` before `kyso init`): it trusts
/// exactly `roots`; revocation comes from the document's DSS, else online (a cache in this
/// process's memory), or nowhere when `online.offline`. `detached`: a `.p7s` over `bytes`.
pub async fn validate_as_relying_party(
    bytes: &[u8],
    detached: Option<&[u8]>,
    roots: &[Vec<u8>],
    online: OnlineConfig,
) -> Result<Vec<SignatureReport>, ValidationError> {
    let mut anchors = TrustAnchors::new();
    for r in roots {
        anchors.add_root(r).map_err(|e| kyso_sign::SignError::Malformed { what: "--trust", reason: e.to_string() })?;
    }
    let online = Online::new(online, None);
    let limits = Limits::default();
    let now = SystemTime::now();
    let none = OwnCas::default();
    let (parsed, doc_certs) = match detached {
        Some(cms) => (None, certs_of(&[cms])),
        None => {
            let parsed = kyso_validate::ParsedPdf::new(bytes, &limits)?;
            let certs = parsed.certificates();
            (Some(parsed), certs)
        }
    };
    let mut prepared = online.prepare(&doc_certs, &anchors.certificates(), &none).await;
    for d in &prepared.issuers {
        let _ = anchors.add_intermediate(d);
    }
    let mut reports = match (detached, parsed) {
        (Some(cms), _) => vec![
            two_passes(&online, &mut prepared, &NoOwnStatuses, &none, |src| {
                kyso_validate::validate_detached(cms, bytes, &anchors, src, now)
            })
            .await,
        ],
        (None, Some(parsed)) => {
            two_passes(&online, &mut prepared, &NoOwnStatuses, &none, |src| {
                kyso_validate::validate_parsed(&parsed, &anchors, src, now)
            })
            .await?
        }
        (None, None) => Vec::new(),
    };
    for r in &mut reports {
        warn_in_vietnamese(r, &prepared);
    }
    Ok(reports)
}

impl Authority {
    fn own_cas(&self) -> OwnCas<'_> {
        OwnCas::new(self.cas().map(|c| &c.cert))
    }

    /// The anchors with the issuers fetched for this document, and what the fetcher prepared.
    async fn prepare_online(
        &self,
        doc_certs: &[x509_cert::Certificate],
        extra_roots: &[Vec<u8>],
        base: Option<&TrustAnchors>,
    ) -> Result<(TrustAnchors, Prepared), AuthorityError> {
        let mut anchors = match base {
            // a clone shares what the base verified (kyso_validate::TrustAnchors)
            Some(b) => b.clone(),
            None => self.validation_anchors(extra_roots).await?,
        };
        let prepared = self.online.prepare_parsed(doc_certs, &anchors.certificates(), &self.own_cas()).await;
        for d in &prepared.issuers {
            let _ = anchors.add_intermediate(d);
        }
        Ok((anchors, prepared))
    }

    /// `shared`: what the files of one dossier share (anchors built with the same `extra_roots`,
    /// the store's answers so far).
    pub(crate) async fn validate_pdf_online(
        &self,
        pdf: &[u8],
        extra_roots: &[Vec<u8>],
        shared: Option<&crate::documents::Shared>,
    ) -> Result<(Vec<SignatureReport>, Vec<Option<Vec<u8>>>), ValidateError> {
        let _permit = self.pools.permit(Work::Validate).await?;
        let limits = Limits::default();
        // the file read once for every pass (signatures, their certificates, the DSS, revisions)
        let (parsed, wanted) = pool::cpu(|| -> Result<_, ValidationError> {
            let parsed = kyso_validate::ParsedPdf::new(pdf, &limits)?;
            let wanted = self.wanted_statuses_of(parsed.parsed_certificates());
            Ok((parsed, wanted))
        })?;
        let statuses = self.lookup_statuses(wanted, shared).await.map_err(lookup_error)?;
        let (anchors, mut prepared) = self
            .prepare_online(parsed.parsed_certificates(), extra_roots, shared.map(|s| &s.anchors))
            .await
            .map_err(lookup_error)?;
        let own = self.own_cas();
        let now = SystemTime::now();
        let signers: Vec<Option<Vec<u8>>> =
            (0..parsed.signatures().len()).map(|i| parsed.signer_certificate(i).map(<[u8]>::to_vec)).collect();
        let mut reports = two_passes(&self.online, &mut prepared, &statuses, &own, |src| {
            kyso_validate::validate_parsed(&parsed, &anchors, src, now)
        })
        .await?;
        for r in &mut reports {
            warn_in_vietnamese(r, &prepared);
        }
        Ok((reports, signers))
    }

    pub(crate) async fn validate_detached_online(
        &self,
        cms: &[u8],
        content: &[u8],
        extra_roots: &[Vec<u8>],
    ) -> Result<SignatureReport, AuthorityError> {
        let _permit = self.pools.permit(Work::Validate).await.map_err(|b| AuthorityError::Refused(b.to_string()))?;
        let (wanted, doc_certs) = pool::cpu(|| {
            let certs: Vec<x509_cert::Certificate> =
                certs_of(&[cms]).iter().filter_map(|d| kyso_pki::cert::parse(d).ok()).collect();
            (self.wanted_statuses_of(&certs), certs)
        });
        let statuses = self.lookup_statuses(wanted, None).await?;
        let (anchors, mut prepared) = self.prepare_online(&doc_certs, extra_roots, None).await?;
        let own = self.own_cas();
        let now = SystemTime::now();
        let mut report = two_passes(&self.online, &mut prepared, &statuses, &own, |src| {
            kyso_validate::validate_detached(cms, content, &anchors, src, now)
        })
        .await;
        warn_in_vietnamese(&mut report, &prepared);
        Ok(report)
    }
}
