//! What units record beside their reports: the plan's task register, segment targets and staff
//! lists for 100 %-of-staff targets. Each is checked, then written with its audit event.

use crate::read::Fallible;
use crate::reports::{segment_plan, unit_name};
use anyhow::{anyhow, bail, Context, Result};
use kyso_campaign::deadlines::{Period, ReportingUnit};
use kyso_campaign::reports::ReviewState;
use kyso_campaign::reports::{Figures, Received, ReportStatus};
use kyso_campaign::staff::StaffMember;
use kyso_campaign::tasks::{parse_deadline, TaskStatus};
use kyso_campaign::ImportReport;
use kyso_store::campaign::Upserted;
use kyso_store::reports::{SegmentRow, SegmentSetRow, StaffRow, TaskRow};
use kyso_store::{AuditEvent, Store};

fn a(e: String) -> anyhow::Error {
    anyhow!(e)
}

/// A status by name (`not_started`, `in_progress`, `done`).
pub fn task_status(text: &str) -> Result<&'static str> {
    Ok(TaskStatus::parse(text)
        .with_context(|| format!("--status {text}: use not_started, in_progress or done"))?
        .name())
}

/// `4.1.` → `4.1`: the plan's numbering as stored.
fn task_number(number: &str) -> String {
    number.trim().trim_end_matches('.').to_owned()
}

/// A task as its unit writes it: `deadline` as the plan does (31/7/2026, "Trước 31/7/2026",
/// "Tháng 5/2026", "Thường xuyên"), `status` by name.
pub struct NewTask {
    pub unit: String,
    pub number: String,
    pub name: String,
    pub lead: String,
    pub coordinating: String,
    pub result: String,
    pub deadline: String,
    pub status: String,
}

/// Adds a task to a known unit's register.
pub async fn add_task(store: &Store, t: NewTask, actor: &str) -> Result<TaskRow> {
    parse_deadline(&t.deadline).map_err(|e| anyhow!("--deadline: {e}"))?;
    if unit_name(store, &t.unit).await.map_err(a)?.is_none() {
        bail!("unknown unit {}", t.unit);
    }
    let row = TaskRow {
        id: 0,
        unit_code: t.unit.clone(),
        number: task_number(&t.number),
        name: t.name,
        lead: t.lead,
        coordinating: t.coordinating,
        expected_result: t.result,
        deadline: t.deadline,
        status: task_status(&t.status)?.into(),
        note: String::new(),
        updated_at: 0,
    };
    let audit = AuditEvent::new(actor, "campaign.task.add", &t.unit, format!("task {}", row.number));
    Ok(store.add_task(&row, &audit).await?)
}

/// Changes a task's status, deadline or note (`None`: unchanged).
pub async fn update_task(
    store: &Store,
    unit: &str,
    number: &str,
    (status, deadline, note): (Option<&str>, Option<&str>, Option<&str>),
    actor: &str,
) -> Result<TaskRow> {
    let status = status.map(task_status).transpose()?;
    if let Some(d) = deadline {
        parse_deadline(d).map_err(|e| anyhow!("--deadline: {e}"))?;
    }
    let number = task_number(number);
    let audit = AuditEvent::new(
        actor,
        "campaign.task.update",
        unit,
        format!("task {number}: status {}", status.unwrap_or("unchanged")),
    );
    Ok(store.update_task(unit, &number, (status, deadline, note), &audit).await?)
}

/// A segment as written: `key=Name=target`, or `key=Name=target=everyone` for the catch-all.
pub fn segment_row(text: &str) -> Result<SegmentRow> {
    let parts: Vec<&str> = text.split('=').map(str::trim).collect();
    let (key, name, target, membership) = match parts.as_slice() {
        [k, n, t] => (k, n, t, "tagged"),
        [k, n, t, "everyone"] => (k, n, t, "everyone"),
        _ => bail!("--segment {text}: write key=Name=target or key=Name=target=everyone"),
    };
    let target: i64 =
        target.replace(['.', ',', ' '], "").parse().with_context(|| format!("--segment {text}: target"))?;
    if key.is_empty() || name.is_empty() {
        bail!("--segment {text}: key and name must not be empty");
    }
    Ok(SegmentRow { key: (*key).into(), name: (*name).into(), target, membership: membership.into() })
}

/// Replaces a plan's segment targets (in assignment order); returns what does not add up.
pub async fn set_segments(store: &Store, set: &SegmentSetRow, rows: &[SegmentRow], actor: &str) -> Result<Vec<String>> {
    let warnings: Vec<String> = segment_plan(set, rows).check().iter().map(|w| format!("{w:?}")).collect();
    let audit = AuditEvent::new(actor, "campaign.segments.set", &set.unit_code, format!("{} segments", rows.len()));
    store.set_segments(set, rows, &audit).await?;
    Ok(warnings)
}

/// Imports a staff list (CSV: ID number, full name, agency) of a known unit, everyone to hold a
/// certificate by `deadline` (ISO), counting toward `segment` when the plan has segments.
pub async fn import_staff(
    store: &Store,
    text: &str,
    unit: &str,
    deadline: &str,
    segment: Option<&str>,
    actor: &str,
) -> Result<(ImportReport<StaffMember>, Upserted)> {
    if unit_name(store, unit).await.map_err(a)?.is_none() {
        bail!("unknown unit {unit}");
    }
    let report = kyso_campaign::staff::parse_staff_csv(text);
    let rows: Vec<StaffRow> = report
        .items
        .iter()
        .map(|m| StaffRow {
            unit_code: unit.to_owned(),
            id_number: m.id.expose().into(),
            full_name: m.full_name.clone(),
            agency: m.agency.clone(),
            segment_key: segment.map(str::to_owned),
            deadline: Some(deadline.to_owned()),
        })
        .collect();
    let audit = AuditEvent::new(
        actor,
        "campaign.staff.import",
        unit,
        format!("{} staff, {} rejected", rows.len(), report.errors.len()),
    );
    let up = store.upsert_staff(&rows, &audit).await?;
    Ok((report, up))
}

/// The status a report received at `at` (Unix seconds) has in its period: on time or late.
pub fn submission_status(unit: &str, period: &Period, figures: &Figures, at: i64) -> Fallible<ReportStatus> {
    let at = crate::reports::instant(at);
    let mut rollup = kyso_campaign::reports::rollup(
        &crate::reports::rules(),
        period,
        &[ReportingUnit { code: unit.to_owned(), opened: period.start, closed: None }],
        &[Received { unit_code: unit.to_owned(), at, figures: figures.clone(), state: ReviewState::Submitted }],
        at,
    );
    if rollup.rows.is_empty() {
        return Err(format!("{unit}: no status for the period"));
    }
    Ok(rollup.rows.remove(0).status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_is_key_name_target_and_maybe_everyone() {
        let s = segment_row("cb = Cán bộ = 1.200").unwrap();
        assert_eq!(
            (s.key.as_str(), s.name.as_str(), s.target, s.membership.as_str()),
            ("cb", "Cán bộ", 1200, "tagged")
        );
        assert_eq!(segment_row("dan=Người dân=5000=everyone").unwrap().membership, "everyone");
        for bad in ["cb=Cán bộ", "cb=Cán bộ=nhiều", "=Cán bộ=3", "cb=Cán bộ=3=some"] {
            assert!(segment_row(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn task_numbers_and_statuses_are_stored_as_the_plan_numbers_them() {
        assert_eq!(task_number(" 4.1. "), "4.1");
        assert_eq!(task_status("in_progress").unwrap(), "in_progress");
        assert!(task_status("later").is_err());
    }
}
