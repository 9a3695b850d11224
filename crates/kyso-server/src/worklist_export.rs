//! The door-to-door worklist as rows and as an XLSX file, shared by `kyso campaign worklist`
//! (`--csv`, `--xlsx FILE`) and the worklist page's "Tải XLSX" link
//! (`/campaign/worklist.xlsx?commune=…&hamlet=…[&date=…]`). ID numbers masked; every export audited.

use crate::campaign_data::{load, vn_date, Fallible};
use crate::input::{self, Bad, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use kyso_campaign::csv::parse_date;
use kyso_campaign::denominator::AdultsDenominator;
use kyso_campaign::population::{CitizenId, Register};
use kyso_campaign::worklist::{build_worklist, Outcome, Visit, VisitLog};
use kyso_store::{AuditEvent, Store, Write};
use kyso_xlsx::{Cell, Column, Writer};
use serde::Deserialize;
use std::collections::HashMap;

/// One worklist line, masked: household, masked ID, name, last outcome.
pub type WorklistLine = (String, String, String, String);

/// The key of the visit log's ID hashes (a setting), created on first use when `create`.
pub async fn visit_key(store: &Store, create: bool) -> Fallible<Option<String>> {
    let err = |e: kyso_store::StoreError| e.to_string();
    if let Some(k) = store.setting("campaign_visit_key").await.map_err(err)? {
        return Ok(Some(k));
    }
    if !create {
        return Ok(None);
    }
    let key = kyso_custody::Kek::generate().map_err(|e| e.to_string())?.to_hex();
    let setting = kyso_store::Write::Setting { name: "campaign_visit_key".into(), value: key.clone() };
    store.commit(&[setting]).await.map_err(err)?;
    Ok(Some(key))
}

/// A visit to append (the store numbers it): the person as the log keeps them — keyed hash and
/// masked ID, never the number — and the outcome by name, with its provider when it names one.
pub fn visit_row(
    key: &str,
    id: &CitizenId,
    (commune, hamlet): (&str, &str),
    outcome: &Outcome,
    team: &str,
    date: &str,
) -> kyso_store::campaign::VisitRow {
    kyso_store::campaign::VisitRow {
        seq: 0,
        commune_code: commune.to_owned(),
        hamlet_code: hamlet.to_owned(),
        id_hash: visit_hash(key, id),
        id_masked: id.masked(),
        outcome: outcome.name().into(),
        provider: match outcome {
            Outcome::AlreadyHolds { provider } => Some(provider.clone()),
            _ => None,
        },
        team: team.to_owned(),
        visit_date: date.to_owned(),
        at: 0,
    }
}

/// The keyed hash the visit log stores instead of the ID number.
pub fn visit_hash(key: &str, id: &CitizenId) -> Vec<u8> {
    kyso_pki::alg::sha256(format!("kyso-visit\0{key}\0{}", id.expose()).as_bytes())
}

/// The visit log of a commune (or one of its hamlets), its ID hashes matched back to the register;
/// visits of people no longer in it, or of outcomes this version does not know, are left out.
pub async fn visit_log(store: &Store, register: &Register, commune: &str, hamlet: Option<&str>) -> Fallible<VisitLog> {
    let err = |e: kyso_store::StoreError| e.to_string();
    let mut log = VisitLog::new();
    let Some(key) = visit_key(store, false).await? else { return Ok(log) };
    let hamlets = match hamlet {
        Some(h) => vec![h.to_owned()],
        None => store.hamlets(commune).await.map_err(err)?.into_iter().map(|h| h.code).collect(),
    };
    let by_hash: HashMap<Vec<u8>, &CitizenId> =
        register.residents().iter().map(|r| (visit_hash(&key, &r.id), &r.id)).collect();
    for hamlet in hamlets {
        for v in store.visits(commune, &hamlet).await.map_err(err)? {
            let (Some(person), Some(outcome), Ok(date)) =
                (by_hash.get(&v.id_hash), Outcome::parse(&v.outcome, v.provider.as_deref()), parse_date(&v.visit_date))
            else {
                continue;
            };
            log.record(Visit { person: (*person).clone(), date, team: v.team, outcome });
        }
    }
    Ok(log)
}

/// The worklist of a hamlet on `date` (ISO), in walking order.
pub async fn worklist_lines(store: &Store, commune: &str, hamlet: &str, date: &str) -> Fallible<Vec<WorklistLine>> {
    let err = |e: kyso_store::StoreError| e.to_string();
    let as_of = parse_date(date)?;
    let (register, adoption) = load(store, commune, Some(hamlet)).await?;
    let min_age = match store.plans(Some(commune)).await.map_err(err)?.into_iter().next_back() {
        Some((p, _)) => u8::try_from(p.min_age).map_err(|e| e.to_string())?,
        None => 15,
    };
    let line = AdultsDenominator::new(min_age, as_of).map_err(|e| e.to_string())?;
    let log = visit_log(store, &register, commune, Some(hamlet)).await?;
    let list = build_worklist(&register, &adoption, &line, &log, (commune, hamlet), as_of);
    Ok(list
        .entries
        .iter()
        .map(|e| {
            (
                e.household.clone().unwrap_or_default(),
                e.masked_id.clone(),
                e.full_name.clone().unwrap_or_default(),
                e.last_outcome.as_ref().map(Outcome::name).unwrap_or_default().to_owned(),
            )
        })
        .collect())
}

/// The worklist as an XLSX workbook: one sheet, a bold frozen header, a column to fill in at the door.
pub fn worklist_xlsx(lines: &[WorklistLine]) -> Fallible<Vec<u8>> {
    let mut w = Writer::new(std::io::Cursor::new(Vec::new()));
    let columns = [
        Column::new("Hộ", 10.0),
        Column::new("Số định danh (đã che)", 20.0),
        Column::new("Họ và tên", 30.0),
        Column::new("Lần thăm trước", 16.0),
        Column::new("Kết quả", 24.0),
    ];
    let e = |e: kyso_xlsx::Error| e.to_string();
    w.add_sheet("Danh sách", &columns).map_err(e)?;
    for (household, id, name, outcome) in lines {
        w.write_row(&[Cell::Text(household), Cell::Text(id), Cell::Text(name), Cell::Text(outcome)]).map_err(e)?;
    }
    Ok(w.finish().map_err(e)?.into_inner())
}

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
