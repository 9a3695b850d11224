//! The support-desk console: staff log in, look a person up by ID number, see only what the step
//! needs (e-ID level, certificate status, the ID masked), verify level 2 in person, unlock a
//! locked credential, and record the support session (point, staff, steps, outcome). Results per
//! point and day feed the campaign tracker. `dossiers.rs` (check a dossier's signatures),
//! `lookup.rs` (the person and the actions on them),
//! `results.rs` (per point and day, and the campaign dashboard's section); templates in
//! `templates/desk/`.

mod dossiers;
mod lookup;
mod results;

pub use results::{support_figures, SupportFigures};

use super::client::{self, ClientAddr};
use super::extract::{csrf_forms, Posted, StaffIn, VisitorForm};
use super::layout::{render_for, Frame};
use super::{login, urlencode, Ctx};
use crate::input::Query;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use kyso_access::{decide, Action, Resource};
use kyso_store::accounts::SupportPointRow;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/login", get(login_page).post(login))
        .route("/desk", get(desk))
        .route("/desk/lookup", post(lookup::lookup))
        .route("/desk/person/{person}", get(lookup::person_page))
        .route("/desk/verify", post(lookup::verify))
        .route("/desk/unlock", post(lookup::unlock))
        .route("/desk/pending", post(lookup::pending))
        .route("/desk/session", post(lookup::session))
        .route("/desk/results", get(results::results))
        .route("/desk/dossiers", get(dossiers::form))
        .route(
            "/desk/dossiers",
            post(dossiers::submit).layer(axum::extract::DefaultBodyLimit::max(crate::dossiers::MAX_BODY)),
        )
        .route("/desk/dossiers/{id}", get(dossiers::show))
}

#[derive(Deserialize, Default)]
pub struct Q {
    #[allow(dead_code)] // read by the `Ctx` extractor; kept so that a malformed one is refused here too
    lang: Option<String>,
    ok: Option<String>,
    err: Option<String>,
}

/// Back to the desk with what happened (`?ok=` or `?err=`).
fn back(ok: Result<String, String>) -> Response {
    match ok {
        Ok(m) => Redirect::to(&format!("/desk?ok={}", urlencode(&m))).into_response(),
        Err(e) => Redirect::to(&format!("/desk?err={}", urlencode(&e))).into_response(),
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    username: String,
    password: String,
}
csrf_forms!(LoginForm);

#[derive(Template)]
#[template(path = "desk/login.html")]
struct LoginPage<'a> {
    frame: Frame,
    error: Option<&'a str>,
}

fn login_form(c: &Ctx, error: Option<&str>) -> Response {
    render_for(c, &LoginPage { frame: Frame::new(c, c.t("Cán bộ đăng nhập", "Staff log in")), error })
}

async fn login_page(Query(_): Query<Q>, c: Ctx) -> Response {
    if c.staff().is_some() {
        return Redirect::to("/desk").into_response();
    }
    login_form(&c, None)
}

async fn login(
    State(s): State<AppState>,
    client: Option<Extension<ClientAddr>>,
    Posted { who: c, form: f }: VisitorForm<LoginForm>,
) -> Response {
    let answer = s.authority.staff_login(&f.username, &f.password, client::ip(client)).await.map(|ok| {
        ok.map(|(row, _)| {
            tracing::info!(staff = %row.username, role = %row.role, "staff login");
            row.username
        })
    });
    let wrong = c.t("Tên đăng nhập hoặc mật khẩu không đúng.", "Wrong username or password.");
    login::finish(&s, &c, "staff", answer, "/desk", wrong, |m| login_form(&c, Some(m))).await
}

#[derive(Template)]
#[template(path = "desk/desk.html")]
struct Desk {
    frame: Frame,
    name: String,
    role: &'static str,
    point: Option<SupportPointRow>,
    ok: Option<String>,
    err: Option<String>,
    /// The look-up form is offered.
    lookup: bool,
}

async fn desk(State(s): State<AppState>, Query(q): Query<Q>, who: StaffIn) -> Response {
    let (c, p) = (&who.ctx, &who.principal);
    let point = match &who.staff.point_id {
        Some(id) => s.authority.store.support_point(id).await.ok().flatten(),
        None => None,
    };
    let desk_probe = Resource::Person { id_number: "", area: None };
    let lookup = decide(p, Action::LookUpCitizen, &desk_probe).is_ok()
        || matches!(p.role, kyso_access::Role::CommuneOfficer | kyso_access::Role::ProvinceOfficer);
    let page = Desk {
        frame: Frame::new(c, c.t("Bàn hỗ trợ", "Support desk")),
        name: who.staff.display_name.clone(),
        role: p.role.label_vi(),
        point,
        ok: q.ok,
        err: q.err,
        lookup,
    };
    render_for(c, &page)
}
