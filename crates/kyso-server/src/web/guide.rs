//! Help for citizens (the plans' guidance documents reached by QR codes): `/huong-dan`, the steps
//! to create and use a signature and the questions desks hear most; `/g/{point}`, the address
//! printed as a QR code on each support point's poster, which counts the scan (a demand signal:
//! point and day only) and opens the guidance with that point's address and opening days;
//! `/desk/points/{point}/poster`, the printable poster.

use super::client::ClientAddr;
use super::layout::{render_for, Frame};
use super::qr::qr_svg;
use super::Ctx;
use crate::i18n::Lang;
use crate::input::Query;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use kyso_store::accounts::SupportPointRow;
use kyso_tracker::read::vn_date;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/huong-dan", get(guide))
        .route("/g/{point}", get(scan))
        .route("/desk/points/{point}/poster", get(poster))
}

#[derive(Deserialize)]
pub struct Q {
    #[allow(dead_code)] // read by the `Ctx` extractor; kept so that a malformed one is refused here too
    lang: Option<String>,
    p: Option<String>,
    /// An FAQ search (diacritics optional).
    q: Option<String>,
}

/// Point IDs are slugs; anything else is not looked up.
fn slug(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn point(s: &AppState, id: &str) -> Option<SupportPointRow> {
    if !slug(id) {
        return None;
    }
    s.authority.store.support_point(id).await.ok().flatten()
}

/// A support point as the guidance and the poster show it.
struct Place {
    name: String,
    address: String,
    /// "Mở cửa: Thứ Hai, … · 7:30–11:30, …"
    opening: String,
}

fn place(lang: Lang, p: SupportPointRow) -> Place {
    let opening =
        format!("{}: {}", lang.t("Mở cửa", "Open"), super::opening_text(lang, &p.opening_days, &p.opening_hours));
    Place { name: p.name, address: p.address, opening }
}

/// `GET /g/{point}`: count the scan, then show the guidance for that point.
/// Scanners already counted today, as (address key, point): one count per address, point and day,
/// so a reload or a script hammering the link neither inflates the figure nor writes each time.
#[derive(Default)]
pub struct Seen(std::sync::Mutex<(String, std::collections::HashSet<(String, String)>)>);

/// Distinct (address, point) pairs remembered per day; past it, scans are still answered, not counted.
const SEEN_MAX: usize = 1_000_000;

impl Seen {
    /// Whether this is the first scan of `point` from `address` on `day`.
    fn first(&self, day: &str, address: &str, point: &str) -> bool {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (today, seen) = &mut *g;
        if today != day {
            *today = day.to_owned();
            seen.clear();
        }
        seen.len() < SEEN_MAX && seen.insert((address.to_owned(), point.to_owned()))
    }
}

async fn scan(
    State(s): State<AppState>,
    client: Option<axum::Extension<ClientAddr>>,
    Path(id): Path<String>,
) -> Response {
    match point(&s, &id).await {
        Some(p) => {
            let today = vn_date(kyso_store::now());
            let address = client.and_then(|c| c.0 .0).map(|ip| ip.to_string()).unwrap_or_default();
            if s.web.guide_scans.first(&today, &address, &p.id) {
                if let Err(e) = s.authority.store.record_guide_scan(&p.id, &today).await {
                    tracing::warn!(error = %e, point = %p.id, "guide scan not counted");
                }
            }
            Redirect::to(&format!("/huong-dan?p={}", p.id)).into_response()
        }
        None => Redirect::to("/huong-dan").into_response(),
    }
}

#[derive(Template)]
#[template(path = "guide/guide.html")]
struct Guide {
    frame: Frame,
    /// The point whose poster was scanned.
    point: Option<Place>,
    /// The hotline's number and operator hours, when staff set them.
    hotline: Option<(String, String)>,
    /// The FAQ staff keep (`/campaign/hotline`); the five fixed questions when it is empty.
    faq: Vec<super::reach::FaqLine>,
    q: String,
}

async fn guide(State(s): State<AppState>, Query(q): Query<Q>, c: Ctx) -> Response {
    let point = match q.p.as_deref() {
        Some(id) => point(&s, id).await.map(|p| place(c.lang(), p)),
        None => None,
    };
    let frame = Frame::new(&c, c.t("Hướng dẫn tạo và dùng chữ ký số", "How to create and use your digital signature"));
    let q = q.q.unwrap_or_default().chars().take(200).collect::<String>();
    let (hotline, faq) = super::reach::guide_faq(&s, c.lang(), &q).await;
    render_for(&c, &Guide { frame, point, hotline, faq, q })
}

#[derive(Template)]
#[template(path = "guide/poster.html")]
struct Poster {
    frame: Frame,
    point: Place,
    url: String,
    /// The QR code of `url` as SVG, drawn by `qr_svg`.
    qr: String,
}

/// A printable A4 poster for the desk: what it is for, the QR code of `/g/{point}`, the address
/// and opening days. Public: it shows nothing that is not on the door already.
async fn poster(State(s): State<AppState>, Path(id): Path<String>, Query(_): Query<Q>, c: Ctx) -> Response {
    let Some(p) = point(&s, &id).await else {
        return (axum::http::StatusCode::NOT_FOUND, "no such support point\n").into_response();
    };
    let url = format!("{}/g/{}", s.authority.config.base_url.trim_end_matches('/'), p.id);
    let page = Poster {
        frame: Frame::new(&c, c.t("Chữ ký số cho người dân", "Digital signatures for citizens")),
        point: place(c.lang(), p),
        qr: qr_svg(&url).unwrap_or_default(),
        url,
    };
    render_for(&c, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scanner_counts_once_per_point_and_day() {
        let seen = Seen::default();
        assert!(seen.first("2026-12-05", "198.51.100.7", "hl-motcua"));
        assert!(!seen.first("2026-12-05", "198.51.100.7", "hl-motcua"), "a reload");
        assert!(seen.first("2026-12-05", "198.51.100.7", "hl-luudong"), "another point");
        assert!(seen.first("2026-12-05", "198.51.100.8", "hl-motcua"), "another address");
        assert!(seen.first("2026-12-06", "198.51.100.7", "hl-motcua"), "the next day");
    }

    #[test]
    fn only_slugs_are_looked_up() {
        assert!(slug("hl-motcua") && slug("point_7"));
        assert!(!slug("") && !slug("a/b") && !slug("x'--") && !slug(&"a".repeat(65)));
    }
}
