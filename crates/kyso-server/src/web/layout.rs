//! What every page shares: the [`Frame`] the base layout (`templates/base.html`) draws, and
//! [`render`], which turns a page template into a response (HTML, `no-store`, the request's
//! cookies). The stylesheet is `assets/kyso.css`, served at `/assets/kyso.css`.

use super::{Ctx, Who};
use crate::i18n::Lang;
use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The base layout's data: language, title, who is signed in, the switch-language links.
pub struct Frame {
    pub lang: Lang,
    pub title: String,
    /// The signed-in person as shown in the header (a masked ID number or a staff name).
    pub who: Option<String>,
    /// The CSRF token of the logout form.
    pub csrf: String,
    /// The page's path and query without `lang`, for the language links (`None`: `?lang=…`).
    pub here: Option<String>,
    /// Dashboards and reports: a wider page on large screens.
    pub wide: bool,
}

impl Frame {
    /// A page for the request's visitor.
    pub fn new(c: &Ctx, title: impl Into<String>) -> Frame {
        let who = match &c.who {
            Some(Who::Citizen(a)) => {
                Some(kyso_pki::CitizenId::parse(&a.id_number).map(|i| i.masked()).unwrap_or_default())
            }
            Some(Who::Staff(s, _)) => Some(s.display_name.clone()),
            None => None,
        };
        Frame { lang: c.lang(), title: title.into(), who, csrf: c.csrf.clone(), here: None, wide: false }
    }

    /// A page that needs no session (public pages, campaign figures).
    pub fn public(lang: Lang, title: impl Into<String>) -> Frame {
        Frame { lang, title: title.into(), who: None, csrf: String::new(), here: None, wide: false }
    }

    pub fn wide(mut self) -> Frame {
        self.wide = true;
        self
    }

    /// Language links back to `path_and_query` (which must not carry `lang`).
    pub fn at(mut self, path_and_query: impl Into<String>) -> Frame {
        self.here = Some(path_and_query.into());
        self
    }

    pub fn lang_link(&self, code: &str) -> String {
        match &self.here {
            None => format!("?lang={code}"),
            Some(h) if h.contains('?') => format!("{h}&lang={code}"),
            Some(h) => format!("{h}?lang={code}"),
        }
    }
}

/// The page as a response: `200`, HTML, never cached.
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html)
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "page template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "page unavailable; retry shortly\n").into_response()
        }
    }
}

/// [`render`], with the cookies the request context wants set (language, pre-session).
pub fn render_for(c: &Ctx, t: &impl Template) -> Response {
    let mut r = render(t);
    for ck in &c.set_cookies {
        if let Ok(v) = HeaderValue::from_str(ck) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

/// The page as a response with another status.
pub fn render_status(status: StatusCode, c: &Ctx, t: &impl Template) -> Response {
    let mut r = render_for(c, t);
    *r.status_mut() = status;
    r
}

/// The hidden CSRF field alone (`parts/csrf.html`), for forms still built outside a template.
#[derive(Template)]
#[template(path = "parts/csrf.html")]
pub struct CsrfField<'a> {
    pub csrf: &'a str,
}

/// A link of a notice: where, and what it says.
pub struct Link {
    pub href: String,
    pub label: String,
}

impl Link {
    pub fn new(href: impl Into<String>, label: impl Into<String>) -> Link {
        Link { href: href.into(), label: label.into() }
    }
}

/// A short page: an error, a sentence, a link, a button (each optional), as the refusals and the
/// dead ends of the journey say them (`notice.html`).
#[derive(Template)]
#[template(path = "notice.html")]
pub struct Notice {
    pub frame: Frame,
    pub error: Option<String>,
    pub text: Option<String>,
    pub link: Option<Link>,
    pub button: Option<Link>,
}

impl Notice {
    pub fn new(c: &Ctx, title: &str) -> Notice {
        Notice { frame: Frame::new(c, title), error: None, text: None, link: None, button: None }
    }

    pub fn error(mut self, e: impl Into<String>) -> Notice {
        self.error = Some(e.into());
        self
    }

    pub fn error_opt(mut self, e: Option<&str>) -> Notice {
        self.error = e.map(str::to_owned);
        self
    }

    pub fn text(mut self, t: impl Into<String>) -> Notice {
        self.text = Some(t.into());
        self
    }

    pub fn link(mut self, href: &str, label: &str) -> Notice {
        self.link = Some(Link::new(href, label));
        self
    }

    pub fn button(mut self, href: &str, label: &str) -> Notice {
        self.button = Some(Link::new(href, label));
        self
    }

    pub fn page(&self, c: &Ctx) -> Response {
        render_for(c, self)
    }

    pub fn page_status(&self, status: StatusCode, c: &Ctx) -> Response {
        render_status(status, c, self)
    }
}

/// 403: the signed-in person may not do this.
pub fn forbidden(c: &Ctx) -> Response {
    Notice::new(c, c.t("Không có quyền", "Not permitted"))
        .error(c.t("Tài khoản của bạn không có quyền thực hiện thao tác này.", "Your account may not do this."))
        .page_status(StatusCode::FORBIDDEN, c)
}

/// 403: the form's CSRF token is missing, stale or someone else's.
pub fn bad_csrf(c: &Ctx) -> Response {
    Notice::new(c, c.t("Phiên làm việc hết hạn", "Session expired"))
        .error(c.t(
            "Biểu mẫu đã hết hạn hoặc không hợp lệ. Hãy tải lại trang và thử lại.",
            "The form expired or is not valid. Reload the page and try again.",
        ))
        .link("/", c.t("Về trang chủ", "Home"))
        .page_status(StatusCode::FORBIDDEN, c)
}

/// `/assets/kyso.css`.
pub async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../assets/kyso.css"),
    )
        .into_response()
}
