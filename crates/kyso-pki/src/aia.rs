//! Where a certificate says its issuer and its status are published: the Authority Information
//! Access extension (OCSP responders, caIssuers) and the CRL distribution points (RFC 5280
//! §4.2.2.1, §4.2.1.13). Reading only; fetching is the caller's.

use crate::cert::{OID_AIA, OID_CRL_DP};
use der::Decode;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, CrlDistributionPoints};
use x509_cert::Certificate;

const OID_AD_OCSP: &str = "1.3.6.1.5.5.7.48.1";
const OID_AD_CA_ISSUERS: &str = "1.3.6.1.5.5.7.48.2";

/// The URIs a certificate names, in its order; unreadable extensions give none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Published {
    pub ocsp: Vec<String>,
    pub ca_issuers: Vec<String>,
    pub crl: Vec<String>,
}

fn uri(g: &GeneralName) -> Option<String> {
    match g {
        GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
        _ => None,
    }
}

/// The OCSP, caIssuers and CRL URIs of `cert`.
pub fn published(cert: &Certificate) -> Published {
    let mut p = Published::default();
    for e in cert.tbs_certificate.extensions.as_deref().unwrap_or(&[]) {
        if e.extn_id == OID_AIA {
            let Ok(aia) = AuthorityInfoAccessSyntax::from_der(e.extn_value.as_bytes()) else { continue };
            for ad in aia.0 {
                let Some(u) = uri(&ad.access_location) else { continue };
                match ad.access_method.to_string().as_str() {
                    OID_AD_OCSP => p.ocsp.push(u),
                    OID_AD_CA_ISSUERS => p.ca_issuers.push(u),
                    _ => {}
                }
            }
        } else if e.extn_id == OID_CRL_DP {
            let Ok(dps) = CrlDistributionPoints::from_der(e.extn_value.as_bytes()) else { continue };
            for dp in dps.0 {
                if let Some(DistributionPointName::FullName(names)) = dp.distribution_point {
                    p.crl.extend(names.iter().filter_map(uri));
                }
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::{self, CertSpec, Profile, Serial, Urls};
    use kyso_keys::{KeyAlgorithm, Signer, SoftwareKey};
    use std::time::{Duration, SystemTime};

    #[test]
    fn reads_the_urls_kyso_writes() {
        let key = SoftwareKey::generate(KeyAlgorithm::EcP256).unwrap();
        let now = SystemTime::now();
        let spec = |profile, urls| CertSpec {
            profile,
            subject: crate::subject::org_name("T", "T").unwrap(),
            subject_public_key_der: key.public_key_der(),
            serial: Serial::random().unwrap(),
            not_before: now,
            not_after: now + Duration::from_secs(60),
            urls,
            policy_oid: None,
        };
        let none = Urls { crl: None, ocsp: None, ca_issuers: None };
        let root = cert::parse(&cert::self_signed(&spec(Profile::Root, none), &key).unwrap()).unwrap();
        assert_eq!(published(&root), Published::default());
        let urls = Urls {
            crl: Some("http://127.0.0.1:9/crl/x.crl".into()),
            ocsp: Some("http://127.0.0.1:9/ocsp/x".into()),
            ca_issuers: Some("http://127.0.0.1:9/ca/x.crt".into()),
        };
        let issuer = cert::IssuerRef::from_cert(&root, &key).unwrap();
        let c = cert::parse(&cert::issue(&spec(Profile::ProviderCa, urls), &issuer).unwrap()).unwrap();
        let p = published(&c);
        assert_eq!(p.crl, vec!["http://127.0.0.1:9/crl/x.crl"]);
        assert_eq!(p.ocsp, vec!["http://127.0.0.1:9/ocsp/x"]);
        assert_eq!(p.ca_issuers, vec!["http://127.0.0.1:9/ca/x.crt"]);
    }
}
