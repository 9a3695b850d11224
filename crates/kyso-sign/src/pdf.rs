//! PAdES baseline B-B (ETSI EN 319 142-1) by incremental update only: the original bytes are
//! never rewritten, so earlier signatures stay valid.
//!
//! [`prepare`] appends a signature field (merged with an invisible widget on page 1), a
//! signature dictionary (`/SubFilter /ETSI.CAdES.detached`, `/M`, `/ByteRange`, a zeroed
//! `/Contents` placeholder), the rewritten catalog / AcroForm / page objects, and a new
//! cross-reference section (a table, or a stream when the file already uses xref streams) whose
//! trailer points back with `/Prev`. [`embed`] hex-writes the CMS into the placeholder.

use crate::cades::{self, Profile};
use crate::{sha256, SignError};
use kyso_keys::Signer;
use lopdf::{Dictionary, Document, Object, ObjectId};
use std::collections::BTreeMap;
use std::time::SystemTime;

mod classic;
mod read;
mod update;

pub use classic::{classic_pdf, one_page_pdf};
pub(crate) use read::gap_hex;
#[doc(hidden)]
pub use read::{
    blank_signature_contents, blank_signature_contents_ending_dicts, signatures_full_parse, signatures_targeted,
};
pub use read::{signatures, FoundSignature};
pub(crate) use update::{write_obj, Base, Head, Update};

/// Bytes of CMS reserved in `/Contents` by default (32 KiB of hex in the file).
pub const DEFAULT_RESERVE: usize = 16 * 1024;
/// Width of each number in the `/ByteRange` placeholder.
const BR_WIDTH: usize = 10;

/// What the signature dictionary and field say.
#[derive(Clone, Debug)]
pub struct SigOptions {
    /// Goes into `/M` (PAdES B-B carries no signing-time attribute). A claim, not a proof.
    pub signing_time: SystemTime,
    /// Bytes reserved for the CMS (the placeholder holds twice as many hex digits).
    pub reserve: usize,
    /// Field name (`/T`); `Signature<n>` with the first free n when None.
    pub field_name: Option<String>,
    pub name: Option<String>,
    pub reason: Option<String>,
    pub location: Option<String>,
    pub contact_info: Option<String>,
    /// A visible signature on page 1 (invisible when None).
    pub visible: Option<crate::appearance::Visible>,
}

impl SigOptions {
    pub fn new(signing_time: SystemTime) -> SigOptions {
        SigOptions {
            signing_time,
            reserve: DEFAULT_RESERVE,
            field_name: None,
            name: None,
            reason: None,
            location: None,
            contact_info: None,
            visible: None,
        }
    }
}

/// A PDF with the incremental update appended and `/Contents` still zero.
#[derive(Clone, Debug)]
pub struct PreparedPdf {
    pub bytes: Vec<u8>,
    /// `[0, a, b, c]`: the signed bytes are `[0, a)` and `[b, b + c)`; `[a, b)` is `<00…>`.
    pub byte_range: [usize; 4],
    /// SHA-256 over the two signed ranges: the CMS message-digest.
    pub digest: [u8; 32],
}

pub(crate) fn pdf_err(reason: impl Into<String>) -> SignError {
    SignError::malformed("PDF", reason)
}

/// Parse with lopdf, turning its panics on hostile input into errors.
pub(crate) fn load(pdf: &[u8]) -> Result<Document, SignError> {
    if !pdf.starts_with(b"%PDF-") {
        return Err(pdf_err("does not start with %PDF-"));
    }
    match std::panic::catch_unwind(|| Document::load_mem(pdf)) {
        Ok(Ok(doc)) => Ok(doc),
        Ok(Err(e)) => Err(pdf_err(format!("cannot be parsed: {e}"))),
        Err(_) => Err(pdf_err("cannot be parsed (the parser gave up on malformed input)")),
    }
}

fn field_names(doc: &Document, fields: &[Object]) -> Vec<Vec<u8>> {
    fields
        .iter()
        .filter_map(|f| doc.dereference(f).ok())
        .filter_map(|(_, o)| o.as_dict().ok())
        .filter_map(|d| d.get(b"T").ok().and_then(|t| t.as_str().ok()).map(<[u8]>::to_vec))
        .collect()
}

/// A certification signature with DocMDP P=1 forbids any later change (ISO 32000-1 §12.8.2.2).
fn docmdp_forbids_changes(doc: &Document, catalog: &Dictionary) -> bool {
    let Ok(perms) = catalog.get_deref(b"Perms", doc).and_then(Object::as_dict) else { return false };
    let Ok(sig) = perms.get_deref(b"DocMDP", doc).and_then(Object::as_dict) else { return false };
    let Ok(refs) = sig.get_deref(b"Reference", doc).and_then(Object::as_array) else { return false };
    refs.iter().filter_map(|r| doc.dereference(r).ok()).filter_map(|(_, o)| o.as_dict().ok()).any(|r| {
        r.get(b"TransformParams")
            .ok()
            .and_then(|p| doc.dereference(p).ok())
            .and_then(|(_, p)| p.as_dict().ok())
            .and_then(|p| p.get(b"P").ok())
            .and_then(|p| p.as_i64().ok())
            == Some(1)
    })
}

/// What the update rewrites and adds, decided from the parsed document.
struct Plan {
    head: Head,
    /// Rewritten or new objects, except the signature dictionary.
    objects: BTreeMap<ObjectId, Object>,
    /// New streams (the visible signature's appearance and font).
    streams: Vec<(ObjectId, crate::appearance::StreamObj)>,
    sig_id: ObjectId,
    next_id: u32,
}

fn plan(doc: &Document, opts: &SigOptions, prefix: &str) -> Result<Plan, SignError> {
    let Base { head, mut catalog, mut ids } = Base::of(doc, "signing")?;
    let root = head.root;
    if docmdp_forbids_changes(doc, &catalog) {
        return Err(pdf_err("is certified with DocMDP P=1: no further change, not even a signature, is allowed"));
    }
    let page_id = doc.page_iter().next().ok_or_else(|| pdf_err("has no pages"))?;
    let mut page = doc.get_dictionary(page_id).map_err(|_| pdf_err("page 1 is not a dictionary"))?.clone();

    let field_id = ids.alloc();
    let sig_id = ids.alloc();
    let mut objects = BTreeMap::new();

    // AcroForm: /Fields gains the field, /SigFlags gets SignaturesExist | AppendOnly.
    let (acro_id, mut acro) = match catalog.get(b"AcroForm") {
        Ok(Object::Reference(id)) => {
            (Some(*id), doc.get_dictionary(*id).map_err(|_| pdf_err("/AcroForm is not a dictionary"))?.clone())
        }
        Ok(Object::Dictionary(d)) => (None, d.clone()),
        _ => (None, Dictionary::new()),
    };
    let mut fields = match acro.get(b"Fields") {
        Ok(f) => doc
            .dereference(f)
            .ok()
            .and_then(|(_, o)| o.as_array().ok().cloned())
            .ok_or_else(|| pdf_err("/AcroForm /Fields is not an array"))?,
        Err(_) => Vec::new(),
    };
    let taken = field_names(doc, &fields);
    let name = match &opts.field_name {
        Some(n) if taken.iter().any(|t| t == n.as_bytes()) => {
            return Err(SignError::malformed("field_name", format!("a field named {n:?} already exists")))
        }
        Some(n) => n.clone(),
        None => {
            (1..).map(|i| format!("{prefix}{i}")).find(|n| !taken.iter().any(|t| t == n.as_bytes())).unwrap_or_default()
        }
    };
    fields.push(Object::Reference(field_id));
    acro.set("Fields", Object::Array(fields));
    let flags = acro.get(b"SigFlags").and_then(Object::as_i64).unwrap_or(0);
    acro.set("SigFlags", Object::Integer(flags | 3));
    match acro_id {
        Some(id) => {
            objects.insert(id, Object::Dictionary(acro));
        }
        None => {
            let id = ids.alloc();
            objects.insert(id, Object::Dictionary(acro));
            catalog.set("AcroForm", Object::Reference(id));
            objects.insert(root, Object::Dictionary(catalog));
        }
    }

    // Page 1: /Annots gains the widget.
    match page.get(b"Annots") {
        Ok(Object::Reference(id)) => {
            let mut annots = doc
                .get_object(*id)
                .ok()
                .and_then(|o| o.as_array().ok().cloned())
                .ok_or_else(|| pdf_err("page 1 /Annots is not an array"))?;
            annots.push(Object::Reference(field_id));
            objects.insert(*id, Object::Array(annots));
        }
        Ok(Object::Array(a)) => {
            let mut annots = a.clone();
            annots.push(Object::Reference(field_id));
            page.set("Annots", Object::Array(annots));
            objects.insert(page_id, Object::Dictionary(page));
        }
        _ => {
            page.set("Annots", Object::Array(vec![Object::Reference(field_id)]));
            objects.insert(page_id, Object::Dictionary(page));
        }
    }

    // The visible signature's appearance stream and font, when asked for.
    let mut streams = Vec::new();
    let mut rect = vec![0.into(), 0.into(), 0.into(), 0.into()];
    let mut appearance = None;
    if let Some(v) = &opts.visible {
        let first = ids.alloc().0;
        for _ in 1..crate::appearance::OBJECTS {
            ids.alloc();
        }
        let (objs, strs) = crate::appearance::build(v, first)?;
        objects.extend(objs);
        streams = strs;
        rect = v.rect.iter().map(|&x| Object::Real(x)).collect();
        let mut ap = Dictionary::new();
        ap.set("N", Object::Reference((first, 0)));
        appearance = Some(ap);
    }

    // The signature field merged with its widget (Print | Locked), invisible unless asked.
    let mut field = Dictionary::new();
    field.set("Type", Object::Name(b"Annot".to_vec()));
    field.set("Subtype", Object::Name(b"Widget".to_vec()));
    field.set("FT", Object::Name(b"Sig".to_vec()));
    field.set("T", lopdf::text_string(&name));
    field.set("V", Object::Reference(sig_id));
    field.set("F", Object::Integer(132));
    field.set("Rect", Object::Array(rect));
    if let Some(ap) = appearance {
        field.set("AP", Object::Dictionary(ap));
    }
    field.set("P", Object::Reference(page_id));
    objects.insert(field_id, Object::Dictionary(field));

    Ok(Plan { head, objects, streams, sig_id, next_id: ids.next() })
}

/// `D:YYYYMMDDHHmmSS+00'00'` in UTC.
fn pdf_date(t: SystemTime) -> Result<String, SignError> {
    let d = der::DateTime::from_system_time(t).map_err(|e| SignError::malformed("signing_time", e.to_string()))?;
    Ok(format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}+00'00'",
        d.year(),
        d.month(),
        d.day(),
        d.hour(),
        d.minutes(),
        d.seconds()
    ))
}

/// Which kind of signature dictionary an update carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `/Type /Sig`, `/SubFilter /ETSI.CAdES.detached`: a PAdES signature.
    Signature,
    /// `/Type /DocTimeStamp`, `/SubFilter /ETSI.RFC3161`: a document time-stamp (PAdES B-LTA).
    DocTimeStamp,
}

/// Append the incremental update with a signature placeholder.
pub fn prepare(pdf: &[u8], opts: &SigOptions) -> Result<PreparedPdf, SignError> {
    prepare_kind(pdf, opts, Kind::Signature)
}

/// Append an incremental update with a document time-stamp placeholder (`/Type /DocTimeStamp`,
/// `/SubFilter /ETSI.RFC3161`, PAdES B-LTA). [`PreparedPdf::digest`] is the message imprint the
/// TSA must time-stamp; [`embed`] then writes the token (a DER ContentInfo) in.
pub fn prepare_doc_timestamp(pdf: &[u8], reserve: usize) -> Result<PreparedPdf, SignError> {
    let mut opts = SigOptions::new(SystemTime::UNIX_EPOCH);
    opts.reserve = reserve;
    prepare_kind(pdf, &opts, Kind::DocTimeStamp)
}

fn prepare_kind(pdf: &[u8], opts: &SigOptions, kind: Kind) -> Result<PreparedPdf, SignError> {
    if opts.reserve == 0 || opts.reserve > 1 << 20 {
        return Err(SignError::malformed("reserve", "must be between 1 byte and 1 MiB"));
    }
    let mut up = Update::start(pdf)?;
    let doc = load(pdf)?;
    let prefix = if kind == Kind::Signature { "Signature" } else { "DocTimeStamp" };
    let plan = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| plan(&doc, opts, prefix)))
        .map_err(|_| pdf_err("cannot be read (the parser gave up on malformed input)"))??;
    let date = pdf_date(opts.signing_time)?;

    for (id, obj) in &plan.objects {
        up.object(*id, obj)?;
    }
    for (id, st) in &plan.streams {
        up.stream(*id, st.dict.clone(), &st.data)?;
    }

    // The signature dictionary, written by hand: /ByteRange and /Contents need fixed places.
    up.begin(plan.sig_id);
    let out = &mut up.out;
    match kind {
        Kind::Signature => {
            out.extend_from_slice(b"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached/M");
            // The date has no character that needs escaping in a literal string.
            out.extend_from_slice(format!("({date})").as_bytes());
            for (key, value) in [
                ("Name", &opts.name),
                ("Reason", &opts.reason),
                ("Location", &opts.location),
                ("ContactInfo", &opts.contact_info),
            ] {
                if let Some(v) = value {
                    out.extend_from_slice(format!("/{key}").as_bytes());
                    write_obj(out, &lopdf::text_string(v))?;
                }
            }
        }
        Kind::DocTimeStamp => {
            out.extend_from_slice(b"<</Type/DocTimeStamp/Filter/Adobe.PPKLite/SubFilter/ETSI.RFC3161")
        }
    }
    out.extend_from_slice(b"/ByteRange [");
    let br_at = out.len();
    let br_len = 1 + 3 * (BR_WIDTH + 1);
    out.extend(std::iter::repeat_n(b' ', br_len));
    out.extend_from_slice(b"]/Contents ");
    let contents_start = out.len();
    out.push(b'<');
    out.extend(std::iter::repeat_n(b'0', opts.reserve * 2));
    out.push(b'>');
    let contents_end = out.len();
    out.extend_from_slice(b">>\nendobj\n");

    let mut seed = out[pdf.len().min(out.len())..contents_start].to_vec();
    seed.extend_from_slice(date.as_bytes());
    let mut out = up.finish(pdf, &plan.head, plan.next_id, &seed)?;

    let byte_range = [0, contents_start, contents_end, out.len() - contents_end];
    let br_text = format!("0 {} {} {}", byte_range[1], byte_range[2], byte_range[3]);
    if br_text.len() > br_len {
        return Err(pdf_err("is too large for the /ByteRange placeholder"));
    }
    out[br_at..br_at + br_text.len()].copy_from_slice(br_text.as_bytes());
    let digest = range_digest(&out, byte_range);
    Ok(PreparedPdf { bytes: out, byte_range, digest })
}

fn range_digest(bytes: &[u8], br: [usize; 4]) -> [u8; 32] {
    let mut signed = Vec::with_capacity(br[1] + br[3]);
    signed.extend_from_slice(&bytes[br[0]..br[0] + br[1]]);
    signed.extend_from_slice(&bytes[br[2]..br[2] + br[3]]);
    sha256(&signed)
}

/// Write the CMS (DER) into the `/Contents` placeholder.
pub fn embed(prepared: PreparedPdf, cms_der: &[u8]) -> Result<Vec<u8>, SignError> {
    let PreparedPdf { mut bytes, byte_range: br, .. } = prepared;
    let (open, close) = (br[1], br[2].wrapping_sub(1));
    if br[2] <= br[1] + 1 || bytes.get(open) != Some(&b'<') || bytes.get(close) != Some(&b'>') {
        return Err(pdf_err("the byte range does not frame a /Contents placeholder"));
    }
    let reserved = (close - open - 1) / 2;
    if cms_der.len() > reserved {
        return Err(SignError::TooBig { needed: cms_der.len(), reserved });
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for (i, b) in cms_der.iter().enumerate() {
        bytes[open + 1 + 2 * i] = HEX[(b >> 4) as usize];
        bytes[open + 2 + 2 * i] = HEX[(b & 15) as usize];
    }
    Ok(bytes)
}

/// Sign a PDF in one go: prepare, CAdES attributes for PAdES, `sign_digest`, assemble, embed.
pub fn sign(
    pdf: &[u8],
    signer: &dyn Signer,
    cert_der: &[u8],
    chain: &[Vec<u8>],
    opts: &SigOptions,
) -> Result<Vec<u8>, SignError> {
    let prepared = prepare(pdf, opts)?;
    let p = cades::prepare(prepared.digest, cert_der, Profile::Pades, opts.signing_time)?;
    let scheme = signer.algorithm().default_scheme();
    let signature = signer.sign_digest(scheme, &p.to_be_signed_digest())?;
    let cms = p.assemble(&signature, scheme, chain)?;
    embed(prepared, &cms)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn dates() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_000);
        assert_eq!(pdf_date(t).unwrap(), "D:20261118110640+00'00'");
    }
    #[test]
    fn bad_input_is_an_error() {
        let opts = SigOptions::new(SystemTime::UNIX_EPOCH);
        for input in [&b""[..], b"%PDF-1.7\n", b"hello", b"%PDF-1.4\nstartxref\n99999\n%%EOF\n"] {
            assert!(prepare(input, &opts).is_err());
            assert!(signatures(input).is_empty());
        }
        let p = PreparedPdf { bytes: b"<00>".to_vec(), byte_range: [0, 0, 4, 0], digest: [0; 32] };
        assert!(matches!(embed(p, &[1, 2]), Err(SignError::TooBig { .. })));
    }
}
