//! Interop against an independent PKI (issue 17, item 6): a root, an RSA provider CA that signs
//! with RSASSA-PSS and an ECDSA one, made with the OpenSSL CLI, with `openssl ocsp` responders
//! and CRLs / CA certificates served over loopback HTTP (`kyso_testkit::pki`). pyHanko signs the
//! PDFs; kyso validates them through the trust list (imported with `kyso trust import`) with
//! online revocation, and pyHanko's own verdict (trust root given, fetching on, revocation
//! hard-fail) is asserted beside kyso's on every file. Then: the cache answers with every server
//! stopped, a fresh installation (or `--offline`) answers INDETERMINATE with the Vietnamese
//! warning, and the trust list's status at the signing time decides whether the CA is trusted.
//! The fixture's servers listen on 127.0.0.1, which kyso never fetches from unless allowed: these
//! installations allow it in kyso.toml (`allow_private_fetch`); one that does not is never made
//! to connect there by an upload (the SSRF test at the end).

mod support;

use kyso_testkit::pki::{IndependentPki, Leaf, Validity};
use kyso_testkit::tools::{require_tool, run};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::signing::{pyhanko, setup, verify_reports};
use support::Env;

const PYHANKO_SIGN: &str = r#"
import sys
from pyhanko.sign import signers, fields
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
key, cert, chain, src, dst, field, pss = sys.argv[1:8]
signer = signers.SimpleSigner.load(key, cert, ca_chain_files=(chain,) if chain != '-' else (), prefer_pss=(pss == 'pss'))
with open(src, 'rb') as f, open(dst, 'wb') as out:
    w = IncrementalPdfFileWriter(f, strict=False)
    meta = signers.PdfSignatureMetadata(field_name=field, subfilter=fields.SigSeedSubFilter.PADES)
    signers.sign_pdf(w, meta, signer=signer, output=out)
"#;

/// pyHanko's verdict on every signature: `SIG <field> intact valid trusted revoked bottom_line`,
/// `NOSIG` for an unsigned file. Trust root argv[2], fetching on, revocation hard-fail.
const PYHANKO_VALIDATE: &str = r#"
import sys
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
root = load_cert_from_pemder(sys.argv[2])
with open(sys.argv[1], 'rb') as f:
    sigs = PdfFileReader(f, strict=False).embedded_signatures
    if not sigs:
        print('NOSIG')
    for s in sigs:
        vc = ValidationContext(trust_roots=[root], allow_fetching=True, revocation_mode='hard-fail')
        try:
            st = validate_pdf_signature(s, vc)
            print('SIG', s.field_name, st.intact, st.valid, st.trusted, st.revoked, st.bottom_line)
        except Exception as e:
            import traceback
            print('ERR', s.field_name, type(e).__name__, traceback.format_exc()[-1500:].replace('\n', ' '))
"#;

fn pem(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

/// A trust list edition with the fixture's root and both provider CAs; `ecdsa_history` is the
/// ECDSA CA's (status, RFC 3339 time) changes, oldest first, the last being its current status.
fn trust_list(pki: &IndependentPki, seq: u64, ecdsa_history: &[(&str, String)]) -> String {
    let service = |name: &str, kind: &str, cert: &Path, history: &[(&str, String)]| {
        let (cur, earlier) = history.split_last().unwrap();
        let mut s = format!(
            "\n[[provider.service]]\nname = \"{name}\"\ntype = \"{kind}\"\nstatus = \"{}\"\nstatus_starting_time = \"{}\"\ncertificate = \"\"\"\n{}\"\"\"\n",
            cur.0,
            cur.1,
            pem(cert)
        );
        for (st, at) in earlier {
            s.push_str(&format!(
                "\n[[provider.service.history]]\nstatus = \"{st}\"\nstatus_starting_time = \"{at}\"\n"
            ));
        }
        s
    };
    let granted = [("granted", "2020-01-01T00:00:00Z".to_string())];
    format!(
        "[scheme]\nterritory = \"VN\"\noperator = \"Kiểm thử\"\nsequence_number = {seq}\nissued = \"2026-01-01T00:00:00Z\"\n\
         \n[[provider]]\nname = \"Root operator\"\ntrade_name = \"Root CA Test VN\"\n{}\
         \n[[provider]]\nname = \"Nhà cung cấp RSA-PSS\"\ntrade_name = \"PSS-CA\"\n{}\
         \n[[provider]]\nname = \"Nhà cung cấp ECDSA\"\ntrade_name = \"EC-CA\"\n{}",
        service("Root CA Test VN", "CA/PKC", &pki.root, &granted),
        service("Provider RSA-PSS CA Test", "CA/QC", &pki.cas[0].cert, &granted),
        service("Provider ECDSA CA Test", "CA/QC", &pki.cas[1].cert, ecdsa_history),
    )
}

/// This installation may fetch from the fixture's loopback servers (kyso.toml's
/// `allow_private_fetch`, a top-level key, so before the first table).
fn allow_loopback(env: &Env) {
    let f = env.data_dir().join("kyso.toml");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, format!("allow_private_fetch = [\"127.0.0.1/8\"]\n{text}")).unwrap();
}

fn import(env: &Env, text: &str, name: &str) {
    let f = env.path(name);
    std::fs::write(&f, text).unwrap();
    env.ok(&["trust", "import", f.to_str().unwrap()]);
}

fn sign(py: &Path, leaf: &Leaf, chain: bool, src: &Path, dst: &Path, field: &str, pss: bool) {
    let chain_arg = if chain { leaf.ca_cert.to_str().unwrap().to_string() } else { "-".into() };
    let (ok, log) = run(Command::new(py)
        .arg("-c")
        .arg(PYHANKO_SIGN)
        .arg(&leaf.key)
        .arg(&leaf.cert)
        .arg(chain_arg)
        .arg(src)
        .arg(dst)
        .arg(field)
        .arg(if pss { "pss" } else { "pkcs1" }));
    assert!(ok, "pyHanko signing {}: {log}", dst.display());
}

/// pyHanko's lines for a file.
fn pyhanko_says(py: &Path, file: &Path, root: &Path) -> Vec<String> {
    let (_, out) = run(Command::new(py).arg("-c").arg(PYHANKO_VALIDATE).arg(file).arg(root));
    out.lines()
        .filter(|l| l.starts_with("SIG ") || l.starts_with("NOSIG") || l.starts_with("ERR "))
        .map(String::from)
        .collect()
}

/// (indication, sub-indication) of each report.
fn verdicts(reps: &[Value]) -> Vec<(String, String)> {
    reps.iter()
        .map(|r| {
            (r["indication"].as_str().unwrap_or("").to_string(), r["sub_indication"].as_str().unwrap_or("").to_string())
        })
        .collect()
}

fn warnings(r: &Value) -> String {
    r["warnings"]
        .as_array()
        .map(|w| w.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(" | "))
        .unwrap_or_default()
}

struct Files {
    good_ec: PathBuf,
    good_pss: PathBuf,
    revoked: PathBuf,
    expired: PathBuf,
    no_chain: PathBuf,
    untrusted: PathBuf,
    tampered: PathBuf,
    two: PathBuf,
    unsigned: PathBuf,
}

fn make_files(env: &Env, pki: &IndependentPki, py: &Path) -> Files {
    let src = env.path("hoso.pdf");
    std::fs::write(&src, support::minimal_pdf("Ho so dich vu cong")).unwrap();
    let leaf_ec = pki.leaf(1, "an", "Nguyễn Văn An", "001099012345", Validity::Current);
    let leaf_pss = pki.leaf(0, "binh", "Trần Thị Bình", "079188004321", Validity::Current);
    let leaf_rev = pki.leaf(1, "cuong", "Lê Văn Cường", "033095001122", Validity::Current);
    let leaf_exp = pki.leaf(1, "dung", "Phạm Thị Dung", "019190000141", Validity::Expired);
    let leaf_untrusted = pki.untrusted_leaf("giang", "Đỗ Văn Giang", "001200009999");
    pki.revoke(1, &leaf_rev);
    let f = |n: &str| env.path(n);
    let files = Files {
        good_ec: f("good-ec.pdf"),
        good_pss: f("good-pss.pdf"),
        revoked: f("revoked.pdf"),
        expired: f("expired.pdf"),
        no_chain: f("no-chain.pdf"),
        untrusted: f("untrusted.pdf"),
        tampered: f("tampered.pdf"),
        two: f("two.pdf"),
        unsigned: src.clone(),
    };
    sign(py, &leaf_ec, true, &src, &files.good_ec, "Sig1", false);
    // pyHanko signs these two with RSASSA-PSS (its own parameter encoding); the CA signs every
    // certificate and CRL with RSASSA-PSS in OpenSSL's encoding.
    sign(py, &leaf_pss, true, &src, &files.good_pss, "Sig1", true);
    sign(py, &leaf_rev, true, &src, &files.revoked, "Sig1", false);
    sign(py, &leaf_exp, true, &src, &files.expired, "Sig1", false);
    sign(py, &leaf_ec, false, &src, &files.no_chain, "Sig1", false);
    sign(py, &leaf_untrusted, false, &src, &files.untrusted, "Sig1", false);
    sign(py, &leaf_pss, true, &files.good_ec, &files.two, "Sig2", true);
    // one byte of the signed page content changed
    let mut bytes = std::fs::read(&files.good_ec).unwrap();
    let at = bytes.windows(10).position(|w| w == b"Ho so dich").expect("the page text");
    bytes[at] = b'X';
    std::fs::write(&files.tampered, bytes).unwrap();
    files
}

#[test]
fn independent_pki_kyso_and_pyhanko_agree_online_cached_and_offline() {
    if require_tool("openssl").is_none() {
        return;
    }
    let Some(py) = pyhanko() else { return };
    let env = setup("interop-trust");
    allow_loopback(&env);
    let mut pki = IndependentPki::build(&env.path("pki"));
    let files = make_files(&env, &pki, &py);
    import(&env, &trust_list(&pki, 1, &[("granted", "2020-01-01T00:00:00Z".into())]), "tl1.toml");

    let kyso = |f: &Path| verify_reports(&env, f, &[]);
    let root = pki.root.clone();
    let py_says = |f: &Path| pyhanko_says(&py, f, &root);
    let passed = ("TOTAL-PASSED".to_string(), String::new());

    // good, ECDSA provider: both trust it, revocation fetched online by kyso
    let (code, reps) = kyso(&files.good_ec);
    assert_eq!((code, verdicts(&reps)), (0, vec![passed.clone()]), "{reps:?}");
    assert!(reps[0]["revocation"].as_str().unwrap().contains("good (live)"), "{reps:?}");
    assert_eq!(reps[0]["signer_id_masked"], "CCCD:0010****2345", "{reps:?}");
    assert_eq!(py_says(&files.good_ec), vec!["SIG Sig1 True True True False True"]);

    // good, under the RSA provider CA that signs with RSASSA-PSS
    let (code, reps) = kyso(&files.good_pss);
    assert_eq!((code, verdicts(&reps)), (0, vec![passed.clone()]), "{reps:?}");
    assert_eq!(py_says(&files.good_pss), vec!["SIG Sig1 True True True False True"]);

    // revoked an hour before signing (OCSP says so)
    let (code, reps) = kyso(&files.revoked);
    assert_eq!((code, verdicts(&reps)), (1, vec![("TOTAL-FAILED".into(), "REVOKED".into())]), "{reps:?}");
    let l = py_says(&files.revoked);
    assert!(l.len() == 1 && l[0].ends_with("True True False True False"), "pyHanko: revoked, not trusted: {l:?}");

    // expired, no time-stamp: not proven to be signed in the validity period
    let (code, reps) = kyso(&files.expired);
    assert_eq!((code, verdicts(&reps)), (3, vec![("INDETERMINATE".into(), "OUT_OF_BOUNDS_NO_POE".into())]), "{reps:?}");
    let l = py_says(&files.expired);
    assert!(l.len() == 1 && l[0].starts_with("SIG Sig1 True True False") && l[0].ends_with("False"), "{l:?}");

    // the intermediate left out of the signature: fetched through AIA caIssuers by both
    let (code, reps) = kyso(&files.no_chain);
    assert_eq!((code, verdicts(&reps)), (0, vec![passed.clone()]), "{reps:?}");
    assert_eq!(reps[0]["chain"].as_array().unwrap().len(), 3, "{reps:?}");
    assert_eq!(py_says(&files.no_chain), vec!["SIG Sig1 True True True False True"]);

    // an untrusted root
    let (code, reps) = kyso(&files.untrusted);
    assert_eq!(
        (code, verdicts(&reps)),
        (3, vec![("INDETERMINATE".into(), "NO_CERTIFICATE_CHAIN_FOUND".into())]),
        "{reps:?}"
    );
    let l = py_says(&files.untrusted);
    assert!(l.len() == 1 && l[0].starts_with("SIG Sig1 True True False"), "{l:?}");

    // tampered after signing
    let (code, reps) = kyso(&files.tampered);
    assert_eq!((code, verdicts(&reps)), (1, vec![("TOTAL-FAILED".into(), "HASH_FAILURE".into())]), "{reps:?}");
    let l = py_says(&files.tampered);
    assert!(l.len() == 1 && l[0].starts_with("SIG Sig1 False"), "{l:?}");

    // a second signature added later: both hold
    let (code, reps) = kyso(&files.two);
    assert_eq!((code, verdicts(&reps)), (0, vec![passed.clone(), passed.clone()]), "{reps:?}");
    assert_eq!(py_says(&files.two), vec!["SIG Sig1 True True True False True", "SIG Sig2 True True True False True"]);

    // unsigned
    let o = env.kyso(&["verify", files.unsigned.to_str().unwrap()]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("no signature"), "{o:?}");
    assert_eq!(py_says(&files.unsigned), vec!["NOSIG"]);

    // --offline in an installation that never fetched: nothing fetched, INDETERMINATE, warned in Vietnamese
    let fresh = setup("interop-trust-offline");
    allow_loopback(&fresh);
    import(&fresh, &trust_list(&pki, 1, &[("granted", "2020-01-01T00:00:00Z".into())]), "tl1.toml");
    let served = pki.http_requests();
    let (code, reps) = verify_reports(&fresh, &files.no_chain, &["--offline"]);
    assert_eq!(code, 3, "{reps:?}");
    assert_eq!(pki.http_requests(), served, "--offline fetches nothing, not even the missing issuer");
    let (code, reps) = verify_reports(&fresh, &files.good_ec, &["--offline"]);
    assert_eq!((code, verdicts(&reps)), (3, vec![("INDETERMINATE".into(), "TRY_LATER".into())]), "{reps:?}");
    let w = warnings(&reps[0]);
    assert!(w.contains("Không kiểm tra được trạng thái thu hồi") && w.contains("ngoại tuyến"), "{w}");

    // validated again while the servers run: answered from the store's cache, not one request
    let requests = pki.ocsp_requests() + pki.http_requests();
    for f in [&files.good_ec, &files.good_pss, &files.no_chain, &files.two] {
        assert_eq!(kyso(f).0, 0, "{}", f.display());
    }
    assert_eq!(pki.ocsp_requests() + pki.http_requests(), requests, "a cache hit makes no network call");
    assert!(requests > 0);
    // every server stopped: the store's cache still answers (no network call) ...
    pki.stop();
    for f in [&files.good_ec, &files.no_chain, &files.two] {
        let (code, reps) = kyso(f);
        assert_eq!(code, 0, "{}: from the cache: {reps:?}", f.display());
    }
    // ... a fresh installation cannot check, and says so in Vietnamese; pyHanko does not trust it
    let (code, reps) = verify_reports(&fresh, &files.good_ec, &[]);
    assert_eq!((code, verdicts(&reps)), (3, vec![("INDETERMINATE".into(), "TRY_LATER".into())]), "{reps:?}");
    let w = warnings(&reps[0]);
    assert!(w.contains("Không kiểm tra được trạng thái thu hồi của chứng thư «Nguyễn Văn An»"), "{w}");
    assert!(w.contains("không trả lời"), "{w}");
    let l = py_says(&files.good_ec);
    assert!(l.len() == 1 && l[0].starts_with("SIG Sig1 True True False"), "pyHanko, responders down: {l:?}");
    // the Vietnamese text report carries the warning too
    let o = fresh.kyso(&["verify", files.good_ec.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("Không kiểm tra được trạng thái thu hồi"), "{o:?}");
}

/// The trust list's status at the signing time: the ECDSA CA withdrawn a minute before the
/// signature is not trusted for it; withdrawn a minute after, it still is (though withdrawn now).
#[test]
fn a_provider_withdrawn_before_signing_is_not_trusted_after_signing_still_is() {
    if require_tool("openssl").is_none() {
        return;
    }
    let Some(py) = pyhanko() else { return };
    let env = setup("interop-trust-status");
    allow_loopback(&env);
    let pki = IndependentPki::build(&env.path("pki"));
    let src = env.path("hoso.pdf");
    std::fs::write(&src, support::minimal_pdf("Ho so")).unwrap();
    let leaf = pki.leaf(1, "an", "Nguyễn Văn An", "001099012345", Validity::Current);
    let signed = env.path("signed.pdf");
    sign(&py, &leaf, true, &src, &signed, "Sig1", false);
    import(&env, &trust_list(&pki, 1, &[("granted", "2020-01-01T00:00:00Z".into())]), "tl1.toml");
    let (code, reps) = verify_reports(&env, &signed, &[]);
    assert_eq!(code, 0, "{reps:?}");
    let signed_at = reps[0]["claimed_signing_time"].as_i64().unwrap();
    let at = |secs: i64| {
        let t = time::OffsetDateTime::from_unix_timestamp(secs).unwrap();
        t.format(&time::format_description::well_known::Rfc3339).unwrap()
    };

    let before = [("granted", "2020-01-01T00:00:00Z".to_string()), ("withdrawn", at(signed_at - 60))];
    import(&env, &trust_list(&pki, 2, &before), "tl2.toml");
    let (code, reps) = verify_reports(&env, &signed, &[]);
    assert_eq!(
        (code, verdicts(&reps)),
        (3, vec![("INDETERMINATE".into(), "NO_CERTIFICATE_CHAIN_FOUND".into())]),
        "{reps:?}"
    );
    let problems = reps[0]["problems"].to_string();
    assert!(problems.contains("trust list") && problems.contains("Provider ECDSA CA Test"), "{problems}");

    let after = [("granted", "2020-01-01T00:00:00Z".to_string()), ("withdrawn", at(signed_at + 60))];
    import(&env, &trust_list(&pki, 3, &after), "tl3.toml");
    let (code, reps) = verify_reports(&env, &signed, &[]);
    assert_eq!((code, verdicts(&reps)), (0, vec![("TOTAL-PASSED".into(), String::new())]), "{reps:?}");

    // an older edition, and a malformed one, are refused naming what is wrong; nothing changes
    let f = env.path("old.toml");
    std::fs::write(&f, trust_list(&pki, 2, &before)).unwrap();
    let o = env.kyso(&["trust", "import", f.to_str().unwrap()]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("cũ hơn"), "{o:?}");
    std::fs::write(&f, trust_list(&pki, 4, &before).replace("\"withdrawn\"", "\"suspended\"")).unwrap();
    let o = env.kyso(&["trust", "import", f.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        !o.status.success()
            && err.contains("«EC-CA»")
            && err.contains("trường `status`")
            && err.contains("«suspended»"),
        "{err}"
    );
    assert_eq!(verify_reports(&env, &signed, &[]).0, 0, "edition 3 still in force");

    // the listing shows the history, Vietnamese first
    let shown = env.ok(&["trust", "show", "EC-CA"]);
    assert!(
        shown.contains("Trạng thái hiện tại: đã bị thu hồi giấy phép") && shown.contains("Trước đó: được cấp phép"),
        "{shown}"
    );
}

/// Counts the connections made to a loopback port (each accepted, then closed unanswered).
struct Listener {
    seen: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Listener {
    fn on(port: u16) -> Listener {
        let l = std::net::TcpListener::bind(("127.0.0.1", port)).expect("take over the fixture's port");
        l.set_nonblocking(true).unwrap();
        let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (n, halt) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            while !halt.load(std::sync::atomic::Ordering::SeqCst) {
                match l.accept() {
                    Ok((c, _)) => {
                        n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        drop(c);
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                }
            }
        });
        Listener { seen, stop }
    }
    fn connections(&self) -> usize {
        self.seen.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A PDF signed under the fixture's ECDSA CA (with its chain, and without the intermediate),
/// a trust list with the root only imported, and the fixture's servers replaced by listeners that only count
/// connections: whatever kyso fetches would reach them.
struct Unreachable {
    with_chain: PathBuf,
    no_chain: PathBuf,
    ocsp: Listener,
    http: Listener,
    _pki: IndependentPki,
}

impl Unreachable {
    fn make(env: &Env, py: &Path) -> Unreachable {
        let mut pki = IndependentPki::build(&env.path("pki"));
        let src = env.path("hoso.pdf");
        std::fs::write(&src, support::minimal_pdf("Ho so")).unwrap();
        let leaf = pki.leaf(1, "an", "Nguyễn Văn An", "001099012345", Validity::Current);
        let (with_chain, no_chain) = (env.path("signed.pdf"), env.path("no-chain.pdf"));
        sign(py, &leaf, true, &src, &with_chain, "Sig1", false);
        sign(py, &leaf, false, &src, &no_chain, "Sig1", false);
        // only the root is listed: the provider CA comes from the document or through caIssuers
        let full = trust_list(&pki, 1, &[("granted", "2020-01-01T00:00:00Z".into())]);
        let root_only = full.split("\n[[provider]]\nname = \"Nhà cung cấp").next().unwrap().to_string();
        assert!(root_only.contains("Root CA Test VN") && !root_only.contains("Provider ECDSA CA Test"));
        import(env, &root_only, "tl1.toml");
        let (ocsp_port, http_port) = (pki.cas[1].ocsp_port, pki.http_port);
        pki.stop();
        Unreachable { with_chain, no_chain, ocsp: Listener::on(ocsp_port), http: Listener::on(http_port), _pki: pki }
    }
    fn connections(&self) -> usize {
        self.ocsp.connections() + self.http.connections()
    }
}

/// `POST /api/validate` on `env`'s server: the first signature's report.
fn api_validate(env: &Env, pdf: &[u8]) -> Value {
    let (s, body) =
        support::http("POST", &format!("{}/api/validate", env.base_url()), Some("application/pdf"), pdf).unwrap();
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
    let v: Value = serde_json::from_slice(&body).unwrap();
    v["signatures"][0].clone()
}

/// SSRF: an anonymous upload to `/verify` (and `/api/validate`) whose certificate names OCSP,
/// CRL and caIssuers addresses on 127.0.0.1 makes the server connect nowhere — the verdict is
/// INDETERMINATE with the Vietnamese "could not be checked" warning naming the host and why —
/// until the installation allows that network.
#[test]
fn an_upload_cannot_make_the_server_fetch_from_loopback() {
    if require_tool("openssl").is_none() {
        return;
    }
    let Some(py) = pyhanko() else { return };
    let env = setup("interop-trust-ssrf");
    let f = Unreachable::make(&env, &py);
    let (ocsp, http) = (&f.ocsp, &f.http);
    let (with_chain, no_chain) = (std::fs::read(&f.with_chain).unwrap(), std::fs::read(&f.no_chain).unwrap());
    let server = env.serve();
    let api = |pdf: &[u8]| api_validate(&env, pdf);
    let r = api(&with_chain);
    assert_eq!(
        (r["indication"].as_str(), r["sub_indication"].as_str()),
        (Some("INDETERMINATE"), Some("TRY_LATER")),
        "{r}"
    );
    let w = warnings(&r);
    assert!(
        w.contains("Không kiểm tra được trạng thái thu hồi của chứng thư «Nguyễn Văn An»: không truy vấn máy chủ «127.0.0.1» vì 127.0.0.1 là địa chỉ loopback"),
        "the warning names the host and why: {w}"
    );
    // the intermediate left out: caIssuers is not fetched either; the report says why
    let r = api(&no_chain);
    assert_eq!(r["sub_indication"].as_str(), Some("NO_CERTIFICATE_CHAIN_FOUND"), "{r}");
    let w = warnings(&r);
    assert!(w.contains("Không dựng được chuỗi chứng thư") && w.contains("«127.0.0.1»"), "{w}");
    // the page an anonymous visitor uses: Vietnamese, the same warning
    let (s, body) = support::http("POST", &format!("{}/verify/report", env.base_url()), None, &with_chain).unwrap();
    let page = String::from_utf8_lossy(&body);
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("CHƯA XÁC ĐỊNH ĐƯỢC") && page.contains("địa chỉ loopback"), "{page}");
    assert_eq!((ocsp.connections(), http.connections()), (0, 0), "no connection reached the loopback listeners");
    drop(server);

    // the same installation with 127.0.0.0/8 allowed (the environment's form): the fetch reaches
    // the listener (which does not answer), so the test would have seen one above
    let mut c = env.cmd();
    c.env("KYSO_ALLOW_PRIVATE_FETCH", "127.0.0.0/8");
    let child = c
        .args(["serve", "--listen", &format!("127.0.0.1:{}", env.port)])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    let _server = support::Server::new(child);
    support::wait_ready(env.port);
    let r = api(&with_chain);
    assert_eq!(r["sub_indication"].as_str(), Some("TRY_LATER"), "{r}");
    assert!(f.connections() > 0, "allowed: the fetcher connected");
    assert!(warnings(&r).contains("không trả lời"), "{r}");
}

/// kyso.toml's `offline_validation = true`: the server and `kyso verify` in that installation
/// fetch nothing — not the revocation status, not a missing issuer — though the network is
/// allowed, and the verdict is INDETERMINATE with the Vietnamese "could not be checked" warning
/// saying it is offline. Without the setting the same installation connects.
#[test]
fn offline_validation_in_kyso_toml_fetches_nothing() {
    if require_tool("openssl").is_none() {
        return;
    }
    let Some(py) = pyhanko() else { return };
    let env = setup("interop-trust-offline-config");
    allow_loopback(&env);
    let config = env.data_dir().join("kyso.toml");
    let online_config = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("offline_validation = true\n{online_config}")).unwrap();
    let f = Unreachable::make(&env, &py);
    let (with_chain, no_chain) = (std::fs::read(&f.with_chain).unwrap(), std::fs::read(&f.no_chain).unwrap());

    let server = env.serve();
    let r = api_validate(&env, &with_chain);
    assert_eq!(
        (r["indication"].as_str(), r["sub_indication"].as_str()),
        (Some("INDETERMINATE"), Some("TRY_LATER")),
        "{r}"
    );
    let w = warnings(&r);
    assert!(
        w.contains("Không kiểm tra được trạng thái thu hồi của chứng thư «Nguyễn Văn An»: chế độ ngoại tuyến"),
        "{w}"
    );
    let r = api_validate(&env, &no_chain);
    assert_eq!(r["sub_indication"].as_str(), Some("NO_CERTIFICATE_CHAIN_FOUND"), "{r}");
    drop(server);
    // the CLI in the same installation, no --offline flag: the setting alone
    let (code, reps) = verify_reports(&env, &f.with_chain, &[]);
    assert_eq!((code, verdicts(&reps)), (3, vec![("INDETERMINATE".into(), "TRY_LATER".into())]), "{reps:?}");
    assert!(warnings(&reps[0]).contains("ngoại tuyến"), "{reps:?}");
    let o = env.kyso(&["verify", f.with_chain.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("Không kiểm tra được trạng thái thu hồi"), "{o:?}");
    assert_eq!(f.connections(), 0, "offline: no connection at all");

    // the control: the setting removed, the same check connects
    std::fs::write(&config, online_config).unwrap();
    let (code, _) = verify_reports(&env, &f.with_chain, &[]);
    assert_eq!(code, 3);
    assert!(f.connections() > 0, "online, the fetcher reaches the listeners");
}

/// The national trust list as a public page (`/ben-tin-cay/danh-sach`): the edition, every
/// provider — the imported ones and kyso's own — with its services, each service's current status
/// and its history with dates in Vietnam time, newest first; Vietnamese first, English on request;
/// linked from `/ben-tin-cay`.
#[test]
fn the_trust_list_page_shows_providers_services_and_status_history() {
    if require_tool("openssl").is_none() {
        return;
    }
    let env = setup("trust-list-page");
    let pki = IndependentPki::build(&env.path("pki"));
    let history = [("granted", "2020-01-01T00:00:00Z".to_string()), ("withdrawn", "2026-03-15T02:30:00Z".to_string())];
    import(&env, &trust_list(&pki, 7, &history), "tl7.toml");
    let _server = env.serve();
    let get = |path: &str| {
        let (s, body) = support::http("GET", &format!("{}{path}", env.base_url()), None, &[]).unwrap();
        (s, String::from_utf8_lossy(&body).into_owned())
    };
    let (s, vi) = get("/ben-tin-cay/danh-sach");
    assert_eq!(s, 200, "{vi}");
    assert!(vi.contains("<html lang=\"vi\">") && vi.contains("<h1>Danh sách tin cậy quốc gia</h1>"), "{vi}");
    assert!(vi.contains("<dt>Số phiên bản</dt><dd>7</dd>"), "the edition: {vi}");
    assert!(vi.contains("<dt>Ngày phát hành</dt><dd>01/01/2026 07:00</dd>"), "issued, Vietnam time: {vi}");
    for provider in
        ["<h2>Root CA Test VN</h2>", "<h2>PSS-CA</h2>", "<h2>EC-CA</h2>", "Nhà cung cấp ECDSA", "kyso: VNPT-CA (demo)"]
    {
        assert!(vi.contains(provider), "{provider} listed: {vi}");
    }
    // the withdrawn ECDSA CA: its status now and its history, newest first, Vietnam time
    let ec = vi.split("<h2>EC-CA</h2>").nth(1).unwrap().split("</section>").next().unwrap();
    assert!(ec.contains("Provider ECDSA CA Test") && ec.contains("<span class=\"badge\">CA</span>"), "{ec}");
    assert!(ec.contains("<span class=\"badge bad\">đã bị thu hồi giấy phép</span> từ 15/03/2026 09:30"), "{ec}");
    let (withdrawn, granted) =
        (ec.find("15/03/2026 09:30</time>").unwrap(), ec.find("01/01/2020 07:00</time>").unwrap());
    assert!(withdrawn < granted, "newest first: {ec}");
    assert!(ec.contains("<time datetime=\"2020-01-01T00:00:00Z\">01/01/2020 07:00</time>: <span class=\"tsl-good\">được cấp phép</span>"), "{ec}");
    // kyso's own services: CA, OCSP with where it answers, the TSA
    assert!(
        vi.contains("<span class=\"badge\">OCSP</span>") && vi.contains("<span class=\"badge\">TSA</span>"),
        "{vi}"
    );
    assert!(vi.contains(&format!("<code>{}/ocsp/vnpt</code>", env.base_url())), "{vi}");
    let (s, en) = get("/ben-tin-cay/danh-sach?lang=en");
    assert_eq!(s, 200);
    assert!(en.contains("<h1>National trust list</h1>") && en.contains("<dt>Edition</dt><dd>7</dd>"), "{en}");
    assert!(en.contains(">withdrawn</span> since 15/03/2026 09:30") && en.contains("Status history"), "{en}");
    let (_, relying) = get("/ben-tin-cay");
    assert!(relying.contains("href=\"/ben-tin-cay/danh-sach\""), "linked from /ben-tin-cay: {relying}");
}
