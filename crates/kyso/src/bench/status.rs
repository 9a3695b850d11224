//! `kyso bench ocsp` and `kyso bench tsa`: the real server on loopback driven by the load client
//! ([`super::load`]) at several concurrencies, with and without keep-alive, and OpenSSL's own
//! responder (`openssl ocsp -index … -port …` over an OpenSSL-made CA) and time-stamping
//! (`openssl ts -reply`) on the same machine in the same run, for the ratio.

use super::load::{self, Measured, Target};
use crate::data::DataDir;
use anyhow::{bail, Context, Result};
use kyso_authority::Authority;
use serde_json::json;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A kyso data directory with a provider `vnpt`, `certs` citizen certificates, and the server on
/// loopback.
struct Bench {
    tmp: PathBuf,
    addr: String,
    auth: Arc<Authority>,
    serials: Vec<String>,
}

impl Drop for Bench {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

async fn start(name: &str, certs: usize) -> Result<Bench> {
    let tmp = std::env::temp_dir().join(format!("kyso-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    let dir = DataDir::new(&tmp.join("data"));
    dir.create()?;
    let cfg = tmp.join("kyso.toml");
    std::fs::write(&cfg, super::sign::config(&format!("http://{addr}"), "vault", None))?;
    crate::init::init(&dir, None, Some(&cfg), None, true).await?;
    let auth = crate::data::open(&dir, None).await?;
    let mut serials = Vec::with_capacity(certs);
    for c in 0..certs {
        let req = super::sign::level2_citizen(&auth, 800_000 + c).await?;
        serials.push(auth.issue(req).await?.serial);
    }
    // the bench is one client address: lift the per-address limit of /tsa for it
    std::env::set_var("KYSO_RATE_TSA", "1000000000/1000000000");
    let state = kyso_server::AppState::new(auth.clone(), "-".into());
    tokio::spawn(kyso_server::serve(state, listener));
    Ok(Bench { tmp, addr, auth, serials })
}

/// Run the load client off the async workers (the server shares this process's runtime).
async fn measure(
    t: &Target,
    concurrency: usize,
    keep_alive: bool,
    secs: f64,
    check: fn(&[u8]) -> bool,
) -> Result<Measured> {
    let t = t.clone();
    tokio::task::spawn_blocking(move || load::run(&t, concurrency, keep_alive, secs, check)).await?
}

fn ocsp_good(body: &[u8]) -> bool {
    // OCSPResponse successful (0x0a 0x01 0x00) with a basic response
    body.len() > 100 && body.windows(3).any(|w| w == [0x0a, 0x01, 0x00])
}

fn tsa_granted(body: &[u8]) -> bool {
    // TimeStampResp: PKIStatusInfo status granted (0x02 0x01 0x00) and a token
    body.len() > 500 && body.windows(3).take(16).any(|w| w == [0x02, 0x01, 0x00])
}

fn openssl(args: &[&str], dir: &Path) -> Result<()> {
    let o = Command::new("openssl").args(args).current_dir(dir).output().context("openssl is needed for the ratio")?;
    if !o.status.success() {
        bail!("openssl {}: {}", args.join(" "), String::from_utf8_lossy(&o.stderr));
    }
    Ok(())
}

/// An OpenSSL-made CA (EC P-256) in `dir`: ca.pem/ca.key and a leaf certificate leaf.pem.
fn openssl_ca(dir: &Path, ext: &str) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    let mut a = vec!["req", "-x509"];
    a.extend(ec);
    a.extend(["-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=OpenSSL bench CA", "-days", "2"]);
    openssl(&a, dir)?;
    let mut a = vec!["req", "-new"];
    a.extend(ec);
    a.extend(["-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=OpenSSL bench leaf"]);
    openssl(&a, dir)?;
    std::fs::write(dir.join("leaf.ext"), ext)?;
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "0x1a2b3c4d5e6f",
            "-days",
            "1",
            "-extfile",
            "leaf.ext",
            "-out",
            "leaf.pem",
        ],
        dir,
    )
}

/// A child process in a process group of its own, the whole group stopped when dropped
/// (`openssl ocsp -multi` forks workers that outlive their parent).
struct Running(Child);
impl Drop for Running {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        for _ in 0..50 {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `openssl ocsp` as a responder over an index of one good certificate, signing with the CA key.
fn openssl_responder(dir: &Path) -> Result<(Running, Target)> {
    openssl_ca(dir, "basicConstraints=CA:FALSE\n")?;
    let expiry = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let e = format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}Z",
        expiry.year() % 100,
        expiry.month() as u8,
        expiry.day(),
        expiry.hour(),
        expiry.minute(),
        expiry.second()
    );
    std::fs::write(dir.join("index.txt"), format!("V\t{e}\t\t1A2B3C4D5E6F\tunknown\t/CN=OpenSSL bench leaf\n"))?;
    openssl(&["ocsp", "-issuer", "ca.pem", "-cert", "leaf.pem", "-no_nonce", "-reqout", "req.der"], dir)?;
    let port = load::free_port()?.to_string();
    let child = Command::new("openssl")
        .args([
            "ocsp",
            "-index",
            "index.txt",
            "-port",
            &port,
            "-rsigner",
            "ca.pem",
            "-rkey",
            "ca.key",
            "-CA",
            "ca.pem",
            "-multi",
            "2",
            "-nmin",
            "60",
        ])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .context("openssl ocsp")?;
    let running = Running(child);
    let addr = format!("127.0.0.1:{port}");
    load::wait_listening(&addr, Duration::from_secs(10))?;
    let t = Target {
        addr,
        method: "POST",
        path: "/".into(),
        content_type: "application/ocsp-request",
        body: std::fs::read(dir.join("req.der"))?,
    };
    Ok((running, t))
}

fn show(what: &str, m: &Measured) {
    println!(
        "  {what:<28} c={:<3} {:<13} {:>9.0}/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} requests)",
        m.concurrency,
        if m.keep_alive { "keep-alive" } else { "no keep-alive" },
        m.per_second,
        m.p50_ms,
        m.p99_ms,
        m.requests
    );
}

pub async fn ocsp(concurrency: &[usize], secs: f64, no_openssl: bool, json_mode: bool) -> Result<()> {
    let b = start("ocsp", 100).await?;
    let ca = b.auth.ca("vnpt").context("provider vnpt")?;
    let serial = hex::decode(&b.serials[0])?;
    let id = kyso_pki::ocsp::cert_id(&ca.cert, &serial, kyso_pki::alg::SHA1)?;
    let req = kyso_pki::ocsp::request_der(std::slice::from_ref(&id), None)?;
    let with_nonce = kyso_pki::ocsp::request_der(std::slice::from_ref(&id), Some(b"kyso bench nonce"))?;
    let post = Target {
        addr: b.addr.clone(),
        method: "POST",
        path: "/ocsp/vnpt".into(),
        content_type: "application/ocsp-request",
        body: req.clone(),
    };
    let get = Target {
        method: "GET",
        path: format!(
            "/ocsp/vnpt/{}",
            kyso_pki::b64::encode(&req).replace('/', "%2F").replace('+', "%2B").replace('=', "%3D")
        ),
        body: Vec::new(),
        ..post.clone()
    };
    let fresh = Target { body: with_nonce, ..post.clone() };
    // the first answer fills the cache (and starts the change feed); wait until it serves
    let (status, body) = tokio::task::spawn_blocking({
        let post = post.clone();
        move || load::once(&post)
    })
    .await??;
    if status != 200 || !ocsp_good(&body) {
        bail!("kyso OCSP answered HTTP {status}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut rows = Vec::new();
    if !json_mode {
        println!("OCSP, one good certificate, EC P-256 responder, {secs} s per row, on {} cores:", cores());
    }
    let mut kyso_close = Vec::new();
    let mut kyso_alive = Vec::new();
    for &c in concurrency {
        for keep_alive in [true, false] {
            let m = measure(&post, c, keep_alive, secs, ocsp_good).await?;
            if !json_mode {
                show("kyso POST (pre-produced)", &m);
            }
            if keep_alive {
                kyso_alive.push(m.clone());
            } else {
                kyso_close.push(m.clone());
            }
            rows.push(("kyso POST pre-produced", m));
        }
    }
    let c_mid = concurrency.iter().copied().max().unwrap_or(8).min(8);
    let m = measure(&get, c_mid, true, secs, ocsp_good).await?;
    if !json_mode {
        show("kyso GET (pre-produced)", &m);
    }
    rows.push(("kyso GET pre-produced", m));
    let m = measure(&fresh, c_mid, true, secs, ocsp_good).await?;
    if !json_mode {
        show("kyso POST with nonce (fresh)", &m);
    }
    rows.push(("kyso POST with nonce (fresh)", m));

    let mut ratios = Vec::new();
    if !no_openssl {
        let dir = b.tmp.join("openssl-ocsp");
        let (_responder, t) = openssl_responder(&dir)?;
        for ((&c, k), ka) in concurrency.iter().zip(&kyso_close).zip(&kyso_alive) {
            let m = measure(&t, c, false, secs, ocsp_good).await?;
            if !json_mode {
                show("openssl ocsp -multi 2", &m);
            }
            ratios.push(json!({
                "concurrency": c,
                "kyso_over_openssl_no_keep_alive": k.per_second / m.per_second,
                "kyso_keep_alive_over_openssl": ka.per_second / m.per_second,
            }));
            rows.push(("openssl ocsp -multi 2", m));
        }
        if !json_mode {
            for r in &ratios {
                println!(
                    "  ratio kyso / openssl ocsp at c={}: both without keep-alive {:.2}×; kyso with keep-alive (openssl closes each connection) {:.2}×",
                    r["concurrency"],
                    r["kyso_over_openssl_no_keep_alive"].as_f64().unwrap_or(0.0),
                    r["kyso_keep_alive_over_openssl"].as_f64().unwrap_or(0.0)
                );
            }
        }
    }
    if json_mode {
        let rows: Vec<_> = rows.iter().map(|(w, m)| json!({"what": w, "measured": m.to_json()})).collect();
        println!("{}", json!({"bench": "ocsp", "cores": cores(), "rows": rows, "ratios": ratios}));
    }
    Ok(())
}

pub async fn tsa(concurrency: &[usize], secs: f64, openssl_tokens: usize, json_mode: bool) -> Result<()> {
    let b = start("tsa", 0).await?;
    let digest: [u8; 32] = kyso_pki::alg::sha256(b"dossier").try_into().expect("32 bytes");
    let req = kyso_sign::cades::timestamp_request_for_digest(digest, &[0x4b, 0x59, 0x53, 0x4f])?;
    let post = Target {
        addr: b.addr.clone(),
        method: "POST",
        path: "/tsa".into(),
        content_type: "application/timestamp-query",
        body: req.clone(),
    };
    let (status, body) = tokio::task::spawn_blocking({
        let post = post.clone();
        move || load::once(&post)
    })
    .await??;
    if status != 200 || !tsa_granted(&body) {
        bail!("kyso TSA answered HTTP {status}");
    }
    if !json_mode {
        println!("RFC 3161 time-stamps, EC P-256 TSA key, certReq, {secs} s per row, on {} cores:", cores());
    }
    let mut rows = Vec::new();
    for &c in concurrency {
        for keep_alive in [true, false] {
            let m = measure(&post, c, keep_alive, secs, tsa_granted).await?;
            if !json_mode {
                show("kyso POST /tsa", &m);
            }
            rows.push(("kyso POST /tsa", m));
        }
    }
    let mut openssl_rate = None;
    if openssl_tokens > 0 {
        let dir = b.tmp.join("openssl-ts");
        openssl_ca(&dir, "basicConstraints=CA:FALSE\nextendedKeyUsage=critical,timeStamping\n")?;
        std::fs::write(dir.join("req.tsq"), &req)?;
        std::fs::write(
            dir.join("tsa.cnf"),
            "[tsa]\ndefault_tsa = t\n[t]\nserial = serial.txt\nsigner_cert = leaf.pem\nsigner_key = leaf.key\nsigner_digest = sha256\ndefault_policy = 1.3.6.1.4.1.32473.1.3.1\ndigests = sha256\naccuracy = secs:1\ness_cert_id_alg = sha256\n",
        )?;
        std::fs::write(dir.join("serial.txt"), "01\n")?;
        // one process per token, two at a time (one per core): what `openssl ts -reply` can do
        let t = Instant::now();
        let per = openssl_tokens.div_ceil(2);
        let d = dir.clone();
        tokio::task::spawn_blocking(move || {
            std::thread::scope(|s| {
                let hs: Vec<_> = (0..2)
                    .map(|w| {
                        let d = &d;
                        s.spawn(move || -> Result<()> {
                            for i in 0..per {
                                let out = format!("resp-{w}-{i}.tsr");
                                openssl(
                                    &["ts", "-reply", "-config", "tsa.cnf", "-queryfile", "req.tsq", "-out", &out],
                                    d,
                                )?;
                            }
                            Ok(())
                        })
                    })
                    .collect();
                for h in hs {
                    h.join().map_err(|_| anyhow::anyhow!("openssl worker panicked"))??;
                }
                Ok::<_, anyhow::Error>(())
            })
        })
        .await??;
        let rate = (per * 2) as f64 / t.elapsed().as_secs_f64();
        if !json_mode {
            println!(
                "  openssl ts -reply (one process per token, 2 at a time): {rate:.0} tokens/s ({} tokens)",
                per * 2
            );
        }
        openssl_rate = Some(rate);
    }
    if json_mode {
        let rows: Vec<_> = rows.iter().map(|(w, m)| json!({"what": w, "measured": m.to_json()})).collect();
        println!(
            "{}",
            json!({"bench": "tsa", "cores": cores(), "rows": rows, "openssl_ts_reply_per_second": openssl_rate})
        );
    }
    Ok(())
}

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}
