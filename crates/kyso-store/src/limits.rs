//! Length limits of every text field the store writes, in one place. The write paths check them
//! before any SQL runs ([`check_writes`] at the start of [`crate::Store::commit`], and the
//! campaign and report writers on their rows), and refuse with [`StoreError::TooLong`] naming the
//! field and the limit. The web shell shows the same limits as a 400 in the page's language.
//!
//! Limits count characters (Unicode scalar values), not bytes: a Vietnamese name of 128 letters is
//! 128 whatever its encoding. Binary columns (keys, DER, hashes) are sized by their producers.

use crate::accounts::{EidAccountRow, StaffAccountRow, SupportPointRow, SupportSessionRow};
use crate::campaign::{CommuneRow, HamletRow, PlanRow, ReportRow, ResidentRow, VisitRow};
use crate::reports::{SegmentRow, SegmentSetRow, StaffRow, TaskRow};
use crate::{AuditEvent, Result, StoreError, Write};

/// A field and its longest allowed value, in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub field: &'static str,
    pub max_chars: usize,
}

const fn limit(field: &'static str, max_chars: usize) -> Limit {
    Limit { field, max_chars }
}

impl Limit {
    /// `Ok` when `value` has at most `max_chars` characters.
    pub fn check(self, value: &str) -> Result<()> {
        // Bytes bound characters from above: most values need no count at all.
        if value.len() <= self.max_chars || value.chars().count() <= self.max_chars {
            Ok(())
        } else {
            Err(StoreError::TooLong { field: self.field, max: self.max_chars })
        }
    }

    /// The same limit under the name a form gives the field.
    pub const fn named(self, field: &'static str) -> Limit {
        Limit { field, max_chars: self.max_chars }
    }

    fn opt(self, value: &Option<String>) -> Result<()> {
        value.as_deref().map_or(Ok(()), |v| self.check(v))
    }
}

// Identifiers and codes.
pub const ID_NUMBER: Limit = limit("id_number", 32);
pub const UNIT_CODE: Limit = limit("unit_code", 32);
pub const HAMLET_CODE: Limit = limit("hamlet", 32);
pub const POINT_ID: Limit = limit("point_id", 64);
pub const USERNAME: Limit = limit("username", 64);
/// Enumerations stored as words (role, kind, status, outcome, frequency …) and ISO dates.
pub const WORD: Limit = limit("value", 64);
// People and places.
pub const FULL_NAME: Limit = limit("full_name", kyso_campaign::population::MAX_FULL_NAME_CHARS);
pub const DISPLAY_NAME: Limit = limit("display_name", 128);
pub const UNIT_NAME: Limit = limit("name", 128);
pub const PROVINCE: Limit = limit("province", 128);
pub const COMMUNE: Limit = limit("commune", 128);
pub const HOUSEHOLD: Limit = limit("household", kyso_campaign::population::MAX_HOUSEHOLD_CHARS);
pub const ADDRESS: Limit = limit("address", 256);
pub const OPENING_HOURS: Limit = limit("opening_hours", 128);
pub const PHONE: Limit = limit("phone", 32);
pub const AGENCY: Limit = limit("agency", 200);
pub const PROVIDER: Limit = limit("provider", 64);
pub const TEAM: Limit = limit("team", 128);
pub const OFFICER: Limit = limit("officer", 200);
pub const PLACE: Limit = limit("place", 200);
pub const METHOD: Limit = limit("method", 64);
pub const STEPS: Limit = limit("steps", 256);
pub const SOURCE: Limit = limit("source", 512);
pub const PERIOD: Limit = limit("period", 64);
// Free text written by officers.
pub const SUBMITTED_BY: Limit = limit("by", 200);
pub const REPORT_TEXT: Limit = limit("difficulties", 4000);
pub const PROPOSALS: Limit = limit("proposals", 4000);
pub const TASK_TEXT: Limit = limit("task", 2000);
pub const NOTE: Limit = limit("note", 2000);
pub const SETTING: Limit = limit("setting", 64 * 1024);
// The audit row (its detail is written by kyso, from values checked above).
pub const AUDIT_ACTOR: Limit = limit("actor", 200);
pub const AUDIT_ACTION: Limit = limit("action", 64);
pub const AUDIT_SUBJECT: Limit = limit("subject", 256);
pub const AUDIT_DETAIL: Limit = limit("detail", 16 * 1024);
pub const SUBJECT_CN: Limit = limit("subject", 1024);

pub(crate) fn all(fields: &[(Limit, &str)]) -> Result<()> {
    fields.iter().try_for_each(|(l, v)| l.check(v))
}

pub fn audit(a: &AuditEvent) -> Result<()> {
    all(&[(AUDIT_ACTOR, &a.actor), (AUDIT_ACTION, &a.action), (AUDIT_SUBJECT, &a.subject), (AUDIT_DETAIL, &a.detail)])
}

pub fn eid_account(a: &EidAccountRow) -> Result<()> {
    all(&[(ID_NUMBER, &a.id_number), (PHONE, &a.phone), (WORD, &a.activation)])?;
    METHOD.opt(&a.verified_method)?;
    OFFICER.opt(&a.verified_by)?;
    PLACE.opt(&a.verified_place)
}

pub fn staff_account(s: &StaffAccountRow) -> Result<()> {
    all(&[
        (USERNAME, &s.username),
        (DISPLAY_NAME, &s.display_name),
        (WORD, &s.role),
        (WORD, &s.scope_kind),
        (UNIT_CODE, &s.scope_code),
    ])?;
    POINT_ID.opt(&s.point_id)
}

pub fn support_point(p: &SupportPointRow) -> Result<()> {
    all(&[
        (POINT_ID, &p.id),
        (UNIT_CODE, &p.commune_code),
        (UNIT_NAME, &p.name),
        (WORD, &p.kind),
        (ADDRESS, &p.address),
        (WORD, &p.opening_days),
        (OPENING_HOURS, &p.opening_hours),
    ])
}

pub fn support_session(s: &SupportSessionRow) -> Result<()> {
    all(&[
        (POINT_ID, &s.point_id),
        (USERNAME, &s.staff),
        (ID_NUMBER, &s.id_masked),
        (STEPS, &s.steps),
        (WORD, &s.outcome),
        (WORD, &s.day),
    ])
}

/// Every text of a [`Store::commit`](crate::Store::commit) batch, before the transaction opens.
pub fn check_writes(writes: &[Write]) -> Result<()> {
    for w in writes {
        match w {
            Write::Citizen(c) => {
                all(&[(ID_NUMBER, &c.id_number), (FULL_NAME, &c.full_name), (PROVINCE, &c.province)])?;
                COMMUNE.opt(&c.commune)?;
            }
            Write::Certificate(c) => {
                ID_NUMBER.opt(&c.id_number)?;
                SUBJECT_CN.check(&c.subject_cn)?;
            }
            Write::Setting { name, value } => all(&[(WORD, name), (SETTING, value)])?,
            Write::Audit(a) => audit(a)?,
            Write::RequireEidLevel { id_number, .. } | Write::EidActivation { id_number, .. } => {
                ID_NUMBER.check(id_number)?
            }
            Write::AccessToken { id_number, .. } => ID_NUMBER.check(id_number)?,
            Write::EidAccount(a) => eid_account(a)?,
            Write::EidVerified { id_number, activation, method, officer, place, .. } => all(&[
                (ID_NUMBER, id_number),
                (WORD, activation),
                (METHOD, method),
                (OFFICER, officer),
                (PLACE, place),
            ])?,
            Write::Staff(s) => staff_account(s)?,
            Write::SupportPoint(p) => support_point(p)?,
            Write::SupportSession(s) => support_session(s)?,
            _ => {}
        }
    }
    Ok(())
}

pub fn commune(c: &CommuneRow) -> Result<()> {
    all(&[
        (UNIT_CODE, &c.code),
        (UNIT_CODE, &c.province_code),
        (PROVINCE, &c.province_name),
        (UNIT_NAME, &c.name),
        (WORD, &c.kind),
    ])
}

pub fn hamlet(h: &HamletRow) -> Result<()> {
    all(&[(UNIT_CODE, &h.commune_code), (HAMLET_CODE, &h.code), (UNIT_NAME, &h.name)])
}

pub fn resident(r: &ResidentRow) -> Result<()> {
    all(&[
        (ID_NUMBER, &r.id_number),
        (WORD, &r.date_of_birth),
        (WORD, &r.sex),
        (UNIT_CODE, &r.commune_code),
        (HAMLET_CODE, &r.hamlet_code),
    ])?;
    FULL_NAME.opt(&r.full_name)?;
    HOUSEHOLD.opt(&r.household)
}

pub fn plan(p: &PlanRow) -> Result<()> {
    all(&[
        (UNIT_CODE, &p.unit_code),
        (PERIOD, &p.period),
        (WORD, &p.reference_date),
        (WORD, &p.target_kind),
        (WORD, &p.baseline_date),
        (SOURCE, &p.baseline_source),
        (WORD, &p.deadline),
    ])
}

pub fn visit(v: &VisitRow) -> Result<()> {
    all(&[
        (UNIT_CODE, &v.commune_code),
        (HAMLET_CODE, &v.hamlet_code),
        (ID_NUMBER, &v.id_masked),
        (WORD, &v.outcome),
        (TEAM, &v.team),
        (WORD, &v.visit_date),
    ])?;
    PROVIDER.opt(&v.provider)
}

pub fn report(r: &ReportRow) -> Result<()> {
    all(&[
        (UNIT_CODE, &r.unit_code),
        (WORD, &r.frequency),
        (WORD, &r.period_start),
        (SUBMITTED_BY, &r.submitted_by),
        (REPORT_TEXT, &r.difficulties),
        (PROPOSALS, &r.proposals),
    ])
}

pub fn task(t: &TaskRow) -> Result<()> {
    all(&[
        (UNIT_CODE, &t.unit_code),
        (WORD, &t.number),
        (TASK_TEXT, &t.name),
        (TASK_TEXT, &t.lead),
        (TASK_TEXT, &t.coordinating),
        (TASK_TEXT, &t.expected_result),
        (SOURCE, &t.deadline),
        (WORD, &t.status),
        (NOTE, &t.note),
    ])
}

pub fn segments(set: &SegmentSetRow, segments: &[SegmentRow]) -> Result<()> {
    all(&[(UNIT_CODE, &set.unit_code), (PERIOD, &set.period), (SOURCE, &set.source)])?;
    segments.iter().try_for_each(|s| all(&[(WORD, &s.key), (UNIT_NAME, &s.name), (WORD, &s.membership)]))
}

pub fn staff(s: &StaffRow) -> Result<()> {
    all(&[(UNIT_CODE, &s.unit_code), (ID_NUMBER, &s.id_number), (FULL_NAME, &s.full_name), (AGENCY, &s.agency)])?;
    WORD.opt(&s.segment_key)?;
    WORD.opt(&s.deadline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_characters_not_bytes() {
        assert!(FULL_NAME.check(&"Ễ".repeat(128)).is_ok());
        let e = FULL_NAME.check(&"Ễ".repeat(129)).unwrap_err();
        assert_eq!(e.to_string(), "full_name: at most 128 characters");
        assert!(FULL_NAME.check(&"a".repeat(1 << 20)).is_err());
    }
}
