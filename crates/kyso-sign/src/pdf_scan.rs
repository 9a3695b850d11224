//! A targeted reader for the signature dictionaries of a PDF with classic cross-reference tables:
//! it follows the `startxref` → `xref` → `/Prev` chain (newest entry wins, as in a full parse),
//! parses each live object's top-level value only (a dictionary followed by `stream` is a stream
//! and is skipped, its data never read) and records hex strings as spans of the file instead of
//! decoding them, so the 16 KiB `/Contents` of a signature costs a scan, not a decode.
//!
//! It answers only when the file is plain: any xref stream, hybrid file (`/XRefStm`), encryption,
//! object whose header does not match its xref entry, or syntax it does not know makes it return
//! `None`, and [`crate::pdf::signatures`] falls back to the full lopdf parse. Whatever it finds
//! goes through the same checks as the full parse's result. It is more lenient than lopdf in one
//! way: damage in stream data or in objects it does not need does not hide the signatures (lopdf
//! then gives up on the whole file); the modification analysis still parses the file in full, so
//! such damage after a signature still leaves it short of TOTAL-PASSED.

use std::collections::{HashMap, HashSet};

/// A PDF value, as much of it as the signature checks need.
#[derive(Debug)]
pub(crate) enum Val {
    Int(i64),
    /// Reals, booleans, null.
    Other,
    /// Decoded (`#xx` escapes resolved), without the slash.
    Name(Vec<u8>),
    /// A literal string, unescaped.
    Str(Vec<u8>),
    /// A hex string `<…>`: `[open, close]` are the offsets of `<` and `>` in the file.
    Hex(usize, usize),
    Ref(u32, u16),
    Array(Vec<Val>),
    Dict(Dict),
}

/// Dictionary entries in file order; a repeated key: the last one counts.
#[derive(Debug, Default)]
pub(crate) struct Dict(Vec<(Vec<u8>, Val)>);

impl Dict {
    pub(crate) fn get(&self, key: &[u8]) -> Option<&Val> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

fn is_ws(c: u8) -> bool {
    matches!(c, 0 | 9 | 10 | 12 | 13 | 32)
}

fn is_delim(c: u8) -> bool {
    matches!(c, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

fn is_hex_or_ws(c: u8) -> bool {
    c.is_ascii_hexdigit() || is_ws(c)
}

/// Every byte of `s` is a hex digit or PDF white space. Works 32 bytes at a time without early
/// exits so that the compiler vectorises it: a 32 KiB placeholder costs a few thousand steps.
pub(crate) fn all_hex_or_ws(s: &[u8]) -> bool {
    let mut chunks = s.chunks_exact(32);
    for c in &mut chunks {
        let ok = c.iter().fold(true, |acc, &b| {
            let d = b.wrapping_sub(b'0') < 10;
            let l = (b | 0x20).wrapping_sub(b'a') < 6;
            let w = b == b' ' || b == b'\n' || b == b'\r' || b == b'\t' || b == 0 || b == 12;
            acc & (d | l | w)
        });
        if !ok {
            return false;
        }
    }
    chunks.remainder().iter().all(|&b| is_hex_or_ws(b))
}

/// Every byte of `s` is `b` (vectorised like [`all_hex_or_ws`]).
pub(crate) fn all_equal(s: &[u8], b: u8) -> bool {
    let mut chunks = s.chunks_exact(32);
    for c in &mut chunks {
        if c.iter().fold(0u8, |acc, &x| acc | (x ^ b)) != 0 {
            return false;
        }
    }
    chunks.remainder().iter().all(|&x| x == b)
}

/// The first `b` in `s` (vectorised like [`all_hex_or_ws`]).
pub(crate) fn find_byte(s: &[u8], b: u8) -> Option<usize> {
    let mut at = 0;
    for c in s.chunks(32) {
        if c.iter().fold(false, |acc, &x| acc | (x == b)) {
            return c.iter().position(|&x| x == b).map(|p| at + p);
        }
        at += c.len();
    }
    None
}

/// Is `needle` anywhere in `hay`? Skips 32-byte blocks without the needle's first byte.
pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

struct P<'a> {
    b: &'a [u8],
    i: usize,
}

const MAX_DEPTH: usize = 32;

impl<'a> P<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if is_ws(c) {
                self.i += 1;
            } else if c == b'%' {
                while self.peek().is_some_and(|c| c != b'\n' && c != b'\r') {
                    self.i += 1;
                }
            } else {
                break;
            }
        }
    }

    /// A keyword (`obj`, `xref`, `trailer`, `R`, …) ends at white space, a delimiter or the end.
    fn keyword(&mut self, k: &[u8]) -> bool {
        let rest = &self.b[self.i.min(self.b.len())..];
        if rest.starts_with(k) && rest.get(k.len()).is_none_or(|&c| is_ws(c) || is_delim(c)) {
            self.i += k.len();
            true
        } else {
            false
        }
    }

    fn uint(&mut self) -> Option<u64> {
        let start = self.i;
        let mut n: u64 = 0;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            n = n.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            self.i += 1;
        }
        (self.i > start && self.i - start <= 19).then_some(n)
    }

    fn value(&mut self, depth: usize) -> Option<Val> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        match self.peek()? {
            b'<' if self.b.get(self.i + 1) == Some(&b'<') => {
                self.i += 2;
                let mut d = Vec::new();
                loop {
                    self.skip_ws();
                    if self.b[self.i..].starts_with(b">>") {
                        self.i += 2;
                        return Some(Val::Dict(Dict(d)));
                    }
                    let Val::Name(k) = self.value(depth + 1)? else { return None };
                    let v = self.value(depth + 1)?;
                    d.push((k, v));
                }
            }
            b'<' => {
                let open = self.i;
                let len = find_byte(&self.b[open + 1..], b'>')?;
                let close = open + 1 + len;
                if !all_hex_or_ws(&self.b[open + 1..close]) {
                    return None;
                }
                self.i = close + 1;
                Some(Val::Hex(open, close))
            }
            b'[' => {
                self.i += 1;
                let mut a = Vec::new();
                loop {
                    self.skip_ws();
                    if self.peek()? == b']' {
                        self.i += 1;
                        return Some(Val::Array(a));
                    }
                    a.push(self.value(depth + 1)?);
                }
            }
            b'(' => self.literal().map(Val::Str),
            b'/' => {
                self.i += 1;
                let mut name = Vec::new();
                while let Some(c) = self.peek().filter(|&c| !is_ws(c) && !is_delim(c)) {
                    if c == b'#' {
                        let h = self.b.get(self.i + 1..self.i + 3)?;
                        name.push(u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?);
                        self.i += 3;
                    } else {
                        name.push(c);
                        self.i += 1;
                    }
                }
                Some(Val::Name(name))
            }
            b'0'..=b'9' => {
                let n = self.uint()?;
                if self.peek() == Some(b'.') {
                    self.i += 1;
                    while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                        self.i += 1;
                    }
                    return Some(Val::Other);
                }
                // `n g R`?
                let save = self.i;
                self.skip_ws();
                if let Some(g) = self.uint() {
                    self.skip_ws();
                    if self.keyword(b"R") {
                        return Some(Val::Ref(u32::try_from(n).ok()?, u16::try_from(g).ok()?));
                    }
                }
                self.i = save;
                Some(Val::Int(i64::try_from(n).ok()?))
            }
            b'+' | b'-' | b'.' => {
                let neg = self.peek() == Some(b'-');
                if self.peek() != Some(b'.') {
                    self.i += 1;
                }
                if self.peek() == Some(b'.') {
                    self.i += 1;
                    while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                        self.i += 1;
                    }
                    return Some(Val::Other);
                }
                let n = i64::try_from(self.uint()?).ok()?;
                if self.peek() == Some(b'.') {
                    self.i += 1;
                    while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                        self.i += 1;
                    }
                    return Some(Val::Other);
                }
                Some(Val::Int(if neg { -n } else { n }))
            }
            _ if self.keyword(b"true") || self.keyword(b"false") || self.keyword(b"null") => Some(Val::Other),
            _ => None,
        }
    }

    /// A literal string `( … )`, unescaped (PDF 32000-1 §7.3.4.2).
    fn literal(&mut self) -> Option<Vec<u8>> {
        self.i += 1;
        let mut out = Vec::new();
        let mut depth = 1usize;
        loop {
            let c = self.peek()?;
            self.i += 1;
            match c {
                b'(' => {
                    depth += 1;
                    out.push(c);
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(out);
                    }
                    out.push(c);
                }
                b'\r' => {
                    if self.peek() == Some(b'\n') {
                        self.i += 1;
                    }
                    out.push(b'\n');
                }
                b'\\' => {
                    let e = self.peek()?;
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        self.i += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push(v as u8);
                        }
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.i += 1;
                            }
                        }
                        b'\n' => {}
                        other => out.push(other),
                    }
                }
                _ => out.push(c),
            }
        }
    }
}

/// The bytes of a hex string `<…>` (white space skipped, an odd last digit padded with 0).
/// Each byte's value as a hex digit; `WS` for PDF white space, `BAD` for anything else.
const HEX: [u8; 256] = {
    let mut t = [BAD; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    let ws = [0u8, 9, 10, 12, 13, 32];
    let mut i = 0;
    while i < ws.len() {
        t[ws[i] as usize] = WS;
        i += 1;
    }
    t
};
const WS: u8 = 0x40;
const BAD: u8 = 0x80;

/// The bytes of a hex string's body (white space ignored, an odd last digit followed by 0), or
/// None when it holds anything else. Signature values are tens of kilobytes of hex: pairs of
/// digits are taken two at a time through a table.
pub(crate) fn decode_hex(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 2);
    let mut hi: Option<u8> = None;
    let mut i = 0;
    while i < s.len() {
        if hi.is_none() && i + 1 < s.len() {
            let (x, y) = (HEX[s[i] as usize], HEX[s[i + 1] as usize]);
            if (x | y) < 16 {
                out.push(x << 4 | y);
                i += 2;
                continue;
            }
        }
        let v = HEX[s[i] as usize];
        i += 1;
        match v {
            BAD => return None,
            WS => continue,
            _ => match hi.take() {
                None => hi = Some(v),
                Some(h) => out.push(h << 4 | v),
            },
        }
    }
    if let Some(h) = hi {
        out.push(h << 4);
    }
    Some(out)
}

/// Whether a hex string's body holds only hex digits and white space ([`decode_hex`] would
/// succeed), without decoding it.
pub(crate) fn is_hex_body(s: &[u8]) -> bool {
    // the same set of bytes as `HEX` accepts (digits, both cases of a-f, PDF white space), checked
    // 32 at a time: signature placeholders are tens of kilobytes
    all_hex_or_ws(s)
}

/// A string value's bytes (literal or hex).
pub(crate) fn string_bytes(pdf: &[u8], v: &Val) -> Option<Vec<u8>> {
    match v {
        Val::Str(s) => Some(s.clone()),
        Val::Hex(open, close) => decode_hex(&pdf[open + 1..*close]),
        _ => None,
    }
}

/// One 20-byte cross-reference entry: (offset, generation, `n` or `f`).
fn xref_entry(e: &[u8]) -> Option<(usize, u16, u8)> {
    let digits =
        |r: &[u8]| r.iter().all(u8::is_ascii_digit).then(|| std::str::from_utf8(r).ok()?.parse::<u64>().ok())?;
    let eol_ok = matches!(&e[18..20], b" \r" | b" \n" | b"\r\n");
    if e[10] != b' ' || e[16] != b' ' || !matches!(e[17], b'n' | b'f') || !eol_ok {
        return None;
    }
    let (off, generation) = (digits(&e[..10])?, u16::try_from(digits(&e[11..16])?).ok()?);
    // A free entry's first field is the next free object's number: an object number, as lopdf reads it.
    if e[17] == b'f' && u32::try_from(off).is_err() {
        return None;
    }
    Some((usize::try_from(off).ok()?, generation, e[17]))
}

/// The classic xref section at `at`: each entry, as (object number, generation, offset, in use),
/// goes to `entry`, which may stop the reading with None; then its trailer. Entries are read
/// exactly as ISO 32000 writes them, 20 bytes (`nnnnnnnnnn ggggg n` and a two-byte end of line):
/// anything looser is left to the full parser, so that this scanner never reads a table lopdf
/// would refuse (the `pdf_differential` fuzz target). None when the section is not plain classic
/// (an xref stream, a hybrid file's /XRefStm, encryption, syntax this reader does not know).
fn xref_section(pdf: &[u8], at: usize, mut entry: impl FnMut(u32, u16, usize, bool) -> Option<()>) -> Option<Dict> {
    let mut p = P { b: pdf, i: at };
    if !p.keyword(b"xref") {
        return None; // an xref stream: leave it to the full parser
    }
    loop {
        p.skip_ws();
        if p.keyword(b"trailer") {
            break;
        }
        let start = u32::try_from(p.uint()?).ok()?;
        p.skip_ws();
        let count = usize::try_from(p.uint()?).ok()?;
        if count > pdf.len() / 20 {
            return None;
        }
        p.skip_ws();
        for k in 0..count {
            let (off, generation, kind) = xref_entry(pdf.get(p.i..p.i + 20)?)?;
            p.i += 20;
            entry(start.checked_add(u32::try_from(k).ok()?)?, generation, off, kind == b'n')?;
        }
    }
    let Val::Dict(trailer) = p.value(0)? else { return None };
    if trailer.get(b"XRefStm").is_some() || trailer.get(b"Encrypt").is_some() {
        return None;
    }
    Some(trailer)
}

/// The plain objects of a classic-xref PDF: the live dictionaries (not streams) by object id,
/// in object-id order. `None` when the file is not plain enough (see the module doc).
pub(crate) fn live_dicts(pdf: &[u8], startxref: usize) -> Option<Vec<((u32, u16), Dict)>> {
    // object number → (generation, offset), or None when the newest entry frees it
    let mut entries: HashMap<u32, Option<(u16, usize)>> = HashMap::new();
    let mut seen = HashSet::new();
    let mut at = startxref;
    loop {
        if !seen.insert(at) || seen.len() > 256 {
            return None;
        }
        let trailer = xref_section(pdf, at, |num, generation, off, in_use| {
            if in_use && off >= pdf.len() {
                return None;
            }
            entries.entry(num).or_insert(in_use.then_some((generation, off)));
            Some(())
        })?;
        // Every trailer names its /Size (the newest one its /Root too): without them lopdf refuses
        // the file, so this scanner does not read it either (the `pdf_differential` fuzz target).
        if !matches!(trailer.get(b"Size"), Some(Val::Int(n)) if *n > 0) {
            return None;
        }
        if seen.len() == 1 && !matches!(trailer.get(b"Root"), Some(Val::Ref(..))) {
            return None;
        }
        match trailer.get(b"Prev") {
            None => break,
            Some(Val::Int(prev)) => at = usize::try_from(*prev).ok()?,
            Some(_) => return None,
        }
    }
    let mut live: Vec<(u32, u16, usize)> =
        entries.into_iter().filter_map(|(n, e)| e.map(|(g, off)| (n, g, off))).filter(|&(n, ..)| n != 0).collect();
    live.sort_unstable();
    let mut out = Vec::new();
    for (num, generation, off) in live {
        let mut p = P { b: pdf, i: off };
        if p.uint()? != u64::from(num) {
            return None;
        }
        p.skip_ws();
        if p.uint()? != u64::from(generation) {
            return None;
        }
        p.skip_ws();
        if !p.keyword(b"obj") {
            return None;
        }
        let v = p.value(0)?;
        p.skip_ws();
        if let Val::Dict(d) = v {
            if !p.keyword(b"stream") {
                out.push(((num, generation), d));
            }
        }
    }
    Some(out)
}

/// One classic xref section, restricted to the objects a caller asked about, and its trailer.
struct Section {
    /// (object number, (generation, offset) or None when free), newest first within the section.
    entries: Vec<(u32, Option<(u16, usize)>)>,
    prev: Option<usize>,
    root: Option<(u32, u16)>,
}

/// The section at `at`; None when it is not a plain classic section (an xref stream, a hybrid
/// file, encryption, syntax this reader does not know).
fn section(pdf: &[u8], at: usize, wanted: &HashSet<u32>) -> Option<Section> {
    let mut entries = Vec::new();
    let trailer = xref_section(pdf, at, |num, generation, off, in_use| {
        if wanted.contains(&num) {
            entries.push((num, in_use.then_some((generation, off))));
        }
        Some(())
    })?;
    let prev = match trailer.get(b"Prev") {
        None => None,
        Some(Val::Int(prev)) => Some(usize::try_from(*prev).ok()?),
        Some(_) => return None,
    };
    let root = match trailer.get(b"Root") {
        Some(Val::Ref(n, g)) => Some((*n, *g)),
        _ => None,
    };
    Some(Section { entries, prev, root })
}

/// Where the wanted objects live in each revision of a classic-xref file, each xref section read
/// once however many revisions share it (see `kyso_validate`'s modification analysis).
pub struct XrefChains<'a> {
    pdf: &'a [u8],
    wanted: HashSet<u32>,
    memo: HashMap<usize, Option<std::rc::Rc<Section>>>,
}

/// The wanted objects' (generation, offset) — None when free — and the trailer's /Root.
pub type Resolved = (std::collections::BTreeMap<u32, Option<(u16, usize)>>, (u32, u16));

impl<'a> XrefChains<'a> {
    pub fn new(pdf: &'a [u8], wanted: HashSet<u32>) -> XrefChains<'a> {
        XrefChains { pdf, wanted, memo: HashMap::new() }
    }

    fn section(&mut self, at: usize) -> Option<std::rc::Rc<Section>> {
        if let Some(s) = self.memo.get(&at) {
            return s.clone();
        }
        let s = section(self.pdf, at, &self.wanted).map(std::rc::Rc::new);
        self.memo.insert(at, s.clone());
        s
    }

    /// The revision whose xref starts at `start`: newest entry wins along the `/Prev` chain.
    pub fn resolve(&mut self, start: usize) -> Option<Resolved> {
        let mut map = std::collections::BTreeMap::new();
        let mut root = None;
        let mut seen = HashSet::new();
        let mut at = Some(start);
        while let Some(here) = at {
            // sections are memoised, so a long chain costs hops, not parsing
            if !seen.insert(here) || seen.len() > 4096 {
                return None;
            }
            let s = self.section(here)?;
            root = root.or(s.root);
            for &(num, e) in &s.entries {
                map.entry(num).or_insert(e);
            }
            at = s.prev;
        }
        Some((map, root?))
    }
}

/// The offset after the last `startxref` in the 2 KiB before `end`, when a `%%EOF` follows it.
pub fn startxref_before(pdf: &[u8], end: usize) -> Option<usize> {
    let tail = pdf.get(end.saturating_sub(2048)..end)?;
    let at = tail.windows(9).rposition(|w| w == b"startxref")?;
    if !tail[at..].windows(5).any(|w| w == b"%%EOF") {
        return None;
    }
    let mut p = P { b: tail, i: at + 9 };
    p.skip_ws();
    usize::try_from(p.uint()?).ok()
}

#[cfg(test)]
mod tests {
    /// The vectorised check accepts exactly the bytes the decoder's table accepts, alone, in
    /// whole 32-byte chunks and in the remainder.
    #[test]
    fn vectorised_hex_check_agrees_with_the_table() {
        for b in 0..=255u8 {
            let table = super::HEX[b as usize] != super::BAD;
            for len in [1, 31, 32, 33, 64, 70] {
                let mut s = vec![b'a'; len];
                s[len - 1] = b;
                assert_eq!(super::all_hex_or_ws(&s), table, "byte {b:#04x} at the end of {len}");
                s[len - 1] = b'0';
                s[0] = b;
                assert_eq!(super::is_hex_body(&s), table, "byte {b:#04x} at the start of {len}");
            }
        }
    }

    /// The table-driven decoder agrees with the plain digit-by-digit reading on every mix of
    /// digits, white space and stray bytes (odd counts, spaces between the digits of a pair).
    #[test]
    fn hex_decoding_agrees_with_the_plain_reading() {
        fn plain(s: &[u8]) -> Option<Vec<u8>> {
            let mut out = Vec::new();
            let mut hi: Option<u8> = None;
            for &x in s {
                let v = match x {
                    b'0'..=b'9' => x - b'0',
                    b'a'..=b'f' => x - b'a' + 10,
                    b'A'..=b'F' => x - b'A' + 10,
                    0 | 9 | 10 | 12 | 13 | 32 => continue,
                    _ => return None,
                };
                match hi.take() {
                    None => hi = Some(v),
                    Some(h) => out.push(h << 4 | v),
                }
            }
            if let Some(h) = hi {
                out.push(h << 4);
            }
            Some(out)
        }
        let alphabet = b"0123456789abcdefABCDEF \n\r\t\x0c\0g<>";
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in 0..40 {
            for _ in 0..300 {
                let s: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        // mostly digits, sometimes white space or a stray byte
                        let k = (seed % 100) as usize;
                        if k < 85 {
                            alphabet[k % 22]
                        } else {
                            alphabet[22 + k % (alphabet.len() - 22)]
                        }
                    })
                    .collect();
                assert_eq!(decode_hex(&s), plain(&s), "{:?}", String::from_utf8_lossy(&s));
                assert_eq!(is_hex_body(&s), plain(&s).is_some());
            }
        }
        assert_eq!(decode_hex(b"3 0a"), Some(vec![0x30, 0xa0]));
    }

    use super::*;

    fn one(src: &[u8]) -> Option<Val> {
        P { b: src, i: 0 }.value(0)
    }

    #[test]
    fn values() {
        let Some(Val::Dict(d)) =
            one(b"<< /A 1 0 R /B [1 2 -3 4.5] /N /a#20b /S (a\\(b\\)\\101\\\n) /H <41 42> /D<</E true>> >>")
        else {
            panic!("not a dict")
        };
        assert!(matches!(d.get(b"A"), Some(Val::Ref(1, 0))));
        let Some(Val::Array(a)) = d.get(b"B") else { panic!() };
        assert!(matches!(a[..], [Val::Int(1), Val::Int(2), Val::Int(-3), Val::Other]));
        assert!(matches!(d.get(b"N"), Some(Val::Name(n)) if n == b"a b"));
        assert!(matches!(d.get(b"S"), Some(Val::Str(s)) if s == b"a(b)A"));
        let src = b"<< /H <41 42> >>";
        let Some(Val::Dict(d)) = one(src) else { panic!() };
        assert_eq!(string_bytes(src, d.get(b"H").unwrap()).unwrap(), b"AB");
        // not hex, unbalanced, unknown keyword: no answer rather than a guess
        assert!(one(b"<4G>").is_none());
        assert!(one(b"<< /A (x >>").is_none());
        assert!(one(b"<< /A foo >>").is_none());
    }

    #[test]
    fn scans() {
        let mut s = vec![b'0'; 1000];
        assert!(all_equal(&s, b'0') && all_hex_or_ws(&s));
        s[999] = b'1';
        assert!(!all_equal(&s, b'0') && all_hex_or_ws(&s));
        s[500] = b'g';
        assert!(!all_hex_or_ws(&s));
        assert_eq!(find_byte(&s, b'g'), Some(500));
        assert_eq!(find_byte(&s, b'>'), None);
        assert!(!contains(&s, b"0g1") && contains(&s, b"0g0") && contains(&s, b"01"));
        assert!(!contains(b"/DS", b"/DSS") && contains(b"x/DSS", b"/DSS"));
    }
}
