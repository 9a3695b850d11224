//! The renewal cliff: `/campaign/renewals` (`templates/campaign/renewals.html`), a hamlet's
//! holders whose certificates end within the horizon unless renewed, by expiry date, and its XLSX
//! (`/campaign/renewals.xlsx`); and the dashboard's section
//! (`templates/campaign/renewals_section.html`): expiries per month as bars, and the forecast at
//! the deadline with and without them. The list carries personal data: the worklist's access
//! check (staff who may view the commune's worklists), ID numbers masked, names shortened, every
//! view and export audited.

use super::{asks_en, failure, frame, lang_param, short_name, xlsx_download};
use crate::i18n::Lang;
use crate::input::{self, Bad, Query};
use crate::web::layout::{render, Frame};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kyso_access::Action;
use kyso_campaign::adoption::Adoption;
use kyso_campaign::csv::parse_date;
use kyso_campaign::forecast::Forecast;
use kyso_campaign::population::Register;
use kyso_campaign::renewals::{by_month, lapsed_by, lapses, MonthLapses, HORIZON_MONTHS};
use kyso_store::Store;
use kyso_tracker::read::Fallible;
use kyso_tracker::renewals::{audited_renewal_lines, audited_renewal_lines_from, renewals_xlsx};
use serde::Deserialize;
use time::Date;

#[derive(Deserialize)]
pub struct Params {
    lang: Option<String>,
    date: Option<String>,
    commune: Option<String>,
    hamlet: Option<String>,
}

/// The typed query: commune, hamlet and day.
fn typed(p: &Params) -> Result<(&str, &str, String), Bad> {
    super::worklist::hamlet_query(p.commune.as_deref(), p.hamlet.as_deref(), p.date.as_deref())
}

#[derive(Template)]
#[template(path = "campaign/renewals.html")]
struct Renewals {
    frame: Frame,
    commune: String,
    hamlet: String,
    date: String,
    /// The window's last day (the end of the horizon's last month).
    until: String,
    lines: Vec<Line>,
}

struct Line {
    masked_id: String,
    name: String,
    provider: String,
    expires: String,
}

/// `GET /campaign/renewals?commune=…&hamlet=…[&date=…]`.
pub async fn renewals(State(s): State<AppState>, headers: HeaderMap, Query(p): Query<Params>) -> Response {
    let typed = lang_param(p.lang.as_deref()).and_then(|l| typed(&p).map(|(c, h, d)| (l, c, h, d)));
    let (l, commune, hamlet, date) = match typed {
        Ok(v) => v,
        Err(bad) => return bad.page(asks_en(p.lang.as_deref())),
    };
    if let Err(answer) = crate::web::staff_may(&s, &headers, Action::ViewWorklist, commune).await {
        return answer;
    }
    match page(&s.authority.store, l, (commune, hamlet), &date).await {
        Ok(Some(page)) => render(&page),
        Ok(None) => (StatusCode::NOT_FOUND, "no such commune or hamlet\n").into_response(),
        Err(e) => failure(e),
    }
}

async fn page(store: &Store, l: Lang, (commune, hamlet): (&str, &str), date: &str) -> Fallible<Option<Renewals>> {
    let err = |e: kyso_store::StoreError| e.to_string();
    let as_of = parse_date(date)?;
    let Some(unit) = store.commune(commune).await.map_err(err)? else { return Ok(None) };
    let hamlets = store.hamlets(commune).await.map_err(err)?;
    let Some(h) = hamlets.iter().find(|h| h.code == hamlet) else { return Ok(None) };
    let lines = audited_renewal_lines(store, (commune, hamlet), as_of, ("view", ""), "web").await?;
    let lines = lines
        .iter()
        .map(|r| Line {
            masked_id: r.masked_id.clone(),
            name: short_name(&r.full_name),
            provider: r.provider.clone(),
            expires: l.day(r.expires),
        })
        .collect();
    let until = kyso_campaign::renewals::month_start_after(as_of, HORIZON_MONTHS).previous_day().unwrap_or(as_of);
    let title = format!("{} — {}, {}", l.t("Chứng thư cần gia hạn", "Certificates to renew"), h.name, unit.name);
    Ok(Some(Renewals {
        frame: frame(l, title, format!("/campaign/renewals?commune={commune}&hamlet={hamlet}")),
        commune: commune.to_owned(),
        hamlet: hamlet.to_owned(),
        date: date.to_owned(),
        until: l.day(until),
        lines,
    }))
}

/// `GET /campaign/renewals.xlsx?commune=…&hamlet=…[&date=…]`.
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
        let as_of = parse_date(&date)?;
        let place = (commune, hamlet);
        let lines = audited_renewal_lines_from(read, store, place, as_of, ("export", ", xlsx"), "web").await?;
        // built off the async workers, behind the parsing/report cap
        let _slot = s.authority.pools.permit(kyso_authority::pool::Work::Parse).await.map_err(|b| b.to_string())?;
        kyso_authority::pool::cpu(|| renewals_xlsx(&lines))
    }
    .await;
    match result {
        Ok(bytes) => xlsx_download(&format!("renewals-{commune}-{hamlet}-{date}.xlsx"), bytes),
        Err(e) => {
            tracing::error!(error = %input::Clean(&e), "renewals export");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
        }
    }
}

// ---- the dashboard's section ----

/// Drawing size (SVG user units), phone-wide like the holders' chart.
const W: f64 = 360.0;
const H: f64 = 150.0;
const L: f64 = 40.0;
const B: f64 = 22.0;

/// One month's bar.
pub struct Bar {
    pub x: String,
    pub y: String,
    pub width: String,
    pub height: String,
    /// `mm/yyyy` and the count, for the bar's tooltip.
    pub title: String,
    /// Written under the bar every sixth month.
    pub label: Option<(String, String)>,
}

/// The section: expiries per month, the projection at the deadline, the links per hamlet.
pub struct Section {
    pub label: &'static str,
    pub view_box: String,
    pub width: f64,
    pub left: f64,
    pub base_y: f64,
    pub label_y: f64,
    pub top: u64,
    pub bars: Vec<Bar>,
    /// Holders of today whose certificates end within the horizon.
    pub total: u64,
    /// The busiest month (`mm/yyyy`, count), when any.
    pub peak: Option<(String, u64)>,
    /// The deadline, and the holders projected there at the recent rate: gross, lapsing before
    /// it, net; then the reading's name, needed holders, whether gross and net reach it.
    pub deadline: String,
    pub gross: u64,
    pub lapsing: u64,
    pub net: u64,
    pub readings: Vec<(&'static str, u64, bool, bool)>,
    /// The commune, and its hamlets (code, name) for the links to their renewals lists.
    pub commune: String,
    pub lists: Vec<(String, String)>,
}

fn month_text(m: Date) -> String {
    format!("{:02}/{}", m.month() as u8, m.year())
}

/// The bars of `curve` (a month each), scaled to the busiest.
fn bars(curve: &[MonthLapses]) -> (u64, Vec<Bar>) {
    let top = curve.iter().map(|m| m.lapses).max().unwrap_or(0).max(1);
    let slot = (W - L - 4.0) / curve.len().max(1) as f64;
    let bars = curve
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let height = (H - B - 10.0) * m.lapses as f64 / top as f64;
            let x = L + slot * i as f64 + 1.0;
            Bar {
                x: format!("{x:.1}"),
                y: format!("{:.1}", H - B - height),
                width: format!("{:.1}", slot - 2.0),
                height: format!("{height:.1}"),
                title: format!("{}: {}", month_text(m.month), m.lapses),
                label: (i % 6 == 0).then(|| (format!("{x:.1}"), month_text(m.month))),
            }
        })
        .collect();
    (top, bars)
}

/// The dashboard section of a commune on `as_of`, from the register and ledger the dashboard
/// loaded: `forecast` is the plan's (any reading: the projection depends on the rate, not the
/// target) and `readings` (name, needed) its targets.
pub async fn section(
    store: &Store,
    l: Lang,
    (commune, as_of): (&str, Date),
    (register, adoption): (&Register, &Adoption),
    (forecast, deadline): (&Forecast, Date),
    readings: &[(&'static str, u64)],
) -> Fallible<Section> {
    let lapses = lapses(register, adoption, as_of);
    let months = by_month(&lapses, as_of, HORIZON_MONTHS);
    let (top, bars) = bars(&months);
    let p = forecast.projection(lapsed_by(&lapses, deadline));
    let peak = months.iter().filter(|m| m.lapses > 0).max_by_key(|m| (m.lapses, std::cmp::Reverse(m.month)));
    let lists =
        store.hamlets(commune).await.map_err(|e| e.to_string())?.into_iter().map(|h| (h.code, h.name)).collect();
    Ok(Section {
        label: l.t("Số người có chứng thư hết hạn theo tháng", "Certificates expiring per month"),
        view_box: format!("0 0 {W} {H}"),
        width: W,
        left: L,
        base_y: H - B,
        label_y: H - 6.0,
        top,
        bars,
        total: months.iter().map(|m| m.lapses).sum(),
        peak: peak.map(|m| (month_text(m.month), m.lapses)),
        deadline: l.day(deadline),
        gross: p.gross,
        lapsing: p.lapsing,
        net: p.net,
        readings: readings.iter().map(|&(name, needed)| (name, needed, p.gross >= needed, p.net >= needed)).collect(),
        commune: commune.to_owned(),
        lists,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_fit_the_phone_and_scale_to_the_busiest_month() {
        let month = |m: u8, n: u64| MonthLapses {
            month: Date::from_calendar_date(2027, time::Month::try_from(m).unwrap(), 1).unwrap(),
            lapses: n,
        };
        let curve: Vec<MonthLapses> = (1..=12).map(|m| month(m, if m == 5 { 40 } else { m.into() })).collect();
        let (top, bars) = bars(&curve);
        assert_eq!(top, 40);
        assert_eq!(bars.len(), 12);
        let last = bars.last().unwrap();
        assert!(last.x.parse::<f64>().unwrap() + last.width.parse::<f64>().unwrap() <= W);
        assert_eq!(bars[4].y.parse::<f64>().unwrap(), 10.0, "the busiest month reaches the top");
        assert_eq!(bars[4].title, "05/2027: 40");
        assert_eq!(bars.iter().filter(|b| b.label.is_some()).count(), 2);
    }
}
