//! Issue 17, every algorithm the rules allow, from someone else's PKI: OpenSSL builds a hierarchy
//! kyso never saw — an EC P-384 root (ecdsa-with-SHA384), an RSA provider CA that certifies with
//! RSASSA-PSS (SHA-256/salt 32, and SHA-512/salt 64), an ECDSA P-256 provider CA — and pyHanko
//! signs PDFs with RSASSA-PSS and ECDSA P-384/P-521 keys. `kyso verify --trust root.pem`, with no
//! `kyso init`, passes each one (the leaves name no revocation service: accepted under the given
//! root, with a warning), and pyHanko's own validation agrees. An RSA-1024 signer and a provider
//! CA with an RSA-1024 key are named as too weak (never "no chain"); a tampered file is said to
//! be modified; the ETSI TS 119 102-2 XML says the same as the JSON.

mod support;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::signing::{etsi_xml_indications, pyhanko, verify_reports, PYHANKO_VALIDATE};
use support::*;

fn openssl(dir: &Path, args: &[&str]) {
    let (ok, out) = run(Command::new("openssl").current_dir(dir).args(args));
    assert!(ok, "openssl {args:?}: {out}");
}

fn key(dir: &Path, name: &str, alg: &str, opt: &str) {
    openssl(dir, &["genpkey", "-algorithm", alg, "-pkeyopt", opt, "-out", &format!("{name}.key")]);
}

/// `name.pem` for `name.key`, issued by `ca` with `sign` (digest and PSS options). Leaves get
/// no AIA and no CRL distribution point: they name no revocation service.
fn issue(dir: &Path, name: &str, subject: &str, ca: &str, is_ca: bool, sign: &[&str]) {
    let ext = if is_ca {
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n"
    } else {
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n"
    };
    let ext = format!("{ext}subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
    std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
    let (csr, key, out, extf) =
        (format!("{name}.csr"), format!("{name}.key"), format!("{name}.pem"), format!("{name}.ext"));
    openssl(dir, &["req", "-new", "-utf8", "-key", &key, "-subj", subject, "-out", &csr]);
    let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
    let mut args = vec!["x509", "-req", "-in", &csr, "-CA", &ca_pem, "-CAkey", &ca_key, "-CAcreateserial"];
    args.extend(["-days", "365", "-extfile", &extf, "-out", &out]);
    args.extend(sign);
    openssl(dir, &args);
}

/// pyHanko signs `src` into `dst` (PAdES, no time-stamp) with `md`; `pss` picks RSASSA-PSS.
const PYHANKO_SIGN: &str = r#"
import sys
from pyhanko.sign import signers, fields
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
key, cert, ca, src, dst, md, pss = sys.argv[1:8]
signer = signers.SimpleSigner.load(key, cert, ca_chain_files=(ca,), prefer_pss=(pss == 'pss'))
with open(src, 'rb') as f, open(dst, 'wb') as out:
    meta = signers.PdfSignatureMetadata(field_name='Sig1', md_algorithm=md, subfilter=fields.SigSeedSubFilter.PADES)
    signers.sign_pdf(IncrementalPdfFileWriter(f), meta, signer=signer, output=out)
"#;

struct Case {
    name: &'static str,
    ca: &'static str,
    md: &'static str,
    pss: bool,
}

#[test]
fn other_pki_algorithms_pass_kyso_and_pyhanko_without_init() {
    let Some(py) = pyhanko() else { return };
    if require_tool("openssl").is_none() {
        return;
    }
    let env = Env::new("interop-alg");
    let d = env.dir.clone();
    key(&d, "root", "EC", "ec_paramgen_curve:P-384");
    openssl(
        &d,
        &[
            "req",
            "-x509",
            "-new",
            "-utf8",
            "-key",
            "root.key",
            "-sha384",
            "-days",
            "3650",
            "-subj",
            "/C=VN/O=Bộ Khoa học và Công nghệ/CN=Root CA Test VN",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-addext",
            "subjectKeyIdentifier=hash",
            "-out",
            "root.pem",
        ],
    );
    key(&d, "rsaca", "RSA", "rsa_keygen_bits:3072");
    issue(&d, "rsaca", "/C=VN/O=Nhà cung cấp RSA/CN=RSA Provider CA", "root", true, &["-sha384"]);
    key(&d, "ecca", "EC", "ec_paramgen_curve:P-256");
    issue(&d, "ecca", "/C=VN/O=Nhà cung cấp ECDSA/CN=ECDSA Provider CA", "root", true, &["-sha384"]);
    let pss256 = ["-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"];
    let pss512 = ["-sha512", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:64"];
    let subject = |cn: &str, id: &str| format!("/C=VN/ST=Hà Nội/CN={cn}/UID=CCCD:{id}");
    key(&d, "rsa2048", "RSA", "rsa_keygen_bits:2048");
    issue(&d, "rsa2048", &subject("Nguyễn Văn Pss", "001090000011"), "rsaca", false, &pss256);
    key(&d, "rsa3072", "RSA", "rsa_keygen_bits:3072");
    issue(&d, "rsa3072", &subject("Trần Thị Pss", "001190000022"), "rsaca", false, &pss512);
    key(&d, "p384", "EC", "ec_paramgen_curve:P-384");
    issue(&d, "p384", &subject("Lê Văn Ecdsa", "001090000033"), "ecca", false, &["-sha384"]);
    key(&d, "p521", "EC", "ec_paramgen_curve:P-521");
    issue(&d, "p521", &subject("Phạm Thị Ecdsa", "001190000044"), "ecca", false, &["-sha512"]);
    // too weak: an RSA-1024 signer, and a provider CA whose key is RSA-1024
    key(&d, "rsa1024", "RSA", "rsa_keygen_bits:1024");
    issue(&d, "rsa1024", &subject("Võ Văn Yếu", "001090000055"), "rsaca", false, &pss256);
    key(&d, "weakca", "RSA", "rsa_keygen_bits:1024");
    issue(&d, "weakca", "/C=VN/O=Nhà cung cấp yếu/CN=Weak Provider CA", "root", true, &["-sha384"]);
    key(&d, "underweak", "EC", "ec_paramgen_curve:P-256");
    issue(&d, "underweak", &subject("Đỗ Thị Dưới", "001190000066"), "weakca", false, &["-sha256"]);

    let src = env.path("hoso.pdf");
    std::fs::write(&src, minimal_pdf("Ho so ky boi nha cung cap khac")).unwrap();
    let good = [
        Case { name: "rsa2048", ca: "rsaca", md: "sha256", pss: true },
        Case { name: "rsa3072", ca: "rsaca", md: "sha512", pss: true },
        Case { name: "p384", ca: "ecca", md: "sha384", pss: false },
        Case { name: "p521", ca: "ecca", md: "sha512", pss: false },
    ];
    let weak = [
        Case { name: "rsa1024", ca: "rsaca", md: "sha256", pss: true },
        Case { name: "underweak", ca: "weakca", md: "sha256", pss: false },
    ];
    let root = env.path("root.pem");
    let trust = ["--trust", root.to_str().unwrap()];
    let sign = |c: &Case| {
        let out = env.path(&format!("{}.pdf", c.name));
        let (ok, log) = run(Command::new(&py)
            .arg("-c")
            .arg(PYHANKO_SIGN)
            .arg(d.join(format!("{}.key", c.name)))
            .arg(d.join(format!("{}.pem", c.name)))
            .arg(d.join(format!("{}.pem", c.ca)))
            .arg(&src)
            .arg(&out)
            .arg(c.md)
            .arg(if c.pss { "pss" } else { "pkcs1" }));
        assert!(ok, "pyHanko signing {}: {log}", c.name);
        out
    };
    let pyhanko_says = |f: &Path| {
        let (ok, out) = run(Command::new(&py).arg("-c").arg(PYHANKO_VALIDATE).arg(f).arg(&root));
        assert!(ok, "pyHanko validation: {out}");
        out.lines().find(|l| l.starts_with("SIG ")).unwrap_or_default().to_string()
    };

    for c in &good {
        let f = sign(c);
        let (code, reps) = verify_reports(&env, &f, &trust);
        let r: &Value = &reps[0];
        assert_eq!((code, r["indication"].as_str()), (0, Some("TOTAL-PASSED")), "kyso, {}: {r}", c.name);
        assert_eq!(r["chain"].as_array().map(Vec::len), Some(3), "{r}");
        assert!(r["no_revocation_service"].as_array().is_some_and(|a| !a.is_empty()), "policy B1: {r}");
        assert_eq!(pyhanko_says(&f), "SIG Sig1 True True True True", "pyHanko, {}", c.name);
        let text = env.ok(&["verify", f.to_str().unwrap(), "--trust", root.to_str().unwrap()]);
        assert!(text.starts_with("Chữ ký 1: HỢP LỆ\n"), "{text}");
        assert!(text.contains("không công bố dịch vụ kiểm tra thu hồi"), "the policy's warning: {text}");
        let xml =
            env.cmd().args(["verify", "--format", "xml", "--trust", root.to_str().unwrap()]).arg(&f).output().unwrap();
        assert_eq!(etsi_xml_indications(&xml.stdout), ["total-passed"], "{}", c.name);
    }
    // the PSS parameters pyHanko wrote are not kyso's own encoding: SHA-512, MGF1-SHA-512, salt 64
    let pss512_pdf = std::fs::read(env.path("rsa3072.pdf")).unwrap();
    let mgf1_sha512 = [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];
    assert!(hex_contains(&pss512_pdf, &mgf1_sha512), "a SHA-512 OID in the CMS");

    for c in &weak {
        let f = sign(c);
        let (code, reps) = verify_reports(&env, &f, &trust);
        let r = &reps[0];
        assert_eq!(
            (code, r["indication"].as_str(), r["sub_indication"].as_str()),
            (3, Some("INDETERMINATE"), Some("CRYPTO_CONSTRAINTS_FAILURE")),
            "kyso, {}: {r}",
            c.name
        );
        let why = r["unsupported_algorithm"].as_str().unwrap_or_default();
        assert!(why.contains("1024 bits"), "named: {r}");
        assert!(!r.to_string().contains("neither a configured trust anchor"), "not 'no chain': {r}");
        let text = env.ok_or_code(&["verify", f.to_str().unwrap(), "--trust", root.to_str().unwrap()]);
        assert!(text.contains("không được hỗ trợ hoặc không đủ an toàn") && text.contains("1024 bits"), "{text}");
        // pyHanko agrees: intact and valid, but not trusted (its weak-key policy refuses RSA-1024)
        assert_eq!(pyhanko_says(&f), "SIG Sig1 True True False False", "pyHanko, {}", c.name);
    }

    // a byte of the signed content changed: both fail, and kyso says the document was modified
    let mut tampered = std::fs::read(env.path("p384.pdf")).unwrap();
    let at = tampered.windows(4).position(|w| w == b"Ho s").expect("the page text");
    tampered[at] = b'X';
    let tf = env.path("tampered.pdf");
    std::fs::write(&tf, &tampered).unwrap();
    let (code, reps) = verify_reports(&env, &tf, &trust);
    assert_eq!((code, reps[0]["sub_indication"].as_str()), (1, Some("HASH_FAILURE")), "{reps:?}");
    assert!(pyhanko_says(&tf).starts_with("SIG Sig1 False"), "pyHanko: not intact");
    let text = env.ok_or_code(&["verify", tf.to_str().unwrap(), "--trust", root.to_str().unwrap()]);
    assert!(text.contains("Tài liệu ĐÃ BỊ THAY ĐỔI sau khi ký") && !text.contains("chỉ có thêm chữ ký"), "{text}");
    let xml =
        env.cmd().args(["verify", "--format", "xml", "--trust", root.to_str().unwrap()]).arg(&tf).output().unwrap();
    assert_eq!(etsi_xml_indications(&xml.stdout), ["total-failed/HASH_FAILURE"]);
    assert!(!env.data_dir().exists(), "verify wrote nothing");
}

fn hex_contains(hay: &[u8], needle: &[u8]) -> bool {
    // the CMS sits hex-encoded in /Contents
    let hex: String = needle.iter().map(|b| format!("{b:02x}")).collect();
    let upper = hex.to_uppercase();
    let s = String::from_utf8_lossy(hay);
    s.contains(&hex) || s.contains(&upper)
}

trait OkOrCode {
    fn ok_or_code(&self, args: &[&str]) -> String;
}

impl OkOrCode for Env {
    /// stdout of a `kyso` run that may end INDETERMINATE (3) or TOTAL-FAILED (1), not an error (2).
    fn ok_or_code(&self, args: &[&str]) -> String {
        let o = self.kyso(args);
        assert!(matches!(o.status.code(), Some(0 | 1 | 3)), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}
