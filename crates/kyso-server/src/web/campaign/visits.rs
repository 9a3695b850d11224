//! Door-to-door teams record what they found from the worklist page, on a phone: each line of
//! `/campaign/worklist` carries a small form (`POST /campaign/visit`, drawn by
//! `templates/campaign/worklist.html`), for staff allowed to record visits in that commune. The
//! line names the person by the visit log's keyed hash, never by the ID number; the outcome is
//! appended (never edited), audited with the masked ID, and the browser goes back to the list,
//! where a closing outcome has taken the person off it.

use crate::input::{self, Bad, Form};
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kyso_campaign::population::CitizenId;
use kyso_campaign::worklist::Outcome;
use kyso_store::AuditEvent;
use kyso_tracker::worklist::{visit_hash, visit_key, visit_row};
use serde::Deserialize;

/// The outcomes a team can pick, in the order of the menu.
pub(super) const OUTCOMES: [(&str, &str, &str); 7] = [
    ("not-at-home", "Vắng nhà", "Not at home"),
    ("done", "Đã đăng ký tại chỗ", "Registered on the spot"),
    ("assisted", "Đã hỗ trợ (kích hoạt, đăng ký)", "Helped through the steps"),
    ("already-holds", "Đã có chứng thư (ghi nhà cung cấp)", "Already holds one (name the provider)"),
    ("refused", "Từ chối", "Refused"),
    ("moved-away", "Đã chuyển đi", "Moved away"),
    ("deceased", "Đã mất", "Deceased"),
];

/// The person's handle on the page: the visit log's keyed hash, in hex.
pub(super) fn handle(key: &str, id: &CitizenId) -> String {
    visit_hash(key, id).iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Deserialize)]
pub struct VisitForm {
    csrf: String,
    commune: String,
    hamlet: String,
    person: String,
    outcome: String,
    provider: Option<String>,
}

pub async fn record(State(s): State<AppState>, headers: HeaderMap, Form(f): Form<VisitForm>) -> Response {
    let c = crate::web::ctx(&s, &headers, None).await;
    if !c.csrf_valid(&f.csrf) {
        return (StatusCode::FORBIDDEN, "the form expired: reload the worklist\n").into_response();
    }
    let typed = (|| {
        input::code("commune", &f.commune, 16)?;
        input::code("hamlet", &f.hamlet, 32)?;
        input::code("person", &f.person, 64)?;
        let provider = f.provider.as_deref().map(str::trim).filter(|p| !p.is_empty());
        if let Some(p) = provider {
            input::text(kyso_store::limits::PROVIDER, p)?;
        }
        Outcome::parse(&f.outcome, provider).ok_or_else(|| {
            if f.outcome == "already-holds" {
                Bad::new(
                    "provider",
                    "còn thiếu: hãy ghi nhà cung cấp mà người dân đã có chứng thư.",
                    "is missing: name the provider they already hold a certificate from.",
                )
            } else {
                let list = OUTCOMES.map(|o| o.0).join(", ");
                Bad::new("outcome", format!("phải là một trong: {list}."), format!("must be one of: {list}."))
            }
        })
    })();
    let outcome = match typed {
        Ok(o) => o,
        Err(bad) => return bad.page(c.en),
    };
    if let Err(answer) = crate::web::staff_may(&s, &headers, kyso_access::Action::RecordVisit, &f.commune).await {
        return answer;
    }
    let Some((staff, _)) = c.staff() else { return Redirect::to("/staff/login").into_response() };
    let store = &s.authority.store;
    let result = async {
        let key = visit_key(store, true).await?.ok_or("no visit key")?;
        let residents = store.residents(&f.commune, Some(&f.hamlet)).await.map_err(|e| e.to_string())?;
        let person = residents
            .iter()
            .filter_map(|r| CitizenId::parse(&r.id_number).ok())
            .find(|id| handle(&key, id) == f.person);
        let Some(id) = person else { return Ok(None) };
        let today = kyso_tracker::read::vn_date(kyso_store::now());
        let row = visit_row(&key, &id, (&f.commune, &f.hamlet), &outcome, &staff.display_name, &today);
        let audit =
            AuditEvent::new(&staff.username, "campaign.visit", &row.id_masked, format!("{} (web)", row.outcome));
        store.append_visit(&row, &audit).await.map_err(|e| e.to_string())?;
        Ok::<_, String>(Some(row.id_masked))
    }
    .await;
    match result {
        Ok(Some(masked)) => {
            tracing::info!(staff = %staff.username, person = %masked, outcome = %outcome.name(), "visit recorded on the web");
            Redirect::to(&format!(
                "/campaign/worklist?commune={}&hamlet={}&saved=1",
                crate::web::urlencode(&f.commune),
                crate::web::urlencode(&f.hamlet)
            ))
            .into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, "no such person in this hamlet's register\n").into_response(),
        Err(e) => super::failure(e),
    }
}
