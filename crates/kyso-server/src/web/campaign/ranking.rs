//! `/campaign/ranking?province=19[&date=YYYY-MM-DD]` (`templates/campaign/ranking.html`): every
//! commune of a province ranked by the share of its adults holding a valid certificate, from the
//! day's stored adoption snapshots (`kyso campaign adoption --refresh`; the demo refreshes its day
//! at start). Bars for the top and the bottom, a table for all, each commune linking to its report
//! page, with each commune's and the province's level-2 e-ID coverage of the snapshots' adults.
//! Aggregates only.

use super::{asks_en, day_or_today, frame, lang_param};
use crate::input::{self, Bad, Query};
use crate::web::layout::{render, Frame};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kyso_campaign::eid::Level2Coverage;
use kyso_store::adoption::CommuneAdoptionRow;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Params {
    lang: Option<String>,
    province: Option<String>,
    date: Option<String>,
}

#[derive(Template)]
#[template(path = "campaign/ranking.html")]
struct Ranking {
    frame: Frame,
    province: String,
    date: String,
    /// Communes in the province, those with figures, and those without.
    communes: usize,
    ranked: usize,
    missing: usize,
    /// The bars' drawing height, and the bars.
    height: usize,
    bars: Vec<Bar>,
    rows: Vec<Row>,
    /// The province's level-2 e-ID coverage of adults: level 2, adults, share.
    level2: (u64, u64, String),
}

/// One bar: its top, the commune's name (cut to fit), the bar's width and the share.
struct Bar {
    y: usize,
    text_y: usize,
    name: String,
    width: String,
    value_x: String,
    share: String,
}

struct Row {
    /// Its rank; None for a commune without figures (listed after the ranked ones).
    rank: Option<usize>,
    /// The commune's report page.
    report: String,
    name: String,
    /// Holders, adults and share; None: no figures yet.
    figures: Option<(i64, i64, String)>,
    /// Level-2 e-ID share of the adults ("–" without a register).
    level2: String,
}

pub async fn ranking(State(s): State<AppState>, Query(p): Query<Params>) -> Response {
    let typed = (|| {
        let l = lang_param(p.lang.as_deref())?;
        let date = day_or_today(p.date.as_deref())?;
        let province = match p.province.as_deref().filter(|v| !v.trim().is_empty()) {
            Some(v) => input::code("province", v, 8)?.to_owned(),
            None => "19".to_owned(),
        };
        Ok::<_, Bad>((l, date, province))
    })();
    let (l, date, province) = match typed {
        Ok(v) => v,
        Err(bad) => return bad.page(asks_en(p.lang.as_deref())),
    };
    let rows = match s.authority.read_store().adoption_rollup(&date).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %input::Clean(&e), "ranking unavailable");
            return (StatusCode::SERVICE_UNAVAILABLE, "campaign data unavailable; retry shortly\n").into_response();
        }
    };
    // Level 2 among the same adults the snapshots count (their age line, their day).
    let level2 = match kyso_tracker::eid::level2_adults_by_commune(
        s.authority.read_store(),
        Some(&province),
        &date,
        kyso_tracker::adoption::SNAPSHOT_MIN_AGE,
    )
    .await
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %input::Clean(&e.to_string()), "level-2 coverage unavailable");
            return (StatusCode::SERVICE_UNAVAILABLE, "campaign data unavailable; retry shortly\n").into_response();
        }
    };
    let coverage = |r: &CommuneAdoptionRow| {
        r.adults.map(|a| Level2Coverage {
            adults: u64::try_from(a).unwrap_or(0),
            level2: level2.get(&r.commune_code).copied().unwrap_or(0),
        })
    };
    let level2_of =
        |r: &CommuneAdoptionRow| coverage(r).filter(|c| c.adults > 0).map_or("–".into(), |c| l.share(c.share()));
    let mine: Vec<_> = rows.iter().filter(|r| r.province_code == province).collect();
    let total = mine.iter().filter_map(|r| coverage(r)).fold(Level2Coverage::default(), Level2Coverage::plus);
    let Some(first) = mine.first() else {
        return (StatusCode::NOT_FOUND, "no such province\n").into_response();
    };
    let mut ranked: Vec<(f64, &CommuneAdoptionRow)> = mine
        .iter()
        .filter_map(|r| match (r.holders, r.adults) {
            (Some(h), Some(a)) if a > 0 => Some((h as f64 * 100.0 / a as f64, *r)),
            _ => None,
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.commune_code.cmp(&b.1.commune_code)));
    let mut unranked: Vec<&CommuneAdoptionRow> =
        mine.iter().copied().filter(|r| !ranked.iter().any(|(_, x)| x.commune_code == r.commune_code)).collect();
    unranked.sort_by(|a, b| a.commune_name.cmp(&b.commune_name));
    // Bars: the top 15 and, for longer lists, the bottom 15.
    let shown: Vec<_> = if ranked.len() > 30 {
        ranked.iter().take(15).chain(ranked.iter().skip(ranked.len() - 15)).collect()
    } else {
        ranked.iter().collect()
    };
    let bars = shown
        .iter()
        .enumerate()
        .map(|(i, (pct, r))| {
            // Sized for a 360-px phone: 12-unit text in a 360-unit-wide drawing stays ~11 px.
            let w = (pct.min(100.0) * 1.6).max(0.5);
            Bar {
                y: 2 + 20 * i,
                text_y: 15 + 20 * i,
                name: r.commune_name.chars().take(18).collect(),
                width: format!("{w:.1}"),
                value_x: format!("{:.1}", 138.0 + w),
                share: l.pct(*pct),
            }
        })
        .collect();
    let page = Ranking {
        frame: frame(l, l.t("Xếp hạng xã", "Commune ranking"), "/campaign/ranking"),
        province: first.province_name.clone(),
        date,
        communes: mine.len(),
        ranked: ranked.len(),
        missing: mine.len() - ranked.len(),
        height: 20 * shown.len() + 4,
        bars,
        rows: ranked
            .iter()
            .enumerate()
            .map(|(i, (pct, r))| Row {
                rank: Some(i + 1),
                report: format!("/campaign/reports/unit?unit={}", r.commune_code),
                name: r.commune_name.clone(),
                figures: Some((r.holders.unwrap_or(0), r.adults.unwrap_or(0), l.pct(*pct))),
                level2: level2_of(r),
            })
            // Every commune of the province is listed: those without figures after the ranked ones.
            .chain(unranked.iter().map(|r| Row {
                rank: None,
                report: format!("/campaign/reports/unit?unit={}", r.commune_code),
                name: r.commune_name.clone(),
                figures: None,
                level2: level2_of(r),
            }))
            .collect(),
        level2: (total.level2, total.adults, l.share(total.share())),
    };
    render(&page)
}
