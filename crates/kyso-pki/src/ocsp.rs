//! OCSP (RFC 6960): parse requests, build responses signed by the provider's delegated responder.
//! Statuses come in from the caller (the authority looks them up); this module does no IO.
//! A serial kyso never issued is answered "unknown", never "good".

use crate::alg::{self, signature_algorithm};
use crate::time::generalized;
use crate::Signer;
use crate::{DerContext, PkiError};
use der::asn1::{BitString, Null, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use spki::SubjectPublicKeyInfoRef;
use std::time::SystemTime;
use x509_cert::certificate::Certificate;
use x509_cert::ext::Extension;
pub use x509_ocsp::CertId;
use x509_ocsp::{
    BasicOcspResponse, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse, OcspResponseStatus, Request,
    ResponderId, ResponseBytes, ResponseData, RevokedInfo, SingleResponse, TbsRequest, Version,
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

/// The CertID a client computes for `serial` under the CA with this certificate, with the hash
/// `hash_oid` (SHA-1 as RFC 5019 clients and OpenSSL send by default, or SHA-2).
pub fn cert_id(ca: &Certificate, serial: &[u8], hash_oid: ObjectIdentifier) -> Result<CertId, PkiError> {
    let name_der = ca.tbs_certificate.subject.to_der().ctx("issuer name")?;
    let key = ca.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
    let (Some(nh), Some(kh)) = (alg::digest_by_oid(&hash_oid, &name_der), alg::digest_by_oid(&hash_oid, key)) else {
        return Err(PkiError::invalid("CertID", "unsupported hash algorithm"));
    };
    Ok(CertId {
        hash_algorithm: spki::AlgorithmIdentifierOwned { oid: hash_oid, parameters: Some(Null.into()) },
        issuer_name_hash: OctetString::new(nh).ctx("issuerNameHash")?,
        issuer_key_hash: OctetString::new(kh).ctx("issuerKeyHash")?,
        serial_number: x509_cert::serial_number::SerialNumber::new(serial).ctx("serialNumber")?,
    })
}

/// The hash algorithms a CertID may use here, SHA-1 first (RFC 5019's).
pub const CERT_ID_HASHES: [ObjectIdentifier; 4] = [alg::SHA1, alg::SHA256, alg::SHA384, alg::SHA512];

/// A DER OCSPRequest for these CertIDs, with a nonce extension if given (clients and benches).
pub fn request_der(ids: &[CertId], nonce: Option<&[u8]>) -> Result<Vec<u8>, PkiError> {
    let request_extensions = match nonce {
        Some(n) => Some(vec![Extension {
            extn_id: OID_OCSP_NONCE,
            critical: false,
            extn_value: OctetString::new(OctetString::new(n).ctx("nonce")?.to_der().ctx("nonce")?).ctx("nonce")?,
        }]),
        None => None,
    };
    let req = OcspRequest {
        tbs_request: TbsRequest {
            version: Version::V1,
            requestor_name: None,
            request_list: ids
                .iter()
                .map(|id| Request { req_cert: id.clone(), single_request_extensions: None })
                .collect(),
            request_extensions,
        },
        optional_signature: None,
    };
    req.to_der().ctx("OCSPRequest")
}

/// A request that a pre-produced response can answer: exactly one CertID and no nonce.
pub fn cacheable(query: &OcspQuery) -> Option<&CertId> {
    match (&query.cert_ids[..], &query.nonce) {
        ([id], None) => Some(id),
        _ => None,
    }
}

/// The key a pre-produced response is kept under: hash OID, issuer name and key hashes, serial
/// without leading zeros. The AlgorithmIdentifier's parameters (NULL or absent: clients differ)
/// and the serial's padding are left out, so that every spelling of one CertID finds, and a
/// revocation replaces, the same entry.
pub fn cache_key(id: &CertId) -> Vec<u8> {
    let oid = id.hash_algorithm.oid.as_bytes();
    let serial = id.serial_number.as_bytes();
    let serial = &serial[serial.iter().position(|&b| b != 0).unwrap_or(serial.len().saturating_sub(1))..];
    let (nh, kh) = (id.issuer_name_hash.as_bytes(), id.issuer_key_hash.as_bytes());
    let mut k = Vec::with_capacity(1 + oid.len() + nh.len() + kh.len() + serial.len());
    k.push(oid.len() as u8);
    k.extend_from_slice(oid);
    k.extend_from_slice(nh);
    k.extend_from_slice(kh);
    k.extend_from_slice(serial);
    k
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
