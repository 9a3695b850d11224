//! Sign a PDF: the form (a valid credential, the PIN, the one-time code where the provider asks
//! for one), the upload, and the signed file as a download.

use super::{masked, provider_label, urlencode, vn_date_of, Q};
use crate::input::Query;
use crate::web::extract::{SignDocuments, SignedInCitizen};
use crate::web::layout::{render_for, Frame};
use crate::web::multipart as mpart;
use crate::web::{bad_csrf, Ctx, Notice};
use crate::AppState;
use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kyso_authority::signing::SigningError;
use kyso_custody::Pin;
use kyso_store::accounts::EidAccountRow;

/// Largest PDF accepted by the signing form.
pub const MAX_PDF: usize = 20 << 20;

/// A credential the citizen may sign with.
struct Credential {
    id: String,
    provider: String,
    /// The certificate serial's last 8 hex digits, to tell two certificates apart.
    serial_tail: String,
    from: String,
    until: String,
    /// The newest valid one: pre-selected.
    selected: bool,
    /// When it was issued (not before, then created), to find the newest.
    issued: (i64, i64),
}

#[derive(Template)]
#[template(path = "citizen/sign.html")]
struct SignPage<'a> {
    frame: Frame,
    error: Option<&'a str>,
    credentials: Vec<Credential>,
    /// One of them needs the code from an authenticator app.
    otp: bool,
}

async fn sign_form(s: &AppState, c: &Ctx, a: &EidAccountRow, error: Option<&str>) -> Response {
    let creds = s.authority.store.credentials_of(&a.id_number).await.unwrap_or_default();
    let mut credentials = Vec::new();
    let mut otp = false;
    for cr in creds.iter().filter(|c| c.status == "active") {
        if let Ok(Some(cert)) = s.authority.store.certificate(&cr.cert_serial).await {
            if cert.revoked_at.is_none() && cert.not_after > kyso_store::now() {
                let tail = cert.serial.len().saturating_sub(8);
                credentials.push(Credential {
                    id: cr.id.clone(),
                    provider: provider_label(s, &cr.provider_id),
                    serial_tail: cert.serial.get(tail..).unwrap_or_default().to_uppercase(),
                    from: vn_date_of(cert.not_before),
                    until: vn_date_of(cert.not_after),
                    selected: false,
                    issued: (cert.not_before, cert.created_at),
                });
                otp |= cr.totp_secret.is_some();
            }
        }
    }
    // Newest first, and that one chosen unless the citizen picks another.
    credentials.sort_by(|a, b| b.issued.cmp(&a.issued).then_with(|| a.id.cmp(&b.id)));
    if let Some(first) = credentials.first_mut() {
        first.selected = true;
    }
    let title = c.t("Ký tài liệu", "Sign a document");
    if credentials.is_empty() {
        // The error that just made the last credential unusable (locked) stays visible.
        return Notice::new(c, title)
            .error_opt(error)
            .text(c.t("Bạn chưa có chứng thư số đang hiệu lực.", "You have no valid certificate."))
            .button("/me/provider", c.t("Tạo chữ ký số", "Create a signing certificate"))
            .page(c);
    }
    render_for(c, &SignPage { frame: Frame::new(c, title), error, credentials, otp })
}

/// [`sign_form`] with an error and a status.
async fn refused(s: &AppState, c: &Ctx, a: &EidAccountRow, status: StatusCode, msg: &str) -> Response {
    let mut r = sign_form(s, c, a, Some(msg)).await;
    *r.status_mut() = status;
    r
}

pub async fn sign_page(State(s): State<AppState>, Query(_): Query<Q>, who: SignedInCitizen<SignDocuments>) -> Response {
    sign_form(&s, &who.ctx, &who.account, None).await
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

/// Why the authority did not sign, in the page's language.
fn signing_error(c: &Ctx, e: &SigningError) -> String {
    use SigningError as E;
    match e {
        E::InvalidPin { remaining } if !c.en => format!("Mã PIN không đúng; còn {remaining} lần thử trước khi chứng thư bị khóa."),
        E::Locked if !c.en => "Chứng thư đã bị khóa do nhập sai mã PIN hoặc mã OTP 5 lần. Hãy đến điểm hỗ trợ để cán bộ xác thực lại trực tiếp và mở khóa.".to_string(),
        E::Busy if !c.en => "Đang có lần nhập mã PIN khác cho chứng thư này được kiểm tra; hãy thử lại sau vài giây.".to_string(),
        E::InvalidOtp if !c.en => "Mã xác thực một lần (OTP) không đúng, đã hết hạn hoặc đã dùng: hãy đợi mã tiếp theo trong ứng dụng.".to_string(),
        E::Authority(kyso_authority::AuthorityError::Busy(_)) if !c.en => "Máy chủ đang bận kiểm tra mã PIN của người khác; hãy thử lại sau vài giây.".to_string(),
        E::InvalidRequest(m) if !c.en && m.contains("revoked or expired") => "Chứng thư số của bạn đã bị thu hồi hoặc hết hạn: hãy gia hạn hoặc tạo chứng thư mới tại mục Chứng thư số của tôi.".to_string(),
        e => e.to_string(),
    }
}

pub async fn sign(
    State(s): State<AppState>,
    h: HeaderMap,
    who: SignedInCitizen<SignDocuments>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let (c, a) = (&who.ctx, &who.account);
    let ct = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let limits = mpart::Limits { max_fields: 16, max_text: 4 << 10, max_file: MAX_PDF, file_field: "file" };
    let form = match mpart::check_content_type(ct) {
        Ok(()) => mpart::read(mp, limits).await,
        Err(e) => Err(e),
    };
    let form = match form {
        Ok(f) => f,
        Err(e) => return refused(&s, c, a, e.status(), &e.message(c.en)).await,
    };
    let field = |n: &str| form.field(n);
    if !c.csrf_valid(&field("csrf").unwrap_or_default()) {
        return bad_csrf(c);
    }
    let Some(file) = form.file.as_ref().filter(|f| !f.data.is_empty()) else {
        return sign_form(&s, c, a, Some(c.t("Hãy chọn một tệp PDF.", "Choose a PDF file."))).await;
    };
    if !file.data.starts_with(b"%PDF-") {
        let msg =
            c.t("Tệp không phải PDF (không bắt đầu bằng %PDF-).", "This is not a PDF (it does not start with %PDF-).");
        return sign_form(&s, c, a, Some(msg)).await;
    }
    let Ok(pin) = Pin::parse(&field("pin").unwrap_or_default()) else {
        return sign_form(&s, c, a, Some(c.t("Mã PIN gồm đúng 6 chữ số.", "The PIN is exactly 6 digits."))).await;
    };
    let credential = field("credential").unwrap_or_default();
    let reason = field("reason").filter(|r| !r.is_empty());
    let otp = field("otp").filter(|o| !o.is_empty());
    match s
        .authority
        .sign_pdf(kyso_authority::PdfJob {
            id_number: &a.id_number,
            credential: &credential,
            pin: &pin,
            otp: otp.as_deref(),
            pdf: &file.data,
            reason,
            level: kyso_validate::Level::BLt,
            visible: None,
        })
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
        Err(SigningError::Overloaded(b)) => {
            let msg = if c.en {
                format!("The server is busy signing other documents; retry in {} s.", b.retry_after_secs)
            } else {
                format!("Máy chủ đang bận ký tài liệu khác; hãy thử lại sau {} giây.", b.retry_after_secs)
            };
            let mut r = refused(&s, c, a, StatusCode::SERVICE_UNAVAILABLE, &msg).await;
            if let Ok(v) = b.retry_after_secs.to_string().parse() {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        Err(e) => refused(&s, c, a, StatusCode::UNPROCESSABLE_ENTITY, &signing_error(c, &e)).await,
    }
}
