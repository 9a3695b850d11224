//! The citizen's login and the level-1 registration.

use super::{masked, Q};
use crate::input::Query;
use crate::web::client::{self, refused_attempt, ClientAddr};
use crate::web::extract::{csrf_forms, Posted, VisitorForm};
use crate::web::layout::{render_for, render_status, Frame};
use crate::web::{login, redirect_with, start_session, Ctx};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use kyso_authority::AuthorityError;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    id_number: String,
    password: String,
}

#[derive(Deserialize)]
pub struct RegisterForm {
    csrf: String,
    id_number: String,
    phone: String,
    password: String,
    password2: String,
}

csrf_forms!(LoginForm, RegisterForm);

#[derive(Template)]
#[template(path = "citizen/login.html")]
struct LoginPage<'a> {
    frame: Frame,
    error: Option<&'a str>,
    id: &'a str,
}

fn login_form(c: &Ctx, error: Option<&str>, id: &str) -> Response {
    render_for(c, &LoginPage { frame: Frame::new(c, c.t("Đăng nhập", "Log in")), error, id })
}

pub async fn login_page(Query(_): Query<Q>, c: Ctx) -> Response {
    if c.citizen().is_some() {
        return Redirect::to("/me").into_response();
    }
    login_form(&c, None, "")
}

pub async fn login(
    State(s): State<AppState>,
    client: Option<Extension<ClientAddr>>,
    Posted { who: c, form: f }: VisitorForm<LoginForm>,
) -> Response {
    let answer = s.authority.citizen_login(&f.id_number, &f.password, client::ip(client)).await.map(|a| {
        a.map(|a| {
            tracing::info!(citizen = %masked(&a.id_number), "citizen login");
            a.id_number
        })
    });
    let wrong = c.t("Số định danh hoặc mật khẩu không đúng.", "Wrong ID number or password.");
    login::finish(&s, &c, "citizen", answer, "/me", wrong, |m| login_form(&c, Some(m), &f.id_number)).await
}

#[derive(Template)]
#[template(path = "citizen/register.html")]
struct RegisterPage<'a> {
    frame: Frame,
    error: Option<&'a str>,
    id: &'a str,
    phone: &'a str,
}

fn register_form(c: &Ctx, error: Option<&str>, id: &str, phone: &str) -> Response {
    render_for(c, &RegisterPage { frame: Frame::new(c, c.t("Đăng ký tài khoản", "Register")), error, id, phone })
}

pub async fn register_page(Query(_): Query<Q>, c: Ctx) -> Response {
    register_form(&c, None, "", "")
}

pub async fn register(
    State(s): State<AppState>,
    client: Option<Extension<ClientAddr>>,
    Posted { who: c, form: f }: VisitorForm<RegisterForm>,
) -> Response {
    // The store's limits, as a 400 on the form in the page's language.
    let limits = crate::input::text(kyso_store::limits::ID_NUMBER, f.id_number.trim())
        .and_then(|_| crate::input::text(kyso_store::limits::PHONE, f.phone.trim()));
    if let Err(bad) = limits {
        let frame = Frame::new(&c, c.t("Đăng ký tài khoản", "Register"));
        let msg = bad.message(c.en);
        let page = RegisterPage { frame, error: Some(&msg), id: "", phone: "" };
        return render_status(StatusCode::BAD_REQUEST, &c, &page);
    }
    // What the citizen typed, checked here so that each problem is said in the page's language
    // with the field in words (the service checks again).
    let typed = crate::input::id_number("id_number", &f.id_number)
        .and_then(|_| crate::input::phone("phone", &f.phone))
        .and_then(|_| crate::input::new_password("password", &f.password));
    if let Err(bad) = typed {
        let msg = bad.message(c.en);
        let mut r = register_form(&c, Some(&msg), &f.id_number, &f.phone);
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return r;
    }
    if f.password != f.password2 {
        return register_form(
            &c,
            Some(c.t(
                "Hai mật khẩu không khớp: hãy gõ lại cùng một mật khẩu ở ô thứ hai.",
                "The two passwords differ: type the same password in the second box.",
            )),
            &f.id_number,
            &f.phone,
        );
    }
    match s.authority.register_eid(&f.id_number, &f.phone, &f.password, client::ip(client)).await {
        Ok(a) => match start_session(&s, "citizen", &a.id_number).await {
            Ok(cookie) => redirect_with("/me?done=registered", &[cookie]),
            Err(r) => r,
        },
        Err(e) if matches!(e, AuthorityError::Throttled(_) | AuthorityError::Busy(_)) => {
            refused_attempt(&c, &e, |m| register_form(&c, Some(m), &f.id_number, &f.phone)).unwrap_or_default()
        }
        Err(e) => {
            let msg = crate::input::refusal(c.lang(), &e.to_string());
            let mut r = register_form(&c, Some(&msg), &f.id_number, &f.phone);
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}
