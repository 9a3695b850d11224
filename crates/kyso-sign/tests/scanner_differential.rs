//! Cases the `pdf_differential` fuzz target found where the targeted scanner and lopdf disagreed,
//! kept as regressions: whenever the scanner answers, lopdf must find the same signatures.

use kyso_sign::pdf;

fn seed() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/seeds/signed-b-t.pdf")).unwrap()
}

fn same_answer(pdf_bytes: &[u8]) {
    if let Some(fast) = pdf::signatures_targeted(pdf_bytes) {
        assert_eq!(fast, pdf::signatures_full_parse(pdf_bytes), "the targeted scanner and lopdf disagree");
    }
}

#[test]
fn a_loose_xref_entry_is_left_to_the_full_parser() {
    let good = seed();
    assert!(pdf::signatures_targeted(&good).is_some_and(|s| !s.is_empty()), "the fast path reads kyso's own files");
    same_answer(&good);
    // The last xref section's second entry with a 4-digit generation, a tab and a NUL: lopdf
    // refuses the table; the scanner used to read it and report the signature.
    let at = good.windows(18).rposition(|w| w.ends_with(b" 00000 n\r\n")).unwrap();
    let mut bad = good.clone();
    bad[at + 8..at + 16].copy_from_slice(b" 0000\t\0n");
    assert_eq!(pdf::signatures_targeted(&bad), None);
    same_answer(&bad);
}

#[test]
fn a_trailer_without_its_size_is_left_to_the_full_parser() {
    let good = seed();
    let at = good.windows(7).rposition(|w| w == b"/Size 9").unwrap();
    let mut bad = good.clone();
    bad[at..at + 5].copy_from_slice(b"/iSze");
    assert_eq!(pdf::signatures_targeted(&bad), None);
    same_answer(&bad);
}

#[test]
fn a_free_entry_beyond_any_object_number_is_left_to_the_full_parser() {
    let good = seed();
    let at = good.windows(18).position(|w| w == b"0000000000 65535 f").unwrap();
    let mut bad = good.clone();
    bad[at] = b'7';
    assert_eq!(pdf::signatures_targeted(&bad), None);
    same_answer(&bad);
}

#[test]
fn a_tail_other_than_startxref_offset_eof_is_left_to_the_full_parser() {
    let good = seed();
    let at = good.windows(6).rposition(|w| w == b"\n%%EOF").unwrap();
    let mut bad = good.clone();
    bad[at] = 0x08;
    assert_eq!(pdf::signatures_targeted(&bad), None);
    same_answer(&bad);
}

#[test]
fn a_byte_range_other_than_four_integers_is_left_to_the_full_parser() {
    let good = seed();
    let at = good.windows(14).position(|w| w == b"/ByteRange [0 ").unwrap();
    let mut bad = good.clone();
    bad[at + 12] = b'.';
    assert_eq!(pdf::signatures_targeted(&bad), None);
    same_answer(&bad);
}
