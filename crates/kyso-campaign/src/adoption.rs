//! The numerator: distinct registered residents holding at least one valid certificate on a date,
//! from kyso's own issuance and from providers' lists, rolled up hamlet → commune → province.
//!
//! Incremental by construction: each person keeps the union of their certificates' validity
//! intervals `[issued, min(expiry, revoked))`, and each unit keeps a map date → change in holders
//! (+1 where a person's coverage starts, −1 where it ends). An event touches only its own person:
//! their union is recomputed from their few certificates, the old union subtracted from the unit's
//! map and the new one added — O(certificates of that person · log dates), never a rebuild. The
//! count on a day is the prefix sum of the map up to that day. Re-applying a known event is a no-op,
//! which makes provider-list imports idempotent.

use std::collections::{BTreeMap, HashMap};

use time::Date;

use crate::csv::{import_with, ImportReport, RowIssue};
use crate::population::{CitizenId, Register};
use crate::provider_list::{ListRow, ListedCertificate, ProviderListImport};
use crate::units::AdminUnits;

/// What a source says about one certificate. Providers' lists carry no serial; kyso's issuance does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateEvent {
    pub id: CitizenId,
    pub provider: String,
    pub serial: Option<String>,
    pub issued: Date,
    pub expires: Option<Date>,
    pub revoked: Option<Date>,
}

impl CertificateEvent {
    fn key(&self) -> CertKey {
        CertKey {
            id: self.id.clone(),
            provider: self.provider.trim().to_uppercase(),
            reference: match &self.serial {
                Some(serial) => CertRef::Serial(serial.clone()),
                None => CertRef::Issued(self.issued),
            },
        }
    }

    /// Whether it counts on `date`: issued on or before, not yet expired or revoked.
    pub fn valid_on(&self, date: Date) -> bool {
        self.issued <= date && self.end().is_none_or(|e| date < e)
    }

    /// The day the certificate stops counting: its expiry or revocation, whichever comes first.
    pub fn end(&self) -> Option<Date> {
        match (self.expires, self.revoked) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum CertRef {
    Serial(String),
    Issued(Date),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CertKey {
    id: CitizenId,
    provider: String,
    reference: CertRef,
}

type Interval = (Date, Option<Date>);

#[derive(Debug, Clone, Default)]
struct Person {
    commune: String,
    hamlet: String,
    certificates: Vec<CertificateEvent>,
    coverage: Vec<Interval>,
}

/// The union of `[issued, end)` intervals, sorted and disjoint (touching intervals merge).
pub(crate) fn union(certificates: &[CertificateEvent]) -> Vec<Interval> {
    let mut spans: Vec<Interval> =
        certificates.iter().map(|c| (c.issued, c.end())).filter(|(s, e)| e.is_none_or(|e| e > *s)).collect();
    spans.sort();
    let mut out: Vec<Interval> = Vec::new();
    for (start, end) in spans {
        match out.last_mut() {
            Some((_, last_end)) if last_end.is_none_or(|e| start <= e) => {
                *last_end = match (*last_end, end) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            _ => out.push((start, end)),
        }
    }
    out
}

/// How a batch changed the ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyOutcome {
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Indexes (in the batch) of events whose ID number is not in the register.
    pub unmatched: Vec<usize>,
}

/// Holders per unit over time, updated event by event.
#[derive(Debug, Clone, Default)]
pub struct Adoption {
    people: HashMap<CitizenId, Person>,
    known: HashMap<CertKey, usize>,
    unmatched: HashMap<CertKey, CertificateEvent>,
    by_commune: BTreeMap<String, BTreeMap<Date, i64>>,
    by_hamlet: BTreeMap<(String, String), BTreeMap<Date, i64>>,
}

fn shift(map: &mut BTreeMap<Date, i64>, intervals: &[Interval], sign: i64) {
    for &(start, end) in intervals {
        for (date, delta) in [(Some(start), sign), (end, -sign)] {
            let Some(date) = date else { continue };
            let entry = map.entry(date).or_default();
            *entry += delta;
            if *entry == 0 {
                map.remove(&date);
            }
        }
    }
}

fn count_on(map: Option<&BTreeMap<Date, i64>>, date: Date) -> u64 {
    map.map_or(0, |m| m.range(..=date).map(|(_, d)| d).sum::<i64>().max(0) as u64)
}

impl Adoption {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies a batch. Events for ID numbers absent from the register are kept apart (the
    /// correction list to the providers) and not counted.
    pub fn apply<'e>(
        &mut self,
        register: &Register,
        events: impl IntoIterator<Item = &'e CertificateEvent>,
    ) -> ApplyOutcome {
        let mut outcome = ApplyOutcome::default();
        for (index, event) in events.into_iter().enumerate() {
            let key = event.key();
            let Some(resident) = register.get(&event.id) else {
                outcome.unmatched.push(index);
                self.unmatched.entry(key).or_insert_with(|| event.clone());
                continue;
            };
            let person = self.people.entry(event.id.clone()).or_insert_with(|| Person {
                commune: resident.commune_code.clone(),
                hamlet: resident.hamlet_code.clone(),
                ..Person::default()
            });
            match self.known.get(&key) {
                Some(&at) => {
                    let old = &person.certificates[at];
                    // Revocation is final: the earliest known date wins. A newer expiry (renewal) replaces.
                    let revoked = match (old.revoked, event.revoked) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    let expires = event.expires.or(old.expires);
                    if revoked == old.revoked && expires == old.expires {
                        outcome.unchanged += 1;
                        continue;
                    }
                    let cert = &mut person.certificates[at];
                    cert.revoked = revoked;
                    cert.expires = expires;
                    outcome.changed += 1;
                }
                None => {
                    self.known.insert(key, person.certificates.len());
                    person.certificates.push(event.clone());
                    outcome.added += 1;
                }
            }
            let coverage = union(&person.certificates);
            if coverage != person.coverage {
                let commune = self.by_commune.entry(person.commune.clone()).or_default();
                shift(commune, &person.coverage, -1);
                shift(commune, &coverage, 1);
                let hamlet = self.by_hamlet.entry((person.commune.clone(), person.hamlet.clone())).or_default();
                shift(hamlet, &person.coverage, -1);
                shift(hamlet, &coverage, 1);
                person.coverage = coverage;
            }
        }
        outcome
    }

    /// Every certificate known for this resident (kyso's and the lists', repeats merged).
    pub fn certificates_of(&self, id: &CitizenId) -> &[CertificateEvent] {
        self.people.get(id).map_or(&[], |p| &p.certificates)
    }

    /// Whether this resident holds at least one valid certificate on `date`.
    pub fn holds_valid(&self, id: &CitizenId, date: Date) -> bool {
        self.people.get(id).is_some_and(|p| p.coverage.iter().any(|&(s, e)| s <= date && e.is_none_or(|e| date < e)))
    }

    pub fn commune_holders_on(&self, commune_code: &str, date: Date) -> u64 {
        count_on(self.by_commune.get(commune_code), date)
    }

    pub fn hamlet_holders_on(&self, commune_code: &str, hamlet_code: &str, date: Date) -> u64 {
        count_on(self.by_hamlet.get(&(commune_code.to_owned(), hamlet_code.to_owned())), date)
    }

    /// Holders per commune with any history, on `date`.
    pub fn communes_on(&self, date: Date) -> BTreeMap<String, u64> {
        self.by_commune.iter().map(|(code, map)| (code.clone(), count_on(Some(map), date))).collect()
    }

    /// Holders per province on `date`; communes the unit tree does not know go under `"??"`.
    pub fn provinces_on(&self, units: &AdminUnits, date: Date) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for (commune, holders) in self.communes_on(date) {
            let province = units.province_of(&commune).unwrap_or("??").to_owned();
            *out.entry(province).or_default() += holders;
        }
        out
    }

    pub fn total_on(&self, date: Date) -> u64 {
        self.communes_on(date).values().sum()
    }

    /// Certificates whose holder is not in the register (to return to the providers), masked IDs.
    pub fn unmatched(&self) -> impl Iterator<Item = &CertificateEvent> {
        self.unmatched.values()
    }
}

/// The result of importing one provider list into the ledger.
#[derive(Debug, Clone, Default)]
pub struct ProviderImport {
    /// Rows rejected as malformed, by row and field.
    pub errors: Vec<RowIssue>,
    /// Rows repeating an earlier row of the same file (dropped).
    pub duplicates: Vec<RowIssue>,
    /// Rows repeating an earlier row with another expiry, end or status: both named, the
    /// earlier end counts.
    pub conflicts: Vec<RowIssue>,
    /// Well-formed rows whose ID number is not in the register.
    pub unmatched: Vec<RowIssue>,
    pub outcome: ApplyOutcome,
}

/// Parses a provider list `id_number, provider, issue_date[, expiry_date][, status][, revoked_date]`
/// (see [`crate::provider_list`] for the rules). Returns `(row, event)` pairs; repeated rows are
/// warnings ("duplicate of row N") and dropped; conflicting repeats are returned apart, their
/// first row's certificate given the earlier end.
pub fn parse_provider_list_csv(input: &str, as_of: Date) -> (ImportReport<(usize, CertificateEvent)>, Vec<RowIssue>) {
    let mut conflicts = Vec::new();
    let mut firsts: HashMap<usize, ListedCertificate> = HashMap::new();
    let mut report = import_with(
        input,
        |header| ProviderListImport::new(header, None, as_of),
        |import, record, report| match import.row(&record) {
            Ok(ListRow::Certificate(c)) => {
                report.items.push((record.row, c.event()));
                firsts.insert(record.row, c);
            }
            Ok(ListRow::Duplicate(issue)) => report.warnings.push(issue),
            Ok(ListRow::Conflict { first, cert, issue }) => {
                if let Some(kept) = firsts.get_mut(&first) {
                    kept.take_earlier_end(&cert);
                }
                conflicts.push(issue);
            }
            Err(issue) => report.errors.push(issue),
        },
    );
    for (row, event) in &mut report.items {
        if let Some(c) = firsts.get(row) {
            *event = c.event();
        }
    }
    (report, conflicts)
}

/// Parses a provider list and applies it. Importing the same list twice changes nothing.
pub fn import_provider_list(adoption: &mut Adoption, register: &Register, input: &str, as_of: Date) -> ProviderImport {
    let (report, conflicts) = parse_provider_list_csv(input, as_of);
    let events: Vec<&CertificateEvent> = report.items.iter().map(|(_, e)| e).collect();
    let outcome = adoption.apply(register, events);
    let unmatched = outcome
        .unmatched
        .iter()
        .map(|&i| {
            let (row, event) = &report.items[i];
            RowIssue::new(*row, Some("id_number"), format!("{} is not in the register", event.id.masked()))
        })
        .collect();
    ProviderImport { errors: report.errors, duplicates: report.warnings, conflicts, unmatched, outcome }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::{Resident, Sex};
    use time::{Duration, Month};

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), day).unwrap()
    }

    fn id(n: u32) -> CitizenId {
        CitizenId::parse(&format!("0191900{n:05}")).unwrap()
    }

    fn register(people: u32) -> Register {
        Register::new((0..people).map(|n| Resident {
            id: id(n),
            full_name: None,
            date_of_birth: d(1990, 1, 1),
            sex: Sex::Female,
            commune_code: if n % 3 == 0 { "30856".into() } else { "01960".into() },
            hamlet_code: format!("T{}", n % 2),
            household: None,
        }))
    }

    fn cert(n: u32, provider: &str, issued: Date, expires: Option<Date>, revoked: Option<Date>) -> CertificateEvent {
        CertificateEvent { id: id(n), provider: provider.into(), serial: None, issued, expires, revoked }
    }

    #[test]
    fn a_person_counts_once_and_drops_out_on_expiry_or_revocation_day() {
        let reg = register(3);
        let mut ledger = Adoption::new();
        // Person 1 holds two certificates at two providers; person 2 one that expires; person 4 is unknown.
        let events = [
            cert(1, "VNPT-CA", d(2026, 1, 10), Some(d(2027, 1, 10)), None),
            cert(1, "Viettel-CA", d(2026, 2, 1), None, None),
            cert(2, "VNPT-CA", d(2026, 1, 15), Some(d(2026, 3, 1)), None),
            cert(4, "VNPT-CA", d(2026, 1, 15), None, None),
        ];
        let outcome = ledger.apply(&reg, &events);
        assert_eq!((outcome.added, outcome.unmatched.clone()), (3, vec![3]));
        assert_eq!(ledger.commune_holders_on("01960", d(2026, 1, 9)), 0);
        assert_eq!(ledger.commune_holders_on("01960", d(2026, 2, 15)), 2);
        assert_eq!(ledger.commune_holders_on("01960", d(2026, 2, 28)), 2);
        assert_eq!(ledger.commune_holders_on("01960", d(2026, 3, 1)), 1, "expiry day no longer counts");
        assert_eq!(ledger.unmatched().count(), 1);

        // Revoking the Viettel certificate: person 1 still holds the VNPT one until 10 Jan 2027.
        ledger.apply(&reg, &[cert(1, "viettel-ca", d(2026, 2, 1), None, Some(d(2026, 6, 1)))]);
        assert_eq!(ledger.commune_holders_on("01960", d(2026, 6, 1)), 1);
        assert_eq!(ledger.commune_holders_on("01960", d(2027, 1, 9)), 1);
        assert_eq!(ledger.commune_holders_on("01960", d(2027, 1, 10)), 0);
        assert!(ledger.holds_valid(&id(1), d(2026, 6, 1)));
        assert!(!ledger.holds_valid(&id(1), d(2027, 1, 10)));
        assert_eq!(ledger.hamlet_holders_on("01960", "T1", d(2026, 2, 15)), 1);
    }

    #[test]
    fn incremental_counts_equal_a_rebuild() {
        let reg = register(40);
        let mut seed = 7u64;
        let mut next = |m: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        let start = d(2026, 1, 1);
        let events: Vec<CertificateEvent> = (0..200)
            .map(|_| {
                let issued = start + Duration::days(next(200) as i64);
                let expires = (next(3) > 0).then(|| issued + Duration::days(1 + next(300) as i64));
                let revoked = (next(5) == 0).then(|| issued + Duration::days(next(100) as i64));
                let provider = ["VNPT-CA", "Viettel-CA", "FPT-CA"][next(3) as usize];
                cert(next(40) as u32, provider, issued, expires, revoked)
            })
            .collect();
        let mut incremental = Adoption::new();
        for batch in events.chunks(17) {
            incremental.apply(&reg, batch);
        }
        let mut rebuilt = Adoption::new();
        rebuilt.apply(&reg, &events);
        for day in (0..400).step_by(3) {
            let date = start + Duration::days(day);
            let brute = (0..40u32)
                .filter(|&n| {
                    let mine: Vec<_> = events.iter().filter(|e| e.id == id(n)).collect();
                    // Later reports of the same certificate merge; compute per certificate key.
                    let mut merged: HashMap<CertKey, CertificateEvent> = HashMap::new();
                    for e in mine {
                        let m = merged.entry(e.key()).or_insert_with(|| e.clone());
                        m.expires = e.expires.or(m.expires);
                        m.revoked = match (m.revoked, e.revoked) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        };
                    }
                    merged.values().any(|c| c.issued <= date && c.end().is_none_or(|e| date < e))
                })
                .count() as u64;
            assert_eq!(incremental.total_on(date), brute, "{date}");
            assert_eq!(rebuilt.total_on(date), brute, "{date}");
        }
    }

    #[test]
    fn provider_list_import_reports_rows_and_is_idempotent() {
        let reg = register(6);
        let list = "Số định danh,Nhà cung cấp,Ngày cấp,Ngày hết hạn,Trạng thái\r\n\
                    019190000001,VNPT-CA,05/01/2026,05/01/2027,Hoạt động\r\n\
                    019190000002,Viettel-CA,2026-01-06,,\r\n\
                    019190000001,VNPT-CA,05/01/2026,05/01/2027,Hoạt động\r\n\
                    019190000099,VNPT-CA,05/01/2026,,\r\n\
                    01919000000X,VNPT-CA,05/01/2026,,\r\n\
                    019190000004,VNPT-CA,31/02/2026,,\r\n\
                    019190000005,FPT-CA,01/01/2026,,Thu hồi\r\n";
        let as_of = d(2026, 3, 1);
        let mut ledger = Adoption::new();
        let first = import_provider_list(&mut ledger, &reg, list, as_of);
        let rows = |issues: &[RowIssue]| issues.iter().map(|i| (i.row, i.field)).collect::<Vec<_>>();
        assert_eq!(rows(&first.errors), [(6, Some("id_number")), (7, Some("issue_date"))]);
        assert_eq!(rows(&first.duplicates), [(4, None)]);
        assert_eq!(rows(&first.unmatched), [(5, Some("id_number"))]);
        assert_eq!(first.unmatched[0].reason, "0191****0099 is not in the register");
        assert_eq!(first.outcome.added, 3);
        // Person 5's certificate was revoked by the list's date.
        assert_eq!(ledger.commune_holders_on("01960", d(2026, 2, 28)), 3);
        assert_eq!(ledger.commune_holders_on("01960", as_of), 2);
        let before = ledger.communes_on(as_of);

        let second = import_provider_list(&mut ledger, &reg, list, as_of);
        assert_eq!((second.outcome.added, second.outcome.changed, second.outcome.unchanged), (0, 0, 3));
        assert_eq!(ledger.communes_on(as_of), before);
        assert_eq!(ledger.unmatched().count(), 1);
    }

    #[test]
    fn rolls_communes_up_to_provinces() {
        let header = "province_code,province_name,commune_code,commune_name,commune_type,lat,lon,area_km2\n";
        let units = AdminUnits::from_units(
            crate::units::parse_admin_units_csv(&format!(
                "{header}19,Tỉnh Thái Nguyên,01960,Xã Hiệp Lực,Xã,22.3,105.9,105\n\
                 91,Tỉnh An Giang,30856,Xã Tân Hội,Xã,10.3,105.2,50\n"
            ))
            .items,
        );
        let reg = register(6);
        let mut ledger = Adoption::new();
        let events: Vec<_> = (0..6).map(|n| cert(n, "VNPT-CA", d(2026, 1, 1), None, None)).collect();
        ledger.apply(&reg, &events);
        let provinces = ledger.provinces_on(&units, d(2026, 1, 1));
        assert_eq!(provinces.get("19"), Some(&4));
        assert_eq!(provinces.get("91"), Some(&2));
        assert_eq!(ledger.total_on(d(2026, 1, 1)), 6);
    }
}
