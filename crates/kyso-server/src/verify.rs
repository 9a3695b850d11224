//! Validation over HTTP: `POST /api/validate` (a PDF, or a file with `?signature=` not supported
//! yet: PDF only) answers JSON reports; `/verify` is the page where a person drops a PDF and reads
//! the verdict in Vietnamese (or English).

use crate::ratelimit::{self, Limiter, Rate};
use crate::AppState;
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

async fn validate_json(State(s): State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    let result = match body_or_limit(body) {
        Ok(Ok(body)) => s.authority.validate_pdf(&body, &[]).await,
        Ok(Err(e)) => Err(e),
        Err(r) => return *r,
    };
    match result {
        Ok(reports) => Json(json!({ "signatures": reports })).into_response(),
        Err(ValidateError::Busy(b)) => ratelimit::busy(b, true),
        Err(ValidateError::Invalid(ValidationError::Limit(l))) => (
            status_of(&l),
            Json(json!({
                "error": "limit_exceeded",
                "error_description": l.message(kyso_validate::Lang::En),
                "limit": l,
            })),
        )
            .into_response(),
        Err(ValidateError::Invalid(e)) => {
            (StatusCode::BAD_REQUEST, Json(json!({ "error": "invalid_request", "error_description": e.to_string() })))
                .into_response()
        }
    }
}

use crate::html::esc;

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
            let mut out = String::new();
            for r in &reports {
                let color = match r.indication {
                    kyso_validate::Indication::TotalPassed => "#0a7d32",
                    kyso_validate::Indication::Indeterminate => "#a86400",
                    kyso_validate::Indication::TotalFailed => "#b00020",
                };
                out.push_str(&format!(
                    "<section class=\"sig\" style=\"border-left:6px solid {color}\"><pre>{}</pre></section>",
                    esc(&kyso_validate::render(std::slice::from_ref(r), l))
                ));
            }
            Html(out).into_response()
        }
        Err(ValidateError::Busy(b)) => ratelimit::busy(b, l == kyso_validate::Lang::En),
        Err(ValidateError::Invalid(e)) => {
            let status = match &e {
                ValidationError::Limit(lim) => status_of(lim),
                // the page always answered 200 with the message; keep that for unreadable files
                _ => StatusCode::OK,
            };
            (status, Html(format!("<p class=\"err\">{}</p>", esc(&e.message(l))))).into_response()
        }
    }
}

async fn page(Query(q): Query<Lang>) -> Html<String> {
    let en = lang(&q) == kyso_validate::Lang::En;
    let t = |vi: &'static str, e: &'static str| if en { e } else { vi };
    Html(format!(
        r#"<!doctype html><html lang="{l}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:56rem;margin:0 auto;padding:1rem}}
#drop{{display:block;border:2px dashed #888;border-radius:8px;padding:1.5rem 1rem;text-align:center;margin:1rem 0}}#drop input{{max-width:100%;margin-top:.5rem}}pre{{white-space:pre-wrap;font-size:.9rem;font-family:inherit}}
.sig{{padding:.2rem .8rem;margin:1rem 0;background:#f7f7f7}}.err{{color:#b00020}}</style></head><body>
<nav><a href="/">kyso</a> · <a href="/verify?lang=vi">Tiếng Việt</a> · <a href="/verify?lang=en">English</a></nav>
<h1>{title}</h1><p>{intro}</p>
<label id="drop">{drop}<br><input type="file" id="f" accept="application/pdf"></label>
<div id="out" aria-live="polite"></div>
<script>
const f=document.getElementById('f'),out=document.getElementById('out'),drop=document.getElementById('drop');
async function check(file){{out.textContent='{wait}';const r=await fetch('/verify/report?lang={l}',{{method:'POST',body:await file.arrayBuffer()}});out.innerHTML=await r.text();}}
f.addEventListener('change',()=>f.files[0]&&check(f.files[0]));
drop.addEventListener('dragover',e=>e.preventDefault());
drop.addEventListener('drop',e=>{{e.preventDefault();e.dataTransfer.files[0]&&check(e.dataTransfer.files[0]);}});
</script></body></html>"#,
        l = if en { "en" } else { "vi" },
        title = t("Kiểm tra chữ ký số trên tài liệu", "Verify the signatures on a document"),
        intro = t(
            "Chọn hoặc kéo thả tệp PDF đã ký. Kết quả theo ETSI EN 319 102-1: người ký, tổ chức cấp, thời gian ký, tính toàn vẹn, hiệu lực chứng thư tại thời điểm ký.",
            "Choose or drop a signed PDF. The verdict follows ETSI EN 319 102-1: signer, issuer, signing time, integrity, certificate validity at signing time."
        ),
        drop = t("Kéo thả tệp PDF vào đây hoặc chọn tệp", "Drop a PDF here or choose a file"),
        wait = t("Đang kiểm tra…", "Checking…"),
    ))
}
