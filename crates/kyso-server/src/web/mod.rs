//! The citizen and staff web app: login sessions, CSRF, language, the page frame, and the routes
//! by area: `citizen/` (the journey), `desk/` (the support-desk console), `guide.rs` (help and
//! posters), `verify.rs` (the signature check page), `home.rs` (`/`, `/ben-tin-cay`),
//! `trust_list.rs` (the national trust list, `/ben-tin-cay/danh-sach`). Handlers get the signed-in
//! person from the extractors of `extract.rs`; pages are askama templates (`templates/<area>/`).
//!
//! Sessions: a random 256-bit token in an HttpOnly, SameSite=Lax cookie (Secure when kyso is
//! served over HTTPS); only its SHA-256 is stored. Every POST carries a CSRF token derived from the
//! session (or, before login, from a random pre-session cookie). Logins are throttled per account
//! and per client address, registrations per address, by the authority in the store (`client.rs`
//! answers 429 / 503).
//! Access decisions are `kyso_access::decide`'s, never made here.

// Handlers return a ready page as the error of their guard functions; boxing it buys nothing.
#![allow(clippy::result_large_err)]

pub mod campaign;
mod citizen;
pub mod client;
mod desk;
pub mod errors;
pub mod extract;
mod guide;
pub mod home;
pub mod layout;
mod login;
pub(crate) mod multipart;
/// The upload form reader, for the `multipart` fuzz target.
#[doc(hidden)]
pub use multipart::{read_body as read_multipart_body, Limits as MultipartLimits};
mod otp;
mod qr;
mod reach;
mod trust_list;
pub mod verify;

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

pub use citizen::{opening_text, urlencode};
pub use desk::{support_figures, SupportFigures};
pub use layout::{bad_csrf, forbidden, Notice};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", axum::routing::get(home::home))
        .route("/ben-tin-cay", axum::routing::get(home::relying_parties))
        .route("/ben-tin-cay/danh-sach", axum::routing::get(trust_list::trust_list))
        .merge(citizen::routes())
        .merge(desk::routes())
        .merge(guide::routes())
        .merge(login::routes())
        .merge(reach::routes())
        .merge(verify::routes())
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
        self.lang().t(vi, en)
    }

    pub fn lang(&self) -> crate::i18n::Lang {
        crate::i18n::Lang::from_en(self.en)
    }

    /// The hidden CSRF field, for pages still built in Rust outside `web/` (templates include
    /// `parts/csrf.html`).
    pub fn csrf_field(&self) -> String {
        askama::Template::render(&layout::CsrfField { csrf: &self.csrf }).unwrap_or_default()
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
    commune_decision(s, &c, who, action, commune_code).await?;
    Ok(who.clone())
}

/// Whether `who` may do `action` on the commune `commune_code` (`kyso_access::decide` on its
/// area): else 404 (no such commune), 503, or 403.
async fn commune_decision(
    s: &AppState,
    c: &Ctx,
    who: &Principal,
    action: kyso_access::Action,
    commune_code: &str,
) -> Result<(), Response> {
    let area = match s.authority.store.commune(commune_code).await {
        Ok(Some(unit)) => kyso_access::Area::commune(&unit.province_code, &unit.code),
        Ok(None) => return Err((StatusCode::NOT_FOUND, "no such commune or hamlet\n").into_response()),
        Err(e) => {
            tracing::error!(error = %e, "commune lookup failed");
            return Err((StatusCode::SERVICE_UNAVAILABLE, "retry shortly\n").into_response());
        }
    };
    kyso_access::decide(who, action, &kyso_access::Resource::Unit(&area)).map_err(|_| forbidden(c))
}

/// Today in Vietnam (UTC+7), `YYYY-MM-DD`.
pub fn vn_today() -> String {
    kyso_tracker::read::vn_date(kyso_store::now())
}

/// `dd/mm/yyyy hh:mm` in Vietnam time from Unix seconds.
pub fn vn_datetime(unix: i64) -> String {
    kyso_calendar::vn_display_datetime(unix)
}
