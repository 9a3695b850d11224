//! Training records, shared by `/campaign/training`, the report figures and `kyso campaign
//! training`: record a session with who attended (each attendee's ID number checked, bad rows
//! named), import a community team's roster, and the share of a unit's staff and team members
//! trained.

use crate::read::Fallible;
use kyso_campaign::population::CitizenId;
use kyso_campaign::training::{check_session, trained_share, AttendeeKind, Session, TrainedShare};
use kyso_store::training::{AttendeeRow, TeamMemberRow, TrainingSessionRow};
use kyso_store::{AuditEvent, Store};
use std::collections::HashSet;

fn err(e: kyso_store::StoreError) -> String {
    e.to_string()
}

/// One attendee as given: ID number, name, `staff` or `volunteer`.
pub struct Attendee<'a> {
    pub id_number: &'a str,
    pub full_name: &'a str,
    pub kind: &'a str,
}

pub struct NewSession<'a> {
    /// A commune (5 digits) or province (2 digits).
    pub unit: &'a str,
    /// `YYYY-MM-DD` or `dd/mm/yyyy`.
    pub held_on: &'a str,
    pub trainer: &'a str,
    pub topic: &'a str,
}

/// Records a session and its attendance with an audit row (ID numbers masked in it). Each bad
/// attendee is named by its position; nothing is stored then.
pub async fn record_session(
    store: &Store,
    s: &NewSession<'_>,
    attendees: &[Attendee<'_>],
    actor: &str,
) -> Fallible<TrainingSessionRow> {
    crate::hotline::unit_place(store, s.unit).await?;
    let held_on = kyso_campaign::csv::parse_date(s.held_on).map_err(|e| format!("date: {e}"))?;
    let session = Session {
        held_on,
        unit_code: s.unit.trim().into(),
        trainer: s.trainer.trim().into(),
        topic: s.topic.trim().into(),
    };
    check_session(&session, crate::reports::today()?).map_err(|e| e.to_string())?;
    if attendees.is_empty() {
        return Err("attendees: list who attended".into());
    }
    let mut rows = Vec::with_capacity(attendees.len());
    let mut seen = HashSet::new();
    for (i, a) in attendees.iter().enumerate() {
        let at = i + 1;
        let id = CitizenId::parse(a.id_number).map_err(|e| format!("attendee {at}: id_number: {e}"))?;
        let kind = AttendeeKind::parse(a.kind).ok_or_else(|| format!("attendee {at}: kind: staff or volunteer"))?;
        if a.full_name.trim().is_empty() {
            return Err(format!("attendee {at}: full_name: empty"));
        }
        if !seen.insert(id.clone()) {
            return Err(format!("attendee {at}: {} is listed twice", id.masked()));
        }
        rows.push(AttendeeRow {
            id_number: id.expose().into(),
            full_name: a.full_name.trim().into(),
            kind: kind.key().into(),
        });
    }
    let row = TrainingSessionRow {
        id: 0,
        unit_code: session.unit_code.clone(),
        held_on: held_on.to_string(),
        trainer: session.trainer.clone(),
        topic: session.topic.clone(),
        recorded_by: actor.into(),
        recorded_at: 0,
    };
    let audit = AuditEvent::new(
        actor,
        "campaign.training.record",
        &session.unit_code,
        format!("{held_on}: {} ({} attendees)", session.topic.chars().take(80).collect::<String>(), rows.len()),
    );
    store.add_training_session(&row, &rows, &audit).await.map_err(err)
}

/// Imports a community team's roster (the staff-list columns: ID number, name, and the team in
/// the agency column). Bad rows are named and skipped; the rest are stored.
pub async fn import_team(store: &Store, unit: &str, csv: &str, actor: &str) -> Fallible<(u64, Vec<String>)> {
    crate::hotline::unit_place(store, unit).await?;
    let report = kyso_campaign::staff::parse_staff_csv(csv);
    let issues = report.errors.iter().map(|i| i.to_string()).collect();
    let rows: Vec<TeamMemberRow> = report
        .items
        .iter()
        .map(|m| TeamMemberRow {
            unit_code: unit.trim().into(),
            id_number: m.id.expose().into(),
            full_name: m.full_name.clone(),
            team: m.agency.clone(),
        })
        .collect();
    let audit = AuditEvent::new(actor, "campaign.team.import", unit.trim(), format!("{} members", rows.len()));
    store.upsert_team_members(&rows, &audit).await.map_err(err)?;
    Ok((rows.len() as u64, issues))
}

fn ids(list: impl IntoIterator<Item = String>) -> Vec<CitizenId> {
    list.into_iter().filter_map(|s| CitizenId::parse(&s).ok()).collect()
}

/// The share of a unit's staff and community-team members trained by `date` (ISO).
pub async fn unit_share(store: &Store, unit: &str, date: &str) -> Fallible<TrainedShare> {
    let staff = ids(store.staff(Some(unit)).await.map_err(err)?.into_iter().map(|r| r.id_number));
    let team = ids(store.team_members(Some(unit)).await.map_err(err)?.into_iter().map(|r| r.id_number));
    let attended: HashSet<CitizenId> = ids(store.trained_ids(unit, date).await.map_err(err)?).into_iter().collect();
    Ok(trained_share(&staff, &team, &attended))
}

/// A unit's people (staff list, then team roster), in a fixed order: what the attendance form
/// lists (masked), by position. (ID number, name, kind)
pub async fn roster(store: &Store, unit: &str) -> Fallible<Vec<(CitizenId, String, AttendeeKind)>> {
    let mut out: Vec<(CitizenId, String, AttendeeKind)> = Vec::new();
    let mut seen = HashSet::new();
    for r in store.staff(Some(unit)).await.map_err(err)? {
        if let Ok(id) = CitizenId::parse(&r.id_number) {
            if seen.insert(id.clone()) {
                out.push((id, r.full_name, AttendeeKind::Staff));
            }
        }
    }
    for r in store.team_members(Some(unit)).await.map_err(err)? {
        if let Ok(id) = CitizenId::parse(&r.id_number) {
            if seen.insert(id.clone()) {
                out.push((id, r.full_name, AttendeeKind::Volunteer));
            }
        }
    }
    Ok(out)
}

/// The units with a staff list, a team roster or a session, within a province (or all: `None`),
/// each with its share trained by `date`.
pub async fn shares(store: &Store, province: Option<&str>, date: &str) -> Fallible<Vec<(String, TrainedShare)>> {
    let mut units: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    units.extend(store.staff(None).await.map_err(err)?.into_iter().map(|r| r.unit_code));
    units.extend(store.team_members(None).await.map_err(err)?.into_iter().map(|r| r.unit_code));
    units.extend(store.training_sessions(None).await.map_err(err)?.into_iter().map(|(s, _)| s.unit_code));
    let mut out = Vec::new();
    for u in units {
        if let Some(p) = province {
            let in_province = if u.len() == 5 {
                store.commune(&u).await.map_err(err)?.is_some_and(|c| c.province_code == p)
            } else {
                u == p
            };
            if !in_province {
                continue;
            }
        }
        let share = unit_share(store, &u, date).await?;
        out.push((u, share));
    }
    Ok(out)
}
