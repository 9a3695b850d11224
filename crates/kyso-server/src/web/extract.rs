//! The handlers' preambles as axum extractors: the request's [`Ctx`]; the signed-in citizen
//! allowed an action on their own account ([`SignedInCitizen`], [`Level2Citizen`]); staff
//! ([`StaffIn`]); and their form posts, which check the CSRF token before who is signed in
//! ([`CitizenForm`], [`StaffForm`]). A rejection is the page to send: a redirect to the login, 403,
//! or the page saying level 2 is needed. Area checks stay with the handlers, through
//! `kyso_access::decide`.

use super::{bad_csrf, ctx, forbidden, Ctx, Notice};
use crate::input::Form;
use crate::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use kyso_access::{decide, Action, Principal, Resource, Role, Scope};
use kyso_store::accounts::{EidAccountRow, StaffAccountRow};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::marker::PhantomData;

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

/// The request context. A page (GET) takes its language from `?lang=` (and remembers it); a form
/// post from the cookie.
impl FromRequestParts<AppState> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Ctx, Self::Rejection> {
        let lang = match parts.method {
            Method::GET | Method::HEAD => {
                axum::extract::Query::<LangQuery>::try_from_uri(&parts.uri).ok().and_then(|q| q.0.lang)
            }
            _ => None,
        };
        Ok(ctx(s, &parts.headers, lang.as_deref()).await)
    }
}

/// What a citizen page does to the citizen's own account.
pub trait CitizenAction: Send + Sync {
    const ACTION: Action;
}

/// The account overview.
pub struct ViewAccount;
/// Choose a provider, activate, renew, revoke.
pub struct ManageCertificates;
/// Sign a PDF.
pub struct SignDocuments;

impl CitizenAction for ViewAccount {
    const ACTION: Action = Action::ViewOwnAccount;
}
impl CitizenAction for ManageCertificates {
    const ACTION: Action = Action::ManageOwnCertificates;
}
impl CitizenAction for SignDocuments {
    const ACTION: Action = Action::SignDocument;
}

fn principal(a: &EidAccountRow) -> Principal {
    Principal { subject: "citizen".into(), role: Role::Citizen, scope: Scope::Person(a.id_number.clone()) }
}

/// The logged-in citizen, allowed to do `action` on their own account; else the response to send.
fn citizen_for(c: &Ctx, action: Action) -> Result<EidAccountRow, Response> {
    match c.citizen() {
        Some(a) => {
            decide(&principal(a), action, &Resource::Person { id_number: &a.id_number, area: None })
                .map_err(|_| forbidden(c))?;
            Ok(a.clone())
        }
        None if c.staff().is_some() => Err(forbidden(c)),
        None => Err(Redirect::to("/login").into_response()),
    }
}

/// Signing certificates are for level-2 accounts only: else the page that says where to go.
fn level2(c: &Ctx, a: &EidAccountRow) -> Result<(), Response> {
    if a.level >= 2 {
        return Ok(());
    }
    Err(Notice::new(c, c.t("Cần tài khoản mức 2", "Level 2 needed"))
        .error(c.t(
            "Chữ ký số chỉ cấp cho tài khoản định danh điện tử mức 2.",
            "Signing certificates need a level-2 e-ID account.",
        ))
        .link("/me", c.t("Xem hướng dẫn", "See what to do"))
        .page(c))
}

/// The signed-in citizen, allowed `A` on their own account.
pub struct SignedInCitizen<A = ViewAccount> {
    pub ctx: Ctx,
    pub account: EidAccountRow,
    _action: PhantomData<A>,
}

impl<A: CitizenAction> FromRequestParts<AppState> for SignedInCitizen<A> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Response> {
        let Ok(ctx) = Ctx::from_request_parts(parts, s).await;
        let account = citizen_for(&ctx, A::ACTION)?;
        Ok(SignedInCitizen { ctx, account, _action: PhantomData })
    }
}

/// A signed-in citizen managing certificates with a level-2 account.
pub struct Level2Citizen {
    pub ctx: Ctx,
    pub account: EidAccountRow,
}

impl FromRequestParts<AppState> for Level2Citizen {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Response> {
        let SignedInCitizen { ctx, account, .. } =
            SignedInCitizen::<ManageCertificates>::from_request_parts(parts, s).await?;
        level2(&ctx, &account)?;
        Ok(Level2Citizen { ctx, account })
    }
}

/// A form that carries the CSRF token.
pub trait CsrfForm: DeserializeOwned + Send {
    fn csrf(&self) -> &str;
}

/// Implements [`CsrfForm`] for form structs with a `csrf: String` field.
macro_rules! csrf_forms {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::web::extract::CsrfForm for $t {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        }
    )*};
}
pub(crate) use csrf_forms;

/// The form with only the CSRF token (logout, renew).
#[derive(Deserialize)]
pub struct CsrfOnly {
    pub csrf: String,
}
csrf_forms!(CsrfOnly);

/// The form read first (a bad form is a 400 page), then the request context (language from the
/// cookie), then the CSRF token (403).
async fn checked_form<F: CsrfForm>(req: Request, s: &AppState) -> Result<(Ctx, F), Response> {
    let headers = req.headers().clone();
    let Form(form) = Form::<F>::from_request(req, s).await?;
    let c = ctx(s, &headers, None).await;
    if !c.csrf_valid(form.csrf()) {
        return Err(bad_csrf(&c));
    }
    Ok((c, form))
}

/// Who may post a form, known from the request context once the CSRF token is checked.
pub trait Poster: Sized + Send {
    fn of(ctx: Ctx) -> Result<Self, Response>;
}

/// Any visitor (login, registration, logout).
impl Poster for Ctx {
    fn of(ctx: Ctx) -> Result<Ctx, Response> {
        Ok(ctx)
    }
}

impl<A: CitizenAction> Poster for SignedInCitizen<A> {
    fn of(ctx: Ctx) -> Result<Self, Response> {
        let account = citizen_for(&ctx, A::ACTION)?;
        Ok(SignedInCitizen { ctx, account, _action: PhantomData })
    }
}

/// A form post: the form read (a bad form is a 400 page), its CSRF token checked (403), then who
/// posted it (`W`: any visitor, a citizen allowed an action, staff).
pub struct Posted<F, W = Ctx> {
    pub who: W,
    pub form: F,
}

/// Any visitor's form post.
pub type VisitorForm<F> = Posted<F, Ctx>;
/// A citizen's form post: the CSRF token first, then the access decision for `A`.
pub type CitizenForm<F, A = ManageCertificates> = Posted<F, SignedInCitizen<A>>;
/// A staff form post: the CSRF token first, then who is signed in.
pub type StaffForm<F> = Posted<F, StaffIn>;

impl<F: CsrfForm, W: Poster> FromRequest<AppState> for Posted<F, W> {
    type Rejection = Response;

    async fn from_request(req: Request, s: &AppState) -> Result<Self, Response> {
        let (ctx, form) = checked_form::<F>(req, s).await?;
        Ok(Posted { who: W::of(ctx)?, form })
    }
}

impl<F> CitizenForm<F, ManageCertificates> {
    /// Certificates are for level 2: else the page that says so.
    pub fn level2(&self) -> Result<(), Response> {
        level2(&self.who.ctx, &self.who.account)
    }
}

/// The signed-in staff member: else a redirect to the staff login (403 for a citizen).
pub struct StaffIn {
    pub ctx: Ctx,
    pub staff: StaffAccountRow,
    pub principal: Principal,
}

fn staff_for(ctx: Ctx) -> Result<StaffIn, Response> {
    match ctx.staff() {
        Some((staff, principal)) => {
            let (staff, principal) = (staff.clone(), principal.clone());
            Ok(StaffIn { ctx, staff, principal })
        }
        None if ctx.citizen().is_some() => Err(forbidden(&ctx)),
        None => Err(Redirect::to("/staff/login").into_response()),
    }
}

impl StaffIn {
    /// Staff scoped to an area: may this staff member do `action` on the commune
    /// `commune_code`? Else 404 (no such commune), 503, or 403.
    pub async fn may_in_commune(&self, s: &AppState, action: Action, commune_code: &str) -> Result<(), Response> {
        super::commune_decision(s, &self.ctx, &self.principal, action, commune_code).await
    }
}

/// Also the staff member of a post read by hand, after its CSRF check.
impl Poster for StaffIn {
    fn of(ctx: Ctx) -> Result<StaffIn, Response> {
        staff_for(ctx)
    }
}

impl FromRequestParts<AppState> for StaffIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Response> {
        let Ok(ctx) = Ctx::from_request_parts(parts, s).await;
        staff_for(ctx)
    }
}
