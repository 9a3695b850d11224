//! What the signing tests share: a citizen's remote-signing credential, CSC calls with its
//! token, the citizen's own key certified by kyso, `kyso verify` as JSON, and the independent
//! checkers (OpenSSL's `cms -verify`, pyHanko).

use super::{http_with, run, Env};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A level-2 citizen (`kyso citizen add`) with a remote-signing credential at VNPT-CA
/// (`kyso credential activate`, PIN `pin`, `extra` arguments such as `--key-alg`); the
/// activation's JSON (`credential_id`, `serial`, `pem`).
pub fn activate_credential(env: &Env, id: &str, name: &str, pin: &str, extra: &[&str]) -> Value {
    let province = ["--province", "Tỉnh Thái Nguyên"];
    env.ok(&[&["citizen", "add", "--id", id, "--name", name][..], &province, &["--eid-level", "2"]].concat());
    let o = env
        .cmd()
        .env("KYSO_PIN", pin)
        .args(["--json", "credential", "activate", "--id", id, "--name", name])
        .args(province)
        .args(["--provider", "vnpt"])
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// A POST to `path` on the env's server with `Authorization: Bearer <token>`; the status and the
/// JSON answer (Null when it is not JSON).
pub fn post_bearer(env: &Env, token: &str, path: &str, content_type: Option<&str>, body: &[u8]) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    let url = format!("{}{path}", env.base_url());
    let (s, b) = http_with("POST", &url, content_type, &[("Authorization", &auth)], body).unwrap();
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

/// A CSC v2 call (`/csc/v2/<method>`) with a JSON body.
pub fn csc(env: &Env, token: &str, method: &str, body: &Value) -> (u16, Value) {
    post_bearer(env, token, &format!("/csc/v2/{method}"), Some("application/json"), body.to_string().as_bytes())
}

/// `kyso <command> --level <level>` (sign-pdf, sign-file) for the credential, with its PIN.
#[allow(clippy::too_many_arguments)]
pub fn sign_level(env: &Env, command: &str, level: &str, id: &str, cred: &str, pin: &str, input: &Path, out: &Path) {
    let o = env
        .cmd()
        .env("KYSO_PIN", pin)
        .args([command, "--level", level, "--id", id, "--credential", cred, "--in"])
        .arg(input)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// `kyso --json verify <file> <extra>`: (exit code, the reports).
pub fn verify_reports(env: &Env, file: &Path, extra: &[&str]) -> (i32, Vec<Value>) {
    let o = env.cmd().args(["--json", "verify"]).arg(file).args(extra).output().unwrap();
    let v: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&o.stderr)));
    (o.status.code().unwrap_or(-1), v.as_array().cloned().unwrap_or_default())
}

/// The citizen's own P-256 key (OpenSSL) certified by kyso (VNPT-CA, level 2) from a PKCS#10
/// request: (key file, certificate PEM file).
pub fn own_key_certified(env: &Env, id: &str, name: &str) -> (PathBuf, PathBuf) {
    let (key, csr, der, pem) = (env.path("k.pem"), env.path("r.csr"), env.path("c.der"), env.path("c.pem"));
    let genpkey = ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out"];
    assert!(run(Command::new("openssl").args(genpkey).arg(&key)).0);
    let req = ["req", "-new", "-subj", "/CN=ignored", "-key"];
    assert!(run(Command::new("openssl").args(req).arg(&key).arg("-out").arg(&csr)).0);
    let (csr_arg, der_arg) = (csr.to_str().unwrap(), der.to_str().unwrap());
    let issue = ["cert", "issue", "--id", id, "--name", name, "--province", "Tỉnh Thái Nguyên", "--provider", "vnpt"];
    env.ok(&[&issue[..], &["--eid-level2", "--csr", csr_arg, "--out", der_arg]].concat());
    assert!(run(Command::new("openssl").args(["x509", "-inform", "DER", "-in"]).arg(&der).arg("-out").arg(&pem)).0);
    (key, pem)
}

/// OpenSSL verifies a detached DER CMS signature over `content` against the env's root
/// (`-purpose any`: OpenSSL's default S/MIME purpose checks are for mail, not documents).
pub fn openssl_cms_verify(env: &Env, sig: &Path, content: &Path) -> (bool, String) {
    run(Command::new("openssl")
        .args(["cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any", "-in"])
        .arg(sig)
        .arg("-content")
        .arg(content)
        .arg("-CAfile")
        .arg(env.ca("root"))
        .arg("-out")
        .arg("/dev/null"))
}

/// A Python with pyHanko (`KYSO_PYHANKO`, else the CI virtualenv's); None with a notice, or a
/// failure under KYSO_REQUIRE_INTEROP=1.
pub fn pyhanko() -> Option<PathBuf> {
    kyso_testkit::tools::python_with("pyhanko").or_else(|| kyso_testkit::tools::skip("pyHanko"))
}

/// pyHanko validates every signature of `argv[1]` against the root `argv[2]`, offline with
/// revocation soft-failing: `SIG <field> intact valid trusted bottom_line`, then
/// `TS <field> intact valid trusted` for a signature time-stamp.
pub const PYHANKO_VALIDATE: &str = r#"
import sys
import pyhanko.keys, pyhanko.pdf_utils.reader, pyhanko.sign.validation, pyhanko_certvalidator
root = pyhanko.keys.load_cert_from_pemder(sys.argv[2])
with open(sys.argv[1], 'rb') as f:
    for sig in pyhanko.pdf_utils.reader.PdfFileReader(f).embedded_signatures:
        vc = pyhanko_certvalidator.ValidationContext(
            trust_roots=[root], allow_fetching=False, revocation_mode='soft-fail')
        st = pyhanko.sign.validation.validate_pdf_signature(sig, vc)
        print('SIG', sig.field_name, st.intact, st.valid, st.trusted, st.bottom_line)
        ts = st.timestamp_validity
        if ts is not None:
            print('TS', sig.field_name, ts.intact, ts.valid, ts.trusted)
"#;

/// Append an incremental update that replaces page 1's content stream (object 4): the
/// "change after signing" attack.
pub fn append_content_change(pdf: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(pdf);
    let prev: usize = text.rsplit("startxref").next().unwrap().split_whitespace().next().unwrap().parse().unwrap();
    let size: usize =
        text.rsplit("/Size ").next().unwrap().split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap();
    let mut out = pdf.to_vec();
    let body = "BT /F1 24 Tf 72 720 Td (So tien: 9.000.000 dong) Tj ET";
    let off = out.len();
    out.extend_from_slice(
        format!("4 0 obj\n<< /Length {} >>\nstream\n{body}\nendstream\nendobj\n", body.len()).as_bytes(),
    );
    let x = out.len();
    out.extend_from_slice(format!("xref\n0 1\n0000000000 65535 f\r\n4 1\n{off:010} 00000 n\r\ntrailer\n<< /Size {size} /Root 1 0 R /Prev {prev} >>\nstartxref\n{x}\n%%EOF\n").as_bytes());
    out
}

/// The PIN of the dossier tests' credentials.
pub const DOSSIER_PIN: &str = "424242";

/// A fresh, initialised env.
pub fn setup(name: &str) -> Env {
    let env = Env::new(name);
    env.init();
    env
}

/// A citizen's credential with [`DOSSIER_PIN`]; its ID.
pub fn activate(env: &Env, id: &str, name: &str) -> String {
    activate_credential(env, id, name, DOSSIER_PIN, &[])["credential_id"].as_str().unwrap().to_string()
}

/// [`sign_level`] with [`DOSSIER_PIN`].
pub fn sign_dossier(env: &Env, command: &str, level: &str, id: &str, cred: &str, input: &Path, out: &Path) {
    sign_level(env, command, level, id, cred, DOSSIER_PIN, input, out)
}

/// `kyso sign-pdf` at B-T.
pub fn sign_pdf(env: &Env, id: &str, cred: &str, input: &Path, out: &Path) {
    sign_dossier(env, "sign-pdf", "b-t", id, cred, input, out)
}

/// Move the certificate's revocation back a day (as if it had happened then): what only a
/// database owner could do, dropping the append-only trigger first (SQLite envs).
pub fn backdate_revocation(env: &Env, serial: &str) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let url = format!("sqlite://{}/kyso.db", env.data_dir().display());
    let store = rt.block_on(kyso_store::Store::open(&url)).unwrap();
    let sql = format!(
        "DROP TRIGGER certificates_revocation_append_only; \
         UPDATE certificates SET revoked_at = revoked_at - 86400 WHERE serial = '{serial}'"
    );
    rt.block_on(store.execute_raw(&sql)).unwrap();
    rt.block_on(store.close());
}

/// The main indications (`total-passed`, `indeterminate`, `total-failed`) of an ETSI TS 119 102-2
/// XML validation report, in order, as Python's own XML parser reads it (a malformed report or
/// another namespace fails here). Sub-indications follow a `/`: `indeterminate/TRY_LATER`.
pub fn etsi_xml_indications(xml: &[u8]) -> Vec<String> {
    const READ: &str = r#"
import sys, xml.etree.ElementTree as ET
ns = {"vr": "http://uri.etsi.org/19102/v1.2.1#"}
root = ET.fromstring(sys.stdin.buffer.read())
assert root.tag == "{http://uri.etsi.org/19102/v1.2.1#}ValidationReport", root.tag
for r in root.findall("vr:SignatureValidationReport", ns):
    assert r.find("vr:SignatureIdentifier", ns) is not None
    assert r.find("vr:ValidationTimeInfo/vr:ValidationTime", ns) is not None
    st = r.find("vr:SignatureValidationStatus", ns)
    main = st.find("vr:MainIndication", ns).text
    assert main.startswith("urn:etsi:019102:mainindication:"), main
    out = main.rsplit(":", 1)[1]
    for s in st.findall("vr:SubIndication", ns):
        assert s.text.startswith("urn:etsi:019102:subindication:"), s.text
        out += "/" + s.text.rsplit(":", 1)[1]
    print(out)
"#;
    use std::io::Write;
    let mut child = Command::new("python3")
        .args(["-c", READ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    child.stdin.take().unwrap().write_all(xml).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "xml.etree: {}\n{}", String::from_utf8_lossy(&o.stderr), String::from_utf8_lossy(xml));
    String::from_utf8_lossy(&o.stdout).lines().map(str::to_string).collect()
}
