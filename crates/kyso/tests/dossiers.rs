//! Dossiers end to end on `kyso serve --demo` (issue 17): a three-file "Cấp phiếu lý lịch tư
//! pháp" dossier — the form signed by the applicant (PAdES, kyso's demo CA), a scan with the
//! applicant's detached `.p7s`, the authorisation signed by someone else — through
//! `POST /api/v1/dossiers` as JSON and as multipart (the same answer, and `GET` gives it again),
//! then through the desk page in Chromium (Playwright, 360 px, Vietnamese), where the officer sees
//! which file lacks the applicant's signature. Refusals (token, procedure, ID number, size) are
//! named in Vietnamese; the full ID number never reaches a page list or the log (the API on SQLite
//! and PostgreSQL). Then the KPI:
//! the dashboard and the weekly report's figures count the dossiers and the holders who signed.

mod support;

use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use support::signing::{activate, sign_dossier, sign_pdf};
use support::web::{masked, Demo, Visitor};
use support::{http_with, minimal_pdf, on_both_backends, Backend, Env};

const COMMUNE: &str = "01960";
const OTHER: &str = "079190000777";

struct Dossier {
    applicant: String,
    form: Vec<u8>,
    scan: Vec<u8>,
    scan_p7s: Vec<u8>,
    authorisation: Vec<u8>,
}

/// The applicant (the demo's level-2 resident) and someone else get credentials; the applicant
/// signs the form (PDF, B-T) and the scan (detached CAdES), the other person the authorisation.
fn prepare(env: &Env, applicant: &str) -> Dossier {
    let cred = activate(env, applicant, "Nguyễn Văn Dân");
    let other = activate(env, OTHER, "Trần Thị Khác");
    let (form, auth) = (env.path("to-khai.pdf"), env.path("uy-quyen.pdf"));
    std::fs::write(&form, minimal_pdf("To khai ly lich tu phap")).unwrap();
    std::fs::write(&auth, minimal_pdf("Van ban uy quyen")).unwrap();
    let (form_signed, auth_signed) = (env.path("to-khai-da-ky.pdf"), env.path("uy-quyen-da-ky.pdf"));
    sign_pdf(env, applicant, &cred, &form, &form_signed);
    sign_pdf(env, OTHER, &other, &auth, &auth_signed);
    let scan = env.path("cccd.jpg");
    std::fs::write(&scan, b"\xff\xd8\xff\xe0 not really a JPEG: a scan of the ID card").unwrap();
    let p7s = env.path("cccd.jpg.p7s");
    sign_dossier(env, "sign-file", "b-b", applicant, &cred, &scan, &p7s);
    Dossier {
        applicant: applicant.to_string(),
        form: std::fs::read(form_signed).unwrap(),
        scan: std::fs::read(scan).unwrap(),
        scan_p7s: std::fs::read(p7s).unwrap(),
        authorisation: std::fs::read(auth_signed).unwrap(),
    }
}

fn b64(d: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(d)
}

fn as_json(d: &Dossier) -> Value {
    json!({"procedure": "ly-lich-tu-phap", "applicant_id": d.applicant, "unit": COMMUNE, "files": [
        {"role": "to-khai", "file_name": "to-khai.pdf", "content": b64(&d.form)},
        {"role": "cccd", "file_name": "cccd.jpg", "content": b64(&d.scan), "signature": b64(&d.scan_p7s)},
        {"role": "uy-quyen", "file_name": "uy-quyen.pdf", "content": b64(&d.authorisation)},
    ]})
}

fn multipart(d: &Dossier) -> (String, Vec<u8>) {
    let boundary = "kysoDossierBoundary7";
    let mut body = Vec::new();
    let text = |body: &mut Vec<u8>, name: &str, v: &str| {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{v}\r\n").as_bytes(),
        )
    };
    let file = |body: &mut Vec<u8>, name: &str, fname: &str, data: &[u8]| {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{fname}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
        body.extend(data);
        body.extend(b"\r\n");
    };
    text(&mut body, "procedure", "ly-lich-tu-phap");
    text(&mut body, "applicant_id", &d.applicant);
    text(&mut body, "unit", COMMUNE);
    file(&mut body, "file.to-khai", "to-khai.pdf", &d.form);
    file(&mut body, "file.cccd", "cccd.jpg", &d.scan);
    file(&mut body, "signature.cccd", "cccd.jpg.p7s", &d.scan_p7s);
    file(&mut body, "file.uy-quyen", "uy-quyen.pdf", &d.authorisation);
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn call(port: u16, method: &str, path: &str, token: &str, ct: Option<&str>, body: &[u8]) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    let (s, b) =
        http_with(method, &format!("http://127.0.0.1:{port}{path}"), ct, &[("Authorization", &auth)], body).unwrap();
    (s, serde_json::from_slice(&b).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&b).into())))
}

/// The answer without what differs between two submissions of the same files.
fn comparable(v: &Value) -> Value {
    let mut v = v.clone();
    for k in ["id", "received_at", "channel"] {
        v.as_object_mut().unwrap().remove(k);
    }
    v
}

fn check_answer(v: &Value, d: &Dossier) {
    assert_eq!(v["fully_signed"], json!(false), "{v:#}");
    assert_eq!(v["needs_signatures"], json!(true));
    assert_eq!(v["applicant_id_masked"], json!(masked(&d.applicant)));
    assert!(!v.to_string().contains(&d.applicant), "the full ID number never leaves: {v}");
    let verdicts: Vec<(&str, &str, bool)> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["role"].as_str().unwrap(), f["verdict"].as_str().unwrap(), f["satisfied"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        vec![
            ("to-khai", "signed_by_applicant", true),
            ("cccd", "signed_by_applicant", true),
            ("uy-quyen", "signed_by_other", false)
        ],
        "{v:#}"
    );
    let other = &v["files"][2];
    assert!(other["reason"].as_str().unwrap().contains(&masked(OTHER)), "{other}");
    assert!(other["reason"].as_str().unwrap().contains("Thiếu chữ ký của người nộp hồ sơ"), "{other}");
    let sha = |data: &[u8]| {
        let o = Command::new("sha256sum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        let mut o = o;
        o.stdin.take().unwrap().write_all(data).unwrap();
        String::from_utf8(o.wait_with_output().unwrap().stdout).unwrap().split_whitespace().next().unwrap().to_string()
    };
    assert_eq!(v["files"][0]["sha256"], json!(sha(&d.form)), "the stored hash is the file's SHA-256 (sha256sum)");
    assert_eq!(v["files"][1]["signature_sha256"], json!(sha(&d.scan_p7s)));
    assert_eq!(
        v["missing"],
        json!([{"kind": "signature", "role": "uy-quyen", "name": "Văn bản ủy quyền", "signer": "applicant",
            "verdict": "signed_by_other",
            "message": "«Văn bản ủy quyền»: thiếu chữ ký hợp lệ của người nộp hồ sơ (người khác ký).",
            "message_en": "«Văn bản ủy quyền»: no valid signature by the applicant (signed by someone else)."}])
    );
}

/// The answer validates against its schema in `openapi/dossiers.json` (jsonschema-rs, JSON
/// Schema 2020-12, as OpenAPI 3.1 uses it).
fn conforms(schema: &str, answer: &Value) {
    let Some(py) =
        kyso_testkit::tools::python_with("jsonschema_rs").or_else(|| kyso_testkit::tools::skip("jsonschema_rs"))
    else {
        return;
    };
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../kyso-server/openapi/dossiers.json");
    let script = "import json, sys, jsonschema_rs\n\
        doc = json.load(open(sys.argv[1]))\n\
        s = {'$schema': 'https://json-schema.org/draft/2020-12/schema', '$ref': '#/components/schemas/' + sys.argv[2], 'components': doc['components']}\n\
        v = jsonschema_rs.Draft202012Validator(s)\n\
        errors = [str(e) for e in v.iter_errors(json.loads(sys.stdin.read()))]\n\
        print('\\n'.join(errors) or 'valid')\n";
    let mut child = Command::new(py)
        .args(["-c", script])
        .arg(&doc)
        .arg(schema)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(answer.to_string().as_bytes()).unwrap();
    let out = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    assert_eq!(out.trim(), "valid", "{schema}: {answer}");
}

fn start_demo(env: &Env) -> Demo {
    Demo::start(env, env.port, Some("info"), |_| {})
}

on_both_backends!(
    the_portal_api_checks_a_dossier_as_json_and_multipart,
    concurrent_dossiers_are_each_answered_stored_and_audited_once
);

fn the_portal_api_checks_a_dossier_as_json_and_multipart(b: Backend) {
    let Some(env) = Env::on("dossier-api", b) else { return };
    let demo = start_demo(&env);
    let d = prepare(&env, &demo.banner.l2);
    let token = std::fs::read_to_string(env.data_dir().join("operator-token")).unwrap();
    let token = token.trim();
    let port = demo.port;

    let body = as_json(&d).to_string();
    let (s, by_json) = call(port, "POST", "/api/v1/dossiers", token, Some("application/json"), body.as_bytes());
    assert_eq!(s, 201, "{by_json}");
    check_answer(&by_json, &d);
    let (ct, mp) = multipart(&d);
    let (s, by_form) = call(port, "POST", "/api/v1/dossiers", token, Some(&ct), &mp);
    assert_eq!(s, 201, "{by_form}");
    assert_eq!(comparable(&by_form), comparable(&by_json), "multipart and JSON give the same answer");
    let id = by_json["id"].as_i64().unwrap();
    let (s, again) = call(port, "GET", &format!("/api/v1/dossiers/{id}"), token, None, b"");
    assert_eq!((s, &again), (200, &by_json), "GET answers as the check did");

    conforms("Dossier", &by_json);

    // refusals, named in Vietnamese (and English)
    let (s, v) = call(port, "POST", "/api/v1/dossiers", "wrong", Some("application/json"), body.as_bytes());
    assert_eq!((s, v["error"].as_str()), (401, Some("invalid_token")));
    assert_eq!(call(port, "GET", "/api/v1/dossiers/999", token, None, b"").0, 404);
    let mut bad = as_json(&d);
    bad["procedure"] = json!("khong-co");
    let (s, v) = call(port, "POST", "/api/v1/dossiers", token, Some("application/json"), bad.to_string().as_bytes());
    assert_eq!((s, v["field"].as_str()), (400, Some("procedure")), "{v}");
    conforms("DossierError", &v);
    assert!(v["message"].as_str().unwrap().contains("không có thủ tục «khong-co»"), "{v}");
    let mut bad = as_json(&d);
    bad["applicant_id"] = json!("01919000");
    let (s, v) = call(port, "POST", "/api/v1/dossiers", token, Some("application/json"), bad.to_string().as_bytes());
    assert_eq!((s, v["field"].as_str()), (400, Some("applicant_id")), "{v}");
    let mut bad = as_json(&d);
    bad["files"][0]["role"] = json!(format!("x{}", "y".repeat(100_000)));
    let (s, v) = call(port, "POST", "/api/v1/dossiers", token, Some("application/json"), bad.to_string().as_bytes());
    assert!(s == 400 && v.to_string().len() < 1_000, "an unknown role is named, cut short: {v}");
    let mut bad = as_json(&d);
    bad["files"][1]["role"] = json!("to-khai");
    let (s, v) = call(port, "POST", "/api/v1/dossiers", token, Some("application/json"), bad.to_string().as_bytes());
    assert!(s == 400 && v["message"].as_str().unwrap().contains("given twice"), "{v}");
    let mut big = as_json(&d);
    big["files"][0]["content"] = json!(b64(&vec![b'%'; (16 << 20) + 1]));
    let (s, v) = call(port, "POST", "/api/v1/dossiers", token, Some("application/json"), big.to_string().as_bytes());
    assert_eq!(s, 413, "{v}");
    assert!(v["message"].as_str().unwrap().contains("tối đa 16 MB"), "{v}");
    let mut bad = as_json(&d);
    bad["files"][2]["content"] = json!("không phải base64");
    let (s, v) = call(port, "POST", "/api/v1/dossiers", token, Some("application/json"), bad.to_string().as_bytes());
    assert!(s == 400 && v["message"].as_str().unwrap().contains("files[2].content"), "{v}");

    // the audit log has each dossier, masked; the server log never has the full number
    let audit = env.ok(&["audit", "show", "--action", "dossier.", "--limit", "100000"]);
    assert!(audit.contains("dossier.check") && audit.contains(&masked(&d.applicant)), "{audit}");
    assert!(!audit.contains(&d.applicant));
    assert!(!demo.log_text().contains(&d.applicant), "the server log carries the ID number masked only");
    assert!(demo.log_text().contains("dossier checked"));

    // a procedure from flags, listed
    env.ok(&[
        "procedure",
        "add",
        "--code",
        "thu-nghiem",
        "--name",
        "Thủ tục thử nghiệm",
        "--file-rule",
        "don:Đơn đề nghị:applicant",
        "--file-rule",
        "phu-luc:Phụ lục:none:optional",
    ]);
    let list: Value = serde_json::from_str(&env.ok(&["--json", "procedure", "list"])).unwrap();
    let added = list.as_array().unwrap().iter().find(|p| p["code"] == "thu-nghiem").expect("listed");
    assert_eq!(added["files"][1], json!({"role": "phu-luc", "name": "Phụ lục", "signer": "none", "required": false}));
    let o = env.kyso(&["procedure", "add", "--code", "x", "--name", "y", "--file-rule", "a:b:ai"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("applicant, organisation, none"));

    // a third dossier without the optional authorisation: fully signed
    let mut full = as_json(&d);
    full["files"].as_array_mut().unwrap().truncate(2);
    let (s, v) = call(port, "POST", "/api/v1/dossiers", token, Some("application/json"), full.to_string().as_bytes());
    assert_eq!((s, &v["fully_signed"], &v["missing"]), (201, &json!(true), &json!([])), "{v:#}");
    kpi(port, by_json["day"].as_str().unwrap());
}

/// The dossiers stored for the test's commune, read from the store itself (not through the API),
/// each with its number of file rows.
fn stored(env: &Env) -> Vec<(i64, usize)> {
    let url = match &env.database_url {
        Some(u) => u.clone(),
        None => format!("sqlite://{}/kyso.db", env.data_dir().display()),
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let store = kyso_store::Store::open(&url).await.unwrap();
        let mut out = Vec::new();
        for row in store.recent_dossiers(&[COMMUNE.to_string()], 10_000).await.unwrap() {
            let (_, files) = store.dossier(row.id).await.unwrap().unwrap();
            out.push((row.id, files.len()));
        }
        store.close().await;
        out
    })
}

/// The `dossier.check` audit rows, and whether the audit chain verifies.
fn audited(env: &Env) -> (usize, Value) {
    let rows = env.ok(&["--json", "audit", "show", "--action", "dossier.check", "--limit", "100000"]);
    let rows: Value = serde_json::from_str(&rows).unwrap();
    let verified: Value = serde_json::from_str(&env.ok(&["--json", "audit", "verify"])).unwrap();
    (rows.as_array().map_or(0, Vec::len), verified)
}

/// 16 requests at once, released together: `(status, answer)` each, in request order.
fn at_once(port: u16, token: &str, requests: &[(String, Vec<u8>)]) -> Vec<(u16, Value)> {
    let gate = std::sync::Barrier::new(requests.len());
    std::thread::scope(|sc| {
        let handles: Vec<_> = requests
            .iter()
            .map(|(ct, body)| {
                let gate = &gate;
                sc.spawn(move || {
                    gate.wait();
                    call(port, "POST", "/api/v1/dossiers", token, Some(ct), body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Issue 17 follow-up: the portal posting 16 dossiers at once — the same three-file dossier
/// (missing the applicant's signature on one file) and a fully signed two-file one, as JSON and
/// multipart — gets every answer right, each stored exactly once with its files and audit row,
/// the audit chain intact. Then with one validation slot and no waiting, the pool's bound holds:
/// what does not get a slot is told to come back (503 + Retry-After), nothing else fails, and
/// exactly the accepted ones are stored.
fn concurrent_dossiers_are_each_answered_stored_and_audited_once(b: Backend) {
    let Some(env) = Env::on("dossier-concurrent", b) else { return };
    // two validation slots, a long wait: sixteen at once queue for them rather than fail
    let demo = Demo::start(&env, env.port, None, |c| {
        c.env("KYSO_POOL_VALIDATE", "2").env("KYSO_POOL_WAIT_MS", "600000");
    });
    let d = prepare(&env, &demo.banner.l2);
    let token = std::fs::read_to_string(env.data_dir().join("operator-token")).unwrap();
    let token = token.trim();
    let partial = as_json(&d);
    let mut full = as_json(&d);
    full["files"].as_array_mut().unwrap().truncate(2);
    let json_ct = "application/json".to_string();
    let requests: Vec<(String, Vec<u8>)> = (0..16)
        .map(|i| match i % 4 {
            0 => (json_ct.clone(), partial.to_string().into_bytes()),
            1 => (json_ct.clone(), full.to_string().into_bytes()),
            2 => multipart(&d),
            _ => (json_ct.clone(), full.to_string().into_bytes()),
        })
        .collect();
    let before = stored(&env).len();
    let answers = at_once(demo.port, token, &requests);
    let mut ids = std::collections::BTreeSet::new();
    for (i, (s, v)) in answers.iter().enumerate() {
        assert_eq!(*s, 201, "request {i}: {v}");
        if i % 2 == 0 {
            check_answer(v, &d);
        } else {
            assert_eq!((&v["fully_signed"], &v["missing"]), (&json!(true), &json!([])), "request {i}: {v:#}");
            assert_eq!(v["files"].as_array().unwrap().len(), 2, "{v}");
        }
        assert!(ids.insert(v["id"].as_i64().unwrap()), "request {i}: a dossier id answered twice: {v}");
    }
    // each answer is what was stored under its id, and nothing else was stored
    for (s, v) in &answers {
        let id = v["id"].as_i64().unwrap();
        let (st, again) = call(demo.port, "GET", &format!("/api/v1/dossiers/{id}"), token, None, b"");
        assert_eq!((st, &again), (200, v), "dossier {id} as stored (answered {s})");
    }
    let rows = stored(&env);
    assert_eq!(rows.len(), before + 16, "exactly one stored dossier per accepted request: {rows:?}");
    for (id, files) in rows.iter().filter(|(id, _)| ids.contains(id)) {
        let want = if answers.iter().any(|(_, v)| v["id"] == json!(id) && v["files"].as_array().unwrap().len() == 3) {
            3
        } else {
            2
        };
        assert_eq!(*files, want, "dossier {id}'s file rows");
    }
    let (audit_rows, verified) = audited(&env);
    assert_eq!(audit_rows, rows.len(), "one audit row per stored dossier");
    assert_eq!(verified["ok"], json!(true), "the audit chain verifies: {verified}");
    drop(demo);

    // one slot, no waiting: the bound holds; what is accepted is stored, the rest is told to retry
    let (server, _) = support::web::serve(&env, env.port, false, support::web::Log::None, false, |c| {
        c.env("KYSO_POOL_VALIDATE", "1").env("KYSO_POOL_WAIT_MS", "1");
    });
    let mut accepted = 0;
    let mut turned_away = 0;
    for _round in 0..5 {
        let before = stored(&env).len();
        let answers = at_once(env.port, token, &requests);
        let mut ok = 0;
        for (i, (s, v)) in answers.iter().enumerate() {
            match s {
                201 => {
                    if i % 2 == 0 {
                        check_answer(v, &d);
                    } else {
                        assert_eq!(v["fully_signed"], json!(true), "{v}");
                    }
                    ok += 1;
                }
                503 => {
                    assert_eq!(v["error"], json!("temporarily_unavailable"), "{v}");
                    let text = v["error_description"].as_str().unwrap_or_default();
                    assert!(text.contains("busy with other validation work; retry in"), "a full pool is named: {v}");
                    assert!(v["message"].as_str().is_some_and(|m| m.contains("Máy chủ đang bận")), "{v}");
                    turned_away += 1;
                }
                other => panic!("request {i}: status {other}: {v}"),
            }
        }
        assert_eq!(stored(&env).len(), before + ok, "stored exactly the accepted ones");
        accepted += ok;
        if turned_away > 0 && accepted > 0 {
            break;
        }
    }
    assert!(turned_away > 0, "sixteen at once through one slot without waiting: some are turned away");
    assert!(accepted > 0, "and some get through");
    let (audit_rows, verified) = audited(&env);
    assert_eq!(audit_rows, stored(&env).len());
    assert_eq!(verified["ok"], json!(true), "{verified}");
    drop(server);
}

fn page(port: u16, path: &str) -> (u16, String) {
    let (s, b) = support::http("GET", &format!("http://127.0.0.1:{port}{path}"), None, &[]).unwrap();
    (s, String::from_utf8_lossy(&b).into_owned())
}

/// The KPI: three dossiers needing signatures today, one fully signed, on the dashboard's day,
/// week and month and in the weekly and monthly reports' figures; one holder of Hiệp Lực signed
/// (the applicant: the other signer is no resident), beside the count of holders.
fn kpi(port: u16, today: &str) {
    let (s, dash) = page(port, &format!("/campaign?date={today}"));
    assert_eq!(s, 200, "{dash}");
    let table =
        dash.split("class=\"signed-dossiers\"").nth(1).expect("the KPI table").split("</table>").next().unwrap();
    let rows: Vec<Vec<String>> = table
        .split("<tr>")
        .skip(2)
        .map(|r| {
            r.split("<td")
                .skip(1)
                .map(|c| c.split('>').nth(1).unwrap().split('<').next().unwrap().to_string())
                .collect()
        })
        .collect();
    for (row, name) in rows.iter().zip(["Ngày", "Tuần (thứ Hai – Chủ nhật)", "Tháng"]) {
        assert_eq!(row, &vec![name.to_string(), "3".into(), "1".into(), "33,33 %".into()], "{table}");
    }
    let signers = dash.split("class=\"signers\">").nth(1).unwrap().split("</p>").next().unwrap();
    assert!(signers.contains("<strong>1</strong> /"), "one holder signed this month: {signers}");
    let holders: u64 = signers
        .split("</strong> / ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .replace('.', "")
        .parse()
        .unwrap();
    assert!(holders > 1, "{signers}");

    let month = format!("{}01", &today[..8]);
    let (s, monthly) = page(port, &format!("/campaign/reports/unit?unit={COMMUNE}&freq=monthly&period={month}"));
    assert_eq!(s, 200, "{monthly}");
    // the weekly period holding today starts on the rules' weekday: the one start the page takes
    let day = kyso_calendar::day_number(today).unwrap();
    let weekly = (0..7)
        .map(|k| kyso_calendar::iso_date(day - k))
        .map(|start| page(port, &format!("/campaign/reports/unit?unit={COMMUNE}&freq=weekly&period={start}")))
        .find(|(s, _)| *s == 200)
        .expect("a weekly period starts in the last 7 days")
        .1;
    for report in [&monthly, &weekly] {
        let cell = |label: &str| {
            let after = report.split(label).nth(1).unwrap_or_else(|| panic!("{label} in {report}"));
            after.split("<td class=\"n\">").nth(1).unwrap().split('<').next().unwrap().to_string()
        };
        assert_eq!(cell("Hồ sơ cần ký số trong kỳ / đã ký đầy đủ"), "3 / 1");
        assert_eq!(cell("Tỷ lệ hồ sơ được ký số đầy đủ"), "33,33 %");
        assert_eq!(cell("Người có chứng thư đã ký số trong kỳ / người có chứng thư"), format!("1 / {holders}"));
    }
}

#[test]
fn a_desk_officer_sees_which_file_lacks_the_applicant_signature_in_chromium() {
    let py = match (Path::new("/usr/bin/chromium").exists(), kyso_testkit::tools::python_with("playwright")) {
        (true, Some(py)) => py,
        _ if std::env::var("KYSO_REQUIRE_BROWSER").as_deref() == Ok("1") => {
            panic!("Chromium (/usr/bin/chromium) and Playwright in .ci/venv are required (run .ci/run)")
        }
        _ => {
            return eprintln!("NOTICE: Chromium or Playwright missing; skipping the desk's dossier check (run .ci/run)")
        }
    };
    let env = Env::new("dossier-desk");
    let demo = start_demo(&env);
    let d = prepare(&env, &demo.banner.l2);
    for (name, data) in [
        ("to-khai.pdf", &d.form),
        ("cccd.jpg", &d.scan),
        ("cccd.jpg.p7s", &d.scan_p7s),
        ("uy-quyen.pdf", &d.authorisation),
    ] {
        std::fs::write(env.path(&format!("up-{name}")), data).unwrap();
    }
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e-screenshots");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/dossier.py");
    let o = Command::new(&py)
        .arg(&script)
        .args([&format!("http://127.0.0.1:{}", demo.port), "hotro.hieplu", demo.password(), &d.applicant])
        .arg(&env.dir)
        .arg(&shots)
        .output()
        .expect("run playwright");
    let log = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "the desk's dossier check failed in Chromium:\n{log}");
    assert!(log.contains("dossier complete"), "{log}");
    assert!(shots.join("dossier-2-verdict.png").exists());

    // the desk's list of recent dossiers shows the applicant masked, and the dossier again
    let mut v = Visitor::login(
        demo.port,
        "/staff/login",
        &[("username", "hotro.hieplu"), ("password", demo.password())],
        "/desk",
    );
    let list = v.get("/desk/dossiers").text();
    assert!(list.contains(&masked(&d.applicant)) && !list.contains(&d.applicant), "{list}");
    assert!(list.contains("Thiếu chữ ký") && list.contains("Cấp phiếu lý lịch tư pháp"), "{list}");
    let page = v.get("/desk/dossiers/1").text();
    assert!(page.contains("THIẾU CHỮ KÝ CỦA NGƯỜI NỘP HỒ SƠ") && page.contains("uy-quyen.pdf"), "{page}");
    // a bad ID number and an over-large file are refused on the page, in Vietnamese
    let csrf = v.get("/desk/dossiers?procedure=ly-lich-tu-phap").csrf();
    let post = |applicant: &str, file: &[u8]| {
        let b = "deskBoundary3";
        let mut body = Vec::new();
        for (name, value) in [("csrf", csrf.as_str()), ("procedure", "ly-lich-tu-phap"), ("applicant_id", applicant)] {
            body.extend(
                format!("--{b}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
            );
        }
        body.extend(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"file.to-khai\"; filename=\"t.pdf\"\r\n\r\n")
                .as_bytes(),
        );
        body.extend(file);
        body.extend(format!("\r\n--{b}--\r\n").as_bytes());
        let url = format!("http://127.0.0.1:{}/desk/dossiers", demo.port);
        let ct = format!("multipart/form-data; boundary={b}");
        let (s, page) = http_with("POST", &url, Some(&ct), &[("Cookie", &v.cookies())], &body).unwrap();
        (s, String::from_utf8_lossy(&page).into_owned())
    };
    let (s, page) = post("12345", &d.form);
    assert_eq!(s, 400, "{page}");
    assert!(
        page.contains("applicant_id: số định danh phải gồm đúng 12 chữ số") && page.contains("value=\"12345\""),
        "{page}"
    );
    let (s, page) = post(&d.applicant, &vec![b'%'; (16 << 20) + 1]);
    assert_eq!(s, 413);
    assert!(page.contains("mỗi tệp tối đa 16 MB"), "{page}");

    // another unit's officer does not see it
    let mut province = Visitor::login(
        demo.port,
        "/staff/login",
        &[("username", "canbo.tinh"), ("password", demo.password())],
        "/desk",
    );
    assert_eq!(province.get("/desk/dossiers/1").status, 404);
}

/// `kyso bench dossier` (docs/BENCHMARKS.md) runs end to end on a few dossiers — it refuses to
/// report unless every file comes out signed by the applicant — and its JSON holds the figures of
/// both kyso paths; with pyHanko present, pyHanko validated the same kept files in the same run.
/// No figure is compared: timings belong to the benchmark, not to tests.
#[test]
fn the_dossier_benchmark_runs_and_reports() {
    let env = Env::new("dossier-bench");
    let out = env.path("bench-files");
    let py = kyso_testkit::tools::python_with("pyhanko").or_else(|| kyso_testkit::tools::skip("pyHanko"));
    let mut args = vec!["--json", "bench", "dossier", "--count", "3", "--pyhanko-count", "1"];
    args.extend(["--out-dir", out.to_str().unwrap()]);
    if let Some(p) = &py {
        args.extend(["--pyhanko", p.to_str().unwrap()]);
    }
    let stdout = env.ok(&args);
    let v: Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.get("check").is_some())
        .unwrap_or_else(|| panic!("no figures in: {stdout}"));
    assert_eq!((v["files"].as_u64(), v["level"].as_str()), (Some(3), Some("B-LT")), "{v}");
    for path in ["check", "assess"] {
        let f = &v[path];
        assert_eq!(f["dossiers"], json!(3), "{v}");
        let (p50, p99) = (f["p50_ms"].as_f64().unwrap(), f["p99_ms"].as_f64().unwrap());
        assert!(p50 > 0.0 && p50 <= p99 && f["per_second"].as_f64().unwrap() > 0.0, "{path}: {f}");
    }
    if py.is_some() {
        assert_eq!(v["pyhanko"]["figures"]["dossiers"], json!(1), "{v}");
        assert!(v["pyhanko"]["version"].as_str().is_some_and(|s| s.starts_with("0.")), "{v}");
        assert!(v["ratio_assess"].as_f64().is_some_and(|r| r > 0.0), "{v}");
    }
    for f in ["to-khai.pdf", "cccd.pdf", "uy-quyen.pdf", "root.pem"] {
        assert!(out.join(f).is_file(), "{f} kept in --out-dir");
    }
    let pdf = std::fs::read(out.join("to-khai.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF-") && pdf.windows(5).any(|w| w == b"/DSS "), "a B-LT PDF has a DSS");
}
