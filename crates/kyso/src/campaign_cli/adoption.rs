//! `kyso campaign adoption`: every commune's holders and adults on a date, recomputed in one pass
//! (`--refresh`; imports do it themselves, `kyso_tracker::adoption`) and rolled up by province.

use super::meter::Shown;
use crate::output::out;
use anyhow::Result;
use kyso_store::Store;
use serde_json::json;
use std::process::ExitCode;

pub use kyso_tracker::adoption::by_province;

/// Recomputes every commune's snapshots on `date` (ISO), the register index's notes on stderr.
pub async fn refresh_now(store: &Store, date: &str, min_age: u8) -> Result<u64> {
    kyso_tracker::adoption::refresh_now(store, date, min_age, &mut Shown::default()).await
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
        let n = refresh_now(store, date, min_age).await?;
        crate::output::note(&format!("recomputed {n} communes on {date} in {:.2} s", started.elapsed().as_secs_f64()));
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
