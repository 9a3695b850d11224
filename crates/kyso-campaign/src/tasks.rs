//! The task register of a plan (Hiệp Lực's Appendix II): lead unit, coordinating units, expected
//! result, deadline and status, with overdue tasks flagged against today in Vietnam.
//!
//! Deadlines are kept as the plan writes them ("Tháng 5/2026", "Trước 31/7/2026", "Thường xuyên",
//! "Trước ngày 20 hàng tháng") and read into a [`Deadline`]: a last day, or a standing duty that is
//! never overdue as a task (recurring reports are tracked by [`crate::reports`]).

use std::fmt;

use time::{Date, Month};

use crate::csv::{fold, parse_date};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    NotStarted,
    InProgress,
    Done,
}

impl TaskStatus {
    pub fn name(self) -> &'static str {
        match self {
            TaskStatus::NotStarted => "not_started",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::Done => "done",
        }
    }

    pub fn vietnamese(self) -> &'static str {
        match self {
            TaskStatus::NotStarted => "Chưa thực hiện",
            TaskStatus::InProgress => "Đang thực hiện",
            TaskStatus::Done => "Hoàn thành",
        }
    }

    /// `not_started`, `in_progress`, `done`, or the Vietnamese words (with or without diacritics).
    pub fn parse(text: &str) -> Option<Self> {
        match fold(text).replace('-', "_").as_str() {
            "not_started" | "chua_thuc_hien" | "chua_bat_dau" => Some(TaskStatus::NotStarted),
            "in_progress" | "dang_thuc_hien" => Some(TaskStatus::InProgress),
            "done" | "hoan_thanh" | "da_hoan_thanh" => Some(TaskStatus::Done),
            _ => None,
        }
    }
}

/// When a task must be finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// Finished by the end of this day (Vietnam time).
    By(Date),
    /// A standing duty ("thường xuyên"): never overdue.
    Ongoing,
    /// A duty due every month before this day ("trước ngày 20 hàng tháng"): never overdue as a
    /// task; the monthly reports carry its timeliness.
    Monthly(u8),
}

impl Deadline {
    /// The last day to be on time, when there is one.
    pub fn last_day(&self) -> Option<Date> {
        match self {
            Deadline::By(d) => Some(*d),
            _ => None,
        }
    }
}

impl fmt::Display for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Deadline::By(d) => write!(f, "{d}"),
            Deadline::Ongoing => f.write_str("ongoing"),
            Deadline::Monthly(day) => write!(f, "monthly before day {day}"),
        }
    }
}

fn last_of_month(year: i32, month: u8) -> Option<Date> {
    let month = Month::try_from(month).ok()?;
    Date::from_calendar_date(year, month, month.length(year)).ok()
}

/// Reads a deadline as plans write it: a date ("31/7/2026", "2026-07-31") means by the end of
/// that day, with or without "trước"/"đến" (Hiệp Lực writes the same goal "Đến ngày 31/7/2026" in
/// its targets and "Trước 31/7/2026" in Appendix II); a month ("Tháng 5/2026", "Trong tháng
/// 5/2026") means by its last day. Text after the first date is a note ("… và tiếp tục duy trì
/// thường xuyên").
pub fn parse_deadline(text: &str) -> Result<Deadline, String> {
    let raw: Vec<&str> =
        text.split_whitespace().map(|t| t.trim_matches(|c: char| matches!(c, '.' | ',' | '(' | ')' | ';'))).collect();
    let words: Vec<String> = raw.iter().map(|t| fold(t)).collect();
    let has = |w: &str| words.iter().any(|x| x == w);
    // The first token that looks like a date (d/m/yyyy) or a month (m/yyyy).
    let first_date = raw.iter().find_map(|t| match t.matches(['/', '-']).count() {
        2 => Some(parse_date(t).map_err(|e| e.to_string())),
        1 => {
            let (m, y) = t.split_once(['/', '-'])?;
            let (m, y): (u8, i32) = (m.parse().ok()?, y.parse().ok()?);
            (y >= 1000).then(|| last_of_month(y, m).ok_or_else(|| format!("'{}' names no real month", text.trim())))
        }
        _ => None,
    });
    match first_date {
        Some(date) => Ok(Deadline::By(date?)),
        None if has("hang") && has("thang") => {
            let day = words
                .iter()
                .find_map(|t| t.parse::<u8>().ok().filter(|d| (1..=31).contains(d)))
                .ok_or_else(|| format!("'{}': a monthly deadline needs its day", text.trim()))?;
            Ok(Deadline::Monthly(day))
        }
        None if (has("thuong") && has("xuyen")) || has("ongoing") => Ok(Deadline::Ongoing),
        None => Err(format!(
            "cannot read the deadline '{}': write a date (31/7/2026), a month (5/2026) or 'thường xuyên'",
            text.trim()
        )),
    }
}

/// One task of a plan's register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// The plan's numbering ("4.1").
    pub number: String,
    pub name: String,
    /// Lead unit(s), as written; may be empty where the plan leaves the cell blank.
    pub lead: String,
    pub coordinating: String,
    pub expected_result: String,
    /// The deadline as the plan writes it; read with [`parse_deadline`].
    pub deadline_text: String,
    pub status: TaskStatus,
}

impl Task {
    pub fn deadline(&self) -> Result<Deadline, String> {
        parse_deadline(&self.deadline_text)
    }

    /// Past its last day and not done. `today` is the current date in Vietnam.
    pub fn overdue(&self, today: Date) -> bool {
        self.status != TaskStatus::Done && self.deadline().ok().and_then(|d| d.last_day()).is_some_and(|d| today > d)
    }
}

/// Counts for a register: by status, and overdue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskSummary {
    pub total: u64,
    pub not_started: u64,
    pub in_progress: u64,
    pub done: u64,
    pub overdue: u64,
}

pub fn summary<'a>(tasks: impl IntoIterator<Item = &'a Task>, today: Date) -> TaskSummary {
    let mut s = TaskSummary::default();
    for t in tasks {
        s.total += 1;
        match t.status {
            TaskStatus::NotStarted => s.not_started += 1,
            TaskStatus::InProgress => s.in_progress += 1,
            TaskStatus::Done => s.done += 1,
        }
        s.overdue += u64::from(t.overdue(today));
    }
    s
}

/// Orders task numbers as a plan does: 2 < 4 < 4.1 < 4.2 < 10.
pub fn number_key(number: &str) -> Vec<u32> {
    number.trim_end_matches('.').split('.').map(|p| p.trim().parse().unwrap_or(u32::MAX)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), day).unwrap()
    }

    #[test]
    fn reads_appendix_ii_deadlines() {
        assert_eq!(parse_deadline("Tháng 5/2026"), Ok(Deadline::By(d(2026, 5, 31))));
        assert_eq!(parse_deadline("Trong tháng 5/2026"), Ok(Deadline::By(d(2026, 5, 31))));
        assert_eq!(parse_deadline("Trước 31/7/2026"), Ok(Deadline::By(d(2026, 7, 31))));
        assert_eq!(parse_deadline("Trước ngày 15/6/2026"), Ok(Deadline::By(d(2026, 6, 15))));
        assert_eq!(
            parse_deadline("Đến 31/10/2026 và tiếp tục duy trì thường xuyên."),
            Ok(Deadline::By(d(2026, 10, 31)))
        );
        assert_eq!(parse_deadline("Thực hiện thường xuyên"), Ok(Deadline::Ongoing));
        assert_eq!(parse_deadline("Thường xuyên"), Ok(Deadline::Ongoing));
        assert_eq!(parse_deadline("Trước ngày 20 hàng tháng"), Ok(Deadline::Monthly(20)));
        assert_eq!(parse_deadline("2026-07-31"), Ok(Deadline::By(d(2026, 7, 31))));
        assert_eq!(parse_deadline("Thang 2/2027"), Ok(Deadline::By(d(2027, 2, 28))));
        assert!(parse_deadline("sớm nhất có thể").is_err());
        assert!(parse_deadline("Tháng 13/2026").is_err());
        assert!(parse_deadline("Trước 31/4/2026").is_err());
    }

    #[test]
    fn overdue_after_the_last_day_unless_done() {
        let task = |deadline: &str, status| Task {
            number: "5".into(),
            name: "n".into(),
            lead: String::new(),
            coordinating: String::new(),
            expected_result: String::new(),
            deadline_text: deadline.into(),
            status,
        };
        let before_31_jul = task("Trước 31/7/2026", TaskStatus::InProgress);
        assert!(!before_31_jul.overdue(d(2026, 7, 31)));
        assert!(before_31_jul.overdue(d(2026, 8, 1)));
        assert!(!task("Trước 31/7/2026", TaskStatus::Done).overdue(d(2026, 12, 1)));
        assert!(!task("Thường xuyên", TaskStatus::NotStarted).overdue(d(2030, 1, 1)));
        assert!(!task("Trước ngày 20 hàng tháng", TaskStatus::NotStarted).overdue(d(2030, 1, 1)));
        let may = task("Tháng 5/2026", TaskStatus::NotStarted);
        assert!(!may.overdue(d(2026, 5, 31)) && may.overdue(d(2026, 6, 1)));
        let tasks = [before_31_jul, may, task("Thường xuyên", TaskStatus::Done)];
        let s = summary(&tasks, d(2026, 8, 1));
        assert_eq!((s.total, s.not_started, s.in_progress, s.done, s.overdue), (3, 1, 1, 1, 2));
    }

    #[test]
    fn statuses_and_numbering() {
        assert_eq!(TaskStatus::parse("Đang thực hiện"), Some(TaskStatus::InProgress));
        assert_eq!(TaskStatus::parse("in-progress"), Some(TaskStatus::InProgress));
        assert_eq!(TaskStatus::parse("hoan thanh"), Some(TaskStatus::Done));
        assert_eq!(TaskStatus::parse("maybe"), None);
        let mut numbers = ["10.", "4.2", "2.", "4.", "4.10", "4.1"];
        numbers.sort_by_key(|n| number_key(n));
        assert_eq!(numbers, ["2.", "4.", "4.1", "4.2", "4.10", "10."]);
    }
}
