//! The home page (`/`): where a citizen or an officer starts, the trust list and the services.

use crate::i18n::Lang;
use crate::input::Query;
use crate::web::layout::{render, Frame};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

struct CaLine {
    id: String,
    name: String,
    /// The national root (else a provider CA).
    root: bool,
    /// Answers OCSP (provider CAs).
    ocsp: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    frame: Frame,
    count: i64,
    cas: Vec<CaLine>,
}

pub async fn home(State(s): State<AppState>, Query(q): Query<LangQuery>) -> Response {
    let lang = Lang::from_en(q.lang.as_deref() == Some("en"));
    let count = s.authority.store.count_certificates().await.unwrap_or(0);
    let mut cas: Vec<CaLine> = s
        .authority
        .cas()
        .map(|ca| CaLine {
            id: ca.id.clone(),
            name: ca.display_name.clone(),
            root: ca.kind == "root",
            ocsp: ca.kind == "provider",
        })
        .collect();
    cas.sort_by(|a, b| (!a.root, &a.id).cmp(&(!b.root, &b.id)));
    let title = lang.t("Chữ ký số công cộng cho người dân", "Public digital signatures for citizens");
    render(&Home { frame: Frame::public(lang, title), count, cas })
}
