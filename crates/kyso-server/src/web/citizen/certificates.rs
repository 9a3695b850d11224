//! My certificates: the list, one certificate's details, renew, revoke.

use super::{masked, provider_label, urlencode, vn_date_of, Q};
use crate::i18n::Lang;
use crate::input::Query;
use crate::web::extract::{csrf_forms, CitizenForm, CsrfOnly, ManageCertificates, SignedInCitizen};
use crate::web::layout::{render_for, Frame};
use crate::web::{forbidden, Notice};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kyso_store::accounts::EidAccountRow;
use kyso_store::{CertRow, CredentialRow};
use serde::Deserialize;

/// A certificate's status as a badge: its class (`good`, `bad`) and words.
fn cert_status(lang: Lang, cert: &CertRow, locked: bool) -> (&'static str, &'static str) {
    let now = kyso_store::now();
    if cert.revoked_at.is_some() {
        if cert.superseded_by.is_some() {
            ("bad", lang.t("Đã gia hạn (thay thế)", "Renewed (superseded)"))
        } else {
            ("bad", lang.t("Đã thu hồi", "Revoked"))
        }
    } else if cert.not_after < now {
        ("bad", lang.t("Hết hạn", "Expired"))
    } else if locked {
        ("bad", lang.t("Bị khóa (sai PIN/OTP 5 lần)", "Locked (5 wrong PINs or codes)"))
    } else {
        ("good", lang.t("Đang hiệu lực", "Valid"))
    }
}

/// A certificate as the list and the details page show it.
struct CertLine {
    class: &'static str,
    status: &'static str,
    provider: String,
    subject: String,
    from: String,
    until: String,
    serial: String,
}

/// `creds`: the citizen's credentials (one of them may be locked).
fn cert_line(s: &AppState, lang: Lang, creds: &[CredentialRow], cert: &CertRow) -> CertLine {
    let locked = creds.iter().any(|cr| cr.cert_serial == cert.serial && cr.status == "locked");
    let (class, status) = cert_status(lang, cert, locked);
    CertLine {
        class,
        status,
        provider: provider_label(s, &cert.issuer_id),
        subject: cert.subject_cn.clone(),
        from: vn_date_of(cert.not_before),
        until: vn_date_of(cert.not_after),
        serial: cert.serial.clone(),
    }
}

#[derive(Template)]
#[template(path = "citizen/certificates.html")]
struct Certificates {
    frame: Frame,
    done: Option<String>,
    error: Option<String>,
    certs: Vec<CertLine>,
}

pub async fn certificates(
    State(s): State<AppState>,
    Query(q): Query<Q>,
    who: SignedInCitizen<ManageCertificates>,
) -> Response {
    let (c, a) = (&who.ctx, &who.account);
    let found = s.authority.store.certificates(Some(&a.id_number), None, 50, 0).await.unwrap_or_default();
    let creds = s.authority.store.credentials_of(&a.id_number).await.unwrap_or_default();
    let certs = found.iter().map(|cert| cert_line(&s, c.lang(), &creds, cert)).collect();
    let frame = Frame::new(c, c.t("Chứng thư số của tôi", "My certificates"));
    render_for(c, &Certificates { frame, done: q.done, error: q.err, certs })
}

async fn own_cert(s: &AppState, a: &EidAccountRow, serial: &str) -> Option<CertRow> {
    let cert = s.authority.certificate(serial).await.ok()?;
    (cert.id_number.as_deref() == Some(a.id_number.as_str())).then_some(cert)
}

#[derive(Template)]
#[template(path = "citizen/certificate.html")]
struct Certificate {
    frame: Frame,
    cert: CertLine,
    /// SHA-256 of the DER, `AA:BB:…`
    fingerprint: String,
    /// Neither revoked nor expired: renew and revoke are offered.
    active: bool,
    /// Sent here from the activation form: this valid certificate is why no second one was made.
    already: bool,
}

pub async fn certificate(
    State(s): State<AppState>,
    Path(serial): Path<String>,
    Query(q): Query<Q>,
    who: SignedInCitizen<ManageCertificates>,
) -> Response {
    let (c, a) = (&who.ctx, &who.account);
    let Some(cert) = own_cert(&s, a, &serial).await else {
        return (StatusCode::NOT_FOUND, Notice::new(c, c.t("Không tìm thấy", "Not found")).page(c)).into_response();
    };
    let fingerprint = kyso_pki::alg::sha256(&cert.der).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":");
    let active = cert.revoked_at.is_none() && cert.not_after > kyso_store::now();
    let frame = Frame::new(c, c.t("Chi tiết chứng thư số", "Certificate details"));
    let creds = s.authority.store.credentials_of(&a.id_number).await.unwrap_or_default();
    let page = Certificate {
        frame,
        cert: cert_line(&s, c.lang(), &creds, &cert),
        fingerprint,
        active,
        already: q.err.as_deref() == Some("active"),
    };
    render_for(c, &page)
}

/// After a renewal or a revocation: the certificate, or the list with the authority's refusal.
fn after(done: Result<String, String>) -> Response {
    match done {
        Ok(serial) => Redirect::to(&format!("/me/certificates/{serial}")).into_response(),
        Err(e) => Redirect::to(&format!("/me/certificates?err={}", urlencode(&e))).into_response(),
    }
}

pub async fn renew(State(s): State<AppState>, Path(serial): Path<String>, post: CitizenForm<CsrfOnly>) -> Response {
    let (c, a) = (&post.who.ctx, &post.who.account);
    if own_cert(&s, a, &serial).await.is_none() {
        return forbidden(c);
    }
    let done = s.authority.renew(&serial, false, &format!("citizen {}", masked(&a.id_number))).await;
    after(done.map(|new| new.serial).map_err(|e| e.to_string()))
}

#[derive(Deserialize)]
pub struct RevokeForm {
    csrf: String,
    reason: u8,
    sure: Option<String>,
}
csrf_forms!(RevokeForm);

pub async fn revoke(State(s): State<AppState>, Path(serial): Path<String>, post: CitizenForm<RevokeForm>) -> Response {
    let (c, a, f) = (&post.who.ctx, &post.who.account, &post.form);
    if own_cert(&s, a, &serial).await.is_none() || !matches!(f.reason, 0 | 1 | 3 | 5) || f.sure.is_none() {
        return forbidden(c);
    }
    let done = s.authority.revoke(&serial, f.reason, &format!("citizen {}", masked(&a.id_number))).await;
    after(done.map(|_| serial.clone()).map_err(|e| e.to_string()))
}
