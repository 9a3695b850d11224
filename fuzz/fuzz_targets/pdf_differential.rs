//! Differential: the targeted PDF scanner (kyso's fast path for classic-xref files) and lopdf's
//! full parse must find the same signatures whenever the scanner accepts a file. A file where
//! the two disagree is one where kyso would validate other signatures than another reader sees.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(fast) = kyso_sign::pdf::signatures_targeted(data) {
        let full = kyso_sign::pdf::signatures_full_parse(data);
        assert_eq!(fast, full, "the targeted scanner and lopdf disagree");
    }
});
