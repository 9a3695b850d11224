//! Reaching people (issue 21): the hotline's question log, FAQ and operator hours
//! (`/campaign/hotline`, `hotline.rs`) and training records (`/campaign/training`, `training.rs`).
//! Staff pages, templates in `templates/reach/`; every form CSRF-checked; each list scoped to the
//! signed-in person's area through `kyso_access::decide` (a commune officer sees their commune).

mod hotline;
mod training;

use crate::AppState;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use kyso_access::{Area, Principal, Scope};

pub(crate) use hotline::{guide_faq, FaqLine};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaign/hotline", get(hotline::page))
        .route("/campaign/hotline/call", post(hotline::log_call))
        .route("/campaign/hotline/faq", post(hotline::save_faq))
        .route("/campaign/hotline/hours", post(hotline::save_hours))
        .route("/campaign/training", get(training::page))
        .route("/campaign/training/session", post(training::record))
}

/// The area a principal's scope covers, for `decide` on their own area.
fn own_area(p: &Principal) -> Option<Area> {
    match &p.scope {
        Scope::National => Some(Area::province(kyso_tracker::reports::NATIONAL)),
        Scope::Province(code) => Some(Area::province(code)),
        Scope::Commune { province, commune } => Some(Area::commune(province, commune)),
        Scope::Provider(_) | Scope::Person(_) => None,
    }
}

/// The unit code of a principal's own area (`VN` nationally).
fn own_unit(p: &Principal) -> Option<String> {
    match &p.scope {
        Scope::National => Some(kyso_tracker::reports::NATIONAL.to_owned()),
        Scope::Province(code) => Some(code.clone()),
        Scope::Commune { commune, .. } => Some(commune.clone()),
        Scope::Provider(_) | Scope::Person(_) => None,
    }
}

/// The area of a commune (5 digits) or province (2 digits) code, for `decide`.
async fn area_of(s: &AppState, unit: &str) -> Result<Option<Area>, String> {
    if unit.len() == 5 {
        return Ok(s
            .authority
            .store
            .commune(unit)
            .await
            .map_err(|e| e.to_string())?
            .map(|c| Area::commune(&c.province_code, &c.code)));
    }
    Ok(s.authority.store.province_name(unit).await.map_err(|e| e.to_string())?.map(|_| Area::province(unit)))
}

/// Back to `path` with what happened (`ok=` or `err=`), in the page's language.
fn back(path: &str, en: bool, outcome: Result<&str, String>) -> Response {
    let q = match outcome {
        Ok(m) => format!("ok={}", crate::web::urlencode(m)),
        Err(e) => format!("err={}", crate::web::urlencode(&e)),
    };
    let to = format!("{path}?{q}");
    Redirect::to(&crate::i18n::Lang::from_en(en).href(&to)).into_response()
}
