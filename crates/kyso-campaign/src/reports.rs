//! Unit reports: which weekly or monthly period a date falls in and which one is being reported,
//! the figures a report carries (pre-filled from live data; the unit only writes difficulties and
//! proposals), the roll-up commune → province → ministry, and per-unit timeliness.
//!
//! Weeks start on the weekly report day (Thursday for Hiệp Lực), so a week's last day is the eve of
//! the day its report is due: the week Thu 30/7–Wed 5/8 is due Thu 6/8 before 10:00. A month is due
//! on the monthly day of the next month (the 20th). Deadlines and completeness are [`crate::deadlines`].

use std::collections::BTreeMap;

use time::{Date, Duration, OffsetDateTime};

use crate::adoption::Adoption;
pub use crate::approval::ReviewState;
use crate::deadlines::{DeadlineRules, Frequency, Period, ReportingUnit, Timeliness, VIETNAM};
use crate::denominator::AdultsDenominator;
use crate::forecast::{forecast, DailyCounts, Status};
use crate::plan::{Percent, Target};
use crate::population::Register;

impl Frequency {
    pub fn name(self) -> &'static str {
        match self {
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "weekly" | "tuan" | "tuần" => Some(Frequency::Weekly),
            "monthly" | "thang" | "tháng" => Some(Frequency::Monthly),
            _ => None,
        }
    }
}

/// The period of this frequency that `date` falls in.
pub fn period_containing(rules: &DeadlineRules, frequency: Frequency, date: Date) -> Period {
    match frequency {
        Frequency::Weekly => {
            let back = (7 + date.weekday().number_days_from_monday() - rules.weekly_day.number_days_from_monday()) % 7;
            Period::week(date - Duration::days(i64::from(back)))
        }
        Frequency::Monthly => {
            // Every (year, month) of a valid date makes a valid month period.
            Period::month(date.year(), date.month()).unwrap_or(Period::week(date))
        }
    }
}

/// The period before this one.
pub fn previous(rules: &DeadlineRules, period: &Period) -> Period {
    period_containing(rules, period.frequency, period.start - Duration::days(1))
}

/// The period being reported on `today`: the latest one that has ended (on a Thursday, the week
/// that ended yesterday; in August, July).
pub fn reporting_period(rules: &DeadlineRules, frequency: Frequency, today: Date) -> Period {
    previous(rules, &period_containing(rules, frequency, today))
}

/// The `count` periods up to and including `last`, newest first.
pub fn periods_back(rules: &DeadlineRules, last: &Period, count: usize) -> Vec<Period> {
    let mut out = Vec::with_capacity(count);
    let mut p = *last;
    for _ in 0..count {
        out.push(p);
        p = previous(rules, &p);
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("a weekly period starts on a {expected}; {date} is a {actual}")]
    WeekStart { date: Date, expected: time::Weekday, actual: time::Weekday },
    #[error("a monthly period starts on the 1st; got {0}")]
    MonthStart(Date),
}

/// The period that starts on `start`, refusing a start that is not a period boundary.
pub fn period_starting(rules: &DeadlineRules, frequency: Frequency, start: Date) -> Result<Period, PeriodError> {
    let p = period_containing(rules, frequency, start);
    if p.start == start {
        return Ok(p);
    }
    Err(match frequency {
        Frequency::Weekly => {
            PeriodError::WeekStart { date: start, expected: rules.weekly_day, actual: start.weekday() }
        }
        Frequency::Monthly => PeriodError::MonthStart(start),
    })
}

fn dm(d: Date) -> String {
    format!("{:02}/{:02}", d.day(), u8::from(d.month()))
}

/// "Tuần 30/07–05/08/2026" / "Tháng 07/2026" (English: "Week …", "Month …").
pub fn label(period: &Period, en: bool) -> String {
    let last = period.last_day();
    match period.frequency {
        Frequency::Weekly => {
            format!("{} {}–{}/{}", if en { "Week" } else { "Tuần" }, dm(period.start), dm(last), last.year())
        }
        Frequency::Monthly => format!(
            "{} {:02}/{}",
            if en { "Month" } else { "Tháng" },
            u8::from(period.start.month()),
            period.start.year()
        ),
    }
}

/// A report's figures. Every field is a count (rates in hundredths per day), so figures add up
/// across units; shares are recomputed from the sums, never averaged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    /// Adults under the plan's age line.
    pub adults: u64,
    /// Distinct adults holding a valid certificate at the end of the period's last day.
    pub holders: u64,
    /// Holders gained over the period (end of last day minus end of the day before it started).
    pub new_holders: u64,
    /// Certificates issued in the period (a person with two counts twice; renewals included).
    pub new_certificates: u64,
    /// Holders needed for the final target, as a level and as an increment over the baseline.
    pub target_level: u64,
    pub target_increment: u64,
    /// Holders needed for the next milestone on or after the period's last day (0 when none).
    pub milestone_level: u64,
    pub milestone_increment: u64,
    /// Door-to-door visits recorded in the period, by outcome name (`done`, `not-at-home`, …).
    pub visits: BTreeMap<String, u64>,
    /// 14-day run rate and the rate needed per day (level reading), in hundredths of a holder a day;
    /// a unit past its deadline short of the target needs no rate: it counts in `past_deadline`.
    pub run_rate_x100: u64,
    pub required_rate_x100: u64,
    /// Units on track / behind / off track for the final target under the level reading.
    pub green: u64,
    pub amber: u64,
    pub red: u64,
    /// Units whose deadline has passed short of the target.
    pub past_deadline: u64,
    /// Dossiers received in the period that needed signatures, and of them the fully signed
    /// ([`crate::signed_use`]).
    pub dossiers_needing: u64,
    pub dossiers_fully_signed: u64,
    /// Holders who signed at least once in the period (through kyso, or a dossier the applicant
    /// signed with a certificate kyso knows).
    pub signers: u64,
    /// Adults (the plan's age line) with a level-2 e-ID account on the police's list.
    pub eid_level2: u64,
    /// The unit's staff and community-team members, and of them those trained by the period's
    /// last day ([`crate::training`]).
    pub training_people: u64,
    pub trained: u64,
}

const SCALARS: [&str; 20] = [
    "adults",
    "holders",
    "new_holders",
    "new_certificates",
    "target_level",
    "target_increment",
    "milestone_level",
    "milestone_increment",
    "run_rate_x100",
    "required_rate_x100",
    "green",
    "amber",
    "red",
    "past_deadline",
    "dossiers_needing",
    "dossiers_fully_signed",
    "signers",
    "eid_level2",
    "training_people",
    "trained",
];

impl Figures {
    fn scalars_mut(&mut self) -> [&mut u64; 20] {
        [
            &mut self.adults,
            &mut self.holders,
            &mut self.new_holders,
            &mut self.new_certificates,
            &mut self.target_level,
            &mut self.target_increment,
            &mut self.milestone_level,
            &mut self.milestone_increment,
            &mut self.run_rate_x100,
            &mut self.required_rate_x100,
            &mut self.green,
            &mut self.amber,
            &mut self.red,
            &mut self.past_deadline,
            &mut self.dossiers_needing,
            &mut self.dossiers_fully_signed,
            &mut self.signers,
            &mut self.eid_level2,
            &mut self.training_people,
            &mut self.trained,
        ]
    }

    /// Name → value pairs, for storage (`visits.<outcome>` for visits).
    pub fn to_pairs(&self) -> Vec<(String, u64)> {
        let mut copy = self.clone();
        let mut out: Vec<(String, u64)> =
            SCALARS.iter().zip(copy.scalars_mut()).map(|(name, v)| ((*name).to_owned(), *v)).collect();
        out.extend(self.visits.iter().map(|(k, v)| (format!("visits.{k}"), *v)));
        out
    }

    /// The inverse of [`Self::to_pairs`]; unknown names are ignored (figures added later).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, u64)>) -> Self {
        let mut f = Figures::default();
        for (name, value) in pairs {
            if let Some(outcome) = name.strip_prefix("visits.") {
                f.visits.insert(outcome.to_owned(), value);
            } else if let Some(at) = SCALARS.iter().position(|s| *s == name) {
                *f.scalars_mut()[at] = value;
            }
        }
        f
    }

    pub fn add(&mut self, other: &Figures) {
        let mut theirs = other.clone();
        for (mine, theirs) in self.scalars_mut().into_iter().zip(theirs.scalars_mut()) {
            *mine += *theirs;
        }
        for (k, v) in &other.visits {
            *self.visits.entry(k.clone()).or_default() += v;
        }
    }

    pub fn share(&self) -> Option<Percent> {
        Percent::share(self.holders, self.adults)
    }

    /// Level-2 e-ID coverage: adults with a level-2 account over adults (sums, never averages).
    pub fn eid_share(&self) -> Option<Percent> {
        Percent::share(self.eid_level2, self.adults)
    }

    /// Staff and community-team members trained, over all of them (sums, never averages).
    pub fn trained_share(&self) -> Option<Percent> {
        Percent::share(self.trained, self.training_people)
    }

    /// The share of the period's dossiers needing signatures that were fully signed.
    pub fn signed_dossiers(&self) -> crate::signed_use::SignedShare {
        crate::signed_use::SignedShare { needing: self.dossiers_needing, fully_signed: self.dossiers_fully_signed }
    }

    /// Holders as a share of the level target (how far along the quota the unit is).
    pub fn of_target(&self) -> Option<Percent> {
        Percent::share(self.holders, self.target_level)
    }

    pub fn visits_total(&self) -> u64 {
        self.visits.values().sum()
    }
}

/// What a unit's figures are computed from: the live register and certificates, its plan, and
/// the visit outcomes recorded in the period (outcome name per visit).
pub struct FigureInputs<'a> {
    pub commune_code: &'a str,
    pub register: &'a Register,
    pub adoption: &'a Adoption,
    pub line: &'a AdultsDenominator,
    pub target: Option<&'a Target>,
    /// Issue dates (Vietnam) of the commune's certificates, any state.
    pub issued: &'a [Date],
    /// Outcome names of the visits recorded in the period.
    pub visit_outcomes: &'a [&'a str],
}

/// A commune's figures for a period, as of the end of the period's last day.
pub fn unit_figures(period: &Period, input: &FigureInputs<'_>) -> Figures {
    let last = period.last_day();
    let holders_on = |d: Date| input.adoption.commune_holders_on(input.commune_code, d);
    let holders = holders_on(last);
    let before = holders_on(period.start - Duration::days(1));
    let adults = input.line.count(input.register.residents());
    let mut f = Figures {
        adults,
        holders,
        new_holders: holders.saturating_sub(before),
        new_certificates: input.issued.iter().filter(|d| **d >= period.start && **d < period.end).count() as u64,
        ..Figures::default()
    };
    for o in input.visit_outcomes {
        *f.visits.entry((*o).to_owned()).or_default() += 1;
    }
    if let Some(t) = input.target {
        let readings = t.readings(adults);
        f.target_level = readings.level;
        f.target_increment = readings.increment;
        if let Some((_, m)) = t.milestone_readings(adults).into_iter().find(|(d, _)| *d >= last) {
            f.milestone_level = m.level;
            f.milestone_increment = m.increment;
        }
        // The last 28 days are enough for the 14- and 28-day rates and the best week.
        let mut series = Vec::with_capacity(36);
        let mut day = (last - Duration::days(35)).max(t.baseline.date.min(last));
        while day <= last {
            series.push((day, holders_on(day)));
            day += Duration::days(1);
        }
        let fc = forecast(&DailyCounts::new(series), last, readings.level, t.deadline);
        f.run_rate_x100 = (fc.run_rate_14.unwrap_or(0.0) * 100.0).round() as u64;
        if fc.required_rate.is_finite() {
            f.required_rate_x100 = (fc.required_rate * 100.0).round() as u64;
        } else {
            f.past_deadline = 1;
        }
        match fc.status {
            Status::Green => f.green = 1,
            Status::Amber => f.amber = 1,
            Status::Red => f.red = 1,
        }
    }
    f
}

/// Where a unit stands for a period: reported on time or late, not yet due, or missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportStatus {
    OnTime {
        at: OffsetDateTime,
    },
    Late {
        at: OffsetDateTime,
        minutes: i64,
    },
    /// Nothing yet, and the deadline has not passed.
    Pending,
    /// Nothing, and the deadline has passed.
    Missing,
}

impl ReportStatus {
    pub fn name(&self) -> &'static str {
        match self {
            ReportStatus::OnTime { .. } => "on_time",
            ReportStatus::Late { .. } => "late",
            ReportStatus::Pending => "pending",
            ReportStatus::Missing => "missing",
        }
    }
}

/// One submission of a unit's report for a period: when it arrived (the first decides
/// timeliness), its figures (the latest count; a resubmission corrects the numbers but not the
/// date) and where the level above's review of it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub unit_code: String,
    pub at: OffsetDateTime,
    pub figures: Figures,
    pub state: ReviewState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupRow {
    pub unit_code: String,
    pub status: ReportStatus,
    /// The latest submitted figures; `None` when nothing was submitted.
    pub figures: Option<Figures>,
    /// The review of the latest submission; `None` when nothing was submitted.
    pub review: Option<ReviewState>,
}

/// A higher unit's view of one period: a row per expected lower unit and the sum of the figures
/// they submitted. Reports from units not expected are listed in `unexpected`, never summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollup {
    pub period: Period,
    pub due: OffsetDateTime,
    pub rows: Vec<RollupRow>,
    pub total: Figures,
    pub unexpected: Vec<String>,
}

impl Rollup {
    pub fn expected(&self) -> u64 {
        self.rows.len() as u64
    }
    pub fn count(&self, status: &str) -> u64 {
        self.rows.iter().filter(|r| r.status.name() == status).count() as u64
    }
    /// Units whose latest submission is in this review state.
    pub fn count_review(&self, state: ReviewState) -> u64 {
        self.rows.iter().filter(|r| r.review == Some(state)).count() as u64
    }

    /// Approved reports of expected, in [0, 1]; `None` when nothing is expected. A report counts
    /// once the level above approved it (DHIS2's approval), not when it arrives.
    pub fn completeness(&self) -> Option<f64> {
        (!self.rows.is_empty()).then(|| self.count_review(ReviewState::Approved) as f64 / self.rows.len() as f64)
    }

    /// Approved reports that first arrived on time, of expected.
    pub fn timeliness(&self) -> Option<f64> {
        let timely = self
            .rows
            .iter()
            .filter(|r| r.review == Some(ReviewState::Approved) && matches!(r.status, ReportStatus::OnTime { .. }))
            .count();
        (!self.rows.is_empty()).then(|| timely as f64 / self.rows.len() as f64)
    }
}

/// Rolls a period's reports up one level: `units` are the lower units (communes of a province, or
/// provinces), `received` every submission for the period in any order, `now` decides whether a
/// unit with nothing is missing or not yet due.
pub fn rollup(
    rules: &DeadlineRules,
    period: &Period,
    units: &[ReportingUnit],
    received: &[Received],
    now: OffsetDateTime,
) -> Rollup {
    let due = rules.due(period);
    let mut first: BTreeMap<&str, OffsetDateTime> = BTreeMap::new();
    let mut latest: BTreeMap<&str, (&OffsetDateTime, &Figures, ReviewState)> = BTreeMap::new();
    for r in received {
        let at = first.entry(r.unit_code.as_str()).or_insert(r.at);
        *at = (*at).min(r.at);
        let l = latest.entry(r.unit_code.as_str()).or_insert((&r.at, &r.figures, r.state));
        if r.at >= *l.0 {
            *l = (&r.at, &r.figures, r.state);
        }
    }
    let mut rows = Vec::new();
    let mut total = Figures::default();
    let mut expected = std::collections::BTreeSet::new();
    for u in units.iter().filter(|u| u.expected_for(period)) {
        expected.insert(u.code.as_str());
        let status = match first.get(u.code.as_str()) {
            Some(&at) => match rules.classify(period, at) {
                Timeliness::OnTime => ReportStatus::OnTime { at: at.to_offset(VIETNAM) },
                Timeliness::Late { minutes } => ReportStatus::Late { at: at.to_offset(VIETNAM), minutes },
            },
            None if now >= due => ReportStatus::Missing,
            None => ReportStatus::Pending,
        };
        let figures = latest.get(u.code.as_str()).map(|(_, f, _)| (*f).clone());
        if let Some(f) = &figures {
            total.add(f);
        }
        let review = latest.get(u.code.as_str()).map(|(_, _, s)| *s);
        rows.push(RollupRow { unit_code: u.code.clone(), status, figures, review });
    }
    let unexpected = first.keys().filter(|c| !expected.contains(*c)).map(|c| (*c).to_owned()).collect();
    Rollup { period: *period, due, rows, total, unexpected }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use time::{Month, Weekday};

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), day).unwrap()
    }

    #[test]
    fn weeks_run_thursday_to_wednesday_and_are_due_thursday_ten() {
        let rules = DeadlineRules::default();
        // Wednesday 5 Aug 2026 is the last day of the week that began Thursday 30 Jul.
        let week = period_containing(&rules, Frequency::Weekly, d(2026, 8, 5));
        assert_eq!((week.start, week.last_day()), (d(2026, 7, 30), d(2026, 8, 5)));
        assert_eq!(week.start.weekday(), Weekday::Thursday);
        assert_eq!(rules.due(&week), datetime!(2026-08-06 10:00 +7));
        // On the due Thursday itself, the week being reported is the one that ended yesterday,
        // at 09:59 and at 10:01 alike; the boundary is in the timeliness, not in the period.
        assert_eq!(reporting_period(&rules, Frequency::Weekly, d(2026, 8, 6)), week);
        assert_eq!(reporting_period(&rules, Frequency::Weekly, d(2026, 8, 12)), week);
        assert_eq!(reporting_period(&rules, Frequency::Weekly, d(2026, 8, 13)).start, d(2026, 8, 6));
        assert_eq!(label(&week, false), "Tuần 30/07–05/08/2026");
        assert_eq!(period_starting(&rules, Frequency::Weekly, d(2026, 7, 30)), Ok(week));
        assert!(matches!(
            period_starting(&rules, Frequency::Weekly, d(2026, 7, 31)),
            Err(PeriodError::WeekStart { actual: Weekday::Friday, .. })
        ));
        // Received 09:59:59 on time, 10:00:00 late, for the same week.
        let at =
            |t| Received { unit_code: "a".into(), at: t, figures: Figures::default(), state: ReviewState::Approved };
        let units = [ReportingUnit { code: "a".into(), opened: d(2025, 7, 1), closed: None }];
        let now = datetime!(2026-08-07 00:00 +7);
        let on_time = rollup(&rules, &week, &units, &[at(datetime!(2026-08-06 09:59:59 +7))], now);
        assert!(matches!(on_time.rows[0].status, ReportStatus::OnTime { .. }));
        let late = rollup(&rules, &week, &units, &[at(datetime!(2026-08-06 03:00 UTC))], now);
        assert!(matches!(late.rows[0].status, ReportStatus::Late { minutes: 1, .. }));
    }

    #[test]
    fn months_are_due_the_20th_of_the_next_month() {
        let rules = DeadlineRules::default();
        let july = period_containing(&rules, Frequency::Monthly, d(2026, 7, 17));
        assert_eq!((july.start, july.last_day()), (d(2026, 7, 1), d(2026, 7, 31)));
        assert_eq!(rules.due(&july), datetime!(2026-08-20 00:00 +7));
        assert_eq!(reporting_period(&rules, Frequency::Monthly, d(2026, 8, 19)), july);
        assert_eq!(label(&july, false), "Tháng 07/2026");
        assert!(period_starting(&rules, Frequency::Monthly, d(2026, 7, 2)).is_err());
    }

    #[test]
    fn periods_cross_the_year_boundary() {
        let rules = DeadlineRules::default();
        // Thursday 31 Dec 2026 starts a week that ends Wednesday 6 Jan 2027, due Thursday 7 Jan.
        let week = period_containing(&rules, Frequency::Weekly, d(2027, 1, 2));
        assert_eq!((week.start, week.last_day()), (d(2026, 12, 31), d(2027, 1, 6)));
        assert_eq!(rules.due(&week), datetime!(2027-01-07 10:00 +7));
        assert_eq!(label(&week, false), "Tuần 31/12–06/01/2027");
        // December is reported in January; on 5 Jan the month being reported is December.
        let december = reporting_period(&rules, Frequency::Monthly, d(2027, 1, 5));
        assert_eq!((december.start, december.last_day()), (d(2026, 12, 1), d(2026, 12, 31)));
        assert_eq!(rules.due(&december), datetime!(2027-01-20 00:00 +7));
        let back = periods_back(&rules, &december, 13);
        assert_eq!(back[12].start, d(2025, 12, 1));
        assert_eq!(back.iter().map(|p| p.start).collect::<std::collections::BTreeSet<_>>().len(), 13);
        let weeks = periods_back(&rules, &week, 53);
        assert!(weeks.windows(2).all(|w| w[1].end == w[0].start));
    }

    fn figures(adults: u64, holders: u64, visits_done: u64) -> Figures {
        let mut f =
            Figures { adults, holders, new_certificates: holders / 10, target_level: adults / 2, ..Default::default() };
        f.visits.insert("done".into(), visits_done);
        f
    }

    #[test]
    fn completeness_and_timeliness_count_approved_reports_only() {
        let rules = DeadlineRules::default();
        let week = Period::week(d(2026, 7, 30));
        let units: Vec<ReportingUnit> = ["a", "b", "c", "d"]
            .iter()
            .map(|c| ReportingUnit { code: (*c).into(), opened: d(2025, 7, 1), closed: None })
            .collect();
        let r = |c: &str, at, state| Received { unit_code: c.into(), at, figures: figures(10, 5, 0), state };
        let received = [
            r("a", datetime!(2026-08-06 09:00 +7), ReviewState::Approved),
            // Returned, then corrected after the deadline and approved: complete, timely by the
            // first arrival.
            r("b", datetime!(2026-08-06 09:30 +7), ReviewState::Returned),
            r("b", datetime!(2026-08-07 09:30 +7), ReviewState::Approved),
            // Late and approved: complete, not timely.
            r("c", datetime!(2026-08-06 11:00 +7), ReviewState::Approved),
            // Arrived on time but still waiting: neither.
            r("d", datetime!(2026-08-06 08:00 +7), ReviewState::Submitted),
        ];
        let roll = rollup(&rules, &week, &units, &received, datetime!(2026-08-10 00:00 +7));
        assert_eq!(roll.count_review(ReviewState::Approved), 3);
        assert_eq!(roll.count_review(ReviewState::Submitted), 1);
        assert_eq!(roll.completeness(), Some(0.75));
        assert_eq!(roll.timeliness(), Some(0.5));
        let returned = rollup(&rules, &week, &units, &received[1..2], datetime!(2026-08-10 00:00 +7));
        assert_eq!((returned.completeness(), returned.rows[1].review), (Some(0.0), Some(ReviewState::Returned)));
    }

    #[test]
    fn province_sums_its_communes_and_lists_who_submitted() {
        let rules = DeadlineRules::default();
        let week = Period::week(d(2026, 7, 30));
        let units: Vec<ReportingUnit> = ["01960", "01963", "01966", "01969"]
            .iter()
            .map(|c| ReportingUnit { code: (*c).into(), opened: d(2025, 7, 1), closed: None })
            .chain([ReportingUnit { code: "01999".into(), opened: d(2025, 7, 1), closed: Some(d(2026, 1, 1)) }])
            .collect();
        let r = |c: &str, at, f| Received { unit_code: c.into(), at, figures: f, state: ReviewState::Approved };
        let received = [
            r("01960", datetime!(2026-08-05 16:00 +7), figures(5_480, 2_000, 40)),
            // A correction after the deadline: the figures change, the report stays on time.
            r("01960", datetime!(2026-08-06 15:00 +7), figures(5_480, 2_100, 40)),
            r("01963", datetime!(2026-08-06 10:30 +7), figures(3_000, 900, 5)),
            r("01999", datetime!(2026-08-06 09:00 +7), figures(1_000, 1_000, 1)),
        ];
        let before_due = rollup(&rules, &week, &units, &received[..1], datetime!(2026-08-06 08:00 +7));
        assert_eq!(before_due.count("pending"), 3);
        let roll = rollup(&rules, &week, &units, &received, datetime!(2026-08-06 12:00 +7));
        assert_eq!(roll.expected(), 4);
        let status: Vec<_> = roll.rows.iter().map(|r| (r.unit_code.as_str(), r.status.name())).collect();
        assert_eq!(status, [("01960", "on_time"), ("01963", "late"), ("01966", "missing"), ("01969", "missing")]);
        assert!(matches!(roll.rows[1].status, ReportStatus::Late { minutes: 30, .. }));
        assert_eq!(roll.unexpected, ["01999"]);
        assert_eq!((roll.total.adults, roll.total.holders), (8_480, 3_000));
        assert_eq!(roll.total.new_certificates, 210 + 90);
        assert_eq!(roll.total.visits["done"], 45);
        assert_eq!(roll.total.share(), Percent::share(3_000, 8_480));
        assert_eq!(roll.completeness(), Some(0.5));
        assert_eq!(roll.timeliness(), Some(0.25));

        // National: provinces are the units; a province's report is its own roll-up.
        let provinces = [
            ReportingUnit { code: "19".into(), opened: d(2025, 7, 1), closed: None },
            ReportingUnit { code: "33".into(), opened: d(2025, 7, 1), closed: None },
        ];
        let national = rollup(
            &rules,
            &week,
            &provinces,
            &[r("19", datetime!(2026-08-06 09:00 +7), roll.total.clone())],
            datetime!(2026-08-07 00:00 +7),
        );
        assert_eq!(national.total, roll.total);
        assert_eq!(national.count("missing"), 1);
    }

    #[test]
    fn figures_round_trip_through_pairs_and_add_up() {
        let mut f = figures(10, 4, 3);
        f.visits.insert("not-at-home".into(), 2);
        f.red = 1;
        f.eid_level2 = 5;
        let pairs = f.to_pairs();
        assert!(pairs.contains(&("eid_level2".into(), 5)));
        assert!(pairs.contains(&("visits.not-at-home".into(), 2)));
        let back = Figures::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), *v)).chain([("future_figure", 9)]));
        assert_eq!(back, f);
        let mut sum = Figures::default();
        sum.add(&f);
        sum.add(&figures(20, 6, 1));
        assert_eq!((sum.adults, sum.holders, sum.visits_total(), sum.red), (30, 10, 6, 1));
        assert_eq!(sum.share().map(|p| p.to_string()).as_deref(), Some("33.33 %"));
        // level-2 coverage of the sum: 5 of 30 adults, recomputed from the sums
        assert_eq!(sum.eid_share().map(|p| p.to_string()).as_deref(), Some("16.67 %"));
    }

    #[test]
    fn unit_figures_from_live_data() {
        use crate::adoption::CertificateEvent;
        use crate::plan::{Baseline, Milestone, TargetValue};
        use crate::population::{CitizenId, Resident, Sex};
        let person = |i: u32, born: i32| Resident {
            id: CitizenId::parse(&format!("0191{:02}{:06}", born % 100, i)).unwrap(),
            full_name: None,
            date_of_birth: d(born, 1, 1),
            sex: Sex::Female,
            commune_code: "01960".into(),
            hamlet_code: "T01".into(),
            household: None,
        };
        // Four adults and a child; certificates: two before the week, two in it (one person twice).
        let register =
            Register::new([person(1, 1990), person(2, 1980), person(3, 1970), person(4, 1960), person(5, 2015)]);
        let cert = |i: usize, issued| CertificateEvent {
            id: register.residents()[i].id.clone(),
            provider: "VNPT".into(),
            serial: Some(format!("s{i}-{issued}")),
            issued,
            expires: None,
            revoked: None,
        };
        let issued = [d(2026, 7, 1), d(2026, 7, 2), d(2026, 7, 31), d(2026, 8, 1), d(2026, 8, 6)];
        let events =
            [cert(0, issued[0]), cert(1, issued[1]), cert(2, issued[2]), cert(2, issued[3]), cert(3, issued[4])];
        let mut adoption = Adoption::new();
        adoption.apply(&register, &events);
        let line = AdultsDenominator::new(15, d(2026, 1, 1)).unwrap();
        let target = Target {
            unit_code: "01960".into(),
            kind: None,
            baseline: Baseline { count: 1, date: d(2026, 1, 1), source: "test".into() },
            value: TargetValue::Absolute(3),
            deadline: d(2026, 10, 31),
            milestones: vec![Milestone { date: d(2026, 8, 31), value: TargetValue::Absolute(2) }],
        };
        let week = Period::week(d(2026, 7, 30));
        let figures = |target: &Target, visit_outcomes: &[&str]| {
            let inputs = FigureInputs {
                commune_code: "01960",
                register: &register,
                adoption: &adoption,
                line: &line,
                target: Some(target),
                issued: &issued,
                visit_outcomes,
            };
            unit_figures(&week, &inputs)
        };
        let f = figures(&target, &["done", "not-at-home", "done"]);
        assert_eq!((f.adults, f.holders, f.new_holders, f.new_certificates), (4, 3, 1, 2));
        assert_eq!((f.target_level, f.target_increment, f.milestone_level, f.milestone_increment), (3, 4, 2, 3));
        assert_eq!((f.visits["done"], f.visits["not-at-home"]), (2, 1));
        assert_eq!(f.green + f.amber + f.red, 1);
        // The level target (3) is reached on the week's last day: on track, nothing more needed.
        assert_eq!((f.green, f.required_rate_x100, f.past_deadline), (1, 0, 0));
        // After the deadline, short of the target: red, no rate, counted as past its deadline.
        let short = Target { value: TargetValue::Absolute(4), deadline: d(2026, 8, 1), ..target };
        let f = figures(&short, &[]);
        assert_eq!((f.red, f.required_rate_x100, f.past_deadline), (1, 0, 1));
    }
}
