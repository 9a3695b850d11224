//! The worklist page's "Tải XLSX" link (`/campaign/worklist.xlsx?commune=…&hamlet=…[&date=…]`),
//! over `kyso_tracker::worklist`. ID numbers masked; every export audited.

// Shim while the pages move to templates: `crate::worklist_export::visit_log` etc. (the merger
// removes it).
pub use kyso_tracker::worklist::*;

use crate::campaign_data::{vn_date, Fallible};
use crate::input::{self, Bad, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use kyso_store::{AuditEvent, Write};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Params {
    lang: Option<String>,
    commune: Option<String>,
    hamlet: Option<String>,
    date: Option<String>,
}

/// `GET /campaign/worklist.xlsx?commune=…&hamlet=…[&date=…]`.
pub async fn xlsx_route(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
    Query(p): Query<Params>,
) -> Response {
    let typed = (|| {
        let commune = input::code("commune", input::required("commune", p.commune.as_deref())?, 16)?;
        let hamlet = input::code("hamlet", input::required("hamlet", p.hamlet.as_deref())?, 32)?;
        let date = input::opt_day("date", p.date.as_deref())?;
        Ok::<_, Bad>((commune, hamlet, date.map_or_else(|| vn_date(kyso_store::now()), |d| d.to_string())))
    })();
    let (commune, hamlet, date) = match typed {
        Ok(v) => v,
        Err(bad) => return bad.page(p.lang.as_deref() == Some("en")),
    };
    if let Err(answer) = crate::web::staff_may(&s, &headers, kyso_access::Action::ViewWorklist, commune).await {
        return answer;
    }
    let store = &s.authority.store;
    match store.hamlets(commune).await {
        Ok(h) if h.iter().any(|h| h.code == hamlet) => {}
        Ok(_) => return (StatusCode::NOT_FOUND, "no such commune or hamlet\n").into_response(),
        Err(e) => return crate::dashboard::failure(e),
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
        Ok(bytes) => {
            let name = format!("attachment; filename=\"worklist-{commune}-{hamlet}-{date}.xlsx\"");
            let ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
            ([(header::CONTENT_TYPE, ct.to_owned()), (header::CONTENT_DISPOSITION, name)], bytes).into_response()
        }
        Err(e) => {
            tracing::error!(error = %input::Clean(&e), "worklist export");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
        }
    }
}
