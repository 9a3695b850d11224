//! Interop: what kyso issues and signs is judged by independent tools — pkilint for every
//! certificate profile and the CRL, OpenSSL for chains, CRLs, OCSP and RFC 3161 time-stamps.

mod support;
use std::process::Command;
use support::*;

const CONFIG_WITH_RSA: &str = r#"
base_url = "BASE"
ROOT_AND_TSA
[[providers]]
id = "vnpt"
name = "VNPT-CA (test)"
organization = "VNPT (test)"
policy_oid = "1.3.6.1.4.1.32473.1.2.1"
[[providers]]
id = "fpt"
name = "FPT-CA (test)"
organization = "FPT (test)"
key_algorithm = "rsa-2048"
citizen_key_algorithm = "rsa-2048"
policy_oid = "1.3.6.1.4.1.32473.1.2.3"
"#;

fn pkilint(tool: &std::path::Path, args: &[&str], file: &std::path::Path) -> (bool, String) {
    run(Command::new(tool).arg("lint").args(args).args(["-s", "ERROR"]).arg(file))
}

#[test]
fn pkilint_finds_no_error_in_any_profile_or_crl() {
    let Some(lint) = require_tool("lint_pkix_cert") else { return };
    let env = Env::new("pkilint");
    let cfg = env.path("kyso.toml");
    std::fs::write(
        &cfg,
        CONFIG_WITH_RSA.replace("BASE", &env.base_url()).replace("ROOT_AND_TSA\n", CONFIG_ROOT_AND_TSA),
    )
    .unwrap();
    env.ok(&["init", "--config", cfg.to_str().unwrap()]);
    env.ok(&["ca", "export", "--out-dir", env.dir.join("ca").to_str().unwrap()]);
    let (_, citizen_ec) = env.issue("019190000001", "vnpt", &[]);
    let (_, citizen_rsa) = env.issue("019190000002", "fpt", &["--key-alg", "rsa-2048"]);
    let (revoked, _) = env.issue("019190000003", "fpt", &[]);
    env.ok(&["cert", "revoke", &revoked, "--reason", "keyCompromise"]);
    let files = [
        ("root", env.ca("root")),
        ("provider CA (EC)", env.ca("vnpt")),
        ("provider CA (RSA-PSS)", env.ca("fpt")),
        ("OCSP signer", env.ca("vnpt-ocsp")),
        ("TSA", env.ca("tsa")),
        ("citizen EC", citizen_ec),
        ("citizen RSA", citizen_rsa),
    ];
    for (what, f) in &files {
        let (ok, out) = pkilint(&lint, &[], f);
        assert!(ok && out.trim().is_empty(), "pkilint reports errors for the {what} certificate:\n{out}");
    }
    // an RSA provider CA signs with RSASSA-PSS (Circular 15/2025)
    let (_, text) = run(Command::new("openssl").args(["x509", "-noout", "-text", "-in"]).arg(&files[6].1));
    assert!(text.contains("rsassaPss") && text.contains("rsaEncryption"), "{text}");
    let (ok, out) = run(Command::new("openssl")
        .arg("verify")
        .arg("-CAfile")
        .arg(env.ca("root"))
        .arg("-untrusted")
        .arg(env.ca("fpt"))
        .arg(&files[6].1));
    assert!(ok, "openssl verify of the RSA-PSS chain: {out}");
    // the CRL with a revoked entry
    let crl = env.path("fpt.crl");
    env.ok(&["crl", "--ca", "fpt", "--out", crl.to_str().unwrap()]);
    let crl_lint = tool("lint_crl").expect("lint_crl next to lint_pkix_cert");
    let (ok, out) = run(Command::new(&crl_lint).args(["lint", "-t", "CRL", "-p", "PKIX", "-s", "ERROR"]).arg(&crl));
    assert!(ok && out.trim().is_empty(), "pkilint reports errors for the CRL:\n{out}");
    // negative control: the same check fails on a certificate we know is wrong (serial 0)
    let bad = env.path("bad.pem");
    let (ok, out) = run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=bad",
            "-days",
            "1",
            "-set_serial",
            "0",
            "-keyout",
        ])
        .arg(env.path("bad.key"))
        .arg("-out")
        .arg(&bad));
    assert!(ok, "{out}");
    assert!(!pkilint(&lint, &[], &bad).0, "pkilint must reject serial 0: the check can fail");
}

#[test]
fn openssl_verifies_chains_and_crl() {
    let env = Env::new("chain");
    env.init();
    let (serial, pem) = env.issue("001203001234", "viettel", &[]);
    let (ok, out) = run(Command::new("openssl")
        .arg("verify")
        .arg("-CAfile")
        .arg(env.ca("root"))
        .arg("-untrusted")
        .arg(env.ca("viettel"))
        .arg(&pem));
    assert!(ok, "openssl verify: {out}");
    env.ok(&["cert", "revoke", &serial, "--reason", "affiliationChanged"]);
    let crl = env.path("viettel.crl");
    env.ok(&["crl", "--ca", "viettel", "--out", crl.to_str().unwrap()]);
    let (ok, out) = run(Command::new("openssl")
        .args(["crl", "-inform", "DER", "-noout", "-text", "-in"])
        .arg(&crl)
        .arg("-CAfile")
        .arg(env.ca("viettel")));
    assert!(ok && out.contains("verify OK"), "openssl crl -verify: {out}");
    assert!(out.to_uppercase().contains(&serial.to_uppercase()), "serial {serial} missing from CRL:\n{out}");
    assert!(out.contains("Affiliation Changed"), "reason missing:\n{out}");
    // a CRL-checking chain verification now fails with "certificate revoked"
    let root_crl = env.path("root.crl");
    env.ok(&["crl", "--ca", "root", "--out", root_crl.to_str().unwrap()]);
    let pem_crls = env.path("crls.pem");
    let mut all = String::new();
    for f in [&crl, &root_crl] {
        let (_, p) = run(Command::new("openssl").args(["crl", "-inform", "DER", "-in"]).arg(f));
        all.push_str(&p);
    }
    std::fs::write(&pem_crls, all).unwrap();
    let (ok, out) = run(Command::new("openssl")
        .arg("verify")
        .arg("-crl_check_all")
        .arg("-CRLfile")
        .arg(&pem_crls)
        .arg("-CAfile")
        .arg(env.ca("root"))
        .arg("-untrusted")
        .arg(env.ca("viettel"))
        .arg(&pem));
    assert!(!ok && out.contains("revoked"), "openssl verify -crl_check_all should report revoked:\n{out}");
}

fn ocsp_status(env: &Env, provider: &str, cert_args: &[&str]) -> String {
    let (_, out) = run(Command::new("openssl")
        .arg("ocsp")
        .arg("-issuer")
        .arg(env.ca(provider))
        .args(cert_args)
        .arg("-url")
        .arg(format!("{}/ocsp/{provider}", env.base_url()))
        .arg("-CAfile")
        .arg(env.ca("root"))
        .arg("-resp_text"));
    out
}

/// The GET path of an OCSP request without nonce for `pem` (base64 of the DER, URL-escaped).
fn ocsp_get_path(env: &Env, pem: &std::path::Path) -> String {
    let req = env.path("req.der");
    let (ok, out) = run(Command::new("openssl")
        .arg("ocsp")
        .arg("-issuer")
        .arg(env.ca("vnpt"))
        .arg("-cert")
        .arg(pem)
        .arg("-no_nonce")
        .arg("-reqout")
        .arg(&req));
    assert!(ok, "{out}");
    let b64 = run(Command::new("openssl").args(["base64", "-A", "-in"]).arg(&req)).1;
    b64.trim().replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
}

/// GET with extra header lines; (status, response head, body).
fn get_with_head(url: &str, extra: &str) -> (u16, String, Vec<u8>) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(s, "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra}\r\n").unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    let head = String::from_utf8_lossy(&all[..split]).to_string();
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap();
    (status, head, all[split + 4..].to_vec())
}

fn ocsp_and_revocation_flow(env: &Env) {
    env.init();
    let _server = env.serve();
    let (serial, pem) = env.issue("019190000011", "vnpt", &[]);
    let pem_s = pem.to_str().unwrap();
    let out = ocsp_status(env, "vnpt", &["-cert", pem_s]);
    assert!(out.contains(&format!("{pem_s}: good")), "expected good:\n{out}");
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains("WITH_NONCE") || out.contains("Nonce"), "nonce must be echoed:\n{out}");

    // the pre-produced answer (no nonce): good, the same signed bytes each time (kept, not
    // signed again), with what a CDN needs (RFC 5019) and 304 for its ETag
    let out = ocsp_status(env, "vnpt", &["-cert", pem_s, "-no_nonce"]);
    assert!(out.contains(&format!("{pem_s}: good")) && out.contains("Response verify OK"), "cached good:\n{out}");
    let get_url = format!("{}/ocsp/vnpt/{}", env.base_url(), ocsp_get_path(env, &pem));
    let (status, head, first) = get_with_head(&get_url, "");
    assert_eq!(status, 200, "{head}");
    let (_, _, again) = get_with_head(&get_url, "");
    assert_eq!(first, again, "a pre-produced response is served as produced");
    for h in
        ["cache-control: max-age=", "public, no-transform, must-revalidate", "etag: \"", "last-modified: ", "expires: "]
    {
        assert!(head.to_ascii_lowercase().contains(h), "missing {h}:\n{head}");
    }
    let etag = head.lines().find_map(|l| l.strip_prefix("etag: ").or_else(|| l.strip_prefix("ETag: "))).unwrap().trim();
    let (status, _, body) = get_with_head(&get_url, &format!("If-None-Match: {etag}\r\n"));
    assert!(status == 304 && body.is_empty(), "If-None-Match with the current ETag: {status}");

    env.ok(&["cert", "revoke", &serial, "--reason", "keyCompromise"]);
    // right after the revoke returns (another process: the server follows the store), the
    // pre-produced answer says revoked, and the old ETag no longer matches
    let out = ocsp_status(env, "vnpt", &["-cert", pem_s, "-no_nonce"]);
    assert!(out.contains(&format!("{pem_s}: revoked")), "cached answer right after the revoke:\n{out}");
    assert!(out.contains("Reason: keyCompromise") && out.contains("Response verify OK"), "{out}");
    let (status, _, body) = get_with_head(&get_url, &format!("If-None-Match: {etag}\r\n"));
    assert!(status == 200 && body != first, "the revoked response replaces the good one: {status}");
    let out = ocsp_status(env, "vnpt", &["-cert", pem_s]);
    assert!(out.contains(&format!("{pem_s}: revoked")), "expected revoked:\n{out}");
    assert!(out.contains("Reason: keyCompromise"), "{out}");

    // never "good" for a serial that was never issued
    let out = ocsp_status(env, "vnpt", &["-serial", "0x0123456789abcdef0123"]);
    assert!(out.contains(": unknown"), "expected unknown:\n{out}");

    // a certificate of another provider sent to this responder: unauthorized
    let (_, other) = env.issue("019190000012", "viettel", &[]);
    let (_, out) = run(Command::new("openssl")
        .arg("ocsp")
        .arg("-issuer")
        .arg(env.ca("viettel"))
        .arg("-cert")
        .arg(&other)
        .arg("-url")
        .arg(format!("{}/ocsp/vnpt", env.base_url()))
        .arg("-CAfile")
        .arg(env.ca("root")));
    assert!(out.contains("unauthorized"), "{out}");

    // GET form (RFC 6960 A.1): base64 of the DER request in the path
    let enc = ocsp_get_path(env, &pem);
    let (status, body) = http("GET", &format!("{}/ocsp/vnpt/{enc}", env.base_url()), None, &[]).unwrap();
    assert_eq!(status, 200);
    let resp = env.path("resp.der");
    std::fs::write(&resp, body).unwrap();
    let (_, out) = run(Command::new("openssl")
        .arg("ocsp")
        .arg("-respin")
        .arg(&resp)
        .arg("-issuer")
        .arg(env.ca("vnpt"))
        .arg("-cert")
        .arg(&pem)
        .arg("-CAfile")
        .arg(env.ca("root")));
    assert!(out.contains("revoked") && out.contains("Response verify OK"), "GET response:\n{out}");
    if let Some(lint) = tool("lint_ocsp_response") {
        let (ok, out) = run(Command::new(lint).args(["lint", "-s", "ERROR"]).arg(&resp));
        assert!(ok && out.trim().is_empty(), "pkilint on the OCSP response:\n{out}");
    }

    // the CRL served at the CDP URL lists the serial with its reason
    let (status, crl) = http("GET", &format!("{}/crl/vnpt.crl", env.base_url()), None, &[]).unwrap();
    assert_eq!(status, 200);
    let crl_f = env.path("served.crl");
    std::fs::write(&crl_f, crl).unwrap();
    let (ok, out) = run(Command::new("openssl")
        .args(["crl", "-inform", "DER", "-noout", "-text", "-in"])
        .arg(&crl_f)
        .arg("-CAfile")
        .arg(env.ca("vnpt")));
    assert!(ok && out.contains("verify OK") && out.contains("Key Compromise"), "{out}");
    assert!(out.to_uppercase().contains(&serial.to_uppercase()), "{out}");
}

#[test]
fn openssl_ocsp_sees_good_then_revoked_sqlite() {
    ocsp_and_revocation_flow(&Env::new("ocsp-sqlite"));
}

#[test]
fn openssl_ocsp_sees_good_then_revoked_postgres() {
    if let Some(env) = Env::with_backend("ocsp-pg", Backend::Postgres) {
        ocsp_and_revocation_flow(&env);
    }
}

#[test]
fn openssl_ts_verifies_kyso_timestamps() {
    let env = Env::new("tsa");
    env.init();
    let _server = env.serve();
    let data = env.path("dossier.xml");
    std::fs::write(&data, "<hoso>Đơn đề nghị cấp giấy phép</hoso>").unwrap();
    let tsq = env.path("req.tsq");
    let (ok, out) = run(Command::new("openssl")
        .args(["ts", "-query", "-sha256", "-cert", "-data"])
        .arg(&data)
        .arg("-out")
        .arg(&tsq));
    assert!(ok, "{out}");
    let (status, body) = http(
        "POST",
        &format!("{}/tsa", env.base_url()),
        Some("application/timestamp-query"),
        &std::fs::read(&tsq).unwrap(),
    )
    .unwrap();
    assert_eq!(status, 200);
    let tsr = env.path("resp.tsr");
    std::fs::write(&tsr, &body).unwrap();
    // `openssl ts -verify` of the reply against the query (or the data), kyso's root and TSA.
    let ts_verify = |against: &str, file: &std::path::Path| {
        run(Command::new("openssl")
            .args(["ts", "-verify", against])
            .arg(file)
            .arg("-in")
            .arg(&tsr)
            .arg("-CAfile")
            .arg(env.ca("root"))
            .arg("-untrusted")
            .arg(env.ca("tsa")))
    };
    let (ok, out) = ts_verify("-queryfile", &tsq);
    assert!(ok && out.contains("Verification: OK"), "openssl ts -verify:\n{out}");
    let (_, text) = run(Command::new("openssl").args(["ts", "-reply", "-text", "-in"]).arg(&tsr));
    assert!(
        text.contains("Accuracy: 0x01 seconds") || text.contains("Accuracy: 1 seconds") || text.contains("Accuracy"),
        "{text}"
    );
    assert!(text.contains("1.3.6.1.4.1.32473.1.3.1"), "TSA policy:\n{text}");
    // a tampered document does not verify against the token
    std::fs::write(&data, "<hoso>Đơn đề nghị cấp giấy phép!</hoso>").unwrap();
    let (ok, _) = ts_verify("-data", &data);
    assert!(!ok, "a changed document must not verify");
    // garbage gets a rejection, not a crash
    let (status, body) =
        http("POST", &format!("{}/tsa", env.base_url()), Some("application/timestamp-query"), b"not der").unwrap();
    assert_eq!(status, 200);
    let bad = env.path("bad.tsr");
    std::fs::write(&bad, &body).unwrap();
    let (_, text) = run(Command::new("openssl").args(["ts", "-reply", "-text", "-in"]).arg(&bad));
    assert!(text.to_lowercase().contains("rejected"), "{text}");
}
