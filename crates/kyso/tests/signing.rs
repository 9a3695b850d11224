//! Remote signing end to end over the CSC-shaped HTTP API: only the authorized hashes are signed,
//! once; replay, substitution, expiry and other people's credentials are refused; 5 wrong PINs
//! lock the credential across restarts until an officer unlocks it; no secret reaches the logs.
//! Signatures are checked by OpenSSL, not by kyso.

mod support;
use serde_json::{json, Value};
use std::process::Command;
use support::*;

const PIN_A: &str = "135790";
const PIN_B: &str = "246801";
const ID_A: &str = "019190000061";
const ID_B: &str = "019190000062";

fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs_digest(data)
}

fn aws_lc_rs_digest(data: &[u8]) -> Vec<u8> {
    // independent of kyso: OpenSSL computes the digest
    let dir = std::env::temp_dir().join(format!("kyso-dgst-{}-{}", std::process::id(), free_port()));
    std::fs::write(&dir, data).unwrap();
    let o = Command::new("openssl").args(["dgst", "-sha256", "-binary"]).arg(&dir).output().unwrap();
    let _ = std::fs::remove_file(&dir);
    o.stdout
}

fn b64(b: &[u8]) -> String {
    let o = run(Command::new("sh").arg("-c").arg(format!("printf '{}' | xxd -r -p | openssl base64 -A", hex(b))));
    o.1.trim().to_string()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unb64(s: &str, path: &std::path::Path) {
    let tmp = path.with_extension("b64");
    std::fs::write(&tmp, s).unwrap();
    let (ok, out) = run(Command::new("openssl").args(["base64", "-d", "-A", "-in"]).arg(&tmp).arg("-out").arg(path));
    assert!(ok, "{out}");
}

fn activate(env: &Env, id: &str, pin: &str) -> (String, std::path::PathBuf) {
    let v = support::signing::activate_credential(env, id, "Hoàng Thị Mai", pin, &[]);
    let pem = env.path(&format!("{id}.pem"));
    std::fs::write(&pem, v["pem"].as_str().unwrap()).unwrap();
    (v["credential_id"].as_str().unwrap().to_string(), pem)
}

fn token(env: &Env, id: &str) -> String {
    env.ok(&["credential", "token", "--id", id]).trim().to_string()
}

fn call(env: &Env, tok: &str, path: &str, body: Value) -> (u16, Value) {
    support::signing::csc(env, tok, path, &body)
}

/// OpenSSL checks an ECDSA signature over a digest with the certificate's public key.
fn openssl_verifies(env: &Env, cert: &std::path::Path, digest: &[u8], sig_b64: &str) -> bool {
    let n = free_port();
    let (pubkey, dg, sig) =
        (env.path(&format!("pub{n}.pem")), env.path(&format!("dg{n}.bin")), env.path(&format!("sig{n}.der")));
    let (ok, out) = run(Command::new("openssl").args(["x509", "-noout", "-pubkey", "-in"]).arg(cert));
    assert!(ok, "{out}");
    std::fs::write(&pubkey, out).unwrap();
    std::fs::write(&dg, digest).unwrap();
    unb64(sig_b64, &sig);
    run(Command::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
        .arg(&pubkey)
        .arg("-in")
        .arg(&dg)
        .arg("-sigfile")
        .arg(&sig))
    .0
}

#[derive(Clone, Copy, Debug)]
enum Custody {
    Vault,
    Pkcs11,
}

/// A data directory whose provider `vnpt` keeps citizen keys in the vault or on a SoftHSM2 token
/// (the same tests run on both backends). SAD lifetime 2 s so expiry is testable.
fn setup(name: &str, custody: Custody) -> Option<Env> {
    let mut env = Env::new(&format!("{name}-{custody:?}").to_lowercase());
    let pkcs11 = match custody {
        Custody::Vault => String::new(),
        Custody::Pkcs11 => format!("[pkcs11]\nmodule = \"{}\"\ntoken = \"kyso\"\n", softhsm(&mut env)?),
    };
    let custody_line = match custody {
        Custody::Vault => "vault",
        Custody::Pkcs11 => "pkcs11",
    };
    let cfg = format!(
        r#"base_url = "{base}"
sad_ttl_seconds = 2
{CONFIG_ROOT_AND_TSA}{pkcs11}
[[providers]]
id = "vnpt"
name = "VNPT-CA (test)"
organization = "VNPT (test)"
policy_oid = "1.3.6.1.4.1.32473.1.2.1"
citizen_key_custody = "{custody_line}"
"#,
        base = env.base_url()
    );
    let f = env.path("kyso.toml");
    std::fs::write(&f, cfg).unwrap();
    env.ok(&["init", "--config", f.to_str().unwrap()]);
    env.ok(&["ca", "export", "--out-dir", env.dir.join("ca").to_str().unwrap()]);
    Some(env)
}

/// The citizen's key really is in the backend under test.
fn assert_key_backend(env: &Env, want: &str) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let store =
        rt.block_on(kyso_store::Store::open(&format!("sqlite://{}/kyso.db", env.data_dir().display()))).unwrap();
    let creds = rt.block_on(store.credentials_of(ID_A)).unwrap();
    assert!(!creds.is_empty());
    for c in creds {
        assert_eq!(rt.block_on(store.key(&c.key_id)).unwrap().backend, want);
    }
    rt.block_on(store.close());
}

#[test]
fn csc_flow_vault() {
    if let Some(env) = setup("csc", Custody::Vault) {
        csc_flow_signs_exactly_the_authorized_hashes_once(&env);
        assert_key_backend(&env, "vault-pin");
    }
}

#[test]
fn csc_flow_pkcs11() {
    if let Some(env) = setup("csc", Custody::Pkcs11) {
        csc_flow_signs_exactly_the_authorized_hashes_once(&env);
        assert_key_backend(&env, "pkcs11");
    }
}

#[test]
fn lockout_vault() {
    if let Some(env) = setup("lock", Custody::Vault) {
        five_wrong_pins_lock_across_restarts_until_an_officer_unlocks(env);
    }
}

#[test]
fn lockout_pkcs11() {
    if let Some(env) = setup("lock", Custody::Pkcs11) {
        five_wrong_pins_lock_across_restarts_until_an_officer_unlocks(env);
    }
}

#[test]
fn sign_hash_vault() {
    if let Some(env) = setup("sh", Custody::Vault) {
        sign_hash_cli_and_pin_change(env);
    }
}

#[test]
fn sign_hash_pkcs11() {
    if let Some(env) = setup("sh", Custody::Pkcs11) {
        sign_hash_cli_and_pin_change(env);
    }
}

fn csc_flow_signs_exactly_the_authorized_hashes_once(env: &Env) {
    let (cred_a, cert_a) = activate(env, ID_A, PIN_A);
    let (cred_b, _) = activate(env, ID_B, PIN_B);
    let (tok_a, tok_b) = (token(env, ID_A), token(env, ID_B));
    let log = env.path("server.log");
    let _server = env.serve_logged(&log);

    let (s, v) = call(env, &tok_a, "credentials/list", json!({}));
    assert_eq!((s, v["credentialIDs"].clone()), (200, json!([cred_a])), "a citizen sees only their own credentials");
    let (s, info) = call(env, &tok_a, "credentials/info", json!({"credentialID": cred_a, "certificates": "chain"}));
    assert_eq!(s, 200, "{info}");
    assert_eq!(info["key"]["curve"], "1.2.840.10045.3.1.7");
    assert_eq!(info["cert"]["certificates"].as_array().unwrap().len(), 2);
    assert_eq!(info["PIN"]["presence"], "true");

    let docs: Vec<Vec<u8>> = ["hồ sơ 1", "hồ sơ 2", "hồ sơ 3"].iter().map(|d| sha256(d.as_bytes())).collect();
    let hashes: Vec<String> = docs.iter().map(|d| b64(d)).collect();
    let (s, a) = call(
        env,
        &tok_a,
        "credentials/authorize",
        json!({"credentialID": cred_a, "numSignatures": 3, "hashes": hashes, "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1", "PIN": PIN_A}),
    );
    assert_eq!(s, 200, "{a}");
    let sad = a["SAD"].as_str().unwrap().to_string();
    assert!(a["expiresIn"].as_u64().unwrap() <= 300);

    let sign = |tok: &str, cred: &str, sad: &str, hs: &[String]| {
        call(
            env,
            tok,
            "signatures/signHash",
            json!({"credentialID": cred, "SAD": sad, "hashes": hs, "signAlgo": "1.2.840.10045.4.3.2"}),
        )
    };
    let (s, r) = sign(&tok_a, &cred_a, &sad, &hashes[..2]);
    assert_eq!(s, 200, "{r}");
    let sigs = r["signatures"].as_array().unwrap();
    for (i, sig) in sigs.iter().enumerate() {
        assert!(openssl_verifies(env, &cert_a, &docs[i], sig.as_str().unwrap()), "OpenSSL rejects signature {i}");
    }
    assert!(
        !openssl_verifies(env, &cert_a, &docs[2], sigs[0].as_str().unwrap()),
        "a signature must not verify for another document"
    );
    // replay of an already signed hash
    let (s, r) = sign(&tok_a, &cred_a, &sad, &hashes[..1]);
    assert_eq!((s, r["error"].as_str()), (400, Some("invalid_request")), "replay: {r}");
    // a substituted hash
    let other = b64(&sha256(b"forged dossier"));
    let (s, r) = sign(&tok_a, &cred_a, &sad, std::slice::from_ref(&other));
    assert_eq!(s, 400, "substitution: {r}");
    // another citizen cannot use the SAD, nor the credential
    let (s, _) = sign(&tok_b, &cred_a, &sad, &hashes[2..]);
    assert_eq!(s, 400);
    let (s, r) =
        call(env, &tok_b, "credentials/authorize", json!({"credentialID": cred_a, "hashes": [other], "PIN": PIN_A}));
    assert_eq!((s, r["error"].as_str()), (400, Some("invalid_request")), "{r}");
    let (s, _) = call(env, &tok_b, "credentials/info", json!({"credentialID": cred_a}));
    assert_eq!(s, 400);
    // the last authorized hash, then the SAD is spent
    let (s, r) = sign(&tok_a, &cred_a, &sad, &hashes[2..]);
    assert_eq!(s, 200, "{r}");
    let (s, _) = sign(&tok_a, &cred_a, &sad, &hashes[2..]);
    assert_eq!(s, 400, "a spent SAD");
    // expiry (sad_ttl_seconds = 2 in this test)
    let (_, a) = call(
        env,
        &tok_a,
        "credentials/authorize",
        json!({"credentialID": cred_a, "hashes": [hashes[0]], "PIN": PIN_A}),
    );
    std::thread::sleep(std::time::Duration::from_millis(2600));
    let (s, r) = sign(&tok_a, &cred_a, a["SAD"].as_str().unwrap(), &hashes[..1]);
    assert_eq!(s, 400, "expired SAD: {r}");
    // wrong PIN, no token, B's own flow works
    let (s, r) = call(
        env,
        &tok_a,
        "credentials/authorize",
        json!({"credentialID": cred_a, "hashes": [hashes[0]], "PIN": "000000"}),
    );
    assert_eq!((s, r["error"].as_str()), (400, Some("invalid_pin")), "{r}");
    assert!(r["error_description"].as_str().unwrap().contains("4 attempt"));
    let (s, _) =
        http_with("POST", &format!("{}/csc/v2/credentials/list", env.base_url()), Some("application/json"), &[], b"{}")
            .unwrap();
    assert_eq!(s, 401);
    let (s, _) = call(
        env,
        &tok_b,
        "credentials/authorize",
        json!({"credentialID": cred_b, "hashes": [hashes[0]], "PIN": PIN_B}),
    );
    assert_eq!(s, 200);
    let (s, doc) = http("GET", &format!("{}/csc/v2/openapi.json", env.base_url()), None, &[]).unwrap();
    assert_eq!(s, 200);
    assert!(serde_json::from_slice::<Value>(&doc).unwrap()["paths"]["/csc/v2/signatures/signHash"].is_object());

    // nothing secret in the server's debug log
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.len() > 100, "the server logged something at debug level");
    for secret in [PIN_A, PIN_B, &tok_a, &tok_b, &sad, ID_A, ID_B] {
        assert!(!text.contains(secret), "a secret or full ID number appears in the log");
    }
}

fn five_wrong_pins_lock_across_restarts_until_an_officer_unlocks(env: Env) {
    let (cred, _) = activate(&env, ID_A, PIN_A);
    let tok = token(&env, ID_A);
    let h = [b64(&sha256(b"to"))];
    let mut server = env.serve();
    for i in 1..=5 {
        let (s, r) =
            call(&env, &tok, "credentials/authorize", json!({"credentialID": cred, "hashes": h, "PIN": "999999"}));
        let want = if i < 5 { "invalid_pin" } else { "access_denied" };
        assert_eq!((s != 200, r["error"].as_str()), (true, Some(want)), "attempt {i}: {r}");
    }
    let (_, r) = call(&env, &tok, "credentials/authorize", json!({"credentialID": cred, "hashes": h, "PIN": PIN_A}));
    assert_eq!(r["error"], "access_denied", "locked even with the right PIN");
    server.kill();
    let mut server = env.serve();
    let (_, r) = call(&env, &tok, "credentials/authorize", json!({"credentialID": cred, "hashes": h, "PIN": PIN_A}));
    assert_eq!(r["error"], "access_denied", "the lock survives a restart");
    env.ok(&["credential", "unlock", &cred, "--officer", "cb-xa-hiep-luc-01"]);
    let (s, r) = call(&env, &tok, "credentials/authorize", json!({"credentialID": cred, "hashes": h, "PIN": PIN_A}));
    assert_eq!(s, 200, "after the officer's unlock: {r}");
    server.kill();
    let audit = env.ok(&["--json", "audit", "verify"]);
    assert!(audit.contains("\"ok\":true"), "{audit}");
}

fn sign_hash_cli_and_pin_change(env: Env) {
    let (cred, cert) = activate(&env, ID_A, PIN_A);
    let digest = sha256(b"to khai");
    let o = env
        .cmd()
        .env("KYSO_PIN", PIN_A)
        .args(["--json", "sign-hash", "--id", ID_A, "--credential", &cred, "--hash", &hex(&digest)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let sig_hex = v["signatures"][0].as_str().unwrap();
    let sig: Vec<u8> =
        (0..sig_hex.len()).step_by(2).map(|i| u8::from_str_radix(&sig_hex[i..i + 2], 16).unwrap()).collect();
    assert!(openssl_verifies(&env, &cert, &digest, &b64(&sig)));
    // PIN change: the old PIN stops working, the new one signs
    let o = env
        .cmd()
        .env("KYSO_PIN", PIN_A)
        .env("KYSO_NEW_PIN", "112233")
        .args(["credential", "change-pin", &cred, "--id", ID_A])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = env
        .cmd()
        .env("KYSO_PIN", PIN_A)
        .args(["sign-hash", "--id", ID_A, "--credential", &cred, "--hash", &hex(&digest)])
        .output()
        .unwrap();
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("PIN is wrong"));
    let o = env
        .cmd()
        .env("KYSO_PIN", "112233")
        .args(["sign-hash", "--id", ID_A, "--credential", &cred, "--hash", &hex(&digest)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // a PIN on the command line is not accepted at all; a bad PIN format is named
    let o = env
        .cmd()
        .env("KYSO_PIN", "12ab56")
        .args(["sign-hash", "--id", ID_A, "--credential", &cred, "--hash", &hex(&digest)])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("6 digits"));
}
