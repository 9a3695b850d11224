//! `/campaign/worklist` (`templates/campaign/worklist.html`): a hamlet's printable door-to-door
//! list, each line with its visit form for staff who may record visits there, and its XLSX
//! (`/campaign/worklist.xlsx`, shared with `kyso campaign worklist --xlsx`). Worklists carry
//! personal data: only staff allowed to view the commune's worklists see them, ID numbers masked,
//! names shortened, every view and export audited.

use super::visits::{handle, OUTCOMES};
use super::{asks_en, day_or_today, failure, frame, lang_param, short_name, xlsx_download};
use crate::i18n::Lang;
use crate::input::{self, Bad, Query};
use crate::web::layout::{render, Frame};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kyso_access::Action;
use kyso_campaign::csv::parse_date;
use kyso_campaign::denominator::AdultsDenominator;
use kyso_campaign::worklist::{build_worklist, Outcome};
use kyso_store::{AuditEvent, Store, Write};
use kyso_tracker::read::{load, Fallible};
use kyso_tracker::worklist::{visit_key, visit_log, worklist_lines, worklist_xlsx};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Params {
    lang: Option<String>,
    date: Option<String>,
    commune: Option<String>,
    hamlet: Option<String>,
    /// After a visit was recorded from the list.
    saved: Option<String>,
}

/// The typed query: commune, hamlet and day.
fn typed(p: &Params) -> Result<(&str, &str, String), Bad> {
    let commune = input::code("commune", input::required("commune", p.commune.as_deref())?, 16)?;
    let hamlet = input::code("hamlet", input::required("hamlet", p.hamlet.as_deref())?, 32)?;
    Ok((commune, hamlet, day_or_today(p.date.as_deref())?))
}

#[derive(Template)]
#[template(path = "campaign/worklist.html")]
struct Worklist {
    frame: Frame,
    commune: String,
    hamlet: String,
    date: String,
    min_age: u8,
    saved: bool,
    lines: Vec<Line>,
    /// The visit forms' CSRF token, for staff who may record visits here.
    csrf: Option<String>,
    outcomes: &'static [(&'static str, &'static str, &'static str)],
}

struct Line {
    household: String,
    masked_id: String,
    name: String,
    last: String,
    /// The person's handle in the visit form.
    person: String,
}

/// Worklists carry personal data: only staff allowed to view this commune's worklists see them.
pub async fn worklist(State(s): State<AppState>, headers: HeaderMap, Query(p): Query<Params>) -> Response {
    let typed = lang_param(p.lang.as_deref()).and_then(|l| typed(&p).map(|(c, h, d)| (l, c, h, d)));
    let (l, commune, hamlet, date) = match typed {
        Ok(v) => v,
        Err(bad) => return bad.page(asks_en(p.lang.as_deref())),
    };
    if let Err(answer) = crate::web::staff_may(&s, &headers, Action::ViewWorklist, commune).await {
        return answer;
    }
    // Staff who may record visits here get a form on every line.
    let forms = if crate::web::staff_may(&s, &headers, Action::RecordVisit, commune).await.is_ok() {
        match visit_key(&s.authority.store, true).await {
            Ok(Some(key)) => Some((crate::web::ctx(&s, &headers, None).await.csrf, key)),
            Ok(None) => None,
            Err(e) => return failure(e),
        }
    } else {
        None
    };
    let place = (commune, hamlet);
    match page(&s.authority.store, l, place, &date, p.saved.is_some(), forms).await {
        Ok(Some(page)) => render(&page),
        Ok(None) => (StatusCode::NOT_FOUND, "no such commune or hamlet\n").into_response(),
        Err(e) => failure(e),
    }
}

async fn page(
    store: &Store,
    l: Lang,
    (commune, hamlet): (&str, &str),
    date: &str,
    saved: bool,
    forms: Option<(String, String)>,
) -> Fallible<Option<Worklist>> {
    let err = |e: kyso_store::StoreError| e.to_string();
    let as_of = parse_date(date)?;
    let Some(unit) = store.commune(commune).await.map_err(err)? else { return Ok(None) };
    let hamlets = store.hamlets(commune).await.map_err(err)?;
    let Some(h) = hamlets.iter().find(|h| h.code == hamlet) else { return Ok(None) };
    let (register, adoption) = load(store, commune, Some(hamlet)).await?;
    let min_age = match store.plans(Some(commune)).await.map_err(err)?.into_iter().next_back() {
        Some((plan, _)) => u8::try_from(plan.min_age).map_err(|e| e.to_string())?,
        None => 15,
    };
    let line = AdultsDenominator::new(min_age, as_of).map_err(|e| e.to_string())?;
    let log = visit_log(store, &register, commune, Some(hamlet)).await?;
    let list = build_worklist(&register, &adoption, &line, &log, (commune, hamlet), as_of);
    let audit = AuditEvent::new(
        "web",
        "campaign.worklist.view",
        &format!("{commune}/{hamlet}"),
        format!("{} entries on {date}", list.entries.len()),
    );
    store.commit(&[Write::Audit(audit)]).await.map_err(err)?;
    let lines = list
        .entries
        .iter()
        .map(|e| Line {
            household: e.household.clone().unwrap_or_default(),
            masked_id: e.masked_id.clone(),
            name: short_name(e.full_name.as_deref().unwrap_or("")),
            last: e.last_outcome.as_ref().map(|o| outcome_text(l, o)).unwrap_or_default(),
            person: forms.as_ref().map(|(_, key)| handle(key, e.person())).unwrap_or_default(),
        })
        .collect();
    let title = format!("{} — {}, {}", l.t("Danh sách đến từng nhà", "Door-to-door worklist"), h.name, unit.name);
    Ok(Some(Worklist {
        frame: frame(l, title, format!("/campaign/worklist?commune={commune}&hamlet={hamlet}")),
        commune: commune.to_owned(),
        hamlet: hamlet.to_owned(),
        date: date.to_owned(),
        min_age,
        saved,
        lines,
        csrf: forms.map(|(csrf, _)| csrf),
        outcomes: &OUTCOMES,
    }))
}

fn outcome_text(l: Lang, o: &Outcome) -> String {
    match o {
        Outcome::Done => l.t("đã đăng ký", "registered").into(),
        Outcome::Assisted => l.t("đã hỗ trợ", "assisted").into(),
        Outcome::NotAtHome => l.t("vắng nhà", "not at home").into(),
        Outcome::Refused => l.t("từ chối", "refused").into(),
        Outcome::MovedAway => l.t("đã chuyển đi", "moved away").into(),
        Outcome::Deceased => l.t("đã mất", "deceased").into(),
        Outcome::AlreadyHolds { provider } => format!("{} {provider}", l.t("đã có ở", "holds one from")),
    }
}

/// `GET /campaign/worklist.xlsx?commune=…&hamlet=…[&date=…]`.
pub async fn xlsx_route(State(s): State<AppState>, headers: HeaderMap, Query(p): Query<Params>) -> Response {
    let (commune, hamlet, date) = match typed(&p) {
        Ok(v) => v,
        Err(bad) => return bad.page(asks_en(p.lang.as_deref())),
    };
    if let Err(answer) = crate::web::staff_may(&s, &headers, Action::ViewWorklist, commune).await {
        return answer;
    }
    let store = &s.authority.store;
    match store.hamlets(commune).await {
        Ok(h) if h.iter().any(|h| h.code == hamlet) => {}
        Ok(_) => return (StatusCode::NOT_FOUND, "no such commune or hamlet\n").into_response(),
        Err(e) => return failure(e),
    }
    let result = async {
        let lines = worklist_lines(store, commune, hamlet, &date).await?;
        // built off the async workers, behind the parsing/report cap
        let _slot = s.authority.pools.permit(kyso_authority::pool::Work::Parse).await.map_err(|b| b.to_string())?;
        let bytes = kyso_authority::pool::cpu(|| worklist_xlsx(&lines))?;
        let detail = format!("{} entries on {date}, xlsx", lines.len());
        let audit = AuditEvent::new("web", "campaign.worklist.export", &format!("{commune}/{hamlet}"), detail);
        store.commit(&[Write::Audit(audit)]).await.map_err(|e| e.to_string())?;
        Fallible::Ok(bytes)
    }
    .await;
    match result {
        Ok(bytes) => xlsx_download(&format!("worklist-{commune}-{hamlet}-{date}.xlsx"), bytes),
        Err(e) => {
            tracing::error!(error = %input::Clean(&e), "worklist export");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
        }
    }
}
