//! Signed dossiers end to end: kyso signs PDFs (PAdES B-T by default, B-B) and files (CAdES B-T,
//! B-B) through the remote-signing path; poppler's pdfsig, pyHanko and OpenSSL judge them; kyso
//! judges pyHanko's signatures and tampered files the way they do. The long-term levels (B-LT,
//! B-LTA), time-stamps and the visible signature: `documents_lt.rs`.

mod support;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::signing::{
    activate, append_content_change, backdate_revocation, openssl_cms_verify, own_key_certified, pyhanko, setup,
    sign_dossier as sign_level, sign_pdf, verify_reports as verify, PYHANKO_VALIDATE,
};
use support::*;

const PYHANKO_SIGN: &str = r#"
import sys
from pyhanko.sign import signers, fields
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
key, cert, ca, root, src, dst, field = sys.argv[1:8]
signer = signers.SimpleSigner.load(key, cert, ca_chain_files=(ca, root))
with open(src, 'rb') as f, open(dst, 'wb') as out:
    w = IncrementalPdfFileWriter(f)
    meta = signers.PdfSignatureMetadata(field_name=field, subfilter=fields.SigSeedSubFilter.PADES)
    signers.sign_pdf(w, meta, signer=signer, output=out)
"#;

#[test]
fn kyso_pades_passes_pdfsig_pyhanko_and_kyso_with_two_signers() {
    let env = setup("pades");
    let a = activate(&env, "019190000081", "Nguyễn Văn Toàn");
    let b = activate(&env, "019190000082", "Lê Thị Hoa");
    let src = env.path("hoso.pdf");
    std::fs::write(&src, support::minimal_pdf("Don de nghi")).unwrap();
    let (one, two) = (env.path("one.pdf"), env.path("two.pdf"));
    sign_pdf(&env, "019190000081", &a, &src, &one);
    sign_pdf(&env, "019190000082", &b, &one, &two);
    assert!(
        std::fs::read(&two).unwrap().starts_with(&std::fs::read(&one).unwrap()),
        "incremental: earlier bytes untouched"
    );
    let (code, reps) = verify(&env, &two, &[]);
    assert_eq!(code, 0, "{reps:?}");
    assert_eq!(reps.len(), 2);
    for r in &reps {
        assert_eq!(r["indication"], "TOTAL-PASSED", "{r}");
        assert!(r["timestamp_time"].is_i64(), "B-T by default: {r}");
    }
    assert_eq!(reps[0]["modification"]["kind"], "allowed_later");
    assert_eq!(reps[1]["signer_id_masked"], "CCCD:0191****0082");
    let text = env.ok(&["verify", two.to_str().unwrap()]);
    // verdict first, in words; the ETSI terms only among the technical details
    assert!(text.starts_with("Chữ ký 1: HỢP LỆ\n") && text.contains("Người ký: "), "{text}");
    assert!(text.contains("Chi tiết kỹ thuật:\n    Kết luận theo ETSI EN 319 102-1: TOTAL-PASSED"), "{text}");
    // the same verdict over HTTP, and the page a person drops the file on
    let _server = env.serve();
    let (s, body) = http(
        "POST",
        &format!("{}/api/validate", env.base_url()),
        Some("application/pdf"),
        &std::fs::read(&two).unwrap(),
    )
    .unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((s, v["signatures"][1]["indication"].as_str()), (200, Some("TOTAL-PASSED")), "{v}");
    let (s, html) =
        http("POST", &format!("{}/verify/report?lang=vi", env.base_url()), None, &std::fs::read(&two).unwrap())
            .unwrap();
    assert!(s == 200 && String::from_utf8_lossy(&html).contains("HỢP LỆ"));
    // the ETSI TS 119 102-2 XML report, by query or by Accept header, read by Python's parser
    let pdf = std::fs::read(&two).unwrap();
    let (s, xml) = http("POST", &format!("{}/api/validate?format=xml", env.base_url()), None, &pdf).unwrap();
    assert_eq!(s, 200);
    assert_eq!(support::signing::etsi_xml_indications(&xml), ["total-passed", "total-passed"]);
    let (s, xml) = kyso_testkit::http::http_with(
        "POST",
        &format!("{}/api/validate", env.base_url()),
        None,
        &[("Accept", "application/xml")],
        &pdf,
    )
    .unwrap();
    assert_eq!((s, support::signing::etsi_xml_indications(&xml).len()), (200, 2));
    let (s, page) = http("GET", &format!("{}/verify", env.base_url()), None, &[]).unwrap();
    assert!(s == 200 && String::from_utf8_lossy(&page).contains("Kiểm tra chữ ký số"));
    let (s, body) = http("POST", &format!("{}/api/validate", env.base_url()), None, b"not a pdf").unwrap();
    assert_eq!(s, 400, "{}", String::from_utf8_lossy(&body));
    if let Some(pdfsig) = require_tool("pdfsig") {
        let (_, out) = run(Command::new(pdfsig).arg(&two));
        assert_eq!(out.matches("Signature is Valid").count(), 2, "pdfsig:\n{out}");
    }
    if let Some(py) = pyhanko() {
        let (ok, out) = run(Command::new(py).arg("-c").arg(PYHANKO_VALIDATE).arg(&two).arg(env.ca("root")));
        assert!(ok, "{out}");
        let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("SIG")).collect();
        assert_eq!(lines.len(), 2, "{out}");
        for l in lines {
            assert!(l.ends_with("True True True True"), "pyHanko: {l}");
        }
        // B-T: pyHanko finds the signature time-stamps and their signatures hold
        let ts: Vec<&str> = out.lines().filter(|l| l.starts_with("TS")).collect();
        assert_eq!(ts.len(), 2, "pyHanko sees a time-stamp on each signature:\n{out}");
        for l in ts {
            assert!(l.contains("True True"), "pyHanko time-stamp: {l}");
        }
    }
}

#[test]
fn tampering_and_revocation_fail_as_other_validators_say() {
    let env = setup("tamper");
    let a = activate(&env, "019190000091", "Phan Văn Đức");
    let src = env.path("hoso.pdf");
    std::fs::write(&src, support::minimal_pdf("So tien: 1.000.000 dong")).unwrap();
    let signed = env.path("signed.pdf");
    sign_level(&env, "sign-pdf", "b-b", "019190000091", &a, &src, &signed);
    let bytes = std::fs::read(&signed).unwrap();

    // a byte flipped inside the signed range
    let mut flipped = bytes.clone();
    let at = flipped.windows(7).position(|w| w == b"1.000.0").unwrap();
    flipped[at] = b'9';
    let f = env.path("flipped.pdf");
    std::fs::write(&f, &flipped).unwrap();
    let (code, reps) = verify(&env, &f, &[]);
    assert_eq!(
        (code, reps[0]["indication"].as_str(), reps[0]["sub_indication"].as_str()),
        (1, Some("TOTAL-FAILED"), Some("HASH_FAILURE"))
    );
    if let Some(pdfsig) = require_tool("pdfsig") {
        let (_, out) = run(Command::new(pdfsig).arg(&f));
        assert!(!out.contains("Signature is Valid"), "pdfsig agrees it is broken:\n{out}");
    }

    // an incremental update after signing that changes the page content
    let g = env.path("changed.pdf");
    std::fs::write(&g, append_content_change(&bytes)).unwrap();
    let (code, reps) = verify(&env, &g, &[]);
    assert_eq!((code, reps[0]["indication"].as_str()), (1, Some("TOTAL-FAILED")), "{reps:?}");
    assert_eq!(reps[0]["modification"]["kind"], "page_content_changed");
    assert_eq!(reps[0]["digest_ok"], true, "the signed revision itself is intact");

    // revoked after signing: without a time-stamp the signing time is not proven
    std::thread::sleep(std::time::Duration::from_millis(1100)); // a later second than the signature
    let serial = {
        let out = env.ok(&["--json", "cert", "list", "--id", "019190000091"]);
        serde_json::from_str::<Value>(out.trim()).unwrap()[0]["serial"].as_str().unwrap().to_string()
    };
    env.ok(&["cert", "revoke", &serial, "--reason", "keyCompromise"]);
    let (code, reps) = verify(&env, &signed, &[]);
    assert_eq!((code, reps[0]["sub_indication"].as_str()), (3, Some("REVOKED_NO_POE")), "{reps:?}");
    assert!(reps[0]["timestamp_time"].is_null(), "B-B has no time-stamp: {reps:?}");
    // revoked before the signing time (the revocation moved back a day, as if it had happened then)
    backdate_revocation(&env, &serial);
    let (code, reps) = verify(&env, &signed, &[]);
    // PAdES B-B carries its claimed time in /M: now after the revocation
    assert!(reps[0]["claimed_signing_time"].is_i64(), "{reps:?}");
    assert_eq!(
        (code, reps[0]["indication"].as_str(), reps[0]["sub_indication"].as_str()),
        (1, Some("TOTAL-FAILED"), Some("REVOKED")),
        "{reps:?}"
    );
    // and a revoked credential can no longer sign at all
    let o = env
        .cmd()
        .env("KYSO_PIN", support::signing::DOSSIER_PIN)
        .args(["sign-pdf", "--id", "019190000091", "--credential", &a, "--in"])
        .arg(&src)
        .arg("--out")
        .arg(env.path("no.pdf"))
        .output()
        .unwrap();
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("revoked"));
}

#[test]
fn cades_for_any_file_checked_by_openssl_and_kyso() {
    let env = setup("cades");
    let a = activate(&env, "019190000101", "Vũ Thị Lan");
    let form = env.path("to-khai.xml");
    std::fs::write(&form, "<toKhai><hoTen>Vũ Thị Lan</hoTen></toKhai>").unwrap();
    let sig = env.path("to-khai.xml.p7s");
    let o = env
        .cmd()
        .env("KYSO_PIN", support::signing::DOSSIER_PIN)
        .args(["sign-file", "--id", "019190000101", "--credential", &a, "--in"])
        .arg(&form)
        .arg("--out")
        .arg(&sig)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (ok, out) = openssl_cms_verify(&env, &sig, &form);
    assert!(ok && out.contains("Verification successful"), "openssl cms -verify: {out}");
    let (code, reps) = verify(&env, &form, &["--signature", sig.to_str().unwrap()]);
    assert_eq!((code, reps[0]["indication"].as_str()), (0, Some("TOTAL-PASSED")), "{reps:?}");
    assert!(reps[0]["claimed_signing_time"].is_i64(), "CAdES B-B carries signing-time");
    std::fs::write(&form, "<toKhai><hoTen>Vũ Thị Lan!</hoTen></toKhai>").unwrap();
    let (code, reps) = verify(&env, &form, &["--signature", sig.to_str().unwrap()]);
    assert_eq!((code, reps[0]["sub_indication"].as_str()), (1, Some("HASH_FAILURE")));
    let (ok, _) = openssl_cms_verify(&env, &sig, &form);
    assert!(!ok, "OpenSSL agrees");
}

#[test]
fn pyhanko_signatures_pass_in_kyso() {
    let Some(py) = pyhanko() else { return };
    let env = setup("pyhanko");
    // the citizen's own key (OpenSSL), certified by kyso from a PKCS#10 request
    let (key, pem) = own_key_certified(&env, "019190000111", "Trần Quốc Bảo");
    let src = env.path("hoso.pdf");
    std::fs::write(&src, support::minimal_pdf("Ho so ky bang pyHanko")).unwrap();
    let (one, two) = (env.path("py1.pdf"), env.path("py2.pdf"));
    let sign = |i: &Path, o: &Path, field: &str| {
        let (ok, out) = run(Command::new(&py)
            .arg("-c")
            .arg(PYHANKO_SIGN)
            .arg(&key)
            .arg(&pem)
            .arg(env.ca("vnpt"))
            .arg(env.ca("root"))
            .arg(i)
            .arg(o)
            .arg(field));
        assert!(ok, "pyHanko signing: {out}");
    };
    sign(&src, &one, "Sig1");
    let (code, reps) = verify(&env, &one, &[]);
    assert_eq!((code, reps[0]["indication"].as_str()), (0, Some("TOTAL-PASSED")), "{reps:?}");
    sign(&one, &two, "Sig2");
    let (code, reps) = verify(&env, &two, &[]);
    assert_eq!(code, 0, "{reps:?}");
    assert_eq!(reps.len(), 2);
    // and tampering with pyHanko's file is caught too
    let mut b = std::fs::read(&two).unwrap();
    let at = b.windows(6).position(|w| w == b"Ho so ").unwrap();
    b[at] = b'X';
    let bad = env.path("py-bad.pdf");
    std::fs::write(&bad, b).unwrap();
    let (code, _) = verify(&env, &bad, &[]);
    assert_eq!(code, 1);
}
