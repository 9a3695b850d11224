//! kyso's PKI core: Vietnamese ID numbers and certificate subjects, the certificate profiles
//! (national root, provider CA, OCSP responder, TSA, citizen), CRLs, OCSP and RFC 3161 responses,
//! and the pre-issuance lint every certificate passes before it is stored.
//!
//! Architecture invariant: no IO. Time, randomness for serials and keys come in as arguments or
//! from the OS RNG; storage and network belong to `kyso-authority` and `kyso-server`.

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
pub use kyso_custody::{KeyAlgorithm, SignatureScheme, Signer};
pub use subject::CitizenSubject;

/// Errors from the PKI core. Each names the field or structure at fault.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("DER encoding/decoding failed in {context}: {source}")]
    Der { context: &'static str, source: der::Error },
    #[error(transparent)]
    Custody(#[from] kyso_custody::CustodyError),
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
    use b64::encode;
    let b64 = encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or(""));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
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
pub mod b64 {
    const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    fn enc(data: &[u8], a: &[u8; 64], pad: bool) -> String {
        let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
        for chunk in data.chunks(3) {
            let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(a[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else if pad {
                    out.push('=');
                }
            }
        }
        out
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
    fn pem_roundtrip() {
        for len in 0..10 {
            let data: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(37)).collect();
            let p = super::pem("X", &data);
            assert_eq!(super::pem_or_der("X", p.as_bytes()).unwrap(), data);
        }
    }
}
