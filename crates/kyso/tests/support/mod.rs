//! Test kit: a fresh data directory, the real `kyso` binary, a real server on a free port, a tiny
//! HTTP client, and the independent tools (OpenSSL, pkilint) the checks rely on.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
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

pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Interop checks are mandatory in CI (KYSO_REQUIRE_INTEROP=1); elsewhere a missing tool skips
/// the check with a printed notice.
pub fn tool(name: &str) -> Option<PathBuf> {
    let candidates = [
        std::env::var("KYSO_PKILINT_DIR").ok().map(|d| Path::new(&d).join(name)),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/venv/bin").join(name)),
    ];
    for c in candidates.into_iter().flatten() {
        if c.exists() {
            return Some(c);
        }
    }
    let found = Command::new("sh").arg("-c").arg(format!("command -v {name}")).output().ok()?;
    let p = String::from_utf8_lossy(&found.stdout).trim().to_string();
    (!p.is_empty()).then(|| PathBuf::from(p))
}

pub fn require_tool(name: &str) -> Option<PathBuf> {
    match tool(name) {
        Some(p) => Some(p),
        None if std::env::var("KYSO_REQUIRE_INTEROP").as_deref() == Ok("1") => {
            panic!("{name} is required (run .ci/run)")
        }
        None => {
            eprintln!("NOTICE: {name} not found; skipping this interop check (run .ci/run for the full suite)");
            None
        }
    }
}

impl Env {
    pub fn new(name: &str) -> Env {
        Env::with_backend(name, Backend::Sqlite).expect("sqlite env")
    }

    /// None when PostgreSQL is unavailable outside CI (a notice is printed).
    pub fn with_backend(name: &str, backend: Backend) -> Option<Env> {
        let dir = std::env::temp_dir().join(format!("kyso-it-{name}-{}-{}", std::process::id(), free_port()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
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
        let s = Server { child };
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
        let s = Server { child };
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
}

impl Server {
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A PostgreSQL URL pointing at a fresh schema, or None (with a notice) when PostgreSQL is down
/// outside CI.
pub fn pg_schema_url(name: &str) -> Option<String> {
    let base =
        std::env::var("KYSO_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("it_{}_{}_{}", name.replace('-', "_"), std::process::id(), free_port());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let r = rt.block_on(async {
        let s = kyso_store::Store::open_postgres_schema(&base, &schema).await?;
        s.close().await;
        Ok::<_, kyso_store::StoreError>(())
    });
    match r {
        Ok(()) => Some(format!("{base}?options=-c%20search_path%3D{schema}")),
        Err(e) if std::env::var("KYSO_REQUIRE_POSTGRES").as_deref() == Ok("1") => panic!("PostgreSQL required: {e}"),
        Err(e) => {
            eprintln!("NOTICE: PostgreSQL unavailable ({e}); skipping the PostgreSQL run of {name}");
            None
        }
    }
}

/// Minimal HTTP/1.1 client (Connection: close, Content-Length bodies).
pub fn http(method: &str, url: &str, content_type: Option<&str>, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    http_with(method, url, content_type, &[], body)
}

pub fn http_with(
    method: &str,
    url: &str,
    content_type: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut s = TcpStream::connect(host)?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if let Some(ct) = content_type {
        req.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut body = buf[end + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Ok((status, body))
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(nl) = b.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(String::from_utf8_lossy(&b[..nl]).trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + n]);
        b = &b[nl + 2 + n + 2..];
    }
    out
}

/// Run an external tool; returns (success, stdout+stderr).
pub fn run(cmd: &mut Command) -> (bool, String) {
    let o = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
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
    let mut s = TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n", form.len());
    if !form.is_empty() {
        req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    if !cookie.is_empty() {
        req.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(form);
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head, String::from_utf8_lossy(&buf[end + 4..]).to_string())
}

fn set_cookie(head: &str, name: &str) -> Option<String> {
    head.lines().filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:")).find_map(|l| {
        let v = l.split_once(':')?.1.trim();
        let kv = v.split(';').next()?;
        kv.starts_with(&format!("{name}=")).then(|| kv.to_string())
    })
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
    let (_, head, body) = http_raw(&format!("{}/staff/login", env.base_url()), "GET", "", "");
    let pre = set_cookie(&head, "kyso_pre").expect("pre-session cookie");
    let i = body.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    let csrf = body[i..].split('"').next().unwrap();
    let form = format!("csrf={csrf}&username={user}&password=can+bo+xa+2026");
    let (status, head, _) = http_raw(&format!("{}/staff/login", env.base_url()), "POST", &pre, &form);
    assert_eq!(status, 303, "{head}");
    set_cookie(&head, "kyso_session").expect("session cookie")
}

/// A one-page PDF showing `text` (Helvetica), classic xref table: the input of the signing tests.
pub fn minimal_pdf(text: &str) -> Vec<u8> {
    let content = format!("BT /F1 24 Tf 72 720 Td ({text}) Tj ET");
    let objs = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offs = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offs.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let x = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f\r\n", objs.len() + 1).as_bytes());
    for o in offs {
        out.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{x}\n%%EOF\n", objs.len() + 1).as_bytes(),
    );
    out
}

/// The first sheet's cells as openpyxl (from .ci/venv) reads them, joined by `|`; `None` (with a
/// notice) when the venv is missing and interop checks are not required.
pub fn openpyxl_text(path: &Path) -> Option<String> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/venv/bin/python3");
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
