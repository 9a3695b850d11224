//! Vietnam time and civil dates, in one place: the offset (UTC+7, no daylight saving), today and
//! now in Vietnam, the Vietnam date of a Unix instant, compact day numbers (days since 1970-01-01,
//! proleptic Gregorian) and the text forms: ISO `YYYY-MM-DD` and Vietnamese `dd/mm/yyyy` and
//! `dd/mm/yyyy HH:MM`.
//!
//! The `time` crate does the offset, the clock, [`Date`]s and the date of a day number within its
//! years (±9999). The day number of a date is Howard Hinnant's `days_from_civil`, kept because
//! `time` was slower on the register index build's hot path (`day_number` on millions of
//! `YYYY-MM-DD`): `Date::from_calendar_date(..)?.to_julian_day()` took about 1.8× its time, where
//! `from_julian_day(..).to_calendar_date()` took about 0.8× of `civil_from_days_wide` (10 million dates,
//! release, best of 7: `tests::speed_against_time`). The arithmetic also serves every `i32` year.
//!
//! Architecture invariant: no IO but the clock ([`now`], [`today`]); everything else is pure.

use time::macros::offset;
use time::{Date, OffsetDateTime, UtcOffset};

/// Asia/Ho_Chi_Minh: UTC+7 all year (no daylight saving since 1975).
pub const VIETNAM: UtcOffset = offset!(+7);
/// [`VIETNAM`] in seconds east of UTC.
pub const VIETNAM_OFFSET_SECS: i64 = 7 * 3600;
pub const SECS_PER_DAY: i64 = 86_400;
/// 1970-01-01 as a Julian day number (what `time`'s `Date::to_julian_day` counts).
const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;

// ---- the clock ----

/// Now, in Vietnam time.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc().to_offset(VIETNAM)
}

/// Today's date in Vietnam.
pub fn today() -> Date {
    now().date()
}

// ---- instants in Vietnam ----

/// The Vietnam day number (days since 1970-01-01) of a Unix instant: a day starts at 17:00 UTC.
pub fn vn_day(unix: i64) -> i64 {
    unix.saturating_add(VIETNAM_OFFSET_SECS).div_euclid(SECS_PER_DAY)
}

/// The Unix instant at which day `day` starts in Vietnam (00:00 UTC+7, 17:00 UTC the day before).
pub fn vn_day_start(day: i64) -> i64 {
    day * SECS_PER_DAY - VIETNAM_OFFSET_SECS
}

/// The date in Vietnam at a Unix instant, `YYYY-MM-DD`.
pub fn vn_date(unix: i64) -> String {
    iso_date_wide(vn_day(unix))
}

/// A Unix instant as a Vietnam-time date and time; `None` past the years `time` represents.
pub fn in_vietnam(unix: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(unix).ok()?.checked_to_offset(VIETNAM)
}

// ---- Vietnamese display forms ----

/// `dd/mm/yyyy`.
pub fn display_date(date: Date) -> String {
    format!("{:02}/{:02}/{}", date.day(), u8::from(date.month()), date.year())
}

/// `dd/mm/yyyy` in Vietnam of a Unix instant (`01/01/1970` past the representable years).
pub fn vn_display_date(unix: i64) -> String {
    display_date(in_vietnam(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH).date())
}

/// `dd/mm/yyyy HH:MM` in Vietnam of a Unix instant (`01/01/1970 00:00` past the representable
/// years).
pub fn vn_display_datetime(unix: i64) -> String {
    let t = in_vietnam(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!("{} {:02}:{:02}", display_date(t.date()), t.hour(), t.minute())
}

// ---- day numbers ----

/// Days since 1970-01-01 of a calendar date (Howard Hinnant's `days_from_civil`), without
/// checking the day against the month's length (31 February is 3 March). Years far from ours
/// wrap: see [`days_from_civil_wide`] for every `i32` year.
pub fn days_from_civil(y: i32, m: i32, d: i32) -> i32 {
    days_from_civil_wide(i64::from(y), i64::from(m), i64::from(d)) as i32
}

/// [`days_from_civil`] in 64 bits: every `i32` year.
pub fn days_from_civil_wide(y: i64, m: i64, d: i64) -> i64 {
    let y = y - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// The calendar date `(year, month, day)` of a day number (inverse of [`days_from_civil_wide`]).
pub fn civil_from_days_wide(z: i64) -> (i64, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The calendar date `(year, month, day)` of a day number (inverse of [`days_from_civil`]):
/// `time`'s within its years, the arithmetic beyond.
pub fn civil_from_days(z: i32) -> (i32, u8, u8) {
    match date_of_day(z) {
        Some(date) => {
            let (y, m, d) = date.to_calendar_date();
            (y, u8::from(m), d)
        }
        None => {
            let (y, m, d) = civil_from_days_wide(i64::from(z));
            (y as i32, m, d)
        }
    }
}

/// The `time` date of a day number; `None` outside `time`'s years (±9999).
pub fn date_of_day(day: i32) -> Option<Date> {
    Date::from_julian_day(day.checked_add(UNIX_EPOCH_JULIAN_DAY)?).ok()
}

/// The day number of a `time` date.
pub fn day_of_date(date: Date) -> i32 {
    date.to_julian_day() - UNIX_EPOCH_JULIAN_DAY
}

/// Day number of an ISO `YYYY-MM-DD` date, checking the shape only (month 1–12, day 1–31): the
/// register's dates were validated when it was imported, and this runs once per resident.
pub fn day_number(iso: &str) -> Option<i32> {
    let b = iso.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |s: &[u8]| s.iter().try_fold(0i32, |n, c| c.is_ascii_digit().then(|| n * 10 + i32::from(c - b'0')));
    let (y, m, d) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// `YYYY-MM-DD` of a day number, without allocating (years clamped to 0000–9999).
pub fn iso_bytes(day: i32) -> [u8; 10] {
    let (y, m, d) = civil_from_days(day);
    let y = y.clamp(0, 9999) as u32;
    let mut out = *b"0000-00-00";
    for (i, v) in [(0, y / 1000), (1, y / 100 % 10), (2, y / 10 % 10), (3, y % 10)] {
        out[i] = b'0' + v as u8;
    }
    out[5] = b'0' + m / 10;
    out[6] = b'0' + m % 10;
    out[8] = b'0' + d / 10;
    out[9] = b'0' + d % 10;
    out
}

/// `YYYY-MM-DD` of a day number.
pub fn iso_date(day: i32) -> String {
    iso_bytes(day).iter().map(|&b| char::from(b)).collect()
}

/// [`iso_date`] of a 64-bit day number. Days beyond ±5.8 million years do not occur: they are
/// clamped rather than wrapped.
pub fn iso_date_wide(day: i64) -> String {
    iso_date(day.clamp(i64::from(i32::MIN / 2), i64::from(i32::MAX / 2)) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Month;

    fn date(y: i32, m: u8, d: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap()
    }

    #[test]
    fn epoch_and_negative_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(iso_date(-365), "1969-01-01");
        assert_eq!(days_from_civil(1, 1, 1), -719_162);
        assert_eq!(date_of_day(-1), Some(date(1969, 12, 31)));
        assert_eq!(day_of_date(date(1969, 12, 31)), -1);
    }

    #[test]
    fn leap_years() {
        // Every fourth year, not every hundredth, every four-hundredth.
        for (y, leap) in [(2024, true), (2026, false), (2000, true), (1900, false), (2100, false), (2400, true)] {
            let feb_29 = days_from_civil(y, 2, 29);
            let mar_1 = days_from_civil(y, 3, 1);
            assert_eq!(mar_1 - days_from_civil(y, 2, 28), if leap { 2 } else { 1 }, "{y}");
            assert_eq!(civil_from_days(feb_29) == (y, 2, 29), leap, "{y}");
            assert_eq!(days_from_civil(y + 1, 1, 1) - days_from_civil(y, 1, 1), if leap { 366 } else { 365 });
        }
    }

    #[test]
    fn first_of_march_1900() {
        // 1900 is not a leap year (Excel pretends it is: kyso-xlsx counts that on its own side).
        let day = days_from_civil(1900, 3, 1);
        assert_eq!(day, -25_508);
        assert_eq!(day - days_from_civil(1900, 2, 28), 1);
        assert_eq!(iso_date(day), "1900-03-01");
        assert_eq!(date_of_day(day), Some(date(1900, 3, 1)));
        assert_eq!(day_number("1900-03-01"), Some(day));
    }

    #[test]
    fn last_day_of_9999() {
        let day = days_from_civil(9999, 12, 31);
        assert_eq!(day, 2_932_896);
        assert_eq!(iso_date(day), "9999-12-31");
        assert_eq!(day_number("9999-12-31"), Some(day));
        assert_eq!(date_of_day(day), Some(date(9999, 12, 31)));
        assert_eq!(date_of_day(day + 1), None, "past time's years");
        assert_eq!(iso_date(day + 1), "9999-01-01", "years clamped to 9999");
    }

    #[test]
    fn agrees_with_time_on_every_day_it_knows() {
        let (first, last) = (day_of_date(date(-9999, 1, 1)), day_of_date(date(9999, 12, 31)));
        for day in first..=last {
            let d = date_of_day(day).unwrap();
            let (y, m, dd) = civil_from_days(day);
            assert_eq!((y, m, dd), (d.year(), u8::from(d.month()), d.day()), "{day}");
            assert_eq!(days_from_civil(y, i32::from(m), i32::from(dd)), day);
            assert_eq!(days_from_civil_wide(i64::from(y), i64::from(m), i64::from(dd)), i64::from(day));
        }
    }

    #[test]
    fn wide_years() {
        for y in [i64::from(i32::MIN), -1_000_000, 1_000_000, i64::from(i32::MAX)] {
            let day = days_from_civil_wide(y, 7, 31);
            assert_eq!(civil_from_days_wide(day), (y, 7, 31));
        }
    }

    #[test]
    fn day_numbers_of_iso_text() {
        assert_eq!(day_number("2026-07-31"), Some(days_from_civil(2026, 7, 31)));
        for bad in
            ["2026-7-31", "2026/07/31", "2026-13-01", "2026-00-10", "2026-07-32", "2026-07-00", "２０２６-07-31", ""]
        {
            assert_eq!(day_number(bad), None, "{bad}");
        }
        assert_eq!(iso_date(days_from_civil(2026, 7, 31)), "2026-07-31");
        assert_eq!(iso_date_wide(i64::MAX), iso_date(i32::MAX / 2));
    }

    #[test]
    fn the_vietnam_day_starts_at_17_utc() {
        // 2026-07-31T16:59:59Z is 23:59:59 in Vietnam; one second later it is 1 August.
        let five_pm = i64::from(days_from_civil(2026, 7, 31)) * SECS_PER_DAY + 17 * 3600;
        assert_eq!(vn_date(five_pm - 1), "2026-07-31");
        assert_eq!(vn_date(five_pm), "2026-08-01");
        assert_eq!(vn_day(five_pm), i64::from(days_from_civil(2026, 8, 1)));
        assert_eq!(vn_day_start(vn_day(five_pm)), five_pm);
        assert_eq!(vn_display_datetime(five_pm - 60), "31/07/2026 23:59");
        assert_eq!(vn_display_datetime(five_pm), "01/08/2026 00:00");
        assert_eq!(vn_display_date(five_pm), "01/08/2026");
        // Before 1970: the euclidean division keeps the boundary at 17:00 UTC.
        assert_eq!(vn_date(-7 * 3600 - 1), "1969-12-31");
        assert_eq!(vn_date(-7 * 3600), "1970-01-01");
        assert_eq!(in_vietnam(five_pm).unwrap().offset(), VIETNAM);
    }

    #[test]
    fn vietnamese_display_forms() {
        assert_eq!(display_date(date(2026, 3, 5)), "05/03/2026");
        assert_eq!(vn_display_datetime(0), "01/01/1970 07:00");
        assert_eq!(vn_display_datetime(i64::MAX), "01/01/1970 00:00", "past the representable years");
        assert_eq!(vn_display_date(i64::MAX), "01/01/1970");
        // 9999-12-31 23:00 UTC is already year 10000 in Vietnam.
        let last_hour = i64::from(days_from_civil(9999, 12, 31)) * SECS_PER_DAY + 23 * 3600;
        assert_eq!(in_vietnam(last_hour), None);
        assert_eq!(vn_display_datetime(last_hour - 8 * 3600), "31/12/9999 22:00");
        assert_eq!(today(), now().date());
        assert_eq!(now().offset(), VIETNAM);
    }

    /// The register index build's date path against `time`'s:
    /// `cargo test --release -p kyso-calendar -- --ignored --nocapture speed`.
    #[test]
    #[ignore]
    fn speed_against_time() {
        let days: Vec<i32> = (0..10_000_000i32).map(|i| -20_000 + i % 40_000).collect();
        let texts: Vec<String> = days.iter().map(|&d| iso_date(d)).collect();
        // Both called through a function pointer, as the register index calls `day_number` from
        // another crate (no inlining into the loop).
        fn with_time(iso: &str) -> Option<i32> {
            let b = iso.as_bytes();
            if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
                return None;
            }
            let num =
                |s: &[u8]| s.iter().try_fold(0i32, |n, c| c.is_ascii_digit().then(|| n * 10 + i32::from(c - b'0')));
            let (y, m, d) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
            let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
            Some(day_of_date(Date::from_calendar_date(y, month, u8::try_from(d).ok()?).ok()?))
        }
        fn civil_with_arithmetic(day: i32) -> (i32, u8, u8) {
            let (y, m, d) = civil_from_days_wide(day.into());
            (y as i32, m, d)
        }
        let ours_parse: fn(&str) -> Option<i32> = std::hint::black_box(day_number);
        let time_parse: fn(&str) -> Option<i32> = std::hint::black_box(with_time);
        let ours_civil: fn(i32) -> (i32, u8, u8) = std::hint::black_box(civil_from_days);
        let arithmetic_civil: fn(i32) -> (i32, u8, u8) = std::hint::black_box(civil_with_arithmetic);
        let sum = |(y, m, d): (i32, u8, u8)| i64::from(y) + i64::from(m) + i64::from(d);
        let time_it = |f: &dyn Fn() -> i64| {
            let started = std::time::Instant::now();
            let sum = f();
            (started.elapsed().as_secs_f64(), sum)
        };
        let mut best = [f64::INFINITY; 4];
        for _ in 0..7 {
            let (ours, a) = time_it(&|| texts.iter().map(|t| i64::from(ours_parse(t).unwrap())).sum());
            let (theirs, b) = time_it(&|| texts.iter().map(|t| i64::from(time_parse(t).unwrap())).sum());
            assert_eq!(a, b);
            let (civil, c) = time_it(&|| days.iter().map(|&d| sum(ours_civil(d))).sum());
            let (arithmetic, e) = time_it(&|| days.iter().map(|&d| sum(arithmetic_civil(d))).sum());
            assert_eq!(c, e);
            for (b, t) in best.iter_mut().zip([ours, theirs, civil, arithmetic]) {
                *b = b.min(t);
            }
        }
        let [ours, theirs, civil, arithmetic] = best;
        println!(
            "10M, best of 7: day_number {ours:.3} s, with time {theirs:.3} s ({:.2}x); \
             civil_from_days (time) {civil:.3} s, with the arithmetic {arithmetic:.3} s ({:.2}x)",
            theirs / ours,
            arithmetic / civil
        );
    }
}
