//! Reading signatures out of untrusted PDFs: the targeted classic-xref reader (`pdf_scan`) when
//! the file is plain, a full lopdf parse (inside `catch_unwind`) otherwise; both give the same
//! [`FoundSignature`]s.

use super::load;
use super::update::last_startxref;
use crate::{der_walk, pdf_scan};
use lopdf::{Dictionary, Object, ObjectId, StringFormat};
use std::collections::BTreeMap;

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

    /// The digest of the signed ranges under `hash` (signers other than kyso may use SHA-384,
    /// SHA-512 or SHA-3); None when they do not fit the file.
    pub fn digest_with(&self, pdf: &[u8], hash: kyso_keys::HashAlg) -> Option<Vec<u8>> {
        let [a, b, c, d] = self.byte_range;
        let first = pdf.get(a..a.checked_add(b)?)?;
        let second = pdf.get(c..c.checked_add(d)?)?;
        Some(hash.digest_parts(&[first, second]))
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
    while let Some(p) = memchr::memmem::find(&pdf[at..], b"/ByteRange") {
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

/// Whether the bytes `b..c` are a hex string (`<…>`), checked without decoding it.
fn is_hex_gap(pdf: &[u8], b: usize, c: usize) -> bool {
    c >= b + 2
        && pdf.get(b) == Some(&b'<')
        && pdf.get(c - 1) == Some(&b'>')
        && pdf.get(b + 1..c - 1).is_some_and(pdf_scan::is_hex_body)
}

/// What a signature value is replaced by when its dictionary can be closed there: an empty
/// string, the end of the dictionary and of the object, and a byte that is neither white space nor
/// a comment (the parser skips white space after `endobj`, and would otherwise walk the rest).
const CLOSED: &[u8] = b"<>>>endobj~";

/// Whether the hex string at `b..c` is a value of the top-level dictionary of an indirect object
/// (`N G obj <<` before it, and between the two every dictionary opened also closed, strings
/// skipped), so that the blanked copy may end the object there. Anything else (a comment, an
/// unterminated string, a nested dictionary) keeps the plain blanking.
fn closes_object_here(pdf: &[u8], b: usize, c: usize) -> bool {
    const LOOK_BACK: usize = 64 << 10;
    if c - b < CLOSED.len() {
        return false;
    }
    let from = b.saturating_sub(LOOK_BACK);
    let Some(at) = memchr::memmem::rfind(&pdf[from..b], b"obj").map(|p| p + from) else { return false };
    // `N G obj`: digits, white space, digits, white space before the keyword
    let head = &pdf[from..at];
    let ws = |c: &u8| matches!(c, b' ' | b'\n' | b'\r' | b'\t' | b'\0' | 0x0c);
    let mut i = head.len();
    for want_digits in [false, true, false, true] {
        let start = i;
        while i > 0 && (if want_digits { head[i - 1].is_ascii_digit() } else { ws(&head[i - 1]) }) {
            i -= 1;
        }
        if i == start {
            return false;
        }
    }
    let between = &pdf[at + 3..b];
    let body = between.iter().position(|c| !ws(c)).map_or(&between[..0], |p| &between[p..]);
    body.starts_with(b"<<") && dictionary_depth(body) == Some(1)
}

/// How many dictionaries are open at the end of `body` (literal and hex strings skipped), or None
/// when it holds a comment or an unterminated string (then nothing is assumed).
fn dictionary_depth(body: &[u8]) -> Option<i32> {
    let mut depth = 0;
    let mut i = 0;
    while i < body.len() {
        match (body[i], body.get(i + 1)) {
            (b'<', Some(b'<')) => {
                depth += 1;
                i += 2;
            }
            (b'>', Some(b'>')) => {
                depth -= 1;
                i += 2;
            }
            (b'<', _) => {
                // a hex string: to its `>`
                i += 1 + body[i + 1..].iter().position(|&c| c == b'>')? + 1;
            }
            (b'(', _) => {
                // a literal string: balanced parentheses, backslash escapes
                let mut open = 1;
                i += 1;
                while open > 0 {
                    match *body.get(i)? {
                        b'\\' => i += 1,
                        b'(' => open += 1,
                        b')' => open -= 1,
                        _ => {}
                    }
                    i += 1;
                }
            }
            (b'%', _) => return None,
            _ => i += 1,
        }
    }
    Some(depth)
}

/// A copy of the PDF where every signature's `/Contents <…>` (found from its `/ByteRange`) is
/// replaced by `<>` and spaces of the same length: offsets stay valid and the parser no longer
/// walks tens of kilobytes of hex per signature (most of the validation time otherwise). Every
/// key of the signature dictionaries stays readable (the full-parse signature finder needs them).
/// Public for the validator's modification analysis, which parses revisions of the same file.
#[doc(hidden)]
pub fn blank_signature_contents(pdf: &[u8]) -> Vec<u8> {
    blank(pdf, false)
}

/// [`blank_signature_contents`] that also ends each signature dictionary at its emptied value
/// (`<>>>endobj~` then spaces, where the value is in the object's top-level dictionary), so that
/// the parser does not walk the spaces either. The keys after `/Contents` are then not read: for
/// readers that never look at signature dictionaries (the DSS, the pages of the modification
/// analysis), never for finding signatures.
#[doc(hidden)]
pub fn blank_signature_contents_ending_dicts(pdf: &[u8]) -> Vec<u8> {
    blank(pdf, true)
}

fn blank(pdf: &[u8], end_dicts: bool) -> Vec<u8> {
    let mut out = pdf.to_vec();
    let mut at = 0;
    while let Some(p) = memchr::memmem::find(&pdf[at..], b"/ByteRange").map(|p| p + at) {
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
        if is_hex_gap(pdf, b, c) {
            if end_dicts && closes_object_here(pdf, b, c) {
                // the object ends at the (now empty) value: the parser reads `<<… /Contents <> >>
                // endobj` and never walks the tens of kilobytes of spaces that follow
                out[b..b + CLOSED.len()].copy_from_slice(CLOSED);
                out[b + CLOSED.len()..c].fill(b' ');
            } else {
                out[b + 1] = b'>';
                out[b + 2..c].fill(b' ');
            }
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
