//! Who is knocking: the client's address as seen through trusted reverse proxies
//! (`KYSO_TRUSTED_PROXIES`, comma-separated addresses), and the login throttle keys built from
//! it. Failed logins count against the account (5 in 15 minutes) and against the address (30 in 15
//! minutes: one address trying many accounts is password spraying; a commune office behind one
//! NAT stays well under it).

use crate::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};

/// Failed logins allowed per client address in the throttle window.
pub const ADDRESS_THROTTLE_MAX: u32 = 30;

/// The client's address, when known (not when the router is called without a socket).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

/// The addresses of the reverse proxies whose `X-Forwarded-For` is believed.
pub fn trusted_proxies_from_env() -> Vec<IpAddr> {
    std::env::var("KYSO_TRUSTED_PROXIES").unwrap_or_default().split(',').filter_map(|a| a.trim().parse().ok()).collect()
}

/// The peer itself, or — when the peer is a trusted proxy — the rightmost `X-Forwarded-For`
/// entry that is not one (entries further left were written by the client and prove nothing).
pub fn client_ip(peer: Option<IpAddr>, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let Some(chain) = forwarded_for else { return Some(peer) };
    for hop in chain.rsplit(',').map(str::trim) {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return Some(ip),
            Err(_) => return Some(peer),
        }
    }
    Some(peer)
}

/// Middleware: the client's address into the request's extensions, for the handlers.
pub async fn client_addr(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let ip = client_ip(peer, forwarded, &s.web.trusted_proxies);
    req.extensions_mut().insert(ClientAddr(ip));
    next.run(req).await
}

/// The keys one login attempt counts against.
pub struct LoginKeys {
    account: String,
    address: Option<String>,
}

impl LoginKeys {
    pub fn new(account: String, client: Option<&ClientAddr>) -> LoginKeys {
        // An IPv6 client can use a whole /64: count the prefix, not the address.
        let address = client.and_then(|c| c.0).map(|ip| match ip {
            IpAddr::V4(v4) => format!("ip:{v4}"),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        });
        LoginKeys { account, address }
    }
}

/// Seconds to wait, if the account or the address has used up its failures.
pub fn throttled(s: &AppState, k: &LoginKeys) -> Option<u64> {
    let now = kyso_store::now() as u64;
    let account = s.web.throttle.lock().unwrap_or_else(|e| e.into_inner()).check(&k.account, now).err();
    let address = k
        .address
        .as_ref()
        .and_then(|a| s.web.address_throttle.lock().unwrap_or_else(|e| e.into_inner()).check(a, now).err());
    account.max(address)
}

/// A success clears the account's failures (not the address's: logging into one's own account
/// must not reset a spray from the same address); a failure counts against both.
pub fn login_result(s: &AppState, k: &LoginKeys, ok: bool) {
    let now = kyso_store::now() as u64;
    let mut t = s.web.throttle.lock().unwrap_or_else(|e| e.into_inner());
    if ok {
        t.succeeded(&k.account);
        return;
    }
    t.failed(&k.account, now);
    drop(t);
    if let Some(a) = &k.address {
        s.web.address_throttle.lock().unwrap_or_else(|e| e.into_inner()).failed(a, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let proxy = [ip("10.0.0.2"), ip("10.0.0.3")];
        // Direct: the peer, whatever the header claims.
        assert_eq!(client_ip(Some(ip("203.0.113.7")), Some("1.2.3.4"), &proxy), Some(ip("203.0.113.7")));
        // Through the proxies: the rightmost address they did not add.
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), Some("1.2.3.4, 198.51.100.9, 10.0.0.3"), &proxy),
            Some(ip("198.51.100.9"))
        );
        // A proxy without the header, or a garbled hop: the proxy itself (fails closed, counted).
        assert_eq!(client_ip(Some(ip("10.0.0.2")), None, &proxy), Some(ip("10.0.0.2")));
        assert_eq!(client_ip(Some(ip("10.0.0.2")), Some("bogus"), &proxy), Some(ip("10.0.0.2")));
        assert_eq!(client_ip(None, Some("1.2.3.4"), &proxy), None);
        // IPv6 clients count per /64.
        let a = LoginKeys::new("x".into(), Some(&ClientAddr(Some(ip("2001:db8:1:2:aaaa::1")))));
        let b = LoginKeys::new("x".into(), Some(&ClientAddr(Some(ip("2001:db8:1:2:bbbb::9")))));
        assert_eq!(a.address, b.address);
        assert_eq!(a.address.as_deref(), Some("ip:2001:db8:1:2::/64"));
    }
}
