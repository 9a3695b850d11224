//! Pre-issuance lint: every certificate is decoded back and checked against its profile before it
//! may be stored or returned (Boulder's habit). The independent check is pkilint, in the tests.

use crate::alg::scheme_of;
use crate::cert::*;
use crate::subject::{name_attr, name_attrs, OID_C, OID_CN, OID_ST, OID_UID};
use crate::{id::parse_uid, DerContext, PkiError};
use der::{Decode, Encode, Tag, Tagged};
use std::collections::HashSet;
use x509_cert::certificate::{Certificate, Version};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};
use x509_cert::name::Name;
use x509_cert::time::Time;

/// Citizen certificates may not exceed 3 years (Decree 23/2025, Art. 7).
pub const MAX_CITIZEN_VALIDITY_SECS: u64 = 3 * 366 * 86_400;

pub fn check_certificate(
    der: &[u8],
    spec: &CertSpec,
    issuer_name: &Name,
    issuer_key_id: &[u8],
    issuer_spki: &[u8],
) -> Result<(), PkiError> {
    check_der(der, spec.profile, issuer_name, issuer_key_id, issuer_spki)
}

/// Decode an issued certificate and check it against `profile`: an error listing every finding.
pub fn check_der(
    der: &[u8],
    profile: Profile,
    issuer_name: &Name,
    issuer_key_id: &[u8],
    issuer_spki: &[u8],
) -> Result<(), PkiError> {
    let cert = Certificate::from_der(der).ctx("issued certificate")?;
    let f = findings(&cert, profile, issuer_name, issuer_key_id, issuer_spki)?;
    if f.is_empty() {
        Ok(())
    } else {
        Err(PkiError::Lint(f.join("; ")))
    }
}

fn time_ok(t: &Time) -> bool {
    let year = t.to_date_time().year();
    matches!((t, year < 2050), (Time::UtcTime(_), true) | (Time::GeneralTime(_), false))
}

/// All profile violations of a decoded certificate (empty = clean).
pub fn findings(
    cert: &Certificate,
    profile: Profile,
    issuer_name: &Name,
    issuer_key_id: &[u8],
    issuer_spki: &[u8],
) -> Result<Vec<String>, PkiError> {
    let mut f = Vec::new();
    let tbs = &cert.tbs_certificate;
    if tbs.version != Version::V3 {
        f.push("version must be v3".into());
    }
    let serial = tbs.serial_number.as_bytes();
    if serial.len() < 8 || serial.len() > 20 || serial[0] & 0x80 != 0 {
        f.push(format!("serial must be positive, 8..=20 octets (got {} octets)", serial.len()));
    }
    if tbs.signature != cert.signature_algorithm {
        f.push("tbsCertificate.signature differs from signatureAlgorithm".into());
    }
    let Some(scheme) = scheme_of(&cert.signature_algorithm) else {
        f.push("unsupported signature algorithm".into());
        return Ok(f);
    };
    let nb = tbs.validity.not_before.to_unix_duration();
    let na = tbs.validity.not_after.to_unix_duration();
    if na <= nb {
        f.push("notAfter is not after notBefore".into());
    }
    if !time_ok(&tbs.validity.not_before) || !time_ok(&tbs.validity.not_after) {
        f.push("validity times must be UTCTime before 2050 and GeneralizedTime from 2050".into());
    }
    if &tbs.issuer != issuer_name {
        f.push("issuer name differs from the CA's subject".into());
    }

    let exts = tbs.extensions.as_deref().unwrap_or(&[]);
    let mut seen = HashSet::new();
    for e in exts {
        if !seen.insert(e.extn_id) {
            f.push(format!("duplicate extension {}", e.extn_id));
        }
    }
    let find = |oid| exts.iter().find(|e| e.extn_id == oid);

    match find(OID_SKI) {
        None => f.push("subjectKeyIdentifier missing".into()),
        Some(e) if e.critical => f.push("subjectKeyIdentifier must not be critical".into()),
        _ => {}
    }
    match find(OID_AKI) {
        None => f.push("authorityKeyIdentifier missing".into()),
        Some(e) => {
            let aki = x509_cert::ext::pkix::AuthorityKeyIdentifier::from_der(e.extn_value.as_bytes()).ctx("AKI")?;
            if aki.key_identifier.as_ref().map(|k| k.as_bytes()) != Some(issuer_key_id) {
                f.push("authorityKeyIdentifier does not match the issuer's key".into());
            }
        }
    }
    let ku = match find(OID_KU) {
        None => {
            f.push("keyUsage missing".into());
            None
        }
        Some(e) => {
            if !e.critical {
                f.push("keyUsage must be critical".into());
            }
            Some(KeyUsage::from_der(e.extn_value.as_bytes()).ctx("keyUsage")?)
        }
    };
    let bc = find(OID_BC)
        .map(|e| BasicConstraints::from_der(e.extn_value.as_bytes()).map(|b| (e.critical, b)))
        .transpose()
        .ctx("basicConstraints")?;
    let eku = find(OID_EKU)
        .map(|e| ExtendedKeyUsage::from_der(e.extn_value.as_bytes()).map(|x| (e.critical, x.0)))
        .transpose()
        .ctx("extKeyUsage")?;

    use KeyUsages::*;
    let want_ku = match profile {
        Profile::Root | Profile::ProviderCa => KeyCertSign | CRLSign,
        Profile::OcspSigner | Profile::Tsa => DigitalSignature.into(),
        Profile::Citizen => DigitalSignature | NonRepudiation,
    };
    if let Some(ku) = ku {
        if ku.0 != want_ku {
            f.push(format!("keyUsage for {} must be exactly {:?}", profile.as_str(), want_ku));
        }
    }
    if profile.is_ca() {
        match bc {
            Some((true, b)) if b.ca => {
                if profile == Profile::ProviderCa && b.path_len_constraint != Some(0) {
                    f.push("provider CA must have pathLenConstraint 0".into());
                }
            }
            _ => f.push("CA certificate needs critical basicConstraints cA=TRUE".into()),
        }
        if eku.is_some() {
            f.push("CA certificates carry no extKeyUsage".into());
        }
    } else if matches!(bc, Some((_, b)) if b.ca) {
        f.push("end-entity certificate must not be a CA".into());
    }
    match profile {
        Profile::OcspSigner => {
            if !matches!(&eku, Some((_, o)) if o == &vec![OID_KP_OCSP_SIGNING]) {
                f.push("OCSP signer needs extKeyUsage id-kp-OCSPSigning".into());
            }
            if find(OID_OCSP_NOCHECK).is_none() {
                f.push("OCSP signer needs id-pkix-ocsp-nocheck".into());
            }
        }
        Profile::Tsa if !matches!(&eku, Some((true, o)) if o == &vec![OID_KP_TIME_STAMPING]) => {
            f.push("TSA needs a critical extKeyUsage of id-kp-timeStamping only (RFC 3161 §2.3)".into());
        }
        Profile::Citizen => {
            if !matches!(&eku, Some((false, o)) if o.contains(&OID_KP_DOCUMENT_SIGNING)) {
                f.push("citizen certificate needs extKeyUsage documentSigning".into());
            }
            if find(OID_CRL_DP).is_none() || find(OID_AIA).is_none() {
                f.push("citizen certificate needs CRL distribution point and AIA".into());
            }
            if find(OID_POLICIES).is_none() {
                f.push("citizen certificate needs certificatePolicies".into());
            }
            if na.saturating_sub(nb).as_secs() > MAX_CITIZEN_VALIDITY_SECS {
                f.push("citizen certificate validity exceeds 3 years (Decree 23/2025)".into());
            }
            check_citizen_subject(&tbs.subject, &mut f);
        }
        _ => {}
    }

    // Verify-after-sign wherever a faulty signature could do harm or go unnoticed: every RSA
    // signature (a faulty RSA-CRT signature leaks the key) and every CA, OCSP and TSA certificate.
    // EC citizen certificates skip it on the hot path (a third of the issuance cost); their CA
    // key passes a sign/verify self-test when it is loaded, and pkilint/OpenSSL check them in CI.
    if profile != Profile::Citizen || scheme != kyso_keys::SignatureScheme::EcdsaP256Sha256 {
        let tbs_der = tbs.to_der().ctx("TBSCertificate")?;
        let sig = cert.signature.as_bytes().unwrap_or(&[]);
        if !kyso_keys::verify(issuer_spki, scheme, &tbs_der, sig) {
            f.push("signature does not verify under the issuer's key".into());
        }
    }
    Ok(f)
}

fn check_citizen_subject(subject: &Name, f: &mut Vec<String>) {
    if name_attr(subject, OID_C).as_deref() != Some("VN") {
        f.push("subject C must be VN".into());
    }
    if name_attr(subject, OID_ST).is_none() {
        f.push("subject ST (province) missing".into());
    }
    if name_attr(subject, OID_CN).is_none() {
        f.push("subject CN (full name) missing".into());
    }
    let uids = name_attrs(subject, OID_UID);
    let cccd = uids
        .iter()
        .filter_map(|u| parse_uid(u))
        .any(|(p, v)| p == "CCCD" && v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()));
    if !cccd {
        f.push("subject UID must be CCCD:<12 digits>".into());
    }
    for atv in subject.0.iter().flat_map(|r| r.0.iter()) {
        let want = if atv.oid == OID_C { Tag::PrintableString } else { Tag::Utf8String };
        if atv.value.tag() != want {
            f.push(format!("subject attribute {} must be {:?}", atv.oid, want));
        }
    }
}
