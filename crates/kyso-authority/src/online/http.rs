//! A small blocking HTTP/1.1 client for revocation data and CA certificates (`http://` only, as
//! OCSP, CRL and caIssuers URLs are): one connection a request (`Connection: close`), a deadline
//! over the whole exchange (the name look-up included), a cap on the body, a bounded number of
//! redirects. Every host — the first and each redirect's — is resolved once, every address it
//! resolves to is checked against [`Reach`] (public addresses on port 80 unless allowed), and the
//! connection goes to those checked addresses. It runs on tokio's blocking pool behind the
//! fetcher's semaphore, never on an async worker.

use super::reach::{Reach, Refusal};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Bounds on one fetch.
#[derive(Clone, Debug)]
pub struct Bounds {
    /// The whole exchange (connect, send, receive), redirects included.
    pub timeout: Duration,
    /// Largest body accepted.
    pub max_bytes: usize,
    pub max_redirects: u8,
    /// Which addresses and ports may be connected to.
    pub reach: Reach,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FetchError {
    #[error("«{0}» is not an http:// URL")]
    BadUrl(String),
    #[error("cannot connect to {0}")]
    Connect(String),
    #[error("no answer within {0} s")]
    Timeout(u64),
    #[error("the answer is larger than {0} bytes")]
    TooBig(usize),
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("malformed HTTP answer: {0}")]
    Malformed(String),
    #[error("more than {0} redirects")]
    Redirects(u8),
    #[error("{0}")]
    Refused(Refusal),
}

struct Url {
    host: String,
    port: u16,
    path: String,
}

fn parse_url(url: &str) -> Result<Url, FetchError> {
    let bad = || FetchError::BadUrl(url.chars().take(200).collect());
    let rest = url.strip_prefix("http://").ok_or_else(bad)?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') || path.chars().any(|c| c.is_control() || c == ' ') {
        return Err(bad());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let end = v6.find(']').ok_or_else(bad)?;
        let port = v6[end + 1..].strip_prefix(':').map(|p| p.parse::<u16>().map_err(|_| bad())).transpose()?;
        (format!("[{}]", &v6[..end]), port.unwrap_or(80))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse::<u16>().map_err(|_| bad())?),
            None => (authority.to_string(), 80),
        }
    };
    Ok(Url { host, port, path: path.to_string() })
}

/// GET `url`: the body of a 200 answer.
pub fn get(url: &str, b: &Bounds) -> Result<Vec<u8>, FetchError> {
    request(url, None, "", b)
}

/// POST `body` as `content_type` to `url` (an OCSP request, RFC 6960 appendix A.1).
pub fn post(url: &str, content_type: &str, body: &[u8], b: &Bounds) -> Result<Vec<u8>, FetchError> {
    request(url, Some((content_type, body)), "", b)
}

/// [`post`] with an `Authorization: Bearer` header (a notification gateway's token; a token with
/// a line break is refused). A 200 answer counts; its body is returned.
pub fn post_bearer(url: &str, content_type: &str, token: &str, body: &[u8], b: &Bounds) -> Result<Vec<u8>, FetchError> {
    if token.chars().any(|c| c.is_control()) {
        return Err(FetchError::Malformed("a token with a control character".into()));
    }
    let extra = if token.is_empty() { String::new() } else { format!("Authorization: Bearer {token}\r\n") };
    request(url, Some((content_type, body)), &extra, b)
}

fn request(url: &str, post: Option<(&str, &[u8])>, extra: &str, b: &Bounds) -> Result<Vec<u8>, FetchError> {
    let deadline = Instant::now() + b.timeout;
    let mut url = url.to_string();
    for _ in 0..=b.max_redirects {
        match once(&url, post, extra, b, deadline)? {
            Answer::Body(body) => return Ok(body),
            Answer::Redirect(to) => {
                // a relative Location resolves against this URL's origin
                url = if to.starts_with('/') {
                    let u = parse_url(&url)?;
                    format!("http://{}:{}{to}", u.host, u.port)
                } else {
                    to
                };
            }
        }
    }
    Err(FetchError::Redirects(b.max_redirects))
}

enum Answer {
    Body(Vec<u8>),
    Redirect(String),
}

fn left(deadline: Instant, total: Duration) -> Result<Duration, FetchError> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or(FetchError::Timeout(total.as_secs().max(1)))
}

/// The addresses `host` resolves to, each checked: all of them, or the refusal. The look-up
/// counts against the fetch's deadline: the system resolver has no timeout of its own, so it
/// runs on a thread of its own and is abandoned (it ends with the resolver's own retries) when
/// the deadline passes.
fn resolve_checked(
    host: &str,
    port: u16,
    reach: &Reach,
    deadline: Instant,
    total: Duration,
) -> Result<Vec<SocketAddr>, FetchError> {
    let bare = host.trim_matches(|c| c == '[' || c == ']');
    let addrs: Vec<SocketAddr> = match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => {
            let (tx, rx) = std::sync::mpsc::channel();
            let name = bare.to_string();
            std::thread::Builder::new()
                .name("kyso-resolve".into())
                .spawn(move || {
                    let _ = tx.send((name.as_str(), port).to_socket_addrs().map(Iterator::collect::<Vec<_>>));
                })
                .map_err(|e| FetchError::Connect(format!("{host}: {e}")))?;
            match rx.recv_timeout(left(deadline, total)?) {
                Ok(r) => r.map_err(|e| FetchError::Connect(format!("{host}: {e}")))?,
                Err(_) => return Err(FetchError::Timeout(total.as_secs().max(1))),
            }
        }
    };
    let ips: Vec<_> = addrs.iter().map(SocketAddr::ip).collect();
    reach.check(host, port, &ips).map_err(FetchError::Refused)?;
    Ok(addrs)
}

fn once(
    url: &str,
    post: Option<(&str, &[u8])>,
    extra: &str,
    b: &Bounds,
    deadline: Instant,
) -> Result<Answer, FetchError> {
    let u = parse_url(url)?;
    let timeout = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            FetchError::Timeout(b.timeout.as_secs().max(1))
        }
        _ => FetchError::Connect(format!("{}:{}: {e}", u.host, u.port)),
    };
    // connect only to the addresses just checked: no second resolution (no DNS rebinding)
    let addrs = resolve_checked(&u.host, u.port, &b.reach, deadline, b.timeout)?;
    let mut stream = None;
    let mut last = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, left(deadline, b.timeout)?) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let mut s = stream.ok_or_else(|| match last {
        Some(e) => timeout(e),
        None => FetchError::Connect(u.host.clone()),
    })?;
    let host = if u.port == 80 { u.host.clone() } else { format!("{}:{}", u.host, u.port) };
    let mut req = match post {
        Some((ct, body)) => format!(
            "POST {} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n{extra}Accept: */*\r\nConnection: close\r\nUser-Agent: kyso\r\n\r\n",
            u.path,
            body.len()
        )
        .into_bytes(),
        None => format!("GET {} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\nConnection: close\r\nUser-Agent: kyso\r\n\r\n", u.path)
            .into_bytes(),
    };
    if let Some((_, body)) = post {
        req.extend_from_slice(body);
    }
    s.set_write_timeout(Some(left(deadline, b.timeout)?)).map_err(timeout)?;
    s.write_all(&req).map_err(timeout)?;
    // headers (≤ 16 KiB) + body (≤ max_bytes), read until the server closes
    let cap = b.max_bytes.saturating_add(16 << 10);
    let mut buf = Vec::with_capacity(8192.min(cap));
    let mut chunk = [0u8; 16384];
    loop {
        s.set_read_timeout(Some(left(deadline, b.timeout)?)).map_err(timeout)?;
        let n = s.read(&mut chunk).map_err(timeout)?;
        if n == 0 {
            break;
        }
        if buf.len() + n > cap {
            return Err(FetchError::TooBig(b.max_bytes));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    parse_answer(&buf, b.max_bytes)
}

fn parse_answer(buf: &[u8], max: usize) -> Result<Answer, FetchError> {
    let bad = |w: &str| FetchError::Malformed(w.to_string());
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| bad("no end of headers"))?;
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| bad("headers are not text"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let code: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .filter(|_| status_line.starts_with("HTTP/1."))
        .ok_or_else(|| bad("no status line"))?;
    let mut length = None;
    let mut chunked = false;
    let mut location = None;
    for l in lines {
        let Some((k, v)) = l.split_once(':') else { continue };
        let v = v.trim();
        match k.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = Some(v.parse::<usize>().map_err(|_| bad("Content-Length"))?),
            "transfer-encoding" => chunked = v.to_ascii_lowercase().contains("chunked"),
            "location" => location = Some(v.to_string()),
            _ => {}
        }
    }
    if matches!(code, 301 | 302 | 303 | 307 | 308) {
        return location.map(Answer::Redirect).ok_or_else(|| bad("a redirect without Location"));
    }
    if code != 200 {
        return Err(FetchError::Status(code));
    }
    let raw = &buf[end + 4..];
    let body = if chunked {
        dechunk(raw, max)?
    } else if let Some(n) = length {
        if n > max {
            return Err(FetchError::TooBig(max));
        }
        raw.get(..n).ok_or_else(|| bad("the body is shorter than Content-Length"))?.to_vec()
    } else {
        raw.to_vec()
    };
    if body.len() > max {
        return Err(FetchError::TooBig(max));
    }
    Ok(Answer::Body(body))
}

fn dechunk(mut raw: &[u8], max: usize) -> Result<Vec<u8>, FetchError> {
    let bad = |w: &str| FetchError::Malformed(w.to_string());
    let mut out = Vec::new();
    loop {
        let eol = raw.windows(2).position(|w| w == b"\r\n").ok_or_else(|| bad("chunk size line"))?;
        let size_text = std::str::from_utf8(&raw[..eol]).map_err(|_| bad("chunk size"))?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| bad("chunk size"))?;
        raw = &raw[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if out.len().saturating_add(size) > max {
            return Err(FetchError::TooBig(max));
        }
        out.extend_from_slice(raw.get(..size).ok_or_else(|| bad("a cut chunk"))?);
        raw = raw.get(size + 2..).ok_or_else(|| bad("a cut chunk"))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn serve(answers: Vec<Vec<u8>>) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for a in answers {
                let (mut c, _) = l.accept().unwrap();
                let mut req = [0u8; 4096];
                let _ = c.read(&mut req);
                let _ = c.write_all(&a);
            }
        });
        port
    }

    fn lab() -> Reach {
        Reach::new(vec![crate::online::reach::Cidr::parse("127.0.0.0/8").unwrap()])
    }

    fn b(max: usize) -> Bounds {
        Bounds { timeout: Duration::from_secs(2), max_bytes: max, max_redirects: 2, reach: lab() }
    }

    #[test]
    fn bodies_lengths_chunks_redirects_and_bounds() {
        let p = serve(vec![b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabcdef".to_vec()]);
        assert_eq!(get(&format!("http://127.0.0.1:{p}/x"), &b(10)).unwrap(), b"abc");
        let p = serve(vec![
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1;x=y\r\nc\r\n0\r\n\r\n".to_vec()
        ]);
        assert_eq!(post(&format!("http://127.0.0.1:{p}/"), "application/ocsp-request", b"q", &b(10)).unwrap(), b"abc");
        let p = serve(vec![b"HTTP/1.1 200 OK\r\n\r\n0123456789A".to_vec()]);
        assert_eq!(get(&format!("http://127.0.0.1:{p}/"), &b(10)), Err(FetchError::TooBig(10)));
        let p = serve(vec![b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec()]);
        assert_eq!(get(&format!("http://127.0.0.1:{p}/"), &b(10)), Err(FetchError::Status(404)));
        let p = serve(vec![
            b"HTTP/1.1 302 Found\r\nLocation: /b\r\n\r\n".to_vec(),
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
        ]);
        assert_eq!(get(&format!("http://127.0.0.1:{p}/a"), &b(10)).unwrap(), b"ok");
        let loop_answer = b"HTTP/1.1 302 Found\r\nLocation: /a\r\n\r\n".to_vec();
        let p = serve(vec![loop_answer.clone(), loop_answer.clone(), loop_answer]);
        assert_eq!(get(&format!("http://127.0.0.1:{p}/a"), &b(10)), Err(FetchError::Redirects(2)));
        assert!(matches!(get("https://example.org/", &b(10)), Err(FetchError::BadUrl(_))));
        assert!(matches!(get("http://user@host/", &b(10)), Err(FetchError::BadUrl(_))));
    }

    #[test]
    fn a_silent_server_times_out() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let t = std::thread::spawn(move || {
            let (c, _) = l.accept().unwrap();
            std::thread::sleep(Duration::from_millis(1500));
            drop(c);
        });
        let bounds = Bounds { timeout: Duration::from_millis(300), max_bytes: 10, max_redirects: 0, reach: lab() };
        assert!(matches!(get(&format!("http://127.0.0.1:{port}/"), &bounds), Err(FetchError::Timeout(_))));
        t.join().unwrap();
    }

    /// A listener that counts the connections it accepts (non-blocking, polled until dropped).
    fn counting(ip: &str) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        let l = TcpListener::bind((ip, 0)).unwrap();
        l.set_nonblocking(true).unwrap();
        let port = l.local_addr().unwrap().port();
        let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = n.clone();
        std::thread::spawn(move || {
            for _ in 0..300 {
                if l.accept().is_ok() {
                    seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        (port, n)
    }

    #[test]
    fn private_addresses_are_never_connected_to_unless_allowed() {
        let (port, n) = counting("127.0.0.1");
        let closed = Bounds { reach: Reach::default(), ..b(10) };
        for url in [
            format!("http://127.0.0.1:{port}/ocsp"),
            format!("http://localhost:{port}/"),
            format!("http://[::ffff:127.0.0.1]:{port}/"),
            format!("http://2130706433:{port}/"),
        ] {
            match post(&url, "application/ocsp-request", b"q", &closed) {
                Err(FetchError::Refused(r)) => assert_eq!(r.port, port, "{url}: {r}"),
                // a name that does not resolve here is not a connection either
                Err(FetchError::Connect(e)) => {
                    assert!(e.contains("2130706433") || e.contains("localhost"), "{url}: {e}")
                }
                other => panic!("{url}: {other:?}"),
            }
        }
        let e = get("http://169.254.169.254/latest/meta-data/", &closed).unwrap_err();
        assert!(e.to_string().contains("169.254.169.254 is a link-local address"), "{e}");
        let e = get("http://10.0.0.1/", &closed).unwrap_err();
        assert!(e.to_string().contains("RFC 1918"), "{e}");
        let e = get("http://0.0.0.0/", &closed).unwrap_err();
        assert!(matches!(e, FetchError::Refused(_)), "{e}");
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(n.load(std::sync::atomic::Ordering::SeqCst), 0, "the listener saw no connection");

        // a redirect is checked again: allowed 127.0.0.1 sends to 127.0.0.2, which is not allowed
        let (to, n2) = counting("127.0.0.2");
        let only_one =
            Bounds { reach: Reach::new(vec![crate::online::reach::Cidr::parse("127.0.0.1").unwrap()]), ..b(10) };
        let p = serve(vec![format!("HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:{to}/x\r\n\r\n").into_bytes()]);
        let e = get(&format!("http://127.0.0.1:{p}/a"), &only_one).unwrap_err();
        assert!(matches!(&e, FetchError::Refused(r) if r.host == "127.0.0.2"), "{e:?}");
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(n2.load(std::sync::atomic::Ordering::SeqCst), 0, "the redirect's target saw no connection");
    }
}
