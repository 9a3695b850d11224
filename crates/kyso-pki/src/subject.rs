//! Certificate subjects under Vietnamese public-CA conventions:
//! `C=VN, ST=<province>, L=<commune>, CN=<full name>, UID=CCCD:<12 digits>`, UTF8String.

use crate::{id::CitizenId, DerContext, PkiError};
use const_oid::db::rfc4519;
use der::asn1::{Any, SetOfVec};
use der::{oid::ObjectIdentifier, Tag};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};

pub const OID_C: ObjectIdentifier = rfc4519::C;
pub const OID_ST: ObjectIdentifier = rfc4519::ST;
pub const OID_L: ObjectIdentifier = rfc4519::L;
pub const OID_O: ObjectIdentifier = rfc4519::O;
pub const OID_CN: ObjectIdentifier = rfc4519::CN;
/// 0.9.2342.19200300.100.1.1 (userId / UID)
pub const OID_UID: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.1");

/// A validated citizen subject. Construct only through [`CitizenSubject::new`].
#[derive(Debug, Clone)]
pub struct CitizenSubject {
    pub id: CitizenId,
    pub full_name: String,
    pub province: String,
    pub commune: Option<String>,
}

/// Check a human-readable field: non-empty, ≤ 128 characters, no control characters.
pub fn check_text(field: &'static str, value: &str) -> Result<String, PkiError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(PkiError::invalid(field, "must not be empty"));
    }
    if let Some((i, c)) = v.chars().enumerate().find(|(_, c)| c.is_control()) {
        return Err(PkiError::invalid(
            field,
            format!("contains control character U+{:04X} at position {}", c as u32, i + 1),
        ));
    }
    if v.chars().count() > 128 {
        return Err(PkiError::invalid(field, "must be at most 128 characters"));
    }
    Ok(v.to_string())
}

impl CitizenSubject {
    pub fn new(id: &str, full_name: &str, province: &str, commune: Option<&str>) -> Result<Self, PkiError> {
        let id = CitizenId::parse(id).map_err(|e| PkiError::invalid("id_number", e.to_string()))?;
        Ok(CitizenSubject {
            id,
            full_name: check_text("full_name", full_name)?,
            province: check_text("province", province)?,
            commune: commune.filter(|c| !c.trim().is_empty()).map(|c| check_text("commune", c)).transpose()?,
        })
    }

    pub fn to_name(&self) -> Result<Name, PkiError> {
        let uid = format!("CCCD:{}", self.id.expose());
        let mut attrs: Vec<(ObjectIdentifier, &str)> = vec![(OID_C, "VN"), (OID_ST, &self.province)];
        if let Some(l) = &self.commune {
            attrs.push((OID_L, l));
        }
        attrs.push((OID_CN, &self.full_name));
        attrs.push((OID_UID, &uid));
        build_name(&attrs)
    }
}

/// Organisation subject for CA, OCSP and TSA certificates: `C=VN, O=<org>, CN=<cn>`.
pub fn org_name(org: &str, cn: &str) -> Result<Name, PkiError> {
    build_name(&[(OID_C, "VN"), (OID_O, org), (OID_CN, cn)])
}

/// One attribute per RDN, in the given order. C is PrintableString, the rest UTF8String.
pub fn build_name(attrs: &[(ObjectIdentifier, &str)]) -> Result<Name, PkiError> {
    let mut rdns = Vec::with_capacity(attrs.len());
    for (oid, value) in attrs {
        let tag = if *oid == OID_C { Tag::PrintableString } else { Tag::Utf8String };
        let any = Any::new(tag, value.as_bytes()).ctx("name attribute")?;
        let atv = AttributeTypeAndValue { oid: *oid, value: any };
        let set = SetOfVec::try_from(vec![atv]).ctx("RDN")?;
        rdns.push(RelativeDistinguishedName(set));
    }
    Ok(RdnSequence(rdns))
}

/// Read the first value of `oid` in a name as text (UTF8/Printable/IA5).
pub fn name_attr(name: &Name, oid: ObjectIdentifier) -> Option<String> {
    name_attrs(name, oid).into_iter().next()
}

/// All values of `oid` in a name (several UID attributes may appear).
pub fn name_attrs(name: &Name, oid: ObjectIdentifier) -> Vec<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|atv| atv.oid == oid)
        .filter_map(|atv| std::str::from_utf8(atv.value.value()).ok().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::{Encode, Tagged};

    #[test]
    fn citizen_subject_in_vietnamese_order_with_diacritics() {
        let s =
            CitizenSubject::new("001203001234", "Nguyễn Thị Hồng Nhung", "Thành phố Hà Nội", Some("Phường Ba Đình"))
                .unwrap();
        let name = s.to_name().unwrap();
        assert_eq!(name.0.len(), 5);
        assert_eq!(name_attr(&name, OID_CN).unwrap(), "Nguyễn Thị Hồng Nhung");
        assert_eq!(name_attr(&name, OID_UID).unwrap(), "CCCD:001203001234");
        assert_eq!(name.0[0].0.get(0).unwrap().value.tag(), Tag::PrintableString);
        assert_eq!(name.0[3].0.get(0).unwrap().value.tag(), Tag::Utf8String);
        assert!(name.to_der().is_ok());
    }

    #[test]
    fn bad_fields_are_named() {
        let e = CitizenSubject::new("00120300123", "A", "B", None).unwrap_err().to_string();
        assert!(e.starts_with("id_number:"), "{e}");
        let e = CitizenSubject::new("001203001234", "Nguyễn\u{7}", "B", None).unwrap_err().to_string();
        assert!(e.starts_with("full_name:") && e.contains("U+0007"), "{e}");
        let e = CitizenSubject::new("001203001234", "A", " ", None).unwrap_err().to_string();
        assert!(e.starts_with("province:"), "{e}");
    }
}
