//! Figures as a reader expects them, in one place per language. Vietnamese groups thousands with
//! a dot and writes decimals with a comma (`5.480`, `6,20 %`); English the other way round
//! (`5,480`, `6.20%`). Dates are `dd/mm/yyyy` and times `dd/mm/yyyy HH:MM` in Vietnam time in
//! both languages (kyso's readers are in Vietnam). Pages (`kyso_server::i18n::Lang`), XLSX text
//! cells and the CLI's text output all format through here; JSON and XLSX number cells keep
//! plain numbers.
//!
//! Architecture invariant: pure — no IO, no clock.

use time::Date;

/// The language figures are written for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Style {
    #[default]
    Vi,
    En,
}

impl Style {
    fn group(self) -> char {
        match self {
            Style::Vi => '.',
            Style::En => ',',
        }
    }

    fn point(self) -> char {
        match self {
            Style::Vi => ',',
            Style::En => '.',
        }
    }
}

/// A whole number a page may show: any integer type, by value or by reference.
pub trait Whole {
    fn wide(&self) -> i128;
}

macro_rules! whole {
    ($($t:ty),*) => {$(
        impl Whole for $t {
            fn wide(&self) -> i128 {
                *self as i128
            }
        }
    )*};
}
whole!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

impl<T: Whole + ?Sized> Whole for &T {
    fn wide(&self) -> i128 {
        (**self).wide()
    }
}

/// `5480` → `5.480` (Vietnamese) or `5,480` (English); `-1234567` → `-1.234.567`.
pub fn int(n: impl Whole, s: Style) -> String {
    let n = n.wide();
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(s.group());
        }
        out.push(d);
    }
    out
}

/// `x` with `places` decimals, thousands grouped: `1234.5`, 1 → `1.234,5` / `1,234.5`. Not a
/// number or infinite: `–`.
pub fn decimal(x: f64, places: usize, s: Style) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let text = format!("{:.*}", places, x.abs());
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let negative = x < 0.0 && text.bytes().any(|b| b.is_ascii_digit() && b != b'0');
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(&int(whole.parse::<u64>().unwrap_or(0), s));
    if !frac.is_empty() {
        out.push(s.point());
        out.push_str(frac);
    }
    out
}

/// A percentage given in percent (`6.2` is 6.2 %): `6,20 %` / `6.20%` with `places` decimals.
pub fn percent(x: f64, places: usize, s: Style) -> String {
    match s {
        Style::Vi => format!("{} %", decimal(x, places, s)),
        Style::En => format!("{}%", decimal(x, places, s)),
    }
}

/// A percentage in hundredths of a percent (`620` is 6.20 %, as `kyso_campaign::plan::Percent`
/// keeps it): exact, two decimals.
pub fn percent_x100(x100: i64, s: Style) -> String {
    let sign = if x100 < 0 { "-" } else { "" };
    let a = x100.unsigned_abs();
    let text = format!("{sign}{}{}{:02}", int(a / 100, s), s.point(), a % 100);
    match s {
        Style::Vi => format!("{text} %"),
        Style::En => format!("{text}%"),
    }
}

/// `31/12/2025`.
pub fn date(d: Date) -> String {
    kyso_calendar::display_date(d)
}

/// An ISO date (`2025-12-31`, or the date part of `2025-12-31T…`) as `31/12/2025`; other text
/// as it is (a label such as `–` passes through).
pub fn iso_date(text: &str) -> String {
    let day = text.get(..10).filter(|_| text.len() == 10 || text.as_bytes().get(10) == Some(&b'T'));
    match day.and_then(kyso_calendar::day_number).and_then(kyso_calendar::date_of_day) {
        Some(d) => date(d),
        None => text.to_owned(),
    }
}

/// A Unix instant as `31/12/2025` in Vietnam.
pub fn vn_date(unix: i64) -> String {
    kyso_calendar::vn_display_date(unix)
}

/// A Unix instant as `31/12/2025 14:05` in Vietnam.
pub fn vn_datetime(unix: i64) -> String {
    kyso_calendar::vn_display_datetime(unix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Style::{En, Vi};

    #[test]
    fn whole_numbers_group_thousands() {
        assert_eq!(int(5480u64, Vi), "5.480");
        assert_eq!(int(5480u64, En), "5,480");
        assert_eq!(int(400_000u32, Vi), "400.000");
        assert_eq!(int(0usize, Vi), "0");
        assert_eq!(int(999i64, Vi), "999");
        assert_eq!(int(-1_234_567i64, Vi), "-1.234.567");
        let by_ref = &77_500_000u64;
        assert_eq!(int(by_ref, En), "77,500,000");
        assert_eq!(int(u64::MAX, Vi), "18.446.744.073.709.551.615");
    }

    #[test]
    fn decimals_and_percentages() {
        assert_eq!(decimal(1234.56, 1, Vi), "1.234,6");
        assert_eq!(decimal(1234.56, 1, En), "1,234.6");
        assert_eq!(decimal(0.5, 0, Vi), "0");
        assert_eq!(decimal(-0.04, 1, Vi), "0,0");
        assert_eq!(decimal(-2.25, 2, Vi), "-2,25");
        assert_eq!(decimal(f64::NAN, 2, Vi), "–");
        assert_eq!(percent(6.2, 2, Vi), "6,20 %");
        assert_eq!(percent(6.2, 2, En), "6.20%");
        assert_eq!(percent_x100(620, Vi), "6,20 %");
        assert_eq!(percent_x100(6380, En), "63.80%");
        assert_eq!(percent_x100(1_000_005, Vi), "10.000,05 %");
        assert_eq!(percent_x100(-5, Vi), "-0,05 %");
    }

    #[test]
    fn dates_are_day_month_year_in_vietnam() {
        assert_eq!(iso_date("2025-12-31"), "31/12/2025");
        assert_eq!(iso_date("2026-07-31T00:00:00"), "31/07/2026");
        assert_eq!(iso_date("2025-13-45"), "2025-13-45");
        assert_eq!(iso_date("–"), "–");
        assert_eq!(iso_date("2025-12-31x"), "2025-12-31x");
        // 2025-12-31 17:05 UTC is 1 January 2026, 00:05 in Vietnam
        assert_eq!(vn_datetime(1_767_200_700), "01/01/2026 00:05");
        assert_eq!(vn_date(1_767_200_700), "01/01/2026");
    }
}
