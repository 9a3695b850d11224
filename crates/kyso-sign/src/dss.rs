//! PAdES B-LT: the Document Security Store (ETSI EN 319 142-1 §5.4, ISO 32000-2 §12.8.4.3), a
//! `/DSS` dictionary in the catalog whose `/Certs`, `/OCSPs` and `/CRLs` arrays hold stream
//! objects with DER certificates, OCSP responses and CRLs, so that a validator needs no network.
//! Optionally `/VRI` maps a signature (upper-case hex SHA-1 of its `/Contents` bytes) to the
//! subset of that data it needs.
//!
//! [`append_dss`] adds the data in an incremental update (earlier bytes untouched; an existing DSS
//! is extended, never dropped); [`read_dss`] reads it back from untrusted files without panicking.

use crate::pdf::{load, pdf_err, Base, FoundSignature, Head, Update};
use crate::{DerContext, SignError};
use lopdf::{Dictionary, Document, Object, ObjectId};

/// Validation material for a DSS: DER certificates, DER OCSPResponses, DER CRLs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationData {
    pub certs: Vec<Vec<u8>>,
    pub ocsps: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
}

impl ValidationData {
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty() && self.ocsps.is_empty() && self.crls.is_empty()
    }

    /// Add what `other` holds and `self` does not.
    pub fn merge(&mut self, other: &ValidationData) {
        for (mine, theirs) in
            [(&mut self.certs, &other.certs), (&mut self.ocsps, &other.ocsps), (&mut self.crls, &other.crls)]
        {
            for item in theirs {
                if !mine.contains(item) {
                    mine.push(item.clone());
                }
            }
        }
    }
}

const KEYS: [(&[u8], &[u8]); 3] = [(b"Certs", b"Cert"), (b"OCSPs", b"OCSP"), (b"CRLs", b"CRL")];

fn items(d: &ValidationData) -> [&Vec<Vec<u8>>; 3] {
    [&d.certs, &d.ocsps, &d.crls]
}

/// The bytes of a stream object (decoded when it carries a filter lopdf knows), if `o` is or
/// refers to one.
fn stream_bytes(doc: &Document, o: &Object) -> Option<Vec<u8>> {
    let (_, o) = doc.dereference(o).ok()?;
    let s = o.as_stream().ok()?;
    if s.dict.has(b"Filter") {
        s.decompressed_content().ok()
    } else {
        Some(s.content.clone())
    }
}

/// The catalog's `/DSS` dictionary and, when it is an indirect object, its id.
fn dss_dict(doc: &Document) -> Option<(Option<ObjectId>, Dictionary)> {
    let root = doc.trailer.get(b"Root").ok()?.as_reference().ok()?;
    let catalog = doc.get_dictionary(root).ok()?;
    match catalog.get(b"DSS").ok()? {
        Object::Reference(id) => Some((Some(*id), doc.get_dictionary(*id).ok()?.clone())),
        Object::Dictionary(d) => Some((None, d.clone())),
        _ => None,
    }
}

/// The `/VRI` key of a signature: upper-case hex SHA-1 of its `/Contents` string (the DER with
/// the placeholder's zero padding, as the file holds it).
pub fn vri_key(pdf: &[u8], sig: &FoundSignature) -> Option<String> {
    let [a, b, c, _] = sig.byte_range;
    let raw = crate::pdf::gap_hex(pdf, a.checked_add(b)?, c)?;
    Some(kyso_pki::alg::sha1(&raw).iter().map(|x| format!("{x:02X}")).collect())
}

/// A DER OCSPRequest for `subject_der` issued by `issuer_der`: one CertID with SHA-1 name and key
/// hashes (RFC 5019; what responders and validators match first), no nonce (a response kept in a
/// DSS is evidence for later, not a fresh exchange).
pub fn ocsp_request(issuer_der: &[u8], subject_der: &[u8]) -> Result<Vec<u8>, SignError> {
    use der::{Decode, Encode};
    let issuer = x509_cert::Certificate::from_der(issuer_der).ctx("OCSP issuer certificate")?;
    let subject = x509_cert::Certificate::from_der(subject_der).ctx("OCSP subject certificate")?;
    if subject.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return Err(SignError::malformed("OCSP request", "the subject certificate was not issued by this issuer"));
    }
    let name = issuer.tbs_certificate.subject.to_der().ctx("issuer name")?;
    let key = issuer.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
    let cert_id = x509_ocsp::CertId {
        hash_algorithm: spki::AlgorithmIdentifierOwned {
            oid: kyso_pki::alg::SHA1,
            parameters: Some(der::asn1::Any::null()),
        },
        issuer_name_hash: der::asn1::OctetString::new(kyso_pki::alg::sha1(&name)).ctx("issuerNameHash")?,
        issuer_key_hash: der::asn1::OctetString::new(kyso_pki::alg::sha1(key)).ctx("issuerKeyHash")?,
        serial_number: subject.tbs_certificate.serial_number.clone(),
    };
    let req = x509_ocsp::OcspRequest {
        tbs_request: x509_ocsp::TbsRequest {
            version: x509_ocsp::Version::V1,
            requestor_name: None,
            request_list: vec![x509_ocsp::Request { req_cert: cert_id, single_request_extensions: None }],
            request_extensions: None,
        },
        optional_signature: None,
    };
    req.to_der().ctx("OCSPRequest")
}

/// Is this DER OCSPResponse a successful one with a response inside (worth keeping as evidence)?
pub fn ocsp_successful(resp_der: &[u8]) -> bool {
    use der::Decode;
    x509_ocsp::OcspResponse::from_der(resp_der)
        .is_ok_and(|r| r.response_status == x509_ocsp::OcspResponseStatus::Successful && r.response_bytes.is_some())
}

/// Whether `pdf` may hold a DSS at all (the bytes `/DSS` occur): most files have none, and then
/// nothing needs parsing to find that out.
pub fn may_hold_dss(pdf: &[u8]) -> bool {
    crate::pdf_scan::contains(pdf, b"/DSS")
}

/// What the DSS of `pdf` holds (empty when there is none or it cannot be read). Never panics.
pub fn read_dss(pdf: &[u8]) -> ValidationData {
    if !may_hold_dss(pdf) {
        return ValidationData::default();
    }
    // the DSS never needs a signature dictionary's keys
    let Ok(doc) = load(&crate::pdf::blank_signature_contents_ending_dicts(pdf)) else {
        return ValidationData::default();
    };
    read_dss_in(&doc)
}

/// What the DSS of an already parsed document holds (a validator that parses the file once for
/// several purposes). Never panics.
pub fn read_dss_in(doc: &Document) -> ValidationData {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut out = ValidationData::default();
        let Some((_, dss)) = dss_dict(doc) else { return out };
        for ((key, _), slot) in KEYS.iter().zip([&mut out.certs, &mut out.ocsps, &mut out.crls]) {
            let Ok(arr) = dss.get_deref(key, doc).and_then(Object::as_array) else { continue };
            // repeats dropped through a set: a hostile DSS with thousands of entries stays linear
            let mut seen = std::collections::HashSet::new();
            for o in arr {
                if let Some(b) = stream_bytes(doc, o) {
                    if seen.insert(crate::sha256(&b)) {
                        slot.push(b);
                    }
                }
            }
        }
        out
    }))
    .unwrap_or_default()
}

/// Append an incremental update that adds `data` to the document's DSS (created when missing;
/// what is already there is kept and not repeated), with a `/VRI` entry for `vri_for` when given.
pub fn append_dss(pdf: &[u8], data: &ValidationData, vri_for: Option<&FoundSignature>) -> Result<Vec<u8>, SignError> {
    let mut up = Update::start(pdf)?;
    let doc = load(pdf)?;
    let vri = match vri_for {
        Some(s) => Some(vri_key(pdf, s).ok_or_else(|| pdf_err("the signature's /Contents cannot be read for /VRI"))?),
        None => None,
    };
    let planned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| plan_dss(&doc, data, vri)))
        .map_err(|_| pdf_err("cannot be read (the parser gave up on malformed input)"))??;
    let DssPlan { head, streams, objects, next_id } = planned;
    for (id, bytes) in &streams {
        up.stream(*id, Dictionary::new(), bytes)?;
    }
    for (id, obj) in &objects {
        up.object(*id, obj)?;
    }
    let mut seed = b"DSS".to_vec();
    for (_, b) in &streams {
        seed.extend_from_slice(&kyso_pki::alg::sha256(b));
    }
    up.finish(pdf, &head, next_id, &seed)
}

struct DssPlan {
    head: Head,
    /// New stream objects (certificates, OCSP responses, CRLs).
    streams: Vec<(ObjectId, Vec<u8>)>,
    /// The DSS dictionary and, when it was not indirect before, the catalog.
    objects: Vec<(ObjectId, Object)>,
    next_id: u32,
}

fn plan_dss(doc: &Document, data: &ValidationData, vri: Option<String>) -> Result<DssPlan, SignError> {
    let Base { head, mut catalog, mut ids } = Base::of(doc, "adding validation data to")?;
    let (dss_id, mut dss) = dss_dict(doc).unwrap_or((None, Dictionary::new()));
    dss.set("Type", Object::Name(b"DSS".to_vec()));
    let mut streams = Vec::new();
    let mut vri_entry = Dictionary::new();
    for ((key, vri_key), wanted) in KEYS.iter().zip(items(data)) {
        let mut arr = dss.get_deref(key, doc).and_then(Object::as_array).cloned().unwrap_or_default();
        let existing: Vec<(Object, Vec<u8>)> =
            arr.iter().filter_map(|o| Some((o.clone(), stream_bytes(doc, o)?))).collect();
        let mut refs = Vec::new();
        for item in wanted {
            match existing.iter().find(|(_, b)| b == item) {
                Some((r, _)) => refs.push(r.clone()),
                None => {
                    let id = ids.alloc();
                    streams.push((id, item.clone()));
                    arr.push(Object::Reference(id));
                    refs.push(Object::Reference(id));
                }
            }
        }
        if !arr.is_empty() {
            dss.set(*key, Object::Array(arr));
        }
        if !refs.is_empty() {
            vri_entry.set(*vri_key, Object::Array(refs));
        }
    }
    if let Some(k) = vri {
        let mut vri_dict = dss.get_deref(b"VRI", doc).and_then(Object::as_dict).cloned().unwrap_or_default();
        vri_dict.set(k.into_bytes(), Object::Dictionary(vri_entry));
        dss.set("VRI", Object::Dictionary(vri_dict));
    }
    let mut objects = Vec::new();
    match dss_id {
        Some(id) => objects.push((id, Object::Dictionary(dss))),
        None => {
            let id = ids.alloc();
            objects.push((id, Object::Dictionary(dss)));
            catalog.set("DSS", Object::Reference(id));
            objects.push((head.root, Object::Dictionary(catalog)));
        }
    }
    Ok(DssPlan { head, streams, objects, next_id: ids.next() })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn garbage_reads_as_empty_and_cannot_be_extended() {
        for input in [&b""[..], b"%PDF-1.7\n", b"%PDF-1.4\nstartxref\n99999\n%%EOF\n", &[0xff; 100]] {
            assert!(read_dss(input).is_empty());
            assert!(append_dss(input, &ValidationData::default(), None).is_err());
        }
    }
}
