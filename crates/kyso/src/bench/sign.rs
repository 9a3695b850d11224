//! `kyso bench sign`: remote signing measured like a client sees it — a real `kyso` HTTP server on
//! loopback, clients on keep-alive connections calling `credentials/authorize` and
//! `signatures/signHash` of the CSC-shaped API.

use crate::data::DataDir;
use anyhow::{bail, Context, Result};
use kyso_authority::IssueRequest;
use kyso_custody::Pin;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const PIN: &str = "531642";

/// A minimal HTTP/1.1 keep-alive client for JSON POSTs.
struct Client {
    r: BufReader<TcpStream>,
    w: TcpStream,
    auth: String,
}

impl Client {
    fn connect(addr: &str, token: &str) -> Result<Client> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        Ok(Client { r: BufReader::new(s.try_clone()?), w: s, auth: format!("Bearer {token}") })
    }
    fn post(&mut self, path: &str, body: &Value) -> Result<(u16, Value)> {
        let b = body.to_string();
        let req = format!("POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nAuthorization: {}\r\nContent-Length: {}\r\n\r\n{b}", self.auth, b.len());
        self.w.write_all(req.as_bytes())?;
        let mut line = String::new();
        self.r.read_line(&mut line)?;
        let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).context("bad status line")?;
        let mut len = 0usize;
        loop {
            line.clear();
            self.r.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse()?;
            }
        }
        let mut buf = vec![0u8; len];
        self.r.read_exact(&mut buf)?;
        Ok((status, serde_json::from_slice(&buf)?))
    }
}

pub(super) fn config(base: &str, custody: &str, module: Option<&str>) -> String {
    let pkcs11 = module.map(|m| format!("[pkcs11]\nmodule = \"{m}\"\ntoken = \"kyso-bench\"\n")).unwrap_or_default();
    format!(
        "base_url = \"{base}\"\n[root]\nname = \"Kyso Root (bench)\"\norganization = \"Kyso bench\"\n[tsa]\nname = \"Kyso TSA (bench)\"\npolicy_oid = \"1.3.6.1.4.1.32473.1.3.1\"\n{pkcs11}\n[[providers]]\nid = \"vnpt\"\nname = \"VNPT-CA (bench)\"\norganization = \"VNPT (bench)\"\npolicy_oid = \"1.3.6.1.4.1.32473.1.2.1\"\ncitizen_key_custody = \"{custody}\"\n"
    )
}

/// A SoftHSM2 token of the bench's own, in its temporary directory.
fn softhsm(dir: &std::path::Path) -> Result<String> {
    let module = std::env::var("KYSO_PKCS11_MODULE").unwrap_or_else(|_| "/usr/lib/softhsm/libsofthsm2.so".into());
    let conf = dir.join("softhsm2.conf");
    std::fs::create_dir_all(dir.join("tokens"))?;
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            dir.join("tokens").display()
        ),
    )?;
    std::env::set_var("SOFTHSM2_CONF", &conf);
    std::env::set_var("KYSO_PKCS11_PIN", "87654321");
    let st = std::process::Command::new("softhsm2-util")
        .args(["--init-token", "--free", "--label", "kyso-bench", "--so-pin", "12345678", "--pin", "87654321"])
        .stdout(std::process::Stdio::null())
        .status()
        .context("softhsm2-util (Debian package softhsm2) is needed for --custody pkcs11")?;
    if !st.success() {
        bail!("softhsm2-util could not create the bench token");
    }
    Ok(module)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

pub async fn run(
    custody: &str,
    clients: usize,
    batches: usize,
    batch_size: usize,
    authorize_calls: usize,
    json_mode: bool,
) -> Result<()> {
    if !matches!(custody, "vault" | "pkcs11") {
        bail!("--custody: vault or pkcs11");
    }
    if batch_size == 0 || batch_size > 1000 {
        bail!("--batch-size: 1 to 1000");
    }
    let tmp = std::env::temp_dir().join(format!("kyso-bench-sign-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    let module = if custody == "pkcs11" { Some(softhsm(&tmp)?) } else { None };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    let dir = DataDir::new(&tmp.join("data"));
    dir.create()?;
    let cfg = tmp.join("kyso.toml");
    std::fs::write(&cfg, config(&format!("http://{addr}"), custody, module.as_deref()))?;
    crate::init::init(&dir, None, Some(&cfg), None, true).await?;
    let auth = crate::data::open(&dir, None).await?;
    let pin = Pin::parse(PIN)?;
    let mut creds = Vec::new();
    for c in 0..clients {
        let req = level2_citizen(&auth, 900_000 + c).await?;
        let id = req.id_number.clone();
        let a = auth.activate(req, &pin).await?;
        creds.push((a.credential_id, auth.issue_access_token(&id, 3600, "bench").await?));
    }
    let state = kyso_server::AppState::new(auth.clone(), "-".into());
    tokio::spawn(kyso_server::serve(state, listener));

    let hashes: Vec<String> = (0..batch_size)
        .map(|i| {
            let d = aws_digest(format!("dossier {i}").as_bytes());
            b64(&d)
        })
        .collect();
    // (a) batches: one authorize + one signHash of `batch_size` hashes
    let t = Instant::now();
    let results = run_clients(&addr, &creds, |c, cred| {
        for _ in 0..batches {
            let (s, a) =
                c.post("/csc/v2/credentials/authorize", &json!({"credentialID": cred, "hashes": hashes, "PIN": PIN}))?;
            if s != 200 {
                bail!("authorize: {a}");
            }
            let (s, r) = c.post(
                "/csc/v2/signatures/signHash",
                &json!({"credentialID": cred, "SAD": a["SAD"], "hashes": hashes}),
            )?;
            if s != 200 || r["signatures"].as_array().map(Vec::len) != Some(batch_size) {
                bail!("signHash: {r}");
            }
        }
        Ok(Vec::new())
    })?;
    drop(results);
    let secs = t.elapsed().as_secs_f64();
    let sigs = (clients * batches * batch_size) as f64;
    // (b) authorize alone: one hash per call, latency per call
    let t2 = Instant::now();
    let mut lat = run_clients(&addr, &creds, |c, cred| {
        let mut l = Vec::with_capacity(authorize_calls);
        for _ in 0..authorize_calls {
            let s0 = Instant::now();
            let (s, a) = c.post(
                "/csc/v2/credentials/authorize",
                &json!({"credentialID": cred, "hashes": [hashes[0]], "PIN": PIN}),
            )?;
            if s != 200 {
                bail!("authorize: {a}");
            }
            l.push(s0.elapsed());
        }
        Ok(l)
    })?;
    let secs2 = t2.elapsed().as_secs_f64();
    lat.sort();
    let (p50, p99) = (percentile(&lat, 0.50), percentile(&lat, 0.99));
    let rate = sigs / secs;
    let arate = lat.len() as f64 / secs2;
    if json_mode {
        println!(
            "{}",
            json!({"custody": custody, "clients": clients, "batch_size": batch_size, "signatures_per_second": rate, "authorize_per_second": arate, "authorize_p50_ms": p50, "authorize_p99_ms": p99})
        );
    } else {
        println!("custody {custody}, {clients} clients, EC P-256, HTTP on loopback:");
        println!("  (a) batches of {batch_size}: {sigs:.0} signatures in {secs:.2} s = {rate:.0} signatures/s");
        println!(
            "  (b) authorize alone: {} calls in {secs2:.2} s = {arate:.1}/s, p50 {p50:.1} ms, p99 {p99:.1} ms",
            lat.len()
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

fn run_clients<F>(addr: &str, creds: &[(String, String)], f: F) -> Result<Vec<Duration>>
where
    F: Fn(&mut Client, &str) -> Result<Vec<Duration>> + Sync,
{
    std::thread::scope(|s| {
        let handles: Vec<_> = creds
            .iter()
            .map(|(cred, tok)| {
                let f = &f;
                s.spawn(move || -> Result<Vec<Duration>> {
                    let mut c = Client::connect(addr, tok)?;
                    f(&mut c, cred)
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.join().map_err(|_| anyhow::anyhow!("bench client panicked"))??);
        }
        Ok(all)
    })
}

fn aws_digest(b: &[u8]) -> Vec<u8> {
    kyso_pki::alg::sha256(b)
}

fn b64(b: &[u8]) -> String {
    kyso_pki::b64::encode(b)
}

/// The synthetic resident `n`, recorded at e-ID level 2, as a VNPT-CA issuance request.
pub(super) async fn level2_citizen(auth: &kyso_authority::Authority, n: usize) -> Result<IssueRequest> {
    let (id, name) = crate::demo::synthetic_resident(n);
    let s = kyso_pki::CitizenSubject::new(&id, &name, "Tỉnh Thái Nguyên", None)?;
    auth.register_citizen(&s, 2, "bench").await?;
    Ok(IssueRequest {
        id_number: id,
        full_name: name,
        province: "Tỉnh Thái Nguyên".into(),
        commune: None,
        provider: "vnpt".into(),
        key_algorithm: None,
        validity_days: None,
        actor: "bench".into(),
    })
}
