//! The web app's security and account rules over HTTP, on SQLite and PostgreSQL: CSRF, login
//! throttling, cookie flags, role checks (citizens cannot use the desk, level 1 cannot activate),
//! level 2 only through an officer (audited), masked IDs on the desk, logout, and no full ID
//! number in the logs. One demo server per backend serves every case, one case at a time.

mod support;

use std::sync::MutexGuard;
use support::web::{masked, DemoEnv, Visitor};
use support::{enc, on_both_backends, Backend, Env, Request};

type Web = DemoEnv;

/// The backend's demo, for this case alone; None when PostgreSQL is down outside CI.
fn web(backend: Backend) -> Option<MutexGuard<'static, Web>> {
    support::web::shared_demo(backend, "web", "debug", |c| {
        c.env("KYSO_TRUSTED_PROXIES", "127.0.0.1");
    })
}

/// No full ID number of the demo's citizens in the server's log (checked after every case).
fn assert_log_clean(d: &Web) {
    let log = d.demo.log_text();
    for id in [&d.l1, &d.l2, &d.fresh] {
        assert!(!log.contains(id.as_str()), "full ID number in the log");
    }
}

fn login_citizen(d: &Web, id: &str) -> Visitor {
    Visitor::login(d.port, "/login", &[("id_number", id), ("password", &d.password)], "/me")
}

fn login_staff(d: &Web, user: &str) -> Visitor {
    Visitor::login(d.port, "/staff/login", &[("username", user), ("password", &d.password)], "/desk")
}

/// `kyso staff add` with this password; the command's output.
fn staff_add(d: &Web, password: &str, args: &[&str]) -> std::process::Output {
    d.env.cmd().env("KYSO_STAFF_PASSWORD", password).args(["staff", "add"]).args(args).output().unwrap()
}

on_both_backends!(
    csrf_token_from_elsewhere_is_refused,
    five_failures_throttle_an_id_number,
    password_spraying_throttles_the_address,
    level2_citizen_activates_renews_and_revokes,
    registration_needs_the_register_and_then_awaits_approval,
    desk_verifies_level2_in_person_audited,
    desk_poster_scans_are_counted_on_the_dashboard,
    no_session_sends_the_desk_to_the_staff_login,
    a_provider_operator_is_not_a_desk,
    administrator_adds_a_point_and_its_desk_officer,
    worklists_by_role_and_area,
    logout_ends_the_session_and_logins_are_logged_masked,
);

/// A form post without the visitor's token is refused, and so is a token from elsewhere.
fn csrf_token_from_elsewhere_is_refused(b: Backend) {
    let Some(d) = web(b) else { return };
    let mut v = Visitor::new(d.port);
    v.get("/login");
    assert_eq!(v.post("/login", &[("csrf", "x"), ("id_number", &d.l2), ("password", &d.password)]).status, 403);
    let other = Visitor::new(d.port).get("/login").csrf();
    assert_eq!(v.post("/login", &[("csrf", &other), ("id_number", &d.l2), ("password", &d.password)]).status, 403);
    assert_log_clean(&d);
}

/// Five failures on an ID number (known or not: no enumeration), then it waits; other accounts
/// are not affected.
fn five_failures_throttle_an_id_number(b: Backend) {
    let Some(d) = web(b) else { return };
    let mut t = Visitor::new(d.port);
    for _ in 0..5 {
        assert_eq!(
            t.submit("/login", "/login", &[("id_number", "019202009999"), ("password", "wrong password")]).status,
            401
        );
    }
    let r = t.submit("/login", "/login", &[("id_number", "019202009999"), ("password", &d.password)]);
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(r.text().contains("thử lại sau"), "the wait is explained");
    login_citizen(&d, &d.l2);
    assert_log_clean(&d);
}

/// One address trying many accounts is stopped after 30 failures, even for an account and
/// password that are right; other addresses are not affected. (The demo trusts 127.0.0.1 as a
/// reverse proxy, so X-Forwarded-For names the client here.)
fn password_spraying_throttles_the_address(b: Backend) {
    let Some(d) = web(b) else { return };
    let mut sprayer = Visitor::new(d.port);
    let csrf = sprayer.get("/login").csrf();
    let login_via = |v: &Visitor, client: &str, id: &str, password: &str| {
        let form = format!("csrf={}&id_number={id}&password={}", enc(&csrf), enc(password));
        Request::post("/login").cookies(&v.cookies()).forwarded_for(Some(client)).form(&form).send(d.port)
    };
    for n in 0..30 {
        let r = login_via(&sprayer, "198.51.100.7", &format!("0192020{n:05}"), "mat khau chung 123");
        assert_eq!(r.status, 401, "failure {n}");
    }
    assert_eq!(login_via(&sprayer, "198.51.100.7", &d.l2, &d.password).status, 429, "the address is throttled");
    assert_eq!(login_via(&sprayer, "198.51.100.8", &d.l2, &d.password).status, 303, "another address is not");
    assert_log_clean(&d);
}

/// A level-2 citizen logs in (the cookie is HttpOnly and SameSite, the page says level 2),
/// activates, renews and revokes a certificate, and cannot use the desk.
fn level2_citizen_activates_renews_and_revokes(b: Backend) {
    let Some(d) = web(b) else { return };
    let mut c2 = Visitor::new(d.port);
    let r = c2.submit("/login", "/login", &[("id_number", &d.l2), ("password", &d.password)]);
    assert_eq!(r.status, 303);
    let line = r.set_cookie_line("kyso_session");
    assert!(line.contains("HttpOnly") && line.contains("SameSite=Lax"), "{line}");
    // The browser keeps it until it closes; the server ends the login (idle 30 min, 8 h in all).
    assert!(!line.contains("Max-Age"), "{line}");
    let me = c2.get("/me");
    assert_eq!(me.status, 200);
    let body = me.text();
    assert!(body.contains("Mức 2") && body.contains(&masked(&d.l2)) && !body.contains(&d.l2));
    assert!(me.head.to_ascii_lowercase().contains("content-security-policy"));
    // Activate over plain HTTP (no browser): a weak PIN is refused, then the certificate is live.
    let page = c2.get("/me/activate?provider=vnpt&confirmed=1");
    let (csrf, token) = (page.csrf(), page.field("form_token"));
    let r = c2.post(
        "/me/activate",
        &[
            ("csrf", &csrf),
            ("provider", "vnpt"),
            ("confirmed", "1"),
            ("form_token", &token),
            ("pin", "123456"),
            ("pin2", "123456"),
        ],
    );
    assert!(r.status == 422 && r.text().contains("quá dễ đoán"), "{}", r.text());
    // The refused form keeps its token: the corrected PIN activates.
    let token = r.field("form_token");
    let r = c2.post(
        "/me/activate",
        &[
            ("csrf", &csrf),
            ("provider", "vnpt"),
            ("confirmed", "1"),
            ("form_token", &token),
            ("pin", "280419"),
            ("pin2", "280419"),
        ],
    );
    let first = r.location().trim_start_matches("/me/certificates?done=").to_string();
    assert!(r.status == 303 && !first.is_empty(), "{}", r.text());
    // Renew (same key, same PIN): the new certificate is valid, the old one superseded, and the
    // signing form now offers the new one.
    let csrf = c2.get(&format!("/me/certificates/{first}")).csrf();
    let r = c2.post(&format!("/me/certificates/{first}/renew"), &[("csrf", &csrf)]);
    let second = r.location().trim_start_matches("/me/certificates/").to_string();
    assert!(r.status == 303 && !second.is_empty() && second != first, "{}", r.location());
    assert!(c2.get(&format!("/me/certificates/{first}")).text().contains("Đã gia hạn"));
    assert!(c2.get(&format!("/me/certificates/{second}")).text().contains("Đang hiệu lực"));
    assert!(c2.get("/me/sign").text().contains("Ký và tải về"), "the renewed credential still signs");
    // Someone else's certificate is not yours to revoke.
    let mut other = login_citizen(&d, &d.l1);
    let csrf_o = other.get("/me").csrf();
    let r =
        other.post(&format!("/me/certificates/{second}/revoke"), &[("csrf", &csrf_o), ("reason", "1"), ("sure", "1")]);
    assert_eq!(r.status, 403);
    // Revoke: permanent, with the reason.
    let csrf = c2.get(&format!("/me/certificates/{second}")).csrf();
    let r = c2.post(&format!("/me/certificates/{second}/revoke"), &[("csrf", &csrf), ("reason", "1"), ("sure", "1")]);
    assert_eq!(r.status, 303);
    let page = c2.get(&format!("/me/certificates/{second}")).text();
    assert!(page.contains("Đã thu hồi") && !page.contains("/revoke\""), "{page}");
    assert!(d.env.ok(&["cert", "show", &second]).to_lowercase().contains("revoked"));

    // … but cannot use the desk.
    assert_eq!(c2.get("/desk").status, 403);
    assert_eq!(c2.get("/desk/results").status, 403);
    assert_log_clean(&d);
}

/// Registration: not in the register → refused with the reason; twice → refused. The plan's first
/// case: an application filed and awaiting approval stays level 1, visibly.
fn registration_needs_the_register_and_then_awaits_approval(b: Backend) {
    let Some(d) = web(b) else { return };
    let register = |v: &mut Visitor, id: &str, phone: &str| {
        let fields =
            [("id_number", id), ("phone", phone), ("password", "mot hai ba bon"), ("password2", "mot hai ba bon")];
        v.submit("/register", "/register", &fields)
    };
    let mut n = Visitor::new(d.port);
    let r = register(&mut n, "001099000001", "0912345678");
    assert_eq!(r.status, 422);
    assert!(r.text().contains("không có trong dữ liệu dân cư"), "{}", r.text());
    let r = register(&mut n, &d.fresh, "+84 912 345 678");
    assert_eq!((r.status, r.location().as_str()), (303, "/me?done=registered"));
    let r = register(&mut Visitor::new(d.port), &d.fresh, "0912345678");
    assert!(r.status == 422 && r.text().contains("đã có tài khoản"), "{}", r.text());

    let mut desk = login_staff(&d, "hotro.hieplu");
    let r = desk.submit("/desk", "/desk/lookup", &[("id_number", &d.fresh)]);
    assert!(r.text().contains("/desk/pending"), "level 1 offers 'awaiting approval'");
    let person = r.field("person");
    let r = desk.post("/desk/pending", &[("csrf", &r.csrf()), ("person", &person)]);
    assert!(r.location().starts_with(&format!("/desk/person/{person}?ok=")), "{}", r.location());
    let me = n.get("/me").text();
    assert!(me.contains("đang chờ phê duyệt") && me.contains("Mức 1"), "{me}");
    assert_log_clean(&d);
}

/// A level-1 citizen cannot create a certificate, even by posting the form directly; the desk
/// looks the citizen up (masked), verifies level 2 in person and records the session; level 2 is
/// audited, and the chain still verifies.
fn desk_verifies_level2_in_person_audited(b: Backend) {
    let Some(d) = web(b) else { return };
    let mut c1 = login_citizen(&d, &d.l1);
    assert!(c1.get("/me/provider").text().contains("Cần tài khoản mức 2"));
    let r = c1.submit(
        "/me",
        "/me/activate",
        &[("provider", "vnpt"), ("confirmed", "1"), ("pin", "280419"), ("pin2", "280419")],
    );
    assert!(r.text().contains("Cần tài khoản mức 2"), "{}", r.text());
    assert!(!c1.get("/me/certificates").text().contains("Đang hiệu lực"));

    let mut desk = login_staff(&d, "hotro.hieplu");
    let r = desk.submit("/desk", "/desk/lookup", &[("id_number", &d.l1)]);
    assert_eq!(r.status, 200);
    let shown = r.text();
    assert!(shown.contains(&masked(&d.l1)) && !shown.contains(&d.l1), "the desk shows the ID masked only");
    let (csrf, person) = (r.csrf(), r.field("person"));
    // without the in-person tick, nothing happens
    let r = desk.post(
        "/desk/verify",
        &[("csrf", &csrf), ("person", &person), ("activation", "self_activated"), ("method", "chip card + face")],
    );
    assert!(r.location().starts_with(&format!("/desk/person/{person}?err=")), "{}", r.location());
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
    assert!(r.location().starts_with(&format!("/desk/person/{person}?ok=")), "{}", r.location());
    assert!(c1.get("/me").text().contains("Mức 2"));
    let r = desk.post(
        "/desk/session",
        &[("csrf", &csrf), ("person", &person), ("step", "eid_level2"), ("step", "advice"), ("outcome", "completed")],
    );
    assert!(r.location().starts_with("/desk?ok="), "{}", r.location());

    let audit = d.env.ok(&["audit", "verify"]);
    assert!(audit.contains("audit log intact"), "{audit}");
    let rows = d.env.ok(&["audit", "show", "--action", "eid.verify_level2"]);
    assert!(rows.contains("hotro.hieplu eid.verify_level2") && rows.contains(&masked(&d.l1)), "{rows}");
    assert!(!rows.contains(d.l1.as_str()), "audit rows carry the masked ID");
    let rows = d.env.ok(&["audit", "show", "--action", "support.session"]);
    assert!(rows.contains("hl-motcua: eid_level2,advice → completed"), "{rows}");
    assert_log_clean(&d);
}

/// The desk's guidance poster: a QR code of /g/<point>; each scan is counted (point and day only)
/// and opens the guidance with that point's address; an unknown point is not counted. The
/// campaign dashboard shows the support points and links the province ranking.
fn desk_poster_scans_are_counted_on_the_dashboard(b: Backend) {
    let Some(d) = web(b) else { return };
    let mut desk = login_staff(&d, "hotro.hieplu");
    let poster = desk.get("/desk/points/hl-motcua/poster");
    let body = poster.text();
    assert!(poster.status == 200 && body.contains("<svg") && body.contains("/g/hl-motcua"));
    assert!(desk.get("/desk").text().contains("/desk/points/hl-motcua/poster"), "the desk links its poster");
    let mut passer_by = Visitor::new(d.port);
    // Three scans: twice from one phone (counted once a day), once from another.
    for client in ["198.51.100.20", "198.51.100.20", "198.51.100.21"] {
        let r = Request::get("/g/hl-motcua").forwarded_for(Some(client)).send(d.port);
        assert_eq!(r.location(), "/huong-dan?p=hl-motcua");
    }
    assert_eq!(passer_by.get("/g/khong-co").location(), "/huong-dan");
    assert_eq!(passer_by.get("/g/x'--").location(), "/huong-dan");
    let guide = passer_by.get("/huong-dan?p=hl-motcua");
    let body = guide.text();
    assert!(guide.status == 200 && body.contains("Bộ phận Một cửa xã Hiệp Lực") && body.contains("Năm bước"));
    // A commune's officer lands on the commune's own dashboard.
    let own = desk.get("/campaign").location();
    assert_eq!(own, "/campaign?unit=01960");
    let dash = desk.get(&own).text();
    assert!(
        dash.contains("Điểm hỗ trợ: kết quả 7 ngày") && dash.contains("Bộ phận Một cửa xã Hiệp Lực"),
        "the campaign counts support sessions"
    );
    let row = dash.split("<td>Bộ phận Một cửa xã Hiệp Lực<br>").nth(1).and_then(|r| r.split("</tr>").next()).unwrap();
    assert!(row.contains("7:30–11:30, 13:30–17:00"), "the point's opening hours: {row}");
    assert!(dash.contains("Lượt quét QR hướng dẫn") && row.ends_with("<td>2</td>"), "two scanners: {row}");
    assert!(dash.contains("/campaign/ranking?province=19"), "the dashboard links the province ranking");
    let rank = desk.get("/campaign/ranking?province=19");
    let body = rank.text();
    assert!(rank.status == 200 && body.contains("Xã Hiệp Lực") && body.contains("<svg"), "{body}");
    assert_eq!(desk.get("/campaign/ranking?province=99").status, 404);
    let results = desk.get("/desk/results");
    assert!(results.status == 200 && results.text().contains("Bộ phận Một cửa xã Hiệp Lực"));
    assert_log_clean(&d);
}

fn no_session_sends_the_desk_to_the_staff_login(b: Backend) {
    let Some(d) = web(b) else { return };
    assert_eq!(Visitor::new(d.port).get("/desk").location(), "/staff/login");
    assert_log_clean(&d);
}

fn a_provider_operator_is_not_a_desk(b: Backend) {
    let Some(d) = web(b) else { return };
    let mut op = login_staff(&d, "vnpt.vanhanh");
    let r = op.submit("/desk", "/desk/lookup", &[("id_number", &d.l1)]);
    assert_eq!(r.status, 403);
    assert_log_clean(&d);
}

/// The administrator's CLI: a new mobile point and its desk officer, who can log in and serve.
fn administrator_adds_a_point_and_its_desk_officer(b: Backend) {
    let Some(d) = web(b) else { return };
    let point = |id: &str, commune: &str, name: &str, kind: &str, address: &str| {
        let args = ["point", "add", "--id", id, "--commune", commune, "--name", name, "--kind", kind, "--address"];
        let mut cmd = d.env.cmd();
        cmd.args(args).arg(address);
        cmd
    };
    let mut add = point("hl-dh", "01960", "Điểm hỗ trợ tại trường THPT", "university", "Trường THPT Hiệp Lực");
    let o = add.args(["--days", "6"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bad = point("x", "99999", "x", "bank", "x").output().unwrap();
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("--commune"));
    let desk_officer = |user: &str, name: &str, scope: &str| {
        let args =
            ["--username", user, "--name", name, "--role", "support_staff", "--scope", scope, "--point", "hl-dh"];
        staff_add(&d, "tinh nguyen vien 2026", &args)
    };
    assert!(desk_officer("tnv.dh", "Tình nguyện viên", "commune:01960").status.success());
    let o = desk_officer("x", "x", "province:19");
    assert!(
        !o.status.success() && String::from_utf8_lossy(&o.stderr).contains("scope"),
        "a support desk needs a commune scope"
    );
    assert!(d.env.ok(&["point", "list"]).contains("hl-dh"));
    assert!(d.env.ok(&["staff", "list"]).contains("tnv.dh"));
    let mut v = Visitor::new(d.port);
    let r = v.submit("/staff/login", "/staff/login", &[("username", "tnv.dh"), ("password", "tinh nguyen vien 2026")]);
    assert_eq!(r.location(), "/desk");
    assert!(v.get("/desk").text().contains("Trường THPT Hiệp Lực"));
    assert_log_clean(&d);
}

/// Worklists (personal data) by role and area: own commune and its province yes; another
/// commune, a provider operator, a citizen or nobody, no.
fn worklists_by_role_and_area(b: Backend) {
    let Some(d) = web(b) else { return };
    let wl = "/campaign/worklist?commune=01960&hamlet=T01";
    for (user, want) in
        [("canbo.xa", 200), ("canbo.tinh", 200), ("hotro.hieplu", 200), ("vnpt.vanhanh", 403), ("kiemtoan", 403)]
    {
        assert_eq!(login_staff(&d, user).get(wl).status, want, "{user}");
    }
    // (the demo may have only its own commune when the national unit list is not beside the repo)
    let units = d.env.path("units.csv");
    std::fs::write(&units, "province_code,province_name,commune_code,commune_name,commune_type,lat,lon,area_km2\n01,Thành phố Hà Nội,00004,Phường Ba Đình,Phường,21.0386,105.838,2.97\n").unwrap();
    d.env.ok(&["campaign", "import-units", units.to_str().unwrap()]);
    let args = ["--username", "canbo.khac", "--name", "Cán bộ xã khác", "--role", "commune_officer"];
    let o = staff_add(&d, "can bo xa khac 2026", &[&args[..], &["--scope", "commune:00004"]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut v = Visitor::new(d.port);
    v.submit("/staff/login", "/staff/login", &[("username", "canbo.khac"), ("password", "can bo xa khac 2026")]);
    assert_eq!(v.get(wl).status, 403, "another commune's officer");
    assert_eq!(v.get("/campaign/worklist?commune=00004&hamlet=T01").status, 404, "own commune, unknown hamlet");
    assert_eq!(Visitor::new(d.port).get(wl).location(), "/staff/login");
    assert_eq!(login_citizen(&d, &d.l2).get(wl).status, 303, "citizens are not staff");
    assert_log_clean(&d);
}

/// Logout ends the session for good; logins are logged, masked.
fn logout_ends_the_session_and_logins_are_logged_masked(b: Backend) {
    let Some(d) = web(b) else { return };
    let mut c2 = login_citizen(&d, &d.l2);
    let csrf = c2.get("/me").csrf();
    let old = c2.cookies();
    assert_eq!(c2.post("/logout", &[("csrf", &csrf)]).location(), "/login");
    assert_eq!(Request::get("/me").cookies(&old).send(d.port).location(), "/login", "the old cookie no longer works");
    assert!(d.demo.log_text().contains(&masked(&d.l2)), "logins are logged, masked");
    assert_log_clean(&d);
}

/// RFC 6238 TOTP now for a base32 key, computed by Python's standard library (not by kyso).
fn totp_by_python(key: &str) -> String {
    let script = "import base64,hmac,struct,sys,time\n\
k = base64.b32decode(sys.argv[1].replace(' ', ''))\n\
h = hmac.new(k, struct.pack('>Q', int(time.time()) // 30), 'sha1').digest()\n\
o = h[-1] & 15\n\
print('%06d' % ((struct.unpack('>I', h[o:o + 4])[0] & 0x7fffffff) % 1000000))";
    let out = std::process::Command::new("python3").args(["-c", script, key]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A multipart/form-data POST of the signing form; the status and the body's bytes.
fn post_sign(v: &Visitor, fields: &[(&str, &str)], pdf: &[u8]) -> (u16, Vec<u8>) {
    let b = "kysotestboundary";
    let mut body = Vec::new();
    for (k, val) in fields {
        body.extend(format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{val}\r\n").bytes());
    }
    body.extend(
        format!("--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ho-so.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").bytes(),
    );
    body.extend_from_slice(pdf);
    body.extend(format!("\r\n--{b}--\r\n").bytes());
    let r = Request::post("/me/sign")
        .cookies(&v.cookies())
        .body(&format!("multipart/form-data; boundary={b}"), body)
        .send(v.port);
    (r.status, r.body)
}

/// A provider that requires a second factor: activation shows the authenticator QR code and key
/// once (not cached, not logged), the signing form asks for the code, a wrong code is refused and
/// the right one (computed independently) signs.
#[test]
fn totp_provider_on_the_web() {
    let env = Env::new("web-totp");
    env.init();
    let cfg = env.data_dir().join("kyso.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let at = text.find("id = \"viettel\"").expect("the demo's Viettel-CA");
    let (head, tail) = text.split_at(at);
    std::fs::write(&cfg, format!("{head}{}", tail.replacen("require_totp = false", "require_totp = true", 1))).unwrap();
    let d = Web::start(env, "debug", |c| {
        c.env("KYSO_TRUSTED_PROXIES", "127.0.0.1");
    });
    let mut c = login_citizen(&d, &d.l2);
    let page = c.get("/me/activate?provider=viettel&confirmed=1");
    let (csrf, token) = (page.csrf(), page.field("form_token"));
    let r = c.post(
        "/me/activate",
        &[
            ("csrf", &csrf),
            ("provider", "viettel"),
            ("confirmed", "1"),
            ("form_token", &token),
            ("pin", "280419"),
            ("pin2", "280419"),
        ],
    );
    // The POST redirects (a reload cannot activate twice) to a page shown once, to this login only.
    let enrol = r.location();
    assert!(r.status == 303 && enrol.starts_with("/me/enrol/"), "{} {}", r.status, r.text());
    let mut someone_else = login_citizen(&d, &d.l1);
    assert!(!someone_else.get(&enrol).text().contains("<svg"), "another login sees nothing");
    let r = c.get(&enrol);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("<svg") && r.head.to_ascii_lowercase().contains("cache-control: no-store"), "{}", r.head);
    let again = c.get(&enrol);
    assert!(!again.text().contains("<svg") && again.text().contains("chỉ hiển thị một lần"), "{}", again.text());
    let key = r.text().split("<code>").nth(2).and_then(|k| k.split("</code>").next()).unwrap().to_string();
    assert_eq!(key.replace(' ', "").len(), 32, "a 160-bit key in base32: {key}");

    // The seed is stored sealed under the KEK (49 bytes: `S`, nonce, 20 bytes, tag), not in clear.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let store =
        rt.block_on(kyso_store::Store::open(&format!("sqlite://{}/kyso.db", d.env.data_dir().display()))).unwrap();
    let creds = rt.block_on(store.credentials_of(&d.l2)).unwrap();
    let sealed = creds[0].totp_secret.clone().expect("a TOTP credential");
    assert!(sealed.len() == 49 && sealed[0] == b'S', "{sealed:?}");
    rt.block_on(store.close());

    let form = c.get("/me/sign");
    assert!(form.text().contains("name=\"otp\""), "{}", form.text());
    let credential =
        form.text().split("<option value=\"").nth(1).and_then(|v| v.split('"').next()).unwrap().to_string();
    let pdf = support::minimal_pdf("Ho so OTP");
    let right = totp_by_python(&key);
    let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 500_000) % 1_000_000);
    let (status, body) =
        post_sign(&c, &[("csrf", &form.csrf()), ("credential", &credential), ("pin", "280419"), ("otp", &wrong)], &pdf);
    assert_eq!(status, 422, "a wrong code: {}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("OTP"));
    let csrf = c.get("/me/sign").csrf();
    let (status, body) =
        post_sign(&c, &[("csrf", &csrf), ("credential", &credential), ("pin", "280419"), ("otp", &right)], &pdf);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body[..body.len().min(2000)]));
    assert!(body.starts_with(b"%PDF-") && body.windows(11).any(|w| w == b"/ByteRange "), "a signed PDF");
    // The same code again: refused (a code is good once), and it counts as a failure; four
    // more wrong codes make five and lock the credential until an officer re-verifies.
    let csrf = c.get("/me/sign").csrf();
    let (status, body) =
        post_sign(&c, &[("csrf", &csrf), ("credential", &credential), ("pin", "280419"), ("otp", &right)], &pdf);
    assert!(status == 422 && String::from_utf8_lossy(&body).contains("đã dùng"), "a replayed code");
    for n in 2..=5 {
        let csrf = c.get("/me/sign").csrf();
        let (status, body) =
            post_sign(&c, &[("csrf", &csrf), ("credential", &credential), ("pin", "280419"), ("otp", &wrong)], &pdf);
        let text = String::from_utf8_lossy(&body).to_string();
        assert_eq!(status, 422);
        assert_eq!(text.contains("đã bị khóa"), n == 5, "failure {n}: {text}");
    }
    let rows = d.env.ok(&["audit", "show", "--action", "credential."]);
    assert!(rows.contains("credential.otp_replayed") && rows.contains("credential.locked"), "{rows}");

    let log = d.demo.log_text();
    assert!(!log.contains(&key.replace(' ', "")) && !log.contains(&key), "the TOTP key in the log");
}
