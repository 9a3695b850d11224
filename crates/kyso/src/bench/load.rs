//! A small HTTP/1.1 load generator for the status benches: N client threads, each sending the same
//! request for a fixed time, over one kept-alive connection or a new connection per request,
//! counting answers and their latency.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// One request, sent again and again.
#[derive(Clone)]
pub struct Target {
    pub addr: String,
    pub method: &'static str,
    pub path: String,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// What a run measured.
#[derive(Clone, Debug)]
pub struct Measured {
    pub concurrency: usize,
    pub keep_alive: bool,
    pub requests: usize,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl Measured {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "concurrency": self.concurrency, "keep_alive": self.keep_alive, "requests": self.requests,
            "per_second": self.per_second, "p50_ms": self.p50_ms, "p99_ms": self.p99_ms,
        })
    }
}

impl Target {
    fn head(&self, keep_alive: bool) -> Vec<u8> {
        let conn = if keep_alive { "keep-alive" } else { "close" };
        let mut h = format!("{} {} HTTP/1.1\r\nHost: bench\r\nConnection: {conn}\r\n", self.method, self.path);
        if !self.body.is_empty() {
            h.push_str(&format!("Content-Type: {}\r\nContent-Length: {}\r\n", self.content_type, self.body.len()));
        }
        h.push_str("\r\n");
        let mut v = h.into_bytes();
        v.extend_from_slice(&self.body);
        v
    }
}

/// Read one response: its status and body (Content-Length, or to the end when the server closes).
fn read_response(r: &mut BufReader<TcpStream>) -> Result<(u16, Vec<u8>)> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        bail!("connection closed before a response");
    }
    let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).context("bad status line")?;
    let mut len = None;
    loop {
        line.clear();
        r.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = Some(v.trim().parse::<usize>()?);
        }
    }
    let mut body = Vec::new();
    match len {
        Some(n) => {
            body.resize(n, 0);
            r.read_exact(&mut body)?;
        }
        None => {
            r.read_to_end(&mut body)?;
        }
    }
    Ok((status, body))
}

fn connect(addr: &str) -> Result<(BufReader<TcpStream>, TcpStream)> {
    let s = TcpStream::connect(addr).with_context(|| format!("connect {addr}"))?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    Ok((BufReader::new(s.try_clone()?), s))
}

/// One request and its answer (for checks before a run).
pub fn once(t: &Target) -> Result<(u16, Vec<u8>)> {
    let (mut r, mut w) = connect(&t.addr)?;
    w.write_all(&t.head(false))?;
    read_response(&mut r)
}

/// `concurrency` clients for `secs` seconds. Every answer must be 200 with a body for which
/// `check` holds (checked on each client's first answer).
pub fn run(t: &Target, concurrency: usize, keep_alive: bool, secs: f64, check: fn(&[u8]) -> bool) -> Result<Measured> {
    let head = t.head(keep_alive);
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(secs);
    let mut lat: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..concurrency)
            .map(|_| {
                let head = &head;
                s.spawn(move || -> Result<Vec<Duration>> {
                    let mut l = Vec::with_capacity(65_536);
                    let mut conn = None;
                    let mut first = true;
                    while Instant::now() < until {
                        let t0 = Instant::now();
                        if conn.is_none() {
                            conn = Some(connect(&t.addr)?);
                        }
                        let (r, w) = conn.as_mut().expect("connected");
                        w.write_all(head)?;
                        let (status, body) = read_response(r)?;
                        if status != 200 || (first && !check(&body)) {
                            bail!("{} {}: HTTP {status}, {} bytes", t.method, t.addr, body.len());
                        }
                        first = false;
                        if !keep_alive {
                            conn = None;
                        }
                        l.push(t0.elapsed());
                    }
                    Ok(l)
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.join().map_err(|_| anyhow::anyhow!("load client panicked"))??);
        }
        Ok::<_, anyhow::Error>(all)
    })?;
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort_unstable();
    let pct = |p: f64| {
        if lat.is_empty() {
            return 0.0;
        }
        lat[((lat.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
    };
    Ok(Measured {
        concurrency,
        keep_alive,
        requests: lat.len(),
        per_second: lat.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    })
}

/// Wait until something accepts connections at `addr`.
pub fn wait_listening(addr: &str, within: Duration) -> Result<()> {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("nothing listens at {addr}")
}

/// A free loopback port (bound, then released).
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
