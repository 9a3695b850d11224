//! Who is knocking: the client's address as seen through trusted reverse proxies
//! (`KYSO_TRUSTED_PROXIES`, comma-separated addresses), which the authority counts login and
//! registration attempts against (kyso-access's `throttle`, persisted and atomic in the store):
//! failed logins against the account (5 in 15 minutes) and the address (30 in 15 minutes: one
//! address trying many accounts is password spraying; a commune office behind one NAT stays well
//! under it), registrations against the address (30 in 15 minutes). The answers to a refused
//! attempt (429, or 503 when the Argon2 gate is full) are built here.

use super::Ctx;
use crate::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::Extension;
use kyso_authority::AuthorityError;
use std::net::{IpAddr, SocketAddr};

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

/// The client's address as the authority takes it (login and registration throttles).
pub fn ip(client: Option<Extension<ClientAddr>>) -> Option<IpAddr> {
    client.and_then(|Extension(ClientAddr(ip))| ip)
}

/// The answer to a login or registration the authority refused before checking it: 429 with
/// Retry-After when the account or the address has used up its attempts, 503 when too many
/// password checks run at once; `form` renders the page with the message. `None` for other errors.
pub fn refused_attempt(c: &Ctx, e: &AuthorityError, form: impl FnOnce(&str) -> Response) -> Option<Response> {
    let (status, secs, msg) = match e {
        AuthorityError::Throttled(secs) => (StatusCode::TOO_MANY_REQUESTS, *secs, wait_message(c, *secs)),
        AuthorityError::Busy(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            5,
            c.t(
                "Hệ thống đang bận, vui lòng thử lại sau ít giây.",
                "The system is busy; please retry in a few seconds.",
            )
            .to_string(),
        ),
        _ => return None,
    };
    let mut r = form(&msg);
    *r.status_mut() = status;
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    Some(r)
}

pub fn wait_message(c: &Ctx, secs: u64) -> String {
    let mins = secs.div_ceil(60);
    if c.en {
        format!("Too many attempts. Try again in {mins} minute(s).")
    } else {
        format!("Bạn đã thử quá nhiều lần. Vui lòng thử lại sau {mins} phút.")
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
    }
}
