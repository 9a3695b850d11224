//! Signature extraction and DSS reading from an untrusted PDF: must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for sig in kyso_sign::pdf::signatures(data) {
        let _ = kyso_sign::signature_value(&sig.contents);
        let _ = kyso_sign::dss::vri_key(data, &sig);
    }
    let _ = kyso_sign::dss::read_dss(data);
});
