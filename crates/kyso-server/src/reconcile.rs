//! Reconciliation (đối soát) of a commune: `/campaign/reconcile?commune=…[&date=…]` and its XLSX
//! (`/campaign/reconcile.xlsx`), shared with `kyso campaign reconcile`. What the providers, the
//! police and the commune should each correct, from the register, the certificate sources and the
//! visit log ([`kyso_campaign::reconcile`]). Personal data: staff allowed to view the commune's
//! worklists only, ID numbers masked, every view and export audited.

use crate::campaign_data::{vn_date, Fallible};
use crate::dashboard::{esc, failure, page, short_name, Text};
use crate::input::{self, Bad, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use kyso_campaign::reconcile::Finding;
use kyso_store::{AuditEvent, Write};
use serde::Deserialize;
use std::fmt::Write as _;
use time::Date;

// Shim while the pages move to templates: `crate::reconcile::reconciliation` etc. (the merger
// removes it).
pub use kyso_tracker::reconcile::*;

pub fn routes() -> Router<AppState> {
    Router::new().route("/campaign/reconcile", get(reconcile_page)).route("/campaign/reconcile.xlsx", get(xlsx_route))
}

/// A heading for one kind of finding.
fn kind_text(en: bool, f: &Finding) -> &'static str {
    let tx = Text { en };
    match f {
        Finding::NotInAnyList { .. } => tx.t(
            "Báo đã có chứng thư nhưng không có trong danh sách nào",
            "Say they hold a certificate that no list shows",
        ),
        Finding::MovedAway { .. } => tx.t("Đã chuyển đi", "Moved away"),
        Finding::Deceased { .. } => tx.t("Đã mất", "Deceased"),
        Finding::SeveralProviders { .. } => {
            tx.t("Có chứng thư ở nhiều nhà cung cấp", "Certificates at several providers")
        }
        Finding::Lapsed { .. } => {
            tx.t("Chứng thư vừa hết hiệu lực, chưa có chứng thư mới", "Certificate just ended, no new one yet")
        }
    }
}

/// What to add under the person's name, below a [`kind_text`] heading.
fn detail_text(en: bool, f: &Finding) -> String {
    let tx = Text { en };
    match f {
        Finding::NotInAnyList { provider, visited } => {
            format!("{provider} · {} {visited}", tx.t("thăm ngày", "visited"))
        }
        Finding::MovedAway { visited } | Finding::Deceased { visited } => {
            format!("{} {visited}", tx.t("thăm ngày", "visited"))
        }
        Finding::SeveralProviders { providers } => providers.join(", "),
        Finding::Lapsed { ended, provider } => format!("{provider} · {} {ended}", tx.t("hết hiệu lực ngày", "ended")),
    }
}

#[derive(Deserialize)]
pub struct Params {
    lang: Option<String>,
    commune: Option<String>,
    date: Option<String>,
}

/// The typed query: commune code, the day (`?date=`, else today in Vietnam).
fn typed(p: &Params) -> Result<(&str, Date), Bad> {
    let commune = input::code("commune", input::required("commune", p.commune.as_deref())?, 16)?;
    let date = match input::opt_day("date", p.date.as_deref())? {
        Some(d) => d,
        None => input::day("date", &vn_date(kyso_store::now()))?,
    };
    Ok((commune, date))
}

/// Both routes' opening: the commune named, the person allowed to see its worklists, the date read.
async fn guard<'p>(s: &AppState, headers: &HeaderMap, p: &'p Params) -> Result<(&'p str, Date), Response> {
    let (commune, date) = typed(p).map_err(|bad| bad.page(p.lang.as_deref() == Some("en")))?;
    crate::web::staff_may(s, headers, kyso_access::Action::ViewWorklist, commune).await?;
    Ok((commune, date))
}

async fn reconcile_page(State(s): State<AppState>, headers: HeaderMap, Query(p): Query<Params>) -> Response {
    let tx = Text { en: p.lang.as_deref() == Some("en") };
    let (commune, date) = match guard(&s, &headers, &p).await {
        Ok(g) => g,
        Err(answer) => return answer,
    };
    let store = &s.authority.store;
    let (unit, hamlets, lines) = match reconciliation(store, commune, date).await {
        Ok(Some(found)) => found,
        Ok(None) => return (StatusCode::NOT_FOUND, "no such commune\n").into_response(),
        Err(e) => return failure(e),
    };
    let audit =
        AuditEvent::new("web", "campaign.reconcile.view", commune, format!("{} findings on {date}", lines.len()));
    if let Err(e) = store.commit(&[Write::Audit(audit)]).await {
        return failure(e);
    }
    let title = format!("{} — {}", tx.t("Đối soát danh sách", "List reconciliation"), unit.name);
    let lang = if tx.en { "&amp;lang=en" } else { "" };
    let mut body = format!(
        "<p>{} <strong>{date}</strong>. {}</p><p class=\"noprint\"><a href=\"/campaign?date={date}{lang}\">← {}</a> · \
<a href=\"/campaign/reconcile.xlsx?commune={c}&amp;date={date}\">{}</a></p>",
        tx.t("Ngày", "On"),
        tx.t(
            "Danh sách dân cư của Công an, danh sách chứng thư của các nhà cung cấp (và chứng thư cấp qua kyso) và kết quả đi từng nhà, đặt cạnh nhau: mỗi bên cần sửa gì.",
            "The police register, the providers' certificate lists (and kyso's own issuance) and what door-to-door teams found, side by side: what each party should correct."
        ),
        tx.t("Tổng quan chiến dịch", "Campaign overview"),
        tx.t("Tải XLSX", "Download XLSX"),
        c = esc(commune),
    );
    if lines.is_empty() {
        let _ = write!(body, "<p>{}</p>", tx.t("Không có gì cần đối soát.", "Nothing to reconcile."));
    }
    // A list, not a table: one person per item reads on a phone.
    for group in lines.chunk_by(|a, b| a.finding.recipient() == b.finding.recipient()) {
        let _ = write!(body, "<h2>{} ({})</h2>", recipient_text(tx.en, group[0].finding.recipient()), group.len());
        for kind in group.chunk_by(|a, b| a.finding.name() == b.finding.name()) {
            let _ =
                write!(body, "<h3>{} ({})</h3><ul class=\"items\">", kind_text(tx.en, &kind[0].finding), kind.len());
            for l in kind {
                let hamlet = hamlets.get(&l.hamlet_code).unwrap_or(&l.hamlet_code);
                let household = l.household.as_deref().map(|h| format!(" · {} {}", tx.t("hộ", "household"), esc(h)));
                let _ = write!(
                    body,
                    "<li><b>{}</b> <code>{}</code><br><small>{}{} · {}</small></li>",
                    esc(&short_name(l.full_name.as_deref().unwrap_or(""))),
                    esc(&l.masked_id),
                    esc(hamlet),
                    household.unwrap_or_default(),
                    esc(&detail_text(tx.en, &l.finding)),
                );
            }
            body.push_str("</ul>");
        }
    }
    let nav = format!("/campaign/reconcile?commune={}&amp;date={date}", esc(commune));
    page(&tx, &title, &nav, &body).into_response()
}

async fn xlsx_route(State(s): State<AppState>, headers: HeaderMap, Query(p): Query<Params>) -> Response {
    let (commune, date) = match guard(&s, &headers, &p).await {
        Ok(g) => g,
        Err(answer) => return answer,
    };
    let store = &s.authority.store;
    let result = async {
        let Some((_, hamlets, lines)) = reconciliation(store, commune, date).await? else { return Ok(None) };
        // built off the async workers, behind the parsing/report cap
        let _slot = s.authority.pools.permit(kyso_authority::pool::Work::Parse).await.map_err(|b| b.to_string())?;
        let bytes = kyso_authority::pool::cpu(|| reconcile_xlsx(&hamlets, &lines))?;
        let detail = format!("{} findings on {date}, xlsx", lines.len());
        let audit = AuditEvent::new("web", "campaign.reconcile.export", commune, detail);
        store.commit(&[Write::Audit(audit)]).await.map_err(|e| e.to_string())?;
        Fallible::Ok(Some(bytes))
    }
    .await;
    match result {
        Ok(Some(bytes)) => {
            let name = format!("attachment; filename=\"doi-soat-{commune}-{date}.xlsx\"");
            let ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
            ([(header::CONTENT_TYPE, ct.to_owned()), (header::CONTENT_DISPOSITION, name)], bytes).into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, "no such commune\n").into_response(),
        Err(e) => failure(e),
    }
}
