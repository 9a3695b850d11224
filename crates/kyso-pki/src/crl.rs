//! CRLs (RFC 5280 §5): v2, CRL number, AKI, nextUpdate; reason codes per entry. No
//! issuingDistributionPoint: kyso's CRLs are full CRLs covering everything the CA issued.

use crate::alg::signature_algorithm;
use crate::cert::{IssuerRef, OID_AKI};
use crate::time::x509_time;
use crate::{DerContext, PkiError};
use der::asn1::{BitString, ObjectIdentifier, OctetString, Uint};
use der::{Decode, Encode};
use std::time::SystemTime;
use x509_cert::certificate::Version;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber, CrlReason};
use x509_cert::ext::Extension;
use x509_cert::serial_number::SerialNumber;

pub const OID_CRL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.20");
pub const OID_CRL_REASON: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");

/// RFC 5280 reason codes (7 is unused by the standard).
pub fn reason_from_code(code: u8) -> Option<CrlReason> {
    Some(match code {
        0 => CrlReason::Unspecified,
        1 => CrlReason::KeyCompromise,
        2 => CrlReason::CaCompromise,
        3 => CrlReason::AffiliationChanged,
        4 => CrlReason::Superseded,
        5 => CrlReason::CessationOfOperation,
        6 => CrlReason::CertificateHold,
        8 => CrlReason::RemoveFromCRL,
        9 => CrlReason::PrivilegeWithdrawn,
        10 => CrlReason::AaCompromise,
        _ => return None,
    })
}

/// Parse a reason name as users type it (`keyCompromise`, `key-compromise`, `superseded`, …).
pub fn reason_from_name(s: &str) -> Option<u8> {
    let k: String = s.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
    Some(match k.as_str() {
        "unspecified" | "0" => 0,
        "keycompromise" | "1" => 1,
        "cacompromise" | "2" => 2,
        "affiliationchanged" | "3" => 3,
        "superseded" | "4" => 4,
        "cessationofoperation" | "5" => 5,
        "certificatehold" | "6" => 6,
        "privilegewithdrawn" | "9" => 9,
        "aacompromise" | "10" => 10,
        _ => return None,
    })
}

pub fn reason_name(code: u8) -> &'static str {
    match code {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        _ => "unknown",
    }
}

pub struct RevokedEntry {
    pub serial: Vec<u8>,
    pub revoked_at: SystemTime,
    pub reason: u8,
}

fn ext<T: Encode>(oid: ObjectIdentifier, value: &T) -> Result<Extension, PkiError> {
    Ok(Extension {
        extn_id: oid,
        critical: false,
        extn_value: OctetString::new(value.to_der().ctx("CRL extension")?).ctx("CRL extension")?,
    })
}

pub fn build_crl(
    issuer: &IssuerRef,
    crl_number: u64,
    this_update: SystemTime,
    next_update: SystemTime,
    revoked: &[RevokedEntry],
) -> Result<Vec<u8>, PkiError> {
    let mut entries = Vec::with_capacity(revoked.len());
    for r in revoked {
        let reason = reason_from_code(r.reason).ok_or_else(|| PkiError::invalid("reason", r.reason.to_string()))?;
        // RFC 5280 §5.3.1: the reason code "unspecified" SHOULD be absent.
        let exts = if r.reason == 0 { None } else { Some(vec![ext(OID_CRL_REASON, &reason)?]) };
        entries.push(RevokedCert {
            serial_number: SerialNumber::new(&r.serial).ctx("revoked serial")?,
            revocation_date: x509_time(r.revoked_at)?,
            crl_entry_extensions: exts,
        });
    }
    let sig_alg = signature_algorithm(issuer.scheme);
    let number = CrlNumber(Uint::new(&crl_number.to_be_bytes()).ctx("CRL number")?);
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(issuer.key_id.clone()).ctx("AKI")?),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    let tbs = TbsCertList {
        version: Version::V2,
        signature: sig_alg.clone(),
        issuer: issuer.name.clone(),
        this_update: x509_time(this_update)?,
        next_update: Some(x509_time(next_update)?),
        revoked_certificates: if entries.is_empty() { None } else { Some(entries) },
        crl_extensions: Some(vec![ext(OID_AKI, &aki)?, ext(OID_CRL_NUMBER, &number)?]),
    };
    let tbs_der = tbs.to_der().ctx("TBSCertList")?;
    let sig = issuer.signer.sign(issuer.scheme, &tbs_der)?;
    let crl = CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: sig_alg,
        signature: BitString::from_bytes(&sig).ctx("CRL signature")?,
    };
    let der = crl.to_der().ctx("CertificateList")?;
    // lint: decodes back, and verifies under the CA key
    let back = CertificateList::from_der(&der).ctx("CRL lint")?;
    let ok = kyso_keys::verify(
        issuer.signer.public_key_der(),
        issuer.scheme,
        &back.tbs_cert_list.to_der().ctx("CRL lint")?,
        back.signature.as_bytes().unwrap_or(&[]),
    );
    if !ok {
        return Err(PkiError::Lint("CRL signature does not verify".into()));
    }
    Ok(der)
}
