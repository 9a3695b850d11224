//! The second factor of providers that require one (`require_totp`): after activation, the
//! citizen adds the credential's TOTP secret to an authenticator app from a QR code (or by typing
//! the key); the page is shown once, never cached, and the secret is not in any URL or log.

use super::{esc, page, qr::qr_svg, Ctx};
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The key of an `otpauth://` URI, in groups of four for typing.
fn secret_of(uri: &str) -> String {
    let secret = uri.split(['?', '&']).find_map(|kv| kv.strip_prefix("secret=")).unwrap_or("");
    secret.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

/// Shown once, right after activation, instead of the redirect to "my certificates".
pub fn enrol_page(c: &Ctx, provider: &str, otpauth_uri: &str, serial: &str) -> Response {
    let body = format!(
        "<p class=\"ok\" role=\"status\">{done} <code>{serial}</code></p>\
<p>{why}</p><div class=\"card\" style=\"text-align:center\">{qr}<p>{key_label}<br><code>{key}</code></p></div>\
<p class=\"muted\">{once}</p><a class=\"btn\" href=\"/me/certificates?done={serial}\">{next}</a>",
        done = c.t("Đã kích hoạt chứng thư số", "Certificate activated:"),
        serial = esc(serial),
        why = esc(&format!(
            "{} {provider} {}",
            c.t("Nhà cung cấp", "The provider"),
            c.t(
                "yêu cầu thêm mã xác thực một lần (OTP) mỗi lần ký. Quét mã QR bằng ứng dụng xác thực (Google Authenticator, Microsoft Authenticator, …) hoặc nhập khóa bên dưới.",
                "asks for a one-time code (OTP) at every signature as well. Scan the QR code with an authenticator app (Google Authenticator, Microsoft Authenticator, …) or type the key below."
            )
        )),
        qr = qr_svg(otpauth_uri).unwrap_or_default(),
        key_label = c.t("Khóa (nhập tay)", "Key (to type)"),
        key = esc(&secret_of(otpauth_uri)),
        once = c.t(
            "Mã QR và khóa chỉ hiển thị một lần. Không chụp màn hình gửi cho người khác; cán bộ hỗ trợ không bao giờ hỏi mã này.",
            "The QR code and key are shown only this once. Do not share them; support staff never ask for them."
        ),
        next = c.t("Tôi đã thêm vào ứng dụng → Chứng thư của tôi", "Added to my app → My certificates"),
    );
    let mut r = page(c, c.t("Thêm vào ứng dụng xác thực", "Add to your authenticator app"), &body);
    r.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    r.into_response()
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
