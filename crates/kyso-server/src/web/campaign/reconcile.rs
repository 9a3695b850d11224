//! `/campaign/reconcile?commune=…[&date=…]` (`templates/campaign/reconcile.html`) and its XLSX
//! (`/campaign/reconcile.xlsx`, shared with `kyso campaign reconcile`): what the providers, the
//! police and the commune should each correct, from `kyso_tracker::reconcile::reconciliation`. Personal
//! data: staff allowed to view the commune's worklists only, ID numbers masked, every view and
//! export audited.

use super::{asks_en, failure, frame, short_name, xlsx_download};
use crate::i18n::Lang;
use crate::input::{self, Bad, Query};
use crate::web::layout::{render, Frame};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kyso_campaign::reconcile::{Finding, ReconLine};
use kyso_store::{AuditEvent, Write};
use kyso_tracker::read::{vn_date, Fallible};
use kyso_tracker::reconcile::{recipient_text, reconcile_xlsx, reconciliation};
use serde::Deserialize;
use time::Date;

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
    let (commune, date) = typed(p).map_err(|bad| bad.page(asks_en(p.lang.as_deref())))?;
    crate::web::staff_may(s, headers, kyso_access::Action::ViewWorklist, commune).await?;
    Ok((commune, date))
}

#[derive(Template)]
#[template(path = "campaign/reconcile.html")]
struct Reconcile {
    frame: Frame,
    commune: String,
    date: String,
    /// The dashboard on the same day.
    overview: String,
    /// By recipient, then by kind of finding; a list, not a table: one person per item reads on a
    /// phone.
    groups: Vec<Group>,
}

struct Group {
    recipient: &'static str,
    count: usize,
    kinds: Vec<(&'static str, Vec<Item>)>,
}

struct Item {
    name: String,
    masked_id: String,
    hamlet: String,
    household: Option<String>,
    detail: String,
}

pub async fn reconcile_page(State(s): State<AppState>, headers: HeaderMap, Query(p): Query<Params>) -> Response {
    let l = Lang::from_en(asks_en(p.lang.as_deref()));
    let (commune, date) = match guard(&s, &headers, &p).await {
        Ok(g) => g,
        Err(answer) => return answer,
    };
    // read on the replica within its bound, audited on the primary
    let store = &s.authority.store;
    let (unit, hamlets, lines) = match reconciliation(s.authority.read_store(), commune, date).await {
        Ok(Some(found)) => found,
        Ok(None) => return (StatusCode::NOT_FOUND, "no such commune\n").into_response(),
        Err(e) => return failure(e),
    };
    let audit =
        AuditEvent::new("web", "campaign.reconcile.view", commune, format!("{} findings on {date}", lines.len()));
    if let Err(e) = store.commit(&[Write::Audit(audit)]).await {
        return failure(e);
    }
    let item = |line: &ReconLine| Item {
        name: short_name(line.full_name.as_deref().unwrap_or("")),
        masked_id: line.masked_id.clone(),
        hamlet: hamlets.get(&line.hamlet_code).unwrap_or(&line.hamlet_code).clone(),
        household: line.household.clone(),
        detail: detail_text(l, &line.finding),
    };
    let groups = lines
        .chunk_by(|a, b| a.finding.recipient() == b.finding.recipient())
        .map(|group| Group {
            recipient: recipient_text(l.en(), group[0].finding.recipient()),
            count: group.len(),
            kinds: group
                .chunk_by(|a, b| a.finding.name() == b.finding.name())
                .map(|kind| (kind_text(l, &kind[0].finding), kind.iter().map(item).collect()))
                .collect(),
        })
        .collect();
    let title = format!("{} — {}", l.t("Đối soát danh sách", "List reconciliation"), unit.name);
    render(&Reconcile {
        frame: frame(l, title, format!("/campaign/reconcile?commune={commune}&date={date}")),
        commune: commune.to_owned(),
        date: date.to_string(),
        overview: format!("/campaign?date={date}"),
        groups,
    })
}

/// A heading for one kind of finding.
fn kind_text(l: Lang, f: &Finding) -> &'static str {
    match f {
        Finding::NotInAnyList { .. } => l.t(
            "Báo đã có chứng thư nhưng không có trong danh sách nào",
            "Say they hold a certificate that no list shows",
        ),
        Finding::MovedAway { .. } => l.t("Đã chuyển đi", "Moved away"),
        Finding::Deceased { .. } => l.t("Đã mất", "Deceased"),
        Finding::SeveralProviders { .. } => {
            l.t("Có chứng thư ở nhiều nhà cung cấp", "Certificates at several providers")
        }
        Finding::Lapsed { .. } => {
            l.t("Chứng thư vừa hết hiệu lực, chưa có chứng thư mới", "Certificate just ended, no new one yet")
        }
    }
}

/// What to add under the person's name, below a [`kind_text`] heading.
fn detail_text(l: Lang, f: &Finding) -> String {
    match f {
        Finding::NotInAnyList { provider, visited } => {
            format!("{provider} · {} {}", l.t("thăm ngày", "visited"), l.date(visited.to_string()))
        }
        Finding::MovedAway { visited } | Finding::Deceased { visited } => {
            format!("{} {}", l.t("thăm ngày", "visited"), l.date(visited.to_string()))
        }
        Finding::SeveralProviders { providers } => providers.join(", "),
        Finding::Lapsed { ended, provider } => {
            format!("{provider} · {} {}", l.t("hết hiệu lực ngày", "ended"), l.date(ended.to_string()))
        }
    }
}

pub async fn xlsx_route(State(s): State<AppState>, headers: HeaderMap, Query(p): Query<Params>) -> Response {
    let (commune, date) = match guard(&s, &headers, &p).await {
        Ok(g) => g,
        Err(answer) => return answer,
    };
    let store = &s.authority.store;
    let result = async {
        let Some((_, hamlets, lines)) = reconciliation(s.authority.read_store(), commune, date).await? else {
            return Ok(None);
        };
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
        Ok(Some(bytes)) => xlsx_download(&format!("doi-soat-{commune}-{date}.xlsx"), bytes),
        Ok(None) => (StatusCode::NOT_FOUND, "no such commune\n").into_response(),
        Err(e) => failure(e),
    }
}
