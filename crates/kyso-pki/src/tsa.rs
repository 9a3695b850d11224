//! RFC 3161 time-stamping: parse a TimeStampReq, answer with a TimeStampResp whose token is a CMS
//! SignedData over TSTInfo, signed attributes content-type, message-digest, signing-time and
//! ESS signing-certificate-v2 (RFC 5816). genTime carries an accuracy; the nonce is echoed.

use crate::alg::{self, signature_algorithm};
use crate::time::generalized;
use crate::{DerContext, PkiError};
use crate::{SignatureScheme, Signer};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{Any, Int, ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::{Decode, Encode, Sequence};
use std::time::SystemTime;
use x509_cert::attr::Attribute;
use x509_cert::certificate::Certificate;
use x509_tsp::{Accuracy, MessageImprint, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

pub const OID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
pub const OID_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
pub const OID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
pub const OID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
pub const OID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
pub const OID_SIGNING_CERT_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");

/// ESSCertIDv2 (RFC 5035) with the default hash algorithm SHA-256 (so it is omitted).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertIdV2 {
    pub cert_hash: OctetString,
}

/// SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 }
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificateV2 {
    pub certs: Vec<EssCertIdV2>,
}

/// The signing-certificate-v2 attribute for a certificate.
pub fn signing_certificate_v2_attr(cert_der: &[u8]) -> Result<Attribute, PkiError> {
    let v = SigningCertificateV2 {
        certs: vec![EssCertIdV2 { cert_hash: OctetString::new(alg::sha256(cert_der)).ctx("certHash")? }],
    };
    attr(OID_SIGNING_CERT_V2, Any::encode_from(&v).ctx("signingCertificateV2")?)
}

pub fn attr(oid: ObjectIdentifier, value: Any) -> Result<Attribute, PkiError> {
    Ok(Attribute { oid, values: SetOfVec::try_from(vec![value]).ctx("attribute")? })
}

/// What a client asked for.
pub struct TsQuery {
    pub imprint: MessageImprint,
    pub nonce: Option<Int>,
    pub cert_req: bool,
    pub policy: Option<ObjectIdentifier>,
}

pub fn parse_request(der: &[u8]) -> Result<TsQuery, PkiError> {
    let req = TimeStampReq::from_der(der).ctx("TimeStampReq")?;
    let want = alg::digest_len(&req.message_imprint.hash_algorithm.oid)
        .ok_or_else(|| PkiError::invalid("messageImprint.hashAlgorithm", "use SHA-256, SHA-384 or SHA-512"))?;
    if req.message_imprint.hashed_message.as_bytes().len() != want {
        return Err(PkiError::invalid("messageImprint.hashedMessage", "length does not match the hash algorithm"));
    }
    Ok(TsQuery { imprint: req.message_imprint, nonce: req.nonce, cert_req: req.cert_req, policy: req.req_policy })
}

pub struct Tsa<'a> {
    pub cert: &'a Certificate,
    pub cert_der: &'a [u8],
    pub signer: &'a dyn Signer,
    pub policy: ObjectIdentifier,
}

/// Build a granted TimeStampResp. `serial` must be unique per token (the caller draws it).
pub fn build_response(q: &TsQuery, tsa: &Tsa, serial: &[u8], now: SystemTime) -> Result<Vec<u8>, PkiError> {
    Template::new(tsa.cert, tsa.cert_der, tsa.signer, tsa.policy)?.response(q, tsa.signer, serial, now)
}

/// What every token of one TSA shares, built once: the policy, accuracy, the signer's
/// identifier and signature algorithm, the content-type and signing-certificate-v2 attributes
/// (a SHA-256 of the certificate), the certificate for `certReq`. Per token only genTime (and the
/// signing-time attribute, equal to it), the serial, the message imprint, the nonce and the
/// signature change.
pub struct Template {
    policy: ObjectIdentifier,
    cms: CmsTemplate,
}

impl Template {
    pub fn new(
        cert: &Certificate,
        cert_der: &[u8],
        signer: &dyn Signer,
        policy: ObjectIdentifier,
    ) -> Result<Template, PkiError> {
        Ok(Template { policy, cms: CmsTemplate::new(OID_TST_INFO, cert, cert_der, signer)? })
    }

    /// A granted TimeStampResp for `q`, signed by `signer` (the key of the template's certificate).
    pub fn response(
        &self,
        q: &TsQuery,
        signer: &dyn Signer,
        serial: &[u8],
        now: SystemTime,
    ) -> Result<Vec<u8>, PkiError> {
        if let Some(p) = q.policy {
            if p != self.policy {
                return Err(PkiError::invalid(
                    "reqPolicy",
                    format!("this TSA only issues under policy {}", self.policy),
                ));
            }
        }
        let info = TstInfo {
            version: TspVersion::V1,
            policy: self.policy,
            message_imprint: q.imprint.clone(),
            serial_number: Int::new(serial).ctx("TSTInfo serial")?,
            gen_time: generalized(now)?,
            accuracy: Some(Accuracy { seconds: Some(1), millis: None, micros: None }),
            ordering: false,
            nonce: q.nonce.clone(),
            tsa: None,
            extensions: None,
        };
        let info_der = info.to_der().ctx("TSTInfo")?;
        let token = self.cms.sign(&info_der, signer, q.cert_req, now)?;
        let resp = TimeStampResp {
            status: cmpv2::status::PkiStatusInfo {
                status: cmpv2::status::PkiStatus::Accepted,
                status_string: None,
                fail_info: None,
            },
            time_stamp_token: Some(token),
        };
        resp.to_der().ctx("TimeStampResp")
    }
}

/// A rejection (badRequest / badAlg / badDataFormat), for requests that cannot be served.
pub fn rejection(reason: &str) -> Vec<u8> {
    use cmpv2::status::{PkiFailureInfoValues, PkiStatus, PkiStatusInfo};
    let text = der::asn1::Utf8StringRef::new(reason).ok();
    let resp = TimeStampResp {
        status: PkiStatusInfo {
            status: PkiStatus::Rejection,
            status_string: text.map(|t| vec![t]),
            fail_info: Some(PkiFailureInfoValues::BadRequest.into()),
        },
        time_stamp_token: None,
    };
    resp.to_der().unwrap_or_default()
}

/// CMS SignedData (RFC 5652) with encapsulated content, one signer, signed attributes.
pub fn sign_cms(
    content_type: ObjectIdentifier,
    content: &[u8],
    cert: &Certificate,
    cert_der: &[u8],
    signer: &dyn Signer,
    include_cert: bool,
    now: SystemTime,
) -> Result<ContentInfo, PkiError> {
    CmsTemplate::new(content_type, cert, cert_der, signer)?.sign(content, signer, include_cert, now)
}

/// The parts of a one-signer SignedData with signed attributes that do not depend on the content
/// or the time: the content type and its attribute, the signing-certificate-v2 attribute, the
/// certificate and the signature scheme.
struct CmsTemplate {
    content_type: ObjectIdentifier,
    content_type_attr: Attribute,
    signing_cert_attr: Attribute,
    cert: Certificate,
    scheme: SignatureScheme,
}

impl CmsTemplate {
    fn new(
        content_type: ObjectIdentifier,
        cert: &Certificate,
        cert_der: &[u8],
        signer: &dyn Signer,
    ) -> Result<CmsTemplate, PkiError> {
        Ok(CmsTemplate {
            content_type,
            content_type_attr: attr(OID_CONTENT_TYPE, Any::encode_from(&content_type).ctx("contentType")?)?,
            signing_cert_attr: signing_certificate_v2_attr(cert_der)?,
            cert: cert.clone(),
            scheme: signer.algorithm().default_scheme(),
        })
    }

    fn sign(
        &self,
        content: &[u8],
        signer: &dyn Signer,
        include_cert: bool,
        now: SystemTime,
    ) -> Result<ContentInfo, PkiError> {
        let digest = alg::sha256(content);
        let signed_attrs = SetOfVec::try_from(vec![
            self.content_type_attr.clone(),
            attr(
                OID_SIGNING_TIME,
                Any::encode_from(&UtcTime::from_system_time(now).ctx("signingTime")?).ctx("signingTime")?,
            )?,
            attr(
                OID_MESSAGE_DIGEST,
                Any::encode_from(&OctetString::new(digest).ctx("messageDigest")?).ctx("messageDigest")?,
            )?,
            self.signing_cert_attr.clone(),
        ])
        .ctx("signedAttrs")?;
        // RFC 5652 §5.4: the signature covers the DER of the attributes as an explicit SET OF.
        let to_sign = signed_attrs.to_der().ctx("signedAttrs")?;
        let signature = signer.sign(self.scheme, &to_sign)?;
        let si = signer_info(&self.cert, signed_attrs, self.scheme, signature)?;
        let certificates = if include_cert { vec![self.cert.clone()] } else { Vec::new() };
        signed_data(self.content_type, Some(content), certificates, si)
    }
}

/// A SignerInfo (RFC 5652 §5.3) naming its certificate by issuer and serial number, digest
/// SHA-256, over `signed_attrs` (whose DER SET OF the `signature` covers).
pub fn signer_info(
    cert: &Certificate,
    signed_attrs: SetOfVec<Attribute>,
    scheme: SignatureScheme,
    signature: Vec<u8>,
) -> Result<SignerInfo, PkiError> {
    Ok(SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate.issuer.clone(),
            serial_number: cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: alg::sha256_alg(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: signature_algorithm(scheme),
        signature: OctetString::new(signature).ctx("signature")?,
        unsigned_attrs: None,
    })
}

/// ContentInfo(SignedData) with one signer. `content` None makes a detached signature (no
/// eContent); `certificates` may be empty. Version 1 for id-data, else 3 (RFC 5652 §5.1).
pub fn signed_data(
    content_type: ObjectIdentifier,
    content: Option<&[u8]>,
    certificates: Vec<Certificate>,
    si: SignerInfo,
) -> Result<ContentInfo, PkiError> {
    let econtent = match content {
        Some(c) => Some(Any::encode_from(&OctetString::new(c).ctx("eContent")?).ctx("eContent")?),
        None => None,
    };
    let certificates = if certificates.is_empty() {
        None
    } else {
        let choices: Vec<_> = certificates.into_iter().map(CertificateChoices::Certificate).collect();
        Some(CertificateSet(SetOfVec::try_from(choices).ctx("certificates")?))
    };
    let sd = SignedData {
        version: if content_type == OID_DATA { CmsVersion::V1 } else { CmsVersion::V3 },
        digest_algorithms: SetOfVec::try_from(vec![alg::sha256_alg()]).ctx("digestAlgorithms")?,
        encap_content_info: EncapsulatedContentInfo { econtent_type: content_type, econtent },
        certificates,
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![si]).ctx("signerInfos")?),
    };
    Ok(ContentInfo { content_type: OID_SIGNED_DATA, content: Any::encode_from(&sd).ctx("SignedData")? })
}
