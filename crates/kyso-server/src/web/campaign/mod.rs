//! The campaign pages, each a template under `templates/campaign/`: the dashboard (`/campaign`,
//! `dashboard.rs`, its chart `chart.rs`), a hamlet's door-to-door worklist and its XLSX
//! (`worklist.rs`) with the visit forms (`visits.rs`), the reports and the task register
//! (`reports.rs`, `tasks.rs`), the province ranking (`ranking.rs`), the reconciliation
//! (`reconcile.rs`) and the renewal cliff (`renewals.rs`: a hamlet's holders to renew, its XLSX,
//! the dashboard's expiries per month) and notifications (`notify.rs`: invite a hamlet to a
//! support session, the outbox). Vietnamese first, `?lang=en`; no scripts; fits a 360-px phone.
//!
//! Read from storage on every request; counting is `kyso-campaign`'s, the read models are
//! `kyso_tracker::read`'s and `kyso_tracker::reports`'s. ID numbers are masked and names shortened
//! on these pages; every view of personal data is audited.

mod approval;
mod chart;
mod dashboard;
mod notify;
mod ranking;
mod reconcile;
mod renewals;
mod reports;
mod tasks;
mod visits;
mod worklist;

use crate::i18n::Lang;
use crate::input::{self, Bad};
use crate::web::layout::Frame;
use crate::AppState;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use kyso_campaign::plan::Percent;
use kyso_tracker::read::vn_date;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaign", get(dashboard::campaign))
        .route("/campaign/worklist", get(worklist::worklist))
        .route("/campaign/worklist.xlsx", get(worklist::xlsx_route))
        .route("/campaign/visit", post(visits::record))
        .route("/campaign/reports", get(reports::overview))
        .route("/campaign/reports/unit", get(reports::unit_page).post(reports::unit_submit))
        .route("/campaign/reports/xlsx", get(reports::xlsx))
        .route("/campaign/reports/review", post(approval::review))
        .route("/campaign/tasks", get(tasks::tasks_page))
        .route("/campaign/ranking", get(ranking::ranking))
        .route("/campaign/reconcile", get(reconcile::reconcile_page))
        .route("/campaign/reconcile.xlsx", get(reconcile::xlsx_route))
        .route("/campaign/renewals", get(renewals::renewals))
        .route("/campaign/renewals.xlsx", get(renewals::xlsx_route))
        .route("/campaign/notify", get(notify::notify_page))
        .route("/campaign/notify/invite", post(notify::invite))
}

/// A read that failed: logged, and a plain 500 (the figures are not guessed).
pub(crate) fn failure(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %input::Clean(&e), "campaign page failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "campaign data unavailable; retry shortly\n").into_response()
}

/// `?lang=`: `en` or `vi` (absent: Vietnamese).
fn lang_param(lang: Option<&str>) -> Result<Lang, Bad> {
    match lang.map(str::trim).filter(|l| !l.is_empty()) {
        None => Ok(Lang::Vi),
        Some(l) => input::one_of("lang", l, &["vi", "en"]).map(|l| Lang::from_en(l == "en")),
    }
}

/// The language a refusal is said in: English only when the query asks for it.
fn asks_en(lang: Option<&str>) -> bool {
    lang == Some("en")
}

/// `?date=` (typed, see [`input::day`]), or today in Vietnam, as `YYYY-MM-DD`.
fn day_or_today(date: Option<&str>) -> Result<String, Bad> {
    Ok(input::opt_day("date", date)?.map_or_else(|| vn_date(kyso_store::now()), |d| d.to_string()))
}

/// A campaign page's frame: public (these pages need no session to be drawn), wide, with the
/// language links back to `here` (a path and query without `lang`).
fn frame(lang: Lang, title: impl Into<String>, here: impl Into<String>) -> Frame {
    Frame::public(lang, title).wide().at(here)
}

/// A workbook to download as `file`.
fn xlsx_download(file: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        bytes,
    )
        .into_response()
}

/// A share in the page's language (`6,20 %`), or `–` without a denominator.
fn pct(l: Lang, p: Option<Percent>) -> String {
    l.share(p)
}

/// "Nguyễn Thị Hồng Nhung" → "Nguyễn T. H. Nhung": enough at the door, less on a screen.
fn short_name(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    match words.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [first, middle @ .., last] => {
            let mut s = (*first).to_owned();
            for m in middle {
                s.push(' ');
                s.extend(m.chars().next());
                s.push('.');
            }
            s.push(' ');
            s.push_str(last);
            s
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_shortened_at_the_middle() {
        assert_eq!(super::short_name("Nguyễn Thị Hồng Nhung"), "Nguyễn T. H. Nhung");
        assert_eq!(super::short_name(" Lan "), "Lan");
        assert_eq!(super::short_name(""), "");
    }
}
