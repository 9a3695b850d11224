//! X.509 time encoding: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5).

use crate::{DerContext, PkiError};
use der::asn1::{GeneralizedTime, UtcTime};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use x509_cert::time::Time;

const Y2050: u64 = 2_524_608_000;

pub fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

pub fn from_unix(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64)
}

pub fn x509_time(t: SystemTime) -> Result<Time, PkiError> {
    let secs = unix(t);
    let d = Duration::from_secs(secs);
    if secs < Y2050 {
        Ok(Time::UtcTime(UtcTime::from_unix_duration(d).ctx("UTCTime")?))
    } else {
        Ok(Time::GeneralTime(GeneralizedTime::from_unix_duration(d).ctx("GeneralizedTime")?))
    }
}

pub fn generalized(t: SystemTime) -> Result<GeneralizedTime, PkiError> {
    GeneralizedTime::from_unix_duration(Duration::from_secs(unix(t))).ctx("GeneralizedTime")
}

/// RFC 3339 text in UTC, for humans and JSON.
pub fn rfc3339(secs: i64) -> String {
    ::time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&::time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| secs.to_string())
}
