//! The renewal cliff: providers give certificates free for a year, so a campaign's holders lapse
//! together a year later. From the same ledger as the count ([`Adoption`]): who holds a valid
//! certificate today and on which day they stop counting unless they renew, month by month.
//!
//! A holder lapses when their coverage ends (the union of their certificates' validity), not when
//! their first certificate does: someone with a second certificate valid for longer is not listed
//! for the first one's expiry. Holders whose coverage has no end (a list row without an expiry)
//! never lapse and are left out.

use time::{Date, Month};

use crate::adoption::{union, Adoption};
use crate::population::{CitizenId, Register};

/// How far the dashboard's curve and the renewals list look ahead, in calendar months (the
/// current one included): the free year of every certificate the campaign issues, plus its months.
pub const HORIZON_MONTHS: u8 = 18;

/// One holder who stops counting on `expires` unless they renew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lapse {
    pub id: CitizenId,
    pub full_name: Option<String>,
    pub commune_code: String,
    pub hamlet_code: String,
    /// The provider of the certificate whose end is the end of the holder's coverage.
    pub provider: String,
    /// The first day the holder no longer counts (a list's expiry date, or kyso's day after `notAfter`).
    pub expires: Date,
}

/// Every resident of `register` holding a valid certificate on `as_of` whose coverage ends, with
/// the day it ends, by that day (then by ID number).
pub fn lapses(register: &Register, adoption: &Adoption, as_of: Date) -> Vec<Lapse> {
    let mut out = Vec::new();
    for r in register.residents() {
        let certificates = adoption.certificates_of(&r.id);
        let Some(&(_, end)) = union(certificates).iter().find(|(s, e)| *s <= as_of && e.is_none_or(|e| as_of < e))
        else {
            continue;
        };
        let Some(expires) = end else { continue };
        let mut ending: Vec<&str> =
            certificates.iter().filter(|c| c.end() == Some(expires)).map(|c| c.provider.as_str()).collect();
        ending.sort_unstable();
        out.push(Lapse {
            id: r.id.clone(),
            full_name: r.full_name.clone(),
            commune_code: r.commune_code.clone(),
            hamlet_code: r.hamlet_code.clone(),
            provider: ending.first().map_or_else(String::new, |p| (*p).to_owned()),
            expires,
        });
    }
    out.sort_by(|a, b| (a.expires, a.id.expose()).cmp(&(b.expires, b.id.expose())));
    out
}

/// The first day of the month `months` calendar months after `date`'s.
pub fn month_start_after(date: Date, months: u8) -> Date {
    let index = date.year() * 12 + i32::from(date.month() as u8 - 1) + i32::from(months);
    let month = Month::try_from((index.rem_euclid(12) + 1) as u8).unwrap_or(Month::January);
    Date::from_calendar_date(index.div_euclid(12), month, 1).unwrap_or(date)
}

/// The lapses from `as_of` to the end of the `months`-th calendar month (the current one first):
/// the renewals list's window, the same months as the curve.
pub fn within(lapses: &[Lapse], as_of: Date, months: u8) -> Vec<&Lapse> {
    let until = month_start_after(as_of, months);
    lapses.iter().filter(|l| as_of < l.expires && l.expires < until).collect()
}

/// Holders lapsing in one calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthLapses {
    /// The month's first day.
    pub month: Date,
    pub lapses: u64,
}

/// The curve of known expiries: one entry for each of the `months` calendar months from `as_of`'s,
/// empty months included.
pub fn by_month(lapses: &[Lapse], as_of: Date, months: u8) -> Vec<MonthLapses> {
    let mut out: Vec<MonthLapses> =
        (0..months).map(|m| MonthLapses { month: month_start_after(as_of, m), lapses: 0 }).collect();
    for l in within(lapses, as_of, months) {
        if let Some(bucket) = out.iter_mut().rev().find(|b| b.month <= l.expires) {
            bucket.lapses += 1;
        }
    }
    out
}

/// Holders of today who no longer count on `date` unless they renew (their coverage ends on or
/// before it): what a forecast to a deadline must subtract.
pub fn lapsed_by(lapses: &[Lapse], date: Date) -> u64 {
    lapses.iter().filter(|l| l.expires <= date).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adoption::CertificateEvent;
    use crate::population::{Resident, Sex};

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), day).unwrap()
    }

    fn id(n: u32) -> CitizenId {
        CitizenId::parse(&format!("0191900{n:05}")).unwrap()
    }

    fn cert(n: u32, provider: &str, issued: Date, expires: Option<Date>, revoked: Option<Date>) -> CertificateEvent {
        CertificateEvent { id: id(n), provider: provider.into(), serial: None, issued, expires, revoked }
    }

    fn ledger(events: &[CertificateEvent]) -> (Register, Adoption) {
        let register = Register::new((0..10).map(|n| Resident {
            id: id(n),
            full_name: Some(format!("Người {n}")),
            date_of_birth: d(1990, 1, 1),
            sex: Sex::Female,
            commune_code: "01960".into(),
            hamlet_code: format!("T{}", n % 2),
            household: None,
        }));
        let mut adoption = Adoption::new();
        adoption.apply(&register, events);
        (register, adoption)
    }

    #[test]
    fn a_holder_lapses_when_their_last_certificate_ends() {
        let as_of = d(2026, 12, 6);
        let (register, adoption) = ledger(&[
            // 1: one free year from the campaign.
            cert(1, "VNPT-CA", d(2026, 5, 20), Some(d(2027, 5, 20)), None),
            // 2: a first year, then a second certificate at another provider running longer.
            cert(2, "VNPT-CA", d(2026, 3, 1), Some(d(2027, 3, 1)), None),
            cert(2, "Viettel-CA", d(2026, 9, 1), Some(d(2027, 9, 1)), None),
            // 3: revoked before its expiry: lapses on the revocation day, already past.
            cert(3, "VNPT-CA", d(2026, 3, 1), Some(d(2027, 3, 1)), Some(d(2026, 11, 1))),
            // 4: revoked in the future: lapses that day.
            cert(4, "MISA-CA", d(2026, 3, 1), Some(d(2027, 3, 1)), Some(d(2027, 1, 15))),
            // 5: no expiry on the list: never lapses.
            cert(5, "FPT-CA", d(2026, 3, 1), None, None),
            // 6: already expired.
            cert(6, "VNPT-CA", d(2025, 3, 1), Some(d(2026, 3, 1)), None),
            // 7: a renewal issued the day the first ends: one coverage, ending with the second.
            cert(7, "VNPT-CA", d(2026, 1, 10), Some(d(2027, 1, 10)), None),
            cert(7, "VNPT-CA", d(2027, 1, 10), Some(d(2028, 1, 10)), None),
            // 8: the same day as 1 (order by ID number).
            cert(8, "BKAV-CA", d(2026, 5, 20), Some(d(2027, 5, 20)), None),
        ]);
        let all = lapses(&register, &adoption, as_of);
        let got: Vec<(u32, &str, Date)> =
            all.iter().map(|l| (l.id.expose()[7..].parse().unwrap(), l.provider.as_str(), l.expires)).collect();
        assert_eq!(
            got,
            vec![
                (4, "MISA-CA", d(2027, 1, 15)),
                (1, "VNPT-CA", d(2027, 5, 20)),
                (8, "BKAV-CA", d(2027, 5, 20)),
                (2, "Viettel-CA", d(2027, 9, 1)),
                (7, "VNPT-CA", d(2028, 1, 10)),
            ]
        );
        // Not yet valid on as_of: 7's second certificate does not make them a holder before it.
        let before = lapses(&register, &adoption, d(2026, 1, 9));
        assert!(before.iter().all(|l| l.id != id(7)));
    }

    #[test]
    fn the_curve_counts_each_month_and_stops_at_the_horizon() {
        let as_of = d(2026, 12, 6);
        let (register, adoption) = ledger(&[
            cert(1, "A", d(2026, 1, 1), Some(d(2026, 12, 31)), None),
            cert(2, "A", d(2026, 1, 1), Some(d(2027, 1, 1)), None),
            cert(3, "A", d(2026, 1, 1), Some(d(2027, 1, 31)), None),
            cert(4, "A", d(2026, 6, 1), Some(d(2027, 6, 1)), None),
            cert(5, "A", d(2026, 6, 1), Some(d(2028, 5, 31)), None),
            cert(6, "A", d(2026, 6, 1), Some(d(2028, 6, 1)), None),
        ]);
        let all = lapses(&register, &adoption, as_of);
        let curve = by_month(&all, as_of, HORIZON_MONTHS);
        assert_eq!(curve.len(), 18);
        assert_eq!(curve[0], MonthLapses { month: d(2026, 12, 1), lapses: 1 });
        assert_eq!(curve[1], MonthLapses { month: d(2027, 1, 1), lapses: 2 });
        assert_eq!(curve[6], MonthLapses { month: d(2027, 6, 1), lapses: 1 });
        assert_eq!(curve[17], MonthLapses { month: d(2028, 5, 1), lapses: 1 });
        assert_eq!(curve.iter().map(|m| m.lapses).sum::<u64>(), 5, "1 June 2028 is past the horizon");
        let listed: Vec<&CitizenId> = within(&all, as_of, HORIZON_MONTHS).iter().map(|l| &l.id).collect();
        assert_eq!(listed, vec![&id(1), &id(2), &id(3), &id(4), &id(5)]);
        assert_eq!(within(&all, as_of, 1).len(), 1);
        // By 31 January 2027, 1 and 2 have lapsed; 3 lapses on the 31st itself.
        assert_eq!(lapsed_by(&all, d(2027, 1, 30)), 2);
        assert_eq!(lapsed_by(&all, d(2027, 1, 31)), 3);
    }

    #[test]
    fn months_roll_over_the_year() {
        assert_eq!(month_start_after(d(2026, 12, 6), 0), d(2026, 12, 1));
        assert_eq!(month_start_after(d(2026, 12, 6), 1), d(2027, 1, 1));
        assert_eq!(month_start_after(d(2026, 1, 31), 18), d(2027, 7, 1));
    }
}
