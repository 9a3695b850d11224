//! Notifications' rules: the channels, recipients (checked, masked), quiet hours (21:00–07:00
//! Vietnam time), retries with backoff, the Vietnamese (and English) templates, and the days the
//! reminders go out (renewals 30 and 7 days ahead, reports the day before Thursday 10:00 and on
//! the 18th for the 20th, overdue tasks). The store's outbox and the tracker's delivery apply them.

use time::{Date, Duration, OffsetDateTime, Time};

use crate::deadlines::{DeadlineRules, Frequency, Period, VIETNAM};
use crate::reports::{label, reporting_period};

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    Email,
    Sms,
    Zalo,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Email, Channel::Sms, Channel::Zalo];

    pub fn name(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Zalo => "zalo",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "email" | "e-mail" => Some(Channel::Email),
            "sms" => Some(Channel::Sms),
            "zalo" => Some(Channel::Zalo),
            _ => None,
        }
    }

    /// Whether the address is a phone number (SMS and Zalo reach a mobile number).
    pub fn by_phone(self) -> bool {
        !matches!(self, Channel::Email)
    }

    /// Checks and normalises an address for this channel: a Vietnamese mobile number
    /// (`0xxxxxxxxx`, `+84…` accepted) or an e-mail address.
    pub fn address(self, text: &str) -> Result<String, String> {
        if self.by_phone() {
            normalize_phone(text)
        } else {
            normalize_email(text)
        }
    }
}

/// A Vietnamese mobile number as ten digits starting with 0 (`+84`/`84` prefixes and spaces,
/// dots or dashes accepted).
pub fn normalize_phone(text: &str) -> Result<String, String> {
    let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '.' | '-')).collect();
    let national = if let Some(rest) = digits.strip_prefix("+84") {
        format!("0{rest}")
    } else if digits.len() == 11 && digits.starts_with("84") {
        format!("0{}", &digits[2..])
    } else {
        digits
    };
    if national.len() == 10 && national.starts_with('0') && national.bytes().all(|b| b.is_ascii_digit()) {
        Ok(national)
    } else {
        Err("a mobile number has 10 digits and starts with 0 (or +84)".into())
    }
}

/// An e-mail address: one `@`, a dotted domain, no spaces or control characters, at most 254
/// characters (lower-cased domain).
pub fn normalize_email(text: &str) -> Result<String, String> {
    let t = text.trim();
    let bad = || "an e-mail address looks like name@example.vn".to_string();
    if t.len() > 254 || t.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';')) {
        return Err(bad());
    }
    let (local, domain) = t.rsplit_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || local.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return Err(bad());
    }
    Ok(format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// The recipient as lists, logs and audit rows show it: `09******78`, `n***@example.vn`.
pub fn mask(address: &str) -> String {
    if let Some((local, domain)) = address.rsplit_once('@') {
        let first: String = local.chars().take(1).collect();
        return format!("{first}***@{domain}");
    }
    let chars: Vec<char> = address.chars().collect();
    if chars.len() < 6 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 4))
}

/// Quiet hours in Vietnam: nothing is delivered from 21:00 to 07:00.
pub const QUIET_FROM: Time = time::macros::time!(21:00);
pub const QUIET_UNTIL: Time = time::macros::time!(07:00);

fn in_vietnam(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH).to_offset(VIETNAM)
}

/// Whether `unix` falls in quiet hours (21:00 included, 07:00 not).
pub fn is_quiet(unix: i64) -> bool {
    let t = in_vietnam(unix).time();
    t >= QUIET_FROM || t < QUIET_UNTIL
}

/// The first instant at or after `unix` outside quiet hours: `unix` itself in the day, else the
/// next 07:00 in Vietnam (the same morning after midnight, the next one from 21:00).
pub fn not_before(unix: i64) -> i64 {
    if !is_quiet(unix) {
        return unix;
    }
    let local = in_vietnam(unix);
    let day = if local.time() >= QUIET_FROM { local.date() + Duration::days(1) } else { local.date() };
    day.with_time(QUIET_UNTIL).assume_offset(VIETNAM).unix_timestamp()
}

/// Attempts after which a message is given up as failed.
pub const MAX_ATTEMPTS: i64 = 6;

/// When to try again after `attempts` failed attempts at `now`: 1, 4, 16, 64 minutes, then 4 h
/// (capped), moved out of quiet hours; `None` once [`MAX_ATTEMPTS`] are spent.
pub fn retry_at(now: i64, attempts: i64) -> Option<i64> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let exp = u32::try_from(attempts.clamp(1, 6) - 1).unwrap_or(0);
    let wait = (60i64 * 4i64.pow(exp)).min(4 * 3600);
    Some(not_before(now + wait))
}

/// A message's text: what the template says, in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// The messages kyso sends, with what each needs to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Template {
    /// A support session for a hamlet's residents: when, where, for whom.
    SessionInvitation { commune: String, hamlet: String, at: OffsetDateTime, place: String },
    /// A certificate ends in `days` days (30 or 7).
    RenewalReminder { days: u8, provider: String, expires: Date },
    /// A unit's report for a period is due tomorrow (weekly) or on the 20th (monthly).
    ReportReminder { unit: String, period: Period, due: OffsetDateTime },
    /// A task the unit leads is past its deadline.
    TaskOverdue { unit: String, number: String, name: String, deadline: String },
}

fn dmy(d: Date) -> String {
    format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
}

fn hm(t: OffsetDateTime) -> String {
    let t = t.to_offset(VIETNAM);
    format!("{:02}:{:02}", t.hour(), t.minute())
}

impl Template {
    /// The template's key (stored with each message, used in idempotency keys).
    pub fn key(&self) -> String {
        match self {
            Template::SessionInvitation { .. } => "session_invitation".into(),
            Template::RenewalReminder { days, .. } => format!("renewal_{days}"),
            Template::ReportReminder { period, .. } => match period.frequency {
                Frequency::Weekly => "report_weekly".into(),
                Frequency::Monthly => "report_monthly".into(),
            },
            Template::TaskOverdue { .. } => "task_overdue".into(),
        }
    }

    /// The subject and body; Vietnamese unless `en`. SMS and Zalo send the body alone, so it
    /// says everything on its own.
    pub fn render(&self, en: bool) -> Rendered {
        let (subject, body) = match (self, en) {
            (Template::SessionInvitation { commune, hamlet, at, place }, false) => {
                let d = dmy(at.to_offset(VIETNAM).date());
                (
                    format!("Mời tham dự buổi hỗ trợ chữ ký số ngày {d}"),
                    format!(
                        "{commune} mời bà con {hamlet} đến buổi hỗ trợ tạo chữ ký số công cộng lúc {} ngày {d} tại {place}. \
                         Mang theo thẻ căn cước và điện thoại có VNeID. Miễn phí.",
                        hm(*at)
                    ),
                )
            }
            (Template::SessionInvitation { commune, hamlet, at, place }, true) => {
                let d = dmy(at.to_offset(VIETNAM).date());
                (
                    format!("Invitation: digital signature support session on {d}"),
                    format!(
                        "{commune} invites the residents of {hamlet} to a session on creating a public digital signature \
                         at {} on {d}, {place}. Bring your ID card and a phone with VNeID. Free of charge.",
                        hm(*at)
                    ),
                )
            }
            (Template::RenewalReminder { days, provider, expires }, false) => (
                format!("Chứng thư số của bạn hết hạn sau {days} ngày"),
                format!(
                    "Chứng thư chữ ký số của bạn ({provider}) hết hạn ngày {}. Hãy gia hạn trên VNeID hoặc tại điểm hỗ trợ của xã \
                     để tiếp tục ký hồ sơ trực tuyến.",
                    dmy(*expires)
                ),
            ),
            (Template::RenewalReminder { days, provider, expires }, true) => (
                format!("Your signing certificate expires in {days} days"),
                format!(
                    "Your digital signature certificate ({provider}) expires on {}. Renew it in VNeID or at your commune's \
                     support point to keep signing online dossiers.",
                    dmy(*expires)
                ),
            ),
            (Template::ReportReminder { unit, period, due }, false) => (
                format!("Nhắc báo cáo {}", label(period, false).to_lowercase()),
                format!(
                    "{unit}: báo cáo {} hạn trước {} ngày {}. Số liệu đã được điền sẵn trên kyso, chỉ cần ghi khó khăn, đề xuất và gửi.",
                    label(period, false).to_lowercase(),
                    hm(*due),
                    dmy(due.to_offset(VIETNAM).date())
                ),
            ),
            (Template::ReportReminder { unit, period, due }, true) => (
                format!("Reminder: report for {}", label(period, true).to_lowercase()),
                format!(
                    "{unit}: the report for {} is due before {} on {}. The figures are pre-filled in kyso; add the difficulties and proposals and submit.",
                    label(period, true).to_lowercase(),
                    hm(*due),
                    dmy(due.to_offset(VIETNAM).date())
                ),
            ),
            (Template::TaskOverdue { unit, number, name, deadline }, false) => (
                format!("Nhiệm vụ {number} đã quá hạn"),
                format!(
                    "{unit}: nhiệm vụ {number} «{name}» (hạn {deadline}) chưa hoàn thành. Đề nghị đơn vị chủ trì cập nhật tiến độ trên kyso."
                ),
            ),
            (Template::TaskOverdue { unit, number, name, deadline }, true) => (
                format!("Task {number} is overdue"),
                format!("{unit}: task {number} “{name}” (deadline {deadline}) is not done. Please update its progress in kyso."),
            ),
        };
        Rendered { subject, body }
    }
}

/// Which renewal reminder is due for a certificate ending on `expires`, seen on `today`: the
/// 30-day one from 30 to 8 days ahead, the 7-day one from 7 days ahead to the last day (a day the
/// sender missed is caught up; the outbox's idempotency keeps each to one message).
pub fn renewal_stage(expires: Date, today: Date) -> Option<u8> {
    match (expires - today).whole_days() {
        8..=30 => Some(30),
        1..=7 => Some(7),
        _ => None,
    }
}

/// The reports to remind units of on `today`: the weekly one due tomorrow (Wednesday before
/// Thursday 10:00) and the monthly one due in two days (the 18th for the 20th), with their due
/// instants.
pub fn report_reminders(rules: &DeadlineRules, today: Date) -> Vec<(Period, OffsetDateTime)> {
    let mut out = Vec::new();
    for (frequency, ahead) in [(Frequency::Weekly, 1), (Frequency::Monthly, 2)] {
        let day = today + Duration::days(ahead);
        let period = reporting_period(rules, frequency, day);
        let due = rules.due(&period);
        if due.date() == day {
            out.push((period, due));
        }
    }
    out
}

/// A unit's name inside a sentence: its kind word lower-cased ("Xã Hiệp Lực" → "xã Hiệp Lực",
/// "Xóm Đồng Tâm" → "xóm Đồng Tâm"), other names as written.
pub fn in_sentence(name: &str) -> String {
    const KINDS: [&str; 9] = ["Xã", "Phường", "Đặc khu", "Thôn", "Xóm", "Ấp", "Bản", "Tổ", "Khu"];
    match KINDS.iter().find(|k| name.strip_prefix(**k).is_some_and(|rest| rest.starts_with(' '))) {
        Some(k) => format!("{}{}", k.to_lowercase(), &name[k.len()..]),
        None => name.to_owned(),
    }
}

/// The idempotency key of a message: the trigger, what it is about and the recipient, so the same
/// trigger fired twice (or by two workers) enqueues one message. At most 200 characters.
pub fn idempotency_key(trigger: &str, about: &str, channel: Channel, recipient: &str) -> String {
    let k = format!("{trigger}|{about}|{}|{recipient}", channel.name());
    k.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn at(dt: time::PrimitiveDateTime) -> i64 {
        dt.assume_offset(VIETNAM).unix_timestamp()
    }

    #[test]
    fn quiet_hours_are_21_to_7_vietnam_time() {
        assert!(!is_quiet(at(datetime!(2026-12-07 07:00))));
        assert!(!is_quiet(at(datetime!(2026-12-07 20:59:59))));
        assert!(is_quiet(at(datetime!(2026-12-07 21:00))));
        assert!(is_quiet(at(datetime!(2026-12-07 23:30))));
        assert!(is_quiet(at(datetime!(2026-12-08 00:00))));
        assert!(is_quiet(at(datetime!(2026-12-08 06:59:59))));
        // 14:00 UTC is 21:00 in Vietnam: quiet, whatever the server's own zone
        assert!(is_quiet(datetime!(2026-12-07 14:00 UTC).unix_timestamp()));
        assert!(!is_quiet(datetime!(2026-12-07 13:59 UTC).unix_timestamp()));
    }

    #[test]
    fn messages_due_in_quiet_hours_wait_until_seven() {
        let day = at(datetime!(2026-12-07 15:10));
        assert_eq!(not_before(day), day);
        assert_eq!(not_before(at(datetime!(2026-12-07 21:00))), at(datetime!(2026-12-08 07:00)));
        assert_eq!(not_before(at(datetime!(2026-12-07 23:59))), at(datetime!(2026-12-08 07:00)));
        assert_eq!(not_before(at(datetime!(2026-12-08 03:00))), at(datetime!(2026-12-08 07:00)));
        // across a month and a year
        assert_eq!(not_before(at(datetime!(2026-12-31 22:00))), at(datetime!(2027-01-01 07:00)));
        assert!(!is_quiet(not_before(at(datetime!(2026-12-31 22:00)))));
    }

    #[test]
    fn retries_back_off_skip_quiet_hours_and_stop() {
        let noon = at(datetime!(2026-12-07 12:00));
        assert_eq!(retry_at(noon, 1), Some(noon + 60));
        assert_eq!(retry_at(noon, 2), Some(noon + 240));
        assert_eq!(retry_at(noon, 3), Some(noon + 960));
        assert_eq!(retry_at(noon, 5), Some(noon + 4 * 3600));
        assert_eq!(retry_at(noon, MAX_ATTEMPTS), None);
        // a retry that would land at 21:01 waits until 07:00
        assert_eq!(retry_at(at(datetime!(2026-12-07 21:00)) - 60 + 1, 2), Some(at(datetime!(2026-12-08 07:00))));
    }

    #[test]
    fn addresses_are_checked_and_masked() {
        assert_eq!(normalize_phone("+84 912 345 678").unwrap(), "0912345678");
        assert_eq!(normalize_phone("0912.345.678").unwrap(), "0912345678");
        assert_eq!(normalize_phone("84912345678").unwrap(), "0912345678");
        assert!(normalize_phone("912345678").is_err());
        assert!(normalize_phone("09123456789").is_err());
        assert_eq!(normalize_email(" Lan@HiepLuc.GOV.vn ").unwrap(), "Lan@hiepluc.gov.vn");
        assert!(normalize_email("lan@localhost").is_err());
        assert!(normalize_email("a b@x.vn").is_err());
        assert!(normalize_email("a@x.vn\r\nBcc: b@y.vn").is_err());
        assert_eq!(mask("0912345678"), "09******78");
        assert_eq!(in_sentence("Xã Hiệp Lực"), "xã Hiệp Lực");
        assert_eq!(in_sentence("Xóm Đồng Tâm"), "xóm Đồng Tâm");
        assert_eq!(in_sentence("Xóm"), "Xóm");
        assert_eq!(in_sentence("Công an xã"), "Công an xã");
        assert_eq!(mask("lan@hiepluc.gov.vn"), "l***@hiepluc.gov.vn");
        assert!(!mask("0912345678").contains("345"));
    }

    #[test]
    fn renewal_reminders_go_30_and_7_days_ahead() {
        let expires = date!(2027 - 01 - 31);
        assert_eq!(renewal_stage(expires, date!(2027 - 01 - 01)), Some(30));
        assert_eq!(renewal_stage(expires, date!(2027 - 01 - 23)), Some(30));
        assert_eq!(renewal_stage(expires, date!(2027 - 01 - 24)), Some(7));
        assert_eq!(renewal_stage(expires, date!(2027 - 01 - 30)), Some(7));
        assert_eq!(renewal_stage(expires, date!(2027 - 01 - 31)), None);
        assert_eq!(renewal_stage(expires, date!(2026 - 12 - 31)), None, "31 days ahead: not yet");
    }

    #[test]
    fn report_reminders_the_day_before_thursday_and_on_the_18th() {
        let rules = DeadlineRules::default();
        // Wednesday 9 December 2026: the week Thursday 3 – Wednesday 9 is due Thursday 10 at 10:00
        let r = report_reminders(&rules, date!(2026 - 12 - 09));
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].0.start, date!(2026 - 12 - 03));
        assert_eq!(r[0].1, datetime!(2026-12-10 10:00 +7));
        assert!(report_reminders(&rules, date!(2026 - 12 - 10)).is_empty());
        // 18 December: November's report is due before the 20th
        let r = report_reminders(&rules, date!(2026 - 12 - 18));
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].0.frequency, r[0].0.start), (Frequency::Monthly, date!(2026 - 11 - 01)));
        assert_eq!(r[0].1.date(), date!(2026 - 12 - 20));
        assert!(report_reminders(&rules, date!(2026 - 12 - 19)).is_empty());
    }

    #[test]
    fn templates_speak_vietnamese_first() {
        let t = Template::SessionInvitation {
            commune: "UBND xã Hiệp Lực".into(),
            hamlet: "xóm Đồng Tâm".into(),
            at: datetime!(2026-12-12 08:00 +7),
            place: "Nhà văn hóa xóm Đồng Tâm".into(),
        };
        let vi = t.render(false);
        assert_eq!(vi.subject, "Mời tham dự buổi hỗ trợ chữ ký số ngày 12/12/2026");
        assert!(vi.body.contains("lúc 08:00 ngày 12/12/2026 tại Nhà văn hóa xóm Đồng Tâm"), "{}", vi.body);
        assert!(t.render(true).body.contains("at 08:00 on 12/12/2026"));
        assert_eq!(t.key(), "session_invitation");
        let r = Template::RenewalReminder { days: 7, provider: "VNPT-CA".into(), expires: date!(2027 - 01 - 31) };
        assert_eq!(r.key(), "renewal_7");
        assert!(r.render(false).body.contains("hết hạn ngày 31/01/2027"));
    }
}
