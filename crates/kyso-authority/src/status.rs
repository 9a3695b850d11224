//! Revocation status and time: CRLs (signed on revocation and on a schedule), OCSP answers from
//! the delegated responders, RFC 3161 time-stamps.

use crate::{Authority, AuthorityError, Result, ACTOR_SYSTEM};
use kyso_pki::cert::{serial_hex, Serial};
use kyso_pki::crl::{build_crl, RevokedEntry};
use kyso_pki::ocsp::{self, ResponseStatus, Status};
use kyso_pki::time::from_unix;
use kyso_pki::tsa;
use kyso_store::{AuditEvent, CrlRow, Write};
use std::time::{Duration, SystemTime};

impl Authority {
    /// The writes for a freshly signed CRL of `issuer_id` (plus `extra`, a revocation being
    /// committed in the same transaction). The caller holds the revocation lock.
    pub(crate) async fn crl_writes(
        &self,
        issuer_id: &str,
        extra: Option<(&str, i64, i64)>,
        actor: &str,
    ) -> Result<Vec<Write>> {
        let ca = self.ca(issuer_id).ok_or_else(|| AuthorityError::NotFound(format!("CA {issuer_id}")))?;
        let mut revoked = self.store.revoked(issuer_id).await?;
        if let Some((s, at, r)) = extra {
            revoked.push((s.to_string(), at, r));
        }
        let mut entries = Vec::with_capacity(revoked.len());
        for (serial, at, reason) in revoked {
            entries.push(RevokedEntry {
                serial: hex::decode(&serial)
                    .map_err(|_| AuthorityError::Refused(format!("stored serial {serial} is not hex")))?,
                revoked_at: from_unix(at),
                reason: reason as u8,
            });
        }
        let number = self.store.latest_crl(issuer_id).await?.map(|c| c.crl_number + 1).unwrap_or(1);
        let now = SystemTime::now();
        let next = now + Duration::from_secs(self.config.crl_validity_hours * 3600);
        let der = build_crl(&ca.issuer(), number as u64, now, next, &entries)?;
        Ok(vec![
            Write::Crl(CrlRow {
                issuer_id: issuer_id.to_string(),
                crl_number: number,
                this_update: kyso_pki::time::unix(now) as i64,
                next_update: kyso_pki::time::unix(next) as i64,
                der,
            }),
            Write::Audit(AuditEvent::new(
                actor,
                "crl.sign",
                issuer_id,
                format!("CRL #{number}, {} entries", entries.len()),
            )),
        ])
    }

    /// Sign a new CRL for `issuer_id` now.
    pub async fn sign_crl(&self, issuer_id: &str, actor: &str) -> Result<CrlRow> {
        let _guard = self.revocation_lock.lock().await;
        let w = self.crl_writes(issuer_id, None, actor).await?;
        self.committer().commit(w).await?;
        self.store.latest_crl(issuer_id).await?.ok_or_else(|| AuthorityError::NotFound(format!("CRL of {issuer_id}")))
    }

    /// The current CRL; re-signed when none exists or half its validity has passed.
    pub async fn current_crl(&self, issuer_id: &str) -> Result<CrlRow> {
        if self.ca(issuer_id).is_none() {
            return Err(AuthorityError::NotFound(format!("CA {issuer_id}")));
        }
        match self.store.latest_crl(issuer_id).await? {
            Some(c) if kyso_store::now() < c.this_update + (c.next_update - c.this_update) / 2 => Ok(c),
            _ => self.sign_crl(issuer_id, ACTOR_SYSTEM).await,
        }
    }

    /// The scheduled job: refresh every CA's CRL that is past half its validity.
    pub async fn refresh_crls(&self) -> Result<()> {
        let ids: Vec<String> = self.cas().map(|c| c.id.clone()).collect();
        for id in ids {
            self.current_crl(&id).await?;
        }
        Ok(())
    }

    /// Answer a DER OCSPRequest addressed to `provider`'s responder. Always returns a DER
    /// OCSPResponse (errors become malformedRequest / unauthorized / internalError).
    pub async fn ocsp(&self, provider: &str, request: &[u8]) -> Vec<u8> {
        let (Some(ca), Some(responder)) = (self.ca(provider), self.responder(provider)) else {
            return ocsp::error_response(ResponseStatus::Unauthorized);
        };
        let query = match ocsp::parse_request(request) {
            Ok(q) => q,
            Err(_) => return ocsp::error_response(ResponseStatus::MalformedRequest),
        };
        let mut statuses = Vec::with_capacity(query.cert_ids.len());
        for id in &query.cert_ids {
            if !ocsp::names_issuer(id, &ca.cert) {
                return ocsp::error_response(ResponseStatus::Unauthorized);
            }
            let serial = serial_hex(id.serial_number.as_bytes());
            statuses.push(match self.store.status(&ca.id, &serial).await {
                Ok(Some((Some(at), reason))) => Status::Revoked { at: from_unix(at), reason: reason as u8 },
                Ok(Some((None, _))) => Status::Good,
                Ok(None) => Status::Unknown,
                Err(e) => {
                    tracing::error!(error = %e, "OCSP status lookup failed");
                    return ocsp::error_response(ResponseStatus::TryLater);
                }
            });
        }
        let now = SystemTime::now();
        let r = ocsp::Responder { cert: &responder.cert, signer: responder.signer.as_ref() };
        ocsp::build_response(&query, &statuses, &r, now, now + Duration::from_secs(3600))
            .unwrap_or_else(|_| ocsp::error_response(ResponseStatus::InternalError))
    }

    /// Answer a DER TimeStampReq. Returns a DER TimeStampResp (granted, or a rejection).
    pub fn timestamp(&self, request: &[u8]) -> Vec<u8> {
        let q = match tsa::parse_request(request) {
            Ok(q) => q,
            Err(e) => return tsa::rejection(&e.to_string()),
        };
        let t = self.tsa();
        let policy = kyso_pki::cert::parse_oid(&self.config.tsa.policy_oid).unwrap_or(kyso_pki::cert::OID_ANY_POLICY);
        let ctx = tsa::Tsa { cert: &t.cert, cert_der: &t.cert_der, signer: t.signer.as_ref(), policy };
        let serial = match Serial::random() {
            Ok(s) => s,
            Err(e) => return tsa::rejection(&e.to_string()),
        };
        tsa::build_response(&q, &ctx, &serial.0, SystemTime::now()).unwrap_or_else(|e| tsa::rejection(&e.to_string()))
    }
}
