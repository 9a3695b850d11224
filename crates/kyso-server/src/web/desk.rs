//! The support-desk console: staff log in, look a person up by ID number, see only what the step
//! needs (e-ID level, certificate status, the ID masked), verify level 2 in person, unlock a
//! locked credential, and record the support session (point, staff, steps, outcome). Results per
//! point and day feed the campaign tracker.

use super::citizen::urlencode;
use super::client::{self, refused_attempt, ClientAddr};
use super::{bad_csrf, ctx, esc, forbidden, page, redirect_with, start_session, vn_today, Ctx};
use crate::input::{Form, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use kyso_access::{decide, Action, Principal, Resource};
use kyso_authority::accounts::{OUTCOMES, STEPS};
use kyso_pki::CitizenId;
use kyso_store::accounts::StaffAccountRow;
use serde::Deserialize;
use std::fmt::Write as _;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/login", get(login_page).post(login))
        .route("/desk", get(desk))
        .route("/desk/lookup", post(lookup))
        .route("/desk/verify", post(verify))
        .route("/desk/unlock", post(unlock))
        .route("/desk/pending", post(pending))
        .route("/desk/session", post(session))
        .route("/desk/results", get(results))
}

#[derive(Deserialize, Default)]
pub struct Q {
    lang: Option<String>,
    ok: Option<String>,
    err: Option<String>,
}

fn staff_for(c: &Ctx) -> Result<(&StaffAccountRow, &Principal), Response> {
    match c.staff() {
        Some(x) => Ok(x),
        None if c.citizen().is_some() => Err(forbidden(c)),
        None => Err(Redirect::to("/staff/login").into_response()),
    }
}

/// A staff form post: the CSRF token first, then who is signed in.
fn staff_post<'a>(c: &'a Ctx, csrf: &str) -> Result<(&'a StaffAccountRow, &'a Principal), Response> {
    if !c.csrf_valid(csrf) {
        return Err(bad_csrf(c));
    }
    staff_for(c)
}

#[derive(Deserialize)]
struct LoginForm {
    csrf: String,
    username: String,
    password: String,
}

fn login_form(c: &Ctx, error: Option<&str>) -> Response {
    let body = format!(
        "{err}<form method=\"post\" action=\"/staff/login\" class=\"card\">{csrf}\
<label for=\"u\">{l_user}</label><input id=\"u\" name=\"username\" type=\"text\" autocomplete=\"username\" autocapitalize=\"none\" required>\
<label for=\"pw\">{l_pw}</label><input id=\"pw\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
<button type=\"submit\">{go}</button></form><p class=\"muted\"><a href=\"/login\">{citizen}</a></p>",
        err = error.map(|e| format!("<p class=\"err\" role=\"alert\">{}</p>", esc(e))).unwrap_or_default(),
        csrf = c.csrf_field(),
        l_user = c.t("Tên đăng nhập", "Username"),
        l_pw = c.t("Mật khẩu", "Password"),
        go = c.t("Đăng nhập", "Log in"),
        citizen = c.t("Người dân đăng nhập tại đây", "Citizens log in here"),
    );
    page(c, c.t("Cán bộ đăng nhập", "Staff log in"), &body)
}

async fn login_page(State(s): State<AppState>, h: HeaderMap, Query(q): Query<Q>) -> Response {
    let c = ctx(&s, &h, q.lang.as_deref()).await;
    if c.staff().is_some() {
        return Redirect::to("/desk").into_response();
    }
    login_form(&c, None)
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
    match s.authority.staff_login(&f.username, &f.password, client::ip(client)).await {
        Ok(Some((row, _))) => {
            tracing::info!(staff = %row.username, role = %row.role, "staff login");
            match start_session(&s, "staff", &row.username).await {
                Ok(cookie) => redirect_with("/desk", &[cookie]),
                Err(r) => r,
            }
        }
        Ok(None) => {
            let mut r =
                login_form(&c, Some(c.t("Tên đăng nhập hoặc mật khẩu không đúng.", "Wrong username or password.")));
            *r.status_mut() = StatusCode::UNAUTHORIZED;
            r
        }
        Err(e) => refused_attempt(&c, &e, |m| login_form(&c, Some(m))).unwrap_or_else(|| {
            tracing::error!(error = %e, "staff login failed");
            let mut r =
                login_form(&c, Some(c.t("Hệ thống đang bận, vui lòng thử lại.", "The system is busy; please retry.")));
            *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            r
        }),
    }
}

async fn point_line(s: &AppState, c: &Ctx, row: &StaffAccountRow) -> String {
    match &row.point_id {
        Some(id) => match s.authority.store.support_point(id).await.ok().flatten() {
            Some(p) => format!(
                "<p class=\"muted\">{}: <strong>{}</strong> — {} · <a href=\"/desk/points/{}/poster\">{}</a></p>",
                c.t("Điểm hỗ trợ", "Support point"),
                esc(&p.name),
                esc(&p.address),
                esc(&p.id),
                c.t("In áp phích mã QR hướng dẫn", "Print the guidance QR poster"),
            ),
            None => String::new(),
        },
        None => String::new(),
    }
}

fn lookup_form(c: &Ctx) -> String {
    format!(
        "<form method=\"post\" action=\"/desk/lookup\" class=\"card\">{csrf}<label for=\"id\">{l_id}</label>\
<input id=\"id\" name=\"id_number\" type=\"text\" inputmode=\"numeric\" maxlength=\"12\" autocomplete=\"off\" required>\
<p class=\"muted\">{hint}</p><button type=\"submit\">{go}</button></form>",
        csrf = c.csrf_field(),
        l_id = c.t("Số định danh trên thẻ căn cước của người dân", "ID number from the person's chip card"),
        hint =
            c.t("Chỉ tra cứu khi người dân có mặt và đồng ý.", "Look up only with the person present and consenting."),
        go = c.t("Tra cứu", "Look up"),
    )
}

async fn desk(State(s): State<AppState>, h: HeaderMap, Query(q): Query<Q>) -> Response {
    let c = ctx(&s, &h, q.lang.as_deref()).await;
    let (row, p) = match staff_for(&c) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut body = format!("<p>{} · {}</p>", esc(&row.display_name), esc(p.role.label_vi()));
    body.push_str(&point_line(&s, &c, row).await);
    if let Some(ok) = &q.ok {
        let _ = write!(body, "<p class=\"ok\" role=\"status\">{}</p>", esc(ok));
    }
    if let Some(e) = &q.err {
        let _ = write!(body, "<p class=\"err\" role=\"alert\">{}</p>", esc(e));
    }
    let desk_probe = Resource::Person { id_number: "", area: None };
    if decide(p, Action::LookUpCitizen, &desk_probe).is_ok()
        || matches!(p.role, kyso_access::Role::CommuneOfficer | kyso_access::Role::ProvinceOfficer)
    {
        body.push_str(&lookup_form(&c));
    }
    let _ = write!(
        body,
        "<p><a href=\"/desk/results\">{}</a> · <a href=\"/campaign\">{}</a> · <a href=\"/verify\">{}</a></p>",
        c.t("Kết quả hỗ trợ theo điểm và ngày", "Results per point and day"),
        c.t("Tiến độ chiến dịch", "Campaign progress"),
        c.t("Kiểm tra chữ ký", "Verify a signature"),
    );
    page(&c, c.t("Bàn hỗ trợ", "Support desk"), &body)
}

#[derive(Deserialize)]
struct LookupForm {
    csrf: String,
    id_number: String,
}

async fn lookup(State(s): State<AppState>, h: HeaderMap, Form(f): Form<LookupForm>) -> Response {
    let c = ctx(&s, &h, None).await;
    let (row, p) = match staff_post(&c, &f.csrf) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let id = match CitizenId::parse(f.id_number.trim()) {
        Ok(id) => id,
        Err(e) => return Redirect::to(&format!("/desk?err={}", urlencode(&format!("id_number: {e}")))).into_response(),
    };
    let person = s.authority.person(&id).await.ok().flatten();
    let area = person.as_ref().map(|x| x.area());
    if decide(p, Action::LookUpCitizen, &Resource::Person { id_number: id.expose(), area: area.as_ref() }).is_err() {
        return forbidden(&c);
    }
    // The look-up itself is audited: staff see personal status only with a reason.
    let ev = kyso_store::AuditEvent::new(
        &row.username,
        "desk.lookup",
        &id.masked(),
        row.point_id.clone().unwrap_or_default(),
    );
    if let Err(e) = s.authority.committer().commit(vec![kyso_store::Write::Audit(ev)]).await {
        tracing::error!(error = %e, "desk look-up not audited");
        return (StatusCode::SERVICE_UNAVAILABLE, "audit log unavailable; retry shortly\n").into_response();
    }
    let acct = s.authority.store.eid_account(id.expose()).await.ok().flatten();
    let creds = s.authority.store.credentials_of(id.expose()).await.unwrap_or_default();
    let now = kyso_store::now();
    let mut valid = 0;
    let mut locked = Vec::new();
    for cr in &creds {
        if let Ok(Some(cert)) = s.authority.store.certificate(&cr.cert_serial).await {
            if cert.revoked_at.is_none() && cert.not_after > now {
                valid += 1;
                if cr.status == "locked" {
                    locked.push(cr.id.clone());
                }
            }
        }
    }
    let mut body = format!(
        "<section class=\"card\"><dl><dt>{l_id}</dt><dd>{masked}</dd><dt>{l_reg}</dt><dd>{reg}</dd><dt>{l_eid}</dt><dd>{eid}</dd><dt>{l_cert}</dt><dd>{certs}</dd></dl></section>",
        l_id = c.t("Số định danh", "ID number"),
        masked = esc(&id.masked()),
        l_reg = c.t("Dữ liệu dân cư", "Register"),
        reg = match &person {
            Some(x) => format!("{} ✓ ({})", c.t("Có", "Found"), esc(&x.commune_name)),
            None => c.t("Không có — liên hệ Công an cấp xã", "Not found — refer to the commune police").to_string(),
        },
        l_eid = c.t("Tài khoản định danh", "e-ID account"),
        eid = match &acct {
            Some(a) => format!("<span class=\"badge {}\">{} {}</span>", if a.level >= 2 { "good" } else { "bad" }, c.t("Mức", "Level"), a.level),
            None => format!("<span class=\"badge bad\">{}</span>", c.t("Chưa đăng ký", "Not registered")),
        },
        l_cert = c.t("Chữ ký số", "Signing certificates"),
        certs = if valid == 0 {
            c.t("Chưa có chứng thư hiệu lực", "No valid certificate").to_string()
        } else {
            format!("{valid} {}{}", c.t("đang hiệu lực", "valid"), if locked.is_empty() { String::new() } else { format!(" · <strong>{}</strong>", c.t("bị khóa PIN", "PIN-locked")) })
        },
    );
    let hidden = format!("{}<input type=\"hidden\" name=\"id_number\" value=\"{}\">", c.csrf_field(), esc(id.expose()));
    if acct.as_ref().is_some_and(|a| a.level < 2) && person.is_some() {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/desk/verify\" class=\"card\">{hidden}<h2>{h}</h2>\
<label for=\"case\">{l_case}</label><select id=\"case\" name=\"activation\"><option value=\"self_activated\">{c3}</option><option value=\"issued_with_card\">{c2}</option><option value=\"awaiting_approval\">{c1}</option></select>\
<label for=\"method\">{l_method}</label><select id=\"method\" name=\"method\"><option value=\"chip card + face\">{m1}</option><option value=\"chip card + fingerprint\">{m2}</option></select>\
<label class=\"choice\"><input type=\"checkbox\" name=\"checked\" value=\"1\" required>{check}</label><button type=\"submit\">{go}</button></form>",
            h = c.t("Xác thực định danh mức 2", "Verify e-ID level 2"),
            l_case = c.t("Trường hợp", "Case"),
            c1 = c.t("Phê duyệt hồ sơ đang chờ", "Approve the pending application"),
            c2 = c.t("Cấp cùng thẻ căn cước gắn chip mới/đổi/cấp lại", "With a new or renewed chip card"),
            c3 = c.t("Tự kích hoạt với thẻ căn cước gắn chip đã có", "Existing chip card"),
            l_method = c.t("Phương thức xác thực", "Method"),
            m1 = c.t("Thẻ căn cước gắn chip + khuôn mặt", "Chip card + face"),
            m2 = c.t("Thẻ căn cước gắn chip + vân tay", "Chip card + fingerprint"),
            check = c.t("Tôi đã đối chiếu trực tiếp thẻ và khuôn mặt của người dân.", "I checked the card and the person's face in person."),
            go = c.t("Xác nhận mức 2", "Confirm level 2"),
        );
    }
    if acct.as_ref().is_some_and(|a| a.level < 2 && a.activation != "awaiting_approval") && person.is_some() {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/desk/pending\" class=\"card\">{hidden}<h2>{h}</h2><p class=\"muted\">{p}</p><button type=\"submit\" class=\"secondary\">{go}</button></form>",
            h = c.t("Chưa xác thực được hôm nay?", "Cannot verify today?"),
            p = c.t("Ghi nhận hồ sơ đăng ký đã nộp, đang chờ phê duyệt (trường hợp 1 của kế hoạch).", "Record that the application is filed and awaits approval (the plan's first case)."),
            go = c.t("Ghi nhận chờ phê duyệt", "Record as awaiting approval"),
        );
    }
    if acct.is_none() && person.is_some() {
        let _ = write!(body, "<p class=\"card\">{}</p>", c.t("Hướng dẫn người dân tự đăng ký tài khoản mức 1 tại trang Đăng ký (số định danh, số điện thoại, mật khẩu), rồi tra cứu lại.", "Help the person register a level-1 account on the Register page (ID number, phone, password), then look up again."));
    }
    if !locked.is_empty() {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/desk/unlock\" class=\"card\">{hidden}<input type=\"hidden\" name=\"credential\" value=\"{cred}\"><h2>{h}</h2><label class=\"choice\"><input type=\"checkbox\" name=\"checked\" value=\"1\" required>{check}</label><button type=\"submit\">{go}</button></form>",
            cred = esc(&locked[0]),
            h = c.t("Mở khóa chữ ký số", "Unlock the signing credential"),
            check = c.t("Tôi đã xác thực lại trực tiếp (thẻ + khuôn mặt).", "I re-verified the person in person (card + face)."),
            go = c.t("Mở khóa", "Unlock"),
        );
    }
    let mut checks = String::new();
    for step in STEPS {
        let _ = write!(
            checks,
            "<label><input type=\"checkbox\" name=\"step\" value=\"{step}\"> {}</label>",
            step_label(&c, step)
        );
    }
    let mut outcomes = String::new();
    for o in OUTCOMES {
        let _ = write!(outcomes, "<option value=\"{o}\">{}</option>", outcome_label(&c, o));
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/desk/session\" class=\"card checks\">{hidden}<h2>{h}</h2>{checks}\
<label for=\"outcome\">{l_out}</label><select id=\"outcome\" name=\"outcome\">{outcomes}</select><button type=\"submit\">{go}</button></form><p><a href=\"/desk\">{back}</a></p>",
        h = c.t("Ghi nhận buổi hỗ trợ", "Record the support session"),
        l_out = c.t("Kết quả", "Outcome"),
        go = c.t("Ghi nhận", "Record"),
        back = c.t("← Tra cứu người khác", "← Look up someone else"),
    );
    let _ = row;
    page(&c, c.t("Hỗ trợ người dân", "Assist a person"), &body)
}

fn step_label<'a>(c: &Ctx, step: &str) -> &'a str {
    match step {
        "eid_level2" => c.t("Kích hoạt định danh mức 2", "e-ID level 2 activated"),
        "certificate_issued" => c.t("Tạo chữ ký số", "Certificate issued"),
        "first_signature" => c.t("Ký số lần đầu", "First signature"),
        "pin_unlock" => c.t("Mở khóa PIN", "PIN unlock"),
        _ => c.t("Tư vấn, hướng dẫn", "Advice"),
    }
}

fn outcome_label<'a>(c: &Ctx, o: &str) -> &'a str {
    match o {
        "completed" => c.t("Hoàn thành", "Completed"),
        "partial" => c.t("Hoàn thành một phần", "Partly done"),
        "referred" => c.t("Chuyển cơ quan khác", "Referred"),
        _ => c.t("Người dân từ chối", "Declined"),
    }
}

#[derive(Deserialize)]
struct VerifyForm {
    csrf: String,
    id_number: String,
    activation: String,
    method: String,
    checked: Option<String>,
}

fn back(ok: Result<String, String>) -> Response {
    match ok {
        Ok(m) => Redirect::to(&format!("/desk?ok={}", urlencode(&m))).into_response(),
        Err(e) => Redirect::to(&format!("/desk?err={}", urlencode(&e))).into_response(),
    }
}

async fn place_of(s: &AppState, row: &StaffAccountRow) -> String {
    match &row.point_id {
        Some(id) => {
            s.authority.store.support_point(id).await.ok().flatten().map(|p| p.name).unwrap_or_else(|| id.clone())
        }
        None => row.scope_code.clone(),
    }
}

async fn verify(State(s): State<AppState>, h: HeaderMap, Form(f): Form<VerifyForm>) -> Response {
    let c = ctx(&s, &h, None).await;
    let (row, p) = match staff_post(&c, &f.csrf) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(bad) = crate::input::text(kyso_store::limits::WORD.named("activation"), &f.activation)
        .and_then(|_| crate::input::text(kyso_store::limits::METHOD, &f.method))
    {
        return bad.page(c.en);
    }
    if f.checked.is_none() {
        return back(Err(c.t("Cần xác nhận đã đối chiếu trực tiếp.", "Confirm the in-person check.").into()));
    }
    let Ok(id) = CitizenId::parse(f.id_number.trim()) else { return back(Err("id_number".into())) };
    let place = place_of(&s, row).await;
    match s.authority.verify_eid_level2(p, &id, &f.activation, &f.method, &place).await {
        Ok(_) => back(Ok(format!("{} {}", id.masked(), c.t("đã được xác thực mức 2.", "is now verified at level 2.")))),
        Err(e) => back(Err(e.to_string())),
    }
}

#[derive(Deserialize)]
struct PendingForm {
    csrf: String,
    id_number: String,
}

async fn pending(State(s): State<AppState>, h: HeaderMap, Form(f): Form<PendingForm>) -> Response {
    let c = ctx(&s, &h, None).await;
    let (_, p) = match staff_post(&c, &f.csrf) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(id) = CitizenId::parse(f.id_number.trim()) else { return back(Err("id_number".into())) };
    match s.authority.mark_awaiting_approval(p, &id).await {
        Ok(()) => back(Ok(format!(
            "{} {}",
            id.masked(),
            c.t("được ghi nhận: hồ sơ chờ phê duyệt.", "is recorded as awaiting approval.")
        ))),
        Err(e) => back(Err(e.to_string())),
    }
}

#[derive(Deserialize)]
struct UnlockForm {
    csrf: String,
    id_number: String,
    credential: String,
    checked: Option<String>,
}

async fn unlock(State(s): State<AppState>, h: HeaderMap, Form(f): Form<UnlockForm>) -> Response {
    let c = ctx(&s, &h, None).await;
    let (row, p) = match staff_post(&c, &f.csrf) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(bad) = crate::input::code("credential", &f.credential, 64) {
        return bad.page(c.en);
    }
    let Ok(id) = CitizenId::parse(f.id_number.trim()) else { return back(Err("id_number".into())) };
    let person = s.authority.person(&id).await.ok().flatten();
    let area = person.as_ref().map(|x| x.area());
    if f.checked.is_none()
        || decide(p, Action::UnlockCredential, &Resource::Person { id_number: id.expose(), area: area.as_ref() })
            .is_err()
    {
        return forbidden(&c);
    }
    match s.authority.store.credential(&f.credential).await {
        Ok(Some(cr)) if cr.id_number == id.expose() => {}
        _ => return forbidden(&c),
    }
    match s
        .authority
        .unlock_credential(&f.credential, &row.username, "in person at a support point (chip card + face)")
        .await
    {
        Ok(()) => back(Ok(format!("{} {}", id.masked(), c.t("đã được mở khóa.", "is unlocked.")))),
        Err(e) => back(Err(e.to_string())),
    }
}

async fn session(
    State(s): State<AppState>,
    h: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let c = ctx(&s, &h, None).await;
    let Ok(body) = body else {
        let mut bad = crate::input::Bad::new(
            "",
            "Dữ liệu gửi lên quá lớn (tối đa 1 MiB).",
            "The submitted data is too large (1 MiB at most).",
        );
        bad.status = StatusCode::PAYLOAD_TOO_LARGE;
        return bad.page(c.en);
    };
    // Repeated `step` fields: read the urlencoded body by hand.
    let mut fields: Vec<(String, String)> = Vec::new();
    for pair in body.split(|b| *b == b'&') {
        let s = String::from_utf8_lossy(pair).replace('+', " ");
        if let Some((k, v)) = s.split_once('=') {
            fields.push((percent_decode(k), percent_decode(v)));
        }
    }
    let get = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default();
    if !c.csrf_valid(&get("csrf")) {
        return bad_csrf(&c);
    }
    let (row, p) = match staff_for(&c) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(point) = row.point_id.clone() else {
        return back(Err(c
            .t("Tài khoản của bạn không gắn với điểm hỗ trợ nào.", "Your account belongs to no support point.")
            .into()));
    };
    let Ok(id) = CitizenId::parse(get("id_number").trim()) else { return back(Err("id_number".into())) };
    let steps: Vec<String> = fields.iter().filter(|(k, _)| k == "step").map(|(_, v)| v.clone()).collect();
    match s.authority.record_support_session(p, &point, &id, &steps, &get("outcome"), &vn_today()).await {
        Ok(()) => {
            back(Ok(format!("{} {}", c.t("Đã ghi nhận buổi hỗ trợ cho", "Support session recorded for"), id.masked())))
        }
        Err(e) => back(Err(e.to_string())),
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn results(State(s): State<AppState>, h: HeaderMap, Query(q): Query<Q>) -> Response {
    let c = ctx(&s, &h, q.lang.as_deref()).await;
    let (row, p) = match staff_for(&c) {
        Ok(x) => x,
        Err(r) => return r,
    };
    // Support staff see their point; officers every point of the units they may view.
    let points = s.authority.store.support_points(None).await.unwrap_or_default();
    let mut visible = Vec::new();
    for pt in points {
        let Ok(Some(commune)) = s.authority.store.commune(&pt.commune_code).await else { continue };
        let area = kyso_access::Area::commune(&commune.province_code, &commune.code);
        let own = row.point_id.as_deref() == Some(pt.id.as_str());
        if own || decide(p, Action::ViewProgress, &Resource::Unit(&area)).is_ok() {
            visible.push(pt);
        }
    }
    if visible.is_empty() {
        return forbidden(&c);
    }
    let mut body = String::new();
    for pt in &visible {
        let days = s.authority.store.support_results(Some(&pt.id)).await.unwrap_or_default();
        let max = days.iter().map(|d| d.sessions).max().unwrap_or(1).max(1);
        let _ = write!(
            body,
            "<section class=\"card\"><h2>{}</h2><p class=\"muted\">{}</p><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr>",
            esc(&pt.name),
            esc(&pt.address),
            c.t("Ngày", "Day"),
            c.t("Lượt", "Sessions"),
            c.t("ĐDĐT mức 2", "e-ID L2"),
            c.t("Chứng thư", "Certs"),
            c.t("Ký lần đầu", "First sig."),
        );
        for d in days.iter().take(14) {
            let w = d.sessions * 100 / max;
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td style=\"width:30%\"><svg viewBox=\"0 0 100 10\" width=\"100%\" height=\"10\" role=\"img\" aria-label=\"{}\"><rect width=\"{w}\" height=\"10\" fill=\"#a50e0e\"/></svg></td></tr>",
                esc(&d.day),
                d.sessions,
                d.eid_level2,
                d.certificates,
                d.first_signatures,
                d.sessions
            );
        }
        if days.is_empty() {
            let _ =
                write!(body, "<tr><td colspan=\"6\">{}</td></tr>", c.t("Chưa có buổi hỗ trợ nào.", "No sessions yet."));
        }
        body.push_str("</table></section>");
    }
    let _ = write!(body, "<p><a href=\"/desk\">{}</a></p>", c.t("← Bàn hỗ trợ", "← Support desk"));
    page(&c, c.t("Kết quả hỗ trợ", "Support results"), &body)
}

/// Points listed by name on the dashboard (the busiest first).
const DASHBOARD_POINTS: usize = 30;

/// The campaign dashboard's view of the support points: the last 7 days' sessions, results and
/// guidance scans (aggregates only), two queries whatever the number of points; the busiest
/// [`DASHBOARD_POINTS`] listed, the total over all. Empty when there are no points.
pub async fn dashboard_section(s: &kyso_store::Store, en: bool, today: &str) -> String {
    let t = |vi: &'static str, e: &'static str| if en { e } else { vi };
    let Ok(points) = s.support_points(None).await else { return String::new() };
    if points.is_empty() {
        return String::new();
    }
    let from = time::Date::parse(today, &time::macros::format_description!("[year]-[month]-[day]"))
        .map(|d| (d - time::Duration::days(6)).to_string())
        .unwrap_or_default();
    let scans = s.guide_scans(&from, today).await.unwrap_or_default();
    let results: std::collections::HashMap<String, kyso_store::accounts::PointDay> =
        s.support_totals(&from, today).await.unwrap_or_default().into_iter().map(|d| (d.point_id.clone(), d)).collect();
    let mut figures: Vec<(&kyso_store::accounts::SupportPointRow, [i64; 5])> = points
        .iter()
        .map(|p| {
            let r = results.get(&p.id);
            let get = |f: fn(&kyso_store::accounts::PointDay) -> i64| r.map_or(0, f);
            let sums = [
                get(|d| d.sessions),
                get(|d| d.eid_level2),
                get(|d| d.certificates),
                get(|d| d.first_signatures),
                scans.get(&p.id).copied().unwrap_or(0),
            ];
            (p, sums)
        })
        .collect();
    figures.sort_by(|a, b| (b.1[0], b.1[4]).cmp(&(a.1[0], a.1[4])).then_with(|| a.0.id.cmp(&b.0.id)));
    let mut total = [0i64; 5];
    for (_, sums) in &figures {
        for (t, v) in total.iter_mut().zip(sums) {
            *t += v;
        }
    }
    let mut rows = String::new();
    for (p, sums) in figures.iter().take(DASHBOARD_POINTS) {
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&p.name),
            sums[0],
            sums[1],
            sums[2],
            sums[3],
            sums[4]
        );
    }
    if figures.len() > DASHBOARD_POINTS {
        let _ = write!(
            rows,
            "<tr><td colspan=\"6\">… {} {}</td></tr>",
            figures.len() - DASHBOARD_POINTS,
            t("điểm khác (tính trong tổng)", "more points (in the total)")
        );
    }
    format!(
        "<section><h2>{h}</h2><p>{from} – {today}</p><div class=\"scroll\"><table><tr><th>{p}</th><th>{n}</th><th>{e}</th><th>{c}</th><th>{f}</th><th>{q}</th></tr>{rows}\
<tr><th>{sum}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></table></div></section>",
        total[0],
        total[1],
        total[2],
        total[3],
        total[4],
        q = t("Lượt quét QR hướng dẫn", "Guidance QR scans"),
        h = t("Điểm hỗ trợ: kết quả 7 ngày", "Support points: last 7 days"),
        p = t("Điểm", "Point"),
        n = t("Lượt hỗ trợ", "Sessions"),
        e = t("ĐDĐT mức 2", "e-ID level 2"),
        c = t("Chứng thư", "Certificates"),
        f = t("Ký lần đầu", "First signatures"),
        sum = t("Tổng", "Total"),
    )
}
