//! Report approval after DHIS2's data approval: the level above a reporting unit (the province
//! over a commune and the agencies reporting beside it, the ministry over a province) approves a
//! submitted report or returns it with a reason. A returned report is corrected and submitted
//! again; an approved one is frozen: no later submission for that unit and period.
//!
//! Reporting units are administrative units and agencies. An agency's code is the code of the
//! unit it reports beside, a dash and its own short code (`01960-CA`: Hiệp Lực's commune police),
//! so its place in the hierarchy needs no lookup.
//!
//! The store makes each transition one conditional write (`… WHERE state = 'submitted'`); these
//! are the rules it is held to.

/// Where a submission stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReviewState {
    /// Waiting for the level above.
    Submitted,
    Approved,
    /// Sent back with a reason; the unit corrects it and submits again.
    Returned,
}

impl ReviewState {
    pub fn key(self) -> &'static str {
        match self {
            ReviewState::Submitted => "submitted",
            ReviewState::Approved => "approved",
            ReviewState::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewState> {
        [ReviewState::Submitted, ReviewState::Approved, ReviewState::Returned].into_iter().find(|r| r.key() == s)
    }

    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            ReviewState::Submitted => ("Chờ phê duyệt", "Awaiting approval"),
            ReviewState::Approved => ("Đã phê duyệt", "Approved"),
            ReviewState::Returned => ("Trả lại", "Returned"),
        }
    }
}

/// What the level above decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Return { reason: String },
}

impl Decision {
    pub fn outcome(&self) -> ReviewState {
        match self {
            Decision::Approve => ReviewState::Approved,
            Decision::Return { .. } => ReviewState::Returned,
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            Decision::Approve => "",
            Decision::Return { reason } => reason,
        }
    }
}

/// The longest reason for returning a report, in characters.
pub const MAX_REASON_CHARS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("reason: say why the report is returned (what to correct)")]
    NoReason,
    #[error("reason: at most {MAX_REASON_CHARS} characters")]
    LongReason,
    #[error("the report was {} already; only a submitted report is approved or returned", .0.key())]
    NotSubmitted(ReviewState),
    #[error("the report for this period was approved; approved figures do not change")]
    Frozen,
}

/// A decision as typed: a return needs a reason.
pub fn check_decision(d: &Decision) -> Result<(), ReviewError> {
    match d {
        Decision::Approve => Ok(()),
        Decision::Return { reason } if reason.trim().is_empty() => Err(ReviewError::NoReason),
        Decision::Return { reason } if reason.chars().count() > MAX_REASON_CHARS => Err(ReviewError::LongReason),
        Decision::Return { .. } => Ok(()),
    }
}

/// The state after `decision` on a submission in `state`.
pub fn review(state: ReviewState, decision: &Decision) -> Result<ReviewState, ReviewError> {
    check_decision(decision)?;
    match state {
        ReviewState::Submitted => Ok(decision.outcome()),
        other => Err(ReviewError::NotSubmitted(other)),
    }
}

/// May a unit submit (again) for a period whose submissions are in `states`? Not once one was
/// approved.
pub fn may_submit(states: impl IntoIterator<Item = ReviewState>) -> Result<(), ReviewError> {
    if states.into_iter().any(|s| s == ReviewState::Approved) {
        return Err(ReviewError::Frozen);
    }
    Ok(())
}

/// The kinds of agency that report beside administrative units.
pub const AGENCY_KINDS: [(&str, &str, &str); 4] = [
    ("police", "Công an", "Police"),
    ("telecom", "Doanh nghiệp viễn thông", "Telecom provider"),
    (
        "mass_org",
        "Tổ chức chính trị - xã hội (Mặt trận Tổ quốc, Đoàn, Hội)",
        "Mass organisation (Fatherland Front, unions)",
    ),
    ("other", "Cơ quan khác", "Other agency"),
];

/// An agency's code split into the unit it reports beside and its own part: `01960-CA` →
/// (`01960`, `CA`). `None` for an administrative unit's code or a malformed one.
pub fn agency_parts(code: &str) -> Option<(&str, &str)> {
    let (unit, own) = code.split_once('-')?;
    let unit_ok = matches!(unit.len(), 2 | 5) && unit.bytes().all(|b| b.is_ascii_digit());
    let own_ok = (1..=10).contains(&own.len()) && own.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    (unit_ok && own_ok).then_some((unit, own))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_submitted_report_is_approved_or_returned() {
        let ret = Decision::Return { reason: "Số liệu lượt thăm chưa khớp sổ theo dõi".into() };
        assert_eq!(review(ReviewState::Submitted, &Decision::Approve), Ok(ReviewState::Approved));
        assert_eq!(review(ReviewState::Submitted, &ret), Ok(ReviewState::Returned));
        assert_eq!(
            review(ReviewState::Approved, &ret),
            Err(ReviewError::NotSubmitted(ReviewState::Approved)),
            "an approved report cannot be returned"
        );
        assert_eq!(
            review(ReviewState::Returned, &Decision::Approve),
            Err(ReviewError::NotSubmitted(ReviewState::Returned)),
            "a returned report is resubmitted, then approved"
        );
        assert_eq!(
            review(ReviewState::Submitted, &Decision::Return { reason: "  ".into() }),
            Err(ReviewError::NoReason)
        );
        let long = Decision::Return { reason: "x".repeat(MAX_REASON_CHARS + 1) };
        assert_eq!(check_decision(&long), Err(ReviewError::LongReason));
    }

    #[test]
    fn an_approved_period_is_frozen_a_returned_one_is_not() {
        assert_eq!(may_submit([]), Ok(()));
        assert_eq!(may_submit([ReviewState::Returned, ReviewState::Submitted]), Ok(()));
        assert_eq!(may_submit([ReviewState::Returned, ReviewState::Approved]), Err(ReviewError::Frozen));
        assert_eq!(ReviewState::parse("returned"), Some(ReviewState::Returned));
    }

    #[test]
    fn agency_codes_name_the_unit_they_report_beside() {
        assert_eq!(agency_parts("01960-CA"), Some(("01960", "CA")));
        assert_eq!(agency_parts("19-MTTQ"), Some(("19", "MTTQ")));
        assert_eq!(agency_parts("01960"), None);
        assert_eq!(agency_parts("01960-ca"), None);
        assert_eq!(agency_parts("0196-CA"), None);
        assert_eq!(agency_parts("01960-"), None);
    }
}
