//! Server-rendered pages. Vietnamese first; `?lang=en` switches to English.

use crate::input::Query;
use crate::AppState;
use axum::extract::State;
use axum::response::Html;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Lang {
    lang: Option<String>,
}

use crate::html::esc;

pub async fn home(State(s): State<AppState>, Query(q): Query<Lang>) -> Html<String> {
    let en = q.lang.as_deref() == Some("en");
    let t = |vi: &'static str, en_: &'static str| if en { en_ } else { vi };
    let count = s.authority.store.count_certificates().await.unwrap_or(0);
    let mut rows = String::new();
    let mut cas: Vec<_> = s.authority.cas().collect();
    cas.sort_by(|a, b| (a.kind != "root", &a.id).cmp(&(b.kind != "root", &b.id)));
    for ca in cas {
        let ocsp =
            if ca.kind == "provider" { format!("OCSP: <code>/ocsp/{0}</code>", esc(&ca.id)) } else { String::new() };
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td><a href=\"/ca/{id}.crt\">{}</a> · <a href=\"/crl/{id}.crl\">CRL</a> · {ocsp}</td></tr>",
            esc(&ca.display_name),
            if ca.kind == "root" { t("Gốc quốc gia", "National root") } else { t("Nhà cung cấp", "Provider") },
            t("Chứng thư", "Certificate"),
            id = esc(&ca.id),
        ));
    }
    Html(format!(
        r#"<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>kyso — {title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:0 auto;max-width:56rem;padding:1rem;line-height:1.5}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}}
header{{display:flex;justify-content:space-between;align-items:center;flex-wrap:wrap}}</style></head>
<body><header><h1>kyso</h1><nav><a href="/?lang=vi">Tiếng Việt</a> · <a href="/?lang=en">English</a></nav></header>
<p>{intro}</p>
<p><a href="/login{q}"><strong>{login}</strong></a> · <a href="/register{q}">{register}</a> · <a href="/staff/login{q}">{staff}</a></p>
<p><a href="/huong-dan{q}">{guide}</a> · <a href="/verify{q}">{verify}</a> · <a href="/campaign{q}">{campaign}</a></p>
<p><strong>{count}</strong> {issued}</p>
<h2>{trust}</h2><table><tr><th>{name}</th><th>{kind}</th><th></th></tr>{rows}</table>
<h2>{services}</h2><ul><li>{tsa}: <code>POST /tsa</code> (RFC 3161) · <a href="/ca/tsa.crt">{cert}</a></li>
<li>OCSP (RFC 6960): <code>POST /ocsp/&lt;provider&gt;</code></li></ul>
</body></html>"#,
        lang = if en { "en" } else { "vi" },
        title = t("Chữ ký số công cộng cho người dân", "Public digital signatures for citizens"),
        intro = t(
            "Hệ thống chứng thực chữ ký số công cộng: chứng thư số gắn với số định danh cá nhân, thu hồi (CRL, OCSP) và dấu thời gian.",
            "Public signing certificates bound to the citizen ID number, revocation (CRL, OCSP) and time-stamping."
        ),
        issued = t("chứng thư số đã cấp", "certificates issued"),
        q = if en { "?lang=en" } else { "" },
        verify = t("Kiểm tra chữ ký trên tài liệu", "Verify a signed document"),
        guide = t("Hướng dẫn tạo chữ ký số", "How to get a digital signature"),
        login = t("Người dân: đăng nhập để tạo và dùng chữ ký số", "Citizens: log in to create and use your signature"),
        register = t("Đăng ký tài khoản", "Register"),
        staff = t("Cán bộ, điểm hỗ trợ", "Staff and support desks"),
        campaign = t("Tiến độ chiến dịch", "Campaign progress"),
        trust = t("Danh sách tin cậy", "Trust list"),
        name = t("Tên", "Name"),
        kind = t("Loại", "Kind"),
        services = t("Dịch vụ", "Services"),
        tsa = t("Dấu thời gian", "Time-stamping"),
        cert = t("chứng thư", "certificate"),
    ))
}
