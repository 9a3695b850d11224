//! CSV records and date parsing of untrusted imports: must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let (records, _) = kyso_campaign::csv::records(text);
        for r in records.iter().take(100) {
            let _ = r;
        }
        let _ = kyso_campaign::csv::parse_date(text);
        let _ = kyso_campaign::csv::fold(text);
    }
});
