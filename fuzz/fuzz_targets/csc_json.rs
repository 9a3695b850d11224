//! The remote-signing API's JSON bodies (CSC `credentials/authorize`, `signatures/signHash`) from
//! any holder of a citizen token: parsing must never panic, and what it accepts is within bounds
//! (1 to 1,000 hashes of 32 bytes, a 6-digit PIN).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = kyso_server::parse_authorize(data) {
        assert!((1..=1000).contains(&a.hashes.len()));
        assert!(data.len() <= kyso_server::MAX_CSC_BODY);
    }
    if let Ok(s) = kyso_server::parse_sign_hash(data) {
        assert!((1..=1000).contains(&s.hashes.len()));
        assert!(s.sad.len() <= 256);
    }
});
