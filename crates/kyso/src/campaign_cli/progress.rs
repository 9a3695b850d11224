//! `kyso campaign progress`: a commune's adults, holders and target under both readings, with
//! the forecast, printed. The read model is `kyso_tracker::read`, shared with the dashboard.

use anyhow::{anyhow, Result};
use kyso_campaign::adoption::Adoption;
use kyso_campaign::plan::Target;
use kyso_campaign::population::Register;
use kyso_store::campaign::{MilestoneRow, PlanRow};
use kyso_store::Store;
use serde_json::Value;

pub use kyso_tracker::read::{progress, vn_date};

/// A stored plan as the campaign core's target.
pub fn target(p: &PlanRow, ms: &[MilestoneRow]) -> Result<Target> {
    kyso_tracker::read::target(p, ms).map_err(|e| anyhow!(e))
}

/// The register of a commune (or one hamlet) and the adoption ledger from kyso's certificates.
pub async fn load(store: &Store, commune: &str, hamlet: Option<&str>) -> Result<(Register, Adoption)> {
    kyso_tracker::read::load(store, commune, hamlet).await.map_err(|e| anyhow!(e))
}

/// The CLI speaks English: its figures are written the English way (`5,480`, `6.20%`), dates
/// `dd/mm/yyyy` as everywhere in kyso (`kyso_fmt`); `--json` keeps plain numbers and ISO dates.
const STYLE: kyso_fmt::Style = kyso_fmt::Style::En;

/// A JSON count as text (`5,480`); anything else as it is.
fn count(v: &Value) -> String {
    v.as_u64().map_or_else(|| v.to_string(), |n| kyso_fmt::int(n, STYLE))
}

/// A JSON ISO date as `31/12/2025`.
fn day(v: &Value) -> String {
    kyso_fmt::iso_date(v.as_str().unwrap_or(""))
}

/// A share as the read model gives it (`6.20 %`, hundredths) the CLI's way.
fn share(v: &Value) -> String {
    let hundredths = v.as_str().and_then(|t| {
        let (whole, frac) = t.trim_end_matches('%').trim().split_once('.')?;
        Some(whole.parse::<i64>().ok()? * 100 + frac.parse::<i64>().ok()?)
    });
    hundredths.map_or_else(|| v.as_str().unwrap_or("-").to_owned(), |h| kyso_fmt::percent_x100(h, STYLE))
}

pub(super) fn progress_text(v: &Value) -> String {
    let mut s = format!(
        "{} ({}) on {}: {} holders of {} adults ({}+ on {}), {}",
        v["commune"]["name"].as_str().unwrap_or(""),
        v["commune"]["code"].as_str().unwrap_or(""),
        day(&v["date"]),
        count(&v["holders"]),
        count(&v["adults"]),
        v["age_line"],
        day(&v["reference_date"]),
        share(&v["share"]),
    );
    let e = &v["eid_level2"];
    s.push_str(&format!(
        "\nlevel-2 e-ID: {} of {} adults ({})",
        count(&e["level2"]),
        count(&e["adults"]),
        share(&e["share"])
    ));
    let p = &v["plan"];
    if !p.is_null() {
        s.push_str(&format!(
            "\nplan {} ({}): target {} by {} — as a level {} holders, as an increment over {} {} holders{}",
            p["period"].as_str().unwrap_or(""),
            p["kind"].as_str().unwrap_or(""),
            share(&p["value"]),
            day(&p["deadline"]),
            count(&p["target"]["level"]),
            count(&p["baseline"]["count"]),
            count(&p["target"]["increment"]),
            if p["kind"] == "unknown" { " (the plan does not say which: both shown)" } else { "" },
        ));
        for m in p["milestones"].as_array().into_iter().flatten() {
            s.push_str(&format!(
                "\nmilestone {}: {} (level) / {} (increment)",
                day(&m["date"]),
                count(&m["level"]),
                count(&m["increment"])
            ));
        }
        for f in p["forecast"].as_array().into_iter().flatten() {
            s.push_str(&format!(
                "\n{:<9} {}: gap {}, {} days left, needs {} a day",
                f["reading"].as_str().unwrap_or(""),
                f["status"].as_str().unwrap_or("").to_uppercase(),
                count(&f["gap"]),
                count(&f["days_left"]),
                f["required_rate"].as_f64().map_or("∞ (deadline passed)".into(), |r| kyso_fmt::decimal(r, 1, STYLE)),
            ));
        }
    }
    for h in v["hamlets"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "\n  {:<6} {:<24} {:>6} / {:<6}",
            h["code"].as_str().unwrap_or(""),
            h["name"].as_str().unwrap_or(""),
            count(&h["holders"]),
            count(&h["adults"])
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn figures_and_dates_are_written_one_way() {
        let v = json!({"commune": {"name": "Xã Hiệp Lực", "code": "01960"}, "date": "2026-03-01", "holders": 340,
                       "adults": 5480, "age_line": 15, "reference_date": "2026-01-01", "share": "6.20 %",
                       "plan": null, "hamlets": [{"code": "T01", "name": "Xóm Đồng Tâm", "holders": 1200, "adults": 15000}]});
        let text = super::progress_text(&v);
        assert!(
            text.starts_with(
                "Xã Hiệp Lực (01960) on 01/03/2026: 340 holders of 5,480 adults (15+ on 01/01/2026), 6.20%"
            ),
            "{text}"
        );
        assert!(text.contains("1,200 / 15,000"), "{text}");
    }
}
