//! OCSP (RFC 6960): parse requests, build responses signed by the provider's delegated responder.
//! Statuses come in from the caller (the authority looks them up); this module does no IO.
//! A serial kyso never issued is answered "unknown", never "good".

use crate::alg::{self, signature_algorithm};
use crate::time::generalized;
use crate::{DerContext, PkiError};
use der::asn1::{BitString, Null, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use kyso_keys::Signer;
use spki::SubjectPublicKeyInfoRef;
use std::time::SystemTime;
use x509_cert::certificate::Certificate;
use x509_cert::ext::Extension;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse, OcspResponseStatus,
    ResponderId, ResponseBytes, ResponseData, RevokedInfo, SingleResponse, Version,
};

pub const OID_OCSP_NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");
pub const OID_OCSP_BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");

/// A parsed request: the certificates asked about and the nonce extension to echo.
pub struct OcspQuery {
    pub cert_ids: Vec<CertId>,
    pub nonce: Option<Extension>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Good,
    Revoked { at: SystemTime, reason: u8 },
    Unknown,
}

/// Parse a DER OCSPRequest. Nonces must be 1–32 octets (RFC 8954).
pub fn parse_request(der: &[u8]) -> Result<OcspQuery, PkiError> {
    let req = OcspRequest::from_der(der).ctx("OCSPRequest")?;
    if req.tbs_request.request_list.is_empty() {
        return Err(PkiError::invalid("OCSPRequest", "requestList is empty"));
    }
    if req.tbs_request.request_list.len() > 64 {
        return Err(PkiError::invalid("OCSPRequest", "more than 64 certificates in one request"));
    }
    let nonce =
        req.tbs_request.request_extensions.unwrap_or_default().into_iter().find(|e| e.extn_id == OID_OCSP_NONCE);
    if let Some(n) = &nonce {
        let len = OctetString::from_der(n.extn_value.as_bytes()).map(|o| o.as_bytes().len()).unwrap_or(0);
        if !(1..=32).contains(&len) {
            return Err(PkiError::invalid("nonce", "OCSP nonce must be 1 to 32 octets (RFC 8954)"));
        }
    }
    Ok(OcspQuery { cert_ids: req.tbs_request.request_list.into_iter().map(|r| r.req_cert).collect(), nonce })
}

/// Does this CertID name the CA with this certificate? Hashes are recomputed with the request's
/// hash algorithm (SHA-1 as OpenSSL sends by default, or SHA-2).
pub fn names_issuer(id: &CertId, ca: &Certificate) -> bool {
    let Ok(name_der) = ca.tbs_certificate.subject.to_der() else { return false };
    let key = ca.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
    let (Some(nh), Some(kh)) =
        (alg::digest_by_oid(&id.hash_algorithm.oid, &name_der), alg::digest_by_oid(&id.hash_algorithm.oid, key))
    else {
        return false;
    };
    id.issuer_name_hash.as_bytes() == nh.as_slice() && id.issuer_key_hash.as_bytes() == kh.as_slice()
}

/// The responder: its certificate (issued by the CA, id-kp-OCSPSigning) and its key.
pub struct Responder<'a> {
    pub cert: &'a Certificate,
    pub signer: &'a dyn Signer,
}

/// Build a signed, successful response. `statuses[i]` answers `query.cert_ids[i]`.
pub fn build_response(
    query: &OcspQuery,
    statuses: &[Status],
    responder: &Responder,
    now: SystemTime,
    next_update: SystemTime,
) -> Result<Vec<u8>, PkiError> {
    let this = OcspGeneralizedTime(generalized(now)?);
    let next = OcspGeneralizedTime(generalized(next_update)?);
    let mut responses = Vec::with_capacity(statuses.len());
    for (id, st) in query.cert_ids.iter().zip(statuses) {
        let cert_status = match *st {
            Status::Good => CertStatus::Good(Null),
            Status::Unknown => CertStatus::Unknown(Null),
            Status::Revoked { at, reason } => CertStatus::Revoked(RevokedInfo {
                revocation_time: OcspGeneralizedTime(generalized(at)?),
                revocation_reason: if reason == 0 { None } else { crate::crl::reason_from_code(reason) },
            }),
        };
        responses.push(SingleResponse {
            cert_id: id.clone(),
            cert_status,
            this_update: this,
            next_update: Some(next),
            single_extensions: None,
        });
    }
    let spki = responder.cert.tbs_certificate.subject_public_key_info.to_der().ctx("responder SPKI")?;
    let key_bits =
        SubjectPublicKeyInfoRef::from_der(&spki).ctx("responder SPKI")?.subject_public_key.raw_bytes().to_vec();
    let data = ResponseData {
        version: Version::V1,
        responder_id: ResponderId::ByKey(OctetString::new(alg::sha1(&key_bits)).ctx("KeyHash")?),
        produced_at: this,
        responses,
        response_extensions: query.nonce.clone().map(|n| vec![n]),
    };
    let scheme = responder.signer.algorithm().default_scheme();
    let sig_alg = signature_algorithm(scheme);
    let tbs = data.to_der().ctx("ResponseData")?;
    let sig = responder.signer.sign(scheme, &tbs)?;
    let basic = BasicOcspResponse {
        tbs_response_data: data,
        signature_algorithm: sig_alg,
        signature: BitString::from_bytes(&sig).ctx("OCSP signature")?,
        certs: Some(vec![responder.cert.clone()]),
    };
    let resp = OcspResponse {
        response_status: OcspResponseStatus::Successful,
        response_bytes: Some(ResponseBytes {
            response_type: OID_OCSP_BASIC,
            response: OctetString::new(basic.to_der().ctx("BasicOCSPResponse")?).ctx("ResponseBytes")?,
        }),
    };
    resp.to_der().ctx("OCSPResponse")
}

/// An unsigned error response (malformedRequest, internalError, unauthorized, …).
pub fn error_response(status: OcspResponseStatus) -> Vec<u8> {
    OcspResponse { response_status: status, response_bytes: None }.to_der().unwrap_or_default()
}

pub use x509_ocsp::OcspResponseStatus as ResponseStatus;
