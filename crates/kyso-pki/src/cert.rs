//! Certificate profiles and issuance. A [`CertSpec`] says what to certify; [`issue`] builds the
//! TBSCertificate for its [`Profile`], signs it through custody, and lints the result before
//! anyone can store or return it.

use crate::alg::{self, signature_algorithm};
use crate::{lint, time::x509_time, DerContext, PkiError};
use der::asn1::{Ia5String, Null, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use kyso_keys::{SignatureScheme, Signer};
use spki::SubjectPublicKeyInfoRef;
use std::time::SystemTime;
use x509_cert::certificate::Certificate;
use x509_cert::ext::pkix::certpolicy::PolicyInformation;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, CertificatePolicies,
    CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Validity;

pub const OID_KP_EMAIL_PROTECTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.4");
/// id-kp-documentSigning (RFC 9336)
pub const OID_KP_DOCUMENT_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.36");
pub const OID_KP_OCSP_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9");
pub const OID_KP_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
pub const OID_OCSP_NOCHECK: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.5");
pub const OID_AD_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");
pub const OID_AD_CA_ISSUERS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.2");
pub const OID_ANY_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.32.0");
pub const OID_SKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
pub const OID_KU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
pub const OID_BC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
pub const OID_CRL_DP: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.31");
pub const OID_POLICIES: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.32");
pub const OID_AKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
pub const OID_EKU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
pub const OID_AIA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.1");

/// The five certificate profiles kyso issues.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    Root,
    ProviderCa,
    OcspSigner,
    Tsa,
    Citizen,
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Root => "root",
            Profile::ProviderCa => "provider-ca",
            Profile::OcspSigner => "ocsp-signer",
            Profile::Tsa => "tsa",
            Profile::Citizen => "citizen",
        }
    }
    pub fn is_ca(self) -> bool {
        matches!(self, Profile::Root | Profile::ProviderCa)
    }
}

/// A 16-octet positive serial: 48 bits of milliseconds since 1970 (with the top bit clear),
/// then 80 bits from the OS CSPRNG (RFC 5280 and CA/B practice ask for at least 64).
/// The time prefix keeps serial indexes append-mostly, so a burst of issuance touches few pages.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Serial(pub [u8; 16]);

impl Serial {
    pub fn random() -> Result<Serial, PkiError> {
        use aws_lc_rs::rand::SecureRandom;
        let mut b = [0u8; 16];
        aws_lc_rs::rand::SystemRandom::new()
            .fill(&mut b[6..])
            .map_err(|_| PkiError::invalid("serial", "system RNG failed"))?;
        let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
            as u64;
        b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
        b[0] &= 0x7f; // positive; the first octet is non-zero for any date after 1978
        Ok(Serial(b))
    }
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
    pub fn to_serial_number(self) -> Result<SerialNumber, PkiError> {
        SerialNumber::new(&self.0).ctx("serial")
    }
}

/// Normalise a serial given by a user or read from a certificate to kyso's hex form.
pub fn serial_hex(bytes: &[u8]) -> String {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len().saturating_sub(1));
    hex::encode(&bytes[start..])
}

/// Where relying parties find the issuer's CRL, OCSP responder and certificate.
#[derive(Clone, Debug, Default)]
pub struct Urls {
    pub crl: Option<String>,
    pub ocsp: Option<String>,
    pub ca_issuers: Option<String>,
}

/// What to certify.
pub struct CertSpec<'a> {
    pub profile: Profile,
    pub subject: Name,
    pub subject_public_key_der: &'a [u8],
    pub serial: Serial,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
    pub urls: Urls,
    pub policy_oid: Option<ObjectIdentifier>,
}

impl CertSpec<'_> {
    /// What of this spec is the certificate's own, for a [`Template`].
    pub fn holder(&self) -> Holder<'_> {
        Holder {
            subject: &self.subject,
            public_key_der: self.subject_public_key_der,
            serial: self.serial,
            not_before: self.not_before,
            not_after: self.not_after,
        }
    }
}

/// What one certificate under a [`Template`] says of its own: subject, key, serial, validity.
#[derive(Clone, Copy)]
pub struct Holder<'a> {
    pub subject: &'a Name,
    /// DER SubjectPublicKeyInfo.
    pub public_key_der: &'a [u8],
    pub serial: Serial,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
}

/// The issuing CA as the builder needs it: its name, key identifier and key.
pub struct IssuerRef<'a> {
    pub name: Name,
    pub key_id: Vec<u8>,
    pub signer: &'a dyn Signer,
    pub scheme: SignatureScheme,
}

impl<'a> IssuerRef<'a> {
    pub fn from_cert(cert: &Certificate, signer: &'a dyn Signer) -> Result<IssuerRef<'a>, PkiError> {
        let spki = cert.tbs_certificate.subject_public_key_info.to_der().ctx("issuer SPKI")?;
        if spki != signer.public_key_der() {
            return Err(PkiError::invalid("issuer", "CA certificate does not match the CA key"));
        }
        Ok(IssuerRef {
            name: cert.tbs_certificate.subject.clone(),
            key_id: key_identifier(&spki)?,
            signer,
            scheme: signer.algorithm().default_scheme(),
        })
    }
}

/// RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING.
pub fn key_identifier(spki_der: &[u8]) -> Result<Vec<u8>, PkiError> {
    let spki = SubjectPublicKeyInfoRef::from_der(spki_der).ctx("SubjectPublicKeyInfo")?;
    Ok(alg::sha1(spki.subject_public_key.raw_bytes()))
}

fn ext<T: Encode>(oid: ObjectIdentifier, critical: bool, value: &T) -> Result<Extension, PkiError> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der().ctx("extension")?).ctx("extension")?,
    })
}

fn uri(s: &str) -> Result<GeneralName, PkiError> {
    Ok(GeneralName::UniformResourceIdentifier(
        Ia5String::new(s).map_err(|_| PkiError::invalid("url", format!("not ASCII: {s}")))?,
    ))
}

/// basicConstraints, keyUsage, and (critical?, EKU OIDs) of a profile.
type ProfileExtensions = (Option<BasicConstraints>, KeyUsage, Option<(bool, Vec<ObjectIdentifier>)>);

fn extensions(
    profile: Profile,
    urls: &Urls,
    policy_oid: Option<ObjectIdentifier>,
    ski: Vec<u8>,
    issuer_key_id: &[u8],
) -> Result<Vec<Extension>, PkiError> {
    use KeyUsages::*;
    let mut v = Vec::with_capacity(9);
    let (bc, ku, eku): ProfileExtensions = match profile {
        Profile::Root => {
            (Some(BasicConstraints { ca: true, path_len_constraint: None }), KeyUsage(KeyCertSign | CRLSign), None)
        }
        Profile::ProviderCa => {
            (Some(BasicConstraints { ca: true, path_len_constraint: Some(0) }), KeyUsage(KeyCertSign | CRLSign), None)
        }
        Profile::OcspSigner => (None, KeyUsage(DigitalSignature.into()), Some((false, vec![OID_KP_OCSP_SIGNING]))),
        Profile::Tsa => (None, KeyUsage(DigitalSignature.into()), Some((true, vec![OID_KP_TIME_STAMPING]))),
        Profile::Citizen => (
            None,
            KeyUsage(DigitalSignature | NonRepudiation),
            Some((false, vec![OID_KP_DOCUMENT_SIGNING, OID_KP_EMAIL_PROTECTION])),
        ),
    };
    if let Some(bc) = bc {
        v.push(ext(OID_BC, true, &bc)?);
    }
    v.push(ext(OID_KU, true, &ku)?);
    if let Some((critical, oids)) = eku {
        v.push(ext(OID_EKU, critical, &ExtendedKeyUsage(oids))?);
    }
    v.push(ext(OID_SKI, false, &SubjectKeyIdentifier(OctetString::new(ski).ctx("SKI")?))?);
    v.push(ext(
        OID_AKI,
        false,
        &AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(issuer_key_id.to_vec()).ctx("AKI")?),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        },
    )?);
    if profile == Profile::OcspSigner {
        v.push(ext(OID_OCSP_NOCHECK, false, &Null)?);
    }
    if profile != Profile::Root && profile != Profile::OcspSigner {
        if let Some(crl) = &urls.crl {
            let dp = DistributionPoint {
                distribution_point: Some(DistributionPointName::FullName(vec![uri(crl)?])),
                reasons: None,
                crl_issuer: None,
            };
            v.push(ext(OID_CRL_DP, false, &CrlDistributionPoints(vec![dp]))?);
        }
        let mut aia = Vec::new();
        if let Some(ocsp) = &urls.ocsp {
            aia.push(AccessDescription { access_method: OID_AD_OCSP, access_location: uri(ocsp)? });
        }
        if let Some(ca) = &urls.ca_issuers {
            aia.push(AccessDescription { access_method: OID_AD_CA_ISSUERS, access_location: uri(ca)? });
        }
        if !aia.is_empty() {
            v.push(ext(OID_AIA, false, &AuthorityInfoAccessSyntax(aia))?);
        }
    }
    if matches!(profile, Profile::ProviderCa | Profile::Citizen | Profile::Tsa) {
        let policy = policy_oid.unwrap_or(OID_ANY_POLICY);
        v.push(ext(
            OID_POLICIES,
            false,
            &CertificatePolicies(vec![PolicyInformation { policy_identifier: policy, policy_qualifiers: None }]),
        )?);
    }
    Ok(v)
}

/// Build, sign and lint a certificate. Returns its DER.
pub fn issue(spec: &CertSpec, issuer: &IssuerRef) -> Result<Vec<u8>, PkiError> {
    Template::new(spec.profile, &spec.urls, spec.policy_oid, issuer)?.issue(&spec.holder(), issuer.signer)
}

/// A self-signed root: issuer = subject, AKI = SKI.
pub fn self_signed(spec: &CertSpec, signer: &dyn Signer) -> Result<Vec<u8>, PkiError> {
    let key_id = key_identifier(spec.subject_public_key_der)?;
    let issuer = IssuerRef { name: spec.subject.clone(), key_id, signer, scheme: signer.algorithm().default_scheme() };
    issue(spec, &issuer)
}

/// What a profile's certificates from one issuer have in common, DER-encoded once: the signature
/// algorithm, the issuer name and every extension but the subject key identifier. A CA issuing
/// many certificates keeps one per profile; each certificate then encodes only its own serial,
/// validity, subject, public key and SKI around these bytes. [`issue`] goes through a template
/// too, so there is one way certificates are built, and every one is linted before it is returned.
pub struct Template {
    profile: Profile,
    scheme: SignatureScheme,
    sig_alg_der: Vec<u8>,
    issuer_name: Name,
    issuer_name_der: Vec<u8>,
    issuer_key_id: Vec<u8>,
    issuer_spki: Vec<u8>,
    /// Encoded extensions before and after the subject key identifier, in profile order.
    ext_before_ski: Vec<u8>,
    ext_after_ski: Vec<u8>,
}

impl Template {
    pub fn new(
        profile: Profile,
        urls: &Urls,
        policy_oid: Option<ObjectIdentifier>,
        issuer: &IssuerRef,
    ) -> Result<Template, PkiError> {
        let exts = extensions(profile, urls, policy_oid, vec![0; 20], &issuer.key_id)?;
        let (mut before, mut after, mut seen_ski) = (Vec::new(), Vec::new(), false);
        for e in &exts {
            if e.extn_id == OID_SKI {
                seen_ski = true;
            } else if seen_ski {
                after.extend_from_slice(&e.to_der().ctx("extension")?);
            } else {
                before.extend_from_slice(&e.to_der().ctx("extension")?);
            }
        }
        Ok(Template {
            profile,
            scheme: issuer.scheme,
            sig_alg_der: signature_algorithm(issuer.scheme).to_der().ctx("signature algorithm")?,
            issuer_name: issuer.name.clone(),
            issuer_name_der: issuer.name.to_der().ctx("issuer name")?,
            issuer_key_id: issuer.key_id.clone(),
            issuer_spki: issuer.signer.public_key_der().to_vec(),
            ext_before_ski: before,
            ext_after_ski: after,
        })
    }

    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The DER TBSCertificate for one subject and key.
    pub fn tbs(&self, holder: &Holder) -> Result<Vec<u8>, PkiError> {
        let Holder { subject, public_key_der: subject_public_key_der, serial, not_before, not_after } = *holder;
        if not_after <= not_before {
            return Err(PkiError::invalid("validity", "notAfter must be after notBefore"));
        }
        // Parses the SubjectPublicKeyInfo (one complete DER value) on the way.
        let ski = key_identifier(subject_public_key_der)?;
        let ski_ext = ext(OID_SKI, false, &SubjectKeyIdentifier(OctetString::new(ski).ctx("SKI")?))?;
        let ski_der = ski_ext.to_der().ctx("SKI")?;
        let exts = tlv(0x30, &[&self.ext_before_ski, &ski_der, &self.ext_after_ski]);
        let validity = Validity { not_before: x509_time(not_before)?, not_after: x509_time(not_after)? }
            .to_der()
            .ctx("validity")?;
        Ok(tlv(
            0x30,
            &[
                &[0xa0, 0x03, 0x02, 0x01, 0x02], // [0] EXPLICIT version v3
                &serial.to_serial_number()?.to_der().ctx("serial")?,
                &self.sig_alg_der,
                &self.issuer_name_der,
                &validity,
                &subject.to_der().ctx("subject")?,
                subject_public_key_der,
                &tlv(0xa3, &[&exts]), // [3] EXPLICIT extensions
            ],
        ))
    }

    /// Build, sign (with the issuer's key, which `signer` must be) and lint a certificate.
    pub fn issue(&self, holder: &Holder, signer: &dyn Signer) -> Result<Vec<u8>, PkiError> {
        if signer.public_key_der() != self.issuer_spki.as_slice() {
            return Err(PkiError::invalid("issuer", "the signing key is not the key of this template's issuer"));
        }
        let tbs = self.tbs(holder)?;
        let signature = signer.sign(self.scheme, &tbs)?;
        let mut bits = Vec::with_capacity(signature.len() + 1);
        bits.push(0); // no unused bits
        bits.extend_from_slice(&signature);
        let der = tlv(0x30, &[&tbs, &self.sig_alg_der, &tlv(0x03, &[&bits])]);
        lint::check_der(&der, self.profile, &self.issuer_name, &self.issuer_key_id, &self.issuer_spki)?;
        Ok(der)
    }
}

/// One DER TLV with a constructed or primitive `tag` (single octet) around the concatenated parts.
fn tlv(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = Vec::with_capacity(len + 6);
    out.push(tag);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let octets = len.to_be_bytes();
        let skip = octets.iter().position(|&b| b != 0).unwrap_or(octets.len() - 1);
        out.push(0x80 | (octets.len() - skip) as u8);
        out.extend_from_slice(&octets[skip..]);
    }
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

/// The public key of a PKCS#10 request (DER or PEM), after checking its self-signature (proof of
/// possession) and that the key is EC P-256 or RSA ≥ 2048. Returns the DER SubjectPublicKeyInfo.
pub fn csr_public_key(input: &[u8]) -> Result<Vec<u8>, PkiError> {
    let der = crate::pem_or_der("CERTIFICATE REQUEST", input)?;
    let req = x509_cert::request::CertReq::from_der(&der).ctx("CertificationRequest")?;
    let spki = req.info.public_key.to_der().ctx("CSR public key")?;
    let scheme = alg::scheme_of(&req.algorithm).ok_or_else(|| {
        PkiError::invalid("csr", "signature algorithm must be ECDSA-SHA256, RSASSA-PSS or RSA-SHA256")
    })?;
    let info = req.info.to_der().ctx("CertificationRequestInfo")?;
    if !kyso_keys::verify(&spki, scheme, &info, req.signature.as_bytes().unwrap_or(&[])) {
        return Err(PkiError::invalid("csr", "the request's signature does not verify (no proof of possession)"));
    }
    let key_alg = &req.info.public_key.algorithm;
    let p256 = der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
    let ok = if key_alg.oid == alg::EC_PUBLIC_KEY {
        key_alg.parameters.as_ref().and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok()) == Some(p256)
    } else {
        key_alg.oid == alg::RSA_ENCRYPTION && req.info.public_key.subject_public_key.raw_bytes().len() >= 256
    };
    if !ok {
        return Err(PkiError::invalid("csr", "the key must be EC P-256 or RSA of at least 2048 bits"));
    }
    Ok(spki)
}

/// Decode a certificate (DER or PEM).
pub fn parse(input: &[u8]) -> Result<Certificate, PkiError> {
    let der = crate::pem_or_der("CERTIFICATE", input)?;
    Certificate::from_der(&der).ctx("Certificate")
}

/// Parse a dotted OID from configuration or input without trusting it: every arc must fit in
/// 32 bits (the parser underneath would overflow), at least two arcs, first arc 0..=2.
pub fn parse_oid(s: &str) -> Option<ObjectIdentifier> {
    let arcs: Vec<&str> = s.trim().split('.').collect();
    if arcs.len() < 2 || arcs.iter().any(|a| a.is_empty() || a.len() > 10 || a.parse::<u32>().is_err()) {
        return None;
    }
    if arcs[0].parse::<u32>().ok()? > 2 {
        return None;
    }
    ObjectIdentifier::new(s.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kyso_keys::{KeyAlgorithm, SoftwareKey};
    use std::time::Duration;
    use x509_cert::certificate::{TbsCertificate, Version};

    fn key(algorithm: KeyAlgorithm) -> Box<dyn Signer> {
        Box::new(SoftwareKey::generate(algorithm).unwrap())
    }

    /// The TBSCertificate as x509-cert's structures encode it: what templates must reproduce.
    fn reference_tbs(spec: &CertSpec, issuer: &IssuerRef) -> Vec<u8> {
        let sig_alg = signature_algorithm(issuer.scheme);
        let ski = key_identifier(spec.subject_public_key_der).unwrap();
        TbsCertificate {
            version: Version::V3,
            serial_number: spec.serial.to_serial_number().unwrap(),
            signature: sig_alg,
            issuer: issuer.name.clone(),
            validity: Validity {
                not_before: x509_time(spec.not_before).unwrap(),
                not_after: x509_time(spec.not_after).unwrap(),
            },
            subject: spec.subject.clone(),
            subject_public_key_info: spki::SubjectPublicKeyInfoOwned::from_der(spec.subject_public_key_der).unwrap(),
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(extensions(spec.profile, &spec.urls, spec.policy_oid, ski, &issuer.key_id).unwrap()),
        }
        .to_der()
        .unwrap()
    }

    #[test]
    fn templates_encode_what_the_x509_structures_encode() {
        let ec_ca = key(KeyAlgorithm::EcP256);
        let rsa_ca = key(KeyAlgorithm::Rsa2048);
        let ec_subject = key(KeyAlgorithm::EcP256);
        let rsa_subject = key(KeyAlgorithm::Rsa2048);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let urls = Urls {
            crl: Some("http://127.0.0.1:8080/crl/vnpt.crl".into()),
            ocsp: Some("http://127.0.0.1:8080/ocsp/vnpt".into()),
            ca_issuers: Some("http://127.0.0.1:8080/ca/vnpt.crt".into()),
        };
        let citizen = crate::CitizenSubject::new(
            "001203001234",
            "Nguyễn Thị Hồng Nhung",
            "Thành phố Hà Nội",
            Some("Phường Ba Đình"),
        )
        .unwrap()
        .to_name()
        .unwrap();
        for ca in [&ec_ca, &rsa_ca] {
            let issuer = IssuerRef {
                name: crate::subject::org_name("VNPT", "VNPT-CA (demo)").unwrap(),
                key_id: key_identifier(ca.public_key_der()).unwrap(),
                signer: ca.as_ref(),
                scheme: ca.algorithm().default_scheme(),
            };
            for profile in [Profile::Root, Profile::ProviderCa, Profile::OcspSigner, Profile::Tsa, Profile::Citizen] {
                // validity across 2050 (UTCTime, then GeneralizedTime), a policy or none
                for (days, policy) in [(365, parse_oid("1.3.6.1.4.1.32473.1")), (40 * 365, None)] {
                    for subject_key in [&ec_subject, &rsa_subject] {
                        let subject = if profile == Profile::Citizen {
                            citizen.clone()
                        } else {
                            crate::subject::org_name("VNPT", "X").unwrap()
                        };
                        let spec = CertSpec {
                            profile,
                            subject,
                            subject_public_key_der: subject_key.public_key_der(),
                            serial: Serial::random().unwrap(),
                            not_before: now,
                            not_after: now + Duration::from_secs(days * 86_400),
                            urls: urls.clone(),
                            policy_oid: policy,
                        };
                        let t = Template::new(profile, &spec.urls, spec.policy_oid, &issuer).unwrap();
                        let tbs = t.tbs(&spec.holder()).unwrap();
                        assert_eq!(tbs, reference_tbs(&spec, &issuer), "{profile:?}, {days} days");
                        if profile == Profile::Citizen && days > 3 * 366 {
                            continue; // the lint refuses these, as it should
                        }
                        let der = issue(&spec, &issuer).unwrap();
                        let cert = Certificate::from_der(&der).unwrap();
                        assert_eq!(cert.to_der().unwrap(), der, "{profile:?}: canonical DER");
                        assert_eq!(cert.tbs_certificate.to_der().unwrap(), tbs, "{profile:?}: the TBS signed");
                        assert_eq!(signed_part(&der), Some(tbs.as_slice()), "{profile:?}: the TBS as it stands");
                        assert!(kyso_keys::verify(
                            ca.public_key_der(),
                            issuer.scheme,
                            &cert.tbs_certificate.to_der().unwrap(),
                            cert.signature.as_bytes().unwrap()
                        ));
                    }
                }
            }
        }
        // A template signs only with its issuer's key.
        let issuer = IssuerRef {
            name: crate::subject::org_name("VNPT", "VNPT-CA (demo)").unwrap(),
            key_id: key_identifier(ec_ca.public_key_der()).unwrap(),
            signer: ec_ca.as_ref(),
            scheme: ec_ca.algorithm().default_scheme(),
        };
        let t = Template::new(Profile::Citizen, &urls, None, &issuer).unwrap();
        let later = now + Duration::from_secs(86_400);
        let holder = |public_key_der, not_after| Holder {
            subject: &citizen,
            public_key_der,
            serial: Serial::random().unwrap(),
            not_before: now,
            not_after,
        };
        let e = t.issue(&holder(ec_subject.public_key_der(), later), ec_subject.as_ref());
        assert!(e.unwrap_err().to_string().starts_with("issuer:"));
        assert!(t.issue(&holder(ec_subject.public_key_der(), now), ec_ca.as_ref()).is_err());
        assert!(t.issue(&holder(&[0x30, 0x00], later), ec_ca.as_ref()).is_err());
    }

    #[test]
    fn der_lengths() {
        assert_eq!(tlv(0x04, &[]), [0x04, 0x00]);
        assert_eq!(tlv(0x04, &[&[7; 127]])[..2], [0x04, 0x7f]);
        assert_eq!(tlv(0x04, &[&[7; 128]])[..3], [0x04, 0x81, 0x80]);
        assert_eq!(tlv(0x04, &[&[7; 200], &[7; 100]])[..4], [0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(tlv(0x04, &[&[7; 70_000]])[..5], [0x04, 0x83, 0x01, 0x11, 0x70]);
    }
    #[test]
    fn oid_parsing_never_panics() {
        assert!(parse_oid("1.3.6.1.4.1.32473.1").is_some());
        assert!(parse_oid("2.25.223006440219917049914346311350254381531").is_none());
        assert!(parse_oid("1..2").is_none());
        assert!(parse_oid("x").is_none());
        assert!(parse_oid("7.1").is_none());
    }
}

/// The first element of the DER SEQUENCE `signed` — of a certificate, a CRL or a
/// BasicOCSPResponse, the part its signature covers (tbsCertificate, tbsCertList,
/// tbsResponseData) — exactly as it stands in the input: what was signed, with no re-encoding.
/// `None` when the input does not start with a definite-length SEQUENCE holding such an element.
pub fn signed_part(signed: &[u8]) -> Option<&[u8]> {
    if signed.first() != Some(&0x30) {
        return None;
    }
    let (_, inner, outer_end) = crate::der_header(signed, 0)?;
    if inner >= outer_end || signed.get(inner) != Some(&0x30) {
        return None;
    }
    let (_, _, end) = crate::der_header(&signed[..outer_end], inner)?;
    Some(&signed[inner..end])
}

#[cfg(test)]
mod signed_part_tests {
    use super::signed_part;

    #[test]
    fn the_first_element_as_encoded_or_none() {
        // SEQUENCE { SEQUENCE { INTEGER 5 }, NULL }
        let v = [0x30, 0x07, 0x30, 0x03, 0x02, 0x01, 0x05, 0x05, 0x00];
        assert_eq!(signed_part(&v), Some(&v[2..7]));
        // long-form lengths
        let mut long = vec![0x30, 0x81, 0x85, 0x30, 0x81, 0x80];
        long.extend([0u8; 0x80]);
        long.extend([0x05, 0x00]);
        assert_eq!(signed_part(&long).map(|s| s.len()), Some(0x83));
        // truncated, wrong tags, indefinite length
        assert_eq!(signed_part(&v[..6]), None);
        assert_eq!(signed_part(&[0x31, 0x02, 0x30, 0x00]), None);
        assert_eq!(signed_part(&[0x30, 0x02, 0x02, 0x00]), None);
        assert_eq!(signed_part(&[0x30, 0x80, 0x30, 0x00, 0x00, 0x00]), None);
        assert_eq!(signed_part(&[]), None);
        // an inner element longer than its parent
        assert_eq!(signed_part(&[0x30, 0x03, 0x30, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00]), None);
        // real certificates: `templates_encode_what_the_x509_structures_encode`
    }
}
