//! Revocation evidence kept in the PDF (PAdES B-LT's Document Security Store): OCSP responses and
//! CRLs are checked here — signed by the certificate's issuer or by a delegated OCSP responder the
//! issuer certified (id-kp-OCSPSigning) — and answer for the time they cover. What the DSS cannot
//! answer falls back to the caller's (live) source: "revocation at signing time from the DSS,
//! else live".

use crate::{chain, Revocation, RevocationSource};
use der::{Decode, Encode};
use kyso_sign::ValidationData;
use std::time::SystemTime;
use x509_cert::crl::CertificateList;
use x509_cert::Certificate;
use x509_ocsp::{BasicOcspResponse, CertStatus, OcspResponse, OcspResponseStatus, ResponderId};

const OID_OCSP_BASIC: &str = "1.3.6.1.5.5.7.48.1.1";
const OID_CRL_REASON: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("2.5.29.21");

/// One status statement: which certificate (issuer key + serial), what, and for which period.
#[derive(Clone, Debug)]
struct Statement {
    issuer: Vec<u8>,
    serial: Vec<u8>,
    status: Revocation,
    this_update: SystemTime,
    next_update: Option<SystemTime>,
    source: &'static str,
}

/// A CRL whose signature was checked: every serial not listed is good for its period.
#[derive(Clone, Debug)]
struct CheckedCrl {
    issuer: Vec<u8>,
    revoked: Vec<(Vec<u8>, SystemTime, u8)>,
    this_update: SystemTime,
    next_update: Option<SystemTime>,
}

/// The revocation evidence of a DSS, checked against the issuers it names.
#[derive(Clone, Debug, Default)]
pub struct DssEvidence {
    ocsp: Vec<Statement>,
    crls: Vec<CheckedCrl>,
    /// Every certificate the DSS carries (to build paths with).
    pub certs: Vec<Vec<u8>>,
    /// Items that could not be read or whose signature did not verify.
    pub rejected: Vec<String>,
}

/// Who issued the certificates a statement is about: the issuer's name and key (what an OCSP
/// CertID names, RFC 6960 §4.1.1), so that every certificate of one CA answers alike.
fn issuer_id(c: &Certificate) -> Vec<u8> {
    let mut id = c.tbs_certificate.subject.to_der().unwrap_or_default();
    id.extend_from_slice(c.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes());
    id
}

fn verify_with(
    key_holder: &Certificate,
    alg: &x509_cert::spki::AlgorithmIdentifierOwned,
    tbs: &[u8],
    sig: &[u8],
) -> bool {
    let Ok(scheme) = kyso_pki::alg::verify_scheme_of(alg) else { return false };
    let Ok(spki) = key_holder.tbs_certificate.subject_public_key_info.to_der() else { return false };
    kyso_keys::verify_with(&spki, scheme, tbs, sig).is_ok()
}

fn responder_matches(id: &ResponderId, c: &Certificate) -> bool {
    match id {
        ResponderId::ByName(n) => *n == c.tbs_certificate.subject,
        ResponderId::ByKey(h) => {
            kyso_pki::alg::sha1(c.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes())
                == h.as_bytes()
        }
    }
}

impl DssEvidence {
    /// Check what `data` holds against `issuers` (every certificate that may have issued a
    /// certificate being validated: the trust list, the signature's and the DSS's certificates).
    pub fn new(data: &ValidationData, issuers: &[Certificate]) -> DssEvidence {
        let dss: Vec<Certificate> = data.certs.iter().filter_map(|d| Certificate::from_der(d).ok()).collect();
        let pool: Vec<&Certificate> = issuers.iter().chain(&dss).collect();
        DssEvidence::with_memo(data, &pool, &chain::Memo::default())
    }

    /// [`DssEvidence::new`] for a caller whose `issuers` already hold the DSS's certificates,
    /// remembering verified OCSP responses in `memo` (one validation: the same response in every
    /// file of a dossier is verified once).
    pub(crate) fn with_memo(data: &ValidationData, pool: &[&Certificate], memo: &chain::Memo) -> DssEvidence {
        let mut e = DssEvidence { certs: data.certs.clone(), ..DssEvidence::default() };
        for (i, der) in data.ocsps.iter().enumerate() {
            if let Err(why) = e.add_ocsp(der, pool, memo) {
                e.rejected.push(format!("OCSP response #{} in the DSS: {why}", i + 1));
            }
        }
        for (i, der) in data.crls.iter().enumerate() {
            if let Err(why) = e.add_crl(der, pool) {
                e.rejected.push(format!("CRL #{} in the DSS: {why}", i + 1));
            }
        }
        e
    }

    pub fn is_empty(&self) -> bool {
        self.ocsp.is_empty() && self.crls.is_empty()
    }

    fn add_ocsp(&mut self, der: &[u8], pool: &[&Certificate], memo: &chain::Memo) -> Result<(), String> {
        let resp = OcspResponse::from_der(der).map_err(|e| format!("not an OCSPResponse: {e}"))?;
        if resp.response_status != OcspResponseStatus::Successful {
            return Err(format!("status {:?}", resp.response_status));
        }
        let bytes = resp.response_bytes.ok_or("no responseBytes")?;
        if bytes.response_type.to_string() != OID_OCSP_BASIC {
            return Err(format!("response type {} is not id-pkix-ocsp-basic", bytes.response_type));
        }
        let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).map_err(|e| e.to_string())?;
        // what the responder signed, as it stands (re-encoded only if it cannot be delimited)
        let tbs: std::borrow::Cow<[u8]> = match kyso_pki::cert::signed_part(bytes.response.as_bytes()) {
            Some(raw) => raw.into(),
            None => basic.tbs_response_data.to_der().map_err(|e| e.to_string())?.into(),
        };
        let sig = basic.signature.as_bytes().ok_or("the signature is not whole octets")?;
        let own = basic.certs.as_deref().unwrap_or(&[]);
        let rid = &basic.tbs_response_data.responder_id;
        for single in &basic.tbs_response_data.responses {
            // the issuer this statement is about, by the CertID's name and key hashes
            let Some(issuer) = pool.iter().copied().find(|c| kyso_pki::ocsp::names_issuer(&single.cert_id, c)) else {
                continue;
            };
            // signed by the issuer itself, or by a responder the issuer certified for OCSP signing
            // (at most MAX_ISSUER_CANDIDATES look-alike responders are tried: a bounded cost)
            let signer_ok = own
                .iter()
                .chain(pool.iter().copied())
                .filter(|c| responder_matches(rid, c))
                .take(chain::MAX_ISSUER_CANDIDATES)
                .any(|r| {
                    let authorised = r == issuer
                        || (r.tbs_certificate.issuer == issuer.tbs_certificate.subject
                            && chain::signed_by(r, issuer)
                            && chain::has_eku(r, chain::EKU_OCSP_SIGNING));
                    authorised && {
                        let spki = r.tbs_certificate.subject_public_key_info.to_der().unwrap_or_default();
                        let alg = basic.signature_algorithm.to_der().unwrap_or_default();
                        memo.verified(&[&tbs, &alg, sig], &spki, || {
                            verify_with(r, &basic.signature_algorithm, &tbs, sig)
                        })
                    }
                });
            if !signer_ok {
                return Err(format!("not signed by «{}» or a responder it authorised", chain::common_name(issuer)));
            }
            let status = match &single.cert_status {
                CertStatus::Good(_) => Revocation::Good,
                CertStatus::Revoked(r) => Revocation::Revoked {
                    at: r.revocation_time.0.to_system_time(),
                    reason: r.revocation_reason.map(|x| x as u8).unwrap_or(0),
                },
                CertStatus::Unknown(_) => Revocation::Unknown,
            };
            self.ocsp.push(Statement {
                issuer: issuer_id(issuer),
                serial: single.cert_id.serial_number.as_bytes().to_vec(),
                status,
                this_update: single.this_update.0.to_system_time(),
                next_update: single.next_update.map(|t| t.0.to_system_time()),
                source: "OCSP",
            });
        }
        Ok(())
    }

    fn add_crl(&mut self, der: &[u8], pool: &[&Certificate]) -> Result<(), String> {
        let crl = CertificateList::from_der(der).map_err(|e| format!("not a CRL: {e}"))?;
        let tbs: std::borrow::Cow<[u8]> = match kyso_pki::cert::signed_part(der) {
            Some(raw) => raw.into(),
            None => crl.tbs_cert_list.to_der().map_err(|e| e.to_string())?.into(),
        };
        let sig = crl.signature.as_bytes().ok_or("the signature is not whole octets")?;
        let issuer = pool
            .iter()
            .filter(|c| c.tbs_certificate.subject == crl.tbs_cert_list.issuer)
            .take(chain::MAX_ISSUER_CANDIDATES)
            // the same CRL covers every document until its nextUpdate: its signature is checked once
            .find(|c| {
                let spki = c.tbs_certificate.subject_public_key_info.to_der().unwrap_or_default();
                chain::verified_once(der, &spki, || verify_with(c, &crl.signature_algorithm, &tbs, sig))
            })
            .ok_or("its issuer is unknown or its signature does not verify")?;
        let reason_of = |exts: &Option<x509_cert::ext::Extensions>| {
            exts.as_deref()
                .unwrap_or(&[])
                .iter()
                .find(|e| e.extn_id == OID_CRL_REASON)
                .and_then(|e| x509_cert::ext::pkix::CrlReason::from_der(e.extn_value.as_bytes()).ok())
                .map(|r| r as u8)
                .unwrap_or(0)
        };
        let revoked = crl
            .tbs_cert_list
            .revoked_certificates
            .iter()
            .flatten()
            .map(|r| {
                (
                    r.serial_number.as_bytes().to_vec(),
                    r.revocation_date.to_system_time(),
                    reason_of(&r.crl_entry_extensions),
                )
            })
            .collect();
        self.crls.push(CheckedCrl {
            issuer: issuer_id(issuer),
            revoked,
            this_update: crl.tbs_cert_list.this_update.to_system_time(),
            next_update: crl.tbs_cert_list.next_update.map(|t| t.to_system_time()),
        });
        Ok(())
    }

    /// The DSS's answer for `subject` at `at`: a revocation (whenever it was issued), or "good"
    /// from evidence that covers `at` (issued at or after it, or valid over it). OCSP first.
    pub fn status_at(
        &self,
        issuer: &Certificate,
        subject: &Certificate,
        at: SystemTime,
    ) -> Option<(Revocation, &'static str)> {
        let issuer_id = issuer_id(issuer);
        let serial = subject.tbs_certificate.serial_number.as_bytes();
        let covers =
            |this: SystemTime, next: Option<SystemTime>| this >= at || next.is_some_and(|n| this <= at && at <= n);
        let mut statements: Vec<(Revocation, SystemTime, Option<SystemTime>, &'static str)> = self
            .ocsp
            .iter()
            .filter(|s| s.issuer == issuer_id && s.serial == serial)
            .map(|s| (s.status, s.this_update, s.next_update, s.source))
            .collect();
        for c in self.crls.iter().filter(|c| c.issuer == issuer_id) {
            let st = match c.revoked.iter().find(|(s, _, _)| s == serial) {
                Some((_, t, reason)) => Revocation::Revoked { at: *t, reason: *reason },
                None => Revocation::Good,
            };
            statements.push((st, c.this_update, c.next_update, "CRL"));
        }
        // a revocation is a revocation whenever it was published
        if let Some((st, _, _, src)) = statements.iter().find(|s| matches!(s.0, Revocation::Revoked { .. })) {
            return Some((*st, src));
        }
        statements
            .iter()
            .find(|(st, this, next, _)| *st == Revocation::Good && covers(*this, *next))
            .map(|(st, _, _, src)| (*st, *src))
    }
}

/// The DSS first, at a fixed time; the caller's source for what the DSS does not answer. Records
/// whether every lookup was answered by the DSS.
pub struct Layered<'a> {
    pub dss: &'a DssEvidence,
    pub live: &'a dyn RevocationSource,
    pub at: SystemTime,
    pub all_from_dss: std::cell::Cell<bool>,
}

impl<'a> Layered<'a> {
    pub fn new(dss: &'a DssEvidence, live: &'a dyn RevocationSource, at: SystemTime) -> Layered<'a> {
        Layered { dss, live, at, all_from_dss: std::cell::Cell::new(true) }
    }

    /// The status and where it came from ("DSS OCSP", "DSS CRL" or "live").
    pub fn lookup(&self, issuer: &Certificate, subject: &Certificate) -> (Revocation, String) {
        match self.dss.status_at(issuer, subject, self.at) {
            Some((st, src)) => (st, format!("DSS {src}")),
            None => {
                self.all_from_dss.set(false);
                (self.live.status(issuer, subject), "live".into())
            }
        }
    }
}

impl RevocationSource for Layered<'_> {
    fn status(&self, issuer: &Certificate, subject: &Certificate) -> Revocation {
        self.lookup(issuer, subject).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn garbage_evidence_is_rejected_not_trusted() {
        let data = ValidationData {
            certs: vec![b"junk".to_vec()],
            ocsps: vec![b"\x30\x03\x0a\x01\x00".to_vec(), vec![0xff; 10]],
            crls: vec![b"\x30\x00".to_vec()],
        };
        let e = DssEvidence::new(&data, &[]);
        assert!(e.is_empty());
        assert_eq!(e.rejected.len(), 3, "{:?}", e.rejected);
    }
}
