//! The portal's dossier API: `POST /api/v1/dossiers` (JSON with base64 files, or
//! multipart/form-data) checks a dossier — every signature of every file — and answers per file
//! and for the dossier; `GET /api/v1/dossiers/{id}` gives the same answer later. Authenticated
//! like the operator API (bearer token). The multipart reader here is also the desk page's.
//! Described in `openapi/dossiers.json`.

use crate::api::{authorised, err};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use kyso_authority::dossiers::{DossierError, DossierLimits, Submission, SubmittedFile};
use kyso_validate::Lang;
use serde::Deserialize;
use serde_json::json;

/// The largest request body: a dossier at its bound, base64-encoded, with room for the JSON.
pub const MAX_BODY: usize = (40 << 20) / 3 * 4 + (1 << 20);
/// Text fields of the multipart form (procedure, ID number, unit, CSRF token).
const MAX_TEXT: usize = 1024;
/// Parts of one multipart form: a file and its signature per role, and the text fields.
const MAX_PARTS: usize = 2 * kyso_validate::dossier::MAX_PROCEDURE_FILES + 8;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/dossiers", post(submit))
        .route("/api/v1/dossiers/{id}", get(show))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

/// A dossier as read from a request: its text fields and its files.
#[derive(Default)]
pub struct DossierForm {
    pub fields: Vec<(String, String)>,
    pub files: Vec<SubmittedFile>,
}

impl DossierForm {
    pub fn field(&self, name: &str) -> String {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim().to_string()).unwrap_or_default()
    }
}

/// Why a request was not read, in Vietnamese and English, with its status.
#[derive(Debug)]
pub struct FormRefusal {
    pub status: StatusCode,
    pub vi: String,
    pub en: String,
}

impl FormRefusal {
    fn bad(vi: impl Into<String>, en: impl Into<String>) -> FormRefusal {
        FormRefusal { status: StatusCode::BAD_REQUEST, vi: vi.into(), en: en.into() }
    }
    fn too_large(vi: impl Into<String>, en: impl Into<String>) -> FormRefusal {
        FormRefusal { status: StatusCode::PAYLOAD_TOO_LARGE, vi: vi.into(), en: en.into() }
    }
    pub fn message(&self, en: bool) -> &str {
        if en {
            &self.en
        } else {
            &self.vi
        }
    }
}

fn from_multer(e: axum::extract::multipart::MultipartError) -> FormRefusal {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        FormRefusal::too_large("Dữ liệu gửi lên quá lớn.", "The upload is too large.")
    } else {
        FormRefusal::bad("Không đọc được biểu mẫu; hãy thử lại.", "Could not read the form; please retry.")
    }
}

async fn bounded(field: &mut Field<'_>, max: usize, name: &str) -> Result<Vec<u8>, FormRefusal> {
    let mut out = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(from_multer)? {
        if out.len() + chunk.len() > max {
            return Err(if max == MAX_TEXT {
                FormRefusal::bad(
                    format!("Trường «{name}» quá dài (tối đa {max} byte)."),
                    format!("The field «{name}» is too long (at most {max} bytes)."),
                )
            } else {
                FormRefusal::too_large(
                    format!("Tệp của mục «{name}» quá lớn (mỗi tệp tối đa {} MB).", max >> 20),
                    format!("The file for «{name}» is too large (at most {} MB per file).", max >> 20),
                )
            });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Read a dossier from multipart/form-data: text fields, `file.<role>` parts (the file, with its
/// name) and `signature.<role>` parts (its detached `.p7s`, when it has one). Empty file parts
/// (a file input left empty) are skipped.
pub async fn read_multipart(
    content_type: &str,
    mp: Result<Multipart, MultipartRejection>,
    limits: &DossierLimits,
) -> Result<DossierForm, FormRefusal> {
    crate::web::multipart::check_content_type(content_type).map_err(|e| FormRefusal {
        status: e.status(),
        vi: e.message(false),
        en: e.message(true),
    })?;
    let mut mp = mp.map_err(|_| {
        FormRefusal::bad("Không đọc được biểu mẫu; hãy thử lại.", "Could not read the form; please retry.")
    })?;
    let mut form = DossierForm::default();
    let mut signatures: Vec<(String, Vec<u8>)> = Vec::new();
    let mut parts = 0;
    while let Some(mut field) = mp.next_field().await.map_err(from_multer)? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(FormRefusal::bad(
                format!("Biểu mẫu có quá nhiều trường (tối đa {MAX_PARTS})."),
                format!("The form has too many fields (at most {MAX_PARTS})."),
            ));
        }
        let name: String = field.name().unwrap_or_default().chars().filter(|c| !c.is_control()).take(80).collect();
        if let Some(role) = name.strip_prefix("file.") {
            let file_name = field.file_name().unwrap_or(role).to_string();
            let data = bounded(&mut field, limits.max_file, role).await?;
            if !data.is_empty() {
                form.files.push(SubmittedFile { role: role.into(), file_name, content: data, signature: None });
            }
        } else if let Some(role) = name.strip_prefix("signature.") {
            let data = bounded(&mut field, limits.max_file, role).await?;
            if !data.is_empty() {
                signatures.push((role.to_string(), data));
            }
        } else {
            let data = bounded(&mut field, MAX_TEXT, &name).await?;
            let text = String::from_utf8(data).map_err(|_| {
                FormRefusal::bad(
                    format!("Trường «{name}» không phải UTF-8."),
                    format!("The field «{name}» is not UTF-8."),
                )
            })?;
            form.fields.push((name, text));
        }
    }
    attach(&mut form.files, signatures)?;
    Ok(form)
}

/// Each detached signature to the file of its role.
fn attach(files: &mut [SubmittedFile], signatures: Vec<(String, Vec<u8>)>) -> Result<(), FormRefusal> {
    for (role, sig) in signatures {
        match files.iter_mut().find(|f| f.role == role) {
            Some(f) => f.signature = Some(sig),
            None => {
                return Err(FormRefusal::bad(
                    format!("Có chữ ký rời (.p7s) cho mục «{role}» nhưng không có tệp của mục đó."),
                    format!("A detached signature (.p7s) for «{role}» came without its file."),
                ))
            }
        }
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonFile {
    role: String,
    file_name: String,
    /// The file, base64 (standard alphabet).
    content: String,
    /// Its detached CAdES signature (`.p7s`), base64.
    signature: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonDossier {
    procedure: String,
    applicant_id: String,
    unit: String,
    files: Vec<JsonFile>,
}

fn decode(field: String, b64: &str, limits: &DossierLimits) -> Result<Vec<u8>, FormRefusal> {
    // base64 is 4/3 of the bytes: refuse before decoding what cannot fit
    if b64.len() / 4 * 3 > limits.max_file + 3 {
        return Err(FormRefusal::too_large(
            format!("{field}: tệp quá lớn (mỗi tệp tối đa {} MB).", limits.max_file >> 20),
            format!("{field}: the file is too large (at most {} MB per file).", limits.max_file >> 20),
        ));
    }
    base64::engine::general_purpose::STANDARD.decode(b64.trim()).map_err(|e| {
        FormRefusal::bad(
            format!("{field}: không phải base64 hợp lệ ({e})."),
            format!("{field}: not valid base64 ({e})."),
        )
    })
}

fn read_json(body: &[u8], limits: &DossierLimits) -> Result<DossierForm, FormRefusal> {
    let d: JsonDossier = serde_json::from_slice(body)
        .map_err(|e| FormRefusal::bad(format!("JSON không hợp lệ: {e}"), format!("invalid JSON: {e}")))?;
    if d.files.len() > kyso_validate::dossier::MAX_PROCEDURE_FILES {
        let max = kyso_validate::dossier::MAX_PROCEDURE_FILES;
        return Err(FormRefusal::bad(format!("files: tối đa {max} tệp."), format!("files: at most {max} files.")));
    }
    let mut files = Vec::with_capacity(d.files.len());
    for (i, f) in d.files.into_iter().enumerate() {
        let content = decode(format!("files[{i}].content"), &f.content, limits)?;
        let signature =
            f.signature.as_deref().map(|s| decode(format!("files[{i}].signature"), s, limits)).transpose()?;
        files.push(SubmittedFile { role: f.role, file_name: f.file_name, content, signature });
    }
    let fields =
        vec![("procedure".into(), d.procedure), ("applicant_id".into(), d.applicant_id), ("unit".into(), d.unit)];
    Ok(DossierForm { fields, files })
}

/// The answer to a refused dossier: 400/413/503 with the message in both languages.
pub fn dossier_error(e: DossierError) -> Response {
    match &e {
        DossierError::Invalid { field, vi, en } => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_request", "field": field, "error_description": format!("{field}: {en}"), "message": format!("{field}: {vi}")})),
        )
            .into_response(),
        DossierError::TooLarge { vi, en } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            Json(json!({"error": "too_large", "error_description": en, "message": vi})),
        )
            .into_response(),
        // JSON like every other answer of this API (the portal reads `error`), with Retry-After
        DossierError::Busy(b) => {
            let en = format!("The server is busy with other {} work; retry in {} s.", b.work.name(), b.retry_after_secs);
            let vi = format!("Máy chủ đang bận; hãy thử lại sau {} giây.", b.retry_after_secs);
            let mut r = (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"error": "temporarily_unavailable", "error_description": en, "message": vi})),
            )
                .into_response();
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, b.retry_after_secs.into());
            r
        }
        DossierError::Authority(a) => {
            tracing::error!(error = %crate::input::Clean(a), "dossier check failed");
            err(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal error; see the server log")
        }
    }
}

fn refusal(r: FormRefusal) -> Response {
    let code = if r.status == StatusCode::PAYLOAD_TOO_LARGE { "too_large" } else { "invalid_request" };
    (r.status, Json(json!({"error": code, "error_description": r.en, "message": r.vi}))).into_response()
}

async fn submit(State(s): State<AppState>, headers: HeaderMap, req: Request) -> Response {
    if !authorised(&s, &headers) {
        return err(StatusCode::UNAUTHORIZED, "invalid_token", "send Authorization: Bearer <operator token>");
    }
    let limits = DossierLimits::default();
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let read = if ct.starts_with("application/json") {
        match Bytes::from_request(req, &s).await {
            Ok(body) => read_json(&body, &limits),
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(FormRefusal::too_large(
                format!("Dữ liệu gửi lên quá lớn (tối đa {} MB).", MAX_BODY >> 20),
                format!("The request is too large (at most {} MB).", MAX_BODY >> 20),
            )),
            Err(r) => Err(FormRefusal::bad(r.body_text(), r.body_text())),
        }
    } else if ct.starts_with("multipart/form-data") {
        let mp = Multipart::from_request(req, &s).await;
        read_multipart(&ct, mp, &limits).await
    } else {
        return err(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "send application/json or multipart/form-data",
        );
    };
    let form = match read {
        Ok(r) => r,
        Err(r) => return refusal(r),
    };
    let submission = Submission {
        procedure: form.field("procedure"),
        applicant_id: form.field("applicant_id"),
        unit_code: form.field("unit"),
        channel: "api",
        actor: "portal-api".into(),
        files: form.files,
    };
    match s.authority.check_dossier(submission, &limits).await {
        Ok(v) => {
            (StatusCode::CREATED, [(header::LOCATION, format!("/api/v1/dossiers/{}", v.id))], Json(v)).into_response()
        }
        Err(e) => dossier_error(e),
    }
}

async fn show(State(s): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if !authorised(&s, &headers) {
        return err(StatusCode::UNAUTHORIZED, "invalid_token", "send Authorization: Bearer <operator token>");
    }
    let Ok(id) = id.parse::<i64>() else {
        return err(StatusCode::BAD_REQUEST, "invalid_request", "id: a dossier number (digits)");
    };
    match s.authority.dossier(id).await {
        Ok(Some(v)) => Json(v).into_response(),
        Ok(None) => err(StatusCode::NOT_FOUND, "not_found", format!("dossier {id} not found")),
        Err(e) => dossier_error(DossierError::Authority(e)),
    }
}

/// The message of a refused dossier in the page's language.
pub fn message(e: &DossierError, en: bool) -> String {
    e.message(if en { Lang::En } else { Lang::Vi })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read file: role, name, content, signature.
    type Read<'a> = (&'a str, &'a str, &'a [u8], Option<&'a [u8]>);

    const LIMITS: DossierLimits = DossierLimits { max_file: 64, max_total: 128 };

    async fn parse(body: &[u8]) -> Result<DossierForm, FormRefusal> {
        let ct = "multipart/form-data; boundary=B";
        let req = axum::http::Request::builder()
            .method("POST")
            .header("content-type", ct)
            .body(axum::body::Body::from(body.to_vec()))
            .unwrap();
        read_multipart(ct, Multipart::from_request(req, &()).await, &LIMITS).await
    }

    #[tokio::test]
    async fn files_their_signatures_and_fields_are_read_by_role() {
        let body = b"--B\r\nContent-Disposition: form-data; name=\"applicant_id\"\r\n\r\n001203001234\r\n--B\r\nContent-Disposition: form-data; name=\"file.to-khai\"; filename=\"t\xe1\xbb\x9d khai.pdf\"\r\n\r\n%PDF-1.7\r\n--B\r\nContent-Disposition: form-data; name=\"signature.cccd\"; filename=\"c.p7s\"\r\n\r\nCMS\r\n--B\r\nContent-Disposition: form-data; name=\"file.cccd\"; filename=\"c.jpg\"\r\n\r\nJPG\r\n--B\r\nContent-Disposition: form-data; name=\"file.uy-quyen\"; filename=\"\"\r\n\r\n\r\n--B--\r\n";
        let f = parse(body).await.unwrap();
        assert_eq!(f.field("applicant_id"), "001203001234");
        let files: Vec<Read> = f
            .files
            .iter()
            .map(|f| (f.role.as_str(), f.file_name.as_str(), f.content.as_slice(), f.signature.as_deref()))
            .collect();
        // the empty file input is skipped; the signature found its file whatever the order
        assert_eq!(
            files,
            vec![("to-khai", "tờ khai.pdf", &b"%PDF-1.7"[..], None), ("cccd", "c.jpg", &b"JPG"[..], Some(&b"CMS"[..]))]
        );
    }

    #[tokio::test]
    async fn limits_and_orphans_are_refused_in_vietnamese() {
        let big = b"--B\r\nContent-Disposition: form-data; name=\"file.to-khai\"; filename=\"a.pdf\"\r\n\r\n0123456789012345678901234567890123456789012345678901234567890123456789\r\n--B--\r\n";
        let e = parse(big).await.err().unwrap();
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(e.vi.contains("Tệp của mục «to-khai» quá lớn"), "{}", e.vi);
        let orphan = b"--B\r\nContent-Disposition: form-data; name=\"signature.cccd\"\r\n\r\nCMS\r\n--B--\r\n";
        let e = parse(orphan).await.err().unwrap();
        assert!(e.vi.contains("không có tệp của mục đó"), "{}", e.vi);
        let mut long = b"--B\r\nContent-Disposition: form-data; name=\"procedure\"\r\n\r\n".to_vec();
        long.extend(vec![b'x'; MAX_TEXT + 1]);
        long.extend(b"\r\n--B--\r\n");
        let e = parse(&long).await.err().unwrap();
        assert_eq!((e.status, e.vi.contains("«procedure» quá dài")), (StatusCode::BAD_REQUEST, true), "{}", e.vi);
    }

    #[test]
    fn json_files_are_decoded_and_bounded() {
        let ok = br#"{"procedure":"p","applicant_id":"001203001234","unit":"01960","files":[{"role":"a","file_name":"a.pdf","content":"JVBERg==","signature":"Q01T"}]}"#;
        let f = read_json(ok, &LIMITS).unwrap();
        assert_eq!(
            (f.field("unit"), &f.files[0].content[..], f.files[0].signature.as_deref()),
            ("01960".into(), &b"%PDF"[..], Some(&b"CMS"[..]))
        );
        let unknown = br#"{"procedure":"p","applicant_id":"1","unit":"u","files":[],"extra":1}"#;
        assert!(read_json(unknown, &LIMITS).err().unwrap().vi.contains("JSON không hợp lệ"));
        let big = format!(
            r#"{{"procedure":"p","applicant_id":"1","unit":"u","files":[{{"role":"a","file_name":"a","content":"{}"}}]}}"#,
            "A".repeat(200)
        );
        assert_eq!(read_json(big.as_bytes(), &LIMITS).err().unwrap().status, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
