//! `/me`: the citizen's account, the journey's steps, and what to do next (where to get level 2,
//! create a certificate, or sign).

use super::{masked, person_of, Q};
use crate::i18n::Lang;
use crate::input::Query;
use crate::web::extract::{csrf_forms, CitizenForm, SignedInCitizen, ViewAccount};
use crate::web::layout::{render_for, Frame};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use kyso_store::accounts::SupportPointRow;
use serde::Deserialize;

fn activation_label(lang: Lang, a: &str, level: i64) -> &'static str {
    match a {
        "awaiting_approval" if level >= 2 => {
            lang.t("Hồ sơ chờ phê duyệt đã được phê duyệt", "Pending application approved")
        }
        "awaiting_approval" => lang.t("Hồ sơ đã nộp, đang chờ phê duyệt", "Application filed, awaiting approval"),
        "issued_with_card" => lang.t(
            "Cấp cùng thẻ căn cước gắn chip (cấp mới, cấp đổi, cấp lại)",
            "Issued with a new or renewed chip ID card",
        ),
        "self_activated" => {
            lang.t("Tự kích hoạt bằng thẻ căn cước gắn chip đã có", "Self-activated with an existing chip ID card")
        }
        _ => lang.t("Tự đăng ký (mức 1)", "Self-registered (level 1)"),
    }
}

/// One step of the journey: done, the current one, or still ahead.
struct Step {
    label: &'static str,
    done: bool,
    now: bool,
}

fn steps(lang: Lang, level2: bool, has_cert: bool) -> Vec<Step> {
    let items = [
        (lang.t("Tài khoản định danh điện tử mức 2", "Level-2 e-ID account"), level2),
        (lang.t("Chọn nhà cung cấp dịch vụ chứng thực", "Choose a licensed provider"), has_cert),
        (lang.t("Xác nhận thông tin cá nhân", "Confirm your personal data"), has_cert),
        (lang.t("Đặt mã PIN và kích hoạt chứng thư số", "Set a PIN and activate the certificate"), has_cert),
        (lang.t("Ký hồ sơ trực tuyến", "Sign online dossiers"), false),
    ];
    let now = items.iter().position(|(_, done)| !done).unwrap_or(items.len());
    items.iter().enumerate().map(|(i, &(label, done))| Step { label, done, now: !done && i == now }).collect()
}

/// A support point near the citizen, with its opening days in words.
struct Point {
    name: String,
    address: String,
    open: String,
}

#[derive(Template)]
#[template(path = "citizen/me.html")]
struct Me {
    frame: Frame,
    registered: bool,
    name: String,
    id: String,
    level: i64,
    activation: &'static str,
    steps: Vec<Step>,
    has_cert: bool,
    points: Vec<Point>,
    /// Whether the citizen receives notifications (session invitations, renewal reminders).
    notified: bool,
    /// The notification choice was just saved.
    notify_saved: bool,
    csrf: String,
}

pub async fn me(State(s): State<AppState>, Query(q): Query<Q>, who: SignedInCitizen) -> Response {
    let (c, a) = (&who.ctx, &who.account);
    let lang = c.lang();
    let person = person_of(&s, a).await;
    let creds = s.authority.store.credentials_of(&a.id_number).await.unwrap_or_default();
    let has_cert = !creds.is_empty();
    let points: Vec<SupportPointRow> = match (&person, a.level < 2) {
        (Some(p), true) => s.authority.store.support_points(Some(&p.commune_code)).await.unwrap_or_default(),
        _ => Vec::new(),
    };
    let notified = !s.authority.store.opted_out(&a.id_number).await.unwrap_or(false);
    let page = Me {
        frame: Frame::new(c, c.t("Tài khoản của tôi", "My account")),
        registered: q.done.as_deref() == Some("registered"),
        name: person.as_ref().map(|p| p.full_name.clone()).unwrap_or_default(),
        id: masked(&a.id_number),
        level: a.level,
        activation: activation_label(lang, &a.activation, a.level),
        steps: steps(lang, a.level >= 2, has_cert),
        has_cert,
        points: points
            .into_iter()
            .map(|p| Point {
                open: super::opening_text(lang, &p.opening_days, &p.opening_hours),
                name: p.name,
                address: p.address,
            })
            .collect(),
        notified,
        notify_saved: q.done.as_deref() == Some("notifications"),
        csrf: c.csrf.clone(),
    };
    render_for(c, &page)
}

#[derive(Deserialize)]
pub struct NotificationsForm {
    csrf: String,
    /// `yes` to receive notifications, `no` to opt out.
    receive: String,
}
csrf_forms!(NotificationsForm);

/// `POST /me/notifications`: the citizen opts out of (or back into) every notification; audited
/// by the store with the ID number masked, and checked again before each message is sent.
pub async fn notifications(State(s): State<AppState>, post: CitizenForm<NotificationsForm, ViewAccount>) -> Response {
    let (c, a) = (&post.who.ctx, &post.who.account);
    let receive = match crate::input::one_of("receive", &post.form.receive, &["yes", "no"]) {
        Ok(v) => v == "yes",
        Err(bad) => return bad.page(c.en),
    };
    let actor = format!("citizen {}", masked(&a.id_number));
    match s.authority.store.set_opt_out(&a.id_number, !receive, &actor, kyso_store::now()).await {
        Ok(()) => Redirect::to("/me?done=notifications").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "notification choice not saved");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "retry shortly\n").into_response()
        }
    }
}
