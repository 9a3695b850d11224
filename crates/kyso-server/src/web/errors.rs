//! Error pages for the pages' routes: a refusal a handler answered as bare text (`no such unit`,
//! `the form expired …`, `campaign data unavailable …`) or axum answered with no body at all (a
//! 405 for a method a page does not take) becomes the error page, in the request's language,
//! in the one layout. A text it does not know (the rate limits' and busy pools' answers, already
//! in the request's language) is shown as it is. The relying-party and API routes (`/api`,
//! `/csc`, `/ocsp`, `/tsa`, `/crl`, `/ca`) and the `/verify` page's script endpoint keep their
//! own bodies; headers such as `Allow` and `Retry-After` are kept.

use crate::input::{wants_en, Bad};
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// What a handler's bare text means, said in both languages; the text is matched without its
/// trailing newline. Unknown texts are said by their status.
const KNOWN: &[(&str, &str, &str)] = &[
    (
        "no such unit",
        "Không có đơn vị này trong danh mục hành chính.",
        "There is no such unit in the list of administrative units.",
    ),
    ("no such province", "Không có tỉnh, thành phố này.", "There is no such province."),
    ("no such commune", "Không có xã, phường này.", "There is no such commune."),
    ("no such commune or hamlet", "Không có xã hoặc thôn này.", "There is no such commune or hamlet."),
    (
        "no such person in this hamlet's register",
        "Người này không có trong danh sách dân cư của thôn.",
        "This person is not in the hamlet's register.",
    ),
    ("no such support point", "Không có điểm hỗ trợ này.", "There is no such support point."),
    (
        "the form expired: reload the page and submit again",
        "Biểu mẫu đã hết hạn: hãy tải lại trang rồi gửi lại.",
        "The form has expired: reload the page and submit it again.",
    ),
    (
        "the form expired: reload the worklist",
        "Biểu mẫu đã hết hạn: hãy tải lại danh sách.",
        "The form has expired: reload the worklist.",
    ),
    (
        "your account may not report for this unit",
        "Tài khoản của bạn không được báo cáo cho đơn vị này.",
        "Your account may not report for this unit.",
    ),
    (
        "campaign data unavailable; retry shortly",
        "Chưa lấy được số liệu chiến dịch; hãy thử lại sau ít phút.",
        "The campaign figures are not available just now; try again in a few minutes.",
    ),
    (
        "page unavailable; retry shortly",
        "Chưa hiển thị được trang này; hãy thử lại sau ít phút.",
        "This page cannot be shown just now; try again in a few minutes.",
    ),
    (
        "sign in as an officer, or enter the operator token",
        "Hãy đăng nhập bằng tài khoản cán bộ (hoặc nhập mã vận hành).",
        "Sign in as an officer (or enter the operator token).",
    ),
];

fn by_status(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::NOT_FOUND => ("Không có trang này.", "There is no such page."),
        StatusCode::METHOD_NOT_ALLOWED => (
            "Trang này không nhận yêu cầu gửi theo cách đó. Hãy mở trang từ liên kết hoặc gửi lại biểu mẫu.",
            "This page does not take that kind of request. Open it from a link, or submit its form again.",
        ),
        StatusCode::FORBIDDEN => ("Bạn không có quyền làm việc này.", "You may not do this."),
        StatusCode::UNAUTHORIZED => ("Hãy đăng nhập trước.", "Sign in first."),
        s if s.is_server_error() => (
            "Hệ thống tạm thời chưa trả lời được; hãy thử lại sau ít phút.",
            "The service cannot answer just now; try again in a few minutes.",
        ),
        _ => ("Yêu cầu không hợp lệ.", "The request is not valid."),
    }
}

/// Routes whose errors are for programs, not people: their bodies stay as they are.
fn for_programs(path: &str) -> bool {
    ["/api/", "/csc/", "/ocsp/", "/tsa", "/crl/", "/ca/", "/healthz", "/verify/report"]
        .iter()
        .any(|p| path.starts_with(p))
}

pub async fn pages_for_plain_errors(req: Request, next: Next) -> Response {
    let skip = for_programs(req.uri().path());
    let en = wants_en(req.uri(), req.headers());
    let res = next.run(req).await;
    let status = res.status();
    let bare = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|ct| ct.starts_with("text/plain"));
    if skip || !(status.is_client_error() || status.is_server_error()) || !bare {
        return res;
    }
    let (parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let text = text.trim();
    let mut bad = match KNOWN.iter().find(|(k, _, _)| *k == text) {
        Some((_, vi, en)) => Bad::new("", *vi, *en),
        None if text.is_empty() => {
            let (vi, en) = by_status(status);
            Bad::new("", vi, en)
        }
        // already said in the request's language (rate limits, busy pools)
        None => Bad::new("", text, text),
    };
    bad.status = status;
    let mut page = bad.page(en);
    for name in [header::ALLOW, header::RETRY_AFTER, header::SET_COOKIE, header::LOCATION] {
        for v in parts.headers.get_all(&name) {
            page.headers_mut().append(name.clone(), v.clone());
        }
    }
    page
}

#[cfg(test)]
mod tests {
    #[test]
    fn program_routes_keep_their_bodies() {
        assert!(super::for_programs("/api/v1/certificates") && super::for_programs("/ocsp/vnpt/x"));
        assert!(!super::for_programs("/campaign/reports") && !super::for_programs("/me"));
        assert!(super::for_programs("/verify/report") && !super::for_programs("/verify"));
    }
}
