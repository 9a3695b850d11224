//! The demo's provider list: the certificates licensed providers reported for Xã Hiệp Lực, as a
//! CSV like the ones they e-mail to communes, imported through `kyso campaign import-provider-list`'s
//! own path. Appendix I's 340 holders on 31 December 2025, then the 2026 campaign day by day up
//! to yesterday (a second certificate at another provider now and then, a few revoked), and one row
//! of each kind real lists carry that an import must report: an ID number the register does not
//! have, a repeated row, a malformed ID number, an impossible date.

use super::accounts::{CITIZEN_L1, CITIZEN_L2, CITIZEN_NEW};
use super::{kyso_issued, synthetic_resident, ADULTS};
use std::collections::HashSet;
use std::fmt::Write;
use time::{Date, Duration, Month};

/// Holders on the baseline date (Appendix I: 340 existing certificates on 31/12/2025).
pub const BASELINE: usize = 340;
const PROVIDERS: [&str; 5] = ["VNPT-CA", "Viettel-CA", "FPT-CA", "MISA-CA", "BKAV-CA"];
/// Certificates are valid three years (Decree 23/2025, Art. 7).
const VALIDITY: Duration = Duration::days(3 * 365);

/// Certificates reported per day of 2026 and after, by month: slow before the plan, the push to
/// the 31 July milestone, then a steadier pace.
fn per_day(month: Month) -> usize {
    match month {
        Month::January | Month::February => 1,
        Month::March => 2,
        Month::April | Month::May => 6,
        Month::June | Month::July => 8,
        Month::August | Month::September | Month::October => 5,
        _ => 3,
    }
}

/// The adults providers report, in a fixed pseudo-random order: everyone except kyso's own demo
/// holders and the residents the printed demo logins are for.
fn reported_order() -> Vec<usize> {
    let kyso: HashSet<usize> = kyso_issued().collect();
    let logins = [CITIZEN_L2, CITIZEN_L1, CITIZEN_NEW];
    let mut order: Vec<usize> = (0..ADULTS).filter(|i| !kyso.contains(i) && !logins.contains(i)).collect();
    // Knuth's multiplicative hash as a fixed shuffle: hamlets and birth years mix.
    order.sort_by_key(|&i| (i as u32).wrapping_mul(2_654_435_761));
    order
}

fn date(y: i32, m: Month, d: u8) -> Date {
    Date::from_calendar_date(y, m, d).expect("a valid constant date")
}

/// The list as a provider would send it on `today` (Vietnam's date): every certificate issued
/// before that day.
pub fn provider_list(today: Date) -> String {
    let order = reported_order();
    let mut csv = String::from("Số CCCD,Nhà cung cấp,Ngày cấp,Ngày hết hạn,Trạng thái,Ngày thu hồi\n");
    let mut row = |i: usize, provider: &str, issued: Date, revoked: Option<Date>| {
        let (id, _) = synthetic_resident(i);
        let (status, revoked) = match revoked {
            Some(d) => ("Thu hồi", d.to_string()),
            None => ("Hoạt động", String::new()),
        };
        let _ = writeln!(csv, "{id},{provider},{issued},{},{status},{revoked}", issued + VALIDITY);
    };
    // Appendix I's baseline: 340 certificates issued from March 2024 to the end of 2025.
    let start = date(2024, Month::March, 1);
    for (k, &i) in order.iter().take(BASELINE).enumerate() {
        row(i, PROVIDERS[k % 2], start + Duration::days((k * 661 % 670) as i64), None);
    }
    // The campaign: from 2 January 2026, day by day.
    let mut day = date(2026, Month::January, 2);
    let mut next = order[BASELINE..].iter().copied().enumerate();
    while day < today {
        for _ in 0..per_day(day.month()) {
            let Some((n, i)) = next.next() else { break };
            let revoked = Some(day + Duration::days(20)).filter(|d| n % 40 == 39 && *d < today);
            row(i, PROVIDERS[n % PROVIDERS.len()], day, revoked);
            // Now and then the same person at a second provider: still one holder.
            let again = day + Duration::days(9);
            if n % 30 == 7 && again < today {
                row(i, PROVIDERS[(n + 2) % PROVIDERS.len()], again, None);
            }
        }
        day = day.next_day().expect("within the calendar");
    }
    // What real lists carry and the import reports by row: a person not in the register (kept),
    // a repeated row, an ID number of 11 digits, a date that does not exist.
    let first = csv.lines().nth(1).unwrap_or_default().to_owned();
    let _ = writeln!(csv, "019195999999,VNPT-CA,2026-03-02,2029-03-01,Hoạt động,");
    let _ = writeln!(csv, "{first}");
    let _ = writeln!(csv, "01919500123,Viettel-CA,2026-04-01,2029-03-31,Hoạt động,");
    let _ = writeln!(csv, "019176000321,FPT-CA,2026-02-30,2029-02-28,Hoạt động,");
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_holders_are_distinct_adults_issued_before_2026() {
        let list = provider_list(date(2026, Month::December, 5));
        let rows: Vec<Vec<&str>> = list.lines().skip(1).map(|l| l.split(',').collect()).collect();
        let baseline: HashSet<&str> = rows.iter().filter(|r| r[2] < "2026-01-01").map(|r| r[0]).collect::<HashSet<_>>();
        assert_eq!(baseline.len(), BASELINE);
        assert_eq!(rows.iter().filter(|r| r[2] < "2026-01-01").count(), BASELINE + 1, "one repeated row");
        // Nobody of kyso's own demo holders or of the printed logins.
        for i in kyso_issued().chain([CITIZEN_L2, CITIZEN_L1, CITIZEN_NEW]) {
            assert!(!list.contains(&synthetic_resident(i).0), "resident {i}");
        }
        // Nothing issued on or after the list's day.
        assert!(rows.iter().all(|r| r[2] < "2026-12-05"));
        assert!(rows.iter().any(|r| r[2].starts_with("2026-12-04")));
    }
}
