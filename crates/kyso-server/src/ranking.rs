//! `/campaign/ranking?province=19[&date=YYYY-MM-DD]`: every commune of a province ranked by the
//! share of its adults holding a valid certificate, from the day's stored adoption snapshots
//! (`kyso campaign adoption --refresh`; the demo refreshes its day at start). Bars for the top and
//! the bottom, a table for all, each commune linking to its report page. Aggregates only.

use crate::campaign_data::vn_date;
use crate::dashboard::{esc, page};
use crate::input::{self, Bad, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use std::fmt::Write as _;

pub fn routes() -> Router<AppState> {
    Router::new().route("/campaign/ranking", get(ranking))
}

#[derive(Deserialize)]
pub struct Params {
    lang: Option<String>,
    province: Option<String>,
    date: Option<String>,
}

async fn ranking(State(s): State<AppState>, Query(p): Query<Params>) -> Response {
    let typed = (|| {
        let tx = crate::dashboard::lang_param(p.lang.as_deref())?;
        let date = input::opt_day("date", p.date.as_deref())?;
        let province = match p.province.as_deref().filter(|v| !v.trim().is_empty()) {
            Some(v) => input::code("province", v, 8)?.to_owned(),
            None => "19".to_owned(),
        };
        Ok::<_, Bad>((tx, date.map_or_else(|| vn_date(kyso_store::now()), |d| d.to_string()), province))
    })();
    let (tx, date, province) = match typed {
        Ok(v) => v,
        Err(bad) => return bad.page(p.lang.as_deref() == Some("en")),
    };
    let rows = match s.authority.store.adoption_rollup(&date).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %input::Clean(&e), "ranking unavailable");
            return (StatusCode::SERVICE_UNAVAILABLE, "campaign data unavailable; retry shortly\n").into_response();
        }
    };
    let mine: Vec<_> = rows.iter().filter(|r| r.province_code == province).collect();
    let Some(first) = mine.first() else {
        return (StatusCode::NOT_FOUND, "no such province\n").into_response();
    };
    let mut ranked: Vec<(f64, &kyso_store::adoption::CommuneAdoptionRow)> = mine
        .iter()
        .filter_map(|r| match (r.holders, r.adults) {
            (Some(h), Some(a)) if a > 0 => Some((h as f64 * 100.0 / a as f64, *r)),
            _ => None,
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.commune_code.cmp(&b.1.commune_code)));
    let missing = mine.len() - ranked.len();
    let mut body = format!(
        "<p>{} <strong>{}</strong> · {} <strong>{date}</strong> · {} {} / {}</p>",
        tx.t("Tỉnh", "Province"),
        esc(&first.province_name),
        tx.t("ngày", "on"),
        tx.t("xã có số liệu", "communes with figures"),
        ranked.len(),
        mine.len(),
    );
    if missing > 0 {
        let _ = write!(
            body,
            "<p>{} {missing}. {}</p>",
            tx.t("Chưa có số liệu (chưa có dân cư hoặc chưa tính):", "No figures yet (no register, or not computed):"),
            tx.t(
                "Tính lại bằng <code>kyso campaign adoption --refresh</code>.",
                "Recompute with <code>kyso campaign adoption --refresh</code>."
            )
        );
    }
    // Bars: the top 15 and, for longer lists, the bottom 15.
    let shown: Vec<_> = if ranked.len() > 30 {
        ranked.iter().take(15).chain(ranked.iter().skip(ranked.len() - 15)).collect()
    } else {
        ranked.iter().collect()
    };
    if !shown.is_empty() {
        let h = 18 * shown.len() + 4;
        let _ = write!(
            body,
            "<svg viewBox=\"0 0 360 {h}\" width=\"100%\" role=\"img\" aria-label=\"{}\">",
            tx.t(
                "Xếp hạng xã theo tỷ lệ người có chữ ký số",
                "Communes ranked by share of adults holding a certificate"
            )
        );
        for (i, (pct, r)) in shown.iter().enumerate() {
            let y = 2 + 18 * i;
            let w = (pct.min(100.0) * 1.8).max(0.5);
            let _ = write!(
                body,
                "<text x=\"0\" y=\"{}\" font-size=\"10\">{}</text><rect x=\"140\" y=\"{y}\" width=\"{w:.1}\" height=\"13\" fill=\"#1565c0\"/><text x=\"{:.1}\" y=\"{}\" font-size=\"10\">{pct:.2} %</text>",
                y + 11,
                esc(&r.commune_name.chars().take(24).collect::<String>()),
                145.0 + w,
                y + 11
            );
        }
        body.push_str("</svg>");
    }
    let _ = write!(
        body,
        "<table><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>%</th></tr>",
        tx.t("Xã, phường", "Commune"),
        tx.t("Người có CTS", "Holders"),
        tx.t("Người trưởng thành", "Adults")
    );
    for (i, (pct, r)) in ranked.iter().enumerate() {
        let _ = write!(
            body,
            "<tr><td>{}</td><td><a href=\"/campaign/reports/unit?unit={code}{q}\">{}</a></td><td>{}</td><td>{}</td><td>{pct:.2}</td></tr>",
            i + 1,
            esc(&r.commune_name),
            r.holders.unwrap_or(0),
            r.adults.unwrap_or(0),
            code = esc(&r.commune_code),
            q = if tx.en { "&amp;lang=en" } else { "" },
        );
    }
    body.push_str("</table>");
    page(&tx, tx.t("Xếp hạng xã", "Commune ranking"), "/campaign/ranking", &body).into_response()
}
