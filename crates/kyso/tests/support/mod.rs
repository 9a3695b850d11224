//! The kyso binary's test kit: a fresh data directory, the real `kyso` binary, a real server on a
//! free port (or the demo, `web`), and what kyso-testkit shares with the other crates' tests (the
//! HTTP client, the tools, PostgreSQL, the minimal PDF).
#![allow(dead_code, unused_imports)]

pub mod signing;
pub mod web;

pub use kyso_testkit::http::{enc, form, http, http_with, Request, Response, FORM};
pub use kyso_testkit::pdf::minimal_pdf;
pub use kyso_testkit::tools::{require_tool, run, tool};
pub use kyso_testkit::{free_port, TempDir};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct Env {
    pub dir: PathBuf,
    pub port: u16,
    pub database_url: Option<String>,
    /// Extra environment for every kyso process (e.g. SOFTHSM2_CONF, the token PIN).
    pub extra_env: Vec<(String, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Env {
    pub fn new(name: &str) -> Env {
        Env::with_backend(name, Backend::Sqlite).expect("sqlite env")
    }

    /// None when PostgreSQL is unavailable outside CI (a notice is printed).
    pub fn with_backend(name: &str, backend: Backend) -> Option<Env> {
        let dir = TempDir::new("kyso-it", name).keep();
        let database_url = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(pg_schema_url(name)?),
        };
        Some(Env { dir, port: free_port(), database_url, extra_env: Vec::new() })
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    pub fn path(&self, f: &str) -> PathBuf {
        self.dir.join(f)
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kyso"));
        c.env("KYSO_DATA_DIR", self.data_dir()).env_remove("KYSO_KEK").env("KYSO_LOG", "warn").current_dir(&self.dir);
        match &self.database_url {
            Some(u) => c.env("KYSO_DATABASE_URL", u),
            None => c.env_remove("KYSO_DATABASE_URL"),
        };
        for (k, v) in &self.extra_env {
            c.env(k, v);
        }
        c
    }

    pub fn kyso(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run kyso")
    }

    /// Run and require success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.kyso(args);
        assert!(
            o.status.success(),
            "kyso {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    pub fn init(&self) {
        self.ok(&["init", "--base-url", &self.base_url()]);
        self.ok(&["ca", "export", "--out-dir", self.dir.join("ca").to_str().unwrap()]);
    }

    /// Issue a level-2 citizen certificate; returns (serial, path of its PEM).
    pub fn issue(&self, id: &str, provider: &str, extra: &[&str]) -> (String, PathBuf) {
        let mut args = vec![
            "--json",
            "cert",
            "issue",
            "--id",
            id,
            "--name",
            "Nguyễn Thị Hồng Nhung",
            "--province",
            "Tỉnh Thái Nguyên",
            "--commune",
            "Xã Hiệp Lực",
            "--provider",
            provider,
            "--eid-level2",
        ];
        args.extend_from_slice(extra);
        let out = self.ok(&args);
        let v: serde_json::Value = serde_json::from_str(out.trim()).expect("json");
        let serial = v["serial"].as_str().unwrap().to_string();
        let pem = self.dir.join(format!("{serial}.pem"));
        std::fs::write(&pem, v["pem"].as_str().unwrap()).unwrap();
        (serial, pem)
    }

    pub fn serve(&self) -> Server {
        let child = self
            .cmd()
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn server");
        let s = Server::new(child);
        wait_ready(self.port);
        s
    }

    /// Serve with debug logging captured to a file (for checks that secrets never reach logs).
    pub fn serve_logged(&self, log: &Path) -> Server {
        let f = std::fs::File::create(log).unwrap();
        let child = self
            .cmd()
            .env("KYSO_LOG", "debug")
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)])
            .stdout(Stdio::null())
            .stderr(Stdio::from(f))
            .spawn()
            .expect("spawn server");
        let s = Server::new(child);
        wait_ready(self.port);
        s
    }

    pub fn ca(&self, id: &str) -> PathBuf {
        self.dir.join("ca").join(format!("{id}.pem"))
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn wait_ready(port: u16) {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(30) {
        if let Ok((200, _)) = http("GET", &format!("http://127.0.0.1:{port}/healthz"), None, &[]) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server on port {port} did not become ready");
}

pub struct Server {
    pub child: Child,
    /// Spawned by [`watched`]: stopped by closing its stdin.
    pub watched: bool,
}

impl Server {
    pub fn new(child: Child) -> Server {
        Server { child, watched: false }
    }
    pub fn kill(&mut self) {
        if self.watched {
            drop(self.child.stdin.take());
        } else {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// `cmd` run under a shell that stops it (SIGTERM) when its stdin closes, that is when this
/// test process exits, and then removes `cleanup`: for a server kept in a `static` (never
/// dropped) for the whole test binary. Set stdout and stderr on the result, then spawn.
pub fn watched(cmd: &Command, cleanup: Option<&Path>) -> Command {
    let script = r#""$@" </dev/null & pid=$!
cat >/dev/null
kill "$pid" 2>/dev/null
wait "$pid"
if [ -n "$KYSO_TEST_CLEANUP" ]; then rm -rf "$KYSO_TEST_CLEANUP"; fi"#;
    let mut sh = Command::new("sh");
    sh.arg("-c").arg(script).arg("sh").arg(cmd.get_program()).args(cmd.get_args()).stdin(Stdio::piped());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    if let Some(d) = cmd.get_current_dir() {
        sh.current_dir(d);
    }
    if let Some(c) = cleanup {
        sh.env("KYSO_TEST_CLEANUP", c);
    }
    sh
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A PostgreSQL URL pointing at a fresh schema, or None (with a notice) when PostgreSQL is down
/// outside CI.
pub fn pg_schema_url(name: &str) -> Option<String> {
    let base = kyso_testkit::postgres::base_url();
    let schema = kyso_testkit::postgres::schema_name("it", name);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let r = rt.block_on(async {
        let s = kyso_store::Store::open_postgres_schema(&base, &schema).await?;
        s.close().await;
        Ok::<_, kyso_store::StoreError>(())
    });
    match r {
        Ok(()) => Some(kyso_testkit::postgres::with_search_path(&base, &schema)),
        Err(e) => kyso_testkit::postgres::unavailable(&format!("the PostgreSQL run of {name}"), &e),
    }
}

/// A fresh SoftHSM2 token in the env's directory; sets SOFTHSM2_CONF and the token PIN for every
/// kyso process. Returns the module path, or None (with a notice) when SoftHSM2 is not installed
/// outside CI (KYSO_REQUIRE_SOFTHSM=1 makes that a failure).
pub fn softhsm(env: &mut Env) -> Option<String> {
    let module = std::env::var("KYSO_PKCS11_MODULE").unwrap_or_else(|_| "/usr/lib/softhsm/libsofthsm2.so".into());
    if tool("softhsm2-util").is_none() || !Path::new(&module).exists() {
        if std::env::var("KYSO_REQUIRE_SOFTHSM").as_deref() == Ok("1") {
            panic!("SoftHSM2 is required (run .ci/run)");
        }
        eprintln!("NOTICE: SoftHSM2 not installed; skipping the PKCS#11 run of this test");
        return None;
    }
    let dir = env.dir.join("softhsm");
    std::fs::create_dir_all(dir.join("tokens")).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            dir.join("tokens").display()
        ),
    )
    .unwrap();
    let (ok, out) = run(Command::new("softhsm2-util").env("SOFTHSM2_CONF", &conf).args([
        "--init-token",
        "--free",
        "--label",
        "kyso",
        "--so-pin",
        "12345678",
        "--pin",
        "87654321",
    ]));
    assert!(ok, "softhsm2-util: {out}");
    env.extra_env.push(("SOFTHSM2_CONF".into(), conf.display().to_string()));
    env.extra_env.push(("KYSO_PKCS11_PIN".into(), "87654321".into()));
    Some(module)
}

/// One raw HTTP exchange that also returns the response head (for Set-Cookie and Location).
pub fn http_raw(url: &str, method: &str, cookie: &str, form: &str) -> (u16, String, String) {
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let r = Request::new(method, &path).cookies(cookie).form(form).send_to(host).unwrap();
    (r.status, r.head.clone(), r.text())
}

/// Creates a commune officer for `commune` with the CLI and signs in on the running server;
/// returns the `Cookie` header value of the session (worklists are for staff only).
pub fn officer_cookie(env: &Env, commune: &str) -> String {
    let user = format!("officer-{commune}");
    let o = env
        .cmd()
        .env("KYSO_STAFF_PASSWORD", "can bo xa 2026")
        .args(["staff", "add", "--username", &user, "--name", "Cán bộ xã", "--role", "commune_officer"])
        .arg("--scope")
        .arg(format!("commune:{commune}"))
        .output()
        .unwrap();
    assert!(o.status.success(), "staff add: {}", String::from_utf8_lossy(&o.stderr));
    let page = Request::get("/staff/login").send(env.port);
    let pre = page.cookie_pair("kyso_pre").expect("pre-session cookie");
    let form = format!("csrf={}&username={user}&password=can+bo+xa+2026", page.csrf());
    let r = Request::post("/staff/login").cookies(&pre).form(&form).send(env.port);
    assert_eq!(r.status, 303, "{}", r.head);
    r.cookie_pair("kyso_session").expect("session cookie")
}

/// The first sheet's cells as openpyxl (from .ci/venv) reads them, joined by `|`; `None` (with a
/// notice) when the venv is missing and interop checks are not required.
pub fn openpyxl_text(path: &Path) -> Option<String> {
    let python = kyso_testkit::tools::ci_venv().join("bin/python3");
    if !python.exists() {
        assert!(std::env::var("KYSO_REQUIRE_INTEROP").as_deref() != Ok("1"), "openpyxl is required (run .ci/run)");
        eprintln!("NOTICE: .ci/venv not found; skipping the openpyxl check");
        return None;
    }
    let script = "import sys, openpyxl\nws = openpyxl.load_workbook(sys.argv[1]).worksheets[0]\n\
print('|'.join(str(c.value) for row in ws.iter_rows() for c in row))";
    let (ok, out) = run(Command::new(python).args(["-c", script]).arg(path));
    assert!(ok, "openpyxl: {out}");
    Some(out)
}

/// Named cases run on both backends: `sqlite::<case>` and `postgres::<case>` call
/// `<case>(Backend)` of the test file, so a failure names the case and the backend.
#[allow(unused_macros)]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $case() { super::$case(crate::support::Backend::Sqlite) } )*
        }
        mod postgres {
            $( #[test] fn $case() { super::$case(crate::support::Backend::Postgres) } )*
        }
    };
}
pub(crate) use on_both_backends;

impl Env {
    /// A fresh env on `backend` (None: PostgreSQL is down outside CI, notice printed).
    pub fn on(name: &str, backend: Backend) -> Option<Env> {
        let name = match backend {
            Backend::Sqlite => format!("{name}-sqlite"),
            Backend::Postgres => format!("{name}-pg"),
        };
        Env::with_backend(&name, backend)
    }
}

impl Env {
    /// `kyso campaign plan add` for `unit`: the 2026 plan of the tests (adults from 15 on
    /// 1 Jan 2026, 63.80 % by 31 Oct, 35 % by 31 Jul, a baseline of one holder).
    pub fn plan_2026(&self, unit: &str) {
        let mut args = vec!["campaign", "plan", "add", "--unit", unit, "--period", "2026", "--min-age", "15"];
        args.extend(["--reference-date", "2026-01-01", "--target", "63.80%", "--kind", "unknown"]);
        args.extend(["--baseline-count", "1", "--baseline-date", "2025-12-31", "--baseline-source", "Phụ lục I"]);
        args.extend(["--deadline", "2026-10-31", "--milestone", "2026-07-31=35%"]);
        self.ok(&args);
    }
}

impl Env {
    /// `kyso citizen add` (level 2, Thái Nguyên) then `kyso cert issue` at VNPT-CA for them.
    pub fn citizen_with_certificate(&self, id: &str, name: &str) {
        let who = ["--id", id, "--name", name, "--province", "Tỉnh Thái Nguyên"];
        self.ok(&[&["citizen", "add"][..], &who, &["--eid-level", "2"]].concat());
        self.ok(&[&["cert", "issue"][..], &who, &["--provider", "vnpt"]].concat());
    }
}

/// The `[root]` and `[tsa]` sections of the tests' own `kyso.toml` files.
pub const CONFIG_ROOT_AND_TSA: &str = r#"[root]
name = "Kyso National Root CA (test)"
organization = "Kyso test"
[tsa]
name = "Kyso TSA (test)"
policy_oid = "1.3.6.1.4.1.32473.1.3.1"
"#;

/// The people of Hiệp Lực the campaign tests share.
pub mod hiep_luc {
    pub const AN: &str = "019190000001";
    pub const BINH: &str = "019085000002";
    /// The register's header and its first household and a half: An and Bình (T01, household 1),
    /// Chi (T01, household 2).
    pub const REGISTER_HEAD: &str = "Số định danh,Họ và tên,Ngày sinh,Giới tính,Mã thôn,Hộ\n\
019190000001,Nguyễn Thị An,15/03/1990,Nữ,T01,1\n\
019085000002,Trần Văn Bình,1985-12-01,Nam,T01,1\n\
019195000003,Lê Thị Chi,02/02/1995,Nữ,T01,2\n";
}
