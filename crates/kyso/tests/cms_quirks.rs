//! `kyso verify` accepts the CMS real signers write (issue 15): OpenSSL's streaming output
//! (BER, indefinite lengths, the chain in any order) and pyHanko's repeated signer certificate
//! pass as TOTAL-PASSED, said in a warning — decoded leniently, validated strictly: a tampered
//! signed attribute is still TOTAL-FAILED (SIG_CRYPTO_FAILURE), changed content HASH_FAILURE, and
//! a truly broken container FORMAT_FAILURE naming the byte.

mod support;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

/// (exit code, the one report) of `kyso --json verify CONTENT --signature SIG`.
fn verify(env: &Env, content: &Path, sig: &Path) -> (i32, Value) {
    let o = env.cmd().args(["--json", "verify"]).arg(content).arg("--signature").arg(sig).output().unwrap();
    let v: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&o.stderr)));
    (o.status.code().unwrap_or(-1), v[0].clone())
}

fn texts(report: &Value, field: &str) -> String {
    report[field].as_array().into_iter().flatten().filter_map(Value::as_str).collect::<Vec<_>>().join(" | ")
}

/// A citizen key made by OpenSSL, certified by kyso from a PKCS#10 request: (key, cert PEM).
fn citizen(env: &Env) -> (PathBuf, PathBuf) {
    let (key, csr, der, pem) = (env.path("k.pem"), env.path("r.csr"), env.path("c.der"), env.path("c.pem"));
    let ok = |c: &mut Command| assert!(run(c).0, "{c:?}");
    ok(Command::new("openssl")
        .args(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out"])
        .arg(&key));
    ok(Command::new("openssl").args(["req", "-new", "-subj", "/CN=ignored", "-key"]).arg(&key).arg("-out").arg(&csr));
    env.ok(&[
        "cert",
        "issue",
        "--id",
        "019190000121",
        "--name",
        "Lê Minh Châu",
        "--province",
        "Tỉnh Thái Nguyên",
        "--provider",
        "vnpt",
        "--eid-level2",
        "--csr",
        csr.to_str().unwrap(),
        "--out",
        der.to_str().unwrap(),
    ]);
    ok(Command::new("openssl").args(["x509", "-inform", "DER", "-in"]).arg(&der).arg("-out").arg(&pem));
    (key, pem)
}

/// The CMS with one digit of its signing-time attribute changed: a signed attribute tampered
/// with, the signature value and the content left alone.
fn tamper_signing_time(cms: &[u8]) -> Vec<u8> {
    const OID: [u8; 11] = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05];
    let at = cms.windows(OID.len()).position(|w| w == OID).expect("signing-time attribute");
    let t = at + cms[at..].windows(2).position(|w| w == [0x17, 0x0d]).expect("UTCTime") + 2;
    let mut out = cms.to_vec();
    out[t + 11] = if out[t + 11] == b'0' { b'1' } else { b'0' }; // YYMMDDHHMMS_S_Z
    out
}

/// OpenSSL's streamed (BER) CMS with its eContent `[0] { OCTET STRING { OCTET STRING } }` cut
/// out: a detached signature. Indefinite lengths need no length fixed around the cut; the
/// signature is over the signed attributes, whose message digest binds the content.
fn detach(attached: &[u8]) -> Vec<u8> {
    const ID_DATA: [u8; 11] = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
    let at = attached.windows(11).position(|w| w == ID_DATA).expect("eContentType id-data") + 11;
    assert_eq!(attached[at..at + 5], [0xa0, 0x80, 0x24, 0x80, 0x04], "eContent as OpenSSL streams it");
    let n = attached[at + 5] as usize;
    assert!(n < 0x80, "one short segment");
    assert_eq!(attached[at + 6 + n..at + 10 + n], [0, 0, 0, 0], "two end-of-contents");
    [&attached[..at], &attached[at + 10 + n..]].concat()
}

#[test]
fn openssl_streamed_ber_cms_passes_and_broken_ones_fail_clearly() {
    let env = Env::new("cms-quirks-ber");
    env.init();
    let (key, cert) = citizen(&env);
    let content = env.path("to-khai.xml");
    std::fs::write(&content, "<toKhai><hoTen>Lê Minh Châu</hoTen></toKhai>").unwrap();
    // the chain in the other order: root first, then the provider CA
    let chain = env.path("chain.pem");
    let pem = |p: PathBuf| std::fs::read_to_string(p).unwrap();
    std::fs::write(&chain, pem(env.ca("root")) + &pem(env.ca("vnpt"))).unwrap();
    // OpenSSL streams BER only with the content inside (its detached output is DER)
    let attached = env.path("attached.p7m");
    let (ok, out) = run(Command::new("openssl")
        .args(["cms", "-sign", "-binary", "-stream", "-nodetach", "-cades", "-md", "sha256", "-outform", "DER"])
        .arg("-in")
        .arg(&content)
        .arg("-signer")
        .arg(&cert)
        .arg("-inkey")
        .arg(&key)
        .arg("-certfile")
        .arg(&chain)
        .arg("-out")
        .arg(&attached));
    assert!(ok, "openssl cms -sign -stream: {out}");
    let ber = detach(&std::fs::read(&attached).unwrap());
    assert_eq!(ber[..2], [0x30, 0x80], "OpenSSL's streaming output is BER with indefinite lengths");
    let sig = env.path("to-khai.xml.p7s");
    std::fs::write(&sig, &ber).unwrap();
    // OpenSSL accepts its own output...
    let (ok, out) = support::signing::openssl_cms_verify(&env, &sig, &content);
    assert!(ok && out.contains("Verification successful"), "openssl cms -verify: {out}");
    // ... and so does kyso, saying it read BER
    let (code, r) = verify(&env, &content, &sig);
    assert_eq!((code, r["indication"].as_str()), (0, Some("TOTAL-PASSED")), "{r}");
    assert!(texts(&r, "warnings").contains("BER"), "{r}");
    assert_eq!(r["chain"].as_array().map(Vec::len), Some(3), "signer, provider CA, root: {r}");

    // a signed attribute changed under the same signature: the signature check still holds
    let bad = env.path("tampered.p7s");
    std::fs::write(&bad, tamper_signing_time(&ber)).unwrap();
    let (code, r) = verify(&env, &content, &bad);
    assert_eq!((code, r["sub_indication"].as_str()), (1, Some("SIG_CRYPTO_FAILURE")), "{r}");
    let (ok, _) = support::signing::openssl_cms_verify(&env, &bad, &content);
    assert!(!ok, "OpenSSL agrees the tampered one fails");

    // other content: the message digest still holds
    let other = env.path("other.xml");
    std::fs::write(&other, "<toKhai><hoTen>Lê Minh Châu!</hoTen></toKhai>").unwrap();
    let (code, r) = verify(&env, &other, &sig);
    assert_eq!((code, r["sub_indication"].as_str()), (1, Some("HASH_FAILURE")), "{r}");

    // truly broken: cut off (no end-of-contents), and a length running past the end
    let cut = env.path("cut.p7s");
    std::fs::write(&cut, &ber[..ber.len() - 40]).unwrap();
    let (code, r) = verify(&env, &content, &cut);
    assert_eq!((code, r["sub_indication"].as_str()), (1, Some("FORMAT_FAILURE")), "{r}");
    let why = texts(&r, "problems");
    assert!(why.contains("byte ") && why.contains("ContentInfo"), "names the part and the byte: {why}");
    let mut long = ber.clone();
    let sd = 2 + 11 + 2; // ContentInfo header, contentType OID, [0] header: SignedData's header
    assert_eq!(long[sd..sd + 2], [0x30, 0x80]);
    long[sd + 1] = 0x84; // a 4-octet length ...
    long.splice(sd + 2..sd + 2, [0x7f, 0xff, 0xff, 0xff]); // ... of 2 GiB
    std::fs::write(&cut, &long).unwrap();
    let (code, r) = verify(&env, &content, &cut);
    assert_eq!((code, r["sub_indication"].as_str()), (1, Some("FORMAT_FAILURE")), "{r}");
    assert!(texts(&r, "problems").contains(&format!("byte {sd}: an element of 2147483647 bytes")), "{r}");
}

/// pyHanko's detached CMS over a file, its chain given with the signer's certificate in it (as
/// CSC's credentials/info hands it over): pyHanko then writes that certificate twice.
const PYHANKO_DETACHED: &str = r#"
import asyncio, sys
from pyhanko.sign import signers
key, cert, ca, root, src, dst = sys.argv[1:7]
signer = signers.SimpleSigner.load(key, cert, ca_chain_files=(cert, ca, root))
with open(src, 'rb') as f:
    data = f.read()
cms = asyncio.run(signer.async_sign_general_data(data, 'sha256', detached=True, use_cades=True))
with open(dst, 'wb') as o:
    o.write(cms.dump())
"#;

#[test]
fn pyhanko_repeated_signer_certificate_passes_and_tampering_fails() {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/venv/bin/python");
    if !Command::new(&venv).args(["-c", "import pyhanko"]).output().is_ok_and(|o| o.status.success()) {
        if std::env::var("KYSO_REQUIRE_INTEROP").as_deref() == Ok("1") {
            panic!("pyHanko is required (run .ci/run)");
        }
        eprintln!("NOTICE: pyHanko not found; skipping");
        return;
    }
    let env = Env::new("cms-quirks-dup");
    env.init();
    let (key, cert) = citizen(&env);
    let content = env.path("hop-dong.txt");
    std::fs::write(&content, "Hợp đồng số 15/2026").unwrap();
    let sig = env.path("hop-dong.txt.p7s");
    let (ok, out) = run(Command::new(&venv)
        .args(["-W", "ignore", "-c", PYHANKO_DETACHED])
        .arg(&key)
        .arg(&cert)
        .arg(env.ca("vnpt"))
        .arg(env.ca("root"))
        .arg(&content)
        .arg(&sig));
    assert!(ok, "pyHanko: {out}");
    let cms = std::fs::read(&sig).unwrap();
    let cert_der = std::fs::read(env.path("c.der")).unwrap();
    let copies = cms.windows(cert_der.len()).filter(|w| *w == cert_der.as_slice()).count();
    assert_eq!(copies, 2, "pyHanko repeats the signer's certificate");
    let (code, r) = verify(&env, &content, &sig);
    assert_eq!((code, r["indication"].as_str()), (0, Some("TOTAL-PASSED")), "{r}");
    assert!(texts(&r, "warnings").contains("certificates: 1 repeated entry ignored"), "{r}");

    let bad = env.path("tampered.p7s");
    std::fs::write(&bad, tamper_signing_time(&cms)).unwrap();
    let (code, r) = verify(&env, &content, &bad);
    assert_eq!((code, r["sub_indication"].as_str()), (1, Some("SIG_CRYPTO_FAILURE")), "{r}");
}
