//! PAdES B-B by incremental update: our own checks, then pdfsig (poppler) and pyHanko as judges.

mod support;

use kyso_keys::KeyAlgorithm;
use kyso_sign::cades;
use kyso_sign::pdf::{self, SigOptions};
use kyso_sign::SignError;
use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

fn opts() -> SigOptions {
    let mut o = SigOptions::new(SystemTime::now());
    o.reason = Some("Ký hợp đồng".into());
    o.location = Some("Hà Nội".into());
    o
}

/// Sign twice (second signature on the already-signed file), checking each step ourselves.
fn signed_twice(ca: &support::Ca, xref_stream: bool) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let original = support::minimal_pdf(xref_stream);
    let once = pdf::sign(&original, &*ca.citizen_key, &ca.citizen_der, &ca.chain(), &opts()).unwrap();
    assert!(once.starts_with(&original), "the original bytes must stay untouched");
    let twice = pdf::sign(&once, &*ca.citizen_key, &ca.citizen_der, &ca.chain(), &opts()).unwrap();
    assert!(twice.starts_with(&once), "the first signed revision must stay untouched");
    (original, once, twice)
}

fn check_ours(pdf_bytes: &[u8], expected: usize) {
    let sigs = pdf::signatures(pdf_bytes);
    same_both_ways(pdf_bytes);
    assert_eq!(sigs.len(), expected);
    for (i, s) in sigs.iter().enumerate() {
        assert_eq!(s.sub_filter.as_deref(), Some("ETSI.CAdES.detached"));
        assert!(s.gap_is_contents);
        assert_eq!(s.field_name.as_deref(), Some(format!("Signature{}", i + 1).as_str()));
        let check = cades::verify_detached(&s.contents, s.digest(pdf_bytes).unwrap()).unwrap();
        assert!(check.is_valid(), "signature {i}: {check:?}");
        assert_eq!(check.signing_time, None, "PAdES B-B must not carry signing-time");
    }
    assert_eq!(sigs.last().unwrap().covers_whole_file_up_to, pdf_bytes.len());
    if expected == 2 {
        assert!(sigs[0].covers_whole_file_up_to < pdf_bytes.len());
    }
}

/// When the targeted reader answers, it says what the full parse says.
fn same_both_ways(pdf_bytes: &[u8]) {
    if let Some(fast) = pdf::signatures_targeted(pdf_bytes) {
        assert_eq!(fast, pdf::signatures_full_parse(pdf_bytes), "the targeted reader and lopdf disagree");
    }
}

/// A damaged file: lopdf may give up on the whole file (no signature at all) where the targeted
/// reader, which never reads stream data or unrelated objects' values past their dictionary,
/// still finds the signatures; whenever both find signatures they must be the same.
fn same_where_both_read(pdf_bytes: &[u8]) {
    let full = pdf::signatures_full_parse(pdf_bytes);
    if let (Some(fast), false) = (pdf::signatures_targeted(pdf_bytes), full.is_empty()) {
        assert_eq!(fast, full, "the targeted reader and lopdf disagree");
    }
}

#[test]
fn sign_twice_classic_and_xref_stream() {
    let ca = support::ca(KeyAlgorithm::EcP256);
    for xref_stream in [false, true] {
        let (original, once, twice) = signed_twice(&ca, xref_stream);
        assert!(pdf::signatures(&original).is_empty());
        check_ours(&once, 1);
        check_ours(&twice, 2);
        // classic tables are read by the targeted reader, xref streams by the full parser
        for f in [&original, &once, &twice] {
            assert_eq!(pdf::signatures_targeted(f).is_some(), !xref_stream);
        }
    }
}

/// A later update that redefines the signature dictionary (same object number): only the newest
/// definition counts, in the targeted reader as in the full parse.
#[test]
fn a_redefined_signature_dictionary_is_read_as_the_newest_revision_says() {
    let ca = support::ca(KeyAlgorithm::EcP256);
    let (_, once, _) = signed_twice(&ca, false);
    let text = String::from_utf8_lossy(&once).into_owned();
    let br = text.find("/ByteRange").unwrap();
    let obj = text[..br].rfind(" 0 obj").unwrap();
    let num: u32 = text[..obj].rsplit(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap();
    let trailer = &text[text.rfind("trailer").unwrap()..];
    let grab = |key: &str| -> String {
        let at = trailer.find(key).unwrap() + key.len();
        trailer[at..].split(['/', '>']).next().unwrap().trim().to_string()
    };
    let (size, root) = (grab("/Size"), grab("/Root"));
    let prev = text.rfind("startxref").unwrap();
    let prev: usize = text[prev + 9..].split_whitespace().next().unwrap().parse().unwrap();
    let mut shadow = once.clone();
    let at = shadow.len() + 1;
    shadow.extend_from_slice(
        format!("\n{num} 0 obj\n<< /Type /Sig /ByteRange [0 10 20 10] /Contents <3003020107> /M (D:20260101000000Z) >>\nendobj\n")
            .as_bytes(),
    );
    let xref = shadow.len();
    shadow.extend_from_slice(
        format!(
            "xref\n{num} 1\n{at:010} 00000 n\r\ntrailer\n<< /Size {size} /Root {root} /Prev {prev} >>\nstartxref\n{xref}\n%%EOF\n"
        )
        .as_bytes(),
    );
    let fast = pdf::signatures_targeted(&shadow).expect("a classic file");
    assert_eq!(fast, pdf::signatures_full_parse(&shadow));
    assert_eq!(fast.len(), 1);
    assert_eq!(fast[0].byte_range, [0, 10, 20, 10]);
    assert_eq!(fast[0].contents, b"\x30\x03\x02\x01\x07");
    assert!(!fast[0].gap_is_contents);
    assert_eq!(fast[0].claimed_time.as_deref(), Some(&b"D:20260101000000Z"[..]));
}

#[test]
fn two_phase_matches_the_placeholder() {
    let ca = support::ca(KeyAlgorithm::Rsa2048);
    let prepared = pdf::prepare(&support::minimal_pdf(false), &opts()).unwrap();
    let [a, b, c, d] = prepared.byte_range;
    assert_eq!(a, 0);
    assert_eq!(c + d, prepared.bytes.len());
    assert_eq!(prepared.bytes[b], b'<');
    assert_eq!(prepared.bytes[c - 1], b'>');
    assert_eq!(c - b, 2 * pdf::DEFAULT_RESERVE + 2);
    // Hash out, CMS in.
    let p = cades::prepare(prepared.digest, &ca.citizen_der, cades::Profile::Pades, SystemTime::now()).unwrap();
    let scheme = KeyAlgorithm::Rsa2048.default_scheme();
    let sig = ca.citizen_key.sign_digest(scheme, &p.to_be_signed_digest()).unwrap();
    let cms = p.assemble(&sig, scheme, &ca.chain()).unwrap();
    let signed = pdf::embed(prepared.clone(), &cms).unwrap();
    assert_eq!(signed.len(), prepared.bytes.len());
    let found = pdf::signatures(&signed);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].contents, cms);
    assert_eq!(found[0].byte_range, prepared.byte_range);

    let too_big = vec![0x30; pdf::DEFAULT_RESERVE + 1];
    assert!(matches!(pdf::embed(prepared, &too_big), Err(SignError::TooBig { .. })));
}

#[test]
fn malformed_pdfs_are_errors_not_panics() {
    let good = support::minimal_pdf(false);
    let o = opts();
    for n in [0, 5, 9, 100, good.len() / 2, good.len() - 10, good.len() - 3] {
        let cut = &good[..n];
        assert!(pdf::prepare(cut, &o).is_err(), "truncated to {n}");
        let _ = pdf::signatures(cut);
    }
    // Damage every few bytes: any answer is fine as long as nothing panics.
    let signed = {
        let ca = support::ca(KeyAlgorithm::EcP256);
        pdf::sign(&good, &*ca.citizen_key, &ca.citizen_der, &[], &o).unwrap()
    };
    for i in (0..signed.len()).step_by(97) {
        let mut bad = signed.clone();
        bad[i] = b'#';
        let _ = pdf::prepare(&bad, &o);
        let _ = pdf::signatures(&bad);
    }
    assert!(pdf::prepare(b"%PDF-1.7\n garbage \nstartxref\n10\n%%EOF\n", &o).is_err());
    let mut small = opts();
    small.reserve = 0;
    assert!(pdf::prepare(&good, &small).is_err());
}

fn pdfsig(tool: &Path, file: &Path) -> String {
    let out = Command::new(tool).arg(file).output().unwrap();
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// pdfsig (poppler + NSS) judges signature validity; the test root is not in its trust store, so
/// the certificate may be reported as untrusted: only the signature verdict is asserted.
#[test]
fn pdfsig_accepts_one_and_two_signatures_and_rejects_tampering() {
    let Some(tool) = support::require_tool("pdfsig") else { return };
    let ca = support::ca(KeyAlgorithm::EcP256);
    let dir = support::tmpdir("pdfsig");
    for xref_stream in [false, true] {
        let (_, once, twice) = signed_twice(&ca, xref_stream);
        let tag = if xref_stream { "xrefstream" } else { "classic" };
        let valid = "Signature Validation: Signature is Valid.";

        let f1 = dir.join(format!("once-{tag}.pdf"));
        std::fs::write(&f1, &once).unwrap();
        let report = pdfsig(&tool, &f1);
        assert_eq!(report.matches(valid).count(), 1, "{tag}, one signature:\n{report}");
        assert!(report.contains("ETSI.CAdES.detached"), "{report}");

        let f2 = dir.join(format!("twice-{tag}.pdf"));
        std::fs::write(&f2, &twice).unwrap();
        let report = pdfsig(&tool, &f2);
        assert!(report.contains("Signature #2"), "{tag}, two signatures:\n{report}");
        assert_eq!(report.matches(valid).count(), 2, "{tag}, two signatures:\n{report}");

        // One byte changed inside the text of page 1 (signed by both): both must fail.
        let at = twice.windows(8).position(|w| w == b"Xin chao").unwrap();
        let mut bad = twice.clone();
        bad[at] = b'Y';
        let f3 = dir.join(format!("tampered-{tag}.pdf"));
        std::fs::write(&f3, &bad).unwrap();
        let report = pdfsig(&tool, &f3);
        assert_eq!(report.matches(valid).count(), 0, "{tag}, tampered:\n{report}");
        assert_eq!(report.matches("Signature Validation: Digest Mismatch.").count(), 2, "{tag}, tampered:\n{report}");
        // Our own check agrees.
        for s in pdf::signatures(&bad) {
            let c = cades::verify_detached(&s.contents, s.digest(&bad).unwrap()).unwrap();
            assert!(!c.message_digest_ok);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

const PYHANKO_SCRIPT: &str = r#"
import sys
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

root = load_cert_from_pemder(sys.argv[2])
with open(sys.argv[1], 'rb') as f:
    r = PdfFileReader(f)
    for sig in r.embedded_signatures:
        vc = ValidationContext(trust_roots=[root], allow_fetching=False, revocation_mode='soft-fail')
        st = validate_pdf_signature(sig, vc)
        print('SIG', sig.field_name, st.intact, st.valid, st.trusted, st.bottom_line,
              st.coverage.name, st.modification_level.name if st.modification_level else None,
              st.docmdp_ok, st.signing_cert.subject.human_friendly.replace(' ', '_'))
"#;

/// pyHanko validates kyso's PDF as intact, valid and trusted with the test root as anchor; with
/// two signatures the first one's later changes are only the addition of a signature (form
/// filling level).
#[test]
fn pyhanko_validates_as_trusted() {
    let Some(python) = support::require_pyhanko() else { return };
    let ca = support::ca(KeyAlgorithm::EcP256);
    let dir = support::tmpdir("pyhanko");
    support::write_pem(&dir.join("root.pem"), &ca.root_der);
    for xref_stream in [false, true] {
        let (_, once, twice) = signed_twice(&ca, xref_stream);
        for (name, bytes, n) in [("once", &once, 1), ("twice", &twice, 2)] {
            let file = dir.join(format!("{name}-{xref_stream}.pdf"));
            std::fs::write(&file, bytes).unwrap();
            let out = Command::new(&python)
                .arg("-c")
                .arg(PYHANKO_SCRIPT)
                .arg(&file)
                .arg(dir.join("root.pem"))
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let report = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
            assert!(out.status.success(), "{name}:\n{report}");
            let lines: Vec<Vec<&str>> =
                stdout.lines().filter(|l| l.starts_with("SIG ")).map(|l| l.split(' ').collect()).collect();
            assert_eq!(lines.len(), n, "{name}:\n{report}");
            for (i, l) in lines.iter().enumerate() {
                // SIG field intact valid trusted bottom_line coverage modification docmdp_ok
                assert_eq!(&l[2..6], ["True", "True", "True", "True"], "{name} #{i}:\n{report}");
                let last = i + 1 == n;
                assert_eq!(l[6], if last { "ENTIRE_FILE" } else { "ENTIRE_REVISION" }, "{report}");
                // Later revisions only added a signature: form filling, nothing worse.
                assert_eq!(l[7], if last { "NONE" } else { "FORM_FILLING" }, "{report}");
                assert_eq!(l[8], "True", "{report}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// B-LT and B-LTA building blocks: the DSS and the document time-stamp placeholder, each a
/// further incremental update that leaves the signature intact; on both xref flavours.
#[test]
fn dss_and_doc_timestamp_are_incremental_and_read_back() {
    use kyso_sign::dss::{append_dss, read_dss, vri_key, ValidationData};
    let ca = support::ca(KeyAlgorithm::EcP256);
    for xref_stream in [false, true] {
        let signed =
            pdf::sign(&support::minimal_pdf(xref_stream), &*ca.citizen_key, &ca.citizen_der, &ca.chain(), &opts())
                .unwrap();
        assert!(read_dss(&signed).is_empty());
        let sig = pdf::signatures(&signed).pop().unwrap();
        let data = ValidationData {
            certs: vec![ca.citizen_der.clone(), ca.provider_der.clone()],
            ocsps: vec![b"ocsp-1".to_vec()],
            crls: vec![b"crl-1".to_vec()],
        };
        let lt = append_dss(&signed, &data, Some(&sig)).unwrap();
        assert!(lt.starts_with(&signed), "earlier bytes untouched");
        assert_eq!(read_dss(&lt), data);
        let text = String::from_utf8_lossy(&lt[signed.len()..]).into_owned();
        assert!(text.contains("/VRI") && text.contains(&vri_key(&signed, &sig).unwrap()), "{text}");
        assert_eq!(vri_key(&signed, &sig).unwrap().len(), 40);
        // a second DSS update keeps what was there and adds only what is new
        let more = ValidationData { certs: vec![ca.root_der.clone()], ocsps: vec![b"ocsp-1".to_vec()], crls: vec![] };
        let lt2 = append_dss(&lt, &more, None).unwrap();
        let all = read_dss(&lt2);
        assert_eq!(all.certs, vec![ca.citizen_der.clone(), ca.provider_der.clone(), ca.root_der.clone()]);
        assert_eq!(all.ocsps, vec![b"ocsp-1".to_vec()], "not repeated");
        assert_eq!(all.crls, vec![b"crl-1".to_vec()]);
        // the signature still verifies and now has later (allowed) updates after it
        let found = pdf::signatures(&lt2);
        same_both_ways(&lt2);
        assert_eq!(found.len(), 1);
        assert!(found[0].covers_whole_file_up_to < lt2.len());
        assert!(cades::verify_detached(&found[0].contents, found[0].digest(&lt2).unwrap()).unwrap().is_valid());

        // the document time-stamp placeholder: its own field, /SubFilter /ETSI.RFC3161, no /M
        let p = pdf::prepare_doc_timestamp(&lt2, 4096).unwrap();
        assert!(p.bytes.starts_with(&lt2));
        let text = String::from_utf8_lossy(&p.bytes[lt2.len()..]).into_owned();
        assert!(text.contains("/Type/DocTimeStamp") && text.contains("/SubFilter/ETSI.RFC3161"), "{text}");
        assert!(!text.contains("/M("), "a document time-stamp claims no time: {text}");
        let with_token = pdf::embed(p.clone(), b"\x30\x03\x02\x01\x07").unwrap();
        let found = pdf::signatures(&with_token);
        same_both_ways(&with_token);
        assert_eq!(pdf::signatures_targeted(&with_token).is_some(), !xref_stream);
        assert_eq!(found.len(), 2);
        assert!(!found[0].doc_timestamp && found[1].doc_timestamp);
        assert_eq!(found[1].field_name.as_deref(), Some("DocTimeStamp1"));
        assert_eq!(found[1].contents, b"\x30\x03\x02\x01\x07");
        assert_eq!(found[1].digest(&with_token).unwrap(), p.digest);
        assert_eq!(read_dss(&with_token), all, "the DSS is still there after the time-stamp");
        // damaged anywhere in the updates: answers may be anything, but nothing panics
        for i in (signed.len()..with_token.len()).step_by(61) {
            let mut bad = with_token.clone();
            bad[i] = b'#';
            let _ = read_dss(&bad);
            let _ = pdf::signatures(&bad);
            same_where_both_read(&bad);
            let _ = append_dss(&bad, &more, None);
            let _ = pdf::prepare_doc_timestamp(&bad, 4096);
        }
    }
}

/// The visible signature's font handling: a subset of DejaVu Sans is embedded (far smaller than
/// the font), a character the font lacks is named in the error, and the signature still verifies.
#[test]
fn visible_signature_embeds_a_subset_and_names_missing_glyphs() {
    let Ok(font) = std::fs::read("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf") else {
        eprintln!("NOTICE: DejaVu Sans not installed (fonts-dejavu-core); skipping");
        return;
    };
    let ca = support::ca(KeyAlgorithm::EcP256);
    let mut o = opts();
    o.visible = Some(kyso_sign::Visible {
        rect: [300.0, 40.0, 560.0, 120.0],
        lines: vec!["Ký bởi: Nguyễn Văn An".into(), "CCCD:0010****2345".into()],
        font: font.clone(),
    });
    let original = support::minimal_pdf(true);
    let signed = pdf::sign(&original, &*ca.citizen_key, &ca.citizen_der, &ca.chain(), &o).unwrap();
    assert!(signed.len() - original.len() < font.len() / 10, "a subset, not the whole font");
    let text = String::from_utf8_lossy(&signed[original.len()..]).into_owned();
    for needle in ["/Type0", "/Identity-H", "/CIDFontType2", "/ToUnicode", "/FontFile2", "/AP"] {
        assert!(text.contains(needle), "{needle} missing");
    }
    check_ours(&signed, 1);
    o.visible.as_mut().unwrap().lines.push("\u{E000}".into());
    let err = pdf::prepare(&original, &o).unwrap_err().to_string();
    assert!(err.contains("U+E000"), "{err}");
    o.visible.as_mut().unwrap().font = b"not a font".to_vec();
    assert!(pdf::prepare(&original, &o).is_err());
}

/// The copy the validator parses: every signature value gone, each signature dictionary ended
/// right after its `/Contents` (so the parser never walks the placeholder), every object still
/// there at its offset, and the pages and the DSS read from it as from the signed file.
#[test]
fn the_blanked_copy_ends_signature_dictionaries_and_keeps_everything_else() {
    let ca = support::ca(KeyAlgorithm::EcP256);
    for xref_stream in [false, true] {
        let (_, _, twice) = signed_twice(&ca, xref_stream);
        let blanked = pdf::blank_signature_contents_ending_dicts(&twice);
        assert_eq!(blanked.len(), twice.len(), "offsets hold");
        // the finder's copy keeps every key: it finds the same signatures as the targeted reader
        assert_eq!(pdf::signatures_full_parse(&twice), pdf::signatures(&twice));
        for s in pdf::signatures(&twice) {
            let gap = s.byte_range[0] + s.byte_range[1]..s.byte_range[2];
            assert!(blanked[gap.clone()].starts_with(b"<>>>endobj~"), "{:?}", &blanked[gap.start..gap.start + 12]);
            assert!(blanked[gap.start + 11..gap.end].iter().all(|&c| c == b' '));
        }
        let (signed, copy) = (lopdf::Document::load_mem(&twice).unwrap(), lopdf::Document::load_mem(&blanked).unwrap());
        assert_eq!(signed.objects.len(), copy.objects.len(), "no object lost");
        assert_eq!(signed.get_pages(), copy.get_pages());
        for (id, page) in signed.get_pages() {
            assert_eq!(signed.get_page_content(page).unwrap(), copy.get_page_content(page).unwrap(), "page {id}");
        }
        // a signature dictionary in the copy: /Contents empty, the keys after it not read
        let sig = copy
            .objects
            .values()
            .filter_map(|o| o.as_dict().ok())
            .find(|d| d.get(b"Contents").is_ok_and(|c| c.as_str().is_ok_and(<[u8]>::is_empty)))
            .expect("a signature dictionary");
        assert_eq!(sig.get(b"Contents").unwrap().as_str().unwrap(), b"");
    }
}
