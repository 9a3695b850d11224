//! The machine-readable validation report after ETSI TS 119 102-2 (namespace
//! `http://uri.etsi.org/19102/v1.2.1#`): one `SignatureValidationReport` per signature with its
//! identifier, validation time and best signature time, the signer's document digest, the
//! signing time and time-stamp attributes, the signer, the baseline level, the validation process
//! and the status (main and sub-indication URIs). Small by design: no signed report, no
//! validation objects.

use crate::readable::sub_indication_name;
use crate::{Indication, Kind, Level, SignatureReport};

pub const NS: &str = "http://uri.etsi.org/19102/v1.2.1#";
const DS: &str = "http://www.w3.org/2000/09/xmldsig#";

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // characters XML 1.0 cannot carry
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

fn iso(unix: i64) -> String {
    kyso_pki::time::rfc3339(unix)
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut o = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= c.len() {
                o.push(A[(n >> shift) as usize & 63] as char);
            } else {
                o.push('=');
            }
        }
    }
    o
}

pub fn main_indication_uri(i: Indication) -> &'static str {
    match i {
        Indication::TotalPassed => "urn:etsi:019102:mainindication:total-passed",
        Indication::Indeterminate => "urn:etsi:019102:mainindication:indeterminate",
        Indication::TotalFailed => "urn:etsi:019102:mainindication:total-failed",
    }
}

/// The TS 119 102-2 XML report of `reports`, validated at `validation_time` (Unix seconds) over a
/// document whose SHA-256 is `document_sha256` (when the caller has it).
pub fn etsi_xml(reports: &[SignatureReport], validation_time: i64, document_sha256: Option<&[u8]>) -> String {
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!("<vr:ValidationReport xmlns:vr=\"{NS}\" xmlns:ds=\"{DS}\">\n"));
    for r in reports {
        x.push_str("  <vr:SignatureValidationReport>\n");
        let id = match r.kind {
            Kind::Signature => format!("sig-{}", r.index + 1),
            Kind::DocumentTimestamp => format!("doc-ts-{}", r.index + 1),
        };
        x.push_str(&format!("    <vr:SignatureIdentifier id=\"{id}\">\n"));
        x.push_str("      <vr:HashOnly>false</vr:HashOnly>\n      <vr:DocHashOnly>false</vr:DocHashOnly>\n");
        if let Some(f) = &r.field_name {
            x.push_str(&format!("      <vr:DAIdentifier>{}</vr:DAIdentifier>\n", esc(f)));
        }
        x.push_str("    </vr:SignatureIdentifier>\n");
        x.push_str("    <vr:ValidationTimeInfo>\n");
        x.push_str(&format!("      <vr:ValidationTime>{}</vr:ValidationTime>\n", iso(validation_time)));
        if let Some(poe) = r.timestamp_time.or(r.poe_time) {
            x.push_str(&format!(
                "      <vr:BestSignatureTime>\n        <vr:POETime>{}</vr:POETime>\n        <vr:TypeOfProof>urn:etsi:019102:poetype:validation</vr:TypeOfProof>\n      </vr:BestSignatureTime>\n",
                iso(poe)
            ));
        }
        x.push_str("    </vr:ValidationTimeInfo>\n");
        if let Some(d) = document_sha256 {
            x.push_str(&format!(
                "    <vr:SignersDocument>\n      <vr:DigestAlgAndValue>\n        <ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>\n        <ds:DigestValue>{}</ds:DigestValue>\n      </vr:DigestAlgAndValue>\n    </vr:SignersDocument>\n",
                base64(d)
            ));
        }
        let mut attrs = String::new();
        if let Some(t) = r.claimed_signing_time {
            attrs.push_str(&format!(
                "      <vr:SigningTime Signed=\"false\">\n        <vr:Time>{}</vr:Time>\n      </vr:SigningTime>\n",
                iso(t)
            ));
        }
        if let (Kind::Signature, Some(t)) = (r.kind, r.timestamp_time) {
            attrs.push_str(&format!(
                "      <vr:SignatureTimeStamp>\n        <vr:TimeStampValue>{}</vr:TimeStampValue>\n      </vr:SignatureTimeStamp>\n",
                iso(t)
            ));
        }
        if !attrs.is_empty() {
            x.push_str(&format!("    <vr:SignatureAttributes>\n{attrs}    </vr:SignatureAttributes>\n"));
        }
        if let Some(name) = &r.signer_name {
            let who = match &r.signer_id_masked {
                Some(id) => format!("{name} ({id})"),
                None => name.clone(),
            };
            x.push_str(&format!(
                "    <vr:SignerInformation>\n      <vr:Signer>{}</vr:Signer>\n    </vr:SignerInformation>\n",
                esc(&who)
            ));
        }
        if let Some(level) = r.level {
            x.push_str(&format!(
                "    <vr:SignatureQuality>\n      <vr:SignatureQualityInformation>urn:kyso:baseline:{}</vr:SignatureQualityInformation>\n    </vr:SignatureQuality>\n",
                level.as_str()
            ));
        }
        let process = match r.level {
            Some(Level::BLta) => "LTA",
            Some(Level::BT | Level::BLt) => "LTVM",
            _ => "Basic",
        };
        x.push_str(&format!(
            "    <vr:SignatureValidationProcess>\n      <vr:SignatureValidationProcessID>urn:etsi:019102:validationprocess:{process}</vr:SignatureValidationProcessID>\n    </vr:SignatureValidationProcess>\n"
        ));
        x.push_str("    <vr:SignatureValidationStatus>\n");
        x.push_str(&format!("      <vr:MainIndication>{}</vr:MainIndication>\n", main_indication_uri(r.indication)));
        if let Some(s) = r.sub_indication {
            x.push_str(&format!(
                "      <vr:SubIndication>urn:etsi:019102:subindication:{}</vr:SubIndication>\n",
                sub_indication_name(s)
            ));
        }
        x.push_str("    </vr:SignatureValidationStatus>\n");
        x.push_str("  </vr:SignatureValidationReport>\n");
    }
    x.push_str("</vr:ValidationReport>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn base64_and_escaping() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
        assert_eq!(esc("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;\u{FFFD}");
    }
}
