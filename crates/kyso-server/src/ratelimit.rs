//! Per-address rate limits on the anonymous endpoints that cost CPU (`/api/validate`,
//! `/verify/report`, `/tsa`): a token bucket per client address (an IPv6 client per /64), in
//! memory. Over the limit: 429 with `Retry-After`. The login endpoints have their own throttle
//! (`web/client.rs`).
//!
//! Limits come from `KYSO_RATE_VALIDATE` and `KYSO_RATE_TSA` as `BURST/PER_MINUTE` (e.g. `20/30`:
//! twenty at once, then one every two seconds). Memory is bounded: past [`MAX_KEYS`] addresses
//! the buckets that have refilled are forgotten, and if that is not enough all are (an attacker
//! with that many addresses gains a fresh bucket each, which the per-kind CPU caps still bound).

use crate::web::client::ClientAddr;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Addresses remembered at most (about 40 bytes each).
pub const MAX_KEYS: usize = 100_000;

/// One limit: `burst` requests at once, refilled at `per_minute`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    pub burst: f64,
    pub per_minute: f64,
}

impl Rate {
    /// `BURST/PER_MINUTE` from the environment variable `name`, else `default`.
    pub fn from_env(name: &str, default: Rate) -> Rate {
        std::env::var(name).ok().and_then(|v| Rate::parse(&v)).unwrap_or(default)
    }

    pub fn parse(s: &str) -> Option<Rate> {
        let (b, m) = s.trim().split_once('/')?;
        let (burst, per_minute) = (b.trim().parse::<f64>().ok()?, m.trim().parse::<f64>().ok()?);
        (burst >= 1.0 && per_minute > 0.0 && burst.is_finite() && per_minute.is_finite())
            .then_some(Rate { burst, per_minute })
    }
}

/// Token buckets by client address.
pub struct Limiter {
    /// What the answer names ("validation", "time-stamping").
    pub what: &'static str,
    rate: Rate,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Limiter {
    pub fn new(what: &'static str, rate: Rate) -> Arc<Limiter> {
        Arc::new(Limiter { what, rate, buckets: Mutex::new(HashMap::new()) })
    }

    /// Take one token for `key` at `now`; Err(seconds to wait) when there is none.
    pub fn take(&self, key: &str, now: Instant) -> Result<(), u64> {
        let per_sec = self.rate.per_minute / 60.0;
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if b.len() >= MAX_KEYS && !b.contains_key(key) {
            let full = self.rate.burst;
            b.retain(|_, (tokens, at)| *tokens + now.saturating_duration_since(*at).as_secs_f64() * per_sec < full);
            if b.len() >= MAX_KEYS {
                b.clear();
            }
        }
        let (tokens, at) = b.entry(key.to_string()).or_insert((self.rate.burst, now));
        let t = (*tokens + now.saturating_duration_since(*at).as_secs_f64() * per_sec).min(self.rate.burst);
        *at = now;
        if t >= 1.0 {
            *tokens = t - 1.0;
            Ok(())
        } else {
            *tokens = t;
            Err(((1.0 - t) / per_sec).ceil().max(1.0) as u64)
        }
    }
}

/// The bucket key of a client: the address, an IPv6 address by its /64.
pub fn key(ip: Option<IpAddr>) -> String {
    match ip {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        None => "unknown".into(),
    }
}

/// Middleware on the limited routes (the client address comes from `web::client::client_addr`).
pub async fn limit(State(l): State<Arc<Limiter>>, req: Request, next: Next) -> Response {
    let ip = req.extensions().get::<ClientAddr>().and_then(|c| c.0);
    match l.take(&key(ip), Instant::now()) {
        Ok(()) => next.run(req).await,
        Err(wait) => too_many(l.what, wait, req.uri().query().unwrap_or("").contains("lang=en")),
    }
}

fn too_many(what: &str, wait: u64, en: bool) -> Response {
    let body = if en {
        format!("Too many {what} requests from your address; retry in {wait} s.")
    } else {
        format!("Quá nhiều yêu cầu từ địa chỉ của bạn; hãy thử lại sau {wait} giây. (Too many {what} requests; retry in {wait} s.)")
    };
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, wait.to_string()), (header::CONTENT_TYPE, "text/plain; charset=utf-8".into())],
        body,
    )
        .into_response()
}

/// 503 with `Retry-After` for work that found no free slot (`kyso_authority::pool::Busy`).
pub fn busy(b: kyso_authority::pool::Busy, en: bool) -> Response {
    let body = if en {
        format!("The server is busy with other {} work; retry in {} s.", b.work.name(), b.retry_after_secs)
    } else {
        format!("Máy chủ đang bận; hãy thử lại sau {} giây. ({b})", b.retry_after_secs)
    };
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::RETRY_AFTER, b.retry_after_secs.to_string()),
            (header::CONTENT_TYPE, "text/plain; charset=utf-8".into()),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn buckets_refill_per_address() {
        let l = Limiter::new("validation", Rate { burst: 2.0, per_minute: 60.0 });
        let t0 = Instant::now();
        assert!(l.take("a", t0).is_ok());
        assert!(l.take("a", t0).is_ok());
        assert_eq!(l.take("a", t0), Err(1), "the third at once waits a second");
        assert!(l.take("b", t0).is_ok(), "another address has its own bucket");
        assert!(l.take("a", t0 + Duration::from_millis(1000)).is_ok(), "one token back after a second");
        assert!(l.take("a", t0 + Duration::from_millis(1000)).is_err());
        assert_eq!(Rate::parse("20/30"), Some(Rate { burst: 20.0, per_minute: 30.0 }));
        assert_eq!(Rate::parse("0/30"), None);
        assert_eq!(Rate::parse("x"), None);
        let v6 = |s: &str| key(Some(s.parse().unwrap()));
        assert_eq!(v6("2001:db8:1:2::1"), v6("2001:db8:1:2:ffff::9"));
    }

    #[test]
    fn memory_is_bounded() {
        let l = Limiter::new("validation", Rate { burst: 1.0, per_minute: 1.0 });
        let t0 = Instant::now();
        for i in 0..MAX_KEYS + 10 {
            let _ = l.take(&format!("k{i}"), t0);
        }
        assert!(l.buckets.lock().unwrap().len() <= MAX_KEYS);
    }
}
