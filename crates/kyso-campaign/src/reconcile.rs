//! Reconciliation (đối soát): a commune's police register, its certificate sources (kyso's own
//! issuance and the providers' lists) and what door-to-door teams found, set side by side to give
//! each party the corrections it should receive — the providers, the people teams were told hold
//! one of their certificates that no list shows; the police, register entries a team found moved
//! away or deceased (they still count in the denominator); the commune, holders whose certificate
//! just lapsed (to renew) and holders at several providers.

use std::cmp::Ordering;

use time::{Date, Duration};

use crate::adoption::Adoption;
use crate::population::{CitizenId, Register, Resident};
use crate::worklist::{Outcome, VisitLog};

/// How far back a lapsed certificate is still news.
pub const LAPSED_WITHIN: Duration = Duration::days(30);

/// Who a finding is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Recipient {
    Provider,
    Police,
    Commune,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The latest visit heard "already holds one from `provider`", yet no source shows a valid
    /// certificate on the date: the provider should confirm it or send it in its next list.
    NotInAnyList { provider: String, visited: Date },
    /// The latest visit found the person moved away: the register should move them.
    MovedAway { visited: Date },
    /// The latest visit found the person deceased: the register should remove them.
    Deceased { visited: Date },
    /// Valid certificates at several providers on the date (counted once).
    SeveralProviders { providers: Vec<String> },
    /// Held a certificate until `ended` (within [`LAPSED_WITHIN`]), none valid now: offer renewal.
    Lapsed { ended: Date, provider: String },
}

impl Finding {
    pub fn recipient(&self) -> Recipient {
        match self {
            Finding::NotInAnyList { .. } => Recipient::Provider,
            Finding::MovedAway { .. } | Finding::Deceased { .. } => Recipient::Police,
            Finding::SeveralProviders { .. } | Finding::Lapsed { .. } => Recipient::Commune,
        }
    }

    /// A stable name, for exports and JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Finding::NotInAnyList { .. } => "not_in_any_list",
            Finding::MovedAway { .. } => "moved_away",
            Finding::Deceased { .. } => "deceased",
            Finding::SeveralProviders { .. } => "several_providers",
            Finding::Lapsed { .. } => "lapsed",
        }
    }
}

/// One finding about one resident. The clear ID number stays inside; lists show [`Self::masked_id`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconLine {
    person: CitizenId,
    pub masked_id: String,
    pub full_name: Option<String>,
    pub hamlet_code: String,
    pub household: Option<String>,
    pub finding: Finding,
}

impl ReconLine {
    pub fn person(&self) -> &CitizenId {
        &self.person
    }
}

/// A provider as both kinds of source name it: kyso's issuer `vnpt` and a list's `VNPT-CA` are
/// one provider (letters and digits, upper case, without a trailing `CA`).
pub fn provider_key(name: &str) -> String {
    let key: String = name.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect();
    match key.strip_suffix("CA") {
        Some(stem) if !stem.is_empty() => stem.to_owned(),
        _ => key,
    }
}

fn line(r: &Resident, finding: Finding) -> ReconLine {
    ReconLine {
        person: r.id.clone(),
        masked_id: r.id.masked(),
        full_name: r.full_name.clone(),
        hamlet_code: r.hamlet_code.clone(),
        household: r.household.clone(),
        finding,
    }
}

/// The findings for one commune's register on `date`, by recipient, then hamlet and household.
pub fn reconcile(register: &Register, adoption: &Adoption, log: &VisitLog, date: Date) -> Vec<ReconLine> {
    let mut out = Vec::new();
    for r in register.residents() {
        let certificates = adoption.certificates_of(&r.id);
        let valid: Vec<_> = certificates.iter().filter(|c| c.valid_on(date)).collect();
        match log.latest(&r.id, date).map(|v| (&v.outcome, v.date)) {
            Some((Outcome::AlreadyHolds { provider }, visited)) if valid.is_empty() => {
                out.push(line(r, Finding::NotInAnyList { provider: provider.clone(), visited }));
            }
            Some((Outcome::MovedAway, visited)) => out.push(line(r, Finding::MovedAway { visited })),
            Some((Outcome::Deceased, visited)) => out.push(line(r, Finding::Deceased { visited })),
            _ => {}
        }
        let mut providers: Vec<(String, &str)> =
            valid.iter().map(|c| (provider_key(&c.provider), &*c.provider)).collect();
        providers.sort();
        providers.dedup_by(|a, b| a.0 == b.0);
        if providers.len() > 1 {
            let providers = providers.into_iter().map(|(_, name)| name.to_owned()).collect();
            out.push(line(r, Finding::SeveralProviders { providers }));
        }
        if valid.is_empty() {
            let last = certificates
                .iter()
                .filter_map(|c| Some((c.end()?, c)))
                .filter(|(end, _)| *end <= date)
                .max_by_key(|(end, _)| *end);
            if let Some((ended, c)) = last.filter(|(end, _)| date - *end < LAPSED_WITHIN) {
                out.push(line(r, Finding::Lapsed { ended, provider: c.provider.clone() }));
            }
        }
    }
    out.sort_by(|a, b| {
        (a.finding.recipient(), a.finding.name(), &a.hamlet_code)
            .cmp(&(b.finding.recipient(), b.finding.name(), &b.hamlet_code))
            .then_with(|| household_then_id(a, b))
    });
    out
}

fn household_then_id(a: &ReconLine, b: &ReconLine) -> Ordering {
    let number = |l: &ReconLine| l.household.as_deref().and_then(|h| h.parse::<u64>().ok());
    (number(a), &a.household).cmp(&(number(b), &b.household)).then_with(|| a.person.cmp(&b.person))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adoption::CertificateEvent;
    use crate::population::Sex;
    use crate::worklist::Visit;
    use time::macros::date;

    fn resident(n: u32, hamlet: &str) -> Resident {
        Resident {
            id: CitizenId::parse(&format!("0191900000{n:02}")).unwrap(),
            full_name: Some(format!("Người {n}")),
            date_of_birth: date!(1990 - 01 - 01),
            sex: Sex::Male,
            commune_code: "01960".into(),
            hamlet_code: hamlet.into(),
            household: Some(n.to_string()),
        }
    }

    fn cert(
        r: &Resident,
        provider: &str,
        issued: Date,
        expires: Option<Date>,
        revoked: Option<Date>,
    ) -> CertificateEvent {
        CertificateEvent { id: r.id.clone(), provider: provider.into(), serial: None, issued, expires, revoked }
    }

    fn visit(log: &mut VisitLog, r: &Resident, date: Date, outcome: Outcome) {
        log.record(Visit { person: r.id.clone(), date, team: "Tổ 1".into(), outcome });
    }

    #[test]
    fn each_party_gets_its_corrections() {
        let people: Vec<Resident> = (1..=9).map(|n| resident(n, if n % 2 == 0 { "T02" } else { "T01" })).collect();
        let register = Register::new(people.clone());
        let p = |n: usize| &people[n - 1];
        let today = date!(2026 - 06 - 30);
        let mut adoption = Adoption::new();
        let events = [
            // 1: two providers, both valid; kyso's `vnpt` and the list's `VNPT-CA` are one.
            cert(p(1), "VNPT-CA", date!(2026 - 01 - 10), None, None),
            cert(p(1), "vnpt", date!(2026 - 02 - 10), None, None),
            cert(p(1), "Viettel-CA", date!(2026 - 03 - 10), None, None),
            // 2: revoked 10 days ago (lapsed); 3: expired 40 days ago (too old to be news).
            cert(p(2), "FPT-CA", date!(2026 - 01 - 10), None, Some(date!(2026 - 06 - 20))),
            cert(p(3), "MISA-CA", date!(2025 - 01 - 10), Some(date!(2026 - 05 - 21)), None),
            // 4: says they hold one, and does (no finding); 5 says so and does not.
            cert(p(4), "BKAV-CA", date!(2026 - 02 - 01), None, None),
            // 9: one provider twice (a renewal): not "several providers".
            cert(p(9), "VNPT-CA", date!(2025 - 01 - 01), Some(date!(2026 - 01 - 01)), None),
            cert(p(9), "VNPT-CA", date!(2025 - 12 - 20), None, None),
        ];
        adoption.apply(&register, &events);
        let mut log = VisitLog::new();
        visit(&mut log, p(4), date!(2026 - 06 - 01), Outcome::AlreadyHolds { provider: "BKAV-CA".into() });
        visit(&mut log, p(5), date!(2026 - 06 - 02), Outcome::AlreadyHolds { provider: "Viettel-CA".into() });
        visit(&mut log, p(6), date!(2026 - 06 - 03), Outcome::MovedAway);
        visit(&mut log, p(7), date!(2026 - 06 - 04), Outcome::NotAtHome);
        visit(&mut log, p(7), date!(2026 - 06 - 05), Outcome::Deceased);
        // 8 was reported moved away, then found at home: the latest visit decides.
        visit(&mut log, p(8), date!(2026 - 06 - 01), Outcome::MovedAway);
        visit(&mut log, p(8), date!(2026 - 06 - 09), Outcome::Refused);
        // A visit after the date does not count yet.
        visit(&mut log, p(9), date!(2026 - 07 - 02), Outcome::Deceased);

        let found: Vec<(usize, Finding)> = reconcile(&register, &adoption, &log, today)
            .into_iter()
            .map(|l| (people.iter().position(|r| &r.id == l.person()).unwrap() + 1, l.finding))
            .collect();
        assert_eq!(
            found,
            vec![
                (5, Finding::NotInAnyList { provider: "Viettel-CA".into(), visited: date!(2026 - 06 - 02) }),
                (7, Finding::Deceased { visited: date!(2026 - 06 - 05) }),
                (6, Finding::MovedAway { visited: date!(2026 - 06 - 03) }),
                (2, Finding::Lapsed { ended: date!(2026 - 06 - 20), provider: "FPT-CA".into() }),
                (1, Finding::SeveralProviders { providers: vec!["Viettel-CA".into(), "VNPT-CA".into()] }),
            ]
        );
        // On 2026-02-15, person 1 held two certificates of one provider only.
        let early = reconcile(&register, &adoption, &log, date!(2026 - 02 - 15));
        assert!(early.iter().all(|l| l.finding.name() != "several_providers"), "{early:?}");
    }

    #[test]
    fn provider_names_fold_to_one_key() {
        assert_eq!(provider_key("VNPT-CA"), "VNPT");
        assert_eq!(provider_key("vnpt"), "VNPT");
        assert_eq!(provider_key(" Viettel CA "), "VIETTEL");
        assert_eq!(provider_key("CA"), "CA");
        assert_eq!(provider_key("FPT"), "FPT");
    }
}
