//! The login flow the citizen and the staff logins share (the form, the authority's answer, the
//! session), and the logout of both.

use super::client::refused_attempt;
use super::extract::{CsrfOnly, VisitorForm};
use super::{end_session, redirect_with, start_session, Ctx, Who};
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use kyso_authority::AuthorityError;

pub fn routes() -> Router<AppState> {
    Router::new().route("/logout", post(logout))
}

/// A login of `kind` (`citizen`, `staff`): the authority's answer (`subject` signed in, wrong
/// credentials, or refused) as the session and a redirect to `home`, or the form again (`form`,
/// with its message) with 401, 429 or 503.
pub async fn finish(
    s: &AppState,
    c: &Ctx,
    kind: &str,
    answer: Result<Option<String>, AuthorityError>,
    home: &str,
    wrong: &str,
    form: impl Fn(&str) -> Response,
) -> Response {
    let with_status = |status: StatusCode, msg: &str| {
        let mut r = form(msg);
        *r.status_mut() = status;
        r
    };
    match answer {
        Ok(Some(subject)) => match start_session(s, kind, &subject).await {
            Ok(cookie) => redirect_with(home, &[cookie]),
            Err(r) => r,
        },
        Ok(None) => with_status(StatusCode::UNAUTHORIZED, wrong),
        Err(e) => refused_attempt(c, &e, &form).unwrap_or_else(|| {
            tracing::error!(error = %e, kind, "login failed");
            with_status(
                StatusCode::SERVICE_UNAVAILABLE,
                c.t("Hệ thống đang bận, vui lòng thử lại.", "The system is busy; please retry."),
            )
        }),
    }
}

async fn logout(State(s): State<AppState>, h: HeaderMap, f: VisitorForm<CsrfOnly>) -> Response {
    let to = if matches!(f.who.who, Some(Who::Staff(..))) { "/staff/login" } else { "/login" };
    let cookie = end_session(&s, &h).await;
    redirect_with(to, &[cookie])
}
