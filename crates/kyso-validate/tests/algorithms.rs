//! Every algorithm the Vietnamese rules allow, from a signer kyso never saw: OpenSSL makes a
//! hierarchy (an EC P-384 root signing with ecdsa-with-SHA384, an RSA provider CA signing with
//! RSASSA-PSS SHA-512/salt 64, an ECDSA P-256 provider CA) and CAdES signatures (SHA-384, SHA-512,
//! SHA3-384, PSS with OpenSSL's maximal salt); the validator passes them, names what it cannot
//! verify (RSA-1024, brainpool) instead of reporting a missing trust anchor, and applies the
//! policy for certificates that name no revocation service.

use kyso_testkit::tools::{require_tool, run};
use kyso_testkit::TempDir;
use kyso_validate::{Indication, Revocation, RevocationSource, SignatureReport, SubIndication, TrustAnchors};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

struct Unknown;
impl RevocationSource for Unknown {
    fn status(&self, _: &x509_cert::Certificate, _: &x509_cert::Certificate) -> Revocation {
        Revocation::Unknown
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let (ok, out) = run(Command::new("openssl").current_dir(dir).args(args));
    assert!(ok, "openssl {args:?}: {out}");
}

fn der_of(dir: &Path, pem: &str) -> Vec<u8> {
    let der = format!("{pem}.der");
    openssl(dir, &["x509", "-in", pem, "-outform", "DER", "-out", &der]);
    std::fs::read(dir.join(der)).unwrap()
}

/// A key of `spec` (`ec:P-384`, `rsa:2048`…) written to `name.key`.
fn key(dir: &Path, name: &str, spec: &str) {
    let file = format!("{name}.key");
    match spec.split_once(':') {
        Some(("ec", curve)) => openssl(
            dir,
            &["genpkey", "-algorithm", "EC", "-pkeyopt", &format!("ec_paramgen_curve:{curve}"), "-out", &file],
        ),
        Some(("rsa", bits)) => openssl(
            dir,
            &["genpkey", "-algorithm", "RSA", "-pkeyopt", &format!("rsa_keygen_bits:{bits}"), "-out", &file],
        ),
        _ => panic!("{spec}"),
    }
}

/// `name.pem` for `name.key`, issued by `ca` (with `sign_args` such as `-sha384` or PSS options).
fn issue(dir: &Path, name: &str, cn: &str, ca: &str, is_ca: bool, extra_ext: &str, sign_args: &[&str]) {
    let ext = format!("{name}.ext");
    let body = if is_ca {
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n".to_string()
    } else {
        format!("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n{extra_ext}")
    };
    std::fs::write(dir.join(&ext), body).unwrap();
    let csr = format!("{name}.csr");
    let subj = format!("/C=VN/O=Test Provider/CN={cn}");
    openssl(dir, &["req", "-new", "-key", &format!("{name}.key"), "-subj", &subj, "-out", &csr]);
    let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
    let mut args = vec![
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &ca_pem,
        "-CAkey",
        &ca_key,
        "-set_serial",
        "0x1234567890abcdef01",
        "-days",
        "365",
        "-extfile",
        &ext,
        "-out",
    ];
    let out = format!("{name}.pem");
    args.push(&out);
    let owned: Vec<String> =
        args.iter().map(|s| s.to_string()).chain(sign_args.iter().map(|s| s.to_string())).collect();
    let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
    openssl(dir, &refs);
}

/// A detached CAdES signature (`-cades`: signing-certificate-v2) of `content` by `name`.
fn cms_sign(dir: &Path, name: &str, chain: &[&str], md: &str, keyopts: &[&str]) -> Vec<u8> {
    let certfile = format!("{name}.chain.pem");
    let mut pem = String::new();
    for c in chain {
        pem.push_str(&std::fs::read_to_string(dir.join(format!("{c}.pem"))).unwrap());
    }
    std::fs::write(dir.join(&certfile), pem).unwrap();
    let out = format!("{name}.{md}.p7s");
    let mut args: Vec<String> = ["cms", "-sign", "-binary", "-cades", "-md", md, "-in", "content.txt", "-signer"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend([format!("{name}.pem"), "-inkey".into(), format!("{name}.key"), "-certfile".into(), certfile]);
    for k in keyopts {
        args.extend(["-keyopt".to_string(), k.to_string()]);
    }
    args.extend(["-outform", "DER", "-out"].map(String::from));
    args.push(out.clone());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    openssl(dir, &refs);
    std::fs::read(dir.join(out)).unwrap()
}

struct Pki {
    dir: TempDir,
    anchors: TrustAnchors,
}

fn pki() -> Option<Pki> {
    require_tool("openssl")?;
    let dir = TempDir::new("kyso-alg", "pki");
    let d = dir.path();
    std::fs::write(d.join("content.txt"), "Hồ sơ đăng ký kinh doanh\n").unwrap();
    key(d, "root", "ec:P-384");
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "root.key",
            "-sha384",
            "-days",
            "3650",
            "-subj",
            "/C=VN/O=Test Root/CN=Root CA Test VN",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-out",
            "root.pem",
        ],
    );
    // provider CAs under the P-384 root (ecdsa-with-SHA384)
    key(d, "rsaca", "rsa:2048");
    issue(d, "rsaca", "RSA Provider CA", "root", true, "", &["-sha384"]);
    key(d, "ecca", "ec:P-256");
    issue(d, "ecca", "ECDSA Provider CA", "root", true, "", &["-sha384"]);
    let mut anchors = TrustAnchors::new();
    anchors.add_root(&der_of(d, "root.pem")).unwrap();
    Some(Pki { dir, anchors })
}

impl Pki {
    fn validate(&self, cms: &[u8]) -> SignatureReport {
        let content = std::fs::read(self.dir.path().join("content.txt")).unwrap();
        kyso_validate::validate_detached(cms, &content, &self.anchors, &Unknown, SystemTime::now())
    }
}

fn verdict(r: &SignatureReport) -> (Indication, Option<SubIndication>) {
    (r.indication, r.sub_indication)
}

#[test]
fn other_providers_algorithms_pass_and_unsupported_ones_are_named() {
    let Some(p) = pki() else { return };
    let d = p.dir.path();
    let pss512 = ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:64", "-sha512"];
    let pss256 = ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32", "-sha256"];

    // P-521 leaf under the ECDSA P-256 CA, SHA-512 digests
    key(d, "p521", "ec:P-521");
    issue(d, "p521", "NGUYEN VAN P521", "ecca", false, "", &["-sha512"]);
    let r = p.validate(&cms_sign(d, "p521", &["ecca"], "sha512", &[]));
    assert_eq!(verdict(&r), (Indication::TotalPassed, None), "{r:#?}");
    assert_eq!(r.chain, ["NGUYEN VAN P521", "ECDSA Provider CA", "Root CA Test VN"]);
    // policy: no revocation service named → accepted with a warning
    assert_eq!(r.no_revocation_service, ["NGUYEN VAN P521", "ECDSA Provider CA"]);
    assert!(r.warnings.iter().any(|w| w.contains("names no revocation service")), "{r:#?}");

    // P-384 leaf, SHA-384 throughout
    key(d, "p384", "ec:P-384");
    issue(d, "p384", "TRAN THI P384", "ecca", false, "", &["-sha256"]);
    let r = p.validate(&cms_sign(d, "p384", &["ecca"], "sha384", &[]));
    assert_eq!(verdict(&r), (Indication::TotalPassed, None), "{r:#?}");
    // SHA-3: OpenSSL's ECDSA-SHA3-384 verifies, and its digests are kyso's
    openssl(d, &["dgst", "-sha3-384", "-sign", "p384.key", "-out", "sha3.sig", "content.txt"]);
    openssl(d, &["x509", "-in", "p384.pem", "-pubkey", "-noout", "-out", "p384.pub"]);
    openssl(d, &["pkey", "-pubin", "-in", "p384.pub", "-outform", "DER", "-out", "p384.spki"]);
    let content = std::fs::read(d.join("content.txt")).unwrap();
    let spki = std::fs::read(d.join("p384.spki")).unwrap();
    let sig = std::fs::read(d.join("sha3.sig")).unwrap();
    let sha3 = kyso_keys::VerifyScheme::Ecdsa(kyso_keys::HashAlg::Sha3_384);
    assert_eq!(kyso_keys::verify_with(&spki, sha3, &content, &sig), Ok(()));
    assert_eq!(kyso_keys::verify_with(&spki, sha3, b"other", &sig), Err(kyso_keys::VerifyError::Invalid));
    let (_, out) = run(Command::new("openssl").current_dir(d).args(["dgst", "-sha3-256", "-r", "content.txt"]));
    let ours = kyso_pki::alg::digest_by_oid(&kyso_pki::alg::SHA3_256, &content).unwrap();
    assert!(out.starts_with(&hex::encode(ours)), "{out}");

    // RSA leaf certified with RSASSA-PSS SHA-512 / salt 64; the CMS signed with PSS, SHA-384 and
    // OpenSSL's default (maximal) salt, and again with SHA-256 / salt 32
    key(d, "rsa", "rsa:3072");
    issue(d, "rsa", "LE VAN RSA", "rsaca", false, "", &pss512);
    let r = p.validate(&cms_sign(d, "rsa", &["rsaca"], "sha384", &["rsa_padding_mode:pss"]));
    assert_eq!(verdict(&r), (Indication::TotalPassed, None), "{r:#?}");
    let r = p.validate(&cms_sign(d, "rsa", &["rsaca"], "sha256", &["rsa_padding_mode:pss", "rsa_pss_saltlen:32"]));
    assert_eq!(verdict(&r), (Indication::TotalPassed, None), "{r:#?}");
    // PKCS#1 v1.5 with SHA-512
    let r = p.validate(&cms_sign(d, "rsa", &["rsaca"], "sha512", &[]));
    assert_eq!(verdict(&r), (Indication::TotalPassed, None), "{r:#?}");

    // the content changed: a hash failure, not an algorithm problem
    let cms = cms_sign(d, "rsa", &["rsaca"], "sha512", &["rsa_padding_mode:pss"]);
    let r = kyso_validate::validate_detached(&cms, b"other content", &p.anchors, &Unknown, SystemTime::now());
    assert_eq!(verdict(&r), (Indication::TotalFailed, Some(SubIndication::HashFailure)), "{r:#?}");

    // RSA-1024 signer: too weak, named
    key(d, "weak", "rsa:1024");
    issue(d, "weak", "PHAM VAN WEAK", "rsaca", false, "", &pss256);
    let r = p.validate(&cms_sign(d, "weak", &["rsaca"], "sha256", &[]));
    assert_eq!(verdict(&r), (Indication::Indeterminate, Some(SubIndication::CryptoConstraintsFailure)), "{r:#?}");
    assert!(r.unsupported_algorithm.as_deref().is_some_and(|w| w.contains("1024 bits")), "{r:#?}");

    // a provider CA with an RSA-1024 key: the leaf's certificate cannot be verified, and the
    // report says why instead of "neither a configured trust anchor nor in the signature"
    key(d, "weakca", "rsa:1024");
    issue(d, "weakca", "Weak Provider CA", "root", true, "", &["-sha384"]);
    key(d, "underweak", "ec:P-256");
    issue(d, "underweak", "DO VAN UNDERWEAK", "weakca", false, "", &["-sha256"]);
    let r = p.validate(&cms_sign(d, "underweak", &["weakca"], "sha256", &[]));
    assert_eq!(verdict(&r), (Indication::Indeterminate, Some(SubIndication::CryptoConstraintsFailure)), "{r:#?}");
    let why = r.unsupported_algorithm.clone().unwrap_or_default();
    assert!(why.contains("1024 bits") && why.contains("Weak Provider CA"), "{why}");
    assert!(!r.problems.iter().any(|p| p.contains("neither a configured trust anchor")), "{r:#?}");

    // RSA PKCS#1 with SHA3-256 (message digest and signature), which aws-lc does not verify:
    // kyso's own public-key path does
    let r = p.validate(&cms_sign(d, "rsa", &["rsaca"], "sha3-256", &[]));
    assert_eq!(verdict(&r), (Indication::TotalPassed, None), "{r:#?}");
    // PSS whose MGF1 hash is not the message hash, in a certificate and in the CMS
    key(d, "mgf", "rsa:2048");
    let mgf = [
        "-sigopt",
        "rsa_padding_mode:pss",
        "-sigopt",
        "rsa_mgf1_md:sha512",
        "-sigopt",
        "rsa_pss_saltlen:20",
        "-sha256",
    ];
    issue(d, "mgf", "HO THI MGF", "rsaca", false, "", &mgf);
    let r = p.validate(&cms_sign(d, "mgf", &["rsaca"], "sha384", &["rsa_padding_mode:pss", "rsa_mgf1_md:sha256"]));
    assert_eq!(verdict(&r), (Indication::TotalPassed, None), "{r:#?}");
    // and a changed signature value still fails there
    let mut cms = cms_sign(d, "mgf", &["rsaca"], "sha384", &["rsa_padding_mode:pss", "rsa_mgf1_md:sha256"]);
    let n = cms.len();
    cms[n - 10] ^= 1;
    let r = p.validate(&cms);
    assert_eq!(verdict(&r), (Indication::TotalFailed, Some(SubIndication::SigCryptoFailure)), "{r:#?}");

    // a brainpool key: named
    key(d, "bp", "ec:brainpoolP256r1");
    issue(d, "bp", "VU THI BRAINPOOL", "ecca", false, "", &["-sha256"]);
    let r = p.validate(&cms_sign(d, "bp", &["ecca"], "sha256", &[]));
    assert_eq!(verdict(&r), (Indication::Indeterminate, Some(SubIndication::CryptoConstraintsFailure)), "{r:#?}");
    assert!(r.unsupported_algorithm.as_deref().is_some_and(|w| w.contains("brainpoolP256r1")), "{r:#?}");
}

#[test]
fn revocation_policy_and_expiry_without_proof_of_existence() {
    let Some(p) = pki() else { return };
    let d = p.dir.path();
    // a leaf that names an OCSP responder nobody answers for: INDETERMINATE / TRY_LATER, said
    key(d, "ocsp", "ec:P-256");
    issue(
        d,
        "ocsp",
        "HOANG VAN OCSP",
        "ecca",
        false,
        "authorityInfoAccess=OCSP;URI:http://127.0.0.1:9/ocsp\n",
        &["-sha256"],
    );
    let cms = cms_sign(d, "ocsp", &["ecca"], "sha256", &[]);
    let r = p.validate(&cms);
    assert_eq!(verdict(&r), (Indication::Indeterminate, Some(SubIndication::TryLater)), "{r:#?}");
    assert_eq!(r.revocation_unchecked, ["HOANG VAN OCSP"]);
    assert_eq!(r.no_revocation_service, ["ECDSA Provider CA"]);
    // the same signature two years later, without a time-stamp: the certificate has expired and
    // nothing proves it was signed while it was valid
    let later = SystemTime::now() + Duration::from_secs(2 * 365 * 86400);
    let content = std::fs::read(d.join("content.txt")).unwrap();
    key(d, "plain", "ec:P-256");
    issue(d, "plain", "NGO VAN PLAIN", "ecca", false, "", &["-sha256"]);
    let cms = cms_sign(d, "plain", &["ecca"], "sha256", &[]);
    let r = kyso_validate::validate_detached(&cms, &content, &p.anchors, &Unknown, later);
    assert_eq!(verdict(&r), (Indication::Indeterminate, Some(SubIndication::OutOfBoundsNoPoe)), "{r:#?}");
    let r = kyso_validate::validate_detached(&cms, &content, &p.anchors, &Unknown, SystemTime::now());
    assert_eq!(verdict(&r), (Indication::TotalPassed, None), "{r:#?}");
}
