//! The one security-header layer, on every response of the router: a Content-Security-Policy
//! (`frame-ancestors 'none'`; inline styles and SVG allowed, forms only to kyso itself, scripts
//! only kyso's own — an inline `<script>` of a page is allowed by its SHA-256, computed here),
//! `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, and
//! `Cache-Control: no-store` on everything that does not set its own caching. Only the public DER
//! resources (`/ca`, `/crl`, `/ocsp`) set their own; every page (signed in or not), every export
//! of personal data (worklists, reconciliation, reports and their XLSX), the desk and the APIs are
//! never stored by a browser or a proxy.

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;

/// What every page needs, and nothing more.
const POLICY: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// HTML pages are small and built whole in memory; a larger one is sent without script hashes.
const MAX_SCAN: usize = 8 << 20;

pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let mut policy = std::borrow::Cow::Borrowed(POLICY);
    // Only a page whose whole size is known and small is read (pages are built in memory); a
    // streamed or larger one passes untouched, without script hashes.
    let small = res.body().size_hint().exact().is_some_and(|n| n <= MAX_SCAN as u64);
    if is_html && small && !res.headers().contains_key(header::CONTENT_SECURITY_POLICY) {
        let (parts, body) = res.into_parts();
        match axum::body::to_bytes(body, MAX_SCAN).await {
            Ok(bytes) => {
                let hashes = script_hashes(&bytes);
                if !hashes.is_empty() {
                    policy = format!("{POLICY}; script-src 'self' {}", hashes.join(" ")).into();
                }
                res = Response::from_parts(parts, Body::from(bytes));
            }
            Err(e) => {
                tracing::error!(error = %e, "page body unreadable");
                res = (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response();
            }
        }
    }
    let h = res.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(v) = HeaderValue::from_str(&policy) {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// `'sha256-…'` of every inline `<script>` element of a page.
fn script_hashes(html: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(open) = find(rest, b"<script>") {
        let body = &rest[open + 8..];
        let Some(close) = find(body, b"</script>") else { break };
        let text = String::from_utf8_lossy(&body[..close]);
        let digest = kyso_access::token::token_hash(&text);
        out.push(format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest)));
        rest = &body[close..];
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_each_inline_script() {
        let h = super::script_hashes(b"<p>x</p><script>alert(1)</script><script>let a=2;</script>");
        assert_eq!(h.len(), 2);
        // echo -n 'alert(1)' | openssl dgst -sha256 -binary | base64
        assert_eq!(h[0], "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='");
    }
}
