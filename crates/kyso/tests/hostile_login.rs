//! Issue 14, finding 4, against the real server on SQLite and PostgreSQL with real concurrent
//! HTTP clients (threads released together): login throttling cannot be raced — 15 wrong
//! passwords at once for one account (citizen and staff) are evaluated at most 5 times, 40 logins
//! at once from one address at most 30 times, 40 registrations at once from one address at most
//! 30 times — the rest get 429; the lock survives a restart and refuses the right password until
//! its window has closed; every failed login is audited with the account masked and logged
//! without the password; a full Argon2 gate answers 503 and gives the attempt back.

mod support;

use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Arc, Barrier};
use support::web::{masked, serve, Banner, Log};
use support::{enc, free_port, on_both_backends, Backend, Env, Request, Response, Server};

type Resp = Response;

/// One HTTP exchange, as a reverse proxy (127.0.0.1, trusted here) forwards it for `client`.
fn exchange(port: u16, method: &str, path: &str, cookie: &str, form: &str, client: Option<&str>) -> Resp {
    Request::new(method, path).cookies(cookie).forwarded_for(client).form(form).send(port)
}

/// A visitor's pre-session: its cookie and the CSRF token of the forms it was shown.
#[derive(Clone)]
struct Visitor {
    port: u16,
    cookie: String,
    csrf: String,
}

impl Visitor {
    fn new(port: u16, page: &str) -> Visitor {
        let r = exchange(port, "GET", page, "", "", None);
        let cookie = r.cookie_pair("kyso_pre").expect("a pre-session cookie");
        Visitor { port, cookie, csrf: r.csrf() }
    }
    fn post(&self, path: &str, fields: &[(&str, &str)], client: &str) -> Resp {
        let mut form = format!("csrf={}", enc(&self.csrf));
        for (k, v) in fields {
            form.push_str(&format!("&{k}={}", enc(v)));
        }
        exchange(self.port, "POST", path, &self.cookie, &form, Some(client))
    }
}

/// Runs `n` requests at once (threads released by one barrier); their statuses.
fn at_once(n: usize, f: impl Fn(usize) -> Resp + Send + Sync + 'static) -> Vec<Resp> {
    let f = Arc::new(f);
    let barrier = Arc::new(Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (f, b) = (f.clone(), barrier.clone());
            std::thread::spawn(move || {
                b.wait();
                f(i)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

fn count(rs: &[Resp], status: u16) -> usize {
    rs.iter().filter(|r| r.status == status).count()
}

struct Demo {
    env: Env,
    port: u16,
    logs: Vec<PathBuf>,
    l2: String,
    l1: String,
    fresh: String,
    password: String,
}

/// `kyso serve` (the demo the first time) with debug logs to a new file; the extra environment
/// sizes the Argon2 gate.
fn serve_logged(env: &Env, port: u16, demo: bool, log: &std::path::Path, extra: &[(&str, &str)]) -> (Server, String) {
    serve(env, port, demo, Log::File(log, "debug"), false, |cmd| {
        cmd.env("KYSO_TRUSTED_PROXIES", "127.0.0.1");
        for (k, v) in extra {
            cmd.env(k, v);
        }
    })
}

fn demo(env: Env, extra: &[(&str, &str)]) -> (Demo, Server) {
    let port = free_port();
    let log = env.path("server-1.log");
    let (server, banner) = serve_logged(&env, port, true, &log, extra);
    let b = Banner::parse(banner);
    let d = Demo { l2: b.l2, l1: b.l1, fresh: b.fresh, password: b.password, port, logs: vec![log], env };
    (d, server)
}

/// Audit rows whose action starts with `action`.
fn audit(env: &Env, action: &str) -> Vec<Value> {
    let out = env.ok(&["audit", "show", "--action", action, "--limit", "100000", "--json"]);
    serde_json::from_str::<Value>(&out).unwrap().as_array().unwrap().clone()
}

fn store(env: &Env) -> (tokio::runtime::Runtime, kyso_store::Store) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let url = env.database_url.clone().unwrap_or_else(|| format!("sqlite://{}/kyso.db", env.data_dir().display()));
    let s = rt.block_on(kyso_store::Store::open(&url)).unwrap();
    (rt, s)
}

on_both_backends!(
    concurrent_wrong_passwords_lock_an_account_across_a_restart,
    password_spraying_is_stopped_per_address_and_ipv6_64,
    registrations_are_stopped_per_address,
);

/// The demo with a patient Argon2 gate (every attempt is evaluated or throttled, none is busy).
fn patient_demo(b: Backend) -> Option<(Demo, Server)> {
    let env = Env::on("hl", b)?;
    Some(demo(env, &[("KYSO_ARGON2_WAIT_MS", "120000")]))
}

/// The logs name the failures (masked) and hold no password and no full ID number; the audit
/// chain verifies.
fn logs_and_audit_are_clean(d: &Demo) {
    let log: String = d.logs.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
    for secret in [d.password.as_str(), "sai-mat-khau", "mat khau chung", "mot cum tu dai", "one more wrong"] {
        assert!(!log.contains(secret), "a password in the log: {secret}");
    }
    for id in [&d.l2, &d.l1] {
        assert!(!log.contains(id.as_str()), "a full ID number in the log");
    }
    assert!(d.env.ok(&["audit", "verify"]).contains("audit log intact"));
}

/// 15 wrong passwords at once for one citizen and for one staff username: five evaluated, ten
/// refused unevaluated; audited masked; the lock survives a restart and lifts when its window
/// has closed, and a success clears the count.
fn concurrent_wrong_passwords_lock_an_account_across_a_restart(b: Backend) {
    let Some((mut d, mut server)) = patient_demo(b) else { return };
    let wrong = |i: usize| format!("sai-mat-khau-{i}");

    // 15 wrong passwords at once for one citizen, each from its own address: at most five are
    // evaluated (all-or-none counting: exactly five), the other ten are refused unevaluated.
    let v = Visitor::new(d.port, "/login");
    let (v2, l2) = (v.clone(), d.l2.clone());
    let rs = at_once(15, move |i| {
        v2.post("/login", &[("id_number", &l2), ("password", &wrong(i))], &format!("203.0.113.{}", 10 + i))
    });
    assert_eq!((count(&rs, 401), count(&rs, 429)), (5, 10), "{:?}", rs.iter().map(|r| r.status).collect::<Vec<_>>());
    let refused = rs.iter().find(|r| r.status == 429).unwrap();
    assert!(refused.text().contains("thử lại sau"), "the wait is explained in Vietnamese");
    assert!(refused.head.to_ascii_lowercase().contains("retry-after:"), "{}", refused.head);
    // The right password is refused too while the window lasts.
    let r = v.post("/login", &[("id_number", &d.l2), ("password", &d.password)], "203.0.113.99");
    assert_eq!(r.status, 429, "locked: even the right password waits");
    // Audited: five failures, the ID masked, the address named, never the password.
    let rows: Vec<Value> =
        audit(&d.env, "login.failed").into_iter().filter(|r| r["subject"] == masked(&d.l2)).collect();
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert!(rows.iter().all(|r| r["detail"].as_str().unwrap().contains("from 203.0.113.")), "{rows:?}");
    assert!(rows.iter().any(|r| r["detail"].as_str().unwrap().contains("attempt 5 of 5")), "{rows:?}");

    // The same for a staff username on /staff/login; the audit names the known username.
    let s = Visitor::new(d.port, "/staff/login");
    let s2 = s.clone();
    let rs = at_once(15, move |i| {
        s2.post("/staff/login", &[("username", "kiemtoan"), ("password", &wrong(i))], &format!("203.0.114.{}", 10 + i))
    });
    assert_eq!((count(&rs, 401), count(&rs, 429)), (5, 10), "{:?}", rs.iter().map(|r| r.status).collect::<Vec<_>>());
    let rows = audit(&d.env, "staff.login.failed");
    assert_eq!(rows.iter().filter(|r| r["subject"] == "kiemtoan").count(), 5, "{rows:?}");
    // An unknown username (perhaps a password typed in the wrong field) is not recorded as typed.
    let r = s.post("/staff/login", &[("username", "matkhau-go-nham"), ("password", "x")], "203.0.114.200");
    assert_eq!(r.status, 401);
    let rows = audit(&d.env, "staff.login.failed");
    assert!(rows.iter().any(|r| r["subject"] == "(unknown username)"));
    assert!(!rows.iter().any(|r| r.to_string().contains("matkhau-go-nham")));

    // A restart keeps the locks (they are in the database): the right password still waits.
    server.kill();
    let log2 = d.env.path("server-2.log");
    let (mut server, _) = serve_logged(&d.env, d.port, false, &log2, &[("KYSO_ARGON2_WAIT_MS", "120000")]);
    d.logs.push(log2);
    let v = Visitor::new(d.port, "/login");
    let r = v.post("/login", &[("id_number", &d.l2), ("password", &d.password)], "203.0.113.98");
    assert_eq!(r.status, 429, "still locked after a restart");
    let s = Visitor::new(d.port, "/staff/login");
    let r = s.post("/staff/login", &[("username", "kiemtoan"), ("password", &d.password)], "203.0.114.98");
    assert_eq!(r.status, 429, "the staff lock too");
    assert_eq!(audit(&d.env, "login.failed").iter().filter(|r| r["subject"] == masked(&d.l2)).count(), 5);

    // Once the window has closed (its row pruned, as the server does a minute after it closes),
    // the right password gets in, and a success clears the account's count.
    {
        let (rt, st) = store(&d.env);
        let l2_key = kyso_access::throttle::account_key("citizen", &d.l2);
        assert_eq!(rt.block_on(st.attempts(&l2_key)).unwrap().map(|(_, n)| n), Some(5));
        rt.block_on(st.prune_attempts(kyso_store::now())).unwrap();
        rt.block_on(st.close());
    }
    let r = v.post("/login", &[("id_number", &d.l2), ("password", &d.password)], "203.0.113.98");
    let to_me = r.head.lines().any(|l| l.trim().eq_ignore_ascii_case("location: /me"));
    assert_eq!((r.status, to_me), (303, true), "{}", r.head);
    let r = v.post("/login", &[("id_number", &d.l2), ("password", "one more wrong")], "203.0.113.97");
    assert_eq!(r.status, 401);
    {
        let (rt, st) = store(&d.env);
        let l2_key = kyso_access::throttle::account_key("citizen", &d.l2);
        assert_eq!(rt.block_on(st.attempts(&l2_key)).unwrap().map(|(_, n)| n), Some(1), "counted afresh");
        rt.block_on(st.close());
    }
    server.kill();

    let log: String = d.logs.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
    assert!(log.contains("login.failed: wrong password") && log.contains(&masked(&d.l2)), "failures are logged");
    logs_and_audit_are_clean(&d);
}

/// 40 logins at once from one address, each on another ID number: at most 30 are evaluated; then
/// even a right login from that address waits, another address does not. IPv6: one /64 is one
/// address.
fn password_spraying_is_stopped_per_address_and_ipv6_64(b: Backend) {
    let Some((d, _server)) = patient_demo(b) else { return };
    let sprayer = Visitor::new(d.port, "/login");
    let sp = sprayer.clone();
    let rs = at_once(40, move |i| {
        sp.post(
            "/login",
            &[("id_number", &format!("0192020{i:05}")), ("password", "mat khau chung 123")],
            "198.51.100.7",
        )
    });
    assert_eq!((count(&rs, 401), count(&rs, 429)), (30, 10), "{:?}", rs.iter().map(|r| r.status).collect::<Vec<_>>());
    let sprayed = audit(&d.env, "login.failed")
        .into_iter()
        .filter(|r| r["detail"].as_str().unwrap().contains("from 198.51.100.7:"))
        .count();
    assert_eq!(sprayed, 30);
    let r = sprayer.post("/login", &[("id_number", &d.l1), ("password", &d.password)], "198.51.100.7");
    assert_eq!(r.status, 429, "the address is throttled");
    let r = sprayer.post("/login", &[("id_number", &d.l1), ("password", &d.password)], "198.51.100.8");
    assert_eq!(r.status, 303, "another address is not");
    // IPv6: one /64 is one address.
    for i in 0..30 {
        let r = sprayer.post(
            "/login",
            &[("id_number", &format!("0192021{i:05}")), ("password", "x")],
            &format!("2001:db8:7:7::{:x}", i + 1),
        );
        assert_eq!(r.status, 401);
    }
    let r = sprayer.post("/login", &[("id_number", "019202200001"), ("password", "x")], "2001:db8:7:7:ffff::1");
    assert_eq!(r.status, 429, "the /64 is throttled");

    logs_and_audit_are_clean(&d);
}

/// 40 registrations at once from one address (people not in the register): at most 30 are
/// looked at; then even a good registration from there waits, and succeeds from elsewhere.
fn registrations_are_stopped_per_address(b: Backend) {
    let Some((d, _server)) = patient_demo(b) else { return };
    let reg = Visitor::new(d.port, "/register");
    let rg = reg.clone();
    let rs = at_once(40, move |i| {
        let id = format!("0010990{i:05}");
        rg.post(
            "/register",
            &[
                ("id_number", &id),
                ("phone", "0912345678"),
                ("password", "mot cum tu dai"),
                ("password2", "mot cum tu dai"),
            ],
            "192.0.2.50",
        )
    });
    assert_eq!((count(&rs, 422), count(&rs, 429)), (30, 10), "{:?}", rs.iter().map(|r| r.status).collect::<Vec<_>>());
    let good = [
        ("id_number", d.fresh.as_str()),
        ("phone", "0912345679"),
        ("password", "mot cum tu dai"),
        ("password2", "mot cum tu dai"),
    ];
    assert_eq!(reg.post("/register", &good, "192.0.2.50").status, 429);
    let r = reg.post("/register", &good, "192.0.2.51");
    assert_eq!((r.status, r.head.contains("/me?done=registered")), (303, true), "{}", r.text());

    logs_and_audit_are_clean(&d);
}

/// With one Argon2 permit and no waiting, logins arriving together find the gate full: 503 with
/// Retry-After, never a queue, and the refused attempt is given back (not counted as a failure).
fn full_gate(env: Env) {
    let (d, mut server) = demo(env, &[("KYSO_ARGON2_MEMORY_MIB", "1"), ("KYSO_ARGON2_WAIT_MS", "0")]);
    let v = Visitor::new(d.port, "/login");
    let v2 = v.clone();
    let rs = at_once(24, move |i| {
        v2.post(
            "/login",
            &[("id_number", &format!("0192030{i:05}")), ("password", "x")],
            &format!("198.18.0.{}", i + 1),
        )
    });
    let busy = count(&rs, 503);
    assert!(busy >= 1 && busy + count(&rs, 401) == 24, "{:?}", rs.iter().map(|r| r.status).collect::<Vec<_>>());
    let r = rs.iter().find(|r| r.status == 503).unwrap();
    assert!(
        r.text().contains("Hệ thống đang bận") && r.head.to_ascii_lowercase().contains("retry-after: 5"),
        "{}",
        r.head
    );
    // Only the evaluated attempts were counted and audited.
    assert_eq!(audit(&d.env, "login.failed").len(), 24 - busy);
    server.kill();
    let (rt, st) = store(&d.env);
    let mut held = 0;
    for i in 0..24 {
        let k = kyso_access::throttle::account_key("citizen", &format!("0192030{i:05}"));
        held += rt.block_on(st.attempts(&k)).unwrap().map_or(0, |(_, n)| n);
    }
    assert_eq!(held as usize, 24 - busy, "busy attempts were given back");
    rt.block_on(st.close());
}

#[test]
fn full_gate_on_sqlite() {
    full_gate(Env::new("gate-sqlite"));
}

#[test]
fn full_gate_on_postgres() {
    if let Some(env) = Env::with_backend("gate-pg", Backend::Postgres) {
        full_gate(env);
    }
}
