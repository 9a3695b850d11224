//! Support results: per point and day for the desk (`/desk/results`), and the last seven days'
//! figures per point for the campaign dashboard ([`support_figures`], [`dashboard_section`]).

use crate::input::Query;
use crate::web::extract::StaffIn;
use crate::web::forbidden;
use crate::web::layout::{render_for, Frame};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use kyso_access::{decide, Action, Resource};
use kyso_store::accounts::{PointDay, SupportPointRow};
use std::collections::HashMap;

/// A point's days, the newest first.
struct PointResults {
    point: SupportPointRow,
    days: Vec<Day>,
}

struct Day {
    day: String,
    sessions: i64,
    eid_level2: i64,
    certificates: i64,
    first_signatures: i64,
    /// The bar's length: sessions against the point's busiest day, 0–100.
    bar: i64,
}

#[derive(Template)]
#[template(path = "desk/results.html")]
struct Results {
    frame: Frame,
    points: Vec<PointResults>,
}

pub async fn results(State(s): State<AppState>, Query(_): Query<super::Q>, who: StaffIn) -> Response {
    let (c, row, p) = (&who.ctx, &who.staff, &who.principal);
    // Support staff see their point; officers every point of the units they may view.
    let points = s.authority.store.support_points(None).await.unwrap_or_default();
    let mut visible = Vec::new();
    for pt in points {
        let Ok(Some(commune)) = s.authority.store.commune(&pt.commune_code).await else { continue };
        let area = kyso_access::Area::commune(&commune.province_code, &commune.code);
        let own = row.point_id.as_deref() == Some(pt.id.as_str());
        if own || decide(p, Action::ViewProgress, &Resource::Unit(&area)).is_ok() {
            visible.push(pt);
        }
    }
    if visible.is_empty() {
        return forbidden(c);
    }
    let mut out = Vec::with_capacity(visible.len());
    for point in visible {
        let days = s.authority.store.support_results(Some(&point.id)).await.unwrap_or_default();
        let max = days.iter().map(|d| d.sessions).max().unwrap_or(1).max(1);
        let days = days
            .into_iter()
            .take(14)
            .map(|d| Day {
                bar: d.sessions * 100 / max,
                day: d.day,
                sessions: d.sessions,
                eid_level2: d.eid_level2,
                certificates: d.certificates,
                first_signatures: d.first_signatures,
            })
            .collect();
        out.push(PointResults { point, days });
    }
    render_for(c, &Results { frame: Frame::new(c, c.t("Kết quả hỗ trợ", "Support results")), points: out })
}

/// Points listed by name on the dashboard (the busiest first).
const DASHBOARD_POINTS: usize = 30;

/// The support points' last seven days for the campaign dashboard: per point (the busiest
/// [`DASHBOARD_POINTS`]) and in all. Each row: sessions, e-ID level 2, certificates, first
/// signatures, guidance scans.
pub struct SupportFigures {
    pub from: String,
    pub today: String,
    /// (point name, opening days and hours, figures), the busiest first.
    pub rows: Vec<(String, String, [i64; 5])>,
    /// Points past [`DASHBOARD_POINTS`], counted in the total only.
    pub more: usize,
    pub total: [i64; 5],
}

/// The figures of [`SupportFigures`]: aggregates only, two queries whatever the number of points.
/// `None` when there are no points.
pub async fn support_figures(
    s: &kyso_store::Store,
    lang: crate::i18n::Lang,
    today: &str,
    commune: Option<&str>,
) -> Option<SupportFigures> {
    let points = s.support_points(commune).await.ok()?;
    if points.is_empty() {
        return None;
    }
    let from = time::Date::parse(today, &time::macros::format_description!("[year]-[month]-[day]"))
        .map(|d| (d - time::Duration::days(6)).to_string())
        .unwrap_or_default();
    let scans = s.guide_scans(&from, today).await.unwrap_or_default();
    let results: HashMap<String, PointDay> =
        s.support_totals(&from, today).await.unwrap_or_default().into_iter().map(|d| (d.point_id.clone(), d)).collect();
    let mut figures: Vec<(&SupportPointRow, [i64; 5])> = points
        .iter()
        .map(|p| {
            let r = results.get(&p.id);
            let get = |f: fn(&PointDay) -> i64| r.map_or(0, f);
            let sums = [
                get(|d| d.sessions),
                get(|d| d.eid_level2),
                get(|d| d.certificates),
                get(|d| d.first_signatures),
                scans.get(&p.id).copied().unwrap_or(0),
            ];
            (p, sums)
        })
        .collect();
    figures.sort_by(|a, b| (b.1[0], b.1[4]).cmp(&(a.1[0], a.1[4])).then_with(|| a.0.id.cmp(&b.0.id)));
    let mut total = [0i64; 5];
    for (_, sums) in &figures {
        for (t, v) in total.iter_mut().zip(sums) {
            *t += v;
        }
    }
    Some(SupportFigures {
        from,
        today: today.to_owned(),
        more: figures.len().saturating_sub(DASHBOARD_POINTS),
        rows: figures
            .into_iter()
            .take(DASHBOARD_POINTS)
            .map(|(p, sums)| (p.name.clone(), crate::web::opening_text(lang, &p.opening_days, &p.opening_hours), sums))
            .collect(),
        total,
    })
}
