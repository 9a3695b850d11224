//! RFC 3161 time-stamp requests from anyone on the network: parsing must never panic, and a request
//! it accepts carries a SHA-2 imprint of the right length.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(q) = kyso_pki::tsa::parse_request(data) {
        let n = q.imprint.hashed_message.as_bytes().len();
        assert!([32, 48, 64].contains(&n), "imprint of {n} octets accepted");
    }
});
