//! Excel date serials: days since the workbook's epoch, the fraction being the time of day.
//!
//! The 1900 system (the default) counts 1900-01-01 as day 1 and keeps Lotus 1-2-3's fictitious
//! 29 February 1900 as day 60, so from 1 March 1900 (day 61) on, day N is 1899-12-30 + N. The 1904
//! system (`<workbookPr date1904="1"/>`, old Mac workbooks) counts 1904-01-01 as day 0.

/// A calendar date (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ymd {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl Ymd {
    /// A real calendar date, or `None`.
    pub fn new(year: i32, month: u8, day: u8) -> Option<Self> {
        let d = Self { year, month, day };
        (from_days(to_days(d)) == d && (1..=12).contains(&month) && day >= 1).then_some(d)
    }

    /// `YYYY-MM-DD`.
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl std::fmt::Display for Ymd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.iso())
    }
}

/// Days since 1970-01-01.
fn to_days(d: Ymd) -> i64 {
    kyso_calendar::days_from_civil_wide(i64::from(d.year), i64::from(d.month), i64::from(d.day))
}

/// The date of a day count since 1970-01-01.
fn from_days(z: i64) -> Ymd {
    let (year, month, day) = kyso_calendar::civil_from_days_wide(z);
    Ymd { year: year as i32, month, day }
}

/// 1899-12-30 and 1904-01-01 as days since 1970-01-01.
const EPOCH_1900: i64 = -25_569;
const EPOCH_1904: i64 = -24_107;
/// 9999-12-31 in the 1900 system: Excel's last date.
const MAX_SERIAL: f64 = 2_958_465.0;

/// The date of a serial (its whole days; the time of day is dropped). `None` for serials Excel
/// cannot show as a date: negative, 0 (1900's "0 January"), 60 (the fictitious 29 February 1900)
/// and past 9999-12-31, or not finite.
pub fn serial_to_ymd(serial: f64, date1904: bool) -> Option<Ymd> {
    if !(0.0..MAX_SERIAL + 1.0).contains(&serial) {
        return None;
    }
    let whole = serial.floor() as i64;
    if date1904 {
        return Some(from_days(EPOCH_1904 + whole));
    }
    match whole {
        0 | 60 => None,
        1..=59 => Some(from_days(EPOCH_1900 + whole + 1)),
        _ => Some(from_days(EPOCH_1900 + whole)),
    }
}

/// `YYYY-MM-DD` of a serial; see [`serial_to_ymd`].
pub fn serial_to_iso(serial: f64, date1904: bool) -> Option<String> {
    serial_to_ymd(serial, date1904).map(|d| d.iso())
}

/// The serial of a date, `None` before the system's first day or after 9999-12-31.
pub fn ymd_to_serial(date: Ymd, date1904: bool) -> Option<f64> {
    let days = to_days(date);
    let serial = if date1904 {
        days - EPOCH_1904
    } else {
        let s = days - EPOCH_1900;
        // Before 1 March 1900 Excel is one day off (it counts the 29 February that never was).
        if s < 61 {
            s - 1
        } else {
            s
        }
    };
    (serial >= if date1904 { 0 } else { 1 } && serial as f64 <= MAX_SERIAL).then_some(serial as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u8, d: u8) -> Ymd {
        Ymd::new(y, m, d).unwrap()
    }

    #[test]
    fn known_serials() {
        // Values Excel shows for these dates.
        for (serial, date) in [
            (1.0, ymd(1900, 1, 1)),
            (59.0, ymd(1900, 2, 28)),
            (61.0, ymd(1900, 3, 1)),
            (25_569.0, ymd(1970, 1, 1)),
            (32_947.0, ymd(1990, 3, 15)),
            (46_234.0, ymd(2026, 7, 31)),
            (2_958_465.0, ymd(9999, 12, 31)),
        ] {
            assert_eq!(serial_to_ymd(serial, false), Some(date), "{serial}");
            assert_eq!(ymd_to_serial(date, false), Some(serial), "{date}");
        }
        assert_eq!(serial_to_iso(32_947.75, false).as_deref(), Some("1990-03-15"), "time of day dropped");
        assert_eq!(serial_to_ymd(0.0, true), Some(ymd(1904, 1, 1)));
        assert_eq!(serial_to_ymd(31_485.0, true), Some(ymd(1990, 3, 15)));
        assert_eq!(ymd_to_serial(ymd(1990, 3, 15), true), Some(31_485.0));
    }

    #[test]
    fn serials_that_are_not_dates() {
        for s in [0.0, 60.0, -1.0, 2_958_466.0, f64::NAN, f64::INFINITY] {
            assert_eq!(serial_to_ymd(s, false), None, "{s}");
        }
        assert_eq!(Ymd::new(2025, 2, 29), None);
        assert_eq!(Ymd::new(2026, 13, 1), None);
        assert_eq!(Ymd::new(2026, 4, 0), None);
        assert_eq!(ymd_to_serial(ymd(1899, 12, 31), false), None);
    }

    #[test]
    fn round_trip_every_day_of_a_century() {
        for serial in 61..(61 + 36_600) {
            let d = serial_to_ymd(serial as f64, false).unwrap();
            assert_eq!(ymd_to_serial(d, false), Some(serial as f64));
        }
    }
}
