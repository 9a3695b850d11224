//! Provider lists: the certificates a telecom provider reports having issued (ID number,
//! provider, issue date, optional expiry, optional status), as CSV or spreadsheet rows. Validated
//! row by row as they stream; a certificate is identified by (ID number, provider, issue date), so
//! a row repeating an earlier one is a duplicate and a re-import changes nothing. A repeat that
//! disagrees on the expiry, the end or the status is a conflict: both rows are reported and the
//! certificate keeps the earlier end (a row saying expired or revoked is believed).
//!
//! Dates: the expiry date is the first day the certificate no longer counts (the day it expires);
//! a `revoked`/`thu hồi` status without a revocation date counts as revoked on the list's date,
//! an `expired`/`hết hạn` status without an expiry date as ended on the list's date.

use std::borrow::Cow;
use std::collections::HashMap;

use time::Date;

use crate::adoption::CertificateEvent;
use crate::csv::{cell, parse_date, trim, with_folded, Column, Columns, Record, RowIssue};
use crate::population::{CitizenId, ID_ALIASES};

fn provider_columns() -> [Column; 7] {
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
        crate::csv::stt_column(),
    ]
}

/// One certificate a list reports. `ended` is the day a status without a date puts an end to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedCertificate {
    pub id: CitizenId,
    /// Trimmed, upper case: `VNPT-CA` (the key rows are matched on).
    pub provider: String,
    /// As the list writes it: `Vnpt-CA`.
    pub provider_shown: String,
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

/// A provider as a row names it, stored under its [`provider_key`]. An ASCII name (the usual
/// case, on millions of rows) is compared and interned without building the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProviderName<'a> {
    /// Trimmed.
    text: &'a str,
    kind: NameKind,
    /// As the list writes it (`Viettel-CA`): what is shown, while the key matches.
    shown: &'a str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NameKind {
    /// A key already (the list's own provider).
    Key,
    Ascii,
    Other,
}

impl<'a> ProviderName<'a> {
    /// A provider as a cell names it.
    pub fn cell(text: &'a str) -> Self {
        let text = trim(text);
        Self { text, kind: if text.is_ascii() { NameKind::Ascii } else { NameKind::Other }, shown: text }
    }

    /// The name as the list (or the import's `--provider`) writes it.
    pub fn shown(&self) -> &'a str {
        self.shown
    }

    /// The name it is stored under: [`provider_key`], borrowed when that changes nothing.
    pub fn key(&self) -> Cow<'a, str> {
        match self.kind {
            NameKind::Key => Cow::Borrowed(self.text),
            NameKind::Ascii if !self.text.bytes().any(|b| b.is_ascii_lowercase()) => Cow::Borrowed(self.text),
            _ => Cow::Owned(provider_key(self.text)),
        }
    }

    /// Whether its key is `key`.
    pub fn has_key(&self, key: &str) -> bool {
        match self.kind {
            NameKind::Key => self.text == key,
            NameKind::Ascii => {
                self.text.len() == key.len()
                    && self.text.bytes().zip(key.bytes()).all(|(a, b)| a.to_ascii_uppercase() == b)
            }
            NameKind::Other => provider_key(self.text) == key,
        }
    }
}

/// A row that passed every check, borrowing its ID number and provider from the row or the
/// import: what the streaming path ([`ProviderListImport::row`]) and the bulk path
/// ([`CompactCert::checked`]) both build from. No `Debug`: it holds an ID number in clear.
#[derive(Clone, Copy)]
pub struct CheckedRow<'a> {
    /// The ID number's 12 digits.
    pub id: &'a str,
    pub provider: ProviderName<'a>,
    pub issued: Date,
    pub expires: Option<Date>,
    pub ended: Option<Date>,
    pub status: &'static str,
}

/// The status a folded status cell names (`None` for anything else).
fn listed_status(folded: &str) -> Option<&'static str> {
    match folded {
        "active" | "valid" | "hoat_dong" | "dang_hoat_dong" | "con_hieu_luc" | "hieu_luc" => Some("active"),
        "revoked" | "thu_hoi" | "da_thu_hoi" | "bi_thu_hoi" => Some("revoked"),
        "expired" | "het_han" | "da_het_han" | "het_hieu_luc" => Some("expired"),
        _ => None,
    }
}

/// Indices into [`provider_columns`].
const ID: usize = 0;
const PROVIDER: usize = 1;
const ISSUED: usize = 2;
const EXPIRES: usize = 3;
const STATUS: usize = 4;
const REVOKED: usize = 5;
const STT: usize = 6;

/// A provider-list import row by row.
pub struct ProviderListImport {
    /// Where each of [`provider_columns`] is in a row.
    at: [Option<usize>; 7],
    /// The key of the import's provider, and the name as given.
    provider: Option<String>,
    provider_shown: Option<String>,
    as_of: Date,
    /// `None`: repeats are not looked for here (the caller sorts and calls [`sort_and_dedupe`]).
    /// Each key's first row and its terms (expiry, end, status).
    seen: Option<HashMap<CertKey, (u32, Terms)>>,
}

/// What one row gives: a certificate, or a repeat of an earlier row (dropped, reported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListRow {
    Certificate(ListedCertificate),
    Duplicate(RowIssue),
    /// A repeat of row `first` with other terms: the caller gives that row's certificate the
    /// earlier end ([`ListedCertificate::take_earlier_end`]) and reports `issue`.
    Conflict {
        first: usize,
        cert: ListedCertificate,
        issue: RowIssue,
    },
}

/// A certificate's identity in a list: ID number, provider key, issue date.
type CertKey = (u64, String, Date);

/// What two rows of one certificate can disagree on: expiry, end (revocation) and status.
type Terms = (Option<Date>, Option<Date>, &'static str);

/// Whether two rows of one certificate disagree: another status, or both give an expiry (or an
/// end) and not the same one. A row that leaves a date out does not contradict one that gives it.
fn disagree(a: Terms, b: Terms) -> bool {
    let differ = |x: Option<Date>, y: Option<Date>| x.is_some() && y.is_some() && x != y;
    a.2 != b.2 || differ(a.0, b.0) || differ(a.1, b.1)
}

/// `a` or `b`, whichever ends first (`None` never ends).
fn earlier(a: Option<Date>, b: Option<Date>) -> Option<Date> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// A row's terms as a conflict report shows them: `expiry 2027-01-01, status revoked, ended 2026-11-02`.
fn terms_text((expires, ended, status): Terms) -> String {
    let mut t = format!("expiry {}", expires.map_or("none".into(), |d| d.to_string()));
    t.push_str(&format!(", status {status}"));
    if let Some(e) = ended {
        t.push_str(&format!(", ended {e}"));
    }
    t
}

/// The report of row `row` conflicting with the key's first row: both rows' terms, and what counts.
fn conflict_issue(row: usize, first: usize, (a, b): (Terms, Terms)) -> RowIssue {
    let reason = format!(
        "conflicts with row {first}: row {first} says {}, row {row} says {}; the earlier end counts",
        terms_text(a),
        terms_text(b)
    );
    RowIssue::new(row, None, reason)
}

/// The status of two rows of one certificate: one that ended it wins over `active`.
fn ending_status(a: &'static str, b: &'static str) -> &'static str {
    if a == "active" {
        b
    } else {
        a
    }
}

impl ListedCertificate {
    /// Its terms merged with a conflicting row's: the earlier expiry and end, an ending status.
    pub fn take_earlier_end(&mut self, other: &ListedCertificate) {
        self.expires = earlier(self.expires, other.expires);
        self.ended = earlier(self.ended, other.ended);
        self.status = ending_status(self.status, other.status);
    }

    fn terms(&self) -> Terms {
        (self.expires, self.ended, self.status)
    }
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
        let at = provider_columns().map(|c| columns.position(c.name));
        Ok(Self {
            at,
            provider: provider.map(provider_key),
            provider_shown: provider.map(|p| trim(p).to_owned()),
            as_of,
            seen: Some(HashMap::new()),
        })
    }

    /// Leaves repeated rows to the caller: every valid row comes back as a certificate. For lists
    /// of millions, where a hash set of every key would cost hundreds of megabytes and sorting
    /// the rows (needed anyway to match them against the register) finds the repeats for free.
    pub fn without_dedupe(mut self) -> Self {
        self.seen = None;
        self
    }

    /// Checks one row, given as its number and its fields (split in place or owned), without
    /// allocating when it is valid. Repeats are not looked for here.
    pub fn check<'a, S: AsRef<str>>(&'a self, row: usize, fields: &'a [S]) -> Result<CheckedRow<'a>, RowIssue> {
        let get = |column: usize| cell(fields, self.at[column]);
        let issue = |field, reason: String| RowIssue::new(row, Some(field), reason).with_stt(get(STT));
        let date = |column, field| -> Result<Option<Date>, RowIssue> {
            get(column)
                .map(|t| {
                    parse_date(t.bytes().position(|b| b == b'T').map_or(t, |at| &t[..at])).map_err(|e| issue(field, e))
                })
                .transpose()
        };
        let id = CitizenId::digits(get(ID).unwrap_or("")).map_err(|e| issue("id_number", e))?;
        let provider = match (get(PROVIDER).map(ProviderName::cell), self.provider.as_deref()) {
            (Some(p), Some(only)) if !p.has_key(only) => {
                let list = self.provider_shown.as_deref().unwrap_or(only);
                return Err(issue("provider", format!("{}, but this list is from {list}", p.shown())));
            }
            (Some(p), _) => p,
            (None, Some(only)) => {
                ProviderName { text: only, kind: NameKind::Key, shown: self.provider_shown.as_deref().unwrap_or(only) }
            }
            (None, None) => return Err(issue("provider", "empty".into())),
        };
        let issued = date(ISSUED, "issue_date")?.ok_or_else(|| issue("issue_date", "empty".into()))?;
        let expires = date(EXPIRES, "expiry_date")?;
        let revoked = date(REVOKED, "revoked_date")?;
        let status = match get(STATUS) {
            None => Some("active"),
            Some(text) => with_folded(text, listed_status),
        };
        let (status, ended) = match status {
            Some("revoked") => ("revoked", revoked.or(Some(self.as_of))),
            Some("expired") => ("expired", revoked.or(if expires.is_none() { Some(self.as_of) } else { None })),
            Some(_) => ("active", revoked),
            None => {
                let text = get(STATUS).unwrap_or("");
                return Err(issue("status", format!("'{text}' is not active, revoked or expired")));
            }
        };
        if expires.is_some_and(|e| e <= issued) {
            return Err(issue("expiry_date", "not after the issue date".into()));
        }
        if ended.is_some_and(|e| e < issued) {
            return Err(issue("revoked_date", "before the issue date".into()));
        }
        Ok(CheckedRow { id, provider, issued, expires, ended, status })
    }

    /// One record: its certificate, a repeat of an earlier row (unless [`Self::without_dedupe`]),
    /// or the issue that rejects it.
    pub fn row(&mut self, r: &Record) -> Result<ListRow, RowIssue> {
        let c = self.check(r.row, &r.fields)?;
        let cert = ListedCertificate {
            id: CitizenId::from_digits(c.id),
            provider: c.provider.key().into_owned(),
            provider_shown: c.provider.shown().to_owned(),
            issued: c.issued,
            expires: c.expires,
            ended: c.ended,
            status: c.status,
        };
        let row = r.row;
        if let Some(seen) = self.seen.as_mut() {
            let key = (cert.id.expose().parse().unwrap_or(0), cert.provider.clone(), cert.issued);
            if let Some(&(first, terms)) = seen.get(&key) {
                let first = first as usize;
                if disagree(terms, cert.terms()) {
                    let issue = conflict_issue(row, first, (terms, cert.terms()));
                    return Ok(ListRow::Conflict { first, cert, issue });
                }
                return Ok(ListRow::Duplicate(RowIssue::new(row, None, format!("duplicate of row {first}"))));
            }
            seen.insert(key, (u32::try_from(row).unwrap_or(u32::MAX), cert.terms()));
        }
        Ok(ListRow::Certificate(cert))
    }
}

/// Provider names of a list, interned: a certificate refers to its provider by index.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Providers {
    /// Keys ([`provider_key`]), and each as the list first wrote it.
    names: Vec<String>,
    shown: Vec<String>,
    index: HashMap<String, u16>,
}

impl Providers {
    /// The index of a key (shown as the key itself when new).
    pub fn intern(&mut self, name: &str) -> u16 {
        self.intern_shown(name, name)
    }

    /// The index of `key`, written `shown` in the list (the first writing is kept).
    pub fn intern_shown(&mut self, key: &str, shown: &str) -> u16 {
        if let Some(&i) = self.index.get(key) {
            return i;
        }
        // A list naming more than 65,535 providers is not a provider list: saturate, the rows stay.
        let i = u16::try_from(self.names.len()).unwrap_or(u16::MAX);
        if i < u16::MAX {
            self.names.push(key.to_owned());
            self.shown.push(shown.to_owned());
            self.index.insert(key.to_owned(), i);
        }
        i
    }

    /// [`Providers::intern`] of the name's key; a short table is scanned first, so that an ASCII
    /// name already seen costs no allocation and no hashing.
    pub fn intern_name(&mut self, name: ProviderName<'_>) -> u16 {
        const SCAN: usize = 16;
        if self.names.len() <= SCAN {
            if let Some(i) = self.names.iter().position(|n| name.has_key(n)) {
                return i as u16;
            }
        }
        self.intern_shown(&name.key(), name.shown())
    }

    /// Adds `other`'s names (those not known yet, in `other`'s order) and returns where each of
    /// `other`'s indices went: interning a list's parts one after the other gives the same table as
    /// interning the whole list.
    pub fn absorb(&mut self, other: &Providers) -> Vec<u16> {
        other.names.iter().zip(&other.shown).map(|(n, s)| self.intern_shown(n, s)).collect()
    }

    /// The keys, by index.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The names as the list writes them, by index.
    pub fn shown(&self) -> &[String] {
        &self.shown
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
        let provider = providers.intern_shown(&c.provider, &c.provider_shown);
        Self::compact(c.id.expose(), provider, (c.issued, c.expires, c.ended), c.status, row)
    }

    /// The certificate of a checked row: as [`CompactCert::new`] of the row's [`ListedCertificate`].
    pub fn checked(c: &CheckedRow<'_>, row: usize, providers: &mut Providers) -> Self {
        let provider = providers.intern_name(c.provider);
        Self::compact(c.id, provider, (c.issued, c.expires, c.ended), c.status, row)
    }

    fn compact(
        id: &str,
        provider: u16,
        (issued, expires, ended): (Date, Option<Date>, Option<Date>),
        status: &str,
        row: usize,
    ) -> Self {
        let day = |d: Date| d.to_julian_day() - 2_440_588;
        CompactCert {
            id: crate::register_index::id_key(id).unwrap_or(0),
            issued: day(issued),
            expires: expires.map(day),
            ended: ended.map(day),
            row: u32::try_from(row).unwrap_or(u32::MAX),
            provider,
            status: STATUSES.iter().position(|s| *s == status).unwrap_or(0) as u8,
        }
    }

    /// The identity of a certificate: (ID number, provider, issue day).
    pub fn key(&self) -> (u64, u16, i32) {
        (self.id, self.provider, self.issued)
    }

    pub fn status_name(&self) -> &'static str {
        STATUSES[usize::from(self.status).min(STATUSES.len() - 1)]
    }

    fn terms(&self) -> Terms {
        let date = |d: i32| Date::from_julian_day(d + 2_440_588).ok();
        (self.expires.and_then(date), self.ended.and_then(date), self.status_name())
    }

    /// A later row of the same certificate, compared with the key's first row as the list wrote
    /// it: a duplicate, or a conflict (reported with both rows). Either way `kept` (that first
    /// row merged with the repeats so far) takes the earlier expiry and end and an ending status.
    fn absorb_repeat(kept: &mut CompactCert, first: &CompactCert, later: &CompactCert, repeats: &mut Repeats) {
        let (row, first_row) = (later.row as usize, first.row as usize);
        if disagree(first.terms(), later.terms()) {
            repeats.conflicts.push(conflict_issue(row, first_row, (first.terms(), later.terms())));
        } else {
            repeats.duplicates.push(RowIssue::new(row, None, format!("duplicate of row {first_row}")));
        }
        let min = |a: Option<i32>, b: Option<i32>| match (a, b) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        kept.expires = min(kept.expires, later.expires);
        kept.ended = min(kept.ended, later.ended);
        if kept.status == 0 {
            kept.status = later.status;
        }
    }
}

/// The repeats of a list's keys, each in row order: `duplicates` (the same terms) and `conflicts`
/// (other terms; both rows named, the earlier end kept).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Repeats {
    pub duplicates: Vec<RowIssue>,
    pub conflicts: Vec<RowIssue>,
}

impl Repeats {
    fn sorted(mut self) -> Self {
        self.duplicates.sort_unstable_by_key(|d| d.row);
        self.conflicts.sort_unstable_by_key(|d| d.row);
        self
    }
}

/// Sorts certificates by (ID number, provider, issue day) — the order the store's key and the
/// register index are in — and drops repeats of a key, keeping the earliest list row and
/// reporting each later one as "duplicate of row N" or, with other terms, as a conflict.
pub fn sort_and_dedupe(certs: &mut Vec<CompactCert>) -> Repeats {
    sort_run(certs);
    dedupe_sorted(certs)
}

/// Sorts certificates by (key, list row): the order [`sort_and_dedupe`] sorts in, and the order
/// [`merge_and_dedupe`] wants its runs in.
pub fn sort_run(certs: &mut [CompactCert]) {
    certs.sort_unstable_by_key(|c| (c.key(), c.row));
}

/// [`sort_and_dedupe`] of the concatenation of `runs`, each already sorted by [`sort_run`] (the
/// certificates of parts of one list, sorted on threads of their own): merged two by two, the
/// last merge dropping and reporting the same repeats. List rows are unique across the runs.
pub fn merge_and_dedupe(mut runs: Vec<Vec<CompactCert>>) -> (Vec<CompactCert>, Repeats) {
    while runs.len() > 2 {
        let (b, a) = (runs.pop().unwrap_or_default(), runs.pop().unwrap_or_default());
        let mut merged = Vec::with_capacity(a.len() + b.len());
        merge_into(&a, &b, |c| merged.push(c));
        runs.push(merged);
    }
    let (b, a) = (runs.pop().unwrap_or_default(), runs.pop().unwrap_or_default());
    let mut kept: Vec<CompactCert> = Vec::with_capacity(a.len() + b.len());
    let mut repeats = Repeats::default();
    let mut first: Option<CompactCert> = None;
    merge_into(&a, &b, |c| match (kept.last_mut(), &first) {
        (Some(k), Some(f)) if f.key() == c.key() => CompactCert::absorb_repeat(k, f, &c, &mut repeats),
        _ => {
            first = Some(c);
            kept.push(c);
        }
    });
    (kept, repeats.sorted())
}

/// Two runs sorted by (key, row), in that order, handed one by one to `emit`.
fn merge_into(a: &[CompactCert], b: &[CompactCert], mut emit: impl FnMut(CompactCert)) {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if (b[j].key(), b[j].row) < (a[i].key(), a[i].row) {
            emit(b[j]);
            j += 1;
        } else {
            emit(a[i]);
            i += 1;
        }
    }
    a[i..].iter().chain(&b[j..]).for_each(|&c| emit(c));
}

/// Drops repeats from certificates sorted by (key, row), keeping each key's earliest row.
fn dedupe_sorted(certs: &mut Vec<CompactCert>) -> Repeats {
    let mut repeats = Repeats::default();
    // compacted in place: a national list is millions of certificates
    let (mut kept, mut first) = (0, None::<CompactCert>);
    for at in 0..certs.len() {
        let c = certs[at];
        match first {
            Some(f) if f.key() == c.key() => CompactCert::absorb_repeat(&mut certs[kept - 1], &f, &c, &mut repeats),
            _ => {
                first = Some(c);
                certs[kept] = c;
                kept += 1;
            }
        }
    }
    certs.truncate(kept);
    repeats.sorted()
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
        assert_eq!(import.row(&recs[1]).unwrap_err().reason, "Viettel-CA, but this list is from VNPT-CA");
        assert!(matches!(import.row(&recs[2]), Ok(ListRow::Certificate(c)) if c.provider == "VNPT-CA"));
        // matched on the key, shown as written (issue 18)
        let mut import = ProviderListImport::new(&recs[0], None, d(2026, 3, 1)).unwrap();
        let c = match import.row(&recs[1]) {
            Ok(ListRow::Certificate(c)) => c,
            other => panic!("{other:?}"),
        };
        assert_eq!((c.provider.as_str(), c.provider_shown.as_str()), ("VIETTEL-CA", "Viettel-CA"));
        let mut providers = Providers::default();
        CompactCert::new(&c, 2, &mut providers);
        assert_eq!(
            (providers.names(), providers.shown()),
            (&["VIETTEL-CA".to_owned()][..], &["Viettel-CA".to_owned()][..])
        );
    }

    #[test]
    fn sorting_finds_the_same_duplicates_and_conflicts_as_streaming() {
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
        let mut expected = Repeats::default();
        for r in &recs[1..] {
            match streaming.row(r) {
                Ok(ListRow::Duplicate(issue)) => expected.duplicates.push(issue),
                Ok(ListRow::Conflict { first, issue, .. }) => {
                    assert_eq!(first, 2);
                    expected.conflicts.push(issue)
                }
                _ => {}
            }
        }
        let mut bulk = ProviderListImport::new(&recs[0], None, as_of).unwrap().without_dedupe();
        let mut providers = Providers::default();
        let mut certs: Vec<CompactCert> = recs[1..]
            .iter()
            .map(|r| match bulk.row(r) {
                Ok(ListRow::Certificate(c)) => CompactCert::new(&c, r.row, &mut providers),
                other => panic!("{other:?}"),
            })
            .collect();
        let repeats = sort_and_dedupe(&mut certs);
        assert_eq!(repeats, expected);
        assert_eq!(repeats.duplicates.iter().map(|d| d.row).collect::<Vec<_>>(), vec![6, 7]);
        // row 4 repeats row 2's certificate but says revoked: a conflict naming both rows
        assert_eq!(
            repeats.conflicts,
            [RowIssue::new(
                4,
                None,
                "conflicts with row 2: row 2 says expiry none, status active, \
                 row 4 says expiry none, status revoked, ended 2026-03-01; the earlier end counts"
            )]
        );
        let kept: Vec<_> =
            certs.iter().map(|c| (c.id, providers.names()[usize::from(c.provider)].as_str(), c.row)).collect();
        assert_eq!(
            kept,
            vec![(19_190_000_001, "VIETTEL-CA", 3), (19_190_000_002, "VNPT-CA", 2), (19_190_000_002, "VNPT-CA", 5)]
        );
        // the earlier end counts: the certificate row 2 lists as active is revoked on the list's date
        assert_eq!(certs[1].status_name(), "revoked");
        assert_eq!(certs[1].ended, crate::register_index::day_number("2026-03-01"));
        assert_eq!(certs[1].issued, crate::register_index::day_number("2026-01-05").unwrap());
        assert_eq!(certs[2].status_name(), "active");
    }

    #[test]
    fn merging_sorted_runs_dedupes_as_sorting_the_whole() {
        let cert = |id: u64, provider: u16, issued: i32, row: u32| CompactCert {
            id,
            issued,
            expires: None,
            ended: if row.is_multiple_of(2) { Some(issued + 1) } else { None },
            row,
            provider,
            status: (row % 3) as u8,
        };
        // Keys repeating within a run, across runs, and three and four times.
        let rows = [
            (7, 0, 10),
            (3, 1, 10),
            (7, 0, 10),
            (5, 0, 11),
            (3, 0, 10),
            (7, 0, 10),
            (3, 1, 10),
            (9, 2, 12),
            (5, 0, 11),
            (1, 0, 10),
            (7, 0, 10),
            (3, 1, 9),
            (5, 0, 11),
            (2, 0, 10),
            (9, 2, 12),
        ];
        let all: Vec<CompactCert> =
            rows.iter().enumerate().map(|(i, &(id, p, day))| cert(id, p, day, i as u32 + 2)).collect();
        let mut whole = all.clone();
        let expected = sort_and_dedupe(&mut whole);
        assert_eq!(expected.duplicates.len() + expected.conflicts.len(), 7);
        assert!(!expected.conflicts.is_empty() && !expected.duplicates.is_empty(), "{expected:?}");
        for cuts in [vec![], vec![0], vec![15], vec![4], vec![7], vec![3, 9], vec![1, 2, 12], vec![0, 5, 5, 15]] {
            let mut runs = Vec::new();
            let mut from = 0;
            for &to in cuts.iter().chain([&15]) {
                let mut run = all[from..to].to_vec();
                sort_run(&mut run);
                runs.push(run);
                from = to;
            }
            let (merged, duplicates) = merge_and_dedupe(runs);
            assert_eq!((&merged, &duplicates), (&whole, &expected), "cut at {cuts:?}");
        }
        assert_eq!(merge_and_dedupe(Vec::new()), (Vec::new(), Repeats::default()));
    }
}
