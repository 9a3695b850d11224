//! The trust list's TOML form: read with bounds and errors that name the provider, the service
//! and the field (Vietnamese first), written back in the same layout.

use crate::model::{Provider, Scheme, Service, ServiceType, Status, StatusChange, TrustList};
use der::Decode;
use serde::Deserialize;
use x509_cert::Certificate;

/// Bounds on one list: the national list has tens of providers with a handful of services each.
pub const MAX_TEXT_BYTES: usize = 8 << 20;
pub const MAX_PROVIDERS: usize = 500;
pub const MAX_SERVICES: usize = 200;
pub const MAX_HISTORY: usize = 100;

/// Why a list was refused: where (provider, service), which field, why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{at}{sep}trường `{field}`: {reason}", sep = if at.is_empty() { "" } else { ": " })]
pub struct TrustListError {
    /// e.g. `nhà cung cấp #2 «VNPT-CA», dịch vụ #1 «VNPT-CA RSA»`; empty for the whole file.
    pub at: String,
    pub field: &'static str,
    pub reason: String,
}

fn err(at: &str, field: &'static str, reason: impl Into<String>) -> TrustListError {
    TrustListError { at: at.to_string(), field, reason: reason.into() }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawList {
    scheme: RawScheme,
    #[serde(default)]
    provider: Vec<RawProvider>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScheme {
    territory: String,
    operator: String,
    sequence_number: u64,
    issued: toml::Value,
    next_update: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    name: String,
    trade_name: Option<String>,
    #[serde(default)]
    service: Vec<RawService>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    status: String,
    status_starting_time: toml::Value,
    #[serde(default)]
    supply_points: Vec<String>,
    certificate: String,
    #[serde(default)]
    history: Vec<RawChange>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChange {
    status: String,
    status_starting_time: toml::Value,
}

/// An RFC 3339 date-time, quoted or as a TOML date-time; a zone is required.
fn time_of(v: &toml::Value, at: &str, field: &'static str) -> Result<i64, TrustListError> {
    let text = match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        _ => return Err(err(at, field, "phải là thời điểm RFC 3339, ví dụ \"2025-01-01T00:00:00Z\"")),
    };
    time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| {
            err(at, field, format!("«{text}» không phải thời điểm RFC 3339 có múi giờ (ví dụ 2025-01-01T00:00:00Z)"))
        })
}

fn status_of(s: &str, at: &str, field: &'static str) -> Result<Status, TrustListError> {
    Status::parse(s).ok_or_else(|| {
        let names: Vec<&str> = Status::ALL.iter().map(|s| s.short()).collect();
        err(at, field, format!("«{s}» không phải trạng thái đã biết ({})", names.join(", ")))
    })
}

impl TrustList {
    /// Read a list from its TOML text (bounded: [`MAX_TEXT_BYTES`], [`MAX_PROVIDERS`],
    /// [`MAX_SERVICES`] a provider, [`MAX_HISTORY`] changes a service).
    pub fn from_toml(text: &str) -> Result<TrustList, TrustListError> {
        if text.len() > MAX_TEXT_BYTES {
            return Err(err("", "(tệp)", format!("tệp có {} byte; tối đa {MAX_TEXT_BYTES} byte", text.len())));
        }
        let raw: RawList =
            toml::from_str(text).map_err(|e| err("", "(cú pháp)", format!("không phải TOML hợp lệ: {e}")))?;
        let s = &raw.scheme;
        let scheme = Scheme {
            territory: s.territory.trim().to_string(),
            operator: s.operator.trim().to_string(),
            sequence_number: s.sequence_number,
            issued: time_of(&s.issued, "scheme", "issued")?,
            next_update: s.next_update.as_ref().map(|v| time_of(v, "scheme", "next_update")).transpose()?,
        };
        if scheme.territory.is_empty() {
            return Err(err("scheme", "territory", "không được để trống"));
        }
        if raw.provider.len() > MAX_PROVIDERS {
            return Err(err("", "provider", format!("{} nhà cung cấp; tối đa {MAX_PROVIDERS}", raw.provider.len())));
        }
        let mut providers = Vec::with_capacity(raw.provider.len());
        for (i, p) in raw.provider.into_iter().enumerate() {
            let label = p.trade_name.clone().unwrap_or_else(|| p.name.clone());
            let at = format!("nhà cung cấp #{} «{label}»", i + 1);
            if p.name.trim().is_empty() {
                return Err(err(&at, "name", "không được để trống"));
            }
            if p.service.len() > MAX_SERVICES {
                return Err(err(&at, "service", format!("{} dịch vụ; tối đa {MAX_SERVICES}", p.service.len())));
            }
            let mut services = Vec::with_capacity(p.service.len());
            for (j, s) in p.service.into_iter().enumerate() {
                services.push(service(s, &format!("{at}, dịch vụ #{} ", j + 1))?);
            }
            providers.push(Provider { name: p.name.trim().to_string(), trade_name: p.trade_name, services });
        }
        let list = TrustList { scheme, providers };
        let mut labels = std::collections::HashSet::new();
        for p in &list.providers {
            if !labels.insert(p.label().to_lowercase()) {
                return Err(err(
                    &format!("nhà cung cấp «{}»", p.label()),
                    "trade_name",
                    "trùng với một nhà cung cấp khác",
                ));
            }
        }
        Ok(list)
    }
}

fn service(s: RawService, at_prefix: &str) -> Result<Service, TrustListError> {
    let at = format!("{at_prefix}«{}»", s.name);
    let at = at.as_str();
    let kind = ServiceType::parse(&s.kind).ok_or_else(|| {
        let names: Vec<&str> = ServiceType::ALL.iter().map(|t| t.short()).collect();
        err(at, "type", format!("«{}» không phải loại dịch vụ đã biết ({})", s.kind, names.join(", ")))
    })?;
    let der = kyso_pki::pem_or_der("CERTIFICATE", s.certificate.as_bytes())
        .map_err(|e| err(at, "certificate", format!("không đọc được PEM: {e}")))?;
    let certificate =
        Certificate::from_der(&der).map_err(|e| err(at, "certificate", format!("không phải chứng thư X.509: {e}")))?;
    if s.history.len() > MAX_HISTORY {
        return Err(err(at, "history", format!("{} thay đổi; tối đa {MAX_HISTORY}", s.history.len())));
    }
    let mut history = Vec::with_capacity(s.history.len() + 1);
    for (k, h) in s.history.iter().enumerate() {
        let hat = format!("{at}, lịch sử #{}", k + 1);
        history.push(StatusChange {
            status: status_of(&h.status, &hat, "status")?,
            from: time_of(&h.status_starting_time, &hat, "status_starting_time")?,
        });
    }
    let current = StatusChange {
        status: status_of(&s.status, at, "status")?,
        from: time_of(&s.status_starting_time, at, "status_starting_time")?,
    };
    history.sort_by_key(|c| c.from);
    if let Some(last) = history.last() {
        if last.from >= current.from {
            return Err(err(
                at,
                "status_starting_time",
                "mọi thay đổi trong lịch sử (history) phải trước thời điểm của trạng thái hiện tại",
            ));
        }
    }
    if history.windows(2).any(|w| w[0].from == w[1].from) {
        return Err(err(at, "history", "hai thay đổi trạng thái cùng một thời điểm"));
    }
    history.push(current);
    for u in &s.supply_points {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            return Err(err(at, "supply_points", format!("«{u}» không phải địa chỉ http(s)://")));
        }
    }
    Ok(Service { name: s.name, kind, certificate_der: der, certificate, supply_points: s.supply_points, history })
}

/// A TOML basic string.
fn q(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl TrustList {
    /// The list as TOML, in the layout [`TrustList::from_toml`] reads (and people edit): one
    /// `[[provider]]` a provider, one `[[provider.service]]` a service with its certificate in PEM.
    pub fn to_toml(&self) -> String {
        let t = |s: i64| q(&crate::rfc3339(s));
        let s = &self.scheme;
        let mut out =
            String::from("# Danh sách tin cậy (after ETSI TS 119 612); format: docs/TRUST-LIST.md\n\n[scheme]\n");
        out.push_str(&format!("territory = {}\noperator = {}\n", q(&s.territory), q(&s.operator)));
        out.push_str(&format!("sequence_number = {}\nissued = {}\n", s.sequence_number, t(s.issued)));
        if let Some(n) = s.next_update {
            out.push_str(&format!("next_update = {}\n", t(n)));
        }
        for p in &self.providers {
            out.push_str(&format!("\n[[provider]]\nname = {}\n", q(&p.name)));
            if let Some(tn) = &p.trade_name {
                out.push_str(&format!("trade_name = {}\n", q(tn)));
            }
            for sv in &p.services {
                let cur = sv.current();
                out.push_str(&format!(
                    "\n[[provider.service]]\nname = {}\ntype = {}\n",
                    q(&sv.name),
                    q(sv.kind.short())
                ));
                out.push_str(&format!("status = {}\nstatus_starting_time = {}\n", q(cur.status.short()), t(cur.from)));
                if !sv.supply_points.is_empty() {
                    let pts: Vec<String> = sv.supply_points.iter().map(|u| q(u)).collect();
                    out.push_str(&format!("supply_points = [{}]\n", pts.join(", ")));
                }
                out.push_str(&format!(
                    "certificate = \"\"\"\n{}\"\"\"\n",
                    kyso_pki::pem("CERTIFICATE", &sv.certificate_der)
                ));
                for h in &sv.history[..sv.history.len() - 1] {
                    out.push_str(&format!(
                        "\n[[provider.service.history]]\nstatus = {}\nstatus_starting_time = {}\n",
                        q(h.status.short()),
                        t(h.from)
                    ));
                }
            }
        }
        out
    }
}
