//! Signed dossiers over time: a B-T time-stamp proves signing before a revocation; B-LT and
//! B-LTA (kyso's and pyHanko's) validate offline, from the PDF's DSS alone, in pyHanko, pdfsig and
//! kyso; the visible signature shows the signer. The signing basics: `documents.rs`.

mod support;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::signing::{
    activate, backdate_revocation, own_key_certified, pyhanko, setup, sign_dossier as sign_level, sign_pdf,
    verify_reports as verify, PYHANKO_VALIDATE,
};
use support::*;

/// The time-stamp token's genTime (GeneralizedTime, 15 octets) inside a B-T CMS: the first one
/// after the id-aa-signatureTimeStampToken OID.
fn gen_time_at(cms: &[u8]) -> usize {
    const OID: [u8; 13] = [0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0e];
    let at = cms.windows(OID.len()).position(|w| w == OID).expect("signature time-stamp attribute");
    at + cms[at..].windows(3).position(|w| w == [0x18, 0x0f, b'2']).expect("genTime") + 2
}

#[test]
fn b_t_time_stamp_proves_signing_before_revocation() {
    let env = setup("bt");
    let a = activate(&env, "019190000121", "Đặng Thị Mai");
    let src = env.path("hoso.pdf");
    std::fs::write(&src, support::minimal_pdf("Ho so B-T")).unwrap();
    let signed = env.path("bt.pdf");
    sign_pdf(&env, "019190000121", &a, &src, &signed);
    let (code, reps) = verify(&env, &signed, &[]);
    assert_eq!((code, reps[0]["indication"].as_str()), (0, Some("TOTAL-PASSED")), "{reps:?}");
    let ts = reps[0]["timestamp_time"].as_i64().expect("timestamp_time");
    assert!((ts - reps[0]["claimed_signing_time"].as_i64().unwrap()).abs() <= 5, "{reps:?}");
    let text = env.ok(&["verify", "--lang", "en", signed.to_str().unwrap()]);
    let line = text.lines().find(|l| l.contains("Time-stamp")).unwrap_or_default();
    assert!(line.contains("20"), "the report shows the time-stamp: {text}");
    if let Some(pdfsig) = require_tool("pdfsig") {
        let (_, out) = run(Command::new(pdfsig).arg(&signed));
        assert_eq!(out.matches("Signature is Valid").count(), 1, "pdfsig:\n{out}");
    }
    if let Some(py) = pyhanko() {
        let (ok, out) = run(Command::new(py).arg("-c").arg(PYHANKO_VALIDATE).arg(&signed).arg(env.ca("root")));
        assert!(ok, "{out}");
        assert!(out.lines().any(|l| l.starts_with("SIG") && l.ends_with("True True True True")), "pyHanko: {out}");
        assert!(out.lines().any(|l| l.starts_with("TS") && l.contains("True True")), "pyHanko time-stamp: {out}");
    }

    // CAdES B-T over a file: OpenSSL still verifies it, kyso reads the time-stamp
    let form = env.path("to-khai.xml");
    std::fs::write(&form, "<toKhai><hoTen>Đặng Thị Mai</hoTen></toKhai>").unwrap();
    let (p7s, p7s_bb) = (env.path("to-khai.xml.p7s"), env.path("to-khai-bb.xml.p7s"));
    let o = env
        .cmd()
        .env("KYSO_PIN", support::signing::DOSSIER_PIN)
        .args(["sign-file", "--level", "b-lt", "--id", "019190000121", "--credential", &a, "--in"])
        .arg(&form)
        .arg("--out")
        .arg(env.path("no.p7s"))
        .output()
        .unwrap();
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("B-LT and B-LTA are for PDFs"));
    sign_level(&env, "sign-file", "b-t", "019190000121", &a, &form, &p7s);
    sign_level(&env, "sign-file", "b-b", "019190000121", &a, &form, &p7s_bb);
    let (ok, out) = run(Command::new("openssl")
        .args(["cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any", "-in"])
        .arg(&p7s)
        .arg("-content")
        .arg(&form)
        .arg("-CAfile")
        .arg(env.ca("root"))
        .arg("-out")
        .arg("/dev/null"));
    assert!(ok && out.contains("Verification successful"), "openssl cms -verify (B-T): {out}");
    let (code, reps) = verify(&env, &form, &["--signature", p7s.to_str().unwrap()]);
    assert_eq!((code, reps[0]["indication"].as_str()), (0, Some("TOTAL-PASSED")), "{reps:?}");
    assert!(reps[0]["timestamp_time"].is_i64(), "{reps:?}");
    let (_, reps) = verify(&env, &form, &["--signature", p7s_bb.to_str().unwrap()]);
    assert!(reps[0]["timestamp_time"].is_null(), "--level b-b: {reps:?}");

    // a token whose TSTInfo was altered no longer proves anything
    let mut bad = std::fs::read(&p7s).unwrap();
    let g = gen_time_at(&bad);
    bad[g] = if bad[g] == b'1' { b'0' } else { b'1' }; // the millennium digit: 2xxx → 1xxx
    let bad_path = env.path("bad-ts.p7s");
    std::fs::write(&bad_path, &bad).unwrap();
    let (code, reps) = verify(&env, &form, &["--signature", bad_path.to_str().unwrap()]);
    assert_eq!(
        (code, reps[0]["indication"].as_str(), reps[0]["sub_indication"].as_str()),
        (3, Some("INDETERMINATE"), Some("SIG_CONSTRAINTS_FAILURE")),
        "{reps:?}"
    );
    assert!(reps[0]["timestamp_time"].is_null(), "{reps:?}");

    // revoked after signing: the time-stamp proves the signature came first
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let serial = {
        let out = env.ok(&["--json", "cert", "list", "--id", "019190000121"]);
        serde_json::from_str::<Value>(out.trim()).unwrap()[0]["serial"].as_str().unwrap().to_string()
    };
    env.ok(&["cert", "revoke", &serial, "--reason", "keyCompromise"]);
    let (code, reps) = verify(&env, &signed, &[]);
    assert_eq!((code, reps[0]["indication"].as_str()), (0, Some("TOTAL-PASSED")), "{reps:?}");
    assert!(!reps[0]["warnings"].as_array().unwrap().is_empty(), "the revocation is a warning: {reps:?}");
    let (code, reps) = verify(&env, &form, &["--signature", p7s.to_str().unwrap()]);
    assert_eq!((code, reps[0]["indication"].as_str()), (0, Some("TOTAL-PASSED")), "{reps:?}");
    // the same file signed B-B has no proof of existence
    let (code, reps) = verify(&env, &form, &["--signature", p7s_bb.to_str().unwrap()]);
    assert_eq!((code, reps[0]["sub_indication"].as_str()), (3, Some("REVOKED_NO_POE")), "{reps:?}");

    // revoked before the time-stamp (moved back a day): REVOKED
    backdate_revocation(&env, &serial);
    let (code, reps) = verify(&env, &signed, &[]);
    assert_eq!(
        (code, reps[0]["indication"].as_str(), reps[0]["sub_indication"].as_str()),
        (1, Some("TOTAL-FAILED"), Some("REVOKED")),
        "{reps:?}"
    );
}

/// pyHanko, strictly offline: every signature validated with a context built from the PDF's DSS
/// only (no fetching, revocation information required), every document time-stamp likewise.
/// Without a DSS the same strict context is used with nothing in it (the control).
const PYHANKO_VALIDATE_OFFLINE: &str = r#"
import sys
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko_certvalidator import ValidationContext
root = load_cert_from_pemder(sys.argv[2])
kw = {'trust_roots': [root], 'allow_fetching': False, 'revocation_mode': 'hard-fail'}
with open(sys.argv[1], 'rb') as f:
    r = PdfFileReader(f)
    try:
        dss = DocumentSecurityStore.read_dss(r)
        print('DSS', len(list(dss.load_certs())), len(dss.ocsps), len(dss.crls))
        vc = lambda: dss.as_validation_context(kw)
    except NoDSSFoundError:
        print('DSS none')
        vc = lambda: ValidationContext(crls=[], ocsps=[], **kw)
    for sig in r.embedded_signatures:
        if sig.sig_object_type == '/DocTimeStamp':
            st = validate_pdf_timestamp(sig, vc())
            print('DOCTS', sig.field_name, st.intact, st.valid, st.trusted)
        else:
            st = validate_pdf_signature(sig, vc())
            print('SIG', sig.field_name, st.intact, st.valid, st.trusted, st.bottom_line)
            ts = st.timestamp_validity
            if ts is not None:
                print('TS', sig.field_name, ts.intact, ts.valid, ts.trusted)
"#;

/// The pyHanko lines starting with `prefix`.
fn lines<'a>(out: &'a str, prefix: &str) -> Vec<&'a str> {
    out.lines().filter(|l| l.starts_with(prefix)).collect()
}

#[test]
fn b_lt_and_b_lta_validate_offline_in_pyhanko_pdfsig_and_kyso() {
    let env = setup("blt");
    let a = activate(&env, "019190000131", "Hoàng Thị Thu");
    let src = env.path("hoso.pdf");
    std::fs::write(&src, support::minimal_pdf("Ho so B-LT")).unwrap();
    let (bt, lt, lta, lta2) = (env.path("bt.pdf"), env.path("lt.pdf"), env.path("lta.pdf"), env.path("lta2.pdf"));
    sign_level(&env, "sign-pdf", "b-t", "019190000131", &a, &src, &bt);
    // B-LT is sign-pdf's default
    let o = env
        .cmd()
        .env("KYSO_PIN", support::signing::DOSSIER_PIN)
        .args(["sign-pdf", "--id", "019190000131", "--credential", &a, "--in"])
        .arg(&src)
        .arg("--out")
        .arg(&lt)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    sign_level(&env, "sign-pdf", "b-lta", "019190000131", &a, &src, &lta);
    let lt_bytes = std::fs::read(&lt).unwrap();
    let lta_bytes = std::fs::read(&lta).unwrap();
    assert!(lt_bytes.starts_with(&std::fs::read(&src).unwrap()), "incremental");
    assert!(String::from_utf8_lossy(&lt_bytes).contains("/DSS"));
    assert!(String::from_utf8_lossy(&lta_bytes).contains("/Type/DocTimeStamp"));

    // kyso: the level, revocation from the DSS
    let (code, reps) = verify(&env, &lt, &[]);
    assert_eq!((code, reps.len()), (0, 1), "{reps:?}");
    assert_eq!((reps[0]["indication"].as_str(), reps[0]["level"].as_str()), (Some("TOTAL-PASSED"), Some("B-LT")));
    let rev = reps[0]["revocation"].as_str().unwrap();
    assert!(rev.contains("(DSS OCSP)") && rev.contains("(DSS CRL)") && !rev.contains("live"), "{rev}");
    assert_eq!(reps[0]["modification"]["kind"], "allowed_later", "the DSS came after the signature");
    let (code, reps) = verify(&env, &bt, &[]);
    assert_eq!((code, reps[0]["level"].as_str()), (0, Some("B-T")), "{reps:?}");
    let (code, reps) = verify(&env, &lta, &[]);
    assert_eq!(code, 0, "{reps:?}");
    assert_eq!(reps.len(), 2, "the signature and the document time-stamp: {reps:?}");
    assert_eq!((reps[0]["kind"].as_str(), reps[0]["level"].as_str()), (Some("signature"), Some("B-LTA")));
    assert_eq!(reps[1]["kind"], "document_timestamp");
    assert_eq!(reps[1]["indication"], "TOTAL-PASSED", "{reps:?}");
    assert!(reps[1]["timestamp_time"].is_i64() && reps[1]["level"].is_null(), "{reps:?}");
    let text = env.ok(&["verify", lta.to_str().unwrap()]);
    assert!(text.contains("B-LTA") && text.contains("Dấu thời gian tài liệu"), "{text}");

    // a second signer on the B-LTA dossier: the earlier signature and the time-stamp stay valid
    let b = activate(&env, "019190000132", "Lý Văn Nam");
    sign_level(&env, "sign-pdf", "b-lt", "019190000132", &b, &lta, &lta2);
    let (code, reps) = verify(&env, &lta2, &[]);
    assert_eq!(code, 0, "{reps:?}");
    let levels: Vec<_> = reps.iter().map(|r| r["level"].as_str().unwrap_or("-")).collect();
    assert_eq!(levels, ["B-LTA", "-", "B-LT"], "{reps:?}");

    // another kyso installation that never saw these certificates, trusting only this root:
    // the DSS answers everything; the B-T file's revocation cannot be checked there
    let other = setup("blt-other");
    let root = env.ca("root");
    for f in [&lt, &lta, &lta2] {
        let (code, reps) = verify(&other, f, &["--trust", root.to_str().unwrap()]);
        assert_eq!(code, 0, "{}: {reps:?}", f.display());
    }
    let (code, reps) = verify(&other, &bt, &["--trust", root.to_str().unwrap()]);
    assert_eq!((code, reps[0]["sub_indication"].as_str()), (3, Some("TRY_LATER")), "{reps:?}");
    // a relying party that never ran `kyso init` (no data directory at all): the same verdicts
    // from the given root and the documents' own validation data
    let relying = Env::new("blt-relying");
    for f in [&lt, &lta, &lta2] {
        let (code, reps) = verify(&relying, f, &["--trust", root.to_str().unwrap()]);
        assert_eq!(code, 0, "{}: {reps:?}", f.display());
    }
    let (code, reps) = verify(&relying, &bt, &["--trust", root.to_str().unwrap()]);
    assert_eq!((code, reps[0]["sub_indication"].as_str()), (3, Some("TRY_LATER")), "{reps:?}");
    let o = relying.kyso(&["verify", lt.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("--trust"), "without a root: {err}");
    assert!(!relying.data_dir().exists(), "verify wrote nothing");

    // a forged OCSP response in the DSS (one signed byte of it changed): not evidence. Here the live
    // store still answers (B-T); elsewhere nothing answers (INDETERMINATE), with a warning.
    let mut forged = lt_bytes.clone();
    let ocsp = forged.windows(4).position(|w| w == [0x0a, 0x01, 0x00, 0xa0]).expect("an OCSP response in the DSS");
    // inside tbsResponseData (the responder's key hash): the responder's signature no longer holds
    forged[ocsp + 40] ^= 0x01;
    let forged_path = env.path("lt-forged.pdf");
    std::fs::write(&forged_path, &forged).unwrap();
    let (code, reps) = verify(&env, &forged_path, &[]);
    assert_eq!((code, reps[0]["level"].as_str()), (0, Some("B-T")), "{reps:?}");
    assert!(reps[0]["revocation"].as_str().unwrap().contains("live"), "{reps:?}");
    let (code, reps) = verify(&other, &forged_path, &["--trust", root.to_str().unwrap()]);
    assert_eq!((code, reps[0]["sub_indication"].as_str()), (3, Some("TRY_LATER")), "{reps:?}");
    assert!(reps[0]["warnings"].to_string().contains("unusable validation data"), "{reps:?}");

    // a byte of the DSS changed after the document time-stamp: the time-stamp fails
    let mut bad = lta_bytes.clone();
    let at = bad.windows(4).position(|w| w == b"/DSS").unwrap();
    bad[at + 1] = b'X';
    let badp = env.path("lta-bad.pdf");
    std::fs::write(&badp, &bad).unwrap();
    let (code, reps) = verify(&env, &badp, &[]);
    assert_eq!((code, reps[1]["sub_indication"].as_str()), (1, Some("HASH_FAILURE")), "{reps:?}");

    // pdfsig checks the CAdES signatures (and lists the document time-stamp, which it cannot check)
    if let Some(pdfsig) = require_tool("pdfsig") {
        for (f, valid, doc_ts) in [(&lt, 1, 0), (&lta, 1, 1), (&lta2, 2, 1)] {
            let (_, out) = run(Command::new(&pdfsig).arg(f));
            assert_eq!(out.matches("Signature is Valid").count(), valid, "pdfsig {}:\n{out}", f.display());
            assert_eq!(out.matches("Field Name: DocTimeStamp").count(), doc_ts, "pdfsig {}:\n{out}", f.display());
            assert!(!out.contains("Signature is Invalid"), "pdfsig {}:\n{out}", f.display());
        }
    }
    if let Some(py) = pyhanko() {
        for f in [&lt, &lta, &lta2] {
            let (ok, out) = run(Command::new(&py).arg("-c").arg(PYHANKO_VALIDATE_OFFLINE).arg(f).arg(&root));
            assert!(ok, "{out}");
            assert!(!out.contains("DSS none"), "{out}");
            let sigs = lines(&out, "SIG");
            assert!(!sigs.is_empty(), "{out}");
            for l in sigs {
                assert!(l.ends_with("True True True True"), "pyHanko offline, {}: {l}\n{out}", f.display());
            }
            for l in lines(&out, "TS").into_iter().chain(lines(&out, "DOCTS")) {
                assert!(l.ends_with("True True True"), "pyHanko offline, {}: {l}\n{out}", f.display());
            }
            assert_eq!(lines(&out, "DOCTS").len(), usize::from(f != &lt), "{out}");
        }
        // the control: the same strict offline check on the B-T file (no DSS) is not trusted
        let (ok, out) = run(Command::new(&py).arg("-c").arg(PYHANKO_VALIDATE_OFFLINE).arg(&bt).arg(&root));
        assert!(ok && out.contains("DSS none"), "{out}");
        let sig = lines(&out, "SIG");
        assert!(sig.len() == 1 && sig[0].contains("True True False"), "pyHanko needs the DSS: {out}");
    }
}

/// pyHanko signs B-LT (or B-LTA) with its own key (certified by kyso), kyso's TSA over HTTP, and
/// validation info it fetches from kyso's OCSP responder and CRL endpoint.
const PYHANKO_SIGN_LT: &str = r#"
import sys
from pyhanko.keys import load_cert_from_pemder
from pyhanko.sign import signers, fields, timestamps
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko_certvalidator import ValidationContext
key, cert, ca, root, src, dst, tsa, lta = sys.argv[1:9]
signer = signers.SimpleSigner.load(key, cert, ca_chain_files=(ca, root))
vc = ValidationContext(trust_roots=[load_cert_from_pemder(root)], allow_fetching=True)
with open(src, 'rb') as f, open(dst, 'wb') as out:
    w = IncrementalPdfFileWriter(f)
    meta = signers.PdfSignatureMetadata(
        field_name='Sig1', subfilter=fields.SigSeedSubFilter.PADES, embed_validation_info=True,
        validation_context=vc, use_pades_lta=(lta == 'lta'))
    signers.sign_pdf(w, meta, signer=signer, timestamper=timestamps.HTTPTimeStamper(tsa), output=out)
"#;

#[test]
fn pyhanko_b_lt_and_b_lta_pass_in_kyso() {
    let Some(py) = pyhanko() else { return };
    let env = setup("pyhanko-lt");
    let (key, pem) = own_key_certified(&env, "019190000141", "Trịnh Công Sơn");
    let src = env.path("hoso.pdf");
    std::fs::write(&src, support::minimal_pdf("Ho so B-LT ky bang pyHanko")).unwrap();
    let (lt, lta) = (env.path("py-lt.pdf"), env.path("py-lta.pdf"));
    {
        let _server = env.serve();
        for (out, mode) in [(&lt, "lt"), (&lta, "lta")] {
            let (ok, log) = run(Command::new(&py)
                .arg("-c")
                .arg(PYHANKO_SIGN_LT)
                .arg(&key)
                .arg(&pem)
                .arg(env.ca("vnpt"))
                .arg(env.ca("root"))
                .arg(&src)
                .arg(out)
                .arg(format!("{}/tsa", env.base_url()))
                .arg(mode));
            assert!(ok, "pyHanko signing {mode}: {log}");
        }
    } // the server is gone: from here on nothing can be fetched
    let (code, reps) = verify(&env, &lt, &[]);
    assert_eq!(code, 0, "{reps:?}");
    assert_eq!((reps[0]["indication"].as_str(), reps[0]["level"].as_str()), (Some("TOTAL-PASSED"), Some("B-LT")));
    assert!(!reps[0]["revocation"].as_str().unwrap().contains("live"), "{reps:?}");
    let (code, reps) = verify(&env, &lta, &[]);
    assert_eq!(code, 0, "{reps:?}");
    assert_eq!(reps[0]["level"], "B-LTA", "{reps:?}");
    assert!(reps.iter().any(|r| r["kind"] == "document_timestamp" && r["indication"] == "TOTAL-PASSED"), "{reps:?}");
    // and in an installation that never saw these certificates: only the DSS can answer
    let other = setup("pyhanko-lt-other");
    for f in [&lt, &lta] {
        let (code, reps) = verify(&other, f, &["--trust", env.ca("root").to_str().unwrap()]);
        assert_eq!(code, 0, "{}: {reps:?}", f.display());
    }
}

/// Pixels of page 1 rendered by poppler's pdftoppm at 72 dpi: (width, height, RGB bytes).
fn render_page(pdf: &Path, out_prefix: &Path) -> Option<(usize, usize, Vec<u8>)> {
    let tool = require_tool("pdftoppm")?;
    let (ok, out) =
        run(Command::new(tool).args(["-r", "72", "-f", "1", "-l", "1", "-singlefile"]).arg(pdf).arg(out_prefix));
    assert!(ok, "pdftoppm: {out}");
    let ppm = std::fs::read(out_prefix.with_extension("ppm")).unwrap();
    // P6 <w> <h> <max> then the pixels
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while ppm[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !ppm[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&ppm[start..at]).into_owned());
    }
    assert_eq!(fields[0], "P6");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    Some((w, h, ppm[at + 1..].to_vec()))
}

/// Dark pixels (text) inside a rectangle given in PDF units on a 595×842 page rendered at 72 dpi.
fn dark_pixels(page: &(usize, usize, Vec<u8>), rect: [usize; 4]) -> usize {
    let (w, h, px) = page;
    let [x1, y1, x2, y2] = rect;
    let mut n = 0;
    for y in (h - y2)..(h - y1) {
        for x in x1..x2 {
            let p = &px[3 * (y * w + x)..3 * (y * w + x) + 3];
            if p.iter().map(|&c| c as u32).sum::<u32>() < 3 * 100 {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn visible_signature_shows_vietnamese_name_id_and_time() {
    let env = setup("visible");
    let name = "Nguyễn Thị Ngọc Ánh";
    let a = activate(&env, "019190000151", name);
    let src = env.path("hoso.pdf");
    std::fs::write(&src, support::minimal_pdf("Don de nghi cap ho chieu")).unwrap();
    let vis = env.path("visible.pdf");
    let sign = |extra: &[&str], font: Option<&str>, out: &Path| {
        let mut c = env.cmd();
        c.env("KYSO_PIN", support::signing::DOSSIER_PIN).args([
            "sign-pdf",
            "--id",
            "019190000151",
            "--credential",
            &a,
            "--in",
        ]);
        c.arg(&src).arg("--out").arg(out).args(extra);
        match font {
            Some(f) => c.env("KYSO_SIGNATURE_FONT", f),
            None => c.env_remove("KYSO_SIGNATURE_FONT"),
        };
        c.output().unwrap()
    };
    let o = sign(&["--visible", "--visible-rect", "300,40,560,120"], None, &vis);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (code, reps) = verify(&env, &vis, &[]);
    assert_eq!((code, reps[0]["level"].as_str()), (0, Some("B-LT")), "{reps:?}");

    // a missing font is a clear error, and nothing is signed
    let o = sign(&["--visible"], Some("/nonexistent/font.ttf"), &env.path("no.pdf"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("fonts-dejavu-core"), "{err}");
    assert!(!env.path("no.pdf").exists());

    // poppler extracts the text with its diacritics (the ToUnicode map)
    if let Some(tool) = require_tool("pdftotext") {
        let (ok, text) = run(Command::new(tool).arg(&vis).arg("-"));
        assert!(ok, "{text}");
        assert!(text.contains(&format!("Ký bởi: {name}")), "pdftotext:\n{text}");
        assert!(text.contains("CCCD:0191****0151"), "pdftotext:\n{text}");
        assert!(text.contains("Thời gian: ") && text.contains("(UTC+7)"), "pdftotext:\n{text}");
        let (_, plain) = run(Command::new(require_tool("pdftotext").unwrap()).arg(&src).arg("-"));
        assert!(!plain.contains("Ký bởi"), "the text comes from the signature: {plain}");
    }
    // and renders it inside the rectangle, and nothing there on the unsigned page
    if let (Some(signed), Some(unsigned)) =
        (render_page(&vis, &env.path("visible-page")), render_page(&src, &env.path("plain-page")))
    {
        let rect = [302, 42, 558, 118];
        let (ink, none) = (dark_pixels(&signed, rect), dark_pixels(&unsigned, rect));
        assert!(ink > 300 && none == 0, "dark pixels in the signature box: signed {ink}, unsigned {none}");
        if let Ok(dir) = std::env::var("KYSO_KEEP_RENDER") {
            let _ = std::fs::copy(env.path("visible-page.ppm"), Path::new(&dir).join("visible-page.ppm"));
        }
    }
    if let Some(pdfsig) = require_tool("pdfsig") {
        let (_, out) = run(Command::new(pdfsig).arg(&vis));
        assert_eq!(out.matches("Signature is Valid").count(), 1, "pdfsig:\n{out}");
    }
    if let Some(py) = pyhanko() {
        let (ok, out) = run(Command::new(&py).arg("-c").arg(PYHANKO_VALIDATE_OFFLINE).arg(&vis).arg(env.ca("root")));
        assert!(ok && lines(&out, "SIG").iter().all(|l| l.ends_with("True True True True")), "{out}");
    }
}
