//! The signed-dossier KPI and holders' use as read models: a unit's dossiers needing signatures
//! and how many were fully signed over a day, week and month (the dashboard), or over a report
//! period (the report's figures); and the holders of a commune who signed at least once.

use crate::read::Fallible;
use kyso_campaign::csv::parse_date;
use kyso_campaign::signed_use::{self as core, DayCount, SignedShare, Window};
use kyso_store::Store;
use time::Date;

fn err(e: kyso_store::StoreError) -> String {
    e.to_string()
}

/// The Unix instant at which `date` starts in Vietnam.
fn start_of(date: Date) -> i64 {
    kyso_calendar::vn_day_start(i64::from(kyso_calendar::day_of_date(date)))
}

/// `unit`'s dossier counts per day in `[start, end)`.
async fn day_counts(store: &Store, unit: &str, start: Date, end: Date) -> Fallible<Vec<DayCount>> {
    let last = end.previous_day().unwrap_or(end);
    let rows = store.dossier_counts(&start.to_string(), &last.to_string()).await.map_err(err)?;
    rows.into_iter()
        .filter(|r| r.unit_code == unit)
        .map(|r| {
            Ok(DayCount {
                day: parse_date(&r.day)?,
                needing: u64::try_from(r.needing).unwrap_or(0),
                fully_signed: u64::try_from(r.fully_signed).unwrap_or(0),
            })
        })
        .collect()
}

/// `unit`'s dossiers needing signatures in `[start, end)` and how many were fully signed.
pub async fn signed_between(store: &Store, unit: &str, start: Date, end: Date) -> Fallible<SignedShare> {
    Ok(core::share_between(&day_counts(store, unit, start, end).await?, start, end))
}

/// The day, the week (Monday to Sunday) and the month holding `on`.
pub async fn windows(store: &Store, unit: &str, on: Date) -> Fallible<Vec<(Window, SignedShare)>> {
    let (month_start, month_end) = Window::Month.around(on);
    let (week_start, week_end) = Window::Week.around(on);
    let (from, to) = (month_start.min(week_start), month_end.max(week_end));
    let counts = day_counts(store, unit, from, to).await?;
    Ok(Window::ALL
        .into_iter()
        .map(|w| {
            let (s, e) = w.around(on);
            (w, core::share_between(&counts, s, e))
        })
        .collect())
}

/// Holders of `commune` (its residents with a certificate kyso knows, its own or a provider's
/// list) who signed at least once in `[start, end)`.
pub async fn signers_between(store: &Store, commune: &str, start: Date, end: Date) -> Fallible<u64> {
    let holders: Vec<(String, String)> = store
        .holder_certificates(commune, None)
        .await
        .map_err(err)?
        .into_iter()
        .map(|c| (c.id_number, c.serial))
        .collect();
    let signed = store.signers_between(start_of(start), start_of(end)).await.map_err(err)?;
    Ok(core::active_signers(&holders, &signed))
}
