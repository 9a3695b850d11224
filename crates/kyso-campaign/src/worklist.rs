//! Door-to-door worklists: a hamlet's adults without a valid certificate, in walking order
//! (household, then name), ID numbers masked, and the append-only log of visit outcomes.
//!
//! Outcomes are only appended, never edited, so two teams cannot conflict; the latest outcome for
//! a person decides whether they stay on tomorrow's list.

use std::cmp::Ordering;

use time::Date;

use std::collections::HashSet;

use crate::adoption::Adoption;
use crate::csv::fold;
use crate::denominator::AdultsDenominator;
use crate::eid::Need;
use crate::population::{CitizenId, Register, Resident};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Registered on the spot.
    Done,
    /// Helped through the steps (e-ID activated, certificate requested).
    Assisted,
    NotAtHome,
    Refused,
    MovedAway,
    Deceased,
    /// Already holds a certificate from this provider (a correction for the provider lists).
    AlreadyHolds {
        provider: String,
    },
}

impl Outcome {
    /// The outcome a stored or typed name stands for (`already-holds` needs the provider).
    pub fn parse(name: &str, provider: Option<&str>) -> Option<Outcome> {
        Some(match name.replace('_', "-").as_str() {
            "done" => Outcome::Done,
            "assisted" => Outcome::Assisted,
            "not-at-home" => Outcome::NotAtHome,
            "refused" => Outcome::Refused,
            "moved-away" => Outcome::MovedAway,
            "deceased" => Outcome::Deceased,
            "already-holds" => {
                Outcome::AlreadyHolds { provider: provider.filter(|p| !p.trim().is_empty())?.to_owned() }
            }
            _ => return None,
        })
    }

    /// The name it is stored and typed as.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Assisted => "assisted",
            Outcome::NotAtHome => "not-at-home",
            Outcome::Refused => "refused",
            Outcome::MovedAway => "moved-away",
            Outcome::Deceased => "deceased",
            Outcome::AlreadyHolds { .. } => "already-holds",
        }
    }

    /// Whether this outcome takes the person off the next list.
    pub fn closes(&self) -> bool {
        !matches!(self, Outcome::NotAtHome | Outcome::Refused)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub person: CitizenId,
    pub date: Date,
    pub team: String,
    pub outcome: Outcome,
}

/// The visit log. There is no edit or delete: a correction is a newer visit.
#[derive(Debug, Clone, Default)]
pub struct VisitLog {
    visits: Vec<Visit>,
}

impl VisitLog {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn record(&mut self, visit: Visit) {
        self.visits.push(visit);
    }

    pub fn visits(&self) -> &[Visit] {
        &self.visits
    }

    /// The latest outcome recorded for a person on or before `date` (on a tie, the later entry).
    pub fn latest(&self, person: &CitizenId, date: Date) -> Option<&Visit> {
        self.visits.iter().filter(|v| &v.person == person && v.date <= date).max_by_key(|v| v.date)
    }
}

/// One line of a worklist. The clear ID number stays inside; the team sees [`Self::masked_id`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorklistEntry {
    person: CitizenId,
    pub masked_id: String,
    pub full_name: Option<String>,
    pub household: Option<String>,
    pub last_outcome: Option<Outcome>,
    /// What the person needs next; `None` when it cannot be told (no police e-ID list yet).
    pub need: Option<Need>,
}

impl WorklistEntry {
    /// The person, to record a visit against (masks itself when printed).
    pub fn person(&self) -> &CitizenId {
        &self.person
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worklist {
    pub commune_code: String,
    pub hamlet_code: String,
    pub date: Date,
    pub entries: Vec<WorklistEntry>,
}

impl Worklist {
    /// Says what each person needs next: level 2 at the police unless `level2` has them, then a
    /// certificate (call once the commune's e-ID list is known; first-signature lists say it already).
    pub fn mark_needs(&mut self, level2: &HashSet<CitizenId>) {
        for e in self.entries.iter_mut().filter(|e| e.need != Some(Need::FirstSignature)) {
            e.need = Some(Need::of(level2.contains(&e.person)));
        }
    }

    /// Keeps the people with this need only.
    pub fn only(&mut self, need: Need) {
        self.entries.retain(|e| e.need == Some(need));
    }

    /// Entries grouped by household, in walking order.
    pub fn households(&self) -> Vec<(Option<&str>, &[WorklistEntry])> {
        self.entries.chunk_by(|a, b| a.household == b.household).map(|c| (c[0].household.as_deref(), c)).collect()
    }
}

/// Households in natural order (`2` before `10`), those without one last.
fn household_order(a: Option<&str>, b: Option<&str>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => match (a.parse::<u64>(), b.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => fold(a).cmp(&fold(b)).then_with(|| a.cmp(b)),
        },
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Vietnamese lists sort by given name (the last word), then the full name; unnamed rows last.
fn name_key(name: Option<&str>) -> (bool, String, String) {
    let name = name.unwrap_or("");
    let given = name.split_whitespace().last().unwrap_or("");
    (name.is_empty(), fold(given), fold(name))
}

fn walking_order(a: &Resident, b: &Resident) -> Ordering {
    household_order(a.household.as_deref(), b.household.as_deref())
        .then_with(|| name_key(a.full_name.as_deref()).cmp(&name_key(b.full_name.as_deref())))
        .then_with(|| a.id.cmp(&b.id))
}

/// The list for one hamlet on `date`: residents at or over the age line on that date, holding no
/// valid certificate, whose latest visit (if any) did not close them.
pub fn build_worklist(
    register: &Register,
    adoption: &Adoption,
    denominator: &AdultsDenominator,
    log: &VisitLog,
    (commune_code, hamlet_code): (&str, &str),
    date: Date,
) -> Worklist {
    let without = |r: &Resident| !adoption.holds_valid(&r.id, date);
    build(register, denominator, log, (commune_code, hamlet_code), date, (&without, None))
}

/// The first-signature list of a hamlet on `date`: adults holding a valid certificate who have
/// never signed (`signed`: everyone known to have signed), in walking order; a closing visit
/// outcome takes them off as on the other list.
pub fn build_first_signature_list(
    register: &Register,
    adoption: &Adoption,
    denominator: &AdultsDenominator,
    log: &VisitLog,
    place: (&str, &str),
    date: Date,
    signed: &HashSet<CitizenId>,
) -> Worklist {
    let unsigned = |r: &Resident| adoption.holds_valid(&r.id, date) && !signed.contains(&r.id);
    build(register, denominator, log, place, date, (&unsigned, Some(Need::FirstSignature)))
}

/// Who a list keeps (before the age line and the visits).
type Keep<'a> = &'a dyn Fn(&Resident) -> bool;

/// A hamlet's adults that `keep` keeps, in walking order, without those a visit closed.
fn build(
    register: &Register,
    denominator: &AdultsDenominator,
    log: &VisitLog,
    (commune_code, hamlet_code): (&str, &str),
    date: Date,
    (keep, need): (Keep<'_>, Option<Need>),
) -> Worklist {
    let line = denominator.on(date);
    let mut people: Vec<&Resident> = register
        .residents()
        .iter()
        .filter(|r| r.commune_code == commune_code && r.hamlet_code == hamlet_code)
        .filter(|r| line.counts(r.date_of_birth) && keep(r))
        .collect();
    people.sort_by(|a, b| walking_order(a, b));
    let entries = people
        .into_iter()
        .filter_map(|r| {
            let last = log.latest(&r.id, date).map(|v| v.outcome.clone());
            if last.as_ref().is_some_and(Outcome::closes) {
                return None;
            }
            Some(WorklistEntry {
                person: r.id.clone(),
                masked_id: r.id.masked(),
                full_name: r.full_name.clone(),
                household: r.household.clone(),
                last_outcome: last,
                need,
            })
        })
        .collect();
    Worklist { commune_code: commune_code.into(), hamlet_code: hamlet_code.into(), date, entries }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adoption::CertificateEvent;
    use crate::population::Sex;
    use time::Month;

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), day).unwrap()
    }

    #[test]
    fn outcomes_read_back_from_their_names() {
        let all = [
            Outcome::Done,
            Outcome::Assisted,
            Outcome::NotAtHome,
            Outcome::Refused,
            Outcome::MovedAway,
            Outcome::Deceased,
            Outcome::AlreadyHolds { provider: "VNPT-CA".into() },
        ];
        for o in all {
            let provider = match &o {
                Outcome::AlreadyHolds { provider } => Some(provider.as_str()),
                _ => None,
            };
            assert_eq!(Outcome::parse(o.name(), provider), Some(o.clone()));
        }
        assert_eq!(Outcome::parse("not_at_home", None), Some(Outcome::NotAtHome));
        assert_eq!(Outcome::parse("already-holds", None), None);
        assert_eq!(Outcome::parse("already-holds", Some(" ")), None);
        assert_eq!(Outcome::parse("gone", None), None);
    }

    fn resident(n: u32, name: &str, household: Option<&str>, dob: Date, hamlet: &str) -> Resident {
        Resident {
            id: CitizenId::parse(&format!("0191900{n:05}")).unwrap(),
            full_name: Some(name.into()),
            date_of_birth: dob,
            sex: Sex::Female,
            commune_code: "01960".into(),
            hamlet_code: hamlet.into(),
            household: household.map(Into::into),
        }
    }

    fn setup() -> (Register, Adoption, AdultsDenominator) {
        let adult = d(1980, 5, 5);
        let register = Register::new([
            resident(1, "Nguyễn Thị Yến", Some("10"), adult, "T01"),
            resident(2, "Trần Văn Bình", Some("2"), adult, "T01"),
            resident(3, "Lê Thị An", Some("10"), adult, "T01"),
            resident(4, "Hoàng Văn Đức", Some("2"), d(2011, 6, 2), "T01"), // turns 15 on 2 Jun 2026
            resident(5, "Phạm Thị Ánh", None, adult, "T01"),
            resident(6, "Vũ Văn Cường", Some("2"), adult, "T01"), // holds a certificate
            resident(7, "Đỗ Thị Hoa", Some("1"), adult, "T02"),   // other hamlet
        ]);
        let mut adoption = Adoption::new();
        let holder = CertificateEvent {
            id: CitizenId::parse("019190000006").unwrap(),
            provider: "VNPT-CA".into(),
            serial: None,
            issued: d(2026, 1, 1),
            expires: None,
            revoked: None,
        };
        adoption.apply(&register, [&holder]);
        (register, adoption, AdultsDenominator::new(15, d(2026, 1, 1)).unwrap())
    }

    #[test]
    fn walking_order_masked_ids_and_age_line_on_the_list_date() {
        let (register, adoption, line) = setup();
        let log = VisitLog::new();
        let list = build_worklist(&register, &adoption, &line, &log, ("01960", "T01"), d(2026, 6, 1));
        let names: Vec<_> = list.entries.iter().map(|e| e.full_name.as_deref().unwrap_or("")).collect();
        // Household 2 before 10; within a household by given name (Bình); unhoused last.
        assert_eq!(names, ["Trần Văn Bình", "Lê Thị An", "Nguyễn Thị Yến", "Phạm Thị Ánh"]);
        assert_eq!(list.entries[0].masked_id, "0191****0002");
        let households: Vec<_> = list.households().iter().map(|(h, e)| (*h, e.len())).collect();
        assert_eq!(households, [(Some("2"), 1), (Some("10"), 2), (None, 1)]);

        // Đức turns 15 the next day and joins the list.
        let list = build_worklist(&register, &adoption, &line, &log, ("01960", "T01"), d(2026, 6, 2));
        assert_eq!(list.entries.len(), 5);
        assert_eq!(list.entries[1].full_name.as_deref(), Some("Hoàng Văn Đức"));
    }

    #[test]
    fn tomorrows_list_drops_closed_outcomes_only() {
        let (register, adoption, line) = setup();
        let mut log = VisitLog::new();
        let visit = |n: u32, outcome| Visit {
            person: CitizenId::parse(&format!("0191900{n:05}")).unwrap(),
            date: d(2026, 6, 1),
            team: "Tổ CNS thôn 1".into(),
            outcome,
        };
        log.record(visit(1, Outcome::AlreadyHolds { provider: "Viettel-CA".into() }));
        log.record(visit(2, Outcome::NotAtHome));
        log.record(visit(3, Outcome::Done));
        log.record(visit(5, Outcome::Refused));
        let list = build_worklist(&register, &adoption, &line, &log, ("01960", "T01"), d(2026, 6, 2));
        let names: Vec<_> = list.entries.iter().map(|e| e.full_name.as_deref().unwrap_or("")).collect();
        assert_eq!(names, ["Trần Văn Bình", "Hoàng Văn Đức", "Phạm Thị Ánh"]);
        assert_eq!(list.entries[0].last_outcome, Some(Outcome::NotAtHome));

        // A later visit supersedes: Bình moved away.
        log.record(Visit { date: d(2026, 6, 2), ..visit(2, Outcome::MovedAway) });
        let list = build_worklist(&register, &adoption, &line, &log, ("01960", "T01"), d(2026, 6, 3));
        assert_eq!(list.entries.len(), 2);
        assert!([Outcome::Assisted, Outcome::Deceased].iter().all(Outcome::closes));
        assert_eq!(log.visits().len(), 5);
    }

    #[test]
    fn each_line_says_what_the_person_needs_next_and_the_list_filters_by_it() {
        let (register, adoption, line) = setup();
        let log = VisitLog::new();
        let mut list = build_worklist(&register, &adoption, &line, &log, ("01960", "T01"), d(2026, 6, 2));
        assert!(list.entries.iter().all(|e| e.need.is_none()), "no police list: nothing said");
        let level2: HashSet<CitizenId> =
            [1, 2].iter().map(|n| CitizenId::parse(&format!("0191900{n:05}")).unwrap()).collect();
        list.mark_needs(&level2);
        let needs: Vec<_> = list.entries.iter().map(|e| (e.masked_id.as_str(), e.need)).collect();
        assert_eq!(
            needs,
            [
                ("0191****0002", Some(Need::Certificate)),
                ("0191****0004", Some(Need::Level2)),
                ("0191****0003", Some(Need::Level2)),
                ("0191****0001", Some(Need::Certificate)),
                ("0191****0005", Some(Need::Level2)),
            ]
        );
        list.only(Need::Level2);
        assert_eq!(list.entries.len(), 3);

        // Vũ holds a certificate and never signed: the first-signature list; once signed, off it.
        let none = HashSet::new();
        let first =
            build_first_signature_list(&register, &adoption, &line, &log, ("01960", "T02"), d(2026, 6, 2), &none);
        assert!(first.entries.is_empty(), "Vũ lives in T01");
        let mut first =
            build_first_signature_list(&register, &adoption, &line, &log, ("01960", "T01"), d(2026, 6, 2), &none);
        assert_eq!(first.entries.iter().map(|e| e.masked_id.as_str()).collect::<Vec<_>>(), ["0191****0006"]);
        first.mark_needs(&level2);
        assert_eq!(first.entries[0].need, Some(Need::FirstSignature));
        let signed: HashSet<CitizenId> = [CitizenId::parse("019190000006").unwrap()].into();
        let after =
            build_first_signature_list(&register, &adoption, &line, &log, ("01960", "T01"), d(2026, 6, 2), &signed);
        assert!(after.entries.is_empty());
    }
}
