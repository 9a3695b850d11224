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

/// A value that was refused: the field, and why in both languages — the rest of a sentence whose
/// subject is the field in words ([`crate::i18n::Lang::field`]): `"còn thiếu."` is said "Ngày
/// còn thiếu." / "The date is missing.". [`Bad::sentence`] carries whole sentences instead.
#[derive(Debug, Clone)]
pub struct Bad {
    pub field: String,
    pub vi: String,
    pub en: String,
    pub status: StatusCode,
    /// `vi` and `en` are whole sentences (that name the field themselves).
    whole: bool,
}

impl Bad {
    pub fn new(field: &str, vi: impl Into<String>, en: impl Into<String>) -> Bad {
        Bad { field: field.to_owned(), vi: vi.into(), en: en.into(), status: StatusCode::BAD_REQUEST, whole: false }
    }

    /// A refusal said in whole sentences, kept for `field` (what tests and logs name).
    pub fn sentence(field: &str, vi: impl Into<String>, en: impl Into<String>) -> Bad {
        Bad { whole: true, ..Bad::new(field, vi, en) }
    }

    /// The message in one language: the field in words, then what is wrong and what to do.
    pub fn message(&self, en: bool) -> String {
        let lang = crate::i18n::Lang::from_en(en);
        let text = lang.t(&self.vi, &self.en);
        if self.field.is_empty() || self.whole {
            return text.to_owned();
        }
        format!("{} {text}", lang.field(&self.field))
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
        Some(f) => Bad::new(f, "không hợp lệ.", "is not valid."),
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
            format!("phải là một ngày có thật, dạng dd/mm/yyyy hoặc yyyy-mm-dd; «{}» không phải.", echo(v)),
            format!("must be a real date, as dd/mm/yyyy or yyyy-mm-dd; «{}» is not one.", echo(v)),
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
            format!("phải trong các năm {FIRST_YEAR}–{LAST_YEAR}."),
            format!("must fall in the years {FIRST_YEAR}–{LAST_YEAR}."),
        ));
    }
    Ok(date)
}

/// A refused value quoted back to the person who typed it: at most 24 characters, on one line.
fn echo(v: &str) -> String {
    let cut: String = v.chars().take(24).collect();
    let more = if v.chars().count() > 24 { "…" } else { "" };
    format!("{}{more}", Clean(cut.as_str()))
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
            format!("phải là một mã gồm 1–{max} chữ cái, chữ số, '-' hoặc '_'."),
            format!("must be a code of 1–{max} letters, digits, '-' or '_'."),
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
        Bad::new(field, format!("phải là một trong: {list}."), format!("must be one of: {list}."))
    })
}

/// The 12-digit ID number (số định danh cá nhân), with what is wrong said in words: how many
/// digits were typed, or which character is not a digit and where.
pub fn id_number(field: &str, value: &str) -> Result<kyso_pki::CitizenId, Bad> {
    use kyso_pki::id::IdError;
    let again = ("Hãy nhập đủ 12 chữ số in trên thẻ căn cước.", "Type the 12 digits printed on the ID card.");
    kyso_pki::CitizenId::parse(value).map_err(|e| match e {
        IdError::Length(0) => Bad::sentence(
            field,
            format!("Chưa nhập số định danh cá nhân. {}", again.0),
            format!("The ID number is missing. {}", again.1),
        ),
        IdError::Length(n) => Bad::sentence(
            field,
            format!("Số định danh cá nhân phải có đúng 12 chữ số; bạn đã nhập {n}."),
            format!("The ID number must have exactly 12 digits; you typed {n}."),
        ),
        IdError::NotDigit { position, found } => Bad::sentence(
            field,
            format!("Số định danh cá nhân chỉ gồm chữ số; ký tự thứ {position} là «{}». {}", Clean(&found), again.0),
            format!("The ID number has digits only; character {position} is '{}'. {}", Clean(&found), again.1),
        ),
        IdError::Century(_) => {
            Bad::sentence(field, "Số định danh cá nhân không hợp lệ.", "The ID number is not valid.")
        }
    })
}

/// A Vietnamese mobile number, normalised (`0912345678`).
pub fn phone(field: &str, value: &str) -> Result<String, Bad> {
    kyso_authority::accounts::normalise_phone(value).map_err(|_| {
        Bad::sentence(
            field,
            "Số điện thoại phải là số di động 10 chữ số, bắt đầu bằng 0 (ví dụ 0912 345 678).",
            "The phone number must be a 10-digit mobile number starting with 0 (e.g. 0912 345 678).",
        )
    })
}

/// A new password long enough ([`kyso_access::password::check_new`]).
pub fn new_password(field: &str, value: &str) -> Result<(), Bad> {
    use kyso_access::password::{Weak, MAX_LEN, MIN_LEN};
    kyso_access::password::check_new(value).map_err(|w| match w {
        Weak::Short => Bad::sentence(
            field,
            format!("Mật khẩu cần ít nhất {MIN_LEN} ký tự; một câu ngắn dễ nhớ là mật khẩu tốt."),
            format!("The password needs at least {MIN_LEN} characters; a short sentence you remember is a good one."),
        ),
        Weak::Long => Bad::sentence(
            field,
            format!("Mật khẩu dài quá {MAX_LEN} ký tự; hãy rút ngắn."),
            format!("The password is longer than {MAX_LEN} characters; shorten it."),
        ),
        Weak::Digits => Bad::sentence(
            field,
            "Mật khẩu chỉ gồm chữ số cần ít nhất 12 số; hoặc thêm chữ cái.",
            "A password of digits only needs at least 12 of them; or add letters.",
        ),
    })
}

/// A refusal the services word in both languages (`"field: vi / en"`, the field optional) in one
/// language, the field in words.
pub fn refusal(lang: crate::i18n::Lang, text: &str) -> String {
    let (vi, en) = text.split_once(" / ").unwrap_or((text, text));
    let side = lang.t(vi, en);
    let ident = |f: &str| !f.is_empty() && f.len() <= 40 && f.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    // "id_number: 0191****0001 không có …" names its field once, on the Vietnamese side
    let field = vi.split_once(": ").map(|x| x.0).filter(|f| ident(f));
    let side = match side.split_once(": ") {
        Some((f, rest)) if ident(f) => rest,
        _ => side,
    };
    match field {
        Some(f) => format!("{} {side}", lang.field(f)),
        None => {
            let mut c = side.chars();
            c.next().map_or_else(String::new, |first| first.to_uppercase().chain(c).collect())
        }
    }
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
        format!("dài quá {} ký tự; hãy rút ngắn.", limit.max_chars),
        format!("is longer than {} characters; shorten it.", limit.max_chars),
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
            assert!(e.message(false).starts_with("Ngày phải là một ngày có thật"), "{bad}");
            assert!(e.message(true).starts_with("The date must be a real date"), "{bad}");
        }
        assert!(day("date", "1999-12-31").unwrap_err().en.contains("2000"));
        assert!(day("date", "2101-01-01").is_err());
        assert_eq!(opt_day("date", Some("")).unwrap(), None);
    }

    #[test]
    fn id_numbers_are_refused_in_words() {
        let vi = |v: &str| id_number("id_number", v).unwrap_err().message(false);
        let en = |v: &str| id_number("id_number", v).unwrap_err().message(true);
        assert_eq!(vi("01908123456"), "Số định danh cá nhân phải có đúng 12 chữ số; bạn đã nhập 11.");
        assert_eq!(en("01908123456"), "The ID number must have exactly 12 digits; you typed 11.");
        assert!(vi("01908A123456").starts_with("Số định danh cá nhân chỉ gồm chữ số; ký tự thứ 6 là «A»."));
        assert!(en("01908A123456").starts_with("The ID number has digits only; character 6 is 'A'."));
        assert!(vi("").starts_with("Chưa nhập số định danh cá nhân."));
        assert_eq!(id_number("id_number", " 019190000001 ").unwrap().expose(), "019190000001");
    }

    #[test]
    fn refusals_in_one_language() {
        use crate::i18n::Lang;
        let t = "id_number: 0191****0001 đã có tài khoản; hãy đăng nhập / already has an account: log in";
        assert_eq!(refusal(Lang::Vi, t), "Số định danh cá nhân 0191****0001 đã có tài khoản; hãy đăng nhập");
        assert_eq!(refusal(Lang::En, t), "The ID number already has an account: log in");
        assert_eq!(refusal(Lang::En, "quá nhiều lần thử / too many attempts"), "Too many attempts");
    }

    #[test]
    fn fields_are_named_in_words() {
        let b = Bad::new("date", "còn thiếu.", "is missing.");
        assert_eq!((b.message(false).as_str(), b.message(true).as_str()), ("Ngày còn thiếu.", "The date is missing."));
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
