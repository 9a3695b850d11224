//! The web app's security and account rules over HTTP, on SQLite and PostgreSQL: CSRF, login
//! throttling, cookie flags, role checks (citizens cannot use the desk, level 1 cannot activate),
//! level 2 only through an officer (audited), masked IDs on the desk, logout, and no full ID
//! number in the logs.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::Duration;
use support::{wait_ready, Backend, Env, Server};

struct Resp {
    status: u16,
    head: String,
    body: String,
}

impl Resp {
    fn cookie(&self, name: &str) -> Option<String> {
        self.head.lines().filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:")).find_map(|l| {
            let v = l.split_once(':')?.1.trim();
            let (kv, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = kv.split_once('=')?;
            (k == name).then(|| val.to_string())
        })
    }
    fn set_cookie_line(&self, name: &str) -> String {
        self.head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:") && l.contains(&format!("{name}=")))
            .unwrap_or("")
            .to_string()
    }
    fn location(&self) -> String {
        self.head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().starts_with("location:").then(|| l[9..].trim().to_string()))
            .unwrap_or_default()
    }
    fn csrf(&self) -> String {
        let i = self.body.find("name=\"csrf\" value=\"").expect("form with a csrf field") + 19;
        self.body[i..].split('"').next().unwrap().to_string()
    }
}

fn req(port: u16, method: &str, path: &str, cookies: &str, form: &str) -> Resp {
    req_via(port, method, path, cookies, form, None)
}

/// A request as a reverse proxy forwards it for `forwarded_for` (the demo trusts 127.0.0.1).
fn req_via(port: u16, method: &str, path: &str, cookies: &str, form: &str, forwarded_for: Option<&str>) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut r = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        form.len()
    );
    if let Some(client) = forwarded_for {
        r.push_str(&format!("X-Forwarded-For: {client}\r\n"));
    }
    if !form.is_empty() {
        r.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    if !cookies.is_empty() {
        r.push_str(&format!("Cookie: {cookies}\r\n"));
    }
    r.push_str("\r\n");
    r.push_str(form);
    s.write_all(r.as_bytes()).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    Resp { status, head, body: String::from_utf8_lossy(&buf[end + 4..]).to_string() }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A browser-like visitor: keeps cookies.
struct Visitor {
    port: u16,
    jar: Vec<(String, String)>,
}

impl Visitor {
    fn new(port: u16) -> Visitor {
        Visitor { port, jar: Vec::new() }
    }
    fn cookies(&self) -> String {
        self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }
    fn keep(&mut self, r: &Resp) {
        for name in ["kyso_pre", "kyso_session", "kyso_lang"] {
            if let Some(v) = r.cookie(name) {
                self.jar.retain(|(k, _)| k != name);
                if !v.is_empty() {
                    self.jar.push((name.to_string(), v));
                }
            }
        }
    }
    fn get(&mut self, path: &str) -> Resp {
        let r = req(self.port, "GET", path, &self.cookies(), "");
        self.keep(&r);
        r
    }
    fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let form = fields.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect::<Vec<_>>().join("&");
        let r = req(self.port, "POST", path, &self.cookies(), &form);
        self.keep(&r);
        r
    }
    /// GET a page with a form, then POST to `action` with its CSRF token.
    fn submit(&mut self, page: &str, action: &str, fields: &[(&str, &str)]) -> Resp {
        let csrf = self.get(page).csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all)
    }
}

struct Demo {
    env: Env,
    port: u16,
    _server: Server,
    log: std::path::PathBuf,
    l2: String,
    l1: String,
    fresh: String,
    password: String,
}

fn demo(env: Env) -> Demo {
    // The env's own port: a data directory `env.init()` made names it in its certificates, and
    // `kyso serve` refuses a --listen that is not its base URL.
    let port = env.port;
    let log = env.path("server.log");
    let mut child = env
        .cmd()
        .env("KYSO_LOG", "debug")
        .env("KYSO_TRUSTED_PROXIES", "127.0.0.1")
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut l2, mut l1, mut fresh, mut password) = (String::new(), String::new(), String::new(), String::new());
    let mut line = String::new();
    while out.read_line(&mut line).unwrap_or(0) > 0 {
        let last = line
            .split_whitespace()
            .find(|w| w.len() == 12 && w.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or("")
            .to_string();
        if line.contains("password for all: ") {
            password = line.split("password for all: ").nth(1).unwrap().trim().trim_end_matches("):").to_string();
        } else if line.contains("level 2, no certificate") {
            l2 = last;
        } else if line.contains("level 1 (verify") {
            l1 = last;
        } else if line.contains("no account (try") {
            fresh = last;
        } else if line.contains("administrator") {
            break;
        }
        line.clear();
    }
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let server = Server { child };
    wait_ready(port);
    assert!(!l2.is_empty() && !l1.is_empty() && !fresh.is_empty() && !password.is_empty());
    Demo { env, port, _server: server, log, l2, l1, fresh, password }
}

fn login_citizen(d: &Demo, id: &str) -> Visitor {
    let mut v = Visitor::new(d.port);
    let r = v.submit("/login", "/login", &[("id_number", id), ("password", &d.password)]);
    assert_eq!((r.status, r.location().as_str()), (303, "/me"), "{}", r.body);
    v
}

fn login_staff(d: &Demo, user: &str) -> Visitor {
    let mut v = Visitor::new(d.port);
    let r = v.submit("/staff/login", "/staff/login", &[("username", user), ("password", &d.password)]);
    assert_eq!((r.status, r.location().as_str()), (303, "/desk"), "{}", r.body);
    v
}

fn web_rules(d: &Demo) {
    let masked = |id: &str| format!("{}****{}", &id[..4], &id[8..]);

    // CSRF: a form post without the visitor's token is refused, and so is a token from elsewhere.
    let mut v = Visitor::new(d.port);
    v.get("/login");
    assert_eq!(v.post("/login", &[("csrf", "x"), ("id_number", &d.l2), ("password", &d.password)]).status, 403);
    let other = Visitor::new(d.port).get("/login").csrf();
    assert_eq!(v.post("/login", &[("csrf", &other), ("id_number", &d.l2), ("password", &d.password)]).status, 403);

    // Throttling: five failures on an ID number (known or not: no enumeration), then it waits;
    // other accounts are not affected.
    let mut t = Visitor::new(d.port);
    for _ in 0..5 {
        assert_eq!(
            t.submit("/login", "/login", &[("id_number", "019202009999"), ("password", "wrong password")]).status,
            401
        );
    }
    let r = t.submit("/login", "/login", &[("id_number", "019202009999"), ("password", &d.password)]);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("thử lại sau"), "the wait is explained");

    // Password spraying: one address trying many accounts is stopped after 30 failures, even
    // for an account and password that are right; other addresses are not affected. (The demo
    // trusts 127.0.0.1 as a reverse proxy, so X-Forwarded-For names the client here.)
    let mut sprayer = Visitor::new(d.port);
    let csrf = sprayer.get("/login").csrf();
    let login_via = |v: &Visitor, client: &str, id: &str, password: &str| {
        let form = format!("csrf={}&id_number={id}&password={}", enc(&csrf), enc(password));
        req_via(d.port, "POST", "/login", &v.cookies(), &form, Some(client))
    };
    for n in 0..30 {
        let r = login_via(&sprayer, "198.51.100.7", &format!("0192020{n:05}"), "mat khau chung 123");
        assert_eq!(r.status, 401, "failure {n}");
    }
    assert_eq!(login_via(&sprayer, "198.51.100.7", &d.l2, &d.password).status, 429, "the address is throttled");
    assert_eq!(login_via(&sprayer, "198.51.100.8", &d.l2, &d.password).status, 303, "another address is not");

    // A level-2 citizen logs in: the cookie is HttpOnly and SameSite, the page says level 2.
    let mut c2 = Visitor::new(d.port);
    let r = c2.submit("/login", "/login", &[("id_number", &d.l2), ("password", &d.password)]);
    assert_eq!(r.status, 303);
    let line = r.set_cookie_line("kyso_session");
    assert!(line.contains("HttpOnly") && line.contains("SameSite=Lax"), "{line}");
    // The browser keeps it until it closes; the server ends the login (idle 30 min, 8 h in all).
    assert!(!line.contains("Max-Age"), "{line}");
    let me = c2.get("/me");
    assert_eq!(me.status, 200);
    assert!(me.body.contains("Mức 2") && me.body.contains(&masked(&d.l2)) && !me.body.contains(&d.l2));
    assert!(me.head.to_ascii_lowercase().contains("content-security-policy"));
    // Activate over plain HTTP (no browser): a weak PIN is refused, then the certificate is live.
    let page = c2.get("/me/activate?provider=vnpt&confirmed=1");
    let csrf = page.csrf();
    let r = c2.post(
        "/me/activate",
        &[("csrf", &csrf), ("provider", "vnpt"), ("confirmed", "1"), ("pin", "123456"), ("pin2", "123456")],
    );
    assert!(r.status == 422 && r.body.contains("quá dễ đoán"), "{}", r.body);
    let r = c2.post(
        "/me/activate",
        &[("csrf", &csrf), ("provider", "vnpt"), ("confirmed", "1"), ("pin", "280419"), ("pin2", "280419")],
    );
    let first = r.location().trim_start_matches("/me/certificates?done=").to_string();
    assert!(r.status == 303 && !first.is_empty(), "{}", r.body);
    // Renew (same key, same PIN): the new certificate is valid, the old one superseded, and the
    // signing form now offers the new one.
    let csrf = c2.get(&format!("/me/certificates/{first}")).csrf();
    let r = c2.post(&format!("/me/certificates/{first}/renew"), &[("csrf", &csrf)]);
    let second = r.location().trim_start_matches("/me/certificates/").to_string();
    assert!(r.status == 303 && !second.is_empty() && second != first, "{}", r.location());
    assert!(c2.get(&format!("/me/certificates/{first}")).body.contains("Đã gia hạn"));
    assert!(c2.get(&format!("/me/certificates/{second}")).body.contains("Đang hiệu lực"));
    assert!(c2.get("/me/sign").body.contains("Ký và tải về"), "the renewed credential still signs");
    // Someone else's certificate is not yours to revoke.
    let mut other = login_citizen(d, &d.l1);
    let csrf_o = other.get("/me").csrf();
    let r =
        other.post(&format!("/me/certificates/{second}/revoke"), &[("csrf", &csrf_o), ("reason", "1"), ("sure", "1")]);
    assert_eq!(r.status, 403);
    // Revoke: permanent, with the reason.
    let csrf = c2.get(&format!("/me/certificates/{second}")).csrf();
    let r = c2.post(&format!("/me/certificates/{second}/revoke"), &[("csrf", &csrf), ("reason", "1"), ("sure", "1")]);
    assert_eq!(r.status, 303);
    let page = c2.get(&format!("/me/certificates/{second}"));
    assert!(page.body.contains("Đã thu hồi") && !page.body.contains("/revoke\""), "{}", page.body);
    assert!(d.env.ok(&["cert", "show", &second]).to_lowercase().contains("revoked"));

    // … but cannot use the desk.
    assert_eq!(c2.get("/desk").status, 403);
    assert_eq!(c2.get("/desk/results").status, 403);

    // Registration: not in the register → refused with the reason; twice → refused.
    let mut n = Visitor::new(d.port);
    let r = n.submit(
        "/register",
        "/register",
        &[
            ("id_number", "001099000001"),
            ("phone", "0912345678"),
            ("password", "mot hai ba bon"),
            ("password2", "mot hai ba bon"),
        ],
    );
    assert_eq!(r.status, 422);
    assert!(r.body.contains("không có trong dữ liệu dân cư"), "{}", r.body);
    let r = n.submit(
        "/register",
        "/register",
        &[
            ("id_number", &d.fresh),
            ("phone", "+84 912 345 678"),
            ("password", "mot hai ba bon"),
            ("password2", "mot hai ba bon"),
        ],
    );
    assert_eq!((r.status, r.location().as_str()), (303, "/me?done=registered"));
    let r = Visitor::new(d.port).submit(
        "/register",
        "/register",
        &[
            ("id_number", &d.fresh),
            ("phone", "0912345678"),
            ("password", "mot hai ba bon"),
            ("password2", "mot hai ba bon"),
        ],
    );
    assert!(r.status == 422 && r.body.contains("đã có tài khoản"), "{}", r.body);

    // A level-1 citizen cannot create a certificate, even by posting the form directly.
    let mut c1 = login_citizen(d, &d.l1);
    assert!(c1.get("/me/provider").body.contains("Cần tài khoản mức 2"));
    let r = c1.submit(
        "/me",
        "/me/activate",
        &[("provider", "vnpt"), ("confirmed", "1"), ("pin", "280419"), ("pin2", "280419")],
    );
    assert!(r.body.contains("Cần tài khoản mức 2"), "{}", r.body);
    assert!(!c1.get("/me/certificates").body.contains("Đang hiệu lực"));

    // No session → the desk sends you to the staff login.
    assert_eq!(Visitor::new(d.port).get("/desk").location(), "/staff/login");

    // The desk: look up (masked), verify level 2 in person, record the session.
    let mut desk = login_staff(d, "hotro.hieplu");
    let r = desk.submit("/desk", "/desk/lookup", &[("id_number", &d.l1)]);
    assert_eq!(r.status, 200);
    let shown = r.body.split("<main>").nth(1).unwrap().replace(&format!("value=\"{}\"", d.l1), "");
    assert!(shown.contains(&masked(&d.l1)) && !shown.contains(&d.l1), "the desk shows the ID masked only");
    let csrf = r.csrf();
    // without the in-person tick, nothing happens
    let r = desk.post(
        "/desk/verify",
        &[("csrf", &csrf), ("id_number", &d.l1), ("activation", "self_activated"), ("method", "chip card + face")],
    );
    assert!(r.location().starts_with("/desk?err="));
    let r = desk.post(
        "/desk/verify",
        &[
            ("csrf", &csrf),
            ("id_number", &d.l1),
            ("activation", "self_activated"),
            ("method", "chip card + face"),
            ("checked", "1"),
        ],
    );
    assert!(r.location().starts_with("/desk?ok="), "{}", r.location());
    assert!(c1.get("/me").body.contains("Mức 2"));
    let r = desk.post(
        "/desk/session",
        &[("csrf", &csrf), ("id_number", &d.l1), ("step", "eid_level2"), ("step", "advice"), ("outcome", "completed")],
    );
    assert!(r.location().starts_with("/desk?ok="), "{}", r.location());
    // The desk's guidance poster: a QR code of /g/<point>; each scan is counted (point and day
    // only) and opens the guidance with that point's address; an unknown point is not counted.
    let poster = desk.get("/desk/points/hl-motcua/poster");
    assert!(poster.status == 200 && poster.body.contains("<svg") && poster.body.contains("/g/hl-motcua"));
    assert!(desk.get("/desk").body.contains("/desk/points/hl-motcua/poster"), "the desk links its poster");
    let mut passer_by = Visitor::new(d.port);
    // Three scans: twice from one phone (counted once a day), once from another.
    for client in ["198.51.100.20", "198.51.100.20", "198.51.100.21"] {
        let r = req_via(d.port, "GET", "/g/hl-motcua", "", "", Some(client));
        assert_eq!(r.location(), "/huong-dan?p=hl-motcua");
    }
    assert_eq!(passer_by.get("/g/khong-co").location(), "/huong-dan");
    assert_eq!(passer_by.get("/g/x'--").location(), "/huong-dan");
    let guide = passer_by.get("/huong-dan?p=hl-motcua");
    assert!(
        guide.status == 200 && guide.body.contains("Bộ phận Một cửa xã Hiệp Lực") && guide.body.contains("Năm bước")
    );
    let dash = desk.get("/campaign");
    assert!(
        dash.body.contains("Điểm hỗ trợ: kết quả 7 ngày") && dash.body.contains("Bộ phận Một cửa xã Hiệp Lực"),
        "the campaign counts support sessions"
    );
    let row =
        dash.body.split("<td>Bộ phận Một cửa xã Hiệp Lực</td>").nth(1).and_then(|r| r.split("</tr>").next()).unwrap();
    assert!(dash.body.contains("Lượt quét QR hướng dẫn") && row.ends_with("<td>2</td>"), "two scanners: {row}");
    assert!(dash.body.contains("/campaign/ranking?province=19"), "the dashboard links the province ranking");
    let rank = desk.get("/campaign/ranking?province=19");
    assert!(rank.status == 200 && rank.body.contains("Xã Hiệp Lực") && rank.body.contains("<svg"), "{}", rank.body);
    assert_eq!(desk.get("/campaign/ranking?province=99").status, 404);
    let results = desk.get("/desk/results");
    assert!(results.status == 200 && results.body.contains("Bộ phận Một cửa xã Hiệp Lực"));
    // The plan's first case: an application filed and awaiting approval stays level 1, visibly.
    let r = desk.submit("/desk", "/desk/lookup", &[("id_number", &d.fresh)]);
    assert!(r.body.contains("/desk/pending"), "level 1 offers 'awaiting approval'");
    let r = desk.post("/desk/pending", &[("csrf", &r.csrf()), ("id_number", &d.fresh)]);
    assert!(r.location().starts_with("/desk?ok="), "{}", r.location());
    let me = n.get("/me");
    assert!(me.body.contains("đang chờ phê duyệt") && me.body.contains("Mức 1"), "{}", me.body);
    // A provider operator is not a desk.
    let mut op = login_staff(d, "vnpt.vanhanh");
    let r = op.submit("/desk", "/desk/lookup", &[("id_number", &d.l1)]);
    assert_eq!(r.status, 403);

    // The administrator's CLI: a new mobile point and its desk officer, who can log in and serve.
    d.env.ok(&[
        "point",
        "add",
        "--id",
        "hl-dh",
        "--commune",
        "01960",
        "--name",
        "Điểm hỗ trợ tại trường THPT",
        "--kind",
        "university",
        "--address",
        "Trường THPT Hiệp Lực",
        "--days",
        "6",
    ]);
    let bad = d.env.kyso(&[
        "point",
        "add",
        "--id",
        "x",
        "--commune",
        "99999",
        "--name",
        "x",
        "--kind",
        "bank",
        "--address",
        "x",
    ]);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("--commune"));
    let mut add = d.env.cmd();
    add.env("KYSO_STAFF_PASSWORD", "tinh nguyen vien 2026").args([
        "staff",
        "add",
        "--username",
        "tnv.dh",
        "--name",
        "Tình nguyện viên",
        "--role",
        "support_staff",
        "--scope",
        "commune:01960",
        "--point",
        "hl-dh",
    ]);
    assert!(add.output().unwrap().status.success());
    let mut wrong = d.env.cmd();
    wrong.env("KYSO_STAFF_PASSWORD", "tinh nguyen vien 2026").args([
        "staff",
        "add",
        "--username",
        "x",
        "--name",
        "x",
        "--role",
        "support_staff",
        "--scope",
        "province:19",
        "--point",
        "hl-dh",
    ]);
    let o = wrong.output().unwrap();
    assert!(
        !o.status.success() && String::from_utf8_lossy(&o.stderr).contains("scope"),
        "a support desk needs a commune scope"
    );
    assert!(d.env.ok(&["point", "list"]).contains("hl-dh"));
    assert!(d.env.ok(&["staff", "list"]).contains("tnv.dh"));
    let mut v = Visitor::new(d.port);
    let r = v.submit("/staff/login", "/staff/login", &[("username", "tnv.dh"), ("password", "tinh nguyen vien 2026")]);
    assert_eq!(r.location(), "/desk");
    assert!(v.get("/desk").body.contains("Trường THPT Hiệp Lực"));

    // Worklists (personal data) by role and area: own commune and its province yes; another
    // commune, a provider operator or nobody, no.
    let wl = "/campaign/worklist?commune=01960&hamlet=T01";
    for (user, want) in
        [("canbo.xa", 200), ("canbo.tinh", 200), ("hotro.hieplu", 200), ("vnpt.vanhanh", 403), ("kiemtoan", 403)]
    {
        assert_eq!(login_staff(d, user).get(wl).status, want, "{user}");
    }
    // (the demo may have only its own commune when the national unit list is not beside the repo)
    let units = d.env.path("units.csv");
    std::fs::write(&units, "province_code,province_name,commune_code,commune_name,commune_type,lat,lon,area_km2\n01,Thành phố Hà Nội,00004,Phường Ba Đình,Phường,21.0386,105.838,2.97\n").unwrap();
    d.env.ok(&["campaign", "import-units", units.to_str().unwrap()]);
    let mut far = d.env.cmd();
    far.env("KYSO_STAFF_PASSWORD", "can bo xa khac 2026").args([
        "staff",
        "add",
        "--username",
        "canbo.khac",
        "--name",
        "Cán bộ xã khác",
        "--role",
        "commune_officer",
        "--scope",
        "commune:00004",
    ]);
    assert!(far.output().unwrap().status.success());
    let mut v = Visitor::new(d.port);
    v.submit("/staff/login", "/staff/login", &[("username", "canbo.khac"), ("password", "can bo xa khac 2026")]);
    assert_eq!(v.get(wl).status, 403, "another commune's officer");
    assert_eq!(v.get("/campaign/worklist?commune=00004&hamlet=T01").status, 404, "own commune, unknown hamlet");
    assert_eq!(Visitor::new(d.port).get(wl).location(), "/staff/login");
    assert_eq!(c2.get(wl).status, 303, "citizens are not staff");

    // Level 2 is audited, and the chain still verifies.
    let audit = d.env.ok(&["audit", "verify"]);
    assert!(audit.contains("audit log intact"), "{audit}");
    let rows = d.env.ok(&["audit", "show", "--action", "eid.verify_level2"]);
    assert!(rows.contains("hotro.hieplu eid.verify_level2") && rows.contains(&masked(&d.l1)), "{rows}");
    assert!(!rows.contains(d.l1.as_str()), "audit rows carry the masked ID");
    let rows = d.env.ok(&["audit", "show", "--action", "support.session"]);
    assert!(rows.contains("hl-motcua: eid_level2,advice → completed"), "{rows}");

    // Logout ends the session for good.
    let csrf = c2.get("/me").csrf();
    let old = c2.cookies();
    assert_eq!(c2.post("/logout", &[("csrf", &csrf)]).location(), "/login");
    assert_eq!(req(d.port, "GET", "/me", &old, "").location(), "/login", "the old cookie no longer works");

    // No full ID number in the server's logs.
    let log = std::fs::read_to_string(&d.log).unwrap();
    for id in [&d.l1, &d.l2, &d.fresh] {
        assert!(!log.contains(id.as_str()), "full ID number in the log");
    }
    assert!(log.contains(&masked(&d.l2)), "logins are logged, masked");
}

#[test]
fn web_rules_on_sqlite() {
    web_rules(&demo(Env::new("web-sqlite")));
}

#[test]
fn web_rules_on_postgres() {
    if let Some(env) = Env::with_backend("web-pg", Backend::Postgres) {
        web_rules(&demo(env));
    }
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
    let mut s = TcpStream::connect(("127.0.0.1", v.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "POST /me/sign HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nCookie: {}\r\n\
Content-Type: multipart/form-data; boundary={b}\r\nContent-Length: {}\r\n\r\n",
        v.cookies(),
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&body).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status = String::from_utf8_lossy(&buf[..end]).split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, buf[end + 4..].to_vec())
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
    let d = demo(env);
    let mut c = login_citizen(&d, &d.l2);
    let csrf = c.get("/me/activate?provider=viettel&confirmed=1").csrf();
    let r = c.post(
        "/me/activate",
        &[("csrf", &csrf), ("provider", "viettel"), ("confirmed", "1"), ("pin", "280419"), ("pin2", "280419")],
    );
    // The POST redirects (a reload cannot activate twice) to a page shown once, to this login only.
    let enrol = r.location();
    assert!(r.status == 303 && enrol.starts_with("/me/enrol/"), "{} {}", r.status, r.body);
    let mut someone_else = login_citizen(&d, &d.l1);
    assert!(!someone_else.get(&enrol).body.contains("<svg"), "another login sees nothing");
    let r = c.get(&enrol);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<svg") && r.head.to_ascii_lowercase().contains("cache-control: no-store"), "{}", r.head);
    let again = c.get(&enrol);
    assert!(!again.body.contains("<svg") && again.body.contains("chỉ hiển thị một lần"), "{}", again.body);
    let key = r.body.split("<code>").nth(2).and_then(|k| k.split("</code>").next()).unwrap().to_string();
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
    assert!(form.body.contains("name=\"otp\""), "{}", form.body);
    let credential = form.body.split("<option value=\"").nth(1).and_then(|v| v.split('"').next()).unwrap().to_string();
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

    let log = std::fs::read_to_string(&d.log).unwrap();
    assert!(!log.contains(&key.replace(' ', "")) && !log.contains(&key), "the TOTP key in the log");
}
