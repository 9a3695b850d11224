//! A tiny HTTP/1.1 client for tests: one request per connection (`Connection: close`),
//! `Content-Length` bodies out, plain or chunked bodies back, and the response head kept for
//! `Set-Cookie`, `Location` and the security headers.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A response: status, head (status line and headers) and body.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Every value of the header `name` (case-insensitive).
    pub fn headers(&self, name: &str) -> Vec<String> {
        self.head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    /// The first value of the header `name`.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers(name).into_iter().next()
    }

    /// `name=value` of the `Set-Cookie` that sets `name`.
    pub fn cookie_pair(&self, name: &str) -> Option<String> {
        self.headers("set-cookie").into_iter().find_map(|v| {
            let kv = v.split(';').next()?.trim();
            kv.split_once('=').filter(|(k, _)| *k == name).map(|_| kv.to_owned())
        })
    }

    /// The value the response sets for the cookie `name` (empty when it clears it).
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookie_pair(name).map(|kv| kv[name.len() + 1..].to_owned())
    }

    /// The whole `Set-Cookie` header line that sets `name` (flags included), or "".
    pub fn set_cookie_line(&self, name: &str) -> String {
        self.head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:") && l.contains(&format!("{name}=")))
            .unwrap_or("")
            .to_string()
    }

    /// The `Location` header, or "".
    pub fn location(&self) -> String {
        self.header("location").unwrap_or_default()
    }

    /// The value of the form field `name` in the body (`name="…" value="…"`).
    pub fn field(&self, name: &str) -> String {
        field(&self.text(), name)
    }

    /// The CSRF token of the form in the body.
    pub fn csrf(&self) -> String {
        self.field("csrf")
    }
}

/// The value of the form field `name` in `html` (`name="…" value="…"`).
pub fn field(html: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let at = html.find(&key).unwrap_or_else(|| panic!("a form with a {name} field: {html}"));
    html[at + key.len()..].split('"').next().unwrap().to_owned()
}

/// Percent-encoding for a form value (everything but ASCII letters, digits and `-_.`).
pub fn enc(s: &str) -> String {
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

/// An `application/x-www-form-urlencoded` body.
pub fn form(fields: &[(&str, &str)]) -> String {
    fields.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect::<Vec<_>>().join("&")
}

pub const FORM: &str = "application/x-www-form-urlencoded";

/// A request to build and send to 127.0.0.1.
#[derive(Clone, Debug)]
pub struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    pub fn new(method: &str, path: &str) -> Request {
        Request { method: method.into(), path: path.into(), headers: Vec::new(), body: Vec::new() }
    }
    pub fn get(path: &str) -> Request {
        Request::new("GET", path)
    }
    pub fn post(path: &str) -> Request {
        Request::new("POST", path)
    }
    /// One more header line.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }
    /// A `Cookie` header, unless `cookies` is empty.
    pub fn cookies(self, cookies: &str) -> Request {
        if cookies.is_empty() {
            self
        } else {
            self.header("Cookie", cookies)
        }
    }
    /// `X-Forwarded-For`, as a reverse proxy on 127.0.0.1 sends it, when `client` is given.
    pub fn forwarded_for(self, client: Option<&str>) -> Request {
        match client {
            Some(c) => self.header("X-Forwarded-For", c),
            None => self,
        }
    }
    /// A body of this content type (no `Content-Type` when `content_type` is empty).
    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Request {
        if !content_type.is_empty() {
            self.headers.push(("Content-Type".into(), content_type.into()));
        }
        self.body = body.into();
        self
    }
    /// A form body (`Content-Type` only when the form is not empty).
    pub fn form(self, form: &str) -> Request {
        let ct = if form.is_empty() { "" } else { FORM };
        self.body(ct, form.as_bytes())
    }

    /// Send to 127.0.0.1:`port`; panics when the server cannot be reached.
    pub fn send(&self, port: u16) -> Response {
        self.send_to(&format!("127.0.0.1:{port}")).unwrap_or_else(|e| panic!("{} {}: {e}", self.method, self.path))
    }

    /// Send to `host` (`ip:port`). The server may answer (413) before reading a large body: a
    /// reset while sending is not an error; the answer is read all the same.
    pub fn send_to(&self, host: &str) -> std::io::Result<Response> {
        let mut s = TcpStream::connect(host)?;
        s.set_read_timeout(Some(Duration::from_secs(120)))?;
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.method,
            self.path,
            self.body.len()
        );
        for (k, v) in &self.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes())?;
        let _ = s.write_all(&self.body);
        read_response(&mut s)
    }
}

/// Send raw bytes to 127.0.0.1:`port` and read what comes back (status 0, and all of it as the
/// head, when no response head does).
pub fn exchange_raw(port: u16, request: &[u8]) -> Response {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let _ = s.write_all(request);
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    parse(&buf).unwrap_or_else(|| Response {
        status: 0,
        head: String::from_utf8_lossy(&buf).into_owned(),
        body: Vec::new(),
    })
}

fn read_response(s: &mut TcpStream) -> std::io::Result<Response> {
    let mut buf = Vec::new();
    if let Err(e) = s.read_to_end(&mut buf) {
        if buf.is_empty() {
            return Err(e);
        }
    }
    parse(&buf).ok_or_else(|| std::io::Error::other("no header end"))
}

fn parse(buf: &[u8]) -> Option<Response> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut body = buf[end + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Some(Response { status, head, body })
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(nl) = b.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(String::from_utf8_lossy(&b[..nl]).trim(), 16).unwrap_or(0);
        if n == 0 || b.len() < nl + 2 + n {
            break;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + n]);
        b = b.get(nl + 2 + n + 2..).unwrap_or_default();
    }
    out
}

/// One request to an `http://host:port/path` URL; (status, body).
pub fn http(method: &str, url: &str, content_type: Option<&str>, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    http_with(method, url, content_type, &[], body)
}

/// [`http`] with extra headers.
pub fn http_with(
    method: &str,
    url: &str,
    content_type: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut r = Request::new(method, &path);
    for (k, v) in headers {
        r = r.header(k, v);
    }
    let r = r.body(content_type.unwrap_or(""), body);
    let resp = r.send_to(host)?;
    Ok((resp.status, resp.body))
}
