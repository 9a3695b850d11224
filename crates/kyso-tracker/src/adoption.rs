//! Adoption snapshots: every commune's holders and adults on a date, recomputed in one pass over
//! the register's column index and the ID numbers holding a valid certificate on the day (one scan
//! of each certificate source), counted by commune in memory — a few seconds for 10 million
//! residents, where one SQL statement over the row store took ~25 s.

use crate::register_index::register_index;
use crate::Progress;
use anyhow::{anyhow, Result};
use kyso_campaign::csv::parse_date;
use kyso_campaign::register_index::{day_number, days_from_civil, RegisterIndex};
use kyso_store::adoption::CommuneAdoptionRow;
use kyso_store::Store;
use std::collections::{BTreeMap, HashMap};

/// The age line of the snapshots imports and the server's timer keep up to date (the dashboard's).
pub const SNAPSHOT_MIN_AGE: u8 = 15;

/// How often the server recomputes today's snapshots.
pub const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// The last birth day (a day number) of someone at or over `min_age` on `date`: the exact-birthday
/// rule of `AdultsDenominator` (someone born on 29 February is older from 1 March).
pub(crate) fn born_by_day(date: &str, min_age: u8) -> Result<i32> {
    kyso_campaign::denominator::AdultsDenominator::new(min_age, parse_date(date).map_err(|e| anyhow!(e))?)?;
    let d = parse_date(date).map_err(|e| anyhow!(e))?;
    let y = d.year() - i32::from(min_age);
    let day = d.day().min(d.month().length(y));
    Ok(days_from_civil(y, d.month() as i32, i32::from(day)))
}

/// Recomputes every commune's holders and adults on `date` (ISO) with the age line `min_age` and
/// stores them as that day's snapshots. Returns the communes written.
pub async fn refresh(store: &Store, index: &RegisterIndex, date: &str, min_age: u8) -> Result<u64> {
    let day = day_number(date).ok_or_else(|| anyhow!("{date}: expected YYYY-MM-DD"))?;
    // The instant the next day starts in Vietnam (UTC+7): kyso's certificates count if valid at
    // any instant of the day.
    let day_end = kyso_calendar::vn_day_start(i64::from(day) + 1);
    let holders = store.valid_holder_ids(date, day_end).await?;
    let adults = index.adults_per_commune(born_by_day(date, min_age)?);
    let held = index.holders_per_commune(&holders);
    let by_code: HashMap<&str, usize> = index.communes().iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
    let rows: Vec<(String, i64, i64)> = store
        .communes(None)
        .await?
        .into_iter()
        .map(|c| {
            let (h, a) = by_code.get(c.code.as_str()).map_or((0, 0), |&i| (held[i], adults[i]));
            (c.code, h as i64, a as i64)
        })
        .collect();
    Ok(store.save_adoption_snapshots(date, &rows).await?)
}

/// [`refresh`] with the index loaded (or rebuilt) first.
pub async fn refresh_now(store: &Store, date: &str, min_age: u8, progress: &mut dyn Progress) -> Result<u64> {
    let index = register_index(store, progress).await?;
    refresh(store, &index, date, min_age).await
}

/// Today's snapshots (Vietnam time) at the dashboard's age line, the index logged as it loads:
/// what the server's timer runs.
pub async fn refresh_today(store: &Store) -> Result<u64> {
    let today = crate::read::vn_date(kyso_store::now());
    refresh_now(store, &today, SNAPSHOT_MIN_AGE, &mut crate::Logged).await
}

/// Provinces in code order: (code, name, communes, communes with a snapshot, holders, adults).
pub fn by_province(rows: &[CommuneAdoptionRow]) -> Vec<(String, String, u64, u64, i64, i64)> {
    let mut m: BTreeMap<&str, (String, u64, u64, i64, i64)> = BTreeMap::new();
    for r in rows {
        let e = m.entry(&r.province_code).or_insert_with(|| (r.province_name.clone(), 0, 0, 0, 0));
        e.1 += 1;
        if let (Some(h), Some(a)) = (r.holders, r.adults) {
            e.2 += 1;
            e.3 += h;
            e.4 += a;
        }
    }
    m.into_iter().map(|(code, (name, n, s, h, a))| (code.to_owned(), name, n, s, h, a)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn someone_born_on_29_february_comes_of_age_on_1_march() {
        // 15 on 28 February 2026: born by 28 February 2011 (2011 has no 29 February).
        assert_eq!(born_by_day("2026-02-28", 15).unwrap(), days_from_civil(2011, 2, 28));
        // 18 on 28 February 2026: born by 28 February 2008; born on 29 February 2008, only from 1 March.
        assert_eq!(born_by_day("2026-02-28", 18).unwrap(), days_from_civil(2008, 2, 28));
        assert!(born_by_day("2026-02-28", 7).is_err());
    }

    #[test]
    fn provinces_sum_only_the_communes_with_a_snapshot() {
        let row = |code: &str, province: &str, figures: Option<(i64, i64)>| CommuneAdoptionRow {
            commune_code: code.into(),
            commune_name: code.into(),
            province_code: province.into(),
            province_name: format!("P{province}"),
            holders: figures.map(|f| f.0),
            adults: figures.map(|f| f.1),
        };
        let rows = [row("00001", "02", Some((3, 10))), row("00002", "01", None), row("00003", "02", Some((1, 5)))];
        assert_eq!(
            by_province(&rows),
            vec![("01".into(), "P01".into(), 1, 0, 0, 0), ("02".into(), "P02".into(), 2, 2, 4, 15)]
        );
    }
}
