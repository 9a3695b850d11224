//! XLSX reading (ZIP + XML) of untrusted uploads: must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut wb) = kyso_xlsx::Workbook::open(std::io::Cursor::new(data)) {
        if let Ok(rows) = wb.rows(None) {
            for row in rows.take(1000) {
                let _ = row;
            }
        }
    }
});
