//! Choose a provider → confirm the personal data → set a PIN and activate (level 2 only).

use super::{person_of, provider_name, providers, Q};
use crate::input::Query;
use crate::web::extract::{csrf_forms, CitizenForm, Level2Citizen, Posted, SignedInCitizen};
use crate::web::layout::{render_for, render_status, Frame};
use crate::web::Notice;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kyso_authority::{AuthorityError, IssueRequest};
use kyso_custody::Pin;
use kyso_store::StoreError;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "citizen/provider.html")]
struct ChooseProvider {
    frame: Frame,
    /// (id, name)
    providers: Vec<(String, String)>,
}

pub async fn choose_provider(State(s): State<AppState>, Query(_): Query<Q>, who: Level2Citizen) -> Response {
    let c = &who.ctx;
    let frame = Frame::new(c, c.t("Chọn nhà cung cấp", "Choose a provider"));
    render_for(c, &ChooseProvider { frame, providers: providers(&s) })
}

#[derive(Template)]
#[template(path = "citizen/confirm.html")]
struct Confirm {
    frame: Frame,
    name: String,
    id: String,
    /// dd/mm/yyyy, as on the chip card
    dob: String,
    commune: String,
    province: String,
    provider: String,
    provider_id: String,
}

/// `yyyy-mm-dd` as `dd/mm/yyyy`.
fn day_month_year(iso: &str) -> String {
    let d: Vec<&str> = iso.split('-').collect();
    if d.len() == 3 {
        format!("{}/{}/{}", d[2], d[1], d[0])
    } else {
        iso.to_owned()
    }
}

pub async fn confirm(State(s): State<AppState>, Query(q): Query<Q>, who: Level2Citizen) -> Response {
    let c = &who.ctx;
    let Some(pname) = q.provider.as_deref().and_then(|p| provider_name(&s, p)) else {
        return Redirect::to("/me/provider").into_response();
    };
    let Some(p) = person_of(&s, &who.account).await else {
        return Notice::new(c, c.t("Không tìm thấy dữ liệu", "No data"))
            .error(c.t("Không tìm thấy bạn trong dữ liệu dân cư.", "You are not in the population register here."))
            .page(c);
    };
    let page = Confirm {
        frame: Frame::new(c, c.t("Xác nhận thông tin", "Confirm your data")),
        name: p.full_name.clone(),
        id: p.id.masked(),
        dob: day_month_year(&p.date_of_birth),
        commune: p.commune_name.clone(),
        province: p.province_name.clone(),
        provider: pname,
        provider_id: q.provider.clone().unwrap_or_default(),
    };
    render_for(c, &page)
}

#[derive(Template)]
#[template(path = "citizen/activate.html")]
struct Activate<'a> {
    frame: Frame,
    error: Option<&'a str>,
    provider_id: &'a str,
    provider: &'a str,
    /// The form's one-use token ([`kyso_authority::forms`]).
    form_token: &'a str,
}

/// A form token lives an hour: long enough to read the page and choose a PIN.
const FORM_TTL: i64 = 3600;

/// Where a citizen who already holds a valid certificate from the provider is sent: that
/// certificate, with what to do (renew it) instead of a second one.
fn already_active(serial: &str) -> Response {
    Redirect::to(&format!("/me/certificates/{serial}?err=active")).into_response()
}

pub async fn activate_page(State(s): State<AppState>, Query(q): Query<Q>, who: Level2Citizen) -> Response {
    let c = &who.ctx;
    let provider = q.provider.clone().unwrap_or_default();
    let Some(pname) = provider_name(&s, &provider) else { return Redirect::to("/me/provider").into_response() };
    if q.confirmed.as_deref() != Some("1") {
        return Redirect::to(&format!("/me/confirm?provider={provider}")).into_response();
    }
    let active = s.authority.active_certificate(&who.account.id_number, &provider, kyso_store::now()).await;
    if let Ok(Some(serial)) = active {
        return already_active(&serial);
    }
    let token = match s.authority.new_form_token(FORMS_ACTIVATE, &who.account.id_number, &provider, FORM_TTL).await {
        Ok(t) => t,
        Err(e) => return Notice::new(c, c.t("Lỗi", "Error")).error(e.to_string()).page(c),
    };
    let frame = Frame::new(c, c.t("Đặt mã PIN và kích hoạt", "Set a PIN and activate"));
    render_for(c, &Activate { frame, error: None, provider_id: &provider, provider: &pname, form_token: &token })
}

use kyso_authority::forms::ACTIVATE as FORMS_ACTIVATE;

#[derive(Deserialize)]
pub struct ActivateForm {
    csrf: String,
    provider: String,
    confirmed: Option<String>,
    #[serde(default)]
    form_token: String,
    pin: String,
    pin2: String,
}
csrf_forms!(ActivateForm);

pub async fn activate(State(s): State<AppState>, post: CitizenForm<ActivateForm>) -> Response {
    if let Err(r) = post.level2() {
        return r;
    }
    let Posted { who: SignedInCitizen { ctx: c, account: a, .. }, form: f } = post;
    let Some(pname) = provider_name(&s, &f.provider) else { return Redirect::to("/me/provider").into_response() };
    if f.confirmed.as_deref() != Some("1") {
        return Redirect::to(&format!("/me/confirm?provider={}", f.provider)).into_response();
    }
    let fail = |msg: &str| {
        let frame = Frame::new(&c, c.t("Đặt mã PIN và kích hoạt", "Set a PIN and activate"));
        let page =
            Activate { frame, error: Some(msg), provider_id: &f.provider, provider: &pname, form_token: &f.form_token };
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &c, &page)
    };
    if f.pin != f.pin2 {
        return fail(c.t("Hai mã PIN không khớp.", "The PINs differ."));
    }
    let Ok(pin) = Pin::parse(&f.pin) else {
        return fail(c.t("Mã PIN gồm đúng 6 chữ số.", "The PIN is exactly 6 digits."));
    };
    if kyso_access::password::weak_pin(&f.pin) {
        return fail(c.t(
            "Mã PIN quá dễ đoán (dãy số lặp hoặc liên tiếp). Hãy chọn mã khác.",
            "That PIN is too easy to guess (repeated or consecutive digits). Choose another.",
        ));
    }
    let Some(p) = person_of(&s, &a).await else {
        return fail(c.t("Không tìm thấy bạn trong dữ liệu dân cư.", "You are not in the population register here."));
    };
    let req = IssueRequest {
        id_number: a.id_number.clone(),
        full_name: p.full_name.clone(),
        province: p.province_name.clone(),
        commune: Some(p.commune_name.clone()),
        provider: f.provider.clone(),
        key_algorithm: None,
        validity_days: None,
        actor: format!("citizen {}", p.id.masked()),
    };
    match s.authority.activate_form(req, &pin, &f.form_token).await {
        Ok(act) => {
            tracing::info!(citizen = %p.id.masked(), serial = %act.certificate.serial, "certificate activated on the web");
            match act.otpauth_uri {
                Some(uri) => crate::web::otp::after_activation(&s, &c, &pname, uri, &act.certificate.serial),
                None => Redirect::to(&format!("/me/certificates?done={}", act.certificate.serial)).into_response(),
            }
        }
        // Submitted before (a second click, the back button, a replay): show what the first
        // submission made instead of issuing again (post/redirect/get).
        Err(AuthorityError::Store(StoreError::FormUsed(_))) => {
            tracing::info!(citizen = %p.id.masked(), "activation form submitted again; nothing issued");
            Redirect::to("/me/certificates").into_response()
        }
        Err(AuthorityError::Store(StoreError::AlreadyActive(serial))) => already_active(&serial),
        Err(e) => fail(&e.to_string()),
    }
}
