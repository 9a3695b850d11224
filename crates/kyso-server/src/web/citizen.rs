//! The citizen journey (Hà Nội 2025's steps): log in → level 2? (else: where to go) → choose a
//! licensed provider → confirm personal data → set a PIN and activate → my certificates (details,
//! renew, revoke) → sign a PDF (download it signed) → verify a document (`/verify`).

use super::client::{self, refused_attempt, ClientAddr};
use super::{bad_csrf, ctx, end_session, esc, forbidden, page, redirect_with, start_session, vn_datetime, Ctx, Who};
use crate::input::{Form, Query};
use crate::AppState;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use kyso_access::{decide, Action, Principal, Resource, Role, Scope};
use kyso_authority::accounts::Person;
use kyso_authority::{AuthorityError, IssueRequest};
use kyso_custody::Pin;
use kyso_pki::CitizenId;
use kyso_store::accounts::EidAccountRow;
use kyso_store::CertRow;
use serde::Deserialize;
use std::fmt::Write as _;

/// Largest PDF accepted by the signing form.
pub const MAX_PDF: usize = 20 << 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/register", get(register_page).post(register))
        .route("/logout", post(logout))
        .route("/me", get(me))
        .route("/me/provider", get(choose_provider))
        .route("/me/confirm", get(confirm))
        .route("/me/activate", get(activate_page).post(activate))
        .route("/me/enrol/{ticket}", get(super::otp::enrol))
        .route("/me/certificates", get(certificates))
        .route("/me/certificates/{serial}", get(certificate))
        .route("/me/certificates/{serial}/renew", post(renew))
        .route("/me/certificates/{serial}/revoke", post(revoke))
        .route("/me/sign", get(sign_page).post(sign).layer(DefaultBodyLimit::max(MAX_PDF + (64 << 10))))
}

#[derive(Deserialize, Default)]
pub struct Q {
    lang: Option<String>,
    provider: Option<String>,
    confirmed: Option<String>,
    done: Option<String>,
    err: Option<String>,
}

fn principal(a: &EidAccountRow) -> Principal {
    Principal { subject: "citizen".into(), role: Role::Citizen, scope: Scope::Person(a.id_number.clone()) }
}

fn masked(id: &str) -> String {
    CitizenId::parse(id).map(|i| i.masked()).unwrap_or_default()
}

fn err_box(msg: &str) -> String {
    format!("<p class=\"err\" role=\"alert\">{}</p>", esc(msg))
}

/// The logged-in citizen, allowed to do `action` on their own account; else the response to send.
fn citizen_for(c: &Ctx, action: Action) -> Result<&EidAccountRow, Response> {
    match c.citizen() {
        Some(a) => {
            decide(&principal(a), action, &Resource::Person { id_number: &a.id_number, area: None })
                .map_err(|_| forbidden(c))?;
            Ok(a)
        }
        None if c.staff().is_some() => Err(forbidden(c)),
        None => Err(Redirect::to("/login").into_response()),
    }
}

/// A citizen's form post: the CSRF token first, then the access decision.
fn citizen_post<'a>(c: &'a Ctx, csrf: &str, action: Action) -> Result<&'a EidAccountRow, Response> {
    if !c.csrf_valid(csrf) {
        return Err(bad_csrf(c));
    }
    citizen_for(c, action)
}

async fn person_of(s: &AppState, a: &EidAccountRow) -> Option<Person> {
    let id = CitizenId::parse(&a.id_number).ok()?;
    s.authority.person(&id).await.ok().flatten()
}

// ---- login, registration ----

#[derive(Deserialize)]
struct LoginForm {
    csrf: String,
    id_number: String,
    password: String,
}

fn login_form(c: &Ctx, error: Option<&str>, id: &str) -> Response {
    let body = format!(
        "{err}<form method=\"post\" action=\"/login\" class=\"card\">{csrf}\
<label for=\"id\">{l_id}</label><input id=\"id\" name=\"id_number\" type=\"text\" inputmode=\"numeric\" autocomplete=\"username\" maxlength=\"12\" value=\"{id}\" required>\
<label for=\"pw\">{l_pw}</label><input id=\"pw\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
<button type=\"submit\">{go}</button></form>\
<p>{no_acct} <a href=\"/register\">{reg}</a></p><p class=\"muted\"><a href=\"/staff/login\">{staff}</a> · <a href=\"/verify\">{verify}</a></p>",
        err = error.map(err_box).unwrap_or_default(),
        csrf = c.csrf_field(),
        l_id = c.t("Số định danh cá nhân (12 số)", "Personal ID number (12 digits)"),
        l_pw = c.t("Mật khẩu", "Password"),
        go = c.t("Đăng nhập", "Log in"),
        no_acct = c.t("Chưa có tài khoản?", "No account yet?"),
        reg = c.t("Đăng ký tài khoản định danh điện tử mức 1", "Register a level-1 e-ID account"),
        staff = c.t("Cán bộ đăng nhập tại đây", "Staff log in here"),
        verify = c.t("Kiểm tra chữ ký trên tài liệu", "Verify a signed document"),
        id = esc(id),
    );
    page(c, c.t("Đăng nhập", "Log in"), &body)
}

async fn login_page(State(s): State<AppState>, h: HeaderMap, Query(q): Query<Q>) -> Response {
    let c = ctx(&s, &h, q.lang.as_deref()).await;
    if c.citizen().is_some() {
        return Redirect::to("/me").into_response();
    }
    login_form(&c, None, "")
}

async fn login(
    State(s): State<AppState>,
    h: HeaderMap,
    client: Option<Extension<ClientAddr>>,
    Form(f): Form<LoginForm>,
) -> Response {
    let c = ctx(&s, &h, None).await;
    if !c.csrf_valid(&f.csrf) {
        return bad_csrf(&c);
    }
    match s.authority.citizen_login(&f.id_number, &f.password, client::ip(client)).await {
        Ok(Some(a)) => {
            tracing::info!(citizen = %masked(&a.id_number), "citizen login");
            match start_session(&s, "citizen", &a.id_number).await {
                Ok(cookie) => redirect_with("/me", &[cookie]),
                Err(r) => r,
            }
        }
        Ok(None) => {
            let mut r = login_form(
                &c,
                Some(c.t("Số định danh hoặc mật khẩu không đúng.", "Wrong ID number or password.")),
                &f.id_number,
            );
            *r.status_mut() = StatusCode::UNAUTHORIZED;
            r
        }
        Err(e) => refused_attempt(&c, &e, |m| login_form(&c, Some(m), &f.id_number)).unwrap_or_else(|| {
            tracing::error!(error = %e, "login failed");
            let mut r = login_form(
                &c,
                Some(c.t("Hệ thống đang bận, vui lòng thử lại.", "The system is busy; please retry.")),
                &f.id_number,
            );
            *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            r
        }),
    }
}

#[derive(Deserialize)]
struct RegisterForm {
    csrf: String,
    id_number: String,
    phone: String,
    password: String,
    password2: String,
}

fn register_form(c: &Ctx, error: Option<&str>, id: &str, phone: &str) -> Response {
    let body = format!(
        "{err}<p>{intro}</p><form method=\"post\" action=\"/register\" class=\"card\">{csrf}\
<label for=\"id\">{l_id}</label><input id=\"id\" name=\"id_number\" type=\"text\" inputmode=\"numeric\" maxlength=\"12\" autocomplete=\"username\" value=\"{id}\" required>\
<label for=\"phone\">{l_phone}</label><input id=\"phone\" name=\"phone\" type=\"tel\" autocomplete=\"tel\" value=\"{phone}\" required>\
<label for=\"pw\">{l_pw}</label><input id=\"pw\" name=\"password\" type=\"password\" autocomplete=\"new-password\" minlength=\"8\" required>\
<p class=\"muted\">{pw_hint}</p>\
<label for=\"pw2\">{l_pw2}</label><input id=\"pw2\" name=\"password2\" type=\"password\" autocomplete=\"new-password\" required>\
<button type=\"submit\">{go}</button></form><p><a href=\"/login\">{have}</a></p>",
        err = error.map(err_box).unwrap_or_default(),
        intro = c.t(
            "Tài khoản mức 1 do bạn tự đăng ký. Để tạo chữ ký số, bạn cần tài khoản mức 2: cán bộ tại điểm hỗ trợ sẽ xác thực trực tiếp (thẻ căn cước gắn chip và khuôn mặt).",
            "You register a level-1 account yourself. A signing certificate needs level 2: staff at a support point verify you in person (chip ID card and face)."
        ),
        csrf = c.csrf_field(),
        l_id = c.t("Số định danh cá nhân (12 số)", "Personal ID number (12 digits)"),
        l_phone = c.t("Số điện thoại di động", "Mobile phone number"),
        l_pw = c.t("Mật khẩu", "Password"),
        pw_hint = c.t("Ít nhất 8 ký tự; nên dùng một cụm từ dễ nhớ.", "At least 8 characters; a memorable phrase works well."),
        l_pw2 = c.t("Nhập lại mật khẩu", "Repeat the password"),
        go = c.t("Đăng ký", "Register"),
        have = c.t("Đã có tài khoản? Đăng nhập", "Already registered? Log in"),
        id = esc(id),
        phone = esc(phone),
    );
    page(c, c.t("Đăng ký tài khoản", "Register"), &body)
}

async fn register_page(State(s): State<AppState>, h: HeaderMap, Query(q): Query<Q>) -> Response {
    let c = ctx(&s, &h, q.lang.as_deref()).await;
    register_form(&c, None, "", "")
}

async fn register(
    State(s): State<AppState>,
    h: HeaderMap,
    client: Option<Extension<ClientAddr>>,
    Form(f): Form<RegisterForm>,
) -> Response {
    let c = ctx(&s, &h, None).await;
    if !c.csrf_valid(&f.csrf) {
        return bad_csrf(&c);
    }
    // The store's limits, as a 400 on the form in the page's language.
    let limits = crate::input::text(kyso_store::limits::ID_NUMBER, f.id_number.trim())
        .and_then(|_| crate::input::text(kyso_store::limits::PHONE, f.phone.trim()));
    if let Err(bad) = limits {
        let mut r = register_form(&c, Some(&bad.message(c.en)), "", "");
        *r.status_mut() = StatusCode::BAD_REQUEST;
        return r;
    }
    if f.password != f.password2 {
        return register_form(
            &c,
            Some(c.t("Hai mật khẩu không khớp.", "The passwords differ.")),
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
            let mut r = register_form(&c, Some(&e.to_string()), &f.id_number, &f.phone);
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
}

async fn logout(State(s): State<AppState>, h: HeaderMap, Form(f): Form<CsrfOnly>) -> Response {
    let c = ctx(&s, &h, None).await;
    if !c.csrf_valid(&f.csrf) {
        return bad_csrf(&c);
    }
    let to = if matches!(c.who, Some(Who::Staff(..))) { "/staff/login" } else { "/login" };
    let cookie = end_session(&s, &h).await;
    redirect_with(to, &[cookie])
}

// ---- overview ----

fn activation_label(c: &Ctx, a: &str, level: i64) -> &'static str {
    match a {
        "awaiting_approval" if level >= 2 => {
            c.t("Hồ sơ chờ phê duyệt đã được phê duyệt", "Pending application approved")
        }
        "awaiting_approval" => c.t("Hồ sơ đã nộp, đang chờ phê duyệt", "Application filed, awaiting approval"),
        "issued_with_card" => c.t(
            "Cấp cùng thẻ căn cước gắn chip (cấp mới, cấp đổi, cấp lại)",
            "Issued with a new or renewed chip ID card",
        ),
        "self_activated" => {
            c.t("Tự kích hoạt bằng thẻ căn cước gắn chip đã có", "Self-activated with an existing chip ID card")
        }
        _ => c.t("Tự đăng ký (mức 1)", "Self-registered (level 1)"),
    }
}

fn steps(c: &Ctx, level2: bool, has_cert: bool) -> String {
    let items = [
        (c.t("Tài khoản định danh điện tử mức 2", "Level-2 e-ID account"), level2),
        (c.t("Chọn nhà cung cấp dịch vụ chứng thực", "Choose a licensed provider"), has_cert),
        (c.t("Xác nhận thông tin cá nhân", "Confirm your personal data"), has_cert),
        (c.t("Đặt mã PIN và kích hoạt chứng thư số", "Set a PIN and activate the certificate"), has_cert),
        (c.t("Ký hồ sơ trực tuyến", "Sign online dossiers"), false),
    ];
    let now = items.iter().position(|(_, done)| !done).unwrap_or(items.len());
    let mut out = String::from("<ol class=\"steps\">");
    for (i, (label, done)) in items.iter().enumerate() {
        let class = if *done {
            " class=\"done\""
        } else if i == now {
            " class=\"now\""
        } else {
            ""
        };
        let mark = if *done { "✓ " } else { "" };
        let _ = write!(out, "<li{class}>{mark}{}</li>", esc(label));
    }
    out.push_str("</ol>");
    out
}

pub(super) fn weekdays(c: &Ctx, days: &str) -> String {
    let names_vi = ["", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"];
    let names_en = ["", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let names = if c.en { names_en } else { names_vi };
    days.chars()
        .filter_map(|d| d.to_digit(10))
        .filter_map(|d| names.get(d as usize))
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

async fn me(State(s): State<AppState>, h: HeaderMap, Query(q): Query<Q>) -> Response {
    let c = ctx(&s, &h, q.lang.as_deref()).await;
    let a = match citizen_for(&c, Action::ViewOwnAccount) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let person = person_of(&s, a).await;
    let creds = s.authority.store.credentials_of(&a.id_number).await.unwrap_or_default();
    let mut body = String::new();
    if q.done.as_deref() == Some("registered") {
        let _ =
            write!(body, "<p class=\"ok\">{}</p>", c.t("Đã tạo tài khoản mức 1.", "Your level-1 account is ready."));
    }
    let name = person.as_ref().map(|p| p.full_name.as_str()).unwrap_or("");
    let _ = write!(
        body,
        "<section class=\"card\"><dl><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd><span class=\"badge {}\">{} {}</span><br><span class=\"muted\">{}</span></dd></dl></section>",
        c.t("Họ và tên", "Full name"),
        esc(name),
        c.t("Số định danh", "ID number"),
        esc(&masked(&a.id_number)),
        c.t("Định danh điện tử", "e-ID"),
        if a.level >= 2 { "good" } else { "bad" },
        c.t("Mức", "Level"),
        a.level,
        activation_label(&c, &a.activation, a.level),
    );
    let has_cert = !creds.is_empty();
    let _ = write!(
        body,
        "<section class=\"card\"><h2>{}</h2>{}",
        c.t("Các bước", "Your steps"),
        steps(&c, a.level >= 2, has_cert)
    );
    if a.level < 2 {
        let _ = write!(
            body,
            "<p>{}</p><ul><li>{}</li><li>{}</li><li>{}</li></ul>",
            c.t(
                "Bạn cần tài khoản mức 2 để tạo chữ ký số. Hãy mang thẻ căn cước gắn chip đến một điểm hỗ trợ; cán bộ sẽ xác thực trực tiếp (thẻ và khuôn mặt). Tùy trường hợp:",
                "You need a level-2 account to create a signing certificate. Bring your chip ID card to a support point; staff verify you in person (card and face). Depending on your case:"
            ),
            c.t("đã nộp hồ sơ và đang chờ phê duyệt: hỏi cán bộ về tình trạng hồ sơ;", "you filed an application that awaits approval: ask staff about its status;"),
            c.t("đang làm thủ tục cấp mới, cấp đổi, cấp lại thẻ căn cước: tài khoản được cấp cùng thẻ;", "you are getting a new or renewed chip card: the account comes with the card;"),
            c.t("đã có thẻ căn cước gắn chip: kích hoạt ngay tại điểm hỗ trợ.", "you already have a chip card: activate at the support point now."),
        );
        let points = match &person {
            Some(p) => s.authority.store.support_points(Some(&p.commune_code)).await.unwrap_or_default(),
            None => Vec::new(),
        };
        if points.is_empty() {
            let _ = write!(
                body,
                "<p>{}</p>",
                c.t(
                    "Liên hệ Bộ phận Một cửa hoặc Công an cấp xã nơi cư trú.",
                    "Contact the one-stop desk or the commune police where you live."
                )
            );
        } else {
            let _ = write!(body, "<h3>{}</h3><ul>", c.t("Điểm hỗ trợ gần bạn", "Support points near you"));
            for p in points {
                let _ = write!(
                    body,
                    "<li><strong>{}</strong><br>{}<br><span class=\"muted\">{}: {}</span></li>",
                    esc(&p.name),
                    esc(&p.address),
                    c.t("Mở cửa", "Open"),
                    esc(&weekdays(&c, &p.opening_days))
                );
            }
            body.push_str("</ul>");
        }
    } else if !has_cert {
        let _ = write!(
            body,
            "<a class=\"btn\" href=\"/me/provider\">{}</a>",
            c.t("Tạo chữ ký số", "Create a signing certificate")
        );
    } else {
        let _ = write!(
            body,
            "<a class=\"btn\" href=\"/me/sign\">{}</a> <a class=\"btn secondary\" href=\"/me/certificates\">{}</a>",
            c.t("Ký tài liệu", "Sign a document"),
            c.t("Chứng thư số của tôi", "My certificates")
        );
    }
    let _ = write!(
        body,
        "</section><p><a href=\"/verify\">{}</a></p>",
        c.t("Kiểm tra chữ ký trên tài liệu", "Verify a signed document")
    );
    page(&c, c.t("Tài khoản của tôi", "My account"), &body)
}

// ---- choose provider → confirm → activate ----

fn providers(s: &AppState) -> Vec<(String, String)> {
    let mut v: Vec<_> =
        s.authority.cas().filter(|c| c.kind == "provider").map(|c| (c.id.clone(), c.display_name.clone())).collect();
    v.sort();
    v
}

fn require_level2(c: &Ctx, a: &EidAccountRow) -> Result<(), Response> {
    if a.level >= 2 {
        Ok(())
    } else {
        Err(page(
            c,
            c.t("Cần tài khoản mức 2", "Level 2 needed"),
            &format!(
                "<p class=\"err\">{}</p><p><a href=\"/me\">{}</a></p>",
                c.t(
                    "Chữ ký số chỉ cấp cho tài khoản định danh điện tử mức 2.",
                    "Signing certificates need a level-2 e-ID account."
                ),
                c.t("Xem hướng dẫn", "See what to do")
            ),
        ))
    }
}

async fn choose_provider(State(s): State<AppState>, h: HeaderMap, Query(q): Query<Q>) -> Response {
    let c = ctx(&s, &h, q.lang.as_deref()).await;
    let a = match citizen_for(&c, Action::ManageOwnCertificates) {
        Ok(a) => a,
        Err(r) => return r,
    };
    if let Err(r) = require_level2(&c, a) {
        return r;
    }
    let mut body = format!(
        "<p>{}</p><form method=\"get\" action=\"/me/confirm\" class=\"card\">",
        c.t("Chọn một tổ chức cung cấp dịch vụ chứng thực chữ ký số công cộng được cấp phép. Bạn có thể có chứng thư của nhiều nhà cung cấp.", "Choose a licensed public signature provider. You may hold certificates from several providers.")
    );
    for (i, (id, name)) in providers(&s).iter().enumerate() {
        let _ = write!(
            body,
            "<label class=\"choice\"><input type=\"radio\" name=\"provider\" value=\"{}\"{}>{}</label>",
            esc(id),
            if i == 0 { " required" } else { "" },
            esc(name)
        );
    }
    let _ = write!(body, "<button type=\"submit\">{}</button></form>", c.t("Tiếp tục", "Continue"));
    page(&c, c.t("Chọn nhà cung cấp", "Choose a provider"), &body)
}

fn provider_name(s: &AppState, id: &str) -> Option<String> {
    providers(s).into_iter().find(|(p, _)| p == id).map(|(_, n)| n)
}

async fn confirm(State(s): State<AppState>, h: HeaderMap, Query(q): Query<Q>) -> Response {
    let c = ctx(&s, &h, q.lang.as_deref()).await;
    let a = match citizen_for(&c, Action::ManageOwnCertificates) {
        Ok(a) => a,
        Err(r) => return r,
    };
    if let Err(r) = require_level2(&c, a) {
        return r;
    }
    let Some(pname) = q.provider.as_deref().and_then(|p| provider_name(&s, p)) else {
        return Redirect::to("/me/provider").into_response();
    };
    let Some(p) = person_of(&s, a).await else {
        return page(
            &c,
            c.t("Không tìm thấy dữ liệu", "No data"),
            &err_box(c.t("Không tìm thấy bạn trong dữ liệu dân cư.", "You are not in the population register here.")),
        );
    };
    let body = format!(
        "<p>{intro}</p><section class=\"card\"><dl>\
<dt>{l_name}</dt><dd>{name}</dd><dt>{l_id}</dt><dd>{id}</dd><dt>{l_dob}</dt><dd>{dob}</dd>\
<dt>{l_addr}</dt><dd>{commune}, {province}</dd><dt>{l_prov}</dt><dd>{pname}</dd></dl></section>\
<form method=\"get\" action=\"/me/activate\" class=\"card\"><input type=\"hidden\" name=\"provider\" value=\"{pid}\">\
<label class=\"choice\"><input type=\"checkbox\" name=\"confirmed\" value=\"1\" required>{agree}</label>\
<button type=\"submit\">{go}</button></form><p class=\"muted\">{wrong}</p>",
        intro = c.t(
            "Thông tin này sẽ ghi trên chứng thư số của bạn. Hãy kiểm tra kỹ.",
            "This is what your certificate will say. Check it carefully."
        ),
        l_name = c.t("Họ và tên", "Full name"),
        l_id = c.t("Số định danh", "ID number"),
        l_dob = c.t("Ngày sinh", "Date of birth"),
        l_addr = c.t("Nơi cư trú", "Residence"),
        l_prov = c.t("Nhà cung cấp", "Provider"),
        name = esc(&p.full_name),
        id = esc(&p.id.masked()),
        // dd/mm/yyyy, as on the chip card
        dob = esc(&{
            let d: Vec<&str> = p.date_of_birth.split('-').collect();
            if d.len() == 3 {
                format!("{}/{}/{}", d[2], d[1], d[0])
            } else {
                p.date_of_birth.clone()
            }
        }),
        commune = esc(&p.commune_name),
        province = esc(&p.province_name),
        pname = esc(&pname),
        pid = esc(q.provider.as_deref().unwrap_or("")),
        agree = c.t("Tôi xác nhận thông tin trên là đúng.", "I confirm that this information is correct."),
        go = c.t("Xác nhận", "Confirm"),
        wrong = c.t(
            "Thông tin sai? Liên hệ Công an cấp xã để điều chỉnh dữ liệu dân cư trước.",
            "Something wrong? Ask the commune police to correct the register first."
        ),
    );
    page(&c, c.t("Xác nhận thông tin", "Confirm your data"), &body)
}

fn activate_form(c: &Ctx, provider: &str, pname: &str, error: Option<&str>) -> Response {
    let body = format!(
        "{err}<p>{intro}</p><form method=\"post\" action=\"/me/activate\" class=\"card\">{csrf}\
<input type=\"hidden\" name=\"provider\" value=\"{pid}\"><input type=\"hidden\" name=\"confirmed\" value=\"1\">\
<p><strong>{pname}</strong></p>\
<label for=\"pin\">{l_pin}</label><input id=\"pin\" name=\"pin\" type=\"password\" inputmode=\"numeric\" pattern=\"[0-9]{{6}}\" maxlength=\"6\" autocomplete=\"new-password\" required>\
<label for=\"pin2\">{l_pin2}</label><input id=\"pin2\" name=\"pin2\" type=\"password\" inputmode=\"numeric\" pattern=\"[0-9]{{6}}\" maxlength=\"6\" autocomplete=\"new-password\" required>\
<button type=\"submit\">{go}</button></form>",
        err = error.map(err_box).unwrap_or_default(),
        intro = c.t(
            "Mã PIN gồm 6 chữ số bảo vệ khóa ký của bạn; chỉ bạn biết mã này — cán bộ hỗ trợ không bao giờ hỏi mã PIN. Nhập sai 5 lần, chứng thư bị khóa.",
            "A 6-digit PIN protects your signing key; only you know it — support staff never ask for it. After 5 wrong PINs the credential locks."
        ),
        csrf = c.csrf_field(),
        pid = esc(provider),
        pname = esc(pname),
        l_pin = c.t("Mã PIN (6 chữ số)", "PIN (6 digits)"),
        l_pin2 = c.t("Nhập lại mã PIN", "Repeat the PIN"),
        go = c.t("Kích hoạt chữ ký số", "Activate my signature"),
    );
    page(c, c.t("Đặt mã PIN và kích hoạt", "Set a PIN and activate"), &body)
}

async fn activate_page(State(s): State<AppState>, h: HeaderMap, Query(q): Query<Q>) -> Response {
    let c = ctx(&s, &h, q.lang.as_deref()).await;
    let a = match citizen_for(&c, Action::ManageOwnCertificates) {
        Ok(a) => a,
        Err(r) => return r,
    };
    if let Err(r) = require_level2(&c, a) {
        return r;
    }
    let provider = q.provider.clone().unwrap_or_default();
    let Some(pname) = provider_name(&s, &provider) else { return Redirect::to("/me/provider").into_response() };
    if q.confirmed.as_deref() != Some("1") {
        return Redirect::to(&format!("/me/confirm?provider={provider}")).into_response();
    }
    activate_form(&c, &provider, &pname, None)
}

#[derive(Deserialize)]
struct ActivateForm {
    csrf: String,
    provider: String,
    confirmed: Option<String>,
    pin: String,
    pin2: String,
}

async fn activate(State(s): State<AppState>, h: HeaderMap, Form(f): Form<ActivateForm>) -> Response {
    let c = ctx(&s, &h, None).await;
    let a = match citizen_post(&c, &f.csrf, Action::ManageOwnCertificates) {
        Ok(a) => a,
        Err(r) => return r,
    };
    if let Err(r) = require_level2(&c, a) {
        return r;
    }
    let Some(pname) = provider_name(&s, &f.provider) else { return Redirect::to("/me/provider").into_response() };
    if f.confirmed.as_deref() != Some("1") {
        return Redirect::to(&format!("/me/confirm?provider={}", f.provider)).into_response();
    }
    let fail = |msg: &str| {
        let mut r = activate_form(&c, &f.provider, &pname, Some(msg));
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        r
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
    let Some(p) = person_of(&s, a).await else {
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
    match s.authority.activate(req, &pin).await {
        Ok(act) => {
            tracing::info!(citizen = %p.id.masked(), serial = %act.certificate.serial, "certificate activated on the web");
            match act.otpauth_uri {
                Some(uri) => super::otp::after_activation(&s, &c, &pname, uri, &act.certificate.serial),
                None => Redirect::to(&format!("/me/certificates?done={}", act.certificate.serial)).into_response(),
            }
        }
        Err(e) => fail(&e.to_string()),
    }
}

// ---- my certificates ----

fn cert_status(c: &Ctx, cert: &CertRow, locked: bool) -> (&'static str, &'static str) {
    let now = kyso_store::now();
    if cert.revoked_at.is_some() {
        if cert.superseded_by.is_some() {
            ("bad", c.t("Đã gia hạn (thay thế)", "Renewed (superseded)"))
        } else {
            ("bad", c.t("Đã thu hồi", "Revoked"))
        }
    } else if cert.not_after < now {
        ("bad", c.t("Hết hạn", "Expired"))
    } else if locked {
        ("bad", c.t("Bị khóa (sai PIN/OTP 5 lần)", "Locked (5 wrong PINs or codes)"))
    } else {
        ("good", c.t("Đang hiệu lực", "Valid"))
    }
}

fn vn_date_of(unix: i64) -> String {
    vn_datetime(unix).split(' ').next().unwrap_or_default().to_string()
}

async fn certificates(State(s): State<AppState>, h: HeaderMap, Query(q): Query<Q>) -> Response {
    let c = ctx(&s, &h, q.lang.as_deref()).await;
    let a = match citizen_for(&c, Action::ManageOwnCertificates) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let mut body = String::new();
    if let Some(serial) = &q.done {
        let _ = write!(
            body,
            "<p class=\"ok\" role=\"status\">{} <code>{}</code></p>",
            c.t("Đã kích hoạt chứng thư số", "Certificate activated:"),
            esc(serial)
        );
    }
    if let Some(e) = &q.err {
        body.push_str(&err_box(e));
    }
    let creds = s.authority.store.credentials_of(&a.id_number).await.unwrap_or_default();
    let certs = s.authority.store.certificates(Some(&a.id_number), None, 50, 0).await.unwrap_or_default();
    if certs.is_empty() {
        let _ = write!(
            body,
            "<p>{}</p><a class=\"btn\" href=\"/me/provider\">{}</a>",
            c.t("Bạn chưa có chứng thư số.", "You have no certificate yet."),
            c.t("Tạo chữ ký số", "Create a signing certificate")
        );
    }
    for cert in &certs {
        let locked = creds.iter().any(|cr| cr.cert_serial == cert.serial && cr.status == "locked");
        let (class, label) = cert_status(&c, cert, locked);
        let _ = write!(
            body,
            "<section class=\"card\"><p><span class=\"badge {class}\">{label}</span> <strong>{prov}</strong></p><dl><dt>{l_until}</dt><dd>{until}</dd><dt>{l_serial}</dt><dd><code>{serial}</code></dd></dl><p><a href=\"/me/certificates/{serial}\">{details}</a></p></section>",
            prov = esc(&provider_name(&s, &cert.issuer_id).unwrap_or_else(|| cert.issuer_id.clone())),
            l_until = c.t("Hiệu lực đến", "Valid until"),
            until = vn_date_of(cert.not_after),
            l_serial = c.t("Số hiệu", "Serial"),
            serial = esc(&cert.serial),
            details = c.t("Chi tiết, gia hạn, thu hồi", "Details, renew, revoke"),
        );
    }
    let _ = write!(body, "<p><a href=\"/me\">{}</a></p>", c.t("← Tài khoản của tôi", "← My account"));
    page(&c, c.t("Chứng thư số của tôi", "My certificates"), &body)
}

async fn own_cert(s: &AppState, a: &EidAccountRow, serial: &str) -> Option<CertRow> {
    let cert = s.authority.certificate(serial).await.ok()?;
    (cert.id_number.as_deref() == Some(a.id_number.as_str())).then_some(cert)
}

async fn certificate(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(serial): Path<String>,
    Query(q): Query<Q>,
) -> Response {
    let c = ctx(&s, &h, q.lang.as_deref()).await;
    let a = match citizen_for(&c, Action::ManageOwnCertificates) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(cert) = own_cert(&s, a, &serial).await else {
        return (StatusCode::NOT_FOUND, page(&c, c.t("Không tìm thấy", "Not found"), "")).into_response();
    };
    let locked = s
        .authority
        .store
        .credentials_of(&a.id_number)
        .await
        .unwrap_or_default()
        .iter()
        .any(|cr| cr.cert_serial == cert.serial && cr.status == "locked");
    let (class, label) = cert_status(&c, &cert, locked);
    let fp = kyso_pki::alg::sha256(&cert.der).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":");
    let active = cert.revoked_at.is_none() && cert.not_after > kyso_store::now();
    let mut body = format!(
        "<section class=\"card\"><p><span class=\"badge {class}\">{label}</span></p><dl>\
<dt>{l_subject}</dt><dd>{subject}</dd><dt>{l_prov}</dt><dd>{prov}</dd><dt>{l_from}</dt><dd>{from}</dd><dt>{l_until}</dt><dd>{until}</dd>\
<dt>{l_serial}</dt><dd><code>{serial}</code></dd><dt>SHA-256</dt><dd><code style=\"font-size:.8rem\">{fp}</code></dd></dl></section>",
        l_subject = c.t("Chủ thể", "Subject"),
        subject = esc(&cert.subject_cn),
        l_prov = c.t("Nhà cung cấp", "Provider"),
        prov = esc(&provider_name(&s, &cert.issuer_id).unwrap_or_else(|| cert.issuer_id.clone())),
        l_from = c.t("Hiệu lực từ", "Valid from"),
        from = vn_date_of(cert.not_before),
        l_until = c.t("Hiệu lực đến", "Valid until"),
        until = vn_date_of(cert.not_after),
        l_serial = c.t("Số hiệu", "Serial"),
        serial = esc(&cert.serial),
    );
    if active {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/me/certificates/{serial}/renew\" class=\"card\">{csrf}<h2>{h_renew}</h2><p class=\"muted\">{p_renew}</p><button type=\"submit\">{b_renew}</button></form>\
<form method=\"post\" action=\"/me/certificates/{serial}/revoke\" class=\"card\">{csrf}<h2>{h_revoke}</h2><p class=\"muted\">{p_revoke}</p>\
<label for=\"reason\">{l_reason}</label><select id=\"reason\" name=\"reason\"><option value=\"1\">{r1}</option><option value=\"3\">{r3}</option><option value=\"5\">{r5}</option><option value=\"0\">{r0}</option></select>\
<label class=\"choice\"><input type=\"checkbox\" name=\"sure\" value=\"1\" required>{sure}</label><button type=\"submit\" class=\"secondary\">{b_revoke}</button></form>",
            serial = esc(&cert.serial),
            csrf = c.csrf_field(),
            h_renew = c.t("Gia hạn", "Renew"),
            p_renew = c.t("Cấp chứng thư mới cho cùng khóa và mã PIN; chứng thư cũ được thay thế.", "A new certificate for the same key and PIN; the old one is superseded."),
            b_renew = c.t("Gia hạn chứng thư", "Renew the certificate"),
            h_revoke = c.t("Thu hồi", "Revoke"),
            p_revoke = c.t("Chữ ký tạo sau khi thu hồi không còn giá trị. Không thể hoàn tác.", "Signatures made after revocation are not valid. This cannot be undone."),
            l_reason = c.t("Lý do", "Reason"),
            r1 = c.t("Lộ mã PIN hoặc mất thiết bị", "PIN or device compromised"),
            r3 = c.t("Thay đổi thông tin", "Details changed"),
            r5 = c.t("Không còn sử dụng", "No longer used"),
            r0 = c.t("Lý do khác", "Other"),
            sure = c.t("Tôi hiểu việc thu hồi là vĩnh viễn.", "I understand revocation is permanent."),
            b_revoke = c.t("Thu hồi chứng thư", "Revoke the certificate"),
        );
    }
    let _ =
        write!(body, "<p><a href=\"/me/certificates\">{}</a></p>", c.t("← Chứng thư số của tôi", "← My certificates"));
    page(&c, c.t("Chi tiết chứng thư số", "Certificate details"), &body)
}

async fn renew(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(serial): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let c = ctx(&s, &h, None).await;
    let a = match citizen_post(&c, &f.csrf, Action::ManageOwnCertificates) {
        Ok(a) => a,
        Err(r) => return r,
    };
    if own_cert(&s, a, &serial).await.is_none() {
        return forbidden(&c);
    }
    match s.authority.renew(&serial, false, &format!("citizen {}", masked(&a.id_number))).await {
        Ok(new) => Redirect::to(&format!("/me/certificates/{}", new.serial)).into_response(),
        Err(e) => Redirect::to(&format!("/me/certificates?err={}", urlencode(&e.to_string()))).into_response(),
    }
}

#[derive(Deserialize)]
struct RevokeForm {
    csrf: String,
    reason: u8,
    sure: Option<String>,
}

async fn revoke(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(serial): Path<String>,
    Form(f): Form<RevokeForm>,
) -> Response {
    let c = ctx(&s, &h, None).await;
    let a = match citizen_post(&c, &f.csrf, Action::ManageOwnCertificates) {
        Ok(a) => a,
        Err(r) => return r,
    };
    if own_cert(&s, a, &serial).await.is_none() || !matches!(f.reason, 0 | 1 | 3 | 5) || f.sure.is_none() {
        return forbidden(&c);
    }
    match s.authority.revoke(&serial, f.reason, &format!("citizen {}", masked(&a.id_number))).await {
        Ok(_) => Redirect::to(&format!("/me/certificates/{serial}")).into_response(),
        Err(e) => Redirect::to(&format!("/me/certificates?err={}", urlencode(&e.to_string()))).into_response(),
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

// ---- sign a document ----

async fn sign_form(s: &AppState, c: &Ctx, a: &EidAccountRow, error: Option<&str>) -> Response {
    let creds = s.authority.store.credentials_of(&a.id_number).await.unwrap_or_default();
    let mut options = String::new();
    let mut otp = false;
    for cr in creds.iter().filter(|c| c.status == "active") {
        if let Ok(Some(cert)) = s.authority.store.certificate(&cr.cert_serial).await {
            if cert.revoked_at.is_none() && cert.not_after > kyso_store::now() {
                let _ = write!(
                    options,
                    "<option value=\"{}\">{} — {} {}</option>",
                    esc(&cr.id),
                    esc(&provider_name(s, &cr.provider_id).unwrap_or_else(|| cr.provider_id.clone())),
                    c.t("đến", "until"),
                    vn_date_of(cert.not_after)
                );
                otp |= cr.totp_secret.is_some();
            }
        }
    }
    if options.is_empty() {
        return page(
            c,
            c.t("Ký tài liệu", "Sign a document"),
            &format!(
                "{}<p>{}</p><a class=\"btn\" href=\"/me/provider\">{}</a>",
                // The error that just made the last credential unusable (locked) stays visible.
                error.map(err_box).unwrap_or_default(),
                c.t("Bạn chưa có chứng thư số đang hiệu lực.", "You have no valid certificate."),
                c.t("Tạo chữ ký số", "Create a signing certificate")
            ),
        );
    }
    let body = format!(
        "{err}<form method=\"post\" action=\"/me/sign\" enctype=\"multipart/form-data\" class=\"card\">{csrf}\
<label for=\"file\">{l_file}</label><input id=\"file\" name=\"file\" type=\"file\" accept=\"application/pdf,.pdf\" required>\
<label for=\"cred\">{l_cred}</label><select id=\"cred\" name=\"credential\">{options}</select>\
<label for=\"reason\">{l_reason}</label><input id=\"reason\" name=\"reason\" type=\"text\" maxlength=\"120\" placeholder=\"{ph_reason}\">\
<label for=\"pin\">{l_pin}</label><input id=\"pin\" name=\"pin\" type=\"password\" inputmode=\"numeric\" pattern=\"[0-9]{{6}}\" maxlength=\"6\" autocomplete=\"off\" required>{otp}\
<button type=\"submit\">{go}</button></form><p class=\"muted\">{note}</p><p><a href=\"/me\">{back}</a></p>",
        err = error.map(err_box).unwrap_or_default(),
        csrf = c.csrf_field(),
        l_file = c.t("Tệp PDF cần ký (tối đa 20 MB)", "PDF to sign (up to 20 MB)"),
        l_cred = c.t("Chứng thư số", "Certificate"),
        l_reason = c.t("Lý do ký (không bắt buộc)", "Reason (optional)"),
        ph_reason = c.t("Ví dụ: Nộp hồ sơ dịch vụ công", "e.g. Submitting a public-service dossier"),
        l_pin = c.t("Mã PIN", "PIN"),
        // Providers that require a second factor: the code from the app set up at activation.
        otp = if otp {
            format!(
                "<label for=\"otp\">{}</label><input id=\"otp\" name=\"otp\" type=\"text\" inputmode=\"numeric\" \
pattern=\"[0-9]{{6}}\" maxlength=\"6\" autocomplete=\"one-time-code\">",
                c.t("Mã OTP từ ứng dụng xác thực (nếu nhà cung cấp yêu cầu)", "One-time code from your authenticator app (if the provider asks for one)")
            )
        } else {
            String::new()
        },
        go = c.t("Ký và tải về", "Sign and download"),
        note = c.t("Chữ ký PAdES có dấu thời gian và dữ liệu kiểm tra hiệu lực (B-LT); các chữ ký trước đó trong tệp vẫn giữ nguyên giá trị.", "A time-stamped PAdES signature with its validation data (B-LT); earlier signatures in the file stay valid."),
        back = c.t("← Tài khoản của tôi", "← My account"),
    );
    page(c, c.t("Ký tài liệu", "Sign a document"), &body)
}

async fn sign_page(State(s): State<AppState>, h: HeaderMap, Query(q): Query<Q>) -> Response {
    let c = ctx(&s, &h, q.lang.as_deref()).await;
    let a = match citizen_for(&c, Action::SignDocument) {
        Ok(a) => a,
        Err(r) => return r,
    };
    sign_form(&s, &c, a, None).await
}

/// `hồ sơ.pdf` → `hồ sơ-da-ky.pdf` as an RFC 6266 header with an ASCII fallback.
fn attachment(filename: &str) -> String {
    let stem = filename.trim_end_matches(".pdf").trim_end_matches(".PDF");
    let stem = if stem.is_empty() { "tai-lieu" } else { stem };
    let utf8 = format!("{stem}-da-ky.pdf");
    let ascii: String =
        utf8.chars().map(|ch| if ch.is_ascii_alphanumeric() || "-_.".contains(ch) { ch } else { '_' }).collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", urlencode(&utf8))
}

async fn sign(
    State(s): State<AppState>,
    h: HeaderMap,
    mp: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let c = ctx(&s, &h, None).await;
    let a = match citizen_for(&c, Action::SignDocument) {
        Ok(a) => a.clone(),
        Err(r) => return r,
    };
    use super::multipart as mpart;
    let ct = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let limits = mpart::Limits { max_fields: 16, max_text: 4 << 10, max_file: MAX_PDF, file_field: "file" };
    let form = match mpart::check_content_type(ct) {
        Ok(()) => mpart::read(mp, limits).await,
        Err(e) => Err(e),
    };
    let form = match form {
        Ok(f) => f,
        Err(e) => {
            let mut r = sign_form(&s, &c, &a, Some(&e.message(c.en))).await;
            *r.status_mut() = e.status();
            return r;
        }
    };
    let field = |n: &str| form.field(n);
    if !c.csrf_valid(&field("csrf").unwrap_or_default()) {
        return bad_csrf(&c);
    }
    let Some(file) = form.file.as_ref().filter(|f| !f.data.is_empty()) else {
        return sign_form(&s, &c, &a, Some(c.t("Hãy chọn một tệp PDF.", "Choose a PDF file."))).await;
    };
    if !file.data.starts_with(b"%PDF-") {
        return sign_form(
            &s,
            &c,
            &a,
            Some(c.t(
                "Tệp không phải PDF (không bắt đầu bằng %PDF-).",
                "This is not a PDF (it does not start with %PDF-).",
            )),
        )
        .await;
    }
    let Ok(pin) = Pin::parse(&field("pin").unwrap_or_default()) else {
        return sign_form(&s, &c, &a, Some(c.t("Mã PIN gồm đúng 6 chữ số.", "The PIN is exactly 6 digits."))).await;
    };
    let credential = field("credential").unwrap_or_default();
    let reason = field("reason").filter(|r| !r.is_empty());
    let otp = field("otp").filter(|o| !o.is_empty());
    match s
        .authority
        .sign_pdf(&a.id_number, &credential, &pin, otp.as_deref(), &file.data, reason, kyso_validate::Level::BLt)
        .await
    {
        Ok(signed) => {
            tracing::info!(citizen = %masked(&a.id_number), bytes = signed.len(), "PDF signed on the web");
            (
                [
                    (header::CONTENT_TYPE, "application/pdf".to_string()),
                    (header::CONTENT_DISPOSITION, attachment(file.filename.as_deref().unwrap_or("tai-lieu.pdf"))),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
                signed,
            )
                .into_response()
        }
        Err(kyso_authority::signing::SigningError::Overloaded(b)) => {
            let msg = if c.en {
                format!("The server is busy signing other documents; retry in {} s.", b.retry_after_secs)
            } else {
                format!("Máy chủ đang bận ký tài liệu khác; hãy thử lại sau {} giây.", b.retry_after_secs)
            };
            let mut r = sign_form(&s, &c, &a, Some(&msg)).await;
            *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            if let Ok(v) = b.retry_after_secs.to_string().parse() {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        Err(e) => {
            use kyso_authority::signing::SigningError as E;
            let msg = match &e {
                E::InvalidPin { remaining } if !c.en => format!("Mã PIN không đúng; còn {remaining} lần thử trước khi chứng thư bị khóa."),
                E::Locked if !c.en => "Chứng thư đã bị khóa do nhập sai mã PIN hoặc mã OTP 5 lần. Hãy đến điểm hỗ trợ để cán bộ xác thực lại trực tiếp và mở khóa.".to_string(),
                E::Busy if !c.en => "Đang có lần nhập mã PIN khác cho chứng thư này được kiểm tra; hãy thử lại sau vài giây.".to_string(),
                E::InvalidOtp if !c.en => "Mã xác thực một lần (OTP) không đúng, đã hết hạn hoặc đã dùng: hãy đợi mã tiếp theo trong ứng dụng.".to_string(),
                E::Authority(kyso_authority::AuthorityError::Busy(_)) if !c.en => "Máy chủ đang bận kiểm tra mã PIN của người khác; hãy thử lại sau vài giây.".to_string(),
                E::InvalidRequest(m) if !c.en && m.contains("revoked or expired") => "Chứng thư số của bạn đã bị thu hồi hoặc hết hạn: hãy gia hạn hoặc tạo chứng thư mới tại mục Chứng thư số của tôi.".to_string(),
                e => e.to_string(),
            };
            let mut r = sign_form(&s, &c, &a, Some(&msg)).await;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}
