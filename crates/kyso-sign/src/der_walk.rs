//! A tiny DER/BER TLV walker (definite lengths, single-octet tags) for the few places where the
//! exact bytes of the input matter: the signed attributes as the signer encoded them (the typed
//! decoder re-sorts SET OF), and the length of a CMS blob inside a zero-padded `/Contents`.

/// One TLV: its tag octet, and the ranges of the whole element and of its contents.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv {
    pub tag: u8,
    pub start: usize,
    pub content_start: usize,
    pub end: usize,
}

/// The TLV starting at `pos` in `buf`, if it is well-formed and fits.
pub(crate) fn tlv_at(buf: &[u8], pos: usize) -> Option<Tlv> {
    let t = tlv_head(buf, pos)?;
    (t.end <= buf.len()).then_some(t)
}

/// The TLV whose header starts at `pos` in `buf`, its contents not necessarily in `buf` yet.
pub(crate) fn tlv_head(buf: &[u8], pos: usize) -> Option<Tlv> {
    let (tag, content_start, end) = kyso_pki::der_header_unchecked(buf, pos)?;
    Some(Tlv { tag, start: pos, content_start, end })
}

/// The children of a constructed TLV, in order.
pub(crate) fn children(buf: &[u8], parent: Tlv) -> Option<Vec<Tlv>> {
    let mut out = Vec::new();
    let mut pos = parent.content_start;
    while pos < parent.end {
        let t = tlv_at(&buf[..parent.end], pos)?;
        pos = t.end;
        out.push(t);
    }
    Some(out)
}

/// The signed attributes of the first SignerInfo exactly as encoded, re-tagged as SET OF (0x31)
/// for signature verification (RFC 5652 §5.4).
pub(crate) fn raw_signed_attrs(cms: &[u8]) -> Option<Vec<u8>> {
    let ci = tlv_at(cms, 0)?;
    let ci_parts = children(cms, ci)?;
    let explicit = *ci_parts.get(1)?; // [0] EXPLICIT
    let sd = *children(cms, explicit)?.first()?;
    let sd_parts = children(cms, sd)?;
    let signer_infos = *sd_parts.last()?;
    let si = *children(cms, signer_infos)?.first()?;
    let si_parts = children(cms, si)?;
    let attrs = *si_parts.get(3)?;
    if attrs.tag != 0xa0 {
        return None;
    }
    let mut out = cms[attrs.start..attrs.end].to_vec();
    out[0] = 0x31;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn rejects_truncated_and_long_forms() {
        assert!(tlv_at(&[0x30, 0x05, 1, 2], 0).is_none());
        assert!(tlv_at(&[0x30, 0x80, 0, 0], 0).is_none());
        assert!(tlv_at(&[0x30, 0x85, 1, 1, 1, 1, 1], 0).is_none());
        assert!(tlv_at(&[], 0).is_none());
        let t = tlv_at(&[0x30, 0x82, 0x00, 0x01, 0x05, 0xff], 0).unwrap();
        assert_eq!((t.content_start, t.end), (4, 5));
        assert!(raw_signed_attrs(&[0x30, 0x03, 0x02, 0x01, 0x00]).is_none());
    }
}
