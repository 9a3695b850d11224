//! The remote-signing API against its own OpenAPI document (issue 15, finding 6), judged by an
//! independent tool: schemathesis generates valid and invalid requests from
//! `/csc/v2/openapi.json` and runs every check it has (no 5xx, documented status codes, content
//! types and headers, response bodies matching their schemas, invalid data rejected, auth not
//! ignored, 405 with `Allow` for undocumented methods) against a running kyso with a citizen's
//! bearer token. Also: `certificates` is none, single or chain (anything else a 400 naming it),
//! and the README's `curl` example works as written.

mod support;
use serde_json::{json, Value};
use std::process::Command;
use support::*;

const PIN: &str = "975310";
const ID: &str = "019190000091";

fn activate(env: &Env) -> String {
    let v = support::signing::activate_credential(env, ID, "Đỗ Minh Khoa", PIN, &[]);
    v["credential_id"].as_str().unwrap().to_string()
}

fn post(env: &Env, tok: &str, path: &str, content_type: Option<&str>, body: &str) -> (u16, Value) {
    support::signing::post_bearer(env, tok, path, content_type, body.as_bytes())
}

/// schemathesis' `positive_data_acceptance` wants 2xx for every request the document allows, but
/// CSC answers a well-formed request naming a credential, SAD or PIN that is not right with 400
/// (`invalid_request` "Invalid parameter credentialID", `invalid_pin`, …): no document can say which
/// credentials exist. The run therefore accepts 400 for valid data, and this check narrows that
/// 400 to those reasons; any other 400 to a request the document allows is a failure (the server
/// refuses what its document promises).
const SEMANTIC_400: &str = r#"
import schemathesis

# A well-formed value that is simply not right: unknown credential or SAD, wrong PIN or code,
# counts that disagree, parameters that do not go together.
SEMANTIC = {"Invalid parameter credentialID", "Invalid parameter credentialID for this SAD",
            "Invalid parameter SAD (unknown, expired or already used)", "Invalid parameter signAlgo for this key",
            "Invalid parameter numSignatures: must equal the number of hashes",
            "Invalid parameter PIN: 6 digits expected"}  # authData naming only an OTP
PREFIXES = ("Missing parameter hashAlgorithmOID", "Invalid parameter signAlgoParams")

@schemathesis.check
def csc_semantic_rejections_only(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    body = response.json()
    code, desc = body.get("error"), body.get("error_description", "")
    if code in ("invalid_pin", "invalid_otp"):
        return None
    if code == "invalid_request" and (desc in SEMANTIC or desc.startswith(PREFIXES)):
        return None
    raise AssertionError(f"a request the document allows was refused: {code}: {desc}")
"#;

/// Validates `sys.argv[3]` (a JSON answer) against the schema the document gives for path
/// `argv[1]` and status `argv[2]` (jsonschema-rs, schemathesis' own validator).
const VALIDATE: &str = r#"
import json, sys, urllib.request, jsonschema_rs
doc = json.load(urllib.request.urlopen(sys.argv[4] + '/csc/v2/openapi.json'))
path, status, answer = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
resp = doc['paths'][path]['post']['responses'][status]
if '$ref' in resp:
    resp = doc['components']['responses'][resp['$ref'].split('/')[-1]]
schema = dict(resp['content']['application/json']['schema'], components=doc['components'])
jsonschema_rs.Draft4Validator(schema).validate(answer)
print('valid')
"#;

/// Real answers the generated requests cannot reach (they never know the PIN) are valid under the
/// document too: credentials/info, authorize, signHash and their errors; the right PIN still
/// authorizes after the run (nothing in it locked or broke the credential).
fn real_answers_match(env: &Env, st: &std::path::Path, tok: &str, cred: &str) {
    let venv_python = st.with_file_name("python");
    let py = if venv_python.exists() { venv_python } else { "python3".into() };
    let check = |path: &str, status: &str, answer: &Value| {
        let (ok, out) =
            run(Command::new(&py).args(["-c", VALIDATE, path, status, &answer.to_string(), &env.base_url()]));
        assert!(ok && out.contains("valid"), "{path} {status} {answer} against the document: {out}");
    };
    let json = Some("application/json");
    let body = json!({"credentialID": cred, "certificates": "chain"});
    let (s, info) = post(env, tok, "/csc/v2/credentials/info", json, &body.to_string());
    assert_eq!(s, 200, "{info}");
    check("/csc/v2/credentials/info", "200", &info);
    let h = kyso_pki::b64::encode(&[5u8; 32]);
    let body =
        json!({"credentialID": cred, "numSignatures": 1, "hashes": [h], "authData": [{"id": "PIN", "value": PIN}]});
    let (s, a) = post(env, tok, "/csc/v2/credentials/authorize", json, &body.to_string());
    assert_eq!(s, 200, "{a}");
    check("/csc/v2/credentials/authorize", "200", &a);
    let body = json!({"credentialID": cred, "SAD": a["SAD"], "hashes": [h], "signAlgo": "1.2.840.10045.4.3.2"});
    let (s, r) = post(env, tok, "/csc/v2/signatures/signHash", json, &body.to_string());
    assert_eq!(s, 200, "{r}");
    check("/csc/v2/signatures/signHash", "200", &r);
    let (s, r) = post(env, tok, "/csc/v2/signatures/signHash", json, &body.to_string());
    assert_eq!(s, 400, "a spent SAD: {r}");
    check("/csc/v2/signatures/signHash", "400", &r);
    let body = json!({"credentialID": cred, "hashes": [h], "PIN": "000000"});
    let (s, r) = post(env, tok, "/csc/v2/credentials/authorize", json, &body.to_string());
    assert_eq!((s, r["error"].as_str()), (400, Some("invalid_pin")), "{r}");
    check("/csc/v2/credentials/authorize", "400", &r);
}

#[test]
fn csc_api_keeps_its_openapi_document() {
    let env = Env::new("csc-openapi");
    env.init();
    let cred = activate(&env);
    let tok = env.ok(&["credential", "token", "--id", ID]).trim().to_string();
    let _server = env.serve();
    let json = Some("application/json");

    // `certificates`: none, single (the default) or chain; any other value is a 400 naming it.
    for (path, base) in [
        ("/csc/v2/credentials/list", json!({"credentialInfo": true})),
        ("/csc/v2/credentials/info", json!({"credentialID": cred})),
    ] {
        let mut bad = base.clone();
        bad["certificates"] = json!("all");
        let (s, r) = post(&env, &tok, path, json, &bad.to_string());
        assert_eq!((s, r["error"].as_str()), (400, Some("invalid_request")), "{path}: {r}");
        let d = r["error_description"].as_str().unwrap();
        assert!(d.contains("certificates") && d.contains("`all`") && d.contains("chain"), "{path}: {d}");
        for (value, n) in [("none", None), ("single", Some(1)), ("chain", Some(2))] {
            let mut ok = base.clone();
            ok["certificates"] = json!(value);
            let (s, r) = post(&env, &tok, path, json, &ok.to_string());
            assert_eq!(s, 200, "{path} {value}: {r}");
            let info = if path.ends_with("list") { &r["credentialInfos"][0] } else { &r };
            assert_eq!(info["cert"]["certificates"].as_array().map(Vec::len), n, "{path} {value}: {r}");
        }
    }
    // credentialID: 1 to 256 characters.
    for id in [String::new(), "c".repeat(257)] {
        let (s, r) = post(&env, &tok, "/csc/v2/credentials/info", json, &json!({"credentialID": id}).to_string());
        assert_eq!(s, 400, "{r}");
        assert!(r["error_description"].as_str().unwrap().contains("credentialID"), "{r}");
    }
    // JSON only: another content type is a 415 naming it; a missing one is read as JSON.
    let (s, r) = post(&env, &tok, "/csc/v2/credentials/list", Some("text/plain"), "{}");
    assert_eq!((s, r["error"].as_str()), (415, Some("invalid_request")), "{r}");
    assert!(r["error_description"].as_str().unwrap().contains("text/plain"), "{r}");
    let (s, r) = post(&env, &tok, "/csc/v2/credentials/list", None, "");
    assert_eq!((s, r["credentialIDs"].clone()), (200, json!([cred])), "{r}");
    // A wrong verb: 405 in CSC's shape, with the Allow header RFC 9110 requires.
    let (s, head, body) = http_raw(&format!("{}/csc/v2/credentials/list", env.base_url()), "GET", "", "");
    assert_eq!(s, 405, "{head}");
    assert!(head.to_ascii_lowercase().contains("\nallow: post"), "{head}");
    assert!(body.contains("\"error\":\"invalid_request\""), "{body}");

    // The README's example, run as written (only the address is this server's).
    if require_tool("curl").is_some() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
        let line = readme
            .lines()
            .find(|l| l.starts_with("curl ") && l.contains("/csc/v2/credentials/list"))
            .expect("README: a curl example for credentials/list");
        let line = line.replace("http://127.0.0.1:8080", &env.base_url());
        let (ok, out) = run(Command::new("sh").arg("-c").arg(&line).env("TOKEN", &tok));
        assert!(ok, "{line}: {out}");
        let v: Value = serde_json::from_str(out.trim()).unwrap_or(Value::Null);
        assert_eq!(v["credentialIDs"], json!([cred]), "the README's example: {out}");
    }

    // schemathesis, every check, against the live server.
    let Some(st) = require_tool("schemathesis") else { return };
    let report = env.path("schemathesis");
    let hooks = env.path("csc_hooks.py");
    std::fs::write(&hooks, SEMANTIC_400).unwrap();
    let config = env.path("schemathesis.toml");
    std::fs::write(
        &config,
        "[checks.positive_data_acceptance]\nexpected-statuses = [\"2xx\", \"400\", \"401\", \"403\", \"404\", \"429\", \"503\"]\n",
    )
    .unwrap();
    let (ok, out) = run(Command::new(&st)
        .current_dir(&env.dir)
        .env("SCHEMATHESIS_HOOKS", &hooks)
        .arg("--config-file")
        .arg(&config)
        .args(["--no-color", "run", &format!("{}/csc/v2/openapi.json", env.base_url())])
        .args(["--url", &env.base_url()])
        .args(["--header", &format!("Authorization: Bearer {tok}")])
        .args(["--checks", "all"])
        .args(["--max-examples", "100", "--seed", "15", "--workers", "2"])
        .args(["--generation-database", "none", "--request-timeout", "30"])
        .arg("--report-dir")
        .arg(&report));
    assert!(ok, "schemathesis found failures:\n{out}");
    assert!(out.contains("No issues found") || out.contains("passed"), "{out}");
    real_answers_match(&env, &st, &tok, &cred);
}
