//! Operator API (JSON, bearer token): issue, show, revoke, renew certificates; register citizens.
//! Errors are JSON `{ "error": …, "error_description": … }` naming the field at fault.

use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kyso_authority::{AuthorityError, IssueRequest};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/certificates", post(issue))
        .route("/api/v1/certificates/{serial}", get(show))
        .route("/api/v1/certificates/{serial}/revoke", post(revoke))
        .route("/api/v1/certificates/{serial}/renew", post(renew))
        .route("/api/v1/citizens", post(citizen))
}

pub(crate) fn err(status: StatusCode, code: &str, desc: impl std::fmt::Display) -> Response {
    (status, Json(json!({ "error": code, "error_description": desc.to_string() }))).into_response()
}

type Body<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

/// A JSON body, or the 4xx that names what is wrong with it (never axum's plain text).
#[allow(clippy::result_large_err)]
fn body<T>(b: Body<T>) -> Result<T, Response> {
    match b {
        Ok(Json(v)) => Ok(v),
        Err(e) => {
            let status = match e.status() {
                s @ (StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE) => s,
                _ => StatusCode::BAD_REQUEST,
            };
            Err(err(status, "invalid_request", e.body_text()))
        }
    }
}

fn from_authority(e: AuthorityError) -> Response {
    match e {
        AuthorityError::Pki(p) => err(StatusCode::BAD_REQUEST, "invalid_request", p),
        AuthorityError::Refused(m) => err(StatusCode::UNPROCESSABLE_ENTITY, "refused", m),
        AuthorityError::NotFound(m) => err(StatusCode::NOT_FOUND, "not_found", format!("{m} not found")),
        // A value over the store's length limit (kyso_store::limits): the caller's 400.
        AuthorityError::Store(e) if crate::input::store_limit(&e).is_some() => {
            err(StatusCode::BAD_REQUEST, "invalid_request", e)
        }
        other => {
            tracing::error!(error = %crate::input::Clean(&other), "operator API failure");
            err(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal error; see the server log")
        }
    }
}

/// Constant-time comparison of the bearer token.
pub(crate) fn authorised(s: &AppState, headers: &HeaderMap) -> bool {
    let Some(given) =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let want = s.operator_token.as_bytes();
    let given = given.trim().as_bytes();
    given.len() == want.len() && given.iter().zip(want).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// The longest serial accepted in a path (a 20-octet serial written with colons and `0x` is 61):
/// anything longer is refused before any lookup, naming the bound.
const MAX_SERIAL_CHARS: usize = 128;

fn serial_too_long(serial: &str) -> Option<Response> {
    let n = serial.chars().count();
    (n > MAX_SERIAL_CHARS).then(|| {
        err(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("serial: at most {MAX_SERIAL_CHARS} characters, got {n}"),
        )
    })
}

macro_rules! require_operator {
    ($s:expr, $h:expr) => {
        if !authorised(&$s, &$h) {
            return err(StatusCode::UNAUTHORIZED, "invalid_token", "send Authorization: Bearer <operator token>");
        }
    };
}

#[derive(Deserialize)]
struct IssueBody {
    id_number: String,
    full_name: String,
    province: String,
    commune: Option<String>,
    provider: String,
    key_algorithm: Option<String>,
    validity_days: Option<u64>,
}

async fn issue(State(s): State<AppState>, headers: HeaderMap, b: Body<IssueBody>) -> Response {
    require_operator!(s, headers);
    let b = match body(b) {
        Ok(b) => b,
        Err(answer) => return answer,
    };
    let key_algorithm = match b.key_algorithm.as_deref().map(str::parse).transpose() {
        Ok(a) => a,
        Err(e) => return err(StatusCode::BAD_REQUEST, "invalid_request", format!("key_algorithm: {e}")),
    };
    let req = IssueRequest {
        id_number: b.id_number,
        full_name: b.full_name,
        province: b.province,
        commune: b.commune,
        provider: b.provider,
        key_algorithm,
        validity_days: b.validity_days,
        actor: "operator-api".into(),
    };
    match s.authority.issue(req).await {
        Ok(c) => (StatusCode::CREATED, Json(c)).into_response(),
        Err(e) => from_authority(e),
    }
}

async fn show(State(s): State<AppState>, headers: HeaderMap, Path(serial): Path<String>) -> Response {
    require_operator!(s, headers);
    if let Some(answer) = serial_too_long(&serial) {
        return answer;
    }
    match s.authority.certificate(&serial).await {
        Ok(c) => Json(json!({
            "serial": c.serial, "provider": c.issuer_id, "profile": c.profile, "subject": c.subject_cn,
            "not_before": c.not_before, "not_after": c.not_after, "revoked_at": c.revoked_at,
            "revocation_reason": c.revocation_reason, "superseded_by": c.superseded_by,
            "pem": kyso_pki::pem("CERTIFICATE", &c.der),
        }))
        .into_response(),
        Err(e) => from_authority(e),
    }
}

#[derive(Deserialize)]
struct RevokeBody {
    reason: Option<String>,
}

async fn revoke(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(serial): Path<String>,
    b: Body<RevokeBody>,
) -> Response {
    require_operator!(s, headers);
    if let Some(answer) = serial_too_long(&serial) {
        return answer;
    }
    let b = match body(b) {
        Ok(b) => b,
        Err(answer) => return answer,
    };
    let reason = b.reason.as_deref().unwrap_or("unspecified");
    let Some(code) = kyso_pki::crl::reason_from_name(reason) else {
        return err(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("reason: unknown revocation reason `{reason}`"),
        );
    };
    match s.authority.revoke(&serial, code, "operator-api").await {
        Ok(c) => {
            Json(json!({ "serial": c.serial, "revoked_at": c.revoked_at, "reason": kyso_pki::crl::reason_name(code) }))
                .into_response()
        }
        Err(e) => from_authority(e),
    }
}

#[derive(Deserialize)]
struct RenewBody {
    #[serde(default)]
    new_key: bool,
}

async fn renew(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(serial): Path<String>,
    b: Body<RenewBody>,
) -> Response {
    require_operator!(s, headers);
    if let Some(answer) = serial_too_long(&serial) {
        return answer;
    }
    let b = match body(b) {
        Ok(b) => b,
        Err(answer) => return answer,
    };
    match s.authority.renew(&serial, b.new_key, "operator-api").await {
        Ok(c) => (StatusCode::CREATED, Json(c)).into_response(),
        Err(e) => from_authority(e),
    }
}

#[derive(Deserialize)]
struct CitizenBody {
    id_number: String,
    full_name: String,
    province: String,
    commune: Option<String>,
    eid_level: i64,
}

async fn citizen(State(s): State<AppState>, headers: HeaderMap, b: Body<CitizenBody>) -> Response {
    require_operator!(s, headers);
    let b = match body(b) {
        Ok(b) => b,
        Err(answer) => return answer,
    };
    if !(0..=2).contains(&b.eid_level) {
        return err(StatusCode::BAD_REQUEST, "invalid_request", "eid_level: must be 0, 1 or 2");
    }
    let subject = match kyso_pki::CitizenSubject::new(&b.id_number, &b.full_name, &b.province, b.commune.as_deref()) {
        Ok(s) => s,
        Err(e) => return err(StatusCode::BAD_REQUEST, "invalid_request", e),
    };
    match s.authority.register_citizen(&subject, b.eid_level, "operator-api").await {
        Ok(()) => (StatusCode::CREATED, Json(json!({ "id_masked": subject.id.masked(), "eid_level": b.eid_level })))
            .into_response(),
        Err(e) => from_authority(e),
    }
}
