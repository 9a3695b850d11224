//! `kyso campaign adoption`: every commune's holders and adults on a date, recomputed in one pass
//! (`--refresh`, after an import) and rolled up by province.

use crate::commands::out;
use anyhow::{anyhow, Result};
use kyso_campaign::csv::parse_date;
use kyso_store::adoption::CommuneAdoptionRow;
use kyso_store::Store;
use serde_json::json;
use std::collections::BTreeMap;
use std::process::ExitCode;

/// The latest date of birth at or over `min_age` on `date` (ISO): the exact-birthday rule of
/// `AdultsDenominator` as a text cut-off (someone born on 29 February is older from 1 March).
pub fn adult_born_by(date: &str, min_age: u8) -> Result<String> {
    kyso_campaign::denominator::AdultsDenominator::new(min_age, parse_date(date).map_err(|e| anyhow!(e))?)?;
    let d = parse_date(date).map_err(|e| anyhow!(e))?;
    Ok(format!("{:04}-{:02}-{:02}", d.year() - i32::from(min_age), d.month() as u8, d.day()))
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

fn share(h: i64, a: i64) -> String {
    if a > 0 {
        format!("{:.2} %", h as f64 * 100.0 / a as f64)
    } else {
        "-".into()
    }
}

pub(super) async fn adoption(
    store: &Store,
    date: &str,
    min_age: u8,
    refresh: bool,
    json_mode: bool,
) -> Result<ExitCode> {
    if refresh {
        let started = std::time::Instant::now();
        let n = store.refresh_adoption(date, &adult_born_by(date, min_age)?).await?;
        eprintln!("recomputed {n} communes on {date} in {:.2} s", started.elapsed().as_secs_f64());
    }
    let rows = store.adoption_rollup(date).await?;
    let provinces = by_province(&rows);
    let (holders, adults) = provinces.iter().fold((0, 0), |(h, a), p| (h + p.4, a + p.5));
    let missing = rows.iter().filter(|r| r.holders.is_none()).count();
    let mut text = format!(
        "adoption on {date} ({min_age}+ at refresh): {holders} holders of {adults} adults ({}), {} communes{}",
        share(holders, adults),
        rows.len(),
        if missing > 0 { format!(", {missing} not recomputed for this date (--refresh)") } else { String::new() }
    );
    for (code, name, n, _, h, a) in &provinces {
        text.push_str(&format!("\n  {code} {name:<28} {n:>5} communes {h:>10} / {a:<10} {}", share(*h, *a)));
    }
    let v = json!({
        "date": date, "holders": holders, "adults": adults, "communes": rows.len(), "not_recomputed": missing,
        "provinces": provinces.iter().map(|(code, name, n, s, h, a)| json!({"code": code, "name": name, "communes": n,
            "recomputed": s, "holders": h, "adults": a})).collect::<Vec<_>>(),
        "by_commune": rows.iter().map(|r| json!({"code": r.commune_code, "name": r.commune_name,
            "province": r.province_code, "holders": r.holders, "adults": r.adults})).collect::<Vec<_>>(),
    });
    out(json_mode, v, &text);
    Ok(ExitCode::SUCCESS)
}
