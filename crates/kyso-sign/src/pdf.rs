//! PAdES baseline B-B (ETSI EN 319 142-1) by incremental update only: the original bytes are
//! never rewritten, so earlier signatures stay valid.
//!
//! [`prepare`] appends a signature field (merged with an invisible widget on page 1), a
//! signature dictionary (`/SubFilter /ETSI.CAdES.detached`, `/M`, `/ByteRange`, a zeroed
//! `/Contents` placeholder), the rewritten catalog / AcroForm / page objects, and a new
//! cross-reference section (a table, or a stream when the file already uses xref streams) whose
//! trailer points back with `/Prev`. [`embed`] hex-writes the CMS into the placeholder.

use crate::cades::{self, Profile};
use crate::{der_walk, pdf_scan, sha256, SignError};
use kyso_custody::Signer;
use lopdf::{Dictionary, Document, Object, ObjectId, StringFormat};
use std::collections::BTreeMap;
use std::time::SystemTime;

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

/// A signature found in a PDF, for validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundSignature {
    pub byte_range: [usize; 4],
    /// The CMS (DER), with the placeholder's zero padding cut off when its length is readable.
    pub contents: Vec<u8>,
    /// `byte_range[2] + byte_range[3]`: the revision this signature covers ends here. Less than
    /// the file length means later incremental updates exist (to be examined).
    pub covers_whole_file_up_to: usize,
    pub sub_filter: Option<String>,
    /// The gap between the two ranges is exactly the `/Contents` hex string `<…>`.
    pub gap_is_contents: bool,
    pub field_name: Option<String>,
    /// A document time-stamp (`/Type /DocTimeStamp` or `/SubFilter /ETSI.RFC3161`): `contents`
    /// is an RFC 3161 token over the signed ranges, not a CMS signature.
    pub doc_timestamp: bool,
    /// The `/M` string as written (`D:YYYYMMDDHHmmSS…`): the claimed signing time, not a proof.
    pub claimed_time: Option<Vec<u8>>,
}

impl FoundSignature {
    /// SHA-256 over the signed ranges of `pdf`; None when the ranges do not fit the file.
    pub fn digest(&self, pdf: &[u8]) -> Option<[u8; 32]> {
        let [a, b, c, d] = self.byte_range;
        let first = pdf.get(a..a.checked_add(b)?)?;
        let second = pdf.get(c..c.checked_add(d)?)?;
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        ctx.update(first);
        ctx.update(second);
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        Some(out)
    }

    /// The two signed ranges of `pdf`, concatenated; None when they do not fit the file.
    pub fn signed_bytes(&self, pdf: &[u8]) -> Option<Vec<u8>> {
        let [a, b, c, d] = self.byte_range;
        let first = pdf.get(a..a.checked_add(b)?)?;
        let second = pdf.get(c..c.checked_add(d)?)?;
        let mut all = Vec::with_capacity(first.len() + second.len());
        all.extend_from_slice(first);
        all.extend_from_slice(second);
        Some(all)
    }
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

/// The offset after the last `startxref` keyword, checked to lie inside the file.
fn last_startxref(pdf: &[u8]) -> Result<usize, SignError> {
    let tail_start = pdf.len().saturating_sub(2048);
    let tail = &pdf[tail_start..];
    let at = tail
        .windows(9)
        .rposition(|w| w == b"startxref")
        .ok_or_else(|| pdf_err("no startxref near the end of the file (truncated?)"))?;
    let digits: Vec<u8> =
        tail[at + 9..].iter().copied().skip_while(|b| b.is_ascii_whitespace()).take_while(u8::is_ascii_digit).collect();
    let off: usize = std::str::from_utf8(&digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| pdf_err("startxref is not followed by an offset"))?;
    if off >= pdf.len() {
        return Err(pdf_err("startxref points past the end of the file"));
    }
    if !tail[at..].windows(5).any(|w| w == b"%%EOF") {
        return Err(pdf_err("no %%EOF after the last startxref (truncated?)"));
    }
    Ok(off)
}

/// Does the file end as ISO 32000 writes it — `startxref`, an end of line, the offset, an end of
/// line, `%%EOF`? Anything else is left to the full parser by the targeted scanner (lopdf reads
/// the offset differently; the `pdf_differential` fuzz target found such a tail).
fn plain_tail(pdf: &[u8]) -> bool {
    let tail = &pdf[pdf.len().saturating_sub(2048)..];
    let Some(at) = tail.windows(9).rposition(|w| w == b"startxref") else { return false };
    let eol = |r: &[u8]| -> Option<usize> {
        match r {
            [b'\r', b'\n', ..] => Some(2),
            [b'\r' | b'\n', ..] => Some(1),
            _ => None,
        }
    };
    let mut r = &tail[at + 9..];
    let Some(n) = eol(r) else { return false };
    r = &r[n..];
    let digits = r.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return false;
    }
    r = &r[digits..];
    let Some(n) = eol(r) else { return false };
    r[n..].starts_with(b"%%EOF")
}

/// Is every `/ByteRange` in the file written plainly, `[` four unsigned integers `]`? Anything else
/// (a real, a sign, a fifth number) is left to the full parser, which reads such arrays its own
/// way (the `pdf_differential` fuzz target found a `[. 1260 …]`). One pass over the file.
fn plain_byte_ranges(pdf: &[u8]) -> bool {
    let mut at = 0;
    while let Some(p) = pdf[at..].windows(10).position(|w| w == b"/ByteRange") {
        let mut i = at + p + 10;
        let ws = |i: &mut usize| {
            while pdf.get(*i).is_some_and(|c| matches!(c, b' ' | b'\n' | b'\r' | b'\t' | b'\0' | 0x0c)) {
                *i += 1;
            }
        };
        ws(&mut i);
        if pdf.get(i) != Some(&b'[') {
            return false;
        }
        i += 1;
        for _ in 0..4 {
            ws(&mut i);
            let start = i;
            while pdf.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start || i - start > 12 {
                return false;
            }
        }
        ws(&mut i);
        if pdf.get(i) != Some(&b']') {
            return false;
        }
        at = i;
    }
    true
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
    root: ObjectId,
    info: Option<Object>,
    id0: Option<Vec<u8>>,
    /// Rewritten or new objects, except the signature dictionary.
    objects: BTreeMap<ObjectId, Object>,
    /// New streams (the visible signature's appearance and font).
    streams: Vec<(ObjectId, crate::appearance::StreamObj)>,
    sig_id: ObjectId,
    next_id: u32,
}

fn plan(doc: &Document, opts: &SigOptions, prefix: &str) -> Result<Plan, SignError> {
    if doc.trailer.has(b"Encrypt") || doc.encryption_state.is_some() {
        return Err(pdf_err("is encrypted; signing encrypted PDFs is not supported"));
    }
    let root = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| pdf_err("trailer has no /Root reference"))?;
    let mut catalog = doc.get_dictionary(root).map_err(|_| pdf_err("/Root is not a dictionary"))?.clone();
    if docmdp_forbids_changes(doc, &catalog) {
        return Err(pdf_err("is certified with DocMDP P=1: no further change, not even a signature, is allowed"));
    }
    let page_id = doc.page_iter().next().ok_or_else(|| pdf_err("has no pages"))?;
    let mut page = doc.get_dictionary(page_id).map_err(|_| pdf_err("page 1 is not a dictionary"))?.clone();

    let size = doc.trailer.get(b"Size").and_then(Object::as_i64).unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32;
    let mut next_id = size.max(doc.max_id.saturating_add(1));
    let mut alloc = || {
        let id = (next_id, 0);
        next_id += 1;
        id
    };
    let field_id = alloc();
    let sig_id = alloc();
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
            let id = alloc();
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
        let first = alloc().0;
        for _ in 1..crate::appearance::OBJECTS {
            alloc();
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

    let info = doc.trailer.get(b"Info").ok().cloned();
    let id0 = doc
        .trailer
        .get(b"ID")
        .and_then(Object::as_array)
        .ok()
        .and_then(|a| a.first())
        .and_then(|o| o.as_str().ok())
        .map(<[u8]>::to_vec);
    Ok(Plan { root, info, id0, objects, streams, sig_id, next_id })
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

/// Serialise a direct object (lopdf keeps its writer private). Strings are written in hex, names
/// with `#xx` escapes; streams never occur here (they are always indirect and never rewritten).
pub(crate) fn write_obj(out: &mut Vec<u8>, o: &Object) -> Result<(), SignError> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    match o {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Object::Real(r) if r.is_finite() => out.extend_from_slice(r.to_string().as_bytes()),
        Object::Real(_) => return Err(pdf_err("contains a non-finite number")),
        Object::Name(n) => {
            out.push(b'/');
            for &b in n {
                if b" \t\n\r\x0C()<>[]{}/%#".contains(&b) || !(33..=126).contains(&b) {
                    out.extend_from_slice(&[b'#', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
                } else {
                    out.push(b);
                }
            }
        }
        Object::String(s, _) => {
            out.push(b'<');
            for &b in s {
                out.extend_from_slice(&[HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
            }
            out.push(b'>');
        }
        Object::Array(a) => {
            out.push(b'[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_obj(out, item)?;
            }
            out.push(b']');
        }
        Object::Dictionary(d) => {
            out.extend_from_slice(b"<<");
            for (k, v) in d.iter() {
                write_obj(out, &Object::Name(k.clone()))?;
                out.push(b' ');
                write_obj(out, v)?;
            }
            out.extend_from_slice(b">>");
        }
        Object::Reference((n, g)) => out.extend_from_slice(format!("{n} {g} R").as_bytes()),
        Object::Stream(_) => return Err(pdf_err("has a stream where a direct object was expected")),
    }
    Ok(())
}

/// Runs of consecutive object numbers: (first, entries).
fn subsections(offsets: &BTreeMap<u32, (u16, usize)>) -> Vec<(u32, Vec<(u16, usize)>)> {
    let mut out: Vec<(u32, Vec<(u16, usize)>)> = Vec::new();
    for (&num, &entry) in offsets {
        match out.last_mut() {
            Some((first, entries)) if *first as usize + entries.len() == num as usize => entries.push(entry),
            _ => out.push((num, vec![entry])),
        }
    }
    out
}

/// Which kind of signature dictionary an update carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `/Type /Sig`, `/SubFilter /ETSI.CAdES.detached`: a PAdES signature.
    Signature,
    /// `/Type /DocTimeStamp`, `/SubFilter /ETSI.RFC3161`: a document time-stamp (PAdES B-LTA).
    DocTimeStamp,
}

/// An incremental update being written after the original bytes: objects, then a
/// cross-reference section (table or stream, like the file's last one) whose trailer points back
/// with `/Prev`.
pub(crate) struct Update {
    pub out: Vec<u8>,
    offsets: BTreeMap<u32, (u16, usize)>,
    prev: usize,
    xref_stream: bool,
}

impl Update {
    pub(crate) fn start(pdf: &[u8]) -> Result<Update, SignError> {
        let prev = last_startxref(pdf)?;
        let xref_stream = !pdf[prev..].starts_with(b"xref");
        let mut out = pdf.to_vec();
        if !out.ends_with(b"\n") && !out.ends_with(b"\r") {
            out.push(b'\n');
        }
        Ok(Update { out, offsets: BTreeMap::new(), prev, xref_stream })
    }

    /// Start writing object `id` (`n g obj`), recording its offset.
    pub(crate) fn begin(&mut self, id: ObjectId) {
        self.offsets.insert(id.0, (id.1, self.out.len()));
        self.out.extend_from_slice(format!("{} {} obj\n", id.0, id.1).as_bytes());
    }

    pub(crate) fn object(&mut self, id: ObjectId, obj: &Object) -> Result<(), SignError> {
        self.begin(id);
        write_obj(&mut self.out, obj)?;
        self.out.extend_from_slice(b"\nendobj\n");
        Ok(())
    }

    /// An unfiltered stream with `dict` (its `/Length` is set here).
    pub(crate) fn stream(&mut self, id: ObjectId, mut dict: Dictionary, data: &[u8]) -> Result<(), SignError> {
        dict.set("Length", Object::Integer(data.len() as i64));
        self.begin(id);
        write_obj(&mut self.out, &Object::Dictionary(dict))?;
        self.out.extend_from_slice(b"\nstream\n");
        self.out.extend_from_slice(data);
        self.out.extend_from_slice(b"\nendstream\nendobj\n");
        Ok(())
    }

    /// Write the cross-reference section and trailer. `id_seed` makes the second `/ID` unique
    /// to this revision; `next_id` is the first unused object number.
    pub(crate) fn finish(
        mut self,
        original: &[u8],
        head: &Head,
        next_id: u32,
        id_seed: &[u8],
    ) -> Result<Vec<u8>, SignError> {
        let mut ids = vec![Object::String(
            head.id0.clone().unwrap_or_else(|| sha256(original)[..16].to_vec()),
            StringFormat::Hexadecimal,
        )];
        let mut seed = sha256(original).to_vec();
        seed.extend_from_slice(id_seed);
        ids.push(Object::String(sha256(&seed)[..16].to_vec(), StringFormat::Hexadecimal));
        let mut trailer = Dictionary::new();
        trailer.set("Root", Object::Reference(head.root));
        if let Some(info) = &head.info {
            trailer.set("Info", info.clone());
        }
        trailer.set("ID", Object::Array(ids));
        trailer.set("Prev", Object::Integer(self.prev as i64));
        let out = &mut self.out;
        let xref_at;
        if self.xref_stream {
            let xref_id = next_id;
            self.offsets.insert(xref_id, (0, out.len()));
            xref_at = out.len();
            let mut data = Vec::with_capacity(self.offsets.len() * 7);
            let mut index = Vec::new();
            for (first, entries) in subsections(&self.offsets) {
                index.push(Object::Integer(i64::from(first)));
                index.push(Object::Integer(entries.len() as i64));
                for (generation, off) in entries {
                    let off = u32::try_from(off).map_err(|_| pdf_err("is larger than 4 GiB"))?;
                    data.push(1);
                    data.extend_from_slice(&off.to_be_bytes());
                    data.extend_from_slice(&generation.to_be_bytes());
                }
            }
            trailer.set("Type", Object::Name(b"XRef".to_vec()));
            trailer.set("Size", Object::Integer(i64::from(xref_id) + 1));
            trailer.set("W", Object::Array(vec![1.into(), 4.into(), 2.into()]));
            trailer.set("Index", Object::Array(index));
            trailer.set("Length", Object::Integer(data.len() as i64));
            out.extend_from_slice(format!("{xref_id} 0 obj\n").as_bytes());
            write_obj(out, &Object::Dictionary(trailer))?;
            out.extend_from_slice(b"\nstream\r\n");
            out.extend_from_slice(&data);
            out.extend_from_slice(b"\r\nendstream\nendobj\n");
        } else {
            xref_at = out.len();
            out.extend_from_slice(b"xref\n");
            for (first, entries) in subsections(&self.offsets) {
                out.extend_from_slice(format!("{first} {}\n", entries.len()).as_bytes());
                for (generation, off) in entries {
                    out.extend_from_slice(format!("{off:010} {generation:05} n\r\n").as_bytes());
                }
            }
            trailer.set("Size", Object::Integer(i64::from(next_id)));
            out.extend_from_slice(b"trailer\n");
            write_obj(out, &Object::Dictionary(trailer))?;
            out.push(b'\n');
        }
        out.extend_from_slice(format!("startxref\n{xref_at}\n%%EOF\n").as_bytes());
        Ok(self.out)
    }
}

/// What every update's trailer repeats from the document.
pub(crate) struct Head {
    pub root: ObjectId,
    pub info: Option<Object>,
    pub id0: Option<Vec<u8>>,
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
    let head = Head { root: plan.root, info: plan.info.clone(), id0: plan.id0.clone() };
    let mut out = up.finish(pdf, &head, plan.next_id, &seed)?;

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

fn found(pdf: &[u8], d: &Dictionary, field_name: Option<String>) -> Option<FoundSignature> {
    let br = d.get(b"ByteRange").ok()?.as_array().ok()?;
    if br.len() != 4 {
        return None;
    }
    let mut byte_range = [0usize; 4];
    for (slot, o) in byte_range.iter_mut().zip(br) {
        *slot = usize::try_from(o.as_i64().ok()?).ok()?;
    }
    // `signatures` blanks the big hex strings before parsing: an empty one is read from the file
    let raw = d.get(b"Contents").ok()?.as_str().ok()?;
    let sub_filter =
        d.get(b"SubFilter").ok().and_then(|o| o.as_name().ok()).map(|n| String::from_utf8_lossy(n).into_owned());
    let doc_ts_type = d.get(b"Type").and_then(Object::as_name).is_ok_and(|t| t == b"DocTimeStamp");
    let claimed_time = d.get(b"M").ok().and_then(|o| o.as_str().ok()).map(<[u8]>::to_vec);
    let dict = SigDict { byte_range, contents: Some(raw.to_vec()), sub_filter, doc_ts_type, claimed_time };
    found_from(pdf, dict, field_name)
}

/// What a signature dictionary says, from either parser.
struct SigDict {
    byte_range: [usize; 4],
    /// `/Contents`; None or empty: the hex string in the ByteRange gap, read from the file.
    contents: Option<Vec<u8>>,
    sub_filter: Option<String>,
    /// `/Type /DocTimeStamp`
    doc_ts_type: bool,
    claimed_time: Option<Vec<u8>>,
}

fn found_from(pdf: &[u8], dict: SigDict, field_name: Option<String>) -> Option<FoundSignature> {
    let SigDict { byte_range, contents, sub_filter, doc_ts_type, claimed_time } = dict;
    let contents = match contents {
        Some(raw) if !raw.is_empty() => match der_walk::tlv_at(&raw, 0) {
            Some(t) if raw[t.end..].iter().all(|&b| b == 0) => raw[..t.end].to_vec(),
            _ => raw,
        },
        _ => gap_contents(pdf, byte_range[0].checked_add(byte_range[1])?, byte_range[2])?,
    };
    let [_, b, c, d2] = byte_range;
    let gap_is_contents = c > b + 1
        && pdf.get(b) == Some(&b'<')
        && pdf.get(c - 1) == Some(&b'>')
        && pdf_scan::all_hex_or_ws(&pdf[b + 1..c - 1]);
    let doc_timestamp = doc_ts_type || sub_filter.as_deref() == Some("ETSI.RFC3161");
    Some(FoundSignature {
        byte_range,
        contents,
        covers_whole_file_up_to: c.saturating_add(d2),
        sub_filter,
        gap_is_contents,
        field_name,
        doc_timestamp,
        claimed_time,
    })
}

/// The DER in the hex string `<…>` spanning `[b, c)`, without the placeholder's zero padding when
/// the DER element's length is readable (else every byte of the string).
fn gap_contents(pdf: &[u8], b: usize, c: usize) -> Option<Vec<u8>> {
    if c < b + 2 || pdf.get(b) != Some(&b'<') || pdf.get(c - 1) != Some(&b'>') {
        return None;
    }
    let hex = &pdf[b + 1..c - 1];
    // the usual layout: the DER element's hex digits, then only '0's — decode the element alone
    let strict = |h: &[u8]| -> Option<Vec<u8>> {
        h.chunks_exact(2)
            .map(|p| Some(hex_val(p[0])? << 4 | hex_val(p[1])?))
            .collect::<Option<Vec<u8>>>()
            .filter(|v| v.len() * 2 == h.len())
    };
    let head = hex.get(..12).and_then(strict);
    if let Some(t) = head.as_deref().and_then(|h| der_walk::tlv_head(h, 0)) {
        if let Some(digits) = t.end.checked_mul(2).and_then(|n| hex.get(..n)) {
            if pdf_scan::all_equal(&hex[digits.len()..], b'0') {
                if let Some(der) = strict(digits) {
                    return Some(der);
                }
            }
        }
    }
    let raw = gap_hex(pdf, b, c)?;
    Some(match der_walk::tlv_at(&raw, 0) {
        Some(t) if raw[t.end..].iter().all(|&b| b == 0) => raw[..t.end].to_vec(),
        _ => raw,
    })
}

fn hex_val(x: u8) -> Option<u8> {
    match x {
        b'0'..=b'9' => Some(x - b'0'),
        b'a'..=b'f' => Some(x - b'a' + 10),
        b'A'..=b'F' => Some(x - b'A' + 10),
        _ => None,
    }
}

/// The bytes of the hex string `<…>` spanning `[b, c)`, if that is what is there.
pub(crate) fn gap_hex(pdf: &[u8], b: usize, c: usize) -> Option<Vec<u8>> {
    if c < b + 2 || pdf.get(b) != Some(&b'<') || pdf.get(c - 1) != Some(&b'>') {
        return None;
    }
    pdf_scan::decode_hex(pdf.get(b + 1..c - 1)?)
}

/// A copy of the PDF where every signature's `/Contents <…>` (found from its `/ByteRange`) is
/// replaced by `<>` and spaces of the same length: offsets stay valid and the parser no longer
/// walks tens of kilobytes of hex per signature (most of the validation time otherwise).
/// Public for the validator's modification analysis, which parses revisions of the same file.
#[doc(hidden)]
pub fn blank_signature_contents(pdf: &[u8]) -> Vec<u8> {
    let mut out = pdf.to_vec();
    let mut at = 0;
    while let Some(p) = pdf[at..].windows(10).position(|w| w == b"/ByteRange").map(|p| p + at) {
        at = p + 10;
        let rest = &pdf[at..pdf.len().min(at + 120)];
        let Some(open) = rest.iter().position(|&c| c == b'[') else { continue };
        let Some(close) = rest.iter().position(|&c| c == b']') else { continue };
        if close < open {
            continue;
        }
        let nums: Vec<usize> =
            String::from_utf8_lossy(&rest[open + 1..close]).split_whitespace().filter_map(|n| n.parse().ok()).collect();
        let [a, l, c, _] = nums[..] else { continue };
        let Some(b) = a.checked_add(l) else { continue };
        if gap_hex(pdf, b, c).is_some() {
            out[b + 1] = b'>';
            out[b + 2..c].fill(b' ');
        }
    }
    out
}

/// The signatures in a PDF (signature fields with a value, and any other signature
/// dictionaries), ordered by how much of the file they cover. Never panics; unreadable input
/// yields an empty list.
pub fn signatures(pdf: &[u8]) -> Vec<FoundSignature> {
    if let Some(found) = signatures_targeted(pdf) {
        return found;
    }
    signatures_full_parse(pdf)
}

/// [`signatures`] through a full lopdf parse only (what it falls back to when the targeted reader
/// declines a file); public so that tests can hold both paths to the same answer.
#[doc(hidden)]
pub fn signatures_full_parse(pdf: &[u8]) -> Vec<FoundSignature> {
    let blanked = blank_signature_contents(pdf);
    let Ok(doc) = load(&blanked) else { return Vec::new() };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut names: BTreeMap<ObjectId, String> = BTreeMap::new();
        for obj in doc.objects.values() {
            let Ok(d) = obj.as_dict() else { continue };
            if let (Ok(Object::Reference(v)), Ok(t)) = (d.get(b"V"), d.get(b"T").and_then(Object::as_str)) {
                names.insert(
                    *v,
                    lopdf::decode_text_string(&Object::String(t.to_vec(), StringFormat::Literal)).unwrap_or_default(),
                );
            }
        }
        let mut out: Vec<FoundSignature> = doc
            .objects
            .iter()
            .filter_map(|(id, obj)| found(pdf, obj.as_dict().ok()?, names.get(id).cloned()))
            .collect();
        out.sort_by_key(|s| s.covers_whole_file_up_to);
        out
    }))
    .unwrap_or_default()
}

/// [`signatures`] for a plain classic-xref PDF without a full parse (see `pdf_scan`); None when
/// the file needs the full parser.
#[doc(hidden)]
pub fn signatures_targeted(pdf: &[u8]) -> Option<Vec<FoundSignature>> {
    use pdf_scan::Val;
    if !pdf.starts_with(b"%PDF-") {
        return None;
    }
    if !plain_tail(pdf) || !plain_byte_ranges(pdf) {
        return None;
    }
    let dicts = pdf_scan::live_dicts(pdf, last_startxref(pdf).ok()?)?;
    let mut names: BTreeMap<(u32, u16), String> = BTreeMap::new();
    for (_, d) in &dicts {
        if let (Some(Val::Ref(n, g)), Some(t)) = (d.get(b"V"), d.get(b"T")) {
            if let Some(t) = pdf_scan::string_bytes(pdf, t) {
                let name = lopdf::decode_text_string(&Object::String(t, StringFormat::Literal)).unwrap_or_default();
                names.insert((*n, *g), name);
            }
        }
    }
    let mut out = Vec::new();
    for (id, d) in &dicts {
        let Some(Val::Array(br)) = d.get(b"ByteRange") else { continue };
        let mut byte_range = [0usize; 4];
        if br.len() != 4 {
            continue;
        }
        let mut ok = true;
        for (slot, v) in byte_range.iter_mut().zip(br) {
            match v {
                Val::Int(n) if *n >= 0 => *slot = *n as usize,
                _ => ok = false,
            }
        }
        if !ok {
            continue;
        }
        let gap = byte_range[0].checked_add(byte_range[1]).zip(byte_range[2].checked_sub(1));
        let contents = match d.get(b"Contents") {
            Some(&Val::Hex(open, close)) if Some((open, close)) == gap => None,
            Some(v @ (Val::Hex(..) | Val::Str(_))) => Some(pdf_scan::string_bytes(pdf, v)?),
            _ => continue,
        };
        let name_of = |k: &[u8]| -> Option<Vec<u8>> {
            match d.get(k) {
                Some(Val::Name(n)) => Some(n.clone()),
                _ => None,
            }
        };
        let sub_filter = name_of(b"SubFilter").map(|n| String::from_utf8_lossy(&n).into_owned());
        let doc_ts_type = name_of(b"Type").is_some_and(|t| t == b"DocTimeStamp");
        let claimed_time = d.get(b"M").and_then(|m| pdf_scan::string_bytes(pdf, m));
        let dict = SigDict { byte_range, contents, sub_filter, doc_ts_type, claimed_time };
        if let Some(f) = found_from(pdf, dict, names.get(id).cloned()) {
            out.push(f);
        }
    }
    out.sort_by_key(|s| s.covers_whole_file_up_to);
    Some(out)
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
