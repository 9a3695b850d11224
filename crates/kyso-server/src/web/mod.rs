//! The citizen and staff web app: login sessions, CSRF, language, the page frame, and the routes
//! of `citizen.rs` (the journey) and `desk.rs` (the support-desk console).
//!
//! Sessions: a random 256-bit token in an HttpOnly, SameSite=Lax cookie (Secure when kyso is
//! served over HTTPS); only its SHA-256 is stored. Every POST carries a CSRF token derived from the
//! session (or, before login, from a random pre-session cookie). Logins are throttled per account
//! and per client address, registrations per address, by the authority in the store (`client.rs`
//! answers 429 / 503).
//! Access decisions are `kyso_access::decide`'s, never made here.

// Handlers return a ready page as the error of their guard functions; boxing it buys nothing.
#![allow(clippy::result_large_err)]

mod citizen;
pub mod client;
mod desk;
mod guide;
mod multipart;
/// The upload form reader, for the `multipart` fuzz target.
#[doc(hidden)]
pub use multipart::{read_body as read_multipart_body, Limits as MultipartLimits};
mod otp;
mod qr;

use crate::AppState;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use kyso_access::token::{csrf_for, csrf_ok, new_token, token_hash};
use kyso_access::Principal;
use kyso_store::accounts::{EidAccountRow, StaffAccountRow};

/// How long a login lasts, idle and in all ([`kyso_access::token::SessionPolicy`]).
fn session_policy(kind: &str) -> kyso_access::token::SessionPolicy {
    if kind == "citizen" {
        kyso_access::token::CITIZEN_SESSION
    } else {
        kyso_access::token::STAFF_SESSION
    }
}

pub struct WebState {
    /// Reverse proxies whose `X-Forwarded-For` is believed (`KYSO_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Authenticator enrolments waiting to be shown once (`otp.rs`).
    pub enrolments: otp::Pending,
    /// Guidance scans counted today (`guide.rs`).
    pub guide_scans: guide::Seen,
    pub secure_cookies: bool,
}

impl WebState {
    pub fn new(base_url: &str) -> WebState {
        WebState {
            trusted_proxies: client::trusted_proxies_from_env(),
            enrolments: otp::Pending::default(),
            guide_scans: guide::Seen::default(),
            secure_cookies: base_url.starts_with("https://"),
        }
    }
}

pub use citizen::urlencode;
pub use desk::dashboard_section as support_section;

pub fn routes() -> Router<AppState> {
    Router::new().merge(citizen::routes()).merge(desk::routes()).merge(guide::routes())
}

/// Who is logged in.
pub enum Who {
    Citizen(EidAccountRow),
    Staff(StaffAccountRow, Principal),
}

/// Per-request context: language, CSRF token for forms, the logged-in person, cookies to set.
pub struct Ctx {
    pub en: bool,
    pub csrf: String,
    pub who: Option<Who>,
    session_token: Option<String>,
    set_cookies: Vec<String>,
}

impl Ctx {
    pub fn t<'a>(&self, vi: &'a str, en: &'a str) -> &'a str {
        if self.en {
            en
        } else {
            vi
        }
    }

    pub fn csrf_field(&self) -> String {
        format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(&self.csrf))
    }

    /// Does a submitted form carry this visitor's CSRF token?
    pub fn csrf_valid(&self, submitted: &str) -> bool {
        !self.csrf.is_empty() && submitted.len() == self.csrf.len() && {
            // the token is derived from a secret cookie; compare in constant time
            match &self.session_token {
                Some(tok) => csrf_ok(tok, submitted),
                None => false,
            }
        }
    }

    /// The SHA-256 of this request's session (or pre-session) token: what ties server-side state
    /// to one login.
    pub fn session_hash(&self) -> Vec<u8> {
        token_hash(self.session_token.as_deref().unwrap_or(""))
    }

    pub fn citizen(&self) -> Option<&EidAccountRow> {
        match &self.who {
            Some(Who::Citizen(a)) => Some(a),
            _ => None,
        }
    }

    pub fn staff(&self) -> Option<(&StaffAccountRow, &Principal)> {
        match &self.who {
            Some(Who::Staff(s, p)) => Some((s, p)),
            _ => None,
        }
    }
}

pub use crate::html::esc;

fn cookies(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    cookies(headers).find(|(k, _)| *k == name).map(|(_, v)| v)
}

fn cookie_attrs(s: &AppState) -> &'static str {
    if s.web.secure_cookies {
        "; Path=/; HttpOnly; SameSite=Lax; Secure"
    } else {
        "; Path=/; HttpOnly; SameSite=Lax"
    }
}

/// Builds the request context: the session (if any and still valid), or a pre-session cookie so
/// that the login and registration forms have a CSRF token too.
pub async fn ctx(s: &AppState, headers: &HeaderMap, lang_q: Option<&str>) -> Ctx {
    let en = match lang_q {
        Some(l) => l == "en",
        None => cookie(headers, "kyso_lang") == Some("en"),
    };
    let mut c = Ctx { en, csrf: String::new(), who: None, session_token: None, set_cookies: Vec::new() };
    if let Some(l) = lang_q.filter(|l| matches!(*l, "en" | "vi")) {
        c.set_cookies.push(format!("kyso_lang={l}; Path=/; SameSite=Lax; Max-Age=31536000"));
    }
    if let Some(tok) = cookie(headers, "kyso_session") {
        let now = kyso_store::now();
        match s.authority.store.web_session(&token_hash(tok), now).await {
            Ok(Some(session)) => {
                // In use: the idle timeout slides (up to the absolute limit).
                if let Some(next) = session_policy(&session.kind).renewal(session.created_at, session.expires_at, now) {
                    if let Err(e) = s.authority.store.extend_web_session(&token_hash(tok), next, now).await {
                        tracing::warn!(error = %e, "session not extended");
                    }
                }
                let subject = session.subject;
                let who = match session.kind.as_str() {
                    "citizen" => s.authority.store.eid_account(&subject).await.ok().flatten().map(Who::Citizen),
                    _ => match s.authority.store.staff_account(&subject).await.ok().flatten() {
                        Some(row) => s.authority.staff_principal(&row).await.ok().map(|p| Who::Staff(row, p)),
                        None => None,
                    },
                };
                if who.is_some() {
                    c.who = who;
                    c.csrf = csrf_for(tok);
                    c.session_token = Some(tok.to_string());
                    return c;
                }
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "session lookup failed"),
        }
    }
    let pre = match cookie(headers, "kyso_pre") {
        Some(p) if p.len() == 43 => p.to_string(),
        _ => {
            let p = new_token();
            c.set_cookies.push(format!("kyso_pre={p}{}", cookie_attrs(s)));
            p
        }
    };
    c.csrf = csrf_for(&pre);
    c.session_token = Some(pre);
    c
}

/// Starts a login session and returns the cookie that carries it.
pub async fn start_session(s: &AppState, kind: &str, subject: &str) -> Result<String, Response> {
    let tok = new_token();
    // The cookie lasts as long as the browser; the server ends the login (idle or absolute).
    let expires = session_policy(kind).first_expiry(kyso_store::now());
    match s.authority.store.create_web_session(&token_hash(&tok), kind, subject, expires).await {
        Ok(()) => Ok(format!("kyso_session={tok}{}", cookie_attrs(s))),
        Err(e) => {
            tracing::error!(error = %e, "could not store a session");
            Err((StatusCode::SERVICE_UNAVAILABLE, "login unavailable; retry shortly\n").into_response())
        }
    }
}

pub async fn end_session(s: &AppState, headers: &HeaderMap) -> String {
    if let Some(tok) = cookie(headers, "kyso_session") {
        if let Err(e) = s.authority.store.end_web_session(&token_hash(tok)).await {
            tracing::error!(error = %e, "could not end a session");
        }
    }
    format!("kyso_session=; Max-Age=0{}", cookie_attrs(s))
}

/// A redirect that also sets cookies.
pub fn redirect_with(to: &str, cookies: &[String]) -> Response {
    let mut r = Redirect::to(to).into_response();
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

const STYLE: &str = "*{box-sizing:border-box}body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;line-height:1.5;color:#1b1b1b;background:#f6f7f9}\
header{background:#a50e0e;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem;justify-content:space-between;align-items:center}\
header a{color:#fff}header .brand{font-weight:700;font-size:1.2rem;text-decoration:none}main{max-width:40rem;margin:0 auto;padding:1rem}\
.card{background:#fff;border-radius:10px;padding:1rem;margin:0 0 1rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}\
label{display:block;margin:.6rem 0 .2rem;font-weight:600}input[type=text],input[type=password],input[type=tel],input[type=file],select,textarea{width:100%;padding:.7rem;font-size:1rem;border:1px solid #999;border-radius:6px;background:#fff}\
button,.btn{display:inline-block;margin-top:1rem;padding:.75rem 1.2rem;font-size:1rem;border:0;border-radius:6px;background:#a50e0e;color:#fff;text-decoration:none;cursor:pointer;min-height:44px}\
.btn.secondary,button.secondary{background:#555}.err{background:#fde8e8;border-left:4px solid #b00020;padding:.6rem .8rem;margin:0 0 1rem}\
.ok{background:#e7f6ea;border-left:4px solid #1e7b34;padding:.6rem .8rem;margin:0 0 1rem}.muted{color:#555;font-size:.92rem}\
ol.steps{padding-left:1.2rem}ol.steps li{margin:.3rem 0}ol.steps li.done{color:#1e7b34}ol.steps li.now{font-weight:700}\
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}\
.badge{display:inline-block;padding:.1rem .5rem;border-radius:999px;font-size:.85rem;background:#eee}.badge.good{background:#d8f0dc}.badge.bad{background:#f7d6d6}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}\
.choice{display:block;border:1px solid #ccc;border-radius:8px;padding:.7rem;margin:.5rem 0;background:#fff}.choice input{margin-right:.5rem}\
.checks label{font-weight:400}nav.lang a{margin-left:.6rem}";

/// The page frame: header with language switch and the logged-in person, then `body`.
pub fn page(c: &Ctx, title: &str, body: &str) -> Response {
    let who = match &c.who {
        Some(Who::Citizen(a)) => format!(
            "<span>{}</span> <form method=\"post\" action=\"/logout\" style=\"display:inline\">{}<button class=\"secondary\" style=\"margin:0;padding:.3rem .6rem;min-height:0\">{}</button></form>",
            esc(&kyso_pki::CitizenId::parse(&a.id_number).map(|i| i.masked()).unwrap_or_default()),
            c.csrf_field(),
            c.t("Đăng xuất", "Log out")
        ),
        Some(Who::Staff(s, _)) => format!(
            "<span>{}</span> <form method=\"post\" action=\"/logout\" style=\"display:inline\">{}<button class=\"secondary\" style=\"margin:0;padding:.3rem .6rem;min-height:0\">{}</button></form>",
            esc(&s.display_name),
            c.csrf_field(),
            c.t("Đăng xuất", "Log out")
        ),
        None => String::new(),
    };
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{title} — kyso</title><style>{STYLE}</style></head><body><header><a class=\"brand\" href=\"/\">kyso</a>\
<div>{who}<nav class=\"lang\"><a href=\"?lang=vi\" hreflang=\"vi\">Tiếng Việt</a><a href=\"?lang=en\" hreflang=\"en\">English</a></nav></div></header>\
<main><h1>{title}</h1>{body}</main></body></html>",
        lang = if c.en { "en" } else { "vi" },
        title = esc(title),
    );
    let mut r = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        html,
    )
        .into_response();
    // Content-Security-Policy and the other security headers: `crate::headers`, on every response.
    for ck in &c.set_cookies {
        if let Ok(v) = HeaderValue::from_str(ck) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

/// For staff pages outside `web/` (the campaign's worklists): the signed-in staff member may do
/// `action` on the commune `commune_code`; else a redirect to the staff login, or 403.
pub async fn staff_may(
    s: &AppState,
    headers: &HeaderMap,
    action: kyso_access::Action,
    commune_code: &str,
) -> Result<Principal, Response> {
    let c = ctx(s, headers, None).await;
    let Some((_, who)) = c.staff() else {
        return Err(redirect_with("/staff/login", &c.set_cookies));
    };
    let area = match s.authority.store.commune(commune_code).await {
        Ok(Some(unit)) => kyso_access::Area::commune(&unit.province_code, &unit.code),
        Ok(None) => return Err((StatusCode::NOT_FOUND, "no such commune or hamlet\n").into_response()),
        Err(e) => {
            tracing::error!(error = %e, "commune lookup failed");
            return Err((StatusCode::SERVICE_UNAVAILABLE, "retry shortly\n").into_response());
        }
    };
    match kyso_access::decide(who, action, &kyso_access::Resource::Unit(&area)) {
        Ok(()) => Ok(who.clone()),
        Err(_) => Err(forbidden(&c)),
    }
}

pub fn forbidden(c: &Ctx) -> Response {
    let mut r = page(
        c,
        c.t("Không có quyền", "Not permitted"),
        &format!(
            "<p class=\"err\">{}</p>",
            c.t("Tài khoản của bạn không có quyền thực hiện thao tác này.", "Your account may not do this.")
        ),
    );
    *r.status_mut() = StatusCode::FORBIDDEN;
    r
}

pub fn bad_csrf(c: &Ctx) -> Response {
    let mut r = page(
        c,
        c.t("Phiên làm việc hết hạn", "Session expired"),
        &format!(
            "<p class=\"err\">{}</p><p><a href=\"/\">{}</a></p>",
            c.t(
                "Biểu mẫu đã hết hạn hoặc không hợp lệ. Hãy tải lại trang và thử lại.",
                "The form expired or is not valid. Reload the page and try again."
            ),
            c.t("Về trang chủ", "Home")
        ),
    );
    *r.status_mut() = StatusCode::FORBIDDEN;
    r
}

/// Today in Vietnam (UTC+7), `YYYY-MM-DD`.
pub fn vn_today() -> String {
    crate::campaign_data::vn_date(kyso_store::now())
}

/// `dd/mm/yyyy hh:mm` in Vietnam time from Unix seconds.
pub fn vn_datetime(unix: i64) -> String {
    kyso_calendar::vn_display_datetime(unix)
}
