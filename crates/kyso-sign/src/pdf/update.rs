//! The incremental update writer: objects appended after the original bytes, then a
//! cross-reference section (a table, or a stream when the file's last one is) whose trailer points
//! back with `/Prev`. Earlier bytes are never rewritten.

use super::pdf_err;
use crate::{sha256, SignError};
use lopdf::{Dictionary, Document, Object, ObjectId, StringFormat};
use std::collections::BTreeMap;

/// The offset after the last `startxref` keyword, checked to lie inside the file.
pub(super) fn last_startxref(pdf: &[u8]) -> Result<usize, SignError> {
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

/// What an update starts from in the parsed document: what its trailer repeats, the catalog, and
/// numbers for the new objects.
pub(crate) struct Base {
    pub head: Head,
    pub catalog: Dictionary,
    pub ids: Ids,
}

impl Base {
    /// `doing` names the update for the refusal of an encrypted file ("signing", "adding
    /// validation data to").
    pub(crate) fn of(doc: &Document, doing: &str) -> Result<Base, SignError> {
        if doc.trailer.has(b"Encrypt") || doc.encryption_state.is_some() {
            return Err(pdf_err(format!("is encrypted; {doing} encrypted PDFs is not supported")));
        }
        let root = doc
            .trailer
            .get(b"Root")
            .and_then(Object::as_reference)
            .map_err(|_| pdf_err("trailer has no /Root reference"))?;
        let catalog = doc.get_dictionary(root).map_err(|_| pdf_err("/Root is not a dictionary"))?.clone();
        let size = doc.trailer.get(b"Size").and_then(Object::as_i64).unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32;
        let ids = Ids(size.max(doc.max_id.saturating_add(1)));
        let info = doc.trailer.get(b"Info").ok().cloned();
        let id0 = doc
            .trailer
            .get(b"ID")
            .and_then(Object::as_array)
            .ok()
            .and_then(|a| a.first())
            .and_then(|o| o.as_str().ok())
            .map(<[u8]>::to_vec);
        Ok(Base { head: Head { root, info, id0 }, catalog, ids })
    }
}

/// Object numbers for the objects an update adds, from the first free one up.
pub(crate) struct Ids(u32);

impl Ids {
    pub(crate) fn alloc(&mut self) -> ObjectId {
        let id = (self.0, 0);
        self.0 += 1;
        id
    }

    /// The first number not handed out: the update's `/Size`.
    pub(crate) fn next(&self) -> u32 {
        self.0
    }
}
