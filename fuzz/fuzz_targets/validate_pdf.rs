//! The whole PDF validator on untrusted input (no trust anchors): must never panic.
#![no_main]
use kyso_validate::{Revocation, RevocationSource, TrustAnchors};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, SystemTime};

struct Nothing;
impl RevocationSource for Nothing {
    fn status(&self, _: &x509_cert::Certificate, _: &x509_cert::Certificate) -> Revocation {
        Revocation::Unknown
    }
}

fuzz_target!(|data: &[u8]| {
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.extend_from_slice(data);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    let _ = kyso_validate::validate_pdf(&pdf, &TrustAnchors::new(), &Nothing, now);
});
