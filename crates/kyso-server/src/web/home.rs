//! The home page (`/`) leads a citizen: what a public signature is for, the five steps, the
//! support points nearest to them (by the commune they pick, else the list), register or log in.
//! What relying parties need (the trust list, CRLs, OCSP, the TSA, the RFCs) is on
//! `/ben-tin-cay`, linked from every page's footer.

use crate::i18n::Lang;
use crate::input::Query;
use crate::web::layout::{render, Frame};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
pub struct HomeQuery {
    lang: Option<String>,
    /// The commune whose support points to show (a 5-digit code).
    commune: Option<String>,
}

/// A support point as the home page lists it.
struct PointLine {
    name: String,
    address: String,
    commune: String,
    open: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    frame: Frame,
    /// (code, "Xã …, Tỉnh …") of the communes that have a support point, by name.
    communes: Vec<(String, String)>,
    /// The commune picked, if it has points.
    picked: Option<String>,
    points: Vec<PointLine>,
    /// Points left out of the list (the whole list is long).
    more: usize,
}

/// Points listed when no commune is picked.
const LISTED: usize = 12;
/// Communes offered in the picker (those with a support point).
const MAX_COMMUNES: usize = 400;

pub async fn home(State(s): State<AppState>, Query(q): Query<HomeQuery>) -> Response {
    let lang = Lang::from_en(q.lang.as_deref() == Some("en"));
    let store = &s.authority.store;
    let all = store.support_points(None).await.unwrap_or_default();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for p in &all {
        if names.len() >= MAX_COMMUNES {
            break;
        }
        if !names.contains_key(&p.commune_code) {
            let label = match store.commune(&p.commune_code).await.ok().flatten() {
                Some(c) => format!("{}, {}", c.name, c.province_name),
                None => p.commune_code.clone(),
            };
            names.insert(p.commune_code.clone(), label);
        }
    }
    let picked = q.commune.filter(|c| names.contains_key(c));
    let chosen: Vec<_> = all.into_iter().filter(|p| picked.as_ref().is_none_or(|c| &p.commune_code == c)).collect();
    let more = if picked.is_some() { 0 } else { chosen.len().saturating_sub(LISTED) };
    let points = chosen
        .into_iter()
        .take(if picked.is_some() { usize::MAX } else { LISTED })
        .map(|p| PointLine {
            open: crate::web::opening_text(lang, &p.opening_days, &p.opening_hours),
            commune: names.get(&p.commune_code).cloned().unwrap_or_default(),
            name: p.name,
            address: p.address,
        })
        .collect();
    let mut communes: Vec<(String, String)> = names.into_iter().collect();
    communes.sort_by(|a, b| a.1.cmp(&b.1));
    let title = lang.t("Chữ ký số cho người dân", "Digital signatures for citizens");
    render(&Home { frame: Frame::public(lang, title), communes, picked, points, more })
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
#[template(path = "relying.html")]
struct Relying {
    frame: Frame,
    count: i64,
    cas: Vec<CaLine>,
}

#[derive(Deserialize)]
pub struct LangQuery {
    pub(crate) lang: Option<String>,
}

/// `GET /ben-tin-cay`: for those who rely on kyso's signatures (agencies, software): the trust
/// list, CRLs, OCSP and the time-stamping service.
pub async fn relying_parties(State(s): State<AppState>, Query(q): Query<LangQuery>) -> Response {
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
    let title = lang.t("Dành cho bên tin cậy chữ ký", "For relying parties");
    render(&Relying { frame: Frame::public(lang, title), count, cas })
}
