//! Provider lists: the certificates a telecom provider reports having issued (ID number,
//! provider, issue date, optional expiry, optional status), as CSV or spreadsheet rows. Validated
//! row by row as they stream; a certificate is identified by (ID number, provider, issue date), so
//! a row repeating an earlier one is a duplicate and a re-import changes nothing.
//!
//! Dates: the expiry date is the first day the certificate no longer counts (the day it expires);
//! a `revoked`/`thu hồi` status without a revocation date counts as revoked on the list's date,
//! an `expired`/`hết hạn` status without an expiry date as ended on the list's date.

use std::collections::HashMap;

use time::Date;

use crate::adoption::CertificateEvent;
use crate::csv::{fold, parse_date, Column, Columns, Record, RowIssue};
use crate::population::{CitizenId, ID_ALIASES};

fn provider_columns() -> [Column; 6] {
    let c = |name, aliases, required| Column { name, aliases, required };
    [
        c("id_number", ID_ALIASES, true),
        c("provider", &["nha_cung_cap", "ca", "to_chuc_cung_cap", "nha_mang", "don_vi_cung_cap"], false),
        c(
            "issue_date",
            &["ngay_cap", "ngay_phat_hanh", "issued", "ngay_hieu_luc", "ngay_kich_hoat", "ngay_cap_chung_thu"],
            true,
        ),
        c("expiry_date", &["expiry", "ngay_het_han", "expires", "ngay_het_hieu_luc"], false),
        c("status", &["trang_thai", "tinh_trang"], false),
        c("revoked_date", &["ngay_thu_hoi", "revoked"], false),
    ]
}

/// One certificate a list reports. `ended` is the day a status without a date puts an end to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedCertificate {
    pub id: CitizenId,
    /// Trimmed, upper case: `VNPT-CA`.
    pub provider: String,
    pub issued: Date,
    pub expires: Option<Date>,
    /// Revoked on this day, or reported revoked/expired (without a date) on a list of this day.
    pub ended: Option<Date>,
    /// `active`, `revoked` or `expired` as the row says (`active` when it says nothing).
    pub status: &'static str,
}

impl ListedCertificate {
    /// The certificate as the adoption ledger counts it.
    pub fn event(&self) -> CertificateEvent {
        CertificateEvent {
            id: self.id.clone(),
            provider: self.provider.clone(),
            serial: None,
            issued: self.issued,
            expires: self.expires,
            revoked: self.ended,
        }
    }
}

/// Normalises a provider name for matching: trimmed, upper case.
pub fn provider_key(name: &str) -> String {
    name.trim().to_uppercase()
}

/// A provider-list import row by row.
pub struct ProviderListImport {
    columns: Columns,
    provider: Option<String>,
    as_of: Date,
    /// `None`: repeats are not looked for here (the caller sorts and calls [`sort_and_dedupe`]).
    seen: Option<HashMap<(u64, String, Date), u32>>,
}

/// What one row gives: a certificate, or a repeat of an earlier row (dropped, reported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListRow {
    Certificate(ListedCertificate),
    Duplicate(RowIssue),
}

impl ProviderListImport {
    /// Maps the header. `provider`: the provider of every row when the file has no provider column
    /// (with one, it fills empty cells and rows naming another provider are refused). `as_of`: the
    /// list's date.
    pub fn new(header: &Record, provider: Option<&str>, as_of: Date) -> Result<Self, Vec<RowIssue>> {
        let columns = Columns::map(header, &provider_columns())?;
        if !columns.has("provider") && provider.is_none() {
            let reason = "no provider column (nha_cung_cap): name the provider of the whole list (--provider)";
            return Err(vec![RowIssue::new(header.row, Some("provider"), reason)]);
        }
        Ok(Self { columns, provider: provider.map(provider_key), as_of, seen: Some(HashMap::new()) })
    }

    /// Leaves repeated rows to the caller: every valid row comes back as a certificate. For lists
    /// of millions, where a hash set of every key would cost hundreds of megabytes and sorting
    /// the rows (needed anyway to match them against the register) finds the repeats for free.
    pub fn without_dedupe(mut self) -> Self {
        self.seen = None;
        self
    }

    pub fn row(&mut self, r: &Record) -> Result<ListRow, RowIssue> {
        let c = &self.columns;
        let row = r.row;
        let issue = |field, reason: String| RowIssue::new(row, Some(field), reason);
        let date = |field| -> Result<Option<Date>, RowIssue> {
            c.get(r, field)
                .map(|t| parse_date(t.split_once('T').map_or(t, |(d, _)| d)).map_err(|e| issue(field, e)))
                .transpose()
        };
        let id = CitizenId::parse(c.get(r, "id_number").unwrap_or("")).map_err(|e| issue("id_number", e))?;
        let provider = match (c.get(r, "provider").map(provider_key), self.provider.as_deref()) {
            (Some(p), Some(only)) if p != only => {
                return Err(issue("provider", format!("{p}, but this list is from {only}")));
            }
            (Some(p), _) => p,
            (None, Some(only)) => only.to_owned(),
            (None, None) => return Err(issue("provider", "empty".into())),
        };
        let issued = date("issue_date")?.ok_or_else(|| issue("issue_date", "empty".into()))?;
        let expires = date("expiry_date")?;
        let revoked = date("revoked_date")?;
        let (status, ended) = match c.get(r, "status").map(fold).as_deref() {
            None | Some("active" | "valid" | "hoat_dong" | "dang_hoat_dong" | "con_hieu_luc" | "hieu_luc") => {
                ("active", revoked)
            }
            Some("revoked" | "thu_hoi" | "da_thu_hoi" | "bi_thu_hoi") => ("revoked", revoked.or(Some(self.as_of))),
            Some("expired" | "het_han" | "da_het_han" | "het_hieu_luc") => {
                ("expired", revoked.or(if expires.is_none() { Some(self.as_of) } else { None }))
            }
            Some(_) => {
                let text = c.get(r, "status").unwrap_or("");
                return Err(issue("status", format!("'{text}' is not active, revoked or expired")));
            }
        };
        if expires.is_some_and(|e| e <= issued) {
            return Err(issue("expiry_date", "not after the issue date".into()));
        }
        if ended.is_some_and(|e| e < issued) {
            return Err(issue("revoked_date", "before the issue date".into()));
        }
        if let Some(seen) = self.seen.as_mut() {
            let key = (id.expose().parse().unwrap_or(0), provider.clone(), issued);
            if let Some(first) = seen.get(&key) {
                return Ok(ListRow::Duplicate(RowIssue::new(row, None, format!("duplicate of row {first}"))));
            }
            seen.insert(key, u32::try_from(row).unwrap_or(u32::MAX));
        }
        Ok(ListRow::Certificate(ListedCertificate { id, provider, issued, expires, ended, status }))
    }
}

/// Provider names of a list, interned: a certificate refers to its provider by index.
#[derive(Debug, Default, Clone)]
pub struct Providers {
    names: Vec<String>,
    index: HashMap<String, u16>,
}

impl Providers {
    pub fn intern(&mut self, name: &str) -> u16 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        // A list naming more than 65,535 providers is not a provider list: saturate, the rows stay.
        let i = u16::try_from(self.names.len()).unwrap_or(u16::MAX);
        if i < u16::MAX {
            self.names.push(name.to_owned());
            self.index.insert(name.to_owned(), i);
        }
        i
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// The statuses a list row can carry, by code.
pub const STATUSES: [&str; 3] = ["active", "revoked", "expired"];

/// One listed certificate in 40 bytes, for lists of millions: the ID number as a number, the
/// provider by index into [`Providers`], dates as day numbers
/// ([`crate::register_index::day_number`]), the status as an index into [`STATUSES`], and the
/// list row it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompactCert {
    pub id: u64,
    pub issued: i32,
    pub expires: Option<i32>,
    pub ended: Option<i32>,
    pub row: u32,
    pub provider: u16,
    pub status: u8,
}

impl CompactCert {
    pub fn new(c: &ListedCertificate, row: usize, providers: &mut Providers) -> Self {
        let day = |d: Date| d.to_julian_day() - 2_440_588;
        CompactCert {
            id: crate::register_index::id_key(c.id.expose()).unwrap_or(0),
            issued: day(c.issued),
            expires: c.expires.map(day),
            ended: c.ended.map(day),
            row: u32::try_from(row).unwrap_or(u32::MAX),
            provider: providers.intern(&c.provider),
            status: STATUSES.iter().position(|s| *s == c.status).unwrap_or(0) as u8,
        }
    }

    /// The identity of a certificate: (ID number, provider, issue day).
    pub fn key(&self) -> (u64, u16, i32) {
        (self.id, self.provider, self.issued)
    }

    pub fn status_name(&self) -> &'static str {
        STATUSES[usize::from(self.status).min(STATUSES.len() - 1)]
    }
}

/// Sorts certificates by (ID number, provider, issue day) — the order the store's key and the
/// register index are in — and drops repeats of a key, keeping the earliest list row and
/// reporting each later one as "duplicate of row N" (in row order).
pub fn sort_and_dedupe(certs: &mut Vec<CompactCert>) -> Vec<RowIssue> {
    certs.sort_unstable_by_key(|c| (c.key(), c.row));
    let mut duplicates = Vec::new();
    let mut first: Option<CompactCert> = None;
    certs.retain(|c| match first {
        Some(f) if f.key() == c.key() => {
            duplicates.push(RowIssue::new(c.row as usize, None, format!("duplicate of row {}", f.row)));
            false
        }
        _ => {
            first = Some(*c);
            true
        }
    });
    duplicates.sort_unstable_by_key(|d| d.row);
    duplicates
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csv::records;
    use time::Month;

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), day).unwrap()
    }

    #[test]
    fn vietnamese_headers_provider_flag_statuses_and_duplicates() {
        let (recs, _) = records(
            "Số CCCD,Ngày cấp,Ngày hết hạn,Tình trạng\n\
             019190000001,05/01/2026,05/01/2027,Đang hoạt động\n\
             019190000002,2026-01-06T00:00:00,,Thu hồi\n\
             019190000003,06/01/2026,,Hết hạn\n\
             019190000001,05/01/2026,05/01/2027,Đang hoạt động\n\
             019190000004,06/01/2026,01/01/2026,\n\
             019190000005,06/01/2026,,Tạm dừng\n",
        );
        let as_of = d(2026, 3, 1);
        assert!(ProviderListImport::new(&recs[0], None, as_of).is_err(), "no provider column, no --provider");
        let mut import = ProviderListImport::new(&recs[0], Some(" vnpt-ca "), as_of).unwrap();
        let out: Vec<_> = recs[1..].iter().map(|r| import.row(r)).collect();
        let cert = |i: usize| match &out[i] {
            Ok(ListRow::Certificate(c)) => c.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!((cert(0).provider.as_str(), cert(0).expires, cert(0).ended), ("VNPT-CA", Some(d(2027, 1, 5)), None));
        assert_eq!((cert(1).status, cert(1).ended), ("revoked", Some(as_of)));
        assert_eq!((cert(2).status, cert(2).expires, cert(2).ended), ("expired", None, Some(as_of)));
        assert_eq!(out[3], Ok(ListRow::Duplicate(RowIssue::new(5, None, "duplicate of row 2"))));
        assert_eq!(out[4].as_ref().unwrap_err().to_string(), "row 6, field expiry_date: not after the issue date");
        assert_eq!(out[5].as_ref().unwrap_err().field, Some("status"));
    }

    #[test]
    fn provider_column_and_flag_must_agree() {
        let (recs, _) =
            records("id_number,nha_cung_cap,ngay_cap\n019190000001,Viettel-CA,05/01/2026\n019190000002,,05/01/2026\n");
        let mut import = ProviderListImport::new(&recs[0], Some("VNPT-CA"), d(2026, 3, 1)).unwrap();
        assert_eq!(import.row(&recs[1]).unwrap_err().reason, "VIETTEL-CA, but this list is from VNPT-CA");
        assert!(matches!(import.row(&recs[2]), Ok(ListRow::Certificate(c)) if c.provider == "VNPT-CA"));
    }

    #[test]
    fn sorting_finds_the_same_duplicates_as_streaming() {
        let (recs, _) = records(
            "id_number,nha_cung_cap,ngay_cap,trang_thai\n\
             019190000002,VNPT-CA,05/01/2026,\n\
             019190000001,Viettel-CA,05/01/2026,\n\
             019190000002,VNPT-CA,05/01/2026,thu hồi\n\
             019190000002,VNPT-CA,06/01/2026,\n\
             019190000001,Viettel-CA,05/01/2026,\n\
             019190000002,VNPT-CA,05/01/2026,\n",
        );
        let as_of = d(2026, 3, 1);
        let mut streaming = ProviderListImport::new(&recs[0], None, as_of).unwrap();
        let expected: Vec<RowIssue> = recs[1..]
            .iter()
            .filter_map(|r| match streaming.row(r) {
                Ok(ListRow::Duplicate(issue)) => Some(issue),
                _ => None,
            })
            .collect();
        let mut bulk = ProviderListImport::new(&recs[0], None, as_of).unwrap().without_dedupe();
        let mut providers = Providers::default();
        let mut certs: Vec<CompactCert> = recs[1..]
            .iter()
            .map(|r| match bulk.row(r) {
                Ok(ListRow::Certificate(c)) => CompactCert::new(&c, r.row, &mut providers),
                other => panic!("{other:?}"),
            })
            .collect();
        let duplicates = sort_and_dedupe(&mut certs);
        assert_eq!(duplicates, expected);
        assert_eq!(duplicates.iter().map(|d| d.row).collect::<Vec<_>>(), vec![4, 6, 7]);
        let kept: Vec<_> =
            certs.iter().map(|c| (c.id, providers.names()[usize::from(c.provider)].as_str(), c.row)).collect();
        assert_eq!(
            kept,
            vec![(19_190_000_001, "VIETTEL-CA", 3), (19_190_000_002, "VNPT-CA", 2), (19_190_000_002, "VNPT-CA", 5)]
        );
        assert_eq!(certs[1].status_name(), "active");
        assert_eq!(certs[1].issued, crate::register_index::day_number("2026-01-05").unwrap());
    }
}
