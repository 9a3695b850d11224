//! The web app's flows as a citizen and an officer use them (issue 18), over HTTP on SQLite and
//! PostgreSQL: activation that never issues twice, the signing form telling certificates apart,
//! the desk carrying the person from level 2 to the session, support points' opening hours, the
//! citizen home page and the relying parties' page, the worklist in pages with a search, and
//! the dashboard and ranking narrowed to what a unit needs. One demo per backend.

mod support;

use serde_json::Value;
use std::sync::MutexGuard;
use support::web::{masked, DemoEnv, Visitor};
use support::{on_both_backends, Backend};

fn web(backend: Backend) -> Option<MutexGuard<'static, DemoEnv>> {
    support::web::shared_demo(backend, "flows", "info", |_| {})
}

fn login_citizen(d: &DemoEnv, id: &str) -> Visitor {
    Visitor::login(d.port, "/login", &[("id_number", id), ("password", &d.password)], "/me")
}

fn login_staff(d: &DemoEnv, user: &str) -> Visitor {
    Visitor::login(d.port, "/staff/login", &[("username", user), ("password", &d.password)], "/desk")
}

/// The citizen's certificates as `kyso cert list` sees them.
fn certificates(d: &DemoEnv, id: &str) -> Vec<Value> {
    let out = d.env.ok(&["--json", "cert", "list", "--id", id]);
    serde_json::from_str::<Value>(&out).unwrap().as_array().unwrap().clone()
}

on_both_backends!(
    one_activation_form_issues_one_certificate,
    the_desk_carries_the_person_to_the_session,
    support_points_have_opening_hours,
    the_home_page_leads_citizens,
    the_worklist_pages_and_searches,
    the_dashboard_and_ranking_show_the_units_own,
);

/// The same activation form fired twice at once over HTTP makes exactly one certificate; a replay
/// later makes none; a fresh form for the same provider is refused with the certificate there
/// is; at another provider it works, and the signing form tells the two apart (provider, serial
/// tail, issue and expiry dates), the newest pre-selected.
fn one_activation_form_issues_one_certificate(b: Backend) {
    let Some(d) = web(b) else { return };
    let mut c = login_citizen(&d, &d.l2);
    let before = certificates(&d, &d.l2).len();
    let page = c.get("/me/activate?provider=vnpt&confirmed=1");
    assert_eq!(page.status, 200, "{}", page.text());
    let (csrf, token) = (page.csrf(), page.field("form_token"));
    assert_eq!(token.len(), 32, "a one-use token in the form");
    let fields: Vec<(String, String)> = [
        ("csrf", csrf.as_str()),
        ("provider", "vnpt"),
        ("confirmed", "1"),
        ("form_token", token.as_str()),
        ("pin", "280419"),
        ("pin2", "280419"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let answers: Vec<(u16, String)> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let mut v = Visitor { port: c.port, jar: c.jar.clone() };
                let fields = fields.clone();
                s.spawn(move || {
                    let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    let r = v.post("/me/activate", &f);
                    (r.status, r.location())
                })
            })
            .collect();
        runs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let certs = certificates(&d, &d.l2);
    assert_eq!(certs.len(), before + 1, "exactly one certificate from two submissions: {answers:?}");
    assert!(answers.iter().all(|(s, _)| *s == 303), "both answered with a redirect (post/redirect/get): {answers:?}");
    let done: Vec<_> = answers.iter().filter(|(_, l)| l.starts_with("/me/certificates?done=")).collect();
    assert_eq!(done.len(), 1, "one issued, the other shown what was issued: {answers:?}");
    assert!(answers.iter().any(|(_, l)| l == "/me/certificates"), "{answers:?}");
    let serial = done[0].1.trim_start_matches("/me/certificates?done=").to_string();
    // A replay of the same form later issues nothing.
    let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = c.post("/me/activate", &f);
    assert_eq!((r.status, r.location().as_str()), (303, "/me/certificates"));
    assert_eq!(certificates(&d, &d.l2).len(), before + 1, "a replay issued a certificate");
    // The operator's CLI cannot make a second one either.
    let o = d
        .env
        .cmd()
        .env("KYSO_PIN", "280419")
        .args(["credential", "activate", "--id", &d.l2, "--name", "Người Dân", "--province", "Tỉnh Thái Nguyên"])
        .args(["--provider", "vnpt"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains(&serial), "{err}");
    assert_eq!(certificates(&d, &d.l2).len(), before + 1);
    // A fresh form at the same provider: sent to the valid certificate, with why.
    let r = c.get("/me/activate?provider=vnpt&confirmed=1");
    assert_eq!((r.status, r.location()), (303, format!("/me/certificates/{serial}?err=active")));
    let page = c.get(&r.location()).text();
    assert!(page.contains("không cấp thêm chứng thư thứ hai") && page.contains("Gia hạn"), "{page}");
    // Another provider is another certificate; the signing form tells them apart. (Issue times
    // are in whole seconds: a second apart, "newest" is unambiguous.)
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let page = c.get("/me/activate?provider=viettel&confirmed=1");
    let f = [
        ("csrf", page.csrf()),
        ("provider", "viettel".into()),
        ("confirmed", "1".into()),
        ("form_token", page.field("form_token")),
        ("pin", "280419".into()),
        ("pin2", "280419".into()),
    ];
    let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = c.post("/me/activate", &f);
    assert!(r.status == 303 && r.location().starts_with("/me/certificates?done="), "{} {}", r.status, r.text());
    let newest = r.location().trim_start_matches("/me/certificates?done=").to_uppercase();
    let sign = c.get("/me/sign").text();
    let options: Vec<&str> = sign.split("<option ").skip(1).filter(|o| o.contains("số …")).collect();
    assert_eq!(options.len(), 2, "{sign}");
    assert!(options.iter().all(|o| o.contains(" · cấp ") && o.contains(" · đến ")), "{options:?}");
    assert!(options[0].contains(" selected") && options[0].contains(&newest[newest.len() - 8..]), "{options:?}");
    assert!(!options[1].contains(" selected"), "{options:?}");
}

/// The officer looks the person up once: the page shows the name and birth year beside the
/// masked ID and carries an opaque reference, never the 12 digits; after level 2 the same page
/// offers the session form; the reference is this officer's only.
fn the_desk_carries_the_person_to_the_session(b: Backend) {
    let Some(d) = web(b) else { return };
    let mut desk = login_staff(&d, "hotro.hieplu");
    let r = desk.submit("/desk", "/desk/lookup", &[("id_number", &d.l1)]);
    let page = r.text();
    assert!(page.contains(&masked(&d.l1)) && !page.contains(&d.l1), "no full ID number on the page");
    assert!(page.contains("Họ và tên") && page.contains("Năm sinh"), "{page}");
    let year = page.split("Năm sinh</dt><dd>").nth(1).unwrap().split('<').next().unwrap().to_string();
    assert!(year.len() == 4 && year.starts_with(['1', '2']), "{year}");
    let (csrf, person) = (r.csrf(), r.field("person"));
    assert!(person.len() == 32 && !person.contains(&d.l1[..6]), "{person}");
    let r = desk.post(
        "/desk/verify",
        &[
            ("csrf", &csrf),
            ("person", &person),
            ("activation", "self_activated"),
            ("method", "chip card + face"),
            ("checked", "1"),
        ],
    );
    let next = r.location();
    assert!(next.starts_with(&format!("/desk/person/{person}?ok=")) && !next.contains(&d.l1), "{next}");
    let page = desk.get(&next);
    let text = page.text();
    assert!(text.contains("Mức 2") && text.contains("Ghi nhận buổi hỗ trợ") && !text.contains(&d.l1), "{text}");
    let r = desk.post(
        "/desk/session",
        &[("csrf", &page.csrf()), ("person", &page.field("person")), ("step", "eid_level2"), ("outcome", "completed")],
    );
    assert!(r.location().starts_with("/desk?ok="), "{}", r.location());
    let rows = d.env.ok(&["audit", "show", "--action", "support.session"]);
    assert!(rows.contains(&masked(&d.l1)), "{rows}");
    // Another officer cannot use this officer's reference; a made-up one is refused.
    let mut other = login_staff(&d, "canbo.xa");
    assert!(other.get(&format!("/desk/person/{person}")).location().starts_with("/desk?err="));
    let r = desk.post("/desk/session", &[("csrf", &csrf), ("person", &"0".repeat(32)), ("outcome", "completed")]);
    assert!(r.location().starts_with("/desk?err="), "{}", r.location());
}

/// Opening hours are stored from `kyso point add --hours`, written back in one form, refused when
/// they make no sense, and shown on the guide page, the poster and the citizen's home page.
fn support_points_have_opening_hours(b: Backend) {
    let Some(d) = web(b) else { return };
    let add = |hours: &str| {
        d.env
            .cmd()
            .args(["point", "add", "--id", "hl-tram", "--commune", "01960", "--name", "Điểm hỗ trợ Trạm y tế"])
            .args(["--kind", "commune", "--address", "Trạm y tế xã Hiệp Lực", "--days", "135", "--hours", hours])
            .output()
            .unwrap()
    };
    let o = add("7:00-11:00, 13h30-16:30");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = add("11:00-7:00");
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("opening_hours"));
    let o = add("sáng");
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("opening_hours"));
    assert!(d.env.ok(&["point", "list"]).contains("7:00–11:00, 13:30–16:30"), "the first hours kept");
    let mut v = Visitor::new(d.port);
    let guide = v.get("/huong-dan?p=hl-tram").text();
    assert!(guide.contains("Thứ Hai, Thứ Tư, Thứ Sáu · 7:00–11:00, 13:30–16:30"), "{guide}");
    let poster = v.get("/desk/points/hl-tram/poster").text();
    assert!(poster.contains("7:00–11:00, 13:30–16:30"), "{poster}");
    let home = v.get("/?commune=01960").text();
    assert!(home.contains("Điểm hỗ trợ Trạm y tế") && home.contains("7:00–11:00, 13:30–16:30"), "{home}");
}

/// The home page leads a citizen (what the signature is for, the five steps, support points by
/// commune, register and log in) and says nothing of CRLs or RFCs; those are on /ben-tin-cay,
/// linked from every page's footer.
fn the_home_page_leads_citizens(b: Backend) {
    let Some(d) = web(b) else { return };
    let mut v = Visitor::new(d.port);
    let home = v.get("/").text();
    let main = home.split("<main>").nth(1).unwrap().split("</main>").next().unwrap();
    for expected in ["giá trị pháp lý", "Năm bước", "href=\"/register\"", "href=\"/login\"", "Điểm hỗ trợ gần bạn"]
    {
        assert!(main.contains(expected), "{expected}: {main}");
    }
    assert!(main.contains("Bộ phận Một cửa xã Hiệp Lực") && main.contains("7:30–11:30"), "{main}");
    for absent in ["CRL", "OCSP", "RFC", "/crl/", "/tsa"] {
        assert!(!main.contains(absent), "{absent} on the citizen's home page");
    }
    assert!(home.contains("href=\"/ben-tin-cay\""), "the footer links the relying parties' page");
    let picked = v.get("/?commune=01960").text();
    assert!(picked.contains("<option value=\"01960\" selected>"), "{picked}");
    let relying = v.get("/ben-tin-cay");
    let text = relying.text();
    assert_eq!(relying.status, 200);
    for expected in ["/crl/", "/ca/", "OCSP", "RFC 3161", "RFC 6960", "POST /tsa"] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    assert!(v.get("/ben-tin-cay?lang=en").text().contains("For relying parties"));
}

/// Hamlet T01 of the demo is long: the page shows the whole list's totals, 50 lines at a time
/// grouped by household, each with a stacked visit form, and finds people by name or house number.
fn the_worklist_pages_and_searches(b: Backend) {
    let Some(d) = web(b) else { return };
    let mut officer = login_staff(&d, "canbo.xa");
    let base = "/campaign/worklist?commune=01960&hamlet=T01";
    let first = officer.get(base);
    assert_eq!(first.status, 200, "{}", first.text());
    let page = first.text();
    let total: usize =
        page.split("Chưa có chứng thư (15+)<b>").nth(1).unwrap().split('<').next().unwrap().parse().unwrap();
    assert!(total > 50, "the demo's T01 is longer than a page: {total}");
    let forms = page.matches("action=\"/campaign/visit\"").count();
    assert_eq!(forms, 50, "one page of 50 visit forms");
    assert!(page.contains("<li class=\"household\">"), "grouped by household");
    assert!(page.contains(&format!("Trang 1/{}", total.div_ceil(50))), "{page}");
    // The form's fields sit in labels (stacked on a phone), the save button inside the form.
    let form = page.split("action=\"/campaign/visit\"").nth(1).unwrap().split("</form>").next().unwrap();
    assert!(form.contains("<label>") && form.contains("name=\"provider\"") && form.contains("<button"), "{form}");
    let last = total.div_ceil(50);
    let tail = officer.get(&format!("{base}&page={last}")).text();
    assert_eq!(tail.matches("action=\"/campaign/visit\"").count(), total - 50 * (last - 1));
    assert!(tail.contains("rel=\"prev\"") && !tail.contains("rel=\"next\""));
    // Search by the first line's given name (the page shortens middle names), then by its household.
    let first_line = page.split("<li class=\"person\"><p><strong>").nth(1).unwrap();
    let name = first_line.split('<').next().unwrap().to_string();
    let id = first_line.split("<code>").nth(1).unwrap().split('<').next().unwrap().to_string();
    let given = name.rsplit(' ').next().unwrap().to_string();
    let found = officer.get(&format!("{base}&q={}", support::enc(&given))).text();
    let n = found.matches("<li class=\"person\">").count();
    assert!(n >= 1 && n < total && found.contains(&id), "{given}: {n}");
    assert!(found.contains(&format!("Chưa có chứng thư (15+)<b>{total}<")), "the totals stay the whole list's");
    let house = page.split("<li class=\"household\"><h2>Hộ ").nth(1).unwrap().split('<').next().unwrap().to_string();
    let by_house = officer.get(&format!("{base}&q={}", support::enc(&house))).text();
    let houses: Vec<&str> =
        by_house.split("<li class=\"household\"><h2>Hộ ").skip(1).map(|h| h.split('<').next().unwrap()).collect();
    assert!(!houses.is_empty() && houses.iter().all(|h| h.starts_with(house.as_str())), "{house}: {houses:?}");
    assert!(by_house.contains(&id), "the first line's household holds its person");
    let nobody = officer.get(&format!("{base}&q=zzzqqq")).text();
    assert!(nobody.contains("Không có ai") && nobody.contains("<strong>0</strong>"), "{nobody}");
    assert_eq!(officer.get(&format!("{base}&page=0")).status, 400);
}

/// A commune's dashboard shows its own plan only (no other province's segments); the ranking of
/// Thái Nguyên lists all its communes with "chưa có số liệu" where there are no figures, names
/// the province once and gives a web user no command to run; the chart fits a phone.
fn the_dashboard_and_ranking_show_the_units_own(b: Backend) {
    let Some(d) = web(b) else { return };
    let mut v = Visitor::new(d.port);
    let all = v.get("/campaign").text();
    assert!(all.contains("Hưng Yên") && all.contains("Xã Hiệp Lực"), "the whole country shows both");
    assert!(all.contains("href=\"/campaign?unit=01960\""), "each plan links its unit's own page");
    let own = v.get("/campaign?unit=01960");
    let text = own.text();
    assert_eq!(own.status, 200, "{text}");
    assert!(
        text.contains("Xã Hiệp Lực") && !text.contains("Hưng Yên") && !text.contains("Chỉ tiêu theo khối"),
        "{text}"
    );
    assert!(!text.contains("( 0)") && !text.contains("kyso campaign"), "{text}");
    assert!(text.contains("viewBox=\"0 0 360 220\"") && text.contains("font-size=\"13\""), "a phone-sized chart");
    assert!(text.contains("Bộ phận Một cửa xã Hiệp Lực") && text.contains("7:30–11:30"), "its own points, with hours");
    let province = v.get("/campaign?unit=33").text();
    assert!(province.contains("Chỉ tiêu theo khối") && !province.contains("Xã Hiệp Lực"), "Hưng Yên's own page");
    assert_eq!(v.get("/campaign?unit=99999").status, 400);
    // Three days after the baseline there is no rate to judge: no "off track" yet.
    let early = v.get("/campaign?unit=01960&date=2026-01-03").text();
    assert!(early.contains("Chưa đủ 7 ngày") && !early.contains("Chậm tiến độ"), "{early}");
    assert!(!early.contains("tuần tốt nhất"), "no best week to compare with yet");
    // An officer of the commune lands on its page; `unit=all` is the whole country.
    let mut officer = login_staff(&d, "canbo.xa");
    assert_eq!(officer.get("/campaign?date=2026-03-01").location(), "/campaign?unit=01960&date=2026-03-01");
    assert!(officer.get("/campaign?unit=all").text().contains("Hưng Yên"));
    let rank = v.get("/campaign/ranking?province=19").text();
    let communes = rank.matches("/campaign/reports/unit?unit=").count();
    assert_eq!(communes, 92, "every commune of Thái Nguyên");
    assert!(rank.contains("chưa có số liệu") && !rank.contains("Tỉnh Tỉnh") && !rank.contains("kyso campaign"));
    assert!(rank.contains("Tỉnh Thái Nguyên"));
}
