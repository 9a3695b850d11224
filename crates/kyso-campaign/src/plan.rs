//! Targets as first-class objects: kind (level, or increment over a recorded baseline), value as a
//! percent or an absolute count, milestones, and the segment split with its one-holder-one-segment rule.
//!
//! Both readings of every target are always computable (CAMPAIGN-NOTES, question 1): Hiệp Lực's
//! 63.80 % is 3,496 holders as a level and 3,836 (= 70.00 %) as an increment over its 340 holders.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use time::Date;

/// A share in hundredths of a percent (`6380` = 63.80 %), the precision the plans publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent(u32);

impl Percent {
    pub const fn from_hundredths(hundredths: u32) -> Self {
        Self(hundredths)
    }

    pub fn hundredths(self) -> u32 {
        self.0
    }

    /// `holders / denominator`, rounded half up to two decimals (340 / 5,480 = 6.20 %).
    pub fn share(holders: u64, denominator: u64) -> Option<Self> {
        if denominator == 0 {
            return None;
        }
        let hundredths = (holders * 20_000 + denominator) / (2 * denominator);
        u32::try_from(hundredths).ok().map(Self)
    }

    /// The fewest holders whose share, rounded to two decimals, reaches this percent. The plans
    /// round (3,496 / 5,480 is 63.796 %, published as 63.80 %), so a target is met at the
    /// rounded figure: that reproduces Appendix I whether the quota is read as 3,496 or 63.80 %.
    pub fn holders_needed(self, denominator: u64) -> u64 {
        if self.0 == 0 {
            return 0;
        }
        (u64::from(2 * self.0 - 1) * denominator).div_ceil(20_000)
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02} %", self.0 / 100, self.0 % 100)
    }
}

/// The number of holders a unit had when the plan was written, and where that number came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    pub count: u64,
    pub date: Date,
    pub source: String,
}

/// How the plan's author meant the value: the total to reach, or new holders on top of the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Level,
    Increment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetValue {
    Percent(Percent),
    Absolute(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Milestone {
    pub date: Date,
    pub value: TargetValue,
}

/// Holders needed under each reading. `recorded` is the kind the plan states, `None` when the text
/// leaves it open; the dashboard shows both numbers in that case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readings {
    pub level: u64,
    pub increment: u64,
    pub recorded: Option<TargetKind>,
}

impl Readings {
    /// The number to track when the kind is recorded; `None` when it is ambiguous.
    pub fn chosen(&self) -> Option<u64> {
        self.recorded.map(|kind| match kind {
            TargetKind::Level => self.level,
            TargetKind::Increment => self.increment,
        })
    }
}

/// A unit's target, as written in its plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub unit_code: String,
    pub kind: Option<TargetKind>,
    pub baseline: Baseline,
    pub value: TargetValue,
    pub deadline: Date,
    pub milestones: Vec<Milestone>,
}

/// Holders needed for `value` under one reading, given the adult denominator.
pub fn holders_needed(value: TargetValue, kind: TargetKind, baseline: &Baseline, denominator: u64) -> u64 {
    let amount = match value {
        TargetValue::Percent(p) => p.holders_needed(denominator),
        TargetValue::Absolute(n) => n,
    };
    match kind {
        TargetKind::Level => amount,
        TargetKind::Increment => baseline.count + amount,
    }
}

impl Target {
    fn readings_of(&self, value: TargetValue, denominator: u64) -> Readings {
        Readings {
            level: holders_needed(value, TargetKind::Level, &self.baseline, denominator),
            increment: holders_needed(value, TargetKind::Increment, &self.baseline, denominator),
            recorded: self.kind,
        }
    }

    /// The final target under both readings.
    pub fn readings(&self, denominator: u64) -> Readings {
        self.readings_of(self.value, denominator)
    }

    /// Each milestone, in date order, under both readings.
    pub fn milestone_readings(&self, denominator: u64) -> Vec<(Date, Readings)> {
        let mut out: Vec<_> =
            self.milestones.iter().map(|m| (m.date, self.readings_of(m.value, denominator))).collect();
        out.sort_by_key(|(date, _)| *date);
        out
    }
}

/// Who a segment takes: holders tagged with its key (organisation-linked lists), or everyone left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    Tagged,
    Everyone,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub key: String,
    pub name: String,
    pub target: u64,
    pub membership: Membership,
}

/// A plan's segment split. The order of `segments` is the assignment rule: a holder goes to the
/// first segment whose tag they carry, otherwise to the first `Everyone` segment; never to two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentPlan {
    pub total: u64,
    pub segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentWarning {
    /// The segment targets add up to something other than the plan's total.
    SumMismatch { sum: u64, total: u64 },
    /// A catch-all segment also contains the people of the tagged segments, so counting each
    /// holder once depends on the order.
    CatchAllOverlaps { catch_all: String, others: Vec<String> },
    /// Holders observed in both segments (each counted only in `assigned_to`).
    ObservedOverlap { first: String, second: String, holders: u64, assigned_to: String },
    /// Two segments share a key: the rule cannot tell them apart.
    DuplicateKey(String),
}

impl SegmentPlan {
    /// A plan from `(key, target, membership)` triples, each segment named by its key (tests).
    #[cfg(test)]
    pub(crate) fn of(total: u64, segments: &[(&str, u64, Membership)]) -> Self {
        let seg = |&(key, target, membership): &(&str, u64, Membership)| Segment {
            key: key.into(),
            name: key.into(),
            target,
            membership,
        };
        Self { total, segments: segments.iter().map(seg).collect() }
    }

    /// The segment a holder with these tags is counted in.
    pub fn assign<'a>(&'a self, tags: &HashSet<&str>) -> Option<&'a Segment> {
        self.segments
            .iter()
            .find(|s| s.membership == Membership::Tagged && tags.contains(s.key.as_str()))
            .or_else(|| self.segments.iter().find(|s| s.membership == Membership::Everyone))
    }

    /// Warnings that need no data: sums, catch-all overlaps, duplicate keys.
    pub fn check(&self) -> Vec<SegmentWarning> {
        let mut warnings = Vec::new();
        let sum: u64 = self.segments.iter().map(|s| s.target).sum();
        if sum != self.total {
            warnings.push(SegmentWarning::SumMismatch { sum, total: self.total });
        }
        let mut keys = HashSet::new();
        for s in &self.segments {
            if !keys.insert(s.key.as_str()) {
                warnings.push(SegmentWarning::DuplicateKey(s.key.clone()));
            }
        }
        let tagged: Vec<String> =
            self.segments.iter().filter(|s| s.membership == Membership::Tagged).map(|s| s.key.clone()).collect();
        for s in self.segments.iter().filter(|s| s.membership == Membership::Everyone) {
            if !tagged.is_empty() {
                warnings.push(SegmentWarning::CatchAllOverlaps { catch_all: s.key.clone(), others: tagged.clone() });
            }
        }
        warnings
    }

    /// Counts holders per segment (each exactly once, by the rule) and reports the overlaps seen
    /// in the data: pairs of tagged segments that share holders.
    pub fn tally<'h>(&self, holders: impl IntoIterator<Item = &'h HashSet<&'h str>>) -> SegmentTally {
        let mut counts: BTreeMap<String, u64> = self.segments.iter().map(|s| (s.key.clone(), 0)).collect();
        let mut pairs: BTreeMap<(usize, usize), u64> = BTreeMap::new();
        let mut unassigned = 0;
        for tags in holders {
            match self.assign(tags) {
                Some(s) => *counts.entry(s.key.clone()).or_default() += 1,
                None => unassigned += 1,
            }
            let hit: Vec<usize> = (0..self.segments.len())
                .filter(|&i| {
                    self.segments[i].membership == Membership::Tagged && tags.contains(self.segments[i].key.as_str())
                })
                .collect();
            for (n, &a) in hit.iter().enumerate() {
                for &b in &hit[n + 1..] {
                    *pairs.entry((a, b)).or_default() += 1;
                }
            }
        }
        let overlaps = pairs
            .into_iter()
            .map(|((a, b), holders)| SegmentWarning::ObservedOverlap {
                first: self.segments[a].key.clone(),
                second: self.segments[b].key.clone(),
                holders,
                assigned_to: self.segments[a].key.clone(),
            })
            .collect();
        SegmentTally { counts, unassigned, overlaps }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentTally {
    pub counts: BTreeMap<String, u64>,
    /// Holders no segment takes (a plan without a catch-all segment).
    pub unassigned: u64,
    pub overlaps: Vec<SegmentWarning>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Month;

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), day).unwrap()
    }

    fn hiep_luc(kind: Option<TargetKind>) -> Target {
        Target {
            unit_code: "01960".into(),
            kind,
            baseline: Baseline {
                count: 340, date: d(2026, 1, 1), source: "Phụ lục I, KH Hiệp Lực 2026".into()
            },
            value: TargetValue::Absolute(3_496),
            deadline: d(2026, 10, 31),
            milestones: vec![Milestone {
                date: d(2026, 7, 31),
                value: TargetValue::Percent(Percent::from_hundredths(3_500)),
            }],
        }
    }

    #[test]
    fn hiep_luc_appendix_i_both_readings() {
        const ADULTS: u64 = 5_480;
        assert_eq!(Percent::share(340, ADULTS).unwrap().to_string(), "6.20 %");
        assert_eq!(Percent::share(3_496, ADULTS).unwrap().to_string(), "63.80 %");
        assert_eq!(Percent::share(3_836, ADULTS).unwrap().to_string(), "70.00 %");

        let target = hiep_luc(None);
        let readings = target.readings(ADULTS);
        assert_eq!((readings.level, readings.increment), (3_496, 3_836));
        assert_eq!(readings.chosen(), None);

        // The same quota written as a percent gives the same holders.
        let as_percent = Target { value: TargetValue::Percent(Percent::from_hundredths(6_380)), ..target.clone() };
        let readings = as_percent.readings(ADULTS);
        assert_eq!((readings.level, readings.increment), (3_496, 3_836));

        let milestones = target.milestone_readings(ADULTS);
        assert_eq!(milestones.len(), 1);
        assert_eq!(milestones[0].0, d(2026, 7, 31));
        assert_eq!((milestones[0].1.level, milestones[0].1.increment), (1_918, 2_258));

        assert_eq!(hiep_luc(Some(TargetKind::Increment)).readings(ADULTS).chosen(), Some(3_836));
        assert_eq!(hiep_luc(Some(TargetKind::Level)).readings(ADULTS).chosen(), Some(3_496));
    }

    #[test]
    fn percent_holders_needed_edges() {
        assert_eq!(Percent::from_hundredths(0).holders_needed(5_480), 0);
        assert_eq!(Percent::from_hundredths(10_000).holders_needed(5_480), 5_480);
        assert_eq!(Percent::from_hundredths(7_000).holders_needed(5_480), 3_836);
        assert_eq!(Percent::share(1, 0), None);
        // 3,495 rounds to 63.78 %: one short.
        assert_eq!(Percent::share(3_495, 5_480), Some(Percent::from_hundredths(6_378)));
    }

    fn hung_yen() -> SegmentPlan {
        SegmentPlan::of(
            400_000,
            &[
                ("state_agencies", 15_000, Membership::Tagged),
                ("socio_political", 15_000, Membership::Tagged),
                ("public_service", 25_000, Membership::Tagged),
                ("schools", 30_000, Membership::Tagged),
                ("sme_workers", 15_000, Membership::Tagged),
                ("adult_citizens", 300_000, Membership::Everyone),
            ],
        )
    }

    #[test]
    fn hung_yen_segments_add_up_but_overlap() {
        let plan = hung_yen();
        let warnings = plan.check();
        assert!(!warnings.iter().any(|w| matches!(w, SegmentWarning::SumMismatch { .. })));
        assert!(matches!(&warnings[..], [SegmentWarning::CatchAllOverlaps { catch_all, others }]
            if catch_all == "adult_citizens" && others.len() == 5));

        let mut short = plan.clone();
        short.segments[5].target = 250_000;
        assert!(short.check().contains(&SegmentWarning::SumMismatch { sum: 350_000, total: 400_000 }));
    }

    #[test]
    fn one_holder_exactly_one_segment_by_order() {
        let plan = hung_yen();
        let teacher: HashSet<&str> = ["schools", "public_service"].into_iter().collect();
        let worker: HashSet<&str> = ["sme_workers"].into_iter().collect();
        let citizen: HashSet<&str> = HashSet::new();
        assert_eq!(plan.assign(&teacher).map(|s| s.key.as_str()), Some("public_service"));
        assert_eq!(plan.assign(&citizen).map(|s| s.key.as_str()), Some("adult_citizens"));

        let tally = plan.tally([&teacher, &worker, &citizen, &teacher]);
        assert_eq!(tally.counts.values().sum::<u64>(), 4);
        assert_eq!(tally.counts["public_service"], 2);
        assert_eq!(tally.counts["schools"], 0);
        assert_eq!(tally.counts["sme_workers"], 1);
        assert_eq!(tally.counts["adult_citizens"], 1);
        assert_eq!(
            tally.overlaps,
            [SegmentWarning::ObservedOverlap {
                first: "public_service".into(),
                second: "schools".into(),
                holders: 2,
                assigned_to: "public_service".into()
            }]
        );
    }
}
