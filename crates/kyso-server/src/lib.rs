//! The HTTP shell around `kyso-authority`: relying-party endpoints (CA certificates, CRLs, OCSP,
//! TSA), the operator API, and the server-rendered pages.
//!
//! Architecture invariant: handlers parse, call the authority, and render. No PKI or SQL here.
//! Logs carry serials and masked ID numbers only.

mod api;
mod csc;
pub mod dossiers;
/// The remote-signing API's request parsers (pure; fuzzed by `fuzz/fuzz_targets/csc_json.rs`).
pub use csc::{parse_authorize, parse_sign_hash, Authorize, SignHash, MAX_CSC_BODY};
mod headers;
pub mod i18n;
pub mod input;
mod openapi;
pub mod ratelimit;
pub mod web;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use kyso_authority::Authority;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub authority: Arc<Authority>,
    /// Bearer token of the operator API (`kyso-data/operator-token`).
    pub operator_token: Arc<String>,
    /// Login throttling and cookie settings of the web app.
    pub web: Arc<web::WebState>,
}

impl AppState {
    pub fn new(authority: Arc<Authority>, operator_token: String) -> AppState {
        let web = Arc::new(web::WebState::new(&authority.config.base_url));
        AppState { authority, operator_token: Arc::new(operator_token), web }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/assets/kyso.css", get(web::layout::stylesheet))
        .route("/ca/{file}", get(ca_cert))
        .route("/crl/{file}", get(crl))
        .route("/ocsp/{ca}", post(ocsp_post))
        .route("/ocsp/{ca}/{*request}", get(ocsp_get))
        .merge(tsa_routes())
        .merge(api::routes())
        .merge(dossiers::routes())
        .merge(openapi::routes())
        .merge(csc::routes())
        .merge(web::campaign::routes())
        .merge(web::routes())
        .layer(axum::extract::DefaultBodyLimit::max(1 << 20))
        .layer(axum::middleware::from_fn(csc::csc_json_errors))
        .layer(axum::middleware::from_fn_with_state(state.clone(), web::client::client_addr))
        .fallback(not_found_page)
        .layer(axum::middleware::from_fn(web::errors::pages_for_plain_errors))
        .layer(axum::middleware::from_fn(headers::security_headers))
        .with_state(state)
}

/// Serve until ctrl-c. CRLs are refreshed in the background every ten minutes; every commune's
/// adoption figures of today at once and then every fifteen minutes.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let auth = state.authority.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            if let Err(e) = auth.refresh_crls().await {
                tracing::error!(error = %e, "scheduled CRL refresh failed");
            }
        }
    });
    // Today's figures for the dashboard and the ranking page: one pass over the register's column
    // index and the certificate sources (a few seconds at national scale; the write lock is held
    // only to store 3,321 rows).
    let store = state.authority.store.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(kyso_tracker::adoption::REFRESH_EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = kyso_tracker::adoption::refresh_today(&store).await {
                tracing::warn!("today's adoption figures were not refreshed: {e:#}");
            }
        }
    });
    // Notifications: the day's reminders enqueued every hour (idempotent), and what is due
    // delivered every minute when [notify] says where to (otherwise messages stay queued).
    spawn_notifications(&state);
    // A connection reaches accept() only once its first bytes have arrived: no worker wakes up
    // for a connection that has nothing to read yet (one wake-up and one epoll round less per
    // connection for OCSP/TSA clients that open a connection per request); a connection that
    // sends nothing reaches it only after DEFER_ACCEPT_SECS.
    if let Err(e) = defer_accept(&listener) {
        tracing::warn!(error = %e, "TCP_DEFER_ACCEPT not set on the listener");
    }
    // Small JSON/DER answers: send them at once (Nagle + delayed ACK would add ~40 ms each).
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

/// Seconds a connection may stay unaccepted while it sends nothing (Linux: after that it is
/// accepted anyway, so a client that waits before its request is served late, not refused).
const DEFER_ACCEPT_SECS: libc::c_int = 5;

#[cfg(target_os = "linux")]
fn defer_accept(listener: &tokio::net::TcpListener) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let secs = DEFER_ACCEPT_SECS;
    // SAFETY: the listener owns a valid socket for the whole call, and the option value is a
    // c_int of the length given.
    let r = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            (&secs as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn defer_accept(_listener: &tokio::net::TcpListener) -> std::io::Result<()> {
    Ok(())
}

/// The notification timers: reminders hourly, delivery every minute (each pass bounded by
/// `kyso_tracker::notify::BATCH`; the SMTP/HTTP exchanges run on the blocking pool).
fn spawn_notifications(state: &AppState) {
    let store = state.authority.store.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let today = match kyso_tracker::reports::today() {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!("reminders: {e}");
                    continue;
                }
            };
            match kyso_tracker::notify::run_reminders(&store, today, kyso_store::now()).await {
                Ok(r) => tracing::info!(
                    renewals = r.renewals.queued,
                    reports = r.reports.queued,
                    tasks = r.tasks.queued,
                    "reminders queued"
                ),
                Err(e) => tracing::warn!("reminders were not queued: {e}"),
            }
        }
    });
    let Some(cfg) = state.authority.config.notify.clone() else {
        tracing::info!("no [notify] in kyso.toml: notifications are queued, not delivered");
        return;
    };
    let (delivery, limits) = match kyso_tracker::notify::from_config(&cfg) {
        Ok(x) => x,
        Err(e) => {
            tracing::error!("notifications are not delivered: {e}");
            return;
        }
    };
    let store = state.authority.store.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            let batch = kyso_tracker::notify::BATCH;
            match kyso_tracker::notify::send_due(&store, &delivery, &limits, kyso_store::now(), batch).await {
                Ok(r) if r.sent + r.retried + r.failed > 0 => {
                    tracing::info!(sent = r.sent, retried = r.retried, failed = r.failed, "notifications delivered")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("notification delivery pass failed: {e}"),
            }
        }
    });
}

fn der_response(content_type: &'static str, body: Vec<u8>, max_age: u32) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CACHE_CONTROL, format!("public, max-age={max_age}")),
        ],
        body,
    )
        .into_response()
}

/// An unknown path: a 404 page in the request's language.
async fn not_found_page(uri: axum::http::Uri, headers: HeaderMap) -> Response {
    let mut b = input::Bad::new("", "Không có trang này.", "There is no such page.");
    b.status = StatusCode::NOT_FOUND;
    b.page(input::wants_en(&uri, &headers))
}

pub(crate) fn not_found(what: &str) -> Response {
    (StatusCode::NOT_FOUND, format!("{what} not found\n")).into_response()
}

async fn ca_cert(State(s): State<AppState>, Path(file): Path<String>) -> Response {
    let id = file.trim_end_matches(".crt").trim_end_matches(".cer");
    if let Some(ca) = s.authority.ca(id) {
        return der_response("application/pkix-cert", ca.cert_der.clone(), 86_400);
    }
    if id == "tsa" {
        return der_response("application/pkix-cert", s.authority.tsa().cert_der.clone(), 86_400);
    }
    not_found("CA certificate")
}

async fn crl(State(s): State<AppState>, Path(file): Path<String>) -> Response {
    let id = file.trim_end_matches(".crl");
    match s.authority.current_crl(id).await {
        Ok(c) => der_response("application/pkix-crl", c.der, 300),
        Err(kyso_authority::AuthorityError::NotFound(_)) => not_found("CRL"),
        Err(e) => {
            tracing::error!(error = %e, ca = %input::Clean(id), "CRL unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "CRL temporarily unavailable; retry shortly\n").into_response()
        }
    }
}

async fn ocsp_post(State(s): State<AppState>, Path(ca): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !ct.is_empty() && !ct.starts_with("application/ocsp-request") {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "send Content-Type: application/ocsp-request\n").into_response();
    }
    s.authority.ensure_ocsp_cache();
    der_response("application/ocsp-response", s.authority.ocsp(&ca, &body).await, 0)
}

/// The GET form (RFC 6960 A.1, RFC 5019): a pre-produced response carries what a CDN needs to
/// keep it until its nextUpdate — `Cache-Control: max-age`, `ETag`, `Last-Modified` (producedAt),
/// `Expires` (nextUpdate) — and `If-None-Match` is answered 304. Connections are kept alive
/// (hyper's HTTP/1.1 default).
async fn ocsp_get(
    State(s): State<AppState>,
    Path((ca, request)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(request.trim_start_matches('/')) else {
        return der_response(
            "application/ocsp-response",
            kyso_pki::ocsp::error_response(kyso_pki::ocsp::ResponseStatus::MalformedRequest),
            0,
        );
    };
    s.authority.ensure_ocsp_cache();
    let p = match s.authority.ocsp_answer(&ca, &der).await {
        kyso_authority::OcspAnswer::Produced(p) => p,
        kyso_authority::OcspAnswer::Fresh(body) => return der_response("application/ocsp-response", body, 300),
    };
    let max_age = (p.next_update - kyso_store::now()).max(0);
    let caching = [
        (header::CACHE_CONTROL, format!("max-age={max_age}, public, no-transform, must-revalidate")),
        (header::ETAG, p.etag.clone()),
        (header::LAST_MODIFIED, http_date(p.produced_at)),
        (header::EXPIRES, http_date(p.next_update)),
    ];
    let inm = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).unwrap_or("");
    if inm.split(',').any(|t| t.trim() == p.etag || t.trim() == "*") {
        return (StatusCode::NOT_MODIFIED, caching).into_response();
    }
    (caching, [(header::CONTENT_TYPE, "application/ocsp-response")], p.der.clone()).into_response()
}

/// IMF-fixdate (RFC 9110 §5.6.7) of a Unix time.
fn http_date(unix: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        &t.weekday().to_string()[..3],
        t.day(),
        &t.month().to_string()[..3],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `/tsa` answers every relying party, so its bucket is larger (`KYSO_RATE_TSA`).
const TSA_RATE: ratelimit::Rate = ratelimit::Rate { burst: 200.0, per_minute: 1200.0 };

fn tsa_routes() -> Router<AppState> {
    let limiter = ratelimit::Limiter::new("time-stamping", ratelimit::Rate::from_env("KYSO_RATE_TSA", TSA_RATE));
    Router::new().route("/tsa", post(tsa)).route_layer(axum::middleware::from_fn_with_state(limiter, ratelimit::limit))
}

/// Time-stamps are signed on the blocking pool behind the time-stamping cap (503 when full).
async fn tsa(State(s): State<AppState>, body: Bytes) -> Response {
    let auth = s.authority.clone();
    match s.authority.pools.run(kyso_authority::pool::Work::Timestamp, move || auth.timestamp(&body)).await {
        Ok(out) => der_response("application/timestamp-reply", out, 0),
        Err(b) => ratelimit::busy(b, true),
    }
}

#[cfg(all(test, target_os = "linux"))]
mod defer_accept_tests {
    #[tokio::test]
    async fn the_listener_waits_for_data_before_accept() {
        use std::os::fd::AsRawFd;
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        super::defer_accept(&l).unwrap();
        let mut v: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: a valid socket, and a c_int buffer of the length given.
        let r = unsafe {
            libc::getsockopt(
                l.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_DEFER_ACCEPT,
                (&mut v as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        assert_eq!(r, 0);
        // the kernel keeps it as SYN-ACK retransmissions and reports it back rounded up
        assert!(v >= super::DEFER_ACCEPT_SECS, "TCP_DEFER_ACCEPT = {v}");
        // a client that sends its request at once is accepted and read
        let addr = l.local_addr().unwrap();
        let client = std::thread::spawn(move || {
            use std::io::Write;
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
            s
        });
        let (s, _) = tokio::time::timeout(std::time::Duration::from_secs(3), l.accept()).await.unwrap().unwrap();
        let mut buf = [0u8; 64];
        let n = s.try_read(&mut buf).unwrap();
        assert!(buf[..n].starts_with(b"GET / HTTP/1.1"));
        drop(client.join().unwrap());
    }
}
