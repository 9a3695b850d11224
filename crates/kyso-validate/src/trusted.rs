//! Trust-list services (ETSI TS 119 612) among the anchors: each listed certificate — the national
//! root, a provider CA, a TSA — with the periods its status allowed trust. A path is trusted for a
//! signature only when every listed certificate on it was trusted at the signing time: a CA
//! withdrawn before the signature is not trusted for it, one withdrawn after still is.

use crate::chain::{common_name, TrustAnchors};
use der::{Decode, Encode};
use std::time::SystemTime;
use x509_cert::Certificate;

/// A period in which a listed service had a trusted status (granted, recognised at national
/// level): from `from` up to, not including, `until` (`None`: still trusted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrustedPeriod {
    pub from: SystemTime,
    pub until: Option<SystemTime>,
}

impl TrustedPeriod {
    fn covers(&self, t: SystemTime) -> bool {
        self.from <= t && self.until.is_none_or(|u| t < u)
    }
}

/// A listed certificate, known by subject and key (a re-certified CA with the same key is the
/// same service).
#[derive(Clone)]
pub(crate) struct ListedService {
    subject: x509_cert::name::Name,
    spki: Vec<u8>,
    periods: Vec<TrustedPeriod>,
}

impl TrustAnchors {
    /// A service of the trust list with the periods it was trusted in. A self-signed CA becomes a
    /// root, another CA a known intermediate; any other service (a TSA, an OCSP responder) is only
    /// judged when it appears on a path.
    pub fn add_listed_service(&mut self, der: &[u8], periods: Vec<TrustedPeriod>) -> Result<(), der::Error> {
        let cert = Certificate::from_der(der)?;
        let tbs = &cert.tbs_certificate;
        let ca = tbs.extensions.as_deref().unwrap_or(&[]).iter().any(|e| {
            e.extn_id == der::asn1::ObjectIdentifier::new_unwrap("2.5.29.19")
                && x509_cert::ext::pkix::BasicConstraints::from_der(e.extn_value.as_bytes()).is_ok_and(|b| b.ca)
        });
        if ca && tbs.issuer == tbs.subject {
            self.add_root(der)?;
        } else if ca {
            self.add_intermediate(der)?;
        }
        self.services.push(ListedService {
            subject: tbs.subject.clone(),
            spki: tbs.subject_public_key_info.to_der()?,
            periods,
        });
        Ok(())
    }

    /// `Err(why)` when a certificate on `path` is a listed service that was not trusted at `t`
    /// (withdrawn then, or not yet listed). Certificates the list does not name are not judged
    /// here (their trust comes from the path to a root).
    pub fn listed_status_at(&self, path: &[Certificate], t: SystemTime) -> Result<(), String> {
        for c in path {
            let tbs = &c.tbs_certificate;
            let Ok(spki) = tbs.subject_public_key_info.to_der() else { continue };
            let listed: Vec<&ListedService> =
                self.services.iter().filter(|s| s.subject == tbs.subject && s.spki == spki).collect();
            if !listed.is_empty() && !listed.iter().any(|s| s.periods.iter().any(|p| p.covers(t))) {
                return Err(format!(
                    "the trust list does not show «{}» as granted at {}: its status then did not allow trust (withdrawn, or not yet listed)",
                    common_name(c),
                    kyso_pki::time::rfc3339(crate::unix(t))
                ));
            }
        }
        Ok(())
    }
}
