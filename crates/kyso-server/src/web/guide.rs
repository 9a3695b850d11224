//! Help for citizens (the plans' guidance documents reached by QR codes): `/huong-dan`, the steps
//! to create and use a signature and the questions desks hear most; `/g/{point}`, the address
//! printed as a QR code on each support point's poster, which counts the scan (a demand signal:
//! point and day only) and opens the guidance with that point's address and opening days;
//! `/desk/points/{point}/poster`, the printable poster.

use super::client::ClientAddr;
use super::qr::qr_svg;
use super::{ctx, esc, page, Ctx};
use kyso_tracker::read::vn_date;
use crate::input::Query;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use kyso_store::accounts::SupportPointRow;
use serde::Deserialize;
use std::fmt::Write as _;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/huong-dan", get(guide))
        .route("/g/{point}", get(scan))
        .route("/desk/points/{point}/poster", get(poster))
}

#[derive(Deserialize)]
pub struct Q {
    lang: Option<String>,
    p: Option<String>,
}

/// Point IDs are slugs; anything else is not looked up.
fn slug(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn point(s: &AppState, id: &str) -> Option<SupportPointRow> {
    if !slug(id) {
        return None;
    }
    s.authority.store.support_point(id).await.ok().flatten()
}

fn opening(c: &Ctx, p: &SupportPointRow) -> String {
    format!("{}: {}", c.t("Mở cửa", "Open"), super::citizen::weekdays(c, &p.opening_days))
}

/// `GET /g/{point}`: count the scan, then show the guidance for that point.
/// Scanners already counted today, as (address key, point): one count per address, point and day,
/// so a reload or a script hammering the link neither inflates the figure nor writes each time.
#[derive(Default)]
pub struct Seen(std::sync::Mutex<(String, std::collections::HashSet<(String, String)>)>);

/// Distinct (address, point) pairs remembered per day; past it, scans are still answered, not counted.
const SEEN_MAX: usize = 1_000_000;

impl Seen {
    /// Whether this is the first scan of `point` from `address` on `day`.
    fn first(&self, day: &str, address: &str, point: &str) -> bool {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (today, seen) = &mut *g;
        if today != day {
            *today = day.to_owned();
            seen.clear();
        }
        seen.len() < SEEN_MAX && seen.insert((address.to_owned(), point.to_owned()))
    }
}

async fn scan(
    State(s): State<AppState>,
    client: Option<axum::Extension<ClientAddr>>,
    Path(id): Path<String>,
) -> Response {
    match point(&s, &id).await {
        Some(p) => {
            let today = vn_date(kyso_store::now());
            let address = client.and_then(|c| c.0 .0).map(|ip| ip.to_string()).unwrap_or_default();
            if s.web.guide_scans.first(&today, &address, &p.id) {
                if let Err(e) = s.authority.store.record_guide_scan(&p.id, &today).await {
                    tracing::warn!(error = %e, point = %p.id, "guide scan not counted");
                }
            }
            Redirect::to(&format!("/huong-dan?p={}", p.id)).into_response()
        }
        None => Redirect::to("/huong-dan").into_response(),
    }
}

async fn guide(State(s): State<AppState>, h: HeaderMap, Query(q): Query<Q>) -> Response {
    let c = ctx(&s, &h, q.lang.as_deref()).await;
    let mut body = String::new();
    if let Some(p) = match q.p.as_deref() {
        Some(id) => point(&s, id).await,
        None => None,
    } {
        let _ = write!(
            body,
            "<div class=\"card\"><strong>{}</strong><br>{}<br><span class=\"muted\">{}</span></div>",
            esc(&p.name),
            esc(&p.address),
            esc(&opening(&c, &p))
        );
    }
    let steps = [
        c.t(
            "Có tài khoản định danh điện tử mức 2 (VNeID). Chưa có: mang thẻ căn cước gắn chip đến điểm hỗ trợ để được xác thực trực tiếp (thẻ và khuôn mặt).",
            "Have a level-2 e-ID account (VNeID). If not: bring your chip ID card to a support point to be verified in person (card and face).",
        ),
        c.t(
            "Đăng nhập và chọn một nhà cung cấp dịch vụ chứng thực được cấp phép.",
            "Log in and choose a licensed certificate provider.",
        ),
        c.t(
            "Kiểm tra thông tin cá nhân sẽ ghi vào chứng thư (họ tên, số định danh, nơi cư trú).",
            "Check the personal data that goes into the certificate (name, ID number, place of residence).",
        ),
        c.t(
            "Đặt mã PIN 6 chữ số (không dùng ngày sinh hay dãy số dễ đoán); nếu nhà cung cấp yêu cầu, thêm ứng dụng xác thực bằng mã QR hiện ra.",
            "Set a 6-digit PIN (not your birthday or an easy sequence); if the provider asks, add the authenticator app from the QR code shown.",
        ),
        c.t(
            "Ký tài liệu, hồ sơ dịch vụ công trực tuyến bằng PIN. Kiểm tra chữ ký trên bất kỳ tệp PDF nào tại trang Kiểm tra chữ ký.",
            "Sign documents and online public-service dossiers with your PIN. Check the signatures of any PDF on the Verify page.",
        ),
    ];
    let _ = write!(body, "<h2>{}</h2><ol>", c.t("Năm bước", "Five steps"));
    for step in steps {
        let _ = write!(body, "<li>{}</li>", esc(step));
    }
    let _ = write!(
        body,
        "</ol><p><a class=\"btn\" href=\"/login\">{}</a> <a class=\"btn secondary\" href=\"/verify\">{}</a></p>",
        c.t("Đăng nhập", "Log in"),
        c.t("Kiểm tra chữ ký", "Verify a signature")
    );
    let faq = [
        (
            c.t("Chứng thư có hiệu lực bao lâu?", "How long is a certificate valid?"),
            c.t(
                "Tối đa 3 năm. Gia hạn trong mục Chứng thư số của tôi; chữ ký đã ký trước đó vẫn giữ giá trị.",
                "Up to 3 years. Renew it under My certificates; what you signed before stays valid.",
            ),
        ),
        (
            c.t("Nhập sai mã PIN nhiều lần?", "Wrong PIN several times?"),
            c.t(
                "Sau 5 lần sai (PIN hoặc mã OTP), chứng thư bị khóa để bảo vệ bạn. Đến điểm hỗ trợ để cán bộ xác thực trực tiếp và mở khóa.",
                "After 5 wrong attempts (PIN or one-time code) the certificate locks to protect you. Visit a support point: an officer verifies you in person and unlocks it.",
            ),
        ),
        (
            c.t("Mất điện thoại hoặc nghi lộ mã PIN?", "Lost your phone or think your PIN leaked?"),
            c.t(
                "Thu hồi chứng thư ngay trong mục Chứng thư số của tôi hoặc tại điểm hỗ trợ, rồi tạo chứng thư mới.",
                "Revoke the certificate at once under My certificates or at a support point, then create a new one.",
            ),
        ),
        (
            c.t("Cán bộ có hỏi mã PIN của tôi không?", "Will staff ask for my PIN?"),
            c.t(
                "Không bao giờ. Không đưa mã PIN, mã OTP hay mã QR của ứng dụng xác thực cho bất kỳ ai, kể cả người hỗ trợ.",
                "Never. Do not give your PIN, one-time code or authenticator QR code to anyone, helpers included.",
            ),
        ),
        (
            c.t("Có mất phí không?", "Does it cost anything?"),
            c.t(
                "Tùy nhà cung cấp và địa phương; nhiều nơi miễn phí khi ký hồ sơ thủ tục hành chính. Hỏi cán bộ tại điểm hỗ trợ.",
                "It depends on the provider and the locality; many waive the fee for administrative procedures. Ask at a support point.",
            ),
        ),
    ];
    let _ = write!(body, "<h2>{}</h2>", c.t("Câu hỏi thường gặp", "Frequently asked"));
    for (question, answer) in faq {
        let _ = write!(body, "<details><summary>{}</summary><p>{}</p></details>", esc(question), esc(answer));
    }
    page(&c, c.t("Hướng dẫn tạo và dùng chữ ký số", "How to create and use your digital signature"), &body)
}

/// A printable A4 poster for the desk: what it is for, the QR code of `/g/{point}`, the address
/// and opening days. Public: it shows nothing that is not on the door already.
async fn poster(State(s): State<AppState>, h: HeaderMap, Path(id): Path<String>, Query(q): Query<Q>) -> Response {
    let c = ctx(&s, &h, q.lang.as_deref()).await;
    let Some(p) = point(&s, &id).await else {
        return (axum::http::StatusCode::NOT_FOUND, "no such support point\n").into_response();
    };
    let url = format!("{}/g/{}", s.authority.config.base_url.trim_end_matches('/'), p.id);
    let body = format!(
        "<div class=\"card\" style=\"text-align:center\"><p style=\"font-size:1.4rem\"><strong>{}</strong></p>{}\
<p>{}<br><code>{}</code></p><p><strong>{}</strong><br>{}<br>{}</p></div>",
        c.t(
            "Quét mã để xem cách tạo chữ ký số trên điện thoại",
            "Scan to see how to create your digital signature on your phone"
        ),
        qr_svg(&url).unwrap_or_default(),
        c.t("hoặc mở", "or open"),
        esc(&url),
        esc(&p.name),
        esc(&p.address),
        esc(&opening(&c, &p)),
    );
    page(&c, c.t("Chữ ký số cho người dân", "Digital signatures for citizens"), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scanner_counts_once_per_point_and_day() {
        let seen = Seen::default();
        assert!(seen.first("2026-12-05", "198.51.100.7", "hl-motcua"));
        assert!(!seen.first("2026-12-05", "198.51.100.7", "hl-motcua"), "a reload");
        assert!(seen.first("2026-12-05", "198.51.100.7", "hl-luudong"), "another point");
        assert!(seen.first("2026-12-05", "198.51.100.8", "hl-motcua"), "another address");
        assert!(seen.first("2026-12-06", "198.51.100.7", "hl-motcua"), "the next day");
    }

    #[test]
    fn only_slugs_are_looked_up() {
        assert!(slug("hl-motcua") && slug("point_7"));
        assert!(!slug("") && !slug("a/b") && !slug("x'--") && !slug(&"a".repeat(65)));
    }
}
