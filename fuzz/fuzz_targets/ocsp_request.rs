//! OCSP requests from anyone on the network (RFC 6960, POST body or GET path): parsing must never
//! panic, and a request it accepts names 1 to 64 certificates.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(q) = kyso_pki::ocsp::parse_request(data) {
        assert!((1..=64).contains(&q.cert_ids.len()), "{} CertIDs accepted", q.cert_ids.len());
    }
});
