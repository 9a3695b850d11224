//! Report deadlines in Vietnam time (UTC+7, no daylight saving): weekly "Thursday before 10:00",
//! monthly "before the 20th" (the 15th in Hà Nội 2022), timeliness to the minute, completeness.
//!
//! A deadline is an instant and the plans say "before" it, so a report is on time strictly before
//! the deadline. Expected reports follow each unit's opening and closing dates, and only expected
//! units count as received, so completeness never exceeds 100 % (DHIS2's closed-unit complaint).

use std::collections::{BTreeMap, BTreeSet};

use time::macros::time;
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, Weekday};

/// Asia/Ho_Chi_Minh: UTC+7 all year.
pub use kyso_calendar::VIETNAM;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    Weekly,
    Monthly,
}

/// A reporting period `[start, end)`: `end` is the first day after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub frequency: Frequency,
    pub start: Date,
    pub end: Date,
}

impl Period {
    /// Seven days from `start`.
    pub fn week(start: Date) -> Self {
        Self { frequency: Frequency::Weekly, start, end: start + Duration::days(7) }
    }

    /// A calendar month.
    pub fn month(year: i32, month: Month) -> Result<Self, time::error::ComponentRange> {
        let start = Date::from_calendar_date(year, month, 1)?;
        let end = start + Duration::days(i64::from(month.length(year)));
        Ok(Self { frequency: Frequency::Monthly, start, end })
    }

    pub fn last_day(&self) -> Date {
        self.end - Duration::days(1)
    }
}

/// When reports are due. The due date is the first `weekly_day` (weekly) or `monthly_day`
/// (monthly) on or after the day the period ends, at the given time in Vietnam.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineRules {
    pub weekly_day: Weekday,
    pub weekly_time: Time,
    pub monthly_day: u8,
    pub monthly_time: Time,
}

impl Default for DeadlineRules {
    /// Hiệp Lực 2026: weekly Thursday before 10:00, monthly before the 20th.
    fn default() -> Self {
        Self { weekly_day: Weekday::Thursday, weekly_time: time!(10:00), monthly_day: 20, monthly_time: Time::MIDNIGHT }
    }
}

impl DeadlineRules {
    /// Hà Nội 2022: monthly before the 15th.
    pub fn with_monthly_day(self, day: u8) -> Self {
        Self { monthly_day: day, ..self }
    }

    /// The deadline instant for a period, in UTC+7.
    pub fn due(&self, period: &Period) -> OffsetDateTime {
        let (date, at) = match period.frequency {
            Frequency::Weekly => {
                let end = period.end;
                let day = if end.weekday() == self.weekly_day { end } else { end.next_occurrence(self.weekly_day) };
                (day, self.weekly_time)
            }
            Frequency::Monthly => {
                let mut day = period.end;
                // The configured day, clamped to short months (a 31st in February is its last day).
                while day.day() != self.monthly_day.min(day.month().length(day.year())) {
                    day = day.next_day().unwrap_or(day);
                }
                (day, self.monthly_time)
            }
        };
        PrimitiveDateTime::new(date, at).assume_offset(VIETNAM)
    }

    /// On time strictly before the deadline; otherwise late by whole minutes, rounded up (at least 1).
    pub fn classify(&self, period: &Period, received: OffsetDateTime) -> Timeliness {
        let due = self.due(period);
        if received < due {
            return Timeliness::OnTime;
        }
        let seconds = (received - due).whole_seconds();
        Timeliness::Late { minutes: (seconds.div_euclid(60) + i64::from(seconds % 60 != 0)).max(1) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeliness {
    OnTime,
    Late { minutes: i64 },
}

/// A unit that reports, with the dates it exists: `closed` is its first day closed (a merger).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportingUnit {
    pub code: String,
    pub opened: Date,
    pub closed: Option<Date>,
}

impl ReportingUnit {
    /// Expected to report for a period when it is open on the period's last day.
    pub fn expected_for(&self, period: &Period) -> bool {
        let last = period.last_day();
        self.opened <= last && self.closed.is_none_or(|c| c > last)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub unit_code: String,
    pub received: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completeness {
    pub expected: u64,
    pub received: u64,
    pub on_time: u64,
    /// Expected units with no report yet.
    pub missing: Vec<String>,
    /// Reports from units not expected (closed or not yet open): listed, never counted.
    pub unexpected: Vec<String>,
}

impl Completeness {
    /// received / expected, in [0, 1]; `None` when nothing was expected.
    pub fn rate(&self) -> Option<f64> {
        (self.expected > 0).then(|| self.received as f64 / self.expected as f64)
    }

    pub fn on_time_rate(&self) -> Option<f64> {
        (self.expected > 0).then(|| self.on_time as f64 / self.expected as f64)
    }
}

/// Completeness and timeliness of one period's reports; a unit's earliest submission counts.
pub fn completeness(
    rules: &DeadlineRules,
    period: &Period,
    units: &[ReportingUnit],
    submissions: &[Submission],
) -> Completeness {
    let expected: BTreeSet<&str> = units.iter().filter(|u| u.expected_for(period)).map(|u| u.code.as_str()).collect();
    let mut first: BTreeMap<&str, OffsetDateTime> = BTreeMap::new();
    let mut unexpected = BTreeSet::new();
    for s in submissions {
        if expected.contains(s.unit_code.as_str()) {
            let at = first.entry(s.unit_code.as_str()).or_insert(s.received);
            *at = (*at).min(s.received);
        } else {
            unexpected.insert(s.unit_code.clone());
        }
    }
    let on_time = first.values().filter(|&&at| rules.classify(period, at) == Timeliness::OnTime).count();
    Completeness {
        expected: expected.len() as u64,
        received: first.len() as u64,
        on_time: on_time as u64,
        missing: expected.iter().filter(|c| !first.contains_key(*c)).map(|c| c.to_string()).collect(),
        unexpected: unexpected.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), day).unwrap()
    }

    #[test]
    fn weekly_due_thursday_ten_in_vietnam_to_the_minute() {
        let rules = DeadlineRules::default();
        // Thursday 30 Jul 2026 .. Wednesday 5 Aug: due Thursday 6 Aug, 10:00 +07 = 03:00 UTC.
        let week = Period::week(d(2026, 7, 30));
        assert_eq!(rules.due(&week), datetime!(2026-08-06 10:00 +7));
        assert_eq!(rules.due(&week), datetime!(2026-08-06 03:00 UTC));
        // Monday..Sunday week: due the following Thursday.
        assert_eq!(rules.due(&Period::week(d(2026, 8, 3))), datetime!(2026-08-13 10:00 +7));

        assert_eq!(rules.classify(&week, datetime!(2026-08-06 09:59:59 +7)), Timeliness::OnTime);
        assert_eq!(rules.classify(&week, datetime!(2026-08-06 10:00 +7)), Timeliness::Late { minutes: 1 });
        assert_eq!(rules.classify(&week, datetime!(2026-08-06 10:01 +7)), Timeliness::Late { minutes: 1 });
        assert_eq!(rules.classify(&week, datetime!(2026-08-06 10:01:01 +7)), Timeliness::Late { minutes: 2 });
        // The same instant written in UTC: 02:59 UTC is 09:59 in Vietnam.
        assert_eq!(rules.classify(&week, datetime!(2026-08-06 02:59 UTC)), Timeliness::OnTime);
        assert_eq!(rules.classify(&week, datetime!(2026-08-06 03:30 UTC)), Timeliness::Late { minutes: 30 });
    }

    #[test]
    fn monthly_due_the_20th_or_the_15th() {
        let july = Period::month(2026, Month::July).unwrap();
        assert_eq!(july.last_day(), d(2026, 7, 31));
        assert_eq!(DeadlineRules::default().due(&july), datetime!(2026-08-20 00:00 +7));
        let hanoi = DeadlineRules::default().with_monthly_day(15);
        assert_eq!(hanoi.due(&july), datetime!(2026-08-15 00:00 +7));
        assert_eq!(hanoi.classify(&july, datetime!(2026-08-14 23:59 +7)), Timeliness::OnTime);
        assert_eq!(hanoi.classify(&july, datetime!(2026-08-15 08:00 +7)), Timeliness::Late { minutes: 480 });
        // A day past a short month's length falls on its last day.
        let jan = Period::month(2026, Month::January).unwrap();
        assert_eq!(DeadlineRules::default().with_monthly_day(31).due(&jan), datetime!(2026-02-28 00:00 +7));
    }

    #[test]
    fn completeness_follows_opening_and_closing_dates() {
        let rules = DeadlineRules::default();
        // The week straddling the 1 July 2025 reorganisation.
        let week = Period::week(d(2025, 6, 26));
        let unit = |code: &str, opened, closed| ReportingUnit { code: code.into(), opened, closed };
        let units = [
            unit("old-1", d(2020, 1, 1), Some(d(2025, 7, 1))),
            unit("new-1", d(2025, 7, 1), None),
            unit("new-2", d(2025, 7, 1), None),
            unit("later", d(2025, 8, 1), None),
        ];
        let submit = |code: &str, at| Submission { unit_code: code.into(), received: at };
        let submissions = [
            submit("old-1", datetime!(2025-07-03 09:00 +7)),
            submit("new-1", datetime!(2025-07-03 11:00 +7)),
            submit("new-1", datetime!(2025-07-03 09:30 +7)),
            submit("later", datetime!(2025-07-03 09:00 +7)),
        ];
        let c = completeness(&rules, &week, &units, &submissions);
        assert_eq!((c.expected, c.received, c.on_time), (2, 1, 1));
        assert_eq!(c.missing, ["new-2"]);
        assert_eq!(c.unexpected, ["later", "old-1"]);
        assert_eq!(c.rate(), Some(0.5));
        assert!(c.rate().unwrap() <= 1.0);

        let none = completeness(&rules, &week, &[], &submissions);
        assert_eq!(none.rate(), None);
    }
}
