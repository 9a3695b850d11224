//! Counting: adults, holders and the target under both readings, with the forecast. The read
//! model is shared with the dashboard (`kyso_server::campaign_data`).

use super::plan::value_text;
use anyhow::{anyhow, Context, Result};
use kyso_campaign::adoption::Adoption;
use kyso_campaign::csv::parse_date;
use kyso_campaign::denominator::AdultsDenominator;
use kyso_campaign::forecast::{forecast, DailyCounts, Status};
use kyso_campaign::plan::{Percent, Target};
use kyso_campaign::population::Register;
use kyso_store::campaign::{MilestoneRow, PlanRow};
use kyso_store::Store;
use serde_json::{json, Value};

pub use kyso_server::campaign_data::vn_date;

/// A stored plan as the campaign core's target.
pub fn target(p: &PlanRow, ms: &[MilestoneRow]) -> Result<Target> {
    kyso_server::campaign_data::target(p, ms).map_err(|e| anyhow!(e))
}

/// The register of a commune (or one hamlet) and the adoption ledger from kyso's certificates.
pub async fn load(store: &Store, commune: &str, hamlet: Option<&str>) -> Result<(Register, Adoption)> {
    kyso_server::campaign_data::load(store, commune, hamlet).await.map_err(|e| anyhow!(e))
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Green => "green",
        Status::Amber => "amber",
        Status::Red => "red",
    }
}

/// Progress of a commune on `date` (ISO) as JSON: the dashboard's numbers, for scripts.
pub async fn progress(store: &Store, commune: &str, date: &str) -> Result<Value> {
    let unit = store.commune(commune).await?.with_context(|| format!("unknown commune {commune}"))?;
    let as_of = parse_date(date).map_err(|e| anyhow!(e))?;
    let plan = store.plans(Some(commune)).await?.into_iter().next_back();
    let (register, adoption) = load(store, commune, None).await?;
    let line = match &plan {
        Some((p, _)) => {
            AdultsDenominator::new(u8::try_from(p.min_age)?, parse_date(&p.reference_date).map_err(|e| anyhow!(e))?)?
        }
        None => AdultsDenominator::new(15, as_of)?,
    };
    let adults = line.count(register.residents());
    let holders = adoption.commune_holders_on(commune, as_of);
    let hamlets: Vec<Value> = store
        .hamlets(commune)
        .await?
        .iter()
        .map(|h| {
            let adults = line.count(register.residents().iter().filter(|r| r.hamlet_code == h.code));
            json!({"code": h.code, "name": h.name, "adults": adults,
                   "holders": adoption.hamlet_holders_on(commune, &h.code, as_of)})
        })
        .collect();
    let plan_json = match &plan {
        None => Value::Null,
        Some((p, ms)) => {
            let t = target(p, ms)?;
            let readings = t.readings(adults);
            let start = t.baseline.date.min(as_of);
            let mut series = Vec::new();
            let mut day = start;
            while day <= as_of {
                series.push((day, adoption.commune_holders_on(commune, day)));
                day = day.next_day().context("date out of range")?;
            }
            let series = DailyCounts::new(series);
            let mut forecasts = Vec::new();
            for (name, holders_needed) in [("level", readings.level), ("increment", readings.increment)] {
                let f = forecast(&series, as_of, holders_needed, t.deadline);
                forecasts.push(json!({"reading": name, "target": f.target, "gap": f.gap, "days_left": f.days_left,
                    "required_rate": f.required_rate.is_finite().then_some(f.required_rate),
                    "run_rate_14": f.run_rate_14, "status": status_name(f.status)}));
            }
            json!({"period": p.period, "version": p.version, "kind": p.target_kind, "value": value_text(t.value),
                "baseline": {"count": p.baseline_count, "date": p.baseline_date, "source": p.baseline_source},
                "deadline": p.deadline,
                "target": {"level": readings.level, "increment": readings.increment, "chosen": readings.chosen()},
                "milestones": t.milestone_readings(adults).iter().map(|(d, r)| json!({"date": d.to_string(),
                    "level": r.level, "increment": r.increment, "chosen": r.chosen()})).collect::<Vec<_>>(),
                "forecast": forecasts})
        }
    };
    Ok(json!({
        "commune": {"code": unit.code, "name": unit.name, "province": unit.province_name},
        "date": date, "age_line": line.min_age(), "reference_date": line.reference_date().to_string(),
        "residents": register.len(), "adults": adults, "holders": holders,
        "share": Percent::share(holders, adults).map(|p| p.to_string()),
        "plan": plan_json, "hamlets": hamlets,
    }))
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
