//! Report approval, shared by the report pages and `kyso campaign report approve|return`: the
//! level above a unit approves its latest submission for a period or returns it with a reason
//! (one conditional write in the store, audited); reporting agencies are registered here.
//! Who may decide is the caller's `kyso_access::decide` (`Action::ApproveReport` on the unit's
//! area); this module holds the rules in between.

use crate::read::Fallible;
use crate::reports::{level, submissions, Level};
use kyso_campaign::approval::{agency_parts, check_decision, Decision, ReviewState, AGENCY_KINDS};
use kyso_campaign::deadlines::Period;
use kyso_campaign::reports::label;
use kyso_store::approval::{AgencyRow, ReviewRow};
use kyso_store::{AuditEvent, Store, StoreError};

/// Why a decision was not recorded: a sentence for the officer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Nothing submitted for the period.
    NothingSubmitted,
    /// Already approved or returned, or replaced by a newer submission (another officer was faster).
    AlreadyDecided(String),
    Invalid(String),
    Failed(String),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::NothingSubmitted => f.write_str("nothing was submitted for this period"),
            Refused::AlreadyDecided(s) | Refused::Invalid(s) | Refused::Failed(s) => f.write_str(s),
        }
    }
}

/// The latest submission of a unit for a period and its review.
pub async fn latest(store: &Store, unit: &str, period: &Period) -> Fallible<Option<(i64, ReviewState, ReviewRow)>> {
    let subs = submissions(store, unit, period).await?;
    let Some((row, _)) = subs.last() else { return Ok(None) };
    let reviews =
        store.period_reviews(period.frequency.name(), &period.start.to_string()).await.map_err(|e| e.to_string())?;
    let review = reviews.into_iter().find(|r| r.report_id == row.id).ok_or("the submission has no review row")?;
    let state = ReviewState::parse(&review.state).ok_or_else(|| format!("unknown review state {}", review.state))?;
    Ok(Some((row.id, state, review)))
}

/// Every review of a unit's submissions for a period, oldest first (returns with their reasons).
pub async fn history(store: &Store, unit: &str, period: &Period) -> Fallible<Vec<ReviewRow>> {
    let reviews =
        store.period_reviews(period.frequency.name(), &period.start.to_string()).await.map_err(|e| e.to_string())?;
    Ok(reviews.into_iter().filter(|r| r.unit_code == unit).collect())
}

/// Approves or returns `unit`'s latest submission for `period` as `actor`.
pub async fn decide(
    store: &Store,
    unit: &str,
    period: &Period,
    decision: &Decision,
    actor: &str,
) -> Result<ReviewRow, Refused> {
    check_decision(decision).map_err(|e| Refused::Invalid(e.to_string()))?;
    let (id, _, _) = latest(store, unit, period).await.map_err(Refused::Failed)?.ok_or(Refused::NothingSubmitted)?;
    let state = decision.outcome();
    let detail = match decision {
        Decision::Approve => format!("{} approved", label(period, true)),
        Decision::Return { reason } => {
            format!("{} returned: {}", label(period, true), reason.trim().chars().take(200).collect::<String>())
        }
    };
    let action = match state {
        ReviewState::Approved => "campaign.report.approve",
        _ => "campaign.report.return",
    };
    let audit = AuditEvent::new(actor, action, unit, detail);
    store.review_report(id, state.key(), actor, decision.reason().trim(), &audit).await.map_err(|e| match e {
        StoreError::Conflict(s) => Refused::AlreadyDecided(s),
        StoreError::TooLong { .. } => Refused::Invalid(e.to_string()),
        other => Refused::Failed(other.to_string()),
    })
}

/// Registers (or renames) an agency reporting beside a commune or a province.
pub async fn add_agency(store: &Store, code: &str, name: &str, kind: &str, actor: &str) -> Fallible<AgencyRow> {
    let code = code.trim();
    let (unit, _) = agency_parts(code).ok_or_else(|| {
        format!("code: `{code}` must be the unit's code, a dash and the agency's own (e.g. 01960-CA)")
    })?;
    if !AGENCY_KINDS.iter().any(|(k, _, _)| *k == kind) {
        return Err(format!("kind: one of {}", AGENCY_KINDS.map(|k| k.0).join(", ")));
    }
    let known = match level(unit) {
        Level::Commune => store.commune(unit).await.map_err(|e| e.to_string())?.is_some(),
        _ => store.province_name(unit).await.map_err(|e| e.to_string())?.is_some(),
    };
    if !known {
        return Err(format!("code: unknown unit {unit}"));
    }
    if name.trim().is_empty() {
        return Err("name: empty".into());
    }
    let row = AgencyRow { code: code.into(), unit_code: unit.into(), name: name.trim().into(), kind: kind.into() };
    let audit = AuditEvent::new(actor, "campaign.agency.upsert", code, format!("{} ({kind})", row.name));
    store.upsert_agency(&row, &audit).await.map_err(|e| e.to_string())?;
    Ok(row)
}
