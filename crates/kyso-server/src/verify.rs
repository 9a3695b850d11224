//! Validation over HTTP: `POST /api/validate` (a PDF, or a file with `?signature=` not supported
//! yet: PDF only) answers JSON reports; `/verify` is the page where a person drops a PDF and reads
//! the verdict in Vietnamese (or English).

use crate::AppState;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

const MAX_DOCUMENT: usize = 32 << 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/validate", post(validate_json))
        .route("/verify", get(page))
        .route("/verify/report", post(report_html))
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

async fn validate_json(State(s): State<AppState>, body: Bytes) -> Response {
    match s.authority.validate_pdf(&body, &[]).await {
        Ok(reports) => Json(json!({ "signatures": reports })).into_response(),
        Err(e) => {
            (StatusCode::BAD_REQUEST, Json(json!({ "error": "invalid_request", "error_description": e.to_string() })))
                .into_response()
        }
    }
}

use crate::html::esc;

async fn report_html(State(s): State<AppState>, Query(q): Query<Lang>, body: Bytes) -> Html<String> {
    let l = lang(&q);
    match s.authority.validate_pdf(&body, &[]).await {
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
            Html(out)
        }
        Err(e) => Html(format!("<p class=\"err\">{}</p>", esc(&e.to_string()))),
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
