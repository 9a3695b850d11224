//! The person at the desk: the look-up (audited), and what staff do for them — verify level 2,
//! record "awaiting approval", unlock a credential, record the support session. After the look-up
//! the person travels as an opaque reference (a form token of purpose `desk-person`, owned by the
//! officer, valid 30 minutes): the page at `/desk/person/{ref}` and every form carry it, never the
//! 12 digits, so the officer goes from level 2 to the session without typing them again.

use super::back;
use crate::i18n::Lang;
use crate::input::Query;
use crate::web::extract::{csrf_forms, Poster, StaffForm, StaffIn};
use crate::web::layout::{render_for, Frame};
use crate::web::urlencode;
use crate::web::{bad_csrf, forbidden, vn_today, Ctx};
use crate::AppState;
use askama::Template;
use axum::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Redirect;
use axum::response::{IntoResponse, Response};
use kyso_access::{decide, Action, Resource};
use kyso_authority::accounts::{OUTCOMES, STEPS};
use kyso_authority::forms::DESK_PERSON;
use kyso_pki::CitizenId;
use kyso_store::accounts::StaffAccountRow;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct LookupForm {
    csrf: String,
    id_number: String,
}

#[derive(Deserialize)]
pub struct VerifyForm {
    csrf: String,
    #[serde(default)]
    person: String,
    activation: String,
    method: String,
    checked: Option<String>,
}

#[derive(Deserialize)]
pub struct PendingForm {
    csrf: String,
    #[serde(default)]
    person: String,
}

#[derive(Deserialize)]
pub struct UnlockForm {
    csrf: String,
    #[serde(default)]
    person: String,
    credential: String,
    checked: Option<String>,
}

csrf_forms!(LookupForm, VerifyForm, PendingForm, UnlockForm);

fn step_label(lang: Lang, step: &str) -> &'static str {
    match step {
        "eid_level2" => lang.t("Kích hoạt định danh mức 2", "e-ID level 2 activated"),
        "certificate_issued" => lang.t("Tạo chữ ký số", "Certificate issued"),
        "first_signature" => lang.t("Ký số lần đầu", "First signature"),
        "pin_unlock" => lang.t("Mở khóa PIN", "PIN unlock"),
        _ => lang.t("Tư vấn, hướng dẫn", "Advice"),
    }
}

fn outcome_label(lang: Lang, o: &str) -> &'static str {
    match o {
        "completed" => lang.t("Hoàn thành", "Completed"),
        "partial" => lang.t("Hoàn thành một phần", "Partly done"),
        "referred" => lang.t("Chuyển cơ quan khác", "Referred"),
        _ => lang.t("Người dân từ chối", "Declined"),
    }
}

#[derive(Template)]
#[template(path = "desk/lookup.html")]
struct Lookup {
    frame: Frame,
    /// The opaque reference to the person the forms carry (never the ID number).
    person: String,
    masked: String,
    /// As in the register, to compare with the card.
    name: Option<String>,
    birth_year: Option<String>,
    ok: Option<String>,
    err: Option<String>,
    /// The commune in the population register, when found.
    commune: Option<String>,
    /// The e-ID level, when registered.
    level: Option<i64>,
    valid: usize,
    /// The first locked credential among the valid ones.
    locked: Option<String>,
    verify_form: bool,
    pending_form: bool,
    register_hint: bool,
    /// (value, label)
    steps: Vec<(&'static str, &'static str)>,
    outcomes: Vec<(&'static str, &'static str)>,
}

/// How long the officer may act on a looked-up person without looking them up again.
const PERSON_TTL: i64 = 30 * 60;

pub async fn lookup(State(s): State<AppState>, post: StaffForm<LookupForm>) -> Response {
    let id = match crate::input::id_number("id_number", &post.form.id_number) {
        Ok(id) => id,
        Err(bad) => return back(Err(bad.message(post.who.ctx.en))),
    };
    let who = &post.who;
    match s.authority.new_form_token(DESK_PERSON, &who.staff.username, id.expose(), PERSON_TTL).await {
        Ok(person) => show(&s, who, &id, person, None, None).await,
        Err(e) => back(Err(e.to_string())),
    }
}

#[derive(Deserialize, Default)]
pub struct PersonQ {
    #[allow(dead_code)] // read by the `Ctx` extractor
    lang: Option<String>,
    ok: Option<String>,
    err: Option<String>,
}

/// `GET /desk/person/{ref}`: the person looked up before (by this officer, within 30 minutes),
/// with what just happened.
pub async fn person_page(
    State(s): State<AppState>,
    Path(person): Path<String>,
    Query(q): Query<PersonQ>,
    who: StaffIn,
) -> Response {
    match person_id(&s, &who, &person).await {
        Some(id) => show(&s, &who, &id, person, q.ok, q.err).await,
        None => back(Err(expired(&who.ctx))),
    }
}

fn expired(c: &Ctx) -> String {
    c.t(
        "Phiên tra cứu đã hết hạn (30 phút); hãy tra cứu lại.",
        "The look-up has expired (30 minutes); look the person up again.",
    )
    .into()
}

/// The ID number behind a desk reference, if it is this officer's and still valid.
async fn person_id(s: &AppState, who: &StaffIn, person: &str) -> Option<CitizenId> {
    let id = s.authority.form_subject(DESK_PERSON, &who.staff.username, person).await.ok().flatten()?;
    CitizenId::parse(&id).ok()
}

/// Back to the person's page with what happened.
fn to_person(person: &str, ok: Result<String, String>) -> Response {
    let (k, m) = match ok {
        Ok(m) => ("ok", m),
        Err(e) => ("err", e),
    };
    Redirect::to(&format!("/desk/person/{person}?{k}={}", urlencode(&m))).into_response()
}

/// `yyyy-mm-dd` → `yyyy`.
fn year_of(date_of_birth: &str) -> String {
    date_of_birth.split('-').next().unwrap_or_default().to_owned()
}

async fn show(
    s: &AppState,
    who: &StaffIn,
    id: &CitizenId,
    person_ref: String,
    ok: Option<String>,
    err: Option<String>,
) -> Response {
    let StaffIn { ctx: c, staff: row, principal: p } = who;
    let person = s.authority.person(id).await.ok().flatten();
    let area = person.as_ref().map(|x| x.area());
    if decide(p, Action::LookUpCitizen, &Resource::Person { id_number: id.expose(), area: area.as_ref() }).is_err() {
        return forbidden(c);
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
    let lang = c.lang();
    let found = person.is_some();
    let page = Lookup {
        frame: Frame::new(c, c.t("Hỗ trợ người dân", "Assist a person")),
        person: person_ref,
        masked: id.masked(),
        name: person.as_ref().map(|x| x.full_name.clone()),
        birth_year: person.as_ref().map(|x| year_of(&x.date_of_birth)),
        ok,
        err,
        commune: person.map(|x| x.commune_name),
        level: acct.as_ref().map(|a| a.level),
        valid,
        locked: locked.into_iter().next(),
        verify_form: found && acct.as_ref().is_some_and(|a| a.level < 2),
        pending_form: found && acct.as_ref().is_some_and(|a| a.level < 2 && a.activation != "awaiting_approval"),
        register_hint: found && acct.is_none(),
        steps: STEPS.iter().map(|&st| (st, step_label(lang, st))).collect(),
        outcomes: OUTCOMES.iter().map(|&o| (o, outcome_label(lang, o))).collect(),
    };
    render_for(c, &page)
}

async fn place_of(s: &AppState, row: &StaffAccountRow) -> String {
    match &row.point_id {
        Some(id) => {
            s.authority.store.support_point(id).await.ok().flatten().map(|p| p.name).unwrap_or_else(|| id.clone())
        }
        None => row.scope_code.clone(),
    }
}

pub async fn verify(State(s): State<AppState>, post: StaffForm<VerifyForm>) -> Response {
    let (StaffIn { ctx: c, staff: row, principal: p }, f) = (&post.who, &post.form);
    if let Err(bad) = crate::input::text(kyso_store::limits::WORD.named("activation"), &f.activation)
        .and_then(|_| crate::input::text(kyso_store::limits::METHOD, &f.method))
    {
        return bad.page(c.en);
    }
    if f.checked.is_none() {
        return to_person(
            &f.person,
            Err(c.t("Cần xác nhận đã đối chiếu trực tiếp.", "Confirm the in-person check.").into()),
        );
    }
    let Some(id) = person_id(&s, &post.who, &f.person).await else { return back(Err(expired(c))) };
    let place = place_of(&s, row).await;
    // On to the session form for the same person, without typing the 12 digits again.
    match s.authority.verify_eid_level2(p, &id, &f.activation, &f.method, &place).await {
        Ok(_) => to_person(
            &f.person,
            Ok(format!(
                "{} {}",
                id.masked(),
                c.t(
                    "đã được xác thực mức 2. Ghi nhận buổi hỗ trợ bên dưới.",
                    "is now verified at level 2. Record the session below."
                )
            )),
        ),
        Err(e) => to_person(&f.person, Err(crate::input::refusal(c.lang(), &e.to_string()))),
    }
}

pub async fn pending(State(s): State<AppState>, post: StaffForm<PendingForm>) -> Response {
    let (StaffIn { ctx: c, principal: p, .. }, f) = (&post.who, &post.form);
    let Some(id) = person_id(&s, &post.who, &f.person).await else { return back(Err(expired(c))) };
    match s.authority.mark_awaiting_approval(p, &id).await {
        Ok(()) => to_person(
            &f.person,
            Ok(format!(
                "{} {}",
                id.masked(),
                c.t("được ghi nhận: hồ sơ chờ phê duyệt.", "is recorded as awaiting approval.")
            )),
        ),
        Err(e) => to_person(&f.person, Err(crate::input::refusal(c.lang(), &e.to_string()))),
    }
}

pub async fn unlock(State(s): State<AppState>, post: StaffForm<UnlockForm>) -> Response {
    let (StaffIn { ctx: c, staff: row, principal: p }, f) = (&post.who, &post.form);
    if let Err(bad) = crate::input::code("credential", &f.credential, 64) {
        return bad.page(c.en);
    }
    let Some(id) = person_id(&s, &post.who, &f.person).await else { return back(Err(expired(c))) };
    let person = s.authority.person(&id).await.ok().flatten();
    let area = person.as_ref().map(|x| x.area());
    if f.checked.is_none()
        || decide(p, Action::UnlockCredential, &Resource::Person { id_number: id.expose(), area: area.as_ref() })
            .is_err()
    {
        return forbidden(c);
    }
    match s.authority.store.credential(&f.credential).await {
        Ok(Some(cr)) if cr.id_number == id.expose() => {}
        _ => return forbidden(c),
    }
    match s
        .authority
        .unlock_credential(&f.credential, &row.username, "in person at a support point (chip card + face)")
        .await
    {
        Ok(()) => to_person(&f.person, Ok(format!("{} {}", id.masked(), c.t("đã được mở khóa.", "is unlocked.")))),
        Err(e) => to_person(&f.person, Err(crate::input::refusal(c.lang(), &e.to_string()))),
    }
}

/// `POST /desk/session`: its `step` fields repeat, so the body is read by hand (the CSRF token
/// first, then who is signed in, as the other posts).
pub async fn session(
    State(s): State<AppState>,
    c: Ctx,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let Ok(body) = body else {
        let mut bad = crate::input::Bad::new(
            "",
            "Dữ liệu gửi lên quá lớn (tối đa 1 MiB).",
            "The submitted data is too large (1 MiB at most).",
        );
        bad.status = StatusCode::PAYLOAD_TOO_LARGE;
        return bad.page(c.en);
    };
    let fields = url_pairs(&body);
    let get = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default();
    if !c.csrf_valid(&get("csrf")) {
        return bad_csrf(&c);
    }
    let who = match StaffIn::of(c) {
        Ok(who) => who,
        Err(r) => return r,
    };
    let Some(point) = who.staff.point_id.clone() else {
        return back(Err(who
            .ctx
            .t("Tài khoản của bạn không gắn với điểm hỗ trợ nào.", "Your account belongs to no support point.")
            .into()));
    };
    let Some(id) = person_id(&s, &who, &get("person")).await else { return back(Err(expired(&who.ctx))) };
    let steps: Vec<String> = fields.iter().filter(|(k, _)| k == "step").map(|(_, v)| v.clone()).collect();
    match s.authority.record_support_session(&who.principal, &point, &id, &steps, &get("outcome"), &vn_today()).await {
        Ok(()) => back(Ok(format!(
            "{} {}",
            who.ctx.t("Đã ghi nhận buổi hỗ trợ cho", "Support session recorded for"),
            id.masked()
        ))),
        Err(e) => back(Err(crate::input::refusal(who.ctx.lang(), &e.to_string()))),
    }
}

/// An urlencoded body as (name, value) pairs, repeated names kept.
fn url_pairs(body: &[u8]) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for pair in body.split(|b| *b == b'&') {
        let s = String::from_utf8_lossy(pair).replace('+', " ");
        if let Some((k, v)) = s.split_once('=') {
            fields.push((percent_decode(k), percent_decode(v)));
        }
    }
    fields
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
