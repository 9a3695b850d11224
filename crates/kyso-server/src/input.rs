//! Typed input at the edge. Every query string and form of the pages is read through [`Query`] and
//! [`Form`] (drop-in for axum's, whose rejections are plain English text), and every value that is
//! not free text is parsed here into a type: dates ([`day`]), unit codes ([`code`]), text within
//! the store's limits ([`text`]). A bad value is a 400 page in the request's language (Vietnamese
//! unless `?lang=en` or the `kyso_lang` cookie says English) naming the field — never a 500.
//!
//! [`Clean`] is how user-supplied text goes into a log line: control characters escaped, so one
//! value can never start a second, forged line.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::de::DeserializeOwned;
use std::fmt;
use time::{Date, Month};

/// A value that was refused: the field, and why in both languages.
#[derive(Debug, Clone)]
pub struct Bad {
    pub field: String,
    pub vi: String,
    pub en: String,
    pub status: StatusCode,
}

impl Bad {
    pub fn new(field: &str, vi: impl Into<String>, en: impl Into<String>) -> Bad {
        Bad { field: field.to_owned(), vi: vi.into(), en: en.into(), status: StatusCode::BAD_REQUEST }
    }

    /// The message in one language, field first.
    pub fn message(&self, en: bool) -> String {
        if self.field.is_empty() {
            return if en { self.en.clone() } else { self.vi.clone() };
        }
        if en {
            format!("{}: {}", self.field, self.en)
        } else {
            format!("Trường «{}»: {}", self.field, self.vi)
        }
    }

    /// The error page (status 400 unless set otherwise).
    pub fn page(&self, en: bool) -> Response {
        let lang = crate::i18n::Lang::from_en(en);
        let title = lang.t("Yêu cầu không hợp lệ", "Bad request");
        let title = if self.status == axum::http::StatusCode::NOT_FOUND {
            lang.t("Không có trang này", "Not found")
        } else {
            title
        };
        let page = ErrorPage { frame: crate::web::layout::Frame::public(lang, title), message: self.message(en) };
        let mut r = crate::web::layout::render(&page);
        *r.status_mut() = self.status;
        r
    }
}

/// A request kyso cannot serve, said in the page's language.
#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage {
    frame: crate::web::layout::Frame,
    message: String,
}

/// English when the query says `lang=en`, or (without a `lang` in the query) the language cookie.
pub fn wants_en(uri: &Uri, headers: &HeaderMap) -> bool {
    if let Some(q) = uri.query() {
        for pair in q.split('&') {
            if let Some(v) = pair.strip_prefix("lang=") {
                return v == "en";
            }
        }
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .any(|kv| kv.trim() == "kyso_lang=en")
}

/// The field a serde message names: between backticks (`missing field \`x\``), or as the path
/// before the message (`x: invalid digit found in string`).
fn named_field(text: &str) -> Option<&str> {
    let text = text.strip_prefix("Failed to deserialize ").map_or(text, |t| t.split_once(": ").map_or(t, |x| x.1));
    let ident = |f: &str| !f.is_empty() && f.len() <= 40 && f.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if let Some(start) = text.find('`').map(|i| i + 1) {
        if let Some(len) = text[start..].find('`') {
            return Some(&text[start..start + len]).filter(|f| ident(f));
        }
    }
    text.split_once(": ").map(|x| x.0).filter(|f| ident(f))
}

/// Why a query string or form could not be read, in both languages.
fn unreadable(status: StatusCode, text: &str) -> Bad {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        let mut b = Bad::new(
            "",
            "Dữ liệu gửi lên quá lớn (tối đa 1 MiB). Hãy rút ngắn nội dung.",
            "The submitted data is too large (1 MiB at most). Shorten it.",
        );
        b.status = status;
        return b;
    }
    if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
        let mut b = Bad::new(
            "",
            "Biểu mẫu phải gửi dạng application/x-www-form-urlencoded.",
            "Send the form as application/x-www-form-urlencoded.",
        );
        b.status = status;
        return b;
    }
    match named_field(text) {
        Some(f) if text.contains("missing field") => Bad::new(f, "còn thiếu.", "is missing."),
        Some(f) if text.contains("duplicate field") => Bad::new(f, "được gửi hai lần.", "was sent twice."),
        Some(f) => Bad::new(f, "giá trị không hợp lệ.", "is not valid."),
        None => Bad::new("", "Không đọc được dữ liệu gửi lên.", "The submitted data could not be read."),
    }
}

/// `axum::extract::Query` with a 400 page in the request's language instead of axum's text.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(e) => {
                Err(unreadable(StatusCode::BAD_REQUEST, &e.body_text()).page(wants_en(&parts.uri, &parts.headers)))
            }
        }
    }
}

/// `axum::Form` with an error page in the request's language (400; 413 when too large).
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let en = wants_en(req.uri(), req.headers());
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(Form(v)),
            Err(e) => {
                let status = match e.status() {
                    s @ (StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE) => s,
                    _ => StatusCode::BAD_REQUEST,
                };
                Err(unreadable(status, &e.body_text()).page(en))
            }
        }
    }
}

// ---- typed values ----

/// The first and last years a page accepts: wide enough for any plan, narrow enough that a day
/// loop over the range stays small.
pub const FIRST_YEAR: i32 = 2000;
pub const LAST_YEAR: i32 = 2100;

/// A calendar day, `yyyy-mm-dd` (what date inputs and kyso's links send) or `dd/mm/yyyy`, in
/// [`FIRST_YEAR`]..=[`LAST_YEAR`].
pub fn day(field: &str, value: &str) -> Result<Date, Bad> {
    let v = value.trim();
    let shape = || {
        Bad::new(
            field,
            "không phải là ngày có thật (dạng yyyy-mm-dd hoặc dd/mm/yyyy).",
            "is not a real date (use yyyy-mm-dd or dd/mm/yyyy).",
        )
    };
    let b = v.as_bytes();
    let num = |s: &[u8]| -> Option<u32> {
        (!s.is_empty() && s.iter().all(u8::is_ascii_digit))
            .then(|| s.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let (y, m, d) = match b.len() {
        10 if b[4] == b'-' && b[7] == b'-' => (num(&b[..4]), num(&b[5..7]), num(&b[8..])),
        10 if b[2] == b'/' && b[5] == b'/' => (num(&b[6..]), num(&b[3..5]), num(&b[..2])),
        _ => return Err(shape()),
    };
    let (Some(y), Some(m), Some(d)) = (y, m, d) else { return Err(shape()) };
    let month = u8::try_from(m).ok().and_then(|m| Month::try_from(m).ok()).ok_or_else(shape)?;
    let date = Date::from_calendar_date(y as i32, month, u8::try_from(d).map_err(|_| shape())?).map_err(|_| shape())?;
    if !(FIRST_YEAR..=LAST_YEAR).contains(&date.year()) {
        return Err(Bad::new(
            field,
            format!("ngày phải trong khoảng {FIRST_YEAR}–{LAST_YEAR}."),
            format!("the date must fall in {FIRST_YEAR}–{LAST_YEAR}."),
        ));
    }
    Ok(date)
}

/// An optional day: absent or empty is `None`.
pub fn opt_day(field: &str, value: Option<&str>) -> Result<Option<Date>, Bad> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => day(field, v).map(Some),
    }
}

/// A code of the administrative lists, support points or hamlets: 1 to `max` ASCII letters,
/// digits, `-` or `_`.
pub fn code<'a>(field: &str, value: &'a str, max: usize) -> Result<&'a str, Bad> {
    let v = value.trim();
    if v.is_empty() || v.len() > max || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(Bad::new(
            field,
            format!("mã gồm 1–{max} chữ cái, chữ số, '-' hoặc '_'."),
            format!("a code of 1–{max} letters, digits, '-' or '_'."),
        ));
    }
    Ok(v)
}

/// A required value.
pub fn required<'a>(field: &str, value: Option<&'a str>) -> Result<&'a str, Bad> {
    value.filter(|v| !v.trim().is_empty()).ok_or_else(|| Bad::new(field, "còn thiếu.", "is missing."))
}

/// One of a fixed set of words.
pub fn one_of<'a>(field: &str, value: &str, allowed: &[&'a str]) -> Result<&'a str, Bad> {
    allowed.iter().find(|a| **a == value.trim()).copied().ok_or_else(|| {
        let list = allowed.join(", ");
        Bad::new(field, format!("chọn một trong: {list}."), format!("use one of: {list}."))
    })
}

/// Free text within the store's limit for the field ([`kyso_store::limits`]).
pub fn text(limit: kyso_store::limits::Limit, value: &str) -> Result<&str, Bad> {
    limit.check(value).map_err(|_| too_long(limit))?;
    Ok(value)
}

/// The friendly form of a store limit.
pub fn too_long(limit: kyso_store::limits::Limit) -> Bad {
    Bad::new(
        limit.field,
        format!("dài quá {} ký tự.", limit.max_chars),
        format!("is longer than {} characters.", limit.max_chars),
    )
}

/// A store error as a page: a refused length is the user's 400, anything else the caller's.
pub fn store_limit(e: &kyso_store::StoreError) -> Option<Bad> {
    match e {
        kyso_store::StoreError::TooLong { field, max } => {
            Some(too_long(kyso_store::limits::Limit { field, max_chars: *max }))
        }
        _ => None,
    }
}

// ---- logs ----

/// Displays text with control characters (and the Unicode line and paragraph separators)
/// escaped, so that user input in a log field stays on its line: `%Clean(&value)`.
pub struct Clean<'a, T: fmt::Display + ?Sized>(pub &'a T);

impl<T: fmt::Display + ?Sized> fmt::Display for Clean<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.to_string();
        for c in text.chars() {
            match c {
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => write!(f, "\\u{{{:x}}}", c as u32)?,
                c => fmt::Write::write_char(f, c)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_in_both_shapes_and_the_range() {
        assert_eq!(day("date", "2026-03-05").unwrap().to_string(), "2026-03-05");
        assert_eq!(day("date", "05/03/2026").unwrap().to_string(), "2026-03-05");
        for bad in ["garbage", "2026-02-30", "99999-01-01", "2026-13-01", "2026-1-1x", "", "+026-01-01", "2026-00-10"] {
            let e = day("date", bad).unwrap_err();
            assert_eq!(e.field, "date", "{bad}");
            assert!(e.message(false).starts_with("Trường «date»"), "{bad}");
        }
        assert!(day("date", "1999-12-31").unwrap_err().en.contains("2000"));
        assert!(day("date", "2101-01-01").is_err());
        assert_eq!(opt_day("date", Some("")).unwrap(), None);
    }

    #[test]
    fn clean_keeps_one_line() {
        let forged = "x\n2026-01-01T00:00:00Z  INFO staff login staff=admin role=administrator\r\u{1b}[2J\u{2028}";
        let out = Clean(forged).to_string();
        assert!(!out.contains('\n') && !out.contains('\r') && !out.contains('\u{1b}') && !out.contains('\u{2028}'));
        assert!(out.starts_with("x\\n2026"), "{out}");
    }

    #[test]
    fn rejection_names_the_field() {
        let b = unreadable(
            StatusCode::BAD_REQUEST,
            "Failed to deserialize form body: reason: invalid digit found in string",
        );
        assert_eq!(b.field, "reason");
        let b = unreadable(StatusCode::BAD_REQUEST, "Failed to deserialize form body: missing field `csrf`");
        assert_eq!((b.field.as_str(), b.en.as_str()), ("csrf", "is missing."));
        let b = unreadable(StatusCode::BAD_REQUEST, "Failed to deserialize query string: duplicate field `lang`");
        assert_eq!(b.field, "lang");
        assert!(b.message(true).contains("twice"));
    }
}
