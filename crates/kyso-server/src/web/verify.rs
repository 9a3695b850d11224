//! Validation over HTTP: `POST /api/validate` (a PDF) answers JSON reports, or the ETSI TS 119
//! 102-2 XML validation report with `?format=xml` or `Accept: application/xml`; `/verify` is the
//! page where a person drops a PDF and reads the verdict in Vietnamese (or English).

use super::layout::{render, Frame};
use crate::ratelimit::{self, Limiter, Rate};
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kyso_authority::ValidateError;
use kyso_validate::{LimitExceeded, Limits, ValidationError};
use serde::Deserialize;
use serde_json::json;

/// The largest upload validated (the validator's own bound; a larger body is refused naming it).
const MAX_DOCUMENT: usize = 32 << 20;

/// `/api/validate` and `/verify/report` share one bucket per address (`KYSO_RATE_VALIDATE`).
const VALIDATE_RATE: Rate = Rate { burst: 20.0, per_minute: 30.0 };

pub fn routes() -> Router<AppState> {
    let limiter = Limiter::new("validation", Rate::from_env("KYSO_RATE_VALIDATE", VALIDATE_RATE));
    Router::new()
        .route("/api/validate", post(validate_json))
        .route("/verify/report", post(report_html))
        .route_layer(axum::middleware::from_fn_with_state(limiter, ratelimit::limit))
        .route("/verify", get(page))
        .layer(DefaultBodyLimit::max(MAX_DOCUMENT))
}

#[derive(Deserialize)]
pub struct Lang {
    lang: Option<String>,
}

#[derive(Deserialize)]
pub struct ApiQuery {
    format: Option<String>,
    lang: Option<String>,
}

/// `?format=xml`, or an Accept header that asks for XML before JSON.
fn wants_xml(q: &ApiQuery, headers: &axum::http::HeaderMap) -> bool {
    if let Some(f) = q.format.as_deref() {
        return f.eq_ignore_ascii_case("xml");
    }
    let accept = headers.get(axum::http::header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let xml = accept.find("application/xml").or_else(|| accept.find("text/xml"));
    xml.is_some_and(|x| accept.find("application/json").is_none_or(|j| x < j))
}

fn lang(q: &Lang) -> kyso_validate::Lang {
    if q.lang.as_deref() == Some("en") {
        kyso_validate::Lang::En
    } else {
        kyso_validate::Lang::Vi
    }
}

/// The body, or the bound it went over (axum refuses past `MAX_DOCUMENT` while reading); any
/// other failure to read the body is answered as axum words it.
fn body_or_limit(body: Result<Bytes, BytesRejection>) -> Result<Result<Bytes, ValidateError>, Box<Response>> {
    match body {
        Ok(b) => Ok(Ok(b)),
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Ok(Err(ValidationError::Limit(LimitExceeded::Bytes {
                found: MAX_DOCUMENT + 1,
                max: Limits::default().max_bytes.min(MAX_DOCUMENT),
            })
            .into()))
        }
        Err(r) => Err(Box::new(r.into_response())),
    }
}

fn status_of(l: &LimitExceeded) -> StatusCode {
    match l {
        LimitExceeded::Bytes { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// `POST /api/validate`: the reports, or an error with a stable `error` code, an English
/// `error_description` and a `message` for a person in `?lang=` (Vietnamese unless `en`).
async fn validate_json(
    State(s): State<AppState>,
    Query(q): Query<ApiQuery>,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let mut digest = None;
    let l = if q.lang.as_deref() == Some("en") { kyso_validate::Lang::En } else { kyso_validate::Lang::Vi };
    let result = match body_or_limit(body) {
        Ok(Ok(body)) => {
            digest = Some(kyso_pki::alg::sha256(&body));
            s.authority.validate_pdf(&body, &[]).await
        }
        Ok(Err(e)) => Err(e),
        Err(r) => return *r,
    };
    match result {
        Ok(reports) if wants_xml(&q, &headers) => {
            let now = kyso_pki::time::unix(std::time::SystemTime::now()) as i64;
            let xml = kyso_validate::etsi_xml(&reports, now, digest.as_deref());
            ([(axum::http::header::CONTENT_TYPE, "application/xml; charset=utf-8")], xml).into_response()
        }
        Ok(reports) => Json(json!({ "signatures": reports })).into_response(),
        Err(ValidateError::Busy(b)) => ratelimit::busy(b, true),
        Err(ValidateError::Invalid(ValidationError::Limit(lim))) => (
            status_of(&lim),
            Json(json!({
                "error": "limit_exceeded",
                "error_description": lim.message(kyso_validate::Lang::En),
                "message": lim.message(l),
                "limit": lim,
            })),
        )
            .into_response(),
        Err(ValidateError::Invalid(e)) => {
            let body =
                json!({ "error": "invalid_request", "error_description": e.to_string(), "message": e.message(l) });
            (StatusCode::BAD_REQUEST, Json(body)).into_response()
        }
    }
}

/// The fragment `/verify` puts under the file chooser: each signature's report in words
/// (verdict first; the ETSI terms folded into a details element).
#[derive(Template)]
#[template(path = "verify/report.html")]
struct Report {
    verdicts: Vec<kyso_validate::Readable>,
    error: Option<String>,
    /// "Cảnh báo" / "Warnings", "Chi tiết kỹ thuật" / "Technical details".
    warnings_label: &'static str,
    details_label: &'static str,
}

impl Report {
    fn new(l: kyso_validate::Lang, verdicts: Vec<kyso_validate::Readable>, error: Option<String>) -> Report {
        let en = l == kyso_validate::Lang::En;
        Report {
            verdicts,
            error,
            warnings_label: if en { "Warnings" } else { "Cảnh báo" },
            details_label: if en { "Technical details" } else { "Chi tiết kỹ thuật" },
        }
    }
}

/// A fragment (no layout) as HTML.
fn fragment(status: StatusCode, r: &Report) -> Response {
    match r.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "report template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "page unavailable; retry shortly\n").into_response()
        }
    }
}

async fn report_html(
    State(s): State<AppState>,
    Query(q): Query<Lang>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let l = lang(&q);
    let result = match body_or_limit(body) {
        Ok(Ok(body)) => s.authority.validate_pdf(&body, &[]).await,
        Ok(Err(e)) => Err(e),
        Err(r) => return *r,
    };
    match result {
        Ok(reports) => {
            let verdicts = reports.iter().map(|r| kyso_validate::readable(r, l)).collect();
            fragment(StatusCode::OK, &Report::new(l, verdicts, None))
        }
        Err(ValidateError::Busy(b)) => ratelimit::busy(b, l == kyso_validate::Lang::En),
        Err(ValidateError::Invalid(e)) => {
            let status = match &e {
                ValidationError::Limit(lim) => status_of(lim),
                // the page always answered 200 with the message; keep that for unreadable files
                _ => StatusCode::OK,
            };
            fragment(status, &Report::new(l, Vec::new(), Some(e.message(l))))
        }
    }
}

#[derive(Template)]
#[template(path = "verify/page.html")]
struct VerifyPage {
    frame: Frame,
}

async fn page(Query(q): Query<Lang>) -> Response {
    let lang = crate::i18n::Lang::from_en(lang(&q) == kyso_validate::Lang::En);
    let title = lang.t("Kiểm tra chữ ký số trên tài liệu", "Verify the signatures on a document");
    render(&VerifyPage { frame: Frame::public(lang, title).at("/verify") })
}
