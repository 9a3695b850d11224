//! The second factor of providers that require one (`require_totp`): after activation, the
//! citizen adds the credential's TOTP secret to an authenticator app from a QR code (or by typing
//! the key). The activation POST redirects (so a reload cannot activate twice) to a one-time page:
//! the `otpauth://` URI waits in memory for at most five minutes, for that login only, and is
//! gone once shown; the page is never cached, and the secret is in no URL or log.

use super::layout::{render_for, Frame};
use super::{qr::qr_svg, Ctx, Notice};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an enrolment waits to be shown.
const WAIT: Duration = Duration::from_secs(300);

/// Enrolments waiting to be shown once, by random ticket.
#[derive(Default)]
pub struct Pending(Mutex<HashMap<String, Enrolment>>);

struct Enrolment {
    /// The login it belongs to (SHA-256 of the session token).
    session: Vec<u8>,
    provider: String,
    otpauth_uri: String,
    serial: String,
    until: Instant,
}

impl Drop for Enrolment {
    fn drop(&mut self) {
        // The URI holds the seed: clear it before the memory is reused.
        let mut bytes = std::mem::take(&mut self.otpauth_uri).into_bytes();
        bytes.iter_mut().for_each(|b| *b = 0);
    }
}

/// After activation: keep the enrolment for this login and send the browser to see it once.
pub fn after_activation(s: &AppState, c: &Ctx, provider: &str, otpauth_uri: String, serial: &str) -> Response {
    let ticket = kyso_access::token::new_token();
    let mut pending = s.web.enrolments.0.lock().unwrap_or_else(|e| e.into_inner());
    let now = Instant::now();
    pending.retain(|_, e| e.until > now);
    pending.insert(
        ticket.clone(),
        Enrolment {
            session: c.session_hash(),
            provider: provider.to_owned(),
            otpauth_uri,
            serial: serial.to_owned(),
            until: now + WAIT,
        },
    );
    Redirect::to(&format!("/me/enrol/{ticket}")).into_response()
}

/// `GET /me/enrol/{ticket}`: the enrolment, once, to the login it belongs to.
pub async fn enrol(State(s): State<AppState>, Path(ticket): Path<String>, c: Ctx) -> Response {
    if c.citizen().is_none() {
        return Redirect::to("/login").into_response();
    }
    let taken = {
        let mut pending = s.web.enrolments.0.lock().unwrap_or_else(|e| e.into_inner());
        match pending.get(&ticket) {
            Some(e) if e.session == c.session_hash() && e.until > Instant::now() => pending.remove(&ticket),
            _ => None,
        }
    };
    let title = c.t("Thêm vào ứng dụng xác thực", "Add to your authenticator app");
    match taken {
        Some(e) => enrol_page(&c, title, &e),
        None => Notice::new(&c, title)
            .text(c.t(
                "Mã QR chỉ hiển thị một lần và đã được hiển thị (hoặc đã quá 5 phút). Nếu bạn chưa kịp thêm vào ứng dụng, hãy thu hồi chứng thư này và tạo chứng thư mới.",
                "The QR code is shown only once and has been (or five minutes passed). If you could not add it to your app, revoke this certificate and create a new one.",
            ))
            .button("/me/certificates", c.t("Chứng thư số của tôi", "My certificates"))
            .page(&c),
    }
}

/// The key of an `otpauth://` URI, in groups of four for typing.
fn secret_of(uri: &str) -> String {
    let secret = uri.split(['?', '&']).find_map(|kv| kv.strip_prefix("secret=")).unwrap_or("");
    secret.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

#[derive(Template)]
#[template(path = "citizen/enrol.html")]
struct EnrolPage<'a> {
    frame: Frame,
    provider: &'a str,
    serial: &'a str,
    /// The QR code as SVG, drawn by `qr_svg` from the URI (no text of the request in it).
    qr: String,
    key: String,
}

/// Shown once, right after activation, instead of the redirect to "my certificates".
fn enrol_page(c: &Ctx, title: &str, e: &Enrolment) -> Response {
    let page = EnrolPage {
        frame: Frame::new(c, title),
        provider: &e.provider,
        serial: &e.serial,
        qr: qr_svg(&e.otpauth_uri).unwrap_or_default(),
        key: secret_of(&e.otpauth_uri),
    };
    // `render_for` already sends `no-store`; the page holds a secret, so say it here too.
    let mut r = render_for(c, &page);
    r.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_in_groups_of_four() {
        let uri =
            "otpauth://totp/kyso:0191****0001?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=kyso&digits=6&period=30";
        assert_eq!(secret_of(uri), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
    }
}
