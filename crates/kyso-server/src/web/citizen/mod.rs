//! The citizen journey (Hà Nội 2025's steps): log in → level 2? (else: where to go) → choose a
//! licensed provider → confirm personal data → set a PIN and activate → my certificates (details,
//! renew, revoke) → sign a PDF (download it signed) → verify a document (`/verify`).
//! `register.rs` (login, registration), `account.rs` (the overview), `provider.rs` (provider,
//! confirm, activate), `certificates.rs`, `sign.rs`; templates in `templates/citizen/`.

mod account;
mod certificates;
mod provider;
mod register;
mod sign;

use crate::i18n::Lang;
use crate::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use kyso_authority::accounts::Person;
use kyso_pki::CitizenId;
use kyso_store::accounts::EidAccountRow;
use serde::Deserialize;

pub use sign::MAX_PDF;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(register::login_page).post(register::login))
        .route("/register", get(register::register_page).post(register::register))
        .route("/me", get(account::me))
        .route("/me/notifications", post(account::notifications))
        .route("/me/provider", get(provider::choose_provider))
        .route("/me/confirm", get(provider::confirm))
        .route("/me/activate", get(provider::activate_page).post(provider::activate))
        .route("/me/enrol/{ticket}", get(super::otp::enrol))
        .route("/me/certificates", get(certificates::certificates))
        .route("/me/certificates/{serial}", get(certificates::certificate))
        .route("/me/certificates/{serial}/renew", post(certificates::renew))
        .route("/me/certificates/{serial}/revoke", post(certificates::revoke))
        .route("/me/sign", get(sign::sign_page).post(sign::sign).layer(DefaultBodyLimit::max(MAX_PDF + (64 << 10))))
}

/// The query strings of the citizen's pages.
#[derive(Deserialize, Default)]
pub struct Q {
    #[allow(dead_code)] // read by the `Ctx` extractor; kept so that a malformed one is refused here too
    lang: Option<String>,
    provider: Option<String>,
    confirmed: Option<String>,
    done: Option<String>,
    err: Option<String>,
}

fn masked(id: &str) -> String {
    CitizenId::parse(id).map(|i| i.masked()).unwrap_or_default()
}

async fn person_of(s: &AppState, a: &EidAccountRow) -> Option<Person> {
    let id = CitizenId::parse(&a.id_number).ok()?;
    s.authority.person(&id).await.ok().flatten()
}

/// The licensed providers, as (id, name), by id.
fn providers(s: &AppState) -> Vec<(String, String)> {
    let mut v: Vec<_> =
        s.authority.cas().filter(|c| c.kind == "provider").map(|c| (c.id.clone(), c.display_name.clone())).collect();
    v.sort();
    v
}

fn provider_name(s: &AppState, id: &str) -> Option<String> {
    providers(s).into_iter().find(|(p, _)| p == id).map(|(_, n)| n)
}

/// A provider's name, or its id when it is not (or no longer) licensed here.
fn provider_label(s: &AppState, id: &str) -> String {
    provider_name(s, id).unwrap_or_else(|| id.to_owned())
}

fn vn_date_of(unix: i64) -> String {
    kyso_calendar::vn_display_date(unix)
}

/// Opening days (`1`…`7`, Monday first) as names.
pub(super) fn weekdays(lang: Lang, days: &str) -> String {
    let names_vi = ["", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"];
    let names_en = ["", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let names = if lang.en() { names_en } else { names_vi };
    days.chars()
        .filter_map(|d| d.to_digit(10))
        .filter_map(|d| names.get(d as usize))
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

/// Opening days and hours: "Thứ Hai, Thứ Ba · 7:30–11:30, 13:30–17:00" (the hours when given).
pub fn opening_text(lang: Lang, days: &str, hours: &str) -> String {
    let days = weekdays(lang, days);
    if hours.is_empty() {
        days
    } else {
        format!("{days} · {hours}")
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
