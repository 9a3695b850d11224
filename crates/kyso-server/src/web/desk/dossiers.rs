//! The one-stop desk's dossier check: the officer picks a procedure, enters the applicant's ID
//! number, uploads the files (and a `.p7s` beside any file that is not a signed PDF), and reads
//! per file who signed it — the missing applicant signature flagged — and whether the dossier is
//! fully signed; below, the unit's recent dossiers with masked ID numbers.

use super::Q;
use crate::dossiers::{read_multipart, FormRefusal};
use crate::input::Query;
use crate::web::extract::StaffIn;
use crate::web::layout::{render_for, Frame};
use crate::web::{bad_csrf, forbidden, vn_datetime, Ctx};
use crate::AppState;
use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kyso_access::{decide, Action, Resource};
use kyso_authority::dossiers::{DossierError, DossierLimits, DossierView, Submission};
use kyso_validate::dossier::{FileVerdict, Procedure, SignerRule};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct PickQ {
    #[allow(dead_code)] // read by the `Ctx` extractor
    lang: Option<String>,
    procedure: Option<String>,
}

/// One file input of the chosen procedure.
struct Slot {
    role: String,
    name: String,
    signer: &'static str,
    required: bool,
}

/// One line of the unit's recent dossiers.
struct Recent {
    id: i64,
    at: String,
    procedure: String,
    applicant: String,
    fully_signed: bool,
    needs_signatures: bool,
}

#[derive(Template)]
#[template(path = "desk/dossiers.html")]
struct DossiersPage {
    frame: Frame,
    unit: Option<String>,
    procedures: Vec<(String, String)>,
    chosen: Option<String>,
    slots: Vec<Slot>,
    applicant: String,
    error: Option<String>,
    recent: Vec<Recent>,
}

/// A file's verdict as the page shows it.
struct FileLine {
    role_name: String,
    file_name: String,
    verdict: String,
    class: &'static str,
    satisfied: bool,
    /// The applicant's signature is what is missing.
    missing_applicant: bool,
    reason: String,
    sha256: String,
}

#[derive(Template)]
#[template(path = "desk/dossier.html")]
struct DossierPage {
    frame: Frame,
    procedure: String,
    applicant: String,
    received: String,
    fully_signed: bool,
    needs_signatures: bool,
    missing: Vec<String>,
    files: Vec<FileLine>,
}

/// May this officer receive dossiers (the desk's look-up right, or a commune/province officer)?
fn may_receive(who: &StaffIn) -> Result<(), Response> {
    let p = &who.principal;
    let probe = Resource::Person { id_number: "", area: None };
    if decide(p, Action::LookUpCitizen, &probe).is_ok()
        || matches!(p.role, kyso_access::Role::CommuneOfficer | kyso_access::Role::ProvinceOfficer)
    {
        Ok(())
    } else {
        Err(forbidden(&who.ctx))
    }
}

/// The unit dossiers are received for: the support point's commune, else the officer's commune or
/// province.
async fn unit_of(s: &AppState, who: &StaffIn) -> Option<String> {
    if let Some(id) = &who.staff.point_id {
        if let Ok(Some(p)) = s.authority.store.support_point(id).await {
            return Some(p.commune_code);
        }
    }
    matches!(who.staff.scope_kind.as_str(), "commune" | "province").then(|| who.staff.scope_code.clone())
}

async fn page(
    s: &AppState,
    who: &StaffIn,
    chosen: Option<String>,
    applicant: String,
    error: Option<String>,
) -> Response {
    let c = &who.ctx;
    let unit = unit_of(s, who).await;
    let procedures = s.authority.procedures().await.unwrap_or_default();
    let chosen_p: Option<&Procedure> = chosen.as_deref().and_then(|code| procedures.iter().find(|p| p.code == code));
    let slots = chosen_p
        .map(|p| {
            p.files
                .iter()
                .map(|f| Slot {
                    role: f.role.clone(),
                    name: f.name.clone(),
                    signer: match f.signer {
                        SignerRule::Nobody => c.t("không cần ký", "no signature needed"),
                        SignerRule::Applicant => c.t("người nộp hồ sơ ký", "signed by the applicant"),
                        SignerRule::Organisation => c.t("người đại diện tổ chức ký", "signed by an organisation"),
                    },
                    required: f.required,
                })
                .collect()
        })
        .unwrap_or_default();
    let names: std::collections::HashMap<&str, &str> =
        procedures.iter().map(|p| (p.code.as_str(), p.name.as_str())).collect();
    let recent = match &unit {
        Some(u) => s.authority.recent_dossiers(std::slice::from_ref(u), 20).await.unwrap_or_default(),
        None => Vec::new(),
    }
    .into_iter()
    .map(|d| Recent {
        id: d.id,
        at: vn_datetime(d.at),
        procedure: names.get(d.procedure_code.as_str()).map(|n| n.to_string()).unwrap_or(d.procedure_code.clone()),
        applicant: d.applicant_masked,
        fully_signed: d.fully_signed,
        needs_signatures: d.needs_signatures,
    })
    .collect();
    let page = DossiersPage {
        frame: Frame::new(c, c.t("Kiểm tra chữ ký hồ sơ", "Check a dossier's signatures")).at("/desk/dossiers"),
        unit,
        procedures: procedures.iter().map(|p| (p.code.clone(), p.name.clone())).collect(),
        chosen: chosen_p.map(|p| p.code.clone()),
        slots,
        applicant,
        error,
        recent,
    };
    render_for(c, &page)
}

pub async fn form(State(s): State<AppState>, Query(q): Query<PickQ>, who: StaffIn) -> Response {
    if let Err(r) = may_receive(&who) {
        return r;
    }
    page(&s, &who, q.procedure.filter(|p| !p.is_empty()), String::new(), None).await
}

fn result_page(c: &Ctx, v: &DossierView) -> Response {
    let files = v
        .files
        .iter()
        .map(|f| FileLine {
            role_name: f.role_name.clone(),
            file_name: f.file_name.clone(),
            verdict: f.verdict.label(if c.en { kyso_validate::Lang::En } else { kyso_validate::Lang::Vi }).into(),
            class: match (f.satisfied, f.verdict) {
                (true, _) => "passed",
                (false, FileVerdict::Undetermined) => "indeterminate",
                (false, _) => "failed",
            },
            satisfied: f.satisfied,
            missing_applicant: !f.satisfied
                && v.missing.iter().any(|m| {
                    matches!(&m.item, kyso_validate::dossier::Missing::Signature { role, signer: SignerRule::Applicant, .. } if role == &f.role)
                }),
            reason: if c.en { f.reason_en.clone() } else { f.reason.clone() },
            sha256: f.sha256.clone(),
        })
        .collect();
    let page = DossierPage {
        frame: Frame::new(c, format!("{} {}", c.t("Hồ sơ số", "Dossier no."), v.id))
            .at(format!("/desk/dossiers/{}", v.id)),
        procedure: v.procedure_name.clone(),
        applicant: v.applicant_id_masked.clone(),
        received: vn_datetime(v.received_at),
        fully_signed: v.fully_signed,
        needs_signatures: v.needs_signatures,
        missing: v.missing.iter().map(|m| if c.en { m.message_en.clone() } else { m.message.clone() }).collect(),
        files,
    };
    render_for(c, &page)
}

async fn refused(
    s: &AppState,
    who: &StaffIn,
    status: StatusCode,
    procedure: String,
    applicant: String,
    msg: String,
) -> Response {
    let mut r = page(s, who, Some(procedure), applicant, Some(msg)).await;
    *r.status_mut() = status;
    r
}

pub async fn submit(
    State(s): State<AppState>,
    h: HeaderMap,
    who: StaffIn,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    if let Err(r) = may_receive(&who) {
        return r;
    }
    let c = &who.ctx;
    let limits = DossierLimits::default();
    let ct = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let form = match read_multipart(ct, mp, &limits).await {
        Ok(f) => f,
        Err(FormRefusal { status, vi, en }) => {
            return refused(&s, &who, status, String::new(), String::new(), if c.en { en } else { vi }).await
        }
    };
    if !c.csrf_valid(&form.field("csrf")) {
        return bad_csrf(c);
    }
    let (procedure, applicant) = (form.field("procedure"), form.field("applicant_id"));
    let Some(unit) = unit_of(&s, &who).await else {
        let msg = c.t(
            "Tài khoản của bạn không gắn với xã hoặc tỉnh nào nên không nhận được hồ sơ.",
            "Your account belongs to no commune or province, so it cannot receive dossiers.",
        );
        return refused(&s, &who, StatusCode::FORBIDDEN, procedure, applicant, msg.into()).await;
    };
    let submission = Submission {
        procedure: procedure.clone(),
        applicant_id: applicant.clone(),
        unit_code: unit,
        channel: "desk",
        actor: who.staff.username.clone(),
        files: form.files,
    };
    match s.authority.check_dossier(submission, &limits).await {
        Ok(v) => result_page(c, &v),
        Err(DossierError::Busy(b)) => crate::ratelimit::busy(b, c.en),
        Err(e @ DossierError::Authority(_)) => {
            tracing::error!(error = %crate::input::Clean(&e), "dossier check failed");
            let msg = c.t(
                "Không kiểm tra được hồ sơ lúc này; hãy thử lại.",
                "The dossier could not be checked now; please retry.",
            );
            refused(&s, &who, StatusCode::INTERNAL_SERVER_ERROR, procedure, applicant, msg.into()).await
        }
        Err(e) => {
            let status = if matches!(e, DossierError::TooLarge { .. }) {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            };
            refused(&s, &who, status, procedure, applicant, crate::dossiers::message(&e, c.en)).await
        }
    }
}

pub async fn show(State(s): State<AppState>, Query(_): Query<Q>, Path(id): Path<String>, who: StaffIn) -> Response {
    if let Err(r) = may_receive(&who) {
        return r;
    }
    let c = &who.ctx;
    let unit = unit_of(&s, &who).await;
    match id.parse::<i64>().ok().map(|id| async move { s.authority.dossier(id).await }) {
        Some(f) => match f.await {
            // only the unit that received it sees it
            Ok(Some(v)) if unit.as_deref() == Some(v.unit_code.as_str()) => result_page(c, &v),
            Ok(_) => crate::not_found("dossier"),
            Err(e) => {
                tracing::error!(error = %crate::input::Clean(&e), "dossier read failed");
                (StatusCode::SERVICE_UNAVAILABLE, "retry shortly\n").into_response()
            }
        },
        None => crate::not_found("dossier"),
    }
}
