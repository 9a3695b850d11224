//! kyso's PKI core: Vietnamese ID numbers and certificate subjects, the certificate profiles
//! (national root, provider CA, OCSP responder, TSA, citizen), CRLs, OCSP and RFC 3161 responses,
//! and the pre-issuance lint every certificate passes before it is stored.
//!
//! Architecture invariant: no IO. Time, randomness for serials and keys come in as arguments or
//! from the OS RNG; storage and network belong to `kyso-authority` and `kyso-server`.

pub mod aia;
pub mod alg;
pub mod cert;
pub mod crl;
pub mod id;
pub mod lint;
pub mod ocsp;
pub mod subject;
pub mod time;
pub mod tsa;

pub use cert::{CertSpec, IssuerRef, Profile, Serial, Urls};
pub use id::CitizenId;
pub use kyso_keys::{KeyAlgorithm, SignatureScheme, Signer};
pub use subject::CitizenSubject;

/// Errors from the PKI core. Each names the field or structure at fault.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("DER encoding/decoding failed in {context}: {source}")]
    Der { context: &'static str, source: der::Error },
    #[error(transparent)]
    Key(#[from] kyso_keys::KeyError),
    #[error("certificate failed pre-issuance lint: {0}")]
    Lint(String),
}

impl PkiError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> PkiError {
        PkiError::Invalid { field, reason: reason.into() }
    }
}

pub(crate) trait DerContext<T> {
    fn ctx(self, context: &'static str) -> Result<T, PkiError>;
}

impl<T> DerContext<T> for Result<T, der::Error> {
    fn ctx(self, context: &'static str) -> Result<T, PkiError> {
        self.map_err(|source| PkiError::Der { context, source })
    }
}

/// PEM-encode DER bytes with a label ("CERTIFICATE", "X509 CRL", …).
pub fn pem(label: &str, der: &[u8]) -> String {
    let mut out = String::with_capacity(2 * label.len() + 32 + der.len().div_ceil(48) * 65);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    // 48 input octets make one 64-character line.
    for line in der.chunks(48) {
        b64::encode_into(line, &mut out);
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// Decode the first PEM block with `label`, or accept raw DER.
pub fn pem_or_der(label: &str, input: &[u8]) -> Result<Vec<u8>, PkiError> {
    let Ok(text) = std::str::from_utf8(input) else { return Ok(input.to_vec()) };
    let begin = format!("-----BEGIN {label}-----");
    let Some(start) = text.find(&begin) else {
        if text.trim_start().starts_with("-----BEGIN") {
            return Err(PkiError::invalid("input", format!("expected a PEM block labelled {label}")));
        }
        return Ok(input.to_vec());
    };
    let rest = &text[start + begin.len()..];
    let end = rest.find("-----END").ok_or_else(|| PkiError::invalid("input", "PEM block has no END line"))?;
    let b64: String = rest[..end].chars().filter(|c| !c.is_whitespace()).collect();
    b64::decode(&b64).ok_or_else(|| PkiError::invalid("input", "PEM body is not valid base64"))
}

/// A dependency-free base64 (standard alphabet, padded): PEM is all the core needs.
/// Base64, standard (padded, for PEM) and URL-safe (unpadded, for tokens) alphabets: the core
/// needs nothing more, so no crate for it.
/// The DER/BER element whose header starts at `pos` in `buf` (definite length, single-octet tag):
/// its tag, where its contents start and where it ends — `None` when the header is malformed or
/// the element does not fit in `buf`. The one TLV reader of the PKI and signing crates, for the
/// places where the bytes as they stand matter (what a signature covers, the signed attributes as
/// the signer encoded them).
pub fn der_header(buf: &[u8], pos: usize) -> Option<(u8, usize, usize)> {
    let (tag, content_start, end) = der_header_unchecked(buf, pos)?;
    (end <= buf.len()).then_some((tag, content_start, end))
}

/// [`der_header`] without requiring the contents to be in `buf` yet (a header read ahead of
/// its data).
pub fn der_header_unchecked(buf: &[u8], pos: usize) -> Option<(u8, usize, usize)> {
    let tag = *buf.get(pos)?;
    if tag & 0x1f == 0x1f {
        return None; // multi-octet tags do not occur in the structures read this way
    }
    let first = *buf.get(pos.checked_add(1)?)?;
    let (len, hdr) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None; // indefinite length, or absurdly long
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *buf.get(pos + 2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let content_start = pos.checked_add(hdr)?;
    let end = content_start.checked_add(len)?;
    Some((tag, content_start, end))
}

pub mod b64 {
    const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    fn enc_into(data: &[u8], a: &[u8; 64], pad: bool, out: &mut String) {
        let mut buf = Vec::with_capacity(data.len().div_ceil(3) * 4);
        let sextet = |n: u32, i: u32| a[((n >> (18 - 6 * i)) & 63) as usize];
        let mut chunks = data.chunks_exact(3);
        for c in &mut chunks {
            let n = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
            buf.extend_from_slice(&[sextet(n, 0), sextet(n, 1), sextet(n, 2), sextet(n, 3)]);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let n = (u32::from(rest[0]) << 16) | (u32::from(*rest.get(1).unwrap_or(&0)) << 8);
            buf.push(sextet(n, 0));
            buf.push(sextet(n, 1));
            if rest.len() == 2 {
                buf.push(sextet(n, 2));
            } else if pad {
                buf.push(b'=');
            }
            if pad {
                buf.push(b'=');
            }
        }
        // Every octet pushed is from the ASCII alphabet or '='.
        out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
    }

    fn enc(data: &[u8], a: &[u8; 64], pad: bool) -> String {
        let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
        enc_into(data, a, pad, &mut out);
        out
    }

    /// Append the standard, padded encoding of `data` to `out`.
    pub fn encode_into(data: &[u8], out: &mut String) {
        enc_into(data, STD, true, out)
    }

    fn dec(s: &str, a: &[u8; 64]) -> Option<Vec<u8>> {
        let s = s.trim_end_matches('=');
        let mut out = Vec::with_capacity(s.len() * 3 / 4);
        let (mut acc, mut bits) = (0u32, 0u32);
        for c in s.bytes() {
            let v = a.iter().position(|&x| x == c)? as u32;
            acc = (acc << 6) | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        Some(out)
    }

    pub fn encode(data: &[u8]) -> String {
        enc(data, STD, true)
    }
    pub fn decode(s: &str) -> Option<Vec<u8>> {
        dec(s, STD)
    }
    pub fn encode_url(data: &[u8]) -> String {
        enc(data, URL, false)
    }
    pub fn decode_url(s: &str) -> Option<Vec<u8>> {
        dec(s, URL)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_known_answers() {
        // RFC 4648 §10
        for (i, (std, url)) in [
            ("", ""),
            ("Zg==", "Zg"),
            ("Zm8=", "Zm8"),
            ("Zm9v", "Zm9v"),
            ("Zm9vYg==", "Zm9vYg"),
            ("Zm9vYmE=", "Zm9vYmE"),
            ("Zm9vYmFy", "Zm9vYmFy"),
        ]
        .iter()
        .enumerate()
        {
            assert_eq!(super::b64::encode(&b"foobar"[..i]), *std);
            assert_eq!(super::b64::encode_url(&b"foobar"[..i]), *url);
        }
        assert_eq!(super::b64::encode(&[0xfb, 0xff]), "+/8=");
        assert_eq!(super::b64::encode_url(&[0xfb, 0xff]), "-_8");
        let p = super::pem("CERTIFICATE", &[0u8; 49]);
        let lines: Vec<&str> = p.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(
            (lines[0], lines[1].len(), lines[2], lines[3]),
            ("-----BEGIN CERTIFICATE-----", 64, "AA==", "-----END CERTIFICATE-----")
        );
    }

    #[test]
    fn pem_roundtrip() {
        for len in 0..10 {
            let data: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(37)).collect();
            let p = super::pem("X", &data);
            assert_eq!(super::pem_or_der("X", p.as_bytes()).unwrap(), data);
        }
    }
}
