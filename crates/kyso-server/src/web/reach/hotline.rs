//! `/campaign/hotline` (`templates/reach/hotline.html`): operators log each question (topic, unit,
//! answered or not, the caller masked before it is stored), see this week's questions of their
//! area and the most-asked topics, search the FAQ without regard to diacritics, and (operators and
//! administrators) edit the FAQ and the operator hours that the guidance page shows.

use super::{area_of, back, own_area, own_unit};
use crate::i18n::Lang;
use crate::input::{self, Bad, Query};
use crate::web::extract::{csrf_forms, StaffForm, StaffIn};
use crate::web::layout::{forbidden, render_for, Frame};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use kyso_access::{decide, Action, Principal, Resource, Scope};
use kyso_campaign::hotline::Topic;
use kyso_store::hotline::{CallScope, FaqRow, ANSWER, QUESTION};
use kyso_tracker::hotline as service;
use serde::Deserialize;

const PATH: &str = "/campaign/hotline";

#[derive(Deserialize, Default)]
pub struct Q {
    #[allow(dead_code)] // read by the `Ctx` extractor
    lang: Option<String>,
    q: Option<String>,
    ok: Option<String>,
    err: Option<String>,
}

#[derive(Template)]
#[template(path = "reach/hotline.html")]
struct HotlinePage {
    frame: Frame,
    ok: Option<String>,
    err: Option<String>,
    may_log: bool,
    may_edit: bool,
    /// The unit the log form starts with (the operator's own).
    unit: String,
    topics: Vec<(&'static str, &'static str)>,
    week: String,
    calls: Vec<CallLine>,
    top: Vec<(&'static str, String, String)>,
    q: String,
    faq: Vec<FaqLine>,
    phone: String,
    hours: String,
}

struct CallLine {
    at: String,
    unit: String,
    topic: &'static str,
    question: String,
    caller: String,
    resolved: bool,
}

pub(crate) struct FaqLine {
    pub id: i64,
    pub topic_key: String,
    pub topic: &'static str,
    pub question: String,
    pub answer: String,
}

fn topic_label(l: Lang, key: &str) -> &'static str {
    let (vi, en) = Topic::parse(key).unwrap_or(Topic::Other).label();
    l.t(vi, en)
}

pub(crate) fn faq_lines(l: Lang, rows: Vec<FaqRow>) -> Vec<FaqLine> {
    rows.into_iter()
        .map(|r| FaqLine {
            id: r.id,
            topic: topic_label(l, &r.topic),
            topic_key: r.topic,
            question: r.question,
            answer: r.answer,
        })
        .collect()
}

fn call_scope(p: &Principal) -> CallScope {
    match &p.scope {
        Scope::Province(code) => CallScope::Province(code.clone()),
        Scope::Commune { commune, .. } => CallScope::Commune(commune.clone()),
        _ => CallScope::All,
    }
}

/// What the signed-in staff member may do here: log (and read) their area's questions, edit the FAQ.
fn rights(p: &Principal) -> (bool, bool) {
    let log = own_area(p).is_some_and(|a| decide(p, Action::LogHotlineCall, &Resource::Unit(&a)).is_ok());
    (log, decide(p, Action::ManageFaq, &Resource::System).is_ok())
}

pub async fn page(State(s): State<AppState>, Query(q): Query<Q>, who: StaffIn) -> Response {
    let c = &who.ctx;
    let l = c.lang();
    let (may_log, may_edit) = rights(&who.principal);
    if !may_log && !may_edit {
        return forbidden(c);
    }
    let store = &s.authority.store;
    let query = q.q.as_deref().unwrap_or("").chars().take(200).collect::<String>();
    let built = async {
        let today = kyso_tracker::reports::today()?;
        let week = kyso_campaign::reports::period_containing(
            &kyso_tracker::reports::rules(),
            kyso_campaign::deadlines::Frequency::Weekly,
            today,
        );
        let (calls, top) = if may_log {
            let scope = call_scope(&who.principal);
            let (from, to) = service::period_instants(&week);
            let rows = store.hotline_calls(&scope, from, to, 200).await.map_err(|e| e.to_string())?;
            (rows, service::topics(store, &scope, &week, 5).await?)
        } else {
            (Vec::new(), Vec::new())
        };
        let faq = service::search_faq(store, &query, 100).await?;
        let (phone, hours) = store.hotline_info().await.map_err(|e| e.to_string())?;
        Ok::<_, String>((week, calls, top, faq, phone.unwrap_or_default(), hours.unwrap_or_default()))
    }
    .await;
    let (week, calls, top, faq, phone, hours) = match built {
        Ok(v) => v,
        Err(e) => return crate::web::campaign::failure(e),
    };
    let page = HotlinePage {
        frame: Frame::new(c, l.t("Tổng đài hỗ trợ", "Hotline")).at(PATH),
        ok: q.ok,
        err: q.err,
        may_log,
        may_edit,
        unit: own_unit(&who.principal).filter(|u| u != kyso_tracker::reports::NATIONAL).unwrap_or_default(),
        topics: Topic::ALL.iter().map(|t| (t.key(), l.t(t.label().0, t.label().1))).collect(),
        week: kyso_campaign::reports::label(&week, l.en()),
        calls: calls
            .into_iter()
            .map(|r| CallLine {
                at: l.datetime(r.called_at),
                unit: r.commune_code.unwrap_or(r.province_code),
                topic: topic_label(l, &r.topic),
                question: r.question,
                caller: if r.caller_masked.is_empty() { "—".into() } else { r.caller_masked },
                resolved: r.resolved,
            })
            .collect(),
        top: top
            .iter()
            .map(|t| (l.t(t.topic.label().0, t.topic.label().1), l.num(t.asked), l.num(t.resolved)))
            .collect(),
        q: query,
        faq: faq_lines(l, faq),
        phone,
        hours,
    };
    render_for(c, &page)
}

#[derive(Deserialize)]
pub struct CallForm {
    csrf: String,
    unit: String,
    topic: String,
    #[serde(default)]
    question: String,
    #[serde(default)]
    caller: String,
    resolved: Option<String>,
}

#[derive(Deserialize)]
pub struct FaqForm {
    csrf: String,
    #[serde(default)]
    id: String,
    topic: String,
    question: String,
    answer: String,
}

#[derive(Deserialize)]
pub struct HoursForm {
    csrf: String,
    phone: String,
    hours: String,
}
csrf_forms!(CallForm, FaqForm, HoursForm);

fn typed_call(f: &CallForm) -> Result<String, Bad> {
    let unit = input::code("unit", f.unit.trim(), 5)?.to_owned();
    if !matches!(unit.len(), 2 | 5) || !unit.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Bad::new(
            "unit",
            "phải là mã xã (5 chữ số) hoặc mã tỉnh (2 chữ số).",
            "must be a commune (5 digits) or a province (2 digits) code.",
        ));
    }
    input::one_of("topic", &f.topic, &Topic::ALL.map(|t| t.key()))?;
    input::text(QUESTION, f.question.trim())?;
    kyso_campaign::hotline::mask_caller(&f.caller).map_err(|_| {
        Bad::new(
            "caller",
            "phải là số điện thoại (10 chữ số) hoặc số định danh (12 chữ số), hoặc để trống.",
            "must be a phone number (10 digits) or an ID number (12 digits), or empty.",
        )
    })?;
    Ok(unit)
}

pub async fn log_call(State(s): State<AppState>, post: StaffForm<CallForm>) -> Response {
    let (who, f) = (&post.who, &post.form);
    let en = who.ctx.en;
    let unit = match typed_call(f) {
        Ok(u) => u,
        Err(bad) => return back(PATH, en, Err(bad.message(en))),
    };
    match area_of(&s, &unit).await {
        Ok(Some(area)) if decide(&who.principal, Action::LogHotlineCall, &Resource::Unit(&area)).is_ok() => {}
        Ok(Some(_)) => return forbidden(&who.ctx),
        Ok(None) => {
            return back(
                PATH,
                en,
                Err(Bad::new("unit", "không có trong danh mục hành chính.", "is not a known unit.").message(en)),
            )
        }
        Err(e) => return crate::web::campaign::failure(e),
    }
    let input = service::CallInput {
        unit: &unit,
        topic: &f.topic,
        question: &f.question,
        caller: &f.caller,
        resolved: f.resolved.is_some(),
        at: kyso_store::now(),
    };
    match service::log_call(&s.authority.store, &input, &who.staff.username).await {
        Ok(row) => {
            tracing::info!(staff = %who.staff.username, unit = %unit, topic = %row.topic, caller = %row.caller_masked, "hotline question logged");
            back(PATH, en, Ok(who.ctx.t("Đã ghi nhận câu hỏi.", "Question logged.")))
        }
        Err(e) => crate::web::campaign::failure(e),
    }
}

pub async fn save_faq(State(s): State<AppState>, post: StaffForm<FaqForm>) -> Response {
    let (who, f) = (&post.who, &post.form);
    let en = who.ctx.en;
    if decide(&who.principal, Action::ManageFaq, &Resource::System).is_err() {
        return forbidden(&who.ctx);
    }
    let typed = (|| {
        let id = match f.id.trim() {
            "" => 0,
            t => t
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| Bad::new("id", "phải là số.", "must be a number."))?,
        };
        input::one_of("topic", &f.topic, &Topic::ALL.map(|t| t.key()))?;
        input::text(QUESTION, f.question.trim())?;
        input::text(ANSWER, f.answer.trim())?;
        if f.question.trim().is_empty() || f.answer.trim().is_empty() {
            return Err(Bad::new(
                "answer",
                "còn thiếu: cần cả câu hỏi và câu trả lời.",
                "is missing: both a question and an answer are needed.",
            ));
        }
        Ok(id)
    })();
    let id = match typed {
        Ok(id) => id,
        Err(bad) => return back(PATH, en, Err(bad.message(en))),
    };
    match service::save_faq(&s.authority.store, id, &f.topic, &f.question, &f.answer, &who.staff.username).await {
        Ok(_) => back(PATH, en, Ok(who.ctx.t("Đã lưu câu hỏi thường gặp.", "FAQ entry saved."))),
        Err(e) if e.contains("not found") => {
            back(PATH, en, Err(who.ctx.t("Không có mục này.", "No such entry.").into()))
        }
        Err(e) => crate::web::campaign::failure(e),
    }
}

pub async fn save_hours(State(s): State<AppState>, post: StaffForm<HoursForm>) -> Response {
    let (who, f) = (&post.who, &post.form);
    let en = who.ctx.en;
    if decide(&who.principal, Action::ManageFaq, &Resource::System).is_err() {
        return forbidden(&who.ctx);
    }
    let typed = input::text(kyso_store::limits::PHONE, f.phone.trim())
        .and_then(|_| input::text(kyso_store::hotline::HOURS, f.hours.trim()));
    if let Err(bad) = typed {
        return back(PATH, en, Err(bad.message(en)));
    }
    match service::set_info(&s.authority.store, &f.phone, &f.hours, &who.staff.username).await {
        Ok(()) => back(PATH, en, Ok(who.ctx.t("Đã lưu giờ làm việc của tổng đài.", "Operator hours saved."))),
        Err(e) if e.contains("needed") => back(
            PATH,
            en,
            Err(who.ctx.t("Cần cả số tổng đài và giờ làm việc.", "Both the number and the hours are needed.").into()),
        ),
        Err(e) => crate::web::campaign::failure(e),
    }
}

/// What the guidance page shows: the hotline's number and hours, and the FAQ entries matching
/// `query` (all without one).
pub async fn guide_faq(s: &AppState, l: Lang, query: &str) -> (Option<(String, String)>, Vec<FaqLine>) {
    let store = &s.authority.store;
    let info = match store.hotline_info().await {
        Ok((Some(phone), Some(hours))) => Some((phone, hours)),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "hotline hours unavailable");
            None
        }
    };
    let faq = match service::search_faq(store, query, 100).await {
        Ok(rows) => faq_lines(l, rows),
        Err(e) => {
            tracing::warn!(error = %e, "FAQ unavailable");
            Vec::new()
        }
    };
    (info, faq)
}
