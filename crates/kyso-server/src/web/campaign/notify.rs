//! Notifications for a commune: `/campaign/notify?commune=…` (`templates/campaign/notify.html`)
//! — a form to invite a hamlet's worklist to a support session (`POST /campaign/notify/invite`)
//! and the commune's outbox, recipients masked. For staff who act for the commune (the
//! `SubmitReport` permission: commune and province officers), area-scoped; the invitation is
//! audited by the outbox, one row per message, the recipient masked.

use super::{asks_en, failure, frame, lang_param};
use crate::i18n::Lang;
use crate::input::{self, Bad, Form, Query};
use crate::web::layout::{render, Frame};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kyso_access::Action;
use kyso_campaign::notify::Channel;
use kyso_tracker::notify::{invite_hamlet, outbox_view, Invitation};
use serde::Deserialize;

/// Rows of the outbox shown.
const SHOWN: i64 = 100;

#[derive(Deserialize)]
pub struct Params {
    lang: Option<String>,
    commune: Option<String>,
    residents: Option<u64>,
    queued: Option<u64>,
    unreachable: Option<u64>,
}

#[derive(Template)]
#[template(path = "campaign/notify.html")]
struct NotifyPage {
    frame: Frame,
    commune: String,
    csrf: String,
    hamlets: Vec<(String, String)>,
    points: Vec<String>,
    today: String,
    /// (status label, count)
    counts: Vec<(&'static str, i64)>,
    rows: Vec<Row>,
    /// After an invitation: (people on the list, messages queued, people without an address).
    done: Option<(u64, u64, u64)>,
    delivers: bool,
}

struct Row {
    when: String,
    channel: &'static str,
    to: String,
    what: &'static str,
    status: &'static str,
    class: &'static str,
    attempts: i64,
}

fn channel_label(c: &str) -> &'static str {
    match c {
        "email" => "E-mail",
        "sms" => "SMS",
        "zalo" => "Zalo",
        _ => "?",
    }
}

fn template_label(l: Lang, t: &str) -> &'static str {
    match t {
        "session_invitation" => l.t("Mời buổi hỗ trợ", "Session invitation"),
        "renewal_30" => l.t("Nhắc gia hạn (30 ngày)", "Renewal reminder (30 days)"),
        "renewal_7" => l.t("Nhắc gia hạn (7 ngày)", "Renewal reminder (7 days)"),
        "report_weekly" => l.t("Nhắc báo cáo tuần", "Weekly report reminder"),
        "report_monthly" => l.t("Nhắc báo cáo tháng", "Monthly report reminder"),
        "task_overdue" => l.t("Nhiệm vụ quá hạn", "Overdue task"),
        _ => "?",
    }
}

fn status_label(l: Lang, s: &str) -> (&'static str, &'static str) {
    match s {
        "queued" => (l.t("Chờ gửi", "Queued"), "amber"),
        "sending" => (l.t("Đang gửi", "Sending"), "amber"),
        "sent" => (l.t("Đã gửi", "Sent"), "green"),
        "failed" => (l.t("Không gửi được", "Failed"), "red"),
        "suppressed" => (l.t("Không gửi (từ chối nhận)", "Not sent (opted out)"), ""),
        _ => ("?", ""),
    }
}

/// `GET /campaign/notify?commune=…`.
pub async fn notify_page(State(s): State<AppState>, headers: HeaderMap, Query(p): Query<Params>) -> Response {
    let typed = lang_param(p.lang.as_deref())
        .and_then(|l| input::code("commune", input::required("commune", p.commune.as_deref())?, 16).map(|c| (l, c)));
    let (l, commune) = match typed {
        Ok(v) => v,
        Err(bad) => return bad.page(asks_en(p.lang.as_deref())),
    };
    if let Err(answer) = crate::web::staff_may(&s, &headers, Action::SubmitReport, commune).await {
        return answer;
    }
    let csrf = crate::web::ctx(&s, &headers, None).await.csrf;
    let store = &s.authority.store;
    let result = async {
        let err = |e: kyso_store::StoreError| e.to_string();
        let unit = store.commune(commune).await.map_err(err)?.ok_or("no such commune")?;
        let hamlets = store.hamlets(commune).await.map_err(err)?.into_iter().map(|h| (h.code, h.name)).collect();
        let points = store
            .support_points(Some(commune))
            .await
            .map_err(err)?
            .into_iter()
            .map(|p| format!("{}, {}", p.name, p.address))
            .collect();
        let view = outbox_view(store, commune, SHOWN).await?;
        Ok::<_, String>((unit, hamlets, points, view))
    }
    .await;
    let (unit, hamlets, points, view) = match result {
        Ok(v) => v,
        Err(e) => return failure(e),
    };
    let counts = ["queued", "sent", "failed", "suppressed"]
        .iter()
        .map(|st| (status_label(l, st).0, view.counts.iter().find(|(k, _)| k == st).map_or(0, |c| c.1)))
        .collect();
    let rows = view
        .rows
        .iter()
        .map(|r| {
            let (status, class) = status_label(l, &r.status);
            Row {
                when: l.datetime(r.sent_at.unwrap_or(r.created_at)),
                channel: channel_label(&r.channel),
                to: r.recipient_masked.clone(),
                what: template_label(l, &r.template),
                status,
                class,
                attempts: r.attempts,
            }
        })
        .collect();
    let title = format!("{} — {}", l.t("Thông báo", "Notifications"), unit.name);
    let done = match (p.residents, p.queued, p.unreachable) {
        (Some(r), Some(q), Some(u)) => Some((r, q, u)),
        _ => None,
    };
    render(&NotifyPage {
        frame: frame(l, title, format!("/campaign/notify?commune={commune}")),
        commune: commune.to_owned(),
        csrf,
        hamlets,
        points,
        today: kyso_tracker::read::vn_date(kyso_store::now()),
        counts,
        rows,
        done,
        delivers: s.authority.config.notify.is_some(),
    })
}

#[derive(Deserialize)]
pub struct InviteForm {
    csrf: String,
    lang: Option<String>,
    commune: String,
    hamlet: String,
    date: String,
    time: String,
    venue: String,
    sms: Option<String>,
    zalo: Option<String>,
    email: Option<String>,
}

fn typed(f: &InviteForm) -> Result<Invitation, Bad> {
    input::code("commune", &f.commune, 16)?;
    input::code("hamlet", &f.hamlet, 32)?;
    let day = input::day("date", &f.date)?;
    let format = time::macros::format_description!("[hour]:[minute]");
    let at = time::Time::parse(f.time.trim(), format).map_err(|_| {
        Bad::new("session_time", "phải có dạng GG:PP, ví dụ 08:00.", "must look like HH:MM, for example 08:00.")
    })?;
    let venue = f.venue.trim();
    if venue.is_empty() {
        return Err(Bad::new(
            "venue",
            "còn trống: ghi nơi tổ chức buổi hỗ trợ.",
            "is empty: say where the session is held.",
        ));
    }
    input::text(kyso_store::limits::Limit { field: "venue", max_chars: 200 }, venue)?;
    let channels: Vec<Channel> = [(&f.sms, Channel::Sms), (&f.zalo, Channel::Zalo), (&f.email, Channel::Email)]
        .into_iter()
        .filter(|(on, _)| on.is_some())
        .map(|(_, c)| c)
        .collect();
    if channels.is_empty() {
        return Err(Bad::new("channel", "chưa chọn: chọn ít nhất một kênh gửi.", "is not chosen: pick at least one."));
    }
    let at = day.with_time(at).assume_offset(kyso_calendar::VIETNAM);
    if at.unix_timestamp() <= kyso_store::now() {
        return Err(Bad::new(
            "session_time",
            "đã qua: chọn ngày giờ sắp tới.",
            "is in the past: choose a coming date and time.",
        ));
    }
    Ok(Invitation { commune: f.commune.clone(), hamlet: f.hamlet.clone(), at, place: venue.to_owned(), channels })
}

/// `POST /campaign/notify/invite`: enqueue the invitations, back to the page with the counts.
pub async fn invite(State(s): State<AppState>, headers: HeaderMap, Form(f): Form<InviteForm>) -> Response {
    let c = crate::web::ctx(&s, &headers, None).await;
    let en = c.en || f.lang.as_deref() == Some("en");
    if !c.csrf_valid(&f.csrf) {
        return (StatusCode::FORBIDDEN, "the form expired: reload the page\n").into_response();
    }
    let inv = match typed(&f) {
        Ok(v) => v,
        Err(bad) => return bad.page(en),
    };
    if let Err(answer) = crate::web::staff_may(&s, &headers, Action::SubmitReport, &inv.commune).await {
        return answer;
    }
    let Some((staff, _)) = c.staff() else { return Redirect::to("/staff/login").into_response() };
    match invite_hamlet(&s.authority.store, &inv, &staff.username, kyso_store::now()).await {
        Ok(r) => {
            tracing::info!(staff = %staff.username, commune = %inv.commune, hamlet = %inv.hamlet, queued = r.enqueued.queued, "session invitation queued");
            let lang = if en { "&lang=en" } else { "" };
            Redirect::to(&format!(
                "/campaign/notify?commune={}&residents={}&queued={}&unreachable={}{lang}",
                crate::web::urlencode(&inv.commune),
                r.residents,
                r.enqueued.queued,
                r.unreachable
            ))
            .into_response()
        }
        Err(e) if e.starts_with("hamlet ") => {
            Bad::new("hamlet", "không thuộc xã này.", "is not in this commune.").page(en)
        }
        Err(e) => failure(e),
    }
}
