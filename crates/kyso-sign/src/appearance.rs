//! The visible signature: an appearance stream (a Form XObject) showing a few lines of text —
//! signer name, masked ID number, signing time — in an embedded TrueType font, so that Vietnamese
//! diacritics render the same everywhere and text extraction gives the characters back.
//!
//! The font comes in as bytes (the caller reads e.g. DejaVu Sans; no IO here) and is subset to the
//! glyphs the text uses (plus the glyphs composite glyphs are built from), renumbered from 0, and
//! embedded as a Type0 font with a CIDFontType2 descendant, `/Encoding /Identity-H`,
//! `/CIDToGIDMap /Identity` (CID = new glyph id) and a `/ToUnicode` CMap.

use crate::SignError;
use std::collections::{BTreeMap, BTreeSet};

fn font_err(reason: impl Into<String>) -> SignError {
    SignError::malformed("font", reason)
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

/// A parsed TrueType font: its tables by tag.
struct Ttf<'a> {
    tables: BTreeMap<[u8; 4], &'a [u8]>,
}

impl<'a> Ttf<'a> {
    fn parse(font: &'a [u8]) -> Result<Ttf<'a>, SignError> {
        let version = u32_at(font, 0).ok_or_else(|| font_err("is empty or truncated"))?;
        if version != 0x0001_0000 && version != u32::from_be_bytes(*b"true") {
            return Err(font_err("is not a TrueType font (glyf outlines); use e.g. DejaVuSans.ttf"));
        }
        let n = u16_at(font, 4).ok_or_else(|| font_err("truncated table directory"))? as usize;
        let mut tables = BTreeMap::new();
        for i in 0..n {
            let rec = 12 + 16 * i;
            let tag: [u8; 4] = font
                .get(rec..rec + 4)
                .and_then(|t| t.try_into().ok())
                .ok_or_else(|| font_err("truncated table directory"))?;
            let (off, len) = (u32_at(font, rec + 8), u32_at(font, rec + 12));
            let (Some(off), Some(len)) = (off, len) else { return Err(font_err("truncated table directory")) };
            let data = font
                .get(off as usize..(off as usize).saturating_add(len as usize))
                .ok_or_else(|| font_err(format!("table {} lies outside the file", String::from_utf8_lossy(&tag))))?;
            tables.insert(tag, data);
        }
        for t in [b"head", b"hhea", b"maxp", b"hmtx", b"loca", b"glyf", b"cmap"] {
            if !tables.contains_key(t) {
                return Err(font_err(format!("has no {} table", String::from_utf8_lossy(t))));
            }
        }
        Ok(Ttf { tables })
    }

    fn table(&self, tag: &[u8; 4]) -> &'a [u8] {
        self.tables.get(tag).copied().unwrap_or(&[])
    }

    fn units_per_em(&self) -> u16 {
        u16_at(self.table(b"head"), 18).filter(|&u| u > 0).unwrap_or(1000)
    }

    fn num_glyphs(&self) -> u16 {
        u16_at(self.table(b"maxp"), 4).unwrap_or(0)
    }

    fn num_hmetrics(&self) -> u16 {
        u16_at(self.table(b"hhea"), 34).unwrap_or(0)
    }

    /// (advance width, left side bearing) in font units.
    fn hmetric(&self, gid: u16) -> (u16, u16) {
        let hmtx = self.table(b"hmtx");
        let n = self.num_hmetrics().max(1);
        if gid < n {
            let at = 4 * gid as usize;
            (u16_at(hmtx, at).unwrap_or(0), u16_at(hmtx, at + 2).unwrap_or(0))
        } else {
            let adv = u16_at(hmtx, 4 * (n as usize - 1)).unwrap_or(0);
            (adv, u16_at(hmtx, 4 * n as usize + 2 * (gid - n) as usize).unwrap_or(0))
        }
    }

    /// The bytes of glyph `gid` in `glyf` (empty for blank glyphs).
    fn glyph(&self, gid: u16) -> Option<&'a [u8]> {
        let (loca, glyf) = (self.table(b"loca"), self.table(b"glyf"));
        let long = u16_at(self.table(b"head"), 50)? == 1;
        let (a, b) = if long {
            (u32_at(loca, 4 * gid as usize)? as usize, u32_at(loca, 4 * gid as usize + 4)? as usize)
        } else {
            (2 * u16_at(loca, 2 * gid as usize)? as usize, 2 * u16_at(loca, 2 * gid as usize + 2)? as usize)
        };
        glyf.get(a..b)
    }

    /// Unicode scalar → glyph id, from a (3,10) format 12 or (3,1)/(0,x) format 4 subtable.
    fn glyph_id(&self, c: char) -> Option<u16> {
        let cmap = self.table(b"cmap");
        let n = u16_at(cmap, 2)? as usize;
        let mut best: Option<(u8, usize)> = None;
        for i in 0..n {
            let (p, e, off) = (u16_at(cmap, 4 + 8 * i)?, u16_at(cmap, 6 + 8 * i)?, u32_at(cmap, 8 + 8 * i)? as usize);
            let rank = match (p, e, u16_at(cmap, off)?) {
                (3, 10, 12) | (0, 4, 12) | (0, 6, 12) => 2,
                (3, 1, 4) | (0, 3, 4) => 1,
                _ => continue,
            };
            if best.is_none_or(|(r, _)| rank > r) {
                best = Some((rank, off));
            }
        }
        let (_, off) = best?;
        let cp = c as u32;
        let sub = cmap.get(off..)?;
        match u16_at(sub, 0)? {
            12 => {
                let groups = u32_at(sub, 12)? as usize;
                (0..groups.min(1 << 20)).find_map(|g| {
                    let at = 16 + 12 * g;
                    let (start, end, gid) = (u32_at(sub, at)?, u32_at(sub, at + 4)?, u32_at(sub, at + 8)?);
                    (start..=end).contains(&cp).then(|| u16::try_from(gid + (cp - start)).ok()).flatten()
                })
            }
            4 => {
                if cp > 0xFFFF {
                    return None;
                }
                let cp = cp as u16;
                let segs = u16_at(sub, 6)? as usize / 2;
                let ends = 14;
                let starts = ends + 2 * segs + 2;
                let deltas = starts + 2 * segs;
                let ranges = deltas + 2 * segs;
                let seg = (0..segs).find(|&s| u16_at(sub, ends + 2 * s).is_some_and(|e| e >= cp))?;
                let start = u16_at(sub, starts + 2 * seg)?;
                if start > cp {
                    return None;
                }
                let delta = u16_at(sub, deltas + 2 * seg)?;
                let range = u16_at(sub, ranges + 2 * seg)?;
                let gid = if range == 0 {
                    cp.wrapping_add(delta)
                } else {
                    let at = ranges + 2 * seg + range as usize + 2 * (cp - start) as usize;
                    match u16_at(sub, at)? {
                        0 => 0,
                        g => g.wrapping_add(delta),
                    }
                };
                (gid != 0).then_some(gid)
            }
            _ => None,
        }
    }
}

/// Component glyph ids of a composite glyph (empty for simple glyphs), with the offsets where
/// each id is stored in the glyph's bytes.
fn components(glyph: &[u8]) -> Vec<(usize, u16)> {
    let mut out = Vec::new();
    if glyph.len() < 10 || i16::from_be_bytes([glyph[0], glyph[1]]) >= 0 {
        return out;
    }
    let mut at = 10;
    while let (Some(flags), Some(gid)) = (u16_at(glyph, at), u16_at(glyph, at + 2)) {
        out.push((at + 2, gid));
        at += 4;
        at += if flags & 0x0001 != 0 { 4 } else { 2 };
        if flags & 0x0008 != 0 {
            at += 2;
        } else if flags & 0x0040 != 0 {
            at += 4;
        } else if flags & 0x0080 != 0 {
            at += 8;
        }
        if flags & 0x0020 == 0 || out.len() > 64 {
            break;
        }
    }
    out
}

fn checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0u32, |acc, c| {
        let mut w = [0u8; 4];
        w[..c.len()].copy_from_slice(c);
        acc.wrapping_add(u32::from_be_bytes(w))
    })
}

/// The subset font: new glyph ids are indices into `old_gids`.
struct Subset {
    bytes: Vec<u8>,
    /// new gid → (advance in 1/1000 em)
    widths: Vec<u32>,
    /// char → new gid
    map: BTreeMap<char, u16>,
    bbox: [i32; 4],
    ascent: i32,
    descent: i32,
}

fn subset(font: &[u8], text: &str) -> Result<Subset, SignError> {
    let ttf = Ttf::parse(font)?;
    let upem = u32::from(ttf.units_per_em());
    let n = ttf.num_glyphs();
    let mut used: BTreeSet<u16> = BTreeSet::from([0]);
    let mut by_char: BTreeMap<char, u16> = BTreeMap::new();
    for c in text.chars() {
        let gid = ttf
            .glyph_id(c)
            .filter(|g| *g < n)
            .ok_or_else(|| font_err(format!("has no glyph for {c:?} (U+{:04X})", c as u32)))?;
        by_char.insert(c, gid);
        used.insert(gid);
    }
    // composite glyphs are drawn from other glyphs: keep those too
    let mut todo: Vec<u16> = used.iter().copied().collect();
    while let Some(g) = todo.pop() {
        for (_, c) in components(ttf.glyph(g).unwrap_or(&[])) {
            if c < n && used.insert(c) {
                todo.push(c);
            }
        }
    }
    let old: Vec<u16> = used.into_iter().collect();
    let new_of: BTreeMap<u16, u16> = old.iter().enumerate().map(|(i, g)| (*g, i as u16)).collect();

    let mut glyf = Vec::new();
    let mut loca = Vec::new();
    let mut hmtx = Vec::new();
    let mut widths = Vec::new();
    for &g in &old {
        loca.extend_from_slice(&(glyf.len() as u32).to_be_bytes());
        let mut bytes = ttf.glyph(g).ok_or_else(|| font_err(format!("glyph {g} lies outside glyf")))?.to_vec();
        for (at, c) in components(&bytes) {
            let new = new_of.get(&c).copied().unwrap_or(0);
            bytes[at..at + 2].copy_from_slice(&new.to_be_bytes());
        }
        glyf.extend_from_slice(&bytes);
        while glyf.len() % 4 != 0 {
            glyf.push(0);
        }
        let (adv, lsb) = ttf.hmetric(g);
        hmtx.extend_from_slice(&adv.to_be_bytes());
        hmtx.extend_from_slice(&lsb.to_be_bytes());
        widths.push(u32::from(adv) * 1000 / upem);
    }
    loca.extend_from_slice(&(glyf.len() as u32).to_be_bytes());
    let count = old.len() as u16;
    let mut head = ttf.table(b"head").to_vec();
    let mut hhea = ttf.table(b"hhea").to_vec();
    let mut maxp = ttf.table(b"maxp").to_vec();
    if head.len() < 54 || hhea.len() < 36 || maxp.len() < 6 {
        return Err(font_err("head, hhea or maxp is truncated"));
    }
    head[8..12].fill(0); // checkSumAdjustment, set below
    head[50..52].copy_from_slice(&1u16.to_be_bytes()); // long loca
    hhea[34..36].copy_from_slice(&count.to_be_bytes());
    maxp[4..6].copy_from_slice(&count.to_be_bytes());
    let scale = |v: i16| i32::from(v) * 1000 / upem as i32;
    let i16_at = |b: &[u8], at: usize| u16_at(b, at).map(|v| v as i16).unwrap_or(0);
    let bbox = [scale(i16_at(&head, 36)), scale(i16_at(&head, 38)), scale(i16_at(&head, 40)), scale(i16_at(&head, 42))];
    let (ascent, descent) = (scale(i16_at(&hhea, 4)), scale(i16_at(&hhea, 6)));

    let mut tables: Vec<([u8; 4], Vec<u8>)> = vec![
        (*b"glyf", glyf),
        (*b"head", head),
        (*b"hhea", hhea),
        (*b"hmtx", hmtx),
        (*b"loca", loca),
        (*b"maxp", maxp),
    ];
    for tag in [b"OS/2", b"cvt ", b"fpgm", b"prep"] {
        if let Some(t) = ttf.tables.get(tag) {
            tables.push((*tag, t.to_vec()));
        }
    }
    tables.sort_by_key(|(t, _)| *t);
    let num = tables.len() as u16;
    let entry_selector = 15 - num.leading_zeros() as u16;
    let search_range = 16u16 << entry_selector;
    let mut out = Vec::new();
    out.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    for v in [num, search_range, entry_selector, num * 16 - search_range] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    let mut offset = 12 + 16 * tables.len();
    let mut head_at = 0;
    for (tag, data) in &tables {
        if tag == b"head" {
            head_at = offset;
        }
        out.extend_from_slice(tag);
        out.extend_from_slice(&checksum(data).to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        offset += data.len().div_ceil(4) * 4;
    }
    for (_, data) in &tables {
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    let adjust = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out));
    out[head_at + 8..head_at + 12].copy_from_slice(&adjust.to_be_bytes());
    let map = by_char.into_iter().map(|(c, g)| (c, new_of[&g])).collect();
    Ok(Subset { bytes: out, widths, map, bbox, ascent, descent })
}

/// What a visible signature shows and where.
#[derive(Clone, Debug)]
pub struct Visible {
    /// `[x1, y1, x2, y2]` on page 1, in PDF units (1/72 inch) from the lower-left corner.
    pub rect: [f32; 4],
    /// The lines of text, top to bottom (e.g. name, masked ID, time).
    pub lines: Vec<String>,
    /// A TrueType font (`.ttf`, glyf outlines) with every character of `lines`.
    pub font: Vec<u8>,
}

/// A stream object the update writes: its dictionary entries (without `/Length`) and data.
pub(crate) struct StreamObj {
    pub dict: lopdf::Dictionary,
    pub data: Vec<u8>,
}

/// New plain objects and new streams, by object id.
pub(crate) type Built = (Vec<(lopdf::ObjectId, lopdf::Object)>, Vec<(lopdf::ObjectId, StreamObj)>);

/// The appearance: the objects to add (form XObject first, then the font objects), all numbered
/// from `first_id`. Returns (objects, streams); the form XObject is `first_id`.
pub(crate) fn build(v: &Visible, first_id: u32) -> Result<Built, SignError> {
    use lopdf::{Dictionary, Object};
    let [x1, y1, x2, y2] = v.rect;
    let (w, h) = ((x2 - x1).abs(), (y2 - y1).abs());
    if !(w.is_finite() && h.is_finite()) || w < 20.0 || h < 10.0 || w > 2000.0 || h > 2000.0 {
        return Err(SignError::malformed("visible", "the rectangle must be 20–2000 by 10–2000 units"));
    }
    if v.lines.is_empty() || v.lines.len() > 12 {
        return Err(SignError::malformed("visible", "1 to 12 lines of text"));
    }
    let text: String = v.lines.concat();
    if text.chars().any(char::is_control) {
        return Err(SignError::malformed("visible", "the text has control characters"));
    }
    let font = subset(&v.font, &text)?;
    // font size: the longest line fits the width, all lines the height (4-unit margins)
    let width_of = |line: &str| -> u32 { line.chars().map(|c| font.widths[font.map[&c] as usize]).sum() };
    let widest = v.lines.iter().map(|l| width_of(l)).max().unwrap_or(1).max(1) as f32 / 1000.0;
    let size = ((w - 8.0) / widest).min((h - 8.0) / (1.25 * v.lines.len() as f32)).clamp(2.0, 14.0);
    let leading = size * 1.25;
    let mut content = String::new();
    content.push_str(&format!(
        "q 0.94 0.96 1 rg 0 0 {w:.2} {h:.2} re f 0.1 0.3 0.6 RG 1 w 0.5 0.5 {:.2} {:.2} re S Q\n",
        w - 1.0,
        h - 1.0
    ));
    content.push_str(&format!("BT 0 0 0.3 rg /F1 {size:.2} Tf\n"));
    let top = (h + leading * v.lines.len() as f32) / 2.0 - size * 0.95;
    for (i, line) in v.lines.iter().enumerate() {
        let hex: String = line.chars().map(|c| format!("{:04X}", font.map[&c])).collect();
        content.push_str(&format!("1 0 0 1 4 {:.2} Tm <{hex}> Tj\n", top - leading * i as f32));
    }
    content.push_str("ET\n");

    let id = |k: u32| (first_id + k, 0u16);
    let (form, type0, cid, desc, file, tounicode) = (id(0), id(1), id(2), id(3), id(4), id(5));
    let base = format!("KYSOSB+{}", "DejaVuSans");
    let name = |s: &str| Object::Name(s.as_bytes().to_vec());

    let mut fonts = Dictionary::new();
    fonts.set("F1", Object::Reference(type0));
    let mut res = Dictionary::new();
    res.set("Font", Object::Dictionary(fonts));
    let mut fd = Dictionary::new();
    fd.set("Type", name("XObject"));
    fd.set("Subtype", name("Form"));
    fd.set("BBox", Object::Array(vec![0.into(), 0.into(), Object::Real(w), Object::Real(h)]));
    fd.set("Resources", Object::Dictionary(res));

    let mut t0 = Dictionary::new();
    t0.set("Type", name("Font"));
    t0.set("Subtype", name("Type0"));
    t0.set("BaseFont", name(&base));
    t0.set("Encoding", name("Identity-H"));
    t0.set("DescendantFonts", Object::Array(vec![Object::Reference(cid)]));
    t0.set("ToUnicode", Object::Reference(tounicode));

    let mut info = Dictionary::new();
    info.set("Registry", Object::string_literal("Adobe"));
    info.set("Ordering", Object::string_literal("Identity"));
    info.set("Supplement", Object::Integer(0));
    let mut cf = Dictionary::new();
    cf.set("Type", name("Font"));
    cf.set("Subtype", name("CIDFontType2"));
    cf.set("BaseFont", name(&base));
    cf.set("CIDSystemInfo", Object::Dictionary(info));
    cf.set("FontDescriptor", Object::Reference(desc));
    cf.set("CIDToGIDMap", name("Identity"));
    cf.set(
        "W",
        Object::Array(vec![
            0.into(),
            Object::Array(font.widths.iter().map(|&x| Object::Integer(i64::from(x))).collect()),
        ]),
    );

    let mut d = Dictionary::new();
    d.set("Type", name("FontDescriptor"));
    d.set("FontName", name(&base));
    d.set("Flags", Object::Integer(32));
    d.set("FontBBox", Object::Array(font.bbox.iter().map(|&x| Object::Integer(i64::from(x))).collect()));
    d.set("ItalicAngle", Object::Integer(0));
    d.set("Ascent", Object::Integer(i64::from(font.ascent)));
    d.set("Descent", Object::Integer(i64::from(font.descent)));
    d.set("CapHeight", Object::Integer(i64::from(font.ascent)));
    d.set("StemV", Object::Integer(80));
    d.set("FontFile2", Object::Reference(file));

    let mut ff = Dictionary::new();
    ff.set("Length1", Object::Integer(font.bytes.len() as i64));

    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let pairs: Vec<(u16, char)> = font.map.iter().map(|(c, g)| (*g, *c)).collect();
    for chunk in pairs.chunks(100) {
        cmap.push_str(&format!("{} beginbfchar\n", chunk.len()));
        for (g, c) in chunk {
            let utf16: String = c.encode_utf16(&mut [0u16; 2]).iter().map(|u| format!("{u:04X}")).collect();
            cmap.push_str(&format!("<{g:04X}> <{utf16}>\n"));
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");

    let objects = vec![(type0, Object::Dictionary(t0)), (cid, Object::Dictionary(cf)), (desc, Object::Dictionary(d))];
    let streams = vec![
        (form, StreamObj { dict: fd, data: content.into_bytes() }),
        (file, StreamObj { dict: ff, data: font.bytes }),
        (tounicode, StreamObj { dict: Dictionary::new(), data: cmap.into_bytes() }),
    ];
    Ok((objects, streams))
}

/// How many object numbers [`build`] uses.
pub(crate) const OBJECTS: u32 = 6;

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn bad_fonts_are_errors_not_panics() {
        for f in [&b""[..], b"\x00\x01\x00\x00\x00\x05", b"OTTO\x00\x00", &[0xff; 64]] {
            assert!(subset(f, "A").is_err());
        }
        let mut fake = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        fake.extend_from_slice(b"glyf\0\0\0\0\xff\xff\xff\xf0\0\0\0\x10");
        assert!(subset(&fake, "A").is_err());
        assert!(components(&[0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x21, 0, 5]).len() == 1);
    }
}
