//! The adult denominator: residents of the register at or over the plan's age line (14, 15, 16 or
//! 18) on a reference date, ages counted by the exact birthday rule.
//!
//! The denominator comes from the register, never from the people the campaign reached (Reveal's
//! Zambia lesson in CAMPAIGN-NOTES). Someone born on 29 February turns a year older on 1 March in
//! common years.

use time::Date;

use crate::population::Resident;

/// The plan's age line and the date it is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdultsDenominator {
    min_age: u8,
    reference_date: Date,
}

/// The age lines the plans use: 14 (Tân Hội, e-ID age), 15 (Hiệp Lực), 16 (Hưng Yên), 18.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("age line {0} is not one the plans use (14, 15, 16 or 18)")]
pub struct UnsupportedAgeLine(pub u8);

impl AdultsDenominator {
    pub fn new(min_age: u8, reference_date: Date) -> Result<Self, UnsupportedAgeLine> {
        match min_age {
            14 | 15 | 16 | 18 => Ok(Self { min_age, reference_date }),
            other => Err(UnsupportedAgeLine(other)),
        }
    }

    pub fn min_age(&self) -> u8 {
        self.min_age
    }

    pub fn reference_date(&self) -> Date {
        self.reference_date
    }

    /// The same age line measured on another date (a forecast day, tomorrow's worklist).
    pub fn on(&self, date: Date) -> Self {
        Self { reference_date: date, ..*self }
    }

    /// Whether someone born on `date_of_birth` is at or over the line on the reference date.
    pub fn counts(&self, date_of_birth: Date) -> bool {
        age_on(date_of_birth, self.reference_date) >= i32::from(self.min_age)
    }

    /// The last date of birth that counts: everyone born on or before it is at or over the line
    /// on the reference date, nobody born after it is (for a query over birth dates, e.g. the
    /// national register on the coordinator). On 29 February of a common year it is the 28th.
    pub fn latest_birth_date(&self) -> Date {
        let year = self.reference_date.year() - i32::from(self.min_age);
        let (month, day) = (self.reference_date.month(), self.reference_date.day());
        Date::from_calendar_date(year, month, day)
            .or_else(|_| Date::from_calendar_date(year, month, day - 1))
            .unwrap_or(self.reference_date)
    }

    pub fn count<'a>(&self, residents: impl IntoIterator<Item = &'a Resident>) -> u64 {
        residents.into_iter().filter(|r| self.counts(r.date_of_birth)).count() as u64
    }
}

/// Completed years on `date` (negative before birth): the birthday itself counts.
pub fn age_on(date_of_birth: Date, date: Date) -> i32 {
    let before_birthday = (date.month() as u8, date.day()) < (date_of_birth.month() as u8, date_of_birth.day());
    date.year() - date_of_birth.year() - i32::from(before_birthday)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::{CitizenId, Sex};
    use time::Month::*;

    fn d(y: i32, m: time::Month, day: u8) -> Date {
        Date::from_calendar_date(y, m, day).unwrap()
    }

    #[test]
    fn latest_birth_date_agrees_with_counts() {
        for (line, reference) in [
            (18, d(2026, August, 1)),
            (14, d(2026, February, 28)),
            (15, d(2025, February, 28)),
            (16, d(2028, February, 29)),
        ] {
            let a = AdultsDenominator::new(line, reference).unwrap();
            let last = a.latest_birth_date();
            assert!(a.counts(last), "{line} on {reference}: {last} should count");
            assert!(!a.counts(last.next_day().unwrap()), "{line} on {reference}: the day after {last} should not");
        }
        let leap = AdultsDenominator::new(18, d(2028, February, 29)).unwrap();
        assert_eq!(leap.latest_birth_date(), d(2010, February, 28));
        assert_eq!(
            AdultsDenominator::new(16, d(2028, February, 29)).unwrap().latest_birth_date(),
            d(2012, February, 29)
        );
    }

    #[test]
    fn birthday_rule_is_exact() {
        assert_eq!(age_on(d(2011, July, 31), d(2026, July, 30)), 14);
        assert_eq!(age_on(d(2011, July, 31), d(2026, July, 31)), 15);
        assert_eq!(age_on(d(2008, February, 29), d(2026, February, 28)), 17);
        assert_eq!(age_on(d(2008, February, 29), d(2026, March, 1)), 18);
        assert_eq!(age_on(d(2008, February, 29), d(2028, February, 29)), 20);
    }

    #[test]
    fn counts_residents_at_or_over_the_line() {
        let resident = |dob| Resident {
            id: CitizenId::parse("019211000001").unwrap(),
            full_name: None,
            date_of_birth: dob,
            sex: Sex::Male,
            commune_code: "01960".into(),
            hamlet_code: "T01".into(),
            household: None,
        };
        let people = [resident(d(2011, July, 31)), resident(d(2011, August, 1)), resident(d(1960, January, 1))];
        let line15 = AdultsDenominator::new(15, d(2026, July, 31)).unwrap();
        assert_eq!(line15.count(&people), 2);
        assert_eq!(line15.on(d(2026, August, 1)).count(&people), 3);
        assert_eq!(AdultsDenominator::new(14, d(2026, July, 31)).unwrap().count(&people), 3);
        assert_eq!(AdultsDenominator::new(18, d(2026, July, 31)).unwrap().count(&people), 1);
        assert_eq!(AdultsDenominator::new(17, d(2026, July, 31)), Err(UnsupportedAgeLine(17)));
    }
}
