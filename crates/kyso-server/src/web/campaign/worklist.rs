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
use kyso_campaign::eid::Need;
use kyso_campaign::worklist::Outcome;
use kyso_store::{AuditEvent, Store, Write};
use kyso_tracker::read::Fallible;
use kyso_tracker::worklist::{visit_key, worklist_lines, worklist_page, worklist_xlsx};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Params {
    lang: Option<String>,
    date: Option<String>,
    commune: Option<String>,
    hamlet: Option<String>,
    /// After a visit was recorded from the list.
    saved: Option<String>,
    /// Search: part of a name, or a house number.
    q: Option<String>,
    /// The page (1-based, 50 lines each).
    page: Option<String>,
    /// Only the people who need this next: level2, certificate or first-signature.
    need: Option<String>,
}

/// The typed query: commune, hamlet and day.
fn typed(p: &Params) -> Result<(&str, &str, String), Bad> {
    hamlet_query(p.commune.as_deref(), p.hamlet.as_deref(), p.date.as_deref())
}

/// A hamlet's list query (the worklist's and the renewals'): commune and hamlet codes, and the
/// day (today when absent).
pub(super) fn hamlet_query<'a>(
    commune: Option<&'a str>,
    hamlet: Option<&'a str>,
    date: Option<&str>,
) -> Result<(&'a str, &'a str, String), Bad> {
    let commune = input::code("commune", input::required("commune", commune)?, 16)?;
    let hamlet = input::code("hamlet", input::required("hamlet", hamlet)?, 32)?;
    Ok((commune, hamlet, day_or_today(date)?))
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
    /// The whole list's people and households; those matching the search.
    total: usize,
    households: usize,
    matched: usize,
    search: String,
    page: usize,
    pages: usize,
    /// Links to the previous and next pages.
    prev: Option<String>,
    next: Option<String>,
    lines: Vec<Line>,
    /// The needs to filter by: (name, label, chosen).
    needs: Vec<(&'static str, &'static str, bool)>,
    /// The visit forms' CSRF token, for staff who may record visits here.
    csrf: Option<String>,
    outcomes: &'static [(&'static str, &'static str, &'static str)],
}

struct Line {
    /// The first line of its household on this page: the household's heading goes above it.
    first_of_household: bool,
    household: String,
    masked_id: String,
    name: String,
    last: String,
    /// What the person needs next (empty when the commune's e-ID list is not known).
    need: &'static str,
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
    let search = match p.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => match input::text(kyso_store::limits::FULL_NAME.named("q"), q) {
            Ok(q) => Some(q.to_owned()),
            Err(bad) => return bad.page(l.en()),
        },
        None => None,
    };
    let page_no = match p.page.as_deref().filter(|v| !v.is_empty()) {
        None => 1,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=100_000).contains(&n) => n,
            _ => {
                return Bad::new("page", "Số trang phải là số nguyên dương.", "The page must be a whole number from 1.")
                    .page(l.en())
            }
        },
    };
    let need = match p.need.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        None => None,
        Some(n) => match Need::parse(n) {
            Some(n) => Some(n),
            None => {
                return Bad::new(
                    "need",
                    "Nhu cầu phải là level2, certificate hoặc first-signature.",
                    "The need must be level2, certificate or first-signature.",
                )
                .page(l.en())
            }
        },
    };
    let place = (commune, hamlet);
    let want = Want { saved: p.saved.is_some(), search, page: page_no, need };
    match page(&s.authority.store, l, place, &date, want, forms).await {
        Ok(Some(page)) => render(&page),
        Ok(None) => (StatusCode::NOT_FOUND, "no such commune or hamlet\n").into_response(),
        Err(e) => failure(e),
    }
}

/// What the visitor asked for beyond the place and day.
struct Want {
    saved: bool,
    search: Option<String>,
    page: usize,
    need: Option<Need>,
}

async fn page(
    store: &Store,
    l: Lang,
    (commune, hamlet): (&str, &str),
    date: &str,
    want: Want,
    forms: Option<(String, String)>,
) -> Fallible<Option<Worklist>> {
    let err = |e: kyso_store::StoreError| e.to_string();
    let as_of = parse_date(date)?;
    let Some(unit) = store.commune(commune).await.map_err(err)? else { return Ok(None) };
    let hamlets = store.hamlets(commune).await.map_err(err)?;
    let Some(h) = hamlets.iter().find(|h| h.code == hamlet) else { return Ok(None) };
    let min_age = match store.plans(Some(commune)).await.map_err(err)?.into_iter().next_back() {
        Some((plan, _)) => u8::try_from(plan.min_age).map_err(|e| e.to_string())?,
        None => 15,
    };
    let list =
        worklist_page(store, (commune, hamlet), (as_of, min_age), (want.search.as_deref(), want.need), want.page)
            .await?;
    let audit = AuditEvent::new(
        "web",
        "campaign.worklist.view",
        &format!("{commune}/{hamlet}"),
        format!("{} of {} entries on {date}, page {}", list.entries.len(), list.total, list.page),
    );
    store.commit(&[Write::Audit(audit)]).await.map_err(err)?;
    let mut previous: Option<String> = None;
    let lines = list
        .entries
        .iter()
        .map(|e| {
            let household = e.household.clone().unwrap_or_default();
            let first_of_household = previous.as_ref() != Some(&household);
            previous = Some(household.clone());
            Line {
                first_of_household,
                household,
                masked_id: e.masked_id.clone(),
                name: short_name(e.full_name.as_deref().unwrap_or("")),
                last: e.last_outcome.as_ref().map(|o| outcome_text(l, o)).unwrap_or_default(),
                need: e.need.map_or("", |n| l.t(n.label().0, n.label().1)),
                person: forms.as_ref().map(|(_, key)| handle(key, e.person())).unwrap_or_default(),
            }
        })
        .collect();
    let search = want.search.unwrap_or_default();
    let here = format!("/campaign/worklist?commune={commune}&hamlet={hamlet}");
    let need = want.need.map_or("", Need::name);
    let link = |n: usize| {
        let q = if search.is_empty() { String::new() } else { format!("&q={}", crate::web::urlencode(&search)) };
        let f = if need.is_empty() { String::new() } else { format!("&need={need}") };
        l.href(&format!("{here}&date={date}{q}{f}&page={n}"))
    };
    let title = format!("{} — {}, {}", l.t("Danh sách đến từng nhà", "Door-to-door worklist"), h.name, unit.name);
    Ok(Some(Worklist {
        frame: frame(l, title, here.clone()),
        commune: commune.to_owned(),
        hamlet: hamlet.to_owned(),
        date: date.to_owned(),
        min_age,
        saved: want.saved,
        total: list.total,
        households: list.households,
        matched: list.matched,
        prev: (list.page > 1).then(|| link(list.page - 1)),
        next: (list.page < list.pages).then(|| link(list.page + 1)),
        search,
        page: list.page,
        pages: list.pages,
        lines,
        needs: Need::ALL.iter().map(|n| (n.name(), l.t(n.label().0, n.label().1), n.name() == need)).collect(),
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
    // an export: read on the replica within its bound, audited on the primary
    let (read, store) = (s.authority.read_store(), &s.authority.store);
    match read.hamlets(commune).await {
        Ok(h) if h.iter().any(|h| h.code == hamlet) => {}
        Ok(_) => return (StatusCode::NOT_FOUND, "no such commune or hamlet\n").into_response(),
        Err(e) => return failure(e),
    }
    let result = async {
        let lines = worklist_lines(read, commune, hamlet, &date).await?;
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
