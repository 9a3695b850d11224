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

pub(super) fn progress_text(v: &Value) -> String {
    let mut s = format!(
        "{} ({}) on {}: {} holders of {} adults ({}+ on {}), {}",
        v["commune"]["name"].as_str().unwrap_or(""),
        v["commune"]["code"].as_str().unwrap_or(""),
        v["date"].as_str().unwrap_or(""),
        v["holders"],
        v["adults"],
        v["age_line"],
        v["reference_date"].as_str().unwrap_or(""),
        v["share"].as_str().unwrap_or("-"),
    );
    let p = &v["plan"];
    if !p.is_null() {
        s.push_str(&format!(
            "\nplan {} ({}): target {} by {} — as a level {} holders, as an increment over {} {} holders{}",
            p["period"].as_str().unwrap_or(""),
            p["kind"].as_str().unwrap_or(""),
            p["value"].as_str().unwrap_or(""),
            p["deadline"].as_str().unwrap_or(""),
            p["target"]["level"],
            p["baseline"]["count"],
            p["target"]["increment"],
            if p["kind"] == "unknown" { " (the plan does not say which: both shown)" } else { "" },
        ));
        for m in p["milestones"].as_array().into_iter().flatten() {
            s.push_str(&format!(
                "\nmilestone {}: {} (level) / {} (increment)",
                m["date"].as_str().unwrap_or(""),
                m["level"],
                m["increment"]
            ));
        }
        for f in p["forecast"].as_array().into_iter().flatten() {
            s.push_str(&format!(
                "\n{:<9} {}: gap {}, {} days left, needs {} a day",
                f["reading"].as_str().unwrap_or(""),
                f["status"].as_str().unwrap_or("").to_uppercase(),
                f["gap"],
                f["days_left"],
                f["required_rate"].as_f64().map_or("∞ (deadline passed)".into(), |r| format!("{r:.1}")),
            ));
        }
    }
    for h in v["hamlets"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "\n  {:<6} {:<24} {:>6} / {:<6}",
            h["code"].as_str().unwrap_or(""),
            h["name"].as_str().unwrap_or(""),
            h["holders"],
            h["adults"]
        ));
    }
    s
}
