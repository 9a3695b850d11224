//! Certificate paths to the configured trust anchors, revocation at signing time, validity and
//! key usage. A missing link is named (which issuer is not trusted) so an operator knows what to add.

use crate::{Revocation, SignatureReport, SubIndication};
use der::{Decode, Encode};
use kyso_pki::subject::{name_attr, name_attrs, OID_CN, OID_UID};
use std::time::SystemTime;
use x509_cert::Certificate;

/// The national trust list: roots, plus intermediates known in advance (the provider CAs).
#[derive(Clone, Default)]
pub struct TrustAnchors {
    roots: Vec<(Certificate, Vec<u8>)>,
    intermediates: Vec<Certificate>,
}

impl TrustAnchors {
    pub fn new() -> TrustAnchors {
        TrustAnchors::default()
    }
    pub fn add_root(&mut self, der: &[u8]) -> Result<(), der::Error> {
        self.roots.push((Certificate::from_der(der)?, der.to_vec()));
        Ok(())
    }
    pub fn add_intermediate(&mut self, der: &[u8]) -> Result<(), der::Error> {
        self.intermediates.push(Certificate::from_der(der)?);
        Ok(())
    }
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    fn is_root(&self, c: &Certificate) -> bool {
        let der = c.to_der().unwrap_or_default();
        self.roots.iter().any(|(_, d)| *d == der)
    }

    /// [signer, …, root], each certificate signed by the next; the error names the missing issuer.
    pub fn build_path(&self, signer: &Certificate, from_signature: &[Vec<u8>]) -> Result<Vec<Certificate>, String> {
        let mut pool: Vec<Certificate> = from_signature.iter().filter_map(|d| Certificate::from_der(d).ok()).collect();
        pool.extend(self.intermediates.iter().cloned());
        pool.extend(self.roots.iter().map(|(c, _)| c.clone()));
        let mut path = vec![signer.clone()];
        for _ in 0..6 {
            let cur = path.last().expect("non-empty").clone();
            if self.is_root(&cur) {
                return Ok(path);
            }
            let issuer =
                pool.iter().find(|c| c.tbs_certificate.subject == cur.tbs_certificate.issuer && signed_by(&cur, c));
            match issuer {
                Some(i) if path.iter().any(|p| p == i) && !self.is_root(i) => return Err("the certificate path loops".into()),
                Some(i) => path.push(i.clone()),
                None => {
                    return Err(format!(
                        "the issuer «{}» of «{}» is neither a configured trust anchor nor in the signature; add the national root (and provider CA) to the trust list",
                        name_or_dn(&cur.tbs_certificate.issuer),
                        common_name(&cur)
                    ))
                }
            }
        }
        Err("the certificate path is longer than 6".into())
    }
}

fn name_or_dn(n: &x509_cert::name::Name) -> String {
    name_attr(n, OID_CN).unwrap_or_else(|| n.to_string())
}

pub fn common_name(c: &Certificate) -> String {
    name_or_dn(&c.tbs_certificate.subject)
}

/// Does `issuer`'s key verify `cert`'s signature?
fn signed_by(cert: &Certificate, issuer: &Certificate) -> bool {
    let Some(scheme) = kyso_pki::alg::scheme_of(&cert.signature_algorithm) else { return false };
    let (Ok(tbs), Ok(spki)) = (cert.tbs_certificate.to_der(), issuer.tbs_certificate.subject_public_key_info.to_der())
    else {
        return false;
    };
    kyso_custody::verify(&spki, scheme, &tbs, cert.signature.as_bytes().unwrap_or(&[]))
}

/// Who signed: name, masked ID number, issuer, serial, validity.
pub fn describe_signer(r: &mut SignatureReport, cert: &Certificate) {
    let tbs = &cert.tbs_certificate;
    r.signer_name = name_attr(&tbs.subject, OID_CN);
    r.signer_id_masked = name_attrs(&tbs.subject, OID_UID).into_iter().find_map(|u| {
        let (p, v) = kyso_pki::id::parse_uid(&u)?;
        let masked = match kyso_pki::CitizenId::parse(v) {
            Ok(id) => id.masked(),
            Err(_) if v.len() > 6 => format!("{}****{}", &v[..3], &v[v.len() - 3..]),
            Err(_) => "****".into(),
        };
        Some(format!("{p}:{masked}"))
    });
    r.issuer_name = Some(name_or_dn(&tbs.issuer));
    r.serial = Some(kyso_pki::cert::serial_hex(tbs.serial_number.as_bytes()));
    r.cert_valid_from = Some(tbs.validity.not_before.to_unix_duration().as_secs() as i64);
    r.cert_valid_to = Some(tbs.validity.not_after.to_unix_duration().as_secs() as i64);
}

fn set(r: &mut SignatureReport, s: SubIndication) {
    if r.sub_indication.is_none() {
        r.sub_indication = Some(s);
    }
}

pub fn judge_revocation(r: &mut SignatureReport, statuses: &[(String, Revocation)], signing_time: SystemTime) {
    let mut summary = Vec::new();
    for (name, st) in statuses {
        match *st {
            Revocation::Good => summary.push(format!("{name}: good")),
            Revocation::Revoked { at, reason } => {
                let when = kyso_pki::time::rfc3339(crate::unix(at));
                summary.push(format!("{name}: revoked {when} ({})", kyso_pki::crl::reason_name(reason)));
                if at <= signing_time {
                    r.problems.push(format!("«{name}» was revoked on {when}, before the signing time"));
                    r.sub_indication = Some(SubIndication::Revoked);
                } else {
                    r.warnings.push(format!(
                        "«{name}» was revoked on {when}, after the claimed signing time; without a time-stamp the signing time is not proven"
                    ));
                    set(r, SubIndication::RevokedNoPoe);
                }
            }
            Revocation::Unknown => {
                summary.push(format!("{name}: unknown"));
                r.warnings.push(format!("the revocation status of «{name}» could not be checked"));
                set(r, SubIndication::TryLater);
            }
        }
    }
    r.revocation = summary.join("; ");
}

const EKU_OK: [&str; 6] = [
    "1.3.6.1.5.5.7.3.36",      // documentSigning (RFC 9336)
    "1.3.6.1.5.5.7.3.4",       // emailProtection
    "2.5.29.37.0",             // anyExtendedKeyUsage
    "1.2.840.113583.1.1.5",    // Adobe Authentic Documents Trust
    "1.3.6.1.4.1.311.10.3.12", // Microsoft document signing
    "1.3.6.1.5.5.7.3.2",       // clientAuth (common on Vietnamese token certificates)
];

pub fn judge_validity_and_usage(r: &mut SignatureReport, cert: &Certificate, now: SystemTime) {
    let t = &cert.tbs_certificate;
    let now_s = now.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (nb, na) =
        (t.validity.not_before.to_unix_duration().as_secs(), t.validity.not_after.to_unix_duration().as_secs());
    if now_s < nb || now_s > na {
        r.warnings.push("the signer certificate is outside its validity period now and no time-stamp proves an earlier signing time".into());
        set(r, SubIndication::OutOfBoundsNoPoe);
    }
    let exts = t.extensions.as_deref().unwrap_or(&[]);
    let ku_ok = match exts.iter().find(|e| e.extn_id == kyso_pki::cert::OID_KU) {
        None => true,
        Some(e) => x509_cert::ext::pkix::KeyUsage::from_der(e.extn_value.as_bytes())
            .map(|ku| ku.digital_signature() || ku.non_repudiation())
            .unwrap_or(false),
    };
    let eku_ok = match exts.iter().find(|e| e.extn_id == kyso_pki::cert::OID_EKU) {
        None => true,
        Some(e) => x509_cert::ext::pkix::ExtendedKeyUsage::from_der(e.extn_value.as_bytes())
            .map(|x| x.0.iter().any(|o| EKU_OK.contains(&o.to_string().as_str())))
            .unwrap_or(false),
    };
    r.key_usage_ok = ku_ok && eku_ok;
    if !r.key_usage_ok {
        r.problems.push("the signer certificate's key usage does not allow signing documents".into());
    }
}
