//! CMS / CAdES parsing and checking of untrusted DER: must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = kyso_sign::verify_detached(data, [0u8; 32]);
    let _ = kyso_sign::signature_value(data);
    let _ = kyso_sign::check_timestamp(data, b"signature value");
    let _ = kyso_sign::timestamp_token(data);
    let _ = kyso_sign::add_signature_timestamp(data, data);
    let _ = kyso_sign::dss::ocsp_successful(data);
});
