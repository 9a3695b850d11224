//! `GET /ben-tin-cay/danh-sach`: the national trust list as anyone may read it — the edition in
//! force (imported with `kyso trust import`) with kyso's own CAs merged in, every provider with
//! its services (CA, OCSP, CRL, TSA), each service's current status and its history of status
//! changes with their dates (Vietnam time, through kyso-fmt). Read-only, public, Vietnamese first.

use crate::i18n::Lang;
use crate::input::Query;
use crate::web::home::LangQuery;
use crate::web::layout::{render, Frame};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kyso_trust::{Service, TrustList};

/// One status of a service's history, as shown.
struct Change {
    /// `31/12/2025 14:05` (Vietnam time).
    at: String,
    /// RFC 3339, for `<time datetime>`.
    iso: String,
    status: &'static str,
    trusted: bool,
}

struct ServiceLine {
    name: String,
    /// `CA`, `OCSP`, `CRL`, `TSA`.
    group: &'static str,
    kind: &'static str,
    /// The ETSI type's short form (`CA/QC`).
    etsi: &'static str,
    status: &'static str,
    trusted: bool,
    since: String,
    subject: String,
    fingerprint: String,
    supply_points: Vec<String>,
    /// Newest first.
    history: Vec<Change>,
}

struct ProviderLine {
    label: String,
    /// The registered name when it differs from the trade name.
    name: Option<String>,
    services: Vec<ServiceLine>,
}

#[derive(Template)]
#[template(path = "trust_list.html")]
struct TrustListPage {
    frame: Frame,
    territory: String,
    operator: String,
    /// None: no edition imported (only kyso's own CAs are listed).
    edition: Option<u64>,
    issued: String,
    next_update: Option<String>,
    services: usize,
    providers: Vec<ProviderLine>,
}

fn service_line(lang: Lang, s: &Service) -> ServiceLine {
    let status = |st: kyso_trust::Status| lang.t(st.label_vi(), st.label_en());
    let current = s.current();
    ServiceLine {
        name: s.name.clone(),
        group: s.kind.group(),
        kind: lang.t(s.kind.label_vi(), s.kind.label_en()),
        etsi: s.kind.short(),
        status: status(current.status),
        trusted: current.status.is_trusted(),
        since: lang.datetime(current.from),
        subject: s.subject_name(),
        fingerprint: s.fingerprint(),
        supply_points: s.supply_points.clone(),
        history: s
            .history
            .iter()
            .rev()
            .map(|c| Change {
                at: lang.datetime(c.from),
                iso: kyso_trust::rfc3339(c.from),
                status: status(c.status),
                trusted: c.status.is_trusted(),
            })
            .collect(),
    }
}

fn page(lang: Lang, list: &TrustList) -> TrustListPage {
    let providers: Vec<ProviderLine> = list
        .providers
        .iter()
        .map(|p| ProviderLine {
            label: p.label().to_string(),
            name: (p.label() != p.name).then(|| p.name.clone()),
            services: p.services.iter().map(|s| service_line(lang, s)).collect(),
        })
        .collect();
    let title = lang.t("Danh sách tin cậy quốc gia", "National trust list");
    TrustListPage {
        frame: Frame::public(lang, title).at("/ben-tin-cay/danh-sach"),
        territory: list.scheme.territory.clone(),
        operator: list.scheme.operator.clone(),
        edition: (list.scheme.sequence_number > 0).then_some(list.scheme.sequence_number),
        issued: lang.datetime(list.scheme.issued),
        next_update: list.scheme.next_update.map(|t| lang.datetime(t)),
        services: providers.iter().map(|p| p.services.len()).sum(),
        providers,
    }
}

/// `GET /ben-tin-cay/danh-sach`.
pub async fn trust_list(State(s): State<AppState>, Query(q): Query<LangQuery>) -> Response {
    let lang = Lang::from_en(q.lang.as_deref() == Some("en"));
    match s.authority.trust_list().await {
        Ok(list) => render(&page(lang, &list)),
        Err(e) => {
            tracing::error!(error = %crate::input::Clean(&e), "trust list unreadable");
            (StatusCode::SERVICE_UNAVAILABLE, "trust list unavailable; retry shortly\n").into_response()
        }
    }
}
