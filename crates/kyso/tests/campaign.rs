//! The campaign tracker end to end: imports that keep good rows and name bad ones, a plan with an
//! ambiguous target, holders counted from real issuance and revocation, the masked worklist, the
//! append-only visit log, and the dashboard pages.

mod support;

use serde_json::Value;
use support::{http, http_with, on_both_backends, Backend, Env};

const UNITS: &str = "province_code,province_name,commune_code,commune_name,commune_type,lat,lon,area_km2\n\
19,Tỉnh Thái Nguyên,01960,Xã Hiệp Lực,Xã,22.3273,105.968,105.02\n\
19,Tỉnh Thái Nguyên,1961,Xã Sai Mã,Xã,22.3,105.9,10\n\
19,Tỉnh Thái Nguyên,01849,Xã Phong Quang,Xã,22.2038,105.756,153.46\n\
19,Tỉnh Thái Nguyên,01962,Xã Khác,Thôn,22.3,105.9,10\n\
91,Tỉnh An Giang,30856,Xã Tân Hội,Xã,10.3,105.2,50.5\n\
19,Tỉnh Thái Nguyên,01960,Xã Trùng,Xã,22.3,105.9,10\n";

const HAMLETS: &str = "commune_code,hamlet_code,hamlet_name\n01960,T01,Xóm Đồng Tâm\n01960,T02,Xóm Ba Họ\n";

// Two people in T01 household 1 hold certificates (An twice; Bình's is revoked later); Chi and
// the child are in household 2; Dũng lives in T02.
use support::hiep_luc::{AN, BINH};
const CHI: &str = "019195000003";
const DUNG: &str = "019080000004";
/// Hiệp Lực's register: An, Bình, Chi, a bad number, a child, Dũng, someone of an unknown hamlet,
/// a duplicate.
fn register() -> String {
    let rest = "01908500000,Sai Số,01/01/1985,Nam,T01,2\n\
019215000005,Lê Văn Nhỏ,01/06/2015,Nam,T01,2\n\
019080000004,Phạm Văn Dũng,09/09/1980,Nam,T02,7\n\
019085000006,Lạ Thôn,01/01/1985,Nam,T09,3\n\
019190000001,Trùng Lặp,15/03/1990,Nữ,T01,1\n";
    format!("{}{rest}", support::hiep_luc::REGISTER_HEAD)
}

fn json(out: &str) -> Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn rejected_rows(v: &Value) -> Vec<u64> {
    v["rejected"].as_array().unwrap().iter().map(|r| r["row"].as_u64().unwrap()).collect()
}

fn masked(id: &str) -> String {
    format!("{}****{}", &id[..4], &id[8..])
}

fn worklist(env: &Env, hamlet: &str) -> Vec<String> {
    let v = json(&env.ok(&["--json", "campaign", "worklist", "--commune", "01960", "--hamlet", hamlet]));
    v["entries"].as_array().unwrap().iter().map(|e| e["id_masked"].as_str().unwrap().to_string()).collect()
}

on_both_backends!(
    imports_keep_good_rows_and_name_bad_ones,
    holders_count_real_issuance_and_revocation,
    worklists_list_adults_without_a_certificate_and_visits_append,
    dashboard_and_the_worklist_page_record_visits,
    reconciliation_names_what_the_sources_disagree_on,
);

/// A fresh env with the units, hamlets and Hiệp Lực's register imported; the first imports'
/// answers (units, hamlets, register).
fn imported(b: Backend) -> Option<(Env, Value, Value, String)> {
    let env = Env::on("campaign", b)?;
    env.init();
    std::fs::write(env.path("units.csv"), UNITS).unwrap();
    std::fs::write(env.path("hamlets.csv"), HAMLETS).unwrap();
    std::fs::write(env.path("register.csv"), register()).unwrap();
    let units = json(&env.ok(&["--json", "campaign", "import-units", "units.csv"]));
    let hamlets = json(&env.ok(&["--json", "campaign", "import-hamlets", "hamlets.csv"]));
    let register = env.ok(&["--json", "campaign", "import-register", "register.csv", "--commune", "01960"]);
    Some((env, units, hamlets, register))
}

/// [`imported`], Hiệp Lực's plan, and issuance: An twice (two providers), Bình and Chi once.
/// Bình's serial.
fn issued(b: Backend) -> Option<(Env, String)> {
    let (env, ..) = imported(b)?;
    env.plan_2026("01960");
    env.issue(AN, "vnpt", &[]);
    env.issue(AN, "viettel", &[]);
    let (binh_serial, _) = env.issue(BINH, "vnpt", &[]);
    env.issue(CHI, "viettel", &[]);
    Some((env, binh_serial))
}

/// [`issued`], then Bình's certificate revoked.
fn holders(b: Backend) -> Option<Env> {
    let (env, binh_serial) = issued(b)?;
    env.ok(&["cert", "revoke", &binh_serial, "--reason", "keyCompromise"]);
    Some(env)
}

/// Every import, plan, visit, worklist view and reconciliation is in the audit chain, and the
/// chain holds.
fn audit_intact(env: &Env) {
    let v = json(&env.ok(&["--json", "audit", "verify"]));
    assert_eq!(v["ok"], true, "{v}");
}

/// Units: three bad rows named by row number, the good ones kept; re-import updates in place.
/// Register: bad rows reported with row numbers and masked numbers only; re-import never
/// duplicates.
fn imports_keep_good_rows_and_name_bad_ones(b: Backend) {
    let Some((env, v, hamlets, out)) = imported(b) else { return };
    assert_eq!(v["imported"], 3, "{v}");
    assert_eq!(rejected_rows(&v), [3, 5, 7]);
    assert_eq!(v["rejected"][0]["field"], "commune_code");
    let text = env.ok(&["campaign", "import-units", "units.csv"]);
    assert!(text.contains("imported 3 (new 0, updated 3), rejected 3"), "{text}");
    assert!(text.contains("row 5, field commune_type"), "{text}");

    assert_eq!(hamlets["imported"], 2, "{hamlets}");

    let v = json(&out);
    assert_eq!(v["imported"], 5, "{v}");
    assert_eq!(rejected_rows(&v), [5, 8, 9]);
    assert!(!out.contains(AN), "a clear ID number in the import report: {out}");
    let v = json(&env.ok(&["--json", "campaign", "import-register", "register.csv", "--commune", "01960"]));
    // the same file again: every row known and as it was (issue 18: not "updated 5")
    assert_eq!((v["inserted"].as_u64(), v["updated"].as_u64(), v["unchanged"].as_u64()), (Some(0), Some(0), Some(5)));
    let o = env.kyso(&["campaign", "import-register", "register.csv", "--commune", "99999"]);
    assert!(!o.status.success());
    audit_intact(&env);
}

/// Holders are counted from real issuance (An once for two providers), and a revoked
/// certificate drops out; the plan's ambiguous target shows both readings.
fn holders_count_real_issuance_and_revocation(b: Backend) {
    let Some((env, binh_serial)) = issued(b) else { return };
    let v = json(&env.ok(&["--json", "campaign", "progress", "--commune", "01960"]));
    assert_eq!((v["adults"].as_u64(), v["holders"].as_u64()), (Some(4), Some(3)), "{v}");
    env.ok(&["cert", "revoke", &binh_serial, "--reason", "keyCompromise"]);
    let v = json(&env.ok(&["--json", "campaign", "progress", "--commune", "01960"]));
    // The child (born 2015) is not an adult; An counts once; Bình's revoked certificate drops out.
    assert_eq!((v["adults"].as_u64(), v["holders"].as_u64()), (Some(4), Some(2)), "{v}");
    assert_eq!(v["share"], "50.00 %");
    // 63.80 % of 4 adults: 3 as a level, 1 + 3 as an increment over the baseline.
    assert_eq!(v["plan"]["target"]["level"], 3);
    assert_eq!(v["plan"]["target"]["increment"], 4);
    assert!(v["plan"]["target"]["chosen"].is_null());
    let t01 = v["hamlets"].as_array().unwrap().iter().find(|h| h["code"] == "T01").unwrap().clone();
    assert_eq!((t01["holders"].as_u64(), t01["adults"].as_u64()), (Some(2), Some(3)));
    // Before any issuance nobody held a certificate.
    let v = json(&env.ok(&["--json", "campaign", "progress", "--commune", "01960", "--date", "2026-01-01"]));
    assert_eq!(v["holders"], 0);
    audit_intact(&env);
}

/// Worklists: exactly the adults without a valid certificate, masked, in walking order. Visits
/// are appended; a closing outcome takes the person off the list, a "not at home" does not.
fn worklists_list_adults_without_a_certificate_and_visits_append(b: Backend) {
    let Some(env) = holders(b) else { return };
    assert_eq!(worklist(&env, "T01"), [masked(BINH)]);
    assert_eq!(worklist(&env, "T02"), [masked(DUNG)]);
    let csv = env.ok(&["campaign", "worklist", "--commune", "01960", "--hamlet", "T02", "--csv"]);
    assert_eq!(csv, format!("household,id_masked,full_name,last_outcome,need\n7,{},Phạm Văn Dũng,,\n", masked(DUNG)));

    // Visits are appended; a closing outcome takes the person off the list, a "not at home" does not.
    env.ok(&["campaign", "visit", "--id", DUNG, "--outcome", "not-at-home", "--team", "Tổ 2"]);
    let v = json(&env.ok(&["--json", "campaign", "worklist", "--commune", "01960", "--hamlet", "T02"]));
    assert_eq!(v["entries"][0]["last_outcome"], "not-at-home");
    env.ok(&["campaign", "visit", "--id", DUNG, "--outcome", "moved-away", "--team", "Tổ 2"]);
    assert!(worklist(&env, "T02").is_empty());
    let o = env.kyso(&["campaign", "visit", "--id", "019080000099", "--outcome", "done", "--team", "Tổ 2"]);
    assert!(!o.status.success(), "a visit to someone outside the register");
    audit_intact(&env);
}

/// The dashboard and the printable worklist (staff only); a team records visits from the page.
fn dashboard_and_the_worklist_page_record_visits(b: Backend) {
    let Some(env) = holders(b) else { return };
    let _server = env.serve();
    let (status, body) = http("GET", &format!("{}/campaign", env.base_url()), None, &[]).unwrap();
    let page = String::from_utf8(body).unwrap();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Xã Hiệp Lực") && page.contains("<svg"), "{page}");
    assert!(page.contains("/campaign/worklist?commune=01960&amp;hamlet=T01"), "{page}");
    // On 1 June nobody held one yet: the rate needed beats the best week so far (zero), flagged.
    let (_, body) = http("GET", &format!("{}/campaign?date=2026-06-01", env.base_url()), None, &[]).unwrap();
    assert!(String::from_utf8(body).unwrap().contains("hơn tuần tốt nhất"));
    let (status, body) = http("GET", &format!("{}/campaign?lang=en", env.base_url()), None, &[]).unwrap();
    assert_eq!(status, 200);
    assert!(String::from_utf8(body).unwrap().contains("both readings shown"));
    let url = format!("{}/campaign/worklist?commune=01960&hamlet=T01", env.base_url());
    // Worklists carry personal data: anonymous visitors are sent to the staff login.
    let (status, head, _) = support::http_raw(&url, "GET", "", "");
    assert!(status == 303 && head.contains("/staff/login"), "{head}");
    let cookie = support::officer_cookie(&env, "01960");
    let (status, body) = http_with("GET", &url, None, &[("Cookie", &cookie)], &[]).unwrap();
    let page = String::from_utf8(body).unwrap();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(&masked(BINH)) && !page.contains(BINH), "{page}");
    assert!(!page.contains(&masked(AN)), "a holder on the worklist: {page}");
    // A team records what it found from the page: each line's form names the person by the visit
    // log's keyed hash, never by the ID number; the outcome is appended and audited.
    let handle_at = page.find("name=\"person\" value=\"").expect("a visit form on the line") + 21;
    let person = page[handle_at..].split('"').next().unwrap().to_string();
    assert_eq!(person.len(), 64, "{person}");
    let csrf_at = page.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = page[csrf_at..].split('"').next().unwrap().to_string();
    let visit_url = format!("{}/campaign/visit", env.base_url());
    let visit = |cookie: &str, csrf: &str, person: &str, outcome: &str| {
        let form = format!("csrf={csrf}&commune=01960&hamlet=T01&person={person}&outcome={outcome}&provider=");
        support::http_raw(&visit_url, "POST", cookie, &form)
    };
    let (status, head, _) = visit(&cookie, &csrf, &person, "not-at-home");
    assert!(status == 303 && head.contains("saved=1"), "{head}");
    let v = json(&env.ok(&["--json", "campaign", "worklist", "--commune", "01960", "--hamlet", "T01"]));
    assert_eq!(v["entries"][0]["last_outcome"], "not-at-home", "{v}");
    assert_eq!(visit(&cookie, "forged", &person, "done").0, 403, "without the form's CSRF token");
    assert_eq!(visit(&cookie, &csrf, &"0".repeat(64), "done").0, 404, "someone not in the hamlet");
    assert_eq!(visit(&cookie, &csrf, &person, "already-holds").0, 400, "already-holds names the provider");
    assert_eq!(visit("", &csrf, &person, "done").0, 403, "anonymous: the token is not theirs");
    let audit = env.ok(&["audit", "show", "--action", "campaign.visit"]);
    assert!(audit.contains("not-at-home (web)") && audit.contains(&masked(BINH)) && !audit.contains(BINH), "{audit}");
    let (status, _) = http_with(
        "GET",
        &format!("{}/campaign/worklist?commune=01960&hamlet=T99", env.base_url()),
        None,
        &[("Cookie", &cookie)],
        &[],
    )
    .unwrap();
    assert_eq!(status, 404);
    audit_intact(&env);
}

/// Dũng moved away (a team's visit) and Bình says he holds a certificate at FPT-CA; the
/// reconciliation and its page (staff of the commune only, masked).
fn reconciliation_names_what_the_sources_disagree_on(b: Backend) {
    let Some(env) = holders(b) else { return };
    env.ok(&["campaign", "visit", "--id", DUNG, "--outcome", "moved-away", "--team", "Tổ 2"]);
    // Bình told a team he holds an FPT-CA certificate no source shows (to the
    // provider), Dũng moved away (to the police), Bình's revoked certificate lapsed today and An
    // holds certificates at two providers (for the commune). Chi's claim matches her certificate.
    let holds = |id, provider| {
        env.ok(&[
            "campaign",
            "visit",
            "--id",
            id,
            "--outcome",
            "already-holds",
            "--provider",
            provider,
            "--team",
            "Tổ 1",
        ])
    };
    holds(BINH, "FPT-CA");
    holds(CHI, "Viettel-CA");
    let out = env.ok(&["--json", "campaign", "reconcile", "--commune", "01960", "--xlsx", "doi-soat.xlsx"]);
    assert!(![AN, BINH, CHI, DUNG].iter().any(|id| out.contains(id)), "a clear ID number: {out}");
    let v = json(&out);
    let found: Vec<(&str, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["finding"].as_str().unwrap(), f["id_masked"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        found,
        [
            ("not_in_any_list", masked(BINH)),
            ("moved_away", masked(DUNG)),
            ("lapsed", masked(BINH)),
            ("several_providers", masked(AN))
        ],
        "{v}"
    );
    if let Some(text) = support::openpyxl_text(&env.path("doi-soat.xlsx")) {
        assert!(text.contains("Gửi nhà cung cấp") && text.contains("FPT-CA") && text.contains(&masked(DUNG)), "{text}");
        assert!(!text.contains(BINH), "{text}");
    }
    let v = json(&env.ok(&["--json", "campaign", "reconcile", "--commune", "01960", "--date", "2026-01-01"]));
    assert_eq!(v["findings"].as_array().map(Vec::len), Some(0), "nothing before any issuance or visit: {v}");

    let _server = env.serve();
    let cookie = support::officer_cookie(&env, "01960");
    // The reconciliation page: staff of the commune only, masked.
    let url = format!("{}/campaign/reconcile?commune=01960", env.base_url());
    let (status, head, _) = support::http_raw(&url, "GET", "", "");
    assert!(status == 303 && head.contains("/staff/login"), "{head}");
    let (status, body) = http_with("GET", &url, None, &[("Cookie", &cookie)], &[]).unwrap();
    let page = String::from_utf8(body).unwrap();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Gửi Công an xã") && page.contains(&masked(DUNG)) && !page.contains(DUNG), "{page}");
    let (status, body) =
        http_with("GET", &format!("{url}&date=2026-02-30"), None, &[("Cookie", &cookie)], &[]).unwrap();
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    let audit = env.ok(&["audit", "show", "--action", "campaign.reconcile"]);
    assert!(audit.contains("campaign.reconcile.export") && audit.contains("campaign.reconcile.view"), "{audit}");
    audit_intact(&env);
}
