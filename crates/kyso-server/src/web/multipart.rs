//! multipart/form-data (RFC 7578) through axum's `Multipart` (the maintained `multer` parser,
//! whose boundary search is linear in the body), with limits: the boundary at most 70 characters
//! (RFC 2046 §5.1.1), a bounded number of fields, each text field and the one file bounded, the
//! whole body bounded by the route's `DefaultBodyLimit`. The hand-written reader this replaces
//! searched the whole body once per part with a naive window scan: a 60 kB boundary on a 20 MiB
//! body froze the server for 46 s.

use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::Multipart;

/// RFC 2046: a boundary is 1 to 70 characters.
pub const MAX_BOUNDARY: usize = 70;

/// What one form may hold.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Parts of any name, the file included.
    pub max_fields: usize,
    /// Bytes of one text field.
    pub max_text: usize,
    /// Bytes of the file.
    pub max_file: usize,
    /// The name of the file field.
    pub file_field: &'static str,
}

/// The form's text fields (trimmed of nothing: as sent) and its file.
#[derive(Debug, Default)]
pub struct Form {
    pub fields: Vec<(String, String)>,
    pub file: Option<File>,
}

#[derive(Debug)]
pub struct File {
    pub filename: Option<String>,
    pub data: Vec<u8>,
}

impl Form {
    /// The first text field of that name, trimmed.
    pub fn field(&self, name: &str) -> Option<String> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim().to_string())
    }
}

/// Why a form was refused; [`FormError::message`] says it in the page's language.
#[derive(Debug, PartialEq, Eq)]
pub enum FormError {
    /// Not multipart/form-data, or no boundary.
    NotMultipart,
    BoundaryTooLong {
        len: usize,
    },
    TooManyFields {
        max: usize,
    },
    FieldTooLarge {
        name: String,
        max: usize,
    },
    FileTooLarge {
        max: usize,
    },
    /// The body went over the route's limit.
    BodyTooLarge,
    /// Anything else the parser refused (truncated body, bad headers).
    Malformed,
}

impl FormError {
    pub fn message(&self, en: bool) -> String {
        match (self, en) {
            (FormError::BoundaryTooLong { len }, false) => {
                format!("Biểu mẫu không hợp lệ: ranh giới multipart dài {len} ký tự (tối đa {MAX_BOUNDARY}).")
            }
            (FormError::BoundaryTooLong { len }, true) => {
                format!("Invalid form: the multipart boundary has {len} characters (at most {MAX_BOUNDARY}).")
            }
            (FormError::TooManyFields { max }, false) => format!("Biểu mẫu có quá nhiều trường (tối đa {max})."),
            (FormError::TooManyFields { max }, true) => format!("The form has too many fields (at most {max})."),
            (FormError::FieldTooLarge { name, max }, en) => {
                let lang = crate::i18n::Lang::from_en(en);
                let field = lang.field(&clean(name));
                lang.t(
                    &format!("{field} quá dài (tối đa {max} byte); hãy rút ngắn."),
                    &format!("{field} is too long (at most {max} bytes); shorten it."),
                )
                .to_owned()
            }
            (FormError::FileTooLarge { max }, false) => format!("Tệp quá lớn (tối đa {} MB).", max >> 20),
            (FormError::FileTooLarge { max }, true) => format!("The file is too large (at most {} MB).", max >> 20),
            (FormError::BodyTooLarge, false) => "Dữ liệu gửi lên quá lớn.".into(),
            (FormError::BodyTooLarge, true) => "The upload is too large.".into(),
            (FormError::NotMultipart | FormError::Malformed, false) => "Không đọc được biểu mẫu; hãy thử lại.".into(),
            (FormError::NotMultipart | FormError::Malformed, true) => "Could not read the form; please retry.".into(),
        }
    }

    /// The HTTP status that goes with it.
    pub fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            FormError::FileTooLarge { .. } | FormError::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// A field name as it may appear in a message: printable, at most 40 characters.
fn clean(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(40).collect()
}

/// The boundary of a `multipart/form-data; boundary=…` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim().eq_ignore_ascii_case("boundary").then(|| v.trim().trim_matches('"').to_string())
    })
}

/// Check the request's content type before any of the body is read.
pub fn check_content_type(content_type: &str) -> Result<(), FormError> {
    let b = boundary(content_type).ok_or(FormError::NotMultipart)?;
    if b.is_empty() {
        return Err(FormError::NotMultipart);
    }
    if b.len() > MAX_BOUNDARY {
        return Err(FormError::BoundaryTooLong { len: b.len() });
    }
    Ok(())
}

fn from_multer(e: axum::extract::multipart::MultipartError) -> FormError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        FormError::BodyTooLarge
    } else {
        FormError::Malformed
    }
}

/// A field's bytes, refused past `max` as soon as they go over it.
async fn bounded(field: &mut Field<'_>, max: usize) -> Result<Option<Vec<u8>>, FormError> {
    let mut out = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(from_multer)? {
        if out.len() + chunk.len() > max {
            return Ok(None);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Some(out))
}

/// Read the whole form within `limits` (call [`check_content_type`] first).
pub async fn read(mp: Result<Multipart, MultipartRejection>, limits: Limits) -> Result<Form, FormError> {
    let mut mp = mp.map_err(|_| FormError::NotMultipart)?;
    let mut form = Form::default();
    let mut count = 0;
    while let Some(mut field) = mp.next_field().await.map_err(from_multer)? {
        count += 1;
        if count > limits.max_fields {
            return Err(FormError::TooManyFields { max: limits.max_fields });
        }
        let name = field.name().unwrap_or_default().to_string();
        if name == limits.file_field {
            let filename = field.file_name().map(str::to_string);
            let data =
                bounded(&mut field, limits.max_file).await?.ok_or(FormError::FileTooLarge { max: limits.max_file })?;
            if form.file.is_none() {
                form.file = Some(File { filename, data });
            }
        } else {
            let max = limits.max_text;
            let data =
                bounded(&mut field, max).await?.ok_or_else(|| FormError::FieldTooLarge { name: name.clone(), max })?;
            // A text field is UTF-8 as sent, or refused: never silently rewritten (and so never
            // longer than its limit once decoded; the `multipart` fuzz target holds it to that).
            let text = String::from_utf8(data).map_err(|_| FormError::Malformed)?;
            form.fields.push((name, text));
        }
    }
    Ok(form)
}

/// One body through the whole reader (content type check, axum's multipart, the limits), for the
/// `multipart` fuzz target: the form it accepts, or the error's English message.
#[doc(hidden)]
pub async fn read_body(content_type: &str, body: Vec<u8>, limits: Limits) -> Result<Form, String> {
    use axum::extract::FromRequest;
    check_content_type(content_type).map_err(|e| e.message(true))?;
    let req = axum::http::Request::builder()
        .method("POST")
        .header("content-type", content_type)
        .body(axum::body::Body::from(body))
        .map_err(|e| e.to_string())?;
    read(Multipart::from_request(req, &()).await, limits).await.map_err(|e| e.message(true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::FromRequest;

    const LIMITS: Limits = Limits { max_fields: 4, max_text: 16, max_file: 64, file_field: "file" };

    async fn parse(ct: &str, body: &'static [u8]) -> Result<Form, FormError> {
        check_content_type(ct)?;
        let req = axum::http::Request::builder()
            .method("POST")
            .header("content-type", ct)
            .body(axum::body::Body::from(body))
            .unwrap();
        read(Multipart::from_request(req, &()).await, LIMITS).await
    }

    #[tokio::test]
    async fn reads_fields_and_a_file() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"pin\"\r\n\r\n123456\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"h\xe1\xbb\x93 s\xc6\xa1.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\r\n\r\n--XyZ--\r\n";
        let f = parse("multipart/form-data; boundary=\"XyZ\"", body).await.unwrap();
        assert_eq!(f.field("pin").as_deref(), Some("123456"));
        let file = f.file.unwrap();
        assert_eq!(file.filename.as_deref(), Some("hồ sơ.pdf"));
        assert_eq!(file.data, b"%PDF-1.7\r\n");
        assert_eq!(boundary("multipart/form-data; boundary=\"XyZ\"").as_deref(), Some("XyZ"));
        assert!(boundary("application/json").is_none());
    }

    #[tokio::test]
    async fn limits_and_malformed_bodies_are_refused() {
        let ct = "multipart/form-data; boundary=XyZ";
        for body in [&b""[..], b"--XyZ", b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nx", b"--XyZ\r\n\r\n\r\n"] {
            assert!(parse(ct, body).await.is_err(), "{body:?}");
        }
        let long = format!("multipart/form-data; boundary={}", "b".repeat(71));
        assert_eq!(parse(&long, b"").await.unwrap_err(), FormError::BoundaryTooLong { len: 71 });
        assert_eq!(parse("text/plain", b"").await.unwrap_err(), FormError::NotMultipart);
        let big_field =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"reason\"\r\n\r\n01234567890123456789\r\n--XyZ--\r\n";
        assert_eq!(
            parse(ct, big_field).await.unwrap_err(),
            FormError::FieldTooLarge { name: "reason".into(), max: 16 }
        );
        let many = b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ--\r\n";
        assert_eq!(parse(ct, many).await.unwrap_err(), FormError::TooManyFields { max: 4 });
        // A text field that is not UTF-8 is refused, not rewritten (found by the multipart fuzz target).
        let latin1 = b"--XyZ\r\nContent-Disposition: form-data; name=\"reason\"\r\n\r\nph\xe1p\r\n--XyZ--\r\n";
        assert_eq!(parse(ct, latin1).await.unwrap_err(), FormError::Malformed);
    }
}
