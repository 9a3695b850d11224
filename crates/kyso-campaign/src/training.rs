//! Training records: sessions (day, unit, trainer, topic) and who attended, staff or
//! community-team volunteers, and the share of a unit's people trained — the plans' first-week
//! milestone ("100 % of commune staff and community digital-technology team members trained").
//!
//! A unit's people are its staff list and its community team's roster (one person on both counts
//! once); an attendee on neither is counted apart (`unlisted`), never in the share.

use std::collections::HashSet;

use time::Date;

use crate::plan::Percent;
use crate::population::CitizenId;

/// Who an attendee is to the campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttendeeKind {
    /// Commune (or province) staff: civil servants, public employees, the armed forces.
    Staff,
    /// A community digital-technology team member (tổ công nghệ số cộng đồng).
    Volunteer,
}

impl AttendeeKind {
    pub fn key(self) -> &'static str {
        match self {
            AttendeeKind::Staff => "staff",
            AttendeeKind::Volunteer => "volunteer",
        }
    }

    pub fn parse(s: &str) -> Option<AttendeeKind> {
        match s.trim() {
            "staff" | "can_bo" | "cán bộ" => Some(AttendeeKind::Staff),
            "volunteer" | "to_cns" | "tình nguyện viên" | "tổ công nghệ số" => Some(AttendeeKind::Volunteer),
            _ => None,
        }
    }

    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            AttendeeKind::Staff => ("Cán bộ", "Staff"),
            AttendeeKind::Volunteer => ("Tổ công nghệ số cộng đồng", "Community team"),
        }
    }
}

/// A session as recorded, before the store numbers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub held_on: Date,
    pub unit_code: String,
    pub trainer: String,
    pub topic: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("trainer: write who gave the training")]
    NoTrainer,
    #[error("topic: write what the training was about")]
    NoTopic,
    #[error("date: {0} is after today ({1}); record a session once it has been held")]
    Future(Date, Date),
}

/// A session is recorded once held, with a trainer and a topic.
pub fn check_session(s: &Session, today: Date) -> Result<(), SessionError> {
    if s.trainer.trim().is_empty() {
        return Err(SessionError::NoTrainer);
    }
    if s.topic.trim().is_empty() {
        return Err(SessionError::NoTopic);
    }
    if s.held_on > today {
        return Err(SessionError::Future(s.held_on, today));
    }
    Ok(())
}

/// A unit's people and how many of them attended a session (by `date`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrainedShare {
    /// Distinct people on the staff list or the community team's roster.
    pub people: u64,
    pub trained: u64,
    /// Of them, staff and volunteers (someone on both lists counts as staff).
    pub staff: u64,
    pub staff_trained: u64,
    pub volunteers: u64,
    pub volunteers_trained: u64,
    /// Attendees on neither list (named in no share; the lists may want them).
    pub unlisted: u64,
}

impl TrainedShare {
    pub fn share(&self) -> Option<Percent> {
        Percent::share(self.trained, self.people)
    }
}

/// The share trained: `staff` and `team` are the unit's lists, `attended` everyone who attended
/// one of the unit's sessions.
pub fn trained_share(staff: &[CitizenId], team: &[CitizenId], attended: &HashSet<CitizenId>) -> TrainedShare {
    let staff_set: HashSet<&CitizenId> = staff.iter().collect();
    let team_set: HashSet<&CitizenId> = team.iter().filter(|id| !staff_set.contains(id)).collect();
    let trained = |set: &HashSet<&CitizenId>| set.iter().filter(|id| attended.contains(**id)).count() as u64;
    let (staff_trained, volunteers_trained) = (trained(&staff_set), trained(&team_set));
    TrainedShare {
        people: (staff_set.len() + team_set.len()) as u64,
        trained: staff_trained + volunteers_trained,
        staff: staff_set.len() as u64,
        staff_trained,
        volunteers: team_set.len() as u64,
        volunteers_trained,
        unlisted: attended.iter().filter(|id| !staff_set.contains(id) && !team_set.contains(id)).count() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn id(n: u32) -> CitizenId {
        CitizenId::parse(&format!("0191950{n:05}")).unwrap()
    }

    #[test]
    fn people_on_both_lists_count_once_and_strangers_apart() {
        let staff = [id(1), id(2), id(3)];
        let team = [id(3), id(4), id(5), id(6)];
        let attended: HashSet<CitizenId> = [id(1), id(3), id(4), id(9)].into_iter().collect();
        let s = trained_share(&staff, &team, &attended);
        assert_eq!((s.people, s.trained, s.unlisted), (6, 3, 1));
        assert_eq!((s.staff, s.staff_trained, s.volunteers, s.volunteers_trained), (3, 2, 3, 1));
        assert_eq!(s.share().map(Percent::hundredths), Some(5000));
        assert_eq!(trained_share(&[], &[], &attended).share(), None);
    }

    #[test]
    fn a_session_needs_a_trainer_a_topic_and_to_have_been_held() {
        let s = Session {
            held_on: date!(2026 - 07 - 20),
            unit_code: "01960".into(),
            trainer: "VNPT Thái Nguyên".into(),
            topic: "Hướng dẫn kích hoạt chữ ký số".into(),
        };
        assert_eq!(check_session(&s, date!(2026 - 07 - 20)), Ok(()));
        assert!(matches!(check_session(&s, date!(2026 - 07 - 19)), Err(SessionError::Future(..))));
        let none = Session { trainer: " ".into(), ..s.clone() };
        assert_eq!(check_session(&none, date!(2026 - 08 - 01)), Err(SessionError::NoTrainer));
        assert_eq!(AttendeeKind::parse("volunteer"), Some(AttendeeKind::Volunteer));
        assert_eq!(AttendeeKind::parse("x"), None);
    }
}
