//! A small HTTP/1.1 load generator for the status benches: N clients on one epoll thread, each
//! sending the same request for a fixed time, over one kept-alive connection or a new connection
//! per request, counting answers and their latency.

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

/// `concurrency` clients for `secs` seconds, multiplexed on one thread with epoll (a current-thread
/// tokio runtime): a thread per client spends more of the machine on context switches than the
/// server under test does on its requests, which is what a connection-per-request run measured.
/// Every answer must be 200 with a body for which `check` holds (checked on each client's first
/// answer).
pub fn run(t: &Target, concurrency: usize, keep_alive: bool, secs: f64, check: fn(&[u8]) -> bool) -> Result<Measured> {
    let head: std::sync::Arc<[u8]> = t.head(keep_alive).into();
    let addr: std::net::SocketAddr = t.addr.parse().with_context(|| format!("load target {}", t.addr))?;
    let what = format!("{} {}", t.method, t.addr);
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(secs);
    let mut lat = std::thread::scope(|s| {
        s.spawn(|| -> Result<Vec<Duration>> {
            let rt = tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build()?;
            rt.block_on(async {
                let mut clients = tokio::task::JoinSet::new();
                for _ in 0..concurrency {
                    let head = head.clone();
                    let what = what.clone();
                    clients.spawn(client(addr, head, keep_alive, until, check, what));
                }
                let mut all = Vec::new();
                while let Some(r) = clients.join_next().await {
                    all.extend(r.map_err(|_| anyhow::anyhow!("load client panicked"))??);
                }
                Ok(all)
            })
        })
        .join()
        .map_err(|_| anyhow::anyhow!("load thread panicked"))?
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

/// One client: the request sent, the answer read, again until `until` (a new connection for each
/// request without keep-alive).
async fn client(
    addr: std::net::SocketAddr,
    head: std::sync::Arc<[u8]>,
    keep_alive: bool,
    until: Instant,
    check: fn(&[u8]) -> bool,
    what: String,
) -> Result<Vec<Duration>> {
    let mut l = Vec::with_capacity(65_536);
    let mut conn: Option<tokio::net::TcpStream> = None;
    let mut buf = Vec::with_capacity(8192);
    let mut first = true;
    while Instant::now() < until {
        let t0 = Instant::now();
        let s = match conn.take() {
            Some(s) => s,
            None => {
                let s = tokio::net::TcpStream::connect(addr).await.with_context(|| format!("connect {addr}"))?;
                s.set_nodelay(true)?;
                s
            }
        };
        write_all(&s, &head).await?;
        let (status, body) =
            tokio::time::timeout(Duration::from_secs(30), read_response_async(&s, &mut buf, keep_alive))
                .await
                .with_context(|| format!("{what}: no answer in 30 s"))??;
        if status != 200 || (first && !check(body)) {
            bail!("{what}: HTTP {status}, {} bytes", body.len());
        }
        first = false;
        if keep_alive {
            conn = Some(s);
        }
        l.push(t0.elapsed());
    }
    Ok(l)
}

async fn write_all(s: &tokio::net::TcpStream, mut data: &[u8]) -> Result<()> {
    while !data.is_empty() {
        s.writable().await?;
        match s.try_write(data) {
            Ok(0) => bail!("connection closed while sending"),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Read more into `buf`; false at the end of the stream.
async fn fill(s: &tokio::net::TcpStream, buf: &mut Vec<u8>) -> Result<bool> {
    let have = buf.len();
    buf.resize(have + 8192, 0);
    loop {
        s.readable().await?;
        match s.try_read(&mut buf[have..]) {
            Ok(n) => {
                buf.truncate(have + n);
                return Ok(n > 0);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => {
                buf.truncate(have);
                return Err(e.into());
            }
        }
    }
}

/// One response from `s` (the previous one's bytes already dropped from `buf`): its status and body
/// (Content-Length, or to the end of the stream when the server closes).
async fn read_response_async<'b>(
    s: &tokio::net::TcpStream,
    buf: &'b mut Vec<u8>,
    keep_alive: bool,
) -> Result<(u16, &'b [u8])> {
    buf.clear();
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            bail!("response head over 64 KiB");
        }
        if !fill(s, buf).await? {
            bail!("connection closed before a response");
        }
    };
    let head = std::str::from_utf8(&buf[..head_end]).context("response head is not text")?;
    let status: u16 = head.split_whitespace().nth(1).and_then(|v| v.parse().ok()).context("bad status line")?;
    let len = head.split("\r\n").find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim().eq_ignore_ascii_case("content-length").then(|| value.trim().parse::<usize>().ok())?
    });
    match len {
        Some(n) => {
            while buf.len() < head_end + n {
                if !fill(s, buf).await? {
                    bail!("connection closed inside a body");
                }
            }
            Ok((status, &buf[head_end..head_end + n]))
        }
        None if keep_alive => bail!("a kept-alive answer without Content-Length"),
        None => {
            while fill(s, buf).await? {}
            Ok((status, &buf[head_end..]))
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that answers every request on a connection with `status` and the body "kyso-ok",
    /// the head and the body in two writes (so the client must put the answer together), keeping
    /// the connection when asked to.
    fn server(status: u16) -> String {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { return };
                std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    loop {
                        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                            match s.read(&mut chunk) {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                            continue;
                        };
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        buf.drain(..end + 4);
                        let close = head.contains("connection: close");
                        let _ = s.write_all(format!("HTTP/1.1 {status} X\r\nContent-Length: 7\r\n\r\n").as_bytes());
                        let _ = s.flush();
                        let _ = s.write_all(b"kyso-ok");
                        if close {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    fn target(addr: String) -> Target {
        Target { addr, method: "GET", path: "/".into(), content_type: "", body: Vec::new() }
    }

    #[test]
    fn counts_answers_with_and_without_keep_alive() {
        let t = target(server(200));
        for keep_alive in [true, false] {
            let m = run(&t, 3, keep_alive, 0.3, |b| b == b"kyso-ok").unwrap();
            assert!(m.requests > 10, "{m:?}");
            assert!(m.p50_ms <= m.p99_ms, "{m:?}");
        }
    }

    #[test]
    fn a_wrong_answer_stops_the_run() {
        let t = target(server(200));
        let e = run(&t, 2, true, 0.3, |b| b == b"something else").unwrap_err();
        assert!(e.to_string().contains("HTTP 200, 7 bytes"), "{e}");
        let t = target(server(503));
        let e = run(&t, 2, false, 0.3, |_| true).unwrap_err();
        assert!(e.to_string().contains("HTTP 503"), "{e}");
    }
}
