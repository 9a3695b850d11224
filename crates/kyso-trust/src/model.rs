//! The trust list's model: scheme, providers, services and their status over time.

use der::Encode;
use x509_cert::Certificate;

/// ServiceTypeIdentifier (TS 119 612 §5.5.1): what a service is. The short form is the URI's tail
/// after `http://uri.etsi.org/TrstSvc/Svctype/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceType {
    /// A CA issuing qualified certificates (`CA/QC`).
    CaQc,
    /// A CA issuing public-key certificates (`CA/PKC`): the national root, a provider CA.
    CaPkc,
    /// An OCSP responder for qualified certificates (`Certstatus/OCSP/QC`).
    OcspQc,
    /// An OCSP responder (`Certstatus/OCSP`).
    Ocsp,
    /// A CRL issuer (`Certstatus/CRL`).
    Crl,
    /// A qualified time-stamping authority (`TSA/QTST`).
    TsaQtst,
    /// A time-stamping authority (`TSA`).
    Tsa,
}

const SVCTYPE: &str = "http://uri.etsi.org/TrstSvc/Svctype/";

impl ServiceType {
    pub const ALL: [ServiceType; 7] = [
        ServiceType::CaQc,
        ServiceType::CaPkc,
        ServiceType::OcspQc,
        ServiceType::Ocsp,
        ServiceType::Crl,
        ServiceType::TsaQtst,
        ServiceType::Tsa,
    ];

    pub fn short(self) -> &'static str {
        match self {
            ServiceType::CaQc => "CA/QC",
            ServiceType::CaPkc => "CA/PKC",
            ServiceType::OcspQc => "Certstatus/OCSP/QC",
            ServiceType::Ocsp => "Certstatus/OCSP",
            ServiceType::Crl => "Certstatus/CRL",
            ServiceType::TsaQtst => "TSA/QTST",
            ServiceType::Tsa => "TSA",
        }
    }

    /// The full ETSI URI.
    pub fn uri(self) -> String {
        format!("{SVCTYPE}{}", self.short())
    }

    /// From the short form or the full URI; `OCSP`, `OCSP/QC` and `CRL` also without `Certstatus/`.
    pub fn parse(s: &str) -> Option<ServiceType> {
        let tail = s.trim().strip_prefix(SVCTYPE).unwrap_or(s.trim());
        let tail = tail.strip_prefix("Certstatus/").unwrap_or(tail);
        Some(match tail {
            "CA/QC" => ServiceType::CaQc,
            "CA/PKC" => ServiceType::CaPkc,
            "OCSP/QC" => ServiceType::OcspQc,
            "OCSP" => ServiceType::Ocsp,
            "CRL" => ServiceType::Crl,
            "TSA/QTST" => ServiceType::TsaQtst,
            "TSA" => ServiceType::Tsa,
            _ => return None,
        })
    }

    pub fn is_ca(self) -> bool {
        matches!(self, ServiceType::CaQc | ServiceType::CaPkc)
    }
    pub fn is_ocsp(self) -> bool {
        matches!(self, ServiceType::OcspQc | ServiceType::Ocsp)
    }
    pub fn is_tsa(self) -> bool {
        matches!(self, ServiceType::TsaQtst | ServiceType::Tsa)
    }

    /// What the service is, in Vietnamese.
    pub fn label_vi(self) -> &'static str {
        match self {
            ServiceType::CaQc | ServiceType::CaPkc => "Cơ quan chứng thực (CA)",
            ServiceType::OcspQc | ServiceType::Ocsp => "Dịch vụ trạng thái chứng thư (OCSP)",
            ServiceType::Crl => "Danh sách chứng thư bị thu hồi (CRL)",
            ServiceType::TsaQtst | ServiceType::Tsa => "Dịch vụ cấp dấu thời gian (TSA)",
        }
    }

    /// What the service is, in English.
    pub fn label_en(self) -> &'static str {
        match self {
            ServiceType::CaQc | ServiceType::CaPkc => "Certification authority (CA)",
            ServiceType::OcspQc | ServiceType::Ocsp => "Certificate status service (OCSP)",
            ServiceType::Crl => "Certificate revocation list (CRL)",
            ServiceType::TsaQtst | ServiceType::Tsa => "Time-stamping authority (TSA)",
        }
    }

    /// The kind in one word, as a badge shows it: `CA`, `OCSP`, `CRL` or `TSA`.
    pub fn group(self) -> &'static str {
        match self {
            ServiceType::CaQc | ServiceType::CaPkc => "CA",
            ServiceType::OcspQc | ServiceType::Ocsp => "OCSP",
            ServiceType::Crl => "CRL",
            ServiceType::TsaQtst | ServiceType::Tsa => "TSA",
        }
    }
}

/// ServiceStatus (TS 119 612 v2 §5.5.4). The short form is the URI's tail after
/// `http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Granted,
    Withdrawn,
    RecognisedAtNationalLevel,
    DeprecatedAtNationalLevel,
}

const SVCSTATUS: &str = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/";

impl Status {
    pub const ALL: [Status; 4] =
        [Status::Granted, Status::Withdrawn, Status::RecognisedAtNationalLevel, Status::DeprecatedAtNationalLevel];

    pub fn short(self) -> &'static str {
        match self {
            Status::Granted => "granted",
            Status::Withdrawn => "withdrawn",
            Status::RecognisedAtNationalLevel => "recognisedatnationallevel",
            Status::DeprecatedAtNationalLevel => "deprecatedatnationallevel",
        }
    }

    pub fn uri(self) -> String {
        format!("{SVCSTATUS}{}", self.short())
    }

    /// From the short form or the full URI.
    pub fn parse(s: &str) -> Option<Status> {
        let tail = s.trim().strip_prefix(SVCSTATUS).unwrap_or(s.trim());
        Status::ALL.into_iter().find(|st| st.short() == tail)
    }

    /// May a signature made while the service had this status be trusted?
    pub fn is_trusted(self) -> bool {
        matches!(self, Status::Granted | Status::RecognisedAtNationalLevel)
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Status::Granted => "được cấp phép",
            Status::Withdrawn => "đã bị thu hồi giấy phép",
            Status::RecognisedAtNationalLevel => "được công nhận ở cấp quốc gia",
            Status::DeprecatedAtNationalLevel => "không còn được công nhận ở cấp quốc gia",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Status::Granted => "granted",
            Status::Withdrawn => "withdrawn",
            Status::RecognisedAtNationalLevel => "recognised at national level",
            Status::DeprecatedAtNationalLevel => "deprecated at national level",
        }
    }
}

/// A status and the time it took effect (StatusStartingTime), Unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusChange {
    pub status: Status,
    pub from: i64,
}

/// A TSPService: one certificate with a type, a status history and where it is reached.
#[derive(Clone, Debug)]
pub struct Service {
    pub name: String,
    pub kind: ServiceType,
    pub certificate_der: Vec<u8>,
    pub certificate: Certificate,
    /// ServiceSupplyPoints: where the service answers (an OCSP or TSA URL, a CRL's address).
    pub supply_points: Vec<String>,
    /// Every status the service has had, oldest first; the last is the current one.
    pub history: Vec<StatusChange>,
}

impl Service {
    /// The current status (ServiceStatus, StatusStartingTime).
    pub fn current(&self) -> StatusChange {
        *self.history.last().expect("a service has at least its current status")
    }

    /// The status in force at `t` (the latest change at or before it), or `None` when the service
    /// was not yet listed then.
    pub fn status_at(&self, t: i64) -> Option<Status> {
        self.history.iter().rev().find(|c| c.from <= t).map(|c| c.status)
    }

    /// The periods `[from, until)` in which the service had a trusted status (`until` = `None`:
    /// still trusted). Adjacent trusted statuses form one period.
    pub fn trusted_periods(&self) -> Vec<(i64, Option<i64>)> {
        let mut out: Vec<(i64, Option<i64>)> = Vec::new();
        let mut open: Option<i64> = None;
        for c in &self.history {
            match (c.status.is_trusted(), open) {
                (true, None) => open = Some(c.from),
                (false, Some(start)) => {
                    out.push((start, Some(c.from)));
                    open = None;
                }
                _ => {}
            }
        }
        if let Some(start) = open {
            out.push((start, None));
        }
        out
    }

    /// Self-signed: a root, which validation takes as a trust anchor.
    pub fn is_root(&self) -> bool {
        let t = &self.certificate.tbs_certificate;
        t.issuer == t.subject
    }

    /// The certificate's subject as text (its CN when it has one).
    pub fn subject_name(&self) -> String {
        kyso_pki::subject::name_attr(&self.certificate.tbs_certificate.subject, kyso_pki::subject::OID_CN)
            .unwrap_or_else(|| self.certificate.tbs_certificate.subject.to_string())
    }

    /// SHA-256 of the certificate, hex (how the listing identifies it).
    pub fn fingerprint(&self) -> String {
        hex_lower(&kyso_pki::alg::sha256(&self.certificate_der))
    }

    /// Same subject and key as `cert`: the service (a CA re-certified with the same key is the
    /// same service, as TS 119 612 identifies services by their key).
    pub fn identifies(&self, cert: &Certificate) -> bool {
        let (a, b) = (&self.certificate.tbs_certificate, &cert.tbs_certificate);
        a.subject == b.subject && a.subject_public_key_info.to_der().ok() == b.subject_public_key_info.to_der().ok()
    }
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A TrustServiceProvider: a licensed provider (VNPT-CA, Viettel-CA, …) or the national root's
/// operator, with its services.
#[derive(Clone, Debug)]
pub struct Provider {
    /// TSPName, e.g. "Tập đoàn Bưu chính Viễn thông Việt Nam".
    pub name: String,
    /// TSPTradeName, e.g. "VNPT-CA": what people call it, and what `kyso trust show` takes.
    pub trade_name: Option<String>,
    pub services: Vec<Service>,
}

impl Provider {
    /// The trade name, else the name.
    pub fn label(&self) -> &str {
        self.trade_name.as_deref().unwrap_or(&self.name)
    }
}

/// SchemeInformation: whose list it is and which edition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scheme {
    /// SchemeTerritory, e.g. "VN".
    pub territory: String,
    /// SchemeOperatorName.
    pub operator: String,
    /// TSLSequenceNumber: a re-import of an older edition is refused.
    pub sequence_number: u64,
    /// ListIssueDateTime (Unix seconds).
    pub issued: i64,
    /// NextUpdate (Unix seconds).
    pub next_update: Option<i64>,
}

/// The whole list.
#[derive(Clone, Debug)]
pub struct TrustList {
    pub scheme: Scheme,
    pub providers: Vec<Provider>,
}

impl TrustList {
    /// The provider whose trade name or name is `name` (case and surrounding spaces ignored).
    pub fn provider(&self, name: &str) -> Option<&Provider> {
        let want = name.trim().to_lowercase();
        self.providers.iter().find(|p| {
            p.trade_name.as_deref().is_some_and(|t| t.to_lowercase() == want) || p.name.to_lowercase() == want
        })
    }

    /// Every service with its provider.
    pub fn services(&self) -> impl Iterator<Item = (&Provider, &Service)> {
        self.providers.iter().flat_map(|p| p.services.iter().map(move |s| (p, s)))
    }

    /// The listed service `cert` is, if any (by subject and key).
    pub fn service_of(&self, cert: &Certificate) -> Option<(&Provider, &Service)> {
        self.services().find(|(_, s)| s.identifies(cert))
    }

    /// Add a provider, replacing one with the same label (kyso's own CAs are merged in this way).
    pub fn put_provider(&mut self, p: Provider) {
        self.providers.retain(|q| q.label() != p.label());
        self.providers.push(p);
    }
}
