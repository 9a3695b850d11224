//! Projection from daily holder counts: the recent run rate (14 and 28 days) against the daily
//! rate still required to reach a target by its deadline, a red/amber/green status, and a flag
//! when the required rate is beyond anything the unit has ever done in a week.
//!
//! The series is cumulative holders by day (what [`crate::adoption::Adoption`] answers); a missing
//! day carries the previous value forward. Rates are new holders per day.

use std::collections::BTreeMap;

use time::{Date, Duration};

/// Cumulative holders by day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DailyCounts {
    counts: BTreeMap<Date, u64>,
}

impl DailyCounts {
    pub fn new(counts: impl IntoIterator<Item = (Date, u64)>) -> Self {
        Self { counts: counts.into_iter().collect() }
    }

    /// Builds the cumulative series from new holders per day, starting from `baseline`.
    pub fn from_new_per_day(baseline: u64, new: impl IntoIterator<Item = (Date, u64)>) -> Self {
        let mut total = baseline;
        let mut sorted: Vec<_> = new.into_iter().collect();
        sorted.sort();
        Self::new(sorted.into_iter().map(|(date, n)| {
            total += n;
            (date, total)
        }))
    }

    /// Holders at the end of `date` (the last known value on or before it).
    pub fn at(&self, date: Date) -> Option<u64> {
        self.counts.range(..=date).next_back().map(|(_, &n)| n)
    }

    fn first_date(&self) -> Option<Date> {
        self.counts.keys().next().copied()
    }

    /// New holders per day over the `days` days ending on `as_of`; shortened to the series' start
    /// when it is younger. `None` without at least one day of history.
    pub fn run_rate(&self, as_of: Date, days: i64) -> Option<f64> {
        let start = (as_of - Duration::days(days)).max(self.first_date()?);
        let span = (as_of - start).whole_days();
        if span <= 0 {
            return None;
        }
        let gained = self.at(as_of)?.saturating_sub(self.at(start)?);
        Some(gained as f64 / span as f64)
    }

    /// The most holders gained in any 7 consecutive days up to `as_of`.
    pub fn best_week(&self, as_of: Date) -> Option<u64> {
        let first = self.first_date()?;
        let mut day = first + Duration::days(7);
        let mut best = None;
        while day <= as_of {
            let gain = self.at(day)?.saturating_sub(self.at(day - Duration::days(7))?);
            best = best.max(Some(gain));
            day += Duration::days(1);
        }
        best
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The recent run rate meets the required rate (or the target is reached).
    Green,
    /// At least 75 % of the required rate.
    Amber,
    /// Below 75 %, or the deadline passed short of the target.
    Red,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub holders: u64,
    pub target: u64,
    pub gap: u64,
    pub days_left: i64,
    pub run_rate_14: Option<f64>,
    pub run_rate_28: Option<f64>,
    /// New holders per day needed from tomorrow to the deadline, inclusive.
    pub required_rate: f64,
    pub best_week: Option<u64>,
    /// The required rate, over a week, is more than the best week so far.
    pub beyond_best_week: bool,
    pub status: Status,
    /// Days of figures up to `as_of` (0 when there are none).
    pub days_of_data: i64,
}

/// Fewer days of figures than this and a rate says nothing yet: pages show "too early to judge"
/// instead of a status (a plan's first day is not "off track").
pub const MIN_DAYS_TO_JUDGE: i64 = 7;

impl Forecast {
    /// Whether there are enough days of figures to judge the pace (the status means something).
    pub fn judgeable(&self) -> bool {
        self.gap == 0 || self.days_left <= 0 || self.days_of_data >= MIN_DAYS_TO_JUDGE
    }

    /// Holders projected at the deadline at the recent (14-day) rate, before and after the
    /// `lapsing` of today's holders whose certificates end by then unless renewed (see
    /// [`crate::renewals::lapsed_by`]). The run rate already nets out past expiries; known future
    /// ones are what it cannot see.
    pub fn projection(&self, lapsing: u64) -> Projection {
        let days = self.days_left.max(0) as f64;
        let gross = self.holders + (self.run_rate_14.unwrap_or(0.0) * days).floor() as u64;
        let net = gross.saturating_sub(lapsing);
        Projection { gross, lapsing, net, gross_reaches: gross >= self.target, net_reaches: net >= self.target }
    }
}

/// Holders at the deadline at the recent rate, with and without the known expiries before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Projection {
    /// Today's holders plus the recent rate until the deadline.
    pub gross: u64,
    /// Today's holders whose certificates end on or before the deadline.
    pub lapsing: u64,
    /// `gross` less `lapsing`: if nobody renews.
    pub net: u64,
    pub gross_reaches: bool,
    pub net_reaches: bool,
}

/// Projects a unit's progress on `as_of` (end of day) towards `target` holders by `deadline`.
/// The status uses the 14-day rate, the most recent one (the 28-day rate is reported beside it).
pub fn forecast(series: &DailyCounts, as_of: Date, target: u64, deadline: Date) -> Forecast {
    let holders = series.at(as_of).unwrap_or(0);
    let gap = target.saturating_sub(holders);
    let days_left = (deadline - as_of).whole_days();
    let required_rate = match (gap, days_left) {
        (0, _) => 0.0,
        (_, d) if d <= 0 => f64::INFINITY,
        (g, d) => g as f64 / d as f64,
    };
    let run_rate_14 = series.run_rate(as_of, 14);
    let run_rate_28 = series.run_rate(as_of, 28);
    let best_week = series.best_week(as_of);
    let beyond_best_week = gap > 0 && best_week.is_none_or(|b| required_rate * 7.0 > b as f64);
    let rate = run_rate_14.unwrap_or(0.0);
    let status = if gap == 0 {
        Status::Green
    } else if days_left <= 0 {
        Status::Red
    } else if rate >= required_rate {
        Status::Green
    } else if rate >= 0.75 * required_rate {
        Status::Amber
    } else {
        Status::Red
    };
    Forecast {
        holders,
        target,
        gap,
        days_left,
        run_rate_14,
        run_rate_28,
        required_rate,
        best_week,
        beyond_best_week,
        status,
        days_of_data: series.first_date().map_or(0, |first| (as_of - first).whole_days().max(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Month;

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), day).unwrap()
    }

    /// Hiệp Lực from 1 May: 340 holders, 10 a day for 30 days then `late` a day.
    fn hiep_luc(late: u64, days: i64) -> DailyCounts {
        let start = d(2026, 5, 1);
        DailyCounts::from_new_per_day(
            340,
            (1..=days).map(|i| (start + Duration::days(i), if i <= 30 { 10 } else { late })),
        )
    }

    #[test]
    fn too_early_to_judge_in_the_first_week() {
        let young = hiep_luc(0, 3);
        let f = forecast(&young, d(2026, 5, 4), 3836, d(2026, 12, 31));
        assert!(f.days_of_data < MIN_DAYS_TO_JUDGE && !f.judgeable(), "{f:?}");
        let older = hiep_luc(0, 30);
        assert!(forecast(&older, d(2026, 5, 31), 3836, d(2026, 12, 31)).judgeable());
    }

    #[test]
    fn run_rates_and_best_week() {
        let series = hiep_luc(20, 60);
        let as_of = d(2026, 6, 30);
        assert_eq!(series.at(as_of), Some(340 + 300 + 30 * 20));
        assert_eq!(series.run_rate(as_of, 14), Some(20.0));
        assert_eq!(series.run_rate(as_of, 28), Some(20.0));
        assert_eq!(series.best_week(as_of), Some(140));
        // 31 May..13 Jun: one day at 10, thirteen at 20.
        assert_eq!(series.run_rate(d(2026, 6, 13), 14), Some((10.0 + 260.0) / 14.0));
        // A young series: the rate uses the days it has.
        let young = hiep_luc(10, 3);
        assert_eq!(young.run_rate(d(2026, 5, 4), 14), Some(10.0));
        assert_eq!(DailyCounts::default().run_rate(d(2026, 5, 4), 14), None);
    }

    #[test]
    fn red_amber_green_against_the_milestone() {
        // 35 % by 31 Jul 2026 as a level: 1,918 holders.
        let as_of = d(2026, 6, 30);
        let deadline = d(2026, 7, 31);
        let green = forecast(&hiep_luc(29, 60), as_of, 1_918, deadline);
        // 340 + 300 + 870 = 1,510; gap 408 over 31 days = 13.16/day; run rate 29.
        assert_eq!((green.holders, green.gap, green.days_left), (1_510, 408, 31));
        assert_eq!(green.status, Status::Green);
        assert!(!green.beyond_best_week);

        // 340 + 300 + 30·18 = 1,180: gap 738 → 23.8/day; 18/day is 75.6 % of it; best week 126 < 166.6.
        let amber = forecast(&hiep_luc(18, 60), as_of, 1_918, deadline);
        assert_eq!(amber.status, Status::Amber, "{amber:?}");
        assert!(amber.beyond_best_week);

        let red = forecast(&hiep_luc(5, 60), as_of, 1_918, deadline);
        assert_eq!(red.status, Status::Red);

        let late = forecast(&hiep_luc(5, 60), deadline + Duration::days(1), 1_918, deadline);
        assert_eq!(late.status, Status::Red);
        let done = forecast(&hiep_luc(29, 60), as_of, 1_000, deadline);
        assert_eq!((done.status, done.gap, done.required_rate), (Status::Green, 0, 0.0));
    }

    #[test]
    fn projection_net_of_known_expiries() {
        // 1,510 holders on 30 Jun at 29 a day: 1,510 + 31·29 = 2,409 by 31 Jul.
        let f = forecast(&hiep_luc(29, 60), d(2026, 6, 30), 2_000, d(2026, 7, 31));
        let none = f.projection(0);
        assert_eq!((none.gross, none.net, none.gross_reaches, none.net_reaches), (2_409, 2_409, true, true));
        // 410 of today's holders lapse before the deadline: on pace gross, short net.
        let cliff = f.projection(410);
        assert_eq!((cliff.gross, cliff.lapsing, cliff.net), (2_409, 410, 1_999));
        assert!(cliff.gross_reaches && !cliff.net_reaches);
        // More lapsing than holders: never below zero.
        assert_eq!(f.projection(5_000).net, 0);
        // Past the deadline: today's holders, less what lapsed by then (nothing added).
        let late = forecast(&hiep_luc(29, 60), d(2026, 8, 10), 2_000, d(2026, 7, 31));
        assert_eq!(late.projection(10).gross, late.holders);
        // No history: no rate, today's holders only.
        let empty = forecast(&DailyCounts::default(), d(2026, 6, 30), 10, d(2026, 7, 31));
        assert_eq!(empty.projection(0).gross, 0);
    }
}
