//! Lenient decoding of CMS as real signers write it, before the strict DER decoder reads it.
//!
//! RFC 5652 lets SignedData be BER (only the signed attributes must be DER, and only as the
//! input of the signature: §5.4). Signers use that: OpenSSL's streaming mode writes indefinite
//! lengths, and pyHanko repeats the signer's certificate in `certificates`. The `der` crate refuses
//! both (indefinite length, `SET OF contains duplicate`), so [`normalise`] first re-encodes the
//! input as DER — definite minimal lengths, constructed strings joined into primitive ones — and
//! drops repeated elements of SignedData's `digestAlgorithms`, `certificates` and `crls`. Nothing
//! else changes: DER input comes out byte for byte as it went in, and every cryptographic check
//! (message digest, the signature over the signed attributes, signing-certificate-v2, the chain)
//! runs on the normalised bytes as strictly as before.
//!
//! Truly broken input is an error naming the part and the byte offset. Bounded: nesting at most
//! [`MAX_DEPTH`] deep, each byte copied at most once per level.

use crate::der_walk::{self, Tlv};
use crate::SignError;
use std::borrow::Cow;

/// Deeper than any CMS (a time-stamp token's certificate name sits about 20 levels down).
pub(crate) const MAX_DEPTH: u32 = 48;

/// What [`normalise`] changed, for the validation report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Leniency {
    /// The input was BER (indefinite or non-minimal lengths, constructed strings), not DER.
    pub ber: bool,
    /// Zero bytes after the ContentInfo (a PDF `/Contents` placeholder's padding) were ignored.
    pub padding: bool,
    /// Repeated entries dropped from SignedData: (field, how many).
    pub repeated: Repeats,
}

/// Repeated entries dropped from SignedData: (field, how many).
pub type Repeats = Vec<(&'static str, usize)>;

impl Leniency {
    /// Human-readable notes, empty when the input was plain DER.
    pub fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.ber {
            out.push("the signature container is BER-encoded (read as DER; RFC 5652 permits BER)".to_string());
        }
        for (field, n) in &self.repeated {
            out.push(format!("SignedData {field}: {n} repeated entr{} ignored", if *n == 1 { "y" } else { "ies" }));
        }
        out
    }
}

/// `input` as DER (see the module documentation), borrowed when it already was.
pub(crate) fn normalise<'a>(input: &'a [u8], what: &'static str) -> Result<(Cow<'a, [u8]>, Leniency), SignError> {
    let mut lenient = Leniency::default();
    let bad = |pos: usize, why: &str| SignError::malformed(what, format!("byte {pos}: {why}"));
    let p = Parser { buf: input, what };
    let end = p.scan(0, 0)?;
    let mut der: Cow<[u8]> = if p.clean_so_far(0, end)? {
        Cow::Borrowed(&input[..end])
    } else {
        lenient.ber = true;
        let mut out = Vec::with_capacity(end);
        p.emit(0, 0, &mut out)?;
        Cow::Owned(out)
    };
    if end < input.len() {
        if input[end..].iter().all(|&b| b == 0) {
            lenient.padding = true;
        } else {
            return Err(bad(end, "trailing bytes after the ContentInfo"));
        }
    }
    if let Some((deduped, repeated)) = dedupe_signed_data(&der) {
        der = Cow::Owned(deduped);
        lenient.repeated = repeated;
    }
    Ok((der, lenient))
}

struct Parser<'a> {
    buf: &'a [u8],
    what: &'static str,
}

/// One BER header.
struct Head {
    /// The identifier octets end here.
    tag_end: usize,
    constructed: bool,
    /// The single tag octet when the tag number is below 31 (every tag CMS uses), else None.
    tag: Option<u8>,
    /// Definite length, or None for indefinite.
    len: Option<usize>,
    content_start: usize,
    /// The length octets were the minimal definite form.
    minimal: bool,
}

/// Universal string types BER may encode as constructed segments (X.690 §8.7, §8.21): BIT
/// STRING, OCTET STRING, ObjectDescriptor and the character strings.
fn is_string_type(tag: u8) -> bool {
    matches!(tag & 0x1f, 3 | 4 | 7 | 12 | 18..=22 | 25..=28 | 30) && tag & 0xc0 == 0
}

impl Parser<'_> {
    fn err(&self, pos: usize, why: impl std::fmt::Display) -> SignError {
        SignError::malformed(self.what, format!("byte {pos}: {why}"))
    }

    fn head(&self, pos: usize) -> Result<Head, SignError> {
        let first = *self.buf.get(pos).ok_or_else(|| self.err(pos, "input ends where an element should start"))?;
        let constructed = first & 0x20 != 0;
        let mut i = pos + 1;
        let tag = if first & 0x1f == 0x1f {
            // high tag number: base-128 octets, the last without bit 8
            let mut n = 0;
            loop {
                let b = *self.buf.get(i).ok_or_else(|| self.err(i, "input ends inside a tag"))?;
                i += 1;
                n += 1;
                if n > 4 {
                    return Err(self.err(pos, "tag number too long"));
                }
                if b & 0x80 == 0 {
                    break;
                }
            }
            None
        } else {
            Some(first)
        };
        let tag_end = i;
        let l = *self.buf.get(i).ok_or_else(|| self.err(i, "input ends before the length"))?;
        i += 1;
        let (len, minimal) = if l < 0x80 {
            (Some(l as usize), true)
        } else if l == 0x80 {
            if !constructed {
                return Err(self.err(pos, "indefinite length on a primitive element"));
            }
            (None, false)
        } else {
            let n = (l & 0x7f) as usize;
            if n > 8 || l == 0xff {
                return Err(self.err(pos + 1, format!("a length of {n} octets")));
            }
            let octets = self.buf.get(i..i + n).ok_or_else(|| self.err(i, "input ends inside a length"))?;
            i += n;
            let mut v: u64 = 0;
            for &b in octets {
                v = (v << 8) | b as u64;
            }
            let v = usize::try_from(v).map_err(|_| self.err(pos + 1, "length out of range"))?;
            (Some(v), v >= 0x80 && octets[0] != 0)
        };
        if let Some(len) = len {
            let end = i.checked_add(len).filter(|&e| e <= self.buf.len());
            if end.is_none() {
                return Err(self.err(
                    pos,
                    format!("an element of {len} bytes from byte {i} runs past the end ({} bytes)", self.buf.len()),
                ));
            }
        }
        Ok(Head { tag_end, constructed, tag, len, content_start: i, minimal })
    }

    /// Check the element at `pos` is well-formed BER; return where it ends.
    fn scan(&self, pos: usize, depth: u32) -> Result<usize, SignError> {
        if depth > MAX_DEPTH {
            return Err(self.err(pos, format!("nested more than {MAX_DEPTH} levels deep")));
        }
        let h = self.head(pos)?;
        if !h.constructed {
            return Ok(h.content_start + h.len.unwrap_or(0));
        }
        let end = h.len.map(|len| h.content_start + len);
        self.children(&h, pos, |at| {
            let child = self.scan(at, depth + 1)?;
            match end {
                Some(end) if child > end => {
                    Err(self.err(at, format!("an element runs past its parent's end (byte {end})")))
                }
                _ => Ok(child),
            }
        })
    }

    /// Whether `[pos, end)` (well-formed, see `scan`) is already DER as far as lengths and
    /// string forms go.
    fn clean_so_far(&self, pos: usize, end: usize) -> Result<bool, SignError> {
        let mut at = pos;
        let mut stack: Vec<usize> = vec![end];
        while let Some(&limit) = stack.last() {
            if at >= limit {
                stack.pop();
                continue;
            }
            let h = self.head(at)?;
            let Some(len) = h.len else { return Ok(false) };
            if !h.minimal || (h.constructed && h.tag.is_some_and(is_string_type)) {
                return Ok(false);
            }
            // end-of-contents octets outside an indefinite element are not DER either
            if h.tag == Some(0) && len == 0 {
                return Ok(false);
            }
            if h.constructed {
                stack.push(h.content_start + len);
                at = h.content_start;
            } else {
                at = h.content_start + len;
            }
        }
        Ok(true)
    }

    /// Append the DER of the element at `pos` (checked by `scan`) to `out`; return its end.
    fn emit(&self, pos: usize, depth: u32, out: &mut Vec<u8>) -> Result<usize, SignError> {
        let h = self.head(pos)?;
        let ident = &self.buf[pos..h.tag_end];
        if !h.constructed {
            let len = h.len.unwrap_or(0);
            let end = h.content_start + len;
            out.extend_from_slice(ident);
            push_len(out, len);
            out.extend_from_slice(&self.buf[h.content_start..end]);
            return Ok(end);
        }
        let string = h.tag.filter(|&t| is_string_type(t));
        let mut content = Vec::new();
        let mut unused_bits = None;
        let end = self.children(&h, pos, |child| match string {
            Some(t) => self.join_segments(child, t & !0x20, depth + 1, &mut content, &mut unused_bits),
            None => self.emit(child, depth + 1, &mut content),
        })?;
        match string {
            Some(t) => {
                out.push(t & !0x20);
                if t & 0x1f == 3 {
                    // BIT STRING: one unused-bits octet, from the last segment
                    push_len(out, content.len() + 1);
                    out.push(unused_bits.unwrap_or(0));
                } else {
                    push_len(out, content.len());
                }
            }
            None => {
                out.extend_from_slice(ident);
                push_len(out, content.len());
            }
        }
        out.extend(content);
        Ok(end)
    }

    /// Run `each` on every child of the constructed element `h` (at `pos`); return its end.
    fn children(
        &self,
        h: &Head,
        pos: usize,
        mut each: impl FnMut(usize) -> Result<usize, SignError>,
    ) -> Result<usize, SignError> {
        let mut at = h.content_start;
        match h.len {
            Some(len) => {
                let end = h.content_start + len;
                while at < end {
                    at = each(at)?;
                }
                Ok(end)
            }
            None => loop {
                if self.buf.get(at..at + 2) == Some(&[0u8, 0][..]) {
                    return Ok(at + 2);
                }
                if at >= self.buf.len() {
                    return Err(self.err(pos, "an indefinite-length element has no end-of-contents"));
                }
                at = each(at)?;
            },
        }
    }

    /// The contents of one segment of a constructed string of primitive tag `prim`, appended to
    /// `content` (segments may nest, X.690 §8.7.3.2).
    fn join_segments(
        &self,
        pos: usize,
        prim: u8,
        depth: u32,
        content: &mut Vec<u8>,
        unused_bits: &mut Option<u8>,
    ) -> Result<usize, SignError> {
        if depth > MAX_DEPTH {
            return Err(self.err(pos, format!("nested more than {MAX_DEPTH} levels deep")));
        }
        let h = self.head(pos)?;
        if h.tag.map(|t| t & !0x20) != Some(prim) {
            return Err(self.err(pos, format!("a segment of a constructed string is not of its type (0x{prim:02x})")));
        }
        if h.constructed {
            return self.children(&h, pos, |c| self.join_segments(c, prim, depth + 1, content, unused_bits));
        }
        let len = h.len.unwrap_or(0);
        let seg = &self.buf[h.content_start..h.content_start + len];
        if prim == 3 {
            // BIT STRING: only the last segment may leave bits unused
            if unused_bits.is_some_and(|u| u != 0) {
                return Err(self.err(pos, "a BIT STRING segment after one with unused bits"));
            }
            let (&u, bits) = seg.split_first().ok_or_else(|| self.err(pos, "an empty BIT STRING segment"))?;
            if u > 7 {
                return Err(self.err(h.content_start, "more than 7 unused bits"));
            }
            *unused_bits = Some(u);
            content.extend_from_slice(bits);
        } else {
            content.extend_from_slice(seg);
        }
        Ok(h.content_start + len)
    }
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
}

/// DER `tag` + length + `content`.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    push_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// In DER ContentInfo(SignedData): drop repeated (byte-identical) elements of digestAlgorithms,
/// certificates [0] and crls [1], keeping the first of each. None when nothing repeats (or the
/// input is not ContentInfo(SignedData): the strict decoder will say why).
fn dedupe_signed_data(der: &[u8]) -> Option<(Vec<u8>, Repeats)> {
    let ci = der_walk::tlv_at(der, 0)?;
    let ci_parts = der_walk::children(der, ci)?;
    let explicit = *ci_parts.get(1)?;
    let sd = *der_walk::children(der, explicit)?.first()?;
    let parts = der_walk::children(der, sd)?;
    let mut repeated = Vec::new();
    let mut new_sd = Vec::with_capacity(sd.end - sd.content_start);
    for (i, part) in parts.iter().enumerate() {
        let field = match (i, part.tag) {
            (1, 0x31) => Some("digestAlgorithms"),
            (_, 0xa0) if i >= 3 => Some("certificates"),
            (_, 0xa1) if i >= 3 => Some("crls"),
            _ => None,
        };
        let kept = field.and_then(|f| {
            let (content, dropped) = unique_children(der, *part)?;
            (dropped > 0).then(|| {
                repeated.push((f, dropped));
                tlv(part.tag, &content)
            })
        });
        match kept {
            Some(bytes) => new_sd.extend(bytes),
            None => new_sd.extend_from_slice(&der[part.start..part.end]),
        }
    }
    if repeated.is_empty() {
        return None;
    }
    let new_sd = tlv(sd.tag, &new_sd);
    let new_explicit = splice(der, explicit, sd, &new_sd);
    let mut out = splice(der, ci, explicit, &new_explicit);
    out.extend_from_slice(&der[ci.end..]);
    Some((out, repeated))
}

/// The contents of `set` with byte-identical children after the first dropped, and how many.
fn unique_children(buf: &[u8], set: Tlv) -> Option<(Vec<u8>, usize)> {
    let kids = der_walk::children(buf, set)?;
    let mut seen: std::collections::HashSet<&[u8]> = std::collections::HashSet::new();
    let mut content = Vec::with_capacity(set.end - set.content_start);
    let mut dropped = 0;
    for k in kids {
        let bytes = &buf[k.start..k.end];
        if seen.insert(bytes) {
            content.extend_from_slice(bytes);
        } else {
            dropped += 1;
        }
    }
    Some((content, dropped))
}

/// `outer` re-encoded with its child `inner` replaced by `with`.
fn splice(buf: &[u8], outer: Tlv, inner: Tlv, with: &[u8]) -> Vec<u8> {
    let mut content = buf[outer.content_start..inner.start].to_vec();
    content.extend_from_slice(with);
    content.extend_from_slice(&buf[inner.end..outer.end]);
    tlv(outer.tag, &content)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(b: &[u8]) -> Result<(Vec<u8>, Leniency), SignError> {
        normalise(b, "test").map(|(d, l)| (d.into_owned(), l))
    }

    #[test]
    fn der_passes_through_unchanged_and_borrowed() {
        let der = [0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0xaa];
        let (out, l) = normalise(&der, "test").unwrap();
        assert!(matches!(out, Cow::Borrowed(_)));
        assert_eq!((&*out, l), (&der[..], Leniency::default()));
    }

    #[test]
    fn ber_lengths_and_strings_become_der() {
        // indefinite SEQUENCE holding a non-minimal INTEGER length and a constructed OCTET STRING
        let ber = [0x30, 0x80, 0x02, 0x81, 0x01, 0x05, 0x24, 0x80, 0x04, 0x01, 0xaa, 0x04, 0x01, 0xbb, 0, 0, 0, 0];
        let (out, l) = norm(&ber).unwrap();
        assert_eq!(out, [0x30, 0x07, 0x02, 0x01, 0x05, 0x04, 0x02, 0xaa, 0xbb]);
        assert!(l.ber);
        // constructed BIT STRING: unused bits from the last segment
        let ber = [0x23, 0x09, 0x03, 0x02, 0x00, 0xf0, 0x03, 0x03, 0x04, 0x0f, 0xf0];
        assert_eq!(norm(&ber).unwrap().0, [0x03, 0x04, 0x04, 0xf0, 0x0f, 0xf0]);
        // zero padding after the element (a PDF placeholder) is ignored, other trailing bytes not
        let (out, l) = norm(&[0x30, 0x80, 0x05, 0x00, 0, 0, 0, 0, 0]).unwrap();
        assert_eq!((out, l.padding), (vec![0x30, 0x02, 0x05, 0x00], true));
        let e = norm(&[0x30, 0x00, 0x01]).unwrap_err().to_string();
        assert!(e.contains("byte 2") && e.contains("trailing"), "{e}");
    }

    #[test]
    fn broken_input_names_the_byte() {
        let cases: [(&[u8], &str); 7] = [
            (&[], "byte 0"),
            (&[0x30, 0x05, 0x02, 0x01], "byte 0: an element of 5 bytes"),
            (&[0x30, 0x80, 0x02, 0x01, 0x05], "no end-of-contents"),
            (&[0x04, 0x80, 0x00, 0x00], "indefinite length on a primitive"),
            (&[0x30, 0x89, 1, 1, 1, 1, 1, 1, 1, 1, 1], "a length of 9 octets"),
            (&[0x30, 0x03, 0x02, 0x05, 0x00], "byte 2: an element of 5 bytes"),
            (&[0x24, 0x03, 0x02, 0x01, 0x00], "not of its type"),
        ];
        for (input, want) in cases {
            let e = norm(input).unwrap_err().to_string();
            assert!(e.contains(want), "{input:02x?}: {e}");
        }
        // nesting is bounded (no stack overflow on hostile input)
        let mut deep = Vec::new();
        for _ in 0..10_000 {
            deep.extend([0x30, 0x80]);
        }
        assert!(norm(&deep).unwrap_err().to_string().contains("levels deep"));
    }

    #[test]
    fn repeated_certificates_are_dropped_once_each() {
        // ContentInfo { oid, [0] { SignedData { version, digestAlgs {a, a}, encap, [0] {c1, c2, c1, c1}, infos } } }
        let oid = [0x06, 0x01, 0x2a];
        let alg = [0x30, 0x02, 0x05, 0x00];
        let c1 = [0x30, 0x03, 0x02, 0x01, 0x01];
        let c2 = [0x30, 0x03, 0x02, 0x01, 0x02];
        let mut sd = vec![0x02, 0x01, 0x01];
        sd.extend(tlv(0x31, &[alg, alg].concat()));
        sd.extend(tlv(0x30, &oid));
        sd.extend(tlv(0xa0, &[c1, c2, c1, c1].concat()));
        sd.extend(tlv(0x31, &[]));
        let ci = tlv(0x30, &[&oid[..], &tlv(0xa0, &tlv(0x30, &sd))].concat());
        let (out, l) = norm(&ci).unwrap();
        assert_eq!(l.repeated, vec![("digestAlgorithms", 1), ("certificates", 2)]);
        let mut want = vec![0x02, 0x01, 0x01];
        want.extend(tlv(0x31, &alg));
        want.extend(tlv(0x30, &oid));
        want.extend(tlv(0xa0, &[c1, c2].concat()));
        want.extend(tlv(0x31, &[]));
        assert_eq!(out, tlv(0x30, &[&oid[..], &tlv(0xa0, &tlv(0x30, &want))].concat()));
        assert_eq!(l.notes().len(), 2);
    }
}
