//! The signed-dossier KPI ("100 % of online dossiers that require a digital signature are fully
//! signed", Hà Nội 2025) and holders' use of their certificates: the share of a unit's dossiers
//! needing signatures that were fully signed, over a day, a week (Monday to Sunday) or a calendar
//! month; and how many holders signed at least once in a period.

use crate::plan::Percent;
use std::collections::HashSet;
use time::{Date, Duration};

/// Dossiers a unit received on one day: those needing signatures, and of them the fully signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayCount {
    pub day: Date,
    pub needing: u64,
    pub fully_signed: u64,
}

/// Dossiers needing signatures over a window, and how many were fully signed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SignedShare {
    pub needing: u64,
    pub fully_signed: u64,
}

impl SignedShare {
    /// `None` when no dossier needed a signature (the KPI has no value, not 0 %).
    pub fn share(&self) -> Option<Percent> {
        Percent::share(self.fully_signed, self.needing)
    }
    pub fn not_fully_signed(&self) -> u64 {
        self.needing.saturating_sub(self.fully_signed)
    }
}

/// The windows the dashboard shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    Day,
    /// Monday to Sunday.
    Week,
    /// The calendar month.
    Month,
}

impl Window {
    pub const ALL: [Window; 3] = [Window::Day, Window::Week, Window::Month];

    /// `[start, end)` of the window holding `on`.
    pub fn around(self, on: Date) -> (Date, Date) {
        match self {
            Window::Day => (on, on + Duration::days(1)),
            Window::Week => {
                let start = on - Duration::days(i64::from(on.weekday().number_days_from_monday()));
                (start, start + Duration::days(7))
            }
            Window::Month => {
                let start = on.replace_day(1).unwrap_or(on);
                let next = if start.month() == time::Month::December {
                    Date::from_calendar_date(start.year() + 1, time::Month::January, 1)
                } else {
                    Date::from_calendar_date(start.year(), start.month().next(), 1)
                };
                (start, next.unwrap_or(start + Duration::days(31)))
            }
        }
    }
}

/// The counts of the days in `[start, end)`.
pub fn share_between(counts: &[DayCount], start: Date, end: Date) -> SignedShare {
    counts.iter().filter(|c| c.day >= start && c.day < end).fold(SignedShare::default(), |mut s, c| {
        s.needing += c.needing;
        s.fully_signed += c.fully_signed;
        s
    })
}

/// Holders who signed at least once: the distinct ID numbers of `signed` (ID number, certificate
/// serial) whose certificate is one of the holders' (`holder_certs`, the same pairs): a signature
/// with a certificate kyso does not know, or by someone outside the unit, does not count.
pub fn active_signers(holder_certs: &[(String, String)], signed: &[(String, String)]) -> u64 {
    let known: HashSet<(&str, String)> =
        holder_certs.iter().map(|(id, serial)| (id.as_str(), serial.to_ascii_lowercase())).collect();
    signed
        .iter()
        .filter(|(id, serial)| known.contains(&(id.as_str(), serial.to_ascii_lowercase())))
        .map(|(id, _)| id.as_str())
        .collect::<HashSet<_>>()
        .len() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn windows_are_the_day_the_monday_week_and_the_month() {
        let thu = date!(2026 - 12 - 03);
        assert_eq!(Window::Day.around(thu), (thu, date!(2026 - 12 - 04)));
        assert_eq!(Window::Week.around(thu), (date!(2026 - 11 - 30), date!(2026 - 12 - 07)));
        assert_eq!(Window::Week.around(date!(2026 - 12 - 06)), (date!(2026 - 11 - 30), date!(2026 - 12 - 07)));
        assert_eq!(Window::Month.around(thu), (date!(2026 - 12 - 01), date!(2027 - 01 - 01)));
        assert_eq!(Window::Month.around(date!(2026 - 02 - 28)), (date!(2026 - 02 - 01), date!(2026 - 03 - 01)));
    }

    #[test]
    fn the_share_counts_only_dossiers_needing_signatures_in_the_window() {
        let c = |day, needing, fully_signed| DayCount { day, needing, fully_signed };
        let counts = [c(date!(2026 - 11 - 29), 5, 5), c(date!(2026 - 12 - 01), 3, 2), c(date!(2026 - 12 - 03), 1, 0)];
        let (s, e) = Window::Week.around(date!(2026 - 12 - 03));
        let week = share_between(&counts, s, e);
        assert_eq!(week, SignedShare { needing: 4, fully_signed: 2 });
        assert_eq!(week.share().unwrap().to_string(), "50.00 %");
        assert_eq!(week.not_fully_signed(), 2);
        let (s, e) = Window::Month.around(date!(2026 - 11 - 10));
        assert_eq!(share_between(&counts, s, e).share().unwrap().to_string(), "100.00 %");
        assert_eq!(share_between(&counts, date!(2026 - 12 - 02), date!(2026 - 12 - 03)).share(), None);
    }

    #[test]
    fn a_signer_counts_once_and_only_with_a_known_certificate() {
        let p = |id: &str, serial: &str| (id.to_string(), serial.to_string());
        let holders = [p("001", "AA"), p("001", "BB"), p("002", "CC"), p("003", "DD")];
        let signed = [p("001", "aa"), p("001", "BB"), p("002", "ZZ"), p("004", "DD"), p("003", "DD")];
        assert_eq!(
            active_signers(&holders, &signed),
            2,
            "001 twice, 002 with an unknown certificate, 004 not a holder"
        );
        assert_eq!(active_signers(&holders, &[]), 0);
    }
}
