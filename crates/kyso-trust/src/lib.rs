//! The national trust list as data, after ETSI TS 119 612: the scheme (territory, operator,
//! sequence number, issue and next-update dates), each licensed provider (TrustServiceProvider)
//! with its services (TSPService: a CA, an OCSP responder, a CRL issuer or a TSA, identified by its
//! certificate), and each service's status with the history of its changes (ServiceStatus,
//! StatusStartingTime, ServiceHistory). The file format is TOML with PEM certificates
//! (docs/TRUST-LIST.md, data/trust-list.example.toml).
//!
//! What validation needs from it is the status of a service at a given time
//! ([`Service::status_at`]) and the periods in which it was trusted ([`Service::trusted_periods`]).
//!
//! Architecture invariant: no IO, no clock. Text comes in, a model and TOML text go out.

mod model;
mod toml_io;

pub use model::{Provider, Scheme, Service, ServiceType, Status, StatusChange, TrustList};
pub use toml_io::{TrustListError, MAX_HISTORY, MAX_PROVIDERS, MAX_SERVICES, MAX_TEXT_BYTES};

/// RFC 3339 text (UTC) for a Unix time.
pub fn rfc3339(secs: i64) -> String {
    kyso_pki::time::rfc3339(secs)
}

/// `dd/mm/yyyy hh:mm` in Vietnam time (UTC+7), for the Vietnamese listing.
pub fn vn_time(secs: i64) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(secs + 7 * 3600) else { return secs.to_string() };
    format!("{:02}/{:02}/{:04} {:02}:{:02}", t.day(), u8::from(t.month()), t.year(), t.hour(), t.minute())
}
