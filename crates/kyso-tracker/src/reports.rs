//! The reports read model shared by the report pages and `kyso report`: a unit's live figures for a
//! period, submissions with the figures they carried, roll-ups one level up (commune → province →
//! `VN`, the ministry), completeness over periods, the task register, and staff and segment progress.
//!
//! Units that report: communes with a campaign plan; a province when one of its communes has one;
//! the ministry rolls the provinces up. All take part from 1 July 2025 (the two-level structure).

use crate::read::{event, load, target, vn_date, Fallible};
use kyso_campaign::csv::parse_date;
use kyso_campaign::deadlines::{DeadlineRules, Frequency, Period, ReportingUnit};
use kyso_campaign::denominator::AdultsDenominator;
use kyso_campaign::plan::{Membership, Segment, SegmentPlan};
use kyso_campaign::reports::{self as core, FigureInputs, Figures, Received, ReviewState, Rollup};
use kyso_campaign::staff::{self, AgencyProgress, SegmentProgress};
use kyso_campaign::tasks::{Task, TaskStatus};
use kyso_store::campaign::ReportRow;
use kyso_store::reports::{SegmentSetRow, StaffRow, TaskRow};
use kyso_store::{AuditEvent, Store};
use std::collections::{BTreeMap, HashSet};
use time::{Date, Month, OffsetDateTime};

/// The ministry's code in roll-ups.
pub const NATIONAL: &str = "VN";

fn err(e: kyso_store::StoreError) -> String {
    e.to_string()
}

/// Hiệp Lực's rules: weekly Thursday before 10:00, monthly before the 20th.
pub fn rules() -> DeadlineRules {
    DeadlineRules::default()
}

fn opened() -> Date {
    Date::from_calendar_date(2025, Month::July, 1).unwrap_or(Date::MIN)
}

pub fn instant(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

pub fn today() -> Fallible<Date> {
    parse_date(&vn_date(kyso_store::now()))
}

/// A period from a frequency name and an optional start date; without a start, the period being
/// reported today.
pub fn period(frequency: &str, start: Option<&str>) -> Fallible<Period> {
    let f = Frequency::parse(frequency).ok_or_else(|| format!("'{frequency}': use weekly or monthly"))?;
    match start.filter(|s| !s.trim().is_empty()) {
        None => Ok(core::reporting_period(&rules(), f, today()?)),
        Some(s) => core::period_starting(&rules(), f, parse_date(s)?).map_err(|e| e.to_string()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Commune,
    Province,
    National,
    /// An agency reporting beside a commune or a province (`01960-CA`,
    /// [`kyso_campaign::approval::agency_parts`]).
    Agency,
}

pub fn level(code: &str) -> Level {
    match code {
        NATIONAL => Level::National,
        c if c.contains('-') => Level::Agency,
        c if c.len() <= 2 => Level::Province,
        _ => Level::Commune,
    }
}

/// The administrative unit a reporting unit belongs to: itself, or the unit an agency reports beside.
pub fn admin_unit(code: &str) -> &str {
    kyso_campaign::approval::agency_parts(code).map_or(code, |(unit, _)| unit)
}

/// The unit's name, or `None` when it is unknown.
pub async fn unit_name(store: &Store, code: &str) -> Fallible<Option<String>> {
    Ok(match level(code) {
        Level::National => Some("Bộ Khoa học và Công nghệ".into()),
        Level::Province => store.province_name(code).await.map_err(err)?,
        Level::Commune => store.commune(code).await.map_err(err)?.map(|c| c.name),
        Level::Agency => store.agencies(None).await.map_err(err)?.into_iter().find(|a| a.code == code).map(|a| a.name),
    })
}

/// The communes with a plan, with their province codes and names.
async fn planned_communes(store: &Store) -> Fallible<Vec<(String, String, String)>> {
    let codes: HashSet<String> =
        store.plans(None).await.map_err(err)?.into_iter().map(|(p, _)| p.unit_code).filter(|c| c.len() == 5).collect();
    // One query for the units (3,321 rows at most), not one per plan.
    Ok(store
        .communes(None)
        .await
        .map_err(err)?
        .into_iter()
        .filter(|c| codes.contains(&c.code))
        .map(|c| (c.code, c.province_code, c.name))
        .collect())
}

/// The units that report to `unit` (code, name): a province's communes with a plan and the
/// agencies beside them; the ministry's provinces with such communes and the agencies beside the
/// provinces; none under a commune or an agency.
pub async fn children(store: &Store, unit: &str) -> Fallible<Vec<(String, String)>> {
    let communes = planned_communes(store).await?;
    let agencies = store.agencies(None).await.map_err(err)?;
    Ok(match level(unit) {
        Level::Commune | Level::Agency => Vec::new(),
        Level::Province => {
            let mut out: Vec<(String, String)> =
                communes.iter().filter(|(_, p, _)| p == unit).map(|(c, _, n)| (c.clone(), n.clone())).collect();
            let here: HashSet<String> = out.iter().map(|(c, _)| c.clone()).collect();
            out.extend(agencies.into_iter().filter(|a| here.contains(&a.unit_code)).map(|a| (a.code, a.name)));
            out
        }
        Level::National => {
            let provinces: std::collections::BTreeSet<String> = communes.into_iter().map(|(_, p, _)| p).collect();
            let mut out = Vec::new();
            for p in &provinces {
                let name = store.province_name(p).await.map_err(err)?.unwrap_or_else(|| p.clone());
                out.push((p.clone(), name));
            }
            out.extend(agencies.into_iter().filter(|a| provinces.contains(&a.unit_code)).map(|a| (a.code, a.name)));
            out
        }
    })
}

/// The unit a report goes to, whose officers approve it: a commune's province (and an agency
/// beside a commune, its province), a province's ministry (and an agency beside it, the ministry).
pub async fn parent(store: &Store, unit: &str) -> Fallible<Option<String>> {
    let unit = admin_unit(unit);
    Ok(match level(unit) {
        Level::Commune => store.commune(unit).await.map_err(err)?.map(|c| c.province_code),
        Level::Province => Some(NATIONAL.into()),
        Level::National | Level::Agency => None,
    })
}

/// A commune's figures for a period from live data: register, certificates, plan, visits.
pub async fn commune_figures(store: &Store, commune: &str, period: &Period) -> Fallible<Figures> {
    let (register, adoption) = load(store, commune, None).await?;
    let plan = store.plans(Some(commune)).await.map_err(err)?.into_iter().next_back();
    let (line, target) = match &plan {
        Some((p, ms)) => (
            AdultsDenominator::new(u8::try_from(p.min_age).map_err(|e| e.to_string())?, parse_date(&p.reference_date)?)
                .map_err(|e| e.to_string())?,
            Some(target(p, ms)?),
        ),
        None => (AdultsDenominator::new(15, period.last_day()).map_err(|e| e.to_string())?, None),
    };
    let certs = store.holder_certificates(commune, None).await.map_err(err)?;
    let issued = certs.iter().map(|c| event(c).map(|e| e.issued)).collect::<Fallible<Vec<_>>>()?;
    let mut outcomes = Vec::new();
    let (start, end) = (period.start.to_string(), period.end.to_string());
    for h in store.hamlets(commune).await.map_err(err)? {
        for v in store.visits(commune, &h.code).await.map_err(err)? {
            if v.visit_date >= start && v.visit_date < end {
                outcomes.push(v.outcome);
            }
        }
    }
    let outcomes: Vec<&str> = outcomes.iter().map(String::as_str).collect();
    let dossiers = crate::signed_use::signed_between(store, commune, period.start, period.end).await?;
    let signers = crate::signed_use::signers_between(store, commune, period.start, period.end).await?;
    let mut figures = core::unit_figures(
        period,
        &FigureInputs {
            commune_code: commune,
            register: &register,
            adoption: &adoption,
            line: &line,
            target: target.as_ref(),
            issued: &issued,
            visit_outcomes: &outcomes,
        },
    );
    figures.dossiers_needing = dossiers.needing;
    figures.dossiers_fully_signed = dossiers.fully_signed;
    figures.signers = signers;
    figures.eid_level2 = crate::eid::commune_coverage(store, commune, &register, &line).await?.level2;
    let trained = crate::training::unit_share(store, commune, &period.last_day().to_string()).await?;
    figures.training_people = trained.people;
    figures.trained = trained.trained;
    Ok(figures)
}

fn figures_of(pairs: &[(String, i64)]) -> Figures {
    Figures::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), u64::try_from(*v).unwrap_or(0))))
}

/// Every submission of a period by one unit, oldest first, with the figures each carried.
pub async fn submissions(store: &Store, unit: &str, period: &Period) -> Fallible<Vec<(ReportRow, Figures)>> {
    let all = store.period_reports(period.frequency.name(), &period.start.to_string()).await.map_err(err)?;
    Ok(all.into_iter().filter(|(r, _)| r.unit_code == unit).map(|(r, f)| (r, figures_of(&f))).collect())
}

/// `unit`'s view of a period as of `now`: a row per unit reporting to it and the sum of what they
/// had submitted by then.
pub async fn rollup(
    store: &Store,
    unit: &str,
    period: &Period,
    now: OffsetDateTime,
) -> Fallible<(Rollup, Vec<String>)> {
    let kids = children(store, unit).await?;
    rollup_of(store, &kids, period, now).await
}

async fn rollup_of(
    store: &Store,
    kids: &[(String, String)],
    period: &Period,
    now: OffsetDateTime,
) -> Fallible<(Rollup, Vec<String>)> {
    let units: Vec<ReportingUnit> =
        kids.iter().map(|(c, _)| ReportingUnit { code: c.clone(), opened: opened(), closed: None }).collect();
    let codes: HashSet<&str> = kids.iter().map(|(c, _)| c.as_str()).collect();
    let all = store.period_reports(period.frequency.name(), &period.start.to_string()).await.map_err(err)?;
    let states = review_states(store, period).await?;
    let received: Vec<Received> = all
        .iter()
        .filter(|(r, _)| codes.contains(r.unit_code.as_str()) && instant(r.submitted_at) <= now)
        .map(|(r, f)| Received {
            unit_code: r.unit_code.clone(),
            at: instant(r.submitted_at),
            figures: figures_of(f),
            state: states.get(&r.id).copied().unwrap_or(ReviewState::Submitted),
        })
        .collect();
    let names = kids.iter().map(|(_, n)| n.clone()).collect();
    Ok((core::rollup(&rules(), period, &units, &received, now), names))
}

/// The review state of every submission of a period, by report id.
pub async fn review_states(store: &Store, period: &Period) -> Fallible<std::collections::HashMap<i64, ReviewState>> {
    let rows = store.period_reviews(period.frequency.name(), &period.start.to_string()).await.map_err(err)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.report_id, ReviewState::parse(&r.state).unwrap_or(ReviewState::Submitted)))
        .collect())
}

/// The figures that pre-fill `unit`'s report: live for a commune; above, the sum of what the
/// units below submitted; none for an agency (it reports in words).
pub async fn prefill(store: &Store, unit: &str, period: &Period, now: OffsetDateTime) -> Fallible<Figures> {
    match level(unit) {
        Level::Commune => commune_figures(store, unit, period).await,
        Level::Agency => Ok(Figures::default()),
        _ => Ok(rollup(store, unit, period, now).await?.0.total),
    }
}

/// What a unit writes on its report.
pub struct Submission<'a> {
    pub unit: &'a str,
    pub period: Period,
    pub by: &'a str,
    pub difficulties: &'a str,
    pub proposals: &'a str,
    /// When it was received (Unix seconds): now, or a paper report's date entered later.
    pub at: i64,
}

/// Records a report with its pre-filled figures. The period must have ended when it is received.
pub async fn submit(store: &Store, s: &Submission<'_>, actor: &str) -> Fallible<(ReportRow, Figures)> {
    let name = unit_name(store, s.unit).await?.ok_or_else(|| format!("unknown unit {}", s.unit))?;
    let received_on = parse_date(&vn_date(s.at))?;
    if received_on < s.period.end {
        return Err(format!(
            "{} has not ended yet (last day {}): report it from {}",
            core::label(&s.period, true),
            s.period.last_day(),
            s.period.end
        ));
    }
    if s.by.trim().is_empty() {
        return Err("say who submits the report (name and position)".into());
    }
    let figures = prefill(store, s.unit, &s.period, instant(s.at)).await?;
    let pairs: Vec<(String, i64)> =
        figures.to_pairs().into_iter().map(|(k, v)| (k, i64::try_from(v).unwrap_or(i64::MAX))).collect();
    let row = ReportRow {
        id: 0,
        unit_code: s.unit.into(),
        frequency: s.period.frequency.name().into(),
        period_start: s.period.start.to_string(),
        submitted_at: s.at,
        submitted_by: s.by.trim().into(),
        difficulties: s.difficulties.trim().into(),
        proposals: s.proposals.trim().into(),
    };
    let audit = AuditEvent::new(
        actor,
        "campaign.report.submit",
        s.unit,
        format!("{} ({name}), {} holders of {} adults", core::label(&s.period, true), figures.holders, figures.adults),
    );
    let row = store.submit_report(&row, &pairs, &audit).await.map_err(err)?;
    Ok((row, figures))
}

/// Roll-ups of the `count` periods up to `last`, newest first (completeness and timeliness).
pub async fn completeness(
    store: &Store,
    unit: &str,
    last: &Period,
    count: usize,
    now: OffsetDateTime,
) -> Fallible<Vec<Rollup>> {
    let kids = children(store, unit).await?;
    let mut out = Vec::with_capacity(count);
    for p in core::periods_back(&rules(), last, count) {
        out.push(rollup_of(store, &kids, &p, now).await?.0);
    }
    Ok(out)
}

// ---- tasks ----

pub fn task_of(r: &TaskRow) -> Fallible<Task> {
    Ok(Task {
        number: r.number.clone(),
        name: r.name.clone(),
        lead: r.lead.clone(),
        coordinating: r.coordinating.clone(),
        expected_result: r.expected_result.clone(),
        deadline_text: r.deadline.clone(),
        status: TaskStatus::parse(&r.status)
            .ok_or_else(|| format!("task {}: unknown status {}", r.number, r.status))?,
    })
}

/// A unit's tasks (or all), in the plan's numbering order.
pub async fn tasks(store: &Store, unit: Option<&str>) -> Fallible<Vec<(TaskRow, Task)>> {
    let mut out = store
        .tasks(unit)
        .await
        .map_err(err)?
        .into_iter()
        .map(|r| task_of(&r).map(|t| (r, t)))
        .collect::<Fallible<Vec<_>>>()?;
    out.sort_by(|a, b| {
        (a.0.unit_code.as_str(), kyso_campaign::tasks::number_key(&a.0.number))
            .cmp(&(b.0.unit_code.as_str(), kyso_campaign::tasks::number_key(&b.0.number)))
    });
    Ok(out)
}

// ---- staff and segments ----

/// A unit's staff list and the holders among them on `date`, per agency, with the target date.
pub struct StaffProgress {
    pub unit: String,
    pub deadline: Option<String>,
    pub agencies: Vec<AgencyProgress>,
}

async fn staff_holders(store: &Store, unit: Option<&str>, date: Date) -> Fallible<HashSet<String>> {
    let certs = store.staff_certificates(unit).await.map_err(err)?;
    let events = certs.iter().map(event).collect::<Fallible<Vec<_>>>()?;
    Ok(staff::holders_on(&events, date).into_iter().map(|id| id.expose().to_owned()).collect())
}

fn members(rows: &[StaffRow]) -> Fallible<Vec<staff::StaffMember>> {
    rows.iter()
        .map(|r| {
            Ok(staff::StaffMember {
                id: kyso_campaign::population::CitizenId::parse(&r.id_number)?,
                full_name: r.full_name.clone(),
                agency: r.agency.clone(),
            })
        })
        .collect()
}

pub async fn staff_progress(store: &Store, date: Date) -> Fallible<Vec<StaffProgress>> {
    let rows = store.staff(None).await.map_err(err)?;
    let holders: HashSet<kyso_campaign::population::CitizenId> = staff_holders(store, None, date)
        .await?
        .iter()
        .filter_map(|id| kyso_campaign::population::CitizenId::parse(id).ok())
        .collect();
    let mut by_unit: BTreeMap<String, Vec<StaffRow>> = BTreeMap::new();
    for r in rows {
        by_unit.entry(r.unit_code.clone()).or_default().push(r);
    }
    by_unit
        .into_iter()
        .map(|(unit, rows)| {
            let deadline = rows.iter().filter_map(|r| r.deadline.clone()).max();
            Ok(StaffProgress { unit, deadline, agencies: staff::agency_progress(&members(&rows)?, &holders) })
        })
        .collect()
}

pub fn segment_plan(set: &SegmentSetRow, rows: &[kyso_store::reports::SegmentRow]) -> SegmentPlan {
    SegmentPlan {
        total: u64::try_from(set.total).unwrap_or(0),
        segments: rows
            .iter()
            .map(|r| Segment {
                key: r.key.clone(),
                name: r.name.clone(),
                target: u64::try_from(r.target).unwrap_or(0),
                membership: if r.membership == "everyone" { Membership::Everyone } else { Membership::Tagged },
            })
            .collect(),
    }
}

/// Each segment set with its progress on `date`: tagged segments from the unit's staff lists
/// mapped to them, the catch-all from the registers of the unit's communes with a plan.
pub async fn segment_progress(
    store: &Store,
    date: Date,
) -> Fallible<Vec<(SegmentSetRow, SegmentPlan, Vec<SegmentProgress>)>> {
    let mut out = Vec::new();
    for (set, rows) in store.segment_sets().await.map_err(err)? {
        let plan = segment_plan(&set, &rows);
        let staff_rows = store.staff(Some(&set.unit_code)).await.map_err(err)?;
        let holders = staff_holders(store, Some(&set.unit_code), date).await?;
        let listed: HashSet<&str> = staff_rows.iter().filter_map(|r| r.segment_key.as_deref()).collect();
        let tagged_ids: HashSet<&str> =
            staff_rows.iter().filter(|r| r.segment_key.is_some()).map(|r| r.id_number.as_str()).collect();
        let tagged: Vec<HashSet<&str>> = staff_rows
            .iter()
            .filter(|r| holders.contains(&r.id_number))
            .map(|r| r.segment_key.as_deref().into_iter().collect())
            .collect();
        let communes: Vec<String> = match level(&set.unit_code) {
            Level::Commune => vec![set.unit_code.clone()],
            _ => children(store, &set.unit_code).await?.into_iter().map(|(c, _)| c).collect(),
        };
        let (mut register_holders, mut register_tagged) = (None, 0);
        for c in communes {
            let (register, adoption) = load(store, &c, None).await?;
            if register.is_empty() {
                continue;
            }
            *register_holders.get_or_insert(0) += adoption.commune_holders_on(&c, date);
            register_tagged += register
                .residents()
                .iter()
                .filter(|r| tagged_ids.contains(r.id.expose()) && adoption.holds_valid(&r.id, date))
                .count() as u64;
        }
        let progress = staff::segment_progress(&plan, &listed, &tagged, register_holders, register_tagged);
        out.push((set, plan, progress));
    }
    Ok(out)
}
