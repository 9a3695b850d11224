//! The demo server (`kyso serve --demo`) and a browser-like visitor, for the tests that drive the
//! web app over HTTP.

use super::{enc, wait_ready, Backend, Env, Request, Response, Server};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::MutexGuard;

/// What the demo prints when it starts: its logins and their shared password.
pub struct Banner {
    pub text: String,
    pub password: String,
    /// A level-2 citizen without a certificate.
    pub l2: String,
    /// A level-1 citizen (verify at a desk).
    pub l1: String,
    /// A resident of the register without an account.
    pub fresh: String,
}

impl Banner {
    pub fn parse(text: String) -> Banner {
        let id_on = |marker: &str| {
            let l = text.lines().find(|l| l.contains(marker)).unwrap_or_else(|| panic!("{marker} in {text}"));
            l.split_whitespace().find(|w| w.len() == 12 && w.bytes().all(|b| b.is_ascii_digit())).unwrap().to_string()
        };
        let password = text.split("password for all: ").nth(1).expect("the demo prints its password");
        let password = password.lines().next().unwrap().trim().trim_end_matches("):").to_string();
        let (l2, l1, fresh) = (id_on("level 2, no certificate"), id_on("level 1 (verify"), id_on("no account (try"));
        assert!(!password.is_empty());
        Banner { text, password, l2, l1, fresh }
    }
}

/// Where the demo's log goes.
pub enum Log<'a> {
    /// Not kept.
    None,
    /// To this file, at this level (`debug`, `info`).
    File(&'a Path, &'a str),
}

/// `kyso serve` on 127.0.0.1:`port` (with `--demo` when `demo`); `configure` adds environment
/// first. Returns the server once it answers, and what it printed up to "serving on" (or the
/// demo's administrator line).
pub fn serve(
    env: &Env,
    port: u16,
    demo: bool,
    log: Log,
    watched: bool,
    configure: impl FnOnce(&mut Command),
) -> (Server, String) {
    let mut cmd = env.cmd();
    if let Log::File(_, level) = log {
        cmd.env("KYSO_LOG", level);
    }
    configure(&mut cmd);
    cmd.arg("serve");
    if demo {
        cmd.arg("--demo");
    }
    cmd.args(["--listen", &format!("127.0.0.1:{port}")]);
    let mut cmd = if watched { super::watched(&cmd, Some(&env.dir)) } else { cmd };
    let stderr = match log {
        Log::None => Stdio::null(),
        Log::File(path, _) => Stdio::from(std::fs::File::create(path).unwrap()),
    };
    let mut child = cmd.stdout(Stdio::piped()).stderr(stderr).spawn().expect("spawn kyso serve");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut banner, mut line) = (String::new(), String::new());
    while out.read_line(&mut line).unwrap_or(0) > 0 {
        banner.push_str(&line);
        if line.contains("administrator") || (!demo && line.contains("serving on")) {
            break;
        }
        line.clear();
    }
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let server = Server { child, watched };
    wait_ready(port);
    (server, banner)
}

/// A running demo: its server, its port, its log file (if kept) and its logins.
pub struct Demo {
    pub port: u16,
    pub server: Server,
    pub log: PathBuf,
    pub banner: Banner,
}

impl Demo {
    /// `kyso serve --demo` on `port`, logging to `env`'s `server.log` at `level` (None: no log).
    pub fn start(env: &Env, port: u16, level: Option<&str>, configure: impl FnOnce(&mut Command)) -> Demo {
        Demo::start_as(env, port, level, false, configure)
    }

    /// [`Demo::start`] for a demo kept in a `static` for a whole test binary: it is stopped, and
    /// `env`'s directory removed, when the binary exits.
    pub fn start_shared(env: &Env, port: u16, level: Option<&str>, configure: impl FnOnce(&mut Command)) -> Demo {
        Demo::start_as(env, port, level, true, configure)
    }

    fn start_as(
        env: &Env,
        port: u16,
        level: Option<&str>,
        watched: bool,
        configure: impl FnOnce(&mut Command),
    ) -> Demo {
        let log = env.path("server.log");
        let how = match level {
            Some(l) => Log::File(&log, l),
            None => Log::None,
        };
        let (server, banner) = serve(env, port, true, how, watched, configure);
        Demo { port, server, log, banner: Banner::parse(banner) }
    }

    pub fn password(&self) -> &str {
        &self.banner.password
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }
}

/// `0192****1234`: how the web app and the logs show an ID number.
pub fn masked(id: &str) -> String {
    format!("{}****{}", &id[..4], &id[8..])
}

/// A browser-like visitor: keeps the session cookies (and may come through the proxy for a
/// given client address).
pub struct Visitor {
    pub port: u16,
    pub jar: Vec<(String, String)>,
}

impl Visitor {
    pub fn new(port: u16) -> Visitor {
        Visitor { port, jar: Vec::new() }
    }
    pub fn cookies(&self) -> String {
        self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }
    fn keep(&mut self, r: &Response) {
        for name in ["kyso_pre", "kyso_session", "kyso_lang"] {
            if let Some(v) = r.cookie(name) {
                self.jar.retain(|(k, _)| k != name);
                if !v.is_empty() {
                    self.jar.push((name.to_string(), v));
                }
            }
        }
    }
    pub fn get(&mut self, path: &str) -> Response {
        let r = Request::get(path).cookies(&self.cookies()).send(self.port);
        self.keep(&r);
        r
    }
    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.post_via(path, fields, None)
    }
    /// A POST as the trusted proxy forwards it for `client`.
    pub fn post_via(&mut self, path: &str, fields: &[(&str, &str)], client: Option<&str>) -> Response {
        let form = fields.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect::<Vec<_>>().join("&");
        let r = Request::post(path).cookies(&self.cookies()).forwarded_for(client).form(&form).send(self.port);
        self.keep(&r);
        r
    }
    /// GET a page with a form, then POST to `action` with its CSRF token.
    pub fn submit(&mut self, page: &str, action: &str, fields: &[(&str, &str)]) -> Response {
        let csrf = self.get(page).csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all)
    }
    /// Signs in at `/login` (citizens) or `/staff/login` and checks where it lands.
    pub fn login(port: u16, login_page: &str, fields: &[(&str, &str)], lands_on: &str) -> Visitor {
        let mut v = Visitor::new(port);
        let r = v.submit(login_page, login_page, fields);
        assert_eq!((r.status, r.location().as_str()), (303, lands_on), "{}", r.text());
        v
    }
}

/// A demo and its env, with its logins at hand.
pub struct DemoEnv {
    pub env: Env,
    pub demo: Demo,
    pub port: u16,
    pub l2: String,
    pub l1: String,
    pub fresh: String,
    pub password: String,
}

impl DemoEnv {
    /// The demo on `env`'s own port (a data directory `env.init()` made names it in its
    /// certificates, and `kyso serve` refuses a --listen that is not its base URL), logging at
    /// `level` to `server.log`; stopped (and `env` removed) when dropped or when the binary exits.
    pub fn start(env: Env, level: &str, configure: impl FnOnce(&mut Command)) -> DemoEnv {
        let demo = Demo::start_shared(&env, env.port, Some(level), configure);
        let b = &demo.banner;
        let (l2, l1, fresh, password) = (b.l2.clone(), b.l1.clone(), b.fresh.clone(), b.password.clone());
        DemoEnv { port: demo.port, env, demo, l2, l1, fresh, password }
    }
}

static SQLITE: kyso_testkit::Shared<DemoEnv> = kyso_testkit::Shared::new();
static POSTGRES: kyso_testkit::Shared<DemoEnv> = kyso_testkit::Shared::new();

/// This test binary's demo on `backend`, started on first use ([`DemoEnv::start`]) and lent to
/// one case at a time; None when PostgreSQL is down outside CI.
pub fn shared_demo(
    backend: Backend,
    name: &str,
    level: &str,
    configure: impl FnOnce(&mut Command),
) -> Option<MutexGuard<'static, DemoEnv>> {
    let shared = if backend == Backend::Sqlite { &SQLITE } else { &POSTGRES };
    shared.get(|| Env::on(name, backend).map(|env| DemoEnv::start(env, level, configure)))
}
