//! The public base URL (`base_url` in kyso.toml): every certificate kyso issues names its CRL,
//! OCSP responder and CA certificate under it, so it must be an address this server answers at.
//!
//! - `kyso init --base-url` chooses it (default `http://127.0.0.1:8080`, `kyso serve`'s default
//!   `--listen`); `kyso serve --demo` on a fresh data directory takes it from `--listen`, or from
//!   `--base-url` when `--listen` is a wildcard (0.0.0.0, [::]), which names no address a relying
//!   party could use. We refuse rather than guess the host's address: behind Docker, NAT or a VPN
//!   the address a phone or validator uses is not one this process can see.
//! - `kyso serve` refuses to start when an `http://` base URL's host and port are not what
//!   `--listen` binds, unless kyso.toml says `behind_proxy = true` (something else forwards
//!   base_url to `--listen`). An `https://` base URL always means a proxy: kyso serves plain HTTP.

use anyhow::{anyhow, bail, Context, Result};
use kyso_authority::config::BaseUrl;
use kyso_authority::Config;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

/// The base URL `kyso serve --demo` gives a data directory it creates.
pub fn for_demo(listen: &str, explicit: Option<&str>) -> Result<String> {
    if let Some(u) = explicit {
        return Ok(BaseUrl::parse(u).map_err(|e| anyhow!("--base-url: {e}"))?.to_string());
    }
    let addr = listen_addr_literal(listen);
    if let Some(a) = addr.filter(|a| a.ip().is_unspecified()) {
        let port = a.port();
        let hint = match primary_address() {
            Some(ip) => format!(
                "--base-url http://{}:{port} (this machine's address on its default route), or --base-url http://127.0.0.1:{port} to try it on this machine only",
                host_of(ip)
            ),
            None => format!("--base-url http://127.0.0.1:{port} to try it on this machine only"),
        };
        bail!(
            "--listen {listen} accepts connections on every address of this machine, so it does not say which address \
             certificates should name for their CRL, OCSP and CA-certificate links (base_url). Add --base-url with the \
             address relying parties and phones reach this server at, e.g. {hint}"
        );
    }
    let url = format!("http://{listen}");
    Ok(BaseUrl::parse(&url)
        .map_err(|e| anyhow!("--listen {listen} gives no usable base URL ({e}); add --base-url"))?
        .to_string())
}

/// `--listen` as an IP socket address, when it is written as one.
fn listen_addr_literal(listen: &str) -> Option<SocketAddr> {
    listen.parse().ok()
}

fn host_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// The local address the default route leaves from (a UDP "connect" sends nothing), for hints.
fn primary_address() -> Option<IpAddr> {
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9").ok()?; // TEST-NET-1 (RFC 5737): only the route is looked up
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_unspecified() && !ip.is_loopback()).then_some(ip)
}

/// `--listen` resolved to the address the server will bind.
pub async fn resolve_listen(listen: &str) -> Result<SocketAddr> {
    tokio::net::lookup_host(listen)
        .await
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| anyhow!("--listen {listen}: not an address to listen on (write host:port, e.g. 127.0.0.1:8080)"))
}

/// Refuse to serve when certificates would point at an address this server is not reachable at.
pub async fn check(cfg: &Config, config_path: &Path, listen: &str, bound: SocketAddr) -> Result<()> {
    let url = BaseUrl::parse(&cfg.base_url).map_err(|e| anyhow!("{}: {e}", config_path.display()))?;
    if url.https || cfg.behind_proxy {
        return Ok(());
    }
    let fix = format!(
        "Certificates name their CRL, OCSP and CA-certificate addresses under base_url, so relying parties would \
         find nothing there. Either serve at that address (--listen {listen_hint}), or, if a reverse proxy, load \
         balancer or NAT forwards {base} to this server, set `behind_proxy = true` in {path}. (base_url is chosen \
         when the data directory is created: `kyso init --base-url`.)",
        listen_hint = listen_hint(&url),
        base = cfg.base_url,
        path = config_path.display(),
    );
    if url.port != bound.port() {
        bail!(
            "base_url {} is on port {}, but --listen {listen} binds port {}. {fix}",
            cfg.base_url,
            url.port,
            bound.port()
        );
    }
    let targets: Vec<IpAddr> = match url.ip() {
        Some(ip) => vec![ip],
        None => tokio::net::lookup_host((url.host.as_str(), url.port))
            .await
            .with_context(|| {
                format!("base_url {}: the host name {} does not resolve here. {fix}", cfg.base_url, url.host)
            })?
            .map(|a| a.ip())
            .collect(),
    };
    if !targets.iter().any(|&t| reaches(bound.ip(), t)) {
        let shown: Vec<String> = targets.iter().map(|t| t.to_string()).collect();
        bail!(
            "base_url {} ({}) is not an address --listen {listen} ({bound}) accepts connections on. {fix}",
            cfg.base_url,
            shown.join(", ")
        );
    }
    Ok(())
}

fn listen_hint(url: &BaseUrl) -> String {
    match url.ip() {
        Some(ip) => format!("{}:{}", host_of(ip), url.port),
        None => format!("<an address {} resolves to>:{}", url.host, url.port),
    }
}

/// Does a server bound to `listen` accept connections made to `target`?
fn reaches(listen: IpAddr, target: IpAddr) -> bool {
    let canon = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    let (listen, target) = (canon(listen), canon(target));
    if listen.is_unspecified() {
        // 0.0.0.0 takes every IPv4 address of this machine; [::] every address (dual stack).
        (listen.is_ipv6() || target.is_ipv4()) && is_local(target)
    } else {
        listen == target
    }
}

/// Is `ip` one of this machine's addresses? (Binding to it succeeds only if it is.)
fn is_local(ip: IpAddr) -> bool {
    ip.is_loopback() || std::net::UdpSocket::bind((ip, 0)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reachability_follows_the_bound_address() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(reaches(ip("127.0.0.1"), ip("127.0.0.1")));
        assert!(!reaches(ip("127.0.0.1"), ip("127.0.0.2")));
        assert!(reaches(ip("0.0.0.0"), ip("127.0.0.1")));
        assert!(reaches(ip("::"), ip("127.0.0.1")));
        assert!(!reaches(ip("0.0.0.0"), ip("::1")));
        // TEST-NET-3 (RFC 5737) is never an address of this machine.
        assert!(!reaches(ip("0.0.0.0"), ip("203.0.113.7")));
    }

    #[test]
    fn demo_base_url_comes_from_listen_but_not_a_wildcard() {
        assert_eq!(for_demo("127.0.0.1:9000", None).unwrap(), "http://127.0.0.1:9000");
        assert_eq!(for_demo("[::1]:9000", None).unwrap(), "http://[::1]:9000");
        assert_eq!(for_demo("localhost:9000", None).unwrap(), "http://localhost:9000");
        for wild in ["0.0.0.0:9000", "[::]:9000"] {
            let e = for_demo(wild, None).unwrap_err().to_string();
            assert!(e.contains("--base-url") && e.contains(":9000"), "{e}");
        }
        assert_eq!(for_demo("0.0.0.0:9000", Some("http://192.0.2.10:9000/")).unwrap(), "http://192.0.2.10:9000");
        assert!(for_demo("0.0.0.0:9000", Some("http://192.0.2.10:9000/kyso")).is_err());
    }
}
